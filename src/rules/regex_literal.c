/*
 * regex_literal — a string every match of a regex contains, so that the
 * prefilter can wait for that literal instead of running the regex on
 * every event (prefilter.h).
 *
 * Conservative by construction: only the top-level sequence of the
 * pattern is read, and only runs of characters that must appear, in
 * order, next to each other:
 *
 *   a  \.  \-  [.]          one known character: extends the run
 *   x+                      x must appear: the run ends after it
 *   x?  x*  x{0,n}  x{,n}   x may be absent: x leaves the run, which ends
 *   x{n}  x{n,}  x{n,m}     (n >= 1) like x+
 *   . \d [a-z] (...) ^ $    anything else ends the run
 *   |  at the top level     no literal (either side may match alone)
 *   (?  \Q  \x \p ...       no literal (options, quoting, escapes not read)
 *
 * The longest run wins.  Runs shorter than REGEX_LITERAL_MIN are no use
 * (they are in most values).  The literal comes out as written, bytes,
 * which is what PCRE2 matches in UTF mode too.
 */
#include "rules/regex_literal.h"

#include <string.h>

static bool is_meta(char c)
{
    return strchr("\\^$.|?*+()[]{}", c) != NULL;
}

/* One escaped character that stands for itself (\. \- \/ ...), or -1. */
static int escaped_literal(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return -1; /* \d \w \x41 \Q ...: not read */
    return (unsigned char)c;
}

/* The quantifier at p (if any): 0 none, 1 "may be absent", 2 "at least once". */
static int quantifier(const char *p, const char *end, const char **after)
{
    *after = p;
    if (p >= end)
        return 0;
    if (*p == '?' || *p == '*') {
        *after = p + 1;
        return 1;
    }
    if (*p == '+') {
        *after = p + 1;
        return 2;
    }
    if (*p == '{') {
        const char *q = p + 1;
        unsigned long n = 0;
        bool digits = false;
        while (q < end && *q >= '0' && *q <= '9') {
            n = n * 10 + (unsigned long)(*q - '0');
            digits = true;
            q++;
            if (n > 100000)
                return 1;
        }
        while (q < end && *q != '}')
            q++;
        if (q >= end)
            return 0; /* "{" not a quantifier: a literal brace in PCRE2 */
        *after = q + 1;
        return digits && n >= 1 ? 2 : 1;
    }
    return 0;
}

size_t regex_literal(const char *pat, size_t len, char *out, size_t cap)
{
    const char *p = pat, *end = pat + len;
    char run[REGEX_LITERAL_MAX];
    size_t nrun = 0, best = 0;
    int depth = 0;
#define END_RUN()                                                                                                    \
    do {                                                                                                             \
        if (nrun > best && nrun <= cap) {                                                                            \
            memcpy(out, run, nrun);                                                                                  \
            best = nrun;                                                                                             \
        }                                                                                                            \
        nrun = 0;                                                                                                    \
    } while (0)
    while (p < end) {
        int ch = -1;
        const char *next = p + 1;
        if (*p == '\\') {
            if (p + 1 >= end)
                return 0;
            if (p[1] == 'Q' || p[1] == 'E')
                return 0;
            ch = escaped_literal(p[1]);
            next = p + 2;
        } else if (*p == '[') {
            /* a class of one character ([.], [-]) stands for it; else skipped */
            const char *q = p + 1;
            if (q < end && *q == '^')
                q++;
            if (q < end && *q == ']')
                q++;
            while (q < end && *q != ']') {
                if (*q == '\\')
                    q++;
                else if (*q == '[' && q + 1 < end && q[1] == ':')
                    return 0; /* POSIX classes: not read */
                q++;
            }
            if (q >= end)
                return 0;
            if (q == p + 2 && p[1] != '^' && p[1] != '\\')
                ch = (unsigned char)p[1];
            next = q + 1;
        } else if (*p == '(') {
            if (p + 1 < end && p[1] == '*')
                return 0; /* (*VERB): not read */
            if (p + 1 < end && p[1] == '?' && depth == 0 && (p + 2 >= end || p[2] != ':'))
                return 0; /* options, lookaround, named groups: not read */
            depth++;
            END_RUN();
            p++;
            continue;
        } else if (*p == ')') {
            if (depth > 0)
                depth--;
            END_RUN();
            /* a group's quantifier applies to the group: skip it */
            const char *after;
            quantifier(p + 1, end, &after);
            p = after > p + 1 ? after : p + 1;
            continue;
        } else if (*p == '|') {
            if (depth == 0)
                return 0;
            END_RUN();
            p++;
            continue;
        } else if (!is_meta(*p)) {
            ch = (unsigned char)*p;
        }
        if (depth > 0) { /* inside a group: nothing is known to be required */
            p = next;
            continue;
        }
        const char *after;
        int q = quantifier(next, end, &after);
        if (ch < 0) {
            END_RUN();
        } else if (q == 1) {
            END_RUN();
        } else {
            if (nrun < sizeof run)
                run[nrun++] = (char)ch;
            if (q == 2)
                END_RUN();
        }
        p = after;
    }
    END_RUN();
#undef END_RUN
    return best >= REGEX_LITERAL_MIN ? best : 0;
}
