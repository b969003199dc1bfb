/*
 * extract_evt — the generic libsinsp event fields available on k8s_audit
 * events (docs/compat/fields.md §4) and the legacy jevt.time/jevt.time.iso8601
 * (§6).  All values are rendered as text in the arena; numeric fields
 * (evt.num, evt.rawtime*, evt.reltime*) as decimal.
 *
 * Times: the event time is stageTimestamp (ns since the epoch, UTC).
 * "Local" renderings add ctx->tz_offset_s, computed once by the engine
 * (libsinsp does the same: one offset for the whole run).
 */
#include "fields/extract.h"
#include "util/buf.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#define NS_PER_S 1000000000LL

/* Days since 1970-01-01 → proleptic Gregorian date. */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    const int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    const unsigned doe = (unsigned)(z - era * 146097);
    const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    const unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

typedef struct tm_ns {
    int64_t year;
    unsigned mon, day, hour, min, sec;
    unsigned ns;
} tm_ns;

static tm_ns split_time(int64_t ts_ns, long offset_s)
{
    /* floor division so that pre-1970 instants render sensibly */
    int64_t secs = ts_ns / NS_PER_S, ns = ts_ns % NS_PER_S;
    if (ns < 0) {
        ns += NS_PER_S;
        secs--;
    }
    secs += offset_s;
    int64_t days = secs / 86400, sod = secs % 86400;
    if (sod < 0) {
        sod += 86400;
        days--;
    }
    tm_ns t;
    civil_from_days(days, &t.year, &t.mon, &t.day);
    t.hour = (unsigned)(sod / 3600);
    t.min = (unsigned)(sod / 60 % 60);
    t.sec = (unsigned)(sod % 60);
    t.ns = (unsigned)ns;
    return t;
}

enum tfmt { T_TIME, T_TIME_S, T_ISO8601, T_DATETIME, T_DATETIME_S };

/* Zero-padded decimal of v in exactly `width` digits at o; returns o+width.
 * (Hand-rolled: evt.time is rendered for every alert, snprintf is slow.) */
static char *put_digits(char *o, uint64_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        o[i] = (char)('0' + v % 10);
        v /= 10;
    }
    return o + width;
}

static char *put_date(char *o, const tm_ns *t)
{
    if (t->year < 0 || t->year > 9999) /* not reachable from RFC 3339 input */
        o += sprintf(o, "%" PRId64, t->year);
    else
        o = put_digits(o, (uint64_t)t->year, 4);
    *o++ = '-';
    o = put_digits(o, t->mon, 2);
    *o++ = '-';
    return put_digits(o, t->day, 2);
}

static char *put_clock(char *o, const tm_ns *t, bool ns)
{
    o = put_digits(o, t->hour, 2);
    *o++ = ':';
    o = put_digits(o, t->min, 2);
    *o++ = ':';
    o = put_digits(o, t->sec, 2);
    if (ns) {
        *o++ = '.';
        o = put_digits(o, t->ns, 9);
    }
    return o;
}

static bool format_time(field_ctx *ctx, fvals *out, enum tfmt f)
{
    char *o = arena_alloc(ctx->arena, 64);
    if (!o)
        return fx_none(out);
    tm_ns t = split_time(ctx->ev->ts_ns, f == T_ISO8601 ? 0 : ctx->tz_offset_s);
    char *w = o;
    switch (f) {
    case T_TIME: /* HH:MM:SS.nnnnnnnnn, local */
        w = put_clock(w, &t, true);
        break;
    case T_TIME_S: /* HH:MM:SS, local */
        w = put_clock(w, &t, false);
        break;
    case T_ISO8601: /* YYYY-MM-DDTHH:MM:SS.nnnnnnnnn+0000, UTC */
        w = put_date(w, &t);
        *w++ = 'T';
        w = put_clock(w, &t, true);
        memcpy(w, "+0000", 5);
        w += 5;
        break;
    case T_DATETIME: /* YYYY-MM-DD HH:MM:SS.nnnnnnnnn, local */
    case T_DATETIME_S:
        w = put_date(w, &t);
        *w++ = ' ';
        w = put_clock(w, &t, f == T_DATETIME);
        break;
    }
    *w = 0;
    return fx_one(ctx, out, o, (size_t)(w - o));
}

/* Decimal rendering; pad9 for the ns parts (libsinsp prints them %09). */
static bool format_u64(field_ctx *ctx, fvals *out, uint64_t v, bool pad9)
{
    char *o = arena_alloc(ctx->arena, 24);
    if (!o)
        return fx_none(out);
    int n = (int)fmt_u64(o, v, pad9 ? 9 : 0);
    return fx_one(ctx, out, o, (size_t)n);
}

bool extract_evt(const field_ref *ref, field_ctx *ctx, fvals *out)
{
    /* libsinsp keeps timestamps as uint64: a pre-1970 time wraps */
    uint64_t ts = (uint64_t)ctx->ev->ts_ns;
    uint64_t rel = ts - (uint64_t)ctx->first_ts_ns;
    switch (ref->def->id) {
    case FLD_EVT_NUM:
        return format_u64(ctx, out, ctx->evt_num, false);
    case FLD_EVT_TIME:
    case FLD_JEVT_TIME:
        return format_time(ctx, out, T_TIME);
    case FLD_EVT_TIME_S:
        return format_time(ctx, out, T_TIME_S);
    case FLD_EVT_TIME_ISO8601:
    case FLD_JEVT_TIME_ISO8601:
        return format_time(ctx, out, T_ISO8601);
    case FLD_EVT_DATETIME:
        return format_time(ctx, out, T_DATETIME);
    case FLD_EVT_DATETIME_S:
        return format_time(ctx, out, T_DATETIME_S);
    case FLD_EVT_RAWTIME:
        return format_u64(ctx, out, ts, false);
    case FLD_EVT_RAWTIME_S:
        return format_u64(ctx, out, ts / NS_PER_S, false);
    case FLD_EVT_RAWTIME_NS:
        return format_u64(ctx, out, ts % NS_PER_S, true);
    case FLD_EVT_RELTIME:
        return format_u64(ctx, out, rel, false);
    case FLD_EVT_RELTIME_S:
        return format_u64(ctx, out, rel / NS_PER_S, false);
    case FLD_EVT_RELTIME_NS:
        return format_u64(ctx, out, rel % NS_PER_S, true);
    case FLD_EVT_PLUGINNAME:
        return fx_one(ctx, out, "k8saudit", 8);
    case FLD_EVT_PLUGININFO: {
        const char *s;
        size_t n;
        if (!fx_compact(ctx, ctx->ev->root, &s, &n))
            return fx_none(out);
        return fx_one(ctx, out, s, n);
    }
    case FLD_EVT_SOURCE:
        return fx_one(ctx, out, "k8s_audit", 9);
    case FLD_EVT_IS_ASYNC:
        return fx_one(ctx, out, "false", 5);
    case FLD_EVT_HOSTNAME:
        if (!ctx->hostname)
            return fx_none(out);
        return fx_one(ctx, out, ctx->hostname, strlen(ctx->hostname));
    default:
        return fx_none(out);
    }
}
