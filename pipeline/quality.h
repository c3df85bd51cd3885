/* quality.h — quality.csv: the row accounting and provenance of an `ingest` run.
 *
 * Later stages re-read the normalised visits.csv, which has lost the raw files' counts and
 * hashes; quality.csv carries them so every report still says how many rows each original
 * file had, how many were rejected and why, and which bytes were read (SHA-256).
 * Columns: kind,name,sha256,rows_read,rows_accepted,rows_rejected,first_visit,last_visit
 *   kind = total (name empty) | reason (name = reject reason, count in rows_rejected)
 *        | file (name = path)
 *        | ids (name = leading_zeros, count in rows_read: ds->ids_zero_led; a file
 *          without this row, from an earlier version, reads as IDS_ZERO_LED_UNKNOWN).
 *  A reason name this version does not know is an error, not a count dropped.
 *  Dates are YYYY-MM-DD or empty.
 */
#ifndef OUTCOMES_QUALITY_H
#define OUTCOMES_QUALITY_H

#include <stdio.h>

#include "dataset.h"
#include "error.h"

/* Patient ids that equal another id once leading zeros are dropped: all-digit ids such as
 * 007, 07 and 7 (three ids, one group). A spreadsheet drops the zeros of an id it reads as
 * a number, so one patient exported twice, once through a spreadsheet, becomes two. Ids
 * with any non-digit (P007, clinic/007) are not compared. Sets *count to the number of ids
 * in such groups and returns 0, or -1 when out of memory. Time linear in the ids; memory
 * (8 bytes a slot, load <= 3/4) only when some id starts with 0. */
int quality_count_zero_led_ids(const struct dataset *ds, size_t *count);

int quality_write(const struct dataset *ds, FILE *fp, struct out_error *e);

/* Replace ds's file list and row counts with those in path. Returns 0, OUT_EIO when the
 * file cannot be read, OUT_EINPUT when it is malformed. */
int quality_read(struct dataset *ds, const char *path, struct out_error *e);

#endif
