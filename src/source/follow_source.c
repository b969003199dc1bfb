/*
 * follow_source — follow a growing audit log across rotations (see
 * follow_source.h).
 *
 * One loop: wait for a change notification about our file name or for the
 * poll interval, then check() — which reads everything new and handles a
 * truncation or a new file at the path.  check() never relies on which
 * notification arrived, so a lost or coalesced notification (or none at
 * all, in polling mode) only delays reading by one interval.
 */
#include "source/follow_source.h"
#include "util/hex.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

typedef struct follower {
    const char *path;
    const char *base;              /* file name inside its directory, for inotify */
    const follow_opts *o;
    line_fn fn;
    void *ctx;
    line_reader r;
    follow_stats *fst;
    int fd;                        /* -1: no file yet (waiting for a create) */
    dev_t dev;
    ino_t ino;
    off_t off;                     /* bytes of fd consumed so far */
    int open_errno;                /* last open error reported, to log it once */
    char *err;
    size_t errlen;
} follower;

/* Open the file at the path.  at_end (at start only): position at its end,
 * skipping the tail of a line begun before we looked.  Returns 1 if opened,
 * 0 if there is no usable file there (yet), negative errno on an error. */
static int open_file(follower *f, int at_end)
{
    int fd = open(f->path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0) {
        if (errno != ENOENT && errno != f->open_errno)
            log_msg("%s: cannot open: %s (retrying)", f->path, strerror(errno));
        f->open_errno = errno;
        return 0;
    }
    f->open_errno = 0;
    struct stat sb;
    if (fstat(fd, &sb)) {
        int e = errno;
        close(fd);
        snprintf(f->err, f->errlen, "%s: %s", f->path, strerror(e));
        return -e;
    }
    if (!S_ISREG(sb.st_mode)) {
        close(fd);
        if (at_end) { /* at start: a usage error (a directory is file input, not follow) */
            snprintf(f->err, f->errlen, "cannot follow %s: not a regular file", f->path);
            return -EINVAL;
        }
        return 0;
    }
    off_t off = 0;
    line_reader_start(&f->r, f->path);
    if (at_end && sb.st_size > 0) {
        off = lseek(fd, 0, SEEK_END);
        size_t n = off < LINE_READER_TAIL ? (size_t)off : LINE_READER_TAIL;
        if (off > 0 && pread(fd, f->r.tail, n, off - (off_t)n) == (ssize_t)n) {
            f->r.tail_len = n; /* so that a rewrite is noticed before our first read */
            if (f->r.tail[n - 1] != '\n')
                line_reader_discard_partial(&f->r);
        }
    }
    f->fd = fd;
    f->dev = sb.st_dev;
    f->ino = sb.st_ino;
    f->off = off;
    return 1;
}

/* Hand out everything written to the open file since the last call. */
static int read_new(follower *f)
{
    int rc = line_reader_fill(&f->r, f->fd, f->fn, f->ctx, f->err, f->errlen);
    off_t pos = lseek(f->fd, 0, SEEK_CUR);
    if (pos >= 0)
        f->off = pos;
    return rc;
}

/* The current file is finished (rotated away): its unterminated last line,
 * if any, is handed out as a line, as at the end of a file. */
static int close_file(follower *f)
{
    int rc = line_reader_finish(&f->r, f->fn, f->ctx);
    close(f->fd);
    f->fd = -1;
    return rc;
}

/* Truncated and already written past our offset again?  Size alone cannot
 * tell (upstream reads from the old offset then, into the middle of new
 * lines); the bytes before our offset are no longer the ones we read. */
static int rewritten(follower *f)
{
    size_t n = f->r.tail_len;
    if (!n || (off_t)n > f->off)
        return 0;
    char now[LINE_READER_TAIL];
    return pread(f->fd, now, n, f->off - (off_t)n) != (ssize_t)n || memcmp(now, f->r.tail, n) != 0;
}

static int check(follower *f)
{
    int rc;
    if (f->fd < 0) {
        rc = open_file(f, 0); /* created after we started: all of it is new */
        if (rc <= 0)
            return rc;
    }
    struct stat sb;
    if (fstat(f->fd, &sb) == 0 && (sb.st_size < f->off || rewritten(f))) {
        /* copy-truncate: the content we read was copied elsewhere; start over */
        log_msg("%s: truncated (at %lld bytes, now %lld); reading from its start", f->path, (long long)f->off,
                (long long)sb.st_size);
        if (f->fst)
            f->fst->truncations++;
        rc = line_reader_finish(&f->r, f->fn, f->ctx);
        if (rc)
            return rc;
        line_reader_start(&f->r, f->path);
        f->off = lseek(f->fd, 0, SEEK_SET);
    }
    rc = read_new(f);
    if (rc || (f->r.stop && *f->r.stop))
        return rc; /* on a stop, the caller drains (rotation included) without the stop flag */
    /* Rotation by rename + create: switch only once the new file has data,
     * i.e. once the writer has moved to it; until then the writer may still
     * append to the old one (logrotate `create` before the writer reopens). */
    struct stat pb;
    if (stat(f->path, &pb) == 0 && S_ISREG(pb.st_mode) && (pb.st_dev != f->dev || pb.st_ino != f->ino) &&
        pb.st_size > 0) {
        rc = read_new(f); /* what the writer added to the old file before switching */
        if (rc)
            return rc;
        rc = close_file(f);
        if (rc)
            return rc;
        log_msg("%s: rotated; following the new file", f->path);
        if (f->fst)
            f->fst->rotations++;
        rc = open_file(f, 0);
        if (rc <= 0)
            return rc;
        rc = read_new(f);
    }
    return rc;
}

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Sleep until a notification names our file, the interval passes, or a
 * signal arrives.  On a broken watch, fall back to polling (*ifd = -1). */
