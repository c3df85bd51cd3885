/* test_simulate.c — the simulator's promises: same seed same bytes, the stated number of each
 * dirty-row kind, clean rows in range, the documented natural course, a correct header, a
 * column subset (--columns) that is the full output projected, and a CLI with the documented
 * exit codes. The output is parsed here with code of its own, not the simulator's, so a
 * shared mistake cannot hide; ingest (a separate module) recounts the rejects. */
#include "harness.h"
#include "simulate.h"

#include "civil_date.h"
#include "dataset.h"
#include "ingest.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char HEADER[] =
    "patient_id,visit_date,session,clinic,practitioner,age,sex,condition,chronicity,"
    "pain,pain_post,sleep,psqi,stress,adverse_event";
static const char HEADER_ARM[] =
    "patient_id,visit_date,session,clinic,practitioner,arm,age,sex,condition,chronicity,"
    "pain,pain_post,sleep,psqi,stress,adverse_event";

/* Run the simulator into memory; the caller frees. NULL (and a failed check) on error. */
static char *simulate_string(const struct sim_params *p, size_t *len, struct sim_stats *st)
{
    char *buf = NULL;
    size_t n = 0;
    FILE *fp = open_memstream(&buf, &n);
    if (!fp) {
        CHECK(fp != NULL);
        return NULL;
    }
    struct out_error e = {0};
    int rc = simulate_run(p, fp, st, &e);
    fclose(fp);
    CHECK(rc == 0);
    if (rc != 0) {
        fprintf(stderr, "simulate_run: %s\n", e.msg);
        free(buf);
        return NULL;
    }
    if (len)
        *len = n;
    return buf;
}

/* ---- an independent reader ---- */

enum { MAXF = 24, FCAP = 128 };
struct rec {
    int nf;
    int all_quoted;
    char f[MAXF][FCAP];
};

/* Split one line (no newline) by RFC 4180 rules. */
static void split(const char *s, struct rec *r)
{
    memset(r, 0, sizeof *r);
    r->all_quoted = 1;
    int nf = 0;
    for (;;) {
        char *out = nf < MAXF ? r->f[nf] : NULL;
        size_t k = 0;
        int quoted = *s == '"';
        if (!quoted)
            r->all_quoted = 0;
        if (quoted) {
            s++;
            while (*s && !(*s == '"' && s[1] != '"')) {
                if (*s == '"')
                    s++;
                if (out && k + 1 < FCAP)
                    out[k++] = *s;
                s++;
            }
            if (*s == '"')
                s++;
        }
        while (*s && *s != ',') {
            if (out && k + 1 < FCAP)
                out[k++] = *s;
            s++;
        }
        nf++;
        if (*s != ',')
            break;
        s++;
    }
    r->nf = nf;
}

static int is_leap(long y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Days since 1970-01-01 of a valid YYYY-MM-DD, or LONG_MIN. Counted naively year by year. */
static long day_number(const char *s)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int y, m, d;
    char tail;
    if (strlen(s) != 10 || sscanf(s, "%4d-%2d-%2d%c", &y, &m, &d, &tail) != 3 || y < 1970 ||
        m < 1 || m > 12 || d < 1 || d > dim[m - 1] + (m == 2 && is_leap(y)))
        return -2147483647L;
    long n = 0;
    for (int yy = 1970; yy < y; yy++)
        n += 365 + is_leap(yy);
    for (int mm = 1; mm < m; mm++)
        n += dim[mm - 1] + (mm == 2 && is_leap(y));
    return n + d - 1;
}

static int is_missing(const char *s)
{
    return !*s || strcmp(s, "NA") == 0;
}

/* Integer cell: 1 and *v, 0 when not a whole number. */
static int int_cell(const char *s, long *v)
{
    char *end;
    errno = 0;
    long x = strtol(s, &end, 10);
    if (!*s || *end || errno)
        return 0;
    *v = x;
    return 1;
}

enum kind {
    K_CLEAN = -1, K_FIELDS, K_NOID, K_NODATE, K_BADDATE, K_FUTURE, K_SESSION, K_NONNUM,
    K_RANGE, K_NOSCORE, K_DUP, K_CONFLICT, K_FLAG, K__COUNT
};

struct scored { const char *name; long lo, hi; };
static const struct scored scores[] = {
    {"pain", 0, 10}, {"pain_post", 0, 10}, {"sleep", 0, 10}, {"psqi", 0, 21}, {"stress", 0, 40},
};

struct parsed {
    struct rec *rec;        /* one per data line */
    char **line;            /* the data lines */
    enum kind *kind;
    size_t n;
    int has_arm;
    int col_pain;           /* index of the pain column */
};

static void parsed_free(struct parsed *ps)
{
    free(ps->rec);
    free(ps->line);
    free(ps->kind);
}

struct keyed { const char *key_line; size_t idx; char key[3 * FCAP + 3]; };

static int keyed_cmp(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->idx > y->idx) - (x->idx < y->idx);
}

/* Classify every data line of text (modified in place: newlines become NULs). Rules follow
 * ingest's order of checks; `last` is the window's last day (ISO dates sort as strings). */
