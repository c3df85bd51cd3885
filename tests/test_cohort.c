/* test_cohort.c — cohort statistics (cohort.c) and cohort.csv.
 *
 * Every dataset is built by hand (struct dataset for covariates, struct pmeasure records
 * filled directly) and every expected number is worked out in the comment beside it or taken
 * from a published table (evidence.md; Newcombe, Stat Med 1998;17:873, Table II), never
 * copied from the program's output. t quantiles are from tables; p-values of t statistics use
 * the closed-form t CDF where one is short, GSL's t CDF otherwise.
 *
 * Instruments are {pain (0-10, lower better, MIC 2), sleep (0-10, higher better, MIC 2)};
 * covariates {clinic, arm, age}. Day numbers: 2026-01-01 is day 10957 (2000-01-01) + 26*365
 * + 7 leap days (2000..2024) = 20454.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>

#include "civil_date.h"
#include "cohort.h"
#include "dataset.h"
#include "harness.h"
#include "instrument.h"
#include "patient.h"

#define NA NAN
enum { JAN15 = 20454 + 14, FEB15 = 20454 + 31 + 14, MAR15 = 20454 + 59 + 14,
       APR15 = 20454 + 90 + 14 };
enum { PAIN = 0, SLEEP = 1 };

static const double Z = 1.959963984540054;   /* normal 0.975 quantile */
/* Student t 0.975 quantiles (tables, 7 digits) */
static const double T1 = 12.706205, T2 = 4.3026527, T4 = 2.7764451, T5 = 2.5705818,
                    T6 = 2.4469119;

static struct instrument_table tab;

static void die_oom(void)
{
    fprintf(stderr, "out of memory building test data\n");
    exit(2);
}

static void ds_make(struct dataset *ds)
{
    static const char *const instr[] = {"pain", "sleep"};
    static const char *const cov[] = {"clinic", "arm", "age"};
    dataset_init(ds);
    instrument_table_builtin(&tab);
    if (dataset_set_instruments(ds, &tab, instr, 2) || dataset_set_covariates(ds, cov, 3))
        die_oom();
}

/* A patient with covariates (NULL = missing); returns its index. */
static uint32_t pat(struct dataset *ds, const char *id, const char *clinic, const char *arm,
                    const char *age)
{
    long p = dataset_patient(ds, id);
    if (p < 0)
        die_oom();
    const char *v[3] = {clinic, arm, age};
    for (size_t c = 0; c < 3; c++) {
        long s = v[c] ? dataset_cov_intern(ds, v[c]) : -1;
        if (v[c] && s < 0)
            die_oom();
        ds->cov_value[(size_t)p * ds->n_cov + c] = v[c] ? (uint32_t)s : UINT32_MAX;
    }
    return (uint32_t)p;
}

/* A record whose computed measures (patient.h accessors) come out as defined: change in the
 * good direction, pct = 100 change / |baseline|, responders at 30/50 %; resp_mic is set for
 * an MIC of 2 points. Everything else is "unknown" until a test sets it: no follow-up, the
 * course ends on its first day, JAN15, at pct. fin = NA makes a single visit. */
static struct pmeasure *rec(struct patient_set *ps, uint32_t p, int instr, double base,
                            double fin)
{
    if (ps->n == ps->cap) {
        size_t ncap = ps->cap ? 2 * ps->cap : 16;
        struct pmeasure *nm = realloc(ps->m, ncap * sizeof *nm);
        if (!nm)
            die_oom();
        ps->m = nm;
        ps->cap = ncap;
    }
    struct pmeasure *m = &ps->m[ps->n++];
    memset(m, 0, sizeof *m);
    m->patient = p;
    m->instr = (uint8_t)instr;
    m->higher_better = instr == SLEEP;
    m->episode = 1;
    m->baseline = base;
    m->final = fin;
    m->n_visits = m->n_attended = isnan(fin) ? 1 : 2;
    m->first_day = m->last_day = JAN15;
    m->resp_mic = (int8_t)(isnan(fin) ? -1 : pm_change(m) >= 2);
    m->rc_cat = RC_UNKNOWN;
    m->sessions_to_response = m->days_to_response = -1;
    for (int w = 0; w < FU__COUNT; w++) {
        m->fu[w] = NA;
        m->fu_day[w] = -1;
    }
    m->immediate = NA;
    m->end_pct = pm_pct(m);
    return m;
}

/* Course end on day (on or after the record's first day). */
static void set_end_day(struct pmeasure *m, int32_t day)
{
    m->end_offset = (int16_t)(day - m->first_day);
}

/* `durable` is computed from the end-of-course pct and the month-12 score: set those so it
 * comes out d (1, 0, -1). 1 needs pct >= 30 at the final visit, taken as the month-12 one;
 * 0 keeps the baseline score at month 12 (pct 0; unknown when the baseline is 0). */
static void set_durable(struct pmeasure *m, int d)
{
    m->end_pct = d < 0 ? NA : 50;
    m->fu[FU_MONTH12] = d == 1 ? m->final : m->baseline;
    m->fu_day[FU_MONTH12] = 365;
}

static void ps_free(struct patient_set *ps)
{
    free(ps->m);
    memset(ps, 0, sizeof *ps);
}

static const struct cohort_group *grp(const struct cohort *c, const char *instr, const char *by,
                                      const char *value)
{
    for (size_t i = 0; i < c->n_groups; i++)
        if (!strcmp(c->group[i].instrument, instr) && !strcmp(c->group[i].by, by) &&
            !strcmp(c->group[i].value, value))
            return &c->group[i];
    return NULL;
}

static const struct cohort_arms *arms(const struct cohort *c, const char *instr,
                                      const char *treatment, const char *control)
{
    for (size_t i = 0; i < c->n_arms; i++)
        if (!strcmp(c->arms[i].instrument, instr) && !strcmp(c->arms[i].treatment, treatment) &&
            !strcmp(c->arms[i].control, control))
            return &c->arms[i];
    return NULL;
}

/* Wilson score limits written out (Brown, Cai & DasGupta 2001, eq. 4), independent of
 * stats.c: centre (p + z^2/2n) / (1 + z^2/n), half-width z sqrt(p q / n + z^2 / 4n^2) / (...). */
static void wilson(double k, double n, double *lo, double *hi)
{
    double p = k / n, d = 1 + Z * Z / n;
    double c = (p + Z * Z / (2 * n)) / d, h = Z * sqrt(p * (1 - p) / n + Z * Z / (4 * n * n)) / d;
    *lo = c - h;
    *hi = c + h;
}

/* Two-sided p of a t statistic with 4 df, closed form: F(t) = 1/2 + (3/4) x (1 - x^2/3),
 * x = t / sqrt(t^2 + 4) (check: F(inf) = 1, F'(0) = 3/8 = the t(4) density at 0). */
static double p_t4(double t)
{
    double x = fabs(t) / sqrt(t * t + 4);
    return 1 - 1.5 * x * (1 - x * x / 3);
}

/* cohort.csv into a string (caller frees). */
static char *csv_of(const struct cohort *c)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    struct out_error e = {0};
    if (!fp)
        die_oom();
    int rc = cohort_write_csv(c, fp, &e);
    fclose(fp);
    CHECK(rc == 0);
    return buf;
}

/* Every line has 9 fields (RFC 4180 quoting), columns n, estimate, lo, hi are empty or a
 * finite number, and "nan"/"inf" appear nowhere. Returns the number of bad lines. */
static int csv_clean(const char *csv)
{
    int bad = 0;
    for (const char *q = csv; *q; q++)
        if ((q[0] == 'n' || q[0] == 'N') && (q[1] == 'a' || q[1] == 'A') &&
            (q[2] == 'n' || q[2] == 'N'))
            bad++;
    const char *line = csv;
    while (*line) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            return bad + 1;   /* last line unterminated */
        char field[9][512];
        int nf = 0, inq = 0;
        size_t fl = 0;
        for (const char *q = line; q <= eol && nf < 9; q++) {
            if (inq) {
                if (*q == '"' && q[1] == '"') {
                    if (fl < 511) field[nf][fl++] = '"';
                    q++;
                } else if (*q == '"') {
                    inq = 0;
                } else if (fl < 511) {
                    field[nf][fl++] = *q;
                }
            } else if (*q == '"') {
                inq = 1;
            } else if (*q == ',' || *q == '\n') {
                field[nf][fl] = '\0';
                nf++;
                fl = 0;
            } else if (fl < 511) {
                field[nf][fl++] = *q;
            }
        }
        if (nf != 9) {
            fprintf(stderr, "bad field count %d: %.*s\n", nf, (int)(eol - line), line);
            bad++;
        } else if (line != csv) {
            for (int f = 4; f <= 7; f++) {
                if (!field[f][0])
                    continue;
                char *end;
                double v = strtod(field[f], &end);
                if (*end || !isfinite(v)) {
                    fprintf(stderr, "bad number '%s': %.*s\n", field[f], (int)(eol - line),
                            line);
                    bad++;
                }
            }
        }
        line = eol + 1;
    }
    return bad;
}

static int has_line(const char *csv, const char *want)
{
    size_t n = strlen(want);
    for (const char *q = csv; (q = strstr(q, want)) != NULL; q++)
        if ((q == csv || q[-1] == '\n') && q[n] == '\n')
            return 1;
    fprintf(stderr, "cohort.csv lacks the line: %s\n", want);
    return 0;
}

/* The row "prefix,n,est,lo,hi,method" with hand-derived numbers printed as cohort.csv
 * prints them (%.10g, empty when undefined). Use only for values known to full precision. */
static int has_row(const char *csv, const char *prefix, size_t n, double est, double lo,
                   double hi, const char *method)
{
    char line[512], x[3][32];
    const double v[3] = {est, lo, hi};
    for (int i = 0; i < 3; i++) {
        x[i][0] = '\0';
        if (isfinite(v[i]))
            snprintf(x[i], sizeof x[i], "%.10g", v[i]);
    }
    snprintf(line, sizeof line, "%s,%zu,%s,%s,%s,%s", prefix, n, x[0], x[1], x[2], method);
    return has_line(csv, line);
}

/* ------------------------------------------------------------------ the main cohort */

/* Pain (lower better), 7 patients; sleep (higher better), 3 of them.
 *   id  clinic  pain        change pct      sessions_to_response  durable  immediate
 *   P0  A       8 -> 4      4      50       2, responded          1        1.5 (3 pairs)
 *   P1  A       6 -> 3      3      50       6, responded          0        0.5 (2 pairs)
 *   P2  A       5 -> 4      1      20       6, censored           0 (*)    -
 *   P3  B       0 -> 0      0      (zero baseline: undefined, excluded from time to response)
 *   P4  B       7 -> 8     -1     -14.29    3, censored           -        -
 *   P5  B       9 (single visit)                                           1.0 (1 pair)
 *   P6  B       4 (single visit)
 *   sleep: P0 3 -> 7, P1 5 -> 6, P2 4 -> 4.
 * (*) P2 does not respond at the end of the course (20%) but does at month 12 (5 -> 3,
 * 40%): not durable, and not among the end-of-course responders who kept it (P0 kept, P1
 * at 6 at month 12 did not): durable 1/3, kept 1/2.
 */
