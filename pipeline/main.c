/* main.c — the `outcomes` command: parses the command line, runs the stages, prints errors.
 *
 * This is the only place that prints diagnostics or chooses an exit code. Stages are
 * reached one at a time (`outcomes ingest|patients|cohort|audit|charts|report`, reading and
 * writing the documented files in --out DIR) or chained in one process by `outcomes run`.
 */
#define _DEFAULT_SOURCE   /* getopt_long, gmtime_r */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gsl/gsl_errno.h>

#include "audit.h"
#include "civil_date.h"
#include "benchmarks.h"
#include "charts_build.h"
#include "claims.h"
#include "cohort.h"
#include "config.h"
#include "dataset.h"
#include "digest.h"
#include "error.h"
#include "ingest.h"
#include "outfile.h"
#include "patient.h"
#include "patients_csv.h"
#include "pseudonym.h"
#include "quality.h"
#include "report.h"
#include "simulate.h"

enum stage { ST_INGEST, ST_PATIENTS, ST_COHORT, ST_AUDIT, ST_CHARTS, ST_REPORT, ST_RUN };

static const struct {
    const char *name;
    enum stage stage;
    const char *summary;
    const char *reads;
    const char *writes;
} commands[] = {
    {"run", ST_RUN, "every stage in one process: input files in, report out",
     "FILE... (visit CSVs)", "rejects.csv patients.csv cohort.csv audit.csv charts report.*"},
    {"ingest", ST_INGEST, "read and validate visit files", "FILE...",
     "visits.csv rejects.csv quality.csv"},
    {"patients", ST_PATIENTS, "per-patient improvement", "DIR/visits.csv DIR/quality.csv",
     "patients.csv"},
    {"cohort", ST_COHORT, "cohort statistics with confidence intervals", "DIR/patients.csv",
     "cohort.csv"},
    {"audit", ST_AUDIT, "audit the claims registry against the data",
     "DIR/visits.csv --claims FILE", "audit.csv"},
    {"charts", ST_CHARTS, "gnuplot charts (script, data, SVG, PNG)", "DIR/visits.csv",
     "*.gp *.dat *.svg *.png"},
    {"report", ST_REPORT, "report.html, report.md, summary.json", "DIR/visits.csv DIR/quality.csv",
     "report.html report.md summary.json"},
};

struct options {
    const char *out;
    const char *claims;
    const char *benchmarks;
    const char *key_file;
    const char *month;
    int strict, quiet, no_charts, timings, no_stream;
    struct ingest_opts ingest;
    struct instrument_table instr;   /* built-ins plus any declared in --config */
    struct patient_opts patient;
    struct cohort_opts cohort;
    const char *by[16];
    size_t n_by;
    int by_given;   /* --by on the command line, not the defaults */
    char command_line[4096];
};

/* An explicit --by must name a breakdown the data can give: a misspelt "--by clnic" used to
 * leave the subgroup table out without a word (the defaults may be absent: a file without a
 * sex column just has no sex breakdown). */
static int check_by(const struct options *o, const struct dataset *ds, struct out_error *e)
{
    if (!o->by_given)
        return 0;
    for (size_t b = 0; b < o->n_by; b++) {
        const char *name = o->by[b];
        const char *col = strcmp(name, "age_band") == 0 ? "age" : name;
        if (strcmp(name, "baseline_band") == 0 || dataset_cov_index(ds, col) >= 0)
            continue;
        char have[600] = "";
        size_t off = 0;
        for (size_t c = 0; c < ds->n_cov && off < sizeof have; c++)
            off += (size_t)snprintf(have + off, sizeof have - off, "%s%s", c ? ", " : "",
                                    ds->cov_name[c]);
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "--by %s: the input has no '%s' column (covariates: %s; also "
                       "age_band, baseline_band)", name, col, ds->n_cov ? have : "none");
    }
    return 0;
}

static void usage_main(FILE *fp)
{
    fputs("usage: outcomes COMMAND [options] [FILE...]\n"
          "       outcomes --help | --version\n\n"
          "Checks what pain clinics claim against what their patients report.\n\n"
          "commands:\n", fp);
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(fp, "  %-9s %s\n", commands[i].name, commands[i].summary);
    fputs("  simulate  write realistic synthetic visit data (outcomes simulate --help)\n\n"
          "Run `outcomes COMMAND --help` for a command's options.\n"
          "exit codes: 0 success, 2 usage error, 3 invalid input, 4 I/O failure (including "
          "gnuplot), 5 internal error\n", fp);
}

static void usage_cmd(FILE *fp, size_t ci)
{
    fprintf(fp, "usage: outcomes %s [options]%s\n\n%s.\nreads:  %s\nwrites: %s\n\n",
            commands[ci].name,
            commands[ci].stage == ST_RUN || commands[ci].stage == ST_INGEST ? " FILE..." : "",
            commands[ci].summary, commands[ci].reads, commands[ci].writes);
    fputs("options:\n"
          "  -o, --out DIR            output directory (default reports/latest)\n"
          "  -c, --claims FILE        claims registry (TSV/CSV), e.g. samples/claims.tsv\n"
          "      --benchmarks FILE    published comparators (default: benchmarks.tsv beside\n"
          "                           the claims registry, when there is one)\n"
          "      --config FILE        column maps, dialect, wide spec and extra instruments\n"
          "                           (docs/config.md); give it before the options it sets\n"
          "      --column NAME=SRC    read column SRC as NAME (e.g. patient_id=record_id)\n"
          "      --wide SPEC          one row per patient: 'pain_vas: pk1@0d, pk2@3m;\n"
          "                           patient_id=id' (docs/config.md)\n"
          "      --wide-map FILE      the same spec read from a file\n"
          "      --delimiter C        field delimiter: , ; tab (default: detected)\n"
          "      --decimal-comma      read 7,5 as 7.5 (semicolon-separated exports)\n"
          "      --patient-key A,B    the patient is columns A and B together (site + id)\n"
          "      --relative-time COL:UNIT  time since baseline in COL (days|weeks|months)\n"
          "                           instead of visit_date\n"
          "      --strict             any rejected row fails the run (exit 3)\n"
          "      --today YYYY-MM-DD   reference date for the future-date check (default today)\n"
          "      --by COVARIATE       subgroup breakdown (repeatable; default clinic, sex, arm)\n"
          "      --min-cell N         suppress subgroup cells below N patients (default 10)\n"
          "      --seed N             bootstrap seed (default 20261123)\n"
          "      --new-episode-after DAYS  start a new episode after a gap of DAYS\n"
          "      --pseudonymise KEYFILE  replace patient ids by keyed pseudonyms (HMAC-SHA256)\n"
          "                           in visits.csv and patients.csv (ingest and run)\n"
          "      --no-charts          skip the charts\n"
          "      --no-stream          keep every visit in memory (run, and the stages that\n"
          "                           read visits.csv): skips the first, streaming read\n"
          "                           of input not grouped by patient\n"
          "      --timings            print each stage's wall time (and the patients.csv\n"
          "                           writer thread's wall and CPU time) on stderr at the end\n"
          "  -q, --quiet              no terminal summary\n"
          "  -h, --help               this help\n", fp);
}

