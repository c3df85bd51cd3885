/* cohort.c — cohort statistics (see cohort.h). Each group is computed by one function over
 * the measures that pass a filter, so the whole cohort, every subgroup and every arm get
 * exactly the same methods. */
#include "cohort.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "civil_date.h"
#include "escape.h"

const int cohort_km_at[KM_AT_N] = {3, 6, 8, 12};

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

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Distribution-free CI for the median from order statistics (binomial, normal approx. to
 * the ranks): exact enough for the large n where it is used. */
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
    qsort(s, n, sizeof *s, cmp_double);
    out->est = n % 2 ? s[n / 2] : (s[n / 2 - 1] + s[n / 2]) / 2;
    double z = level >= 0.99 ? 2.5758293035489 : 1.959963984540054;
    double half = z * sqrt((double)n) / 2;
    long lo = (long)floor((double)n / 2 - half);       /* 1-based ranks */
    long hi = (long)ceil((double)n / 2 + half) + 1;
    if (lo >= 1 && hi <= (long)n) {
        out->lo = s[lo - 1];
        out->hi = s[hi - 1];
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
        out->est = n == 1 ? x[0] : NAN;
        out->lo = out->hi = NAN;
    }
}

static void est_pct(const double *x, size_t n, enum boot_stat stat, const struct cohort_opts *o,
                    struct est *out)
{
    if (n > o->boot_max_n) {
        if (stat == BOOT_MEAN)
            est_from_t(x, n, o->level, out);
        else
            median_order_ci(x, n, o->level, out);
        return;
    }
    out->n = n;
    out->method = "bootstrap BCa";
    if (stats_bootstrap_bca(x, n, stat, o->boot_reps, o->seed, o->level, &out->est, &out->lo,
                            &out->hi) != 0) {
        out->est = out->lo = out->hi = NAN;
        if (n >= 1) {   /* the point estimate is still defined when the interval is not */
            struct desc d;
            if (stats_describe(x, n, &d) == 0)
                out->est = stat == BOOT_MEAN ? d.mean : d.median;
        }
    }
}

/* A filter selects the measures of one group. */
struct filter {
    size_t instr;
    int cov;                /* covariate index, or -1 for everyone */
    uint32_t value;         /* covariate string index */
};

static int pass(const struct dataset *ds, const struct pmeasure *m, const struct filter *f)
{
    if (m->instr != f->instr)
        return 0;
    if (f->cov < 0)
        return 1;
    return ds->cov_value[(size_t)m->patient * ds->n_cov + (size_t)f->cov] == f->value;
}

static int compute_group(const struct dataset *ds, const struct patient_set *ps,
                         const struct cohort_opts *o, const struct filter *f,
                         struct cohort_group *g)
{
    const struct instrument *in = ds->instr[f->instr];
    memset(g, 0, sizeof *g);
    snprintf(g->instrument, sizeof g->instrument, "%s", in->name);
    snprintf(g->label, sizeof g->label, "%s", in->label);
    g->higher_better = in->higher_better;
    if (f->cov >= 0) {
        snprintf(g->by, sizeof g->by, "%s", ds->cov_name[f->cov]);
        snprintf(g->value, sizeof g->value, "%s", ds->cov_str[f->value]);
    }

