/* gnuplot_run.h — run gnuplot on one script as a child process, with a time limit.
 *
 * gnuplot is a helper program we do not control: it may be missing, fail on a script, or
 * hang (a `pause` in a hand-edited script, a wedged font server). The caller gets a value,
 * never a hung pipeline: gnuplot runs via fork/exec (no shell, so nothing in a path is
 * interpreted), its stderr is captured, and its process group is killed at the deadline.
 */
#ifndef OUTCOMES_GNUPLOT_RUN_H
#define OUTCOMES_GNUPLOT_RUN_H

#include "error.h"

#define GP_TIMEOUT_DEFAULT 30u   /* seconds */

/* Run `gnuplot SCRIPT` with working directory DIR.
 *  gnuplot    program to run: a path containing '/', or a name looked up on PATH;
 *             NULL means "gnuplot".
 *  timeout_s  seconds before the child's process group is killed; 0 means the default.
 *  what       names the job in messages (e.g. "chart waterfall").
 * Returns 0 when gnuplot exited with status 0. Otherwise returns OUT_EIO with e->msg
 * "WHAT: ..." saying gnuplot was not found, timed out, was killed, or failed, quoting the
 * first error line of its stderr. Nothing is printed; stdout is discarded. */
int gp_run(const char *gnuplot, const char *dir, const char *script, unsigned timeout_s,
           const char *what, struct out_error *e);

#endif
