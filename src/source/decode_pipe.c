/*
 * decode_pipe — gzip and pretty-printed files as JSONL (see decode_pipe.h).
 */
#include "source/decode_pipe.h"
#include "envelope/codec.h"
#include "util/alloc.h"
#include "util/log.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define IO_BYTES (256 * 1024)

struct decode_pipe {
    int src, wr, rd;
    bool gzip;
    bool join;                  /* decided on the first decoded bytes */
    bool decided;
    _Atomic bool stop;
    int rc;
    char origin[512];
    pthread_t th;
};

/* The first line is only "{" or "[" (whitespace aside). */
static int first_line_opens(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    if (i >= n)
        return -1;              /* undecided yet */
    if (p[i] != '{' && p[i] != '[')
        return 0;
    for (i++; i < n; i++) {
        if (p[i] == '\n')
            return 1;
        if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
            return 0;
    }
    return -1;
}

bool decode_pipe_needed(int fd)
{
    char b[4096];
    ssize_t n = pread(fd, b, sizeof b, 0);
    if (n <= 0)
        return false;
    return gz_magic(b, (size_t)n) || first_line_opens(b, (size_t)n) == 1;
}

static int put(decode_pipe *p, char *d, size_t n)
{
    if (!p->decided) {
        int f = first_line_opens(d, n);
        p->join = f == 1;
        p->decided = f >= 0 || n >= 4096;
    }
    if (p->join)
        for (size_t i = 0; i < n; i++)
            if (d[i] == '\n' || d[i] == '\r')
                d[i] = ' ';
    while (n && !atomic_load(&p->stop)) {
        ssize_t w = send(p->wr, d, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            return -1;          /* the reader went away */
        }
        d += w;
        n -= (size_t)w;
    }
    return 0;
}

static void *run(void *arg)
{
    decode_pipe *p = arg;
    char *in = pg_malloc(IO_BYTES), *out = pg_malloc(IO_BYTES);
    gz_stream z = {0};
    if (!in || !out || (p->gzip && gz_stream_init(&z))) {
        p->rc = -ENOMEM;
        goto done;
    }
    for (;;) {
        ssize_t n = read(p->src, in, IO_BYTES);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (!p->gzip) {
            if (put(p, in, (size_t)n))
                goto done;
            continue;
        }
        size_t off = 0;
        while (off < (size_t)n || !z.done) {
            size_t used = (size_t)n - off;
            long got = gz_stream_run(&z, in + off, &used, out, IO_BYTES);
            if (got < 0) {
                log_msg("%s: corrupt gzip data; the rest of the file is skipped", p->origin);
                p->rc = -EINVAL;
                goto done;
            }
            off += used;
            if (got && put(p, out, (size_t)got))
                goto done;
            if (!got && !used)
                break;          /* needs more input */
        }
    }
    if (p->join)
        put(p, (char[]){'\n'}, 1);
done:
    if (p->gzip)
        gz_stream_end(&z);
    pg_free(in);
    pg_free(out);
    shutdown(p->wr, SHUT_WR);
    return NULL;
}

decode_pipe *decode_pipe_open(int fd, const char *origin, int *out_fd)
{
    decode_pipe *p = pg_calloc(1, sizeof *p);
    if (!p) {
        errno = ENOMEM;
        return NULL;
    }
    char b[2];
    p->gzip = pread(fd, b, 2, 0) == 2 && gz_magic(b, 2);
    p->src = fd;
    snprintf(p->origin, sizeof p->origin, "%s", origin);
    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) {
        pg_free(p);
        return NULL;
    }
    p->rd = sv[0];
    p->wr = sv[1];
    if (pthread_create(&p->th, NULL, run, p)) {
        close(sv[0]);
        close(sv[1]);
        pg_free(p);
        errno = EAGAIN;
        return NULL;
    }
    *out_fd = p->rd;
    return p;
}

int decode_pipe_close(decode_pipe *p)
{
    if (!p)
        return 0;
    atomic_store(&p->stop, true);
    shutdown(p->rd, SHUT_RDWR);     /* a writer blocked in send returns */
    pthread_join(p->th, NULL);
    close(p->rd);
    close(p->wr);
    int rc = p->rc;
    pg_free(p);
    return rc;
}
