/* charts_build.c — see charts_build.h. */
#include "charts_build.h"
#include "digest.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "charts.h"
#include "stats.h"

/* A chart queued on the batch, listed once its render is known to have succeeded. */
struct pending {
    int rc;                     /* the chart call's own failure, before any render */
    struct out_error e;
    char *name, *title, *caption;
};

struct ctx {
    const char *dir;
    struct chart_list *list;
    int rc;                     /* first failure */
    struct out_error *e;
    struct chart_batch *batch;  /* NULL: each chart renders before its call returns */
    struct pending *pend;
    size_t n_pend, cap_pend;
};

static void list_add(struct ctx *c, int rc, struct out_error *ce, const char *name,
                     const char *title, const char *caption)
{
    if (rc) {
        if (!c->rc) {
            c->rc = rc;
            *c->e = *ce;
        }
        return;
    }
    struct chart_list *l = c->list;
    if (l->n == l->cap) {
        size_t ncap = l->cap ? l->cap * 2 : 8;
        struct report_chart *nc = realloc(l->chart, ncap * sizeof *nc);
        if (!nc)
            return;
        l->chart = nc;
        l->cap = ncap;
    }
    struct report_chart *r = &l->chart[l->n];
    r->name = strdup(name);
    r->title = strdup(title);
    r->caption = strdup(caption ? caption : "");
    if (!r->name || !r->title || !r->caption) {
        free((char *)r->name);
        free((char *)r->title);
        free((char *)r->caption);
        return;
    }
    l->n++;
}

/* With a batch the outcome is known only after chart_batch_finish: keep the call's result
 * and texts in call order, and list them then (resolve), as list_add would have. */
static void add(struct ctx *c, int rc, struct out_error *ce, const char *name, const char *title,
                const char *caption)
{
    if (!c->batch) {
        list_add(c, rc, ce, name, title, caption);
        return;
    }
    if (c->n_pend == c->cap_pend) {
        size_t ncap = c->cap_pend ? c->cap_pend * 2 : 32;
        struct pending *np = realloc(c->pend, ncap * sizeof *np);
        if (!np)
            return;
        c->pend = np;
        c->cap_pend = ncap;
    }
    struct pending *p = &c->pend[c->n_pend];
    p->rc = rc;
    p->e = *ce;
    p->name = strdup(name);
    p->title = strdup(title);
    p->caption = strdup(caption ? caption : "");
    if (!p->name || !p->title || !p->caption) {
        free(p->name);
        free(p->title);
        free(p->caption);
        return;
    }
    c->n_pend++;
}

static void resolve(struct ctx *c)
{
    if (!c->batch)
        return;
    struct out_error ce = {0};
    chart_batch_finish(c->batch, &ce);   /* its error is the first pending one's, seen below */
    for (size_t i = 0; i < c->n_pend; i++) {
        struct pending *p = &c->pend[i];
        int rc = p->rc ? p->rc : chart_batch_result(c->batch, p->name, &p->e);
        list_add(c, rc, &p->e, p->name, p->title, p->caption);
        free(p->name);
        free(p->title);
        free(p->caption);
    }
    free(c->pend);
    chart_batch_free(c->batch);
}

static int instr_index(const struct dataset *ds, const char *name)
{
    for (size_t k = 0; k < ds->n_instr; k++)
        if (!strcmp(ds->instr[k]->name, name))
            return (int)k;
    return -1;
}

/* One instrument's values for one of its charts: of every complete case the baseline and
 * final score (V_SCORES), the change (V_CHANGE), or the percent change where the baseline is
 * not 0 (V_PCT). Each chart gathers only what it draws and frees it before the next: at a
 * million patients every array is 10 MB. */
enum { V_PCT = 1, V_CHANGE = 2, V_SCORES = 4 };
struct instr_values {
    double *pct, *b, *f, *ch;   /* pct: np values; b, f, ch: n values; NULL when not asked */
    size_t n, np, nz;           /* nz: complete cases with a zero baseline */
};

static void values_free(struct instr_values *v)
{
    free(v->pct);
    free(v->b);
    free(v->f);
    free(v->ch);
    memset(v, 0, sizeof *v);
}

