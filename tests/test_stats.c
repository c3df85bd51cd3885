/* test_stats.c — every statistic against a value computed independently of stats.c:
 * NIST StRD certified values, published worked examples, hand calculations written out
 * below, brute-force reference implementations in this file, or R 4.2 (cited as such). */
#include "harness.h"
#include "stats.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_rng.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ------------------------------------------------------------------ NIST StRD */

/* Reads a NIST StRD univariate file: certified mean and SD from the header, the data
 * after the "Data: Y" line and its rule. Returns a malloc'd array, or NULL. */
static double *read_nist(const char *path, size_t *n, double *mean, double *sd)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    char line[512];
    size_t cap = 0, len = 0;
    double *v = NULL;
    int in_data = 0;
    *mean = *sd = NAN;
    while (fgets(line, sizeof line, f)) {
        char *p;
        if (!in_data) {
            /* "Sample Mean ... ybar: v" or "Sample Mean: v" (NumAcc3): value after last ':' */
            if (strncmp(line, "Sample Mean", 11) == 0 && (p = strrchr(line, ':')))
                *mean = strtod(p + 1, NULL);
            else if (strncmp(line, "Sample Standard", 15) == 0 && (p = strrchr(line, ':')))
                *sd = strtod(p + 1, NULL);
            else if (strncmp(line, "Data: Y", 7) == 0) {
                if (!fgets(line, sizeof line, f))   /* the "-----" rule */
                    break;
                in_data = 1;
            }
            continue;
        }
        char *end;
        errno = 0;
        double d = strtod(line, &end);
        if (end == line)
            continue;   /* blank or CR-only line */
        if (len == cap) {
            cap = cap ? 2 * cap : 1024;
            double *nv = realloc(v, cap * sizeof *nv);
            if (!nv) {
                free(v);
                fclose(f);
                return NULL;
            }
            v = nv;
        }
        v[len++] = d;
    }
    fclose(f);
    *n = len;
    return v;
}

static void test_nist(void)
{
    static const struct {
        const char *file;
        size_t n;
        int sd_digits;
    } sets[] = {
        /* n from each file's "Number of Observations"; digit targets from the issue */
        {"Lew.dat", 200, 13},      {"Lottery.dat", 218, 13}, {"Mavro.dat", 50, 13},
        {"Michelso.dat", 100, 13}, {"PiDigits.txt", 5000, 13}, {"NumAcc1.dat", 3, 13},
        {"NumAcc2.dat", 1001, 13}, {"NumAcc3.dat", 1001, 8},  {"NumAcc4.dat", 1001, 8},
    };
    for (size_t i = 0; i < NELEM(sets); i++) {
        char path[256];
        snprintf(path, sizeof path, "../shared/reference/nist-strd/%s", sets[i].file);
        size_t n = 0;
        double cm, cs;
        double *x = read_nist(path, &n, &cm, &cs);
        CHECK(x != NULL);
        if (!x)
            continue;
        CHECK(n == sets[i].n);
        struct desc d;
        CHECK(stats_describe(x, n, &d) == 0);
        CHECK_DIGITS(d.mean, cm, 14);
        CHECK_DIGITS(d.sd, cs, sets[i].sd_digits);
        struct tres t;   /* the t routine's own mean/sd must be as accurate */
        CHECK(stats_t_one_sample(x, n, 0.0, 0.95, &t) == 0);
        CHECK_DIGITS(t.mean, cm, 14);
        CHECK_DIGITS(t.sd, cs, sets[i].sd_digits);
        free(x);
    }
}

static void test_describe(void)
{
    struct desc d;
    /* Hand: x = 1 2 3 4 10 (unsorted below). mean 20/5 = 4; deviations -3 -2 -1 0 6,
     * squares 9 4 1 0 36 = 50, var 50/4 = 12.5, sd 3.5355339059327378.
     * R type 7 quartiles: h = (n-1)p = 1 -> q1 = x(2) = 2; h = 3 -> q3 = x(4) = 4. */
    const double x[] = {10, 3, 1, 4, 2};
    CHECK(stats_describe(x, 5, &d) == 0);
    CHECK(d.n == 5);
    CHECK_NEAR(d.mean, 4.0, 1e-15);
    CHECK_NEAR(d.sd, 3.5355339059327378, 1e-14);
    CHECK_NEAR(d.median, 3.0, 0);
    CHECK_NEAR(d.q1, 2.0, 0);
    CHECK_NEAR(d.q3, 4.0, 0);
    CHECK_NEAR(d.min, 1.0, 0);
    CHECK_NEAR(d.max, 10.0, 0);
    CHECK(x[0] == 10 && x[1] == 3);   /* input untouched */

    /* Hand, even n = 4: 1 2 3 4: median (2+3)/2 = 2.5; type 7 q1: h = 0.75 ->
     * 1 + 0.75*(2-1) = 1.75; q3: h = 2.25 -> 3 + 0.25 = 3.25. */
    const double e[] = {4, 1, 3, 2};
    CHECK(stats_describe(e, 4, &d) == 0);
    CHECK_NEAR(d.median, 2.5, 0);
    CHECK_NEAR(d.q1, 1.75, 1e-15);
    CHECK_NEAR(d.q3, 3.25, 1e-15);

    /* n = 0: -1 and NAN (gsl would say "mean 0") */
    CHECK(stats_describe(x, 0, &d) == -1);
    CHECK(isnan(d.mean) && isnan(d.sd) && isnan(d.median) && isnan(d.min));
    /* n = 1: defined except the SD */
    const double one[] = {7.5};
    CHECK(stats_describe(one, 1, &d) == 0);
    CHECK_NEAR(d.mean, 7.5, 0);
    CHECK(isnan(d.sd));
    CHECK_NEAR(d.median, 7.5, 0);
    CHECK_NEAR(d.q1, 7.5, 0);
    /* n = 2: 1, 3 -> mean 2, sd sqrt(2) */
    const double two[] = {3, 1};
    CHECK(stats_describe(two, 2, &d) == 0);
    CHECK_NEAR(d.sd, sqrt(2.0), 1e-15);
    /* identical values: SD exactly 0, not a rounding residue */
    const double same[] = {0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1};
    CHECK(stats_describe(same, 7, &d) == 0);
    CHECK(d.sd == 0.0);
    CHECK(d.mean == 0.1);
}

/* ------------------------------------------------------------------ t tests */

/* Student's sleep data (R `sleep`): differences drug 2 - drug 1. */
static const double sleep_diff[] = {1.2, 2.4, 1.3, 1.3, 0.0, 1.0, 1.8, 0.8, 4.6, 1.4};

static void test_t(void)
{
    struct tres t;
    /* evidence.md (Cushny & Peebles; R t.test): 1.58, 0.700 to 2.460, t 4.062, df 9,
     * p 0.002833. Finer digits from R 4.2 t.test(d): CI 0.7001142367 2.4598857633,
     * t 4.0621277, p 0.00283289. */
    CHECK(stats_t_one_sample(sleep_diff, 10, 0.0, 0.95, &t) == 0);
    CHECK(t.n == 10);
    CHECK_NEAR(t.mean, 1.58, 1e-12);
    CHECK_NEAR(t.lo, 0.7001142367, 1e-9);
    CHECK_NEAR(t.hi, 2.4598857633, 1e-9);
    CHECK_NEAR(t.t, 4.0621277, 1e-6);
    CHECK_NEAR(t.df, 9.0, 0);
    CHECK_NEAR(t.p, 0.00283289, 1e-8);
    /* Hand: sd = se * sqrt(10) and t = mean / se => sd = 1.58 * sqrt(10) / 4.0621277
     * = 1.2299799; se = 0.38895873 (ratios of the published numbers). */
    CHECK_NEAR(t.sd, 1.58 * sqrt(10.0) / 4.0621277, 1e-6);
    CHECK_NEAR(t.se, 1.58 / 4.0621277, 1e-7);
    /* mu0 shifts t: against mu0 = 1.58 the statistic is 0 and p = 1 */
    CHECK(stats_t_one_sample(sleep_diff, 10, 1.58, 0.95, &t) == 0);
    CHECK_NEAR(t.t, 0.0, 1e-12);
    CHECK_NEAR(t.p, 1.0, 1e-12);

    /* Hand, n = 2: x = 1, 3: mean 2, sd sqrt(2), se 1, t = 2, df 1.
     * t(1) is Cauchy: P(|T| > 2) = 1 - 2 atan(2)/pi = 0.2951672353008665;
     * qt(.975, 1) = tan(0.475 pi) = 12.706204736174698 -> CI 2 -+ 12.7062047. */
    const double two[] = {1, 3};
    CHECK(stats_t_one_sample(two, 2, 0.0, 0.95, &t) == 0);
    CHECK_NEAR(t.t, 2.0, 1e-14);
    CHECK_NEAR(t.p, 0.2951672353008665, 1e-12);
    CHECK_NEAR(t.lo, 2.0 - 12.706204736174698, 1e-9);
    CHECK_NEAR(t.hi, 2.0 + 12.706204736174698, 1e-9);

    /* edge: n = 0, 1, zero variance, bad level */
    CHECK(stats_t_one_sample(two, 0, 0.0, 0.95, &t) == -1);
    CHECK(isnan(t.mean) && isnan(t.p) && isnan(t.lo));
    CHECK(stats_t_one_sample(two, 1, 0.0, 0.95, &t) == -1);
    CHECK(isnan(t.t));
    const double same[] = {2, 2, 2};
    CHECK(stats_t_one_sample(same, 3, 0.0, 0.95, &t) == -1);
    CHECK(isnan(t.t) && isnan(t.mean));
    CHECK(stats_t_one_sample(sleep_diff, 10, 0.0, 1.0, &t) == -1);

    /* Welch. Hand: x = 1..5 (mean 3, var 2.5), y = 2 4 6 (mean 4, var 4).
     * vx/nx = 0.5, vy/ny = 4/3; se = sqrt(11/6) = 1.3540064; t = -1/se = -0.73854895;
     * df = (11/6)^2 / (0.5^2/4 + (4/3)^2/2) = 3.3611111 / 0.95138889 = 3.5328467.
     * CI and p from R 4.2 t.test(1:5, c(2,4,6)): -4.963725522 2.963725522, p 0.5062142. */
    const double wx[] = {1, 2, 3, 4, 5}, wy[] = {2, 4, 6};
    CHECK(stats_t_welch(wx, 5, wy, 3, 0.95, &t) == 0);
    CHECK_NEAR(t.mean, -1.0, 1e-14);
    CHECK_NEAR(t.se, sqrt(11.0 / 6.0), 1e-14);
    CHECK_NEAR(t.t, -0.73854895, 1e-8);
    CHECK_NEAR(t.df, 3.5328467, 1e-7);
    CHECK_NEAR(t.lo, -4.963725522, 1e-8);
    CHECK_NEAR(t.hi, 2.963725522, 1e-8);
    CHECK_NEAR(t.p, 0.5062142, 1e-7);
    CHECK(t.n == 8);
    CHECK(stats_t_welch(wx, 1, wy, 3, 0.95, &t) == -1);
    CHECK(isnan(t.mean));
    CHECK(stats_t_welch(wx, 5, wy, 0, 0.95, &t) == -1);
    CHECK(stats_t_welch(same, 3, same, 3, 0.95, &t) == -1);
    /* one group constant is fine: df = n of the other minus 1 (vx = 0 drops out) */
    CHECK(stats_t_welch(same, 3, wy, 3, 0.95, &t) == 0);
    CHECK_NEAR(t.df, 2.0, 1e-12);
}

/* ------------------------------------------------------------------ proportions */

