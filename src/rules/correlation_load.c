/*
 * correlation_load — a correlation's own keys and a rule's `suppress:`
 * (see correlation_load.h).  The grammar, in the items' YAML:
 *
 *   correlation := rule-keys
 *                  type: event_count|value_count|temporal|temporal_ordered|new_value
 *                  ( condition: C | rules: [NAME...] | steps: [step...] )
 *                  [group_by: [ITEM...]] [field: F | [F...]] [window: D]
 *                  [threshold: {gt|gte: N}] [until: C | {condition: C, group_by: [...]}]
 *                  [learn: D] [forget: D] [suppress: D]
 *   step        := {condition: C, group_by: [ITEM...]}   (group_by defaults to the item's)
 *   suppress    := {by: [ITEM...], for: D}                (plain rules)
 */
#include "rules/correlation_load.h"
#include "rules/correlation.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const corr_item_keys[] = {"type", "rules", "group_by", "field", "window", "threshold", "steps", "until",
                                      "learn", "forget", "suppress", NULL};

static const char *const type_names[] = {
    [CC_EVENT_COUNT] = "event_count", [CC_VALUE_COUNT] = "value_count", [CC_TEMPORAL] = "temporal",
    [CC_TEMPORAL_ORDERED] = "temporal_ordered", [CC_NEW_VALUE] = "new_value",
};

typedef struct ctx {
    const ynode **bad;
    char *msg;
    size_t msglen;
} ctx;

static int fail(ctx *x, const ynode *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(ctx *x, const ynode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(x->msg, x->msglen, fmt, ap);
    va_end(ap);
    *x->bad = n;
    return -1;
}

int corr_parse_duration(const char *s, int64_t *ns)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v < 0)
        return -1;
    double mult = 1e9;
    if (!strcmp(end, "ms"))
        mult = 1e6;
    else if (!strcmp(end, "s") || !*end)
        mult = 1e9;
    else if (!strcmp(end, "m"))
        mult = 60e9;
    else if (!strcmp(end, "h"))
        mult = 3600e9;
    else if (!strcmp(end, "d"))
        mult = 86400e9;
    else
        return -1;
    if (v * mult > 9.2e18)
        return -1;
    *ns = (int64_t)(v * mult);
    return 0;
}

static int duration(ctx *x, const ynode *item, const char *key, int64_t *ns, bool *given)
{
    const ynode *v = ymap_get(item, key);
    if (given)
        *given = v != NULL;
    if (!v)
        return 0;
    if (v->kind != Y_SCALAR || corr_parse_duration(v->str, ns))
        return fail(x, v, "'%s' must be a duration such as 30s, 5m, 2h or 1d", key);
    return 0;
}

/* A scalar or a sequence of scalars into v (at most max items). */
static int str_list(ctx *x, const ynode *n, const char *key, size_t max, strvec *v)
{
    if (!n)
        return 0;
    if (n->kind == Y_SCALAR && n->len) {
        if (strvec_push(v, n->str))
            return fail(x, n, "out of memory");
        return 0;
    }
    if (n->kind != Y_SEQ || !n->n)
        return fail(x, n, "'%s' must be a field or a non-empty list of fields", key);
    if (n->n > max)
        return fail(x, n, "'%s' has %zu items; at most %zu are allowed", key, n->n, max);
    for (size_t i = 0; i < n->n; i++) {
        if (n->items[i]->kind != Y_SCALAR || !n->items[i]->len)
            return fail(x, n->items[i], "each item of '%s' must be a non-empty string", key);
        if (strvec_push(v, n->items[i]->str))
            return fail(x, n, "out of memory");
    }
    return 0;
}

static int cond_str(ctx *x, const ynode *n, const char *what, char **out)
{
    if (!n || n->kind != Y_SCALAR || !n->len)
        return fail(x, n, "%s must be a non-empty condition", what);
    if (!(*out = pg_strdup(n->str)))
        return fail(x, n, "out of memory");
    return 0;
}

/* {condition: C, group_by: [...]} (or a bare condition string for until) */
static int load_step(ctx *x, const ynode *n, const char *what, bool bare_ok, l_step *s)
{
    s->line = n->line;
    s->col = n->col;
    if (bare_ok && n->kind == Y_SCALAR)
        return cond_str(x, n, what, &s->cond);
    if (n->kind != Y_MAP)
        return fail(x, n, "%s must be a mapping with 'condition' (and 'group_by')", what);
    for (size_t i = 0; i + 1 < n->n; i += 2) {
        const ynode *k = n->items[i];
        if (k->kind != Y_SCALAR || (strcmp(k->str, "condition") && strcmp(k->str, "group_by")))
            return fail(x, k, "unknown key '%s' in %s (condition, group_by)", k->kind == Y_SCALAR ? k->str : "?",
                        what);
    }
    if (cond_str(x, ymap_get(n, "condition"), what, &s->cond))
        return -1;
    return str_list(x, ymap_get(n, "group_by"), "group_by", 16, &s->group_by);
}

