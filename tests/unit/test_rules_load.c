/*
 * Loading at scale (issue 18): items found by name among thousands
 * (name_index.c), and each distinct check compiled once however many
 * rules repeat it (compile.c).
 */
#include "test.h"

#include "rules/compiled.h"
#include "rules/ruleset.h"
#include "util/buf.h"

#include <stdio.h>

static ruleset *load(const char *text, char *msg, size_t msglen)
{
    loader_opts lo = {.min_priority = PRI_DEBUG};
    rule_loader *l = loader_new(&lo);
    load_result res = {0};
    ruleset *rs = NULL;
    if (l && !loader_add_text(l, "t.yaml", text, strlen(text), &res))
        rs = loader_compile(l, &res);
    buf b = BUF_INIT;
    load_result_print(&res, &b);
    snprintf(msg, msglen, "%s", buf_cstr(&b));
    buf_free(&b);
    loader_free(l);
    load_result_free(&res);
    return rs;
}

#define RULE(name, cond) \
    "- rule: " name "\n  desc: d\n  output: o\n  priority: NOTICE\n  source: k8s_audit\n  condition: " cond "\n"

/* The same check in two rules (here through the same list) is one node,
 * with one set; a different one is another node. */
TEST(rules_load_repeated_check_is_one_node)
{
    char msg[1024];
    ruleset *rs = load("- list: verbs\n  items: [create, update]\n"
                       RULE("A", "ka.verb in (verbs)") RULE("B", "ka.verb in (create, update)")
                       RULE("C", "ka.verb in (create, delete)") RULE("D", "ka.verb regex 'x.*'")
                       RULE("E", "ka.verb regex 'x.*'"),
                       msg, sizeof msg);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK(rs->nrules == 5);
    CHECK(rs->rules[0].cond->kind == CN_CHECK);
    CHECK(rs->rules[0].cond == rs->rules[1].cond);
    CHECK(rs->rules[0].cond->set != NULL && rs->rules[0].cond->set->n == 2);
    CHECK(rs->rules[2].cond != rs->rules[0].cond);
    CHECK(rs->rules[2].cond->memo != rs->rules[0].cond->memo);
    CHECK(rs->rules[3].cond == rs->rules[4].cond);
    CHECK(rs->nregexes == 1);
    ruleset_free(rs);
}

/* A repeated check that fails fails the same way in every rule. */
TEST(rules_load_repeated_check_same_errors)
{
    char msg[1024];
    ruleset *rs = load(RULE("A", "ka.verb in (a)") RULE("B", "ka.verb in (a) and ka.verb bcontains x"), msg,
                       sizeof msg);
    CHECK(rs == NULL);
    CHECK(strstr(msg, "rule 'B': 'bcontains' operator not supported for string filters") != NULL);
    ruleset_free(rs);
    rs = load(RULE("A", "evt.num = 200") RULE("B", "evt.num = 2x0"), msg, sizeof msg);
    CHECK(rs == NULL);
    if (!strstr(msg, "rule 'B': '2x0' is not a valid number"))
        test_fail(__FILE__, __LINE__, "%s", msg);
    ruleset_free(rs);
}

/* Thousands of lists, macros and rules, each redefined, appended to or
 * overridden by name: the last definition of each wins, in place. */
TEST(rules_load_many_items_by_name)
{
    enum { N = 3000 };
    buf t = BUF_INIT;
    for (int i = 0; i < N; i++) {
        buf_printf(&t, "- list: l%d\n  items: [v%d]\n", i, i);
        buf_printf(&t, "- macro: m%d\n  condition: ka.verb in (l%d)\n", i, i);
        buf_printf(&t, RULE("r%d", "m%d and ka.target.resource = pods"), i, i);
    }
    for (int i = 0; i < N; i += 7) {
        buf_printf(&t, "- list: l%d\n  items: [w%d]\n  override:\n    items: append\n", i, i);
        buf_printf(&t, "- rule: r%d\n  condition: and ka.target.name = n%d\n  override:\n    condition: append\n", i, i);
    }
    char msg[1024];
    ruleset *rs = load(buf_cstr(&t), msg, sizeof msg);
    buf_free(&t);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK(rs->nrules == N);
    for (int i = 0; i < N; i += 7) {
        char name[16];
        snprintf(name, sizeof name, "r%d", i);
        CHECK_STR(rs->rules[i].info.name, name);
        /* (m and resource) and name: the macro's set holds both items
         * (operands in any order: the cheap-first order may move them) */
        const cnode *c = rs->rules[i].cond;
        CHECK(c->kind == CN_AND && c->n == 3);
        bool set2 = false, named = false;
        for (size_t k = 0; c->kind == CN_AND && k < c->n; k++) {
            const cnode *x = c->kids[k];
            set2 |= x->kind == CN_CHECK && x->set && x->set->n == 2;
            named |= x->kind == CN_CHECK && x->str.s && x->str.s[0] == 'n';
        }
        CHECK(set2 && named);
    }
    ruleset_free(rs);
}

