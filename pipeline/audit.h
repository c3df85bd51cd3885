/* audit.h — test each registered claim against the clinic's own data.
 *
 * For every claim: the estimate of the statistic it was read as, with a 95% CI and the CI's
 * method; the verdict; a one-sided test against the claimed value (small p = evidence the
 * claim is false), Holm-adjusted over the run; for shares, the Jeffreys posterior
 * probability that the claim holds and the cohort size that would settle it.
 *
 * Verdict rule (one rule for every comparison): a claim names a closed set of values (">= 70"
 * is [70, 100]; "3-6" is [3, 6]). SUPPORTED when every value in the closed CI lies in that
 * set, CONTRADICTED when none does, INCONCLUSIVE otherwise. So a CI limit that touches the
 * claimed value counts as inside the claim: CI [70, 80] supports ">= 70" (the boundary value
 * satisfies it), while CI [60, 70] for ">= 70" is inconclusive, not contradicted.
 * "Up to X%" rows become two result rows (see audit_run). A row whose subgroup is
 * `vs=CONTROL` or `arm=TREATMENT vs=CONTROL` is audited as treatment minus control: responder
 * shares by the Newcombe hybrid score CI (no p: no test inverts that interval), mean percent
 * improvements by Welch's t (CI and one-sided p), both in percentage points.
 *
 * Ownership: struct audit_result owns its rows; each row points into the claim_set given to
 * audit_run, which must outlive the result. audit_result_free(NULL) is harmless.
 * This is an uncontrolled before-and-after cohort: a supported claim says the clinic's
 * patients improved that much, not that acupuncture caused it (see benchmarks.tsv).
 */
#ifndef OUTCOMES_AUDIT_H
#define OUTCOMES_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "claims.h"
#include "dataset.h"
#include "error.h"
#include "patient.h"

enum verdict {
    V_SUPPORTED,
    V_CONTRADICTED,
    V_INCONCLUSIVE,
    V_INSUFFICIENT,     /* n below audit_opts.min_n */
    V_NOT_AUDITABLE,    /* the measure is absent: audit_row.needs names the column */
    V__COUNT
};

/* Stable machine name: "supported", "contradicted", "inconclusive", "insufficient_data",
 * "not_auditable". Static storage; "" for an out-of-range value. */
const char *audit_verdict_name(enum verdict v);
/* Human label, e.g. "not auditable from these data". Static storage. */
const char *audit_verdict_label(enum verdict v);

struct audit_opts {
    double level;          /* confidence level, default 0.95 */
    size_t min_n;          /* below this n the verdict is insufficient data; default 20
                              (for a difference: below it in either arm) */
    uint64_t seed;         /* bootstrap seed, default 20260101 */
    size_t boot_reps;      /* bootstrap resamples, default 2000 */
    size_t large_n;        /* from this n on, a median's CI is the distribution-free
                              order-statistic interval and a mean's the Student t interval
                              instead of BCa; default 20001, the cohort stage's cutoff
                              (cohort_opts.boot_max_n + 1), and main passes that value */
};
void audit_opts_default(struct audit_opts *o);

