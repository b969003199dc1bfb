/*
 * extract_ka — the k8saudit fields (docs/compat/fields.md §2) except the
 * container families (extract_containers.c) and ka.uri.param
 * (extract_uri.c): request metadata §2.1, target §2.3, RBAC bindings
 * §2.4, configmaps §2.5, roles §2.6, pod flags §2.7, services §2.11,
 * volumes §2.12.
 *
 * Every field first passes the auditID gate (§1.2).  Values are R(v)
 * renderings (§1.5): slices of the payload unless a string had escapes.
 */
#include "fields/extract.h"

#include <string.h>

/* ---- single values via P (§2.1, §2.3, §2.5, §2.7, §2.11) ---------------- */

typedef struct kpath {
    uint8_t n;
    fx_key k[4];
} kpath;

/* The first step is a top-level member, named bare (FXR: its root table
 * slot is fixed at compile time). */
#define P1(a) {1, {FXR(a)}}
#define P2(a, b) {2, {FXR(a), FXK(b)}}
#define P2O(b) {2, {FXR(objectRef), FXO(b)}} /* objectRef.b, through field_ctx.ref_keys */
#define P3(a, b, c) {3, {FXR(a), FXK(b), FXK(c)}}
#define P4(a, b, c, d) {4, {FXR(a), FXK(b), FXK(c), FXK(d)}}

/* Fields whose value is R(P(path)); n == 0 for every other field. */
static const kpath single_paths[FIELD__COUNT] = {
    [FLD_KA_AUDITID] = P1(auditID),
    [FLD_KA_STAGE] = P1(stage),
    /* annotation keys are single member names containing '.' and '/' */
    [FLD_KA_AUTH_DECISION] = P2(annotations, "authorization.k8s.io/decision"),
    [FLD_KA_AUTH_REASON] = P2(annotations, "authorization.k8s.io/reason"),
    [FLD_KA_AUTH_OPENSHIFT_DECISION] = P2(annotations, "authentication.openshift.io/decision"),
    [FLD_KA_VALIDATIONS_ADMISSION_POLICY_FAILURE] =
        P2(annotations, "validation.policy.admission.k8s.io/validation_failure"),
    [FLD_KA_SECURITY_POD_VIOLATIONS] = P2(annotations, "pod-security.kubernetes.io/audit-violations"),
    [FLD_KA_AUTH_OPENSHIFT_USERNAME] = P2(annotations, "authentication.openshift.io/username"),
    [FLD_KA_CLUSTER_NAME] = P2(annotations, "cluster_name"),
    [FLD_KA_USER_NAME] = P2(user, "username"),
    [FLD_KA_IMPUSER_NAME] = P2(impersonatedUser, "username"),
    [FLD_KA_VERB] = P1(verb),
    [FLD_KA_URI] = P1(requestURI),
    [FLD_KA_USERAGENT] = P1(userAgent),
    [FLD_KA_RESPONSE_CODE] = P2(responseStatus, "code"),
    [FLD_KA_RESPONSE_REASON] = P2(responseStatus, "reason"),
    [FLD_KA_RESP_NAME] = P3(responseObject, "metadata", "name"),
    [FLD_KA_TARGET_NAME] = P2O(name),
    [FLD_KA_TARGET_NAMESPACE] = P2O(namespace),
    [FLD_KA_TARGET_RESOURCE] = P2O(resource),
    [FLD_KA_TARGET_SUBRESOURCE] = P2O(subresource),
    /* upstream quirk (docs/compat/fields.md §7.14): ka.req.configmap.name is just
     * objectRef.name, whatever the object is. */
    [FLD_KA_REQ_CONFIGMAP_NAME] = P2O(name),
    [FLD_KA_REQ_CONFIGMAP_OBJ] = P2(requestObject, "data"),
    [FLD_KA_REQ_BINDING_ROLE] = P3(requestObject, "roleRef", "name"),
    [FLD_KA_REQ_POD_HOST_IPC] = P3(requestObject, "spec", "hostIPC"),
    [FLD_KA_REQ_POD_HOST_NETWORK] = P3(requestObject, "spec", "hostNetwork"),
    [FLD_KA_REQ_CONTAINER_HOST_NETWORK] = P3(requestObject, "spec", "hostNetwork"),
    [FLD_KA_REQ_POD_HOST_PID] = P3(requestObject, "spec", "hostPID"),
    [FLD_KA_REQ_POD_RUN_AS_USER] = P4(requestObject, "spec", "securityContext", "runAsUser"),
    [FLD_KA_REQ_POD_RUN_AS_GROUP] = P4(requestObject, "spec", "securityContext", "runAsGroup"),
    [FLD_KA_REQ_POD_FS_GROUP] = P4(requestObject, "spec", "securityContext", "fsGroup"),
    [FLD_KA_REQ_SERVICE_TYPE] = P3(requestObject, "spec", "type"),
};

