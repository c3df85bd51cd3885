/* plan.c — see plan.h. */
#define _GNU_SOURCE   /* open_memstream */
#include "plan.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "cohort.h"
#include "dataset.h"
#include "digest.h"
#include "escape.h"
#include "ingest.h"
#include "patient.h"
#include "stats.h"

/* The tally of one audit row over the replicates of one size. */
struct tally {
    const char *claim, *part, *statistic;   /* from the first replicate's row */
    char part_buf[8];
    long count[V__COUNT];
    double *est;                            /* reps slots; n_est used */
    size_t n_est;
};

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void put_num(FILE *out, double v)
{
    char buf[DATASET_NUM_MAX];
    if (isfinite(v)) {
        dataset_fmt_num(buf, v);
        fputs(buf, out);
    }
}

int plan_write_row(FILE *out, long patients, const char *claim, const char *part,
                   const char *statistic, const long *count, long reps, double *est,
                   size_t n_est)
{
    fprintf(out, "%ld,", patients);
    esc_csv(out, claim);
    fputc(',', out);
    esc_csv(out, part);
    fputc(',', out);
    esc_csv(out, statistic);
    fprintf(out, ",%ld", reps);
    for (int v = 0; v < V__COUNT; v++)
        fprintf(out, ",%ld", count[v]);
    /* The Monte Carlo share and its 95% Wilson interval, for supported and contradicted. */
    const enum verdict shown[2] = {V_SUPPORTED, V_CONTRADICTED};
    for (int i = 0; i < 2; i++) {
        double lo = NAN, hi = NAN;
        if (stats_prop_wilson(count[shown[i]], reps, 0.95, &lo, &hi) != 0)
            lo = hi = NAN;
        fputc(',', out);
        put_num(out, (double)count[shown[i]] / (double)reps);
        fputc(',', out);
        put_num(out, lo);
        fputc(',', out);
        put_num(out, hi);
    }
    fputc(',', out);
    if (n_est) {
        qsort(est, n_est, sizeof *est, cmp_double);
        put_num(out, n_est % 2 ? est[n_est / 2] : (est[n_est / 2 - 1] + est[n_est / 2]) / 2);
    }
    fputc('\n', out);
    return ferror(out) ? -1 : 0;
}

/* One replicate: simulate, ingest, per-patient, audit, exactly as `outcomes run` does with
 * its defaults. Fills *ar. */
static int replicate(const struct sim_params *sp, const struct claim_set *cs,
                     struct audit_result *ar, struct out_error *e)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&buf, &len);
    if (!mem)
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    int rc = simulate_write(sp, mem, e);
    if (fclose(mem) != 0 && !rc)
        rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    if (rc) {
        free(buf);
        return rc;
    }
    struct ingest_opts io;
    ingest_opts_default(&io);
    /* The data are read as on the window's last day, not today: a study still to start
     * (a window that runs past today) would otherwise lose its later visits as future. */
    long first, last;
    if ((rc = simulate_window(sp, &first, &last, e)) != 0) {
        free(buf);
        return rc;
    }
    io.today = (int32_t)last;
    struct patient_opts po;
    patient_opts_default(&po);
    struct cohort_opts co;
    cohort_opts_default(&co);
    struct audit_opts ao;
    audit_opts_default(&ao);
    /* As main passes them: the audit's intervals are the cohort table's. */
    ao.seed = co.seed;
    ao.boot_reps = co.boot_reps;
    ao.large_n = co.boot_max_n + 1;

    struct dataset ds;
    struct patient_set ps = {0};
    dataset_init(&ds);
    rc = ingest_buffer("simulated", buf, len, &io, &ds, NULL, e);
    free(buf);
    if (!rc)
        rc = patient_compute(&ds, &po, &ps, e);
    if (!rc && !ds.digest && digest_attach(&ds))
        rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    if (!rc)
        rc = audit_run(cs, &ds, &ps, &ao, ar, e);
    patient_set_free(&ps);
    dataset_free(&ds);
    return rc;
}

static int decided(unsigned v)
{
    return v == V_SUPPORTED || v == V_CONTRADICTED || v == V_INCONCLUSIVE;
}

static void tallies_free(struct tally *t, size_t n)
{
    for (size_t i = 0; t && i < n; i++)
        free(t[i].est);
    free(t);
}

