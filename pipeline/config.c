/* config.c — see config.h. One line reader serves the three file kinds (config,
 * instruments, wide map); the config keys are a table, each entry naming its handler, so the
 * list of keys in messages and the dispatch cannot disagree. Every loader works on scratch
 * copies and commits only when the whole file is good. Nothing here prints or exits. */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "parse_num.h"

enum { LINE_MAX_BYTES = 65536, PATH_BYTES = 4096 };

/* ---- lines ------------------------------------------------------------------------ */


/* Called with each line that is neither blank nor a comment, trimmed, and its number. */
typedef int (*line_fn)(void *ctx, char *text, long line, struct out_error *e);

/* Read path line by line. Errors: OUT_EIO (cannot open or read; line 0), OUT_EUSAGE for a
 * NUL byte or an over-long line (a binary file given by mistake), or fn's code. */
static int read_lines(const char *path, line_fn fn, void *ctx, struct out_error *e)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    char *buf = NULL;
    size_t cap = 0;
    long line = 0;
    int rc = 0;
    ssize_t got;
    while (!rc && (got = getline(&buf, &cap, fp)) >= 0) {
        line++;
        size_t n = (size_t)got;
        if (strlen(buf) != n) {
            rc = out_err(e, OUT_EUSAGE, path, line, 0, "NUL byte: this is not a text file");
            break;
        }
        if (n > LINE_MAX_BYTES) {
            rc = out_err(e, OUT_EUSAGE, path, line, 0, "line longer than %d bytes",
                         LINE_MAX_BYTES);
            break;
        }
        while (n && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
            buf[--n] = '\0';
        char *s = buf;
        if (line == 1 && n >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
            s += 3;   /* editors on Windows write a UTF-8 byte-order mark */
        s = trim_blanks(s);
        if (!*s || *s == '#')
            continue;
        rc = fn(ctx, s, line, e);
    }
    if (!rc && ferror(fp))
        rc = out_err(e, OUT_EIO, path, 0, 0, "read error: %s", strerror(errno));
    free(buf);
    fclose(fp);
    return rc;
}

/* A path named in file `from`: relative ones are relative to from's directory. */
static int resolve(const char *from, const char *name, char *out, size_t n)
{
    const char *slash = strrchr(from, '/');
    int len = name[0] == '/' || !slash
                  ? snprintf(out, n, "%s", name)
                  : snprintf(out, n, "%.*s/%s", (int)(slash - from), from, name);
    return len < 0 || (size_t)len >= n ? -1 : 0;
}

/* ---- instruments ------------------------------------------------------------------ */

static const char *const fixed_names[] = {"patient_id", "visit_date", "session",
                                          "pain_post", "adverse_event", "baseline"};

/* An optional number: empty -> NAN; else a plain decimal. Returns 0 or -1. */
static int opt_number(const char *s, double *v)
{
    if (!*s) {
        *v = NAN;
        return 0;
    }
    return parse_decimal(s, '.', v) || !isfinite(*v) ? -1 : 0;
}

int ingest_config_parse_instrument(const char *line, struct instrument *out,
                                   struct out_error *e)
{
    enum { NF = 8 };
    static const char *const field_name[NF] = {"name", "label", "min", "max", "direction",
                                               "mic", "reliability", "cutoff"};
    char *buf = strdup(line);
    if (!buf)
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    char *f[NF];
    size_t nf = 0;
    for (char *p = buf; p; nf++) {
        char *comma = strchr(p, ',');
        if (comma)
            *comma++ = '\0';
        if (nf < NF)
            f[nf] = trim_blanks(p);
        p = comma;
    }
    int rc = 0;
    struct instrument in;
    memset(&in, 0, sizeof in);
    if (nf != NF) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                     "expected 8 comma-separated fields "
                     "name,label,min,max,direction,mic,reliability,cutoff; found %zu", nf);
        goto out;
    }
    size_t n = strlen(f[0]);
    int ok = n > 0 && n < sizeof in.name &&
             ((f[0][0] >= 'a' && f[0][0] <= 'z') || (f[0][0] >= 'A' && f[0][0] <= 'Z'));
    for (size_t i = 0; ok && i < n; i++)
        ok = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_", f[0][i])
             != NULL;
    if (!ok) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                     "name '%s': use a letter, then letters, digits or '_' (it is a column "
                     "name), at most %zu bytes", f[0], sizeof in.name - 1);
        goto out;
    }
    for (size_t i = 0; i < sizeof fixed_names / sizeof fixed_names[0]; i++)
        if (strcasecmp(f[0], fixed_names[i]) == 0) {
            rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                         "name '%s' is a fixed column of a visit file, not an instrument",
                         f[0]);
            goto out;
        }
    memcpy(in.name, f[0], n + 1);
    n = strlen(f[1]);
    if (!n || n >= sizeof in.label) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0, "%s: the label must be 1 to %zu bytes",
                     in.name, sizeof in.label - 1);
        goto out;
    }
    memcpy(in.label, f[1], n + 1);
    for (int k = 2; k <= 3; k++) {
        double *v = k == 2 ? &in.min : &in.max;
        if (!*f[k] || opt_number(f[k], v)) {
            rc = out_err(e, OUT_EUSAGE, NULL, 0, 0, "%s: %s '%s' is not a number", in.name,
                         field_name[k], f[k]);
            goto out;
        }
    }
    if (!(in.min < in.max)) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0, "%s: min %s is not below max %s", in.name, f[2],
                     f[3]);
        goto out;
    }
    if (strcasecmp(f[4], "lower") == 0 || strcasecmp(f[4], "higher") == 0) {
        in.higher_better = strcasecmp(f[4], "higher") == 0;
    } else {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                     "%s: direction '%s': expected lower (lower is better) or higher", in.name,
                     f[4]);
        goto out;
    }
    if (opt_number(f[5], &in.mic) || in.mic <= 0) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                     "%s: mic '%s' is not a number > 0 (leave it empty for none)", in.name, f[5]);
        goto out;
    }
    if (opt_number(f[6], &in.reliability) || in.reliability < 0 || in.reliability >= 1) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                     "%s: reliability '%s' is not a number from 0 to below 1 (leave it empty "
                     "when unknown)", in.name, f[6]);
        goto out;
    }
    if (opt_number(f[7], &in.cutoff) || in.cutoff < in.min || in.cutoff > in.max) {
        rc = out_err(e, OUT_EUSAGE, NULL, 0, 0,
                     "%s: cutoff '%s' is not a number within min..max %s..%s (leave it empty "
                     "for none)", in.name, f[7], f[2], f[3]);
        goto out;
    }
    *out = in;
