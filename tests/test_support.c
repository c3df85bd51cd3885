/* Unit tests for the small shared modules: escape (every output format), outfile (atomic
 * replace, abort leaves the old file, writeback flushes and never replaces early),
 * quality.csv round trip, the report's number formatting (never "nan"), and
 * dataset_fmt_num against printf on millions of doubles, on one thread and on two at once.
 * Expected strings are written out by hand from each format's rules. */
#include <fcntl.h>
#include <float.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "benchmarks.h"
#include "dataset.h"
#include "doc.h"
#include "escape.h"
#include "harness.h"
#include "outfile.h"
#include "parse_num.h"
#include "quality.h"

typedef void (*escfn)(FILE *, const char *);

static const char *esc(escfn f, const char *s)
{
    static char buf[1024];
    FILE *fp = fmemopen(buf, sizeof buf, "w");
    f(fp, s);
    fclose(fp);
    return buf;
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *fp = fopen(path, "r");
    if (!fp)
        return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    fclose(fp);
    return buf;
}

static void test_escape(void)
{
    CHECK_STR(esc(esc_html, "<script>alert('x')</script> & \"q\""),
              "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;");
    /* CSV: plain text untouched; RFC 4180 quoting; formula triggers neutralised with a ' but
     * numbers (including negative ones) left as numbers. */
    CHECK_STR(esc(esc_csv, "North"), "North");
    CHECK_STR(esc(esc_csv, "Hale, Moss & Partners"), "\"Hale, Moss & Partners\"");
    CHECK_STR(esc(esc_csv, "say \"hi\""), "\"say \"\"hi\"\"\"");
    CHECK_STR(esc(esc_csv, "line\nbreak"), "\"line\nbreak\"");
    CHECK_STR(esc(esc_csv, "=HYPERLINK(\"http://x\")"), "\"'=HYPERLINK(\"\"http://x\"\")\"");
    CHECK_STR(esc(esc_csv, "+1-555"), "\"'+1-555\"");
    CHECK_STR(esc(esc_csv, "@SUM(A1)"), "\"'@SUM(A1)\"");
    CHECK_STR(esc(esc_csv, "-3.5"), "-3.5");
    CHECK_STR(esc(esc_csv, "-inf"), "\"'-inf\"");
    /* Already starts with ' and a trigger: prefixed too, so stripping one ' is lossless. */
    CHECK_STR(esc(esc_csv, "'=x"), "\"''=x\"");
    CHECK_STR(esc(esc_csv, "''=x"), "\"'''=x\"");
    CHECK_STR(esc(esc_csv, "'-5"), "\"''-5\"");
    CHECK_STR(esc(esc_csv, "'x"), "'x");
    /* The prefix is undone exactly: for every text of up to 5 characters over ' = - 5 x @,
     * unprefixing what the writer writes gives the text back (so no two texts share a
     * field). */
    {
        const char al[] = "'=-5x@";
        long bad = 0, n = 0;
        for (int len = 0; len <= 5; len++) {
            long total = 1;
            for (int i = 0; i < len; i++)
                total *= 6;
            for (long code = 0; code < total; code++, n++) {
                char t[8], w[9];
                long c = code;
                for (int i = 0; i < len; i++, c /= 6)
                    t[i] = al[c % 6];
                t[len] = '\0';
                snprintf(w, sizeof w, "%s%s", csv_needs_prefix(t) ? "'" : "", t);
                csv_unprefix(w);
                bad += strcmp(w, t) != 0;
            }
        }
        CHECK(n == 9331 && bad == 0);
    }
    CHECK_STR(esc(esc_csv, " padded "), "\" padded \"");
    CHECK_STR(esc(esc_json, "a\"b\\c\n\t<"), "\"a\\\"b\\\\c\\n\\t\\u003c\"");
    CHECK_STR(esc(esc_json, "\x01"), "\"\\u0001\"");
    CHECK_STR(esc(esc_md, "a|b *c* <d>\nx"), "a\\|b \\*c\\* \\<d\\> x");
    /* An entity, strikethrough, an autolink and terminal control bytes shown as written. */
    CHECK_STR(esc(esc_md, "Amp &amp; ~x~ http://e.org \x1b[31m\x07\x7f"),
              "Amp \\&amp; \\~x\\~ http\\://e.org  \\[31m  ");
    CHECK_STR(esc(esc_md, "at 10:30, a:/b"), "at 10:30, a:/b");
}

