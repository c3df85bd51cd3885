/* simulate.c — see simulate.h for the model in brief and docs/simulator.md for every constant
 * and its source. */
#define _DEFAULT_SOURCE   /* getopt_long */
#include "simulate.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "civil_date.h"
#include "outfile.h"
#include "parse_num.h"
#include "plan.h"

/* ---- the model's constants, in one place so docs/simulator.md can mirror them ---- */

static const struct model {
    double u_mean, u_sd, u_lo, u_hi;  /* usual pain level (clipping is symmetric: mean kept) */
    double flare_sd, flare_tau;       /* OU flare: stationary SD, time constant (weeks) */
    double pain_noise;                /* NRS measurement SD (SEM for r = 0.85, SD 2) */
    double pain_sd_ref;               /* SD unit of `effect`: between-patient SD of pain */
    double buildup;                   /* treatments for 63% of the effect to build up */
    double fade_per_year;             /* share of the effect lost per year after the course */
    double imm_mean, imm_sd_patient, imm_sd_session;   /* immediate post-session drop */
    double sleep_a_sd, sleep_pain_slope;               /* latent sleep problem L */
    double sleep_mean, sleep_per_l, sleep_noise;       /* sleep quality 0-10 */
    double psqi_mean, psqi_per_l, psqi_noise;          /* PSQI 0-21 */
    double stress_mean, stress_per_pain, stress_sd_patient, stress_noise;   /* PSS-10 */
    int questionnaire_days;           /* PSQI/PSS-10 again once this many days have passed */
    double p_female;
    double age_mean, age_sd;
    int sessions_min;
    double sessions_extra_mean;       /* planned = sessions_min + Poisson(this) */
    double freq_p[3];                 /* P(1, 2, 3 visits a week) */
    double p_main_practitioner;
    double p_adverse;                 /* per treatment session */
    double drop_base, drop_no_gain;   /* per-visit dropout hazard, scaled by params.dropout */
    double drop_target;               /* improvement (fraction) at which the extra hazard is 0 */
    int fu_day, fu_jitter;            /* 12-month visit: baseline + fu_day +- fu_jitter */
} M = {
    .u_mean = 5.0, .u_sd = 1.5, .u_lo = 1.0, .u_hi = 9.0,
    .flare_sd = 1.2, .flare_tau = 2.0,
    .pain_noise = 0.8,
    .pain_sd_ref = 1.85,
    .buildup = 2.0,
    .fade_per_year = 0.15,
    .imm_mean = 1.0, .imm_sd_patient = 0.5, .imm_sd_session = 0.5,
    .sleep_a_sd = 1.0, .sleep_pain_slope = 0.4,
    .sleep_mean = 5.5, .sleep_per_l = -1.2, .sleep_noise = 1.0,
    .psqi_mean = 9.0, .psqi_per_l = 2.0, .psqi_noise = 1.5,
    .stress_mean = 18.0, .stress_per_pain = 1.2, .stress_sd_patient = 5.0, .stress_noise = 3.0,
    .questionnaire_days = 28,
    .p_female = 0.6,
    .age_mean = 50.0, .age_sd = 15.0,
    .sessions_min = 6, .sessions_extra_mean = 5.0,
    .freq_p = {0.45, 0.40, 0.15},
    .p_main_practitioner = 0.85,
    .p_adverse = 0.02,
    .drop_base = 0.02, .drop_no_gain = 0.15, .drop_target = 0.30,
    .fu_day = 365, .fu_jitter = 21,
};

/* Natural course targets: Menezes Costa et al., CMAJ 2012 (evidence.md), 0-100 pain
 * 51 -> 33 -> 26 -> 23, as ratios of baseline. */
enum { NC_KNOTS = 4 };
static const double nc_weeks[NC_KNOTS] = {0, 6, 26, 52};
static const double nc_ratio[NC_KNOTS] = {1.0, 33.0 / 51, 26.0 / 51, 23.0 / 51};

static const struct { const char *name; double p; } conditions[] = {
    {"low back pain", 0.65}, {"neck pain", 0.20}, {"sciatica", 0.15},
};
static const struct { const char *name; double p; } chronicities[] = {
    {"acute", 0.15}, {"subacute", 0.15}, {"chronic", 0.70},
};

/* Clinic 2's name holds a comma on purpose: every one of its rows needs CSV quoting. */
static const char *const clinic_names[] = {
    "Riverside Pain Clinic", "Hale, Moss & Partners", "Northgate Acupuncture",
    "Eastside Wellbeing Centre", "Harbour Physio & Acupuncture", "Old Mill Clinic",
    "Lakeview Integrative Health", "St Anne's Pain Service", "Westfield Back Care",
    "Greenway Holistic Clinic", "Cedar Street Practice", "Hilltop Acupuncture",
};
static const char *const surnames[] = {
    "Lee", "Novak", "Okafor", "Schmidt", "Garcia", "Chen", "Murphy", "Haddad", "Rossi",
    "Kowalski", "Nguyen", "Silva", "Brown", "Tanaka", "Johansson", "Patel", "Dubois",
};
static const char initials[] = "ABCDEFGHJKLMNPRSTW";

/* The same names as ingest's reject reasons, so counts can be compared line by line. */
static const char *const dirty_names[SIM_D__COUNT] = {
    "wrong_field_count", "missing_patient_id", "missing_date", "invalid_date", "future_date",
    "invalid_session", "non_numeric_score", "out_of_range", "no_scores", "duplicate_exact",
    "duplicate_conflict", "invalid_flag", "invalid_episode", "mangled_patient_id",
};
static const char *const tricky_names[SIM_T__COUNT] = {"na_sleep", "na_pain_post", "quoted"};

static const char *const number_words[11] = {
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
};

const char *sim_dirty_name(enum sim_dirty k)
{
    return (unsigned)k < SIM_D__COUNT ? dirty_names[k] : "?";
}

const char *sim_tricky_name(enum sim_tricky k)
{
    return (unsigned)k < SIM_T__COUNT ? tricky_names[k] : "?";
}

struct sim_params sim_params_default(void)
{
    struct sim_params p = {
        .patients = 1000, .seed = 1, .start = "2025-01-01", .months = 12, .clinics = 3,
        .effect = 0.55, .control = 0.0, .arm = {"treatment", "control"}, .followup = 0.3,
        .dropout = 1.0,
        .dirty = 0.0, .tricky = 0.0, .order = SIM_SORTED, .buckets = 0, .columns = NULL,
    };
    return p;
}

/* ---- calendar (civil_date.h does the arithmetic) ---- */

/* Strict YYYY-MM-DD (years from 1900). Returns 0 and the day number, or -1. */
static int parse_date(const char *s, long *day)
{
    int32_t d;
    if (civil_parse_iso(s, &d) != CIVIL_OK)
        return -1;
    *day = d;
    return 0;
}

static void format_date(long day, char buf[11])
{
    civil_format((int32_t)day, buf);
}

/* Clinics are closed on Sundays; 1970-01-01 was a Thursday. */
static long skip_sunday(long day)
{
    return ((day % 7) + 7 + 4) % 7 == 0 ? day + 1 : day;
}

/* ---- the natural course ---- */

/* E|Z| for Z ~ Normal(0, 1) is sqrt(2/pi): the mean flare at presentation is flare_sd times it. */
static double flare_mean(void)
{
    return M.flare_sd * 0.79788456080286536;
}

/* Knots of N(t), the course of the usual level u, solved so that the population mean of
 * u N(t) + s(t) over the baseline mean u + s(0) is nc_ratio at nc_weeks: the published
 * cohorts already contain regression to the mean, so the flare's share is taken out. */
static void usual_knots(double out[NC_KNOTS])
{
    double ef = flare_mean();
    for (int j = 0; j < NC_KNOTS; j++)
        out[j] = (nc_ratio[j] * (M.u_mean + ef) - ef * exp(-nc_weeks[j] / M.flare_tau)) /
                 M.u_mean;
}

static double interp_knots(const double knot[NC_KNOTS], double weeks)
{
    if (weeks <= nc_weeks[0])
        return knot[0];
    for (int j = 0; j + 1 < NC_KNOTS; j++)
        if (weeks <= nc_weeks[j + 1]) {
            double f = (weeks - nc_weeks[j]) / (nc_weeks[j + 1] - nc_weeks[j]);
            return knot[j] + f * (knot[j + 1] - knot[j]);
        }
    return knot[NC_KNOTS - 1];
}

