/*
 * correlation_compile — correlations and suppressions into the ruleset
 * (see correlation.h).
 */
#include "rules/compiled.h"
#include "rules/correlation.h"

#include <string.h>

const char *const corr_field_names[CORR_F__COUNT] = {
    [CORR_F_NONE] = "",
#define CORR_F_NAME(e, n) [CORR_F_##e] = n,
    CORR_FIELDS(CORR_F_NAME)
#undef CORR_F_NAME
};

corr_field corr_field_lookup(const char *name, size_t len)
{
    for (int i = 1; i < CORR_F__COUNT; i++)
        if (strlen(corr_field_names[i]) == len && !memcmp(corr_field_names[i], name, len))
            return (corr_field)i;
    return CORR_F_NONE;
}

bool ruleset_has_state(const ruleset *rs)
{
    return rs->has_state;
}

bool ruleset_rule_suppressed(const ruleset *rs, size_t i)
{
    return i < rs->nrules && rs->rules[i].sup != NULL;
}

bool ruleset_rule_is_correlation(const ruleset *rs, size_t i)
{
    return i < rs->nrules && rs->rules[i].corr != NULL;
}
