/* ingest.c — see ingest.h. csvread turns bytes into records with line numbers; this file
 * gives the header's columns their roles and judges each row: accepted into the dataset,
 * or written to rejects with the reason. Nothing here prints or exits. */
#include "ingest.h"
#include "digest.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "civil_date.h"
#include "csvread.h"
#include "escape.h"
#include "parse_num.h"
#include "sha256.h"

/* MAX_COLUMNS keeps the quadratic header checks cheap; real visit files have dozens. */
enum { DEFAULT_CHUNK = 1 << 20, SESSION_MAX = 100000, MAX_COLUMNS = 4096 };
/* Streaming: a patient's visits are scanned for a repeat up to this many, then indexed. */
enum { DUP_SCAN_MAX = 32 };

enum role { ROLE_ID, ROLE_DATE, ROLE_SESSION, ROLE_INSTR, ROLE_PAIN_POST, ROLE_ADVERSE,
            ROLE_BASELINE, ROLE_COV, ROLE_KEY, ROLE_TIME, ROLE_WIDE, ROLE_EPISODE };

/* Columns with a fixed meaning; every other non-instrument column is a covariate. */
static const struct { const char *name; enum role role; } fixed_columns[] = {
    {"patient_id", ROLE_ID},         {"visit_date", ROLE_DATE},
    {"session", ROLE_SESSION},       {"pain_post", ROLE_PAIN_POST},
    {"adverse_event", ROLE_ADVERSE}, {"baseline", ROLE_BASELINE},
    {"episode", ROLE_EPISODE},
};

struct column {
    enum role role;
    int idx;              /* instrument index (ds->instr), covariate index, or for
                           * ROLE_WIDE the index into ingest_opts.wide */
    const char *name;     /* header name as written (trimmed), for messages */
    const char *canon;    /* renamed and lower-cased: what the column means */
};

struct ingest {
    const struct ingest_opts *o;
    struct dataset *ds;
    FILE *rej;
    struct out_error first_reject;
    int have_first_reject;
    char **schema;        /* canonical names of the first file's columns */
    size_t n_schema;
    const char *schema_file;

    /* Progress (o->progress): bytes of every file so far, of all files, at the last call. */
    unsigned long long prog_read, prog_total, prog_last;

    /* The file being read. */
    const char *path;
    size_t file;
    int header_done;
    struct column *col;
    size_t n_col;
    char *names;
    long c_id, c_date, c_session, c_pp, c_ae, c_bl, c_ep;
    long c_key[INGEST_KEY_MAX];
    char **cell;
    char *idbuf;          /* composite key of the current row */
    size_t idbuf_cap;
    double pp_min, pp_max;

    /* (patient, day, session) -> visit index, open addressing, visit UINT32_MAX = empty.
     * The stored hash bits spare a random read of the visit on most probes. */
    struct dup_entry { uint32_t visit, hash; } *dup;
    size_t dup_cap;
    size_t last_p;            /* patient of the previous accepted row + 1 (0 = none): rows of
                                 one patient usually come together, so most rows skip the
                                 hash lookup and can fetch their duplicate slot early */
    struct flusher *fl;       /* streaming: the per-patient thread, or NULL (this one) */
    /* Streaming: a duplicate can only be of the current patient, whose visits are the last
     * ones in ds, from cur_first on: a short run is scanned, a long one (DUP_SCAN_MAX visits
     * or more) goes into the duplicate table (cur_hashed). dup_dirty: the table holds
     * entries, to be emptied when the visits are handed on. */
    size_t cur_first;
    int cur_hashed, dup_dirty;
    /* The largest session number accepted so far: how far a row without one probes the
     * duplicate table for a numbered visit on its day (same_day_unordered). */
    long max_session;
    int any_unnumbered;   /* a visit without a session number has been accepted */
    /* Day of the row each covariate value came from, per patient x covariate. */
    int32_t *cov_day;
    size_t cov_day_cap;

    /* Wide format, fixed for the run by the spec: the time points (distinct offsets,
     * ascending; session = rank + 1), per spec column its instrument (index into ds->instr)
     * and time point, and one row's scores (time point x instrument). */
    size_t n_tp, n_wi;
    int32_t tp_day[INGEST_WIDE_MAX];
    int w_instr[INGEST_WIDE_MAX], w_tp[INGEST_WIDE_MAX];
    const char *w_name[INSTRUMENT_MAX];
    long w_col[INGEST_WIDE_MAX];   /* file column of each spec column, current file */
    double wscore[INGEST_WIDE_MAX * INSTRUMENT_MAX];
};

void ingest_opts_default(struct ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->today = civil_today();
}

/* Add or replace (same source, case-insensitive) a rename in map[0..*n). Returns -1 when
 * the map is full. Replacing keeps "the last word wins" for config file then command line. */
static int add_rename(struct ingest_colmap *map, size_t *n, const char *canon, size_t cn,
                      const char *src, size_t sn)
{
    size_t i = 0;
    while (i < *n && !(strlen(map[i].source) == sn && strncasecmp(map[i].source, src, sn) == 0))
        i++;
    if (i == *n) {
        if (*n >= INGEST_MAP_MAX)
            return -1;
        (*n)++;
    }
    memcpy(map[i].canonical, canon, cn);
    map[i].canonical[cn] = '\0';
    memcpy(map[i].source, src, sn);
    map[i].source[sn] = '\0';
    return 0;
}

int ingest_opts_add_column(struct ingest_opts *o, const char *spec, struct out_error *e)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "'%s': expected CANONICAL=SOURCE, e.g. patient_id=record_id", spec);
    size_t cn = (size_t)(eq - spec), sn = strlen(eq + 1);
    if (cn >= INGEST_NAME_MAX || sn >= INGEST_NAME_MAX)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "'%s': name too long (limit %d bytes)",
                       spec, INGEST_NAME_MAX - 1);
    if (add_rename(o->column_map, &o->n_map, spec, cn, eq + 1, sn))
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "more than %d column renames",
                       INGEST_MAP_MAX);
    return 0;
}

int ingest_opts_set_key(struct ingest_opts *o, const char *spec, struct out_error *e)
{
    o->n_key = 0;
    const char *p = spec;
    for (;;) {
        size_t n = strcspn(p, ",");
        if (n == 0 || n >= INGEST_NAME_MAX || o->n_key == INGEST_KEY_MAX)
            return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                           "'%s': expected up to %d column names separated by commas", spec,
                           INGEST_KEY_MAX);
        memcpy(o->key_column[o->n_key], p, n);
        o->key_column[o->n_key++][n] = '\0';
        if (!p[n])
            return 0;
        p += n + 1;
    }
}

int ingest_opts_set_time(struct ingest_opts *o, const char *spec, struct out_error *e)
{
    static const struct { const char *unit; double days; } units[] = {
        {"days", 1}, {"weeks", 7}, {"months", 30.4375},
    };
    const char *colon = strrchr(spec, ':');
    size_t n = colon ? (size_t)(colon - spec) : 0;
    for (size_t i = 0; colon && n && n < INGEST_NAME_MAX && i < 3; i++)
        if (strcmp(colon + 1, units[i].unit) == 0) {
            memcpy(o->time_column, spec, n);
            o->time_column[n] = '\0';
            o->time_unit_days = units[i].days;
            return 0;
        }
    return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                   "'%s': expected COLUMN:UNIT with UNIT days, weeks or months", spec);
}

/* ---- small helpers ---------------------------------------------------------------- */


/* A cell value for a message: at most ~40 bytes, cut on a UTF-8 boundary, control
 * characters shown as '?' so a message cannot drive the terminal it is printed on. */
static const char *shown(const char *s, char buf[64])
{
    size_t n = strlen(s), cut = n <= 40 ? n : 40;
    while (cut < n && cut && ((unsigned char)s[cut] & 0xC0) == 0x80)
        cut--;
    for (size_t i = 0; i < cut; i++)
        buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    memcpy(buf + cut, cut < n ? "..." : "", cut < n ? 4 : 1);
    return buf;
}

/* %.15g, or %.17g when that does not read back; buf holds DATASET_NUM_MAX bytes. */
static void fmt_num(char *buf, size_t n, double v)
{
    (void)n;
    dataset_fmt_num(buf, v);
}

/* A score for visits.csv, which ingest reads back and which, as every input, may hold no
 * exponent: the shortest form unless that has one (1e-05), else the fewest fixed decimals
 * that read back to the same double (0.00001). */
static void put_plain_num(FILE *fp, double v)
{
    char buf[DATASET_NUM_MAX];
    dataset_fmt_num(buf, v);
    if (!strpbrk(buf, "eE")) {
        fputs(buf, fp);
        return;
    }
    char fixed[400];   /* DBL_MIN needs 307 zeros after the point; 17 digits after those */
    /* Fewer decimals than the exponent's (5 for 1e-05) would print 0: start there. */
    const char *ex = strpbrk(buf, "eE");
    int prec = ex[1] == '-' ? atoi(ex + 2) : 0;
    for (; prec < 360; prec++) {
        snprintf(fixed, sizeof fixed, "%.*f", prec, v);
        if (strtod(fixed, NULL) == v)
            break;
    }
    fputs(fixed, fp);
}

/* "pain, pain_vas, ..." for messages that list what would have been accepted. */
static void instrument_list(const struct instrument_table *tab, char *buf, size_t n)
{
    buf[0] = '\0';
    for (size_t k = 0; k < tab->n; k++) {
        size_t len = strlen(buf);
        snprintf(buf + len, n - len, "%s%s", k ? ", " : "", tab->item[k].name);
    }
}

/* ---- wide spec -------------------------------------------------------------------- */

enum { WIDE_MAX_DAYS = 36525 };   /* 100 years: past any follow-up, far inside int32 */

/* "3m", "12 months", "0d", "2.5w": a number >= 0 and a unit, to whole days. Returns 0, -1
 * when it is not that form, -2 when it is beyond WIDE_MAX_DAYS. */
static int parse_offset(const char *s, int32_t *day)
{
    static const struct { const char *unit; double days; } units[] = {
        {"d", 1},      {"day", 1},      {"days", 1},        {"w", 7},          {"week", 7},
        {"weeks", 7},  {"m", 30.4375},  {"month", 30.4375}, {"months", 30.4375},
    };
    char num[32];
    size_t n = strspn(s, "0123456789.");
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, s, n);
    num[n] = '\0';
    double v;
    /* No sign is let through strspn, so parse_decimal only checks digits and one '.'. */
    if (parse_decimal(num, '.', &v))
        return -1;
    const char *u = s + n;
    while (*u == ' ')
        u++;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcasecmp(u, units[i].unit) == 0) {
            double d = v * units[i].days;
            if (!(d <= WIDE_MAX_DAYS))
                return -2;
            *day = (int32_t)lround(d);
            return 0;
        }
    return -1;
}