double sim_untreated_ratio(double weeks)
{
    double knot[NC_KNOTS];
    usual_knots(knot);
    double ef = flare_mean();
    double w = weeks > 0 ? weeks : 0;
    return (M.u_mean * interp_knots(knot, w) + ef * exp(-w / M.flare_tau)) / (M.u_mean + ef);
}

/* Share of the full effect present after k treatments. */
static double buildup(int k)
{
    return 1.0 - exp(-(double)k / M.buildup);
}

/* ---- rows ---- */

enum col {
    C_ID, C_DATE, C_SESSION, C_EPISODE, C_CLINIC, C_PRACT, C_ARM, C_AGE, C_SEX, C_COND, C_CHRON,
    C_PAIN, C_POST, C_SLEEP, C_PSQI, C_STRESS, C_AE, C__COUNT
};
static const char *const col_names[C__COUNT] = {
    "patient_id", "visit_date", "session", "episode", "clinic", "practitioner", "arm", "age",
    "sex", "condition", "chronicity", "pain", "pain_post", "sleep", "psqi", "stress",
    "adverse_event",
};

enum { FIELD_CAP = 48, LINE_CAP = C__COUNT * (2 * FIELD_CAP + 3) + 16 };

/* Named column sets for --columns; a preset's list obeys the same rules as a user's. */
static const struct col_preset {
    const char *name;
    const char *list;   /* NULL: every column (arm only with a control arm) */
} col_presets[] = {
    {"all", NULL},   /* arm only with a control arm, episode only with --episodes */
    {"core", "patient_id,visit_date,session,pain,sleep"},   /* the benchmark's shape (#9) */
};
enum { N_COL_PRESETS = sizeof col_presets / sizeof col_presets[0] };

static unsigned col_bit(enum col c)
{
    return 1u << c;
}

static int col_index(const char *name, size_t len)
{
    for (int c = 0; c < C__COUNT; c++)
        if (strlen(col_names[c]) == len && memcmp(col_names[c], name, len) == 0)
            return c;
    return -1;
}

/* "a,b,c" of every column name, for messages and --help. */
static void col_list(char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int c = 0; c < C__COUNT && k < n; c++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", c ? "," : "", col_names[c]);
}

/* "a, b" of the preset names, for messages. */
static void preset_list(char *buf, size_t n)
{
    size_t k = 0;
    buf[0] = '\0';
    for (int i = 0; i < N_COL_PRESETS && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%s", i ? ", " : "", col_presets[i].name);
}

/* The rules simulate.h states for a column set, checked on the finished mask. */
static int columns_required(unsigned m, const struct sim_params *p, struct out_error *e)
{
    static const enum col required[] = {C_ID, C_DATE};
    for (size_t i = 0; i < sizeof required / sizeof required[0]; i++)
        if (!(m & col_bit(required[i])))
            return out_err(e, OUT_EUSAGE, NULL, 0, 0, "columns: %s is required",
                           col_names[required[i]]);
    /* psqi and stress are asked every 28 days: with neither pain nor sleep most rows would
     * have no score at all and ingest would reject them as no_scores. */
    if (!(m & (col_bit(C_PAIN) | col_bit(C_SLEEP))))
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "columns: pain or sleep is required (psqi and stress are asked only "
                       "every %d days, so most rows would have no score)",
                       M.questionnaire_days);
    if ((m & col_bit(C_ARM)) && !(p->control > 0))
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "columns: arm is written only with a control arm (--control > 0)");
    if ((m & col_bit(C_EPISODE)) && !p->episodes)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "columns: episode is written only with --episodes");
    return 0;
}

/* The columns to write, as bits (col_bit), from p->columns: a preset name or a comma-separated
 * list in the full header's order. Returns 0, or OUT_EUSAGE with *e naming the culprit. */
static int columns_mask(const struct sim_params *p, unsigned *mask, struct out_error *e)
{
    const char *spec = p->columns;
    for (size_t i = 0; spec && i < N_COL_PRESETS; i++)
        if (strcmp(spec, col_presets[i].name) == 0)
            spec = col_presets[i].list;
    if (!spec) {
        unsigned all = (1u << C__COUNT) - 1;
        if (!(p->control > 0))
            all &= ~col_bit(C_ARM);
        if (!p->episodes)
            all &= ~col_bit(C_EPISODE);
        *mask = all;
        return 0;
    }
    char known[256], presets[64];
    col_list(known, sizeof known);
    preset_list(presets, sizeof presets);
    unsigned m = 0;
    int prev = -1;
    for (const char *s = spec;;) {
        int len = (int)strcspn(s, ",");
        int c = col_index(s, (size_t)len);
        if (len == 0)
            return out_err(e, OUT_EUSAGE, NULL, 0, 0, "columns: empty name in '%s'", spec);
        if (c < 0)
            return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                           "columns: unknown column '%.*s' (columns: %s; presets: %s)", len,
                           s, known, presets);
        if (m & col_bit((enum col)c))
            return out_err(e, OUT_EUSAGE, NULL, 0, 0, "columns: %s is named twice",
                           col_names[c]);
        /* One order only, so the header is what was asked for, column for column. */
        if (c < prev)
            return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                           "columns: %s must come before %s (the order is %s)", col_names[c],
                           col_names[prev], known);
        m |= col_bit((enum col)c);
        prev = c;
        if (!s[len])
            break;
        s += len + 1;
    }
    int rc = columns_required(m, p, e);
    if (rc == 0)
        *mask = m;
    return rc;
}

struct row {
    char f[C__COUNT][FIELD_CAP];
};

/* Field shapes for the field_count defect. */
enum shape { SHAPE_OK, SHAPE_SHORT, SHAPE_EXTRA };

struct sim {
    const struct sim_params *p;
    struct sim_stats st;
    gsl_rng *model;   /* every modelled quantity */
    gsl_rng *dirt;    /* where dirty and tricky rows go, and their details */
    gsl_rng *shuf;    /* bucket choice and in-bucket shuffle */
    double knot[NC_KNOTS];
    long first_day, last_day;
    int has_arm;      /* a control arm exists (patients get an arm) */
    unsigned cols;    /* columns written, col_bit() of each */
    long next_dirty;  /* visit index of the next dirty row, -1 for none */
    long block;
    int perm[SIM_D__COUNT], perm_pos, n_kinds;   /* the kinds in turn (see sim_init_kinds) */
    FILE *out;
    FILE **bucket;
    int n_bucket;
};

static void field_set(struct row *r, enum col c, const char *s)
{
    snprintf(r->f[c], FIELD_CAP, "%s", s);
}

static void field_int(struct row *r, enum col c, long v)
{
    snprintf(r->f[c], FIELD_CAP, "%ld", v);
}

static size_t put_field(char *buf, size_t n, const char *s, int quote)
{
    quote = quote || strpbrk(s, ",\"\r\n") != NULL;
    if (quote)
        buf[n++] = '"';
    for (; *s; s++) {
        if (*s == '"')
            buf[n++] = '"';
        buf[n++] = *s;
    }
    if (quote)
        buf[n++] = '"';
    return n;
}

static int has_col(const struct sim *S, enum col c)
{
    return (S->cols & col_bit(c)) != 0;
}

/* One CSV line with its newline into buf (LINE_CAP bytes, always enough: fields are at
 * most FIELD_CAP - 1 bytes and quoting at most doubles them). Only the columns written;
 * SHAPE_SHORT loses the last two of them. */
static void row_format(const struct sim *S, const struct row *r, int quote_all, enum shape sh,
                       char *buf)
{
    size_t n = 0;
    int keep = 0;
    for (int c = 0; c < C__COUNT; c++)
        keep += has_col(S, (enum col)c);
    if (sh == SHAPE_SHORT)
        keep -= 2;   /* >= 1: at least three columns are required */
    int first = 1;
    for (int c = 0; c < C__COUNT && keep > 0; c++) {
        if (!has_col(S, (enum col)c))
            continue;
        if (!first)
            buf[n++] = ',';
        first = 0;
        n = put_field(buf, n, r->f[c], quote_all);
        keep--;
    }
    if (sh == SHAPE_EXTRA) {
        /* A note typed after the last column: one field too many. */
        static const char note[] = ",see notes";
        memcpy(buf + n, note, sizeof note - 1);
        n += sizeof note - 1;
    }
    buf[n++] = '\n';
    buf[n] = '\0';
}

