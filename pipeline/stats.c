/* stats.c — the statistics library (see stats.h for every contract).
 *
 * Numbers are the product, so each routine follows a named reference method and says where
 * it departs from it: two-pass compensated descriptives (NIST StRD), R's wilcox.test for the
 * signed-rank test, R survival's quantile.survfit for Brookmeyer–Crowley limits.
 */
#include "stats.h"

#include <float.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_math.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_sf_gamma.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

static int level_ok(double level)
{
    return level > 0.0 && level < 1.0;
}

/* Two-sided critical value of the standard normal for `level`. */
static double z_crit(double level)
{
    return gsl_cdf_ugaussian_Pinv(0.5 + level / 2.0);
}

/* Neumaier-compensated sum: keeps the descriptives accurate on NumAcc-style data where
 * plain summation loses the low-order digits the SD depends on. */
struct ksum {
    double s, c;
};

static void ksum_add(struct ksum *k, double v)
{
    double t = k->s + v;
    if (fabs(k->s) >= fabs(v))
        k->c += (k->s - t) + v;
    else
        k->c += (v - t) + k->s;
    k->s = t;
}

static double ksum_get(const struct ksum *k)
{
    return k->s + k->c;
}

/* Mean refined by a second pass (the correction term absorbs the rounding of the first). */
/* The second pass, given the compensated sum s of x. */
static double accurate_mean_from(const double *x, size_t n, const struct ksum *s)
{
    double m = ksum_get(s) / (double)n;
    struct ksum d = {0, 0};
    for (size_t i = 0; i < n; i++)
        ksum_add(&d, x[i] - m);
    return m + ksum_get(&d) / (double)n;
}

static double accurate_mean(const double *x, size_t n)
{
    struct ksum s = {0, 0};
    for (size_t i = 0; i < n; i++)
        ksum_add(&s, x[i]);
    return accurate_mean_from(x, n, &s);
}

/* Sample SD (n-1) about m, with the corrected two-pass formula
 * (sum d^2 - (sum d)^2 / n), which cancels most of the error in m. */
static double accurate_sd(const double *x, size_t n, double m)
{
    if (n < 2)
        return NAN;
    struct ksum ss = {0, 0}, sd = {0, 0};
    for (size_t i = 0; i < n; i++) {
        double d = x[i] - m;
        ksum_add(&sd, d);
        ksum_add(&ss, d * d);
    }
    double s1 = ksum_get(&sd);
    double v = (ksum_get(&ss) - s1 * s1 / (double)n) / (double)(n - 1);
    return v > 0 ? sqrt(v) : 0.0;
}

static double *dup_array(const double *x, size_t n)
{
    double *c = malloc((n ? n : 1) * sizeof *c);
    if (c && n)
        memcpy(c, x, n * sizeof *c);
    return c;
}

/* ------------------------------------------------------------------ sorting */

/* Radix key: the IEEE bits mapped so that unsigned order is numeric order (negatives
 * flipped whole, positives get the sign bit set); -0 takes +0's key so the two stay equal,
 * as they are to `<`. */
static uint64_t sort_key(double v)
{
    uint64_t u;
    memcpy(&u, &v, sizeof u);
    if (u == UINT64_C(0x8000000000000000))
        u = 0;
    uint64_t flip = (u >> 63) ? ~UINT64_C(0) : UINT64_C(0x8000000000000000);
    return u ^ flip;
}

/* Stable insertion sort: cheaper than the radix passes for a handful of values. */
static void insertion_sort(double *x, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        double v = x[i];
        size_t j = i;
        while (j > 0 && x[j - 1] > v) {
            x[j] = x[j - 1];
            j--;
        }
        x[j] = v;
    }
}

enum { SORT_INSERTION_MAX = 32 };

/* LSD radix sort, one byte per pass. One pass counts all eight bytes; a byte that every
 * key shares (the low mantissa bytes of small integers, say) needs no pass at all. Each
 * pass is stable, so the whole sort is. */
static void radix_sort(double *x, size_t n, double *tmp)
{
    size_t (*cnt)[256] = calloc(8, sizeof *cnt);
    if (!cnt) {
        insertion_sort(x, n);   /* unreachable in practice: 16 KiB */
        return;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t k = sort_key(x[i]);
        for (int b = 0; b < 8; b++)
            cnt[b][(k >> (8 * b)) & 0xff]++;
    }
    uint64_t k0 = sort_key(x[0]);
    double *src = x, *dst = tmp;
    for (int b = 0; b < 8; b++) {
        if (cnt[b][(k0 >> (8 * b)) & 0xff] == n)
            continue;
        size_t pos[256], sum = 0;
        for (int d = 0; d < 256; d++) {
            pos[d] = sum;
            sum += cnt[b][d];
        }
        for (size_t i = 0; i < n; i++)
            dst[pos[(sort_key(src[i]) >> (8 * b)) & 0xff]++] = src[i];
        double *t = src;
        src = dst;
        dst = t;
    }
    if (src != x)
        memcpy(x, src, n * sizeof *x);
    free(cnt);
}

/* Few distinct values (scores, and percentages of them, take a few hundred at most): count
 * each distinct bit pattern in a small hash table, sort the distinct values, write each out
 * as often as it occurred. Equal doubles have equal bits, -0 and +0 apart, so this is the
 * stable sort's array unless both zeros occur: then it gives up, as it does past
 * FEW_MAX distinct values. Returns 1 when x is sorted, 0 when it gave up (x unchanged) or
 * ran out of memory. */
enum { FEW_MAX = 1024 };

struct few_slot {
    uint64_t bits;
    size_t count;              /* 0 = empty */
};

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

static int few_distinct_sort(double *x, size_t n)
{
    size_t want = n < FEW_MAX ? n : FEW_MAX, slots = 64;
    int shift = 64 - 6;
    while (slots < 4 * want) {   /* load factor at most 1/4 */
        slots *= 2;
        shift--;
    }
    struct few_slot *tab = calloc(slots, sizeof *tab);
    double *val = malloc(want * sizeof *val);
    int rc = 0;
    if (!tab || !val)
        goto out;
    size_t nd = 0;
    int zero_signs = 0;        /* bit 1: +0 seen, bit 2: -0 seen */
    uint64_t prev = 0;
    size_t prev_slot = slots;
    for (size_t i = 0; i < n; i++) {
        uint64_t u;
        memcpy(&u, &x[i], sizeof u);
        if (prev_slot < slots && u == prev) {   /* runs are common: skip the hash */
            tab[prev_slot].count++;
            continue;
        }
        size_t h = (size_t)((u * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
        while (tab[h].count && tab[h].bits != u)
            h = (h + 1) & (slots - 1);
        if (!tab[h].count) {
            if (++nd > want)
                goto out;
            if ((u << 1) == 0) {
                zero_signs |= u ? 2 : 1;
                if (zero_signs == 3)
                    goto out;
            }
            tab[h].bits = u;
        }
        tab[h].count++;
        prev = u;
        prev_slot = h;
    }
    size_t m = 0;
    for (size_t h = 0; h < slots; h++)
        if (tab[h].count)
            memcpy(&val[m++], &tab[h].bits, sizeof *val);
    qsort(val, m, sizeof *val, cmp_double);   /* distinct: any sort gives this order */
    size_t o = 0;
    for (size_t i = 0; i < m; i++) {
        uint64_t u;
        memcpy(&u, &val[i], sizeof u);
        size_t h = (size_t)((u * UINT64_C(0x9E3779B97F4A7C15)) >> shift);
        while (tab[h].bits != u || !tab[h].count)
            h = (h + 1) & (slots - 1);
        for (size_t c = 0; c < tab[h].count; c++)
            x[o++] = val[i];
    }
    rc = 1;
out:
    free(tab);
    free(val);
    return rc;
}

int stats_sort(double *x, size_t n, double *tmp)
{
    if (n <= SORT_INSERTION_MAX) {
        insertion_sort(x, n);
        return 0;
    }
    if (few_distinct_sort(x, n))
        return 0;
    double *own = NULL;
    if (!tmp) {
        own = tmp = malloc(n * sizeof *tmp);
        if (!own)
            return -1;
    }
    radix_sort(x, n, tmp);
    free(own);
    return 0;
}

/* 1 when x holds both -0 and +0. Where they meet, which zero a sort puts first depends on
 * the algorithm; for such input the descriptives and the bootstrap keep the heapsort
 * (gsl_sort) they always used, so even the sign of a zero result stays put. */
static int mixed_zeros(const double *x, size_t n)
{
    int seen = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] == 0)
            seen |= signbit(x[i]) ? 2 : 1;
    return seen == 3;
}

