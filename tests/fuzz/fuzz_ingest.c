/* fuzz_ingest.c — libFuzzer target for ingest (and csvread under it).
 *
 * Beyond "no crash, no leak, no UB" it checks properties that a wrong parser would break:
 *  - counts reconcile (rows read = accepted + rejected, per reason and per file);
 *  - feeding the bytes in small chunks gives the same result as one chunk;
 *  - when ingest succeeds, the visits.csv it writes reads back with no rejects and writes
 *    out byte-identical;
 *  - streamed patient by patient (ingest.h patient_done), the input gives the same status,
 *    message and counts, and the same patient records and visit digest, as the whole table,
 *    unless ingest finds it not grouped by patient (INGEST_UNGROUPED).
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
#include "digest.h"
#include "ingest.h"
#include "patient.h"

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

/* Visits accepted: those held, and those already passed on when streaming. */
static size_t fuzz_visits(const struct dataset *ds)
{
    return ds->n_visits + (size_t)ds->visits_streamed;
}

/* When set, fuzz_ingest streams the input into it. */
static struct patient_stream *fuzz_stream_to;
/* 1: fuzz_ingest reads on two threads, handing over every 64 bytes of records */
static int fuzz_piped;

static int fuzz_patient_done(void *ctx, const struct dataset *ds, struct out_error *e)
{
    return patient_stream_add(ctx, ds, e);
}

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
           (size_t)ds->rows_accepted <= fuzz_visits(ds) &&
           fuzz_visits(ds) <= (size_t)ds->rows_accepted * n_tp;
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
           (size_t)ds->rows_accepted == fuzz_visits(ds);
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
    if (fuzz_piped) {
        o.threads = 2;
        o.pipe_batch = 64;
    }
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
    if (fuzz_stream_to) {
        o.patient_done = fuzz_patient_done;
        o.patient_done_ctx = fuzz_stream_to;
    }
    struct out_error e = {0};
    FILE *rej = fopen("/dev/null", "w");
    int rc = ingest_buffer("fuzz.csv", data, size, &o, ds, rej, &e);
    if (rej)
        fclose(rej);
    /* A row found to break the grouping is neither accepted nor rejected: the load is
     * abandoned (and read again without streaming), so its counts need not add up. */
    fuzz_require(rc == INGEST_UNGROUPED ||
                     (variant >= 4 ? fuzz_reconciles_wide(ds, fuzz_wide[variant - 4].n_tp)
                                   : fuzz_reconciles(ds)),
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

/* The status lines (rc, message, counts) of a fuzz_ingest output: up to the second '\n'. */
static size_t fuzz_status_len(const char *out)
{
    const char *p = strchr(out, '\n');
    p = p ? strchr(p + 1, '\n') : NULL;
    return p ? (size_t)(p + 1 - out) : strlen(out);
}

static int fuzz_same_digest(const struct visit_digest *x, const struct visit_digest *y)
{
    if (x->n_instr != y->n_instr || x->adverse_any != y->adverse_any ||
        x->n_patients != y->n_patients ||
        (x->n_patients && memcmp(x->adverse, y->adverse, x->n_patients)))
        return 0;
    for (size_t k = 0; k < x->n_instr; k++)
        for (int t = 0; t <= DIGEST_MAX_SESSION; t++) {
            const struct digest_cell *a = &x->traj[k][t], *b = &y->traj[k][t];
            if (a->n != b->n || memcmp(&a->sum, &b->sum, sizeof a->sum) ||
                memcmp(&a->m2, &b->m2, sizeof a->m2))
                return 0;
        }
    return 1;
}

/* The input streamed patient by patient against `full`, its whole-table load (status rc,
 * output out): same status lines; when both succeed, the same records and digest. */
static void fuzz_stream(const uint8_t *data, size_t size, int variant, struct dataset *full,
                        int rc, const char *out)
{
    struct patient_set ps_s, ps_f;
    struct patient_stream *pst;
    fuzz_require(patient_stream_begin(&pst, NULL, &ps_s, NULL) == 0, "stream begin");
    struct dataset s;
    dataset_init(&s);
    char *out_s;
    size_t len_s;
    fuzz_stream_to = pst;
    int rc_s = fuzz_ingest(data, size, 0, variant, &s, &out_s, &len_s);
    fuzz_stream_to = NULL;
    if (rc_s != INGEST_UNGROUPED) {
        size_t n = fuzz_status_len(out);
        fuzz_require(rc_s == rc && fuzz_status_len(out_s) == n && memcmp(out_s, out, n) == 0,
                     "streamed: same status, message and counts");
    }
    if (rc_s == 0 && rc == 0) {
        patient_stream_end(pst, &s);
        pst = NULL;
        fuzz_require(s.n_visits == 0 && s.visits_streamed == (long)full->n_visits,
                     "streamed: no visit kept");
        fuzz_require(patient_compute(full, NULL, &ps_f, NULL) == 0, "patient_compute");
        fuzz_require(ps_f.n == ps_s.n && ps_f.n_patients == ps_s.n_patients &&
                     (ps_f.n == 0 || memcmp(ps_f.m, ps_s.m, ps_f.n * sizeof *ps_f.m) == 0) &&
                     memcmp(ps_f.sd_pre, ps_s.sd_pre, sizeof ps_f.sd_pre) == 0,
                     "streamed: same patient records");
        fuzz_require(digest_attach(full) == 0 && s.digest &&
                     fuzz_same_digest(full->digest, s.digest),
                     "streamed: same visit digest");
        patient_set_free(&ps_f);
    }
    patient_stream_free(pst);
    patient_set_free(&ps_s);
    free(out_s);
    dataset_free(&s);
}

/* Read the input under `variant` whole, in small chunks and on two threads (same result),
 * and when that succeeds check that its visits.csv reads back in long format and writes out
 * the same. */
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
    /* The two-thread pipeline (whole lines handed over, hand-overs every few records) must
     * give the one-thread result. */
    dataset_init(&b);
    fuzz_piped = 1;
    fuzz_ingest(data, size, 1 + size % 5, variant, &b, &out_b, &len_b);
    fuzz_piped = 0;
    fuzz_require(len_a == len_b && memcmp(out_a, out_b, len_a) == 0, "pipeline invariance");
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
    fuzz_stream(data, size, variant, &a, rc, out_a);
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