static void build_main(struct dataset *ds, struct patient_set *ps)
{
    ds_make(ds);
    memset(ps, 0, sizeof *ps);
    uint32_t p[7];
    const char *clinic[7] = {"A", "A", "A", "B", "B", "B", "B"};
    for (int i = 0; i < 7; i++) {
        char id[16];
        snprintf(id, sizeof id, "P%d", i);
        p[i] = pat(ds, id, clinic[i], NULL, NULL);
    }
    struct pmeasure *m;
    m = rec(ps, p[0], PAIN, 8, 4);
    m->sessions_to_response = 2, m->responded = 1;
    set_durable(m, 1);   /* 8 -> 4: 50% */
    m->immediate = 1.5, m->n_immediate = 3;
    m = rec(ps, p[0], SLEEP, 3, 7);
    m = rec(ps, p[1], PAIN, 6, 3);
    m->sessions_to_response = 6, m->responded = 1;
    set_durable(m, 0);
    m->immediate = 0.5, m->n_immediate = 2;
    m = rec(ps, p[1], SLEEP, 5, 6);
    m = rec(ps, p[2], PAIN, 5, 4);
    m->sessions_to_response = 6;
    m->end_pct = 20;
    m->fu[FU_MONTH12] = 3;
    m->fu_day[FU_MONTH12] = 365;
    m = rec(ps, p[2], SLEEP, 4, 4);
    rec(ps, p[3], PAIN, 0, 0);
    m = rec(ps, p[4], PAIN, 7, 8);
    m->sessions_to_response = 3;
    m = rec(ps, p[5], PAIN, 9, NA);
    m->immediate = 1.0, m->n_immediate = 1;
    rec(ps, p[6], PAIN, 4, NA);
}

static void test_main_cohort(void)
{
    struct dataset ds;
    struct patient_set ps;
    build_main(&ds, &ps);
    struct cohort_opts o;
    cohort_opts_default(&o);
    static const char *const by[] = {"clinic"};
    o.by = by;
    o.n_by = 1;
    o.min_cell = 4;
    o.boot_reps = 200;   /* the bootstrap itself is tested in test_stats */
    struct cohort c;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    const struct cohort_group *g = &c.group[PAIN];
    CHECK_STR(g->instrument, "pain");
    CHECK_STR(g->by, "");
    CHECK(!g->suppressed);

    /* Complete cases vs single visits: 7 with a baseline, 2 single (P5, P6), 5 complete,
     * 1 zero baseline (P3). Dropout share 2/7. */
    CHECK(g->n_patients == 7);
    CHECK(g->n_single == 2);
    CHECK(g->n_complete == 5);
    CHECK(g->n_zero_baseline == 1);
    CHECK_NEAR(g->dropout_share, 2.0 / 7, 1e-15);

    /* Descriptives over complete cases, pain's own units: baselines 8 6 5 0 7 (mean 26/5,
     * sorted 0 5 6 7 8: median 6, R-7 quartiles at positions 2 and 4: 5 and 7); finals
     * 4 3 4 0 8 (mean 19/5, sorted 0 3 4 4 8: median 4). */
    CHECK(g->baseline.n == 5);
    CHECK_NEAR(g->baseline.mean, 5.2, 1e-14);
    CHECK_NEAR(g->baseline.median, 6, 0);
    CHECK_NEAR(g->baseline.q1, 5, 1e-14);
    CHECK_NEAR(g->baseline.q3, 7, 1e-14);
    CHECK_NEAR(g->final.mean, 3.8, 1e-14);
    CHECK_NEAR(g->final.median, 4, 0);
    CHECK_NEAR(g->final.max, 8, 0);

    /* Mean change: 4 3 1 0 -1, mean 7/5 = 1.4; deviations 2.6 1.6 -.4 -1.4 -2.4, squares
     * sum 17.2, var 17.2/4 = 4.3, se = sqrt(4.3/5); t(.975, 4) = 2.7764451.
     * t = 1.4 / sqrt(.86) = 1.5096588; p by the closed-form t(4) CDF = 0.20564. */
    CHECK(g->change.n == 5);
    CHECK_NEAR(g->change.mean, 1.4, 1e-14);
    CHECK_NEAR(g->change.sd, sqrt(4.3), 1e-13);
    CHECK_NEAR(g->change.lo, 1.4 - T4 * sqrt(4.3 / 5), 1e-6);
    CHECK_NEAR(g->change.hi, 1.4 + T4 * sqrt(4.3 / 5), 1e-6);
    CHECK_NEAR(g->change.p, p_t4(1.4 / sqrt(0.86)), 1e-9);
    CHECK_NEAR(g->change.p, 0.20564, 1e-5);

    /* Percent: defined for P0 50, P1 50, P2 20, P4 -100/7 (P3's zero baseline excluded and
     * counted): n 4, mean (120 - 100/7)/4 = 26.428571, median (20 + 50)/2 = 35.
     * Responders >= 30%: 2/4 (P0, P1), >= 50%: 2/4; MIC (>= 2 points) over the 5 complete
     * cases: 4 and 3 -> 2/5. Wilson 2/4 by the formula. */
    CHECK(g->pct_mean.n == 4);
    CHECK_NEAR(g->pct_mean.est, (120 - 100.0 / 7) / 4, 1e-12);
    CHECK_NEAR(g->pct_median.est, 35, 1e-12);
    CHECK(g->resp30.k == 2 && g->resp30.n == 4);
    CHECK(g->resp50.k == 2 && g->resp50.n == 4);
    CHECK(g->resp_mic.k == 2 && g->resp_mic.n == 5);
    double lo, hi;
    wilson(2, 4, &lo, &hi);
    CHECK_NEAR(g->resp30.p, 0.5, 0);
    CHECK_NEAR(g->resp30.lo, lo, 1e-12);
    CHECK_NEAR(g->resp30.hi, hi, 1e-12);
    CHECK_NEAR(g->resp30.lo, 0.150039, 1e-6);   /* .5 - z sqrt(.0625 + z^2/64) / (1 + z^2/4) */

    /* BOCF: all 7 with a baseline, single visits count 0: 4 3 1 0 -1 0 0, mean 1;
     * deviations 3 2 0 -1 -2 -1 -1, squares 20, var 20/6, se sqrt(20/6/7); t(.975, 6). */
    CHECK(g->bocf.n == 7);
    CHECK_NEAR(g->bocf.mean, 1.0, 1e-14);
    CHECK_NEAR(g->bocf.lo, 1 - T6 * sqrt(20.0 / 6 / 7), 1e-6);
    CHECK_NEAR(g->bocf.hi, 1 + T6 * sqrt(20.0 / 6 / 7), 1e-6);

    /* Immediate effect over every patient with pain_post pairs, the single-visit P5
     * included (it needs no follow-up): 1.5 0.5 1.0, mean 1, sd 0.5, se .5/sqrt 3, t(2). */
    CHECK(g->immediate.n == 3);
    CHECK_NEAR(g->immediate.est, 1.0, 1e-14);
    CHECK_NEAR(g->immediate.lo, 1 - T2 * 0.5 / sqrt(3), 1e-6);
    CHECK_NEAR(g->immediate.hi, 1 + T2 * 0.5 / sqrt(3), 1e-6);

    /* Durable among known only: P0 yes, P1 and P2 no -> 1/3; of the end-of-course
     * responders (P0, P1), P0 kept it -> 1/2. */
    CHECK(g->durable.k == 1 && g->durable.n == 3);
    CHECK(g->kept.k == 1 && g->kept.n == 2);

    /* Kaplan-Meier on P0 2 (event), P4 3 (censored), P1 6 (event), P2 6 (censored); P3 and
     * the single visits are excluded. S: 3/4 after t=2; at t=6 two at risk (one censored at
     * the same time is still at risk), one event: 3/4 * 1/2 = 3/8. Share responded 1 - S:
     * by 3 -> 1/4, by 6 (an event at 6 counts by 6), 8, 12 -> 5/8.
     * CI at 3 (log-log): Greenwood G = 1/(4*3) = 1/12; S^exp(-+z sqrt(G)/|ln S|) gives the
     * S band, and responded = 1 - S flips it: lo = 1 - S^exp(-e), hi = 1 - S^exp(e)
     * (= 0.03945, 0.87205). */
    CHECK(g->km.n == 4);
    CHECK_NEAR(g->km_at[0], 0.25, 1e-14);
    CHECK_NEAR(g->km_at[1], 0.625, 1e-14);
    CHECK_NEAR(g->km_at[2], 0.625, 1e-14);
    CHECK_NEAR(g->km_at[3], 0.625, 1e-14);
    double ee = Z * sqrt(1.0 / 12) / fabs(log(0.75));
    CHECK_NEAR(g->km_at_lo[0], 1 - pow(0.75, exp(-ee)), 1e-9);
    CHECK_NEAR(g->km_at_hi[0], 1 - pow(0.75, exp(ee)), 1e-9);
    CHECK_NEAR(g->km_at_lo[0], 0.03945, 1e-5);
    /* Worst case: events by t over all 7 (dropouts and P3 count as non-responders):
     * by 3: P0 -> 1/7; by 6 (P1 responded at exactly 6), 8, 12: P0, P1 -> 2/7. */
    CHECK_NEAR(g->worst_at[0], 1.0 / 7, 1e-15);
    CHECK_NEAR(g->worst_at[1], 2.0 / 7, 1e-15);
    CHECK_NEAR(g->worst_at[3], 2.0 / 7, 1e-15);

    /* Sleep, higher is better: baselines 3 5 4 (mean 4, min 3), finals 7 6 4 (mean 17/3,
     * max 7) in the scale's own units, not flipped. Changes +4 +1 0: mean 5/3; SS of
     * deviations (49 + 4 + 25)/9 = 78/9, var 13/3; SRM d_z = (5/3)/sqrt(13/3) = 0.80064,
     * positive because sleep improved. pct 400/3, 20, 0 -> responders 1/3 (20% is not). */
    const struct cohort_group *s = &c.group[SLEEP];
    CHECK_STR(s->instrument, "sleep");
    CHECK(s->higher_better == 1);
    CHECK_NEAR(s->baseline.mean, 4, 1e-14);
    CHECK_NEAR(s->baseline.min, 3, 0);
    CHECK_NEAR(s->final.mean, 17.0 / 3, 1e-14);
    CHECK_NEAR(s->final.max, 7, 0);
    CHECK_NEAR(s->change.mean, 5.0 / 3, 1e-14);
    CHECK_NEAR(s->effect.d_z, (5.0 / 3) / sqrt(13.0 / 3), 1e-12);
    CHECK(s->resp30.k == 1 && s->resp30.n == 3);

    /* Subgroups by clinic, min_cell 4. Pain A: P0-P2 (3 < 4): suppressed, numbers kept in
     * the struct but withheld in outputs. Pain B: P3-P6 (4): shown. B's complete cases
     * P3 0, P4 -1: mean -0.5, sd sqrt(.5), se .5, t(.975, 1) = 12.706205; dropouts 2/4.
     * Sleep B has no sleep records: n 0, suppressed, every number NAN. */
    const struct cohort_group *a = grp(&c, "pain", "clinic", "A");
    const struct cohort_group *b = grp(&c, "pain", "clinic", "B");
    const struct cohort_group *sb = grp(&c, "sleep", "clinic", "B");
    CHECK(a && b && sb);
    if (a && b && sb) {
        CHECK(a->suppressed == 1 && a->n_patients == 3);
        CHECK(b->suppressed == 0 && b->n_patients == 4);
        CHECK_NEAR(b->dropout_share, 0.5, 0);
        CHECK(b->n_complete == 2);
        CHECK_NEAR(b->change.mean, -0.5, 1e-15);
        CHECK_NEAR(b->change.lo, -0.5 - T1 * 0.5, 1e-5);
        CHECK_NEAR(b->change.hi, -0.5 + T1 * 0.5, 1e-5);
        CHECK(b->resp30.k == 0 && b->resp30.n == 1);   /* P4 only: P3 has a zero baseline */
        CHECK(sb->n_patients == 0 && sb->suppressed == 1);
        CHECK(isnan(sb->dropout_share) && isnan(sb->change.mean) && isnan(sb->resp30.p));
        CHECK(isnan(sb->km_at[0]) && isnan(sb->worst_at[0]));
    }

    /* cohort.csv: header, rows with hand-derived values (%.10g), a suppressed row, the
     * quartile method text quoted because it holds commas, and nothing undefined printed. */
    char *csv = csv_of(&c);
    static const char head[] = "instrument,by,value,statistic,n,estimate,lo,hi,method\n";
    CHECK(strncmp(csv, head, sizeof head - 1) == 0);
    CHECK(has_line(csv, "pain,,,patients,7,7,,,count"));
    CHECK(has_line(csv, "pain,,,dropout_share,7,0.2857142857,,,"
                        "single-visit patients / patients with a baseline"));
    CHECK(has_line(csv, "pain,,,baseline_median,5,6,5,7,\"median (lo, hi = quartiles, R type 7)\""));
    CHECK(has_row(csv, "pain,,,responder_30", 4, 0.5, lo, hi, "Wilson score"));
    wilson(1, 3, &lo, &hi);
    CHECK(has_row(csv, "pain,,,durable_12m", 3, 1.0 / 3, lo, hi, "Wilson score"));
    wilson(1, 2, &lo, &hi);
    CHECK(has_row(csv, "pain,,,kept_12m", 2, 0.5, lo, hi, "Wilson score"));
    CHECK(has_line(csv, "pain,clinic,A,patients,,,,,suppressed (n below minimum cell size)"));
    CHECK(has_line(csv, "pain,clinic,A,change_mean,,,,,suppressed (n below minimum cell size)"));
    CHECK(has_line(csv, "pain,clinic,B,patients,4,4,,,count"));
    /* t-based limits are known here to the table's 7 digits: compare a prefix */
    CHECK(strstr(csv, "\npain,clinic,B,change_mean,2,-0.5,-6.85310") != NULL);
    CHECK(strstr(csv, "\nsleep,,,change_mean,3,1.666666667,") != NULL);
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);
    cohort_free(&c);   /* freeing twice is harmless: cohort_free leaves it empty */
    ps_free(&ps);
    dataset_free(&ds);
}