/* ------------------------------------------------------------------ descriptives */

int stats_describe(const double *x, size_t n, struct desc *out)
{
    out->n = n;
    out->mean = out->sd = out->median = out->q1 = out->q3 = out->min = out->max = NAN;
    if (n == 0 || !x)
        return -1;
    double *s = dup_array(x, n);
    if (!s)
        return -1;
    if (mixed_zeros(x, n)) {
        gsl_sort(s, 1, n);
    } else if (stats_sort(s, n, NULL)) {
        free(s);
        return -1;
    }
    out->mean = accurate_mean(x, n);
    out->sd = accurate_sd(x, n, out->mean);
    out->median = gsl_stats_median_from_sorted_data(s, 1, n);
    out->q1 = gsl_stats_quantile_from_sorted_data(s, 1, n, 0.25);
    out->q3 = gsl_stats_quantile_from_sorted_data(s, 1, n, 0.75);
    out->min = s[0];
    out->max = s[n - 1];
    free(s);
    return 0;
}

/* ------------------------------------------------------------------ t tests */

static void tres_nan(struct tres *o, size_t n)
{
    o->n = n;
    o->mean = o->sd = o->se = o->lo = o->hi = o->t = o->df = o->p = NAN;
}

int stats_t_one_sample(const double *x, size_t n, double mu0, double level, struct tres *out)
{
    tres_nan(out, n);
    if (n < 2 || !x || !level_ok(level) || !isfinite(mu0))
        return -1;
    double m = accurate_mean(x, n);
    double sd = accurate_sd(x, n, m);
    if (!(sd > 0))
        return -1;
    double df = (double)(n - 1);
    double se = sd / sqrt((double)n);
    double tq = gsl_cdf_tdist_Pinv(0.5 + level / 2.0, df);
    double t = (m - mu0) / se;
    out->mean = m;
    out->sd = sd;
    out->se = se;
    out->lo = m - tq * se;
    out->hi = m + tq * se;
    out->t = t;
    out->df = df;
    out->p = fmin(1.0, 2.0 * gsl_cdf_tdist_Q(fabs(t), df));
    return 0;
}

int stats_t_welch(const double *x, size_t nx, const double *y, size_t ny, double level,
                  struct tres *out)
{
    tres_nan(out, nx + ny);
    if (nx < 2 || ny < 2 || !x || !y || !level_ok(level))
        return -1;
    double mx = accurate_mean(x, nx), my = accurate_mean(y, ny);
    double sx = accurate_sd(x, nx, mx), sy = accurate_sd(y, ny, my);
    double vx = sx * sx / (double)nx, vy = sy * sy / (double)ny;
    double se = sqrt(vx + vy);
    if (!(se > 0))
        return -1;
    double df = (vx + vy) * (vx + vy) /
                (vx * vx / (double)(nx - 1) + vy * vy / (double)(ny - 1));
    double tq = gsl_cdf_tdist_Pinv(0.5 + level / 2.0, df);
    double d = mx - my;
    out->mean = d;
    out->se = se;
    out->lo = d - tq * se;
    out->hi = d + tq * se;
    out->t = d / se;
    out->df = df;
    out->p = fmin(1.0, 2.0 * gsl_cdf_tdist_Q(fabs(out->t), df));
    return 0;
}

/* ------------------------------------------------------------------ proportions */

static int prop_args_ok(long k, long n, double level)
{
    return n > 0 && k >= 0 && k <= n && level_ok(level);
}

int stats_prop_wilson(long k, long n, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!prop_args_ok(k, n, level))
        return -1;
    double z = z_crit(level), z2 = z * z, nn = (double)n, p = (double)k / nn;
    double den = 1.0 + z2 / nn;
    double centre = (p + z2 / (2.0 * nn)) / den;
    double half = z * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn)) / den;
    /* The formula gives 0 and 1 at the edges only up to rounding; make them exact. */
    *lo = k == 0 ? 0.0 : fmax(0.0, centre - half);
    *hi = k == n ? 1.0 : fmin(1.0, centre + half);
    return 0;
}

int stats_prop_clopper_pearson(long k, long n, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!prop_args_ok(k, n, level))
        return -1;
    double a2 = (1.0 - level) / 2.0, kk = (double)k, nn = (double)n;
    double l = k == 0 ? 0.0 : gsl_cdf_beta_Pinv(a2, kk, nn - kk + 1.0);
    double h = k == n ? 1.0 : gsl_cdf_beta_Pinv(1.0 - a2, kk + 1.0, nn - kk);
    if (!isfinite(l) || !isfinite(h))
        return -1;
    *lo = l;
    *hi = h;
    return 0;
}

int stats_prop_jeffreys(long k, long n, double level, double *lo, double *hi)
{
    *lo = *hi = NAN;
    if (!prop_args_ok(k, n, level))
        return -1;
    double a2 = (1.0 - level) / 2.0, kk = (double)k, nn = (double)n;
    /* Brown, Cai & DasGupta's boundary modification: the equal-tailed limit is pulled to
     * 0 (k = 0) or 1 (k = n), where the posterior tail cannot cover the truth. */
    double l = k == 0 ? 0.0 : gsl_cdf_beta_Pinv(a2, kk + 0.5, nn - kk + 0.5);
    double h = k == n ? 1.0 : gsl_cdf_beta_Pinv(1.0 - a2, kk + 0.5, nn - kk + 0.5);
    if (!isfinite(l) || !isfinite(h))
        return -1;
    *lo = l;
    *hi = h;
    return 0;
}

size_t stats_median_rank(size_t n, double level)
{
    double half = (1 - level) / 2;
    /* Where the walk may start: a rank whose CDF is at most half / 2, by bisection. The CDF
     * rises with j and GSL evaluates it to far better than a factor of two, so no rank
     * below that one has a CDF above half: the walk from 0 would pass them all. From there
     * it meets the crossing within about 0.14 sqrt(n) steps, where from 0 it took n/2
     * incomplete-beta evaluations (a second at n = 10^6). */
    size_t a = 0, b = n / 2;
    if (b > 0 && gsl_cdf_binomial_P(0, 0.5, (unsigned)n) <= half / 2)
        while (b - a > 1) {   /* CDF(a) <= half / 2, as evaluated */
            size_t mid = a + (b - a) / 2;
            if (gsl_cdf_binomial_P((unsigned)mid, 0.5, (unsigned)n) <= half / 2)
                a = mid;
            else
                b = mid;
        }
    size_t j = a;
    while (j + 1 <= n / 2 && gsl_cdf_binomial_P((unsigned)j, 0.5, (unsigned)n) <= half)
        j++;
    return j;
}

double stats_binom_p_one_sided(long k, long n, double p0, int upper)
{
    if (n < 0 || k < 0 || k > n || (unsigned long)n > UINT_MAX || !(p0 >= 0.0 && p0 <= 1.0))
        return NAN;
    unsigned nn = (unsigned)n, kk = (unsigned)k;
    if (upper)
        return kk == 0 ? 1.0 : gsl_cdf_binomial_Q(kk - 1, p0, nn);
    return gsl_cdf_binomial_P(kk, p0, nn);
}

int stats_prop_diff_newcombe(long k1, long n1, long k2, long n2, double level,
                             double *diff, double *lo, double *hi)
{
    *diff = *lo = *hi = NAN;
    double l1, u1, l2, u2;
    if (stats_prop_wilson(k1, n1, level, &l1, &u1) || stats_prop_wilson(k2, n2, level, &l2, &u2))
        return -1;
    double p1 = (double)k1 / (double)n1, p2 = (double)k2 / (double)n2, d = p1 - p2;
    double delta = sqrt((p1 - l1) * (p1 - l1) + (u2 - p2) * (u2 - p2));
    double eps = sqrt((u1 - p1) * (u1 - p1) + (p2 - l2) * (p2 - l2));
    *diff = d;
    *lo = d - delta;
    *hi = d + eps;
    return 0;
}

/* ------------------------------------------------------------------ Wilcoxon */

/* Sum of the ranks of |v| over positive v (average ranks for ties), and the tie term
 * sum(t^3 - t) over groups of equal |v|. v is sorted ascending and holds no zeros, so |v|
 * in ascending order is the negatives read backwards merged with the positives: no sort.
 * The sums are taken group by group in ascending |v|, one addition per positive value, as
 * a rank sort would take them. */
