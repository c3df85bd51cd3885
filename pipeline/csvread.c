/* csvread.c — see csvread.h.
 *
 * The trick that gives line numbers and raw bytes: input is cut at every CR and LF and each
 * piece is handed to libcsv separately. A piece therefore lies within one physical line, and
 * libcsv can only end a record on the piece's last byte, so the line counter and the raw
 * buffer are always exact at the moment the record callback runs. */
#include "csvread.h"
#include "grow.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { DEFAULT_MAX_RECORD = 1 << 20 };

#if defined(__GNUC__)
__attribute__((format(printf, 5, 6)))
#endif
static int fail(struct csvread *r, int code, long line, long col, const char *fmt, ...)
{
    /* Only the first error counts: later ones are consequences. */
    if (!r->status) {
        char msg[400];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
        r->status = out_err(r->e, code, r->name, line, col, "%s", msg);
    }
    return r->status;
}

int csvread_init(struct csvread *r, const char *name, char delim, size_t max_record,
                 csvread_fn fn, void *ctx, struct out_error *e)
{
    memset(r, 0, sizeof *r);
    r->name = name;
    r->delim = (unsigned char)delim;
    r->fn = fn;
    r->ctx = ctx;
    r->e = e;
    r->line = 1;
    r->u_lo = 0x80;
    r->u_hi = 0xBF;
    if (csv_init(&r->p, CSV_STRICT | CSV_STRICT_FINI) != 0)
        return out_err(e, OUT_EINTERNAL, name, 0, 0, "out of memory");
    r->max_record = max_record ? max_record : DEFAULT_MAX_RECORD;
    return 0;
}

void csvread_free(struct csvread *r)
{
    if (!r)
        return;
    if (r->max_record)   /* set only once csv_init has run */
        csv_free(&r->p);
    free(r->pre);
    free(r->raw);
    free(r->arena);
    free(r->off);
    free(r->lenv);
    free(r->fieldv);
    memset(r, 0, sizeof *r);
}

char csvread_delimiter(const struct csvread *r)
{
    return (char)r->delim;
}

long csvread_line(const struct csvread *r)
{
    return r->line;
}

static void on_field(void *data, size_t len, void *ctx)
{
    struct csvread *r = ctx;
    if (r->status)
        return;
    size_t nf = r->n_fields + 1;
    if (grow_buf((void **)&r->arena, &r->arena_cap, r->arena_len + len + 1, 1) ||
        grow_buf((void **)&r->off, &r->cap_off, nf, sizeof *r->off) ||
        grow_buf((void **)&r->lenv, &r->cap_len, nf, sizeof *r->lenv) ||
        grow_buf((void **)&r->fieldv, &r->cap_fv, nf, sizeof *r->fieldv)) {
        fail(r, OUT_EINTERNAL, r->line, 0, "out of memory");
        return;
    }
    if (len)
        memcpy(r->arena + r->arena_len, data, len);
    r->off[r->n_fields++] = r->arena_len;
    r->arena_len += len;
    r->arena[r->arena_len++] = '\0';
}

/* Hand the record in fieldv/lenv (n_fields of them) and raw to the callback, and reset. */
static void deliver(struct csvread *r, int c)
{
    size_t raw_len = r->raw_len;
    if ((c == '\r' || c == '\n') && raw_len)
        raw_len--;   /* the terminator is the line's, not the record's */
    if (!r->raw)
        return;   /* unreachable: a record always has bytes */
    r->raw[raw_len] = '\0';
    struct csvread_record rec = {
        .n = r->n_fields,
        .field = r->fieldv,
        .len = r->lenv,
        .line = r->rec_line,
        .raw = r->raw,
        .raw_len = raw_len,
        .trimmed = r->trimmed,
    };
    int rc = r->fn(r->ctx, &rec, r->e);
    if (rc && !r->status)
        r->status = rc;
    r->n_fields = 0;
    r->arena_len = 0;
    r->raw_len = 0;
    r->in_record = 0;
    r->trimmed = 0;
}

static void on_record(int c, void *ctx)
{
    struct csvread *r = ctx;
    if (r->status)
        return;
    /* Pointers are taken only now: the arena may have moved while the fields arrived. */
    for (size_t i = 0; i < r->n_fields; i++) {
        r->fieldv[i] = r->arena + r->off[i];
        size_t end = i + 1 < r->n_fields ? r->off[i + 1] : r->arena_len;
        r->lenv[i] = end - r->off[i] - 1;
    }
    deliver(r, c);
}

