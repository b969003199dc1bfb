/*
 * load_versions — `required_engine_version` and `required_plugin_versions`
 * items.
 */
#include "rules/load_item.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* required_engine_version */

#define ENGINE_MAJOR 0
#define ENGINE_MINOR 62 /* Falco 0.44's engine version is 0.62.0 */
#define ENGINE_PATCH 0

static int parse_version(const char *s, int v[3])
{
    char *end;
    for (int i = 0; i < 3; i++) {
        if (!isdigit((unsigned char)*s))
            return -1;
        long n = strtol(s, &end, 10);
        v[i] = (int)n;
        s = end;
        if (i < 2) {
            if (*s != '.')
                return -1;
            s++;
        }
    }
    return *s ? -1 : 0;
}

int load_engine_version(rule_loader *l, item_ctx *x)
{
    ynode *v = ymap_get(x->item, "required_engine_version");
    if (!v || v->kind != Y_SCALAR)
        return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
    int ver[3] = {0, 0, 0};
    char *end;
    long n = strtol(v->str, &end, 10);
    if (*v->str && !*end && n >= 0) {
        ver[1] = (int)n;
    } else if (parse_version(v->str, ver)) {
        return item_err(x, v, "LOAD_ERR_VALIDATE", "Unable to parse engine version '%s' as a semver string", v->str);
    }
    if (ver[0] != ENGINE_MAJOR || ver[1] > ENGINE_MINOR || (ver[1] == ENGINE_MINOR && ver[2] > ENGINE_PATCH))
        return item_err(x, v, "LOAD_ERR_VALIDATE", "Rules require engine version %d.%d.%d, but engine version is %d.%d.%d",
                   ver[0], ver[1], ver[2], ENGINE_MAJOR, ENGINE_MINOR, ENGINE_PATCH);
    if (ver[1] > l->coll.required_engine)
        l->coll.required_engine = ver[1];
    return 0;
}

/* ---- required_plugin_versions ----
 * Built in: k8saudit 0.18.0 and json 0.7.4 (docs/compat/source.md §1).  The check
 * is immediate: the plugins are always loaded. */

static const struct {
    const char *name;
    int ver[3];
} builtin_plugins[] = {{"k8saudit", {0, 18, 0}}, {"json", {0, 7, 4}}};

int load_plugin_versions(item_ctx *x)
{
    ynode *seq = ymap_get(x->item, "required_plugin_versions");
    if (!seq || seq->kind != Y_SEQ)
        return item_err(x, seq, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < seq->n; i++) {
        const ynode *e = seq->items[i];
        const ynode *names[16];
        const ynode *vers[16];
        size_t n = 0;
        names[n] = ymap_get(e, "name");
        vers[n] = ymap_get(e, "version");
        if (!names[n] || names[n]->kind != Y_SCALAR)
            return item_err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'name'");
        if (!vers[n] || vers[n]->kind != Y_SCALAR)
            return item_err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'version'");
        n++;
        const ynode *alts = ymap_get(e, "alternatives");
        for (size_t j = 0; alts && alts->kind == Y_SEQ && j < alts->n && n < 16; j++) {
            names[n] = ymap_get(alts->items[j], "name");
            vers[n] = ymap_get(alts->items[j], "version");
            if (!names[n] || names[n]->kind != Y_SCALAR || !vers[n] || vers[n]->kind != Y_SCALAR)
                return item_err(x, alts->items[j], "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'name'");
            n++;
        }
        for (size_t a = 0; a < n; a++) {
            int v[3];
            if (parse_version(vers[a]->str, v))
                return item_err(x, vers[a], "LOAD_ERR_VALIDATE", "Invalid required version '%s' for plugin '%s'",
                           vers[a]->str, names[a]->str);
            for (size_t b = 0; b < a; b++)
                if (!strcmp(names[a]->str, names[b]->str))
                    return item_err(x, names[a], "LOAD_ERR_VALIDATE",
                               "Defined multiple alternative version requirements for plugin '%s'", names[a]->str);
        }
        bool decided = false;
        for (size_t a = 0; a < n && !decided; a++) {
            for (size_t p = 0; p < sizeof builtin_plugins / sizeof *builtin_plugins; p++) {
                if (strcmp(builtin_plugins[p].name, names[a]->str))
                    continue;
                decided = true;
                int v[3];
                parse_version(vers[a]->str, v);
                const int *have = builtin_plugins[p].ver;
                bool ok = have[0] == v[0] && (have[1] > v[1] || (have[1] == v[1] && have[2] >= v[2]));
                if (!ok)
                    return item_err(x, vers[a], "LOAD_ERR_VALIDATE",
                               "Plugin '%s' version '%d.%d.%d' is not compatible with required plugin version '%s'",
                               names[a]->str, have[0], have[1], have[2], vers[a]->str);
                break;
            }
        }
        if (!decided) {
            char need[512] = "";
            for (size_t a = 0; a < n; a++) {
                size_t k = strlen(need);
                snprintf(need + k, sizeof need - k, "%s%s (>= %s)", a ? ", " : "", names[a]->str, vers[a]->str);
            }
            return item_err(x, e, "LOAD_ERR_VALIDATE", "Plugin requirement not satisfied, must load one of: %s", need);
        }
    }
    return 0;
}
