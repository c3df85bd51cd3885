/* cohort.c — cohort statistics (see cohort.h). Each group is computed by one function over
 * the measures that pass a filter, so the whole cohort, every subgroup and every arm get
 * exactly the same methods. */
#include "cohort.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil_date.h"
#include "escape.h"

const int cohort_km_at[KM_AT_N] = {3, 6, 8, 12};

const char *cohort_km_q_method(const struct km *k, int q)
{
    if (k->q_lo_open[q])
        return "Kaplan-Meier, Brookmeyer-Crowley CI (log-log); lower limit exclusive (read "
               "past a censoring, where fewer are followed)";
    if (k->q_lo_censor[q])
        return "Kaplan-Meier, Brookmeyer-Crowley CI (log-log); lower limit read past a "
               "censoring, where fewer are followed";
    return "Kaplan-Meier, Brookmeyer-Crowley CI (log-log)";
}

void cohort_km_at_method(const struct km *k, double t, double share, char *buf, size_t size)
{
    /* With no response at all the limit is exact, not Greenwood's (stats_km_at). */
    long nt = stats_km_followed(k, t);
    if (nt > 0)
        snprintf(buf, size, "no response: exact limit for 0 of %ld followed", nt);
    else if (nt == 0)
        snprintf(buf, size, "no response, and nobody followed that far");
    else if (share == 1 && stats_km_all_events(k))
        snprintf(buf, size, "all responded: exact limit for %zu of %zu", k->n, k->n);
    else if (share == 1 && k->n_steps == 1)
        snprintf(buf, size, "all at risk responded at the first response: exact limit for "
                            "%ld of %ld", k->step[0].n_risk, k->step[0].n_risk);
    else if (share == 1 && k->n_steps > 1)
        snprintf(buf, size, "all still followed responded: larger of the band before and "
                            "the exact limit for %ld at risk, each at alpha/4",
                 k->step[k->n_steps - 1].n_risk);
    else if (stats_km_widened(k, t))
        snprintf(buf, size, "Kaplan-Meier 1-S, Greenwood log-log CI; upper limit widened past "
                            "a censoring, where fewer are followed");
    else
        snprintf(buf, size, "Kaplan-Meier 1-S, Greenwood log-log CI");
}

void cohort_opts_default(struct cohort_opts *o)
{
    memset(o, 0, sizeof *o);
    o->seed = 20261123;
    o->boot_reps = 2000;
    /* 2000 resamples of n=20000 is ~4e7 draws per statistic: seconds, not minutes. Above it
     * the bootstrap would dominate a million-patient run, and the large-sample intervals
     * (t for the mean, order-statistic for the median) are accurate there anyway. */
    o->boot_max_n = 20000;
    o->min_cell = 10;
    o->level = 0.95;
}

static void prop_fill(struct prop *p, long k, long n, double level)
{
    p->k = k;
    p->n = n;
    p->p = n > 0 ? (double)k / (double)n : NAN;
    if (stats_prop_wilson(k, n, level, &p->lo, &p->hi) != 0)
        p->lo = p->hi = NAN;
    if (stats_prop_clopper_pearson(k, n, level, &p->cp_lo, &p->cp_hi) != 0)
        p->cp_lo = p->cp_hi = NAN;
}

/* Distribution-free CI for the median from order statistics x(j), x(n+1-j), j from the
 * exact binomial (stats_median_rank): the audit's rule, so a median has one interval
 * wherever it is shown. */
static void median_order_ci(const double *x, size_t n, double level, struct est *out)
{
    double *s = malloc(n * sizeof *s);
    out->n = n;
    out->est = out->lo = out->hi = NAN;
    out->method = "order-statistic (distribution-free)";
    if (!s || n == 0) {
        free(s);
        return;
    }
    memcpy(s, x, n * sizeof *s);
    if (stats_sort(s, n, NULL)) {   /* stable, as qsort's merge sort: the same array */
        free(s);
        return;
    }
    out->est = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    size_t j = stats_median_rank(n, level);   /* 1-based; 0: n too small for the level */
    if (j >= 1) {
        out->lo = s[j - 1];
        out->hi = s[n - j];
    }
    free(s);
}

static void est_from_t(const double *x, size_t n, double level, struct est *out)
{
    struct tres t;
    out->n = n;
    out->method = "Student t";
    if (stats_t_one_sample(x, n, 0, level, &t) == 0) {
        out->est = t.mean;
        out->lo = t.lo;
        out->hi = t.hi;
    } else {
        /* one value, or every value equal: the mean is defined, the interval is not */
        struct desc d;
        out->est = stats_describe(x, n, &d) == 0 ? d.mean : NAN;
        out->lo = out->hi = NAN;
    }
}

/* Student t over x (one-sample against 0), keeping the mean and SD when the interval is
 * undefined (one value, or every value equal): a cohort whose patients all improved by 2
 * points has a mean improvement of 2, not a blank. CI, t and p stay NAN then.
 * Returns 0 when out->mean and out->sd are stats_describe's (t or not), -1 when not. */
static int t_keep_mean(const double *x, size_t n, double level, struct tres *out)
{
    if (stats_t_one_sample(x, n, 0, level, out) == 0)
        return 0;
    struct desc d;
    if (stats_describe(x, n, &d) != 0)
        return -1;
    out->mean = d.mean;
    out->sd = d.sd;    /* NAN for one value, 0 when all are equal */
    return 0;
}

/* Mean and median percent improvement with their intervals: bootstrap BCa up to
 * boot_max_n (both from one stream of draws, the same each would get alone), else the t
 * interval and the order-statistic one. */
static void est_pct(const double *x, size_t n, const struct cohort_opts *o, struct est *mean,
                    struct est *median)
{
    if (n > o->boot_max_n) {
        est_from_t(x, n, o->level, mean);
        median_order_ci(x, n, o->level, median);
        return;
    }
    struct bca b[2];
    int rc[2];
    stats_bootstrap_bca_both(x, n, o->boot_reps, o->seed, o->level, &b[0], &b[1], rc);
    struct est *out[2] = {mean, median};
    for (int k = 0; k < 2; k++) {
        out[k]->n = n;
        out[k]->method = "bootstrap BCa";
        out[k]->est = b[k].est;
        out[k]->lo = b[k].lo;
        out[k]->hi = b[k].hi;
        if (rc[k] != 0) {
            out[k]->est = out[k]->lo = out[k]->hi = NAN;
            if (n >= 1) {   /* the point estimate is still defined when the interval is not */
                struct desc d;
                if (stats_describe(x, n, &d) == 0)
                    out[k]->est = k == 0 ? d.mean : d.median;
            }
        }
    }
}

/* ---- derived bands (see cohort.h) ---- */

enum { N_AGE_BANDS = 5, N_BASELINE_BANDS = 3, BY_MAX_CELLS = 64 };
static const struct {
    const char *label;
    double from;               /* completed years */
} age_bands[N_AGE_BANDS] = {
    {"under 18", 0}, {"18-34", 18}, {"35-54", 35}, {"55-64", 55}, {"65+", 65},
};
static const char *const baseline_band_label[N_BASELINE_BANDS] = {"mild", "moderate", "severe"};

/* Instruments with published severity bands; the rest use thirds of their range. Cut-offs
 * are in points from the good end of the scale: the lowest score of "moderate" and of
 * "severe". Pain NRS: mild 0-3, moderate 4-6, severe 7-10. */
