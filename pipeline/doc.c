/* doc.c — see doc.h. */
#include "doc.h"

#include <math.h>
#include <stdarg.h>
#include <string.h>

#include "escape.h"

static char ring[16][160];
static int ring_i;

static char *next_buf(void)
{
    ring_i = (ring_i + 1) % 16;
    return ring[ring_i];
}

const char *fnum(double x, int digits)
{
    char *b = next_buf();
    if (!isfinite(x))
        snprintf(b, sizeof ring[0], "n/a");
    else
        snprintf(b, sizeof ring[0], "%.*f", digits, x);
    return b;
}

const char *fpval(double p)
{
    char *b = next_buf();
    if (!isfinite(p))
        snprintf(b, sizeof ring[0], "n/a");
    else if (p < 0.0001)
        snprintf(b, sizeof ring[0], "<0.0001");
    else
        snprintf(b, sizeof ring[0], "%.4f", p);
    return b;
}

const char *fci(double est, double lo, double hi, int digits)
{
    char *b = next_buf();
    if (!isfinite(est))
        snprintf(b, sizeof ring[0], "n/a");
    else if (isfinite(lo) && hi == INFINITY)   /* a Kaplan-Meier limit not reached */
        snprintf(b, sizeof ring[0], "%.*f (95%% CI %.*f to not reached)", digits, est, digits,
                 lo);
    else if (!isfinite(lo) || !isfinite(hi))
        snprintf(b, sizeof ring[0], "%.*f (CI n/a)", digits, est);
    else
        snprintf(b, sizeof ring[0], "%.*f (95%% CI %.*f to %.*f)", digits, est, digits, lo,
                 digits, hi);
    return b;
}

const char *fpct(double p, double lo, double hi)
{
    char *b = next_buf();
    if (!isfinite(p))
        snprintf(b, sizeof ring[0], "n/a");
    else if (!isfinite(lo) || !isfinite(hi))
        snprintf(b, sizeof ring[0], "%.1f%% (CI n/a)", 100 * p);
    else
        snprintf(b, sizeof ring[0], "%.1f%% (95%% CI %.1f%% to %.1f%%)", 100 * p, 100 * lo,
                 100 * hi);
    return b;
}

static void text(struct doc *d, const char *s)
{
    if (d->fmt == DOC_HTML)
        esc_html(d->fp, s);
    else
        esc_md(d->fp, s);
}

void doc_heading(struct doc *d, int level, const char *s)
{
    if (d->fmt == DOC_HTML) {
        fprintf(d->fp, "<h%d>", level);
        text(d, s);
        fprintf(d->fp, "</h%d>\n", level);
    } else {
        fprintf(d->fp, "\n%.*s ", level, "######");
        text(d, s);
        fputs("\n\n", d->fp);
    }
}

void doc_para(struct doc *d, const char *cls, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (d->fmt == DOC_HTML) {
        if (cls)
            fprintf(d->fp, "<p class=\"%s\">", cls);
        else
            fputs("<p>", d->fp);
        text(d, buf);
        fputs("</p>\n", d->fp);
    } else {
        if (cls && strcmp(cls, "caveat") == 0)
            fputs("> ", d->fp);
        text(d, buf);
        fputs("\n\n", d->fp);
    }
}

void doc_table(struct doc *d, const char *const *head, int ncols)
{
    d->in_table = 1;
    if (d->fmt == DOC_HTML) {
        fputs("<table>\n<thead><tr>", d->fp);
        for (int i = 0; i < ncols; i++) {
            fputs("<th>", d->fp);
            text(d, head[i]);
            fputs("</th>", d->fp);
        }
        fputs("</tr></thead>\n<tbody>\n", d->fp);
    } else {
        fputc('|', d->fp);
        for (int i = 0; i < ncols; i++) {
            fputc(' ', d->fp);
            text(d, head[i]);
            fputs(" |", d->fp);
        }
        fputs("\n|", d->fp);
        for (int i = 0; i < ncols; i++)
            fputs("---|", d->fp);
        fputc('\n', d->fp);
    }
}

void doc_row(struct doc *d, const char *const *cells, int ncols)
{
    static const char badge[] = "!badge:";
    if (d->fmt == DOC_HTML)
        fputs("<tr>", d->fp);
    else
        fputc('|', d->fp);
    for (int i = 0; i < ncols; i++) {
        const char *c = cells[i] ? cells[i] : "";
        int is_badge = strncmp(c, badge, sizeof badge - 1) == 0;
        if (is_badge)
            c += sizeof badge - 1;
        if (d->fmt == DOC_HTML) {
            fputs("<td>", d->fp);
            if (is_badge) {
                /* The class is a fixed slug derived from the verdict's first word. */
                char cls[32];
                size_t j = 0;
                for (; c[j] && c[j] != ' ' && j < sizeof cls - 1; j++)
                    cls[j] = (c[j] >= 'a' && c[j] <= 'z') ? c[j] : '_';
                cls[j] = '\0';
                fprintf(d->fp, "<span class=\"badge b-%s\">", cls);
                text(d, c);
                fputs("</span>", d->fp);
            } else {
                text(d, c);
            }
            fputs("</td>", d->fp);
        } else {
            fputc(' ', d->fp);
            if (is_badge)
                fputs("**", d->fp);
            text(d, c);
            if (is_badge)
                fputs("**", d->fp);
            fputs(" |", d->fp);
        }
    }
    fputs(d->fmt == DOC_HTML ? "</tr>\n" : "\n", d->fp);
}

void doc_table_end(struct doc *d)
{
    d->in_table = 0;
    fputs(d->fmt == DOC_HTML ? "</tbody></table>\n" : "\n", d->fp);
}

void doc_item(struct doc *d, const char *fmt, ...)
{
    char buf[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (d->fmt == DOC_HTML) {
        if (!d->in_list)
            fputs("<ul>\n", d->fp);
        fputs("<li>", d->fp);
        text(d, buf);
        fputs("</li>\n", d->fp);
    } else {
        fputs("- ", d->fp);
        text(d, buf);
        fputc('\n', d->fp);
    }
    d->in_list = 1;
}

void doc_list_end(struct doc *d)
{
    if (d->in_list && d->fmt == DOC_HTML)
        fputs("</ul>\n", d->fp);
    else if (d->in_list)
        fputc('\n', d->fp);
    d->in_list = 0;
}
