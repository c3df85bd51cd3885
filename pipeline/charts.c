/* charts.c — see charts.h.
 *
 * Each chart function turns its data into a small NAME.dat (numbers only: input text goes
 * into the script, through esc_gnuplot, never into the data file) and a NAME.gp that draws
 * it twice, to SVG and PNG. Everything is written into a private staging directory beside
 * the outputs, gnuplot draws it there (a session cds into the staging directory and loads
 * NAME.gp, as `gnuplot NAME.gp` run there would), and the four files are renamed into place
 * only when it succeeded: renaming them one by one out of the staging directory is as atomic as
 * outfile.h, and it lets the render use the final relative names, so the script a
 * researcher re-runs is exactly the one that drew the chart.
 */
#include "charts.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "escape.h"
#include "gnuplot_run.h"
#include "stats.h"

/* Okabe–Ito: distinguishable with the common colour-vision deficiencies. */
#define OI_BLACK "#000000"
#define OI_ORANGE "#E69F00"
#define OI_SKY "#56B4E9"
#define OI_GREEN "#009E73"
#define OI_YELLOW "#F0E442"
#define OI_BLUE "#0072B2"
#define OI_VERMILLION "#D55E00"
#define OI_PURPLE "#CC79A7"
#define OI_GREY "#999999"

#define CHART_W 800
#define CHART_H 480
#define MAX_BARS 2000      /* above this many patients a waterfall is sampled */
#define SAMPLED_BARS 1000   /* the method note says "1,000" */

const struct chart_window chart_claim_windows[2] = {
    { 3, 6, "Advertised: 3–6 sessions" },
    { 6, 12, "6–12 sessions" },
};

/* ---- small text helpers ---------------------------------------------------------------- */

/* Thousands separators: "1,000,000" reads at a glance in a subtitle. */
static const char *fmt_count(char *buf, size_t n, double v)
{
    char digits[32];
    snprintf(digits, sizeof digits, "%.0f", fabs(v));
    size_t len = strlen(digits), o = 0;
    if (v < 0 && o + 1 < n)
        buf[o++] = '-';
    for (size_t i = 0; i < len && o + 2 < n; i++) {
        if (i > 0 && (len - i) % 3 == 0)
            buf[o++] = ',';
        buf[o++] = digits[i];
    }
    buf[o] = '\0';
    return buf;
}

/* Write s as a gnuplot string of at most maxchars characters (code points), ending in "…"
 * when cut, so a long clinic name cannot push a title off the canvas. Tic labels are
 * printf formats to gnuplot ("%g" would print the tic's position, a stray "%" fails the
 * whole script), so for them a % is doubled. */
static void put_text_ex(FILE *fp, const char *s, size_t maxchars, int tic)
{
    if (!s)
        s = "";
    size_t chars = 0, cut = strlen(s), pct = 0;
    for (size_t i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xc0) != 0x80) {
            if (chars == maxchars - 1)
                cut = i;
            chars++;
        }
    }
    if (chars <= maxchars)
        cut = strlen(s);
    for (size_t i = 0; i < cut; i++)
        pct += s[i] == '%';
    char *t = malloc(cut + (tic ? pct : 0) + 4);
    if (!t) {
        esc_gnuplot(fp, "");
        return;
    }
    size_t o = 0;
    for (size_t i = 0; i < cut; i++) {
        if (tic && s[i] == '%')
            t[o++] = '%';
        t[o++] = s[i];
    }
    t[o] = '\0';
    if (chars > maxchars)
        memcpy(t + o, "…", 4);   /* 3 bytes of UTF-8 and the terminator */
    esc_gnuplot(fp, t);
    free(t);
}

static void put_text(FILE *fp, const char *s, size_t maxchars)
{
    put_text_ex(fp, s, maxchars, 0);
}

static void put_tic(FILE *fp, const char *s, size_t maxchars)
{
    put_text_ex(fp, s, maxchars, 1);
}

static int valid_name(const char *s)
{
    if (!s || !*s || *s == '.' || strlen(s) > 100)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '_' || *s == '-' || *s == '.'))
            return 0;
    return 1;
}

static int cmp_desc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x < y) - (x > y);
}

