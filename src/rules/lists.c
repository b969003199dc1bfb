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
            l_list *ref = NULL;
            for (size_t j = 0; j < c->nlists; j++)
                if (j != i && !strcmp(c->lists[j].name, l->items.v[k]) && c->lists[j].first < l->last)
                    ref = &c->lists[j];
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

/* Replace every delimited occurrence of each list name in text (not quote
 * aware, as upstream).  Returns a new pg_malloc'd string. */
char *lists_substitute(collection *c, const char *text)
{
    char *cur = pg_strdup(text);
    for (size_t i = 0; cur && i < c->nlists; i++) {
        l_list *l = &c->lists[i];
        size_t nl = strlen(l->name);
        if (!strstr(cur, l->name))
            continue;
        buf out = BUF_INIT;
        const char *p = cur;
        bool changed = false;
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
            changed = true;
            l->used = true;
            /* the blanks around the name go too */
            const char *s = hit, *e = hit + nl;
            while (s > p && is_blank(s[-1]))
                s--;
            while (is_blank(*e))
                e++;
            buf_put(&out, p, (size_t)(s - p));
            if (l->items.n)
                buf_putc(&out, ' '); /* upstream puts one space on each side of the items */
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
                for (size_t k = 0; k < l->items.n; k++) {
                    if (k)
                        buf_puts(&out, ", ");
                    append_item(&out, l->items.v[k]);
                }
                buf_putc(&out, ' ');
            }
            p = e;
        }
        if (out.oom) {
            buf_free(&out);
            pg_free(cur);
            return NULL;
        }
        if (changed) {
            pg_free(cur);
            cur = out.data ? out.data : pg_strdup("");
        } else {
            buf_free(&out);
        }
    }
    return cur;
}
