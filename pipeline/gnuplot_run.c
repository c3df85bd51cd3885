/* gnuplot_run.c — see gnuplot_run.h.
 *
 * A pool is a list of slots (jobs, in the order added) and up to max_running workers, each a
 * gnuplot session: a child reading commands from a socket on its stdin and writing errors
 * and our markers to a pipe on its stderr. Each round (pool_step) kills sessions whose job
 * is past its deadline, notices sessions that died, hands queued jobs in order to idle
 * sessions (starting one while fewer than max_running run), hands finished jobs to their
 * done() in order, and then waits in one poll() on every session's stderr for at most 50 ms
 * (or until the nearest deadline). A job ends when its session prints the job's "done"
 * marker, or with the session (exit, crash, deadline). gp_run is a pool of one, so a single
 * render and a batch go through the same code.
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
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define ERRBUF_MAX 16384   /* enough for gnuplot's first complaints; the rest is drained */
#define LINE_KEEP 512      /* a longer stderr line is kept cut; markers are far shorter */
#define STOP_WAIT_S 2.0    /* an idle session told to quit gets this long before a SIGKILL */

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
 * (`"x.gp" line 5: undefined variable: foo`, indented when the script was loaded in a
 * session), and may warn before it fails. Prefer the first non-warning line that names a
 * script line, then any non-warning line; the indent is dropped. */
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
    while (best_len > 0 && (*best == ' ' || *best == '\t')) {
        best++;
        best_len--;
    }
    if (best_len > 300)
        best_len = 300;
    snprintf(out, n, "%.*s", (int)best_len, best);
}

/* ---- commands for a session ------------------------------------------------------------ */

/* A path can go into a single-quoted gnuplot string only without control characters: a
 * newline would end the command. */
static int quotable(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            return 0;
    return 1;
}

/* s as a single-quoted gnuplot string: no backslash, backquote or macro processing; a '
 * doubled. The caller makes sure s does not start with a quote (gnuplot would read '''' as
 * two empty strings). */
static size_t put_quoted(char *out, const char *s)
{
    size_t o = 0;
    out[o++] = '\'';
    for (; *s; s++) {
        if (*s == '\'')
            out[o++] = '\'';
        out[o++] = *s;
    }
    out[o++] = '\'';
    return o;
}

/* The commands that draw one script in a session, as a malloc'd string (NULL when out of
 * memory). `reset session` first, so every script starts from what a fresh gnuplot would
 * (settings, variables, the init files). Neither it nor `set terminal` clears the svg
 * terminal's memory of the last colour drawn, which goes into the attributes of the first
 * (empty) group of the next SVG; an empty page drawn with `clear` resets it, so each SVG is
 * byte for byte what a fresh gnuplot writes. cd and load share a line: when the cd fails,
 * gnuplot drops the rest of the line, so no script runs in the wrong directory, and when the
 * script fails, the "ok" marker after it is dropped too. `unset output` closes a picture a
 * failed script left open; `set print` sends the markers to stderr even if a script
 * redirected print. absdir NULL: no cd (the session was started there). */
static char *session_commands(const char *absdir, const char *script, unsigned long seq)
{
    size_t need = 2 * strlen(script) + (absdir ? 2 * strlen(absdir) : 0) + 512;
    char *c = malloc(need);
    if (!c)
        return NULL;
    size_t o = (size_t)sprintf(c, "reset session\n"
                                  "set terminal svg; set output '/dev/null'; clear; "
                                  "unset output\n");
    if (absdir) {
        o += (size_t)sprintf(c + o, "cd ");
        o += put_quoted(c + o, absdir);
        o += (size_t)sprintf(c + o, "; ");
    }
    /* A leading ' ~ or - would be read as an empty string, a home directory or stdin. */
    int dot = script[0] == '\'' || script[0] == '~' || script[0] == '-';
    char *rel = NULL;
    if (dot && (rel = malloc(strlen(script) + 3)) != NULL)
        sprintf(rel, "./%s", script);
    if (dot && !rel) {
        free(c);
        return NULL;
    }
    o += (size_t)sprintf(c + o, "load ");
    o += put_quoted(c + o, rel ? rel : script);
    free(rel);
    sprintf(c + o, "; set print; print 'outcomes-ok %lu'\n"
                   "unset output; set print; print 'outcomes-done %lu'\n", seq, seq);
    return c;
}