static int cmp_asc(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* ---- sorting a value per patient ------------------------------------------------------- */

static void reverse(double *v, size_t n)
{
    for (size_t i = 0, j = n; i + 1 < j; i++, j--) {
        double t = v[i];
        v[i] = v[j - 1];
        v[j - 1] = t;
    }
}

/* Sort finite values ascending (desc: descending) exactly as qsort with cmp_asc (cmp_desc)
 * did: glibc's qsort is a stable merge sort, and stats_sort is the same stable order in
 * linear time (values comparing equal, -0.0 and +0.0 among them, keep their input order).
 * Descending is the ascending stable sort of the reversed input, reversed: ties come back
 * in input order. qsort when out of memory. */
static void sort_doubles(double *v, size_t n, int desc)
{
    if (desc)
        reverse(v, n);
    int rc = stats_sort(v, n, NULL);
    if (desc)
        reverse(v, n);
    if (rc)
        qsort(v, n, sizeof *v, desc ? cmp_desc : cmp_asc);
}

/* A tick step of 1, 2 or 5 times a power of ten giving at most max_ticks intervals. */
static double nice_step(double span, int max_ticks)
{
    if (!(span > 0))
        return 1;
    double raw = span / max_ticks, p = pow(10, floor(log10(raw)));
    double m[] = { 1, 2, 5, 10 };
    for (size_t i = 0; i < 4; i++)
        if (m[i] * p >= raw)
            return m[i] * p;
    return 10 * p;
}

/* ---- a render job: staging directory, script, data, gnuplot, rename ----------------- */

enum { F_GP, F_DAT, F_SVG, F_PNG, F__COUNT };
static const char *const f_ext[F__COUNT] = { ".gp", ".dat", ".svg", ".png" };

struct job {
    const struct chart_out *o;
    char stage[4096];
    char script[200], what[200];   /* "NAME.gp" and "chart NAME", once sealed */
    FILE *gp, *dat;
    int height;
    int stage_made;
};

static int job_path(const struct job *j, char *buf, size_t n, const char *dir, int f)
{
    return snprintf(buf, n, "%s/%s%s", dir, j->o->name, f_ext[f]) < (int)n ? 0 : -1;
}

static void job_cleanup(struct job *j)
{
    if (j->gp)
        fclose(j->gp);
    if (j->dat)
        fclose(j->dat);
    j->gp = j->dat = NULL;
    if (j->stage_made) {
        char p[4200];
        for (int f = 0; f < F__COUNT; f++)
            if (job_path(j, p, sizeof p, j->stage, f) == 0)
                unlink(p);
        rmdir(j->stage);
        j->stage_made = 0;
    }
}

static size_t utf8_chars(const char *s)
{
    size_t c = 0;
    for (; s && *s; s++)
        c += ((unsigned char)*s & 0xc0) != 0x80;
    return c;
}

/* Common look: the terminal for the SVG pass, palette, axes, grid, and a header of up to
 * three lines: the title; the caller's note and our subtitle (the n and headline numbers);
 * and a method note (how the data were sampled or binned, what was left out). The header
 * sits above the plot, where no key or axis label can collide with it. The script is
 * self-contained; only `datafile` ties it to its data. */
/* A method line at font 9 shows about 128 characters on the chart's width (centred, so a
 * longer one is clipped at both ends): longer notes are wrapped onto a second line. */
enum { METHOD_CHARS = 120 };

/* Byte offset of the space where a method note of more than METHOD_CHARS characters is
 * wrapped: the last sentence end (". ") within the limit, else the last space, or its length
 * when it fits or has no space. */
static size_t method_break(const char *s)
{
    size_t chars = 0, cut = strlen(s), sentence = 0;
    if (utf8_chars(s) <= METHOD_CHARS)
        return cut;
    for (size_t i = 0; s[i] && chars <= METHOD_CHARS; i++) {
        if (s[i] == ' ') {
            cut = i;
            if (i && s[i - 1] == '.')
                sentence = i;
        }
        chars += ((unsigned char)s[i] & 0xc0) != 0x80;
    }
    return sentence ? sentence : cut;
}

static void job_preamble(struct job *j, const char *def_title, const char *subtitle,
                         const char *method)
{
    FILE *g = j->gp;
    const char *nm = j->o->name;
    if (method && !*method)
        method = NULL;
    int has_method = method != NULL;
    size_t brk = method ? method_break(method) : 0;
    int two_lines = method && method[brk] != '\0';
    fprintf(g, "# %s.gp — drawn by outcomes. Edit and redraw with `gnuplot %s.gp` in this\n"
               "# directory: it reads %s.dat and writes %s.svg and %s.png.\n"
               "# Labels use noenhanced so text from the data prints exactly as written.\n",
            nm, nm, nm, nm, nm);
    fprintf(g, "datafile = '%s.dat'\n", nm);
    fputs("set encoding utf8\n", g);
    fprintf(g, "set terminal svg size %d,%d dynamic font 'sans,12' noenhanced "
               "background '#ffffff'\n", CHART_W, j->height);
    fprintf(g, "set output '%s.svg'\n", nm);
    fputs("# Okabe–Ito palette (colour-blind safe)\n", g);
    const char *lt[] = { OI_BLUE, OI_VERMILLION, OI_GREEN, OI_ORANGE, OI_SKY, OI_PURPLE,
                         OI_YELLOW, OI_BLACK };
    for (int i = 0; i < 8; i++)
        fprintf(g, "set linetype %d lc rgb '%s' lw 2 pt 7 ps 1\n", i + 1, lt[i]);
    fprintf(g, "set border 3 lc rgb '#444444'\n"
               "set tics nomirror out scale 0.6\n"
               "set grid ytics lc rgb '#e4e4e4' lw 1 dt solid\n"
               "set grid back\n"
               "set key noopaque font ',10' samplen 2 spacing 1.1\n"
               "set style textbox opaque noborder margins 1,1\n"
               "set tmargin %.1f\n", two_lines ? 6.9 : has_method ? 6.0 : 4.8);
    fputs("set label 1001 ", g);
    put_text(g, j->o->title ? j->o->title : def_title, 80);
    fputs(" at screen 0.5, screen 1 offset 0,-1.2 center font ',15'\n", g);
    fputs("set label 1002 ", g);
    /* One line at font 10 holds about 128 characters; the note gets what ours leave. */
    if (j->o->note && *j->o->note) {
        size_t used = utf8_chars(subtitle) + 3;
        size_t room = used < 128 ? 128 - used : 0;
        put_text(g, j->o->note, room > 60 ? 60 : room < 16 ? 16 : room);
        fputs(" . ' · ' . ", g);
    }
    put_text(g, subtitle, 110);
    fputs(" at screen 0.5, screen 1 offset 0,-2.6 center font ',10' tc rgb '#444444'\n", g);
    if (method) {
        char first[512];
        size_t n = brk < sizeof first ? brk : sizeof first - 1;
        memcpy(first, method, n);
        first[n] = '\0';
        fputs("set label 1003 ", g);
        put_text(g, first, METHOD_CHARS);
        fputs(" at screen 0.5, screen 1 offset 0,-3.75 center font ',9' tc rgb '#666666'\n", g);
        if (two_lines) {
            fputs("set label 1005 ", g);
            put_text(g, method + brk + 1, METHOD_CHARS);
            fputs(" at screen 0.5, screen 1 offset 0,-4.65 center font ',9' tc rgb '#666666'\n",
                  g);
        }
    }
}

static void job_nodata(struct job *j)
{
    fputs("set xrange [0:1]\nset yrange [0:1]\nunset xtics\nunset ytics\nunset grid\n"
          "set border 15 lc rgb '#bbbbbb'\n"
          "set label 1004 'No data' at graph 0.5, graph 0.5 center font ',16' "
          "tc rgb '#666666'\n"
          "# -1 lies outside the y range: an empty frame with the message\n"
          "plot -1 notitle\n", j->gp);
    fputs("# (no data)\n", j->dat);
}

static int job_begin(struct job *j, const struct chart_out *o, int height, struct out_error *e)
{
    memset(j, 0, sizeof *j);
    j->o = o;
    j->height = height;
    if (!o || !o->dir || !valid_name(o->name))
        return out_err(e, OUT_EINTERNAL, "", 0, 0,
                       "chart name '%s' is not a plain file stem (letters, digits, _ - .)",
                       o && o->name ? o->name : "(null)");
    /* The staging directory is a sibling of the outputs so the final renames stay on one
     * file system; its dot-name keeps it out of a casual listing while it exists. */
    if (snprintf(j->stage, sizeof j->stage, "%s/.%s.render.XXXXXX", o->dir, o->name) >=
        (int)sizeof j->stage)
        return out_err(e, OUT_EIO, o->dir, 0, 0, "chart %s: path too long", o->name);
    if (!mkdtemp(j->stage))
        return out_err(e, OUT_EIO, o->dir, 0, 0, "chart %s: cannot create a staging "
                       "directory: %s", o->name, strerror(errno));
    j->stage_made = 1;
    char p[4200];
    job_path(j, p, sizeof p, j->stage, F_GP);
    /* Close-on-exec ("e"): gnuplot sessions started meanwhile must not hold them open. */
    j->gp = fopen(p, "we");
    job_path(j, p, sizeof p, j->stage, F_DAT);
    j->dat = fopen(p, "we");
    if (!j->gp || !j->dat) {
        int err = errno;
        job_cleanup(j);
        return out_err(e, OUT_EIO, o->dir, 0, 0, "chart %s: cannot write: %s", o->name,
                       strerror(err));
    }
    return 0;
}

static int close_synced(FILE *fp)
{
    int bad = ferror(fp) || fflush(fp) != 0 || fsync(fileno(fp)) != 0;
    return (fclose(fp) != 0 || bad) ? -1 : 0;
}

static int sync_path(const char *p)
{
    int fd = open(p, O_RDONLY);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

/* Finish the script with the PNG pass and make the script and data durable. */
static int job_seal(struct job *j, struct out_error *e)
{
    const char *nm = j->o->name;
    fprintf(j->gp,
            "# PNG: pngcairo draws smoother text; plain png where gnuplot lacks cairo\n"
            "if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
            "    set terminal pngcairo size %d,%d font 'sans,12' noenhanced background '#ffffff'\n"
            "} else {\n"
            "    set terminal png size %d,%d font 'sans,12' noenhanced background '#ffffff'\n"
            "}\n"
            "set output '%s.png'\n"
            "replot\n"
            "unset output\n",
            CHART_W, j->height, CHART_W, j->height, nm);
    int bad_gp = close_synced(j->gp), bad_dat = close_synced(j->dat);
    j->gp = j->dat = NULL;
    if (bad_gp || bad_dat)
        return out_err(e, OUT_EIO, j->o->dir, 0, 0, "chart %s: cannot write its script or data",
                       nm);
    snprintf(j->script, sizeof j->script, "%s.gp", nm);
    snprintf(j->what, sizeof j->what, "chart %s", nm);
    return 0;
}

/* After gnuplot succeeded: check both pictures were written, make them durable, and move
 * the four files into place. */
int chart_picture_complete(const char *path)
{
    size_t n = strlen(path);
    int png = n >= 4 && strcmp(path + n - 4, ".png") == 0;
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return 0;
    unsigned char tail[256];
    size_t got = 0;
    long size = -1;
    if (fseek(fp, 0, SEEK_END) == 0 && (size = ftell(fp)) > 0 &&
        fseek(fp, size > (long)sizeof tail ? size - (long)sizeof tail : 0, SEEK_SET) == 0)
        got = fread(tail, 1, sizeof tail, fp);
    fclose(fp);
    if (png) {   /* the IEND chunk: length 0, type, CRC */
        static const unsigned char iend[12] = {0, 0, 0, 0, 'I', 'E', 'N', 'D',
                                               0xAE, 0x42, 0x60, 0x82};
        return got >= 12 && memcmp(tail + got - 12, iend, 12) == 0;
    }
    for (size_t i = 0; i + 6 <= got; i++)
        if (memcmp(tail + i, "</svg>", 6) == 0)
            return 1;
    return 0;
}

static int job_commit(struct job *j, struct out_error *e)
{
    const char *nm = j->o->name;
    char src[4200], dst[4200];
    for (int f = F_SVG; f <= F_PNG; f++) {
        FILE *fp;
        long size = -1;
        job_path(j, src, sizeof src, j->stage, f);
        if ((fp = fopen(src, "rb")) != NULL) {
            if (fseek(fp, 0, SEEK_END) == 0)
                size = ftell(fp);
            fclose(fp);
        }
        if (size <= 0 || sync_path(src) != 0)
            return out_err(e, OUT_EIO, "", 0, 0, "chart %s: gnuplot exited cleanly but wrote "
                           "no %s%s", nm, nm, f_ext[f]);
        /* gnuplot exits 0 when the disk fills mid-picture: a cut-off PNG must not replace
         * the last good one. */
        if (!chart_picture_complete(src))
            return out_err(e, OUT_EIO, "", 0, 0, "chart %s: %s%s is cut short (disk full?)",
                           nm, nm, f_ext[f]);
    }
    /* The pictures last: whoever sees a new SVG finds the script and data that drew it. */
    static const int order[F__COUNT] = { F_DAT, F_GP, F_PNG, F_SVG };
    for (int i = 0; i < F__COUNT; i++) {
        job_path(j, src, sizeof src, j->stage, order[i]);
        if (job_path(j, dst, sizeof dst, j->o->dir, order[i]) != 0 || rename(src, dst) != 0)
            return out_err(e, OUT_EIO, "", 0, 0, "chart %s: cannot move %s%s into %s: %s", nm,
                           nm, f_ext[order[i]], j->o->dir, strerror(errno));
    }
    return 0;
}

static int oom(const struct chart_out *o, struct out_error *e)
{
    return out_err(e, OUT_EINTERNAL, "", 0, 0, "chart %s: out of memory",
                   o && o->name ? o->name : "?");
}

/* ---- a batch: renders queued on a gnuplot pool, committed in the order queued -------- */

struct queued {
    struct job j;           /* sealed; j.o points at o below */
    struct chart_out o;     /* the caller's, with dir, name and gnuplot copied */
    char *dir, *gnuplot, name[128];
    struct gp_job g;
    int finished, rc;
    struct out_error e;
};

struct chart_batch {
    struct gp_pool *pool;
    struct queued **q;
    size_t n, cap;
};

struct chart_batch *chart_batch_new(unsigned max_running)
{
    struct chart_batch *b = calloc(1, sizeof *b);
    if (b && !(b->pool = gp_pool_new(max_running))) {
        free(b);
        b = NULL;
    }
    return b;
}

/* The pool calls this in the order queued, so commits (renames) happen in that order. */
static void queued_done(struct gp_job *g)
{
    struct queued *q = g->arg;
    q->rc = g->rc;
    if (q->rc)
        q->e = g->e;
    else
        q->rc = job_commit(&q->j, &q->e);
    job_cleanup(&q->j);
    q->finished = 1;
}

static void queued_free(struct queued *q)
{
    if (!q)
        return;
    job_cleanup(&q->j);
    free(q->dir);
    free(q->gnuplot);
    free(q);
}

/* Take over a sealed job: it no longer needs the caller's chart_out, and its staging
 * directory is the batch's to remove. */
static int job_queue(struct job *j, struct out_error *e)
{
    struct chart_batch *b = j->o->batch;
    struct queued *q = calloc(1, sizeof *q);
    if (q && b->n == b->cap) {
        size_t ncap = b->cap ? b->cap * 2 : 16;
        struct queued **nq = realloc(b->q, ncap * sizeof *nq);
        if (nq) {
            b->q = nq;
            b->cap = ncap;
        }
    }
    if (q) {
        q->dir = strdup(j->o->dir);
        q->gnuplot = j->o->gnuplot ? strdup(j->o->gnuplot) : NULL;
        snprintf(q->name, sizeof q->name, "%s", j->o->name);
    }
    if (!q || b->n == b->cap || !q->dir || (j->o->gnuplot && !q->gnuplot)) {
        int rc = oom(j->o, e);
        job_cleanup(j);
        queued_free(q);
        return rc;
    }
    q->o = (struct chart_out){ .dir = q->dir, .name = q->name, .gnuplot = q->gnuplot,
                               .timeout_s = j->o->timeout_s };
    q->j = *j;
    q->j.o = &q->o;
    j->stage_made = 0;   /* q owns the staging directory now */
    q->g = (struct gp_job){ .gnuplot = q->gnuplot, .dir = q->j.stage, .script = q->j.script,
                            .what = q->j.what, .timeout_s = q->o.timeout_s,
                            .done = queued_done, .arg = q };
    b->q[b->n++] = q;
    int rc = gp_pool_add(b->pool, &q->g, e);
    if (rc)
        queued_free(b->q[--b->n]);
    return rc;
}

int chart_batch_finish(struct chart_batch *b, struct out_error *e)
{
    gp_pool_wait(b->pool, NULL);
    for (size_t i = 0; i < b->n; i++)
        if (b->q[i]->rc) {
            *e = b->q[i]->e;
            return b->q[i]->rc;
        }
    return 0;
}

int chart_batch_result(const struct chart_batch *b, const char *name, struct out_error *e)
{
    for (size_t i = b->n; i-- > 0;)
        if (strcmp(b->q[i]->name, name) == 0) {
            if (!b->q[i]->finished)
                break;
            if (b->q[i]->rc)
                *e = b->q[i]->e;
            return b->q[i]->rc;
        }
    return out_err(e, OUT_EINTERNAL, "", 0, 0, "chart %s: not rendered in this batch", name);
}

void chart_batch_free(struct chart_batch *b)
{
    if (!b)
        return;
    gp_pool_free(b->pool);   /* kills what still runs; their staging goes below */
    for (size_t i = 0; i < b->n; i++)
        queued_free(b->q[i]);
    free(b->q);
    free(b);
}

/* Seal the script, render (or queue the render), and move the four files into place. The
 * job is cleaned up whatever happens (a queued one by its batch). */
static int job_finish(struct job *j, struct out_error *e)
{
    int rc = job_seal(j, e);
    if (rc == 0 && j->o->batch)
        return job_queue(j, e);
    if (rc == 0)
        rc = gp_run(j->o->gnuplot, j->stage, j->script, j->o->timeout_s, j->what, e);
    if (rc == 0)
        rc = job_commit(j, e);
    job_cleanup(j);
    return rc;
}

/* ---- waterfall ------------------------------------------------------------------------- */

int chart_waterfall(const struct chart_out *o, const double *pct, size_t n,
                    size_t n_zero_baseline, struct out_error *e)
{
    struct job j;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return oom(o, e);
    size_t m = 0, n_bad = 0, n_clip = 0, cnt[4] = { 0, 0, 0, 0 };
    for (size_t i = 0; i < n; i++) {
        if (isfinite(pct[i]))
            v[m++] = pct[i];
        else
            n_bad++;
    }
    sort_doubles(v, m, 1);
    for (size_t i = 0; i < m; i++) {
        cnt[v[i] >= 50 ? 0 : v[i] >= 30 ? 1 : v[i] >= 0 ? 2 : 3]++;
        n_clip += v[i] < -100;
    }
    int rc = job_begin(&j, o, CHART_H, e);
    if (rc) {
        free(v);
        return rc;
    }
    char sub[300], foot[400], a[32], b[32];
    size_t fo = 0;
    foot[0] = '\0';
    if (m == 0)
        snprintf(sub, sizeof sub, "No patients with a percent change");
    else
        snprintf(sub, sizeof sub, "n = %s patients · %.0f%% improved by at least 30%%, "
                 "%.0f%% by at least 50%%", fmt_count(a, sizeof a, (double)m),
                 100.0 * (double)(cnt[0] + cnt[1]) / (double)m,
                 100.0 * (double)cnt[0] / (double)m);
    if (m > MAX_BARS)
        fo += (size_t)snprintf(foot + fo, sizeof foot - fo, "Sampled: bars are 1,000 evenly "
                               "spaced ranks of the %s patients. ",
                               fmt_count(a, sizeof a, (double)m));
    if (n_zero_baseline && fo < sizeof foot)
        fo += (size_t)snprintf(foot + fo, sizeof foot - fo, "%s left out (baseline 0: "
                               "%% change undefined). ",
                               fmt_count(b, sizeof b, (double)n_zero_baseline));
    if (n_bad && fo < sizeof foot)
        fo += (size_t)snprintf(foot + fo, sizeof foot - fo, "%s without a value. ",
                               fmt_count(b, sizeof b, (double)n_bad));
    if (n_clip && fo < sizeof foot)
        snprintf(foot + fo, sizeof foot - fo, "%s below −100%% drawn at −100%%.",
                 fmt_count(b, sizeof b, (double)n_clip));
    job_preamble(&j, "Improvement per patient", sub, foot);
    if (m == 0) {
        job_nodata(&j);
        free(v);
        return job_finish(&j, e);
    }

    size_t bars = m > MAX_BARS ? SAMPLED_BARS : m;
    fputs("# x = rank percentile, y = % improvement (clipped at -100), band: 0 >=50, 1 30-50, "
          "2 0-30, 3 worse\n", j.dat);
    for (size_t k = 0; k < bars; k++) {
        size_t idx = bars == m ? k : (size_t)(((double)k + 0.5) * (double)m / (double)bars);
        double y = v[idx];
        int band = y >= 50 ? 0 : y >= 30 ? 1 : y >= 0 ? 2 : 3;
        fprintf(j.dat, "%.6g %.6g %d\n", 100.0 * ((double)k + 0.5) / (double)bars,
                y < -100 ? -100 : y, band);
    }
    double lo = v[m - 1] < -100 ? -100 : v[m - 1];
    double ymin = floor(lo / 10) * 10 - 5;
    if (ymin > -10)
        ymin = -10;
    /* Wide bars keep a gap so single patients read as bars; thin ones overlap a little, as
     * anti-aliased seams between hairline bars otherwise show as stripes. */
    fprintf(j.gp, "bw = %.6g\n", 100.0 / (double)bars * (bars <= 150 ? 0.8 : 2.0));
    fprintf(j.gp, "set xrange [0:100]\nset yrange [%g:112]\n", ymin);
    fputs("set xlabel 'Patients, ranked from most to least improved (percentile)'\n"
          "set ylabel 'Improvement from baseline (%)'\n"
          "set xtics 0,10,100 format '%g%%'\n"
          "set ytics format '%g%%'\n"
          "set ytics add ('' 112)\n"
          "set style fill solid 1.0 noborder\n"
          "set key top right\n"
          "set arrow 1 from graph 0, first 0 to graph 1, first 0 nohead lc rgb '#444444' lw 1 front\n"
          "set arrow 2 from graph 0, first 30 to graph 1, first 30 nohead dt 2 lw 1.5 "
          "lc rgb '#000000' front\n"
          "set arrow 3 from graph 0, first 50 to graph 1, first 50 nohead dt 3 lw 1.5 "
          "lc rgb '#000000' front\n"
          "set label 2 '30%: moderate (IMMPACT)' at graph 0.01, first 30 offset 0,-0.7 left "
          "font ',9' front\n"
          "set label 3 '50%: substantial' at graph 0.01, first 50 offset 0,0.7 left "
          "font ',9' front\n", j.gp);
    static const char *const band_col[4] = { OI_GREEN, OI_SKY, OI_GREY, OI_VERMILLION };
    static const char *const band_name[4] = { "Improved ≥50%", "Improved 30–49%",
                                              "Under 30% or none", "Worse" };
    fputs("plot ", j.gp);
    int first = 1;
    for (int bnd = 0; bnd < 4; bnd++) {
        if (!cnt[bnd])
            continue;
        char t[120];
        snprintf(t, sizeof t, "%s: %s (%.0f%%)", band_name[bnd],
                 fmt_count(a, sizeof a, (double)cnt[bnd]),
                 100.0 * (double)cnt[bnd] / (double)m);
        fprintf(j.gp, "%sdatafile using 1:($3==%d ? $2 : 1/0):(bw) with boxes lc rgb '%s' "
                "title ", first ? "" : ", \\\n     ", bnd, band_col[bnd]);
        esc_gnuplot(j.gp, t);
        first = 0;
    }
    fputc('\n', j.gp);
    free(v);
    return job_finish(&j, e);
}

/* ---- Kaplan–Meier: share responded by session ---------------------------------------- */

static int cmp_step(const void *a, const void *b)
{
    double x = ((const struct chart_step *)a)->t, y = ((const struct chart_step *)b)->t;
    return (x > y) - (x < y);
}

/* Share responded at t from the step function (0 before the first step). */
static double km_share_at(const struct chart_step *s, size_t n, double t)
{
    double v = 0;
    for (size_t i = 0; i < n && s[i].t <= t + 1e-9; i++)
        v = s[i].share;
    return v;
}

int chart_km(const struct chart_out *o, const struct chart_step *steps, size_t n_steps,
             size_t n_patients, size_t n_events, double t_max, const struct chart_window *win,
             size_t n_win, struct out_error *e)
{
    struct job j;
    struct chart_step *s = malloc((n_steps ? n_steps : 1) * sizeof *s);
    if (!s)
        return oom(o, e);
    size_t m = 0;
    for (size_t i = 0; i < n_steps; i++)
        if (isfinite(steps[i].t) && isfinite(steps[i].share))
            s[m++] = steps[i];
    qsort(s, m, sizeof *s, cmp_step);
    if (!win && n_win == 0) {
        win = chart_claim_windows;
        n_win = sizeof chart_claim_windows / sizeof chart_claim_windows[0];
    }
    int rc = job_begin(&j, o, CHART_H, e);
    if (rc) {
        free(s);
        return rc;
    }
    char sub[300], a[32], b[32];
    if (n_patients == 0 || m == 0)
        snprintf(sub, sizeof sub, "n = %s patients · %s responded",
                 fmt_count(a, sizeof a, (double)n_patients),
                 fmt_count(b, sizeof b, (double)n_events));
    else
        snprintf(sub, sizeof sub, "n = %s patients · %s responded (≥30%% improvement)",
                 fmt_count(a, sizeof a, (double)n_patients),
                 fmt_count(b, sizeof b, (double)n_events));
    /* The method on its own line: beside seven-digit counts it ran past the subtitle's
     * width and was cut short. */
    job_preamble(&j, "Time to response", sub,
                 n_patients == 0 || m == 0 ? NULL
                                           : "Kaplan–Meier with 95% CI; non-responders censored "
                                             "at their last scored visit");
    if (m == 0) {
        job_nodata(&j);
        free(s);
        return job_finish(&j, e);
    }
    double t_end = s[m - 1].t;
    if (isfinite(t_max) && t_max > t_end)
        t_end = t_max;
    for (size_t w = 0; w < n_win; w++)
        if (isfinite(win[w].to) && win[w].to > t_end && win[w].from < t_end)
            t_end = win[w].to;   /* show a window whole once the data reach into it */
    if (!(t_end > 0))
        t_end = 1;

    /* Block 0: the step curve as explicit vertices, so one polygon gives the CI band. */
    /* Where the band does not exist (0% before the first response, 100% once everyone
     * still followed has responded) the share cannot fall, so the nearest band bounds it,
     * as in the tables (stats_km_at): up to the first step's upper limit before it, from
     * the last step's lower limit after 100%. Past a censoring on a flat the caller's
     * vertices widen it as the tables do (charts_build.h, charts_km_steps). */
    fputs("# block 0: session, share responded %, CI low %, CI high %\n", j.dat);
    double ps = 0, pl = 0, ph = m && isfinite(s[0].hi) ? 100 * s[0].hi : 0;
    fprintf(j.dat, "0 0 0 %.6g\n", ph);
    for (size_t i = 0; i < m; i++) {
        double sh = 100 * s[i].share;
        double lo = isfinite(s[i].lo) ? 100 * s[i].lo : i > 0 && sh >= 100 ? pl : sh;
        double hi = isfinite(s[i].hi) ? 100 * s[i].hi : sh;
        fprintf(j.dat, "%.6g %.6g %.6g %.6g\n", s[i].t, ps, pl, ph);
        fprintf(j.dat, "%.6g %.6g %.6g %.6g\n", s[i].t, sh, lo, hi);
        ps = sh, pl = lo, ph = hi;
    }
    fprintf(j.dat, "%.6g %.6g %.6g %.6g\n", t_end, ps, pl, ph);
    fputs("\n\n# block 1: window end, share responded % there\n", j.dat);
    int any_mark = 0;
    for (size_t w = 0; w < n_win; w++) {
        if (isfinite(win[w].to) && win[w].to <= s[m - 1].t + 1e-9 && win[w].to >= 0) {
            fprintf(j.dat, "%.6g %.6g\n", win[w].to, 100 * km_share_at(s, m, win[w].to));
            any_mark = 1;
        }
    }
    if (!any_mark)
        fputs("-1 -1\n", j.dat);   /* an empty block would be an error; this one is off-scale */

    static const char *const win_col[] = { OI_ORANGE, OI_PURPLE, OI_SKY, OI_YELLOW };
    for (size_t w = 0; w < n_win; w++) {
        if (!isfinite(win[w].from) || !isfinite(win[w].to) || win[w].to <= win[w].from)
            continue;
        fprintf(j.gp, "set object %zu rect from %.6g, graph 0 to %.6g, graph 1 fc rgb '%s' "
                "fs transparent solid 0.18 noborder behind\n", w + 1, win[w].from, win[w].to,
                win_col[w % 4]);
        fprintf(j.gp, "set label %zu ", w + 10);
        put_text(j.gp, win[w].label, 40);
        fprintf(j.gp, " at %.6g, graph 0.97 center font ',9' tc rgb '#333333' front\n",
                (win[w].from + win[w].to) / 2);
        if (win[w].to <= s[m - 1].t + 1e-9) {
            /* Beside the mark, on the side with room: right of it would run past the axis
             * when the window ends near the last session. */
            double sh = 100 * km_share_at(s, m, win[w].to);
            int right = win[w].to > 0.7 * t_end;
            fprintf(j.gp, "set label %zu '%.0f%% by session %g' at %.6g, %.6g offset %s,-0.9 "
                    "%s font ',10' boxed front\n", w + 40, sh, win[w].to, win[w].to, sh,
                    right ? "-0.8" : "0.8", right ? "right" : "left");
        }
    }
    double step = nice_step(t_end, 12);
    fprintf(j.gp, "set xrange [0:%.6g]\nset yrange [0:100]\n", t_end);
    fprintf(j.gp, "set xtics 0,%g\nset ytics 0,20,100 format '%%g%%%%'\n", step);
    fputs("set xlabel 'Sessions (treatments received before the responding visit)'\n"
          "set ylabel 'Patients responded (%)'\n"
          "set bmargin 7\n"
          /* Above the plot, clear of the curve and of the boxed labels under it, which
           * can sit anywhere inside. */
          "set key at graph 1, graph 1 right bottom horizontal\n"
          "set arrow 1 from graph 0, first 50 to graph 1, first 50 nohead dt 3 "
          "lc rgb '#888888'\n", j.gp);
    /* Patients at risk under the axis, only where a step gives the exact number; the label
     * stands far enough left that a six-digit count centred on session 0 clears it. */
    fputs("set label 100 'At risk' at graph 0, graph 0 offset -4.5,-4.4 right font ',9' "
          "tc rgb '#444444'\n", j.gp);
    int lab = 101;
    for (double t = 0; t <= t_end + 1e-9 && lab < 400; t += step) {
        long nr = -1;
        if (t == 0)
            nr = (long)n_patients;
        for (size_t i = 0; i < m; i++)
            if (fabs(s[i].t - t) < 1e-9)
                nr = s[i].n_risk;
        if (nr >= 0)
            fprintf(j.gp, "set label %d '%s' at %.6g, graph 0 offset 0,-4.4 center font ',9' "
                    "tc rgb '#444444'\n", lab++, fmt_count(a, sizeof a, (double)nr), t);
    }
    fprintf(j.gp, "plot datafile index 0 using 1:3:4 with filledcurves fc rgb '%s' "
            "fs transparent solid 0.22 noborder title '95%% CI', \\\n"
            "     datafile index 0 using 1:2 with lines lw 2.5 lc rgb '%s' "
            "title 'Responded (1 − Kaplan–Meier)', \\\n"
            "     datafile index 1 using 1:2 with points pt 7 ps 1.1 lc rgb '%s' notitle\n",
            OI_BLUE, OI_BLUE, OI_BLACK);
    free(s);
    return job_finish(&j, e);
}

/* ---- forest of claims ------------------------------------------------------------------ */

static const char *const verdict_name[] = { "supported", "contradicted", "inconclusive",
                                            "insufficient data", "benchmark" };
static const char *const verdict_col[] = { OI_GREEN, OI_VERMILLION, OI_ORANGE, OI_GREY,
                                           OI_BLUE };
static const int verdict_pt[] = { 7, 9, 13, 6, 5 };   /* shape repeats the colour's meaning */


/* Horizontal rows of estimate + CI with labels on the left; shared by forest and arms. */
static void minmax(double v, double *lo, double *hi)
{
    if (isfinite(v)) {
        if (v < *lo) *lo = v;
        if (v > *hi) *hi = v;
    }
}

int chart_forest(const struct chart_out *o, const char *xlabel,
                 const struct chart_forest_row *rows, size_t n, struct out_error *e)
{
    struct job j;
    size_t n_claims = 0, n_bench = 0, vcount[5] = { 0 }, n_insuff_est = 0;
    for (size_t i = 0; i < n; i++) {
        int v = (int)rows[i].verdict;
        if (v < 0 || v > CHART_BENCHMARK)
            v = CHART_INSUFFICIENT;
        vcount[v]++;
        /* Too few to judge, but an estimate all the same (the table shows it): drawn grey. */
        n_insuff_est += v == CHART_INSUFFICIENT && isfinite(rows[i].est);
        if (v == CHART_BENCHMARK)
            n_bench++;
        else
            n_claims++;
    }
    /* Rows are drawn 26 px apart; grow the canvas rather than squash the labels. */
    size_t slots = n_claims + n_bench + (n_bench && n_claims ? 1 : 0);
    int height = CHART_H;
    if (150 + 26 * (long)slots > height)
        height = (int)(150 + 26 * slots > 3000 ? 3000 : 150 + 26 * slots);
    int rc = job_begin(&j, o, height, e);
    if (rc)
        return rc;
    char sub[300];
    snprintf(sub, sizeof sub, "%zu claims: %zu supported, %zu contradicted, %zu inconclusive, "
             "%zu insufficient data%s", n_claims, vcount[0], vcount[1], vcount[2], vcount[3],
             n_bench ? " · published benchmarks beneath" : "");
    job_preamble(&j, "Advertised claims against the data", sub,
                 "Estimates with 95% CI; the claim's value (bar, its arrow pointing the way "
                 "claimed) or range (band) behind them.");
    if (n == 0) {
        job_nodata(&j);
        return job_finish(&j, e);
    }
    double xmin = INFINITY, xmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        minmax(rows[i].est, &xmin, &xmax);
        minmax(rows[i].lo, &xmin, &xmax);
        minmax(rows[i].hi, &xmin, &xmax);
        minmax(rows[i].claim_lo, &xmin, &xmax);
        minmax(rows[i].claim_hi, &xmin, &xmax);
    }
    if (!(xmin <= xmax)) {
        xmin = 0;
        xmax = 1;
    }
    double pad = (xmax - xmin) * 0.06;
    if (pad == 0)
        pad = fabs(xmax) * 0.1 + 1;
    xmin -= pad;
    xmax += pad;

    fputs("# y, estimate, CI low, CI high, verdict (0 supported, 1 contradicted, "
          "2 inconclusive, 3 insufficient, 4 benchmark)\n", j.dat);
    size_t maxlab = 0;
    fputs("set ytics (", j.gp);
    /* Claims from the top in the caller's order, then a gap, then benchmarks. */
    size_t pos = 0;
    int wrote = 0;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            int bench = rows[i].verdict == CHART_BENCHMARK;
            if (bench != pass)
                continue;
            if (pass == 1 && pos == n_claims && n_claims)
                pos++;
            double y = (double)(slots - pos);
            int v = (int)rows[i].verdict;
            if (v < 0 || v > CHART_BENCHMARK)
                v = CHART_INSUFFICIENT;
            if (isfinite(rows[i].est))
                fprintf(j.dat, "%g %.6g %.6g %.6g %d\n", y, rows[i].est,
                        isfinite(rows[i].lo) ? rows[i].lo : rows[i].est,
                        isfinite(rows[i].hi) ? rows[i].hi : rows[i].est, v);
            fputs(wrote ? ", " : "", j.gp);
            put_tic(j.gp, rows[i].label, 32);
            fprintf(j.gp, " %g", y);
            wrote = 1;
            size_t c = utf8_chars(rows[i].label);
            if (c > maxlab)
                maxlab = c > 32 ? 32 : c;
            pos++;
        }
    }
    fputs(")\n", j.gp);
    fputs("-1 -1 -1 -1 -1\n", j.dat);   /* keeps the data non-empty; off-scale */
    pos = 0;
    int obj = 1, lab = 10;
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < n; i++) {
            const struct chart_forest_row *r = &rows[i];
            int bench = r->verdict == CHART_BENCHMARK;
            if (bench != pass)
                continue;
            if (pass == 1 && pos == n_claims && n_claims)
                pos++;
            double y = (double)(slots - pos);
            int v = (int)r->verdict;
            if (v < 0 || v > CHART_BENCHMARK)
                v = CHART_INSUFFICIENT;
            if (isfinite(r->claim_lo) && isfinite(r->claim_hi) && r->claim_hi > r->claim_lo)
                fprintf(j.gp, "set object %d rect from %.6g, %g to %.6g, %g fc rgb '%s' "
                        "fs transparent solid 0.30 noborder behind\n", obj++, r->claim_lo,
                        y - 0.32, r->claim_hi, y + 0.32, OI_PURPLE);
            else if (isfinite(r->claim_lo) || isfinite(r->claim_hi)) {
                double c = isfinite(r->claim_lo) ? r->claim_lo : r->claim_hi;
                fprintf(j.gp, "set arrow %d from %.6g, %g to %.6g, %g nohead lw 4 "
                        "lc rgb '%s' back\n", obj++, c, y - 0.36, c, y + 0.36, OI_PURPLE);
                /* A one-sided claim points the way it claims: ">= 10" and "<= 10" were the
                 * same bar, told apart only by the verdict's colour. */
                int ge = isfinite(r->claim_lo) && !isfinite(r->claim_hi);
                int le = !isfinite(r->claim_lo) && isfinite(r->claim_hi);
                if (ge || le)
                    fprintf(j.gp, "set arrow %d from %.6g, %g to %.6g, %g head filled size "
                            "screen 0.008,30 lw 2 lc rgb '%s' back\n", obj++, c, y + 0.3,
                            c + (ge ? 1 : -1) * 0.035 * (xmax - xmin), y + 0.3, OI_PURPLE);
            }
            char t[80];
            if (r->n >= 0) {
                char a[32];
                snprintf(t, sizeof t, "%s (n = %s)", verdict_name[v],
                         fmt_count(a, sizeof a, (double)r->n));
            } else
                snprintf(t, sizeof t, "%s", verdict_name[v]);
            fprintf(j.gp, "set label %d '%s' at graph 1, first %g offset 1,0 left font ',10' "
                    "tc rgb '%s'\n", lab++, t, y, v == CHART_INSUFFICIENT ? "#666666"
                                                                         : verdict_col[v]);
            pos++;
        }
    }
    if (n_bench && n_claims) {
        double ysep = (double)(slots - n_claims);
        fprintf(j.gp, "set arrow %d from graph 0, first %g to graph 1, first %g nohead dt 3 "
                "lc rgb '#888888'\n", obj++, ysep, ysep);
        fprintf(j.gp, "set label %d 'Published benchmarks' at graph 0.5, first %g center "
                "font ',9' tc rgb '#555555'\n", lab++, ysep);
    }
    /* Margins in character widths of the 12 pt font; the labels are 11 pt. */
    int lm = (int)((double)maxlab * 0.95) + 3;
    fprintf(j.gp, "set lmargin %d\nset rmargin 21\n", lm < 8 ? 8 : lm);
    fprintf(j.gp, "set xrange [%.6g:%.6g]\nset yrange [0.4:%g]\nset xtics %g\n", xmin, xmax,
            (double)slots + 0.6, nice_step(xmax - xmin, 7));
    fputs("set grid noytics xtics\nset tics scale 0.4\nset ytics font ',11'\n"
          "set border 1 lc rgb '#444444'\n", j.gp);
    fputs("set xlabel ", j.gp);
    put_text(j.gp, xlabel ? xlabel : "Estimate", 90);
    fputc('\n', j.gp);
    /* gnuplot sizes a horizontal key by the (narrow) plot area and stacks it; this legend
     * is laid out on the canvas instead, one line under the axis label. */
    fputs("unset key\nset bmargin 5.5\n", j.gp);
    {
        const char *txt[6];
        int kind[6], k = 0;
        txt[k] = "claimed";
        kind[k++] = -1;
        for (int v = 0; v <= CHART_BENCHMARK; v++)
            if (v == CHART_INSUFFICIENT ? n_insuff_est > 0 : vcount[v] > 0) {
                txt[k] = verdict_name[v];
                kind[k++] = v;
            }
        double total = 0;   /* pixels, from ~6.6 px per character at 10 pt */
        for (int i = 0; i < k; i++)
            total += 22 + 6.6 * (double)strlen(txt[i]) + 18;
        double x = (CHART_W - total) / 2, y = 12.0 / height;
        for (int i = 0; i < k; i++) {
            if (kind[i] < 0)
                fprintf(j.gp, "set object %d rect center screen %.4f, screen %.4f size "
                        "screen %.4f, screen %.4f fc rgb '%s' fs transparent solid 0.30 "
                        "noborder\n", obj++, (x + 8) / CHART_W, y, 14.0 / CHART_W,
                        10.0 / height, OI_PURPLE);
            else
                fprintf(j.gp, "set label %d '' at screen %.4f, screen %.4f point pt %d ps 1.3 "
                        "lc rgb '%s'\n", lab++, (x + 8) / CHART_W, y, verdict_pt[kind[i]],
                        verdict_col[kind[i]]);
            fprintf(j.gp, "set label %d '%s' at screen %.4f, screen %.4f left font ',10'\n",
                    lab++, txt[i], (x + 22) / CHART_W, y);
            x += 22 + 6.6 * (double)strlen(txt[i]) + 18;
        }
    }
    fputs("plot -1e300 notitle", j.gp);   /* off-scale: only for the plot's existence */
    for (int v = 0; v <= CHART_BENCHMARK; v++) {
        if (v == CHART_INSUFFICIENT ? n_insuff_est == 0 : vcount[v] == 0)
            continue;   /* most insufficient rows have no estimate to draw */
        fprintf(j.gp, ", \\\n     datafile using 2:($5==%d ? $1 : 1/0):3:4 with xerrorbars "
                "pt %d ps 1.4 lw 2 lc rgb '%s' notitle", v, verdict_pt[v], verdict_col[v]);
    }
    fputc('\n', j.gp);
    return job_finish(&j, e);
}

