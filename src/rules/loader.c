/*
 * loader — rules files (YAML) into the shared collection
 * (spec/rules.md §1-§4): item classification, key validation, lists,
 * macros, rules, append/override, exceptions.
 */
#include "rules/collection.h"
#include "util/alloc.h"
#include "yaml/ytree.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const priority_names[PRI__COUNT] = {"Emergency", "Alert",  "Critical",      "Error",
                                                "Warning",   "Notice", "Informational", "Debug"};
const char *const priority_short[PRI__COUNT] = {"EMERGENCY", "ALERT",  "CRITICAL", "ERROR",
                                                "WARNING",   "NOTICE", "INFO",     "DEBUG"};

int priority_parse(const char *s)
{
    static const char *const long_names[PRI__COUNT] = {"emergency", "alert",  "critical",      "error",
                                                       "warning",   "notice", "informational", "debug"};
    for (int i = 0; i < PRI__COUNT; i++)
        if (!strcasecmp(s, long_names[i]))
            return i;
    if (!strcasecmp(s, "info"))
        return PRI_INFORMATIONAL;
    return -1;
}

struct rule_loader {
    collection coll;
    loader_opts opts;
};

/* ---- small containers ---- */

static void *grow(void *arr, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return arr;
    size_t c = *cap ? *cap * 2 : 16;
    void *p = pg_realloc(arr, c * elem);
    if (p)
        *cap = c;
    return p;
}

l_list *coll_find_list(collection *c, const char *name)
{
    for (size_t i = 0; i < c->nlists; i++)
        if (!strcmp(c->lists[i].name, name))
            return &c->lists[i];
    return NULL;
}

l_macro *coll_find_macro(collection *c, const char *name)
{
    for (size_t i = 0; i < c->nmacros; i++)
        if (!strcmp(c->macros[i].name, name))
            return &c->macros[i];
    return NULL;
}

l_rule *coll_find_rule(collection *c, const char *name)
{
    for (size_t i = 0; i < c->nrules; i++)
        if (!strcmp(c->rules[i].name, name))
            return &c->rules[i];
    return NULL;
}

/* ---- messages ---- */

void load_msg_add(load_result *r, bool error, const where *at, const char *code, const char *item,
                  const char *fmt, ...)
{
    /* Grow while one slot is still free, so that when memory runs out the
     * message saying so still fits; only when not even the first array
     * could be allocated is a message counted but not kept (the printer
     * then says so). */
    if (r->n + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        load_msg *m = pg_realloc(r->msgs, cap * sizeof *m);
        if (m) {
            r->msgs = m;
            r->cap = cap;
        } else if (r->n == r->cap) {
            if (error)
                r->errors++;
            else
                r->warnings++;
            return;
        }
    }
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    load_msg *m = &r->msgs[r->n++];
    m->error = error;
    m->file = at && at->file ? pg_strdup(at->file) : NULL;
    m->line = at ? at->line : 0;
    m->col = at ? at->col : 0;
    m->code = code;
    m->item = item ? pg_strdup(item) : NULL;
    m->text = pg_strdup(text);
    if (error)
        r->errors++;
    else
        r->warnings++;
}

void load_result_free(load_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        pg_free(r->msgs[i].file);
        pg_free(r->msgs[i].item);
        pg_free(r->msgs[i].text);
    }
    pg_free(r->msgs);
    *r = (load_result){0};
}

void load_result_print(const load_result *r, buf *out)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->n; i++) {
            const load_msg *m = &r->msgs[i];
            if (m->error != (pass == 0))
                continue;
            if (m->file)
                buf_printf(out, "%s:%d:%d: ", m->file, m->line, m->col);
            buf_printf(out, "%s (%s): ", m->error ? "error" : "warning", m->code);
            if (m->item)
                buf_printf(out, "%s: ", m->item);
            buf_printf(out, "%s\n", m->text ? m->text : "out of memory");
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++)
        kept += r->msgs[i].error;
    if (r->errors > kept)
        buf_printf(out, "error: out of memory (%zu message(s) lost)\n", r->errors - kept);
}

/* ---- item helpers ---- */

typedef struct item_ctx {
    load_result *res;
    char *file;
    const ynode *item;
    char label[300];       /* "rule 'X'" for messages */
} item_ctx;

static where at_node(item_ctx *x, const ynode *n)
{
    where w = {x->file, n ? n->line : 0, n ? n->col : 0};
    return w;
}

