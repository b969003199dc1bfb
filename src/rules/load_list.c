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
    item_mode m;
    if (item_mode_parse(x, app, app, &m))
        return -1;
    if (m.append_given)
        item_warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'items: append') under 'override' instead.");
    bool append = m.append || item_override_op(m.ops, m.nops, "items") == 'a';
    if (append && !coll_find_list(c, name))
        return item_err(x, NULL, "LOAD_ERR_VALIDATE",
                        "List uses 'append' or 'override.items: append' but no list by that name already exists");
    int seq = ++c->seq;
    void *arr;
    bool created;
    l_list *old = item_upsert(x, &c->list_ix, c->lists, &c->nlists, &c->caplists, sizeof *c->lists, name, &arr, &created);
    if (!old)
        return -1;
    c->lists = arr;
    if (created) {
        old->first = seq;
        old->at = item_at(x, x->item);
    } else if (!append) {
        strvec_free(&old->items);
    }
    old->last = seq;
    for (size_t i = 0; items->kind == Y_SEQ && i < items->n; i++)
        if (strvec_push(&old->items, items->items[i]->str))
            return item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    return 0;
}
