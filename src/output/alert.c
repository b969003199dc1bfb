/*
 * alert — text and JSON alerts (see alert.h).
 */
#include "output/alert.h"
#include "json/json.h"
#include "rules/compiled.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void split_time(int64_t ns, long offset, struct tm *tm, long *frac)
{
    int64_t s = ns / 1000000000, f = ns % 1000000000;
    if (f < 0) {
        f += 1000000000;
        s--;
    }
    time_t t = (time_t)(s + offset);
    gmtime_r(&t, tm);
    *frac = (long)f;
}

/* HH:MM:SS.nnnnnnnnn */
static void put_hms(buf *out, const struct tm *tm, long frac)
{
    buf_put_u64(out, (unsigned)tm->tm_hour, 2);
    buf_putc(out, ':');
    buf_put_u64(out, (unsigned)tm->tm_min, 2);
    buf_putc(out, ':');
    buf_put_u64(out, (unsigned)tm->tm_sec, 2);
    buf_putc(out, '.');
    buf_put_u64(out, (unsigned long)frac, 9);
}

static void put_i64(buf *out, int64_t v)
{
    if (v < 0) {
        buf_putc(out, '-');
        buf_put_u64(out, 0ull - (unsigned long long)v, 0);
    } else {
        buf_put_u64(out, (unsigned long long)v, 0);
    }
}

/* The time of day needs no calendar (POSIX time has no leap seconds):
 * arithmetic on the seconds, not gmtime_r, which takes glibc's time-zone
 * lock at every call — one per alert, contended between worker threads. */
void time_hms(int64_t ns, long tz_offset_s, buf *out)
{
    int64_t s = ns / 1000000000, f = ns % 1000000000;
    if (f < 0) {
        f += 1000000000;
        s--;
    }
    int64_t day = (s % 86400 + tz_offset_s % 86400 + 2 * 86400) % 86400;
    char t[18];
    unsigned v[3] = {(unsigned)(day / 3600), (unsigned)(day / 60 % 60), (unsigned)(day % 60)};
    for (int i = 0; i < 3; i++) {
        t[3 * i] = (char)('0' + v[i] / 10);
        t[3 * i + 1] = (char)('0' + v[i] % 10);
        t[3 * i + 2] = i < 2 ? ':' : '.';
    }
    for (int i = 17; i >= 9; i--, f /= 10)
        t[i] = (char)('0' + f % 10);
    buf_put(out, t, sizeof t);
}

void time_iso8601(int64_t ns, buf *out, const char *zone)
{
    struct tm tm;
    long frac;
    split_time(ns, 0, &tm, &frac);
    if (tm.tm_year + 1900 < 0) {    /* not in 4 digits: rare, keep printf's spelling */
        buf_printf(out, "%04d-%02d-%02dT%02d:%02d:%02d.%09ld%s", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                   tm.tm_hour, tm.tm_min, tm.tm_sec, frac, zone);
        return;
    }
    buf_put_u64(out, (unsigned)(tm.tm_year + 1900), 4);
    buf_putc(out, '-');
    buf_put_u64(out, (unsigned)(tm.tm_mon + 1), 2);
    buf_putc(out, '-');
    buf_put_u64(out, (unsigned)tm.tm_mday, 2);
    buf_putc(out, 'T');
    put_hms(out, &tm, frac);
    buf_puts(out, zone);
}

/* A field value in a text alert, with what could end or rewrite the line
 * escaped: one alert stays one line in every channel, whatever an attacker
 * put in a User-Agent or a URI.  C0 controls and DEL become \n, \r, \t or
 * \xHH; the C1 controls (NEL among them) and U+2028/U+2029 become \uXXXX.
 * Backslashes are left alone (upstream's text for every ordinary value). */