/* Tests set this to send every line through libcsv, to compare the two paths. */
static int force_libcsv;

void csvread_force_libcsv(int on)
{
    force_libcsv = on;
}

/* split_line for a line without a quote: copied whole, then cut in place (each delimiter
 * and trimmed blank overwritten by a NUL), which costs one copy a line instead of one a
 * field. The arena has room for n + 1 bytes. */
static int split_plain(struct csvread *r, const unsigned char *s, size_t n, int term)
{
    const char delim = (char)r->delim;
    char *a = r->arena;
    memcpy(a, s, n);
    a[n] = '\0';
    size_t nf = 0, i = 0;
    for (;;) {
        while (i < n && (a[i] == ' ' || a[i] == '\t') && a[i] != delim)
            i++;
        const char *d = memchr(a + i, delim, n - i);
        size_t end = d ? (size_t)(d - a) : n, e = end;
        while (e > i && (a[e - 1] == ' ' || a[e - 1] == '\t'))
            e--;
        a[e] = '\0';
        if (grow_buf((void **)&r->off, &r->cap_off, nf + 1, sizeof *r->off) ||
            grow_buf((void **)&r->lenv, &r->cap_len, nf + 1, sizeof *r->lenv) ||
            grow_buf((void **)&r->fieldv, &r->cap_fv, nf + 1, sizeof *r->fieldv))
            return fail(r, OUT_EINTERNAL, r->line, 0, "out of memory");
        r->fieldv[nf] = a + i;
        r->lenv[nf] = e - i;
        nf++;
        if (end >= n)
            break;
        i = end + 1;
    }
    r->n_fields = nf;
    r->trimmed = 1;
    deliver(r, term);
    return r->status;
}

/* A whole physical line at a record start, split here instead of through libcsv's
 * byte-by-byte callbacks, with the result libcsv gives for it: fields trimmed of the spaces
 * and tabs around them (a tab delimiter excepted), quoted fields taken verbatim with ""
 * read as ", an empty last field after a trailing delimiter. s[0..n) is the line without
 * its terminator `term` (the CR or LF). Returns -1, having done nothing, for a line it does
 * not handle: a quoted field that goes on past the line, or any quoting libcsv rejects, so
 * that libcsv parses it and gives its own result or error. Otherwise 0 or r->status. */
static int split_line(struct csvread *r, const unsigned char *s, size_t n, int term)
{
    const unsigned char delim = r->delim;
    if (grow_buf((void **)&r->arena, &r->arena_cap, 2 * n + 2, 1))
        return fail(r, OUT_EINTERNAL, r->line, 0, "out of memory");
    if (!memchr(s, '"', n))
        return split_plain(r, s, n, term);
    char *w = r->arena;
    size_t nf = 0, i = 0;
    for (;;) {
        while (i < n && (s[i] == ' ' || s[i] == '\t') && s[i] != delim)
            i++;
        char *start = w;
        if (i < n && s[i] == '"') {
            for (i++;;) {
                const unsigned char *q = memchr(s + i, '"', n - i);
                if (!q)
                    return -1;   /* the quoted field spans lines */
                size_t k = (size_t)(q - s);
                memcpy(w, s + i, k - i);
                w += k - i;
                if (k + 1 < n && s[k + 1] == '"') {
                    *w++ = '"';
                    i = k + 2;
                    continue;
                }
                i = k + 1;
                break;
            }
            while (i < n && (s[i] == ' ' || s[i] == '\t') && s[i] != delim)
                i++;
            if (i < n && s[i] != delim)
                return -1;   /* text after the closing quote */
        } else {
            const unsigned char *d = memchr(s + i, delim, n - i);
            size_t end = d ? (size_t)(d - s) : n, e = end;
            if (memchr(s + i, '"', end - i))
                return -1;   /* a quote inside an unquoted field */
            while (e > i && (s[e - 1] == ' ' || s[e - 1] == '\t'))
                e--;
            memcpy(w, s + i, e - i);
            w += e - i;
            i = end;
        }
        *w++ = '\0';
        if (grow_buf((void **)&r->off, &r->cap_off, nf + 1, sizeof *r->off) ||
            grow_buf((void **)&r->lenv, &r->cap_len, nf + 1, sizeof *r->lenv) ||
            grow_buf((void **)&r->fieldv, &r->cap_fv, nf + 1, sizeof *r->fieldv))
            return fail(r, OUT_EINTERNAL, r->line, 0, "out of memory");
        r->fieldv[nf] = start;
        r->lenv[nf] = (size_t)(w - 1 - start);
        nf++;
        if (i >= n)
            break;
        i++;   /* the delimiter */
    }
    r->n_fields = nf;
    deliver(r, term);
    return r->status;
}