out:
    free(buf);
    return rc;
}

/* Instruments declared in one load, to refuse a name declared twice. */
struct declared {
    size_t n;
    struct { char name[32]; char file[PATH_BYTES]; long line; } item[INSTRUMENT_MAX];
};

static int declare(struct declared *d, struct instrument_table *tab, const char *file,
                   long line, const char *text, struct out_error *e)
{
    struct instrument in;
    struct out_error le = {0};
    if (ingest_config_parse_instrument(text, &in, &le))
        return out_err(e, le.code, file, line, 0, "instrument: %s", le.msg);
    for (size_t i = 0; i < d->n; i++)
        if (strcasecmp(d->item[i].name, in.name) == 0) {
            char where[PATH_BYTES + 32];
            if (strcmp(d->item[i].file, file) == 0)
                snprintf(where, sizeof where, "line %ld", d->item[i].line);
            else
                snprintf(where, sizeof where, "%s:%ld", d->item[i].file, d->item[i].line);
            return out_err(e, OUT_EUSAGE, file, line, 0,
                           "instrument '%s' is already declared at %s", in.name, where);
        }
    if (d->n == INSTRUMENT_MAX || instrument_table_add(tab, &in))
        return out_err(e, OUT_EUSAGE, file, line, 0,
                       "instrument '%s': the table is full (%d instruments, built-in ones "
                       "included)", in.name, INSTRUMENT_MAX);
    snprintf(d->item[d->n].name, sizeof d->item[d->n].name, "%s", in.name);
    snprintf(d->item[d->n].file, sizeof d->item[d->n].file, "%s", file);
    d->item[d->n++].line = line;
    return 0;
}

struct instr_file {
    const char *path;
    struct instrument_table *tab;
    struct declared *d;
};

static int instr_line(void *ctx, char *text, long line, struct out_error *e)
{
    struct instr_file *f = ctx;
    return declare(f->d, f->tab, f->path, line, text, e);
}

int ingest_config_load_instruments(const char *path, struct instrument_table *tab,
                                   struct out_error *e)
{
    struct instrument_table *t = malloc(sizeof *t);
    struct declared *d = calloc(1, sizeof *d);
    int rc;
    if (!t || !d) {
        rc = out_err(e, OUT_EINTERNAL, path, 0, 0, "out of memory");
    } else {
        *t = *tab;
        struct instr_file f = {path, t, d};
        if (!(rc = read_lines(path, instr_line, &f, e)))
            *tab = *t;
    }
    free(t);
    free(d);
    return rc;
}

/* ---- wide map --------------------------------------------------------------------- */

struct map_file {
    const char *path;
    char *spec;
    long line;
};

