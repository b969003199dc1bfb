/*
 * load_rule — a `rule:` item: new, redefined in place, appended to,
 * overridden key by key, or only enabled/disabled.
 */
#include "rules/correlation_load.h"
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

/* The keys of a rule item, read once. */
typedef struct rule_keys {
    const char *name, *cond, *output, *desc, *prio, *source;
    bool enabled, enabled_given, skip;
    bool is_corr;               /* a `correlation:` item */
    int p;                      /* priority, -1 when not given */
    const ynode *exc;
    item_mode mode;
} rule_keys;

static const char *const rule_replaceable[] = {"condition", "output", "desc", "priority", "tags", "exceptions",
                                               "enabled", "warn_evttypes", "skip-if-unknown-filter", "capture",
                                               "capture_duration", NULL};

static int read_rule_keys(item_ctx *x, rule_keys *k)
{
    static const char *const keys[] = {"rule", "condition", "output", "desc", "priority", "source", "enabled",
                                       "tags", "exceptions", "append", "override", "warn_evttypes",
                                       "skip-if-unknown-filter", "capture", "capture_duration", "suppress", NULL};
    static const char *const app[] = {"condition", "output", "desc", "tags", "exceptions", NULL};
    k->is_corr = !ymap_get(x->item, "rule");
    if (item_str(x, k->is_corr ? "correlation" : "rule", true, &k->name))
        return -1;
    snprintf(x->label, sizeof x->label, "%s '%s'", k->is_corr ? "correlation" : "rule", k->name);
    item_check_keys(x, k->is_corr ? corr_rule_keys : keys);
    bool skip_given, dummy;
    k->enabled = true;
    k->skip = false;
    if (item_str(x, "condition", false, &k->cond) || item_str(x, "output", false, &k->output) ||
        item_str(x, "desc", false, &k->desc) || item_str(x, "priority", false, &k->prio) ||
        item_str(x, "source", false, &k->source) || item_bool(x, "enabled", &k->enabled, &k->enabled_given) ||
        item_mode_parse(x, app, rule_replaceable, &k->mode) ||
        item_bool(x, "skip-if-unknown-filter", &k->skip, &skip_given) ||
        item_bool(x, "warn_evttypes", &dummy, NULL) || item_bool(x, "capture", &dummy, NULL))
        return -1;
    k->p = -1;
    if (k->prio && (k->p = priority_parse(k->prio)) < 0)
        return item_err(x, ymap_get(x->item, "priority"), "LOAD_ERR_YAML_VALIDATE", "Invalid priority");
    k->exc = ymap_get(x->item, "exceptions");
    return 0;
}

static int same_source(item_ctx *x, const rule_keys *k, const l_rule *r)
{
    if (k->source && r->source && strcmp(k->source, r->source))
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source");
    return 0;
}

/* override: {key: append|replace, ...} on an existing rule. */
static int rule_override(item_ctx *x, const rule_keys *k, l_rule *r)
{
    const item_mode *m = &k->mode;
    /* every overridable key present must be listed under override */
    for (size_t i = 0; rule_replaceable[i]; i++)
        if (ymap_get(x->item, rule_replaceable[i]) && !item_override_op(m->ops, m->nops, rule_replaceable[i]))
            return item_err(x, ymap_get(x->item, rule_replaceable[i]), "LOAD_ERR_YAML_VALIDATE",
                            "Unexpected key '%s': no corresponding entry under 'override' is defined.",
                            rule_replaceable[i]);
    if (!r) {
        for (size_t i = 0; i < m->nops; i++)
            if (m->ops[i].op == 'a')
                return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                                "Rule uses 'append' or 'override.%s: append' but no rule by that name already exists",
                                m->ops[i].key);
        return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                        "An 'override.%s: replace' to a rule was requested but no rule by that name already exists",
                        m->ops[0].key);
    }
    if (same_source(x, k, r))
        return -1;
    for (size_t i = 0; i < m->nops; i++) {
        const char *key = m->ops[i].key;
        bool a = m->ops[i].op == 'a';
        char **str = !strcmp(key, "condition") ? &r->cond
                     : !strcmp(key, "output")  ? &r->output
                     : !strcmp(key, "desc")    ? &r->desc
                                               : NULL;
        const char *val = str == &r->cond ? k->cond : str == &r->output ? k->output : k->desc;
        if (str) {
            if (a ? item_append_str(str, val) : item_set_str(str, val))
                return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        } else if (!strcmp(key, "priority")) {
            r->prio = k->p;
        } else if (!strcmp(key, "enabled")) {
            r->enabled = k->enabled;
        } else if (!strcmp(key, "skip-if-unknown-filter")) {
            r->skip_unknown = k->skip;
        } else if (!strcmp(key, "tags")) {
            if (!a)
                strvec_free(&r->tags);
            if (load_tags(x, &r->tags))
                return -1;
        } else if (!strcmp(key, "exceptions")) {
            if (!a) {
                for (size_t e = 0; e < r->nexc; e++)
                    free_exception(&r->exc[e]);
                r->nexc = 0;
            }
            if (load_exceptions(x, r, k->exc, a))
                return -1;
        }
    }
    return 0;
}

