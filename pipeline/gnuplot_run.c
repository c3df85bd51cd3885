/* gnuplot_run.c — see gnuplot_run.h.
 *
 * A pool is a list of slots in the order jobs were added. Each round (pool_step) reaps
 * children that exited, kills those past their deadline, starts queued jobs while slots are
 * free, hands finished jobs to their done() in order, and then waits in one poll() on every
 * running child's stderr for at most 50 ms (or until the nearest deadline). gp_run is a pool
 * of one, so a single render and a batch go through the same code.
 */
#define _GNU_SOURCE   /* posix_spawn_file_actions_addchdir_np, pipe2, _SC_NPROCESSORS_ONLN */
#include "gnuplot_run.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

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

/* ---- one child ------------------------------------------------------------------------ */

struct child {
    pid_t pid;
    int errfd;              /* read end of its stderr; -1 once closed */
    char *buf;              /* its first ERRBUF_MAX bytes of stderr (NULL when out of memory) */
    size_t len;
    double deadline;
    unsigned timeout_s;
    int reaped, status;
};

/* posix_spawn reports only an errno, not which step in the child failed. The steps are
 * chdir, opening /dev/null, exec; ask the file system which one it must have been, so the
 * message says as much as a child reporting its own stage would. */
static const char *spawn_stage(const char *dir)
{
    struct stat sb;
    if (stat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode) || access(dir, X_OK) != 0)
        return "cannot enter the output directory";
    if (access("/dev/null", R_OK | W_OK) != 0)
        return "cannot set up its files";
    return "exec failed";
}

/* Start j's gnuplot: in j->dir, stdin and stdout on /dev/null, stderr into a pipe we read,
 * in a process group of its own so the deadline can kill gnuplot and anything it started.
 * posix_spawn (CLONE_VFORK in glibc) neither copies our page tables, as fork would for a
 * process holding a million patients, nor returns before the exec succeeded or failed. */
static int child_start(const struct gp_job *j, struct child *c, struct out_error *e)
{
    char path[4096];
    const char *prog = j->gnuplot ? j->gnuplot : "gnuplot";
    memset(c, 0, sizeof *c);
    c->errfd = -1;
    c->timeout_s = j->timeout_s ? j->timeout_s : GP_TIMEOUT_DEFAULT;
    if (find_program(prog, path, sizeof path) != 0)
        return out_err(e, OUT_EIO, "", 0, 0,
                       "%s: cannot run gnuplot: '%s' not found%s (install gnuplot-nox)", j->what,
                       prog, strchr(prog, '/') ? " or not executable" : " on PATH");

    /* Both ends close on exec, so children running side by side never hold each other's
     * pipes open; the dup2 onto fd 2 gives gnuplot its end without the flag. The write end
     * must not be 0-2 itself, or setting up the child's fds 0-2 could close it first. */
    int errp[2];
    if (pipe2(errp, O_CLOEXEC) != 0)
        return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: %s", j->what,
                       strerror(errno));
    if (errp[1] <= 2) {
        int fd = fcntl(errp[1], F_DUPFD_CLOEXEC, 3);
        int err = errno;
        close(errp[1]);
        if (fd < 0) {
            close(errp[0]);
            return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: %s", j->what,
                           strerror(err));
        }
        errp[1] = fd;
    }

    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int err = posix_spawn_file_actions_init(&fa), spawn_err = 0;
    if (err == 0 && (err = posix_spawnattr_init(&at)) != 0)
        posix_spawn_file_actions_destroy(&fa);
    if (err == 0) {
        char *const argv[] = { (char *)"gnuplot", (char *)j->script, NULL };
        if ((err = posix_spawn_file_actions_addchdir_np(&fa, j->dir)) == 0 &&
            (err = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDWR, 0)) == 0 &&
            (err = posix_spawn_file_actions_adddup2(&fa, 0, 1)) == 0 &&
            (err = posix_spawn_file_actions_adddup2(&fa, errp[1], 2)) == 0 &&
            (err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP)) == 0 &&
            (err = posix_spawnattr_setpgroup(&at, 0)) == 0)
            err = spawn_err = posix_spawn(&c->pid, path, &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
    }
    close(errp[1]);
    if (err != 0) {
        close(errp[0]);
        if (spawn_err)
            return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot '%s': %s: %s", j->what,
                           path, spawn_stage(j->dir), strerror(err));
        return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: %s", j->what,
                       strerror(err));
    }
    c->errfd = errp[0];
    c->buf = malloc(ERRBUF_MAX + 1);
    c->deadline = now_s() + (double)c->timeout_s;
    return 0;
}

