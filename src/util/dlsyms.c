#include "util/dlsyms.h"

#include <dlfcn.h>
#include <stdio.h>
#include <string.h>

int dl_load(const char *soname, const char *what, const dl_sym *syms, size_t n, void *table, char *err,
            size_t errlen)
{
    void *so = dlopen(soname, RTLD_NOW | RTLD_LOCAL);
    if (!so) {
        snprintf(err, errlen, "cannot load %s: %s", what, dlerror());
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        void *f = dlsym(so, syms[i].name);
        if (!f) {
            snprintf(err, errlen, "cannot load %s: no %s in %s", what, syms[i].name, soname);
            return -1;
        }
        /* POSIX: a function's address as returned by dlsym, stored as such */
        memcpy((char *)table + syms[i].off, &f, sizeof f);
    }
    return 0;
}
