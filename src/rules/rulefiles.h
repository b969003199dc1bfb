/*
 * rulefiles — from `-r` arguments (files and directories) to a compiled
 * ruleset, the way Falco reads rules_files: a directory contributes its
 * .yaml/.yml files in name order, a file with another extension is
 * ignored, everything is loaded into one collection in order.
 *
 * Ownership: the caller frees the returned ruleset, `res`
 * (load_result_free) and `err` (buf_free).
 *
 * Errors: the contract of util/error.h.
 */
#ifndef PEREGRINE_RULEFILES_H
#define PEREGRINE_RULEFILES_H

#include "rules/collection.h"
#include "rules/ruleset.h"
#include "util/buf.h"

/* Expand paths into rules files (appended to out).  0, or -1 with a
 * message in err (a path that cannot be read). */
int rulefiles_expand(const strvec *paths, strvec *out, buf *err);

/* Load and compile.  NULL on failure: a path error in err, or load errors
 * in res (which also carries warnings on success). */
ruleset *rulefiles_load(const strvec *paths, const loader_opts *lo, load_result *res, buf *err);

#endif
