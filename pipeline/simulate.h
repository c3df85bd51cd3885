/* simulate.h — synthetic visit-level clinic data for tests, samples and the benchmark.
 *
 * Why a model and not random numbers: the pipeline exists to tell a treatment's effect apart
 * from what happens anyway, so the synthetic data must contain what happens anyway. Each
 * patient's pain follows, without treatment, the natural course of persistent low back pain
 * (Menezes Costa et al., CMAJ 2012: 0-100 pain 51 -> 33 at 6 weeks -> 26 at 26 weeks -> 23 at
 * 52 weeks) and regresses to the mean because patients present in a flare. Full description,
 * every constant and its source: docs/simulator.md. In short, for patient i at t weeks:
 *
 *   true pain  p(t) = u_i * N(t) + s_i(t) - treatment(t)
 *     u_i   usual pain level, Normal(5.0, 1.5) clipped to [1, 9]
 *     N(t)  slow natural course of u_i, piecewise linear; its knots are solved so that the
 *           population mean of u N(t) + s(t) is 33/51, 26/51, 23/51 of baseline at 6, 26,
 *           52 weeks (see sim_untreated_ratio)
 *     s(t)  flare: Ornstein-Uhlenbeck, stationary SD 1.2, time constant 2 weeks, starting at
 *           s(0) = 1.2 |Z| because people seek care when pain is high (regression to the mean)
 *     treatment(t) = effect * 1.85 * (1 - exp(-k/2)) after k treatments; 1.85 is the model's
 *           between-patient SD of observed pain, so `effect` is in SD units as in trials
 *           (Vickers 2012: 0.55 vs no acupuncture, 0.23 vs sham); after the course it fades
 *           by 15% a year (Vickers 2018)
 *   observed   pain = round(p + Normal(0, 0.8)) clipped to 0..10; pain_post the same after
 *           the session minus a transient immediate drop (mean 1 point, not the effect);
 *           sleep quality, PSQI and PSS-10 from a latent sleep/stress level tied to p(t)
 *
 * Visits 1-3 a week (never on Sunday), a planned course of 6 + Poisson(5) sessions, informative
 * dropout (hazard rises when observed pain has not improved by 30%), an optional 12-month
 * follow-up visit, several clinics and practitioners, an optional control arm (no treatment,
 * same visits). Dirty rows (one per rejection kind, round-robin) and tricky-but-valid rows
 * are written on request.
 *
 * Streaming: one patient at a time, so memory does not grow with --patients. Shuffled order
 * writes rows to k temporary bucket files at random, then shuffles each bucket in memory and
 * concatenates them: a uniform random permutation with memory of one bucket.
 *
 * Determinism: gsl_rng_mt19937 in three streams seeded from `seed` (the model; the dirty and
 * tricky rows; the shuffle), so the same parameters give byte-identical output, and turning
 * on dirty rows or shuffling does not change any patient's clean data.
 *
 * Columns: `columns` (--columns) writes a subset, e.g. the benchmark's patient_id,visit_date,
 * session,pain,sleep. Every random draw is made whatever the subset, so the rows are the full
 * output's rows, one for one in the same order (sorted or shuffled), and a clean row is the
 * full row projected onto those columns. A defect whose cell is not written is left out (the
 * row stays clean, uncounted), except that pain's typing defects go into sleep when pain is
 * not written; docs/simulator.md has the table, tricky rows included.
 */
#ifndef OUTCOMES_SIMULATE_H
#define OUTCOMES_SIMULATE_H

#include <stdio.h>

#include "error.h"

enum sim_order { SIM_SORTED, SIM_SHUFFLED };

enum { SIM_ARM_MAX = 40 };
#define SIM_SEED_MAX 4294967295UL

/* Dirty-row kinds, one per ingest rejection reason, in the order of enum reject_reason. */
enum sim_dirty {
    SIM_D_FIELD_COUNT,   /* a line cut short, or an extra field */
    SIM_D_MISSING_ID,    /* empty patient_id */
    SIM_D_MISSING_DATE,  /* empty visit_date */
    SIM_D_BAD_DATE,      /* impossible date: day after the month's last (2026-02-29) */
    SIM_D_FUTURE_DATE,   /* the year's last two digits transposed (2026 -> 2062) */
    SIM_D_BAD_SESSION,   /* session "0" or "x" */
    SIM_D_NONNUMERIC,    /* pain written as a word ("seven") */
    SIM_D_RANGE,         /* pain key pressed twice (7 -> 77), or -1 for 0 */
    SIM_D_NO_SCORES,     /* every score cell empty */
    SIM_D_DUP_EXACT,     /* the row again, byte for byte */
    SIM_D_DUP_CONFLICT,  /* the row again with pain one point off */
    SIM_D_BAD_FLAG,      /* adverse_event holds a note ("bruising") instead of yes/no */
    SIM_D_BAD_EPISODE,   /* with episodes only: episode "0" or "one" */
    SIM_D_MANGLED_ID,    /* with numeric_ids only: the id as a spreadsheet shows a long
                            number (100000000123 -> 1.00000E+11) */
    SIM_D__COUNT
};

