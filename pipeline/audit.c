/* audit.c — estimates, intervals, verdicts and tests for registered claims (see audit.h).
 *
 * One kernel per statistic kind, chosen by table from the claim's enum. A kernel only
 * selects patients and measures (or says which column is missing); everything shared —
 * Wilson interval, exact binomial p, Jeffreys posterior, verdict, sample size to settle —
 * happens once in finish_row(), so every share is treated the same way.
 */
#include "audit.h"
#include "digest.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_cdf.h>

#include "escape.h"
#include "stats.h"

/* Percentages are compared with the same tolerance patient.c uses, so a 7 -> 4.9 drop
 * (30% on paper, 29.999999999999996 in binary) counts as reaching 30%. */
#define PCT_EPS 1e-9

static const char *const verdict_names[V__COUNT] = {
    "supported", "contradicted", "inconclusive", "insufficient_data", "not_auditable"};
static const char *const verdict_labels[V__COUNT] = {
    "supported", "contradicted", "inconclusive", "insufficient data",
    "not auditable from these data"};

const char *audit_verdict_name(enum verdict v)
{
    return (v >= 0 && v < V__COUNT) ? verdict_names[v] : "";
}

const char *audit_verdict_label(enum verdict v)
{
    return (v >= 0 && v < V__COUNT) ? verdict_labels[v] : "";
}

void audit_opts_default(struct audit_opts *o)
{
    o->level = 0.95;
    o->min_n = 20;
    o->seed = 20260101;
    o->boot_reps = 2000;
    o->large_n = 20001;   /* cohort_opts_default: boot_max_n 20000 */
}

void audit_result_init(struct audit_result *r)
{
    memset(r, 0, sizeof *r);
}

void audit_result_free(struct audit_result *r)
{
    if (!r)
        return;
    free(r->row);
    audit_result_init(r);
}

/* ---- public pieces ---- */

enum verdict audit_verdict(double lo, double hi, double clo, double chi, int lo_open)
{
    if (isnan(lo))
        lo = -INFINITY;
    if (isnan(hi))
        hi = INFINITY;
    if (isnan(clo))
        clo = -INFINITY;
    if (isnan(chi))
        chi = INFINITY;
    /* The CI is the closed [lo, hi]; the claim is [clo, chi] or (clo, chi]. */
    int lo_inside = lo_open ? lo > clo : lo >= clo;
    if (lo_inside && hi <= chi)
        return V_SUPPORTED;
    int disjoint = hi < clo || (lo_open && hi == clo) || lo > chi;
    return disjoint ? V_CONTRADICTED : V_INCONCLUSIVE;
}

struct pidx {
    double p;
    size_t i;
};

static int pidx_cmp(const void *a, const void *b)
{
    const struct pidx *x = a, *y = b;
    if (x->p != y->p)
        return x->p < y->p ? -1 : 1;
    return x->i < y->i ? -1 : x->i > y->i;
}

size_t audit_holm(const double *p, double *adj, size_t n)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(p[i]))
            m++;
    struct pidx *v = malloc((m ? m : 1) * sizeof *v);
    if (!v) {
        for (size_t i = 0; i < n; i++)
            adj[i] = NAN;
        return (size_t)-1;
    }
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(p[i]))
            v[j++] = (struct pidx){p[i], i};
    qsort(v, m, sizeof *v, pidx_cmp);
    for (size_t i = 0; i < n; i++)
        if (!isfinite(p[i]))
            adj[i] = NAN;
    /* Step-down: the r-th smallest (0-based) is multiplied by m - r, and adjusted values
     * are made monotone so a larger raw p never gets a smaller adjusted one. */
    double run = 0;
    for (size_t r = 0; r < m; r++) {
        double a = (double)(m - r) * v[r].p;
        if (a > 1)
            a = 1;
        if (a > run)
            run = a;
        adj[v[r].i] = run;
    }
    free(v);
    return m;
}

double audit_jeffreys_posterior(long k, long n, double p0, int upper)
{
    if (n < 0 || k < 0 || k > n || !(p0 >= 0 && p0 <= 1))
        return NAN;
    double a = (double)k + 0.5, b = (double)(n - k) + 0.5;
    return upper ? gsl_cdf_beta_Q(p0, a, b) : gsl_cdf_beta_P(p0, a, b);
}

/* Whether the Wilson interval for share p among n excludes p0: its upper limit below p0
 * (p0 > p) or its lower limit above it. The interval is centred on (p + z^2/2n)/(1 + z^2/n),
 * not on p, so the half-width alone does not say (at p = 0 it would settle 0 vs 5% at
 * n = 35, where the upper limit is still 9.9%). Each limit moves monotonically towards p as
 * n grows. */
static int wilson_excludes(double p, double p0, double n, double z)
{
    double c = (p + z * z / (2 * n)) / (1 + z * z / n);
    double w = z / (1 + z * z / n) * sqrt(p * (1 - p) / n + z * z / (4 * n * n));
    return p0 > p ? c + w < p0 : c - w > p0;
}

long audit_n_to_settle(double phat, double p0, double level)
{
    double gap = fabs(phat - p0);
    if (!(gap > 0) || !(level > 0 && level < 1) || !(phat >= 0 && phat <= 1))
        return -1;
    double z = gsl_cdf_ugaussian_Pinv(0.5 + level / 2);
    /* Bracket by doubling, then bisect. */
    long hi = 1;
    while (!wilson_excludes(phat, p0, (double)hi, z)) {
        if (hi > 1000000000L)
            return -1;
        hi *= 2;
    }
    long lo = hi / 2;   /* lo fails (or is 0), hi passes */
    while (hi - lo > 1) {
        long mid = lo + (hi - lo) / 2;
        if (wilson_excludes(phat, p0, (double)mid, z))
            hi = mid;
        else
            lo = mid;
    }
    return hi;
}

/* ---- helpers ---- */

/* Answers that depend only on a covariate's string, worked out once per string index
 * (value -1: not yet known). */
struct memo {
    size_t n;                  /* = dataset.n_cov_str */
    int8_t *sub;               /* patient_in's string tests, for the current claim: n per
                                  condition of its subgroup (SUB_AND_MAX n) */
    int and_cov[SUB_AND_MAX - 1];   /* the covariates of the further conditions (resolve) */
    int8_t *arm;               /* arm_of + 1, for the current claim */
    int sub_ready, arm_ready;  /* 0: sub / arm hold another claim's answers: reset first */
    int8_t *sex;               /* sex_of + 1 */
    int8_t *age_ok;            /* 1 parse_age succeeded (value in age), 0 it failed */
    double *age;
    const struct visit_digest *adverse;   /* per patient adverse status (adverse_ready) */
    struct visit_digest adverse_local;    /* built here when the dataset has no digest */
    int adverse_ready;
    struct km_memo *km;                   /* the last Kaplan–Meier worked out (km_of) */
};

/* A Kaplan–Meier curve and what km_of learnt making it, for the selection it was made on:
 * registries audit one curve several ways (median, share by session N, on several claims),
 * and at a million patients each curve costs a pass over the records and a sort. The
 * selection is the instrument and the subgroup; the claims' strings outlive the audit. */
struct km_memo {
    int instr;                 /* -1: empty */
    enum subgroup_kind kind;
    double sub_x;
    const char *cov, *value;
    size_t n_and;              /* the further conditions' strings (the claim's) */
    const char *and_cov[SUB_AND_MAX - 1], *and_value[SUB_AND_MAX - 1];
    int ok, open;
    size_t n, excluded;
    double tmax;
    struct km km;              /* owned; empty unless ok */
};

/* One instrument's records, as positions in the patient set in its order. The records are
 * large and interleave the instruments, and a claim reads one instrument's: scanning them all
 * for every claim was slow, and an array of pointers for every instrument cost 8 bytes a
 * record for the whole stage. This holds 4 bytes a record of the last instrument a claim read
 * (claims come in runs on one instrument) and is remade when a claim reads another. */
struct recs {
    int instr;                 /* whose records idx holds; -1: none yet */
    uint32_t *idx;
    size_t n;
};

struct ctx {
    const struct dataset *ds;
    const struct patient_set *ps;
    const struct audit_opts *o;
    struct memo *memo;
    struct recs *recs;
};

