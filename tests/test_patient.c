/* test_patient.c — per-patient measures (patient.c) and patients.csv (patients_csv.c).
 *
 * Every history is built by hand and every expected number is worked out in the comment
 * beside it, never copied from the program's output. Day 0 is D0 = 2024-01-01 = day 19723
 * since 1970 (2000-01-01 is day 10957; 24 years with 6 leap days = 8766 days later).
 */
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "civil_date.h"
#include "dataset.h"
#include "escape.h"
#include "harness.h"
#include "instrument.h"
#include "ingest.h"
#include "patient.h"
#include "patients_csv.h"

enum { D0 = 19723 };
#define NA NAN

static struct instrument_table builtin;

/* One visit: instruments are {pain, sleep} in dataset A, in that order. */
static void addv(struct dataset *ds, const char *id, int day, int session, double pain,
                 double sleep, double post, int flag)
{
    long p = dataset_patient(ds, id);
    struct visit v = {0};
    double sc[2] = {pain, sleep};
    v.patient = (uint32_t)p;
    v.day = D0 + day;
    v.session = session;
    v.line = 1;
    v.adverse = -1;
    v.baseline = (uint8_t)flag;
    if (p < 0 || dataset_add_visit(ds, &v, sc, post) < 0) {
        fprintf(stderr, "out of memory building test data\n");
        exit(2);
    }
}

static void setcov(struct dataset *ds, const char *id, const char *clinic, const char *arm)
{
    long p = dataset_patient(ds, id);
    const char *v[2] = {clinic, arm};
    for (size_t c = 0; c < 2; c++)
        ds->cov_value[(size_t)p * ds->n_cov + c] =
            v[c] ? (uint32_t)dataset_cov_intern(ds, v[c]) : UINT32_MAX;
}

static const struct pmeasure *find(const struct patient_set *ps, const struct dataset *ds,
                                   const char *id, const char *instr, int episode)
{
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        if (strcmp(ds->patient_id[m->patient], id) == 0 &&
            strcmp(ds->instr[m->instr]->name, instr) == 0 && m->episode == episode)
            return m;
    }
    return NULL;
}

/* A missing record would make every later CHECK dereference NULL: stop there instead. */
static const struct pmeasure *get(const struct patient_set *ps, const struct dataset *ds,
                                  const char *id, const char *instr, int episode)
{
    const struct pmeasure *m = find(ps, ds, id, instr, episode);
    if (!m) {
        fprintf(stderr, "no record for %s/%s/%d\n", id, instr, episode);
        exit(1);
    }
    return m;
}

static void build_a(struct dataset *ds)
{
    static const char *const instr[] = {"pain", "sleep"};
    static const char *const covs[] = {"clinic", "arm"};
    dataset_init(ds);
    if (dataset_set_instruments(ds, &builtin, instr, 2) || dataset_set_covariates(ds, covs, 2) ||
        dataset_enable_pain_post(ds))
        exit(2);
    addv(ds, "dec", 0, 0, 8, NA, 6, 0);
    addv(ds, "dec", 7, 0, 6, NA, 5, 0);
    addv(ds, "dec", 14, 0, 4, NA, NA, 0);
    addv(ds, "inc", 0, 0, 4, NA, NA, 0);
    addv(ds, "inc", 7, 0, 6, NA, NA, 0);
    addv(ds, "zero", 0, 0, 0, NA, NA, 0);
    addv(ds, "zero", 7, 0, 2, NA, NA, 0);
    addv(ds, "single", 0, 0, 5, NA, 4, 0);
    addv(ds, "ooo", 14, 0, 3, NA, NA, 0);   /* rows out of date order */
    addv(ds, "ooo", 0, 0, 6, NA, NA, 0);
    addv(ds, "ooo", 7, 0, 5, NA, NA, 0);
    addv(ds, "tie", 0, 1, 7, NA, NA, 0);    /* same date: session decides, not row order */
    addv(ds, "tie", 7, 3, 3, NA, NA, 0);
    addv(ds, "tie", 7, 2, 5, NA, NA, 0);
    addv(ds, "tie2", 0, 0, 6, NA, NA, 0);   /* same date, no sessions: row order decides */
    addv(ds, "tie2", 7, 0, 4, NA, NA, 0);
    addv(ds, "tie2", 7, 0, 2, NA, NA, 0);
    static const double late[] = {8, 8, 7, 7, 6, 5};
    for (int i = 0; i < 6; i++)
        addv(ds, "late", 7 * i, 0, late[i], NA, NA, 0);
    static const double never[] = {8, 7, 7, 6};
    for (int i = 0; i < 4; i++)
        addv(ds, "never", 7 * i, 0, never[i], NA, NA, 0);
    addv(ds, "relapse", 0, 0, 8, NA, NA, 0);
    addv(ds, "relapse", 28, 0, 4, NA, NA, 0);
    addv(ds, "relapse", 56, 0, 3, NA, NA, 0);
    addv(ds, "relapse", 365, 0, 7, NA, NA, 0);
    addv(ds, "durable", 0, 0, 10, NA, NA, 0);
    addv(ds, "durable", 30, 0, 5, NA, NA, 0);
    addv(ds, "durable", 60, 0, 4, NA, NA, 0);
    addv(ds, "durable", 350, 0, 4, NA, NA, 0);
    addv(ds, "durable", 380, 0, 6, NA, NA, 0);
    addv(ds, "nofu", 0, 0, 8, NA, NA, 0);
    addv(ds, "nofu", 14, 0, 4, NA, NA, 0);
    addv(ds, "flag", 0, 0, 9, NA, NA, 0);   /* screening before the flagged baseline */
    addv(ds, "flag", 7, 0, 8, NA, NA, 1);
    addv(ds, "flag", 14, 0, 6, NA, NA, 0);
    addv(ds, "sleepy", 0, 0, NA, 4, NA, 0);
    addv(ds, "sleepy", 7, 0, NA, 5, NA, 0);
    addv(ds, "sleepy", 14, 0, NA, 7, NA, 0);
    addv(ds, "sleepy2", 0, 0, 6, 5, NA, 0);
    addv(ds, "sleepy2", 7, 0, 3, 3, NA, 0);
    addv(ds, "badsess", 0, 2, 6, NA, NA, 0);   /* file sessions run backwards in time */
    addv(ds, "badsess", 7, 1, 3, NA, NA, 0);
    addv(ds, "only12", 0, 0, 8, NA, NA, 0);
    addv(ds, "only12", 360, 0, 4, NA, NA, 0);
    setcov(ds, "dec", "North", "acu");
    setcov(ds, "inc", "South, East", NULL);
}