static void test_outfile(void)
{
    char dir[] = "/tmp/outcomes_test_XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path[256];
    snprintf(path, sizeof path, "%s/a/b/out.txt", dir);
    struct out_error e = {0};
    char sub[256];
    snprintf(sub, sizeof sub, "%s/a/b", dir);
    CHECK(make_dirs(sub, &e) == 0);
    struct outfile of;
    CHECK(outfile_open(&of, path, &e) == 0);
    fputs("first\n", of.fp);
    CHECK(outfile_commit(&of, &e) == 0);
    CHECK_STR(slurp(path), "first\n");
    /* An aborted write leaves the good file and no temporary behind. */
    CHECK(outfile_open(&of, path, &e) == 0);
    fputs("half", of.fp);
    outfile_abort(&of);
    outfile_abort(&of);   /* twice is harmless */
    CHECK_STR(slurp(path), "first\n");
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls %s | grep -c tmp", sub);
    FILE *p = popen(cmd, "r");
    int n = -1;
    CHECK(p && fscanf(p, "%d", &n) == 1);
    if (p)
        pclose(p);
    CHECK(n == 0);
    /* A target that is not a regular file is not replaced by one: a directory is refused at
     * open (nothing created), /dev/null stays the device, a FIFO gets the bytes. */
    CHECK(outfile_open(&of, sub, &e) == OUT_EIO);
    CHECK_CONTAINS(e.msg, "directory");
    CHECK(outfile_open(&of, "/dev/null", &e) == 0 && of.direct);
    fputs("gone\n", of.fp);
    CHECK(outfile_commit(&of, &e) == 0);
    struct stat dn;
    CHECK(stat("/dev/null", &dn) == 0 && S_ISCHR(dn.st_mode));
    char fifo[300];
    snprintf(fifo, sizeof fifo, "%s/fifo", dir);
    CHECK(mkfifo(fifo, 0600) == 0);
    int rfd = open(fifo, O_RDONLY | O_NONBLOCK);   /* a reader, so the writer's open returns */
    CHECK(rfd >= 0);
    CHECK(outfile_open(&of, fifo, &e) == 0);
    fputs("through", of.fp);
    CHECK(outfile_commit(&of, &e) == 0);
    char fbuf[16] = {0};
    CHECK(read(rfd, fbuf, sizeof fbuf - 1) == 7);
    CHECK_STR(fbuf, "through");
    /* An aborted write sends the pipe nothing: the reader sees end of file, no writer ever
     * having opened it. */
    CHECK(outfile_open(&of, fifo, &e) == 0);
    fputs("half", of.fp);
    outfile_abort(&of);
    CHECK(read(rfd, fbuf, sizeof fbuf - 1) == 0);
    close(rfd);
    struct stat fs;
    CHECK(stat(fifo, &fs) == 0 && S_ISFIFO(fs.st_mode));
    unlink(fifo);
    /* A symlink is followed: the target gets the bytes, the link stays a link. */
    char target[300], link1[300];
    snprintf(target, sizeof target, "%s/target.txt", dir);
    snprintf(link1, sizeof link1, "%s/link.txt", dir);
    FILE *tf = fopen(target, "w");
    if (tf)
        fclose(tf);
    CHECK(symlink("target.txt", link1) == 0);
    CHECK(outfile_open(&of, link1, &e) == 0 && !of.direct);
    fputs("via link\n", of.fp);
    CHECK(outfile_commit(&of, &e) == 0);
    CHECK_STR(slurp(target), "via link\n");
    struct stat ls;
    CHECK(lstat(link1, &ls) == 0 && S_ISLNK(ls.st_mode));
    unlink(link1);
    /* A link into /proc/self/fd (what /dev/stdout is) naming a regular file open here for
     * appending: the bytes go through the descriptor, after what the file held; nothing is
     * renamed over the link or the file. */
    int tfd = open(target, O_WRONLY | O_APPEND);   /* `>> target`: "via link\n" stays */
    CHECK(tfd >= 0);
    char fdlink[300], fdpath[64];
    snprintf(fdlink, sizeof fdlink, "%s/stdout", dir);
    snprintf(fdpath, sizeof fdpath, "/proc/self/fd/%d", tfd);
    CHECK(symlink(fdpath, fdlink) == 0);
    CHECK(outfile_open(&of, fdlink, &e) == 0 && of.direct);
    fputs("through fd\n", of.fp);
    CHECK(outfile_commit(&of, &e) == 0);
    close(tfd);
    CHECK_STR(slurp(target), "via link\nthrough fd\n");
    CHECK(lstat(fdlink, &ls) == 0 && S_ISLNK(ls.st_mode));
    unlink(fdlink);
    unlink(target);
    /* outfile_writeback hands what stdio holds to the file (its size on disk shows it),
     * leaves the target alone until commit, and loses nothing. */
    CHECK(outfile_open(&of, path, &e) == 0);
    fputs("0123456789", of.fp);
    outfile_writeback(of.fp);
    struct stat st;
    CHECK(stat(of.tmp, &st) == 0 && st.st_size == 10);
    CHECK_STR(slurp(path), "first\n");
    fputs("abc\n", of.fp);
    outfile_writeback(of.fp);
    outfile_writeback(of.fp);
    fputs("end\n", of.fp);
    CHECK(outfile_commit(&of, &e) == 0);
    CHECK_STR(slurp(path), "0123456789abc\nend\n");
    /* Where it does not apply it only flushes: a pipe (sync_file_range: ESPIPE) and a
     * stream with no descriptor. */
    int pfd[2];
    CHECK(pipe(pfd) == 0);
    /* Non-blocking, so a writeback that failed to flush fails the read, not hangs it. */
    CHECK(fcntl(pfd[0], F_SETFL, O_NONBLOCK) == 0);
    FILE *pw = fdopen(pfd[1], "w");
    CHECK(pw != NULL);
    fputs("piped", pw);
    outfile_writeback(pw);
    char got[16] = {0};
    CHECK(read(pfd[0], got, sizeof got - 1) == 5);
    CHECK_STR(got, "piped");
    CHECK(!ferror(pw));
    fclose(pw);
    close(pfd[0]);
    char mem[16] = {0};
    FILE *mf = fmemopen(mem, sizeof mem, "w");
    fputs("mem", mf);
    outfile_writeback(mf);
    CHECK_STR(mem, "mem");
    fclose(mf);
    /* A directory that cannot be written: OUT_EIO with the path in the error. */
    CHECK(outfile_open(&of, "/proc/outcomes-no/such", &e) == OUT_EIO);
    CHECK_CONTAINS(e.file, "/proc/outcomes-no/such");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
}

