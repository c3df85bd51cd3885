/* gnuplot_run.c — see gnuplot_run.h. */
#include "gnuplot_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERRBUF_MAX 16384   /* enough for gnuplot's first complaints; the rest is drained */

/* Resolve the program in the parent, so "not found" is a clear message rather than an
 * exit status from a child, and the child only has to execv. Empty PATH entries (meaning
 * the current directory) are skipped: an output directory is no place to pick gnuplot from. */
static int find_program(const char *prog, char *out, size_t n)
{
    if (strchr(prog, '/')) {
        if (snprintf(out, n, "%s", prog) >= (int)n)
            return -1;
        return access(out, X_OK) == 0 ? 0 : -1;
    }
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/local/bin:/usr/bin:/bin";
    while (*path) {
        const char *end = strchr(path, ':');
        size_t len = end ? (size_t)(end - path) : strlen(path);
        if (len > 0 && snprintf(out, n, "%.*s/%s", (int)len, path, prog) < (int)n &&
            access(out, X_OK) == 0)
            return 0;
        path += len;
        if (*path == ':')
            path++;
    }
    return -1;
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int is_warning(const char *line, size_t len)
{
    for (size_t i = 0; i + 8 <= len; i++)
        if (memcmp(line + i, "warning:", 8) == 0)
            return 1;
    return 0;
}

static int is_blank_or_caret(const char *line, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (line[i] != ' ' && line[i] != '\t' && line[i] != '^' && line[i] != '\r')
            return 0;
    return 1;
}

/* gnuplot echoes the offending command and a caret line before the message proper
 * (`"x.gp" line 5: undefined variable: foo`), and may warn before it fails. Prefer the
 * first non-warning line that names a script line, then any non-warning line. */
static void first_error_line(const char *buf, char *out, size_t n)
{
    const char *best = NULL, *fallback = NULL, *any = NULL;
    size_t best_len = 0, fallback_len = 0, any_len = 0;
    for (const char *p = buf; *p;) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        if (!is_blank_or_caret(p, len)) {
            if (!any) { any = p; any_len = len; }
            if (!is_warning(p, len)) {
                if (!fallback) { fallback = p; fallback_len = len; }
                if (!best && len > 7 && strstr(p, " line ") && strstr(p, " line ") < p + len) {
                    best = p;
                    best_len = len;
                }
            }
        }
        p += len;
        if (*p == '\n')
            p++;
    }
    if (!best) { best = fallback; best_len = fallback_len; }
    if (!best) { best = any; best_len = any_len; }
    if (!best) {
        snprintf(out, n, "no message on stderr");
        return;
    }
    if (best_len > 300)
        best_len = 300;
    snprintf(out, n, "%.*s", (int)best_len, best);
}

struct child_fail { int stage; int err; };   /* reported by the child through a CLOEXEC pipe */

static void child(const char *path, const char *dir, const char *script, int errfd, int statfd)
{
    struct child_fail cf = { 0, 0 };
    setpgid(0, 0);
    if (chdir(dir) != 0) {
        cf.stage = 1;
        cf.err = errno;
        goto fail;
    }
    int devnull = open("/dev/null", O_RDWR);
    if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(devnull, 1) < 0 || dup2(errfd, 2) < 0) {
        cf.stage = 2;
        cf.err = errno;
        goto fail;
    }
    char *const argv[] = { (char *)"gnuplot", (char *)script, NULL };
    execv(path, argv);
    cf.stage = 3;
    cf.err = errno;
fail:
    if (write(statfd, &cf, sizeof cf) < 0) {
        /* nothing more can be said from here */
    }
    _exit(127);
}

static int set_cloexec(int fd)
{
    int fl = fcntl(fd, F_GETFD);
    return fl < 0 ? -1 : fcntl(fd, F_SETFD, fl | FD_CLOEXEC);
}

