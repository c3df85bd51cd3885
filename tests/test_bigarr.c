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
 * refuse the next call on request, before or after clearing the destination (and, after,
 * with another thread's page landed in the gap), to check that a refused move leaves the
 * array usable and the address space as it was.
 *
 * The tests of mapped arrays also check what is mapped (from /proc/self/maps and smaps): a
 * reservation's alignment slack is trimmed, a freed array leaves nothing behind, a refused
 * destination is given back (and nothing else in its range), mappings are advised for huge
 * pages, and under a strict commit limit a mapping is exactly the array's capacity. */
#define _GNU_SOURCE   /* mremap flags */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "bigarr.h"
#include "harness.h"

#define MIB ((size_t)1 << 20)

/* TSan must see every mmap, so there is no mmap stand-in under it; nor where SYS_mmap is
 * not the six-argument call (32-bit systems, s390x). */
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#if !defined(UNDER_TSAN) && defined(__linux__) && \
    (defined(__x86_64__) || defined(__aarch64__) || defined(__powerpc64__) || \
     (defined(__riscv) && __riscv_xlen == 64))
#define MMAP_STANDIN 1
#endif

static size_t mremap_calls, mremap_multi;
/* The next mremap is refused: */
enum { REFUSE_NONE, REFUSE_AFTER_CLEARING, REFUSE_BEFORE_CLEARING, REFUSE_AFTER_OTHER_MAPS };
static int mremap_refuse_next;
static void *refused_to;         /* the destination of the last refused call */
static size_t refused_len;
static void *other_page;         /* REFUSE_AFTER_OTHER_MAPS: the page "another thread" got */

/* Mappings (lines of /proc/self/maps) that meet [p, p + n), and the bytes of [p, p + n)
 * they cover; *first (when not NULL) is the whole size of the first of them, 0 if none. */
static size_t maps_in(const void *p, size_t n, size_t *bytes, size_t *first)
{
    *bytes = 0;
    if (first)
        *first = 0;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return 0;
    uintptr_t lo = (uintptr_t)p, hi = lo + n, a, b;
    size_t k = 0;
    char line[512];
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &a, &b) == 2 && a < hi && b > lo) {
            if (!k++ && first)
                *first = b - a;
            *bytes += (b < hi ? b : hi) - (a > lo ? a : lo);
        }
    fclose(f);
    return k;
}

static size_t vmas_in(const void *p, size_t n)
{
    size_t bytes;
    return maps_in(p, n, &bytes, NULL);
}

static size_t mapped_in(const void *p, size_t n)
{
    size_t bytes;
    maps_in(p, n, &bytes, NULL);
    return bytes;
}

/* The size of the mapping (VMA) that holds p; 0 when none does. */
static size_t vma_len(const void *p)
{
    size_t bytes, len;
    maps_in(p, 1, &bytes, &len);
    return len;
}

/* 1 when the mapping that holds p is advised for huge pages ("hg" in its VmFlags). */
static int advised_huge(const void *p)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    if (!f)
        return 0;
    uintptr_t at = (uintptr_t)p, a, b;
    int inside = 0, hg = 0;
    char line[1024];
    while (fgets(line, sizeof line, f)) {
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR, &a, &b) == 2)   /* a mapping's first line */
            inside = a <= at && at < b;
        else if (inside && !strncmp(line, "VmFlags:", 8))
            hg = strstr(line, " hg") != NULL;
    }
    fclose(f);
    return hg;
}