/* Ids that differ only in leading zeros, counted by hand: {007, 07, 7} is a group of 3,
 * {0, 000} one of 2 and {0070, 70} one of 2; 12 is alone; P007, P7 and 7a are not all
 * digits, so not compared. */
static void test_zero_led_ids(void)
{
    static const char *const ids[] = {"007", "12", "7", "P007", "P7", "0", "07", "7a",
                                      "0070", "000", "70"};
    struct dataset ds;
    dataset_init(&ds);
    for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
        CHECK(dataset_patient(&ds, ids[i]) == (long)i);
    size_t got = 99;
    CHECK(quality_count_zero_led_ids(&ds, &got) == 0 && got == 3 + 2 + 2);
    dataset_free(&ds);

    /* No id with a leading zero: nothing, however many all-digit ids. */
    dataset_init(&ds);
    char buf[16];
    int added = 1;
    for (int i = 1; i <= 5000; i++) {
        snprintf(buf, sizeof buf, "%d", i);
        added &= dataset_patient(&ds, buf) >= 0;
    }
    CHECK(quality_count_zero_led_ids(&ds, &got) == 0 && got == 0);
    /* One zero-padded copy of each of 5000 ids: every id is flagged. */
    for (int i = 1; i <= 5000; i++) {
        snprintf(buf, sizeof buf, "%06d", i);
        added &= dataset_patient(&ds, buf) >= 0;
    }
    CHECK(added);
    CHECK(quality_count_zero_led_ids(&ds, &got) == 0 && got == 10000);
    dataset_free(&ds);
    dataset_init(&ds);
    got = 99;
    CHECK(quality_count_zero_led_ids(&ds, &got) == 0 && got == 0);
    dataset_free(&ds);
}

