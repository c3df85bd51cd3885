/* test_plan.c — the planning mode (plan.h): the row arithmetic against hand calculations,
 * the error rates a null effect must give, power under a large effect, determinism, that a
 * replicate is the simulator's data with seed + r, and the CLI's refusals. */
#define _GNU_SOURCE   /* open_memstream */
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "audit.h"
#include "claims.h"
#include "harness.h"
#include "plan.h"
#include "simulate.h"

static const char HEADER[] = "id\tsource\tseed\tquote\tinstrument\tstatistic\tparam\tsubgroup\t"
                             "comparison\tvalue\tvalue_lo\tvalue_hi\treading\tneeds\n";

static int registry(const char *rows, struct claim_set *cs)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s%s", HEADER, rows);
    struct out_error e = {0};
    claim_set_init(cs);
    return claims_parse("mem.tsv", buf, strlen(buf), cs, &e);
}

/* Options for one cohort size: the simulator's defaults otherwise. */
static struct plan_opts opts(long patients, long reps)
{
    struct plan_opts o;
    memset(&o, 0, sizeof o);
    o.sim = sim_params_default();
    o.patients[0] = patients;
    o.n_sizes = 1;
    o.reps = reps;
    return o;
}

/* plan_run into a string (caller frees); NULL on failure, with *rc set. */
static char *plan_text(const struct plan_opts *o, const struct claim_set *cs, int *rc)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp)
        return NULL;
    struct out_error e = {0};
    *rc = plan_run(o, cs, fp, &e);
    fclose(fp);
    if (*rc) {
        free(buf);
        return NULL;
    }
    return buf;
}

/* Field k (0-based) of the line of text starting with prefix, into out. */
static int field_of(const char *text, const char *prefix, int k, char *out, size_t n)
{
    const char *l = text;
    size_t pl = strlen(prefix);
    while (l && strncmp(l, prefix, pl) != 0) {
        l = strchr(l, '\n');
        if (l)
            l++;
    }
    if (!l)
        return -1;
    for (int i = 0; i < k; i++) {
        l = strpbrk(l, ",\n");
        if (!l || *l == '\n')
            return -1;
        l++;
    }
    size_t m = strcspn(l, ",\n");
    if (m >= n)
        return -1;
    memcpy(out, l, m);
    out[m] = '\0';
    return 0;
}

static long count_of(const char *text, const char *prefix, int k)
{
    char f[64];
    return field_of(text, prefix, k, f, sizeof f) ? -1 : atol(f);
}

/* Columns: 5 supported, 6 contradicted, 7 inconclusive, 8 insufficient, 9 not auditable,
 * 10-12 share/lo/hi supported, 13-15 contradicted, 16 median estimate. */
