/* patient.h — per-patient improvement: one record per patient, episode and instrument.
 *
 * Input: a struct dataset (read only). Output: a struct patient_set that owns its array;
 * patient_set_free() releases it. Direction-aware throughout: `change` and `pct` are
 * positive when the patient got better, whichever way the instrument points.
 *
 * Time convention (documented in README): scores are recorded at the start of a visit,
 * before that visit's treatment, so the score at session k reflects k-1 treatments.
 * `sessions_to_response` therefore counts treatments received before the visit at which
 * response is first recorded (session number - 1); a non-responder is censored at the
 * treatments received before their last scored visit. Response = pct >= 30 (IMMPACT).
 *
 * Definitions (docs/patients-csv.md has the full list):
 *  - Visit order within a patient: date, then session number, then input order.
 *  - Episodes: a gap of more than patient_opts.new_episode_after days between consecutive
 *    visits starts a new episode (never, when 0). Episode 1 is the earliest.
 *  - Session numbers: the file's, when every visit of the episode has one and they increase
 *    with date (re-based to start at 1 in episodes after the first, since the split is
 *    ours); otherwise the 1-based rank
 *    of the visit among all the episode's visits, scored for this instrument or not.
 *  - Baseline: the earliest visit of the episode flagged `baseline` that scores the
 *    instrument, else its first scored visit. Scored visits dated before a flagged baseline
 *    (screening) are left out of every measure of that instrument. Final: last scored visit.
 *  - Percentages compare against the threshold with a 1e-9 tolerance, so 7 -> 4.9 on a
 *    0-10 scale (exactly 30% on paper, 29.999999999999996 in binary) counts as 30%.
 *  - End of course: the last scored visit dated before the month-12 window opens
 *    (day 365-42 = 323 from baseline). `final` may be that visit or a later follow-up.
 *  - Durable: responder (pct >= 30) at end of course AND at the month-12 follow-up;
 *    -1 (unknown, not a failure) when either is undefined: no month-12 visit, no scored
 *    visit after baseline before the window opens, or a zero baseline.
 *  - RCI: SD_pre is the sample SD (n-1) of the baselines of every record of that instrument
 *    (all patient-episodes, single visits included); S_diff = sqrt(2)*SD_pre*sqrt(1-r).
 *    Undefined (NAN, RC_UNKNOWN) for single visits, fewer than 2 baselines, SD_pre 0,
 *    or an instrument without a reliability in [0, 1).
 *  - Recovered: reliably improved AND baseline on the dysfunctional side of the cutoff and
 *    final on the functional side; lower-is-better: baseline > cutoff >= final;
 *    higher-is-better: baseline < cutoff <= final.
 */
#ifndef OUTCOMES_PATIENT_H
#define OUTCOMES_PATIENT_H

#include <math.h>
#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "error.h"

/* Follow-up windows: the scored visit nearest the target day inside [target-halfwidth,
 * target+halfwidth] days from baseline; on a tie in distance, the earlier visit. */
enum fu_window { FU_WEEK8, FU_MONTH3, FU_MONTH12, FU__COUNT };
struct fu_def { const char *name; int target_day, half_width; };
extern const struct fu_def fu_defs[FU__COUNT];   /* week8 56±14, month3 91±14, month12 365±42 */

enum rc_category { RC_DETERIORATED = -1, RC_UNCHANGED = 0, RC_IMPROVED = 1, RC_RECOVERED = 2,
                   RC_UNKNOWN = 9 };

/* Stable machine name of a category ("improved", ...), "" for RC_UNKNOWN; and back
 * (returns 0, or -1 for an unknown name). */
const char *rc_category_name(int rc);
int rc_category_parse(const char *s, int *rc);

/* One record per patient, episode and instrument. The array of these is most of what the
 * pipeline keeps per patient, so it holds only what cannot be recomputed: every measure
 * that is a function of the stored ones (change, pct, the responder flags, the follow-up
 * and end-of-course percentages, durable, weeks, sessions per week) is an accessor below,
 * computing the same double, by the same operations in the same order, as storing it did.
 * What depends on an instrument's MIC or cut-off (resp_mic, rc_cat) stays stored: the cohort
 * stage may read patients.csv with an instrument table that lacks them. The RCI, which
 * depends on the reliability, is not stored either: it is change / S_diff with one S_diff per
 * instrument, kept in the patient_set (pm_rci), and the reader of patients.csv finds that
 * S_diff again from the file's rci cells when its instrument table cannot give it.
 *
 * Widths: counts of visits are uint16_t because patient_compute refuses an episode of more
 * than 65535 visits (OUT_EINPUT); follow-up and end-of-course days are int16_t because they
 * lie inside the windows (at most day 407); sessions and dates keep 32 bits (the file's
 * session numbers go to 100000). Largest members first, so there is no padding: 104 bytes
 * (patient.c asserts it). */
