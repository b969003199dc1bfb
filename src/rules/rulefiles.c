/*
 * rulefiles — rules paths → ruleset (see rulefiles.h).
 */
#include "rules/rulefiles.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static bool is_yaml_name(const char *s)
{
    size_t n = strlen(s);
    return (n >= 5 && !strcmp(s + n - 5, ".yaml")) || (n >= 4 && !strcmp(s + n - 4, ".yml"));
}

static int by_name(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static int expand_one(const char *path, strvec *out, buf *err)
{
    struct stat sb;
    if (stat(path, &sb)) {
        buf_printf(err, "cannot open rules %s: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode))
        return is_yaml_name(path) ? strvec_push(out, path) : 0;
    DIR *d = opendir(path);
    if (!d) {
        buf_printf(err, "cannot open rules directory %s: %s", path, strerror(errno));
        return -1;
    }
    strvec names = {0};
    struct dirent *de;
    while ((de = readdir(d)))
        if (is_yaml_name(de->d_name))
            strvec_push(&names, de->d_name);
    closedir(d);
    qsort(names.v, names.n, sizeof *names.v, by_name);
    buf full = BUF_INIT;
    for (size_t i = 0; i < names.n; i++) {
        buf_clear(&full);
        buf_printf(&full, "%s/%s", path, names.v[i]);
        if (stat(buf_cstr(&full), &sb) == 0 && !S_ISDIR(sb.st_mode))
            strvec_push(out, buf_cstr(&full));
    }
    buf_free(&full);
    strvec_free(&names);
    return 0;
}

int rulefiles_expand(const strvec *paths, strvec *out, buf *err)
{
    for (size_t i = 0; i < paths->n; i++)
        if (expand_one(paths->v[i], out, err))
            return -1;
    return 0;
}

ruleset *rulefiles_load(const strvec *paths, const loader_opts *lo, load_result *res, buf *err)
{
    strvec files = {0};
    if (rulefiles_expand(paths, &files, err)) {
        strvec_free(&files);
        return NULL;
    }
    rule_loader *l = loader_new(lo);
    if (!l) {
        buf_puts(err, "out of memory");
        strvec_free(&files);
        return NULL;
    }
    int rc = 0;
    for (size_t i = 0; i < files.n && !rc; i++)
        rc = loader_add_file(l, files.v[i], res);
    ruleset *rs = rc ? NULL : loader_compile(l, res);
    loader_free(l);
    strvec_free(&files);
    return rs;
}