/* Bytes libcsv skips between records; a piece made only of these is not a record start. */
static int is_blank(const struct csvread *r, unsigned char c)
{
    return c == ' ' || c == '\r' || c == '\n' || (c == '\t' && r->delim != '\t');
}

/* One piece: bytes of a single physical line, ending at its CR or LF if it has one. */
static int piece(struct csvread *r, const unsigned char *s, size_t n)
{
    unsigned char last = s[n - 1];
    int ends_line = last == '\r' || last == '\n';
    int fresh = !r->in_record;   /* libcsv is between records */
    if (fresh) {
        size_t i = 0;
        while (i < n && is_blank(r, s[i]))
            i++;
        if (i == n && ends_line) {
            r->raw_len = 0;   /* a blank line: nothing of it belongs to a record */
            goto count;
        }
        if (i < n) {
            r->in_record = 1;
            r->rec_line = r->line;
        }
    }
    if (grow_buf((void **)&r->raw, &r->raw_cap, r->raw_len + n + 1, 1))
        return fail(r, OUT_EINTERNAL, r->line, 0, "out of memory");
    memcpy(r->raw + r->raw_len, s, n);
    r->raw_len += n;
    if (fresh && ends_line && !force_libcsv) {
        int rc = split_line(r, s, n - 1, last);
        if (rc > 0)
            return rc;
        if (rc == 0)
            goto count;
    }

    size_t used = csv_parse(&r->p, s, n, on_field, on_record, r);
    if (r->status)
        return r->status;
    if (used < n || csv_error(&r->p) != CSV_SUCCESS) {
        return fail(r, OUT_EINPUT, r->line, (long)r->n_fields + 1,
                    "malformed quoting in field %zu: a '\"' inside an unquoted field, or text "
                    "after a closing quote (quote the field and double its quotes)",
                    r->n_fields + 1);
    }
count:
    if (n > 1)
        r->prev_cr = 0;
    if (last == '\r') {
        r->line++;
        r->prev_cr = 1;
    } else if (last == '\n') {
        if (!r->prev_cr)
            r->line++;
        r->prev_cr = 0;
    } else {
        r->prev_cr = 0;
    }
    return 0;
}

/* fast_line's scan: masks of the bytes in a block of FL_BLOCK that stop a line for it
 * (CR, LF, '"', NUL, non-ASCII: *sp), that are the delimiter (*dm), and that are a space
 * or tab (*bl); bit k is the block's byte k. SSE2 where there is one (every x86-64), else
 * eight bytes at a time in a 64-bit word (CSVREAD_NO_SIMD forces that, for its test). */
#if defined(__SSE2__) && !defined(CSVREAD_NO_SIMD)
#include <emmintrin.h>
enum { FL_BLOCK = 16 };
static inline void fl_scan(const unsigned char *p, unsigned char delim, uint64_t *sp,
                           uint64_t *dm, uint64_t *bl)
{
    __m128i v = _mm_loadu_si128((const __m128i *)(const void *)p);
    __m128i stop = _mm_or_si128(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\r')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\n'))),
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('"')), _mm_cmpeq_epi8(v, _mm_setzero_si128())));
    /* movemask of v itself: the bytes with the high bit set, non-ASCII */
    *sp = (uint64_t)(unsigned)(_mm_movemask_epi8(stop) | _mm_movemask_epi8(v));
    *dm = (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)delim)));
    *bl = (uint64_t)(unsigned)_mm_movemask_epi8(
        _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8(' ')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\t'))));
}
static inline unsigned fl_first(uint64_t m)   /* m != 0: the first marked byte */
{
    return (unsigned)__builtin_ctzll(m);
}
#else
enum { FL_BLOCK = 8 };
/* The high bit of every byte of w that is zero, and no other bit: exact, unlike the usual
 * (w - 0x01..) & ~w, which can also flag a byte above a zero one. */
