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

/* Sort x[0..n) ascending in place, stably: values that compare equal keep their input
 * order, -0 and +0 included (they are equal to `<`), so the result is the same array a
 * stable comparison sort on (x > y) - (x < y) gives. LSD radix sort on the IEEE bits: a pass
 * per byte that differs between values (two or three for scores in whole points), so O(n).
 * tmp: n doubles of scratch, or NULL to allocate them here. NAN must not occur (they would
 * land at an end by their sign bit). Returns 0, or -1 when out of memory (x unchanged).
 * (Added.) */
int stats_sort(double *x, size_t n, double *tmp);

/* Descriptives: two-pass compensated mean/SD (accurate on NIST StRD), quartiles by R type 7
 * (gsl_stats_quantile_from_sorted_data), median the average of the middle pair for even n.
 * n = 0 returns -1 (all NAN, never gsl's "mean 0"); n = 1 returns 0 with sd NAN. */
struct desc {
    size_t n;
    double mean, sd, median, q1, q3, min, max;   /* sd NAN when n < 2 */
};
int stats_describe(const double *x, size_t n, struct desc *out);

/* One-sample Student t (use on paired differences for the paired t-test):
 * mean, CI, t statistic, df, two-sided p against mu0. -1 when n < 2 or sd = 0. */
struct tres {
    size_t n;
    double mean, sd, se, lo, hi, t, df, p;
};
int stats_t_one_sample(const double *x, size_t n, double mu0, double level, struct tres *out);

/* Welch two-sample t for mean(x) - mean(y): mean is the difference, se its standard error,
 * df Welch–Satterthwaite, n = nx + ny; sd is NAN (there are two). -1 when nx or ny < 2 or
 * both SDs are 0. */
int stats_t_welch(const double *x, size_t nx, const double *y, size_t ny, double level,
                  struct tres *out);

/* Proportion k/n intervals. -1 (NAN limits) unless 0 <= k <= n and n > 0.
 * Limits are exactly 0 at k = 0 and 1 at k = n; Jeffreys uses Brown–Cai–DasGupta's
 * boundary modification there (lower 0 at k = 0, upper 1 at k = n). */
int stats_prop_wilson(long k, long n, double level, double *lo, double *hi);
int stats_prop_clopper_pearson(long k, long n, double level, double *lo, double *hi);
int stats_prop_jeffreys(long k, long n, double level, double *lo, double *hi);
/* Exact one-sided binomial p: P(X >= k | n, p0) when upper, else P(X <= k).
 * NAN for k outside 0..n, n > UINT_MAX or p0 outside [0, 1]. */
double stats_binom_p_one_sided(long k, long n, double p0, int upper);
/* Rank of the distribution-free CI for a median, order statistics x(j) and x(n+1-j): the
 * j that walking j = 0, 1, ... while j + 1 <= n/2 and P(Bin(n, 1/2) <= j) <= (1-level)/2
 * ends on (0: no such interval). The same j in O(log n + sqrt n) CDF evaluations, not n/2.
 * (Added.) */
size_t stats_median_rank(size_t n, double level);
/* Newcombe hybrid score CI (method 10, Wilson limits without continuity correction)
 * for p1 - p2 = k1/n1 - k2/n2. -1 when either proportion is invalid (n = 0 included). */
int stats_prop_diff_newcombe(long k1, long n1, long k2, long n2, double level,
                             double *diff, double *lo, double *hi);

/* Wilcoxon signed-rank test of x against 0, as R's wilcox.test(x, conf.int=TRUE):
 * zeros dropped; exact p when n < 50 with no ties and no zeros, otherwise normal
 * approximation with tie and continuity correction. Hodges–Lehmann pseudomedian
 * (median of Walsh averages of the non-zero differences) with its CI, found by selection
 * in O(n log n) expected time without enumerating all n^2 averages.
 * CI: exact case as R (order statistics of the Walsh averages at qsignrank(alpha/2)); the
 * approximate case solves R's normal equation exactly (R's uniroot stops within 1e-4 of the
 * same Walsh average). Like R, when a limit cannot reach `level` the level is widened, and
 * the level actually achieved is in `level`. In the approximate case R estimates hl by
 * uniroot too; here hl is always the exact median of the Walsh averages.
 * -1 (all NAN, n = 0) when no difference is non-zero. When every non-zero difference is
 * equal the test and hl are returned (0) but hl_lo/hl_hi/level are NAN (R stops there). */