static void test_basic(void)
{
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    build_a(&ds);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);

    /* 17 patients, one episode each; "sleepy" has no pain, "sleepy" and "sleepy2" have
     * sleep: 16 + 2 = 18 records. Only "single" has one visit; only "zero" a 0 baseline. */
    CHECK(ps.n == 18);
    CHECK(ps.n_patients == 17);
    CHECK(ps.n_single_visit == 1);
    CHECK(ps.n_zero_baseline == 1);
    CHECK(find(&ps, &ds, "sleepy", "pain", 1) == NULL);
    for (size_t i = 1; i < ps.n; i++)
        CHECK(ps.m[i - 1].patient < ps.m[i].patient ||
              (ps.m[i - 1].patient == ps.m[i].patient && ps.m[i - 1].instr < ps.m[i].instr));

    /* dec: 8, 6, 4 at days 0, 7, 14. change 8-4 = 4; pct 100*4/8 = 50 -> resp30, resp50;
     * MIC 2: 4 >= 2. Response: day 7 is 100*2/8 = 25 < 30, day 14 is 50 -> session 3,
     * 3-1 = 2 treatments, 14 days. weeks 14/7 = 2, sessions/week (3-1)/2 = 1.
     * Immediate: (8-6) and (6-5), day 14 has no post: mean (2+1)/2 = 1.5 over 2. */
    const struct pmeasure *m = get(&ps, &ds, "dec", "pain", 1);
    CHECK(m->n_visits == 3 && m->n_attended == 3);
    CHECK(m->first_day == D0 && m->last_day == D0 + 14);
    CHECK(m->first_session == 1 && m->last_session == 3);
    CHECK_NEAR(m->baseline, 8, 0);
    CHECK_NEAR(m->final, 4, 0);
    CHECK_NEAR(pm_change(m), 4, 0);
    CHECK_NEAR(pm_pct(m), 50, 1e-12);
    CHECK(pm_zero_baseline(m) == 0);
    CHECK(pm_resp30(m) == 1 && pm_resp50(m) == 1 && m->resp_mic == 1);
    CHECK(m->responded == 1 && m->sessions_to_response == 2 && m->days_to_response == 14);
    CHECK_NEAR(pm_weeks(m), 2, 1e-12);
    CHECK_NEAR(pm_sessions_per_week(m), 1, 1e-12);
    CHECK_NEAR(m->immediate, 1.5, 1e-12);
    CHECK(m->n_immediate == 2);
    /* No visit in any follow-up window (week 8 is days 42..70). */
    for (int w = 0; w < FU__COUNT; w++)
        CHECK(isnan(m->fu[w]) && m->fu_day[w] == -1 && isnan(pm_fu_pct(m, w)));
    /* End of course is day 14 (before day 323): pct 50 -> resp_end 1; no month 12 -> -1. */
    CHECK(pm_end_day(m) == D0 + 14);
    CHECK_NEAR(m->end_pct, 50, 1e-12);
    CHECK(pm_resp_end(m) == 1 && pm_resp_m12(m) == -1 && pm_durable(m) == -1);

    /* inc: 4 -> 6, worse by 2: change -2, pct 100*(-2)/4 = -50; not a responder, below MIC.
     * Censored at the last scored visit: session 2 -> 1 treatment, 7 days. */
    m = get(&ps, &ds, "inc", "pain", 1);
    CHECK_NEAR(pm_change(m), -2, 0);
    CHECK_NEAR(pm_pct(m), -50, 1e-12);
    CHECK(pm_resp30(m) == 0 && pm_resp50(m) == 0 && m->resp_mic == 0);
    CHECK(m->responded == 0 && m->sessions_to_response == 1 && m->days_to_response == 7);
    CHECK(isnan(m->immediate) && m->n_immediate == 0);

    /* zero: 0 -> 2. change -2 (points are defined), pct undefined: flagged and excluded
     * from the 30%/50% rules and from time to response; MIC rule still applies: -2 < 2. */
    m = get(&ps, &ds, "zero", "pain", 1);
    CHECK(pm_zero_baseline(m) == 1);
    CHECK(isnan(pm_pct(m)));
    CHECK_NEAR(pm_change(m), -2, 0);
    CHECK(pm_resp30(m) == -1 && pm_resp50(m) == -1 && m->resp_mic == 0);
    CHECK(m->responded == 0 && m->sessions_to_response == -1 && m->days_to_response == -1);
    CHECK(pm_resp_end(m) == -1 && pm_durable(m) == -1);
    CHECK(isnan(m->end_pct));

    /* single: one visit of 5, post 4. Kept, with every change field empty; the
     * within-session effect 5-4 = 1 still exists. weeks 0 -> sessions/week undefined. */
    m = get(&ps, &ds, "single", "pain", 1);
    CHECK(m->n_visits == 1);
    CHECK_NEAR(m->baseline, 5, 0);
    CHECK(isnan(m->final) && isnan(pm_change(m)) && isnan(pm_pct(m)));
    CHECK(isnan(pm_rci(&ps, m)));
    CHECK(pm_zero_baseline(m) == 0);
    CHECK(pm_resp30(m) == -1 && pm_resp50(m) == -1 && m->resp_mic == -1);
    CHECK(m->rc_cat == RC_UNKNOWN);
    CHECK(m->responded == 0 && m->sessions_to_response == -1 && m->days_to_response == -1);
    CHECK(m->first_day == D0 && m->last_day == D0 && m->last_session == 1);
    CHECK_NEAR(pm_weeks(m), 0, 0);
    CHECK(isnan(pm_sessions_per_week(m)));
    CHECK_NEAR(m->immediate, 1, 0);
    CHECK(m->n_immediate == 1);
    CHECK(pm_durable(m) == -1 && pm_resp_end(m) == -1 && pm_resp_m12(m) == -1);

    /* ooo: rows came as day 14 (3), day 0 (6), day 7 (5). Sorted: 6, 5, 3. change 3,
     * pct 100*3/6 = 50; day 7 is 100*1/6 = 16.7 < 30, day 14 responds: 2 treatments. */
    m = get(&ps, &ds, "ooo", "pain", 1);
    CHECK_NEAR(m->baseline, 6, 0);
    CHECK_NEAR(m->final, 3, 0);
    CHECK_NEAR(pm_pct(m), 50, 1e-12);
    CHECK(m->first_day == D0 && m->last_day == D0 + 14);
    CHECK(m->sessions_to_response == 2 && m->days_to_response == 14);

    /* tie: sessions 1 (7), 3 (3), 2 (5) with sessions 2 and 3 on the same day, given in the
     * order 3, 2. By session: 7, 5, 3 -> final 3 (not 5). pct 100*4/7 = 57.142857...;
     * session 2 is 100*2/7 = 28.6 < 30, session 3 responds: 3-1 = 2 treatments, 7 days. */
    m = get(&ps, &ds, "tie", "pain", 1);
    CHECK_NEAR(m->final, 3, 0);
    CHECK_NEAR(pm_pct(m), 400.0 / 7.0, 1e-12);
    CHECK(m->last_session == 3);
    CHECK(m->sessions_to_response == 2 && m->days_to_response == 7);

    /* tie2: 6, then 4 and 2 both on day 7 with no sessions: row order, so final 2 and
     * ranks 1, 2, 3. Day 7's first row: 100*2/6 = 33.3 >= 30 -> rank 2 -> 1 treatment. */
    m = get(&ps, &ds, "tie2", "pain", 1);
    CHECK_NEAR(m->final, 2, 0);
    CHECK(m->last_session == 3);
    CHECK(m->responded == 1 && m->sessions_to_response == 1 && m->days_to_response == 7);

    /* late: 8, 8, 7, 7, 6, 5 weekly. pct by visit: 0, 0, 12.5, 12.5, 25, 37.5 -> first
     * response at visit 6: 5 treatments, 35 days. final pct 37.5: resp30 yes, resp50 no;
     * change 3 >= MIC 2. weeks 35/7 = 5, sessions/week (6-1)/5 = 1. */
    m = get(&ps, &ds, "late", "pain", 1);
    CHECK_NEAR(pm_pct(m), 37.5, 1e-12);
    CHECK(pm_resp30(m) == 1 && pm_resp50(m) == 0 && m->resp_mic == 1);
    CHECK(m->responded == 1 && m->sessions_to_response == 5 && m->days_to_response == 35);
    CHECK_NEAR(pm_weeks(m), 5, 1e-12);
    CHECK_NEAR(pm_sessions_per_week(m), 1, 1e-12);

    /* never: 8, 7, 7, 6 weekly: best pct 100*2/8 = 25 < 30. Censored at visit 4: 3
     * treatments, 21 days. change 2 reaches the MIC of 2 exactly. */
    m = get(&ps, &ds, "never", "pain", 1);
    CHECK_NEAR(pm_pct(m), 25, 1e-12);
    CHECK(pm_resp30(m) == 0 && m->resp_mic == 1);
    CHECK(m->responded == 0 && m->sessions_to_response == 3 && m->days_to_response == 21);

    /* relapse: 8 (d0), 4 (d28), 3 (d56), 7 (d365).
     * Response at d28: 100*4/8 = 50 -> session 2 -> 1 treatment, 28 days.
     * final = the d365 visit: change 1, pct 12.5, resp30 0, MIC: 1 < 2.
     * week 8 window 42..70: d56 -> 3, pct 100*5/8 = 62.5. month 3 (77..105): none.
     * month 12 (323..407): d365 -> 7, pct 12.5.
     * End of course = last visit before d323 = d56: pct 62.5 -> resp_end 1; month 12 not a
     * responder -> durable 0. weeks 365/7 = 52.142857..., sessions/week 3/(365/7) = 21/365. */
    m = get(&ps, &ds, "relapse", "pain", 1);
    CHECK_NEAR(m->final, 7, 0);
    CHECK_NEAR(pm_pct(m), 12.5, 1e-12);
    CHECK(pm_resp30(m) == 0 && m->resp_mic == 0);
    CHECK(m->responded == 1 && m->sessions_to_response == 1 && m->days_to_response == 28);
    CHECK_NEAR(m->fu[FU_WEEK8], 3, 0);
    CHECK(m->fu_day[FU_WEEK8] == 56);
    CHECK_NEAR(pm_fu_pct(m, FU_WEEK8), 62.5, 1e-12);
    CHECK(isnan(m->fu[FU_MONTH3]) && m->fu_day[FU_MONTH3] == -1);
    CHECK_NEAR(m->fu[FU_MONTH12], 7, 0);
    CHECK(m->fu_day[FU_MONTH12] == 365);
    CHECK_NEAR(pm_fu_pct(m, FU_MONTH12), 12.5, 1e-12);
    CHECK(pm_end_day(m) == D0 + 56);
    CHECK_NEAR(m->end_pct, 62.5, 1e-12);
    CHECK(pm_resp_end(m) == 1 && pm_resp_m12(m) == 0 && pm_durable(m) == 0);
    CHECK_NEAR(pm_weeks(m), 365.0 / 7.0, 1e-12);
    CHECK_NEAR(pm_sessions_per_week(m), 21.0 / 365.0, 1e-12);

    /* durable: 10 (d0), 5 (d30), 4 (d60), 4 (d350), 6 (d380).
     * week 8 (42..70): d60 -> 4, pct 60. month 12 (323..407): d350 and d380 are both 15
     * days from 365 -> the earlier, d350: 4, pct 60. End of course d60: pct 60.
     * durable 1. final = d380: change 4, pct 40. Response at d30 (pct 50): 1 treatment. */
    m = get(&ps, &ds, "durable", "pain", 1);
    CHECK_NEAR(m->fu[FU_WEEK8], 4, 0);
    CHECK(m->fu_day[FU_WEEK8] == 60);
    CHECK_NEAR(m->fu[FU_MONTH12], 4, 0);
    CHECK(m->fu_day[FU_MONTH12] == 350);
    CHECK_NEAR(pm_fu_pct(m, FU_MONTH12), 60, 1e-12);
    CHECK(pm_end_day(m) == D0 + 60);
    CHECK(pm_resp_end(m) == 1 && pm_resp_m12(m) == 1 && pm_durable(m) == 1);
    CHECK_NEAR(pm_pct(m), 40, 1e-12);
    CHECK(m->sessions_to_response == 1 && m->days_to_response == 30);

    /* nofu: 8 -> 4 by d14: responder at end of course (pct 50), no month-12 visit ->
     * durability unknown (-1), not a failure. */
    m = get(&ps, &ds, "nofu", "pain", 1);
    CHECK(pm_resp_end(m) == 1 && pm_resp_m12(m) == -1 && pm_durable(m) == -1);

    /* only12: 8 (d0), 4 (d360): no visit after baseline before d323, so no end-of-course
     * response to judge: resp_end -1, end date = baseline; month 12 pct 50 -> resp_m12 1;
     * durable unknown. */
    m = get(&ps, &ds, "only12", "pain", 1);
    CHECK(pm_resp_end(m) == -1 && pm_resp_m12(m) == 1 && pm_durable(m) == -1);
    CHECK(pm_end_day(m) == D0);
    CHECK(isnan(m->end_pct));

    /* flag: 9 (d0, screening), 8 (d7, flagged baseline), 6 (d14). Series starts at d7:
     * 2 scored visits, baseline 8, final 6, pct 100*2/8 = 25; sessions are ranks among all
     * 3 visits: 2 and 3; censored at 3-1 = 2 treatments, 7 days after the baseline. */
    m = get(&ps, &ds, "flag", "pain", 1);
    CHECK(m->n_visits == 2 && m->n_attended == 3);
    CHECK_NEAR(m->baseline, 8, 0);
    CHECK_NEAR(pm_pct(m), 25, 1e-12);
    CHECK(m->first_day == D0 + 7);
    CHECK(m->first_session == 2 && m->last_session == 3);
    CHECK(m->responded == 0 && m->sessions_to_response == 2 && m->days_to_response == 7);

    /* badsess: file sessions 2 then 1 going forward in time: not trusted, ranks 1, 2. */
    m = get(&ps, &ds, "badsess", "pain", 1);
    CHECK(m->first_session == 1 && m->last_session == 2);
    CHECK(m->sessions_to_response == 1);

    /* Sleep quality, higher is better. sleepy: 4, 5, 7. change +3, pct 100*3/4 = 75;
     * day 7: 100*1/4 = 25 < 30; day 14 responds: 2 treatments. MIC 2: 3 >= 2.
     * sleepy2: 5 -> 3: change -2, pct -40, not a responder. */
    m = get(&ps, &ds, "sleepy", "sleep", 1);
    CHECK_NEAR(pm_change(m), 3, 0);
    CHECK_NEAR(pm_pct(m), 75, 1e-12);
    CHECK(pm_resp30(m) == 1 && pm_resp50(m) == 1 && m->resp_mic == 1);
    CHECK(m->sessions_to_response == 2);
    CHECK(isnan(m->immediate));   /* pain only */
    const struct pmeasure *m2 = get(&ps, &ds, "sleepy2", "sleep", 1);
    CHECK_NEAR(pm_change(m2), -2, 0);
    CHECK_NEAR(pm_pct(m2), -40, 1e-12);
    CHECK(pm_resp30(m2) == 0 && m2->resp_mic == 0);
    /* Sleep RCI: baselines 4 and 5: SD = sqrt((0.25+0.25)/1) = sqrt(0.5); r = 0.80;
     * S_diff = sqrt(2)*sqrt(0.5)*sqrt(0.2) = sqrt(0.2). RCI = 3/sqrt(0.2) = 3*sqrt(5) =
     * 6.7082039325 (improved; sleep has no cutoff) and -2*sqrt(5) = -4.4721359550. */
    CHECK_NEAR(ps.sd_pre[1], sqrt(0.5), 1e-12);
    CHECK_NEAR(pm_rci(&ps, m), 3 * sqrt(5.0), 1e-9);
    CHECK(m->rc_cat == RC_IMPROVED);
    CHECK_NEAR(pm_rci(&ps, m2), -2 * sqrt(5.0), 1e-9);
    CHECK(m2->rc_cat == RC_DETERIORATED);

    patient_set_free(&ps);
    patient_set_free(&ps);   /* harmless twice */
    dataset_free(&ds);
}

static void build_r(struct dataset *ds)
{
    static const char *const instr[] = {"pain", "psqi"};
    dataset_init(ds);
    if (dataset_set_instruments(ds, &builtin, instr, 2))
        exit(2);
    /* pain: 4 -> 7, 6 -> 4, 8 -> 5, 10 single.  psqi: 10 -> 5, 12 -> 8, 14 -> 14, 16 -> 13. */
    addv(ds, "r1", 0, 0, 4, 10, NA, 0);
    addv(ds, "r1", 7, 0, 7, 5, NA, 0);
    addv(ds, "r2", 0, 0, 6, 12, NA, 0);
    addv(ds, "r2", 7, 0, 4, 8, NA, 0);
    addv(ds, "r3", 0, 0, 8, 14, NA, 0);
    addv(ds, "r3", 7, 0, 5, 14, NA, 0);
    addv(ds, "r4", 0, 0, 10, 16, NA, 0);
    addv(ds, "r4", 7, 0, NA, 13, NA, 0);
}

