/*
 * correlation_compile — correlations and suppressions into the ruleset
 * (see correlation.h).
 */
#include "rules/compiled.h"
#include "rules/compiler.h"
#include "rules/cond_parse.h"
#include "rules/correlation.h"
#include "rules/correlation_load.h"
#include "util/alloc.h"

#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

const char *const corr_field_names[CORR_F__COUNT] = {
    [CORR_F_NONE] = "",
#define CORR_F_NAME(e, n) [CORR_F_##e] = n,
    CORR_FIELDS(CORR_F_NAME)
#undef CORR_F_NAME
};

corr_field corr_field_lookup(const char *name, size_t len)
{
    for (int i = 1; i < CORR_F__COUNT; i++)
        if (strlen(corr_field_names[i]) == len && !memcmp(corr_field_names[i], name, len))
            return (corr_field)i;
    return CORR_F_NONE;
}

bool ruleset_has_state(const ruleset *rs)
{
    return rs->has_state;
}

bool ruleset_rule_suppressed(const ruleset *rs, size_t i)
{
    return i < rs->nrules && rs->rules[i].sup != NULL;
}

bool ruleset_rule_is_correlation(const ruleset *rs, size_t i)
{
    return i < rs->nrules && rs->rules[i].corr != NULL;
}

const char *ruleset_rule_summary(const ruleset *rs, size_t i)
{
    if (i >= rs->nrules)
        return NULL;
    const crule *r = &rs->rules[i];
    return r->corr ? r->corr->summary : r->sup ? r->sup->summary : NULL;
}

static const char *const type_names[] = {
    [CC_EVENT_COUNT] = "event_count", [CC_VALUE_COUNT] = "value_count", [CC_TEMPORAL] = "temporal",
    [CC_TEMPORAL_ORDERED] = "temporal_ordered", [CC_NEW_VALUE] = "new_value",
};

static void put_vec(buf *b, const strvec *v)
{
    for (size_t i = 0; i < v->n; i++) {
        buf_puts(b, i ? ", " : "");
        buf_puts(b, v->v[i]);
    }
}

/* What -L shows of a correlation. */
static const char *summarize(compiler *c, const l_rule *r)
{
    const l_corr *lc = r->corr;
    buf b = BUF_INIT;
    buf_puts(&b, type_names[lc->type]);
    buf_puts(&b, ":");
    if (lc->threshold_text)
        buf_printf(&b, " %s", lc->threshold_text);
    if (lc->field.n) {
        buf_puts(&b, lc->type == CC_VALUE_COUNT ? " distinct " : lc->type == CC_NEW_VALUE ? " new " : " sampling ");
        put_vec(&b, &lc->field);
    }
    if (lc->window)
        buf_printf(&b, " in %s", lc->window);
    if (lc->nsteps)
        buf_printf(&b, " over %zu steps", lc->nsteps);
    if (lc->group_by.n) {
        buf_puts(&b, " by ");
        put_vec(&b, &lc->group_by);
    }
    const char *s = b.oom ? NULL : cstrdup(c, b.data ? b.data : "", b.len);
    buf_free(&b);
    return s;
}

/* ---- correlations and suppressions ---- */

/* A condition's full text (lists substituted) → tree → checks → program. */
static int compile_text(compiler *c, const char *full, rule_scope *sc, arena *ast_arena, cnode **out, cprog *prog,
                        char *err, size_t errlen)
{
    char *text = lists_substitute(c->coll, full);
    if (!text)
        return cerr(err, errlen, "out of memory");
    cond_error ce;
    arena_reset(ast_arena);
    ast *tree = cond_parse(text, ast_arena, COND_MAX_DEPTH, &ce);
    pg_free(text);
    if (!tree)
        return cerr(err, errlen, "%s", ce.msg);
    (void)prog; /* built with every program, plan.c */
    if (!(*out = compile_node(c, tree, sc, err, errlen)))
        return -1;
    return 0;
}

/* A group-by item: a field expression, or a template with %fields. */
static int compile_key(compiler *c, const char *text, ckey *k, char *err, size_t errlen)
{
    k->text = cstrdup(c, text, strlen(text));
    if (!k->text)
        return cerr(err, errlen, "out of memory");
    if (strchr(text, '%'))
        return compile_format(c, text, &k->tmpl, err, errlen);
    if (!(k->expr = field_expr(c, text, strlen(text), err, errlen)))
        return -1;
    return 0;
}

