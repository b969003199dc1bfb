/*
 * channel_program — program_output: alerts written, one line each, to the
 * standard input of `program`, run through /bin/sh -c.
 *
 * keep_alive: false (Falco's default) runs the program once per alert:
 * start, write the alert, close its input, wait for it to exit; a spawn or
 * write error or a non-zero exit status fails that alert.
 * keep_alive: true starts it once and keeps writing to it.  When it exits
 * (its pipe breaks), it is restarted and the alert that met the broken pipe
 * is written again to the new process (up to 3 times).  A program that
 * exits with a non-zero status is restarted with a growing delay (0.1 s
 * doubling to 10 s), so a broken command does not fork in a loop.
 * Alerts already in the pipe when a program dies are lost with it — the
 * pipe cannot tell; "delivered" means "written to the program's input".
 * A reopen (SIGUSR1) restarts the program, as Falco does.  Stopping it (exit,
 * reopen) closes its input, allows output_timeout for it to exit, then sends
 * SIGTERM and, output_timeout later, SIGKILL to its process group.
 *
 * The pipe is non-blocking: a program that stops reading blocks only this
 * channel's worker (its queue fills and further alerts are dropped and
 * counted), never detection, and the worker still sees the drain deadline.
 */
#include "output/channel.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define MAX_ATTEMPTS 3
#define BACKOFF_MIN_MS 100
#define BACKOFF_MAX_MS 10000

typedef struct program_impl {
    char *cmd;
    bool keep_alive;
    pid_t pid;
    int fd;                     /* write end of the program's stdin */
    int backoff_ms;             /* delay before the next start (after a failed exit) */
    uint64_t restarts;
} program_impl;

static void eat_sigpipe(void)
{
    /* SIGPIPE is blocked in this thread; the one a broken pipe raised stays
     * pending until taken here. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    struct timespec zero = {0, 0};
    while (sigtimedwait(&set, NULL, &zero) > 0) {
    }
}

static int spawn(channel *ch, program_impl *p)
{
    if (p->backoff_ms && !channel_sleep(ch, p->backoff_ms))
        return -1;
    int fds[2];
    if (pipe2(fds, O_CLOEXEC)) {
        channel_fail(ch, 0, "cannot create a pipe: %s", strerror(errno));
        return -1;
    }
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
    posix_spawnattr_init(&at);
    /* the child gets a clean signal state: our workers block SIGPIPE */
    sigset_t none, def;
    sigemptyset(&none);
    sigemptyset(&def);
    sigaddset(&def, SIGPIPE);
    posix_spawnattr_setsigmask(&at, &none);
    posix_spawnattr_setsigdefault(&at, &def);
    /* its own process group: stopping it reaches what `sh -c` started */
    posix_spawnattr_setpgroup(&at, 0);
    posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);
    char *argv[] = {"sh", "-c", p->cmd, NULL};
    int rc = posix_spawn(&p->pid, "/bin/sh", &fa, &at, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&at);
    close(fds[0]);
    if (rc) {
        close(fds[1]);
        p->pid = 0;
        channel_fail(ch, 0, "cannot start '%s': %s", p->cmd, strerror(rc));
        p->backoff_ms = p->backoff_ms ? (p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : p->backoff_ms * 2)
                                      : BACKOFF_MIN_MS;
        return -1;
    }
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    p->fd = fds[1];
    return 0;
}

/* Wait for the program (its input already closed), at most until the
 * worker must stop.  Returns its wait status, or -1 if still running. */
static int reap(channel *ch, program_impl *p, bool bounded)
{
    int status = -1, ms = 1;
    int64_t until = channel_now_ns() + (int64_t)ch->timeout_ms * 1000000;
    for (;;) {
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid || (r < 0 && errno != EINTR))
            break;
        if (bounded && channel_now_ns() > until)
            return -1;
        if (!channel_sleep(ch, ms))
            return -1;
        ms = ms < 50 ? ms * 2 : 50;
    }
    p->pid = 0;
    return status;
}

/* Wait up to ms for the program to exit (plain sleeps: this runs when the
 * worker is being stopped too).  Returns true once it has been reaped. */
static bool wait_exit(program_impl *p, int ms)
{
    for (int waited = 0;; waited += 10) {
        int status;
        pid_t r = waitpid(p->pid, &status, WNOHANG);
        if (r == p->pid || (r < 0 && errno != EINTR)) {
            p->pid = 0;
            return true;
        }
        if (waited >= ms)
            return false;
        struct timespec ts = {0, 10 * 1000000};
        nanosleep(&ts, NULL);
    }
}

/* Stop the program, never leaving it behind: its input closed, it has
 * output_timeout to exit on its own (unless the worker is told to give
 * up), then SIGTERM, then after output_timeout SIGKILL — each to its
 * process group. */
static void stop_program(channel *ch, program_impl *p)
{
    if (p->fd >= 0)
        close(p->fd);
    p->fd = -1;
    if (p->pid <= 0)
        return;
    if (wait_exit(p, channel_stopping(ch) ? 0 : ch->timeout_ms))
        return;
    kill(-p->pid, SIGTERM);
    if (wait_exit(p, ch->timeout_ms))
        return;
    channel_fail(ch, 0, "'%s' (pid %d) did not exit after its input was closed and SIGTERM; killed", p->cmd,
                 (int)p->pid);
    kill(-p->pid, SIGKILL);
    wait_exit(p, 1000);
    p->pid = 0;
}