static const struct {
    const char *instr;
    double moderate_from, severe_from;
} band_cuts[] = {
    {"pain", 4, 7},
};

/* Band of an age covariate value, or -1 when missing, not a plain decimal number (no sign,
 * exponent, hex or spaces) or outside [0, 130]. */
static int age_band_of(const char *s)
{
    if (!s || !*s)
        return -1;
    int digits = 0, dots = 0;
    for (const char *q = s; *q; q++) {
        if (*q >= '0' && *q <= '9')
            digits++;
        else if (*q == '.' && dots++ == 0)
            ;
        else
            return -1;
    }
    if (!digits)
        return -1;
    errno = 0;
    char *end;
    double a = strtod(s, &end);
    if (errno || *end || !isfinite(a) || a < 0 || a > 130)
        return -1;
    for (int b = N_AGE_BANDS - 1; b >= 0; b--)
        if (a >= age_bands[b].from)
            return b;
    return -1;
}

/* The cut-offs of an instrument's baseline bands, in points from the good end of its scale:
 * the lowest score of "moderate" and of "severe" (cohort.h). */
struct band_cut {
    double c1, c2;
};

static struct band_cut band_cut_of(const struct instrument *in)
{
    struct band_cut c;
    c.c1 = (in->max - in->min) / 3;
    c.c2 = 2 * c.c1;
    for (size_t i = 0; i < sizeof band_cuts / sizeof band_cuts[0]; i++)
        if (strcasecmp(in->name, band_cuts[i].instr) == 0) {
            c.c1 = band_cuts[i].moderate_from;
            c.c2 = band_cuts[i].severe_from;
        }
    return c;
}

static int baseline_band_of(const struct instrument *in, struct band_cut c, double x)
{
    if (isnan(x))
        return -1;
    double s = in->higher_better ? in->max - x : x - in->min;   /* distance from the good end */
    return s < c.c1 ? 0 : s < c.c2 ? 1 : 2;
}

/* The patient set as every group reads it. Nothing per record is kept for the whole stage:
 * at a million patients the records are most of a run's memory, and the arrays of pointers
 * to them and of doubles for every statistic that this stage used to keep added a third
 * again. Each group instead marks its records in two bitmaps (a bit per record) on one scan
 * of the set, and its statistics are computed a few at a time from arrays made for them and
 * freed before the next: the peak is about three copies of one series (a descriptive's
 * sorted copy beside baseline and final, or the Wilcoxon test's two copies beside the
 * changes). Three scans of the records per group: the marking one, baseline and final, time
 * to response. */
struct view {
    const struct patient_set *ps;
    size_t *cap;               /* cap[k]: instrument k's records with a baseline */
    uint64_t *all, *cc;        /* bit i: ps->m[i] is in the current group / a complete case */
    size_t nw;                 /* words in each bitmap */
};

/* The within-session effect needs no follow-up: a patient seen once still had it. */
static double immediate_of(const struct pmeasure *m)
{
    return m->n_immediate > 0 ? m->immediate : NAN;
}

static void view_free(struct view *v)
{
    free(v->cap);
    free(v->all);
    free(v->cc);
    memset(v, 0, sizeof *v);
}

static int view_init(struct view *v, const struct dataset *ds, const struct patient_set *ps)
{
    memset(v, 0, sizeof *v);
    v->ps = ps;
    v->nw = ps->n / 64 + 1;
    v->cap = calloc(ds->n_instr ? ds->n_instr : 1, sizeof *v->cap);
    v->all = malloc(v->nw * sizeof *v->all);
    v->cc = malloc(v->nw * sizeof *v->cc);
    if (!v->cap || !v->all || !v->cc) {
        view_free(v);
        return -1;
    }
    for (size_t i = 0; i < ps->n; i++)
        if (ps->m[i].instr < ds->n_instr && !isnan(ps->m[i].baseline))
            v->cap[ps->m[i].instr]++;
    return 0;
}

static void mark(uint64_t *bits, size_t i)
{
    bits[i / 64] |= UINT64_C(1) << (i % 64);
}

/* The next record marked in bits from *pos on (in patient-set order), or NULL. */
static const struct pmeasure *next_marked(const struct view *v, const uint64_t *bits,
                                          size_t *pos)
{
    size_t i = *pos, w = i / 64;
    if (w >= v->nw)
        return NULL;
    uint64_t b = bits[w] >> (i % 64);
    while (!b) {
        if (++w >= v->nw)
            return NULL;
        b = bits[w];
        i = w * 64;
    }
#if defined(__GNUC__)
    i += (size_t)__builtin_ctzll(b);   /* b != 0 here */
#else
    for (; !(b & 1); b >>= 1)
        i++;
#endif
    *pos = i + 1;
    return &v->ps->m[i];
}

/* A filter selects the measures of one group: instrument instr's with a baseline, and
 * then by kind. */
enum filter_kind { F_ALL, F_COV, F_COV_OTHER, F_AGE_BAND, F_BASELINE_BAND };
struct filter {
    size_t instr;
    enum filter_kind kind;
    int cov;                   /* F_COV, F_COV_OTHER: covariate index */
    uint32_t value;            /* F_COV: covariate string index */
    const uint8_t *shown;      /* F_COV_OTHER: 1 per covariate string with a cell of its own */
    size_t n_other;            /* F_COV_OTHER: how many values it gathers */
    int band;                  /* F_AGE_BAND, F_BASELINE_BAND: band index */
    const int8_t *age_band;    /* F_AGE_BAND: band of each patient, -1 missing */
    struct band_cut cut;       /* F_BASELINE_BAND: the instrument's cut-offs */
};

static int pass(const struct dataset *ds, const struct pmeasure *r, const struct filter *f)
{
    if (r->instr != f->instr || isnan(r->baseline))
        return 0;
    switch (f->kind) {
    case F_ALL:
        return 1;
    case F_COV:
        return ds->cov_value[(size_t)r->patient * ds->n_cov + (size_t)f->cov] == f->value;
    case F_COV_OTHER: {
        uint32_t v = ds->cov_value[(size_t)r->patient * ds->n_cov + (size_t)f->cov];
        return v != UINT32_MAX && !f->shown[v];
    }
    case F_AGE_BAND:
        return f->age_band[r->patient] == f->band;
    case F_BASELINE_BAND:
        return baseline_band_of(ds->instr[f->instr], f->cut, r->baseline) == f->band;
    }
    return 0;
}

/* What the marking scan of a group counts besides cohort_group's own counts. */
struct tally {
    size_t nc, np, nb, ni, nk;  /* complete cases, defined percents, BOCF values, immediate
                                   effects, time-to-response records */
    long r30, r50, rmic, nmic, dur, ndur, kept, nkept;
    long worst[KM_AT_N];
    int is_diff;               /* post - pre is the change, bit for bit, for every case */
    int hb, hb_mixed;          /* the complete cases' higher_better bit; 1: not all alike */
};

/* The marking scan: the group's records into v->all, its complete cases into v->cc, the
 * counts into g and t, the changes (complete cases) into chg and the within-session effects
 * into imm, both in record order and of room v->cap[f->instr]. */
