/* cohort.h — cohort statistics over per-patient measures, per instrument and subgroup.
 *
 * Input: the patient measures (patient.h) and the dataset that names instruments and holds
 * patient covariates; both read only. Output: a struct cohort that owns everything it points
 * to; cohort_free() releases it. Every interval carries the name of its method, and every
 * statistic its n, so the report and cohort.csv can say exactly what was computed.
 *
 * Populations: "complete cases" = patients with a baseline and at least one follow-up score
 * (primary); BOCF = everyone with a baseline, single-visit patients counted as change 0
 * (sensitivity analysis). Percent statistics exclude zero baselines (counted).
 */
#ifndef OUTCOMES_COHORT_H
#define OUTCOMES_COHORT_H

#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "error.h"
#include "patient.h"
#include "stats.h"

struct prop {
    long k, n;
    double p, lo, hi;          /* Wilson (primary) */
    double cp_lo, cp_hi;       /* Clopper–Pearson exact */
};

struct est {                   /* an estimate with its interval and the method's name */
    size_t n;
    double est, lo, hi;
    const char *method;
};

enum { KM_AT_N = 4 };
extern const int cohort_km_at[KM_AT_N];   /* sessions 3, 6, 8, 12 */

struct cohort_group {
    char instrument[32];
    char label[64];
    int higher_better;
    char by[64];               /* covariate name, or "" for all patients */
    char value[128];           /* covariate value, or "" */
    int suppressed;            /* 1 when n < min cell size: numbers withheld in shared outputs */

    size_t n_patients;         /* patient-episodes with a baseline for this instrument */
    size_t n_single;           /* of those, with no follow-up score (dropouts) */
    size_t n_complete;         /* with baseline and follow-up */
    size_t n_zero_baseline;    /* complete cases excluded from percent statistics */

    struct desc baseline, final;   /* complete cases */
    struct tres change;            /* mean improvement, Student t CI, paired t-test p vs 0 */
    struct wilcoxon wilcoxon;      /* signed-rank p; Hodges–Lehmann pseudomedian + CI */
    struct effect effect;          /* d_z (SRM), d_av, Hedges g_av */
    struct est pct_mean, pct_median;
    struct prop resp30, resp50, resp_mic;   /* among complete cases with defined percent */
    struct tres bocf;              /* BOCF sensitivity: mean improvement over n_patients */

    /* Time to response (treatments before the responding visit), Kaplan–Meier. */
    struct km km;
    double km_at[KM_AT_N], km_at_lo[KM_AT_N], km_at_hi[KM_AT_N];   /* share responded 1-S */
    double worst_at[KM_AT_N];      /* dropouts counted as non-responders: events by t / all */
    double dropout_share;          /* n_single / n_patients */

    struct prop durable;           /* among those with known durability */
    struct est immediate;          /* mean within-session pain change (pain_post), patients */
};

struct cohort_month {
    char instrument[32];
    char month[8];             /* YYYY-MM of the course's last visit */
    struct prop resp30;
    double centre, lcl, ucl;           /* p-chart: p̄ and 3-sigma limits for this month's n */
    double laney_lcl, laney_ucl;       /* Laney p′ limits */
    int out_of_control;
};

struct cohort {
    size_t n_groups, cap_groups;
    struct cohort_group *group;    /* group[k] for k < n_instr is "all patients" of instr k */
    size_t n_months;
    struct cohort_month *month;
    double laney_sigma_z;          /* the Laney ratio; > 1 when months vary more than binomially */
    uint64_t seed;
    size_t boot_reps;
    size_t min_cell;
};

struct cohort_opts {
    uint64_t seed;             /* bootstrap seed, printed in every report */
    size_t boot_reps;          /* >= 2000 */
    size_t boot_max_n;         /* above this n, percent CIs use large-sample methods */
    size_t min_cell;           /* minimum cell size for subgroups in shared outputs */
    const char *const *by;     /* covariates to break down by (e.g. "clinic", "sex") */
    size_t n_by;
    double level;              /* 0.95 */
    /* Monthly series: taken from `series` (NULL = the patients being described) and kept to
     * months in [month_from, month_to] ("YYYY-MM", NULL = unbounded). A monthly report
     * describes one month's patients but plots the trend over the year before it. */
    const struct patient_set *series;
    const char *month_from, *month_to;
};
void cohort_opts_default(struct cohort_opts *o);

int cohort_compute(const struct dataset *ds, const struct patient_set *ps,
                   const struct cohort_opts *o, struct cohort *out, struct out_error *e);
void cohort_free(struct cohort *c);

/* cohort.csv: one row per group and statistic (documented in docs/cohort-csv.md). */
int cohort_write_csv(const struct cohort *c, FILE *fp, struct out_error *e);

#endif