static void classify(char *text, const char *last, struct parsed *ps)
{
    memset(ps, 0, sizeof *ps);
    size_t cap = 1;
    for (char *c = text; *c; c++)
        cap += *c == '\n';
    ps->rec = calloc(cap, sizeof *ps->rec);
    ps->line = calloc(cap, sizeof *ps->line);
    ps->kind = calloc(cap, sizeof *ps->kind);
    char *save = NULL, *hdr = strtok_r(text, "\n", &save);
    ps->has_arm = hdr && strcmp(hdr, HEADER_ARM) == 0;
    int want = ps->has_arm ? 16 : 15, base = ps->has_arm ? 1 : 0;
    ps->col_pain = 9 + base;
    for (char *l; (l = strtok_r(NULL, "\n", &save)) != NULL;) {
        size_t i = ps->n++;
        struct rec *r = &ps->rec[i];
        ps->line[i] = l;
        split(l, r);
        enum kind k = K_CLEAN;
        long v;
        if (r->nf != want)
            k = K_FIELDS;
        else if (!*r->f[0])
            k = K_NOID;
        else if (!*r->f[1])
            k = K_NODATE;
        else if (day_number(r->f[1]) < 0)
            k = K_BADDATE;
        else if (strcmp(r->f[1], last) > 0)
            k = K_FUTURE;
        else if (!int_cell(r->f[2], &v) || v < 1)
            k = K_SESSION;
        else {
            int nonnum = 0, range = 0, present = 0;
            for (int s = 0; s < 5; s++) {
                const char *cell = r->f[ps->col_pain + s];
                if (is_missing(cell))
                    continue;
                present += s != 1;   /* pain_post alone is not a score */
                if (!int_cell(cell, &v))
                    nonnum = 1;
                else if (v < scores[s].lo || v > scores[s].hi)
                    range = 1;
            }
            const char *ae = r->f[want - 1];
            int flag_ok = is_missing(ae) || strcmp(ae, "yes") == 0 || strcmp(ae, "no") == 0;
            k = nonnum ? K_NONNUM : range ? K_RANGE : !flag_ok ? K_FLAG
              : present == 0 ? K_NOSCORE : K_CLEAN;
        }
        ps->kind[i] = k;
    }
    /* Duplicates among rows that pass every other check: the first of a key is kept. */
    struct keyed *kv = calloc(ps->n + 1, sizeof *kv);
    size_t nk = 0;
    for (size_t i = 0; i < ps->n; i++)
        if (ps->kind[i] == K_CLEAN) {
            kv[nk].idx = i;
            kv[nk].key_line = ps->line[i];
            snprintf(kv[nk].key, sizeof kv[nk].key, "%s|%s|%s", ps->rec[i].f[0],
                     ps->rec[i].f[1], ps->rec[i].f[2]);
            nk++;
        }
    qsort(kv, nk, sizeof *kv, keyed_cmp);
    for (size_t i = 1; i < nk; i++) {
        size_t first = i;
        while (first > 0 && strcmp(kv[first - 1].key, kv[i].key) == 0)
            first--;
        if (first == i)
            continue;
        ps->kind[kv[i].idx] = strcmp(kv[first].key_line, kv[i].key_line) == 0 ? K_DUP
                                                                               : K_CONFLICT;
    }
    free(kv);
}

/* ---- tests ---- */

static void test_header(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 3;
    char *s = simulate_string(&p, NULL, NULL);
    CHECK(s && strncmp(s, HEADER, strlen(HEADER)) == 0 && s[strlen(HEADER)] == '\n');
    free(s);
    p.control = 0.5;
    s = simulate_string(&p, NULL, NULL);
    CHECK(s && strncmp(s, HEADER_ARM, strlen(HEADER_ARM)) == 0 && s[strlen(HEADER_ARM)] == '\n');
    free(s);
}

/* s with every ",from," made ",to," (a new string). */
static char *replace_field(const char *s, const char *from, const char *to)
{
    char f[64], t[64];
    snprintf(f, sizeof f, ",%s,", from);
    snprintf(t, sizeof t, ",%s,", to);
    size_t fl = strlen(f), tl = strlen(t), cap = strlen(s) + 1;
    for (const char *q = s; (q = strstr(q, f)); q += fl)
        cap += tl;
    char *out = malloc(cap), *w = out;
    if (!out)
        return NULL;
    for (const char *q; (q = strstr(s, f)); s = q + fl - 1) {   /* the closing comma stays */
        memcpy(w, s, (size_t)(q - s));
        w += q - s;
        memcpy(w, t, tl - 1);
        w += tl - 1;
    }
    strcpy(w, s);
    return out;
}

/* --arms renames the arm values and changes nothing else: the default file with its
 * "treatment" and "control" cells renamed by hand is the same bytes. A quote in a name is
 * doubled and the field quoted (RFC 4180). */
static void test_arm_names(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 40;
    p.control = 0.5;
    char *plain = simulate_string(&p, NULL, NULL);
    strcpy(p.arm[0], "acupuncture");
    strcpy(p.arm[1], "usual care");
    char *named = simulate_string(&p, NULL, NULL);
    char *tmp = plain ? replace_field(plain, "treatment", "acupuncture") : NULL;
    char *want = tmp ? replace_field(tmp, "control", "usual care") : NULL;
    CHECK(named && want && strcmp(named, want) == 0);
    CHECK(named && strstr(named, ",acupuncture,") && strstr(named, ",usual care,"));
    CHECK(named && !strstr(named, ",treatment,") && !strstr(named, ",control,"));
    free(tmp);
    free(want);
    free(named);
    strcpy(p.arm[0], "acu\"x");
    named = simulate_string(&p, NULL, NULL);
    CHECK(named && strstr(named, ",\"acu\"\"x\","));
    free(named);
    free(plain);

    /* Names the file could not carry, or that audit would take for one arm. */
    static const char *const bad[][2] = {
        {"", "control"}, {" sham", "real"}, {"sham ", "real"}, {"a\tb", "c"},
        {"Sham", "sham"}, {"x", "X"}, {"NA", "sham"}, {"real", "n/a"}, {".", "sham"},
        {"a=b", "c"}, {"x vs=y", "z"},
    };
    FILE *null = fopen("/dev/null", "w");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct out_error e = {0};
        strcpy(p.arm[0], bad[i][0]);
        strcpy(p.arm[1], bad[i][1]);
        CHECK(null && simulate_write(&p, null, &e) == OUT_EUSAGE);
        CHECK_CONTAINS(e.msg, "arms");
    }
    memset(p.arm[0], 'a', sizeof p.arm[0]);   /* not terminated within the array */
    strcpy(p.arm[1], "b");
    struct out_error e = {0};
    CHECK(null && simulate_write(&p, null, &e) == OUT_EUSAGE);
    if (null)
        fclose(null);
}

static int line_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Lines of text in order (modified in place: newlines become NULs); *n set. The simulator
 * writes no blank lines and no newline inside a field. */
static char **text_lines(char *text, size_t *n)
{
    size_t cap = 1;
    for (char *c = text; *c; c++)
        cap += *c == '\n';
    char **v = calloc(cap, sizeof *v), *save = NULL;
    *n = 0;
    for (char *l = strtok_r(text, "\n", &save); l; l = strtok_r(NULL, "\n", &save))
        v[(*n)++] = l;
    return v;
}

/* Sorted lines of text (modified in place); *n set. */
static char **sorted_lines(char *text, size_t *n)
{
    char **v = text_lines(text, n);
    qsort(v, *n, sizeof *v, line_cmp);
    return v;
}

/* The window plan.c reads the data as of. Days since 1970-01-01 by hand: 2025-01-01 is
 * 55 * 365 + 14 leap days = 20089, 2025-12-31 is 20089 + 364; 2024-01-31 is 20089 - 366 + 30
 * = 19753, and a month on from it is clipped to 29 February, less a day: 19753 + 28 = 19781. */
