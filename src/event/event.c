/*
 * event — payload splitting and per-event checks (docs/compat/source.md §4).
 */
#include "event/event.h"
#include "util/alloc.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

/* Shortest and longest name in EVENT_ROOT_KEYS; KEY_PAD holds the longest
 * and its NUL. */
#define KEY_MIN_LEN 4
#define KEY_MAX_LEN 16
#define KEY_PAD (KEY_MAX_LEN + 1)

#define NOT_RECOGNIZED "data not recognized as a k8s audit event"

/* The batch's next free slot (not counted yet), or NULL on allocation
 * failure.  Events are built in place there: building one on the stack
 * and copying it in read back, 16 bytes at a time, fields just stored 4
 * or 8 bytes at a time (a store-forwarding stall per event). */
static audit_event *next_slot(event_batch *b)
{
    if (b->n == b->cap) {
        size_t cap = b->cap ? b->cap * 2 : 64;
        audit_event *p = pg_realloc(b->ev, cap * sizeof *p);
        if (!p)
            return NULL;
        b->ev = p;
        b->cap = cap;
    }
    return &b->ev[b->n];
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

/* Seconds since the epoch of the minute s[0..16) ("YYYY-MM-DDTHH:MM"),
 * or -EINVAL.  The 12 digits are checked at once (dig(c) + 6 < 16 exactly
 * when c is a digit). */
static int parse_minute(const char *s, int64_t *secs)
{
    if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':')
        return -EINVAL;
    unsigned y0 = dig(s[0]), y1 = dig(s[1]), y2 = dig(s[2]), y3 = dig(s[3]);
    unsigned M0 = dig(s[5]), M1 = dig(s[6]), D0 = dig(s[8]), D1 = dig(s[9]);
    unsigned h0 = dig(s[11]), h1 = dig(s[12]), m0 = dig(s[14]), m1 = dig(s[15]);
    if (((y0 + 6) | (y1 + 6) | (y2 + 6) | (y3 + 6) | (M0 + 6) | (M1 + 6) | (D0 + 6) | (D1 + 6) | (h0 + 6) |
         (h1 + 6) | (m0 + 6) | (m1 + 6)) > 15)
        return -EINVAL;
    unsigned Y = y0 * 1000 + y1 * 100 + y2 * 10 + y3, M = M0 * 10 + M1, D = D0 * 10 + D1;
    unsigned h = h0 * 10 + h1, m = m0 * 10 + m1;
    if (M < 1 || M > 12 || D < 1 || D > days_in_month(Y, M) || h > 23 || m > 59)
        return -EINVAL;
    *secs = days_from_civil(Y, M, D) * 86400 + h * 3600 + m * 60;
    return 0;
}

/* The last minute parse_minute accepted on this thread: consecutive
 * events mostly share their minute, and one 16-byte compare is cheaper
 * than parsing and range-checking 12 digits and the calendar again. */
static _Thread_local struct {
    char text[16];
    int64_t secs;
    bool valid;
} last_minute;

/* YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM), fraction 1-9 digits ('.' or ','). */
int event_parse_time(const char *s, size_t n, int64_t *ns)
{
    if (n < 20 || s[16] != ':')
        return -EINVAL;
    int64_t base;
    if (last_minute.valid && memcmp(s, last_minute.text, 16) == 0) {
        base = last_minute.secs;
    } else {
        if (parse_minute(s, &base))
            return -EINVAL;
        memcpy(last_minute.text, s, 16);
        last_minute.secs = base;
        last_minute.valid = true;
    }
    unsigned s0 = dig(s[17]), s1 = dig(s[18]);
    if (((s0 + 6) | (s1 + 6)) > 15)
        return -EINVAL;
    unsigned sec = s0 * 10 + s1;
    if (sec > 59)
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
    int64_t secs = base + sec - offset;
    /* Go's UnixNano: past the int64 range (before 1678, after 2262) the
     * product wraps; unsigned arithmetic does the same without UB. */
    *ns = (int64_t)((uint64_t)secs * 1000000000u + (uint64_t)frac);
    return 0;
}

/* ---- the root member table (event.h: audit_event.keys) ---- */

/* The names, each in 16 bytes + NUL so the classifier can load a whole
 * word from any of them (key_of). */
static const struct {
    char s[KEY_PAD];
    size_t len;
} key_names[EK__COUNT] = {
#define EVENT_KEY_NAME(k) [EK_##k] = {#k, sizeof #k - 1},
    EVENT_ROOT_KEYS(EVENT_KEY_NAME)
#undef EVENT_KEY_NAME
};

/* key_of runs for every top-level member of every event, so it avoids
 * branches that mispredict: a hash of (first byte, last byte, length) —
 * perfect over EVENT_ROOT_KEYS, which a unit test checks — picks the one
 * candidate, and two overlapping word compares (the first and last 4 or 8
 * bytes) verify it whole. */
#define KEY_HASH(p, n) (((unsigned char)(p)[0] + (unsigned char)(p)[(n) - 1] * 10u + (unsigned)(n) * 3u) & 31u)

/* hash → 1 + event_key, 0 for no name (filled before main, below) */
static uint8_t key_by_hash[32];