/* The sink: stdout in patient order, or a random bucket to be shuffled later. */
static void emit(struct sim *S, const char *line)
{
    FILE *to = S->out;
    if (S->bucket)
        to = S->bucket[gsl_rng_uniform_int(S->shuf, (unsigned long)S->n_bucket)];
    fputs(line, to);
    S->st.rows++;
}

/* Dirty rows sit one per block of 1/rate visits, at a random place in the block, so after
 * V visits there are rate*V of them give or take one, yet not on a visible grid. Kinds go
 * round-robin in a fresh random order each round, so every kind's count is within one of
 * every other's. */
static void plan_next_dirty(struct sim *S)
{
    double r = S->p->dirty;
    if (!(r > 0)) {
        S->next_dirty = -1;
        return;
    }
    double a = floor((double)S->block / r), b = floor((double)(S->block + 1) / r);
    if (b > 4e18) {   /* beyond any file we could write */
        S->next_dirty = -1;
        return;
    }
    double len = b - a;   /* >= 2 because rate <= 0.5 */
    S->next_dirty = (long)a + (long)floor(gsl_rng_uniform(S->dirt) * len);
    S->block++;
}

static enum sim_dirty next_dirty_kind(struct sim *S)
{
    if (S->perm_pos >= S->n_kinds) {
        gsl_ran_shuffle(S->dirt, S->perm, (size_t)S->n_kinds, sizeof S->perm[0]);
        S->perm_pos = 0;
    }
    return (enum sim_dirty)S->perm[S->perm_pos++];
}

/* Returns 0 when no future date can be written (the row then goes out clean, uncounted). */
static int dirty_date(struct row *r, long day, int future, long last_day)
{
    int y, m, d;
    civil_from_days((int32_t)day, &y, &m, &d);
    if (future) {
        /* A transposition typo: 2026 -> 2062. When that is not far ahead, or not past the
         * window's last day (what `run --today LAST` reads as today), +50 years; a window
         * of up to 600 months ends before that. Years stop at 9999: four digits. */
        int ty = y / 100 * 100 + (y % 10) * 10 + (y / 10) % 10;
        int fy = ty > y + 10 ? ty : y + 50;
        int fd = d;
        if (fd > civil_days_in_month(fy, m))
            fd = civil_days_in_month(fy, m);
        if (fy != y + 50 && (long)civil_days(fy, m, fd) <= last_day) {
            fy = y + 50;
            fd = d > civil_days_in_month(fy, m) ? civil_days_in_month(fy, m) : d;
        }
        int fm = m;
        if (fy > 9999) {
            fy = 9999;
            fm = 12;
            fd = 31;
        }
        if ((long)civil_days(fy, fm, fd) <= last_day)
            return 0;
        y = fy;
        m = fm;
        d = fd;
    } else {
        d = civil_days_in_month(y, m) + 1;   /* 2026-02-29, 2026-04-31, 2026-01-32 */
    }
    snprintf(r->f[C_DATE], FIELD_CAP, "%04d-%02d-%02d", y, m, d);
    return 1;
}

/* The 0-10 score the typing defects (non_numeric_score, out_of_range, duplicate_conflict)
 * go into: pain, or sleep when pain is not written (columns_required keeps one of them). */
static enum col typo_col(const struct sim *S)
{
    return has_col(S, C_PAIN) ? C_PAIN : C_SLEEP;
}

/* A score cell of a clean row: the simulator wrote it as a whole number. */
static int cell_int(const struct row *r, enum col c)
{
    return (int)strtol(r->f[c], NULL, 10);
}

/* Put defect k into r (a duplicate's first copy goes out here). Every random draw of the
 * full output is made whatever the columns, so the dirt and shuffle streams stay in step
 * and the rows stay the full output's rows. Returns 1 when the defect shows in a written
 * column, 0 when its only cell is not written (the row then goes out clean, uncounted). */
static int apply_dirty(struct sim *S, enum sim_dirty k, struct row *r, long day, int pain,
                       enum shape *sh)
{
    char line[LINE_CAP];
    enum col tc = typo_col(S);
    int v = cell_int(r, tc);
    switch (k) {
    case SIM_D_FIELD_COUNT:
        *sh = gsl_rng_uniform(S->dirt) < 0.5 ? SHAPE_SHORT : SHAPE_EXTRA;
        return 1;
    case SIM_D_MISSING_ID: field_set(r, C_ID, ""); return 1;
    case SIM_D_MISSING_DATE: field_set(r, C_DATE, ""); return 1;
    case SIM_D_BAD_DATE: return dirty_date(r, day, 0, S->last_day);
    case SIM_D_FUTURE_DATE: return dirty_date(r, day, 1, S->last_day);
    case SIM_D_BAD_SESSION:
        field_set(r, C_SESSION, gsl_rng_uniform(S->dirt) < 0.5 ? "0" : "x");
        return has_col(S, C_SESSION);
    case SIM_D_NONNUMERIC: field_set(r, tc, number_words[v]); return 1;
    case SIM_D_RANGE: field_int(r, tc, v > 0 ? 11L * v : -1L); return 1;
    case SIM_D_NO_SCORES:
        for (int c = C_PAIN; c <= C_STRESS; c++)
            field_set(r, (enum col)c, "");
        return 1;
    case SIM_D_DUP_EXACT:
    case SIM_D_DUP_CONFLICT:
        row_format(S, r, 0, SHAPE_OK, line);
        emit(S, line);
        if (k == SIM_D_DUP_CONFLICT) {
            /* The direction is drawn from pain as in the full output, then applied to the
             * typo column, turned back at the ends of 0..10. */
            int dir = pain == 10 ? -1 : pain == 0 ? 1
                    : gsl_rng_uniform(S->dirt) < 0.5 ? -1 : 1;
            field_int(r, tc, v + dir >= 0 && v + dir <= 10 ? v + dir : v - dir);
        }
        return 1;
    case SIM_D_BAD_FLAG:
        field_set(r, C_AE, "bruising");
        return has_col(S, C_AE);
    case SIM_D_MANGLED_ID: {
        /* Excel's General format keeps six digits of a long number: the id is gone. */
        char buf[32];
        snprintf(buf, sizeof buf, "%.5E", strtod(r->f[C_ID], NULL));
        field_set(r, C_ID, buf);
        return 1;
    }
    case SIM_D_BAD_EPISODE:
        field_set(r, C_EPISODE, gsl_rng_uniform(S->dirt) < 0.5 ? "0" : "one");
        return has_col(S, C_EPISODE);
    case SIM_D__COUNT:
        break;
    }
    return 0;
}

/* Put tricky form t into r (*quote_all for SIM_T_QUOTED). Returns 1 when it shows in a
 * written column, 0 when it does not: the row is then plain and not counted. That is the
 * full output's row projected onto these columns, except for na_sleep without pain, where
 * the projection would leave no score (ingest's no_scores), not a valid row. */
static int apply_tricky(const struct sim *S, enum sim_tricky t, struct row *r, int *quote_all)
{
    int shown = 0;
    switch (t) {
    case SIM_T_QUOTED:
        *quote_all = 1;
        return 1;
    case SIM_T_NA_POST:
        field_set(r, C_POST, "NA");
        return has_col(S, C_POST);
    case SIM_T_NA_SLEEP:
        if (!has_col(S, C_PAIN))
            return 0;
        for (int c = C_SLEEP; c <= C_STRESS; c++)
            if (r->f[c][0]) {
                field_set(r, (enum col)c, "NA");
                shown |= has_col(S, (enum col)c);
            }
        return shown;
    case SIM_T__COUNT:
        break;
    }
    return 0;
}

