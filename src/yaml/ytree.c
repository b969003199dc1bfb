/*
 * ytree — libyaml event stream → tree (see ytree.h).
 */
#include "yaml/ytree.h"
#include "util/alloc.h"
#include "util/arena.h"

#include <stdio.h>
#include <string.h>
#include <yaml.h>

struct yarena {
    arena a;
};

typedef struct anchor {
    char *name;
    ynode *node;
} anchor;

typedef struct builder {
    yaml_parser_t parser;
    arena *a;
    anchor *anchors;
    size_t nanchors, capanchors;
    char *err;
    size_t errlen;
    int failed;
} builder;

static void *balloc(builder *b, size_t n)
{
    void *p = arena_alloc(b->a, n);
    if (!p && !b->failed) {
        snprintf(b->err, b->errlen, "out of memory");
        b->failed = 1;
    }
    return p;
}

static ynode *new_node(builder *b, ynode_kind k, const yaml_mark_t *m)
{
    ynode *n = balloc(b, sizeof *n);
    if (!n)
        return NULL;
    memset(n, 0, sizeof *n);
    n->kind = k;
    n->line = (int)m->line + 1;
    n->col = (int)m->column + 1;
    return n;
}

static int add_anchor(builder *b, const yaml_char_t *name, ynode *node)
{
    if (!name)
        return 0;
    if (b->nanchors == b->capanchors) {
        size_t cap = b->capanchors ? b->capanchors * 2 : 16;
        anchor *p = pg_realloc(b->anchors, cap * sizeof *p);
        if (!p) {
            snprintf(b->err, b->errlen, "out of memory");
            b->failed = 1;
            return -1;
        }
        b->anchors = p;
        b->capanchors = cap;
    }
    char *s = arena_strndup(b->a, (const char *)name, strlen((const char *)name));
    if (!s) {
        snprintf(b->err, b->errlen, "out of memory");
        b->failed = 1;
        return -1;
    }
    b->anchors[b->nanchors++] = (anchor){s, node};
    return 0;
}

static ynode *find_anchor(builder *b, const yaml_char_t *name)
{
    for (size_t i = b->nanchors; i-- > 0;)
        if (!strcmp(b->anchors[i].name, (const char *)name))
            return b->anchors[i].node;
    return NULL;
}

static int next_event(builder *b, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&b->parser, ev)) {
        snprintf(b->err, b->errlen, "%zu:%zu: %s%s%s", b->parser.problem_mark.line + 1,
                 b->parser.problem_mark.column + 1, b->parser.problem ? b->parser.problem : "YAML syntax error",
                 b->parser.context ? " " : "", b->parser.context ? b->parser.context : "");
        b->failed = 1;
        return -1;
    }
    return 0;
}

static ynode *build_node(builder *b, yaml_event_t *ev, int depth);

/* Collect children until the matching end event. */
static int build_children(builder *b, ynode *n, yaml_event_type_t end, int depth)
{
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(b, &ev))
            return -1;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return 0;
        }
        ynode *child = build_node(b, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!child)
            return -1;
        if (n->n == cap) {
            cap = cap ? cap * 2 : 8;
            ynode **items = balloc(b, cap * sizeof *items);
            if (!items)
                return -1;
            if (n->n)
                memcpy(items, n->items, n->n * sizeof *items);
            n->items = items;
        }
        n->items[n->n++] = child;
    }
}