struct audit_row {
    const struct claim *claim;   /* the registry row (not owned) */
    char part[8];          /* "" normally; "median" or "reach" for the two rows of "up to" */
    enum claim_stat stat;  /* statistic computed for this row */
    enum claim_cmp cmp;    /* comparison applied (an "up to" part is audited as ge) */
    double claim_lo, claim_hi;   /* the claimed closed set [lo, hi], in the row's unit;
                                    -INFINITY / +INFINITY when unbounded on that side, NAN
                                    for a not_auditable row without a number */
    int claim_lo_open;     /* 1 when the set excludes claim_lo ("reach": share > 0) */
    enum verdict verdict;
    size_t n;              /* patients (patient-episodes) the estimate rests on; 0 if none;
                              for a difference, both arms together */
    size_t n_arm[2];       /* a difference (vs=CONTROL): patients in the treatment and the
                              control arm; each must reach min_n; 0 for other rows */
    long k;                /* for shares: patients counted; -1 otherwise */
    double est, lo, hi;    /* estimate and CI in the row's unit; NAN when undefined; hi is
                              +INFINITY when a Kaplan-Meier CI limit is not reached */
    int ci_lo_open;        /* 1 when the CI excludes lo: a KM median whose lower limit is
                              not reached lies beyond lo, the longest follow-up */
    char method[96];       /* how the CI was computed, e.g. "Wilson score" */
    double p;              /* one-sided p against the claim; NAN when untested (see test) */
    double p_holm;         /* Holm-adjusted over all tested rows of the run; NAN if untested */
    char test[96];         /* the test's name, or why there is none */
    double posterior;      /* shares: Jeffreys P(claim holds | data); NAN otherwise */
    long n_to_settle;      /* inconclusive shares: see audit_n_to_settle; -1 otherwise */
    char needs[64];        /* for not auditable: the column that would make it auditable */
    char note[512];        /* reading caveats, exclusions, "cannot be refuted", ... */
};

struct audit_result {
    size_t n, cap;
    struct audit_row *row;
    size_t n_tested;       /* rows with a finite p, the Holm family size */
};

void audit_result_init(struct audit_result *r);
void audit_result_free(struct audit_result *r);

/* Audit every claim of cs against ds and ps (ps computed from ds). Rows come out in registry
 * order; an "up to X%" claim (comparison upto) yields two rows: part "median", the typical
 * improvement audited as >= X, and part "reach", the share of patients reaching X, which is
 * supported as soon as one patient does — as worded, "up to" cannot be refuted, and each
 * row's note says so. opts may be NULL for the defaults. Returns 0, or OUT_EINTERNAL (out of
 * memory) with *e filled and *out empty. *out must be initialised. */
int audit_run(const struct claim_set *cs, const struct dataset *ds,
              const struct patient_set *ps, const struct audit_opts *opts,
              struct audit_result *out, struct out_error *e);

/* Write audit.csv (columns in docs/audit-csv.md): header plus one line per row; text via
 * esc_csv; undefined numbers as "n/a". Returns 0, or OUT_EIO with *e filled (name is the
 * output's name for the message). */
int audit_write_csv(const struct audit_result *r, FILE *fp, const char *name,
                    struct out_error *e);

/* ---- the pieces, public so they can be tested on hand-checked values ---- */

/* Verdict for a CI [lo, hi] against the claimed closed set [clo, chi] (either bound may be
 * infinite; lo_open excludes clo). NAN limits are treated as unbounded on their side. */
enum verdict audit_verdict(double lo, double hi, double clo, double chi, int lo_open);

/* Holm step-down adjustment of p[0..n-1] into adj (may alias p). NAN entries are skipped
 * and stay NAN; the family size is the number of finite entries. Returns that number, or
 * (size_t)-1 when out of memory (adj then all NAN). */
size_t audit_holm(const double *p, double *adj, size_t n);

/* Jeffreys posterior, prior Beta(1/2, 1/2): P(theta >= p0 | k of n) when upper, else
 * P(theta <= p0). Computed with gsl_cdf_beta_Q / _P on Beta(k + 1/2, n - k + 1/2). */
double audit_jeffreys_posterior(long k, long n, double p0, int upper);

/* Smallest n for which the Wilson interval at the observed share phat (centre
 * (phat + z^2/2n)/(1 + z^2/n), half-width z/(1 + z^2/n) * sqrt(phat(1-phat)/n + z^2/(4n^2)))
 * no longer holds p0: how many patients a cohort like this one would need for the CI to
 * clear the claimed value, if the share held.
 * Shares in 0-1. Returns -1 when phat == p0 (never) or beyond 10^9. */
long audit_n_to_settle(double phat, double p0, double level);

#endif