static inline uint64_t zero_bytes(uint64_t w)
{
    const uint64_t m7f = 0x7F7F7F7F7F7F7F7Fu;
    return ~(((w & m7f) + m7f) | w | m7f);
}
static inline void fl_scan(const unsigned char *p, unsigned char delim, uint64_t *sp,
                           uint64_t *dm, uint64_t *bl)
{
    const uint64_t ones = 0x0101010101010101u;
    uint64_t w;
    memcpy(&w, p, 8);
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w);   /* byte k of the block at bits 8k..8k+7 */
#endif
    *sp = (w & ones * 0x80) | zero_bytes(w) | zero_bytes(w ^ ones * '\r') |
          zero_bytes(w ^ ones * '\n') | zero_bytes(w ^ ones * '"');
    *dm = zero_bytes(w ^ ones * delim);
    *bl = zero_bytes(w ^ ones * ' ') | zero_bytes(w ^ ones * '\t');
}
static inline unsigned fl_first(uint64_t m)   /* m != 0: the first marked byte */
{
    return (unsigned)__builtin_ctzll(m) >> 3;
}
#endif

/* The common line in one pass, where the general path makes five (validate, copy, look for
 * a quote, copy again, split): at a record start with nothing pending, a whole line in
 * s[0..n), plain ASCII without a quote or NUL, not blank at its start, within max_record.
 * It is split exactly as split_plain would split it and its record delivered (or, when no
 * field starts or ends with a space or tab, offered whole to the plain callback when there
 * is one), and its line break (CR, LF, or CR LF) counted as piece would count it. Returns
 * the bytes used, or 0 having changed nothing, when the general path must take the line. */
static size_t fast_line(struct csvread *r, const unsigned char *s, size_t n)
{
    if (n < 2 || is_blank(r, s[0]))
        return 0;
    size_t i = 0, nd = 0, len = 0;
    int blanks = 0;
    for (;;) {
        uint64_t sp = 0, dm = 0, bl = 0;
        if (i + FL_BLOCK <= n) {
            fl_scan(s + i, r->delim, &sp, &dm, &bl);
        } else {
            /* The chunk's last few bytes: the same masks, a byte at a time. */
            for (size_t b = 0; i + b < n; b++) {
                unsigned char c = s[i + b];
                uint64_t bit = (uint64_t)1 << (FL_BLOCK == 8 ? 8 * b + 7 : b);
                if (c == '\r' || c == '\n' || c == '"' || c == 0 || c >= 0x80)
                    sp |= bit;
                else if (c == r->delim)
                    dm |= bit;
                else if (c == ' ' || c == '\t')
                    bl |= bit;
            }
            if (!sp)
                return 0;   /* the line goes on into the next chunk */
        }
        if (sp) {
            unsigned b = fl_first(sp);
            if (s[i + b] != '\r' && s[i + b] != '\n')
                return 0;   /* a quote, NUL or non-ASCII byte: not for this path */
            /* only what lies before the line break */
            uint64_t before = FL_BLOCK == 8 ? ((uint64_t)1 << (8 * b)) - 1
                                            : ((uint64_t)1 << b) - 1;
            dm &= before;
            bl &= before;
            len = i + b;
        }
        blanks |= (bl & ~dm) != 0;   /* a tab delimiter is no blank */
        for (; dm; dm &= dm - 1) {
            if (nd == r->cap_off &&
                grow_buf((void **)&r->off, &r->cap_off, nd + 1, sizeof *r->off))
                return 0;
            r->off[nd++] = i + fl_first(dm);
        }
        if (sp)
            break;
        i += FL_BLOCK;
        if (i > r->max_record)
            return 0;   /* too long: the general path reports it */
    }
    if (len > r->max_record)
        return 0;
    /* Offered whole when the consumer takes such lines and no field has a blank to trim,
     * else split into a record: the raw bytes, then a copy cut in place. */
    int plain = r->plain != NULL;
    if (plain && blanks) {
        /* Blanks inside fields are kept; one at either end of a field would be trimmed. */
        for (size_t k = 0, from = 0; k <= nd && plain; k++) {
            size_t e = k < nd ? r->off[k] : len;
            if (e > from && (s[from] == ' ' || s[from] == '\t' || s[e - 1] == ' ' ||
                             s[e - 1] == '\t'))
                plain = 0;
            from = e + 1;
        }
    }
    char *raw = NULL;
    if (!plain) {
        if (grow_buf((void **)&r->arena, &r->arena_cap, 2 * len + 2, 1) ||
            grow_buf((void **)&r->lenv, &r->cap_len, nd + 1, sizeof *r->lenv) ||
            grow_buf((void **)&r->fieldv, &r->cap_fv, nd + 1, sizeof *r->fieldv))
            return 0;
        raw = r->arena;
        char *f = r->arena + len + 1;
        memcpy(raw, s, len);
        raw[len] = '\0';
        memcpy(f, s, len);
        f[len] = '\0';
        for (size_t k = 0, from = 0; k <= nd; k++) {
            size_t b = from, e = k < nd ? r->off[k] : len;
            from = e + 1;
            if (blanks) {
                while (b < e && (f[b] == ' ' || f[b] == '\t'))
                    b++;
                while (e > b && (f[e - 1] == ' ' || f[e - 1] == '\t'))
                    e--;
            }
            f[e] = '\0';
            r->fieldv[k] = f + b;
            r->lenv[k] = e - b;
        }
    }
    long line = r->line;
    r->rec_line = line;
    size_t used = len + 1;
    r->line++;
    r->prev_cr = 0;
    if (s[len] == '\r') {
        if (used < n && s[used] == '\n')
            used++;   /* CR LF: one line break */
        else
            r->prev_cr = 1;   /* an LF at the start of the next chunk would end no line */
    }
    int rc;
    if (plain) {
        rc = r->plain(r->ctx, (const char *)s, len, r->off, nd, line, r->e);
    } else {
        struct csvread_record rec = {
            .n = nd + 1, .field = r->fieldv, .len = r->lenv, .line = line,
            .raw = raw, .raw_len = len, .trimmed = 1,
        };
        rc = r->fn(r->ctx, &rec, r->e);
    }
    if (rc && !r->status)
        r->status = rc;
    return used;
}

