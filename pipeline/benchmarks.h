/* benchmarks.h — published comparators (samples/benchmarks.tsv) set beside a clinic's figures.
 *
 * A TSV with header id, citation, measure, estimate, lo, hi, n, note, chart; one row per
 * published figure. `chart` = "shares" marks rows that are a share of patients (0-100) and are
 * drawn beneath the claims in the forest plot. Numbers are plain decimals (47.6, -3.7: no
 * exponent, hex, nan or inf); empty ones are NAN (n: -1). Errors name the physical line.
 * Ownership: a struct bench_set owns its strings; bench_set_free() releases them.
 */
#ifndef OUTCOMES_BENCHMARKS_H
#define OUTCOMES_BENCHMARKS_H

#include <stddef.h>

#include "error.h"

struct bench {
    char *id, *citation, *measure, *note, *chart;
    double estimate, lo, hi;
    long n;
};

struct bench_set {
    size_t n;
    struct bench *b;
};

/* Load path. Returns 0; OUT_EIO when unreadable; OUT_EINPUT with path:line for a bad row. */
int bench_load(const char *path, struct bench_set *out, struct out_error *e);
void bench_set_free(struct bench_set *s);

#endif
