/*
 * gke — a Cloud Logging LogEntry of a GKE audit log → an audit.k8s.io/v1
 * Event (docs/deployment.md, "GKE: Log Router sink → Pub/Sub → Peregrine": the mapping and what GKE events lack).
 *
 * Default: the mapping Falco's k8saudit-gke applies, so rules see the same
 * ka.* values as with Falco — verb from methodName, objectRef from
 * resourceName, level/stage/status inferred, both timestamps from
 * receiveTimestamp, annotations = labels ∪ resource.labels.  Faithful mode
 * (gkeConversion: faithful) keeps what the entry really says: the status
 * code (a Status response's code, else the gRPC code mapped to HTTP), the
 * event time from `timestamp`, and the core API group as "".
 * Keys are written in the order Go's encoder writes auditv1.Event.
 */
#include "envelope/envelope_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct span {
    const char *p;
    size_t n;
} span;

static bool ends_with(const char *s, size_t n, const char *suf)
{
    size_t k = strlen(suf);
    return n >= k && !memcmp(s + n - k, suf, k);
}

int env_parse_time(const char *s, size_t n, int64_t *sec, long *nsec)
{
    struct tm tm = {0};
    if (n < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') || s[13] != ':' || s[16] != ':')
        return -EINVAL;
    int f[6];
    const int at[6] = {0, 5, 8, 11, 14, 17}, len[6] = {4, 2, 2, 2, 2, 2};
    for (int i = 0; i < 6; i++) {
        f[i] = 0;
        for (int j = 0; j < len[i]; j++) {
            char c = s[at[i] + j];
            if (c < '0' || c > '9')
                return -EINVAL;
            f[i] = f[i] * 10 + (c - '0');
        }
    }
    tm.tm_year = f[0] - 1900;
    tm.tm_mon = f[1] - 1;
    tm.tm_mday = f[2];
    tm.tm_hour = f[3];
    tm.tm_min = f[4];
    tm.tm_sec = f[5];
    size_t i = 19;
    long ns = 0;
    if (i < n && s[i] == '.') {
        int digits = 0;
        for (i++; i < n && s[i] >= '0' && s[i] <= '9'; i++)
            if (digits++ < 9)
                ns = ns * 10 + (s[i] - '0');
        if (!digits)
            return -EINVAL;
        for (; digits < 9; digits++)
            ns *= 10;
    }
    int64_t off = 0;
    if (i < n && (s[i] == 'Z' || s[i] == 'z')) {
        i++;
    } else if (i + 6 == n && (s[i] == '+' || s[i] == '-') && s[i + 3] == ':') {
        int h = (s[i + 1] - '0') * 10 + (s[i + 2] - '0'), m = (s[i + 4] - '0') * 10 + (s[i + 5] - '0');
        off = (s[i] == '-' ? -1 : 1) * (int64_t)(h * 3600 + m * 60);
        i += 6;
    } else {
        return -EINVAL;
    }
    if (i != n)
        return -EINVAL;
    *sec = (int64_t)timegm(&tm) - off;
    *nsec = ns;
    return 0;
}

/* metav1.MicroTime as Go writes it: UTC, exactly six fractional digits. */
static void put_micro_time(buf *out, const char *s, size_t n)
{
    int64_t sec;
    long ns;
    if (env_parse_time(s, n, &sec, &ns)) {
        json_write_string(out, s, n);   /* as given: the event's time check reports it */
        return;
    }
    time_t t = (time_t)sec;
    struct tm tm;
    gmtime_r(&t, &tm);
    char b[64];
    size_t k = strftime(b, sizeof b, "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(b + k, sizeof b - k, ".%06ldZ", ns / 1000);
    buf_printf(out, "\"%s\"", b);
}

static void key(buf *out, const char *k)
{
    buf_printf(out, ",\"%s\":", k);
}

static void put_str(buf *out, const char *k, span v)
{
    key(out, k);
    json_write_string(out, v.p, v.n);
}

static span member(const json_doc *d, uint32_t obj, const char *k, buf *scratch)
{
    span s = {NULL, 0};
    s.p = env_member_str(d, obj, k, scratch, &s.n);
    return s;
}

/* gRPC status code → HTTP (google.rpc.Code's documented mapping). */
static int grpc_to_http(long c)
{
    static const int map[17] = {200, 499, 500, 400, 504, 404, 409, 403, 429, 400, 409, 400, 501, 500, 503, 500, 401};
    return c >= 0 && c <= 16 ? map[c] : 500;
}

/* responseStatus: inferred (default) or the entry's own (faithful). */
static void put_status(const json_doc *d, uint32_t pp, bool faithful, span verb, bool streaming, buf *out,
                       buf *scratch)
{
    key(out, "responseStatus");
    if (faithful) {
        uint32_t resp = json_get(d, pp, "response", 8);
        if (resp != JSON_NONE && json_type_of(d, resp) == JSON_OBJECT) {
            span kind = member(d, resp, "kind", scratch);
            uint32_t code = json_get(d, resp, "code", 4);
            if (kind.p && kind.n == 6 && !memcmp(kind.p, "Status", 6) && code != JSON_NONE &&
                json_type_of(d, code) == JSON_NUMBER) {
                buf_puts(out, "{\"metadata\":{}");
                const char *ks[] = {"status", "message", "reason"};
                for (int i = 0; i < 3; i++) {
                    span v = member(d, resp, ks[i], scratch);
                    if (v.p && v.n)
                        put_str(out, ks[i], v);
                }
                size_t n;
                const char *raw = json_raw(d, code, &n);
                buf_printf(out, ",\"code\":%.*s}", (int)n, raw);
                return;
            }
        }
        uint32_t st = json_get(d, pp, "status", 6);
        uint32_t code = st != JSON_NONE && json_type_of(d, st) == JSON_OBJECT ? json_get(d, st, "code", 4) : JSON_NONE;
        if (code != JSON_NONE && json_type_of(d, code) == JSON_NUMBER) {
            size_t n;
            const char *raw = json_raw(d, code, &n);
            long c = strtol(raw, NULL, 10);
            if (c != 0) {
                buf_puts(out, "{\"metadata\":{},\"status\":\"Failure\"");
                span m = member(d, st, "message", scratch);
                if (m.p && m.n)
                    put_str(out, "message", m);
                buf_printf(out, ",\"code\":%d}", grpc_to_http(c));
                return;
            }
        }
    }
    if (streaming)
        buf_puts(out, "{\"metadata\":{},\"status\":\"Switching Protocols (inferred)\","
                      "\"message\":\"Switching Protocols (inferred)\",\"code\":101}");
    else if (verb.n == 6 && !memcmp(verb.p, "create", 6))
        buf_puts(out, "{\"metadata\":{},\"status\":\"Created (inferred)\",\"message\":\"Created (inferred)\",\"code\":201}");
    else
        buf_puts(out, "{\"metadata\":{},\"status\":\"OK (inferred)\",\"message\":\"OK (inferred)\",\"code\":200}");
}

/* objectRef from resourceName's '/'-separated parts, as k8saudit-gke
 * reads them; false when the name has no shape it knows. */
static bool put_object_ref(span rn, bool faithful, buf *out, span *sub)
{
    span part[8];
    size_t np = 0;
    const char *p = rn.p, *end = rn.p + rn.n;
    while (np < 8) {
        const char *s = memchr(p, '/', (size_t)(end - p));
        part[np++] = (span){p, s ? (size_t)(s - p) : (size_t)(end - p)};
        if (!s)
            break;
        p = s + 1;
    }
    if (!rn.n)
        return false;
    bool ns = np >= 3 && part[2].n == 10 && !memcmp(part[2].p, "namespaces", 10);
    span res = {0}, nsname = {0}, name = {0};
    *sub = (span){0};
    if (np == 6 && ns) {
        nsname = part[3], res = part[4], name = part[5];
    } else if (np == 5 && ns) {
        nsname = part[3], res = part[4];
    } else if (np == 4) {
        res = part[2], name = part[3];
    } else if (np >= 7 && ns) {
        nsname = part[3], res = part[4], name = part[5], *sub = part[6];
    } else if (np >= 5 && !ns) {
        res = part[2], name = part[3], *sub = part[4];
    } else {
        return false;
    }
    key(out, "objectRef");
    buf_putc(out, '{');
    size_t mark = out->len;
    span group = part[0];
    if (faithful && group.n == 4 && !memcmp(group.p, "core", 4))
        group.n = 0;
    struct { const char *k; span v; } f[] = {
        {"resource", res}, {"namespace", nsname}, {"name", name},
        {"apiGroup", group}, {"apiVersion", part[1]}, {"subresource", *sub},
    };
    for (size_t i = 0; i < sizeof f / sizeof *f; i++) {
        if (!f[i].v.n)
            continue;   /* omitempty */
        buf_printf(out, "%s\"%s\":", out->len > mark ? "," : "", f[i].k);
        json_write_string(out, f[i].v.p, f[i].v.n);
    }
    buf_putc(out, '}');
    return true;
}

/* annotations = labels ∪ resource.labels (resource labels win, as the
 * plugin fills its map with them last). */
static void put_annotations(const json_doc *d, uint32_t labels, uint32_t rlabels, buf *out)
{
    bool any = false;
    uint32_t objs[2] = {rlabels, labels};
    for (int o = 0; o < 2; o++) {
        uint32_t obj = objs[o];
        if (obj == JSON_NONE || json_type_of(d, obj) != JSON_OBJECT)
            continue;
        for (uint32_t k = json_first(d, obj); k != JSON_NONE;) {
            uint32_t v = json_next(d, obj, k);
            if (v == JSON_NONE)
                break;
            size_t kn, vn;
            const char *kr = json_raw(d, k, &kn);
            /* a label also among resource.labels was written already */
            bool dup = o == 1 && rlabels != JSON_NONE && json_type_of(d, rlabels) == JSON_OBJECT &&
                       json_get(d, rlabels, kr + 1, kn - 2) != JSON_NONE;
            if (json_type_of(d, v) == JSON_STRING && !dup) {
                buf_puts(out, any ? "," : ",\"annotations\":{");
                any = true;
                const char *vr = json_raw(d, v, &vn);
                buf_put(out, kr, kn);
                buf_putc(out, ':');
                buf_put(out, vr, vn);
            }
            k = json_next(d, obj, v);
        }
    }
    if (any)
        buf_putc(out, '}');
}

int gke_convert(const json_doc *d, uint32_t v, bool faithful, buf *out, char *cluster, size_t clen)
{
    buf s1 = BUF_INIT, s2 = BUF_INIT;
    int rc = 0;
    uint32_t pp = json_get(d, v, "protoPayload", 12);
    uint32_t res = json_get(d, v, "resource", 8);
    uint32_t rlabels = res != JSON_NONE && json_type_of(d, res) == JSON_OBJECT ? json_get(d, res, "labels", 6)
                                                                               : JSON_NONE;
    span logname = member(d, v, "logName", &s1);
    bool audit_log = logname.p && (ends_with(logname.p, logname.n, "%2Factivity") ||
                                   ends_with(logname.p, logname.n, "%2Fdata_access") ||
                                   ends_with(logname.p, logname.n, "/activity") ||
                                   ends_with(logname.p, logname.n, "/data_access"));
    if (!audit_log)
        goto done;
    span f = member(d, res, "type", &s1);
    if (!f.p || f.n != 11 || memcmp(f.p, "k8s_cluster", 11))
        goto done;
    static const char audit_type[] = "type.googleapis.com/google.cloud.audit.AuditLog";
    f = member(d, pp, "@type", &s1);
    if (!f.p || f.n != sizeof audit_type - 1 || memcmp(f.p, audit_type, f.n))
        goto done;
    f = member(d, pp, "serviceName", &s1);
    if (!f.p || f.n != 6 || memcmp(f.p, "k8s.io", 6))
        goto done;
    span method = member(d, pp, "methodName", &s1);
    span verb = {"", 0};
    if (method.p) {
        const char *dot = memrchr(method.p, '.', method.n);
        verb = dot ? (span){dot + 1, method.n - (size_t)(dot + 1 - method.p)} : method;
    }
    buf verbcopy = BUF_INIT;    /* s1 is reused below */
    buf_put(&verbcopy, verb.p, verb.n);
    verb.p = verbcopy.data ? verbcopy.data : "";
    span rn = member(d, pp, "resourceName", &s2);
    buf rncopy = BUF_INIT;
    buf_put(&rncopy, rn.p ? rn.p : "", rn.p ? rn.n : 0);
    rn = (span){rncopy.data ? rncopy.data : "", rncopy.len};

    /* objectRef first (it decides level, stage and status) into a side buffer */
    buf oref = BUF_INIT;
    span sub = {0};
    bool has_ref = put_object_ref(rn, faithful, &oref, &sub);
    bool streaming = has_ref && ((sub.n == 6 && !memcmp(sub.p, "attach", 6)) || (sub.n == 4 && !memcmp(sub.p, "exec", 4)));

    buf_puts(out, "{\"kind\":\"Event\",\"apiVersion\":\"audit.k8s.io/v1\"");
    buf_puts(out, streaming ? ",\"level\":\"Request\"" : ",\"level\":\"RequestResponse\"");
    span id = member(d, v, "insertId", &s1);
    put_str(out, "auditID", id.p ? id : (span){"", 0});
    buf_puts(out, streaming ? ",\"stage\":\"ResponseStarted\"" : ",\"stage\":\"ResponseComplete\"");
    {
        buf uri = BUF_INIT;
        buf_putc(&uri, '/');
        buf_put(&uri, rn.p, rn.n);
        key(out, "requestURI");
        json_write_string(out, uri.data, uri.len);
        buf_free(&uri);
    }
    put_str(out, "verb", verb);
    uint32_t ai = json_get(d, pp, "authenticationInfo", 18);
    span user = member(d, ai, "principalEmail", &s1);
    buf_puts(out, ",\"user\":{");
    if (user.p && user.n) {
        buf_puts(out, "\"username\":");
        json_write_string(out, user.p, user.n);
    }
    buf_putc(out, '}');
    uint32_t rm = json_get(d, pp, "requestMetadata", 15);
    span ip = member(d, rm, "callerIp", &s1);
    buf_puts(out, ",\"sourceIPs\":[");
    json_write_string(out, ip.p ? ip.p : "", ip.p ? ip.n : 0);
    buf_putc(out, ']');
    span ua = member(d, rm, "callerSuppliedUserAgent", &s1);
    if (ua.p && ua.n)
        put_str(out, "userAgent", ua);
    if (has_ref)
        buf_put(out, oref.data, oref.len);
    put_status(d, pp, faithful, verb, streaming, out, &s1);
    const char *objs[2][2] = {{"request", "requestObject"}, {"response", "responseObject"}};
    for (int i = 0; i < 2; i++) {
        uint32_t o = json_get(d, pp, objs[i][0], strlen(objs[i][0]));
        if (o != JSON_NONE && json_type_of(d, o) == JSON_OBJECT) {
            key(out, objs[i][1]);
            json_compact(d, o, out);
        }
    }
    span t = member(d, v, faithful ? "timestamp" : "receiveTimestamp", &s1);
    if (!t.p)
        t = member(d, v, faithful ? "receiveTimestamp" : "timestamp", &s1);
    if (t.p) {
        key(out, "requestReceivedTimestamp");
        put_micro_time(out, t.p, t.n);
        key(out, "stageTimestamp");
        put_micro_time(out, t.p, t.n);
    }
    put_annotations(d, json_get(d, v, "labels", 6), rlabels, out);
    buf_putc(out, '}');
    span cn = member(d, rlabels, "cluster_name", &s1);
    if (cn.p && cn.n && cn.n < clen) {
        memcpy(cluster, cn.p, cn.n);
        cluster[cn.n] = 0;
    }
    rc = out->oom ? -ENOMEM : 1;
    buf_free(&oref);
    buf_free(&verbcopy);
    buf_free(&rncopy);
done:
    buf_free(&s1);
    buf_free(&s2);
    return rc;
}
