/*
 * load_result — errors and warnings of loading rules, with their place
 * (ruleset.h).
 */
#include "rules/collection.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void load_msg_add(load_result *r, bool error, const where *at, const char *code, const char *item,
                  const char *fmt, ...)
{
    /* Grow while one slot is still free, so that when memory runs out the
     * message saying so still fits; only when not even the first array
     * could be allocated is a message counted but not kept (the printer
     * then says so). */
    if (r->n + 1 >= r->cap) {
        size_t cap = r->cap ? r->cap * 2 : 16;
        load_msg *m = pg_realloc(r->msgs, cap * sizeof *m);
        if (m) {
            r->msgs = m;
            r->cap = cap;
        } else if (r->n == r->cap) {
            if (error)
                r->errors++;
            else
                r->warnings++;
            return;
        }
    }
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    load_msg *m = &r->msgs[r->n++];
    m->error = error;
    m->file = at && at->file ? pg_strdup(at->file) : NULL;
    m->line = at ? at->line : 0;
    m->col = at ? at->col : 0;
    m->code = code;
    m->item = item ? pg_strdup(item) : NULL;
    m->text = pg_strdup(text);
    if (error)
        r->errors++;
    else
        r->warnings++;
}

void load_result_truncate(load_result *r, size_t n, size_t errors, size_t warnings)
{
    while (r->n > n) {
        load_msg *m = &r->msgs[--r->n];
        pg_free(m->file);
        pg_free(m->item);
        pg_free(m->text);
    }
    r->errors = errors;
    r->warnings = warnings;
}

void load_result_free(load_result *r)
{
    for (size_t i = 0; i < r->n; i++) {
        pg_free(r->msgs[i].file);
        pg_free(r->msgs[i].item);
        pg_free(r->msgs[i].text);
    }
    pg_free(r->msgs);
    *r = (load_result){0};
}

void load_result_print(const load_result *r, buf *out)
{
    for (int pass = 0; pass < 2; pass++) {
        for (size_t i = 0; i < r->n; i++) {
            const load_msg *m = &r->msgs[i];
            if (m->error != (pass == 0))
                continue;
            if (m->file)
                buf_printf(out, "%s:%d:%d: ", m->file, m->line, m->col);
            buf_printf(out, "%s (%s): ", m->error ? "error" : "warning", m->code);
            if (m->item)
                buf_printf(out, "%s: ", m->item);
            buf_printf(out, "%s\n", m->text ? m->text : "out of memory");
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < r->n; i++)
        kept += r->msgs[i].error;
    if (r->errors > kept)
        buf_printf(out, "error: out of memory (%zu message(s) lost)\n", r->errors - kept);
}
