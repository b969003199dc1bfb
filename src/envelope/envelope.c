/*
 * envelope — sniffing and unwrapping (see envelope.h).
 *
 * Each level of wrapping (a Firehose record's base64, its gzip, a
 * CloudWatch message's escaped event string) decodes into the scratch
 * buffers and document of the next depth, so nested levels never
 * overwrite what the outer ones still walk.  Every event found is copied
 * into the output as it is; only the array brackets and commas are ours.
 */
#include "envelope/envelope_internal.h"
#include "envelope/codec.h"
#include "util/alloc.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define MAX_DEPTH 6
#define MAX_MESSAGES 5          /* per payload; the counts say the rest */

const char *const envelope_kind_name[ENV__COUNT] = {
    "unknown", "native", "aws-firehose", "cloudwatch", "cloudwatch-events", "gcp-pubsub", "gke", "aks", "shipper",
};

typedef struct level {
    json_doc doc;
    buf str;                    /* an unescaped string */
    buf raw;                    /* base64-decoded bytes */
    buf z;                      /* inflated bytes */
    buf tmp;                    /* member lookups */
} level;

struct envelope {
    envelope_opts o;
    level lv[MAX_DEPTH];
    buf text;                   /* output: groups */
    buf clusters;
    envelope_group *groups;
    size_t ngroups, capgroups;
    bool open;                  /* the last group takes more events */
    envelope_counts counts;
    buf msgs;
    unsigned nmsgs;
    size_t inflated;            /* bytes inflated so far (bounded by max_bytes) */
    size_t metered;             /* held bytes last told to o.charge */
    int fatal;                  /* -EFBIG / -ENOMEM: stop decoding */
    buf conv;                   /* a converted GKE event */
};

/* ------------------------------------------------------------ helpers */

size_t envelope_held_bytes(const envelope *e)
{
    size_t n = e->text.cap + e->clusters.cap + e->msgs.cap + e->conv.cap + e->capgroups * sizeof *e->groups;
    for (int i = 0; i < MAX_DEPTH; i++) {
        const level *L = &e->lv[i];
        n += (size_t)L->doc.cap * sizeof(json_node) + L->str.cap + L->raw.cap + L->z.cap + L->tmp.cap;
    }
    return n;
}

/* Tell o.charge what the decode holds once it has grown by 64 KiB (`last`:
 * by anything); e->fatal (-EBUSY) when the budget is full. */
static int meter(envelope *e, bool last)
{
    size_t h = e->o.charge && !e->fatal ? envelope_held_bytes(e) : 0;
    if (!h || h < e->metered + (last ? 1 : 64u << 10))
        return e->fatal;
    e->metered = h;
    return e->o.charge(e->o.charge_ctx, h) ? (e->fatal = -EBUSY) : 0;
}

const char *env_str(const json_doc *d, uint32_t v, buf *scratch, size_t *len)
{
    const json_node *n = json_at(d, v);
    if (!(n->flags & JSON_F_ESCAPES)) {
        *len = n->len;
        return d->src + n->start;
    }
    buf_clear(scratch);
    if (buf_reserve(scratch, n->len + 1))
        return NULL;
    *len = json_unescape(d->src + n->start, n->len, scratch->data);
    scratch->data[*len] = 0;
    return scratch->data;
}

const char *env_member_str(const json_doc *d, uint32_t obj, const char *key, buf *scratch, size_t *len)
{
    if (obj == JSON_NONE || json_type_of(d, obj) != JSON_OBJECT)
        return NULL;
    uint32_t v = json_get(d, obj, key, strlen(key));
    if (v == JSON_NONE || json_type_of(d, v) != JSON_STRING)
        return NULL;
    return env_str(d, v, scratch, len);
}

static bool str_is(const json_doc *d, uint32_t obj, const char *key, const char *want)
{
    if (obj == JSON_NONE || json_type_of(d, obj) != JSON_OBJECT)
        return false;
    uint32_t v = json_get(d, obj, key, strlen(key));
    return v != JSON_NONE && json_type_of(d, v) == JSON_STRING && json_string_eq(d, v, want, strlen(want));
}