static void signed_rank(const double *v, size_t m, double *vstat, double *tie_term)
{
    *vstat = 0.0;
    *tie_term = 0.0;
    size_t neg = 0;
    while (neg < m && v[neg] < 0)
        neg++;
    size_t a = neg, b = neg, done = 0;   /* next negative is v[a - 1], next positive v[b] */
    while (done < m) {
        double cur = (a > 0 && (b == m || fabs(v[a - 1]) <= v[b])) ? fabs(v[a - 1]) : v[b];
        size_t tp = 0, t_all = 0;
        while (a > 0 && fabs(v[a - 1]) == cur) {
            a--;
            t_all++;
        }
        while (b < m && v[b] == cur) {
            b++;
            tp++;
        }
        t_all += tp;
        size_t i = done, j = done + t_all;
        double t = (double)(j - i);
        double avg = ((double)i + 1.0 + (double)j) / 2.0;   /* mean of ranks i+1..j */
        for (size_t r = 0; r < tp; r++)
            *vstat += avg;
        *tie_term += t * t * t - t;
        done = j;
    }
}

static double sgn(double v)
{
    return (v > 0) - (v < 0);
}

/* R's normal statistic for shift d, zeros dropped and ties re-counted at d (as R's W(d)).
 * x is sorted ascending, and so is x - d (rounding is monotone). Returns NAN when sigma is
 * 0 (every observation equals d). */
static int w_stat_at(const double *x, size_t n, double d, double *w)
{
    double *xd = malloc((n ? n : 1) * sizeof *xd);
    if (!xd)
        return -1;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (x[i] - d != 0)
            xd[m++] = x[i] - d;
    double v, ties;
    signed_rank(xd, m, &v, &ties);
    free(xd);
    double mm = (double)m;
    double zd = v - mm * (mm + 1) / 4.0;
    double sigma = sqrt(mm * (mm + 1) * (2 * mm + 1) / 24.0 - ties / 48.0);
    *w = sigma > 0 ? (zd - sgn(zd) * 0.5) / sigma : NAN;
    return 0;
}

/* k-th smallest (1-based) pairwise sum xs[i] + xs[j], i <= j, of sorted xs, without
 * enumerating the n(n+1)/2 sums: randomized selection over the implicitly sorted
 * triangle (Monahan 1984 style). Each round counts the sums below a random candidate
 * pivot in O(n) with two pointers; expected O(log n) rounds. */
static int walsh_kth(const double *xs, size_t n, uint64_t k, double *out)
{
    size_t *lo = malloc(n * sizeof *lo), *end = malloc(n * sizeof *end);
    size_t *blt = malloc(n * sizeof *blt), *ble = malloc(n * sizeof *ble);
    double *buf = NULL;
    int rc = -1;
    if (!lo || !end || !blt || !ble)
        goto out;
    for (size_t i = 0; i < n; i++) {
        lo[i] = i;
        end[i] = n;
    }
    uint64_t rng = 0x9E3779B97F4A7C15u;   /* fixed seed: results never depend on chance */
    size_t gather = n < 64 ? 64 : n;
    for (;;) {
        uint64_t cand = 0, below = 0;
        for (size_t i = 0; i < n; i++) {
            cand += end[i] - lo[i];
            below += lo[i] - i;
        }
        if (cand <= gather) {
            buf = malloc((cand ? cand : 1) * sizeof *buf);
            if (!buf)
                goto out;
            size_t c = 0;
            for (size_t i = 0; i < n; i++)
                for (size_t j = lo[i]; j < end[i]; j++)
                    buf[c++] = xs[i] + xs[j];
            if (k <= below || k - below > cand)
                goto out;   /* cannot happen: the answer is always among the candidates */
            if (stats_sort(buf, c, NULL))
                goto out;
            *out = buf[k - below - 1];
            rc = 0;
            goto out;
        }
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        uint64_t r = rng % cand;
        size_t pi = 0;
        while (r >= end[pi] - lo[pi]) {
            r -= end[pi] - lo[pi];
            pi++;
        }
        double pivot = xs[pi] + xs[lo[pi] + r];
        uint64_t nlt = 0, nle = 0;
        size_t plt = n, ple = n;
        for (size_t i = 0; i < n; i++) {
            while (plt > 0 && xs[i] + xs[plt - 1] >= pivot)
                plt--;
            while (ple > 0 && xs[i] + xs[ple - 1] > pivot)
                ple--;
            blt[i] = plt > i ? plt : i;
            ble[i] = ple > i ? ple : i;
            nlt += blt[i] - i;
            nle += ble[i] - i;
        }
        if (k <= nlt) {
            for (size_t i = 0; i < n; i++)
                if (blt[i] < end[i])
                    end[i] = blt[i] < lo[i] ? lo[i] : blt[i];
        } else if (k > nle) {
            for (size_t i = 0; i < n; i++)
                if (ble[i] > lo[i])
                    lo[i] = ble[i] > end[i] ? end[i] : ble[i];
        } else {
            *out = pivot;
            rc = 0;
            goto out;
        }
    }
out:
    free(lo);
    free(end);
    free(blt);
    free(ble);
    free(buf);
    return rc;
}

/* The Walsh sums xs[i] + xs[j], i <= j, of sorted xs (no zeros), ready for k-th smallest
 * queries. When xs has few distinct values (scores in whole points: a change on a 0-10
 * scale takes at most 21) each distinct sum is listed once with its multiplicity and a
 * query is a binary search; otherwise each query is a selection in xs (walsh_kth). Both
 * give the k-th smallest of the same multiset of sums, each computed as v_i + v_j. */
struct walsh {
    const double *xs;
    size_t n;
    size_t nt;                 /* table entries; 0 = no table, select in xs */
    double *sum;               /* distinct sums, ascending */
    uint64_t *cum;             /* cum[i] = number of Walsh sums <= sum[i] */
};

struct wsum {
    double s;
    uint64_t w;
};

static int wsum_cmp(const void *pa, const void *pb)
{
    const struct wsum *a = pa, *b = pb;
    return (a->s > b->s) - (a->s < b->s);
}

static void walsh_free(struct walsh *w)
{
    free(w->sum);
    free(w->cum);
    w->sum = NULL;
    w->cum = NULL;
    w->nt = 0;
}

/* The table is built when it has at most 2n entries (d distinct values give d(d+1)/2). */
static int walsh_init(struct walsh *w, const double *xs, size_t n)
{
    w->xs = xs;
    w->n = n;
    w->nt = 0;
    w->sum = NULL;
    w->cum = NULL;
    uint64_t limit = 2 * (uint64_t)n;
    size_t d = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || xs[i] != xs[i - 1]) {
            d++;
            if ((uint64_t)d * (d + 1) / 2 > limit)
                return 0;
        }
    if (d == 0)
        return 0;
    size_t np = d * (d + 1) / 2;
    double *val = malloc(d * sizeof *val);
    uint64_t *cnt = malloc(d * sizeof *cnt);
    struct wsum *p = malloc(np * sizeof *p);
    int rc = -1;
    if (!val || !cnt || !p)
        goto out;
    size_t nd = 0;
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || xs[i] != xs[i - 1]) {
            val[nd] = xs[i];
            cnt[nd++] = 0;
        }
        cnt[nd - 1]++;
    }
    size_t c = 0;
    for (size_t a = 0; a < d; a++) {
        p[c].s = val[a] + val[a];
        p[c++].w = cnt[a] * (cnt[a] + 1) / 2;
        for (size_t b = a + 1; b < d; b++) {
            p[c].s = val[a] + val[b];
            p[c++].w = cnt[a] * cnt[b];
        }
    }
    qsort(p, np, sizeof *p, wsum_cmp);
    w->sum = malloc(np * sizeof *w->sum);
    w->cum = malloc(np * sizeof *w->cum);
    if (!w->sum || !w->cum) {
        walsh_free(w);
        goto out;
    }
    uint64_t run = 0;
    for (size_t i = 0; i < np; i++) {
        run += p[i].w;
        if (w->nt > 0 && w->sum[w->nt - 1] == p[i].s) {
            w->cum[w->nt - 1] = run;   /* two pairs with one sum (1 + 4 = 2 + 3) */
        } else {
            w->sum[w->nt] = p[i].s;
            w->cum[w->nt++] = run;
        }
    }
    rc = 0;
out:
    free(val);
    free(cnt);
    free(p);
    return rc;
}

/* k-th smallest (1-based) Walsh sum. */
static int walsh_sum_kth(const struct walsh *w, uint64_t k, double *out)
{
    if (w->nt == 0)
        return walsh_kth(w->xs, w->n, k, out);
    if (k == 0 || k > w->cum[w->nt - 1])
        return -1;
    size_t a = 0, b = w->nt - 1;   /* first entry with cum >= k */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (w->cum[mid] >= k)
            b = mid;
        else
            a = mid + 1;
    }
    *out = w->sum[a];
    return 0;
}