static void test_rci(void)
{
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    build_r(&ds);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    /* pain baselines 4, 6, 8, 10 (the single visit counts): mean 7, squared deviations
     * 9+1+1+9 = 20, SD = sqrt(20/3) = 2.5819888974716. r = 0.85:
     * S_diff = sqrt(2) * sqrt(20/3) * sqrt(0.15) = sqrt(2 * 20/3 * 0.15) = sqrt(2). */
    CHECK_NEAR(ps.sd_pre[0], sqrt(20.0 / 3.0), 1e-12);
    CHECK_NEAR(ps.sdiff[0], sqrt(2.0), 1e-12);
    /* r1: 4 -> 7, change -3: RCI -3/sqrt(2) = -2.1213203436 < -1.96 -> deteriorated.
     * r2: 6 -> 4, change 2: 2/sqrt(2) = 1.4142135624 -> unchanged.
     * r3: 8 -> 5, change 3: 2.1213203436 -> improved (pain has no cutoff: not recovered).
     * r4: single pain visit -> RCI undefined. */
    const struct pmeasure *m = get(&ps, &ds, "r1", "pain", 1);
    CHECK_NEAR(pm_rci(&ps, m), -3 / sqrt(2.0), 1e-12);
    CHECK(m->rc_cat == RC_DETERIORATED);
    m = get(&ps, &ds, "r2", "pain", 1);
    CHECK_NEAR(pm_rci(&ps, m), 1.4142135623731, 1e-12);
    CHECK(m->rc_cat == RC_UNCHANGED);
    m = get(&ps, &ds, "r3", "pain", 1);
    CHECK_NEAR(pm_rci(&ps, m), 2.1213203435596, 1e-12);
    CHECK(m->rc_cat == RC_IMPROVED);
    m = get(&ps, &ds, "r4", "pain", 1);
    CHECK(isnan(pm_rci(&ps, m)) && m->rc_cat == RC_UNKNOWN);
    CHECK(ps.n_single_visit == 1);

    /* psqi (lower better, cutoff 5, r 0.85): baselines 10, 12, 14, 16: mean 13, squared
     * deviations 9+1+1+9 = 20 again, so S_diff = sqrt(2).
     * r1: 10 -> 5, change 5: RCI 5/sqrt(2) = 3.5355339059; baseline 10 > 5 >= final 5
     *     -> recovered.
     * r2: 12 -> 8, change 4: 2.8284271247, final 8 still > 5 -> improved only.
     * r3: 14 -> 14: RCI 0 -> unchanged.  r4: 16 -> 13: 3/sqrt(2) = 2.1213 -> improved. */
    CHECK_NEAR(ps.sd_pre[1], sqrt(20.0 / 3.0), 1e-12);
    CHECK_NEAR(ps.sdiff[1], sqrt(2.0), 1e-12);
    m = get(&ps, &ds, "r1", "psqi", 1);
    CHECK_NEAR(pm_rci(&ps, m), 3.5355339059327, 1e-12);
    CHECK(m->rc_cat == RC_RECOVERED);
    m = get(&ps, &ds, "r2", "psqi", 1);
    CHECK_NEAR(pm_rci(&ps, m), 2.8284271247462, 1e-12);
    CHECK(m->rc_cat == RC_IMPROVED);
    /* MIC 3: 4 >= 3. pct 100*4/12 = 33.3. */
    CHECK(m->resp_mic == 1 && pm_resp30(m) == 1 && pm_resp50(m) == 0);
    m = get(&ps, &ds, "r3", "psqi", 1);
    CHECK_NEAR(pm_rci(&ps, m), 0, 0);
    CHECK(m->rc_cat == RC_UNCHANGED);
    m = get(&ps, &ds, "r4", "psqi", 1);
    CHECK(m->rc_cat == RC_IMPROVED);
    patient_set_free(&ps);
    dataset_free(&ds);

    /* An instrument with no reliability and one with a single patient: no RCI at all. */
    struct instrument_table t = builtin;
    struct instrument x = {"x", "X", 0, 10, 0, NAN, NAN, NAN};
    CHECK(instrument_table_add(&t, &x) == 0);
    static const char *const names[] = {"x", "sleep"};
    dataset_init(&ds);
    CHECK(dataset_set_instruments(&ds, &t, names, 2) == 0);
    addv(&ds, "a", 0, 0, 5, 3, NA, 0);
    addv(&ds, "a", 7, 0, 1, 9, NA, 0);
    addv(&ds, "b", 0, 0, 7, NA, NA, 0);
    addv(&ds, "b", 7, 0, 2, NA, NA, 0);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    m = get(&ps, &ds, "a", "x", 1);
    /* x: SD of 5 and 7 is sqrt(2) but r is unknown; MIC unknown -> resp_mic -1. */
    CHECK_NEAR(ps.sd_pre[0], sqrt(2.0), 1e-12);
    CHECK(isnan(ps.sdiff[0]));
    CHECK(isnan(pm_rci(&ps, m)) && m->rc_cat == RC_UNKNOWN && m->resp_mic == -1);
    m = get(&ps, &ds, "a", "sleep", 1);
    CHECK(isnan(ps.sd_pre[1]) && isnan(ps.sdiff[1]));   /* one baseline */
    CHECK(isnan(pm_rci(&ps, m)) && m->rc_cat == RC_UNKNOWN);
    patient_set_free(&ps);
    dataset_free(&ds);
}

static void test_episodes(void)
{
    static const char *const instr[] = {"pain", "sleep"};
    struct dataset ds;
    struct patient_set ps;
    struct patient_opts o;
    struct out_error e = {0};
    dataset_init(&ds);
    CHECK(dataset_set_instruments(&ds, &builtin, instr, 2) == 0);
    /* Sessions 1..5 from the file; a 193-day gap between d7 and d200. */
    addv(&ds, "ep", 0, 1, 8, NA, NA, 0);
    addv(&ds, "ep", 7, 2, 4, NA, NA, 0);
    addv(&ds, "ep", 200, 3, 9, NA, NA, 0);
    addv(&ds, "ep", 207, 4, 6, NA, NA, 0);
    addv(&ds, "ep", 214, 5, 3, NA, NA, 0);

    /* Unsplit: baseline 8, final 3, change 5, pct 62.5; d7 responds (50%): session 2 ->
     * 1 treatment. End of course: last visit before d323 = d214, pct 62.5. */
    patient_opts_default(&o);
    CHECK(o.new_episode_after == 0 && o.pct_threshold == 30);
    CHECK(patient_compute(&ds, &o, &ps, &e) == 0);
    CHECK(ps.n == 1 && ps.n_patients == 1);
    const struct pmeasure *m = get(&ps, &ds, "ep", "pain", 1);
    CHECK(m->n_visits == 5);
    CHECK_NEAR(pm_pct(m), 62.5, 1e-12);
    CHECK(m->sessions_to_response == 1);
    CHECK(pm_end_day(m) == D0 + 214);
    patient_set_free(&ps);

    /* Split at gaps > 90 days: episode 1 = d0, d7: 8 -> 4, pct 50, 1 treatment to respond.
     * Episode 2 = d200, d207, d214 with file sessions 3, 4, 5 re-based to 1, 2, 3:
     * 9 -> 3, change 6, pct 100*6/9 = 66.67; d207: 100*3/9 = 33.3 -> session 2 ->
     * 1 treatment, 7 days after the episode's baseline. 2 patient-episodes. */
    o.new_episode_after = 90;
    CHECK(patient_compute(&ds, &o, &ps, &e) == 0);
    CHECK(ps.n == 2 && ps.n_patients == 2);
    m = get(&ps, &ds, "ep", "pain", 1);
    CHECK(m->n_visits == 2 && m->last_day == D0 + 7);
    CHECK_NEAR(pm_pct(m), 50, 1e-12);
    CHECK(m->sessions_to_response == 1);
    m = get(&ps, &ds, "ep", "pain", 2);
    CHECK(m->n_visits == 3 && m->first_day == D0 + 200);
    CHECK(m->first_session == 1 && m->last_session == 3);
    CHECK_NEAR(m->baseline, 9, 0);
    CHECK_NEAR(pm_pct(m), 600.0 / 9.0, 1e-12);
    CHECK(m->sessions_to_response == 1 && m->days_to_response == 7);
    patient_set_free(&ps);

    /* A gap of exactly 193 days is not "more than 193". */
    o.new_episode_after = 193;
    CHECK(patient_compute(&ds, &o, &ps, &e) == 0);
    CHECK(ps.n == 1);
    patient_set_free(&ps);

    /* A custom response threshold of 60%: d7 (50%) no, d200 (9 is worse than 8) no,
     * d207 (100*2/8 = 25) no, d214 (62.5) yes -> session 5 -> 4 treatments, 214 days. */
    o.new_episode_after = 0;
    o.pct_threshold = 60;
    CHECK(patient_compute(&ds, &o, &ps, &e) == 0);
    m = get(&ps, &ds, "ep", "pain", 1);
    CHECK(m->sessions_to_response == 4 && m->days_to_response == 214);
    patient_set_free(&ps);

    /* Invalid options are a usage error, not a crash. */
    o.pct_threshold = NAN;
    CHECK(patient_compute(&ds, &o, &ps, &e) == OUT_EUSAGE);
    CHECK(ps.n == 0 && ps.m == NULL);
    o.pct_threshold = 30;
    o.new_episode_after = -1;
    CHECK(patient_compute(&ds, &o, &ps, &e) == OUT_EUSAGE);
    dataset_free(&ds);

    /* An empty dataset gives an empty set. */
    dataset_init(&ds);
    CHECK(dataset_set_instruments(&ds, &builtin, instr, 2) == 0);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    CHECK(ps.n == 0 && ps.n_patients == 0);
    patient_set_free(&ps);
    dataset_free(&ds);
}

/* Binary noise must not decide response: 7 -> 4.9 is exactly 30% on paper. */
static void test_threshold_tolerance(void)
{
    static const char *const instr[] = {"pain", "sleep"};
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    dataset_init(&ds);
    CHECK(dataset_set_instruments(&ds, &builtin, instr, 2) == 0);
    addv(&ds, "t", 0, 0, 7, NA, NA, 0);
    addv(&ds, "t", 7, 0, 4.9, NA, NA, 0);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    /* 100*(7-4.9)/7 = 30 on paper (29.999999999999996 in binary). */
    CHECK_NEAR(pm_pct(&ps.m[0]), 30, 1e-9);
    CHECK(pm_resp30(&ps.m[0]) == 1 && ps.m[0].responded == 1);
    patient_set_free(&ps);
    dataset_free(&ds);
}

/* A record built by hand, not by patient_compute: baseline b, final f (NA: single visit),
 * n scored visits from D0 to D0 + days; nothing at the follow-ups, end of course at
 * baseline. */
static struct pmeasure hand(int higher_better, double b, double f, int n, int days)
{
    struct pmeasure m;
    memset(&m, 0, sizeof m);
    m.higher_better = higher_better != 0;
    m.baseline = b;
    m.final = f;
    m.n_visits = m.n_attended = (uint16_t)n;
    m.first_day = D0;
    m.last_day = D0 + days;
    m.end_pct = m.immediate = NA;
    for (int w = 0; w < FU__COUNT; w++) {
        m.fu[w] = NA;
        m.fu_day[w] = -1;
    }
    return m;
}

/* The accessors of patient.h against the definitions worked by hand; each must give the
 * value the record used to store. */
