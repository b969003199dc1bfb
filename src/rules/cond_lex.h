/*
 * cond_lex — the token recognizers of the condition language, on a
 * NUL-terminated text (a char-class table plus one matcher per token kind
 * of docs/compat/rules.md §6.1).  Each lex_* function tries to match at *pp; on a
 * match it advances *pp past the token and returns its length, else 0 and
 * *pp is unchanged.  Matching is longest-match, like the POSIX regexes
 * upstream uses.
 */
#ifndef PEREGRINE_COND_LEX_H
#define PEREGRINE_COND_LEX_H

#include <stddef.h>

enum {
    CC_BLANK = 1,    /* ' ' \t \b \r \n: skipped between tokens */
    CC_SPACE = 2,    /* [:space:]: ' ' \t \n \v \f \r */
    CC_ALPHA = 4,
    CC_DIGIT = 8,
    CC_IDENT = 16,   /* [a-zA-Z0-9_] */
    CC_BAREEND = 32, /* ends a bare string: ( ) " ' = , and [:space:] */
    CC_ARGEND = 64,  /* ends a bare field argument: [ ] " ' and [:space:] */
};

extern const unsigned char cond_cc[256];
#define CC(c, cls) (cond_cc[(unsigned char)(c)] & (cls))

size_t lex_blank(const char **pp);
size_t lex_identifier(const char **pp);   /* [a-zA-Z][a-zA-Z0-9_]* */
size_t lex_field_name(const char **pp);   /* identifier (. identifier)+ */
size_t lex_bare_str(const char **pp);     /* [^()"'[:space:]=,]+ */
size_t lex_field_arg_bare(const char **pp); /* [^][\"'[:space:]]+ */
size_t lex_number(const char **pp);       /* [+-]?[0-9]+\.?[0-9]*([eE][+-][0-9]+)? */
size_t lex_hex(const char **pp);          /* 0[xX][0-9a-zA-Z]+ */
/* "..." or '...': ends at the first delimiter not preceded by a backslash.
 * Returns the raw length including the quotes. */
size_t lex_quoted(const char **pp);
/* Literal prefix match. */
size_t lex_str(const char **pp, const char *word);

/* Unescape a quoted token (quotes included) into out (room for len bytes).
 * Returns the decoded length, or -1 with the offending escape in *bad. */
long cond_unescape(const char *raw, size_t len, char *out, char *bad);

#endif