/* Copy a trimmed name into dst (INGEST_NAME_MAX bytes); -1 when empty or too long. */
static int copy_name(char *dst, const char *src)
{
    size_t n = strlen(src);
    if (!n || n >= INGEST_NAME_MAX)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

/* Parse into scratch copies and commit only on success, so a bad spec leaves o as it was. */
int ingest_opts_set_wide(struct ingest_opts *o, const char *spec, struct out_error *e)
{
    struct instrument_table builtin;
    const struct instrument_table *tab = o->instruments;
    if (!tab) {
        instrument_table_builtin(&builtin);
        tab = &builtin;
    }
    struct ingest_wide_col *col = calloc(INGEST_WIDE_MAX, sizeof *col);
    struct ingest_colmap *map = malloc(sizeof o->column_map);
    char *buf = strdup(spec);
    char date[INGEST_NAME_MAX] = "";
    size_t n = 0, n_map = o->n_map;
    int rc = 0;
    if (!col || !map || !buf) {
        rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
        goto out;
    }
    memcpy(map, o->column_map, sizeof o->column_map);
    char *next;
    for (char *seg = buf; seg; seg = next) {
        if ((next = strchr(seg, ';')) != NULL)
            *next++ = '\0';
        seg = trim_blanks(seg);
        if (!*seg)
            continue;   /* "a; b;" — a trailing ';' is harmless */
        char *colon = strchr(seg, ':'), *eq = strchr(seg, '=');
        if (!colon && eq) {
            *eq = '\0';
            char *canon = trim_blanks(seg), *src = trim_blanks(eq + 1);
            if (!*canon || !*src) {
                rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                             "'%s=%s': expected NAME=COLUMN, e.g. patient_id=id", canon, src);
                goto out;
            }
            if (strlen(canon) >= INGEST_NAME_MAX || strlen(src) >= INGEST_NAME_MAX) {
                rc = out_err(e, OUT_EUSAGE, NULL, 0, 0, "'%s=%s': name too long (limit %d "
                             "bytes)", canon, src, INGEST_NAME_MAX - 1);
                goto out;
            }
            if (strcasecmp(canon, "date") == 0) {
                if (date[0]) {
                    rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                                 "date= is given twice ('%s' and '%s')", date, src);
                    goto out;
                }
                copy_name(date, src);
            } else if (add_rename(map, &n_map, canon, strlen(canon), src, strlen(src))) {
                rc = out_err(e, OUT_EUSAGE, NULL, 0, 0, "more than %d column renames",
                             INGEST_MAP_MAX);
                goto out;
            }
            continue;
        }
        if (!colon) {
            rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                         "'%s' is neither 'INSTRUMENT: COLUMN@OFFSET, ...' nor 'NAME=COLUMN'",
                         seg);
            goto out;
        }
        *colon = '\0';
        const char *iname = trim_blanks(seg);
        const struct instrument *in = *iname ? instrument_find(tab, iname) : NULL;
        if (!in) {
            char list[512];
            instrument_list(tab, list, sizeof list);
            rc = *iname ? out_err(e, OUT_EUSAGE, NULL, 0, 0,
                                  "'%s' is not an instrument (known: %s; declare others in "
                                  "a config file)", iname, list)
                        : out_err(e, OUT_EUSAGE, NULL, 0, 0,
                                  "no instrument name before ':' (expected e.g. "
                                  "'pain_vas: pk1@0d, pk2@3m')");
            goto out;
        }
        for (size_t j = 0; j < n; j++)
            if (strcasecmp(col[j].instrument, in->name) == 0) {
                rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                             "instrument '%s' is given twice; list all its columns in one "
                             "segment", in->name);
                goto out;
            }
        char *items = trim_blanks(colon + 1);
        if (!*items) {
            rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                         "%s: no columns (expected e.g. '%s: pk1@0d, pk2@3m')", in->name,
                         in->name);
            goto out;
        }
        char *inext;
        for (char *item = items; item; item = inext) {
            if ((inext = strchr(item, ',')) != NULL)
                *inext++ = '\0';
            item = trim_blanks(item);
            char *at = strrchr(item, '@');
            if (!*item || !at) {
                rc = *item ? out_err(e, OUT_EUSAGE, NULL, 0, 0,
                                     "%s: '%s' has no time point (expected COLUMN@OFFSET, "
                                     "e.g. %s@3m)", in->name, item, item)
                           : out_err(e, OUT_EUSAGE, NULL, 0, 0,
                                     "%s: an empty item in the column list (a stray ',')",
                                     in->name);
                goto out;
            }
            *at = '\0';
            const char *cname = trim_blanks(item), *when = trim_blanks(at + 1);
            if (n == INGEST_WIDE_MAX) {
                rc = out_err(e, OUT_EUSAGE, NULL, 0, 0, "more than %d score columns",
                             INGEST_WIDE_MAX);
                goto out;
            }
            struct ingest_wide_col *w = &col[n];
            if (copy_name(w->column, cname)) {
                rc = out_err(e, OUT_EUSAGE, NULL, 0, 0, "%s: '%s@%s': %s", in->name, cname,
                             when, *cname ? "column name too long" : "no column before '@'");
                goto out;
            }
            int bad = strlen(when) < sizeof w->when ? parse_offset(when, &w->day) : -1;
            if (bad) {
                rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                             bad == -2 ? "%s: '%s@%s': the offset is more than 100 years"
                                       : "%s: '%s@%s': the offset is not a number >= 0 and a "
                                         "unit d, w or m (days, weeks, months), e.g. 3m",
                             in->name, cname, when);
                goto out;
            }
            memcpy(w->when, when, strlen(when) + 1);
            snprintf(w->instrument, sizeof w->instrument, "%s", in->name);
            for (size_t j = 0; j < n; j++) {
                if (strcasecmp(col[j].column, w->column) == 0) {
                    rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                                 "column '%s' is used twice (%s at %s and %s at %s)", w->column,
                                 col[j].instrument, col[j].when, in->name, w->when);
                    goto out;
                }
                if (strcmp(col[j].instrument, in->name) == 0 && col[j].day == w->day) {
                    rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                                 "%s: columns '%s' (%s) and '%s' (%s) are both at day %ld",
                                 in->name, col[j].column, col[j].when, w->column, w->when,
                                 (long)w->day);
                    goto out;
                }
            }
            n++;
        }
    }
    if (!n) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                     "no instrument (expected e.g. 'pain_vas: pk1@0d, pk2@3m; patient_id=id')");
        goto out;
    }
    for (size_t j = 0; date[0] && j < n; j++)
        if (strcasecmp(col[j].column, date) == 0) {
            rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                         "column '%s' is both the baseline date and a score column", date);
            goto out;
        }
    memcpy(o->wide, col, n * sizeof *col);
    o->n_wide = n;
    memcpy(o->wide_date, date, sizeof date);
    memcpy(o->column_map, map, sizeof o->column_map);
    o->n_map = n_map;
out:
    free(col);
    free(map);
    free(buf);
    return rc;
}

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static void reject(struct ingest *g, const struct csvread_record *rec, enum reject_reason why,
                   long col, const char *fmt, ...)
{
    char msg[480];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    g->ds->rows_rejected++;
    g->ds->rejected_by[why]++;
    g->ds->file[g->file].rows_rejected++;
    if (!g->have_first_reject) {
        out_err(&g->first_reject, OUT_EINPUT, g->path, rec->line, col, "%s", msg);
        g->have_first_reject = 1;
    }
    if (!g->rej)
        return;
    /* Write errors surface through ferror() once the run is over. */
    esc_csv(g->rej, g->path);
    fprintf(g->rej, ",%ld,", rec->line);
    if (col > 0)
        fprintf(g->rej, "%ld", col);
    fprintf(g->rej, ",%s,", reject_reason_name(why));
    esc_csv(g->rej, msg);
    fputc(',', g->rej);
    esc_csv(g->rej, rec->raw);
    fputc('\n', g->rej);
}

/* ---- header ----------------------------------------------------------------------- */

static const char *rename_column(const struct ingest_opts *o, const char *name)
{
    for (size_t i = 0; i < o->n_map; i++)
        if (strcasecmp(o->column_map[i].source, name) == 0)
            return o->column_map[i].canonical;
    return name;
}

static void free_file_state(struct ingest *g)
{
    free(g->col);
    free(g->names);
    free(g->cell);
    free(g->idbuf);
    g->idbuf = NULL;
    g->idbuf_cap = 0;
    g->col = NULL;
    g->names = NULL;
    g->cell = NULL;
    g->n_col = 0;
}

/* The first file fixes the dataset's instruments and covariates (in column order). */
static int define_schema(struct ingest *g, long line, struct out_error *e)
{
    struct dataset *ds = g->ds;
    const char *instr[INSTRUMENT_MAX];
    size_t n_instr = 0, n_cov = 0;
    const char **cov = malloc((g->n_col ? g->n_col : 1) * sizeof *cov);
    g->schema = calloc(g->n_col ? g->n_col : 1, sizeof *g->schema);
    if (!cov || !g->schema) {
        free(cov);
        return out_err(e, OUT_EINTERNAL, g->path, line, 0, "out of memory");
    }
    for (size_t i = 0; i < g->n_col; i++) {
        struct column *c = &g->col[i];
        if (!(g->schema[i] = strdup(c->canon))) {
            free(cov);
            return out_err(e, OUT_EINTERNAL, g->path, line, 0, "out of memory");
        }
        g->n_schema = i + 1;
        if (c->role == ROLE_INSTR) {
            if (n_instr == INSTRUMENT_MAX) {
                free(cov);
                return out_err(e, OUT_EINPUT, g->path, line, (long)i + 1,
                               "more than %d instrument columns", INSTRUMENT_MAX);
            }
            c->idx = (int)n_instr;
            instr[n_instr++] = c->canon;
        } else if (c->role == ROLE_COV) {
            c->idx = (int)n_cov;
            cov[n_cov++] = c->canon;
        }
    }
    struct instrument_table builtin;
    const struct instrument_table *tab = g->o->instruments;
    if (!tab) {
        instrument_table_builtin(&builtin);
        tab = &builtin;
    }
    if (g->o->n_wide) {   /* in spec order, which the wide plan's indices refer to */
        n_instr = g->n_wi;
        for (size_t k = 0; k < n_instr; k++)
            instr[k] = g->w_name[k];
    }
    int bad = dataset_set_instruments(ds, tab, instr, n_instr) ||
              dataset_set_covariates(ds, cov, n_cov) ||
              (g->c_pp >= 0 && dataset_enable_pain_post(ds)) ||
              (g->c_ep >= 0 && dataset_enable_episode(ds));
    free(cov);
    if (bad)
        return out_err(e, OUT_EINTERNAL, g->path, line, 0, "out of memory");
    g->schema_file = g->path;
    return 0;
}

/* A later file must carry the same columns; map them onto the first file's indices. */
static int match_schema(struct ingest *g, long line, struct out_error *e)
{
    if (g->n_col != g->n_schema) {
        for (size_t k = 0; k < g->n_schema; k++) {
            size_t i = 0;
            while (i < g->n_col && strcmp(g->col[i].canon, g->schema[k]) != 0)
                i++;
            if (i == g->n_col)
                return out_err(e, OUT_EINPUT, g->path, line, 0,
                               "header differs from %s: no column '%s'", g->schema_file,
                               g->schema[k]);
        }
    }
    for (size_t i = 0; i < g->n_col; i++) {
        struct column *c = &g->col[i];
        size_t k = 0;
        while (k < g->n_schema && strcmp(c->canon, g->schema[k]) != 0)
            k++;
        if (k == g->n_schema)
            return out_err(e, OUT_EINPUT, g->path, line, (long)i + 1,
                           "header differs from %s: column '%s' is not in it", g->schema_file,
                           c->name);
        if (c->role == ROLE_INSTR) {
            for (size_t j = 0; j < g->ds->n_instr; j++)
                if (strcasecmp(g->ds->instr[j]->name, c->canon) == 0)
                    c->idx = (int)j;
        } else if (c->role == ROLE_COV) {
            c->idx = dataset_cov_index(g->ds, c->canon);
        }
    }
    return 0;
}

/* Index of the wide spec's column `name` (as in the file), or -1. */
static long wide_column(const struct ingest_opts *o, const char *name)
{
    for (size_t j = 0; j < o->n_wide; j++)
        if (strcasecmp(o->wide[j].column, name) == 0)
            return (long)j;
    return -1;
}

/* The role of a column that is not a wide score or date column: fixed name, instrument,
 * key part, time column, or covariate. In a wide file the long-format-only columns and
 * unplaced instruments are refused: each would otherwise be silently ignored or misread. */
static int column_role(struct ingest *g, const struct instrument_table *tab, struct column *c,
                       long i, long line, struct out_error *e)
{
    for (size_t k = 0; k < sizeof fixed_columns / sizeof fixed_columns[0]; k++)
        if (strcmp(c->canon, fixed_columns[k].name) == 0)
            c->role = fixed_columns[k].role;
    if (c->role == ROLE_COV && instrument_find(tab, c->canon))
        c->role = ROLE_INSTR;
    for (size_t k = 0; k < g->o->n_key; k++)
        if (strcasecmp(c->canon, g->o->key_column[k]) == 0) {
            c->role = ROLE_KEY;
            g->c_key[k] = i;
        }
    if (g->o->time_column[0] && strcasecmp(c->canon, g->o->time_column) == 0)
        c->role = ROLE_TIME;
    if (!g->o->n_wide || c->role == ROLE_COV || c->role == ROLE_ID || c->role == ROLE_KEY)
        return 0;
    if (c->role == ROLE_INSTR)
        return out_err(e, OUT_EINPUT, g->path, line, i + 1,
                       "column '%s' is an instrument but the wide spec gives it no time point "
                       "(add e.g. '%s: %s@0d' to the spec, or rename the column)",
                       c->name, c->canon, c->name);
    if (c->role == ROLE_DATE)
        return out_err(e, OUT_EINPUT, g->path, line, i + 1,
                       "column '%s' has no meaning in a wide file (one row per patient): make "
                       "it the baseline date with 'date=%s' in the wide spec, or rename or "
                       "drop it", c->name, c->name);
    return out_err(e, OUT_EINPUT, g->path, line, i + 1,
                   "column '%s' has no meaning in a wide file (one row per patient); rename "
                   "or drop it", c->name);
}