/* Instrument k's records (recs above); NULL when out of memory. */
static const uint32_t *recs_of(const struct ctx *x, int k, size_t *n)
{
    struct recs *r = x->recs;
    const struct patient_set *ps = x->ps;
    if (r->instr != k) {
        free(r->idx);
        r->instr = -1;
        r->n = 0;
        /* Room for every record, shrunk once filled: the pages never written cost nothing. */
        r->idx = ps->n <= UINT32_MAX ? malloc((ps->n ? ps->n : 1) * sizeof *r->idx) : NULL;
        if (!r->idx)
            return NULL;
        for (size_t i = 0; i < ps->n; i++)
            if (ps->m[i].instr == (size_t)k)
                r->idx[r->n++] = (uint32_t)i;
        uint32_t *fit = realloc(r->idx, (r->n ? r->n : 1) * sizeof *fit);
        if (fit)
            r->idx = fit;
        r->instr = k;
    }
    *n = r->n;
    return r->idx;
}

static void note_add(struct audit_row *r, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
static void note_add(struct audit_row *r, const char *fmt, ...)
{
    size_t len = strlen(r->note);
    if (len + 3 >= sizeof r->note)
        return;
    if (len) {
        memcpy(r->note + len, "; ", 3);
        len += 2;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->note + len, sizeof r->note - len, fmt, ap);
    va_end(ap);
}

static void not_auditable(struct audit_row *r, const char *needs, const char *why)
{
    r->verdict = V_NOT_AUDITABLE;
    snprintf(r->needs, sizeof r->needs, "%s", needs);
    note_add(r, "%s", why);
}

static int instr_index(const struct dataset *ds, const char *name)
{
    for (size_t k = 0; k < ds->n_instr; k++)
        if (strcasecmp(ds->instr[k]->name, name) == 0)
            return (int)k;
    return -1;
}

/* Plain decimal age in years; -1 when unparseable. */
static int parse_age(const char *s, double *out)
{
    if (!s || !*s)
        return -1;
    for (const char *q = s; *q; q++)
        if (!((*q >= '0' && *q <= '9') || *q == '.'))
            return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || v < 0 || v > 130)
        return -1;
    *out = v;
    return 0;
}

/* 1 female, 0 male, -1 other or missing: the claim compares women with men. */
static int sex_of(const char *s)
{
    static const char *const f[] = {"f", "female", "woman", "w"};
    static const char *const m[] = {"m", "male", "man"};
    if (!s)
        return -1;
    for (size_t i = 0; i < sizeof f / sizeof f[0]; i++)
        if (strcasecmp(s, f[i]) == 0)
            return 1;
    for (size_t i = 0; i < sizeof m / sizeof m[0]; i++)
        if (strcasecmp(s, m[i]) == 0)
            return 0;
    return -1;
}

/* Resolve the claim's instrument and subgroup covariate; on absence mark the row not
 * auditable. *cov is -1 when the subgroup is not a covariate. Returns 0 when usable. */
static int resolve(const struct ctx *x, const struct claim *c, struct audit_row *r,
                   int want_instr, int *instr, int *cov)
{
    *instr = -1;
    *cov = -1;
    if (want_instr) {
        *instr = instr_index(x->ds, c->instrument);
        if (*instr < 0) {
            char why[160];
            snprintf(why, sizeof why, "the visit files have no '%s' column", c->instrument);
            not_auditable(r, c->instrument, why);
            return -1;
        }
    }
    if (c->sub.kind == SUB_COV_EQ) {
        for (size_t j = 0; j <= c->sub.n_and; j++) {
            const char *name = j ? c->sub.and_cov[j - 1] : c->sub.cov;
            int k = dataset_cov_index(x->ds, name);
            if (k < 0) {
                char why[160];
                snprintf(why, sizeof why, "subgroup needs a '%s' column", name);
                not_auditable(r, name, why);
                return -1;
            }
            if (j)
                x->memo->and_cov[j - 1] = k;
            else
                *cov = k;
        }
    }
    return 0;
}

/* Index of patient p's value of covariate cov in dataset.cov_str, or UINT32_MAX. */
static uint32_t cov_index(const struct dataset *ds, size_t p, int cov)
{
    return ds->cov_value[p * ds->n_cov + (size_t)cov];
}

static int patient_in(const struct ctx *x, const struct claim *c, int cov, size_t patient)
{
    if (c->sub.kind != SUB_COV_EQ)
        return 1;
    struct memo *mm = x->memo;
    if (!mm->sub_ready) {
        memset(mm->sub, -1, mm->n * SUB_AND_MAX);
        mm->sub_ready = 1;
    }
    for (size_t j = 0; j <= c->sub.n_and; j++) {
        uint32_t v = cov_index(x->ds, patient, j ? mm->and_cov[j - 1] : cov);
        if (v == UINT32_MAX)
            return 0;
        int8_t *m = &mm->sub[j * mm->n + v];
        if (*m < 0)
            *m = (int8_t)(strcasecmp(x->ds->cov_str[v],
                                     j ? c->sub.and_value[j - 1] : c->sub.value) == 0);
        if (!*m)
            return 0;
    }
    return 1;
}

/* m is one of the claim's instrument's records. */
static int measure_in(const struct ctx *x, const struct claim *c, int cov,
                      const struct pmeasure *m)
{
    if (c->sub.kind == SUB_BASELINE_LE && !(m->baseline <= c->sub.x))
        return 0;
    if (c->sub.kind == SUB_BASELINE_GE && !(m->baseline >= c->sub.x))
        return 0;
    return patient_in(x, c, cov, m->patient);
}

/* ---- p-values against the claimed set ----
 * below(v): p for "the true value is below v"; above(v): p for "above v". A ge claim is
 * refuted by below(clo), le by above(chi); a range by either, Bonferroni over the two. */
typedef double (*tail_fn)(const void *data, double v, int above);

static double p_against(const struct audit_row *r, tail_fn f, const void *data)
{
    if (r->claim_lo_open)
        return NAN;
    int has_lo = isfinite(r->claim_lo), has_hi = isfinite(r->claim_hi);
    if (has_lo && has_hi) {
        double a = f(data, r->claim_lo, 0), b = f(data, r->claim_hi, 1);
        double m = 2 * (a < b ? a : b);
        return m > 1 ? 1 : m;
    }
    if (has_lo)
        return f(data, r->claim_lo, 0);
    if (has_hi)
        return f(data, r->claim_hi, 1);
    return NAN;
}

struct binom_data {
    long k, n;
};

/* Shares are in percent in rows and registry, in 0-1 for the binomial. */
static double binom_tail(const void *data, double v, int above)
{
    const struct binom_data *b = data;
    double p0 = v / 100;
    if (p0 <= 0)
        return above ? (b->k == 0 ? 1 : 0) : 1;
    if (p0 >= 1)
        return above ? 1 : (b->k == b->n ? 1 : 0);
    return stats_binom_p_one_sided(b->k, b->n, p0, above);
}

struct sample {
    const double *x;
    size_t n;
    double mean, se, df;
};

/* Exact sign test: ties with v dropped, as usual. */
static double sign_tail(const void *data, double v, int above)
{
    const struct sample *s = data;
    long nb = 0, na = 0;
    for (size_t i = 0; i < s->n; i++) {
        if (s->x[i] < v)
            nb++;
        else if (s->x[i] > v)
            na++;
    }
    if (nb + na == 0)
        return 1;
    return stats_binom_p_one_sided(above ? na : nb, nb + na, 0.5, 1);
}

static double t_tail(const void *data, double v, int above)
{
    const struct sample *s = data;
    double t = (s->mean - v) / s->se;
    return above ? gsl_cdf_tdist_Q(t, s->df) : gsl_cdf_tdist_P(t, s->df);
}

/* ---- shared finishing ---- */

static void set_binomial(const struct ctx *x, struct audit_row *r, long k, long n)
{
    r->k = k;
    r->n = (size_t)n;
    if (n <= 0)
        return;
    double lo, hi;
    if (stats_prop_wilson(k, n, x->o->level, &lo, &hi) == 0) {
        r->est = 100.0 * (double)k / (double)n;
        r->lo = 100 * lo;
        r->hi = 100 * hi;
        snprintf(r->method, sizeof r->method, "Wilson score");
    }
}