/* evidence.md (Brown, Cai & DasGupta 2001): x = 14, n = 20: Wilson 0.481-0.855,
 * Clopper-Pearson 0.457-0.881. 14 patients 10 -> 5 (50%), 6 patients 10 -> 9 (10%). */
static void test_evidence_rates(void)
{
    struct dataset ds;
    struct patient_set ps = {0};
    ds_make(&ds);
    for (int i = 0; i < 20; i++) {
        char id[16];
        snprintf(id, sizeof id, "E%d", i);
        rec(&ps, pat(&ds, id, NULL, NULL, NULL), PAIN, 10, i < 14 ? 5 : 9);
    }
    struct cohort_opts o;
    cohort_opts_default(&o);
    o.boot_reps = 200;
    struct cohort c;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    const struct prop *r = &c.group[PAIN].resp30;
    CHECK(r->k == 14 && r->n == 20);
    CHECK_NEAR(r->p, 0.7, 1e-15);
    CHECK_NEAR(r->lo, 0.481, 5e-4);
    CHECK_NEAR(r->hi, 0.855, 5e-4);
    CHECK_NEAR(r->cp_lo, 0.457, 5e-4);
    CHECK_NEAR(r->cp_hi, 0.881, 5e-4);
    /* responders at 50%: the same 14 (exactly 50% counts) */
    CHECK(c.group[PAIN].resp50.k == 14);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);
}

/* ------------------------------------------------------------------ edge cases */

static void test_edges(void)
{
    struct dataset ds;
    struct patient_set ps = {0};
    struct cohort_opts o;
    struct cohort c;
    struct out_error e = {0};
    cohort_opts_default(&o);
    o.boot_reps = 200;
    double lo, hi;

    /* n = 0: sleep has no records; n = 1: one pain patient 8 -> 5 (change 3, 37.5%). */
    ds_make(&ds);
    rec(&ps, pat(&ds, "only", NULL, NULL, NULL), PAIN, 8, 5);
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    const struct cohort_group *g0 = &c.group[SLEEP], *g1 = &c.group[PAIN];
    CHECK(g0->n_patients == 0 && g0->n_complete == 0);
    CHECK(isnan(g0->dropout_share) && isnan(g0->baseline.mean) && isnan(g0->change.mean));
    CHECK(isnan(g0->bocf.mean) && isnan(g0->immediate.est) && isnan(g0->pct_mean.est));
    CHECK(g0->resp30.n == 0 && isnan(g0->resp30.p) && isnan(g0->resp30.lo));
    /* one value: its mean is defined (3), its interval is not */
    CHECK(g1->change.n == 1);
    CHECK_NEAR(g1->change.mean, 3, 0);
    CHECK(isnan(g1->change.lo) && isnan(g1->change.hi) && isnan(g1->change.p));
    CHECK_NEAR(g1->bocf.mean, 3, 0);
    CHECK_NEAR(g1->pct_mean.est, 37.5, 1e-12);
    /* 1/1 responders: Wilson at k = n is n/(n + z^2) to exactly 1 */
    CHECK(g1->resp30.k == 1 && g1->resp30.n == 1);
    CHECK_NEAR(g1->resp30.lo, 1 / (1 + Z * Z), 1e-12);
    CHECK(g1->resp30.hi == 1.0);
    char *csv = csv_of(&c);
    CHECK(has_line(csv, "sleep,,,patients,0,0,,,count"));
    CHECK(has_line(csv, "sleep,,,change_mean,0,,,,Student t; improvement positive"));
    CHECK(has_line(csv, "pain,,,change_mean,1,3,,,Student t; improvement positive"));
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);

    /* n = 2: changes 1 and 3: mean 2, sd sqrt 2, se 1, t(.975, 1). Both courses end in
     * January, pct 20 and 50: one month, 1/2. p-chart: p-bar .5, sigma sqrt(.25/2) = .353553,
     * .5 -+ 1.06066 clips to [0, 1]; a single month has no moving range, so sigma_z and the
     * Laney limits are undefined and flag nothing. */
    ds_make(&ds);
    rec(&ps, pat(&ds, "a", NULL, NULL, NULL), PAIN, 5, 4);
    rec(&ps, pat(&ds, "b", NULL, NULL, NULL), PAIN, 6, 3);
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK_NEAR(c.group[PAIN].change.mean, 2, 1e-15);
    CHECK_NEAR(c.group[PAIN].change.lo, 2 - T1, 1e-5);
    CHECK_NEAR(c.group[PAIN].change.hi, 2 + T1, 1e-5);
    CHECK(c.n_months == 1);
    if (c.n_months == 1) {
        const struct cohort_month *m = &c.month[0];
        CHECK(m->resp30.k == 1 && m->resp30.n == 2);
        CHECK(m->lcl == 0.0 && m->ucl == 1.0 && !m->out_of_control);
        CHECK(isnan(m->laney_sigma_z) && isnan(m->laney_lcl) && !m->laney_out_of_control);
    }
    CHECK(isnan(c.laney_sigma_z));
    csv = csv_of(&c);
    CHECK(has_line(csv, "pain,month,2026-01,pchart_limits,2,0.5,0,1,p-chart centre and 3-sigma limits"));
    CHECK(has_line(csv, "pain,month,2026-01,laney_limits,2,0.5,,,Laney p' limits"));
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);

    /* All three respond (10 -> 2, 10 -> 3, 10 -> 4): Wilson 3/3 = 3/(3 + z^2) to 1.
     * None respond (10 -> 9, 10 -> 10, 10 -> 8, pct 10, 0, 20): 0 to z^2/(3 + z^2). */
    ds_make(&ds);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "r%d", i);
        rec(&ps, pat(&ds, id, NULL, NULL, NULL), PAIN, 10, 2 + i);
        snprintf(id, sizeof id, "n%d", i);
        rec(&ps, pat(&ds, id, NULL, NULL, NULL), SLEEP, 10, i == 0 ? 9 : i == 1 ? 10 : 8);
    }
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    const struct prop *all = &c.group[PAIN].resp30;
    CHECK(all->k == 3 && all->n == 3 && all->p == 1.0);
    CHECK_NEAR(all->lo, 3 / (3 + Z * Z), 1e-12);
    CHECK(all->hi == 1.0 && all->cp_hi == 1.0);
    /* sleep is higher-better: 10 -> 9 is a worsening (-10%), 10 -> 8 -20%: none respond */
    const struct prop *none = &c.group[SLEEP].resp30;
    CHECK(none->k == 0 && none->n == 3 && none->p == 0.0);
    CHECK(none->lo == 0.0 && none->cp_lo == 0.0);
    CHECK_NEAR(none->hi, Z * Z / (3 + Z * Z), 1e-12);
    wilson(0, 3, &lo, &hi);
    CHECK_NEAR(none->hi, hi, 1e-12);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);

    /* All changes zero (5 -> 5 three times, censored at 4 sessions): mean improvement 0
     * with no interval and no p (sd 0); Wilcoxon has no non-zero difference; 0 responders;
     * no KM events, so the share responded is 0 with a degenerate band (S = 1 before the
     * first event). */
    ds_make(&ds);
    for (int i = 0; i < 3; i++) {
        char id[16];
        snprintf(id, sizeof id, "z%d", i);
        struct pmeasure *m = rec(&ps, pat(&ds, id, NULL, NULL, NULL), PAIN, 5, 5);
        m->sessions_to_response = 4;
    }
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    const struct cohort_group *z = &c.group[PAIN];
    CHECK(z->change.n == 3);
    CHECK(z->change.mean == 0.0 && z->change.sd == 0.0);
    CHECK(isnan(z->change.lo) && isnan(z->change.p));
    CHECK(isnan(z->wilcoxon.p));
    CHECK(z->bocf.mean == 0.0 && isnan(z->bocf.lo));
    CHECK(z->resp30.k == 0 && z->resp30.n == 3);
    CHECK(z->km.n == 3 && z->km.n_events == 0);
    CHECK(z->km_at[1] == 0.0);
    /* No response at all: by session 3, 0 of the 3 followed to 4 responded, so the exact
     * upper limit 1 - 0.025^(1/3) = 0.7075982 (Clopper-Pearson 0/3); by session 6 nobody
     * was followed that far: no limit. */
    CHECK(z->km_at[0] == 0.0 && z->km_at_lo[0] == 0.0);
    CHECK_NEAR(z->km_at_hi[0], 0.7075982, 1e-7);
    CHECK(isnan(z->km_at_hi[1]));
    CHECK(z->worst_at[3] == 0.0);
    CHECK(isnan(z->km.q[1]));
    csv = csv_of(&c);
    CHECK(has_line(csv, "pain,,,change_mean,3,0,,,Student t; improvement positive"));
    CHECK(strstr(csv, ",responded_by_3,3,0,0,0.70759") != NULL);
    CHECK(strstr(csv, "no response: exact limit for 0 of 3 followed") != NULL);
    /* followed to 4 only: by 6 nobody was, and the label says so (no Greenwood CI there) */
    CHECK(strstr(csv, ",responded_by_6,3,0,0,,\"no response, and nobody followed that far\"") ||
          strstr(csv, ",responded_by_6,3,0,0,,no response, and nobody followed that far"));
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);
}

