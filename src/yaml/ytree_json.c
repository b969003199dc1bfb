/*
 * ytree_json — a YAML node as JSON text (see ytree.h, ynode_to_json).
 */
#include "json/json.h"
#include "util/buf.h"
#include "yaml/ytree.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* -?digits[.digits][e[+-]digits], as JSON spells numbers (a leading '+'
 * or a leading zero is not a JSON number, so it stays a string). */
static bool json_number_text(const char *s, size_t n)
{
    size_t i = 0;
    if (i < n && s[i] == '-')
        i++;
    if (i >= n || !isdigit((unsigned char)s[i]))
        return false;
    if (s[i] == '0' && i + 1 < n && isdigit((unsigned char)s[i + 1]))
        return false;
    while (i < n && isdigit((unsigned char)s[i]))
        i++;
    if (i < n && s[i] == '.') {
        i++;
        if (i >= n || !isdigit((unsigned char)s[i]))
            return false;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        if (i >= n || !isdigit((unsigned char)s[i]))
            return false;
        while (i < n && isdigit((unsigned char)s[i]))
            i++;
    }
    return i == n;
}

static void scalar(const ynode *n, buf *out)
{
    if (!n->quoted) {
        if (n->len == 0 || !strcmp(n->str, "~") || !strcasecmp(n->str, "null")) {
            buf_puts(out, "null");
            return;
        }
        bool b;
        if (n->len > 1 && yscalar_bool(n, &b) == 0) {   /* "y"/"n" stay strings, as in PyYAML */
            buf_puts(out, b ? "true" : "false");
            return;
        }
        if (json_number_text(n->str, n->len)) {
            buf_put(out, n->str, n->len);
            return;
        }
    }
    json_write_string(out, n->str, n->len);
}

void ynode_to_json(const ynode *n, buf *out)
{
    switch (n->kind) {
    case Y_NULL:
        buf_puts(out, "null");
        return;
    case Y_SCALAR:
        scalar(n, out);
        return;
    case Y_SEQ:
        buf_putc(out, '[');
        for (size_t i = 0; i < n->n; i++) {
            if (i)
                buf_putc(out, ',');
            ynode_to_json(n->items[i], out);
        }
        buf_putc(out, ']');
        return;
    case Y_MAP:
        buf_putc(out, '{');
        for (size_t i = 0; i + 1 < n->n; i += 2) {
            if (i)
                buf_putc(out, ',');
            const ynode *k = n->items[i];
            if (k->kind == Y_SCALAR)
                json_write_string(out, k->str, k->len);
            else
                json_write_string(out, "", 0);
            buf_putc(out, ':');
            ynode_to_json(n->items[i + 1], out);
        }
        buf_putc(out, '}');
        return;
    }
}
