/* patients_csv.c — write and read patients.csv (see patients_csv.h, docs/patients-csv.md).
 *
 * The columns are one table: name, the cell's form, and where the value comes from: a
 * member of struct pmeasure, or, for a measure the record does not store, the accessor of
 * patient.h that computes it. Writer, reader and header check all walk that table, so a
 * column cannot be written one way and read another. The reader is strict because the
 * cohort stage trusts this file completely: libcsv in strict mode, numbers through strtod
 * with whole-field, finiteness and character checks, a physical line number on every error
 * (the input is fed to libcsv one line at a time so the line is always known), and every
 * computed cell must say what its accessor gives for the row's stored cells, so a file
 * edited by hand is refused rather than half believed. The RCI is the one computed cell that
 * needs more than its row: a divisor shared by the rows of an instrument (S_diff), which the
 * file does not hold; the reader finds it from the rci cells once every row is in (find_sdiff).
 */
#include "patients_csv.h"

#include <csv.h>
#include <errno.h>
#include <float.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "civil_date.h"
#include "escape.h"
#include "outfile.h"

enum col_kind {
    K_ID,        /* patient id (esc_csv) */
    K_INSTR,     /* instrument name */
    K_DIR,       /* "lower" / "higher": which way is better (the higher_better bit) */
    K_U16,       /* uint16_t >= min */
    K_I32,       /* int32_t >= min, always present */
    K_I32_OPT,   /* int32_t >= 0, or -1 <-> empty */
    K_I16_OPT,   /* int16_t >= 0, or -1 <-> empty */
    K_FLAG,      /* int8_t 0/1, or -1 <-> empty */
    K_DATE,      /* int32_t days since 1970-01-01 <-> YYYY-MM-DD */
    K_DBL,       /* double, NAN <-> empty */
    K_DBL_REQ,   /* double, never missing */
    K_RC,        /* int8_t enum rc_category by name, RC_UNKNOWN <-> empty */
    K_SDPRE,     /* patient_set.sd_pre[instr] */
    K_RESPONDED, /* the responded bit, 0/1 */
    K_END_DATE,  /* end-of-course date, stored as end_offset from first_day */
    K_RCI,       /* pm_rci, NAN <-> empty: not stored, checked by find_sdiff */
    /* Computed by `num` (K_INT_FN, K_FLAG_FN) or `dbl` (K_DBL_FN): not stored. */
    K_INT_FN,    /* int >= 0, always present */
    K_FLAG_FN,   /* 0/1, or -1 <-> empty */
    K_DBL_FN     /* double, NAN <-> empty */
};

struct column {
    const char *name;
    enum col_kind kind;
    size_t off;                                /* a stored value's place in the record */
    long min;
    int (*num)(const struct pmeasure *m);      /* K_INT_FN, K_FLAG_FN */
    double (*dbl)(const struct pmeasure *m);   /* K_DBL_FN */
};

/* The follow-up percentages as one-argument accessors, for the table. */
static double fu_pct_week8(const struct pmeasure *m)
{
    return pm_fu_pct(m, FU_WEEK8);
}
static double fu_pct_month3(const struct pmeasure *m)
{
    return pm_fu_pct(m, FU_MONTH3);
}
static double fu_pct_month12(const struct pmeasure *m)
{
    return pm_fu_pct(m, FU_MONTH12);
}

/* Where a column's value is: a member of the record (and the least value an integer cell
 * may take), an accessor, or neither (the kind says). */
#define AT(f, min) offsetof(struct pmeasure, f), min, NULL, NULL
#define NOWHERE 0, 0, NULL, NULL
#define NUM(f) 0, 0, f, NULL
#define DBL(f) 0, 0, NULL, f
static const struct column cols[] = {
    {"patient_id", K_ID, NOWHERE},
    {"episode", K_U16, AT(episode, 1)},
    {"instrument", K_INSTR, NOWHERE},
    {"direction", K_DIR, NOWHERE},
    {"n_visits", K_U16, AT(n_visits, 1)},
    {"n_attended", K_U16, AT(n_attended, 1)},
    {"first_date", K_DATE, AT(first_day, 0)},
    {"last_date", K_DATE, AT(last_day, 0)},
    {"first_session", K_I32, AT(first_session, 1)},
    {"last_session", K_I32, AT(last_session, 1)},
    {"baseline", K_DBL_REQ, AT(baseline, 0)},
    {"final", K_DBL, AT(final, 0)},
    {"change", K_DBL_FN, DBL(pm_change)},
    {"pct", K_DBL_FN, DBL(pm_pct)},
    {"zero_baseline", K_INT_FN, NUM(pm_zero_baseline)},
    {"resp30", K_FLAG_FN, NUM(pm_resp30)},
    {"resp50", K_FLAG_FN, NUM(pm_resp50)},
    {"resp_mic", K_FLAG, AT(resp_mic, 0)},
    {"sd_pre", K_SDPRE, NOWHERE},
    {"rci", K_RCI, NOWHERE},
    {"rc_category", K_RC, AT(rc_cat, 0)},
    {"responded", K_RESPONDED, NOWHERE},
    {"sessions_to_response", K_I32_OPT, AT(sessions_to_response, 0)},
    {"days_to_response", K_I32_OPT, AT(days_to_response, 0)},
    {"fu_week8", K_DBL, AT(fu[FU_WEEK8], 0)},
    {"fu_week8_day", K_I16_OPT, AT(fu_day[FU_WEEK8], 0)},
    {"fu_week8_pct", K_DBL_FN, DBL(fu_pct_week8)},
    {"fu_month3", K_DBL, AT(fu[FU_MONTH3], 0)},
    {"fu_month3_day", K_I16_OPT, AT(fu_day[FU_MONTH3], 0)},
    {"fu_month3_pct", K_DBL_FN, DBL(fu_pct_month3)},
    {"fu_month12", K_DBL, AT(fu[FU_MONTH12], 0)},
    {"fu_month12_day", K_I16_OPT, AT(fu_day[FU_MONTH12], 0)},
    {"fu_month12_pct", K_DBL_FN, DBL(fu_pct_month12)},
    {"end_date", K_END_DATE, NOWHERE},
    {"end_pct", K_DBL, AT(end_pct, 0)},
    {"resp_end", K_FLAG_FN, NUM(pm_resp_end)},
    {"resp_m12", K_FLAG_FN, NUM(pm_resp_m12)},
    {"durable", K_FLAG_FN, NUM(pm_durable)},
    {"immediate", K_DBL, AT(immediate, 0)},
    {"n_immediate", K_U16, AT(n_immediate, 0)},
    {"weeks", K_DBL_FN, DBL(pm_weeks)},
    {"sessions_per_week", K_DBL_FN, DBL(pm_sessions_per_week)},
};
#undef AT
#undef NOWHERE
#undef NUM
#undef DBL
enum { NCOLS = sizeof cols / sizeof cols[0] };