/* ------------------------------------------------------------------ monthly series */

/* Pain, by month of course end (end_day), x responders of n:
 *   2026-01  5/10 (.5)   2026-02  8/20 (.4)   2026-03 10/10 (1.0)   2026-04  6/20 (.3)
 * p-bar = 29/60 = .483333. sigma_i = sqrt(p(1-p)/n_i): n 10 -> .158026, n 20 -> .111741.
 * Limits p-bar -+ 3 sigma_i: n 10 -> .009255 to .957411; n 20 -> .148110 to .818557.
 * March (1.0 > .957411) is out of control; no other month is.
 * Laney: z_i = (p_i - p-bar)/sigma_i = .105468, -.745770, 3.269504, -1.640695; moving ranges
 * .851238, 4.015274, 4.910199, mean 3.258904; sigma_z = 3.258904 / 1.128 = 2.889099.
 * Laney limits p-bar -+ 3 sigma_i sigma_z clip to [0, 1] in every month: none flagged.
 *
 * Sleep (its own series, a gentler one): 20/50 (.40), 25/50 (.50), 22/50 (.44), 27/50 (.54)
 * in January-April: p-bar = 94/200 = .47, sigma = sqrt(.47 .53 / 50) = .0705833;
 * z = -.991736, .425030, -.425030, .991736; moving ranges 1.416766, .850060, 1.416766, mean
 * 1.227864; sigma_z = 1.088532; Laney limits .47 -+ 3 (.0705833)(1.088532) = .239504 to
 * .700496. The p-chart limits .258250 to .681750 hold every month too.
 * Records are given in scrambled month order: the series must come out sorted. */
static void month_records(struct dataset *ds, struct patient_set *ps)
{
    static const struct { int day, n, x, instr; } mon[] = {
        {MAR15, 10, 10, PAIN}, {JAN15, 10, 5, PAIN}, {APR15, 20, 6, PAIN}, {FEB15, 20, 8, PAIN},
        {JAN15, 50, 20, SLEEP}, {FEB15, 50, 25, SLEEP}, {MAR15, 50, 22, SLEEP},
        {APR15, 50, 27, SLEEP},
    };
    int id = 0;
    for (size_t j = 0; j < sizeof mon / sizeof mon[0]; j++)
        for (int i = 0; i < mon[j].n; i++) {
            char s[16];
            snprintf(s, sizeof s, "m%d", id++);
            int resp = i < mon[j].x;
            /* pain 10 -> 5 (50%) or 10 -> 9 (10%); sleep 5 -> 8 (60%) or 5 -> 5 (0%) */
            struct pmeasure *m =
                mon[j].instr == PAIN
                    ? rec(ps, pat(ds, s, NULL, NULL, NULL), PAIN, 10, resp ? 5 : 9)
                    : rec(ps, pat(ds, s, NULL, NULL, NULL), SLEEP, 5, resp ? 8 : 5);
            set_end_day(m, mon[j].day);
        }
}

static const struct cohort_month *month(const struct cohort *c, const char *instr,
                                        const char *mon)
{
    for (size_t j = 0; j < c->n_months; j++)
        if (!strcmp(c->month[j].instrument, instr) && !strcmp(c->month[j].month, mon))
            return &c->month[j];
    return NULL;
}

static void test_months(void)
{
    struct dataset ds;
    struct patient_set ps = {0};
    ds_make(&ds);
    month_records(&ds, &ps);
    struct cohort_opts o;
    cohort_opts_default(&o);
    o.boot_reps = 200;
    struct cohort c;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK(c.n_months == 8);
    static const char *const mons[4] = {"2026-01", "2026-02", "2026-03", "2026-04"};
    for (int j = 0; j < 4; j++) {
        CHECK_STR(c.month[j].instrument, "pain");
        CHECK_STR(c.month[j].month, mons[j]);
        CHECK_STR(c.month[4 + j].instrument, "sleep");
        CHECK_STR(c.month[4 + j].month, mons[j]);
    }
    double pb = 29.0 / 60, s10 = sqrt(pb * (1 - pb) / 10), s20 = sqrt(pb * (1 - pb) / 20);
    double z[4] = {(0.5 - pb) / s10, (0.4 - pb) / s20, (1.0 - pb) / s10, (0.3 - pb) / s20};
    double sz = (fabs(z[1] - z[0]) + fabs(z[2] - z[1]) + fabs(z[3] - z[2])) / 3 / 1.128;
    CHECK_NEAR(sz, 2.889099, 1e-6);   /* the hand value above */
    const struct cohort_month *m1 = month(&c, "pain", "2026-01"),
                              *m2 = month(&c, "pain", "2026-02"),
                              *m3 = month(&c, "pain", "2026-03");
    CHECK(m1 && m2 && m3);
    if (m1 && m2 && m3) {
        CHECK(m1->resp30.k == 5 && m1->resp30.n == 10);
        CHECK_NEAR(m1->centre, pb, 1e-15);
        CHECK_NEAR(m1->lcl, pb - 3 * s10, 1e-14);
        CHECK_NEAR(m1->ucl, pb + 3 * s10, 1e-14);
        CHECK_NEAR(m1->lcl, 0.009255, 1e-6);
        CHECK_NEAR(m2->lcl, pb - 3 * s20, 1e-14);
        CHECK_NEAR(m2->ucl, 0.818557, 1e-6);
        CHECK(m1->out_of_control == 0 && m2->out_of_control == 0);
        CHECK(m3->out_of_control == 1);
        CHECK_NEAR(m3->laney_sigma_z, sz, 1e-12);
        CHECK(m3->laney_lcl == 0.0 && m3->laney_ucl == 1.0);   /* clipped */
        CHECK(m3->laney_out_of_control == 0);
    }
    /* Sleep's own ratio: the struct-level field is the first instrument's (pain's). */
    double ps_ = 0.47, ss = sqrt(0.47 * 0.53 / 50);
    double zs[4] = {(0.40 - ps_) / ss, (0.50 - ps_) / ss, (0.44 - ps_) / ss, (0.54 - ps_) / ss};
    double szs = (fabs(zs[1] - zs[0]) + fabs(zs[2] - zs[1]) + fabs(zs[3] - zs[2])) / 3 / 1.128;
    CHECK_NEAR(szs, 1.088532, 1e-6);
    const struct cohort_month *s1 = month(&c, "sleep", "2026-01");
    CHECK(s1 != NULL);
    if (s1) {
        CHECK_NEAR(s1->laney_sigma_z, szs, 1e-12);
        CHECK_NEAR(s1->laney_lcl, 0.47 - 3 * ss * szs, 1e-12);
        CHECK_NEAR(s1->laney_ucl, 0.700496, 1e-6);
        CHECK_NEAR(s1->lcl, 0.258250, 1e-6);
        CHECK(!s1->out_of_control && !s1->laney_out_of_control);
    }
    CHECK_NEAR(c.laney_sigma_z, sz, 1e-12);
    char *csv = csv_of(&c);
    CHECK(has_line(csv, "pain,month,2026-03,out_of_control,10,1,,,1 = outside the p-chart limits"));
    double lo, hi;
    wilson(5, 10, &lo, &hi);
    CHECK(has_row(csv, "pain,month,2026-01,responder_30", 10, 0.5, lo, hi, "Wilson score"));
    CHECK(has_row(csv, "pain,month,2026-01,pchart_limits", 10, pb, pb - 3 * s10, pb + 3 * s10,
                  "p-chart centre and 3-sigma limits"));
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);

    /* Window 2026-02..2026-03 through `series` (the described patients are none here):
     * pain 8/20 and 10/10, p-bar = 18/30 = .6; z = (.4-.6)/sqrt(.24/20) = -1.825742,
     * (1-.6)/sqrt(.24/10) = 2.581989; one moving range 4.407731, sigma_z = 3.907563. */
    struct patient_set none = {0};
    o.series = &ps;
    o.month_from = "2026-02";
    o.month_to = "2026-03";
    CHECK(cohort_compute(&ds, &none, &o, &c, &e) == 0);
    CHECK(c.n_months == 4);   /* two pain, two sleep */
    CHECK(c.group[PAIN].n_patients == 0);
    const struct cohort_month *w = month(&c, "pain", "2026-02");
    CHECK(w && !month(&c, "pain", "2026-01") && !month(&c, "pain", "2026-04"));
    if (w) {
        CHECK_NEAR(w->centre, 0.6, 1e-15);
        double zw = (fabs(2.581988897 + 1.825741858)) / 1.128;
        CHECK_NEAR(w->laney_sigma_z, zw, 1e-8);
        CHECK_NEAR(w->laney_sigma_z, 3.907563, 1e-6);
    }
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);
}

/* ------------------------------------------------------------------ between arms */

/* 8 pain patients, arm "needle" first, "Usual Care" second (control by its name).
 *   needle:      8->3 6->2 7->4 5->1   changes 5 4 3 4   pct 62.5 66.7 42.9 80: 4/4 respond
 *   Usual Care:  8->7 6->4 9->8 5->5   changes 1 2 1 0   pct 12.5 33.3 11.1 0:  1/4
 * Welch (changes): means 4 and 1, diff 3; both variances 2/3 (SS 2 over 3), vx = vy = 1/6,
 * se = sqrt(1/3); df = (1/3)^2 / ((1/6)^2/3 + (1/6)^2/3) = (1/9)/(1/54) = 6: CI 3 -+ t(6) se.
 * ANCOVA final ~ baseline + arm: needle x-bar 6.5, y-bar 2.5, Sxx 5, Sxy 4, Syy 5;
 * usual care x-bar 7, y-bar 6, Sxx 10, Sxy 9, Syy 10. Pooled slope 13/15; arm coefficient
 * (2.5 - 6) - 13/15 (6.5 - 7) = -46/15; SSE = 15 - (13/15) 13 = 56/15, s^2 = 56/75 (5 df);
 * var = s^2 (1/4 + 1/4 + .5^2/15) -> se .621110. Pain is lower-better, so the improvement
 * difference is +46/15 = 3.066667 with CI 46/15 -+ t(5) se = 1.470052 to 4.663281.
 * Responders 4/4 - 1/4 = .75; Newcombe from the Wilson limits written out:
 * lo = .75 - sqrt((1 - l1)^2 + (u2 - .25)^2), hi = .75 + sqrt((u1 - 1)^2 + (.25 - l2)^2)
 * with u1 = 1. NNT to benefit 4/3, CI 1/hi to 1/lo. */
static void build_small_trial(struct dataset *ds, struct patient_set *ps)
{
    static const struct { const char *arm; double b, f; } t[8] = {
        {"needle", 8, 3}, {"Usual Care", 8, 7}, {"needle", 6, 2}, {"Usual Care", 6, 4},
        {"needle", 7, 4}, {"Usual Care", 9, 8}, {"needle", 5, 1}, {"Usual Care", 5, 5},
    };
    ds_make(ds);
    memset(ps, 0, sizeof *ps);
    for (int i = 0; i < 8; i++) {
        char id[16];
        snprintf(id, sizeof id, "t%d", i);
        rec(ps, pat(ds, id, NULL, t[i].arm, NULL), PAIN, t[i].b, t[i].f);
    }
}

