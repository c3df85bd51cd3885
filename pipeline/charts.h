/* charts.h — the report's charts: each one a gnuplot script plus its data, rendered to SVG
 * (inlined in the HTML report) and PNG.
 *
 * A chart named NAME in directory DIR leaves four files: NAME.gp (the script, which reads
 * NAME.dat by relative name, so a researcher can edit it and redraw with `gnuplot NAME.gp`
 * in DIR), NAME.dat, NAME.svg and NAME.png. They are built in a private staging directory
 * and renamed into place only after gnuplot succeeded, so a failed render never replaces a
 * good chart.
 *
 * The API takes plain data defined here, not other modules' structs, so the statistics can
 * change without touching the drawing. Strings (titles, claim and arm labels, notes) are
 * untrusted input: they are quoted for gnuplot and drawn without enhanced-text markup, so
 * they print exactly as given and can run nothing. The caller keeps ownership of everything
 * it passes; nothing is retained after a call returns.
 *
 * Every function returns 0, OUT_EIO (gnuplot missing, failing or timing out; a file that
 * cannot be written) or OUT_EINTERNAL (an invalid chart name, out of memory), with *e set.
 * With no usable data a chart still renders, saying "No data".
 * Per-patient charts stay legible at a million patients: they are sampled or binned, and
 * a note under the subtitle says so.
 */
#ifndef OUTCOMES_CHARTS_H
#define OUTCOMES_CHARTS_H

#include <stddef.h>

#include "error.h"

struct chart_batch;

/* Where and how to draw; designated initialisers leave the optional fields 0/NULL. */
struct chart_out {
    const char *dir;        /* existing output directory */
    const char *name;       /* file stem: letters, digits, '_', '-', '.'; not starting with '.' */
    const char *title;      /* NULL: a default title for the chart kind */
    const char *note;       /* NULL, or context put before the subtitle (clinic, period);
                               shortened to fit one line */
    const char *gnuplot;    /* NULL: "gnuplot" found on PATH; or a path to the program */
    unsigned timeout_s;     /* 0: 30 seconds, after which gnuplot is killed */
    struct chart_batch *batch;   /* NULL: render before returning; else queue (see below) */
};

/* Drawing several charts at once. A chart call whose o->batch is set writes its script and
 * data, queues the render (started at once when one of the batch's gnuplot sessions, at most
 * its limit, is free; a session draws chart after chart, see gnuplot_run.h) and returns 0,
 * or the error that kept it from being queued; nothing of *o is kept. chart_batch_finish()
 * waits for every queued chart and moves each one that rendered into place, in the order
 * queued, so the files are those the same calls without a batch would leave. */
struct chart_batch *chart_batch_new(unsigned max_running);   /* 0: online CPUs, at most 8;
                                                                NULL when out of memory */
/* Returns 0, or the first failure in the order the charts were queued, with *e set. */
int chart_batch_finish(struct chart_batch *b, struct out_error *e);
/* After chart_batch_finish: what the call for chart NAME would have returned without a batch
 * (0, or its error with *e set); OUT_EINTERNAL when no chart NAME was queued. */
int chart_batch_result(const struct chart_batch *b, const char *name, struct out_error *e);
/* Frees b (NULL is fine); renders still running are killed and their staging removed. */
void chart_batch_free(struct chart_batch *b);

/* Waterfall: each patient's percent improvement (positive = better), sorted descending, as
 * bars coloured by band (>=50, 30-50, 0-30, worse), with lines at 30% and 50%. Non-finite
 * values are left out and counted; bars below -100% are clipped at -100 (and counted).
 * n_zero_baseline reports patients left out by the caller because % change is undefined.
 * Above 2000 patients the bars are 1000 evenly spaced ranks of the sorted values. */
int chart_waterfall(const struct chart_out *o, const double *pct, size_t n,
                    size_t n_zero_baseline, struct out_error *e);

/* One step of a Kaplan–Meier curve for time to response, drawn as share responded = 1-S. */
struct chart_step {
    double t;               /* event time (sessions), ascending */
    double share, lo, hi;   /* share responded after t and its CI, each in [0, 1]; lo/hi NAN
                               when unknown (the band is then left out at that step) */
    long n_risk;            /* patients at risk at t */
};
/* A shaded span of the time axis, such as an advertised "3–6 sessions". */
struct chart_window {
    double from, to;
    const char *label;      /* untrusted text is fine */
};
extern const struct chart_window chart_claim_windows[2];   /* 3–6 and 6–12 sessions */
/* Share responded by session as a step line with its CI band; windows shaded (win NULL and
 * n_win 0: chart_claim_windows) with the curve's value marked where each window ends;
 * patients at risk under the axis. t_max extends the curve to the last follow-up (NAN or
 * <= last step: end at the last step). */
