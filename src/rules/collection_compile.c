/*
 * collection_compile — the collection's items into an immutable ruleset:
 * list expansion, macros parsed and their references checked, each rule's
 * condition (with exceptions and lists substituted) and output compiled,
 * then the rule index.
 */
#include "rules/compiler.h"
#include "rules/cond_parse.h"
#include "util/alloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

ruleset *collection_compile(collection *coll, const loader_opts *opts, load_result *res)
{
    ruleset *rs = pg_calloc(1, sizeof *rs);
    if (!rs) {
        load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        return NULL;
    }
    arena_init(&rs->arena, 64 * 1024);
    compiler c = {.rs = rs, .coll = coll, .res = res};
    arena_init(&c.memo_arena, 16 * 1024);
    char err[1024];
    int failed = 0;
    arena ast_arena, rule_ast; /* macro trees (kept); one rule's tree (reset per rule) */
    arena_init(&ast_arena, 64 * 1024);
    arena_init(&rule_ast, 64 * 1024);

    if (lists_expand(coll, res))
        failed = 1;

    /* Macros: substitute lists, parse, and check references (every macro,
     * used or not: a reference must name a macro defined earlier). */
    for (size_t i = 0; i < coll->nmacros && !failed; i++) {
        l_macro *m = &coll->macros[i];
        char item[300];
        snprintf(item, sizeof item, "macro '%s'", m->name);
        char *text = lists_substitute(coll, m->cond);
        cond_error ce;
        m->tree = text ? cond_parse(text, &ast_arena, COND_MAX_DEPTH, &ce) : NULL;
        if (!m->tree) {
            load_msg_add(res, true, &m->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", text ? ce.msg : "out of memory");
            failed = 1;
        }
        pg_free(text);
    }
    for (size_t i = 0; i < coll->nmacros && !failed; i++) {
        l_macro *m = &coll->macros[i];
        /* walk the tree for references */
        const ast *stack[2048];
        size_t sp = 0;
        stack[sp++] = m->tree;
        while (sp && !failed) {
            const ast *a = stack[--sp];
            if (a->kind == A_MACRO) {
                l_macro *ref = coll_find_macro(coll, a->name);
                if (!ref || ref->first > m->last) {
                    char item[300];
                    snprintf(item, sizeof item, "macro '%s'", m->name);
                    load_msg_add(res, true, &m->at, "LOAD_ERR_COMPILE_CONDITION", item,
                                 "Undefined macro '%s' used in filter.", a->name);
                    failed = 1;
                }
            }
            for (size_t k = 0; k < a->n && sp < 2048; k++)
                stack[sp++] = a->kids[k];
        }
    }

    /* Rules in definition order. */
    l_rule **order = pg_calloc(coll->nrules ? coll->nrules : 1, sizeof *order);
    for (size_t i = 0; i < coll->nrules && order; i++)
        order[i] = &coll->rules[i];
    /* (rules are appended in first-definition order already) */
    rs->rules = cnew(&c, (coll->nrules ? coll->nrules : 1) * sizeof *rs->rules);
    if (!failed && (!order || !rs->rules)) {
        load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = 1;
    }
    size_t skipped_sources = 0;
    for (size_t i = 0; i < coll->nrules && !failed; i++) {
        l_rule *r = order[i];
        char item[300];
        snprintf(item, sizeof item, "rule '%s'", r->name);
        const char *source = r->source ? r->source : "syscall";
        if (strcmp(source, "k8s_audit") != 0) {
            skipped_sources++;
            continue;
        }
        char *full = rule_condition_text(r);
        char *text = full ? lists_substitute(coll, full) : NULL;
        pg_free(full);
        rule_scope sc = {.rule = r->name};
        crule *cr = &rs->rules[rs->nrules];
        memset(cr, 0, sizeof *cr);
        /* output first, as Falco validates it before the condition */
        if (compile_format(&c, r->output, &cr->out, err, sizeof err)) {
            if (r->skip_unknown && strstr(err, "nonexistent field")) {
                load_msg_add(res, false, &r->at, "LOAD_UNKNOWN_FILTER", item, "%s; skipping rule", err);
                pg_free(text);
                continue;
            }
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_OUTPUT", item, "%s", err);
            failed = 1;
            pg_free(text);
            break;
        }
        cond_error ce;
        arena_reset(&rule_ast);
        ast *tree = text ? cond_parse(text, &rule_ast, COND_MAX_DEPTH, &ce) : NULL;
        if (!tree) {
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", text ? ce.msg : "out of memory");
            failed = 1;
            pg_free(text);
            break;
        }
        pg_free(text);
        cr->cond = compile_node(&c, tree, &sc, err, sizeof err);
        if (!cr->cond) {
            if (r->skip_unknown && sc.unknown_field) {
                load_msg_add(res, false, &r->at, "LOAD_UNKNOWN_FILTER", item, "%s; skipping rule", err);
                continue;
            }
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", err);
            failed = 1;
            break;
        }
        if (cprog_build(cr->cond, &c.rs->arena, &cr->prog)) {
            load_msg_add(res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "out of memory");
            failed = 1;
            break;
        }
        cr->info.name = cstrdup(&c, r->name, strlen(r->name));
        cr->info.desc = cstrdup(&c, r->desc, strlen(r->desc));
        cr->info.output = cstrdup(&c, r->output, strlen(r->output));
        cr->info.prio = (priority)r->prio;
        cr->info.enabled = r->enabled;
        if (r->tags.n)
            qsort(r->tags.v, r->tags.n, sizeof *r->tags.v, by_str);
        const char **tags = cnew(&c, (r->tags.n ? r->tags.n : 1) * sizeof *tags);
        for (size_t k = 0; tags && k < r->tags.n; k++)
            tags[k] = cstrdup(&c, r->tags.v[k], strlen(r->tags.v[k]));
        cr->info.tags = tags;
        cr->info.ntags = r->tags.n;
        cr->active = r->enabled && r->prio <= (int)opts->min_priority;
        rs->nrules++;
        bool tags_ok = tags != NULL;
        for (size_t k = 0; tags && k < r->tags.n; k++)
            tags_ok &= tags[k] != NULL;
        if (!cr->info.name || !cr->info.desc || !cr->info.output || !tags_ok) {
            load_msg_add(res, true, &r->at, "LOAD_ERR_VALIDATE", item, "out of memory");
            failed = 1;
            break;
        }
    }
    if (skipped_sources && !failed) {
        where w = {0};
        load_msg_add(res, false, &w, "LOAD_UNKNOWN_SOURCE", NULL,
                     "%zu rule(s) of sources other than k8s_audit skipped (their lists and macros are loaded)",
                     skipped_sources);
    }
    pg_free(order);
    arena_free(&ast_arena);
    arena_free(&rule_ast);
    rs->nslots = c.nslots;
    rs->slot_expr = cnew(&c, (c.nslots ? c.nslots : 1) * sizeof *rs->slot_expr);
    if (rs->slot_expr && c.nslots) {
        memcpy(rs->slot_expr, c.slots, c.nslots * sizeof *c.slots);
    } else if (!rs->slot_expr) {
        /* the references' own allocations must still be released */
        for (uint32_t i = 0; i < c.nslots; i++)
            field_ref_free(&c.slots[i]->ref);
        rs->nslots = 0;
        if (!failed)
            load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = 1;
    }
    pg_free(c.slots);
    pg_free(c.slot_hash);
    rs->nmemo = c.nmemo;
    pg_free(c.memo_tab);
    arena_free(&c.memo_arena);
    buf_free(&c.memo_key);
    rs->required_engine = coll->required_engine;
    if (!failed && !(rs->index = index_build(rs))) {
        load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory building the rule index");
        failed = 1;
    }
    if (failed) {
        ruleset_free(rs);
        return NULL;
    }
    return rs;
}
