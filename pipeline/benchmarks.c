/* benchmarks.c — see benchmarks.h. */
#include "benchmarks.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csvread.h"
#include "parse_num.h"


enum { NCOL = 9 };
static const char *const cols[NCOL] = {"id", "citation", "measure", "estimate", "lo",
                                       "hi", "n", "note", "chart"};

struct st {
    struct bench_set *s;
    const char *path;
    int header_done;
};

/* Plain decimals only (parse_decimal): strtod would take "0x10" as 16, "1e1" or "nan".
 * Empty is NAN. */
static int num(const char *s, double *out)
{
    if (!s[0]) {
        *out = NAN;
        return 0;
    }
    return parse_decimal(s, '.', out) || !isfinite(*out) ? -1 : 0;
}

static char *dup_field(const struct csvread_record *rec, size_t i)
{
    char *d = malloc(rec->len[i] + 1);
    if (d) {
        memcpy(d, rec->field[i], rec->len[i]);
        d[rec->len[i]] = '\0';
    }
    return d;
}

/* One record, with the physical line it starts on (csvread: blank lines and quoted line
 * breaks do not shift it). */
static int on_record(void *ctx, const struct csvread_record *rec, struct out_error *e)
{
    struct st *t = ctx;
    if (!t->header_done) {
        t->header_done = 1;
        for (int i = 0; i < NCOL; i++)
            if (rec->n != NCOL || strcmp(rec->field[i < (int)rec->n ? i : 0], cols[i]))
                return out_err(e, OUT_EINPUT, t->path, rec->line, i + 1,
                               "header must be id, citation, measure, estimate, lo, hi, n, "
                               "note, chart");
        return 0;
    }
    if (rec->n != NCOL)
        return out_err(e, OUT_EINPUT, t->path, rec->line, 0, "expected %d fields, found %zu",
                       NCOL, rec->n);
    double est, lo, hi, n;
    if (num(rec->field[3], &est) || num(rec->field[4], &lo) || num(rec->field[5], &hi) ||
        num(rec->field[6], &n) || (!isnan(n) && (n < 0 || n != floor(n) || n > 1e15)))
        return out_err(e, OUT_EINPUT, t->path, rec->line, 0,
                       "estimate, lo, hi and n must be plain decimal numbers or empty");
    struct bench *nb = realloc(t->s->b, (t->s->n + 1) * sizeof *nb);
    if (!nb)
        return out_err(e, OUT_EINTERNAL, t->path, rec->line, 0, "out of memory");
    t->s->b = nb;
    struct bench *b = &nb[t->s->n++];
    memset(b, 0, sizeof *b);
    b->estimate = est;
    b->lo = lo;
    b->hi = hi;
    b->n = isnan(n) ? -1 : (long)n;
    b->id = dup_field(rec, 0);
    b->citation = dup_field(rec, 1);
    b->measure = dup_field(rec, 2);
    b->note = dup_field(rec, 7);
    b->chart = dup_field(rec, 8);
    if (!b->id || !b->citation || !b->measure || !b->note || !b->chart)
        return out_err(e, OUT_EINTERNAL, t->path, rec->line, 0, "out of memory");
    return 0;
}

int bench_load(const char *path, struct bench_set *out, struct out_error *e)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    struct st t = {.s = out, .path = path};
    struct csvread r;
    int rc = csvread_init(&r, path, '\t', 0, on_record, &t, e);
    char buf[65536];
    size_t n;
    while (!rc && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        rc = csvread_feed(&r, buf, n, e);
    if (!rc && ferror(fp))
        rc = out_err(e, OUT_EIO, path, 0, 0, "read error: %s", strerror(errno));
    if (!rc)
        rc = csvread_finish(&r, e);
    if (!rc && !t.header_done)
        rc = out_err(e, OUT_EINPUT, path, 1, 0, "empty file: no header");
    csvread_free(&r);
    fclose(fp);
    if (rc)
        bench_set_free(out);
    return rc;
}

void bench_set_free(struct bench_set *s)
{
    if (!s)
        return;
    for (size_t i = 0; i < s->n; i++) {
        free(s->b[i].id);
        free(s->b[i].citation);
        free(s->b[i].measure);
        free(s->b[i].note);
        free(s->b[i].chart);
    }
    free(s->b);
    memset(s, 0, sizeof *s);
}