static int compile_keys(compiler *c, const strvec *v, ckey **out, size_t *n, char *err, size_t errlen)
{
    *n = v->n;
    if (!(*out = cnew(c, (v->n ? v->n : 1) * sizeof **out)))
        return cerr(err, errlen, "out of memory");
    for (size_t i = 0; i < v->n; i++)
        if (compile_key(c, v->v[i], &(*out)[i], err, errlen))
            return cerr(err, errlen, "group_by '%s': %.400s", v->v[i], err);
    return 0;
}

/* The condition of the `rules:` form: each named rule's condition with its
 * exceptions, or-ed. */
static char *rules_condition(compiler *c, const l_corr *lc, char *err, size_t errlen)
{
    buf b = BUF_INIT;
    for (size_t i = 0; i < lc->rules.n; i++) {
        l_rule *named = coll_find_rule(c->coll, lc->rules.v[i]);
        if (!named || named->corr) {
            cerr(err, errlen, "'rules' names '%s', which is not a rule", lc->rules.v[i]);
            buf_free(&b);
            return NULL;
        }
        char *one = rule_condition_text(named);
        if (i)
            buf_puts(&b, " or ");
        buf_puts(&b, one ? one : "");
        pg_free(one);
    }
    if (b.oom) {
        buf_free(&b);
        cerr(err, errlen, "out of memory");
        return NULL;
    }
    return b.data;
}

static void hash_str(uint64_t *h, const char *s)
{
    for (; s && *s; s++)
        *h = (*h ^ (unsigned char)*s) * 0x100000001b3ull;
    *h = (*h ^ 0xff) * 0x100000001b3ull;
}

static void hash_vec(uint64_t *h, const strvec *v)
{
    for (size_t i = 0; i < v->n; i++)
        hash_str(h, v->v[i]);
    hash_str(h, "|");
}

/* The identity of a correlation's state: everything that shapes it. */
static uint64_t corr_id(const l_rule *r)
{
    const l_corr *lc = r->corr;
    uint64_t h = 0xcbf29ce484222325ull;
    char num[128];
    snprintf(num, sizeof num, "%d %lld %llu %lld %lld %lld", lc->type, (long long)lc->window_ns,
             (unsigned long long)lc->threshold, (long long)lc->learn_ns, (long long)lc->forget_ns,
             (long long)lc->suppress_ns);
    hash_str(&h, r->name);
    hash_str(&h, num);
    hash_str(&h, r->cond);
    hash_vec(&h, &lc->rules);
    hash_vec(&h, &lc->group_by);
    hash_vec(&h, &lc->field);
    for (size_t i = 0; i < lc->nsteps; i++) {
        hash_str(&h, lc->steps[i].cond);
        hash_vec(&h, &lc->steps[i].group_by);
    }
    hash_str(&h, lc->until.cond);
    return h | 1;
}

static const char *const default_outputs[] = {
    [CC_EVENT_COUNT] = "%corr.count events in %corr.window for %corr.key (first=%corr.first_time "
                       "last=%corr.last_time suppressed=%corr.suppressed)",
    [CC_VALUE_COUNT] = "%corr.distinct distinct values in %corr.window for %corr.key (values=%corr.values "
                       "first=%corr.first_time last=%corr.last_time)",
    [CC_TEMPORAL] = "sequence completed for %corr.key within %corr.window (steps=%corr.steps)",
    [CC_TEMPORAL_ORDERED] = "ordered sequence completed for %corr.key within %corr.window (steps=%corr.steps)",
    [CC_NEW_VALUE] = "new value %corr.values for %corr.key",
};