/* List fields whose values are R(element) of the array at P(path) (§1.6). */
static const kpath array_paths[FIELD__COUNT] = {
    [FLD_KA_USER_GROUPS] = P2(user, "groups"),
    [FLD_KA_REQ_BINDING_SUBJECTS] = P2(requestObject, "subjects"),
    [FLD_KA_REQ_ROLE_RULES] = P2(requestObject, "rules"),
    [FLD_KA_REQ_POD_SUPPLEMENTAL_GROUPS] = P4(requestObject, "spec", "securityContext", "supplementalGroups"),
};

static bool single_value(const kpath *p, field_ctx *ctx, fvals *out)
{
    uint32_t v = fx_ctx_path(ctx, p->k, p->n);
    const char *s;
    size_t n;
    if (v == JSON_NONE || !fx_render(ctx, v, &s, &n))
        return fx_none(out);
    return fx_one(ctx, out, s, n);
}

static bool array_values(const kpath *p, field_ctx *ctx, fvals *out)
{
    const json_doc *d = ctx->ev->doc;
    uint32_t a = fx_root_path(ctx->ev, p->k, p->n);
    /* not an array: upstream's type conversion error → no value */
    if (a == JSON_NONE || d->nodes[a].type != JSON_ARRAY)
        return fx_none(out);
    vbuild b;
    vb_init(&b, ctx->arena);
    /* duplicates kept, null elements become "null" */
    for (uint32_t c = json_first(d, a); c != JSON_NONE; c = json_next(d, a, c))
        vb_push_render(&b, ctx, c);
    return vb_finish(&b, out);
}

/* ---- ka.target.pod.name (§2.3) --------------------------------------------- */

static bool is_string_eq(const json_doc *d, uint32_t v, const char *s, size_t n)
{
    return v != JSON_NONE && d->nodes[v].type == JSON_STRING && json_string_eq(d, v, s, n);
}

/* A member that is a string and empty, or missing/not a string (both
 * count as ""). */
static bool is_empty_or_nonstring(const json_doc *d, uint32_t v)
{
    return v == JSON_NONE || d->nodes[v].type != JSON_STRING || d->nodes[v].len == 0;
}

static bool target_pod_name(field_ctx *ctx, fvals *out)
{
    static const fx_key res[] = {FXR(objectRef), FXK("resource")};
    static const fx_key sub[] = {FXR(objectRef), FXK("subresource")};
    static const kpath name = P3(responseObject, "metadata", "name");
    const json_doc *d = ctx->ev->doc;
    /* upstream quirk (docs/compat/fields.md §7.13): only for resource "pods" with
     * no subresource, and the name comes from responseObject — there is no
     * fallback to objectRef.name. */
    if (!is_string_eq(d, fx_root_path(ctx->ev, res, 2), "pods", 4))
        return fx_none(out);
    if (!is_empty_or_nonstring(d, fx_root_path(ctx->ev, sub, 2)))
        return fx_none(out);
    return single_value(&name, ctx, out);
}

