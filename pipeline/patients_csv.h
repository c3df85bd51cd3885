/* patients_csv.h — patients.csv: the per-patient measures as a file, written by `run` and
 * read back by `outcomes cohort patients.csv`, which reads nothing else.
 *
 * One row per patient, episode and instrument; every measure of struct pmeasure, then one
 * column per covariate (clinic, practitioner, arm, sex, age, ...). Columns and their meaning
 * are documented in docs/patients-csv.md. Missing values are empty cells, never nan/inf;
 * numbers are written in the shortest form that reads back to the same double, so
 * write -> read -> write is byte-identical.
 *
 * Ownership: a struct patient_table owns its measures and its dataset (ids, covariates and
 * instruments only, no visits); patient_table_free() releases both; free(NULL) is harmless.
 */
#ifndef OUTCOMES_PATIENTS_CSV_H
#define OUTCOMES_PATIENTS_CSV_H

#include <stdio.h>

#include "dataset.h"
#include "error.h"
#include "instrument.h"
#include "patient.h"

/* What the cohort stage gets back from patients.csv. set.m[i].patient indexes
 * ds.patient_id (ids in order of first appearance in the file), set.m[i].instr indexes
 * ds.instr[] (instruments in order of first appearance); covariates through
 * dataset_cov_index / dataset_cov exactly as on an ingested dataset. ds.n_visits is 0. */
struct patient_table {
    struct patient_set set;
    struct dataset ds;
};

void patient_table_init(struct patient_table *pt);
void patient_table_free(struct patient_table *pt);

/* Write patients.csv atomically to path (see outfile.h). ds supplies ids, instrument names
 * and covariates for ps (the dataset ps was computed from, or a patient_table's ds).
 * Returns 0 or OUT_EIO with *e set; on failure the previous file is left in place. */
int patients_csv_write(const char *path, const struct dataset *ds,
                       const struct patient_set *ps, struct out_error *e);
/* The same to an open stream, in blocks of about 32 KiB (fwrite). Returns 0, or -1 when
 * the stream reports an error or memory runs out (the stream then holds part of the file).
 * Thread-safe: reads ds/ps only and keeps its state on the stack and heap of the call, so it
 * may run on one thread while others read the same ds and ps (the cohort statistics). */
int patients_csv_write_fp(FILE *fp, const struct dataset *ds, const struct patient_set *ps);

/* Read patients.csv into *pt (initialised here). Instruments are looked up in tab (NULL:
 * the built-ins) for their label, MIC, cutoff and reliability; a name tab does not know
 * gets a placeholder entry (label = name, unbounded range, no MIC/cutoff/reliability) with
 * the direction the file states, since the measures in the file need nothing more. Each
 * instrument's S_diff (set.sdiff, for pm_rci) is one that gives the file's rci cells: tab's
 * when it does, else found from the cells, so tab need not know the run's reliability.
 * Returns 0; OUT_EIO when the file cannot be read; OUT_EINPUT, with file:line:col, for a
 * bad header, malformed CSV, a wrong field count, a value that does not parse strictly, a
 * patient whose covariates differ between rows, a computed cell that is not what the row
 * gives (rci: no one S_diff gives every rci cell of the instrument), or a duplicate
 * patient/episode/instrument; OUT_EINTERNAL on out of memory. On error *pt is left empty. */
int patients_csv_read(const char *path, const struct instrument_table *tab,
                      struct patient_table *pt, struct out_error *e);
/* The same from an open stream; name is used in error messages. */
int patients_csv_read_fp(FILE *fp, const char *name, const struct instrument_table *tab,
                         struct patient_table *pt, struct out_error *e);

#endif