int gp_run(const char *gnuplot, const char *dir, const char *script, unsigned timeout_s,
           const char *what, struct out_error *e)
{
    char path[4096];
    const char *prog = gnuplot ? gnuplot : "gnuplot";
    if (timeout_s == 0)
        timeout_s = GP_TIMEOUT_DEFAULT;
    if (find_program(prog, path, sizeof path) != 0)
        return out_err(e, OUT_EIO, "", 0, 0,
                       "%s: cannot run gnuplot: '%s' not found%s (install gnuplot-nox)", what,
                       prog, strchr(prog, '/') ? " or not executable" : " on PATH");

    int errp[2] = { -1, -1 }, statp[2] = { -1, -1 };
    if (pipe(errp) != 0 || pipe(statp) != 0 || set_cloexec(errp[0]) != 0 ||
        set_cloexec(statp[0]) != 0 || set_cloexec(statp[1]) != 0) {
        int err = errno;
        for (int i = 0; i < 2; i++) {
            if (errp[i] >= 0) close(errp[i]);
            if (statp[i] >= 0) close(statp[i]);
        }
        return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: %s", what, strerror(err));
    }
    pid_t pid = fork();
    if (pid < 0) {
        int err = errno;
        close(errp[0]); close(errp[1]); close(statp[0]); close(statp[1]);
        return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: fork: %s", what,
                       strerror(err));
    }
    if (pid == 0)
        child(path, dir, script, errp[1], statp[1]);
    /* Both sides set the group, so a kill at the deadline cannot race the child's setpgid. */
    setpgid(pid, pid);
    close(errp[1]);
    close(statp[1]);

    struct child_fail cf = { 0, 0 };
    ssize_t got;
    do
        got = read(statp[0], &cf, sizeof cf);
    while (got < 0 && errno == EINTR);
    close(statp[0]);

    char *buf = malloc(ERRBUF_MAX + 1);
    size_t len = 0;
    int errfd = errp[0], reaped = 0, status = 0, timed_out = 0;
    double deadline = now_s() + (double)timeout_s;
    for (;;) {
        if (!reaped) {
            pid_t r = waitpid(pid, &status, WNOHANG);
            if (r == pid)
                reaped = 1;
        }
        if (reaped && errfd < 0)
            break;
        double left = deadline - now_s();
        if (left <= 0) {
            timed_out = !reaped;
            break;
        }
        if (errfd < 0) {
            struct timespec ts = { 0, 10000000 };
            nanosleep(&ts, NULL);
            continue;
        }
        struct pollfd pfd = { errfd, POLLIN, 0 };
        int ms = reaped ? 0 : (left > 0.05 ? 50 : (int)(left * 1000) + 1);
        int pr = poll(&pfd, 1, ms);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr > 0) {
            char chunk[4096];
            ssize_t k = read(errfd, chunk, sizeof chunk);
            if (k < 0 && errno == EINTR)
                continue;
            if (k <= 0) {
                close(errfd);
                errfd = -1;
            } else if (buf && len < ERRBUF_MAX) {
                size_t take = (size_t)k < ERRBUF_MAX - len ? (size_t)k : ERRBUF_MAX - len;
                memcpy(buf + len, chunk, take);
                len += take;
            }
        } else if (reaped || pr < 0) {
            /* The child is gone; a grandchild still holding stderr is not worth waiting for. */
            close(errfd);
            errfd = -1;
        }
    }
    if (errfd >= 0)
        close(errfd);
    if (timed_out) {
        kill(-pid, SIGKILL);
        kill(pid, SIGKILL);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
    }
    if (buf)
        buf[len] = '\0';

    int rc = 0;
    char line[400];
    if (cf.stage != 0) {
        rc = out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot '%s': %s: %s", what, path,
                     cf.stage == 1 ? "cannot enter the output directory"
                                   : cf.stage == 2 ? "cannot set up its files" : "exec failed",
                     strerror(cf.err));
    } else if (timed_out) {
        rc = out_err(e, OUT_EIO, "", 0, 0, "%s: gnuplot timed out after %u s and was killed",
                     what, timeout_s);
    } else if (WIFSIGNALED(status)) {
        first_error_line(buf ? buf : "", line, sizeof line);
        rc = out_err(e, OUT_EIO, "", 0, 0, "%s: gnuplot killed by signal %d: %s", what,
                     WTERMSIG(status), line);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        first_error_line(buf ? buf : "", line, sizeof line);
        rc = out_err(e, OUT_EIO, "", 0, 0, "%s: gnuplot failed (exit %d): %s", what,
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1, line);
    }
    free(buf);
    return rc;
}
