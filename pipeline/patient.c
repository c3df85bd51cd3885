/* patient.c — per-patient improvement measures (contract and definitions in patient.h).
 *
 * One sort brings every patient's visits together in date order: a counting sort by patient
 * (stable, so input order survives as the last tie-break) and then a small sort of each
 * patient's own visits, so the whole stage is O(V log V) in the worst case and close to O(V)
 * when patients have few visits. Measures need the SD of all baselines (for the RCI), which
 * is only known once every record exists, hence a second pass over the records.
 */
#include "patient.h"
#include "bigarr.h"
#include "grow.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct fu_def fu_defs[FU__COUNT] = {
    [FU_WEEK8] = {"week8", 56, 14},
    [FU_MONTH3] = {"month3", 91, 14},
    [FU_MONTH12] = {"month12", 365, 42},
};

/* The record is per patient, episode and instrument, so its size is most of this stage's
 * memory: a member added without thought shows here (see the layout note in patient.h). */
_Static_assert(sizeof(struct pmeasure) <= 104, "struct pmeasure grew past 104 bytes");

/* Jacobson–Truax: reliable at the two-sided 5% level. */
#define RCI_CRIT 1.96

static const struct {
    int rc;
    const char *name;
} rc_names[] = {
    {RC_DETERIORATED, "deteriorated"},
    {RC_UNCHANGED, "unchanged"},
    {RC_IMPROVED, "improved"},
    {RC_RECOVERED, "recovered"},
    {RC_UNKNOWN, ""},
};

const char *rc_category_name(int rc)
{
    for (size_t i = 0; i < sizeof rc_names / sizeof rc_names[0]; i++)
        if (rc_names[i].rc == rc)
            return rc_names[i].name;
    return "";
}

int rc_category_parse(const char *s, int *rc)
{
    for (size_t i = 0; i < sizeof rc_names / sizeof rc_names[0]; i++)
        if (strcmp(rc_names[i].name, s) == 0) {
            *rc = rc_names[i].rc;
            return 0;
        }
    return -1;
}

void patient_opts_default(struct patient_opts *o)
{
    o->new_episode_after = 0;
    o->pct_threshold = 30.0;
}

void patient_set_free(struct patient_set *ps)
{
    if (!ps)
        return;
    bigarr_free(ps->m);
    memset(ps, 0, sizeof *ps);
}

int patient_set_select(const struct patient_set *in, int32_t day_lo, int32_t day_hi,
                       struct patient_set *out, struct out_error *e)
{
    *out = *in;
    out->m = NULL;
    out->n = out->cap = out->n_patients = out->n_single_visit = out->n_zero_baseline = 0;
    out->m = malloc((in->n ? in->n : 1) * sizeof *out->m);
    if (!out->m)
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory selecting a month");
    out->cap = in->n ? in->n : 1;
    const struct pmeasure *prev = NULL;
    for (size_t i = 0; i < in->n; i++) {
        const struct pmeasure *m = &in->m[i];
        int32_t end_day = pm_end_day(m);
        if (end_day < day_lo || end_day > day_hi)
            continue;
        out->m[out->n++] = *m;
        /* records are sorted by patient and episode, so a new pair starts a new patient */
        if (!prev || prev->patient != m->patient || prev->episode != m->episode)
            out->n_patients++;
        prev = m;
        out->n_single_visit += m->n_visits == 1;
        out->n_zero_baseline += pm_zero_baseline(m) == 1;
    }
    return 0;
}

/* A visit with its sort keys copied in, so the comparator needs no global context. */
struct vkey {
    int32_t day;
    int32_t session;
    uint32_t idx;
};

static int vkey_cmp(const void *pa, const void *pb)
{
    const struct vkey *a = pa, *b = pb;
    if (a->day != b->day)
        return a->day < b->day ? -1 : 1;
    if (a->session != b->session)
        return a->session < b->session ? -1 : 1;
    return a->idx < b->idx ? -1 : a->idx > b->idx;
}

