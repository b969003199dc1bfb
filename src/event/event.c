/*
 * event — payload splitting and per-event checks (spec/source.md §4).
 */
#include "event/event.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define NOT_RECOGNIZED "data not recognized as a k8s audit event"

static int push_event(event_batch *b, const audit_event *ev)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        audit_event *p = pg_realloc(b->ev, cap * sizeof *p);
        if (!p)
            return -ENOMEM;
        b->ev = p;
        b->cap = cap;
    }
    b->ev[b->n++] = *ev;
    return 0;
}

/* Value of the decimal digit c, or 10..255 when c is not one (the byte
 * difference wraps within 8 bits, so dig(c) + 6 never wraps to a small
 * number). */
static inline unsigned dig(char c) { return (unsigned char)((unsigned char)c - '0'); }

/* Days since 1970-01-01 of a proleptic Gregorian date. */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    const int64_t era = (y >= 0 ? y : y - 399) / 400;
    const unsigned yoe = (unsigned)(y - era * 400);
    const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
    static const unsigned char dm[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
        return 29;
    return dm[m - 1];
}

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), fraction 1-9 digits ('.' or ',').
 * Runs once per event: straight-line code, the 14 digits of the fixed
 * part checked at once (dig(c) + 6 < 16 exactly when c is a digit). */
int event_parse_time(const char *s, size_t n, int64_t *ns)
{
    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
        return -EINVAL;
    unsigned y0 = dig(s[0]), y1 = dig(s[1]), y2 = dig(s[2]), y3 = dig(s[3]);
    unsigned M0 = dig(s[5]), M1 = dig(s[6]), D0 = dig(s[8]), D1 = dig(s[9]);
    unsigned h0 = dig(s[11]), h1 = dig(s[12]), m0 = dig(s[14]), m1 = dig(s[15]);
    unsigned s0 = dig(s[17]), s1 = dig(s[18]);
    if (((y0 + 6) | (y1 + 6) | (y2 + 6) | (y3 + 6) | (M0 + 6) | (M1 + 6) | (D0 + 6) | (D1 + 6) | (h0 + 6) |
         (h1 + 6) | (m0 + 6) | (m1 + 6) | (s0 + 6) | (s1 + 6)) > 15)
        return -EINVAL;
    unsigned Y = y0 * 1000 + y1 * 100 + y2 * 10 + y3, M = M0 * 10 + M1, D = D0 * 10 + D1;
    unsigned h = h0 * 10 + h1, m = m0 * 10 + m1, sec = s0 * 10 + s1;
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59 || sec > 59)
        return -EINVAL;
    size_t i = 19;
    int64_t frac = 0, offset = 0;
    if (n == 27 && s[19] == '.' && s[26] == 'Z') {
        /* what the API server writes: microseconds, UTC */
        unsigned f0 = dig(s[20]), f1 = dig(s[21]), f2 = dig(s[22]), f3 = dig(s[23]), f4 = dig(s[24]),
                 f5 = dig(s[25]);
        if (((f0 + 6) | (f1 + 6) | (f2 + 6) | (f3 + 6) | (f4 + 6) | (f5 + 6)) > 15)
            return -EINVAL;
        frac = (int64_t)(((((f0 * 10 + f1) * 10 + f2) * 10 + f3) * 10 + f4) * 10 + f5) * 1000;
        i = n;
    } else {
        if (s[i] == '.' || s[i] == ',') {
            static const int32_t scale[10] = {0, 100000000, 10000000, 1000000, 100000, 10000, 1000, 100, 10, 1};
            size_t start = ++i;
            unsigned v = 0, d;
            while (i < n && (d = dig(s[i])) <= 9 && i - start < 10) {
                v = v * 10 + d; /* 10 digits may wrap: an error anyway */
                i++;
            }
            size_t nd = i - start;
            if (nd < 1 || nd > 9)
                return -EINVAL;
            frac = (int64_t)v * scale[nd];
        }
        if (i < n && s[i] == 'Z') {
            i++;
        } else if (i < n && (s[i] == '+' || s[i] == '-')) {
            if (n - i < 6 || s[i + 3] != ':')
                return -EINVAL;
            unsigned a = dig(s[i + 1]), b = dig(s[i + 2]), c = dig(s[i + 4]), e = dig(s[i + 5]);
            if (((a + 6) | (b + 6) | (c + 6) | (e + 6)) > 15)
                return -EINVAL;
            unsigned oh = a * 10 + b, om = c * 10 + e;
            if (oh > 23 || om > 59)
                return -EINVAL;
            offset = (int64_t)(oh * 3600 + om * 60) * (s[i] == '-' ? -1 : 1);
            i += 6;
        } else {
            return -EINVAL;
        }
    }
    if (i != n)
        return -EINVAL;
    int64_t secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60 + sec - offset;
    /* Go's UnixNano: past the int64 range (before 1678, after 2262) the
     * product wraps; unsigned arithmetic does the same without UB. */
    *ns = (int64_t)((uint64_t)secs * 1000000000u + (uint64_t)frac);
    return 0;
}