void csvread_set_plain(struct csvread *r, csvread_plain_fn fn)
{
    r->plain = fn;
}

/* Validate text and cut it into pieces at line breaks. Errors are raised in byte order:
 * the bytes before a bad one are parsed first (they may hold an earlier error), so the
 * error reported never depends on where the chunks happen to be cut. */
static int process(struct csvread *r, const unsigned char *s, size_t n)
{
    size_t start = 0;
    const char *why = NULL;
    unsigned char bad = 0;
    size_t i;
    for (i = 0; i < n; i++) {
        if (i == start && !r->u_need && !r->in_record && !r->raw_len && !force_libcsv) {
            size_t k;
            while (i < n && (k = fast_line(r, s + i, n - i)) > 0) {
                i += k;
                if (r->status)
                    return r->status;
            }
            start = i;
            if (i >= n)
                break;
        }
        if (!r->u_need) {
            /* Fast path: 8 bytes at a time while they are plain ASCII (no high bit, NUL,
             * CR or LF) and the record stays under the limit; each such byte would only
             * pass the checks below. */
            const uint64_t k1 = 0x0101010101010101u, k80 = 0x8080808080808080u;
            while (i + 8 <= n && r->raw_len + (i + 8 - start) <= r->max_record) {
                uint64_t w, cr, lf;
                memcpy(&w, s + i, 8);
                cr = w ^ 0x0D0D0D0D0D0D0D0Du;
                lf = w ^ 0x0A0A0A0A0A0A0A0Au;
                if ((w | ((w - k1) & ~w) | ((cr - k1) & ~cr) | ((lf - k1) & ~lf)) & k80)
                    break;
                i += 8;
            }
            if (i >= n)
                break;
        }
        unsigned char c = s[i];
        if (r->u_need) {
            if (c < r->u_lo || c > r->u_hi) {
                bad = r->u_lead;   /* name the byte that started the broken sequence */
                why = "utf8";
                break;
            }
            r->u_need--;
            r->u_lo = 0x80;
            r->u_hi = 0xBF;
            continue;
        }
        if (c == '\r' || c == '\n') {
            if (piece(r, s + start, i + 1 - start))
                return r->status;
            start = i + 1;
            continue;
        }
        if (r->raw_len + (i + 1 - start) > r->max_record) {
            why = "long";
            break;
        }
        if (c < 0x80) {
            if (c == 0) {
                why = "nul";
                break;
            }
            continue;
        }
        if (c < 0xC2 || c > 0xF4) {
            bad = c;
            why = "utf8";
            break;
        }
        r->u_need = c < 0xE0 ? 1 : c < 0xF0 ? 2 : 3;
        r->u_lead = c;
        if (c == 0xE0)
            r->u_lo = 0xA0;      /* overlong */
        else if (c == 0xED)
            r->u_hi = 0x9F;      /* UTF-16 surrogates */
        else if (c == 0xF0)
            r->u_lo = 0x90;      /* overlong */
        else if (c == 0xF4)
            r->u_hi = 0x8F;      /* beyond U+10FFFF */
    }
    if (i > start && piece(r, s + start, i - start))
        return r->status;
    if (!why)
        return 0;
    if (why[0] == 'n')
        return fail(r, OUT_EINPUT, r->line, 0,
                    "NUL byte: this is not a text file (UTF-16? save it as UTF-8)");
    if (why[0] == 'l')
        return fail(r, OUT_EINPUT, r->in_record ? r->rec_line : r->line, 0,
                    "record longer than the limit of %zu bytes (a runaway quoted field?)",
                    r->max_record);
    return fail(r, OUT_EINPUT, r->line, 0,
                "invalid UTF-8 (byte 0x%02X): save the file as UTF-8 (it may be Latin-1 "
                "or Windows-1252)", bad);
}