/* Insertion sort for the usual handful of visits; qsort beyond that keeps the worst case
 * O(n log n). Input sorted by patient and date (the usual export) needs no sort: one pass
 * checks that. */
static void sort_visits(struct vkey *k, size_t n)
{
    size_t run = 1;
    while (run < n && vkey_cmp(&k[run - 1], &k[run]) <= 0)
        run++;
    if (run >= n)
        return;
    if (n > 16) {
        qsort(k, n, sizeof *k, vkey_cmp);
        return;
    }
    for (size_t i = 1; i < n; i++) {
        struct vkey t = k[i];
        size_t j = i;
        while (j > 0 && vkey_cmp(&k[j - 1], &t) > 0) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = t;
    }
}

/* A zeroed record at the end of ps, filled in place (no copy of the record); NULL when
 * memory runs out. */
static struct pmeasure *new_record(struct patient_set *ps)
{
    /* The largest array of a run (104 bytes a record, 2.5M records at 10M rows), hence a
     * bigarr: its first writes would otherwise be most of the run's page faults. */
    if (bigarr_grow((void **)&ps->m, &ps->cap, ps->n + 1, sizeof *ps->m) != 0)
        return NULL;
    struct pmeasure *m = &ps->m[ps->n++];
    memset(m, 0, sizeof *m);
    return m;
}

/* One patient's visits gathered in sorted order, so that the passes over each instrument
 * read a few contiguous lines instead of scattered rows of the whole table. Sized for the
 * patient with the most visits and reused. */
struct scratch {
    int *session;               /* session number per visit (convention numbers) */
    size_t *pos;
    double *score;              /* visit x n_instr, row-major */
    double *post;               /* pain_post per visit, NAN when none */
    uint8_t *flag;              /* baseline flag per visit */
};

/* What one episode's instrument series needs from the episode. */
struct series {
    const struct dataset *ds;
    const struct vkey *vk;      /* the episode's visits in order */
    const int *session;         /* per episode visit */
    const double *score;        /* per episode visit, n_instr each */
    const double *post;         /* per episode visit */
    const size_t *pos;          /* positions (into vk) of scored visits, from the baseline on */
    size_t n;
    int immediate;              /* this instrument is "pain" and pain_post exists */
};

/* Fill everything but the RCI (needs SD_pre, known only after all records); what is not
 * stored follows from what is, through the accessors in patient.h. */
static void measure(const struct series *s, size_t k, const struct patient_opts *o,
                    struct pmeasure *m)
{
    const struct dataset *ds = s->ds;
    const struct instrument *in = ds->instr[k];
    size_t nk = ds->n_instr;
#define DAY(i) (s->vk[s->pos[i]].day)
#define SCORE(i) (s->score[s->pos[i] * nk + k])
#define SESS(i) (s->session[s->pos[i]])
    size_t n = s->n;
    double x0 = SCORE(0);
    int32_t d0 = DAY(0);

    m->higher_better = in->higher_better != 0;
    m->n_visits = (uint16_t)n;   /* n <= the episode's visits, checked <= UINT16_MAX */
    m->first_day = d0;
    m->last_day = DAY(n - 1);
    m->first_session = SESS(0);
    m->last_session = SESS(n - 1);
    m->baseline = x0;
    m->final = NAN;
    m->resp_mic = -1;
    m->rc_cat = RC_UNKNOWN;
    m->responded = 0;
    m->sessions_to_response = m->days_to_response = -1;
    m->end_offset = 0;
    m->end_pct = NAN;
    for (int w = 0; w < FU__COUNT; w++) {
        m->fu[w] = NAN;
        m->fu_day[w] = -1;
    }

