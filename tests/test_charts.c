/* test_charts.c — every chart renders with real gnuplot (SVG and PNG); hostile text neither
 * breaks a script nor runs anything and prints literally; a missing, failing or hanging
 * gnuplot is an OUT_EIO that leaves the last good chart byte-identical; empty data says
 * "No data"; a million patients stay quick and small. Several gnuplot children at once
 * (gnuplot_run.h's pool) report the first failure in job order, keep their own deadlines,
 * really run side by side and draw the same bytes as one at a time.
 * Set TEST_CHARTS_KEEP=1 to keep the output directory for inspection. */
#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "charts.h"
#include "charts_build.h"
#include "escape.h"
#include "gnuplot_run.h"

static char g_dir[256];

/* ---- helpers ----------------------------------------------------------------------------- */

static uint64_t rng_state = 12345;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}
static double nrand(void)
{
    double u = urand(), v = urand();
    if (u < 1e-300)
        u = 1e-300;
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    fseek(fp, 0, SEEK_END);
    long n = ftell(fp);
    fseek(fp, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, fp) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    fclose(fp);
    if (buf) {
        buf[n] = '\0';
        if (len)
            *len = (size_t)n;
    }
    return buf;
}

static char *path_of(char *buf, size_t n, const char *dir, const char *name, const char *ext)
{
    snprintf(buf, n, "%s/%s%s", dir, name, ext);
    return buf;
}

/* Every '&' in the SVG starts an entity: a bare one would make the file ill-formed XML. */
static int svg_entities_ok(const char *s)
{
    for (const char *p = strchr(s, '&'); p; p = strchr(p + 1, '&'))
        if (strncmp(p, "&amp;", 5) && strncmp(p, "&lt;", 4) && strncmp(p, "&gt;", 4) &&
            strncmp(p, "&quot;", 6) && strncmp(p, "&apos;", 6) && strncmp(p, "&#", 2))
            return 0;
    return 1;
}

/* The SVG's text with the five XML entities decoded, for "appears literally" checks. */
static char *svg_text(const char *s)
{
    char *out = malloc(strlen(s) + 1), *o = out;
    static const struct { const char *ent, *ch; } ents[] = {
        { "&amp;", "&" }, { "&lt;", "<" }, { "&gt;", ">" }, { "&quot;", "\"" }, { "&apos;", "'" },
    };
    while (*s) {
        size_t k;
        for (k = 0; k < 5; k++)
            if (strncmp(s, ents[k].ent, strlen(ents[k].ent)) == 0)
                break;
        if (k < 5) {
            *o++ = ents[k].ch[0];
            s += strlen(ents[k].ent);
        } else
            *o++ = *s++;
    }
    *o = '\0';
    return out;
}

/* Checks the four outputs of chart NAME; returns the SVG text (decoded) or NULL. */
static char *slurp_in(const char *dir, const char *name)
{
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    return slurp(p, NULL);
}

static char *check_rendered(const char *dir, const char *name)
{
    char p[512];
    size_t len = 0;
    char *gp = slurp(path_of(p, sizeof p, dir, name, ".gp"), NULL);
    char *dat = slurp(path_of(p, sizeof p, dir, name, ".dat"), NULL);
    char *svg = slurp(path_of(p, sizeof p, dir, name, ".svg"), &len);
    char *png = slurp(path_of(p, sizeof p, dir, name, ".png"), &len);
    CHECK(gp != NULL);
    CHECK(dat != NULL);
    CHECK(svg != NULL && (strncmp(svg, "<?xml", 5) == 0 || strncmp(svg, "<svg", 4) == 0));
    CHECK(png != NULL && len > 8 && memcmp(png, "\x89PNG\r\n\x1a\n", 8) == 0);
    char *txt = NULL;
    if (gp) {
        char want[256];
        snprintf(want, sizeof want, "datafile = '%s.dat'", name);
        CHECK_CONTAINS(gp, want);   /* relative name: re-renderable in place */
    }
    if (svg) {
        CHECK(svg_entities_ok(svg));
        CHECK(strstr(svg, "href=\"http") == NULL && strstr(svg, "href='http") == NULL);
        txt = svg_text(svg);
    }
    free(gp);
    free(dat);
    free(svg);
    free(png);
    return txt;
}

/* No staging directories left behind in dir. */
static int no_staging_left(const char *dir)
{
    DIR *d = opendir(dir);
    int ok = 1;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (strstr(de->d_name, ".render."))
            ok = 0;
    if (d)
        closedir(d);
    return ok;
}

static void write_exec(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
    chmod(path, 0755);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- synthetic data ------------------------------------------------------------------- */

static double *synth_pct(size_t n)
{
    double *v = malloc(n * sizeof *v);
    for (size_t i = 0; i < n; i++) {
        double base = 3 + floor(urand() * 8), fin = base - 2.4 + 2.2 * nrand();
        fin = nearbyint(fin < 0 ? 0 : fin > 10 ? 10 : fin);
        v[i] = 100 * (base - fin) / base;
    }
    return v;
}

static size_t synth_km(struct chart_step *s, size_t *n_events)
{
    long at_risk = 480;
    double surv = 1, var = 0;
    size_t k = 0;
    *n_events = 0;
    for (int t = 1; t <= 14 && at_risk > 0; t++) {
        long d = (long)(at_risk * (t < 3 ? 0.04 : t < 8 ? 0.13 : 0.06));
        long c = (long)(at_risk * 0.05);
        surv *= 1 - (double)d / (double)at_risk;
        if (at_risk > d)
            var += (double)d / ((double)at_risk * (double)(at_risk - d));
        double se = surv * sqrt(var);
        s[k].t = t;
        s[k].share = 1 - surv;
        s[k].lo = fmax(0, 1 - surv - 1.96 * se);
        s[k].hi = fmin(1, 1 - surv + 1.96 * se);
        s[k].n_risk = at_risk;
        *n_events += (size_t)d;
        at_risk -= d + c;
        k++;
    }
    return k;
}

static const struct chart_forest_row forest_rows[] = {
    { "70% improve", 58.2, 53.1, 63.0, 70, 70, CHART_CONTRADICTED, 412 },
    { "Improvement after 3–6 sessions", 44.0, 39.5, 48.7, 40, 60, CHART_SUPPORTED, 412 },
    { "Most patients pain-free by 12", 21.0, 12.0, 33.0, 50, 100, CHART_INCONCLUSIVE, 38 },
    { "95% satisfaction", NAN, NAN, NAN, 95, 95, CHART_INSUFFICIENT, 4 },
    { "Placebo response (meta-analysis)", 30.0, 26.0, 34.0, NAN, NAN, CHART_BENCHMARK, -1 },
    { "Usual care, 12 weeks", 38.0, 33.0, 43.5, NAN, NAN, CHART_BENCHMARK, -1 },
};

static struct chart_period periods[18];
static char period_labels[18][16];
static size_t synth_periods(void)
{
    for (int i = 0; i < 18; i++) {
        snprintf(period_labels[i], sizeof period_labels[i], "%d-%02d", 2023 + i / 12, i % 12 + 1);
        periods[i].label = period_labels[i];
        periods[i].n = 20 + (long)(urand() * 60);
        double p = i == 7 ? 0.30 : i == 13 ? 0.88 : 0.58;
        long k = 0;
        for (long j = 0; j < periods[i].n; j++)
            k += urand() < p;
        periods[i].k = k;
    }
    periods[4].n = 0;   /* a month nobody was assessed: left out */
    periods[4].k = 0;
    return 18;
}

/* ---- tests ----------------------------------------------------------------------------- */

static void test_esc_gnuplot(void)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    esc_gnuplot(fp, "it's");
    fputc('|', fp);
    esc_gnuplot(fp, "a\nb\tc");
    fputc('|', fp);
    esc_gnuplot(fp, "\\ ` @x ^_{}&~ \" ");
    fputc('|', fp);
    esc_gnuplot(fp, "bad\xff\xc3(\xe2\x82 ok é 😀");
    fputc('|', fp);
    esc_gnuplot(fp, "''x'");   /* leading quotes: gnuplot would read '''' as '' '' */
    fputc('|', fp);
    esc_gnuplot(fp, "'");
    fputc('|', fp);
    esc_gnuplot(fp, "");
    fclose(fp);
    CHECK_STR(buf, "'it''s'|'a b c'|'\\ ` @x ^_{}&~ \" '|'bad?" "?(?? ok é 😀'|"
                   "\"''\" . 'x'''|\"'\"|''");
    free(buf);
}

