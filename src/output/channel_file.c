/*
 * channel_file — file_output: alerts appended to `filename`, one line
 * each (the same bytes stdout gets).
 *
 * keep_alive: false (Falco's default) opens the file for appending, writes
 * and closes it again — per batch of queued alerts rather than per alert,
 * which gives the same file.  keep_alive: true keeps it open; a reopen
 * (SIGUSR1, for logrotate) closes it so the next alert creates the new
 * file.  Writes are plain write(2)s of whole batches: nothing is held in a
 * stdio buffer, so buffered_outputs does not delay this channel.
 * A failed write (ENOSPC, EIO, ...) fails the alerts it carried; the file
 * is closed and opened again for the next batch.
 */
#include "output/channel.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

typedef struct file_impl {
    char *path;
    bool keep_alive;
    int fd;
} file_impl;

static int open_file(file_impl *f)
{
    if (f->fd < 0)
        f->fd = open(f->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    return f->fd < 0 ? -1 : 0;
}

static void close_file(file_impl *f)
{
    if (f->fd >= 0)
        close(f->fd);
    f->fd = -1;
}

/* Write items[0..n) with as few writev calls as possible.  Returns how
 * many were written whole; sets *err on failure. */
static size_t write_items(int fd, const outq_item *items, size_t n, int *err)
{
    size_t done = 0, off = 0; /* off: bytes of items[done] already written */
    while (done < n) {
        struct iovec iov[64];
        int k = 0;
        for (size_t i = done; i < n && k < 64; i++, k++) {
            size_t skip = i == done ? off : 0;
            iov[k] = (struct iovec){.iov_base = (char *)items[i].text + skip, .iov_len = items[i].len - skip};
        }
        ssize_t w = writev(fd, iov, k);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            *err = errno;
            return done;
        }
        size_t left = (size_t)w;
        while (done < n && left >= items[done].len - off) {
            left -= items[done].len - off;
            off = 0;
            done++;
        }
        off += left;
    }
    return done;
}

static size_t file_deliver(channel *ch, const outq_item *items, size_t n)
{
    file_impl *f = ch->impl;
    if (open_file(f)) {
        channel_fail(ch, n, "cannot open %s: %s", f->path, strerror(errno));
        return n;
    }
    int err = 0;
    size_t ok = write_items(f->fd, items, n, &err);
    channel_ok(ch, ok);
    if (ok < n) {
        channel_fail(ch, n - ok, "write to %s: %s", f->path, strerror(err));
        close_file(f);
    }
    if (!f->keep_alive)
        close_file(f);
    return n;
}

static void file_reopen(channel *ch) { close_file(ch->impl); }

static void file_finish(channel *ch) { close_file(ch->impl); }

static void file_destroy(channel *ch)
{
    file_impl *f = ch->impl;
    if (!f)
        return;
    close_file(f);
    pg_free(f->path);
    pg_free(f);
}

static const channel_ops file_ops = {
    .name = "file", .deliver = file_deliver, .reopen = file_reopen, .finish = file_finish, .destroy = file_destroy,
};

channel *channel_file_new(const config *c, char *err, size_t errlen)
{
    if (!c->file_output_filename || !*c->file_output_filename) {
        snprintf(err, errlen, "file output enabled but no filename in configuration block");
        return NULL;
    }
    file_impl *f = pg_calloc(1, sizeof *f);
    if (!f || !(f->path = pg_strdup(c->file_output_filename))) {
        pg_free(f);
        snprintf(err, errlen, "file output: out of memory");
        return NULL;
    }
    f->fd = -1;
    f->keep_alive = c->file_output_keep_alive;
    /* Fail at start, not at the first alert, when the file cannot be opened. */
    if (open_file(f)) {
        snprintf(err, errlen, "file output: cannot open %s: %s", f->path, strerror(errno));
        pg_free(f->path);
        pg_free(f);
        return NULL;
    }
    if (!f->keep_alive)
        close_file(f);
    return channel_new(&file_ops, f, c, err, errlen);
}
