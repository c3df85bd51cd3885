/* test_ingest.c — the ingest stage and the modules under it: csvread against the
 * csv-spectrum conformance files and every chunk size, strict dates and numbers, SHA-256
 * (FIPS 180-2 vectors), one fixture per reject reason and per file-level error with the
 * exact message, count reconciliation, physical line numbers, dialects, the visits.csv
 * round trip, and the wide format (spec parsing, the shipped trial sample checked by hand,
 * whole-row rejects, chunk sizes). Run from the repository root (tests read tests/fixtures/ingest/ and
 * ../shared/reference/csv-spectrum/). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "civil_date.h"
#include "config.h"
#include "csvread.h"
#include "dataset.h"
#include "harness.h"
#include "ingest.h"
#include "parse_num.h"
#include "sha256.h"

#define FIX "tests/fixtures/ingest/"
#define SPECTRUM "../shared/reference/csv-spectrum/"

static char *slurp(const char *path, size_t *len)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    size_t got;
    while (buf && (got = fread(buf + n, 1, cap - n - 1, fp)) > 0) {
        n += got;
        if (cap - n - 1 == 0) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                buf = NULL;
            }
            buf = nb;
        }
    }
    fclose(fp);
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- sha256 ---------------------------------------------------------------------- */

static void hex_of(const char *msg, size_t len, size_t step, char out[65])
{
    struct sha256 s;
    sha256_init(&s);
    for (size_t i = 0; i < len; i += step)
        sha256_update(&s, msg + i, len - i < step ? len - i : step);
    sha256_final_hex(&s, out);
}

