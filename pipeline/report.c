/* report.c — report.html, report.md, summary.json and the terminal summary (see report.h).
 * The body is written once against doc.h and rendered twice, so the two documents can never
 * disagree; summary.json is written separately because its schema is a contract. */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_version.h>

#include "civil_date.h"
#include "doc.h"
#include "escape.h"
#include "outfile.h"

static void day_str(int32_t day, char out[16])
{
    if (day == INT32_MIN)
        snprintf(out, 16, "n/a");
    else
        civil_format(day, out);
}

static void date_range(const struct dataset *ds, int32_t *lo, int32_t *hi)
{
    *lo = INT32_MAX;
    *hi = INT32_MIN;
    for (size_t f = 0; f < ds->n_files; f++) {
        if (ds->file[f].first_day == INT32_MIN)
            continue;
        if (ds->file[f].first_day < *lo)
            *lo = ds->file[f].first_day;
        if (ds->file[f].last_day > *hi)
            *hi = ds->file[f].last_day;
    }
    if (*lo == INT32_MAX)
        *lo = INT32_MIN;
}

/* "better" with direction: "improvement (lower is better)". */
static const char *direction(const struct cohort_group *g)
{
    return g->higher_better ? "higher is better" : "lower is better";
}

static void headline(struct doc *d, const struct report_input *in)
{
    const struct cohort *c = in->cohort;
    doc_heading(d, 2, "Headline");
    if (in->month)
        doc_para(d, NULL,
                 "This report describes the %zu patients whose course ended in %s (the month of "
                 "their end-of-course visit; patients with a single visit by that visit). The "
                 "monthly table and p-chart set %s against the twelve months before it. Data "
                 "quality and provenance cover every input row.",
                 in->ps->n_patients, in->month, in->month);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        if (g->by[0])
            continue;
        doc_item(d, "%s: %zu patients with a baseline, %zu with follow-up. Mean improvement %s "
                    "points (%s); median improvement %s%%; %s reached a 30%% improvement.",
                 g->label, g->n_patients, g->n_complete,
                 fci(g->change.mean, g->change.lo, g->change.hi, 2), direction(g),
                 fnum(g->pct_median.est, 1),
                 fpct(g->resp30.p, g->resp30.lo, g->resp30.hi));
    }
    doc_list_end(d);
    doc_para(d, "caveat",
             "Read with care: this is a before-and-after cohort without a control group. Low back "
             "pain improves by about a third within 6 weeks and by about half within a year "
             "without specific treatment (Menezes Costa et al., CMAJ 2012), and patients tend to "
             "start treatment when their pain is at its worst (regression to the mean). These "
             "figures cannot separate the effect of treatment from that natural course.");
}

static void quality(struct doc *d, const struct report_input *in)
{
    const struct dataset *ds = in->ds;
    doc_heading(d, 2, "Data quality");
    doc_para(d, NULL,
             "%ld rows read, %ld accepted, %ld rejected (%.1f%%). Every rejected row is listed "
             "in rejects.csv with its file, line, column and reason.",
             ds->rows_read, ds->rows_accepted, ds->rows_rejected,
             ds->rows_read ? 100.0 * (double)ds->rows_rejected / (double)ds->rows_read : 0.0);
    static const char *const head[] = {"Reason", "Rows"};
    doc_table(d, head, 2);
    for (int r = 0; r < REJ__COUNT; r++) {
        if (!ds->rejected_by[r])
            continue;
        char n[32];
        snprintf(n, sizeof n, "%ld", ds->rejected_by[r]);
        const char *cells[] = {reject_reason_name((enum reject_reason)r), n};
        doc_row(d, cells, 2);
    }
    doc_table_end(d);
    if (ds->ids_zero_led == IDS_ZERO_LED_UNKNOWN)
        doc_para(d, "caveat",
                 "quality.csv was written by an earlier version of outcomes, which did not "
                 "check for patient ids that differ only in leading zeros (007 and 7). Run "
                 "`outcomes ingest` again to check them.");
    else if (ds->ids_zero_led)
        doc_para(d, "caveat",
                 "%zu patient ids equal another id once leading zeros are dropped (as 007 and "
                 "7 do). A spreadsheet drops the zeros of an id it reads as a number, so some "
                 "of these may be one patient counted as two. They are analysed as given: "
                 "check the source files.",
                 ds->ids_zero_led);
    const struct patient_set *ps = in->ps;
    doc_para(d, NULL,
             "%zu patients (patient-episodes). Patients with a single scored visit have no "
             "follow-up: they are counted as dropouts, shown beside every rate, and carried "
             "forward at baseline in the sensitivity analysis; none is dropped.",
             ps->n_patients);
}

