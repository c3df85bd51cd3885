/* claims.c — read and validate the claims registry (see claims.h, docs/claims.md).
 *
 * The file is split into physical lines first and each line is one record: a registry row
 * is short text, and one-line records give every message an exact line number (libcsv keeps
 * none). libcsv, strict, parses the fields of each line, so quoting follows RFC 4180.
 */
#include "claims.h"

#include <csv.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define CMPBIT(c) (1u << (c))
#define CMP_ALL_NUM (CMPBIT(CMP_GE) | CMPBIT(CMP_LE) | CMPBIT(CMP_RANGE))

/* "up to X%" only makes sense for an improvement: the audit reads it as both the typical
 * improvement and the share reaching X, so only the percent-improvement kinds accept it. */
const struct claim_stat_def claim_stat_defs[CS__COUNT] = {
    [CS_RESPONDER_SHARE_PCT] = {"responder_share_pct", CS_RESPONDER_SHARE_PCT,
        "share of patients whose improvement is >= param % of baseline (default 30, IMMPACT "
        "moderately important)", "% of patients", 1, NEED_INSTRUMENT, PARAM_NUMBER, 30,
        CMP_ALL_NUM},
    [CS_SHARE_REACHING_PCT] = {"share_reaching_pct", CS_SHARE_REACHING_PCT,
        "share of patients reaching param % improvement (for 'up to X%': X)",
        "% of patients", 1, NEED_INSTRUMENT, PARAM_NUMBER, NAN,
        CMP_ALL_NUM | CMPBIT(CMP_UPTO)},
    [CS_MEDIAN_PCT_IMPROVEMENT] = {"median_pct_improvement", CS_MEDIAN_PCT_IMPROVEMENT,
        "typical (median) percent improvement from baseline", "% improvement", 0,
        NEED_INSTRUMENT, PARAM_NONE, NAN, CMP_ALL_NUM | CMPBIT(CMP_UPTO)},
    [CS_MEAN_PCT_IMPROVEMENT] = {"mean_pct_improvement", CS_MEAN_PCT_IMPROVEMENT,
        "mean percent improvement from baseline", "% improvement", 0, NEED_INSTRUMENT,
        PARAM_NONE, NAN, CMP_ALL_NUM},
    [CS_KM_MEDIAN_SESSIONS] = {"km_median_sessions", CS_KM_MEDIAN_SESSIONS,
        "Kaplan-Meier median number of treatments before response (>= 30% improvement)",
        "treatments", 0, NEED_INSTRUMENT, PARAM_NONE, NAN, CMP_ALL_NUM},
    [CS_CUM_RESPONSE_BY_SESSION] = {"cum_response_by_session", CS_CUM_RESPONSE_BY_SESSION,
        "Kaplan-Meier share of patients responded after param treatments",
        "% of patients", 1, NEED_INSTRUMENT, PARAM_NUMBER, NAN, CMP_ALL_NUM},
    [CS_DURABLE_SHARE] = {"durable_share", CS_DURABLE_SHARE,
        "share of patients responding at the end of the course and still at month 12",
        "% of patients", 1, NEED_INSTRUMENT, PARAM_NONE, NAN, CMP_ALL_NUM},
    [CS_IMMEDIATE_SHARE] = {"immediate_share", CS_IMMEDIATE_SHARE,
        "share of patients whose mean within-session pain drop (pain - pain_post) is >= "
        "param points (default 1)", "% of patients", 1, NEED_INSTRUMENT | NEED_PAIN_POST,
        PARAM_NUMBER, 1, CMP_ALL_NUM},
    [CS_FIRST_SESSION_SHARE] = {"first_session_share", CS_FIRST_SESSION_SHARE,
        "share of patients already responding (>= 30%) after one treatment",
        "% of patients", 1, NEED_INSTRUMENT, PARAM_NONE, NAN, CMP_ALL_NUM},
    [CS_ADVERSE_RATE] = {"adverse_rate", CS_ADVERSE_RATE,
        "share of patients with at least one visit flagged adverse_event",
        "% of patients", 1, NEED_ADVERSE, PARAM_NONE, NAN, CMP_ALL_NUM},
    [CS_SHARE_AGE_RANGE] = {"share_age_range", CS_SHARE_AGE_RANGE,
        "share of patients whose age is within param (LO-HI years, inclusive)",
        "% of patients", 1, NEED_AGE, PARAM_RANGE, NAN, CMP_ALL_NUM},
    [CS_FEMALE_SHARE_AGE_RANGE] = {"female_share_age_range", CS_FEMALE_SHARE_AGE_RANGE,
        "share of women among women and men aged within param (LO-HI years)",
        "% of patients", 1, NEED_AGE | NEED_SEX, PARAM_RANGE, NAN, CMP_ALL_NUM},
    [CS_WEEKS_NO_IMPROVEMENT] = {"weeks_no_improvement", CS_WEEKS_NO_IMPROVEMENT,
        "share of responders whose first response came later than param weeks (default 8)",
        "% of responders", 1, NEED_INSTRUMENT, PARAM_NUMBER, 8, CMP_ALL_NUM},
    [CS_NOT_AUDITABLE] = {"not_auditable", CS_NOT_AUDITABLE,
        "no visit-file column can speak to the claim; `needs` names the one that would",
        "", 0, 0, PARAM_NONE, NAN, CMP_ALL_NUM | CMPBIT(CMP_UPTO)},
    /* Treatment minus control. Not shares of patients themselves (a difference runs from -100
     * to 100), so is_rate is 0 and the Wilson/binomial/Jeffreys machinery does not apply. */
    [CS_RESPONDER_SHARE_DIFF] = {"responder_share_pct_diff", CS_RESPONDER_SHARE_DIFF,
        "responder share (>= param % improvement), treatment arm minus control arm; Newcombe "
        "hybrid score CI", "percentage points", 0, NEED_INSTRUMENT, PARAM_NUMBER, 30,
        CMP_ALL_NUM, 1},
    [CS_MEAN_PCT_IMPROVEMENT_DIFF] = {"mean_pct_improvement_diff", CS_MEAN_PCT_IMPROVEMENT_DIFF,
        "mean percent improvement, treatment arm minus control arm; Welch t CI",
        "percentage points", 0, NEED_INSTRUMENT, PARAM_NONE, NAN, CMP_ALL_NUM, 1},
};