static ynode *build_node(builder *b, yaml_event_t *ev, int depth)
{
    if (depth > 200) {
        snprintf(b->err, b->errlen, "%zu:%zu: YAML nesting too deep", ev->start_mark.line + 1,
                 ev->start_mark.column + 1);
        b->failed = 1;
        return NULL;
    }
    ynode *n = NULL;
    switch (ev->type) {
    case YAML_ALIAS_EVENT:
        n = find_anchor(b, ev->data.alias.anchor);
        if (!n) {
            snprintf(b->err, b->errlen, "%zu:%zu: unknown anchor '%s'", ev->start_mark.line + 1,
                     ev->start_mark.column + 1, ev->data.alias.anchor);
            b->failed = 1;
        }
        return n;
    case YAML_SCALAR_EVENT: {
        int plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        const char *v = (const char *)ev->data.scalar.value;
        size_t len = ev->data.scalar.length;
        int is_null = plain && (len == 0 || !strcmp(v, "~") || !strcmp(v, "null") || !strcmp(v, "Null") ||
                                !strcmp(v, "NULL"));
        if (!(n = new_node(b, is_null ? Y_NULL : Y_SCALAR, &ev->start_mark)))
            return NULL;
        if (!(n->str = arena_strndup(b->a, v, len)))
            return NULL;
        n->len = len;
        n->quoted = !plain;
        if (add_anchor(b, ev->data.scalar.anchor, n))
            return NULL;
        return n;
    }
    case YAML_SEQUENCE_START_EVENT:
        if (!(n = new_node(b, Y_SEQ, &ev->start_mark)) || add_anchor(b, ev->data.sequence_start.anchor, n) ||
            build_children(b, n, YAML_SEQUENCE_END_EVENT, depth))
            return NULL;
        return n;
    case YAML_MAPPING_START_EVENT:
        if (!(n = new_node(b, Y_MAP, &ev->start_mark)) || add_anchor(b, ev->data.mapping_start.anchor, n) ||
            build_children(b, n, YAML_MAPPING_END_EVENT, depth))
            return NULL;
        return n;
    default:
        snprintf(b->err, b->errlen, "%zu:%zu: unexpected YAML event", ev->start_mark.line + 1,
                 ev->start_mark.column + 1);
        b->failed = 1;
        return NULL;
    }
}

