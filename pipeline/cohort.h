/* cohort.h — cohort statistics over per-patient measures, per instrument and subgroup.
 *
 * Input: the patient measures (patient.h) and the dataset that names instruments and holds
 * patient covariates; both read only. Output: a struct cohort that owns everything it points
 * to; cohort_free() releases it. Every interval carries the name of its method, and every
 * statistic its n, so the report and cohort.csv can say exactly what was computed.
 *
 * Populations: "complete cases" = patients with a baseline and at least one follow-up score
 * (primary); BOCF = everyone with a baseline, single-visit patients counted as change 0
 * (sensitivity analysis). Percent statistics exclude zero baselines (counted). The immediate
 * (within-session) effect is over every patient with pain_post pairs, single visits included:
 * it needs no follow-up.
 *
 * A mean whose interval is undefined (one value, or every value equal) is still reported;
 * only its interval and p are NAN. Every undefined number is NAN, printed empty.
 *
 * Subgroups (cohort_opts.by): a covariate of the data by its name, a cell per value in order
 * of first appearance, at most 64: past that the first 63 keep theirs and the rest share one,
 * value "(N other values)", so no patient drops out of a breakdown. Or a derived band when the
 * data has no covariate of that name:
 *  - "age_band": from covariate `age` (a finite number in [0, 130], years; anything else is
 *    missing): "under 18", "18-34", "35-54", "55-64", "65+" (bands by completed years:
 *    34.9 is 18-34). "under 18" is kept as its own band rather than dropped silently.
 *  - "baseline_band": per instrument, from the record's own baseline: "mild", "moderate",
 *    "severe". Pain NRS (`pain`): mild 0-3, moderate 4-6, severe 7-10 (a score below 4 is
 *    mild, below 7 moderate). Any other instrument: thirds of its range measured from the
 *    good end, so a higher-is-better scale (sleep quality) is severe at its low end: with
 *    w = (max - min) / 3 and s = score - min (lower is better) or max - score (higher is
 *    better), mild is s < w, moderate s < 2w, severe otherwise (PSQI 0-21: 0-6, 7-13,
 *    14-21; sleep quality 0-10: 7-10 mild, 4-6 moderate, 0-3 severe).
 * Bands appear in that fixed order, and only those that occur. Cells with fewer than
 * min_cell patients are suppressed: their numbers (n included) are withheld in cohort.csv.
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

    struct prop durable;           /* responding at the end of the course and at month 12,
                                      among those with both known */
    struct prop kept;              /* of the end-of-course responders among those, the share
                                      still responding at month 12 */
    struct est immediate;          /* mean within-session pain change (pain_post), patients */
};

struct cohort_month {
    char instrument[32];
    char month[8];             /* YYYY-MM of the course's last visit */
    struct prop resp30;
    double centre, lcl, ucl;           /* p-chart: p̄ and 3-sigma limits for this month's n */
    double laney_lcl, laney_ucl;       /* Laney p′ limits */
    int out_of_control;                /* outside the p-chart limits */
    /* Added (additive). The Laney ratio of this month's instrument series (the same value on
     * every month row of one instrument): the mean moving range of the monthly z-scores
     * / 1.128; > 1 when months vary more than binomially. NAN with fewer than two months or
     * when p̄ is 0 or 1 (then the Laney limits are NAN too). */
    double laney_sigma_z;
    int laney_out_of_control;          /* outside the Laney p′ limits; 0 when they are NAN */
};

/* Number needed to treat from a difference in responder rates d = treatment - control with
 * CI [L, U] (Altman, BMJ 1998;317:1309). Magnitudes are positive and the direction is kept
 * apart, so no renderer has to interpret a negative NNT:
 *  - d > 0: NNT to benefit = 1/d; d < 0: NNT to harm = 1/|d|; d = 0: infinite (est NAN).
 *  - CI excluding 0 (split = 0): [lo, hi] in the estimate's direction: benefit 1/U to 1/L,
 *    harm 1/|L| to 1/|U|.
 *  - CI including 0 (split = 1): the CI is in two parts, written
 *    "NNT(harm) harm_from to ∞ to NNT(benefit) benefit_from": every NNT to harm >= harm_from
 *    and every NNT to benefit >= benefit_from. harm_from = 1/|L| (NAN when L = 0: no harm
 *    part), benefit_from = 1/U (NAN when U = 0: no benefit part); lo, hi are NAN. */
