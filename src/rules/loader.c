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
    char yerr[512];
    ytree *t = ytree_load(text, len, yerr, sizeof yerr);
    item_ctx x = {.res = res, .file = file};
    if (!t) {
        int line = 0, col = 0;
        sscanf(yerr, "%d:%d", &line, &col);
        where w = {file, line, col};
        const char *msg = strchr(yerr, ' ');
        load_msg_add(res, true, &w, "LOAD_ERR_YAML_PARSE", NULL, "%s", msg && line ? msg + 1 : yerr);
        return -1;
    }
    int rc = 0;
    for (size_t d = 0; d < t->ndocs && !rc; d++) {
        const ynode *doc = t->docs[d];
        if (doc->kind == Y_NULL)
            continue;
        if (doc->kind != Y_SEQ) {
            where w = {file, doc->line, doc->col};
            load_msg_add(res, true, &w, "LOAD_ERR_YAML_VALIDATE", NULL, "Rules content is not yaml array of objects");
            rc = -1;
            break;
        }
        for (size_t i = 0; i < doc->n && !rc; i++) {
            const ynode *item = doc->items[i];
            if (item->kind == Y_NULL)
                continue;
            x.item = item;
            x.label[0] = 0;
            if (item->kind != Y_MAP) {
                where w = {file, item->line, item->col};
                load_msg_add(res, true, &w, "LOAD_ERR_YAML_VALIDATE", NULL,
                             "Unexpected element type. Each element should be a yaml associative array.");
                rc = -1;
                break;
            }
            /* classified by the first of these keys the item contains */
            if (ymap_get(item, "required_engine_version"))
                rc = load_engine_version(l, &x);
            else if (ymap_get(item, "required_plugin_versions"))
                rc = load_plugin_versions(&x);
            else if (ymap_get(item, "list"))
                rc = load_list(l, &x);
            else if (ymap_get(item, "macro"))
                rc = load_macro(l, &x);
            else if (ymap_get(item, "rule") || ymap_get(item, "correlation"))
                rc = load_rule(l, &x);
            else
                item_warn(&x, item, "LOAD_UNKNOWN_ITEM", "Unknown top level item");
        }
    }
    ytree_free(t);
    return rc;
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