static void test_quality_roundtrip(void)
{
    struct dataset a, b;
    dataset_init(&a);
    dataset_init(&b);
    a.rows_read = 10;
    a.rows_accepted = 7;
    a.rows_rejected = 3;
    a.rejected_by[REJ_RANGE] = 2;
    a.rejected_by[REJ_DUP_EXACT] = 1;
    a.ids_zero_led = 4;
    long f = dataset_add_file(&a, "dir/odd, \"name\".csv");
    CHECK(f == 0);
    snprintf(a.file[0].sha256, sizeof a.file[0].sha256, "%064d", 7);
    a.file[0].rows_read = 10;
    a.file[0].rows_accepted = 7;
    a.file[0].rows_rejected = 3;
    a.file[0].first_day = 20454;   /* 2026-01-01: 56 years of days incl. 14 leap days = 20454 */
    a.file[0].last_day = 20483;    /* 2026-01-30 */
    char path[] = "/tmp/outcomes_quality_XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    struct out_error e = {0};
    CHECK(quality_write(&a, fp, &e) == 0);
    fclose(fp);
    CHECK_CONTAINS(slurp(path), "file,\"dir/odd, \"\"name\"\".csv\"");
    CHECK_CONTAINS(slurp(path), ",2026-01-01,2026-01-30");
    CHECK(quality_read(&b, path, &e) == 0);
    CHECK(b.rows_read == 10 && b.rows_accepted == 7 && b.rows_rejected == 3);
    CHECK(b.rejected_by[REJ_RANGE] == 2 && b.rejected_by[REJ_DUP_EXACT] == 1);
    CHECK(b.ids_zero_led == 4);
    CHECK(b.n_files == 1);
    if (b.n_files == 1) {
        CHECK_STR(b.file[0].path, "dir/odd, \"name\".csv");
        CHECK(b.file[0].first_day == 20454 && b.file[0].last_day == 20483);
        CHECK_STR(b.file[0].sha256, a.file[0].sha256);
    }
    /* A malformed quality file is an input error naming the line. */
    fp = fopen(path, "w");
    fputs("kind,name,sha256,rows_read,rows_accepted,rows_rejected,first_visit,last_visit\n"
          "total,,,ten,7,3,,\n", fp);
    fclose(fp);
    struct dataset c;
    dataset_init(&c);
    CHECK(quality_read(&c, path, &e) == OUT_EINPUT);
    CHECK(e.line == 2);
    /* A file from before the leading-zeros count (no ids row) reads as unknown, not as
     * none; a reason this version does not know is refused, not dropped (its rows would
     * be missing from the reasons while the total kept them). */
    static const char head[] =
        "kind,name,sha256,rows_read,rows_accepted,rows_rejected,first_visit,last_visit\n"
        "total,,,10,9,1,,\n";
    fp = fopen(path, "w");
    fprintf(fp, "%sreason,out_of_range,,,,1,,\n", head);
    fclose(fp);
    c.ids_zero_led = 5;
    CHECK(quality_read(&c, path, &e) == 0);
    CHECK(c.ids_zero_led == IDS_ZERO_LED_UNKNOWN && c.rejected_by[REJ_RANGE] == 1);
    fp = fopen(path, "w");
    fprintf(fp, "%sids,leading_zeros,,0,,,,\n", head);
    fclose(fp);
    CHECK(quality_read(&c, path, &e) == 0 && c.ids_zero_led == 0);
    fp = fopen(path, "w");
    fprintf(fp, "%sreason,out_of_rnage,,,,1,,\n", head);
    fclose(fp);
    CHECK(quality_read(&c, path, &e) == OUT_EINPUT);
    CHECK(e.line == 3 && e.col == 2);
    CHECK_CONTAINS(e.msg, "unknown reject reason 'out_of_rnage'");
    dataset_free(&c);
    dataset_init(&c);
    /* Long paths: 4096 bytes (PATH_MAX, the longest ingest could have opened) come back
     * whole; 4200 bytes are refused, where they were once cut to 1023 without a word. */
    for (int len = 4096; len <= 4200; len += 104) {
        struct dataset w, r;
        dataset_init(&w);
        dataset_init(&r);
        char *lp = malloc((size_t)len + 1);
        CHECK(lp != NULL);
        if (!lp)
            break;
        memset(lp, 'd', (size_t)len);
        lp[len] = '\0';
        CHECK(dataset_add_file(&w, lp) == 0);
        fp = fopen(path, "w");
        CHECK(fp && quality_write(&w, fp, &e) == 0);
        if (fp)
            fclose(fp);
        int rc = quality_read(&r, path, &e);
        if (len == 4096) {
            CHECK(rc == 0 && r.n_files == 1 && r.n_files && strcmp(r.file[0].path, lp) == 0);
        } else {
            CHECK(rc == OUT_EINPUT);
            CHECK_CONTAINS(e.msg, "field longer than 4103 bytes");
            CHECK(e.line == 2 + REJ__COUNT + 1 + 1 && e.col == 2);
        }
        free(lp);
        dataset_free(&w);
        dataset_free(&r);
    }
    unlink(path);
    dataset_free(&a);
    dataset_free(&b);
    dataset_free(&c);
}

