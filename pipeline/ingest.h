/* ingest.h — the `ingest` stage: clinics' and trials' visit CSV files in, a struct dataset
 * out, every data row either accepted or written to the rejects stream with its reason.
 *
 * Input (long format, one row per visit). Header names are matched case-insensitively after
 * trimming, after renaming through ingest_opts.column_map:
 *   patient_id      required; an empty or NA id rejects the row, and so does one in a
 *                   spreadsheet's scientific notation (1.23457E+11: the real id is lost)
 *   visit_date      required; strictly YYYY-MM-DD, a real calendar date, year >= 1900,
 *                   not after ingest_opts.today
 *   session         optional; an integer >= 1 (empty = none, stored as 0)
 *   <instrument>    any instrument of ingest_opts.instruments (pain, psqi, ...): a plain
 *                   decimal number within the instrument's range; at least one such column
 *   pain_post       optional; pain right after the session, range of `pain` (0-10)
 *   adverse_event   optional; yes/no/y/n/true/false/1/0 -> visit.adverse (-1 when empty)
 *   baseline        optional; same words -> visit.baseline (0 when empty)
 *   anything else   a patient-level covariate (clinic, arm, age, sex, ...), named in lower
 *                   case; per patient the value on the earliest-dated accepted row that has
 *                   one (ties: the first such row read)
 * Missing cells: "", NA, N/A, "." (case-insensitive) — missing, never 0. Surrounding spaces
 * are trimmed from every cell. Scores: optional sign, digits, optional fraction; "1e1",
 * "0x7", "nan", "inf" and "7,5" (unless decimal_comma) are non-numeric.
 *
 * Dialect: RFC 4180 quoting; LF, CRLF or CR line ends; a UTF-8 byte-order mark is skipped;
 * delimiter ',', ';' or TAB, detected from the header line unless given. Blank lines, and
 * records whose every cell is empty (spreadsheet padding like ",,,,"), are not rows.
 * Several files may be read in one call; each must have the same set of columns as the
 * first (order may differ).
 *
 * Row rejects (enum reject_reason, checked in this order, the first failing one is reported):
 * wrong field count, missing id, mangled id (scientific notation), missing date, invalid
 * date, future date, invalid session, invalid episode, non-numeric score, out of range (the
 * first offending column), invalid flag, no scores (every instrument cell missing; pain_post
 * alone does not count), exact duplicate (same patient, date and session with identical
 * scores, pain_post and flags as an earlier accepted row) and conflicting duplicate (same
 * key, other values; the first row is kept and the message names the line it conflicts
 * with).
 *
 * The rejects stream (CSV, header "file,line,column,reason,message,raw"): file as given,
 * physical line where the record starts, 1-based column of the offending cell (empty when
 * the reason is about the whole row), reason name (reject_reason_name), a message like
 * "pain: '11' is outside 0–10", and the record's bytes as in the file. Fields go through
 * esc_csv. Counts reconcile: rows_read == rows_accepted + rows_rejected, per file and in
 * total, and rejected_by[] sums to rows_rejected.
 *
 * Wide format (ingest_opts_set_wide, one row per patient, one column per instrument and time
 * point, as trials publish them). The spec says which columns hold which instrument at which
 * time after baseline; each wide row becomes one visit per time point that has a score:
 *   patient id      patient_id (renamed as usual, e.g. `patient_id=id` in the spec) or the
 *                   composite key; checked as in long format
 *   visit_date      the baseline date + the time point's offset in days. The baseline date
 *                   is the spec's `date=COLUMN` (YYYY-MM-DD, checked as visit_date is), or
 *                   else the fixed synthetic baseline 1970-01-01, so day numbers are offsets
 *   session         the time point's rank 1..k among all distinct offsets of the spec, the
 *                   same for every patient (a missed 3-month visit leaves a gap, so the
 *                   12-month visit is session 3 for everyone)
 *   baseline        1 on the visit at offset 0, else 0; adverse_event missing
 *   scores          time points shared by several instruments form one visit
 *   other columns   patient covariates, as in long format. A column that means something
 *                   only in long format (visit_date, session, pain_post, adverse_event,
 *                   baseline) or is named like an instrument but not placed in the spec is a
 *                   file-level error rather than a silently ignored or misread column.
 * An empty (missing) cell is a missed visit: no visit for that time point, not a reject.
 * A row with any invalid score cell (non-numeric, out of range) is rejected whole, naming the
 * first such column, and yields no visit: partial acceptance would keep a patient's baseline
 * while dropping the follow-up the clinic has to correct, and rejects.csv then holds the row
 * once, to be fixed and re-read. The row checks, in order: wrong field count, missing or
 * mangled id, missing / invalid / future baseline date, non-numeric or out-of-range score (first column
 * in file order), no scores (every score cell empty), future date (baseline + offset after
 * today, naming that time point's first scored column), then duplicates: when any visit of
 * the row has the patient, date and session of an earlier accepted visit, the row is an exact
 * duplicate if every score cell equals what is already there (an absent visit counts as
 * empty), else a conflicting one naming the first differing column; the earlier visits stay.
 * Row counts stay counts of INPUT rows: a wide row that yields 3 visits is 1 accepted row,
 * so rows_read == rows_accepted + rows_rejected still holds but n_visits >= rows_accepted.
 *
 * File-level errors stop the run and are returned: OUT_EIO for a file that cannot be opened
 * or read; OUT_EINPUT, with file and line, for an empty file, no header, a missing required
 * column, no instrument column, an empty or duplicate column name, a header that differs
 * from the first file's, a UTF-16 byte-order mark, NUL bytes, invalid UTF-8, malformed
 * quoting, an unterminated quote at end of file, or a record longer than max_field bytes.
 * The dataset then holds a partial load and should be freed.
 */