    /* Within-session effect is defined even for a single visit. */
    m->immediate = NAN;
    m->n_immediate = 0;
    if (s->immediate) {
        double sum = 0;
        int cnt = 0;
        for (size_t i = 0; i < n; i++) {
            double post = s->post[s->pos[i]];
            if (!isnan(post)) {
                sum += instrument_improvement(in, SCORE(i), post);
                cnt++;
            }
        }
        m->n_immediate = (uint16_t)cnt;   /* cnt <= n */
        if (cnt)
            m->immediate = sum / cnt;
    }

    if (n < 2)
        return;

    m->final = SCORE(n - 1);
    if (!isnan(in->mic))
        m->resp_mic = (int8_t)(pm_change(m) >= in->mic - PM_PCT_EPS);

    if (!pm_zero_baseline(m)) {
        size_t i;
        for (i = 1; i < n; i++)
            if (pm_pct_at(m, SCORE(i)) >= o->pct_threshold - PM_PCT_EPS)
                break;
        m->responded = i < n;
        if (i == n)
            i = n - 1;   /* censored at the last scored visit */
        m->sessions_to_response = SESS(i) - 1;
        m->days_to_response = DAY(i) - d0;
    }

    /* One pass for the follow-up windows and the end of course. Visits are in date order,
     * so the pass stops after the last window closes; the strict < keeps the earlier visit
     * on a tie in distance. */
    long open = fu_defs[FU_MONTH12].target_day - fu_defs[FU_MONTH12].half_width;
    long last = 0;
    for (int w = 0; w < FU__COUNT; w++)
        if (fu_defs[w].target_day + fu_defs[w].half_width > last)
            last = fu_defs[w].target_day + fu_defs[w].half_width;
    long best[FU__COUNT], bestdist[FU__COUNT];
    for (int w = 0; w < FU__COUNT; w++)
        best[w] = -1, bestdist[w] = 0;
    size_t e = 0;
    for (size_t i = 1; i < n; i++) {
        long rel = (long)DAY(i) - d0;
        if (rel > last)
            break;
        if (rel < open)
            e = i;
        for (int w = 0; w < FU__COUNT; w++) {
            long dist = labs(rel - fu_defs[w].target_day);
            if (dist <= fu_defs[w].half_width && (best[w] < 0 || dist < bestdist[w])) {
                best[w] = (long)i;
                bestdist[w] = dist;
            }
        }
    }
    /* Both day counts lie inside the windows (at most day 407), far inside int16_t. */
    for (int w = 0; w < FU__COUNT; w++) {
        if (best[w] >= 0) {
            m->fu[w] = SCORE(best[w]);
            m->fu_day[w] = (int16_t)(DAY(best[w]) - d0);
        }
    }
    if (e > 0) {
        m->end_offset = (int16_t)(DAY(e) - d0);
        m->end_pct = pm_pct_at(m, SCORE(e));
    }
#undef DAY
#undef SCORE
#undef SESS
}

/* What stays the same from patient to patient, and the baseline totals the RCI needs,
 * gathered as records are made (in record order, so the sums are the same as a later pass
 * over the records would give) instead of in another pass over every record. */
struct run {
    const struct dataset *ds;
    const struct patient_opts *o;
    int immediate[INSTRUMENT_MAX];     /* the instrument is "pain" and pain_post exists */
    double base_sum[INSTRUMENT_MAX];   /* sum of baselines of the records so far */
    size_t base_cnt[INSTRUMENT_MAX];
};