/* The deprecated `append: true`: condition and exceptions added. */
static int rule_append(item_ctx *x, const rule_keys *k, l_rule *r)
{
    item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
    if (!k->cond && !k->exc)
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Appended rule must have exceptions or condition property");
    if (!r)
        return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                        "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists");
    if (same_source(x, k, r))
        return -1;
    if (k->cond && item_append_str(&r->cond, k->cond))
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    return load_exceptions(x, r, k->exc, true);
}

/* Emptied for a redefinition, keeping its name and position. */
void rule_clear(l_rule *r)
{
    coll_free_rule_body(r);
    int order = r->order;
    char *rname = r->name;
    memset(r, 0, sizeof *r);
    r->name = rname;
    r->order = order;
}

/* A full definition: a new rule, or a redefinition in place. */
static int rule_define(collection *c, item_ctx *x, const rule_keys *k, l_rule *r)
{
    static const char *const required[] = {"condition", "output", "desc", "priority"};
    const char *given[] = {k->cond, k->output, k->desc, k->prio};
    for (size_t i = 0; i < 4; i++)
        if (!given[i])
            return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key '%s'", required[i]);
    if (r && same_source(x, k, r))
        return -1;
    l_suppress *sup;
    const ynode *bad;
    char msg[512];
    if (corr_load_suppress(x->item, &sup, &bad, msg, sizeof msg))
        return item_err(x, bad, "LOAD_ERR_YAML_VALIDATE", "%s", msg);
    void *arr;
    bool created;
    r = item_upsert(x, &c->rule_ix, c->rules, &c->nrules, &c->caprules, sizeof *c->rules, k->name, &arr, &created);
    if (!r) {
        l_suppress_free(sup);
        return -1;
    }
    c->rules = arr;
    if (created)
        r->order = ++c->seq;
    else
        rule_clear(r);
    r->sup = sup;
    r->at = item_at(x, x->item);
    r->cond = pg_strdup(k->cond);
    /* output: leading/trailing whitespace trimmed */
    const char *output = k->output;
    while (isspace((unsigned char)*output))
        output++;
    size_t olen = strlen(output);
    while (olen && isspace((unsigned char)output[olen - 1]))
        olen--;
    r->output = pg_strndup(output, olen);
    r->desc = pg_strdup(k->desc);
    r->prio = k->p;
    r->source = k->source ? pg_strdup(k->source) : NULL;
    if (!r->cond || !r->output || !r->desc || (k->source && !r->source))
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    r->enabled = k->enabled;
    r->skip_unknown = k->skip;
    if (load_tags(x, &r->tags))
        return -1;
    return load_exceptions(x, r, k->exc, false);
}

int load_rule(rule_loader *l, item_ctx *x)
{
    collection *c = &l->coll;
    rule_keys k;
    if (read_rule_keys(x, &k))
        return -1;
    l_rule *r = coll_find_rule(c, k.name);
    if (r && (r->corr != NULL) != k.is_corr)
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "'%s' is already defined as a %s", k.name,
                        r->corr ? "correlation" : "rule");
    if (k.is_corr && (k.mode.nops || k.mode.append_given))
        return load_correlation_update(x, r, k.cond, k.mode.ops, k.mode.nops, k.mode.append_given && k.mode.append,
                                       k.exc);
    if (k.is_corr)
        return load_correlation(c, x, r, k.name, k.cond, k.output, k.desc, k.p, k.source, k.enabled);
    if (k.mode.nops)
        return rule_override(x, &k, r);
    if (k.mode.append_given && k.mode.append)
        return rule_append(x, &k, r);
    if (!k.cond && !k.output && !k.desc && !k.prio) {
        /* deprecated form: only toggles `enabled` of an existing rule */
        if (!k.enabled_given)
            return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'condition'");
        if (!r)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has 'enabled' key but no rule by that name already exists");
        item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "The 'enabled' key without other rule properties is deprecated. Use 'override: {enabled: replace}' instead.");
        r->enabled = k.enabled;
        return 0;
    }
    return rule_define(c, x, &k, r);
}
