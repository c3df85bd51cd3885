/* dataset.h — the visit table: what ingest produces and every later stage reads.
 *
 * Ownership: a struct dataset owns every array and string it points to; dataset_free()
 * releases them all (dataset_free(NULL) is harmless). Later stages only read it.
 *
 * Layout is columnar so memory grows with visits kept, not with the width of the input:
 * visits are rows of small integers; scores are an n_visits x n_instr matrix of doubles
 * (NAN = missing); patient ids and covariate values are interned once each.
 */
#ifndef OUTCOMES_DATASET_H
#define OUTCOMES_DATASET_H

#include <stddef.h>
#include <stdint.h>

#include "instrument.h"

struct visit {
    uint32_t patient;   /* index into dataset.patient_id */
    int32_t day;        /* visit date as days since 1970-01-01 (proleptic Gregorian) */
    int32_t session;    /* session number from the file (>= 1), or 0 when the file has none */
    uint32_t line;      /* physical line where the record starts in its file (1-based) */
    uint16_t file;      /* index into dataset.file */
    int8_t adverse;     /* adverse_event: 1 yes, 0 no, -1 missing / no such column */
    uint8_t baseline;   /* 1 when a `baseline` column flags this row as the baseline */
};

/* Why a row was rejected. The order is the order reports list them in. */
enum reject_reason {
    REJ_FIELD_COUNT,    /* wrong number of fields */
    REJ_MISSING_ID,     /* empty patient id */
    REJ_MISSING_DATE,   /* empty visit date */
    REJ_BAD_DATE,       /* not YYYY-MM-DD or impossible (2026-02-30) */
    REJ_FUTURE_DATE,    /* after the run's reference date */
    REJ_BAD_SESSION,    /* session not an integer >= 1 */
    REJ_NONNUMERIC,     /* a score that is not a number */
    REJ_RANGE,          /* a score outside the instrument's range */
    REJ_NO_SCORES,      /* every instrument cell is missing */
    REJ_DUP_EXACT,      /* an exact repeat of an earlier accepted row */
    REJ_DUP_CONFLICT,   /* same patient, date and session as an earlier row, other scores */
    REJ_BAD_FLAG,       /* adverse_event or baseline not yes/no/true/false/1/0 */
    REJ_BAD_EPISODE,    /* episode not a whole number >= 1 */
    REJ_MANGLED_ID,     /* an id a spreadsheet turned into a number (1.23457E+11) */
    REJ__COUNT
};

/* Stable machine name of a reason, e.g. "out_of_range" (used in rejects.csv and JSON). */
const char *reject_reason_name(enum reject_reason r);

struct input_file {
    char *path;
    char sha256[65];    /* hex digest of the bytes read */
    long rows_read;     /* data records (header excluded, blank lines excluded) */
    long rows_accepted;
    long rows_rejected;
    int32_t first_day, last_day;   /* accepted visit date range; INT32_MIN when none */
};

struct dataset {
    /* Instruments present in the input, in column order; point into `instruments`. */
    struct instrument_table instruments;   /* the table used (built-in + declared) */
    size_t n_instr;
    const struct instrument *instr[INSTRUMENT_MAX];

    size_t n_visits, cap_visits;
    struct visit *visit;
    double *score;          /* n_visits * n_instr, row-major: score[v * n_instr + k] */
    double *pain_post;      /* n_visits, NAN when missing; NULL when no pain_post column */
    uint16_t *episode;      /* n_visits, episode number from an `episode` column (>= 1), 0 when
                               the cell is empty; NULL when there is no such column */

    size_t n_patients, cap_patients;
    char **patient_id;      /* interned ids, in order of first appearance; the strings live
                               in str_arena (dataset_strdup), not in malloc'd blocks; the
                               array is a bigarr (bigarr.h), released by dataset_free */
    struct intern_slot *pid_hash;   /* open-addressing index into patient_id (private) */
    size_t pid_hash_cap;

    /* Patient-level covariates (clinic, sex, age, arm, ...): the value on the patient's
     * earliest-dated accepted row that has one. cov_value[p * n_cov + c] is an index into
     * cov_str, or UINT32_MAX when missing. */
    size_t n_cov;
    char **cov_name;
    uint32_t *cov_value;
    size_t n_cov_str, cap_cov_str;
    char **cov_str;         /* strings in str_arena */
    struct intern_slot *cov_hash;   /* open-addressing index into cov_str (private) */
    size_t cov_hash_cap;
    /* Where interned strings live: a million 8-byte ids cost 32 bytes each as separate
     * mallocs, about 10 in chunks (private; freed by dataset_free). */
    struct str_chunk *str_arena;