static void test_row_arithmetic(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    CHECK(fp != NULL);
    if (!fp)
        return;
    /* 5 supported and 0 contradicted of 200. Wilson 95% for 5/200, z = 1.959964, z^2 =
     * 3.841459: denominator 1 + z^2/200 = 1.0192073; centre (0.025 + z^2/400) / 1.0192073
     * = 0.0339513; half-width z sqrt(0.025 * 0.975 / 200 + z^2 / 160000) / 1.0192073
     * = 1.959964 * 0.0120782 / 1.0192073 = 0.0232271; so 0.0107242 to 0.0571784.
     * For 0/200 the interval is 0 to z^2 / (200 + z^2) = 0.0188459. */
    long count[V__COUNT] = {5, 0, 190, 3, 2};
    double est[4] = {3, 1, 4, 2};
    CHECK(plan_write_row(fp, 100, "A,1", "reach", "share_reaching_pct", count, 200, est, 4) ==
          0);
    double est3[3] = {9, -1, 5};
    CHECK(plan_write_row(fp, 100, "B", "", "median_pct_improvement", count, 200, est3, 3) == 0);
    CHECK(plan_write_row(fp, 100, "C", "", "not_auditable", count, 200, NULL, 0) == 0);
    fclose(fp);
    /* The id holding a comma is quoted, so the other fields stay in place. */
    CHECK(strncmp(buf, "100,\"A,1\",reach,share_reaching_pct,200,5,0,190,3,2,0.025,", 57) == 0);
    char f[64];
    const char *a = strstr(buf, "\"A,1\"");
    /* Re-read the first row with its quoted id replaced, to index fields simply. */
    char row[512];
    snprintf(row, sizeof row, "100,A1%s", a ? a + 5 : "");
    CHECK(field_of(row, "100,A1", 11, f, sizeof f) == 0 && fabs(atof(f) - 0.0107242) < 1e-6);
    CHECK(field_of(row, "100,A1", 12, f, sizeof f) == 0 && fabs(atof(f) - 0.0571784) < 1e-6);
    CHECK(field_of(row, "100,A1", 13, f, sizeof f) == 0 && strcmp(f, "0") == 0);
    CHECK(field_of(row, "100,A1", 14, f, sizeof f) == 0 && strcmp(f, "0") == 0);
    CHECK(field_of(row, "100,A1", 15, f, sizeof f) == 0 && fabs(atof(f) - 0.0188459) < 1e-6);
    /* Median of 1 2 3 4 is 2.5; of -1 5 9 it is 5; no estimate leaves the field empty. */
    CHECK(field_of(row, "100,A1", 16, f, sizeof f) == 0 && strcmp(f, "2.5") == 0);
    CHECK(field_of(buf, "100,B,", 16, f, sizeof f) == 0 && strcmp(f, "5") == 0);
    CHECK(field_of(buf, "100,C,", 16, f, sizeof f) == 0 && strcmp(f, "") == 0);
    free(buf);
}

static const char DIFF_ROWS[] =
    "D0\ts\tx\tq\tpain\tmean_pct_improvement\t\tvs=control\tge\t0\t\t\tr\t\n"
    "R0\ts\tx\tq\tpain\tresponder_share_pct\t30\tvs=control\tge\t0\t\t\tr\t\n";

/* With no treatment effect the two arms are the same population, so "treatment at least as
 * good as control" is supported only when the 95% interval lies above 0 by chance: about
 * 2.5% of data sets (and contradicted, lying below, as often). Of 200 data sets that is 5
 * expected; 13 or more has probability 0.0015 under Binomial(200, 0.025), so more would
 * mean the intervals are too narrow. None at all in 400 chances (0.975^400 = 4e-5) would
 * mean they are too wide. */
static void test_null_error_rate(void)
{
    struct claim_set cs;
    CHECK(registry(DIFF_ROWS, &cs) == 0);
    struct plan_opts o = opts(100, 200);
    o.sim.effect = 0;
    o.sim.control = 0.5;
    o.sim.seed = 1000;
    int rc = -1;
    char *t = plan_text(&o, &cs, &rc);
    CHECK(rc == 0 && t);
    if (t) {
        for (int i = 0; i < 2; i++) {
            const char *pre = i ? "100,R0," : "100,D0,";
            long sup = count_of(t, pre, 5), con = count_of(t, pre, 6);
            CHECK(sup >= 0 && sup <= 12);
            CHECK(con >= 0 && con <= 12);
            CHECK(sup + con >= 1);
            CHECK(sup + con + count_of(t, pre, 7) == 200);   /* the rest inconclusive */
        }
    }
    free(t);
    claim_set_free(&cs);
}

/* An effect of 1 SD with 100 patients an arm: the treatment arm's mean percent improvement
 * and responder share are clearly above the control's in every data set. At 20 patients
 * (about 10 an arm) the audit has too few to judge. The sizes come in the order given. */