/* ---- p-chart ----------------------------------------------------------------------------- */

int chart_pchart(const struct chart_out *o, const struct chart_period *p, size_t n,
                 struct out_error *e)
{
    struct job j;
    long sn = 0, sk = 0;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i].n > 0 && p[i].k >= 0 && p[i].k <= p[i].n) {
            sn += p[i].n;
            sk += p[i].k;
            m++;
        }
    int rc = job_begin(&j, o, CHART_H, e);
    if (rc)
        return rc;
    double pbar = sn > 0 ? (double)sk / (double)sn : 0;
    size_t n_out = 0;
    double ylo = 100, yhi = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i].n > 0 && p[i].k >= 0 && p[i].k <= p[i].n))
            continue;
        double r = (double)p[i].k / (double)p[i].n;
        double sd = sqrt(pbar * (1 - pbar) / (double)p[i].n);
        double ucl = fmin(1, pbar + 3 * sd), lcl = fmax(0, pbar - 3 * sd);
        n_out += r > ucl + 1e-12 || r < lcl - 1e-12;
        minmax(100 * r, &ylo, &yhi);
        minmax(100 * ucl, &ylo, &yhi);
        minmax(100 * lcl, &ylo, &yhi);
    }
    /* How the limits are drawn is the method line's: the subtitle keeps the numbers (with
     * seven-digit counts it ran past the chart's width and lost its last one). */
    char sub[300], a[32];
    snprintf(sub, sizeof sub, "%zu months, %s patients · pooled rate %.1f%% · %zu month%s "
             "outside the limits", m, fmt_count(a, sizeof a, (double)sn), 100 * pbar, n_out,
             n_out == 1 ? "" : "s");
    job_preamble(&j, "Responder rate by month (p-chart)", sub,
                 m < n ? "3-sigma limits vary with each month's n. Months without assessed "
                         "patients are left out."
                       : "3-sigma limits vary with each month's n.");
    if (m == 0) {
        job_nodata(&j);
        return job_finish(&j, e);
    }
    fputs("# block 0: x, rate %, n, UCL %, LCL %, outside (1/0)\n", j.dat);
    size_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i].n > 0 && p[i].k >= 0 && p[i].k <= p[i].n))
            continue;
        double r = (double)p[i].k / (double)p[i].n;
        double sd = sqrt(pbar * (1 - pbar) / (double)p[i].n);
        double ucl = fmin(1, pbar + 3 * sd), lcl = fmax(0, pbar - 3 * sd);
        int out = r > ucl + 1e-12 || r < lcl - 1e-12;
        fprintf(j.dat, "%zu %.6g %ld %.6g %.6g %d\n", x, 100 * r, p[i].n, 100 * ucl, 100 * lcl,
                out);
        x++;
    }
    fputs("\n\n# block 1: the limits as steps, each month spanning x-0.5 to x+0.5: x, UCL %, "
          "LCL %\n", j.dat);
    x = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i].n > 0 && p[i].k >= 0 && p[i].k <= p[i].n))
            continue;
        double sd = sqrt(pbar * (1 - pbar) / (double)p[i].n);
        double ucl = fmin(1, pbar + 3 * sd), lcl = fmax(0, pbar - 3 * sd);
        fprintf(j.dat, "%.6g %.6g %.6g\n%.6g %.6g %.6g\n", (double)x - 0.5, 100 * ucl,
                100 * lcl, (double)x + 0.5, 100 * ucl, 100 * lcl);
        x++;
    }
    /* Month labels: every one when they fit, else every k-th, slanted past a dozen. The
     * rates printed over months outside the limits follow the same k, in a smaller font
     * past 16 months, so that side by side they do not run into each other. */
    size_t every = m <= 24 ? 1 : (m + 23) / 24;
    fputs("set xtics (", j.gp);
    x = 0;
    int wrote = 0;
    for (size_t i = 0; i < n; i++) {
        if (!(p[i].n > 0 && p[i].k >= 0 && p[i].k <= p[i].n))
            continue;
        if (x % every == 0) {
            fputs(wrote ? ", " : "", j.gp);
            put_tic(j.gp, p[i].label ? p[i].label : "", 12);
            fprintf(j.gp, " %zu", x);
            wrote = 1;
        }
        x++;
    }
    fputs(")\n", j.gp);
    if (m > 12)
        fputs("set xtics rotate by 45 right font ',10'\n", j.gp);
    double span = yhi - ylo;
    double y0 = fmax(0, ylo - 0.12 * span - 2), y1 = fmin(100, yhi + 0.12 * span + 2);
    fprintf(j.gp, "set xrange [-0.5:%g]\nset yrange [%.6g:%.6g]\n", (double)m - 0.5, y0, y1);
    fputs("set ytics format '%g%%'\n"
          "set xlabel 'Month'\n"
          "set ylabel 'Responders (%)'\n"
          "set key outside bottom center horizontal font ',10'\n", j.gp);
    fprintf(j.gp, "pbar = %.8g\n", 100 * pbar);
    fprintf(j.gp, "set label 2 sprintf('centre %%.1f%%%%', pbar) at graph 1, first pbar "
            "offset 0.5,0 left font ',9'\nset rmargin 10\n");
    fprintf(j.gp,
            "plot datafile index 1 using 1:2 with lines lw 1.2 lc rgb '%s' "
            "title '3-sigma limits', \\\n"
            "     datafile index 1 using 1:3 with lines lw 1.2 lc rgb '%s' notitle, \\\n"
            "     pbar with lines lw 1.5 lc rgb '%s' title 'Centre (pooled rate)', \\\n"
            "     datafile index 0 using 1:2 with lines lw 1 lc rgb '%s' notitle, \\\n"
            "     datafile index 0 using 1:($6==0 ? $2 : 1/0) with points pt 7 ps 1.1 "
            "lc rgb '%s' title 'Month within limits', \\\n"
            "     datafile index 0 using 1:($6==1 ? $2 : 1/0) with points pt 9 ps 1.8 "
            "lc rgb '%s' %s, \\\n"
            "     datafile index 0 using 1:($6==1 && int($1) %% %zu == 0 ? $2 : 1/0):"
            "(sprintf('%%.0f%%%%', $2)) with labels offset 0,1.2 font ',%d' tc rgb '%s' "
            "notitle\n",
            OI_VERMILLION, OI_VERMILLION, OI_BLACK, OI_GREY, OI_BLUE, OI_VERMILLION,
            n_out ? "title 'Month outside limits'" : "notitle", every, m > 16 ? 8 : 9,
            OI_VERMILLION);
    return job_finish(&j, e);
}

