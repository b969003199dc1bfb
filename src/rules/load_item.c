/*
 * load_item — what every rules-file item needs: its place, messages,
 * typed keys, unknown-key warnings, and append/override (load_item.h).
 */
#include "rules/load_item.h"
#include "util/alloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

where item_at(item_ctx *x, const ynode *n)
{
    where w = {x->file, n ? n->line : 0, n ? n->col : 0};
    return w;
}

/* An error or warning at node n (NULL: the item), with the item's label. */
__attribute__((format(printf, 5, 0))) static void item_vmsg(item_ctx *x, bool error, const ynode *n,
                                                         const char *code, const char *fmt, va_list ap)
{
    char text[900];
    vsnprintf(text, sizeof text, fmt, ap);
    where w = item_at(x, n ? n : x->item);
    load_msg_add(x->res, error, &w, code, x->label[0] ? x->label : NULL, "%s", text);
}

int item_err(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    item_vmsg(x, true, n, code, fmt, ap);
    va_end(ap);
    return -1;
}

void item_warn(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    item_vmsg(x, false, n, code, fmt, ap);
    va_end(ap);
}

/* Required or optional scalar string (docs/compat/rules.md §1.1). */
int item_str(item_ctx *x, const char *key, bool required, const char **out)
{
    ynode *v = ymap_get(x->item, key);
    *out = NULL;
    if (!v) {
        if (required)
            return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key '%s'", key);
        return 0;
    }
    if (v->kind == Y_NULL)
        return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Mapping for key '%s' is empty", key);
    if (v->kind != Y_SCALAR)
        return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
    if (!v->len)
        return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Value must be non-empty");
    *out = v->str;
    return 0;
}

int item_bool(item_ctx *x, const char *key, bool *out, bool *given)
{
    ynode *v = ymap_get(x->item, key);
    if (given)
        *given = v != NULL;
    if (!v)
        return 0;
    if (v->kind != Y_SCALAR || yscalar_bool(v, out))
        return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Can't decode YAML scalar value");
    return 0;
}

char *item_concat(char *old, const char *add)
{
    size_t a = old ? strlen(old) : 0, b = strlen(add);
    char *p = pg_realloc(old, a + b + 2);
    if (!p)
        return NULL;
    if (a)
        p[a++] = ' ';
    memcpy(p + a, add, b + 1);
    return p;
}

int item_set_str(char **dst, const char *s)
{
    char *p = pg_strdup(s);
    if (!p)
        return -1;
    pg_free(*dst);
    *dst = p;
    return 0;
}

/* *dst + " " + s; *dst is kept as it was when memory runs out (-1). */
int item_append_str(char **dst, const char *s)
{
    char *p = item_concat(*dst, s);
    if (!p)
        return -1;
    *dst = p;
    return 0;
}

/* Check that every key of the item is one we know; unknown → warning. */
void item_check_keys(item_ctx *x, const char *const *known)
{
    for (size_t i = 0; i + 1 < x->item->n; i += 2) {
        const ynode *k = x->item->items[i];
        bool ok = false;
        for (size_t j = 0; known[j]; j++)
            if (k->kind == Y_SCALAR && !strcmp(k->str, known[j]))
                ok = true;
        if (!ok)
            item_warn(x, k, "LOAD_UNKNOWN_KEY", "Unknown key '%s'. The key will be ignored.", k->kind == Y_SCALAR ? k->str : "?");
    }
}

int item_override(item_ctx *x, override_spec *ops, size_t *nops, const char *const *appendable,
                          const char *const *replaceable)
{
    ynode *o = ymap_get(x->item, "override");
    *nops = 0;
    if (!o)
        return 0;
    if (o->kind != Y_MAP)
        return item_err(x, o, "LOAD_ERR_YAML_VALIDATE", "Value is not a map");
    for (size_t i = 0; i + 1 < o->n; i += 2) {
        const ynode *k = o->items[i], *v = o->items[i + 1];
        if (k->kind != Y_SCALAR || v->kind != Y_SCALAR)
            return item_err(x, k, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
        char op = !strcmp(v->str, "append") ? 'a' : !strcmp(v->str, "replace") ? 'r' : 0;
        const char *const *allowed = op == 'a' ? appendable : replaceable;
        bool ok = false;
        for (size_t j = 0; op && allowed[j]; j++)
            if (!strcmp(allowed[j], k->str))
                ok = true;
        if (!ok)
            return item_err(x, k, "LOAD_ERR_YAML_VALIDATE", "Key '%s' cannot be %s. Can be %s only", k->str,
                       op ? (op == 'a' ? "appended" : "replaced") : v->str,
                       op == 'a' ? "appended: condition, output, desc, tags, exceptions"
                                 : "replaced: condition, output, desc, priority, tags, exceptions, enabled, "
                                   "warn_evttypes, skip-if-unknown-filter, capture, capture_duration");
        if (!ymap_get(x->item, k->str))
            return item_err(x, k, "LOAD_ERR_YAML_VALIDATE",
                       "An override is defined for '%s' but no corresponding key is present", k->str);
        if (*nops < 32)
            ops[(*nops)++] = (override_spec){k->str, op};
    }
    return 0;
}

char item_override_op(const override_spec *ops, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ops[i].key, key))
            return ops[i].op;
    return 0;
}

int item_mode_parse(item_ctx *x, const char *const *appendable, const char *const *replaceable, item_mode *m)
{
    m->append = false;
    if (item_bool(x, "append", &m->append, &m->append_given) ||
        item_override(x, m->ops, &m->nops, appendable, replaceable))
        return -1;
    if (m->append_given && m->nops)
        return item_err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Keys 'override' and 'append: true' cannot be used together.");
    return 0;
}

void *item_upsert(item_ctx *x, name_index *ix, void *arr, size_t *n, size_t *cap, size_t elem, const char *name,
                  void **arr_out, bool *created)
{
    *arr_out = arr;
    *created = false;
    long at = name_index_find(ix, arr, elem, name, strlen(name));
    if (at >= 0)
        return (char *)arr + (size_t)at * elem;
    /* the table first: once the array has moved, nothing may fail */
    char *dup = name_index_reserve(ix, arr, elem) ? NULL : pg_strdup(name);
    void *grown = dup ? coll_grow(arr, cap, *n, elem) : NULL;
    if (!grown) {
        pg_free(dup);
        item_err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        return NULL;
    }
    *arr_out = grown;
    char *e = (char *)grown + *n * elem;
    memset(e, 0, elem);
    memcpy(e, &dup, sizeof dup);
    name_index_add(ix, grown, elem, *n);
    (*n)++;
    *created = true;
    return e;
}