/* Decide BOM and delimiter once the first non-blank line is complete, or the input ended,
 * or max_record bytes have come without one. Only the first max_record + 3 bytes are
 * looked at, so the decision is the same whatever the chunk sizes. */
static int start(struct csvread *r, int at_end)
{
    const unsigned char *s = r->pre;
    size_t window = r->max_record + 3;
    size_t n = r->pre_len < window ? r->pre_len : window, i = 0, eol = n;
    int content = 0, inq = 0;
    for (; i < n; i++) {
        if (s[i] == '"')
            inq = !inq;
        if ((s[i] == '\r' || s[i] == '\n') && !inq && content) {
            eol = i;
            break;
        }
        if (!is_blank(r, s[i]))
            content = 1;
    }
    if (i == n && n < window && !at_end)
        return 0;   /* wait for more */
    n = r->pre_len;
    if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return fail(r, OUT_EINPUT, 1, 0,
                    "the file is UTF-16 (byte-order mark %s); save it as UTF-8",
                    s[0] == 0xFF ? "FF FE" : "FE FF");
    size_t skip = n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF ? 3 : 0;
    if (!r->delim) {
        size_t count[3] = {0, 0, 0};
        inq = 0;
        for (size_t k = skip; k < eol; k++) {
            if (s[k] == '"')
                inq = !inq;
            else if (!inq && s[k] == ',')
                count[0]++;
            else if (!inq && s[k] == ';')
                count[1]++;
            else if (!inq && s[k] == '\t')
                count[2]++;
        }
        r->delim = count[1] > count[0] && count[1] >= count[2]   ? ';'
                   : count[2] > count[0] && count[2] > count[1] ? '\t'
                                                                : ',';
    }
    csv_set_delim(&r->p, r->delim);
    r->started = 1;
    int rc = n > skip ? process(r, s + skip, n - skip) : 0;
    free(r->pre);
    r->pre = NULL;
    r->pre_len = r->pre_cap = 0;
    return rc;
}

int csvread_feed(struct csvread *r, const void *buf, size_t len, struct out_error *e)
{
    r->e = e;
    if (r->status)
        return r->status;
    if (r->started)
        return process(r, buf, len);
    if (grow_buf((void **)&r->pre, &r->pre_cap, r->pre_len + len, 1))
        return fail(r, OUT_EINTERNAL, 0, 0, "out of memory");
    if (len)
        memcpy(r->pre + r->pre_len, buf, len);
    r->pre_len += len;
    return start(r, 0);
}

int csvread_finish(struct csvread *r, struct out_error *e)
{
    r->e = e;
    if (r->status)
        return r->status;
    if (r->finished)
        return 0;
    r->finished = 1;
    if (!r->started && start(r, 1))
        return r->status;
    if (r->u_need)
        return fail(r, OUT_EINPUT, r->line, 0,
                    "the file ends inside a UTF-8 character (truncated?)");
    /* csv_fini clears libcsv's status, so its return value is all we get. */
    if (csv_fini(&r->p, on_field, on_record, r) != 0)
        return fail(r, OUT_EINPUT, r->rec_line, 0,
                    "unterminated quoted field: the record starting on this line has an "
                    "opening '\"' that is never closed");
    return r->status;
}
