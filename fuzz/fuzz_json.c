/*
 * fuzz_json — bytes → json_parse, then everything json_access offers on
 * the result.  Checks, beyond "no crash": the AVX2 and the portable
 * scanners build the same node array; compact re-serialization has the
 * length json_compact_len predicts and parses again to the same shape;
 * decoded strings are never longer than their escaped form.
 */
#include "fuzz_common.h"

#include <errno.h>

void json_parse_force_portable(int on); /* test hook in json_parse.c */

static void walk(const json_doc *d, buf *tmp)
{
    for (uint32_t i = 0; i < d->count; i++) {
        const json_node *n = json_at(d, i);
        if (n->next <= i || n->next > d->count)
            abort();
        if (n->type == JSON_STRING) {
            char *out = malloc(n->len + 1);
            if (!out)
                abort();
            size_t k = json_unescape(d->src + n->start, n->len, out);
            if (k > n->len)
                abort();
            (void)json_string_eq(d, i, out, k);
            free(out);
        } else if (n->type == JSON_OBJECT) {
            size_t len = json_length(d, i);
            if (len) {
                uint32_t key = json_first(d, i);
                const json_node *kn = json_at(d, key);
                char *name = malloc(kn->len + 1);
                if (!name)
                    abort();
                size_t k = json_unescape(d->src + kn->start, kn->len, name);
                if (json_get(d, i, name, k) == JSON_NONE)
                    abort(); /* the first key must be found */
                free(name);
            }
            (void)json_get(d, i, "kind", 4);
        } else if (n->type == JSON_ARRAY) {
            size_t len = json_length(d, i);
            if (len && json_index(d, i, len - 1) == JSON_NONE)
                abort();
            if (json_index(d, i, len) != JSON_NONE)
                abort();
        }
    }
    buf_clear(tmp);
    json_compact(d, 0, tmp);
    if (!tmp->oom && tmp->len != json_compact_len(d, 0))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static json_doc d, d2;
    static int init;
    if (!init) {
        json_doc_init(&d);
        json_doc_init(&d2);
        init = 1;
    }
    const char *src = (const char *)data;
    json_parse_force_portable(0);
    int rc = json_parse(&d, src, size);
    json_parse_force_portable(1);
    int rc2 = json_parse(&d2, src, size);
    json_parse_force_portable(0);
    if (rc != rc2 || (rc == 0 && (d.count != d2.count || memcmp(d.nodes, d2.nodes, d.count * sizeof *d.nodes))))
        abort(); /* the two scanners disagree */
    if (rc == -EINVAL && (d.err[0] == 0 || d.err_pos > size))
        abort();
    if (rc)
        return 0;
    buf compact = BUF_INIT, ind = BUF_INIT;
    walk(&d, &compact);
    if (!compact.oom) {
        /* the compact form is valid JSON with the same node count */
        char *copy = fz_cstr((const uint8_t *)compact.data, compact.len);
        if (json_parse(&d2, copy, compact.len) != 0 || d2.count != d.count)
            abort();
        json_indent(copy, compact.len, &ind);
        if (!ind.oom && json_parse(&d2, ind.data, ind.len) != 0)
            abort();
        free(copy);
    }
    buf out = BUF_INIT;
    json_write_string(&out, src, size);
    if (!out.oom && json_parse(&d2, out.data, out.len) != 0)
        abort(); /* the string writer always produces valid JSON */
    buf_free(&out);
    buf_free(&ind);
    buf_free(&compact);
    return 0;
}