static void test_props(void)
{
    double lo, hi;
    /* evidence.md (Brown, Cai & DasGupta 2001), x = 14, n = 20, to 3 decimals; the finer
     * digits are R 4.2: prop.test(14,20,correct=FALSE) 0.481027181646477 0.854522755132396,
     * binom.test 0.457210817723711 0.881068409594272,
     * qbeta(c(.025,.975),14.5,6.5) 0.482771751433028 0.863883773412810. */
    CHECK(stats_prop_wilson(14, 20, 0.95, &lo, &hi) == 0);
    CHECK_NEAR(lo, 0.481, 5e-4);
    CHECK_NEAR(hi, 0.855, 5e-4);
    CHECK_NEAR(lo, 0.481027181646477, 1e-9);
    CHECK_NEAR(hi, 0.854522755132396, 1e-9);
    CHECK(stats_prop_clopper_pearson(14, 20, 0.95, &lo, &hi) == 0);
    CHECK_NEAR(lo, 0.457, 5e-4);
    CHECK_NEAR(hi, 0.881, 5e-4);
    CHECK_NEAR(lo, 0.457210817723711, 1e-9);
    CHECK_NEAR(hi, 0.881068409594272, 1e-9);
    CHECK(stats_prop_jeffreys(14, 20, 0.95, &lo, &hi) == 0);
    CHECK_NEAR(lo, 0.483, 5e-4);
    CHECK_NEAR(hi, 0.864, 5e-4);
    CHECK_NEAR(lo, 0.482771751433028, 1e-9);
    CHECK_NEAR(hi, 0.863883773412810, 1e-9);

    /* k = 0, n = 20, closed forms:
     * Wilson upper = z^2 / (n + z^2) = 3.841458820694124 / 23.841458820694124 = 0.16112515805;
     * Clopper–Pearson upper solves (1-p)^20 = 0.025: 1 - 0.025^(1/20) = 0.16843347098;
     * Jeffreys upper = qbeta(.975, 0.5, 20.5) = 0.116638982904875 (R 4.2). */
    double z2 = 1.959963984540054 * 1.959963984540054;
    CHECK(stats_prop_wilson(0, 20, 0.95, &lo, &hi) == 0);
    CHECK(lo == 0.0);
    CHECK_NEAR(hi, z2 / (20 + z2), 1e-12);
    CHECK(stats_prop_clopper_pearson(0, 20, 0.95, &lo, &hi) == 0);
    CHECK(lo == 0.0);
    CHECK_NEAR(hi, 1 - pow(0.025, 1.0 / 20), 1e-10);
    CHECK(stats_prop_jeffreys(0, 20, 0.95, &lo, &hi) == 0);
    CHECK(lo == 0.0);
    CHECK_NEAR(hi, 0.116638982904875, 1e-9);
    /* k = n mirrors k = 0 */
    CHECK(stats_prop_wilson(20, 20, 0.95, &lo, &hi) == 0);
    CHECK(hi == 1.0);
    CHECK_NEAR(lo, 20 / (20 + z2), 1e-12);
    CHECK(stats_prop_clopper_pearson(20, 20, 0.95, &lo, &hi) == 0);
    CHECK(hi == 1.0);
    CHECK_NEAR(lo, pow(0.025, 1.0 / 20), 1e-10);
    CHECK(stats_prop_jeffreys(20, 20, 0.95, &lo, &hi) == 0);
    CHECK(hi == 1.0);
    CHECK_NEAR(lo, 1 - 0.116638982904875, 1e-9);
    /* n = 1, k = 1: CP lower = 0.025 (p^1 = 0.025) */
    CHECK(stats_prop_clopper_pearson(1, 1, 0.95, &lo, &hi) == 0);
    CHECK_NEAR(lo, 0.025, 1e-12);
    /* invalid: n = 0, k > n, k < 0 */
    CHECK(stats_prop_wilson(0, 0, 0.95, &lo, &hi) == -1);
    CHECK(isnan(lo) && isnan(hi));
    CHECK(stats_prop_clopper_pearson(0, 0, 0.95, &lo, &hi) == -1);
    CHECK(isnan(lo) && isnan(hi));
    CHECK(stats_prop_jeffreys(0, 0, 0.95, &lo, &hi) == -1);
    CHECK(isnan(lo) && isnan(hi));
    CHECK(stats_prop_wilson(21, 20, 0.95, &lo, &hi) == -1);
    CHECK(stats_prop_jeffreys(-1, 20, 0.95, &lo, &hi) == -1);

    /* Exact binomial, hand: n = 5, p = 1/2: P(X >= 4) = (C(5,4) + C(5,5)) / 32 = 6/32;
     * P(X <= 1) = (1 + 5) / 32. n = 20, k = 14: (38760 + 15504 + 4845 + 1140 + 190 + 20
     * + 1) / 2^20 = 60460 / 1048576 = 0.0576591491699219. */
    CHECK_NEAR(stats_binom_p_one_sided(4, 5, 0.5, 1), 6.0 / 32, 1e-14);
    CHECK_NEAR(stats_binom_p_one_sided(1, 5, 0.5, 0), 6.0 / 32, 1e-14);
    CHECK_NEAR(stats_binom_p_one_sided(14, 20, 0.5, 1), 60460.0 / 1048576, 1e-14);
    CHECK_NEAR(stats_binom_p_one_sided(0, 5, 0.3, 1), 1.0, 0);
    CHECK_NEAR(stats_binom_p_one_sided(5, 5, 0.3, 0), 1.0, 1e-15);
    CHECK_NEAR(stats_binom_p_one_sided(5, 5, 0.3, 1), 0.3 * 0.3 * 0.3 * 0.3 * 0.3, 1e-15);
    CHECK_NEAR(stats_binom_p_one_sided(0, 0, 0.3, 1), 1.0, 0);
    CHECK(isnan(stats_binom_p_one_sided(6, 5, 0.5, 1)));
    CHECK(isnan(stats_binom_p_one_sided(-1, 5, 0.5, 0)));
    CHECK(isnan(stats_binom_p_one_sided(2, 5, 1.5, 0)));

    /* Newcombe (Stat Med 1998;17:873, Table II, method 10), published to 4 decimals. */
    static const struct {
        long k1, n1, k2, n2;
        double lo, hi;
    } nc[] = {
        {56, 70, 48, 80, 0.0524, 0.3339}, {9, 10, 3, 10, 0.1705, 0.8090},
        {5, 56, 0, 29, -0.0381, 0.1926},  {0, 10, 0, 20, -0.1611, 0.2775},
        {10, 10, 0, 20, 0.6791, 1.0000},
    };
    for (size_t i = 0; i < NELEM(nc); i++) {
        double d;
        CHECK(stats_prop_diff_newcombe(nc[i].k1, nc[i].n1, nc[i].k2, nc[i].n2, 0.95, &d, &lo,
                                       &hi) == 0);
        CHECK_NEAR(d, (double)nc[i].k1 / nc[i].n1 - (double)nc[i].k2 / nc[i].n2, 1e-15);
        CHECK_NEAR(lo, nc[i].lo, 5e-5);
        CHECK_NEAR(hi, nc[i].hi, 5e-5);
    }
    double d;
    CHECK(stats_prop_diff_newcombe(1, 0, 1, 2, 0.95, &d, &lo, &hi) == -1);
    CHECK(isnan(d) && isnan(lo) && isnan(hi));
}

/* ------------------------------------------------------------------ Wilcoxon */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Brute force: all n(n+1)/2 Walsh averages of the non-zero values, sorted. */
static double *all_walsh(const double *x, size_t n, size_t *count)
{
    double *nz = malloc((n ? n : 1) * sizeof *nz);
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] != 0)
            nz[m++] = x[i];
    size_t nn = m * (m + 1) / 2, c = 0;
    double *w = malloc((nn ? nn : 1) * sizeof *w);
    for (size_t i = 0; i < m; i++)
        for (size_t j = i; j < m; j++)
            w[c++] = (nz[i] + nz[j]) / 2;
    qsort(w, nn, sizeof *w, cmp_double);
    free(nz);
    *count = nn;
    return w;
}

static double brute_median(const double *w, size_t nn)
{
    return nn % 2 ? w[nn / 2] : (w[nn / 2 - 1] + w[nn / 2]) / 2;
}

/* Brute force V with O(n^2) ranking (rank = 1 + #smaller + (#equal - 1)/2). */
static double brute_v(const double *x, size_t n)
{
    double v = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] <= 0)
            continue;
        double less = 0, eq = 0;
        for (size_t j = 0; j < n; j++) {
            if (x[j] == 0)
                continue;
            if (fabs(x[j]) < fabs(x[i]))
                less++;
            else if (fabs(x[j]) == fabs(x[i]))
                eq++;
        }
        v += 1 + less + (eq - 1) / 2;
    }
    return v;
}

/* Brute-force exact CI for untied non-zero x (n <= 16): the null distribution of V by
 * enumerating all 2^n sign patterns, then R's rule lower = W(qu), upper = W(N - qu + 1). */
static void brute_exact_ci(const double *x, size_t n, double level, double *lo, double *hi)
{
    size_t nn = n * (n + 1) / 2;
    double *cnt = calloc(nn + 1, sizeof *cnt);
    for (unsigned long mask = 0; mask < (1ul << n); mask++) {
        size_t v = 0;
        for (size_t r = 0; r < n; r++)
            if (mask & (1ul << r))
                v += r + 1;
        cnt[v]++;
    }
    double total = ldexp(1.0, (int)n), cum = 0, a2 = (1 - level) / 2;
    size_t qu = 0;
    for (; qu <= nn; qu++) {
        cum += cnt[qu] / total;
        if (cum >= a2 - 1e-12)
            break;
    }
    if (qu == 0)
        qu = 1;
    size_t c;
    double *w = all_walsh(x, n, &c);
    *lo = w[qu - 1];
    *hi = w[nn - qu];
    free(w);
    free(cnt);
}

/* R's normal statistic W(d) by brute force: zeros of x - d dropped, O(n^2) ranking,
 * tie term sum(t^3 - t) = sum over members of (t^2 - 1). */
static double brute_w(const double *x, size_t n, double d)
{
    double v = 0, ties = 0, m = 0;
    for (size_t i = 0; i < n; i++) {
        double a = x[i] - d;
        if (a == 0)
            continue;
        m++;
        double less = 0, eq = 0;
        for (size_t j = 0; j < n; j++) {
            double b = x[j] - d;
            if (b == 0)
                continue;
            if (fabs(b) < fabs(a))
                less++;
            else if (fabs(b) == fabs(a))
                eq++;
        }
        if (a > 0)
            v += 1 + less + (eq - 1) / 2;
        ties += eq * eq - 1;
    }
    double zd = v - m * (m + 1) / 4;
    double sigma = sqrt(m * (m + 1) * (2 * m + 1) / 24 - ties / 48);
    return (zd - (zd > 0 ? 0.5 : zd < 0 ? -0.5 : 0)) / sigma;
}

/* R's approximate CI, with uniroot replaced by a scan: W is evaluated directly at the
 * midpoint after each distinct Walsh average; the root is the first average after which
 * W < zq. Alpha is widened as R does until both limits are attainable. */
static void brute_approx_ci(const double *x0, size_t n0, double level, double *lo, double *hi,
                            double *lev)
{
    double x[64];
    size_t n = 0, c;
    for (size_t i = 0; i < n0; i++)
        if (x0[i] != 0)
            x[n++] = x0[i];
    double *u = all_walsh(x, n, &c);
    double mn = u[0], mx = u[c - 1];   /* Walsh extremes are the data extremes */
    double wmin = brute_w(x, n, mn), wmax = brute_w(x, n, mx);
    double alpha = 1 - level;
    while (alpha < 1 && (wmin - gsl_cdf_ugaussian_Qinv(alpha / 2) < 0 ||
                         wmax - gsl_cdf_ugaussian_Pinv(alpha / 2) > 0))
        alpha *= 2;
    *lev = alpha >= 1 ? 0 : 1 - alpha;
    if (alpha >= 1) {
        qsort(x, n, sizeof x[0], cmp_double);
        *lo = *hi = n % 2 ? x[n / 2] : (x[n / 2 - 1] + x[n / 2]) / 2;
        free(u);
        return;
    }
    for (int side = 0; side < 2; side++) {
        double zq = side == 0 ? gsl_cdf_ugaussian_Qinv(alpha / 2) : gsl_cdf_ugaussian_Pinv(alpha / 2);
        double r = NAN;
        if (wmin - zq <= 0)
            r = mn;
        else if (wmax - zq >= 0)
            r = mx;
        else
            for (size_t j = 0; j < c; j++) {
                if (j + 1 < c && u[j + 1] == u[j])
                    continue;
                double mid = j + 1 < c ? (u[j] + u[j + 1]) / 2 : u[j] + 1;
                if (brute_w(x, n, mid) < zq) {
                    r = u[j];
                    break;
                }
            }
        *(side == 0 ? lo : hi) = r;
    }
    free(u);
}