enum claim_stat claim_stat_diff(enum claim_stat base)
{
    switch (base) {
    case CS_RESPONDER_SHARE_PCT: return CS_RESPONDER_SHARE_DIFF;
    case CS_MEAN_PCT_IMPROVEMENT: return CS_MEAN_PCT_IMPROVEMENT_DIFF;
    default: return CS__COUNT;
    }
}

static const char *const cmp_names[CMP__COUNT] = {"ge", "le", "range", "upto"};

const struct claim_stat_def *claim_stat_find(const char *name)
{
    for (size_t i = 0; i < CS__COUNT; i++)
        if (strcmp(claim_stat_defs[i].name, name) == 0)
            return &claim_stat_defs[i];
    return NULL;
}

const char *claim_cmp_name(enum claim_cmp c)
{
    return (c >= 0 && c < CMP__COUNT) ? cmp_names[c] : "";
}

/* Registry columns. A column is required so that a row cannot silently lose its reading;
 * param and subgroup are optional because most claims need neither. */
enum col {
    COL_ID, COL_SOURCE, COL_SEED, COL_QUOTE, COL_INSTRUMENT, COL_STATISTIC, COL_PARAM,
    COL_SUBGROUP, COL_COMPARISON, COL_VALUE, COL_VALUE_LO, COL_VALUE_HI, COL_READING,
    COL_NEEDS, COL__COUNT
};
static const struct { const char *name; int required; } cols[COL__COUNT] = {
    [COL_ID] = {"id", 1}, [COL_SOURCE] = {"source", 1}, [COL_SEED] = {"seed", 1},
    [COL_QUOTE] = {"quote", 1}, [COL_INSTRUMENT] = {"instrument", 1},
    [COL_STATISTIC] = {"statistic", 1}, [COL_PARAM] = {"param", 0},
    [COL_SUBGROUP] = {"subgroup", 0}, [COL_COMPARISON] = {"comparison", 1},
    [COL_VALUE] = {"value", 1}, [COL_VALUE_LO] = {"value_lo", 1},
    [COL_VALUE_HI] = {"value_hi", 1}, [COL_READING] = {"reading", 1},
    [COL_NEEDS] = {"needs", 1},
};