/* A complete case of instrument k: a first and a last score (change defined). */
static int complete_case(const struct pmeasure *m, size_t k)
{
    return m->instr == k && !isnan(pm_change(m));
}

/* Each instrument's complete cases, counted in one pass over the measures: the gathers
 * below need the sizes, and a pass over a million patients' records is not free. */
static void count_complete(const struct patient_set *ps, size_t n_instr, size_t *n)
{
    memset(n, 0, n_instr * sizeof *n);
    for (size_t i = 0; i < ps->n; i++)
        if (ps->m[i].instr < n_instr && !isnan(pm_change(&ps->m[i])))
            n[ps->m[i].instr]++;
}

/* Instrument k's values named in `want`, in the measures' order; n is its number of
 * complete cases (count_complete). Returns 0, or -1 when out of memory (*v empty). */
static int gather_values(const struct patient_set *ps, size_t k, size_t n, int want,
                         struct instr_values *v)
{
    memset(v, 0, sizeof *v);
    size_t cap = n ? n : 1;
    if (((want & V_PCT) && !(v->pct = malloc(cap * sizeof *v->pct))) ||
        ((want & V_SCORES) && !(v->b = malloc(cap * sizeof *v->b))) ||
        ((want & V_SCORES) && !(v->f = malloc(cap * sizeof *v->f))) ||
        ((want & V_CHANGE) && !(v->ch = malloc(cap * sizeof *v->ch)))) {
        values_free(v);
        return -1;
    }
    for (size_t i = 0; i < ps->n && v->n < n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (!complete_case(m, k))
            continue;
        if (v->b) {
            v->b[v->n] = m->baseline;
            v->f[v->n] = m->final;
        }
        if (v->ch)
            v->ch[v->n] = pm_change(m);
        v->n++;
        double pct = pm_pct(m);
        if (pm_zero_baseline(m))
            v->nz++;
        else if (!isnan(pct) && v->pct)
            v->pct[v->np++] = pct;
    }
    return 0;
}

static void per_instrument(struct ctx *c, const struct dataset *ds, const struct cohort *co,
                           const struct patient_set *ps, size_t k, size_t n_complete)
{
    const struct instrument *in = ds->instr[k];
    const struct cohort_group *g = cohort_overall(co, in->name);
    char name[64], title[160], cap[512];
    struct out_error ce = {0};
    struct instr_values v;
    int rc;

    snprintf(name, sizeof name, "waterfall_%s", in->name);
    snprintf(title, sizeof title, "Each patient's percent improvement: %s", in->label);
    struct chart_out o = {.dir = c->dir, .name = name, .title = title, .batch = c->batch};
    if (gather_values(ps, k, n_complete, V_PCT, &v))
        return;
    rc = chart_waterfall(&o, v.pct, v.np, v.nz, &ce);
    snprintf(cap, sizeof cap,
             "%zu patients with a follow-up score, sorted by improvement; lines at 30%% and 50%%. "
             "%zu patients with a baseline of 0 are left out (percent change is undefined).",
             v.np, v.nz);
    values_free(&v);
    add(c, rc, &ce, name, title, cap);

    snprintf(name, sizeof name, "change_%s", in->name);
    snprintf(title, sizeof title, "Distribution of improvement: %s", in->label);
    char xl[160];
    snprintf(xl, sizeof xl, "Improvement in %s (points, positive = better)", in->label);
    o.name = name;
    o.title = title;
    if (gather_values(ps, k, n_complete, V_CHANGE, &v))
        return;
    rc = chart_change_hist(&o, xl, v.ch, v.n, &ce);
    values_free(&v);
    add(c, rc, &ce, name, title, "Improvement from the first to the last visit, complete cases.");

    snprintf(name, sizeof name, "scatter_%s", in->name);
    snprintf(title, sizeof title, "Baseline against final score: %s", in->label);
    o.name = name;
    o.title = title;
    if (gather_values(ps, k, n_complete, V_SCORES, &v))
        return;
    rc = chart_scatter_baseline_final(&o, in->label, in->min, in->max, in->higher_better, v.b,
                                      v.f, v.n, &ce);
    values_free(&v);
    add(c, rc, &ce, name, title,
        "Each patient's first and last score; points on the diagonal did not change.");

    size_t n_st;
    struct chart_step *st = g ? charts_km_steps(&g->km, &n_st) : NULL;
    if (st) {
        snprintf(name, sizeof name, "km_%s", in->name);
        snprintf(title, sizeof title, "Time to a 30%% improvement: %s", in->label);
        o.name = name;
        o.title = title;
        rc = chart_km(&o, st, n_st, g->km.n, g->km.n_events, NAN, NULL, 0, &ce);
        add(c, rc, &ce, name, title,
            "Kaplan-Meier share of patients who have reached a 30% improvement, by "
            "treatments received, with its 95% band; the articles' 3-6 and 6-12 session "
            "windows are shaded.");
        free(st);
    }
}