static int header(struct ingest *g, const struct csvread_record *rec, struct out_error *e)
{
    if (rec->n > MAX_COLUMNS)
        return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                       "the header has %zu columns; at most %d are supported", rec->n,
                       MAX_COLUMNS);
    size_t total = 0;
    for (size_t i = 0; i < rec->n; i++)
        total += 2 * (rec->len[i] + 1) + INGEST_NAME_MAX;
    g->n_col = rec->n;
    g->col = calloc(rec->n, sizeof *g->col);
    g->cell = calloc(rec->n, sizeof *g->cell);
    g->names = malloc(total);
    if (!g->col || !g->cell || !g->names)
        return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
    g->c_id = g->c_date = g->c_session = g->c_pp = g->c_ae = g->c_bl = g->c_ep = -1;
    for (size_t k = 0; k < INGEST_KEY_MAX; k++)
        g->c_key[k] = -1;
    for (size_t j = 0; j < INGEST_WIDE_MAX; j++)
        g->w_col[j] = -1;
    const struct instrument_table *tab = g->o->instruments;
    struct instrument_table builtin;
    if (!tab) {
        instrument_table_builtin(&builtin);
        tab = &builtin;
    }
    char *p = g->names;
    for (size_t i = 0; i < rec->n; i++) {
        struct column *c = &g->col[i];
        const char *name = trim_blanks(rec->field[i]);
        long col = (long)i + 1;
        if (!*name)
            return out_err(e, OUT_EINPUT, g->path, rec->line, col,
                           "column %ld has no name in the header", col);
        c->name = p;
        for (const char *q = name; *q; q++)   /* display copy: see shown() */
            *p++ = (unsigned char)*q < 0x20 || *q == 0x7f ? '?' : *q;
        *p++ = '\0';
        const char *canon = rename_column(g->o, name);
        c->canon = p;
        for (const char *q = canon; *q; q++)
            *p++ = (char)tolower((unsigned char)*q);
        *p++ = '\0';
        for (size_t j = 0; j < i; j++)
            if (strcmp(g->col[j].canon, c->canon) == 0)
                return out_err(e, OUT_EINPUT, g->path, rec->line, col,
                               "duplicate column '%s' (columns %zu and %ld)", c->canon, j + 1,
                               col);
        c->role = ROLE_COV;
        long wj = wide_column(g->o, name);
        if (wj >= 0) {
            c->role = ROLE_WIDE;
            c->idx = (int)wj;
            g->w_col[wj] = (long)i;
        } else if (g->o->n_wide && g->o->wide_date[0] &&
                   strcasecmp(name, g->o->wide_date) == 0) {
            c->role = ROLE_DATE;
        } else {
            int rc = column_role(g, tab, c, (long)i, rec->line, e);
            if (rc)
                return rc;
        }
        if ((c->role == ROLE_ID && g->o->n_key) || (c->role == ROLE_DATE && g->o->time_column[0]))
            return out_err(e, OUT_EINPUT, g->path, rec->line, col,
                           "column '%s' is present although %s is set; rename or drop it",
                           c->name, c->role == ROLE_ID ? "--patient-key" : "--relative-time");
        long *slot = c->role == ROLE_ID        ? &g->c_id
                     : c->role == ROLE_DATE || c->role == ROLE_TIME ? &g->c_date
                     : c->role == ROLE_SESSION ? &g->c_session
                     : c->role == ROLE_PAIN_POST ? &g->c_pp
                     : c->role == ROLE_ADVERSE ? &g->c_ae
                     : c->role == ROLE_BASELINE ? &g->c_bl
                     : c->role == ROLE_EPISODE ? &g->c_ep
                                                : NULL;
        if (slot)
            *slot = (long)i;
    }
    for (size_t k = 0; k < g->o->n_key; k++)
        if (g->c_key[k] < 0)
            return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                           "missing patient-key column '%s'", g->o->key_column[k]);
    if (g->o->n_key)
        g->c_id = g->c_key[0];   /* where a missing key part is reported by default */
    if (g->c_date < 0 && g->o->time_column[0])
        return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                       "missing relative-time column '%s'", g->o->time_column);
    for (size_t j = 0; j < g->o->n_wide; j++)
        if (g->w_col[j] < 0)
            return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                           "missing column '%s' of the wide spec (%s at %s)",
                           g->o->wide[j].column, g->o->wide[j].instrument, g->o->wide[j].when);
    if (g->o->n_wide && g->o->wide_date[0] && g->c_date < 0)
        return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                       "missing baseline date column '%s' (date= in the wide spec)",
                       g->o->wide_date);
    static const char *const required[] = {"patient_id", "visit_date"};
    /* A wide file needs no date column: without one the baseline is 1970-01-01. */
    for (size_t k = 0; k < (g->o->n_wide ? 1u : 2u); k++)
        if ((k == 0 ? g->c_id : g->c_date) < 0) {
            /* When renames already name this column's sources, say that they are missing:
             * every one of them (a config file and --column may each give one). */
            char srcs[INGEST_MAP_MAX * (INGEST_NAME_MAX + 8)] = "";
            size_t used = 0;
            for (size_t i = 0; i < g->o->n_map; i++)
                if (strcasecmp(g->o->column_map[i].canonical, required[k]) == 0)
                    used += (size_t)snprintf(srcs + used, sizeof srcs - used, "%s'%s'",
                                             used ? " or " : "", g->o->column_map[i].source);
            if (used)
                return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                               "missing column %s (renamed to %s by --column or --config)",
                               srcs, required[k]);
            return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                           "missing required column '%s' (rename yours with --column %s=NAME)",
                           required[k], required[k]);
        }
    size_t n_instr = g->o->n_wide;
    for (size_t i = 0; i < g->n_col; i++)
        n_instr += g->col[i].role == ROLE_INSTR;
    if (!n_instr) {
        char list[512];
        instrument_list(tab, list, sizeof list);
        return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                       "no instrument column (expected one of: %s)", list);
    }
    const struct instrument *pain = instrument_find(tab, "pain");
    g->pp_min = pain ? pain->min : 0;
    g->pp_max = pain ? pain->max : 10;
    g->header_done = 1;
    return g->schema ? match_schema(g, rec->line, e) : define_schema(g, rec->line, e);
}

/* ---- duplicates and covariates ---------------------------------------------------- */

static uint64_t key_hash(uint32_t p, int32_t day, int32_t session)
{
    uint64_t h = (uint64_t)p * 0x9E3779B97F4A7C15ULL;
    h ^= (uint64_t)(uint32_t)day * 0xC2B2AE3D27D4EB4FULL;
    h ^= (uint64_t)(uint32_t)session * 0x165667B19E3779F9ULL;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return h;
}

/* Slot holding the visit with this key, or the empty slot where it would go. */
static size_t dup_slot(const struct ingest *g, uint32_t p, int32_t day, int32_t session)
{
    uint64_t h = key_hash(p, day, session);
    uint32_t tag = (uint32_t)(h >> 32);
    size_t j = (size_t)h & (g->dup_cap - 1);
    for (;;) {
        const struct dup_entry *d = &g->dup[j];
        if (d->visit == UINT32_MAX)
            return j;
        if (d->hash == tag) {
            const struct visit *w = &g->ds->visit[d->visit];
            if (w->patient == p && w->day == day && w->session == session)
                return j;
        }
        j = (j + 1) & (g->dup_cap - 1);
    }
}

static void dup_store(struct ingest *g, size_t slot, size_t v)
{
    const struct visit *w = &g->ds->visit[v];
    g->dup_dirty = 1;
    g->dup[slot].visit = (uint32_t)v;
    g->dup[slot].hash = (uint32_t)(key_hash(w->patient, w->day, w->session) >> 32);
}

/* Probing for a numbered visit on a day stops here: sessions beyond it on the same day as an
 * unnumbered one go unnoticed (no real course has them). */
enum { SAME_DAY_PROBE_MAX = 512 };

/* A visit of patient p on day whose order against a new row with this session cannot be
 * told: one of the two has no session number (0) and the other has one. SIZE_MAX when there
 * is none. hashed: look in the duplicate table, else scan the current patient's visits. */
static size_t same_day_unordered(const struct ingest *g, uint32_t p, int32_t day,
                                 int32_t session, int hashed)
{
    if (g->c_session < 0)
        return SIZE_MAX;   /* no session column: every row unnumbered, duplicates by date */
    /* The usual file numbers every row or none: then no scan and no probe (a cache miss a
     * row in a large table). */
    if (session != 0 ? !g->any_unnumbered : g->max_session == 0)
        return SIZE_MAX;
    const struct dataset *ds = g->ds;
    if (!hashed) {
        for (size_t v = g->cur_first; v < ds->n_visits; v++)
            if (ds->visit[v].day == day && (ds->visit[v].session == 0) != (session == 0))
                return v;
        return SIZE_MAX;
    }
    if (!g->dup_cap)
        return SIZE_MAX;
    if (session != 0) {
        size_t slot = dup_slot(g, p, day, 0);
        return g->dup[slot].visit != UINT32_MAX ? g->dup[slot].visit : SIZE_MAX;
    }
    /* The earliest of them, as the scan finds (the message names it either way). */
    long top = g->max_session < SAME_DAY_PROBE_MAX ? g->max_session : SAME_DAY_PROBE_MAX;
    size_t first = SIZE_MAX;
    for (long s = 1; s <= top; s++) {
        size_t slot = dup_slot(g, p, day, (int32_t)s);
        if (g->dup[slot].visit != UINT32_MAX && g->dup[slot].visit < first)
            first = g->dup[slot].visit;
    }
    return first;
}

/* Room for `extra` more visits at a load factor under 1/2 (a wide row adds several). */
static int dup_reserve(struct ingest *g, size_t extra)
{
    if ((g->ds->n_visits + extra) * 2 < g->dup_cap)
        return 0;
    size_t ncap = g->dup_cap ? g->dup_cap * 2 : 64;   /* streaming: one patient, in cache */
    while ((g->ds->n_visits + extra) * 2 >= ncap)
        ncap *= 2;
    struct dup_entry *nd = malloc(ncap * sizeof *nd);
    if (!nd)
        return -1;
    memset(nd, 0xff, ncap * sizeof *nd);
    free(g->dup);
    g->dup = nd;
    g->dup_cap = ncap;
    for (size_t v = 0; v < g->ds->n_visits; v++) {
        const struct visit *w = &g->ds->visit[v];
        dup_store(g, dup_slot(g, w->patient, w->day, w->session), v);
    }
    return 0;
}

/* Size the table once for a file of `bytes` bytes (about 64 bytes a row; real files run
 * 60-100), so it does not double and rehash a dozen times while the file is read. Only a
 * hint: when the memory is not there, the table keeps growing on demand as before. */
static void dup_presize(struct ingest *g, size_t bytes)
{
    size_t est = bytes / 64;
    if (est > ((size_t)1 << 27))
        est = (size_t)1 << 27;
    if (est > 4096)
        (void)dup_reserve(g, est);
}