static void wait_change(follower *f, int *ifd, unsigned poll_ms)
{
    long long deadline = now_ms() + poll_ms;
    for (;;) {
        long long left = deadline - now_ms();
        if (left <= 0 || (f->o->stop && *f->o->stop))
            return;
        if (*ifd < 0) {
            struct timespec ts = {left / 1000, (left % 1000) * 1000000};
            nanosleep(&ts, NULL); /* a signal cuts it short */
            return;
        }
        struct pollfd p = {.fd = *ifd, .events = POLLIN};
        int n = poll(&p, 1, (int)left);
        if (n <= 0)
            return; /* timeout, or EINTR: let the caller look at the stop flag */
        char evbuf[8192] __attribute__((aligned(__alignof__(struct inotify_event))));
        ssize_t got = read(*ifd, evbuf, sizeof evbuf);
        if (got <= 0)
            continue;
        int ours = 0;
        for (char *p8 = evbuf; p8 < evbuf + got;) {
            const struct inotify_event *ev = (const struct inotify_event *)p8;
            if (ev->mask & (IN_Q_OVERFLOW | IN_IGNORED))
                ours = 1;
            if (ev->mask & IN_IGNORED) {
                /* the directory itself went away: keep going by polling */
                log_msg("%s: directory watch removed; polling every %u ms", f->path, poll_ms);
                close(*ifd);
                *ifd = -1;
                break;
            }
            if (ev->len && !strcmp(ev->name, f->base))
                ours = 1;
            p8 += sizeof *ev + ev->len;
        }
        if (ours)
            return;
    }
}

int follow_source_run(const char *path, const follow_opts *o, line_fn fn, void *ctx, file_stats *st,
                      follow_stats *fst, char *err, size_t errlen)
{
    unsigned poll_ms = o->poll_ms ? o->poll_ms : 200;
    follower f = {.path = path, .o = o, .fn = fn, .ctx = ctx, .fst = fst, .fd = -1, .err = err, .errlen = errlen};
    line_reader_init(&f.r, o->max_line, st);
    line_reader_on_too_long(&f.r, o->too_long, ctx);
    f.r.stop = o->stop;

    /* the parent directory must exist (upstream fails to watch it otherwise) */
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX];
    if (!slash)
        snprintf(dir, sizeof dir, ".");
    else if (slash == path)
        snprintf(dir, sizeof dir, "/");
    else
        snprintf(dir, sizeof dir, "%.*s", (int)(slash - path), path);
    f.base = slash ? slash + 1 : path;
    struct stat sb;
    if (!*f.base || (size_t)(slash ? slash - path : 1) >= sizeof dir) {
        snprintf(err, errlen, "%s: not a file name", path);
        return -EINVAL;
    }
    if (stat(dir, &sb)) {
        int e = errno;
        snprintf(err, errlen, "cannot follow %s: %s: %s", path, dir, strerror(e));
        return -e;
    }
    if (!S_ISDIR(sb.st_mode)) {
        snprintf(err, errlen, "cannot follow %s: %s is not a directory", path, dir);
        return -ENOTDIR;
    }

    int ifd = -1;
    if (!o->no_inotify) {
        ifd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
        uint32_t mask = IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE | IN_CLOSE_WRITE | IN_ATTRIB;
        if (ifd >= 0 && inotify_add_watch(ifd, dir, mask) < 0) {
            log_msg("%s: cannot watch %s (%s); polling every %u ms", path, dir, strerror(errno), poll_ms);
            close(ifd);
            ifd = -1;
        }
    }

    int rc = open_file(&f, 1);
    if (rc >= 0) {
        rc = 0;
        log_msg("%s: following (lines written from now on)", path);
    }
    while (!rc) {
        if (o->stop && *o->stop) {
            /* drain: every complete line written before the stop is handed out */
            f.r.stop = NULL;
            rc = check(&f);
            if (!rc && line_reader_pending(&f.r))
                log_msg("%s: stopping with %zu bytes of an unfinished line unread", path,
                        line_reader_pending(&f.r));
            break;
        }
        rc = check(&f);
        if (rc)
            break;
        if (o->idle)
            o->idle(ctx);
        wait_change(&f, &ifd, poll_ms);
    }
    if (o->idle)
        o->idle(ctx);
    if (f.fd >= 0)
        close(f.fd);
    if (ifd >= 0)
        close(ifd);
    line_reader_free(&f.r);
    return rc;
}

int follow_source_url_path(const char *url, char *out, size_t outlen, char *err, size_t errlen)
{
    if (strncmp(url, "file://", 7)) {
        snprintf(err, errlen, "'%s' is not a file:// URL", url);
        return -EINVAL;
    }
    const char *p = strchr(url + 7, '/'); /* skip the authority, as net/url does */
    if (p) {
        const char *q = p + strcspn(p, "?#");
        size_t n = 0;
        for (; p < q; p++) {
            char c = *p;
            if (c == '%') {
                int hi = hexval(p[1]), lo = hi < 0 ? -1 : hexval(p[2]);
                if (lo < 0) {
                    snprintf(err, errlen, "'%s': invalid URL escape", url);
                    return -EINVAL;
                }
                c = (char)(hi * 16 + lo);
                p += 2;
            }
            if (n + 1 >= outlen || c == '\0') {
                snprintf(err, errlen, "'%s': invalid file path", url);
                return -EINVAL;
            }
            out[n++] = c;
        }
        out[n] = 0;
        if (n)
            return 0;
    }
    snprintf(err, errlen, "'%s': no file path (use file:///absolute/path)", url);
    return -EINVAL;
}
