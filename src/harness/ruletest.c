/*
 * ruletest — rule test cases through the real engine (see ruletest.h).
 *
 * Each case is evaluated by the same worker code the pipeline uses, so a
 * case that passes here passes in production: same parser, same field
 * extraction, same compiled rules.
 */
#include "harness/ruletest.h"
#include "engine/corr_emit.h"
#include "engine/worker.h"
#include "rules/rulefiles.h"
#include "rules/ruleset.h"
#include "util/alloc.h"
#include "util/buf.h"
#include "yaml/ytree.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

typedef struct harness {
    const ruletest_opts *o;
    config cfg;                 /* the caller's, with rule_matching: all */
    ruleset *base;
    ruleset *extra;             /* base + the last extra_rules set ... */
    buf extra_key;              /* ... named by this key */
    int passed, failed;
    buf msg;                    /* the current case's problems */
} harness;

/* The case files of PATH: itself, or the top-level YAML files of a
 * directory (listed the way rules directories are). */
static int case_files(const char *path, strvec *out, FILE *msgs)
{
    struct stat sb;
    if (stat(path, &sb)) {
        fprintf(msgs, "cannot open %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(sb.st_mode))
        return strvec_push(out, path);
    strvec one = {0};
    buf err = BUF_INIT;
    strvec_push(&one, path);
    int rc = rulefiles_expand(&one, out, &err);
    if (rc)
        fprintf(msgs, "%s\n", buf_cstr(&err));
    buf_free(&err);
    strvec_free(&one);
    return rc;
}

static char *read_text(const char *path, size_t *len)
{
    buf b = BUF_INIT;
    int rc = buf_read_file(&b, path, (size_t)1 << 30);
    if (rc) {
        buf_free(&b);
        errno = -rc;
        return NULL;
    }
    *len = b.len;
    return b.data ? b.data : pg_strdup("");
}

/* "dir/of/file" + "/" + rel, unless rel is absolute. */
static void relative_to(const char *file, const char *rel, buf *out)
{
    buf_clear(out);
    const char *slash = strrchr(file, '/');
    if (rel[0] != '/' && slash)
        buf_printf(out, "%.*s/", (int)(slash - file), file);
    buf_puts(out, rel);
}

static ruleset *load(harness *h, const strvec *paths)
{
    loader_opts lo = {.min_priority = (priority)h->cfg.priority, .reference = h->cfg.rule_eval_reference};
    load_result res = {0};
    buf err = BUF_INIT;
    ruleset *rs = rulefiles_load(paths, &lo, &res, &err);
    if (!rs) {
        if (err.len)
            fprintf(h->o->out, "%s\n", buf_cstr(&err));
        buf b = BUF_INIT;
        load_result_print(&res, &b);
        fputs(buf_cstr(&b), h->o->out);
        buf_free(&b);
    }
    load_result_free(&res);
    buf_free(&err);
    return rs;
}

/* The ruleset for a case: the base one, or base + extra_rules. */
static ruleset *case_rules(harness *h, const char *file, const ynode *extra)
{
    if (!extra || extra->kind != Y_SEQ || !extra->n)
        return h->base;
    buf key = BUF_INIT, p = BUF_INIT;
    strvec paths = {0};
    for (size_t i = 0; i < h->o->rule_paths->n; i++)
        strvec_push(&paths, h->o->rule_paths->v[i]);
    for (size_t i = 0; i < extra->n; i++) {
        if (extra->items[i]->kind != Y_SCALAR)
            continue;
        relative_to(file, extra->items[i]->str, &p);
        strvec_push(&paths, buf_cstr(&p));
        buf_puts(&key, buf_cstr(&p));
        buf_putc(&key, '\n');
    }
    if (!h->extra || strcmp(buf_cstr(&key), buf_cstr(&h->extra_key))) {
        ruleset_free(h->extra);
        h->extra = load(h, &paths);
        buf_clear(&h->extra_key);
        buf_puts(&h->extra_key, buf_cstr(&key));
    }
    strvec_free(&paths);
    buf_free(&key);
    buf_free(&p);
    return h->extra;
}

static int rule_index(const ruleset *rs, const char *name)
{
    for (size_t i = 0; i < ruleset_count(rs); i++)
        if (!strcmp(ruleset_rule(rs, i)->name, name))
            return (int)i;
    return -1;
}

/* Evaluate one line; fired[] marks the rules that fired. */
static void run_line(harness *h, worker *w, corr_emit *ce, const ruleset *rs, char *line, size_t len,
                     const char *origin, uint64_t n, bool *fired, worker_result *r)
{
    worker_result_clear(r);
    worker_payload(w, line, len, origin, n, r);
    if (ce)     /* correlations: the case's events in order, its own state */
        corr_emit_apply(ce, rs, r);
    for (size_t i = 0; i < r->nspans; i++)
        fired[r->spans[i].rule] = true;
    if (r->counts.malformed || r->counts.unrecognized || r->counts.dropped_events)
        buf_printf(&h->msg, "     event %llu was not evaluated: %.*s", (unsigned long long)n, (int)r->log.len,
                   r->log.data ? r->log.data : "");
}

static void run_case(harness *h, const char *file, const ynode *c)
{
    buf_clear(&h->msg);
    const ynode *title = ymap_get(c, "case");
    const char *name = title && title->kind == Y_SCALAR ? title->str : "(untitled)";
    static const char *const known[] = {"case", "why", "events", "events_file", "fire", "no_fire", "extra_rules"};
    for (size_t i = 0; c->kind == Y_MAP && i + 1 < c->n; i += 2) {
        const ynode *k = c->items[i];
        bool ok = false;
        for (size_t j = 0; j < sizeof known / sizeof *known; j++)
            ok |= k->kind == Y_SCALAR && !strcmp(k->str, known[j]);
        if (!ok)
            buf_printf(&h->msg, "     %d:%d: unknown key '%s'\n", k->line, k->col, k->kind == Y_SCALAR ? k->str : "?");
    }
    ruleset *rs = c->kind == Y_MAP ? case_rules(h, file, ymap_get(c, "extra_rules")) : NULL;
    if (c->kind != Y_MAP)
        buf_printf(&h->msg, "     a case must be a mapping\n");
    else if (!rs)
        buf_printf(&h->msg, "     its rules do not load (see above)\n");
    bool *fired = rs ? pg_calloc(ruleset_count(rs) + 1, sizeof *fired) : NULL;
    worker *w = NULL;
    corr_emit *ce = NULL;
    if (rs && fired) {
        worker_opts wo = {.cfg = &h->cfg, .rs = rs};
        w = worker_new(&wo);
        if (w && ruleset_has_state(rs) && !(ce = corr_emit_from_config(&h->cfg, false, NULL, 0))) {
            worker_free(w);
            w = NULL;
        }
    }
    if (w) {
        worker_result r = {0};
        buf line = BUF_INIT, p = BUF_INIT;
        uint64_t n = 0;
        const ynode *evs = ymap_get(c, "events");
        for (size_t i = 0; evs && evs->kind == Y_SEQ && i < evs->n; i++) {
            buf_clear(&line);
            ynode_to_json(evs->items[i], &line);
            buf_putc(&line, '\0');
            run_line(h, w, ce, rs, line.data, line.len - 1, file, ++n, fired, &r);
        }
        const ynode *ef = ymap_get(c, "events_file");
        if (ef && ef->kind == Y_SCALAR) {
            relative_to(file, ef->str, &p);
            size_t len;
            char *text = read_text(buf_cstr(&p), &len);
            if (!text)
                buf_printf(&h->msg, "     events_file %s: %s\n", buf_cstr(&p), strerror(errno));
            for (char *s = text, *e; s && s < text + len; s = e + 1) {
                e = memchr(s, '\n', (size_t)(text + len - s));
                if (!e)
                    e = text + len;
                size_t l = (size_t)(e - s);
                if (l && s[l - 1] == '\r')
                    l--;
                n++;
                if (l) {
                    char save = s[l];
                    s[l] = 0;
                    run_line(h, w, ce, rs, s, l, buf_cstr(&p), n, fired, &r);
                    s[l] = save;
                }
            }
            pg_free(text);
        }
        if (!n)
            buf_printf(&h->msg, "     no events\n");
        static const char *const lists[] = {"fire", "no_fire"};
        for (int k = 0; k < 2; k++) {
            const ynode *l = ymap_get(c, lists[k]);
            if (l && l->kind == Y_SCALAR && l->len)   /* a single name */
                l = NULL, buf_printf(&h->msg, "     %s must be a list\n", lists[k]);
            for (size_t i = 0; l && l->kind == Y_SEQ && i < l->n; i++) {
                const char *rn = l->items[i]->kind == Y_SCALAR ? l->items[i]->str : "";
                int ri = rule_index(rs, rn);
                if (ri < 0)
                    buf_printf(&h->msg, "     no rule named '%s'\n", rn);
                else if (k == 0 && !fired[ri])
                    buf_printf(&h->msg, "     expected to fire: %s\n", rn);
                else if (k == 1 && fired[ri])
                    buf_printf(&h->msg, "     must not fire: %s\n", rn);
            }
        }
        worker_result_free(&r);
        buf_free(&line);
        buf_free(&p);
        worker_free(w);
        corr_emit_free(ce);
    } else if (rs) {
        buf_printf(&h->msg, "     out of memory\n");
    }
    pg_free(fired);
    FILE *out = h->o->out;
    if (h->msg.len) {
        h->failed++;
        fprintf(out, "FAIL %s:%d %s\n%s", file, c->line, name, buf_cstr(&h->msg));
    } else {
        h->passed++;
        if (h->o->verbose)
            fprintf(out, "ok   %s:%d %s\n", file, c->line, name);
    }
}

static void run_file(harness *h, const char *file)
{
    size_t len;
    char *text = read_text(file, &len);
    if (!text) {
        fprintf(h->o->out, "FAIL %s: cannot read: %s\n", file, strerror(errno));
        h->failed++;
        return;
    }
    char err[256];
    ytree *t = ytree_load(text, len, err, sizeof err);
    pg_free(text);
    if (!t) {
        fprintf(h->o->out, "FAIL %s:%s\n", file, err);
        h->failed++;
        return;
    }
    for (size_t d = 0; d < t->ndocs; d++) {
        const ynode *root = t->docs[d];
        if (root->kind == Y_NULL)
            continue;
        if (root->kind != Y_SEQ) {
            fprintf(h->o->out, "FAIL %s:%d: a test file is a list of cases\n", file, root->line);
            h->failed++;
            continue;
        }
        for (size_t i = 0; i < root->n; i++)
            run_case(h, file, root->items[i]);
    }
    ytree_free(t);
}

int ruletest_run(const ruletest_opts *o)
{
    harness h = {.o = o, .cfg = *o->cfg};
    h.cfg.rule_matching_all = true;
    strvec files = {0};
    if (case_files(o->path, &files, o->out)) {
        strvec_free(&files);
        return -1;
    }
    h.base = load(&h, o->rule_paths);
    if (!h.base) {
        strvec_free(&files);
        return -1;
    }
    for (size_t i = 0; i < files.n; i++)
        run_file(&h, files.v[i]);
    fprintf(o->out, "%d passed, %d failed\n", h.passed, h.failed);
    ruleset_free(h.base);
    ruleset_free(h.extra);
    buf_free(&h.extra_key);
    buf_free(&h.msg);
    strvec_free(&files);
    return h.failed;
}
