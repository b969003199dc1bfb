/*
 * The condition parser against the 529 accept/reject cases taken from the
 * upstream filter parser's unit tests (conformance/data/condition_grammar.json).
 * Accepted strings are also re-tested with surrounding blanks and with
 * every space turned into a newline and into a tab, as upstream does.
 */
#include "test.h"

#include "json/json.h"
#include "rules/cond_parse.h"
#include "util/alloc.h"

#include <stdlib.h>

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    if (p && fread(p, 1, (size_t)n, f) != (size_t)n) {
        free(p);
        p = NULL;
    }
    fclose(f);
    if (p) {
        p[n] = 0;
        *len = (size_t)n;
    }
    return p;
}

static char *string_of(const json_doc *d, uint32_t i)
{
    const json_node *n = json_at(d, i);
    char *s = malloc(n->len + 1);
    size_t len = json_unescape(d->src + n->start, n->len, s);
    s[len] = 0;
    return s;
}

static int parses(const char *text)
{
    arena a;
    arena_init(&a, 4096);
    cond_error err;
    ast *r = cond_parse(text, &a, 100, &err);
    arena_free(&a);
    return r != NULL;
}

static void replace_spaces(char *s, char c)
{
    for (; *s; s++)
        if (*s == ' ')
            *s = c;
}

TEST(cond_grammar_upstream_cases)
{
    const char *shared = test_need_shared();
    if (!shared)
        return;
    char path[512];
    snprintf(path, sizeof path, "%s/conformance/data/condition_grammar.json", shared);
    size_t len;
    char *text = slurp(path, &len);
    CHECK(text != NULL);
    if (!text)
        return;
    json_doc d;
    json_doc_init(&d);
    CHECK(json_parse(&d, text, len) == 0);
    uint32_t cases = json_get(&d, 0, "cases", 5);
    int n = 0, bad = 0;
    for (uint32_t c = json_first(&d, cases); c != JSON_NONE; c = json_next(&d, cases, c)) {
        char *filter = string_of(&d, json_get(&d, c, "filter", 6));
        char *expect = string_of(&d, json_get(&d, c, "expect", 6));
        uint32_t em = json_get(&d, c, "error_message", 13);
        int accept = !strcmp(expect, "accept");
        n++;
        if (parses(filter) != accept) {
            test_fail(__FILE__, __LINE__, "%s: want %s", filter, expect);
            bad++;
        } else if (!accept && em != JSON_NONE && json_type_of(&d, em) == JSON_STRING) {
            char *want = string_of(&d, em);
            arena a;
            arena_init(&a, 4096);
            cond_error err;
            cond_parse(filter, &a, 100, &err);
            if (strcmp(err.msg, want) != 0)
                test_fail(__FILE__, __LINE__, "%s: error \"%s\", want \"%s\"", filter, err.msg, want);
            arena_free(&a);
            free(want);
        } else if (accept && !strstr(filter, "\\ ")) {
            /* (skipped for the "\ " escape, which turning spaces into
             * newlines would change into an invalid escape) */
            size_t fl = strlen(filter);
            char *v = malloc(fl + 3);
            snprintf(v, fl + 3, " %s ", filter);
            if (!parses(v))
                test_fail(__FILE__, __LINE__, "with surrounding spaces: '%s'", v);
            strcpy(v, filter);
            replace_spaces(v, '\n');
            if (!parses(v))
                test_fail(__FILE__, __LINE__, "spaces as newlines: '%s'", filter);
            strcpy(v, filter);
            replace_spaces(v, '\t');
            if (!parses(v))
                test_fail(__FILE__, __LINE__, "spaces as tabs: '%s'", filter);
            free(v);
        }
        free(filter);
        free(expect);
    }
    CHECK(n == 529);
    json_doc_free(&d);
    free(text);
}

TEST(cond_depth_limit_is_an_error_not_a_crash)
{
    size_t n = 5000;
    char *s = malloc(2 * n + 16);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        s[k++] = '(';
    s[k++] = 'a';
    for (size_t i = 0; i < n; i++)
        s[k++] = ')';
    s[k] = 0;
    arena a;
    arena_init(&a, 4096);
    cond_error err;
    CHECK(cond_parse(s, &a, COND_MAX_DEPTH, &err) == NULL);
    CHECK(strstr(err.msg, "max depth") != NULL);
    arena_free(&a);
    free(s);
}
