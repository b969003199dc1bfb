#!/usr/bin/env python3
"""
scale_bench.py — how evaluation cost grows with the number of rules (issue 18;
`make -C bench scale`, and `make bench` after its main table).

  scale_bench.py --peregrine P --corpus C --gen-rules G [--sizes 50,1000,...]
                 [--seed S] [--rounds N] [--events 50=200000,...] [--baseline P0]

Rows: rule sets written by bench/gen_rules (G N S, see gen_rules.c) of each
size, and upstream's 0.18.0 rules for reference.  Each row runs
P -c bench.yaml -r RULES -e PREFIX --threads 1 over the first E events of the
corpus C (E per row, below, so that no run takes more than a few CPU-seconds
today), and over an empty input (loading only).  Columns:
  ev/CPU-s   events / (CPU time of the corpus run - CPU time of the empty
             run), user + system, each the least of the rounds: the speed of
             evaluation on a core of its own, loading left out (the load
             column has it); "ratio" divides it by the 50-rule row's;
  load ms    wall time of the empty run, best of the rounds (start-up,
             loading and compiling the rules, the statistics block);
  RSS MiB    peak RSS of the corpus run (ru_maxrss, bench/build/run_child);
  alerts/100k  alert lines per 100,000 events (first match: the events
             that raise an alert), from one untimed run per row.
Runs alternate (one run of every row and its empty run per round, ROUNDS
rounds) so that noise from other processes spreads over all rows.
--baseline P0 (BASELINE= in bench/Makefile): every row runs with P0 too, in
the same rounds; its rows follow, and the end compares P with P0 per rule set
(ev/CPU-s ratio; the 0.18.0 row must stay >= 0.98) and checks that both
write the same alerts.
--instructions E adds the same rows counted in instructions under callgrind
over E events (load left out the same way), which the machine's load does
not move: the steady figure on a shared machine.
Exit status 1 when a run fails; targets are reported, not enforced.
"""
import argparse
import os
import statistics
import subprocess
import sys
import tempfile

from run_bench import CONFIG, RULES_0180, alert_digest, cpu_model, loadavg, spawn

# events per row: sized so that a run takes ~0.5-3 CPU-s with today's
# evaluation (50 rules: ~0.5 M ev/CPU-s, 10,000: ~4 k)
DEFAULT_EVENTS = {50: 200000, 1000: 100000, 2000: 50000, 5000: 20000, 10000: 10000, "0.18.0": 200000}
DEFAULT_SIZES = (50, 1000, 2000, 5000, 10000)
UPSTREAM = "0.18.0"


def prefix(corpus, n, tmp, cache):
    """The first n lines of the corpus (fewer if it is shorter), as a file."""
    if n in cache:
        return cache[n]
    path = os.path.join(tmp, f"prefix-{n}.jsonl")
    got = 0
    with open(corpus, "rb") as src, open(path, "wb") as dst:
        for line in src:
            if got == n:
                break
            dst.write(line)
            got += 1
    cache[n] = (path, got)
    return cache[n]


def callgrind(argv):
    """Instructions of one run under callgrind (its "Collected" line), or None."""
    r = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null"] + argv,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    for line in r.stderr.splitlines():
        if "Collected :" in line:
            return int(line.rsplit(":", 1)[1].replace(",", "").strip())
    return None


def instructions_table(rows, find, errors):
    """The same rows counted in instructions (deterministic on any load)."""
    print()
    print("Instructions (callgrind, one run each): per event = (run - empty run) / events; load = the empty run")
    hdr = f"{'rules':<24} {'events':>8} {'instr/event':>12} {'ratio':>6} {'load Minstr':>12}"
    print(hdr)
    print("-" * len(hdr))
    first = {}
    for row in rows:
        if row.get("ir_run") is None or row.get("ir_load") is None:
            if "ir_events" in row:
                errors.append(f"{row['label']}: callgrind gave no count")
            continue
        row["ipe"] = (row["ir_run"] - row["ir_load"]) / max(row["ir_events"], 1)
        which = row["base"] is not None
        if which not in first and row["size"] is not None:
            first[which] = row
        base = first.get(which)
        ratio = base["ipe"] / row["ipe"] if base else float("nan")
        print(f"{row['label']:<24} {row['ir_events']:>8,} {row['ipe']:>12,.0f} {ratio:>6.3f} "
              f"{row['ir_load'] / 1e6:>12,.1f}")
    print("-" * len(hdr))
    for row in rows:
        b = row["base"]  # on a baseline row: this build's row
        if b is not None and "ipe" in row and "ipe" in b and b["size"] is None:
            x = row["ipe"] / b["ipe"]  # speed: the baseline's instructions per event over this build's
            print(f"0.18.0 upstream rules: this build / baseline, by instructions per event: {x:.3f}  "
                  f"(required >= 0.98)  {'ok' if x >= 0.98 else 'NOT MET'}")
    r50, r1k, r2k, r10k = find(50), find(1000), find(2000), find(10000)
    if r50 and r2k and "ipe" in r50 and "ipe" in r2k:
        x = r50["ipe"] / r2k["ipe"]
        print(f"2,000 rules / 50 rules, by instructions per event: {x:.3f}  (required >= 0.4)  "
              f"{'ok' if x >= 0.4 else 'NOT MET'}")
    if r1k and r10k and r1k.get("ir_load") and r10k.get("ir_load"):
        x = r10k["ir_load"] / r1k["ir_load"]
        print(f"10,000-rule load / 1,000-rule load, by instructions: {x:.1f}x  (required <= 10)  "
              f"{'ok' if x <= 10 else 'NOT MET'}")