static void test_window(void)
{
    struct sim_params p = sim_params_default();
    long first = 0, last = 0;
    struct out_error e;
    CHECK(simulate_window(&p, &first, &last, &e) == 0 && first == 20089 && last == 20453);
    memcpy(p.start, "2024-01-31", 10);
    p.months = 1;
    CHECK(simulate_window(&p, &first, &last, &e) == 0 && first == 19753 && last == 19781);
    p.months = 0;
    CHECK(simulate_window(&p, &first, &last, &e) == OUT_EUSAGE && strstr(e.msg, "months"));
}

static void test_determinism(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 400;
    p.control = 0.3;
    p.dirty = 0.03;
    p.tricky = 0.02;
    size_t na, nb, nc;
    char *a = simulate_string(&p, &na, NULL), *b = simulate_string(&p, &nb, NULL);
    CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
    p.seed = 2;
    char *c = simulate_string(&p, &nc, NULL);
    CHECK(a && c && (na != nc || memcmp(a, c, na) != 0));
    free(b);
    free(c);

    /* Shuffled: deterministic too, and the same rows as sorted, in another order. */
    p.seed = 1;
    p.order = SIM_SHUFFLED;
    p.buckets = 7;
    b = simulate_string(&p, &nb, NULL);
    c = simulate_string(&p, &nc, NULL);
    CHECK(b && c && nb == nc && memcmp(b, c, nb) == 0);
    CHECK(a && b && na == nb && memcmp(a, b, na) != 0);
    CHECK(b && strncmp(b, HEADER_ARM, strlen(HEADER_ARM)) == 0);
    if (a && b) {
        size_t la, lb;
        char **va = sorted_lines(a, &la), **vb = sorted_lines(b, &lb);
        int same = la == lb;
        for (size_t i = 0; same && i < la; i++)
            same = strcmp(va[i], vb[i]) == 0;
        CHECK(same);
        free(va);
        free(vb);
    }
    free(a);
    free(b);
    free(c);

    /* Dirt is drawn from its own stream: turning it on leaves the first patient's clean
     * rows and the number of patients unchanged. */
    struct sim_params q = sim_params_default();
    struct sim_stats s0, s1;
    q.patients = 300;
    a = simulate_string(&q, &na, &s0);
    q.dirty = 0.1;
    b = simulate_string(&q, &nb, &s1);
    CHECK(s0.visits == s1.visits && s0.patients == s1.patients);
    free(a);
    free(b);
}

static void test_dirty_counts(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 3000;
    p.control = 0.3;
    p.dirty = 0.05;
    p.tricky = 0.03;
    p.clinics = 4;
    struct sim_stats st;
    char *s = simulate_string(&p, NULL, &st);
    if (!s)
        return;
    /* The clinic with a comma in its name is quoted (and, below, still one field). */
    CHECK_CONTAINS(s, "\"Hale, Moss & Partners\"");
    struct parsed ps;
    classify(s, "2025-12-31", &ps);
    CHECK(ps.has_arm);

    long by[K__COUNT] = {0}, clean = 0, dirty = 0, dups = 0;
    for (size_t i = 0; i < ps.n; i++) {
        if (ps.kind[i] == K_CLEAN)
            clean++;
        else {
            by[ps.kind[i]]++;
            dirty++;
        }
    }
    dups = by[K_DUP] + by[K_CONFLICT];
    /* A duplicate is an extra row; every other kind replaces a visit. */
    long visits = (long)ps.n - dups;
    CHECK(visits == st.visits);
    CHECK((long)ps.n == st.rows);
    /* One dirty row per block of 1/rate visits: rate*V give or take one (see simulate.c). */
    CHECK(fabs((double)dirty - p.dirty * (double)visits) <= 1.0 + p.dirty);
    long lo = by[0], hi = by[0];
    for (int k = 0; k < K__COUNT; k++) {
        CHECK(by[k] == st.dirty[k]);   /* our reading agrees with the simulator's count */
        lo = by[k] < lo ? by[k] : lo;
        hi = by[k] > hi ? by[k] : hi;
    }
    CHECK(lo > 0 && hi - lo <= 1);     /* round-robin: every kind, within one of the others */

    /* Tricky rows are valid, and as many as the simulator says. */
    long quoted = 0, na_post = 0, na_sleep = 0;
    for (size_t i = 0; i < ps.n; i++) {
        if (ps.kind[i] != K_CLEAN)
            continue;
        const struct rec *r = &ps.rec[i];
        quoted += r->all_quoted;
        na_post += strcmp(r->f[ps.col_pain + 1], "NA") == 0;
        na_sleep += strcmp(r->f[ps.col_pain + 2], "NA") == 0;
    }
    CHECK(quoted == st.tricky[SIM_T_QUOTED] && quoted > 0);
    CHECK(na_post == st.tricky[SIM_T_NA_POST] && na_post > 0);
    CHECK(na_sleep == st.tricky[SIM_T_NA_SLEEP] && na_sleep > 0);

    /* Every clean row is in range and well-formed. */
    long bad = 0, rows_checked = 0;
    const char *prev_id = "";
    long prev_day = 0, prev_session = 0;
    for (size_t i = 0; i < ps.n; i++) {
        if (ps.kind[i] != K_CLEAN)
            continue;
        const struct rec *r = &ps.rec[i];
        int b = ps.has_arm ? 1 : 0;
        long v, day = day_number(r->f[1]), session = 0;
        int ok = day >= day_number("2025-01-01") && strcmp(r->f[1], "2025-12-31") <= 0;
        ok = ok && int_cell(r->f[2], &session) && session >= 1;
        ok = ok && r->f[0][0] == 'P' && *r->f[3] && *r->f[4];
        ok = ok && (!b || strcmp(r->f[5], "treatment") == 0 || strcmp(r->f[5], "control") == 0);
        ok = ok && int_cell(r->f[5 + b], &v) && v >= 18 && v <= 85;
        ok = ok && (strcmp(r->f[6 + b], "F") == 0 || strcmp(r->f[6 + b], "M") == 0);
        ok = ok && *r->f[7 + b] && *r->f[8 + b];
        ok = ok && int_cell(r->f[9 + b], &v) && v >= 0 && v <= 10;   /* pain always there */
        for (int k = 0; k < 5; k++) {
            const char *cell = r->f[9 + b + k];
            ok = ok && (is_missing(cell) ||
                        (int_cell(cell, &v) && v >= scores[k].lo && v <= scores[k].hi));
        }
        ok = ok && (strcmp(r->f[14 + b], "yes") == 0 || strcmp(r->f[14 + b], "no") == 0);
        /* Sorted order: a patient's visits come together, dates and sessions increasing. */
        if (strcmp(r->f[0], prev_id) == 0)
            ok = ok && day > prev_day && session > prev_session;
        ok = ok && day % 7 != 3;   /* 1970-01-04 was a Sunday: clinics are closed */
        prev_id = r->f[0];
        prev_day = day;
        prev_session = session;
        bad += !ok;
        rows_checked++;
        if (!ok && bad < 5)
            fprintf(stderr, "bad clean row: %s\n", ps.line[i]);
    }
    CHECK(bad == 0);
    CHECK(rows_checked > 20000);
    parsed_free(&ps);
    free(s);
}

