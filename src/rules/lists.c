/*
 * lists — list items expanded (a list naming another list) and list names
 * substituted into condition text (collection.h).
 */
#include "rules/compiler.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <string.h>

/* ---- list expansion and substitution (docs/compat/rules.md §2.3, §5.2) ---- */

static int needs_quotes(const char *s) { return strchr(s, ' ') && s[0] != '"' && s[0] != '\''; }

static void append_item(buf *b, const char *item)
{
    if (needs_quotes(item)) {
        buf_putc(b, '"');
        buf_puts(b, item);
        buf_putc(b, '"');
    } else {
        buf_puts(b, item);
    }
}

/* Items of list-in-list references are inlined when the referenced list's
 * first definition precedes this list's last definition. */
int lists_expand(collection *c, load_result *res)
{
    size_t total = 0;
    for (size_t i = 0; i < c->nlists; i++) {
        l_list *l = &c->lists[i];
        strvec out = {0};
        for (size_t k = 0; k < l->items.n; k++) {
            l_list *ref = coll_find_list(c, l->items.v[k]);
            if (ref && (ref == l || ref->first >= l->last))
                ref = NULL;
            /* lists naming lists multiply (ten lists of ten times the
             * previous one are 10^10 items): bounded like conditions */
            total += ref ? ref->items.n : 1;
            if (total > COMPILE_MAX_NODES) {
                strvec_free(&out);
                load_msg_add(res, true, &l->at, "LOAD_ERR_VALIDATE", NULL,
                             "list '%s': lists larger than %d items in all after expansion", l->name,
                             COMPILE_MAX_NODES);
                return -1;
            }
            int rc = 0;
            if (ref) {
                ref->used = true;
                for (size_t m = 0; m < ref->items.n && !rc; m++)
                    rc = strvec_push(&out, ref->items.v[m]);
            } else {
                rc = strvec_push(&out, l->items.v[k]);
            }
            if (rc) {
                strvec_free(&out);
                load_msg_add(res, true, &l->at, "LOAD_ERR_VALIDATE", NULL, "list '%s': out of memory", l->name);
                return -1;
            }
        }
        strvec_free(&l->items);
        l->items = out;
    }
    return 0;
}

static int is_delim(char ch) { return ch == 0 || strchr(" \t\n\r(),=", ch) != NULL; }
static int is_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

/* What replaces list l's name: its items, quoted where needed, joined
 * with ", ", one space on each side (upstream's spacing); "" when empty. */
static void replacement(buf *rep, const l_list *l)
{
    buf_clear(rep);
    if (!l->items.n)
        return;
    buf_putc(rep, ' ');
    for (size_t k = 0; k < l->items.n; k++) {
        if (k)
            buf_puts(rep, ", ");
        append_item(rep, l->items.v[k]);
    }
    buf_putc(rep, ' ');
}

/* Replace every delimited occurrence of list l's name in cur (not quote
 * aware, as upstream); rep is its replacement().  Returns cur when the
 * name does not occur, else a new string (cur freed); NULL when out of
 * memory (cur freed). */
static char *substitute_one(l_list *l, char *cur, const buf *rep, bool *changed)
{
    size_t nl = strlen(l->name);
    *changed = false;
    if (!strstr(cur, l->name))
        return cur;
    buf out = BUF_INIT;
    const char *p = cur;
    for (;;) {
        const char *hit = strstr(p, l->name);
        if (!hit) {
            buf_puts(&out, p);
            break;
        }
        char before = hit == cur ? 0 : hit[-1];
        char after = hit[nl];
        if (!is_delim(before) || !is_delim(after)) {
            buf_put(&out, p, (size_t)(hit - p) + 1);
            p = hit + 1;
            continue;
        }
        *changed = true;
        l->used = true;
        /* the blanks around the name go too */
        const char *s = hit, *e = hit + nl;
        while (s > p && is_blank(s[-1]))
            s--;
        while (is_blank(*e))
            e++;
        buf_put(&out, p, (size_t)(s - p));
        if (l->items.n == 0) {
            /* drop one adjacent comma, the left one preferred */
            size_t k = out.len;
            while (k > 0 && is_blank(out.data[k - 1]))
                k--;
            if (k > 0 && out.data[k - 1] == ',') {
                out.len = k - 1;
                out.data[out.len] = 0;
            } else if (*e == ',') {
                e++;
                while (is_blank(*e))
                    e++;
            }
        } else {
            buf_put(&out, rep->data, rep->len);
        }
        p = e;
    }
    if (out.oom) {
        buf_free(&out);
        pg_free(cur);
        return NULL;
    }
    if (!*changed) {
        buf_free(&out);
        return cur;
    }
    pg_free(cur);
    return out.data ? out.data : pg_strdup("");
}

