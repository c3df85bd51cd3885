/* plan.h — "how many patients would we need?": how often each claim of a registry would be
 * supported, contradicted or left open by a cohort of a given size, estimated by simulation.
 *
 * For each cohort size N and each replicate r (0 .. reps-1), the simulator writes a data set
 * of N patients with seed + r (the other parameters as given), and it goes through the same
 * ingest, per-patient and audit code, with the same defaults, as `outcomes run`. Replicate r
 * can therefore be reproduced on its own:
 *   outcomes simulate --patients N --seed (seed + r) [same options] -o r.csv
 *   outcomes run --claims FILE r.csv
 * Every size uses the same seeds, so the sizes are compared on common random numbers.
 * Replicates may run on several threads (plan_opts.threads); they are tallied in seed order,
 * so the output does not depend on the number.
 *
 * The output is one CSV row per audited claim row (registry order) per size:
 *   patients,claim,part,statistic,reps,supported,contradicted,inconclusive,
 *   insufficient_data,not_auditable,share_supported,supported_lo,supported_hi,
 *   share_contradicted,contradicted_lo,contradicted_hi,median_estimate
 * The shares are of the replicates, each with a 95% Wilson interval for the Monte Carlo
 * error (the share itself is an estimate from `reps` draws). median_estimate is the median of
 * the finite estimates of the replicates the audit decided on (supported, contradicted or
 * inconclusive), empty when there are none: an insufficient one's rests on too few patients.
 *
 * Nothing is printed; errors are returned with *e set (OUT_EUSAGE for invalid parameters,
 * OUT_EIO when writing fails, OUT_EINTERNAL when out of memory; a replicate that the
 * pipeline refuses keeps that stage's code, and the message names its size and seed).
 */
#ifndef OUTCOMES_PLAN_H
#define OUTCOMES_PLAN_H

#include <stdio.h>

#include "claims.h"
#include "error.h"
#include "simulate.h"

enum { PLAN_MAX_SIZES = 32, PLAN_MAX_THREADS = 64 };

struct plan_opts {
    struct sim_params sim;           /* the simulated clinic; sim.patients is ignored */
    long patients[PLAN_MAX_SIZES];   /* cohort sizes, each >= 1 */
    size_t n_sizes;                  /* 1 .. PLAN_MAX_SIZES */
    long reps;                       /* replicates per size, 1 .. 100000 */
    int threads;                     /* replicates run at once; 0 or 1: one at a time. The
                                        table is the same bytes whatever the number */
    /* Called after each replicate with the size's index and the replicates done at it
     * (1 .. reps, in order: calls are serialised, from any of the threads); NULL for none.
     * For a progress line: it must not write to out. */
    void (*progress)(void *ctx, size_t size_i, long done);
    void *progress_ctx;
    const char *out_name;            /* what a write error names; NULL: "standard output" */
};

/* Writes the header and the rows described above to out. Returns 0 or an error (above). */
int plan_run(const struct plan_opts *o, const struct claim_set *cs, FILE *out,
             struct out_error *e);

/* One output row from a tally; public so it can be tested on hand-checked counts.
 * count[] is indexed by enum verdict; est holds the n_est finite estimates (reordered). */
int plan_write_row(FILE *out, long patients, const char *claim, const char *part,
                   const char *statistic, const long *count, long reps, double *est,
                   size_t n_est);

#endif