static void test_wilcoxon(void)
{
    struct wilcoxon w;
    /* Hand, x = -1 2 3 5: ranks of |x| 1 2 3 4, positive 2+3+4 -> V = 9.
     * Walsh averages (x_i + x_j)/2, i <= j, sorted: -1 .5 1 2 2 2.5 3 3.5 4 5 (N = 10);
     * pseudomedian = (2 + 2.5)/2 = 2.25. Exact p: sign patterns with V >= 9 are
     * {2,3,4} and {1,2,3,4}: 2/16, two-sided 0.25. CI: P(V <= 0) = 1/16 >= .025 so
     * qu = 0 -> 1: (W(1), W(10)) = (-1, 5), achieved level 1 - 2/16 = 0.875.
     * R 4.2 wilcox.test(c(-1,2,3,5), conf.int=TRUE) agrees (conf.level 0.88 printed). */
    const double h[] = {5, -1, 3, 2};
    CHECK(stats_wilcoxon_signed_rank(h, 4, 0.95, &w) == 0);
    CHECK(w.n == 4 && w.exact == 1);
    CHECK_NEAR(w.v, 9, 0);
    CHECK_NEAR(w.p, 0.25, 1e-15);
    CHECK_NEAR(w.hl, 2.25, 1e-15);
    CHECK_NEAR(w.hl_lo, -1, 0);
    CHECK_NEAR(w.hl_hi, 5, 0);
    CHECK_NEAR(w.level, 0.875, 1e-15);

    /* Sleep data (zero and ties -> normal approximation). Hand: zero dropped, n = 9, all
     * positive so V = 45; z = 45 - 9*10/4 = 22.5; ties: one pair of 1.3, sum(t^3-t) = 6;
     * sigma^2 = 9*10*19/24 - 6/48 = 71.125, sigma = 8.4335638; continuity: (22.5 - .5)/
     * sigma = 2.6086163; p = 2 (1 - Phi(2.6086)) = 0.0090907 (R: V = 45, p 0.009090698).
     * CI and estimate R 4.2 wilcox.test(d, conf.int=TRUE): 1.050017991 2.949920800,
     * (pseudo)median 1.400020842 — uniroot(tol 1e-4) lands within 1e-4 of the exact
     * jump points 1.05, 2.95 and 1.4; the brute-force Walsh median pins the estimate. */
    CHECK(stats_wilcoxon_signed_rank(sleep_diff, 10, 0.95, &w) == 0);
    CHECK(w.n == 9 && w.exact == 0);
    CHECK_NEAR(w.v, 45, 0);
    CHECK_NEAR(w.p, 0.009090698, 1e-9);
    CHECK_NEAR(w.hl_lo, 1.050017991, 1e-4);
    CHECK_NEAR(w.hl_hi, 2.949920800, 1e-4);
    CHECK_NEAR(w.hl, 1.400020842, 1e-4);
    {
        size_t c;
        double *all = all_walsh(sleep_diff, 10, &c);
        CHECK_NEAR(w.hl, brute_median(all, c), 1e-15);
        free(all);
    }
    CHECK_NEAR(w.level, 0.95, 0);

    /* R 4.2, exact case: x below, wilcox.test(x, conf.int=TRUE): V = 72,
     * p = 0.0068359375 (= 2 * 28/4096), CI 0.85 4.40, (pseudo)median 2.65. */
    const double e12[] = {0.8, -1.9, 2.7, 3.1, 4.4, -0.3, 5.2, 6.1, 1.5, 2.2, 7.3, 0.9};
    CHECK(stats_wilcoxon_signed_rank(e12, 12, 0.95, &w) == 0);
    CHECK(w.exact == 1);
    CHECK_NEAR(w.v, 72, 0);
    CHECK_NEAR(w.p, 0.0068359375, 1e-15);
    CHECK_NEAR(w.hl_lo, 0.85, 1e-14);
    CHECK_NEAR(w.hl_hi, 4.40, 1e-14);
    CHECK_NEAR(w.hl, 2.65, 1e-14);

    /* R 4.2, exact case at 90%: set.seed(2); round(rnorm(30, .5, 1), 3):
     * V = 380, p 0.00171859003603458, CI 0.3905 1.1120, estimate 0.776. */
    const double e30[] = {-0.397, 0.685, 2.088, -0.63,  0.42,  0.632,  1.208, 0.26,
                          2.484,  0.361, 0.918, 1.482,  0.107, -0.54,  2.282, -1.811,
                          1.379,  0.536, 1.513, 0.932,  2.591, -0.7,   2.09,  2.455,
                          0.505,  -1.952, 0.977, -0.097, 1.292, 0.79};
    CHECK(stats_wilcoxon_signed_rank(e30, 30, 0.90, &w) == 0);
    CHECK(w.exact == 1);
    CHECK_NEAR(w.v, 380, 0);
    CHECK_NEAR(w.p, 0.00171859003603458, 1e-14);
    CHECK_NEAR(w.hl_lo, 0.3905, 1e-12);
    CHECK_NEAR(w.hl_hi, 1.1120, 1e-12);
    CHECK_NEAR(w.hl, 0.776, 1e-12);

    /* R 4.2, ties and zeros: wilcox.test(x, conf.int=TRUE, exact=FALSE): V = 114.5,
     * p 0.00207392839415411, CI 1.50001741569391 4.00005383637252, est 3.00006563339222
     * (uniroot, within 1e-4 of 1.5, 4, 3). */
    const double tz[] = {3, 3, 3, -1, 2, 2, 0, 5, 5, 5, 1, -2, 4, 4, 0, 6, 3};
    CHECK(stats_wilcoxon_signed_rank(tz, 17, 0.95, &w) == 0);
    CHECK(w.exact == 0 && w.n == 15);
    CHECK_NEAR(w.v, 114.5, 0);
    CHECK_NEAR(w.p, 0.00207392839415411, 1e-12);
    CHECK_NEAR(w.hl_lo, 1.50001741569391, 1e-4);
    CHECK_NEAR(w.hl_hi, 4.00005383637252, 1e-4);
    CHECK_NEAR(w.hl, 3.00006563339222, 1e-4);

    /* R 4.2, n = 60 with ties and a zero: set.seed(1); round(rnorm(60, 1, 2), 1):
     * V = 1498.5, p 3.69013668637284e-06, CI 0.849921542951203 1.749961001169907,
     * estimate 1.30000942911517. */
    const double n60[] = {-0.3, 1.4, -0.7, 4.2, 1.7, -0.6, 2,    2.5,  2.2, 0.4,  4,   1.8,
                          -0.2, -3.4, 3.2, 0.9, 1,   2.9,  2.6,  2.2,  2.8, 2.6,  1.1, -3,
                          2.2,  0.9, 0.7, -1.9, 0,   1.8,  3.7,  0.8,  1.8, 0.9,  -1.8, 0.2,
                          0.2,  0.9, 3.2, 2.5, 0.7,  0.5,  2.4,  2.1,  -0.4, -0.4, 1.7, 2.5,
                          0.8,  2.8, 1.8, -0.2, 1.7, -1.3, 3.9,  5,    0.3, -1.1, 2.1, 0.7};
    CHECK(stats_wilcoxon_signed_rank(n60, 60, 0.95, &w) == 0);
    CHECK(w.exact == 0 && w.n == 59);
    CHECK_NEAR(w.v, 1498.5, 0);
    CHECK_NEAR(w.p, 3.69013668637284e-06, 1e-15);
    CHECK_NEAR(w.hl_lo, 0.849921542951203, 1e-4);
    CHECK_NEAR(w.hl_hi, 1.749961001169907, 1e-4);
    CHECK_NEAR(w.hl, 1.30000942911517, 1e-4);

    /* Edge cases. All zeros: nothing to test (R gives p NaN) -> -1, n 0. */
    const double zeros[] = {0, 0, 0};
    CHECK(stats_wilcoxon_signed_rank(zeros, 3, 0.95, &w) == -1);
    CHECK(w.n == 0 && isnan(w.p) && isnan(w.hl));
    CHECK(stats_wilcoxon_signed_rank(zeros, 0, 0.95, &w) == -1);
    /* n = 1, x = 2: V = 1; P(V >= 1) = 1/2 -> p = 1; CI and estimate the value itself,
     * achieved level 1 - 2 P(V <= 0) = 0. */
    const double one[] = {2};
    CHECK(stats_wilcoxon_signed_rank(one, 1, 0.95, &w) == 0);
    CHECK_NEAR(w.p, 1.0, 0);
    CHECK_NEAR(w.hl, 2, 0);
    CHECK_NEAR(w.hl_lo, 2, 0);
    CHECK_NEAR(w.hl_hi, 2, 0);
    CHECK_NEAR(w.level, 0, 0);
    /* n = 2, x = -1, 3: V = 2; P(V >= 2) = 2/4 -> p = 1; Walsh -1, 1, 3 -> hl 1. */
    const double two[] = {-1, 3};
    CHECK(stats_wilcoxon_signed_rank(two, 2, 0.95, &w) == 0);
    CHECK_NEAR(w.v, 2, 0);
    CHECK_NEAR(w.p, 1.0, 0);
    CHECK_NEAR(w.hl, 1, 0);
    /* all identical, x = 3 3 3: ties -> normal. V = 6, z = 6 - 3 = 3, sigma^2 =
     * 3*4*7/24 - 24/48 = 3, p = 2 (1 - Phi((3 - .5)/sqrt 3)) = 0.148914673178766 (R 4.2).
     * R stops on the CI ("all observations are zero or tied"): CI NAN, estimate 3. */
    const double same[] = {3, 3, 3};
    CHECK(stats_wilcoxon_signed_rank(same, 3, 0.95, &w) == 0);
    CHECK_NEAR(w.p, 0.148914673178766, 1e-12);
    CHECK_NEAR(w.hl, 3, 0);
    CHECK(isnan(w.hl_lo) && isnan(w.hl_hi));
    /* ties everywhere with both signs: x = 1 -1 1 -1 -> all |x| tied, V = 2*2.5 = 5 =
     * n(n+1)/4 -> z = 0, no correction, p = 1; Walsh: -1 -1 -1 0 0 0 0 1 1 1 -> hl 0. */
    const double pm[] = {1, -1, 1, -1};
    CHECK(stats_wilcoxon_signed_rank(pm, 4, 0.95, &w) == 0);
    CHECK_NEAR(w.v, 5, 0);
    CHECK_NEAR(w.p, 1.0, 1e-15);
    CHECK_NEAR(w.hl, 0, 0);
    CHECK(stats_wilcoxon_signed_rank(pm, 4, 1.5, &w) == -1);
    /* Unattainable level: R 4.2 wilcox.test(c(4,0,4,-2), conf.int=TRUE) widens alpha to 1
     * and returns the median of the non-zero values twice, CI 4 4, conf.level 0,
     * p 0.4142162. (Its estimate 1.514719 is uniroot landing on a plateau where W = 0;
     * the Walsh median of 4 4 -2, i.e. of -2 1 1 4 4 4, is (1 + 4)/2 = 2.5.) */
    /* Ties that exist only at d = 0 (|2| = |-2|) must not leak into the CI search:
     * R 4.2 wilcox.test(c(3,2,0,0,-2,-1), conf.int=TRUE): CI -1.999906 2.999906 (uniroot
     * near -2 and 3), conf.level widened to 0.8, estimate 0.5 (= Walsh median of 3 2 -2 -1:
     * -2 -1.5 -1 -.5 0 .5 .5 1 2.5 3 -> (.5 + .5)/2). */
    const double tz0[] = {3, 2, 0, 0, -2, -1};
    CHECK(stats_wilcoxon_signed_rank(tz0, 6, 0.95, &w) == 0);
    CHECK_NEAR(w.hl_lo, -2, 0);
    CHECK_NEAR(w.hl_hi, 3, 0);
    CHECK_NEAR(w.level, 0.8, 1e-15);
    CHECK_NEAR(w.hl, 0.5, 0);
    const double un[] = {4, 0, 4, -2};
    CHECK(stats_wilcoxon_signed_rank(un, 4, 0.95, &w) == 0);
    CHECK_NEAR(w.hl_lo, 4, 0);
    CHECK_NEAR(w.hl_hi, 4, 0);
    CHECK_NEAR(w.level, 0, 0);
    CHECK_NEAR(w.p, 0.4142162, 1e-7);
    CHECK_NEAR(w.hl, 2.5, 0);

    /* Random inputs against the brute-force references above: the HL estimate on
     * continuous and heavily tied data, V, and the exact CI for small untied samples. */
    uint64_t s = 12345;
    for (int rep = 0; rep < 200; rep++) {
        size_t n = 1 + (size_t)(rep % 40);
        double x[40];
        for (size_t i = 0; i < n; i++) {
            s = s * 6364136223846793005u + 1442695040888963407u;
            double u = (double)(s >> 11) / 9007199254740992.0;
            x[i] = rep % 2 ? floor(u * 9) - 3 : (u - 0.3) * 10;   /* odd reps: ties/zeros */
        }
        if (stats_wilcoxon_signed_rank(x, n, 0.95, &w) != 0) {
            size_t m = 0;
            for (size_t i = 0; i < n; i++)
                m += x[i] != 0;
            CHECK(m == 0);   /* only an all-zero sample may fail */
            continue;
        }
        size_t c;
        double *all = all_walsh(x, n, &c);
        CHECK_NEAR(w.hl, brute_median(all, c), 1e-12);
        if (w.level > 0) {   /* at level 0 R's CI is the sample median, not around hl */
            CHECK(w.hl_lo <= w.hl + 1e-12);
            CHECK(w.hl_hi >= w.hl - 1e-12);
        }
        free(all);
        if (!w.exact && !isnan(w.hl_lo)) {
            double lo, hi, lev;
            brute_approx_ci(x, n, 0.95, &lo, &hi, &lev);
            CHECK_NEAR(w.hl_lo, lo, 0);
            CHECK_NEAR(w.hl_hi, hi, 0);
            CHECK_NEAR(w.level, lev, 1e-15);
        }
        CHECK_NEAR(w.v, brute_v(x, n), 0);
        if (w.exact && n <= 16) {
            double lo, hi;
            brute_exact_ci(x, n, 0.95, &lo, &hi);
            CHECK_NEAR(w.hl_lo, lo, 0);
            CHECK_NEAR(w.hl_hi, hi, 0);
        }
    }

    /* Scale: n = 200000 would be 2e10 Walsh averages by enumeration; selection must finish
     * quickly. Check the answer by counting: for odd N the median m has fewer than
     * (N+1)/2 sums below 2m and at least (N+1)/2 at or below (two-pointer count). */
    size_t big = 200000;   /* N = 20000100000: even, so check both middle order stats */
    double *bx = malloc(big * sizeof *bx);
    for (size_t i = 0; i < big; i++) {
        s = s * 6364136223846793005u + 1442695040888963407u;
        bx[i] = (double)(s >> 11) / 9007199254740992.0 - 0.2;
    }
    clock_t t0 = clock();
    CHECK(stats_wilcoxon_signed_rank(bx, big, 0.95, &w) == 0);
    double secs = (double)(clock() - t0) / CLOCKS_PER_SEC;
    CHECK(secs < 20.0);   /* sanitizer build; O(n^2) would take hours */
    gsl_sort(bx, 1, big);
    /* count sums < 2 hl and <= 2 hl (i <= j) */
    uint64_t nlt = 0, nle = 0, nn = (uint64_t)big * (big + 1) / 2;
    size_t plt = big, ple = big;
    for (size_t i = 0; i < big; i++) {
        while (plt > 0 && bx[i] + bx[plt - 1] >= 2 * w.hl)
            plt--;
        while (ple > 0 && bx[i] + bx[ple - 1] > 2 * w.hl)
            ple--;
        nlt += plt > i ? plt - i : 0;
        nle += ple > i ? ple - i : 0;
    }
    /* hl is the mean of order statistics N/2 and N/2+1, so it splits the sums in half:
     * at most N/2 strictly below and at least N/2 at or below */
    CHECK(nlt <= nn / 2);
    CHECK(nle >= nn / 2);
    free(bx);
}

/* ------------------------------------------------------------------ effect sizes */