static int parse_day(const char *s, int32_t *day)
{
    return civil_parse_iso(s, day) == CIVIL_OK ? 0 : -1;
}

static int parse_args(int argc, char **argv, size_t ci, struct options *o, int *first_file)
{
    static const struct option lopts[] = {
        {"out", required_argument, 0, 'o'},      {"claims", required_argument, 0, 'c'},
        {"column", required_argument, 0, 'C'},   {"delimiter", required_argument, 0, 'd'},
        {"strict", no_argument, 0, 'S'},         {"today", required_argument, 0, 'T'},
        {"by", required_argument, 0, 'B'},       {"min-cell", required_argument, 0, 'M'},
        {"seed", required_argument, 0, 'R'},     {"new-episode-after", required_argument, 0, 'E'},
        {"no-charts", no_argument, 0, 'N'},      {"quiet", no_argument, 0, 'q'},
        {"month", required_argument, 0, 'm'},    {"help", no_argument, 0, 'h'},
        {"patient-key", required_argument, 0, 'K'}, {"relative-time", required_argument, 0, 'L'},
        {"decimal-comma", no_argument, 0, 'D'}, {"benchmarks", required_argument, 0, 'b'},
        {"pseudonymise", required_argument, 0, 'P'},
        {"config", required_argument, 0, 'F'}, {"wide", required_argument, 0, 'W'},
        {"wide-map", required_argument, 0, 'Y'}, {"timings", no_argument, 0, 'Z'},
        {"no-stream", no_argument, 0, 'G'},
        {0, 0, 0, 0}};
    int c;
    const char *cli_cols[INGEST_MAP_MAX];   /* the --column values so far (more fail anyway) */
    size_t n_cli_cols = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":o:c:qh", lopts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': o->out = optarg; break;
        case 'c': o->claims = optarg; break;
        case 'S': o->strict = 1; o->ingest.strict = 1; break;
        case 'N': o->no_charts = 1; break;
        case 'q': o->quiet = 1; break;
        case 'Z': o->timings = 1; break;
        case 'G': o->no_stream = 1; break;
        case 'h': usage_cmd(stdout, ci); exit(OUT_OK);
        case 'C': {
            struct out_error ce = {0};
            if (ingest_opts_add_column(&o->ingest, optarg, &ce) != 0) {
                fprintf(stderr, "outcomes: --column: %s\n", ce.msg);   /* ce.msg names no option */
                return OUT_EUSAGE;
            }
            /* A later rename of a source replaces an earlier one (so the command line
             * overrides --config), but two --column giving one source two meanings is a
             * slip that would silently lose one of them. */
            const char *src = strchr(optarg, '=') + 1;
            for (size_t i = 0; i < n_cli_cols; i++) {
                const char *prev = strchr(cli_cols[i], '=');
                if (strcasecmp(prev + 1, src) == 0 &&
                    ((size_t)(prev - cli_cols[i]) != (size_t)(src - 1 - optarg) ||
                     strncasecmp(cli_cols[i], optarg, (size_t)(prev - cli_cols[i])) != 0)) {
                    fprintf(stderr, "outcomes: --column: '%s' and '%s' both rename column '%s'\n",
                            cli_cols[i], optarg, src);
                    return OUT_EUSAGE;
                }
            }
            if (n_cli_cols < sizeof cli_cols / sizeof cli_cols[0])
                cli_cols[n_cli_cols++] = optarg;
            break;
        }
        case 'K':
        case 'L': {
            struct out_error ce = {0};
            int bad = c == 'K' ? ingest_opts_set_key(&o->ingest, optarg, &ce)
                               : ingest_opts_set_time(&o->ingest, optarg, &ce);
            if (bad) {
                fprintf(stderr, "outcomes: --%s: %s\n",
                        c == 'K' ? "patient-key" : "relative-time", ce.msg);
                return OUT_EUSAGE;
            }
            break;
        }
        case 'D': o->ingest.decimal_comma = 1; break;
        case 'b': o->benchmarks = optarg; break;
        case 'P': o->key_file = optarg; break;
        case 'F':
        case 'Y': {
            struct out_error ce = {0};
            int r = c == 'F' ? ingest_config_load(optarg, &o->ingest, &o->instr, &ce)
                             : ingest_config_load_wide_map(optarg, &o->ingest, &ce);
            if (r) {
                char m[1024];
                out_error_format(&ce, m, sizeof m);
                fprintf(stderr, "outcomes: %s\n", m);
                return r;
            }
            break;
        }
        case 'W': {
            struct out_error ce = {0};
            if (ingest_opts_set_wide(&o->ingest, optarg, &ce)) {
                fprintf(stderr, "outcomes: --wide: %s\n", ce.msg);
                return OUT_EUSAGE;
            }
            break;
        }
        case 'd':
            if (!strcmp(optarg, "tab") || !strcmp(optarg, "\\t"))
                o->ingest.delimiter = '\t';
            else if (strlen(optarg) == 1 && strchr(",;\t|", optarg[0]))
                o->ingest.delimiter = optarg[0];
            else {
                fprintf(stderr, "outcomes: --delimiter: '%s' is not one of , ; tab |\n", optarg);
                return OUT_EUSAGE;
            }
            break;
        case 'T':
            if (parse_day(optarg, &o->ingest.today) != 0) {
                fprintf(stderr, "outcomes: --today: '%s' is not a date YYYY-MM-DD\n", optarg);
                return OUT_EUSAGE;
            }
            break;
        case 'B':
            if (o->n_by >= sizeof o->by / sizeof o->by[0]) {
                fprintf(stderr, "outcomes: --by: at most 16 breakdowns\n");
                return OUT_EUSAGE;
            }
            o->by[o->n_by++] = optarg;
            break;
        case 'M': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            if (errno || *end || v < 1) {
                fprintf(stderr, "outcomes: --min-cell: '%s' is not a whole number >= 1\n", optarg);
                return OUT_EUSAGE;
            }
            o->cohort.min_cell = (size_t)v;
            break;
        }
        case 'R': {
            errno = 0;
            unsigned long long v = strtoull(optarg, &end, 10);
            /* strtoull takes "" as 0 and skips blanks and a sign: digits only. */
            if (errno || *end || optarg[0] < '0' || optarg[0] > '9') {
                fprintf(stderr, "outcomes: --seed: '%s' is not a whole number\n", optarg);
                return OUT_EUSAGE;
            }
            o->cohort.seed = v;
            break;
        }
        case 'E': {
            errno = 0;
            long v = strtol(optarg, &end, 10);
            /* (int)v would wrap a larger value, to 1 day for 4294967297 */
            if (errno || *end || v < 1 || v > INT_MAX) {
                fprintf(stderr, "outcomes: --new-episode-after: '%s' is not a number of days\n",
                        optarg);
                return OUT_EUSAGE;
            }
            o->patient.new_episode_after = (int)v;
            break;
        }
        case 'm':
            o->month = optarg;
            break;
        case ':':
            fprintf(stderr, "outcomes %s: option '%s' needs a value\n", commands[ci].name,
                    argv[optind - 1]);
            return OUT_EUSAGE;
        default:
            fprintf(stderr, "outcomes %s: unknown option '%s' (see --help)\n", commands[ci].name,
                    argv[optind - 1]);
            return OUT_EUSAGE;
        }
    }
    *first_file = optind;
    return 0;
}

