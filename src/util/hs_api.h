/*
 * hs_api — the Vectorscan (Hyperscan) functions the rules' prefilter uses,
 * loaded at run time (util/dlsyms.h): the library and the C++ runtime it
 * pulls in cost a few MiB of resident memory and a millisecond of start-up,
 * which only rule sets large enough for the prefilter should pay.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_HS_API_H
#define PEREGRINE_HS_API_H

#include <hs.h>
#include <stddef.h>

typedef struct hs_api {
    hs_error_t (*compile_lit_multi)(const char *const *, const unsigned *, const unsigned *, const size_t *, unsigned,
                                    unsigned, const hs_platform_info_t *, hs_database_t **, hs_compile_error_t **);
    hs_error_t (*free_compile_error)(hs_compile_error_t *);
    hs_error_t (*free_database)(hs_database_t *);
    hs_error_t (*alloc_scratch)(const hs_database_t *, hs_scratch_t **);
    hs_error_t (*free_scratch)(hs_scratch_t *);
    hs_error_t (*scan)(const hs_database_t *, const char *, unsigned, unsigned, hs_scratch_t *,
                       match_event_handler, void *);
} hs_api;

/* Filled by hs_api_load(); read-only afterwards. */
extern hs_api hsl;

/* Load the library once (thread-safe).  0, or -1 with the reason in err. */
int hs_api_load(char *err, size_t errlen);

#endif
