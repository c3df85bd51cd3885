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

void esc_csv(FILE *fp, const char *s)
{
    int inject = (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' ||
                  s[0] == '\r') && !is_plain_number(s);
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

void esc_gnuplot(FILE *fp, const char *s)
{
    fputc('\'', fp);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '\'')
            fputs("''", fp);
        else if (*p < 0x20 || *p == 0x7f)
            fputc(' ', fp);
        else if (strchr("^_@&~{}\\", *p))
            fprintf(fp, "\\%c", *p);
        else
            fputc(*p, fp);
    }
    fputc('\'', fp);
}

void esc_md(FILE *fp, const char *s)
{
    for (; *s; s++) {
        if (*s == '\n' || *s == '\r')
            fputc(' ', fp);
        else {
            if (strchr("|\\`*_[]<>", *s))
                fputc('\\', fp);
            fputc(*s, fp);
        }
    }
}