struct chart_step *charts_km_steps(const struct km *k, size_t *n_out)
{
    *n_out = 0;
    if (!k || k->n_steps == 0 || !k->step)
        return NULL;
    struct chart_step *st = malloc((k->n_steps + k->n_cens) * sizeof *st);
    if (!st)
        return NULL;
    size_t n = 0, c = 0;
    long events_after = (long)k->n_events;   /* events at times >= the current one */
    for (size_t i = 0; i < k->n_steps; i++) {
        const struct km_step *s = &k->step[i];
        st[n++] = (struct chart_step){ .t = s->t, .share = 1 - s->surv,
                                       .lo = isnan(s->hi) ? NAN : 1 - s->hi,
                                       .hi = isnan(s->lo) ? NAN : 1 - s->lo,
                                       .n_risk = s->n_risk };
        events_after -= s->n_event;
        if (!(s->surv > 0))
            break;   /* S = 0: nothing left to widen */
        /* Censorings on the flat up to the next step (one at the next step's own time
         * belongs to that step's flat). Those before the first step are not widened. */
        double next = i + 1 < k->n_steps ? k->step[i + 1].t : INFINITY;
        while (c < k->n_cens && k->cens[c].t < s->t)
            c++;
        for (; c < k->n_cens && k->cens[c].t < next; c++) {
            double surv, lo, hi;
            stats_km_at(k, nextafter(k->cens[c].t, INFINITY), &surv, &lo, &hi);
            st[n++] = (struct chart_step){ .t = k->cens[c].t, .share = 1 - surv,
                                           .lo = isnan(hi) ? NAN : 1 - hi,
                                           .hi = isnan(lo) ? NAN : 1 - lo,
                                           .n_risk = k->cens[c].t == s->t
                                                         ? s->n_risk
                                                         : k->cens[c].n + events_after };
        }
    }
    *n_out = n;
    return st;
}

/* Mean score by session with a 95% t interval, from the visit digest (digest.h). */
static void trajectory(struct ctx *c, const struct dataset *ds, const struct visit_digest *dg,
                       size_t k)
{
    const struct instrument *in = ds->instr[k];
    enum { MAXS = DIGEST_MAX_SESSION };
    struct chart_point pts[MAXS];
    size_t np = 0;
    /* Below 5 patients a session's mean and t interval say more about who stayed than about
     * the treatment (the interval can span the whole scale); those sessions are left out. */
    enum { MIN_N = 5 };
    for (int s = 1; s <= MAXS; s++) {
        const struct digest_cell *cell = &dg->traj[k][s];
        if (cell->n < MIN_N)
            continue;
        struct chart_point *p = &pts[np++];
        p->x = s;
        p->n = cell->n;
        p->mean = cell->sum / (double)cell->n;
        p->lo = p->hi = NAN;
        if (cell->n >= 2) {
            double se = sqrt(cell->m2 / (double)(cell->n - 1) / (double)cell->n);
            double q = gsl_cdf_tdist_Pinv(0.975, (double)(cell->n - 1));
            /* A score cannot leave its scale, so neither can its band. */
            p->lo = fmax(in->min, p->mean - q * se);
            p->hi = fmin(in->max, p->mean + q * se);
        }
    }
    char name[64], title[160], yl[160];
    snprintf(name, sizeof name, "trajectory_%s", in->name);
    snprintf(title, sizeof title, "Mean score by session: %s", in->label);
    snprintf(yl, sizeof yl, "Mean %s", in->label);
    struct chart_out o = {.dir = c->dir, .name = name, .title = title, .batch = c->batch};
    struct out_error ce = {0};
    int rc = chart_trajectory(&o, "Session", yl, pts, np, &ce);
    add(c, rc, &ce, name, title,
        "Mean score of the patients seen at each session, with a 95% t interval clipped to the "
        "scale; sessions seen by fewer than 5 patients are left out. n falls as patients "
        "finish or drop out, so later sessions describe a selected group.");
}