/* k-th smallest Walsh average (x_i + x_j) / 2, as R computes it (sum first, then halve). */
static int walsh_avg_kth(const struct walsh *w, uint64_t k, double *out)
{
    double s;
    if (walsh_sum_kth(w, k, &s))
        return -1;
    *out = s / 2.0;
    return 0;
}

static int walsh_median(const struct walsh *w, double *out)
{
    uint64_t nn = (uint64_t)w->n * (w->n + 1) / 2;
    double a, b;
    if (nn % 2) {
        return walsh_avg_kth(w, (nn + 1) / 2, out);
    }
    if (walsh_avg_kth(w, nn / 2, &a) || walsh_avg_kth(w, nn / 2 + 1, &b))
        return -1;
    *out = (a + b) / 2.0;
    return 0;
}

/* Exact null distribution of V for n untied non-zero values: cnt[v] = number of the 2^n
 * sign patterns with V = v. Counts stay below 2^53 for n < 50, so doubles hold them exactly. */
static double *signrank_counts(size_t n)
{
    size_t nn = n * (n + 1) / 2;
    double *c = calloc(nn + 1, sizeof *c);
    if (!c)
        return NULL;
    c[0] = 1.0;
    for (size_t k = 1; k <= n; k++) {
        size_t top = k * (k + 1) / 2;
        for (size_t v = top; v >= k; v--)
            c[v] += c[v - k];
    }
    return c;
}

/* P(V <= q) */
static double psignrank(const double *cnt, size_t n, double q)
{
    if (q < 0)
        return 0.0;
    size_t nn = n * (n + 1) / 2;
    double s = 0.0;
    for (size_t v = 0; v <= nn && (double)v <= q; v++)
        s += cnt[v];
    return fmin(1.0, ldexp(s, -(int)n));
}

/* Smallest q with P(V <= q) >= p, with R's fuzz of 10 DBL_EPSILON (p <= 0.5). */
static size_t qsignrank(const double *cnt, size_t n, double p)
{
    size_t nn = n * (n + 1) / 2;
    double target = p - 10 * DBL_EPSILON, s = 0.0;
    for (size_t q = 0; q <= nn; q++) {
        s += ldexp(cnt[q], -(int)n);
        if (s >= target)
            return q;
    }
    return nn;
}

static void wilcoxon_nan(struct wilcoxon *o)
{
    o->n = 0;
    o->v = o->p = o->hl = o->hl_lo = o->hl_hi = o->level = NAN;
    o->exact = 0;
}

/* Approximate-case CI limit, as R's uniroot on W(d) - zq but exact: W is a step function
 * of d that jumps only at Walsh averages, and between them equals the plateau value for
 * V = #{Walsh averages > d}, no zeros and the data's own ties. The root is the Walsh
 * average where the plateau value first drops below zq. */
static int wilcoxon_root(const struct walsh *ws, double sigma, double wmin, double wmax,
                         double zq, double *root)
{
    const double *xs = ws->xs;
    size_t n = ws->n;
    if (wmin - zq <= 0) {
        *root = xs[0];
        return 0;
    }
    if (wmax - zq >= 0) {
        *root = xs[n - 1];
        return 0;
    }
    uint64_t nn = (uint64_t)n * (n + 1) / 2;
    double mid = (double)n * (double)(n + 1) / 4.0;
    uint64_t a = 1, b = nn + 1;   /* smallest k in [a, b) with plateau(k) < zq; b = none */
    while (a < b) {
        uint64_t k = a + (b - a) / 2;
        double zd = (double)(nn - k) - mid;
        double w = (zd - sgn(zd) * 0.5) / sigma;
        if (w < zq)
            b = k;
        else
            a = k + 1;
    }
    if (a > nn) {
        *root = xs[n - 1];
        return 0;
    }
    return walsh_avg_kth(ws, a, root);
}

int stats_wilcoxon_signed_rank(const double *x, size_t n, double level, struct wilcoxon *out)
{
    wilcoxon_nan(out);
    if (!x || !level_ok(level))
        return -1;
    double *xs = malloc((n ? n : 1) * sizeof *xs);
    double *cnt = NULL;
    struct walsh ws = {0};
    if (!xs)
        return -1;
    size_t m = 0;
    int zeros = 0;
    for (size_t i = 0; i < n; i++) {
        if (x[i] == 0)
            zeros = 1;
        else
            xs[m++] = x[i];
    }
    int rc = -1;
    double v, ties;
    if (m == 0 || stats_sort(xs, m, NULL))
        goto fail;
    signed_rank(xs, m, &v, &ties);
    double mm = (double)m;
    uint64_t nn = (uint64_t)m * (m + 1) / 2;
    double hl;
    if (walsh_init(&ws, xs, m) || walsh_median(&ws, &hl))
        goto fail;
    out->n = m;
    out->v = v;
    out->hl = hl;
    double alpha = 1.0 - level;
    if (m < 50 && ties == 0 && !zeros) {
        cnt = signrank_counts(m);
        if (!cnt)
            goto fail;
        double p = v > mm * (mm + 1) / 4.0 ? 1.0 - psignrank(cnt, m, v - 1)
                                           : psignrank(cnt, m, v);
        out->p = fmin(1.0, 2.0 * p);
        out->exact = 1;
        size_t qu = qsignrank(cnt, m, alpha / 2.0);
        if (qu == 0)
            qu = 1;
        if (walsh_avg_kth(&ws, qu, &out->hl_lo) ||
            walsh_avg_kth(&ws, nn - qu + 1, &out->hl_hi))
            goto fail;
        out->level = 1.0 - 2.0 * psignrank(cnt, m, (double)qu - 1.0);
    } else {
        double zd = v - mm * (mm + 1) / 4.0;
        double sigma = sqrt(mm * (mm + 1) * (2 * mm + 1) / 24.0 - ties / 48.0);
        double z = (zd - sgn(zd) * 0.5) / sigma;
        out->p = fmin(1.0, 2.0 * fmin(gsl_cdf_ugaussian_P(z), gsl_cdf_ugaussian_Q(z)));
        double wmin, wmax;
        if (w_stat_at(xs, m, xs[0], &wmin) || w_stat_at(xs, m, xs[m - 1], &wmax))
            goto fail;
        if (isnan(wmin) || isnan(wmax)) {
            /* every non-zero difference is equal: R stops here ("all observations are
             * zero or tied"); keep the test and estimate, leave the CI undefined. */
            rc = 0;
            goto out;
        }
        /* R widens alpha until both limits are attainable, then reports the level it got. */
        while (alpha < 1.0 && (wmin - gsl_cdf_ugaussian_Qinv(alpha / 2.0) < 0 ||
                               wmax - gsl_cdf_ugaussian_Pinv(alpha / 2.0) > 0))
            alpha *= 2.0;
        if (alpha >= 1.0) {
            out->hl_lo = out->hl_hi = gsl_stats_median_from_sorted_data(xs, 1, m);
            out->level = 0.0;
        } else {
            /* Between Walsh averages |x - d| ties only where x values are equal (a tie
             * like |2| = |-2| exists only at d = 0), so the plateau sigma has its own
             * tie term. */
            double pt = 0;
            for (size_t i = 0; i < m;) {
                size_t j = i + 1;
                while (j < m && xs[j] == xs[i])
                    j++;
                double t = (double)(j - i);
                pt += t * t * t - t;
                i = j;
            }
            double psigma = sqrt(mm * (mm + 1) * (2 * mm + 1) / 24.0 - pt / 48.0);
            if (wilcoxon_root(&ws, psigma, wmin, wmax, gsl_cdf_ugaussian_Qinv(alpha / 2.0),
                              &out->hl_lo) ||
                wilcoxon_root(&ws, psigma, wmin, wmax, gsl_cdf_ugaussian_Pinv(alpha / 2.0),
                              &out->hl_hi))
                goto fail;
            out->level = 1.0 - alpha;
        }
    }
    rc = 0;
    goto out;
fail:
    wilcoxon_nan(out);
out:
    walsh_free(&ws);
    free(xs);
    free(cnt);
    return rc;
}

/* ------------------------------------------------------------------ effect sizes */

