/*
 * redis_conn — a Redis connection with deadlines (see redis_conn.h).
 */
#include "correlate/redis_conn.h"
#include "correlate/redis_tls.h"
#include "util/alloc.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

struct redis_conn {
    redis_url u;
    char *ca_file;
    int fd;
    redis_tls *tls;
    redisReader *rd;
    char *out;                  /* queued commands */
    size_t outlen, outcap;
};

int64_t redis_now_ms(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (int64_t)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* ------------------------------------------------------------ URL */

static int pct_decode(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (o + 1 >= cap)
            return -1;
        if (s[i] != '%') {
            dst[o++] = s[i];
            continue;
        }
        char hex[3] = {0};
        if (i + 2 >= n)
            return -1;
        hex[0] = s[i + 1];
        hex[1] = s[i + 2];
        char *end;
        long v = strtol(hex, &end, 16);
        if (*end)
            return -1;
        dst[o++] = (char)v;
        i += 2;
    }
    dst[o] = 0;
    return 0;
}

int redis_url_parse(const char *url, redis_url *u, char *err, size_t errlen)
{
    memset(u, 0, sizeof *u);
    const char *p;
    if (!strncmp(url, "redis://", 8)) {
        p = url + 8;
    } else if (!strncmp(url, "rediss://", 9)) {
        p = url + 9;
        u->tls = true;
    } else {
        snprintf(err, errlen, "'%s': not a redis:// or rediss:// URL", url);
        return -EINVAL;
    }
    const char *at = strrchr(p, '@');
    if (at) {
        const char *colon = memchr(p, ':', (size_t)(at - p));
        const char *pe = colon ? colon + 1 : p;
        if ((colon && pct_decode(u->user, sizeof u->user, p, (size_t)(colon - p))) ||
            pct_decode(u->pass, sizeof u->pass, pe, (size_t)(at - pe))) {
            snprintf(err, errlen, "'%s': bad user or password (too long or a bad %%-escape)", url);
            return -EINVAL;
        }
        p = at + 1;
    }
    const char *slash = strchr(p, '/');
    size_t hl = slash ? (size_t)(slash - p) : strlen(p);
    const char *hostend = p + hl, *portp = NULL;
    if (*p == '[') {                        /* [v6]:port */
        const char *rb = memchr(p, ']', hl);
        if (!rb) {
            snprintf(err, errlen, "'%s': unterminated [address]", url);
            return -EINVAL;
        }
        if ((size_t)(rb - p - 1) >= sizeof u->host)
            goto bad_host;
        memcpy(u->host, p + 1, (size_t)(rb - p - 1));
        portp = rb + 1 < hostend && rb[1] == ':' ? rb + 2 : NULL;
    } else {
        const char *colon = memchr(p, ':', hl);
        size_t n = colon ? (size_t)(colon - p) : hl;
        if (n >= sizeof u->host)
            goto bad_host;
        memcpy(u->host, p, n);
        portp = colon ? colon + 1 : NULL;
    }
    if (!u->host[0])
        goto bad_host;
    u->port = 6379;
    if (portp) {
        char *end;
        long v = strtol(portp, &end, 10);
        if (end != hostend || v < 1 || v > 65535) {
            snprintf(err, errlen, "'%s': the port must be 1-65535", url);
            return -EINVAL;
        }
        u->port = (int)v;
    }
    if (slash && slash[1]) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end || v < 0 || v > 1000000) {
            snprintf(err, errlen, "'%s': the database must be a number", url);
            return -EINVAL;
        }
        u->db = (int)v;
    }
    return 0;
bad_host:
    snprintf(err, errlen, "'%s': no host, or a host too long", url);
    return -EINVAL;
}

/* ------------------------------------------------------------ connection */

redis_conn *redis_conn_new(const redis_url *u, const char *ca_file)
{
    redis_conn *c = pg_calloc(1, sizeof *c);
    if (!c)
        return NULL;
    c->u = *u;
    c->fd = -1;
    if (ca_file && !(c->ca_file = pg_strdup(ca_file))) {
        pg_free(c);
        return NULL;
    }
    return c;
}