static void test_power_and_sizes(void)
{
    struct claim_set cs;
    CHECK(registry(DIFF_ROWS, &cs) == 0);
    struct plan_opts o = opts(20, 20);
    o.sim.effect = 1.0;
    o.sim.control = 0.5;
    o.patients[1] = 200;
    o.n_sizes = 2;
    int rc = -1;
    char *t = plan_text(&o, &cs, &rc);
    CHECK(rc == 0 && t);
    if (t) {
        CHECK(strncmp(t, "patients,claim,part,statistic,reps,supported,", 45) == 0);
        CHECK(count_of(t, "200,D0,", 5) == 20);
        CHECK(count_of(t, "200,R0,", 5) == 20);
        /* 20 patients, 10 an arm: below the audit's minimum of 20 per arm. */
        CHECK(count_of(t, "20,D0,", 8) == 20);
        const char *a = strstr(t, "\n20,D0,"), *b = strstr(t, "\n200,D0,");
        CHECK(a && b && a < b);
        char f[64];
        CHECK(field_of(t, "200,D0,", 3, f, sizeof f) == 0 &&
              strcmp(f, "mean_pct_improvement_diff") == 0);
        /* Determinism: the same options give the same bytes. */
        char *t2 = plan_text(&o, &cs, &rc);
        CHECK(t2 && strcmp(t, t2) == 0);
        free(t2);
    }
    free(t);
    claim_set_free(&cs);
}

/* Replicate r is the simulator's output for seed + r: a plan of one replicate at seed 7 + 2
 * agrees with a plan started at seed 9, and the third replicate of a plan from seed 7
 * changes the tally only by that data set's verdict (seen through a share claim whose
 * verdict varies between seeds). */
static void test_seeds(void)
{
    struct claim_set cs;
    CHECK(registry("S\ts\tx\tq\tpain\tresponder_share_pct\t30\t\tge\t62\t\t\tr\t\n", &cs) == 0);
    struct plan_opts o = opts(150, 1);
    long sup[12];
    int rc = -1;
    for (int s = 0; s < 12; s++) {   /* one replicate per seed 7 .. 18 */
        o.sim.seed = 7 + (unsigned long)s;
        o.reps = 1;
        char *t = plan_text(&o, &cs, &rc);
        sup[s] = t ? count_of(t, "150,S,", 5) : -1;
        free(t);
    }
    long total = 0, varied = 0;
    for (int s = 0; s < 12; s++) {
        CHECK(sup[s] == 0 || sup[s] == 1);
        total += sup[s];
        varied |= sup[s] != sup[0];
    }
    CHECK(varied);   /* else this claim cannot tell the seeds apart */
    o.sim.seed = 7;
    o.reps = 12;
    char *t = plan_text(&o, &cs, &rc);
    CHECK(t && count_of(t, "150,S,", 5) == total);
    free(t);
    claim_set_free(&cs);
}

/* The progress callback: once per replicate, sizes in order, done counting 1 .. reps. */
struct calls {
    long n, bad;
    size_t size_i;
    long done;
};

static void record_call(void *ctx, size_t size_i, long done)
{
    struct calls *c = ctx;
    long want_done = c->size_i == size_i ? c->done + 1 : 1;
    if (!(size_i == c->size_i || size_i == c->size_i + 1) || done != want_done)
        c->bad++;
    c->n++;
    c->size_i = size_i;
    c->done = done;
}

static void test_progress(void)
{
    struct claim_set cs;
    CHECK(registry(DIFF_ROWS, &cs) == 0);
    struct plan_opts o = opts(30, 3);
    o.patients[1] = 40;
    o.n_sizes = 2;
    int rc = -1;
    char *plain = plan_text(&o, &cs, &rc);
    struct calls c = {0};
    o.progress = record_call;
    o.progress_ctx = &c;
    char *t = plan_text(&o, &cs, &rc);
    CHECK(rc == 0 && c.n == 6 && c.bad == 0 && c.size_i == 1 && c.done == 3);
    CHECK(plain && t && strcmp(plain, t) == 0);   /* the table does not change */
    free(plain);
    free(t);
    claim_set_free(&cs);
}

/* Replicates run on several threads give the same table to the byte as one at a time, and
 * the progress calls stay in order. The claims sit near the simulated values (about 55%
 * responders, a median improvement about 40%), so verdicts and estimates vary between data
 * sets: a replicate run twice or not at all, or a result in another's slot, would change the
 * counts or the medians. */