/* ---- binding subjects (§2.4) ------------------------------------------------ */

static bool subject_names(field_ctx *ctx, fvals *out, const char *kind, size_t kindlen, bool with_ns)
{
    static const fx_key path[] = {FXR(requestObject), FXK("subjects")};
    const json_doc *d = ctx->ev->doc;
    uint32_t a = fx_root_path(ctx->ev, path, 2);
    if (a == JSON_NONE || d->nodes[a].type != JSON_ARRAY)
        return fx_none(out); /* missing → empty list; not an array → error */
    vbuild b;
    vb_init(&b, ctx->arena);
    for (uint32_t c = json_first(d, a); c != JSON_NONE; c = json_next(d, a, c)) {
        /* non-object elements have neither member: ignored */
        uint32_t k = json_get(d, c, "kind", 4);
        uint32_t nm = json_get(d, c, "name", 4);
        if (k == JSON_NONE || nm == JSON_NONE)
            continue;
        /* R(kind) must equal the wanted kind exactly; only a JSON string
         * can render as a bare word like "User". */
        if (!is_string_eq(d, k, kind, kindlen))
            continue;
        if (!with_ns) {
            vb_push_render(&b, ctx, nm);
            continue;
        }
        uint32_t ns = json_get(d, c, "namespace", 9);
        if (ns == JSON_NONE)
            continue; /* service accounts without a namespace are skipped */
        const char *s1, *s2;
        size_t n1, n2;
        if (!fx_text(ctx, ns, &s1, &n1) || !fx_text(ctx, nm, &s2, &n2)) {
            b.oom = true;
            break;
        }
        char *o = arena_alloc(ctx->arena, n1 + n2 + 2);
        if (!o) {
            b.oom = true;
            break;
        }
        memcpy(o, s1, n1);
        o[n1] = ':';
        memcpy(o + n1 + 1, s2, n2);
        o[n1 + 1 + n2] = 0;
        vb_push(&b, o, fx_cut_nul(o, n1 + 1 + n2));
    }
    return vb_finish(&b, out);
}

/* ---- rules helper: ka.req.role.rules.* and ka.sourceips (§2.6, §2.1) ------- */

typedef struct flatten_ctx {
    field_ctx *ctx;
    vbuild b;
} flatten_ctx;

static void flatten_cb(void *ud, uint32_t node)
{
    flatten_ctx *f = ud;
    const json_doc *d = f->ctx->ev->doc;
    /* NILs and non-array results (e.g. "resources":"deployments") are
     * silently ignored; arrays are flattened. */
    if (node == JSON_NONE || d->nodes[node].type != JSON_ARRAY)
        return;
    for (uint32_t c = json_first(d, node); c != JSON_NONE; c = json_next(d, node, c))
        vb_push_render(&f->b, f->ctx, c);
}

static bool rules_values(const field_ref *ref, field_ctx *ctx, fvals *out, const char *sub, size_t sublen)
{
    fx_key keys[3] = {FXR(requestObject), FXK("rules"), {sub, sublen, 0, 0}};
    flatten_ctx f = {.ctx = ctx};
    vb_init(&f.b, ctx->arena);
    if (!fx_root_walk(ctx->ev, ref->index, keys, 3, flatten_cb, &f))
        return fx_none(out);
    return vb_finish(&f.b, out);
}

/* ---- services (§2.11) ------------------------------------------------------ */

typedef struct render_ctx {
    field_ctx *ctx;
    vbuild b;
} render_ctx;

/* "skip" NIL mode: R() of each result, NILs dropped. */
static void render_skip_cb(void *ud, uint32_t node)
{
    render_ctx *r = ud;
    if (node != JSON_NONE)
        vb_push_render(&r->b, r->ctx, node);
}