/* ---- trajectory -------------------------------------------------------------------------- */

static int cmp_point(const void *a, const void *b)
{
    double x = ((const struct chart_point *)a)->x, y = ((const struct chart_point *)b)->x;
    return (x > y) - (x < y);
}

int chart_trajectory(const struct chart_out *o, const char *xlabel, const char *ylabel,
                     const struct chart_point *pts, size_t n, struct out_error *e)
{
    struct job j;
    struct chart_point *q = malloc((n ? n : 1) * sizeof *q);
    if (!q)
        return oom(o, e);
    size_t m = 0;
    long nmax = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(pts[i].x) && isfinite(pts[i].mean)) {
            q[m++] = pts[i];
            if (pts[i].n > nmax)
                nmax = pts[i].n;
        }
    qsort(q, m, sizeof *q, cmp_point);
    int rc = job_begin(&j, o, CHART_H, e);
    if (rc) {
        free(q);
        return rc;
    }
    /* "n=295" is 5 characters: 12 of them fit side by side at 800 px; a wider count
     * ("n=1270000") fits fewer, so every k-th point is labelled. */
    size_t chars = 3;   /* "n=" and one digit */
    for (long v = nmax; v >= 10; v /= 10)
        chars++;
    size_t fit = chars < 60 ? 60 / chars : 1;
    size_t every = m <= fit ? 1 : (m + fit - 1) / fit;
    char sub[300], a[32], under[48];
    if (every == 1)
        snprintf(under, sizeof under, "n under each point");
    else
        snprintf(under, sizeof under, "n under every %zu%s point", every,
                 every == 2 ? "nd" : every == 3 ? "rd" : "th");
    if (m)
        snprintf(sub, sizeof sub, "Mean with 95%% CI at each session · up to %s patients; %s",
                 fmt_count(a, sizeof a, (double)nmax), under);
    else
        snprintf(sub, sizeof sub, "No sessions with scores");
    job_preamble(&j, "Score by session", sub, NULL);
    if (m == 0) {
        job_nodata(&j);
        free(q);
        return job_finish(&j, e);
    }
    double ylo = INFINITY, yhi = -INFINITY;
    fputs("# x, mean, CI low, CI high, n\n", j.dat);
    for (size_t i = 0; i < m; i++) {
        double lo = isfinite(q[i].lo) ? q[i].lo : q[i].mean;
        double hi = isfinite(q[i].hi) ? q[i].hi : q[i].mean;
        fprintf(j.dat, "%.6g %.6g %.6g %.6g %ld\n", q[i].x, q[i].mean, lo, hi, q[i].n);
        minmax(lo, &ylo, &yhi);
        minmax(hi, &ylo, &yhi);
    }
    double span = yhi - ylo;
    if (!(span > 0))
        span = fabs(yhi) * 0.2 + 1;
    /* Room under the curve for the n labels. */
    fprintf(j.gp, "set yrange [%.6g:%.6g]\n", ylo - 0.28 * span, yhi + 0.1 * span);
    double xspan = q[m - 1].x - q[0].x;
    if (!(xspan > 0))
        xspan = 1;
    fprintf(j.gp, "set xrange [%.6g:%.6g]\n", q[0].x - 0.04 * xspan, q[m - 1].x + 0.04 * xspan);
    fprintf(j.gp, "nlab_y = %.6g\nevery_n = %zu\n", ylo - 0.18 * span, every);
    fputs("set xlabel ", j.gp);
    put_text(j.gp, xlabel ? xlabel : "Session", 80);
    fputs("\nset ylabel ", j.gp);
    put_text(j.gp, ylabel ? ylabel : "Mean score", 60);
    fputs("\nset key top right\n", j.gp);
    if (q[m - 1].x - q[0].x <= 30)
        fputs("set xtics 1\n", j.gp);
    fprintf(j.gp,
            "plot datafile using 1:3:4 with filledcurves fc rgb '%s' fs transparent solid 0.22 "
            "noborder title '95%% CI', \\\n"
            "     datafile using 1:2 with linespoints lw 2.5 pt 7 ps 1.0 lc rgb '%s' "
            "title 'Mean', \\\n"
            "     datafile using 1:(int($0) %% every_n == 0 ? nlab_y : 1/0):"
            "(sprintf('n=%%d', int($5))) with labels font ',8' tc rgb '#555555' notitle\n",
            OI_BLUE, OI_BLUE);
    free(q);
    return job_finish(&j, e);
}