static int load_threshold(ctx *x, const ynode *item, l_corr *c)
{
    const ynode *t = ymap_get(item, "threshold");
    bool counts = c->type == CC_EVENT_COUNT || c->type == CC_VALUE_COUNT;
    if (!t) {
        if (counts)
            return fail(x, NULL, "a %s correlation needs 'threshold: {gte: N}' (or gt)", type_names[c->type]);
        return 0;
    }
    if (!counts)
        return fail(x, t, "'threshold' applies to event_count and value_count only");
    const ynode *v = NULL;
    bool gt = false;
    if (t->kind == Y_MAP && t->n == 2 && t->items[0]->kind == Y_SCALAR) {
        gt = !strcmp(t->items[0]->str, "gt");
        if (gt || !strcmp(t->items[0]->str, "gte"))
            v = t->items[1];
    }
    char *end = NULL;
    unsigned long long n = v && v->kind == Y_SCALAR ? strtoull(v->str, &end, 10) : 0;
    if (!v || !end || *end || !v->len || v->str[0] == '-')
        return fail(x, t, "'threshold' must be {gte: N} or {gt: N} with N a whole number");
    n += gt;
    if (n < 1 || n > 1000000)
        return fail(x, v, "the threshold must need between 1 and 1000000 %s", c->type == CC_EVENT_COUNT ? "events" : "values");
    c->threshold = n;
    char text[64];
    snprintf(text, sizeof text, "%s %s", gt ? "gt" : "gte", v->str);
    if (!(c->threshold_text = pg_strdup(text)))
        return fail(x, t, "out of memory");
    return 0;
}

static int load_type(ctx *x, const ynode *item, l_corr *c)
{
    const ynode *t = ymap_get(item, "type");
    if (!t)
        return fail(x, NULL, "Item has no mapping for key 'type' (event_count, value_count, temporal, "
                             "temporal_ordered, new_value)");
    for (int i = 0; i <= CC_NEW_VALUE; i++)
        if (t->kind == Y_SCALAR && !strcmp(t->str, type_names[i])) {
            c->type = i;
            return 0;
        }
    return fail(x, t, "unknown correlation type '%s' (event_count, value_count, temporal, temporal_ordered, new_value)",
                t->kind == Y_SCALAR ? t->str : "?");
}

static int load_steps(ctx *x, const ynode *item, l_corr *c)
{
    const ynode *st = ymap_get(item, "steps");
    bool seq = c->type == CC_TEMPORAL || c->type == CC_TEMPORAL_ORDERED;
    if (!seq) {
        if (st)
            return fail(x, st, "'steps' applies to temporal and temporal_ordered only");
        return 0;
    }
    if (!st || st->kind != Y_SEQ || st->n < 2 || st->n > CORR_MAX_STEPS_LOAD)
        return fail(x, st, "a %s correlation needs 'steps': a list of 2 to %d {condition, group_by}",
                    type_names[c->type], CORR_MAX_STEPS_LOAD);
    if (!(c->steps = pg_calloc(st->n, sizeof *c->steps)))
        return fail(x, st, "out of memory");
    c->nsteps = st->n;
    for (size_t i = 0; i < st->n; i++)
        if (load_step(x, st->items[i], "a step", false, &c->steps[i]))
            return -1;
    return 0;
}

