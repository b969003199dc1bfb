#!/usr/bin/env python3
"""Seed corpora for the fuzz targets, generated from the conformance data.

    fuzz/make_corpus.py OUT_DIR [SHARED_DIR]

Writes OUT_DIR/<target>/<sha1> files (one input each) for the targets
json, event, fields, rules, cond and alert.  Nothing here is committed:
the data lives in ../shared/conformance/data (SHARED_DIR, default
../shared); the small hand-written seeds are in fuzz/seeds/<target>/.
Deterministic: the same data always gives the same files.
"""
import glob
import hashlib
import json
import os
import sys

import yaml

out = sys.argv[1]
shared = sys.argv[2] if len(sys.argv) > 2 else "../shared"
data = os.path.join(shared, "conformance", "data")
if not os.path.isdir(data):
    if os.environ.get("PEREGRINE_REQUIRE_SHARED") == "1":
        sys.exit("make_corpus: no conformance kit at %s (PEREGRINE_REQUIRE_SHARED=1)" % shared)
    os.makedirs(out, exist_ok=True)
    print("skipped: fuzz seeds from the conformance kit: none at %s (fuzz/seeds/ only)" % shared)
    sys.exit(0)
repo = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LIMIT = {"json": 16384, "event": 16384, "fields": 16384, "rules": 65536, "cond": 4096, "alert": 16384}
count = {}


def put(target, blob):
    if isinstance(blob, str):
        blob = blob.encode("utf-8", "surrogateescape")
    if not blob or len(blob) > LIMIT[target]:
        return
    d = os.path.join(out, target)
    os.makedirs(d, exist_ok=True)
    path = os.path.join(d, hashlib.sha1(blob).hexdigest())
    if not os.path.exists(path):
        with open(path, "wb") as f:
            f.write(blob)
        count[target] = count.get(target, 0) + 1


def lines(path, limit=None):
    with open(path, "rb") as f:
        for i, line in enumerate(f):
            if limit is not None and i >= limit:
                break
            line = line.rstrip(b"\r\n")
            if line:
                yield line


# payloads: traces, field cases, the first events of the realistic sample
payloads = list(lines(os.path.join(data, "traces_all.jsonl")))
payloads += list(lines(os.path.join(data, "corpus_sample.jsonl"), 200))
fields = json.load(open(os.path.join(data, "fields.json")))
payloads += [c["input_line"].encode("utf-8", "surrogateescape") for c in fields["cases"]]
for p in payloads:
    for t in ("json", "event", "fields"):
        put(t, p)
for path in sorted(glob.glob(os.path.join(data, "json", "test_parsing", "*.json"))):
    with open(path, "rb") as f:
        put("json", f.read())

# field expressions with an event (fields target: "#expr\npayload")
exprs = sorted({r["expr"] for c in fields["cases"] for e in c.get("events", []) for r in e["results"]})
first = payloads[0] if payloads else b"{}"
for i, e in enumerate(exprs):
    put("fields", b"#" + e.encode() + b"\n" + payloads[i % len(payloads)])

# rules files, and the conditions and outputs in them
rule_files = sorted(glob.glob(os.path.join(data, "rules", "**", "*.yaml"), recursive=True))
rule_files += sorted(glob.glob(os.path.join(repo, "rules", "*.yaml")))
conds, outputs = set(), set()
for path in rule_files:
    with open(path, "rb") as f:
        text = f.read()
    put("rules", text)
    try:
        items = yaml.safe_load(text) or []
    except yaml.YAMLError:
        continue
    if not isinstance(items, list):
        continue
    for it in items:
        if not isinstance(it, dict):
            continue
        put("rules", yaml.safe_dump([it]))  # each item alone, too
        c = it.get("condition")
        if isinstance(c, str):
            conds.add(c)
        o = it.get("output")
        if isinstance(o, str):
            outputs.add(o)
grammar = json.load(open(os.path.join(data, "condition_grammar.json")))
for c in grammar["cases"]:
    conds.add(c["filter"])
for c in sorted(conds):
    put("cond", c)
for i, o in enumerate(sorted(outputs)):
    o = o.replace("\n", " ")
    put("alert", bytes([i % 128]) + o.encode())
    put("alert", bytes([(i * 7) % 128]) + o.encode() + b"\n" + payloads[i % len(payloads)])

print("corpus:", ", ".join(f"{t} {count.get(t, 0)}" for t in LIMIT))
