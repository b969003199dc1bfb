/*
 * strvec — a growable vector of owned C strings (rules paths, tags, list
 * items, configuration lists).
 *
 * Ownership: the vector owns its strings (copies made by strvec_push) and
 * its array; strvec_free releases both and leaves an empty vector.  A
 * zeroed strvec is empty and valid.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_STRVEC_H
#define PEREGRINE_STRVEC_H

#include <stddef.h>

typedef struct strvec {
    char **v;
    size_t n, cap;
} strvec;

/* Append a copy of str.  0, or -ENOMEM (the vector unchanged). */
int strvec_push(strvec *s, const char *str);
void strvec_free(strvec *s);

#endif
