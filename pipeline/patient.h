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

struct pmeasure {
    uint32_t patient;          /* index into dataset.patient_id */
    uint16_t instr;            /* index into dataset.instr[] */
    uint16_t episode;          /* 1-based episode number */
    int n_visits;              /* scored visits of this instrument in the episode, from the
                                  baseline on: sessions attended for dose */
    int32_t first_day, last_day;   /* baseline and final visit dates (days since 1970) */
    int first_session, last_session;   /* from the file, or derived from date order */
    double baseline, final;    /* scores; final is NAN when only one scored visit */
    double change;             /* improvement final vs baseline, good direction; NAN if single */
    double pct;                /* 100*change/|baseline|; NAN when single visit or baseline 0 */
    int zero_baseline;         /* 1 when pct is undefined because the baseline is 0
                                  (only set with >= 2 visits; single visits are counted apart) */
    int8_t resp30, resp50, resp_mic;   /* 1/0, or -1 when undefined (single visit, pct NAN;
                                          resp_mic: no MIC, or single visit) */
    double rci;                /* Jacobson–Truax change / S_diff; NAN when undefined */
    int rc_cat;                /* enum rc_category */
    /* Sessions to response (see time convention above). */
    int responded;             /* 1 event, 0 censored (or excluded: see sessions_to_response) */
    int sessions_to_response;  /* event or censoring time, in treatments; -1 when excluded
                                  from time-to-response (single visit, zero baseline) */
    int days_to_response;      /* days from baseline to the responding visit, or to the last
                                  scored visit when censored; -1 when excluded as above */
    double fu[FU__COUNT];      /* score at each follow-up window, NAN when none */
    int8_t durable;            /* responder at end of course and at month 12: 1/0, -1 unknown */
    double immediate;          /* mean within-session change pain - pain_post (good direction),
                                  NAN when no pain_post pairs; only for instrument "pain" */
    int n_immediate;
    double weeks;              /* (last_day - first_day) / 7 */
    double sessions_per_week;  /* (n_visits - 1) / weeks; NAN when weeks == 0 */

    /* Added after the first contract (additive). */
    int n_attended;            /* every visit of the episode, whatever it scored */
    int32_t fu_day[FU__COUNT]; /* days from baseline of the follow-up visit, -1 when none */
    double fu_pct[FU__COUNT];  /* pct at the follow-up visit; NAN when none or baseline 0 */
    int32_t end_day;           /* date of the end-of-course visit (baseline date when the
                                  course has no visit after baseline): use for monthly series
                                  by month of course end */
    double end_pct;            /* pct at end of course; NAN when undefined */
    int8_t resp_end;           /* pct >= 30 at end of course: 1/0, -1 undefined */
    int8_t resp_m12;           /* pct >= 30 at the month-12 follow-up: 1/0, -1 no visit */
};

struct patient_set {
    size_t n, cap;
    struct pmeasure *m;        /* sorted by patient, episode, instr */
    size_t n_patients;         /* distinct patient-episodes */
    size_t n_single_visit;     /* patient-episode-instruments with one scored visit */

    /* Added after the first contract (additive). */
    size_t n_zero_baseline;    /* records with zero_baseline == 1 */
    size_t n_instr;            /* entries valid in sd_pre */
    double sd_pre[INSTRUMENT_MAX];   /* SD of baselines used for the RCI, NAN when undefined */
};

struct patient_opts {
    int new_episode_after;     /* days; 0 = never split on gaps */
    double pct_threshold;      /* response rule for time to response; default 30 */
};
void patient_opts_default(struct patient_opts *o);

/* Compute measures for every patient and instrument in ds; o may be NULL (defaults).
 * *out is initialised here (any previous content is not freed). O(V log V) time.
 * Returns 0; OUT_EUSAGE for invalid options; OUT_EINPUT when a patient has more than
 * 65535 episodes; OUT_EINTERNAL on out of memory. On error *out is left empty. */
int patient_compute(const struct dataset *ds, const struct patient_opts *o,
                    struct patient_set *out, struct out_error *e);
/* The same computation fed in pieces, for input streamed patient by patient (ingest.h,
 * patient_done): begin, then add each time ds holds only complete patients (every visit of
 * each patient with a visit in ds is there; visits already added are gone), then end.
 * Records come out in the order patient_compute gives when the patients were added in
 * index order. begin: 0, OUT_EUSAGE (options) or OUT_EINTERNAL, *s NULL on error. add: 0,
 * or patient_compute's errors (*out then holds a partial set: free the stream and the set).
 * end computes the RCI, frees s and returns 0. free releases s (NULL is harmless). */
struct patient_stream;
int patient_stream_begin(struct patient_stream **s, const struct patient_opts *o,
                         struct patient_set *out, struct out_error *e);
int patient_stream_add(struct patient_stream *s, const struct dataset *ds, struct out_error *e);
int patient_stream_end(struct patient_stream *s, const struct dataset *ds);
void patient_stream_free(struct patient_stream *s);

/* Release what ps owns and leave it empty; NULL is harmless. */
void patient_set_free(struct patient_set *ps);

/* Copy into *out the records whose end-of-course visit (end_day) lies in [day_lo, day_hi],
 * with the counts recomputed for the selection (sd_pre is kept: the RCI's reference SD stays
 * the whole cohort's). For the monthly report. Returns 0 or OUT_EINTERNAL. */
int patient_set_select(const struct patient_set *in, int32_t day_lo, int32_t day_hi,
                       struct patient_set *out, struct out_error *e);

#endif