static void test_effect(void)
{
    struct effect e;
    /* Hand: pre 5 6 7 8, post 3 5 4 6; diff = post - pre = -2 -1 -3 -2: mean -2,
     * deviations 0 1 -1 0 -> var 2/3, sd 0.81649658 -> d_z = -2 / 0.81649658 = -2.4494897.
     * sd(pre) = sqrt(5/3) = 1.2909944, sd(post): mean 4.5, deviations -1.5 .5 -.5 1.5,
     * ss 5 -> sqrt(5/3) too; d_av = -2 / 1.2909944 = -1.5491933.
     * J(3) = Gamma(1.5) / (sqrt(1.5) Gamma(1)) = 0.88622693 / 1.2247449 = 0.72360125;
     * g_av = -1.5491933 * 0.72360125 = -1.1209982. */
    const double pre[] = {5, 6, 7, 8}, post[] = {3, 5, 4, 6};
    CHECK(stats_effect_paired(pre, post, 4, &e) == 0);
    CHECK_NEAR(e.d_z, -2.0 / sqrt(2.0 / 3.0), 1e-13);
    CHECK_NEAR(e.d_av, -2.0 / sqrt(5.0 / 3.0), 1e-13);
    CHECK_NEAR(e.g_av, -2.0 / sqrt(5.0 / 3.0) * (sqrt(M_PI) / 2) / sqrt(1.5), 1e-13);
    CHECK_NEAR(e.g_av, -1.1209982, 1e-7);
    /* J(df) tends to 1 - 3/(4 df - 1): for n = 101 (df 100) within 1e-5 of 0.99248120.
     * Here every diff is -1 except one -3 so d_z stays defined; we check g_av/d_av. */
    double p2[101], q2[101];
    for (int i = 0; i < 101; i++) {
        p2[i] = i;
        q2[i] = i - 1 - (i == 50 ? 2 : 0);
    }
    CHECK(stats_effect_paired(p2, q2, 101, &e) == 0);
    CHECK_NEAR(e.g_av / e.d_av, 1 - 3.0 / 399, 1e-5);
    /* edges: n < 3, constant differences (SD 0), all identical */
    CHECK(stats_effect_paired(pre, post, 2, &e) == -1);
    CHECK(isnan(e.d_z) && isnan(e.g_av));
    CHECK(stats_effect_paired(pre, post, 0, &e) == -1);
    const double shifted[] = {4, 5, 6, 7};
    CHECK(stats_effect_paired(pre, shifted, 4, &e) == -1);
    const double same[] = {1, 1, 1, 1};
    CHECK(stats_effect_paired(same, same, 4, &e) == -1);
}

/* ------------------------------------------------------------------ bootstrap */

static void test_bootstrap(void)
{
    double est, lo, hi, lo2, hi2, est2;
    const double x[] = {1, 2, 3, 10};
    struct bca b;
    /* Acceleration, hand: jackknife means theta_(i) = (16 - x_i)/3 = 5, 4.6667, 4.3333, 2;
     * their mean is 4, so d_i = 4 - theta_(i) = (x_i - 4)/3 = -1, -2/3, -1/3, 2.
     * sum d^3 = -1 - 8/27 - 1/27 + 8 = 6.6667; sum d^2 = 1 + 4/9 + 1/9 + 4 = 5.5556;
     * a = 6.6667 / (6 * 5.5556^1.5) = 6.6667 / 78.567 = 0.084852814 (= 180/(6 50^1.5)). */
    CHECK(stats_bootstrap_bca_detail(x, 4, BOOT_MEAN, 2000, 7, 0.95, &b) == 0);
    CHECK_NEAR(b.a, 180.0 / (6.0 * pow(50.0, 1.5)), 1e-14);
    CHECK_NEAR(b.est, 4.0, 1e-15);
    CHECK(b.lo <= b.est && b.est <= b.hi);
    CHECK(b.lo >= 1.0 && b.hi <= 10.0);   /* a resampled mean cannot leave the data range */
    /* Median, hand: x = 1 2 3 10, leave-one-out medians 3, 3, 2, 2 (mean 2.5),
     * d = -.5 -.5 .5 .5: sum d^3 = 0 -> a = 0. */
    CHECK(stats_bootstrap_bca_detail(x, 4, BOOT_MEDIAN, 2000, 7, 0.95, &b) == 0);
    CHECK_NEAR(b.a, 0.0, 1e-15);
    CHECK_NEAR(b.est, 2.5, 0);
    /* Median of 5: 1 2 3 4 100 -> leave-one-out medians (even n=4): drop 1 -> 3.5,
     * drop 2 -> 3.5, drop 3 -> 3, drop 4 -> 2.5, drop 100 -> 2.5; mean 3;
     * d = -.5 -.5 0 .5 .5 -> sum d^3 = 0, a = 0 (the outlier has no pull on the median). */
    const double x5[] = {100, 4, 3, 2, 1};
    CHECK(stats_bootstrap_bca_detail(x5, 5, BOOT_MEDIAN, 1000, 1, 0.95, &b) == 0);
    CHECK_NEAR(b.a, 0.0, 1e-15);

    /* Reproducible from the seed; a different seed gives different limits. */
    const double y[] = {3.1, 4.7, 1.2, 8.8, 5.0, 6.3, 2.2, 7.7, 4.4, 9.9, 0.5, 6.6};
    CHECK(stats_bootstrap_bca(y, 12, BOOT_MEAN, 3000, 42, 0.95, &est, &lo, &hi) == 0);
    CHECK(stats_bootstrap_bca(y, 12, BOOT_MEAN, 3000, 42, 0.95, &est2, &lo2, &hi2) == 0);
    CHECK(lo == lo2 && hi == hi2 && est == est2);
    CHECK(stats_bootstrap_bca(y, 12, BOOT_MEAN, 3000, 43, 0.95, &est2, &lo2, &hi2) == 0);
    CHECK(lo != lo2 || hi != hi2);
    CHECK(stats_bootstrap_bca(y, 12, BOOT_MEDIAN, 3000, 42, 0.95, &est, &lo, &hi) == 0);
    CHECK_NEAR(est, (4.7 + 5.0) / 2, 1e-15);
    CHECK(lo <= est && est <= hi);
    /* The same values in another order give the very same interval: sorted and shuffled
     * exports of one clinic must produce one report. */
    const double yr[] = {0.5, 9.9, 6.6, 1.2, 4.4, 7.7, 2.2, 6.3, 5.0, 8.8, 4.7, 3.1};
    CHECK(stats_bootstrap_bca(yr, 12, BOOT_MEDIAN, 3000, 42, 0.95, &est2, &lo2, &hi2) == 0);
    CHECK(est == est2 && lo == lo2 && hi == hi2);
    CHECK(stats_bootstrap_bca(y, 12, BOOT_MEAN, 3000, 42, 0.95, &est, &lo, &hi) == 0);
    CHECK(stats_bootstrap_bca(yr, 12, BOOT_MEAN, 3000, 42, 0.95, &est2, &lo2, &hi2) == 0);
    CHECK(lo == lo2 && hi == hi2);

    /* Large symmetric sample: x_i = Phi^-1((i - .5)/n), n = 400, exactly symmetric so
     * a = 0 and z0 ~ 0, and the mean is close to normal: BCa must match the t interval
     * mean -+ t(.975, 399) sd/sqrt(n). Tolerance 0.15 SE: with B = 10000 the Monte Carlo
     * SD of a 2.5% bootstrap quantile is sqrt(.025*.975/B)/phi(1.96) = 0.027 SE and z0's
     * noise shifts limits by ~0.02 SE; the systematic gap (z vs t quantile, 1.960 vs
     * 1.966, and the bootstrap's sqrt((n-1)/n) SD) is ~0.01 SE. 0.15 SE is > 4 sigma. */
    enum { NS = 400 };
    double *xs = malloc(NS * sizeof *xs);
    for (int i = 0; i < NS; i++)
        xs[i] = gsl_cdf_ugaussian_Pinv((i + 0.5) / NS);
    struct tres t;
    CHECK(stats_t_one_sample(xs, NS, 0.0, 0.95, &t) == 0);
    CHECK(stats_bootstrap_bca_detail(xs, NS, BOOT_MEAN, 10000, 2024, 0.95, &b) == 0);
    CHECK_NEAR(b.a, 0.0, 1e-12);
    CHECK_NEAR(b.lo, t.lo, 0.15 * t.se);
    CHECK_NEAR(b.hi, t.hi, 0.15 * t.se);
    free(xs);

    /* edges: n = 0, 1; all identical -> a point interval; bad level */
    CHECK(stats_bootstrap_bca(y, 0, BOOT_MEAN, 100, 1, 0.95, &est, &lo, &hi) == -1);
    CHECK(isnan(est) && isnan(lo) && isnan(hi));
    CHECK(stats_bootstrap_bca(y, 1, BOOT_MEAN, 100, 1, 0.95, &est, &lo, &hi) == -1);
    const double same[] = {2, 2, 2, 2, 2};
    CHECK(stats_bootstrap_bca(same, 5, BOOT_MEDIAN, 100, 1, 0.95, &est, &lo, &hi) == 0);
    CHECK(est == 2 && lo == 2 && hi == 2);
    CHECK(stats_bootstrap_bca(same, 5, BOOT_MEAN, 100, 1, 0.95, &est, &lo, &hi) == 0);
    CHECK(est == 2 && lo == 2 && hi == 2);
    /* n = 2: every resample mean of {0, 1} is 0, .5 or 1 */
    const double two[] = {0, 1};
    CHECK(stats_bootstrap_bca(two, 2, BOOT_MEAN, 500, 1, 0.95, &est, &lo, &hi) == 0);
    CHECK(lo >= 0 && hi <= 1);
    CHECK(stats_bootstrap_bca(y, 12, BOOT_MEAN, 100, 1, 0.0, &est, &lo, &hi) == -1);
}

/* ------------------------------------------------------------------ Kaplan–Meier */