#ifndef OUTCOMES_INGEST_H
#define OUTCOMES_INGEST_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "dataset.h"
#include "error.h"
#include "instrument.h"

enum { INGEST_MAP_MAX = 32, INGEST_NAME_MAX = 64, INGEST_KEY_MAX = 8, INGEST_WIDE_MAX = 64 };

/* Read column `source` of the file as if it were named `canonical`. */
struct ingest_colmap {
    char canonical[INGEST_NAME_MAX];
    char source[INGEST_NAME_MAX];
};

/* One score column of a wide file (see ingest_opts_set_wide). */
struct ingest_wide_col {
    char column[INGEST_NAME_MAX];       /* header name as in the file (case-insensitive) */
    char instrument[INGEST_NAME_MAX];   /* the instrument measured in it */
    int32_t day;                        /* offset after baseline, in days (>= 0) */
    char when[16];                      /* the offset as written ("3m"), for messages */
};

enum { INGEST_PROGRESS_BYTES = 8 << 20, INGEST_PIPELINE_MIN = 1 << 20 };

struct ingest_progress {
    const char *path;                 /* the file being read */
    unsigned long long bytes_read;    /* over every file so far */
    unsigned long long bytes_total;   /* 0 when unknown (a pipe) */
    long rows;                        /* data records read so far */
    int done;
};