/* replicate into a fresh *ar, its error message naming the size and seed. */
static int replicate_named(const struct sim_params *sp, const struct claim_set *cs,
                           struct audit_result *ar, struct out_error *e)
{
    audit_result_free(ar);
    audit_result_init(ar);
    int rc = replicate(sp, cs, ar, e);
    if (rc) {
        char msg[sizeof e->msg];
        out_error_format(e, msg, sizeof msg);
        rc = out_err(e, rc, NULL, 0, 0, "replicate with %ld patients, seed %lu: %s",
                     sp->patients, sp->seed, msg);
    }
    return rc;
}

/* The replicates of one size, shared by the threads that run them. Replicate 0 runs first,
 * alone: it gives the number of audit rows n. The others are handed out in order; each
 * writes its verdicts and estimates into its own slots, so the tally, made afterwards in
 * replicate order, is the same bytes whatever the number of threads. */
struct size_run {
    const struct plan_opts *o;
    const struct claim_set *cs;
    size_t size_i, n;
    unsigned char *verdict;      /* reps * n */
    double *est;                 /* reps * n; NAN when the replicate had none */
    pthread_mutex_t mu;
    long next, done;             /* replicates handed out, finished */
    long err_r;                  /* the first failing replicate, or -1 */
    int err_rc;
    struct out_error err;
};

/* Run replicate r into its slots. Returns 0 or an error (*e set). */
static int run_one(struct size_run *sr, long r, struct audit_result *ar, struct out_error *e)
{
    const struct plan_opts *o = sr->o;
    struct sim_params sp = o->sim;
    sp.patients = o->patients[sr->size_i];
    sp.seed = o->sim.seed + (unsigned long)r;
    int rc = replicate_named(&sp, sr->cs, ar, e);
    if (rc)
        return rc;
    if (ar->n != sr->n)   /* the audit gives one row per claim (two for "up to") */
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0,
                       "replicate with %ld patients, seed %lu: %zu audit rows, not %zu",
                       sp.patients, sp.seed, ar->n, sr->n);
    for (size_t i = 0; i < sr->n; i++) {
        sr->verdict[(size_t)r * sr->n + i] = (unsigned char)ar->row[i].verdict;
        sr->est[(size_t)r * sr->n + i] = ar->row[i].est;
    }
    return 0;
}

static void *size_worker(void *arg)
{
    struct size_run *sr = arg;
    struct audit_result ar;
    audit_result_init(&ar);
    for (;;) {
        pthread_mutex_lock(&sr->mu);
        long r = sr->err_rc ? sr->o->reps : sr->next++;
        pthread_mutex_unlock(&sr->mu);
        if (r >= sr->o->reps)
            break;
        struct out_error e = {0};
        int rc = run_one(sr, r, &ar, &e);
        pthread_mutex_lock(&sr->mu);
        if (rc && (!sr->err_rc || r < sr->err_r)) {
            sr->err_rc = rc;
            sr->err_r = r;
            sr->err = e;
        }
        if (!rc && sr->o->progress)
            sr->o->progress(sr->o->progress_ctx, sr->size_i, ++sr->done);
        pthread_mutex_unlock(&sr->mu);
    }
    audit_result_free(&ar);
    return NULL;
}

/* Every replicate of one size, tallied into t[0 .. *n_rows). */
static int one_size(const struct plan_opts *o, size_t size_i, const struct claim_set *cs,
                    struct audit_result *ar, struct tally **tp, size_t *n_rows,
                    struct out_error *e)
{
    struct size_run sr = {.o = o, .cs = cs, .size_i = size_i, .next = 1, .done = 1,
                          .err_r = -1};
    /* Replicate 0 on this thread: its rows name the tally's rows. */
    struct sim_params sp = o->sim;
    sp.patients = o->patients[size_i];
    int rc = replicate_named(&sp, cs, ar, e);
    if (rc)
        return rc;
    size_t n = sr.n = ar->n;
    size_t slots = (size_t)o->reps * (n ? n : 1);
    struct tally *t = calloc(n ? n : 1, sizeof *t);
    sr.verdict = malloc(slots);
    sr.est = malloc(slots * sizeof *sr.est);
    for (size_t i = 0; t && i < n; i++)
        if (!(t[i].est = malloc((size_t)o->reps * sizeof *t[i].est)))
            break;
    if (!t || !sr.verdict || !sr.est || (n && !t[n - 1].est)) {
        tallies_free(t, n);
        free(sr.verdict);
        free(sr.est);
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    }
    for (size_t i = 0; i < n; i++) {
        t[i].claim = ar->row[i].claim->id;
        snprintf(t[i].part_buf, sizeof t[i].part_buf, "%s", ar->row[i].part);
        t[i].part = t[i].part_buf;
        t[i].statistic = claim_stat_defs[ar->row[i].stat].name;
        sr.verdict[i] = (unsigned char)ar->row[i].verdict;
        sr.est[i] = ar->row[i].est;
    }
    if (o->progress)
        o->progress(o->progress_ctx, size_i, 1);

