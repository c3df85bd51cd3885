/* test_bigarr.c — bigarr.h: arrays keep their contents as they grow from malloc into a
 * mapping and from one reservation into a larger one; capacities follow the rule written in
 * bigarr.c (malloc: doubling from 64 items; mapped: the writable part doubles from the first
 * whole 2 MiB), failures leave the array as it was, a full registry falls back to malloc,
 * and every mapping is released. Expected capacities are worked out by hand below.
 *
 * mremap is replaced here by one that behaves as Debian 12's kernel (6.1) does, whatever
 * the kernel under the test: a source range that is more than one mapping (VMA) is refused
 * with EFAULT after the destination has been unmapped (kernels before 6.17 clear a
 * MREMAP_FIXED destination first). Newer kernels move such ranges, which once hid a bug
 * here: after its first move an array was two VMAs and could not move again. It can also
 * refuse the next call on request, to check that a refused move leaves the array usable. */
#define _GNU_SOURCE   /* mremap flags */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bigarr.h"
#include "harness.h"

#define MIB ((size_t)1 << 20)

static size_t mremap_calls, mremap_multi;
static int mremap_refuse_next;

/* Mappings (lines of /proc/self/maps) that meet [p, p + n); 0 when it cannot tell. */
static size_t vmas_in(const void *p, size_t n)
{
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    uintptr_t lo = (uintptr_t)p, hi = lo + n, a, b;
    size_t k = 0;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%lx-%lx", &a, &b) == 2 && a < hi && b > lo)
            k++;
    fclose(f);
    return k;
}

void *mremap(void *old, size_t old_len, size_t new_len, int flags, ...)
{
    void *to = NULL;
    if (flags & MREMAP_FIXED) {
        va_list ap;
        va_start(ap, flags);
        to = va_arg(ap, void *);
        va_end(ap);
    }
    mremap_calls++;
    int multi = vmas_in(old, old_len) != 1;
    mremap_multi += multi;
    if (multi || mremap_refuse_next) {
        mremap_refuse_next = 0;
        if (to)
            munmap(to, new_len);
        errno = multi ? EFAULT : ENOMEM;
        return MAP_FAILED;
    }
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, to);
}

#ifndef __SANITIZE_THREAD__   /* TSan must see every mmap, so no stand-in there */
/* mmap, refusing MAP_NORESERVE mappings of more than mmap_refuse_over bytes (0: none) as a
 * strict commit limit would. */
static size_t mmap_refuse_over;

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (mmap_refuse_over && len > mmap_refuse_over && (flags & MAP_NORESERVE)) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
}
#endif

static uint32_t item(size_t i)
{
    return (uint32_t)(i * 2654435761u) ^ 0x5bd1e995u;
}

/* The first n items are item(0..n-1). */
static int intact(const uint32_t *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != item(i))
            return 0;
    return 1;
}

static void test_small_stays_malloc(void)
{
    bigarr_tune(0, 0);
    uint32_t *a = NULL;
    size_t cap = 0, failed = 0;
    for (size_t i = 0; i < 1000 && !failed; i++) {
        failed += bigarr_grow((void **)&a, &cap, i + 1, sizeof *a) != 0;
        if (!failed)
            a[i] = item(i);
    }
    CHECK(failed == 0);
    /* 64, 128, ..., 1024 items: 4 KiB, far below BIGARR_MAP_MIN */
    CHECK(cap == 1024);
    CHECK(!bigarr_is_mapped(a));
    CHECK(intact(a, 1000));
    CHECK(bigarr_live() == 0);
    bigarr_free(a);            /* a malloc block: ASan reports it if this is not free() */
    bigarr_free(NULL);
    bigarr_free(malloc(16));
}

/* Appending one item at a time from nothing to 24 MiB with mapping from 64 KiB and a first
 * reservation of 2 MiB: malloc up to 8,192 items (32 KiB); the grow to 16,384 items (64 KiB)
 * maps 2 MiB (524,288 items); then 4, 8, 16, 32 MiB. 4 MiB is beyond the 2 MiB reservation:
 * the array moves into one of 8 MiB (four times); 8 MiB fits; 16 MiB moves it into 32 MiB;
 * 32 MiB fits. */
