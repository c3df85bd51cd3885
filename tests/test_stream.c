/* test_stream.c — input streamed patient by patient (ingest.h patient_done, patient.h
 * patient_stream_*, digest.h) must give what the whole visit table gives, and say so when the
 * input is not grouped by patient. The digest's numbers are checked by hand. */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigarr.h"
#include "dataset.h"
#include "digest.h"
#include "harness.h"
#include "ingest.h"
#include "patient.h"

/* ---- the sink: patient records, and a check that each call brings complete patients ---- */

struct sink {
    struct patient_stream *ps;
    unsigned char *seen;       /* per patient: handed over already */
    size_t cap;
    int calls, incomplete, fail_at;
};

static int sink_done(void *ctx, const struct dataset *ds, struct out_error *e)
{
    struct sink *s = ctx;
    if (++s->calls == s->fail_at)
        return out_err(e, OUT_EINPUT, "x.csv", 0, 0, "stop here");
    if (ds->n_patients > s->cap) {
        unsigned char *n = realloc(s->seen, ds->n_patients);
        if (!n)
            return OUT_EINTERNAL;
        memset(n + s->cap, 0, ds->n_patients - s->cap);
        s->seen = n;
        s->cap = ds->n_patients;
    }
    /* A patient handed over twice was split: the stream promised complete patients. */
    for (size_t v = 0; v < ds->n_visits; v++)
        if (s->seen[ds->visit[v].patient])
            s->incomplete++;
    for (size_t v = 0; v < ds->n_visits; v++)
        s->seen[ds->visit[v].patient] = 1;
    return s->ps ? patient_stream_add(s->ps, ds, e) : 0;
}

/* Visits a batch for the per-patient thread (ingest_opts.stream_batch; 0 = default). */
static size_t load_batch;

/* Load text with or without streaming; rejects into *rej (caller frees). */
static int load(const char *text, int stream, int threads, size_t chunk, struct dataset *ds,
                struct sink *s, char **rej, struct out_error *e)
{
    struct ingest_opts o;
    ingest_opts_default(&o);
    o.today = 20000 + 365 * 10;
    o.threads = threads;
    o.chunk_size = chunk;
    o.stream_batch = load_batch;
    if (stream) {
        o.patient_done = sink_done;
        o.patient_done_ctx = s;
    }
    size_t rl = 0;
    FILE *fp = open_memstream(rej, &rl);
    dataset_init(ds);
    int rc = ingest_buffer("x.csv", text, strlen(text), &o, ds, fp, e);
    fclose(fp);
    return rc;
}

/* ---- random grouped input ------------------------------------------------------------ */

static unsigned long rng_state = 12345;
static unsigned rnd(unsigned n)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (unsigned)((rng_state >> 33) % n);
}

struct text {
    char *s;
    size_t n, cap;
};

static void put(struct text *t, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int k = vsnprintf(t->s + t->n, t->cap - t->n, fmt, ap);
        va_end(ap);
        if (k >= 0 && (size_t)k < t->cap - t->n) {
            t->n += (size_t)k;
            return;
        }
        t->cap = t->cap * 2 + (size_t)k + 64;
        t->s = realloc(t->s, t->cap);
        if (!t->s)
            abort();
    }
}

/* Patients in groups; within a patient dates and sessions out of order at times, repeats
 * (exact and conflicting), rejected rows, missing cells, flags and episodes. */