/* ---- writing ---- */

/* Rows are built in a private buffer and handed to stdio in blocks of about WBUF_CAP bytes:
 * per-cell fputc/fputs/strlen used to be most of the cost of writing a million rows. What
 * repeats is formatted once: a patient's id and covariate cells for all of the patient's
 * rows, each instrument's name, direction and sd_pre, recent dates. All of it lives in a
 * struct writer on the caller's stack and heap, nothing static, so writers on two threads
 * do not meet (dataset_fmt_num keeps its cache per thread). */
enum { WBUF_CAP = 1 << 15, DATE_SLOTS = 256 };
/* patients.csv is about 50 bytes per visit: 500 MB at 10M rows, whose fsync at commit took
 * 0.6 s here with nothing else left to do. Starting the disk writes every WRITEBACK_EVERY
 * bytes overlaps them with the formatting. */
#define WRITEBACK_EVERY ((size_t)32 << 20)

struct strbuf {
    char *s;
    size_t len, cap;
};

struct instr_text {
    char name[2 * sizeof ((struct instrument *)0)->name + 3];   /* escaped */
    size_t name_len;
    const char *dir;
    size_t dir_len;
    char sd[DATASET_NUM_MAX];   /* sd_pre, or "" when undefined */
    size_t sd_len;
};

struct writer {
    FILE *fp;
    const struct patient_set *ps;   /* for pm_rci */
    char *buf;                  /* WBUF_CAP bytes */
    size_t len;
    size_t unsynced;            /* bytes handed to stdio since the last outfile_writeback */
    int err;
    size_t row_max;             /* most bytes a row's cells other than K_ID can take */
    int have_patient;
    uint32_t patient;           /* whose id and tail are below */
    struct strbuf id;           /* escaped patient id */
    struct strbuf tail;         /* ",cov1,cov2,...\n", escaped */
    struct instr_text instr[INSTRUMENT_MAX];
    struct date_slot {
        int32_t day;
        char s[10];
    } date[DATE_SLOTS];
};

static int sb_reserve(struct strbuf *b, size_t more)
{
    if (more <= b->cap - b->len)
        return 0;
    size_t ncap = b->cap ? b->cap : 64;
    while (ncap - b->len < more) {
        if (ncap > SIZE_MAX / 2)
            return -1;
        ncap *= 2;
    }
    char *ns = realloc(b->s, ncap);
    if (!ns)
        return -1;
    b->s = ns;
    b->cap = ncap;
    return 0;
}

/* Append esc_csv(s) (escape.c) to b: the same rule, byte for byte, into memory instead of a
 * stream. Returns 0 or -1 (out of memory). */
static int sb_put_csv(struct strbuf *b, const char *s)
{
    int inject = csv_needs_prefix(s);
    size_t len = 0, quotes = 0;
    int special = 0;
    for (const char *p = s; *p; p++, len++) {
        special |= *p == ',' || *p == '"' || *p == '\r' || *p == '\n';
        quotes += *p == '"';
    }
    int quote = inject || special || (len && (s[0] == ' ' || s[len - 1] == ' '));
    if (sb_reserve(b, len + quotes + 3) != 0)
        return -1;
    char *q = b->s + b->len;
    if (!quote) {
        memcpy(q, s, len);
        b->len += len;
        return 0;
    }
    *q++ = '"';
    if (inject)
        *q++ = '\'';
    if (!quotes) {
        memcpy(q, s, len);
        q += len;
    } else {
        for (const char *p = s; *p; p++) {
            if (*p == '"')
                *q++ = '"';
            *q++ = *p;
        }
    }
    *q++ = '"';
    b->len = (size_t)(q - b->s);
    return 0;
}

static int sb_putc(struct strbuf *b, char c)
{
    if (sb_reserve(b, 1) != 0)
        return -1;
    b->s[b->len++] = c;
    return 0;
}

static void w_written(struct writer *w, size_t n)
{
    w->unsynced += n;
    if (w->unsynced >= WRITEBACK_EVERY) {
        outfile_writeback(w->fp);
        w->unsynced = 0;
    }
}

static void w_flush(struct writer *w)
{
    if (w->len && !w->err && fwrite(w->buf, 1, w->len, w->fp) != w->len)
        w->err = 1;
    w_written(w, w->len);
    w->len = 0;
}

/* Room for n more bytes (n <= WBUF_CAP); returns where they go. */
static char *w_reserve(struct writer *w, size_t n)
{
    if (n > WBUF_CAP - w->len)
        w_flush(w);
    return w->buf + w->len;
}