static void pchart(struct ctx *c, const struct cohort *co, const char *instr)
{
    size_t n = 0;
    struct chart_period *p = malloc((co->n_months ? co->n_months : 1) * sizeof *p);
    if (!p)
        return;
    for (size_t j = 0; j < co->n_months; j++) {
        if (strcmp(co->month[j].instrument, instr))
            continue;
        p[n].label = co->month[j].month;
        p[n].n = co->month[j].resp30.n;
        p[n].k = co->month[j].resp30.k;
        n++;
    }
    char name[64], title[160];
    snprintf(name, sizeof name, "pchart_%s", instr);
    snprintf(title, sizeof title, "Monthly share of patients improved >= 30%% (%s)", instr);
    struct chart_out o = {.dir = c->dir, .name = name, .title = title, .batch = c->batch};
    struct out_error ce = {0};
    int rc = chart_pchart(&o, p, n, &ce);
    add(c, rc, &ce, name, title,
        "By month of each patient's last visit; centre line at the pooled rate, 3-sigma limits "
        "that widen for months with fewer patients.");
    free(p);
}

static void arms(struct ctx *c, const struct cohort *co, const char *instr)
{
    struct chart_group g[16];
    size_t n = 0, total = 0, small = 0;
    for (size_t i = 0; i < co->n_groups; i++) {
        const struct cohort_group *cg = &co->group[i];
        if (strcmp(cg->by, "arm") || strcmp(cg->instrument, instr))
            continue;
        if (cg->suppressed) {
            small++;
            continue;
        }
        if (total++ >= 16)
            continue;   /* counted, not drawn: the title and caption say so */
        g[n].label = cg->value;
        g[n].mean = cg->change.mean;
        g[n].lo = cg->change.lo;
        g[n].hi = cg->change.hi;
        g[n].n = (long)cg->change.n;
        n++;
    }
    if (n < 2)
        return;
    char name[64], title[160], xl[160];
    snprintf(name, sizeof name, "arms_%s", instr);
    if (total > n)
        snprintf(title, sizeof title, "Mean improvement by arm (%s): the first %zu of %zu arms",
                 instr, n, total);
    else
        snprintf(title, sizeof title, "Mean improvement by arm (%s)", instr);
    snprintf(xl, sizeof xl, "Mean improvement in %s (points, positive = better)", instr);
    struct chart_out o = {.dir = c->dir, .name = name, .title = title, .batch = c->batch};
    struct out_error ce = {0};
    int rc = chart_arms(&o, xl, g, n, &ce);
    char cap[240];
    snprintf(cap, sizeof cap, "Mean improvement with its 95%% t interval in each arm%s%s%s",
             total > n ? "; the others are in cohort.csv" : "",
             small ? "; arms under the minimum cell size are left out" : "", ".");
    add(c, rc, &ce, name, title, cap);
}

/* One forest per unit (shares and percent improvements in %, session counts in sessions),
 * since claims on different scales cannot share an axis. Not-auditable rows have no
 * estimate and are listed in the audit table instead. */
