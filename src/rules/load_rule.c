/*
 * load_rule — a `rule:` item: new, redefined in place, appended to,
 * overridden key by key, or only enabled/disabled.
 */
#include "rules/load_item.h"
#include "util/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int load_tags(item_ctx *x, strvec *tags)
{
    ynode *t = ymap_get(x->item, "tags");
    if (!t || t->kind == Y_NULL)
        return 0;
    if (t->kind != Y_SEQ)
        return item_err(x, t, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != Y_SCALAR)
            return item_err(x, t->items[i], "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
        bool dup = false;
        for (size_t k = 0; k < tags->n; k++)
            dup |= !strcmp(tags->v[k], t->items[i]->str);
        if (!dup && strvec_push(tags, t->items[i]->str))
            return item_err(x, t, "LOAD_ERR_VALIDATE", "out of memory");
    }
    return 0;
}

int load_rule(rule_loader *l, item_ctx *x)
{
    collection *c = &l->coll;
    static const char *const keys[] = {"rule", "condition", "output", "desc", "priority", "source", "enabled",
                                       "tags", "exceptions", "append", "override", "warn_evttypes",
                                       "skip-if-unknown-filter", "capture", "capture_duration", NULL};
    static const char *const app[] = {"condition", "output", "desc", "tags", "exceptions", NULL};
    static const char *const rep[] = {"condition", "output", "desc", "priority", "tags", "exceptions", "enabled",
                                      "warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration", NULL};
    const char *name;
    if (item_str(x, "rule", true, &name))
        return -1;
    snprintf(x->label, sizeof x->label, "rule '%s'", name);
    item_check_keys(x, keys);
    const char *cond, *output, *desc, *prio, *source;
    if (item_str(x, "condition", false, &cond) || item_str(x, "output", false, &output) ||
        item_str(x, "desc", false, &desc) || item_str(x, "priority", false, &prio) ||
        item_str(x, "source", false, &source))
        return -1;
    bool enabled = true, enabled_given, append = false, append_given, skip = false, skip_given, dummy;
    if (item_bool(x, "enabled", &enabled, &enabled_given) || item_bool(x, "append", &append, &append_given) ||
        item_bool(x, "skip-if-unknown-filter", &skip, &skip_given) || item_bool(x, "warn_evttypes", &dummy, NULL) ||
        item_bool(x, "capture", &dummy, NULL))
        return -1;
    override_spec ops[32];
    size_t nops;
    if (item_override(x, ops, &nops, app, rep))
        return -1;
    if (append_given && nops)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Keys 'override' and 'append: true' cannot be used together.");
    int p = -1;
    if (prio && (p = priority_parse(prio)) < 0)
        return item_err(x, ymap_get(x->item, "priority"), "LOAD_ERR_YAML_VALIDATE", "Invalid priority");
    const ynode *exc = ymap_get(x->item, "exceptions");
    const ynode *tags = ymap_get(x->item, "tags");
    l_rule *r = coll_find_rule(c, name);

    if (nops) {
        /* every overridable key present must be listed under override */
        for (size_t i = 0; rep[i]; i++)
            if (ymap_get(x->item, rep[i]) && !item_override_op(ops, nops, rep[i]))
                return item_err(x, ymap_get(x->item, rep[i]), "LOAD_ERR_YAML_VALIDATE",
                           "Unexpected key '%s': no corresponding entry under 'override' is defined.", rep[i]);
        if (!r) {
            for (size_t i = 0; i < nops; i++)
                if (ops[i].op == 'a')
                    return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                               "Rule uses 'append' or 'override.%s: append' but no rule by that name already exists",
                               ops[i].key);
            return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                       "An 'override.%s: replace' to a rule was requested but no rule by that name already exists",
                       ops[0].key);
        }
        if (source && r->source && strcmp(source, r->source))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source");
        for (size_t i = 0; i < nops; i++) {
            const char *k = ops[i].key;
            bool a = ops[i].op == 'a';
            int rc = 0;
            /* string updates fail with 1 (out of memory, no message yet) */
            if (!strcmp(k, "condition"))
                rc = (a ? item_append_str(&r->cond, cond) : item_set_str(&r->cond, cond)) ? 1 : 0;
            else if (!strcmp(k, "output"))
                rc = (a ? item_append_str(&r->output, output) : item_set_str(&r->output, output)) ? 1 : 0;
            else if (!strcmp(k, "desc"))
                rc = (a ? item_append_str(&r->desc, desc) : item_set_str(&r->desc, desc)) ? 1 : 0;
            else if (!strcmp(k, "priority"))
                r->prio = p;
            else if (!strcmp(k, "enabled"))
                r->enabled = enabled;
            else if (!strcmp(k, "skip-if-unknown-filter"))
                r->skip_unknown = skip;
            else if (!strcmp(k, "tags")) {
                if (!a)
                    strvec_free(&r->tags);
                rc = load_tags(x, &r->tags);
            } else if (!strcmp(k, "exceptions")) {
                if (!a) {
                    for (size_t e = 0; e < r->nexc; e++)
                        free_exception(&r->exc[e]);
                    r->nexc = 0;
                }
                rc = load_exceptions(x, r, exc, a);
            }
            if (rc)
                return rc < 0 ? -1 : item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        }
        return 0;
    }

    if (append_given && append) {
        item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
        if (!cond && !exc)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Appended rule must have exceptions or condition property");
        if (!r)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                       "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists");
        if (source && r->source && strcmp(source, r->source))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source");
        if (cond && item_append_str(&r->cond, cond))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        return load_exceptions(x, r, exc, true);
    }

    if (!cond && !output && !desc && !prio) {
        /* deprecated form: only toggles `enabled` of an existing rule */
        if (!enabled_given)
            return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'condition'");
        if (!r)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has 'enabled' key but no rule by that name already exists");
        item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "The 'enabled' key without other rule properties is deprecated. Use 'override: {enabled: replace}' instead.");
        r->enabled = enabled;
        return 0;
    }
    if (!cond)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'condition'");
    if (!output)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'output'");
    if (!desc)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'desc'");
    if (!prio)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'priority'");
    if (r) {
        if (source && r->source && strcmp(source, r->source))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source");
        /* redefinition: replace, keep the position */
        pg_free(r->cond);
        pg_free(r->output);
        pg_free(r->desc);
        pg_free(r->source);
        strvec_free(&r->tags);
        for (size_t e = 0; e < r->nexc; e++)
            free_exception(&r->exc[e]);
        pg_free(r->exc);
        int order = r->order;
        char *rname = r->name;
        memset(r, 0, sizeof *r);
        r->name = rname;
        r->order = order;
    } else {
        l_rule *rs = coll_grow(c->rules, &c->caprules, c->nrules, sizeof *rs);
        if (!rs)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        c->rules = rs;
        r = &c->rules[c->nrules++];
        memset(r, 0, sizeof *r);
        r->name = pg_strdup(name);
        if (!r->name) {
            c->nrules--;
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        }
        r->order = ++c->seq;
    }
    r->at = item_at(x, x->item);
    r->cond = pg_strdup(cond);
    /* output: leading/trailing whitespace trimmed */
    while (isspace((unsigned char)*output))
        output++;
    size_t olen = strlen(output);
    while (olen && isspace((unsigned char)output[olen - 1]))
        olen--;
    r->output = pg_strndup(output, olen);
    r->desc = pg_strdup(desc);
    r->prio = p;
    r->source = source ? pg_strdup(source) : NULL;
    if (!r->cond || !r->output || !r->desc || (source && !r->source))
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    r->enabled = enabled;
    r->skip_unknown = skip;
    (void)tags;
    if (load_tags(x, &r->tags))
        return -1;
    return load_exceptions(x, r, exc, false);
}