static void build_command_line(int argc, char **argv, char *buf, size_t n)
{
    size_t len = 0;
    buf[0] = '\0';
    for (int i = 0; i < argc && len + 1 < n; i++) {
        int w = snprintf(buf + len, n - len, "%s%s", i ? " " : "", argv[i]);
        if (w < 0)
            break;
        len += (size_t)w;
    }
}

static int report_error(const struct out_error *e, int rc)
{
    char buf[1024];
    out_error_format(e, buf, sizeof buf);
    fprintf(stderr, "outcomes: %s\n", buf);
    return rc;
}

/* The files a run wrote, listed in DIR/.outcomes-files, so that the next run can remove
 * those it no longer writes: without it a run with --no-charts or without --claims left
 * the last run's charts and audit.csv beside a report that does not match them (a nightly
 * dashboard showing a chart of other data). Only names this file lists are ever removed,
 * and only plain names with an output's suffix: never a user's file. */
static const char manifest_name[] = ".outcomes-files";

static int manifest_safe(const char *n)
{
    static const char *const suf[] = {".gp", ".dat", ".svg", ".png", ".csv", ".json", ".html",
                                      ".md"};
    if (!*n || *n == '.' || strchr(n, '/'))
        return 0;
    size_t len = strlen(n);
    for (size_t i = 0; i < sizeof suf / sizeof suf[0]; i++) {
        size_t k = strlen(suf[i]);
        if (len > k && strcmp(n + len - k, suf[i]) == 0)
            return 1;
    }
    return 0;
}

struct names {
    char (*v)[160];
    size_t n, cap;
};

static int names_add(struct names *s, const char *a, const char *b)
{
    if (s->n == s->cap) {
        size_t nc = s->cap ? 2 * s->cap : 64;
        void *nv = realloc(s->v, nc * sizeof *s->v);
        if (!nv)
            return -1;
        s->v = nv;
        s->cap = nc;
    }
    snprintf(s->v[s->n++], sizeof s->v[0], "%s%s", a, b);
    return 0;
}

static int names_has(const struct names *s, const char *n)
{
    for (size_t i = 0; i < s->n; i++)
        if (strcmp(s->v[i], n) == 0)
            return 1;
    return 0;
}

/* After a run whose report is written: remove what the last run's manifest lists and this
 * run did not write, then list this run's. Failures here are reported, never fatal: the
 * report is in place. */
static void sweep_outputs(const char *dir, const struct chart_list *cl, int have_audit)
{
    static const char *const fixed[] = {"rejects.csv", "patients.csv", "cohort.csv",
                                        "summary.json", "report.html", "report.md"};
    static const char *const ext[] = {".gp", ".dat", ".svg", ".png"};
    struct names now = {0};
    int oom = 0;
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        oom |= names_add(&now, fixed[i], "");
    if (have_audit)
        oom |= names_add(&now, "audit.csv", "");
    for (size_t i = 0; i < cl->n; i++)
        for (size_t k = 0; k < 4; k++)
            oom |= names_add(&now, cl->chart[i].name, ext[k]);
    if (oom) {
        free(now.v);
        return;
    }
    char path[4200], line[200];
    snprintf(path, sizeof path, "%s/%s", dir, manifest_name);
    FILE *fp = fopen(path, "r");
    if (fp) {
        while (fgets(line, sizeof line, fp)) {
            line[strcspn(line, "\n")] = '\0';
            if (!manifest_safe(line) || names_has(&now, line))
                continue;
            char old[4200];
            snprintf(old, sizeof old, "%s/%s", dir, line);
            if (unlink(old) != 0 && errno != ENOENT)
                fprintf(stderr, "outcomes: cannot remove the last run's %s: %s\n", old,
                        strerror(errno));
        }
        fclose(fp);
    }
    struct outfile of;
    struct out_error e = {0};
    if (outfile_open(&of, path, &e) == 0) {
        for (size_t i = 0; i < now.n; i++)
            fprintf(of.fp, "%s\n", now.v[i]);
        if (outfile_commit(&of, &e) != 0)
            fprintf(stderr, "outcomes: %s\n", e.msg);
    } else
        fprintf(stderr, "outcomes: %s\n", e.msg);
    free(now.v);
}