static bool walk_render(field_ctx *ctx, long long idx, const fx_key *keys, size_t nk, fvals *out)
{
    render_ctx r = {.ctx = ctx};
    vb_init(&r.b, ctx->arena);
    if (!fx_root_walk(ctx->ev, idx, keys, nk, render_skip_cb, &r))
        return fx_none(out);
    return vb_finish(&r.b, out);
}

/* ---- volumes (§2.12) -------------------------------------------------------- */

static void volume_type_cb(void *ud, uint32_t node)
{
    render_ctx *r = ud;
    const json_doc *d = r->ctx->ev->doc;
    if (node == JSON_NONE || d->nodes[node].type != JSON_OBJECT)
        return; /* non-object volumes contribute nothing */
    /* every member name except "name", in document order, duplicates kept */
    uint32_t end = d->nodes[node].next;
    for (uint32_t k = node + 1; k < end; k = d->nodes[k + 1].next) {
        if (json_string_eq(d, k, "name", 4))
            continue;
        vb_push_render(&r->b, r->ctx, k);
    }
}

typedef struct hostpath_ctx {
    field_ctx *ctx;
    const char *key;
    size_t keylen;
    bool prefix; /* key ends with '*' */
    bool match;
    bool oom;
} hostpath_ctx;

static void hostpath_cb(void *ud, uint32_t node)
{
    hostpath_ctx *h = ud;
    if (node == JSON_NONE || h->match || h->oom)
        return;
    const char *p;
    size_t n;
    /* compared the way the Go code does: on the full decoded text */
    if (!fx_text(h->ctx, node, &p, &n)) {
        h->oom = true;
        return;
    }
    /* upstream quirk (docs/compat/fields.md §7.11): "k*" is a prefix test on k
     * minus its last char, otherwise (or also) whole-string equality with
     * k, '*' included. */
    if (h->prefix && n >= h->keylen - 1 && memcmp(p, h->key, h->keylen - 1) == 0)
        h->match = true;
    else if (n == h->keylen && memcmp(p, h->key, n) == 0)
        h->match = true;
}

static bool volume_hostpath_key(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    static const fx_key keys[] = {FXR(requestObject), FXK("spec"), FXK("volumes"), FXK("hostPath"),
                                  FXK("path")};
    if (ref->keylen == 0)
        return fx_none(out); /* rejected at parse time; upstream panics */
    hostpath_ctx h = {.ctx = ctx, .key = ref->key, .keylen = ref->keylen,
                      .prefix = ref->key[ref->keylen - 1] == '*'};
    /* key arguments reach the plugin with index -1: never indexed */
    if (!fx_root_walk(ctx->ev, -1, keys, 5, hostpath_cb, &h) || h.oom)
        return fx_none(out);
    return h.match ? fx_one(ctx, out, "true", 4) : fx_one(ctx, out, "false", 5);
}

/* ---- dispatch ---------------------------------------------------------------- */

