/* dataset.c — growth and interning for the visit table (see dataset.h).
 * Ids are interned through an open-addressing hash (FNV-1a, linear probing, load < 3/4)
 * so a million patients cost one lookup per row, not a scan. Each slot carries the hash's
 * low 32 bits: a probe compares those before following the pointer to the string, and
 * growing the table rehashes without touching the strings (at 1M ids both were cache
 * misses). The strings themselves are packed into chunks. */
#include "dataset.h"
#include "bigarr.h"
#include "digest.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const reason_names[REJ__COUNT] = {
    [REJ_FIELD_COUNT] = "wrong_field_count",
    [REJ_MISSING_ID] = "missing_patient_id",
    [REJ_MISSING_DATE] = "missing_date",
    [REJ_BAD_DATE] = "invalid_date",
    [REJ_FUTURE_DATE] = "future_date",
    [REJ_BAD_SESSION] = "invalid_session",
    [REJ_NONNUMERIC] = "non_numeric_score",
    [REJ_RANGE] = "out_of_range",
    [REJ_NO_SCORES] = "no_scores",
    [REJ_DUP_EXACT] = "duplicate_exact",
    [REJ_DUP_CONFLICT] = "duplicate_conflict",
    [REJ_BAD_FLAG] = "invalid_flag",
    [REJ_BAD_EPISODE] = "invalid_episode",
    [REJ_MANGLED_ID] = "mangled_patient_id",
};

const char *reject_reason_name(enum reject_reason r)
{
    return (unsigned)r < REJ__COUNT ? reason_names[r] : "unknown";
}

void dataset_init(struct dataset *ds)
{
    memset(ds, 0, sizeof *ds);
}

static void free_strv(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* A chunk of the string arena; the newest is first. */
struct str_chunk {
    struct str_chunk *next;
    size_t used, cap;
    char data[];
};
enum { STR_CHUNK = 64 * 1024 };

char *dataset_strdup(struct dataset *ds, const char *s)
{
    size_t n = strlen(s) + 1;
    struct str_chunk *c = ds->str_arena;
    if (!c || c->cap - c->used < n) {
        size_t cap = n > STR_CHUNK ? n : STR_CHUNK;
        struct str_chunk *nc = malloc(sizeof *nc + cap);
        if (!nc)
            return NULL;
        nc->used = 0;
        nc->cap = cap;
        /* A string too long for a fresh chunk gets a chunk of its own behind the current
         * one, which keeps its free room for the next short string. */
        if (c && n > STR_CHUNK) {
            nc->next = c->next;
            c->next = nc;
        } else {
            nc->next = c;
            ds->str_arena = nc;
        }
        c = nc;
    }
    char *p = c->data + c->used;
    memcpy(p, s, n);
    c->used += n;
    return p;
}

void dataset_free(struct dataset *ds)
{
    if (!ds)
        return;
    free(ds->visit);
    free(ds->score);
    free(ds->pain_post);
    free(ds->episode);
    bigarr_free(ds->patient_id);
    bigarr_free(ds->pid_hash);
    free_strv(ds->cov_name, ds->n_cov);
    free(ds->cov_value);
    bigarr_free(ds->cov_str);
    bigarr_free(ds->cov_hash);
    while (ds->str_arena) {
        struct str_chunk *next = ds->str_arena->next;
        free(ds->str_arena);
        ds->str_arena = next;
    }
    for (size_t i = 0; i < ds->n_files; i++)
        free(ds->file[i].path);
    free(ds->file);
    digest_free(ds->digest);
    free(ds->digest);
    dataset_init(ds);
}

void dataset_drop_visits(struct dataset *ds)
{
    ds->visits_streamed += (long)ds->n_visits;
    ds->n_visits = 0;
}

int dataset_set_instruments(struct dataset *ds, const struct instrument_table *tab,
                            const char *const *names, size_t n)
{
    if (n > INSTRUMENT_MAX)
        return -1;
    ds->instruments = *tab;
    for (size_t i = 0; i < n; i++) {
        const struct instrument *in = instrument_find(&ds->instruments, names[i]);
        if (!in)
            return -1;
        ds->instr[i] = in;
    }
    ds->n_instr = n;
    return 0;
}

int dataset_set_covariates(struct dataset *ds, const char *const *names, size_t n)
{
    ds->cov_name = calloc(n ? n : 1, sizeof *ds->cov_name);
    if (!ds->cov_name)
        return -1;
    for (size_t i = 0; i < n; i++) {
        ds->cov_name[i] = strdup(names[i]);
        if (!ds->cov_name[i]) {
            ds->n_cov = i;
            return -1;
        }
    }
    ds->n_cov = n;
    return 0;
}

int dataset_enable_episode(struct dataset *ds)
{
    if (ds->episode)
        return 0;
    ds->episode = calloc(ds->cap_visits ? ds->cap_visits : 1, sizeof *ds->episode);
    return ds->episode ? 0 : -1;
}

int dataset_enable_pain_post(struct dataset *ds)
{
    if (ds->pain_post)
        return 0;
    ds->pain_post = malloc((ds->cap_visits ? ds->cap_visits : 1) * sizeof *ds->pain_post);
    if (!ds->pain_post)
        return -1;
    for (size_t i = 0; i < ds->n_visits; i++)
        ds->pain_post[i] = NAN;
    return 0;
}

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return h;
}

