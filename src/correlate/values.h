/*
 * values — the %corr.* output fields of a correlation alert, as text and as
 * the JSON alert's `correlation` object.
 *
 *   %corr.count       events in the window (value_count: distinct values;
 *                     sequences: steps)
 *   %corr.distinct    distinct values in the window (value_count, new_value)
 *   %corr.values      up to 10 sample values, "(a,b,c)"
 *   %corr.first_time  %corr.last_time   ISO 8601 UTC
 *   %corr.window      as written ("2m")
 *   %corr.key         the group-by values, comma-separated
 *   %corr.suppressed  hits not alerted since this key's last alert
 *   %corr.steps       the sequence's steps: "auditID@time verb resource; ..."
 *
 * Ownership: corr_values owns its buffers; corr_values_free releases them,
 * corr_values_render reuses them.
 */
#ifndef PEREGRINE_CORR_VALUES_H
#define PEREGRINE_CORR_VALUES_H

#include "correlate/collect.h"
#include "correlate/store.h"
#include "rules/correlation.h"
#include "util/buf.h"

#include <stdbool.h>

typedef struct corr_values {
    buf text;                           /* every field's text, one after another */
    size_t off[CORR_F__COUNT], len[CORR_F__COUNT];
    buf json;                           /* {"type":...,...} */
} corr_values;

/* The %corr.* fields c's output uses (c->used), and the JSON object when
 * `json`. */
void corr_values_render(const ccorr *c, const corr_hit *hit, const char *hitdata, const store_op *op,
                        const char *opdata, bool json, corr_values *out);
void corr_values_free(corr_values *v);

#endif