/* Split one patient's sorted visits into episodes and emit their records. */
static int do_patient(struct run *r, uint32_t p, const struct vkey *vk, size_t nv,
                      struct scratch *w, struct patient_set *out, struct out_error *e)
{
    const struct dataset *ds = r->ds;
    const struct patient_opts *o = r->o;
    size_t nk = ds->n_instr;
    for (size_t i = 0; i < nv; i++) {
        size_t idx = vk[i].idx;
        memcpy(w->score + i * nk, ds->score + idx * nk, nk * sizeof *w->score);
        w->post[i] = ds->pain_post ? ds->pain_post[idx] : NAN;
        w->flag[i] = ds->visit[idx].baseline;
    }
    size_t a = 0;
    unsigned episode = 0;
    while (a < nv) {
        /* An episode ends at a gap longer than --new-episode-after, or where the file's
         * `episode` column changes value; an empty episode cell continues the current one. */
        size_t b = a + 1;
        unsigned cur = ds->episode ? ds->episode[vk[a].idx] : 0;
        while (b < nv) {
            if (o->new_episode_after > 0 &&
                (long)vk[b].day - vk[b - 1].day > o->new_episode_after)
                break;
            unsigned eb = ds->episode ? ds->episode[vk[b].idx] : 0;
            if (eb && cur && eb != cur)
                break;
            if (eb)
                cur = eb;
            b++;
        }
        if (++episode > UINT16_MAX)
            return out_err(e, OUT_EINPUT, NULL, 0, 0,
                           "patient '%s' has more than %u episodes", ds->patient_id[p],
                           (unsigned)UINT16_MAX);
        const struct vkey *ev = vk + a;
        size_t en = b - a;
        /* The record counts visits in 16 bits (patient.h); this many visits in one episode
         * is not a course of treatment, and must not wrap. */
        if (en > UINT16_MAX)
            return out_err(e, OUT_EINPUT, NULL, 0, 0,
                           "patient '%s' has more than %u visits in one episode",
                           ds->patient_id[p], (unsigned)UINT16_MAX);
        int *session = w->session + a;
        const double *esc = w->score + a * nk;
        /* File numbers that go backwards in time would give negative treatment counts. */
        int from_file = 1;
        for (size_t i = 0; i < en; i++)
            if (ev[i].session <= 0 || (i > 0 && ev[i].session <= ev[i - 1].session))
                from_file = 0;
        for (size_t i = 0; i < en; i++) {
            if (!from_file)
                session[i] = (int)i + 1;
            else if (episode > 1)
                session[i] = ev[i].session - ev[0].session + 1;
            else
                session[i] = ev[i].session;
        }
        size_t emitted = 0;
        for (size_t k = 0; k < ds->n_instr; k++) {
            size_t ns = 0, base = 0;
            int flagged = 0;
            for (size_t i = 0; i < en; i++) {
                if (isnan(esc[i * nk + k]))
                    continue;
                if (w->flag[a + i] && !flagged) {
                    flagged = 1;
                    base = ns;
                }
                w->pos[ns++] = i;
            }
            if (ns == 0)
                continue;
            struct series s = {ds, ev, session, esc, w->post + a, w->pos + base, ns - base,
                               r->immediate[k]};
            struct pmeasure *m = new_record(out);
            if (!m)
                return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
            m->patient = p;
            m->instr = (uint8_t)k;   /* k < INSTRUMENT_MAX */
            m->episode = (uint16_t)episode;
            m->n_attended = (uint16_t)en;
            measure(&s, k, o, m);
            r->base_sum[k] += m->baseline;
            r->base_cnt[k]++;
            if (m->n_visits == 1)
                out->n_single_visit++;
            if (pm_zero_baseline(m))
                out->n_zero_baseline++;
            emitted++;
        }
        if (emitted)
            out->n_patients++;
        a = b;
    }
    return 0;
}

/* Second pass: SD of baselines per instrument (two-pass, for accuracy: the sums came with
 * the records), then S_diff and each record's RC category from its RCI. */