static void test_mapped_growth(void)
{
    bigarr_tune(64 * 1024, 2 * MIB);
    uint32_t *a = NULL;
    size_t cap = 0, n = 6 * MIB, moves = 0, bad_cap = 0, bad_align = 0, lost = 0;
    size_t caps[16], ncaps = 0;
    uintptr_t prev = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == cap) {
            if (bigarr_grow((void **)&a, &cap, i + 1, sizeof *a) != 0)
                break;
            if (ncaps < 16)
                caps[ncaps++] = cap;
            if (cap < i + 1)
                bad_cap++;
            if (bigarr_is_mapped(a) && (uintptr_t)a % (2 * MIB))
                bad_align++;
            if ((uintptr_t)a != prev) {
                moves++;
                if (!intact(a, i))
                    lost++;
            }
            prev = (uintptr_t)a;
        }
        a[i] = item(i);
    }
    CHECK(bad_cap == 0);
    CHECK(bad_align == 0);
    CHECK(lost == 0);
    CHECK(bigarr_is_mapped(a));
    CHECK(cap >= n && intact(a, n));
    /* malloc: 64 .. 8192 (8 grows); mapped: 2, 4, 8, 16, 32 MiB of 4-byte items */
    size_t want[] = {64, 128, 256, 512, 1024, 2048, 4096, 8192,
                     524288, 1048576, 2097152, 4194304, 8388608};
    CHECK(ncaps == sizeof want / sizeof want[0]);
    for (size_t k = 0; k < ncaps && k < sizeof want / sizeof want[0]; k++)
        CHECK(caps[k] == want[k]);
    CHECK(moves >= 3);         /* into the mapping, at 4 MiB, at 16 MiB (and any realloc) */
    CHECK(mremap_multi == 0);  /* every move was of one VMA: Debian 12's kernel takes it */

    /* A request that cannot be met leaves the array as it was. */
    uint32_t *before = a;
    size_t cap_before = cap;
    CHECK(bigarr_grow((void **)&a, &cap, SIZE_MAX / 8, sizeof *a) == -1);
    CHECK(a == before && cap == cap_before);
    CHECK(cap >= n && intact(a, n));
    /* A request within the capacity is no change at all. */
    CHECK(bigarr_grow((void **)&a, &cap, 10, sizeof *a) == 0 && a == before);

    CHECK(bigarr_live() == 1);
    bigarr_free(a);
    CHECK(bigarr_live() == 0);

    /* The same failure on a malloc array. */
    uint32_t *b = NULL;
    size_t bcap = 0;
    CHECK(bigarr_grow((void **)&b, &bcap, 100, sizeof *b) == 0 && bcap == 128);
    for (size_t i = 0; i < 100; i++)
        b[i] = item(i);
    uint32_t *bb = b;
    CHECK(bigarr_grow((void **)&b, &bcap, SIZE_MAX / 2, sizeof *b) == -1);
    CHECK(b == bb && bcap == 128 && intact(b, 100));
    bigarr_free(b);
    bigarr_tune(0, 0);
}

/* More arrays than the registry holds: the extra ones stay in malloc, and all are right. */
static void test_registry_full(void)
{
    enum { N = BIGARR_SLOTS + 6, ITEMS = 4096 };
    bigarr_tune(4096, 2 * MIB);
    uint32_t *a[N] = {0};
    size_t cap[N] = {0}, mapped = 0, bad = 0;
    for (size_t k = 0; k < N; k++) {
        for (size_t i = 0; i < ITEMS; i++) {
            if (bigarr_grow((void **)&a[k], &cap[k], i + 1, sizeof *a[k]) != 0) {
                bad++;
                break;
            }
            a[k][i] = item(i + k);
        }
        mapped += bigarr_is_mapped(a[k]) != 0;
    }
    for (size_t k = 0; k < N; k++)
        for (size_t i = 0; i < ITEMS; i++)
            bad += a[k][i] != item(i + k);
    CHECK(bad == 0);
    CHECK(mapped == BIGARR_SLOTS);
    CHECK(bigarr_live() == BIGARR_SLOTS);
    for (size_t k = 0; k < N; k++)
        bigarr_free(a[k]);
    CHECK(bigarr_live() == 0);
    bigarr_tune(0, 0);
}