    /* The rest on up to o->threads threads, this one included. */
    pthread_mutex_init(&sr.mu, NULL);
    pthread_t th[PLAN_MAX_THREADS];
    size_t extra = 0, want = o->threads > 1 ? (size_t)o->threads - 1 : 0;
    if (want > PLAN_MAX_THREADS)
        want = PLAN_MAX_THREADS;
    if ((long)want > o->reps - 1)
        want = (size_t)(o->reps - 1);
    while (extra < want && pthread_create(&th[extra], NULL, size_worker, &sr) == 0)
        extra++;   /* a thread that cannot start leaves its share to the others */
    size_worker(&sr);
    for (size_t k = 0; k < extra; k++)
        pthread_join(th[k], NULL);
    pthread_mutex_destroy(&sr.mu);
    if ((rc = sr.err_rc) != 0) {
        *e = sr.err;
    } else {
        for (long r = 0; r < o->reps; r++)
            for (size_t i = 0; i < n; i++) {
                size_t k = (size_t)r * n + i;
                if (sr.verdict[k] < V__COUNT)
                    t[i].count[sr.verdict[k]]++;
                /* Only a data set the audit decided on: an insufficient one's estimate can
                 * rest on one or two patients and would pull the median anywhere. */
                if (decided(sr.verdict[k]) && isfinite(sr.est[k]))
                    t[i].est[t[i].n_est++] = sr.est[k];
            }
    }
    free(sr.verdict);
    free(sr.est);
    if (rc) {
        tallies_free(t, n);
        return rc;
    }
    *tp = t;
    *n_rows = n;
    return 0;
}

/* errno as the failed write left it: nothing between the failure and here resets it, but
 * a stream can fail without a system call (then errno is 0 and we say so). */
static int write_error(const struct plan_opts *o, struct out_error *e)
{
    int err = errno;
    return out_err(e, OUT_EIO, o->out_name ? o->out_name : "standard output", 0, 0,
                   "write error: %s", err ? strerror(err) : "unknown cause");
}

int plan_run(const struct plan_opts *o, const struct claim_set *cs, FILE *out,
             struct out_error *e)
{
    if (o->n_sizes < 1 || o->n_sizes > PLAN_MAX_SIZES)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "from 1 to %d cohort sizes, not %zu",
                       PLAN_MAX_SIZES, o->n_sizes);
    if (o->reps < 1 || o->reps > 100000)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "replicates: %ld is not in 1..100000",
                       o->reps);
    /* Replicate r uses seed + r: past the generator's last seed it would repeat a seed. */
    if (o->sim.seed < 1 || o->sim.seed > SIM_SEED_MAX ||
        (unsigned long)(o->reps - 1) > SIM_SEED_MAX - o->sim.seed)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "seeds %lu + 0..%ld: the replicates' seeds must stay in 1..%lu",
                       o->sim.seed, o->reps - 1, (unsigned long)SIM_SEED_MAX);
    for (size_t i = 0; i < o->n_sizes; i++)
        if (o->patients[i] < 1)
            return out_err(e, OUT_EUSAGE, NULL, 0, 0, "cohort size %ld is not >= 1",
                           o->patients[i]);
    /* errno is cleared before each write and a failure is caught at once, so the message
     * gives the write's cause, not that of some call made since. */
    errno = 0;
    if (fputs("patients,claim,part,statistic,reps,supported,contradicted,inconclusive,"
              "insufficient_data,not_auditable,share_supported,supported_lo,supported_hi,"
              "share_contradicted,contradicted_lo,contradicted_hi,median_estimate\n",
              out) == EOF || ferror(out))
        return write_error(o, e);
    struct audit_result ar;
    audit_result_init(&ar);
    int rc = 0;
    for (size_t s = 0; s < o->n_sizes && !rc; s++) {
        struct tally *t = NULL;
        size_t n = 0;
        if ((rc = one_size(o, s, cs, &ar, &t, &n, e)))
            break;
        for (size_t i = 0; i < n && !rc; i++)
            if ((errno = 0, plan_write_row(out, o->patients[s], t[i].claim, t[i].part, t[i].statistic,
                               t[i].count, o->reps, t[i].est, t[i].n_est)))
                rc = write_error(o, e);
        tallies_free(t, n);
    }
    audit_result_free(&ar);
    if (!rc && (errno = 0, fflush(out) != 0 || ferror(out)))
        rc = write_error(o, e);
    return rc;
}