/* Distribution-free CI for a median: order statistics x(j), x(n+1-j) with j the largest
 * rank such that P(Bin(n, 1/2) <= j-1) <= alpha/2; coverage >= level. sorted ascending. */
static int median_order_ci(const double *sorted, size_t n, double level, double *lo,
                           double *hi, double *coverage)
{
    size_t j = stats_median_rank(n, level);
    if (j == 0)
        return -1;
    *lo = sorted[j - 1];
    *hi = sorted[n - j];
    *coverage = 1 - 2 * gsl_cdf_binomial_P((unsigned)(j - 1), 0.5, (unsigned)n);
    return 0;
}

/* Median with its CI: BCa bootstrap for moderate n; for large n (or when BCa is undefined)
 * the order-statistic interval, which needs no resampling and no assumption. */
static int median_row(const struct ctx *x, struct audit_row *r, double *v, size_t n)
{
    r->n = n;
    if (n == 0)
        return 0;
    if (stats_sort(v, n, NULL))   /* stable, as qsort's merge sort: the same array */
        return -1;
    r->est = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
    int done = 0;
    if (n < x->o->large_n && n >= 2) {
        double est, lo, hi;
        if (stats_bootstrap_bca(v, n, BOOT_MEDIAN, x->o->boot_reps, x->o->seed, x->o->level,
                                &est, &lo, &hi) == 0) {
            r->lo = lo;
            r->hi = hi;
            snprintf(r->method, sizeof r->method, "bootstrap BCa, %zu resamples, seed %llu",
                     x->o->boot_reps, (unsigned long long)x->o->seed);
            done = 1;
        } else {
            note_add(r, "BCa undefined (resamples all on one side of the median)");
        }
    }
    if (!done) {
        double lo, hi, cov;
        if (median_order_ci(v, n, x->o->level, &lo, &hi, &cov) == 0) {
            r->lo = lo;
            r->hi = hi;
            snprintf(r->method, sizeof r->method,
                     "order-statistic (distribution-free), coverage %.3f", cov);
        } else {
            note_add(r, "too few values for a distribution-free median CI");
        }
    }
    struct sample s = {v, n, NAN, NAN, NAN};
    r->p = p_against(r, sign_tail, &s);
    snprintf(r->test, sizeof r->test, "exact sign test (one-sided)");
    return 0;
}

static int mean_row(const struct ctx *x, struct audit_row *r, double *v, size_t n)
{
    r->n = n;
    if (n < 2)
        return 0;
    double est, lo, hi;
    struct tres t;
    if (stats_t_one_sample(v, n, 0, x->o->level, &t) == 0) {
        r->est = t.mean;
        struct sample s = {v, n, t.mean, t.se, t.df};
        r->p = p_against(r, t_tail, &s);
        snprintf(r->test, sizeof r->test, "Student t (one-sided)");
    } else {
        snprintf(r->test, sizeof r->test, "none: all values equal");
    }
    /* Same rule as the cohort stage (cohort_opts.boot_max_n), so one number never shows two
     * intervals: bootstrap below large_n, the t interval from there on. */
    if (n < x->o->large_n &&
        stats_bootstrap_bca(v, n, BOOT_MEAN, x->o->boot_reps, x->o->seed, x->o->level, &est,
                            &lo, &hi) == 0) {
        r->est = est;
        r->lo = lo;
        r->hi = hi;
        snprintf(r->method, sizeof r->method, "bootstrap BCa, %zu resamples, seed %llu",
                 x->o->boot_reps, (unsigned long long)x->o->seed);
    } else if (isfinite(t.lo)) {
        r->lo = t.lo;
        r->hi = t.hi;
        snprintf(r->method, sizeof r->method, "Student t");
    }
    return 0;
}

/* ---- kernels: one per statistic kind ---- */

typedef int (*kernel_fn)(const struct ctx *, const struct claim *, struct audit_row *);

/* Percent improvements of the selected measures; zero baselines and single visits have
 * none and are counted in the note. Caller frees *out. */
static int pct_values(const struct ctx *x, const struct claim *c, struct audit_row *r,
                      double **out, size_t *n)
{
    int instr, cov;
    *out = NULL;
    *n = 0;
    if (resolve(x, c, r, 1, &instr, &cov))
        return 0;
    size_t nr;
    const uint32_t *rec = recs_of(x, instr, &nr);
    double *v = rec ? malloc((nr ? nr : 1) * sizeof *v) : NULL;
    if (!v)
        return -1;
    size_t single = 0, zero = 0;
    for (size_t i = 0; i < nr; i++) {
        const struct pmeasure *m = &x->ps->m[rec[i]];
        if (!measure_in(x, c, cov, m))
            continue;
        double pct = pm_pct(m);
        if (!isnan(pct))
            v[(*n)++] = pct;
        else if (pm_zero_baseline(m))
            zero++;
        else
            single++;
    }
    if (single || zero)
        note_add(r, "excluded: %zu with one visit, %zu with baseline 0", single, zero);
    *out = v;
    return 0;
}

static int k_pct_share(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    double *v;
    size_t n;
    if (pct_values(x, c, r, &v, &n))
        return -1;
    long k = 0;
    for (size_t i = 0; i < n; i++)
        if (v[i] >= c->param - PCT_EPS)
            k++;
    free(v);
    if (r->verdict != V_NOT_AUDITABLE)
        set_binomial(x, r, k, (long)n);
    return 0;
}

static int k_median_pct(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    double *v;
    size_t n;
    if (pct_values(x, c, r, &v, &n))
        return -1;
    int rc = r->verdict != V_NOT_AUDITABLE ? median_row(x, r, v, n) : 0;
    free(v);
    return rc;
}

static int k_mean_pct(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    double *v;
    size_t n;
    if (pct_values(x, c, r, &v, &n))
        return -1;
    if (r->verdict != V_NOT_AUDITABLE)
        mean_row(x, r, v, n);
    free(v);
    return 0;
}

/* Kaplan–Meier over treatments to response; *tmax the longest follow-up, *open 1 when a
 * patient is censored there (then S is unknown beyond tmax; after a final event it is not). */
/* 1 when the memo holds the curve of claim c's selection on instrument instr. */
static int km_memo_hit(const struct km_memo *k, int instr, const struct claim *c)
{
    if (k->instr != instr || k->kind != c->sub.kind)
        return 0;
    switch (c->sub.kind) {
    case SUB_ALL:
        return 1;
    case SUB_BASELINE_LE:
    case SUB_BASELINE_GE:
        return k->sub_x == c->sub.x;
    case SUB_COV_EQ:
        if (strcmp(k->cov, c->sub.cov) || strcmp(k->value, c->sub.value) ||
            k->n_and != c->sub.n_and)
            return 0;
        for (size_t j = 0; j < c->sub.n_and; j++)
            if (strcmp(k->and_cov[j], c->sub.and_cov[j]) ||
                strcmp(k->and_value[j], c->sub.and_value[j]))
                return 0;
        return 1;
    }
    return 0;
}

/* A malloc'd copy of n elements of size bytes at src; NULL for none (n = 0) or out of memory
 * (*fail set). */
static void *dup_n(const void *src, size_t n, size_t size, int *fail)
{
    if (!n)
        return NULL;
    void *d = malloc(n * size);
    if (!d)
        *fail = 1;
    else
        memcpy(d, src, n * size);
    return d;
}

/* A copy of src the caller owns (free with stats_km_free); -1 when out of memory. */
static int km_copy(const struct km *src, struct km *dst)
{
    int fail = 0;
    *dst = *src;
    dst->step = dup_n(src->step, src->n_steps, sizeof *src->step, &fail);
    dst->followed = dup_n(src->followed, src->n_followed, sizeof *src->followed, &fail);
    dst->cens = dup_n(src->cens, src->n_cens, sizeof *src->cens, &fail);
    if (fail) {
        stats_km_free(dst);
        return -1;
    }
    return 0;
}