static void test_accessors(void)
{
    /* Lower is better, 8 -> 4 over 3 visits in 14 days: change 8 - 4 = 4, pct 100*4/8 = 50
     * (both exact in binary), responder at 30 and 50; 14/7 = 2 weeks, (3-1)/2 = 1 a week. */
    struct pmeasure m = hand(0, 8, 4, 3, 14);
    CHECK(pm_change(&m) == 4 && pm_pct(&m) == 50);
    CHECK(pm_zero_baseline(&m) == 0);
    CHECK(pm_resp30(&m) == 1 && pm_resp50(&m) == 1);
    CHECK(pm_weeks(&m) == 2 && pm_sessions_per_week(&m) == 1);
    /* No follow-up, no end-of-course visit: NAN percentages, undefined flags, and the
     * course "ends" at baseline. */
    CHECK(isnan(pm_fu_pct(&m, FU_WEEK8)) && pm_resp_m12(&m) == -1);
    CHECK(pm_resp_end(&m) == -1 && pm_durable(&m) == -1);
    CHECK(pm_end_day(&m) == D0);

    /* Higher is better (sleep), 4 -> 7: change +3, pct 100*3/4 = 75; 5 -> 3: change -2,
     * pct 100*(-2)/5 = -40, responder at neither. A negative baseline divides by its size:
     * -4 -> -2 is +2 points, 100*2/4 = 50%. */
    m = hand(1, 4, 7, 2, 7);
    CHECK(pm_change(&m) == 3 && pm_pct(&m) == 75 && pm_resp50(&m) == 1);
    m = hand(1, 5, 3, 2, 7);
    CHECK(pm_change(&m) == -2 && pm_pct(&m) == -40);
    CHECK(pm_resp30(&m) == 0 && pm_resp50(&m) == 0);
    m = hand(1, -4, -2, 2, 7);
    CHECK(pm_change(&m) == 2 && pm_pct(&m) == 50);
    /* The same scores read the other way round: lower is better, 5 -> 3 is +2, 40%. */
    m = hand(0, 5, 3, 2, 7);
    CHECK(pm_change(&m) == 2 && pm_pct(&m) == 40 && pm_resp30(&m) == 1);

    /* Zero baseline, 0 -> 2 (lower is better): change -2 points is defined, every
     * percentage is not, and neither is any responder flag; zero_baseline 1. A score at
     * month 12 does not make a percentage either. */
    m = hand(0, 0, 2, 2, 7);
    m.fu[FU_MONTH12] = 1;
    m.fu_day[FU_MONTH12] = 365;
    CHECK(pm_change(&m) == -2 && isnan(pm_pct(&m)));
    CHECK(pm_zero_baseline(&m) == 1);
    CHECK(pm_resp30(&m) == -1 && pm_resp50(&m) == -1);
    CHECK(isnan(pm_fu_pct(&m, FU_MONTH12)) && pm_resp_m12(&m) == -1);
    CHECK(pm_durable(&m) == -1);

    /* Single visit (final NAN): no change, no pct, flags undefined; a zero baseline is not
     * flagged (single visits are counted apart); 0 weeks, so no sessions per week. */
    m = hand(0, 0, NA, 1, 0);
    CHECK(isnan(pm_change(&m)) && isnan(pm_pct(&m)));
    CHECK(pm_zero_baseline(&m) == 0);
    CHECK(pm_resp30(&m) == -1 && pm_resp50(&m) == -1);
    CHECK(pm_weeks(&m) == 0 && isnan(pm_sessions_per_week(&m)));

    /* 7 -> 4.9 is 30% on paper; in binary 7 - 4.9 = 2.0999999999999996 and the pct falls
     * just short of 30 (29.999999999999996), inside the 1e-9 tolerance: a responder. */
    m = hand(0, 7, 4.9, 2, 7);
    CHECK(pm_pct(&m) < 30 && pm_pct(&m) > 30 - 1e-9);
    CHECK(pm_resp30(&m) == 1 && pm_resp50(&m) == 0);
    CHECK(pm_at_least(30 - 1e-9, 30) == 1 && pm_at_least(30 - 2e-9, 30) == 0);
    CHECK(pm_at_least(NA, 30) == -1);

    /* End of course and month 12 (baseline 8, lower is better): week 8 score 3 is
     * 100*5/8 = 62.5%; end of course 56 days after baseline at 62.5%; month 12 score 7 is
     * 100*1/8 = 12.5%: responder at end, not at month 12, so not durable. Month 12 at 4
     * (50%) makes it durable; no end-of-course visit (end_pct NAN) makes it unknown. */
    m = hand(0, 8, 7, 4, 365);
    m.fu[FU_WEEK8] = 3;
    m.fu[FU_MONTH12] = 7;
    m.end_offset = 56;
    m.end_pct = 62.5;
    CHECK(pm_fu_pct(&m, FU_WEEK8) == 62.5 && pm_fu_pct(&m, FU_MONTH12) == 12.5);
    CHECK(pm_end_day(&m) == D0 + 56);
    CHECK(pm_resp_end(&m) == 1 && pm_resp_m12(&m) == 0 && pm_durable(&m) == 0);
    /* 365 days = 52.142857... weeks; (4-1) / (365/7) = 21/365 sessions a week. */
    CHECK_NEAR(pm_weeks(&m), 365.0 / 7, 1e-12);
    CHECK_NEAR(pm_sessions_per_week(&m), 21.0 / 365, 1e-15);
    m.fu[FU_MONTH12] = 4;
    CHECK(pm_resp_m12(&m) == 1 && pm_durable(&m) == 1);
    m.end_pct = NA;
    CHECK(pm_resp_end(&m) == -1 && pm_durable(&m) == -1);
    /* End of course below 30% and month 12 unknown: still unknown, not a failure. */
    m.end_pct = 10;
    m.fu[FU_MONTH12] = NA;
    CHECK(pm_resp_end(&m) == 0 && pm_durable(&m) == -1);
}

/* An episode of more than 65535 visits would wrap the record's 16-bit counts: refused. */
static void test_visit_limit(void)
{
    static const char *const instr[] = {"pain", "sleep"};
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    dataset_init(&ds);
    CHECK(dataset_set_instruments(&ds, &builtin, instr, 2) == 0);
    for (int i = 0; i < 65535; i++)
        addv(&ds, "many", i, 0, 5, NA, NA, 0);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    CHECK(ps.n == 1 && ps.m[0].n_visits == 65535 && ps.m[0].n_attended == 65535);
    CHECK(ps.m[0].last_session == 65535);
    patient_set_free(&ps);
    addv(&ds, "many", 65535, 0, NA, 5, NA, 0);   /* one more visit, sleep only */
    CHECK(patient_compute(&ds, NULL, &ps, &e) == OUT_EINPUT);
    CHECK_CONTAINS(e.msg, "patient 'many' has more than 65535 visits in one episode");
    CHECK(ps.n == 0 && ps.m == NULL);
    dataset_free(&ds);
}

/* Window edges are inclusive; end of course stops the day before month 12 opens. */
static void test_windows(void)
{
    static const char *const instr[] = {"pain", "sleep"};
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    dataset_init(&ds);
    CHECK(dataset_set_instruments(&ds, &builtin, instr, 2) == 0);
    /* w: 10 (d0), 9 (d41), 8 (d71), 5 (d322), 4 (d323).
     * week 8 is 56±14 = 42..70: d41 and d71 are each one day outside -> none.
     * month 3 is 77..105: none. month 12 is 365±42 = 323..407: d323 -> 4, pct 60.
     * End of course = last visit before d323 = d322: 5, pct 50 -> durable 1. */
    addv(&ds, "w", 0, 0, 10, NA, NA, 0);
    addv(&ds, "w", 41, 0, 9, NA, NA, 0);
    addv(&ds, "w", 71, 0, 8, NA, NA, 0);
    addv(&ds, "w", 322, 0, 5, NA, NA, 0);
    addv(&ds, "w", 323, 0, 4, NA, NA, 0);
    /* w2: 10 (d0), 6 (d42), 5 (d70): both on the week-8 edges, 14 days from 56 -> the
     * earlier, d42: 6, pct 40. */
    addv(&ds, "w2", 0, 0, 10, NA, NA, 0);
    addv(&ds, "w2", 42, 0, 6, NA, NA, 0);
    addv(&ds, "w2", 70, 0, 5, NA, NA, 0);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    const struct pmeasure *m = get(&ps, &ds, "w", "pain", 1);
    CHECK(isnan(m->fu[FU_WEEK8]) && isnan(m->fu[FU_MONTH3]));
    CHECK_NEAR(m->fu[FU_MONTH12], 4, 0);
    CHECK(m->fu_day[FU_MONTH12] == 323);
    CHECK(pm_end_day(m) == D0 + 322);
    CHECK_NEAR(m->end_pct, 50, 1e-12);
    CHECK(pm_resp_end(m) == 1 && pm_resp_m12(m) == 1 && pm_durable(m) == 1);
    m = get(&ps, &ds, "w2", "pain", 1);
    CHECK_NEAR(m->fu[FU_WEEK8], 6, 0);
    CHECK(m->fu_day[FU_WEEK8] == 42);
    CHECK_NEAR(pm_fu_pct(m, FU_WEEK8), 40, 1e-12);
    patient_set_free(&ps);
    dataset_free(&ds);
}

/* ---- patients.csv ---- */

/* Cases the faster paths of patient_compute must not change: a month-12 visit late in its
 * window after the end of course and before a visit beyond every window; more than 16
 * visits arriving in reverse date order (the qsort path, not insertion sort or the
 * already-sorted check); and the within-session effect, which is pain's only even when the
 * other instruments share the visit. */
static void test_single_pass(void)
{
    static const char *const instr[] = {"pain", "sleep"};
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    dataset_init(&ds);
    CHECK(dataset_set_instruments(&ds, &builtin, instr, 2) == 0);
    CHECK(dataset_enable_pain_post(&ds) == 0);
    /* late: 10 (d0), 6 (d300), 5 (d400), 2 (d410). Month 12 is 323..407: d400 -> 5, pct 50.
     * End of course = last visit before d323 = d300: 6, pct 40. Final = d410: 2. */
    addv(&ds, "late", 0, 0, 10, NA, NA, 0);
    addv(&ds, "late", 300, 0, 6, NA, NA, 0);
    addv(&ds, "late", 400, 0, 5, NA, NA, 0);
    addv(&ds, "late", 410, 0, 2, NA, NA, 0);
    /* rev: 20 weekly visits given newest first; score 10 - i/4 at day 7i. */
    for (int i = 19; i >= 0; i--)
        addv(&ds, "rev", 7 * i, 0, 10 - i / 4.0, NA, NA, 0);
    /* both: pain 6 -> 5 with pain_post 4 and 4: immediate (2 + 1) / 2 = 1.5 over 2; sleep
     * scored at the same visits has no immediate effect. */
    addv(&ds, "both", 0, 0, 6, 4, 4, 0);
    addv(&ds, "both", 7, 0, 5, 5, 4, 0);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    const struct pmeasure *m = get(&ps, &ds, "late", "pain", 1);
    CHECK_NEAR(m->fu[FU_MONTH12], 5, 0);
    CHECK(m->fu_day[FU_MONTH12] == 400);
    CHECK_NEAR(pm_fu_pct(m, FU_MONTH12), 50, 1e-12);
    CHECK(pm_end_day(m) == D0 + 300);
    CHECK_NEAR(m->end_pct, 40, 1e-12);
    CHECK(pm_resp_end(m) == 1 && pm_resp_m12(m) == 1 && pm_durable(m) == 1);
    CHECK_NEAR(m->final, 2, 0);
    CHECK(m->last_day == D0 + 410);
    m = get(&ps, &ds, "rev", "pain", 1);
    CHECK(m->n_visits == 20 && m->first_day == D0 && m->last_day == D0 + 133);
    CHECK(m->first_session == 1 && m->last_session == 20);
    CHECK_NEAR(m->baseline, 10, 0);
    CHECK_NEAR(m->final, 5.25, 0);
    CHECK_NEAR(m->fu[FU_WEEK8], 8, 0);   /* day 56 = i 8: 10 - 2 */
    m = get(&ps, &ds, "both", "pain", 1);
    CHECK_NEAR(m->immediate, 1.5, 1e-12);
    CHECK(m->n_immediate == 2);
    m = get(&ps, &ds, "both", "sleep", 1);
    CHECK(isnan(m->immediate) && m->n_immediate == 0);
    patient_set_free(&ps);
    dataset_free(&ds);
}

static int same_double(double a, double b)
{
    return (isnan(a) && isnan(b)) || a == b;
}

/* Every stored member (the rest is computed from them). */
static int same_measure(const struct pmeasure *a, const struct pmeasure *b)
{
    int ok = a->episode == b->episode && a->higher_better == b->higher_better &&
             a->n_visits == b->n_visits && a->n_attended == b->n_attended &&
             a->first_day == b->first_day && a->last_day == b->last_day &&
             a->first_session == b->first_session && a->last_session == b->last_session &&
             same_double(a->baseline, b->baseline) && same_double(a->final, b->final) &&
             a->resp_mic == b->resp_mic &&
             a->rc_cat == b->rc_cat && a->responded == b->responded &&
             a->sessions_to_response == b->sessions_to_response &&
             a->days_to_response == b->days_to_response &&
             same_double(a->immediate, b->immediate) && a->n_immediate == b->n_immediate &&
             a->end_offset == b->end_offset && same_double(a->end_pct, b->end_pct);
    for (int w = 0; w < FU__COUNT; w++)
        ok = ok && same_double(a->fu[w], b->fu[w]) && a->fu_day[w] == b->fu_day[w];
    return ok;
}

static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp)
        return NULL;
    char *buf = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&buf, &len);
    int c;
    while ((c = fgetc(fp)) != EOF)
        fputc(c, out);
    fclose(fp);
    fclose(out);
    return buf;
}

/* The line of the file that starts with prefix (a whole physical line), or NULL. */
static char *line_starting(const char *text, const char *prefix)
{
    static char line[4096];
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (strncmp(p, prefix, strlen(prefix)) == 0 && len < sizeof line) {
            memcpy(line, p, len);
            line[len] = '\0';
            return line;
        }
        p = nl ? nl + 1 : NULL;
    }
    return NULL;
}

