/* charts_build.h — decide which charts a run draws and feed them from the pipeline's results.
 *
 * charts.h draws from plain arrays; this module is the one place that knows how cohort,
 * patient and audit results map onto those arrays. The chart_list it fills owns its strings;
 * chart_list_free() releases them. On failure the charts drawn so far stay listed.
 */
#ifndef OUTCOMES_CHARTS_BUILD_H
#define OUTCOMES_CHARTS_BUILD_H

#include "audit.h"
#include "benchmarks.h"
#include "cohort.h"
#include "dataset.h"
#include "error.h"
#include "patient.h"
#include "report.h"
#include "stats.h"

struct chart_list {
    size_t n, cap;
    struct report_chart *chart;   /* name/title/caption strings owned by the list */
};

/* Draw every chart into dir. Returns 0, or the first chart's error (OUT_EIO when gnuplot is
 * missing or fails) after trying the rest. audit and bench may be NULL. */
int charts_build(const char *dir, const struct dataset *ds, const struct patient_set *ps,
                 const struct cohort *co, const struct audit_result *audit,
                 const struct bench_set *bench, struct chart_list *out, struct out_error *e);
void chart_list_free(struct chart_list *l);
/* The KM chart's vertices for k (time to response): each step as the share responded
 * (1 - S) with its band, and after each censoring time on a flat past the first step a
 * vertex where only the band's upper edge moves, to stats_km_at's widened value past it
 * (n_risk there: those followed to that time or longer). So the chart's band is the one
 * the tables print at any session. Returns a malloc'd array the caller frees and its
 * length in *n, or NULL (n 0) when k has no steps or memory runs out. */
struct chart_step;
struct chart_step *charts_km_steps(const struct km *k, size_t *n);

#endif