static void cohort_table(struct doc *d, const struct report_input *in)
{
    const struct cohort *c = in->cohort;
    doc_heading(d, 2, "Change by instrument (complete cases)");
    static const char *const head[] = {"Instrument", "n", "Baseline mean (SD)",
                                       "Final mean (SD)", "Mean improvement (95% CI)",
                                       "Paired t p", "Wilcoxon p",
                                       "Hodges-Lehmann (95% CI)", "SRM d_z", "Hedges g_av"};
    doc_table(d, head, 10);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        if (g->by[0])
            continue;
        char n[32], b[64], f[64];
        snprintf(n, sizeof n, "%zu", g->n_complete);
        snprintf(b, sizeof b, "%s (%s)", fnum(g->baseline.mean, 2), fnum(g->baseline.sd, 2));
        snprintf(f, sizeof f, "%s (%s)", fnum(g->final.mean, 2), fnum(g->final.sd, 2));
        /* Below the asked level (few or tied changes), the interval says its own level. */
        char hl[160];
        int hn;
        if (g->wilcoxon.level < c->level - 1e-9 && isfinite(g->wilcoxon.hl_lo))
            hn = snprintf(hl, sizeof hl, "%s (%.4g%% CI %s to %s; %.4g%% not attainable)",
                          fnum(g->wilcoxon.hl, 2), 100 * g->wilcoxon.level,
                          fnum(g->wilcoxon.hl_lo, 2), fnum(g->wilcoxon.hl_hi, 2),
                          100 * c->level);
        else
            hn = snprintf(hl, sizeof hl, "%s",
                          fci(g->wilcoxon.hl, g->wilcoxon.hl_lo, g->wilcoxon.hl_hi, 2));
        /* Wilcoxon and Hodges-Lehmann drop zero changes (as R): say so beside the n they
         * do not share with the rest of the row. */
        if (g->wilcoxon.n < g->n_complete && hn >= 0 && (size_t)hn < sizeof hl)
            snprintf(hl + hn, sizeof hl - (size_t)hn, "; n = %zu non-zero", g->wilcoxon.n);
        const char *cells[] = {g->label, n, b, f,
                               fci(g->change.mean, g->change.lo, g->change.hi, 2),
                               fpval(g->change.p), fpval(g->wilcoxon.p), hl,
                               fnum(g->effect.d_z, 2), fnum(g->effect.g_av, 2)};
        doc_row(d, cells, 10);
    }
    doc_table_end(d);

    doc_heading(d, 2, "Percent improvement and responders");
    static const char *const h2[] = {"Instrument", "Mean % (95% CI)", "Median % (95% CI)",
                                     ">= 30% improved", ">= 50% improved",
                                     "Minimal important change", "Zero baselines excluded",
                                     "BOCF mean improvement (n)"};
    doc_table(d, h2, 8);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        if (g->by[0])
            continue;
        char r30[96], r50[96], rm[96], z[32], bocf[96];
        snprintf(r30, sizeof r30, "%ld/%ld = %s", g->resp30.k, g->resp30.n,
                 fpct(g->resp30.p, g->resp30.lo, g->resp30.hi));
        snprintf(r50, sizeof r50, "%ld/%ld = %s", g->resp50.k, g->resp50.n,
                 fpct(g->resp50.p, g->resp50.lo, g->resp50.hi));
        if (g->resp_mic.n)
            snprintf(rm, sizeof rm, "%ld/%ld = %s", g->resp_mic.k, g->resp_mic.n,
                     fpct(g->resp_mic.p, g->resp_mic.lo, g->resp_mic.hi));
        else
            snprintf(rm, sizeof rm, "n/a (no MIC declared)");
        snprintf(z, sizeof z, "%zu", g->n_zero_baseline);
        snprintf(bocf, sizeof bocf, "%s (n=%zu)", fci(g->bocf.mean, g->bocf.lo, g->bocf.hi, 2),
                 g->bocf.n);
        const char *cells[] = {g->label,
                               fci(g->pct_mean.est, g->pct_mean.lo, g->pct_mean.hi, 1),
                               fci(g->pct_median.est, g->pct_median.lo, g->pct_median.hi, 1),
                               r30, r50, rm, z, bocf};
        doc_row(d, cells, 8);
    }
    doc_table_end(d);
    doc_para(d, NULL,
             "Responder rates use Wilson score 95%% intervals (Clopper-Pearson exact intervals "
             "are in cohort.csv). Percent-improvement intervals: %s, %zu resamples, seed %llu.",
             c->n_groups ? c->group[0].pct_mean.method : "n/a", c->boot_reps,
             (unsigned long long)c->seed);
}

static void time_to_response(struct doc *d, const struct report_input *in)
{
    const struct cohort *c = in->cohort;
    doc_heading(d, 2, "Time to response");
    doc_para(d, NULL,
             "Treatments received before the visit at which a patient first reports a 30%% "
             "improvement; patients who never do are censored at their last visit "
             "(Kaplan-Meier, Greenwood variance, log-log 95%% intervals; median by "
             "Brookmeyer-Crowley, its lower limit also read past each censoring, where fewer "
             "are followed (Dorey-Korn), as is the upper limit of the share responded by a "
             "session, here and in the chart; at 0%% or 100%%, where that interval does not "
             "exist, the nearest one that does bounds it, since the share cannot fall, or an "
             "exact binomial limit where one holds). "
             "The worst case counts every dropout as a non-responder.");
    static const char *const head[] = {"Instrument", "Median sessions (95% CI)",
                                       "Responded by 3", "by 6", "by 8", "by 12",
                                       "Worst case by 6", "Worst case by 12", "Dropouts"};
    doc_table(d, head, 9);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        if (g->by[0])
            continue;
        char med[96], at[KM_AT_N][96], w6[32], w12[32], dr[64];
        const char *above = g->km.q_lo_open[1] ? "above " : "";
        if (isnan(g->km.q[1]) && isfinite(g->km.q_lo[1]))
            snprintf(med, sizeof med, "not reached (%s%g to not reached)", above,
                     g->km.q_lo[1]);
        else if (isnan(g->km.q[1]))
            snprintf(med, sizeof med, "not reached");
        else
            snprintf(med, sizeof med, "%s (%s%s to %s)", fnum(g->km.q[1], 0), above,
                     isnan(g->km.q_lo[1]) ? "n/a" : fnum(g->km.q_lo[1], 0),
                     isnan(g->km.q_hi[1]) ? "not reached" : fnum(g->km.q_hi[1], 0));
        for (int a = 0; a < KM_AT_N; a++)
            snprintf(at[a], sizeof at[a], "%s", fpct(g->km_at[a], g->km_at_lo[a], g->km_at_hi[a]));
        snprintf(w6, sizeof w6, "%s%%", fnum(100 * g->worst_at[1], 1));
        snprintf(w12, sizeof w12, "%s%%", fnum(100 * g->worst_at[3], 1));
        snprintf(dr, sizeof dr, "%zu (%s%%)", g->n_single, fnum(100 * g->dropout_share, 1));
        const char *cells[] = {g->label, med, at[0], at[1], at[2], at[3], w6, w12, dr};
        doc_row(d, cells, 9);
    }
    doc_table_end(d);
    const struct cohort_group *p = cohort_overall(c, "pain");
    if (p && p->durable.n == 0)
        doc_para(d, NULL, "Durability (pain): no patient has a 12-month visit.");
    else if (p) {
        /* Two shares, as docs/patients-csv.md defines them: of everyone with both scores,
         * and of the end-of-course responders alone (one read as the other once). */
        char dur[128], kept[160];
        snprintf(dur, sizeof dur, "%ld/%ld = %s", p->durable.k, p->durable.n,
                 fpct(p->durable.p, p->durable.lo, p->durable.hi));
        if (p->kept.n)
            snprintf(kept, sizeof kept, "%ld/%ld = %s", p->kept.k, p->kept.n,
                     fpct(p->kept.p, p->kept.lo, p->kept.hi));
        else
            snprintf(kept, sizeof kept, "none of them responded at the end of the course");
        doc_para(d, NULL,
                 "Durability (pain): of the patients with a 12-month visit, those responding "
                 "(30%% better) both at the end of the course and at 12 months: %s. Of those "
                 "responding at the end of the course, still responding at 12 months: %s. "
                 "Patients without a 12-month visit are unknown, not failures, and are in "
                 "neither denominator.", dur, kept);
        if (p->immediate.n)
            doc_para(d, NULL,
                     "Immediate effect: mean drop in pain from before to right after a session, "
                     "averaged per patient: %s points (n=%zu patients).",
                     fci(p->immediate.est, p->immediate.lo, p->immediate.hi, 2),
                     p->immediate.n);
    }
}

