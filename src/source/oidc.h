/*
 * oidc — verification of the OIDC tokens Pub/Sub push subscriptions send
 * with "enable authentication" (Authorization: Bearer <JWT>): an RS256
 * signature by a key of a configured JWKS file (pubsubJwksFile, Google's
 * keys saved from their certificate URL; re-read when the file changes),
 * the audience (pubsubAudience), Google as issuer, the time window, and,
 * when pubsubServiceAccount is set, the push service account's verified
 * email.  GnuTLS does the RSA (loaded with the webhook, util/mhd_api.h).
 *
 * Ownership: oidc_new returns a verifier the caller frees with oidc_free;
 * it copies what it needs from the config.  oidc_verify is thread-safe.
 */
#ifndef PEREGRINE_OIDC_H
#define PEREGRINE_OIDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct oidc oidc;

/* NULL with a message in err (unreadable or empty JWKS, no audience). */
oidc *oidc_new(const char *jwks_file, const char *audience, const char *service_account, char *err,
               size_t errlen);
void oidc_free(oidc *o);

/* Whether `token` (the text after "Bearer ") is valid now (`now`: Unix
 * seconds).  On refusal, why (for the log). */
bool oidc_verify(oidc *o, const char *token, int64_t now, char *why, size_t whylen);

#endif