/* 0 where this kernel takes no huge-page advice (transparent huge pages "never"). */
static int thp_advisable(void)
{
    FILE *f = fopen("/sys/kernel/mm/transparent_hugepage/enabled", "r");
    if (!f)
        return 0;
    char line[256] = "";
    int ok = fgets(line, sizeof line, f) && !strstr(line, "[never]");
    fclose(f);
    return ok;
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
        int how = multi ? REFUSE_AFTER_CLEARING : mremap_refuse_next;
        mremap_refuse_next = REFUSE_NONE;
        refused_to = to;
        refused_len = new_len;
        if (to && how != REFUSE_BEFORE_CLEARING)
            munmap(to, new_len);
        if (to && how == REFUSE_AFTER_OTHER_MAPS) {
            /* one page in the middle of the cleared range, as another thread's malloc */
            other_page = (char *)to + new_len / 2;
            if (mmap(other_page, 4096, PROT_READ | PROT_WRITE,
                     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) != other_page)
                other_page = NULL;
        }
        errno = multi ? EFAULT : ENOMEM;
        return MAP_FAILED;
    }
    return (void *)syscall(SYS_mremap, old, old_len, new_len, flags, to);
}

#ifdef MMAP_STANDIN
/* mmap, refusing MAP_NORESERVE mappings of more than mmap_refuse_over bytes (0: none) as a
 * strict commit limit would, and noting the last MAP_NORESERVE mapping made. */
static size_t mmap_refuse_over;
static void *last_raw;
static size_t last_span;