struct wilcoxon {
    size_t n;            /* non-zero differences used */
    double v;            /* signed-rank statistic V (sum of positive ranks) */
    double p;            /* two-sided */
    int exact;           /* 1 when the p and CI are exact */
    double hl, hl_lo, hl_hi;
    double level;        /* confidence level achieved by [hl_lo, hl_hi] (added) */
};
int stats_wilcoxon_signed_rank(const double *x, size_t n, double level, struct wilcoxon *out);

/* Effect sizes for paired data, diff = post - pre (negative when scores fall):
 * SRM (d_z = mean diff / SD diff), d_av = mean diff / mean of the two SDs, and
 * Hedges' g_av = d_av * J(n - 1), J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)).
 * -1 when n < 3 (J needs df >= 2), the SD of the differences is 0, or both SDs are 0. */
struct effect {
    double d_z, d_av, g_av;
};
int stats_effect_paired(const double *pre, const double *post, size_t n, struct effect *out);
/* The same from summaries a caller already has: the mean and SD of post - pre and the SDs of
 * pre and post, each as stats_describe computes them (two-pass compensated mean, SD about
 * it) over the same arrays in the same order; then the result is stats_effect_paired's to
 * the last bit, without its four passes over the data. -1 (all NAN) as there. (Added.) */
int stats_effect_paired_from(size_t n, double mean_diff, double sd_diff, double sd_pre,
                             double sd_post, struct effect *out);

/* Bootstrap BCa interval for a statistic of one sample (mean or median), `reps` resamples,
 * deterministic from `seed` (gsl_rng_mt19937, which uses the seed's low 32 bits; seed 0
 * means GSL's default seed 4357).
 * est is the statistic on x. z0 = Phi^-1((#{theta* < est} + #{theta* = est}/2) / reps);
 * acceleration a from the jackknife, a = sum(d^3) / (6 sum(d^2)^1.5), d = mean(jk) - jk_i
 * (0 when the jackknife values are all equal); limits are type-7 quantiles of the sorted
 * replicates at the adjusted levels. -1 when n < 2, reps < 2, or every replicate falls on
 * one side of est. All-identical x gives lo = hi = est. */
enum boot_stat { BOOT_MEAN, BOOT_MEDIAN };
int stats_bootstrap_bca(const double *x, size_t n, enum boot_stat stat, size_t reps,
                        uint64_t seed, double level, double *est, double *lo, double *hi);
/* The same, also returning the bias correction z0 and acceleration a (added). */
struct bca {
    double est, lo, hi, z0, a;
};
int stats_bootstrap_bca_detail(const double *x, size_t n, enum boot_stat stat, size_t reps,
                               uint64_t seed, double level, struct bca *out);
/* The mean's and the median's at once, from one stream of draws: each result is what
 * stats_bootstrap_bca_detail gives for it with the same seed (both draw the same numbers),
 * at about the cost of one. rc[0] is the mean's return value, rc[1] the median's; returns
 * 0 when both are 0, else -1. (Added.) */
int stats_bootstrap_bca_both(const double *x, size_t n, size_t reps, uint64_t seed,
                             double level, struct bca *mean, struct bca *median, int rc[2]);

/* Kaplan–Meier for the time to an event (here: sessions to response).
 * time[i] >= 0 and finite, event[i] 1 = event, 0 = censored at time[i]; else -1.
 * The curve is S(t); report 1 - S as "share responded". Greenwood variance.
 * CIs always on the log-log scale (R survfit conf.type = "log-log", SAS LIFETEST's default;
 * R's own default is "log"): S^exp(+-z sqrt(G) / |log S|), G the Greenwood sum.
 * A step where S reaches 0 has se NAN (Greenwood's variance is infinite) and, where R gives
 * NA, the bound S's range and monotonicity give: lo = 0; hi = 1 - (alpha/2)^(1/n), exact
 * for n events of n, when nobody was censored before it; at the first step 1 -
 * (alpha/2)^(1/n_risk); else the smaller of the previous step's hi and 1 -
 * (.)^(1/n_risk), each at alpha/4.
 * n = 0 returns -1; data without events return 0 with no steps and quantiles NAN. */