static void test_km(void)
{
    struct km k;
    double s, lo, hi;
    /* Hand: times 1 2 2+ 3+ 4 5+ (+ censored).
     *  t  n_risk  d  S                      Greenwood sum G            se = S sqrt(G)
     *  1    6     1  5/6 = .833333          1/(6*5) = .033333          .152145
     *  2    5     1  5/6*4/5 = .666667      + 1/(5*4) = .083333        .192450
     *  4    2     1  .666667*1/2 = .333333  + 1/(2*1) = .583333        .254588
     * (2+ is at risk at 2, being censored after the event; 3+ leaves before 4.)
     * log-log CI at t = 1: theta = z sqrt(G)/|log S| = 1.959964*.182574/.182322 = 1.962680;
     * lower = S^exp(theta) = .833333^7.118377 = .273123, upper = S^exp(-theta) = .974712.
     * R 4.2 survfit(conf.type="log-log") prints the same: .27312284993 .9747124267;
     * t = 2: .19461663681 .9044341643; t = 4: .01368487751 .7548440446.
     * Quantiles: S first <= .75 at 2, <= .5 at 4, never <= .25. Brookmeyer–Crowley
     * (R quantile.survfit): lower band first <= .75 and <= .5 at t = 1, <= .25 at t = 2
     * (.1946); the upper band (.9747, .9044, .7548) never reaches .75 -> all NA. */
    const double t1[] = {2, 1, 2, 3, 4, 5};
    const int e1[] = {1, 1, 0, 0, 1, 0};
    CHECK(stats_km(t1, e1, 6, 0.95, &k) == 0);
    CHECK(k.n == 6 && k.n_events == 3 && k.n_steps == 3);
    if (k.n_steps == 3) {
        CHECK_NEAR(k.step[0].t, 1, 0);
        CHECK(k.step[0].n_risk == 6 && k.step[0].n_event == 1 && k.step[0].n_censor == 0);
        CHECK(k.step[1].n_risk == 5 && k.step[1].n_event == 1 && k.step[1].n_censor == 2);
        CHECK(k.step[2].n_risk == 2 && k.step[2].n_event == 1 && k.step[2].n_censor == 1);
        CHECK_NEAR(k.step[0].surv, 5.0 / 6, 1e-15);
        CHECK_NEAR(k.step[1].surv, 4.0 / 6, 1e-15);
        CHECK_NEAR(k.step[2].surv, 2.0 / 6, 1e-15);
        CHECK_NEAR(k.step[0].se, 5.0 / 6 * sqrt(1.0 / 30), 1e-15);
        CHECK_NEAR(k.step[1].se, 4.0 / 6 * sqrt(1.0 / 30 + 1.0 / 20), 1e-15);
        CHECK_NEAR(k.step[2].se, 2.0 / 6 * sqrt(1.0 / 30 + 1.0 / 20 + 0.5), 1e-15);
        CHECK_NEAR(k.step[0].lo, 0.27312284993, 1e-10);
        CHECK_NEAR(k.step[0].hi, 0.9747124267, 1e-10);
        CHECK_NEAR(k.step[1].lo, 0.19461663681, 1e-10);
        CHECK_NEAR(k.step[1].hi, 0.9044341643, 1e-10);
        CHECK_NEAR(k.step[2].lo, 0.01368487751, 1e-10);
        CHECK_NEAR(k.step[2].hi, 0.7548440446, 1e-10);
    }
    CHECK_NEAR(k.q[0], 2, 0);
    CHECK_NEAR(k.q[1], 4, 0);
    CHECK(isnan(k.q[2]));
    /* R's lower limit of the first quartile is 1, read off the band at the first event as
     * if S were known to be 1 before it. Before t = 1 the 6 followed with no event bound S
     * only by 0.025^(1/6) = 0.5407, at or below .75: the quartile may lie just above 0, so
     * its lower limit is 0, exclusive; in whole numbers (these times are) past 0 is 1, a
     * response time whose own band holds there: R's 1 again, the band's own. For the
     * median (.5407 > .5) and q75 R's stand. */
    CHECK(k.q_lo[0] == 1 && !k.q_lo_open[0] && !k.q_lo_censor[0]);
    CHECK_NEAR(k.q_lo[1], 1, 0);
    CHECK_NEAR(k.q_lo[2], 2, 0);
    CHECK(!k.q_lo_open[1] && !k.q_lo_open[2]);
    CHECK(isnan(k.q_hi[0]) && isnan(k.q_hi[1]) && isnan(k.q_hi[2]));
    /* S(t) as a right-continuous step */
    /* Before the first event S = 1 and the log-log band does not exist (R: NA); S(t) >=
     * S(1) >= lo(1), so lo is the first step's (R's .27312284993 above), hi 1. */
    stats_km_at(&k, 0.5, &s, &lo, &hi);
    CHECK(s == 1 && hi == 1);
    CHECK_NEAR(lo, 0.27312284993, 1e-10);
    stats_km_at(&k, 1, &s, &lo, &hi);
    CHECK_NEAR(s, 5.0 / 6, 1e-15);
    CHECK_NEAR(lo, 0.27312284993, 1e-10);
    stats_km_at(&k, 3.9, &s, &lo, &hi);
    CHECK_NEAR(s, 4.0 / 6, 1e-15);
    CHECK_NEAR(hi, 0.9044341643, 1e-10);
    stats_km_at(&k, 100, &s, &lo, &hi);
    CHECK_NEAR(s, 2.0 / 6, 1e-15);
    stats_km_at(&k, NAN, &s, &lo, &hi);
    CHECK(isnan(s));
    stats_km_free(&k);
    CHECK(k.step == NULL);
    stats_km_free(&k);   /* twice is harmless */
    stats_km_free(NULL);

    /* Freireich et al. (Blood 1963) 6-MP arm, the classic published table (e.g. Kleinbaum
     * & Klein, Survival Analysis, ch. 2): S(6) .857, S(7) .807, S(10) .753, S(13) .690,
     * S(16) .627, S(22) .538, S(23) .448, median 23, Greenwood SE(6) .0764.
     * Log-log limits and quantile CIs from R 4.2 survfit(conf.type="log-log"):
     * t=6 .61971796 .95155175; t=23 .18805201 .68014263; quantile 25/50/75 = 13, 23, NA,
     * lower 6, 13, 23, upper 22, NA, NA. */
    const double t6[] = {6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32, 34, 35};
    const int e6[] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
    CHECK(stats_km(t6, e6, 21, 0.95, &k) == 0);
    CHECK(k.n_steps == 7 && k.n_events == 9);
    static const double pt[] = {6, 7, 10, 13, 16, 22, 23};
    static const double ps[] = {0.857, 0.807, 0.753, 0.690, 0.627, 0.538, 0.448};
    static const long pr[] = {21, 17, 15, 12, 11, 7, 6};
    for (size_t i = 0; i < 7 && i < k.n_steps; i++) {
        CHECK_NEAR(k.step[i].t, pt[i], 0);
        CHECK_NEAR(k.step[i].surv, ps[i], 5e-4);
        CHECK(k.step[i].n_risk == pr[i]);
    }
    if (k.n_steps == 7) {
        CHECK_NEAR(k.step[0].se, 0.0764, 5e-5);
        CHECK_NEAR(k.step[0].lo, 0.61971796, 1e-8);
        CHECK_NEAR(k.step[0].hi, 0.95155175, 1e-8);
        CHECK_NEAR(k.step[6].lo, 0.18805201, 1e-8);
        CHECK_NEAR(k.step[6].hi, 0.68014263, 1e-8);
        CHECK(k.step[0].n_event == 3 && k.step[0].n_censor == 1);
    }
    CHECK_NEAR(k.q[0], 13, 0);
    CHECK_NEAR(k.q[1], 23, 0);
    CHECK(isnan(k.q[2]));
    CHECK_NEAR(k.q_lo[0], 6, 0);
    /* The median's lower limit: R's usual band gives 13. Past the censoring at 10 only 13
     * are followed (11 13 16 17 19 20 22 23 25 32 32 34 35), against m = 15 at risk at the
     * last response (10): Dorey-Korn widen the variance by m/n = 15/13. S(10) = .7529412,
     * G = 3/(21*18) + 1/(17*16) + 1/(15*14) = 0.0163749, theta = 1.959964 sqrt(G 15/13) /
     * |ln S| = 0.949396, S^exp(theta) = 0.4803217 <= .5: the median lies above 10. R's
     * conf.lower = "modified" prints the same 0.480321710 at 11 (its n there, 13, counts
     * the one censored at 11) and gives 11; past 9 (n 15, m 17): 0.5423 > .5. The times
     * are whole numbers, so "above 10" is 11, closed, R's. q25 and q75 keep the band's 6
     * and 23 (R modified agrees). */
    CHECK(k.q_lo[1] == 11 && !k.q_lo_open[1] && k.q_lo_censor[1]);
    CHECK_NEAR(k.q_lo[2], 23, 0);
    CHECK(!k.q_lo_open[0] && !k.q_lo_open[2]);
    CHECK_NEAR(k.q_hi[0], 22, 0);
    CHECK(isnan(k.q_hi[1]) && isnan(k.q_hi[2]));
    stats_km_at(&k, 15, &s, &lo, &hi);
    CHECK_NEAR(s, 0.690, 5e-4);
    /* Nobody censored in [13, 15): the band at 13 as it is, R's 0.431610222. */
    CHECK_NEAR(lo, 0.431610222, 1e-9);
    /* On the flat after 10, past the censoring at 10: the widened band of the median's
     * lower limit above, 0.4803217 (R modified: 0.480321710 at 11); hi is not widened. */
    stats_km_at(&k, 10.5, &s, &lo, &hi);
    CHECK_NEAR(s, 0.7529412, 1e-7);
    CHECK_NEAR(lo, 0.480321710, 1e-9);
    CHECK_NEAR(hi, 0.8893618352, 1e-9);   /* R: summary(fit, times = 10)$upper */
    /* At the event time itself, the band as it is (R's usual: 0.5032). */
    stats_km_at(&k, 10, &s, &lo, &hi);
    CHECK_NEAR(lo, 0.503199511, 1e-9);
    stats_km_free(&k);

    /* Flats exactly at a quantile, R quantile.survfit's midpoint rule.
     * 1 2 3 4, all events: S = .75 .5 .25 0 -> quantiles (1+2)/2, (2+3)/2, (3+4)/2 =
     * 1.5 2.5 3.5 (R 4.2 agrees; as for the sample median of 1..4). S = 0 at t = 4 has
     * infinite Greenwood variance: se and limits NAN (R: NA). */
    const double t4[] = {1, 2, 3, 4};
    const int all1[] = {1, 1, 1, 1};
    CHECK(stats_km(t4, all1, 4, 0.95, &k) == 0);
    CHECK_NEAR(k.q[0], 1.5, 0);
    CHECK_NEAR(k.q[1], 2.5, 0);
    CHECK_NEAR(k.q[2], 3.5, 0);
    /* R 4.2: lower 1 1 1, upper 3 NA NA. Before t = 1, 4 followed with no event bound S
     * only by 0.025^(1/4) = 0.3976: at or below .75 and .5, so those two lower limits are
     * 0, exclusive; in whole numbers past 0 is 1, a response time whose own band holds
     * there: R's 1 again. Above .25, so q75's is 1 anyway. */
    CHECK(k.q_lo[0] == 1 && !k.q_lo_open[0] && k.q_lo[1] == 1 && !k.q_lo_censor[1]);
    CHECK(k.q_lo[2] == 1 && !k.q_lo_open[2]);
    CHECK_NEAR(k.q_hi[0], 3, 0);
    CHECK(isnan(k.q_hi[1]));
    if (k.n_steps == 4) {
        CHECK(k.step[3].surv == 0);
        CHECK(isnan(k.step[3].se));
    }
    /* At S = 0 (R: NA) nobody was censored before t = 4, so all 4 are known responders by
     * then: S(4) <= 1 - 0.025^(1/4) = 1 - 0.3976354 = 0.6023646 (binom.test(4, 4) lower
     * limit 0.3976354), and S >= 0. By hand for t = 3: S(3) = .25, G = 1/(4*3) + 1/(3*2) +
     * 1/(2*1) = .75, theta = z sqrt(.75) / |ln .25| = 1.2244; hi = .25^exp(-theta) =
     * 0.66532534279, lo = .25^exp(theta) = 0.00894782442. Before t = 1: S(1) = .75, G = 1/12,
     * lo = .75^exp(z sqrt(1/12) / |ln .75|) = 0.12794691760. */
    stats_km_at(&k, 4, &s, &lo, &hi);
    CHECK(s == 0 && lo == 0);
    CHECK_NEAR(hi, 0.6023646356, 1e-10);
    if (k.n_steps == 4)
        CHECK(k.step[3].lo == 0 && k.step[3].hi == hi);
    CHECK(stats_km_all_events(&k) == 1);
    CHECK(stats_km_all_events(NULL) == 0);
    stats_km_at(&k, 3, &s, &lo, &hi);
    CHECK_NEAR(lo, 0.00894782442, 1e-10);
    CHECK_NEAR(hi, 0.66532534279, 1e-10);
    stats_km_at(&k, 0.5, &s, &lo, &hi);
    CHECK(s == 1 && hi == 1);
    CHECK_NEAR(lo, 0.12794691760, 1e-10);
    stats_km_free(&k);
    /* 1 2 3+ 4+: S = .75 .5 then flat at .5 to the end -> median (2 + last time 4)/2 = 3
     * (R 4.2: quantile 1.5 3 NA). */
    const int e4[] = {1, 1, 0, 0};
    CHECK(stats_km(t4, e4, 4, 0.95, &k) == 0);
    CHECK_NEAR(k.q[0], 1.5, 0);
    CHECK_NEAR(k.q[1], 3, 0);
    CHECK(isnan(k.q[2]));
    CHECK(stats_km_all_events(&k) == 0);   /* S never reaches 0 */
    stats_km_free(&k);

    /* Edges: n = 0; n = 1 event (S = 0 at once); no events (no steps, not reached);
     * ties everywhere (all at one time); bad input. */
    CHECK(stats_km(t4, all1, 0, 0.95, &k) == -1);
    CHECK(k.step == NULL && k.n_steps == 0 && isnan(k.q[1]));
    stats_km_free(&k);
    CHECK(stats_km(t4, all1, 1, 0.95, &k) == 0);
    CHECK(k.n_steps == 1 && k.step[0].surv == 0);
    /* S drops from 1 to 0 at t = 1: every quantile is the first time, 1 */
    CHECK_NEAR(k.q[1], 1, 0);
    /* ... the one patient is a responder by 1: S(1) <= 1 - 0.025 (binom.test(1, 1) lower
     * limit 0.025), so the median's upper limit is not reached; before t = 1 one patient
     * bounds S only by 0.025, so the lower limit is 0, exclusive: 1 in whole numbers. */
    stats_km_at(&k, 1, &s, &lo, &hi);
    CHECK(s == 0 && lo == 0);
    CHECK_NEAR(hi, 0.975, 1e-15);
    CHECK(k.q_lo[1] == 1 && !k.q_lo_open[1] && !k.q_lo_censor[1]);   /* 1 is a response time */
    CHECK(isnan(k.q_hi[1]));
    stats_km_at(&k, 0.5, &s, &lo, &hi);
    CHECK(s == 1 && hi == 1 && isnan(lo));
    stats_km_free(&k);
    /* Everyone responds at the first session, 30 of 30 (R: median 1, limits NA NA). Exact:
     * 1 - S(1) >= 0.025^(1/30) = exp(ln 0.025 / 30) = exp(-0.1229626) = 0.8842967
     * (binom.test(30, 30) lower limit), so S(1) <= 0.1157033 and every quantile's interval
     * is [1, 1]: the upper band is below 1/2 at t = 1 as well. */
    {
        double t30[30];
        int e30[30];
        for (int i = 0; i < 30; i++) {
            t30[i] = 1;
            e30[i] = 1;
        }
        CHECK(stats_km(t30, e30, 30, 0.95, &k) == 0);
        CHECK(k.n_steps == 1 && k.step[0].surv == 0 && k.step[0].lo == 0);
        CHECK_NEAR(k.step[0].hi, 0.1157033082, 1e-10);
        for (int q = 0; q < 3; q++)
            CHECK(k.q[q] == 1 && k.q_lo[q] == 1 && k.q_hi[q] == 1);
        CHECK(stats_km_all_events(&k) == 1);
        stats_km_free(&k);
        /* One censored at 0.5 first: not all 30 are known responders, but all 29 at risk
         * at 1 respond there: S(1) = S(1-) S(1 | 1-) <= 1 - 0.025^(1/29) = 1 - 0.8805551
         * (binom.test(29, 29) lower limit) = 0.1194449, below 1/2: the median is [1, 1]. */
        t30[0] = 0.5;
        e30[0] = 0;
        CHECK(stats_km(t30, e30, 30, 0.95, &k) == 0);
        CHECK(k.n_steps == 1 && k.step[0].lo == 0);
        CHECK_NEAR(k.step[0].hi, 0.1194449, 1e-7);
        CHECK(k.q[1] == 1 && k.q_lo[1] == 1 && k.q_hi[1] == 1);
        stats_km_free(&k);
        /* ... and one of them responding first, at 0.5: S = 0 is now the second step, and
         * the 28 at risk at 1 all responding bound it, 1 - 0.0125^(1/28) = 0.1448693 at
         * alpha/4, below the band at 0.5 carried (28/29 at alpha/4: 0.9962768): the median is
         * still [1, 1], not "not reached". */
        t30[1] = 0.5;
        CHECK(stats_km(t30, e30, 30, 0.95, &k) == 0);
        CHECK(k.n_steps == 2);
        if (k.n_steps == 2)
            CHECK_NEAR(k.step[1].hi, 0.1448693, 1e-7);
        CHECK(k.q[1] == 1 && k.q_lo[1] == 1 && k.q_hi[1] == 1);
        CHECK(stats_km_all_events(&k) == 0);
        stats_km_free(&k);
    }
    /* Flats where few are followed (R reads the band at event times only). (a) 28 of 30
     * censored at 1, the other two responding at 5: before any response, past 1 only 2 are
     * followed, 0.025^(1/2) = 0.158 <= .5, so the median's lower limit is 1, exclusive (R:
     * 5). (a2) The same with one of the 28 responding at 1 instead: S(1) = 29/30, G =
     * 1/(30*29), m = 30, n = 2 past 1: the widened band is far below .5: still 1, exclusive
     * (R's usual band: 5). (b) 3 of 30 respond at 1, 20 are censored at 2 and 7 at 8: S(1)
     * = .9, G = 3/(30*27), the 95% band .9^exp(1.959964 sqrt(G)/|ln .9|) = 0.72119 never
     * reaches .5 (R: NA). Past 2, 7 are followed of m = 30: theta = 1.959964 sqrt(G 30/7) /
     * |ln .9| = 2.343689, .9^exp(theta) = 0.3335994 <= .5. Lower limit 2, exclusive, not
     * the longest follow-up, 8 (R modified: 8, reading n = 7 only at 8). (c) The same with
     * all 27 followed to 8: nobody past 8, so the median lies beyond it: 8, exclusive.
     * These are whole numbers, so each "above x" is x + 1, closed; (b) again half a
     * treatment later (times 1.5, 2.5, 8.5, as from another clock) keeps it open. */
    {
        double ta[30], tb[30];
        int ea[30], eb[30];
        for (int i = 0; i < 30; i++) {
            ta[i] = i < 28 ? 1 : 5;
            ea[i] = i >= 28;
            tb[i] = i < 3 ? 1 : i < 23 ? 2 : 8;
            eb[i] = i < 3;
        }
        CHECK(stats_km(ta, ea, 30, 0.95, &k) == 0);
        CHECK(k.q[1] == 5 && k.q_lo[1] == 2 && !k.q_lo_open[1] && k.q_lo_censor[1]);
        stats_km_free(&k);
        ea[0] = 1;
        CHECK(stats_km(ta, ea, 30, 0.95, &k) == 0);
        CHECK(k.q[1] == 5 && k.q_lo[1] == 2 && k.q_lo_censor[1]);
        stats_km_free(&k);
        CHECK(stats_km(tb, eb, 30, 0.95, &k) == 0);
        CHECK(k.n_steps == 1);
        if (k.n_steps == 1)
            CHECK_NEAR(k.step[0].lo, 0.72119290, 1e-8);
        CHECK(isnan(k.q[1]) && k.q_lo[1] == 3 && !k.q_lo_open[1] && isnan(k.q_hi[1]));
        /* q25 (S <= .75): the band reaches it at 1 (0.72119), R's rule, closed */
        CHECK(k.q_lo[0] == 1 && !k.q_lo_open[0] && !k.q_lo_censor[0]);
        stats_km_free(&k);
        /* Whole numbers, and past the censoring the next time is a response time: 450 of
         * 1000 respond at 1, 450 are censored at 2, 1 responds at 3, 99 are censored at 10.
         * Past 2 is 3, whose own band holds there (lo 0.5115 > .5: the median is above 3),
         * not the widened one; and past 10 nobody is followed: at least 11. */
        {
            enum { NB = 1000 };
            double *tt = malloc(NB * sizeof *tt);
            int *ee = malloc(NB * sizeof *ee);
            for (int i = 0; i < NB; i++) {
                tt[i] = i < 450 ? 1 : i < 900 ? 2 : i == 900 ? 3 : 10;
                ee[i] = i < 450 || i == 900;
            }
            CHECK(stats_km(tt, ee, NB, 0.95, &k) == 0);
            CHECK(k.n_steps == 2);
            if (k.n_steps == 2)
                CHECK(k.step[1].lo > 0.5 && k.step[1].lo < 0.52);
            CHECK(isnan(k.q[1]) && k.q_lo[1] == 11 && !k.q_lo_open[1] && k.q_lo_censor[1]);
            stats_km_free(&k);
            free(tt);
            free(ee);
        }
        double tb2[30];
        for (int i = 0; i < 30; i++)
            tb2[i] = tb[i] + 0.5;
        CHECK(stats_km(tb2, eb, 30, 0.95, &k) == 0);
        CHECK(isnan(k.q[1]) && k.q_lo[1] == 2.5 && k.q_lo_open[1] && k.q_lo_censor[1]);
        stats_km_free(&k);
        for (int i = 3; i < 23; i++)
            tb[i] = 8;
        CHECK(stats_km(tb, eb, 30, 0.95, &k) == 0);
        CHECK(isnan(k.q[1]) && k.q_lo[1] == 9 && !k.q_lo_open[1] && k.q_lo_censor[1]);
        stats_km_free(&k);
    }
    /* 1, 2+, 3: S(1) = 2/3, then the one left at 3 responds. Someone was censored before 3,
     * so S(3) <= S(1) <= hi(1) and S(3) <= S(3 | 3-) <= 1 - (.)^(1/1), the smaller at
     * alpha/4 each: G = 1/(3*2), theta = 2.241403 sqrt(1/6) / |ln 2/3| = 2.256788, hi(1) at
     * alpha/4 = (2/3)^exp(-theta) = 0.958442; 1 - 0.0125 = 0.9875; so 0.958442. (At 95%,
     * theta = z sqrt(1/6) / |ln 2/3| = 1.97340 and hi(1) = (2/3)^exp(-theta) =
     * 0.9452063873.) */
    {
        const double t3[] = {1, 2, 3};
        const int e3[] = {1, 0, 1};
        CHECK(stats_km(t3, e3, 3, 0.95, &k) == 0);
        CHECK(k.n_steps == 2);
        if (k.n_steps == 2) {
            CHECK(k.step[1].surv == 0 && k.step[1].lo == 0);
            CHECK_NEAR(k.step[1].hi, 0.958442, 1e-6);
            CHECK_NEAR(k.step[0].hi, 0.9452063873, 1e-9);
        }
        CHECK(stats_km_all_events(&k) == 0);   /* S = 0, but 2+ was censored before */
        stats_km_free(&k);
    }
    const int none[] = {0, 0, 0, 0};
    CHECK(stats_km(t4, none, 4, 0.95, &k) == 0);
    CHECK(k.n_steps == 0 && k.n_events == 0);
    CHECK(isnan(k.q[0]) && isnan(k.q[1]) && isnan(k.q_hi[1]));
    /* no band at all: 4 followed past 0 bound S by 0.025^(1/4) = 0.3976 <= .5: above 0, in
     * whole numbers 1 */
    CHECK(k.q_lo[1] == 1 && !k.q_lo_open[1] && k.q_lo_censor[1]);
    /* Nobody was followed to 10: no bound. Followed to 2 or longer: 3 of the 4 (times 2, 3,
     * 4), none with the event, so the exact limit 0.025^(1/3) = exp(-3.688879/3) = 0.292402,
     * i.e. 1 - S <= 0.707598, the Clopper-Pearson upper limit for 0/3 (R: binom.test(0, 3)
     * gives 0.7075982). At 4 (a tie with a time counts: followed to it) 0/1: 0.025. */
    stats_km_at(&k, 10, &s, &lo, &hi);
    CHECK(s == 1 && hi == 1 && isnan(lo));
    CHECK(stats_km_followed(&k, 10) == 0 && stats_km_followed(&k, 2) == 3);
    CHECK(stats_km_followed(&k, 0) == 4 && stats_km_followed(&k, NAN) == -1);
    stats_km_at(&k, 2, &s, &lo, &hi);
    CHECK(s == 1 && hi == 1);
    CHECK_NEAR(1 - lo, 0.7075982, 1e-7);
    stats_km_at(&k, 1.5, &s, &lo, &hi);
    CHECK_NEAR(1 - lo, 0.7075982, 1e-7);
    stats_km_at(&k, 4, &s, &lo, &hi);
    CHECK_NEAR(lo, 0.025, 1e-15);
    stats_km_free(&k);
    CHECK(k.followed == NULL && k.n_followed == 0);
    /* 0 of 100 at the 90% level: 0.05^(1/100); R binom.test(0, 100, conf.level = 0.9)
     * gives 0.02951305. Times with ties: 50 at 3, 50 at 7. */
    double t100[100];
    int e100[100];
    for (int i = 0; i < 100; i++) {
        t100[i] = i < 50 ? 3 : 7;
        e100[i] = 0;
    }
    CHECK(stats_km(t100, e100, 100, 0.90, &k) == 0);
    CHECK(k.n_followed == 2);
    stats_km_at(&k, 3, &s, &lo, &hi);
    CHECK_NEAR(1 - lo, 0.02951305, 1e-8);
    stats_km_at(&k, 5, &s, &lo, &hi);   /* the 50 followed to 7 */
    CHECK_NEAR(lo, pow(0.05, 1.0 / 50), 1e-15);
    /* With events there is no such table: the carried band rules (above) apply. */
    CHECK(stats_km_followed(&k, 3) == 100);
    stats_km_free(&k);
    CHECK(stats_km(t4, all1, 4, 0.95, &k) == 0 && k.followed == NULL);
    CHECK(stats_km_followed(&k, 1) == -1);
    stats_km_free(&k);
    /* 2 2 2 2 with events 1 1 0 0: one step, n_risk 4, d 2, S = .5, G = 2/(4*2) = .25;
     * the curve sits at .5 to the end, so the median is (2 + 2)/2 = 2. */
    const double tt[] = {2, 2, 2, 2};
    const int et[] = {0, 1, 0, 1};
    CHECK(stats_km(tt, et, 4, 0.95, &k) == 0);
    CHECK(k.n_steps == 1 && k.step[0].n_risk == 4 && k.step[0].n_event == 2);
    CHECK(k.step[0].n_censor == 2);
    CHECK_NEAR(k.step[0].se, 0.5 * 0.5, 1e-15);
    CHECK_NEAR(k.q[1], 2, 0);
    stats_km_free(&k);
    const double neg[] = {-1, 2};
    const int ev2[] = {1, 1}, bad[] = {2, 1};
    CHECK(stats_km(neg, ev2, 2, 0.95, &k) == -1);
    CHECK(stats_km(t4, bad, 2, 0.95, &k) == -1);
    CHECK(k.step == NULL);
}