static char *grouped_input(int patients, int post, int episodes)
{
    struct text t = {malloc(64), 0, 64};
    t.s[0] = '\0';
    put(&t, "patient_id,visit_date,session,pain,sleep,adverse_event,clinic%s%s\n",
        post ? ",pain_post" : "", episodes ? ",episode" : "");
    for (int p = 0; p < patients; p++) {
        /* Now and then a long patient: past 32 visits streaming looks repeats up in the
         * duplicate table instead of scanning the patient's visits. */
        int nv = 1 + (int)rnd(rnd(8) == 0 ? 90 : 12);
        char prev[200] = "";
        for (int v = 0; v < nv; v++) {
            char row[200], sess[8] = "", pain[8] = "", sleep[8] = "", ae[8] = "";
            int day = 1 + (int)rnd(60);
            if (rnd(4))
                snprintf(sess, sizeof sess, "%u", 1 + rnd(40));
            if (rnd(6))
                snprintf(pain, sizeof pain, "%u", rnd(11));
            if (rnd(3))
                snprintf(sleep, sizeof sleep, "%u.5", rnd(10));
            if (!pain[0] && !sleep[0] && rnd(2))
                snprintf(pain, sizeof pain, "%u", rnd(11));
            static const char *const flags[] = {"", "no", "yes", "no"};
            snprintf(ae, sizeof ae, "%s", flags[rnd(4)]);
            int n = snprintf(row, sizeof row, "P%04d,2025-%02d-%02d,%s,%s,%s,%s,C%d", p,
                             1 + (day - 1) / 28, 1 + (day - 1) % 28, sess, pain, sleep, ae,
                             p % 3);
            if (post)
                n += snprintf(row + n, sizeof row - (size_t)n, ",%s",
                              rnd(3) ? "2" : "");
            if (episodes)
                snprintf(row + n, sizeof row - (size_t)n, ",%s", rnd(3) ? "" : "2");
            unsigned what = rnd(20);
            if (what == 0 && prev[0])
                put(&t, "%s\n", prev);                       /* exact repeat */
            else if (what == 1 && prev[0]) {
                char *c = strrchr(prev, ',');
                put(&t, "%.*s,x%s\n", (int)(c - prev), prev, c + 1);   /* other values */
            } else if (what == 2)
                put(&t, "P%04d,2025-02-30,1,5,5,no,C0%s%s\n", p, post ? ",1" : "",
                    episodes ? "," : "");                    /* rejected: bad date */
            else if (what == 3)
                put(&t, "P%04d,2025-01-01\n", p);            /* rejected: field count */
            put(&t, "%s\n", row);
            memcpy(prev, row, sizeof prev);
        }
    }
    return t.s;
}

static int same_digest(const struct visit_digest *a, const struct visit_digest *b)
{
    if (a->n_instr != b->n_instr || a->adverse_any != b->adverse_any ||
        a->n_patients != b->n_patients)
        return 0;
    if (a->n_patients && memcmp(a->adverse, b->adverse, a->n_patients))
        return 0;
    for (size_t k = 0; k < a->n_instr; k++)
        for (int s = 0; s <= DIGEST_MAX_SESSION; s++) {
            const struct digest_cell *x = &a->traj[k][s], *y = &b->traj[k][s];
            if (x->n != y->n || memcmp(&x->sum, &y->sum, sizeof x->sum) ||
                memcmp(&x->m2, &y->m2, sizeof x->m2))
                return 0;
        }
    return 1;
}

static int same_records(const struct patient_set *a, const struct patient_set *b)
{
    if (a->n != b->n || a->n_patients != b->n_patients ||
        a->n_single_visit != b->n_single_visit || a->n_zero_baseline != b->n_zero_baseline ||
        a->n_instr != b->n_instr)
        return 0;
    for (size_t k = 0; k < a->n_instr; k++)
        if (memcmp(&a->sd_pre[k], &b->sd_pre[k], sizeof a->sd_pre[k]) ||
            memcmp(&a->sdiff[k], &b->sdiff[k], sizeof a->sdiff[k]))
            return 0;
    return a->n == 0 || memcmp(a->m, b->m, a->n * sizeof *a->m) == 0;
}

/* Records, id arrays and id indexes that were mappings (bigarr.h) in test_differential. */
static size_t mapped_seen;

