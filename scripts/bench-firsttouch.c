/* bench-firsttouch.c — what a first write to fresh memory costs on this machine.
 *
 * Maps 260 MB of anonymous memory (the size of the per-patient records at 10M rows) and
 * writes it in 104-byte steps (one record each, as patient.c's new_record does), twice:
 * the first pass pays for the page faults, the second shows the plain cost of the stores.
 *   cc -O2 -o build/bench/firsttouch scripts/bench-firsttouch.c
 *   /usr/bin/time -f '%S s sys, %R faults' build/bench/firsttouch MODE
 * MODE: 0 plain 4 KiB pages, 1 MADV_POPULATE_WRITE first, 2 MADV_HUGEPAGE,
 *       3 MADV_HUGEPAGE then MADV_POPULATE_WRITE. Figures: docs/benchmark.md, sixth round. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    size_t n = (size_t)260 << 20;
    int mode = argc > 1 ? atoi(argv[1]) : 0;
    double t0 = now();
    char *p = mmap(NULL, n, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    if ((mode & 2) && madvise(p, n, MADV_HUGEPAGE) != 0)
        perror("madvise(MADV_HUGEPAGE)");
    if ((mode & 1) && madvise(p, n, MADV_POPULATE_WRITE) != 0)
        perror("madvise(MADV_POPULATE_WRITE)");
    double t1 = now();
    for (size_t i = 0; i + 104 <= n; i += 104)
        memset(p + i, 1, 104);
    double t2 = now();
    for (size_t i = 0; i + 104 <= n; i += 104)
        memset(p + i, 2, 104);
    double t3 = now();
    printf("mode %d: advice %.3f s, first pass %.3f s, second pass %.3f s\n", mode, t1 - t0,
           t2 - t1, t3 - t2);
    return munmap(p, n) != 0;
}
