/*
 * The fast path's load-time pieces against their contracts:
 *  - regex_literal: a table of patterns, the literal each yields, and
 *    strings PCRE2 matches — every one must contain the literal;
 *  - cost_reorder: random trees, reordered, give the verdict of the
 *    written order for every assignment of outcomes to their checks;
 *  - anchor_choose: whenever a random tree is true, each set of its
 *    anchor has a true check.
 */
#include "test.h"

#include "rules/anchor.h"
#include "rules/compiled.h"
#include "rules/cost.h"
#include "rules/regex_literal.h"
#include "util/arena.h"

#include <string.h>

static const struct {
    const char *re;
    const char *lit;    /* NULL: none */
    const char *match[3];
} literal_cases[] = {
    {"kubectl/v1[.](18|19|2[0-5])[.][0-9]+ .*", "kubectl/v1.", {"kubectl/v1.19.3 linux", "kubectl/v1.25.0 x"}},
    {"wren-147-ml-serving-[b-z2-9]{9,10}-[b-z2-9]{5}", "wren-147-ml-serving-", {"wren-147-ml-serving-bcdfghjkl-bcdfg"}},
    {"system:serviceaccount:(a-dev|b-dev):[a-z0-9-]+", "system:serviceaccount:", {"system:serviceaccount:a-dev:x"}},
    {"sh[.]helm[.]release[.]v1[.]x[.]v[0-9]+", "sh.helm.release.v1.x.v", {"sh.helm.release.v1.x.v12"}},
    {"abc?def", "def", {"abdef", "abcdef"}},
    {"abcd*ef", "abc", {"abcef", "abcddddef"}},
    {"xy+zzz", "zzz", {"xyzzz", "xyyyyzzz"}},      /* "xy" is shorter than "zzz" */
    {"abcx{0,3}defg", "defg", {"abcdefg", "abcxxxdefg"}},
    {"ab{2}cdef", "cdef", {"abbcdef"}},
    {"a\\.b\\.c", "a.b.c", {"a.b.c"}},
    {"^/api/v1/nodes/[^/]+/proxy", "/api/v1/nodes/", {"/api/v1/nodes/n1/proxy"}},
    {"foo|barbaz", NULL, {"foo"}},                  /* top-level alternation */
    {"(?i)secret", NULL, {"SECRET"}},               /* options */
    {"\\Qa.b\\E", NULL, {"a.b"}},
    {"[[:alpha:]]+xyz", NULL, {"abcxyz"}},
    {"ab", NULL, {"ab"}},                           /* too short */
    {"(abc)+defg", "defg", {"abcabcdefg"}},
    {"(?:abc|xyz)defg", "defg", {"xyzdefg"}},
    {".*[.]kube-system[.]svc", ".kube-system.svc", {"a.kube-system.svc"}},
    {"\\d+-release-\\w+", "-release-", {"12-release-x"}},
};

TEST(regex_literal_table)
{
    for (size_t i = 0; i < sizeof literal_cases / sizeof *literal_cases; i++) {
        char out[REGEX_LITERAL_MAX];
        const char *re = literal_cases[i].re;
        size_t n = regex_literal(re, strlen(re), out, sizeof out);
        const char *want = literal_cases[i].lit;
        if (!want) {
            if (n)
                test_fail(__FILE__, __LINE__, "%s: literal '%.*s', expected none", re, (int)n, out);
            continue;
        }
        if (n != strlen(want) || memcmp(out, want, n))
            test_fail(__FILE__, __LINE__, "%s: literal '%.*s', expected '%s'", re, (int)n, out, want);
        /* the contract itself: every match contains it */
        int ec;
        PCRE2_SIZE eo;
        pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, strlen(re), PCRE2_ANCHORED | PCRE2_ENDANCHORED | PCRE2_UTF,
                                         &ec, &eo, NULL);
        CHECK(code != NULL);
        pcre2_match_data *md = code ? pcre2_match_data_create_from_pattern(code, NULL) : NULL;
        for (int k = 0; code && md && k < 3 && literal_cases[i].match[k]; k++) {
            const char *s = literal_cases[i].match[k];
            if (pcre2_match(code, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL) < 0)
                test_fail(__FILE__, __LINE__, "%s: the table's sample '%s' does not match", re, s);
            else if (!memmem(s, strlen(s), out, n))
                test_fail(__FILE__, __LINE__, "%s: match '%s' lacks the literal '%.*s'", re, s, (int)n, out);
        }
        pcre2_match_data_free(md);
        pcre2_code_free(code);
    }
}

/* ---- random trees over a few checks ---- */

#define NCHECKS 6

static uint64_t rng = 0x2545f4914f6cdd1du;
static unsigned rnd(unsigned n)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (unsigned)(rng % n);
}

static cexpr field_exprs[3];
static const char *const ops_lits[] = {"a", "bbbb", "cccccccccccc"};