int stats_effect_paired_from(size_t n, double mean_diff, double sd_diff, double sd_pre,
                              double sd_post, struct effect *out)
{
    out->d_z = out->d_av = out->g_av = NAN;
    if (n < 3 || !(sd_diff > 0) || !(sd_pre + sd_post > 0))
        return -1;
    double df = (double)(n - 1);
    /* J(df) = Gamma(df/2) / (sqrt(df/2) Gamma((df-1)/2)), via log-gamma to avoid overflow */
    double j = exp(gsl_sf_lngamma(df / 2.0) - gsl_sf_lngamma((df - 1.0) / 2.0)) / sqrt(df / 2.0);
    out->d_z = mean_diff / sd_diff;
    out->d_av = mean_diff / ((sd_pre + sd_post) / 2.0);
    out->g_av = out->d_av * j;
    return 0;
}

int stats_effect_paired(const double *pre, const double *post, size_t n, struct effect *out)
{
    out->d_z = out->d_av = out->g_av = NAN;
    if (n < 3 || !pre || !post)
        return -1;
    double *d = malloc(n * sizeof *d);
    if (!d)
        return -1;
    for (size_t i = 0; i < n; i++)
        d[i] = post[i] - pre[i];
    double md = accurate_mean(d, n), sdd = accurate_sd(d, n, md);
    free(d);
    double sa = accurate_sd(pre, n, accurate_mean(pre, n));
    double sb = accurate_sd(post, n, accurate_mean(post, n));
    return stats_effect_paired_from(n, md, sdd, sa, sb, out);
}

/* ------------------------------------------------------------------ bootstrap */

/* MT19937 (Matsumoto & Nishimura 1998) with the 2002 seeding, which is what
 * gsl_rng_mt19937 is: the same 32-bit numbers for the same seed. Inline here because the
 * bootstrap draws n * reps of them, and through gsl_rng's function pointers that was most
 * of a monthly report's time. test_stats checks the stream against GSL's. */
enum { MT_N = 624, MT_M = 397 };

static uint32_t mt_twist(uint32_t a, uint32_t b, uint32_t c)
{
    uint32_t y = (a & UINT32_C(0x80000000)) | (b & UINT32_C(0x7fffffff));
    return c ^ (y >> 1) ^ (UINT32_C(0x9908b0df) & (0u - (y & 1u)));
}

void stats_mt_seed(struct stats_mt *m, unsigned long seed)
{
    if (seed == 0)
        seed = 4357;   /* gsl_rng_set's default seed */
    m->s[0] = (uint32_t)(seed & 0xffffffffUL);
    for (uint32_t i = 1; i < MT_N; i++)
        m->s[i] = UINT32_C(1812433253) * (m->s[i - 1] ^ (m->s[i - 1] >> 30)) + i;
    m->i = MT_N;
}

static void mt_refill(struct stats_mt *m)
{
    uint32_t *s = m->s;
    int k;
    for (k = 0; k < MT_N - MT_M; k++)
        s[k] = mt_twist(s[k], s[k + 1], s[k + MT_M]);
    for (; k < MT_N - 1; k++)
        s[k] = mt_twist(s[k], s[k + 1], s[k + MT_M - MT_N]);
    s[MT_N - 1] = mt_twist(s[MT_N - 1], s[0], s[MT_M - 1]);
    m->i = 0;
}

static inline uint32_t mt_next(struct stats_mt *m)
{
    if (m->i >= MT_N)
        mt_refill(m);
    uint32_t y = m->s[m->i++];
    y ^= y >> 11;
    y ^= (y << 7) & UINT32_C(0x9d2c5680);
    y ^= (y << 15) & UINT32_C(0xefc60000);
    y ^= y >> 18;
    return y;
}

uint32_t stats_mt_get(struct stats_mt *m)
{
    return mt_next(m);
}

/* gsl_rng_uniform_int's rule: scale = (2^32 - 1) / n, draw until get / scale < n. */
static inline size_t mt_uniform(struct stats_mt *m, uint32_t n, uint32_t scale)
{
    uint32_t k;
    do
        k = mt_next(m) / scale;
    while (k >= n);
    return k;
}

unsigned long stats_mt_uniform_int(struct stats_mt *m, unsigned long n)
{
    if (n == 0 || n > 0xffffffffUL)
        return 0;   /* gsl_rng_uniform_int's error value */
    return mt_uniform(m, (uint32_t)n, UINT32_C(0xffffffff) / (uint32_t)n);
}

/* Median of sorted data: the middle value, or the mean of the middle pair, exactly as
 * gsl_stats_median_from_sorted_data computes it. */
static double median_sorted(const double *s, size_t n)
{
    size_t lhs = (n - 1) / 2, rhs = n / 2;
    return lhs == rhs ? s[lhs] : (s[lhs] + s[rhs]) / 2.0;
}

/* Median of the resample sorted[u_1], ..., sorted[u_n], given hits[j] = #{i : u_i = j}.
 * sorted is non-decreasing, so the resample's k-th smallest value is sorted[] at the k-th
 * smallest drawn position: counting positions (O(n)) replaces sorting the resample. */
static double resample_median(const double *sorted, const size_t *hits, size_t n)
{
    size_t lhs = (n - 1) / 2, rhs = n / 2, acc = 0, j = 0;
    while (acc + hits[j] <= lhs)
        acc += hits[j++];
    size_t jl = j;
    while (acc + hits[j] <= rhs)
        acc += hits[j++];
    return lhs == rhs ? sorted[jl] : (sorted[jl] + sorted[j]) / 2.0;
}

/* Replicates of the mean (into thm) and of the median (into thd) of n draws from sorted,
 * reps times; either array may be NULL. The two share one draw stream, so each gets the
 * very draws a bootstrap of it alone would: n per replicate, in order. buf: n doubles,
 * hits: n counters (for the median). */
static void bootstrap_draws(const double *sorted, size_t n, size_t reps, uint64_t seed,
                            struct stats_mt *r, double *buf, size_t *hits, double *thm,
                            double *thd)
{
    /* With -0 and +0 both in the data, which of them a resample's median is depends on
     * how its copy is sorted: then sort every resample, as always. */
    int sort_each = thd && mixed_zeros(sorted, n);
    stats_mt_seed(r, (unsigned long)seed);
    uint32_t n32 = (uint32_t)n, scale = UINT32_C(0xffffffff) / n32;
    for (size_t b = 0; b < reps; b++) {
        if (thd)
            memset(hits, 0, n * sizeof *hits);
        /* accurate_mean(buf), its first pass summing as the values are drawn */
        struct ksum sum = {0, 0};
        for (size_t i = 0; i < n; i++) {
            size_t u = mt_uniform(r, n32, scale);
            if (thd)
                hits[u]++;
            buf[i] = sorted[u];
            if (thm)
                ksum_add(&sum, buf[i]);
        }
        if (thm)
            thm[b] = accurate_mean_from(buf, n, &sum);
        if (thd && sort_each) {
            gsl_sort(buf, 1, n);
            thd[b] = median_sorted(buf, n);
        } else if (thd) {
            thd[b] = resample_median(sorted, hits, n);
        }
    }
}

/* The BCa interval of one statistic from its replicates th (sorted here). jk: n doubles. */
static int bca_finish(const double *x, const double *sorted, size_t n, enum boot_stat stat,
                      double *th, size_t reps, double level, double *jk, struct bca *out)
{
    double est = stat == BOOT_MEAN ? accurate_mean(x, n) : median_sorted(sorted, n);
    gsl_sort(th, 1, reps);

    /* Bias correction from the share of replicates below est; ties (common for the
     * median) count half, so a replicate equal to est does not push z0 either way. */
    double less = 0, equal = 0;
    for (size_t b = 0; b < reps; b++) {
        if (th[b] < est)
            less++;
        else if (th[b] == est)
            equal++;
    }
    double prop = (less + equal / 2.0) / (double)reps;
    if (prop <= 0.0 || prop >= 1.0)
        return -1;
    double z0 = gsl_cdf_ugaussian_Pinv(prop);

    /* Acceleration from the jackknife; the leave-one-out statistic is O(1) per point. */
    double total = 0;
    for (size_t i = 0; i < n; i++)
        total += sorted[i];
    for (size_t i = 0; i < n; i++) {
        if (stat == BOOT_MEAN) {
            jk[i] = (total - sorted[i]) / (double)(n - 1);
        } else {
            /* median of sorted without sorted[i]: positions shift by one past i */
            size_t m = n - 1, a = (m - 1) / 2, c = m / 2;
            double va = sorted[a < i ? a : a + 1], vc = sorted[c < i ? c : c + 1];
            jk[i] = (va + vc) / 2.0;
        }
    }
    double jm = accurate_mean(jk, n), s2 = 0, s3 = 0;
    for (size_t i = 0; i < n; i++) {
        double d = jm - jk[i];
        s2 += d * d;
        s3 += d * d * d;
    }
    double a = s2 > 0 ? s3 / (6.0 * pow(s2, 1.5)) : 0.0;

    double zl = gsl_cdf_ugaussian_Pinv((1.0 - level) / 2.0);
    double zh = -zl;
    double al = gsl_cdf_ugaussian_P(z0 + (z0 + zl) / (1.0 - a * (z0 + zl)));
    double ah = gsl_cdf_ugaussian_P(z0 + (z0 + zh) / (1.0 - a * (z0 + zh)));
    if (!isfinite(al) || !isfinite(ah))
        return -1;
    out->est = est;
    out->lo = gsl_stats_quantile_from_sorted_data(th, 1, reps, al);
    out->hi = gsl_stats_quantile_from_sorted_data(th, 1, reps, ah);
    out->z0 = z0;
    out->a = a;
    return 0;
}