__attribute__((constructor)) static void key_table_init(void)
{
    for (int k = 0; k < EK__COUNT; k++)
        key_by_hash[KEY_HASH(key_names[k].s, key_names[k].len)] = (uint8_t)(k + 1);
}

static inline uint64_t load8(const char *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static inline uint32_t load4(const char *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* The event_key of p[0..n), or -1.  Reads only p[0..n). */
static inline __attribute__((always_inline)) int key_of(const char *p, size_t n)
{
    if (n < KEY_MIN_LEN || n > KEY_MAX_LEN)
        return -1;
    int k = key_by_hash[KEY_HASH(p, n)] - 1;
    if (k < 0 || key_names[k].len != n)
        return -1;
    const char *w = key_names[k].s;
    bool eq = n >= 8 ? load8(p) == load8(w) && load8(p + n - 8) == load8(w + n - 8)
                     : load4(p) == load4(w) && load4(p + n - 4) == load4(w + n - 4);
    return eq ? k : -1;
}

/* an escape takes at most 6 source bytes per decoded byte, so a longer
 * escaped name cannot decode to one of ours */
#define KEY_MAX_RAW (6 * KEY_MAX_LEN)

int event_key_of(const char *s, size_t n) { return key_of(s, n); }

/* Member key node k of an event object into the table. */
static inline void index_member(const json_doc *d, uint32_t k, uint32_t keys[EK__COUNT])
{
    const json_node *n = &d->nodes[k];
    int slot;
    if (!(n->flags & JSON_F_ESCAPES)) {
        slot = key_of(d->src + n->start, n->len);
    } else if (n->len <= KEY_MAX_RAW) {
        /* `"\u0076erb"` is the member verb, as for json_get */
        char tmp[KEY_MAX_RAW];
        slot = key_of(tmp, json_unescape(d->src + n->start, n->len, tmp));
    } else {
        return;
    }
    if (slot >= 0 && keys[slot] == JSON_NONE) /* first duplicate wins */
        keys[slot] = k + 1;
}

void event_root_index(const json_doc *d, uint32_t obj, uint32_t keys[EK__COUNT])
{
    for (int k = 0; k < EK__COUNT; k++)
        keys[k] = JSON_NONE;
    if (d->nodes[obj].type != JSON_OBJECT)
        return;
    /* The document's root: its key nodes as the parser noted them, so the
     * members are classified independently of each other.  Otherwise
     * (events inside an EventList, a root of over JSON_ROOT_KEYS_MAX
     * members): the walk, where each step waits for the previous value's
     * `next`. */
    if (obj == 0 && d->n_root_keys <= JSON_ROOT_KEYS_MAX) {
        for (uint32_t i = 0; i < d->n_root_keys; i++)
            index_member(d, d->root_keys[i], keys);
        return;
    }
    for (uint32_t k = obj + 1; k < d->nodes[obj].next; k = d->nodes[k + 1].next)
        index_member(d, k, keys);
}

uint32_t event_member_slow(const audit_event *ev, event_key k)
{
    return json_get(ev->doc, ev->root, key_names[k].s, key_names[k].len);
}

/* One event object: timestamp and size checks (docs/compat/source.md §4.3).  ev: the batch's
 * next slot (next_slot), its keys already filled by event_root_index;
 * the event is counted when kept.  Returns 0 when the event was kept or
 * dropped on its own. */
/* Whether a drop is to be said one by one: the payload's first
 * EVENT_DROPS_SAID are (the caller reports how many more there were), so
 * one body of a million bad items costs a few lines, not a million. */
static bool drop_said(const event_batch *out, event_drop_fn on_drop)
{
    return on_drop && out->dropped <= EVENT_DROPS_SAID;
}

static int add_event(const json_doc *doc, uint32_t obj, audit_event *ev, const event_limits *lim,
                     event_batch *out, event_drop_fn on_drop, void *ctx)
{
    char msg[256];
    uint32_t ts = ev->keys[EK_stageTimestamp];
    if (ts == JSON_NONE) {
        out->dropped++;
        if (drop_said(out, on_drop))
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
        if (drop_said(out, on_drop)) {
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
        if (drop_said(out, on_drop)) {
            snprintf(msg, sizeof msg, "event larger than maxEventSize: size=%zu", size);
            on_drop(ctx, msg);
        }
        return 0;
    }
    ev->doc = doc;
    ev->root = obj;
    ev->size = (uint32_t)size;
    ev->ts_ns = ns;
    ev->keyed = true;
    out->n++;
    return 0;
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
    /* the table serves the `kind` check and, for an Event, the event: it
     * is built in the batch's next slot, which an EventList's items then
     * reuse */
    audit_event *ev = next_slot(out);
    if (!ev)
        return -ENOMEM;
    event_root_index(doc, v, ev->keys);
    uint32_t kind = ev->keys[EK_kind];
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
                if (drop_said(out, on_drop))
                    on_drop(ctx, "can't read stageTimestamp");
                continue;
            }
            audit_event *item = next_slot(out);
            if (!item)
                return -ENOMEM;
            event_root_index(doc, c, item->keys);
            if ((rc = add_event(doc, c, item, lim, out, on_drop, ctx)))
                return rc;
        }
        return 0;
    }
    if (json_string_eq(doc, kind, "Event", 5))
        return add_event(doc, v, ev, lim, out, on_drop, ctx);
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
