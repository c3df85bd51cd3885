/* digest.h — the visit-level facts later stages need, kept so the visit table need not be.
 *
 * The audit and the charts read two things off individual visits: whether a patient had any
 * visit flagged adverse_event, and the mean score at each session number. When sorted input is
 * streamed (ingest.h, patient_done) a patient's visits are dropped once the patient is
 * complete, so those facts are gathered here, patient by patient, as the visits go by. The
 * same function builds the digest of a whole table, so both paths give the same numbers.
 *
 * Ownership: a struct visit_digest owns its adverse array; digest_free() releases it
 * (digest_free(NULL) is harmless).
 */
#ifndef OUTCOMES_DIGEST_H
#define OUTCOMES_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#include "dataset.h"

/* Sessions past this are not charted (later sessions are too few to describe anyone). */
enum { DIGEST_MAX_SESSION = 30 };

/* Scores at one session number of one instrument: count, the plain sum in visit order (its
 * mean is what the chart prints) and Welford's running mean and sum of squared deviations,
 * which gives the SD in one pass without cancellation. */
struct digest_cell {
    long n;
    double sum;
    double mean, m2;
};

struct visit_digest {
    size_t n_instr;
    /* traj[k][s]: instrument k, session s (1..DIGEST_MAX_SESSION; [0] unused). A visit's
     * session is the file's number, else its rank by date (then input order) within the
     * patient's visits. */
    struct digest_cell traj[INSTRUMENT_MAX][DIGEST_MAX_SESSION + 1];
    /* Per patient (index into dataset.patient_id): -1 no visit says, 0 none flagged, 1 any. */
    int8_t *adverse;
    size_t n_patients, cap_patients;
    int adverse_any;           /* some visit has an adverse_event value */
    /* Private: scratch kept between calls (a streamed run adds a million small ranges). */
    void *o_buf, *sess_buf, *start_buf;
    size_t o_cap, sess_cap, start_cap;
};

void digest_init(struct visit_digest *d);
void digest_free(struct visit_digest *d);

/* Add visits [lo, hi) of ds. Every patient with a visit in the range must have all of its
 * visits there (a complete patient: the session rank needs them all). Returns 0, or -1 when
 * out of memory (d is then unchanged for patients not yet sized). */
int digest_add(struct visit_digest *d, const struct dataset *ds, size_t lo, size_t hi);

/* The digest of ds: ds->digest when ingest made one, else one built into *local from the
 * visit table (the caller digest_free()s *local either way). NULL when out of memory. */
const struct visit_digest *digest_of(const struct dataset *ds, struct visit_digest *local);

/* Build ds->digest from the whole visit table (owned by ds). Returns 0, or -1 when out of
 * memory (ds->digest stays NULL). */
int digest_attach(struct dataset *ds);

/* Sample SD of a cell (n - 1 denominator), NAN below two scores. */
double digest_cell_sd(const struct digest_cell *c);

#endif