enum nnt_dir { NNT_UNDEFINED = 0, NNT_BENEFIT = 1, NNT_HARM = 2, NNT_INFINITE = 3 };
struct nnt {
    int dir;                   /* enum nnt_dir; NNT_UNDEFINED when d is */
    double est;                /* 1/|d|; NAN unless dir is NNT_BENEFIT or NNT_HARM */
    int split;
    double lo, hi;
    double benefit_from, harm_from;
};

/* Between arms (trial data), per instrument, when the dataset has a covariate named "arm".
 * Which arm is the control: a value named "control", "sham", "placebo", "usual care",
 * "waitlist", "wait list" or "waiting list" (case-insensitive) is a control arm.
 *  - Two arms: the control-named one is the control; when neither or both are so named, the
 *    second in order of first appearance among patients is.
 *  - More than two arms (up to 16): every arm not named as a control against every
 *    control-named arm (GERAC: verum vs sham, verum vs usual care); when none or all are so
 *    named there is no reference to compare against and arms are skipped (cohort.arms_note
 *    says why). Patients without an arm are left out.
 * Every difference is treatment - control with improvement positive, so > 0 favours the
 * treatment whichever way the instrument points. Mean change and responders are over complete
 * cases, as in cohort_group (responders: complete cases with a defined percent). Suppressed
 * when either arm has fewer than min_cell patients with a baseline. */
struct cohort_arms {
    char instrument[32];
    char label[64];
    int higher_better;
    char treatment[128], control[128];   /* arm values */
    int control_by_name;       /* 1: control recognised by its name; 0: second in order */
    int suppressed;
    size_t n_treatment, n_control;             /* patients with a baseline */
    size_t n_complete_treatment, n_complete_control;
    struct tres change_diff;   /* difference in mean improvement: mean, se, Welch CI, t, df
                                  (Welch-Satterthwaite), p; n = complete cases of both */
    struct est ancova;         /* ANCOVA final ~ baseline + arm, the arm coefficient turned to
                                  improvement-positive; t CI with n - 3 df; n complete cases */
    double ancova_p;
    struct prop resp_treatment, resp_control;  /* >= 30% responders, Wilson */
    struct est resp_diff;      /* p_treatment - p_control, Newcombe hybrid score (method 10) */
    struct nnt nnt;            /* from resp_diff */
};

struct cohort {
    size_t n_groups, cap_groups;
    struct cohort_group *group;    /* group[k] for k < n_instr is "all patients" of instr k */
    size_t n_months;
    struct cohort_month *month;
    double laney_sigma_z;          /* kept for compatibility: the Laney ratio of the first
                                      instrument with a monthly series; each instrument's own
                                      is in month[].laney_sigma_z */
    uint64_t seed;
    size_t boot_reps;
    size_t min_cell;
    /* Added (additive): between-arm comparisons, in instrument order, then treatment arm
     * order. n_arms = 0 without an `arm` covariate or when arms were skipped (arms_note). */
    size_t n_arms;
    struct cohort_arms *arms;
    char arms_note[160];           /* why arms were skipped, or "" */
    double level;                  /* the level asked for (cohort_opts.level) */
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

/* The all-patients group of an instrument, or NULL when the cohort has none. */
const struct cohort_group *cohort_overall(const struct cohort *c, const char *instrument);

/* cohort.csv: one row per group and statistic (documented in docs/cohort-csv.md).
 * Columns instrument,by,value,statistic,n,estimate,lo,hi,method. Undefined numbers are empty;
 * a suppressed cell has n, estimate, lo and hi empty and the reason as its method. Between-arm
 * rows have by = "arm_difference" and value = "TREATMENT vs CONTROL". */
int cohort_write_csv(const struct cohort *c, FILE *fp, struct out_error *e);

/* The method text of Kaplan-Meier quantile q (0, 1, 2 for q25, median, q75) of k: names an
 * exclusive lower limit (stats.h, q_lo_open). */
const char *cohort_km_q_method(const struct km *k, int q);
/* The method text of the share responded by session t (share: stats_km_at's 1 - S there)
 * into buf: names the exact limits with no response or all responded, and an upper limit
 * widened past a censoring (stats_km_widened). */
void cohort_km_at_method(const struct km *k, double t, double share, char *buf, size_t size);

#endif