/* Tricky-but-valid rows: an ingest must accept them with the meaning stated. */
enum sim_tricky {
    SIM_T_NA_SLEEP,      /* sleep (and psqi, stress when due) written as NA = missing */
    SIM_T_NA_POST,       /* pain_post written as NA (falls back to SIM_T_NA_SLEEP when the
                            row has no pain_post) */
    SIM_T_QUOTED,        /* every field double-quoted, numbers too */
    SIM_T__COUNT
};

/* Stable names for --stats and the docs: the dirty kinds use ingest's reject reason names
 * ("wrong_field_count", ...); tricky kinds "na_sleep", "na_pain_post", "quoted". */
const char *sim_dirty_name(enum sim_dirty k);
const char *sim_tricky_name(enum sim_tricky k);

struct sim_params {
    long patients;          /* >= 1 */
    unsigned long seed;     /* 1..SIM_SEED_MAX: gsl_rng_mt19937 keeps 32 bits and takes 0
                               as 4357, so other values would repeat another seed */
    char start[11];         /* first enrolment day, YYYY-MM-DD */
    int months;             /* window: start .. start + months - 1 day (1..600) */
    int clinics;            /* 1..SIM_MAX_CLINICS */
    double effect;          /* treatment effect in SD units (>= 0); 0 = natural course only */
    double control;         /* fraction of patients in a no-treatment control arm, [0, 1];
                               0 = no control arm and no `arm` column */
    char arm[2][SIM_ARM_MAX + 1];  /* the arm column's values, treated then control
                               (--arms); 1..SIM_ARM_MAX printable bytes, no blank at either
                               end, the two different even ignoring case (as audit compares) */
    double followup;        /* fraction of completers with a 12-month visit (dropouts: half) */
    double dropout;         /* scale of the dropout hazard, [0, 10]; 0 = nobody drops out */
    double dirty;           /* fraction of visit rows given one defect, [0, 0.5] */
    double tricky;          /* fraction of the other rows written in a tricky valid form */
    enum sim_order order;
    int buckets;            /* shuffle buckets; 0 = automatic (about 200,000 rows each) */
    const char *columns;    /* NULL = every column; else a preset ("all", "core") or a
                               comma-separated list in the order of the full header (rules
                               below). Not copied: read during the call only. */
    int numeric_ids;        /* ids as 12-digit numbers (100000000001, ...), as some clinic
                               systems issue them, instead of P000001; only then does the
                               mangled_patient_id kind join the dirty kinds (without it the
                               rows are the same as before it existed) */
    int episodes;           /* write an episode column, 1 on every visit (each patient has
                               one course of care); only then does invalid_episode join the
                               dirty kinds; without it the bytes are as before */
};

enum { SIM_MAX_CLINICS = 50 };

/* Counts of what was written (filled by simulate_run when asked). */
struct sim_stats {
    long patients;              /* patients with at least one row */
    long visits;                /* visit rows generated (before dirt; duplicates excluded) */
    long rows;                  /* data rows written (header excluded) */
    long followups;             /* 12-month visits */
    long dropouts;
    long dirty[SIM_D__COUNT];
    long tricky[SIM_T__COUNT];
};

/* Defaults: 1000 patients, seed 1, start 2025-01-01, 12 months, 3 clinics, effect 0.55,
 * no control arm (arms named "treatment" and "control"), follow-up 0.3, dropout 1, no dirty or tricky rows, sorted, every column. */
struct sim_params sim_params_default(void);

/* Rules for `columns` (also in --help): patient_id and visit_date are required, and pain or
 * sleep (psqi and stress are asked only every 28 days, so without pain or sleep most rows
 * would hold no score); each name once, in the full header's order (one order only, so the
 * header is exactly the list); arm only with control > 0. A list that breaks a rule is
 * OUT_EUSAGE from simulate_run, with a message naming the column. */

/* Write the header and every row to out. Returns 0; OUT_EUSAGE for invalid parameters;
 * OUT_EIO when writing (or a temporary bucket file) fails; OUT_EINTERNAL when out of memory.
 * *e is filled on failure. Nothing is printed. out is flushed, not closed. */
int simulate_write(const struct sim_params *p, FILE *out, struct out_error *e);

/* The data window of p: first and last day (days since 1970-01-01); no visit is written
 * outside it. Returns 0, or OUT_EUSAGE (with *e) for invalid parameters. */
int simulate_window(const struct sim_params *p, long *first, long *last, struct out_error *e);

/* simulate_write, and when st is non-NULL fill it with counts of what was written. */
int simulate_run(const struct sim_params *p, FILE *out, struct sim_stats *st,
                 struct out_error *e);

/* The model's expected untreated pain at `weeks` after baseline as a fraction of the expected
 * baseline (population means of true pain, no treatment, no dropout). 1 at 0; exactly 33/51,
 * 26/51 and 23/51 at 6, 26 and 52 weeks; flat after 52. Tests compare the output with it. */
double sim_untreated_ratio(double weeks);

/* `outcomes simulate [options]`: argv[0] is the subcommand name. Prints --help and its own
 * messages; returns an exit code: 0 ok, 2 usage, 4 I/O, 5 internal. */
int simulate_cli(int argc, char **argv);

#endif