static void benchmarks(struct doc *d, const struct report_input *in)
{
    doc_heading(d, 2, "What controlled studies found");
    doc_para(d, "caveat",
             "A clinic's before-and-after improvement includes the natural course of back pain and "
             "regression to the mean, which controlled trials subtract. Set the figures above "
             "beside these: in trials, sham needling and even usual care improve many patients "
             "too.");
    if (!in->bench || !in->bench->n) {
        doc_para(d, NULL, "No benchmarks file was given (--benchmarks FILE).");
        return;
    }
    static const char *const head[] = {"Study", "Measure", "Estimate", "Interval", "n", "Note"};
    doc_table(d, head, 6);
    for (size_t i = 0; i < in->bench->n; i++) {
        const struct bench *b = &in->bench->b[i];
        char est[32], iv[64], n[32];
        snprintf(est, sizeof est, "%s", isfinite(b->estimate) ? fnum(b->estimate, 2) : "-");
        if (isfinite(b->lo) && isfinite(b->hi))
            snprintf(iv, sizeof iv, "%s to %s", fnum(b->lo, 2), fnum(b->hi, 2));
        else
            snprintf(iv, sizeof iv, "-");
        if (b->n >= 0)
            snprintf(n, sizeof n, "%ld", b->n);
        else
            snprintf(n, sizeof n, "-");
        const char *cells[] = {b->citation, b->measure, est, iv, n, b->note};
        doc_row(d, cells, 6);
    }
    doc_table_end(d);
}

static const char *nnt_text(const struct nnt *t, char *buf, size_t n)
{
    const char *kind = t->dir == NNT_HARM ? "NNT (harm)" : "NNT (benefit)";
    if (t->dir == NNT_INFINITE)
        snprintf(buf, n, "no difference in responder rates: NNT infinite");
    else if (t->dir != NNT_BENEFIT && t->dir != NNT_HARM)
        snprintf(buf, n, "n/a");
    else if (t->split)
        snprintf(buf, n, "%s %s (95%% CI: NNT(harm) %s to infinity to NNT(benefit) %s)", kind,
                 fnum(t->est, 1), fnum(t->harm_from, 1), fnum(t->benefit_from, 1));
    else
        snprintf(buf, n, "%s %s (95%% CI %s to %s)", kind, fnum(t->est, 1), fnum(t->lo, 1),
                 fnum(t->hi, 1));
    return buf;
}

static void arms(struct doc *d, const struct report_input *in)
{
    const struct cohort *c = in->cohort;
    if (!c->n_arms && !c->arms_note[0])
        return;
    doc_heading(d, 2, "Arms compared");
    if (c->arms_note[0])
        doc_para(d, NULL, "%s", c->arms_note);
    if (!c->n_arms)
        return;
    doc_para(d, NULL,
             "Treatment minus control, improvement positive. Difference in mean improvement "
             "with a Welch interval; ANCOVA of the final score on baseline and arm; difference "
             "in the share improved >= 30%% with a Newcombe hybrid score interval, and the "
             "number needed to treat (Altman 1998).");
    static const char *const head[] = {"Instrument", "Treatment vs control", "Patients",
                                       "Mean difference (Welch)", "ANCOVA difference",
                                       ">= 30% improved", "Difference (Newcombe)", "NNT"};
    doc_table(d, head, 8);
    for (size_t i = 0; i < c->n_arms; i++) {
        const struct cohort_arms *a = &c->arms[i];
        char vs[300], n[64], r[128], nn[200];
        snprintf(vs, sizeof vs, "%s vs %s", a->treatment, a->control);
        if (a->suppressed) {
            const char *cells[] = {a->label, vs, "suppressed", "suppressed", "suppressed",
                                   "suppressed", "suppressed", "suppressed"};
            doc_row(d, cells, 8);
            continue;
        }
        snprintf(n, sizeof n, "%zu vs %zu", a->n_treatment, a->n_control);
        snprintf(r, sizeof r, "%ld/%ld vs %ld/%ld", a->resp_treatment.k, a->resp_treatment.n,
                 a->resp_control.k, a->resp_control.n);
        char rd[96];
        snprintf(rd, sizeof rd, "%s points",
                 fci(100 * a->resp_diff.est, 100 * a->resp_diff.lo, 100 * a->resp_diff.hi, 1));
        const char *cells[] = {a->label, vs, n,
                               fci(a->change_diff.mean, a->change_diff.lo, a->change_diff.hi, 2),
                               fci(a->ancova.est, a->ancova.lo, a->ancova.hi, 2), r, rd,
                               nnt_text(&a->nnt, nn, sizeof nn)};
        doc_row(d, cells, 8);
    }
    doc_table_end(d);
}

