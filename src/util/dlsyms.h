/*
 * dlsyms — a shared library's functions resolved at run time (dlopen), for
 * libraries only some runs need: a run that never serves HTTP or posts
 * alerts does not pay for loading libmicrohttpd, GnuTLS and libcurl with
 * all their dependencies (about 1 ms per run for the first two alone).
 *
 * The caller keeps a table (a struct of function pointers) and lists each
 * field with the symbol that fills it.  The library stays loaded for the
 * life of the process.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_DLSYMS_H
#define PEREGRINE_DLSYMS_H

#include <stddef.h>

typedef struct dl_sym {
    const char *name;       /* the symbol */
    size_t off;             /* offsetof its function pointer in the table */
} dl_sym;

#define DL_SYM(table_type, field, symbol) {symbol, offsetof(table_type, field)}

/* dlopen `soname` and fill table's fields from syms[0..n).  Returns 0, or
 * -1 with "cannot load <what>: <reason>" in err. */
int dl_load(const char *soname, const char *what, const dl_sym *syms, size_t n, void *table, char *err,
            size_t errlen);

#endif
