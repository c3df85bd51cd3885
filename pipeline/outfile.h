/* outfile.h — write a file atomically: into a temporary beside the target, then rename.
 *
 * A reader (a browser, a dashboard, the next stage) sees either the old file or the whole
 * new one, never a half-written one; a failed run leaves the last good file in place.
 * Usage: outfile_open → write to of.fp → outfile_commit (or outfile_abort on any error).
 * A symlink is followed: its target is replaced and the link stays (a dangling link is
 * replaced by the file). A target that exists and
 * is not a regular file is never replaced: a directory is an error at open; a device, FIFO or
 * /proc/self/fd link (/dev/null, /dev/stdout, a named pipe) gets the whole output copied in
 * at commit from an unnamed temporary (through the descriptor itself for /dev/stdout, so
 * `>> log` appends), or nothing on abort (a FIFO with no reader makes the
 * commit wait for one, as `cat > fifo` does).
 */
#ifndef OUTCOMES_OUTFILE_H
#define OUTCOMES_OUTFILE_H

#include <stdio.h>

#include "error.h"

struct outfile {
    FILE *fp;
    char path[4096];     /* the target: a symlink's resolved target; when direct, as given */
    char tmp[4096];      /* "" when direct */
    int direct;          /* a device or FIFO: fp is an unnamed temporary copied in at commit */
    int fd_target;       /* when direct through /proc/self/fd/N: N, written through; else -1 */
};

/* Open a temporary file in the target's directory. Returns 0 or OUT_EIO with *e set. */
int outfile_open(struct outfile *of, const char *path, struct out_error *e);
/* Flush, fsync, close and rename over the target. Returns 0 or OUT_EIO (temp removed). */
int outfile_commit(struct outfile *of, struct out_error *e);
/* Start the disk writes of what fp holds so far, without waiting for them (Linux:
 * sync_file_range), so that outfile_commit's fsync finds most of a large file already on
 * disk instead of writing all of it then. For writers of large files, every few tens of
 * MiB; a no-op where it does not apply (a pipe, a system without it). */
void outfile_writeback(FILE *fp);
/* Close and remove the temporary; the target is untouched. Safe to call twice. */
void outfile_abort(struct outfile *of);

/* mkdir -p. Returns 0 or OUT_EIO. */
int make_dirs(const char *path, struct out_error *e);

#endif
