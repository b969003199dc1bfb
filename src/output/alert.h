/*
 * alert — rendering an alert for a matched rule: Falco's text line and its
 * JSON object (docs/compat/rules.md §8.2-§8.3), byte-compatible with Falco.
 * Only rules that fire are formatted.
 */
#ifndef PEREGRINE_ALERT_H
#define PEREGRINE_ALERT_H

#include <stdbool.h>

#include "event/event.h"
#include "rules/eval.h"
#include "rules/ruleset.h"
#include "util/buf.h"

typedef struct alert_opts {
    bool json;                      /* json_output */
    bool include_output;            /* json_include_output_property (default true) */
    bool include_output_fields;     /* json_include_output_fields_property (default true) */
    bool include_tags;              /* json_include_tags_property (default true) */
    bool include_message;           /* json_include_message_property (default false) */
    bool iso8601;                   /* time_format_iso_8601 */
    const char *hostname;
    long tz_offset_s;               /* local time offset for the text time prefix */
} alert_opts;

/* Append one alert line (with '\n') for rule `rule` of `rs` on the event
 * the evaluator is positioned on. */
void alert_render(const ruleset *rs, evaluator *ev, uint32_t rule, const audit_event *e,
                  const alert_opts *o, buf *out);

/* Where a rendering takes its values from: segment s's values (s->expr, a
 * field, or s->corr, a %corr.* field), false when it has none.  The
 * evaluator for rules; a capture and the correlation's figures for a
 * correlation alert (correlate/collect.h). */
struct crule;
struct fmt_seg;
typedef struct alert_src {
    bool (*values)(void *ctx, const struct fmt_seg *s, fvals *out);
    void *ctx;
} alert_src;

/* The same for rule r with values from src at event time ts_ns;
 * `correlation` (or NULL): a JSON object put under "correlation" in JSON
 * alerts. */
void alert_render_src(const struct crule *r, const alert_src *src, int64_t ts_ns, const alert_opts *o,
                      const char *correlation, buf *out);

/* Time renderings shared with the field layer. */
void time_hms(int64_t ns, long tz_offset_s, buf *out);      /* HH:MM:SS.nnnnnnnnn */
void time_iso8601(int64_t ns, buf *out, const char *zone);  /* YYYY-MM-DDTHH:MM:SS.nnnnnnnnn + zone */

#endif