/* ------------------------------------------------------------------ ANCOVA */

static void test_ancova(void)
{
    double b, lo, hi, p;
    /* Hand-solvable: final = 1 + 0.5 baseline + 2 group + e with baselines 1 2 3 in each
     * group and e = (1 -2 1 | -1 2 -1). e sums to 0 within each group and
     * sum(baseline*e) = 1-4+3 = 0 and -1+4-3 = 0, so e is orthogonal to the design
     * columns: OLS returns exactly b = (1, .5, 2) with residuals e.
     * s^2 = sum e^2 / (n - 3) = 12/3 = 4. Baseline has the same mean in both groups, so
     * var(b2) = s^2 (1/3 + 1/3) = 8/3, se = 1.6329932.
     * t = 2/1.6329932 = 1.2247449 (= sqrt 1.5), df 3; t(.975, 3) = 3.1824463 (tables):
     * CI = 2 -+ 3.1824463*1.6329932 = 2 -+ 5.1969063.
     * p: the t(3) CDF is 1/2 + (1/pi)[u/(1+u^2) + atan u], u = t/sqrt 3 = 1/sqrt 2:
     * u/(1+u^2) = .70710678/1.5 = .47140452, atan u = .61547971, sum 1.08688423,
     * /pi = .34596600, so P(|T| > t) = 2 (1/2 - .34596600) = .30806801. */
    const double base[] = {1, 2, 3, 1, 2, 3};
    const int grp[] = {0, 0, 0, 1, 1, 1};
    const double e[] = {1, -2, 1, -1, 2, -1};
    double fin[6];
    for (int i = 0; i < 6; i++)
        fin[i] = 1 + 0.5 * base[i] + 2 * grp[i] + e[i];
    CHECK(stats_ancova_group(base, fin, grp, 6, 0.95, &b, &lo, &hi, &p) == 0);
    CHECK_NEAR(b, 2.0, 1e-12);
    CHECK_NEAR(lo, 2.0 - 3.1824463 * sqrt(8.0 / 3), 1e-6);
    CHECK_NEAR(hi, 2.0 + 3.1824463 * sqrt(8.0 / 3), 1e-6);
    double u = 1 / sqrt(2.0);
    CHECK_NEAR(p, 2 * (0.5 - (u / (1 + u * u) + atan(u)) / M_PI), 1e-10);
    CHECK_NEAR(p, 0.30806801, 1e-7);

    /* Unbalanced baselines: group 1 baselines 2 3 4 (mean 3 vs 2). The same construction
     * needs e orthogonal again: (1 -2 1 | -1 2 -1) still works (each group's e sums to 0
     * and 2*-1 + 3*2 + 4*-1 = 0). Now var(b2) = s^2 (1/3 + 1/3 + (3-2)^2 / Sxx_within),
     * Sxx_within = 2 + 2 = 4 -> 4 * (2/3 + 1/4) = 11/3. b stays exactly 2. */
    const double base2[] = {1, 2, 3, 2, 3, 4};
    for (int i = 0; i < 6; i++)
        fin[i] = 1 + 0.5 * base2[i] + 2 * grp[i] + e[i];
    CHECK(stats_ancova_group(base2, fin, grp, 6, 0.95, &b, &lo, &hi, &p) == 0);
    CHECK_NEAR(b, 2.0, 1e-12);
    CHECK_NEAR(hi - b, 3.1824463 * sqrt(11.0 / 3), 1e-6);

    /* edges: n < 4, one group only, group not 0/1, baseline = group (rank 2), exact fit */
    CHECK(stats_ancova_group(base, fin, grp, 3, 0.95, &b, &lo, &hi, &p) == -1);
    CHECK(isnan(b) && isnan(lo) && isnan(hi) && isnan(p));
    const int g0[] = {0, 0, 0, 0, 0, 0};
    CHECK(stats_ancova_group(base, fin, g0, 6, 0.95, &b, &lo, &hi, &p) == -1);
    const int g2[] = {0, 0, 0, 2, 2, 2};
    CHECK(stats_ancova_group(base, fin, g2, 6, 0.95, &b, &lo, &hi, &p) == -1);
    const double bg[] = {0, 0, 0, 1, 1, 1};
    CHECK(stats_ancova_group(bg, fin, grp, 6, 0.95, &b, &lo, &hi, &p) == -1);
    const double same[] = {5, 5, 5, 5, 5, 5};
    CHECK(stats_ancova_group(same, fin, grp, 6, 0.95, &b, &lo, &hi, &p) == -1);
    /* Every final score the same (3): an exact fit, though rounding leaves residuals of
     * about 1e-30 that once passed as error variance and gave an estimate and p. */
    {
        const double b12[] = {4, 9, 5, 8, 6, 7, 4.5, 8.5, 5.5, 7.5, 6.5, 9};
        const double f12[] = {3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3};
        const int g12[] = {0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1};
        CHECK(stats_ancova_group(b12, f12, g12, 12, 0.95, &b, &lo, &hi, &p) == -1);
    }
    for (int i = 0; i < 6; i++)
        fin[i] = 1 + 0.5 * base[i] + 2 * grp[i];
    CHECK(stats_ancova_group(base, fin, grp, 6, 0.95, &b, &lo, &hi, &p) == -1);
    CHECK(isnan(b));
}