/* Work out the curve of claim c's selection on instrument instr into the memo. */
static int km_memo_fill(const struct ctx *x, const struct claim *c, int instr, int cov)
{
    struct km_memo *k = x->memo->km;
    stats_km_free(&k->km);
    memset(k, 0, sizeof *k);
    k->instr = -1;
    k->tmax = NAN;
    size_t nr, n = 0;
    const uint32_t *rec = recs_of(x, instr, &nr);
    if (!rec)
        return -1;
    size_t cap = nr ? nr : 1;
    double *t = malloc(cap * sizeof *t);
    int *ev = malloc(cap * sizeof *ev);
    if (!t || !ev) {
        free(t);
        free(ev);
        return -1;
    }
    for (size_t i = 0; i < nr; i++) {
        const struct pmeasure *m = &x->ps->m[rec[i]];
        if (!measure_in(x, c, cov, m))
            continue;
        if (m->sessions_to_response < 0) {
            k->excluded++;
            continue;
        }
        t[n] = m->sessions_to_response;
        ev[n] = m->responded ? 1 : 0;
        if (isnan(k->tmax) || t[n] > k->tmax) {
            k->tmax = t[n];
            k->open = 0;
        }
        if (t[n] == k->tmax && !ev[n])
            k->open = 1;
        n++;
    }
    k->n = n;
    if (n > 0 && stats_km(t, ev, n, x->o->level, &k->km) == 0)
        k->ok = 1;
    else
        memset(&k->km, 0, sizeof k->km);
    free(t);
    free(ev);
    k->instr = instr;
    k->kind = c->sub.kind;
    k->sub_x = c->sub.x;
    k->cov = c->sub.cov;
    k->value = c->sub.value;
    k->n_and = c->sub.n_and;
    for (size_t j = 0; j < c->sub.n_and; j++) {
        k->and_cov[j] = c->sub.and_cov[j];
        k->and_value[j] = c->sub.and_value[j];
    }
    return 0;
}

/* Kaplan–Meier over treatments to response; *tmax the longest follow-up, *open 1 when a
 * patient is censored there (then S is unknown beyond tmax; after a final event it is not).
 * The curve comes from the memo when the last one was of the same selection; *km is the
 * caller's copy, to free with stats_km_free when *ok. */
static int km_of(const struct ctx *x, const struct claim *c, struct audit_row *r,
                 struct km *km, int *ok, double *tmax, int *open)
{
    int instr, cov;
    *ok = 0;
    *tmax = NAN;
    *open = 0;
    if (resolve(x, c, r, 1, &instr, &cov))
        return 0;
    const struct km_memo *k = x->memo->km;
    if (!km_memo_hit(k, instr, c) && km_memo_fill(x, c, instr, cov))
        return -1;
    if (k->excluded)
        note_add(r, "excluded: %zu with one visit or baseline 0", k->excluded);
    note_add(r, "response = >= 30%% improvement; treatments counted before the responding "
                "visit");
    r->n = k->n;
    *tmax = k->tmax;
    *open = k->open;
    if (k->ok) {
        if (km_copy(&k->km, km))
            return -1;
        *ok = 1;
    }
    return 0;
}

static int k_km_median(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    struct km km;
    int ok, open;
    double tmax;
    memset(&km, 0, sizeof km);
    if (km_of(x, c, r, &km, &ok, &tmax, &open))
        return -1;
    if (!ok)
        return 0;
    r->est = km.q[1];
    r->lo = km.q_lo[1];
    r->hi = km.q_hi[1];
    snprintf(r->method, sizeof r->method, "Kaplan-Meier median, Brookmeyer-Crowley (log-log)");
    if (isnan(r->est))
        note_add(r, "median not reached within %g treatments", tmax);
    /* A lower limit found past a censoring, where fewer are followed, is exclusive
     * (stats.h): the median lies above it. */
    r->ci_lo_open = km.q_lo_open[1];
    if (km.q_lo_censor[1] && (r->lo > tmax || (r->ci_lo_open && r->lo >= tmax)))
        note_add(r, "CI lower limit: the median lies beyond the longest follow-up, %g "
                    "treatments", tmax);
    else if (r->ci_lo_open)
        note_add(r, "CI lower limit exclusive: the median lies above %g treatments; past that "
                    "too few were followed to place it later (band widened for censoring)",
                 r->lo);
    else if (km.q_lo_censor[1])
        note_add(r, "CI lower limit read past a censoring, where fewer are followed");
    if (isnan(r->hi)) {
        r->hi = INFINITY;
        note_add(r, "CI upper limit not reached (open-ended)");
    }
    snprintf(r->test, sizeof r->test, "none: verdict from the Brookmeyer-Crowley CI");
    stats_km_free(&km);
    return 0;
}

static int k_cum_response(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    struct km km;
    int ok, open;
    double tmax;
    memset(&km, 0, sizeof km);
    if (km_of(x, c, r, &km, &ok, &tmax, &open))
        return -1;
    if (!ok)
        return 0;
    snprintf(r->test, sizeof r->test, "none: verdict from the KM CI");
    if (c->param > tmax && open) {
        note_add(r, "%g treatments is beyond the longest follow-up (%g)", c->param, tmax);
        r->n = 0;   /* nothing observed there: insufficient, whatever the cohort size */
    } else if (km.n_events == 0) {
        double s, slo, shi;
        stats_km_at(&km, c->param, &s, &slo, &shi);
        long nt = stats_km_followed(&km, c->param);
        r->est = 0;
        if (nt > 0 && isfinite(slo)) {
            r->lo = 0;
            r->hi = 100 * (1 - slo);
            snprintf(r->method, sizeof r->method,
                     "Kaplan-Meier 1-S(t) = 0, exact (Clopper-Pearson) bound");
            note_add(r, "no patient responded: 0 of the %ld followed to %g treatments or "
                        "longer, exact binomial upper limit", nt, c->param);
        } else {
            snprintf(r->method, sizeof r->method, "Kaplan-Meier 1-S(t) = 0, no interval");
            note_add(r, "no patient responded, and none was followed to %g treatments: "
                        "no interval", c->param);
        }
    } else {
        double s, slo, shi;
        stats_km_at(&km, c->param, &s, &slo, &shi);
        r->est = 100 * (1 - s);
        r->lo = 100 * (1 - shi);
        r->hi = 100 * (1 - slo);
        snprintf(r->method, sizeof r->method, "Kaplan-Meier 1-S(t), log-log CI");
        /* The log-log band does not exist at S = 1 or S = 0; stats_km_at bounds it by the
         * nearest band, which the note names so the limit can be traced. */
        if (isnan(r->lo) || isnan(r->hi))
            note_add(r, "no CI: everyone at risk responded at the first response time");
        else if (s == 1)
            note_add(r, "nobody responded by %g treatments: the upper limit is that of the "
                        "first response time (1-S cannot fall)", c->param);
        else if (s == 0 && stats_km_all_events(&km)) {
            snprintf(r->method, sizeof r->method,
                     "Kaplan-Meier 1-S(t) = 1, exact (Clopper-Pearson) bound");
            note_add(r, "all %zu had responded by %g treatments, none censored before: exact "
                        "binomial lower limit", km.n, c->param);
        } else if (s == 0 && km.n_steps == 1) {
            snprintf(r->method, sizeof r->method,
                     "Kaplan-Meier 1-S(t) = 1, exact (Clopper-Pearson) bound");
            note_add(r, "all %ld at risk at the first response time responded then: exact "
                        "binomial lower limit", km.step[0].n_risk);
        } else if (s == 0)
            note_add(r, "everyone still followed had responded by %g treatments: the lower "
                        "limit is the larger of the last response time's before (1-S cannot "
                        "fall) and the exact one for the %ld at risk responding, each at "
                        "alpha/4 (Bonferroni)", c->param, km.step[km.n_steps - 1].n_risk);
    }
    stats_km_free(&km);
    return 0;
}

static int k_durable(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    int instr, cov;
    if (resolve(x, c, r, 1, &instr, &cov))
        return 0;
    long k = 0, n = 0, unknown = 0;
    size_t nr;
    const uint32_t *rec = recs_of(x, instr, &nr);
    if (!rec)
        return -1;
    for (size_t i = 0; i < nr; i++) {
        const struct pmeasure *m = &x->ps->m[rec[i]];
        if (!measure_in(x, c, cov, m))
            continue;
        int durable = pm_durable(m);
        if (durable < 0) {
            unknown++;
            continue;
        }
        n++;
        k += durable == 1;
    }
    note_add(r, "durable = >= 30%% at end of course and at month 12 (365+-42 days); "
                "%ld without a month-12 score excluded", unknown);
    set_binomial(x, r, k, n);
    return 0;
}