/* Write one visit row, or on its turn a dirty or tricky version of it. */
static void emit_visit(struct sim *S, const struct row *clean, long day, int pain)
{
    char line[LINE_CAP];
    long idx = S->st.visits++;
    struct row r = *clean;
    enum shape sh = SHAPE_OK;
    int quote_all = 0;

    if (idx == S->next_dirty) {
        enum sim_dirty k = next_dirty_kind(S);
        plan_next_dirty(S);
        if (apply_dirty(S, k, &r, day, pain, &sh))
            S->st.dirty[k]++;
    } else if (S->p->tricky > 0 && gsl_rng_uniform(S->dirt) < S->p->tricky) {
        enum sim_tricky t = (enum sim_tricky)gsl_rng_uniform_int(S->dirt, SIM_T__COUNT);
        if (t == SIM_T_NA_POST && !r.f[C_POST][0])
            t = SIM_T_NA_SLEEP;
        if (apply_tricky(S, t, &r, &quote_all))
            S->st.tricky[t]++;
    }
    row_format(S, &r, quote_all, sh, line);
    emit(S, line);
}

/* ---- patients ---- */

static int pick(gsl_rng *R, const double *p, int n)
{
    double u = gsl_rng_uniform(R), acc = 0;
    for (int i = 0; i < n - 1; i++) {
        acc += p[i];
        if (u < acc)
            return i;
    }
    return n - 1;
}

/* Clinics differ in size: weights 1, 0.8, 0.64, ... */
static int pick_clinic(gsl_rng *R, int n)
{
    double total = 0, w = 1;
    for (int c = 0; c < n; c++, w *= 0.8)
        total += w;
    double u = gsl_rng_uniform(R) * total, acc = 0;
    w = 1;
    for (int c = 0; c < n - 1; c++, w *= 0.8) {
        acc += w;
        if (u < acc)
            return c;
    }
    return n - 1;
}

static void clinic_name(int c, char *buf, size_t n)
{
    if (c < (int)(sizeof clinic_names / sizeof clinic_names[0]))
        snprintf(buf, n, "%s", clinic_names[c]);
    else
        snprintf(buf, n, "Clinic %d", c + 1);
}

static int practitioners_at(int clinic)
{
    return 2 + clinic % 3;
}

static void practitioner_name(int clinic, int j, char *buf, size_t n)
{
    int ns = (int)(sizeof surnames / sizeof surnames[0]);
    int ni = (int)(sizeof initials - 1);
    snprintf(buf, n, "%c. %s", initials[(clinic * 7 + j * 5) % ni],
             surnames[(clinic * 5 + j * 3 + clinic / 3) % ns]);
}

static int observe(double truth, double noise_sd, int lo, int hi, gsl_rng *R)
{
    double v = nearbyint(truth + gsl_ran_gaussian(R, noise_sd));
    return v < lo ? lo : v > hi ? hi : (int)v;
}

/* A patient's latent state while visits are generated. */
struct pstate {
    double u;         /* usual pain level */
    double s;         /* flare (OU) */
    double a_sleep;   /* personal sleep problem */
    double b_stress;  /* personal stress offset */
    double imm;       /* personal mean immediate post-session drop */
    long enroll;
    long last_day;    /* of the state s */
};

static void evolve(struct sim *S, struct pstate *ps, long day)
{
    double dt = (double)(day - ps->last_day) / 7.0;
    double rho = exp(-dt / M.flare_tau);
    ps->s = ps->s * rho + gsl_ran_gaussian(S->model, M.flare_sd * sqrt(1 - rho * rho));
    ps->last_day = day;
}

/* Fill the modelled score cells of r for true pain `pre`; returns the observed pain. */
static int fill_scores(struct sim *S, struct row *r, const struct pstate *ps, double pre,
                       int questionnaires)
{
    gsl_rng *R = S->model;
    int pain = observe(pre, M.pain_noise, 0, 10, R);
    field_int(r, C_PAIN, pain);
    double L = ps->a_sleep + M.sleep_pain_slope * (pre - M.u_mean);
    field_int(r, C_SLEEP, observe(M.sleep_mean + M.sleep_per_l * L, M.sleep_noise, 0, 10, R));
    if (questionnaires) {
        field_int(r, C_PSQI, observe(M.psqi_mean + M.psqi_per_l * L, M.psqi_noise, 0, 21, R));
        field_int(r, C_STRESS, observe(M.stress_mean + M.stress_per_pain * (pre - M.u_mean) +
                                       ps->b_stress, M.stress_noise, 0, 40, R));
    } else {
        field_set(r, C_PSQI, "");
        field_set(r, C_STRESS, "");
    }
    return pain;
}

static void gen_patient(struct sim *S, long i)
{
    const struct sim_params *p = S->p;
    gsl_rng *R = S->model;
    struct row base, r;
    char buf[FIELD_CAP];
    memset(&base, 0, sizeof base);

    /* Stratified enrolment keeps ids in date order: patient i enrols within slot i. */
    long span = S->last_day - S->first_day + 1;
    long enroll = S->first_day +
                  (long)floor(((double)i + gsl_rng_uniform(R)) * (double)span / (double)p->patients);
    if (enroll > S->last_day)
        enroll = S->last_day;
    if (skip_sunday(enroll) != enroll)
        enroll = enroll < S->last_day ? enroll + 1 : enroll - 1;

    if (p->numeric_ids)
        snprintf(buf, sizeof buf, "%ld", 100000000000L + i + 1);
    else
        snprintf(buf, sizeof buf, "P%06ld", i + 1);
    field_set(&base, C_ID, buf);
    field_set(&base, C_EPISODE, "1");   /* one course of care each (docs/simulator.md) */
    int clinic = pick_clinic(R, p->clinics);
    clinic_name(clinic, buf, sizeof buf);
    field_set(&base, C_CLINIC, buf);
    int n_pract = practitioners_at(clinic);
    int main_pract = (int)gsl_rng_uniform_int(R, (unsigned long)n_pract);
    double age;
    do
        age = M.age_mean + gsl_ran_gaussian(R, M.age_sd);
    while (age < 18 || age >= 86);
    field_int(&base, C_AGE, (long)age);
    field_set(&base, C_SEX, gsl_rng_uniform(R) < M.p_female ? "F" : "M");
    {
        double w[sizeof conditions / sizeof conditions[0]];
        int n = (int)(sizeof w / sizeof w[0]);
        for (int j = 0; j < n; j++)
            w[j] = conditions[j].p;
        field_set(&base, C_COND, conditions[pick(R, w, n)].name);
    }
    {
        double w[sizeof chronicities / sizeof chronicities[0]];
        int n = (int)(sizeof w / sizeof w[0]);
        for (int j = 0; j < n; j++)
            w[j] = chronicities[j].p;
        field_set(&base, C_CHRON, chronicities[pick(R, w, n)].name);
    }
    int treated = !(gsl_rng_uniform(R) < p->control);
    if (S->has_arm)
        field_set(&base, C_ARM, p->arm[!treated]);
    int freq = 1 + pick(R, M.freq_p, 3);
    int planned = M.sessions_min + (int)gsl_ran_poisson(R, M.sessions_extra_mean);

    struct pstate ps = {
        .u = M.u_mean + gsl_ran_gaussian(R, M.u_sd),
        .s = M.flare_sd * fabs(gsl_ran_gaussian(R, 1.0)),
        .a_sleep = gsl_ran_gaussian(R, M.sleep_a_sd),
        .b_stress = gsl_ran_gaussian(R, M.stress_sd_patient),
        .imm = M.imm_mean + gsl_ran_gaussian(R, M.imm_sd_patient),
        .enroll = enroll,
        .last_day = enroll,
    };
    if (ps.u < M.u_lo)
        ps.u = M.u_lo;
    if (ps.u > M.u_hi)
        ps.u = M.u_hi;

    double eff_points = p->effect * M.pain_sd_ref;
    long day = enroll, last_visit = -1, last_q = LONG_MIN / 2;
    int pain0 = 0, done = 0, dropped = 0;
    for (int k = 1; k <= planned && day <= S->last_day; k++) {
        evolve(S, &ps, day);
        double level = ps.u * interp_knots(S->knot, (double)(day - enroll) / 7.0) + ps.s;
        /* Scores are taken before the session, so visit k reflects k - 1 treatments. */
        double pre = level - (treated ? eff_points * buildup(k - 1) : 0);
        double post = level - (treated ? eff_points * buildup(k) : 0) -
                      (ps.imm + gsl_ran_gaussian(R, M.imm_sd_session));
        int q = k == 1 || day - last_q >= M.questionnaire_days;
        if (q)
            last_q = day;

        r = base;
        format_date(day, buf);
        field_set(&r, C_DATE, buf);
        field_int(&r, C_SESSION, k);
        int pr = gsl_rng_uniform(R) < M.p_main_practitioner
                     ? main_pract : (int)gsl_rng_uniform_int(R, (unsigned long)n_pract);
        practitioner_name(clinic, pr, buf, sizeof buf);
        field_set(&r, C_PRACT, buf);
        int pain = fill_scores(S, &r, &ps, pre, q);
        int post_obs = observe(post, M.pain_noise, 0, 10, R);
        if (treated)
            field_int(&r, C_POST, post_obs);
        else
            field_set(&r, C_POST, "");
        int ae = gsl_rng_uniform(R) < M.p_adverse;
        field_set(&r, C_AE, treated && ae ? "yes" : "no");
        emit_visit(S, &r, day, pain);
        done = k;
        last_visit = day;
        if (k == 1)
            pain0 = pain;

        /* Informative dropout: those who have not improved leave sooner. */
        double u_drop = gsl_rng_uniform(R);
        if (k >= 2) {
            double gain = (double)(pain0 - pain) / (pain0 > 1 ? pain0 : 1);
            double lack = (M.drop_target - gain) / M.drop_target;
            lack = lack < 0 ? 0 : lack > 1 ? 1 : lack;
            double h = p->dropout * (M.drop_base + M.drop_no_gain * lack);
            if (k < planned && u_drop < h) {
                dropped = 1;
                break;
            }
        }
        long gap = freq == 1 ? 6 + (long)gsl_rng_uniform_int(R, 3)
                 : freq == 2 ? 3 + (long)gsl_rng_uniform_int(R, 2)
                             : 2 + (long)gsl_rng_uniform_int(R, 2);
        day = skip_sunday(day + gap);
    }
    if (done == 0)
        return;
    S->st.patients++;
    S->st.dropouts += dropped;

    /* 12-month follow-up: completers at the stated rate, dropouts at half of it. */
    double u_fu = gsl_rng_uniform(R);
    long jitter = (long)gsl_rng_uniform_int(R, 2UL * (unsigned long)M.fu_jitter + 1) - M.fu_jitter;
    long fday = skip_sunday(enroll + M.fu_day + jitter);
    double rate = dropped ? p->followup / 2 : p->followup;
    if (u_fu < rate && fday <= S->last_day && fday > last_visit) {
        evolve(S, &ps, fday);
        double fade = 1.0 - M.fade_per_year * (double)(fday - last_visit) / 365.25;
        double level = ps.u * interp_knots(S->knot, (double)(fday - enroll) / 7.0) + ps.s;
        double pre = level - (treated ? eff_points * buildup(done) * (fade > 0 ? fade : 0) : 0);
        r = base;
        format_date(fday, buf);
        field_set(&r, C_DATE, buf);
        field_int(&r, C_SESSION, done + 1);
        practitioner_name(clinic, main_pract, buf, sizeof buf);
        field_set(&r, C_PRACT, buf);
        int pain = fill_scores(S, &r, &ps, pre, 1);
        field_set(&r, C_POST, "");   /* an assessment, no session */
        field_set(&r, C_AE, "no");
        emit_visit(S, &r, fday, pain);
        S->st.followups++;
    }
}

