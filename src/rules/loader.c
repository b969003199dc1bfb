/*
 * loader — rules files (YAML) into the shared collection
 * (docs/compat/rules.md §1-§4): each document's items classified and
 * handed to their loader (load_*.c), then compiled (collection_compile).
 */
#include "rules/load_item.h"
#include "util/alloc.h"
#include "util/buf.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* What the items of one file are loaded with. */
typedef struct file_ctx {
    rule_loader *l;
    item_ctx x;
} file_ctx;

/* One top-level item (ytree_each_item), or a document that is not a
 * sequence (item NULL).  0 or -1. */
static int load_item(void *ctx, const ynode *doc, const ynode *item)
{
    file_ctx *f = ctx;
    item_ctx *x = &f->x;
    if (!item) {
        if (doc->kind == Y_NULL)
            return 0;
        where w = {x->file, doc->line, doc->col};
        load_msg_add(x->res, true, &w, "LOAD_ERR_YAML_VALIDATE", NULL, "Rules content is not yaml array of objects");
        return -1;
    }
    if (item->kind == Y_NULL)
        return 0;
    x->item = item;
    x->label[0] = 0;
    if (item->kind != Y_MAP) {
        where w = {x->file, item->line, item->col};
        load_msg_add(x->res, true, &w, "LOAD_ERR_YAML_VALIDATE",
                     NULL, "Unexpected element type. Each element should be a yaml associative array.");
        return -1;
    }
    /* classified by the first of these keys the item contains */
    if (ymap_get(item, "required_engine_version"))
        return load_engine_version(f->l, x);
    if (ymap_get(item, "required_plugin_versions"))
        return load_plugin_versions(x);
    if (ymap_get(item, "list"))
        return load_list(f->l, x);
    if (ymap_get(item, "macro"))
        return load_macro(f->l, x);
    if (ymap_get(item, "rule") || ymap_get(item, "correlation"))
        return load_rule(f->l, x);
    item_warn(x, item, "LOAD_UNKNOWN_ITEM", "Unknown top level item");
    return 0;
}

/* ytree_each_item's callback: 1 when the item failed (its message
 * given), so that it is told from the parser's own -1. */
static int load_one(void *ctx, const ynode *doc, const ynode *item) { return load_item(ctx, doc, item) ? 1 : 0; }

int loader_add_text(rule_loader *l, const char *path, const char *text, size_t len, load_result *res)
{
    collection *c = &l->coll;
    char **files = pg_realloc(c->files, (c->nfiles + 1) * sizeof *files);
    char *file = files ? pg_strdup(path) : NULL;
    if (files)
        c->files = files;
    if (!file) {
        where w = {(char *)path, 0, 0};
        load_msg_add(res, true, &w, "LOAD_ERR_FILE_READ", NULL, "out of memory");
        return -1;
    }
    c->files[c->nfiles++] = file;
    /* Items are loaded as the parser reaches them (a whole file's tree
     * would be several times its size), but a YAML error anywhere in the
     * file is the file's only message, as if nothing had been loaded: the
     * items' messages are taken back.  (The collection keeps what they
     * added; loading stops at the file's error anyway.) */
    size_t mark = res->n, errors = res->errors, warnings = res->warnings;
    file_ctx f = {.l = l, .x = {.res = res, .file = file}};
    char yerr[512];
    int rc = ytree_each_item(text, len, load_one, &f, yerr, sizeof yerr);
    if (rc >= 0)
        return rc ? -1 : 0;
    load_result_truncate(res, mark, errors, warnings);
    int line = 0, col = 0;
    sscanf(yerr, "%d:%d", &line, &col);
    where w = {file, line, col};
    const char *msg = strchr(yerr, ' ');
    load_msg_add(res, true, &w, "LOAD_ERR_YAML_PARSE", NULL, "%s", msg && line ? msg + 1 : yerr);
    return -1;
}

int loader_add_file(rule_loader *l, const char *path, load_result *res)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        where w = {(char *)path, 0, 0};
        load_msg_add(res, true, &w, "LOAD_ERR_FILE_READ", NULL, "Could not open file: %s", strerror(errno));
        return -1;
    }
    buf b = BUF_INIT;
    /* room for the whole file at once (doubling would hold up to twice it) */
    struct stat st;
    if (!fstat(fileno(f), &st) && st.st_size > 0)
        buf_reserve(&b, (size_t)st.st_size + 1);
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_put(&b, chunk, n);
    int ioerr = ferror(f);
    fclose(f);
    if (ioerr || b.oom) {
        where w = {(char *)path, 0, 0};
        load_msg_add(res, true, &w, "LOAD_ERR_FILE_READ", NULL, "Could not read file");
        buf_free(&b);
        return -1;
    }
    int rc = loader_add_text(l, path, b.data ? b.data : "", b.len, res);
    buf_free(&b);
    return rc;
}

rule_loader *loader_new(const loader_opts *opts)
{
    rule_loader *l = pg_calloc(1, sizeof *l);
    if (l)
        l->opts = *opts;
    return l;
}

ruleset *loader_compile(rule_loader *l, load_result *res)
{
    return collection_compile(&l->coll, &l->opts, res);
}

void loader_free(rule_loader *l)
{
    if (!l)
        return;
    collection_free(&l->coll);
    pg_free(l);
}