static void test_csv_roundtrip(void)
{
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    build_a(&ds);
    /* Ids and covariates that would break a naive writer or a spreadsheet. */
    addv(&ds, "=HYPERLINK(\"x\")", 0, 0, 5, NA, NA, 0);
    addv(&ds, "=HYPERLINK(\"x\")", 7, 0, 2, NA, NA, 0);
    addv(&ds, "line\nbreak", 0, 0, 6, NA, NA, 0);
    addv(&ds, "-3.5", 0, 0, 6, NA, NA, 0);
    addv(&ds, " spaced ", 0, 0, 6, NA, NA, 0);
    addv(&ds, "tab\t", 0, 0, 6, NA, NA, 0);
    addv(&ds, "'quoted", 0, 0, 6, NA, NA, 0);
    /* Texts that start with ' and a trigger: written with a second ', read back as given. */
    addv(&ds, "'=x", 0, 0, 6, NA, NA, 0);
    addv(&ds, "'-5", 0, 0, 6, NA, NA, 0);
    addv(&ds, "''=x", 0, 0, 6, NA, NA, 0);
    addv(&ds, "''-5", 0, 0, 6, NA, NA, 0);
    setcov(&ds, "line\nbreak", "=cmd|' /C calc'!A0", "a \"b\"");
    setcov(&ds, "'=x", "'@North", "'+1");
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);

    char dir[] = "/tmp/test_patient.XXXXXX";
    CHECK(mkdtemp(dir) != NULL);
    char path1[64], path2[64];
    snprintf(path1, sizeof path1, "%s/patients.csv", dir);
    snprintf(path2, sizeof path2, "%s/again.csv", dir);
    CHECK(patients_csv_write(path1, &ds, &ps, &e) == 0);

    struct patient_table pt;
    int rrc = patients_csv_read(path1, NULL, &pt, &e);
    CHECK(rrc == 0);
    if (rrc) {
        char msg[1024];
        out_error_format(&e, msg, sizeof msg);
        fprintf(stderr, "%s\n", msg);
        exit(1);
    }
    CHECK(pt.set.n == ps.n);
    CHECK(pt.set.n_patients == ps.n_patients);
    CHECK(pt.set.n_single_visit == ps.n_single_visit);
    CHECK(pt.set.n_zero_baseline == ps.n_zero_baseline);
    CHECK(pt.ds.n_cov == 2);
    CHECK_STR(pt.ds.cov_name[0], "clinic");
    size_t matched = 0;
    for (size_t i = 0; i < ps.n && pt.set.n == ps.n; i++) {
        const struct pmeasure *a = &ps.m[i];
        const struct pmeasure *b = find(&pt.set, &pt.ds, ds.patient_id[a->patient],
                                        ds.instr[a->instr]->name, a->episode);
        if (!b)
            continue;
        matched += (size_t)same_measure(a, b);
        CHECK(same_double(ps.sd_pre[a->instr], pt.set.sd_pre[b->instr]));
        /* The built-in table has the reliability: the same S_diff, so the same RCI. */
        CHECK(same_double(ps.sdiff[a->instr], pt.set.sdiff[b->instr]));
        CHECK(same_double(pm_rci(&ps, a), pm_rci(&pt.set, b)));
        for (int c = 0; c < 2; c++) {
            const char *va = dataset_cov(&ds, a->patient, c);
            const char *vb = dataset_cov(&pt.ds, b->patient, c);
            CHECK((!va && !vb) || (va && vb && strcmp(va, vb) == 0));
        }
    }
    CHECK(matched == ps.n);
    long p = -1;
    for (size_t i = 0; i < pt.ds.n_patients; i++)
        if (strcmp(pt.ds.patient_id[i], "line\nbreak") == 0)
            p = (long)i;
    CHECK(p >= 0);
    CHECK_STR(dataset_cov(&pt.ds, (size_t)p, dataset_cov_index(&pt.ds, "clinic")),
              "=cmd|' /C calc'!A0");
    CHECK_STR(dataset_cov(&pt.ds, (size_t)p, dataset_cov_index(&pt.ds, "arm")), "a \"b\"");
    long px = -1, p5 = -1, pxx = 0;
    for (size_t i = 0; i < pt.ds.n_patients; i++) {
        px = strcmp(pt.ds.patient_id[i], "'=x") == 0 ? (long)i : px;
        p5 = strcmp(pt.ds.patient_id[i], "'-5") == 0 ? (long)i : p5;
        pxx += strcmp(pt.ds.patient_id[i], "''=x") == 0 || strcmp(pt.ds.patient_id[i], "''-5") == 0;
    }
    CHECK(px >= 0 && p5 >= 0 && pxx == 2);
    if (px >= 0) {
        CHECK_STR(dataset_cov(&pt.ds, (size_t)px, dataset_cov_index(&pt.ds, "clinic")),
                  "'@North");
        CHECK_STR(dataset_cov(&pt.ds, (size_t)px, dataset_cov_index(&pt.ds, "arm")), "'+1");
    }
    CHECK(pt.ds.instr[0]->higher_better == 0 && pt.ds.instr[1]->higher_better == 1);
    CHECK_NEAR(pt.ds.instr[0]->mic, 2, 0);   /* found in the built-in table */

    /* Writing what was read gives the same bytes: nothing lost, nothing reformatted. */
    CHECK(patients_csv_write(path2, &pt.ds, &pt.set, &e) == 0);
    char *t1 = slurp(path1), *t2 = slurp(path2);
    CHECK(t1 && t2 && strcmp(t1, t2) == 0);

    /* Golden cells, written out by hand from the definitions. */
    CHECK(t1 && strncmp(t1,
                        "patient_id,episode,instrument,direction,n_visits,n_attended,"
                        "first_date,last_date,first_session,last_session,baseline,final,"
                        "change,pct,zero_baseline,resp30,resp50,resp_mic,sd_pre,rci,"
                        "rc_category,responded,sessions_to_response,days_to_response,"
                        "fu_week8,fu_week8_day,fu_week8_pct,fu_month3,fu_month3_day,"
                        "fu_month3_pct,fu_month12,fu_month12_day,fu_month12_pct,end_date,"
                        "end_pct,resp_end,resp_m12,durable,immediate,n_immediate,weeks,"
                        "sessions_per_week,clinic,arm\n",
                        strlen("patient_id,episode,instrument,direction,n_visits,n_attended,"
                               "first_date,last_date,first_session,last_session,baseline,"
                               "final,change,pct,zero_baseline,resp30,resp50,resp_mic,sd_pre,"
                               "rci,rc_category,responded,sessions_to_response,"
                               "days_to_response,fu_week8,fu_week8_day,fu_week8_pct,"
                               "fu_month3,fu_month3_day,fu_month3_pct,fu_month12,"
                               "fu_month12_day,fu_month12_pct,end_date,end_pct,resp_end,"
                               "resp_m12,durable,immediate,n_immediate,weeks,"
                               "sessions_per_week,clinic,arm\n")) == 0);
    /* dec: 3 visits 2024-01-01..2024-01-15, 8 -> 4, change 4, pct 50, all responder
     * flags 1 (sd_pre and rci depend on the whole cohort: skipped here). */
    const char *l = line_starting(t1, "dec,");
    CHECK_CONTAINS(l, "dec,1,pain,lower,3,3,2024-01-01,2024-01-15,1,3,8,4,4,50,0,1,1,1,");
    /* ... responded 1 after 2 treatments / 14 days, no follow-ups, end 2024-01-15 at 50%,
     * resp_end 1, resp_m12 and durable empty, immediate 1.5 over 2, 2 weeks, 1/week,
     * clinic North, arm acu. */
    CHECK_CONTAINS(l, ",1,2,14,,,,,,,,,,2024-01-15,50,1,,,1.5,2,2,1,North,acu");
    /* single: final, change, pct, flags and RCI empty; sessions/week empty; both
     * covariates missing. */
    l = line_starting(t1, "single,");
    CHECK_CONTAINS(l, "single,1,pain,lower,1,1,2024-01-01,2024-01-01,1,1,5,,,,0,,,,");
    CHECK_CONTAINS(l, ",2024-01-01,,,,,1,1,0,,,");
    /* zero: pct empty, zero_baseline 1, resp30/resp50 empty, resp_mic 0. */
    CHECK_CONTAINS(line_starting(t1, "zero,"), "zero,1,pain,lower,2,2,2024-01-01,2024-01-08,"
                                               "1,2,0,2,-2,,1,,,0,");
    /* relapse: month-12 visit on day 365 = 2024-12-31 (2024 is a leap year), 7 points,
     * 12.5%; end of course 2024-02-26 (day 56) at 62.5%; resp_end 1, resp_m12 0, durable 0. */
    CHECK_CONTAINS(line_starting(t1, "relapse,"), ",7,365,12.5,2024-02-26,62.5,1,0,0,");
    /* Sleep is higher-is-better; the RCI is 3*sqrt(5) = 6.7082039324993690... (the last
     * digits depend on how the product was rounded, so only 13 are checked). */
    CHECK_CONTAINS(line_starting(t1, "sleepy,"), "sleepy,1,sleep,higher,3,3,");
    CHECK_CONTAINS(line_starting(t1, "sleepy,"), ",6.708203932499");
    CHECK_CONTAINS(line_starting(t1, "sleepy,"), ",improved,");
    /* Escaping: formula prefix, doubled quotes, quoted newline; covariate likewise. */
    CHECK(line_starting(t1, "\"'=HYPERLINK(\"\"x\"\")\",1,pain,") != NULL);
    CHECK(line_starting(t1, "\"line") != NULL);
    CHECK(line_starting(t1, "break\",1,pain,") != NULL);
    CHECK_CONTAINS(line_starting(t1, "break\","), ",\"'=cmd|' /C calc'!A0\",\"a \"\"b\"\"\"");
    CHECK(line_starting(t1, "-3.5,1,pain") != NULL);
    CHECK(line_starting(t1, "\" spaced \",1,pain") != NULL);
    /* Never nan or inf anywhere. */
    CHECK(t1 && !strstr(t1, "nan") && !strstr(t1, "inf") && !strstr(t1, "NAN"));

    free(t1);
    free(t2);
    patient_table_free(&pt);
    patient_table_free(&pt);   /* harmless twice */
    patient_table_free(NULL);
    unlink(path1);
    unlink(path2);
    rmdir(dir);
    patient_set_free(&ps);
    dataset_free(&ds);
}

/* ---- the writer against a reference written from docs/patients-csv.md -------------------
 * patients_csv_write_fp builds rows in its own buffer, caches each patient's escaped id and
 * covariates, each instrument's text and recent dates. The reference below writes the same
 * file the plain way, cell by cell through stdio and esc_csv, straight from the format's
 * rules; the two must agree byte for byte on measures no computation would produce: every
 * kind of double (NaN, inf, -0, whole numbers on both sides of 2^53, 16-17 digits), negative
 * and extreme integers, dates far apart that share a slot of the date cache, ids and
 * covariates full of quotes, commas, newlines and formula triggers, fields larger than the
 * writer's buffer, and a patient whose rows are not together. */

static uint64_t rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ULL;
}

static void ref_double(FILE *fp, double x)
{
    char b[DATASET_NUM_MAX];
    if (!isfinite(x))
        return;   /* missing: an empty cell */
    if (x == 0) {
        fputc('0', fp);   /* -0 too */
        return;
    }
    if (fabs(x) < 9007199254740992.0 && x == trunc(x)) {   /* exact as an integer */
        fprintf(fp, "%lld", (long long)x);
        return;
    }
    snprintf(b, sizeof b, "%.15g", x);
    if (strtod(b, NULL) != x)
        snprintf(b, sizeof b, "%.17g", x);
    fputs(b, fp);
}

static void ref_opt(FILE *fp, long v)
{
    if (v >= 0)
        fprintf(fp, "%ld", v);
}

static void ref_date(FILE *fp, int32_t day)
{
    char b[11];
    civil_format(day, b);
    fputs(b, fp);
}

/* The computed columns from their definitions in docs/patients-csv.md, with the direction
 * taken from the instrument (the writer uses the record's own bit). */
static double ref_pct(const struct instrument *in, double base, double x)
{
    if (base == 0)
        return NAN;
    double change = in->higher_better ? x - base : base - x;
    return 100 * change / fabs(base);
}

static int ref_flag(double pct, double thr)
{
    return isnan(pct) ? -1 : pct >= thr - 1e-9;
}