/* Keep what fits of a chunk of stderr; the rest is drained and dropped. */
static void child_read(struct child *c)
{
    char chunk[4096];
    ssize_t k = read(c->errfd, chunk, sizeof chunk);
    if (k < 0 && errno == EINTR)
        return;
    if (k <= 0) {
        close(c->errfd);
        c->errfd = -1;
    } else if (c->buf && c->len < ERRBUF_MAX) {
        size_t take = (size_t)k < ERRBUF_MAX - c->len ? (size_t)k : ERRBUF_MAX - c->len;
        memcpy(c->buf + c->len, chunk, take);
        c->len += take;
    }
}

/* The child is done (reaped, or past its deadline when timed_out): kill its group if need
 * be, and turn its exit into j's result. */
static void child_finish(struct child *c, int timed_out, struct gp_job *j)
{
    if (c->errfd >= 0)
        close(c->errfd);
    c->errfd = -1;
    if (timed_out) {
        kill(-c->pid, SIGKILL);
        kill(c->pid, SIGKILL);
        while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
            ;
    }
    if (c->buf)
        c->buf[c->len] = '\0';
    const char *err = c->buf ? c->buf : "";
    int status = c->status;
    char line[400];
    j->rc = 0;
    if (timed_out) {
        j->rc = out_err(&j->e, OUT_EIO, "", 0, 0, "%s: gnuplot timed out after %u s and was killed",
                        j->what, c->timeout_s);
    } else if (WIFSIGNALED(status)) {
        first_error_line(err, line, sizeof line);
        j->rc = out_err(&j->e, OUT_EIO, "", 0, 0, "%s: gnuplot killed by signal %d: %s", j->what,
                        WTERMSIG(status), line);
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        first_error_line(err, line, sizeof line);
        j->rc = out_err(&j->e, OUT_EIO, "", 0, 0, "%s: gnuplot failed (exit %d): %s", j->what,
                        WIFEXITED(status) ? WEXITSTATUS(status) : -1, line);
    }
    free(c->buf);
    c->buf = NULL;
}

/* ---- the pool ------------------------------------------------------------------------- */

enum { S_QUEUED, S_RUNNING, S_FINISHED };

struct slot {
    struct gp_job *job;
    int state;
    struct child c;
};

struct gp_pool {
    unsigned max_running, running;
    size_t n, cap;
    size_t next_done;       /* slots before it have had their done() */
    struct slot *s;
    int own_slots;          /* s is malloc'd (gp_run's pool of one lives on the stack) */
};

unsigned gp_parallelism(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > (long)GP_PARALLEL_MAX ? GP_PARALLEL_MAX : (unsigned)n;
}

static void pool_init(struct gp_pool *p, unsigned max_running)
{
    memset(p, 0, sizeof *p);
    if (max_running == 0)
        max_running = gp_parallelism();
    p->max_running = max_running > GP_PARALLEL_MAX ? GP_PARALLEL_MAX : max_running;
}

struct gp_pool *gp_pool_new(unsigned max_running)
{
    struct gp_pool *p = malloc(sizeof *p);
    if (p) {
        pool_init(p, max_running);
        p->own_slots = 1;
    }
    return p;
}

static void slot_finish(struct gp_pool *p, struct slot *s, int timed_out)
{
    child_finish(&s->c, timed_out, s->job);
    s->state = S_FINISHED;
    p->running--;
}

/* done() in the order the jobs were added: a job finishing early waits for those before it. */
static void pool_flush_done(struct gp_pool *p)
{
    while (p->next_done < p->n && p->s[p->next_done].state == S_FINISHED) {
        struct gp_job *j = p->s[p->next_done++].job;
        if (j->done)
            j->done(j);
    }
}

