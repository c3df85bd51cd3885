/* quality.h — quality.csv: the row accounting and provenance of an `ingest` run.
 *
 * Later stages re-read the normalised visits.csv, which has lost the raw files' counts and
 * hashes; quality.csv carries them so every report still says how many rows each original
 * file had, how many were rejected and why, and which bytes were read (SHA-256).
 * Columns: kind,name,sha256,rows_read,rows_accepted,rows_rejected,first_visit,last_visit
 *   kind = total (name empty) | reason (name = reject reason, count in rows_rejected)
 *        | file (name = path).  Dates are YYYY-MM-DD or empty.
 */
#ifndef OUTCOMES_QUALITY_H
#define OUTCOMES_QUALITY_H

#include <stdio.h>

#include "dataset.h"
#include "error.h"

int quality_write(const struct dataset *ds, FILE *fp, struct out_error *e);

/* Replace ds's file list and row counts with those in path. Returns 0, OUT_EIO when the
 * file cannot be read, OUT_EINPUT when it is malformed. */
int quality_read(struct dataset *ds, const char *path, struct out_error *e);

#endif