/* One step: its condition (with the correlation's exceptions) and key. */
static int compile_step(compiler *c, l_rule *r, const char *cond, const strvec *group_by, bool exceptions,
                        cstepdef *sd, rule_scope *sc, arena *ast_arena, char *err, size_t errlen)
{
    l_rule tmp = *r;
    tmp.cond = (char *)cond;
    if (!exceptions)
        tmp.nexc = 0;
    char *full = rule_condition_text(&tmp);
    if (!full)
        return cerr(err, errlen, "out of memory");
    int rc = compile_text(c, full, sc, ast_arena, &sd->cond, &sd->prog, err, errlen);
    pg_free(full);
    if (rc)
        return -1;
    return compile_keys(c, group_by->n ? group_by : &r->corr->group_by, &sd->group_by, &sd->ngroup, err, errlen);
}

static int compile_conditions(compiler *c, l_rule *r, crule *cr, rule_scope *sc, arena *ast_arena, char *err,
                              size_t errlen)
{
    l_corr *lc = r->corr;
    ccorr *cc = cnew(c, sizeof *cc);
    if (!cc)
        return cerr(err, errlen, "out of memory");
    bool seq = lc->type == CC_TEMPORAL || lc->type == CC_TEMPORAL_ORDERED;
    *cc = (ccorr){.type = (ccorr_type)lc->type, .window_ns = lc->window_ns, .learn_ns = lc->learn_ns,
                  .forget_ns = lc->forget_ns, .threshold = lc->threshold, .id = corr_id(r)};
    cc->suppress_ns = lc->suppress_given ? lc->suppress_ns
                      : (lc->type == CC_EVENT_COUNT || lc->type == CC_VALUE_COUNT) ? lc->window_ns : 0;
    cc->window_text = lc->window ? cstrdup(c, lc->window, strlen(lc->window)) : "";
    cc->nsteps = seq ? lc->nsteps : 1;
    if (!(cc->steps = cnew(c, cc->nsteps * sizeof *cc->steps)))
        return cerr(err, errlen, "out of memory");
    static const strvec none = {0};
    if (seq) {
        for (size_t i = 0; i < lc->nsteps; i++)
            if (compile_step(c, r, lc->steps[i].cond, &lc->steps[i].group_by, true, &cc->steps[i], sc, ast_arena,
                             err, errlen))
                return cerr(err, errlen, "step %zu: %.900s", i + 1, err);
        if (lc->until.cond &&
            compile_step(c, r, lc->until.cond, lc->until.group_by.n ? &lc->until.group_by : &lc->steps[0].group_by,
                         false, &cc->until, sc, ast_arena, err, errlen))
            return cerr(err, errlen, "until: %.900s", err);
    } else {
        char *cond = lc->rules.n ? rules_condition(c, lc, err, errlen) : NULL;
        if (lc->rules.n && !cond)
            return -1;
        int rc = compile_step(c, r, cond ? cond : r->cond, &none, true, &cc->steps[0], sc, ast_arena, err, errlen);
        pg_free(cond);
        if (rc)
            return -1;
    }
    for (size_t i = 0; i < lc->field.n; i++) {
        if (!(cc->field[i] = field_expr(c, lc->field.v[i], strlen(lc->field.v[i]), err, errlen)))
            return cerr(err, errlen, "field '%s': %.900s", lc->field.v[i], err);
        cc->nfield++;
    }
    if (!(cc->summary = summarize(c, r)))
        return cerr(err, errlen, "out of memory");
    cr->corr = cc;
    cr->cond = cc->steps[0].cond;
    cr->prog = cc->steps[0].prog;
    return 0;
}

int suppress_compile(compiler *c, l_rule *r, crule *cr, char *err, size_t errlen)
{
    csuppress *sp = cnew(c, sizeof *sp);
    if (!sp)
        return cerr(err, errlen, "out of memory");
    if (compile_keys(c, &r->sup->by, &sp->by, &sp->nby, err, errlen))
        return -1;
    sp->for_ns = r->sup->for_ns;
    uint64_t h = 0xcbf29ce484222325ull;
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)sp->for_ns);
    hash_str(&h, "suppress");
    hash_str(&h, r->name);
    hash_str(&h, num);
    hash_vec(&h, &r->sup->by);
    sp->id = h | 1;
    buf b = BUF_INIT;
    buf_printf(&b, "suppress: %s by ", r->sup->for_text ? r->sup->for_text : "");
    put_vec(&b, &r->sup->by);
    sp->summary = b.oom ? NULL : cstrdup(c, b.data, b.len);
    buf_free(&b);
    if (!sp->summary)
        return cerr(err, errlen, "out of memory");
    cr->sup = sp;
    return 0;
}