/* One round; may_block 0 only collects what is ready now. */
static void pool_step(struct gp_pool *p, int may_block)
{
    double now = now_s();
    for (size_t i = p->next_done; i < p->n; i++) {
        struct slot *s = &p->s[i];
        if (s->state != S_RUNNING)
            continue;
        struct child *c = &s->c;
        if (!c->reaped && waitpid(c->pid, &c->status, WNOHANG) == c->pid)
            c->reaped = 1;
        if (c->reaped && c->errfd < 0)
            slot_finish(p, s, 0);
        else if (now >= c->deadline)
            slot_finish(p, s, !c->reaped);   /* reaped: a grandchild holds stderr; let it be */
    }
    for (size_t i = p->next_done; i < p->n && p->running < p->max_running; i++) {
        struct slot *s = &p->s[i];
        if (s->state != S_QUEUED)
            continue;
        int rc = child_start(s->job, &s->c, &s->job->e);
        if (rc != 0) {
            s->job->rc = rc;
            s->state = S_FINISHED;
        } else {
            s->state = S_RUNNING;
            p->running++;
        }
    }
    pool_flush_done(p);
    if (p->running == 0)
        return;

    /* Wait for stderr output, an exit (its stderr closes) or the nearest deadline. A child
     * whose stderr closed but that is not reaped yet is about to be: look again shortly. */
    struct pollfd pfd[GP_PARALLEL_MAX];
    struct slot *who[GP_PARALLEL_MAX];
    nfds_t nfd = 0;
    int ms = 50;
    for (size_t i = p->next_done; i < p->n; i++) {
        struct slot *s = &p->s[i];
        if (s->state != S_RUNNING)
            continue;
        struct child *c = &s->c;
        int want;
        if (c->errfd < 0)
            want = 2;
        else if (c->reaped)
            want = 0;
        else {
            double left = c->deadline - now;
            want = left > 0.05 ? 50 : (int)(left * 1000) + 1;
        }
        if (want < ms)
            ms = want;
        if (c->errfd >= 0) {
            pfd[nfd] = (struct pollfd){ c->errfd, POLLIN, 0 };
            who[nfd++] = s;
        }
    }
    if (!may_block)
        ms = 0;
    if (nfd == 0) {
        struct timespec ts = { 0, (long)ms * 1000000L };
        if (ms > 0)
            nanosleep(&ts, NULL);
        return;
    }
    int pr = poll(pfd, nfd, ms);
    if (pr < 0 && errno == EINTR)
        return;
    for (nfds_t k = 0; k < nfd; k++) {
        struct child *c = &who[k]->c;
        if (pr > 0 && pfd[k].revents)
            child_read(c);
        else if (c->reaped || pr < 0) {
            /* The child is gone; a grandchild still holding stderr is not worth waiting for. */
            close(c->errfd);
            c->errfd = -1;
        }
    }
}

int gp_pool_add(struct gp_pool *p, struct gp_job *j, struct out_error *e)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        struct slot *ns = p->own_slots ? realloc(p->s, ncap * sizeof *ns) : NULL;
        if (!ns)
            return out_err(e, OUT_EINTERNAL, "", 0, 0, "%s: out of memory", j->what);
        p->s = ns;
        p->cap = ncap;
    }
    j->rc = 0;
    memset(&j->e, 0, sizeof j->e);
    p->s[p->n++] = (struct slot){ .job = j, .state = S_QUEUED, .c = { .errfd = -1 } };
    pool_step(p, 0);
    return 0;
}

int gp_pool_wait(struct gp_pool *p, struct out_error *e)
{
    while (p->next_done < p->n)
        pool_step(p, 1);
    int rc = 0;
    for (size_t i = 0; i < p->n && !rc; i++)
        if ((rc = p->s[i].job->rc) != 0 && e)
            *e = p->s[i].job->e;
    p->n = p->next_done = 0;
    return rc;
}

void gp_pool_free(struct gp_pool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        struct child *c = &p->s[i].c;
        if (p->s[i].state != S_RUNNING)
            continue;
        if (!c->reaped) {   /* once reaped, its pid may belong to someone else */
            kill(-c->pid, SIGKILL);
            kill(c->pid, SIGKILL);
            while (waitpid(c->pid, &c->status, 0) < 0 && errno == EINTR)
                ;
        }
        if (c->errfd >= 0)
            close(c->errfd);
        free(c->buf);
    }
    if (p->own_slots) {
        free(p->s);
        free(p);
    }
}

int gp_run_all(struct gp_job *jobs, size_t n, unsigned max_running, struct out_error *e)
{
    struct gp_pool *p = gp_pool_new(max_running);
    if (!p)
        return out_err(e, OUT_EINTERNAL, "", 0, 0, "gnuplot: out of memory");
    int rc = 0;
    for (size_t i = 0; i < n && !rc; i++)
        rc = gp_pool_add(p, &jobs[i], e);
    if (rc) {
        gp_pool_free(p);
        return rc;
    }
    rc = gp_pool_wait(p, e);
    gp_pool_free(p);
    return rc;
}

int gp_run(const char *gnuplot, const char *dir, const char *script, unsigned timeout_s,
           const char *what, struct out_error *e)
{
    struct gp_job j = { .gnuplot = gnuplot, .dir = dir, .script = script, .what = what,
                        .timeout_s = timeout_s };
    struct gp_pool p;
    struct slot one;
    pool_init(&p, 1);
    p.s = &one;
    p.cap = 1;
    gp_pool_add(&p, &j, e);   /* cannot fail: the one slot is there */
    int rc = gp_pool_wait(&p, e);
    gp_pool_free(&p);
    return rc;
}
