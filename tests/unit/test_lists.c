/*
 * List substitution (src/rules/lists.c) against its definition
 * (docs/compat/rules.md §5): one pass per list, in definition order, each
 * over the text the previous passes left.  The implementation only runs
 * the passes of the lists a text names; here a reference that runs every
 * pass must give the same text, and mark the same lists used, on chosen
 * cases and on random collections and texts built to reach the corners
 * (names that are prefixes of others, lists naming later lists, empty
 * lists joining words, names next to operators, parentheses and quotes,
 * names holding delimiters).
 */
#include "test.h"

#include "rules/collection.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <stdlib.h>

static void add_list(collection *c, const char *name, const char *const *items, size_t n)
{
    c->lists = coll_grow(c->lists, &c->caplists, c->nlists, sizeof *c->lists);
    l_list *l = &c->lists[c->nlists];
    memset(l, 0, sizeof *l);
    l->name = pg_strdup(name);
    for (size_t i = 0; i < n; i++)
        strvec_push(&l->items, items[i]);
    CHECK(name_index_add(&c->list_ix, c->lists, sizeof *c->lists, c->nlists) == 0);
    c->nlists++;
}

/* ---- the reference: every list's pass, in order ---- */

static int ref_delim(char ch) { return ch == 0 || strchr(" \t\n\r(),=", ch) != NULL; }
static int ref_blank(char ch) { return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r'; }

static char *ref_pass(l_list *l, char *cur)
{
    size_t nl = strlen(l->name);
    buf out = BUF_INIT;
    const char *p = cur;
    for (;;) {
        const char *hit = strstr(p, l->name);
        if (!hit) {
            buf_puts(&out, p);
            break;
        }
        if (!ref_delim(hit == cur ? 0 : hit[-1]) || !ref_delim(hit[nl])) {
            buf_put(&out, p, (size_t)(hit - p) + 1);
            p = hit + 1;
            continue;
        }
        l->used = true;
        const char *s = hit, *e = hit + nl;
        while (s > p && ref_blank(s[-1]))
            s--;
        while (ref_blank(*e))
            e++;
        buf_put(&out, p, (size_t)(s - p));
        if (!l->items.n) {
            size_t k = out.len;
            while (k > 0 && ref_blank(out.data[k - 1]))
                k--;
            if (k > 0 && out.data[k - 1] == ',') {
                out.len = k - 1;
                out.data[out.len] = 0;
            } else if (*e == ',') {
                for (e++; ref_blank(*e); e++)
                    ;
            }
        } else {
            buf_putc(&out, ' ');
            for (size_t k = 0; k < l->items.n; k++) {
                const char *it = l->items.v[k];
                bool q = strchr(it, ' ') && it[0] != '"' && it[0] != '\'';
                buf_printf(&out, "%s%s%s%s", k ? ", " : "", q ? "\"" : "", it, q ? "\"" : "");
            }
            buf_putc(&out, ' ');
        }
        p = e;
    }
    pg_free(cur);
    return out.data ? out.data : pg_strdup("");
}

static char *ref_substitute(collection *c, const char *text)
{
    char *cur = pg_strdup(text);
    for (size_t i = 0; i < c->nlists; i++)
        cur = ref_pass(&c->lists[i], cur);
    return cur;
}

/* Both ways on a fresh copy of the used flags; the texts must agree. */
static void check_same(collection *c, const char *text)
{
    bool used[64] = {0};
    for (size_t i = 0; i < c->nlists; i++)
        c->lists[i].used = false;
    char *want = ref_substitute(c, text);
    for (size_t i = 0; i < c->nlists; i++) {
        used[i] = c->lists[i].used;
        c->lists[i].used = false;
    }
    char *got = lists_substitute(c, text);
    if (!got || strcmp(got, want))
        test_fail(__FILE__, __LINE__, "text \"%s\": got \"%s\", want \"%s\"", text, got ? got : "(null)", want);
    for (size_t i = 0; i < c->nlists; i++)
        if (used[i] != c->lists[i].used)
            test_fail(__FILE__, __LINE__, "text \"%s\": list %s used %d, want %d", text, c->lists[i].name,
                      c->lists[i].used, used[i]);
    pg_free(got);
    pg_free(want);
}

static void check_text(collection *c, const char *text, const char *want)
{
    char *got = lists_substitute(c, text);
    CHECK_STR(got, want);
    pg_free(got);
    check_same(c, text);
}

TEST(lists_substitute_chosen_cases)
{
    collection c = {0};
    const char *ns[] = {"kube-system", "default"};
    const char *nsx[] = {"prod"};
    const char *users[] = {"system:admin", "a b"};
    const char *outer[] = {"x", "inner", "y"};
    const char *inner[] = {"i1"};
    add_list(&c, "ns", ns, 2);
    add_list(&c, "ns_extra", nsx, 1);           /* ns is a prefix of it */
    add_list(&c, "users", users, 2);
    add_list(&c, "empty", NULL, 0);
    add_list(&c, "outer", outer, 3);            /* names a list defined after it */
    add_list(&c, "inner", inner, 1);
    /* a name that is a prefix of another, and the longer one */
    check_text(&c, "ka.target.namespace in (ns, ns_extra)", "ka.target.namespace in ( kube-system, default , prod )");
    /* not inside a longer word, nor a field name */
    check_text(&c, "nsx in (ns.a, a.ns)", "nsx in (ns.a, a.ns)");
    /* next to operators and parentheses */
    check_text(&c, "a=ns", "a= kube-system, default ");
    check_text(&c, "(ns)", "( kube-system, default )");
    check_text(&c, "ns", " kube-system, default ");
    /* items with blanks get quotes */
    check_text(&c, "u in (users)", "u in ( system:admin, \"a b\" )");
    /* inside a quoted string too when blanks bound it: the substitution
     * is textual (a quote is no delimiter) */
    check_text(&c, "x = \"ns\" or y = \"a ns b\"", "x = \"ns\" or y = \"a kube-system, default b\"");
    /* an empty list takes one comma away, the left one first */
    check_text(&c, "x in (a, empty, b)", "x in (a, b)");
    check_text(&c, "x in (empty, b)", "x in (b)");
    check_text(&c, "x in (empty)", "x in ()");
    /* and the blanks around it, joining words, which may then name a
     * list defined later */
    check_text(&c, "x empty a", "xa");
    check_text(&c, "inn empty er", " i1 ");
    check_text(&c, "n empty s", "ns");
    /* a list naming a later list: the later one's pass reaches its items */
    check_text(&c, "x in (outer)", "x in ( x, i1 , y )");
    /* a later list naming an earlier one: that pass is over */
    lists_expand(&c, &(load_result){0});
    check_same(&c, "x in (outer, inner, ns)");
    collection_free(&c);
}

/* A name holding a delimiter is never a word of the text: such lists get
 * their pass on every text. */
TEST(lists_substitute_odd_names)
{
    collection c = {0};
    const char *a[] = {"1"};
    const char *b[] = {"2", "3"};
    add_list(&c, "a b", a, 1);
    add_list(&c, "c,d", b, 2);
    add_list(&c, "e", b, 2);
    check_text(&c, "x in (a b, c,d) and e", "x in ( 1 , 2, 3 ) and 2, 3 ");
    check_same(&c, "a bc,d e a b");
    collection_free(&c);
}

/* Random collections and texts from a few short words, so that names
 * collide, prefix each other and appear in items, quotes and fields. */
TEST(lists_substitute_random_against_reference)
{
    static const char *const words[] = {"a", "b", "ab", "ba", "a_b", "aa", "c", "ab.c", "x", "a b", "b,c"};
    static const char *const seps[] = {" ", "  ", ",", ", ", "(", ")", "=", " = ", "\"", "'", "\t", "in ", ""};
    const size_t nw = sizeof words / sizeof *words, ns = sizeof seps / sizeof *seps;
    srand(12345);
    for (int round = 0; round < 2000; round++) {
        collection c = {0};
        size_t nl = 1 + (size_t)rand() % 8;
        for (size_t i = 0; i < nl; i++) {
            const char *name = words[(size_t)rand() % nw];
            bool dup = false;
            for (size_t j = 0; j < c.nlists; j++)
                dup |= !strcmp(c.lists[j].name, name);
            if (dup)
                continue;
            const char *items[4];
            size_t n = (size_t)rand() % 4;
            for (size_t k = 0; k < n; k++)
                items[k] = rand() % 3 ? words[(size_t)rand() % nw] : seps[(size_t)rand() % ns];
            add_list(&c, name, items, n);
        }
        if (rand() % 2)
            lists_expand(&c, &(load_result){0});
        for (int t = 0; t < 20; t++) {
            buf text = BUF_INIT;
            size_t parts = (size_t)rand() % 12;
            for (size_t k = 0; k < parts; k++)
                buf_puts(&text, rand() % 2 ? words[(size_t)rand() % nw] : seps[(size_t)rand() % ns]);
            check_same(&c, buf_cstr(&text));
            buf_free(&text);
        }
        collection_free(&c);
    }
}

/* name_index: a name given by length (a word inside a longer text) finds
 * only the item of exactly that name; the table grows past many items. */
TEST(name_index_finds_by_length_and_grows)
{
    collection c = {0};
    char name[32];
    for (int i = 0; i < 5000; i++) {
        snprintf(name, sizeof name, "l%d", i);
        add_list(&c, name, NULL, 0);
    }
    add_list(&c, "ab", NULL, 0);
    add_list(&c, "abc", NULL, 0);
    const char *text = "abcd";
    CHECK(name_index_find(&c.list_ix, c.lists, sizeof *c.lists, text, 2) == 5000);
    CHECK(name_index_find(&c.list_ix, c.lists, sizeof *c.lists, text, 3) == 5001);
    CHECK(name_index_find(&c.list_ix, c.lists, sizeof *c.lists, text, 4) == -1);
    CHECK(name_index_find(&c.list_ix, c.lists, sizeof *c.lists, text, 1) == -1);
    for (int i = 0; i < 5000; i += 97) {
        snprintf(name, sizeof name, "l%d", i);
        CHECK(coll_find_list(&c, name) == &c.lists[i]);
    }
    CHECK(coll_find_list(&c, "l5000") == NULL);
    collection_free(&c);
}