static int k_immediate(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    int instr, cov;
    if (!x->ds->pain_post) {
        not_auditable(r, "pain_post", "needs the pain score after the needles (pain_post)");
        return 0;
    }
    if (strcasecmp(c->instrument, "pain") != 0) {
        not_auditable(r, "pain_post", "within-session change is recorded for pain only");
        return 0;
    }
    if (resolve(x, c, r, 1, &instr, &cov))
        return 0;
    long k = 0, n = 0;
    size_t nr;
    const uint32_t *rec = recs_of(x, instr, &nr);
    if (!rec)
        return -1;
    for (size_t i = 0; i < nr; i++) {
        const struct pmeasure *m = &x->ps->m[rec[i]];
        if (!measure_in(x, c, cov, m) || m->n_immediate <= 0 || isnan(m->immediate))
            continue;
        n++;
        k += m->immediate >= c->param - PCT_EPS;
    }
    note_add(r, "per patient: mean of (pain - pain_post) over sessions >= %g points",
             c->param);
    set_binomial(x, r, k, n);
    return 0;
}

static int k_first_session(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    int instr, cov;
    if (resolve(x, c, r, 1, &instr, &cov))
        return 0;
    long k = 0, n = 0;
    size_t nr;
    const uint32_t *rec = recs_of(x, instr, &nr);
    if (!rec)
        return -1;
    for (size_t i = 0; i < nr; i++) {
        const struct pmeasure *m = &x->ps->m[rec[i]];
        if (!measure_in(x, c, cov, m) || m->sessions_to_response < 0)
            continue;
        if (m->responded && m->sessions_to_response <= 1) {
            k++;
            n++;
        } else if (m->sessions_to_response >= 1) {
            n++;
        }
    }
    note_add(r, "response (>= 30%%) at the visit after one treatment; a patient first scored "
                "later counts as not yet responding");
    set_binomial(x, r, k, n);
    return 0;
}

static int k_adverse(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    int instr, cov;
    if (resolve(x, c, r, 0, &instr, &cov))
        return 0;
    size_t np = x->ds->n_patients;
    struct memo *mm = x->memo;
    if (!mm->adverse_ready) {   /* the same for every adverse claim: once per run */
        mm->adverse = digest_of(x->ds, &mm->adverse_local);
        if (!mm->adverse)
            return -1;
        mm->adverse_ready = 1;
    }
    const struct visit_digest *dg = mm->adverse;
    const int8_t *st = dg->adverse;
    if (!dg->adverse_any) {
        not_auditable(r, "adverse_event", "no visit records adverse_event");
        return 0;
    }
    if (dg->n_patients < np)
        np = dg->n_patients;
    long k = 0, n = 0;
    for (size_t p = 0; p < np; p++) {
        if (st[p] < 0 || !patient_in(x, c, cov, p))
            continue;
        n++;
        k += st[p] == 1;
    }
    note_add(r, "per patient, any visit flagged adverse_event; severity is not recorded");
    set_binomial(x, r, k, n);
    return 0;
}

/* parse_age of patient p's age covariate, worked out once per distinct value. */
static int age_of(const struct ctx *x, size_t p, int age_c, double *age)
{
    uint32_t v = cov_index(x->ds, p, age_c);
    if (v == UINT32_MAX)
        return parse_age(NULL, age);
    struct memo *m = x->memo;
    if (m->age_ok[v] < 0) {
        double a = NAN;
        m->age_ok[v] = (int8_t)(parse_age(x->ds->cov_str[v], &a) == 0);
        m->age[v] = a;
    }
    if (!m->age_ok[v])
        return -1;
    *age = m->age[v];
    return 0;
}

/* sex_of of patient p's sex covariate, worked out once per distinct value. */
static int sex_memo(const struct ctx *x, size_t p, int sex_c)
{
    uint32_t v = cov_index(x->ds, p, sex_c);
    if (v == UINT32_MAX)
        return sex_of(NULL);
    int8_t *m = &x->memo->sex[v];
    if (*m < 0)
        *m = (int8_t)(sex_of(x->ds->cov_str[v]) + 1);
    return *m - 1;
}

static int k_age(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    int instr, cov;
    int female = c->stat == CS_FEMALE_SHARE_AGE_RANGE;
    int age_c = dataset_cov_index(x->ds, "age");
    int sex_c = dataset_cov_index(x->ds, "sex");
    if (age_c < 0) {
        not_auditable(r, "age", "needs an age column");
        return 0;
    }
    if (female && sex_c < 0) {
        not_auditable(r, "sex", "needs a sex column");
        return 0;
    }
    if (resolve(x, c, r, 0, &instr, &cov))
        return 0;
    long k = 0, n = 0, bad = 0, other = 0;
    for (size_t p = 0; p < x->ds->n_patients; p++) {
        if (!patient_in(x, c, cov, p))
            continue;
        double age;
        if (age_of(x, p, age_c, &age)) {
            bad++;
            continue;
        }
        int in = age >= c->param_lo && age <= c->param_hi;
        if (!female) {
            n++;
            k += in;
            continue;
        }
        if (!in)
            continue;
        int s = sex_memo(x, p, sex_c);
        if (s < 0) {
            other++;
            continue;
        }
        n++;
        k += s;
    }
    if (bad)
        note_add(r, "%ld patients without a usable age excluded", bad);
    if (other)
        note_add(r, "%ld patients with sex other than female/male or missing excluded", other);
    note_add(r, "clinic case mix, not a population sample");
    set_binomial(x, r, k, n);
    return 0;
}

static int k_late(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    int instr, cov;
    if (resolve(x, c, r, 1, &instr, &cov))
        return 0;
    long k = 0, n = 0;
    size_t nr;
    const uint32_t *rec = recs_of(x, instr, &nr);
    if (!rec)
        return -1;
    for (size_t i = 0; i < nr; i++) {
        const struct pmeasure *m = &x->ps->m[rec[i]];
        if (!measure_in(x, c, cov, m) || !m->responded || m->days_to_response < 0)
            continue;
        n++;
        k += m->days_to_response > c->param * 7;
    }
    note_add(r, "among responders (>= 30%%): first response later than %g weeks (day %g)",
             c->param, c->param * 7);
    set_binomial(x, r, k, n);
    return 0;
}

/* Arm of a patient for a difference row: 1 treatment, 0 control, -1 neither (arm missing,
 * or another arm when the row names its treatment arm). */
static int arm_of_value(const struct claim *c, const char *v)
{
    if (!*v)
        return -1;
    if (strcasecmp(v, c->sub.control) == 0)
        return 0;
    if (c->sub.kind == SUB_COV_EQ)
        return strcasecmp(v, c->sub.value) == 0 ? 1 : -1;
    return 1;
}

/* The same, worked out once per distinct arm value of the current claim. */
static int arm_of(const struct ctx *x, const struct claim *c, int arm, size_t patient)
{
    uint32_t v = cov_index(x->ds, patient, arm);
    if (v == UINT32_MAX)
        return -1;
    struct memo *m = x->memo;
    if (!m->arm_ready) {
        memset(m->arm, -1, m->n);
        m->arm_ready = 1;
    }
    if (m->arm[v] < 0)
        m->arm[v] = (int8_t)(arm_of_value(c, x->ds->cov_str[v]) + 1);
    return m->arm[v] - 1;
}

struct welch_data {
    double mean, se, df;
};

/* One-sided Welch t: the same t and df that give the Welch CI, so p and verdict agree. */
static double welch_tail(const void *data, double v, int above)
{
    const struct welch_data *w = data;
    double t = (w->mean - v) / w->se;
    return above ? gsl_cdf_tdist_Q(t, w->df) : gsl_cdf_tdist_P(t, w->df);
}

/* Treatment minus control (subgroup vs=CONTROL): responder shares by Newcombe's hybrid score
 * interval, mean percent improvements by Welch's t; percentage points either way. Percent
 * improvement is direction-aware, so a positive difference favours the treatment arm. */