int corr_load(const ynode *item, l_corr *c, const ynode **bad, char *msg, size_t msglen)
{
    ctx x = {bad, msg, msglen};
    memset(c, 0, sizeof *c);
    *bad = NULL;
    if (load_type(&x, item, c) || load_threshold(&x, item, c) || load_steps(&x, item, c))
        return -1;
    bool seq = c->type == CC_TEMPORAL || c->type == CC_TEMPORAL_ORDERED;
    const ynode *rules = ymap_get(item, "rules");
    if (rules && (seq || ymap_get(item, "condition")))
        return fail(&x, rules, "'rules' replaces 'condition'%s: give one of them", seq ? " and 'steps'" : "");
    if (seq && ymap_get(item, "condition"))
        return fail(&x, ymap_get(item, "condition"), "a sequence takes its conditions from 'steps'");
    if (str_list(&x, rules, "rules", 256, &c->rules))
        return -1;
    if (!seq && !rules && !ymap_get(item, "condition"))
        return fail(&x, NULL, "Item has no mapping for key 'condition' (or 'rules')");
    if (str_list(&x, ymap_get(item, "group_by"), "group_by", 16, &c->group_by))
        return -1;
    const ynode *f = ymap_get(item, "field");
    size_t maxf = c->type == CC_NEW_VALUE ? CCORR_MAX_FIELDS : 1;
    if (f && seq)
        return fail(&x, f, "'field' applies to event_count (sampled), value_count and new_value");
    if (str_list(&x, f, "field", maxf, &c->field))
        return -1;
    if ((c->type == CC_VALUE_COUNT || c->type == CC_NEW_VALUE) && !c->field.n)
        return fail(&x, NULL, "a %s correlation needs 'field'", type_names[c->type]);
    bool given;
    if (duration(&x, item, "window", &c->window_ns, &given))
        return -1;
    if (c->type != CC_NEW_VALUE && (!given || c->window_ns <= 0))
        return fail(&x, ymap_get(item, "window"), "a %s correlation needs a positive 'window'", type_names[c->type]);
    if (c->type == CC_NEW_VALUE && given)
        return fail(&x, ymap_get(item, "window"), "new_value has no window: use 'learn' and 'forget'");
    const ynode *w = ymap_get(item, "window");
    if (w && !(c->window = pg_strdup(w->str)))
        return fail(&x, w, "out of memory");
    if (duration(&x, item, "learn", &c->learn_ns, &given) || duration(&x, item, "forget", &c->forget_ns, &given))
        return -1;
    if (c->type != CC_NEW_VALUE && (ymap_get(item, "learn") || ymap_get(item, "forget")))
        return fail(&x, ymap_get(item, "learn") ? ymap_get(item, "learn") : ymap_get(item, "forget"),
                    "'learn' and 'forget' apply to new_value only");
    const ynode *u = ymap_get(item, "until");
    if (u && !seq)
        return fail(&x, u, "'until' applies to temporal and temporal_ordered only");
    if (u && load_step(&x, u, "'until'", true, &c->until))
        return -1;
    const ynode *sp = ymap_get(item, "suppress");
    if (sp && sp->kind != Y_SCALAR)
        return fail(&x, sp, "a correlation's 'suppress' is a duration (its key is the group_by)");
    if (duration(&x, item, "suppress", &c->suppress_ns, &c->suppress_given))
        return -1;
    return 0;
}

int corr_load_suppress(const ynode *item, l_suppress **out, const ynode **bad, char *msg, size_t msglen)
{
    ctx x = {bad, msg, msglen};
    *out = NULL;
    *bad = NULL;
    const ynode *s = ymap_get(item, "suppress");
    if (!s)
        return 0;
    if (s->kind != Y_MAP || !ymap_get(s, "by") || !ymap_get(s, "for"))
        return fail(&x, s, "'suppress' must be {by: [fields], for: duration}");
    for (size_t i = 0; i + 1 < s->n; i += 2)
        if (s->items[i]->kind != Y_SCALAR || (strcmp(s->items[i]->str, "by") && strcmp(s->items[i]->str, "for")))
            return fail(&x, s->items[i], "unknown key in 'suppress' (by, for)");
    l_suppress *ls = pg_calloc(1, sizeof *ls);
    if (!ls)
        return fail(&x, s, "out of memory");
    if (str_list(&x, ymap_get(s, "by"), "by", 16, &ls->by) || duration(&x, s, "for", &ls->for_ns, NULL)) {
        l_suppress_free(ls);
        return -1;
    }
    if (ls->for_ns <= 0) {
        l_suppress_free(ls);
        return fail(&x, ymap_get(s, "for"), "'suppress.for' must be a positive duration");
    }
    if (!(ls->for_text = pg_strdup(ymap_get(s, "for")->str))) {
        l_suppress_free(ls);
        return fail(&x, s, "out of memory");
    }
    *out = ls;
    return 0;
}

static void step_free(l_step *s)
{
    pg_free(s->cond);
    strvec_free(&s->group_by);
}

void l_corr_free(l_corr *c)
{
    if (!c)
        return;
    strvec_free(&c->rules);
    strvec_free(&c->group_by);
    strvec_free(&c->field);
    pg_free(c->window);
    pg_free(c->threshold_text);
    for (size_t i = 0; i < c->nsteps; i++)
        step_free(&c->steps[i]);
    pg_free(c->steps);
    step_free(&c->until);
    memset(c, 0, sizeof *c);
}

void l_suppress_free(l_suppress *s)
{
    if (!s)
        return;
    strvec_free(&s->by);
    pg_free(s->for_text);
    pg_free(s);
}