/* ---- baseline against final ------------------------------------------------------------ */

struct pair { double b, f; };

static int cmp_pair(const void *a, const void *b)
{
    const struct pair *x = a, *y = b;
    if (x->b != y->b)
        return (x->b > y->b) - (x->b < y->b);
    return (x->f > y->f) - (x->f < y->f);
}

#define SCATTER_MAX_DISTINCT 600
#define GRID 40
#define PAIR_SLOTS 2048   /* hash slots for the distinct pairs: a power of two, over 3 x 600 */

/* A distinct (baseline, final) pair and the patients who have it. */
struct group {
    struct pair p;
    size_t n;
};

static int cmp_group(const void *a, const void *b)
{
    return cmp_pair(&((const struct group *)a)->p, &((const struct group *)b)->p);
}

/* splitmix64's finaliser: every input bit reaches the low bits. Scores on a scale are small
 * integers, whose doubles differ only in their top bits. */
static uint64_t mix64(uint64_t z)
{
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* Where pair p goes in the hash; -0.0 and 0.0, equal to cmp_pair, hash alike. */
static size_t pair_slot(const struct pair *p)
{
    double b = p->b == 0 ? 0.0 : p->b, f = p->f == 0 ? 0.0 : p->f;
    uint64_t x, y;
    memcpy(&x, &b, sizeof x);
    memcpy(&y, &f, sizeof y);
    return (size_t)mix64(x ^ mix64(y)) & (PAIR_SLOTS - 1);
}

/* The distinct pairs (b[i], f[i]) of the finite ones into g (room for SCATTER_MAX_DISTINCT),
 * each with its count, in one pass where a sort of all pairs used to find them. Each group
 * keeps its first pair in input order, as the first of its run was after that stable sort
 * (it matters only for -0.0 against 0.0). Stops at SCATTER_MAX_DISTINCT + 1 groups, when the
 * chart is binned and needs none of them. Returns the number of groups, at most
 * SCATTER_MAX_DISTINCT + 1; g is in the order first seen. */
static size_t pair_groups(const double *b, const double *f, size_t n, struct group *g)
{
    unsigned short slot[PAIR_SLOTS] = { 0 };   /* 1 + index into g; 0: empty */
    size_t ng = 0;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(b[i]) || !isfinite(f[i]))
            continue;
        struct pair p = { b[i], f[i] };
        size_t h = pair_slot(&p);
        while (slot[h] && cmp_pair(&g[slot[h] - 1].p, &p) != 0)
            h = (h + 1) & (PAIR_SLOTS - 1);
        if (slot[h]) {
            g[slot[h] - 1].n++;
        } else {
            if (ng == SCATTER_MAX_DISTINCT)
                return ng + 1;
            g[ng] = (struct group){ p, 1 };
            slot[h] = (unsigned short)++ng;
        }
    }
    return ng;
}

