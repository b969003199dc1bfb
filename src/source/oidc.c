/*
 * oidc — Pub/Sub push tokens (see oidc.h).
 */
#include "source/oidc.h"
#include "envelope/codec.h"
#include "json/json.h"
#include "util/alloc.h"
#include "util/mhd_api.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CLOCK_SKEW_S 60         /* tolerated between Google's clock and ours */
#define MAX_KEYS 32

typedef struct rsa_key {
    char kid[128];
    buf n, e;                   /* big-endian magnitudes */
} rsa_key;

struct oidc {
    char *path, *audience, *account;
    pthread_mutex_t mu;
    struct timespec mtime;
    rsa_key keys[MAX_KEYS];
    size_t nkeys;
};

static void clear_keys(oidc *o)
{
    for (size_t i = 0; i < o->nkeys; i++) {
        buf_free(&o->keys[i].n);
        buf_free(&o->keys[i].e);
    }
    o->nkeys = 0;
}

static bool member_str(const json_doc *d, uint32_t obj, const char *k, buf *out)
{
    uint32_t v = json_get(d, obj, k, strlen(k));
    if (v == JSON_NONE || json_type_of(d, v) != JSON_STRING)
        return false;
    const json_node *n = json_at(d, v);
    buf_clear(out);
    if (buf_reserve(out, n->len + 1))
        return false;
    out->len = json_unescape(d->src + n->start, n->len, out->data);
    out->data[out->len] = 0;
    return true;
}

/* (Re)read the JWKS file: {"keys":[{"kty":"RSA","kid","n","e"}, ...]}.
 * Lock held. */
static int load_keys(oidc *o, char *err, size_t errlen)
{
    buf text = BUF_INIT, s = BUF_INIT;
    int rc = buf_read_file(&text, o->path, 1u << 20);
    if (rc) {
        snprintf(err, errlen, "pubsubJwksFile %s: %s", o->path, strerror(-rc));
        buf_free(&text);
        return rc;
    }
    json_doc d;
    json_doc_init(&d);
    uint32_t keys = JSON_NONE;
    if (json_parse(&d, text.data ? text.data : "", text.len) == 0 && json_type_of(&d, 0) == JSON_OBJECT)
        keys = json_get(&d, 0, "keys", 4);
    if (keys == JSON_NONE || json_type_of(&d, keys) != JSON_ARRAY) {
        snprintf(err, errlen, "pubsubJwksFile %s: not a JWKS document ({\"keys\": [...]})", o->path);
        rc = -EINVAL;
        goto out;
    }
    clear_keys(o);
    for (uint32_t k = json_first(&d, keys); k != JSON_NONE && o->nkeys < MAX_KEYS; k = json_next(&d, keys, k)) {
        if (json_type_of(&d, k) != JSON_OBJECT || !member_str(&d, k, "kty", &s) || strcmp(s.data, "RSA"))
            continue;
        rsa_key *r = &o->keys[o->nkeys];
        memset(r, 0, sizeof *r);
        if (member_str(&d, k, "kid", &s))
            snprintf(r->kid, sizeof r->kid, "%s", s.data);
        if (!member_str(&d, k, "n", &s) || base64_decode(s.data, s.len, &r->n) || !member_str(&d, k, "e", &s) ||
            base64_decode(s.data, s.len, &r->e) || !r->n.len || !r->e.len) {
            buf_free(&r->n);
            buf_free(&r->e);
            continue;
        }
        o->nkeys++;
    }
    if (!o->nkeys) {
        snprintf(err, errlen, "pubsubJwksFile %s: no RSA key in it", o->path);
        rc = -EINVAL;
    }
out:
    json_doc_free(&d);
    buf_free(&text);
    buf_free(&s);
    return rc;
}

/* Reload when the file changed (a key rotation), keeping the old keys if
 * the new file does not load.  Lock held. */
static void refresh(oidc *o)
{
    struct stat sb;
    if (stat(o->path, &sb) || (sb.st_mtim.tv_sec == o->mtime.tv_sec && sb.st_mtim.tv_nsec == o->mtime.tv_nsec))
        return;
    oidc tmp = {.path = o->path};
    char err[256];
    if (load_keys(&tmp, err, sizeof err) == 0) {
        clear_keys(o);
        memcpy(o->keys, tmp.keys, sizeof tmp.keys);
        o->nkeys = tmp.nkeys;
    } else {
        clear_keys(&tmp);
    }
    o->mtime = sb.st_mtim;
}

oidc *oidc_new(const char *jwks_file, const char *audience, const char *service_account, char *err,
               size_t errlen)
{
    if (!audience || !*audience) {
        snprintf(err, errlen, "pubsubJwksFile needs pubsubAudience (the audience set on the push subscription)");
        return NULL;
    }
    oidc *o = pg_calloc(1, sizeof *o);
    if (!o || !(o->path = pg_strdup(jwks_file)) || !(o->audience = pg_strdup(audience)) ||
        (service_account && *service_account && !(o->account = pg_strdup(service_account)))) {
        snprintf(err, errlen, "out of memory");
        oidc_free(o);
        return NULL;
    }
    pthread_mutex_init(&o->mu, NULL);
    struct stat sb;
    if (stat(jwks_file, &sb) == 0)
        o->mtime = sb.st_mtim;
    if (load_keys(o, err, errlen)) {
        oidc_free(o);
        return NULL;
    }
    return o;
}