void claim_set_init(struct claim_set *s)
{
    memset(s, 0, sizeof *s);
}

static void claim_free(struct claim *c)
{
    free(c->id); free(c->source); free(c->seed); free(c->quote); free(c->instrument);
    free(c->reading); free(c->needs); free(c->param_text); free(c->subgroup_text);
    free(c->sub.cov); free(c->sub.value); free(c->sub.control);
    for (size_t j = 0; j < c->sub.n_and; j++) {
        free(c->sub.and_cov[j]);
        free(c->sub.and_value[j]);
    }
}

void claim_set_free(struct claim_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++)
        claim_free(&s->c[i]);
    free(s->c);
    free(s->path);
    claim_set_init(s);
}

/* ---- one line of fields, collected from libcsv callbacks ---- */

struct fields {
    size_t n, cap;
    char **f;
    int oom;
};

static void fields_clear(struct fields *fs)
{
    for (size_t i = 0; i < fs->n; i++)
        free(fs->f[i]);
    fs->n = 0;
}

/* libcsv reuses its buffer, so each field is copied. */
static void on_field(void *s, size_t len, void *data)
{
    struct fields *fs = data;
    if (fs->oom)
        return;
    if (fs->n == fs->cap) {
        size_t nc = fs->cap ? 2 * fs->cap : 16;
        char **nf = realloc(fs->f, nc * sizeof *nf);
        if (!nf) { fs->oom = 1; return; }
        fs->f = nf;
        fs->cap = nc;
    }
    char *copy = malloc(len + 1);
    if (!copy) { fs->oom = 1; return; }
    if (len)
        memcpy(copy, s, len);
    copy[len] = '\0';
    fs->f[fs->n++] = copy;
}

static void on_record(int c, void *data)
{
    (void)c;
    (void)data;
}

/* Only the space is trimmed: libcsv's default also trims tabs, which in a TSV would eat
 * empty fields. */
static int is_space_only(unsigned char c)
{
    return c == ' ';
}

/* Parse one physical line (without its newline) into fields. Returns 0, or fills *e. */
static int split_line(struct csv_parser *p, const char *name, long lineno, const char *s,
                      size_t len, struct fields *fs, struct out_error *e)
{
    fields_clear(fs);
    size_t used = csv_parse(p, s, len, on_field, on_record, fs);
    int err = csv_error(p);   /* read before csv_fini, which clears it */
    if (used != len || err != CSV_SUCCESS) {
        csv_fini(p, NULL, NULL, NULL);
        if (err == CSV_ENOMEM || fs->oom)
            return out_err(e, OUT_EINTERNAL, name, lineno, 0, "out of memory");
        return out_err(e, OUT_EINPUT, name, lineno, (long)used + 1,
                       "malformed quoting: a \" inside a field needs the whole field quoted "
                       "and the \" doubled");
    }
    if (csv_fini(p, on_field, on_record, fs) != 0) {
        if (csv_error(p) == CSV_ENOMEM || fs->oom)
            return out_err(e, OUT_EINTERNAL, name, lineno, 0, "out of memory");
        return out_err(e, OUT_EINPUT, name, lineno, 0,
                       "unterminated quoted field (a field cannot span lines)");
    }
    if (fs->oom)
        return out_err(e, OUT_EINTERNAL, name, lineno, 0, "out of memory");
    return 0;
}

/* ---- field parsers ---- */

/* A number written plainly: decimal, finite, whole field. "70%" and "nan" are refused so a
 * typo cannot become a claim of 0 or NaN. Empty means not given (NAN). */