/* Pain of each patient at baseline and at the first visit in [lo, hi] days. Returns the
 * ratio of mean pains (visit / baseline), the model's expectation for the same visits
 * (mean of sim_untreated_ratio at each visit's time), and the delta-method SE of the ratio:
 * Q = sum y / sum x; SE(Q) = sqrt(sum (y - Q x)^2) / sum x. */
struct course { long n; double q, expect, se; };

static struct course course_at(const struct sim_params *p, long lo, long hi, int arm)
{
    struct course c = {0, NAN, NAN, NAN};
    char *s = simulate_string(p, NULL, NULL);
    if (!s)
        return c;
    struct parsed ps;
    classify(s, "2099-12-31", &ps);
    int b = ps.has_arm ? 1 : 0;
    double *x = calloc(ps.n + 1, sizeof *x), *y = calloc(ps.n + 1, sizeof *y);
    double sum_r = 0;
    const char *id = "";
    long day0 = 0, pain0 = 0;
    int taken = 0, in_arm = 1;
    for (size_t i = 0; i < ps.n; i++) {
        const struct rec *r = &ps.rec[i];
        long day = day_number(r->f[1]), pain;
        if (!int_cell(r->f[9 + b], &pain))
            continue;
        if (strcmp(r->f[0], id) != 0) {
            id = r->f[0];
            day0 = day;
            pain0 = pain;
            taken = 0;
            in_arm = arm < 0 || (b && strcmp(r->f[5], arm ? "treatment" : "control") == 0);
            continue;
        }
        if (!taken && in_arm && day - day0 >= lo && day - day0 <= hi) {
            x[c.n] = (double)pain0;
            y[c.n] = (double)pain;
            sum_r += sim_untreated_ratio((double)(day - day0) / 7.0);
            c.n++;
            taken = 1;
        }
    }
    double sx = 0, sy = 0, ss = 0;
    for (long i = 0; i < c.n; i++)
        sx += x[i], sy += y[i];
    if (c.n > 1 && sx > 0) {
        c.q = sy / sx;
        for (long i = 0; i < c.n; i++)
            ss += (y[i] - c.q * x[i]) * (y[i] - c.q * x[i]);
        c.se = sqrt(ss) / sx;
        c.expect = sum_r / (double)c.n;
    }
    free(x);
    free(y);
    parsed_free(&ps);
    free(s);
    return c;
}

static void test_natural_course(void)
{
    /* The documented targets (Menezes Costa 2012, 0-100: 51 -> 33 -> 26 -> 23). */
    CHECK_NEAR(sim_untreated_ratio(0), 1.0, 1e-12);
    CHECK_NEAR(sim_untreated_ratio(6), 33.0 / 51, 1e-12);
    CHECK_NEAR(sim_untreated_ratio(26), 26.0 / 51, 1e-12);
    CHECK_NEAR(sim_untreated_ratio(52), 23.0 / 51, 1e-12);
    CHECK_NEAR(sim_untreated_ratio(80), 23.0 / 51, 1e-12);
    int monotone = 1;
    for (double w = 0; w < 60; w += 0.25)
        monotone = monotone && sim_untreated_ratio(w + 0.25) <= sim_untreated_ratio(w);
    CHECK(monotone);

    /* effect 0, no control, no dropout: observed pain around 6 weeks (39-45 days) over
     * baseline should match the model's natural course. With ~2,000 patients in the window,
     * per-patient residual SD ~1.9 and baseline mean ~6, SE(Q) ~ 1.9 / (sqrt(2000) * 6)
     * ~ 0.007; it is computed from the data below. Tolerance 4 SE, plus 0.01 for what the
     * expectation leaves out: integer rounding and clipping at 0 and 10 (bias about 0.003 at
     * 6 weeks, 0.005 at 52 weeks, where scores near 0 are commoner). */
    struct sim_params p = sim_params_default();
    p.patients = 4000;
    p.effect = 0;
    p.dropout = 0;
    p.followup = 1;
    p.months = 36;
    p.seed = 7;
    struct course c6 = course_at(&p, 39, 45, -1);
    CHECK(c6.n > 1500);
    CHECK_NEAR(c6.q, c6.expect, 4 * c6.se + 0.01);
    CHECK_NEAR(c6.expect, 33.0 / 51, 0.02);       /* the window is centred on 6 weeks */
    CHECK(c6.se < 0.012);
    /* 12-month visits (baseline + 365 +- 21 days): about half the pain of baseline. */
    struct course c52 = course_at(&p, 330, 400, -1);
    CHECK(c52.n > 1500);
    CHECK_NEAR(c52.q, c52.expect, 4 * c52.se + 0.01);
    CHECK_NEAR(c52.expect, 23.0 / 51, 0.01);

    /* Informative dropout: those still coming at 6 weeks are more often the ones who
     * improved, so the observed ratio falls below the natural course. The bias is modest at
     * 6 weeks (about 0.03 of baseline with the default hazard, ~3.5 SE here); require 2 SE. */
    p.dropout = 1;
    struct course cd = course_at(&p, 39, 45, -1);
    CHECK(cd.n < c6.n);
    CHECK(cd.q < cd.expect - 2 * cd.se);
    CHECK(cd.q < c6.q);

    /* A treatment effect of 0.55 SD (1.0 point on 0-10 once built up) shows as a lower ratio
     * in the treated arm than in the control arm, which follows the natural course. */
    p.dropout = 0;
    p.effect = 0.55;
    p.control = 0.5;
    struct course ct = course_at(&p, 39, 45, 1), cc = course_at(&p, 39, 45, 0);
    CHECK_NEAR(cc.q, cc.expect, 4 * cc.se + 0.01);
    /* Expected gap ~ 1.0 point / ~6 baseline ~ 0.17 of baseline, SE of the gap ~0.014. */
    CHECK(cc.q - ct.q > 0.10 && cc.q - ct.q < 0.25);
}

/* ---- --columns ---- */

static const char CORE[] = "patient_id,visit_date,session,pain,sleep";

static int rec_find(const struct rec *h, const char *name)
{
    for (int i = 0; i < h->nf && i < MAXF; i++)
        if (strcmp(h->f[i], name) == 0)
            return i;
    return -1;
}