struct pmeasure {
    double baseline, final;    /* scores; final is NAN when only one scored visit */
    double fu[FU__COUNT];      /* score at each follow-up window, NAN when none */
    double end_pct;            /* pct at end of course; NAN when undefined */
    double immediate;          /* mean within-session change pain - pain_post (good direction),
                                  NAN when no pain_post pairs; only for instrument "pain" */
    uint32_t patient;          /* index into dataset.patient_id */
    int32_t first_day, last_day;   /* baseline and final visit dates (days since 1970) */
    int32_t first_session, last_session;   /* from the file, or derived from date order */
    /* Sessions to response (see time convention above). */
    int32_t sessions_to_response;  /* event or censoring time, in treatments; -1 when
                                      excluded from time-to-response (single visit, zero
                                      baseline) */
    int32_t days_to_response;  /* days from baseline to the responding visit, or to the last
                                  scored visit when censored; -1 when excluded as above */
    uint16_t episode;          /* 1-based episode number */
    uint16_t n_visits;         /* scored visits of this instrument in the episode, from the
                                  baseline on: sessions attended for dose */
    uint16_t n_attended;       /* every visit of the episode, whatever it scored */
    uint16_t n_immediate;      /* visits in the `immediate` mean */
    int16_t fu_day[FU__COUNT]; /* days from baseline of the follow-up visit, -1 when none */
    int16_t end_offset;        /* end-of-course visit, in days from baseline (0 when the course
                                  has no visit after baseline): see pm_end_day */
    uint8_t instr;             /* index into dataset.instr[] (< INSTRUMENT_MAX) */
    int8_t resp_mic;           /* change >= the instrument's MIC: 1/0, -1 when undefined (no
                                  MIC, or single visit) */
    int8_t rc_cat;             /* enum rc_category */
    unsigned higher_better : 1;   /* the instrument's direction, for the accessors */
    unsigned responded : 1;    /* 1 event, 0 censored (or excluded: see sessions_to_response) */
};

/* Responder comparisons allow binary noise: 7 -> 4.9 is 30% on paper. */
#define PM_PCT_EPS 1e-9
/* IMMPACT moderate improvement; durability uses this, not the configurable threshold. */
#define PM_DURABLE_PCT 30.0

/* Improvement from `from` to `to` in the record's good direction (instrument_improvement). */
static inline double pm_improvement(const struct pmeasure *m, double from, double to)
{
    return m->higher_better ? to - from : from - to;
}

/* Percent improvement from the baseline to score x: 100*improvement/|baseline|; NAN when
 * the baseline is 0 or x is NAN. */
static inline double pm_pct_at(const struct pmeasure *m, double x)
{
    if (m->baseline == 0)
        return NAN;
    return 100.0 * pm_improvement(m, m->baseline, x) / fabs(m->baseline);
}

/* 1 when pct reaches thr (less the tolerance), 0 when not, -1 when pct is NAN. */
static inline int pm_at_least(double pct, double thr)
{
    return isnan(pct) ? -1 : pct >= thr - PM_PCT_EPS;
}

/* Improvement final vs baseline, good direction; NAN for a single visit (final NAN). */
static inline double pm_change(const struct pmeasure *m)
{
    return pm_improvement(m, m->baseline, m->final);
}

/* 100*change/|baseline|; NAN for a single visit or a zero baseline. */
static inline double pm_pct(const struct pmeasure *m)
{
    return pm_pct_at(m, m->final);
}

/* 1 when pct is undefined because the baseline is 0 (only with >= 2 visits: single visits
 * are counted apart). */
static inline int pm_zero_baseline(const struct pmeasure *m)
{
    return m->n_visits >= 2 && m->baseline == 0;
}

/* pct >= 30 / >= 50: 1/0, -1 when pct is undefined. */
static inline int pm_resp30(const struct pmeasure *m)
{
    return pm_at_least(pm_pct(m), 30);
}
static inline int pm_resp50(const struct pmeasure *m)
{
    return pm_at_least(pm_pct(m), 50);
}

/* pct at follow-up window w; NAN when no visit there or a zero baseline. */
static inline double pm_fu_pct(const struct pmeasure *m, int w)
{
    return pm_pct_at(m, m->fu[w]);
}

/* Date of the end-of-course visit (the baseline date when the course has no visit after
 * baseline): use for monthly series by month of course end. */
static inline int32_t pm_end_day(const struct pmeasure *m)
{
    return m->first_day + m->end_offset;
}

/* Responder (>= 30%) at end of course / at the month-12 follow-up: 1/0, -1 undefined. */
static inline int pm_resp_end(const struct pmeasure *m)
{
    return pm_at_least(m->end_pct, PM_DURABLE_PCT);
}
static inline int pm_resp_m12(const struct pmeasure *m)
{
    return pm_at_least(pm_fu_pct(m, FU_MONTH12), PM_DURABLE_PCT);
}