static void reliable_change(const struct run *run, struct patient_set *ps)
{
    const struct dataset *ds = run->ds;
    size_t nk = ds->n_instr;
    const double *sum = run->base_sum;
    const size_t *cnt = run->base_cnt;
    double ss[INSTRUMENT_MAX] = {0}, mean[INSTRUMENT_MAX] = {0};
    for (size_t k = 0; k < nk; k++)
        mean[k] = cnt[k] ? sum[k] / (double)cnt[k] : 0;
    for (size_t i = 0; i < ps->n; i++) {
        size_t k = ps->m[i].instr;
        double d = ps->m[i].baseline - mean[k];
        ss[k] += d * d;
    }
    for (size_t k = 0; k < INSTRUMENT_MAX; k++)
        ps->sdiff[k] = NAN;
    ps->n_instr = nk;
    for (size_t k = 0; k < nk; k++) {
        ps->sd_pre[k] = cnt[k] >= 2 ? sqrt(ss[k] / (double)(cnt[k] - 1)) : NAN;
        ps->sdiff[k] = pm_sdiff(ps->sd_pre[k], ds->instr[k]->reliability);
    }
    for (size_t i = 0; i < ps->n; i++) {
        struct pmeasure *m = &ps->m[i];
        const struct instrument *in = ds->instr[m->instr];
        /* Not isnan(rci): 0/0 (an S_diff that underflowed to 0) is "unchanged", as ever. */
        if (isnan(pm_change(m)) || isnan(ps->sdiff[m->instr]))
            continue;
        double rci = pm_rci(ps, m);
        if (rci > RCI_CRIT) {
            m->rc_cat = RC_IMPROVED;
            if (!isnan(in->cutoff) &&
                (in->higher_better ? m->baseline < in->cutoff && m->final >= in->cutoff
                                   : m->baseline > in->cutoff && m->final <= in->cutoff))
                m->rc_cat = RC_RECOVERED;
        } else if (rci < -RCI_CRIT) {
            m->rc_cat = RC_DETERIORATED;
        } else {
            m->rc_cat = RC_UNCHANGED;
        }
    }
}

static void scratch_free(struct scratch *w)
{
    free(w->session);
    free(w->pos);
    free(w->score);
    free(w->post);
    free(w->flag);
}

/* The state between patient_stream_begin and _end: options, RCI sums, scratch. */
struct patient_stream {
    struct run run;
    struct patient_opts opts;
    struct patient_set *out;
    struct scratch w;
    size_t w_cap, w_instr;     /* visits and instruments the scratch is sized for */
    size_t *start;             /* counting sort of a range by patient */
    size_t start_cap;
    struct vkey *vk;
    size_t vk_cap;
};

/* Scratch for a patient of n visits and ni instruments. */
static int scratch_reserve(struct patient_stream *s, size_t n, size_t ni)
{
    ni = ni ? ni : 1;
    if (n <= s->w_cap && ni <= s->w_instr)
        return 0;
    n = n > s->w_cap ? n : s->w_cap;
    ni = ni > s->w_instr ? ni : s->w_instr;
    scratch_free(&s->w);
    memset(&s->w, 0, sizeof s->w);
    s->w_cap = s->w_instr = 0;
    s->w.session = malloc(n * sizeof *s->w.session);
    s->w.pos = malloc(n * sizeof *s->w.pos);
    s->w.score = malloc(n * ni * sizeof *s->w.score);
    s->w.post = malloc(n * sizeof *s->w.post);
    s->w.flag = malloc(n * sizeof *s->w.flag);
    if (!s->w.session || !s->w.pos || !s->w.score || !s->w.post || !s->w.flag)
        return -1;
    s->w_cap = n;
    s->w_instr = ni;
    return 0;
}

int patient_stream_begin(struct patient_stream **sp, const struct patient_opts *o,
                         struct patient_set *out, struct out_error *e)
{
    *sp = NULL;
    memset(out, 0, sizeof *out);
    for (size_t k = 0; k < INSTRUMENT_MAX; k++)
        out->sd_pre[k] = out->sdiff[k] = NAN;
    struct patient_opts def;
    if (!o) {
        patient_opts_default(&def);
        o = &def;
    }
    if (o->new_episode_after < 0 || !isfinite(o->pct_threshold) || o->pct_threshold <= 0)
        return out_err(e, OUT_EUSAGE, NULL, 0, 0,
                       "invalid options: episode gap must be >= 0 days and the response "
                       "threshold a positive percentage");
    struct patient_stream *s = calloc(1, sizeof *s);
    if (!s)
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    s->opts = *o;
    s->run.o = &s->opts;
    s->out = out;
    *sp = s;
    return 0;
}