    size_t n_files;
    struct input_file *file;

    long rows_read, rows_accepted, rows_rejected;
    long rejected_by[REJ__COUNT];
    int strict_stop;        /* 1: ingest read all input and failed only because a row was
                               rejected under ingest_opts.strict (not a file-level error) */

    /* Visit-level facts for the audit and charts (digest.h), filled by ingest; owned. When
     * sorted input is streamed, the visit arrays above hold only the patient being read and
     * are empty after ingest: this is then all that is left of the visits. */
    struct visit_digest *digest;
    long visits_streamed;   /* visits accepted and already passed on (streaming), else 0 */
    /* Patient ids that equal another id once leading zeros are dropped (007 and 7), as
     * quality_count_zero_led_ids counted them on the ids as read (before pseudonyms);
     * carried by quality.csv; IDS_ZERO_LED_UNKNOWN when that file predates the count. */
    size_t ids_zero_led;
};

/* ids_zero_led when it was never counted: read from a quality.csv without the ids row. */
#define IDS_ZERO_LED_UNKNOWN SIZE_MAX

struct visit_digest;
/* An index slot: the string's index and the low 32 bits of its hash, compared before the
 * string is (UINT32_MAX index = empty). */
struct intern_slot {
    uint32_t idx, tag;
};

void dataset_init(struct dataset *ds);
void dataset_free(struct dataset *ds);

/* Declare the instrument columns (in order) before adding visits; copies the table.
 * Returns 0, or -1 when a name is not in tab or there are too many. */
int dataset_set_instruments(struct dataset *ds, const struct instrument_table *tab,
                            const char *const *names, size_t n);
/* Declare covariate columns before adding patients. Returns 0 or -1 (out of memory). */
int dataset_set_covariates(struct dataset *ds, const char *const *names, size_t n);
/* Enable the pain_post column. Returns 0 or -1. */
int dataset_enable_pain_post(struct dataset *ds);
/* Enable the per-visit episode column (all 0 so far). Returns 0 or -1. */
int dataset_enable_episode(struct dataset *ds);

/* Intern a patient id (copied); returns its index, or -1 on out of memory. New patients
 * have every covariate missing. */
long dataset_patient(struct dataset *ds, const char *id);
/* A hint that dataset_patient(ds, id) comes soon for the id of len bytes at id (no NUL
 * needed): start fetching its index slot (a cache miss once there are a million ids).
 * Changes nothing. */
void dataset_prefetch_patient(const struct dataset *ds, const char *id, size_t len);
/* Intern a covariate value string (copied); returns its index or -1. */
long dataset_cov_intern(struct dataset *ds, const char *value);
/* A copy of s owned by ds (in its string arena, freed with it; never free it yourself),
 * or NULL on out of memory. For replacing a patient id (pseudonymisation). */
char *dataset_strdup(struct dataset *ds, const char *s);
/* Drop the patient id index once every patient is known (after ingest): it is a quarter
 * of the ids' memory. A later dataset_patient rebuilds it. */
void dataset_drop_id_index(struct dataset *ds);

/* Append a visit; scores has n_instr values (NAN = missing). Returns its index or -1. */
long dataset_add_visit(struct dataset *ds, const struct visit *v, const double *scores,
                       double pain_post);
/* Forget every visit (the patients, covariates and counts stay): the streaming ingest calls
 * it once a patient is complete and passed on. Capacity is kept for the next patient. */
void dataset_drop_visits(struct dataset *ds);
/* Add an input file record (path copied); returns its index or -1. */
long dataset_add_file(struct dataset *ds, const char *path);

/* Format v exactly as snprintf("%.15g") does, or as "%.17g" when the %.15g text does not
 * read back (strtod) to v; buf must hold DATASET_NUM_MAX bytes. Returns the length.
 * Fast paths (byte-identical to the printf result): whole numbers below 1e15, decimals with
 * at most 6 places that round-trip, and a small cache of recent values other than whole
 * numbers.
 * Thread-safe: the cache is per thread (_Thread_local), nothing else is shared. */
enum { DATASET_NUM_MAX = 32 };
size_t dataset_fmt_num(char *buf, double v);

/* Covariate column index by name, or -1. */
int dataset_cov_index(const struct dataset *ds, const char *name);
/* Covariate value of patient p in column c, or NULL when missing. */
const char *dataset_cov(const struct dataset *ds, size_t p, int c);

#endif