/* Responder at end of course and at month 12: 1/0, -1 unknown (either undefined). */
static inline int pm_durable(const struct pmeasure *m)
{
    int e = pm_resp_end(m), y = pm_resp_m12(m);
    return e >= 0 && y >= 0 ? e && y : -1;
}

/* (last_day - first_day) / 7: weeks in treatment, 0 for a single visit. */
static inline double pm_weeks(const struct pmeasure *m)
{
    return (m->last_day - m->first_day) / 7.0;
}

/* (n_visits - 1) / weeks; NAN when weeks == 0. */
static inline double pm_sessions_per_week(const struct pmeasure *m)
{
    double weeks = pm_weeks(m);
    return weeks > 0 ? (double)(m->n_visits - 1) / weeks : NAN;
}

struct patient_set {
    size_t n, cap;
    struct pmeasure *m;        /* sorted by patient, episode, instr; a bigarr (bigarr.h):
                                * released by patient_set_free, never by free() */
    size_t n_patients;         /* distinct patient-episodes */
    size_t n_single_visit;     /* patient-episode-instruments with one scored visit */

    /* Added after the first contract (additive). */
    size_t n_zero_baseline;    /* records with pm_zero_baseline() == 1 */
    size_t n_instr;            /* entries valid in sd_pre and sdiff */
    double sd_pre[INSTRUMENT_MAX];   /* SD of baselines used for the RCI, NAN when undefined */
    /* S_diff of the RCI per instrument, pm_sdiff(sd_pre, reliability), NAN when undefined.
     * In a set read from patients.csv: a divisor that gives the file's rci cells (the
     * reader's instrument table may not know the reliability; patients_csv.h). */
    double sdiff[INSTRUMENT_MAX];
};

/* S_diff = sqrt(2)*SD_pre*sqrt(1-r) (see RCI above); NAN when SD_pre is undefined or 0 or r
 * is not in [0, 1). */
static inline double pm_sdiff(double sd_pre, double r)
{
    return sd_pre > 0 && r >= 0 && r < 1 ? sqrt(2.0) * sd_pre * sqrt(1 - r) : NAN;
}

/* Jacobson–Truax RCI of a record of ps: change / S_diff; NAN for a single visit or an
 * instrument without an S_diff (or beyond ps->n_instr). */
static inline double pm_rci(const struct patient_set *ps, const struct pmeasure *m)
{
    return m->instr < ps->n_instr ? pm_change(m) / ps->sdiff[m->instr] : NAN;
}

struct patient_opts {
    int new_episode_after;     /* days; 0 = never split on gaps */
    double pct_threshold;      /* response rule for time to response; default 30 */
};
void patient_opts_default(struct patient_opts *o);

/* Compute measures for every patient and instrument in ds; o may be NULL (defaults).
 * *out is initialised here (any previous content is not freed). O(V log V) time.
 * Returns 0; OUT_EUSAGE for invalid options; OUT_EINPUT when a patient has more than
 * 65535 episodes or an episode more than 65535 visits; OUT_EINTERNAL on out of memory.
 * On error *out is left empty. */
int patient_compute(const struct dataset *ds, const struct patient_opts *o,
                    struct patient_set *out, struct out_error *e);
/* The same computation fed in pieces, for input streamed patient by patient (ingest.h,
 * patient_done): begin, then add each time ds holds only complete patients (every visit of
 * each patient with a visit in ds is there; visits already added are gone), then end.
 * Records come out in the order patient_compute gives when the patients were added in
 * index order. begin: 0, OUT_EUSAGE (options) or OUT_EINTERNAL, *s NULL on error. add: 0,
 * or patient_compute's errors (*out then holds a partial set: free the stream and the set).
 * end computes S_diff and the RC categories, frees s and returns 0. free releases s (NULL is
 * harmless). */
struct patient_stream;
int patient_stream_begin(struct patient_stream **s, const struct patient_opts *o,
                         struct patient_set *out, struct out_error *e);
int patient_stream_add(struct patient_stream *s, const struct dataset *ds, struct out_error *e);
int patient_stream_end(struct patient_stream *s, const struct dataset *ds);
void patient_stream_free(struct patient_stream *s);

/* Release what ps owns and leave it empty; NULL is harmless. */
void patient_set_free(struct patient_set *ps);

/* Copy into *out the records whose end-of-course visit (pm_end_day) lies in [day_lo, day_hi],
 * with the counts recomputed for the selection (sd_pre and sdiff are kept: the RCI's
 * reference SD stays the whole cohort's). For the monthly report. Returns 0 or OUT_EINTERNAL. */
int patient_set_select(const struct patient_set *in, int32_t day_lo, int32_t day_hi,
                       struct patient_set *out, struct out_error *e);

#endif
