/*
 * ruletest — the rule test harness behind `peregrine -r RULES --test PATH`.
 *
 * A case file is a YAML sequence of cases:
 *
 *   - case: privileged pod by a human          # title
 *     events:                                  # audit events as YAML maps ...
 *       - {kind: Event, auditID: "1", ...}
 *     events_file: events/x.jsonl              # ... and/or JSONL, relative to the case file
 *     fire: [Privileged Container Launched]    # each must fire at least once
 *     no_fire: [Pod Shares Host Network]       # none may fire
 *     extra_rules: [fixtures/enable.yaml]      # rules files loaded after -r, for this case
 *
 * Cases run with rule_matching: all; the rules named must exist.  PATH is
 * a case file or a directory, whose top-level .yaml/.yml files are case
 * files (sub-directories hold fixtures).  Results go to `out`, one line per
 * failed case (every case with verbose), then "N passed, M failed".
 *
 * Ownership: everything the harness loads it frees; it borrows cfg.
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_RULETEST_H
#define PEREGRINE_RULETEST_H

#include <stdbool.h>
#include <stdio.h>

#include "util/config.h"
#include "rules/collection.h"

typedef struct ruletest_opts {
    const config *cfg;
    const strvec *rule_paths;   /* -r, as given */
    const char *path;           /* --test PATH */
    bool verbose;
    FILE *out;
} ruletest_opts;

/* Returns the number of failed cases (or -1 when PATH or the rules cannot
 * be loaded at all; the reason is printed to `out`). */
int ruletest_run(const ruletest_opts *o);

#endif