static int k_diff(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    int arm = dataset_cov_index(x->ds, "arm");
    if (arm < 0) {
        not_auditable(r, "arm", "a difference against the control arm needs an arm column");
        return 0;
    }
    size_t seen[2] = {0, 0};   /* patients per arm, whatever their measures */
    for (size_t p = 0; p < x->ds->n_patients; p++) {
        int g = arm_of(x, c, arm, p);
        if (g >= 0)
            seen[g]++;
    }
    if (!seen[0] || !seen[1]) {
        char why[256];
        if (!seen[0])
            snprintf(why, sizeof why, "no patient is in the control arm '%s'", c->sub.control);
        else if (c->sub.kind == SUB_COV_EQ)
            snprintf(why, sizeof why, "no patient is in the treatment arm '%s'", c->sub.value);
        else
            snprintf(why, sizeof why, "no patient is in an arm other than '%s'",
                     c->sub.control);
        not_auditable(r, "arm", why);
        return 0;
    }
    int instr = instr_index(x->ds, c->instrument);
    if (instr < 0) {
        char why[160];
        snprintf(why, sizeof why, "the visit files have no '%s' column", c->instrument);
        not_auditable(r, c->instrument, why);
        return 0;
    }
    size_t nr;
    const uint32_t *rec = recs_of(x, instr, &nr);
    if (!rec)
        return -1;
    size_t cap = nr ? nr : 1;
    size_t n[2] = {0, 0}, single = 0, zero = 0, no_arm = 0;
    double *v[2] = {malloc(cap * sizeof(double)), malloc(cap * sizeof(double))};
    if (!v[0] || !v[1]) {
        free(v[0]);
        free(v[1]);
        return -1;
    }
    for (size_t i = 0; i < nr; i++) {
        const struct pmeasure *m = &x->ps->m[rec[i]];
        int g = arm_of(x, c, arm, m->patient);
        if (g < 0) {
            const char *a = dataset_cov(x->ds, m->patient, arm);
            no_arm += !a || !*a;
            continue;
        }
        double pct = pm_pct(m);
        if (!isnan(pct))
            v[g][n[g]++] = pct;
        else if (pm_zero_baseline(m))
            zero++;
        else
            single++;
    }
    if (single || zero)
        note_add(r, "excluded: %zu with one visit, %zu with baseline 0", single, zero);
    if (no_arm)
        note_add(r, "excluded: %zu without an arm", no_arm);
    r->n_arm[0] = n[1];   /* n_arm is {treatment, control}; v[] is indexed by arm_of */
    r->n_arm[1] = n[0];
    r->n = n[0] + n[1];
    char tname[160];
    if (c->sub.kind == SUB_COV_EQ)
        snprintf(tname, sizeof tname, "arm '%s'", c->sub.value);
    else
        snprintf(tname, sizeof tname, "all arms but '%s'", c->sub.control);
    if (r->stat == CS_RESPONDER_SHARE_DIFF) {
        long k[2] = {0, 0};
        for (int g = 0; g < 2; g++)
            for (size_t i = 0; i < n[g]; i++)
                k[g] += v[g][i] >= c->param - PCT_EPS;
        note_add(r, "treatment = %s: %ld of %zu with >= %g%% improvement; control '%s': %ld of "
                    "%zu", tname, k[1], n[1], c->param, c->sub.control, k[0], n[0]);
        double d, lo, hi;
        if (n[0] && n[1] &&
            stats_prop_diff_newcombe(k[1], (long)n[1], k[0], (long)n[0], x->o->level, &d, &lo,
                                     &hi) == 0) {
            r->est = 100 * d;
            r->lo = 100 * lo;
            r->hi = 100 * hi;
            snprintf(r->method, sizeof r->method, "Newcombe hybrid score (method 10)");
        }
        snprintf(r->test, sizeof r->test, "none: verdict from the Newcombe CI");
    } else {
        note_add(r, "treatment = %s: %zu patients; control '%s': %zu", tname, n[1],
                 c->sub.control, n[0]);
        struct tres t;
        if (stats_t_welch(v[1], n[1], v[0], n[0], x->o->level, &t) == 0) {
            r->est = t.mean;
            r->lo = t.lo;
            r->hi = t.hi;
            snprintf(r->method, sizeof r->method, "Welch t, %.1f df", t.df);
            struct welch_data w = {t.mean, t.se, t.df};
            r->p = p_against(r, welch_tail, &w);
            snprintf(r->test, sizeof r->test, "Welch t (one-sided)");
        } else {
            snprintf(r->test, sizeof r->test, "none: Welch t needs 2 patients per arm and some "
                                              "spread");
        }
    }
    note_add(r, "between arms as allocated in the data: randomisation is not checked");
    free(v[0]);
    free(v[1]);
    return 0;
}

static int k_none(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    (void)x;
    not_auditable(r, *c->needs ? c->needs : "(unspecified)",
                  "the visit files cannot speak to this claim");
    return 0;
}

static const kernel_fn kernels[CS__COUNT] = {
    [CS_RESPONDER_SHARE_PCT] = k_pct_share,
    [CS_SHARE_REACHING_PCT] = k_pct_share,
    [CS_MEDIAN_PCT_IMPROVEMENT] = k_median_pct,
    [CS_MEAN_PCT_IMPROVEMENT] = k_mean_pct,
    [CS_KM_MEDIAN_SESSIONS] = k_km_median,
    [CS_CUM_RESPONSE_BY_SESSION] = k_cum_response,
    [CS_DURABLE_SHARE] = k_durable,
    [CS_IMMEDIATE_SHARE] = k_immediate,
    [CS_FIRST_SESSION_SHARE] = k_first_session,
    [CS_ADVERSE_RATE] = k_adverse,
    [CS_SHARE_AGE_RANGE] = k_age,
    [CS_FEMALE_SHARE_AGE_RANGE] = k_age,
    [CS_WEEKS_NO_IMPROVEMENT] = k_late,
    [CS_NOT_AUDITABLE] = k_none,
    [CS_RESPONDER_SHARE_DIFF] = k_diff,
    [CS_MEAN_PCT_IMPROVEMENT_DIFF] = k_diff,
};

/* ---- driver ---- */

static struct audit_row *new_row(struct audit_result *res, const struct claim *c)
{
    if (res->n == res->cap) {
        size_t nc = res->cap ? 2 * res->cap : 64;
        struct audit_row *nr = realloc(res->row, nc * sizeof *nr);
        if (!nr)
            return NULL;
        res->row = nr;
        res->cap = nc;
    }
    struct audit_row *r = &res->row[res->n++];
    memset(r, 0, sizeof *r);
    r->claim = c;
    r->stat = c->stat;
    r->cmp = c->cmp;
    r->verdict = V__COUNT;   /* not decided yet */
    r->k = -1;
    r->est = r->lo = r->hi = r->p = r->p_holm = r->posterior = NAN;
    r->claim_lo = r->claim_hi = NAN;
    r->n_to_settle = -1;
    return r;
}

static void claimed_set(const struct claim *c, struct audit_row *r)
{
    switch (c->cmp) {
    case CMP_GE: r->claim_lo = c->value; r->claim_hi = INFINITY; break;
    case CMP_LE: r->claim_lo = -INFINITY; r->claim_hi = c->value; break;
    case CMP_RANGE: r->claim_lo = c->value_lo; r->claim_hi = c->value_hi; break;
    case CMP_UPTO: r->claim_lo = c->value; r->claim_hi = INFINITY; break;
    default: break;
    }
}