static void test_differential(void)
{
    int bad = 0, checked = 0, streamed_any = 0;
    for (int round = 0; round < 60; round++) {
        int post = round % 2, episodes = round % 3 == 0;
        char *in = grouped_input(1 + (int)rnd(round < 40 ? 30 : 400), post, episodes);
        int threads = 1 + (int)rnd(2);
        size_t chunk = rnd(2) ? 0 : 7 + rnd(300);
        /* With two threads the per-patient work runs on a third, in batches of at least
         * this many visits: 1 (every patient), a few patients, or the default 4096 (the
         * whole input at the end). */
        load_batch = rnd(3) == 0 ? 0 : 1 + rnd(40);
        struct patient_opts po;
        patient_opts_default(&po);
        po.new_episode_after = round % 4 == 1 ? 20 : 0;

        struct out_error e1 = {0}, e2 = {0};
        struct dataset d1, d2;
        char *r1 = NULL, *r2 = NULL;
        int rc1 = load(in, 0, threads, chunk, &d1, NULL, &r1, &e1);
        struct patient_set p1 = {0}, p2 = {0};
        struct sink s = {0};
        int rc2 = patient_stream_begin(&s.ps, &po, &p2, &e2);
        if (!rc2)
            rc2 = load(in, 1, threads, chunk, &d2, &s, &r2, &e2);
        else
            dataset_init(&d2);
        if (rc1 == 0 && rc2 == 0) {
            patient_stream_end(s.ps, &d2);
            int rcp = patient_compute(&d1, &po, &p1, &e1);
            int rcd = digest_attach(&d1);
            checked++;
            streamed_any += d2.visits_streamed > 0;
            if (rcp || rcd || strcmp(r1, r2) || !same_records(&p1, &p2) || s.incomplete ||
                !d2.digest || !d1.digest || !same_digest(d1.digest, d2.digest) ||
                d2.n_visits != 0 || d2.visits_streamed != (long)d1.n_visits ||
                d1.rows_read != d2.rows_read || d1.rows_accepted != d2.rows_accepted ||
                d1.rows_rejected != d2.rows_rejected || d1.n_patients != d2.n_patients ||
                strcmp(d1.file[0].sha256, d2.file[0].sha256)) {
                if (!bad)
                    fprintf(stderr, "round %d differs (rcp %d rcd %d rej %d rec %d inc %d)\n",
                            round, rcp, rcd, strcmp(r1, r2) != 0, !same_records(&p1, &p2),
                            s.incomplete);
                bad++;
            }
        } else {
            patient_stream_free(s.ps);
            if (!bad)
                fprintf(stderr, "round %d: rc %d / %d: %s / %s\n", round, rc1, rc2, e1.msg,
                        e2.msg);
            bad++;
        }
        mapped_seen += (size_t)bigarr_is_mapped(p1.m) + (size_t)bigarr_is_mapped(p2.m) +
                       (size_t)bigarr_is_mapped(d1.patient_id) +
                       (size_t)bigarr_is_mapped(d2.patient_id);
        patient_set_free(&p1);
        patient_set_free(&p2);
        dataset_free(&d1);
        dataset_free(&d2);
        free(s.seen);
        free(r1);
        free(r2);
        free(in);
    }
    CHECK(bad == 0);
    CHECK(checked == 60);
    CHECK(streamed_any == 60);
}

/* ---- not grouped --------------------------------------------------------------------- */

