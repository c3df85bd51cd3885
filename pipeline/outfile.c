/* outfile.c — see outfile.h. */
#define _GNU_SOURCE   /* sync_file_range */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
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

/* Whether following path's symlinks passes through /proc (/dev/stdout is a link to
 * /proc/self/fd/1): such a file is someone's open descriptor, and renaming onto what it
 * resolves to would replace the file behind it (a `>> log` redirection, say). */
static int links_into_proc(const char *path, char *t, size_t tn)
{
    char cur[PATH_MAX];
    if (snprintf(cur, sizeof cur, "%s", path) >= (int)sizeof cur || tn < 7)
        return 0;
    if (strncmp(path, "/proc/", 6) == 0) {
        snprintf(t, tn, "%s", path);
        return 1;
    }
    for (int hop = 0; hop < 40; hop++) {
        struct stat lst;
        if (lstat(cur, &lst) != 0 || !S_ISLNK(lst.st_mode))
            return 0;
        ssize_t n = readlink(cur, t, tn - 1);
        if (n < 0)
            return 0;
        t[n] = '\0';
        if (strncmp(t, "/proc/", 6) == 0)
            return 1;
        if (t[0] == '/') {
            memcpy(cur, t, (size_t)n + 1);
        } else {   /* relative to the link's directory */
            char *slash = strrchr(cur, '/');
            size_t dir = slash ? (size_t)(slash - cur) + 1 : 0;
            if (dir + (size_t)n + 1 > sizeof cur)
                return 0;
            memcpy(cur + dir, t, (size_t)n + 1);
        }
    }
    return 0;
}

/* The descriptor a /proc path names when it is one of ours (/proc/self/fd/N), else -1. */
static int own_fd(const char *t)
{
    char self[32];
    int n = -1, end = 0;
    snprintf(self, sizeof self, "/proc/%ld/fd/", (long)getpid());
    const char *num = strncmp(t, "/proc/self/fd/", 14) == 0 ? t + 14
                      : strncmp(t, self, strlen(self)) == 0 ? t + strlen(self) : NULL;
    if (num && sscanf(num, "%d%n", &n, &end) == 1 && num[end] == '\0' && n >= 0)
        return n;
    return -1;
}

/* Where a write to path really lands: a symlink's target (so the link survives the rename),
 * or path itself when it is not a link or its target cannot be resolved (dangling). */
static int resolve_target(const char *path, char *out, size_t n)
{
    struct stat lst;
    char buf[PATH_MAX];
    if (lstat(path, &lst) == 0 && S_ISLNK(lst.st_mode) && realpath(path, buf))
        return snprintf(out, n, "%s", buf) >= (int)n ? -1 : 0;
    return snprintf(out, n, "%s", path) >= (int)n ? -1 : 0;
}

int outfile_open(struct outfile *of, const char *path, struct out_error *e)
{
    memset(of, 0, sizeof *of);
    if (resolve_target(path, of->path, sizeof of->path) != 0 ||
        snprintf(of->tmp, sizeof of->tmp, "%s.tmp.XXXXXX", of->path) >= (int)sizeof of->tmp)
        return out_err(e, OUT_EIO, path, 0, 0, "path too long");
    /* A directory is refused now, before any work, not at the rename. A device, FIFO or
     * /proc/self/fd link (`-o /dev/null`, `-o /dev/stdout`, a named pipe) cannot be replaced
     * by a rename without destroying it (as root, for everyone): the output is gathered in an
     * unnamed temporary file and copied there at commit, so it still gets all or nothing. */
    struct stat st;
    int exists = stat(of->path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode))
        return out_err(e, OUT_EIO, path, 0, 0, "cannot replace: %s", strerror(EISDIR));
    char proc[PATH_MAX];
    int via_proc = links_into_proc(path, proc, sizeof proc);
    if (exists && (!S_ISREG(st.st_mode) || via_proc)) {
        of->direct = 1;
        of->fd_target = via_proc ? own_fd(proc) : -1;
        of->tmp[0] = '\0';
        snprintf(of->path, sizeof of->path, "%s", path);   /* opened by its own name */
        if (!(of->fp = tmpfile()))
            return out_err(e, OUT_EIO, path, 0, 0, "cannot create a temporary file: %s",
                           strerror(errno));
        fcntl(fileno(of->fp), F_SETFD, FD_CLOEXEC);
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

/* Direct mode's commit: the gathered temporary, copied to the device or pipe. */
static int copy_out(struct outfile *of, struct out_error *e)
{
    FILE *src = of->fp;
    of->fp = NULL;
    int bad = ferror(src) || fflush(src) != 0 || fseek(src, 0, SEEK_SET) != 0;
    int err = errno;
    /* Our own descriptor (/dev/stdout): written through a copy of it, so its offset and
     * append mode hold (reopening /proc/self/fd/1 would start at 0, or truncate). Else the
     * device or FIFO opened without O_TRUNC. */
    int fd = bad ? -1 : of->fd_target >= 0 ? fcntl(of->fd_target, F_DUPFD_CLOEXEC, 0)
                                           : open(of->path, O_WRONLY | O_CLOEXEC);
    FILE *dst = fd < 0 ? NULL : fdopen(fd, "w");
    if (fd >= 0 && !dst)
        close(fd);
    if (!bad && !dst) {
        err = errno;
        fclose(src);
        return out_err(e, OUT_EIO, of->path, 0, 0, "cannot open: %s", strerror(err));
    }
    char buf[65536];
    size_t n;
    while (!bad && (n = fread(buf, 1, sizeof buf, src)) > 0)
        if (fwrite(buf, 1, n, dst) != n) {
            bad = 1;
            err = errno;
        }
    if (!bad && ferror(src)) {
        bad = 1;
        err = errno;
    }
    if (dst && fclose(dst) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    fclose(src);   /* an unnamed temporary: closing removes it */
    if (bad)
        return out_err(e, OUT_EIO, of->path, 0, 0, "write failed: %s", strerror(err));
    return 0;
}

int outfile_commit(struct outfile *of, struct out_error *e)
{
    if (!of->fp)
        return out_err(e, OUT_EIO, of->path, 0, 0, "not open");
    if (of->direct)
        return copy_out(of, e);
    int bad = ferror(of->fp) || fflush(of->fp) != 0 || fsync(fileno(of->fp)) != 0;
    int err = errno;
    if (fclose(of->fp) != 0 && !bad) {
        bad = 1;
        err = errno;
    }
    of->fp = NULL;
    if (bad) {
        unlink(of->tmp);
        return out_err(e, OUT_EIO, of->path, 0, 0, "write failed: %s", strerror(err));
    }
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
