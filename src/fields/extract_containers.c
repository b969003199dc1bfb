/*
 * extract_containers — the per-container families of docs/compat/fields.md §2.8
 * (`ka.req.pod.{containers,initContainers,ephemeralContainers}.<sub>`),
 * image repository parsing §2.9, eff_run_as_* §2.10, and the deprecated
 * single-valued `ka.req.container.*` fields.
 *
 * Every list field is W(idx, requestObject, spec, <C>, <sub path>) (§1.7)
 * followed by one of the NIL modes: fail, skip, default, or a per-sub
 * transformation (join for command/args, port selection for host_port).
 */
#include "fields/extract.h"

#include <string.h>

enum family { FAM_NONE, FAM_CONTAINERS, FAM_INIT, FAM_EPHEMERAL };

enum sub {
    S_NONE,
    S_NAME,
    S_IMAGE,
    S_IMAGE_REPO,
    S_COMMAND,
    S_ARGS,
    S_PRIVILEGED,
    S_ALLOW_PRIV_ESC,
    S_READ_ONLY_FS,
    S_RUN_AS_USER,
    S_EFF_RUN_AS_USER,
    S_RUN_AS_GROUP,
    S_EFF_RUN_AS_GROUP,
    S_PROC_MOUNT,
    S_ADD_CAPS,
    S_HOST_PORT,
    S__COUNT
};

enum mode {
    M_FAIL,    /* any NIL → the whole field has no value */
    M_SKIP,    /* NILs dropped */
    M_DEFAULT, /* NIL → pod default (eff_run_as_*) */
    M_JOIN,    /* NIL dropped; value must be an array of strings, joined by ' ' */
    M_PORTS,   /* NIL dropped; value must be an array of ports */
};

static const struct {
    uint8_t nk;
    uint8_t mode;
    fx_key k[3];
} subs[S__COUNT] = {
    [S_NAME] = {1, M_FAIL, {FXK("name")}},
    [S_IMAGE] = {1, M_FAIL, {FXK("image")}},
    [S_IMAGE_REPO] = {1, M_FAIL, {FXK("image")}},
    [S_COMMAND] = {1, M_JOIN, {FXK("command")}},
    [S_ARGS] = {1, M_JOIN, {FXK("args")}},
    [S_PRIVILEGED] = {2, M_SKIP, {FXK("securityContext"), FXK("privileged")}},
    [S_ALLOW_PRIV_ESC] = {2, M_SKIP, {FXK("securityContext"), FXK("allowPrivilegeEscalation")}},
    [S_READ_ONLY_FS] = {2, M_SKIP, {FXK("securityContext"), FXK("readOnlyRootFilesystem")}},
    [S_RUN_AS_USER] = {2, M_SKIP, {FXK("securityContext"), FXK("runAsUser")}},
    [S_RUN_AS_GROUP] = {2, M_SKIP, {FXK("securityContext"), FXK("runAsGroup")}},
    [S_PROC_MOUNT] = {2, M_SKIP, {FXK("securityContext"), FXK("procMount")}},
    /* upstream quirk (docs/compat/fields.md §7.9): one value per container, the
     * whole `add` array as JSON text — capabilities are not flattened. */
    [S_ADD_CAPS] = {3, M_SKIP, {FXK("securityContext"), FXK("capabilities"), FXK("add")}},
    /* upstream quirk (docs/compat/fields.md §7.6): the container's own runAsUser
     * member, not securityContext.runAsUser. */
    [S_EFF_RUN_AS_USER] = {1, M_DEFAULT, {FXK("runAsUser")}},
    [S_EFF_RUN_AS_GROUP] = {1, M_DEFAULT, {FXK("runAsGroup")}},
    [S_HOST_PORT] = {1, M_PORTS, {FXK("ports")}},
};

static const fx_key family_key[] = {
    [FAM_NONE] = FXK(""),
    [FAM_CONTAINERS] = FXK("containers"),
    [FAM_INIT] = FXK("initContainers"),
    [FAM_EPHEMERAL] = FXK("ephemeralContainers"),
};