    size_t n = 0;
    for (size_t i = 0; i < ps->n; i++)
        n += pass(ds, &ps->m[i], f);
    size_t cap = n ? n : 1;
    double *pre = malloc(cap * sizeof *pre), *post = malloc(cap * sizeof *post);
    double *chg = malloc(cap * sizeof *chg), *pct = malloc(cap * sizeof *pct);
    double *bocf = malloc(cap * sizeof *bocf), *imm = malloc(cap * sizeof *imm);
    double *kt = malloc(cap * sizeof *kt);
    int *ke = malloc(cap * sizeof *ke);
    if (!pre || !post || !chg || !pct || !bocf || !imm || !kt || !ke) {
        free(pre); free(post); free(chg); free(pct); free(bocf); free(imm); free(kt); free(ke);
        return -1;
    }
    size_t nc = 0, np = 0, nb = 0, ni = 0, nk = 0;
    long r30 = 0, r50 = 0, rmic = 0, nmic = 0, dur = 0, ndur = 0;
    long worst[KM_AT_N] = {0};
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (!pass(ds, m, f) || isnan(m->baseline))
            continue;
        g->n_patients++;
        if (isnan(m->change)) {
            g->n_single++;
            bocf[nb++] = 0;    /* baseline observation carried forward: no change */
            continue;
        }
        bocf[nb++] = m->change;
        /* Good direction positive: feed the effect-size function "pre" and "post" so that
         * post - pre is the improvement. */
        pre[nc] = in->higher_better ? m->baseline : m->final;
        post[nc] = in->higher_better ? m->final : m->baseline;
        chg[nc++] = m->change;
        if (m->zero_baseline)
            g->n_zero_baseline++;
        else if (!isnan(m->pct)) {
            pct[np++] = m->pct;
            r30 += m->resp30 == 1;
            r50 += m->resp50 == 1;
        }
        if (m->resp_mic >= 0) {
            nmic++;
            rmic += m->resp_mic == 1;
        }
        if (m->durable >= 0) {
            ndur++;
            dur += m->durable == 1;
        }
        if (m->n_immediate > 0 && !isnan(m->immediate))
            imm[ni++] = m->immediate;
        if (m->sessions_to_response >= 0) {
            kt[nk] = m->sessions_to_response;
            ke[nk++] = m->responded;
            for (int a = 0; a < KM_AT_N; a++)
                worst[a] += m->responded && m->sessions_to_response <= cohort_km_at[a];
        }
    }
    g->n_complete = nc;

    /* Baseline and final descriptives in the instrument's own units. */
    {
        double *b = malloc(cap * sizeof *b), *fi = malloc(cap * sizeof *fi);
        if (b && fi) {
            for (size_t i = 0; i < nc; i++) {
                b[i] = in->higher_better ? pre[i] : post[i];
                fi[i] = in->higher_better ? post[i] : pre[i];
            }
            stats_describe(b, nc, &g->baseline);
            stats_describe(fi, nc, &g->final);
        }
        free(b);
        free(fi);
    }
    stats_t_one_sample(chg, nc, 0, o->level, &g->change);
    stats_wilcoxon_signed_rank(chg, nc, o->level, &g->wilcoxon);
    stats_effect_paired(pre, post, nc, &g->effect);
    est_pct(pct, np, BOOT_MEAN, o, &g->pct_mean);
    est_pct(pct, np, BOOT_MEDIAN, o, &g->pct_median);
    prop_fill(&g->resp30, r30, (long)np, o->level);
    prop_fill(&g->resp50, r50, (long)np, o->level);
    prop_fill(&g->resp_mic, rmic, nmic, o->level);
    prop_fill(&g->durable, dur, ndur, o->level);
    stats_t_one_sample(bocf, nb, 0, o->level, &g->bocf);
    est_from_t(imm, ni, o->level, &g->immediate);

    memset(&g->km, 0, sizeof g->km);
    if (nk > 0 && stats_km(kt, ke, nk, o->level, &g->km) == 0) {
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
        g->worst_at[a] = g->n_patients ? (double)worst[a] / (double)g->n_patients : NAN;
    g->dropout_share = g->n_patients ? (double)g->n_single / (double)g->n_patients : NAN;
    g->suppressed = f->cov >= 0 && g->n_patients < o->min_cell;

    free(pre); free(post); free(chg); free(pct); free(bocf); free(imm); free(kt); free(ke);
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

/* Monthly series of the 30% responder rate for instrument k, by month of the course's last
 * visit, with p-chart and Laney p′ limits (evidence.md, "Monthly p-chart"). */
static int compute_months(const struct dataset *ds, const struct patient_set *ps, size_t k,
                          const struct cohort_opts *o, struct cohort *c)
{
    double level = o->level;
    const struct instrument *in = ds->instr[k];
    size_t first = c->n_months;
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (m->instr != k || m->resp30 < 0)
            continue;
        char mon[8];
        month_of(m->end_day, mon);   /* course end, not a month-12 follow-up */
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
        c->month[j].resp30.n++;
        c->month[j].resp30.k += m->resp30 == 1;
    }
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
    c->laney_sigma_z = sigz;
    for (size_t j = first; j < c->n_months; j++) {
        struct cohort_month *m = &c->month[j];
        double sd = sqrt(pbar * (1 - pbar) / (double)m->resp30.n);
        m->centre = pbar;
        m->lcl = fmax(0, pbar - 3 * sd);
        m->ucl = fmin(1, pbar + 3 * sd);
        m->laney_lcl = isnan(sigz) ? NAN : fmax(0, pbar - 3 * sd * sigz);
        m->laney_ucl = isnan(sigz) ? NAN : fmin(1, pbar + 3 * sd * sigz);
        m->out_of_control = m->resp30.p < m->lcl || m->resp30.p > m->ucl;
    }
    return 0;
}