/* The bootstrap of the mean (mean != NULL) and/or the median (median != NULL) of x;
 * rc[0] for the mean, rc[1] for the median, each 0 or -1 as stats_bootstrap_bca_detail. */
static void bootstrap(const double *x, size_t n, size_t reps, uint64_t seed, double level,
                      struct bca *mean, struct bca *median, int rc[2])
{
    struct bca *out[2] = {mean, median};
    for (int k = 0; k < 2; k++) {
        rc[k] = -1;
        if (out[k])
            out[k]->est = out[k]->lo = out[k]->hi = out[k]->z0 = out[k]->a = NAN;
    }
    if (!x || n < 2 || reps < 2 || !level_ok(level) || n > 0xffffffffUL)
        return;
    double *buf = malloc(n * sizeof *buf), *jk = malloc(n * sizeof *jk);
    double *sorted = dup_array(x, n);
    double *thm = mean ? malloc(reps * sizeof *thm) : NULL;
    double *thd = median ? malloc(reps * sizeof *thd) : NULL;
    size_t *hits = median ? malloc(n * sizeof *hits) : NULL;
    struct stats_mt *r = malloc(sizeof *r);
    if (!buf || !jk || !sorted || !r || (mean && !thm) || (median && (!thd || !hits)))
        goto out;
    /* gsl_sort here and for the replicates, not stats_sort: one sort per call is cheap next
     * to the n * reps draws, and so a -0 among +0 lands exactly where it always did. */
    gsl_sort(sorted, 1, n);
    /* Resample from the sorted copy, so the interval depends on the values and the seed only,
     * not on the order the rows arrived in (a shuffled export gives the same report). */
    bootstrap_draws(sorted, n, reps, seed, r, buf, hits, thm, thd);
    if (mean)
        rc[0] = bca_finish(x, sorted, n, BOOT_MEAN, thm, reps, level, jk, mean);
    if (median)
        rc[1] = bca_finish(x, sorted, n, BOOT_MEDIAN, thd, reps, level, jk, median);
out:
    free(buf);
    free(jk);
    free(sorted);
    free(thm);
    free(thd);
    free(hits);
    free(r);
}

int stats_bootstrap_bca_detail(const double *x, size_t n, enum boot_stat stat, size_t reps,
                               uint64_t seed, double level, struct bca *out)
{
    int rc[2];
    if (stat != BOOT_MEAN && stat != BOOT_MEDIAN) {
        out->est = out->lo = out->hi = out->z0 = out->a = NAN;
        return -1;
    }
    bootstrap(x, n, reps, seed, level, stat == BOOT_MEAN ? out : NULL,
              stat == BOOT_MEDIAN ? out : NULL, rc);
    return rc[stat == BOOT_MEAN ? 0 : 1];
}

int stats_bootstrap_bca_both(const double *x, size_t n, size_t reps, uint64_t seed,
                             double level, struct bca *mean, struct bca *median, int rc[2])
{
    bootstrap(x, n, reps, seed, level, mean, median, rc);
    return rc[0] || rc[1] ? -1 : 0;
}

int stats_bootstrap_bca(const double *x, size_t n, enum boot_stat stat, size_t reps,
                        uint64_t seed, double level, double *est, double *lo, double *hi)
{
    struct bca b;
    int rc = stats_bootstrap_bca_detail(x, n, stat, reps, seed, level, &b);
    *est = b.est;
    *lo = b.lo;
    *hi = b.hi;
    return rc;
}

/* ------------------------------------------------------------------ Kaplan–Meier */

/* One quantile of a step curve, as R survival's findq: x[0] = 0 and y[0] = 0 (y is
 * 1 - S, non-decreasing), NAN y values are skipped, repeated y values keep their first
 * time; the answer is the first time y reaches p, or the midpoint of a flat lying
 * exactly at p (to the last observed time, xmax, when the flat is the curve's end). */
static double find_quantile(const double *x, const double *y, size_t m, double p, double xmax)
{
    const double tol = sqrt(DBL_EPSILON);
    size_t i1 = SIZE_MAX, i2 = SIZE_MAX, last = SIZE_MAX;
    double prev = NAN;
    for (size_t i = 0; i < m; i++) {
        if (isnan(y[i]) || (!isnan(prev) && y[i] == prev))
            continue;   /* duplicates of the previous level are censorings or NA */
        prev = y[i];
        last = i;
        if (i1 == SIZE_MAX && y[i] >= p - tol)
            i1 = i;
        if (i2 == SIZE_MAX && y[i] >= p + tol)
            i2 = i;
    }
    if (i1 == SIZE_MAX)
        return NAN;
    if (fabs(p - y[last]) < tol)
        return (x[i1] + xmax) / 2.0;
    if (i2 == SIZE_MAX)
        return NAN;
    return (x[i1] + x[i2]) / 2.0;
}

void stats_km_free(struct km *k)
{
    if (!k)
        return;
    free(k->step);
    k->step = NULL;
    k->n_steps = 0;
    free(k->followed);
    k->followed = NULL;
    k->n_followed = 0;
    free(k->cens);
    k->cens = NULL;
    k->n_cens = 0;
}

static void km_nan(struct km *o, size_t n)
{
    o->n = n;
    o->n_events = 0;
    o->n_steps = 0;
    o->step = NULL;
    o->followed = NULL;
    o->n_followed = 0;
    o->cens = NULL;
    o->n_cens = 0;
    o->level = NAN;
    for (int i = 0; i < 3; i++) {
        o->q[i] = o->q_lo[i] = o->q_hi[i] = NAN;
        o->q_lo_open[i] = o->q_lo_censor[i] = 0;
    }
}