static void select_group(const struct dataset *ds, struct view *v, const struct filter *f,
                         struct cohort_group *g, struct tally *t, double *chg, double *imm)
{
    const struct instrument *in = ds->instr[f->instr];
    const struct patient_set *ps = v->ps;
    memset(v->all, 0, v->nw * sizeof *v->all);
    memset(v->cc, 0, v->nw * sizeof *v->cc);
    memset(t, 0, sizeof *t);
    t->is_diff = 1;
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (!pass(ds, m, f))
            continue;
        mark(v->all, i);
        g->n_patients++;
        t->nb++;
        if (!isnan(immediate_of(m)))
            imm[t->ni++] = immediate_of(m);
        double change = pm_change(m);
        if (isnan(change)) {
            g->n_single++;
            continue;
        }
        mark(v->cc, i);
        if (t->nc == 0)
            t->hb = m->higher_better;
        else if ((int)m->higher_better != t->hb)
            t->hb_mixed = 1;
        chg[t->nc++] = change;
        /* Good direction positive: the effect sizes take "pre" and "post" such that
         * post - pre is the improvement. */
        double pre = in->higher_better ? m->baseline : m->final;
        double post = in->higher_better ? m->final : m->baseline;
        double d = post - pre;
        if (memcmp(&d, &change, sizeof d) != 0)
            t->is_diff = 0;
        double pc = pm_pct(m);
        if (pm_zero_baseline(m))
            g->n_zero_baseline++;
        else if (!isnan(pc)) {
            t->np++;
            t->r30 += pm_resp30(m) == 1;
            t->r50 += pm_resp50(m) == 1;
        }
        if (m->resp_mic >= 0) {
            t->nmic++;
            t->rmic += m->resp_mic == 1;
        }
        int durable = pm_durable(m);
        if (durable >= 0) {
            t->ndur++;
            t->dur += durable == 1;
            if (pm_resp_end(m) == 1) {   /* known, so resp_m12 is known too */
                t->nkept++;
                t->kept += durable == 1;
            }
        }
        if (m->sessions_to_response >= 0) {
            t->nk++;
            for (int a = 0; a < KM_AT_N; a++)
                t->worst[a] += m->responded && m->sessions_to_response <= cohort_km_at[a];
        }
    }
}

static double *alloc_doubles(size_t n)
{
    return malloc((n ? n : 1) * sizeof(double));
}

/* Baseline observation carried forward over the group's records in record order: each
 * complete case's change (chg, in the same order) and 0 for a single visit. */
static void bocf_of(const struct view *v, const double *chg, double *out)
{
    size_t n = 0, j = 0;
    for (size_t w = 0; w < v->nw; w++)
        for (uint64_t a = v->all[w], c = v->cc[w]; a; a >>= 1, c >>= 1)
            if (a & 1)
                out[n++] = c & 1 ? chg[j++] : 0;
}

static int compute_group(const struct dataset *ds, struct view *v, const struct cohort_opts *o,
                         const struct filter *f, struct cohort_group *g)
{
    const struct instrument *in = ds->instr[f->instr];
    memset(g, 0, sizeof *g);
    snprintf(g->instrument, sizeof g->instrument, "%s", in->name);
    snprintf(g->label, sizeof g->label, "%s", in->label);
    g->higher_better = in->higher_better;
    switch (f->kind) {
    case F_ALL:
        break;
    case F_COV:
        snprintf(g->by, sizeof g->by, "%s", ds->cov_name[f->cov]);
        snprintf(g->value, sizeof g->value, "%s", ds->cov_str[f->value]);
        break;
    case F_COV_OTHER:
        snprintf(g->by, sizeof g->by, "%s", ds->cov_name[f->cov]);
        snprintf(g->value, sizeof g->value, "(%zu other values)", f->n_other);
        break;
    case F_AGE_BAND:
        snprintf(g->by, sizeof g->by, "age_band");
        snprintf(g->value, sizeof g->value, "%s", age_bands[f->band].label);
        break;
    case F_BASELINE_BAND:
        snprintf(g->by, sizeof g->by, "baseline_band");
        snprintf(g->value, sizeof g->value, "%s", baseline_band_label[f->band]);
        break;
    }

    /* Room for all of the instrument's records, so that the marking scan can fill them as it
     * counts; what a subgroup leaves unfilled is never touched. */
    size_t cap = v->cap[f->instr];
    double *chg = alloc_doubles(cap), *imm = alloc_doubles(cap);
    if (!chg || !imm) {
        free(chg);
        free(imm);
        return -1;
    }
    struct tally t;
    select_group(ds, v, f, g, &t, chg, imm);
    size_t nc = t.nc;
    g->n_complete = nc;
    est_from_t(imm, t.ni, o->level, &g->immediate);
    free(imm);
    int have_c = t_keep_mean(chg, nc, o->level, &g->change) == 0;
    stats_wilcoxon_signed_rank(chg, nc, o->level, &g->wilcoxon);
    double *x = alloc_doubles(t.nb);
    if (!x) {
        free(chg);
        return -1;
    }
    bocf_of(v, chg, x);
    free(chg);
    t_keep_mean(x, t.nb, o->level, &g->bocf);
    free(x);

    /* Baseline and final (complete cases), in the instrument's own units. */
    double *b = alloc_doubles(nc), *fi = alloc_doubles(nc);
    if (!b || !fi) {
        free(b);
        free(fi);
        return -1;
    }
    size_t n = 0, pos = 0;
    const struct pmeasure *m;
    while ((m = next_marked(v, v->cc, &pos))) {
        b[n] = m->baseline;
        fi[n++] = m->final;
    }
    int have_b = stats_describe(b, nc, &g->baseline) == 0;
    int have_f = stats_describe(fi, nc, &g->final) == 0;
    /* Effect sizes need the mean and SD of post - pre and the SDs of pre and post: the
     * change's and the descriptives' just computed (same values, same arithmetic), when
     * post - pre is the change bit for bit, as patient.c computes it. Measures read back
     * from patients.csv carry a rounded change: then from the data. */
    if (have_b && have_f && have_c && t.is_diff) {
        double sd_b = g->baseline.sd, sd_f = g->final.sd;
        stats_effect_paired_from(nc, g->change.mean, g->change.sd,
                                 in->higher_better ? sd_b : sd_f,
                                 in->higher_better ? sd_f : sd_b, &g->effect);
    } else {
        stats_effect_paired(in->higher_better ? b : fi, in->higher_better ? fi : b, nc,
                            &g->effect);
    }
    /* Percent improvements (complete cases with one defined): pm_pct of the same baseline,
     * final and direction is the record's own, so they come from b and fi when every case
     * has one direction (always, unless measures from elsewhere mix them). Made after the
     * descriptives, so it takes the memory of their sorted copies. */
    size_t np = 0;
    if (!(x = alloc_doubles(nc))) {
        free(b);
        free(fi);
        return -1;
    }
    if (!t.hb_mixed) {
        struct pmeasure r;
        memset(&r, 0, sizeof r);
        r.higher_better = t.hb ? 1 : 0;
        for (size_t i = 0; i < nc; i++) {
            r.baseline = b[i];
            r.final = fi[i];
            double pc = pm_pct(&r);
            if (!isnan(pc))
                x[np++] = pc;
        }
    } else {
        for (pos = 0; (m = next_marked(v, v->cc, &pos));)
            if (!pm_zero_baseline(m) && !isnan(pm_pct(m)))
                x[np++] = pm_pct(m);
    }
    free(b);
    free(fi);
    est_pct(x, np, o, &g->pct_mean, &g->pct_median);
    free(x);
    prop_fill(&g->resp30, t.r30, (long)np, o->level);
    prop_fill(&g->resp50, t.r50, (long)np, o->level);
    prop_fill(&g->resp_mic, t.rmic, t.nmic, o->level);
    prop_fill(&g->durable, t.dur, t.ndur, o->level);
    prop_fill(&g->kept, t.kept, t.nkept, o->level);

    /* Time to response. */
    memset(&g->km, 0, sizeof g->km);
    /* Undefined until stats_km runs: with no one to follow, not "0 sessions (0 to 0)". */
    for (int qi = 0; qi < 3; qi++)
        g->km.q[qi] = g->km.q_lo[qi] = g->km.q_hi[qi] = NAN;
    g->km.level = NAN;
    int km_ok = 0;
    if (t.nk > 0) {
        double *kt = alloc_doubles(t.nk);
        int *ke = malloc(t.nk * sizeof *ke);
        if (!kt || !ke) {
            free(kt);
            free(ke);
            return -1;
        }
        size_t nk = 0;
        for (pos = 0; (m = next_marked(v, v->cc, &pos));)
            if (m->sessions_to_response >= 0) {
                kt[nk] = m->sessions_to_response;
                ke[nk++] = m->responded;
            }
        km_ok = stats_km(kt, ke, nk, o->level, &g->km) == 0;
        free(kt);
        free(ke);
    }
    if (km_ok) {
        for (int a = 0; a < KM_AT_N; a++) {
            double s, lo, hi;
            stats_km_at(&g->km, cohort_km_at[a], &s, &lo, &hi);
            g->km_at[a] = 1 - s;     /* share responded; the band flips */
            g->km_at_lo[a] = 1 - hi;
            g->km_at_hi[a] = 1 - lo;
        }
    } else {
        for (int a = 0; a < KM_AT_N; a++)
            g->km_at[a] = g->km_at_lo[a] = g->km_at_hi[a] = NAN;
    }
    for (int a = 0; a < KM_AT_N; a++)
        g->worst_at[a] = g->n_patients ? (double)t.worst[a] / (double)g->n_patients : NAN;
    g->dropout_share = g->n_patients ? (double)g->n_single / (double)g->n_patients : NAN;
    g->suppressed = f->kind != F_ALL && g->n_patients < o->min_cell;
    return 0;
}