static void test_every_chart(const char *dir)
{
    struct out_error e = { 0 };
    char *txt;

    double *pct = synth_pct(412);
    struct chart_out o = { .dir = dir, .name = "waterfall", .note = "Clinic A, 2024" };
    CHECK(chart_waterfall(&o, pct, 412, 7, &e) == 0);
    txt = check_rendered(dir, "waterfall");
    CHECK_CONTAINS(txt, "n = 412 patients");
    CHECK_CONTAINS(txt, "7 left out (baseline 0");
    CHECK_CONTAINS(txt, "Clinic A, 2024");
    free(txt);
    free(pct);
    {
        /* A short method note stays on one line. */
        char p[512];
        char *gp = slurp(path_of(p, sizeof p, dir, "waterfall", ".gp"), NULL);
        CHECK(gp && strstr(gp, "set label 1003 ") && !strstr(gp, "set label 1005 "));
        free(gp);
    }

    /* Seven-digit counts make the method note longer than the chart is wide (about 128
     * characters at its font; it was clipped at both ends): it is wrapped at a sentence end
     * onto a second line, and neither line is cut short. */
    {
        size_t big = 1234567;
        double *many = malloc(big * sizeof *many);
        for (size_t i = 0; i < big; i++)
            many[i] = i < 150000 ? -250.0 : (double)(i % 200) - 50.0;
        o = (struct chart_out){ .dir = dir, .name = "waterfall_big" };
        CHECK(chart_waterfall(&o, many, big, 1000000, &e) == 0);
        free(many);
        txt = check_rendered(dir, "waterfall_big");
        free(txt);
        char p[512];
        char *gp = slurp(path_of(p, sizeof p, dir, "waterfall_big", ".gp"), NULL);
        const char *l1 = gp ? strstr(gp, "set label 1003 '") : NULL;
        const char *l2 = gp ? strstr(gp, "set label 1005 '") : NULL;
        CHECK(l1 && l2);
        if (l1 && l2) {
            /* The note is 70 + 1 + 52 + 1 + 35 = 159 characters in three sentences; the
             * first two together make 123, over the 120 a line takes, so the break comes
             * after the first: 70 and 88 characters. */
            static const char w1[] = "set label 1003 'Sampled: bars are 1,000 evenly spaced "
                                     "ranks of the 1,234,567 patients.' at";
            static const char w2[] = "set label 1005 '1,000,000 left out (baseline 0: % change "
                                     "undefined). 150,000 below −100% drawn at −100%.' at";
            CHECK(strncmp(l1, w1, sizeof w1 - 1) == 0);
            CHECK(strncmp(l2, w2, sizeof w2 - 1) == 0);
            CHECK(!strstr(gp, "…"));
        }
        free(gp);
    }

    struct chart_step st[20];
    size_t n_ev;
    size_t ns = synth_km(st, &n_ev);
    o = (struct chart_out){ .dir = dir, .name = "km" };
    CHECK(chart_km(&o, st, ns, 480, n_ev, 16, NULL, 0, &e) == 0);
    txt = check_rendered(dir, "km");
    CHECK_CONTAINS(txt, "Advertised: 3–6 sessions");
    CHECK_CONTAINS(txt, "At risk");
    free(txt);
    /* The window-end labels sit right of the mark, or left of it near the axis's end:
     * the x range is 0..16 (t_max), so 12 is past 0.7 of it and 6 is not. */
    txt = slurp_in(dir, "km.gp");
    CHECK_CONTAINS(txt, " by session 12' at 12, ");
    CHECK_CONTAINS(txt, "offset -0.8,-0.9 right font");
    CHECK_CONTAINS(txt, "offset 0.8,-0.9 left font");
    free(txt);

    /* The band where the log-log one does not exist, as stats_km_at gives it: before the
     * first response (t = 2, share 20% [10, 30]) 0 to 30; once all responded (t = 4, band
     * NAN) from the last lower limit, 10, to 100. */
    struct chart_step two[2] = {{.t = 2, .share = 0.2, .lo = 0.1, .hi = 0.3, .n_risk = 10},
                                {.t = 4, .share = 1, .lo = NAN, .hi = NAN, .n_risk = 2}};
    o = (struct chart_out){ .dir = dir, .name = "km_edges" };
    CHECK(chart_km(&o, two, 2, 10, 10, NAN, NULL, 0, &e) == 0);
    txt = slurp_in(dir, "km_edges.dat");
    CHECK_CONTAINS(txt, "\n0 0 0 30\n2 0 0 30\n2 20 10 30\n4 20 10 30\n4 100 10 100\n");
    free(txt);

    o = (struct chart_out){ .dir = dir, .name = "forest" };
    CHECK(chart_forest(&o, "Patients improved ≥30% (%)", forest_rows,
                       sizeof forest_rows / sizeof forest_rows[0], &e) == 0);
    txt = check_rendered(dir, "forest");
    CHECK_CONTAINS(txt, "contradicted");
    CHECK_CONTAINS(txt, "Published benchmarks");
    CHECK_CONTAINS(txt, "Improvement after 3–6 sessions");
    free(txt);

    size_t np = synth_periods();
    o = (struct chart_out){ .dir = dir, .name = "pchart" };
    CHECK(chart_pchart(&o, periods, np, &e) == 0);
    txt = check_rendered(dir, "pchart");
    CHECK_CONTAINS(txt, "17 months");
    CHECK_CONTAINS(txt, "Month outside limits");
    /* The subtitle holds the numbers and the method line says how the limits are drawn. */
    CHECK_CONTAINS(txt, "outside the limits");
    CHECK_CONTAINS(txt, "3-sigma limits vary with each month");
    free(txt);
    {
        /* 17 months: every outside month's rate printed, in the smaller font. 40 months of
         * alternating 20% and 90% (all far outside): every 2nd month's, as the month tics. */
        char p[512];
        char *gp = slurp(path_of(p, sizeof p, dir, "pchart", ".gp"), NULL);
        CHECK(gp && strstr(gp, "int($1) % 1 == 0") && strstr(gp, "font ',8' tc rgb"));
        free(gp);
        static struct chart_period many[40];
        static char lab[40][16];
        for (int i = 0; i < 40; i++) {
            snprintf(lab[i], sizeof lab[i], "%d-%02d", 2022 + i / 12, i % 12 + 1);
            many[i] = (struct chart_period){ lab[i], 500, i % 2 ? 450 : 100 };
        }
        o = (struct chart_out){ .dir = dir, .name = "pchart40" };
        CHECK(chart_pchart(&o, many, 40, &e) == 0);
        free(check_rendered(dir, "pchart40"));
        gp = slurp(path_of(p, sizeof p, dir, "pchart40", ".gp"), NULL);
        CHECK(gp && strstr(gp, "int($1) % 2 == 0"));
        CHECK(gp && strstr(gp, "40 months outside the limits"));
        free(gp);
    }

    struct chart_point tp[12];
    for (int i = 0; i < 12; i++) {
        tp[i].x = i + 1;
        tp[i].mean = 6.8 - 3.1 * (1 - exp(-i / 3.5));
        tp[i].n = 412 - 30 * i;
        double se = 2.1 / sqrt((double)tp[i].n);
        tp[i].lo = tp[i].mean - 1.96 * se;
        tp[i].hi = tp[i].mean + 1.96 * se;
    }
    o = (struct chart_out){ .dir = dir, .name = "trajectory" };
    CHECK(chart_trajectory(&o, "Session", "Mean pain (0–10 NRS)", tp, 12, &e) == 0);
    txt = check_rendered(dir, "trajectory");
    CHECK_CONTAINS(txt, "n=412");
    free(txt);
    {
        /* Twelve 5-character labels ("n=412") fit under the plot: every point has one. */
        char p[512];
        char *gp = slurp(path_of(p, sizeof p, dir, "trajectory", ".gp"), NULL);
        CHECK_CONTAINS(gp, "every_n = 1\n");
        CHECK_CONTAINS(gp, "n under each point");
        free(gp);
        /* 23 sessions with 7-digit counts: "n=1270000" is 9 characters, 60 / 9 = 6 fit,
         * so every ceil(23 / 6) = 4th point is labelled, and the subtitle says so. */
        struct chart_point big[23];
        for (int i = 0; i < 23; i++) {
            big[i] = tp[i % 12];
            big[i].x = i + 1;
            big[i].n = 1270000 - 50000 * i;
        }
        o = (struct chart_out){ .dir = dir, .name = "trajectory_big" };
        CHECK(chart_trajectory(&o, "Session", "Mean pain", big, 23, &e) == 0);
        gp = slurp(path_of(p, sizeof p, dir, "trajectory_big", ".gp"), NULL);
        CHECK_CONTAINS(gp, "every_n = 4\n");
        CHECK_CONTAINS(gp, "n under every 4th point");
        free(gp);
    }

    double b[412], f[412], ch[412];
    for (int i = 0; i < 412; i++) {
        b[i] = 3 + floor(urand() * 8);
        f[i] = nearbyint(fmin(10, fmax(0, b[i] - 2.4 + 2.2 * nrand())));
        ch[i] = b[i] - f[i];
    }
    o = (struct chart_out){ .dir = dir, .name = "scatter" };
    CHECK(chart_scatter_baseline_final(&o, "pain (0–10 NRS)", 0, 10, 0, b, f, 412, &e) == 0);
    txt = check_rendered(dir, "scatter");
    CHECK_CONTAINS(txt, "improved");
    free(txt);

    o = (struct chart_out){ .dir = dir, .name = "change_hist" };
    CHECK(chart_change_hist(&o, "Change in pain (points, positive = better)", ch, 412, &e) == 0);
    txt = check_rendered(dir, "change_hist");
    CHECK_CONTAINS(txt, "Median");
    free(txt);

    struct chart_group g[] = {
        { "Acupuncture", 2.4, 2.0, 2.8, 250 },
        { "Sham acupuncture", 1.6, 1.1, 2.1, 120 },
        { "Waiting list", 0.3, -0.3, 0.9, 42 },
    };
    o = (struct chart_out){ .dir = dir, .name = "arms" };
    CHECK(chart_arms(&o, "Mean change in pain (points, positive = better)", g, 3, &e) == 0);
    txt = check_rendered(dir, "arms");
    CHECK_CONTAINS(txt, "Sham acupuncture");
    CHECK_CONTAINS(txt, "n = 120");
    free(txt);

    CHECK(no_staging_left(dir));
    if (e.code)
        fprintf(stderr, "last error: %s\n", e.msg);

    /* The script a researcher re-runs in the directory draws the chart again. */
    CHECK(gp_run(NULL, dir, "km.gp", 0, "re-render km", &e) == 0);
}

static void test_empty(const char *dir)
{
    struct out_error e = { 0 };
    struct chart_out o = { .dir = dir };
    char *txt;
#define EMPTY_CASE(nm, call)                                                             \
    do {                                                                                 \
        o.name = nm;                                                                     \
        CHECK((call) == 0);                                                              \
        txt = check_rendered(dir, nm);                                                   \
        CHECK_CONTAINS(txt, "No data");                                                  \
        free(txt);                                                                       \
    } while (0)
    EMPTY_CASE("e_waterfall", chart_waterfall(&o, NULL, 0, 0, &e));
    EMPTY_CASE("e_km", chart_km(&o, NULL, 0, 0, 0, NAN, NULL, 0, &e));
    EMPTY_CASE("e_forest", chart_forest(&o, NULL, NULL, 0, &e));
    EMPTY_CASE("e_pchart", chart_pchart(&o, NULL, 0, &e));
    EMPTY_CASE("e_trajectory", chart_trajectory(&o, NULL, NULL, NULL, 0, &e));
    EMPTY_CASE("e_scatter", chart_scatter_baseline_final(&o, NULL, 0, 10, 0, NULL, NULL, 0, &e));
    EMPTY_CASE("e_hist", chart_change_hist(&o, NULL, NULL, 0, &e));
    EMPTY_CASE("e_arms", chart_arms(&o, NULL, NULL, 0, &e));
    /* Only non-finite values is no data too. */
    double nan1[2] = { NAN, INFINITY };
    EMPTY_CASE("e_waterfall_nan", chart_waterfall(&o, nan1, 2, 3, &e));
#undef EMPTY_CASE
    if (e.code)
        fprintf(stderr, "last error: %s\n", e.msg);
}