/* ---- the pool's parts -------------------------------------------------------------------- */

enum { S_QUEUED, S_RUNNING, S_FINISHED };

struct worker;

struct slot {
    struct gp_job *job;
    int state;
    struct worker *w;       /* the session drawing it, while S_RUNNING */
    char *buf;              /* its first ERRBUF_MAX bytes of stderr (NULL when out of memory) */
    size_t len;
    double deadline;
    unsigned timeout_s;
    int ok;                 /* the session printed the script's "ok" marker */
};

/* One gnuplot session. */
struct worker {
    pid_t pid;              /* 0: no session */
    char *prog;             /* the program it runs, as resolved */
    int in;                 /* our end of its stdin: a socket, so that writing to a session
                               that died fails with EPIPE (send's MSG_NOSIGNAL) instead of
                               raising SIGPIPE in the whole program */
    int err;                /* read end of its stderr, non-blocking; -1 once closed */
    struct slot *cur;       /* the job it draws, or NULL when idle */
    unsigned long seq;      /* jobs handed to it: numbers the markers */
    char line[LINE_KEEP];   /* the stderr line being read */
    size_t line_len;
    int reaped, status;
};

struct gp_pool {
    unsigned max_running;
    struct worker w[GP_PARALLEL_MAX];
    size_t n, cap;
    size_t next_done;       /* slots before it have had their done() */
    struct slot *s;
    int own_slots;          /* s is malloc'd (gp_run's pool of one lives on the stack) */
};

/* ---- one session --------------------------------------------------------------------------- */

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

/* The fds we hand to a child must not be 0-2 themselves, or setting up its 0-2 could close
 * them first. The copy keeps close-on-exec. */
static int move_above_stdio(int *fd)
{
    if (*fd > 2)
        return 0;
    int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
    int err = errno;
    close(*fd);
    *fd = nfd;
    errno = err;
    return nfd < 0 ? -1 : 0;
}

static void worker_close(struct worker *w)
{
    if (w->in >= 0)
        close(w->in);
    if (w->err >= 0)
        close(w->err);
    free(w->prog);
    *w = (struct worker){ .in = -1, .err = -1 };
}

/* Start a session running PATH in DIR: stdin our socket, stdout /dev/null, stderr into a pipe
 * we read, in a process group of its own so a deadline can kill gnuplot and anything it
 * started. posix_spawn (CLONE_VFORK in glibc) neither copies our page tables, as fork would
 * for a process holding a million patients, nor returns before the exec succeeded or failed.
 * Every fd we keep is close-on-exec, so sessions never hold each other's pipes open (a
 * session would then see no end of input when we close its stdin). */
