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

#endif