/* A narrow cell that docs/simulator.md says differs from the full row's when pain is not
 * written: a typing defect goes into sleep instead, and na_sleep is not written (the full
 * row's NA in sleep, psqi and stress are numbers). `score` is the cell's entry in scores[];
 * `prev` the same cell of the narrow row before (a conflicting duplicate follows its
 * original in sorted order). */
static int stand_in_ok(enum kind k, int score, const char *full, const char *got,
                       const char *prev)
{
    long v, w;
    int num = int_cell(got, &v);
    int in_range = num && v >= scores[score].lo && v <= scores[score].hi;
    int sleep = strcmp(scores[score].name, "sleep") == 0;
    if (strcmp(full, "NA") == 0)
        return in_range;
    switch (k) {
    case K_NONNUM: return sleep && !num && *got;
    case K_RANGE: return sleep && num && !in_range;
    case K_CONFLICT: return sleep && in_range && int_cell(prev, &w) && labs(v - w) == 1;
    default: return 0;
    }
}

/* Index in scores[] of a column name, or -1. */
static int score_index(const char *name)
{
    for (size_t s = 0; s < sizeof scores / sizeof scores[0]; s++)
        if (strcmp(scores[s].name, name) == 0)
            return (int)s;
    return -1;
}

struct projection { long rows, compared, quoted, dirty, stand_in; };

/* Generate the full output and p's narrow one in memory and compare them row by row: same
 * number of rows; the header is want_header; every row is the full row's cells under the
 * narrow header's names (split as CSV: quoted fields occur), quoted alike, except a
 * wrong_field_count row (wrong in both, the same way) and, without pain, the score cells
 * stand_in_ok accepts. `last` is the window's last day. */
static struct projection check_projection(const struct sim_params *p, const char *want_header,
                                          const char *last)
{
    struct projection pr = {0, 0, 0, 0, 0};
    struct sim_params full = *p;
    full.columns = NULL;
    char *a = simulate_string(&full, NULL, NULL), *b = simulate_string(p, NULL, NULL);
    if (!a || !b) {
        free(a);
        free(b);
        return pr;
    }
    struct parsed pa;
    classify(a, last, &pa);
    size_t nb;
    char **lb = text_lines(b, &nb);
    CHECK(nb >= 1 && strcmp(lb[0], want_header) == 0);
    CHECK(nb == pa.n + 1);
    static struct rec fh, nh, r, prev;   /* large: kept off the stack */
    split(pa.has_arm ? HEADER_ARM : HEADER, &fh);
    split(nb ? lb[0] : "", &nh);
    memset(&prev, 0, sizeof prev);
    int map[MAXF], score_of[MAXF], no_pain = rec_find(&nh, "pain") < 0;
    long bad = 0;
    for (int j = 0; j < nh.nf && j < MAXF; j++) {
        score_of[j] = score_index(nh.f[j]);
        map[j] = rec_find(&fh, nh.f[j]);
        bad += map[j] < 0;
    }
    CHECK(bad == 0);
    if (bad)
        goto out;
    for (size_t i = 0; i + 1 < nb && i < pa.n; i++) {
        const struct rec *f = &pa.rec[i];
        enum kind k = pa.kind[i];
        int ok;
        split(lb[i + 1], &r);
        if (k == K_FIELDS) {
            /* Cut short (the last two columns written lost) or a note after the last, in
             * both: the same draw decides. */
            int shrt = f->nf < fh.nf;
            ok = r.nf == (shrt ? nh.nf - 2 : nh.nf + 1);
            for (int j = 0; ok && j < r.nf && j < MAXF; j++)
                ok = j == nh.nf ? strcmp(r.f[j], "see notes") == 0
                   : map[j] >= f->nf || strcmp(r.f[j], f->f[map[j]]) == 0;
        } else {
            ok = r.nf == nh.nf && r.all_quoted == f->all_quoted;
            int stand_in = 0;
            for (int j = 0; ok && j < nh.nf; j++) {
                const char *want = f->f[map[j]];
                if (no_pain && score_of[j] >= 0 && strcmp(r.f[j], want) != 0) {
                    ok = stand_in_ok(k, score_of[j], want, r.f[j], prev.f[j]);
                    stand_in = 1;
                } else {
                    ok = strcmp(r.f[j], want) == 0;
                }
            }
            pr.compared += ok && !stand_in;
            pr.stand_in += ok && stand_in;
            pr.quoted += ok && f->all_quoted;
            pr.dirty += ok && k != K_CLEAN;
        }
        prev = r;
        pr.rows++;
        bad += !ok;
        if (!ok && bad < 5)
            fprintf(stderr, "projection: full %s\n            narrow %s\n", pa.line[i],
                    lb[i + 1]);
    }
    CHECK(bad == 0);
out:
    free(lb);
    parsed_free(&pa);
    free(a);
    free(b);
    return pr;
}

static void test_columns_projection(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 1500;
    p.control = 0.3;
    p.clinics = 4;
    p.dirty = 0.05;
    p.tricky = 0.05;

    /* "all" is the default, to the byte. */
    size_t na, nb;
    char *a = simulate_string(&p, &na, NULL);
    p.columns = "all";
    char *b = simulate_string(&p, &nb, NULL);
    CHECK(a && b && na == nb && memcmp(a, b, na) == 0);
    free(a);
    free(b);

    /* The benchmark's shape, sorted and shuffled: only invalid_flag's cell is not written,
     * so every row but the wrong_field_count ones is the full row projected. */
    p.columns = "core";
    struct projection pr = check_projection(&p, CORE, "2025-12-31");
    CHECK(pr.rows > 10000 && pr.stand_in == 0);
    CHECK(pr.compared + 1000 > pr.rows && pr.quoted > 100 && pr.dirty > 400);
    p.order = SIM_SHUFFLED;
    p.buckets = 5;
    pr = check_projection(&p, CORE, "2025-12-31");
    CHECK(pr.rows > 10000 && pr.compared + 1000 > pr.rows && pr.quoted > 100);

    /* Quoted clinic names, the arm, pain_post and adverse_event kept. */
    static const char wide[] = "patient_id,visit_date,clinic,arm,pain,pain_post,adverse_event";
    p.columns = wide;
    pr = check_projection(&p, wide, "2025-12-31");
    CHECK(pr.rows > 10000 && pr.compared + 1000 > pr.rows && pr.stand_in == 0);

    /* No pain and no session: typing defects in sleep, na_sleep not written. Sorted, so a
     * conflicting duplicate follows its original. */
    static const char nopain[] = "patient_id,visit_date,sleep,stress";
    p.columns = nopain;
    p.order = SIM_SORTED;
    pr = check_projection(&p, nopain, "2025-12-31");
    CHECK(pr.rows > 10000 && pr.compared + 1000 > pr.rows);
    CHECK(pr.stand_in > 300);   /* ~260 typing defects and ~190 na_sleep rows */
}