static int map_line(void *ctx, char *text, long line, struct out_error *e)
{
    struct map_file *m = ctx;
    if (m->spec)
        return out_err(e, OUT_EUSAGE, m->path, line, 0,
                       "a wide map holds one spec line; line %ld already gave it", m->line);
    if (!(m->spec = strdup(text)))
        return out_err(e, OUT_EINTERNAL, m->path, line, 0, "out of memory");
    m->line = line;
    return 0;
}

int ingest_config_load_wide_map(const char *path, struct ingest_opts *o, struct out_error *e)
{
    struct map_file m = {path, NULL, 0};
    int rc = read_lines(path, map_line, &m, e);
    if (!rc && !m.spec)
        rc = out_err(e, OUT_EUSAGE, path, 0, 0,
                     "no wide spec in the file (expected a line like "
                     "'pain_vas: pk1@0d, pk2@3m; patient_id=id')");
    struct out_error le = {0};
    if (!rc && ingest_opts_set_wide(o, m.spec, &le))
        rc = out_err(e, le.code, path, m.line, 0, "%s", le.msg);
    free(m.spec);
    return rc;
}

/* ---- config file ------------------------------------------------------------------ */

struct loader;
typedef int (*key_fn)(struct loader *L, const char *value, long line, struct out_error *e);

struct key {
    const char *name;
    int repeatable;
    key_fn apply;
};

struct loader {
    const char *path;
    struct ingest_opts *o;          /* scratch copies, committed on success */
    struct instrument_table *tab;
    struct declared decl;
    long seen[16];                  /* line where each single-use key was given, or 0 */
    char *wide;                     /* the wide spec or the map file's path, applied last */
    long wide_line;
    int wide_is_map;
};

/* A setter's message (which names no file) at this config line, prefixed by the key. */
static int at_line(const struct loader *L, long line, const char *key,
                   const struct out_error *le, struct out_error *e)
{
    return out_err(e, le->code, L->path, line, 0, "%s: %s", key, le->msg);
}

static int k_column(struct loader *L, const char *v, long line, struct out_error *e)
{
    struct out_error le = {0};
    return ingest_opts_add_column(L->o, v, &le) ? at_line(L, line, "column", &le, e) : 0;
}

static int k_patient_key(struct loader *L, const char *v, long line, struct out_error *e)
{
    struct out_error le = {0};
    return ingest_opts_set_key(L->o, v, &le) ? at_line(L, line, "patient_key", &le, e) : 0;
}

static int k_relative_time(struct loader *L, const char *v, long line, struct out_error *e)
{
    struct out_error le = {0};
    return ingest_opts_set_time(L->o, v, &le) ? at_line(L, line, "relative_time", &le, e) : 0;
}

static int k_delimiter(struct loader *L, const char *v, long line, struct out_error *e)
{
    /* Spaces around the value are trimmed, so TAB is spelt out. */
    if (!strcasecmp(v, "tab") || !strcmp(v, "\\t"))
        L->o->delimiter = '\t';
    else if (strlen(v) == 1 && strchr(",;|", v[0]))
        L->o->delimiter = v[0];
    else
        return out_err(e, OUT_EUSAGE, L->path, line, 0,
                       "delimiter: '%s' is not one of , ; tab |", v);
    return 0;
}

static int k_decimal_comma(struct loader *L, const char *v, long line, struct out_error *e)
{
    int flag;
    if (parse_flag(v, &flag))
        return out_err(e, OUT_EUSAGE, L->path, line, 0, "decimal_comma: '%s' is not yes or no",
                       v);
    L->o->decimal_comma = flag;
    return 0;
}

static int k_instrument(struct loader *L, const char *v, long line, struct out_error *e)
{
    return declare(&L->decl, L->tab, L->path, line, v, e);
}

static int k_instruments(struct loader *L, const char *v, long line, struct out_error *e)
{
    char path[PATH_BYTES];
    if (resolve(L->path, v, path, sizeof path))
        return out_err(e, OUT_EUSAGE, L->path, line, 0, "instruments: path too long");
    struct instr_file f = {path, L->tab, &L->decl};
    int rc = read_lines(path, instr_line, &f, e);
    if (rc == OUT_EIO && e && e->line == 0) {   /* name the line that asked for the file */
        char msg[sizeof e->msg];
        snprintf(msg, sizeof msg, "%s", e->msg);
        return out_err(e, rc, L->path, line, 0, "instruments: %s: %s", path, msg);
    }
    return rc;
}

