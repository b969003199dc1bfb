/*
 * cond_parse — condition text → AST, following libsinsp's filter grammar
 * (docs/compat/rules.md §6) including its quirks: keywords matched as prefixes,
 * bare strings ending at '=' and ',', quoted strings ending at the first
 * unescaped quote.
 */
#ifndef PEREGRINE_COND_PARSE_H
#define PEREGRINE_COND_PARSE_H

#include "rules/ast.h"
#include "util/arena.h"

typedef struct cond_error {
    size_t pos;             /* byte offset of the error in the text */
    char msg[256];
} cond_error;

#define COND_MAX_DEPTH 1000 /* Falco's limit for rule conditions */

/* Parse NUL-terminated `text`.  Returns the AST (in `a`) or NULL with err set. */
ast *cond_parse(const char *text, arena *a, unsigned max_depth, cond_error *err);

#endif