static int worker_start(struct worker *w, const char *path, const char *dir, const char *what,
                        struct out_error *e)
{
    int sv[2] = { -1, -1 }, errp[2] = { -1, -1 };
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0 ||
        pipe2(errp, O_CLOEXEC) != 0 || move_above_stdio(&sv[1]) != 0 ||
        move_above_stdio(&errp[1]) != 0) {
        int err = errno;
        for (int i = 0; i < 2; i++) {
            if (sv[i] >= 0)
                close(sv[i]);
            if (errp[i] >= 0)
                close(errp[i]);
        }
        return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: %s", what, strerror(err));
    }
    char *prog = strdup(path);
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int err = prog ? posix_spawn_file_actions_init(&fa) : ENOMEM, spawn_err = 0;
    if (err == 0 && (err = posix_spawnattr_init(&at)) != 0)
        posix_spawn_file_actions_destroy(&fa);
    pid_t pid = 0;
    if (err == 0) {
        char *const argv[] = { (char *)"gnuplot", NULL };
        if ((err = posix_spawn_file_actions_addchdir_np(&fa, dir)) == 0 &&
            (err = posix_spawn_file_actions_adddup2(&fa, sv[1], 0)) == 0 &&
            (err = posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0)) == 0 &&
            (err = posix_spawn_file_actions_adddup2(&fa, errp[1], 2)) == 0 &&
            (err = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP)) == 0 &&
            (err = posix_spawnattr_setpgroup(&at, 0)) == 0)
            err = spawn_err = posix_spawn(&pid, path, &fa, &at, argv, environ);
        posix_spawn_file_actions_destroy(&fa);
        posix_spawnattr_destroy(&at);
    }
    close(sv[1]);
    close(errp[1]);
    if (err != 0) {
        close(sv[0]);
        close(errp[0]);
        free(prog);
        if (spawn_err)
            return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot '%s': %s: %s", what,
                           path, spawn_stage(dir), strerror(err));
        return out_err(e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: %s", what,
                       strerror(err));
    }
    fcntl(errp[0], F_SETFL, fcntl(errp[0], F_GETFL) | O_NONBLOCK);
    *w = (struct worker){ .pid = pid, .prog = prog, .in = sv[0], .err = errp[0] };
    return 0;
}

/* Hand slot s to session w: the commands go on its stdin, the deadline starts now.
 * Returns 0; -1 when the session is gone (its stdin closed), s then being w's job, which
 * the caller ends with the session; -2 when out of memory (s not taken). */
static int worker_send(struct worker *w, struct slot *s, const char *absdir)
{
    char *cmd = session_commands(absdir, s->job->script, w->seq + 1);
    if (!cmd)
        return -2;
    w->seq++;
    size_t len = strlen(cmd), off = 0;
    int rc = 0;
    while (off < len) {
        ssize_t k = send(w->in, cmd + off, len - off, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0) {
            rc = -1;
            break;
        }
        off += (size_t)k;
    }
    free(cmd);
    w->cur = s;
    w->line_len = 0;
    s->w = w;
    s->state = S_RUNNING;
    s->buf = malloc(ERRBUF_MAX + 1);
    s->len = 0;
    s->ok = 0;
    s->deadline = now_s() + (double)s->timeout_s;
    return rc;
}

static void slot_keep(struct slot *s, const char *text, size_t len)
{
    if (s->buf && s->len < ERRBUF_MAX) {
        size_t take = len < ERRBUF_MAX - s->len ? len : ERRBUF_MAX - s->len;
        memcpy(s->buf + s->len, text, take);
        s->len += take;
    }
}

/* The job's outcome is known: record it and free the session for the next one. */
static void slot_finish(struct slot *s, int rc)
{
    struct gp_job *j = s->job;
    j->rc = rc;
    if (s->w)
        s->w->cur = NULL;
    s->w = NULL;
    s->state = S_FINISHED;
    free(s->buf);
    s->buf = NULL;
}

static const char *slot_text(struct slot *s)
{
    if (!s->buf)
        return "";
    s->buf[s->len] = '\0';
    return s->buf;
}

/* A whole line of stderr: one of the current job's markers, or text to keep for its message.
 * Lines while idle (none are expected) are dropped. */
static void worker_line(struct worker *w)
{
    struct slot *s = w->cur;
    char mark[64];
    w->line[w->line_len] = '\0';
    if (!s) {
        w->line_len = 0;
        return;
    }
    snprintf(mark, sizeof mark, "outcomes-ok %lu", w->seq);
    if (strcmp(w->line, mark) == 0) {
        s->ok = 1;
    } else {
        snprintf(mark, sizeof mark, "outcomes-done %lu", w->seq);
        if (strcmp(w->line, mark) == 0) {
            char line[400];
            int rc = 0;
            if (!s->ok) {
                first_error_line(slot_text(s), line, sizeof line);
                rc = out_err(&s->job->e, OUT_EIO, "", 0, 0, "%s: gnuplot failed: %s",
                             s->job->what, line);
            }
            slot_finish(s, rc);
        } else {
            slot_keep(s, w->line, w->line_len);
            slot_keep(s, "\n", 1);
        }
    }
    w->line_len = 0;
}