/* ---- the run ---- */

_Static_assert((int)SIM_ARM_MAX < (int)FIELD_CAP, "an arm name must fit a field");

/* An arm name the file can carry, ingest reads back unchanged and a claim can name:
 * printable ASCII (UTF-8 bytes too), no blank at either end (ingest trims them), not a
 * missing-value token (NA, N/A, .: ingest reads those as no arm), no '=' (a claim's
 * `arm=X vs=Y` could not hold it), terminated within the array. */
static int arm_name_ok(const char *s)
{
    size_t n = strnlen(s, SIM_ARM_MAX + 1);
    if (n < 1 || n > SIM_ARM_MAX || s[0] == ' ' || s[n - 1] == ' ' ||
        parse_is_missing_token(s) || strchr(s, '='))
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    return 1;
}

static int check_params(const struct sim_params *p, long *first, long *last,
                        struct out_error *e)
{
    char start[sizeof p->start + 1];
    memcpy(start, p->start, sizeof p->start);
    start[sizeof p->start] = '\0';
    if (p->patients < 1)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "patients: %ld is not >= 1", p->patients);
    /* gsl_rng_mt19937 keeps a seed's low 32 bits and takes 0 as 4357: any other seed would
     * silently repeat another seed's data. */
    if (p->seed < 1 || p->seed > SIM_SEED_MAX)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "seed: %lu is not in 1..%lu", p->seed,
                       (unsigned long)SIM_SEED_MAX);
    if (parse_date(start, first) != 0)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "start: '%s' is not a date YYYY-MM-DD",
                       start);
    if (p->months < 1 || p->months > 600)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "months: %d is not in 1..600", p->months);
    if (p->clinics < 1 || p->clinics > SIM_MAX_CLINICS)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "clinics: %d is not in 1..%d", p->clinics,
                       SIM_MAX_CLINICS);
    static const struct { const char *name; size_t off; double lo, hi; } ranges[] = {
        {"effect", offsetof(struct sim_params, effect), 0, 10},
        {"control", offsetof(struct sim_params, control), 0, 1},
        {"followup", offsetof(struct sim_params, followup), 0, 1},
        {"dropout", offsetof(struct sim_params, dropout), 0, 10},
        {"dirty", offsetof(struct sim_params, dirty), 0, 0.5},
        {"tricky", offsetof(struct sim_params, tricky), 0, 1},
    };
    for (size_t i = 0; i < sizeof ranges / sizeof ranges[0]; i++) {
        double v;
        memcpy(&v, (const char *)p + ranges[i].off, sizeof v);
        if (!(v >= ranges[i].lo && v <= ranges[i].hi))
            return out_err(e, OUT_EUSAGE, NULL, 0, 0, "%s: %g is not in [%g, %g]",
                           ranges[i].name, v, ranges[i].lo, ranges[i].hi);
    }
    for (int a = 0; a < 2; a++)
        if (!arm_name_ok(p->arm[a]))
            return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                           "arms: '%.*s' is not 1-%d printable characters without a blank at "
                           "either end, '=' or being a missing value (NA, N/A, .)",
                           SIM_ARM_MAX, p->arm[a], SIM_ARM_MAX);
    /* audit.c matches arm names ignoring case: two that differ only in case would be one arm */
    if (strcasecmp(p->arm[0], p->arm[1]) == 0)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "arms: the treated and control arm are both named '%s'", p->arm[0]);
    if (p->order != SIM_SORTED && p->order != SIM_SHUFFLED)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "order: unknown value %d", (int)p->order);
    if (p->buckets < 0 || p->buckets > 1024)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0, "buckets: %d is not in 0..1024", p->buckets);

    int y, m, d;
    civil_from_days((int32_t)*first, &y, &m, &d);
    int mm = m - 1 + p->months;
    y += mm / 12;
    m = mm % 12 + 1;
    if (d > civil_days_in_month(y, m))
        d = civil_days_in_month(y, m);
    *last = (long)civil_days(y, m, d) - 1;
    /* Dates are written with four-digit years; a later day would come out as 9999. */
    if (*last > (long)civil_days(9999, 12, 31))
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "start %s + %d months runs past 9999-12-31", start, p->months);
    return 0;
}

int simulate_window(const struct sim_params *p, long *first, long *last, struct out_error *e)
{
    return check_params(p, first, last, e);
}

/* An anonymous temporary file in $TMPDIR (or /tmp): it vanishes when closed. */
static FILE *temp_bucket(void)
{
    const char *dir = getenv("TMPDIR");
    char path[4096];
    if (!dir || !*dir)
        dir = "/tmp";
    if (snprintf(path, sizeof path, "%s/outcomes-sim-XXXXXX", dir) >= (int)sizeof path)
        return NULL;
    int fd = mkstemp(path);
    if (fd < 0)
        return NULL;
    unlink(path);
    FILE *f = fdopen(fd, "w+");
    if (!f)
        close(fd);
    return f;
}