static int set_wide_later(struct loader *L, const char *v, long line, int is_map,
                          struct out_error *e)
{
    if (L->wide)
        return out_err(e, OUT_EUSAGE, L->path, line, 0,
                       "wide and wide_map exclude each other (line %ld gave the other)",
                       L->wide_line);
    char path[PATH_BYTES];
    if (is_map && resolve(L->path, v, path, sizeof path))
        return out_err(e, OUT_EUSAGE, L->path, line, 0, "wide_map: path too long");
    if (!(L->wide = strdup(is_map ? path : v)))
        return out_err(e, OUT_EINTERNAL, L->path, line, 0, "out of memory");
    L->wide_line = line;
    L->wide_is_map = is_map;
    return 0;
}

static int k_wide(struct loader *L, const char *v, long line, struct out_error *e)
{
    return set_wide_later(L, v, line, 0, e);
}

static int k_wide_map(struct loader *L, const char *v, long line, struct out_error *e)
{
    return set_wide_later(L, v, line, 1, e);
}

static const struct key keys[] = {
    {"column", 1, k_column},
    {"delimiter", 0, k_delimiter},
    {"decimal_comma", 0, k_decimal_comma},
    {"patient_key", 0, k_patient_key},
    {"relative_time", 0, k_relative_time},
    {"wide", 0, k_wide},
    {"wide_map", 0, k_wide_map},
    {"instrument", 1, k_instrument},
    {"instruments", 1, k_instruments},
};

static int config_line(void *ctx, char *text, long line, struct out_error *e)
{
    struct loader *L = ctx;
    char *eq = strchr(text, '=');
    if (!eq)
        return out_err(e, OUT_EUSAGE, L->path, line, 0,
                       "expected 'key = value', e.g. 'column = patient_id=record_id'");
    *eq = '\0';
    const char *key = trim_blanks(text), *value = trim_blanks(eq + 1);
    size_t k = 0, nk = sizeof keys / sizeof keys[0];
    while (k < nk && strcasecmp(keys[k].name, key) != 0)
        k++;
    if (k == nk) {
        char list[256] = "";
        for (size_t i = 0; i < nk; i++) {
            size_t len = strlen(list);
            snprintf(list + len, sizeof list - len, "%s%s", i ? ", " : "", keys[i].name);
        }
        return out_err(e, OUT_EUSAGE, L->path, line, 0, "unknown key '%s' (known: %s)", key,
                       list);
    }
    if (!*value)
        return out_err(e, OUT_EUSAGE, L->path, line, 0, "%s: no value", keys[k].name);
    if (!keys[k].repeatable) {
        if (L->seen[k])
            return out_err(e, OUT_EUSAGE, L->path, line, 0,
                           "%s is already set on line %ld", keys[k].name, L->seen[k]);
        L->seen[k] = line;
    }
    return keys[k].apply(L, value, line, e);
}

int ingest_config_load(const char *path, struct ingest_opts *o, struct instrument_table *tab,
                       struct out_error *e)
{
    struct loader *L = calloc(1, sizeof *L);
    struct ingest_opts *so = malloc(sizeof *so);
    struct instrument_table *st = malloc(sizeof *st);
    int rc = 0;
    if (!L || !so || !st) {
        rc = out_err(e, OUT_EINTERNAL, path, 0, 0, "out of memory");
        goto out;
    }
    _Static_assert(sizeof keys / sizeof keys[0] <= sizeof L->seen / sizeof L->seen[0],
                   "one seen[] slot per key");
    *so = *o;
    *st = *tab;
    so->instruments = st;   /* the wide spec is checked against the table being built */
    L->path = path;
    L->o = so;
    L->tab = st;
    if ((rc = read_lines(path, config_line, L, e)))
        goto out;
    if (L->wide) {
        struct out_error le = {0};
        if (L->wide_is_map) {
            rc = ingest_config_load_wide_map(L->wide, so, e);
            if (rc == OUT_EIO && e && e->line == 0) {
                char msg[sizeof e->msg];
                snprintf(msg, sizeof msg, "%s", e->msg);
                rc = out_err(e, rc, path, L->wide_line, 0, "wide_map: %s: %s", L->wide, msg);
            }
        } else if (ingest_opts_set_wide(so, L->wide, &le)) {
            rc = at_line(L, L->wide_line, "wide", &le, e);
        }
        if (rc)
            goto out;
    }
    if (so->n_wide && so->time_column[0]) {   /* ingest would refuse it; say so here */
        rc = out_err(e, OUT_EUSAGE, path, L->wide_line, 0,
                     "a wide spec and relative_time exclude each other (the wide spec's time "
                     "points give the times)");
        goto out;
    }
    *tab = *st;
    *o = *so;
    o->instruments = tab;
out:
    if (L)
        free(L->wide);
    free(L);
    free(so);
    free(st);
    return rc;
}