/* How many of the sorted times a (n) are greater than x. */
static size_t count_above(const double *a, size_t n, double x)
{
    size_t lo = 0, hi = n;   /* the first index with a[i] > x */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (a[mid] <= x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return n - lo;
}

/* Brookmeyer–Crowley's lower limit reads the lower band of S at event times only, as if S
 * were known wherever the curve is flat, however many were censored there: 28 of 30
 * censored at 1 and the other two responding at 5 gave a median "at least 5"; with heavy
 * early censoring the limit lay above the true median in about 15% of simulated samples,
 * not 2.5%. So the band is also read past each censoring time c, where the n still followed
 * are fewer: Dorey and Korn's effective-n widening (R's conf.lower = "modified"), the
 * variance times m/n, m the number at risk at the last event, n the number followed past c
 * (R takes those at risk at c, the ones censored at c still among them, and reads the value
 * as holding from c on; past c is what is followed after it). Before the first event the
 * log-log band does not exist (S = 1); there the bound is the exact one for no event among
 * the n followed past c, S >= (alpha/2)^(1/n). Where such a bound first reaches 1 - q the
 * lower limit stops, exclusive: the quantile lies above c; past the longest follow-up
 * nobody is followed, so at worst the limit is that, exclusive. With whole-number times
 * (discrete) "above c" is c + 1, closed. */
static void km_q_lo_censored(struct km *o, const double *et, size_t nev, const double *ct,
                             size_t ncen, double level, int discrete)
{
    static const double probs[3] = {0.25, 0.5, 0.75};
    const double tol = sqrt(DBL_EPSILON);
    double a2 = (1 - level) / 2, z = z_crit(level);
    for (int qi = 0; qi < 3; qi++) {
        double thr = 1 - probs[qi], at = o->q_lo[qi];   /* the band's own limit, or NAN */
        size_t k = 0;   /* steps with t <= x */
        /* x = 0, then past each distinct censoring time before the band's limit */
        for (size_t i = 0; i <= ncen; i++) {
            double x = i ? ct[i - 1] : 0.0;
            if (i && i < ncen && ct[i] == x)
                continue;   /* the last of a tie speaks for it */
            if (!isnan(at) && x >= at)
                break;
            if (discrete && count_above(et, nev, x) != count_above(et, nev, x + 1))
                continue;   /* whole numbers: past x is x + 1, a response time, whose own
                               band is the one that holds there */
            while (k < o->n_steps && o->step[k].t <= x)
                k++;
            size_t n = count_above(et, nev, x) + count_above(ct, ncen, x);
            double bound;
            if (n == 0) {
                bound = 0;   /* nobody followed past x: S may be anything there */
            } else if (k == 0) {
                bound = pow(a2, 1.0 / (double)n);
            } else {
                const struct km_step *s = &o->step[k - 1];
                if (!(s->surv > 0))
                    break;   /* S = 0: the band's own limit is at or before this step */
                double sg = s->se / s->surv;   /* sqrt(G) */
                double m = (double)s->n_risk;
                bound = pow(s->surv, exp(z * sg * sqrt(m / (double)n) / fabs(log(s->surv))));
            }
            if (bound <= thr + tol) {
                /* In whole numbers (treatments) nothing happens between x and x + 1: past
                 * x is at x + 1, closed, which R's modified band also gives there. */
                o->q_lo[qi] = discrete ? x + 1 : x;
                o->q_lo_open[qi] = !discrete;
                o->q_lo_censor[qi] = 1;
                break;
            }
        }
    }
}

/* The distinct values of sorted a (n > 0) with how many of a are at or above each, into
 * *out (malloc'd, *nout entries). Returns -1 when out of memory. */
static int km_tail_counts(const double *a, size_t n, struct km_followed **out, size_t *nout)
{
    size_t nd = 0;
    for (size_t i = 0; i < n; i++)
        nd += i == 0 || a[i] != a[i - 1];
    *out = malloc(nd * sizeof **out);
    if (!*out)
        return -1;
    *nout = 0;
    for (size_t i = 0; i < n; i++)
        if (i == 0 || a[i] != a[i - 1])
            (*out)[(*nout)++] = (struct km_followed){.t = a[i], .n = (long)(n - i)};
    return 0;
}

int stats_km(const double *time, const int *event, size_t n, double level, struct km *out)
{
    km_nan(out, n);
    if (n == 0 || !time || !event || !level_ok(level))
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!(time[i] >= 0) || !isfinite(time[i]) || (event[i] != 0 && event[i] != 1))
            return -1;
    /* Event times and censoring times apart, each sorted (stably): walking both at once
     * visits the times in order with events before censorings at a tie, as one sort by
     * (time, event first) would. */
    size_t nev = 0;
    for (size_t i = 0; i < n; i++)
        nev += (size_t)event[i];
    size_t ncen = n - nev;
    double *et = malloc((nev ? nev : 1) * sizeof *et), *ct = malloc((ncen ? ncen : 1) * sizeof *ct);
    double *cx = NULL, *cy = NULL, *cl = NULL, *ch = NULL;
    struct km_step *st = NULL;
    int rc = -1;
    if (!et || !ct)
        goto out;
    for (size_t i = 0, ie = 0, ic = 0; i < n; i++) {
        if (event[i])
            et[ie++] = time[i];
        else
            ct[ic++] = time[i];
    }
    if (stats_sort(et, nev, NULL) || stats_sort(ct, ncen, NULL))
        goto out;
    /* A step per distinct event time, not per event: at a million patients with a few dozen
     * distinct times, room for one per event would be tens of megabytes for a few steps. */
    size_t n_times = 0;
    for (size_t i = 0; i < nev; i++)
        n_times += i == 0 || et[i] != et[i - 1];
    st = calloc(n_times ? n_times : 1, sizeof *st);
    if (!st)
        goto out;
    double z = z_crit(level), s = 1.0, g = 0.0;
    size_t ns = 0;
    for (size_t ie = 0, ic = 0; ie + ic < n;) {
        size_t i = ie + ic;   /* times before this one */
        double t = ie < nev && (ic == ncen || et[ie] <= ct[ic]) ? et[ie] : ct[ic];
        long de = 0, dc = 0;
        for (; ie < nev && et[ie] == t; ie++)
            de++;
        for (; ic < ncen && ct[ic] == t; ic++)
            dc++;
        if (de == 0) {
            /* censorings at a time without events belong to the previous step's interval
             * (those before the first event belong to no step) */
            if (ns)
                st[ns - 1].n_censor += dc;
            continue;
        }
        long nr = (long)(n - i);
        struct km_step *k = &st[ns++];
        k->t = t;
        k->n_risk = nr;
        k->n_event = de;
        k->n_censor = dc;
        s *= (double)(nr - de) / (double)nr;
        if (nr > de) {
            g += (double)de / ((double)nr * (double)(nr - de));
            k->surv = s;
            k->se = s * sqrt(g);
            /* log-log: log(-log S) +- z sqrt(G) / |log S|, mapped back */
            double theta = z * sqrt(g) / fabs(log(s));
            k->lo = pow(s, exp(theta));
            k->hi = pow(s, exp(-theta));
        } else {
            /* Everyone left had the event: S = 0, Greenwood's variance is infinite and the
             * log-log band does not exist (R gives NA). S >= 0 bounds it below. Above: when
             * nobody was censored before t, all n are known to have had the event by t, so
             * the exact (Clopper-Pearson) limit for n of n holds, S <= 1 - (alpha/2)^(1/n).
             * Otherwise two bounds hold: all nr at risk responding, S(t) <= S(t | t-) <=
             * 1 - (.)^(1/nr) whatever S(t-) was; and S(t) <= S(t') <= hi(t') at the last
             * step before. The smaller of the two is taken at alpha/4 each (Bonferroni),
             * so that neither a lone last responder (nr = 1) nor a first step without a
             * band before it leaves the limit "not reached" (30 of 30 at session 1 had a
             * median of 1 with both limits not reached). */
            k->surv = 0.0;
            k->se = NAN;
            k->lo = 0.0;
            double a2 = (1 - level) / 2;
            if (ic == (size_t)dc) {
                k->hi = 1.0 - pow(a2, 1.0 / (double)n);
            } else if (ns == 1) {
                k->hi = 1.0 - pow(a2, 1.0 / (double)nr);
            } else {
                const struct km_step *p = &st[ns - 2];
                double z4 = gsl_cdf_ugaussian_Pinv(1 - a2 / 2);
                double hp = pow(p->surv, exp(-z4 * sqrt(g) / fabs(log(p->surv))));
                double hr = 1.0 - pow(a2 / 2, 1.0 / (double)nr);
                k->hi = hp < hr ? hp : hr;
            }
            g = INFINITY;
        }
    }
    out->n_events = nev;
    out->n_steps = ns;
    out->step = st;
    out->level = level;
    st = NULL;
    /* Each censoring time and how many were censored then or later; with no events that is
     * also how many were followed to each time or longer. */
    if ((ncen && km_tail_counts(ct, ncen, &out->cens, &out->n_cens)) ||
        (nev == 0 && km_tail_counts(ct, ncen, &out->followed, &out->n_followed))) {
        stats_km_free(out);
        km_nan(out, n);
        goto out;
    }

    cx = malloc((ns + 1) * sizeof *cx);
    cy = malloc((ns + 1) * sizeof *cy);
    cl = malloc((ns + 1) * sizeof *cl);
    ch = malloc((ns + 1) * sizeof *ch);
    if (!cx || !cy || !cl || !ch) {
        stats_km_free(out);
        km_nan(out, n);
        goto out;
    }
    cx[0] = 0.0;
    cy[0] = cl[0] = ch[0] = 0.0;
    for (size_t i = 0; i < ns; i++) {
        cx[i + 1] = out->step[i].t;
        cy[i + 1] = 1.0 - out->step[i].surv;
        cl[i + 1] = 1.0 - out->step[i].lo;   /* lower band of S reaches 1-q first */
        ch[i + 1] = 1.0 - out->step[i].hi;
    }
    /* the last time in (time, event first) order: a censoring wins a tie */
    double xmax = ncen && (nev == 0 || ct[ncen - 1] >= et[nev - 1]) ? ct[ncen - 1] : et[nev - 1];
    static const double probs[3] = {0.25, 0.5, 0.75};
    for (int qi = 0; qi < 3; qi++) {
        out->q[qi] = find_quantile(cx, cy, ns + 1, probs[qi], xmax);
        out->q_lo[qi] = find_quantile(cx, cl, ns + 1, probs[qi], xmax);
        out->q_hi[qi] = find_quantile(cx, ch, ns + 1, probs[qi], xmax);
    }
    int discrete = 1;
    for (size_t i = 0; i < n && discrete; i++)
        discrete = time[i] == floor(time[i]) && time[i] < 1e15;
    km_q_lo_censored(out, et, nev, ct, ncen, level, discrete);
    /* A later quantile cannot have an earlier lower limit; only the midpoint rule at a flat
     * within rounding of 1 - q could make one (q25 there, the median at the end flat). */
    for (int qi = 1; qi >= 0; qi--)
        if (out->q_lo[qi] > out->q_lo[qi + 1]) {
            out->q_lo[qi] = out->q_lo[qi + 1];
            out->q_lo_open[qi] = out->q_lo_open[qi + 1];
            out->q_lo_censor[qi] = out->q_lo_censor[qi + 1];
        }
    rc = 0;
out:
    free(et);
    free(ct);
    free(st);
    free(cx);
    free(cy);
    free(cl);
    free(ch);
    return rc;
}