ytree *ytree_load(const char *text, size_t len, char *err, size_t errlen)
{
    ytree *t = pg_calloc(1, sizeof *t);
    struct yarena *ya = pg_malloc(sizeof *ya);
    if (!t || !ya) {
        pg_free(t);
        pg_free(ya);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    arena_init(&ya->a, 16384);
    t->arena = ya;
    builder b = {.a = &ya->a, .err = err, .errlen = errlen};
    if (!yaml_parser_initialize(&b.parser)) {
        snprintf(err, errlen, "out of memory");
        ytree_free(t);
        return NULL;
    }
    yaml_parser_set_input_string(&b.parser, (const unsigned char *)text, len);
    size_t cap = 0;
    for (;;) {
        yaml_event_t ev;
        if (next_event(&b, &ev))
            break;
        if (ev.type == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type != YAML_DOCUMENT_START_EVENT) {
            yaml_event_delete(&ev);
            continue;
        }
        yaml_event_delete(&ev);
        b.nanchors = 0; /* anchors are per document */
        if (next_event(&b, &ev))
            break;
        ynode *root = build_node(&b, &ev, 0);
        yaml_event_delete(&ev);
        if (!root)
            break;
        if (next_event(&b, &ev)) /* DOCUMENT_END */
            break;
        yaml_event_delete(&ev);
        if (t->ndocs == cap) {
            cap = cap ? cap * 2 : 4;
            ynode **docs = arena_alloc(&ya->a, cap * sizeof *docs);
            if (!docs) {
                snprintf(err, errlen, "out of memory");
                b.failed = 1;
                break;
            }
            if (t->ndocs)
                memcpy(docs, t->docs, t->ndocs * sizeof *docs);
            t->docs = docs;
        }
        t->docs[t->ndocs++] = root;
    }
    yaml_parser_delete(&b.parser);
    pg_free(b.anchors);
    if (b.failed) {
        ytree_free(t);
        return NULL;
    }
    return t;
}

void ytree_free(ytree *t)
{
    if (!t)
        return;
    if (t->arena) {
        arena_free(&t->arena->a);
        pg_free(t->arena);
    }
    pg_free(t);
}

ynode *ymap_get(const ynode *m, const char *key)
{
    if (!m || m->kind != Y_MAP)
        return NULL;
    for (size_t i = 0; i + 1 < m->n; i += 2) {
        const ynode *k = m->items[i];
        if (k->kind == Y_SCALAR && !strcmp(k->str, key))
            return m->items[i + 1];
    }
    return NULL;
}

bool yscalar_is(const ynode *n, const char *s)
{
    return n && n->kind == Y_SCALAR && !strcmp(n->str, s);
}

int yscalar_bool(const ynode *n, bool *out)
{
    static const char *const yes[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON", "y", "Y"};
    static const char *const no[] = {"false", "False", "FALSE", "no", "No", "NO", "off", "Off", "OFF", "n", "N"};
    if (!n || n->kind != Y_SCALAR)
        return -1;
    for (size_t i = 0; i < sizeof yes / sizeof *yes; i++) {
        if (!strcmp(n->str, yes[i])) {
            *out = true;
            return 0;
        }
        if (!strcmp(n->str, no[i])) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* ---- one item at a time (ytree_each_item) ---- */

typedef struct streamer {
    builder b;
    arena doc;              /* document roots (a sequence without its items) */
    arena item;             /* the current item; reset after it */
    arena *kept;            /* item arenas kept for the anchors they hold */
    size_t nkept;
    ytree_item_fn fn;
    void *ctx;
    int stopped;            /* fn's first non-zero return */
} streamer;

/* Hand item to fn (until fn has failed once), then release its nodes
 * unless an anchor of this document lives there (an alias may follow). */
static int stream_item(streamer *s, ynode *doc, ynode *item)
{
    if (!s->stopped)
        s->stopped = s->fn(s->ctx, doc, item);
    if (!s->b.nanchors) {
        arena_reset(&s->item);
        return 0;
    }
    arena *k = pg_realloc(s->kept, (s->nkept + 1) * sizeof *k);
    if (!k) {
        snprintf(s->b.err, s->b.errlen, "out of memory");
        s->b.failed = 1;
        return -1;
    }
    s->kept = k;
    s->kept[s->nkept++] = s->item;
    arena_init(&s->item, 16384);
    return 0;
}

/* One document: a sequence item by item, anything else whole. */
static int stream_doc(streamer *s)
{
    builder *b = &s->b;
    yaml_event_t ev;
    if (next_event(b, &ev))
        return -1;
    if (ev.type != YAML_SEQUENCE_START_EVENT) {
        b->a = &s->doc;
        ynode *root = build_node(b, &ev, 0);
        yaml_event_delete(&ev);
        if (!root)
            return -1;
        if (!s->stopped)
            s->stopped = s->fn(s->ctx, root, NULL);
        return 0;
    }
    b->a = &s->doc;
    ynode *seq = new_node(b, Y_SEQ, &ev.start_mark);
    int rc = !seq || add_anchor(b, ev.data.sequence_start.anchor, seq) ? -1 : 0;
    yaml_event_delete(&ev);
    while (!rc) {
        if (next_event(b, &ev))
            return -1;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        b->a = &s->item;
        ynode *item = build_node(b, &ev, 1);
        yaml_event_delete(&ev);
        rc = item ? stream_item(s, seq, item) : -1;
    }
    return rc;
}

int ytree_each_item(const char *text, size_t len, ytree_item_fn fn, void *ctx, char *err, size_t errlen)
{
    streamer s = {.b = {.err = err, .errlen = errlen}, .fn = fn, .ctx = ctx};
    arena_init(&s.doc, 16384);
    arena_init(&s.item, 16384);
    if (!yaml_parser_initialize(&s.b.parser)) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&s.b.parser, (const unsigned char *)text, len);
    for (;;) {
        yaml_event_t ev;
        if (next_event(&s.b, &ev))
            break;
        yaml_event_type_t type = ev.type;
        yaml_event_delete(&ev);
        if (type == YAML_STREAM_END_EVENT)
            break;
        if (type != YAML_DOCUMENT_START_EVENT)
            continue;
        s.b.nanchors = 0; /* anchors are per document */
        if (stream_doc(&s) || next_event(&s.b, &ev)) /* DOCUMENT_END */
            break;
        yaml_event_delete(&ev);
    }
    yaml_parser_delete(&s.b.parser);
    pg_free(s.b.anchors);
    arena_free(&s.doc);
    arena_free(&s.item);
    for (size_t i = 0; i < s.nkept; i++)
        arena_free(&s.kept[i]);
    pg_free(s.kept);
    return s.b.failed ? -1 : s.stopped;
}