static void test_arms_small(void)
{
    struct dataset ds;
    struct patient_set ps;
    build_small_trial(&ds, &ps);
    struct cohort_opts o;
    cohort_opts_default(&o);
    o.boot_reps = 200;
    o.min_cell = 4;
    struct cohort c;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK(c.n_arms == 2);   /* pain and sleep, one pair */
    CHECK_STR(c.arms_note, "");
    const struct cohort_arms *a = arms(&c, "pain", "needle", "Usual Care");
    CHECK(a != NULL);
    if (!a)
        goto out;
    CHECK(a->control_by_name == 1 && a->suppressed == 0);
    CHECK(a->n_treatment == 4 && a->n_control == 4);
    CHECK(a->n_complete_treatment == 4 && a->n_complete_control == 4);
    CHECK(a->change_diff.n == 8);
    CHECK_NEAR(a->change_diff.mean, 3, 1e-14);
    CHECK_NEAR(a->change_diff.se, sqrt(1.0 / 3), 1e-14);
    CHECK_NEAR(a->change_diff.df, 6, 1e-12);
    CHECK_NEAR(a->change_diff.lo, 3 - T6 * sqrt(1.0 / 3), 1e-6);
    CHECK_NEAR(a->change_diff.hi, 3 + T6 * sqrt(1.0 / 3), 1e-6);
    CHECK_NEAR(a->change_diff.p, 2 * gsl_cdf_tdist_Q(3 / sqrt(1.0 / 3), 6), 1e-12);

    double se = sqrt(56.0 / 75 * (0.5 + 0.25 / 15));
    CHECK(a->ancova.n == 8);
    CHECK_NEAR(a->ancova.est, 46.0 / 15, 1e-12);
    CHECK_NEAR(a->ancova.lo, 46.0 / 15 - T5 * se, 1e-6);
    CHECK_NEAR(a->ancova.hi, 46.0 / 15 + T5 * se, 1e-6);
    CHECK_NEAR(a->ancova.lo, 1.470052, 1e-6);
    CHECK_NEAR(a->ancova_p, 2 * gsl_cdf_tdist_Q(46.0 / 15 / se, 5), 1e-10);

    CHECK(a->resp_treatment.k == 4 && a->resp_treatment.n == 4);
    CHECK(a->resp_control.k == 1 && a->resp_control.n == 4);
    double l1, u1, l2, u2;
    wilson(4, 4, &l1, &u1);
    wilson(1, 4, &l2, &u2);
    double dlo = 0.75 - sqrt((1 - l1) * (1 - l1) + (u2 - 0.25) * (u2 - 0.25));
    double dhi = 0.75 + sqrt((0.25 - l2) * (0.25 - l2));
    CHECK_NEAR(a->resp_diff.est, 0.75, 1e-15);
    CHECK_NEAR(a->resp_diff.lo, dlo, 1e-9);
    CHECK_NEAR(a->resp_diff.hi, dhi, 1e-9);
    CHECK(a->nnt.dir == NNT_BENEFIT && !a->nnt.split);
    CHECK_NEAR(a->nnt.est, 4.0 / 3, 1e-14);
    CHECK_NEAR(a->nnt.lo, 1 / dhi, 1e-8);
    CHECK_NEAR(a->nnt.hi, 1 / dlo, 1e-6);

    /* sleep has no records: the comparison exists with nothing defined */
    const struct cohort_arms *s = arms(&c, "sleep", "needle", "Usual Care");
    CHECK(s && s->n_treatment == 0 && isnan(s->change_diff.mean) && isnan(s->ancova.est));
    CHECK(s && s->nnt.dir == NNT_UNDEFINED && isnan(s->nnt.est));

    char *csv = csv_of(&c);
    CHECK(has_line(csv, "pain,arm_difference,needle vs Usual Care,change_mean_difference_df,8,6,,,"
                        "Welch-Satterthwaite degrees of freedom"));
    CHECK(has_row(csv, "pain,arm_difference,needle vs Usual Care,nnt_benefit", 8, 4.0 / 3,
                  1 / dhi, 1 / dlo,
                  "\"1/responder_30_difference, CI 1/Newcombe limits (Altman 1998)\""));
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);

    /* min_cell 5: each arm has 4, so the comparison is suppressed in cohort.csv */
    o.min_cell = 5;
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    a = arms(&c, "pain", "needle", "Usual Care");
    CHECK(a && a->suppressed == 1);
    csv = csv_of(&c);
    CHECK(has_line(csv, "pain,arm_difference,needle vs Usual Care,change_mean_difference,,,,,"
                        "suppressed (n below minimum cell size)"));
    CHECK(!strstr(csv, "arm_difference,needle vs Usual Care,nnt_benefit,8"));
    free(csv);
out:
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);
}

/* Responders k1/n1 in the arm seen first, k2/n2 in the second; each responder 10 -> 5, each
 * non-responder 10 -> 9. Returns the cohort (min_cell 1). */
static void trial(const char *arm1, long k1, long n1, const char *arm2, long k2, long n2,
                  struct cohort *c)
{
    struct dataset ds;
    struct patient_set ps = {0};
    ds_make(&ds);
    int id = 0;
    for (int a = 0; a < 2; a++) {
        long k = a ? k2 : k1, n = a ? n2 : n1;
        for (long i = 0; i < n; i++) {
            char s[16];
            snprintf(s, sizeof s, "x%d", id++);
            rec(&ps, pat(&ds, s, NULL, a ? arm2 : arm1, NULL), PAIN, 10, i < k ? 5 : 9);
        }
    }
    struct cohort_opts o;
    cohort_opts_default(&o);
    o.boot_reps = 200;
    o.min_cell = 1;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, c, &e) == 0);
    ps_free(&ps);
    dataset_free(&ds);
}

static void test_arms_newcombe(void)
{
    struct cohort c;
    /* Newcombe 1998 Table II example (a), 56/70 - 48/80 = .8 - .6 = .2000, method 10 CI
     * .0524 to .3339 (published, 4 decimals). Neither arm named: the second ("B") is the
     * control. NNT to benefit 1/.2 = 5, CI 1/.3339 = 2.995 to 1/.0524 = 19.08; the
     * published 4 decimals carry +-5e-5, i.e. +-.0045 on 1/.3339 and +-.018 on 1/.0524. */
    trial("A", 56, 70, "B", 48, 80, &c);
    const struct cohort_arms *a = arms(&c, "pain", "A", "B");
    CHECK(a != NULL);
    if (a) {
        CHECK(a->control_by_name == 0);
        CHECK(a->resp_treatment.k == 56 && a->resp_control.n == 80 && a->resp_diff.n == 150);
        CHECK_NEAR(a->resp_diff.est, 0.2, 1e-14);
        CHECK_NEAR(a->resp_diff.lo, 0.0524, 5e-5);
        CHECK_NEAR(a->resp_diff.hi, 0.3339, 5e-5);
        CHECK(a->nnt.dir == NNT_BENEFIT && !a->nnt.split);
        CHECK_NEAR(a->nnt.est, 5, 1e-13);
        CHECK_NEAR(a->nnt.lo, 1 / 0.3339, 5e-3);
        CHECK_NEAR(a->nnt.hi, 1 / 0.0524, 2e-2);
        CHECK_NEAR(a->nnt.lo, 1 / a->resp_diff.hi, 1e-12);   /* the inversion itself */
        CHECK_NEAR(a->nnt.hi, 1 / a->resp_diff.lo, 1e-12);
        CHECK(isnan(a->nnt.benefit_from) && isnan(a->nnt.harm_from));
        /* Welch on changes 5 (responders) and 1: treatment mean (56*5 + 14)/70 = 4.2,
         * control (48*5 + 32)/80 = 3.4, difference .8 */
        CHECK_NEAR(a->change_diff.mean, 0.8, 1e-13);
        /* every baseline is 10: ANCOVA cannot separate baseline from intercept */
        CHECK(isnan(a->ancova.est) && isnan(a->ancova_p));
    }
    char *csv = csv_of(&c);
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);

    /* The same rates with the worse arm as treatment ("control" is named, though second
     * in the file is what it would be anyway; put it first to test the name wins):
     * 48/80 - 56/70 = -.2, CI -.3339 to -.0524; NNT to harm 5, CI 1/.3339 to 1/.0524. */
    trial("Control", 56, 70, "new", 48, 80, &c);
    a = arms(&c, "pain", "new", "Control");
    CHECK(a != NULL);
    if (a) {
        CHECK(a->control_by_name == 1);
        CHECK_NEAR(a->resp_diff.est, -0.2, 1e-14);
        CHECK_NEAR(a->resp_diff.lo, -0.3339, 5e-5);
        CHECK_NEAR(a->resp_diff.hi, -0.0524, 5e-5);
        CHECK(a->nnt.dir == NNT_HARM && !a->nnt.split);
        CHECK_NEAR(a->nnt.est, 5, 1e-13);
        CHECK_NEAR(a->nnt.lo, 1 / 0.3339, 5e-3);
        CHECK_NEAR(a->nnt.hi, 1 / 0.0524, 2e-2);
    }
    csv = csv_of(&c);
    CHECK(strstr(csv, "pain,arm_difference,new vs Control,nnt_harm,150,5,") != NULL);
    free(csv);
    cohort_free(&c);

    /* Table II example (d), 5/56 - 0/29 = .0893, CI -.0381 to .1926: the CI includes 0, so
     * the NNT's CI is in two parts (Altman 1998): NNT to benefit 56/5 = 11.2, CI
     * "NNT(harm) 1/.0381 = 26.2 to infinity to NNT(benefit) 1/.1926 = 5.19". */
    trial("acupuncture", 5, 56, "waitlist", 0, 29, &c);
    a = arms(&c, "pain", "acupuncture", "waitlist");
    CHECK(a != NULL);
    if (a) {
        CHECK_NEAR(a->resp_diff.lo, -0.0381, 5e-5);
        CHECK_NEAR(a->resp_diff.hi, 0.1926, 5e-5);
        CHECK(a->nnt.dir == NNT_BENEFIT && a->nnt.split == 1);
        CHECK_NEAR(a->nnt.est, 11.2, 1e-12);
        CHECK(isnan(a->nnt.lo) && isnan(a->nnt.hi));
        CHECK_NEAR(a->nnt.harm_from, 1 / 0.0381, 0.04);      /* 26.25 */
        CHECK_NEAR(a->nnt.benefit_from, 1 / 0.1926, 2e-3);   /* 5.192 */
        CHECK_NEAR(a->nnt.harm_from, -1 / a->resp_diff.lo, 1e-12);
    }
    csv = csv_of(&c);
    CHECK(strstr(csv, "acupuncture vs waitlist,nnt_ci_harm_from,85,26.") != NULL);
    CHECK(strstr(csv, "acupuncture vs waitlist,nnt_ci_benefit_from,85,5.19") != NULL);
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);

    /* Example (e), 0/10 - 0/20 = 0, CI -.1611 to .2775: no finite NNT; CI NNT(harm) 6.21
     * to infinity to NNT(benefit) 3.60. */
    trial("drug", 0, 10, "SHAM", 0, 20, &c);
    a = arms(&c, "pain", "drug", "SHAM");
    CHECK(a != NULL);
    if (a) {
        CHECK(a->nnt.dir == NNT_INFINITE && isnan(a->nnt.est) && a->nnt.split == 1);
        CHECK_NEAR(a->nnt.harm_from, 1 / 0.1611, 2e-3);
        CHECK_NEAR(a->nnt.benefit_from, 1 / 0.2775, 1e-3);
    }
    csv = csv_of(&c);
    CHECK(strstr(csv, "drug vs SHAM,nnt,30,,,,") != NULL);
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);
}

