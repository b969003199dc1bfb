/*
 * hs_api — Vectorscan loaded on first use (hs_api.h).
 */
#include "util/hs_api.h"
#include "util/dlsyms.h"

#include <pthread.h>
#include <stdio.h>

hs_api hsl;

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char load_err[256]; /* empty when loaded */

/* The soname of Debian's libvectorscan5 (and libhyperscan5). */
#define LIBHS_SONAME "libhs.so.5"

static void load(void)
{
    static const dl_sym syms[] = {
        DL_SYM(hs_api, compile_lit_multi, "hs_compile_lit_multi"),
        DL_SYM(hs_api, free_compile_error, "hs_free_compile_error"),
        DL_SYM(hs_api, free_database, "hs_free_database"),
        DL_SYM(hs_api, alloc_scratch, "hs_alloc_scratch"),
        DL_SYM(hs_api, free_scratch, "hs_free_scratch"),
        DL_SYM(hs_api, scan, "hs_scan"),
    };
    dl_load(LIBHS_SONAME, "Vectorscan (libhs)", syms, sizeof syms / sizeof *syms, &hsl, load_err, sizeof load_err);
}

int hs_api_load(char *err, size_t errlen)
{
    pthread_once(&once, load);
    if (!load_err[0])
        return 0;
    snprintf(err, errlen, "%s", load_err);
    return -1;
}