static void test_threads(void)
{
    struct claim_set cs;
    CHECK(registry("S55\ts\tx\tq\tpain\tresponder_share_pct\t30\t\tge\t55\t\t\tr\t\n"
                   "M45\ts\tx\tq\tpain\tmedian_pct_improvement\t\t\tge\t45\t\t\tr\t\n",
                   &cs) == 0);
    struct plan_opts o = opts(40, 11);
    o.patients[1] = 90;
    o.n_sizes = 2;
    int rc = -1;
    char *one = plan_text(&o, &cs, &rc);
    CHECK(rc == 0 && one);
    /* Mixed verdicts at 90 patients: the median claim is contradicted in some data sets and
     * inconclusive in the others (3 and 8 with these seeds). */
    long con = one ? count_of(one, "90,M45,", 6) : -1, inc = one ? count_of(one, "90,M45,", 7) : -1;
    CHECK(con > 0 && inc > 0 && con + inc == 11);
    const int nthreads[] = {2, 3, 8, 64};
    for (size_t k = 0; k < sizeof nthreads / sizeof nthreads[0]; k++) {
        o.threads = nthreads[k];
        struct calls c = {0};
        o.progress = record_call;
        o.progress_ctx = &c;
        char *t = plan_text(&o, &cs, &rc);
        CHECK(rc == 0 && t && one && strcmp(one, t) == 0);
        CHECK(c.n == 22 && c.bad == 0 && c.size_i == 1 && c.done == 11);
        free(t);
    }
    /* The counts are those of the 11 data sets run one by one (a plan of one replicate at
     * seed 1 + r runs only replicate 0, on the calling thread). */
    long by_one[2] = {0, 0};
    for (long r = 0; r < 11; r++) {
        struct plan_opts or = opts(90, 1);
        or.sim.seed = o.sim.seed + (unsigned long)r;
        char *t = plan_text(&or, &cs, &rc);
        by_one[0] += t ? count_of(t, "90,M45,", 6) : 100;
        by_one[1] += t ? count_of(t, "90,M45,", 7) : 100;
        free(t);
    }
    CHECK(by_one[0] == con && by_one[1] == inc);
    /* More threads than replicates. */
    struct plan_opts o1 = opts(30, 1);
    char *a = plan_text(&o1, &cs, &rc);
    o1.threads = 4;
    char *b = plan_text(&o1, &cs, &rc);
    CHECK(a && b && strcmp(a, b) == 0);
    free(a);
    free(b);
    free(one);
    claim_set_free(&cs);
}

static void test_invalid(void)
{
    struct claim_set cs;
    CHECK(registry(DIFF_ROWS, &cs) == 0);
    struct plan_opts o = opts(10, 0);
    int rc = 0;
    CHECK(plan_text(&o, &cs, &rc) == NULL && rc == OUT_EUSAGE);
    o.reps = 1;
    o.n_sizes = 0;
    CHECK(plan_text(&o, &cs, &rc) == NULL && rc == OUT_EUSAGE);
    o.n_sizes = 1;
    o.patients[0] = 0;
    CHECK(plan_text(&o, &cs, &rc) == NULL && rc == OUT_EUSAGE);
    /* A simulator parameter out of range is the simulator's usage error, with the seed. */
    o.patients[0] = 10;
    o.sim.months = 0;
    CHECK(plan_text(&o, &cs, &rc) == NULL && rc == OUT_EUSAGE);
    /* Seeds seed .. seed + reps - 1 must stay in 1..2^32 - 1 (GSL's mt19937 keeps 32 bits and
     * takes 0 as 4357): the last seed itself is fine, one past it is not, nor is 0. */
    o.sim = sim_params_default();
    o.patients[0] = 5;
    o.sim.seed = 4294967295UL;
    o.reps = 1;
    char *t = plan_text(&o, &cs, &rc);
    CHECK(t != NULL && rc == 0);
    free(t);
    o.reps = 2;
    CHECK(plan_text(&o, &cs, &rc) == NULL && rc == OUT_EUSAGE);
    o.sim.seed = 4294967294UL;
    t = plan_text(&o, &cs, &rc);
    CHECK(t != NULL && rc == 0);
    free(t);
    o.sim.seed = 0;
    o.reps = 1;
    CHECK(plan_text(&o, &cs, &rc) == NULL && rc == OUT_EUSAGE);
    claim_set_free(&cs);
}

