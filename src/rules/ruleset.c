/*
 * ruleset — priorities by name, and the compiled ruleset's accessors and
 * release (ruleset.h).
 */
#include "rules/compiled.h"
#include "rules/prefilter.h"
#include "util/alloc.h"

#include <strings.h>

const char *const priority_names[PRI__COUNT] = {"Emergency", "Alert",  "Critical",      "Error",
                                                "Warning",   "Notice", "Informational", "Debug"};
const char *const priority_short[PRI__COUNT] = {"EMERGENCY", "ALERT",  "CRITICAL", "ERROR",
                                                "WARNING",   "NOTICE", "INFO",     "DEBUG"};

int priority_parse(const char *s)
{
    static const char *const long_names[PRI__COUNT] = {"emergency", "alert",  "critical",      "error",
                                                       "warning",   "notice", "informational", "debug"};
    for (int i = 0; i < PRI__COUNT; i++)
        if (!strcasecmp(s, long_names[i]))
            return i;
    if (!strcasecmp(s, "info"))
        return PRI_INFORMATIONAL;
    return -1;
}

size_t ruleset_count(const ruleset *rs) { return rs->nrules; }
const rule_info *ruleset_rule(const ruleset *rs, size_t i) { return &rs->rules[i].info; }

const char *ruleset_uses_order(const ruleset *rs)
{
    static const int ordered[] = {FLD_EVT_NUM, FLD_EVT_RELTIME, FLD_EVT_RELTIME_S, FLD_EVT_RELTIME_NS};
    for (size_t i = 0; i < sizeof ordered / sizeof *ordered; i++)
        if (ruleset_uses_field(rs, ordered[i]))
            return field_table[ordered[i]].name;
    return NULL;
}

bool ruleset_uses_field(const ruleset *rs, int field)
{
    for (uint32_t i = 0; i < rs->nslots; i++)
        if ((int)rs->slot_expr[i]->ref.def->id == field)
            return true;
    return false;
}

void ruleset_free(ruleset *rs)
{
    if (!rs)
        return;
    for (uint32_t i = 0; rs->slot_expr && i < rs->nslots; i++)
        field_ref_free(&rs->slot_expr[i]->ref);
    /* regexes are the only other non-arena resources */
    for (size_t i = 0; i < rs->nregexes; i++)
        pcre2_code_free(rs->regexes[i]);
    pg_free(rs->regexes);
    index_free(rs->index);
    prefilter_free(rs->prefilter);
    index_free(rs->corr_index);
    arena_free(&rs->arena);
    pg_free(rs);
}