/* Verdict, and for binomial shares the exact p, posterior and n to settle. */
static void finish_row(const struct ctx *x, struct audit_row *r)
{
    if (r->verdict == V_NOT_AUDITABLE) {
        r->p = NAN;
        snprintf(r->test, sizeof r->test, "none: not auditable");
        return;
    }
    if (r->k >= 0 && r->n > 0) {
        struct binom_data b = {r->k, (long)r->n};
        r->p = p_against(r, binom_tail, &b);
        if (r->claim_lo_open)   /* share > 0: one patient settles it, no test to run */
            snprintf(r->test, sizeof r->test, "none: a share above 0 needs only k > 0");
        else
            snprintf(r->test, sizeof r->test, "exact binomial (one-sided)");
        long n = (long)r->n;
        if (!r->claim_lo_open) {
            int lo_f = isfinite(r->claim_lo), hi_f = isfinite(r->claim_hi);
            double plo = lo_f ? r->claim_lo / 100 : 0, phi = hi_f ? r->claim_hi / 100 : 1;
            if (lo_f && hi_f)
                r->posterior = audit_jeffreys_posterior(r->k, n, phi, 0) -
                               audit_jeffreys_posterior(r->k, n, plo, 0);
            else if (lo_f)
                r->posterior = audit_jeffreys_posterior(r->k, n, plo, 1);
            else if (hi_f)
                r->posterior = audit_jeffreys_posterior(r->k, n, phi, 0);
        }
    }
    if (claim_stat_defs[r->stat].is_diff) {
        /* A difference is as weak as its smaller arm. */
        for (int g = 0; g < 2; g++)
            if (r->n_arm[g] < x->o->min_n) {
                r->verdict = V_INSUFFICIENT;
                r->p = NAN;
                snprintf(r->test, sizeof r->test, "none: %s arm n %zu below the minimum %zu",
                         g ? "control" : "treatment", r->n_arm[g], x->o->min_n);
                return;
            }
    } else if (r->n < x->o->min_n) {
        r->verdict = V_INSUFFICIENT;
        r->p = NAN;
        snprintf(r->test, sizeof r->test, "none: n %zu below the minimum %zu", r->n,
                 x->o->min_n);
        return;
    }
    if (isnan(r->est) && isnan(r->lo) && isnan(r->hi)) {
        r->verdict = V_INSUFFICIENT;
        note_add(r, "no estimate could be computed");
        return;
    }
    /* An exclusive lower limit (lo, hi]: the next double up decides every comparison with
     * the claimed set as the open end does (x > lo <=> x >= nextafter(lo)). */
    double lo = r->ci_lo_open ? nextafter(r->lo, INFINITY) : r->lo;
    r->verdict = audit_verdict(lo, r->hi, r->claim_lo, r->claim_hi, r->claim_lo_open);
    /* Against one bound, the verdict (Wilson interval) and the exact one-sided p at
     * (1 - level)/2 can part within a hair of the claim: 0 of 20 against ">= 16.5%" has a
     * Wilson upper limit of 16.1% (contradicted) but p = 0.835^20 = 0.027. Say so rather
     * than leave a reader to find a contradiction with p above 0.025. */
    if (r->k >= 0 && isfinite(r->p) && isfinite(r->claim_lo) != isfinite(r->claim_hi)) {
        double a2 = (1 - x->o->level) / 2;
        int rejects = r->p < a2, contra = r->verdict == V_CONTRADICTED;
        if (rejects != contra)
            note_add(r, "at this margin the Wilson interval and the exact test part: the "
                        "interval %s the claim, the exact one-sided p = %.4f is %s %g; the "
                        "verdict follows the interval", contra ? "excludes" : "meets", r->p,
                     rejects ? "below" : "not below", a2);
    }
    if (r->verdict == V_INCONCLUSIVE && r->k >= 0 && !r->claim_lo_open) {
        double ph = (double)r->k / (double)r->n, target;
        if (isfinite(r->claim_lo) && isfinite(r->claim_hi))
            target = fabs(ph - r->claim_lo / 100) < fabs(ph - r->claim_hi / 100)
                         ? r->claim_lo / 100 : r->claim_hi / 100;
        else
            target = isfinite(r->claim_lo) ? r->claim_lo / 100 : r->claim_hi / 100;
        r->n_to_settle = audit_n_to_settle(ph, target, x->o->level);
    }
    /* A range is refuted from either side, and the verdict alone does not say which: a
     * claim of 6-12 treatments refuted by patients responding after 3 reads as a failure
     * when the patients did better than claimed. */
    if (r->verdict == V_CONTRADICTED && r->cmp == CMP_RANGE && isfinite(r->claim_lo) &&
        isfinite(r->claim_hi) && isfinite(r->est)) {
        int below = r->est < r->claim_lo;
        if (strcmp(claim_stat_defs[r->stat].unit, "treatments") == 0)
            note_add(r, below ? "below the claimed range: patients responded after fewer "
                                "treatments than claimed"
                              : "above the claimed range: patients needed more treatments "
                                "than claimed");
        else
            note_add(r, below ? "below the claimed range" : "above the claimed range");
    }
}

/* 1 when one of a covariate subgroup's conditions is on `arm`: the row keeps to one arm. */
static int sub_selects_arm(const struct subgroup *g)
{
    if (g->kind != SUB_COV_EQ)
        return 0;
    if (strcmp(g->cov, "arm") == 0)
        return 1;
    for (size_t j = 0; j < g->n_and; j++)
        if (strcmp(g->and_cov[j], "arm") == 0)
            return 1;
    return 0;
}

/* 1 when some patient's value of covariate k is v (ignoring case, as patient_in). */
static int cov_value_seen(const struct dataset *ds, int k, const char *v)
{
    for (size_t p = 0; p < ds->n_patients; p++) {
        uint32_t i = cov_index(ds, p, k);
        if (i != UINT32_MAX && strcasecmp(ds->cov_str[i], v) == 0)
            return 1;
    }
    return 0;
}

/* An empty subgroup is most often a value misspelt in the registry, or one read apart at a
 * '&' it holds: name each condition no patient meets, not just "n 0". */
static void note_unseen_values(const struct ctx *x, const struct claim *c, struct audit_row *r)
{
    if (c->sub.kind != SUB_COV_EQ || r->n != 0 || r->verdict == V_NOT_AUDITABLE)
        return;
    for (size_t j = 0; j <= c->sub.n_and; j++) {
        const char *cov = j ? c->sub.and_cov[j - 1] : c->sub.cov;
        const char *v = j ? c->sub.and_value[j - 1] : c->sub.value;
        int k = dataset_cov_index(x->ds, cov);
        if (k >= 0 && !cov_value_seen(x->ds, k, v))
            note_add(r, "no patient has %s '%s'", cov, v);
    }
}

static int run_one(const struct ctx *x, const struct claim *c, struct audit_result *res,
                   enum claim_stat stat, const char *part)
{
    struct audit_row *r = new_row(res, c);
    if (!r)
        return -1;
    r->stat = stat;
    snprintf(r->part, sizeof r->part, "%s", part);
    claimed_set(c, r);
    if (c->cmp == CMP_UPTO && stat != CS_NOT_AUDITABLE) {
        r->cmp = CMP_GE;
        if (strcmp(part, "reach") == 0) {
            r->claim_lo = 0;   /* "up to X": true as soon as one patient reaches X */
            r->claim_lo_open = 1;
            note_add(r, "'up to %g%%' is a maximum: audited as the share reaching %g%%, "
                        "which only needs one patient; as worded the claim cannot be refuted",
                     c->value, c->value);
        } else {
            note_add(r, "'up to %g%%' is a maximum: audited as typical (median) improvement "
                        ">= %g%%; as worded the claim cannot be refuted", c->value, c->value);
        }
    }
    struct claim local = *c;   /* the reach part counts patients reaching X */
    if (strcmp(part, "reach") == 0)
        local.param = c->value;
    x->memo->sub_ready = x->memo->arm_ready = 0;   /* they hold the last claim's answers */
    if (kernels[stat](x, &local, r))
        return -1;
    if (stat != CS_NOT_AUDITABLE && !c->sub.control && dataset_cov_index(x->ds, "arm") >= 0 &&
        !sub_selects_arm(&c->sub))
        note_add(r, "the data have an arm column: this row pools all arms");
    note_unseen_values(x, c, r);
    finish_row(x, r);
    return 0;
}

static void ctx_free(struct ctx *x)
{
    if (x->recs) {
        free(x->recs->idx);
        x->recs->idx = NULL;
        x->recs->instr = -1;
    }
    if (x->memo) {
        struct memo *m = x->memo;
        free(m->sub);
        free(m->arm);
        free(m->sex);
        free(m->age_ok);
        free(m->age);
        digest_free(&m->adverse_local);
        if (m->km)
            stats_km_free(&m->km->km);
        free(m->km);
    }
    x->recs = NULL;
    x->memo = NULL;
}