static int same_value(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

static int take_covariates(struct ingest *g, uint32_t p, int32_t day)
{
    struct dataset *ds = g->ds;
    if (!ds->n_cov)
        return 0;
    size_t need = ds->n_patients * ds->n_cov;
    if (need > g->cov_day_cap) {
        size_t ncap = g->cov_day_cap ? g->cov_day_cap : 1024;
        while (ncap < need)
            ncap *= 2;
        int32_t *nd = realloc(g->cov_day, ncap * sizeof *nd);
        if (!nd)
            return -1;
        g->cov_day = nd;
        g->cov_day_cap = ncap;
    }
    for (size_t i = 0; i < g->n_col; i++) {
        const struct column *c = &g->col[i];
        if (c->role != ROLE_COV)
            continue;
        /* Most rows are a known patient's later visits: nothing to take. */
        size_t k = (size_t)p * ds->n_cov + (size_t)c->idx;
        if ((ds->cov_value[k] != UINT32_MAX && day >= g->cov_day[k]) ||
            parse_is_missing(g->cell[i]))
            continue;
        long s = dataset_cov_intern(ds, g->cell[i]);
        if (s < 0)
            return -1;
        ds->cov_value[k] = (uint32_t)s;
        g->cov_day[k] = day;
    }
    return 0;
}

/* ---- rows ------------------------------------------------------------------------- */

static int parse_flag_cell(struct ingest *g, const struct csvread_record *rec, long c,
                           int missing_value, int *out)
{
    char buf[64];
    if (c < 0 || parse_is_missing(g->cell[c])) {
        *out = missing_value;
        return 0;
    }
    if (parse_flag(g->cell[c], out) == 0)
        return 0;
    reject(g, rec, REJ_BAD_FLAG, c + 1, "%s: '%s' is not yes/no (or 1/0, true/false)",
           g->col[c].name, shown(g->cell[c], buf));
    return -1;
}

/* The visit's day from the date (or relative-time) cell; rejects the row and returns -1
 * when it is not one. */
static int visit_day(struct ingest *g, const struct csvread_record *rec, const char *dstr,
                     int32_t *day)
{
    static const char *const month[12] = {"January", "February", "March", "April", "May",
                                          "June", "July", "August", "September", "October",
                                          "November", "December"};
    const char *dname = g->col[g->c_date].name;
    long dcol = g->c_date + 1;
    char buf[64];
    if (g->o->time_column[0]) {
        double t;
        /* 1e6 days bounds the product well inside int32 and past any real follow-up. */
        if (parse_decimal(dstr, '.', &t) || t < 0 || t * g->o->time_unit_days > 1e6) {
            reject(g, rec, REJ_BAD_DATE, dcol,
                   "%s: '%s' is not a time since start (a number >= 0)", dname,
                   shown(dstr, buf));
            return -1;
        }
        *day = (int32_t)lround(t * g->o->time_unit_days);
        return 0;
    }
    switch (civil_parse_iso(dstr, day)) {
    case CIVIL_OK:
        return 0;
    case CIVIL_FORMAT:
        reject(g, rec, REJ_BAD_DATE, dcol, "%s: '%s' is not a date in YYYY-MM-DD form", dname,
               shown(dstr, buf));
        return -1;
    case CIVIL_YEAR:
        reject(g, rec, REJ_BAD_DATE, dcol, "%s: '%s' is before %d", dname, dstr,
               CIVIL_MIN_YEAR);
        return -1;
    case CIVIL_MONTH:
        reject(g, rec, REJ_BAD_DATE, dcol, "%s: '%s' has no month %.2s", dname, dstr, dstr + 5);
        return -1;
    case CIVIL_DAY:
    default: {
        /* The format was checked, so these are digits. */
        int y = (int)strtol(dstr, NULL, 10), m = (int)strtol(dstr + 5, NULL, 10);
        reject(g, rec, REJ_BAD_DATE, dcol, "%s: '%s' is not a valid date (%s %d has %d days)",
               dname, dstr, month[m - 1], y, civil_days_in_month(y, m));
        return -1;
    }
    }
}

/* An id in a spreadsheet's scientific notation (1.23457E+11, 1E+05): the spreadsheet read
 * a long numeric id as a number and kept six digits, so the real id is gone and every
 * patient whose id rounds the same way would be merged into one. No id scheme writes "E+"
 * on purpose, so the form alone is enough: one digit 1-9, optionally '.' or ',' and digits,
 * 'E' or 'e', '+', one to three digits. */
static int id_in_sci_notation(const char *s)
{
    if (*s < '1' || *s > '9')
        return 0;
    s++;
    if (*s == '.' || *s == ',') {   /* ',' from a spreadsheet set to a decimal-comma locale */
        s++;
        if (*s < '0' || *s > '9')
            return 0;
        while (*s >= '0' && *s <= '9')
            s++;
    }
    if ((*s != 'E' && *s != 'e') || s[1] != '+')
        return 0;
    s += 2;
    size_t n = 0;
    while (n < 4 && s[n] >= '0' && s[n] <= '9')
        n++;
    return n >= 1 && n <= 3 && s[n] == '\0';
}

static void reject_sci_id(struct ingest *g, const struct csvread_record *rec, long c)
{
    char buf[64];
    reject(g, rec, REJ_MANGLED_ID, c + 1,
           "%s: '%s' is a number in a spreadsheet's scientific notation: the original id is "
           "lost (format the column as text before exporting)",
           g->col[c].name, shown(g->cell[c], buf));
}

/* The row's patient id (the id cell, or the composite key built in g->idbuf). Returns 0,
 * -1 when the row was rejected, or an error code. */
static int row_id(struct ingest *g, const struct csvread_record *rec, const char **idp,
                  struct out_error *e)
{
    const char *id = g->cell[g->c_id];
    if (g->o->n_key) {
        size_t need = 1;
        for (size_t k = 0; k < g->o->n_key; k++) {
            long c = g->c_key[k];
            if (parse_is_missing(g->cell[c])) {
                reject(g, rec, REJ_MISSING_ID, c + 1, "%s is missing (part of the patient key)",
                       g->col[c].name);
                return -1;
            }
            if (id_in_sci_notation(g->cell[c])) {
                reject_sci_id(g, rec, c);
                return -1;
            }
            /* Worst case: every byte escaped. */
            need += 2 * strlen(g->cell[c]) + 1;
        }
        if (need > g->idbuf_cap) {
            char *nb = realloc(g->idbuf, need);
            if (!nb)
                return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
            g->idbuf = nb;
            g->idbuf_cap = need;
        }
        /* A slash or backslash inside a part gets a backslash first, so the join is one-to-one:
         * unescaped, "A/B" + "C" and "A" + "B/C" would both be "A/B/C", one patient. */
        char *q = g->idbuf;
        for (size_t k = 0; k < g->o->n_key; k++) {
            if (k)
                *q++ = '/';
            for (const char *p = g->cell[g->c_key[k]]; *p; p++) {
                if (*p == '/' || *p == '\\')
                    *q++ = '\\';
                *q++ = *p;
            }
        }
        *q = '\0';
        id = g->idbuf;
        /* "N" and "A" make "N/A": read back from visits.csv it would be a missing id. */
        if (parse_is_missing(id)) {
            reject(g, rec, REJ_MISSING_ID, g->c_key[0] + 1,
                   "the patient key '%s' (its parts joined with '/') reads as a missing value",
                   id);
            return -1;
        }
    } else if (parse_is_missing(id)) {
        reject(g, rec, REJ_MISSING_ID, g->c_id + 1, "%s is missing", g->col[g->c_id].name);
        return -1;
    }
    *idp = id;
    return 0;
}

/* The row's day from its date (or relative-time) column: missing, invalid and future
 * dates reject the row and return -1. */
static int row_day(struct ingest *g, const struct csvread_record *rec, int32_t *day)
{
    const char *dstr = g->cell[g->c_date];
    const char *dname = g->col[g->c_date].name;
    long dcol = g->c_date + 1;
    char date[11];
    if (parse_is_missing(dstr)) {
        reject(g, rec, REJ_MISSING_DATE, dcol, "%s is missing", dname);
        return -1;
    }
    if (visit_day(g, rec, dstr, day))
        return -1;
    if (*day > g->o->today) {
        civil_format(g->o->today, date);
        reject(g, rec, REJ_FUTURE_DATE, dcol, "%s: '%s' is after the reference date %s", dname,
               dstr, date);
        return -1;
    }
    return 0;
}

/* Score cell i (not missing) as a number within [lo, hi]; rejects the row and returns -1
 * when it is not one. */
static int score_cell(struct ingest *g, const struct csvread_record *rec, size_t i, double lo,
                      double hi, double *v)
{
    const char *s = g->cell[i], *name = g->col[i].name;
    char buf[64];
    if (parse_decimal(s, g->o->decimal_comma ? ',' : '.', v)) {
        reject(g, rec, REJ_NONNUMERIC, (long)i + 1, "%s: '%s' is not a number%s", name,
               shown(s, buf),
               !g->o->decimal_comma && strchr(s, ',') ? " (decimal comma? see --decimal-comma)"
                                                      : "");
        return -1;
    }
    if (!(*v >= lo && *v <= hi)) {
        char a[32], b[32];
        fmt_num(a, sizeof a, lo);
        fmt_num(b, sizeof b, hi);
        reject(g, rec, REJ_RANGE, (long)i + 1, "%s: '%s' is outside %s\u2013%s", name,
               shown(s, buf), a, b);
        return -1;
    }
    return 0;
}

static void note_accepted(struct ingest *g)
{
    g->ds->rows_accepted++;
    g->ds->file[g->file].rows_accepted++;
}

static void note_day(struct input_file *f, int32_t day)
{
    if (f->first_day == INT32_MIN || day < f->first_day)
        f->first_day = day;
    if (f->last_day == INT32_MIN || day > f->last_day)
        f->last_day = day;
}

/* "line 12" or "other.csv:12": where an earlier visit came from. */
static void visit_where(const struct ingest *g, size_t v, char *where, size_t n)
{
    const struct visit *w = &g->ds->visit[v];
    if (w->file == g->file)
        snprintf(where, n, "line %lu", (unsigned long)w->line);
    else
        snprintf(where, n, "%s:%lu", g->ds->file[w->file].path, (unsigned long)w->line);
}

static void reject_conflict(struct ingest *g, const struct csvread_record *rec,
                            const char *where, long col, const char *name, double there,
                            double here)
{
    char a[32] = "empty", b[32] = "empty";
    if (!isnan(there))
        fmt_num(a, sizeof a, there);
    if (!isnan(here))
        fmt_num(b, sizeof b, here);
    reject(g, rec, REJ_DUP_CONFLICT, col,
           "same patient, date and session as %s but other values (%s %s there, %s here); the "
           "first is kept", where, name, a, b);
}

/* ---- streaming (o->patient_done) --------------------------------------------------- */

/* The per-patient work (the digest and patient_done, about a sixth of the reading at
 * a million patients) runs on a thread of its own when the input is read in the pipeline:
 * complete patients' visits are handed over a batch at a time by swapping the visit arrays
 * with a spare set (no copy), and the judging thread goes on with the next rows. Batches go
 * in order, one at a time, so the records and the digest come out as from one thread.
 * The worker's dataset is a snapshot of ds: the same instruments and counts, its own visit
 * arrays, and no patient ids (patient_id NULL): the judging thread adds ids meanwhile, so
 * the array may move. patient_done reads an id only to report a patient of more than 65535
 * visits; such a batch is done on the judging thread instead (see stream_flush). */
/* 32768 visits (about 1.3 MB of arrays, twice): at 10M rows, with 4096 the judging thread
 * often waited at a hand-over for a worker the scheduler had not run yet (ingest 2.4-3.5 s
 * against 2.2-2.6 s in alternating runs); 131072 gained nothing more. */
enum { STREAM_BATCH = 32768 };

struct flusher {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_t th;
    int busy;                  /* a batch is handed over and not done yet */
    int quit;
    struct dataset view;       /* the batch: its visit arrays are the worker's */
    const struct ingest_opts *o;
    int rc;                    /* the first failure, kept until the judge collects it */
    struct out_error e;
};

/* The digest and patient_done for the visits in ds (complete patients). */
static int flush_work(const struct ingest_opts *o, const struct dataset *ds, const char *path,
                      struct out_error *e)
{
    /* Even with no visits: the digest then still knows the instruments and patients. */
    if (digest_add(ds->digest, ds, 0, ds->n_visits))
        return out_err(e, OUT_EINTERNAL, path, 0, 0, "out of memory");
    return ds->n_visits ? o->patient_done(o->patient_done_ctx, ds, e) : 0;
}

static void *flusher_main(void *arg)
{
    struct flusher *fl = arg;
    pthread_mutex_lock(&fl->mu);
    for (;;) {
        while (!fl->busy && !fl->quit)
            pthread_cond_wait(&fl->cv, &fl->mu);
        if (!fl->busy)
            break;
        pthread_mutex_unlock(&fl->mu);
        struct out_error e = {0};
        int rc = fl->rc ? 0 : flush_work(fl->o, &fl->view, NULL, &e);
        pthread_mutex_lock(&fl->mu);
        if (rc && !fl->rc) {
            fl->rc = rc;
            fl->e = e;
        }
        fl->busy = 0;
        pthread_cond_broadcast(&fl->cv);
    }
    pthread_mutex_unlock(&fl->mu);
    return NULL;
}

/* Start the worker; NULL when it cannot be (the judging thread then does the work). */
static struct flusher *flusher_start(const struct ingest_opts *o)
{
    struct flusher *fl = calloc(1, sizeof *fl);
    if (!fl)
        return NULL;
    fl->o = o;
    dataset_init(&fl->view);
    if (pthread_mutex_init(&fl->mu, NULL)) {
        free(fl);
        return NULL;
    }
    if (pthread_cond_init(&fl->cv, NULL)) {
        pthread_mutex_destroy(&fl->mu);
        free(fl);
        return NULL;
    }
    if (pthread_create(&fl->th, NULL, flusher_main, fl)) {
        pthread_cond_destroy(&fl->cv);
        pthread_mutex_destroy(&fl->mu);
        free(fl);
        return NULL;
    }
    return fl;
}

/* Wait until the worker is idle. Returns its first failure (copied to *e) or 0. */
static int flusher_wait(struct flusher *fl, struct out_error *e)
{
    pthread_mutex_lock(&fl->mu);
    while (fl->busy)
        pthread_cond_wait(&fl->cv, &fl->mu);
    int rc = fl->rc;
    if (rc && e)
        *e = fl->e;
    pthread_mutex_unlock(&fl->mu);
    return rc;
}

/* Stop and free the worker (after its last batch). Returns its first failure or 0. */
static int flusher_stop(struct flusher *fl, struct out_error *e)
{
    if (!fl)
        return 0;
    int rc = flusher_wait(fl, e);
    pthread_mutex_lock(&fl->mu);
    fl->quit = 1;
    pthread_cond_broadcast(&fl->cv);
    pthread_mutex_unlock(&fl->mu);
    pthread_join(fl->th, NULL);
    free(fl->view.visit);
    free(fl->view.score);
    free(fl->view.pain_post);
    free(fl->view.episode);
    pthread_cond_destroy(&fl->cv);
    pthread_mutex_destroy(&fl->mu);
    free(fl);
    return rc;
}

/* The most visits any one patient has in ds (a patient's visits are together there). */
static size_t longest_patient(const struct dataset *ds)
{
    size_t best = 0, run = 0;
    for (size_t v = 0; v < ds->n_visits; v++) {
        run = v && ds->visit[v].patient == ds->visit[v - 1].patient ? run + 1 : 1;
        best = run > best ? run : best;
    }
    return best;
}

/* Hand ds's visits to the worker: its spare arrays (shaped as ds's) become ds's. */
static int flusher_hand(struct flusher *fl, struct dataset *ds, struct out_error *e)
{
    struct dataset *v = &fl->view;
    if ((ds->pain_post && !v->pain_post && dataset_enable_pain_post(v)) ||
        (ds->episode && !v->episode && dataset_enable_episode(v)))
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    struct visit *sv = v->visit;
    double *ss = v->score, *sp = v->pain_post;
    uint16_t *se = v->episode;
    size_t scap = v->cap_visits;
    /* The snapshot: every scalar and table of ds as it is now, the visits ds holds, no ids. */
    *v = *ds;
    v->patient_id = NULL;
    v->pid_hash = NULL;
    v->pid_hash_cap = 0;
    ds->visit = sv;
    ds->score = ss;
    ds->pain_post = sp;
    ds->episode = se;
    ds->cap_visits = scap;
    ds->visits_streamed += (long)ds->n_visits;
    ds->n_visits = 0;
    pthread_mutex_lock(&fl->mu);
    fl->busy = 1;
    pthread_cond_broadcast(&fl->cv);
    pthread_mutex_unlock(&fl->mu);
    return 0;
}

/* Every visit in ds is of a complete patient: empty the duplicate table, which indexes
 * only them, and digest them, pass them on and drop them, here or on the worker. */
static int stream_flush(struct ingest *g, struct out_error *e)
{
    struct dataset *ds = g->ds;
    /* Latest first: under linear probing, removing keys in reverse order of insertion never
     * cuts the probe chain of a key still in the table (the rehash re-inserts in order). A
     * visit that was never stored finds an empty slot, and leaves it empty. */
    if (g->dup_dirty) {
        for (size_t v = ds->n_visits; v-- > 0;) {
            const struct visit *w = &ds->visit[v];
            g->dup[dup_slot(g, w->patient, w->day, w->session)].visit = UINT32_MAX;
        }
        g->dup_dirty = 0;
    }
    g->last_p = 0;
    g->cur_first = 0;
    g->cur_hashed = 0;
    int rc;
    if (g->fl) {
        if ((rc = flusher_wait(g->fl, e)))
            return rc;
        if (longest_patient(ds) <= UINT16_MAX)
            return flusher_hand(g->fl, ds, e);
        /* The worker is idle: this batch, whose error message needs an id, is done here. */
    }
    if ((rc = flush_work(g->o, ds, g->path, e)))
        return rc;
    dataset_drop_visits(ds);
    return 0;
}

/* The patient of a row about to be accepted, interned; when streaming, a new patient first
 * completes the ones before it, and a complete one coming back stops the stream. Returns 0,
 * or an error code (*e filled). */
static int row_patient(struct ingest *g, const struct csvread_record *rec, const char *id,
                       long *pp, struct out_error *e)
{
    struct dataset *ds = g->ds;
    size_t known = ds->n_patients;
    long p = dataset_patient(ds, id);
    if (p < 0)
        return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
    *pp = p;
    if (!g->o->patient_done)
        return 0;
    if ((size_t)p >= known) {
        size_t batch = g->o->stream_batch ? g->o->stream_batch : STREAM_BATCH;
        return g->fl && ds->n_visits < batch ? 0 : stream_flush(g, e);
    }
    if (ds->n_visits && ds->visit[ds->n_visits - 1].patient == (uint32_t)p)
        return 0;
    return out_err(e, INGEST_UNGROUPED, g->path, rec->line, 0,
                   "patient '%s' comes back after other patients: the input is not grouped "
                   "by patient", id);
}

/* One wide row (cells trimmed, id known): up to n_tp visits, all or none. */
static int row_wide(struct ingest *g, const struct csvread_record *rec, const char *id,
                    struct out_error *e)
{
    struct dataset *ds = g->ds;
    struct input_file *f = &ds->file[g->file];
    size_t ni = ds->n_instr, ntp = g->n_tp;
    int32_t base = 0;   /* the synthetic baseline 1970-01-01 unless a date column is named */
    if (g->c_date >= 0 && row_day(g, rec, &base))
        return 0;
    double *ws = g->wscore;
    long first_col[INGEST_WIDE_MAX];   /* first scored file column per time point, or -1 */
    for (size_t t = 0; t < ntp; t++)
        first_col[t] = -1;
    for (size_t k = 0; k < ntp * ni; k++)
        ws[k] = NAN;
    size_t present = 0;
    for (size_t i = 0; i < g->n_col; i++) {
        const struct column *c = &g->col[i];
        if (c->role != ROLE_WIDE || parse_is_missing(g->cell[i]))
            continue;   /* an empty score cell is a missed visit, not an error */
        const struct instrument *in = ds->instr[g->w_instr[c->idx]];
        double v;
        if (score_cell(g, rec, i, in->min, in->max, &v))
            return 0;
        size_t t = (size_t)g->w_tp[c->idx];
        ws[t * ni + (size_t)g->w_instr[c->idx]] = v;
        if (first_col[t] < 0)
            first_col[t] = (long)i;
        present++;
    }
    if (!present) {
        reject(g, rec, REJ_NO_SCORES, 0, "no score at any time point on this row");
        return 0;
    }
    for (size_t t = 0; t < ntp; t++) {
        if (first_col[t] < 0 || base + g->tp_day[t] <= g->o->today)
            continue;
        const struct column *c = &g->col[first_col[t]];
        char when[11], today[11];
        civil_format(base + g->tp_day[t], when);
        civil_format(g->o->today, today);
        reject(g, rec, REJ_FUTURE_DATE, first_col[t] + 1,
               "%s: %s after %s is %s, after the reference date %s", c->name,
               g->o->wide[c->idx].when,
               g->c_date >= 0 ? g->col[g->c_date].name : "the synthetic baseline", when, today);
        return 0;
    }

    long p;
    int rc = row_patient(g, rec, id, &p, e);
    if (rc)
        return rc;
    if (dup_reserve(g, ntp))
        return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
    uint32_t there[INGEST_WIDE_MAX];   /* earlier visit at each time point, or UINT32_MAX */
    long hit = -1;
    for (size_t t = 0; t < ntp; t++) {
        size_t slot = dup_slot(g, (uint32_t)p, base + g->tp_day[t], (int32_t)t + 1);
        there[t] = g->dup[slot].visit;
        if (first_col[t] >= 0 && there[t] != UINT32_MAX && hit < 0)
            hit = there[t];
    }
    if (hit >= 0) {
        /* A row that repeats the patient's visits: exact when every score cell says what is
         * already there (no visit there = empty), else the first column that differs. */
        char where[300];
        visit_where(g, (size_t)hit, where, sizeof where);
        for (size_t i = 0; i < g->n_col; i++) {
            const struct column *c = &g->col[i];
            if (c->role != ROLE_WIDE)
                continue;
            size_t t = (size_t)g->w_tp[c->idx], k = (size_t)g->w_instr[c->idx];
            double a = there[t] == UINT32_MAX ? (double)NAN : ds->score[there[t] * ni + k];
            if (!same_value(a, ws[t * ni + k])) {
                reject_conflict(g, rec, where, (long)i + 1, c->name, a, ws[t * ni + k]);
                return 0;
            }
        }
        reject(g, rec, REJ_DUP_EXACT, 0,
               "repeats %s (same patient, time points and values)", where);
        return 0;
    }
    int32_t first_day = INT32_MIN;
    for (size_t t = 0; t < ntp; t++) {
        if (first_col[t] < 0)
            continue;
        int32_t day = base + g->tp_day[t];
        struct visit v = {
            .patient = (uint32_t)p,
            .day = day,
            .session = (int32_t)t + 1,
            .line = rec->line > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)rec->line,
            .file = (uint16_t)g->file,
            .adverse = -1,
            .baseline = (uint8_t)(g->tp_day[t] == 0),   /* the spec's baseline time point */
        };
        /* The slot is looked up again: the previous insert may have taken it. */
        size_t slot = dup_slot(g, v.patient, day, v.session);
        long vi = dataset_add_visit(ds, &v, ws + t * ni, NAN);
        if (vi < 0)
            return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
        dup_store(g, slot, (size_t)vi);
        note_day(f, day);
        if (first_day == INT32_MIN)
            first_day = day;
    }
    if (take_covariates(g, (uint32_t)p, first_day))
        return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
    note_accepted(g);
    return 0;
}