def parse_events(spec):
    out = dict(DEFAULT_EVENTS)
    for part in filter(None, (spec or "").split(",")):
        k, v = part.split("=", 1)
        out[k if k == UPSTREAM else int(k)] = int(v)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--peregrine", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--gen-rules", required=True)
    ap.add_argument("--sizes", default=",".join(map(str, DEFAULT_SIZES)))
    ap.add_argument("--seed", default="1")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "7")))
    ap.add_argument("--events", help="events per row, e.g. 50=200000,10000=10000,0.18.0=200000")
    ap.add_argument("--baseline", help="another peregrine binary to measure in the same rounds")
    ap.add_argument("--instructions", type=int, default=0, metavar="E",
                    help="also count instructions (callgrind) over the first E events of every row: "
                         "a figure load and noise do not move")
    args = ap.parse_args()
    rounds = max(1, args.rounds)
    peregrine = os.path.abspath(args.peregrine)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    events_for = parse_events(args.events)
    load_before = loadavg()
    errors = []
    with tempfile.TemporaryDirectory(prefix="pg-scale-") as tmp:
        empty = os.path.join(tmp, "empty.jsonl")
        open(empty, "w").close()
        cache = {}
        rows = []
        for n in sizes:
            path = os.path.join(tmp, f"rules-{n}.yaml")
            with open(path, "wb") as f:
                r = subprocess.run([args.gen_rules, str(n), args.seed], stdout=f, stderr=subprocess.PIPE)
            if r.returncode:
                sys.exit(f"gen_rules {n} {args.seed}: {r.stderr.decode().strip()}")
            ev = events_for.get(n) or max(10000, min(200000, 20000000 // n))
            rows.append({"label": f"{n:,} generated rules", "size": n, "rules": path, "events": ev})
        if os.path.exists(RULES_0180):
            rows.append({"label": "0.18.0 upstream rules", "size": None, "rules": RULES_0180,
                         "events": events_for[UPSTREAM]})
        for row in rows:
            row["input"], row["events"] = prefix(args.corpus, row["events"], tmp, cache)
            row.update(bin=peregrine, base=None)
        if args.baseline:
            rows = [r for row in rows for r in (row, dict(row, label="  baseline", bin=os.path.abspath(args.baseline),
                                                          base=row))]
        for row in rows:
            row.update(cpu=[], load_wall=[], load_cpu=[], rss=0, skip=False)

        def argv(row, inp):
            return [row["bin"], "-c", CONFIG, "-r", row["rules"], "-e", inp, "--threads", "1"]

        # one untimed run per row: the alerts, and a check that it runs
        for i, row in enumerate(rows):
            out, err = os.path.join(tmp, f"out{i}"), os.path.join(tmp, f"err{i}")
            u = spawn(argv(row, row["input"]), out, err)
            if u.rc:
                with open(err, errors="replace") as f:
                    errors.append(f"{row['label']}: exit {u.rc}: {f.read().strip()[-500:]}")
                row["skip"] = True
                continue
            row["digest"], row["alerts"], _ = alert_digest(out)
            os.unlink(out)
        for _ in range(rounds):
            for row in rows:
                if row["skip"]:
                    continue
                u = spawn(argv(row, empty))
                e = spawn(argv(row, row["input"]))
                if u.rc or e.rc:
                    errors.append(f"{row['label']}: exit {u.rc or e.rc} in a timed run")
                    continue
                row["load_wall"].append(u.wall)
                row["load_cpu"].append(u.cpu)
                row["cpu"].append(e.cpu)
                row["rss"] = max(row["rss"], e.maxrss_kb)
        if args.instructions:
            inp, ev = prefix(args.corpus, args.instructions, tmp, cache)
            for row in rows:
                if not row["skip"]:
                    row["ir_load"] = callgrind(argv(row, empty))
                    row["ir_run"] = callgrind(argv(row, inp))
                    row["ir_events"] = ev
    load_after = loadavg()

    print(f"Rules at scale: {os.path.basename(args.corpus)} prefixes, one thread (--threads 1), first match, "
          f"text alerts to /dev/null; rule sets: gen_rules N {args.seed}")
    print(f"{os.cpu_count()} CPUs ({cpu_model()}); {rounds} rounds, each one run of every row over its events and "
          f"one over an empty input; ev/CPU-s = events / (CPU s of the run - CPU s of the empty run), least CPU of "
          f"the rounds (median in brackets); load = wall of the empty run, best; RSS = peak of the run")
    hdr = f"{'rules':<24} {'events':>8} {'ev/CPU-s':>10} {'(median)':>10} {'ratio':>6} {'load ms':>8} " \
          f"{'RSS MiB':>8} {'alerts/100k':>11}"
    print(hdr)
    print("-" * len(hdr))
    first = {}  # the first generated row of each build: the ratio's base
    for row in rows:
        if row["skip"] or not row["cpu"]:
            print(f"{row['label']:<24} {row['events']:>8,} {'failed':>10}")
            continue
        load_cpu = min(row["load_cpu"])
        evals = [max(c - load_cpu, 1e-6) for c in row["cpu"]]
        row["eps"] = row["events"] / min(evals)
        med = row["events"] / statistics.median(evals)
        row["load_ms"] = 1000 * min(row["load_wall"])
        which = row["base"] is not None  # the baseline's rows have their own base
        if which not in first and row["size"] is not None:
            first[which] = row
        base = first.get(which)
        ratio = row["eps"] / base["eps"] if base else float("nan")
        per100k = 1e5 * row["alerts"] / max(row["events"], 1)
        print(f"{row['label']:<24} {row['events']:>8,} {row['eps']:>10,.0f} {'(' + format(med, ',.0f') + ')':>10} "
              f"{ratio:>6.3f} {row['load_ms']:>8.1f} {row['rss'] / 1024:>8.1f} {per100k:>11,.0f}")
    print("-" * len(hdr))
    print(f"load average (1/5/15 min) before: {load_before}, after: {load_after}; other processes share the CPUs")

    for row in rows:
        b = row["base"]
        if b is None or "eps" not in row or "eps" not in b:
            continue
        x = b["eps"] / row["eps"]
        same = "alerts byte-identical" if b["digest"] == row["digest"] else "alerts DIFFERENT"
        need = f"  (required >= 0.98)  {'ok' if x >= 0.98 else 'NOT MET'}" if b["size"] is None else ""
        print(f"{b['label'].strip()}: this build / baseline, ev/CPU-s: {x:.3f}; load {b['load_ms'] / row['load_ms']:.2f}x; "
              f"RSS {b['rss'] / max(row['rss'], 1):.2f}x; {same}{need}")
        if b["digest"] != row["digest"]:
            errors.append(f"{b['label'].strip()}: the baseline writes other alerts")

    def find(n):
        return next((r for r in rows if r["size"] == n and "eps" in r and r["base"] is None), None)

    def verdict(ok):
        return "ok" if ok else "NOT MET"

    r50, r1k, r2k, r10k = find(50), find(1000), find(2000), find(10000)
    if r50 and r2k:
        x = r2k["eps"] / r50["eps"]
        print(f"2,000 rules / 50 rules, ev/CPU-s: {x:.3f}  (required >= 0.4)  {verdict(x >= 0.4)}")
    if r1k and r10k:
        x = r10k["load_ms"] / r1k["load_ms"]
        print(f"10,000-rule load / 1,000-rule load: {x:.1f}x  (required <= 10)  {verdict(x <= 10)}")
    if r10k:
        mib = r10k["rss"] / 1024
        print(f"10,000 rules peak RSS: {mib:.1f} MiB  (required <= 32)  {verdict(mib <= 32)}")
    if args.instructions:
        instructions_table(rows, find, errors)
    for e in errors:
        print("error: " + e, file=sys.stderr)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