int chart_scatter_baseline_final(const struct chart_out *o, const char *scale_label, double lo,
                                 double hi, int higher_is_better, const double *baseline,
                                 const double *final, size_t n, struct out_error *e)
{
    struct job j;
    /* The points are read where they are (no copy: at a million patients that was 16 MB). */
    size_t *cells = calloc(GRID * GRID, sizeof *cells);
    struct group *grp = malloc(SCATTER_MAX_DISTINCT * sizeof *grp);
    if (!cells || !grp) {
        free(cells);
        free(grp);
        return oom(o, e);
    }
    size_t m = 0, n_better = 0, n_same = 0;
    double dmin = INFINITY, dmax = -INFINITY;
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(baseline[i]) || !isfinite(final[i]))
            continue;
        minmax(baseline[i], &dmin, &dmax);
        minmax(final[i], &dmin, &dmax);
        if (final[i] == baseline[i])
            n_same++;
        else if ((final[i] < baseline[i]) != (higher_is_better != 0))
            n_better++;
        m++;
    }
    size_t distinct = pair_groups(baseline, final, n, grp);
    if (!(lo < hi) || !isfinite(lo) || !isfinite(hi)) {
        lo = m ? dmin : 0;
        hi = m ? dmax : 1;
        if (!(lo < hi))
            hi = lo + 1;
    }
    /* Scores on a short integer scale repeat: circles sized by patients show the pile-ups
     * a plain scatter hides. Anything richer is binned, which also caps the file size. */
    int bubbles = distinct <= SCATTER_MAX_DISTINCT;
    double w = (hi - lo) / GRID;
    size_t maxc = 0, n_outside = 0;
    if (bubbles) {
        qsort(grp, distinct, sizeof *grp, cmp_group);   /* a few hundred at most */
        for (size_t i = 0; i < distinct; i++)
            if (grp[i].n > maxc)
                maxc = grp[i].n;
    } else {
        for (size_t i = 0; i < n; i++) {
            if (!isfinite(baseline[i]) || !isfinite(final[i]))
                continue;
            double fx = (baseline[i] - lo) / w, fy = (final[i] - lo) / w;
            if (fx < 0 || fy < 0 || fx > GRID || fy > GRID) {
                n_outside++;
                continue;
            }
            size_t cx = fx >= GRID ? GRID - 1 : (size_t)fx;
            size_t cy = fy >= GRID ? GRID - 1 : (size_t)fy;
            if (++cells[cy * GRID + cx] > maxc)
                maxc = cells[cy * GRID + cx];
        }
    }
    int rc = job_begin(&j, o, CHART_H, e);
    if (rc) {
        free(cells);
        free(grp);
        return rc;
    }
    char sub[300], foot[200], a[32];
    snprintf(sub, sizeof sub, "n = %s patients · %.0f%% ended better than they started, "
             "%.0f%% unchanged", fmt_count(a, sizeof a, (double)m),
             m ? 100.0 * (double)n_better / (double)m : 0.0,
             m ? 100.0 * (double)n_same / (double)m : 0.0);
    if (bubbles)
        snprintf(foot, sizeof foot, "Circle area is proportional to the patients with that "
                 "pair of scores.");
    else
        snprintf(foot, sizeof foot, "Binned: %d×%d cells shaded by patients per cell%s.", GRID,
                 GRID, n_outside ? "; points outside the scale left out" : "");
    job_preamble(&j, "Baseline against final score", sub, m ? foot : NULL);
    if (m == 0) {
        job_nodata(&j);
        free(cells);
        free(grp);
        return job_finish(&j, e);
    }
    double pad = (hi - lo) * 0.04;
    fprintf(j.gp, "set xrange [%.6g:%.6g]\nset yrange [%.6g:%.6g]\nset size ratio -1\n",
            lo - pad, hi + pad, lo - pad, hi + pad);
    fputs("set xlabel 'Baseline' . ' ' . ", j.gp);
    put_text(j.gp, scale_label ? scale_label : "score", 60);
    fputs("\nset ylabel 'Final' . ' ' . ", j.gp);
    put_text(j.gp, scale_label ? scale_label : "score", 60);
    fputs("\nset grid xtics ytics\nunset key\n", j.gp);
    if (hi - lo <= 20 && floor(lo) == lo)
        fprintf(j.gp, "set xtics %g\nset ytics %g\n", hi - lo <= 10 ? 1.0 : 2.0,
                hi - lo <= 10 ? 1.0 : 2.0);
    fprintf(j.gp, "set arrow 1 from %.6g,%.6g to %.6g,%.6g nohead dt 2 lw 1.5 lc rgb '#333333' "
            "front\n", lo - pad, lo - pad, hi + pad, hi + pad);
    /* Which side of the diagonal is better depends on the instrument's direction. */
    fprintf(j.gp, "set label 2 'below the line: %s' at graph 0.97, graph 0.04 right font ',10' "
            "tc rgb '%s' boxed front\n", higher_is_better ? "worse" : "improved",
            higher_is_better ? OI_VERMILLION : OI_GREEN);
    fprintf(j.gp, "set label 3 'above the line: %s' at graph 0.03, graph 0.96 left font ',10' "
            "tc rgb '%s' boxed front\n", higher_is_better ? "improved" : "worse",
            higher_is_better ? OI_GREEN : OI_VERMILLION);
    fputs("set label 4 'no change' at graph 0.86, graph 0.86 rotate by 45 center "
          "font ',9' tc rgb '#333333' offset -0.6,0.6 boxed front\n", j.gp);
    if (bubbles) {
        fputs("# baseline, final, patients\n", j.dat);
        for (size_t i = 0; i < distinct; i++)
            fprintf(j.dat, "%.6g %.6g %zu\n", grp[i].p.b, grp[i].p.f, grp[i].n);
        fprintf(j.gp, "maxc = %zu.0\n", maxc);
        fprintf(j.gp, "plot datafile using 1:2:(0.4 + 3.2*sqrt($3/maxc)) with points pt 7 "
                "ps variable lc rgb '#400072B2' notitle, \\\n"
                "     datafile using 1:2:(0.4 + 3.2*sqrt($3/maxc)) with points pt 6 "
                "ps variable lw 1 lc rgb '%s' notitle\n", OI_BLUE);
    } else {
        fputs("# cell centre baseline, cell centre final, patients\n", j.dat);
        for (size_t cy = 0; cy < GRID; cy++)
            for (size_t cx = 0; cx < GRID; cx++)
                if (cells[cy * GRID + cx])
                    fprintf(j.dat, "%.6g %.6g %zu\n", lo + ((double)cx + 0.5) * w,
                            lo + ((double)cy + 0.5) * w, cells[cy * GRID + cx]);
        /* Cells a hair larger than half the width: no anti-aliased seams between them. */
        fprintf(j.gp, "hw = %.6g\n", w / 2 * 1.04);
        fprintf(j.gp, "set palette defined (0 '#deebf7', 1 '%s', 2 '#08306b')\n"
                "set cbrange [1:%zu]\nset logscale cb\nset cblabel 'Patients per cell'\n"
                "set colorbox\n", OI_BLUE, maxc > 1 ? maxc : 2);
        fputs("plot datafile using 1:2:(hw):(hw):3 with boxxyerror fs solid 1 noborder "
              "lc palette notitle\n", j.gp);
    }
    free(cells);
    free(grp);
    return job_finish(&j, e);
}