static void test_hostile(const char *dir)
{
    char marker[64], bq[128], sys[128], brk[160];
    snprintf(marker, sizeof marker, "/tmp/pwned_%ld", (long)getpid());
    unlink(marker);
    snprintf(bq, sizeof bq, "`touch %s` it's", marker);
    snprintf(sys, sizeof sys, "system(\"touch %s\")", marker);
    snprintf(brk, sizeof brk, "x'; system('touch %s'); print '", marker);
    const char *title = "Clinic \"O'Brien\" \\ back\\slash @at ^hat _sub {braces} & <b>";
    struct out_error e = { 0 };

    struct chart_out o = { .dir = dir, .name = "hostile_wf", .title = title, .note = bq };
    double pct[5] = { 80, 40, 10, -20, 55 };
    CHECK(chart_waterfall(&o, pct, 5, 0, &e) == 0);
    char *txt = check_rendered(dir, "hostile_wf");
    CHECK_CONTAINS(txt, title);
    CHECK_CONTAINS(txt, bq);
    free(txt);

    struct chart_forest_row rows[] = {
        { sys, 50, 40, 60, 70, 70, CHART_CONTRADICTED, 10 },
        { brk, 30, 20, 40, 25, 35, CHART_SUPPORTED, 10 },
        { "line1\nline2 ~{x}^2_i @@", 20, 10, 30, NAN, NAN, CHART_BENCHMARK, -1 },
        { "bad byte \xff here", 20, 10, 30, NAN, NAN, CHART_BENCHMARK, -1 },
    };
    o = (struct chart_out){ .dir = dir, .name = "hostile_forest", .title = sys, .note = brk };
    CHECK(chart_forest(&o, bq, rows, 4, &e) == 0);
    txt = check_rendered(dir, "hostile_forest");
    CHECK_CONTAINS(txt, sys);
    CHECK_CONTAINS(txt, "x'; system('touch /tmp/pwned_");   /* cut to fit, still literal */
    CHECK_CONTAINS(txt, bq);
    CHECK_CONTAINS(txt, "line1 line2 ~{x}^2_i @@");
    CHECK_CONTAINS(txt, "bad byte ? here");
    free(txt);

    struct chart_group g[] = { { bq, 1, 0.5, 1.5, 10 }, { title, 2, 1, 3, 12 },
                               { "'quoted' 50% arm", 1.5, 1, 2, 11 } };
    o = (struct chart_out){ .dir = dir, .name = "hostile_arms", .title = bq };
    CHECK(chart_arms(&o, sys, g, 3, &e) == 0);
    txt = check_rendered(dir, "hostile_arms");
    CHECK_CONTAINS(txt, "'quoted' 50% arm");
    CHECK_CONTAINS(txt, sys);
    CHECK_CONTAINS(txt, bq);
    free(txt);

    struct chart_window w[] = { { 2, 4, sys } };
    struct chart_step st[] = { { 1, 0.1, 0.05, 0.15, 20 }, { 3, 0.4, 0.3, 0.5, 15 } };
    o = (struct chart_out){ .dir = dir, .name = "hostile_km", .title = brk, .note = "'lead" };
    CHECK(chart_km(&o, st, 2, 20, 7, 5, w, 1, &e) == 0);
    txt = check_rendered(dir, "hostile_km");
    CHECK_CONTAINS(txt, sys);
    CHECK_CONTAINS(txt, "'lead");
    CHECK_CONTAINS(txt, brk);
    free(txt);

    struct chart_period p[] = { { "'`id`'", 10, 5 }, { "100%s %d", 12, 7 }, { sys, 9, 3 } };
    o = (struct chart_out){ .dir = dir, .name = "hostile_pchart", .title = title };
    CHECK(chart_pchart(&o, p, 3, &e) == 0);
    txt = check_rendered(dir, "hostile_pchart");
    CHECK_CONTAINS(txt, "'`id`'");
    CHECK_CONTAINS(txt, "100%s %d");
    free(txt);

    o = (struct chart_out){ .dir = dir, .name = "hostile_traj", .title = title };
    struct chart_point tp[] = { { 1, 5, 4, 6, 10 }, { 2, 4, 3, 5, 9 } };
    CHECK(chart_trajectory(&o, bq, sys, tp, 2, &e) == 0);
    txt = check_rendered(dir, "hostile_traj");
    CHECK_CONTAINS(txt, sys);
    free(txt);

    double b[3] = { 5, 6, 7 }, f[3] = { 3, 6, 8 };
    o = (struct chart_out){ .dir = dir, .name = "hostile_scatter", .title = title };
    CHECK(chart_scatter_baseline_final(&o, bq, 0, 10, 0, b, f, 3, &e) == 0);
    free(check_rendered(dir, "hostile_scatter"));
    o = (struct chart_out){ .dir = dir, .name = "hostile_hist", .title = title };
    CHECK(chart_change_hist(&o, sys, pct, 5, &e) == 0);
    free(check_rendered(dir, "hostile_hist"));

    if (e.code)
        fprintf(stderr, "last error: %s\n", e.msg);
    CHECK(access(marker, F_OK) != 0);   /* nothing ran */
    unlink(marker);

    /* A chart name is a file stem, not a path. */
    o = (struct chart_out){ .dir = dir, .name = "../escape" };
    CHECK(chart_waterfall(&o, pct, 5, 0, &e) == OUT_EINTERNAL);
    o.name = "a b";
    CHECK(chart_waterfall(&o, pct, 5, 0, &e) == OUT_EINTERNAL);
    o.name = ".hidden";
    CHECK(chart_waterfall(&o, pct, 5, 0, &e) == OUT_EINTERNAL);
}

/* Snapshot of a chart's four files, to prove a failed render changed nothing. */
struct snap { char *f[4]; size_t len[4]; };
static const char *const exts[4] = { ".gp", ".dat", ".svg", ".png" };
static void snap_take(struct snap *s, const char *dir, const char *name)
{
    char p[512];
    for (int i = 0; i < 4; i++)
        s->f[i] = slurp(path_of(p, sizeof p, dir, name, exts[i]), &s->len[i]);
}
static int snap_same(const struct snap *a, const struct snap *b)
{
    for (int i = 0; i < 4; i++)
        if (!a->f[i] || !b->f[i] || a->len[i] != b->len[i] ||
            memcmp(a->f[i], b->f[i], a->len[i]) != 0)
            return 0;
    return 1;
}
static void snap_free(struct snap *s)
{
    for (int i = 0; i < 4; i++)
        free(s->f[i]);
}