/* The same hash of n bytes (no NUL needed). */
static uint64_t fnv1a_n(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
    return h;
}

/* Find s in strv through hash; insert when absent (the copy in ds's arena). Returns the
 * index or -1. Slots are picked by the tag's low bits, so the table holds up to 2^32. */
static long intern(struct dataset *ds, char ***strv, size_t *n, size_t *cap,
                   struct intern_slot **hash, size_t *hcap, const char *s, int *added)
{
    *added = 0;
    if (*n >= *hcap / 4 * 3) {
        size_t ncap = *hcap ? *hcap * 2 : 1024;
        while (*n >= ncap / 4 * 3)
            ncap *= 2;
        /* A bigarr: at a million ids the index is 16 MiB, and filling a fresh one is the
         * run's second-largest source of page faults. Its capacity stays ncap (a power of
         * two) whatever room bigarr_grow gives. */
        struct intern_slot *nh = NULL;
        size_t room = 0;
        if (bigarr_grow((void **)&nh, &room, ncap, sizeof *nh) != 0)
            return -1;
        memset(nh, 0xff, ncap * sizeof *nh);
        if (*hash) {
            for (size_t i = 0; i < *hcap; i++) {
                if ((*hash)[i].idx == UINT32_MAX)
                    continue;
                size_t j = (*hash)[i].tag & (ncap - 1);
                while (nh[j].idx != UINT32_MAX)
                    j = (j + 1) & (ncap - 1);
                nh[j] = (*hash)[i];
            }
        } else {
            /* No index yet for strings already there (dropped, or ids replaced). */
            for (size_t i = 0; i < *n; i++) {
                uint32_t tag = (uint32_t)fnv1a((*strv)[i]);
                size_t j = tag & (ncap - 1);
                while (nh[j].idx != UINT32_MAX)
                    j = (j + 1) & (ncap - 1);
                nh[j] = (struct intern_slot){(uint32_t)i, tag};
            }
        }
        bigarr_free(*hash);
        *hash = nh;
        *hcap = ncap;
    }
    uint32_t tag = (uint32_t)fnv1a(s);
    size_t j = tag & (*hcap - 1);
    for (; (*hash)[j].idx != UINT32_MAX; j = (j + 1) & (*hcap - 1)) {
        const struct intern_slot *e = &(*hash)[j];
        if (e->tag == tag && strcmp((*strv)[e->idx], s) == 0)
            return e->idx;
    }
    if (*n >= UINT32_MAX - 1)
        return -1;
    if (bigarr_grow((void **)strv, cap, *n + 1, sizeof **strv) != 0)
        return -1;
    char *copy = dataset_strdup(ds, s);
    if (!copy)
        return -1;
    (*strv)[*n] = copy;
    (*hash)[j] = (struct intern_slot){(uint32_t)*n, tag};
    *added = 1;
    return (long)(*n)++;
}

void dataset_prefetch_patient(const struct dataset *ds, const char *id, size_t len)
{
#if defined(__GNUC__)
    if (ds->pid_hash)
        __builtin_prefetch(&ds->pid_hash[(uint32_t)fnv1a_n(id, len) & (ds->pid_hash_cap - 1)]);
#else
    (void)ds;
    (void)id;
    (void)len;
#endif
}

void dataset_drop_id_index(struct dataset *ds)
{
    bigarr_free(ds->pid_hash);
    ds->pid_hash = NULL;
    ds->pid_hash_cap = 0;
}