/* Read what the session wrote. Returns 1 at end of file (the session is gone), else 0. */
static int worker_read(struct worker *w)
{
    char chunk[4096];
    ssize_t k = read(w->err, chunk, sizeof chunk);
    if (k < 0 && (errno == EINTR || errno == EAGAIN))
        return 0;
    if (k <= 0) {
        if (w->line_len > 0)   /* a last line without its newline */
            worker_line(w);
        close(w->err);
        w->err = -1;
        return 1;
    }
    for (ssize_t i = 0; i < k; i++) {
        if (chunk[i] == '\n')
            worker_line(w);
        else if (w->line_len < LINE_KEEP - 1)
            w->line[w->line_len++] = chunk[i];
    }
    return 0;
}

static void worker_kill(struct worker *w)
{
    if (w->pid > 0 && !w->reaped) {   /* once reaped, its pid may belong to someone else */
        kill(-w->pid, SIGKILL);
        kill(w->pid, SIGKILL);
        while (waitpid(w->pid, &w->status, 0) < 0 && errno == EINTR)
            ;
        w->reaped = 1;
    }
}

/* Wait up to secs for the session to exit by itself, reading its stderr meanwhile (the rest
 * of a message; and a full pipe would keep it from exiting); kill it after that. */
static void worker_reap(struct worker *w, double secs)
{
    double end = now_s() + secs;
    while (w->pid > 0 && !w->reaped) {
        if (waitpid(w->pid, &w->status, WNOHANG) == w->pid) {
            w->reaped = 1;
            break;
        }
        double left = end - now_s();
        if (left <= 0) {
            worker_kill(w);
            break;
        }
        if (w->err >= 0) {
            struct pollfd pf = { w->err, POLLIN, 0 };
            if (poll(&pf, 1, left > 0.01 ? 10 : 1) > 0)
                worker_read(w);
        } else {
            struct timespec ts = { 0, 1000000L };
            nanosleep(&ts, NULL);
        }
    }
    while (w->err >= 0 && worker_read(w) == 0) {   /* what is left, without waiting */
        struct pollfd pf = { w->err, POLLIN, 0 };
        if (poll(&pf, 1, 0) <= 0)
            break;
    }
}

/* The session ended (exited, crashed, or was killed at a deadline when timed_out): the job it
 * was drawing, if any, failed; the slot is free for a new session. */
static void worker_ended(struct worker *w, int timed_out)
{
    if (timed_out)
        worker_kill(w);
    else
        worker_reap(w, STOP_WAIT_S);
    struct slot *s = w->cur;   /* after the last reads, which may have finished it */
    if (s) {
        struct gp_job *j = s->job;
        int st = w->status;
        char line[400];
        first_error_line(slot_text(s), line, sizeof line);
        int rc;
        if (timed_out)
            rc = out_err(&j->e, OUT_EIO, "", 0, 0, "%s: gnuplot timed out after %u s and was "
                         "killed", j->what, s->timeout_s);
        else if (WIFSIGNALED(st))
            rc = out_err(&j->e, OUT_EIO, "", 0, 0, "%s: gnuplot killed by signal %d: %s",
                         j->what, WTERMSIG(st), line);
        else if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
            rc = out_err(&j->e, OUT_EIO, "", 0, 0, "%s: gnuplot failed (exit %d): %s", j->what,
                         WEXITSTATUS(st), line);
        else
            rc = out_err(&j->e, OUT_EIO, "", 0, 0, "%s: gnuplot quit before the end of the "
                         "script: %s", j->what, line);
        slot_finish(s, rc);
    }
    worker_close(w);
}