#define FAM3(SUB, S)                                                   \
    [FLD_KA_REQ_POD_CONTAINERS_##SUB] = {FAM_CONTAINERS, S},          \
    [FLD_KA_REQ_POD_INITCONTAINERS_##SUB] = {FAM_INIT, S},            \
    [FLD_KA_REQ_POD_EPHEMERALCONTAINERS_##SUB] = {FAM_EPHEMERAL, S}

static const struct {
    uint8_t fam, sub;
} field_map[FIELD__COUNT] = {
    FAM3(NAME, S_NAME),
    FAM3(IMAGE, S_IMAGE),
    FAM3(IMAGE_REPOSITORY, S_IMAGE_REPO),
    FAM3(COMMAND, S_COMMAND),
    FAM3(ARGS, S_ARGS),
    FAM3(PRIVILEGED, S_PRIVILEGED),
    FAM3(ALLOW_PRIVILEGE_ESCALATION, S_ALLOW_PRIV_ESC),
    FAM3(READ_ONLY_FS, S_READ_ONLY_FS),
    FAM3(RUN_AS_USER, S_RUN_AS_USER),
    FAM3(EFF_RUN_AS_USER, S_EFF_RUN_AS_USER),
    FAM3(RUN_AS_GROUP, S_RUN_AS_GROUP),
    FAM3(EFF_RUN_AS_GROUP, S_EFF_RUN_AS_GROUP),
    FAM3(PROC_MOUNT, S_PROC_MOUNT),
    FAM3(ADD_CAPABILITIES, S_ADD_CAPS),
    /* host_port does not exist for ephemeral containers */
    [FLD_KA_REQ_POD_CONTAINERS_HOST_PORT] = {FAM_CONTAINERS, S_HOST_PORT},
    [FLD_KA_REQ_POD_INITCONTAINERS_HOST_PORT] = {FAM_INIT, S_HOST_PORT},
};

/* repo(image), fields.md §2.9. */
static size_t image_repository(const char *s, size_t n)
{
    /* upstream quirk (docs/compat/fields.md §7.7): purely textual — cut at the
     * first ':' (so a registry port breaks it: localhost:5000/app →
     * localhost), then at the first '@'. */
    const char *c = memchr(s, ':', n);
    if (c)
        n = (size_t)(c - s);
    const char *at = memchr(s, '@', n);
    if (at)
        n = (size_t)(at - s);
    return n;
}

typedef struct cwalk {
    field_ctx *ctx;
    vbuild b;
    uint8_t sub, mode;
    bool failed;
    bool have_default;
    const char *dflt;
    size_t dflen;
} cwalk;

/* Pod default of eff_run_as_*: R(spec.runAsUser) if present, else "0". */
static void eff_default(cwalk *w)
{
    const fx_key keys[] = {FXR(requestObject), FXK("spec"),
                           w->sub == S_EFF_RUN_AS_USER ? (fx_key)FXK("runAsUser") : (fx_key)FXK("runAsGroup")};
    const audit_event *ev = w->ctx->ev;
    /* upstream quirk (docs/compat/fields.md §7.6): spec.runAsUser, not
     * spec.securityContext.runAsUser. */
    uint32_t v = fx_root_path(ev, keys, 3);
    w->have_default = true;
    w->dflt = "0";
    w->dflen = 1;
    if (v != JSON_NONE && !fx_render(w->ctx, v, &w->dflt, &w->dflen))
        w->b.oom = true;
}

/* command/args: the strings of the array joined with single spaces. */
static void push_joined(cwalk *w, uint32_t arr)
{
    const json_doc *d = w->ctx->ev->doc;
    size_t total = 0, count = 0;
    for (uint32_t c = json_first(d, arr); c != JSON_NONE; c = json_next(d, arr, c)) {
        if (d->nodes[c].type != JSON_STRING) {
            w->failed = true; /* upstream: type conversion error */
            return;
        }
        total += d->nodes[c].len; /* decoded text is never longer */
        count++;
    }
    if (count == 0) {
        vb_push(&w->b, "", 0); /* `[]` → a present empty string */
        return;
    }
    uint32_t first = json_first(d, arr);
    if (count == 1 && !(d->nodes[first].flags & JSON_F_ESCAPES)) {
        vb_push(&w->b, d->src + d->nodes[first].start, d->nodes[first].len);
        return;
    }
    char *o = arena_alloc(w->ctx->arena, total + count);
    if (!o) {
        w->b.oom = true;
        return;
    }
    size_t n = 0;
    for (uint32_t c = first; c != JSON_NONE; c = json_next(d, arr, c)) {
        if (c != first)
            o[n++] = ' ';
        const json_node *e = &d->nodes[c];
        if (e->flags & JSON_F_ESCAPES) {
            n += json_unescape(d->src + e->start, e->len, o + n);
        } else {
            memcpy(o + n, d->src + e->start, e->len);
            n += e->len;
        }
    }
    o[n] = 0;
    /* joined in Go, then cut at the first NUL on the C side (fields.md §5) */
    vb_push(&w->b, o, fx_cut_nul(o, n));
}

/* host_port: for each port, hostPort if present, else containerPort. */
static void push_ports(cwalk *w, uint32_t arr)
{
    const json_doc *d = w->ctx->ev->doc;
    if (d->nodes[arr].type != JSON_ARRAY) {
        w->failed = true;
        return;
    }
    for (uint32_t p = json_first(d, arr); p != JSON_NONE; p = json_next(d, arr, p)) {
        uint32_t v = fx_member(d, p, "hostPort", 8);
        if (v == JSON_NONE)
            v = fx_member(d, p, "containerPort", 13);
        if (v != JSON_NONE)
            vb_push_render(&w->b, w->ctx, v);
    }
}

static void cwalk_cb(void *ud, uint32_t node)
{
    cwalk *w = ud;
    if (w->failed || w->b.oom)
        return;
    const json_doc *d = w->ctx->ev->doc;
    if (node == JSON_NONE) {
        switch (w->mode) {
        case M_FAIL:
            /* upstream quirk (docs/compat/fields.md §7.8): one container without
             * the key makes the whole list field missing. */
            w->failed = true;
            return;
        case M_DEFAULT:
            if (!w->have_default)
                eff_default(w);
            vb_push(&w->b, w->dflt, w->dflen);
            return;
        default:
            return; /* skip */
        }
    }
    switch (w->mode) {
    case M_JOIN:
        if (d->nodes[node].type != JSON_ARRAY) {
            w->failed = true;
            return;
        }
        push_joined(w, node);
        return;
    case M_PORTS:
        push_ports(w, node);
        return;
    default: {
        const char *s;
        size_t n;
        if (!fx_render(w->ctx, node, &s, &n)) {
            w->b.oom = true;
            return;
        }
        if (w->sub == S_IMAGE_REPO)
            n = image_repository(s, n);
        vb_push(&w->b, s, n);
    }
    }
}

static bool family_field(const field_ref *ref, field_ctx *ctx, fvals *out, int fam, int sub)
{
    fx_key keys[6] = {FXR(requestObject), FXK("spec"), family_key[fam]};
    size_t nk = 3;
    for (size_t i = 0; i < subs[sub].nk; i++)
        keys[nk++] = subs[sub].k[i];
    cwalk w = {.ctx = ctx, .sub = (uint8_t)sub, .mode = subs[sub].mode};
    vb_init(&w.b, ctx->arena);
    /* upstream quirk (docs/compat/fields.md §7.17): the index selects C[idx] in the
     * middle of the path; with an index a missing key is MISSING, so no
     * default is applied. */
    if (!fx_root_walk(ctx->ev, ref->index, keys, nk, cwalk_cb, &w) || w.failed)
        return fx_none(out);
    return vb_finish(&w.b, out);
}

/* ka.req.container.privileged: "true" if any container's value is JSON true. */
typedef struct any_true {
    const json_doc *d;
    bool found;
} any_true;

static void any_true_cb(void *ud, uint32_t node)
{
    any_true *a = ud;
    if (node != JSON_NONE && a->d->nodes[node].type == JSON_TRUE)
        a->found = true;
}

int extract_containers(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    field_id id = ref->def->id;
    if (field_map[id].fam != FAM_NONE)
        return family_field(ref, ctx, out, field_map[id].fam, field_map[id].sub);

    const audit_event *ev = ctx->ev;
    switch (id) {
    case FLD_KA_REQ_CONTAINER_IMAGE:
    case FLD_KA_REQ_CONTAINER_IMAGE_REPOSITORY: {
        /* containers[0].image only, even if later containers have one */
        static const fx_key keys[] = {FXR(requestObject), FXK("spec"), FXK("containers"), FXK("0"),
                                      FXK("image")};
        uint32_t v = fx_root_path(ev, keys, 5);
        const char *s;
        size_t n;
        if (v == JSON_NONE || !fx_render(ctx, v, &s, &n))
            return fx_none(out);
        if (id == FLD_KA_REQ_CONTAINER_IMAGE_REPOSITORY)
            n = image_repository(s, n);
        return fx_one(ctx, out, s, n);
    }
    case FLD_KA_REQ_CONTAINER_PRIVILEGED: {
        static const fx_key keys[] = {FXR(requestObject), FXK("spec"), FXK("containers"),
                                      FXK("securityContext"), FXK("privileged")};
        any_true a = {.d = ev->doc};
        /* upstream quirk (docs/compat/fields.md §7.10): missing only when there is
         * no containers member; `[]` gives "false", and only the JSON
         * boolean true counts (the string "true" does not). */
        if (!fx_root_walk(ev, -1, keys, 5, any_true_cb, &a))
            return fx_none(out);
        return a.found ? fx_one(ctx, out, "true", 4) : fx_one(ctx, out, "false", 5);
    }
    default:
        return -1;
    }
}
