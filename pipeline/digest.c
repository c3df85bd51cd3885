/* digest.c — see digest.h. */
#include "digest.h"
#include "grow.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void digest_init(struct visit_digest *d)
{
    memset(d, 0, sizeof *d);
}

void digest_free(struct visit_digest *d)
{
    if (!d)
        return;
    free(d->adverse);
    free(d->o_buf);
    free(d->sess_buf);
    free(d->start_buf);
    digest_init(d);
}

double digest_cell_sd(const struct digest_cell *c)
{
    return c->n >= 2 ? sqrt(c->m2 / (double)(c->n - 1)) : NAN;
}

static int grow_patients(struct visit_digest *d, size_t np)
{
    if (np > d->cap_patients) {
        size_t ncap = d->cap_patients ? d->cap_patients : 1024;
        while (ncap < np)
            ncap *= 2;
        int8_t *na = realloc(d->adverse, ncap);
        if (!na)
            return -1;
        d->adverse = na;
        d->cap_patients = ncap;
    }
    if (np > d->n_patients) {
        memset(d->adverse + d->n_patients, -1, np - d->n_patients);
        d->n_patients = np;
    }
    return 0;
}

struct dayidx {
    int32_t day;
    uint32_t v;
};

static int cmp_dayidx(const void *a, const void *b)
{
    const struct dayidx *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    return (x->v > y->v) - (x->v < y->v);
}

/* One score at session s of instrument k. */
static void cell_add(struct digest_cell *c, double x)
{
    c->n++;
    c->sum += x;
    double delta = x - c->mean;
    c->mean += delta / (double)c->n;
    c->m2 += delta * (x - c->mean);
}

/* Visits already in date order (the usual export) need no sort. */
static int in_order(const struct dayidx *o, size_t n)
{
    for (size_t i = 1; i < n; i++)
        if (cmp_dayidx(&o[i - 1], &o[i]) > 0)
            return 0;
    return 1;
}

/* Any visit of the patient flagged: the patient had an adverse event. */
static void add_adverse(struct visit_digest *d, const struct dataset *ds, size_t lo, size_t hi)
{
    for (size_t v = lo; v < hi; v++) {
        const struct visit *vi = &ds->visit[v];
        if (vi->adverse < 0)
            continue;
        d->adverse_any = 1;
        if (vi->adverse > 0)
            d->adverse[vi->patient] = 1;
        else if (d->adverse[vi->patient] < 0)
            d->adverse[vi->patient] = 0;
    }
}

int digest_add(struct visit_digest *d, const struct dataset *ds, size_t lo, size_t hi)
{
    d->n_instr = ds->n_instr;
    if (grow_patients(d, ds->n_patients))
        return -1;
    if (hi <= lo)
        return 0;
    size_t n = hi - lo;
    /* Group by patient: a counting sort over the patients the range touches (one, when
     * streaming), keeping input order within a patient. */
    uint32_t pmin = UINT32_MAX, pmax = 0;
    for (size_t v = lo; v < hi; v++) {
        uint32_t p = ds->visit[v].patient;
        pmin = p < pmin ? p : pmin;
        pmax = p > pmax ? p : pmax;
    }
    size_t span = (size_t)(pmax - pmin) + 1;
    if (grow_buf(&d->o_buf, &d->o_cap, n, sizeof(struct dayidx)) ||
        grow_buf(&d->sess_buf, &d->sess_cap, n, sizeof(int)) ||
        grow_buf(&d->start_buf, &d->start_cap, span + 1, sizeof(size_t)))
        return -1;
    struct dayidx *o = d->o_buf;
    int *sess = d->sess_buf;
    size_t *start = d->start_buf;
    memset(start, 0, (span + 1) * sizeof *start);
    for (size_t v = lo; v < hi; v++)
        start[ds->visit[v].patient - pmin + 1]++;
    for (size_t p = 0; p < span; p++)
        start[p + 1] += start[p];
    for (size_t v = lo; v < hi; v++) {
        size_t j = start[ds->visit[v].patient - pmin]++;
        o[j].day = ds->visit[v].day;
        o[j].v = (uint32_t)v;
    }
    for (size_t p = span; p > 0; p--)
        start[p] = start[p - 1];
    start[0] = 0;
    for (size_t p = 0; p < span; p++) {
        size_t a = start[p], b = start[p + 1];
        if (b - a > 1 && !in_order(o + a, b - a))
            qsort(o + a, b - a, sizeof *o, cmp_dayidx);
        for (size_t j = a; j < b; j++) {
            int fs = ds->visit[o[j].v].session;
            sess[o[j].v - lo] = fs > 0 ? fs : (int)(j - a + 1);
        }
    }
    add_adverse(d, ds, lo, hi);
    /* Scores in input order, as a plain loop over the table adds them. */
    size_t nk = ds->n_instr;
    for (size_t v = lo; v < hi; v++) {
        int s = sess[v - lo];
        if (s < 1 || s > DIGEST_MAX_SESSION)
            continue;
        for (size_t k = 0; k < nk; k++) {
            double x = ds->score[v * nk + k];
            if (!isnan(x))
                cell_add(&d->traj[k][s], x);
        }
    }
    return 0;
}

const struct visit_digest *digest_of(const struct dataset *ds, struct visit_digest *local)
{
    digest_init(local);
    if (ds->digest)
        return ds->digest;
    return digest_add(local, ds, 0, ds->n_visits) == 0 ? local : NULL;
}

int digest_attach(struct dataset *ds)
{
    struct visit_digest *d = malloc(sizeof *d);
    if (!d)
        return -1;
    digest_init(d);
    if (digest_add(d, ds, 0, ds->n_visits)) {
        digest_free(d);
        free(d);
        return -1;
    }
    /* A whole table's scratch is as large as the table: not worth keeping. */
    free(d->o_buf);
    free(d->sess_buf);
    free(d->start_buf);
    d->o_buf = d->sess_buf = d->start_buf = NULL;
    d->o_cap = d->sess_cap = d->start_cap = 0;
    ds->digest = d;
    return 0;
}