/* Under a finite RLIMIT_AS (however large) nothing is mapped: reservations would eat the
 * address space the rest of the run may need. */
static void test_address_limit(void)
{
    struct rlimit old, lim;
    if (getrlimit(RLIMIT_AS, &old) != 0 || old.rlim_max != RLIM_INFINITY) {
        CHECK(!"RLIMIT_AS cannot be raised back here");
        return;
    }
    bigarr_tune(4096, 2 * MIB);
    lim = old;
    lim.rlim_cur = (rlim_t)1 << 62;   /* finite, yet no limit for ASan's shadow */
    CHECK(setrlimit(RLIMIT_AS, &lim) == 0);
    uint32_t *a = NULL;
    size_t cap = 0, failed = 0;
    for (size_t i = 0; i < 100000 && !failed; i++) {
        failed += bigarr_grow((void **)&a, &cap, i + 1, sizeof *a) != 0;
        if (!failed)
            a[i] = item(i);
    }
    CHECK(failed == 0);
    CHECK(!bigarr_is_mapped(a));
    CHECK(intact(a, 100000));
    bigarr_free(a);
    CHECK(setrlimit(RLIMIT_AS, &old) == 0);
    /* and with the limit gone, the same array is mapped again */
    a = NULL;
    cap = 0;
    CHECK(bigarr_grow((void **)&a, &cap, 100000, sizeof *a) == 0 && bigarr_is_mapped(a));
    bigarr_free(a);
    bigarr_tune(0, 0);
}

/* Two threads growing their own arrays through the shared registry at once (run under
 * ThreadSanitizer too). */
static void *grow_one(void *arg)
{
    size_t *ok = arg, n = 3 * MIB;
    uint32_t *a = NULL;
    size_t cap = 0;
    for (size_t i = 0; i < n; i++) {
        if (bigarr_grow((void **)&a, &cap, i + 1, sizeof *a) != 0) {
            bigarr_free(a);
            return NULL;
        }
        a[i] = item(i);
    }
    *ok = intact(a, n) && bigarr_is_mapped(a);
    bigarr_free(a);
    return NULL;
}

/* A move the kernel refuses (here: the one from the 2 MiB reservation, at 4 MiB) leaves
 * the array where it was, whole and growable; the next attempt moves it. Then three more
 * moves in a row (8 -> 32 -> 128 -> 512 MiB reservations) keep every item. */
static void test_move_refused(void)
{
    bigarr_tune(64 * 1024, 2 * MIB);
    uint32_t *a = NULL;
    size_t cap = 0, n = 512 * 1024;   /* 2 MiB of items: fills the first mapping */
    CHECK(bigarr_grow((void **)&a, &cap, n, sizeof *a) == 0 && cap == n);
    CHECK(bigarr_is_mapped(a));
    for (size_t i = 0; i < n; i++)
        a[i] = item(i);
    uint32_t *before = a;
    size_t calls = mremap_calls;
    mremap_refuse_next = 1;
    CHECK(bigarr_grow((void **)&a, &cap, n + 1, sizeof *a) == -1);
    CHECK(mremap_calls == calls + 1);
    CHECK(a == before && cap == n && bigarr_is_mapped(a));
    CHECK(cap >= n && intact(a, n));
    a[n - 1] = item(n - 1);            /* still writable to the end */
    size_t lost = 0, failed = 0;
    for (size_t want = 2 * n, last = 128 * n; want <= last && !failed; want *= 4) {
        failed += bigarr_grow((void **)&a, &cap, want, sizeof *a) != 0;
        if (failed)
            break;
        lost += !intact(a, n);
        for (size_t i = n; i < want; i++)
            a[i] = item(i);
        n = want;
    }
    CHECK(failed == 0 && lost == 0);
    CHECK(n == 128 * 512 * 1024 && cap >= n);
    CHECK(cap >= n && intact(a, n));
    CHECK(mremap_multi == 0);
    CHECK(bigarr_live() == 1);
    bigarr_free(a);
    CHECK(bigarr_live() == 0);
    bigarr_tune(0, 0);
}