static int row(struct ingest *g, const struct csvread_record *rec, struct out_error *e)
{
    struct dataset *ds = g->ds;
    struct input_file *f = &ds->file[g->file];
    char buf[64];
    size_t i;
    /* Trim every field once (quoted fields keep their blanks through csvread), with the
     * lengths csvread gives; cells are used only when the count matches the header. A
     * record csvread says is trimmed (no quotes) is taken as it is. */
    int blank = 1;
    if (rec->trimmed) {
        size_t nc = rec->n < g->n_col ? rec->n : g->n_col;
        for (i = 0; i < nc; i++)
            g->cell[i] = rec->field[i];
        for (i = 0; i < rec->n && blank; i++)
            blank = rec->len[i] == 0;
    }
    for (i = 0; i < rec->n && !rec->trimmed; i++) {
        char *c = rec->field[i];
        size_t n = rec->len[i];
        while (n && (c[n - 1] == ' ' || c[n - 1] == '\t'))
            c[--n] = '\0';
        while (*c == ' ' || *c == '\t')
            c++;
        blank &= *c == '\0';
        if (i < g->n_col)
            g->cell[i] = c;
    }
    if (blank)
        return 0;   /* ",,,," padding carries nothing: a blank line, not a row */
    ds->rows_read++;
    f->rows_read++;
    if (rec->n != g->n_col) {
        reject(g, rec, REJ_FIELD_COUNT, 0, "expected %zu fields as in the header, found %zu",
               g->n_col, rec->n);
        return 0;
    }

    const char *id = NULL;
    int rc = row_id(g, rec, &id, e);
    if (rc)
        return rc < 0 ? 0 : rc;
    /* A row of the previous row's patient (the usual case) needs no look-up. Streaming, a
     * new patient's id slot (a cache miss in a large index) is fetched now, while the
     * cells are parsed; a new patient comes every few rows there, and the look-ahead
     * prefetch_next makes for shuffled input would cost more than it saves. */
    int same = g->last_p && strcmp(ds->patient_id[g->last_p - 1], id) == 0;
    /* The previous row's id was accepted, so only a new one needs this look. */
    if (!same && !g->o->n_key && id_in_sci_notation(id)) {
        reject_sci_id(g, rec, g->c_id);
        return 0;
    }
    if (!same && g->o->patient_done)
        dataset_prefetch_patient(ds, id, strlen(id));
    if (g->o->n_wide)
        return row_wide(g, rec, id, e);
    int32_t day = 0;
    if (row_day(g, rec, &day))
        return 0;
    long session = 0;
    if (g->c_session >= 0 && !parse_is_missing(g->cell[g->c_session]) &&
        parse_count(g->cell[g->c_session], SESSION_MAX, &session)) {
        reject(g, rec, REJ_BAD_SESSION, g->c_session + 1,
               "%s: '%s' is not a whole number from 1 to %d", g->col[g->c_session].name,
               shown(g->cell[g->c_session], buf), SESSION_MAX);
        return 0;
    }
    long episode = 0;   /* an empty cell continues the visit's episode (see patient.c) */
    if (g->c_ep >= 0 && !parse_is_missing(g->cell[g->c_ep]) &&
        parse_count(g->cell[g->c_ep], UINT16_MAX, &episode)) {
        reject(g, rec, REJ_BAD_EPISODE, g->c_ep + 1,
               "%s: '%s' is not a whole number from 1 to %d", g->col[g->c_ep].name,
               shown(g->cell[g->c_ep], buf), UINT16_MAX);
        return 0;
    }

    /* The patient, when it is the previous row's: then the duplicate table's slot (a cache
     * miss in a large table) is fetched while the scores are parsed. */
    long p = -1;
    if (same) {
        p = (long)g->last_p - 1;
#if defined(__GNUC__)
        if (g->dup_cap && !g->o->patient_done)
            __builtin_prefetch(&g->dup[(size_t)key_hash((uint32_t)p, day, (int32_t)session) &
                                       (g->dup_cap - 1)]);
#endif
    }
    double score[INSTRUMENT_MAX];
    size_t present = 0;
    for (size_t k = 0; k < ds->n_instr; k++)
        score[k] = NAN;
    double pp = NAN;
    for (i = 0; i < g->n_col; i++) {
        const struct column *c = &g->col[i];
        if (c->role != ROLE_INSTR && c->role != ROLE_PAIN_POST)
            continue;
        if (parse_is_missing(g->cell[i]))
            continue;
        const struct instrument *in = c->role == ROLE_INSTR ? ds->instr[c->idx] : NULL;
        double v;
        if (score_cell(g, rec, i, in ? in->min : g->pp_min, in ? in->max : g->pp_max, &v))
            return 0;
        if (in) {
            score[c->idx] = v;
            present++;
        } else {
            pp = v;
        }
    }
    int adverse, base;
    if (parse_flag_cell(g, rec, g->c_ae, -1, &adverse) ||
        parse_flag_cell(g, rec, g->c_bl, 0, &base))
        return 0;
    if (!present) {
        reject(g, rec, REJ_NO_SCORES, 0, "no instrument score on this row");
        return 0;
    }

    if (p < 0 && (rc = row_patient(g, rec, id, &p, e)))
        return rc;
    /* An earlier visit with this key (patient, date, session): through the duplicate table,
     * or, streaming, by a scan of the current patient's visits (at most DUP_SCAN_MAX). */
    size_t dv = SIZE_MAX, slot = 0;
    int hashed = 1;
    if (g->o->patient_done) {
        hashed = 0;
        if (!ds->n_visits || ds->visit[ds->n_visits - 1].patient != (uint32_t)p) {
            g->cur_first = ds->n_visits;   /* p's first visit: nothing to repeat */
            g->cur_hashed = 0;
        } else if (!g->cur_hashed && ds->n_visits - g->cur_first < DUP_SCAN_MAX) {
            for (size_t v = g->cur_first; v < ds->n_visits && dv == SIZE_MAX; v++)
                if (ds->visit[v].day == day && ds->visit[v].session == (int32_t)session)
                    dv = v;
        } else {
            hashed = 1;
            if (!g->cur_hashed) {
                if (dup_reserve(g, 1))
                    return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
                for (size_t v = g->cur_first; v < ds->n_visits; v++) {
                    const struct visit *w = &ds->visit[v];
                    dup_store(g, dup_slot(g, w->patient, w->day, w->session), v);
                }
                g->cur_hashed = 1;
            }
        }
    }
    if (hashed) {
        if (dup_reserve(g, 1))
            return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
        slot = dup_slot(g, (uint32_t)p, day, (int32_t)session);
        if (g->dup[slot].visit != UINT32_MAX)
            dv = g->dup[slot].visit;
    }
    if (dv != SIZE_MAX) {
        size_t v = dv;
        const struct visit *w = &ds->visit[v];
        char where[300];
        visit_where(g, v, where, sizeof where);
        long diff_col = 0;
        const char *diff_name = NULL;
        double there = NAN, here = NAN;
        for (i = 0; i < g->n_col && !diff_name; i++) {
            const struct column *c = &g->col[i];
            if (c->role == ROLE_INSTR && !same_value(ds->score[v * ds->n_instr + (size_t)c->idx],
                                                     score[c->idx])) {
                there = ds->score[v * ds->n_instr + (size_t)c->idx];
                here = score[c->idx];
            } else if (c->role == ROLE_PAIN_POST && !same_value(ds->pain_post[v], pp)) {
                there = ds->pain_post[v];
                here = pp;
            } else if (c->role == ROLE_ADVERSE && w->adverse != adverse) {
                there = w->adverse < 0 ? (double)NAN : (double)w->adverse;
                here = adverse < 0 ? (double)NAN : (double)adverse;
            } else if (c->role == ROLE_BASELINE && w->baseline != base) {
                there = w->baseline;
                here = base;
            } else {
                continue;
            }
            diff_col = (long)i + 1;
            diff_name = c->name;
        }
        if (!diff_name)
            reject(g, rec, REJ_DUP_EXACT, 0,
                   "repeats %s (same patient, date, session and values)", where);
        else
            reject_conflict(g, rec, where, diff_col, diff_name, there, here);
        return 0;
    }
    /* Two visits on one day are ordered by their session numbers; with one of them
     * unnumbered there is no order, and the baseline could be either (a 50% improvement
     * read as -100%). */
    size_t uv = same_day_unordered(g, (uint32_t)p, day, (int32_t)session, hashed);
    if (uv != SIZE_MAX) {
        char where[300];
        visit_where(g, uv, where, sizeof where);
        reject(g, rec, REJ_DUP_CONFLICT, session ? g->c_session + 1 : 0,
               "same patient and date as %s, and %s has no session number: two visits on "
               "one day need both numbered to be put in order; the first is kept", where,
               session ? "that row" : "this one");
        return 0;
    }
    if (session > g->max_session)
        g->max_session = session;
    if (!session)
        g->any_unnumbered = 1;
    struct visit v = {
        .patient = (uint32_t)p,
        .day = day,
        .session = (int32_t)session,
        .line = rec->line > (long)UINT32_MAX ? UINT32_MAX : (uint32_t)rec->line,
        .file = (uint16_t)g->file,
        .adverse = (int8_t)adverse,
        .baseline = (uint8_t)base,
    };
    long vi = dataset_add_visit(ds, &v, score, pp);
    if (vi < 0 || take_covariates(g, (uint32_t)p, day))
        return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
    if (ds->episode)
        ds->episode[vi] = (uint16_t)episode;
    if (hashed)
        dup_store(g, slot, (size_t)vi);
    g->last_p = (size_t)p + 1;
    note_accepted(g);
    note_day(f, day);
    return 0;
}