void redis_conn_close(redis_conn *c)
{
    if (c->tls) {
        redis_tls_free(c->tls);
        c->tls = NULL;
    }
    if (c->fd >= 0)
        close(c->fd);
    c->fd = -1;
    if (c->rd)
        redisReaderFree(c->rd);
    c->rd = NULL;
    c->outlen = 0;
}

void redis_conn_free(redis_conn *c)
{
    if (!c)
        return;
    redis_conn_close(c);
    pg_free(c->out);
    pg_free(c->ca_file);
    pg_free(c);
}

bool redis_conn_is_open(const redis_conn *c)
{
    return c->fd >= 0;
}

static int wait_fd(int fd, short ev, int64_t deadline_ms)
{
    for (;;) {
        int64_t left = deadline_ms - redis_now_ms();
        if (left <= 0)
            return -ETIMEDOUT;
        struct pollfd pf = {fd, ev, 0};
        int r = poll(&pf, 1, (int)left);
        if (r > 0)
            return 0;
        if (r < 0 && errno != EINTR)
            return -errno;
    }
}

static int tcp_connect(redis_conn *c, int64_t deadline_ms, char *err, size_t errlen)
{
    char port[16];
    snprintf(port, sizeof port, "%d", c->u.port);
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int gr = getaddrinfo(c->u.host, port, &hints, &res);
    if (gr) {
        snprintf(err, errlen, "%s:%d: %s", c->u.host, c->u.port, gai_strerror(gr));
        return -EHOSTUNREACH;
    }
    int rc = -ECONNREFUSED;
    for (struct addrinfo *a = res; a; a = a->ai_next) {
        int fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, a->ai_protocol);
        if (fd < 0) {
            rc = -errno;
            continue;
        }
        if (connect(fd, a->ai_addr, a->ai_addrlen) && errno != EINPROGRESS) {
            rc = -errno;
            close(fd);
            continue;
        }
        rc = wait_fd(fd, POLLOUT, deadline_ms);
        int soerr = 0;
        socklen_t sl = sizeof soerr;
        if (!rc && (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) || soerr))
            rc = -(soerr ? soerr : errno);
        if (rc) {
            close(fd);
            continue;
        }
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        break;
    }
    freeaddrinfo(res);
    if (rc)
        snprintf(err, errlen, "%s:%d: %s", c->u.host, c->u.port, strerror(-rc));
    return rc;
}

/* Progress (bytes moved) pushes *deadline to idle_ms from now (idle_ms 0:
 * a fixed deadline). */
static void progress(int64_t *deadline, int64_t idle_ms)
{
    if (idle_ms > 0 && redis_now_ms() + idle_ms > *deadline)
        *deadline = redis_now_ms() + idle_ms;
}

static int io_write(redis_conn *c, const char *p, size_t n, int64_t *deadline, int64_t idle_ms)
{
    while (n) {
        ssize_t w = c->tls ? redis_tls_send(c->tls, p, n) : send(c->fd, p, n, MSG_NOSIGNAL);
        if (w < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            int rc = wait_fd(c->fd, POLLOUT, *deadline);
            if (rc)
                return rc;
            continue;
        }
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return w < 0 ? -errno : -EPIPE;
        p += w;
        n -= (size_t)w;
        progress(deadline, idle_ms);
    }
    return 0;
}

static int io_read(redis_conn *c, int64_t deadline_ms)
{
    char tmp[16384];
    for (;;) {
        ssize_t r = c->tls ? redis_tls_recv(c->tls, tmp, sizeof tmp) : recv(c->fd, tmp, sizeof tmp, 0);
        if (r > 0)
            return redisReaderFeed(c->rd, tmp, (size_t)r) == REDIS_OK ? 0 : -EPROTO;
        if (r == 0)
            return -ECONNRESET;
        if (errno == EINTR)
            continue;
        if (errno != EAGAIN && errno != EWOULDBLOCK)
            return -errno;
        int rc = wait_fd(c->fd, POLLIN, deadline_ms);
        if (rc)
            return rc;
    }
}