static bool has(const json_doc *d, uint32_t obj, const char *key, int type)
{
    uint32_t v = json_get(d, obj, key, strlen(key));
    return v != JSON_NONE && (type < 0 || json_type_of(d, v) == (json_type)type);
}

static void message(envelope *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void message(envelope *e, const char *fmt, ...)
{
    if (e->nmsgs++ >= MAX_MESSAGES)
        return;
    va_list ap;
    va_start(ap, fmt);
    buf_vprintf(&e->msgs, fmt, ap);
    va_end(ap);
    buf_putc(&e->msgs, '\n');
}

/* The auditID a cut-short record still shows, for the message. */
static void report_truncated(envelope *e, const char *p, size_t n, const char *what)
{
    e->counts.truncated++;
    static const char key[] = "\"auditID\"";
    const char *id = memmem(p, n, key, sizeof key - 1);
    size_t idn = 0;
    if (id) {
        id += sizeof key - 1;
        while (id < p + n && (*id == ' ' || *id == ':'))
            id++;
        id += id < p + n && *id == '"';
        while (id + idn < p + n && idn < 64 && (isalnum((unsigned char)id[idn]) || id[idn] == '-'))
            idn++;
    }
    message(e, "%s: truncated record dropped (%zu bytes, auditID %.*s)", what, n, idn ? (int)idn : 1,
            idn ? id : "?");
}

/* ------------------------------------------------------------ output */

static int open_group(envelope *e, const char *cluster)
{
    if (!cluster)
        cluster = "";
    if (e->open) {
        const envelope_group *g = &e->groups[e->ngroups - 1];
        if (!strcmp(e->clusters.data + g->cluster_off, cluster)) {
            buf_putc(&e->text, ',');
            return 0;
        }
        buf_putc(&e->text, ']');
        e->groups[e->ngroups - 1].len = e->text.len - e->groups[e->ngroups - 1].off;
    }
    if (e->ngroups == e->capgroups) {
        size_t cap = e->capgroups ? 2 * e->capgroups : 4;
        envelope_group *ng = pg_realloc(e->groups, cap * sizeof *ng);
        if (!ng)
            return -ENOMEM;
        e->groups = ng;
        e->capgroups = cap;
    }
    envelope_group *g = &e->groups[e->ngroups++];
    g->off = e->text.len;
    g->len = 0;
    g->nevents = 0;
    g->cluster_off = e->clusters.len;
    buf_put(&e->clusters, cluster, strlen(cluster) + 1);
    buf_putc(&e->text, '[');
    e->open = true;
    return e->clusters.oom ? -ENOMEM : 0;
}

static void close_groups(envelope *e)
{
    if (!e->open)
        return;
    buf_putc(&e->text, ']');
    e->groups[e->ngroups - 1].len = e->text.len - e->groups[e->ngroups - 1].off;
    e->open = false;
}

/* AKS replaces objects too large for a record by this string: such a
 * member is left out, as if the audit policy had not asked for it. */
static bool skipped_object(const json_doc *d, uint32_t v)
{
    return json_type_of(d, v) == JSON_STRING;
}

/* One audit Event (or EventList) of d into the current group. */
static int emit_event(envelope *e, const json_doc *d, uint32_t v, const char *cluster)
{
    if (open_group(e, cluster))
        return -ENOMEM;
    e->groups[e->ngroups - 1].nevents++;
    e->counts.events++;
    uint32_t ro = json_get(d, v, "requestObject", 13), so = json_get(d, v, "responseObject", 14);
    if ((ro == JSON_NONE || !skipped_object(d, ro)) && (so == JSON_NONE || !skipped_object(d, so))) {
        size_t n;
        const char *raw = json_raw(d, v, &n);
        buf_put(&e->text, raw, n);
        return e->text.oom ? -ENOMEM : 0;
    }
    /* rewrite without the placeholder members */
    buf_putc(&e->text, '{');
    bool first = true;
    for (uint32_t k = json_first(d, v); k != JSON_NONE;) {
        uint32_t val = json_next(d, v, k);
        if (val == JSON_NONE)
            break;
        if (!((val == ro || val == so) && skipped_object(d, val))) {
            if (!first)
                buf_putc(&e->text, ',');
            first = false;
            size_t kn, vn;
            const char *kr = json_raw(d, k, &kn), *vr = json_raw(d, val, &vn);
            buf_put(&e->text, kr, kn);
            buf_putc(&e->text, ':');
            buf_put(&e->text, vr, vn);
        }
        k = json_next(d, v, val);
    }
    buf_putc(&e->text, '}');
    return e->text.oom ? -ENOMEM : 0;
}

/* ------------------------------------------------------------ sniffing */

envelope_kind envelope_sniff(const json_doc *d, uint32_t v)
{
    if (json_type_of(d, v) == JSON_ARRAY) {
        uint32_t f = json_first(d, v);
        return f == JSON_NONE ? ENV_NATIVE : envelope_sniff(d, f);
    }
    if (json_type_of(d, v) != JSON_OBJECT)
        return ENV_UNKNOWN;
    if (str_is(d, v, "kind", "Event") || str_is(d, v, "kind", "EventList"))
        return ENV_NATIVE;
    if (has(d, v, "records", JSON_ARRAY) && has(d, v, "requestId", -1))
        return ENV_FIREHOSE;
    if (has(d, v, "messageType", JSON_STRING) && has(d, v, "logEvents", -1))
        return ENV_CWL;
    if (has(d, v, "events", JSON_ARRAY)) {
        uint32_t a = json_get(d, v, "events", 6), f = json_first(d, a);
        if (f == JSON_NONE || (json_type_of(d, f) == JSON_OBJECT && has(d, f, "message", JSON_STRING) &&
                               (has(d, f, "eventId", -1) || has(d, f, "ingestionTime", -1))))
            return ENV_CWL_EVENTS;
    }
    if (has(d, v, "message", JSON_OBJECT) && has(d, v, "subscription", -1))
        return ENV_PUBSUB;
    if (has(d, v, "protoPayload", JSON_OBJECT) && has(d, v, "logName", JSON_STRING))
        return ENV_GKE;
    if (has(d, v, "records", JSON_ARRAY))
        return ENV_AKS;
    if (has(d, v, "category", JSON_STRING) && has(d, v, "properties", JSON_OBJECT))
        return ENV_AKS;
    if (has(d, v, "log", JSON_STRING) || has(d, v, "message", JSON_STRING))
        return ENV_SHIPPER;
    return ENV_UNKNOWN;
}

/* ------------------------------------------------------------ decoding */

static int decode_value(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster);

/* Text holding one or more JSON values (back to back, or one per line,
 * maybe each after an export timestamp), each sniffed and decoded.
 * `what` names the record in messages.  Returns 1 when something was
 * recognized, 0 when nothing was, or e->fatal. */
static int decode_text(envelope *e, int depth, const char *p, size_t n, const char *cluster, const char *what)
{
    if (depth >= MAX_DEPTH) {
        e->counts.bad++;
        message(e, "%s: envelopes nested too deep", what);
        return 0;
    }
    level *L = &e->lv[depth];
    int found = 0;
    size_t i = 0;
    while (i < n && !e->fatal) {
        while (i < n && isspace((unsigned char)p[i]))
            i++;
        if (i >= n)
            break;
        size_t skip;
        if (envelope_export_prefix(p + i, n - i, &skip))
            i += skip;
        if (p[i] != '{' && p[i] != '[') {
            /* not JSON (klog text of another log stream, plain lines) */
            size_t eol = i;
            while (eol < n && p[eol] != '\n')
                eol++;
            e->counts.skipped++;
            i = eol;
            continue;
        }
        /* most texts are one value (a CloudWatch message, an AKS log):
         * the SIMD parser takes it whole, no byte-by-byte scan for its end */
        size_t rest = n - i;
        while (rest && isspace((unsigned char)p[i + rest - 1]))
            rest--;
        int whole = json_parse(&L->doc, p + i, rest);
        if (whole == -ENOMEM)
            return e->fatal = -ENOMEM;
        if (whole == 0) {
            if (meter(e, false))
                return e->fatal;
            int r = decode_value(e, depth, &L->doc, 0, cluster);
            if (r < 0)
                return r;
            found |= r;
            break;
        }
        size_t len = env_value_end(p + i, n - i);
        if (!len) {
            report_truncated(e, p + i, n - i, what);
            break;
        }
        int rc = json_parse(&L->doc, p + i, len);
        if (rc == -ENOMEM)
            return e->fatal = -ENOMEM;
        if (meter(e, false))
            return e->fatal;
        if (rc) {
            if (memmem(p + i, len, "[Truncated...]", 14))
                report_truncated(e, p + i, len, what);
            else {
                e->counts.bad++;
                message(e, "%s: cannot parse JSON: %s", what, L->doc.err);
            }
        } else {
            int r = decode_value(e, depth, &L->doc, 0, cluster);
            if (r < 0)
                return r;
            found |= r;
        }
        i += len;
    }
    return e->fatal ? e->fatal : found;
}

/* Bytes (maybe gzip) holding text. */
static int decode_bytes(envelope *e, int depth, const char *p, size_t n, const char *cluster, const char *what)
{
    if (gz_magic(p, n)) {
        level *L = &e->lv[depth];
        buf_clear(&L->z);
        size_t room = e->o.max_bytes > e->inflated ? e->o.max_bytes - e->inflated : 0;
        int rc = gz_inflate(p, n, room, &L->z);
        e->inflated += L->z.len;
        if (rc == -EFBIG || rc == -ENOMEM)
            return e->fatal = rc;
        if (rc) {
            e->counts.bad++;
            message(e, "%s: corrupt gzip data", what);
            return 0;
        }
        p = L->z.data;
        n = L->z.len;
        if (meter(e, false))
            return e->fatal;
    }
    return decode_text(e, depth, p, n, cluster, what);
}

/* String member `key` of obj holding text (an event as a string). */
static int decode_string(envelope *e, int depth, const json_doc *d, uint32_t s, bool base64, const char *cluster,
                         const char *what)
{
    if (depth + 1 >= MAX_DEPTH) {
        e->counts.bad++;
        return 0;
    }
    level *L = &e->lv[depth + 1];
    size_t n;
    const char *p = env_str(d, s, &L->str, &n);
    if (!p)
        return e->fatal = -ENOMEM;
    if (base64) {
        buf_clear(&L->raw);
        int rc = base64_decode(p, n, &L->raw);
        if (rc == -ENOMEM)
            return e->fatal = rc;
        if (rc) {
            e->counts.bad++;
            message(e, "%s: data is not base64", what);
            return 0;
        }
        p = L->raw.data ? L->raw.data : "";
        n = L->raw.len;
        if (meter(e, false))
            return e->fatal;
    }
    return decode_bytes(e, depth + 1, p, n, cluster, what);
}

/* "/aws/eks/<cluster>/cluster" → <cluster> */
static bool cluster_of_log_group(const char *g, size_t n, char *out, size_t outn)
{
    if (n < 18 || memcmp(g, "/aws/eks/", 9) || memcmp(g + n - 8, "/cluster", 8))
        return false;
    size_t cn = n - 17;
    if (!cn || cn >= outn || memchr(g + 9, '/', cn))
        return false;
    memcpy(out, g + 9, cn);
    out[cn] = 0;
    return true;
}

static bool audit_stream(const char *s, size_t n)
{
    return n >= 21 && !memcmp(s, "kube-apiserver-audit-", 21);
}

static int decode_firehose(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster)
{
    uint32_t recs = json_get(d, v, "records", 7);
    for (uint32_t r = json_first(d, recs); r != JSON_NONE && !e->fatal; r = json_next(d, recs, r)) {
        e->counts.records++;
        uint32_t data = json_type_of(d, r) == JSON_OBJECT ? json_get(d, r, "data", 4) : JSON_NONE;
        if (data == JSON_NONE || json_type_of(d, data) != JSON_STRING) {
            e->counts.bad++;
            message(e, "firehose record without a data string");
            continue;
        }
        int rc = decode_string(e, depth, d, data, true, cluster, "firehose record");
        if (rc < 0)
            return rc;
    }
    return 1;
}


/* A CloudWatch log event's `message` (the audit event as a string, or a
 * record of another stream's text): decoded, or counted as bad.  0 / 1,
 * or a negative errno. */
static int decode_log_event(envelope *e, int depth, const json_doc *d, uint32_t x, const char *cluster)
{
    uint32_t m = json_type_of(d, x) == JSON_OBJECT ? json_get(d, x, "message", 7) : JSON_NONE;
    if (m == JSON_NONE || json_type_of(d, m) != JSON_STRING) {
        e->counts.bad++;
        return 0;
    }
    return decode_string(e, depth, d, m, false, cluster, "cloudwatch log event");
}

static int decode_cwl(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster)
{
    level *L = &e->lv[depth];
    if (str_is(d, v, "messageType", "CONTROL_MESSAGE")) {
        e->counts.control++;
        return 1;
    }
    size_t n;
    const char *stream = env_member_str(d, v, "logStream", &L->tmp, &n);
    if (stream && !audit_stream(stream, n)) {
        e->counts.skipped++;    /* kube-apiserver-, authenticator- ... */
        return 1;
    }
    char cl[256];
    const char *g = env_member_str(d, v, "logGroup", &L->tmp, &n);
    if (e->o.cluster_override && *e->o.cluster_override)
        cluster = e->o.cluster_override;
    else if (g && cluster_of_log_group(g, n, cl, sizeof cl))
        cluster = cl;
    uint32_t evs = json_get(d, v, "logEvents", 9);
    if (json_type_of(d, evs) != JSON_ARRAY)
        return 1;
    for (uint32_t x = json_first(d, evs); x != JSON_NONE && !e->fatal; x = json_next(d, evs, x)) {
        int rc = decode_log_event(e, depth, d, x, cluster);
        if (rc < 0)
            return rc;
    }
    return 1;
}

static int decode_cwl_events(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster)
{
    level *L = &e->lv[depth];
    uint32_t evs = json_get(d, v, "events", 6);
    for (uint32_t x = json_first(d, evs); x != JSON_NONE && !e->fatal; x = json_next(d, evs, x)) {
        size_t n;
        const char *stream = env_member_str(d, x, "logStreamName", &L->tmp, &n);
        if (stream && !audit_stream(stream, n)) {
            e->counts.skipped++;
            continue;
        }
        int rc = decode_log_event(e, depth, d, x, cluster);
        if (rc < 0)
            return rc;
    }
    return 1;
}

static int decode_pubsub(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster)
{
    e->counts.records++;
    uint32_t msg = json_get(d, v, "message", 7);
    uint32_t data = json_get(d, msg, "data", 4);
    if (data == JSON_NONE || json_type_of(d, data) != JSON_STRING) {
        e->counts.skipped++;
        message(e, "pub/sub message without data acknowledged and dropped");
        return 1;
    }
    uint64_t before = e->counts.events, bad = e->counts.bad + e->counts.truncated + e->counts.skipped;
    int rc = decode_string(e, depth, d, data, true, cluster, "pub/sub message");
    if (rc < 0)
        return rc;
    if (e->counts.events == before && e->counts.bad + e->counts.truncated + e->counts.skipped == bad) {
        e->counts.skipped++;    /* decoded, but no audit entry in it */
        message(e, "pub/sub message without an audit entry acknowledged and dropped");
    }
    return 1;
}

static int decode_gke(envelope *e, const json_doc *d, uint32_t v, const char *cluster)
{
    char cl[256];
    snprintf(cl, sizeof cl, "%s", cluster ? cluster : "");
    buf_clear(&e->conv);
    int rc = gke_convert(d, v, e->o.gke_faithful, &e->conv, cl, sizeof cl);
    if (rc < 0 || e->conv.oom)
        return e->fatal = -ENOMEM;
    if (rc == 0) {
        e->counts.skipped++;    /* not a Kubernetes audit entry */
        return 1;
    }
    /* the conversion is ours and well-formed: parse it to copy it like
     * any other event (and to be sure) */
    json_doc tmp;
    json_doc_init(&tmp);
    int prc = json_parse(&tmp, e->conv.data, e->conv.len);
    if (!prc)
        prc = emit_event(e, &tmp, 0, cl);
    json_doc_free(&tmp);
    if (prc == -ENOMEM)
        return e->fatal = -ENOMEM;
    if (prc) {
        e->counts.bad++;
        message(e, "gke entry: conversion failed");
    }
    return meter(e, false) ? e->fatal : 1;
}

/* "/SUBSCRIPTIONS/…/MANAGEDCLUSTERS/<NAME>" → <name> (lower case: Azure
 * upper-cases resource ids, cluster names are case-insensitive) */
static bool cluster_of_resource_id(const char *s, size_t n, char *out, size_t outn)
{
    static const char key[] = "/MANAGEDCLUSTERS/";
    size_t k = sizeof key - 1;
    for (size_t i = 0; i + k <= n; i++) {
        if (strncasecmp(s + i, key, k))
            continue;
        size_t st = i + k, cn = 0;
        while (st + cn < n && s[st + cn] != '/')
            cn++;
        if (!cn || cn >= outn)
            return false;
        for (size_t j = 0; j < cn; j++)
            out[j] = (char)tolower((unsigned char)s[st + j]);
        out[cn] = 0;
        return true;
    }
    return false;
}

static int decode_aks_record(envelope *e, int depth, const json_doc *d, uint32_t r, const char *cluster)
{
    level *L = &e->lv[depth];
    e->counts.records++;
    size_t n;
    const char *cat = env_member_str(d, r, "category", &L->tmp, &n);
    if (cat && !(n == 10 && !memcmp(cat, "kube-audit", 10)) && !(n == 16 && !memcmp(cat, "kube-audit-admin", 16))) {
        e->counts.skipped++;    /* kube-apiserver, guard, ...: klog text */
        return 1;
    }
    uint32_t props = json_type_of(d, r) == JSON_OBJECT ? json_get(d, r, "properties", 10) : JSON_NONE;
    uint32_t log = props != JSON_NONE && json_type_of(d, props) == JSON_OBJECT ? json_get(d, props, "log", 3)
                                                                               : JSON_NONE;
    if (log == JSON_NONE || json_type_of(d, log) != JSON_STRING) {
        e->counts.bad++;
        message(e, "aks record without properties.log");
        return 1;
    }
    char cl[256];
    const char *rid = env_member_str(d, r, "resourceId", &L->tmp, &n);
    if (rid && cluster_of_resource_id(rid, n, cl, sizeof cl))
        cluster = cl;
    int rc = decode_string(e, depth, d, log, false, cluster, "aks record");
    return rc < 0 ? rc : 1;
}

static int decode_aks(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster)
{
    uint32_t recs = json_get(d, v, "records", 7);
    if (recs == JSON_NONE)
        return decode_aks_record(e, depth, d, v, cluster);
    for (uint32_t r = json_first(d, recs); r != JSON_NONE && !e->fatal; r = json_next(d, recs, r))
        if (decode_aks_record(e, depth, d, r, cluster) < 0)
            return e->fatal;
    return 1;
}

static int decode_shipper(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster)
{
    uint32_t s = json_get(d, v, "log", 3);
    if (s == JSON_NONE || json_type_of(d, s) != JSON_STRING)
        s = json_get(d, v, "message", 7);
    e->counts.records++;
    /* a line that is no audit JSON (plain text) is not recognized */
    return decode_string(e, depth, d, s, false, cluster, "shipper record");
}

/* Value v of d: returns 1 when recognized, 0 when not, or a negative errno. */
static int decode_value(envelope *e, int depth, const json_doc *d, uint32_t v, const char *cluster)
{
    if (json_type_of(d, v) == JSON_ARRAY) {
        int found = 0;
        for (uint32_t x = json_first(d, v); x != JSON_NONE && !e->fatal; x = json_next(d, v, x)) {
            int r = decode_value(e, depth, d, x, cluster);
            if (r < 0)
                return r;
            if (!r) {
                e->counts.bad++;
                message(e, "array element not recognized as a k8s audit event or envelope");
            }
            found |= r;
        }
        return json_first(d, v) == JSON_NONE ? 1 : found;
    }
    switch (envelope_sniff(d, v)) {
    case ENV_NATIVE:
        if (emit_event(e, d, v, cluster) < 0)
            return e->fatal = -ENOMEM;
        return meter(e, false) ? e->fatal : 1;
    case ENV_FIREHOSE:
        return decode_firehose(e, depth, d, v, cluster);
    case ENV_CWL:
        return decode_cwl(e, depth, d, v, cluster);
    case ENV_CWL_EVENTS:
        return decode_cwl_events(e, depth, d, v, cluster);
    case ENV_PUBSUB:
        return decode_pubsub(e, depth, d, v, cluster);
    case ENV_GKE:
        return decode_gke(e, d, v, cluster);
    case ENV_AKS:
        return decode_aks(e, depth, d, v, cluster);
    case ENV_SHIPPER:
        return decode_shipper(e, depth, d, v, cluster);
    default:
        return 0;
    }
}

/* ------------------------------------------------------------ API */

envelope *envelope_new(void)
{
    envelope *e = pg_calloc(1, sizeof *e);
    if (!e)
        return NULL;
    for (int i = 0; i < MAX_DEPTH; i++)
        json_doc_init(&e->lv[i].doc);
    return e;
}

void envelope_free(envelope *e)
{
    if (!e)
        return;
    for (int i = 0; i < MAX_DEPTH; i++) {
        json_doc_free(&e->lv[i].doc);
        buf_free(&e->lv[i].str);
        buf_free(&e->lv[i].raw);
        buf_free(&e->lv[i].z);
        buf_free(&e->lv[i].tmp);
    }
    buf_free(&e->text);
    buf_free(&e->clusters);
    buf_free(&e->msgs);
    buf_free(&e->conv);
    pg_free(e->groups);
    pg_free(e);
}

static void reset(envelope *e, const envelope_opts *o)
{
    e->o = *o;
    if (!e->o.max_bytes)
        e->o.max_bytes = SIZE_MAX;
    buf_clear(&e->text);
    buf_clear(&e->clusters);
    buf_clear(&e->msgs);
    e->ngroups = 0;
    e->open = false;
    memset(&e->counts, 0, sizeof e->counts);
    e->nmsgs = 0;
    e->inflated = 0;
    e->metered = 0;
    e->fatal = 0;
}

static int finish(envelope *e, int found, envelope_kind kind, char *err, size_t errlen)
{
    close_groups(e);
    meter(e, true);
    if (e->nmsgs > MAX_MESSAGES)
        buf_printf(&e->msgs, "... and %u more such messages in this payload\n", e->nmsgs - MAX_MESSAGES);
    if (!e->fatal && (e->text.oom || e->clusters.oom || e->msgs.oom))
        e->fatal = -ENOMEM;
    if (e->fatal == -EFBIG)
        snprintf(err, errlen, "decoded data larger than the payload limit (%zu bytes)", e->o.max_bytes);
    else if (e->fatal == -EBUSY)
        snprintf(err, errlen, "memory budget full (webhookMaxInflightBytes)");
    else if (e->fatal)
        snprintf(err, errlen, "out of memory");
    if (e->fatal)
        return e->fatal;
    if (!found) {
        snprintf(err, errlen, "data not recognized as a k8s audit event or a known envelope");
        return -EINVAL;
    }
    return (int)(kind ? kind : ENV_NATIVE);
}

int envelope_decode_value(envelope *e, const json_doc *d, uint32_t v, const envelope_opts *o, char *err,
                          size_t errlen)
{
    reset(e, o);
    envelope_kind k = envelope_sniff(d, v);
    if (!(e->o.accept & ENV_BIT(k)) || k == ENV_UNKNOWN) {
        snprintf(err, errlen, "data not recognized as %s", k == ENV_UNKNOWN ? "a k8s audit event or a known envelope"
                                                                           : "what this endpoint takes");
        return -EINVAL;
    }
    int found = decode_value(e, 0, d, v, o->cluster);
    return finish(e, found > 0, k, err, errlen);
}

int envelope_decode(envelope *e, const char *p, size_t n, const envelope_opts *o, char *err, size_t errlen)
{
    reset(e, o);
    level *L = &e->lv[0];
    if (gz_magic(p, n)) {
        buf_clear(&L->z);
        int rc = gz_inflate(p, n, e->o.max_bytes, &L->z);
        if (rc == -EFBIG || rc == -ENOMEM) {
            e->fatal = rc;
            return finish(e, 0, 0, err, errlen);
        }
        if (rc) {
            snprintf(err, errlen, "corrupt gzip data");
            return -EINVAL;
        }
        e->inflated = L->z.len;
        p = L->z.data ? L->z.data : "";
        n = L->z.len;
        if (meter(e, false))
            return finish(e, 0, 0, err, errlen);
    }
    /* the outermost shape decides what the route accepts */
    size_t i = 0, skip;
    while (i < n && isspace((unsigned char)p[i]))
        i++;
    envelope_kind k = ENV_UNKNOWN;
    if (i < n && envelope_export_prefix(p + i, n - i, &skip))
        i += skip;
    if (i < n && (p[i] == '{' || p[i] == '[')) {
        size_t len = env_value_end(p + i, n - i);
        int rc = len ? json_parse(&e->lv[1].doc, p + i, len) : -EINVAL;
        if (rc == -ENOMEM) {
            e->fatal = rc;
            return finish(e, 0, 0, err, errlen);
        }
        if (!rc)
            k = envelope_sniff(&e->lv[1].doc, 0);
        if (meter(e, false))
            return finish(e, 0, 0, err, errlen);
    }
    if (k == ENV_UNKNOWN || !(e->o.accept & ENV_BIT(k))) {
        snprintf(err, errlen, "data not recognized as %s",
                 k == ENV_UNKNOWN ? "a k8s audit event or a known envelope" : "what this endpoint takes");
        return -EINVAL;
    }
    int found = decode_text(e, 0, p, n, o->cluster, "payload");
    return finish(e, found > 0, k, err, errlen);
}

size_t envelope_ngroups(const envelope *e) { return e->ngroups; }
const envelope_group *envelope_groups(const envelope *e) { return e->groups; }
const char *envelope_text(const envelope *e) { return e->text.data ? e->text.data : ""; }
const char *envelope_cluster(const envelope *e, const envelope_group *g) { return e->clusters.data + g->cluster_off; }
const envelope_counts *envelope_result_counts(const envelope *e) { return &e->counts; }
const buf *envelope_messages(const envelope *e) { return &e->msgs; }