static void test_format(void)
{
    CHECK_STR(fnum(NAN, 2), "n/a");
    CHECK_STR(fnum(INFINITY, 2), "n/a");
    CHECK_STR(fnum(1.005, 1), "1.0");
    CHECK_STR(fpval(0.00001), "<0.0001");
    CHECK_STR(fpval(0.0123456), "0.0123");
    CHECK_STR(fpval(NAN), "n/a");
    CHECK_STR(fci(1.8, -0.891869, 4.491869, 2), "1.80 (95% CI -0.89 to 4.49)");
    CHECK_STR(fci(1.8, NAN, NAN, 2), "1.80 (CI n/a)");
    CHECK_STR(fpct(0.6, 0.2307, 0.8824), "60.0% (95% CI 23.1% to 88.2%)");
    char t1[] = " \t pain NRS\t ", t2[] = "", t3[] = "   ";
    CHECK_STR(trim_blanks(t1), "pain NRS");
    CHECK_STR(trim_blanks(t2), "");
    CHECK_STR(trim_blanks(t3), "");
}

/* ---- dataset_fmt_num: byte for byte what printf gives ------------------------------- */

/* The definition in dataset.h, spelled out with the C library. */
static void ref_num(char *buf, double v)
{
    snprintf(buf, DATASET_NUM_MAX, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, DATASET_NUM_MAX, "%.17g", v);
}

/* xorshift64*: small, seedable, and private to its caller (so usable on two threads). */
static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static double rng_unit(uint64_t *s)
{
    return (double)(rng(s) >> 11) * 0x1p-53;
}

static const double pow10_tab[] = {1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10,
                                   1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17};

/* A decimal m / 10^d: m with up to 17 digits, d up to 9 places (the fast path's and just
 * beyond it), either sign; the quotient is correctly rounded for m < 2^53. */
static double gen_decimal(uint64_t *s)
{
    int digits = 1 + (int)(rng(s) % 17);
    double m = floor(rng_unit(s) * pow10_tab[digits]);
    double v = m / pow10_tab[rng(s) % 10];
    return rng(s) & 1 ? -v : v;
}

/* One value of a mix that reaches every path of dataset_fmt_num: any bit pattern (NaN, inf,
 * subnormals, every exponent); short decimals; their neighbours a few ulps away (which
 * print with 16-17 digits); ratios of small integers and roots like the measures in
 * patients.csv; values at the edges of the fast paths (1e-4, 1e9, 1e14, 1e15, 2^53); whole
 * numbers; and a pool of repeats for the cache, larger than the cache so slots are evicted. */