static void ref_write(FILE *fp, const struct dataset *ds, const struct patient_set *ps)
{
    fputs("patient_id,episode,instrument,direction,n_visits,n_attended,first_date,last_date,"
          "first_session,last_session,baseline,final,change,pct,zero_baseline,resp30,resp50,"
          "resp_mic,sd_pre,rci,rc_category,responded,sessions_to_response,days_to_response,"
          "fu_week8,fu_week8_day,fu_week8_pct,fu_month3,fu_month3_day,fu_month3_pct,"
          "fu_month12,fu_month12_day,fu_month12_pct,end_date,end_pct,resp_end,resp_m12,"
          "durable,immediate,n_immediate,weeks,sessions_per_week", fp);
    for (size_t c = 0; c < ds->n_cov; c++) {
        fputc(',', fp);
        esc_csv(fp, ds->cov_name[c]);
    }
    fputc('\n', fp);
    for (size_t i = 0; i < ps->n; i++) {
        const struct pmeasure *m = &ps->m[i];
        const struct instrument *in = ds->instr[m->instr];
        esc_csv(fp, ds->patient_id[m->patient]);
        fprintf(fp, ",%u,", (unsigned)m->episode);
        esc_csv(fp, in->name);
        fprintf(fp, ",%s,%d,%d,", in->higher_better ? "higher" : "lower", m->n_visits,
                m->n_attended);
        ref_date(fp, m->first_day);
        fputc(',', fp);
        ref_date(fp, m->last_day);
        fprintf(fp, ",%d,%d,", m->first_session, m->last_session);
        ref_double(fp, m->baseline);
        fputc(',', fp);
        ref_double(fp, m->final);
        fputc(',', fp);
        double change = in->higher_better ? m->final - m->baseline : m->baseline - m->final;
        ref_double(fp, change);
        fputc(',', fp);
        double pct = ref_pct(in, m->baseline, m->final);
        ref_double(fp, pct);
        fprintf(fp, ",%d,", m->n_visits >= 2 && m->baseline == 0);
        ref_opt(fp, ref_flag(pct, 30));
        fputc(',', fp);
        ref_opt(fp, ref_flag(pct, 50));
        fputc(',', fp);
        ref_opt(fp, m->resp_mic);
        fputc(',', fp);
        if (m->instr < ps->n_instr)
            ref_double(fp, ps->sd_pre[m->instr]);
        fputc(',', fp);
        /* RCI = change / S_diff; only the instruments the set covers have an S_diff. */
        ref_double(fp, m->instr < ps->n_instr ? change / ps->sdiff[m->instr] : NAN);
        fprintf(fp, ",%s,%d,", rc_category_name(m->rc_cat), m->responded);
        ref_opt(fp, m->sessions_to_response);
        fputc(',', fp);
        ref_opt(fp, m->days_to_response);
        for (int w = 0; w < FU__COUNT; w++) {
            fputc(',', fp);
            ref_double(fp, m->fu[w]);
            fputc(',', fp);
            ref_opt(fp, m->fu_day[w]);
            fputc(',', fp);
            ref_double(fp, ref_pct(in, m->baseline, m->fu[w]));
        }
        fputc(',', fp);
        ref_date(fp, m->first_day + m->end_offset);
        fputc(',', fp);
        ref_double(fp, m->end_pct);
        int resp_end = ref_flag(m->end_pct, 30);
        int resp_m12 = ref_flag(ref_pct(in, m->baseline, m->fu[FU_MONTH12]), 30);
        fputc(',', fp);
        ref_opt(fp, resp_end);
        fputc(',', fp);
        ref_opt(fp, resp_m12);
        fputc(',', fp);
        ref_opt(fp, resp_end >= 0 && resp_m12 >= 0 ? resp_end && resp_m12 : -1);
        fputc(',', fp);
        ref_double(fp, m->immediate);
        fprintf(fp, ",%d,", m->n_immediate);
        double weeks = (m->last_day - m->first_day) / 7.0;
        ref_double(fp, weeks);
        fputc(',', fp);
        ref_double(fp, weeks > 0 ? (m->n_visits - 1) / weeks : NAN);
        for (size_t c = 0; c < ds->n_cov; c++) {
            const char *v = dataset_cov(ds, m->patient, (int)c);
            fputc(',', fp);
            if (v)
                esc_csv(fp, v);
        }
        fputc('\n', fp);
    }
}

static double rnd_double(uint64_t *s)
{
    static const double tens[] = {1, 10, 100, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8};
    double sign = rng(s) & 1 ? -1 : 1;
    switch (rng(s) % 10) {
    case 0: return NAN;
    case 1: return sign * INFINITY;
    case 2: return sign * 0.0;
    case 3: return (double)(rng(s) % 140) - 20;
    case 4: return sign * (9007199254740992.0 + (double)(rng(s) % 5) - 2);   /* 2^53 +- 2 */
    case 5: return sign * floor((double)(rng(s) >> 11));                     /* up to 2^53 */
    case 6: {
        uint64_t bits = rng(s);
        double v;
        memcpy(&v, &bits, sizeof v);
        return v;
    }
    case 7: return 100.0 * (double)(rng(s) % 60) / (double)(1 + rng(s) % 40);
    case 8: return sign * (double)(rng(s) % 100000000) / tens[rng(s) % 9];
    default: return nextafter((double)(rng(s) % 1000) / 8.0, sign * HUGE_VAL);
    }
}

static int rnd_int(uint64_t *s)
{
    switch (rng(s) % 6) {
    case 0: return -1;
    case 1: return rng(s) & 1 ? INT_MAX : INT_MIN;
    case 2: return (int)(int32_t)(uint32_t)rng(s);
    default: return (int)(rng(s) % 40);
    }
}

/* The narrow members take every value their type holds, -1 and the extremes included. */
static uint16_t rnd_u16(uint64_t *s)
{
    switch (rng(s) % 4) {
    case 0: return UINT16_MAX;
    case 1: return (uint16_t)rng(s);
    default: return (uint16_t)(rng(s) % 40);
    }
}

static int16_t rnd_i16(uint64_t *s)
{
    switch (rng(s) % 5) {
    case 0: return -1;
    case 1: return rng(s) & 1 ? INT16_MAX : INT16_MIN;
    case 2: return (int16_t)(uint16_t)rng(s);
    default: return (int16_t)(rng(s) % 400);
    }
}

static int8_t rnd_flag(uint64_t *s)
{
    return (int8_t)((int)(rng(s) % 3) - 1);
}

/* Dates around 2024, and some 1024 days apart (the same slot of the writer's date cache),
 * and some centuries away (years clamped to 0000-9999). */
static int32_t rnd_day(uint64_t *s)
{
    switch (rng(s) % 4) {
    case 0: return D0 + 1024 * (int32_t)(rng(s) % 8) - 4096;
    case 1: return (int32_t)(rng(s) % 5000000) - 1500000;
    default: return D0 + (int32_t)(rng(s) % 900);
    }
}

/* Text that esc_csv treats every way: plain, quoted, doubled quotes, formula prefix, plain
 * numbers left alone, leading and trailing spaces. */
static void rnd_text(uint64_t *s, char *buf, size_t n, const char *middle)
{
    static const char alpha[] = "=+-@\t\r'\" ,\naZ09.eE";
    size_t len = rng(s) % 5, k = 0;
    for (size_t i = 0; i < len && k + 1 < n; i++)
        buf[k++] = alpha[rng(s) % (sizeof alpha - 1)];
    for (const char *p = middle; *p && k + 1 < n; p++)
        buf[k++] = *p;
    len = rng(s) % 3;
    for (size_t i = 0; i < len && k + 1 < n; i++)
        buf[k++] = alpha[rng(s) % (sizeof alpha - 1)];
    buf[k] = '\0';
}

static char *big_text(size_t n, char fill)
{
    char *t = malloc(n + 1);
    if (!t)
        exit(2);
    for (size_t i = 0; i < n; i++)
        t[i] = i % 97 == 0 ? '"' : i % 89 == 0 ? ',' : fill;
    t[n] = '\0';
    return t;
}

static void build_writer_case(struct dataset *ds, struct patient_set *ps)
{
    struct instrument_table tab = builtin;
    struct instrument odd = {0};
    snprintf(odd.name, sizeof odd.name, "%s", "=odd, \"name\"");
    snprintf(odd.label, sizeof odd.label, "%s", "odd");
    odd.min = 0;
    odd.max = 10;
    odd.higher_better = 1;
    odd.mic = odd.reliability = odd.cutoff = NAN;
    static const char *const instr[] = {"pain", "sleep", "=odd, \"name\""};
    static const char *const covs[] = {"clinic", "=cov,2", " padded "};
    dataset_init(ds);
    if (instrument_table_add(&tab, &odd) || dataset_set_instruments(ds, &tab, instr, 3) ||
        dataset_set_covariates(ds, covs, 3))
        exit(2);
    uint64_t s = 2026;
    enum { NP = 3000 };
    char id[64], val[64];
    for (size_t p = 0; p < NP; p++) {
        char mid[16];
        snprintf(mid, sizeof mid, "%zu", p);
        rnd_text(&s, id, sizeof id, mid);
        char *big = p == 7 ? big_text(100000, 'x') : NULL;
        long ip = dataset_patient(ds, big ? big : id);
        free(big);
        if (ip < 0 || (size_t)ip != p)
            exit(2);
        for (size_t c = 0; c < 3; c++) {
            if (rng(&s) % 5 == 0)
                continue;   /* missing */
            rnd_text(&s, val, sizeof val, rng(&s) & 1 ? "North" : "");
            char *bigv = p == 11 && c == 1 ? big_text(70000, 'y') : NULL;
            long iv = dataset_cov_intern(ds, bigv ? bigv : val);
            free(bigv);
            if (iv < 0)
                exit(2);
            ds->cov_value[p * 3 + c] = (uint32_t)iv;
        }
    }
    memset(ps, 0, sizeof *ps);
    ps->cap = NP * 4 + 8;
    ps->m = calloc(ps->cap, sizeof *ps->m);
    if (!ps->m)
        exit(2);
    for (size_t p = 0; p < NP; p++) {
        size_t rows = 1 + rng(&s) % 4;
        for (size_t r = 0; r < rows; r++) {
            struct pmeasure *m = &ps->m[ps->n++];
            /* patient 5's last row comes again after patient 6 */
            m->patient = (uint32_t)(p == 6 && r == 0 ? 5 : p);
            m->instr = (uint8_t)(rng(&s) % 3);
            m->higher_better = m->instr != 0;   /* pain lower, sleep and odd higher */
            m->episode = (uint16_t)(1 + rng(&s) % 70000);
            m->n_visits = rnd_u16(&s);
            m->n_attended = rnd_u16(&s);
            m->first_day = rnd_day(&s);
            m->last_day = rnd_day(&s);
            m->first_session = rnd_int(&s);
            m->last_session = rnd_int(&s);
            m->baseline = rnd_double(&s);
            m->final = rnd_double(&s);
            m->resp_mic = rnd_flag(&s);
            static const int rcs[] = {RC_DETERIORATED, RC_UNCHANGED, RC_IMPROVED,
                                      RC_RECOVERED, RC_UNKNOWN};
            m->rc_cat = (int8_t)rcs[rng(&s) % 5];
            m->responded = rng(&s) & 1;
            m->sessions_to_response = rnd_int(&s);
            m->days_to_response = rnd_int(&s);
            for (int w = 0; w < FU__COUNT; w++) {
                m->fu[w] = rnd_double(&s);
                m->fu_day[w] = rnd_i16(&s);
            }
            m->end_offset = rnd_i16(&s);
            m->end_pct = rnd_double(&s);
            m->immediate = rnd_double(&s);
            m->n_immediate = rnd_u16(&s);
        }
    }
    /* sd_pre: a long decimal for pain, -0 (written 0) for sleep; the odd instrument is
     * beyond n_instr, so its cells (sd_pre, rci) are empty. S_diff: a long decimal for pain
     * (RCIs of 16-17 digits), 0.5 for sleep (RCIs twice the change: whole numbers past
     * 2^53, -0, and inf or NaN, empty, from changes such as inf - inf). */
    ps->n_instr = 2;
    ps->sd_pre[0] = 1.8357415990568116;
    ps->sd_pre[1] = -0.0;
    ps->sd_pre[2] = 3;
    ps->sdiff[0] = 0.9512376019224031;
    ps->sdiff[1] = 0.5;
    ps->sdiff[2] = 3;
}

struct mem_out {
    char *buf;
    size_t len;
    int rc;
};

static void write_mem(const struct dataset *ds, const struct patient_set *ps, int ref,
                      struct mem_out *o)
{
    o->buf = NULL;
    o->len = 0;
    FILE *fp = open_memstream(&o->buf, &o->len);
    if (!fp)
        exit(2);
    o->rc = 0;
    if (ref)
        ref_write(fp, ds, ps);
    else
        o->rc = patients_csv_write_fp(fp, ds, ps);
    if (fclose(fp) != 0)
        o->rc = -1;
}

static int same_output(const struct mem_out *a, const struct mem_out *b)
{
    if (a->len == b->len && memcmp(a->buf, b->buf, a->len) == 0)
        return 1;
    size_t i = 0;
    while (i < a->len && i < b->len && a->buf[i] == b->buf[i])
        i++;
    size_t from = i > 60 ? i - 60 : 0;
    fprintf(stderr, "  outputs differ at byte %zu (lengths %zu, %zu):\n  got  ...%.80s\n"
            "  want ...%.80s\n", i, a->len, b->len, a->buf + from, b->buf + from);
    return 0;
}