static int write_with(const char *dir, const char *name,
                      int (*fn)(const void *, FILE *, struct out_error *), const void *arg,
                      struct out_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    struct outfile of;
    int rc = outfile_open(&of, path, e);
    if (rc)
        return rc;
    rc = fn(arg, of.fp, e);
    if (rc) {
        outfile_abort(&of);
        return rc;
    }
    return outfile_commit(&of, e);
}

/* An output written on a second thread while later stages compute: patients.csv is the
 * largest output (about 120 bytes per visit) and only reads what the cohort, audit and
 * charts also only read. bg_wait() must run before those inputs are freed or changed. */
struct bg_write {
    const char *dir, *name;
    int (*fn)(const void *, FILE *, struct out_error *);
    const void *arg;
    struct out_error e;
    int rc, started;
    pthread_t thread;
    double wall, cpu;          /* the thread's own time, for --timings; cpu < 0 unknown */
};

static double now_s(void);

static double thread_cpu_s(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) != 0)
        return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *bg_main(void *p)
{
    struct bg_write *b = p;
    double t0 = now_s(), c0 = thread_cpu_s();
    b->rc = write_with(b->dir, b->name, b->fn, b->arg, &b->e);
    double c1 = thread_cpu_s();
    b->wall = now_s() - t0;
    b->cpu = c0 >= 0 && c1 >= 0 ? c1 - c0 : -1;
    return NULL;
}

/* Start the write; when no thread can be made, write here and now instead. */
static int bg_start(struct bg_write *b)
{
    b->rc = 0;
    if (pthread_create(&b->thread, NULL, bg_main, b) == 0) {
        b->started = 1;
        return 0;
    }
    b->rc = write_with(b->dir, b->name, b->fn, b->arg, &b->e);
    return b->rc;
}

/* Wait for the write; returns its status, with *e set on failure. Harmless when none. */
static int bg_wait(struct bg_write *b, struct out_error *e)
{
    if (b->started) {
        pthread_join(b->thread, NULL);
        b->started = 0;
    }
    if (b->rc && e)
        *e = b->e;
    int rc = b->rc;
    b->rc = 0;
    return rc;
}

/* Adapters so every output goes through write_with (atomic). */
static int w_visits(const void *a, FILE *fp, struct out_error *e)
{
    return ingest_write_visits(a, fp, e);
}
static int w_quality(const void *a, FILE *fp, struct out_error *e)
{
    return quality_write(a, fp, e);
}
static int w_patients(const void *a, FILE *fp, struct out_error *e)
{
    const void *const *p = a;
    if (patients_csv_write_fp(fp, p[0], p[1]) != 0)
        return out_err(e, OUT_EIO, "patients.csv", 0, 0, "write failed");
    return 0;
}
static int w_cohort(const void *a, FILE *fp, struct out_error *e)
{
    return cohort_write_csv(a, fp, e);
}
static int w_audit(const void *a, FILE *fp, struct out_error *e)
{
    return audit_write_csv(a, fp, "audit.csv", e);
}

/* ---- progress ---------------------------------------------------------------------- */

/* Progress on stderr for long runs, only when stderr is a terminal and not --quiet (so never
 * under cron): one line updated in place, "ingest: 42% 3.1M rows 85 MB/s", then the later
 * stages' names, and a last line with the total time. Nothing before the run has taken a
 * second, so quick runs look as they always did. */
static struct {
    int on, shown, timings;
    double t0, t_stage, last;
    const char *what;
    /* --timings: when each stage began (the first is "ingest" or "read") */
    const char *tname[16];
    double tstart[16];
    long tpeak[16];   /* peak resident memory (KiB) when the stage ended, -1 unknown */
    int nt;
    /* the background write of patients.csv, once waited for: its stage line shows only
     * the wait, so its own time has a line of its own */
    int bg_done;
    double bg_wall, bg_cpu;
} prog;

/* Peak resident set so far (VmHWM, KiB), -1 where /proc does not tell. */
static long peak_kib(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long kib = -1;
    if (!f)
        return -1;
    while (fgets(line, sizeof line, f))
        if (strncmp(line, "VmHWM:", 6) == 0) {
            kib = strtol(line + 6, NULL, 10);
            break;
        }
    fclose(f);
    return kib;
}

static void timing_mark(const char *name)
{
    if (prog.timings && prog.nt < 16) {
        if (prog.nt > 0)
            prog.tpeak[prog.nt - 1] = peak_kib();
        prog.tname[prog.nt] = name;
        prog.tstart[prog.nt++] = now_s();
    }
}

/* --timings: one line per stage, then the total, on stderr (not stdout: it is for people
 * and benchmarks, and must not mix with the terminal summary a script may parse). */