/* ---- the pool ------------------------------------------------------------------------- */

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
    for (unsigned i = 0; i < GP_PARALLEL_MAX; i++)
        p->w[i] = (struct worker){ .in = -1, .err = -1 };
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

/* Tell a session there is no more work and wait for it to go. */
static void worker_stop(struct worker *w)
{
    if (w->in >= 0)
        close(w->in);
    w->in = -1;
    worker_ended(w, 0);
}

/* A session for a job running PATH: an idle one running it, else room for a new one (an
 * idle session running another program makes room), else NULL: wait. */
static struct worker *pick_worker(struct gp_pool *p, const char *path)
{
    struct worker *empty = NULL, *other = NULL;
    for (unsigned i = 0; i < p->max_running; i++) {
        struct worker *w = &p->w[i];
        if (w->pid == 0) {
            if (!empty)
                empty = w;
        } else if (!w->cur) {
            if (strcmp(w->prog, path) == 0)
                return w;
            if (!other)
                other = w;
        }
    }
    if (!empty && other) {
        worker_stop(other);
        empty = other;
    }
    return empty;
}

/* Where the job's commands cd to: its directory made absolute, as gnuplot's own directory
 * changes from job to job. 0, or -1 when that path cannot be put in a command. */
static int absolute_dir(const char *dir, char *out, size_t n)
{
    if (dir[0] == '/') {
        if (snprintf(out, n, "%s", dir) >= (int)n)
            return -1;
    } else {
        char cwd[4096];
        if (!getcwd(cwd, sizeof cwd) || snprintf(out, n, "%s/%s", cwd, dir) >= (int)n)
            return -1;
    }
    return quotable(out) ? 0 : -1;
}

/* What can be known about job j before a session gets it: its program (resolved into path),
 * a script name a command can carry, a directory to work in. 0, or the job's error. */
static int job_check(struct gp_job *j, char *path, size_t n)
{
    const char *prog = j->gnuplot ? j->gnuplot : "gnuplot";
    if (find_program(prog, path, n) != 0)
        return out_err(&j->e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot: '%s' not found%s "
                       "(install gnuplot-nox)", j->what, prog,
                       strchr(prog, '/') ? " or not executable" : " on PATH");
    if (!quotable(j->script))
        return out_err(&j->e, OUT_EINTERNAL, "", 0, 0, "%s: script name has control "
                       "characters", j->what);
    /* A session already running could only report a failed cd, less clearly than this. */
    struct stat sb;
    int err = 0;
    if (stat(j->dir, &sb) != 0)
        err = errno;
    else if (!S_ISDIR(sb.st_mode))
        err = ENOTDIR;
    else if (access(j->dir, X_OK) != 0)
        err = errno;
    if (err)
        return out_err(&j->e, OUT_EIO, "", 0, 0, "%s: cannot run gnuplot '%s': cannot enter the "
                       "output directory: %s", j->what, path, strerror(err));
    return 0;
}

/* Hand queued slot s to a session. Returns 1 when every session is busy (s stays queued),
 * else 0 (s runs, or has finished with an error). */