static void test_writer_reference(void)
{
    struct dataset ds;
    struct patient_set ps;
    build_writer_case(&ds, &ps);
    struct mem_out got, want;
    write_mem(&ds, &ps, 0, &got);
    write_mem(&ds, &ps, 1, &want);
    CHECK(got.rc == 0);
    CHECK(got.len > 1000000);   /* many blocks, not one */
    CHECK(same_output(&got, &want));
    free(got.buf);
    free(want.buf);

    /* A full disk is reported, not ignored. */
    FILE *full = fopen("/dev/full", "w");
    CHECK(full != NULL);
    if (full) {
        CHECK(patients_csv_write_fp(full, &ds, &ps) == -1);
        fclose(full);
    }
    patient_set_free(&ps);
    dataset_free(&ds);
}

/* The lead writes patients.csv on a second thread while the cohort statistics run: two
 * writers at once over the same dataset and patient set give the reference's bytes. */
struct writer_job {
    const struct dataset *ds;
    const struct patient_set *ps;
    struct mem_out out;
};

static void *writer_run(void *arg)
{
    struct writer_job *j = arg;
    write_mem(j->ds, j->ps, 0, &j->out);
    return NULL;
}

static void test_writer_threads(void)
{
    struct dataset ds;
    struct patient_set ps;
    build_writer_case(&ds, &ps);
    struct mem_out want;
    write_mem(&ds, &ps, 1, &want);
    struct writer_job j[2] = {{&ds, &ps, {0}}, {&ds, &ps, {0}}};
    for (int round = 0; round < 8; round++) {
        pthread_t th;
        int started = pthread_create(&th, NULL, writer_run, &j[1]) == 0;
        CHECK(started);
        writer_run(&j[0]);
        if (started)
            pthread_join(th, NULL);
        for (int t = 0; t < 2; t++) {
            CHECK(j[t].out.rc == 0);
            CHECK(same_output(&j[t].out, &want));
            free(j[t].out.buf);
        }
    }
    free(want.buf);
    patient_set_free(&ps);
    dataset_free(&ds);
}

/* ---- the RCI's S_diff, found again by the reader -----------------------------------------
 * patients.csv holds each row's rci but not the S_diff they share per instrument, and the
 * reader's instrument table may not give it (no reliability, or another one than the run's).
 * Whatever the table, writing what was read must give the same bytes. */

static void write_text(const struct dataset *ds, const struct patient_set *ps, char **buf)
{
    size_t len = 0;
    FILE *fp = open_memstream(buf, &len);
    if (!fp || patients_csv_write_fp(fp, ds, ps) != 0)
        exit(2);
    fclose(fp);
}

/* Read text with table tab, write it again: the same bytes. Returns 1 when they are. */
static int rewrites_same(const char *text, const struct instrument_table *tab)
{
    struct patient_table pt;
    struct out_error e = {0};
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    if (!fp)
        exit(2);
    int rc = patients_csv_read_fp(fp, "p.csv", tab, &pt, &e);
    fclose(fp);
    if (rc) {
        fprintf(stderr, "  read: %ld:%ld: %s\n", e.line, e.col, e.msg);
        return 0;
    }
    char *again = NULL;
    write_text(&pt.ds, &pt.set, &again);
    int same = strcmp(text, again) == 0;
    if (!same) {
        size_t i = 0;
        while (text[i] && text[i] == again[i])
            i++;
        fprintf(stderr, "  rewrite differs at byte %zu: ...%.60s\n", i, again + i);
    }
    free(again);
    patient_table_free(&pt);
    return same;
}

static void test_csv_sdiff(void)
{
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    build_a(&ds);
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    CHECK(isfinite(ps.sdiff[0]) && isfinite(ps.sdiff[1]));   /* both have an RCI */
    char *text = NULL;
    write_text(&ds, &ps, &text);
    patient_set_free(&ps);
    dataset_free(&ds);

    /* The run's table; one without any reliability; one with other reliabilities. */
    struct instrument_table none = builtin, other = builtin;
    for (size_t k = 0; k < none.n; k++) {
        none.item[k].reliability = NAN;
        other.item[k].reliability = 0.5;
    }
    CHECK(rewrites_same(text, &builtin));
    CHECK(rewrites_same(text, &none));
    CHECK(rewrites_same(text, &other));
    free(text);

    /* Random S_diffs, far from anything sd_pre and a reliability would give, and just
     * either side of powers of two (where c/rci may land a few ulps off), over changes of
     * scores in tenths; one instrument the built-in table knows (pain: its S_diff is wrong
     * here), one it does not (a placeholder without reliability). Some rows are single
     * visits, some unchanged. */
    struct instrument_table tab = builtin;
    struct instrument vit = {"vit", "Vitality", 0, 100, 1, NAN, 0.9, NAN};
    if (instrument_table_add(&tab, &vit))
        exit(2);
    static const char *const instr[] = {"pain", "vit"};
    uint64_t seed = 99;
    int bad = 0;
    for (int round = 0; round < 400; round++) {
        dataset_init(&ds);
        if (dataset_set_instruments(&ds, &tab, instr, 2))
            exit(2);
        memset(&ps, 0, sizeof ps);
        enum { NP = 40 };
        ps.cap = 2 * NP;
        ps.m = calloc(ps.cap, sizeof *ps.m);
        if (!ps.m)
            exit(2);
        for (uint32_t p = 0; p < NP; p++) {
            char id[16];
            snprintf(id, sizeof id, "p%u", (unsigned)p);
            if (dataset_patient(&ds, id) != (long)p)
                exit(2);
            for (int k = 0; k < 2; k++) {
                double b = (double)(rng(&seed) % 1001) / 10.0;
                int kind = (int)(rng(&seed) % 8);
                double f = kind == 0 ? NA : kind == 1 ? b : (double)(rng(&seed) % 1001) / 10.0;
                struct pmeasure m = hand(k == 1, b, f, isnan(f) ? 1 : 2, isnan(f) ? 0 : 7);
                m.patient = p;
                m.instr = (uint8_t)k;
                m.episode = 1;
                m.first_session = 1;
                m.last_session = m.n_visits;
                m.sessions_to_response = m.days_to_response = -1;
                m.resp_mic = -1;
                m.rc_cat = RC_UNKNOWN;
                ps.m[ps.n++] = m;
            }
        }
        ps.n_patients = NP;
        ps.n_instr = 2;
        for (int k = 0; k < 2; k++) {
            int ex = (int)(rng(&seed) % 61) - 30;
            double mant = 1 + (double)(rng(&seed) >> 12) / 4503599627370496.0;   /* [1, 2) */
            switch (rng(&seed) % 4) {
            case 0: mant = 1; break;                        /* a power of two */
            case 1: mant = nextafter(2, 0); break;          /* just below one */
            case 2: mant = nextafter(1, 2); break;          /* just above one */
            default: break;
            }
            ps.sd_pre[k] = 2;
            ps.sdiff[k] = ldexp(mant, ex);
        }
        write_text(&ds, &ps, &text);
        bad += !rewrites_same(text, &builtin);
        free(text);
        patient_set_free(&ps);
        dataset_free(&ds);
    }
    CHECK(bad == 0);
}

/* Write a small file to memory: header, a patient whose id spans lines 2-3, then "c". */
static char *small_csv(void)
{
    static const char *const instr[] = {"pain", "sleep"};
    static const char *const covs[] = {"clinic", "arm"};
    struct dataset ds;
    struct patient_set ps;
    struct out_error e = {0};
    dataset_init(&ds);
    if (dataset_set_instruments(&ds, &builtin, instr, 2) || dataset_set_covariates(&ds, covs, 2))
        exit(2);
    addv(&ds, "a\nb", 0, 0, 6, NA, NA, 0);
    addv(&ds, "a\nb", 7, 0, 3, NA, NA, 0);
    addv(&ds, "c", 0, 0, 8, 4, NA, 0);
    addv(&ds, "c", 7, 0, 4, 6, NA, 0);
    setcov(&ds, "c", "North", "acu");
    if (patient_compute(&ds, NULL, &ps, &e))
        exit(2);
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    if (!fp || patients_csv_write_fp(fp, &ds, &ps) != 0)
        exit(2);
    fclose(fp);
    patient_set_free(&ps);
    dataset_free(&ds);
    return buf;
}

/* Replace the first occurrence of from with to; returns a new string. */
static char *replace(const char *s, const char *from, const char *to)
{
    const char *at = strstr(s, from);
    if (!at)
        return NULL;
    size_t n = strlen(s) - strlen(from) + strlen(to) + 1;
    char *out = malloc(n);
    if (!out)
        return NULL;
    snprintf(out, n, "%.*s%s%s", (int)(at - s), s, to, at + strlen(from));
    return out;
}

static int read_text(const char *text, struct patient_table *pt, struct out_error *e)
{
    FILE *fp = fmemopen((void *)text, strlen(text), "r");
    if (!fp)
        exit(2);
    int rc = patients_csv_read_fp(fp, "p.csv", NULL, pt, e);
    fclose(fp);
    return rc;
}

/* Replace field (1-based) of the line that starts with prefix, in a file whose fields on
 * that line are not quoted; returns a new string. */
static char *replace_field(const char *s, const char *prefix, int field, const char *to)
{
    const char *at = strstr(s, prefix);
    for (int f = 1; at && f < field; f++)
        at = (at = strchr(at, ',')) ? at + 1 : NULL;
    if (!at)
        return NULL;
    size_t keep = (size_t)(at - s), len = strcspn(at, ",\n");
    size_t n = strlen(s) - len + strlen(to) + 1;
    char *out = malloc(n);
    if (!out)
        return NULL;
    snprintf(out, n, "%.*s%s%s", (int)keep, s, to, at + len);
    return out;
}

/* Expect a read error at line:col; the table must come back empty. */
static void expect_error(const char *text, long line, long col, const char *needle)
{
    struct patient_table pt;
    struct out_error e = {0};
    CHECK(text != NULL);
    if (!text)
        return;
    CHECK(read_text(text, &pt, &e) == OUT_EINPUT);
    CHECK(e.line == line);
    CHECK(e.col == col);
    CHECK_CONTAINS(e.msg, needle);
    CHECK(pt.set.n == 0 && pt.set.m == NULL && pt.ds.n_patients == 0);
    if (e.line != line || e.col != col)
        fprintf(stderr, "  got %ld:%ld: %s\n", e.line, e.col, e.msg);
}