int patient_stream_add(struct patient_stream *s, const struct dataset *ds, struct out_error *e)
{
    size_t nv = ds->n_visits;
    if (nv == 0)
        return 0;
    s->run.ds = ds;
    for (size_t k = 0; k < ds->n_instr; k++)
        s->run.immediate[k] = ds->pain_post && strcasecmp(ds->instr[k]->name, "pain") == 0;

    /* Counting sort by patient over the patients present (one, when streaming); input order
     * within a patient is kept for the tie-break. */
    uint32_t pmin = UINT32_MAX, pmax = 0;
    for (size_t i = 0; i < nv; i++) {
        uint32_t p = ds->visit[i].patient;
        if (p >= ds->n_patients)
            return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "visit %zu: patient index out of range",
                           i);
        pmin = p < pmin ? p : pmin;
        pmax = p > pmax ? p : pmax;
    }
    size_t span = (size_t)(pmax - pmin) + 1;
    if (grow_buf((void **)&s->start, &s->start_cap, span + 1, sizeof *s->start) ||
        grow_buf((void **)&s->vk, &s->vk_cap, nv, sizeof *s->vk))
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    size_t *start = s->start;
    struct vkey *vk = s->vk;
    memset(start, 0, (span + 1) * sizeof *start);
    for (size_t i = 0; i < nv; i++)
        start[ds->visit[i].patient - pmin + 1]++;
    size_t maxrun = 1;
    for (size_t p = 0; p < span; p++) {
        if (start[p + 1] > maxrun)
            maxrun = start[p + 1];
        start[p + 1] += start[p];
    }
    for (size_t i = 0; i < nv; i++) {
        const struct visit *v = &ds->visit[i];
        struct vkey *k = &vk[start[v->patient - pmin]++];
        k->day = v->day;
        k->session = v->session;
        k->idx = (uint32_t)i;
    }
    /* The fill loop advanced each start to the next patient's; shift back. */
    for (size_t p = span; p > 0; p--)
        start[p] = start[p - 1];
    start[0] = 0;
    if (scratch_reserve(s, maxrun, ds->n_instr))
        return out_err(e, OUT_EINTERNAL, NULL, 0, 0, "out of memory");
    for (size_t p = 0; p < span; p++) {
        size_t n = start[p + 1] - start[p];
        if (n == 0)
            continue;
        sort_visits(vk + start[p], n);
        int rc = do_patient(&s->run, (uint32_t)(pmin + p), vk + start[p], n, &s->w, s->out, e);
        if (rc)
            return rc;
    }
    return 0;
}

void patient_stream_free(struct patient_stream *s)
{
    if (!s)
        return;
    scratch_free(&s->w);
    free(s->start);
    free(s->vk);
    free(s);
}

int patient_stream_end(struct patient_stream *s, const struct dataset *ds)
{
    s->run.ds = ds;
    reliable_change(&s->run, s->out);
    patient_stream_free(s);
    return 0;
}

int patient_compute(const struct dataset *ds, const struct patient_opts *o,
                    struct patient_set *out, struct out_error *e)
{
    struct patient_stream *s;
    int rc = patient_stream_begin(&s, o, out, e);
    if (rc)
        return rc;
    rc = patient_stream_add(s, ds, e);
    if (rc) {
        patient_stream_free(s);
        patient_set_free(out);
        for (size_t k = 0; k < INSTRUMENT_MAX; k++)
            out->sd_pre[k] = out->sdiff[k] = NAN;
        return rc;
    }
    return patient_stream_end(s, ds);
}