static void test_arms_choice(void)
{
    struct dataset ds;
    struct patient_set ps = {0};
    struct cohort_opts o;
    struct cohort c;
    struct out_error e = {0};
    cohort_opts_default(&o);
    o.boot_reps = 200;
    o.min_cell = 1;

    /* Three arms, GERAC-like: verum against each control-named arm, sham vs usual care not
     * compared. Pain only has records; both instruments get the pairs: 2 x 2 = 4. */
    ds_make(&ds);
    static const char *const three[] = {"verum", "sham", "usual care"};
    for (int i = 0; i < 9; i++) {
        char s[16];
        snprintf(s, sizeof s, "g%d", i);
        rec(&ps, pat(&ds, s, NULL, three[i % 3], NULL), PAIN, 6 + i % 3, 3);
    }
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK(c.n_arms == 4);
    CHECK(arms(&c, "pain", "verum", "sham") && arms(&c, "pain", "verum", "usual care"));
    CHECK(!arms(&c, "pain", "sham", "usual care") && !arms(&c, "pain", "usual care", "sham"));
    const struct cohort_arms *a = arms(&c, "pain", "verum", "sham");
    CHECK(a && a->n_treatment == 3 && a->n_control == 3 && a->control_by_name == 1);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);

    /* Three arms, none named as a control: no reference, skipped with a reason. A patient
     * without an arm is ignored. */
    ds_make(&ds);
    static const char *const abc[] = {"a", "b", "c"};
    for (int i = 0; i < 6; i++) {
        char s[16];
        snprintf(s, sizeof s, "h%d", i);
        rec(&ps, pat(&ds, s, NULL, abc[i % 3], NULL), PAIN, 6, 3);
    }
    rec(&ps, pat(&ds, "noarm", NULL, NULL, NULL), PAIN, 6, 3);
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK(c.n_arms == 0);
    CHECK_CONTAINS(c.arms_note, "3 arms and none named as a control");
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);

    /* One arm only: nothing to compare. No arm covariate values at all: the same. */
    ds_make(&ds);
    rec(&ps, pat(&ds, "solo", NULL, "treatment", NULL), PAIN, 6, 3);
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK(c.n_arms == 0);
    CHECK_CONTAINS(c.arms_note, "fewer than two arms");
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);

    /* Two arms, a missing-arm patient: left out of both. Treatment "treatment" (2 patients
     * 8 -> 4, 6 -> 2), control "control" (8 -> 7, 6 -> 6): Welch diff 4 - .5 = 3.5. */
    ds_make(&ds);
    rec(&ps, pat(&ds, "u1", NULL, "treatment", NULL), PAIN, 8, 4);
    rec(&ps, pat(&ds, "u2", NULL, "control", NULL), PAIN, 8, 7);
    rec(&ps, pat(&ds, "u3", NULL, NULL, NULL), PAIN, 8, 0);
    rec(&ps, pat(&ds, "u4", NULL, "treatment", NULL), PAIN, 6, 2);
    rec(&ps, pat(&ds, "u5", NULL, "control", NULL), PAIN, 6, 6);
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    a = arms(&c, "pain", "treatment", "control");
    CHECK(a && a->n_treatment == 2 && a->n_control == 2);
    /* treatment changes 4, 4 have sd 0, control 1, 0: Welch is defined (one SD > 0):
     * se = sqrt(0 + .5/2) = .5, df = (.25)^2 / (.25^2 / 1) = 1 */
    CHECK(a && fabs(a->change_diff.mean - 3.5) < 1e-14 && fabs(a->change_diff.df - 1) < 1e-12);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);
}

/* ------------------------------------------------------------------ banded subgroups */

static void test_bands(void)
{
    struct dataset ds;
    struct patient_set ps = {0};
    ds_make(&ds);
    /* age -> band: 25 and 34.5 -> 18-34 (completed years); 40 -> 35-54; 60 -> 55-64;
     * 70 and 65 -> 65+; 17 -> under 18; "abc", "", missing, "-5", "1e2", " 30" -> missing.
     * Pain baselines pick the baseline bands: < 4 mild, < 7 moderate, else severe. */
    static const struct { const char *age; double b, f; } p[] = {
        {"25", 2, 1},   {"34.5", 3.5, 1.5}, {"40", 4, 2},   {"60", 6.5, 3},   {"70", 7, 3},
        {"65", 10, 9},  {"17", 6, 6},       {"abc", 3, 1},  {"", 8, 4},       {NULL, 5, 5},
        {"-5", 9, 9},   {"1e2", 2, 2},      {" 30", 4, 4},
    };
    enum { NP = sizeof p / sizeof p[0] };
    uint32_t idx[NP];
    for (int i = 0; i < NP; i++) {
        char s[16];
        snprintf(s, sizeof s, "b%d", i);
        idx[i] = pat(&ds, s, NULL, NULL, p[i].age);
        rec(&ps, idx[i], PAIN, p[i].b, p[i].f);
    }
    /* sleep (higher better, 0-10): thirds from the good end, s = 10 - score: 7 (s 3) mild,
     * 6.5 (s 3.5) and 4 (s 6) moderate, 3 (s 7) severe */
    rec(&ps, idx[0], SLEEP, 7, 8);
    rec(&ps, idx[1], SLEEP, 6.5, 8);
    rec(&ps, idx[2], SLEEP, 4, 8);
    rec(&ps, idx[3], SLEEP, 3, 8);
    struct cohort_opts o;
    cohort_opts_default(&o);
    o.boot_reps = 200;
    o.min_cell = 2;
    static const char *const by[] = {"age_band", "baseline_band", "age_band"};
    o.by = by;
    o.n_by = 3;
    struct cohort c;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    /* Groups: 2 overall, age bands 5 per instrument (all present among patients) = 10,
     * baseline bands 3 for pain + 3 for sleep = 6; the repeated age_band adds none. */
    CHECK(c.n_groups == 2 + 10 + 6);
    static const char *const ages[5] = {"under 18", "18-34", "35-54", "55-64", "65+"};
    for (int b = 0; b < 5; b++) {
        CHECK_STR(c.group[2 + b].by, "age_band");
        CHECK_STR(c.group[2 + b].value, ages[b]);   /* fixed order */
        CHECK_STR(c.group[2 + b].instrument, "pain");
    }
    const struct cohort_group *g = grp(&c, "pain", "age_band", "18-34");
    /* 25 (2 -> 1, change 1) and 34.5 (3.5 -> 1.5, change 2): mean 1.5 */
    CHECK(g && g->n_patients == 2 && !g->suppressed);
    CHECK(g && fabs(g->change.mean - 1.5) < 1e-14);
    g = grp(&c, "pain", "age_band", "65+");
    CHECK(g && g->n_patients == 2);   /* 70 and 65 */
    g = grp(&c, "pain", "age_band", "under 18");
    CHECK(g && g->n_patients == 1 && g->suppressed == 1);
    g = grp(&c, "pain", "age_band", "35-54");
    CHECK(g && g->n_patients == 1);   /* 40 only: " 30" is not a plain number */
    /* sleep age bands: only b0-b3 have sleep; 65+ is present among patients, so the cell
     * exists with n 0 */
    g = grp(&c, "sleep", "age_band", "65+");
    CHECK(g && g->n_patients == 0 && g->suppressed == 1);

    /* pain baseline bands: mild 2, 3.5, 3, 2 (ages 25, 34.5, abc, 1e2) -> 4;
     * moderate 4, 6.5, 6, 5, 4 -> 5; severe 7, 10, 8, 9 -> 4. */
    const struct cohort_group *mild = grp(&c, "pain", "baseline_band", "mild"),
                              *mod = grp(&c, "pain", "baseline_band", "moderate"),
                              *sev = grp(&c, "pain", "baseline_band", "severe");
    CHECK(mild && mod && sev);
    if (mild && mod && sev) {
        CHECK(mild->n_patients == 4 && mod->n_patients == 5 && sev->n_patients == 4);
        /* severe changes 7->3 4, 10->9 1, 8->4 4, 9->9 0: mean 9/4 */
        CHECK_NEAR(sev->change.mean, 2.25, 1e-14);
        CHECK(mild < mod && mod < sev);   /* fixed order */
    }
    const struct cohort_group *smild = grp(&c, "sleep", "baseline_band", "mild"),
                              *smod = grp(&c, "sleep", "baseline_band", "moderate"),
                              *ssev = grp(&c, "sleep", "baseline_band", "severe");
    CHECK(smild && smild->n_patients == 1);
    CHECK(smod && smod->n_patients == 2);
    CHECK(ssev && ssev->n_patients == 1);
    char *csv = csv_of(&c);
    CHECK(has_line(csv, "pain,baseline_band,severe,patients,4,4,,,count"));
    CHECK(has_line(csv, "pain,age_band,under 18,patients,,,,,suppressed (n below minimum cell size)"));
    CHECK(csv_clean(csv) == 0);
    free(csv);
    cohort_free(&c);

    /* Without an `age` covariate, age_band is silently not available (like any --by the
     * data cannot give); baseline_band needs nothing. */
    struct dataset d2;
    dataset_init(&d2);
    static const char *const instr[] = {"pain", "sleep"};
    static const char *const cov[] = {"clinic"};
    CHECK(dataset_set_instruments(&d2, &tab, instr, 2) == 0);
    CHECK(dataset_set_covariates(&d2, cov, 1) == 0);
    for (int i = 0; i < NP; i++) {
        char s[16];
        snprintf(s, sizeof s, "b%d", i);
        CHECK(dataset_patient(&d2, s) == i);
    }
    CHECK(cohort_compute(&d2, &ps, &o, &c, &e) == 0);
    CHECK(c.n_groups == 2 + 6);
    CHECK(!grp(&c, "pain", "age_band", "18-34"));
    cohort_free(&c);
    dataset_free(&d2);
    ps_free(&ps);
    dataset_free(&ds);
}

/* ---- every group against a recomputation from scratch ----
 * A random cohort (two instruments interleaved per patient, single visits, zero and missing
 * baselines, covariates with gaps and junk ages), broken down by clinic, age band and
 * baseline band. Each group is recomputed here the plain way, as cohort.c first did it:
 * scan every record, keep the group's, hand fresh arrays to the stats functions one call
 * per statistic, sort with qsort. Every number must agree to the last bit; this is what
 * lets cohort.c read per-instrument views, reuse scratch between groups, take effect sizes
 * from the summaries it has and bootstrap the mean and median from one draw stream. */

static uint64_t rnd_state = 0x9E3779B97F4A7C15u;

static uint64_t rnd(void)
{
    rnd_state ^= rnd_state << 13;
    rnd_state ^= rnd_state >> 7;
    rnd_state ^= rnd_state << 17;
    return rnd_state;
}

