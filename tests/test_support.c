/* Unit tests for the small shared modules: escape (every output format), outfile (atomic
 * replace, abort leaves the old file), quality.csv round trip, and the report's number
 * formatting (never "nan"). Expected strings are written out by hand from each format's rules. */
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
    CHECK_STR(esc(esc_csv, " padded "), "\" padded \"");
    CHECK_STR(esc(esc_json, "a\"b\\c\n\t<"), "\"a\\\"b\\\\c\\n\\t\\u003c\"");
    CHECK_STR(esc(esc_json, "\x01"), "\"\\u0001\"");
    CHECK_STR(esc(esc_md, "a|b *c* <d>\nx"), "a\\|b \\*c\\* \\<d\\> x");
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
    /* A directory that cannot be written: OUT_EIO with the path in the error. */
    CHECK(outfile_open(&of, "/proc/outcomes-no/such", &e) == OUT_EIO);
    CHECK_CONTAINS(e.file, "/proc/outcomes-no/such");
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    CHECK(system(cmd) == 0);
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
    unlink(path);
}

int main(void)
{
    test_benchmarks();
    test_escape();
    test_outfile();
    test_quality_roundtrip();
    test_format();
    return TEST_END("test_support");
}