/* ---- the lists a text names, in definition order ----
 *
 * The substitution is defined (docs/compat/rules.md §5) as one pass per
 * list, in the order lists were defined, each over the text the previous
 * passes left: so the items of list i may name a list defined after it
 * (substituted in turn), and an empty list, which takes the blanks around
 * it away, may join two words into a name.  Running every list's pass over
 * every condition made loading quadratic.  The same passes are run here
 * only for the lists a condition can name: the words of the text (runs of
 * characters that are not delimiters) looked up by name, then, after each
 * pass, the words it brought in (those of the items, or for an empty list
 * the whole new text) for lists defined later.  A name that itself holds a
 * delimiter is never a word, so such lists (warned about at load) get
 * their pass on every text. */

typedef struct pending {
    uint32_t *heap;         /* list positions, a min-heap (repeats allowed) */
    size_t n, cap;
    bool oom;
} pending;

static void pending_push(pending *q, uint32_t v)
{
    if (q->n == q->cap) {
        size_t cap = q->cap ? q->cap * 2 : 16;
        uint32_t *h = pg_realloc(q->heap, cap * sizeof *h);
        if (!h) {
            q->oom = true;
            return;
        }
        q->heap = h;
        q->cap = cap;
    }
    size_t i = q->n++;
    while (i && q->heap[(i - 1) / 2] > v) {
        q->heap[i] = q->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    q->heap[i] = v;
}

static uint32_t pending_pop(pending *q)
{
    uint32_t top = q->heap[0], last = q->heap[--q->n];
    size_t i = 0;
    for (;;) {
        size_t k = 2 * i + 1;
        if (k >= q->n)
            break;
        if (k + 1 < q->n && q->heap[k + 1] < q->heap[k])
            k++;
        if (q->heap[k] >= last)
            break;
        q->heap[i] = q->heap[k];
        i = k;
    }
    if (q->n)
        q->heap[i] = last;
    return top;
}

/* Queue the lists after position `after` (all when after < 0) that the
 * words of text[0..len) name. */
static void queue_words(collection *c, pending *q, const char *text, size_t len, long after)
{
    size_t i = 0;
    while (i < len) {
        while (i < len && is_delim(text[i]))
            i++;
        size_t start = i;
        while (i < len && !is_delim(text[i]))
            i++;
        if (i == start)
            continue;
        long at = name_index_find(&c->list_ix, c->lists, sizeof *c->lists, text + start, i - start);
        if (at > after)
            pending_push(q, (uint32_t)at);
    }
}

/* The lists whose names hold a delimiter, found once per collection. */
static int odd_lists(collection *c)
{
    if (c->odd_for == c->nlists + 1)
        return 0;
    pg_free(c->odd);
    c->odd = NULL;
    c->nodd = 0;
    for (size_t i = 0; i < c->nlists; i++) {
        const char *n = c->lists[i].name;
        if (!n[strcspn(n, " \t\n\r(),=")])
            continue;
        uint32_t *g = pg_realloc(c->odd, (c->nodd + 1) * sizeof *g);
        if (!g)
            return -1;
        c->odd = g;
        c->odd[c->nodd++] = (uint32_t)i;
    }
    c->odd_for = c->nlists + 1;
    return 0;
}

char *lists_substitute(collection *c, const char *text)
{
    if (odd_lists(c))
        return NULL;
    char *cur = pg_strdup(text);
    pending q = {0};
    buf rep = BUF_INIT;
    if (cur) {
        queue_words(c, &q, cur, strlen(cur), -1);
        for (size_t i = 0; i < c->nodd; i++)
            pending_push(&q, c->odd[i]);
    }
    long done = -1;
    while (cur && q.n && !q.oom) {
        uint32_t i = pending_pop(&q);
        if ((long)i <= done)
            continue;       /* queued twice */
        done = i;
        l_list *l = &c->lists[i];
        bool changed;
        replacement(&rep, l);
        if (rep.oom) {
            pg_free(cur);
            cur = NULL;
            break;
        }
        cur = substitute_one(l, cur, &rep, &changed);
        if (cur && changed) {
            if (rep.len)
                queue_words(c, &q, rep.data, rep.len, done);
            else
                queue_words(c, &q, cur, strlen(cur), done);
        }
    }
    if (q.oom) {
        pg_free(cur);
        cur = NULL;
    }
    pg_free(q.heap);
    buf_free(&rep);
    return cur;
}
