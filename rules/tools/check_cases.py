#!/usr/bin/env python3
"""Checks that the rule cases document every rule and correlation.

    python3 rules/tools/check_cases.py [RULES_DIR [CASES_DIR...]]

Every rule and correlation of RULES_DIR/*.yaml (a `debug` firehose aside)
must be named in `fire:` by at least one case of CASES_DIR/*.yaml (default:
RULES_DIR/tests) and in
`no_fire:` by at least one look-alike, and every look-alike (a case that
fires nothing) must say in `why:` why it is benign.  Whether the cases pass
is the engine's business: `build/peregrine -r rules --test rules/tests`.
Exit status 1 when something is missing.
"""
import glob
import os
import sys

import yaml


def names(rules_dir):
    out = []
    for f in sorted(glob.glob(os.path.join(rules_dir, "*.yaml"))):
        for item in yaml.safe_load(open(f)) or []:
            for kind in ("rule", "correlation"):
                if isinstance(item, dict) and kind in item and "override" not in item \
                        and "append" not in item:
                    if str(item.get("priority", "")).lower() == "debug":
                        continue
                    out.append((kind, item[kind], f))
    return out


def main():
    rules_dir = sys.argv[1] if len(sys.argv) > 1 else "rules"
    cases_dirs = sys.argv[2:] if len(sys.argv) > 2 else [os.path.join(rules_dir, "tests")]
    fire, no_fire, problems, ncases = set(), set(), [], 0
    for f in sorted(g for d in cases_dirs for g in glob.glob(os.path.join(d, "*.yaml"))):
        for c in yaml.safe_load(open(f)) or []:
            ncases += 1
            fire.update(c.get("fire") or [])
            no_fire.update(c.get("no_fire") or [])
            if not c.get("fire") and not c.get("why"):
                problems.append("%s: look-alike '%s' does not say why it is benign" % (f, c.get("case")))
    for kind, name, f in names(rules_dir):
        if name not in fire:
            problems.append("%s: %s '%s' has no positive case" % (f, kind, name))
        if name not in no_fire:
            problems.append("%s: %s '%s' has no look-alike" % (f, kind, name))
    for p in problems:
        print(p)
    print("%d cases, %d problems" % (ncases, len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