int chart_km(const struct chart_out *o, const struct chart_step *steps, size_t n_steps,
             size_t n_patients, size_t n_events, double t_max, const struct chart_window *win,
             size_t n_win, struct out_error *e);

/* 1 when the .png or .svg file at path ends as a whole picture does (PNG's IEND chunk,
 * SVG's closing tag); 0 when cut short, empty or unreadable. Used before a render replaces
 * the last good one; exposed for tests. */
int chart_picture_complete(const char *path);

enum chart_verdict {
    CHART_SUPPORTED, CHART_CONTRADICTED, CHART_INCONCLUSIVE, CHART_INSUFFICIENT,
    CHART_BENCHMARK   /* a published comparator, drawn beneath the claims */
};
/* One row of the claims forest. */
struct chart_forest_row {
    const char *label;          /* claim id or benchmark name; untrusted text is fine */
    double est, lo, hi;         /* estimate and 95% CI on the x axis; NAN when not estimable */
    double claim_lo, claim_hi;  /* claimed value (equal) or range; NAN when none */
    enum chart_verdict verdict;
    long n;                     /* patients behind the estimate, or -1 when not applicable */
};
/* Each claim's estimate with its CI as a horizontal error bar, the claimed value as a mark or
 * the claimed range as a band, coloured and shaped by verdict (named again at the right);
 * benchmark rows beneath, whatever their order in rows. All rows share one axis, xlabel
 * (e.g. "Patients improved ≥30% (%)"). */
int chart_forest(const struct chart_out *o, const char *xlabel,
                 const struct chart_forest_row *rows, size_t n, struct out_error *e);

/* One period of a p-chart. */
struct chart_period {
    const char *label;      /* e.g. "2024-03" */
    long n, k;              /* patients assessed and responders; n <= 0 is left out */
};
/* Monthly responder rate: centre line at the pooled rate, 3-sigma limits that vary with each
 * period's n (clipped to 0–100%), periods outside the limits marked and labelled. */
int chart_pchart(const struct chart_out *o, const struct chart_period *p, size_t n,
                 struct out_error *e);

/* One point of a mean-with-CI series. */
struct chart_point {
    double x;               /* e.g. session number, ascending */
    double mean, lo, hi;    /* lo/hi NAN when no CI (n < 2) */
    long n;
};
/* Mean score by session with its 95% CI band, n printed at each point (thinned when there
 * are many). xlabel/ylabel NULL: "Session" / "Mean score". */
int chart_trajectory(const struct chart_out *o, const char *xlabel, const char *ylabel,
                     const struct chart_point *pts, size_t n, struct out_error *e);

/* Baseline against final score with the identity line; the side meaning "improved" (below
 * the line when lower is better) is labelled. Both axes span [lo, hi] (lo >= hi: from the
 * data). Few distinct pairs (scores on an integer scale): circles with area by patients;
 * otherwise a 2-D histogram of counts. scale_label e.g. "Pain (0–10 NRS)". */
int chart_scatter_baseline_final(const struct chart_out *o, const char *scale_label, double lo,
                                 double hi, int higher_is_better, const double *baseline,
                                 const double *final, size_t n, struct out_error *e);

/* Distribution of change (positive = better) as a histogram, bins coloured by sign, with
 * zero, the mean and the median marked. Integer or half-point data get one bar per value;
 * otherwise Freedman–Diaconis bins (10–60). xlabel e.g. "Change in pain (points)". */
int chart_change_hist(const struct chart_out *o, const char *xlabel, const double *change,
                      size_t n, struct out_error *e);

/* One arm (group) of a comparison. */
struct chart_group {
    const char *label;      /* untrusted text is fine */
    double mean, lo, hi;    /* lo/hi NAN when no CI */
    long n;
};
/* Arms compared: mean change with its CI per arm as horizontal error bars, with n, and a
 * line at zero. xlabel e.g. "Mean change in pain (points, positive = better)". */
int chart_arms(const struct chart_out *o, const char *xlabel, const struct chart_group *g,
               size_t n, struct out_error *e);

#endif