void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
    if (mmap_refuse_over && len > mmap_refuse_over && (flags & MAP_NORESERVE)) {
        errno = ENOMEM;
        return MAP_FAILED;
    }
    if ((flags & MAP_NORESERVE) && !addr && len <= SIZE_MAX - 4 * MIB) {
        /* 4 KiB past a 2 MiB boundary, whatever the kernel would choose (6.7 and later
         * align large anonymous mappings to 2 MiB), so that bigarr's trimming of the
         * slack before its aligned start is exercised too. */
        char *big = (void *)syscall(SYS_mmap, NULL, len + 4 * MIB, prot, flags, fd, off);
        if (big == MAP_FAILED)
            return MAP_FAILED;
        char *r = (char *)(((uintptr_t)big + 2 * MIB - 1) & ~(uintptr_t)(2 * MIB - 1)) + 4096;
        syscall(SYS_munmap, big, (size_t)(r - big));
        syscall(SYS_munmap, r + len, (size_t)(big + len + 4 * MIB - (r + len)));
        last_raw = r;
        last_span = len;
        return r;
    }
    void *r = (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
    if (r != MAP_FAILED && (flags & MAP_NORESERVE)) {
        last_raw = r;
        last_span = len;
    }
    return r;
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
    size_t caps[16], ncaps = 0, calls = mremap_calls;
    /* Each mapping the array has, right after it gets there: the reservation (2, 8, 32 MiB)
     * is one VMA, wholly mapped, with nothing left of the alignment slack around it (the
     * MAP_NORESERVE mmap it was cut from maps 2 MiB more) and advised for huge pages. */
    size_t mapped = 0, bad_vma = 0, bad_slack = 0, not_huge = 0;
    size_t resv[] = {2 * MIB, 8 * MIB, 32 * MIB};
    int thp = thp_advisable();
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
                if (bigarr_is_mapped(a) && mapped < 3) {
                    size_t r = resv[mapped++], bytes;
                    bad_vma += maps_in(a, r, &bytes, NULL) != 1 || bytes != r;
#ifdef MMAP_STANDIN
                    bad_slack += last_span != r + 2 * MIB || mapped_in(last_raw, last_span) != r;
#endif
                    not_huge += thp && !advised_huge(a);
                }
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
    CHECK(mapped == 3 && bad_vma == 0 && bad_slack == 0 && not_huge == 0);
    CHECK(mremap_calls == calls + 2);   /* 2 -> 8 MiB at 4 MiB, 8 -> 32 MiB at 16 MiB */
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
    CHECK(mapped_in(before, 32 * MIB) == 0);   /* the whole reservation is released */

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

/* Under a finite RLIMIT_AS or RLIMIT_DATA (however large) nothing is mapped: reservations
 * would eat the address space or data allowance the rest of the run may need. */
static void test_limit(int resource)
{
    struct rlimit old, lim;
    if (getrlimit(resource, &old) != 0 || old.rlim_max != RLIM_INFINITY) {
        CHECK(!"the limit cannot be raised back here");
        return;
    }
    bigarr_tune(4096, 2 * MIB);
    lim = old;
    lim.rlim_cur = (rlim_t)1 << 62;   /* finite, yet no limit for ASan's shadow */
    CHECK(setrlimit(resource, &lim) == 0);
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
    CHECK(setrlimit(resource, &old) == 0);
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

/* A move the kernel refuses (here: the one from the 2 MiB reservation, at 4 MiB, into 8 MiB)
 * leaves the array where it was, whole and growable, and the destination unmapped unless
 * another thread got part of it (how: when the stand-in refuses, and what it does to the
 * destination first); the next attempt moves it. Then three more
 * moves in a row (8 -> 32 -> 128 -> 512 MiB reservations) keep every item. */
static void test_move_refused(int how)
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
    mremap_refuse_next = how;
    refused_to = other_page = NULL;
    CHECK(bigarr_grow((void **)&a, &cap, n + 1, sizeof *a) == -1);
    CHECK(mremap_calls == calls + 1);
    CHECK(a == before && cap == n && bigarr_is_mapped(a));
    CHECK(cap >= n && intact(a, n));
    a[n - 1] = item(n - 1);            /* still writable to the end */
    /* The 8 MiB destination is given back, but not a page another thread got in it. */
    CHECK(refused_to != NULL && refused_len == 8 * MIB);
    if (how == REFUSE_AFTER_OTHER_MAPS) {
        CHECK(other_page != NULL);
        CHECK(mapped_in(refused_to, refused_len) == 4096 && mapped_in(other_page, 4096) == 4096);
        if (other_page)
            munmap(other_page, 4096);
    }
    CHECK(refused_to && mapped_in(refused_to, refused_len) == 0);
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

#ifdef MMAP_STANDIN
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

/* The overcommit mode, from a file standing in for /proc/sys/vm/overcommit_memory: under
 * "2" (strict) each mapping is exactly the array's capacity, whatever the first reservation
 * (16 MiB here), so the 2 MiB array doubling to 4 and 8 MiB moves twice; under "0", or with
 * no file, the array reserves 16 MiB at once and grows in place. */
static void test_overcommit_mode(void)
{
    char path[] = "/tmp/test_bigarr_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    const char *modes[] = {"2\n", "0\n", NULL};
    for (size_t m = 0; m < 3; m++) {
        FILE *f = fopen(path, "w");
        if (f && modes[m])
            fputs(modes[m], f);
        if (f)
            fclose(f);
        if (!modes[m])
            unlink(path);
        bigarr_tune(64 * 1024, 16 * MIB);
        bigarr_tune_overcommit(path);
        uint32_t *a = NULL;
        size_t cap = 0, calls = mremap_calls, exact = 0, whole = 0, failed = 0;
        for (size_t want = MIB / 2; want <= 2 * MIB && !failed; want *= 2) {
            failed = bigarr_grow((void **)&a, &cap, want, sizeof *a) != 0;
            for (size_t i = 0; i < want && !failed; i++)
                a[i] = item(i);
            exact += !failed && vma_len(a) == want * sizeof *a;
            whole += !failed && vma_len(a) == 16 * MIB;
        }
        CHECK(!failed && bigarr_is_mapped(a) && intact(a, 2 * MIB));
        if (m == 0)
            CHECK(exact == 3 && mremap_calls == calls + 2);
        else
            CHECK(whole == 3 && mremap_calls == calls);
        bigarr_free(a);
    }
    bigarr_tune_overcommit(NULL);
    bigarr_tune(0, 0);
}

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
    test_limit(RLIMIT_AS);
    test_limit(RLIMIT_DATA);
    test_overcommit_mode();
    test_move_refused(REFUSE_AFTER_CLEARING);
    test_move_refused(REFUSE_BEFORE_CLEARING);
    test_move_refused(REFUSE_AFTER_OTHER_MAPS);
    test_tune_huge();
#ifdef MMAP_STANDIN
    test_strict_commit();
#endif
    test_threads();
    return TEST_END("test_bigarr");
}