void oidc_free(oidc *o)
{
    if (!o)
        return;
    clear_keys(o);
    if (o->path)
        pthread_mutex_destroy(&o->mu);
    pg_free(o->path);
    pg_free(o->audience);
    pg_free(o->account);
    pg_free(o);
}

/* RS256 over signed[0..n) with the key named kid (any key when none). */
static bool signature_ok(oidc *o, const char *kid, const char *signed_part, size_t n, const buf *sig)
{
    bool ok = false;
    pthread_mutex_lock(&o->mu);
    refresh(o);
    for (size_t i = 0; i < o->nkeys && !ok; i++) {
        rsa_key *k = &o->keys[i];
        if (kid && *kid && k->kid[0] && strcmp(kid, k->kid))
            continue;
        gnutls_pubkey_t pub;
        if (mhd.gnutls_pubkey_init(&pub) < 0)
            break;
        gnutls_datum_t m = {(unsigned char *)k->n.data, (unsigned)k->n.len};
        gnutls_datum_t e = {(unsigned char *)k->e.data, (unsigned)k->e.len};
        gnutls_datum_t data = {(unsigned char *)signed_part, (unsigned)n};
        gnutls_datum_t s = {(unsigned char *)sig->data, (unsigned)sig->len};
        ok = mhd.gnutls_pubkey_import_rsa_raw(pub, &m, &e) >= 0 &&
             mhd.gnutls_pubkey_verify_data2(pub, GNUTLS_SIGN_RSA_SHA256, 0, &data, &s) >= 0;
        mhd.gnutls_pubkey_deinit(pub);
    }
    pthread_mutex_unlock(&o->mu);
    return ok;
}

static bool num_member(const json_doc *d, uint32_t obj, const char *k, int64_t *out)
{
    uint32_t v = json_get(d, obj, k, strlen(k));
    if (v == JSON_NONE || json_type_of(d, v) != JSON_NUMBER)
        return false;
    size_t n;
    const char *raw = json_raw(d, v, &n);
    *out = strtoll(raw, NULL, 10);
    return true;
}

/* The claims: aud, iss, exp/iat, and the service account when asked. */
static bool claims_ok(oidc *o, const json_doc *d, int64_t now, char *why, size_t whylen)
{
    buf s = BUF_INIT;
    bool ok = false;
    int64_t exp, iat;
    uint32_t aud = json_get(d, 0, "aud", 3);
    bool aud_ok = aud != JSON_NONE && json_type_of(d, aud) == JSON_STRING &&
                  json_string_eq(d, aud, o->audience, strlen(o->audience));
    if (!aud_ok)
        snprintf(why, whylen, "audience is not %s", o->audience);
    else if (!member_str(d, 0, "iss", &s) ||
             (strcmp(s.data, "https://accounts.google.com") && strcmp(s.data, "accounts.google.com")))
        snprintf(why, whylen, "issuer is not Google");
    else if (!num_member(d, 0, "exp", &exp) || exp + CLOCK_SKEW_S < now)
        snprintf(why, whylen, "token expired");
    else if (num_member(d, 0, "iat", &iat) && iat - CLOCK_SKEW_S > now)
        snprintf(why, whylen, "token issued in the future");
    else if (o->account && (!member_str(d, 0, "email", &s) || strcmp(s.data, o->account) ||
                            json_get(d, 0, "email_verified", 14) == JSON_NONE ||
                            json_type_of(d, json_get(d, 0, "email_verified", 14)) != JSON_TRUE))
        snprintf(why, whylen, "not the push service account %s", o->account);
    else
        ok = true;
    buf_free(&s);
    return ok;
}

bool oidc_verify(oidc *o, const char *token, int64_t now, char *why, size_t whylen)
{
    const char *d1 = strchr(token, '.'), *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    if (!d2 || strchr(d2 + 1, '.')) {
        snprintf(why, whylen, "not a JWT");
        return false;
    }
    buf hdr = BUF_INIT, pay = BUF_INIT, sig = BUF_INIT, kid = BUF_INIT;
    json_doc d;
    json_doc_init(&d);
    bool ok = false;
    if (base64_decode(token, (size_t)(d1 - token), &hdr) || base64_decode(d1 + 1, (size_t)(d2 - d1 - 1), &pay) ||
        base64_decode(d2 + 1, strlen(d2 + 1), &sig)) {
        snprintf(why, whylen, "not a JWT (base64url)");
        goto out;
    }
    if (json_parse(&d, hdr.data ? hdr.data : "", hdr.len) || json_type_of(&d, 0) != JSON_OBJECT ||
        !member_str(&d, 0, "alg", &kid) || strcmp(kid.data, "RS256")) {
        snprintf(why, whylen, "not an RS256 token");
        goto out;
    }
    if (!member_str(&d, 0, "kid", &kid))
        buf_clear(&kid);
    if (!signature_ok(o, buf_cstr(&kid), token, (size_t)(d2 - token), &sig)) {
        snprintf(why, whylen, "bad signature (or a key not in pubsubJwksFile)");
        goto out;
    }
    if (json_parse(&d, pay.data ? pay.data : "", pay.len) || json_type_of(&d, 0) != JSON_OBJECT) {
        snprintf(why, whylen, "claims are not a JSON object");
        goto out;
    }
    ok = claims_ok(o, &d, now, why, whylen);
out:
    json_doc_free(&d);
    buf_free(&hdr);
    buf_free(&pay);
    buf_free(&sig);
    buf_free(&kid);
    return ok;
}
