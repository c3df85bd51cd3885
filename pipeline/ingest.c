/* ingest.c — see ingest.h. csvread turns bytes into records with line numbers; this file
 * gives the header's columns their roles and judges each row: accepted into the dataset,
 * or written to rejects with the reason. Nothing here prints or exits. */
#include "ingest.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil_date.h"
#include "csvread.h"
#include "escape.h"
#include "parse_num.h"
#include "sha256.h"

/* MAX_COLUMNS keeps the quadratic header checks cheap; real visit files have dozens. */
enum { DEFAULT_CHUNK = 1 << 20, SESSION_MAX = 100000, MAX_COLUMNS = 4096 };

enum role { ROLE_ID, ROLE_DATE, ROLE_SESSION, ROLE_INSTR, ROLE_PAIN_POST, ROLE_ADVERSE,
            ROLE_BASELINE, ROLE_COV, ROLE_KEY, ROLE_TIME };

/* Columns with a fixed meaning; every other non-instrument column is a covariate. */
static const struct { const char *name; enum role role; } fixed_columns[] = {
    {"patient_id", ROLE_ID},         {"visit_date", ROLE_DATE},
    {"session", ROLE_SESSION},       {"pain_post", ROLE_PAIN_POST},
    {"adverse_event", ROLE_ADVERSE}, {"baseline", ROLE_BASELINE},
};

struct column {
    enum role role;
    int idx;              /* instrument index (ds->instr) or covariate index */
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

    /* The file being read. */
    const char *path;
    size_t file;
    int header_done;
    struct column *col;
    size_t n_col;
    char *names;
    long c_id, c_date, c_session, c_pp, c_ae, c_bl;
    long c_key[INGEST_KEY_MAX];
    char **cell;
    char *idbuf;          /* composite key of the current row */
    size_t idbuf_cap;
    double pp_min, pp_max;

    /* (patient, day, session) -> visit index, open addressing, visit UINT32_MAX = empty.
     * The stored hash bits spare a random read of the visit on most probes. */
    struct dup_entry { uint32_t visit, hash; } *dup;
    size_t dup_cap;
    /* Day of the row each covariate value came from, per patient x covariate. */
    int32_t *cov_day;
    size_t cov_day_cap;
};

void ingest_opts_default(struct ingest_opts *o)
{
    memset(o, 0, sizeof *o);
    o->today = civil_today();
}

int ingest_opts_add_column(struct ingest_opts *o, const char *spec, struct out_error *e)
{
    const char *eq = strchr(spec, '=');
    if (!eq || eq == spec || !eq[1])
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "--column '%s': expected CANONICAL=SOURCE, e.g. patient_id=record_id",
                       spec);
    size_t cn = (size_t)(eq - spec), sn = strlen(eq + 1);
    if (cn >= INGEST_NAME_MAX || sn >= INGEST_NAME_MAX)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "--column '%s': name too long", spec);
    if (o->n_map >= INGEST_MAP_MAX)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "more than %d --column renames",
                       INGEST_MAP_MAX);
    struct ingest_colmap *m = &o->column_map[o->n_map++];
    memcpy(m->canonical, spec, cn);
    m->canonical[cn] = '\0';
    memcpy(m->source, eq + 1, sn + 1);
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
                           "--patient-key '%s': expected up to %d column names separated by "
                           "commas", spec, INGEST_KEY_MAX);
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
                   "--relative-time '%s': expected COLUMN:UNIT with UNIT days, weeks or months",
                   spec);
}

/* ---- small helpers ---------------------------------------------------------------- */

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        s[--n] = '\0';
    return s;
}

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

