/* fuzz_ingest.c — libFuzzer target for ingest (and csvread under it).
 *
 * Beyond "no crash, no leak, no UB" it checks properties that a wrong parser would break:
 *  - counts reconcile (rows read = accepted + rejected, per reason and per file);
 *  - feeding the bytes in small chunks gives the same result as one chunk;
 *  - when ingest succeeds, the visits.csv it writes reads back with no rejects and writes
 *    out byte-identical.
 * Every input is also read as a wide file (one row per patient) under one of two wide specs,
 * with the same properties, except that an accepted row may give up to one visit per time
 * point (rows_accepted <= n_visits <= rows_accepted * time points).
 * A broken property aborts, which libFuzzer (and tests/test_fuzz_replay.c) report.
 * Build and run: scripts/fuzz [seconds]. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_date.h"
#include "dataset.h"
#include "ingest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fuzz_require(int ok, const char *what)
{
    if (!ok) {
        fprintf(stderr, "fuzz_ingest: property broken: %s\n", what);
        abort();
    }
}

/* The wide specs, picked by the input's size; seeds: tests/fuzz/corpus/wide_*.csv. The
 * first has a baseline date column and time points shared by two instruments (0 and 3m),
 * the second the synthetic baseline and a composite key. */
static const struct {
    const char *spec, *key;
    size_t n_tp;
} fuzz_wide[2] = {
    {"pain: p0@0d, p1@2w, p2@3m; sleep: s0@0d, s2@3m; patient_id=id; date=start", NULL, 3},
    {"pain_vas: v0@0d, v1@12m; odi: o0@0d, o1@1w", "site,rec", 3},
};

/* Counts reconcile for a wide load (n_tp time points). */
static int fuzz_reconciles_wide(const struct dataset *ds, size_t n_tp)
{
    long by = 0;
    for (int k = 0; k < REJ__COUNT; k++)
        by += ds->rejected_by[k];
    long fr = 0;
    for (size_t i = 0; i < ds->n_files; i++) {
        const struct input_file *f = &ds->file[i];
        if (f->rows_read != f->rows_accepted + f->rows_rejected)
            return 0;
        fr += f->rows_read;
    }
    return ds->rows_read == ds->rows_accepted + ds->rows_rejected &&
           by == ds->rows_rejected && fr == ds->rows_read &&
           (size_t)ds->rows_accepted <= ds->n_visits &&
           ds->n_visits <= (size_t)ds->rows_accepted * n_tp;
}

static int fuzz_reconciles(const struct dataset *ds)
{
    long by = 0;
    for (int k = 0; k < REJ__COUNT; k++)
        by += ds->rejected_by[k];
    long fr = 0;
    for (size_t i = 0; i < ds->n_files; i++) {
        const struct input_file *f = &ds->file[i];
        if (f->rows_read != f->rows_accepted + f->rows_rejected)
            return 0;
        fr += f->rows_read;
    }
    return ds->rows_read == ds->rows_accepted + ds->rows_rejected &&
           by == ds->rows_rejected && fr == ds->rows_read &&
           (size_t)ds->rows_accepted == ds->n_visits;
}

/* Ingest with option set `variant` (0 = defaults; 4 and 5 are the wide specs), then write
 * visits.csv into *out (caller frees). Returns ingest's status. */
static int fuzz_ingest(const void *data, size_t size, size_t chunk, int variant,
                       struct dataset *ds, char **out, size_t *out_len)
{
    struct ingest_opts o;
    ingest_opts_default(&o);
    o.today = civil_days(2026, 1, 1);
    o.max_field = 4096;
    o.chunk_size = chunk;
    if (variant == 1) {
        o.decimal_comma = 1;
        o.strict = 1;
    } else if (variant == 2) {
        ingest_opts_set_key(&o, "site,record", NULL);
        ingest_opts_set_time(&o, "week:weeks", NULL);
    } else if (variant == 3) {
        ingest_opts_add_column(&o, "patient_id=record_id", NULL);
        o.delimiter = ',';
    } else if (variant >= 4) {
        fuzz_require(ingest_opts_set_wide(&o, fuzz_wide[variant - 4].spec, NULL) == 0,
                     "wide spec");
        if (fuzz_wide[variant - 4].key)
            ingest_opts_set_key(&o, fuzz_wide[variant - 4].key, NULL);
    }
    struct out_error e = {0};
    FILE *rej = fopen("/dev/null", "w");
    int rc = ingest_buffer("fuzz.csv", data, size, &o, ds, rej, &e);
    if (rej)
        fclose(rej);
    fuzz_require(variant >= 4 ? fuzz_reconciles_wide(ds, fuzz_wide[variant - 4].n_tp)
                              : fuzz_reconciles(ds),
                 "counts reconcile");
    *out = NULL;
    *out_len = 0;
    FILE *fp = open_memstream(out, out_len);
    fuzz_require(fp != NULL, "open_memstream");
    fprintf(fp, "rc=%d line=%ld col=%ld %s\n", rc, e.line, e.col, e.msg);
    fprintf(fp, "%ld %ld %ld\n", ds->rows_read, ds->rows_accepted, ds->rows_rejected);
    if (rc == 0)
        ingest_write_visits(ds, fp, NULL);
    fclose(fp);
    return rc;
}

/* Read the input under `variant` whole and in small chunks (same result), and when that
 * succeeds check that its visits.csv reads back in long format and writes out the same. */
static void fuzz_one(const uint8_t *data, size_t size, int variant)
{
    struct dataset a, b;
    char *out_a, *out_b;
    size_t len_a, len_b;
    dataset_init(&a);
    dataset_init(&b);
    int rc = fuzz_ingest(data, size, 0, variant, &a, &out_a, &len_a);
    fuzz_ingest(data, size, 1 + size % 7, variant, &b, &out_b, &len_b);
    fuzz_require(len_a == len_b && memcmp(out_a, out_b, len_a) == 0, "chunk size invariance");
    free(out_b);
    dataset_free(&b);

    if (rc == 0) {
        /* Round trip: skip our two status lines to get visits.csv itself. */
        const char *csv = strchr(out_a, '\n');
        csv = csv ? strchr(csv + 1, '\n') : NULL;
        fuzz_require(csv != NULL, "status lines");
        csv++;
        size_t csv_len = len_a - (size_t)(csv - out_a);
        if (a.n_visits) {
            struct dataset c;
            dataset_init(&c);
            char *out_c;
            size_t len_c;
            int rc2 = fuzz_ingest(csv, csv_len, 0, 0, &c, &out_c, &len_c);
            fuzz_require(rc2 == 0, "visits.csv reads back");
            fuzz_require(c.rows_rejected == 0 && c.n_visits == a.n_visits,
                         "visits.csv reads back without rejects");
            const char *csv_c = strchr(out_c, '\n');
            csv_c = strchr(csv_c + 1, '\n') + 1;
            fuzz_require(strlen(csv_c) == csv_len && memcmp(csv_c, csv, csv_len) == 0,
                         "visits.csv round trip is byte-identical");
            free(out_c);
            dataset_free(&c);
        }
    }
    free(out_a);
    dataset_free(&a);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The option sets are picked by the size, so every input keeps one meaning: a long
     * variant (size % 4, as before the wide format existed) and a wide one (size % 2). */
    fuzz_one(data, size, (int)(size % 4));
    fuzz_one(data, size, 4 + (int)(size % 2));
    return 0;
}
