/* error.h — one error value that travels up to the entry point, and the exit codes.
 *
 * Fallible functions return 0 on success or an exit-class code (OUT_EINPUT, ...) and fill a
 * struct out_error where the most is known; only the entry point prints it, once, in the
 * compiler-like form `file:line:col: message` that editors and CI logs understand.
 */
#ifndef OUTCOMES_ERROR_H
#define OUTCOMES_ERROR_H

#include <stddef.h>

/* Exit codes, documented in README and the man page. */
enum out_exit {
    OUT_OK = 0,        /* success */
    OUT_EUSAGE = 2,    /* bad command line */
    OUT_EINPUT = 3,    /* invalid input: file-level problem, or a rejected row under --strict */
    OUT_EIO = 4,       /* cannot read or write a file, or a helper program (gnuplot) failed */
    OUT_EINTERNAL = 5  /* out of memory or a bug */
};

struct out_error {
    int code;          /* one of enum out_exit; 0 when no error was set */
    char file[256];    /* input file the message is about, or "" */
    long line;         /* 1-based physical line, or 0 when not about a line */
    long col;          /* 1-based column (field) number, or 0 */
    char msg[512];
};

/* Set *e (if non-NULL) and return code, so callers can `return out_err(e, ...)`. */
int out_err(struct out_error *e, int code, const char *file, long line, long col,
            const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 6, 7)))
#endif
    ;

/* Format *e as `file:line:col: msg` (omitting what is unset) into buf. */
void out_error_format(const struct out_error *e, char *buf, size_t n);

#endif