static int on_record(void *ctx, const struct csvread_record *rec, struct out_error *e)
{
    struct ingest *g = ctx;
    return g->header_done ? row(g, rec, e) : header(g, rec, e);
}

/* ---- files ------------------------------------------------------------------------ */

/* ---- reading: one thread, or two in a pipeline ------------------------------------ */

/* Where the bytes come from: a stream read in chunks, or a buffer handed out in chunks. */
struct source {
    FILE *fp;
    const unsigned char *data;
    size_t len, pos, csize;
    unsigned char *chunk;
    const char *path;
    struct sha256 sha;
    size_t total;              /* bytes handed out (and hashed) so far */
};

/* The next chunk in *buf, *n bytes; *n == 0 at the end. Returns 0 or OUT_EIO. */
static int source_next(struct source *s, const unsigned char **buf, size_t *n,
                       struct out_error *e)
{
    if (s->fp) {
        *n = fread(s->chunk, 1, s->csize, s->fp);
        if (*n < s->csize && ferror(s->fp))
            return out_err(e, OUT_EIO, s->path, 0, 0, "read error: %s", strerror(errno));
        *buf = s->chunk;
    } else {
        /* Test before forming data + pos: data may be NULL when len is 0. */
        *n = s->pos >= s->len ? 0 : s->len - s->pos < s->csize ? s->len - s->pos : s->csize;
        *buf = *n ? s->data + s->pos : NULL;
        s->pos += *n;
    }
    if (*n) {
        sha256_update(&s->sha, *buf, *n);
        s->total += *n;
    }
    return 0;
}

static void progress_at(struct ingest *g, unsigned long long read)
{
    g->prog_read = read;
    if (g->o->progress && g->prog_read - g->prog_last >= INGEST_PROGRESS_BYTES) {
        struct ingest_progress pr = {g->path, g->prog_read, g->prog_total, g->ds->rows_read, 0};
        g->prog_last = g->prog_read;
        g->o->progress(g->o->progress_user, &pr);
    }
}

/* The plain loop: read, hash and parse on this thread, judging each record as it comes. */
static int read_serial(struct ingest *g, struct csvread *r, struct source *src,
                       struct out_error *e)
{
    unsigned long long base = g->prog_read;
    for (;;) {
        const unsigned char *buf;
        size_t n;
        int rc = source_next(src, &buf, &n, e);
        if (rc)
            return rc;
        if (!n)
            break;
        if ((rc = csvread_feed(r, buf, n, e)))
            return rc;
        progress_at(g, base + src->total);
    }
    return csvread_finish(r, e);
}

/* The pipeline: a second thread reads, hashes and splits the input into records (csvread,
 * about half the work), and hands them over in batches; this thread judges them in order
 * and alone touches the dataset and the rejects file, so the result is the serial one to
 * the byte. A record goes into a batch in one of two forms, after a header of
 *   line, raw_len, n_fields, kind (a long, then size_t each):
 *   BREC_FIELDS, a csvread record: span, trimmed (size_t), raw bytes + NUL, n_fields
 *     offsets and n_fields lengths (size_t), span bytes holding the fields (each + NUL) at
 *     their offsets;
 *   BREC_PLAIN, a plain line (csvread_plain_fn): raw bytes + NUL, then the n_fields - 1
 *     delimiters' offsets (size_t); the judge cuts a copy of the line into fields, so the
 *     reader copies the line once and never splits it.
 * (read back with memcpy, so nothing needs aligning). A ring of PIPE_SLOTS batches bounds
 * the memory to a few MiB whatever the input. Errors keep their byte order: the reader's
 * (read error, bad UTF-8, a broken quote) travels behind the records before it, and a
 * judging error (out of memory, a bad header) stops the reader. */
/* 1 MiB batches: with 256 KiB ones the hand-overs (a thread woken each time, costly in a
 * virtual machine) took about a tenth of the reading time at 10M rows; 4 MiB gained
 * nothing more. */
enum { BREC_FIELDS, BREC_PLAIN };
enum { PIPE_SLOTS = 4, BATCH_BYTES = 1 << 20 };

struct batch {
    char *buf;
    size_t len, cap, n_rec;
    unsigned long long fed;    /* input bytes read when the batch was handed over */
    int full;                  /* 1: ready for the judge; 0: free for the reader */
    int last;                  /* the reader's final batch: rc, e and line below apply */
};

struct pipeline {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    struct batch slot[PIPE_SLOTS];
    size_t fill;               /* the slot the reader is filling */
    int stop;                  /* set by the judge: stop reading */
    struct csvread *r;
    struct source *src;
    size_t batch_bytes;        /* hand a batch over once it holds this much */
    int rc;                    /* the reader's result, valid once the last batch is full */
    struct out_error e;
};

/* Room for n more bytes in b; returns the place to write them, or NULL (out of memory). */
static char *batch_reserve(struct batch *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t ncap = b->cap ? b->cap : BATCH_BYTES + 4096;
        while (ncap < b->len + n)
            ncap *= 2;
        char *nb = realloc(b->buf, ncap);
        if (!nb)
            return NULL;
        b->buf = nb;
        b->cap = ncap;
    }
    char *w = b->buf + b->len;
    b->len += n;
    return w;
}