long dataset_patient(struct dataset *ds, const char *id)
{
    size_t old_cap = ds->cap_patients;
    int added;
    long p = intern(ds, &ds->patient_id, &ds->n_patients, &ds->cap_patients, &ds->pid_hash,
                    &ds->pid_hash_cap, id, &added);
    if (p < 0 || !added || !ds->n_cov)
        return p;
    if (ds->cap_patients != old_cap || !ds->cov_value) {
        uint32_t *nv = realloc(ds->cov_value, ds->cap_patients * ds->n_cov * sizeof *nv);
        if (!nv)
            return -1;
        ds->cov_value = nv;
    }
    for (size_t c = 0; c < ds->n_cov; c++)
        ds->cov_value[(size_t)p * ds->n_cov + c] = UINT32_MAX;
    return p;
}

long dataset_cov_intern(struct dataset *ds, const char *value)
{
    int added;
    return intern(ds, &ds->cov_str, &ds->n_cov_str, &ds->cap_cov_str, &ds->cov_hash,
                  &ds->cov_hash_cap, value, &added);
}

long dataset_add_visit(struct dataset *ds, const struct visit *v, const double *scores,
                       double pain_post)
{
    if (ds->n_visits == ds->cap_visits) {
        size_t ncap = ds->cap_visits ? ds->cap_visits * 2 : 1024;
        struct visit *nv = realloc(ds->visit, ncap * sizeof *nv);
        if (!nv)
            return -1;
        ds->visit = nv;
        double *ns = realloc(ds->score, ncap * (ds->n_instr ? ds->n_instr : 1) * sizeof *ns);
        if (!ns)
            return -1;
        ds->score = ns;
        if (ds->pain_post) {
            double *np = realloc(ds->pain_post, ncap * sizeof *np);
            if (!np)
                return -1;
            ds->pain_post = np;
        }
        if (ds->episode) {
            uint16_t *ne = realloc(ds->episode, ncap * sizeof *ne);
            if (!ne)
                return -1;
            ds->episode = ne;
        }
        ds->cap_visits = ncap;
    }
    size_t i = ds->n_visits++;
    ds->visit[i] = *v;
    for (size_t k = 0; k < ds->n_instr; k++)
        ds->score[i * ds->n_instr + k] = scores[k];
    if (ds->pain_post)
        ds->pain_post[i] = pain_post;
    if (ds->episode)
        ds->episode[i] = 0;   /* the caller sets it when the row has one */
    return (long)i;
}

long dataset_add_file(struct dataset *ds, const char *path)
{
    struct input_file *nf = realloc(ds->file, (ds->n_files + 1) * sizeof *nf);
    if (!nf)
        return -1;
    ds->file = nf;
    struct input_file *f = &ds->file[ds->n_files];
    memset(f, 0, sizeof *f);
    f->first_day = f->last_day = INT32_MIN;
    f->path = strdup(path);
    if (!f->path)
        return -1;
    return (long)ds->n_files++;
}

int dataset_cov_index(const struct dataset *ds, const char *name)
{
    for (size_t c = 0; c < ds->n_cov; c++)
        if (strcmp(ds->cov_name[c], name) == 0)
            return (int)c;
    return -1;
}

const char *dataset_cov(const struct dataset *ds, size_t p, int c)
{
    if (c < 0 || (size_t)c >= ds->n_cov || p >= ds->n_patients)
        return NULL;
    uint32_t v = ds->cov_value[p * ds->n_cov + (size_t)c];
    return v == UINT32_MAX ? NULL : ds->cov_str[v];
}

/* ---- number formatting ------------------------------------------------------------ */