static void test_sha256(void)
{
    char h[65];
    const char *abc = "abc";
    const char *m448 = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
    hex_of(abc, 3, 3, h);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    for (size_t step = 1; step <= 56; step++) {
        hex_of(m448, strlen(m448), step, h);
        CHECK_STR(h, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
    }
    hex_of("", 0, 1, h);
    CHECK_STR(h, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    char *million = malloc(1000000);
    memset(million, 'a', 1000000);
    hex_of(million, 1000000, 4093, h);
    CHECK_STR(h, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
    free(million);
}

/* ---- civil dates and numbers ------------------------------------------------------ */

static void test_dates(void)
{
    int32_t d = -1;
    CHECK(civil_parse_iso("1970-01-01", &d) == CIVIL_OK && d == 0);
    CHECK(civil_parse_iso("2024-02-29", &d) == CIVIL_OK && d == 19782);
    CHECK(civil_parse_iso("2000-02-29", &d) == CIVIL_OK);
    CHECK(civil_parse_iso("1900-02-29", &d) == CIVIL_DAY);
    CHECK(civil_parse_iso("2025-02-29", &d) == CIVIL_DAY);
    CHECK(civil_parse_iso("2026-02-30", &d) == CIVIL_DAY);
    CHECK(civil_parse_iso("2026-04-31", &d) == CIVIL_DAY);
    CHECK(civil_parse_iso("2026-01-00", &d) == CIVIL_DAY);
    CHECK(civil_parse_iso("2026-13-01", &d) == CIVIL_MONTH);
    CHECK(civil_parse_iso("2026-00-01", &d) == CIVIL_MONTH);
    CHECK(civil_parse_iso("2026-2-3", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("26-02-03", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("2026-02-03x", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("2026-02-03 ", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("2026/02/03", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("2026-02-0", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("+026-02-03", &d) == CIVIL_FORMAT);
    CHECK(civil_parse_iso("1899-12-31", &d) == CIVIL_YEAR);
    CHECK(civil_days_in_month(2024, 2) == 29 && civil_days_in_month(2100, 2) == 28);
    /* Every day from 1900 to 2200 formats and parses back to itself. */
    int bad = 0;
    for (int32_t day = civil_days(1900, 1, 1); day <= civil_days(2200, 12, 31); day++) {
        char buf[11];
        int32_t back = -1;
        civil_format(day, buf);
        if (civil_parse_iso(buf, &back) != CIVIL_OK || back != day)
            bad++;
    }
    CHECK(bad == 0);
    CHECK(civil_today() > civil_days(2024, 1, 1));
}

static void test_numbers(void)
{
    double v = -1;
    CHECK(parse_decimal("7", '.', &v) == 0 && v == 7);
    CHECK(parse_decimal("7.5", '.', &v) == 0 && v == 7.5);
    CHECK(parse_decimal(".5", '.', &v) == 0 && v == 0.5);
    CHECK(parse_decimal("7.", '.', &v) == 0 && v == 7);
    CHECK(parse_decimal("+3", '.', &v) == 0 && v == 3);
    CHECK(parse_decimal("-0", '.', &v) == 0 && v == 0 && !signbit(v));
    CHECK(parse_decimal("007", '.', &v) == 0 && v == 7);
    /* one and two digits take a shortcut; a third digit or a sign does not */
    CHECK(parse_decimal("0", '.', &v) == 0 && v == 0 && !signbit(v));
    CHECK(parse_decimal("10", '.', &v) == 0 && v == 10);
    CHECK(parse_decimal("09", '.', &v) == 0 && v == 9);
    CHECK(parse_decimal("99", '.', &v) == 0 && v == 99);
    CHECK(parse_decimal("100", '.', &v) == 0 && v == 100);
    CHECK(parse_decimal("1x", '.', &v) == -1);
    CHECK(parse_decimal("1 ", '.', &v) == -1);
    const char *bad[] = {"", ".", "-", "nan", "NaN", "inf", "-inf", "infinity", "0x7", "1e1",
                         "1E1", "7,5", "7.5.1", " 7", "7 ", "1,000", "7a", "--7", "+-7", "٣"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(parse_decimal(bad[i], '.', &v) == -1);
    CHECK(parse_decimal("7,5", ',', &v) == 0 && v == 7.5);
    CHECK(parse_decimal("7.5", ',', &v) == -1);
    /* Short decimals take a fast path (m / 10^f); it must agree with strtod bit for bit.
     * Random digit strings of 1-18 digits (so both sides of the 15-digit cut), with a
     * separator anywhere, signs and leading zeros, in both decimal styles. */
    unsigned long long x = 0x9E3779B97F4A7C15ULL;
    int differ = 0;
    for (int t = 0; t < 2000000; t++) {
        char str[32], ref[32];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t nd = 1 + (size_t)(x % 18), k = 0, at = (size_t)((x >> 8) % (nd + 2));
        char dec = (x >> 16) & 1 ? ',' : '.';
        if ((x >> 17) % 4 == 0)
            str[k++] = (x >> 19) & 1 ? '-' : '+';
        for (size_t d = 0; d < nd; d++) {
            if (d == at)
                str[k++] = dec;
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            str[k++] = (char)('0' + (x >> 5) % 10);
        }
        str[k] = '\0';
        memcpy(ref, str, k + 1);
        char *sep = strchr(ref, dec);
        if (sep)
            *sep = '.';
        double got, want = strtod(ref, NULL);
        want = want == 0 ? 0.0 : want;
        if (parse_decimal(str, dec, &got) != 0 || memcmp(&got, &want, sizeof got) != 0) {
            if (differ++ < 3)
                fprintf(stderr, "parse_decimal(%s) = %.17g, strtod %.17g\n", str, got, want);
        }
    }
    CHECK(differ == 0);
    long n = 0;
    CHECK(parse_count("3", 100, &n) == 0 && n == 3);
    CHECK(parse_count("03", 100, &n) == 0 && n == 3);
    CHECK(parse_count("0", 100, &n) == -1);
    CHECK(parse_count("101", 100, &n) == -1);
    CHECK(parse_count("99999999999999999999999", 100, &n) == -1);
    CHECK(parse_count("1.0", 100, &n) == -1);
    CHECK(parse_count("-1", 100, &n) == -1);
    CHECK(parse_count("", 100, &n) == -1);
    CHECK(parse_is_missing("") && parse_is_missing("NA") && parse_is_missing("n/a") &&
          parse_is_missing(".") && !parse_is_missing("0") && !parse_is_missing("NAN"));
    int f = -1;
    CHECK(parse_flag("Yes", &f) == 0 && f == 1);
    CHECK(parse_flag("FALSE", &f) == 0 && f == 0);
    CHECK(parse_flag("maybe", &f) == -1);
}

/* ---- csvread ---------------------------------------------------------------------- */

/* Records serialised as "line|raw|f1|f2...\n" so runs can be compared as strings. */
struct collect {
    char *buf;
    size_t len;
    FILE *fp;
    size_t n_rec;
    const struct csvread *r;   /* for the delimiter in use */
};
static long layout_broken;   /* records whose fields break csvread.h's layout promise */

static int collect_cb(void *ctx, const struct csvread_record *rec, struct out_error *e)
{
    (void)e;
    struct collect *c = ctx;
    fprintf(c->fp, "%ld|%s", rec->line, rec->raw);
    for (size_t i = 0; i < rec->n; i++) {
        fputc('|', c->fp);
        fwrite(rec->field[i], 1, rec->len[i], c->fp);
        /* The layout csvread.h promises (the ingest pipeline copies fields as one block):
         * NUL-terminated, in order, one after the other in one buffer. */
        if (rec->field[i][rec->len[i]] != '\0' ||
            (i && rec->field[i] < rec->field[i - 1] + rec->len[i - 1] + 1))
            layout_broken++;
    }
    fputc('\n', c->fp);
    c->n_rec++;
    return 0;
}

/* csvread's plain callback, serialised as collect_cb serialises a record: the test compares
 * the two forms of a line with libcsv's. */
static int collect_plain_cb(void *ctx, const char *raw, size_t raw_len, const size_t *delim,
                            size_t nd, long line, struct out_error *e)
{
    (void)e;
    struct collect *c = ctx;
    fprintf(c->fp, "%ld|", line);
    fwrite(raw, 1, raw_len, c->fp);
    for (size_t k = 0, from = 0; k <= nd; k++) {
        size_t to = k < nd ? delim[k] : raw_len;
        if (to < from || to > raw_len || (k < nd && raw[to] != csvread_delimiter(c->r)))
            layout_broken++;
        fputc('|', c->fp);
        if (to >= from && to <= raw_len)
            fwrite(raw + from, 1, to - from, c->fp);
        from = to + 1;
    }
    fputc('\n', c->fp);
    c->n_rec++;
    return 0;
}

/* 1: read_records takes whole plain lines through collect_plain_cb */
static int collect_plain;

/* Parse data in chunks of `step` bytes; returns the rc and the serialised records in *out
 * (caller frees), the error formatted into err. */
static int read_records(const char *data, size_t len, size_t step, char delim, size_t max,
                        char **out, char *err, size_t errn)
{
    struct collect c = {0};
    c.fp = open_memstream(&c.buf, &c.len);
    struct csvread r;
    struct out_error e = {0};
    int rc = csvread_init(&r, "mem.csv", delim, max, collect_cb, &c, &e);
    if (collect_plain)
        csvread_set_plain(&r, collect_plain_cb);
    c.r = &r;
    for (size_t i = 0; !rc && i < len; i += step)
        rc = csvread_feed(&r, data + i, len - i < step ? len - i : step, &e);
    if (!rc)
        rc = csvread_finish(&r, &e);
    if (rc)
        fprintf(c.fp, "ERROR %s:%ld:%ld: %s\n", e.file, e.line, e.col, e.msg);
    fprintf(c.fp, "delim=%d\n", csvread_delimiter(&r));
    csvread_free(&r);
    fclose(c.fp);
    *out = c.buf;
    if (err) {
        err[0] = '\0';
        if (rc)
            out_error_format(&e, err, errn);
    }
    return rc;
}

/* The quote-free fast path of csvread must give exactly libcsv's records, line numbers, raw
 * bytes and errors. Random inputs over an alphabet rich in the bytes that matter (quotes,
 * CR, LF, delimiters, blanks, UTF-8), parsed both ways with random chunk sizes. */
/* The same input read with the plain callback set: 1 when it differs from libcsv's (ra, a,
 * ea), reported for the first few. */
static int plain_variant(const char *buf, size_t len, size_t step, char delim, size_t max,
                         int ra, const char *a, const char *ea)
{
    static int shown;
    char *c, ec[600];
    collect_plain = 1;
    int rc = read_records(buf, len, step, delim, max, &c, ec, sizeof ec);
    collect_plain = 0;
    int differs = rc != ra || strcmp(a, c) != 0 || strcmp(ea, ec) != 0;
    if (differs && shown++ < 3)
        fprintf(stderr, "plain lines differ (delim %d step %zu):\n--- libcsv\n%s--- plain\n%s",
                delim, step, a, c);
    free(c);
    return differs;
}

/* Read buf through libcsv alone, through the fast paths, and with the plain callback set:
 * counts in *mismatches and *plain_differs the ways that differ from libcsv's. */
static void both_ways(const char *buf, size_t len, size_t step, char delim, size_t max,
                      int *mismatches, int *plain_differs)
{
    char *a, *b, ea[600], eb[600];
    csvread_force_libcsv(1);
    int ra = read_records(buf, len, step, delim, max, &a, ea, sizeof ea);
    csvread_force_libcsv(0);
    int rb = read_records(buf, len, step, delim, max, &b, eb, sizeof eb);
    *plain_differs += plain_variant(buf, len, step, delim, max, ra, a, ea);
    if (ra != rb || strcmp(a, b) != 0 || strcmp(ea, eb) != 0) {
        if ((*mismatches)++ < 3)
            fprintf(stderr, "fast path differs (delim %d step %zu):\n--- libcsv\n%s--- fast\n%s",
                    delim, step, a, b);
    }
    free(a);
    free(b);
}

static void test_csvread_fast_path(void)
{
    int plain_differs = 0;
    /* Hand-checked results of libcsv's rules on quote-free lines. */
    struct { const char *in; char delim; const char *want; } cases[] = {
        {"  a , b\t,\t c \n", ',', "1|  a , b\t,\t c |a|b|c\n"},
        {"a\t b \t\tc\n", '\t', "1|a\t b \t\tc|a|b||c\n"},
        {"a,b,\r\n,\n", ',', "1|a,b,|a|b|\n2|,||\n"},
        {"x;y\r\rz\n", ';', "1|x;y|x|y\n3|z|z\n"},
        {" \"a, \"\"b\"\"\" ,\"\",c\n", ',', "1| \"a, \"\"b\"\"\" ,\"\",c|a, \"b\"||c\n"},
        {"\"t\tu\"\t \"\"\n", '\t', "1|\"t\tu\"\t \"\"|t\tu|\n"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *out;
        read_records(cases[i].in, strlen(cases[i].in), 1000, cases[i].delim, 0, &out, NULL, 0);
        char *nl = strstr(out, "delim=");
        if (nl)
            *nl = '\0';
        CHECK_STR(out, cases[i].want);
        free(out);
    }

    static const char alphabet[] = "aaaaabb1,,,;;\t\t  \"\"\r\n\n\n\xc3\xa9";
    unsigned long long x = 88172645463325252ULL;
    int mismatches = 0;
    for (int t = 0; t < 20000; t++) {
        char buf[200];
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        size_t len = (size_t)(x % sizeof buf);
        for (size_t k = 0; k < len; k++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            buf[k] = alphabet[x % (sizeof alphabet - 1)];
        }
        static const char delims[] = {',', ';', '\t', 0};
        char delim = delims[(x >> 8) % 4];
        size_t step = 1 + (size_t)((x >> 16) % 80);
        size_t max = (x >> 24) % 5 == 0 ? 30 : 0;
        both_ways(buf, len, step, delim, max, &mismatches, &plain_differs);
    }
    /* Well-formed records too (random fields, some quoted with doubled quotes, blanks
     * around, now and then a line break inside quotes), which random bytes rarely give. */
    static const char fieldchars[] = "ab1 \t,;\"\xc3\xa9\n";
    for (int t = 0; t < 20000; t++) {
        char buf[400];
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char delim = ",;\t"[x % 3];
        size_t nrec = 1 + (size_t)((x >> 4) % 4);
        for (size_t rr = 0; rr < nrec; rr++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t nfld = 1 + (size_t)(x % 5);
            for (size_t f = 0; f < nfld; f++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                int quoted = (x & 3) == 0;
                if (f)
                    buf[len++] = delim;
                if ((x >> 2) % 4 == 0)
                    buf[len++] = ' ';
                if (quoted)
                    buf[len++] = '"';
                size_t fl = (size_t)((x >> 5) % 6);
                for (size_t k = 0; k < fl; k++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    char ch = fieldchars[x % (sizeof fieldchars - 1)];
                    if (!quoted && (ch == delim || ch == '"' || ch == '\n'))
                        ch = 'z';
                    if (quoted && ch == '\n' && (x >> 9) % 4)
                        ch = 'y';
                    buf[len++] = ch;
                    if (quoted && ch == '"')
                        buf[len++] = '"';
                }
                if (quoted)
                    buf[len++] = '"';
                if ((x >> 7) % 4 == 0)
                    buf[len++] = ' ';
            }
            buf[len++] = (x >> 11) % 3 ? '\n' : '\r';
        }
        size_t step = 1 + (size_t)((x >> 16) % 200);
        both_ways(buf, len, step, delim, 0, &mismatches, &plain_differs);
    }
    /* Long quote-free lines, which the word-at-a-time scan of the fast path takes: fields
     * of 0 to 20 bytes, blanks at their ends now and then, CR, LF or CR LF breaks, a rare
     * quote, non-ASCII byte or NUL (which send a line to the general path), chunk cuts
     * anywhere and sometimes a record limit the lines run into. */
    static const char plainchars[] = "abcdefgh0123456789-./ \t";
    for (int t = 0; t < 20000; t++) {
        char buf[1200];
        size_t len = 0;
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        char delim = ",;\t"[x % 3];
        size_t nrec = 1 + (size_t)((x >> 4) % 8);
        for (size_t rr = 0; rr < nrec; rr++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            size_t nfld = 1 + (size_t)(x % 12);
            for (size_t f = 0; f < nfld; f++) {
                x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                if (f)
                    buf[len++] = delim;
                size_t fl = (size_t)((x >> 5) % 21);
                for (size_t k = 0; k < fl; k++) {
                    x ^= x << 13, x ^= x >> 7, x ^= x << 17;
                    char ch = plainchars[x % (sizeof plainchars - 1)];
                    if (x % 997 == 0)
                        ch = "\"\xc3\0"[(x >> 10) % 3];
                    buf[len++] = ch == delim ? 'z' : ch;
                }
            }
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            int brk = (int)(x % 4);
            if (brk == 0 || brk == 3)
                buf[len++] = '\r';
            if (brk >= 1)
                buf[len++] = '\n';
        }
        size_t step = 1 + (size_t)((x >> 16) % 300);
        size_t max = (x >> 24) % 5 == 0 ? 8 + (size_t)((x >> 28) % 100) : 0;
        both_ways(buf, len, step, delim, max, &mismatches, &plain_differs);
    }
    CHECK(mismatches == 0);
    CHECK(plain_differs == 0);
    CHECK(layout_broken == 0);
}

/* A tiny reader for the csv-spectrum JSON: an array of objects (or one object) whose
 * values are strings. Fills keys/vals per object, as "k\x1fv\x1e..." per record line. */
static const char *json_string(const char *p, FILE *out)
{
    if (*p != '"')
        return NULL;
    for (p++; *p && *p != '"'; p++) {
        if (*p != '\\') {
            fputc(*p, out);
            continue;
        }
        switch (*++p) {
        case 'n': fputc('\n', out); break;
        case 'r': fputc('\r', out); break;
        case 't': fputc('\t', out); break;
        case '"': fputc('"', out); break;
        case '\\': fputc('\\', out); break;
        case '/': fputc('/', out); break;
        default: return NULL;   /* \u does not occur in these files */
        }
    }
    return *p == '"' ? p + 1 : NULL;
}

static const char *skip_ws(const char *p)
{
    while (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t' || *p == ',')
        p++;
    return p;
}

/* Serialise the JSON objects as "f1|f2|...\n" per object, after a "k1|k2...\n" header
 * taken from the first object. Returns NULL on a parse failure. */
static char *json_records(const char *json)
{
    char *buf = NULL, *hdr = NULL;
    size_t len = 0, hlen = 0;
    FILE *fp = open_memstream(&buf, &len), *hp = open_memstream(&hdr, &hlen);
    const char *p = skip_ws(json);
    int array = *p == '[', first = 1, ok = 1;
    if (array)
        p = skip_ws(p + 1);
    while (ok && *p == '{') {
        p = skip_ws(p + 1);
        int firstkey = 1;
        while (ok && *p == '"') {
            FILE *sink = fopen("/dev/null", "w");
            if (first && !firstkey)
                fputc('|', hp);
            p = json_string(p, first ? hp : sink);
            fclose(sink);
            if (!p) { ok = 0; break; }
            p = skip_ws(p);
            if (*p != ':') { ok = 0; break; }
            p = skip_ws(p + 1);
            if (!firstkey)
                fputc('|', fp);
            p = json_string(p, fp);
            if (!p) { ok = 0; break; }
            p = skip_ws(p);
            firstkey = 0;
        }
        if (!ok || *p != '}')
            break;
        fputc('\n', fp);
        first = 0;
        p = skip_ws(p + 1);
        if (!array)
            break;
    }
    fputc('\n', hp);
    fclose(fp);
    fclose(hp);
    char *all = NULL;
    if (ok) {
        all = malloc(hlen + len + 1);
        memcpy(all, hdr, hlen);
        memcpy(all + hlen, buf, len + 1);
    }
    free(buf);
    free(hdr);
    return all;
}

static int fields_cb(void *ctx, const struct csvread_record *rec, struct out_error *e)
{
    (void)e;
    FILE *fp = ctx;
    for (size_t i = 0; i < rec->n; i++) {
        if (i)
            fputc('|', fp);
        fwrite(rec->field[i], 1, rec->len[i], fp);
    }
    fputc('\n', fp);
    return 0;
}

static char *csv_fields(const char *data, size_t len, int *rc)
{
    char *buf = NULL;
    size_t blen = 0;
    FILE *fp = open_memstream(&buf, &blen);
    struct csvread r;
    struct out_error e = {0};
    *rc = csvread_init(&r, "spectrum", ',', 0, fields_cb, fp, &e);
    if (!*rc)
        *rc = csvread_feed(&r, data, len, &e);
    if (!*rc)
        *rc = csvread_finish(&r, &e);
    csvread_free(&r);
    fclose(fp);
    return buf;
}

static void test_spectrum(void)
{
    static const char *const names[] = {
        "comma_in_quotes", "empty", "empty_crlf", "escaped_quotes", "json",
        "location_coordinates", "newlines", "newlines_crlf", "quotes_and_newlines",
        "simple", "simple_crlf", "utf8"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char path[256];
        size_t clen, jlen;
        snprintf(path, sizeof path, SPECTRUM "csvs/%s.csv", names[i]);
        char *csv = slurp(path, &clen);
        snprintf(path, sizeof path, SPECTRUM "json/%s.json", names[i]);
        char *json = slurp(path, &jlen);
        CHECK(csv && json);
        if (!csv || !json) {
            free(csv);
            free(json);
            continue;
        }
        int rc;
        char *got = csv_fields(csv, clen, &rc);
        char *want = json_records(json);
        CHECK(want != NULL);
        CHECK(rc == 0 || strcmp(names[i], "location_coordinates") == 0);
        if (strcmp(names[i], "location_coordinates") == 0) {
            /* A deliberate deviation: this file has '"' inside unquoted fields
             * (37°36'37.8"N), which csv-spectrum expects kept as text. Our reader is strict
             * (libcsv CSV_STRICT), because the lenient mode that keeps such quotes is also
             * the one that silently swallows every later row after an unterminated quote;
             * so the file is refused, naming the line and field. (Upstream's JSON also has
             * the wrong phone number: 1234567890 for the CSV's 2095257564.) */
            char err[600], *recs;
            CHECK(read_records(csv, clen, clen, ',', 0, &recs, err, sizeof err) == OUT_EINPUT);
            CHECK_CONTAINS(err, "mem.csv:2:2: malformed quoting in field 2");
            free(recs);
            free(got);
            free(want);
            free(csv);
            free(json);
            continue;
        }
        if (want && strcmp(got, want) != 0)
            fprintf(stderr, "spectrum %s:\n got: [%s]\nwant: [%s]\n", names[i], got, want);
        CHECK(want && strcmp(got, want) == 0);
        /* Every chunk size gives the same records, lines and raw bytes. */
        char *whole;
        read_records(csv, clen, clen ? clen : 1, 0, 0, &whole, NULL, 0);
        int same = 1;
        for (size_t step = 1; step < clen; step++) {
            char *part;
            read_records(csv, clen, step, 0, 0, &part, NULL, 0);
            same &= strcmp(part, whole) == 0;
            free(part);
        }
        CHECK(same);
        free(whole);
        free(got);
        free(want);
        free(csv);
        free(json);
    }
}

static void test_csvread_lines(void)
{
    /* BOM, CRLF, a quoted field over three physical lines, blank and space-only lines,
     * a CR-only line end, a last record without a line break. */
    const char *in = "\xEF\xBB\xBF" "a,b\r\n1,\"x\r\ny\nz\"\r\n\r\n   \n2,3\r4,\" q \"\n\n5,6";
    size_t len = strlen(in);
    char *whole;
    CHECK(read_records(in, len, len, 0, 0, &whole, NULL, 0) == 0);
    CHECK_STR(whole, "1|a,b|a|b\n"
                     "2|1,\"x\r\ny\nz\"|1|x\r\ny\nz\n"
                     "7|2,3|2|3\n"
                     "8|4,\" q \"|4| q \n"
                     "10|5,6|5|6\n"
                     "delim=44\n");
    for (size_t step = 1; step < len; step++) {
        char *part;
        read_records(in, len, step, 0, 0, &part, NULL, 0);
        if (strcmp(part, whole) != 0) {
            CHECK_STR(part, whole);
            free(part);
            break;
        }
        free(part);
    }
    free(whole);

    char err[600], *out;
    /* Delimiter detection: most frequent outside quotes; ',' on a tie. */
    read_records("a;b;\"c,d,e\"\n1;2;3\n", 18, 1, 0, 0, &out, NULL, 0);
    CHECK_CONTAINS(out, "delim=59");
    free(out);
    read_records("a\tb\tc\n", 6, 2, 0, 0, &out, NULL, 0);
    CHECK_CONTAINS(out, "delim=9");
    free(out);
    read_records("\n\nonly\n", 7, 1, 0, 0, &out, NULL, 0);
    CHECK_CONTAINS(out, "3|only|only\n");
    CHECK_CONTAINS(out, "delim=44");
    free(out);

    /* Strict quoting: errors with line and field. */
    CHECK(read_records("a,b\n1,x\"y\n", 10, 3, 0, 0, &out, err, sizeof err) == OUT_EINPUT);
    CHECK_CONTAINS(err, "mem.csv:2:2: malformed quoting in field 2");
    free(out);
    CHECK(read_records("a,b\n1,\"x\"y\n", 11, 1, 0, 0, &out, err, sizeof err) == OUT_EINPUT);
    CHECK_CONTAINS(err, "mem.csv:2:2: malformed quoting");
    free(out);
    CHECK(read_records("a,b\n1,2\n3,\"open\n\nmore\n", 22, 4, 0, 0, &out, err, sizeof err) ==
          OUT_EINPUT);
    CHECK_CONTAINS(err, "mem.csv:3: unterminated quoted field");
    free(out);
    /* Record length cap. */
    CHECK(read_records("a,b\n1,22222222222\n", 18, 5, 0, 10, &out, err, sizeof err) ==
          OUT_EINPUT);
    CHECK_CONTAINS(err, "mem.csv:2: record longer than the limit of 10 bytes");
    free(out);
    /* Invalid UTF-8 kinds: overlong, surrogate, truncated at end, stray continuation. */
    static const char *const bad8[] = {"a\n\xC0\xAF\n", "a\n\xED\xA0\x80\n", "a\n\xE2\x82",
                                       "a\n\x80\n", "a\n\xF4\x90\x80\x80\n"};
    for (size_t i = 0; i < 5; i++) {
        CHECK(read_records(bad8[i], strlen(bad8[i]), 1, 0, 0, &out, err, sizeof err) ==
              OUT_EINPUT);
        CHECK_CONTAINS(err, "mem.csv:2:");
        free(out);
    }
    CHECK(read_records("a\n\xF0\x9F\x98\x80,\xC3\xA9\n", 9, 1, 0, 0, &out, err, sizeof err) ==
          0);
    free(out);
    CHECK(read_records("\xFE\xFF\0a", 4, 1, 0, 0, &out, err, sizeof err) == OUT_EINPUT);
    CHECK_CONTAINS(err, "UTF-16 (byte-order mark FE FF)");
    free(out);
}

/* ---- ingest fixtures -------------------------------------------------------------- */

static int32_t test_today(void)
{
    return civil_days(2026, 1, 1);
}

struct run {
    int rc;
    struct dataset ds;
    struct out_error e;
    char err[700];
    char *rejects;
    size_t rej_len;
};

static void run_files(struct run *r, const char *const *paths, size_t n,
                      const struct ingest_opts *o)
{
    memset(r, 0, sizeof *r);
    dataset_init(&r->ds);
    FILE *rej = open_memstream(&r->rejects, &r->rej_len);
    r->rc = ingest_files(paths, n, o, &r->ds, rej, &r->e);
    fclose(rej);
    if (r->rc)
        out_error_format(&r->e, r->err, sizeof r->err);
}

static void run_one(struct run *r, const char *path, const struct ingest_opts *o)
{
    run_files(r, &path, 1, o);
}

static void run_free(struct run *r)
{
    dataset_free(&r->ds);
    free(r->rejects);
}

static void opts(struct ingest_opts *o)
{
    ingest_opts_default(o);
    o->today = test_today();
}

/* Counts reconcile: per file, in total, and by reason. */
static int reconciles(const struct dataset *ds)
{
    long by = 0, fr = 0, fa = 0, fj = 0;
    for (int k = 0; k < REJ__COUNT; k++)
        by += ds->rejected_by[k];
    for (size_t i = 0; i < ds->n_files; i++) {
        const struct input_file *f = &ds->file[i];
        if (f->rows_read != f->rows_accepted + f->rows_rejected)
            return 0;
        fr += f->rows_read;
        fa += f->rows_accepted;
        fj += f->rows_rejected;
    }
    return ds->rows_read == ds->rows_accepted + ds->rows_rejected &&
           by == ds->rows_rejected && fr == ds->rows_read && fa == ds->rows_accepted &&
           fj == ds->rows_rejected && (size_t)ds->rows_accepted == ds->n_visits;
}

static void test_reject_fixtures(void)
{
    static const struct {
        const char *file;
        enum reject_reason reason;
        long n_rejected;
        const char *line;   /* an exact rejects.csv line (after the header) */
    } cases[] = {
        {"rej_field_count.csv", REJ_FIELD_COUNT, 1,
         FIX "rej_field_count.csv,3,,wrong_field_count,\"expected 6 fields as in the header, "
             "found 4\",\"P2,2025-01-02,1,5\"\n"},
        {"rej_missing_id.csv", REJ_MISSING_ID, 1,
         FIX "rej_missing_id.csv,3,1,missing_patient_id,patient_id is missing,"
             "\",2025-01-02,1,5,3,North\"\n"},
        {"rej_missing_date.csv", REJ_MISSING_DATE, 1,
         FIX "rej_missing_date.csv,3,2,missing_date,visit_date is missing,"
             "\"P2,NA,1,5,3,North\"\n"},
        {"rej_invalid_date.csv", REJ_BAD_DATE, 6,
         FIX "rej_invalid_date.csv,3,2,invalid_date,visit_date: '2026-02-30' is not a valid "
             "date (February 2026 has 28 days),\"P2,2026-02-30,1,5,3,North\"\n"},
        {"rej_future_date.csv", REJ_FUTURE_DATE, 1,
         FIX "rej_future_date.csv,3,2,future_date,visit_date: '2026-01-02' is after the "
             "reference date 2026-01-01,\"P2,2026-01-02,1,5,3,North\"\n"},
        {"rej_invalid_session.csv", REJ_BAD_SESSION, 3,
         FIX "rej_invalid_session.csv,3,3,invalid_session,session: '0' is not a whole number "
             "from 1 to 100000,\"P2,2025-01-02,0,5,3,North\"\n"},
        {"rej_non_numeric.csv", REJ_NONNUMERIC, 6,
         FIX "rej_non_numeric.csv,3,4,non_numeric_score,pain: 'abc' is not a number,"
             "\"P2,2025-01-02,1,abc,3,North\"\n"},
        {"rej_out_of_range.csv", REJ_RANGE, 3,
         FIX "rej_out_of_range.csv,3,4,out_of_range,pain: '11' is outside 0\u201310,"
             "\"P2,2025-01-02,1,11,3,North\"\n"},
        {"rej_no_scores.csv", REJ_NO_SCORES, 1,
         FIX "rej_no_scores.csv,3,,no_scores,no instrument score on this row,"
             "\"P2,2025-01-02,1,,NA,North\"\n"},
        {"rej_duplicate_exact.csv", REJ_DUP_EXACT, 1,
         FIX "rej_duplicate_exact.csv,3,,duplicate_exact,\"repeats line 2 (same patient, "
             "date, session and values)\",\"P1,2025-01-01,1,5,3,North\"\n"},
        {"rej_duplicate_conflict.csv", REJ_DUP_CONFLICT, 1,
         FIX "rej_duplicate_conflict.csv,3,4,duplicate_conflict,\"same patient, date and "
             "session as line 2 but other values (pain 5 there, 6 here); the first is "
             "kept\",\"P1,2025-01-01,1,6,3,North\"\n"},
        {"rej_invalid_flag.csv", REJ_BAD_FLAG, 2,
         FIX "rej_invalid_flag.csv,3,4,invalid_flag,\"adverse_event: 'maybe' is not yes/no "
             "(or 1/0, true/false)\",\"P1,2025-01-02,4,maybe,0\"\n"},
    };
    struct ingest_opts o;
    opts(&o);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        struct run r;
        run_one(&r, path, &o);
        CHECK(r.rc == 0);
        CHECK(reconciles(&r.ds));
        CHECK(r.ds.rows_accepted == 1);
        CHECK(r.ds.rows_rejected == cases[i].n_rejected);
        CHECK(r.ds.rejected_by[cases[i].reason] == cases[i].n_rejected);
        CHECK(r.ds.file[0].rows_rejected == cases[i].n_rejected);
        CHECK(strncmp(r.rejects, "file,line,column,reason,message,raw\n", 36) == 0);
        CHECK_CONTAINS(r.rejects, cases[i].line);
        /* strict: the same file fails, naming the first rejected row. */
        struct ingest_opts so = o;
        so.strict = 1;
        struct run s;
        run_one(&s, path, &so);
        CHECK(s.rc == OUT_EINPUT);
        CHECK(s.e.line == 3);
        CHECK_CONTAINS(s.err, "(strict:");
        run_free(&s);
        run_free(&r);
    }

    /* The other messages of the multi-row fixtures. */
    struct run r;
    run_one(&r, FIX "rej_invalid_date.csv", &o);
    CHECK_CONTAINS(r.rejects, ",4,2,invalid_date,visit_date: '2025-02-29' is not a valid date "
                              "(February 2025 has 28 days),");
    CHECK_CONTAINS(r.rejects, ",5,2,invalid_date,visit_date: '2026-2-3' is not a date in "
                              "YYYY-MM-DD form,");
    CHECK_CONTAINS(r.rejects, ",6,2,invalid_date,visit_date: '2025-01-02x' is not a date");
    CHECK_CONTAINS(r.rejects, ",7,2,invalid_date,visit_date: '2025-13-01' has no month 13,");
    CHECK_CONTAINS(r.rejects, ",8,2,invalid_date,visit_date: '0026-02-03' is before 1900,");
    run_free(&r);
    run_one(&r, FIX "rej_non_numeric.csv", &o);
    CHECK_CONTAINS(r.rejects, ",4,4,non_numeric_score,pain: 'nan' is not a number,");
    CHECK_CONTAINS(r.rejects, ",5,4,non_numeric_score,pain: 'inf' is not a number,");
    CHECK_CONTAINS(r.rejects, ",6,4,non_numeric_score,pain: '0x7' is not a number,");
    CHECK_CONTAINS(r.rejects, ",7,4,non_numeric_score,pain: '1e1' is not a number,");
    CHECK_CONTAINS(r.rejects, ",8,4,non_numeric_score,\"pain: '7,5' is not a number "
                              "(decimal comma? see --decimal-comma)\",\"P2,2025-01-07,1,"
                              "\"\"7,5\"\",3,North\"\n");
    run_free(&r);
    run_one(&r, FIX "rej_out_of_range.csv", &o);
    CHECK_CONTAINS(r.rejects, ",4,5,out_of_range,psqi: '-1' is outside 0\u201321,");
    CHECK_CONTAINS(r.rejects, ",5,4,out_of_range,pain: '10.5' is outside 0\u201310,");
    run_free(&r);
    run_one(&r, FIX "rej_invalid_session.csv", &o);
    CHECK_CONTAINS(r.rejects, ",4,3,invalid_session,session: '1.5' is not a whole number");
    CHECK_CONTAINS(r.rejects, ",5,3,invalid_session,session: '-1' is not a whole number");
    run_free(&r);
    run_one(&r, FIX "rej_invalid_flag.csv", &o);
    CHECK_CONTAINS(r.rejects, ",4,5,invalid_flag,\"baseline: '2' is not yes/no");
    CHECK(r.ds.visit[0].adverse == 0 && r.ds.visit[0].baseline == 1);
    run_free(&r);
}

static void test_file_errors(void)
{
    static const struct {
        const char *file;
        int rc;
        const char *msg;   /* the formatted error, exactly */
    } cases[] = {
        {"err_empty.csv", OUT_EINPUT, FIX "err_empty.csv: the file is empty"},
        {"err_blank_only.csv", OUT_EINPUT,
         FIX "err_blank_only.csv:4: no header line (the file holds only blank lines)"},
        {"err_missing_column.csv", OUT_EINPUT,
         FIX "err_missing_column.csv:1: missing required column 'visit_date' (rename yours "
             "with --column visit_date=NAME)"},
        {"err_no_instrument.csv", OUT_EINPUT,
         FIX "err_no_instrument.csv:1: no instrument column (expected one of: pain, pain_vas, "
             "psqi, isi, sleep, stress, rmdq, odi)"},
        {"err_duplicate_column.csv", OUT_EINPUT,
         FIX "err_duplicate_column.csv:1:4: duplicate column 'pain' (columns 3 and 4)"},
        {"err_empty_column_name.csv", OUT_EINPUT,
         FIX "err_empty_column_name.csv:1:3: column 3 has no name in the header"},
        {"err_utf16.csv", OUT_EINPUT,
         FIX "err_utf16.csv:1: the file is UTF-16 (byte-order mark FF FE); save it as UTF-8"},
        {"err_nul.csv", OUT_EINPUT,
         FIX "err_nul.csv:3: NUL byte: this is not a text file (UTF-16? save it as UTF-8)"},
        {"err_bad_utf8.csv", OUT_EINPUT,
         FIX "err_bad_utf8.csv:4: invalid UTF-8 (byte 0xE9): save the file as UTF-8 (it may "
             "be Latin-1 or Windows-1252)"},
        {"err_unterminated_quote.csv", OUT_EINPUT,
         FIX "err_unterminated_quote.csv:3: unterminated quoted field: the record starting on "
             "this line has an opening '\"' that is never closed"},
        {"err_bad_quote.csv", OUT_EINPUT,
         FIX "err_bad_quote.csv:2:6: malformed quoting in field 6: a '\"' inside an unquoted "
             "field, or text after a closing quote (quote the field and double its quotes)"},
        {"no_such_file.csv", OUT_EIO,
         FIX "no_such_file.csv: cannot open: No such file or directory"},
        {"", OUT_EIO, FIX ": read error: Is a directory"},
    };
    struct ingest_opts o;
    opts(&o);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[256];
        snprintf(path, sizeof path, FIX "%s", cases[i].file);
        struct run r;
        run_one(&r, path, &o);
        CHECK(r.rc == cases[i].rc);
        CHECK_STR(r.err, cases[i].msg);
        run_free(&r);
    }
    /* A record over the size limit. */
    o.max_field = 100;
    struct run r;
    run_one(&r, FIX "err_long_field.csv", &o);
    CHECK(r.rc == OUT_EINPUT);
    CHECK_STR(r.err, FIX "err_long_field.csv:3: record longer than the limit of 100 bytes (a "
                     "runaway quoted field?)");
    run_free(&r);
    /* Too many columns. */
    opts(&o);
    {
        char *wide = malloc(4097 * 8 + 2);
        size_t n = 0;
        for (int i = 0; i < 4097; i++)
            n += (size_t)sprintf(wide + n, "%sc%d", i ? "," : "", i);
        wide[n++] = '\n';
        struct dataset ds;
        dataset_init(&ds);
        struct out_error e = {0};
        CHECK(ingest_buffer("wide.csv", wide, n, &o, &ds, NULL, &e) == OUT_EINPUT);
        CHECK_STR(e.msg, "the header has 4097 columns; at most 4096 are supported");
        dataset_free(&ds);
        free(wide);
    }
    /* Rows before a file-level error were counted and still reconcile. */
    opts(&o);
    run_one(&r, FIX "err_bad_utf8.csv", &o);
    CHECK(r.ds.rows_read == 2 && reconciles(&r.ds));
    run_free(&r);
    /* A second file whose header differs. */
    const char *two[] = {FIX "rej_no_scores.csv", FIX "err_other_header.csv"};
    run_files(&r, two, 2, &o);
    CHECK(r.rc == OUT_EINPUT);
    CHECK_STR(r.err, FIX "err_other_header.csv:1: header differs from " FIX
                     "rej_no_scores.csv: no column 'psqi'");
    run_free(&r);
    /* The dataset must be fresh. */
    run_one(&r, FIX "ok_tab.csv", &o);
    CHECK(r.rc == 0);
    struct out_error e = {0};
    const char *p = FIX "ok_tab.csv";
    CHECK(ingest_files(&p, 1, &o, &r.ds, NULL, &e) == OUT_EINTERNAL);
    run_free(&r);
}

static void test_dialects(void)
{
    struct ingest_opts o;
    opts(&o);
    struct run r;

    run_one(&r, FIX "ok_bom_crlf.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_accepted == 2 && r.ds.n_patients == 1);
    CHECK(r.ds.n_cov == 1 && strcmp(r.ds.cov_name[0], "clinic") == 0);
    CHECK(r.ds.visit[1].line == 4 && r.ds.visit[1].session == 2);
    CHECK_STR(dataset_cov(&r.ds, 0, 0), "North");
    run_free(&r);

    run_one(&r, FIX "ok_semicolon.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_accepted == 2);
    CHECK_STR(dataset_cov(&r.ds, 0, 0), "North; East");
    run_free(&r);

    run_one(&r, FIX "ok_tab.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_accepted == 1 && r.ds.score[0] == 5);
    run_free(&r);

    /* Forcing the wrong delimiter turns the header into one column: no patient_id. */
    o.delimiter = ';';
    run_one(&r, FIX "ok_tab.csv", &o);
    CHECK(r.rc == OUT_EINPUT);
    CHECK_CONTAINS(r.err, "missing required column 'patient_id'");
    run_free(&r);
    o.delimiter = 0;

    /* CR-only line ends, with a CR inside a quoted field. */
    run_one(&r, FIX "ok_cr_only.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_read == 3 && r.ds.rows_accepted == 2);
    CHECK(r.ds.rejected_by[REJ_DUP_CONFLICT] == 1);
    CHECK_CONTAINS(r.rejects, "ok_cr_only.csv,5,4,duplicate_conflict,");
    CHECK_STR(dataset_cov(&r.ds, 1, 0), "Two\rLines");
    run_free(&r);

    /* Physical lines: a record spanning lines 3-5, a blank line 6 and a ",,,,," line 7
     * do not shift the reject on line 8. */
    run_one(&r, FIX "ok_multiline.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_read == 3 && r.ds.rows_accepted == 2 && reconciles(&r.ds));
    CHECK(r.ds.visit[1].line == 3);
    CHECK_CONTAINS(r.rejects, FIX "ok_multiline.csv,8,4,out_of_range,pain: '15' is outside "
                              "0\u201310,\"P2,2025-01-03,1,15,3,North\"\n");
    CHECK_STR(dataset_cov(&r.ds, 1, 0), "North\nWest\nEnd");
    run_free(&r);

    /* Renamed column. */
    struct out_error e = {0};
    CHECK(ingest_opts_add_column(&o, "patient_id=Record_ID", &e) == 0);
    CHECK(ingest_opts_add_column(&o, "patient_id", &e) == OUT_EUSAGE);
    CHECK(ingest_opts_add_column(&o, "=x", &e) == OUT_EUSAGE);
    run_one(&r, FIX "ok_record_id.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_accepted == 1);
    CHECK_STR(r.ds.patient_id[0], "R1");
    run_free(&r);
    opts(&o);

    /* Decimal comma, when asked for. */
    o.decimal_comma = 1;
    run_one(&r, FIX "rej_non_numeric.csv", &o);
    CHECK(r.ds.rows_accepted == 2 && r.ds.score[1 * r.ds.n_instr] == 7.5);
    run_free(&r);
    opts(&o);

    /* Several files: columns in another order; a duplicate across files names the file. */
    const char *two[] = {FIX "ok_bom_crlf.csv", FIX "ok_reordered.csv", FIX "ok_bom_crlf.csv"};
    run_files(&r, two, 3, &o);
    CHECK(r.rc == 0 && r.ds.n_files == 3 && r.ds.rows_accepted == 3 && reconciles(&r.ds));
    CHECK(r.ds.score[2 * r.ds.n_instr + 0] == 6 && r.ds.score[2 * r.ds.n_instr + 1] == 4);
    CHECK(r.ds.file[2].rows_rejected == 2);
    CHECK_CONTAINS(r.rejects, "ok_bom_crlf.csv,2,,duplicate_exact,\"repeats " FIX
                              "ok_bom_crlf.csv:2 (same");
    CHECK(r.ds.file[0].first_day == civil_days(2025, 1, 1));
    CHECK(r.ds.file[0].last_day == civil_days(2025, 2, 1));
    CHECK(r.ds.file[2].first_day == INT32_MIN);
    CHECK_STR(r.ds.file[0].sha256, r.ds.file[2].sha256);
    run_free(&r);
}

static void test_rich_and_round_trip(void)
{
    struct ingest_opts o;
    opts(&o);
    struct run r;
    run_one(&r, FIX "ok_rich.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_accepted == 6 && r.ds.n_patients == 3);
    CHECK(r.ds.n_instr == 2 && r.ds.pain_post && r.ds.n_cov == 3);
    /* Covariates come from each patient's earliest-dated row that has one. */
    CHECK_STR(dataset_cov(&r.ds, 0, 0), "South, Annex");
    CHECK_STR(dataset_cov(&r.ds, 0, 2), "40");
    CHECK_STR(dataset_cov(&r.ds, 1, 0), "=HYPERLINK(\"x\")");
    CHECK_STR(dataset_cov(&r.ds, 1, 2), "63");
    CHECK_STR(dataset_cov(&r.ds, 2, 0), "Line\nBreak");
    CHECK(dataset_cov(&r.ds, 2, 1) == NULL);
    CHECK_STR(r.ds.patient_id[2], "P 3");
    CHECK(isnan(r.ds.score[2 * 2 + 1]) && r.ds.score[2 * 2] == 7.25);
    CHECK(r.ds.pain_post[2] == 5.5 && isnan(r.ds.pain_post[1]));
    CHECK(r.ds.visit[1].adverse == 1 && r.ds.visit[2].adverse == -1 &&
          r.ds.visit[4].adverse == 1);
    CHECK(r.ds.visit[1].baseline == 1 && r.ds.visit[0].baseline == 0);
    CHECK(r.ds.visit[2].session == 0 && r.ds.visit[5].session == 3);
    CHECK(r.ds.visit[5].line == 8);
    /* SHA-256 of the file as read. */
    size_t len;
    char *bytes = slurp(FIX "ok_rich.csv", &len);
    char hex[65];
    hex_of(bytes, len, len, hex);
    CHECK_STR(r.ds.file[0].sha256, hex);
    free(bytes);

    /* visits.csv: written, read back, written again: the same bytes and dataset. */
    char *out1 = NULL, *out2 = NULL;
    size_t n1 = 0, n2 = 0;
    FILE *fp = open_memstream(&out1, &n1);
    CHECK(ingest_write_visits(&r.ds, fp, NULL) == 0);
    fclose(fp);
    CHECK(strncmp(out1, "patient_id,visit_date,session,pain,psqi,pain_post,adverse_event,"
                        "baseline,clinic,arm,age\n"
                        "P1,2025-03-01,2,6,10,4,no,0,\"South, Annex\",A,40\n", 120) == 0);
    CHECK_CONTAINS(out1, "P2,2025-02-03,,7.25,,5.5,,0,\"=HYPERLINK(\"\"x\"\")\",B,63\n");
    struct dataset back;
    dataset_init(&back);
    struct out_error e = {0};
    CHECK(ingest_buffer("visits.csv", out1, n1, &o, &back, NULL, &e) == 0);
    CHECK(back.rows_accepted == 6 && back.n_patients == 3 && back.n_cov == 3);
    int same = back.n_visits == r.ds.n_visits && back.n_instr == r.ds.n_instr;
    for (size_t i = 0; same && i < back.n_visits; i++) {
        const struct visit *a = &r.ds.visit[i], *b = &back.visit[i];
        same = a->day == b->day && a->session == b->session && a->adverse == b->adverse &&
               a->baseline == b->baseline &&
               strcmp(r.ds.patient_id[a->patient], back.patient_id[b->patient]) == 0;
        for (size_t k = 0; same && k < back.n_instr; k++) {
            double x = r.ds.score[i * back.n_instr + k], y = back.score[i * back.n_instr + k];
            same = (isnan(x) && isnan(y)) || x == y;
        }
    }
    CHECK(same);
    fp = open_memstream(&out2, &n2);
    CHECK(ingest_write_visits(&back, fp, NULL) == 0);
    fclose(fp);
    CHECK(n1 == n2 && strcmp(out1, out2) == 0);
    dataset_free(&back);
    free(out1);
    free(out2);
    run_free(&r);

    /* A write error is reported. */
    FILE *full = fopen("/dev/full", "w");
    if (full) {
        run_one(&r, FIX "ok_rich.csv", &o);
        CHECK(ingest_write_visits(&r.ds, full, &e) == OUT_EIO);
        fclose(full);
        run_free(&r);
    }
}

static void test_key_and_time(void)
{
    struct ingest_opts o;
    opts(&o);
    struct out_error e = {0};
    CHECK(ingest_opts_set_key(&o, "site,record", &e) == 0 && o.n_key == 2);
    CHECK(ingest_opts_set_key(&o, "site,,record", &e) == OUT_EUSAGE);
    CHECK(ingest_opts_set_key(&o, "site,record", &e) == 0);
    struct run r;
    run_one(&r, FIX "ok_composite_key.csv", &o);
    CHECK(r.rc == 0 && r.ds.n_patients == 2 && r.ds.rows_accepted == 3 && reconciles(&r.ds));
    CHECK_STR(r.ds.patient_id[0], "A/1");
    CHECK_STR(r.ds.patient_id[1], "B/1");
    CHECK(r.ds.n_cov == 0);
    CHECK_CONTAINS(r.rejects, "ok_composite_key.csv,4,2,missing_patient_id,record is missing "
                              "(part of the patient key),\"A,,2025-01-02,4\"\n");
    run_free(&r);
    /* Parts holding the separator. Joined as they are, "A/B" + "C" and "A" + "B/C" would
     * both be "A/B/C" and the two patients would merge into one with four visits. A slash
     * or backslash in a part is preceded by a backslash, so the ids differ:
     *   A/B, C  -> A\/B/C      A, B/C  -> A/B\/C      A\, B -> A\\/B */
    {
        static const char slash[] = "site,record,visit_date,pain\n"
                                    "A/B,C,2026-01-05,8\nA/B,C,2026-02-05,4\n"
                                    "A,B/C,2026-01-05,6\nA,B/C,2026-02-05,6\n"
                                    "A\\,B,2026-01-05,7\n";
        struct dataset sds;
        ingest_opts_default(&o);
        o.today = 20780;
        CHECK(ingest_opts_set_key(&o, "site,record", &e) == 0);
        dataset_init(&sds);
        CHECK(ingest_buffer("slash.csv", slash, sizeof slash - 1, &o, &sds, NULL, &e) == 0);
        CHECK(sds.rows_accepted == 5 && sds.n_patients == 3 && sds.n_visits == 5);
        if (sds.n_patients == 3) {
            CHECK_STR(sds.patient_id[0], "A\\/B/C");
            CHECK_STR(sds.patient_id[1], "A/B\\/C");
            CHECK_STR(sds.patient_id[2], "A\\\\/B");
        }
        dataset_free(&sds);
        opts(&o);
    }
    /* A patient_id column alongside a composite key is ambiguous: refused. */
    CHECK(ingest_opts_set_key(&o, "clinic", &e) == 0);
    run_one(&r, FIX "ok_tab.csv", &o);
    CHECK(r.rc == OUT_EINPUT);
    CHECK_CONTAINS(r.err, "ok_tab.csv:1:1: column 'patient_id' is present although "
                          "--patient-key is set");
    run_free(&r);

    opts(&o);
    CHECK(ingest_opts_set_time(&o, "week:fortnights", &e) == OUT_EUSAGE);
    CHECK(ingest_opts_set_time(&o, "week", &e) == OUT_EUSAGE);
    CHECK(ingest_opts_set_time(&o, "week:weeks", &e) == 0 && o.time_unit_days == 7);
    run_one(&r, FIX "ok_relative_time.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_accepted == 3 && r.ds.rows_rejected == 2 && reconciles(&r.ds));
    CHECK(r.ds.visit[0].day == 0 && r.ds.visit[1].day == 14 && r.ds.visit[2].day == 11);
    CHECK_CONTAINS(r.rejects, ",4,2,invalid_date,week: '-1' is not a time since start (a "
                              "number >= 0),");
    CHECK_CONTAINS(r.rejects, ",5,2,missing_date,week is missing,");
    run_free(&r);
    run_one(&r, FIX "ok_tab.csv", &o);
    CHECK(r.rc == OUT_EINPUT);
    CHECK_CONTAINS(r.err, "column 'visit_date' is present although --relative-time is set");
    run_free(&r);
    CHECK(ingest_opts_set_time(&o, "days_since:months", &e) == 0);
    run_one(&r, FIX "ok_relative_time.csv", &o);
    CHECK(r.rc == OUT_EINPUT);
    CHECK_CONTAINS(r.err, "missing relative-time column 'days_since'");
    run_free(&r);
}

/* The same file in every chunk size gives the same rejects and visits. */
static void test_chunk_sizes(void)
{
    static const char *const files[] = {FIX "ok_multiline.csv", FIX "ok_bom_crlf.csv",
                                        FIX "ok_cr_only.csv", FIX "rej_non_numeric.csv",
                                        FIX "ok_rich.csv", FIX "err_unterminated_quote.csv"};
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        size_t len;
        char *data = slurp(files[f], &len);
        CHECK(data != NULL);
        if (!data)
            continue;
        char *want = NULL;
        int same = 1;
        for (size_t step = len + 1; step >= 1; step--) {
            struct ingest_opts o;
            opts(&o);
            o.chunk_size = step;
            o.threads = step % 2 ? 2 : 1;   /* the two-thread pipeline must give the same */
            struct dataset ds;
            dataset_init(&ds);
            char *buf = NULL;
            size_t blen = 0;
            FILE *fp = open_memstream(&buf, &blen);
            struct out_error e = {0};
            int rc = ingest_buffer(files[f], data, len, &o, &ds, fp, &e);
            fprintf(fp, "rc=%d %ld:%ld %s\n", rc, e.line, e.col, e.msg);
            if (!rc)
                ingest_write_visits(&ds, fp, NULL);
            fprintf(fp, "%ld %ld %ld %s\n", ds.rows_read, ds.rows_accepted, ds.rows_rejected,
                    ds.file[0].sha256);
            fclose(fp);
            dataset_free(&ds);
            if (!want)
                want = buf;
            else {
                if (strcmp(buf, want) != 0 && same)
                    fprintf(stderr, "%s chunk %zu:\n%s\nvs\n%s\n", files[f], step, buf, want);
                same &= strcmp(buf, want) == 0;
                free(buf);
            }
        }
        CHECK(same);
        free(want);
        free(data);
    }
}

/* One load as text: rc, error, rejects, visits.csv, counts and hash. */
/* ingest_opts.pipe_batch for load_text (0: the default) */
static size_t load_pipe_batch;

static char *load_text(const char *name, const char *data, size_t len, int threads,
                       size_t chunk)
{
    struct ingest_opts o;
    opts(&o);
    o.threads = threads;
    o.pipe_batch = load_pipe_batch;
    o.chunk_size = chunk;
    struct dataset ds;
    dataset_init(&ds);
    char *buf = NULL;
    size_t blen = 0;
    FILE *fp = open_memstream(&buf, &blen);
    struct out_error e = {0};
    int rc = ingest_buffer(name, data, len, &o, &ds, fp, &e);
    fprintf(fp, "rc=%d %s:%ld:%ld %s\n", rc, e.file, e.line, e.col, e.msg);
    ingest_write_visits(&ds, fp, NULL);
    fprintf(fp, "%ld %ld %ld %zu %s\n", ds.rows_read, ds.rows_accepted, ds.rows_rejected,
            ds.n_patients, ds.n_files ? ds.file[0].sha256 : "-");
    fclose(fp);
    dataset_free(&ds);
    return buf;
}

/* The two-thread pipeline on inputs of many batches: every fixture concatenated (header
 * once) and repeated, so rejects of every kind and exact duplicates across batches; then
 * the same with an error far into the input (bad UTF-8, an unterminated quote, a field
 * count that only the judge sees) and with a header the judge refuses while the reader
 * runs ahead. The result must be the serial one to the byte, error included. */
static void test_pipeline(void)
{
    size_t slen;
    char *sample = slurp("samples/visits.csv", &slen);
    CHECK(sample != NULL);
    if (!sample)
        return;
    const char *body = strchr(sample, '\n') + 1;
    size_t blen = slen - (size_t)(body - sample), hlen = (size_t)(body - sample);
    size_t reps = (3u << 20) / blen + 1, cap = hlen + reps * blen + 256;
    char *big = malloc(cap);
    CHECK(big != NULL);
    if (!big) {
        free(sample);
        return;
    }
    size_t len = 0;
    memcpy(big, sample, hlen);
    len = hlen;
    for (size_t i = 0; i < reps; i++) {
        memcpy(big + len, body, blen);
        len += blen;
    }
    static const char *const tails[] = {"", "P1,2026-01-01,\xff\n", "P1,\"2026-01-01,5\n",
                                        "P1,2026-01-01\n"};
    for (size_t t = 0; t < sizeof tails / sizeof tails[0]; t++) {
        /* The tail goes in the middle: what follows it must not matter. */
        size_t mid = len / 2;
        while (big[mid - 1] != '\n')
            mid++;
        size_t tl = strlen(tails[t]);
        char *in = malloc(len + tl);
        CHECK(in != NULL);
        if (!in)
            break;
        memcpy(in, big, mid);
        memcpy(in + mid, tails[t], tl);
        memcpy(in + mid + tl, big + mid, len - mid);
        char *serial = load_text("big.csv", in, len + tl, 1, 0);
        char *piped = load_text("big.csv", in, len + tl, 2, 0);
        /* Small chunks, and the default (automatic) choice of threads. After an error the
         * hash covers what was read, so it is compared with a serial load of equal chunks. */
        char *serial_small = load_text("big.csv", in, len + tl, 1, 4093);
        char *piped_small = load_text("big.csv", in, len + tl, 0, 4093);
        /* Batches of 2 KiB: a thousand and more hand-overs. */
        load_pipe_batch = 2048;
        char *piped_prep = load_text("big.csv", in, len + tl, 2, 0);
        load_pipe_batch = 0;
        CHECK(strcmp(piped, serial) == 0);
        CHECK(strcmp(piped_small, serial_small) == 0);
        CHECK(strcmp(piped_prep, serial) == 0);
        free(piped_prep);
        /* The loads did what the case is about: all rows, or stopped by the tail's error
         * (the field-count tail is a reject, not an error). */
        if (t == 0 || t == 3)
            CHECK(strstr(serial, "\nrc=0 ") && strstr(serial, "duplicate_exact"));
        else
            CHECK(strstr(serial, "\nrc=3 big.csv:") != NULL);
        free(serial);
        free(piped);
        free(serial_small);
        free(piped_small);
        free(in);
    }
    /* A header the judge refuses (no visit_date) with megabytes behind it: the reader is
     * stopped, the error is the header's. */
    big[0] = 'X';
    const char *hdr_end = memchr(big, '\n', len);
    char *vd = hdr_end ? strstr(big, "visit_date") : NULL;
    CHECK(vd != NULL && vd < hdr_end);
    if (vd)
        vd[0] = 'W';
    char *serial = load_text("big.csv", big, len, 1, 0);
    char *piped = load_text("big.csv", big, len, 2, 0);
    CHECK(strstr(serial, "rc=3 big.csv:1:") && strstr(serial, "visit_date"));
    CHECK(strcmp(piped, serial) == 0);
    free(serial);
    free(piped);
    free(big);
    free(sample);
}

/* ---- wide format ----------------------------------------------------------------- */

/* Counts reconcile for a wide load: as reconciles() but a row may give several visits. */
static int reconciles_wide(const struct dataset *ds, size_t n_tp)
{
    long by = 0;
    for (int k = 0; k < REJ__COUNT; k++)
        by += ds->rejected_by[k];
    return ds->rows_read == ds->rows_accepted + ds->rows_rejected && by == ds->rows_rejected &&
           ds->file[0].rows_read == ds->rows_read &&
           ds->file[0].rows_accepted == ds->rows_accepted &&
           (size_t)ds->rows_accepted <= ds->n_visits &&
           ds->n_visits <= (size_t)ds->rows_accepted * n_tp;
}

/* Index of patient `id`'s visit with this session, or -1. */
static long find_visit(const struct dataset *ds, const char *id, int32_t session)
{
    for (size_t v = 0; v < ds->n_visits; v++)
        if (strcmp(ds->patient_id[ds->visit[v].patient], id) == 0 &&
            ds->visit[v].session == session)
            return (long)v;
    return -1;
}

static int visits_of(const struct dataset *ds, const char *id)
{
    int n = 0;
    for (size_t v = 0; v < ds->n_visits; v++)
        n += strcmp(ds->patient_id[ds->visit[v].patient], id) == 0;
    return n;
}

static void test_wide_spec(void)
{
    struct ingest_opts o;
    struct out_error e = {0};
    opts(&o);
    CHECK(ingest_opts_set_wide(&o, "pain_vas: pk1@0d, pk2@3m, pk5@12m; patient_id=id; "
                                   "arm=group", &e) == 0);
    CHECK(o.n_wide == 3);
    CHECK_STR(o.wide[1].column, "pk2");
    CHECK_STR(o.wide[1].instrument, "pain_vas");
    CHECK_STR(o.wide[1].when, "3m");
    /* Months are 30.4375 days, rounded: 3 x 30.4375 = 91.3125 -> 91, 12 x = 365.25 -> 365. */
    CHECK(o.wide[0].day == 0 && o.wide[1].day == 91 && o.wide[2].day == 365);
    CHECK(o.wide_date[0] == '\0');
    CHECK(o.n_map == 2);
    CHECK_STR(o.column_map[0].canonical, "patient_id");
    CHECK_STR(o.column_map[0].source, "id");
    CHECK_STR(o.column_map[1].canonical, "arm");
    CHECK_STR(o.column_map[1].source, "group");

    /* Units and their spellings: 2.5w = 17.5 -> 18 (round half away from zero); 1 month =
     * 30.4375 -> 30; 3 Months -> 91; 10 days; a trailing ';' and spaces are harmless. */
    opts(&o);
    CHECK(ingest_opts_set_wide(&o, " pain : a@0d , b@2.5w, c@1 month, d@3 Months, e@10 days;"
                                   " date = start ;", &e) == 0);
    CHECK(o.n_wide == 5 && o.wide[1].day == 18 && o.wide[2].day == 30 && o.wide[3].day == 91 &&
          o.wide[4].day == 10);
    CHECK_STR(o.wide[2].when, "1 month");
    CHECK_STR(o.wide_date, "start");
    CHECK(o.n_map == 0);

    static const struct {
        const char *spec, *msg;
    } bad[] = {
        {"", "no instrument (expected e.g. 'pain_vas: pk1@0d, pk2@3m; patient_id=id')"},
        {"patient_id=id", "no instrument"},
        {"pain_vas pk1@0d", "'pain_vas pk1@0d' is neither 'INSTRUMENT: COLUMN@OFFSET, ...' nor "
                            "'NAME=COLUMN'"},
        {"foo: a@0d", "'foo' is not an instrument (known: pain, pain_vas, psqi, isi, sleep, "
                      "stress, rmdq, odi; declare others in a config file)"},
        {": a@0d", "no instrument name before ':'"},
        {"pain:", "pain: no columns (expected e.g. 'pain: pk1@0d, pk2@3m')"},
        {"pain: a", "pain: 'a' has no time point (expected COLUMN@OFFSET, e.g. a@3m)"},
        {"pain: a@3x", "pain: 'a@3x': the offset is not a number >= 0 and a unit d, w or m "
                       "(days, weeks, months), e.g. 3m"},
        {"pain: a@-1d", "pain: 'a@-1d': the offset is not a number"},
        {"pain: a@m", "pain: 'a@m': the offset is not a number"},
        {"pain: a@1e1d", "pain: 'a@1e1d': the offset is not a number"},
        /* 1300 x 30.4375 = 39568.75 days > 100 x 365.25 = 36525. */
        {"pain: a@1300m", "pain: 'a@1300m': the offset is more than 100 years"},
        {"pain: @0d", "pain: '@0d': no column before '@'"},
        {"pain: a@0d,, b@3m", "pain: an empty item in the column list (a stray ',')"},
        {"pain: a@0d, a@3m", "column 'a' is used twice (pain at 0d and pain at 3m)"},
        {"pain: a@0d; odi: A@3m", "column 'A' is used twice (pain at 0d and odi at 3m)"},
        {"pain: a@0d, b@0w", "pain: columns 'a' (0d) and 'b' (0w) are both at day 0"},
        {"pain: a@0d; pain: b@3m", "instrument 'pain' is given twice"},
        {"pain: a@0d; date=x; date=y", "date= is given twice ('x' and 'y')"},
        {"pain: a@0d; date=a", "column 'a' is both the baseline date and a score column"},
        {"pain: a@0d; =id", "'=id': expected NAME=COLUMN, e.g. patient_id=id"},
        {"pain: a@0d; patient_id=", "'patient_id=': expected NAME=COLUMN"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        opts(&o);
        CHECK(ingest_opts_set_wide(&o, "odi: x@0d; patient_id=pid", &e) == 0);
        memset(&e, 0, sizeof e);
        int rc = ingest_opts_set_wide(&o, bad[i].spec, &e);
        CHECK(rc == OUT_EUSAGE);
        if (rc != OUT_EUSAGE)
            fprintf(stderr, "  spec '%s' was accepted\n", bad[i].spec);
        CHECK_CONTAINS(e.msg, bad[i].msg);
        /* A refused spec leaves the earlier one in force, renames included. */
        CHECK(o.n_wide == 1 && strcmp(o.wide[0].column, "x") == 0 && o.n_map == 1);
    }
    /* 64 columns fit, the 65th does not. */
    char spec[2048] = "pain_vas: c0@0d";
    for (int k = 1; k <= 64; k++) {
        size_t len = strlen(spec);
        snprintf(spec + len, sizeof spec - len, ", c%d@%dd", k, k);
    }
    opts(&o);
    CHECK(ingest_opts_set_wide(&o, spec, &e) == OUT_EUSAGE);
    CHECK_CONTAINS(e.msg, "more than 64 score columns");
    *strrchr(spec, ',') = '\0';
    CHECK(ingest_opts_set_wide(&o, spec, &e) == 0 && o.n_wide == 64);
    /* A later rename of the same source replaces the earlier one (config, then CLI). */
    opts(&o);
    CHECK(ingest_opts_add_column(&o, "patient_id=record", &e) == 0);
    CHECK(ingest_opts_add_column(&o, "clinic=RECORD", &e) == 0);
    CHECK(o.n_map == 1);
    CHECK_STR(o.column_map[0].canonical, "clinic");
    CHECK(ingest_opts_add_column(&o, "record", &e) == OUT_EUSAGE);
    CHECK_STR(e.msg, "'record': expected CANONICAL=SOURCE, e.g. patient_id=record_id");
}

/* samples/wide-trial.csv read through samples/wide-trial.map, checked against the file. */
static void test_wide_sample(void)
{
    struct ingest_opts o;
    struct out_error e = {0};
    opts(&o);
    CHECK(ingest_config_load_wide_map("samples/wide-trial.map", &o, &e) == 0);
    CHECK(o.n_wide == 3);
    struct run r;
    run_one(&r, "samples/wide-trial.csv", &o);
    CHECK(r.rc == 0);
    /* 40 data rows, all valid; 5 empty cells (pk2 of T09 and T30, pk5 of T08, T09, T26) are
     * missed visits, so 40 x 3 - 5 = 115 visits. */
    CHECK(r.ds.rows_read == 40 && r.ds.rows_accepted == 40 && r.ds.rows_rejected == 0);
    CHECK(r.ds.n_patients == 40 && r.ds.n_visits == 115);
    CHECK(reconciles_wide(&r.ds, 3));
    CHECK_STR(r.rejects, "file,line,column,reason,message,raw\n");
    CHECK(r.ds.n_instr == 1 && strcmp(r.ds.instr[0]->name, "pain_vas") == 0);
    CHECK(r.ds.n_cov == 1 && strcmp(r.ds.cov_name[0], "arm") == 0);
    /* Line 2: T01,control,78,44,18 — three visits, at day 0, 91 (3m) and 365 (12m). */
    long v1 = find_visit(&r.ds, "T01", 1), v2 = find_visit(&r.ds, "T01", 2),
         v3 = find_visit(&r.ds, "T01", 3);
    CHECK(v1 >= 0 && v2 >= 0 && v3 >= 0);
    if (v1 >= 0 && v2 >= 0 && v3 >= 0) {
        char d[11];
        CHECK(r.ds.visit[v1].day == 0 && r.ds.score[v1] == 78 && r.ds.visit[v1].baseline == 1);
        CHECK(r.ds.visit[v2].day == 91 && r.ds.score[v2] == 44 && r.ds.visit[v2].baseline == 0);
        CHECK(r.ds.visit[v3].day == 365 && r.ds.score[v3] == 18);
        /* 1970: Jan 31 + Feb 28 + Mar 31 = 90 days, so day 91 is April 2; 1970 has 365 days,
         * so day 365 is 1971-01-01. */
        civil_format(r.ds.visit[v2].day, d);
        CHECK_STR(d, "1970-04-02");
        civil_format(r.ds.visit[v3].day, d);
        CHECK_STR(d, "1971-01-01");
        CHECK(r.ds.visit[v1].line == 2 && r.ds.visit[v3].line == 2);
        CHECK(r.ds.visit[v1].adverse == -1);
        CHECK_STR(dataset_cov(&r.ds, r.ds.visit[v1].patient, 0), "control");
    }
    /* Line 10: T09,verum,55,, — baseline only. */
    CHECK(visits_of(&r.ds, "T09") == 1);
    long t9 = find_visit(&r.ds, "T09", 1);
    CHECK(t9 >= 0 && r.ds.score[t9] == 55 && r.ds.visit[t9].line == 10);
    if (t9 >= 0)
        CHECK_STR(dataset_cov(&r.ds, r.ds.visit[t9].patient, 0), "verum");
    /* Line 31: T30,verum,54,,30 — the missed 3-month visit leaves session 2 out; the
     * 12-month visit keeps session 3. */
    CHECK(visits_of(&r.ds, "T30") == 2);
    CHECK(find_visit(&r.ds, "T30", 2) < 0);
    long t30 = find_visit(&r.ds, "T30", 3);
    CHECK(t30 >= 0 && r.ds.score[t30] == 30 && r.ds.visit[t30].day == 365);
    /* Randomised 20 + 20 (samples/README.md). */
    int verum = 0;
    for (size_t p = 0; p < r.ds.n_patients; p++) {
        const char *arm = dataset_cov(&r.ds, p, 0);
        verum += arm && strcmp(arm, "verum") == 0;
    }
    CHECK(verum == 20);
    CHECK(r.ds.file[0].first_day == 0 && r.ds.file[0].last_day == 365);

    /* visits.csv: long format, and it reads back (without the wide spec) to 115 visits. */
    char *csv = NULL;
    size_t csv_len = 0;
    FILE *fp = open_memstream(&csv, &csv_len);
    CHECK(ingest_write_visits(&r.ds, fp, &e) == 0);
    fclose(fp);
    CHECK(strncmp(csv, "patient_id,visit_date,session,pain_vas,adverse_event,baseline,arm\n"
                       "T01,1970-01-01,1,78,,1,control\n"
                       "T01,1970-04-02,2,44,,0,control\n"
                       "T01,1971-01-01,3,18,,0,control\n", 150) == 0);
    CHECK_CONTAINS(csv, "\nT30,1970-01-01,1,54,,1,verum\nT30,1971-01-01,3,30,,0,verum\n");
    struct ingest_opts lo;
    opts(&lo);
    struct dataset back;
    dataset_init(&back);
    CHECK(ingest_buffer("visits.csv", csv, csv_len, &lo, &back, NULL, &e) == 0);
    CHECK(back.rows_accepted == 115 && back.rows_rejected == 0 && back.n_patients == 40);
    dataset_free(&back);
    free(csv);
    run_free(&r);
}

static void test_wide_rejects(void)
{
    struct ingest_opts o;
    struct out_error e = {0};
    opts(&o);   /* today 2026-01-01 */
    CHECK(ingest_opts_set_wide(&o, "pain_vas: v0@0d, v6@6w, v26@26w; pain: n0@0d, n26@26w; "
                                   "patient_id=id; date=randomised", &e) == 0);
    struct run r;
    run_one(&r, FIX "wide_rejects.csv", &o);
    CHECK(r.rc == 0);
    /* 14 rows: A1, A2 and A10 accepted, 11 rejected, each whole. */
    CHECK(r.ds.rows_read == 14 && r.ds.rows_accepted == 3 && r.ds.rows_rejected == 11);
    CHECK(reconciles_wide(&r.ds, 3));
    CHECK(r.ds.rejected_by[REJ_RANGE] == 2 && r.ds.rejected_by[REJ_NONNUMERIC] == 1 &&
          r.ds.rejected_by[REJ_NO_SCORES] == 1 && r.ds.rejected_by[REJ_FUTURE_DATE] == 1 &&
          r.ds.rejected_by[REJ_MISSING_DATE] == 1 && r.ds.rejected_by[REJ_BAD_DATE] == 1 &&
          r.ds.rejected_by[REJ_MISSING_ID] == 1 && r.ds.rejected_by[REJ_DUP_EXACT] == 1 &&
          r.ds.rejected_by[REJ_DUP_CONFLICT] == 1 && r.ds.rejected_by[REJ_FIELD_COUNT] == 1);
    /* Time points: 0, 6w = 42 and 26w = 182 days, shared by both instruments; so A1 (3
     * visits) + A2 (v6 empty: 2) + A10 (1) = 6 visits. */
    CHECK(r.ds.n_visits == 6);
    CHECK(r.ds.n_instr == 2 && strcmp(r.ds.instr[0]->name, "pain_vas") == 0 &&
          strcmp(r.ds.instr[1]->name, "pain") == 0);
    long a = find_visit(&r.ds, "A1", 1), b = find_visit(&r.ds, "A1", 2),
         c = find_visit(&r.ds, "A1", 3);
    CHECK(a >= 0 && b >= 0 && c >= 0);
    if (a >= 0 && b >= 0 && c >= 0) {
        char d[11];
        /* 2025-01-10 + 42 days: 21 to Jan 31, 21 more = Feb 21. + 182: Feb 10 (31), Mar 10
         * (59), Apr 10 (90), May 10 (120), Jun 10 (151), Jul 10 (181), Jul 11 (182). */
        civil_format(r.ds.visit[a].day, d);
        CHECK_STR(d, "2025-01-10");
        civil_format(r.ds.visit[b].day, d);
        CHECK_STR(d, "2025-02-21");
        civil_format(r.ds.visit[c].day, d);
        CHECK_STR(d, "2025-07-11");
        CHECK(r.ds.score[a * 2] == 70 && r.ds.score[a * 2 + 1] == 7);
        CHECK(r.ds.score[b * 2] == 50 && isnan(r.ds.score[b * 2 + 1]));
        CHECK(r.ds.score[c * 2] == 30 && r.ds.score[c * 2 + 1] == 3);
        CHECK_STR(dataset_cov(&r.ds, r.ds.visit[a].patient, 0), "north");
    }
    long a2 = find_visit(&r.ds, "A2", 3);
    CHECK(visits_of(&r.ds, "A2") == 2 && a2 >= 0);
    if (a2 >= 0) {
        char d[11];
        /* 2025-02-01 + 182: Mar 1 (28), ... Aug 1 (181), Aug 2. */
        civil_format(r.ds.visit[a2].day, d);
        CHECK_STR(d, "2025-08-02");
        CHECK(r.ds.score[a2 * 2] == 40 && isnan(r.ds.score[a2 * 2 + 1]));
    }
    long a10 = find_visit(&r.ds, "A10", 1);
    CHECK(visits_of(&r.ds, "A10") == 1 && a10 >= 0 && r.ds.score[a10 * 2] == 55.5);
    /* No visit of a rejected row got in, not even its valid cells. */
    CHECK(visits_of(&r.ds, "A3") == 0 && visits_of(&r.ds, "A4") == 0 &&
          visits_of(&r.ds, "A6") == 0 && visits_of(&r.ds, "A9") == 0);

    const char *F = FIX "wide_rejects.csv";
    static const char *const lines[] = {
        ",4,5,out_of_range,v6: '101' is outside 0\u2013100,\"A3,south,2025-03-01,80,101,20,8,2\"\n",
        ",5,6,non_numeric_score,v26: 'x' is not a number,\"A4,south,2025-03-05,60,55,x,6,5\"\n",
        ",6,,no_scores,no score at any time point on this row,\"A5,south,2025-03-05,,,,,\"\n",
        /* 2025-12-01 + 42 = 2026-01-12 (30 days to Dec 31, then 12). */
        ",7,5,future_date,\"v6: 6w after randomised is 2026-01-12, after the reference date "
        "2026-01-01\",\"A6,north,2025-12-01,50,40,30,5,3\"\n",
        ",8,3,missing_date,randomised is missing,\"A7,north,,50,40,30,5,3\"\n",
        ",9,3,invalid_date,randomised: '2025-02-30' is not a valid date (February 2025 has 28 "
        "days),",
        ",10,1,missing_patient_id,id is missing,",
        ",11,,duplicate_exact,\"repeats line 2 (same patient, time points and values)\",",
        ",12,5,duplicate_conflict,\"same patient, date and session as line 3 but other values "
        "(v6 empty there, 45 here); the first is kept\",",
        ",13,7,out_of_range,n0: '11' is outside 0\u201310,",
        ",15,,wrong_field_count,\"expected 8 fields as in the header, found 5\",",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        char want[400];
        snprintf(want, sizeof want, "%s%s", F, lines[i]);
        CHECK_CONTAINS(r.rejects, want);
    }
    run_free(&r);

    /* Under --strict the first rejected row is the error, with its line and column. */
    o.strict = 1;
    run_one(&r, FIX "wide_rejects.csv", &o);
    CHECK(r.rc == OUT_EINPUT);
    CHECK_CONTAINS(r.err, "wide_rejects.csv:4:5: v6: '101' is outside 0\u2013100 (strict: 11 "
                          "rows rejected)");
    run_free(&r);
}

/* Two instruments with their own time points, no date column: the synthetic baseline. */
static void test_wide_small(void)
{
    struct ingest_opts o;
    struct out_error e = {0};
    opts(&o);
    CHECK(ingest_opts_set_wide(&o, "pain: pain0@0d, pain4@4w; odi: odi0@0d, odi12@12w; "
                                   "patient_id=id", &e) == 0);
    struct run r;
    run_one(&r, FIX "wide_small.csv", &o);
    CHECK(r.rc == 0 && r.ds.rows_read == 4 && r.ds.rows_accepted == 2 &&
          r.ds.rows_rejected == 2 && reconciles_wide(&r.ds, 3));
    /* Time points 0, 28, 84: W1 has a score at each (3 visits); W2 only at 0, where pain
     * and ODI share one visit. */
    CHECK(r.ds.n_visits == 4);
    long w0 = find_visit(&r.ds, "W1", 1), w1 = find_visit(&r.ds, "W1", 2),
         w2 = find_visit(&r.ds, "W1", 3), x0 = find_visit(&r.ds, "W2", 1);
    CHECK(w0 >= 0 && w1 >= 0 && w2 >= 0 && x0 >= 0);
    if (w0 >= 0 && w1 >= 0 && w2 >= 0 && x0 >= 0) {
        CHECK(r.ds.visit[w0].day == 0 && r.ds.score[w0 * 2] == 8 && r.ds.score[w0 * 2 + 1] == 40);
        CHECK(r.ds.visit[w1].day == 28 && r.ds.score[w1 * 2] == 4 &&
              isnan(r.ds.score[w1 * 2 + 1]));
        CHECK(r.ds.visit[w2].day == 84 && isnan(r.ds.score[w2 * 2]) &&
              r.ds.score[w2 * 2 + 1] == 20);
        CHECK(r.ds.score[x0 * 2] == 7 && r.ds.score[x0 * 2 + 1] == 44);
        CHECK_STR(dataset_cov(&r.ds, r.ds.visit[x0].patient, 0), "control, sham");
    }
    CHECK_CONTAINS(r.rejects, FIX "wide_small.csv,4,,no_scores,");
    CHECK_CONTAINS(r.rejects, FIX "wide_small.csv,5,5,non_numeric_score,odi0: 'x' is not a "
                              "number,");
    run_free(&r);
}

/* A file that does not fit the spec is a file-level error naming what is wrong. */
static void test_wide_file_errors(void)
{
    static const struct {
        const char *spec, *data, *msg;
    } cases[] = {
        {"pain_vas: pk1@0d, pk9@12m; patient_id=id", "id,pk1\nT1,50\n",
         "w.csv:1: missing column 'pk9' of the wide spec (pain_vas at 12m)"},
        {"pain_vas: pk1@0d; date=start", "patient_id,pk1\nT1,50\n",
         "w.csv:1: missing baseline date column 'start' (date= in the wide spec)"},
        {"pain_vas: pk1@0d", "id,pk1\nT1,50\n", "w.csv:1: missing required column 'patient_id'"},
        {"pain_vas: pk1@0d", "patient_id,pk1,pain\nT1,50,4\n",
         "w.csv:1:3: column 'pain' is an instrument but the wide spec gives it no time point "
         "(add e.g. 'pain: pain@0d' to the spec, or rename the column)"},
        {"pain_vas: pk1@0d", "patient_id,visit_date,pk1\nT1,2025-01-01,50\n",
         "w.csv:1:2: column 'visit_date' has no meaning in a wide file (one row per patient): "
         "make it the baseline date with 'date=visit_date' in the wide spec"},
        {"pain_vas: pk1@0d", "patient_id,pk1,session\nT1,50,1\n",
         "w.csv:1:3: column 'session' has no meaning in a wide file (one row per patient); "
         "rename or drop it"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct ingest_opts o;
        struct out_error e = {0};
        opts(&o);
        CHECK(ingest_opts_set_wide(&o, cases[i].spec, &e) == 0);
        struct dataset ds;
        dataset_init(&ds);
        CHECK(ingest_buffer("w.csv", cases[i].data, strlen(cases[i].data), &o, &ds, NULL, &e) ==
              OUT_EINPUT);
        char msg[700];
        out_error_format(&e, msg, sizeof msg);
        CHECK_CONTAINS(msg, cases[i].msg);
        dataset_free(&ds);
    }
    /* Relative time and a wide spec both say when visits were: refused before reading. */
    struct ingest_opts o;
    struct out_error e = {0};
    opts(&o);
    CHECK(ingest_opts_set_wide(&o, "pain: p0@0d", &e) == 0);
    CHECK(ingest_opts_set_time(&o, "week:weeks", &e) == 0);
    struct dataset ds;
    dataset_init(&ds);
    CHECK(ingest_buffer("w.csv", "patient_id,p0\nT,1\n", 18, &o, &ds, NULL, &e) == OUT_EUSAGE);
    CHECK_CONTAINS(e.msg, "--relative-time cannot be combined with a wide spec");
    dataset_free(&ds);
    /* A composite key works in wide files too. */
    opts(&o);
    CHECK(ingest_opts_set_wide(&o, "pain: p0@0d, p1@1w", &e) == 0);
    CHECK(ingest_opts_set_key(&o, "site,rec", &e) == 0);
    dataset_init(&ds);
    const char *data = "site,rec,p0,p1\nN,1,5,3\nS,1,6,\n";
    CHECK(ingest_buffer("w.csv", data, strlen(data), &o, &ds, NULL, &e) == 0);
    CHECK(ds.n_patients == 2 && ds.n_visits == 3);
    CHECK_STR(ds.patient_id[0], "N/1");
    CHECK_STR(ds.patient_id[1], "S/1");
    CHECK(ds.visit[1].day == 7 && ds.visit[1].session == 2);
    dataset_free(&ds);
}

/* Wide fixtures in every chunk size give the same rejects and visits. */
static void test_wide_chunks(void)
{
    static const struct {
        const char *file, *spec;
    } cases[] = {
        {FIX "wide_small.csv", "pain: pain0@0d, pain4@4w; odi: odi0@0d, odi12@12w; "
                               "patient_id=id"},
        {FIX "wide_rejects.csv", "pain_vas: v0@0d, v6@6w, v26@26w; pain: n0@0d, n26@26w; "
                                 "patient_id=id; date=randomised"},
    };
    for (size_t f = 0; f < sizeof cases / sizeof cases[0]; f++) {
        size_t len;
        char *data = slurp(cases[f].file, &len);
        CHECK(data != NULL);
        if (!data)
            continue;
        char *want = NULL;
        int same = 1;
        for (size_t step = len + 1; step >= 1; step--) {
            struct ingest_opts o;
            struct out_error e = {0};
            opts(&o);
            o.chunk_size = step;
            ingest_opts_set_wide(&o, cases[f].spec, &e);
            struct dataset ds;
            dataset_init(&ds);
            char *buf = NULL;
            size_t blen = 0;
            FILE *fp = open_memstream(&buf, &blen);
            int rc = ingest_buffer(cases[f].file, data, len, &o, &ds, fp, &e);
            fprintf(fp, "rc=%d %ld:%ld %s\n", rc, e.line, e.col, e.msg);
            if (!rc)
                ingest_write_visits(&ds, fp, NULL);
            fprintf(fp, "%ld %ld %ld %zu\n", ds.rows_read, ds.rows_accepted, ds.rows_rejected,
                    ds.n_visits);
            fclose(fp);
            dataset_free(&ds);
            if (!want) {
                want = buf;
            } else {
                same &= strcmp(buf, want) == 0;
                free(buf);
            }
        }
        CHECK(same);
        free(want);
        free(data);
    }
}

/* The episode column: a bad value is rejected with its own reason and column; good values
 * survive the visits.csv round trip, and an empty cell stays empty. */
static void test_episode_column(void)
{
    static const char csv[] = "patient_id,visit_date,episode,pain\n"
                              "A,2026-01-05,1,8\nA,2026-01-12,,6\nA,2026-01-19,0,4\n";
    struct ingest_opts o;
    ingest_opts_default(&o);
    o.today = 20780;
    struct dataset ds;
    dataset_init(&ds);
    struct out_error e = {0};
    char rej[1024] = "";
    FILE *rf = fmemopen(rej, sizeof rej, "w");
    CHECK(ingest_buffer("ep.csv", csv, sizeof csv - 1, &o, &ds, rf, &e) == 0);
    fclose(rf);
    CHECK(ds.rows_read == 3 && ds.rows_accepted == 2 && ds.rows_rejected == 1);
    CHECK(ds.rejected_by[REJ_BAD_EPISODE] == 1);
    CHECK_CONTAINS(rej, "ep.csv,4,3,invalid_episode,episode: '0' is not a whole number");
    CHECK(ds.episode && ds.episode[0] == 1 && ds.episode[1] == 0);
    char out[1024] = "";
    FILE *fp = fmemopen(out, sizeof out, "w");
    CHECK(ingest_write_visits(&ds, fp, &e) == 0);
    fclose(fp);
    CHECK_CONTAINS(out, ",episode");
    struct dataset back;
    dataset_init(&back);
    struct ingest_opts o2;
    ingest_opts_default(&o2);
    o2.today = 20780;
    CHECK(ingest_buffer("visits.csv", out, strlen(out), &o2, &back, NULL, &e) == 0);
    CHECK(back.episode && back.n_visits == 2 && back.episode[0] == 1 && back.episode[1] == 0);
    dataset_free(&ds);
    dataset_free(&back);
}

/* Dates one after another, as rows give them: days of the month that do not exist,
 * malformed days and cells that share only a month's prefix with the row before are
 * refused, each day is the calendar's, whatever the date before it was.
 * Expected days by hand: 2024-01-01 is day 19723 (2000-01-01 is 10957, plus 24 years of
 * 365 days and 6 leap days); 2023-01-01 is 19723 - 365 = 19358. */
static void test_date_runs(void)
{
    static const char csv[] = "patient_id,visit_date,session,pain\n"
                              "A,2024-02-10,1,5\n"   /* 19723 + 31 + 9 = 19763 */
                              "A,2024-02-30,2,5\n"   /* February 2024 has 29 days */
                              "A,2024-02-00,3,5\n"
                              "A,2024-02-1,4,5\n"
                              "A,2024-02-29,5,5\n"   /* 19723 + 31 + 28 = 19782 */
                              "A,2024-03-01,6,5\n"   /* 19783 */
                              "A,2024-03-011,7,5\n"
                              "B,2023-02-01,1,5\n"   /* 19358 + 31 = 19389 */
                              "B,2023-02-29,2,5\n"   /* not a leap year */
                              "B,2023-02-28,3,5\n"   /* 19389 + 27 = 19416 */
                              "B,2024-02-2,4,5\n"
                              "B,2024,5,5\n"
                              "B,2024-02-05,6,5\n"   /* 19723 + 31 + 4 = 19758 */
                              "B,2024-02-,7,5\n"
                              "B,2024-02-0x,8,5\n";
    static const int32_t want[] = {19763, 19782, 19783, 19389, 19416, 19758};
    struct ingest_opts o;
    ingest_opts_default(&o);
    o.today = 20780;
    struct dataset ds;
    dataset_init(&ds);
    struct out_error e = {0};
    char rej[4096] = "";
    FILE *rf = fmemopen(rej, sizeof rej, "w");
    CHECK(ingest_buffer("d.csv", csv, sizeof csv - 1, &o, &ds, rf, &e) == 0);
    fclose(rf);
    CHECK(ds.rows_read == 15 && ds.rows_accepted == 6 && ds.rejected_by[REJ_BAD_DATE] == 9);
    CHECK(ds.n_visits == 6);
    for (size_t v = 0; v < ds.n_visits && v < 6; v++)
        CHECK(ds.visit[v].day == want[v]);
    CHECK_CONTAINS(rej, "d.csv,3,2,invalid_date,visit_date: '2024-02-30' is not a valid date "
                        "(February 2024 has 29 days)");
    CHECK_CONTAINS(rej, "d.csv,10,2,invalid_date,visit_date: '2023-02-29' is not a valid date "
                        "(February 2023 has 28 days)");
    CHECK_CONTAINS(rej, "d.csv,15,2,invalid_date,visit_date: '2024-02-' is not a date");
    dataset_free(&ds);
}

/* Spreadsheet-mangled ids (pitfalls.md: "long numbers become 1.23E+05"): an id in scientific
 * notation has lost its digits, so its rows are rejected with their own reason, on the id's
 * column, before any other check of the row; ids that only look numeric stay ids. */
/* Ingest text into a fresh ds with the rejects in rej (rej_size bytes, NUL-terminated);
 * ingest's return code. */
static int ingest_with_rejects(const char *name, const char *text, size_t len,
                               const struct ingest_opts *o, struct dataset *ds, char *rej,
                               size_t rej_size)
{
    struct out_error e = {0};
    dataset_init(ds);
    memset(rej, 0, rej_size);
    FILE *rf = fmemopen(rej, rej_size - 1, "w");
    if (!rf)
        return -1;
    int rc = ingest_buffer(name, text, len, o, ds, rf, &e);
    fclose(rf);
    return rc;
}

static void test_mangled_ids(void)
{
    static const char csv[] =
        "patient_id,visit_date,pain\n"
        "1.23457E+11,2026-01-05,8\n"     /* line 2: Excel's General format */
        "1.23457E+11,2026-01-12,6\n"     /* 3: the same id again: rejected again */
        "1E+05,2026-13-40,x\n"           /* 4: mangled id wins over the bad date and score */
        "4.5e+7,2026-01-05,5\n"          /* 5: lower-case e */
        "007,2026-01-05,8\n"             /* accepted: leading zeros are an id's business */
        "1.5E-05,2026-01-05,8\n"         /* accepted: no '+', not a long number */
        "E+05,2026-01-05,8\n"            /* accepted: no mantissa */
        "1.E+05,2026-01-05,8\n"          /* accepted: no digit after the point */
        "12E+05,2026-01-05,8\n"          /* accepted: Excel writes one leading digit */
        "1.2E+1234,2026-01-05,8\n"       /* accepted: four exponent digits */
        "1.2E+05x,2026-01-05,8\n"        /* accepted: trailing text */
        "P-1E+05,2026-01-05,8\n";        /* accepted: a prefix */
    struct ingest_opts o;
    ingest_opts_default(&o);
    o.today = 20780;
    struct dataset ds;
    struct out_error e = {0};
    char rej[4096] = "";
    CHECK(ingest_with_rejects("ids.csv", csv, sizeof csv - 1, &o, &ds, rej, sizeof rej) == 0);
    CHECK(ds.rows_read == 12 && ds.rows_accepted == 8 && ds.rows_rejected == 4);
    CHECK(ds.rejected_by[REJ_MANGLED_ID] == 4);
    CHECK_STR(reject_reason_name(REJ_MANGLED_ID), "mangled_patient_id");
    CHECK_CONTAINS(rej, "ids.csv,2,1,mangled_patient_id,patient_id: '1.23457E+11' is a number "
                        "in a spreadsheet's scientific notation");
    CHECK_CONTAINS(rej, "ids.csv,3,1,mangled_patient_id,");
    CHECK_CONTAINS(rej, "ids.csv,4,1,mangled_patient_id,patient_id: '1E+05'");
    CHECK_CONTAINS(rej, "ids.csv,5,1,mangled_patient_id,patient_id: '4.5e+7'");
    CHECK(ds.n_patients == 8);
    dataset_free(&ds);

    /* A part of a composite key, named by its own column. */
    static const char key[] = "clinic,mrn,visit_date,pain\n"
                              "north,1.23457E+11,2026-01-05,8\nnorth,123456789012,2026-01-05,8\n";
    ingest_opts_default(&o);
    o.today = 20780;
    CHECK(ingest_opts_set_key(&o, "clinic,mrn", &e) == 0);
    CHECK(ingest_with_rejects("key.csv", key, sizeof key - 1, &o, &ds, rej, sizeof rej) == 0);
    CHECK(ds.rows_accepted == 1 && ds.rejected_by[REJ_MANGLED_ID] == 1);
    CHECK_CONTAINS(rej, "key.csv,2,2,mangled_patient_id,mrn: '1.23457E+11'");
    dataset_free(&ds);

    /* Parts that join into a missing token ("N" and "A" -> "N/A") are a missing id: so is
     * that id when visits.csv is read back. */
    static const char na[] = "clinic,mrn,visit_date,pain\nN,A,2026-01-05,8\nN,B,2026-01-05,8\n";
    ingest_opts_default(&o);
    o.today = 20780;
    CHECK(ingest_opts_set_key(&o, "clinic,mrn", &e) == 0);
    CHECK(ingest_with_rejects("na.csv", na, sizeof na - 1, &o, &ds, rej, sizeof rej) == 0);
    CHECK(ds.rows_accepted == 1 && ds.rejected_by[REJ_MISSING_ID] == 1);
    CHECK_CONTAINS(rej, "na.csv,2,1,missing_patient_id,the patient key 'N/A'");
    dataset_free(&ds);

    /* A wide row is one patient: rejected whole. */
    static const char wide[] = "id,p0,p3\n1.2E+05,7,5\n120000,7,5\n";
    ingest_opts_default(&o);
    o.today = 20780;
    CHECK(ingest_opts_set_wide(&o, "pain: p0@0d, p3@3m; patient_id=id", &e) == 0);
    CHECK(ingest_with_rejects("wide.csv", wide, sizeof wide - 1, &o, &ds, rej, sizeof rej) == 0);
    CHECK(ds.rows_accepted == 1 && ds.n_visits == 2 && ds.rejected_by[REJ_MANGLED_ID] == 1);
    CHECK_CONTAINS(rej, "wide.csv,2,1,mangled_patient_id,id: '1.2E+05'");
    dataset_free(&ds);

    /* A spreadsheet in a decimal-comma locale writes 1,23457E+11 (in a ';' file). */
    static const char semi[] = "patient_id;visit_date;pain\n1,23457E+11;2026-01-05;8\n"
                               "1,23457E+11;2026-02-05;3\n12345678901;2026-01-05;8\n";
    ingest_opts_default(&o);
    o.today = 20780;
    o.decimal_comma = 1;
    CHECK(ingest_with_rejects("semi.csv", semi, sizeof semi - 1, &o, &ds, rej, sizeof rej) == 0);
    CHECK(ds.rows_accepted == 1 && ds.rejected_by[REJ_MANGLED_ID] == 2);
    CHECK_CONTAINS(rej, "semi.csv,2,1,mangled_patient_id,\"patient_id: '1,23457E+11' is a number");
    dataset_free(&ds);
}

/* visits.csv is read back by ingest, which takes no exponent: scores the shortest form
 * would write as 1e-05 go out in fixed notation and come back as the same doubles, pain_post
 * too (the smallest positive normal double, 2^-1022 = 2.2250738585072014e-308, included). */
static void test_visits_fixed_notation(void)
{
    static const char csv[] =
        "patient_id,visit_date,pain,pain_post\n"
        "A,2026-01-05,0.00001,0.0000000000000000000001\n"
        "A,2026-01-12,0.000123,7\n"
        "B,2026-01-05,0.000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000000000000000"
        "00000000000000000000000000000000000000000000000000000000000000000000022250738585"
        "072014,5\n";
    struct ingest_opts o;
    ingest_opts_default(&o);
    o.today = 20780;
    struct dataset ds, back;
    dataset_init(&ds);
    dataset_init(&back);
    struct out_error e = {0};
    CHECK(ingest_buffer("tiny.csv", csv, sizeof csv - 1, &o, &ds, NULL, &e) == 0);
    CHECK(ds.rows_accepted == 3);
    CHECK(ds.score[2] == 0x1p-1022);   /* the input's decimal is DBL_MIN to 17 digits */
    char *out = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&out, &len);
    CHECK(fp && ingest_write_visits(&ds, fp, &e) == 0);
    if (fp)
        fclose(fp);
    CHECK(out && !strpbrk(strchr(out, '\n'), "eE+"));
    CHECK_CONTAINS(out, "\nA,2026-01-05,,0.00001,0.0000000000000000000001,");
    CHECK_CONTAINS(out, "\nA,2026-01-12,,0.000123,7,");
    CHECK(out && ingest_buffer("visits.csv", out, len, &o, &back, NULL, &e) == 0);
    CHECK(back.rows_accepted == 3 && back.rows_rejected == 0);
    int same = back.n_visits == ds.n_visits;
    for (size_t v = 0; same && v < ds.n_visits; v++)
        same = back.score[v] == ds.score[v] &&
               (back.pain_post[v] == ds.pain_post[v] ||
                (isnan(back.pain_post[v]) && isnan(ds.pain_post[v])));
    CHECK(same);
    free(out);
    dataset_free(&ds);
    dataset_free(&back);
}

int main(void)
{
    test_visits_fixed_notation();
    test_mangled_ids();
    test_date_runs();
    test_episode_column();
    test_sha256();
    test_dates();
    test_numbers();
    test_spectrum();
    test_csvread_lines();
    test_csvread_fast_path();
    test_reject_fixtures();
    test_file_errors();
    test_dialects();
    test_rich_and_round_trip();
    test_key_and_time();
    test_chunk_sizes();
    test_pipeline();
    test_wide_spec();
    test_wide_sample();
    test_wide_rejects();
    test_wide_small();
    test_wide_file_errors();
    test_wide_chunks();
    return TEST_END("test_ingest");
}
