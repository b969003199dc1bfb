/*
 * alert_sink — the engine's rendered alerts to the alert channels (see
 * alert_sink.h).
 */
#include "output/alert_sink.h"
#include "util/alloc.h"
#include "util/log.h"

static void reopen_check(outputs_sink *s)
{
    if (s->reopen && atomic_exchange(s->reopen, 0))
        outputs_reopen(s->outs);
}

static void sink_emit(void *ctx, const ruleset *rs, const char *text, size_t len, const alert_span *spans, size_t n)
{
    outputs_sink *s = ctx;
    reopen_check(s);
    if (n > s->cap) {
        size_t cap = s->cap ? s->cap : 256;
        while (cap < n)
            cap *= 2;
        alert_rec *r = pg_realloc(s->recs, cap * sizeof *r);
        if (!r) {
            log_msg("out of memory: %zu alert(s) not sent", n);
            return;
        }
        s->recs = r;
        s->cap = cap;
    }
    for (size_t i = 0; i < n; i++) {
        const rule_info *ri = ruleset_rule(rs, spans[i].rule);
        s->recs[i] = (alert_rec){.text = text + spans[i].off, .len = spans[i].len, .prio = ri->prio, .rule = ri->name};
    }
    outputs_emit(s->outs, s->recs, n, text, len);
}

static void sink_flush(void *ctx)
{
    outputs_sink *s = ctx;
    reopen_check(s);
    outputs_flush(s->outs);
}

alert_sink outputs_sink_init(outputs_sink *s, outputs *outs, atomic_int *reopen)
{
    *s = (outputs_sink){.outs = outs, .reopen = reopen};
    return (alert_sink){.emit = sink_emit, .flush = sink_flush, .ctx = s};
}

void outputs_sink_free(outputs_sink *s)
{
    pg_free(s->recs);
    *s = (outputs_sink){0};
}