static int slot_start(struct gp_pool *p, struct slot *s)
{
    struct gp_job *j = s->job;
    char path[4096], absdir[8192];
    s->timeout_s = j->timeout_s ? j->timeout_s : GP_TIMEOUT_DEFAULT;
    int rc = job_check(j, path, sizeof path);
    if (rc) {
        slot_finish(s, rc);
        return 0;
    }
    struct worker *w = pick_worker(p, path);
    if (!w)
        return 1;
    /* A directory no command can name gets a session started in it. */
    int cd = absolute_dir(j->dir, absdir, sizeof absdir) == 0;
    if (!cd && w->pid)
        worker_stop(w);
    if (!w->pid && (rc = worker_start(w, path, j->dir, j->what, &j->e)) != 0) {
        slot_finish(s, rc);
        return 0;
    }
    rc = worker_send(w, s, cd ? absdir : NULL);
    if (rc == -2)
        slot_finish(s, out_err(&j->e, OUT_EINTERNAL, "", 0, 0, "%s: out of memory", j->what));
    else if (rc != 0)
        worker_ended(w, 0);   /* it died before taking the job: that is the job's outcome */
    return 0;
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
    for (unsigned i = 0; i < p->max_running; i++) {
        struct worker *w = &p->w[i];
        if (w->pid && w->cur && now >= w->cur->deadline)
            worker_ended(w, 1);
        else if (w->pid && waitpid(w->pid, &w->status, WNOHANG) == w->pid) {
            /* Gone, though a grandchild may still hold its stderr: not worth waiting for. */
            w->reaped = 1;
            worker_ended(w, 0);
        }
    }
    for (size_t i = p->next_done; i < p->n; i++)
        if (p->s[i].state == S_QUEUED && slot_start(p, &p->s[i]))
            break;
    pool_flush_done(p);

    /* Wait for stderr output (a marker, a message, the end of a session) or the nearest
     * deadline. */
    struct pollfd pfd[GP_PARALLEL_MAX];
    struct worker *who[GP_PARALLEL_MAX];
    nfds_t nfd = 0;
    int ms = 50;
    now = now_s();
    for (unsigned i = 0; i < p->max_running; i++) {
        struct worker *w = &p->w[i];
        if (!w->pid || w->err < 0)
            continue;
        if (w->cur) {
            double left = w->cur->deadline - now;
            int want = left > 0.05 ? 50 : left > 0 ? (int)(left * 1000) + 1 : 0;
            if (want < ms)
                ms = want;
        }
        pfd[nfd] = (struct pollfd){ w->err, POLLIN, 0 };
        who[nfd++] = w;
    }
    if (nfd == 0)
        return;
    if (!may_block)
        ms = 0;
    int pr = poll(pfd, nfd, ms);
    if (pr <= 0)
        return;
    for (nfds_t k = 0; k < nfd; k++)
        if (pfd[k].revents && worker_read(who[k]))
            worker_ended(who[k], 0);
    pool_flush_done(p);
}

int gp_pool_add(struct gp_pool *p, struct gp_job *j, struct out_error *e)
{
    if (p->n == p->cap) {
        size_t ncap = p->cap ? p->cap * 2 : 16;
        struct slot *ns = p->own_slots ? realloc(p->s, ncap * sizeof *ns) : NULL;
        if (!ns)
            return out_err(e, OUT_EINTERNAL, "", 0, 0, "%s: out of memory", j->what);
        /* Sessions point at the slots they draw: move those pointers along. */
        for (size_t i = 0; i < p->n; i++)
            if (ns[i].w)
                ns[i].w->cur = &ns[i];
        p->s = ns;
        p->cap = ncap;
    }
    j->rc = 0;
    memset(&j->e, 0, sizeof j->e);
    p->s[p->n++] = (struct slot){ .job = j, .state = S_QUEUED };
    pool_step(p, 0);
    return 0;
}

/* End every session: tell them all at once, then reap them one by one. */
static void pool_stop_sessions(struct gp_pool *p)
{
    for (unsigned i = 0; i < GP_PARALLEL_MAX; i++)
        if (p->w[i].in >= 0) {
            close(p->w[i].in);
            p->w[i].in = -1;
        }
    for (unsigned i = 0; i < GP_PARALLEL_MAX; i++)
        if (p->w[i].pid)
            worker_stop(&p->w[i]);
}

int gp_pool_wait(struct gp_pool *p, struct out_error *e)
{
    while (p->next_done < p->n)
        pool_step(p, 1);
    pool_stop_sessions(p);
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
    for (unsigned i = 0; i < GP_PARALLEL_MAX; i++) {
        worker_kill(&p->w[i]);
        worker_close(&p->w[i]);
    }
    for (size_t i = 0; i < p->n; i++)
        free(p->s[i].buf);
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
