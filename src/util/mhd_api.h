/*
 * mhd_api — libmicrohttpd, and the two GnuTLS calls made on its TLS
 * sessions, loaded when the first server starts (util/dlsyms.h): only the
 * webhook and the admin server need them, and a file run should not pay
 * for loading them and all their dependencies.
 *
 * mhd_api_load() once before any call (thread-safe; cheap after the
 * first), then call through the table `mhd`.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_MHD_API_H
#define PEREGRINE_MHD_API_H

#include <gnutls/abstract.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <stddef.h>

typedef struct mhd_api {
    __typeof__(MHD_start_daemon) *start_daemon;
    __typeof__(MHD_stop_daemon) *stop_daemon;
    __typeof__(MHD_quiesce_daemon) *quiesce_daemon;
    __typeof__(MHD_get_daemon_info) *get_daemon_info;
    __typeof__(MHD_get_connection_info) *get_connection_info;
    __typeof__(MHD_lookup_connection_value) *lookup_connection_value;
    __typeof__(MHD_create_response_from_buffer) *create_response_from_buffer;
    __typeof__(MHD_add_response_header) *add_response_header;
    __typeof__(MHD_queue_response) *queue_response;
    __typeof__(MHD_destroy_response) *destroy_response;
    __typeof__(gnutls_certificate_get_peers) *gnutls_certificate_get_peers;
    __typeof__(gnutls_certificate_verify_peers) *gnutls_certificate_verify_peers;
    /* RS256 signatures of Pub/Sub's OIDC tokens (source/oidc.c) */
    __typeof__(gnutls_pubkey_init) *gnutls_pubkey_init;
    __typeof__(gnutls_pubkey_deinit) *gnutls_pubkey_deinit;
    __typeof__(gnutls_pubkey_import_rsa_raw) *gnutls_pubkey_import_rsa_raw;
    __typeof__(gnutls_pubkey_verify_data2) *gnutls_pubkey_verify_data2;
} mhd_api;

extern mhd_api mhd;

/* Load the libraries (the first call) or report how that went.  Returns 0,
 * or -1 with "cannot load libmicrohttpd: ..." (or GnuTLS) in err. */
int mhd_api_load(char *err, size_t errlen);

#endif