static void test_csv_errors(void)
{
    char *good = small_csv();
    struct patient_table pt;
    struct out_error e = {0};

    /* The file itself reads: 3 rows (a\nb pain; c pain and sleep), 2 patients. */
    CHECK(read_text(good, &pt, &e) == 0);
    CHECK(pt.set.n == 3 && pt.set.n_patients == 2);
    patient_table_free(&pt);

    /* Line 4 is c's pain row (the header is line 1, "a\nb" spans lines 2 and 3). */
    char *s = replace(good, "c,1,pain,lower,2,2,2024-01-01", "c,1,pain,lower,2,2,2025-02-29");
    expect_error(s, 4, 7, "first_date: invalid value");
    free(s);
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,nan,");
    expect_error(s, 4, 14, "pct: invalid value");
    free(s);
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,0x32,");
    expect_error(s, 4, 14, "pct: invalid value");
    free(s);
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,5 0,");
    expect_error(s, 4, 14, "pct: invalid value");
    free(s);
    /* An empty baseline is missing, and the baseline may never be missing. */
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,,");
    expect_error(s, 4, 11, "baseline: invalid value");
    free(s);
    s = replace(good, "c,1,pain,lower", "c,1,pain,sideways");
    expect_error(s, 4, 4, "direction: invalid value");
    free(s);
    /* Flags are 0, 1 or empty as written: 01 and +1 once read as 1, and a rewrite of such
     * a file was not the file. Integers likewise as %ld writes them: c's n_visits is 2,
     * and "+2", "02" and "2 " are not; an optional count written "-0" is not -1 or 0
     * either. Columns: 2 episode, 5 n_visits, 16 resp30, 22 responded, 23
     * sessions_to_response. */
    static const struct {
        int col;
        const char *cell, *want;
    } not_as_written[] = {
        {16, "01", "resp30: invalid value"},   {22, "+1", "responded: invalid value"},
        {5, "+2", "n_visits: invalid value"},  {5, "02", "n_visits: invalid value"},
        {5, "2 ", "n_visits: invalid value"},  {23, "-0", "sessions_to_response: invalid value"},
        {2, "01", "episode: invalid value"},
    };
    for (size_t i = 0; i < sizeof not_as_written / sizeof not_as_written[0]; i++) {
        s = replace_field(good, "c,1,pain,lower", not_as_written[i].col, not_as_written[i].cell);
        expect_error(s, 4, not_as_written[i].col, not_as_written[i].want);
        free(s);
    }
    /* c's sleep row, 4 -> 6, as a lower-is-better instrument would have it (change -2,
     * pct -50, not a responder): the row is consistent, the table disagrees. */
    s = replace(good, "c,1,sleep,higher,2,2,2024-01-01,2024-01-08,1,2,4,6,2,50,0,1,1,",
                "c,1,sleep,lower,2,2,2024-01-01,2024-01-08,1,2,4,6,-2,-50,0,0,0,");
    expect_error(s, 0, 0, "instrument table says otherwise");
    free(s);
    /* Computed cells must say what the stored ones give (c's pain row: 8 -> 4, lower is
     * better: change 4, pct 50, baseline not 0; end of course 2024-01-08, 1 week). */
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,5,50,");
    expect_error(s, 4, 13, "change: not what the row's stored cells give");
    free(s);
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,49.999999999999993,");
    expect_error(s, 4, 14, "pct: not what the row's stored cells give");
    free(s);
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,0,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,1,");
    expect_error(s, 4, 15, "zero_baseline: not what the row's stored cells give");
    free(s);
    s = replace(good, ",0,1,1,North", ",0,1.5,1,North");
    expect_error(s, 4, 41, "weeks: not what the row's stored cells give");
    free(s);
    /* The rci cells of an instrument share one S_diff: c's pain RCI (column 20) made 5
     * no longer is change 4 over the S_diff that gives a\nb's; a RCI on a single visit is
     * over nothing. */
    s = replace_field(good, "c,1,pain,", 20, "5");
    expect_error(s, 4, 20, "rci: not change / S_diff with one S_diff");
    free(s);
    s = replace_field(good, "c,1,sleep,", 20, "1");
    expect_error(s, 5, 20, "rci: not change / S_diff with one S_diff");
    free(s);
    /* Stored narrow: at most 65535 visits (patient.h), an end of course not before the
     * baseline. */
    s = replace(good, "c,1,pain,lower,2,2,", "c,1,pain,lower,65536,2,");
    expect_error(s, 4, 5, "n_visits: invalid value");
    free(s);
    s = replace(good, ",,2024-01-08,50,1,,,,0,1,1,North", ",,2023-12-31,50,1,,,,0,1,1,North");
    expect_error(s, 4, 34, "end_date: invalid value");
    free(s);
    s = replace(good, "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,0,1,1,",
                "c,1,pain,lower,2,2,2024-01-01,2024-01-08,1,2,8,4,4,50,0,1,2,");
    expect_error(s, 4, 17, "resp50: invalid value");
    free(s);
    /* Covariates must agree across one patient's rows (c's sleep row is line 5). */
    {
        const char *row = strstr(good, "c,1,sleep");
        char *bad = row ? replace(row, "North", "South") : NULL;
        char *t = bad ? malloc(strlen(good) + 8) : NULL;
        if (t) {
            snprintf(t, strlen(good) + 8, "%.*s%s", (int)(row - good), good, bad);
            expect_error(t, 5, 43, "covariate differs");
        }
        free(t);
        free(bad);
    }
    /* Wrong number of fields, appended as line 6. */
    size_t n = strlen(good) + 64;
    char *t = malloc(n);
    snprintf(t, n, "%sc,1,pain\n", good);
    expect_error(t, 6, 0, "3 fields, the header has 44");
    /* A duplicate of c's pain row, appended as line 6. */
    const char *crow = strstr(good, "c,1,pain");
    const char *cend = strchr(crow, '\n');
    free(t);
    n = strlen(good) + (size_t)(cend - crow) + 2;
    t = malloc(n);
    snprintf(t, n, "%s%.*s\n", good, (int)(cend - crow + 0), crow);
    expect_error(t, 6, 0, "duplicate row for patient 'c', episode 1, instrument pain");
    free(t);
    /* Unterminated quote at the end of the file (line 6). */
    n = strlen(good) + 16;
    t = malloc(n);
    snprintf(t, n, "%s\"open", good);
    expect_error(t, 6, 0, "unterminated quoted field");
    free(t);
    /* A stray quote inside an unquoted field (strict mode), line 4, field 1. */
    s = replace(good, "c,1,pain", "c\"x,1,pain");
    expect_error(s, 4, 1, "malformed CSV");
    free(s);
    /* Not our header: a BOM glued to the first name, a renamed column, too few columns. */
    n = strlen(good) + 4;
    t = malloc(n);
    snprintf(t, n, "\xEF\xBB\xBF%s", good);
    expect_error(t, 1, 1, "column 1 should be 'patient_id'");
    free(t);
    s = replace(good, ",pct,", ",percent,");
    expect_error(s, 1, 14, "column 14 should be 'pct'");
    free(s);
    expect_error("patient_id,episode\n", 1, 0, "too few columns");
    s = replace(good, ",clinic,arm", ",clinic,clinic");
    expect_error(s, 1, 44, "duplicate covariate column");
    free(s);
    /* An empty file is an error, a header alone is an empty table. */
    CHECK(read_text("", &pt, &e) == OUT_EINPUT);
    CHECK_CONTAINS(e.msg, "empty file");
    const char *nl = strchr(good, '\n');
    n = (size_t)(nl - good) + 2;
    t = malloc(n);
    snprintf(t, n, "%.*s", (int)(nl - good + 1), good);
    CHECK(read_text(t, &pt, &e) == 0);
    CHECK(pt.set.n == 0 && pt.ds.n_cov == 2);
    patient_table_free(&pt);
    free(t);
    /* CRLF line ends read the same. */
    {
        size_t len = strlen(good);
        char *crlf = malloc(2 * len + 1), *q = crlf;
        int inq = 0;
        for (const char *c = good; *c; c++) {
            if (*c == '"')
                inq = !inq;
            if (*c == '\n' && !inq)
                *q++ = '\r';
            *q++ = *c;
        }
        *q = '\0';
        CHECK(read_text(crlf, &pt, &e) == 0);
        CHECK(pt.set.n == 3);
        patient_table_free(&pt);
        free(crlf);
    }
    /* An instrument the table does not know gets a placeholder with the file's direction. */
    s = replace(good, "c,1,sleep,higher", "c,1,vitality,higher");
    CHECK(s && read_text(s, &pt, &e) == 0);
    CHECK(pt.ds.n_instr == 2);
    CHECK_STR(pt.ds.instr[1]->name, "vitality");
    CHECK(pt.ds.instr[1]->higher_better == 1 && isnan(pt.ds.instr[1]->mic));
    patient_table_free(&pt);
    free(s);
    /* libcsv has no field limit (pitfalls.md): the reader caps a field at 1 MiB + 4 KiB, the
     * longest ingest can give it. An id of 1,000,000 bytes (within ingest's 1 MiB record)
     * still reads; a stray quote before 2 MB of lines stops at the cap with its own message,
     * about 1 MiB into the runaway field, not at the end of the file. */
    {
        size_t big = 1000000;
        char *id = malloc(big + 1);
        CHECK(id != NULL);
        if (id) {
            memset(id, 'q', big);
            id[big] = '\0';
            char *from = malloc(big + 8);
            char *longer = NULL;
            if (from) {
                snprintf(from, big + 8, "\n%s,", id);
                char *u = replace(good, "\nc,", from);
                longer = u ? replace(u, "\nc,", from) : NULL;   /* c has two rows */
                free(u);
            }
            CHECK(longer && read_text(longer, &pt, &e) == 0);
            CHECK(pt.ds.n_patients == 2 && strlen(pt.ds.patient_id[1]) == big);
            patient_table_free(&pt);
            free(longer);
            free(from);
            free(id);
        }
        size_t lines = 210, width = 10000;
        size_t glen = strlen(good);
        char *stray = malloc(glen + 1 + lines * width + 1 + 4);   /* + room for "d,1," */
        CHECK(stray != NULL);
        if (stray) {
            memcpy(stray, good, glen);
            char *w = stray + glen;
            *w++ = '"';
            for (size_t i = 0; i < lines; i++) {
                memset(w, 'x', width - 1);
                w[width - 1] = '\n';
                w += width;
            }
            *w = '\0';
            CHECK(read_text(stray, &pt, &e) == OUT_EINPUT);
            CHECK_CONTAINS(e.msg, "a field longer than 1 MiB (a stray quote?)");
            /* the file's 5 lines (header; "a\nb" on 2-3; c's two rows), then the record with
             * the stray quote from line 6, where the error is placed (the cap itself is
             * passed on file line 111: 105 lines of 10,000 bytes hold 1,050,000 < 1,052,672) */
            CHECK(e.line == 6 && e.col == 1);
            if (e.line != 6)
                fprintf(stderr, "  stray quote reported at line %ld\n", e.line);
            CHECK(pt.set.n == 0);
            /* The same quote in the record's third field: the record still starts on 6. */
            memmove(stray + glen + 4, stray + glen, strlen(stray + glen) + 1);
            memcpy(stray + glen, "d,1,", 4);
            CHECK(read_text(stray, &pt, &e) == OUT_EINPUT);
            CHECK(e.line == 6 && e.col == 3);
            if (e.line != 6 || e.col != 3)
                fprintf(stderr, "  stray quote in field 3 reported at %ld:%ld\n", e.line, e.col);
            free(stray);
        }
    }
    /* A missing file is an I/O error. */
    CHECK(patients_csv_read("/nonexistent/patients.csv", NULL, &pt, &e) == OUT_EIO);
    CHECK(pt.set.n == 0);
    free(good);
}

/* An `episode` column splits a patient's course where its value changes; an empty cell
 * continues the current episode. A: 8, 6, 4 in episode 1 (the empty cell between stays in it)
 * then 7, 3 in episode 2: episode 1 improves 8 - 4 = 4 (50%), episode 2 improves 7 - 3 = 4
 * (4/7 = 57.142857%), and episode 2's sessions restart at 1 (its first visit is baseline).
 * B: no episode cells at all, one episode 5 -> 4 (20%). */
static void test_episode_column(void)
{
    static const char csv[] = "patient_id,visit_date,episode,pain\n"
                              "A,2026-01-05,1,8\nA,2026-01-12,,6\nA,2026-01-19,1,4\n"
                              "A,2026-03-02,2,7\nA,2026-03-09,2,3\n"
                              "B,2026-01-06,,5\nB,2026-01-13,,4\n";
    struct ingest_opts io;
    ingest_opts_default(&io);
    io.today = 20780;   /* 2026-11-23 */
    struct dataset ds;
    dataset_init(&ds);
    struct out_error e = {0};
    CHECK(ingest_buffer("ep.csv", csv, sizeof csv - 1, &io, &ds, NULL, &e) == 0);
    CHECK(ds.episode != NULL && dataset_cov_index(&ds, "episode") < 0);
    struct patient_set ps = {0};
    CHECK(patient_compute(&ds, NULL, &ps, &e) == 0);
    CHECK(ps.n == 3 && ps.n_patients == 3);
    if (ps.n == 3) {
        CHECK(ps.m[0].episode == 1 && ps.m[0].n_visits == 3);
        CHECK_NEAR(pm_change(&ps.m[0]), 4, 1e-12);
        CHECK_NEAR(pm_pct(&ps.m[0]), 50, 1e-12);
        CHECK(ps.m[1].episode == 2 && ps.m[1].n_visits == 2 && ps.m[1].first_session == 1);
        CHECK_NEAR(ps.m[1].baseline, 7, 1e-12);
        CHECK_NEAR(pm_pct(&ps.m[1]), 400.0 / 7.0, 1e-9);
        CHECK(ps.m[2].episode == 1 && ps.m[2].n_visits == 2);
        CHECK_NEAR(pm_pct(&ps.m[2]), 20, 1e-12);
    }
    patient_set_free(&ps);
    dataset_free(&ds);
}

int main(void)
{
    test_episode_column();
    instrument_table_builtin(&builtin);
    test_basic();
    test_rci();
    test_episodes();
    test_threshold_tolerance();
    test_accessors();
    test_visit_limit();
    test_windows();
    test_single_pass();
    test_csv_roundtrip();
    test_csv_errors();
    test_csv_sdiff();
    test_writer_reference();
    test_writer_threads();
    return TEST_END("test_patient");
}