/* ------------------------------------------------------------------ performance paths
 * Each faster routine against a plain reference of what it replaces: stats_sort against a
 * stable comparison sort, stats_mt against GSL's mt19937, the counted bootstrap median
 * against sorting every resample, the merged KM walk against one sort by (time, event
 * first), effect sizes from summaries against the passes over the data. Every comparison
 * is bit for bit: the outputs of the pipeline must not move. */

static uint64_t prng = 0x243F6A8885A308D3u;

static uint64_t next_u64(void)
{
    prng ^= prng << 13;
    prng ^= prng >> 7;
    prng ^= prng << 17;
    return prng;
}

static double next_unif(void)
{
    return (double)(next_u64() >> 11) / 9007199254740992.0;
}

static int same_bits(const double *a, const double *b, size_t n)
{
    return n == 0 || memcmp(a, b, n * sizeof *a) == 0;
}

/* a == b, NAN equal to NAN, -0 apart from +0 */
static int same_num(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0 || (isnan(a) && isnan(b));
}

struct vi {
    double v;
    size_t i;
};

/* by value, then by input position: a stable sort on (x > y) - (x < y) */
static int vi_cmp(const void *pa, const void *pb)
{
    const struct vi *a = pa, *b = pb;
    if (a->v < b->v)
        return -1;
    if (a->v > b->v)
        return 1;
    return (a->i > b->i) - (a->i < b->i);
}

static void ref_sort(const double *x, size_t n, double *out)
{
    struct vi *t = malloc((n ? n : 1) * sizeof *t);
    for (size_t i = 0; i < n; i++)
        t[i] = (struct vi){x[i], i};
    qsort(t, n, sizeof *t, vi_cmp);
    for (size_t i = 0; i < n; i++)
        out[i] = t[i].v;
    free(t);
}

/* kinds of data: 0 scores with ties, 1 continuous, 2 scores with -0 and +0, 3 subnormals
 * and zeros of both signs, 4 huge and tiny magnitudes and infinities, 5 1500 distinct values
 * repeated (too many for the counting path), 6 all equal, 7 percentages of scores */
static double gen_value(int kind)
{
    switch (kind) {
    case 0: return (double)(next_u64() % 21) - 10;
    case 1: return next_unif() * 20 - 7;
    case 2: { double v = (double)(next_u64() % 5) - 2; return v == 0 && next_u64() % 2 ? -0.0 : v; }
    case 3: { long k = (long)(next_u64() % 9) - 4; double v = (double)k * 4.9406564584124654e-324 * (double)(1 + next_u64() % 1000); return k == 0 && next_u64() % 2 ? -0.0 : v; }
    case 4: { static const double big[] = {1e300, -1e300, 1e-300, -1e-300, INFINITY, -INFINITY, 0, 1.5}; return big[next_u64() % 8] * (double)(1 + next_u64() % 3); }
    case 5: return (double)(next_u64() % 1500) / 7;
    case 6: return 3.25;
    default: { double b = (double)(1 + next_u64() % 10), f = (double)(next_u64() % 11); return 100.0 * (b - f) / b; }
    }
}

static void test_sort(void)
{
    static const size_t sizes[] = {0, 1, 2, 5, 31, 32, 33, 64, 257, 1000, 1025, 5000, 40000};
    for (int kind = 0; kind < 8; kind++)
        for (size_t si = 0; si < NELEM(sizes); si++) {
            size_t n = sizes[si];
            double *x = malloc((n ? n : 1) * sizeof *x), *want = malloc((n ? n : 1) * sizeof *want);
            double *got = malloc((n ? n : 1) * sizeof *got), *tmp = malloc((n ? n : 1) * sizeof *tmp);
            for (size_t i = 0; i < n; i++)
                x[i] = gen_value(kind);
            ref_sort(x, n, want);
            memcpy(got, x, n * sizeof *x);
            int ok = stats_sort(got, n, NULL) == 0 && same_bits(got, want, n);
            memcpy(got, x, n * sizeof *x);
            ok = ok && stats_sort(got, n, tmp) == 0 && same_bits(got, want, n);
            if (!ok)
                fprintf(stderr, "stats_sort: kind %d n %zu differs from a stable sort\n", kind, n);
            CHECK(ok);
            free(x);
            free(want);
            free(got);
            free(tmp);
        }
    /* -0 before +0 and +0 before -0 both stay as given (stable), through every path */
    for (size_t n = 4; n <= 4000; n *= 10) {
        double *x = malloc(n * sizeof *x), *want = malloc(n * sizeof *want);
        for (size_t i = 0; i < n; i++)
            x[i] = i % 3 == 0 ? -0.0 : i % 3 == 1 ? 0.0 : (double)(n - i);
        ref_sort(x, n, want);
        CHECK(stats_sort(x, n, NULL) == 0 && same_bits(x, want, n));
        CHECK(signbit(x[0]) && !signbit(x[1]));
        free(x);
        free(want);
    }
}

static void test_mt(void)
{
    static const unsigned long seeds[] = {0, 1, 4357, 20261123, 20260101, 0xffffffffUL,
                                          0x100000000UL, 0x100000005UL, 0xdeadbeefcafeUL};
    static const unsigned long ns[] = {0, 1, 2, 3, 7, 1000, 5000, 20000, 0x80000001UL,
                                       0xfffffffeUL, 0xffffffffUL, 0x100000000UL};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    struct stats_mt m;
    for (size_t si = 0; si < NELEM(seeds); si++) {
        gsl_rng_set(r, seeds[si]);
        stats_mt_seed(&m, seeds[si]);
        long bad = 0;
        for (int i = 0; i < 200000; i++)   /* several refills of the 624-word state */
            bad += gsl_rng_get(r) != stats_mt_get(&m);
        for (size_t ni = 0; ni < NELEM(ns); ni++)
            for (int i = 0; i < 2000; i++)
                bad += gsl_rng_uniform_int(r, ns[ni]) != stats_mt_uniform_int(&m, ns[ni]);
        bad += gsl_rng_get(r) != stats_mt_get(&m);   /* still in step */
        if (bad)
            fprintf(stderr, "stats_mt: seed %lu: %ld draws differ from GSL's\n", seeds[si], bad);
        CHECK(bad == 0);
    }
    gsl_rng_free(r);
}

/* The bootstrap as it was written first: GSL's generator through gsl_rng, every resample
 * copied and sorted for its median, the compensated two-pass mean over it. */
static double ref_mean(const double *x, size_t n)
{
    double s = 0, c = 0;
    for (size_t i = 0; i < n; i++) {
        double t = s + x[i];
        c += fabs(s) >= fabs(x[i]) ? (s - t) + x[i] : (x[i] - t) + s;
        s = t;
    }
    double m = (s + c) / (double)n, ds = 0, dc = 0;
    for (size_t i = 0; i < n; i++) {
        double v = x[i] - m, t = ds + v;
        dc += fabs(ds) >= fabs(v) ? (ds - t) + v : (v - t) + ds;
        ds = t;
    }
    return m + (ds + dc) / (double)n;
}

static double ref_stat(double *buf, size_t n, enum boot_stat stat)
{
    if (stat == BOOT_MEAN)
        return ref_mean(buf, n);
    gsl_sort(buf, 1, n);
    return gsl_stats_median_from_sorted_data(buf, 1, n);
}

static int ref_bootstrap(const double *x, size_t n, enum boot_stat stat, size_t reps,
                         uint64_t seed, double level, struct bca *out)
{
    out->est = out->lo = out->hi = out->z0 = out->a = NAN;
    if (n < 2 || reps < 2)
        return -1;
    double *buf = malloc(n * sizeof *buf), *th = malloc(reps * sizeof *th);
    double *jk = malloc(n * sizeof *jk), *sorted = malloc(n * sizeof *sorted);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    int rc = -1;
    memcpy(sorted, x, n * sizeof *x);
    gsl_sort(sorted, 1, n);
    memcpy(buf, x, n * sizeof *x);
    double est = ref_stat(buf, n, stat);
    gsl_rng_set(r, (unsigned long)seed);
    for (size_t b = 0; b < reps; b++) {
        for (size_t i = 0; i < n; i++)
            buf[i] = sorted[gsl_rng_uniform_int(r, n)];
        th[b] = ref_stat(buf, n, stat);
    }
    gsl_sort(th, 1, reps);
    double less = 0, equal = 0;
    for (size_t b = 0; b < reps; b++) {
        if (th[b] < est)
            less++;
        else if (th[b] == est)
            equal++;
    }
    double prop = (less + equal / 2.0) / (double)reps;
    if (prop > 0.0 && prop < 1.0) {
        double z0 = gsl_cdf_ugaussian_Pinv(prop), total = 0;
        for (size_t i = 0; i < n; i++)
            total += sorted[i];
        for (size_t i = 0; i < n; i++) {
            size_t m = n - 1, a = (m - 1) / 2, c = m / 2;
            jk[i] = stat == BOOT_MEAN ? (total - sorted[i]) / (double)(n - 1)
                                      : (sorted[a < i ? a : a + 1] + sorted[c < i ? c : c + 1]) / 2.0;
        }
        double jm = ref_mean(jk, n), s2 = 0, s3 = 0;
        for (size_t i = 0; i < n; i++) {
            double d = jm - jk[i];
            s2 += d * d;
            s3 += d * d * d;
        }
        double a = s2 > 0 ? s3 / (6.0 * pow(s2, 1.5)) : 0.0;
        double zl = gsl_cdf_ugaussian_Pinv((1.0 - level) / 2.0), zh = -zl;
        double al = gsl_cdf_ugaussian_P(z0 + (z0 + zl) / (1.0 - a * (z0 + zl)));
        double ah = gsl_cdf_ugaussian_P(z0 + (z0 + zh) / (1.0 - a * (z0 + zh)));
        if (isfinite(al) && isfinite(ah)) {
            out->est = est;
            out->lo = gsl_stats_quantile_from_sorted_data(th, 1, reps, al);
            out->hi = gsl_stats_quantile_from_sorted_data(th, 1, reps, ah);
            out->z0 = z0;
            out->a = a;
            rc = 0;
        }
    }
    free(buf);
    free(th);
    free(jk);
    free(sorted);
    gsl_rng_free(r);
    return rc;
}

static int same_bca(const struct bca *a, const struct bca *b)
{
    return same_num(a->est, b->est) && same_num(a->lo, b->lo) && same_num(a->hi, b->hi) &&
           same_num(a->z0, b->z0) && same_num(a->a, b->a);
}

static void test_bootstrap_paths(void)
{
    static const size_t ns[] = {2, 3, 4, 7, 10, 33, 101, 400};
    int kinds[] = {0, 1, 7, 6, 3};
    for (size_t ki = 0; ki < NELEM(kinds); ki++)
        for (size_t ni = 0; ni < NELEM(ns); ni++) {
            size_t n = ns[ni], reps = 200 + (size_t)(next_u64() % 300);
            uint64_t seed = ni % 3 == 0 ? 0 : next_u64();
            double *x = malloc(n * sizeof *x);
            for (size_t i = 0; i < n; i++)
                x[i] = gen_value(kinds[ki]);
            struct bca want[2], got[2], both[2];
            int rw[2], rg[2], rb[2];
            for (int st = 0; st < 2; st++) {
                enum boot_stat s = st ? BOOT_MEDIAN : BOOT_MEAN;
                rw[st] = ref_bootstrap(x, n, s, reps, seed, 0.95, &want[st]);
                rg[st] = stats_bootstrap_bca_detail(x, n, s, reps, seed, 0.95, &got[st]);
            }
            int rboth = stats_bootstrap_bca_both(x, n, reps, seed, 0.95, &both[0], &both[1], rb);
            int ok = 1;
            for (int st = 0; st < 2; st++)
                ok = ok && rw[st] == rg[st] && rg[st] == rb[st] && same_bca(&want[st], &got[st]) &&
                     same_bca(&got[st], &both[st]);
            ok = ok && rboth == (rb[0] || rb[1] ? -1 : 0);
            if (!ok)
                fprintf(stderr, "bootstrap: kind %d n %zu reps %zu differs from the reference\n",
                        kinds[ki], n, reps);
            CHECK(ok);
            free(x);
        }
}

