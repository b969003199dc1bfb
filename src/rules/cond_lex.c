/*
 * cond_lex — token recognizers for conditions (see cond_lex.h).
 */
#include "rules/cond_lex.h"

#include <string.h>

#define B CC_BLANK
#define S CC_SPACE
#define A (CC_ALPHA | CC_IDENT)
#define D (CC_DIGIT | CC_IDENT)
#define E CC_BAREEND
#define G CC_ARGEND

const unsigned char cond_cc[256] = {
    ['\b'] = B, ['\t'] = B | S | E | G, ['\n'] = B | S | E | G, ['\v'] = S | E | G, ['\f'] = S | E | G,
    ['\r'] = B | S | E | G, [' '] = B | S | E | G, ['('] = E, [')'] = E, ['"'] = E | G, ['\''] = E | G,
    ['='] = E, [','] = E, ['['] = G, [']'] = G, ['_'] = CC_IDENT,
    ['0'] = D, ['1'] = D, ['2'] = D, ['3'] = D, ['4'] = D, ['5'] = D, ['6'] = D, ['7'] = D, ['8'] = D, ['9'] = D,
    ['a'] = A, ['b'] = A, ['c'] = A, ['d'] = A, ['e'] = A, ['f'] = A, ['g'] = A, ['h'] = A, ['i'] = A,
    ['j'] = A, ['k'] = A, ['l'] = A, ['m'] = A, ['n'] = A, ['o'] = A, ['p'] = A, ['q'] = A, ['r'] = A,
    ['s'] = A, ['t'] = A, ['u'] = A, ['v'] = A, ['w'] = A, ['x'] = A, ['y'] = A, ['z'] = A,
    ['A'] = A, ['B'] = A, ['C'] = A, ['D'] = A, ['E'] = A, ['F'] = A, ['G'] = A, ['H'] = A, ['I'] = A,
    ['J'] = A, ['K'] = A, ['L'] = A, ['M'] = A, ['N'] = A, ['O'] = A, ['P'] = A, ['Q'] = A, ['R'] = A,
    ['S'] = A, ['T'] = A, ['U'] = A, ['V'] = A, ['W'] = A, ['X'] = A, ['Y'] = A, ['Z'] = A,
};

static size_t advance(const char **pp, const char *end)
{
    size_t n = (size_t)(end - *pp);
    *pp = end;
    return n;
}

size_t lex_blank(const char **pp)
{
    const char *p = *pp;
    while (CC(*p, CC_BLANK))
        p++;
    return advance(pp, p);
}

size_t lex_identifier(const char **pp)
{
    const char *p = *pp;
    if (!CC(*p, CC_ALPHA))
        return 0;
    while (CC(*p, CC_IDENT))
        p++;
    return advance(pp, p);
}

size_t lex_field_name(const char **pp)
{
    const char *p = *pp;
    if (!lex_identifier(&p))
        return 0;
    int segments = 0;
    while (p[0] == '.' && CC(p[1], CC_ALPHA)) {
        p++;
        lex_identifier(&p);
        segments++;
    }
    if (!segments)
        return 0;
    return advance(pp, p);
}

size_t lex_bare_str(const char **pp)
{
    const char *p = *pp;
    while (*p && !CC(*p, CC_BAREEND))
        p++;
    return advance(pp, p);
}

size_t lex_field_arg_bare(const char **pp)
{
    const char *p = *pp;
    while (*p && !CC(*p, CC_ARGEND))
        p++;
    return advance(pp, p);
}

size_t lex_number(const char **pp)
{
    const char *p = *pp;
    if (*p == '+' || *p == '-')
        p++;
    if (!CC(*p, CC_DIGIT))
        return 0;
    while (CC(*p, CC_DIGIT))
        p++;
    if (*p == '.')
        p++;
    while (CC(*p, CC_DIGIT))
        p++;
    if ((*p == 'e' || *p == 'E') && (p[1] == '+' || p[1] == '-') && CC(p[2], CC_DIGIT)) {
        p += 2;
        while (CC(*p, CC_DIGIT))
            p++;
    }
    return advance(pp, p);
}

size_t lex_hex(const char **pp)
{
    const char *p = *pp;
    if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X') || !CC(p[2], CC_ALPHA | CC_DIGIT))
        return 0;
    p += 2;
    while (CC(*p, CC_ALPHA | CC_DIGIT))
        p++;
    return advance(pp, p);
}

size_t lex_quoted(const char **pp)
{
    const char *p = *pp;
    char delim = *p;
    if (delim != '"' && delim != '\'')
        return 0;
    /* upstream quirk (docs/compat/rules.md §6.1): the string ends at the first
     * delimiter not preceded by a backslash, so "a\\" cannot be closed. */
    char prev = '\\';
    for (; *p; p++) {
        if (*p == delim && prev != '\\')
            return advance(pp, p + 1);
        prev = *p;
    }
    return 0;
}

size_t lex_str(const char **pp, const char *word)
{
    size_t n = strlen(word);
    if (strncmp(*pp, word, n) != 0)
        return 0;
    *pp += n;
    return n;
}

long cond_unescape(const char *raw, size_t len, char *out, char *bad)
{
    char delim = raw[0];
    const char *p = raw + 1, *end = raw + len - 1;
    char *o = out;
    while (p < end) {
        if (*p != '\\') {
            *o++ = *p++;
            continue;
        }
        char c = p[1];
        p += 2;
        switch (c) {
        case 'b': *o++ = '\b'; break;
        case 'f': *o++ = '\f'; break;
        case 'n': *o++ = '\n'; break;
        case 'r': *o++ = '\r'; break;
        case 't': *o++ = '\t'; break;
        case '\\': *o++ = '\\'; break;
        case '/': *o++ = '/'; break;
        case ' ': *o++ = '\\'; break; /* upstream compatibility hack: "\ " is one backslash */
        case '"':
        case '\'':
            if (c != delim) {
                *bad = c;
                return -1;
            }
            *o++ = c;
            break;
        default:
            *bad = c;
            return -1;
        }
    }
    return (long)(o - out);
}
