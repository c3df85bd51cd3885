/* escape.c — see escape.h. */
#include "escape.h"

#include <stdlib.h>
#include <string.h>

void esc_html(FILE *fp, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", fp); break;
        case '<': fputs("&lt;", fp); break;
        case '>': fputs("&gt;", fp); break;
        case '"': fputs("&quot;", fp); break;
        case '\'': fputs("&#39;", fp); break;
        default: fputc(*s, fp);
        }
    }
}

static int is_plain_number(const char *s)
{
    char *end;
    if (!*s)
        return 0;
    strtod(s, &end);
    /* Only ordinary decimal forms, not "nan"/"inf"/hex, which strtod also takes. */
    for (const char *p = s; *p; p++)
        if (!strchr("0123456789+-.eE", *p))
            return 0;
    return *end == '\0';
}

static int is_trigger(char c)
{
    return c && strchr("=+-@\t\r", c) != NULL;
}

/* A trigger that is not a plain number; or any run of ' before a trigger, so that
 * csv_unprefix can tell "'=x" (written "''=x") from "=x" (written "'=x"), and "''=x"
 * (written "'''=x") from "'=x": writing then unprefixing gives every text back. */
int csv_needs_prefix(const char *s)
{
    size_t k = strspn(s, "'");
    if (!is_trigger(s[k]))
        return 0;
    return k > 0 || !is_plain_number(s);
}

void csv_unprefix(char *s)
{
    size_t k = strspn(s, "'");
    if (k == 0 || !is_trigger(s[k]) || (k == 1 && is_plain_number(s + 1)))
        return;
    memmove(s, s + 1, strlen(s));
}

void esc_csv(FILE *fp, const char *s)
{
    int inject = csv_needs_prefix(s);
    size_t len = strlen(s);
    int quote = inject || strpbrk(s, ",\"\r\n") != NULL ||
                (len && (s[0] == ' ' || s[len - 1] == ' '));
    if (quote)
        fputc('"', fp);
    if (inject)
        fputc('\'', fp);
    for (; *s; s++) {
        if (*s == '"')
            fputc('"', fp);
        fputc(*s, fp);
    }
    if (quote)
        fputc('"', fp);
}

void esc_json(FILE *fp, const char *s)
{
    fputc('"', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", fp); break;
        case '\\': fputs("\\\\", fp); break;
        case '\n': fputs("\\n", fp); break;
        case '\r': fputs("\\r", fp); break;
        case '\t': fputs("\\t", fp); break;
        default:
            if (*p < 0x20)
                fprintf(fp, "\\u%04x", *p);
            else if (*p == '<')   /* keeps "</script>" inert if JSON is ever inlined */
                fputs("\\u003c", fp);
            else
                fputc(*p, fp);
        }
    }
    fputc('"', fp);
}

/* Length of the valid UTF-8 sequence at p (1-4), or 0 when the bytes are not one: gnuplot
 * copies bytes into the SVG as they are, and one stray byte makes the whole file
 * ill-formed XML that a browser refuses to show. Overlong forms and surrogates count as
 * invalid too. */
static size_t utf8_len(const unsigned char *p)
{
    if (p[0] < 0x80)
        return 1;
    size_t n;
    unsigned min;
    unsigned cp;
    if ((p[0] & 0xe0) == 0xc0) { n = 2; min = 0x80; cp = p[0] & 0x1fu; }
    else if ((p[0] & 0xf0) == 0xe0) { n = 3; min = 0x800; cp = p[0] & 0x0fu; }
    else if ((p[0] & 0xf8) == 0xf0) { n = 4; min = 0x10000; cp = p[0] & 0x07u; }
    else return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe ||
        cp == 0xffff)
        return 0;
    return n;
}

/* No enhanced-text escaping, on purpose: checked against gnuplot 5.4, a backslashed `\&`
 * in an enhanced label comes out of the svg terminal as a bare `&`, which is ill-formed
 * XML. Callers therefore draw input text with `noenhanced`, where a single-quoted string
 * prints exactly as written and a backslash would print too. */
void esc_gnuplot(FILE *fp, const char *s)
{
    /* gnuplot reads the '' at the start of '''x' as an empty string followed by 'x', a
     * syntax error; leading quotes therefore go in a double-quoted string, which is safe
     * because it holds nothing but quotes (no backslash, no backquote). */
    size_t lead = strspn(s, "'");
    if (lead) {
        fputc('"', fp);
        fwrite(s, 1, lead, fp);
        fputc('"', fp);
        s += lead;
        if (!*s)
            return;
        fputs(" . ", fp);
    }
    fputc('\'', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        size_t n = utf8_len(p);
        if (n == 0) {
            fputc('?', fp);
            p++;
        } else if (*p == '\'') {
            fputs("''", fp);
            p++;
        } else if (*p < 0x20 || *p == 0x7f) {
            /* a newline would end the command inside the string */
            fputc(' ', fp);
            p++;
        } else {
            fwrite(p, 1, n, fp);
            p += n;
        }
    }
    fputc('\'', fp);
}

void esc_md(FILE *fp, const char *s)
{
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c < 0x20 || c == 0x7f)
            fputc(' ', fp);   /* newlines, and ESC or BEL bytes a terminal would act on */
        else {
            /* & would start an entity ("&lt;" shown as "<"), ~ strikethrough, and "://" an
             * autolink ("http://..."): each is shown as written. Other colons stay bare, so
             * the source still reads "Generated: 2026-...". */
            if (strchr("|\\`*_[]<>&~", c) || (c == ':' && s[1] == '/' && s[2] == '/'))
                fputc('\\', fp);
            fputc(c, fp);
        }
    }
}
