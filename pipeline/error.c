/* error.c — see error.h. */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int out_err(struct out_error *e, int code, const char *file, long line, long col,
            const char *fmt, ...)
{
    if (!e)
        return code;
    e->code = code;
    snprintf(e->file, sizeof e->file, "%s", file ? file : "");
    e->line = line;
    e->col = col;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
    return code;
}

void out_error_format(const struct out_error *e, char *buf, size_t n)
{
    if (!e->file[0])
        snprintf(buf, n, "%s", e->msg);
    else if (e->line <= 0)
        snprintf(buf, n, "%s: %s", e->file, e->msg);
    else if (e->col <= 0)
        snprintf(buf, n, "%s:%ld: %s", e->file, e->line, e->msg);
    else
        snprintf(buf, n, "%s:%ld:%ld: %s", e->file, e->line, e->col, e->msg);
}