struct km_step {
    double t;            /* distinct event time */
    long n_risk, n_event;
    long n_censor;       /* censored at t or later, before the next event time */
    double surv, se, lo, hi;   /* S(t) after this time, Greenwood SE of S, CI of S */
};
struct km {
    size_t n, n_events;
    size_t n_steps;
    struct km_step *step;   /* owned; free with stats_km_free */
    /* Quantiles of time to event: the time where S first drops to <= 1-q (q = .25, .5, .75)
     * with Brookmeyer–Crowley CIs, as R's quantile.survfit: the lower limit is where the
     * lower band of S first drops to <= 1-q, the upper limit where the upper band does.
     * A curve lying exactly at 1-q over a flat gives the flat's midpoint (to the last
     * observed time when the flat is the curve's end). NAN = not reached.
     * Unlike R's default, the lower limit also reads the band past each censoring time,
     * where fewer are followed (stats.c, km_q_lo_censored): Dorey-Korn's widening (R's
     * conf.lower = "modified", with n those followed past the censoring) after the first
     * event, the exact bound for no event before it. A limit found there (q_lo_censor 1)
     * is exclusive, q_lo_open 1 (the quantile lies above q_lo), and q_lo is never NAN when
     * n > 0: at worst the longest follow-up, exclusive. When every time is a whole number
     * (treatments) "above c" is c + 1, closed (q_lo_open 0), as R's modified band gives. */
    double q[3], q_lo[3], q_hi[3];
    int q_lo_open[3], q_lo_censor[3];
    /* Only when there are data but no events (so no steps): each distinct time and how many
     * were followed to it or longer, for stats_km_at's exact bound; NULL otherwise. Owned.
     * (Added.) */
    struct km_followed { double t; long n; } *followed;
    size_t n_followed;
    /* Each distinct censoring time and how many were censored then or later, always (for
     * stats_km_at's widening on flats); NULL when nobody was censored. Owned. (Added.) */
    struct km_followed *cens;
    size_t n_cens;
    double level;           /* the level the CIs were made at */
};
int stats_km(const double *time, const int *event, size_t n, double level, struct km *out);
void stats_km_free(struct km *k);
/* S(t) at time t with its CI (right-continuous step function: an event at t counts).
 * Where the band does not exist, S's monotonicity bounds it by the nearest band that does:
 * before the first event S = hi = 1 and lo = the first step's lo (NAN when S = 0 there);
 * where S = 0, the step's bound (above). With no events at all, S = hi = 1 and lo is the
 * exact (Clopper–Pearson) bound for 0 events among the n_t followed to t or longer,
 * (alpha/2)^(1/n_t): under independent
 * censoring each of them is a Bernoulli trial with P(event by t) = 1 - S(t); lo NAN when
 * nobody was followed to t. All NAN when k is NULL/empty or t is NAN. */
void stats_km_at(const struct km *k, double t, double *surv, double *lo, double *hi);
/* Between events, past the last censoring c on the flat (the step's time <= c < t), lo is
 * the quantiles' widened band: the variance times m/n, m at risk at the step, n those
 * followed past c; 0 when nobody is. (R's conf.lower = "modified" widens at c itself, with
 * those censored at c still counted.) hi is not widened. Before the first event lo is the
 * first step's carried back, not the quantiles' exact bound (see above: responses recorded
 * late). */
/* 1 when stats_km_at(k, t) widens lo on a flat past a censoring (above), else 0. (Added.) */
int stats_km_widened(const struct km *k, double t);
/* With no events: how many were followed to t or longer (time >= t); -1 when k has events
 * or no data, or t is NAN. (Added.) */
long stats_km_followed(const struct km *k, double t);
/* 1 when S reaches 0 with nobody censored before: every one of the n had the event, and the
 * last step's limits are the exact n-of-n ones; 0 otherwise or for NULL. (Added.) */
int stats_km_all_events(const struct km *k);

/* ANCOVA: final = b0 + b1*baseline + b2*group (group 0/1) by least squares; returns b2,
 * its CI (t with n - 3 df) and two-sided p. -1 when n < 4, a group value is not 0/1, a
 * group is empty, the design is rank-deficient, or the residuals are all 0. */
int stats_ancova_group(const double *baseline, const double *final, const int *group,
                       size_t n, double level, double *b, double *lo, double *hi, double *p);

/* MT19937 exactly as gsl_rng_mt19937 (gsl_rng_set's seeding: seed 0 means 4357, otherwise
 * its low 32 bits are used), without gsl_rng's function pointers: the bootstrap's
 * generator. stats_mt_get is gsl_rng_get, stats_mt_uniform_int gsl_rng_uniform_int
 * (0 for n = 0 or n > 2^32 - 1, GSL's error value). (Added.) */
struct stats_mt {
    uint32_t s[624];
    int i;
};
void stats_mt_seed(struct stats_mt *m, unsigned long seed);
uint32_t stats_mt_get(struct stats_mt *m);
unsigned long stats_mt_uniform_int(struct stats_mt *m, unsigned long n);

#endif