struct tev_ref {
    double t;
    int ev;
};

static int tev_ref_cmp(const void *pa, const void *pb)
{
    const struct tev_ref *a = pa, *b = pb;
    if (a->t != b->t)
        return a->t < b->t ? -1 : 1;
    return (b->ev > a->ev) - (b->ev < a->ev);
}

/* KM steps as one sort by (time, events first) and a walk over it give them. */
static int km_steps_match(const double *time, const int *event, size_t n, const struct km *k)
{
    struct tev_ref *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = (struct tev_ref){time[i], event[i]};
    /* stable: merge by insertion, ties in input order as glibc's merge sort keeps them */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && tev_ref_cmp(&d[j - 1], &d[j]) > 0; j--) {
            struct tev_ref t = d[j];
            d[j] = d[j - 1];
            d[j - 1] = t;
        }
    double z = gsl_cdf_ugaussian_Pinv(0.975), s = 1.0, g = 0.0;
    size_t ns = 0;
    int ok = 1;
    long pending_censor = 0;
    for (size_t i = 0; i < n && ok;) {
        size_t j = i;
        long de = 0, dc = 0;
        while (j < n && d[j].t == d[i].t) {
            de += d[j].ev;
            dc += !d[j].ev;
            j++;
        }
        if (de == 0) {
            if (ns)
                pending_censor += dc;
            i = j;
            continue;
        }
        if (ns)
            ok = ok && k->step[ns - 1].n_censor == pending_censor;
        pending_censor = dc;
        long nr = (long)(n - i);
        const struct km_step *st = &k->step[ns++];
        double surv, lo, hi, se;
        s *= (double)(nr - de) / (double)nr;
        if (nr > de) {
            g += (double)de / ((double)nr * (double)(nr - de));
            surv = s;
            se = s * sqrt(g);
            double theta = z * sqrt(g) / fabs(log(s));
            lo = pow(s, exp(theta));
            hi = pow(s, exp(-theta));
        } else {
            /* S = 0: bounded by 0 and, with nobody censored before, the exact n-of-n limit;
             * else the previous step's upper limit */
            long cens_before = 0;
            for (size_t c = 0; c < i; c++)
                cens_before += !d[c].ev;
            surv = 0.0;
            se = NAN;
            lo = 0.0;
            double a2 = (1 - 0.95) / 2;
            if (cens_before == 0) {
                hi = 1.0 - pow(a2, 1.0 / (double)n);
            } else if (ns == 1) {
                hi = 1.0 - pow(a2, 1.0 / (double)nr);
            } else {
                /* Bonferroni: the previous step's band and nr of nr, at alpha/4 each */
                double sp = k->step[ns - 2].surv, z4 = gsl_cdf_ugaussian_Pinv(1 - a2 / 2);
                double hp = pow(sp, exp(-z4 * sqrt(g) / fabs(log(sp))));
                double hr = 1.0 - pow(a2 / 2, 1.0 / (double)nr);
                hi = hp < hr ? hp : hr;
            }
            g = INFINITY;
        }
        ok = ok && ns <= k->n_steps && same_num(st->t, d[i].t) && st->n_risk == nr &&
             st->n_event == de && same_num(st->surv, surv) && same_num(st->se, se) &&
             same_num(st->lo, lo) && same_num(st->hi, hi);
        i = j;
    }
    ok = ok && ns == k->n_steps && (ns == 0 || k->step[ns - 1].n_censor == pending_censor);
    free(d);
    return ok;
}

static void test_km_paths(void)
{
    for (int rep = 0; rep < 300; rep++) {
        size_t n = 1 + (size_t)(next_u64() % (rep < 150 ? 40 : 3000));
        double *t = malloc(n * sizeof *t);
        int *e = malloc(n * sizeof *e);
        unsigned tmax = 1 + (unsigned)(next_u64() % 25);
        double pe = rep % 10 == 0 ? 0 : rep % 10 == 1 ? 1 : next_unif();
        for (size_t i = 0; i < n; i++) {
            t[i] = rep % 3 == 2 ? next_unif() * tmax : (double)(next_u64() % tmax);
            if (t[i] == 0 && next_u64() % 2)
                t[i] = -0.0;   /* a zero time of either sign: the same time */
            e[i] = next_unif() < pe;
        }
        struct km k;
        int rc = stats_km(t, e, n, 0.95, &k);
        int ok = rc == 0 && km_steps_match(t, e, n, &k);
        if (!ok)
            fprintf(stderr, "km: rep %d n %zu: steps differ from one sort by time\n", rep, n);
        CHECK(ok);
        stats_km_free(&k);
        free(t);
        free(e);
    }
}

/* The last time, to which a flat ending exactly at 1 - q reaches, is the last in (time,
 * event first) order: a censoring at +0 after an event at -0. S(0) = 1/2 and the median is
 * the midpoint of the flat from -0 to that +0: +0, not -0. */
static void test_km_last_time(void)
{
    const double t[] = {-0.0, 0.0};
    const int e[] = {1, 0};
    struct km k;
    CHECK(stats_km(t, e, 2, 0.95, &k) == 0);
    CHECK(k.q[1] == 0 && !signbit(k.q[1]));
    stats_km_free(&k);
}

static double ref_sd(const double *x, size_t n, double m)
{
    if (n < 2)
        return NAN;
    double ss = 0, sc = 0, ds = 0, dc = 0;
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m, t = ds + d;
        dc += fabs(ds) >= fabs(d) ? (ds - t) + d : (d - t) + ds;
        ds = t;
        double q = d * d, u = ss + q;
        sc += fabs(ss) >= fabs(q) ? (ss - u) + q : (q - u) + ss;
        ss = u;
    }
    double s1 = ds + dc, v = ((ss + sc) - s1 * s1 / (double)n) / (double)(n - 1);
    return v > 0 ? sqrt(v) : 0.0;
}

/* The effect sizes written out from the data, as stats.h defines them. */
static int ref_effect(const double *pre, const double *post, size_t n, struct effect *out)
{
    out->d_z = out->d_av = out->g_av = NAN;
    if (n < 3)
        return -1;
    double *d = malloc(n * sizeof *d);
    for (size_t i = 0; i < n; i++)
        d[i] = post[i] - pre[i];
    double md = ref_mean(d, n), sdd = ref_sd(d, n, md);
    double sa = ref_sd(pre, n, ref_mean(pre, n)), sb = ref_sd(post, n, ref_mean(post, n));
    free(d);
    if (!(sdd > 0) || !(sa + sb > 0))
        return -1;
    double df = (double)(n - 1);
    double j = exp(gsl_sf_lngamma(df / 2.0) - gsl_sf_lngamma((df - 1.0) / 2.0)) / sqrt(df / 2.0);
    out->d_z = md / sdd;
    out->d_av = md / ((sa + sb) / 2.0);
    out->g_av = out->d_av * j;
    return 0;
}

/* The descriptives as first written: heapsort (gsl_sort) and GSL's quantiles. */
static void ref_describe(const double *x, size_t n, struct desc *o)
{
    double *s = malloc((n ? n : 1) * sizeof *s);
    memcpy(s, x, n * sizeof *s);
    gsl_sort(s, 1, n);
    o->n = n;
    o->mean = ref_mean(x, n);
    o->sd = ref_sd(x, n, o->mean);
    o->median = gsl_stats_median_from_sorted_data(s, 1, n);
    o->q1 = gsl_stats_quantile_from_sorted_data(s, 1, n, 0.25);
    o->q3 = gsl_stats_quantile_from_sorted_data(s, 1, n, 0.75);
    o->min = s[0];
    o->max = s[n - 1];
    free(s);
}

static void test_describe_paths(void)
{
    static const size_t ns[] = {1, 2, 3, 10, 33, 100, 1001, 5000};
    for (int kind = 0; kind < 8; kind++)
        for (size_t ni = 0; ni < NELEM(ns); ni++) {
            size_t n = ns[ni];
            double *x = malloc(n * sizeof *x);
            for (size_t i = 0; i < n; i++)
                x[i] = gen_value(kind);
            if (kind == 2 && n >= 2) {   /* a zero median from zeros of both signs */
                for (size_t i = 0; i < n; i++)
                    x[i] = i % 2 ? 0.0 : -0.0;
            }
            struct desc a, b;
            ref_describe(x, n, &a);
            CHECK(stats_describe(x, n, &b) == 0);
            int ok = a.n == b.n && same_num(a.mean, b.mean) && same_num(a.sd, b.sd) &&
                     same_num(a.median, b.median) && same_num(a.q1, b.q1) &&
                     same_num(a.q3, b.q3) && same_num(a.min, b.min) && same_num(a.max, b.max);
            if (!ok)
                fprintf(stderr, "describe: kind %d n %zu differs from the heapsort one\n", kind, n);
            CHECK(ok);
            free(x);
        }
}

static size_t walk_rank(size_t n, double level)
{
    double half = (1 - level) / 2;
    size_t j = 0;
    while (j + 1 <= n / 2 && gsl_cdf_binomial_P((unsigned)j, 0.5, (unsigned)n) <= half)
        j++;
    return j;
}

/* stats_median_rank against the walk it shortens: every n to 700, every 37th to 6000, some
 * large n, six levels. */
static void test_median_rank(void)
{
    static const double levels[] = {0.5, 0.8, 0.9, 0.95, 0.99, 0.999};
    long bad = 0;
    for (size_t li = 0; li < NELEM(levels); li++)
        for (size_t n = 0; n <= 6000; n += n < 700 ? 1 : 37)
            bad += stats_median_rank(n, levels[li]) != walk_rank(n, levels[li]);
    static const size_t big[] = {20001, 65536, 127000, 250001};
    for (size_t bi = 0; bi < NELEM(big); bi++)
        bad += stats_median_rank(big[bi], 0.95) != walk_rank(big[bi], 0.95);
    if (bad)
        fprintf(stderr, "stats_median_rank: %ld answers differ from the walk\n", bad);
    CHECK(bad == 0);
    /* n = 1: no interval; n = 9 at 95%: P(X <= 1) = 10/512 <= .025 < P(X <= 2) = 46/512 */
    CHECK(stats_median_rank(1, 0.95) == 0);
    CHECK(stats_median_rank(9, 0.95) == 2);
}

static void test_effect_from(void)
{
    for (int rep = 0; rep < 200; rep++) {
        size_t n = (size_t)(next_u64() % 300);
        double *pre = malloc((n ? n : 1) * sizeof *pre), *post = malloc((n ? n : 1) * sizeof *post);
        double *d = malloc((n ? n : 1) * sizeof *d);
        for (size_t i = 0; i < n; i++) {
            pre[i] = gen_value(rep % 2 ? 0 : 1);
            post[i] = rep % 7 == 0 ? pre[i] + 1 : gen_value(rep % 2 ? 0 : 1);
            d[i] = post[i] - pre[i];
        }
        struct effect want, got, direct;
        struct desc a, b, c;
        int rw = ref_effect(pre, post, n, &want);
        int rd = stats_effect_paired(pre, post, n, &direct);
        stats_describe(pre, n, &a);
        stats_describe(post, n, &b);
        stats_describe(d, n, &c);
        int rg = stats_effect_paired_from(n, c.mean, c.sd, a.sd, b.sd, &got);
        CHECK(rw == rg && same_num(want.d_z, got.d_z) && same_num(want.d_av, got.d_av) &&
              same_num(want.g_av, got.g_av));
        CHECK(rw == rd && same_num(want.d_z, direct.d_z) && same_num(want.d_av, direct.d_av) &&
              same_num(want.g_av, direct.g_av));
        free(pre);
        free(post);
        free(d);
    }
}

/* Walsh sums of heavily tied samples (the tabulated path) and of distinct ones (the
 * selection): estimate and both limits to the last bit against enumeration. */
static void test_wilcoxon_paths(void)
{
    for (int rep = 0; rep < 120; rep++) {
        size_t n = 2 + (size_t)(next_u64() % (rep % 2 ? 62 : 400));
        double *x = malloc(n * sizeof *x);
        for (size_t i = 0; i < n; i++)
            x[i] = rep % 4 == 0 ? next_unif() * 10 - 3 : rep % 4 == 1 ? (double)(next_u64() % 21) - 8
                 : rep % 4 == 2 ? ((double)(next_u64() % 9) - 3) / 2 : gen_value(7);
        struct wilcoxon w;
        if (stats_wilcoxon_signed_rank(x, n, 0.95, &w) != 0) {
            free(x);
            continue;
        }
        size_t c;
        double *all = all_walsh(x, n, &c);
        int ok = same_num(w.hl, brute_median(all, c)) && same_num(w.v, brute_v(x, n));
        /* (the brute-force CI scan evaluates W between averages; with percentages of
         * scores its midpoints round onto ties it should not see, so integer and half
         * data only) */
        if (!w.exact && !isnan(w.hl_lo) && n <= 64 && rep % 4 != 3) {
            double lo, hi, lev;
            brute_approx_ci(x, n, 0.95, &lo, &hi, &lev);
            ok = ok && same_num(w.hl_lo, lo) && same_num(w.hl_hi, hi);
        }
        if (!ok)
            fprintf(stderr, "wilcoxon: rep %d n %zu differs from enumeration\n", rep, n);
        CHECK(ok);
        free(all);
        free(x);
    }
}

int main(void)
{
    gsl_set_error_handler_off();
    test_nist();
    test_describe();
    test_t();
    test_props();
    test_wilcoxon();
    test_effect();
    test_bootstrap();
    test_km();
    test_ancova();
    test_sort();
    test_mt();
    test_bootstrap_paths();
    test_km_paths();
    test_km_last_time();
    test_describe_paths();
    test_median_rank();
    test_effect_from();
    test_wilcoxon_paths();
    return TEST_END("test_stats");
}