static double gen_value(uint64_t *s, const double *pool, size_t npool)
{
    static const double edges[] = {1e-4, 1e-5, 1e9, 1e14, 1e15, 9007199254740992.0, 1e16,
                                   1e-3, 0.1, 1.0, 999999999.999999, 99999999999999.9};
    switch (rng(s) % 8) {
    case 0: {
        uint64_t bits = rng(s);
        double v;
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    case 1:
        return gen_decimal(s);
    case 2: {
        double v = gen_decimal(s);
        int steps = 1 + (int)(rng(s) % 3);
        for (int i = 0; i < steps; i++)
            v = nextafter(v, rng(s) & 1 ? HUGE_VAL : -HUGE_VAL);
        return v;
    }
    case 3: {
        double i = (double)(rng(s) % 201), j = (double)(1 + rng(s) % 200);
        switch (rng(s) % 4) {
        case 0: return 100.0 * i / j;                           /* pct */
        case 1: return (i - j) / 7.0;                           /* weeks, changes */
        case 2: return i / (sqrt(2.0) * sqrt(j) * sqrt(0.05));  /* rci */
        default: return sqrt(i + j / 1000.0);
        }
    }
    case 4: {
        double e = edges[rng(s) % (sizeof edges / sizeof edges[0])];
        double v = e * (1 + ((double)(rng(s) % 2001) - 1000) * 1e-7);
        if (rng(s) & 1)
            v = floor(v * 1e6 + 0.5) / 1e6;
        int steps = (int)(rng(s) % 3);
        for (int i = 0; i < steps; i++)
            v = nextafter(v, rng(s) & 1 ? HUGE_VAL : -HUGE_VAL);
        return rng(s) & 1 ? -v : v;
    }
    case 5: {
        double v = floor(rng_unit(s) * pow10_tab[1 + rng(s) % 17]);
        return rng(s) & 1 ? -v : v;
    }
    default:
        return pool[rng(s) % npool];
    }
}

/* Values the cache holds: two in three print with 16-17 digits, one in three is a short
 * decimal (37.5, 0.25: the fast path's, looked up first as well), every other one of them
 * the negative of the one before, so a cache that mixed up signs would be caught. */
static double *make_pool(uint64_t seed, size_t n)
{
    double *pool = malloc(n * sizeof *pool);
    if (!pool)
        exit(2);
    for (size_t i = 0; i < n; i++) {
        if (i % 6 == 5) {
            pool[i] = -pool[i - 3];
        } else if (i % 3 == 2) {
            double v = (double)(1 + rng(&seed) % 99999) / pow10_tab[1 + rng(&seed) % 6];
            pool[i] = rng(&seed) & 1 ? -v : v;
        } else {
            pool[i] = (double)(1 + rng(&seed) % 100000) / (double)(3 + rng(&seed) % 997);
        }
    }
    return pool;
}

struct fmt_job {
    uint64_t seed;
    long n;
    const double *pool;
    size_t npool;
    long bad;                   /* values whose text differs from printf's */
    double first_bad;
};

/* Format n values from the mix; count every difference from ref_num, including the
 * returned length. */
static void *fmt_run(void *arg)
{
    struct fmt_job *j = arg;
    uint64_t s = j->seed;
    j->bad = 0;
    for (long i = 0; i < j->n; i++) {
        double v = gen_value(&s, j->pool, j->npool);
        char got[DATASET_NUM_MAX], want[DATASET_NUM_MAX];
        size_t len = dataset_fmt_num(got, v);
        ref_num(want, v);
        if (strcmp(got, want) != 0 || len != strlen(want)) {
            if (!j->bad++)
                j->first_bad = v;
        }
    }
    return NULL;
}

static void test_fmt_num(void)
{
    /* By hand: each fast path, the slow path, and the cases %g treats specially. */
    static const struct {
        double v;
        const char *want;
    } cases[] = {
        {0.0, "0"}, {-0.0, "-0"}, {7, "7"}, {-12, "-12"}, {999999999999999, "999999999999999"},
        {1e15, "1e+15"}, {37.5, "37.5"}, {-0.25, "-0.25"}, {0.1, "0.1"}, {0.0001, "0.0001"},
        {0.00012, "0.00012"}, {1.000001, "1.000001"}, {123456789.123456, "123456789.123456"},
        {1234567890.5, "1234567890.5"}, {0.00001, "1e-05"}, {1.0 / 3, "0.33333333333333331"},
        {200.0 / 3, "66.666666666666671"}, {0.3, "0.3"}, {1e300, "1e+300"}, {5e-324, "4.94065645841247e-324"},
        {DBL_MAX, "1.7976931348623157e+308"}, {0x1.7e43c8800759dp+996, "1.0000000000000002e+300"},
        {INFINITY, "inf"}, {-INFINITY, "-inf"}, {NAN, "nan"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char got[DATASET_NUM_MAX];
        size_t len = dataset_fmt_num(got, cases[i].v);
        CHECK_STR(got, cases[i].want);
        CHECK(len == strlen(cases[i].want));
    }
    /* Two million from the mix against printf. */
    double *pool = make_pool(7, 6000);
    struct fmt_job j = {20260101, 2000000, pool, 6000, 0, 0};
    fmt_run(&j);
    CHECK(j.bad == 0);
    if (j.bad)
        fprintf(stderr, "  %ld differ from printf, first %.17g\n", j.bad, j.first_bad);
    free(pool);
}

/* Two threads formatting at once (patients.csv is written beside the cohort statistics).
 * Values of 16-17 digits go through dataset_fmt_num's cache. The values below come in
 * groups of six that fall in one set of that cache as dataset.c indexes it today (2^10
 * sets of 4 ways, top bits of bits * 0x9E37...); one thread formats three of each group, the
 * other thread the other three. With a cache per thread each thread's three fit in its
 * set and are always found; with one cache shared by both, six values fight over four ways,
 * the threads evict each other's entries all the time, and now and then one copies digits
 * the other is writing. (Should dataset.c index its cache differently, this still checks
 * every result, only less sharply.) printf's texts are worked out first so the loops do
 * little but format. */
enum { RACE_SETS = 8, RACE_PER_SET = 3, RACE_N = RACE_SETS * RACE_PER_SET };

struct pool_job {
    uint64_t seed;
    long n;
    const double *val;          /* RACE_N values */
    const char (*want)[DATASET_NUM_MAX];
    long bad;
};

static void *pool_run(void *arg)
{
    struct pool_job *j = arg;
    uint64_t s = j->seed;
    j->bad = 0;
    for (long i = 0; i < j->n; i++) {
        size_t k = rng(&s) % RACE_N;
        char got[DATASET_NUM_MAX];
        dataset_fmt_num(got, j->val[k]);
        j->bad += strcmp(got, j->want[k]) != 0;
    }
    return NULL;
}

static void test_fmt_num_threads(void)
{
    enum { SETS = 1u << 10, GROUP = 2 * RACE_PER_SET };
    static double seen[SETS][GROUP];
    static size_t nseen[SETS];
    double val[2][RACE_N];
    char want[2][RACE_N][DATASET_NUM_MAX];
    uint64_t seed = 100;
    for (size_t found = 0; found < RACE_SETS;) {
        double v = (double)(1 + rng(&seed) % 100000) / (double)(3 + rng(&seed) % 997);
        uint64_t bits;
        memcpy(&bits, &v, sizeof bits);
        size_t set = (size_t)((bits * 0x9E3779B97F4A7C15ULL) >> (64 - 10));
        size_t n = nseen[set];
        int dup = 0;
        for (size_t i = 0; i < n && n < GROUP; i++)
            dup |= seen[set][i] == v;
        if (dup || n >= GROUP)
            continue;
        seen[set][nseen[set]++] = v;
        if (nseen[set] == GROUP) {
            for (size_t i = 0; i < RACE_PER_SET; i++) {
                val[0][found * RACE_PER_SET + i] = seen[set][i];
                val[1][found * RACE_PER_SET + i] = seen[set][RACE_PER_SET + i];
            }
            found++;
        }
    }
    struct pool_job j[2];
    for (int t = 0; t < 2; t++) {
        for (size_t k = 0; k < RACE_N; k++)
            ref_num(want[t][k], val[t][k]);
        j[t] = (struct pool_job){(uint64_t)t + 1, 8000000, val[t],
                                 (const char (*)[DATASET_NUM_MAX])want[t], 0};
    }
    pthread_t th;
    int started = pthread_create(&th, NULL, pool_run, &j[1]) == 0;
    CHECK(started);
    pool_run(&j[0]);
    if (started)
        pthread_join(th, NULL);
    CHECK(j[0].bad == 0 && j[1].bad == 0);
    if (j[0].bad || j[1].bad)
        fprintf(stderr, "  %ld + %ld differ from printf\n", j[0].bad, j[1].bad);
}

/* samples/benchmarks.tsv against evidence.md: GERAC verum 47.6% of n=387; Vickers 2012 vs
 * sham 0.23 SD (0.13-0.33). A malformed row names its line. */
static void test_benchmarks(void)
{
    struct bench_set bs;
    struct out_error e = {0};
    CHECK(bench_load("samples/benchmarks.tsv", &bs, &e) == 0);
    int seen = 0;
    for (size_t i = 0; i < bs.n; i++) {
        const struct bench *b = &bs.b[i];
        if (!strcmp(b->id, "GERAC-verum")) {
            CHECK_NEAR(b->estimate, 47.6, 1e-12);
            CHECK(b->n == 387 && isnan(b->lo) && !strcmp(b->chart, "shares"));
            seen++;
        } else if (!strcmp(b->id, "Vickers2012-sham")) {
            CHECK_NEAR(b->lo, 0.13, 1e-12);
            CHECK_NEAR(b->hi, 0.33, 1e-12);
            seen++;
        }
    }
    CHECK(seen == 2);
    bench_set_free(&bs);
    char path[] = "/tmp/outcomes_bench_XXXXXX";
    int fd = mkstemp(path);
    FILE *fp = fdopen(fd, "w");
    fputs("id\tcitation\tmeasure\testimate\tlo\thi\tn\tnote\tchart\n"
          "a\tb\tc\t1\t\t\t10\t\t\n"
          "a\tb\tc\tmany\t\t\t10\t\t\n", fp);
    fclose(fp);
    CHECK(bench_load(path, &bs, &e) == OUT_EINPUT);
    CHECK(e.line == 3);
    CHECK(bs.n == 0);
    CHECK(bench_load("/nonexistent/benchmarks.tsv", &bs, &e) == OUT_EIO);
    /* Lines are physical lines: blank lines and a quoted line break before the bad row
     * (line 7) do not shift it (libcsv's record count would say 4). */
    fp = fopen(path, "w");
    fputs("id\tcitation\tmeasure\testimate\tlo\thi\tn\tnote\tchart\n"
          "\n\n"
          "a\t\"two\nlines\"\tc\t1\t\t\t10\t\t\n"
          "b\tb\tc\t2\t\t\t10\t\t\n"
          "c\tb\tc\tmany\t\t\t10\t\t\n", fp);
    fclose(fp);
    CHECK(bench_load(path, &bs, &e) == OUT_EINPUT);
    CHECK(e.line == 7);
    /* Numbers are plain decimals: strtod's hex, nan and inf forms are refused. */
    const char *bad[] = {"0x10", "nan", "inf", "1e400", "0x1p3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        fp = fopen(path, "w");
        fprintf(fp, "id\tcitation\tmeasure\testimate\tlo\thi\tn\tnote\tchart\n"
                    "a\tb\tc\t%s\t\t\t10\t\t\n", bad[i]);
        fclose(fp);
        CHECK(bench_load(path, &bs, &e) == OUT_EINPUT && e.line == 2);
    }
    /* A header alone is an empty set; an empty file has no header. */
    fp = fopen(path, "w");
    fputs("id\tcitation\tmeasure\testimate\tlo\thi\tn\tnote\tchart\n", fp);
    fclose(fp);
    CHECK(bench_load(path, &bs, &e) == 0 && bs.n == 0);
    bench_set_free(&bs);
    fp = fopen(path, "w");
    fclose(fp);
    CHECK(bench_load(path, &bs, &e) == OUT_EINPUT);
    unlink(path);
}

/* ---- interning: ids and covariate values ----------------------------------------- */

/* Enough ids to grow the index many times (1024 slots at first, 3/4 full at most), ids
 * that collide in the slot's low bits but not in the tag, a long id that takes a chunk of
 * its own, and lookups after the index is dropped: every id keeps its first index, and its
 * string survives the growth of everything around it. */
static void test_intern(void)
{
    struct dataset ds;
    dataset_init(&ds);
    enum { N = 50000 };
    char id[32];
    int ok = 1;
    for (int i = 0; i < N && ok; i++) {
        snprintf(id, sizeof id, "P%06d", i);
        ok = dataset_patient(&ds, id) == i;
    }
    CHECK(ok);
    CHECK(ds.n_patients == N);
    /* A 100 000-byte id: longer than an arena chunk. */
    static char big[100001];
    memset(big, 'x', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(dataset_patient(&ds, big) == N);
    CHECK(dataset_patient(&ds, "after-big") == N + 1);
    CHECK(dataset_patient(&ds, big) == N);
    CHECK(strlen(ds.patient_id[N]) == sizeof big - 1);
    CHECK_STR(ds.patient_id[N + 1], "after-big");
    /* Known ids come back with their index, strings intact. */
    ok = 1;
    for (int i = 0; i < N && ok; i += 7) {
        snprintf(id, sizeof id, "P%06d", i);
        ok = dataset_patient(&ds, id) == i && strcmp(ds.patient_id[i], id) == 0;
    }
    CHECK(ok);
    CHECK(ds.n_patients == N + 2);
    /* Without the index: rebuilt from the strings on the next lookup. */
    dataset_drop_id_index(&ds);
    CHECK(ds.pid_hash == NULL);
    CHECK(dataset_patient(&ds, "P049999") == N - 1);
    CHECK(dataset_patient(&ds, "P000000") == 0);
    CHECK(dataset_patient(&ds, "new") == N + 2);
    CHECK(dataset_patient(&ds, big) == N);
    /* A replaced id (as pseudonymisation does) is found by its new text once the index is
     * rebuilt, and the old text no longer is. */
    char *np = dataset_strdup(&ds, "Q-replaced");
    CHECK(np != NULL);
    ds.patient_id[5] = np;
    dataset_drop_id_index(&ds);
    CHECK(dataset_patient(&ds, "Q-replaced") == 5);
    CHECK(dataset_patient(&ds, "P000005") == N + 3);
    /* The empty string is an id like any other here (ingest rejects it before). */
    CHECK(dataset_patient(&ds, "") == N + 4);
    CHECK(dataset_patient(&ds, "") == N + 4);
    /* Covariate values intern separately from ids. */
    CHECK(dataset_cov_intern(&ds, "P000001") == 0);
    CHECK(dataset_cov_intern(&ds, "north") == 1);
    CHECK(dataset_cov_intern(&ds, "P000001") == 0);
    CHECK_STR(ds.cov_str[1], "north");
    dataset_free(&ds);
}

int main(void)
{
    test_intern();
    test_benchmarks();
    test_escape();
    test_outfile();
    test_quality_roundtrip();
    test_zero_led_ids();
    test_format();
    test_fmt_num();
    test_fmt_num_threads();
    return TEST_END("test_support");
}