/* The digits of u (< 10^19) right-aligned before end; returns the first digit. */
static char *utoa_back(char *end, unsigned long long u)
{
    do {
        *--end = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    return end;
}

static size_t fmt_slow(char *buf, double v)
{
    snprintf(buf, DATASET_NUM_MAX, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, DATASET_NUM_MAX, "%.17g", v);
    return strlen(buf);
}

/* Cache of every text but a whole number's: patient measures repeat a lot (ratios of small
 * integers, RCIs of a few distinct changes), a couple of thousand distinct values in a
 * million rows. Short decimals (37.5) are looked up too: finding one costs less than the
 * fast path's arithmetic (patients.csv's writer at 10M rows: 0.87-0.99 s -> 0.76-0.80 s).
 * 4-way set-associative, first in first out: a direct-mapped table of the same size lost
 * one value in five to collisions (32,000 misses on the 1M benchmark against 2,800).
 * One per thread (_Thread_local, 160 KiB of thread storage), so formatting on two threads
 * at once is safe. */
enum { NUM_CACHE_SET_BITS = 10, NUM_CACHE_WAYS = 4 };
static _Thread_local struct num_cache_set {
    uint64_t bits[NUM_CACHE_WAYS];          /* the double's bits, way 0 the newest */
    struct {
        uint8_t len;                        /* 0 = empty */
        char s[DATASET_NUM_MAX - 1];
    } e[NUM_CACHE_WAYS];
} num_cache[1u << NUM_CACHE_SET_BITS];

static size_t fmt_uncached(char *buf, double v)
{
    if (!isfinite(v))
        return fmt_slow(buf, v);
    if (v == 0) {
        /* %.15g prints "0" or "-0"; both read back to a value == v. */
        if (signbit(v)) {
            memcpy(buf, "-0", 3);
            return 2;
        }
        memcpy(buf, "0", 2);
        return 1;
    }
    double a = fabs(v);
    if (a < 1e15) {
        char tmp[DATASET_NUM_MAX];
        char *end = tmp + sizeof tmp;
        if (v == trunc(v)) {
            /* Below 10^15 a whole number has at most 15 digits: %.15g prints it in full,
             * and the text is exact. */
            char *q = utoa_back(end, (unsigned long long)a);
            if (v < 0)
                *--q = '-';
            size_t n = (size_t)(end - q);
            memcpy(buf, q, n);
            buf[n] = '\0';
            return n;
        }
        /* D = m / 10^d with |m| < 10^15 and D >= 1e-4. When the correctly rounded quotient
         * m / 10^d is v, v is the double nearest D, |v - D| <= 2^-53 |v|, far less than
         * half a unit in the 15th significant digit, so %.15g prints D's digits, in fixed
         * notation (exponent between -4 and 14), and they read back to v.
         * One d suffices: the largest d <= 6 with a * 10^d < 10^15. If some D with fewer
         * places reads back to v, then D * 10^d is a whole number within
         * 2^-52 * 10^15 < 0.25 of a * 10^d, so it is the m found here, and the same digits
         * come out once trailing zeros are dropped. The same bound lets a * 10^d that is
         * not within 2^-50 (relative) of a whole number skip the division. */
        static const double p10[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
        static const unsigned long long u10[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
        int d = 6;
        while (d > 0 && !(a * p10[d] < 1e15))
            d--;
        double t = a * p10[d];
        double mv = nearbyint(t);
        if (d > 0 && mv != 0 && mv < 1e15 && fabs(t - mv) <= t * 0x1p-50) {
            unsigned long long m = (unsigned long long)mv;
            /* m * 10^4 >= 10^d: D >= 1e-4, else %g would use an exponent */
            if (m * 10000ULL >= u10[d] && (double)m / p10[d] == a) {
                unsigned long long ip = m / u10[d], fp = m % u10[d];
                char *q = end;
                /* fraction: d digits with leading zeros, trailing zeros dropped; v is not
                 * whole, so at least one digit stays */
                int nd = d;
                while (nd > 0 && fp % 10 == 0) {
                    fp /= 10;
                    nd--;
                }
                for (int i = 0; i < nd; i++) {
                    *--q = (char)('0' + fp % 10);
                    fp /= 10;
                }
                *--q = '.';
                q = utoa_back(q, ip);
                if (v < 0)
                    *--q = '-';
                size_t n = (size_t)(end - q);
                memcpy(buf, q, n);
                buf[n] = '\0';
                return n;
            }
        }
    }
    return fmt_slow(buf, v);
}

size_t dataset_fmt_num(char *buf, double v)
{
    /* Whole numbers and the non-finite are quicker to print than to look up. */
    if (!isfinite(v) || v == 0 || (fabs(v) < 1e15 && v == trunc(v)))
        return fmt_uncached(buf, v);
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    struct num_cache_set *c =
        &num_cache[(bits * 0x9E3779B97F4A7C15ULL) >> (64 - NUM_CACHE_SET_BITS)];
    for (int w = 0; w < NUM_CACHE_WAYS; w++) {
        if (c->bits[w] == bits && c->e[w].len) {
            size_t n = c->e[w].len;
            memcpy(buf, c->e[w].s, n);
            buf[n] = '\0';
            return n;
        }
    }
    size_t n = fmt_uncached(buf, v);
    if (n < sizeof c->e[0].s) {
        memmove(&c->bits[1], &c->bits[0], (NUM_CACHE_WAYS - 1) * sizeof c->bits[0]);
        memmove(&c->e[1], &c->e[0], (NUM_CACHE_WAYS - 1) * sizeof c->e[0]);
        c->bits[0] = bits;
        c->e[0].len = (uint8_t)n;
        memcpy(c->e[0].s, buf, n);
    }
    return n;
}