static struct cohort_group *new_group(struct cohort *c)
{
    if (c->n_groups == c->cap_groups) {
        size_t ncap = c->cap_groups ? c->cap_groups * 2 : 16;
        struct cohort_group *ng = realloc(c->group, ncap * sizeof *ng);
        if (!ng)
            return NULL;
        c->group = ng;
        c->cap_groups = ncap;
    }
    return &c->group[c->n_groups++];
}

static void month_of(int32_t day, char out[8])
{
    char buf[11];
    civil_format(day, buf);
    memcpy(out, buf, 7);   /* "YYYY-MM" */
    out[7] = '\0';
}

/* Monthly series of the 30% responder rate of one instrument, by month of the course's last
 * visit, with p-chart and Laney p′ limits (evidence.md, "Monthly p-chart"): the months
 * c->month[first..], tallied by add_month_tally. */
static void finish_months(struct cohort *c, size_t first, double level)
{
    /* Months in order (insertion sort: a few dozen at most). */
    for (size_t i = first + 1; i < c->n_months; i++)
        for (size_t j = i; j > first && strcmp(c->month[j - 1].month, c->month[j].month) > 0; j--) {
            struct cohort_month t = c->month[j];
            c->month[j] = c->month[j - 1];
            c->month[j - 1] = t;
        }
    long sk = 0, sn = 0;
    for (size_t j = first; j < c->n_months; j++) {
        sk += c->month[j].resp30.k;
        sn += c->month[j].resp30.n;
    }
    double pbar = sn ? (double)sk / (double)sn : NAN;
    /* Laney: sigma_z = mean moving range of the monthly z-scores / 1.128. */
    double mr = 0, prevz = NAN;
    size_t nmr = 0;
    for (size_t j = first; j < c->n_months; j++) {
        struct cohort_month *m = &c->month[j];
        prop_fill(&m->resp30, m->resp30.k, m->resp30.n, level);
        double sd = sqrt(pbar * (1 - pbar) / (double)m->resp30.n);
        double z = sd > 0 ? (m->resp30.p - pbar) / sd : NAN;
        if (!isnan(z) && !isnan(prevz)) {
            mr += fabs(z - prevz);
            nmr++;
        }
        prevz = z;
    }
    double sigz = nmr ? (mr / (double)nmr) / 1.128 : NAN;
    /* Each instrument has its own series and ratio; the struct-level field keeps the first
     * instrument's for callers that read it. */
    if (first == 0 && c->n_months > 0)
        c->laney_sigma_z = sigz;
    for (size_t j = first; j < c->n_months; j++) {
        struct cohort_month *m = &c->month[j];
        double sd = sqrt(pbar * (1 - pbar) / (double)m->resp30.n);
        m->centre = pbar;
        m->lcl = fmax(0, pbar - 3 * sd);
        m->ucl = fmin(1, pbar + 3 * sd);
        m->laney_sigma_z = sigz;
        m->laney_lcl = isnan(sigz) ? NAN : fmax(0, pbar - 3 * sd * sigz);
        m->laney_ucl = isnan(sigz) ? NAN : fmin(1, pbar + 3 * sd * sigz);
        m->out_of_control = m->resp30.p < m->lcl || m->resp30.p > m->ucl;
        /* comparisons with NAN are false: no Laney limits, no Laney signal */
        m->laney_out_of_control = m->resp30.p < m->laney_lcl || m->resp30.p > m->laney_ucl;
    }
}

/* Course-end months of one instrument, tallied per calendar month (year * 12 + month - 1)
 * in order of first appearance: a record costs a date split and a short integer search
 * instead of formatting its date and comparing strings with every month so far. */
struct mtally {
    int32_t key, day;          /* day: one course end in that month */
    long n, k;
};

/* Fold one instrument's tallies into month rows named "YYYY-MM", kept to
 * [month_from, month_to]; two tallies whose names agree share a row (civil_format clamps
 * the year), so the rows are what one row per formatted name would give. */
static int add_month_tally(const struct dataset *ds, size_t k, const struct mtally *t, size_t nt,
                           const struct cohort_opts *o, struct cohort *c, size_t first)
{
    const struct instrument *in = ds->instr[k];
    for (size_t i = 0; i < nt; i++) {
        char mon[8];
        month_of(t[i].day, mon);   /* course end, not a month-12 follow-up */
        if ((o->month_from && strcmp(mon, o->month_from) < 0) ||
            (o->month_to && strcmp(mon, o->month_to) > 0))
            continue;
        size_t j;
        for (j = first; j < c->n_months; j++)
            if (strcmp(c->month[j].month, mon) == 0)
                break;
        if (j == c->n_months) {
            struct cohort_month *nm = realloc(c->month, (c->n_months + 1) * sizeof *nm);
            if (!nm)
                return -1;
            c->month = nm;
            memset(&c->month[j], 0, sizeof c->month[j]);
            snprintf(c->month[j].instrument, sizeof c->month[j].instrument, "%s", in->name);
            memcpy(c->month[j].month, mon, 8);
            c->n_months++;
        }
        c->month[j].resp30.n += t[i].n;
        c->month[j].resp30.k += t[i].k;
    }
    return 0;
}

