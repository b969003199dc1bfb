/*
 * collection_compile — the collection's items into an immutable ruleset,
 * in phases: (1) lists expanded (lists.c), (2) macros parsed, (3) their
 * references checked, (4) each rule's output and condition (exceptions
 * and lists substituted) compiled, (5) the field cache and the rule index.
 */
#include "rules/compiler.h"
#include "rules/prefilter.h"
#include "rules/cond_parse.h"
#include "util/alloc.h"

#include <errno.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int by_str(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Phase 2: every macro's condition, lists substituted, parsed into
 * macro_ast (kept: macros are compiled at each use).  0 or -1. */
static int parse_macros(compiler *c, arena *macro_ast)
{
    collection *coll = c->coll;
    for (size_t i = 0; i < coll->nmacros; i++) {
        l_macro *m = &coll->macros[i];
        char item[300];
        snprintf(item, sizeof item, "macro '%s'", m->name);
        char *text = lists_substitute(coll, m->cond);
        cond_error ce;
        m->tree = text ? cond_parse(text, macro_ast, COND_MAX_DEPTH, &ce) : NULL;
        pg_free(text);
        if (!m->tree) {
            load_msg_add(c->res, true, &m->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s",
                         text ? ce.msg : "out of memory");
            return -1;
        }
    }
    return 0;
}

/* Phase 3: a macro may only use macros defined before its last
 * definition (every macro, used or not).  0 or -1. */
static int check_macro_refs(compiler *c)
{
    collection *coll = c->coll;
    for (size_t i = 0; i < coll->nmacros; i++) {
        l_macro *m = &coll->macros[i];
        const ast *stack[2048];
        size_t sp = 0;
        stack[sp++] = m->tree;
        while (sp) {
            const ast *a = stack[--sp];
            if (a->kind == A_MACRO) {
                l_macro *ref = coll_find_macro(coll, a->name);
                if (!ref || ref->first > m->last) {
                    char item[300];
                    snprintf(item, sizeof item, "macro '%s'", m->name);
                    load_msg_add(c->res, true, &m->at, "LOAD_ERR_COMPILE_CONDITION", item,
                                 "Undefined macro '%s' used in filter.", a->name);
                    return -1;
                }
            }
            for (size_t k = 0; k < a->n && sp < 2048; k++)
                stack[sp++] = a->kids[k];
        }
    }
    return 0;
}

/* A compiled rule's name, description, output text and sorted tags, in
 * the ruleset's arena (copies: the collection's pages are all given back
 * after compiling, which strings kept among them would prevent).  0 or
 * -ENOMEM. */
static int rule_info_fill(compiler *c, l_rule *r, crule *cr)
{
    cr->info.name = cstrdup(c, r->name, strlen(r->name));
    cr->info.desc = cstrdup(c, r->desc, strlen(r->desc));
    /* a plain rule's template holds the output text already */
    cr->info.output = !r->corr && cr->out.text ? cr->out.text : cstrdup(c, r->output, strlen(r->output));
    cr->info.prio = (priority)r->prio;
    cr->info.enabled = r->enabled;
    if (r->tags.n)
        qsort(r->tags.v, r->tags.n, sizeof *r->tags.v, by_str);
    const char **tags = cnew(c, (r->tags.n ? r->tags.n : 1) * sizeof *tags);
    bool ok = tags && cr->info.name && cr->info.desc && cr->info.output;
    for (size_t k = 0; tags && k < r->tags.n; k++)
        ok &= (tags[k] = ctag(c, r->tags.v[k])) != NULL;
    cr->info.tags = tags;
    cr->info.ntags = r->tags.n;
    return ok ? 0 : -ENOMEM;
}

/* One k8s_audit rule into cr: output first (Falco validates it before the
 * condition), then the condition with exceptions and lists, as a tree and
 * a program.  0 compiled, 1 skipped (skip-if-unknown-filter, a warning
 * given), -1 failed (the error given). */