static void test_ungrouped(void)
{
    struct dataset ds;
    struct out_error e = {0};
    char *rej = NULL;
    struct sink s = {0};
    static const char *const back =
        "patient_id,visit_date,pain\n"
        "A,2025-01-01,5\n"
        "A,2025-01-08,4\n"
        "B,2025-01-01,6\n"
        "A,2025-01-15,3\n";
    CHECK(load(back, 1, 1, 0, &ds, &s, &rej, &e) == INGEST_UNGROUPED);
    CHECK(e.line == 5);
    CHECK_CONTAINS(e.msg, "'A'");
    CHECK_CONTAINS(e.msg, "not grouped by patient");
    CHECK(s.calls == 1);   /* A was complete when B began */
    dataset_free(&ds);
    free(rej);
    free(s.seen);

    /* Without streaming the same input is fine. */
    CHECK(load(back, 0, 1, 0, &ds, NULL, &rej, &e) == 0);
    CHECK(ds.n_visits == 4);
    dataset_free(&ds);
    free(rej);

    /* A repeat of a complete patient's row breaks the grouping too (the full table then
     * finds the duplicate). */
    static const char *const dup =
        "patient_id,visit_date,pain\n"
        "A,2025-01-01,5\n"
        "B,2025-01-01,6\n"
        "A,2025-01-01,5\n";
    memset(&s, 0, sizeof s);
    CHECK(load(dup, 1, 1, 0, &ds, &s, &rej, &e) == INGEST_UNGROUPED);
    dataset_free(&ds);
    free(rej);
    free(s.seen);

    /* A rejected row of a complete patient is only a reject: it never joins the patient. */
    static const char *const rejected =
        "patient_id,visit_date,pain\n"
        "A,2025-01-01,5\n"
        "B,2025-01-01,6\n"
        "A,2025-02-30,5\n"
        "C,2025-01-01,2\n";
    memset(&s, 0, sizeof s);
    CHECK(load(rejected, 1, 1, 0, &ds, &s, &rej, &e) == 0);
    CHECK(ds.rows_rejected == 1 && ds.rows_accepted == 3);
    CHECK(s.calls == 3);
    CHECK(ds.n_visits == 0 && ds.visits_streamed == 3);
    CHECK_CONTAINS(rej, "x.csv,4,2,invalid_date");
    dataset_free(&ds);
    free(rej);
    free(s.seen);

    /* The sink's error stops the read with that error, also when the sink runs on the
     * per-patient thread (batches of one patient). */
    for (int threads = 1; threads <= 2; threads++) {
        memset(&s, 0, sizeof s);
        s.fail_at = 2;
        load_batch = 1;
        e = (struct out_error){0};
        CHECK(load(rejected, 1, threads, 0, &ds, &s, &rej, &e) == OUT_EINPUT);
        CHECK_CONTAINS(e.msg, "stop here");
        CHECK(s.calls == 2);
        dataset_free(&ds);
        free(rej);
        free(s.seen);
    }

    /* Ungrouped input found while the per-patient thread has A: the same error, and A was
     * handed over once. */
    memset(&s, 0, sizeof s);
    load_batch = 1;
    CHECK(load(back, 1, 2, 0, &ds, &s, &rej, &e) == INGEST_UNGROUPED);
    CHECK(e.line == 5);
    CHECK_CONTAINS(e.msg, "not grouped by patient");
    CHECK(s.calls == 1 && s.incomplete == 0);
    dataset_free(&ds);
    free(rej);
    free(s.seen);
    load_batch = 0;
}

/* A patient of more than 65535 visits in one episode is refused with its id, whichever
 * thread does the per-patient work: the worker's snapshot has no ids, so that batch is done
 * on the reading thread. */
static void test_long_patient(void)
{
    struct text t = {0};
    put(&t, "%s", "patient_id,visit_date,session,pain\n");
    for (int i = 0; i < 50; i++)
        put(&t, "A%d,2025-01-01,1,5\nA%d,2025-01-08,2,4\n", i, i);
    for (int i = 1; i <= 65536; i++)
        put(&t, "many,2025-01-01,%d,5\n", i);
    put(&t, "%s", "Z,2025-01-01,1,5\n");
    for (int threads = 1; threads <= 2; threads++) {
        struct dataset ds;
        struct out_error e = {0};
        char *rej = NULL;
        struct sink s = {0};
        struct patient_set ps = {0};
        CHECK(patient_stream_begin(&s.ps, NULL, &ps, &e) == 0);
        load_batch = 8;
        CHECK(load(t.s, 1, threads, 0, &ds, &s, &rej, &e) == OUT_EINPUT);
        CHECK_CONTAINS(e.msg, "patient 'many' has more than 65535 visits in one episode");
        CHECK(s.calls >= 1);
        patient_stream_free(s.ps);
        patient_set_free(&ps);
        dataset_free(&ds);
        free(rej);
        free(s.seen);
    }
    load_batch = 0;
    free(t.s);
}