/* A first reservation too large to round (it once wrapped to 0 and looped forever): the
 * kernel refuses it, and the array is mapped with no headroom, its 16 KiB rounded up to one
 * 2 MiB page (524,288 items); growing past that moves it. */
static void test_tune_huge(void)
{
    size_t tunes[] = {SIZE_MAX, SIZE_MAX - 1024 * 1024};
    for (size_t t = 0; t < 2; t++) {
        bigarr_tune(4096, tunes[t]);
        uint32_t *a = NULL;
        size_t cap = 0;
        CHECK(bigarr_grow((void **)&a, &cap, 4096, sizeof *a) == 0 && cap == 524288);
        CHECK(bigarr_is_mapped(a));
        for (size_t i = 0; i < cap; i++)
            a[i] = item(i);
        CHECK(bigarr_grow((void **)&a, &cap, cap + 1, sizeof *a) == 0 && cap == 1048576);
        CHECK(cap >= 524288 && intact(a, 524288));
        bigarr_free(a);
    }
    CHECK(bigarr_live() == 0);
    bigarr_tune(0, 0);
}

#ifndef __SANITIZE_THREAD__
/* Where a fourfold reservation is refused but the array itself fits, it moves with no
 * headroom; where neither fits, the grow fails and the array is as it was. Mappings over
 * 7 MiB refused (a reservation maps 2 MiB more than it keeps, for alignment): from the
 * 2 MiB first mapping, 4 MiB of items needs 8 MiB reserved (refused), then exactly 4 MiB
 * (6 MiB mapped: taken); 8 MiB of items cannot be had either way. */
static void test_strict_commit(void)
{
    bigarr_tune(64 * 1024, 2 * MIB);
    uint32_t *a = NULL;
    size_t cap = 0, n = MIB / 2;
    CHECK(bigarr_grow((void **)&a, &cap, n, sizeof *a) == 0 && bigarr_is_mapped(a));
    for (size_t i = 0; i < n; i++)
        a[i] = item(i);
    mmap_refuse_over = 7 * MIB;
    CHECK(bigarr_grow((void **)&a, &cap, n + 1, sizeof *a) == 0);
    CHECK(cap == MIB && bigarr_is_mapped(a) && intact(a, n));
    for (size_t i = n; i < MIB && cap >= MIB; i++)
        a[i] = item(i);
    uint32_t *before = a;
    CHECK(bigarr_grow((void **)&a, &cap, MIB + 1, sizeof *a) == -1);
    CHECK(a == before && cap == MIB && intact(a, MIB));
    mmap_refuse_over = 0;
    CHECK(bigarr_grow((void **)&a, &cap, MIB + 1, sizeof *a) == 0 && intact(a, MIB));
    CHECK(mremap_multi == 0);
    bigarr_free(a);
    CHECK(bigarr_live() == 0);
    bigarr_tune(0, 0);
}
#endif

static void test_threads(void)
{
    bigarr_tune(64 * 1024, 2 * MIB);
    size_t ok[2] = {0, 0};
    pthread_t t;
    int started = pthread_create(&t, NULL, grow_one, &ok[0]) == 0;
    grow_one(&ok[1]);
    if (started)
        pthread_join(t, NULL);
    CHECK(started);
    CHECK(ok[0] && ok[1]);
    CHECK(bigarr_live() == 0);
    bigarr_tune(0, 0);
}

int main(void)
{
    test_small_stays_malloc();
    test_mapped_growth();
    test_registry_full();
    test_address_limit();
    test_move_refused();
    test_tune_huge();
#ifndef __SANITIZE_THREAD__
    test_strict_commit();
#endif
    test_threads();
    return TEST_END("test_bigarr");
}