static void subgroups(struct doc *d, const struct report_input *in)
{
    const struct cohort *c = in->cohort;
    int any = 0;
    for (size_t i = 0; i < c->n_groups; i++)
        any |= c->group[i].by[0] != '\0';
    if (!any)
        return;
    doc_heading(d, 2, "Subgroups");
    doc_para(d, NULL, "Cells with fewer than %zu patients are suppressed.", c->min_cell);
    static const char *const head[] = {"Instrument", "By", "Group", "Patients",
                                       "Mean improvement (95% CI)", ">= 30% improved"};
    doc_table(d, head, 6);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        if (!g->by[0])
            continue;
        char n[32], r[128];
        snprintf(n, sizeof n, "%zu", g->n_patients);
        snprintf(r, sizeof r, "%ld/%ld = %s", g->resp30.k, g->resp30.n,
                 fpct(g->resp30.p, g->resp30.lo, g->resp30.hi));
        const char *cells[] = {g->instrument, g->by, g->value,
                               g->suppressed ? "suppressed" : n,
                               g->suppressed ? "suppressed"
                                             : fci(g->change.mean, g->change.lo, g->change.hi, 2),
                               g->suppressed ? "suppressed" : r};
        doc_row(d, cells, 6);
    }
    doc_table_end(d);
}

static void months(struct doc *d, const struct report_input *in)
{
    const struct cohort *c = in->cohort;
    if (!c->n_months)
        return;
    doc_heading(d, 2, "Monthly responder rate (30% improvement, by month the course ended)");
    static const char *const head[] = {"Instrument", "Month", "Responders", "Rate (95% CI)",
                                       "p-chart limits", "Outside limits"};
    doc_table(d, head, 6);
    for (size_t j = 0; j < c->n_months; j++) {
        const struct cohort_month *m = &c->month[j];
        char k[64], lim[64];
        snprintf(k, sizeof k, "%ld/%ld", m->resp30.k, m->resp30.n);
        snprintf(lim, sizeof lim, "%s to %s", fnum(100 * m->lcl, 1), fnum(100 * m->ucl, 1));
        const char *cells[] = {m->instrument, m->month, k,
                               fpct(m->resp30.p, m->resp30.lo, m->resp30.hi), lim,
                               m->out_of_control ? "yes" : "no"};
        doc_row(d, cells, 6);
    }
    doc_table_end(d);
}

/* Inline a chart's SVG (HTML) or link its PNG (Markdown). */
static void chart(struct doc *d, const char *dir, const struct report_chart *ch)
{
    doc_heading(d, 3, ch->title);
    if (d->fmt == DOC_MD) {
        fprintf(d->fp, "![");
        esc_md(d->fp, ch->title);
        fprintf(d->fp, "](%s.png)\n\n", ch->name);
    } else {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s.svg", dir, ch->name);
        FILE *fp = fopen(path, "r");
        if (!fp) {
            doc_para(d, NULL, "(chart %s.svg is missing)", ch->name);
            return;
        }
        fputs("<figure>\n", d->fp);
        char buf[8192];
        size_t n;
        int skipped_prolog = 0;
        /* Drop the XML prolog and DOCTYPE so the SVG can sit inside HTML. */
        while (!skipped_prolog && fgets(buf, sizeof buf, fp)) {
            if (strncmp(buf, "<?xml", 5) == 0 || strncmp(buf, "<!DOCTYPE", 9) == 0 ||
                strncmp(buf, " \"http", 6) == 0)
                continue;
            fputs(buf, d->fp);
            skipped_prolog = 1;
        }
        while ((n = fread(buf, 1, sizeof buf, fp)) > 0)
            fwrite(buf, 1, n, d->fp);
        fclose(fp);
        fputs("</figure>\n", d->fp);
    }
    if (ch->caption && ch->caption[0])
        doc_para(d, "caption", "%s", ch->caption);
}

static void report_audit_section(struct doc *d, const struct report_input *in);
static const char *claimed_text(const struct audit_row *r, char *buf, size_t n);

/* 1 for a Kaplan-Meier median row without an estimate but with a lower limit: the median
 * lies beyond it, and the verdict rests on that interval. */
static int km_median_beyond(const struct audit_row *r)
{
    return r->stat == CS_KM_MEDIAN_SESSIONS && !isfinite(r->est) && isfinite(r->lo);
}

/* An audit row's estimate and CI; a Kaplan-Meier median beyond follow-up has no estimate
 * but an interval, (longest follow-up, not reached), which is what a verdict rests on. */
static const char *audit_est(const struct audit_row *r)
{
    static char b[96];
    if (!isfinite(r->est) && km_median_beyond(r)) {
        snprintf(b, sizeof b, "not reached (95%% CI %s%g to not reached)",
                 r->ci_lo_open ? "above " : "", r->lo);
        return b;
    }
    if (r->ci_lo_open && isfinite(r->est)) {
        snprintf(b, sizeof b, "%.1f (95%% CI above %.1f to %s)", r->est, r->lo,
                 isfinite(r->hi) ? fnum(r->hi, 1) : "not reached");
        return b;
    }
    return fci(r->est, r->lo, r->hi, 1);
}