static void test_failures(const char *dir)
{
    struct out_error e = { 0 };
    double pct[6] = { 90, 60, 35, 20, 0, -30 }, pct2[3] = { 10, 20, 30 };
    struct chart_out o = { .dir = dir, .name = "keep" };
    CHECK(chart_waterfall(&o, pct, 6, 0, &e) == 0);
    struct snap before, after;
    snap_take(&before, dir, "keep");

    /* gnuplot named by a path that does not exist */
    o.gnuplot = "/nonexistent/gnuplot";
    memset(&e, 0, sizeof e);
    CHECK(chart_waterfall(&o, pct2, 3, 0, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "chart keep");
    CHECK_CONTAINS(e.msg, "not found");

    /* gnuplot not on PATH */
    char empty[300], old_path[4096];
    snprintf(empty, sizeof empty, "%s/emptybin", dir);
    mkdir(empty, 0755);
    snprintf(old_path, sizeof old_path, "%s", getenv("PATH") ? getenv("PATH") : "");
    setenv("PATH", empty, 1);
    o.gnuplot = NULL;
    memset(&e, 0, sizeof e);
    CHECK(chart_waterfall(&o, pct2, 3, 0, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "not found on PATH");
    setenv("PATH", old_path, 1);

    /* gnuplot fails: the real one, made to choke on an extra command first */
    char fake[400];
    snprintf(fake, sizeof fake, "%s/failing_gnuplot", empty);
    write_exec(fake, "#!/bin/sh\nexec gnuplot -e 'plot no_such_variable' \"$@\"\n");
    o.gnuplot = fake;
    memset(&e, 0, sizeof e);
    CHECK(chart_waterfall(&o, pct2, 3, 0, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "chart keep: gnuplot failed");
    CHECK_CONTAINS(e.msg, "undefined variable");

    /* gnuplot answers as if it had drawn (the session's markers, echoed from its commands)
     * but writes nothing */
    snprintf(fake, sizeof fake, "%s/silent_gnuplot", empty);
    write_exec(fake, "#!/bin/sh\n"
                     "exec sed -un \"s/.*print '\\(outcomes-[a-z]* [0-9]*\\)'$/\\1/p\" >&2\n");
    o.gnuplot = fake;
    memset(&e, 0, sizeof e);
    CHECK(chart_waterfall(&o, pct2, 3, 0, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "wrote no keep.svg");

    /* gnuplot quits with status 0 before the end of the script */
    snprintf(fake, sizeof fake, "%s/quitting_gnuplot", empty);
    write_exec(fake, "#!/bin/sh\nread line\necho 'bye' >&2\nexit 0\n");
    o.gnuplot = fake;
    memset(&e, 0, sizeof e);
    CHECK(chart_waterfall(&o, pct2, 3, 0, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "chart keep: gnuplot quit before the end of the script: bye");

    /* gnuplot hangs: killed at the deadline, with its children (the group) */
    snprintf(fake, sizeof fake, "%s/hanging_gnuplot", empty);
    write_exec(fake, "#!/bin/sh\necho 'warming up' >&2\nsleep 30\n");
    o.gnuplot = fake;
    o.timeout_s = 1;
    double t0 = now_s();
    memset(&e, 0, sizeof e);
    CHECK(chart_waterfall(&o, pct2, 3, 0, &e) == OUT_EIO);
    double took = now_s() - t0;
    CHECK(took < 5);
    CHECK_CONTAINS(e.msg, "timed out after 1 s");

    snap_take(&after, dir, "keep");
    CHECK(snap_same(&before, &after));
    snap_free(&after);
    snap_free(&before);
    CHECK(no_staging_left(dir));

    /* a missing output directory is an I/O error, not a crash */
    o = (struct chart_out){ .dir = "/nonexistent/dir", .name = "x" };
    CHECK(chart_waterfall(&o, pct2, 3, 0, &e) == OUT_EIO);
}

/* Draw the same waterfall, km, forest and arms charts into dir, in a batch or not. */
static void draw_set(const char *dir, struct chart_batch *b, const double *pct,
                     const struct chart_step *st, size_t ns, size_t n_ev, struct out_error *e)
{
    struct chart_out o = { .dir = dir, .name = "s_waterfall", .batch = b };
    CHECK(chart_waterfall(&o, pct, 412, 7, e) == 0);
    o.name = "s_km";
    CHECK(chart_km(&o, st, ns, 480, n_ev, 16, NULL, 0, e) == 0);
    o.name = "s_forest";
    CHECK(chart_forest(&o, "Patients improved ≥30% (%)", forest_rows,
                       sizeof forest_rows / sizeof forest_rows[0], e) == 0);
    struct chart_group g[] = { { "Acupuncture", 2.4, 2.0, 2.8, 250 },
                               { "Waiting list", 0.3, -0.3, 0.9, 42 } };
    o.name = "s_arms";
    CHECK(chart_arms(&o, "Mean change", g, 2, e) == 0);
}

/* A batch draws the same bytes as one chart at a time; with two failing charts (the later
 * one failing first) it reports the first in the order queued, gives each chart its own
 * outcome, leaves a failed chart's previous files as they were, and no staging behind. */
static void test_batch(const char *dir)
{
    struct out_error e = { 0 };
    char seq[300], par[300], p[512], q[512];
    snprintf(seq, sizeof seq, "%s/b_seq", dir);
    snprintf(par, sizeof par, "%s/b_par", dir);
    mkdir(seq, 0755);
    mkdir(par, 0755);
    double *pct = synth_pct(412);
    struct chart_step st[20];
    size_t n_ev, ns = synth_km(st, &n_ev);
    draw_set(seq, NULL, pct, st, ns, n_ev, &e);
    struct chart_batch *b = chart_batch_new(4);
    CHECK(b != NULL);
    if (!b) {
        free(pct);
        return;
    }
    draw_set(par, b, pct, st, ns, n_ev, &e);
    CHECK(chart_batch_finish(b, &e) == 0);
    CHECK(chart_batch_result(b, "s_km", &e) == 0);
    CHECK(chart_batch_result(b, "no_such_chart", &e) == OUT_EINTERNAL);
    chart_batch_free(b);
    static const char *const names[] = { "s_waterfall", "s_km", "s_forest", "s_arms" };
    for (int i = 0; i < 4; i++)
        for (int f = 0; f < 4; f++) {
            size_t la = 0, lb = 0;
            char *x = slurp(path_of(p, sizeof p, seq, names[i], exts[f]), &la);
            char *y = slurp(path_of(q, sizeof q, par, names[i], exts[f]), &lb);
            CHECK(x && y && la == lb && memcmp(x, y, la) == 0);
            free(x);
            free(y);
        }
    CHECK(no_staging_left(par));

    char slow[400], fast[400];
    snprintf(slow, sizeof slow, "%s/slow_failing_gnuplot", par);
    snprintf(fast, sizeof fast, "%s/fast_failing_gnuplot", par);
    write_exec(slow, "#!/bin/sh\nsleep 0.6\nexec gnuplot -e 'plot slow_failure' \"$@\"\n");
    write_exec(fast, "#!/bin/sh\nexec gnuplot -e 'plot fast_failure' \"$@\"\n");
    struct snap before, after;
    snap_take(&before, par, "s_km");
    b = chart_batch_new(4);
    CHECK(b != NULL);
    if (!b) {
        snap_free(&before);
        free(pct);
        return;
    }
    struct chart_out o = { .dir = par, .name = "b_first", .batch = b };
    CHECK(chart_waterfall(&o, pct, 412, 0, &e) == 0);
    o = (struct chart_out){ .dir = par, .name = "s_km", .gnuplot = slow, .batch = b };
    CHECK(chart_km(&o, st, ns, 480, n_ev, 16, NULL, 0, &e) == 0);   /* queued */
    o = (struct chart_out){ .dir = par, .name = "b_middle", .batch = b };
    CHECK(chart_waterfall(&o, pct, 100, 0, &e) == 0);
    o = (struct chart_out){ .dir = par, .name = "b_fast", .gnuplot = fast, .batch = b };
    CHECK(chart_waterfall(&o, pct, 50, 0, &e) == 0);
    o = (struct chart_out){ .dir = par, .name = "b_last", .timeout_s = 5, .batch = b };
    CHECK(chart_waterfall(&o, pct, 20, 0, &e) == 0);
    memset(&e, 0, sizeof e);
    CHECK(chart_batch_finish(b, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "chart s_km: gnuplot failed");
    CHECK_CONTAINS(e.msg, "slow_failure");
    memset(&e, 0, sizeof e);
    CHECK(chart_batch_result(b, "b_fast", &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "chart b_fast: gnuplot failed");
    CHECK_CONTAINS(e.msg, "fast_failure");
    CHECK(chart_batch_result(b, "b_first", &e) == 0);
    CHECK(chart_batch_result(b, "b_middle", &e) == 0);
    CHECK(chart_batch_result(b, "b_last", &e) == 0);
    chart_batch_free(b);
    free(check_rendered(par, "b_first"));
    free(check_rendered(par, "b_middle"));
    free(check_rendered(par, "b_last"));
    CHECK(access(path_of(p, sizeof p, par, "b_fast", ".gp"), F_OK) != 0);
    snap_take(&after, par, "s_km");
    CHECK(snap_same(&before, &after));
    snap_free(&before);
    snap_free(&after);
    CHECK(no_staging_left(par));

    /* Freed before finishing: what still runs is killed and its staging removed. */
    char hang[400];
    snprintf(hang, sizeof hang, "%s/hanging_gnuplot", par);
    write_exec(hang, "#!/bin/sh\nsleep 30\n");
    b = chart_batch_new(2);
    o = (struct chart_out){ .dir = par, .name = "b_abandoned", .gnuplot = hang, .batch = b };
    double t0 = now_s();
    CHECK(b != NULL && chart_waterfall(&o, pct, 20, 0, &e) == 0);
    chart_batch_free(b);
    CHECK(now_s() - t0 < 5);
    CHECK(no_staging_left(par));
    free(pct);
}

static void test_million(const char *dir)
{
    const size_t n = 1000000;
    struct out_error e = { 0 };
    double *pct = synth_pct(n);
    double *b = malloc(n * sizeof *b), *f = malloc(n * sizeof *f), *ch = malloc(n * sizeof *ch);
    for (size_t i = 0; i < n; i++) {
        b[i] = 2 + 8 * urand();   /* continuous: too many distinct pairs for circles */
        f[i] = fmin(10, fmax(0, b[i] - 2.4 + 2.2 * nrand()));
        ch[i] = b[i] - f[i];
    }
    double t0 = now_s();
    struct chart_out o = { .dir = dir, .name = "big_waterfall" };
    CHECK(chart_waterfall(&o, pct, n, 0, &e) == 0);
    char *txt = check_rendered(dir, "big_waterfall");
    CHECK_CONTAINS(txt, "n = 1,000,000 patients");
    CHECK_CONTAINS(txt, "Sampled");
    free(txt);
    o.name = "big_scatter";
    CHECK(chart_scatter_baseline_final(&o, "pain (0–10 NRS)", 0, 10, 0, b, f, n, &e) == 0);
    txt = check_rendered(dir, "big_scatter");
    CHECK_CONTAINS(txt, "Binned");
    free(txt);
    o.name = "big_hist";
    CHECK(chart_change_hist(&o, "Change in pain (points, positive = better)", ch, n, &e) == 0);
    free(check_rendered(dir, "big_hist"));
    double took = now_s() - t0;
    CHECK(took < 20);
    struct stat sb;
    char p[512];
    CHECK(stat(path_of(p, sizeof p, dir, "big_waterfall", ".svg"), &sb) == 0 &&
          sb.st_size < 400000);
    CHECK(stat(path_of(p, sizeof p, dir, "big_scatter", ".dat"), &sb) == 0 &&
          sb.st_size < 100000);
    if (e.code)
        fprintf(stderr, "last error: %s\n", e.msg);
    free(pct);
    free(b);
    free(f);
    free(ch);
}

/* ---- values per patient: order and grouping ---------------------------------------------- */

/* Field col (0-based) of each data line of a .dat, as text; returns the lines read. */
static size_t dat_field(const char *path, int col, char (*out)[32], size_t max)
{
    char *text = slurp(path, NULL), *save = NULL;
    size_t n = 0;
    for (char *line = text ? strtok_r(text, "\n", &save) : NULL; line && n < max;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == '#')
            continue;
        char *f = line;
        for (int c = 0; c < col && f; c++)
            if ((f = strchr(f, ' ')) != NULL)
                f++;
        snprintf(out[n++], sizeof out[0], "%.*s", f ? (int)strcspn(f, " ") : 0, f ? f : "");
    }
    free(text);
    return n;
}

/* Reference order: insertion sort, so values that compare equal (-0.0 and 0.0 too) keep the
 * order they came in, as they did with the stable qsort the charts used. */
static void stable_sort_ref(double *v, size_t n, int desc)
{
    for (size_t i = 1; i < n; i++) {
        double x = v[i];
        size_t j = i;
        for (; j > 0 && (desc ? v[j - 1] < x : v[j - 1] > x); j--)
            v[j] = v[j - 1];
        v[j] = x;
    }
}

/* A waterfall lists every value (up to 2000) or 1000 evenly spaced ranks, in the order of
 * a stable sort from most to least improved: -0.0 and 0.0 keep their input order, below
 * -100 is drawn at -100. A histogram's median is the middle value of that order. */
static void test_exact_order(const char *dir)
{
    struct out_error e = { 0 };
    char p[512];
    static char got[5000][32];
    enum { N1 = 300, N2 = 5000 };
    double *v = malloc(N2 * sizeof *v), *ref = malloc(N2 * sizeof *ref);
    size_t nneg0 = 0, npos0 = 0;
    for (size_t i = 0; i < N1; i++) {
        v[i] = (double)((long)(i * 37 % 41) - 20) * 6.0;   /* -120..120, repeats, zeros */
        /* Zeros at i = 36, 77, 118, ..., 282; signs - + + + - + +: not a palindrome, so a
         * sort that returns the zeros in reverse input order fails too. */
        if (v[i] == 0 && i % 4 == 0)
            v[i] = -0.0;
        nneg0 += v[i] == 0 && signbit(v[i]);
        npos0 += v[i] == 0 && !signbit(v[i]);
    }
    CHECK(nneg0 > 0 && npos0 > 0);   /* the case this test is about is in the data */
    memcpy(ref, v, N1 * sizeof *v);
    stable_sort_ref(ref, N1, 1);
    struct chart_out o = { .dir = dir, .name = "order_all" };
    CHECK(chart_waterfall(&o, v, N1, 0, &e) == 0);
    size_t n = dat_field(path_of(p, sizeof p, dir, "order_all", ".dat"), 1, got, N2);
    CHECK(n == N1);
    size_t bad = 0;
    for (size_t i = 0; i < n && i < N1; i++) {
        char want[32];
        snprintf(want, sizeof want, "%.6g", ref[i] < -100 ? -100 : ref[i]);
        bad += strcmp(got[i], want) != 0;
    }
    CHECK(bad == 0);

    for (size_t i = 0; i < N2; i++)
        v[i] = (double)(i * 7919 % 2003) / 7.0 - 150;
    memcpy(ref, v, N2 * sizeof *v);
    stable_sort_ref(ref, N2, 1);
    o.name = "order_sampled";
    CHECK(chart_waterfall(&o, v, N2, 0, &e) == 0);
    n = dat_field(path_of(p, sizeof p, dir, "order_sampled", ".dat"), 1, got, N2);
    CHECK(n == 1000);
    bad = 0;
    for (size_t k = 0; k < n && k < 1000; k++) {
        char want[32];
        double y = ref[(size_t)(((double)k + 0.5) * N2 / 1000.0)];
        snprintf(want, sizeof want, "%.6g", y < -100 ? -100 : y);
        bad += strcmp(got[k], want) != 0;
    }
    CHECK(bad == 0);

    /* 100 x -1, 60 zeros (at every fifth place), 141 x +1: the median is the 51st zero in
     * input order; the first 30 zeros have one sign, the other 30 the other. */
    for (int neg_last = 0; neg_last < 2; neg_last++) {
        size_t zeros = 0, others = 0;
        for (size_t i = 0; i < 301; i++) {
            if (i % 5 == 2 && zeros < 60)
                v[i] = ((zeros++ < 30) != neg_last) ? -0.0 : 0.0;
            else
                v[i] = others++ < 100 ? -1 : 1;
        }
        o.name = neg_last ? "median_neg" : "median_pos";
        CHECK(chart_change_hist(&o, NULL, v, 301, &e) == 0);
        char *gp = slurp(path_of(p, sizeof p, dir, o.name, ".gp"), NULL);
        CHECK_CONTAINS(gp, neg_last ? "\nmedian = -0\n" : "\nmedian = 0\n");
        free(gp);
    }
    if (e.code)
        fprintf(stderr, "exact order: %s\n", e.msg);
    free(v);
    free(ref);
}

/* Few distinct (baseline, final) pairs: one circle per pair with its count, pairs in order,
 * each written as its first occurrence (-0.0 or 0.0, whichever came first); 600 distinct
 * pairs are still circles, 601 are binned. */
static void test_exact_pairs(const char *dir)
{
    struct out_error e = { 0 };
    char p[512];
    enum { N = 500 };
    double b[N], f[N];
    for (size_t i = 0; i < N; i++) {
        b[i] = (double)(i * 7 % 11);
        f[i] = (double)(i * 5 % 11);
        if (i % 13 == 0) {
            b[i] = i == 0 ? -0.0 : 0.0;   /* the first of them is -0.0, the rest 0.0 */
            f[i] = 5;
        }
    }
    /* Reference: groups by equality in order of first occurrence, then sorted. */
    struct ref_group { double b, f; size_t n; } g[N], t;
    size_t ng = 0;
    for (size_t i = 0; i < N; i++) {
        size_t k = 0;
        while (k < ng && !(g[k].b == b[i] && g[k].f == f[i]))
            k++;
        if (k == ng)
            g[ng++] = (struct ref_group){ b[i], f[i], 0 };
        g[k].n++;
    }
    for (size_t i = 1; i < ng; i++)
        for (size_t j = i; j > 0 && (g[j - 1].b > g[j].b ||
                                     (g[j - 1].b == g[j].b && g[j - 1].f > g[j].f)); j--) {
            t = g[j];
            g[j] = g[j - 1];
            g[j - 1] = t;
        }
    struct chart_out o = { .dir = dir, .name = "pairs" };
    CHECK(chart_scatter_baseline_final(&o, NULL, 0, 10, 0, b, f, N, &e) == 0);
    static char gb[N][32], gf[N][32], gn[N][32];
    path_of(p, sizeof p, dir, "pairs", ".dat");
    size_t n = dat_field(p, 0, gb, N);
    CHECK(dat_field(p, 1, gf, N) == n && dat_field(p, 2, gn, N) == n);
    CHECK(n == ng);
    size_t bad = 0, neg0 = 0;
    for (size_t i = 0; i < n && i < ng; i++) {
        char wb[32], wf[32], wn[32];
        snprintf(wb, sizeof wb, "%.6g", g[i].b);
        snprintf(wf, sizeof wf, "%.6g", g[i].f);
        snprintf(wn, sizeof wn, "%zu", g[i].n);
        bad += strcmp(gb[i], wb) || strcmp(gf[i], wf) || strcmp(gn[i], wn);
        neg0 += strcmp(wb, "-0") == 0;
    }
    CHECK(bad == 0);
    CHECK(neg0 == 1);   /* the (0, 5) circle is written as -0, its first occurrence */

    /* 600 distinct pairs: circles; one more: binned */
    static double bb[601], ff[601];
    for (size_t i = 0; i < 601; i++) {
        bb[i] = (double)(i / 30);
        ff[i] = (double)(i % 30);
    }
    for (size_t extra = 0; extra < 2; extra++) {
        o.name = extra ? "pairs_601" : "pairs_600";
        CHECK(chart_scatter_baseline_final(&o, NULL, 0, 30, 0, bb, ff, 600 + extra, &e) == 0);
        char *txt = check_rendered(dir, o.name);
        CHECK_CONTAINS(txt, extra ? "Binned: 40×40" : "Circle area is proportional");
        free(txt);
    }
    if (e.code)
        fprintf(stderr, "exact pairs: %s\n", e.msg);
}

/* ---- gnuplot sessions (gnuplot_run.h's pool) ---------------------------------------------- */

/* done() callbacks record their order. */
static int done_order[16], n_done;
static void record_done(struct gp_job *j)
{
    if (n_done < 16)
        done_order[n_done++] = (int)(intptr_t)j->arg;
}

static void pool_job(struct gp_job *j, const char *gnuplot, const char *dir, const char *script,
                     const char *what, int idx)
{
    *j = (struct gp_job){ .gnuplot = gnuplot, .dir = dir, .script = script, .what = what,
                          .done = record_done, .arg = (void *)(intptr_t)idx };
}

static void write_text(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    if (fp) {
        fputs(text, fp);
        fclose(fp);
    }
}

/* A real gnuplot script DIR/NAME.gp: BODY, then, if BODY got through, the pid of the gnuplot
 * running it (the parent of system()'s shell) into NAME.out, so a test can tell which
 * session drew which script. */
static void session_script(const char *dir, const char *name, const char *body)
{
    char p[512], text[2048];
    snprintf(text, sizeof text, "%s\nset print '%s.out'\nprint system('echo $PPID')\nset print\n",
             body, name);
    write_text(path_of(p, sizeof p, dir, name, ".gp"), text);
}

/* The pid NAME's script wrote, or 0 when it did not get that far. */
static long session_pid(const char *dir, const char *name)
{
    char p[512];
    char *t = slurp(path_of(p, sizeof p, dir, name, ".out"), NULL);
    long pid = t ? strtol(t, NULL, 10) : 0;
    free(t);
    return pid;
}

/* Open file descriptors of this process, to show that sessions leave none behind. */
static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        n += de->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* No child process of ours, running or unreaped. */
static int no_children(void)
{
    return waitpid(-1, NULL, WNOHANG) == -1 && errno == ECHILD;
}

/* State of process pid from /proc: 0 when it is gone or a zombie (killed, not yet reaped by
 * whoever inherited it), 1 while it still runs. */
static int process_alive(long pid)
{
    char p[64], buf[512];
    snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    FILE *fp = fopen(p, "r");
    if (!fp)
        return 0;
    size_t k = fread(buf, 1, sizeof buf - 1, fp);
    fclose(fp);
    buf[k] = '\0';
    const char *rp = strrchr(buf, ')');
    return rp && rp[1] == ' ' && rp[2] != 'Z' && rp[2] != 'X';
}

/* Two jobs fail, the later one first: the pool reports the first in job order, each job
 * keeps its own message, done() runs in job order, and the good jobs' outputs are there. */
static void test_pool_first_error(const char *dir)
{
    char bin[300];
    snprintf(bin, sizeof bin, "%s/pool_err", dir);
    mkdir(bin, 0755);
    session_script(bin, "ok_a", "pause 0.2");
    session_script(bin, "slow_fail", "pause 0.6\nplot slow_failure");
    session_script(bin, "ok_b", "pause 0.2");
    session_script(bin, "fast_fail", "plot fast_failure");
    session_script(bin, "ok_c", "pause 0.2");
    static const char *const scripts[] = { "ok_a.gp", "slow_fail.gp", "ok_b.gp", "fast_fail.gp",
                                           "ok_c.gp" };
    static const char *const whats[] = { "job 0", "job 1", "job 2", "job 3", "job 4" };
    struct gp_job jobs[5];
    for (int i = 0; i < 5; i++)
        pool_job(&jobs[i], NULL, bin, scripts[i], whats[i], i);
    struct out_error e = { 0 };
    int fds = open_fds();
    n_done = 0;
    CHECK(gp_run_all(jobs, 5, 4, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "job 1: gnuplot failed: \"slow_fail.gp\" line 2: undefined variable: "
                          "slow_failure");
    CHECK(jobs[0].rc == 0 && jobs[2].rc == 0 && jobs[4].rc == 0);
    CHECK(jobs[1].rc == OUT_EIO && jobs[3].rc == OUT_EIO);
    CHECK_CONTAINS(jobs[3].e.msg, "job 3: gnuplot failed: \"fast_fail.gp\" line 1: undefined "
                                  "variable: fast_failure");
    CHECK(n_done == 5);
    for (int i = 0; i < 5 && i < n_done; i++)
        CHECK(done_order[i] == i);
    CHECK(session_pid(bin, "ok_a") > 0);
    CHECK(session_pid(bin, "ok_b") > 0);
    CHECK(session_pid(bin, "ok_c") > 0);
    CHECK(session_pid(bin, "slow_fail") == 0 && session_pid(bin, "fast_fail") == 0);
    CHECK(open_fds() == fds);
    CHECK(no_children());

    /* A job that cannot even start (not found) is reported in its place in the order too. */
    struct gp_job two[2];
    pool_job(&two[0], NULL, bin, "slow_fail.gp", "first", 0);
    pool_job(&two[1], "/nonexistent/gnuplot", bin, "x.gp", "second", 1);
    memset(&e, 0, sizeof e);
    CHECK(gp_run_all(two, 2, 2, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "first: gnuplot failed");
    CHECK_CONTAINS(two[1].e.msg, "second: cannot run gnuplot: '/nonexistent/gnuplot' not found");

    CHECK(gp_parallelism() >= 1 && gp_parallelism() <= GP_PARALLEL_MAX);
}

/* One session draws script after script. A script failing in the middle is that script's
 * error alone: the session draws the next ones (same gnuplot), which start from a clean
 * state. A script that ends gnuplot fails alone too, with gnuplot's exit status and message,
 * and the scripts after it get a new session. Results come in job order; nothing is left. */
static void test_pool_session(const char *dir)
{
    char bin[300];
    snprintf(bin, sizeof bin, "%s/pool_session", dir);
    mkdir(bin, 0755);
    session_script(bin, "s0", "leak = 1\nset title 'left over'");
    session_script(bin, "s1", "plot s1_failure");
    /* a variable or setting surviving from s0 would fail s2 */
    session_script(bin, "s2", "if (exists('leak')) { plot leaked_variable }\n"
                              "if (strlen(GPVAL_TERM) == 0) { plot no_term }\n"
                              "set print 's2.title'\nshow title\nset print");
    session_script(bin, "s3", "print 'about to quit'\nexit status 3");
    session_script(bin, "s4", "");
    session_script(bin, "s5", "");
    static const char *const scripts[] = { "s0.gp", "s1.gp", "s2.gp", "s3.gp", "s4.gp", "s5.gp" };
    struct gp_job jobs[6];
    for (int i = 0; i < 6; i++)
        pool_job(&jobs[i], NULL, bin, scripts[i], scripts[i], i);
    struct out_error e = { 0 };
    int fds = open_fds();
    n_done = 0;
    CHECK(gp_run_all(jobs, 6, 1, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "s1.gp: gnuplot failed: \"s1.gp\" line 1: undefined variable: "
                          "s1_failure");
    CHECK(jobs[0].rc == 0 && jobs[2].rc == 0 && jobs[4].rc == 0 && jobs[5].rc == 0);
    if (jobs[2].rc)
        fprintf(stderr, "s2: %s\n", jobs[2].e.msg);
    CHECK(jobs[1].rc == OUT_EIO && jobs[3].rc == OUT_EIO);
    CHECK_CONTAINS(jobs[3].e.msg, "s3.gp: gnuplot failed (exit 3): about to quit");
    CHECK(n_done == 6);
    for (int i = 0; i < 6 && i < n_done; i++)
        CHECK(done_order[i] == i);
    long p0 = session_pid(bin, "s0"), p2 = session_pid(bin, "s2"), p4 = session_pid(bin, "s4"),
         p5 = session_pid(bin, "s5");
    CHECK(p0 > 0 && p2 == p0);            /* the failure did not end the session */
    CHECK(p4 > 0 && p4 != p0 && p5 == p4);   /* the quit did: a new one took over */
    char p[512];
    char *title = slurp(path_of(p, sizeof p, bin, "s2", ".title"), NULL);
    CHECK(title != NULL && strstr(title, "left over") == NULL);
    free(title);
    CHECK(open_fds() == fds);
    CHECK(no_children());
}

/* A script past its deadline in the middle of a session is killed with the session (and
 * what it started); the scripts after it are drawn by a new session, in order. */
static void test_pool_session_timeout(const char *dir)
{
    char bin[300];
    snprintf(bin, sizeof bin, "%s/pool_session_t", dir);
    mkdir(bin, 0755);
    session_script(bin, "t0", "");
    session_script(bin, "t1", "print 'stuck'\nsystem('sleep 30 & echo $! > t1.pid; wait')");
    session_script(bin, "t2", "");
    static const char *const scripts[] = { "t0.gp", "t1.gp", "t2.gp" };
    struct gp_job jobs[3];
    for (int i = 0; i < 3; i++)
        pool_job(&jobs[i], NULL, bin, scripts[i], scripts[i], i);
    jobs[1].timeout_s = 1;
    struct out_error e = { 0 };
    int fds = open_fds();
    n_done = 0;
    double t0 = now_s();
    CHECK(gp_run_all(jobs, 3, 1, &e) == OUT_EIO);
    CHECK(now_s() - t0 < 6);
    CHECK_CONTAINS(e.msg, "t1.gp: gnuplot timed out after 1 s and was killed");
    CHECK(jobs[0].rc == 0 && jobs[2].rc == 0);
    CHECK(n_done == 3);
    for (int i = 0; i < 3 && i < n_done; i++)
        CHECK(done_order[i] == i);
    long p0 = session_pid(bin, "t0"), p2 = session_pid(bin, "t2");
    CHECK(p0 > 0 && p2 > 0 && p2 != p0);
    char p[512];
    char *pid = slurp(path_of(p, sizeof p, bin, "t1", ".pid"), NULL);
    CHECK(pid != NULL);
    if (pid) {
        long spid = strtol(pid, NULL, 10);
        CHECK(spid > 0);
        for (int i = 0; i < 100 && spid > 0 && process_alive(spid); i++) {
            struct timespec ts = { 0, 10000000 };
            nanosleep(&ts, NULL);
        }
        CHECK(spid > 0 && !process_alive(spid));   /* the group went, not only gnuplot */
        free(pid);
    }
    CHECK(open_fds() == fds);
    CHECK(no_children());
}

/* Each job keeps its own deadline, counted from its own start: a hanging job is killed with
 * its process group at 2 s while a job beside it runs on, and jobs queued behind them (2 s)
 * are not charged for the wait (2 s + 2 s of their own would pass their 3 s). */
static void test_pool_timeouts(const char *dir)
{
    char bin[300];
    snprintf(bin, sizeof bin, "%s/poolbin_t", dir);
    mkdir(bin, 0755);
    session_script(bin, "slow_a", "pause 2");
    session_script(bin, "hang", "system('sleep 30 & echo $! > hang.pid; wait')");
    session_script(bin, "slow_b", "pause 2");
    session_script(bin, "slow_c", "pause 2");
    struct gp_job jobs[4];
    pool_job(&jobs[0], NULL, bin, "slow_a.gp", "slow a", 0);
    pool_job(&jobs[1], NULL, bin, "hang.gp", "hang", 1);
    pool_job(&jobs[2], NULL, bin, "slow_b.gp", "slow b", 2);
    pool_job(&jobs[3], NULL, bin, "slow_c.gp", "slow c", 3);
    jobs[0].timeout_s = 0;   /* the default, 30 s */
    jobs[1].timeout_s = 2;
    jobs[2].timeout_s = 3;   /* starts only when a session frees, after 2 s */
    jobs[3].timeout_s = 3;
    struct out_error e = { 0 };
    n_done = 0;
    double t0 = now_s();
    CHECK(gp_run_all(jobs, 4, 2, &e) == OUT_EIO);
    double took = now_s() - t0;
    CHECK(took < 8);
    CHECK_CONTAINS(e.msg, "hang: gnuplot timed out after 2 s and was killed");
    CHECK(jobs[0].rc == 0);
    CHECK(jobs[2].rc == 0);
    CHECK(jobs[3].rc == 0);
    if (jobs[2].rc || jobs[3].rc)
        fprintf(stderr, "queued jobs: %s | %s\n", jobs[2].e.msg, jobs[3].e.msg);
    CHECK(n_done == 4);
    char p[512];
    char *pid = slurp(path_of(p, sizeof p, bin, "hang", ".pid"), NULL);
    CHECK(pid != NULL);
    if (pid) {
        long gpid = strtol(pid, NULL, 10);
        CHECK(gpid > 0);
        for (int i = 0; i < 100 && gpid > 0 && process_alive(gpid); i++) {
            struct timespec ts = { 0, 10000000 };
            nanosleep(&ts, NULL);
        }
        CHECK(gpid > 0 && !process_alive(gpid));   /* the group went, not only gnuplot */
        free(pid);
    }
    CHECK(no_children());
}

/* Byte-compare NAME.EXT in two directories. */
static int same_file(const char *da, const char *db, const char *name, const char *ext)
{
    char p[512];
    size_t la = 0, lb = 0;
    char *a = slurp(path_of(p, sizeof p, da, name, ext), &la);
    char *b = slurp(path_of(p, sizeof p, db, name, ext), &lb);
    int same = a && b && la == lb && memcmp(a, b, la) == 0;
    free(a);
    free(b);
    return same;
}

/* Sessions really run side by side (each script waits until all three have started; one at
 * a time they would give up), and real charts drawn several to a session, side by side or
 * all in one session, are the same bytes as each drawn by a gnuplot of its own. */
static void test_pool_concurrent(const char *dir)
{
    char bin[300], p[512];
    snprintf(bin, sizeof bin, "%s/poolbin_c", dir);
    mkdir(bin, 0755);
    write_text(path_of(p, sizeof p, bin, "together", ".sh"),
               ": > \"$1.started\"\n"
               "i=0\n"
               "while [ \"$(ls *.started | wc -l)\" -lt 3 ]; do\n"
               "    i=$((i + 1)); [ $i -gt 100 ] && exit 0\n"
               "    sleep 0.05\n"
               "done\n"
               "echo together\n");
    static const char *const scripts[] = { "c0.gp", "c1.gp", "c2.gp" };
    for (int i = 0; i < 3; i++) {
        char name[16], body[200];
        snprintf(name, sizeof name, "c%d", i);
        snprintf(body, sizeof body, "if (system('sh together.sh %s') ne 'together') "
                 "{ plot ran_alone }", name);
        session_script(bin, name, body);
    }
    struct gp_job jobs[3];
    for (int i = 0; i < 3; i++)
        pool_job(&jobs[i], NULL, bin, scripts[i], scripts[i], i);
    struct out_error e = { 0 };
    CHECK(gp_run_all(jobs, 3, 3, &e) == 0);
    if (e.code)
        fprintf(stderr, "pool: %s\n", e.msg);
    long pid[3];
    for (int i = 0; i < 3; i++) {
        char stem[16];
        snprintf(stem, sizeof stem, "c%d", i);
        pid[i] = session_pid(bin, stem);
        CHECK(pid[i] > 0);
    }
    CHECK(pid[0] != pid[1] && pid[1] != pid[2] && pid[0] != pid[2]);

    /* Real gnuplot: redraw test_every_chart's scripts in copies of the directory, four
     * sessions side by side and then all in one, and compare with what the charts drew. */
    static const char *const names[] = { "waterfall", "km", "forest", "pchart", "trajectory",
                                         "scatter", "change_hist", "arms" };
    enum { NN = sizeof names / sizeof names[0] };
    static const unsigned sessions_tried[] = { 4, 1 };
    for (size_t k = 0; k < 2; k++) {
        unsigned sessions = sessions_tried[k];
        char copy[300];
        snprintf(copy, sizeof copy, "%s/redraw%u", dir, sessions);
        mkdir(copy, 0755);
        for (int i = 0; i < NN; i++)
            for (int f = 0; f < 2; f++) {
                size_t len = 0;
                char *text = slurp(path_of(p, sizeof p, dir, names[i], f ? ".dat" : ".gp"),
                                   &len);
                FILE *fp = fopen(path_of(p, sizeof p, copy, names[i], f ? ".dat" : ".gp"),
                                 "wb");
                CHECK(text != NULL && fp != NULL);
                if (text && fp)
                    fwrite(text, 1, len, fp);
                if (fp)
                    fclose(fp);
                free(text);
            }
        char script[NN][64];
        struct gp_job gj[NN];
        for (int i = 0; i < NN; i++) {
            snprintf(script[i], sizeof script[i], "%s.gp", names[i]);
            pool_job(&gj[i], NULL, copy, script[i], names[i], i);
        }
        memset(&e, 0, sizeof e);
        CHECK(gp_run_all(gj, NN, sessions, &e) == 0);
        if (e.code)
            fprintf(stderr, "pool: %s\n", e.msg);
        for (int i = 0; i < NN; i++) {
            CHECK(same_file(dir, copy, names[i], ".svg"));
            CHECK(same_file(dir, copy, names[i], ".png"));
        }
    }
}

/* posix_spawn reports only an errno: the message still says which step failed. */
static void test_spawn_failures(const char *dir)
{
    struct out_error e = { 0 };
    char sub[300], bad[400];
    CHECK(gp_run(NULL, "/nonexistent/dir", "x.gp", 0, "in nowhere", &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "in nowhere: cannot run gnuplot '");
    CHECK_CONTAINS(e.msg, "cannot enter the output directory: No such file or directory");

    snprintf(sub, sizeof sub, "%s/spawnbin", dir);
    mkdir(sub, 0755);
    snprintf(bad, sizeof bad, "%s/not_a_program", sub);
    write_exec(bad, "\x7f" "ELF garbage, not a program\n");
    memset(&e, 0, sizeof e);
    CHECK(gp_run(bad, sub, "x.gp", 0, "garbage", &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "garbage: cannot run gnuplot '");
    CHECK_CONTAINS(e.msg, "exec failed: Exec format error");

    /* stdout goes nowhere, stdin carries the commands, stderr is ours, no arguments */
    char fake[400];
    snprintf(fake, sizeof fake, "%s/echo_gnuplot", sub);
    write_exec(fake, "#!/bin/sh\necho to-stdout\nread line\n"
                     "echo \"args: $# stdin: $line\" >&2\nexit 3\n");
    memset(&e, 0, sizeof e);
    CHECK(gp_run(fake, sub, "s p a c e.gp", 0, "echo", &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "echo: gnuplot failed (exit 3): args: 0 stdin: reset session");

    /* A script name with a control character cannot be sent to a session. */
    memset(&e, 0, sizeof e);
    CHECK(gp_run(NULL, sub, "two\nlines.gp", 0, "newline", &e) == OUT_EINTERNAL);
    CHECK_CONTAINS(e.msg, "newline: script name has control characters");
}

/* Names gnuplot would misread are passed exactly: quotes and spaces in the directory and the
 * script, a leading ~ or -, and a directory with a newline, which no command can name (a
 * session is started in it instead), all through one pool of one session. */
static void test_pool_odd_names(const char *dir)
{
    char plain[300], quote[300], nl[300], p[700];
    snprintf(plain, sizeof plain, "%s/odd_plain", dir);
    snprintf(quote, sizeof quote, "%s/odd 'quoted' dir", dir);
    snprintf(nl, sizeof nl, "%s/odd\nnewline", dir);
    const char *dirs[] = { plain, quote, nl, plain, quote };
    const char *scripts[] = { "plain.gp", "it's a.gp", "~tilde.gp", "-dash.gp", "'lead.gp" };
    for (int i = 0; i < 3; i++)
        mkdir(dirs[i], 0755);
    for (int i = 0; i < 5; i++) {
        char text[300];
        snprintf(text, sizeof text, "set print 'drawn%d.out'\nprint 'ok'\nset print\n", i);
        snprintf(p, sizeof p, "%s/%s", dirs[i], scripts[i]);
        write_text(p, text);
    }
    struct gp_job jobs[5];
    for (int i = 0; i < 5; i++)
        pool_job(&jobs[i], NULL, dirs[i], scripts[i], scripts[i], i);
    struct out_error e = { 0 };
    CHECK(gp_run_all(jobs, 5, 1, &e) == 0);
    if (e.code)
        fprintf(stderr, "odd names: %s\n", e.msg);
    for (int i = 0; i < 5; i++) {
        snprintf(p, sizeof p, "%s/drawn%d.out", dirs[i], i);
        CHECK(access(p, F_OK) == 0);
    }
    CHECK(no_children());
}

/* A batch drawn by one gnuplot session: a chart failing in the middle is reported as that
 * chart's error (the first in call order, with gnuplot's message) and the charts after it
 * are still drawn, by the same session; a chart hanging in the middle is killed at its own
 * deadline and the rest drawn by a new session. Failed charts leave no files; the others
 * are byte for byte what one gnuplot per chart draws. The failure and the hang are added to
 * the commands sent to real gnuplot by a sed in front of it. */
static void test_batch_session(const char *dir)
{
    char seq[300], one[300], wrap[400];
    snprintf(seq, sizeof seq, "%s/bs_seq", dir);
    snprintf(one, sizeof one, "%s/bs_one", dir);
    mkdir(seq, 0755);
    mkdir(one, 0755);
    snprintf(wrap, sizeof wrap, "%s/injecting_gnuplot", one);
    write_exec(wrap, "#!/bin/sh\n"
                     "sed -u -e \"s/load 'c_mid.gp'/&; plot injected_failure/\" \\\n"
                     "       -e \"s/load 'c_hang.gp'/&; pause 30/\" | gnuplot\n");
    double *pct = synth_pct(412);
    static const char *const names[] = { "c_first", "c_mid", "c_after", "c_hang", "c_last" };
    struct out_error e = { 0 };
    for (int i = 0; i < 5; i++) {
        struct chart_out o = { .dir = seq, .name = names[i] };
        CHECK(chart_waterfall(&o, pct, 100 + 50 * (size_t)i, 0, &e) == 0);
    }
    int fds = open_fds();
    struct chart_batch *b = chart_batch_new(1);
    CHECK(b != NULL);
    if (!b) {
        free(pct);
        return;
    }
    double t0 = now_s();
    for (int i = 0; i < 5; i++) {
        struct chart_out o = { .dir = one, .name = names[i], .gnuplot = wrap, .batch = b,
                               .timeout_s = i == 3 ? 2 : 0 };
        CHECK(chart_waterfall(&o, pct, 100 + 50 * (size_t)i, 0, &e) == 0);
    }
    memset(&e, 0, sizeof e);
    CHECK(chart_batch_finish(b, &e) == OUT_EIO);
    CHECK(now_s() - t0 < 10);
    CHECK_CONTAINS(e.msg, "chart c_mid: gnuplot failed: line 0: undefined variable: "
                          "injected_failure");
    memset(&e, 0, sizeof e);
    CHECK(chart_batch_result(b, "c_hang", &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "chart c_hang: gnuplot timed out after 2 s and was killed");
    CHECK(chart_batch_result(b, "c_first", &e) == 0);
    CHECK(chart_batch_result(b, "c_after", &e) == 0);
    CHECK(chart_batch_result(b, "c_last", &e) == 0);
    chart_batch_free(b);
    char p[512];
    for (int i = 0; i < 5; i++)
        for (int f = 0; f < 4; f++) {
            if (i == 1 || i == 3)
                CHECK(access(path_of(p, sizeof p, one, names[i], exts[f]), F_OK) != 0);
            else
                CHECK(same_file(seq, one, names[i], exts[f]));
        }
    CHECK(no_staging_left(one));
    CHECK(open_fds() == fds);
    CHECK(no_children());
    free(pct);
}

static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    char p[600];
    while (d && (de = readdir(d)) != NULL) {
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, de->d_name);
        struct stat sb;
        if (lstat(p, &sb) == 0 && S_ISDIR(sb.st_mode))
            remove_tree(p);
        else
            unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}

/* The KM chart's band is the one the tables print (stats_km_at), also on a flat past a
 * censoring. Freireich's 6-MP arm (test_stats has its published table): after the step at
 * 10 (S = 18/21 16/17 14/15 = .7529412, share 24.70588%, m = 15 at risk, Greenwood
 * G = 3/(21*18) + 1/(17*16) + 1/(15*14)), those followed past the censoring at 10 are 13
 * (11 13 16 17 19 20 22 23 25 32 32 34 35) and past 11 are 12. Dorey-Korn's widened lower
 * limit of S is S^exp(1.959964 sqrt(G 15/n) / |ln S|): .4803217 for n 13 (R's
 * conf.lower = "modified" prints .480321710) and .4665990 for n 12, so the share's upper
 * limit steps from the step's 49.68005% (1 - .503199511, R) to 51.96783% and 53.34010%;
 * its lower limit stays 1 - .8893618 = 11.06382%. Past the last follow-up (35) nobody is
 * followed: the upper limit is 100%. */
static void test_km_flats(const char *dir)
{
    const double t6[] = {6, 6, 6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32, 32,
                         34, 35};
    const int e6[] = {1, 1, 1, 0, 1, 0, 1, 0, 0, 1, 1, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0};
    struct km k;
    CHECK(stats_km(t6, e6, 21, 0.95, &k) == 0);
    size_t n;
    struct chart_step *st = charts_km_steps(&k, &n);
    CHECK(st != NULL);
    /* 7 steps (6 7 10 13 16 22 23) and the 11 distinct censoring times, none before 6:
     * 6 | 7 9 | 10 10 11 | 13 | 16 17 19 20 | 22 | 23 25 32 34 35. */
    static const double want_t[] = {6, 6, 7, 9, 10, 10, 11, 13, 16, 17, 19, 20, 22, 23, 25, 32,
                                    34, 35};
    /* At risk at each vertex: those followed to its time or longer. */
    static const long want_r[] = {21, 21, 17, 16, 15, 15, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 2, 1};
    CHECK(n == 18);
    for (size_t i = 0; st && i < n && i < 18; i++) {
        CHECK_NEAR(st[i].t, want_t[i], 0);
        CHECK(st[i].n_risk == want_r[i]);
    }
    if (st && n == 18) {
        CHECK_NEAR(st[4].hi, 1 - 0.503199511, 1e-9);   /* the step at 10 itself */
        CHECK_NEAR(st[5].share, 1 - 0.7529412, 1e-7);
        CHECK_NEAR(st[5].lo, 1 - 0.8893618352, 1e-9);
        CHECK_NEAR(st[5].hi, 1 - 0.4803217099, 1e-9);
        CHECK_NEAR(st[6].hi, 1 - 0.4665990450, 1e-9);
        CHECK_NEAR(st[6].share, st[4].share, 0);
        CHECK_NEAR(st[17].hi, 1, 0);
        /* Each vertex agrees with what the tables read just past it (the last at its
         * time: at 6 and 10 a censoring's follows the step's). */
        for (size_t i = 0; i < n; i++) {
            if (i + 1 < n && st[i + 1].t == st[i].t)
                continue;
            double s, lo, hi;
            stats_km_at(&k, st[i].t + 0.5, &s, &lo, &hi);
            CHECK_NEAR(st[i].share, 1 - s, 1e-12);
            CHECK_NEAR(st[i].hi, 1 - lo, 1e-12);
        }
        struct out_error e;
        struct chart_out o = { .dir = dir, .name = "km_flats" };
        CHECK(chart_km(&o, st, n, 21, 9, NAN, NULL, 0, &e) == 0);
        char *txt = slurp_in(dir, "km_flats.dat");
        CHECK_CONTAINS(txt, "\n10 24.7059 11.0638 49.68\n10 24.7059 11.0638 51.9678\n"
                            "11 24.7059 11.0638 51.9678\n11 24.7059 11.0638 53.3401\n");
        free(txt);
    }
    free(st);
    /* No steps: nothing to draw. */
    const double t0[] = {3, 5};
    const int e0[] = {0, 0};
    struct km k0;
    CHECK(stats_km(t0, e0, 2, 0.95, &k0) == 0);
    CHECK(charts_km_steps(&k0, &n) == NULL && n == 0);
    stats_km_free(&k0);
    stats_km_free(&k);
}

/* A one-sided claim's bar carries an arrow the way it claims (">= 10" right, "<= 10" left;
 * a range or an exact value none), and a row too small to judge that still has an estimate
 * is drawn, grey, as the table shows it. */
static void test_forest_direction(const char *dir)
{
    static const struct chart_forest_row rows[] = {
        { "few side effects", 18.7, 14.0, 23.0, NAN, 10, CHART_CONTRADICTED, 300 },
        { "some improve", 22.9, 18.0, 28.0, 10, NAN, CHART_SUPPORTED, 297 },
        { "chronic back", 60.0, 31.3, 83.2, 70, NAN, CHART_INSUFFICIENT, 10 },
        { "range", 3, 2, 3, 6, 12, CHART_CONTRADICTED, 297 },
        { "exact", 50, 45, 55, 50, 50, CHART_INCONCLUSIVE, 200 },
        { "no estimate", NAN, NAN, NAN, 95, 95, CHART_INSUFFICIENT, 4 },
    };
    struct out_error e;
    struct chart_out o = { .dir = dir, .name = "forest_dir" };
    CHECK(chart_forest(&o, "x", rows, 6, &e) == 0);
    char *gp = check_rendered(dir, "forest_dir");
    free(gp);
    gp = slurp_in(dir, "forest_dir.gp");
    /* Arrows with heads: from (c, y) to (c +- d, y), one per one-sided row. */
    int right = 0, left = 0, heads = 0;
    for (const char *q = gp; (q = strstr(q, "set arrow ")); q++) {
        const char *eol = strchr(q, '\n');
        const char *h = strstr(q, "head filled");
        if (!h || (eol && h > eol))
            continue;
        double x0, y0, x1, y1;
        const char *f = strstr(q, " from ");
        CHECK(f && sscanf(f, " from %lf, %lf to %lf, %lf", &x0, &y0, &x1, &y1) == 4);
        heads++;
        if (f && x0 == 10 && x1 > x0)
            right++;
        if (f && x0 == 10 && x1 < x0)
            left++;
        if (f && x0 == 70 && x1 > x0)
            right++;
    }
    CHECK(heads == 3 && right == 2 && left == 1);
    CHECK_CONTAINS(gp, "($5==3 ? $1 : 1/0)");   /* the insufficient estimate is plotted */
    CHECK_CONTAINS(gp, "'insufficient data' at screen");   /* and in the legend */
    free(gp);
    char *dat = slurp_in(dir, "forest_dir.dat");
    CHECK_CONTAINS(dat, " 60 31.3 83.2 3\n");
    free(dat);
}

/* A render cut short (gnuplot exits 0 on a full disk) is told from a whole one, so it never
 * replaces the last good picture: the km chart drawn above, whole and cut. */
static void test_picture_complete(const char *dir)
{
    static const char *const ext[] = {"png", "svg"};
    for (int i = 0; i < 2; i++) {
        char whole[600], cut[600];
        snprintf(whole, sizeof whole, "%s/km.%s", dir, ext[i]);
        snprintf(cut, sizeof cut, "%s/km_cut.%s", dir, ext[i]);
        CHECK(chart_picture_complete(whole) == 1);
        size_t len;
        char *b = slurp(whole, &len);
        CHECK(b && len > 4096);
        if (b) {
            size_t keep[] = {len - 4, len / 2, 4096, 0};   /* len - 4: into "</svg>\n" */
            for (size_t k = 0; k < 4; k++) {
                FILE *fp = fopen(cut, "wb");
                CHECK(fp && fwrite(b, 1, keep[k], fp) == keep[k]);
                if (fp)
                    fclose(fp);
                CHECK(chart_picture_complete(cut) == 0);
            }
            remove(cut);
        }
        free(b);
        CHECK(chart_picture_complete(cut) == 0);   /* missing */
    }
}

int main(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/test_charts.XXXXXX");
    if (!mkdtemp(g_dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_esc_gnuplot();
    test_every_chart(g_dir);
    test_km_flats(g_dir);
    test_picture_complete(g_dir);
    test_forest_direction(g_dir);
    test_empty(g_dir);
    test_hostile(g_dir);
    test_failures(g_dir);
    test_pool_first_error(g_dir);
    test_pool_session(g_dir);
    test_pool_session_timeout(g_dir);
    test_pool_timeouts(g_dir);
    test_pool_concurrent(g_dir);
    test_spawn_failures(g_dir);
    test_pool_odd_names(g_dir);
    test_batch(g_dir);
    test_batch_session(g_dir);
    test_exact_order(g_dir);
    test_exact_pairs(g_dir);
    test_million(g_dir);
    const char *keep = getenv("TEST_CHARTS_KEEP");
    if (keep && *keep == '1')
        fprintf(stderr, "charts kept in %s\n", g_dir);
    else
        remove_tree(g_dir);
    return TEST_END("test_charts");
}
