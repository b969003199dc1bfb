/*
 * channel_syslog — syslog_output: one syslog message per alert, facility
 * LOG_USER, severity = the rule's priority (Falco's priorities are the
 * syslog levels: Emergency 0 … Debug 7), text = the alert without its
 * trailing newline (the text line, or the JSON object with json_output).
 *
 * By default through syslog(3) (to /dev/log, ident = program name), as
 * Falco does; syslog(3) reports no errors, so nothing can be counted as
 * failed there.  With our own key `syslog_output.socket`, messages go to
 * that unix datagram socket in the format syslog(3) uses
 * ("<PRI>Mmm dd hh:mm:ss ident: text"), and send errors are counted,
 * reported and the socket reconnected for the next alert.
 */
#include "output/channel.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

typedef struct syslog_impl {
    char *socket;               /* NULL: syslog(3) */
    int fd;
    char ident[64];
    char msg[65536];            /* one datagram */
} syslog_impl;

static int connect_socket(syslog_impl *s)
{
    if (s->fd >= 0)
        return 0;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", s->socket);
    s->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s->fd < 0)
        return -1;
    if (connect(s->fd, (struct sockaddr *)&sa, sizeof sa)) {
        int e = errno;
        close(s->fd);
        s->fd = -1;
        errno = e;
        return -1;
    }
    return 0;
}

static void send_one(channel *ch, syslog_impl *s, const outq_item *it, size_t len)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%b %e %H:%M:%S", &tm);
    int h = snprintf(s->msg, sizeof s->msg, "<%d>%s %s: ", LOG_USER | (it->prio & 7), ts, s->ident);
    size_t room = sizeof s->msg - (size_t)h;
    size_t n = len < room ? len : room;
    memcpy(s->msg + h, it->text, n);
    int64_t start = channel_now_ns();
    for (;;) {
        if (connect_socket(s)) {
            channel_fail(ch, 1, "cannot connect to %s: %s", s->socket, strerror(errno));
            return;
        }
        if (send(s->fd, s->msg, (size_t)h + n, MSG_DONTWAIT | MSG_NOSIGNAL) >= 0) {
            channel_ok(ch, 1);
            return;
        }
        int e = errno;
        /* a full receive queue: wait a little, up to output_timeout */
        if ((e == EAGAIN || e == ENOBUFS) && channel_now_ns() - start < (int64_t)ch->timeout_ms * 1000000 &&
            channel_sleep(ch, 5))
            continue;
        close(s->fd);
        s->fd = -1;
        channel_fail(ch, 1, "send to %s: %s", s->socket, strerror(e));
        return;
    }
}

static size_t syslog_deliver(channel *ch, const outq_item *items, size_t n)
{
    syslog_impl *s = ch->impl;
    for (size_t i = 0; i < n; i++) {
        size_t len = items[i].len;
        if (len && items[i].text[len - 1] == '\n')
            len--; /* syslog messages carry no trailing newline */
        if (!s->socket) {
            syslog(LOG_USER | (items[i].prio & 7), "%.*s", (int)len, items[i].text);
            channel_ok(ch, 1);
        } else {
            send_one(ch, s, &items[i], len);
        }
    }
    return n;
}

static void syslog_destroy(channel *ch)
{
    syslog_impl *s = ch->impl;
    if (!s)
        return;
    if (s->fd >= 0)
        close(s->fd);
    pg_free(s->socket);
    pg_free(s);
}

static const channel_ops syslog_ops = {.name = "syslog", .deliver = syslog_deliver, .destroy = syslog_destroy};

channel *channel_syslog_new(const config *c, char *err, size_t errlen)
{
    syslog_impl *s = pg_calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errlen, "syslog output: out of memory");
        return NULL;
    }
    s->fd = -1;
    snprintf(s->ident, sizeof s->ident, "%s", program_invocation_short_name);
    if (c->syslog_output_socket && *c->syslog_output_socket) {
        if (strlen(c->syslog_output_socket) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            snprintf(err, errlen, "syslog output: socket path too long: %s", c->syslog_output_socket);
            pg_free(s);
            return NULL;
        }
        if (!(s->socket = pg_strdup(c->syslog_output_socket))) {
            pg_free(s);
            snprintf(err, errlen, "syslog output: out of memory");
            return NULL;
        }
    }
    return channel_new(&syslog_ops, s, c, err, errlen);
}