static int parse_num(const char *s, double *out)
{
    if (!*s) {
        *out = NAN;
        return 0;
    }
    for (const char *q = s; *q; q++)
        if (!(isdigit((unsigned char)*q) || *q == '.' || *q == '-' || *q == '+' ||
              *q == 'e' || *q == 'E'))
            return -1;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

/* "LO-HI" with LO <= HI, e.g. "18-64". */
static int parse_range(const char *s, double *lo, double *hi)
{
    const char *dash = strchr(s, '-');
    if (!dash || dash == s)
        return -1;
    char buf[64];
    size_t k = (size_t)(dash - s);
    if (k >= sizeof buf)
        return -1;
    memcpy(buf, s, k);
    buf[k] = '\0';
    if (parse_num(buf, lo) || parse_num(dash + 1, hi) || isnan(*lo) || isnan(*hi) || *lo > *hi)
        return -1;
    return 0;
}

/* COVARIATE=VALUE into g (kind SUB_COV_EQ). Returns 0, -1 malformed, -2 out of memory. */
static int parse_cov_eq(const char *s, size_t len, struct subgroup *g)
{
    const char *eq = memchr(s, '=', len);
    if (!eq || eq == s || eq + 1 == s + len || memchr(eq + 1, '=', (size_t)(s + len - eq - 1)))
        return -1;
    for (const char *q = s; q < eq; q++)
        if (!(isalnum((unsigned char)*q) || *q == '_'))
            return -1;
    g->kind = SUB_COV_EQ;
    g->cov = strndup(s, (size_t)(eq - s));
    g->value = strndup(eq + 1, (size_t)(s + len - eq - 1));
    if (!g->cov || !g->value)
        return -2;
    return 0;
}

/* The next '&' in s that joins conditions: one followed (after spaces) by a covariate name
 * and '='. Any other '&' belongs to a value, so "clinic=Hale, Moss & Partners" is one
 * condition and "clinic=Hale, Moss & Partners & sex=F" two. NULL when there is none. */
static const char *next_join(const char *s)
{
    for (const char *a = strchr(s, '&'); a; a = strchr(a + 1, '&')) {
        const char *q = a + 1;
        while (*q == ' ')
            q++;
        const char *name = q;
        while (isalnum((unsigned char)*q) || *q == '_')
            q++;
        if (q > name && *q == '=')
            return a;
    }
    return NULL;
}

/* 1 when a value begins or ends with '&': a condition left out ("chronicity=chronic &"),
 * not a clinic's name. */
static int dangling_amp(const char *v)
{
    size_t n = strlen(v);
    while (n > 0 && v[n - 1] == ' ')
        n--;
    while (n > 0 && *v == ' ')
        v++, n--;
    return n > 0 && (v[0] == '&' || v[n - 1] == '&');
}

/* Returns 0, -1 malformed, -2 out of memory, -3 malformed difference (`vs=`), -4 malformed
 * conditions joined with '&'. */
static int parse_subgroup(const char *s, struct subgroup *g)
{
    memset(g, 0, sizeof *g);
    g->kind = SUB_ALL;
    g->x = NAN;
    if (!*s)
        return 0;
    if (strncmp(s, "baseline<=", 10) == 0 || strncmp(s, "baseline>=", 10) == 0) {
        g->kind = s[8] == '<' ? SUB_BASELINE_LE : SUB_BASELINE_GE;
        if (parse_num(s + 10, &g->x) || isnan(g->x))
            return -1;
        return 0;
    }
    /* A difference: "vs=CONTROL" or "arm=TREATMENT vs=CONTROL". The control is the rest of
     * the field, so an arm name may hold spaces ("usual care"). */
    const char *vs = strncmp(s, "vs=", 3) == 0 ? s : strstr(s, " vs=");
    if (vs) {
        const char *ctl = vs + (vs == s ? 3 : 4);
        if (!*ctl || strchr(ctl, '=') || next_join(s))
            return -3;   /* a difference selects no further conditions */
        if (vs != s) {
            int r = parse_cov_eq(s, (size_t)(vs - s), g);
            if (r == -2)
                return -2;
            if (r || strcmp(g->cov, "arm") != 0 || strcasecmp(g->value, ctl) == 0)
                return -3;
        }
        if (!(g->control = strdup(ctl)))
            return -2;
        return 0;
    }
    /* COV=VALUE [& COV=VALUE ...]: spaces around '&' are the separator's, not the value's */
    const char *amp = next_join(s);
    if (!amp) {
        int r = parse_cov_eq(s, strlen(s), g);
        if (r == -2)
            return -2;
        return r == 0 && !dangling_amp(g->value) ? 0 : strchr(s, '&') ? -4 : r;
    }
    const char *start = s;
    for (size_t j = 0;; j++) {
        const char *end = amp ? amp : s + strlen(s);
        const char *a = start, *b = end;
        while (a < b && *a == ' ')
            a++;
        while (b > a && b[-1] == ' ')
            b--;
        if (j >= SUB_AND_MAX)
            return -4;
        struct subgroup one;
        memset(&one, 0, sizeof one);
        int r = parse_cov_eq(a, (size_t)(b - a), &one);
        if (r == 0 && dangling_amp(one.value))
            r = -4;
        if (r == 0) {
            if (j == 0) {
                g->cov = one.cov;
                g->value = one.value;
            } else {
                g->and_cov[j - 1] = one.cov;
                g->and_value[j - 1] = one.value;
                g->n_and = j;
            }
            g->kind = SUB_COV_EQ;
        } else {
            free(one.cov);
            free(one.value);
            return r == -2 ? -2 : -4;
        }
        for (size_t i = 0; i < j; i++)
            if (strcmp(i ? g->and_cov[i - 1] : g->cov, one.cov) == 0)
                return -4;   /* one covariate twice: empty or redundant */
        if (!amp)
            return 0;
        start = amp + 1;
        amp = next_join(start);
    }
}

static int valid_id(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!(isalnum((unsigned char)*s) || *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static char *dup_or_null(const char *s)
{
    return strdup(s ? s : "");
}

/* Validate one row (fields in registry column order given by map) into *c. */
static int build_claim(const char *name, long lineno, char **f, const int *map,
                       const struct claim_set *set, struct claim *c, struct out_error *e)
{
#define F(col) (map[col] >= 0 ? f[map[col]] : "")
#define BAD(...) out_err(e, OUT_EINPUT, name, lineno, 0, __VA_ARGS__)
    memset(c, 0, sizeof *c);
    c->line = lineno;
    c->value = c->value_lo = c->value_hi = c->param = c->param_lo = c->param_hi = NAN;
    c->sub.kind = SUB_ALL;
    c->sub.x = NAN;
    c->id = dup_or_null(F(COL_ID));
    c->source = dup_or_null(F(COL_SOURCE));
    c->seed = dup_or_null(F(COL_SEED));
    c->quote = dup_or_null(F(COL_QUOTE));
    c->instrument = dup_or_null(F(COL_INSTRUMENT));
    c->reading = dup_or_null(F(COL_READING));
    c->needs = dup_or_null(F(COL_NEEDS));
    c->param_text = dup_or_null(F(COL_PARAM));
    c->subgroup_text = dup_or_null(F(COL_SUBGROUP));
    if (!c->id || !c->source || !c->seed || !c->quote || !c->instrument || !c->reading ||
        !c->needs || !c->param_text || !c->subgroup_text)
        return out_err(e, OUT_EINTERNAL, name, lineno, 0, "out of memory");

    if (!valid_id(c->id))
        return BAD("id: '%s' must be non-empty letters, digits, _ - or .", c->id);
    for (size_t i = 0; i < set->n; i++)
        if (strcmp(set->c[i].id, c->id) == 0)
            return BAD("id: '%s' already used on line %ld", c->id, set->c[i].line);
    if (!*c->quote)
        return BAD("quote: empty (quote the article's exact words)");

    const char *st = F(COL_STATISTIC);
    const struct claim_stat_def *def = claim_stat_find(st);
    if (!def) {
        char list[400] = "";
        size_t off = 0;
        for (size_t i = 0; i < CS__COUNT && off < sizeof list; i++)
            off += (size_t)snprintf(list + off, sizeof list - off, "%s%s", i ? ", " : "",
                                    claim_stat_defs[i].name);
        return BAD("statistic: '%s' is not one of %s", st, list);
    }
    if (def->is_diff)
        return BAD("statistic: '%s' is computed, not named: write %s with subgroup vs=CONTROL",
                   st, claim_stat_defs[def->stat == CS_RESPONDER_SHARE_DIFF
                                           ? CS_RESPONDER_SHARE_PCT
                                           : CS_MEAN_PCT_IMPROVEMENT].name);
    c->stat = def->stat;
    int na = def->stat == CS_NOT_AUDITABLE;

    if ((def->needs & NEED_INSTRUMENT) && (!*c->instrument || strcmp(c->instrument, "-") == 0))
        return BAD("instrument: %s needs an instrument column name (e.g. pain)", def->name);

    int r = parse_subgroup(c->subgroup_text, &c->sub);
    if (r == -2)
        return out_err(e, OUT_EINTERNAL, name, lineno, 0, "out of memory");
    if (r == -3)
        return BAD("subgroup: '%s': a difference is vs=CONTROL or arm=TREATMENT vs=CONTROL "
                   "(two different arms)", c->subgroup_text);
    if (r == -4)
        return BAD("subgroup: '%s': conditions joined with '&' are COVARIATE=VALUE, at most %d, "
                   "each on a different covariate", c->subgroup_text, SUB_AND_MAX);
    if (r)
        return BAD("subgroup: '%s' is not baseline<=X, baseline>=X, COVARIATE=VALUE or "
                   "vs=CONTROL", c->subgroup_text);
    if ((c->sub.kind == SUB_BASELINE_LE || c->sub.kind == SUB_BASELINE_GE) &&
        !(def->needs & NEED_INSTRUMENT))
        return BAD("subgroup: a baseline subgroup needs a score statistic, not %s", def->name);
    /* A difference against the control arm: a not_auditable row may carry one (it documents
     * the comparison); otherwise only kinds with a two-arm method (claim_stat_diff). */
    int diff = c->sub.control && !na;
    if (diff && claim_stat_diff(def->stat) == CS__COUNT)
        return BAD("subgroup: a difference against the control arm (vs=%s) is supported for "
                   "responder_share_pct and mean_pct_improvement, not %s", c->sub.control,
                   def->name);

    const char *cs = F(COL_COMPARISON);
    c->cmp = CMP_NONE;
    if (*cs) {
        int found = -1;
        for (int i = 0; i < CMP__COUNT; i++)
            if (strcmp(cs, cmp_names[i]) == 0)
                found = i;
        if (found < 0)
            return BAD("comparison: '%s' is not one of ge, le, range, upto", cs);
        c->cmp = (enum claim_cmp)found;
        if (diff && found == CMP_UPTO)
            return BAD("comparison: 'upto' does not apply to a difference against the control "
                       "arm (use ge)");
        /* 'Up to' is audited as the median and the share reaching X; accepted here, the
         * mean would silently have become the median. */
        if (found == CMP_UPTO && def->stat == CS_MEAN_PCT_IMPROVEMENT)
            return BAD("comparison: 'upto' does not apply to mean_pct_improvement ('up to X%%' "
                       "is audited as the median and the share reaching X: use "
                       "median_pct_improvement)");
        if (!(def->cmps & CMPBIT(found)))
            return BAD("comparison: '%s' does not apply to %s", cs, def->name);
    } else if (!na) {
        return BAD("comparison: empty (one of ge, le, range, upto)");
    }

    static const struct { enum col col; const char *name; } numcols[3] = {
        {COL_VALUE, "value"}, {COL_VALUE_LO, "value_lo"}, {COL_VALUE_HI, "value_hi"}};
    double *dst[3] = {&c->value, &c->value_lo, &c->value_hi};
    for (int i = 0; i < 3; i++)
        if (parse_num(F(numcols[i].col), dst[i]))
            return BAD("%s: '%s' is not a number (write 70 for 70%%)", numcols[i].name,
                       F(numcols[i].col));
    if (c->cmp == CMP_RANGE) {
        if (isnan(c->value_lo) || isnan(c->value_hi))
            return BAD("value_lo, value_hi: a range claim needs both");
        if (c->value_lo > c->value_hi)
            return BAD("value_lo: %g is above value_hi %g", c->value_lo, c->value_hi);
        if (!isnan(c->value))
            return BAD("value: leave empty for a range claim (use value_lo, value_hi)");
    } else if (c->cmp != CMP_NONE) {
        if (isnan(c->value))
            return BAD("value: %s claim needs a value", cmp_names[c->cmp]);
        if (!isnan(c->value_lo) || !isnan(c->value_hi))
            return BAD("value_lo, value_hi: only for a range claim");
    } else if (!isnan(c->value) || !isnan(c->value_lo) || !isnan(c->value_hi)) {
        return BAD("comparison: empty but a value is given");
    }
    if (diff && def->is_rate) {   /* a difference of two shares */
        for (int i = 0; i < 3; i++)
            if (!isnan(*dst[i]) && (*dst[i] < -100 || *dst[i] > 100))
                return BAD("%s: %g is a difference of shares in percentage points and must be "
                           "within -100 to 100", numcols[i].name, *dst[i]);
    } else if (def->is_rate) {
        for (int i = 0; i < 3; i++)
            if (!isnan(*dst[i]) && (*dst[i] < 0 || *dst[i] > 100))
                return BAD("%s: %g is a share of patients and must be within 0-100",
                           numcols[i].name, *dst[i]);
    }

    switch (def->param) {
    case PARAM_NONE:
        if (*c->param_text)
            return BAD("param: %s takes none, got '%s'", def->name, c->param_text);
        break;
    case PARAM_NUMBER:
        if (parse_num(c->param_text, &c->param))
            return BAD("param: '%s' is not a number", c->param_text);
        if (isnan(c->param)) {
            c->param = def->param_default;
            if (isnan(c->param) && c->cmp == CMP_UPTO)
                c->param = c->value;   /* "up to X%": the share reaching X */
        }
        if (isnan(c->param))
            return BAD("param: %s needs one (%s)", def->name, def->description);
        if (c->param < 0)
            return BAD("param: %g must not be negative", c->param);
        break;
    case PARAM_RANGE:
        if (parse_range(c->param_text, &c->param_lo, &c->param_hi))
            return BAD("param: '%s' is not a range LO-HI such as 18-64", c->param_text);
        break;
    }

    if (na && !*c->needs)
        return BAD("needs: name the column that would make this claim auditable");
    return 0;
#undef F
#undef BAD
}

static int ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcmp(s + a - b, suf) == 0;
}

int claims_parse(const char *name, const char *buf, size_t len, struct claim_set *out,
                 struct out_error *e)
{
    struct csv_parser p;
    struct fields fs = {0};
    int map[COL__COUNT];
    int have_header = 0, rc = 0;
    size_t ncols = 0;
    for (int i = 0; i < COL__COUNT; i++)
        map[i] = -1;

    claim_set_free(out);
    if (!(out->path = strdup(name)))
        return out_err(e, OUT_EINTERNAL, name, 0, 0, "out of memory");
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0) {
        claim_set_free(out);
        return out_err(e, OUT_EINTERNAL, name, 0, 0, "out of memory");
    }
    csv_set_space_func(&p, is_space_only);

    if (len >= 2 && (((unsigned char)buf[0] == 0xFF && (unsigned char)buf[1] == 0xFE) ||
                     ((unsigned char)buf[0] == 0xFE && (unsigned char)buf[1] == 0xFF))) {
        rc = out_err(e, OUT_EINPUT, name, 1, 0, "UTF-16 text: save the registry as UTF-8");
        goto out;
    }
    if (memchr(buf, '\0', len)) {
        rc = out_err(e, OUT_EINPUT, name, 0, 0, "contains a NUL byte: not a text file");
        goto out;
    }
    if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0) {   /* BOM would glue to "id" */
        buf += 3;
        len -= 3;
    }

    unsigned char delim;
    if (ends_with(name, ".tsv"))
        delim = '\t';
    else if (ends_with(name, ".csv"))
        delim = ',';
    else {
        const char *nl = memchr(buf, '\n', len);
        delim = memchr(buf, '\t', nl ? (size_t)(nl - buf) : len) ? '\t' : ',';
    }
    csv_set_delim(&p, delim);

    long lineno = 0;
    size_t pos = 0;
    while (pos < len) {
        lineno++;
        const char *s = buf + pos;
        const char *nl = memchr(s, '\n', len - pos);
        size_t ll = nl ? (size_t)(nl - s) : len - pos;
        pos += ll + (nl ? 1 : 0);
        if (ll && s[ll - 1] == '\r')
            ll--;
        if (memchr(s, '\r', ll)) {
            rc = out_err(e, OUT_EINPUT, name, lineno, 0,
                         "carriage return inside a line (CR-only line ends?): use LF or CRLF");
            goto out;
        }
        size_t k = 0;
        while (k < ll && (s[k] == ' ' || s[k] == '\t'))
            k++;
        if (k == ll || s[k] == '#')   /* blank lines and # comments */
            continue;
        if ((rc = split_line(&p, name, lineno, s, ll, &fs, e)))
            goto out;

        if (!have_header) {
            for (size_t i = 0; i < fs.n; i++) {
                int found = -1;
                for (int j = 0; j < COL__COUNT; j++)
                    if (strcmp(fs.f[i], cols[j].name) == 0)
                        found = j;
                if (found < 0) {
                    rc = out_err(e, OUT_EINPUT, name, lineno, (long)i + 1,
                                 "unknown column '%s' (see docs/claims.md)", fs.f[i]);
                    goto out;
                }
                if (map[found] >= 0) {
                    rc = out_err(e, OUT_EINPUT, name, lineno, (long)i + 1,
                                 "column '%s' appears twice", fs.f[i]);
                    goto out;
                }
                map[found] = (int)i;
            }
            for (int j = 0; j < COL__COUNT; j++)
                if (cols[j].required && map[j] < 0) {
                    rc = out_err(e, OUT_EINPUT, name, lineno, 0, "missing column '%s'%s",
                                 cols[j].name,
                                 delim == '\t' ? "" : " (a TSV registry needs a .tsv name)");
                    goto out;
                }
            ncols = fs.n;
            have_header = 1;
            continue;
        }
        if (fs.n != ncols) {
            rc = out_err(e, OUT_EINPUT, name, lineno, 0, "%zu fields, the header has %zu",
                         fs.n, ncols);
            goto out;
        }
        if (out->n == out->cap) {
            size_t nc = out->cap ? 2 * out->cap : 32;
            struct claim *nv = realloc(out->c, nc * sizeof *nv);
            if (!nv) {
                rc = out_err(e, OUT_EINTERNAL, name, lineno, 0, "out of memory");
                goto out;
            }
            out->c = nv;
            out->cap = nc;
        }
        struct claim *c = &out->c[out->n];
        rc = build_claim(name, lineno, fs.f, map, out, c, e);
        out->n++;   /* counted even on failure so claim_set_free releases its strings */
        if (rc)
            goto out;
    }
    if (!have_header)
        rc = out_err(e, OUT_EINPUT, name, 0, 0, "empty registry: no header line");
    else if (out->n == 0)   /* an unattended run would audit nothing and say nothing */
        rc = out_err(e, OUT_EINPUT, name, 0, 0, "no claims: the registry has a header but "
                                                 "no claim rows");

out:
    fields_clear(&fs);
    free(fs.f);
    csv_free(&p);
    if (rc)
        claim_set_free(out);
    return rc;
}

int claims_load(const char *path, struct claim_set *out, struct out_error *e)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    int rc = 0;
    for (;;) {
        if (cap - len < 4096) {
            size_t nc = cap ? 2 * cap : 8192;
            char *nb = realloc(buf, nc);
            if (!nb) {
                rc = out_err(e, OUT_EINTERNAL, path, 0, 0, "out of memory");
                goto out;
            }
            buf = nb;
            cap = nc;
        }
        size_t got = fread(buf + len, 1, cap - len, fp);
        len += got;
        if (got == 0)
            break;
    }
    if (ferror(fp)) {
        rc = out_err(e, OUT_EIO, path, 0, 0, "read error");
        goto out;
    }
    rc = claims_parse(path, buf, len, out, e);
out:
    free(buf);
    fclose(fp);
    return rc;
}
