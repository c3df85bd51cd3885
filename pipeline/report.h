/* report.h — the documents people read: report.html, report.md, summary.json, and the
 * short terminal summary.
 *
 * Input: everything the earlier stages produced, read only. Every file is written atomically
 * (outfile.h). Patient identifiers never appear in these outputs (they stay in patients.csv);
 * input text (clinic, arm names, file paths) is escaped for each format; subgroup cells below
 * the minimum size are suppressed; no number prints as nan or inf.
 */
#ifndef OUTCOMES_REPORT_H
#define OUTCOMES_REPORT_H

#include <stdio.h>

#include "audit.h"
#include "benchmarks.h"
#include "cohort.h"
#include "dataset.h"
#include "error.h"
#include "patient.h"

struct report_chart {
    const char *name;     /* file stem in the output directory: NAME.svg / NAME.png */
    const char *title;
    const char *caption;
};

struct report_input {
    const struct dataset *ds;
    const struct patient_set *ps;
    const struct cohort *cohort;
    const struct audit_result *audit;   /* may be NULL when no claims registry was given */
    const char *claims_path;
    const struct bench_set *bench;      /* published comparators, may be NULL */
    const struct report_chart *charts;
    size_t n_charts;
    const char *chart_error;            /* why charts are missing, or NULL */
    const char *command_line;           /* the exact command, for provenance */
    const char *month;                  /* "YYYY-MM" for a monthly report, or NULL */
    const char *generated;              /* ISO timestamp of the run */
    const char *gnuplot_version;        /* or "not available" */
};

/* Write report.html, report.md and summary.json into dir. Returns 0 or OUT_EIO. */
int report_write(const struct report_input *in, const char *dir, struct out_error *e);

/* The short terminal summary (rows, patients, headline CIs, verdicts, where the report is). */
void report_terminal(const struct report_input *in, const char *dir, FILE *fp);

#endif
