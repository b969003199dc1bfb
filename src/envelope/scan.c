/*
 * scan — byte-level scans of envelope text (see envelope_internal.h and
 * envelope.h): where a JSON value ends when several follow one another,
 * and the timestamp that prefixes CloudWatch export lines.
 */
#include "envelope/envelope_internal.h"

#include <ctype.h>

/* Where the JSON value starting at p[0] ('{' or '[') ends, or 0 when it
 * does not within n bytes. */
size_t env_value_end(const char *p, size_t n)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
            continue;
        }
        if (c == '"')
            in_str = true;
        else if (c == '{' || c == '[')
            depth++;
        else if ((c == '}' || c == ']') && --depth == 0)
            return i + 1;
    }
    return 0;
}

bool envelope_export_prefix(const char *p, size_t n, size_t *skip)
{
    /* 2026-01-01T00:00:01.234Z {  (the time token ends at the space) */
    if (n < 21 || !isdigit((unsigned char)p[0]) || !isdigit((unsigned char)p[3]) || p[4] != '-' || p[7] != '-' ||
        p[10] != 'T')
        return false;
    size_t i = 11;
    while (i < n && i < 64 && p[i] != ' ')
        i++;
    if (i >= n || i >= 64)
        return false;
    while (i < n && p[i] == ' ')
        i++;
    if (i >= n || p[i] != '{')
        return false;
    *skip = i;
    return true;
}
