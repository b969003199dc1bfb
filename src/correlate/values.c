/*
 * values — %corr.* text and the `correlation` JSON object (see values.h).
 */
#include "correlate/values.h"
#include "json/json.h"

#include <string.h>
#include <time.h>

static const char *const type_names[] = {
    [CC_EVENT_COUNT] = "event_count", [CC_VALUE_COUNT] = "value_count", [CC_TEMPORAL] = "temporal",
    [CC_TEMPORAL_ORDERED] = "temporal_ordered", [CC_NEW_VALUE] = "new_value",
};

static void put_time(buf *b, int64_t ns)
{
    int64_t s = ns / 1000000000, f = ns % 1000000000;
    if (f < 0) {
        f += 1000000000;
        s--;
    }
    time_t t = (time_t)s;
    struct tm tm;
    gmtime_r(&t, &tm);
    const unsigned v[] = {(unsigned)(tm.tm_year + 1900), (unsigned)tm.tm_mon + 1, (unsigned)tm.tm_mday,
                          (unsigned)tm.tm_hour, (unsigned)tm.tm_min, (unsigned)tm.tm_sec};
    static const char sep[] = "--T::.";
    for (int i = 0; i < 6; i++) {
        buf_put_u64(b, v[i], i ? 2 : 4);
        buf_putc(b, sep[i]);
    }
    buf_put_u64(b, (unsigned long long)f, 9);
    buf_putc(b, 'Z');
}

/* A step record: auditID \x1f time-ns \x1f verb \x1f resource. */
static size_t split_info(const char *p, size_t n, const char *part[4], size_t len[4])
{
    size_t k = 0, start = 0;
    for (size_t i = 0; i <= n && k < 4; i++)
        if (i == n || p[i] == '\x1f') {
            part[k] = p + start;
            len[k++] = i - start;
            start = i + 1;
        }
    for (size_t i = k; i < 4; i++)
        part[i] = "", len[i] = 0;
    return k;
}

static int64_t parse_ns(const char *p, size_t n)
{
    int64_t v = 0;
    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '9'; i++)
        v = v * 10 + (p[i] - '0');
    return v;
}

/* Each step record of op's steps, in order. */
static void each_step(const char *opdata, const store_op *op, void (*fn)(void *, const char *[4], size_t[4], bool),
                      void *ctx)
{
    const char *p = opdata + op->steps_off, *end = p + op->steps_len;
    bool first = true;
    while (p < end) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
        const char *part[4];
        size_t len[4];
        split_info(p, n, part, len);
        fn(ctx, part, len, first);
        first = false;
        p += n + 1;
    }
}

/* One step record: "auditID@time verb resource" in text, an object in
 * JSON; ctx is a step_out. */
typedef struct step_out {
    buf *b;
    bool json;
} step_out;

static void step_put(void *ctx, const char *part[4], size_t len[4], bool first)
{
    const step_out *o = ctx;
    buf *b = o->b;
    static const char *const text_sep[4] = {"", "@", " ", " "};
    static const char *const json_key[4] = {"{\"auditID\":", ",\"time\":", ",\"verb\":", ",\"resource\":"};
    if (!first)
        buf_puts(b, o->json ? "," : "; ");
    for (int i = 0; i < 4; i++) {
        buf_puts(b, o->json ? json_key[i] : text_sep[i]);
        if (i == 1) {
            buf_puts(b, o->json ? "\"" : "");
            put_time(b, parse_ns(part[1], len[1]));
            buf_puts(b, o->json ? "\"" : "");
        } else if (o->json) {
            json_write_string(b, part[i], len[i]);
        } else {
            buf_put(b, part[i], len[i]);
        }
    }
    if (o->json)
        buf_putc(b, '}');
}

static void put_key(buf *b, const char *k, size_t n, bool json)
{
    size_t start = b->len;
    if (!json) {
        for (size_t i = 0; i < n; i++)
            buf_putc(b, k[i] == '\x1f' ? ',' : k[i]);
        return;
    }
    buf tmp = BUF_INIT;
    put_key(&tmp, k, n, false);
    json_write_string(b, tmp.data ? tmp.data : "", tmp.len);
    buf_free(&tmp);
    (void)start;
}

/* The store's NUL-separated sample values, comma-separated (JSON strings
 * when json). */
static void put_values(buf *b, const char *vals, size_t len, bool json)
{
    for (size_t i = 0; i < len;) {
        size_t n = strlen(vals + i);
        if (i)
            buf_putc(b, ',');
        put_key(b, vals + i, n, json);
        i += n + 1;
    }
}

void corr_values_render(const ccorr *c, const corr_hit *hit, const char *hitdata, const store_op *op,
                        const char *opdata, bool json, corr_values *out)
{
    buf *t = &out->text;
    buf_clear(t);
    const char *vals = opdata + op->values_off;
    for (int f = 1; f < CORR_F__COUNT; f++) {
        out->off[f] = t->len;
        out->len[f] = 0;
        if (!(c->used & (1u << f)))
            continue;
        switch ((corr_field)f) {
        case CORR_F_COUNT: buf_put_u64(t, op->count, 0); break;
        case CORR_F_DISTINCT: buf_put_u64(t, op->distinct, 0); break;
        case CORR_F_VALUES:
            buf_putc(t, '(');
            put_values(t, vals, op->values_len, false);
            buf_putc(t, ')');
            break;
        case CORR_F_FIRST_TIME: put_time(t, op->first_ts); break;
        case CORR_F_LAST_TIME: put_time(t, op->last_ts); break;
        case CORR_F_WINDOW: buf_puts(t, c->window_text ? c->window_text : ""); break;
        case CORR_F_KEY: put_key(t, hitdata + hit->key, hit->keylen, false); break;
        case CORR_F_SUPPRESSED: buf_put_u64(t, op->suppressed, 0); break;
        case CORR_F_STEPS: each_step(opdata, op, step_put, &(step_out){t, false}); break;
        default: break;
        }
        out->len[f] = t->len - out->off[f];
    }
    buf *j = &out->json;
    buf_clear(j);
    if (!json)
        return;
    buf_puts(j, "{\"type\":\"");
    buf_puts(j, type_names[c->type]);
    buf_puts(j, "\",\"key\":");
    put_key(j, hitdata + hit->key, hit->keylen, true);
    buf_puts(j, ",\"count\":");
    buf_put_u64(j, op->count, 0);
    if (c->type == CC_VALUE_COUNT || c->type == CC_NEW_VALUE) {
        buf_puts(j, ",\"distinct\":");
        buf_put_u64(j, op->distinct, 0);
    }
    buf_puts(j, ",\"values\":[");
    put_values(j, vals, op->values_len, true);
    buf_puts(j, "],\"first_time\":\"");
    put_time(j, op->first_ts);
    buf_puts(j, "\",\"last_time\":\"");
    put_time(j, op->last_ts);
    buf_puts(j, "\",\"window\":");
    json_write_string(j, c->window_text ? c->window_text : "", c->window_text ? strlen(c->window_text) : 0);
    buf_puts(j, ",\"suppressed\":");
    buf_put_u64(j, op->suppressed, 0);
    if (c->type == CC_TEMPORAL || c->type == CC_TEMPORAL_ORDERED) {
        buf_puts(j, ",\"steps\":[");
        each_step(opdata, op, step_put, &(step_out){j, true});
        buf_putc(j, ']');
    }
    buf_putc(j, '}');
}

void corr_values_free(corr_values *v)
{
    buf_free(&v->text);
    buf_free(&v->json);
}