static void forest_unit(struct ctx *c, const struct audit_result *a, const struct bench_set *bs,
                        const char *unit, const char *name, const char *title,
                        const char *xlabel)
{
    size_t nb = bs && unit[0] == '%' ? bs->n : 0;
    struct chart_forest_row *rows = malloc((a->n + nb + 1) * sizeof *rows);
    char (*labels)[96] = malloc((a->n ? a->n : 1) * sizeof *labels);
    size_t n = 0;
    if (!rows || !labels)
        goto out;
    for (size_t i = 0; i < a->n; i++) {
        const struct audit_row *r = &a->row[i];
        /* "%" gathers "% of patients", "% improvement", "% of responders"; other units must
         * match exactly, so differences and session counts get axes of their own. */
        const char *u = claim_stat_defs[r->stat].unit;
        int same = unit[0] == '%' ? u[0] == '%' : strcmp(u, unit) == 0;
        if (r->verdict == V_NOT_AUDITABLE || !same)
            continue;
        snprintf(labels[n], sizeof labels[n], "%s%s%s", r->claim->id, r->part[0] ? " " : "",
                 r->part);
        rows[n].label = labels[n];
        rows[n].est = r->est;
        rows[n].lo = r->lo;
        rows[n].hi = r->hi;
        rows[n].claim_lo = r->claim_lo;
        rows[n].claim_hi = r->claim_hi;
        rows[n].verdict = r->verdict == V_SUPPORTED      ? CHART_SUPPORTED
                          : r->verdict == V_CONTRADICTED ? CHART_CONTRADICTED
                          : r->verdict == V_INCONCLUSIVE ? CHART_INCONCLUSIVE
                                                         : CHART_INSUFFICIENT;
        rows[n].n = (long)r->n;
        n++;
    }
    size_t nclaims = n;
    for (size_t i = 0; i < nb; i++) {
        const struct bench *b = &bs->b[i];
        if (strcmp(b->chart, "shares") || !isfinite(b->estimate))
            continue;
        rows[n] = (struct chart_forest_row){b->id, b->estimate, b->lo, b->hi, NAN, NAN,
                                            CHART_BENCHMARK, b->n};
        n++;
    }
    if (nclaims) {
        struct chart_out o = {.dir = c->dir, .name = name, .title = title, .batch = c->batch};
        struct out_error ce = {0};
        int rc = chart_forest(&o, xlabel, rows, n, &ce);
        add(c, rc, &ce, name, title,
            "Each claim's estimate from these patients with its 95% interval, against the "
            "claimed value or range; colour and shape give the verdict. Published trial arms "
            "(share of responders by each trial's own rule) are drawn beneath for comparison.");
    }
out:
    free(rows);
    free(labels);
}

static void forest(struct ctx *c, const struct audit_result *a, const struct bench_set *bs)
{
    if (!a)
        return;
    forest_unit(c, a, bs, "%", "forest_shares", "Claims audit: shares and percent improvements",
                "Percent (of patients, or improvement)");
    forest_unit(c, a, NULL, "percentage points", "forest_differences",
                "Claims audit: treatment minus control",
                "Difference, treatment - control (percentage points)");
    forest_unit(c, a, NULL, "treatments", "forest_sessions", "Claims audit: sessions to improvement",
                "Treatments");
}

int charts_build(const char *dir, const struct dataset *ds, const struct patient_set *ps,
                 const struct cohort *co, const struct audit_result *audit,
                 const struct bench_set *bench, struct chart_list *out, struct out_error *e)
{
    /* The charts render side by side (a gnuplot session per CPU, each drawing chart after
     * chart) while the next ones are computed; without memory for a batch they render one
     * at a time. */
    struct ctx c = {.dir = dir, .list = out, .e = e, .batch = chart_batch_new(0)};
    memset(out, 0, sizeof *out);
    forest(&c, audit, bench);
    struct visit_digest local;
    const struct visit_digest *dg = digest_of(ds, &local);
    size_t n_complete[INSTRUMENT_MAX];
    size_t n_instr = ds->n_instr < INSTRUMENT_MAX ? ds->n_instr : INSTRUMENT_MAX;
    count_complete(ps, n_instr, n_complete);
    for (size_t k = 0; k < n_instr; k++) {
        per_instrument(&c, ds, co, ps, k, n_complete[k]);
        if (dg)
            trajectory(&c, ds, dg, k);
    }
    digest_free(&local);
    int pk = instr_index(ds, "pain");
    const char *main_instr = pk >= 0 ? "pain" : ds->n_instr ? ds->instr[0]->name : NULL;
    if (main_instr) {
        pchart(&c, co, main_instr);
        arms(&c, co, main_instr);
    }
    resolve(&c);
    return c.rc;
}

void chart_list_free(struct chart_list *l)
{
    if (!l)
        return;
    for (size_t i = 0; i < l->n; i++) {
        free((char *)l->chart[i].name);
        free((char *)l->chart[i].title);
        free((char *)l->chart[i].caption);
    }
    free(l->chart);
    memset(l, 0, sizeof *l);
}