static void timing_print(void)
{
    if (!prog.timings || prog.nt == 0)
        return;
    double end = now_s();
    prog.tpeak[prog.nt - 1] = peak_kib();
    for (int i = 0; i < prog.nt; i++) {
        double t1 = i + 1 < prog.nt ? prog.tstart[i + 1] : end;
        fprintf(stderr, "timing: %-12s %8.3f s", prog.tname[i], t1 - prog.tstart[i]);
        /* The high-water mark only rises: a stage that raised it shows where memory went. */
        if (prog.tpeak[i] >= 0)
            fprintf(stderr, "   peak %6.0f MiB", (double)prog.tpeak[i] / 1024.0);
        fputc('\n', stderr);
    }
    fprintf(stderr, "timing: %-12s %8.3f s\n", "total", end - prog.tstart[0]);
    if (prog.bg_done) {
        fprintf(stderr, "timing: %-12s %8.3f s", "writer", prog.bg_wall);
        if (prog.bg_cpu >= 0)
            fprintf(stderr, "   cpu %6.3f s", prog.bg_cpu);
        fprintf(stderr, "   patients.csv on its own thread, beside the stages after patients\n");
    }
    prog.nt = 0;
    prog.bg_done = 0;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void prog_line(const char *text)
{
    fprintf(stderr, "\r%-60s", text);
    prog.shown = 1;
}

static void prog_ingest(void *user, const struct ingest_progress *p)
{
    (void)user;
    double t = now_s();
    if (p->done ? !prog.shown : t - prog.t0 < 1.0 || t - prog.last < 0.25)
        return;
    prog.last = t;
    char pct[16] = "", rows[32], line[128];
    if (p->bytes_total) {
        double f = 100.0 * (double)p->bytes_read / (double)p->bytes_total;
        snprintf(pct, sizeof pct, "%.0f%% ", f < 100 ? f : 100);
    }
    if (p->rows >= 1000000)
        snprintf(rows, sizeof rows, "%.1fM", (double)p->rows / 1e6);
    else if (p->rows >= 1000)
        snprintf(rows, sizeof rows, "%.0fk", (double)p->rows / 1e3);
    else
        snprintf(rows, sizeof rows, "%ld", p->rows);
    double dt = t - prog.t_stage;
    snprintf(line, sizeof line, "%s: %s%s rows %.0f MB/s", prog.what, pct, rows,
             dt > 0 ? (double)p->bytes_read / 1e6 / dt : 0.0);
    prog_line(line);
    if (p->done)
        fputc('\n', stderr);
}

static void prog_start(struct options *o)
{
    prog.timings = o->timings;
    if (o->quiet || !isatty(STDERR_FILENO))
        return;
    prog.on = 1;
    prog.t0 = prog.t_stage = now_s();
    o->ingest.progress = prog_ingest;
}

/* Called as the cohort stage begins. Cohort and audit allocate and free arrays of a few
 * megabytes per claim and group; glibc would map each afresh (its threshold starts at
 * 128 KiB and rises only when a mapped block is freed), so each would pay first-touch page
 * faults, 10 us or more a page on a virtual machine (docs/benchmark.md, seventh round). From
 * here they stay in the heap and are reused. Not earlier: ingest's threads would keep their
 * freed batch buffers in their arenas, about 10 MiB more at the peak. */
static void heap_keep_freed(void)
{
#if defined(M_MMAP_THRESHOLD) && defined(M_TRIM_THRESHOLD)
    mallopt(M_MMAP_THRESHOLD, 32 << 20);
    mallopt(M_TRIM_THRESHOLD, 64 << 20);
#endif
}

/* Before reading input: `what` names it on the progress line. */
static void prog_reading(const char *what)
{
    timing_mark(what);
    prog.what = what;
    prog.t_stage = now_s();
}

static void prog_stage(const char *name)
{
    timing_mark(name);
    if (!prog.on || (!prog.shown && now_s() - prog.t0 < 1.0))
        return;
    char line[64];
    snprintf(line, sizeof line, "stage: %s", name);
    prog_line(line);
}

/* The last line ("done in" or "stopped after"), before the terminal summary or an error
 * message; once. */
static void prog_end(const char *how)
{
    timing_print();
    if (prog.on && prog.shown) {
        char line[64];
        snprintf(line, sizeof line, "%s %.1f s", how, now_s() - prog.t0);
        prog_line(line);
        fputc('\n', stderr);
    }
    prog.on = 0;
}

static int on_patient_done(void *ctx, const struct dataset *ds, struct out_error *e)
{
    return patient_stream_add(ctx, ds, e);
}

/* Streaming pays only when the input can be read again should it turn out not to be grouped
 * by patient: regular files, not pipes. */
static int can_stream(char **files, int nfiles)
{
    for (int i = 0; i < nfiles; i++) {
        struct stat st;
        if (stat(files[i], &st) != 0 || !S_ISREG(st.st_mode))
            return 0;
    }
    return nfiles > 0;
}

/* One try at reading files streamed (ingest.h, patient_done): the per-patient records go
 * into ps as the patients are read. Returns ingest_files' code. On INGEST_UNGROUPED (the
 * input is not grouped by patient) ps and ds are emptied for the plain read that the caller
 * then does, which --timings calls "reingest". */
static int read_streamed(struct options *o, const char *const *files, size_t n,
                         struct ingest_opts io, struct dataset *ds, struct patient_set *ps,
                         FILE *rejects, struct out_error *e)
{
    struct patient_stream *pst = NULL;
    int rc = patient_stream_begin(&pst, &o->patient, ps, e);
    if (rc)
        return rc;
    io.patient_done = on_patient_done;
    io.patient_done_ctx = pst;
    rc = ingest_files(files, n, &io, ds, rejects, e);
    if (rc == 0) {
        patient_stream_end(pst, ds);
        return 0;
    }
    patient_stream_free(pst);
    if (rc == INGEST_UNGROUPED) {
        patient_set_free(ps);
        dataset_free(ds);
        dataset_init(ds);
        *e = (struct out_error){0};
        prog_reading("reingest");
    }
    return rc;
}

/* Ingest input files; rejects.csv is written atomically beside the other outputs. With ps
 * (the `run` command) and input grouped by patient, the per-patient records are made while
 * reading and *streamed is set: the visit table is not kept. Input found not to be grouped
 * is read again the plain way. */
static int stage_ingest(struct options *o, char **files, int nfiles, struct dataset *ds,
                        struct patient_set *ps, int *streamed, struct out_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/rejects.csv", o->out);
    struct outfile rej;
    int rc;
    *streamed = 0;
    if (ps && !o->no_stream && can_stream(files, nfiles)) {
        if ((rc = outfile_open(&rej, path, e)))
            return rc;
        rc = read_streamed(o, (const char *const *)files, (size_t)nfiles, o->ingest, ds, ps,
                           rej.fp, e);
        if (rc != INGEST_UNGROUPED) {
            *streamed = rc == 0 || rc == OUT_EINPUT;
            goto commit;
        }
        outfile_abort(&rej);   /* the plain read writes the rejects again from the start */
    }
    if ((rc = outfile_open(&rej, path, e)))
        return rc;
    rc = ingest_files((const char *const *)files, (size_t)nfiles, &o->ingest, ds, rej.fp, e);
commit:
    /* A failed run leaves the last good outputs in place, rejects.csv with them: a
     * file-level error (malformed CSV, a NUL byte) stops the read part-way, and a partial
     * rejects.csv beside the last good report would contradict its counts. Under --strict
     * a rejected row fails the run on purpose once all is read (ds->strict_stop), and
     * rejects.csv is what tells why; a file-level error under --strict is the former. */
    if (rc && !(rc == OUT_EINPUT && ds->strict_stop)) {
        outfile_abort(&rej);
        return rc;
    }
    int rc2 = outfile_commit(&rej, rc ? NULL : e);
    return rc ? rc : rc2;
}

/* A row of visits.csv refused on reading it back: say why that is not the row's fault. */
static int reread_error(const struct dataset *ds, int rc, struct out_error *e)
{
    if (rc == OUT_EINPUT && ds->strict_stop) {
        char was[sizeof e->msg];
        snprintf(was, sizeof was, "%s", e->msg);
        snprintf(e->msg, sizeof e->msg,
                 "%.280s: a row `ingest` accepted is refused on reading it back (an earlier "
                 "--today or other instruments than ingest had, an edited file, or one from "
                 "another version): give this stage ingest's options, or run `outcomes "
                 "ingest` again",
                 was);
    }
    return rc;
}

/* Read visits.csv (and quality.csv) back for a later stage. With ps, visits.csv in patient
 * order (as ingest writes it from grouped input) is streamed as `run` streams its input: the
 * per-patient records are made while reading and *streamed is set; a file not grouped by
 * patient is read again the plain way. */
static int load_visits(struct options *o, struct dataset *ds, struct patient_set *ps,
                       int *streamed, struct out_error *e)
{
    char vpath[4096], qpath[4096];
    snprintf(vpath, sizeof vpath, "%s/visits.csv", o->out);
    snprintf(qpath, sizeof qpath, "%s/quality.csv", o->out);
    const char *files[1] = {vpath};
    struct ingest_opts io = o->ingest;
    /* visits.csv has canonical names, one id column, real dates and '.' decimals. */
    io.n_map = 0;
    io.n_wide = 0;
    io.wide_date[0] = '\0';
    io.n_key = 0;
    io.time_column[0] = '\0';
    io.decimal_comma = 0;
    io.delimiter = ',';
    /* A visits.csv row can be longer than the input row it came from (added columns,
     * quoting, the patient's covariates from other rows on every row): the input's record
     * limit would refuse what ingest wrote. The file is ingest's own, so the limit only
     * guards against a damaged one. */
    io.max_field = (size_t)256 << 20;
    /* Every row of visits.csv was accepted once. One refused now (an earlier --today than
     * ingest's, an edited file, one written by an older version) would vanish from every
     * figure while quality.csv's counts still held it: stop instead. */
    io.strict = 1;
    int rc;
    *streamed = 0;
    if (ps && !o->no_stream) {
        rc = read_streamed(o, files, 1, io, ds, ps, NULL, e);
        if (rc == 0) {
            *streamed = 1;
            return quality_read(ds, qpath, e);
        }
        if (rc != INGEST_UNGROUPED)
            return reread_error(ds, rc, e);
    }
    if ((rc = ingest_files(files, 1, &io, ds, NULL, e)))
        return reread_error(ds, rc, e);
    return quality_read(ds, qpath, e);
}

static const char *gnuplot_version(char *buf, size_t n)
{
    FILE *p = popen("gnuplot --version 2>/dev/null", "r");
    if (!p)
        return NULL;
    if (!fgets(buf, (int)n, p))
        buf[0] = '\0';
    pclose(p);
    buf[strcspn(buf, "\n")] = '\0';
    return buf[0] ? buf : NULL;
}

static void now_iso(char *buf, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(buf, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* First and last day of month "YYYY-MM" (validated by the caller), and the month twelve
 * before it as "YYYY-MM". */
static void month_bounds(const char *month, int32_t *lo, int32_t *hi, char from[16])
{
    int y = atoi(month) % 10000, m = atoi(month + 5) % 100;
    *lo = civil_days(y, m, 1);
    *hi = *lo + civil_days_in_month(y, m) - 1;
    snprintf(from, 16, "%04d-%02d", y - 1, m);
}

static int run(size_t ci, struct options *o, char **files, int nfiles)
{
    enum stage st = commands[ci].stage;
    struct out_error e = {0};
    struct dataset ds;
    struct patient_set ps = {0}, ps_month = {0};
    const struct patient_set *desc = &ps;   /* the patients the report describes */
    char month_from[16];                    /* outlives cohort_compute, which keeps a pointer */
    struct cohort co = {0};
    struct claim_set cs;
    struct audit_result ar;
    struct patient_table pt;
    struct bench_set bs = {0};
    struct chart_list cl = {0};
    struct bg_write bgp = {0};
    int rc = 0, have_audit = 0;
    dataset_init(&ds);
    claim_set_init(&cs);
    audit_result_init(&ar);
    patient_table_init(&pt);

    if ((st == ST_RUN || st == ST_INGEST) && nfiles == 0) {
        fprintf(stderr, "outcomes %s: no input files (see --help)\n", commands[ci].name);
        return OUT_EUSAGE;
    }
    if (st != ST_RUN && st != ST_INGEST && nfiles > 0) {
        fprintf(stderr, "outcomes %s: reads %s, not files on the command line\n",
                commands[ci].name, commands[ci].reads);
        return OUT_EUSAGE;
    }
    if (st == ST_AUDIT && !o->claims) {
        fprintf(stderr, "outcomes audit: --claims FILE is required\n");
        return OUT_EUSAGE;
    }
    if ((rc = make_dirs(o->out, &e)))
        goto fail;
    prog_start(o);

    if (st == ST_COHORT) {
        char path[4096];
        snprintf(path, sizeof path, "%s/patients.csv", o->out);
        prog_stage("cohort");
        heap_keep_freed();
        if ((rc = patients_csv_read(path, o->ingest.instruments, &pt, &e)))
            goto fail;
        o->cohort.by = o->by;
        o->cohort.n_by = o->n_by;
        if ((rc = check_by(o, &pt.ds, &e)) ||
            (rc = cohort_compute(&pt.ds, &pt.set, &o->cohort, &co, &e)) ||
            (rc = write_with(o->out, "cohort.csv", w_cohort, &co, &e)))
            goto fail;
        goto done;
    }

    /* The registry and the benchmarks are read before any stage writes: an error in them
     * (exit 3) then leaves every output as the last good run left it, not half replaced. */
    if (o->claims && st != ST_INGEST && st != ST_PATIENTS &&
        (rc = claims_load(o->claims, &cs, &e)))
        goto fail;
    if (st == ST_RUN || st == ST_CHARTS || st == ST_REPORT) {
        char bpath[4096] = "";
        if (o->benchmarks)
            snprintf(bpath, sizeof bpath, "%s", o->benchmarks);
        else if (o->claims) {
            /* benchmarks.tsv beside the registry, when it is there */
            const char *slash = strrchr(o->claims, '/');
            int dl = slash ? (int)(slash - o->claims + 1) : 0;
            snprintf(bpath, sizeof bpath, "%.*sbenchmarks.tsv", dl, o->claims);
            if (access(bpath, R_OK) != 0)
                bpath[0] = '\0';
        }
        if (bpath[0] && (rc = bench_load(bpath, &bs, &e)))
            goto fail;
    }

    int streamed = 0;
    if (st == ST_RUN || st == ST_INGEST) {
        prog_reading("ingest");
        rc = stage_ingest(o, files, nfiles, &ds, st == ST_RUN ? &ps : NULL, &streamed, &e);
    } else {
        prog_reading("visits.csv");
        rc = load_visits(o, &ds, &ps, &streamed, &e);
    }
    if (rc)
        goto fail;
    if ((st == ST_RUN || st == ST_INGEST) &&
        quality_count_zero_led_ids(&ds, &ds.ids_zero_led)) {   /* on the ids as read */
        rc = out_err(&e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
        goto fail;
    }
    if (o->key_file && (st == ST_RUN || st == ST_INGEST)) {
        unsigned char key[PSEUDONYM_KEY_MAX];
        size_t klen;
        rc = pseudonym_key_load(o->key_file, key, &klen, &e);
        if (!rc)
            rc = pseudonymise_dataset(&ds, key, klen, &e);
        memset(key, 0, sizeof key);
        if (rc)
            goto fail;
    }
    dataset_drop_id_index(&ds);   /* every patient is known: no more lookups by id */
    /* Before patients.csv: a misspelt --by stops the run with the outputs it would replace
     * still the last good ones (rejects.csv aside, as for any failure after reading). */
    if (st == ST_RUN && (rc = check_by(o, &ds, &e)))
        goto fail;
    if (st == ST_INGEST) {
        prog_stage("visits.csv");
        if ((rc = write_with(o->out, "visits.csv", w_visits, &ds, &e)) ||
            (rc = write_with(o->out, "quality.csv", w_quality, &ds, &e)))
            goto fail;
        prog_end("done in");
        if (!o->quiet)
            printf("rows: %ld read, %ld accepted, %ld rejected; wrote %s/visits.csv\n",
                   ds.rows_read, ds.rows_accepted, ds.rows_rejected, o->out);
        goto done;
    }

    prog_stage("patients");
    if (!streamed && (rc = patient_compute(&ds, &o->patient, &ps, &e)))
        goto fail;
    /* The audit and the charts read a few visit-level facts; made once, here, unless the
     * streaming ingest made them as it went. */
    if (st != ST_PATIENTS && !ds.digest && digest_attach(&ds)) {
        rc = out_err(&e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
        goto fail;
    }
    const void *pargs[2] = {&ds, &ps};
    if (st == ST_PATIENTS) {
        if ((rc = write_with(o->out, "patients.csv", w_patients, pargs, &e)))
            goto fail;
        goto done;
    }
    if (st == ST_RUN) {
        bgp = (struct bg_write){.dir = o->out, .name = "patients.csv", .fn = w_patients,
                                .arg = pargs};
        if ((rc = bg_start(&bgp)))
            goto fail;
    }

    if (o->month) {
        /* Describe the patients whose course ended in the month; plot the trend over it and
         * the twelve months before. */
        int32_t lo, hi;
        month_bounds(o->month, &lo, &hi, month_from);
        if ((rc = patient_set_select(&ps, lo, hi, &ps_month, &e)))
            goto fail;
        o->cohort.series = &ps;
        o->cohort.month_from = month_from;
        o->cohort.month_to = o->month;
        desc = &ps_month;
    }
    o->cohort.by = o->by;
    o->cohort.n_by = o->n_by;
    prog_stage("cohort");
    heap_keep_freed();
    if ((rc = cohort_compute(&ds, desc, &o->cohort, &co, &e)))
        goto fail;
    if (st == ST_RUN && (rc = write_with(o->out, "cohort.csv", w_cohort, &co, &e)))
        goto fail;

    if (o->claims) {
        struct audit_opts ao;
        audit_opts_default(&ao);
        /* The audit's intervals must be the cohort table's for the same number. */
        ao.seed = o->cohort.seed;
        ao.boot_reps = o->cohort.boot_reps;
        ao.large_n = o->cohort.boot_max_n + 1;
        prog_stage("audit");
        if ((rc = audit_run(&cs, &ds, desc, &ao, &ar, &e)))
            goto fail;
        have_audit = 1;
        if ((st == ST_AUDIT || st == ST_RUN) &&
            (rc = write_with(o->out, "audit.csv", w_audit, &ar, &e)))
            goto fail;
    }
    if (st == ST_AUDIT)
        goto done;

    char chart_err[1024] = "";
    if (!o->no_charts && (st == ST_CHARTS || st == ST_RUN || st == ST_REPORT)) {
        struct out_error ce = {0};
        prog_stage("charts");
        /* A chart failure (gnuplot missing) is reported, and fails the run after the
         * report is written, so a cron job notices but the numbers still land. */
        if (charts_build(o->out, &ds, desc, &co, have_audit ? &ar : NULL, &bs, &cl, &ce) != 0) {
            out_error_format(&ce, chart_err, sizeof chart_err);
            rc = ce.code;
            if (st == ST_CHARTS) {
                e = ce;
                goto fail;
            }
        }
    }
    if (st == ST_CHARTS)
        goto done;

    char gpv[128], gen[32];
    /* patients.csv must be in place (or its failure known) before the report says so. */
    if (bgp.started) {
        prog_stage("patients.csv");
        int rcw = bg_wait(&bgp, &e);
        prog.bg_done = 1;
        prog.bg_wall = bgp.wall;
        prog.bg_cpu = bgp.cpu;
        if (rcw) {
            rc = rcw;
            goto fail;
        }
    }
    prog_stage("report");
    now_iso(gen, sizeof gen);
    struct report_input ri = {
        .ds = &ds, .ps = desc, .cohort = &co, .audit = have_audit ? &ar : NULL,
        .claims_path = o->claims, .bench = &bs, .charts = cl.chart, .n_charts = cl.n,
        .chart_error = chart_err[0] ? chart_err : NULL, .command_line = o->command_line,
        .month = o->month, .generated = gen,
        .gnuplot_version = gnuplot_version(gpv, sizeof gpv)};
    int rc2 = report_write(&ri, o->out, &e);
    if (rc2) {
        rc = rc2;
        goto fail;
    }
    if (st == ST_RUN)
        sweep_outputs(o->out, &cl, have_audit);
    prog_end("done in");
    if (!o->quiet)
        report_terminal(&ri, o->out, stdout);
    if (chart_err[0]) {
        fprintf(stderr, "outcomes: charts: %s\n", chart_err);
        goto out;
    }
    if (o->strict && ds.rows_rejected > 0) {
        fprintf(stderr, "outcomes: --strict: %ld rows rejected (see %s/rejects.csv)\n",
                ds.rows_rejected, o->out);
        rc = OUT_EINPUT;
    }
    goto out;
done:
    rc = 0;
    prog_end("done in");
    goto out;
fail:
    prog_end("stopped after");
    report_error(&e, rc);
out:
    /* Before anything the writer reads is freed; its failure fails the run. */
    if (bgp.started) {
        struct out_error be = {0};
        if (bg_wait(&bgp, &be)) {
            report_error(&be, be.code);
            if (!rc)
                rc = be.code;
        }
    }
    prog_end("done in");
    chart_list_free(&cl);
    bench_set_free(&bs);
    audit_result_free(&ar);
    claim_set_free(&cs);
    patient_table_free(&pt);
    cohort_free(&co);
    patient_set_free(&ps_month);
    patient_set_free(&ps);
    dataset_free(&ds);
    return rc;
}

int main(int argc, char **argv)
{
    gsl_set_error_handler_off();   /* GSL's default handler aborts; we check return codes */
    if (argc < 2) {
        usage_main(stderr);
        return OUT_EUSAGE;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage_main(stdout);
        return OUT_OK;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("outcomes %s\n", OUTCOMES_VERSION);
        return OUT_OK;
    }
    if (!strcmp(argv[1], "simulate"))
        return simulate_cli(argc - 1, argv + 1);
    size_t ci;
    for (ci = 0; ci < sizeof commands / sizeof commands[0]; ci++)
        if (!strcmp(argv[1], commands[ci].name))
            break;
    if (ci == sizeof commands / sizeof commands[0]) {
        fprintf(stderr, "outcomes: unknown command '%s' (see outcomes --help)\n", argv[1]);
        return OUT_EUSAGE;
    }
    struct options o;
    static char month_out[64];
    memset(&o, 0, sizeof o);
    ingest_opts_default(&o.ingest);
    instrument_table_builtin(&o.instr);
    patient_opts_default(&o.patient);
    cohort_opts_default(&o.cohort);
    build_command_line(argc, argv, o.command_line, sizeof o.command_line);
    int first;
    int rc = parse_args(argc - 1, argv + 1, ci, &o, &first);
    if (rc)
        return rc;
    int out_given = o.out != NULL;
    if (!o.out)
        o.out = "reports/latest";
    o.by_given = o.n_by > 0;
    if (o.n_by == 0) {
        o.by[o.n_by++] = "clinic";
        o.by[o.n_by++] = "sex";
        o.by[o.n_by++] = "arm";
    }
    if (o.month) {
        /* Digits only: sscanf's %d would take "2026-+1" or "2026- 1" as January, while the
         * month is also compared as text. */
        const char *mo = o.month;
        int digits = strlen(mo) == 7 && mo[4] == '-';
        for (int i = 0; digits && i < 7; i++)
            digits = i == 4 || (mo[i] >= '0' && mo[i] <= '9');
        int y = digits ? atoi(mo) : 0, m = digits ? atoi(mo + 5) : 0;
        if (!digits || m < 1 || m > 12 || y < 1900) {
            fprintf(stderr, "outcomes: --month: '%s' is not a month YYYY-MM\n", o.month);
            return OUT_EUSAGE;
        }
        if (!out_given) {
            snprintf(month_out, sizeof month_out, "reports/%s", o.month);
            o.out = month_out;
        }
    }
    return run(ci, &o, argv + 1 + first, argc - 1 - first);
}