struct ingest_opts {
    char delimiter;            /* ',', ';', '\t' (any byte but quote/CR/LF), 0 = detect */
    int decimal_comma;         /* accept "7,5" as 7.5 (for ';'-separated European files) */
    int strict;                /* any rejected row makes ingest fail (after reading it all) */
    int32_t today;             /* days since 1970-01-01; later visits are future_date */
    const struct instrument_table *instruments;   /* NULL = the built-in table */
    struct ingest_colmap column_map[INGEST_MAP_MAX];
    size_t n_map;
    /* Composite patient key: these columns, joined with '/', instead of patient_id (which
     * must then be absent). Any part missing rejects the row as missing_patient_id. */
    char key_column[INGEST_KEY_MAX][INGEST_NAME_MAX];
    size_t n_key;
    /* Relative time instead of visit_date (which must then be absent): time_column holds
     * a non-negative number of time_unit_days since the patient's start, and the visit is
     * dated 1970-01-01 + round(value * time_unit_days), so day numbers are offsets. A
     * missing value is missing_date; a negative or non-numeric one invalid_date. */
    char time_column[INGEST_NAME_MAX];
    double time_unit_days;     /* 1, 7, or 30.4375 (months); set with ingest_opts_set_time */
    /* Wide format when n_wide > 0 (set with ingest_opts_set_wide): the score columns,
     * in spec order, and the baseline date column ("" = the synthetic 1970-01-01). */
    struct ingest_wide_col wide[INGEST_WIDE_MAX];
    size_t n_wide;
    char wide_date[INGEST_NAME_MAX];
    size_t max_field;          /* bytes in one record (so in any field); 0 = 1 MiB */
    size_t chunk_size;         /* read size; 0 = 1 MiB (tests vary it) */
    /* 0 (default): read an input of INGEST_PIPELINE_MIN bytes or more, or of unknown size,
     * on two threads: one reads, hashes and splits it into records while the calling
     * thread judges them in order, which alone touches the dataset and rejects (same
     * result to the byte; memory for a few batches of records). 1: one thread. 2: two
     * threads whatever the size (tests). */
    int threads;
    /* Progress: when set, called with progress_user after about every INGEST_PROGRESS_BYTES
     * read and once when the last file is finished (done = 1). bytes_total is the sum of
     * the regular input files' sizes (0 when unknown); rows counts data records so far.
     * NULL (the default) = no calls. */
    void (*progress)(void *user, const struct ingest_progress *p);
    void *progress_user;
    /* Streaming, for input grouped by patient (every patient's rows together, as in a file
     * sorted by patient): when set, a row that starts a new patient first completes the
     * patients before it: their visits are added to ds->digest, passed to patient_done (ds
     * then holds exactly those visits) and dropped from ds (dataset_drop_visits); the last
     * patient the same way at the end of the input. Memory then grows with patients, not
     * visits. Duplicates are still found (a repeat comes among its patient's rows, or
     * breaks the grouping). An accepted row of a patient who is already complete makes
     * ingest stop with INGEST_UNGROUPED: discard ds and the rejects, and read the input
     * again without patient_done. A non-zero return from patient_done stops ingest with it. */
    int (*patient_done)(void *ctx, const struct dataset *ds, struct out_error *e);
    void *patient_done_ctx;
    /* Where the input is read on two threads (see `threads`), the digest and patient_done
     * run on a third, a batch of at least stream_batch visits of complete patients at a
     * time (0 = 32768; tests vary it), in order and one batch at a time. ds is then a
     * snapshot: instruments, counts and those visits, but patient_id NULL (a batch with a
     * patient of more than 65535 visits is passed on the reading thread, with ids). */
    size_t stream_batch;
    /* Bytes of records per hand-over in the two-thread reading pipeline (0 = 1 MiB);
     * tests make it small, to hand over many times. */
    size_t pipe_batch;
};

/* Returned by ingest when o->patient_done is set and the input is not grouped by patient. */
enum { INGEST_UNGROUPED = 64 };

/* Defaults: detect delimiter, '.' decimals, not strict, today = the local date,
 * built-in instruments, no renames, 1 MiB limits. */
void ingest_opts_default(struct ingest_opts *o);

/* Add a rename from a "canonical=source" spec (as given to --column), e.g.
 * "patient_id=record_id". A later rename of the same source replaces the earlier one, so a
 * command-line --column overrides a config file's. Returns 0, or OUT_EUSAGE with *e set for
 * a malformed spec, a name of INGEST_NAME_MAX bytes or more, or too many renames. Messages
 * do not name the option: the caller prefixes "--column" or the config key. */