static void w_put(struct writer *w, const char *s, size_t n)
{
    if (n > WBUF_CAP - w->len) {
        w_flush(w);
        if (n > WBUF_CAP) {   /* a huge id or covariate: straight through */
            if (!w->err && fwrite(s, 1, n, w->fp) != n)
                w->err = 1;
            w_written(w, n);
            return;
        }
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Digits of v; printf is most of the cost of writing a million rows and integers are most
 * of the cells. */
static char *put_long(char *q, long v)
{
    unsigned long u = v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
    if (v < 0)
        *q++ = '-';
    if (u < 10) {
        *q++ = (char)('0' + u);
        return q;
    }
    if (u < 100) {
        q[0] = (char)('0' + u / 10);
        q[1] = (char)('0' + u % 10);
        return q + 2;
    }
    char tmp[24];
    char *t = tmp + sizeof tmp;
    do {
        *--t = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t n = (size_t)(tmp + sizeof tmp - t);
    memcpy(q, t, n);
    return q + n;
}

/* Shortest of %.15g / %.17g that reads back to the same double; -0 is written as 0.
 * Whole numbers below 2^53 are exact as integers and take the fast path. Writes at most
 * DATASET_NUM_MAX bytes at q (a NUL included, not counted). */
static char *put_double(char *q, double x)
{
    if (x == 0) {
        *q++ = '0';
        return q;
    }
    if (fabs(x) < 9007199254740992.0 && x == trunc(x))
        return put_long(q, (long)x);
    return q + dataset_fmt_num(q, x);
}

static char *put_date(struct writer *w, char *q, int32_t day)
{
    struct date_slot *s = &w->date[(uint32_t)day & (DATE_SLOTS - 1)];
    if (s->day != day) {
        char buf[11];
        civil_format(day, buf);
        memcpy(s->s, buf, sizeof s->s);
        s->day = day;
    }
    memcpy(q, s->s, sizeof s->s);
    return q + sizeof s->s;
}

/* Escape the patient's id and covariate cells once, for all of the patient's rows. */
static int set_patient(struct writer *w, const struct dataset *ds, uint32_t p)
{
    w->id.len = w->tail.len = 0;
    if (sb_put_csv(&w->id, ds->patient_id[p]) != 0)
        return -1;
    for (size_t c = 0; c < ds->n_cov; c++) {
        const char *v = dataset_cov(ds, p, (int)c);
        if (sb_putc(&w->tail, ',') != 0 || (v && sb_put_csv(&w->tail, v) != 0))
            return -1;
    }
    if (sb_putc(&w->tail, '\n') != 0)
        return -1;
    w->patient = p;
    w->have_patient = 1;
    return 0;
}

/* Per instrument: name, direction and sd_pre as text; and the longest row that gives. */
static void set_instruments(struct writer *w, const struct dataset *ds,
                            const struct patient_set *ps)
{
    size_t longest = 0;
    for (size_t k = 0; k < ds->n_instr && k < INSTRUMENT_MAX; k++) {
        struct instr_text *t = &w->instr[k];
        struct strbuf b = {t->name, 0, sizeof t->name};   /* large enough: never grows */
        sb_put_csv(&b, ds->instr[k]->name);
        t->name_len = b.len;
        t->dir = ds->instr[k]->higher_better ? "higher" : "lower";
        t->dir_len = strlen(t->dir);
        t->sd_len = 0;
        if (k < ps->n_instr && isfinite(ps->sd_pre[k]))
            t->sd_len = (size_t)(put_double(t->sd, ps->sd_pre[k]) - t->sd);
        if (t->name_len > longest)
            longest = t->name_len;
    }
    /* Every cell but the id and the instrument name fits in DATASET_NUM_MAX bytes (the
     * longest number, date or category name), plus its comma. */
    w->row_max = NCOLS * (DATASET_NUM_MAX + 1) + longest;
}

/* One row's cells, the id and the covariate tail included. */
static void put_row(struct writer *w, const struct pmeasure *m)
{
    const char *base = (const char *)m;
    const struct instr_text *it = &w->instr[m->instr];
    char *q = w_reserve(w, w->row_max);
    for (size_t c = 0; c < NCOLS; c++) {
        const struct column *col = &cols[c];
        if (c)
            *q++ = ',';
        switch (col->kind) {
        case K_ID:
            w->len = (size_t)(q - w->buf);
            w_put(w, w->id.s, w->id.len);
            q = w_reserve(w, w->row_max);
            break;
        case K_INSTR:
            memcpy(q, it->name, it->name_len);
            q += it->name_len;
            break;
        case K_DIR:
            memcpy(q, it->dir, it->dir_len);
            q += it->dir_len;
            break;
        case K_U16: {
            uint16_t v;
            memcpy(&v, base + col->off, sizeof v);
            q = put_long(q, (long)v);
            break;
        }
        case K_I32: {
            int32_t v;
            memcpy(&v, base + col->off, sizeof v);
            q = put_long(q, (long)v);
            break;
        }
        case K_I32_OPT: {
            int32_t v;
            memcpy(&v, base + col->off, sizeof v);
            if (v >= 0)
                q = put_long(q, (long)v);
            break;
        }
        case K_I16_OPT: {
            int16_t v;
            memcpy(&v, base + col->off, sizeof v);
            if (v >= 0)
                q = put_long(q, (long)v);
            break;
        }
        case K_FLAG: {
            int8_t v;
            memcpy(&v, base + col->off, sizeof v);
            if (v >= 0)
                q = put_long(q, (long)v);
            break;
        }
        case K_DATE: {
            int32_t v;
            memcpy(&v, base + col->off, sizeof v);
            q = put_date(w, q, v);
            break;
        }
        case K_DBL:
        case K_DBL_REQ: {
            double v;
            memcpy(&v, base + col->off, sizeof v);
            if (isfinite(v))
                q = put_double(q, v);
            break;
        }
        case K_RC: {
            int8_t v;
            memcpy(&v, base + col->off, sizeof v);
            const char *name = rc_category_name(v);
            size_t n = strlen(name);
            memcpy(q, name, n);
            q += n;
            break;
        }
        case K_SDPRE:
            memcpy(q, it->sd, it->sd_len);
            q += it->sd_len;
            break;
        case K_RESPONDED:
            *q++ = m->responded ? '1' : '0';
            break;
        case K_END_DATE:
            q = put_date(w, q, pm_end_day(m));
            break;
        case K_RCI: {
            double v = pm_rci(w->ps, m);
            if (isfinite(v))
                q = put_double(q, v);
            break;
        }
        case K_INT_FN:
            q = put_long(q, col->num(m));
            break;
        case K_FLAG_FN: {
            int v = col->num(m);
            if (v >= 0)
                q = put_long(q, v);
            break;
        }
        case K_DBL_FN: {
            double v = col->dbl(m);
            if (isfinite(v))
                q = put_double(q, v);
            break;
        }
        }
    }
    w->len = (size_t)(q - w->buf);
    w_put(w, w->tail.s, w->tail.len);
}

int patients_csv_write_fp(FILE *fp, const struct dataset *ds, const struct patient_set *ps)
{
    struct writer *w = calloc(1, sizeof *w);
    int rc = -1;
    if (!w || !(w->buf = malloc(WBUF_CAP)))
        goto out;
    w->fp = fp;
    w->ps = ps;
    for (size_t j = 0; j < DATE_SLOTS; j++) {
        char buf[11];
        w->date[j].day = (int32_t)j;   /* a valid entry in every slot: no "empty" to test */
        civil_format((int32_t)j, buf);
        memcpy(w->date[j].s, buf, sizeof w->date[j].s);
    }
    set_instruments(w, ds, ps);

    /* The header, through the tail buffer (no patient is cached yet). */
    for (size_t c = 0; c < NCOLS; c++) {
        if (c)
            w_put(w, ",", 1);
        w_put(w, cols[c].name, strlen(cols[c].name));
    }
    for (size_t c = 0; c < ds->n_cov; c++) {
        w->tail.len = 0;
        if (sb_putc(&w->tail, ',') != 0 || sb_put_csv(&w->tail, ds->cov_name[c]) != 0)
            goto out;
        w_put(w, w->tail.s, w->tail.len);
    }
    w_put(w, "\n", 1);

    for (size_t i = 0; i < ps->n && !w->err; i++) {
        const struct pmeasure *m = &ps->m[i];
        if ((!w->have_patient || m->patient != w->patient) &&
            set_patient(w, ds, m->patient) != 0)
            goto out;
        put_row(w, m);
    }
    w_flush(w);
    rc = w->err || ferror(fp) ? -1 : 0;
out:
    if (w) {
        free(w->buf);
        free(w->id.s);
        free(w->tail.s);
        free(w);
    }
    return rc;
}

int patients_csv_write(const char *path, const struct dataset *ds,
                       const struct patient_set *ps, struct out_error *e)
{
    struct outfile of;
    int rc = outfile_open(&of, path, e);
    if (rc)
        return rc;
    if (patients_csv_write_fp(of.fp, ds, ps) != 0) {
        outfile_abort(&of);
        return out_err(e, OUT_EIO, path, 0, 0, "write failed");
    }
    return outfile_commit(&of, e);
}

/* ---- reading ---- */

void patient_table_init(struct patient_table *pt)
{
    memset(&pt->set, 0, sizeof pt->set);
    for (size_t k = 0; k < INSTRUMENT_MAX; k++)
        pt->set.sd_pre[k] = pt->set.sdiff[k] = NAN;
    dataset_init(&pt->ds);
}

void patient_table_free(struct patient_table *pt)
{
    if (!pt)
        return;
    patient_set_free(&pt->set);
    dataset_free(&pt->ds);
    patient_table_init(pt);
}

/* A flag cell as the writer makes it: exactly "0" or "1" (not 00, +1 or -0, which
 * parse_long would take and a rewrite would not give back). */
static int parse_flag(const char *s, long *out)
{
    if ((s[0] != '0' && s[0] != '1') || s[1])
        return -1;
    *out = s[0] - '0';
    return 0;
}

/* An integer cell as the writer makes it (%ld): no sign but a minus, no leading zeros, not
 * -0; "+3" or "007" would read as 3 and 7, but a rewrite would not give the file back. */
static int parse_long(const char *s, long *out)
{
    char *end, back[32];
    if (!*s || strspn(s, "-0123456789") != strlen(s))
        return -1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || *end)
        return -1;
    snprintf(back, sizeof back, "%ld", v);
    if (strcmp(back, s) != 0)
        return -1;
    *out = v;
    return 0;
}

/* Decimal forms only: strtod would also take nan, inf and hex. */
static int parse_double(const char *s, double *out)
{
    char *end;
    if (!*s || strspn(s, "+-.0123456789eE") != strlen(s))
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end || !isfinite(v) || (errno == ERANGE && fabs(v) > 1))
        return -1;
    *out = v;
    return 0;
}

struct reader {
    struct patient_table *pt;
    struct out_error *e;
    const char *name;
    int err;                    /* first error already in *e; ignore the rest */
    long line;                  /* physical line being fed to libcsv (1-based) */
    long rec_line;              /* physical line where the current record started */
    long next_line;             /* the line after the last record's end: where the next
                                   starts, before its first field is known */
    size_t field;               /* index of the next field in the record */
    int header_done;
    size_t n_cols;
    char **cov_names;           /* header covariate names until declared */
    size_t n_cov_names;
    /* the record being read */
    struct pmeasure m;
    double got[NCOLS];          /* computed columns' cells (-1 or NAN when empty), checked
                                   against the accessors when the row is complete */
    long pid;
    int pid_new;
    uint32_t *cov;              /* n_cov interned values (UINT32_MAX missing) */
    double sd_pre;
    double rci;
    /* instruments in order of first appearance */
    size_t n_instr;
    char instr_name[INSTRUMENT_MAX][32];
    int instr_hb[INSTRUMENT_MAX];      /* -1 until a direction cell is seen */
    int instr_sd_set[INSTRUMENT_MAX];
    double instr_sd[INSTRUMENT_MAX];
    long *row_line;             /* line of each record, for messages after sorting */
    double *row_rci;            /* each record's rci cell (NAN when empty), for find_sdiff */
    size_t cap_row_line;
};

static void rd_fail(struct reader *r, int code, long col, const char *msg, const char *val)
{
    if (r->err)
        return;
    r->err = code;
    if (val)
        out_err(r->e, code, r->name, r->rec_line, col, "%s: '%.60s'", msg, val);
    else
        out_err(r->e, code, r->name, r->rec_line, col, "%s", msg);
}

static void header_field(struct reader *r, size_t f, const char *s)
{
    if (f < NCOLS) {
        if (strcmp(s, cols[f].name) != 0) {
            char msg[160];
            snprintf(msg, sizeof msg, "not a patients.csv header: column %zu should be '%s'",
                     f + 1, cols[f].name);
            rd_fail(r, OUT_EINPUT, (long)f + 1, msg, s);
        }
        return;
    }
    char *copy = strdup(s);
    char **nv = realloc(r->cov_names, (r->n_cov_names + 1) * sizeof *nv);
    if (!copy || !nv) {
        free(copy);
        if (nv)
            r->cov_names = nv;
        rd_fail(r, OUT_EINTERNAL, 0, "out of memory", NULL);
        return;
    }
    r->cov_names = nv;
    r->cov_names[r->n_cov_names++] = copy;
    csv_unprefix(copy);
    if (!copy[0])
        rd_fail(r, OUT_EINPUT, (long)f + 1, "empty covariate name in header", NULL);
    for (size_t i = 0; i + 1 < r->n_cov_names; i++)
        if (strcmp(r->cov_names[i], copy) == 0)
            rd_fail(r, OUT_EINPUT, (long)f + 1, "duplicate covariate column", copy);
}

static int find_instr(struct reader *r, const char *s)
{
    for (size_t k = 0; k < r->n_instr; k++)
        if (strcasecmp(r->instr_name[k], s) == 0)
            return (int)k;
    if (r->n_instr >= INSTRUMENT_MAX || strlen(s) >= sizeof r->instr_name[0] || !*s)
        return -1;
    snprintf(r->instr_name[r->n_instr], sizeof r->instr_name[0], "%s", s);
    r->instr_hb[r->n_instr] = -1;
    r->instr_sd_set[r->n_instr] = 0;
    return (int)r->n_instr++;
}

/* Parse one measure cell into r->m; 0 or -1 (bad value). */
static int data_cell(struct reader *r, const struct column *c, char *s)
{
    char *base = (char *)&r->m;
    long v;
    switch (c->kind) {
    case K_ID:
        csv_unprefix(s);
        if (!*s)
            return -1;
        {
            size_t before = r->pt->ds.n_patients;
            r->pid = dataset_patient(&r->pt->ds, s);
            if (r->pid < 0) {
                rd_fail(r, OUT_EINTERNAL, 0, "out of memory", NULL);
                return 0;
            }
            r->pid_new = r->pt->ds.n_patients > before;
        }
        return 0;
    case K_INSTR: {
        csv_unprefix(s);
        int k = find_instr(r, s);
        if (k < 0)
            return -1;
        r->m.instr = (uint8_t)k;   /* k < INSTRUMENT_MAX */
        return 0;
    }
    case K_DIR: {
        int hb = strcmp(s, "higher") == 0 ? 1 : strcmp(s, "lower") == 0 ? 0 : -1;
        if (hb < 0)
            return -1;
        if (r->instr_hb[r->m.instr] >= 0 && r->instr_hb[r->m.instr] != hb)
            return -1;
        r->instr_hb[r->m.instr] = hb;
        r->m.higher_better = hb == 1;
        return 0;
    }
    case K_U16: {
        if (parse_long(s, &v) || v < c->min || v > UINT16_MAX)
            return -1;
        uint16_t u = (uint16_t)v;
        memcpy(base + c->off, &u, sizeof u);
        return 0;
    }
    case K_I32: {
        if (parse_long(s, &v) || v < c->min || v > INT32_MAX)
            return -1;
        int32_t i = (int32_t)v;
        memcpy(base + c->off, &i, sizeof i);
        return 0;
    }
    case K_I32_OPT: {
        int32_t i = -1;
        if (*s && (parse_long(s, &v) || v < 0 || v > INT32_MAX))
            return -1;
        if (*s)
            i = (int32_t)v;
        memcpy(base + c->off, &i, sizeof i);
        return 0;
    }
    case K_I16_OPT: {
        int16_t i = -1;
        if (*s && (parse_long(s, &v) || v < 0 || v > INT16_MAX))
            return -1;
        if (*s)
            i = (int16_t)v;
        memcpy(base + c->off, &i, sizeof i);
        return 0;
    }
    case K_FLAG: {
        int8_t i = -1;
        if (*s && parse_flag(s, &v))
            return -1;
        if (*s)
            i = (int8_t)v;
        memcpy(base + c->off, &i, sizeof i);
        return 0;
    }
    case K_DATE: {
        int32_t d;
        if (civil_parse_iso(s, &d) != CIVIL_OK)
            return -1;
        memcpy(base + c->off, &d, sizeof d);
        return 0;
    }
    case K_DBL:
    case K_DBL_REQ: {
        double d = NAN;
        if ((*s || c->kind == K_DBL_REQ) && parse_double(s, &d))
            return -1;
        memcpy(base + c->off, &d, sizeof d);
        return 0;
    }
    case K_RC: {
        int rc;
        if (rc_category_parse(s, &rc))
            return -1;
        int8_t i = (int8_t)rc;   /* -1 .. 9 */
        memcpy(base + c->off, &i, sizeof i);
        return 0;
    }
    case K_SDPRE:
        r->sd_pre = NAN;
        return *s && parse_double(s, &r->sd_pre) ? -1 : 0;
    case K_RESPONDED:
        if (parse_flag(s, &v))
            return -1;
        r->m.responded = v == 1;
        return 0;
    case K_END_DATE: {
        /* Stored as days after first_date, which every row has already given (the header
         * fixes the order); the end of course is never before it (patient.h). */
        int32_t d;
        if (civil_parse_iso(s, &d) != CIVIL_OK)
            return -1;
        long off = (long)d - r->m.first_day;
        if (off < 0 || off > INT16_MAX)
            return -1;
        r->m.end_offset = (int16_t)off;
        return 0;
    }
    case K_INT_FN:
        if (parse_long(s, &v) || v < 0 || v > INT_MAX)
            return -1;
        r->got[c - cols] = (double)v;
        return 0;
    case K_FLAG_FN:
        if (*s && parse_flag(s, &v))
            return -1;
        r->got[c - cols] = *s ? (double)v : -1;
        return 0;
    case K_DBL_FN:
        r->got[c - cols] = NAN;
        return *s && parse_double(s, &r->got[c - cols]) ? -1 : 0;
    case K_RCI:
        r->rci = NAN;
        return *s && parse_double(s, &r->rci) ? -1 : 0;
    }
    return -1;
}

/* Once the row is complete: every computed cell must be what its accessor gives for the
 * stored ones, compared as written (every non-finite value is the same empty cell).
 * Returns 0, or -1 with the error reported. */
static int check_computed(struct reader *r)
{
    for (size_t c = 0; c < NCOLS; c++) {
        const struct column *col = &cols[c];
        double want;
        if (col->kind == K_DBL_FN)
            want = col->dbl(&r->m);
        else if (col->kind == K_INT_FN || col->kind == K_FLAG_FN)
            want = col->num(&r->m);
        else
            continue;
        double got = r->got[c];
        if (!(got == want || (!isfinite(got) && !isfinite(want)))) {
            char msg[128];
            snprintf(msg, sizeof msg, "%s: not what the row's stored cells give", col->name);
            rd_fail(r, OUT_EINPUT, (long)c + 1, msg, NULL);
            return -1;
        }
    }
    return 0;
}

static void on_field(void *s, size_t len, void *data)
{
    struct reader *r = data;
    char empty[1] = "";
    char *str = s ? s : empty;
    size_t f = r->field++;
    if (r->err)
        return;
    if (f == 0) {
        /* The record started as many lines up as its first field holds newlines. */
        long nl = 0;
        for (size_t i = 0; i < len; i++)
            nl += str[i] == '\n';
        r->rec_line = r->line - nl;
    }
    if (strlen(str) != len) {
        rd_fail(r, OUT_EINPUT, (long)f + 1, "NUL byte in field", NULL);
        return;
    }
    if (!r->header_done) {
        header_field(r, f, str);
        return;
    }
    if (f < NCOLS) {
        if (data_cell(r, &cols[f], str) != 0) {
            char msg[96];
            snprintf(msg, sizeof msg, "%s: invalid value", cols[f].name);
            rd_fail(r, OUT_EINPUT, (long)f + 1, msg, str);
        }
        return;
    }
    size_t c = f - NCOLS;
    if (c >= r->pt->ds.n_cov)
        return;   /* the record callback reports the field count */
    csv_unprefix(str);
    uint32_t v = UINT32_MAX;
    if (*str) {
        long idx = dataset_cov_intern(&r->pt->ds, str);
        if (idx < 0) {
            rd_fail(r, OUT_EINTERNAL, 0, "out of memory", NULL);
            return;
        }
        v = (uint32_t)idx;
    }
    r->cov[c] = v;
}

static void end_header(struct reader *r)
{
    if (r->field < NCOLS) {
        rd_fail(r, OUT_EINPUT, 0, "not a patients.csv header: too few columns", NULL);
        return;
    }
    r->n_cols = r->field;
    struct dataset *ds = &r->pt->ds;
    if (dataset_set_covariates(ds, (const char *const *)r->cov_names, r->n_cov_names) != 0 ||
        !(r->cov = malloc((r->n_cov_names ? r->n_cov_names : 1) * sizeof *r->cov))) {
        rd_fail(r, OUT_EINTERNAL, 0, "out of memory", NULL);
        return;
    }
    r->header_done = 1;
}

static void end_record(struct reader *r)
{
    struct dataset *ds = &r->pt->ds;
    struct patient_set *ps = &r->pt->set;
    if (r->field != r->n_cols) {
        char msg[96];
        snprintf(msg, sizeof msg, "%zu fields, the header has %zu", r->field, r->n_cols);
        rd_fail(r, OUT_EINPUT, 0, msg, NULL);
        return;
    }
    if (check_computed(r) != 0)
        return;
    size_t p = (size_t)r->pid;
    for (size_t c = 0; c < ds->n_cov; c++) {
        uint32_t *slot = &ds->cov_value[p * ds->n_cov + c];
        if (r->pid_new)
            *slot = r->cov[c];
        else if (*slot != r->cov[c]) {
            rd_fail(r, OUT_EINPUT, (long)(NCOLS + c + 1),
                    "covariate differs from this patient's earlier rows", ds->cov_name[c]);
            return;
        }
    }
    size_t k = r->m.instr;
    if (r->instr_sd_set[k] &&
        !(r->instr_sd[k] == r->sd_pre || (isnan(r->instr_sd[k]) && isnan(r->sd_pre)))) {
        rd_fail(r, OUT_EINPUT, 0, "sd_pre differs from earlier rows of this instrument",
                r->instr_name[k]);
        return;
    }
    r->instr_sd[k] = r->sd_pre;
    r->instr_sd_set[k] = 1;
    r->m.patient = (uint32_t)p;
    if (ps->n == ps->cap) {
        size_t ncap = ps->cap ? ps->cap * 2 : 256;
        struct pmeasure *nm = realloc(ps->m, ncap * sizeof *nm);
        long *nl = realloc(r->row_line, ncap * sizeof *nl);
        double *nr = realloc(r->row_rci, ncap * sizeof *nr);
        if (nm)
            ps->m = nm;
        if (nl)
            r->row_line = nl;
        if (nr)
            r->row_rci = nr;
        if (!nm || !nl || !nr) {
            rd_fail(r, OUT_EINTERNAL, 0, "out of memory", NULL);
            return;
        }
        ps->cap = ncap;
    }
    r->row_line[ps->n] = r->rec_line;
    r->row_rci[ps->n] = r->rci;
    ps->m[ps->n++] = r->m;
}

static void on_record(int term, void *data)
{
    struct reader *r = data;
    (void)term;
    if (!r->err) {
        if (!r->header_done)
            end_header(r);
        else
            end_record(r);
    }
    r->field = 0;
    r->next_line = r->line + 1;
    memset(&r->m, 0, sizeof r->m);
    r->pid = -1;
}

/* Candidates for S_diff around change/rci: that double and this many either side. */
enum { SDIFF_ULPS = 8 };

/* Index (in file order) of the first row of instrument k whose rci cell is not what pm_rci
 * gives with S_diff s, or ps->n when every one is; leaves ps->sdiff[k] = s. */
static size_t sdiff_mismatch(struct reader *r, size_t k, double s)
{
    struct patient_set *ps = &r->pt->set;
    ps->sdiff[k] = s;
    for (size_t i = 0; i < ps->n; i++) {
        if (ps->m[i].instr != k)
            continue;
        double want = pm_rci(ps, &ps->m[i]), got = r->row_rci[i];
        if (!(got == want || (!isfinite(got) && !isfinite(want))))
            return i;
    }
    return ps->n;
}

/* Set each instrument's S_diff (patient.h) so that pm_rci gives the file's rci cells. The
 * file does not hold it and the instrument table may not give it: pm_sdiff needs the
 * reliability, which a placeholder lacks and a user's table may set otherwise than the run's.
 * So S_diff is the first candidate that gives every rci cell of the instrument: the table's;
 * none (every cell empty); then, from a row whose change c, rci v and c/v are normal
 * numbers, the doubles within SDIFF_ULPS of c/v. The run's S_diff s is among those: v = c/s
 * and c/v are each rounded once, so c/v lies within 2 ulps of s (4 across a power of two).
 * Without such a row every change is 0 (or missing), and any S_diff, 1, gives the 0 cells.
 * An S_diff needs an sd_pre > 0, so without one the only candidate is none.
 * Rows are still in file order. Returns 0, or OUT_EINPUT at the row where the candidate that
 * agreed longest failed: a cell edited by hand. */
static int find_sdiff(struct reader *r)
{
    struct patient_set *ps = &r->pt->set;
    size_t col = 0;
    while (cols[col].kind != K_RCI)
        col++;
    for (size_t k = 0; k < ps->n_instr; k++) {
        double cand[3 + 2 * SDIFF_ULPS];
        size_t nc = 0;
        cand[nc++] = pm_sdiff(ps->sd_pre[k], r->pt->ds.instr[k]->reliability);
        if (ps->sd_pre[k] > 0) {
            double q = NAN;
            for (size_t i = 0; i < ps->n && isnan(q); i++) {
                double c = pm_change(&ps->m[i]), v = r->row_rci[i];
                if (ps->m[i].instr == k && isnormal(c) && isnormal(v) && isnormal(c / v))
                    q = c / v;
            }
            cand[nc++] = NAN;
            cand[nc++] = isnan(q) ? 1 : q;
            for (double up = q, down = q; !isnan(q) && nc < sizeof cand / sizeof cand[0];) {
                cand[nc++] = up = nextafter(up, INFINITY);
                cand[nc++] = down = nextafter(down, 0);
            }
        }
        size_t latest = ps->n;   /* the latest first failure, in file order */
        size_t j = 0;
        for (; j < nc; j++) {
            size_t at = sdiff_mismatch(r, k, cand[j]);
            if (at == ps->n)
                break;
            if (latest == ps->n || at > latest)
                latest = at;
        }
        if (j == nc)
            return out_err(r->e, OUT_EINPUT, r->name, r->row_line[latest], (long)col + 1,
                           "rci: not change / S_diff with one S_diff for every row of "
                           "instrument %s", r->instr_name[k]);
    }
    return 0;
}

/* Row order in the file is not trusted: sort by patient, episode, instrument as the
 * patient_set contract promises, carrying each row's line along for the duplicate check. */
struct sortrow {
    struct pmeasure m;
    long line;
};

static int sortrow_cmp(const void *pa, const void *pb)
{
    const struct pmeasure *a = &((const struct sortrow *)pa)->m;
    const struct pmeasure *b = &((const struct sortrow *)pb)->m;
    if (a->patient != b->patient)
        return a->patient < b->patient ? -1 : 1;
    if (a->episode != b->episode)
        return a->episode < b->episode ? -1 : 1;
    return (a->instr > b->instr) - (a->instr < b->instr);
}

static int finish(struct reader *r, const struct instrument_table *tab)
{
    struct patient_table *pt = r->pt;
    struct patient_set *ps = &pt->set;
    struct instrument_table t;
    if (tab)
        t = *tab;
    else
        instrument_table_builtin(&t);
    const char *names[INSTRUMENT_MAX];
    for (size_t k = 0; k < r->n_instr; k++) {
        const struct instrument *in = instrument_find(&t, r->instr_name[k]);
        if (in && in->higher_better != r->instr_hb[k])
            return out_err(r->e, OUT_EINPUT, r->name, 0, 0,
                           "instrument '%s': the file says %s is better, the instrument "
                           "table says otherwise", r->instr_name[k],
                           r->instr_hb[k] ? "higher" : "lower");
        if (!in) {
            struct instrument ph;
            memset(&ph, 0, sizeof ph);
            snprintf(ph.name, sizeof ph.name, "%s", r->instr_name[k]);
            snprintf(ph.label, sizeof ph.label, "%s", r->instr_name[k]);
            ph.min = -DBL_MAX;
            ph.max = DBL_MAX;
            ph.higher_better = r->instr_hb[k];
            ph.mic = ph.reliability = ph.cutoff = NAN;
            if (instrument_table_add(&t, &ph) != 0)
                return out_err(r->e, OUT_EINPUT, r->name, 0, 0,
                               "too many instruments (at most %d)", INSTRUMENT_MAX);
        }
        names[k] = r->instr_name[k];
    }
    if (dataset_set_instruments(&pt->ds, &t, names, r->n_instr) != 0)
        return out_err(r->e, OUT_EINPUT, r->name, 0, 0, "cannot set up instruments");
    ps->n_instr = r->n_instr;
    for (size_t k = 0; k < r->n_instr; k++)
        ps->sd_pre[k] = r->instr_sd[k];
    int bad = find_sdiff(r);
    if (bad)
        return bad;

    if (ps->n > 1) {
        struct sortrow *tmp = malloc(ps->n * sizeof *tmp);
        if (!tmp)
            return out_err(r->e, OUT_EINTERNAL, r->name, 0, 0, "out of memory");
        for (size_t i = 0; i < ps->n; i++) {
            tmp[i].m = ps->m[i];
            tmp[i].line = r->row_line[i];
        }
        qsort(tmp, ps->n, sizeof *tmp, sortrow_cmp);
        for (size_t i = 0; i < ps->n; i++) {
            if (i > 0 && sortrow_cmp(&tmp[i - 1], &tmp[i]) == 0) {
                long line = tmp[i].line > tmp[i - 1].line ? tmp[i].line : tmp[i - 1].line;
                int rc = out_err(r->e, OUT_EINPUT, r->name, line, 0,
                                 "duplicate row for patient '%.60s', episode %u, "
                                 "instrument %s", pt->ds.patient_id[tmp[i].m.patient],
                                 (unsigned)tmp[i].m.episode, r->instr_name[tmp[i].m.instr]);
                free(tmp);
                return rc;
            }
            ps->m[i] = tmp[i].m;
        }
        free(tmp);
    }
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (i == 0 || m->patient != ps->m[i - 1].patient || m->episode != ps->m[i - 1].episode)
            ps->n_patients++;
        ps->n_single_visit += m->n_visits == 1;
        ps->n_zero_baseline += pm_zero_baseline(m) == 1;
    }
    return 0;
}