bool extract_ka(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    const audit_event *ev = ctx->ev;
    field_id id = ref->def->id;

    /* upstream quirk (docs/compat/fields.md §7.3): no top-level auditID member (of
     * any type, even null) → every ka.* field has no value. */
    if (!ctx->has_auditid)
        ctx->has_auditid = event_member(ev, EK_auditID) == JSON_NONE ? -1 : 1;
    if (ctx->has_auditid < 0)
        return fx_none(out);

    if (id == FLD_KA_CLUSTER_NAME && ctx->cluster) {
        /* the event's own annotation first (upstream's only source), then
         * the cluster the webhook endpoint names */
        if (single_value(&single_paths[id], ctx, out))
            return true;
        return fx_one(ctx, out, ctx->cluster, strlen(ctx->cluster));
    }
    if (single_paths[id].n)
        return single_value(&single_paths[id], ctx, out);
    if (array_paths[id].n)
        return array_values(&array_paths[id], ctx, out);

    int rc = extract_containers(ref, ctx, out);
    if (rc >= 0)
        return rc > 0;

    switch (id) {
    case FLD_KA_URI_PARAM:
        return extract_uri_param(ref, ctx, out);
    case FLD_KA_TARGET_POD_NAME:
        return target_pod_name(ctx, out);
    case FLD_KA_REQ_BINDING_SUBJECTS_USER_NAMES:
        return subject_names(ctx, out, "User", 4, false);
    case FLD_KA_REQ_BINDING_SUBJECTS_GROUP_NAMES:
        return subject_names(ctx, out, "Group", 5, false);
    case FLD_KA_REQ_BINDING_SUBJECTS_SERVICEACCOUNT_NAMES:
        return subject_names(ctx, out, "ServiceAccount", 14, false);
    case FLD_KA_REQ_BINDING_SUBJECTS_SERVICEACCOUNT_NS_NAMES:
        return subject_names(ctx, out, "ServiceAccount", 14, true);
    case FLD_KA_REQ_BINDING_SUBJECT_HAS_NAME:
        /* upstream quirk (docs/compat/fields.md §7.15): documented as "N/A", the
         * code returns "true" for every event, whatever the key. */
        return fx_one(ctx, out, "true", 4);
    case FLD_KA_REQ_ROLE_RULES_APIGROUPS:
        return rules_values(ref, ctx, out, "apiGroups", 9);
    case FLD_KA_REQ_ROLE_RULES_RESOURCES:
        return rules_values(ref, ctx, out, "resources", 9);
    case FLD_KA_REQ_ROLE_RULES_VERBS:
        return rules_values(ref, ctx, out, "verbs", 5);
    case FLD_KA_REQ_ROLE_RULES_NONRESOURCEURLS:
        return rules_values(ref, ctx, out, "nonResourceURLs", 15);
    case FLD_KA_SOURCEIPS:
        /* upstream quirk (docs/compat/fields.md §7.4): reads
         * requestObject.rules[].sourceIPs through the rules helper, not the
         * top-level sourceIPs — practically never present. */
        return rules_values(ref, ctx, out, "sourceIPs", 9);
    case FLD_KA_REQ_SERVICE_PORTS: {
        /* upstream quirk (docs/compat/fields.md §7.5): ports is the last path
         * element, so the whole array is one value; the index argument
         * only matters if an array shows up earlier in the path. */
        static const fx_key keys[] = {FXR(requestObject), FXK("spec"), FXK("ports")};
        return walk_render(ctx, ref->index, keys, 3, out);
    }
    case FLD_KA_REQ_POD_VOLUMES_HOSTPATH: {
        static const fx_key keys[] = {FXR(requestObject), FXK("spec"), FXK("volumes"), FXK("hostPath"),
                                      FXK("path")};
        return walk_render(ctx, ref->index, keys, 5, out);
    }
    case FLD_KA_REQ_POD_VOLUMES_FLEXVOLUME_DRIVER: {
        static const fx_key keys[] = {FXR(requestObject), FXK("spec"), FXK("volumes"), FXK("flexVolume"),
                                      FXK("driver")};
        return walk_render(ctx, ref->index, keys, 5, out);
    }
    case FLD_KA_REQ_POD_VOLUMES_VOLUME_TYPE: {
        /* the empty last key stands for "the volume itself" */
        static const fx_key keys[] = {FXR(requestObject), FXK("spec"), FXK("volumes"), FXK("")};
        render_ctx r = {.ctx = ctx};
        vb_init(&r.b, ctx->arena);
        if (!fx_root_walk(ctx->ev, ref->index, keys, 4, volume_type_cb, &r))
            return fx_none(out);
        return vb_finish(&r.b, out);
    }
    case FLD_KA_REQ_VOLUME_HOSTPATH:
        return volume_hostpath_key(ref, ctx, out);
    default:
        return fx_none(out);
    }
}