/* Hand the slot being filled to the judge and wait for the next one to be free. Returns
 * 1 when the judge has asked to stop. */
static int pipe_handover(struct pipeline *pl, int last)
{
    pthread_mutex_lock(&pl->mu);
    struct batch *b = &pl->slot[pl->fill];
    b->fed = pl->src->total;
    b->last = last;
    b->full = 1;
    pthread_cond_broadcast(&pl->cv);
    if (!last) {
        pl->fill = (pl->fill + 1) % PIPE_SLOTS;
        while (pl->slot[pl->fill].full && !pl->stop)
            pthread_cond_wait(&pl->cv, &pl->mu);
    }
    int stop = pl->stop;
    pthread_mutex_unlock(&pl->mu);
    return stop;
}

/* A record has been added to the current batch: hand it over when it is full. */
static int batch_added(struct pipeline *pl, struct batch *b)
{
    b->n_rec++;
    if (b->len >= pl->batch_bytes && pipe_handover(pl, 0))
        return OUT_EINTERNAL;   /* stopped by the judge, whose own error is what counts */
    return 0;
}

/* The header every form of record starts with; returns where the rest goes. */
static char *brec_header(char *w, long line, size_t raw_len, size_t nf, size_t kind)
{
    memcpy(w, &line, sizeof line);
    w += sizeof line;
    memcpy(w, &raw_len, sizeof raw_len);
    w += sizeof raw_len;
    memcpy(w, &nf, sizeof nf);
    w += sizeof nf;
    memcpy(w, &kind, sizeof kind);
    return w + sizeof kind;
}

enum { BREC_HEADER = sizeof(long) + 3 * sizeof(size_t) };

/* csvread's callback on the reader's side: copy the record into the current batch. */
static int pipe_enqueue(void *ctx, const struct csvread_record *rec, struct out_error *e)
{
    struct pipeline *pl = ctx;
    struct batch *b = &pl->slot[pl->fill];   /* only the reader changes fill */
    size_t raw_len = rec->raw_len, nf = rec->n, trimmed = (size_t)rec->trimmed;
    /* The fields lie in order in one buffer (csvread.h), perhaps with trimmed blanks
     * between them: they go as one block with offsets into it, one copy a record (the
     * calls, not the bytes, were the cost of copying field by field). */
    size_t span = nf ? (size_t)(rec->field[nf - 1] - rec->field[0]) + rec->len[nf - 1] + 1 : 0;
    size_t need = BREC_HEADER + 2 * sizeof nf + raw_len + 1 + 2 * nf * sizeof *rec->len + span;
    char *w = batch_reserve(b, need);   /* one reservation, then plain copies */
    if (!w)
        return out_err(e, OUT_EINTERNAL, pl->src->path, rec->line, 0, "out of memory");
    w = brec_header(w, rec->line, raw_len, nf, BREC_FIELDS);
    memcpy(w, &span, sizeof span);
    w += sizeof span;
    memcpy(w, &trimmed, sizeof trimmed);
    w += sizeof trimmed;
    memcpy(w, rec->raw, raw_len + 1);
    w += raw_len + 1;
    for (size_t i = 0; i < nf; i++) {
        size_t off = (size_t)(rec->field[i] - rec->field[0]);
        memcpy(w + i * sizeof off, &off, sizeof off);
    }
    w += nf * sizeof *rec->len;
    memcpy(w, rec->len, nf * sizeof *rec->len);
    w += nf * sizeof *rec->len;
    if (span)
        memcpy(w, rec->field[0], span);
    return batch_added(pl, b);
}

/* csvread's plain callback on the reader's side: the line and its delimiters' offsets. */
static int pipe_plain(void *ctx, const char *raw, size_t raw_len, const size_t *delim,
                      size_t nd, long line, struct out_error *e)
{
    struct pipeline *pl = ctx;
    struct batch *b = &pl->slot[pl->fill];
    char *w = batch_reserve(b, BREC_HEADER + raw_len + 1 + nd * sizeof *delim);
    if (!w)
        return out_err(e, OUT_EINTERNAL, pl->src->path, line, 0, "out of memory");
    w = brec_header(w, line, raw_len, nd + 1, BREC_PLAIN);
    memcpy(w, raw, raw_len);
    w[raw_len] = '\0';
    if (nd)   /* (delim may be NULL then) */
        memcpy(w + raw_len + 1, delim, nd * sizeof *delim);
    return batch_added(pl, b);
}

static void *pipe_reader(void *arg)
{
    struct pipeline *pl = arg;
    int rc = 0;
    for (;;) {
        const unsigned char *buf;
        size_t n;
        pthread_mutex_lock(&pl->mu);
        int stop = pl->stop;
        pthread_mutex_unlock(&pl->mu);
        if (stop)
            return NULL;   /* the judge no longer reads batches; it joins us */
        if ((rc = source_next(pl->src, &buf, &n, &pl->e)) || !n)
            break;
        if ((rc = csvread_feed(pl->r, buf, n, &pl->e)))
            break;
    }
    if (!rc)
        rc = csvread_finish(pl->r, &pl->e);
    pl->rc = rc;
    pipe_handover(pl, 1);
    return NULL;
}

/* A record in a batch, as pipe_enqueue or pipe_plain laid it out (read with memcpy:
 * nothing aligned). */
struct brec {
    long line;
    size_t raw_len, nf, kind, span, trimmed;
    char *raw;                 /* raw_len bytes + NUL */
    const char *offs, *lens;   /* BREC_FIELDS: nf size_t each */
    char *fields;              /* BREC_FIELDS: span bytes; field i at fields + offs[i] */
    const char *delim;         /* BREC_PLAIN: nf - 1 size_t */
    char *next;                /* the next record */
};

static void brec_at(char *p, struct brec *r)
{
    memcpy(&r->line, p, sizeof r->line);
    p += sizeof r->line;
    memcpy(&r->raw_len, p, sizeof r->raw_len);
    p += sizeof r->raw_len;
    memcpy(&r->nf, p, sizeof r->nf);
    p += sizeof r->nf;
    memcpy(&r->kind, p, sizeof r->kind);
    p += sizeof r->kind;
    if (r->kind == BREC_PLAIN) {
        r->raw = p;
        r->delim = p + r->raw_len + 1;
        r->next = p + r->raw_len + 1 + (r->nf - 1) * sizeof(size_t);
        return;
    }
    memcpy(&r->span, p, sizeof r->span);
    p += sizeof r->span;
    memcpy(&r->trimmed, p, sizeof r->trimmed);
    p += sizeof r->trimmed;
    r->raw = p;
    p += r->raw_len + 1;
    r->offs = p;
    p += r->nf * sizeof(size_t);
    r->lens = p;
    p += r->nf * sizeof(size_t);
    r->fields = p;
    r->next = p + r->span;
}

/* The judge's reusable buffers: a record's field pointers and lengths, and the copy of a
 * plain line that is cut into its fields (its raw bytes stay whole for the rejects file). */
struct judge_buf {
    char **fieldv;
    size_t *lenv, cap;
    char *cut;
    size_t cut_cap;
};

/* The record after rec (at p in the batch), when it is of another patient: its slot of the
 * id index (a cache miss in a large table, on almost every row of shuffled input) is
 * fetched while rec is judged. Not when streaming: see row(). */
static void prefetch_next(const struct ingest *g, const struct csvread_record *rec, char *p)
{
    size_t c = (size_t)g->c_id;
    if (!g->header_done || g->o->n_key || g->o->patient_done || g->c_id < 0 || c >= rec->n)
        return;
    struct brec nx;
    brec_at(p, &nx);
    if (c >= nx.nf)
        return;
    const char *id;
    size_t len;
    if (nx.kind == BREC_PLAIN) {
        size_t from = 0, to = nx.raw_len;
        if (c > 0) {
            memcpy(&from, nx.delim + (c - 1) * sizeof from, sizeof from);
            from++;   /* past the delimiter */
        }
        if (c + 1 < nx.nf)
            memcpy(&to, nx.delim + c * sizeof to, sizeof to);
        id = nx.raw + from;
        len = to - from;
    } else {
        size_t off;
        memcpy(&off, nx.offs + c * sizeof off, sizeof off);
        memcpy(&len, nx.lens + c * sizeof len, sizeof len);
        id = nx.fields + off;
    }
    if (len != rec->len[c] || memcmp(id, rec->field[c], len) != 0)
        dataset_prefetch_patient(g->ds, id, len);
}

/* Judge every record of a full batch. Returns 0 or the first error (*e set). */
static int judge_batch(struct ingest *g, struct batch *b, struct judge_buf *jb,
                       struct out_error *e)
{
    char *p = b->buf;   /* the batch is ours to modify, as csvread's fields are */
    for (size_t k = 0; k < b->n_rec; k++) {
        struct brec r = {0};
        brec_at(p, &r);
        p = r.next;
        if (r.nf > jb->cap || (r.kind == BREC_PLAIN && r.raw_len >= jb->cut_cap)) {
            size_t nf = r.nf > jb->cap ? r.nf : jb->cap;
            size_t cc = r.raw_len >= jb->cut_cap ? 2 * r.raw_len + 64 : jb->cut_cap;
            char **nfv = realloc(jb->fieldv, nf * sizeof *nfv);
            if (nfv)
                jb->fieldv = nfv;
            size_t *nlv = realloc(jb->lenv, nf * sizeof *nlv);
            if (nlv)
                jb->lenv = nlv;
            char *nc = realloc(jb->cut, cc);
            if (nc)
                jb->cut = nc;
            if (!nfv || !nlv || !nc)
                return out_err(e, OUT_EINTERNAL, g->path, r.line, 0, "out of memory");
            jb->cap = nf;
            jb->cut_cap = cc;
        }
        struct csvread_record rec = {.n = r.nf, .field = jb->fieldv, .len = jb->lenv,
                                     .line = r.line, .raw = r.raw, .raw_len = r.raw_len};
        if (r.kind == BREC_PLAIN) {
            char *c = jb->cut;
            memcpy(c, r.raw, r.raw_len + 1);
            size_t from = 0;
            for (size_t i = 0; i < r.nf; i++) {
                size_t to = r.raw_len;
                if (i + 1 < r.nf)
                    memcpy(&to, r.delim + i * sizeof to, sizeof to);
                c[to] = '\0';
                jb->fieldv[i] = c + from;
                jb->lenv[i] = to - from;
                from = to + 1;
            }
            rec.trimmed = 1;
        } else {
            memcpy(jb->lenv, r.lens, r.nf * sizeof *jb->lenv);
            for (size_t i = 0; i < r.nf; i++) {
                size_t off;
                memcpy(&off, r.offs + i * sizeof off, sizeof off);
                jb->fieldv[i] = r.fields + off;
            }
            rec.trimmed = (int)r.trimmed;
        }
        if (k + 1 < b->n_rec)
            prefetch_next(g, &rec, p);
        int rc = on_record(g, &rec, e);
        if (rc)
            return rc;
    }
    return 0;
}

/* Run the pipeline. Returns 1 when no thread could be started (nothing was read: the caller
 * reads serially), else 0 or an error code as read_serial. */
static int read_pipelined(struct ingest *g, struct csvread *r, struct source *src,
                          struct out_error *e)
{
    struct pipeline pl;
    memset(&pl, 0, sizeof pl);
    pl.r = r;
    pl.src = src;
    pl.batch_bytes = g->o->pipe_batch ? g->o->pipe_batch : BATCH_BYTES;
    if (pthread_mutex_init(&pl.mu, NULL))
        return 1;
    if (pthread_cond_init(&pl.cv, NULL)) {
        pthread_mutex_destroy(&pl.mu);
        return 1;
    }
    /* The reader's records go to the batches while the pipeline runs; every way out of
     * this function below puts on_record back before pl goes out of scope. */
    r->fn = pipe_enqueue;
    csvread_set_plain(r, pipe_plain);
    /* cppcheck-suppress autoVariables */
    r->ctx = &pl;
    pthread_t th;
    if (pthread_create(&th, NULL, pipe_reader, &pl)) {
        pthread_cond_destroy(&pl.cv);
        pthread_mutex_destroy(&pl.mu);
        r->fn = on_record;
        csvread_set_plain(r, NULL);
        r->ctx = g;
        return 1;
    }
    unsigned long long base = g->prog_read;
    struct judge_buf jb = {0};
    size_t next = 0;
    int rc = 0;
    for (;;) {
        pthread_mutex_lock(&pl.mu);
        while (!pl.slot[next].full)
            pthread_cond_wait(&pl.cv, &pl.mu);
        pthread_mutex_unlock(&pl.mu);
        struct batch *b = &pl.slot[next];
        rc = judge_batch(g, b, &jb, e);
        progress_at(g, base + b->fed);
        int last = b->last;
        b->len = b->n_rec = 0;
        pthread_mutex_lock(&pl.mu);
        b->full = 0;
        if (rc)
            pl.stop = 1;   /* the reader stops at its next batch or chunk */
        pthread_cond_broadcast(&pl.cv);
        pthread_mutex_unlock(&pl.mu);
        if (last || rc)
            break;
        next = (next + 1) % PIPE_SLOTS;
    }
    pthread_join(th, NULL);
    if (!rc && pl.rc) {
        rc = pl.rc;
        if (e)
            *e = pl.e;
    }
    for (size_t i = 0; i < PIPE_SLOTS; i++)
        free(pl.slot[i].buf);
    free(jb.fieldv);
    free(jb.lenv);
    free(jb.cut);
    pthread_cond_destroy(&pl.cv);
    pthread_mutex_destroy(&pl.mu);
    r->fn = on_record;
    csvread_set_plain(r, NULL);
    r->ctx = g;
    return rc;
}