/* ---- histogram of change ----------------------------------------------------------------- */

int chart_change_hist(const struct chart_out *o, const char *xlabel, const double *change,
                      size_t n, struct out_error *e)
{
    struct job j;
    double *v = malloc((n ? n : 1) * sizeof *v);
    if (!v)
        return oom(o, e);
    size_t m = 0;
    int halves = 1;
    double sum = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(change[i])) {
            v[m++] = change[i];
            sum += change[i];
            if (fabs(change[i] * 2 - nearbyint(change[i] * 2)) > 1e-9)
                halves = 0;
        }
    sort_doubles(v, m, 0);
    int rc = job_begin(&j, o, CHART_H, e);
    if (rc) {
        free(v);
        return rc;
    }
    double mean = m ? sum / (double)m : 0;
    double median = m == 0 ? 0 : m % 2 ? v[m / 2] : (v[m / 2 - 1] + v[m / 2]) / 2;
    char sub[300], a[32];
    snprintf(sub, sizeof sub, "n = %s patients · mean %.2f, median %.2f · positive = better",
             fmt_count(a, sizeof a, (double)m), mean, median);
    job_preamble(&j, "Change from baseline", sub, NULL);
    if (m == 0) {
        job_nodata(&j);
        free(v);
        return job_finish(&j, e);
    }
    double lo = v[0], hi = v[m - 1], width;
    int integers = 1;
    for (size_t i = 0; i < m && integers; i++)
        integers = v[i] == floor(v[i]);
    if (halves && (hi - lo) / (integers ? 1 : 0.5) <= 80) {
        width = integers ? 1 : 0.5;
    } else {
        double iqr = v[(size_t)(0.75 * (double)(m - 1))] - v[(size_t)(0.25 * (double)(m - 1))];
        width = 2 * iqr / cbrt((double)m);
        double span = hi - lo;
        if (!(span > 0))
            span = 1;
        if (!(width > 0) || span / width > 60)
            width = span / 60;
        if (span / width < 10)
            width = span / 10;
    }
    /* Bins centred on multiples of the width, so integer data get one bar per value. */
    double start = floor(lo / width + 0.5) - 0.5;
    size_t nb = (size_t)(floor(hi / width + 0.5) - 0.5 - start) + 1;
    size_t *cnt = calloc(nb, sizeof *cnt);
    if (!cnt) {
        free(v);
        job_cleanup(&j);
        return oom(o, e);
    }
    for (size_t i = 0; i < m; i++) {
        double f = v[i] / width - start;
        size_t b = f < 0 ? 0 : (size_t)f;
        cnt[b < nb ? b : nb - 1]++;
    }
    fputs("# bin centre, patients, sign of centre (1 better, 0 none, -1 worse)\n", j.dat);
    for (size_t b = 0; b < nb; b++) {
        double c = (start + (double)b + 0.5) * width;
        fprintf(j.dat, "%.6g %zu %d\n", c, cnt[b], fabs(c) < width * 0.01 ? 0 : c > 0 ? 1 : -1);
    }
    free(cnt);
    fprintf(j.gp, "bw = %.6g\nmean = %.8g\nmedian = %.8g\n", width, mean, median);
    fprintf(j.gp, "set xrange [%.6g:%.6g]\nset yrange [0:*]\n", (start - 0.5) * width,
            (start + (double)nb + 0.5) * width);
    fputs("set offsets 0, 0, graph 0.08, 0\n"
          "set style fill solid 0.9 border lc rgb '#ffffff'\n"
          "set xlabel ", j.gp);
    put_text(j.gp, xlabel ? xlabel : "Change from baseline (positive = better)", 80);
    fputs("\nset ylabel 'Patients'\n"
          "set key top left\n", j.gp);
    if (integers && hi - lo <= 30)
        fputs("set xtics 1\n", j.gp);
    fprintf(j.gp,
            "set arrow 1 from 0, graph 0 to 0, graph 1 nohead lw 1.2 lc rgb '#333333' front\n"
            "set arrow 2 from mean, graph 0 to mean, graph 1 nohead lw 2 dt 2 lc rgb '%s' front\n"
            "set arrow 3 from median, graph 0 to median, graph 1 nohead lw 2 dt 3 lc rgb '%s' "
            "front\n"
            "plot datafile using 1:($3>0 ? $2 : 1/0):(bw) with boxes lc rgb '%s' "
            "title 'Better', \\\n"
            "     datafile using 1:($3==0 ? $2 : 1/0):(bw) with boxes lc rgb '%s' "
            "title 'No change', \\\n"
            "     datafile using 1:($3<0 ? $2 : 1/0):(bw) with boxes lc rgb '%s' "
            "title 'Worse', \\\n"
            "     keyentry with lines lw 2 dt 2 lc rgb '%s' title sprintf('Mean %%.2f', mean), "
            "\\\n"
            "     keyentry with lines lw 2 dt 3 lc rgb '%s' title sprintf('Median %%.2f', median)\n",
            OI_BLACK, OI_BLACK, OI_GREEN, OI_GREY, OI_VERMILLION, OI_BLACK, OI_BLACK);
    free(v);
    return job_finish(&j, e);
}