/* The empty memo and record cache, for one audit_run. */
static int ctx_init(struct ctx *x, struct memo *m, struct recs *r)
{
    const struct dataset *ds = x->ds;
    memset(m, 0, sizeof *m);
    memset(r, 0, sizeof *r);
    r->instr = -1;
    x->memo = m;
    x->recs = r;
    size_t ns = ds->n_cov_str ? ds->n_cov_str : 1;
    m->n = ds->n_cov_str;
    m->sub = malloc(ns * SUB_AND_MAX);
    m->arm = malloc(ns);
    m->sex = malloc(ns);
    m->age_ok = malloc(ns);
    m->age = malloc(ns * sizeof *m->age);
    m->km = calloc(1, sizeof *m->km);
    if (m->km)
        m->km->instr = -1;
    if (!m->sub || !m->arm || !m->sex || !m->age_ok || !m->age || !m->km) {
        ctx_free(x);
        return -1;
    }
    memset(m->sex, -1, ns);
    memset(m->age_ok, -1, ns);
    return 0;
}

int audit_run(const struct claim_set *cs, const struct dataset *ds,
              const struct patient_set *ps, const struct audit_opts *opts,
              struct audit_result *out, struct out_error *e)
{
    struct audit_opts def;
    if (!opts) {
        audit_opts_default(&def);
        opts = &def;
    }
    struct ctx x = {ds, ps, opts, NULL, NULL};
    struct memo memo;
    struct recs recs;
    audit_result_free(out);
    if (ctx_init(&x, &memo, &recs) != 0)
        return out_err(e, OUT_EINTERNAL, cs->path, 0, 0, "out of memory");
    for (size_t i = 0; i < cs->n; i++) {
        const struct claim *c = &cs->c[i];
        int rc;
        if (c->cmp == CMP_UPTO && c->stat != CS_NOT_AUDITABLE)
            rc = run_one(&x, c, out, CS_MEDIAN_PCT_IMPROVEMENT, "median") ||
                 run_one(&x, c, out, CS_SHARE_REACHING_PCT, "reach");
        else if (c->sub.control && c->stat != CS_NOT_AUDITABLE)   /* vs=CONTROL */
            rc = run_one(&x, c, out, claim_stat_diff(c->stat), "");
        else
            rc = run_one(&x, c, out, c->stat, "");
        if (rc) {
            ctx_free(&x);
            audit_result_free(out);
            return out_err(e, OUT_EINTERNAL, cs->path, c->line, 0, "out of memory");
        }
    }
    ctx_free(&x);
    double *p = malloc((out->n ? out->n : 1) * sizeof *p);
    if (!p) {
        audit_result_free(out);
        return out_err(e, OUT_EINTERNAL, cs->path, 0, 0, "out of memory");
    }
    for (size_t i = 0; i < out->n; i++) {
        enum verdict v = out->row[i].verdict;
        p[i] = (v == V_SUPPORTED || v == V_CONTRADICTED || v == V_INCONCLUSIVE)
                   ? out->row[i].p : NAN;
    }
    size_t m = audit_holm(p, p, out->n);
    if (m == (size_t)-1) {
        free(p);
        audit_result_free(out);
        return out_err(e, OUT_EINTERNAL, cs->path, 0, 0, "out of memory");
    }
    out->n_tested = m;
    for (size_t i = 0; i < out->n; i++)
        out->row[i].p_holm = p[i];
    free(p);
    return 0;
}

/* ---- audit.csv ---- */

/* digits < 0: fixed with -digits decimals; else %.{digits}g. */
static void put_num(FILE *fp, double v, int digits)
{
    if (isnan(v))
        fputs("n/a", fp);
    else if (isinf(v))   /* only an open-ended KM limit is infinite */
        fputs("not reached", fp);
    else if (digits < 0)
        fprintf(fp, "%.*f", -digits, v);
    else
        fprintf(fp, "%.*g", digits, v);
}

/* A bound of the claimed set: empty when unbounded on that side or not given. */
static void put_bound(FILE *fp, double v)
{
    if (isfinite(v))
        fprintf(fp, "%.6g", v);
}

static void claimed_text(const struct audit_row *r, char *buf, size_t n)
{
    const struct claim *c = r->claim;
    if (c->cmp == CMP_UPTO && r->part[0])
        snprintf(buf, n, strcmp(r->part, "reach") == 0 ? "up to %g: share reaching %g > 0"
                                                       : "up to %g: median >= %g",
                 c->value, c->value);
    else if (c->cmp == CMP_GE)
        snprintf(buf, n, ">= %g", c->value);
    else if (c->cmp == CMP_LE)
        snprintf(buf, n, "<= %g", c->value);
    else if (c->cmp == CMP_RANGE)
        snprintf(buf, n, "%g-%g", c->value_lo, c->value_hi);
    else if (c->cmp == CMP_UPTO)
        snprintf(buf, n, "up to %g", c->value);
    else
        buf[0] = '\0';
}

int audit_write_csv(const struct audit_result *r, FILE *fp, const char *name,
                    struct out_error *e)
{
    fputs("id,part,statistic,instrument,subgroup,param,comparison,claimed,claim_lo,claim_hi,"
          "claim_lo_open,unit,n,k,estimate,ci_lo,ci_hi,ci_lo_open,ci_method,verdict,p_one_sided,p_holm,"
          "test,posterior,n_to_settle,needs,note,source,seed,quote,reading\n", fp);
    for (size_t i = 0; i < r->n; i++) {
        const struct audit_row *w = &r->row[i];
        const struct claim *c = w->claim;
        const struct claim_stat_def *d = &claim_stat_defs[w->stat];
        char buf[160];
        esc_csv(fp, c->id);
        fputc(',', fp);
        esc_csv(fp, w->part);
        fputc(',', fp);
        esc_csv(fp, d->name);
        fputc(',', fp);
        esc_csv(fp, c->instrument);
        fputc(',', fp);
        esc_csv(fp, c->subgroup_text);
        fputc(',', fp);
        if (strcmp(w->part, "reach") == 0)
            snprintf(buf, sizeof buf, "%g", c->value);
        else if (d->param == PARAM_NUMBER)
            snprintf(buf, sizeof buf, "%g", c->param);
        else if (d->param == PARAM_RANGE)
            snprintf(buf, sizeof buf, "%s", c->param_text);
        else
            buf[0] = '\0';
        esc_csv(fp, buf);
        fputc(',', fp);
        esc_csv(fp, claim_cmp_name(c->cmp));
        fputc(',', fp);
        claimed_text(w, buf, sizeof buf);
        esc_csv(fp, buf);
        fputc(',', fp);
        put_bound(fp, w->claim_lo);
        fputc(',', fp);
        put_bound(fp, w->claim_hi);
        fprintf(fp, ",%d,", w->claim_lo_open);
        esc_csv(fp, d->unit);
        fprintf(fp, ",%zu,", w->n);
        if (w->k >= 0)
            fprintf(fp, "%ld", w->k);
        else
            fputs("n/a", fp);
        fputc(',', fp);
        put_num(fp, w->est, 6);
        fputc(',', fp);
        put_num(fp, w->lo, 6);
        fputc(',', fp);
        put_num(fp, w->hi, 6);
        fprintf(fp, ",%d,", w->ci_lo_open);
        esc_csv(fp, w->method[0] ? w->method : "n/a");
        fputc(',', fp);
        esc_csv(fp, audit_verdict_name(w->verdict));
        fputc(',', fp);
        put_num(fp, w->p, 4);
        fputc(',', fp);
        put_num(fp, w->p_holm, 4);
        fputc(',', fp);
        esc_csv(fp, w->test);
        fputc(',', fp);
        put_num(fp, w->posterior, -4);
        fputc(',', fp);
        if (w->n_to_settle >= 0)
            fprintf(fp, "%ld", w->n_to_settle);
        else
            fputs("n/a", fp);
        fputc(',', fp);
        esc_csv(fp, w->needs);
        fputc(',', fp);
        esc_csv(fp, w->note);
        fputc(',', fp);
        esc_csv(fp, c->source);
        fputc(',', fp);
        esc_csv(fp, c->seed);
        fputc(',', fp);
        esc_csv(fp, c->quote);
        fputc(',', fp);
        esc_csv(fp, c->reading);
        fputc('\n', fp);
    }
    if (ferror(fp))
        return out_err(e, OUT_EIO, name, 0, 0, "write error");
    return 0;
}