/* Read one file (fp) or buffer (data, len) through csvread: serially, or in the pipeline
 * when o->threads allows it and the input is large or of unknown size (a pipe). */
static int read_one(struct ingest *g, const char *name, FILE *fp, const unsigned char *data,
                    size_t len, unsigned char *chunk, struct out_error *e)
{
    if (g->ds->n_files >= UINT16_MAX)
        return out_err(e, OUT_EINPUT, name, 0, 0, "too many input files (limit %d)",
                       UINT16_MAX);
    long fi = dataset_add_file(g->ds, name);
    if (fi < 0)
        return out_err(e, OUT_EINTERNAL, name, 0, 0, "out of memory");
    g->file = (size_t)fi;
    g->path = g->ds->file[fi].path;
    g->header_done = 0;
    free_file_state(g);

    struct csvread r;
    int rc = csvread_init(&r, g->path, g->o->delimiter, g->o->max_field, on_record, g, e);
    if (rc)
        return rc;
    struct stat st;
    long long size = -1;   /* unknown */
    if (fp && fstat(fileno(fp), &st) == 0 && S_ISREG(st.st_mode))
        size = (long long)st.st_size;
    else if (!fp)
        size = (long long)len;
    if (size > 0 && !g->o->patient_done)   /* streaming: the table holds one patient */
        dup_presize(g, (size_t)size);
    struct source src = {.fp = fp, .data = data, .len = len, .chunk = chunk, .path = g->path,
                         .csize = g->o->chunk_size ? g->o->chunk_size : DEFAULT_CHUNK};
    sha256_init(&src.sha);
    int pipelined = g->o->threads == 2 ||
                    (g->o->threads == 0 && (size < 0 || size >= INGEST_PIPELINE_MIN));
    rc = pipelined ? read_pipelined(g, &r, &src, e) : 1;
    if (rc == 1)
        rc = read_serial(g, &r, &src, e);
    if (!rc && !g->header_done)
        rc = src.total ? out_err(e, OUT_EINPUT, g->path, csvread_line(&r), 0,
                                 "no header line (the file holds only blank lines)")
                       : out_err(e, OUT_EINPUT, g->path, 0, 0, "the file is empty");
    csvread_free(&r);
    sha256_final_hex(&src.sha, g->ds->file[fi].sha256);
    return rc;
}

static void ingest_free(struct ingest *g)
{
    free_file_state(g);
    for (size_t i = 0; i < g->n_schema; i++)
        free(g->schema[i]);
    free(g->schema);
    free(g->dup);
    free(g->cov_day);
}

/* The wide spec's instruments (in spec order) and time points (distinct offsets, ascending),
 * and each spec column's place among them. The spec was checked when it was set, but the
 * instrument table may have changed since, so unknown instruments are checked again. */
static int wide_plan(struct ingest *g, struct out_error *e)
{
    const struct ingest_opts *o = g->o;
    struct instrument_table builtin;
    const struct instrument_table *tab = o->instruments;
    if (!tab) {
        instrument_table_builtin(&builtin);
        tab = &builtin;
    }
    if (o->n_wide > INGEST_WIDE_MAX)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "more than %d score columns",
                       INGEST_WIDE_MAX);
    if (o->time_column[0])
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "--relative-time cannot be combined with a wide spec (its time points "
                       "give the times)");
    for (size_t j = 0; j < o->n_wide; j++) {
        const struct instrument *in = instrument_find(tab, o->wide[j].instrument);
        if (!in)
            return out_err(e, OUT_EUSAGE, NULL, 0, 0, "wide spec: '%s' is not an instrument",
                           o->wide[j].instrument);
        size_t k = 0;
        while (k < g->n_wi && strcasecmp(g->w_name[k], in->name) != 0)
            k++;
        if (k == g->n_wi) {
            if (k == INSTRUMENT_MAX)   /* unreachable: the table holds at most this many */
                return out_err(e, OUT_EUSAGE, NULL, 0, 0, "too many instruments");
            g->w_name[g->n_wi++] = o->wide[j].instrument;
        }
        g->w_instr[j] = (int)k;
        int32_t d = o->wide[j].day;
        size_t t = 0;
        while (t < g->n_tp && g->tp_day[t] < d)
            t++;
        if (t == g->n_tp || g->tp_day[t] != d) {
            memmove(g->tp_day + t + 1, g->tp_day + t, (g->n_tp - t) * sizeof *g->tp_day);
            g->tp_day[t] = d;
            g->n_tp++;
        }
    }
    for (size_t j = 0; j < o->n_wide; j++) {
        size_t t = 0;
        while (g->tp_day[t] != o->wide[j].day)
            t++;
        g->w_tp[j] = (int)t;
    }
    return 0;
}

/* Either paths[0..n) or, when paths is NULL, the buffer (name, data, len). */
static int run(const char *const *paths, size_t n, const char *name, const void *data,
               size_t len, const struct ingest_opts *o, struct dataset *ds, FILE *rejects,
               struct out_error *e)
{
    if (ds->n_files || ds->n_visits)
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0,
                       "ingest: the dataset already holds input (call ingest once)");
    if (o->delimiter == '"' || o->delimiter == '\r' || o->delimiter == '\n')
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "the delimiter cannot be a quote or newline");
    struct ingest g;
    memset(&g, 0, sizeof g);
    g.o = o;
    g.ds = ds;
    g.rej = rejects;
    int rc = o->n_wide ? wide_plan(&g, e) : 0;
    if (rc)
        return rc;
    if (o->patient_done && !ds->digest) {
        if (!(ds->digest = malloc(sizeof *ds->digest)))
            return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
        digest_init(ds->digest);
    }
    /* The input's size, for progress (regular files only) and for the choice of threads. */
    unsigned long long total = 0;
    int unknown = 0;
    for (size_t i = 0; i < n; i++) {
        struct stat st;
        if (!paths)
            total += len;
        else if (stat(paths[i], &st) == 0 && S_ISREG(st.st_mode))
            total += (unsigned long long)st.st_size;
        else
            unknown = 1;
    }
    if (o->progress)
        g.prog_total = total;
    /* The per-patient thread, where the reading is pipelined too (read_one's rule). */
    if (o->patient_done && o->threads != 1 &&
        (o->threads == 2 || unknown || total >= INGEST_PIPELINE_MIN))
        g.fl = flusher_start(o);
    if (rejects)
        fputs("file,line,column,reason,message,raw\n", rejects);
    size_t csize = o->chunk_size ? o->chunk_size : DEFAULT_CHUNK;
    unsigned char *chunk = paths ? malloc(csize) : NULL;
    if (paths && !chunk)
        rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    for (size_t i = 0; !rc && i < n; i++) {
        if (!paths) {
            rc = read_one(&g, name, NULL, data, len, NULL, e);
            break;
        }
        FILE *fp = fopen(paths[i], "rb");
        if (!fp) {
            rc = out_err(e, OUT_EIO, paths[i], 0, 0, "cannot open: %s", strerror(errno));
            break;
        }
        rc = read_one(&g, paths[i], fp, NULL, 0, chunk, e);
        fclose(fp);
    }
    free(chunk);
    if (!rc && o->patient_done)
        rc = stream_flush(&g, e);
    /* The worker is stopped before ds is given back. Its failure, if the judge has not
     * already met it at a hand-over, is returned unless the judge failed on its own. */
    int frc = flusher_stop(g.fl, rc ? NULL : e);
    if (!rc)
        rc = frc;
    ingest_free(&g);
    if (o->progress) {
        struct ingest_progress pr = {g.path, g.prog_read, g.prog_total, ds->rows_read, 1};
        o->progress(o->progress_user, &pr);
    }
    if (!rc && rejects && (fflush(rejects) || ferror(rejects)))
        rc = out_err(e, OUT_EIO, NULL, 0, 0, "cannot write the rejects file: %s",
                     strerror(errno));
    if (!rc && o->strict && g.have_first_reject) {
        if (e) {
            *e = g.first_reject;
            size_t m = strlen(e->msg);
            snprintf(e->msg + m, sizeof e->msg - m, " (strict: %ld row%s rejected)",
                     ds->rows_rejected, ds->rows_rejected == 1 ? "" : "s");
        }
        ds->strict_stop = 1;
        rc = OUT_EINPUT;
    }
    return rc;
}

int ingest_files(const char *const *paths, size_t n, const struct ingest_opts *o,
                 struct dataset *ds, FILE *rejects, struct out_error *e)
{
    return run(paths, n, NULL, NULL, 0, o, ds, rejects, e);
}

int ingest_buffer(const char *name, const void *data, size_t len, const struct ingest_opts *o,
                  struct dataset *ds, FILE *rejects, struct out_error *e)
{
    return run(NULL, 1, name, data, len, o, ds, rejects, e);
}

/* ---- visits.csv ------------------------------------------------------------------- */

/* RFC 4180 only: this file is read back by ingest, which must see the exact value. ';'
 * and TAB are quoted too, so delimiter detection, which ignores quoted text, still finds
 * ',' when a column name is full of them (found by the fuzzer). */
static void put_field(FILE *fp, const char *s)
{
    if (!strpbrk(s, ",;\t\"\r\n")) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

int ingest_write_visits(const struct dataset *ds, FILE *fp, struct out_error *e)
{
    fputs("patient_id,visit_date,session", fp);
    for (size_t k = 0; k < ds->n_instr; k++)
        fprintf(fp, ",%s", ds->instr[k]->name);
    if (ds->pain_post)
        fputs(",pain_post", fp);
    fputs(",adverse_event,baseline", fp);
    if (ds->episode)
        fputs(",episode", fp);
    for (size_t c = 0; c < ds->n_cov; c++) {
        fputc(',', fp);
        put_field(fp, ds->cov_name[c]);
    }
    fputc('\n', fp);
    char num[32], date[11];
    for (size_t i = 0; i < ds->n_visits; i++) {
        const struct visit *v = &ds->visit[i];
        put_field(fp, ds->patient_id[v->patient]);
        civil_format(v->day, date);
        fputc(',', fp);
        fputs(date, fp);
        fputc(',', fp);
        if (v->session > 0) {
            fmt_num(num, sizeof num, (double)v->session);
            fputs(num, fp);
        }
        for (size_t k = 0; k < ds->n_instr; k++) {
            double x = ds->score[i * ds->n_instr + k];
            fputc(',', fp);
            if (!isnan(x))
                put_plain_num(fp, x);
        }
        if (ds->pain_post) {
            fputc(',', fp);
            if (!isnan(ds->pain_post[i]))
                put_plain_num(fp, ds->pain_post[i]);
        }
        fputs(v->adverse < 0 ? ",," : v->adverse ? ",yes," : ",no,", fp);
        if (v->baseline < 10)
            fputc('0' + v->baseline, fp);
        else
            fprintf(fp, "%d", v->baseline);
        if (ds->episode) {
            fputc(',', fp);
            if (ds->episode[i])
                fprintf(fp, "%u", (unsigned)ds->episode[i]);
        }
        for (size_t c = 0; c < ds->n_cov; c++) {
            const char *val = dataset_cov(ds, v->patient, (int)c);
            fputc(',', fp);
            if (val)
                put_field(fp, val);
        }
        fputc('\n', fp);
    }
    if (fflush(fp) || ferror(fp))
        return out_err(e, OUT_EIO, NULL, 0, 0, "cannot write visits: %s", strerror(errno));
    return 0;
}