/* ---- arms compared ---------------------------------------------------------------------- */

int chart_arms(const struct chart_out *o, const char *xlabel, const struct chart_group *g,
               size_t n, struct out_error *e)
{
    struct job j;
    int height = CHART_H;
    if (150 + 30 * (long)n > height)
        height = (int)(150 + 30 * n > 3000 ? 3000 : 150 + 30 * n);
    int rc = job_begin(&j, o, height, e);
    if (rc)
        return rc;
    long total = 0;
    for (size_t i = 0; i < n; i++)
        total += g[i].n > 0 ? g[i].n : 0;
    char sub[300], a[32];
    snprintf(sub, sizeof sub, "%zu arms, %s patients · mean with 95%% CI", n,
             fmt_count(a, sizeof a, (double)total));
    job_preamble(&j, "Arms compared", sub, NULL);
    size_t drawable = 0;
    for (size_t i = 0; i < n; i++)
        drawable += isfinite(g[i].mean);
    if (drawable == 0) {
        job_nodata(&j);
        return job_finish(&j, e);
    }
    double xmin = 0, xmax = 0;   /* zero always in view: it is the reference */
    fputs("# y, mean, CI low, CI high, n\n", j.dat);
    fputs("set ytics (", j.gp);
    size_t maxlab = 0;
    for (size_t i = 0; i < n; i++) {
        double y = (double)(n - i);
        if (isfinite(g[i].mean)) {
            double lo = isfinite(g[i].lo) ? g[i].lo : g[i].mean;
            double hi = isfinite(g[i].hi) ? g[i].hi : g[i].mean;
            fprintf(j.dat, "%g %.6g %.6g %.6g %ld\n", y, g[i].mean, lo, hi, g[i].n);
            minmax(lo, &xmin, &xmax);
            minmax(hi, &xmin, &xmax);
        }
        fputs(i ? ", " : "", j.gp);
        put_tic(j.gp, g[i].label, 32);
        fprintf(j.gp, " %g", y);
        size_t c = utf8_chars(g[i].label);
        if (c > maxlab)
            maxlab = c > 32 ? 32 : c;
    }
    fputs(")\n", j.gp);
    for (size_t i = 0; i < n; i++) {
        char t[120];
        if (isfinite(g[i].mean) && isfinite(g[i].lo) && isfinite(g[i].hi))
            snprintf(t, sizeof t, "%.2f (%.2f to %.2f) · n = %s", g[i].mean, g[i].lo, g[i].hi,
                     fmt_count(a, sizeof a, (double)g[i].n));
        else if (isfinite(g[i].mean))
            snprintf(t, sizeof t, "%.2f · n = %s", g[i].mean,
                     fmt_count(a, sizeof a, (double)g[i].n));
        else
            snprintf(t, sizeof t, "no estimate · n = %s",
                     fmt_count(a, sizeof a, (double)g[i].n));
        fprintf(j.gp, "set label %zu '%s' at graph 1, first %g offset 1,0 left font ',10'\n",
                i + 10, t, (double)(n - i));
    }
    double pad = (xmax - xmin) * 0.08;
    if (!(pad > 0))
        pad = 1;
    int lm = (int)((double)maxlab * 0.95) + 3;
    fprintf(j.gp, "set lmargin %d\nset rmargin 25\n", lm < 8 ? 8 : lm);
    fprintf(j.gp, "set xrange [%.6g:%.6g]\nset yrange [0.4:%g]\nset xtics %g\n", xmin - pad,
            xmax + pad, (double)n + 0.6, nice_step(xmax - xmin + 2 * pad, 6));
    fputs("set grid noytics xtics\nset border 1 lc rgb '#444444'\nset ytics font ',11'\n"
          "set tics scale 0.4\nunset key\n"
          "set arrow 1 from 0, graph 0 to 0, graph 1 nohead lw 1.2 lc rgb '#333333'\n"
          "set xlabel ", j.gp);
    put_text(j.gp, xlabel ? xlabel : "Mean change (positive = better)", 90);
    fprintf(j.gp, "\nplot datafile using 2:1:3:4 with xerrorbars pt 7 ps 1.6 lw 2.5 "
            "lc rgb '%s' notitle\n", OI_BLUE);
    return job_finish(&j, e);
}