static int err(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int err(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
{
    char text[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    where w = at_node(x, n ? n : x->item);
    load_msg_add(x->res, true, &w, code, x->label[0] ? x->label : NULL, "%s", text);
    return -1;
}

static void warn(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void warn(item_ctx *x, const ynode *n, const char *code, const char *fmt, ...)
{
    char text[900];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    where w = at_node(x, n ? n : x->item);
    load_msg_add(x->res, false, &w, code, x->label[0] ? x->label : NULL, "%s", text);
}

/* Required or optional scalar string (spec/rules.md §1.1). */
static int get_str(item_ctx *x, const char *key, bool required, const char **out)
{
    ynode *v = ymap_get(x->item, key);
    *out = NULL;
    if (!v) {
        if (required)
            return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key '%s'", key);
        return 0;
    }
    if (v->kind == Y_NULL)
        return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Mapping for key '%s' is empty", key);
    if (v->kind != Y_SCALAR)
        return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
    if (!v->len)
        return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Value must be non-empty");
    *out = v->str;
    return 0;
}

static int get_bool(item_ctx *x, const char *key, bool *out, bool *given)
{
    ynode *v = ymap_get(x->item, key);
    if (given)
        *given = v != NULL;
    if (!v)
        return 0;
    if (v->kind != Y_SCALAR || yscalar_bool(v, out))
        return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Can't decode YAML scalar value");
    return 0;
}

static char *concat_space(char *old, const char *add)
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

static int set_str(char **dst, const char *s)
{
    char *p = pg_strdup(s);
    if (!p)
        return -1;
    pg_free(*dst);
    *dst = p;
    return 0;
}

/* *dst + " " + s; *dst is kept as it was when memory runs out (-1). */
static int append_str(char **dst, const char *s)
{
    char *p = concat_space(*dst, s);
    if (!p)
        return -1;
    *dst = p;
    return 0;
}

/* Check that every key of the item is one we know; unknown → warning. */
static void check_keys(item_ctx *x, const char *const *known)
{
    for (size_t i = 0; i + 1 < x->item->n; i += 2) {
        const ynode *k = x->item->items[i];
        bool ok = false;
        for (size_t j = 0; known[j]; j++)
            if (k->kind == Y_SCALAR && !strcmp(k->str, known[j]))
                ok = true;
        if (!ok)
            warn(x, k, "LOAD_UNKNOWN_KEY", "Unknown key '%s'. The key will be ignored.", k->kind == Y_SCALAR ? k->str : "?");
    }
}

/* override: {key: append|replace}.  Fills ops[key] = 'a' / 'r'. */
typedef struct override_spec {
    const char *key;
    char op;
} override_spec;

static int parse_override(item_ctx *x, override_spec *ops, size_t *nops, const char *const *appendable,
                          const char *const *replaceable)
{
    ynode *o = ymap_get(x->item, "override");
    *nops = 0;
    if (!o)
        return 0;
    if (o->kind != Y_MAP)
        return err(x, o, "LOAD_ERR_YAML_VALIDATE", "Value is not a map");
    for (size_t i = 0; i + 1 < o->n; i += 2) {
        const ynode *k = o->items[i], *v = o->items[i + 1];
        if (k->kind != Y_SCALAR || v->kind != Y_SCALAR)
            return err(x, k, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
        char op = !strcmp(v->str, "append") ? 'a' : !strcmp(v->str, "replace") ? 'r' : 0;
        const char *const *allowed = op == 'a' ? appendable : replaceable;
        bool ok = false;
        for (size_t j = 0; op && allowed[j]; j++)
            if (!strcmp(allowed[j], k->str))
                ok = true;
        if (!ok)
            return err(x, k, "LOAD_ERR_YAML_VALIDATE", "Key '%s' cannot be %s. Can be %s only", k->str,
                       op ? (op == 'a' ? "appended" : "replaced") : v->str,
                       op == 'a' ? "appended: condition, output, desc, tags, exceptions"
                                 : "replaced: condition, output, desc, priority, tags, exceptions, enabled, "
                                   "warn_evttypes, skip-if-unknown-filter, capture, capture_duration");
        if (!ymap_get(x->item, k->str))
            return err(x, k, "LOAD_ERR_YAML_VALIDATE",
                       "An override is defined for '%s' but no corresponding key is present", k->str);
        if (*nops < 32)
            ops[(*nops)++] = (override_spec){k->str, op};
    }
    return 0;
}

static char override_op(const override_spec *ops, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (!strcmp(ops[i].key, key))
            return ops[i].op;
    return 0;
}

/* ---- required_engine_version ---- */

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

static int load_engine_version(rule_loader *l, item_ctx *x)
{
    ynode *v = ymap_get(x->item, "required_engine_version");
    if (!v || v->kind != Y_SCALAR)
        return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
    int ver[3] = {0, 0, 0};
    char *end;
    long n = strtol(v->str, &end, 10);
    if (*v->str && !*end && n >= 0) {
        ver[1] = (int)n;
    } else if (parse_version(v->str, ver)) {
        return err(x, v, "LOAD_ERR_VALIDATE", "Unable to parse engine version '%s' as a semver string", v->str);
    }
    if (ver[0] != ENGINE_MAJOR || ver[1] > ENGINE_MINOR || (ver[1] == ENGINE_MINOR && ver[2] > ENGINE_PATCH))
        return err(x, v, "LOAD_ERR_VALIDATE", "Rules require engine version %d.%d.%d, but engine version is %d.%d.%d",
                   ver[0], ver[1], ver[2], ENGINE_MAJOR, ENGINE_MINOR, ENGINE_PATCH);
    if (ver[1] > l->coll.required_engine)
        l->coll.required_engine = ver[1];
    return 0;
}

/* ---- required_plugin_versions ----
 * Built in: k8saudit 0.18.0 and json 0.7.4 (spec/source.md §1).  The check
 * is immediate: the plugins are always loaded. */

static const struct {
    const char *name;
    int ver[3];
} builtin_plugins[] = {{"k8saudit", {0, 18, 0}}, {"json", {0, 7, 4}}};

static int load_plugin_versions(item_ctx *x)
{
    ynode *seq = ymap_get(x->item, "required_plugin_versions");
    if (!seq || seq->kind != Y_SEQ)
        return err(x, seq, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < seq->n; i++) {
        const ynode *e = seq->items[i];
        const ynode *names[16];
        const ynode *vers[16];
        size_t n = 0;
        names[n] = ymap_get(e, "name");
        vers[n] = ymap_get(e, "version");
        if (!names[n] || names[n]->kind != Y_SCALAR)
            return err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'name'");
        if (!vers[n] || vers[n]->kind != Y_SCALAR)
            return err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'version'");
        n++;
        const ynode *alts = ymap_get(e, "alternatives");
        for (size_t j = 0; alts && alts->kind == Y_SEQ && j < alts->n && n < 16; j++) {
            names[n] = ymap_get(alts->items[j], "name");
            vers[n] = ymap_get(alts->items[j], "version");
            if (!names[n] || names[n]->kind != Y_SCALAR || !vers[n] || vers[n]->kind != Y_SCALAR)
                return err(x, alts->items[j], "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'name'");
            n++;
        }
        for (size_t a = 0; a < n; a++) {
            int v[3];
            if (parse_version(vers[a]->str, v))
                return err(x, vers[a], "LOAD_ERR_VALIDATE", "Invalid required version '%s' for plugin '%s'",
                           vers[a]->str, names[a]->str);
            for (size_t b = 0; b < a; b++)
                if (!strcmp(names[a]->str, names[b]->str))
                    return err(x, names[a], "LOAD_ERR_VALIDATE",
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
                    return err(x, vers[a], "LOAD_ERR_VALIDATE",
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
            return err(x, e, "LOAD_ERR_VALIDATE", "Plugin requirement not satisfied, must load one of: %s", need);
        }
    }
    return 0;
}

/* ---- list ---- */

static int load_list(rule_loader *l, item_ctx *x)
{
    collection *c = &l->coll;
    static const char *const keys[] = {"list", "items", "append", "override", NULL};
    static const char *const app[] = {"items", NULL};
    const char *name;
    if (get_str(x, "list", true, &name))
        return -1;
    snprintf(x->label, sizeof x->label, "list '%s'", name);
    check_keys(x, keys);
    for (const char *p = name; *p; p++)
        if (strchr("()\"'=, \t\r\n", *p)) {
            warn(x, NULL, "LOAD_INVALID_LIST_NAME", "List has an invalid name. List names should match a regular expression: ^[^()\"'[:space:]=,]+$");
            break;
        }
    ynode *items = ymap_get(x->item, "items");
    if (!items)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'items'");
    if (items->kind != Y_SEQ && items->kind != Y_NULL)
        return err(x, items, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; items->kind == Y_SEQ && i < items->n; i++)
        if (items->items[i]->kind != Y_SCALAR)
            return err(x, items->items[i], "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
    bool append = false, append_given;
    if (get_bool(x, "append", &append, &append_given))
        return -1;
    override_spec ops[32];
    size_t nops;
    if (parse_override(x, ops, &nops, app, app))
        return -1;
    if (append_given && nops)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Keys 'override' and 'append: true' cannot be used together.");
    if (append_given)
        warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'items: append') under 'override' instead.");
    if (override_op(ops, nops, "items") == 'a')
        append = true;
    l_list *old = coll_find_list(c, name);
    int seq = ++c->seq;
    if (append) {
        if (!old)
            return err(x, NULL, "LOAD_ERR_VALIDATE",
                       "List uses 'append' or 'override.items: append' but no list by that name already exists");
    } else if (old) {
        strvec_free(&old->items);
    } else {
        l_list *lists = grow(c->lists, &c->caplists, c->nlists, sizeof *lists);
        if (!lists)
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        c->lists = lists;
        old = &c->lists[c->nlists++];
        memset(old, 0, sizeof *old);
        old->name = pg_strdup(name);
        if (!old->name) {
            c->nlists--;
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        }
        old->first = seq;
        old->at = at_node(x, x->item);
    }
    old->last = seq;
    for (size_t i = 0; items->kind == Y_SEQ && i < items->n; i++)
        if (strvec_push(&old->items, items->items[i]->str))
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    return 0;
}

/* ---- macro ---- */

static int load_macro(rule_loader *l, item_ctx *x)
{
    collection *c = &l->coll;
    static const char *const keys[] = {"macro", "condition", "append", "override", NULL};
    static const char *const app[] = {"condition", NULL};
    const char *name, *cond;
    if (get_str(x, "macro", true, &name))
        return -1;
    snprintf(x->label, sizeof x->label, "macro '%s'", name);
    check_keys(x, keys);
    bool valid = isalpha((unsigned char)name[0]);
    for (const char *p = name; *p && valid; p++)
        valid = isalnum((unsigned char)*p) || *p == '_';
    if (!valid)
        warn(x, NULL, "LOAD_INVALID_MACRO_NAME", "Macro has an invalid name. Macro names should match a regular expression: ^[a-zA-Z]+[a-zA-Z0-9_]*$");
    if (get_str(x, "condition", true, &cond))
        return -1;
    bool append = false, append_given;
    if (get_bool(x, "append", &append, &append_given))
        return -1;
    override_spec ops[32];
    size_t nops;
    if (parse_override(x, ops, &nops, app, app))
        return -1;
    if (append_given && nops)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Keys 'override' and 'append: true' cannot be used together.");
    if (append_given)
        warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
    if (override_op(ops, nops, "condition") == 'a')
        append = true;
    l_macro *m = coll_find_macro(c, name);
    int seq = ++c->seq;
    if (append) {
        if (!m)
            return err(x, NULL, "LOAD_ERR_VALIDATE",
                       "Macro uses 'append' or 'override.condition: append' but no macro by that name already exists");
        char *p = concat_space(m->cond, cond);
        if (!p)
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        m->cond = p;
    } else {
        if (!m) {
            l_macro *ms = grow(c->macros, &c->capmacros, c->nmacros, sizeof *ms);
            if (!ms)
                return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
            c->macros = ms;
            m = &c->macros[c->nmacros++];
            memset(m, 0, sizeof *m);
            m->name = pg_strdup(name);
            if (!m->name) {
                c->nmacros--;
                return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
            }
            m->first = seq;
            m->at = at_node(x, x->item);
        }
        if (set_str(&m->cond, cond))
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    }
    m->last = seq;
    m->at = at_node(x, x->item);
    return 0;
}

/* ---- exceptions ---- */

static int scalar_or_list(item_ctx *x, const ynode *v, exc_val *out)
{
    memset(out, 0, sizeof *out);
    if (v->kind == Y_SCALAR) {
        return strvec_push(&out->items, v->str) ? err(x, v, "LOAD_ERR_VALIDATE", "out of memory") : 0;
    }
    if (v->kind == Y_SEQ) {
        out->is_list = true;
        for (size_t i = 0; i < v->n; i++) {
            if (v->items[i]->kind != Y_SCALAR)
                return err(x, v->items[i], "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
            if (strvec_push(&out->items, v->items[i]->str))
                return err(x, v, "LOAD_ERR_VALIDATE", "out of memory");
        }
        return 0;
    }
    return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
}

static int add_values(item_ctx *x, l_exception *e, const ynode *values)
{
    if (!values || values->kind == Y_NULL)
        return 0;
    if (values->kind != Y_SEQ)
        return err(x, values, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < values->n; i++) {
        const ynode *v = values->items[i];
        if (e->fields_is_list) {
            if (v->kind != Y_SEQ)
                return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
            if (v->n != e->fields.n)
                return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Fields and values lists must have equal length");
            exc_val *t = pg_calloc(v->n ? v->n : 1, sizeof *t);
            exc_val **tuples = pg_realloc(e->tuples, (e->ntuples + 1) * sizeof *tuples);
            size_t *lens = pg_realloc(e->tuple_len, (e->ntuples + 1) * sizeof *lens);
            if (tuples)
                e->tuples = tuples;
            if (lens)
                e->tuple_len = lens;
            if (!t || !tuples || !lens) {
                pg_free(t);
                return err(x, v, "LOAD_ERR_VALIDATE", "out of memory");
            }
            e->tuples[e->ntuples] = t;
            e->tuple_len[e->ntuples++] = v->n;
            for (size_t j = 0; j < v->n; j++)
                if (scalar_or_list(x, v->items[j], &t[j]))
                    return -1;
        } else {
            if (v->kind != Y_SCALAR)
                return err(x, v, "LOAD_ERR_YAML_VALIDATE", "Expected values array to contain a list of strings");
            exc_val *s = pg_realloc(e->scalars, (e->nscalars + 1) * sizeof *s);
            if (!s)
                return err(x, v, "LOAD_ERR_VALIDATE", "out of memory");
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
static int load_exceptions(item_ctx *x, l_rule *r, const ynode *seq, bool append)
{
    if (!seq || seq->kind == Y_NULL)
        return 0;
    if (seq->kind != Y_SEQ)
        return err(x, seq, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < seq->n; i++) {
        const ynode *e = seq->items[i];
        const ynode *name = ymap_get(e, "name");
        if (!name || name->kind != Y_SCALAR || !name->len)
            return err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'name'");
        l_exception *ex = NULL;
        for (size_t k = 0; k < r->nexc; k++)
            if (!strcmp(r->exc[k].name, name->str))
                ex = &r->exc[k];
        const ynode *fields = ymap_get(e, "fields"), *comps = ymap_get(e, "comps"), *values = ymap_get(e, "values");
        if (ex && append) {
            if (fields || comps)
                return err(x, e, "LOAD_ERR_YAML_VALIDATE",
                           "Can not append exception fields to existing exception, only values");
            if (add_values(x, ex, values))
                return -1;
            continue;
        }
        if (ex)
            warn(x, e, "LOAD_EXCEPTION_NAME_NOT_UNIQUE", "Multiple definitions of exception '%s' in the same rule", name->str);
        if (!fields)
            return err(x, e, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'fields'");
        l_exception *arr = pg_realloc(r->exc, (r->nexc + 1) * sizeof *arr);
        if (!arr)
            return err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
        r->exc = arr;
        ex = &r->exc[r->nexc++];
        memset(ex, 0, sizeof *ex);
        ex->name = pg_strdup(name->str);
        if (!ex->name) {
            r->nexc--;
            return err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
        }
        ex->at = at_node(x, e);
        if (fields->kind == Y_SEQ) {
            ex->fields_is_list = true;
            for (size_t k = 0; k < fields->n; k++) {
                if (fields->items[k]->kind != Y_SCALAR)
                    return err(x, fields->items[k], "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
                if (strvec_push(&ex->fields, fields->items[k]->str))
                    return err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
            }
            if (comps && comps->kind == Y_SEQ) {
                if (comps->n != fields->n)
                    return err(x, comps, "LOAD_ERR_YAML_VALIDATE", "Fields and comps lists must have equal length");
                for (size_t k = 0; k < comps->n; k++) {
                    if (comps->items[k]->kind != Y_SCALAR || !valid_exception_comp(comps->items[k]->str, false))
                        return err(x, comps->items[k], "LOAD_ERR_VALIDATE", "Invalid comparison operator '%s'",
                                   comps->items[k]->kind == Y_SCALAR ? comps->items[k]->str : "?");
                    if (strvec_push(&ex->comps, comps->items[k]->str))
                        return err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
                }
            } else if (comps && comps->kind != Y_NULL) {
                return err(x, comps, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
            } else {
                for (size_t k = 0; k < fields->n; k++)
                    if (strvec_push(&ex->comps, "="))
                        return err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
            }
        } else if (fields->kind == Y_SCALAR) {
            if (strvec_push(&ex->fields, fields->str))
                return err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
            const char *comp = "in";
            if (comps && comps->kind == Y_SCALAR)
                comp = comps->str;
            else if (comps && comps->kind != Y_NULL)
                return err(x, comps, "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
            if (!valid_exception_comp(comp, true))
                return err(x, comps, "LOAD_ERR_VALIDATE", "Invalid comparison operator '%s'", comp);
            if (strvec_push(&ex->comps, comp))
                return err(x, e, "LOAD_ERR_VALIDATE", "out of memory");
        } else {
            return err(x, fields, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
        }
        if (add_values(x, ex, values))
            return -1;
    }
    return 0;
}

static void free_exception(l_exception *e)
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

static int get_tags(item_ctx *x, strvec *tags)
{
    ynode *t = ymap_get(x->item, "tags");
    if (!t || t->kind == Y_NULL)
        return 0;
    if (t->kind != Y_SEQ)
        return err(x, t, "LOAD_ERR_YAML_VALIDATE", "Value is not a sequence");
    for (size_t i = 0; i < t->n; i++) {
        if (t->items[i]->kind != Y_SCALAR)
            return err(x, t->items[i], "LOAD_ERR_YAML_VALIDATE", "Value is not a scalar value");
        bool dup = false;
        for (size_t k = 0; k < tags->n; k++)
            dup |= !strcmp(tags->v[k], t->items[i]->str);
        if (!dup && strvec_push(tags, t->items[i]->str))
            return err(x, t, "LOAD_ERR_VALIDATE", "out of memory");
    }
    return 0;
}

/* ---- rule ---- */

static int load_rule(rule_loader *l, item_ctx *x)
{
    collection *c = &l->coll;
    static const char *const keys[] = {"rule", "condition", "output", "desc", "priority", "source", "enabled",
                                       "tags", "exceptions", "append", "override", "warn_evttypes",
                                       "skip-if-unknown-filter", "capture", "capture_duration", NULL};
    static const char *const app[] = {"condition", "output", "desc", "tags", "exceptions", NULL};
    static const char *const rep[] = {"condition", "output", "desc", "priority", "tags", "exceptions", "enabled",
                                      "warn_evttypes", "skip-if-unknown-filter", "capture", "capture_duration", NULL};
    const char *name;
    if (get_str(x, "rule", true, &name))
        return -1;
    snprintf(x->label, sizeof x->label, "rule '%s'", name);
    check_keys(x, keys);
    const char *cond, *output, *desc, *prio, *source;
    if (get_str(x, "condition", false, &cond) || get_str(x, "output", false, &output) ||
        get_str(x, "desc", false, &desc) || get_str(x, "priority", false, &prio) ||
        get_str(x, "source", false, &source))
        return -1;
    bool enabled = true, enabled_given, append = false, append_given, skip = false, skip_given, dummy;
    if (get_bool(x, "enabled", &enabled, &enabled_given) || get_bool(x, "append", &append, &append_given) ||
        get_bool(x, "skip-if-unknown-filter", &skip, &skip_given) || get_bool(x, "warn_evttypes", &dummy, NULL) ||
        get_bool(x, "capture", &dummy, NULL))
        return -1;
    override_spec ops[32];
    size_t nops;
    if (parse_override(x, ops, &nops, app, rep))
        return -1;
    if (append_given && nops)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Keys 'override' and 'append: true' cannot be used together.");
    int p = -1;
    if (prio && (p = priority_parse(prio)) < 0)
        return err(x, ymap_get(x->item, "priority"), "LOAD_ERR_YAML_VALIDATE", "Invalid priority");
    const ynode *exc = ymap_get(x->item, "exceptions");
    const ynode *tags = ymap_get(x->item, "tags");
    l_rule *r = coll_find_rule(c, name);

    if (nops) {
        /* every overridable key present must be listed under override */
        for (size_t i = 0; rep[i]; i++)
            if (ymap_get(x->item, rep[i]) && !override_op(ops, nops, rep[i]))
                return err(x, ymap_get(x->item, rep[i]), "LOAD_ERR_YAML_VALIDATE",
                           "Unexpected key '%s': no corresponding entry under 'override' is defined.", rep[i]);
        if (!r) {
            for (size_t i = 0; i < nops; i++)
                if (ops[i].op == 'a')
                    return err(x, NULL, "LOAD_ERR_VALIDATE",
                               "Rule uses 'append' or 'override.%s: append' but no rule by that name already exists",
                               ops[i].key);
            return err(x, NULL, "LOAD_ERR_VALIDATE",
                       "An 'override.%s: replace' to a rule was requested but no rule by that name already exists",
                       ops[0].key);
        }
        if (source && r->source && strcmp(source, r->source))
            return err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source");
        for (size_t i = 0; i < nops; i++) {
            const char *k = ops[i].key;
            bool a = ops[i].op == 'a';
            int rc = 0;
            /* string updates fail with 1 (out of memory, no message yet) */
            if (!strcmp(k, "condition"))
                rc = (a ? append_str(&r->cond, cond) : set_str(&r->cond, cond)) ? 1 : 0;
            else if (!strcmp(k, "output"))
                rc = (a ? append_str(&r->output, output) : set_str(&r->output, output)) ? 1 : 0;
            else if (!strcmp(k, "desc"))
                rc = (a ? append_str(&r->desc, desc) : set_str(&r->desc, desc)) ? 1 : 0;
            else if (!strcmp(k, "priority"))
                r->prio = p;
            else if (!strcmp(k, "enabled"))
                r->enabled = enabled;
            else if (!strcmp(k, "skip-if-unknown-filter"))
                r->skip_unknown = skip;
            else if (!strcmp(k, "tags")) {
                if (!a)
                    strvec_free(&r->tags);
                rc = get_tags(x, &r->tags);
            } else if (!strcmp(k, "exceptions")) {
                if (!a) {
                    for (size_t e = 0; e < r->nexc; e++)
                        free_exception(&r->exc[e]);
                    r->nexc = 0;
                }
                rc = load_exceptions(x, r, exc, a);
            }
            if (rc)
                return rc < 0 ? -1 : err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        }
        return 0;
    }

    if (append_given && append) {
        warn(x, NULL, "LOAD_DEPRECATED_ITEM", "'append' key is deprecated. Add an 'append' entry (e.g. 'condition: append') under 'override' instead.");
        if (!cond && !exc)
            return err(x, NULL, "LOAD_ERR_VALIDATE", "Appended rule must have exceptions or condition property");
        if (!r)
            return err(x, NULL, "LOAD_ERR_VALIDATE",
                       "Rule uses 'append' or 'override.<key>: append' but no rule by that name already exists");
        if (source && r->source && strcmp(source, r->source))
            return err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source");
        if (cond && append_str(&r->cond, cond))
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        return load_exceptions(x, r, exc, true);
    }

    if (!cond && !output && !desc && !prio) {
        /* deprecated form: only toggles `enabled` of an existing rule */
        if (!enabled_given)
            return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'condition'");
        if (!r)
            return err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has 'enabled' key but no rule by that name already exists");
        warn(x, NULL, "LOAD_DEPRECATED_ITEM", "The 'enabled' key without other rule properties is deprecated. Use 'override: {enabled: replace}' instead.");
        r->enabled = enabled;
        return 0;
    }
    if (!cond)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'condition'");
    if (!output)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'output'");
    if (!desc)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'desc'");
    if (!prio)
        return err(x, NULL, "LOAD_ERR_YAML_VALIDATE", "Item has no mapping for key 'priority'");
    if (r) {
        if (source && r->source && strcmp(source, r->source))
            return err(x, NULL, "LOAD_ERR_VALIDATE", "Rule has been re-defined with a different source");
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
        l_rule *rs = grow(c->rules, &c->caprules, c->nrules, sizeof *rs);
        if (!rs)
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        c->rules = rs;
        r = &c->rules[c->nrules++];
        memset(r, 0, sizeof *r);
        r->name = pg_strdup(name);
        if (!r->name) {
            c->nrules--;
            return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
        }
        r->order = ++c->seq;
    }
    r->at = at_node(x, x->item);
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
        return err(x, NULL, "LOAD_ERR_VALIDATE", "out of memory");
    r->enabled = enabled;
    r->skip_unknown = skip;
    (void)tags;
    if (get_tags(x, &r->tags))
        return -1;
    return load_exceptions(x, r, exc, false);
}

/* ---- files ---- */

int loader_add_text(rule_loader *l, const char *path, const char *text, size_t len, load_result *res)
{
    collection *c = &l->coll;
    char **files = pg_realloc(c->files, (c->nfiles + 1) * sizeof *files);
    char *file = files ? pg_strdup(path) : NULL;
    if (files)
        c->files = files;
    if (!file) {
        where w = {(char *)path, 0, 0};
        load_msg_add(res, true, &w, "LOAD_ERR_FILE_READ", NULL, "out of memory");
        return -1;
    }
    c->files[c->nfiles++] = file;
    char yerr[512];
    ytree *t = ytree_load(text, len, yerr, sizeof yerr);
    item_ctx x = {.res = res, .file = file};
    if (!t) {
        int line = 0, col = 0;
        sscanf(yerr, "%d:%d", &line, &col);
        where w = {file, line, col};
        const char *msg = strchr(yerr, ' ');
        load_msg_add(res, true, &w, "LOAD_ERR_YAML_PARSE", NULL, "%s", msg && line ? msg + 1 : yerr);
        return -1;
    }
    int rc = 0;
    for (size_t d = 0; d < t->ndocs && !rc; d++) {
        const ynode *doc = t->docs[d];
        if (doc->kind == Y_NULL)
            continue;
        if (doc->kind != Y_SEQ) {
            where w = {file, doc->line, doc->col};
            load_msg_add(res, true, &w, "LOAD_ERR_YAML_VALIDATE", NULL, "Rules content is not yaml array of objects");
            rc = -1;
            break;
        }
        for (size_t i = 0; i < doc->n && !rc; i++) {
            const ynode *item = doc->items[i];
            if (item->kind == Y_NULL)
                continue;
            x.item = item;
            x.label[0] = 0;
            if (item->kind != Y_MAP) {
                where w = {file, item->line, item->col};
                load_msg_add(res, true, &w, "LOAD_ERR_YAML_VALIDATE", NULL,
                             "Unexpected element type. Each element should be a yaml associative array.");
                rc = -1;
                break;
            }
            /* classified by the first of these keys the item contains */
            if (ymap_get(item, "required_engine_version"))
                rc = load_engine_version(l, &x);
            else if (ymap_get(item, "required_plugin_versions"))
                rc = load_plugin_versions(&x);
            else if (ymap_get(item, "list"))
                rc = load_list(l, &x);
            else if (ymap_get(item, "macro"))
                rc = load_macro(l, &x);
            else if (ymap_get(item, "rule"))
                rc = load_rule(l, &x);
            else
                warn(&x, item, "LOAD_UNKNOWN_ITEM", "Unknown top level item");
        }
    }
    ytree_free(t);
    return rc;
}

int loader_add_file(rule_loader *l, const char *path, load_result *res)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        where w = {(char *)path, 0, 0};
        load_msg_add(res, true, &w, "LOAD_ERR_FILE_READ", NULL, "Could not open file: %s", strerror(errno));
        return -1;
    }
    buf b = BUF_INIT;
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_put(&b, chunk, n);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr || b.oom) {
        where w = {(char *)path, 0, 0};
        load_msg_add(res, true, &w, "LOAD_ERR_FILE_READ", NULL, "Could not read file");
        buf_free(&b);
        return -1;
    }
    int rc = loader_add_text(l, path, b.data ? b.data : "", b.len, res);
    buf_free(&b);
    return rc;
}

rule_loader *loader_new(const loader_opts *opts)
{
    rule_loader *l = pg_calloc(1, sizeof *l);
    if (l)
        l->opts = *opts;
    return l;
}

ruleset *loader_compile(rule_loader *l, load_result *res)
{
    return collection_compile(&l->coll, &l->opts, res);
}

void loader_free(rule_loader *l)
{
    if (!l)
        return;
    collection *c = &l->coll;
    for (size_t i = 0; i < c->nlists; i++) {
        pg_free(c->lists[i].name);
        strvec_free(&c->lists[i].items);
    }
    for (size_t i = 0; i < c->nmacros; i++) {
        pg_free(c->macros[i].name);
        pg_free(c->macros[i].cond);
    }
    for (size_t i = 0; i < c->nrules; i++) {
        l_rule *r = &c->rules[i];
        pg_free(r->name);
        pg_free(r->cond);
        pg_free(r->output);
        pg_free(r->desc);
        pg_free(r->source);
        strvec_free(&r->tags);
        for (size_t e = 0; e < r->nexc; e++)
            free_exception(&r->exc[e]);
        pg_free(r->exc);
    }
    for (size_t i = 0; i < c->nfiles; i++)
        pg_free(c->files[i]);
    pg_free(c->files);
    pg_free(c->lists);
    pg_free(c->macros);
    pg_free(c->rules);
    pg_free(l);
}
