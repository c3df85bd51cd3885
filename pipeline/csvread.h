/* csvread.h — a streaming CSV record reader over libcsv that knows what libcsv does not:
 * physical line numbers, the raw bytes of each record, the byte-order mark, the delimiter,
 * and which bytes are not text.
 *
 * Feed it bytes in chunks of any size; it calls back once per record with the fields, the
 * physical line where the record starts (a quoted field spanning lines does not shift later
 * numbers; LF, CRLF and CR-only line ends all count once) and the record's bytes as they are
 * in the file. The same input gives the same callbacks whatever the chunk sizes.
 *
 * Dialect: RFC 4180 quoting, strictly (libcsv CSV_STRICT | CSV_STRICT_FINI): a quote inside
 * an unquoted field, text after a closing quote, or an open quote at end of input is an
 * error, never a silently merged row. Unquoted surrounding spaces are trimmed (libcsv), quoted
 * ones kept. Blank lines (only spaces/tabs) are skipped and produce no record.
 *
 * Errors are file-level and stop the reader (OUT_EINPUT, with the line): a UTF-16 byte-order
 * mark, a NUL byte, invalid UTF-8, malformed quoting, an unterminated quote at end of input,
 * a record longer than max_record bytes. A UTF-8 byte-order mark is skipped.
 *
 * Memory: one record's fields and raw bytes (bounded by max_record), reused; no per-field
 * allocation. The struct is public so it can live on the stack; its members are private.
 */
#ifndef OUTCOMES_CSVREAD_H
#define OUTCOMES_CSVREAD_H

#include <csv.h>
#include <stddef.h>

#include "error.h"

struct csvread_record {
    size_t n;                /* number of fields (>= 1) */
    char *const *field;      /* NUL-terminated fields; the callee may modify their bytes.
                              * They lie in order in one buffer: field[i] starts after
                              * field[i-1]'s NUL (perhaps with bytes between) */
    const size_t *len;       /* length of each field */
    long line;               /* physical line (1-based) where the record starts */
    const char *raw;         /* the record's bytes as in the file, without its final line
                              * break (inner line breaks kept); NUL-terminated */
    size_t raw_len;
    int trimmed;             /* 1: no field was quoted, so none starts or ends with a space
                              * or tab (0 says nothing either way) */
};

/* Called once per record; valid only during the call. Return 0 to go on, or an exit-class
 * code (with *e set) to stop the reader: feed/finish then return that code. */
typedef int (*csvread_fn)(void *ctx, const struct csvread_record *rec, struct out_error *e);

/* The common line offered whole, for a consumer that splits it more cheaply than a record
 * is made: plain ASCII without a quote, NUL, CR or LF, no field starting or ending with a
 * space or tab (so none has anything to trim). raw[0..raw_len) is the line as in the file,
 * without its line break and not NUL-terminated; its nd + 1 fields are separated by the
 * delimiter at the offsets delim[0..nd) (delim may be NULL when nd is 0). Valid only during
 * the call; ctx, line and the return value are as for csvread_fn. */
typedef int (*csvread_plain_fn)(void *ctx, const char *raw, size_t raw_len, const size_t *delim,
                                size_t nd, long line, struct out_error *e);

struct csvread {
    struct csv_parser p;
    const char *name;
    unsigned char delim;          /* 0 until decided */
    int started, finished, status;
    size_t max_record;
    csvread_fn fn;
    csvread_plain_fn plain;
    void *ctx;
    struct out_error *e;
    long line, rec_line;
    int prev_cr, in_record, trimmed;
    unsigned char *pre;           /* bytes held until the first line is complete */
    size_t pre_len, pre_cap;
    char *raw;
    size_t raw_len, raw_cap;
    char *arena;                  /* the current record's fields, NUL-separated */
    size_t arena_len, arena_cap;
    size_t *off, *lenv;
    char **fieldv;
    size_t n_fields, cap_off, cap_len, cap_fv;
    int u_need;                   /* UTF-8 continuation bytes still expected */
    unsigned char u_lo, u_hi, u_lead;
};

/* Prepare r. name is used in error messages (not copied; must outlive r). delim is the
 * field separator, or 0 to detect it from the first non-blank line: the most frequent of
 * ',' ';' TAB outside quotes, ',' on a tie or when none occurs. max_record caps the bytes
 * of one record (0 = 1 MiB). Returns 0 or OUT_EINTERNAL (out of memory). */
int csvread_init(struct csvread *r, const char *name, char delim, size_t max_record,
                 csvread_fn fn, void *ctx, struct out_error *e);
/* Feed the next len bytes. Returns 0 or the error code (sticky: later calls return it). */
int csvread_feed(struct csvread *r, const void *buf, size_t len, struct out_error *e);
/* Signal end of input: delivers a last record without a final line break. Returns 0 or
 * an error code (e.g. unterminated quote, naming the line the open record starts on). */
int csvread_finish(struct csvread *r, struct out_error *e);
/* Release everything r holds; harmless on a zeroed or already freed r. */
void csvread_free(struct csvread *r);

/* Have lines that qualify come to fn as whole lines (NULL: as records, the default). */
void csvread_set_plain(struct csvread *r, csvread_plain_fn fn);

/* Tests: 1 sends every line through libcsv, 0 (the default) lets whole lines without a quote
 * be split directly, which gives the same records faster. Process-wide; not thread-safe. */
void csvread_force_libcsv(int on);

/* The delimiter in use (0 before the first line has been seen). */
char csvread_delimiter(const struct csvread *r);
/* The current physical line: after finish, the number of the line after the last break. */
long csvread_line(const struct csvread *r);

#endif
