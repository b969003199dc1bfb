/*
 * exceptions — a rule's `exceptions:` read from YAML (load_item.h) and
 * turned into the text appended to its condition (collection.h).
 */
#include "rules/load_item.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <stdio.h>
#include <string.h>

static int scalar_or_list(item_ctx *x, const ynode *v, exc_val *out)
{
    memset(out, 0, sizeof *out);
    if (v->kind == Y_SCALAR) {
        return strvec_push(&out->items, v->str) ? item_err(x, v, "LOAD_ERR_VALIDATE", "out of memory") : 0;
    }
    if (v->kind == Y_SEQ) {
        out->is_list = true;
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i]->kind != Y_SCALAR)
                return item_err(x, v->items[i], "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
            if (strvec_push(&out->items, v->items[i]->str))
                return item_err(x, v, "LOAD_ERR_VALIDATE", "out of memory");
        }
        return 0;
    }
    return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
}

static int add_values(item_ctx *x, l_exception *e, const ynode *values)
{
    if (!values || values->kind == Y_NULL)
        return 0;
    if (values->kind != Y_SEQ)
        return item_err(x, values, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < values->n; i++) {
        const ynode *v = values->items[i];
        if (e->fields_is_list) {
            if (v->kind != Y_SEQ)
                return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
            if (v->n != e->fields.n)
                return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Fields and values lists must have equal length");
            exc_val *t = pg_calloc(v->n ? v->n : 1, sizeof *t);
            exc_val **tuples = pg_realloc(e->tuples, (e->ntuples + 1) * sizeof *tuples);
            size_t *lens = pg_realloc(e->tuple_len, (e->ntuples + 1) * sizeof *lens);
            if (tuples)
                e->tuples = tuples;
            if (lens)
                e->tuple_len = lens;
            if (!t || !tuples || !lens) {
                pg_free(t);
                return item_err(x, v, "LOAD_ERR_VALIDATE", "out of memory");
            }
            e->tuples[e->ntuples] = t;
            e->tuple_len[e->ntuples++] = v->n;
            for (size_t j = 0; j < v->n; j++)
                if (scalar_or_list(x, v->items[j], &t[j]))
                    return -1;
        } else {
            if (v->kind != Y_SCALAR)
                return item_err(x, v, "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
            exc_val *s = pg_realloc(e->scalars, (e->nscalars + 1) * sizeof *s);
            if (!s)
                return item_err(x, v, "LOAD_ERR_VALIDATE", "out of memory");
            e->scalars = s;
            if (scalar_or_list(x, v, &e->scalars[e->nscalars++]))
                return -1;
        }
    }
    return 0;
}

static bool valid_exception_comp(const char *c, bool single)
{
    static const char *const list_ops[] = {"in", "pmatch", "intersects", NULL};
    static const char *const ops[] = {"=", "==", "!=", "<", "<=", ">", ">=", "contains", "icontains", "bcontains",
                                      "startswith", "bstartswith", "endswith", "glob", "iglob", "regex", "in",
                                      "pmatch", "intersects", NULL};
    /* "op modifier" such as "startswith oneof" */
    const char *sp = strchr(c, ' ');
    if (sp) {
        const char *mod = sp + 1;
        if (strcmp(mod, "oneof") && strcmp(mod, "anyof") && strcmp(mod, "allof"))
            return false;
        return true;
    }
    const char *const *set = single ? list_ops : ops;
    for (size_t i = 0; set[i]; i++)
        if (!strcmp(set[i], c))
            return true;
    return false;
}

/* exceptions: [{name, fields, comps, values}] — new ones need fields; with
 * `append`, existing names only get their values appended. */
int load_exceptions(item_ctx *x, l_rule *r, const ynode *seq, bool append)
{
    if (!seq || seq->kind == Y_NULL)
        return 0;
    if (seq->kind != Y_SEQ)
        return item_err(x, seq, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < seq->n; i++) {
        const ynode *e = seq->items[i];
        const ynode *name = ymap_get(e, "name");
        if (!name || name->kind != Y_SCALAR || !name->len)
            return item_err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'name'");
        l_exception *ex = NULL;
        for (size_t k = 0; k < r->nexc; k++)
            if (!strcmp(r->exc[k].name, name->str))
                ex = &r->exc[k];
        const ynode *fields = ymap_get(e, "fields"), *comps = ymap_get(e, "comps"), *values = ymap_get(e, "values");
        if (ex && append) {
            if (fields || comps)
                return item_err(x, e, "LOAD_ERR_YAML_VALIDATE",
                           "Can not append exception fields to existing exception, only values");
            if (add_values(x, ex, values))
                return -1;
            continue;
        }
        if (ex)
            item_warn(x, e, "LOAD_EXCEPTION_NAME_NOT_UNIQUE", "Multiple definitions of exception '%s' in the same rule", name->str);
        if (!fields)
            return item_err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'fields'");
        l_exception *arr = pg_realloc(r->exc, (r->nexc + 1) * sizeof *arr);
        if (!arr)
            return item_err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
        r->exc = arr;
        ex = &r->exc[r->nexc++];
        memset(ex, 0, sizeof *ex);
        ex->name = pg_strdup(name->str);
        if (!ex->name) {
            r->nexc--;
            return item_err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
        }
        ex->at = item_at(x, e);
        if (fields->kind == Y_SEQ) {
            ex->fields_is_list = true;
            for (size_t k = 0; k < fields->n; k++) {
                if (fields->items[k]->kind != Y_SCALAR)
                    return item_err(x, fields->items[k], "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
                if (strvec_push(&ex->fields, fields->items[k]->str))
                    return item_err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
            }
            if (comps && comps->kind == Y_SEQ) {
                if (comps->n != fields->n)
                    return item_err(x, comps, "LOAD_ERR_YAML_VALIDATE", "Fields and comps lists must have equal length");
                for (size_t k = 0; k < comps->n; k++) {
                    if (comps->items[k]->kind != Y_SCALAR || !valid_exception_comp(comps->items[k]->str, false))
                        return item_err(x, comps->items[k], "LOAD_ERR_VALIDATE", "Invalid comparison operator '%s'",
                                   comps->items[k]->kind == Y_SCALAR ? comps->items[k]->str : "?");
                    if (strvec_push(&ex->comps, comps->items[k]->str))
                        return item_err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
                }
            } else if (comps && comps->kind != Y_NULL) {
                return item_err(x, comps, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
            } else {
                for (size_t k = 0; k < fields->n; k++)
                    if (strvec_push(&ex->comps, "="))
                        return item_err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
            }
        } else if (fields->kind == Y_SCALAR) {
            if (strvec_push(&ex->fields, fields->str))
                return item_err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
            const char *comp = "in";
            if (comps && comps->kind == Y_SCALAR)
                comp = comps->str;
            else if (comps && comps->kind != Y_NULL)
                return item_err(x, comps, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
            if (!valid_exception_comp(comp, true))
                return item_err(x, comps, "LOAD_ERR_VALIDATE", "Invalid comparison operator '%s'", comp);
            if (strvec_push(&ex->comps, comp))
                return item_err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
        } else {
            return item_err(x, fields, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
        }
        if (add_values(x, ex, values))
            return -1;
    }
    return 0;
}

void free_exception(l_exception *e)
{
    pg_free(e->name);
    strvec_free(&e->fields);
    strvec_free(&e->comps);
    for (size_t i = 0; i < e->ntuples; i++) {
        for (size_t j = 0; j < e->tuple_len[i]; j++)
            strvec_free(&e->tuples[i][j].items);
        pg_free(e->tuples[i]);
    }
    pg_free(e->tuples);
    pg_free(e->tuple_len);
    for (size_t i = 0; i < e->nscalars; i++)
        strvec_free(&e->scalars[i].items);
    pg_free(e->scalars);
}

/* ---- exceptions → condition text (docs/compat/rules.md §4) ---- */

static void put_scalar(buf *b, const char *s)
{
    if (strchr(s, ' ') && s[0] != '"' && s[0] != '\'') {
        buf_putc(b, '"');
        buf_puts(b, s);
        buf_putc(b, '"');
    } else {
        buf_puts(b, s);
    }
}

static bool is_list_comp(const char *comp)
{
    return !strcmp(comp, "in") || !strcmp(comp, "intersects") || !strcmp(comp, "pmatch") || strchr(comp, ' ');
}

static void put_value(buf *b, const exc_val *v, const char *comp)
{
    if (v->is_list) {
        buf_putc(b, '(');
        for (size_t i = 0; i < v->items.n; i++) {
            if (i)
                buf_puts(b, ", ");
            put_scalar(b, v->items.v[i]);
        }
        buf_putc(b, ')');
    } else if (is_list_comp(comp) && v->items.v[0][0] != '(') {
        buf_putc(b, '(');
        put_scalar(b, v->items.v[0]);
        buf_putc(b, ')');
    } else {
        put_scalar(b, v->items.v[0]);
    }
}

char *rule_condition_text(const l_rule *r)
{
    buf b = BUF_INIT;
    buf_putc(&b, '(');
    buf_puts(&b, r->cond);
    buf_putc(&b, ')');
    for (size_t i = 0; i < r->nexc; i++) {
        const l_exception *e = &r->exc[i];
        if (e->fields_is_list) {
            if (!e->ntuples)
                continue;
            buf_puts(&b, " and not (");
            for (size_t t = 0; t < e->ntuples; t++) {
                if (t)
                    buf_puts(&b, " or ");
                buf_putc(&b, '(');
                for (size_t f = 0; f < e->fields.n; f++) {
                    if (f)
                        buf_puts(&b, " and ");
                    buf_printf(&b, " %s %s ", e->fields.v[f], e->comps.v[f]);
                    put_value(&b, &e->tuples[t][f], e->comps.v[f]);
                }
                buf_putc(&b, ')');
            }
            buf_putc(&b, ')');
        } else {
            if (!e->nscalars)
                continue;
            buf_printf(&b, " and not (%s %s (", e->fields.v[0], e->comps.v[0]);
            for (size_t k = 0; k < e->nscalars; k++) {
                if (k)
                    buf_puts(&b, ", ");
                put_scalar(&b, e->scalars[k].items.v[0]);
            }
            buf_puts(&b, "))");
        }
    }
    if (b.oom) {
        buf_free(&b);
        return NULL;
    }
    return b.data;
}
