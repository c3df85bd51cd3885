/* claims.h — the claims registry: what the articles say, in a form the audit can test.
 *
 * A registry is a TSV or CSV file (samples/claims.tsv; format in docs/claims.md) with one row
 * per quantitative claim: the exact quote, and the operational reading chosen for it — which
 * instrument, which statistic, which comparison against which value. Users add rows without
 * recompiling; the statistics a row may name are data (claim_stat_defs below), so validation,
 * documentation and the audit's dispatch all come from one table.
 *
 * Ownership: a struct claim_set owns every claim and every string in it; claim_set_free()
 * releases them all (claim_set_free(NULL) is harmless).
 */
#ifndef OUTCOMES_CLAIMS_H
#define OUTCOMES_CLAIMS_H

#include <stddef.h>

#include "error.h"

/* The statistic a claim is read as. Order matches claim_stat_defs[]. */
enum claim_stat {
    CS_RESPONDER_SHARE_PCT,      /* share of patients with >= param % improvement */
    CS_SHARE_REACHING_PCT,       /* share of patients reaching param % improvement */
    CS_MEDIAN_PCT_IMPROVEMENT,   /* typical (median) percent improvement */
    CS_MEAN_PCT_IMPROVEMENT,     /* mean percent improvement */
    CS_KM_MEDIAN_SESSIONS,       /* Kaplan–Meier median treatments to response */
    CS_CUM_RESPONSE_BY_SESSION,  /* KM share responded after param treatments */
    CS_DURABLE_SHARE,            /* share still responding at month 12 */
    CS_IMMEDIATE_SHARE,          /* share with a within-session drop >= param points */
    CS_FIRST_SESSION_SHARE,      /* share responding after the first treatment */
    CS_ADVERSE_RATE,             /* share of patients with any adverse event */
    CS_SHARE_AGE_RANGE,          /* share of patients aged within param (LO-HI) */
    CS_FEMALE_SHARE_AGE_RANGE,   /* share of women among patients aged within param */
    CS_WEEKS_NO_IMPROVEMENT,     /* share of responders whose response came after param weeks */
    CS_NOT_AUDITABLE,            /* no column of the visit files can speak to it */
    /* Differences against a control arm (subgroup `vs=CONTROL`). A registry row names the
     * base kind (responder_share_pct, mean_pct_improvement); the audit row computes these. */
    CS_RESPONDER_SHARE_DIFF,     /* responder share, treatment - control (percentage points) */
    CS_MEAN_PCT_IMPROVEMENT_DIFF,/* mean percent improvement, treatment - control */
    CS__COUNT
};

enum claim_cmp { CMP_GE, CMP_LE, CMP_RANGE, CMP_UPTO, CMP__COUNT, CMP_NONE = -1 };

/* What a statistic's `param` column holds. */
enum claim_param { PARAM_NONE, PARAM_NUMBER, PARAM_RANGE };

/* Data a statistic reads beyond the visit dates (bit flags). */
enum claim_need {
    NEED_INSTRUMENT = 1,   /* the claim's instrument column */
    NEED_PAIN_POST = 2,    /* pain_post (score after the needles) */
    NEED_ADVERSE = 4,      /* adverse_event */
    NEED_AGE = 8,          /* covariate age */
    NEED_SEX = 16          /* covariate sex */
};

struct claim_stat_def {
    const char *name;          /* as written in the registry's statistic column */
    enum claim_stat stat;
    const char *description;   /* one line, for docs and --help */
    const char *unit;          /* unit of value, value_lo, value_hi and the estimate */
    int is_rate;               /* 1: a share of patients (0-100), Wilson CI, exact binomial */
    unsigned needs;            /* enum claim_need flags */
    enum claim_param param;
    double param_default;      /* for PARAM_NUMBER; NAN = the row must give one */
    unsigned cmps;             /* allowed comparisons: bit (1u << enum claim_cmp) */
    int is_diff;               /* 1: treatment - control, computed for a `vs=` row; a
                                  registry row cannot name it (it names the base kind) */
};

/* The table, indexed by enum claim_stat. */
extern const struct claim_stat_def claim_stat_defs[CS__COUNT];

/* Definition by registry name (exact, lower case), or NULL. */
const struct claim_stat_def *claim_stat_find(const char *name);
/* The difference kind a base kind is audited as under `vs=CONTROL`, or CS__COUNT when the
 * kind has none (only responder_share_pct and mean_pct_improvement have one). */
enum claim_stat claim_stat_diff(enum claim_stat base);
/* Registry name of a comparison ("ge", "le", "range", "upto"), or "" for CMP_NONE. */
const char *claim_cmp_name(enum claim_cmp c);

/* Restrict a claim to some patients, or compare two arms.
 * `vs=CONTROL`: every patient whose arm is given and is not CONTROL, minus the CONTROL arm
 * (kind SUB_ALL, control set). `arm=TREATMENT vs=CONTROL`: that arm minus CONTROL (kind
 * SUB_COV_EQ with cov "arm", control set). Arm values compare case-insensitively. */
enum subgroup_kind { SUB_ALL, SUB_BASELINE_LE, SUB_BASELINE_GE, SUB_COV_EQ };
/* SUB_COV_EQ may join up to SUB_AND_MAX conditions with '&' ("condition=low back pain &
 * chronicity=chronic"), each on a different covariate; a patient must meet them all. Not in
 * a difference (vs=). */
enum { SUB_AND_MAX = 4 };
struct subgroup {
    enum subgroup_kind kind;
    double x;                  /* baseline bound for SUB_BASELINE_* */
    char *cov, *value;         /* covariate name and value for SUB_COV_EQ (owned): the
                                  first condition */
    size_t n_and;              /* further conditions, all to be met (0 for one) */
    char *and_cov[SUB_AND_MAX - 1], *and_value[SUB_AND_MAX - 1];   /* owned */
    char *control;             /* the control arm of a difference (owned); NULL otherwise */
};

struct claim {
    long line;                 /* physical line of the row in the registry (1-based) */
    char *id, *source, *seed, *quote, *instrument, *reading, *needs;   /* owned; never NULL */
    char *param_text, *subgroup_text;                                  /* as written */
    enum claim_stat stat;
    enum claim_cmp cmp;        /* CMP_NONE only for not_auditable rows without a number */
    double value, value_lo, value_hi;   /* NAN when not given */
    double param, param_lo, param_hi;   /* parsed param (NAN when unused) */
    struct subgroup sub;
};

struct claim_set {
    size_t n, cap;
    struct claim *c;
    char *path;                /* registry path as given (owned), for messages */
};

void claim_set_init(struct claim_set *s);
void claim_set_free(struct claim_set *s);

/* Load a registry file. Delimiter: tab for *.tsv, comma for *.csv, otherwise tab when the
 * header line holds a tab. Fields are parsed by libcsv in strict mode (a quote inside an
 * unquoted field is an error; quote the field and double the quote). On failure returns
 * OUT_EIO (cannot read) or OUT_EINPUT and fills *e with `path:line: column: message`;
 * *out is then empty (already freed). *out must be initialised or zeroed. */
int claims_load(const char *path, struct claim_set *out, struct out_error *e);

/* Parse a registry held in memory; `name` is used in messages and to choose the delimiter
 * as claims_load does. Same contract as claims_load. */
int claims_parse(const char *name, const char *buf, size_t len, struct claim_set *out,
                 struct out_error *e);

#endif
