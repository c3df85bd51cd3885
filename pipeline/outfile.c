/* outfile.c — see outfile.h. */
#define _GNU_SOURCE   /* sync_file_range */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The process umask, read once: reading it means setting it (umask(0) then back), which two
 * threads opening files at once (patients.csv is written on a second thread) could leave
 * at 0 for good. Nothing in the program changes it after start-up. */
static mode_t proc_umask;
static pthread_once_t umask_once = PTHREAD_ONCE_INIT;

static void read_umask(void)
{
    proc_umask = umask(0);
    umask(proc_umask);
}

int outfile_open(struct outfile *of, const char *path, struct out_error *e)
{
    memset(of, 0, sizeof *of);
    if (snprintf(of->path, sizeof of->path, "%s", path) >= (int)sizeof of->path ||
        snprintf(of->tmp, sizeof of->tmp, "%s.tmp.XXXXXX", path) >= (int)sizeof of->tmp)
        return out_err(e, OUT_EIO, path, 0, 0, "path too long");
    /* A directory is refused now, before any work, not at the rename. A device or FIFO
     * (`-o /dev/null`, `-o /dev/stdout`, a named pipe) is written to as it is: a temporary
     * renamed over it would replace the device with a file (and as root, for everyone). */
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return out_err(e, OUT_EIO, path, 0, 0, "cannot replace: %s", strerror(EISDIR));
    if (stat(path, &st) == 0 && !S_ISREG(st.st_mode)) {
        of->direct = 1;
        of->tmp[0] = '\0';
        if (!(of->fp = fopen(path, "we")))
            return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
        return 0;
    }
    int fd = mkstemp(of->tmp);
    if (fd < 0)
        return out_err(e, OUT_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
    /* Not inherited by gnuplot children started meanwhile by another thread. */
    fcntl(fd, F_SETFD, FD_CLOEXEC);
    /* mkstemp makes 0600; outputs are ordinary files. */
    pthread_once(&umask_once, read_umask);
    fchmod(fd, 0666 & ~proc_umask);
    of->fp = fdopen(fd, "w");
    if (!of->fp) {
        int err = errno;
        close(fd);
        unlink(of->tmp);
        return out_err(e, OUT_EIO, path, 0, 0, "cannot open: %s", strerror(err));
    }
    return 0;
}

int outfile_commit(struct outfile *of, struct out_error *e)
{
    if (!of->fp)
        return out_err(e, OUT_EIO, of->path, 0, 0, "not open");
    /* No fsync on a device or pipe (it has nothing to make durable; /dev/null says EINVAL). */
    int bad = ferror(of->fp) || fflush(of->fp) != 0 ||
              (!of->direct && fsync(fileno(of->fp)) != 0);
    int err = errno;
    if (fclose(of->fp) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    of->fp = NULL;
    if (bad) {
        if (!of->direct)
            unlink(of->tmp);
        return out_err(e, OUT_EIO, of->path, 0, 0, "write failed: %s", strerror(err));
    }
    if (of->direct)
        return 0;
    if (rename(of->tmp, of->path) != 0) {
        err = errno;
        unlink(of->tmp);
        return out_err(e, OUT_EIO, of->path, 0, 0, "cannot replace: %s", strerror(err));
    }
    return 0;
}

void outfile_writeback(FILE *fp)
{
#ifdef SYNC_FILE_RANGE_WRITE
    /* Errors are left to the fsync in outfile_commit, which reports them; here a failure
     * (ESPIPE on a pipe, EINVAL on a file system without it) only means no head start.
     * stdio's buffer first, or its last part would wait for the commit. */
    if (fflush(fp) != 0)
        return;   /* the error stays on the stream for outfile_commit to report */
    (void)sync_file_range(fileno(fp), 0, 0, SYNC_FILE_RANGE_WRITE);
#else
    (void)fflush(fp);
#endif
}

void outfile_abort(struct outfile *of)
{
    if (of->fp) {
        fclose(of->fp);
        of->fp = NULL;
        if (!of->direct)
            unlink(of->tmp);
    }
}

int make_dirs(const char *path, struct out_error *e)
{
    char buf[4096];
    if (snprintf(buf, sizeof buf, "%s", path) >= (int)sizeof buf)
        return out_err(e, OUT_EIO, path, 0, 0, "path too long");
    for (char *p = buf + 1;; p++) {
        if (*p == '/' || *p == '\0') {
            char c = *p;
            *p = '\0';
            if (mkdir(buf, 0777) != 0 && errno != EEXIST)
                return out_err(e, OUT_EIO, path, 0, 0, "cannot create directory: %s",
                               strerror(errno));
            *p = c;
            if (c == '\0')
                break;
        }
    }
    return 0;
}
