/* gnuplot_run.h — run gnuplot scripts with a time limit, one at a time or several at once,
 * in a few long-lived gnuplot sessions rather than one gnuplot per script.
 *
 * gnuplot is a helper program we do not control: it may be missing, fail on a script, or
 * hang (a `pause` in a hand-edited script, a wedged font server). The caller gets a value,
 * never a hung pipeline: gnuplot is started with posix_spawn (no shell, so nothing in a path
 * is interpreted; no copy of our page tables, which a fork of a large process would make),
 * its stderr is captured, and its process group is killed at a script's deadline.
 *
 * Starting gnuplot costs more than drawing a typical chart, so a session draws script after
 * script: each is sent on gnuplot's stdin as `reset session`, `cd` into its directory,
 * `load` it, then `print` a numbered marker on stderr, once after the script succeeded and
 * once when gnuplot is through with it. A script's error leaves the session running (gnuplot
 * reading commands from a pipe reports an error and reads on); its messages are the stderr
 * between two markers, so each script gets its own. A session that dies (gnuplot exits or
 * crashes) fails only the script it was drawing; the next script starts a new one. A script
 * past its deadline is killed with its session.
 */
#ifndef OUTCOMES_GNUPLOT_RUN_H
#define OUTCOMES_GNUPLOT_RUN_H

#include "error.h"

#define GP_TIMEOUT_DEFAULT 30u   /* seconds */
#define GP_PARALLEL_MAX 8u       /* most gnuplot sessions a pool runs at once */

/* Run SCRIPT with gnuplot, in directory DIR, as `gnuplot SCRIPT` run in DIR would.
 *  gnuplot    program to run: a path containing '/', or a name looked up on PATH (empty
 *             entries skipped); NULL means "gnuplot". It is started without arguments and
 *             reads its commands from stdin.
 *  script     a file name (relative to dir, or absolute) without control characters.
 *  timeout_s  seconds before the gnuplot is killed with its process group; 0: the default.
 *  what       names the job in messages (e.g. "chart waterfall").
 * Returns 0 when the script ran to its end without an error. Otherwise returns OUT_EIO with
 * e->msg "WHAT: ..." saying gnuplot was not found, could not be started, failed (quoting the
 * first error line of its stderr), quit or was killed before the script's end, or timed out.
 * Nothing is printed; gnuplot's stdout is discarded. No child is left when it returns. */
int gp_run(const char *gnuplot, const char *dir, const char *script, unsigned timeout_s,
           const char *what, struct out_error *e);

/* One script for a pool. The caller fills the first six fields and keeps the job, and the
 * strings it points to, alive until done() has been called for it (or the pool freed). */
struct gp_job {
    const char *gnuplot, *dir, *script, *what;   /* as for gp_run */
    unsigned timeout_s;                          /* as for gp_run; counted from the moment
                                                    the script is handed to a session */
    void (*done)(struct gp_job *j);              /* NULL, or called once with rc and e set */
    void *arg;                                   /* the caller's, untouched */
    int rc;                                      /* set by the pool: what gp_run would return */
    struct out_error e;                          /* set by the pool when rc != 0 */
};

/* A pool draws queued jobs in at most max_running gnuplot sessions at once, each job with its
 * own deadline; a session is reused for the next job that names the same program. The pool
 * only makes progress inside gp_pool_add and gp_pool_wait (no threads, no signal handlers),
 * so a queued job starts, and a deadline is enforced, at the next of those calls. done()
 * callbacks run in the order the jobs were added, whatever order they finish in, so a caller
 * acting on results (renaming files, keeping the first error) behaves exactly as if the jobs
 * had run one after another. When done() runs, gnuplot has closed the job's output files.
 * done() must not call into the pool. */
struct gp_pool;

/* Online CPUs, at least 1 and at most GP_PARALLEL_MAX. */
unsigned gp_parallelism(void);

/* A new empty pool; max_running 0 means gp_parallelism(). NULL when out of memory. */
struct gp_pool *gp_pool_new(unsigned max_running);

/* Queue j and hand it to a session at once if one is free (starting a session if fewer than
 * max_running run); collects finished jobs without blocking (which may call done() for this
 * and earlier jobs). Returns 0, or OUT_EINTERNAL with *e set when out of memory (j is then
 * not queued and its done() is not called). */
int gp_pool_add(struct gp_pool *p, struct gp_job *j, struct out_error *e);

/* Block until every queued job has finished and its done() has been called, then end the
 * sessions (no gnuplot is left running or unreaped). Returns 0, or the rc of the first
 * failing job in the order added, with *e copied from it (e may be NULL). The pool can take
 * more jobs afterwards. */
int gp_pool_wait(struct gp_pool *p, struct out_error *e);

/* Free the pool; sessions still running are killed (their jobs' done() is not called). NULL
 * is fine. */
void gp_pool_free(struct gp_pool *p);

/* Convenience: run jobs[0..n) through a pool of max_running (0: gp_parallelism()) and
 * return what gp_pool_wait returns; each job's rc and e are set. */
int gp_run_all(struct gp_job *jobs, size_t n, unsigned max_running, struct out_error *e);

#endif