/* A write error names the output and the write's cause: at the header (unbuffered) and at
 * the final flush (buffered), to /dev/full, which takes no bytes (ENOSPC). */
static void test_write_error(void)
{
    struct claim_set cs;
    CHECK(registry(DIFF_ROWS, &cs) == 0);
    struct plan_opts o = opts(10, 2);
    for (int buffered = 0; buffered < 2; buffered++) {
        FILE *fp = fopen("/dev/full", "w");
        CHECK(fp != NULL);
        if (!fp)
            break;
        if (!buffered)
            setvbuf(fp, NULL, _IONBF, 0);
        o.out_name = buffered ? "plan.csv" : NULL;
        struct out_error e = {0};
        CHECK(plan_run(&o, &cs, fp, &e) == OUT_EIO);
        CHECK_STR(e.file, buffered ? "plan.csv" : "standard output");
        CHECK_CONTAINS(e.msg, strerror(ENOSPC));
        fclose(fp);
    }
    claim_set_free(&cs);
}

static int cli(const char *const *args)
{
    char *argv[16] = {(char *)"simulate"};
    int argc = 1;
    while (argc < 15 && args[argc - 1])
        argv[argc] = (char *)args[argc - 1], argc++;
    argv[argc] = NULL;
    return simulate_cli(argc, argv);
}

static void test_cli(void)
{
    char reg[] = "/tmp/test_plan_reg_XXXXXX";
    int fd = mkstemp(reg);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "%s%s", HEADER, DIFF_ROWS);
    fclose(fp);
    char out[] = "/tmp/test_plan_out_XXXXXX";
    fd = mkstemp(out);
    CHECK(fd >= 0);
    if (fd >= 0)
        close(fd);
    const char *ok[] = {"--plan", reg, "--patients", "40,80", "--reps", "3", "--control",
                        "0.5", "-o", out, NULL};
    CHECK(cli(ok) == OUT_OK);
    fp = fopen(out, "r");
    char line[512];
    int n = 0;
    while (fp && fgets(line, sizeof line, fp))
        n++;
    if (fp)
        fclose(fp);
    CHECK(n == 1 + 2 * 2);   /* header, two claims at two sizes */

    const char *bad_size[] = {"--plan", reg, "--patients", "40,x", NULL};
    CHECK(cli(bad_size) == OUT_EUSAGE);
    const char *empty_size[] = {"--plan", reg, "--patients", "40,,80", NULL};
    CHECK(cli(empty_size) == OUT_EUSAGE);
    const char *list_no_plan[] = {"--patients", "40,80", NULL};
    CHECK(cli(list_no_plan) == OUT_EUSAGE);
    const char *reps_no_plan[] = {"--reps", "3", NULL};
    CHECK(cli(reps_no_plan) == OUT_EUSAGE);
    const char *reps_zero[] = {"--plan", reg, "--reps", "0", NULL};
    CHECK(cli(reps_zero) == OUT_EUSAGE);
    const char *threads_no_plan[] = {"--threads", "2", NULL};
    CHECK(cli(threads_no_plan) == OUT_EUSAGE);
    const char *threads_zero[] = {"--plan", reg, "--threads", "0", NULL};
    CHECK(cli(threads_zero) == OUT_EUSAGE);
    const char *threads_many[] = {"--plan", reg, "--threads", "65", NULL};
    CHECK(cli(threads_many) == OUT_EUSAGE);
    const char *no_registry[] = {"--plan", "/nonexistent/claims.tsv", "--reps", "1", NULL};
    int rc = cli(no_registry);
    CHECK(rc == OUT_EIO || rc == OUT_EINPUT);
    remove(reg);
    remove(out);
}

int main(void)
{
    test_row_arithmetic();
    test_null_error_rate();
    test_power_and_sizes();
    test_seeds();
    test_progress();
    test_threads();
    test_invalid();
    test_write_error();
    test_cli();
    return TEST_END("test_plan");
}
