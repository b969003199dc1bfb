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
    item_mode mode;
    if (item_mode_parse(x, app, app, &mode))
        return -1;
    if (mode.append_given)
        item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
    bool append = mode.append || item_override_op(mode.ops, mode.nops, "condition") == 'a';
    if (append && !coll_find_macro(c, name))
        return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                        "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists");
    int seq = ++c->seq;
    void *arr;
    bool created;
    l_macro *m = item_upsert(x, &c->macro_ix, c->macros, &c->nmacros, &c->capmacros, sizeof *c->macros, name, &arr, &created);
    if (!m)
        return -1;
    c->macros = arr;
    if (created)
        m->first = seq;
    if (append ? item_append_str(&m->cond, cond) : item_set_str(&m->cond, cond))
        return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    m->last = seq;
    m->at = item_at(x, x->item);
    return 0;
}