/* Ingest p's output (the module, not the CLI) with `today` as the window's last day. Every
 * rejected row must be a dirty row --stats counted under the same reason, and
 * rows = accepted + rejected. Returns the simulator's counts in *st. */
static void ingest_reconciles(const struct sim_params *p, const char *today,
                              struct sim_stats *st)
{
    size_t n;
    memset(st, 0, sizeof *st);
    char *s = simulate_string(p, &n, st);
    if (!s)
        return;
    struct ingest_opts o;
    ingest_opts_default(&o);
    int32_t t = 0;
    CHECK(civil_parse_iso(today, &t) == CIVIL_OK);
    o.today = t;
    struct dataset ds;
    dataset_init(&ds);
    struct out_error e = {0};
    CHECK(ingest_buffer("sim.csv", s, n, &o, &ds, NULL, &e) == 0);
    CHECK(ds.rows_read == st->rows);
    CHECK(ds.rows_read == ds.rows_accepted + ds.rows_rejected);
    CHECK(ds.n_visits == (size_t)ds.rows_accepted);
    long counted = 0, differ = 0;
    for (int k = 0; k < SIM_D__COUNT; k++) {
        CHECK_STR(reject_reason_name((enum reject_reason)k), sim_dirty_name((enum sim_dirty)k));
        if (ds.rejected_by[k] != st->dirty[k]) {
            fprintf(stderr, "%s: ingest %ld, simulate %ld (columns %s)\n",
                    sim_dirty_name((enum sim_dirty)k), ds.rejected_by[k], st->dirty[k],
                    p->columns ? p->columns : "all");
            differ++;
        }
        counted += st->dirty[k];
    }
    CHECK(differ == 0);
    CHECK(ds.rows_rejected == counted);
    dataset_free(&ds);
    free(s);
}

/* The whole of a regular file, or NULL. */
static char *slurp_file(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    char *buf = NULL;
    long size;
    if (fp && fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) >= 0 &&
        fseek(fp, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
        fread(buf, 1, (size_t)size, fp) == (size_t)size) {
        *len = (size_t)size;
    } else {
        free(buf);
        buf = NULL;
    }
    if (fp)
        fclose(fp);
    return buf;
}

/* Numeric ids (--numeric-ids): 12-digit ids, and the mangled_patient_id kind joins the
 * rotation, its rows written as a spreadsheet shows a long number, which ingest rejects
 * under that reason (ingest_reconciles compares reason by reason). Without the option the
 * output is the bytes it was before the kind existed: the shipped sample, regenerated with
 * the command samples/README.md gives, is samples/visits.csv byte for byte. */
static void test_numeric_ids(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 2000;
    p.dirty = 0.05;
    p.numeric_ids = 1;
    struct sim_stats st;
    ingest_reconciles(&p, "2025-12-31", &st);
    CHECK(st.dirty[SIM_D_MANGLED_ID] > 50 && st.dirty[SIM_D_BAD_EPISODE] == 0);
    /* 13 kinds in turn: each within one of every other */
    long lo = LONG_MAX, hi = 0;
    for (int k = 0; k < SIM_D__COUNT; k++) {
        if (k == SIM_D_BAD_EPISODE)
            continue;
        lo = st.dirty[k] < lo ? st.dirty[k] : lo;
        hi = st.dirty[k] > hi ? st.dirty[k] : hi;
    }
    CHECK(hi - lo <= 1);
    size_t n;
    char *s = simulate_string(&p, &n, &st);
    CHECK(s && strncmp(strchr(s, '\n') + 1, "100000000001,", 13) == 0);
    CHECK(s && strstr(s, "\n1.00000E+11,") != NULL);
    free(s);

    p = sim_params_default();
    p.patients = 300;
    p.seed = 20251101;
    snprintf(p.start, sizeof p.start, "2025-05-01");
    p.months = 18;
    p.clinics = 2;
    p.dirty = 0.02;
    p.tricky = 0.01;
    s = simulate_string(&p, &n, &st);
    size_t sn = 0;
    char *sample = slurp_file("samples/visits.csv", &sn);
    CHECK(s && sample && n == sn && memcmp(s, sample, n) == 0);
    free(s);
    free(sample);
}

/* --episodes adds an episode column holding 1, and with --dirty the invalid_episode kind
 * ("0" or "one"), which ingest rejects under that reason. With --numeric-ids too, every
 * rejection reason ingest has is written, each within one of every other. The clean rows
 * are the default output's with a column more: cut the fourth field of every line of a
 * clean output and the bytes are the default's (tricky rows included, quoted ones too). */
static void test_episodes(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 2000;
    p.dirty = 0.05;
    p.episodes = 1;
    p.numeric_ids = 1;
    struct sim_stats st;
    ingest_reconciles(&p, "2025-12-31", &st);
    long lo = LONG_MAX, hi = 0;
    for (int k = 0; k < SIM_D__COUNT; k++) {
        lo = st.dirty[k] < lo ? st.dirty[k] : lo;
        hi = st.dirty[k] > hi ? st.dirty[k] : hi;
    }
    CHECK(lo > 50 && hi - lo <= 1);
    CHECK((int)SIM_D__COUNT == (int)REJ__COUNT);

    p = sim_params_default();
    p.patients = 300;
    p.tricky = 0.1;
    p.episodes = 1;
    size_t n, dn;
    char *s = simulate_string(&p, &n, &st);
    p.episodes = 0;
    char *d = simulate_string(&p, &dn, NULL);
    CHECK(s && d && st.tricky[SIM_T_QUOTED] > 50);
    CHECK(s && strncmp(s, "patient_id,visit_date,session,episode,clinic,", 45) == 0);
    if (s && d) {
        /* Drop field 4 (",1" or ",\"1\"", never quoted otherwise) from each line. */
        char *cut = malloc(n + 1);
        size_t k = 0;
        int ok = 1;
        for (char *line = s; ok && *line;) {
            char *end = strchr(line, '\n');
            char *f = line;
            for (int c = 0; c < 3 && f; c++) {   /* the first three fields have no comma */
                f = strchr(f, ',');
                f = f ? f + 1 : NULL;
            }
            char *g = f ? strchr(f, ',') : NULL;
            if (!end || !g || g > end) {
                ok = 0;
                break;
            }
            ok = line == s || strncmp(f, "1,", 2) == 0 || strncmp(f, "\"1\",", 4) == 0;
            memcpy(cut + k, line, (size_t)(f - 1 - line));
            k += (size_t)(f - 1 - line);
            memcpy(cut + k, g, (size_t)(end + 1 - g));
            k += (size_t)(end + 1 - g);
            line = end + 1;
        }
        CHECK(ok && k == dn && memcmp(cut, d, dn) == 0);
        free(cut);
    }
    free(s);
    free(d);
}