static void methods(struct doc *d, const struct report_input *in)
{
    const struct cohort *c = in->cohort;
    doc_heading(d, 2, "Methods");
    doc_item(d, "Baseline is the first visit by date (then session) or the row flagged as "
                "baseline; final is the last visit. Improvement is direction-aware: positive "
                "means better on every instrument.");
    doc_item(d, "Percent improvement = 100 x improvement / baseline; undefined when the baseline "
                "is 0 (those patients are excluded from percent statistics and counted).");
    doc_item(d, "Responders: >= 30%% and >= 50%% improvement (IMMPACT, Dworkin et al. 2008); "
                "minimal important change per instrument (Ostelo et al. 2008 and others).");
    doc_item(d, "Mean change: Student t 95%% interval and paired t-test; Wilcoxon signed-rank "
                "test (exact for small n without ties, otherwise normal approximation with tie "
                "and continuity correction) with the Hodges-Lehmann pseudomedian, both over "
                "the non-zero changes (zeros dropped, as R's wilcox.test).");
    doc_item(d, "Proportions: Wilson score intervals (Clopper-Pearson exact in cohort.csv).");
    doc_item(d, "Percent improvement intervals: bootstrap BCa, %zu resamples, seed %llu, up to "
                "n = 20000; above that, Student t for the mean and an order-statistic interval "
                "for the median (the method is named beside each number).",
             c->boot_reps, (unsigned long long)c->seed);
    doc_item(d, "Time to response: Kaplan-Meier over treatments received, Greenwood variance, "
                "log-log transformed intervals, Brookmeyer-Crowley interval for the median with "
                "its lower limit also read past each censoring (Dorey-Korn's effective-n "
                "widening, as R's conf.lower = \"modified\"), and the share responded by a "
                "session widened the same way on a flat past a censoring (tables and chart).");
    doc_item(d, "Missing data: complete cases are primary; baseline observation carried forward "
                "over everyone with a baseline is a sensitivity analysis.");
    doc_item(d, "Versions: outcomes %s, GSL %s, gnuplot %s.", OUTCOMES_VERSION, GSL_VERSION,
             in->gnuplot_version ? in->gnuplot_version : "not available");
    doc_list_end(d);
}

static void provenance(struct doc *d, const struct report_input *in)
{
    const struct dataset *ds = in->ds;
    doc_heading(d, 2, "Provenance");
    static const char *const head[] = {"Input file", "SHA-256", "Rows read", "Accepted",
                                       "Rejected", "First visit", "Last visit"};
    doc_table(d, head, 7);
    for (size_t f = 0; f < ds->n_files; f++) {
        const struct input_file *fi = &ds->file[f];
        char r[32], a[32], j[32], lo[16], hi[16];
        snprintf(r, sizeof r, "%ld", fi->rows_read);
        snprintf(a, sizeof a, "%ld", fi->rows_accepted);
        snprintf(j, sizeof j, "%ld", fi->rows_rejected);
        day_str(fi->first_day, lo);
        day_str(fi->last_day, hi);
        const char *cells[] = {fi->path, fi->sha256, r, a, j, lo, hi};
        doc_row(d, cells, 7);
    }
    doc_table_end(d);
    doc_para(d, NULL, "Command: %s", in->command_line ? in->command_line : "");
    doc_para(d, NULL, "Generated: %s", in->generated ? in->generated : "");
}

static void body(struct doc *d, const struct report_input *in, const char *dir)
{
    headline(d, in);
    quality(d, in);
    cohort_table(d, in);
    time_to_response(d, in);
    report_audit_section(d, in);
    benchmarks(d, in);
    arms(d, in);
    subgroups(d, in);
    months(d, in);
    if (in->n_charts || in->chart_error) {
        doc_heading(d, 2, "Charts");
        if (in->chart_error)
            doc_para(d, "caveat", "Charts could not be drawn: %s", in->chart_error);
        for (size_t i = 0; i < in->n_charts; i++)
            chart(d, dir, &in->charts[i]);
    }
    methods(d, in);
    provenance(d, in);
}

static const char css[] =
    "body{font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1b1b1b;"
    "max-width:1100px;margin:2em auto;padding:0 1em}"
    "h1{font-size:1.6em;margin-bottom:.2em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;"
    "margin-top:1.8em}h3{margin-top:1.4em}"
    "table{border-collapse:collapse;margin:.6em 0;font-size:.9em;width:100%}"
    "th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}"
    "th{background:#f2f2f2}tbody tr:nth-child(even){background:#fafafa}"
    ".caveat{background:#fff6e0;border-left:4px solid #e69f00;padding:.6em .9em}"
    ".caption{color:#555;font-size:.9em}.meta{color:#555}"
    ".badge{display:inline-block;padding:.1em .5em;border-radius:.8em;font-size:.85em;"
    "font-weight:600;white-space:nowrap}"
    ".b-supported{background:#d5ecf7;color:#00527a}.b-contradicted{background:#f9dccf;"
    "color:#8a2a00}.b-inconclusive{background:#eee;color:#333}.b-insufficient{background:#fff0c2;"
    "color:#6b5100}.b-not{background:#fff;color:#666;border:1px dashed #999}"
    "figure{margin:0}figure svg{max-width:100%;height:auto}"
    "@media print{body{max-width:none;margin:0;font-size:11px}h2{break-after:avoid}"
    "table,figure{break-inside:avoid}}";

static int write_doc(const struct report_input *in, const char *dir, enum doc_format fmt,
                     struct out_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, fmt == DOC_HTML ? "report.html" : "report.md");
    struct outfile of;
    int rc = outfile_open(&of, path, e);
    if (rc)
        return rc;
    struct doc d = {of.fp, fmt, 0, 0};
    int32_t lo, hi;
    char slo[16], shi[16];
    date_range(in->ds, &lo, &hi);
    day_str(lo, slo);
    day_str(hi, shi);
    char title[128];
    if (in->month)
        snprintf(title, sizeof title, "Outcome report, %s", in->month);
    else
        snprintf(title, sizeof title, "Outcome report");
    if (fmt == DOC_HTML) {
        fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
              "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
              "<title>", of.fp);
        esc_html(of.fp, title);
        fprintf(of.fp, "</title>\n<style>%s</style></head><body>\n<h1>", css);
        esc_html(of.fp, title);
        fputs("</h1>\n", of.fp);
    } else {
        fputs("# ", of.fp);
        esc_md(of.fp, title);
        fputs("\n\n", of.fp);
    }
    doc_para(&d, "meta", "Visits from %s to %s. Generated %s by outcomes %s.", slo, shi,
             in->generated ? in->generated : "", OUTCOMES_VERSION);
    body(&d, in, dir);
    if (fmt == DOC_HTML)
        fputs("</body></html>\n", of.fp);
    return outfile_commit(&of, e);
}

/* ---- summary.json ---- */

