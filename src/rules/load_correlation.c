/*
 * load_correlation — a `correlation:` item: the keys it shares with rules
 * read as for rules (all optional but its condition, which `condition`,
 * `rules` or `steps` gives), its own keys by correlation_load.c.
 */
#include "rules/correlation_load.h"
#include "rules/load_item.h"
#include "util/alloc.h"

#include <string.h>

const char *const corr_rule_keys[] = {"correlation", "condition", "output", "desc", "priority", "source", "enabled",
                                      "tags", "exceptions", "append", "override", "type", "rules", "group_by",
                                      "field", "window", "threshold", "steps", "until", "learn", "forget",
                                      "suppress", NULL};

int load_correlation(collection *c, item_ctx *x, l_rule *r, const char *name, const char *cond, const char *output,
                     const char *desc, int prio, const char *source, bool enabled)
{
    l_corr *lc = pg_calloc(1, sizeof *lc);
    if (!lc)
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    const ynode *bad;
    char msg[512];
    if (corr_load(x->item, lc, &bad, msg, sizeof msg)) {
        l_corr_free(lc);
        pg_free(lc);
        return item_err(x, bad, "LOAD_ERR_YAML_VALIDATE", "%s", msg);
    }
    void *arr;
    bool created;
    r = item_upsert(x, &c->rule_ix, c->rules, &c->nrules, &c->caprules, sizeof *c->rules, name, &arr, &created);
    if (!r) {
        l_corr_free(lc);
        pg_free(lc);
        return -1;
    }
    c->rules = arr;
    if (created)
        r->order = ++c->seq;
    else
        rule_clear(r);
    r->corr = lc;
    r->at = item_at(x, x->item);
    r->cond = cond ? pg_strdup(cond) : NULL;
    r->output = pg_strdup(output ? output : "");
    r->desc = pg_strdup(desc ? desc : "");
    r->prio = prio >= 0 ? prio : PRI_WARNING;
    r->source = pg_strdup(source ? source : "k8s_audit");
    if ((cond && !r->cond) || !r->output || !r->desc || !r->source)
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    r->enabled = enabled;
    if (load_tags(x, &r->tags))
        return -1;
    return load_exceptions(x, r, ymap_get(x->item, "exceptions"), false);
}

/* append/override on an existing correlation: its condition, exceptions
 * and enabled, like a rule's; its own keys change by redefining it. */
int load_correlation_update(item_ctx *x, l_rule *r, const char *cond, const override_spec *ops, size_t nops,
                            bool append, const ynode *exc)
{
    if (!r)
        return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                        "Correlation uses 'append' or 'override' but no correlation by that name already exists");
    for (size_t i = 0; i < nops; i++) {
        const char *k = ops[i].key;
        bool a = ops[i].op == 'a';
        if (!strcmp(k, "condition") && cond) {
            if (a ? item_append_str(&r->cond, cond) : item_set_str(&r->cond, cond))
                return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        } else if (!strcmp(k, "exceptions")) {
            if (!a) {
                for (size_t e = 0; e < r->nexc; e++)
                    free_exception(&r->exc[e]);
                r->nexc = 0;
            }
            if (load_exceptions(x, r, exc, a))
                return -1;
        } else if (!strcmp(k, "enabled")) {
            bool en = true;
            if (item_bool(x, "enabled", &en, NULL))
                return -1;
            r->enabled = en;
        } else {
            return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                            "a correlation's '%s' cannot be overridden: redefine the correlation", k);
        }
    }
    if (append) {
        if (cond && (r->cond ? item_append_str(&r->cond, cond) : item_set_str(&r->cond, cond)))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        return load_exceptions(x, r, exc, true);
    }
    return 0;
}
