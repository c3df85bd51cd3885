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
 */
#ifndef OUTCOMES_PATIENT_H
#define OUTCOMES_PATIENT_H

#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "error.h"

/* Follow-up windows: the scored visit nearest the target day inside [target-halfwidth,
 * target+halfwidth] days from baseline. */
enum fu_window { FU_WEEK8, FU_MONTH3, FU_MONTH12, FU__COUNT };
struct fu_def { const char *name; int target_day, half_width; };
extern const struct fu_def fu_defs[FU__COUNT];   /* week8 56±14, month3 91±14, month12 365±42 */

enum rc_category { RC_DETERIORATED = -1, RC_UNCHANGED = 0, RC_IMPROVED = 1, RC_RECOVERED = 2,
                   RC_UNKNOWN = 9 };

struct pmeasure {
    uint32_t patient;          /* index into dataset.patient_id */
    uint16_t instr;            /* index into dataset.instr[] */
    uint16_t episode;          /* 1-based episode number */
    int n_visits;              /* scored visits of this instrument in the episode */
    int32_t first_day, last_day;
    int first_session, last_session;   /* from the file, or derived from date order */
    double baseline, final;    /* scores; final is NAN when only one scored visit */
    double change;             /* improvement final vs baseline, good direction; NAN if single */
    double pct;                /* 100*change/|baseline|; NAN when single visit or baseline 0 */
    int zero_baseline;         /* 1 when pct is undefined because the baseline is 0 */
    int8_t resp30, resp50, resp_mic;   /* 1/0, or -1 when undefined (single visit, pct NAN) */
    double rci;                /* Jacobson–Truax change / S_diff; NAN when undefined */
    int rc_cat;                /* enum rc_category */
    /* Sessions to response (see time convention above). */
    int responded;             /* 1 event, 0 censored */
    int sessions_to_response;  /* event or censoring time, in treatments; -1 if single visit */
    int days_to_response;      /* days from baseline to the responding visit, or -1 */
    double fu[FU__COUNT];      /* score at each follow-up window, NAN when none */
    int8_t durable;            /* responder at end of course and at month 12: 1/0, -1 unknown */
    double immediate;          /* mean within-session change pain - pain_post (good direction),
                                  NAN when no pain_post pairs; only for instrument "pain" */
    int n_immediate;
    double weeks;              /* (last_day - first_day) / 7 */
    double sessions_per_week;  /* (n_visits - 1) / weeks; NAN when weeks == 0 */
};

struct patient_set {
    size_t n, cap;
    struct pmeasure *m;        /* sorted by patient, episode, instr */
    size_t n_patients;         /* distinct patient-episodes */
    size_t n_single_visit;     /* patient-episode-instruments with one scored visit */
};

struct patient_opts {
    int new_episode_after;     /* days; 0 = never split on gaps */
    double pct_threshold;      /* response rule for time to response; default 30 */
};
void patient_opts_default(struct patient_opts *o);

/* Compute measures for every patient and instrument in ds. Returns 0 or OUT_EINTERNAL. */
int patient_compute(const struct dataset *ds, const struct patient_opts *o,
                    struct patient_set *out, struct out_error *e);
void patient_set_free(struct patient_set *ps);

#endif