static void fmt_num(char *buf, size_t n, double v)
{
    snprintf(buf, n, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, n, "%.17g", v);
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
    int bad = dataset_set_instruments(ds, tab, instr, n_instr) ||
              dataset_set_covariates(ds, cov, n_cov) ||
              (g->c_pp >= 0 && dataset_enable_pain_post(ds));
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
    g->c_id = g->c_date = g->c_session = g->c_pp = g->c_ae = g->c_bl = -1;
    for (size_t k = 0; k < INGEST_KEY_MAX; k++)
        g->c_key[k] = -1;
    const struct instrument_table *tab = g->o->instruments;
    struct instrument_table builtin;
    if (!tab) {
        instrument_table_builtin(&builtin);
        tab = &builtin;
    }
    char *p = g->names;
    for (size_t i = 0; i < rec->n; i++) {
        struct column *c = &g->col[i];
        const char *name = trim(rec->field[i]);
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
        for (size_t k = 0; k < sizeof fixed_columns / sizeof fixed_columns[0]; k++)
            if (strcmp(c->canon, fixed_columns[k].name) == 0)
                c->role = fixed_columns[k].role;
        if (c->role == ROLE_COV && instrument_find(tab, c->canon))
            c->role = ROLE_INSTR;
        for (size_t k = 0; k < g->o->n_key; k++)
            if (strcasecmp(c->canon, g->o->key_column[k]) == 0) {
                c->role = ROLE_KEY;
                g->c_key[k] = (long)i;
            }
        if (g->o->time_column[0] && strcasecmp(c->canon, g->o->time_column) == 0)
            c->role = ROLE_TIME;
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
    static const char *const required[] = {"patient_id", "visit_date"};
    for (size_t k = 0; k < 2; k++)
        if ((k == 0 ? g->c_id : g->c_date) < 0)
            return out_err(e, OUT_EINPUT, g->path, rec->line, 0,
                           "missing required column '%s' (rename yours with --column %s=NAME)",
                           required[k], required[k]);
    size_t n_instr = 0;
    for (size_t i = 0; i < g->n_col; i++)
        n_instr += g->col[i].role == ROLE_INSTR;
    if (!n_instr) {
        char list[256] = "";
        for (size_t k = 0; k < tab->n; k++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", k ? ", " : "", tab->item[k].name);
        }
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
    g->dup[slot].visit = (uint32_t)v;
    g->dup[slot].hash = (uint32_t)(key_hash(w->patient, w->day, w->session) >> 32);
}

static int dup_reserve(struct ingest *g)
{
    if ((g->ds->n_visits + 1) * 2 < g->dup_cap)
        return 0;
    size_t ncap = g->dup_cap ? g->dup_cap * 2 : 4096;
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
        if (c->role != ROLE_COV || parse_is_missing(g->cell[i]))
            continue;
        size_t k = (size_t)p * ds->n_cov + (size_t)c->idx;
        if (ds->cov_value[k] != UINT32_MAX && day >= g->cov_day[k])
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

static int row(struct ingest *g, const struct csvread_record *rec, struct out_error *e)
{
    struct dataset *ds = g->ds;
    struct input_file *f = &ds->file[g->file];
    char buf[64], date[11];
    size_t i;
    for (i = 0; i < rec->n; i++)
        if (rec->len[i] && *trim(rec->field[i]))
            break;
    if (i == rec->n)
        return 0;   /* ",,,," padding carries nothing: a blank line, not a row */
    ds->rows_read++;
    f->rows_read++;
    if (rec->n != g->n_col) {
        reject(g, rec, REJ_FIELD_COUNT, 0, "expected %zu fields as in the header, found %zu",
               g->n_col, rec->n);
        return 0;
    }
    for (i = 0; i < rec->n; i++)
        g->cell[i] = trim(rec->field[i]);

    const char *id = g->cell[g->c_id];
    if (g->o->n_key) {
        size_t need = 1;
        for (size_t k = 0; k < g->o->n_key; k++) {
            long c = g->c_key[k];
            if (parse_is_missing(g->cell[c])) {
                reject(g, rec, REJ_MISSING_ID, c + 1, "%s is missing (part of the patient key)",
                       g->col[c].name);
                return 0;
            }
            need += strlen(g->cell[c]) + 1;
        }
        if (need > g->idbuf_cap) {
            char *nb = realloc(g->idbuf, need);
            if (!nb)
                return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
            g->idbuf = nb;
            g->idbuf_cap = need;
        }
        char *q = g->idbuf;
        for (size_t k = 0; k < g->o->n_key; k++) {
            if (k)
                *q++ = '/';
            size_t n = strlen(g->cell[g->c_key[k]]);
            memcpy(q, g->cell[g->c_key[k]], n);
            q += n;
        }
        *q = '\0';
        id = g->idbuf;
    } else if (parse_is_missing(id)) {
        reject(g, rec, REJ_MISSING_ID, g->c_id + 1, "%s is missing", g->col[g->c_id].name);
        return 0;
    }
    const char *dstr = g->cell[g->c_date];
    const char *dname = g->col[g->c_date].name;
    long dcol = g->c_date + 1;
    if (parse_is_missing(dstr)) {
        reject(g, rec, REJ_MISSING_DATE, dcol, "%s is missing", dname);
        return 0;
    }
    int32_t day = 0;
    if (visit_day(g, rec, dstr, &day))
        return 0;
    if (day > g->o->today) {
        civil_format(g->o->today, date);
        reject(g, rec, REJ_FUTURE_DATE, dcol, "%s: '%s' is after the reference date %s", dname,
               dstr, date);
        return 0;
    }
    long session = 0;
    if (g->c_session >= 0 && !parse_is_missing(g->cell[g->c_session]) &&
        parse_count(g->cell[g->c_session], SESSION_MAX, &session)) {
        reject(g, rec, REJ_BAD_SESSION, g->c_session + 1,
               "%s: '%s' is not a whole number from 1 to %d", g->col[g->c_session].name,
               shown(g->cell[g->c_session], buf), SESSION_MAX);
        return 0;
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
        const char *s = g->cell[i];
        if (parse_is_missing(s))
            continue;
        double v;
        if (parse_decimal(s, g->o->decimal_comma ? ',' : '.', &v)) {
            reject(g, rec, REJ_NONNUMERIC, (long)i + 1, "%s: '%s' is not a number%s", c->name,
                   shown(s, buf),
                   !g->o->decimal_comma && strchr(s, ',') ? " (decimal comma? see --decimal-comma)"
                                                          : "");
            return 0;
        }
        const struct instrument *in = c->role == ROLE_INSTR ? ds->instr[c->idx] : NULL;
        double lo = in ? in->min : g->pp_min, hi = in ? in->max : g->pp_max;
        if (!(v >= lo && v <= hi)) {
            char a[32], b[32];
            fmt_num(a, sizeof a, lo);
            fmt_num(b, sizeof b, hi);
            reject(g, rec, REJ_RANGE, (long)i + 1, "%s: '%s' is outside %s\u2013%s", c->name,
                   shown(s, buf), a, b);
            return 0;
        }
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

    long p = dataset_patient(ds, id);
    if (p < 0 || dup_reserve(g))
        return out_err(e, OUT_EINTERNAL, g->path, rec->line, 0, "out of memory");
    size_t slot = dup_slot(g, (uint32_t)p, day, (int32_t)session);
    if (g->dup[slot].visit != UINT32_MAX) {
        size_t v = g->dup[slot].visit;
        const struct visit *w = &ds->visit[v];
        char where[300];
        if (w->file == g->file)
            snprintf(where, sizeof where, "line %lu", (unsigned long)w->line);
        else
            snprintf(where, sizeof where, "%s:%lu", ds->file[w->file].path,
                     (unsigned long)w->line);
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
        if (!diff_name) {
            reject(g, rec, REJ_DUP_EXACT, 0,
                   "repeats %s (same patient, date, session and values)", where);
        } else {
            char a[32] = "empty", b[32] = "empty";
            if (!isnan(there))
                fmt_num(a, sizeof a, there);
            if (!isnan(here))
                fmt_num(b, sizeof b, here);
            reject(g, rec, REJ_DUP_CONFLICT, diff_col,
                   "same patient, date and session as %s but other values (%s %s there, %s "
                   "here); the first is kept",
                   where, diff_name, a, b);
        }
        return 0;
    }
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
    dup_store(g, slot, (size_t)vi);
    ds->rows_accepted++;
    f->rows_accepted++;
    if (f->first_day == INT32_MIN || day < f->first_day)
        f->first_day = day;
    if (f->last_day == INT32_MIN || day > f->last_day)
        f->last_day = day;
    return 0;
}

static int on_record(void *ctx, const struct csvread_record *rec, struct out_error *e)
{
    struct ingest *g = ctx;
    return g->header_done ? row(g, rec, e) : header(g, rec, e);
}

/* ---- files ------------------------------------------------------------------------ */

/* Read one file (fp) or buffer (data, len) through csvread. */
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
    struct sha256 sha;
    sha256_init(&sha);
    size_t csize = g->o->chunk_size ? g->o->chunk_size : DEFAULT_CHUNK;
    size_t total = 0, pos = 0;
    for (;;) {
        const unsigned char *buf;
        size_t n;
        if (fp) {
            n = fread(chunk, 1, csize, fp);
            if (n < csize && ferror(fp)) {
                rc = out_err(e, OUT_EIO, g->path, 0, 0, "read error: %s", strerror(errno));
                break;
            }
            buf = chunk;
        } else {
            if (pos >= len)
                break;   /* before forming data + pos: data may be NULL when len is 0 */
            n = len - pos < csize ? len - pos : csize;
            buf = data + pos;
            pos += n;
        }
        if (!n)
            break;
        sha256_update(&sha, buf, n);
        total += n;
        if ((rc = csvread_feed(&r, buf, n, e)))
            break;
    }
    if (!rc)
        rc = csvread_finish(&r, e);
    if (!rc && !g->header_done)
        rc = total ? out_err(e, OUT_EINPUT, g->path, csvread_line(&r), 0,
                             "no header line (the file holds only blank lines)")
                   : out_err(e, OUT_EINPUT, g->path, 0, 0, "the file is empty");
    csvread_free(&r);
    sha256_final_hex(&sha, g->ds->file[fi].sha256);
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
    if (rejects)
        fputs("file,line,column,reason,message,raw\n", rejects);
    size_t csize = o->chunk_size ? o->chunk_size : DEFAULT_CHUNK;
    unsigned char *chunk = paths ? malloc(csize) : NULL;
    int rc = 0;
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
    ingest_free(&g);
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
        fprintf(fp, ",%s,", date);
        if (v->session > 0)
            fprintf(fp, "%ld", (long)v->session);
        for (size_t k = 0; k < ds->n_instr; k++) {
            double x = ds->score[i * ds->n_instr + k];
            fputc(',', fp);
            if (!isnan(x)) {
                fmt_num(num, sizeof num, x);
                fputs(num, fp);
            }
        }
        if (ds->pain_post) {
            fputc(',', fp);
            if (!isnan(ds->pain_post[i])) {
                fmt_num(num, sizeof num, ds->pain_post[i]);
                fputs(num, fp);
            }
        }
        fprintf(fp, ",%s,%d", v->adverse < 0 ? "" : v->adverse ? "yes" : "no", v->baseline);
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