/* ---- the root member table (event.h: audit_event.keys) ---- */

static const struct {
    const char *s;
    size_t len;
} key_names[EK__COUNT] = {
#define EVENT_KEY_NAME(k) [EK_##k] = {#k, sizeof #k - 1},
    EVENT_ROOT_KEYS(EVENT_KEY_NAME)
#undef EVENT_KEY_NAME
};

/* Classify a member name: a switch on the length, then fixed-size
 * compares (inlined as word loads), since this runs for every top-level
 * member of every event (inlined into the scan).  Must list exactly EVENT_ROOT_KEYS (a unit test
 * checks every name and near misses). */
static inline __attribute__((always_inline)) int key_of(const char *p, size_t n)
{
#define IS(lit) (memcmp(p, lit, sizeof lit - 1) == 0)
    switch (n) {
    case 4:
        return IS("verb") ? EK_verb : IS("user") ? EK_user : IS("kind") ? EK_kind : -1;
    case 5:
        return IS("stage") ? EK_stage : -1;
    case 7:
        return IS("auditID") ? EK_auditID : -1;
    case 9:
        return IS("objectRef") ? EK_objectRef : IS("userAgent") ? EK_userAgent : IS("sourceIPs") ? EK_sourceIPs : -1;
    case 10:
        return IS("requestURI") ? EK_requestURI : -1;
    case 11:
        return IS("annotations") ? EK_annotations : -1;
    case 13:
        return IS("requestObject") ? EK_requestObject : -1;
    case 14:
        return IS("responseStatus")   ? EK_responseStatus
               : IS("stageTimestamp") ? EK_stageTimestamp
               : IS("responseObject") ? EK_responseObject
                                      : -1;
    case 16:
        return IS("impersonatedUser") ? EK_impersonatedUser : -1;
    default:
        return -1;
    }
#undef IS
}

/* Longest name in EVENT_ROOT_KEYS; an escape takes at most 6 source bytes
 * per decoded byte, so a longer escaped name cannot decode to one. */
#define KEY_MAX_LEN 16
#define KEY_MAX_RAW (6 * KEY_MAX_LEN)

int event_key_of(const char *s, size_t n) { return key_of(s, n); }

void event_root_index(const json_doc *d, uint32_t obj, uint32_t keys[EK__COUNT])
{
    for (int k = 0; k < EK__COUNT; k++)
        keys[k] = JSON_NONE;
    if (d->nodes[obj].type != JSON_OBJECT)
        return;
    uint32_t end = d->nodes[obj].next;
    for (uint32_t k = obj + 1; k < end; k = d->nodes[k + 1].next) {
        const json_node *n = &d->nodes[k];
        int slot;
        if (!(n->flags & JSON_F_ESCAPES)) {
            slot = key_of(d->src + n->start, n->len);
        } else if (n->len <= KEY_MAX_RAW) {
            /* `"\u0076erb"` is the member verb, as for json_get */
            char tmp[KEY_MAX_RAW];
            slot = key_of(tmp, json_unescape(d->src + n->start, n->len, tmp));
        } else {
            continue;
        }
        if (slot >= 0 && keys[slot] == JSON_NONE) /* first duplicate wins */
            keys[slot] = k + 1;
    }
}

uint32_t event_member_slow(const audit_event *ev, event_key k)
{
    return json_get(ev->doc, ev->root, key_names[k].s, key_names[k].len);
}

/* One event object: timestamp and size checks (§4.3).  keys: its root
 * table, already built by the caller, or NULL.  Returns 0 when the event
 * was kept or dropped on its own, <0 on allocation failure. */