static void put_text_value(buf *out, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, from = 0;
    static const char hex[] = "0123456789abcdef";
    while (i < len) {
        unsigned c = p[i];
        size_t n = 0; /* bytes of the sequence to escape at i */
        if (c < 0x20 || c == 0x7f)
            n = 1;
        else if (c == 0xc2 && i + 1 < len && p[i + 1] >= 0x80 && p[i + 1] <= 0x9f)
            n = 2;
        else if (c == 0xe2 && i + 2 < len && p[i + 1] == 0x80 && (p[i + 2] == 0xa8 || p[i + 2] == 0xa9))
            n = 3;
        if (!n) {
            i++;
            continue;
        }
        buf_put(out, s + from, i - from);
        if (n == 1) {
            char e[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            if (c == '\n' || c == '\r' || c == '\t') {
                e[1] = c == '\n' ? 'n' : c == '\r' ? 'r' : 't';
                buf_put(out, e, 2);
            } else {
                buf_put(out, e, 4);
            }
        } else {
            unsigned cp = n == 2 ? p[i + 1] : 0x2000u | (p[i + 2] & 0x3fu);
            char e[6] = {'\\', 'u', hex[cp >> 12], hex[(cp >> 8) & 15], hex[(cp >> 4) & 15], hex[cp & 15]};
            buf_put(out, e, 6);
        }
        i += n;
        from = i;
    }
    buf_put(out, s + from, len - from);
}

/* Text of one field segment: value, (list), or <NA>; padded/truncated to
 * width.  `escape`: a text alert (see put_text_value); a JSON alert's
 * strings are escaped by the JSON writer instead. */
static void render_value(const alert_src *src, const fmt_seg *s, bool escape, buf *out)
{
    fvals v;
    size_t start = out->len;
    if (!src->values(src->ctx, s, &v)) {
        buf_puts(out, "<NA>");
    } else if (s->expr && s->expr->is_list) {
        buf_putc(out, '(');
        for (size_t i = 0; i < v.n; i++) {
            if (i)
                buf_putc(out, ',');
            if (escape)
                put_text_value(out, v.v[i].s, v.v[i].len);
            else
                buf_put(out, v.v[i].s, v.v[i].len);
        }
        buf_putc(out, ')');
        if (out->len - start > 1023) { /* upstream cuts list renderings at 1023 bytes */
            out->len = start + 1023;
            out->data[out->len] = 0;
        }
    } else if (escape) {
        put_text_value(out, v.v[0].s, v.v[0].len);
    } else {
        buf_put(out, v.v[0].s, v.v[0].len);
    }
    if (s->width > 0) {
        size_t w = (size_t)s->width, len = out->len - start;
        if (len > w) {
            out->len = start + w;
            out->data[out->len] = 0;
        } else {
            for (; len < w; len++)
                buf_putc(out, ' ');
        }
    }
}

static bool time_like(const char *name)
{
    return !strncmp(name, "evt.time", 8) || !strncmp(name, "evt.datetime", 12);
}

typedef struct of_entry {
    const char *key;
    const fmt_seg *seg;
} of_entry;

static int by_key(const void *a, const void *b)
{
    return strcmp(((const of_entry *)a)->key, ((const of_entry *)b)->key);
}

/* output_fields: one key per %field (not those inside transformers), plus
 * the time of the prefix; sorted by key like Falco's JSON map. */
static void render_output_fields(const alert_src *src, const fmt_template *t, int64_t ts_ns, const alert_opts *o,
                                 buf *out)
{
    of_entry ents[256];
    size_t n = 0;
    const char *time_key = o->iso8601 ? "evt.time.iso8601" : "evt.time";
    ents[n++] = (of_entry){time_key, NULL};
    for (size_t i = 0; i < t->n && n < 256; i++) {
        const fmt_seg *s = &t->segs[i];
        if (!s->expr || s->expr->tf != TF_NONE)
            continue;
        bool dup = false;
        for (size_t k = 0; k < n; k++)
            dup |= !strcmp(ents[k].key, s->expr->text);
        if (!dup)
            ents[n++] = (of_entry){s->expr->text, s};
    }
    qsort(ents, n, sizeof *ents, by_key);
    buf_putc(out, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            buf_putc(out, ',');
        json_write_string(out, ents[i].key, strlen(ents[i].key));
        buf_putc(out, ':');
        const fmt_seg *s = ents[i].seg;
        if (!s) {
            put_i64(out, ts_ns);
            continue;
        }
        fvals v;
        if (!src->values(src->ctx, s, &v)) {
            buf_puts(out, "null");
        } else if (time_like(s->expr->ref.def->name)) {
            put_i64(out, ts_ns);
        } else if (s->expr->is_list) {
            buf_putc(out, '[');
            for (size_t k = 0; k < v.n; k++) {
                if (k)
                    buf_putc(out, ',');
                json_write_string(out, v.v[k].s, v.v[k].len);
            }
            buf_putc(out, ']');
        } else if (s->expr->numeric) {
            buf_put(out, v.v[0].s, v.v[0].len);
        } else {
            json_write_string(out, v.v[0].s, v.v[0].len);
        }
    }
    buf_putc(out, '}');
}

static bool eval_values(void *ctx, const fmt_seg *s, fvals *out)
{
    return s->expr && evaluator_values(ctx, s->expr, out);
}

void alert_render(const ruleset *rs, evaluator *ev, uint32_t rule, const audit_event *e, const alert_opts *o,
                  buf *out)
{
    alert_src src = {eval_values, ev};
    alert_render_src(&rs->rules[rule], &src, e->ts_ns, o, NULL, out);
}

void alert_render_src(const crule *r, const alert_src *src, int64_t ts_ns, const alert_opts *o, const char *correlation,
                      buf *out)
{
    /* Text alerts are written straight into `out` (an out-of-memory there
     * marks `out` failed: no truncated alert goes out unnoticed); JSON
     * needs the text line apart, to escape it. */
    buf line = BUF_INIT;
    buf *l = o->json ? &line : out;
    /* the text line: "<time>: <Priority> <message>" */
    if (o->iso8601)
        time_iso8601(ts_ns, l, "+0000");
    else
        time_hms(ts_ns, o->tz_offset_s, l);
    buf_puts(l, ": ");
    buf_puts(l, priority_names[r->info.prio]);
    buf_putc(l, ' ');
    size_t msg_start = line.len;
    for (size_t i = 0; i < r->out.n; i++) {
        const fmt_seg *s = &r->out.segs[i];
        if (s->lit)
            buf_put(l, s->lit, s->litlen);
        else
            render_value(src, s, !o->json, l);
    }
    if (!o->json) {
        buf_putc(out, '\n');
        return;
    }
    if (line.oom) { /* no truncated alert: the caller sees out->oom */
        buf_free(&line);
        out->oom = 1;
        return;
    }
    buf_putc(out, '{');
    if (correlation) {  /* keys in order, as Falco's JSON map: "correlation" first */
        buf_puts(out, "\"correlation\":");
        buf_puts(out, correlation);
        buf_putc(out, ',');
    }
    buf_puts(out, "\"hostname\":");
    json_write_string(out, o->hostname, strlen(o->hostname));
    if (o->include_message) {
        buf_puts(out, ",\"message\":");
        json_write_string(out, line.data + msg_start, line.len - msg_start);
    }
    if (o->include_output) {
        buf_puts(out, ",\"output\":");
        json_write_string(out, line.data, line.len);
    }
    if (o->include_output_fields) {
        buf_puts(out, ",\"output_fields\":");
        render_output_fields(src, &r->out, ts_ns, o, out);
    }
    buf_puts(out, ",\"priority\":");
    json_write_string(out, priority_names[r->info.prio], strlen(priority_names[r->info.prio]));
    buf_puts(out, ",\"rule\":");
    json_write_string(out, r->info.name, strlen(r->info.name));
    buf_puts(out, ",\"source\":\"k8s_audit\"");
    if (o->include_tags) {
        buf_puts(out, ",\"tags\":[");
        for (size_t i = 0; i < r->info.ntags; i++) {
            if (i)
                buf_putc(out, ',');
            json_write_string(out, r->info.tags[i], strlen(r->info.tags[i]));
        }
        buf_putc(out, ']');
    }
    buf_puts(out, ",\"time\":\"");
    time_iso8601(ts_ns, out, "Z");
    buf_puts(out, "\"}\n");
    buf_free(&line);
}