/* Every instrument's monthly series (in instrument order), in one pass over ps. */
static int compute_months(const struct dataset *ds, const struct patient_set *ps,
                          const struct cohort_opts *o, struct cohort *c)
{
    size_t ni = ds->n_instr ? ds->n_instr : 1;
    struct mtally **t = calloc(ni, sizeof *t);
    size_t *nt = calloc(ni, sizeof *nt), *cap = calloc(ni, sizeof *cap);
    size_t *last = calloc(ni, sizeof *last);
    int rc = -1;
    if (!t || !nt || !cap || !last)
        goto out;
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        size_t k = m->instr;
        int resp30 = pm_resp30(m);
        if (k >= ds->n_instr || resp30 < 0)
            continue;
        int32_t end_day = pm_end_day(m);
        int y, mo, d;
        civil_from_days(end_day, &y, &mo, &d);
        int32_t key = (int32_t)y * 12 + (mo - 1);
        size_t j = last[k];
        if (j >= nt[k] || t[k][j].key != key) {
            for (j = 0; j < nt[k] && t[k][j].key != key; j++)
                ;
            if (j == nt[k]) {
                if (nt[k] == cap[k]) {
                    size_t nc = cap[k] ? 2 * cap[k] : 32;
                    struct mtally *g = realloc(t[k], nc * sizeof *g);
                    if (!g)
                        goto out;
                    t[k] = g;
                    cap[k] = nc;
                }
                t[k][j] = (struct mtally){key, end_day, 0, 0};
                nt[k]++;
            }
            last[k] = j;
        }
        t[k][j].n++;
        t[k][j].k += resp30 == 1;
    }
    for (size_t k = 0; k < ds->n_instr; k++) {
        size_t first = c->n_months;
        if (add_month_tally(ds, k, t[k], nt[k], o, c, first) != 0)
            goto out;
        finish_months(c, first, o->level);
    }
    rc = 0;
out:
    if (t)
        for (size_t k = 0; k < ni; k++)
            free(t[k]);
    free(t);
    free(nt);
    free(cap);
    free(last);
    return rc;
}

/* ---- between arms ---- */

enum { MAX_ARMS = 16 };

static const char *const control_names[] = {
    "control", "sham", "placebo", "usual care", "waitlist", "wait list", "waiting list",
};

static int is_control_name(const char *s)
{
    for (size_t i = 0; i < sizeof control_names / sizeof control_names[0]; i++)
        if (strcasecmp(s, control_names[i]) == 0)
            return 1;
    return 0;
}

static void nnt_fill(struct nnt *t, double d, double lo, double hi)
{
    t->dir = NNT_UNDEFINED;
    t->split = 0;
    t->est = t->lo = t->hi = t->benefit_from = t->harm_from = NAN;
    if (isnan(d) || isnan(lo) || isnan(hi))
        return;
    if (d > 0) {
        t->dir = NNT_BENEFIT;
        t->est = 1 / d;
    } else if (d < 0) {
        t->dir = NNT_HARM;
        t->est = -1 / d;
    } else {
        t->dir = NNT_INFINITE;
    }
    if (lo > 0) {              /* the CI holds only benefit: 1/x reverses the order */
        t->lo = 1 / hi;
        t->hi = 1 / lo;
    } else if (hi < 0) {       /* only harm */
        t->lo = -1 / lo;
        t->hi = -1 / hi;
    } else {                   /* through 0, i.e. through an infinite NNT (Altman 1998) */
        t->split = 1;
        t->harm_from = lo < 0 ? -1 / lo : NAN;
        t->benefit_from = hi > 0 ? 1 / hi : NAN;
    }
}

/* One treatment-control comparison for instrument k (see cohort.h). */
static int compute_arm_pair(const struct dataset *ds, struct view *view,
                            const struct cohort_opts *o, size_t k, int cov, uint32_t vt,
                            uint32_t vc, int by_name, struct cohort_arms *a)
{
    const struct instrument *in = ds->instr[k];
    memset(a, 0, sizeof *a);
    snprintf(a->instrument, sizeof a->instrument, "%s", in->name);
    snprintf(a->label, sizeof a->label, "%s", in->label);
    a->higher_better = in->higher_better;
    snprintf(a->treatment, sizeof a->treatment, "%s", ds->cov_str[vt]);
    snprintf(a->control, sizeof a->control, "%s", ds->cov_str[vc]);
    a->control_by_name = by_name;

    /* One scan counts and marks the complete cases of either arm; the Welch test's arrays
     * and then the ANCOVA's are filled from the marks, one set at a time. */
    const struct patient_set *ps = view->ps;
    memset(view->cc, 0, view->nw * sizeof *view->cc);
    size_t nt = 0, nc = 0;
    long kt = 0, npt = 0, kc = 0, npc = 0;
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (m->instr != k || isnan(m->baseline))
            continue;
        uint32_t v = ds->cov_value[(size_t)m->patient * ds->n_cov + (size_t)cov];
        int is_t = v == vt;
        if (!is_t && v != vc)
            continue;
        if (is_t)
            a->n_treatment++;
        else
            a->n_control++;
        if (isnan(pm_change(m)))
            continue;
        mark(view->cc, i);
        if (is_t)
            nt++;
        else
            nc++;
        if (!pm_zero_baseline(m) && !isnan(pm_pct(m))) {
            if (is_t) {
                npt++;
                kt += pm_resp30(m) == 1;
            } else {
                npc++;
                kc += pm_resp30(m) == 1;
            }
        }
    }
    size_t nb = nt + nc, pos;
    const struct pmeasure *m;
    double *ct = alloc_doubles(nt), *cc = alloc_doubles(nc);
    if (!ct || !cc) {
        free(ct);
        free(cc);
        return -1;
    }
    nt = nc = 0;
    for (pos = 0; (m = next_marked(view, view->cc, &pos));) {
        if (ds->cov_value[(size_t)m->patient * ds->n_cov + (size_t)cov] == vt)
            ct[nt++] = pm_change(m);
        else
            cc[nc++] = pm_change(m);
    }
    a->n_complete_treatment = nt;
    a->n_complete_control = nc;

    if (stats_t_welch(ct, nt, cc, nc, o->level, &a->change_diff) != 0 && nt && nc) {
        /* the difference of two means is defined when its interval is not */
        struct desc dt, dc;
        if (stats_describe(ct, nt, &dt) == 0 && stats_describe(cc, nc, &dc) == 0)
            a->change_diff.mean = dt.mean - dc.mean;
    }
    free(ct);
    free(cc);
    double *base = alloc_doubles(nb), *fin = alloc_doubles(nb);
    int *grp = malloc((nb ? nb : 1) * sizeof *grp);
    if (!base || !fin || !grp) {
        free(base);
        free(fin);
        free(grp);
        return -1;
    }
    nb = 0;
    for (pos = 0; (m = next_marked(view, view->cc, &pos)); nb++) {
        base[nb] = m->baseline;
        fin[nb] = m->final;
        grp[nb] = ds->cov_value[(size_t)m->patient * ds->n_cov + (size_t)cov] == vt;
    }

    /* ANCOVA on the raw scores gives the adjusted difference in final score; improvement
     * is final - baseline (higher better) or baseline - final, so for a lower-is-better
     * instrument the improvement difference is minus the coefficient (same baseline
     * adjustment, same SE and p). */
    double b, lo, hi;
    a->ancova.n = nb;
    a->ancova.method = "ANCOVA final ~ baseline + arm, t with n-3 df";
    if (stats_ancova_group(base, fin, grp, nb, o->level, &b, &lo, &hi, &a->ancova_p) == 0) {
        a->ancova.est = in->higher_better ? b : -b;
        a->ancova.lo = in->higher_better ? lo : -hi;
        a->ancova.hi = in->higher_better ? hi : -lo;
    } else {
        a->ancova.est = a->ancova.lo = a->ancova.hi = a->ancova_p = NAN;
    }
    free(base);
    free(fin);
    free(grp);

    prop_fill(&a->resp_treatment, kt, npt, o->level);
    prop_fill(&a->resp_control, kc, npc, o->level);
    a->resp_diff.n = (size_t)(npt + npc);
    a->resp_diff.method = "Newcombe hybrid score (method 10)";
    stats_prop_diff_newcombe(kt, npt, kc, npc, o->level, &a->resp_diff.est, &a->resp_diff.lo,
                             &a->resp_diff.hi);
    nnt_fill(&a->nnt, a->resp_diff.est, a->resp_diff.lo, a->resp_diff.hi);
    a->suppressed = a->n_treatment < o->min_cell || a->n_control < o->min_cell;
    return 0;
}