/* The enabled correlations' list, and whether the ruleset keeps state. */
/* The step index: the rule index built over a ruleset-shaped view whose
 * "rules" are the steps, so an event visits only the steps its verb and
 * resource allow, without running the others' programs. */
static int index_steps(compiler *c, ruleset *rs, size_t nsteps)
{
    corr_step_ref *refs = cnew(c, nsteps * sizeof *refs);
    crule *view = pg_calloc(nsteps, sizeof *view);
    if (!refs || !view) {
        pg_free(view);
        return -1;
    }
    size_t n = 0;
    for (size_t i = 0; i < rs->ncorr; i++) {
        uint32_t ri = rs->corr_rules[i];
        const ccorr *cc = rs->rules[ri].corr;
        for (size_t s = cc->nsteps; s-- > 0;)
            refs[n++] = (corr_step_ref){ri, (int32_t)s, &cc->steps[s]};
        if (cc->until.cond)
            refs[n++] = (corr_step_ref){ri, -1, &cc->until};
    }
    for (size_t i = 0; i < n; i++)
        view[i] = (crule){.cond = refs[i].sd->cond, .active = true};
    ruleset shadow = {.rules = view, .nrules = n, .nslots = rs->nslots, .slot_expr = rs->slot_expr};
    rs->corr_index = index_build(&shadow, NULL, NULL, NULL);
    pg_free(view);
    rs->corr_steps = refs;
    rs->ncorr_steps = n;
    return rs->corr_index ? 0 : -1;
}

int correlation_index(compiler *c, ruleset *rs)
{
    static _Atomic uint64_t serials;
    rs->serial = ++serials;
    size_t n = 0;
    for (size_t i = 0; i < rs->nrules; i++) {
        const crule *r = &rs->rules[i];
        n += r->corr && r->info.enabled && r->corr_active;
        rs->has_state |= (r->corr && r->corr_active) || (r->sup && r->active);
    }
    rs->corr_rules = cnew(c, (n ? n : 1) * sizeof *rs->corr_rules);
    if (!rs->corr_rules)
        return -1;
    size_t nsteps = 0;
    for (size_t i = 0; i < rs->nrules; i++)
        if (rs->rules[i].corr && rs->rules[i].corr_active) {
            rs->corr_rules[rs->ncorr++] = (uint32_t)i;
            nsteps += rs->rules[i].corr->nsteps + (rs->rules[i].corr->until.cond != NULL);
        }
    return nsteps ? index_steps(c, rs, nsteps) : 0;
}


int correlation_compile(compiler *c, l_rule *r, crule *cr, rule_scope *sc, arena *ast_arena, const char **output,
                        const char **code, char *err, size_t errlen)
{
    static const char *const fx[4] = {"ka.auditid", "ka.stage", "ka.verb", "ka.target.resource"};
    for (int i = 0; i < 4; i++)
        if (!c->rs->corr_fx[i] && !(c->rs->corr_fx[i] = field_expr(c, fx[i], strlen(fx[i]), err, errlen))) {
            *code = "LOAD_ERR_VALIDATE";
            return -1;
        }
    const char *out = r->output && r->output[0] ? r->output : default_outputs[r->corr->type];
    *code = "LOAD_ERR_COMPILE_OUTPUT";
    c->allow_corr = true;
    int rc = compile_format(c, out, &cr->out, err, errlen);
    c->allow_corr = false;
    if (rc)
        return -1;
    *code = "LOAD_ERR_COMPILE_CONDITION";
    if (compile_conditions(c, r, cr, sc, ast_arena, err, errlen))
        return -1;
    for (size_t i = 0; i < cr->out.n; i++)
        cr->corr->used |= cr->out.segs[i].corr ? 1u << cr->out.segs[i].corr : 0;
    if (out != r->output) {
        char *copy = pg_strdup(out);
        if (!copy)
            return cerr(err, errlen, "out of memory");
        pg_free(r->output);
        r->output = copy;
    }
    *output = r->output;
    return 0;
}