static void test_columns_dirty(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 2000;
    p.control = 0.3;
    p.clinics = 4;
    p.dirty = 0.05;
    p.tricky = 0.05;
    struct sim_stats full, st;
    ingest_reconciles(&p, "2025-12-31", &full);
    /* Every kind but the two that need what the default output lacks: an episode column
     * and numeric ids (test_episodes, test_numeric_ids). */
    for (int k = 0; k < SIM_D__COUNT; k++)
        CHECK(k == SIM_D_BAD_EPISODE || k == SIM_D_MANGLED_ID ? full.dirty[k] == 0
                                                              : full.dirty[k] > 50);
    for (int k = 0; k < SIM_T__COUNT; k++)
        CHECK(full.tricky[k] > 50);

    /* core, both orders: every kind as in the full output but invalid_flag (no
     * adverse_event), which is left out; no pain_post, so no na_pain_post. */
    for (int order = 0; order < 2; order++) {
        p.columns = "core";
        p.order = order ? SIM_SHUFFLED : SIM_SORTED;
        ingest_reconciles(&p, "2025-12-31", &st);
        CHECK(st.rows == full.rows && st.visits == full.visits);
        int same = 1;
        for (int k = 0; k < SIM_D__COUNT; k++)
            same &= st.dirty[k] == (k == SIM_D_BAD_FLAG ? 0 : full.dirty[k]);
        CHECK(same);
        CHECK(st.tricky[SIM_T_NA_SLEEP] == full.tricky[SIM_T_NA_SLEEP]);
        CHECK(st.tricky[SIM_T_NA_POST] == 0);
        CHECK(st.tricky[SIM_T_QUOTED] == full.tricky[SIM_T_QUOTED]);
    }

    /* No pain, session or adverse_event: the typing defects go into sleep (same counts),
     * invalid_session and invalid_flag are left out, and so is na_sleep (with pain gone it
     * would leave the row without a score). */
    p.columns = "patient_id,visit_date,sleep,stress";
    p.order = SIM_SORTED;
    ingest_reconciles(&p, "2025-12-31", &st);
    int same = 1;
    for (int k = 0; k < SIM_D__COUNT; k++)
        same &= st.dirty[k] ==
                (k == SIM_D_BAD_FLAG || k == SIM_D_BAD_SESSION ? 0 : full.dirty[k]);
    CHECK(same);
    CHECK(st.tricky[SIM_T_NA_SLEEP] == 0 && st.tricky[SIM_T_NA_POST] == 0);
    CHECK(st.tricky[SIM_T_QUOTED] == full.tricky[SIM_T_QUOTED]);
}

/* A future_date row must be after the window's last day (run --today LAST) and have a
 * four-digit year: near 9999 the typo's +50 years would write year 10040 (ingest: invalid
 * date), and in a long window the transposed year (2013 -> 2031) can fall inside it. */
static void test_future_date_edges(void)
{
    struct sim_params p = sim_params_default();
    p.patients = 300;
    p.dirty = 0.3;
    struct sim_stats st;
    memcpy(p.start, "9990-01-01", 11);
    ingest_reconciles(&p, "9990-12-31", &st);
    CHECK(st.dirty[SIM_D_FUTURE_DATE] > 50);   /* written as 9999-12-31 */

    memcpy(p.start, "2000-01-01", 11);
    p.months = 600;
    p.dirty = 0.3;
    ingest_reconciles(&p, "2049-12-31", &st);
    CHECK(st.dirty[SIM_D_FUTURE_DATE] > 50);

    /* A window that ends on 9999-12-31 leaves no future day: those rows go out clean. */
    memcpy(p.start, "9999-01-01", 11);
    p.months = 12;
    p.dirty = 0.3;
    ingest_reconciles(&p, "9999-12-31", &st);
    CHECK(st.dirty[SIM_D_FUTURE_DATE] == 0 && st.dirty[SIM_D_BAD_DATE] > 50);
}

static void test_columns_invalid(void)
{
    static const struct { const char *spec; double control; const char *says; } bad[] = {
        {"pain,patient_id,visit_date", 0, "patient_id must come before pain"},
        {"patient_id,visit_date,pain,pain", 0, "pain is named twice"},
        {"patient_id,visit_date,painn", 0, "unknown column 'painn'"},
        {"patient_id,visit_date,Pain", 0, "unknown column 'Pain'"},
        {"visit_date,pain", 0, "patient_id is required"},
        {"patient_id,pain", 0, "visit_date is required"},
        {"patient_id,visit_date,psqi,stress", 0, "pain or sleep is required"},
        {"patient_id,visit_date,session,pain_post", 0, "pain or sleep is required"},
        {"patient_id,visit_date,arm,pain", 0, "arm is written only with a control arm"},
        {"patient_id,visit_date,episode,pain", 0, "episode is written only with --episodes"},
        {"patient_id,,visit_date,pain", 0, "empty name"},
        {"patient_id,visit_date,pain,", 0, "empty name"},
        {"", 0, "empty name"},
        {"core,clinic", 0, "unknown column 'core'"},
    };
    FILE *null = fopen("/dev/null", "w");
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct sim_params p = sim_params_default();
        struct out_error e = {0};
        p.patients = 3;
        p.columns = bad[i].spec;
        p.control = bad[i].control;
        CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
        CHECK_CONTAINS(e.msg, bad[i].says);
    }
    /* The same arm list is fine with a control arm. */
    struct sim_params p = sim_params_default();
    struct out_error e = {0};
    p.patients = 3;
    p.control = 0.5;
    p.columns = "patient_id,visit_date,arm,pain";
    char *s = simulate_string(&p, NULL, NULL);
    CHECK(s && strncmp(s, "patient_id,visit_date,arm,pain\n", 31) == 0);
    free(s);
    p.control = 0;
    p.columns = "core";
    CHECK(simulate_write(&p, null, &e) == 0);
    fclose(null);
}