static void jnum(FILE *fp, double x)
{
    if (isfinite(x))
        fprintf(fp, "%.10g", x);
    else
        fputs("null", fp);
}

static void jest(FILE *fp, const char *key, size_t n, double est, double lo, double hi,
                 const char *method)
{
    fprintf(fp, "\"%s\": {\"n\": %zu, \"estimate\": ", key, n);
    jnum(fp, est);
    fputs(", \"lo\": ", fp);
    jnum(fp, lo);
    fputs(", \"hi\": ", fp);
    jnum(fp, hi);
    fputs(", \"method\": ", fp);
    esc_json(fp, method);
    fputc('}', fp);
}

static void jprop(FILE *fp, const char *key, const struct prop *p)
{
    fprintf(fp, "\"%s\": {\"k\": %ld, \"n\": %ld, \"p\": ", key, p->k, p->n);
    jnum(fp, p->p);
    fputs(", \"lo\": ", fp);
    jnum(fp, p->lo);
    fputs(", \"hi\": ", fp);
    jnum(fp, p->hi);
    fputs(", \"method\": \"Wilson\"}", fp);
}

static void report_audit_json(FILE *fp, const struct report_input *in);

static int write_json(const struct report_input *in, const char *dir, struct out_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.json", dir);
    struct outfile of;
    int rc = outfile_open(&of, path, e);
    if (rc)
        return rc;
    FILE *fp = of.fp;
    const struct dataset *ds = in->ds;
    const struct cohort *c = in->cohort;
    fprintf(fp, "{\n  \"schema\": \"outcomes-summary/1\",\n  \"outcomes_version\": \"%s\",\n",
            OUTCOMES_VERSION);
    fputs("  \"generated\": ", fp);
    esc_json(fp, in->generated ? in->generated : "");
    fputs(",\n  \"month\": ", fp);
    if (in->month)
        esc_json(fp, in->month);
    else
        fputs("null", fp);
    fprintf(fp, ",\n  \"rows\": {\"read\": %ld, \"accepted\": %ld, \"rejected\": %ld, "
                "\"rejected_by\": {",
            ds->rows_read, ds->rows_accepted, ds->rows_rejected);
    for (int r = 0; r < REJ__COUNT; r++)
        fprintf(fp, "%s\"%s\": %ld", r ? ", " : "", reject_reason_name((enum reject_reason)r),
                ds->rejected_by[r]);
    fprintf(fp, "}},\n  \"patients\": %zu,\n  \"ids_differing_only_in_leading_zeros\": ",
            in->ps->n_patients);
    if (ds->ids_zero_led == IDS_ZERO_LED_UNKNOWN)
        fputs("null", fp);   /* not counted: quality.csv from an earlier version */
    else
        fprintf(fp, "%zu", ds->ids_zero_led);
    fputs(",\n  \"files\": [", fp);
    for (size_t f = 0; f < ds->n_files; f++) {
        const struct input_file *fi = &ds->file[f];
        char lo[16], hi[16];
        day_str(fi->first_day, lo);
        day_str(fi->last_day, hi);
        fputs(f ? ",\n    {\"path\": " : "\n    {\"path\": ", fp);
        esc_json(fp, fi->path);
        fprintf(fp, ", \"sha256\": \"%s\", \"rows_read\": %ld, \"rows_accepted\": %ld, "
                    "\"rows_rejected\": %ld, \"first_visit\": \"%s\", \"last_visit\": \"%s\"}",
                fi->sha256, fi->rows_read, fi->rows_accepted, fi->rows_rejected, lo, hi);
    }
    fputs("],\n  \"groups\": [", fp);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        fputs(i ? ",\n    {" : "\n    {", fp);
        fputs("\"instrument\": ", fp);
        esc_json(fp, g->instrument);
        fputs(", \"by\": ", fp);
        esc_json(fp, g->by);
        fputs(", \"value\": ", fp);
        esc_json(fp, g->value);
        fprintf(fp, ", \"suppressed\": %s, \"patients\": %zu", g->suppressed ? "true" : "false",
                g->suppressed ? 0 : g->n_patients);
        if (!g->suppressed) {
            fprintf(fp, ", \"complete\": %zu, \"single_visit\": %zu, \"zero_baseline\": %zu, ",
                    g->n_complete, g->n_single, g->n_zero_baseline);
            jest(fp, "change", g->change.n, g->change.mean, g->change.lo, g->change.hi,
                 "Student t");
            fputs(", ", fp);
            jest(fp, "pct_mean", g->pct_mean.n, g->pct_mean.est, g->pct_mean.lo, g->pct_mean.hi,
                 g->pct_mean.method);
            fputs(", ", fp);
            jest(fp, "pct_median", g->pct_median.n, g->pct_median.est, g->pct_median.lo,
                 g->pct_median.hi, g->pct_median.method);
            fputs(", ", fp);
            jprop(fp, "responder_30", &g->resp30);
            fputs(", ", fp);
            jprop(fp, "responder_50", &g->resp50);
            fputs(", ", fp);
            jprop(fp, "responder_mic", &g->resp_mic);
            fputs(", ", fp);
            jprop(fp, "durable_12m", &g->durable);
            fputs(", ", fp);
            jprop(fp, "kept_12m", &g->kept);
            fputs(", ", fp);
            jest(fp, "sessions_to_response_median", g->km.n, g->km.q[1], g->km.q_lo[1],
                 g->km.q_hi[1], cohort_km_q_method(&g->km, 1));
        }
        fputc('}', fp);
    }
    fputs("],\n  \"months\": [", fp);
    for (size_t j = 0; j < c->n_months; j++) {
        const struct cohort_month *m = &c->month[j];
        fputs(j ? ",\n    {" : "\n    {", fp);
        fputs("\"instrument\": ", fp);
        esc_json(fp, m->instrument);
        fprintf(fp, ", \"month\": \"%s\", ", m->month);
        jprop(fp, "responder_30", &m->resp30);
        fputs(", \"centre\": ", fp);
        jnum(fp, m->centre);
        fputs(", \"lcl\": ", fp);
        jnum(fp, m->lcl);
        fputs(", \"ucl\": ", fp);
        jnum(fp, m->ucl);
        fprintf(fp, ", \"out_of_control\": %s}", m->out_of_control ? "true" : "false");
    }
    fputs("],\n  \"arms\": [", fp);
    for (size_t i = 0; i < c->n_arms; i++) {
        const struct cohort_arms *a = &c->arms[i];
        fputs(i ? ",\n    {\"instrument\": " : "\n    {\"instrument\": ", fp);
        esc_json(fp, a->instrument);
        fputs(", \"treatment\": ", fp);
        esc_json(fp, a->treatment);
        fputs(", \"control\": ", fp);
        esc_json(fp, a->control);
        fprintf(fp, ", \"suppressed\": %s", a->suppressed ? "true" : "false");
        if (!a->suppressed) {
            fprintf(fp, ", \"patients_treatment\": %zu, \"patients_control\": %zu, ",
                    a->n_treatment, a->n_control);
            jest(fp, "change_difference", a->change_diff.n, a->change_diff.mean,
                 a->change_diff.lo, a->change_diff.hi, "Welch");
            fputs(", ", fp);
            jest(fp, "ancova_difference", a->ancova.n, a->ancova.est, a->ancova.lo, a->ancova.hi,
                 "ANCOVA final ~ baseline + arm");
            fputs(", ", fp);
            jest(fp, "responder_30_difference", a->resp_diff.n, a->resp_diff.est, a->resp_diff.lo,
                 a->resp_diff.hi, "Newcombe hybrid score");
        }
        fputc('}', fp);
    }
    fputs("],\n", fp);
    report_audit_json(fp, in);
    fprintf(fp, "  \"methods\": {\"seed\": %llu, \"bootstrap_resamples\": %zu, "
                "\"min_cell\": %zu, \"gsl\": \"%s\", \"gnuplot\": ",
            (unsigned long long)c->seed, c->boot_reps, c->min_cell, GSL_VERSION);
    esc_json(fp, in->gnuplot_version ? in->gnuplot_version : "not available");
    fputs("},\n  \"command\": ", fp);
    esc_json(fp, in->command_line ? in->command_line : "");
    fputs("\n}\n", fp);
    return outfile_commit(&of, e);
}

