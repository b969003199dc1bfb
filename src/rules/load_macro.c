/*
 * load_macro — a `macro:` item (new, redefined, or appended to).
 */
#include "rules/load_item.h"
#include "util/alloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

int load_macro(rule_loader *l, item_ctx *x)
{
    collection *c = &l->coll;
    static const char *const keys[] = {"macro", "condition", "append", "override", NULL};
    static const char *const app[] = {"condition", NULL};
    const char *name, *cond;
    if (item_str(x, "macro", true, &name))
        return -1;
    snprintf(x->label, sizeof x->label, "macro '%s'", name);
    item_check_keys(x, keys);
    bool valid = isalpha((unsigned char)name[0]);
    for (const char *p = name; *p && valid; p++)
        valid = isalnum((unsigned char)*p) || *p == '_';
    if (!valid)
        item_warn(x, NULL, "LOAD_INVALID_MACRO_NAME", "Macro has an invalid name. Macro names should match a regular expression: ^[a-zA-Z]+[a-zA-Z0-9_]*$");
    if (item_str(x, "condition", true, &cond))
        return -1;
    bool append = false, append_given;
    if (item_bool(x, "append", &append, &append_given))
        return -1;
    override_spec ops[32];
    size_t nops;
    if (item_override(x, ops, &nops, app, app))
        return -1;
    if (append_given && nops)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Keys 'override' and 'append: true' cannot be used together.");
    if (append_given)
        item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
    if (item_override_op(ops, nops, "condition") == 'a')
        append = true;
    l_macro *m = coll_find_macro(c, name);
    int seq = ++c->seq;
    if (append) {
        if (!m)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                       "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists");
        char *p = item_concat(m->cond, cond);
        if (!p)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        m->cond = p;
    } else {
        if (!m) {
            l_macro *ms = coll_grow(c->macros, &c->capmacros, c->nmacros, sizeof *ms);
            if (!ms)
                return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
            c->macros = ms;
            m = &c->macros[c->nmacros++];
            memset(m, 0, sizeof *m);
            m->name = pg_strdup(name);
            if (!m->name) {
                c->nmacros--;
                return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
            }
            m->first = seq;
            m->at = item_at(x, x->item);
        }
        if (item_set_str(&m->cond, cond))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    }
    m->last = seq;
    m->at = item_at(x, x->item);
    return 0;
}