static void test_invalid_params(void)
{
    struct out_error e = {0};
    FILE *null = fopen("/dev/null", "w");
    struct sim_params p = sim_params_default();
    p.patients = 0;
    CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
    CHECK_CONTAINS(e.msg, "patients");
    p = sim_params_default();
    memcpy(p.start, "2026-02-30", 11);
    CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
    CHECK_CONTAINS(e.msg, "2026-02-30");
    p = sim_params_default();
    p.dirty = 0.6;
    CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
    p = sim_params_default();
    p.control = NAN;
    CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
    /* A window past 9999-12-31 would write year 10000 as 9999; the last one that fits is fine. */
    p = sim_params_default();
    p.patients = 5;
    memcpy(p.start, "9999-06-01", 11);
    CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
    CHECK_CONTAINS(e.msg, "9999-12-31");
    memcpy(p.start, "9999-01-01", 11);
    CHECK(simulate_write(&p, null, &e) == 0);
    /* Seeds GSL's mt19937 would take for another: 0 (its 4357) and above 32 bits. */
    p = sim_params_default();
    p.seed = 0;
    CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
    CHECK_CONTAINS(e.msg, "seed");
    p.seed = 4294967296UL;
    CHECK(simulate_write(&p, null, &e) == OUT_EUSAGE);
    fclose(null);
}

static int cli(const char *a1, const char *a2, const char *a3, const char *a4)
{
    char *argv[6] = {(char *)"simulate", (char *)a1, (char *)a2, (char *)a3, (char *)a4, NULL};
    int argc = 1;
    while (argc < 5 && argv[argc])
        argc++;
    return simulate_cli(argc, argv);
}

/* simulate_cli(argv) (NULL-terminated) writes to path exactly what the module gives for p,
 * and that output holds needle. The file is removed. */
static int cli_writes(char **argv, const char *path, const struct sim_params *p,
                      const char *needle)
{
    int argc = 0;
    while (argv[argc])
        argc++;
    if (simulate_cli(argc, argv) != 0)
        return 0;
    size_t n = 0, wn = 0;
    char *got = slurp_file(path, &n);
    char *want = simulate_string(p, &wn, NULL);
    int ok = got && want && n == wn && memcmp(got, want, n) == 0 && strstr(want, needle);
    free(got);
    free(want);
    unlink(path);
    return ok;
}

static void test_cli(void)
{
    char path[] = "/tmp/test_simulate_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    CHECK(cli("--patients", "50", "-o", path) == 0);
    FILE *fp = fopen(path, "rb");
    char got[65536];
    size_t n = fp ? fread(got, 1, sizeof got, fp) : 0;
    if (fp)
        fclose(fp);
    struct sim_params p = sim_params_default();
    p.patients = 50;
    size_t wn;
    char *want = simulate_string(&p, &wn, NULL);
    CHECK(want && n == wn && memcmp(got, want, n) == 0);
    free(want);
    /* --numeric-ids sets numeric_ids: the same bytes as the module gives with it. */
    CHECK(cli("--numeric-ids", "-n", "50", "-o") == OUT_EUSAGE);   /* -o needs its FILE */
    {
        char *argv[] = {(char *)"simulate", (char *)"--numeric-ids", (char *)"-n",
                        (char *)"50", (char *)"-o", path, NULL};
        p.numeric_ids = 1;
        CHECK(cli_writes(argv, path, &p, "\n100000000050,"));
    }
    /* --episodes sets episodes, on top of numeric_ids here. */
    {
        char *argv[] = {(char *)"simulate", (char *)"--numeric-ids", (char *)"--episodes",
                        (char *)"-n", (char *)"50", (char *)"-o", path, NULL};
        p.episodes = 1;
        CHECK(cli_writes(argv, path, &p, ",session,episode,"));
    }

    CHECK(cli("--patients", "ten", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--dirty", "0.7", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--start", "2026-13-01", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--order", "random", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--no-such-option", NULL, NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("stray", NULL, NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--seed", "0", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--seed", "4294967296", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("-n", "5", "-o", "/nonexistent-dir/x.csv") == OUT_EIO);

    /* --columns: a preset, a list, and usage errors (exit 2) before any output. */
    CHECK(cli("--columns", "core", "-o", path) == 0);
    fp = fopen(path, "rb");
    n = fp ? fread(got, 1, sizeof got - 1, fp) : 0;
    got[n] = '\0';
    if (fp)
        fclose(fp);
    CHECK(strncmp(got, CORE, strlen(CORE)) == 0 && got[strlen(CORE)] == '\n');
    unlink(path);
    CHECK(cli("--columns", "patient_id,visit_date,pain", "-o", path) == 0);
    unlink(path);
    CHECK(cli("--columns", "pain,patient_id,visit_date", "-o", path) == OUT_EUSAGE);
    CHECK(access(path, F_OK) != 0);
    CHECK(cli("--columns", "patient_id,visit_date,adverse", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--columns", "patient_id,visit_date,arm,pain", NULL, NULL) == OUT_EUSAGE);
    CHECK(cli("--columns", "patient_id,visit_date,stress", NULL, NULL) == OUT_EUSAGE);

    /* --arms: two names, only with a control arm; checked before any output. */
    CHECK(cli("--arms", "acupuncture,sham", "-o", path) == OUT_EUSAGE);   /* no --control */
    CHECK(access(path, F_OK) != 0);
    char *argv[] = {(char *)"simulate", (char *)"--control", (char *)"0.5", (char *)"--arms",
                    NULL, (char *)"-o", path, NULL};
    static const char *const arms_bad[] = {"sham", "a,b,c", ",sham", "sham,", "x,X",
                                           "a, b"};
    for (size_t i = 0; i < sizeof arms_bad / sizeof arms_bad[0]; i++) {
        argv[4] = (char *)arms_bad[i];
        CHECK(simulate_cli(7, argv) == OUT_EUSAGE);
        CHECK(access(path, F_OK) != 0);
    }
    char *argv_core[] = {(char *)"simulate", (char *)"--control", (char *)"0.5",
                         (char *)"--arms", (char *)"a,b", (char *)"--columns", (char *)"core",
                         NULL};
    CHECK(simulate_cli(7, argv_core) == OUT_EUSAGE);   /* the arm column is not written */
    argv[4] = (char *)"acupuncture,sham";
    CHECK(simulate_cli(7, argv) == 0);
    fp = fopen(path, "rb");
    n = fp ? fread(got, 1, sizeof got - 1, fp) : 0;
    got[n] = '\0';
    if (fp)
        fclose(fp);
    CHECK(strstr(got, ",acupuncture,") && strstr(got, ",sham,"));
    unlink(path);
}

int main(void)
{
    test_header();
    test_window();
    test_arm_names();
    test_determinism();
    test_dirty_counts();
    test_natural_course();
    test_columns_projection();
    test_columns_dirty();
    test_numeric_ids();
    test_episodes();
    test_future_date_edges();
    test_columns_invalid();
    test_invalid_params();
    test_cli();
    return TEST_END("test_simulate");
}