int ingest_opts_add_column(struct ingest_opts *o, const char *spec, struct out_error *e);

/* Set the composite key from "col1,col2,..." (as given to --patient-key). Returns 0 or
 * OUT_EUSAGE. */
int ingest_opts_set_key(struct ingest_opts *o, const char *spec, struct out_error *e);

/* Set the relative time column from "COLUMN:UNIT", UNIT one of days, weeks, months (as
 * given to --relative-time). Returns 0 or OUT_EUSAGE. */
int ingest_opts_set_time(struct ingest_opts *o, const char *spec, struct out_error *e);

/* Read files in wide format (see above) from a spec such as
 *   "pain_vas: pk1@0d, pk2@3m, pk5@12m; patient_id=id; arm=group"
 * Segments are separated by ';' (an empty one is ignored) and are either
 *   INSTRUMENT: COLUMN@OFFSET, COLUMN@OFFSET, ...   (an instrument and its time points)
 *   date=COLUMN                                     (the baseline date column; optional)
 *   CANONICAL=SOURCE                                (a rename, as ingest_opts_add_column)
 * OFFSET is a number >= 0 (digits, optional fraction) and a unit: d/day/days, w/week/weeks,
 * m/month/months (30.4375 days), at most 100 years; the offset in days is rounded to the
 * nearest day (3m = 91.3125 -> 91, 12m = 365.25 -> 365). Columns are header names as in the
 * file, not renamed ones; a name cannot contain ',' ';' or '@'. Instruments must be in
 * o->instruments (NULL = built-ins), so declare extra instruments first.
 * Refused with a message naming the culprit: no instrument segment, an unknown instrument,
 * an instrument given twice, an item without '@' or with a bad offset, a column used twice
 * (also as the date column), two columns of one instrument at the same day, `date` given
 * twice, more than INGEST_WIDE_MAX columns, a name of INGEST_NAME_MAX bytes or more.
 * Returns 0, or OUT_EUSAGE with *e set and o unchanged. A second call replaces the time
 * points and the date column; its renames are added (last rename of a source wins). */
int ingest_opts_set_wide(struct ingest_opts *o, const char *spec, struct out_error *e);

/* Read the n files into ds, which must be freshly initialised (dataset_init): the first
 * file's header fixes the instruments and covariates. Writes the rejects header and one
 * line per rejected row to `rejects` (may be NULL). Each file is streamed in chunks of
 * o->chunk_size and hashed (ds->file[i].sha256). Returns 0, OUT_EINPUT (file-level error,
 * or a rejected row under o->strict: *e then describes the first rejected row), OUT_EIO
 * (unreadable file, or writing rejects failed) or OUT_EINTERNAL (out of memory). */
int ingest_files(const char *const *paths, size_t n, const struct ingest_opts *o,
                 struct dataset *ds, FILE *rejects, struct out_error *e);

/* As ingest_files for one file held in memory; `name` stands for its path in messages
 * and in ds->file. For tests and fuzzing. */
int ingest_buffer(const char *name, const void *data, size_t len, const struct ingest_opts *o,
                  struct dataset *ds, FILE *rejects, struct out_error *e);

/* Write ds as the normalised long-format visits.csv handed from `ingest` to `patients`:
 * header patient_id,visit_date,session,<instruments>,[pain_post,]adverse_event,baseline,
 * <covariates>; one row per accepted visit in input order; session empty when 0; scores in
 * the shortest form that reads back to the same double, in fixed notation (ingest takes no
 * exponent: 1e-05 is written 0.00001); adverse_event yes/no/empty;
 * baseline 1/0; each covariate repeated on every row of its patient. Fields are quoted per
 * RFC 4180 but written verbatim otherwise (no formula-injection prefix), so ingest reads
 * the file back to the same dataset; it is an interchange file, not a spreadsheet.
 * Returns 0 or OUT_EIO. */
int ingest_write_visits(const struct dataset *ds, FILE *fp, struct out_error *e);

#endif
