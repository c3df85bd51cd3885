/* ingest.h — the `ingest` stage: clinics' and trials' visit CSV files in, a struct dataset
 * out, every data row either accepted or written to the rejects stream with its reason.
 *
 * Input (long format, one row per visit). Header names are matched case-insensitively after
 * trimming, after renaming through ingest_opts.column_map:
 *   patient_id      required; an empty or NA id rejects the row
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
 * wrong field count, missing id, missing date, invalid date, future date, invalid session,
 * non-numeric score, out of range (the first offending column), invalid flag, no scores
 * (every instrument cell missing; pain_post alone does not count), exact duplicate (same
 * patient, date and session with identical scores, pain_post and flags as an earlier
 * accepted row) and conflicting duplicate (same key, other values; the first row is kept
 * and the message names the line it conflicts with).
 *
 * The rejects stream (CSV, header "file,line,column,reason,message,raw"): file as given,
 * physical line where the record starts, 1-based column of the offending cell (empty when
 * the reason is about the whole row), reason name (reject_reason_name), a message like
 * "pain: '11' is outside 0–10", and the record's bytes as in the file. Fields go through
 * esc_csv. Counts reconcile: rows_read == rows_accepted + rows_rejected, per file and in
 * total, and rejected_by[] sums to rows_rejected.
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

enum { INGEST_MAP_MAX = 32, INGEST_NAME_MAX = 64, INGEST_KEY_MAX = 8 };

/* Read column `source` of the file as if it were named `canonical`. */
struct ingest_colmap {
    char canonical[INGEST_NAME_MAX];
    char source[INGEST_NAME_MAX];
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
    size_t max_field;          /* bytes in one record (so in any field); 0 = 1 MiB */
    size_t chunk_size;         /* read size; 0 = 1 MiB (tests vary it) */
};

/* Defaults: detect delimiter, '.' decimals, not strict, today = the local date,
 * built-in instruments, no renames, 1 MiB limits. */
void ingest_opts_default(struct ingest_opts *o);

/* Add a rename from a "canonical=source" spec (as given to --column), e.g.
 * "patient_id=record_id". Returns 0, or OUT_EUSAGE with *e set for a malformed spec, a name
 * of INGEST_NAME_MAX bytes or more, or too many renames. */
int ingest_opts_add_column(struct ingest_opts *o, const char *spec, struct out_error *e);

/* Set the composite key from "col1,col2,..." (as given to --patient-key). Returns 0 or
 * OUT_EUSAGE. */
int ingest_opts_set_key(struct ingest_opts *o, const char *spec, struct out_error *e);

/* Set the relative time column from "COLUMN:UNIT", UNIT one of days, weeks, months (as
 * given to --relative-time). Returns 0 or OUT_EUSAGE. */
int ingest_opts_set_time(struct ingest_opts *o, const char *spec, struct out_error *e);

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
 * the shortest form that reads back to the same double; adverse_event yes/no/empty;
 * baseline 1/0; each covariate repeated on every row of its patient. Fields are quoted per
 * RFC 4180 but written verbatim otherwise (no formula-injection prefix), so ingest reads
 * the file back to the same dataset; it is an interchange file, not a spreadsheet.
 * Returns 0 or OUT_EIO. */
int ingest_write_visits(const struct dataset *ds, FILE *fp, struct out_error *e);

#endif