/* Read one bucket back, shuffle its lines in memory, append them to out. */
static int drain_bucket(struct sim *S, FILE *b, struct out_error *e)
{
    char *text = NULL, **line = NULL;
    int rc = 0;
    if (fflush(b) != 0 || ferror(b)) {
        rc = out_err(e, OUT_EIO, NULL, 0, 0, "temporary bucket: write failed: %s",
                     strerror(errno));
        goto out;
    }
    long size = ftell(b);
    if (size < 0 || fseek(b, 0, SEEK_SET) != 0) {
        rc = out_err(e, OUT_EIO, NULL, 0, 0, "temporary bucket: %s", strerror(errno));
        goto out;
    }
    text = malloc((size_t)size + 1);
    if (!text) {
        rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory (bucket of %ld bytes)", size);
        goto out;
    }
    if (fread(text, 1, (size_t)size, b) != (size_t)size) {
        rc = out_err(e, OUT_EIO, NULL, 0, 0, "temporary bucket: read failed");
        goto out;
    }
    text[size] = '\0';
    size_t n = 0;
    for (long i = 0; i < size; i++)
        n += text[i] == '\n';
    if (n == 0)
        goto out;
    line = malloc(n * sizeof *line);
    if (!line) {
        rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory (%zu lines)", n);
        goto out;
    }
    size_t j = 0;
    char *q = text;
    for (long i = 0; i < size; i++)
        if (text[i] == '\n') {
            text[i] = '\0';
            line[j++] = q;
            q = text + i + 1;
        }
    if (n > 1)
        gsl_ran_shuffle(S->shuf, line, n, sizeof *line);
    for (size_t i = 0; i < n; i++) {
        fputs(line[i], S->out);
        fputc('\n', S->out);
    }
out:
    free(line);
    free(text);
    return rc;
}

int simulate_run(const struct sim_params *p, FILE *out, struct sim_stats *st,
                 struct out_error *e)
{
    struct sim S;
    int rc;
    memset(&S, 0, sizeof S);
    if ((rc = check_params(p, &S.first_day, &S.last_day, e)) != 0)
        return rc;
    if ((rc = columns_mask(p, &S.cols, e)) != 0)
        return rc;
    S.p = p;
    S.out = out;
    S.has_arm = p->control > 0;
    usual_knots(S.knot);
    /* The kinds that can be written go round in turn; listing them in enum order keeps
     * the stream of an unchanged set of kinds the same bytes as before a kind was added. */
    S.n_kinds = 0;
    for (int k = 0; k < SIM_D__COUNT; k++)
        if ((k != SIM_D_BAD_EPISODE || p->episodes) &&
            (k != SIM_D_MANGLED_ID || p->numeric_ids))
            S.perm[S.n_kinds++] = k;
    S.perm_pos = S.n_kinds;

    S.model = gsl_rng_alloc(gsl_rng_mt19937);
    S.dirt = gsl_rng_alloc(gsl_rng_mt19937);
    S.shuf = gsl_rng_alloc(gsl_rng_mt19937);
    if (!S.model || !S.dirt || !S.shuf) {
        rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory (random number generator)");
        goto out;
    }
    /* Three streams from one seed; the offsets only need to differ. */
    gsl_rng_set(S.model, p->seed);
    gsl_rng_set(S.dirt, p->seed ^ 0x5bd1e995UL);
    gsl_rng_set(S.shuf, p->seed ^ 0x9e3779b9UL);
    plan_next_dirty(&S);

    if (p->order == SIM_SHUFFLED) {
        long k = p->buckets;
        if (k == 0) {
            double rows = (double)p->patients * 11.0;   /* about 11 rows a patient */
            k = (long)(rows / 200000.0) + 1;
            if (k > 256)
                k = 256;
        }
        S.bucket = calloc((size_t)k, sizeof *S.bucket);
        if (!S.bucket) {
            rc = out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory (buckets)");
            goto out;
        }
        S.n_bucket = (int)k;
        for (int b = 0; b < S.n_bucket; b++)
            if (!(S.bucket[b] = temp_bucket())) {
                rc = out_err(e, OUT_EIO, NULL, 0, 0, "cannot create a temporary file: %s",
                             strerror(errno));
                goto out;
            }
    }

    for (int c = 0, first = 1; c < C__COUNT; c++) {
        if (!has_col(&S, (enum col)c))
            continue;
        fprintf(out, "%s%s", first ? "" : ",", col_names[c]);
        first = 0;
    }
    fputc('\n', out);

    for (long i = 0; i < p->patients; i++) {
        gen_patient(&S, i);
        if (ferror(out)) {
            rc = out_err(e, OUT_EIO, NULL, 0, 0, "write failed: %s", strerror(errno));
            goto out;
        }
    }
    for (int b = 0; b < S.n_bucket; b++)
        if ((rc = drain_bucket(&S, S.bucket[b], e)) != 0)
            goto out;
    if (fflush(out) != 0 || ferror(out))
        rc = out_err(e, OUT_EIO, NULL, 0, 0, "write failed: %s", strerror(errno));

out:
    for (int b = 0; b < S.n_bucket; b++)
        if (S.bucket[b])
            fclose(S.bucket[b]);
    free(S.bucket);
    gsl_rng_free(S.model);
    gsl_rng_free(S.dirt);
    gsl_rng_free(S.shuf);
    if (st)
        *st = S.st;
    return rc;
}

int simulate_write(const struct sim_params *p, FILE *out, struct out_error *e)
{
    return simulate_run(p, out, NULL, e);
}

/* ---- `outcomes simulate` ---- */

enum opt_id {
    O_HELP = 'h', O_PATIENTS = 'n', O_OUTPUT = 'o', O_SEED = 's',
    O_START = 256, O_MONTHS, O_CLINICS, O_EFFECT, O_CONTROL, O_FOLLOWUP, O_DROPOUT, O_DIRTY,
    O_TRICKY, O_ORDER, O_BUCKETS, O_COLUMNS, O_STATS, O_PLAN, O_REPS, O_THREADS, O_ARMS,
    O_NUMERIC_IDS, O_EPISODES
};

/* One table drives getopt_long and --help. */
static const struct cli_opt {
    const char *name;
    int id;
    const char *arg;    /* NULL: takes no argument */
    const char *help;
} cli_opts[] = {
    {"patients", O_PATIENTS, "N", "patients to simulate (default 1000); with --plan a "
                                  "comma-separated list of cohort sizes (default "
                                  "50,100,200,400)"},
    {"seed", O_SEED, "N", "random seed 1..4294967295; same seed, same bytes (default 1)"},
    {"start", O_START, "DATE", "first enrolment day YYYY-MM-DD (default 2025-01-01)"},
    {"months", O_MONTHS, "N", "length of the data window in months (default 12)"},
    {"clinics", O_CLINICS, "N", "number of clinics, 1-50 (default 3)"},
    {"effect", O_EFFECT, "D", "treatment effect in SD units; 0 = natural course only "
                              "(default 0.55, Vickers 2012 vs no acupuncture)"},
    {"control", O_CONTROL, "F", "fraction in an untreated control arm; adds the arm column "
                                "(default 0)"},
    {"arms", O_ARMS, "T,C", "with --control: the arms' names (default treatment,control)"},
    {"followup", O_FOLLOWUP, "F", "fraction of completers with a 12-month visit (default 0.3)"},
    {"dropout", O_DROPOUT, "S", "scale of the informative dropout hazard; 0 = none "
                                "(default 1)"},
    {"dirty", O_DIRTY, "F", "fraction of visit rows given one defect, every kind in turn, "
                            "0-0.5 (default 0)"},
    {"tricky", O_TRICKY, "F", "fraction of rows in a tricky but valid form (default 0)"},
    {"order", O_ORDER, "ORDER", "sorted (by patient, then date) or shuffled (default sorted)"},
    {"buckets", O_BUCKETS, "K", "temporary files for shuffling (default: ~200,000 rows each)"},
    {"columns", O_COLUMNS, "LIST", "write only these columns, comma-separated in header order, "
                                   "or a preset (below); default all"},
    {"output", O_OUTPUT, "FILE", "write here instead of standard output: a file atomically "
                                 "(temporary, then rename); a device or pipe gets the whole "
                                 "output at the end"},
    {"numeric-ids", O_NUMERIC_IDS, NULL, "patient ids as 12-digit numbers (100000000001, ...) "
                                         "instead of P000001; with --dirty, some are written as "
                                         "a spreadsheet shows them (1.00000E+11)"},
    {"episodes", O_EPISODES, NULL, "add an episode column (the course of care, 1 for every "
                                   "visit); with --dirty, some hold 0 or 'one'"},
    {"stats", O_STATS, NULL, "print counts of rows, dropouts and dirty rows to stderr"},
    {"plan", O_PLAN, "CLAIMS", "instead of data, write how often each claim of the registry "
                               "would be supported or contradicted, per cohort size"},
    {"reps", O_REPS, "N", "with --plan: data sets simulated per size (default 200)"},
    {"threads", O_THREADS, "N", "with --plan: data sets run at once (default: the CPUs online); "
                                "the table is the same for any N"},
    {"help", O_HELP, NULL, "show this help"},
};
enum { N_CLI_OPTS = sizeof cli_opts / sizeof cli_opts[0] };