static int add_event(const json_doc *doc, uint32_t obj, const uint32_t *keys, const event_limits *lim,
                     event_batch *out, event_drop_fn on_drop, void *ctx)
{
    char msg[256];
    audit_event ev = {.doc = doc, .root = obj, .keyed = true};
    if (keys)
        memcpy(ev.keys, keys, sizeof ev.keys);
    else
        event_root_index(doc, obj, ev.keys);
    uint32_t ts = ev.keys[EK_stageTimestamp];
    if (ts == JSON_NONE) {
        out->dropped++;
        if (on_drop)
            on_drop(ctx, "can't read stageTimestamp");
        return 0;
    }
    const json_node *tn = json_at(doc, ts);
    const char *text = "";
    size_t len = 0;
    char tmp[64];
    if (tn->type == JSON_STRING) {
        text = doc->src + tn->start;
        len = tn->len;
        if ((tn->flags & JSON_F_ESCAPES) && len <= sizeof tmp) {
            len = json_unescape(text, len, tmp);
            text = tmp;
        }
    }
    int64_t ns;
    if (event_parse_time(text, len, &ns)) {
        out->dropped++;
        if (on_drop) {
            snprintf(msg, sizeof msg,
                     "parsing time \"%.*s\" as \"2006-01-02T15:04:05.999999999Z07:00\": invalid RFC 3339 timestamp",
                     (int)(len > 64 ? 64 : len), text);
            on_drop(ctx, msg);
        }
        return 0;
    }
    /* compact text is never longer than the raw text: only an event whose
     * raw text is over the limit needs its compact length computed */
    size_t size = json_at(doc, obj)->len;
    if (size > lim->max_event_size)
        size = json_compact_len(doc, obj);
    if (size > lim->max_event_size) {
        out->dropped++;
        out->oversized++;
        if (on_drop) {
            snprintf(msg, sizeof msg, "event larger than maxEventSize: size=%zu", size);
            on_drop(ctx, msg);
        }
        return 0;
    }
    ev.size = (uint32_t)size;
    ev.ts_ns = ns;
    return push_event(out, &ev);
}

/* value := array (each element recursively) | EventList | Event */
static int split_value(const json_doc *doc, uint32_t v, const event_limits *lim,
                       event_batch *out, event_drop_fn on_drop, void *ctx)
{
    const json_node *n = json_at(doc, v);
    if (n->type == JSON_ARRAY) {
        for (uint32_t c = json_first(doc, v); c != JSON_NONE; c = json_next(doc, v, c)) {
            int rc = split_value(doc, c, lim, out, on_drop, ctx);
            if (rc)
                return rc;
        }
        return 0;
    }
    if (n->type != JSON_OBJECT)
        return -EINVAL;
    /* the table serves the `kind` check and, for an Event, the event */
    uint32_t keys[EK__COUNT];
    event_root_index(doc, v, keys);
    uint32_t kind = keys[EK_kind];
    if (kind == JSON_NONE || json_type_of(doc, kind) != JSON_STRING)
        return -EINVAL;
    if (json_string_eq(doc, kind, "EventList", 9)) {
        uint32_t items = json_get(doc, v, "items", 5);
        if (items == JSON_NONE || json_type_of(doc, items) != JSON_ARRAY || json_first(doc, items) == JSON_NONE)
            return -EINVAL;
        /* Items are not checked for `kind` (upstream behaviour); a non-object
         * item has no stageTimestamp and is dropped on its own. */
        for (uint32_t c = json_first(doc, items); c != JSON_NONE; c = json_next(doc, items, c)) {
            int rc;
            if (json_type_of(doc, c) != JSON_OBJECT) {
                out->dropped++;
                if (on_drop)
                    on_drop(ctx, "can't read stageTimestamp");
                continue;
            }
            if ((rc = add_event(doc, c, NULL, lim, out, on_drop, ctx)))
                return rc;
        }
        return 0;
    }
    if (json_string_eq(doc, kind, "Event", 5))
        return add_event(doc, v, keys, lim, out, on_drop, ctx);
    return -EINVAL;
}

int event_split(const json_doc *doc, const event_limits *lim, event_batch *out,
                event_drop_fn on_drop, void *ctx, char *err, size_t errlen)
{
    out->n = 0;
    out->dropped = 0;
    out->oversized = 0;
    int rc = split_value(doc, 0, lim, out, on_drop, ctx);
    if (rc) {
        /* Events gathered before an unrecognized element are kept: that is
         * what the plugin's parser returns (conformance case
         * src:array-with-bad-element), and dropping valid events silently is
         * worse than evaluating them.  Upstream's caller discards them. */
        if (rc != -EINVAL)
            out->n = 0;
        if (rc == -EINVAL)
            snprintf(err, errlen, "%s", NOT_RECOGNIZED);
        else
            snprintf(err, errlen, "out of memory");
    }
    return rc;
}

void event_batch_free(event_batch *b)
{
    pg_free(b->ev);
    *b = (event_batch){0};
}