int report_write(const struct report_input *in, const char *dir, struct out_error *e)
{
    int rc = write_doc(in, dir, DOC_HTML, e);
    if (!rc)
        rc = write_doc(in, dir, DOC_MD, e);
    if (!rc)
        rc = write_json(in, dir, e);
    return rc;
}

void report_terminal(const struct report_input *in, const char *dir, FILE *fp)
{
    const struct dataset *ds = in->ds;
    const struct cohort *c = in->cohort;
    fprintf(fp, "rows      %ld read = %ld accepted + %ld rejected (see rejects.csv)\n",
            ds->rows_read, ds->rows_accepted, ds->rows_rejected);
    fprintf(fp, "patients  %zu\n", in->ps->n_patients);
    if (ds->ids_zero_led == IDS_ZERO_LED_UNKNOWN)
        fputs("ids       not checked for leading zeros (quality.csv from an earlier version: "
              "run ingest again)\n", fp);
    else if (ds->ids_zero_led)
        fprintf(fp, "ids       %zu differ from another only in leading zeros (007 and 7): "
                    "see the report's data quality\n",
                ds->ids_zero_led);
    for (size_t i = 0; i < c->n_groups; i++) {
        const struct cohort_group *g = &c->group[i];
        if (g->by[0])
            continue;
        fprintf(fp, "%-8s  %zu with follow-up, %zu single visit; mean improvement %s; "
                    ">=30%% improved %ld/%ld = %s\n",
                g->instrument, g->n_complete, g->n_single,
                fci(g->change.mean, g->change.lo, g->change.hi, 2), g->resp30.k, g->resp30.n,
                fpct(g->resp30.p, g->resp30.lo, g->resp30.hi));
    }
    if (in->audit) {
        size_t count[V__COUNT] = {0};
        for (size_t i = 0; i < in->audit->n; i++)
            count[in->audit->row[i].verdict]++;
        fprintf(fp, "claims    %zu supported, %zu contradicted, %zu inconclusive, "
                    "%zu insufficient data, %zu not auditable\n",
                count[V_SUPPORTED], count[V_CONTRADICTED], count[V_INCONCLUSIVE],
                count[V_INSUFFICIENT], count[V_NOT_AUDITABLE]);
        for (size_t i = 0; i < in->audit->n; i++) {
            const struct audit_row *r = &in->audit->row[i];
            char id[64], cl[96];
            snprintf(id, sizeof id, "%s%s%s", r->claim->id, r->part[0] ? "/" : "", r->part);
            fprintf(fp, "  %-12s %-30s", id, audit_verdict_label(r->verdict));
            if (r->verdict != V_NOT_AUDITABLE && (isfinite(r->est) || km_median_beyond(r)))
                fprintf(fp, " %s vs %s", audit_est(r), claimed_text(r, cl, sizeof cl));
            else if (r->verdict == V_NOT_AUDITABLE)
                fprintf(fp, " needs %s", r->needs[0] ? r->needs : "a measure");
            fputc('\n', fp);
        }
    }
    fprintf(fp, "report    %s/report.html\n", dir);
}

/* ---- claims audit ---- */