static int same(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

static int cmp_dbl(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* cohort.h's bands, written out again */
static int ref_age_band(const char *s)
{
    if (!s || !*s || strspn(s, "0123456789.") != strlen(s) || strchr(s, '.') != strrchr(s, '.') ||
        strspn(s, ".") == strlen(s))
        return -1;
    double a = strtod(s, NULL);
    if (a > 130)
        return -1;
    return a >= 65 ? 4 : a >= 55 ? 3 : a >= 35 ? 2 : a >= 18 ? 1 : 0;
}

static int ref_baseline_band(int instr, double x)
{
    if (isnan(x))
        return -1;
    double s = instr == SLEEP ? 10 - x : x, c1 = instr == SLEEP ? 10.0 / 3 : 4,
           c2 = instr == SLEEP ? 2 * (10.0 / 3) : 7;
    return s < c1 ? 0 : s < c2 ? 1 : 2;
}

static void ref_t_keep(const double *x, size_t n, struct tres *t)
{
    if (stats_t_one_sample(x, n, 0, 0.95, t) == 0)
        return;
    struct desc d;
    if (stats_describe(x, n, &d) == 0) {
        t->mean = d.mean;
        t->sd = d.sd;
    }
}

static void ref_est_t(const double *x, size_t n, double *est, double *lo, double *hi)
{
    struct tres t;
    if (stats_t_one_sample(x, n, 0, 0.95, &t) == 0) {
        *est = t.mean;
        *lo = t.lo;
        *hi = t.hi;
    } else {
        struct desc d;
        *est = stats_describe(x, n, &d) == 0 ? d.mean : NAN;
        *lo = *hi = NAN;
    }
}

static void ref_pct(const double *x, size_t n, int median, const struct cohort_opts *o,
                    double *est, double *lo, double *hi)
{
    *est = *lo = *hi = NAN;
    if (n > o->boot_max_n) {
        if (!median) {
            ref_est_t(x, n, est, lo, hi);
            return;
        }
        double *s = malloc(n * sizeof *s);
        memcpy(s, x, n * sizeof *s);
        qsort(s, n, sizeof *s, cmp_dbl);
        *est = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
        /* Order statistics x(j), x(n+1-j): the largest j <= n/2 with P(Bin(n, 1/2) <= j-1)
         * <= 2.5%, found by walking the binomial CDF (the program bisects). */
        size_t j = 0;
        while (j + 1 <= n / 2 && gsl_cdf_binomial_P((unsigned)j, 0.5, (unsigned)n) <= 0.025)
            j++;
        if (j >= 1) {
            *lo = s[j - 1];
            *hi = s[n - j];
        }
        free(s);
        return;
    }
    if (stats_bootstrap_bca(x, n, median ? BOOT_MEDIAN : BOOT_MEAN, o->boot_reps, o->seed, 0.95,
                            est, lo, hi) != 0) {
        *est = *lo = *hi = NAN;
        struct desc d;
        if (n >= 1 && stats_describe(x, n, &d) == 0)
            *est = median ? d.median : d.mean;
    }
}

static int same_desc(const struct desc *a, const struct desc *b)
{
    return a->n == b->n && same(a->mean, b->mean) && same(a->sd, b->sd) &&
           same(a->median, b->median) && same(a->q1, b->q1) && same(a->q3, b->q3) &&
           same(a->min, b->min) && same(a->max, b->max);
}

static int same_tres(const struct tres *a, const struct tres *b)
{
    return a->n == b->n && same(a->mean, b->mean) && same(a->sd, b->sd) && same(a->se, b->se) &&
           same(a->lo, b->lo) && same(a->hi, b->hi) && same(a->t, b->t) && same(a->p, b->p);
}

/* Group g recomputed from every record of ps; 1 when all its numbers agree. */
static int group_matches(const struct dataset *ds, const struct patient_set *ps,
                         const struct cohort_opts *o, const struct cohort_group *g,
                         const int8_t *age_band)
{
    int instr = !strcmp(g->instrument, "pain") ? PAIN : SLEEP, hb = instr == SLEEP;
    static const char *const ages[] = {"under 18", "18-34", "35-54", "55-64", "65+"};
    static const char *const bands[] = {"mild", "moderate", "severe"};
    size_t n = ps->n ? ps->n : 1;
    double *pre = malloc(n * sizeof(double)), *post = malloc(n * sizeof(double));
    double *chg = malloc(n * sizeof(double)), *pct = malloc(n * sizeof(double));
    double *bocf = malloc(n * sizeof(double)), *imm = malloc(n * sizeof(double));
    double *kt = malloc(n * sizeof(double)), *b = malloc(n * sizeof(double));
    double *fi = malloc(n * sizeof(double));
    int *ke = malloc(n * sizeof(int));
    size_t np_ = 0, nsingle = 0, nc = 0, npc = 0, nb = 0, ni = 0, nk = 0, nzero = 0;
    long r30 = 0, r50 = 0, rmic = 0, nmic = 0, dur = 0, ndur = 0, kept = 0, nkept = 0, worst[KM_AT_N] = {0};
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (m->instr != instr || isnan(m->baseline))
            continue;
        int in;
        if (!g->by[0]) {
            in = 1;
        } else if (!strcmp(g->by, "clinic")) {
            const char *v = dataset_cov(ds, m->patient, 0);
            in = v && !strcmp(v, g->value);
        } else if (!strcmp(g->by, "age_band")) {
            in = age_band[m->patient] >= 0 && !strcmp(ages[age_band[m->patient]], g->value);
        } else {
            int bb = ref_baseline_band(instr, m->baseline);
            in = bb >= 0 && !strcmp(bands[bb], g->value);
        }
        if (!in)
            continue;
        np_++;
        if (m->n_immediate > 0 && !isnan(m->immediate))
            imm[ni++] = m->immediate;
        if (isnan(pm_change(m))) {
            nsingle++;
            bocf[nb++] = 0;
            continue;
        }
        bocf[nb++] = pm_change(m);
        pre[nc] = hb ? m->baseline : m->final;
        post[nc] = hb ? m->final : m->baseline;
        b[nc] = m->baseline;
        fi[nc] = m->final;
        chg[nc++] = pm_change(m);
        if (pm_zero_baseline(m))
            nzero++;
        else if (!isnan(pm_pct(m))) {
            pct[npc++] = pm_pct(m);
            r30 += pm_resp30(m) == 1;
            r50 += pm_resp50(m) == 1;
        }
        if (m->resp_mic >= 0) {
            nmic++;
            rmic += m->resp_mic == 1;
        }
        if (pm_durable(m) >= 0) {
            ndur++;
            dur += pm_durable(m) == 1;
        }
        if (pm_resp_end(m) == 1 && pm_resp_m12(m) >= 0) {
            nkept++;
            kept += pm_resp_m12(m) == 1;
        }
        if (m->sessions_to_response >= 0) {
            kt[nk] = m->sessions_to_response;
            ke[nk++] = m->responded;
            for (int a = 0; a < KM_AT_N; a++)
                worst[a] += m->responded && m->sessions_to_response <= cohort_km_at[a];
        }
    }
    struct desc db, df;
    struct tres tc, tb;
    struct wilcoxon w;
    struct effect ef;
    stats_describe(b, nc, &db);
    stats_describe(fi, nc, &df);
    ref_t_keep(chg, nc, &tc);
    stats_wilcoxon_signed_rank(chg, nc, 0.95, &w);
    stats_effect_paired(pre, post, nc, &ef);
    ref_t_keep(bocf, nb, &tb);
    double pm[3], pd[3], im[3];
    ref_pct(pct, npc, 0, o, &pm[0], &pm[1], &pm[2]);
    ref_pct(pct, npc, 1, o, &pd[0], &pd[1], &pd[2]);
    ref_est_t(imm, ni, &im[0], &im[1], &im[2]);
    struct km k;
    memset(&k, 0, sizeof k);
    int km_ok = nk > 0 && stats_km(kt, ke, nk, 0.95, &k) == 0;
    int ok = g->n_patients == np_ && g->n_single == nsingle && g->n_complete == nc &&
             g->n_zero_baseline == nzero && same_desc(&g->baseline, &db) &&
             same_desc(&g->final, &df) && same_tres(&g->change, &tc) &&
             same_tres(&g->bocf, &tb) && g->wilcoxon.n == w.n && same(g->wilcoxon.v, w.v) &&
             same(g->wilcoxon.p, w.p) && same(g->wilcoxon.hl, w.hl) &&
             same(g->wilcoxon.hl_lo, w.hl_lo) && same(g->wilcoxon.hl_hi, w.hl_hi) &&
             same(g->effect.d_z, ef.d_z) && same(g->effect.d_av, ef.d_av) &&
             same(g->effect.g_av, ef.g_av) && g->pct_mean.n == npc &&
             same(g->pct_mean.est, pm[0]) && same(g->pct_mean.lo, pm[1]) &&
             same(g->pct_mean.hi, pm[2]) && same(g->pct_median.est, pd[0]) &&
             same(g->pct_median.lo, pd[1]) && same(g->pct_median.hi, pd[2]) &&
             g->resp30.k == r30 && g->resp30.n == (long)npc && g->resp50.k == r50 &&
             g->resp_mic.k == rmic && g->resp_mic.n == nmic && g->durable.k == dur &&
             g->durable.n == ndur && g->kept.k == kept && g->kept.n == nkept && g->immediate.n == ni && same(g->immediate.est, im[0]) &&
             same(g->immediate.lo, im[1]) && same(g->immediate.hi, im[2]);
    if (km_ok) {
        ok = ok && g->km.n == k.n && g->km.n_events == k.n_events && g->km.n_steps == k.n_steps;
        for (int q = 0; q < 3; q++)
            ok = ok && same(g->km.q[q], k.q[q]) && same(g->km.q_lo[q], k.q_lo[q]) &&
                 same(g->km.q_hi[q], k.q_hi[q]);
        for (int a = 0; a < KM_AT_N; a++) {
            double s, lo, hi;
            stats_km_at(&k, cohort_km_at[a], &s, &lo, &hi);
            ok = ok && same(g->km_at[a], 1 - s) && same(g->km_at_lo[a], 1 - hi) &&
                 same(g->km_at_hi[a], 1 - lo);
        }
    } else {
        ok = ok && g->km.n_steps == 0 && isnan(g->km_at[0]);
    }
    for (int a = 0; a < KM_AT_N; a++)
        ok = ok && same(g->worst_at[a], np_ ? (double)worst[a] / (double)np_ : NAN);
    stats_km_free(&k);
    free(pre); free(post); free(chg); free(pct); free(bocf); free(imm); free(kt); free(b);
    free(fi); free(ke);
    return ok;
}

/* Months by brute force: every record's course-end month formatted and tallied. */
static int months_match(const struct patient_set *ps, const struct cohort *c, const char *from,
                        const char *to)
{
    static const char *const names[2] = {"pain", "sleep"};
    size_t j = 0;
    for (int instr = 0; instr < 2; instr++) {
        char (*mon)[8] = malloc((ps->n ? ps->n : 1) * sizeof *mon);
        size_t nm = 0;
        for (size_t i = 0; i < ps->n; i++) {
            const struct pmeasure *m = &ps->m[i];
            if (m->instr != instr || pm_resp30(m) < 0)
                continue;
            char buf[11];
            civil_format(pm_end_day(m), buf);
            memcpy(mon[nm], buf, 7);
            mon[nm][7] = '\0';
            if ((from && strcmp(mon[nm], from) < 0) || (to && strcmp(mon[nm], to) > 0))
                continue;
            nm++;
        }
        qsort(mon, nm, sizeof *mon, (int (*)(const void *, const void *))strcmp);
        for (size_t a = 0; a < nm;) {
            long n = 0, k = 0;
            size_t e = a;
            for (; e < nm && !strcmp(mon[e], mon[a]); e++)
                ;
            for (size_t i = 0; i < ps->n; i++) {
                const struct pmeasure *m = &ps->m[i];
                char buf[11];
                civil_format(pm_end_day(m), buf);
                if (m->instr == instr && pm_resp30(m) >= 0 && !strncmp(buf, mon[a], 7)) {
                    n++;
                    k += pm_resp30(m) == 1;
                }
            }
            if (j >= c->n_months || strcmp(c->month[j].instrument, names[instr]) ||
                strcmp(c->month[j].month, mon[a]) || c->month[j].resp30.n != n ||
                c->month[j].resp30.k != k) {
                free(mon);
                return 0;
            }
            j++;
            a = e;
        }
        free(mon);
    }
    return j == c->n_months;
}

static void test_groups_recomputed(void)
{
    struct dataset ds;
    struct patient_set ps = {0};
    ds_make(&ds);
    static const char *const clinics[] = {"North", "South", "East"};
    static const char *const junk_age[] = {"abc", "", "-5", "131", "1e2", "12.5.1"};
    enum { NPAT = 1500 };
    for (int p = 0; p < NPAT; p++) {
        char id[16], age[16];
        snprintf(id, sizeof id, "r%d", p);
        uint64_t u = rnd();
        const char *clinic = u % 17 == 0 ? NULL : clinics[u % 3];
        if (u % 23 == 0)
            snprintf(age, sizeof age, "%s", junk_age[(u >> 8) % 6]);
        else
            snprintf(age, sizeof age, "%d%s", (int)(12 + (u >> 12) % 75), u % 5 ? "" : ".5");
        uint32_t pi = pat(&ds, id, clinic, NULL, u % 29 == 0 ? NULL : age);
        for (int instr = 0; instr < 2; instr++) {
            uint64_t v = rnd();
            if (v % 41 == 0)
                continue;   /* no record of this instrument */
            double base = v % 53 == 0 ? NA : (double)((v >> 4) % 11);
            double fin = (v >> 10) % 9 == 0 ? NA : (double)((v >> 14) % 11);
            struct pmeasure *m = rec(&ps, pi, instr, base, fin);
            set_end_day(m, JAN15 + (int)((v >> 20) % 700));
            set_durable(m, (int)((v >> 30) % 3) - 1);
            if (!isnan(pm_pct(m))) {
                m->sessions_to_response = (int)((v >> 33) % 14);
                m->responded = (v >> 37) % 2;
            }
            if (!isnan(fin) && (v >> 50) % 13 == 0)
                m->final = nextafter(m->final, INFINITY);   /* a change that is not whole */
            if (instr == PAIN && (v >> 40) % 4) {
                m->n_immediate = 1 + (int)((v >> 42) % 3);
                m->immediate = (double)((long)((v >> 45) % 7) - 2) / 2;
            }
        }
    }
    int8_t *age_band = malloc(ds.n_patients);
    for (size_t p = 0; p < ds.n_patients; p++)
        age_band[p] = (int8_t)ref_age_band(dataset_cov(&ds, p, 2));
    static const char *const by[] = {"clinic", "age_band", "baseline_band"};
    struct cohort_opts o;
    cohort_opts_default(&o);
    o.boot_reps = 200;
    o.boot_max_n = 300;   /* the whole cohort large-sample, small cells bootstrapped */
    o.by = by;
    o.n_by = 3;
    struct cohort c;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK(c.n_groups == 2 * (1 + 3 + 5 + 3));
    size_t bad = 0;
    for (size_t i = 0; i < c.n_groups; i++)
        if (!group_matches(&ds, &ps, &o, &c.group[i], age_band)) {
            fprintf(stderr, "group %s %s=%s differs from its recomputation\n",
                    c.group[i].instrument, c.group[i].by, c.group[i].value);
            bad++;
        }
    CHECK(bad == 0);
    CHECK(months_match(&ps, &c, NULL, NULL));
    cohort_free(&c);
    /* the monthly series kept to a window */
    o.month_from = "2026-03";
    o.month_to = "2026-11";
    o.n_by = 0;
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    CHECK(months_match(&ps, &c, "2026-03", "2026-11"));
    cohort_free(&c);
    free(age_band);
    ps_free(&ps);
    dataset_free(&ds);
}

/* A breakdown by a covariate with more values than cells: 70 clinics, clinic i with i + 1
 * patients (pain 8 -> 4). The first 63 by appearance keep a cell each; clinics 63..69 share
 * one, "(7 other values)", holding 64 + 65 + ... + 70 = 469 patients, so the cells add up
 * to all 2485 (= 70 * 71 / 2) as the overall group does. A patient without a clinic is in
 * neither a cell nor the other one. */
static void test_by_many_values(void)
{
    struct dataset ds;
    struct patient_set ps = {0};
    ds_make(&ds);
    uint32_t np = 0;
    for (int i = 0; i < 70; i++) {
        char clinic[16];
        snprintf(clinic, sizeof clinic, "C%02d", i);
        for (int j = 0; j <= i; j++) {
            char id[16];
            snprintf(id, sizeof id, "P%u", np++);
            rec(&ps, pat(&ds, id, clinic, NULL, NULL), PAIN, 8, 4);
        }
    }
    rec(&ps, pat(&ds, "nowhere", NULL, NULL, NULL), PAIN, 8, 4);
    struct cohort_opts o;
    cohort_opts_default(&o);
    static const char *const by[] = {"clinic"};
    o.by = by;
    o.n_by = 1;
    o.boot_reps = 200;
    struct cohort c;
    struct out_error e = {0};
    CHECK(cohort_compute(&ds, &ps, &o, &c, &e) == 0);
    size_t cells = 0, sum = 0;
    for (size_t i = 0; i < c.n_groups; i++)
        if (!strcmp(c.group[i].instrument, "pain") && !strcmp(c.group[i].by, "clinic")) {
            cells++;
            sum += c.group[i].n_patients;
        }
    CHECK(cells == 64);
    CHECK(sum == 2485);
    const struct cohort_group *g = grp(&c, "pain", "clinic", "C62");
    CHECK(g && g->n_patients == 63);
    CHECK(!grp(&c, "pain", "clinic", "C63"));
    g = grp(&c, "pain", "clinic", "(7 other values)");
    CHECK(g && g->n_patients == 469 && g->n_complete == 469);
    g = grp(&c, "pain", "", "");
    CHECK(g && g->n_patients == 2486);
    cohort_free(&c);
    ps_free(&ps);
    dataset_free(&ds);
}

/* The quantile rows' method names where the lower limit came from: the band's own; read
 * past a censoring in whole numbers (closed); or not whole numbers (exclusive). 28 of 30
 * censored at 1 and 2 responding at 5 put the median's lower limit past the censoring
 * (test_stats: 0.025^(1/2) <= .5), q75's too; 2.5 instead of 1 keeps it exclusive. */
static void test_km_q_method(void)
{
    double t[30];
    int e[30];
    for (int i = 0; i < 30; i++) {
        t[i] = i < 28 ? 1 : 5;
        e[i] = i >= 28;
    }
    struct km k;
    CHECK(stats_km(t, e, 30, 0.95, &k) == 0);
    CHECK_STR(cohort_km_q_method(&k, 1), "Kaplan-Meier, Brookmeyer-Crowley CI (log-log); lower "
                                         "limit read past a censoring, where fewer are followed");
    stats_km_free(&k);
    for (int i = 0; i < 28; i++)
        t[i] = 2.5;
    CHECK(stats_km(t, e, 30, 0.95, &k) == 0);
    CHECK_CONTAINS(cohort_km_q_method(&k, 1), "lower limit exclusive");
    stats_km_free(&k);
    static const double g[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
                               19, 20};
    int all[20];
    for (int i = 0; i < 20; i++)
        all[i] = 1;
    CHECK(stats_km(g, all, 20, 0.95, &k) == 0);   /* nobody censored: the band's own */
    CHECK_STR(cohort_km_q_method(&k, 1), "Kaplan-Meier, Brookmeyer-Crowley CI (log-log)");
    /* responded_by_N's method: all 20 of 20 responded by 20, so the exact limit; by 5 the
     * Greenwood band. */
    char how[128];
    cohort_km_at_method(&k, 20, 1, how, sizeof how);
    CHECK_STR(how, "all responded: exact limit for 20 of 20");
    cohort_km_at_method(&k, 5, 0.25, how, sizeof how);
    CHECK_STR(how, "Kaplan-Meier 1-S, Greenwood log-log CI");
    stats_km_free(&k);
    /* Freireich's 6-MP arm: censored at 10 and 11 on the flat after the response at 10, so
     * by 11 and 12 the upper limit is widened (test_stats: .4803217 past 10); at 10 itself,
     * and at 15 (nobody censored in [13, 15)), it is the band's own. */
    const double t6[] = {6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32,
                         34, 35};
    const int e6[] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
    CHECK(stats_km(t6, e6, 21, 0.95, &k) == 0);
    static const struct { double t; int widened; } at[] = {{10, 0}, {11, 1}, {12, 1}, {15, 0},
                                                           {5, 0}, {36, 1}};
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        cohort_km_at_method(&k, at[i].t, 0.2, how, sizeof how);
        CHECK_STR(how, at[i].widened ? "Kaplan-Meier 1-S, Greenwood log-log CI; upper limit "
                                       "widened past a censoring, where fewer are followed"
                                     : "Kaplan-Meier 1-S, Greenwood log-log CI");
        CHECK(stats_km_widened(&k, at[i].t) == at[i].widened);
    }
    stats_km_free(&k);
    /* At 100% after a censoring (1 censored at 1). All 3 at risk respond at 3, the first
     * response time: the exact limit for 3 of 3. Or one responds at 2 (S = 2/3, G = 1/6)
     * and the other 2 at 3: S(3) = 0, and the share's lower limit is the larger of the band
     * at 2 at alpha/4 (z = 2.241403: 1 - (2/3)^exp(-z sqrt(1/6) / ln 1.5) = 0.0415584) and
     * the exact limit for 2 of 2 at alpha/4, 0.0125^(1/2) = 0.1118034. */
    {
        const double tf[] = {1, 3, 3, 3};
        const int ef[] = {0, 1, 1, 1};
        CHECK(stats_km(tf, ef, 4, 0.95, &k) == 0);
        cohort_km_at_method(&k, 3, 1, how, sizeof how);
        CHECK_STR(how, "all at risk responded at the first response: exact limit for 3 of 3");
        stats_km_free(&k);
        const double tl[] = {1, 2, 3, 3};
        CHECK(stats_km(tl, ef, 4, 0.95, &k) == 0);
        cohort_km_at_method(&k, 3, 1, how, sizeof how);
        CHECK_STR(how, "all still followed responded: larger of the band before and the exact "
                       "limit for 2 at risk, each at alpha/4");
        double sv, lo, hi;
        stats_km_at(&k, 3, &sv, &lo, &hi);
        CHECK(sv == 0);
        CHECK_NEAR(1 - hi, 0.11180339887, 1e-10);
        stats_km_free(&k);
    }
    /* Nobody responded: 0 of the 1 followed to 4 (censored at 5), nobody to 6. */
    const double t0[] = {3, 5};
    const int e0[] = {0, 0};
    CHECK(stats_km(t0, e0, 2, 0.95, &k) == 0);
    cohort_km_at_method(&k, 4, 0, how, sizeof how);
    CHECK_STR(how, "no response: exact limit for 0 of 1 followed");
    cohort_km_at_method(&k, 6, 0, how, sizeof how);
    CHECK_STR(how, "no response, and nobody followed that far");
    CHECK(!stats_km_widened(&k, 4));
    stats_km_free(&k);
}

int main(void)
{
    gsl_set_error_handler_off();
    test_by_many_values();
    test_km_q_method();
    test_main_cohort();
    test_evidence_rates();
    test_edges();
    test_months();
    test_arms_small();
    test_arms_newcombe();
    test_arms_choice();
    test_bands();
    test_groups_recomputed();
    return TEST_END("test_cohort");
}