static const char *describe(int status, char *buf, size_t n)
{
    if (WIFEXITED(status))
        snprintf(buf, n, "exited with status %d", WEXITSTATUS(status));
    else if (WIFSIGNALED(status))
        snprintf(buf, n, "killed by signal %d", WTERMSIG(status));
    else
        snprintf(buf, n, "ended");
    return buf;
}

/* 0, -EPIPE when the program is gone, -1 when stopping, other -errno. */
static int write_all(channel *ch, program_impl *p, const char *s, size_t len)
{
    bool warned = false;
    int64_t start = channel_now_ns();
    while (len) {
        ssize_t w = write(p->fd, s, len);
        if (w > 0) {
            s += w;
            len -= (size_t)w;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EPIPE) {
            eat_sigpipe();
            return -EPIPE;
        }
        if (w < 0 && errno != EAGAIN)
            return -errno;
        /* the program is not reading: wait, visibly after output_timeout */
        if (!warned && channel_now_ns() - start > (int64_t)ch->timeout_ms * 1000000) {
            channel_retry(ch, "'%s' has not read its input for %d ms", p->cmd, ch->timeout_ms);
            warned = true;
        }
        if (channel_stopping(ch))
            return -1;
        struct pollfd pfd = {.fd = p->fd, .events = POLLOUT};
        poll(&pfd, 1, 50);
    }
    return 0;
}

static size_t deliver_keep_alive(channel *ch, program_impl *p, const outq_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int attempts = 0;
        for (;;) {
            if (p->fd < 0 && spawn(ch, p)) {
                if (channel_stopping(ch))
                    return i;
                if (++attempts >= MAX_ATTEMPTS) {
                    channel_fail(ch, 1, "'%s' cannot be started", p->cmd);
                    break;
                }
                continue;
            }
            int rc = write_all(ch, p, items[i].text, items[i].len);
            if (rc == 0) {
                channel_ok(ch, 1);
                break;
            }
            if (rc == -1)
                return i;
            char why[64] = "";
            if (rc == -EPIPE) {
                close(p->fd);
                p->fd = -1;
                int st = reap(ch, p, true);
                if (st >= 0) {
                    describe(st, why, sizeof why);
                } else if (p->pid > 0) {
                    snprintf(why, sizeof why, "closed its input without exiting (pid %d stopped)", (int)p->pid);
                    stop_program(ch, p);
                }
                /* a clean exit restarts at once; a failing one backs off */
                p->backoff_ms = st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0
                                : p->backoff_ms ? (p->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS
                                                                                     : p->backoff_ms * 2)
                                                : BACKOFF_MIN_MS;
                p->restarts++;
            } else {
                stop_program(ch, p);
                snprintf(why, sizeof why, "write error: %s", strerror(-rc));
            }
            if (++attempts >= MAX_ATTEMPTS) {
                channel_fail(ch, 1, "'%s' %s", p->cmd, why);
                break;
            }
            channel_retry(ch, "'%s' %s; restarting it", p->cmd, why);
        }
    }
    return n;
}

static size_t deliver_once(channel *ch, program_impl *p, const outq_item *items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (spawn(ch, p)) {
            if (channel_stopping(ch))
                return i;
            channel_fail(ch, 1, "'%s' cannot be started", p->cmd);
            continue;
        }
        int rc = write_all(ch, p, items[i].text, items[i].len);
        close(p->fd);
        p->fd = -1;
        int st = reap(ch, p, false);
        char why[64];
        if (rc == -1 || st == -1) {
            stop_program(ch, p); /* stopping: do not leave it behind half-fed */
            return i;
        }
        if (rc && rc != -EPIPE)
            channel_fail(ch, 1, "'%s' write error: %s", p->cmd, strerror(-rc));
        else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
            channel_fail(ch, 1, "'%s' %s", p->cmd, describe(st, why, sizeof why));
        else if (rc == -EPIPE)
            channel_fail(ch, 1, "'%s' exited without reading its input", p->cmd);
        else
            channel_ok(ch, 1);
        p->backoff_ms = 0; /* one run per alert: no restart loop to slow down */
    }
    return n;
}

static size_t program_deliver(channel *ch, const outq_item *items, size_t n)
{
    program_impl *p = ch->impl;
    return p->keep_alive ? deliver_keep_alive(ch, p, items, n) : deliver_once(ch, p, items, n);
}

static void program_reopen(channel *ch) { stop_program(ch, ch->impl); }

static void program_finish(channel *ch) { stop_program(ch, ch->impl); }

static void program_destroy(channel *ch)
{
    program_impl *p = ch->impl;
    if (!p)
        return;
    if (p->fd >= 0)
        close(p->fd);
    pg_free(p->cmd);
    pg_free(p);
}

static const channel_ops program_ops = {
    .name = "program",
    .deliver = program_deliver,
    .reopen = program_reopen,
    .finish = program_finish,
    .destroy = program_destroy,
};

channel *channel_program_new(const config *c, char *err, size_t errlen)
{
    if (!c->program_output_program || !*c->program_output_program) {
        snprintf(err, errlen, "program output enabled but no program in configuration block");
        return NULL;
    }
    program_impl *p = pg_calloc(1, sizeof *p);
    if (!p || !(p->cmd = pg_strdup(c->program_output_program))) {
        pg_free(p);
        snprintf(err, errlen, "program output: out of memory");
        return NULL;
    }
    p->fd = -1;
    p->keep_alive = c->program_output_keep_alive;
    return channel_new(&program_ops, p, c, err, errlen);
}