static struct cohort_arms *new_arms(struct cohort *c)
{
    struct cohort_arms *na = realloc(c->arms, (c->n_arms + 1) * sizeof *na);
    if (!na)
        return NULL;
    c->arms = na;
    return &c->arms[c->n_arms++];
}

/* Which arms to compare (cohort.h), then every instrument for each pair. */
static int compute_arms(const struct dataset *ds, struct view *view,
                        const struct cohort_opts *o, struct cohort *c)
{
    int cov = dataset_cov_index(ds, "arm");
    if (cov < 0)
        return 0;
    uint32_t arm[MAX_ARMS];
    size_t na = 0;
    for (size_t p = 0; p < ds->n_patients; p++) {
        uint32_t v = ds->cov_value[p * ds->n_cov + (size_t)cov];
        if (v == UINT32_MAX)
            continue;
        size_t j;
        for (j = 0; j < na && arm[j] != v; j++)
            ;
        if (j < na)
            continue;
        if (na == MAX_ARMS) {
            snprintf(c->arms_note, sizeof c->arms_note,
                     "arms not compared: more than %d distinct arm values", MAX_ARMS);
            return 0;
        }
        arm[na++] = v;
    }
    if (na < 2) {
        snprintf(c->arms_note, sizeof c->arms_note,
                 "arms not compared: fewer than two arms in the data");
        return 0;
    }
    uint32_t pt[MAX_ARMS * MAX_ARMS], pc[MAX_ARMS * MAX_ARMS];
    int pnamed[MAX_ARMS * MAX_ARMS];
    size_t npair = 0, named = 0;
    for (size_t j = 0; j < na; j++)
        named += (size_t)is_control_name(ds->cov_str[arm[j]]);
    if (na == 2) {
        int c0 = is_control_name(ds->cov_str[arm[0]]), c1 = is_control_name(ds->cov_str[arm[1]]);
        int ctl = c0 && !c1 ? 0 : 1;
        pt[0] = arm[1 - ctl];
        pc[0] = arm[ctl];
        pnamed[0] = c0 != c1;
        npair = 1;
    } else if (named == 0 || named == na) {
        snprintf(c->arms_note, sizeof c->arms_note,
                 "arms not compared: %zu arms and %s named as a control (control, sham, "
                 "placebo, usual care, waitlist)", na, named ? "all" : "none");
        return 0;
    } else {
        for (size_t t = 0; t < na; t++) {
            if (is_control_name(ds->cov_str[arm[t]]))
                continue;
            for (size_t j = 0; j < na; j++)
                if (is_control_name(ds->cov_str[arm[j]])) {
                    pt[npair] = arm[t];
                    pc[npair] = arm[j];
                    pnamed[npair++] = 1;
                }
        }
    }
    for (size_t k = 0; k < ds->n_instr; k++)
        for (size_t q = 0; q < npair; q++) {
            struct cohort_arms *a = new_arms(c);
            if (!a || compute_arm_pair(ds, view, o, k, cov, pt[q], pc[q], pnamed[q], a) != 0)
                return -1;
        }
    return 0;
}

/* Groups for one --by name: the data's own covariate when it has one by that name, else a
 * derived band (cohort.h). A name the data cannot give is skipped; the report lists what
 * it has. */
static int by_groups(const struct dataset *ds, struct view *view, const struct cohort_opts *o,
                     const char *name, struct cohort *out)
{
    int c = dataset_cov_index(ds, name);
    if (c >= 0) {
        /* Distinct values in order of first appearance among patients, a cell each up to
         * BY_MAX_CELLS; past that (practitioners of a large network) the first
         * BY_MAX_CELLS - 1 keep theirs and the rest share one, so every patient is still in
         * some cell of the breakdown. */
        uint8_t *shown = calloc(ds->n_cov_str ? ds->n_cov_str : 1, 1);
        uint32_t *first = malloc(BY_MAX_CELLS * sizeof *first);
        if (!shown || !first) {
            free(shown);
            free(first);
            return -1;
        }
        size_t n_distinct = 0, nfirst = 0;
        for (size_t p = 0; p < ds->n_patients; p++) {
            uint32_t v = ds->cov_value[p * ds->n_cov + (size_t)c];
            if (v == UINT32_MAX || shown[v])
                continue;
            shown[v] = 1;
            if (nfirst < BY_MAX_CELLS)
                first[nfirst++] = v;
            n_distinct++;
        }
        size_t own = n_distinct > BY_MAX_CELLS ? BY_MAX_CELLS - 1 : n_distinct;
        memset(shown, 0, ds->n_cov_str);
        for (size_t j = 0; j < own; j++)
            shown[first[j]] = 1;
        int rc = 0;
        for (size_t k = 0; k < ds->n_instr && rc == 0; k++) {
            for (size_t j = 0; j < own && rc == 0; j++) {
                struct filter f = {.instr = k, .kind = F_COV, .cov = c, .value = first[j]};
                struct cohort_group *g = new_group(out);
                rc = !g || compute_group(ds, view, o, &f, g) != 0 ? -1 : 0;
            }
            if (rc == 0 && own < n_distinct) {
                struct filter f = {.instr = k, .kind = F_COV_OTHER, .cov = c, .shown = shown,
                                   .n_other = n_distinct - own};
                struct cohort_group *g = new_group(out);
                rc = !g || compute_group(ds, view, o, &f, g) != 0 ? -1 : 0;
            }
        }
        free(shown);
        free(first);
        return rc;
    }
    if (strcmp(name, "age_band") == 0) {
        int age = dataset_cov_index(ds, "age");
        if (age < 0)
            return 0;
        int8_t *band = malloc((ds->n_patients ? ds->n_patients : 1) * sizeof *band);
        if (!band)
            return -1;
        int present[N_AGE_BANDS] = {0};
        for (size_t p = 0; p < ds->n_patients; p++) {
            band[p] = (int8_t)age_band_of(dataset_cov(ds, p, age));
            if (band[p] >= 0)
                present[band[p]] = 1;
        }
        for (size_t k = 0; k < ds->n_instr; k++)
            for (int b = 0; b < N_AGE_BANDS; b++) {
                if (!present[b])
                    continue;
                struct filter f = {.instr = k, .kind = F_AGE_BAND, .band = b, .age_band = band};
                struct cohort_group *g = new_group(out);
                if (!g || compute_group(ds, view, o, &f, g) != 0) {
                    free(band);
                    return -1;
                }
            }
        free(band);
        return 0;
    }
    if (strcmp(name, "baseline_band") == 0) {
        for (size_t k = 0; k < ds->n_instr; k++) {
            int present[N_BASELINE_BANDS] = {0};
            const struct instrument *in = ds->instr[k];
            struct band_cut cut = band_cut_of(in);
            const struct patient_set *ps = view->ps;
            for (size_t i = 0; i < ps->n; i++)
                if (ps->m[i].instr == k) {
                    int b = baseline_band_of(in, cut, ps->m[i].baseline);
                    if (b >= 0)
                        present[b] = 1;
                }
            for (int b = 0; b < N_BASELINE_BANDS; b++) {
                if (!present[b])
                    continue;
                struct filter f = {.instr = k, .kind = F_BASELINE_BAND, .band = b, .cut = cut};
                struct cohort_group *g = new_group(out);
                if (!g || compute_group(ds, view, o, &f, g) != 0)
                    return -1;
            }
        }
    }
    return 0;
}