/* ---- the digest by hand ---------------------------------------------------------------- */

static void test_digest_by_hand(void)
{
    /* X: no session numbers, dates in order: sessions 1, 2 by rank.
     * Y: dates out of order in the file: 01-02 is its session 1, 01-03 session 2.
     * Z: file session 3 (taken as given), 31 (past the chart), no adverse_event cells. */
    static const char *const text =
        "patient_id,visit_date,session,pain,adverse_event\n"
        "X,2025-01-01,,4,no\n"
        "X,2025-01-08,,6,yes\n"
        "Y,2025-01-03,,5,no\n"
        "Y,2025-01-02,,3,\n"
        "Z,2025-01-05,3,7,\n"
        "Z,2025-03-05,31,1,\n";
    for (int stream = 0; stream < 2; stream++) {
        struct dataset ds;
        struct out_error e = {0};
        char *rej = NULL;
        struct sink s = {0};
        CHECK(load(text, stream, 1, 0, &ds, &s, &rej, &e) == 0);
        if (!stream)
            CHECK(digest_attach(&ds) == 0);
        const struct visit_digest *d = ds.digest;
        CHECK(d != NULL);
        if (!d) {
            dataset_free(&ds);
            free(rej);
            continue;
        }
        /* Session 1: X 4, Y 3: mean 3.5, SD sqrt(((0.5)^2 + (0.5)^2) / 1) = sqrt(0.5). */
        const struct digest_cell *c1 = &d->traj[0][1], *c2 = &d->traj[0][2], *c3 = &d->traj[0][3];
        CHECK(c1->n == 2);
        CHECK_NEAR(c1->sum / (double)c1->n, 3.5, 1e-15);
        CHECK_NEAR(digest_cell_sd(c1), sqrt(0.5), 1e-15);
        /* Session 2: X 6, Y 5. */
        CHECK(c2->n == 2);
        CHECK_NEAR(c2->sum, 11.0, 0);
        CHECK_NEAR(digest_cell_sd(c2), sqrt(0.5), 1e-15);
        /* Session 3: Z alone: no SD. */
        CHECK(c3->n == 1);
        CHECK(isnan(digest_cell_sd(c3)));
        long total = 0;
        for (int k = 1; k <= DIGEST_MAX_SESSION; k++)
            total += d->traj[0][k].n;
        CHECK(total == 5);   /* session 31 is left out */
        /* Adverse: X any (1), Y none (0), Z no cell says (-1). */
        CHECK(d->adverse_any == 1);
        CHECK(d->n_patients == 3);
        CHECK(d->adverse[0] == 1 && d->adverse[1] == 0 && d->adverse[2] == -1);
        dataset_free(&ds);
        free(rej);
        free(s.seen);
    }
}

int main(void)
{
    test_differential();
    CHECK(mapped_seen == 0);   /* these inputs are far below BIGARR_MAP_MIN */
    /* Again with every array of 4 KiB or more in a mapping (two threads grow theirs at
     * once): the same records, and every mapping released. */
    bigarr_tune(4096, 2 << 20);
    test_differential();
    bigarr_tune(0, 0);
    CHECK(mapped_seen > 60);
    CHECK(bigarr_live() == 0);
    test_ungrouped();
    test_long_patient();
    test_digest_by_hand();
    return TEST_END("test_stream");
}