int redis_conn_append(redis_conn *c, int argc, const char **argv, const size_t *argvlen)
{
    char *cmd = NULL;
    int len = redisFormatCommandArgv(&cmd, argc, argv, argvlen);
    if (len < 0)
        return -ENOMEM;
    if (c->outlen + (size_t)len > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + (size_t)len)
            cap *= 2;
        char *o = pg_realloc(c->out, cap);
        if (!o) {
            redisFreeCommand(cmd);
            return -ENOMEM;
        }
        c->out = o;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, cmd, (size_t)len);
    c->outlen += (size_t)len;
    redisFreeCommand(cmd);
    return 0;
}

int redis_conn_exchange(redis_conn *c, redisReply **r, size_t n, size_t *got, int64_t deadline_ms,
                        int64_t idle_ms, char *err, size_t errlen)
{
    *got = 0;
    if (c->fd < 0) {
        c->outlen = 0;
        snprintf(err, errlen, "not connected");
        return -ENOTCONN;
    }
    int rc = io_write(c, c->out, c->outlen, &deadline_ms, idle_ms);
    c->outlen = 0;
    while (!rc && *got < n) {
        void *reply = NULL;
        if (redisReaderGetReply(c->rd, &reply) != REDIS_OK) {
            rc = -EPROTO;
            break;
        }
        if (reply) {
            r[(*got)++] = reply;
            continue;
        }
        rc = io_read(c, deadline_ms);
        progress(&deadline_ms, idle_ms);
    }
    if (rc) {
        snprintf(err, errlen, "%s:%d: %s", c->u.host, c->u.port,
                 rc == -ETIMEDOUT ? "no answer in time" : rc == -EPROTO ? "protocol error" : strerror(-rc));
        redis_conn_close(c);
    }
    return rc;
}

/* One command, its reply checked: an error reply is -EACCES for
 * authentication, -EIO otherwise, with the server's message. */
static int command(redis_conn *c, int argc, const char **argv, int64_t deadline_ms, char *err, size_t errlen)
{
    size_t lens[4];
    for (int i = 0; i < argc; i++)
        lens[i] = strlen(argv[i]);
    int rc = redis_conn_append(c, argc, argv, lens);
    redisReply *r = NULL;
    size_t got;
    if (!rc)
        rc = redis_conn_exchange(c, &r, 1, &got, deadline_ms, 0, err, errlen);
    if (rc)
        return rc;
    if (r->type == REDIS_REPLY_ERROR) {
        bool auth = !strncmp(r->str, "WRONGPASS", 9) || !strncmp(r->str, "NOAUTH", 6) ||
                    strstr(r->str, "AUTH") != NULL || strstr(r->str, "password") != NULL;
        snprintf(err, errlen, "%s:%d: %s: %s", c->u.host, c->u.port, argv[0], r->str);
        rc = auth ? -EACCES : -EIO;
    }
    freeReplyObject(r);
    return rc;
}

int redis_conn_open(redis_conn *c, int64_t deadline_ms, char *err, size_t errlen)
{
    redis_conn_close(c);
    int rc = tcp_connect(c, deadline_ms, err, errlen);
    if (rc)
        return rc;
    if (!(c->rd = redisReaderCreate())) {
        redis_conn_close(c);
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    if (c->u.tls && (rc = redis_tls_open(&c->tls, c->fd, c->u.host, c->ca_file, deadline_ms, err, errlen))) {
        redis_conn_close(c);
        return rc;
    }
    if (c->u.pass[0] || c->u.user[0]) {
        const char *a3[] = {"AUTH", c->u.user, c->u.pass};
        const char *a2[] = {"AUTH", c->u.pass};
        rc = c->u.user[0] ? command(c, 3, a3, deadline_ms, err, errlen) : command(c, 2, a2, deadline_ms, err, errlen);
        if (rc == -EIO)
            rc = -EACCES;
    }
    /* PING checks that the server accepts us without a password too */
    const char *ping[] = {"PING"};
    if (!rc)
        rc = command(c, 1, ping, deadline_ms, err, errlen);
    if (!rc && c->u.db) {
        char db[16];
        snprintf(db, sizeof db, "%d", c->u.db);
        const char *sel[] = {"SELECT", db};
        rc = command(c, 2, sel, deadline_ms, err, errlen);
    }
    if (rc && c->fd >= 0)
        redis_conn_close(c);
    return rc;
}