/* libcsv grows a field's buffer without limit, so one stray quote would pull the rest of a
 * 500 MB file into a single field before the error shows. No field the writer makes can be
 * longer than ingest's record limit (1 MiB: ids and covariate values come from records). */
enum { FIELD_CAP = (1 << 20) + 4096 };

static void *capped_realloc(void *ptr, size_t n)
{
    return n > FIELD_CAP ? NULL : realloc(ptr, n);
}

/* libcsv would trim unquoted spaces and tabs; this file never pads, and an id may end in
 * a tab that esc_csv leaves unquoted. */
static int no_space(unsigned char c)
{
    (void)c;
    return 0;
}

int patients_csv_read_fp(FILE *fp, const char *name, const struct instrument_table *tab,
                         struct patient_table *pt, struct out_error *e)
{
    patient_table_init(pt);
    struct reader r;
    memset(&r, 0, sizeof r);
    r.pt = pt;
    r.e = e;
    r.name = name;
    r.line = 1;
    r.next_line = 1;
    r.pid = -1;
    struct csv_parser p;
    if (csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
        return out_err(e, OUT_EINTERNAL, name, 0, 0, "out of memory");
    csv_set_space_func(&p, no_space);
    csv_set_realloc_func(&p, capped_realloc);

    int rc = 0;
    char buf[65536];
    size_t got;
    while (!r.err && (got = fread(buf, 1, sizeof buf, fp)) > 0) {
        /* One physical line per csv_parse call, so r.line is right in every callback. */
        for (size_t off = 0; off < got && !r.err;) {
            const char *nl = memchr(buf + off, '\n', got - off);
            size_t len = nl ? (size_t)(nl - (buf + off)) + 1 : got - off;
            if (csv_parse(&p, buf + off, len, on_field, on_record, &r) != len) {
                long started = r.field ? r.rec_line : r.next_line;   /* on_field's, or */
                r.rec_line = r.line;
                if (csv_error(&p) == CSV_ENOMEM && p.entry_size + p.blk_size > FIELD_CAP) {
                    /* Named where its record starts, as every other row error: the quote
                     * that ran away is there, not 1 MiB later. */
                    r.rec_line = started;
                    rd_fail(&r, OUT_EINPUT, (long)r.field + 1,
                            "a field longer than 1 MiB (a stray quote?)", NULL);
                } else
                    rd_fail(&r, OUT_EINPUT, (long)r.field + 1, "malformed CSV",
                            csv_strerror(csv_error(&p)));
            }
            off += len;
            if (nl)
                r.line++;
        }
    }
    if (!r.err && ferror(fp))
        rc = out_err(e, OUT_EIO, name, 0, 0, "read error");
    if (!r.err && !rc && csv_fini(&p, on_field, on_record, &r) != 0) {
        r.rec_line = r.line;
        rd_fail(&r, OUT_EINPUT, 0, "unterminated quoted field at end of file", NULL);
    }
    csv_free(&p);
    if (!r.err && !rc && !r.header_done)
        rc = out_err(e, OUT_EINPUT, name, 0, 0, "empty file: no patients.csv header");
    if (!r.err && !rc)
        rc = finish(&r, tab);
    if (r.err)
        rc = r.err;
    for (size_t i = 0; i < r.n_cov_names; i++)
        free(r.cov_names[i]);
    free(r.cov_names);
    free(r.cov);
    free(r.row_line);
    free(r.row_rci);
    if (rc)
        patient_table_free(pt);
    return rc;
}

int patients_csv_read(const char *path, const struct instrument_table *tab,
                      struct patient_table *pt, struct out_error *e)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        patient_table_init(pt);
        return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    }
    int rc = patients_csv_read_fp(fp, path, tab, pt, e);
    fclose(fp);
    return rc;
}
