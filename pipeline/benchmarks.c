/* benchmarks.c — see benchmarks.h. */
#include "benchmarks.h"

#include <csv.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>


enum { NCOL = 9 };
static const char *const cols[NCOL] = {"id", "citation", "measure", "estimate", "lo",
                                       "hi", "n", "note", "chart"};

struct st {
    struct bench_set *s;
    const char *path;
    char *f[NCOL];
    int nf;
    long line;
    int rc;
    struct out_error *e;
};

static void on_field(void *data, size_t len, void *arg)
{
    struct st *t = arg;
    if (t->nf < NCOL && !t->f[t->nf]) {
        t->f[t->nf] = malloc(len + 1);
        if (t->f[t->nf]) {
            memcpy(t->f[t->nf], data, len);
            t->f[t->nf][len] = '\0';
        }
    }
    t->nf++;
}

static int num(const char *s, double *out)
{
    if (!s[0]) {
        *out = NAN;
        return 0;
    }
    char *end;
    errno = 0;
    *out = strtod(s, &end);
    return errno || *end || !isfinite(*out) ? -1 : 0;
}

static void on_record(int c, void *arg)
{
    (void)c;
    struct st *t = arg;
    t->line++;
    int nf = t->nf;
    t->nf = 0;
    if (!t->rc && t->line == 1) {
        for (int i = 0; i < NCOL; i++)
            if (nf != NCOL || !t->f[i] || strcmp(t->f[i], cols[i]))
                t->rc = out_err(t->e, OUT_EINPUT, t->path, 1, i + 1,
                                "header must be id, citation, measure, estimate, lo, hi, n, "
                                "note, chart");
    } else if (!t->rc && nf != NCOL) {
        t->rc = out_err(t->e, OUT_EINPUT, t->path, t->line, 0, "expected %d fields, found %d",
                        NCOL, nf);
    } else if (!t->rc) {
        struct bench *nb = realloc(t->s->b, (t->s->n + 1) * sizeof *nb);
        if (!nb) {
            t->rc = out_err(t->e, OUT_EINTERNAL, t->path, t->line, 0, "out of memory");
        } else {
            t->s->b = nb;
            struct bench *b = &nb[t->s->n++];
            memset(b, 0, sizeof *b);
            b->id = t->f[0];
            b->citation = t->f[1];
            b->measure = t->f[2];
            b->note = t->f[7];
            b->chart = t->f[8];
            t->f[0] = t->f[1] = t->f[2] = t->f[7] = t->f[8] = NULL;
            double n;
            if (!b->id || !b->citation || !b->measure || !b->note || !b->chart)
                t->rc = out_err(t->e, OUT_EINTERNAL, t->path, t->line, 0, "out of memory");
            else if (num(t->f[3], &b->estimate) || num(t->f[4], &b->lo) || num(t->f[5], &b->hi) ||
                     num(t->f[6], &n) || (!isnan(n) && (n < 0 || n != floor(n))))
                t->rc = out_err(t->e, OUT_EINPUT, t->path, t->line, 0,
                                "estimate, lo, hi and n must be numbers or empty");
            else
                b->n = isnan(n) ? -1 : (long)n;
        }
    }
    for (int i = 0; i < NCOL; i++) {
        free(t->f[i]);
        t->f[i] = NULL;
    }
}

int bench_load(const char *path, struct bench_set *out, struct out_error *e)
{
    memset(out, 0, sizeof *out);
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    struct csv_parser p;
    struct st t = {.s = out, .path = path, .e = e};
    csv_init(&p, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL);
    csv_set_delim(&p, '\t');
    char buf[65536];
    size_t n;
    int perr = 0;
    while (!perr && (n = fread(buf, 1, sizeof buf, fp)) > 0)
        perr = csv_parse(&p, buf, n, on_field, on_record, &t) != n;
    if (!perr)
        perr = csv_fini(&p, on_field, on_record, &t) != 0;
    csv_free(&p);
    fclose(fp);
    for (int i = 0; i < NCOL; i++)
        free(t.f[i]);
    if (!t.rc && perr)
        t.rc = out_err(e, OUT_EINPUT, path, t.line + 1, 0, "malformed quoting");
    if (t.rc)
        bench_set_free(out);
    return t.rc;
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