static cnode *random_tree(arena *a, int depth)
{
    cnode *n = arena_alloc(a, sizeof *n);
    memset(n, 0, sizeof *n);
    unsigned pick = depth <= 0 ? 3 + rnd(6) : rnd(10);
    if (pick < 3) {
        n->kind = pick == 0 ? CN_AND : pick == 1 ? CN_OR : CN_NOT;
        n->n = pick == 2 ? 1 : 1 + rnd(4);
        n->kids = arena_alloc(a, n->n * sizeof *n->kids);
        for (size_t i = 0; i < n->n; i++)
            n->kids[i] = random_tree(a, depth - 1);
        return n;
    }
    if (pick == 3 && rnd(4) == 0) {
        n->kind = rnd(2) ? CN_TRUE : CN_FALSE;
        return n;
    }
    /* a check: its number decides its outcome in an assignment */
    static const cmp_op ops[] = {OP_EQ, OP_CONTAINS, OP_STARTSWITH, OP_NE, OP_EXISTS, OP_ICONTAINS};
    n->kind = CN_CHECK;
    n->memo = rnd(NCHECKS);
    n->op = ops[n->memo % 6];
    n->lhs = &field_exprs[n->memo % 3];
    n->str = (fval){ops_lits[n->memo % 3], strlen(ops_lits[n->memo % 3])};
    return n;
}

static bool tree_eval(const cnode *n, unsigned outcomes)
{
    switch (n->kind) {
    case CN_CHECK: return (outcomes >> n->memo) & 1;
    case CN_AND:
        for (size_t i = 0; i < n->n; i++)
            if (!tree_eval(n->kids[i], outcomes))
                return false;
        return true;
    case CN_OR:
        for (size_t i = 0; i < n->n; i++)
            if (tree_eval(n->kids[i], outcomes))
                return true;
        return false;
    case CN_NOT: return !tree_eval(n->kids[0], outcomes);
    case CN_TRUE: return true;
    case CN_FALSE: return false;
    }
    return false;
}

static void setup_fields(void)
{
    static const char *const names[3] = {"ka.verb", "ka.user.name", "ka.uri"};
    for (int i = 0; i < 3; i++) {
        field_exprs[i] = (cexpr){.tf = TF_NONE, .text = names[i]};
        for (int f = 0; f < FIELD__COUNT; f++)
            if (!strcmp(field_table[f].name, names[i]))
                field_exprs[i].ref.def = &field_table[f];
        field_exprs[i].ref.index = -1;
        field_exprs[i].slot = (uint32_t)i;
    }
}

TEST(cost_reorder_keeps_every_verdict)
{
    setup_fields();
    arena a;
    arena_init(&a, 1 << 16);
    uint32_t uses[NCHECKS] = {1, 9, 1, 3, 1, 1};
    for (int t = 0; t < 3000; t++) {
        arena_reset(&a);
        cnode *tree = random_tree(&a, 1 + rnd(5));
        bool before[1u << NCHECKS];
        for (unsigned o = 0; o < 1u << NCHECKS; o++)
            before[o] = tree_eval(tree, o);
        cost_reorder(tree, true, t % 2 ? uses : NULL);
        for (unsigned o = 0; o < 1u << NCHECKS; o++)
            if (tree_eval(tree, o) != before[o]) {
                test_fail(__FILE__, __LINE__, "tree %d, outcomes %#x: verdict changed by reordering", t, o);
                arena_free(&a);
                return;
            }
    }
    arena_free(&a);
}

TEST(anchor_fires_whenever_the_condition_is_true)
{
    setup_fields();
    arena a, scratch;
    arena_init(&a, 1 << 16);
    arena_init(&scratch, 1 << 16);
    size_t anchored = 0;
    for (int t = 0; t < 3000; t++) {
        arena_reset(&a);
        arena_reset(&scratch);
        cnode *tree = random_tree(&a, 1 + rnd(5));
        anchor_ctx cx = {.scratch = &scratch};
        anchor_plan plan = anchor_choose(tree, &cx);
        if (!plan.nsets)
            continue;
        anchored++;
        for (int k = 0; k < plan.nsets; k++) {
            const anchor_set *s = &plan.set[k];
            unsigned mask = 0;
            for (size_t i = 0; i < s->n; i++) {
                CHECK(anchor_usable(s->checks[i]));
                mask |= 1u << s->checks[i]->memo;
            }
            for (unsigned o = 0; o < 1u << NCHECKS; o++)
                if (tree_eval(tree, o) && !(o & mask)) {
                    test_fail(__FILE__, __LINE__, "tree %d, outcomes %#x: true, but set %d did not fire", t, o, k);
                    goto out;
                }
        }
    }
    CHECK(anchored > 300); /* the property was exercised */
out:
    arena_free(&a);
    arena_free(&scratch);
}
