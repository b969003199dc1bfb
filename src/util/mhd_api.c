#include "util/mhd_api.h"
#include "util/dlsyms.h"

#include <pthread.h>
#include <stdio.h>

mhd_api mhd;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[256]; /* empty when loaded */

/* The sonames of Debian's libmicrohttpd12 and libgnutls30. */
#define LIBMHD_SONAME "libmicrohttpd.so.12"
#define LIBGNUTLS_SONAME "libgnutls.so.30"

static void load(void)
{
    static const dl_sym mhd_syms[] = {
#define SYM(f) DL_SYM(mhd_api, f, "MHD_" #f)
        SYM(start_daemon),        SYM(stop_daemon),
        SYM(quiesce_daemon),      SYM(get_daemon_info),
        SYM(get_connection_info), SYM(lookup_connection_value),
        SYM(create_response_from_buffer), SYM(add_response_header),
        SYM(queue_response),      SYM(destroy_response),
#undef SYM
    };
    static const dl_sym tls_syms[] = {
        DL_SYM(mhd_api, gnutls_certificate_get_peers, "gnutls_certificate_get_peers"),
        DL_SYM(mhd_api, gnutls_certificate_verify_peers, "gnutls_certificate_verify_peers"),
        DL_SYM(mhd_api, gnutls_pubkey_init, "gnutls_pubkey_init"),
        DL_SYM(mhd_api, gnutls_pubkey_deinit, "gnutls_pubkey_deinit"),
        DL_SYM(mhd_api, gnutls_pubkey_import_rsa_raw, "gnutls_pubkey_import_rsa_raw"),
        DL_SYM(mhd_api, gnutls_pubkey_verify_data2, "gnutls_pubkey_verify_data2"),
    };
    if (dl_load(LIBMHD_SONAME, "libmicrohttpd", mhd_syms, sizeof mhd_syms / sizeof *mhd_syms, &mhd, load_err,
                sizeof load_err) == 0)
        dl_load(LIBGNUTLS_SONAME, "GnuTLS", tls_syms, sizeof tls_syms / sizeof *tls_syms, &mhd, load_err,
                sizeof load_err);
}

int mhd_api_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (!load_err[0])
        return 0;
    snprintf(err, errlen, "%s", load_err);
    return -1;
}