static void cli_help(FILE *fp)
{
    fputs("Usage: outcomes simulate [OPTION]...\n"
          "Write synthetic visit-level pain clinic data (long CSV) with a natural course,\n"
          "regression to the mean, informative dropout and optional dirty rows.\n"
          "Every value is invented. Model and sources: docs/simulator.md.\n\n", fp);
    for (int i = 0; i < N_CLI_OPTS; i++) {
        char left[40];
        int sh = cli_opts[i].id < 256;
        snprintf(left, sizeof left, "%c%c%c --%s%s%s", sh ? '-' : ' ',
                 sh ? cli_opts[i].id : ' ', sh ? ',' : ' ', cli_opts[i].name,
                 cli_opts[i].arg ? " " : "", cli_opts[i].arg ? cli_opts[i].arg : "");
        fprintf(fp, "  %-24s %s\n", left, cli_opts[i].help);
    }
    char known[256];
    col_list(known, sizeof known);
    fprintf(fp, "\nColumns, in the order they are written (arm only with --control, episode\n"
                "only with --episodes):\n  %s\n"
                "--columns needs patient_id, visit_date, and pain or sleep. Presets:\n", known);
    for (int i = 0; i < N_COL_PRESETS; i++)
        fprintf(fp, "  %-6s %s\n", col_presets[i].name,
                col_presets[i].list ? col_presets[i].list : "every column (the default)");
    fputs("With --dirty, a defect meant for pain goes into sleep when pain is not written;\n"
          "a defect or NA (--tricky) whose only cell is not written is left out (the row\n"
          "stays clean). --stats counts what was written. Details: docs/simulator.md.\n", fp);
    fputs("\nWith --plan, each size gets --reps data sets, seeds --seed, --seed + 1, ...; each\n"
          "goes through ingest, per-patient and audit as `outcomes run` does, and the CSV\n"
          "gives per claim and size the verdict counts and shares with 95% Monte Carlo\n"
          "intervals. Replicate r is `simulate --patients N --seed SEED+r` then `run`,\n"
          "read as on the window's last day (`run --today LAST`), so a window that runs\n"
          "past today keeps its later visits.\n", fp);
    fputs("\nExit status: 0 ok, 2 usage, 3 bad registry, 4 I/O error, 5 internal error.\n", fp);
}

static int usage_error(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("outcomes simulate: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'outcomes simulate --help'.\n", stderr);
    return OUT_EUSAGE;
}

/* Whole-field, finite, in range; never a silent 0. */
static int parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno || !isfinite(v) || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* The plan's progress line on stderr, as run's: nothing in the first second, then at most
 * four updates a second, and a last one with a newline if anything was shown. */
struct plan_progress {
    const struct plan_opts *po;
    double t0, last;
    int shown, ended;   /* a line shown; the last one, ending in a newline */
};

static double mono_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void plan_progress_line(void *ctx, size_t size_i, long done)
{
    struct plan_progress *pp = ctx;
    const struct plan_opts *po = pp->po;
    double t = mono_s();
    int final = size_i + 1 == po->n_sizes && done == po->reps;
    if (final ? !pp->shown : t - pp->t0 < 1.0 || t - pp->last < 0.25)
        return;
    pp->last = t;
    pp->shown = 1;
    double all = (double)po->n_sizes * (double)po->reps;
    double k = (double)size_i * (double)po->reps + (double)done;
    char line[128];
    snprintf(line, sizeof line, "plan: %ld patients (size %zu of %zu), data set %ld of %ld, %.0f%%, %.0f s",
             po->patients[size_i], size_i + 1, po->n_sizes, done, po->reps, 100.0 * k / all,
             t - pp->t0);
    fprintf(stderr, "\r%-60s%s", line, final ? "\n" : "");
    pp->ended = final;
}

/* Whether path is a terminal. Opened without becoming our controlling terminal and
 * without waiting (a FIFO is not a character device, so it is never opened here). */
static int names_terminal(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISCHR(st.st_mode))
        return 0;
    int fd = open(path, O_WRONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return 0;
    int tty = isatty(fd);
    close(fd);
    return tty;
}

/* `simulate --plan CLAIMS`: the sizes, the registry, then plan_run into output. */
static int plan_cli(const struct sim_params *sp, const char *claims, const char *sizes,
                    long reps, int threads, const char *output, int stats)
{
    struct plan_opts po;
    memset(&po, 0, sizeof po);
    po.sim = *sp;
    po.reps = reps ? reps : 200;
    if (!threads) {
        long cpus = sysconf(_SC_NPROCESSORS_ONLN);
        threads = cpus < 1 ? 1 : cpus > PLAN_MAX_THREADS ? PLAN_MAX_THREADS : (int)cpus;
    }
    po.threads = threads;
    if (stats)
        return usage_error("--stats is not for --plan");
    const char *list = sizes ? sizes : "50,100,200,400";
    for (const char *q = list;;) {
        const char *comma = strchr(q, ',');
        size_t n = comma ? (size_t)(comma - q) : strlen(q);
        char one[24];
        long l;
        if (n >= sizeof one || (memcpy(one, q, n), one[n] = '\0', parse_int(one, 1, 1000000L, &l)))
            return usage_error("--patients: '%.*s' in '%s' is not a whole number in 1..1000000",
                               (int)n, q, list);
        if (po.n_sizes == PLAN_MAX_SIZES)
            return usage_error("--patients: more than %d sizes", PLAN_MAX_SIZES);
        po.patients[po.n_sizes++] = l;
        if (!comma)
            break;
        q = comma + 1;
    }
    struct out_error e = {0};
    unsigned cols;
    if (columns_mask(&po.sim, &cols, &e) != 0)
        return usage_error("--%s", e.msg);
    /* Progress only on a terminal, and not when the table itself goes to a terminal
     * (`-o /dev/stdout`, `-o /dev/tty` as well as no -o): the line would land in it. */
    int to_stdout = !output || strcmp(output, "-") == 0;
    struct plan_progress pp = {.po = &po, .t0 = mono_s()};
    if (isatty(STDERR_FILENO) &&
        !(to_stdout ? isatty(STDOUT_FILENO) : names_terminal(output))) {
        po.progress = plan_progress_line;
        po.progress_ctx = &pp;
    }
    struct claim_set cs;
    claim_set_init(&cs);
    int rc = claims_load(claims, &cs, &e);
    if (!rc) {
        struct outfile of;
        if (!to_stdout) {
            if ((rc = outfile_open(&of, output, &e)) == 0) {
                po.out_name = output;
                rc = plan_run(&po, &cs, of.fp, &e);
                if (rc == 0)
                    rc = outfile_commit(&of, &e);
                else
                    outfile_abort(&of);
            }
        } else {
            rc = plan_run(&po, &cs, stdout, &e);
        }
    }
    claim_set_free(&cs);
    if (rc) {
        char msg[1024];
        out_error_format(&e, msg, sizeof msg);
        if (pp.shown && !pp.ended)   /* the message on a line of its own */
            fputc('\n', stderr);
        fprintf(stderr, "outcomes simulate: %s\n", msg);
    }
    return rc;
}