int cohort_compute(const struct dataset *ds, const struct patient_set *ps,
                   const struct cohort_opts *o, struct cohort *out, struct out_error *e)
{
    memset(out, 0, sizeof *out);
    out->seed = o->seed;
    out->level = o->level;
    out->boot_reps = o->boot_reps;
    out->min_cell = o->min_cell;
    out->laney_sigma_z = NAN;
    struct view v;
    if (view_init(&v, ds, ps) != 0)
        goto oom;
    for (size_t k = 0; k < ds->n_instr; k++) {
        struct filter f = {.instr = k, .kind = F_ALL};
        struct cohort_group *g = new_group(out);
        if (!g || compute_group(ds, &v, o, &f, g) != 0)
            goto oom_view;
    }
    for (size_t b = 0; b < o->n_by; b++) {
        size_t prev;
        for (prev = 0; prev < b && strcmp(o->by[prev], o->by[b]) != 0; prev++)
            ;
        if (prev < b)
            continue;   /* --by clinic twice is one breakdown */
        if (by_groups(ds, &v, o, o->by[b], out) != 0)
            goto oom_view;
    }
    if (compute_arms(ds, &v, o, out) != 0)
        goto oom_view;
    view_free(&v);
    if (compute_months(ds, o->series ? o->series : ps, o, out) != 0)
        goto oom;
    return 0;
oom_view:
    view_free(&v);
oom:
    cohort_free(out);
    return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory in cohort statistics");
}

const struct cohort_group *cohort_overall(const struct cohort *c, const char *instrument)
{
    for (size_t i = 0; i < c->n_groups; i++)
        if (!c->group[i].by[0] && strcmp(c->group[i].instrument, instrument) == 0)
            return &c->group[i];
    return NULL;
}

void cohort_free(struct cohort *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_groups; i++)
        stats_km_free(&c->group[i].km);
    free(c->group);
    free(c->month);
    free(c->arms);
    memset(c, 0, sizeof *c);
}

/* ---- cohort.csv ---- */

static void num(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, "%.10g", x);
}

#define SUPPRESSED_REASON "suppressed (n below minimum cell size)"

/* One cohort.csv row. A suppressed cell withholds every number, its n included (a count
 * below the minimum cell size is itself what suppression protects). */
static void row_kv(FILE *fp, const char *instrument, const char *by, const char *value,
                   int suppressed, const char *stat, size_t n, double est, double lo,
                   double hi, const char *method)
{
    esc_csv(fp, instrument);
    fputc(',', fp);
    esc_csv(fp, by);
    fputc(',', fp);
    esc_csv(fp, value);
    fprintf(fp, ",%s,", stat);
    if (!suppressed) {
        fprintf(fp, "%zu,", n);
        num(fp, est);
        fputc(',', fp);
        num(fp, lo);
        fputc(',', fp);
        num(fp, hi);
    } else {
        fputs(",,,", fp);
    }
    fputc(',', fp);
    esc_csv(fp, suppressed ? SUPPRESSED_REASON : method);
    fputc('\n', fp);
}

static void row(FILE *fp, const struct cohort_group *g, const char *stat, size_t n, double est,
                double lo, double hi, const char *method)
{
    row_kv(fp, g->instrument, g->by, g->value, g->suppressed, stat, n, est, lo, hi, method);
}

static void arm_rows(FILE *fp, const struct cohort_arms *a)
{
    char value[272];
    snprintf(value, sizeof value, "%s vs %s", a->treatment, a->control);
    const char *in = a->instrument, *by = "arm_difference";
    int s = a->suppressed;
    const struct tres *d = &a->change_diff;
    row_kv(fp, in, by, value, s, "patients_treatment", a->n_treatment, (double)a->n_treatment,
           NAN, NAN, "count (patients with a baseline)");
    row_kv(fp, in, by, value, s, "patients_control", a->n_control, (double)a->n_control, NAN,
           NAN, a->control_by_name ? "count (patients with a baseline); control by its name"
                                   : "count (patients with a baseline); control = second arm");
    row_kv(fp, in, by, value, s, "change_mean_difference", d->n, d->mean, d->lo, d->hi,
           "Welch t; treatment - control, improvement positive");
    row_kv(fp, in, by, value, s, "change_mean_difference_df", d->n, d->df, NAN, NAN,
           "Welch-Satterthwaite degrees of freedom");
    row_kv(fp, in, by, value, s, "change_mean_difference_p", d->n, d->p, NAN, NAN,
           "Welch t-test, two-sided");
    row_kv(fp, in, by, value, s, "ancova_difference", a->ancova.n, a->ancova.est, a->ancova.lo,
           a->ancova.hi, "ANCOVA final ~ baseline + arm, t with n-3 df; improvement positive");
    row_kv(fp, in, by, value, s, "ancova_difference_p", a->ancova.n, a->ancova_p, NAN, NAN,
           "ANCOVA t-test of the arm coefficient, two-sided");
    row_kv(fp, in, by, value, s, "responder_30_treatment", (size_t)a->resp_treatment.n,
           a->resp_treatment.p, a->resp_treatment.lo, a->resp_treatment.hi, "Wilson score");
    row_kv(fp, in, by, value, s, "responder_30_control", (size_t)a->resp_control.n,
           a->resp_control.p, a->resp_control.lo, a->resp_control.hi, "Wilson score");
    row_kv(fp, in, by, value, s, "responder_30_difference", a->resp_diff.n, a->resp_diff.est,
           a->resp_diff.lo, a->resp_diff.hi,
           "Newcombe hybrid score (method 10); treatment - control");
    const struct nnt *t = &a->nnt;
    const char *name = t->dir == NNT_BENEFIT ? "nnt_benefit" : t->dir == NNT_HARM ? "nnt_harm"
                                                                                : "nnt";
    const char *method = t->dir == NNT_UNDEFINED ? "1/responder_30_difference (undefined)"
                         : t->dir == NNT_INFINITE
                             ? "responder_30_difference is 0: no finite NNT; CI in two parts"
                         : t->split ? "1/responder_30_difference; its CI includes no difference, so "
                                      "the NNT's CI is in two parts (Altman 1998)"
                                    : "1/responder_30_difference, CI 1/Newcombe limits (Altman 1998)";
    row_kv(fp, in, by, value, s, name, a->resp_diff.n, t->est, t->lo, t->hi, method);
    if (t->split) {
        row_kv(fp, in, by, value, s, "nnt_ci_harm_from", a->resp_diff.n, t->harm_from, NAN, NAN,
               "CI part: NNT(harm) from this value up, unbounded (empty: no harm part)");
        row_kv(fp, in, by, value, s, "nnt_ci_benefit_from", a->resp_diff.n, t->benefit_from,
               NAN, NAN,
               "CI part: NNT(benefit) from this value up, unbounded (empty: no benefit part)");
    }
}

