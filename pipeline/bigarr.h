/* bigarr.h — growing arrays that can reach hundreds of megabytes (the per-patient records,
 * the patient-id index), kept where first writes to fresh memory are cheap.
 *
 * bigarr_grow(&p, &cap, need, size) is grow_buf's contract (grow.h): *p holds at least
 * `need` items of `size` bytes, the first *cap items are kept, *p and *cap are unchanged on
 * failure (-1: out of memory or overflow). Small arrays are plain malloc blocks. Once an
 * array would pass BIGARR_MAP_MIN bytes it moves, once, into a mapping of its own: 2 MiB
 * aligned, advised for transparent huge pages, reserved ahead (address space only) so it
 * grows in place, and moved without copying (mremap) when the reservation runs out. On a
 * virtual machine where every first-touched 4 KiB page costs 10 µs or more, that turns
 * 65,000 page faults into about 130 (docs/benchmark.md, seventh round). When the kernel
 * refuses a mapping, or the process has a limit on its address space or data (RLIMIT_AS,
 * RLIMIT_DATA), the array stays in malloc: slower, never wrong. Under a strict commit
 * limit (vm.overcommit_memory=2) nothing is reserved ahead.
 *
 * bigarr_free(p) releases an array from bigarr_grow (NULL is fine); it also frees a pointer
 * from malloc, so a caller that builds a set with calloc may release it the usual way. Never
 * pass a bigarr array to free() or realloc(). Thread-safe: arrays may grow on several
 * threads at once (a small registry under a mutex knows which pointers are mappings). */
#ifndef OUTCOMES_BIGARR_H
#define OUTCOMES_BIGARR_H

#include <stddef.h>

/* BIGARR_SLOTS: at most this many arrays are mappings at once; more stay in malloc. */
enum { BIGARR_MAP_MIN = 4 << 20, BIGARR_SLOTS = 64 };

int bigarr_grow(void **p, size_t *cap, size_t need, size_t size);
void bigarr_free(void *p);

/* For tests: 1 when p is an array in a mapping of its own; the number of such arrays not
 * yet released (a mapping is invisible to LeakSanitizer, so tests count them). */
int bigarr_is_mapped(const void *p);
size_t bigarr_live(void);

/* For tests: the size from which arrays are mapped (0 restores BIGARR_MAP_MIN, SIZE_MAX
 * keeps every array in malloc) and the first reservation (0 restores the default, 64 MiB).
 * Not for use while another thread grows an array. */
void bigarr_tune(size_t map_min, size_t first_reserve);
/* For tests: the file read for the overcommit mode (NULL restores /proc/sys/vm/...). */
void bigarr_tune_overcommit(const char *path);

#endif