static int compile_rule(compiler *c, l_rule *r, crule *cr, arena *rule_ast)
{
    char item[300], err[1024];
    snprintf(item, sizeof item, "%s '%s'", r->corr ? "correlation" : "rule", r->name);
    memset(cr, 0, sizeof *cr);
    if (r->corr) {
        rule_scope sc = {.rule = r->name};
        const char *out, *code;
        if (correlation_compile(c, r, cr, &sc, rule_ast, &out, &code, err, sizeof err)) {
            load_msg_add(c->res, true, &r->at, code, item, "%s", err);
            return -1;
        }
        if (rule_info_fill(c, r, cr)) {
            load_msg_add(c->res, true, &r->at, "LOAD_ERR_VALIDATE", item, "out of memory");
            return -1;
        }
        return 0;
    }
    if (compile_format(c, r->output, &cr->out, err, sizeof err)) {
        if (r->skip_unknown && strstr(err, "nonexistent field")) {
            load_msg_add(c->res, false, &r->at, "LOAD_UNKNOWN_FILTER", item, "%s; skipping rule", err);
            return 1;
        }
        load_msg_add(c->res, true, &r->at, "LOAD_ERR_COMPILE_OUTPUT", item, "%s", err);
        return -1;
    }
    char *full = rule_condition_text(r);
    char *text = full ? lists_substitute(c->coll, full) : NULL;
    pg_free(full);
    cond_error ce;
    arena_reset(rule_ast);
    ast *tree = text ? cond_parse(text, rule_ast, COND_MAX_DEPTH, &ce) : NULL;
    pg_free(text);
    if (!tree) {
        load_msg_add(c->res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", text ? ce.msg : "out of memory");
        return -1;
    }
    rule_scope sc = {.rule = r->name};
    if (!(cr->cond = compile_node(c, tree, &sc, err, sizeof err))) {
        if (r->skip_unknown && sc.unknown_field) {
            load_msg_add(c->res, false, &r->at, "LOAD_UNKNOWN_FILTER", item, "%s; skipping rule", err);
            return 1;
        }
        load_msg_add(c->res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "%s", err);
        return -1;
    }
    if (rule_info_fill(c, r, cr)) {
        load_msg_add(c->res, true, &r->at, "LOAD_ERR_VALIDATE", item, "out of memory");
        return -1;
    }
    if (r->sup && suppress_compile(c, r, cr, err, sizeof err)) {
        load_msg_add(c->res, true, &r->at, "LOAD_ERR_COMPILE_CONDITION", item, "suppress: %s", err);
        return -1;
    }
    return 0;
}

/* Phase 4: the rules of source k8s_audit, in definition order (others
 * are counted and skipped, with one warning).  0 or -1. */
static int compile_rules(compiler *c, const loader_opts *opts)
{
    collection *coll = c->coll;
    ruleset *rs = c->rs;
    rs->rules = cnew(c, (coll->nrules ? coll->nrules : 1) * sizeof *rs->rules);
    if (!rs->rules) {
        load_msg_add(c->res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        return -1;
    }
    arena rule_ast;             /* one rule's tree, reset per rule */
    arena_init(&rule_ast, 64 * 1024);
    size_t skipped_sources = 0;
    int rc = 0;
    for (size_t i = 0; i < coll->nrules && !rc; i++) {
        l_rule *r = &coll->rules[i];
        if (strcmp(r->source ? r->source : "syscall", "k8s_audit") != 0) {
            skipped_sources++;
            continue;
        }
        crule *cr = &rs->rules[rs->nrules];
        int one = compile_rule(c, r, cr, &rule_ast);
        if (one < 0)
            rc = -1;
        else if (one == 0) {
            bool on = r->enabled && r->prio <= (int)opts->min_priority;
            cr->active = on && !r->corr;    /* correlations run in the ordered stage */
            cr->corr_active = on && r->corr;
            rs->nrules++;
        }
    }
    arena_free(&rule_ast);
    if (skipped_sources && !rc) {
        where w = {0};
        load_msg_add(c->res, false, &w, "LOAD_UNKNOWN_SOURCE", NULL,
                     "%zu rule(s) of sources other than k8s_audit skipped (their lists and macros are loaded)",
                     skipped_sources);
    }
    return rc;
}

/* Phase 5: the field references into the ruleset (its per-event cache),
 * the compiler's tables released, the rule index built.  0 or -1. */
static int finish_ruleset(compiler *c, int failed)
{
    ruleset *rs = c->rs;
    rs->nslots = c->nslots;
    rs->slot_expr = cnew(c, (c->nslots ? c->nslots : 1) * sizeof *rs->slot_expr);
    if (rs->slot_expr && c->nslots) {
        memcpy(rs->slot_expr, c->slots, c->nslots * sizeof *c->slots);
    } else if (!rs->slot_expr) {
        /* the references' own allocations must still be released */
        for (uint32_t i = 0; i < c->nslots; i++)
            field_ref_free(&c->slots[i]->ref);
        rs->nslots = 0;
        if (!failed)
            load_msg_add(c->res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = -1;
    }
    pg_free(c->slots);
    pg_free(c->slot_hash);
    pg_free(c->fmt_scratch);
    pg_free(c->fmts);
    name_index_free(&c->fmt_ix);
    pg_free(c->tags);
    name_index_free(&c->tag_ix);
    rs->nmemo = c->nmemo;
    if (!failed && plan_programs(c)) {
        load_msg_add(c->res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = -1;
    }
    pg_free(c->memo_tab);
    arena_free(&c->memo_arena);
    buf_free(&c->memo_key);
    rs->required_engine = c->coll->required_engine;
    if (!failed && correlation_index(c, rs)) {
        load_msg_add(c->res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = -1;
    }
    bool *anchored = failed ? NULL : pg_calloc(rs->nrules ? rs->nrules : 1, sizeof *anchored);
    if (!failed && !anchored) {
        load_msg_add(c->res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        failed = -1;
    }
    char pferr[300];
    if (!failed && !rs->reference &&
        !(rs->prefilter = prefilter_build(rs, c->memo_uses, anchored, pferr, sizeof pferr)) && pferr[0]) {
        bool oom = strstr(pferr, "out of memory") != NULL;
        where w = {0};
        load_msg_add(c->res, oom, oom ? NULL : &w, oom ? "LOAD_ERR_VALIDATE" : "LOAD_NO_PREFILTER", NULL,
                     "%s%s", pferr, oom ? "" : "; every rule is tried through the rule index (slower, same alerts)");
        failed = oom ? -1 : failed;
    }
    if (!failed && (!(rs->index = index_build(rs, anchored, rs->prefilter ? prefilter_note_cell : NULL, rs->prefilter)) ||
                    (rs->prefilter && prefilter_cells_done(rs->prefilter, index_cells(rs->index))))) {
        load_msg_add(c->res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory building the rule index");
        failed = -1;
    }
    pg_free(anchored);
    pg_free(c->memo_uses);
    return failed ? -1 : 0;
}

ruleset *collection_compile(collection *coll, const loader_opts *opts, load_result *res)
{
    ruleset *rs = pg_calloc(1, sizeof *rs);
    if (!rs) {
        load_msg_add(res, true, NULL, "LOAD_ERR_VALIDATE", NULL, "out of memory");
        return NULL;
    }
    arena_init(&rs->arena, 64 * 1024);
    rs->reference = opts->reference;
    compiler c = {.rs = rs, .coll = coll, .res = res};
    /* blocks of the mmap threshold (app/main.c sets it at 1 MiB): only
     * the pages used are resident, and all leave at once when released */
    arena_init(&c.memo_arena, 1024 * 1024);
    arena macro_ast;            /* macro trees, kept until the end */
    arena_init(&macro_ast, 64 * 1024);
    int failed = lists_expand(coll, res) || parse_macros(&c, &macro_ast) || check_macro_refs(&c) ||
                 compile_rules(&c, opts);
    arena_free(&macro_ast);
    /* The items are not needed any more: released before the programs,
     * the prefilter and the rule index are built.  Their strings were
     * small allocations, so the pages they leave are given back to the
     * system rather than left resident for allocations that cannot use
     * them: 10,000 rules' items are ~10 MB. */
    collection_free(coll);
#ifdef __GLIBC__
    malloc_trim(0);
#endif
    if (finish_ruleset(&c, failed)) {
        ruleset_free(rs);
        return NULL;
    }
    return rs;
}