int simulate_cli(int argc, char **argv)
{
    struct sim_params p = sim_params_default();
    const char *output = NULL, *patients_arg = NULL, *plan_claims = NULL;
    long reps = 0;
    int threads = 0;
    int stats = 0, arms_set = 0;
    struct option longopts[N_CLI_OPTS + 1];
    char shortopts[2 * N_CLI_OPTS + 1];
    size_t ns = 0;
    for (int i = 0; i < N_CLI_OPTS; i++) {
        longopts[i] = (struct option){cli_opts[i].name,
                                      cli_opts[i].arg ? required_argument : no_argument,
                                      NULL, cli_opts[i].id};
        if (cli_opts[i].id < 256) {
            shortopts[ns++] = (char)cli_opts[i].id;
            if (cli_opts[i].arg)
                shortopts[ns++] = ':';
        }
    }
    longopts[N_CLI_OPTS] = (struct option){NULL, 0, NULL, 0};
    shortopts[ns] = '\0';

    gsl_set_error_handler_off();
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
        const char *name = NULL;
        for (int i = 0; i < N_CLI_OPTS; i++)
            if (cli_opts[i].id == c)
                name = cli_opts[i].name;
        long l;
        double d;
        switch (c) {
        case O_HELP:
            cli_help(stdout);
            return fflush(stdout) == 0 ? OUT_OK : OUT_EIO;
        case O_PATIENTS:   /* parsed below, once --plan is known */
            patients_arg = optarg;
            break;
        case O_PLAN:
            plan_claims = optarg;
            break;
        case O_REPS:
            if (parse_int(optarg, 1, 100000, &l))
                return usage_error("--%s: '%s' is not a whole number in 1..100000", name,
                                   optarg);
            reps = l;
            break;
        case O_THREADS:
            if (parse_int(optarg, 1, PLAN_MAX_THREADS, &l))
                return usage_error("--%s: '%s' is not a whole number in 1..%d", name, optarg,
                                   PLAN_MAX_THREADS);
            threads = (int)l;
            break;
        case O_SEED: {
            char *end;
            errno = 0;
            unsigned long v = strtoul(optarg, &end, 10);
            if (end == optarg || *end || errno || optarg[0] == '-' || v < 1 || v > SIM_SEED_MAX)
                return usage_error("--%s: '%s' is not a whole number in 1..%lu (GSL's "
                                   "generator keeps 32 bits and takes 0 as 4357)", name,
                                   optarg, (unsigned long)SIM_SEED_MAX);
            p.seed = v;
            break;
        }
        case O_START: {
            long day;
            if (parse_date(optarg, &day))
                return usage_error("--%s: '%s' is not a date YYYY-MM-DD", name, optarg);
            memcpy(p.start, optarg, sizeof p.start - 1);
            p.start[sizeof p.start - 1] = '\0';
            break;
        }
        case O_MONTHS:
            if (parse_int(optarg, 1, 600, &l))
                return usage_error("--%s: '%s' is not a whole number in 1..600", name, optarg);
            p.months = (int)l;
            break;
        case O_CLINICS:
            if (parse_int(optarg, 1, SIM_MAX_CLINICS, &l))
                return usage_error("--%s: '%s' is not a whole number in 1..50", name, optarg);
            p.clinics = (int)l;
            break;
        case O_BUCKETS:
            if (parse_int(optarg, 0, 1024, &l))
                return usage_error("--%s: '%s' is not a whole number in 0..1024", name, optarg);
            p.buckets = (int)l;
            break;
        case O_EFFECT:
        case O_DROPOUT:
            if (parse_num(optarg, 0, 10, &d))
                return usage_error("--%s: '%s' is not a number in [0, 10]", name, optarg);
            *(c == O_EFFECT ? &p.effect : &p.dropout) = d;
            break;
        case O_CONTROL:
        case O_FOLLOWUP:
        case O_TRICKY:
            if (parse_num(optarg, 0, 1, &d))
                return usage_error("--%s: '%s' is not a fraction in [0, 1]", name, optarg);
            *(c == O_CONTROL ? &p.control : c == O_FOLLOWUP ? &p.followup : &p.tricky) = d;
            break;
        case O_DIRTY:
            if (parse_num(optarg, 0, 0.5, &d))
                return usage_error("--%s: '%s' is not a fraction in [0, 0.5]", name, optarg);
            p.dirty = d;
            break;
        case O_ORDER:
            if (strcmp(optarg, "sorted") == 0)
                p.order = SIM_SORTED;
            else if (strcmp(optarg, "shuffled") == 0)
                p.order = SIM_SHUFFLED;
            else
                return usage_error("--%s: '%s' is not sorted or shuffled", name, optarg);
            break;
        case O_COLUMNS:
            p.columns = optarg;
            break;
        case O_ARMS: {
            const char *comma = strchr(optarg, ',');
            size_t n0 = comma ? (size_t)(comma - optarg) : 0;
            if (!comma || strchr(comma + 1, ',') || n0 > SIM_ARM_MAX ||
                strlen(comma + 1) > SIM_ARM_MAX)
                return usage_error("--%s: '%s' is not two names TREATED,CONTROL of 1-%d "
                                   "characters", name, optarg, SIM_ARM_MAX);
            memcpy(p.arm[0], optarg, n0);
            p.arm[0][n0] = '\0';
            strcpy(p.arm[1], comma + 1);
            arms_set = 1;
            break;
        }
        case O_OUTPUT:
            output = optarg;
            break;
        case O_STATS:
            stats = 1;
            break;
        case O_NUMERIC_IDS:
            p.numeric_ids = 1;
            break;
        case O_EPISODES:
            p.episodes = 1;
            break;
        default:   /* getopt_long has said what was wrong */
            fputs("Try 'outcomes simulate --help'.\n", stderr);
            return OUT_EUSAGE;
        }
    }
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (arms_set && !(p.control > 0))
        return usage_error("--arms names the arm column, written only with --control > 0");
    if (arms_set) {   /* names checked now, so a bad one is a usage message before any output */
        struct out_error ae = {0};
        long first, last;
        unsigned mask;
        if (simulate_window(&p, &first, &last, &ae) != 0 || columns_mask(&p, &mask, &ae) != 0)
            return usage_error("--%s", ae.msg);
        if (!(mask & col_bit(C_ARM)))
            return usage_error("--arms names the arm column, which --columns leaves out");
    }
    if (plan_claims)
        return plan_cli(&p, plan_claims, patients_arg, reps, threads, output, stats);
    if (reps)
        return usage_error("--reps is for --plan");
    if (threads)
        return usage_error("--threads is for --plan");
    if (patients_arg) {
        long l;
        if (parse_int(patients_arg, 1, 1000000000L, &l))
            return usage_error("--patients: '%s' is not a whole number in 1..1000000000%s",
                               patients_arg,
                               strchr(patients_arg, ',') ? " (a list is for --plan)" : "");
        p.patients = l;
    }

    struct out_error e = {0};
    unsigned cols;
    /* Checked here, after --control is known, so a bad list is a usage message before any
     * output file is created. */
    if (columns_mask(&p, &cols, &e) != 0)
        return usage_error("--%s", e.msg);
    struct sim_stats st;
    struct outfile of;
    int to_file = output && strcmp(output, "-") != 0;
    int rc;
    if (to_file) {
        if ((rc = outfile_open(&of, output, &e)) == 0) {
            rc = simulate_run(&p, of.fp, &st, &e);
            if (rc == 0)
                rc = outfile_commit(&of, &e);
            else
                outfile_abort(&of);
        }
    } else {
        rc = simulate_run(&p, stdout, &st, &e);
    }
    if (rc != 0) {
        char msg[1024];
        out_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "outcomes simulate: %s\n", msg);
        return rc;
    }
    if (stats) {
        fprintf(stderr, "simulate: %ld patients, %ld visits, %ld rows, %ld dropouts, "
                        "%ld 12-month visits\nsimulate: dirty",
                st.patients, st.visits, st.rows, st.dropouts, st.followups);
        for (int k = 0; k < SIM_D__COUNT; k++)
            fprintf(stderr, " %s=%ld", dirty_names[k], st.dirty[k]);
        fputs("\nsimulate: tricky", stderr);
        for (int k = 0; k < SIM_T__COUNT; k++)
            fprintf(stderr, " %s=%ld", tricky_names[k], st.tricky[k]);
        fputc('\n', stderr);
    }
    return OUT_OK;
}
