/* bigarr.c — large growing arrays in huge-page mappings (see bigarr.h).
 *
 * A mapped array is one mapping (VMA) of `resv` bytes, readable and writable but mapped
 * MAP_NORESERVE, so that reserving ahead charges nothing against the commit limit; only
 * pages written are ever resident, and with huge pages the resident size is the written
 * part rounded up to 2 MiB. The array's capacity is its first `rw` bytes, doubled as
 * grow_buf doubles.
 *
 * One VMA, always: a move is mremap of the whole mapping, and kernels before 6.17 (Debian
 * 12 has 6.1) refuse to move a range of more than one VMA, after clearing the destination.
 * An earlier design kept the unused part PROT_NONE and opened it with mprotect; after its
 * first move the array was two VMAs (a moved VMA never merges with its new neighbours), so
 * on those kernels it could never move again and growth stopped near 2.6M records. */
#define _GNU_SOURCE   /* mremap, MREMAP_FIXED, MADV_HUGEPAGE */
#include "bigarr.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

#if defined(__linux__)
#include <sys/mman.h>
#include <sys/resource.h>

enum { HUGE_PAGE = 2 << 20, SLOTS = BIGARR_SLOTS };

struct mapping {
    char *base;      /* NULL: free slot */
    size_t rw;       /* the array's capacity in bytes, a multiple of HUGE_PAGE */
    size_t resv;     /* bytes mapped from base, at least rw */
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static struct mapping reg[SLOTS];
static size_t map_min = BIGARR_MAP_MIN;
/* Address space only, so generous: the array can grow sixteenfold from the first 4 MiB
 * before it moves, and each move reserves four times what it needs. */
enum { RESV_DEFAULT = 64 << 20, RESV_GROWTH = 4 };
#define RESV_MAX (SIZE_MAX / 4 / RESV_GROWTH)
static size_t first_resv = RESV_DEFAULT;
static const char *overcommit_file = "/proc/sys/vm/overcommit_memory";

static size_t round_huge(size_t n)
{
    return (n + HUGE_PAGE - 1) & ~(size_t)(HUGE_PAGE - 1);
}

static struct mapping *find(const void *p)
{
    for (size_t i = 0; p && i < SLOTS; i++)
        if (reg[i].base == p)
            return &reg[i];
    return NULL;
}

/* The reservation for an array of rw bytes that has `from` reserved now: `from` times
 * RESV_GROWTH until it holds rw; 0 past RESV_MAX. */
static size_t resv_for(size_t from, size_t rw)
{
    size_t resv = from;
    while (resv < rw) {
        if (resv > RESV_MAX / RESV_GROWTH)
            return 0;
        resv *= RESV_GROWTH;
    }
    return resv;
}

/* resv bytes at a 2 MiB boundary, so that each huge page of the array is a whole
 * page-middle-directory entry, advised for huge pages; NULL when refused. */
static char *reserve(size_t resv)
{
    if (!resv || resv > RESV_MAX)
        return NULL;
    size_t span = resv + HUGE_PAGE;
    char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (raw == MAP_FAILED)
        return NULL;
    char *base = (char *)(((uintptr_t)raw + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (base > raw)
        munmap(raw, (size_t)(base - raw));
    size_t tail = (size_t)(raw + span - (base + resv));
    if (tail)
        munmap(base + resv, tail);
#ifdef MADV_HUGEPAGE
    /* Refused where the kernel has no transparent huge pages: then 4 KiB pages, as malloc. */
    (void)madvise(base, resv, MADV_HUGEPAGE);
#endif
    return base;
}

/* reserve(*resv), or where that is refused, reserve(rw) with no headroom (*resv = rw): under a
 * strict commit limit (vm.overcommit_memory=2 ignores MAP_NORESERVE) the whole reservation
 * is charged, and a fourfold one may not fit where the array itself does. */
static char *reserve_for(size_t *resv, size_t rw)
{
    char *base = reserve(*resv);
    if (!base && *resv != rw) {   /* also when resv_for gave 0 (past RESV_MAX) */
        *resv = rw;
        base = reserve(rw);
    }
    return base;
}

/* 1 when the process has a finite limit of this kind. Under a limit on address space
 * (ulimit -v, as some cron set-ups have) or on data (ulimit -d: since Linux 4.7 it counts
 * every private writable mapping, MAP_NORESERVE or not) a reservation would take room the
 * rest of the run may need: there, arrays stay in malloc. */
static int limited(int resource)
{
    struct rlimit lim;
    return getrlimit(resource, &lim) == 0 && lim.rlim_cur != RLIM_INFINITY;
}

/* 1 under a strict commit limit (vm.overcommit_memory=2): every reservation is charged in
 * full, so headroom would use up commit that the run's mallocs need later, and arrays are
 * reserved at exactly their capacity (each doubling moves the array, still without a copy). */
static int strict_commit(void)
{
    FILE *f = fopen(overcommit_file, "r");
    if (!f)
        return 0;
    int mode = fgetc(f);
    fclose(f);
    return mode == '2';
}

/* Moves a malloc block of `old` bytes into a new mapping of at least `bytes`; NULL when
 * the kernel (or a full registry) refuses, and then nothing has changed. */
static struct mapping *map_new(void *old, size_t old_bytes, size_t bytes)
{
    struct mapping *slot = NULL;
    for (size_t i = 0; i < SLOTS && !slot; i++)
        if (!reg[i].base)
            slot = &reg[i];
    if (!slot)
        return NULL;
    if (limited(RLIMIT_AS) || limited(RLIMIT_DATA))
        return NULL;
    size_t rw = round_huge(bytes);
    size_t resv = strict_commit() ? rw : resv_for(first_resv, rw);
    char *base = reserve_for(&resv, rw);
    if (!base)
        return NULL;
    if (old_bytes)
        memcpy(base, old, old_bytes);
    free(old);
    *slot = (struct mapping){base, rw, resv};
    return slot;
}

/* Unmaps a reservation that a refused mremap was to fill. Some refusals come before the
 * kernel clears the destination (then it is still ours), some after (6.1 unmaps it first,
 * and then another thread's mmap may already have landed in the gap: unmapping the range
 * blind would take that away). msync fails with ENOMEM where any page of the range is
 * unmapped; where none is, the range is our reservation, whole. */
static void give_back(char *nb, size_t resv)
{
    if (msync(nb, resv, MS_ASYNC) == 0)
        munmap(nb, resv);
}

/* Makes the mapped array m hold at least `want` bytes; -1 when refused (m unchanged). */
static int map_grow(struct mapping *m, size_t want)
{
    size_t rw = m->rw;
    while (rw < want) {
        if (rw > SIZE_MAX / 4)
            return -1;
        rw *= 2;
    }
    if (rw <= m->resv) {
        m->rw = rw;
        return 0;
    }
    size_t resv = strict_commit() ? rw : resv_for(m->resv, rw);
    char *nb = reserve_for(&resv, rw);
    if (!nb)
        return -1;
    /* Moving the page tables copies nothing, and the pages stay huge: both ends are 2 MiB
     * aligned. Refused (no memory for page tables, too many mappings), the array is where
     * it was, and the destination is given back. */
    if (mremap(m->base, m->resv, resv, MREMAP_MAYMOVE | MREMAP_FIXED, nb) != nb) {
        give_back(nb, resv);
        return -1;
    }
    *m = (struct mapping){nb, rw, resv};
    return 0;
}

int bigarr_grow(void **p, size_t *cap, size_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    if (!size)
        return grow_buf(p, cap, need, size);
    if (need > SIZE_MAX / 4 / size)   /* *p may be a mapping: never hand it to realloc */
        return -1;
    pthread_mutex_lock(&mu);
    int rc = 0;
    struct mapping *m = find(*p);
    if (m) {
        rc = map_grow(m, need * size);
    } else {
        size_t ncap = *cap ? *cap : 64;
        while (ncap < need)
            ncap *= 2;
        if (ncap > SIZE_MAX / 4 / size || ncap * size < map_min ||
            !(m = map_new(*p, *cap * size, ncap * size))) {
            pthread_mutex_unlock(&mu);
            return grow_buf(p, cap, need, size);
        }
    }
    if (rc == 0) {
        *p = m->base;
        *cap = m->rw / size;
    }
    pthread_mutex_unlock(&mu);
    return rc;
}

void bigarr_free(void *p)
{
    if (!p)
        return;
    pthread_mutex_lock(&mu);
    struct mapping *m = find(p);
    struct mapping gone = {0};
    if (m) {
        gone = *m;
        m->base = NULL;
    }
    pthread_mutex_unlock(&mu);
    if (gone.base)
        munmap(gone.base, gone.resv);
    else
        free(p);
}

int bigarr_is_mapped(const void *p)
{
    pthread_mutex_lock(&mu);
    int r = find(p) != NULL;
    pthread_mutex_unlock(&mu);
    return r;
}

size_t bigarr_live(void)
{
    size_t n = 0;
    pthread_mutex_lock(&mu);
    for (size_t i = 0; i < SLOTS; i++)
        n += reg[i].base != NULL;
    pthread_mutex_unlock(&mu);
    return n;
}

void bigarr_tune_overcommit(const char *path)
{
    pthread_mutex_lock(&mu);
    overcommit_file = path ? path : "/proc/sys/vm/overcommit_memory";
    pthread_mutex_unlock(&mu);
}

void bigarr_tune(size_t min_bytes, size_t first_reserve)
{
    pthread_mutex_lock(&mu);
    map_min = min_bytes ? min_bytes : BIGARR_MAP_MIN;
    /* Past RESV_MAX the rounding could wrap to 0; reserve() refuses such a size anyway. */
    first_resv = !first_reserve ? RESV_DEFAULT
                 : first_reserve > RESV_MAX ? RESV_MAX + 1 : round_huge(first_reserve);
    pthread_mutex_unlock(&mu);
}

#else   /* no mmap: every array is a malloc block */

int bigarr_grow(void **p, size_t *cap, size_t need, size_t size)
{
    return grow_buf(p, cap, need, size);
}

void bigarr_free(void *p)
{
    free(p);
}

int bigarr_is_mapped(const void *p)
{
    (void)p;
    return 0;
}

size_t bigarr_live(void)
{
    return 0;
}

void bigarr_tune_overcommit(const char *path)
{
    (void)path;
}

void bigarr_tune(size_t min_bytes, size_t first_reserve)
{
    (void)min_bytes;
    (void)first_reserve;
}

#endif