static const char *claimed_text(const struct audit_row *r, char *buf, size_t n)
{
    const char *u = claim_stat_defs[r->stat].unit;
    int lo = isfinite(r->claim_lo), hi = isfinite(r->claim_hi);
    /* The comparison decides the wording; shares are bounded by 0 and 100 anyway, so a
     * ">= 70" claim is the set [70, 100] but reads as ">= 70". */
    /* "Up to X" is audited as another claim (audit.c, run_one), but the claimed column
     * gives the article's words first: ">= 50" alone read as a minimum it never stated. */
    if (r->claim && r->claim->cmp == CMP_UPTO && r->stat != CS_NOT_AUDITABLE)
    {
        /* The reach part's unit is its share's; the claimed value is an improvement. */
        if (strcmp(r->part, "reach") == 0)
            snprintf(buf, n, "up to %g %% improvement: some patient reaches it",
                     r->claim->value);
        else
            snprintf(buf, n, "up to %g %s: median >= %g", r->claim->value, u, r->claim->value);
    } else if (r->claim && r->claim->cmp == CMP_UPTO)
        snprintf(buf, n, "up to %g%s%s", r->claim->value, *u ? " " : "", u);
    else if (r->cmp == CMP_RANGE && lo && hi)
        snprintf(buf, n, "%g to %g %s", r->claim_lo, r->claim_hi, u);
    else if ((r->cmp == CMP_GE || r->cmp == CMP_UPTO) && lo)
        snprintf(buf, n, "%s %g %s", r->claim_lo_open ? ">" : ">=", r->claim_lo, u);
    else if (r->cmp == CMP_LE && hi)
        snprintf(buf, n, "<= %g %s", r->claim_hi, u);
    else if (lo && hi && r->claim_lo == r->claim_hi)
        snprintf(buf, n, "= %g %s", r->claim_lo, u);
    else if (lo)
        snprintf(buf, n, "%s %g %s", r->claim_lo_open ? ">" : ">=", r->claim_lo, u);
    else if (hi)
        snprintf(buf, n, "<= %g %s", r->claim_hi, u);
    else
        snprintf(buf, n, "%s", "n/a");
    return buf;
}

static void report_audit_section(struct doc *d, const struct report_input *in)
{
    const struct audit_result *a = in->audit;
    doc_heading(d, 2, "Claims audit");
    if (!a) {
        doc_para(d, NULL, "No claims registry was given (--claims FILE), so no claim was "
                          "audited.");
        return;
    }
    doc_para(d, NULL,
             "Each advertised claim, read as a statistic these data can estimate. Supported: "
             "the 95%% interval lies wholly inside the claim; contradicted: wholly outside; "
             "inconclusive: it straddles. p is a one-sided test against the claimed value, "
             "Holm-adjusted across the %zu tested claims. Registry: %s.",
             a->n_tested, in->claims_path ? in->claims_path : "");
    static const char *const head[] = {"Claim", "Quote", "Read as", "Estimate (95% CI)",
                                       "Claimed", "Verdict", "n", "p (Holm)",
                                       "P(claim holds)", "n to settle"};
    doc_table(d, head, 10);
    for (size_t i = 0; i < a->n; i++) {
        const struct audit_row *r = &a->row[i];
        char id[160], est[160], cl[96], badge[96], n[32], p[64], post[32], settle[32];
        snprintf(id, sizeof id, "%s%s%s", r->claim->id, r->part[0] ? " / " : "", r->part);
        const char *u = claim_stat_defs[r->stat].unit;
        if (r->verdict == V_NOT_AUDITABLE)
            snprintf(est, sizeof est, "needs column: %s", r->needs[0] ? r->needs : "n/a");
        else if (isfinite(r->est) || km_median_beyond(r))
            snprintf(est, sizeof est, "%s %s [%s]", audit_est(r), u, r->method);
        else
            snprintf(est, sizeof est, "n/a");
        snprintf(badge, sizeof badge, "!badge:%s", audit_verdict_label(r->verdict));
        snprintf(n, sizeof n, "%zu", r->n);
        if (isfinite(r->p))
            snprintf(p, sizeof p, "%s (%s)", fpval(r->p), fpval(r->p_holm));
        else
            snprintf(p, sizeof p, "n/a");
        snprintf(post, sizeof post, "%s", isfinite(r->posterior) ? fnum(r->posterior, 3) : "n/a");
        if (r->n_to_settle > 0)
            snprintf(settle, sizeof settle, "%ld", r->n_to_settle);
        else
            snprintf(settle, sizeof settle, "-");
        char read[1400];
        const char *sub = r->claim->subgroup_text;
        snprintf(read, sizeof read, "%s%s%s%s%s%s", sub[0] ? "[subgroup " : "", sub,
                 sub[0] ? "] " : "", r->claim->reading, r->note[0] ? " " : "", r->note);
        const char *cells[] = {id, r->claim->quote, read, est, claimed_text(r, cl, sizeof cl),
                               badge, n, p, post, settle};
        doc_row(d, cells, 10);
    }
    doc_table_end(d);
}

static void report_audit_json(FILE *fp, const struct report_input *in)
{
    const struct audit_result *a = in->audit;
    fputs("  \"claims\": [", fp);
    for (size_t i = 0; a && i < a->n; i++) {
        const struct audit_row *r = &a->row[i];
        fputs(i ? ",\n    {\"id\": " : "\n    {\"id\": ", fp);
        esc_json(fp, r->claim->id);
        fputs(", \"part\": ", fp);
        esc_json(fp, r->part);
        fputs(", \"statistic\": ", fp);
        esc_json(fp, claim_stat_defs[r->stat].name);
        fprintf(fp, ", \"verdict\": \"%s\", \"n\": %zu, \"estimate\": ",
                audit_verdict_name(r->verdict), r->n);
        jnum(fp, r->est);
        fputs(", \"lo\": ", fp);
        jnum(fp, r->lo);
        fprintf(fp, ", \"lo_open\": %s", r->ci_lo_open ? "true" : "false");
        fputs(", \"hi\": ", fp);
        jnum(fp, r->hi);
        fputs(", \"claim_lo\": ", fp);
        jnum(fp, r->claim_lo);
        fputs(", \"claim_hi\": ", fp);
        jnum(fp, r->claim_hi);
        fputs(", \"p\": ", fp);
        jnum(fp, r->p);
        fputs(", \"p_holm\": ", fp);
        jnum(fp, r->p_holm);
        fputs(", \"posterior\": ", fp);
        jnum(fp, r->posterior);
        fputs(", \"needs\": ", fp);
        esc_json(fp, r->needs);
        fputc('}', fp);
    }
    fputs("],\n", fp);
}
