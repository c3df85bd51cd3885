/* stats.h — the statistics library: pure functions over arrays of doubles, built on GSL.
 *
 * Contract for every function here:
 *  - inputs are never modified (functions that sort work on their own copy);
 *  - return 0 on success, -1 when the statistic is undefined for the input (n too small,
 *    zero variance where it matters) or memory ran out; on -1 every output double is NAN,
 *    so nothing downstream prints a silent 0;
 *  - NAN values in inputs are the caller's job to remove (callers pass complete cases);
 *  - `level` is a confidence level such as 0.95.
 * Nothing here prints, exits or calls the GSL error handler (main turns it off).
 */
#ifndef OUTCOMES_STATS_H
#define OUTCOMES_STATS_H

#include <stddef.h>
#include <stdint.h>

/* Descriptives: two-pass mean/SD (accurate on NIST StRD), quartiles by R type 7
 * (gsl_stats_quantile_from_sorted_data), median the average of the middle pair for even n. */
struct desc {
    size_t n;
    double mean, sd, median, q1, q3, min, max;   /* sd NAN when n < 2 */
};
int stats_describe(const double *x, size_t n, struct desc *out);

/* One-sample Student t (use on paired differences for the paired t-test):
 * mean, CI, t statistic, df, two-sided p against mu0. */
struct tres {
    size_t n;
    double mean, sd, se, lo, hi, t, df, p;
};
int stats_t_one_sample(const double *x, size_t n, double mu0, double level, struct tres *out);

/* Welch two-sample t for mean(x) - mean(y). */
int stats_t_welch(const double *x, size_t nx, const double *y, size_t ny, double level,
                  struct tres *out);

/* Proportion k/n intervals. */
int stats_prop_wilson(long k, long n, double level, double *lo, double *hi);
int stats_prop_clopper_pearson(long k, long n, double level, double *lo, double *hi);
int stats_prop_jeffreys(long k, long n, double level, double *lo, double *hi);
/* Exact one-sided binomial p: P(X >= k | n, p0) when upper, else P(X <= k). */
double stats_binom_p_one_sided(long k, long n, double p0, int upper);
/* Newcombe hybrid score CI (method 10) for p1 - p2. */
int stats_prop_diff_newcombe(long k1, long n1, long k2, long n2, double level,
                             double *diff, double *lo, double *hi);

/* Wilcoxon signed-rank test of x against 0, as R's wilcox.test(x, conf.int=TRUE):
 * zeros dropped; exact p when n < 50 with no ties and no zeros, otherwise normal
 * approximation with tie and continuity correction. Hodges–Lehmann pseudomedian
 * (median of Walsh averages) with its CI, found without enumerating all n^2 averages. */
struct wilcoxon {
    size_t n;            /* non-zero differences used */
    double v;            /* signed-rank statistic V (sum of positive ranks) */
    double p;            /* two-sided */
    int exact;           /* 1 when the p and CI are exact */
    double hl, hl_lo, hl_hi;
};
int stats_wilcoxon_signed_rank(const double *x, size_t n, double level, struct wilcoxon *out);

/* Effect sizes for paired data: SRM (d_z = mean diff / SD diff), d_av = mean diff /
 * mean of the two SDs, and Hedges' g_av = d_av * J(df) with J the exact gamma-ratio form. */
struct effect {
    double d_z, d_av, g_av;
};
int stats_effect_paired(const double *pre, const double *post, size_t n, struct effect *out);

/* Bootstrap BCa interval for a statistic of one sample (mean or median), `reps` resamples,
 * deterministic from `seed` (gsl_rng_mt19937). est is the statistic on x. */
enum boot_stat { BOOT_MEAN, BOOT_MEDIAN };
int stats_bootstrap_bca(const double *x, size_t n, enum boot_stat stat, size_t reps,
                        uint64_t seed, double level, double *est, double *lo, double *hi);

/* Kaplan–Meier for the time to an event (here: sessions to response).
 * time[i] >= 0, event[i] 1 = event, 0 = censored at time[i].
 * The curve is S(t); report 1 - S as "share responded". Greenwood variance.
 * CIs on the log-log scale ("log-log" transform, as SAS LIFETEST) by default. */
struct km_step {
    double t;            /* distinct event time */
    long n_risk, n_event, n_censor;
    double surv, se, lo, hi;   /* S(t) after this time, Greenwood SE, CI of S */
};
struct km {
    size_t n, n_events;
    size_t n_steps;
    struct km_step *step;   /* owned; free with stats_km_free */
    /* Quantiles of time to event: the time where S first drops to <= 1-q (q = .25, .5, .75)
     * with Brookmeyer–Crowley CIs (where the CI band crosses 1-q). NAN = not reached. */
    double q[3], q_lo[3], q_hi[3];
};
int stats_km(const double *time, const int *event, size_t n, double level, struct km *out);
void stats_km_free(struct km *k);
/* S(t) at time t with its CI (step function; S = 1 before the first event). */
void stats_km_at(const struct km *k, double t, double *surv, double *lo, double *hi);

/* ANCOVA: final = b0 + b1*baseline + b2*group (group 0/1); returns b2, its CI and p. */
int stats_ancova_group(const double *baseline, const double *final, const int *group,
                       size_t n, double level, double *b, double *lo, double *hi, double *p);

#endif