/* Items are loaded as the parser reaches them, but a YAML error later in
 * the file is still the file's only message (no earlier item's error or
 * warning), as when the whole file was parsed first. */
TEST(rules_load_yaml_error_after_items_is_the_only_message)
{
    char msg[1024];
    ruleset *rs = load("- list: l\n  items: [a]\n  bogus: 1\n" /* a warning */
                       "- rule: R\n  desc: d\n" /* an error: no condition */
                       "- list: m\n  items: [a, b\n",
                       msg, sizeof msg);
    CHECK(rs == NULL);
    CHECK(strstr(msg, "LOAD_ERR_YAML_PARSE") != NULL);
    CHECK(strstr(msg, "LOAD_UNKNOWN_KEY") == NULL);
    CHECK(strstr(msg, "rule 'R'") == NULL);
    /* without the YAML error, the item's error stops loading */
    rs = load("- list: l\n  items: [a]\n  bogus: 1\n- rule: R\n  desc: d\n- list: m\n  items: [a, b]\n", msg,
              sizeof msg);
    CHECK(rs == NULL);
    CHECK(strstr(msg, "LOAD_UNKNOWN_KEY") != NULL);
    CHECK(strstr(msg, "rule 'R': Item has no mapping for key 'condition'") != NULL);
    /* a document that is not a sequence, after one that is */
    rs = load("- list: l\n  items: [a]\n---\nfoo: 1\n", msg, sizeof msg);
    CHECK(rs == NULL);
    CHECK(strstr(msg, "t.yaml:4:1: error (LOAD_ERR_YAML_VALIDATE): Rules content is not yaml array of objects") !=
          NULL);
}

/* An alias may name an anchor of an earlier item: items holding anchors
 * are kept while their document is read. */
TEST(rules_load_alias_to_earlier_item)
{
    char msg[1024];
    ruleset *rs = load("- list: l\n  items: &verbs [create, update]\n- list: other\n  items: [x]\n"
                       "- list: m\n  items: *verbs\n" RULE("A", "ka.verb in (m)"),
                       msg, sizeof msg);
    CHECK(rs != NULL);
    if (rs) {
        CHECK(rs->rules[0].cond->set && rs->rules[0].cond->set->n == 2);
        ruleset_free(rs);
    }
}

/* Rules generated from templates repeat outputs and tags: each is
 * compiled or copied once and shared, and renders as before. */
TEST(rules_load_repeated_output_and_tags_shared)
{
    char msg[1024];
    ruleset *rs = load("- rule: A\n  desc: d\n  output: user %ka.user.name did %ka.verb\n  priority: NOTICE\n"
                       "  source: k8s_audit\n  condition: ka.verb = get\n  tags: [k8s, x]\n"
                       "- rule: B\n  desc: d\n  output: user %ka.user.name did %ka.verb\n  priority: NOTICE\n"
                       "  source: k8s_audit\n  condition: ka.verb = list\n  tags: [x, k8s]\n"
                       "- rule: C\n  desc: d\n  output: user %ka.user.name did %ka.verb!\n  priority: NOTICE\n"
                       "  source: k8s_audit\n  condition: ka.verb = list\n  tags: [y]\n",
                       msg, sizeof msg);
    CHECK(rs != NULL);
    if (!rs)
        return;
    CHECK(rs->rules[0].out.segs == rs->rules[1].out.segs && rs->rules[0].out.n == 4);
    CHECK(rs->rules[0].info.output == rs->rules[1].info.output);
    CHECK_STR(rs->rules[1].info.output, "user %ka.user.name did %ka.verb");
    CHECK(rs->rules[2].out.segs != rs->rules[0].out.segs && rs->rules[2].out.n == 5);
    CHECK_STR(rs->rules[0].info.tags[0], "k8s");
    CHECK(rs->rules[0].info.tags[0] == rs->rules[1].info.tags[0]);
    CHECK(rs->rules[0].info.tags[1] == rs->rules[1].info.tags[1]);
    ruleset_free(rs);
}