int stats_km_all_events(const struct km *k)
{
    if (!k || !k->n_steps || !k->step || k->step[k->n_steps - 1].surv != 0)
        return 0;
    size_t before = 0;
    for (size_t i = 0; i + 1 < k->n_steps; i++)
        before += (size_t)k->step[i].n_event;
    return before + (size_t)k->step[k->n_steps - 1].n_risk == k->n;
}

/* The index of the first of f's n (ascending) times >= t; n when none is. */
static size_t followed_first_ge(const struct km_followed *f, size_t n, double t)
{
    size_t i = 0, j = n;
    while (i < j) {
        size_t mid = i + (j - i) / 2;
        if (f[mid].t < t)
            i = mid + 1;
        else
            j = mid;
    }
    return i;
}

long stats_km_followed(const struct km *k, double t)
{
    if (!k || !k->followed || isnan(t))
        return -1;
    size_t i = followed_first_ge(k->followed, k->n_followed, t);
    return i < k->n_followed ? k->followed[i].n : 0;
}

/* The count of steps with time <= t. */
static size_t km_steps_upto(const struct km *k, double t)
{
    size_t a = 0, b = k->n_steps;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (k->step[mid].t <= t)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* On the flat after step a - 1 (S > 0 there, t past its time), past the last censoring c
 * before t (at the step's time or later) fewer are followed than were at risk at the step:
 * how many are followed past c, or -1 when nobody was censored on the flat before t (no
 * widening). */
static long km_flat_followed(const struct km *k, size_t a, double t)
{
    if (a == 0 || !k->n_cens)
        return -1;
    const struct km_step *st = &k->step[a - 1];
    if (!(st->surv > 0) || t == st->t)
        return -1;
    size_t i = followed_first_ge(k->cens, k->n_cens, t);   /* the first censoring >= t */
    if (i == 0 || k->cens[i - 1].t < st->t)
        return -1;
    long nt = i < k->n_cens ? k->cens[i].n : 0;   /* censored past c, then events past t */
    for (size_t e = a; e < k->n_steps; e++)
        nt += k->step[e].n_event;
    return nt;
}

int stats_km_widened(const struct km *k, double t)
{
    if (!k || isnan(t) || !k->n_steps || !k->step)
        return 0;
    return km_flat_followed(k, km_steps_upto(k, t), t) >= 0;
}

void stats_km_at(const struct km *k, double t, double *surv, double *lo, double *hi)
{
    *surv = *lo = *hi = NAN;
    if (!k || isnan(t) || (k->n_steps && !k->step))
        return;
    size_t a = km_steps_upto(k, t);
    /* Where the log-log band does not exist before the first event t1 (S = 1; R gives NA)
     * S's monotonicity still bounds it: S(t) >= S(t1) >= lo(t1). So the nearest band that
     * exists is carried back, a conservative interval rather than none, or a false [1, 1].
     * (The step where S reaches 0 holds its own bound; see stats_km.) */
    if (a == 0 && k->n_steps == 0 && k->followed) {
        /* No events: 0 of the n_t followed to t responded (see stats.h). Only here, not
         * before the first of some events: times are those of *recorded* events, and where
         * an outcome is scored now and then (stress monthly) an event first recorded at t1
         * may have happened long before. Counting everyone at risk before t1 as an observed
         * 0 would then claim precision the schedule never gave (stress by session 3 in the
         * sample: 0 of 189, though none had a stress score by then); the band at t1, carried
         * back, has those late-recorded events in it. With no event at all nothing can have
         * been recorded late. */
        long nt = stats_km_followed(k, t);
        *surv = *hi = 1.0;
        if (nt > 0)
            *lo = pow((1 - k->level) / 2, 1.0 / (double)nt);
        return;
    }
    if (a == 0) {
        if (k->n == 0)
            return;
        *surv = *hi = 1.0;
        *lo = k->n_steps && k->step[0].surv > 0 ? k->step[0].lo : NAN;
        return;
    }
    const struct km_step *st = &k->step[a - 1];
    *surv = st->surv;
    *lo = st->lo;   /* at S = 0 the step holds its bound (stats_km) */
    *hi = st->hi;
    /* Widen as the quantiles' lower limits do (km_q_lo_censored), n those followed past
     * the last censoring on the flat before t. */
    long nt = km_flat_followed(k, a, t);
    if (nt < 0)
        return;
    if (nt == 0) {
        *lo = 0;   /* nobody followed past c */
        return;
    }
    double sg = st->se / st->surv;   /* sqrt(G) */
    *lo = pow(st->surv, exp(z_crit(k->level) * sg * sqrt((double)st->n_risk / (double)nt) /
                             fabs(log(st->surv))));
}

/* ------------------------------------------------------------------ ANCOVA */

int stats_ancova_group(const double *baseline, const double *final, const int *group,
                       size_t n, double level, double *b, double *lo, double *hi, double *p)
{
    *b = *lo = *hi = *p = NAN;
    if (!baseline || !final || !group || n < 4 || !level_ok(level))
        return -1;
    size_t n1 = 0;
    for (size_t i = 0; i < n; i++) {
        if (group[i] != 0 && group[i] != 1)
            return -1;
        n1 += (size_t)group[i];
    }
    if (n1 == 0 || n1 == n)
        return -1;
    int rc = -1;
    gsl_matrix *X = gsl_matrix_alloc(n, 3), *cov = gsl_matrix_alloc(3, 3);
    gsl_vector *y = gsl_vector_alloc(n), *c = gsl_vector_alloc(3);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, 3);
    if (!X || !cov || !y || !c || !w)
        goto out;
    for (size_t i = 0; i < n; i++) {
        gsl_matrix_set(X, i, 0, 1.0);
        gsl_matrix_set(X, i, 1, baseline[i]);
        gsl_matrix_set(X, i, 2, (double)group[i]);
        gsl_vector_set(y, i, final[i]);
    }
    double chisq;
    if (gsl_multifit_linear(X, y, c, cov, &chisq, w) != GSL_SUCCESS)
        goto out;
    /* a constant baseline, or one that determines the group, leaves b2 unidentified */
    if (gsl_multifit_linear_rank(1e-10, w) < 3)
        goto out;
    /* An exact fit leaves residuals of rounding size only: no error variance to test
     * against. Judge "zero" relative to the spread of `final`. */
    double ym = accurate_mean(final, n), tss = 0;
    for (size_t i = 0; i < n; i++)
        tss += (final[i] - ym) * (final[i] - ym);
    /* A constant `final` (tss 0) fits exactly too, whatever rounding leaves in chisq. */
    if (!(tss > 0) || !(chisq > 1e-24 * tss))
        goto out;
    double df = (double)(n - 3);
    double se = sqrt(gsl_matrix_get(cov, 2, 2));   /* GSL scales cov by chisq / df */
    if (!(se > 0) || !isfinite(se))
        goto out;
    double est = gsl_vector_get(c, 2);
    double tq = gsl_cdf_tdist_Pinv(0.5 + level / 2.0, df);
    *b = est;
    *lo = est - tq * se;
    *hi = est + tq * se;
    *p = fmin(1.0, 2.0 * gsl_cdf_tdist_Q(fabs(est / se), df));
    rc = 0;
out:
    gsl_matrix_free(X);
    gsl_matrix_free(cov);
    gsl_vector_free(y);
    gsl_vector_free(c);
    gsl_multifit_linear_free(w);
    return rc;
}
