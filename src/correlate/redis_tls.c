/*
 * redis_tls — TLS to Redis on GnuTLS (see redis_tls.h).
 */
#include "correlate/redis_tls.h"
#include "correlate/redis_conn.h"
#include "util/alloc.h"
#include "util/dlsyms.h"

#include <errno.h>
#include <gnutls/gnutls.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

static struct {
    __typeof__(gnutls_certificate_allocate_credentials) *alloc_creds;
    __typeof__(gnutls_certificate_free_credentials) *free_creds;
    __typeof__(gnutls_certificate_set_x509_system_trust) *system_trust;
    __typeof__(gnutls_certificate_set_x509_trust_file) *trust_file;
    __typeof__(gnutls_init) *init;
    __typeof__(gnutls_deinit) *deinit;
    __typeof__(gnutls_set_default_priority) *default_priority;
    __typeof__(gnutls_credentials_set) *credentials_set;
    __typeof__(gnutls_server_name_set) *server_name_set;
    __typeof__(gnutls_session_set_verify_cert) *verify_cert;
    __typeof__(gnutls_transport_set_int2) *set_int2;
    __typeof__(gnutls_handshake) *handshake;
    __typeof__(gnutls_record_send) *send;
    __typeof__(gnutls_record_recv) *recv;
    __typeof__(gnutls_record_get_direction) *direction;
    __typeof__(gnutls_strerror) *strerror;
    __typeof__(gnutls_error_is_fatal) *is_fatal;
} gt;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[256];

typedef __typeof__(gt) gt_t;

static void load(void)
{
#define S(f, sym) DL_SYM(gt_t, f, sym)
    static const dl_sym syms[] = {
        S(alloc_creds, "gnutls_certificate_allocate_credentials"),
        S(free_creds, "gnutls_certificate_free_credentials"),
        S(system_trust, "gnutls_certificate_set_x509_system_trust"),
        S(trust_file, "gnutls_certificate_set_x509_trust_file"),
        S(init, "gnutls_init"), S(deinit, "gnutls_deinit"),
        S(default_priority, "gnutls_set_default_priority"),
        S(credentials_set, "gnutls_credentials_set"),
        S(server_name_set, "gnutls_server_name_set"),
        S(verify_cert, "gnutls_session_set_verify_cert"),
        S(set_int2, "gnutls_transport_set_int2"),
        S(handshake, "gnutls_handshake"),
        S(send, "gnutls_record_send"), S(recv, "gnutls_record_recv"),
        S(direction, "gnutls_record_get_direction"),
        S(strerror, "gnutls_strerror"), S(is_fatal, "gnutls_error_is_fatal"),
    };
#undef S
    dl_load("libgnutls.so.30", "GnuTLS", syms, sizeof syms / sizeof *syms, &gt, load_err, sizeof load_err);
}

struct redis_tls {
    gnutls_session_t s;
    gnutls_certificate_credentials_t cred;
    char host[256];
};

void redis_tls_free(redis_tls *t)
{
    if (!t)
        return;
    if (t->s)
        gt.deinit(t->s);
    if (t->cred)
        gt.free_creds(t->cred);
    pg_free(t);
}

int redis_tls_open(redis_tls **out, int fd, const char *host, const char *ca_file, int64_t deadline_ms, char *err,
                   size_t errlen)
{
    *out = NULL;
    pthread_once(&once, load);
    if (load_err[0]) {
        snprintf(err, errlen, "rediss://: %s", load_err);
        return -EPROTO;
    }
    redis_tls *t = pg_calloc(1, sizeof *t);
    if (!t) {
        snprintf(err, errlen, "out of memory");
        return -ENOMEM;
    }
    snprintf(t->host, sizeof t->host, "%s", host);
    int r = gt.alloc_creds(&t->cred);
    if (r >= 0)
        r = ca_file ? gt.trust_file(t->cred, ca_file, GNUTLS_X509_FMT_PEM) : gt.system_trust(t->cred);
    if (r == 0 && ca_file)
        r = GNUTLS_E_FILE_ERROR;    /* no certificate in the file */
    if (r < 0) {
        snprintf(err, errlen, "%s: TLS trust: %s", ca_file ? ca_file : "system CAs", gt.strerror(r));
        redis_tls_free(t);
        return -EPROTO;
    }
    r = gt.init(&t->s, GNUTLS_CLIENT | GNUTLS_NONBLOCK);
    if (r >= 0)
        r = gt.default_priority(t->s);
    if (r >= 0)
        r = gt.credentials_set(t->s, GNUTLS_CRD_CERTIFICATE, t->cred);
    if (r >= 0)
        r = gt.server_name_set(t->s, GNUTLS_NAME_DNS, t->host, strlen(t->host));
    if (r < 0) {
        snprintf(err, errlen, "%s: TLS: %s", host, gt.strerror(r));
        redis_tls_free(t);
        return -EPROTO;
    }
    gt.verify_cert(t->s, t->host, 0);
    gt.set_int2(t->s, fd, fd);
    for (;;) {
        r = gt.handshake(t->s);
        if (r >= 0)
            break;
        if (r != GNUTLS_E_AGAIN && r != GNUTLS_E_INTERRUPTED) {
            snprintf(err, errlen, "%s: TLS handshake: %s", host, gt.strerror(r));
            redis_tls_free(t);
            return -EPROTO;
        }
        int64_t left = deadline_ms - redis_now_ms();
        struct pollfd pf = {fd, gt.direction(t->s) ? POLLOUT : POLLIN, 0};
        if (left <= 0 || poll(&pf, 1, (int)left) == 0) {
            /* a plain server waits for a command line: say what is likely */
            snprintf(err, errlen, "%s: TLS handshake: no answer in time (a server without TLS?)", host);
            redis_tls_free(t);
            return -EPROTO;
        }
    }
    *out = t;
    return 0;
}

static ssize_t result(redis_tls *t, ssize_t r)
{
    (void)t;
    if (r >= 0)
        return r;
    errno = r == GNUTLS_E_AGAIN ? EAGAIN : r == GNUTLS_E_INTERRUPTED ? EINTR : ECONNRESET;
    return -1;
}

ssize_t redis_tls_send(redis_tls *t, const void *p, size_t n)
{
    return result(t, gt.send(t->s, p, n));
}

ssize_t redis_tls_recv(redis_tls *t, void *p, size_t n)
{
    return result(t, gt.recv(t->s, p, n));
}