int cohort_compute(const struct dataset *ds, const struct patient_set *ps,
                   const struct cohort_opts *o, struct cohort *out, struct out_error *e)
{
    memset(out, 0, sizeof *out);
    out->seed = o->seed;
    out->boot_reps = o->boot_reps;
    out->min_cell = o->min_cell;
    for (size_t k = 0; k < ds->n_instr; k++) {
        struct filter f = {k, -1, 0};
        struct cohort_group *g = new_group(out);
        if (!g || compute_group(ds, ps, o, &f, g) != 0)
            goto oom;
    }
    for (size_t b = 0; b < o->n_by; b++) {
        int c = dataset_cov_index(ds, o->by[b]);
        if (c < 0)
            continue;   /* a breakdown the data cannot give; the report lists what it has */
        /* Distinct values in order of first appearance among patients. */
        for (size_t k = 0; k < ds->n_instr; k++) {
            uint32_t *seen = NULL;
            size_t nseen = 0;
            for (size_t p = 0; p < ds->n_patients; p++) {
                uint32_t v = ds->cov_value[p * ds->n_cov + (size_t)c];
                if (v == UINT32_MAX)
                    continue;
                size_t j;
                for (j = 0; j < nseen && seen[j] != v; j++)
                    ;
                if (j < nseen)
                    continue;
                if (nseen >= 64)
                    break;  /* a breakdown with more cells than a report can show */
                uint32_t *ns = realloc(seen, (nseen + 1) * sizeof *ns);
                if (!ns) {
                    free(seen);
                    goto oom;
                }
                seen = ns;
                seen[nseen++] = v;
                struct filter f = {k, c, v};
                struct cohort_group *g = new_group(out);
                if (!g || compute_group(ds, ps, o, &f, g) != 0) {
                    free(seen);
                    goto oom;
                }
            }
            free(seen);
        }
    }
    for (size_t k = 0; k < ds->n_instr; k++)
        if (compute_months(ds, o->series ? o->series : ps, k, o, out) != 0)
            goto oom;
    return 0;
oom:
    cohort_free(out);
    return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory in cohort statistics");
}

void cohort_free(struct cohort *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->n_groups; i++)
        stats_km_free(&c->group[i].km);
    free(c->group);
    free(c->month);
    memset(c, 0, sizeof *c);
}

/* ---- cohort.csv ---- */

static void num(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, "%.10g", x);
}

static void row(FILE *fp, const struct cohort_group *g, const char *stat, size_t n, double est,
                double lo, double hi, const char *method)
{
    esc_csv(fp, g->instrument);
    fputc(',', fp);
    esc_csv(fp, g->by);
    fputc(',', fp);
    esc_csv(fp, g->value);
    fprintf(fp, ",%s,%zu,", stat, n);
    if (!g->suppressed) {
        num(fp, est);
        fputc(',', fp);
        num(fp, lo);
        fputc(',', fp);
        num(fp, hi);
    } else {
        fputs(",,", fp);
    }
    fprintf(fp, ",%s\n", g->suppressed ? "suppressed (n below minimum cell size)" : method);
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
        row(fp, g, "change_hodges_lehmann", g->wilcoxon.n, g->wilcoxon.hl, g->wilcoxon.hl_lo,
            g->wilcoxon.hl_hi, "Hodges-Lehmann pseudomedian");
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
        row(fp, g, "bocf_change_mean", g->bocf.n, g->bocf.mean, g->bocf.lo, g->bocf.hi,
            "Student t; baseline carried forward for single-visit patients");
        row(fp, g, "immediate_mean", g->immediate.n, g->immediate.est, g->immediate.lo,
            g->immediate.hi, "Student t over patients' mean pain - pain_post");
        static const char *qn[3] = {"sessions_to_response_q25", "sessions_to_response_median",
                                    "sessions_to_response_q75"};
        for (int q = 0; q < 3; q++)
            row(fp, g, qn[q], g->km.n, g->km.q[q], g->km.q_lo[q], g->km.q_hi[q],
                "Kaplan-Meier, Brookmeyer-Crowley CI (log-log)");
        for (int a = 0; a < KM_AT_N; a++) {
            char s[64];
            snprintf(s, sizeof s, "responded_by_%d", cohort_km_at[a]);
            row(fp, g, s, g->km.n, g->km_at[a], g->km_at_lo[a], g->km_at_hi[a],
                "Kaplan-Meier 1-S, Greenwood log-log CI");
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
    }
    if (ferror(fp))
        return out_err(e, OUT_EIO, NULL, 0, 0, "write error in cohort.csv");
    return 0;
}
