/*
 * error — the one error contract of every module; headers cite it.
 *
 *  - A function that can fail returns an int: 0 (or a count, when it
 *    produces one) on success, negative on failure.  A function of a
 *    module's interface returns a negative errno (-ENOMEM, -EINVAL for bad
 *    input, -ENOENT, -EIO, or the errno of the failed system call), so the
 *    caller can tell running out of memory from bad input.  A helper whose
 *    caller only needs "it failed, the message is recorded" (the rules
 *    loader's items, recording into a load_result) may return -1.
 *    Callers test `< 0` or non-zero, never a particular negative value
 *    unless the header promises it.
 *  - A function that takes `char *err, size_t errlen` writes a message
 *    into err on every failure path, out-of-memory included, with the
 *    context a user needs: file:line:col for rules, file:line or the
 *    request for input, the key for configuration.  Callers may print err
 *    whenever the result is negative, and only then.
 *  - A lookup that may find nothing returns a pointer (NULL: absent) or a
 *    documented non-negative code; "absent" is not an error.
 *  - Constructors return the object, or NULL (out of memory, or a message
 *    in err when they take one).
 *  - Library code never exits and never prints an error it returns;
 *    counting and reporting bad input (a malformed line) is not a failure
 *    of the call.
 */
#ifndef PEREGRINE_ERROR_H
#define PEREGRINE_ERROR_H

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

/* Write a message into err (when errlen > 0) and return -code, for
 * `return pg_fail(err, errlen, EINVAL, "%s: unknown key", key);`. */
__attribute__((format(printf, 4, 5))) static inline int pg_fail(char *err, size_t errlen, int code,
                                                               const char *fmt, ...)
{
    if (err && errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, errlen, fmt, ap);
        va_end(ap);
    }
    return -code;
}

#endif
