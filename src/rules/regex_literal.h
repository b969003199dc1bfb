/*
 * regex_literal — a literal that every match of a regex contains
 * (regex_literal.c).  Private to rules/; used by the prefilter.
 */
#ifndef PEREGRINE_REGEX_LITERAL_H
#define PEREGRINE_REGEX_LITERAL_H

#include <stdbool.h>
#include <stddef.h>

#define REGEX_LITERAL_MIN 3
#define REGEX_LITERAL_MAX 256

/* The longest run of characters any match of pat must contain, written
 * to out (cap bytes, not NUL-terminated).  Returns its length, or 0 when
 * none of at least REGEX_LITERAL_MIN bytes is known. */
size_t regex_literal(const char *pat, size_t len, char *out, size_t cap);

#endif
