/*
 * load_list — a `list:` item (new, redefined, or appended to).
 */
#include "rules/load_item.h"
#include "util/alloc.h"

#include <stdio.h>
#include <string.h>

int load_list(rule_loader *l, item_ctx *x)
{
    collection *c = &l->coll;
    static const char *const keys[] = {"list", "items", "append", "override", NULL};
    static const char *const app[] = {"items", NULL};
    const char *name;
    if (item_str(x, "list", true, &name))
        return -1;
    snprintf(x->label, sizeof x->label, "list '%s'", name);
    item_check_keys(x, keys);
    for (const char *p = name; *p; p++)
        if (strchr("()\"'=, \t\r\n", *p)) {
            item_warn(x, NULL, "LOAD_INVALID_LIST_NAME", "List has an invalid name. List names should match a regular expression: ^[^()\"'[:space:]=,]+$");
            break;
        }
    ynode *items = ymap_get(x->item, "items");
    if (!items)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'items'");
    if (items->kind != Y_SEQ && items->kind != Y_NULL)
        return item_err(x, items, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; items->kind == Y_SEQ && i < items->n; i++)
        if (items->items[i]->kind != Y_SCALAR)
            return item_err(x, items->items[i], "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
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
        item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'items: append') under 'override' instead.");
    if (item_override_op(ops, nops, "items") == 'a')
        append = true;
    l_list *old = coll_find_list(c, name);
    int seq = ++c->seq;
    if (append) {
        if (!old)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                       "List uses 'append' or 'override.items: append' but no list by that name already exists");
    } else if (old) {
        strvec_free(&old->items);
    } else {
        l_list *lists = coll_grow(c->lists, &c->caplists, c->nlists, sizeof *lists);
        if (!lists)
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        c->lists = lists;
        old = &c->lists[c->nlists++];
        memset(old, 0, sizeof *old);
        old->name = pg_strdup(name);
        if (!old->name) {
            c->nlists--;
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        }
        old->first = seq;
        old->at = item_at(x, x->item);
    }
    old->last = seq;
    for (size_t i = 0; items->kind == Y_SEQ && i < items->n; i++)
        if (strvec_push(&old->items, items->items[i]->str))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    return 0;
}