static void prop_rows(FILE *fp, const struct cohort_group *g, const char *name,
                      const struct prop *p)
{
    char s[64];
    row(fp, g, name, (size_t)p->n, p->p, p->lo, p->hi, "Wilson score");
    snprintf(s, sizeof s, "%s_exact", name);
    row(fp, g, s, (size_t)p->n, p->p, p->cp_lo, p->cp_hi, "Clopper-Pearson exact");
}

int cohort_write_csv(const struct cohort *c, FILE *fp, struct out_error *e)
{
    fputs("instrument,by,value,statistic,n,estimate,lo,hi,method\n", fp);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        row(fp, g, "patients", g->n_patients, (double)g->n_patients, NAN, NAN, "count");
        row(fp, g, "dropout_share", g->n_patients, g->dropout_share, NAN, NAN,
            "single-visit patients / patients with a baseline");
        row(fp, g, "baseline_mean", g->baseline.n, g->baseline.mean, NAN, NAN, "complete cases");
        row(fp, g, "baseline_sd", g->baseline.n, g->baseline.sd, NAN, NAN, "two-pass");
        row(fp, g, "baseline_median", g->baseline.n, g->baseline.median, g->baseline.q1,
            g->baseline.q3, "median (lo, hi = quartiles, R type 7)");
        row(fp, g, "final_mean", g->final.n, g->final.mean, NAN, NAN, "complete cases");
        row(fp, g, "final_sd", g->final.n, g->final.sd, NAN, NAN, "two-pass");
        row(fp, g, "final_median", g->final.n, g->final.median, g->final.q1, g->final.q3,
            "median (lo, hi = quartiles, R type 7)");
        row(fp, g, "change_mean", g->change.n, g->change.mean, g->change.lo, g->change.hi,
            "Student t; improvement positive");
        row(fp, g, "change_paired_t_p", g->change.n, g->change.p, NAN, NAN, "paired t-test");
        row(fp, g, "change_wilcoxon_p", g->wilcoxon.n, g->wilcoxon.p, NAN, NAN,
            g->wilcoxon.exact ? "Wilcoxon signed-rank, exact"
                              : "Wilcoxon signed-rank, normal approx. with continuity and ties");
        /* Few or heavily tied changes cannot reach the asked level (as R's wilcox.test
         * warns): the interval is then at the level it has, and says so. */
        char hl_method[160] = "Hodges-Lehmann pseudomedian";
        if (g->wilcoxon.level < c->level - 1e-9)
            snprintf(hl_method, sizeof hl_method,
                     "Hodges-Lehmann pseudomedian; interval at %.4g%%, as the %.4g%% level is "
                     "not attainable with these changes",
                     100 * g->wilcoxon.level, 100 * c->level);
        row(fp, g, "change_hodges_lehmann", g->wilcoxon.n, g->wilcoxon.hl, g->wilcoxon.hl_lo,
            g->wilcoxon.hl_hi, hl_method);
        row(fp, g, "effect_srm_dz", g->change.n, g->effect.d_z, NAN, NAN, "mean change / SD change");
        row(fp, g, "effect_d_av", g->change.n, g->effect.d_av, NAN, NAN,
            "mean change / mean of baseline and final SD");
        row(fp, g, "effect_hedges_g_av", g->change.n, g->effect.g_av, NAN, NAN,
            "d_av with Hedges small-sample correction");
        row(fp, g, "pct_mean", g->pct_mean.n, g->pct_mean.est, g->pct_mean.lo, g->pct_mean.hi,
            g->pct_mean.method);
        row(fp, g, "pct_median", g->pct_median.n, g->pct_median.est, g->pct_median.lo,
            g->pct_median.hi, g->pct_median.method);
        row(fp, g, "zero_baseline_excluded", g->n_zero_baseline, (double)g->n_zero_baseline, NAN,
            NAN, "count");
        prop_rows(fp, g, "responder_30", &g->resp30);
        prop_rows(fp, g, "responder_50", &g->resp50);
        prop_rows(fp, g, "responder_mic", &g->resp_mic);
        prop_rows(fp, g, "durable_12m", &g->durable);
        prop_rows(fp, g, "kept_12m", &g->kept);
        row(fp, g, "bocf_change_mean", g->bocf.n, g->bocf.mean, g->bocf.lo, g->bocf.hi,
            "Student t; baseline carried forward for single-visit patients");
        row(fp, g, "immediate_mean", g->immediate.n, g->immediate.est, g->immediate.lo,
            g->immediate.hi, "Student t over patients' mean pain - pain_post");
        static const char *qn[3] = {"sessions_to_response_q25", "sessions_to_response_median",
                                    "sessions_to_response_q75"};
        for (int q = 0; q < 3; q++)
            row(fp, g, qn[q], g->km.n, g->km.q[q], g->km.q_lo[q], g->km.q_hi[q],
                cohort_km_q_method(&g->km, q));
        for (int a = 0; a < KM_AT_N; a++) {
            char s[64];
            snprintf(s, sizeof s, "responded_by_%d", cohort_km_at[a]);
            char how[128];
            cohort_km_at_method(&g->km, cohort_km_at[a], g->km_at[a], how, sizeof how);
            row(fp, g, s, g->km.n, g->km_at[a], g->km_at_lo[a], g->km_at_hi[a], how);
            snprintf(s, sizeof s, "responded_by_%d_worst_case", cohort_km_at[a]);
            row(fp, g, s, g->n_patients, g->worst_at[a], NAN, NAN,
                "dropouts counted as non-responders");
        }
    }
    for (size_t j = 0; j < c->n_months; j++) {
        const struct cohort_month *m = &c->month[j];
        struct cohort_group g;
        memset(&g, 0, sizeof g);
        snprintf(g.instrument, sizeof g.instrument, "%s", m->instrument);
        snprintf(g.by, sizeof g.by, "month");
        snprintf(g.value, sizeof g.value, "%s", m->month);
        row(fp, &g, "responder_30", (size_t)m->resp30.n, m->resp30.p, m->resp30.lo, m->resp30.hi,
            "Wilson score");
        row(fp, &g, "pchart_limits", (size_t)m->resp30.n, m->centre, m->lcl, m->ucl,
            "p-chart centre and 3-sigma limits");
        row(fp, &g, "laney_limits", (size_t)m->resp30.n, m->centre, m->laney_lcl, m->laney_ucl,
            "Laney p' limits");
        row(fp, &g, "laney_sigma_z", (size_t)m->resp30.n, m->laney_sigma_z, NAN, NAN,
            "mean moving range of monthly z-scores / 1.128, this instrument's series");
        row(fp, &g, "out_of_control", (size_t)m->resp30.n, (double)m->out_of_control, NAN, NAN,
            "1 = outside the p-chart limits");
        row(fp, &g, "laney_out_of_control", (size_t)m->resp30.n,
            (double)m->laney_out_of_control, NAN, NAN, "1 = outside the Laney p' limits");
    }
    for (size_t j = 0; j < c->n_arms; j++)
        arm_rows(fp, &c->arms[j]);
    if (ferror(fp))
        return out_err(e, OUT_EIO, NULL, 0, 0, "write error in cohort.csv");
    return 0;
}
