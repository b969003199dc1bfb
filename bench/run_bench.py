#!/usr/bin/env python3
"""
run_bench.py — Peregrine's benchmark driver (called by bench/Makefile).

  run_bench.py table     --peregrine P --corpus C --json-bench J [--rounds N] [--min-seconds S]
  run_bench.py rss       --peregrine P --corpus C [--extra-corpus C2 ...]
  run_bench.py callgrind --peregrine P --corpus C [--json-bench J] [--out FILE]

`table` (make bench) prints ONE table measured in one run on one corpus:
  * parse-only: build/json_bench (our json_parse and simdjson DOM on the same
    padded in-memory copies), called once per round between the end-to-end
    runs so that the ratio compares figures taken under the same conditions;
  * end to end: P -c bench.yaml -r RULES -e C [--threads T] with the upstream
    0.18.0 rules and with our rules/ directory, T = 1 and T = cores; stdout
    (the alerts) goes to /dev/null — the alerts are still rendered and
    written, only the writes cost nothing; wall time, CPU time and peak RSS
    (ru_maxrss from wait4()) come from build/run_child.  One extra run of
    each configuration, untimed, keeps stdout in a file to count the alerts
    and to check that threads T writes the same bytes as threads 1;
  * webhook ingestion: bench/webhook_bench, when it exists (see WEBHOOK below).
Runs of the configurations alternate (round-robin: at least ROUNDS rounds,
and more until every configuration has run MIN_SECONDS, default 3) so that
noise from other processes spreads over all of them; the table shows the best
run (the machine's capability: noise only ever slows a run down) and the
median in brackets.  Wall time covers the whole process: exec, rules
loading (~2 ms), reading the file, alerts, statistics.  "ev/CPU-s" divides
the events by the CPU time (user + system) of the run that used least: for
one thread it is the speed the process would have with a core to itself, the
steadier figure when other processes share the machine; for N threads it
measures the cost of the parallel pipeline, not its speed.
Exit status 1 when a run fails or the alerts of threads T differ from
threads 1; the speed targets are reported, not enforced.

`rss` runs each configuration once over a (1M-event) corpus, and over any
--extra-corpus (the Makefile adds the same events as 400-event EventList
lines of ~0.6 MB each), and checks that peak RSS stays <= 32 MiB; exit status
1 when it does not.

`callgrind` runs the single-thread end-to-end pipeline with the 0.18.0 rules
under valgrind --tool=callgrind (instruction counts are stable on a noisy
shared machine), once over the corpus and once over an empty input, and prints
instructions per event (with and without start-up), the parse-only counts of
both parsers (with --json-bench) and the top functions.

WEBHOOK: bench/webhook_bench, if present and executable, is run once per
round and thread count (ROUNDS=1) as
  webhook_bench PEREGRINE CORPUS CONFIG RULES THREADS
with the 0.18.0 rules; its stdout holds a line of key=value pairs:
events_per_s, mb_per_s, p50_ms, p99_ms, rss_mib, cpu_s (the server's CPU from
listening to the last answer), events (400-event EventLists POSTed over
loopback by bench/build/webhook_post, libcurl).  The table's webhook rows show
the best rate, the least CPU and its events/CPU-s; the check compares the
webhook's CPU per event with the file run's (same rules, events, threads, same
rounds), the start-up's CPU (the "start-up only" row, an empty input) taken
off the file run's: required <= 1.5.

BIG EVENTS (--big-corpus, bench/gen_big: events of 1 to 6 MB, bench_big.yaml
raises maxEventSize to 16 MiB): threads 1 and N, required: threads N at least
as fast as threads 1, alerts byte-identical.

`webhook` (make -C bench webhook): the table's 0.18.0 file rows, start-up,
big-events and webhook rows alone, with their checks.
"""
import argparse
import hashlib
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
RULES_0180 = os.path.normpath(os.path.join(HERE, "../../shared/conformance/data/rules/k8s_audit_rules-0.18.0.yaml"))
RULES_OURS = os.path.normpath(os.path.join(HERE, "../rules"))
CORRELATIONS = os.path.join(HERE, "correlations.yaml")


def time_ordered_copy(corpus, tmp):
    """The corpus sorted by stageTimestamp.  The generator stamps long
    watches with their end time among earlier lines; a real audit log is
    written as stages complete, in time order, and the correlation stage
    counts events older than its watermark as late (not evaluated), which
    would make correlations look cheaper than they are."""
    rx = re.compile(rb'"stageTimestamp":"([^"]*)"')
    with open(corpus, "rb") as f:
        lines = f.read().splitlines()
    lines.sort(key=lambda l: (m.group(1) if (m := rx.search(l)) else b""))
    path = os.path.join(tmp, "time-ordered.jsonl")
    with open(path, "wb") as f:
        f.write(b"\n".join(lines) + b"\n")
    return path
CONFIG = os.path.join(HERE, "bench.yaml")
BIG_CONFIG = os.path.join(HERE, "bench_big.yaml")   # maxEventSize 16 MiB
WEBHOOK_LABEL = "webhook, 0.18.0 rules, 400-event EventLists"
BIG_LABEL = "big events (gen_big, 1-6 MB each), 0.18.0"
WEBHOOK_MAX_RATIO = 1.5
WEBHOOK = os.path.join(HERE, "webhook_bench")
RSS_LIMIT_MIB = 32.0
REDIS_LABEL = "our rules/, state in Redis"
REDIS_CORR_LABEL = "0.18.0 + 20 corr., time-ordered, Redis"
PARSE_PASSES = 2
RUN_CHILD = os.path.join(HERE, "build", "run_child")


class Usage:
    """What run_child reports about one child process."""
    def __init__(self, line):
        kv = dict(p.split("=", 1) for p in line.split())
        self.rc = int(kv["rc"])
        self.wall = float(kv["wall_s"])
        self.maxrss_kb = int(kv["maxrss_kb"])
        self.cpu = float(kv["utime_s"]) + float(kv["stime_s"])


def spawn(argv, stdout="/dev/null", stderr="/dev/null"):
    """Run argv through run_child (stdin from /dev/null, stdout/stderr to
    files) and return its Usage: wall time, exit code, peak RSS, CPU time.
    Not spawned from Python directly: the child's ru_maxrss would include
    this Python process's RSS (see run_child.c)."""
    r = subprocess.run([RUN_CHILD, stdout, stderr, *argv], stdout=subprocess.PIPE, text=True, check=True)
    return Usage(r.stdout.strip().splitlines()[-1])


def capture(argv, timeout=None):
    r = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=timeout)
    return r.returncode, r.stdout


def corpus_stats(path):
    """(events, bytes of JSON text without the newlines), counted as json_bench does."""
    lines = size = 0
    last = b"\n"
    with open(path, "rb") as f:
        while True:
            chunk = f.read(1 << 24)
            if not chunk:
                break
            lines += chunk.count(b"\n")
            size += len(chunk)
            last = chunk[-1:]
    if last != b"\n":
        lines += 1
    newlines = lines if last == b"\n" else lines - 1
    return lines, size - newlines


def ncpu():
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def has_threads_flag(peregrine):
    _, out = capture([peregrine, "--help"])
    return "--threads" in out


def e2e_argv(peregrine, rules, corpus, threads, flag, extra=(), config=None):
    argv = [peregrine, "-c", config or CONFIG]
    for r in (rules if isinstance(rules, (list, tuple)) else [rules]):
        argv += ["-r", r]
    argv += ["-e", corpus, *extra]
    if flag:
        argv += ["--threads", str(threads)]
    return argv


class Redis:
    """A redis-server on a free loopback port for the Redis-store rows
    (None when redis-server is not installed); flush() empties it so that
    every run starts from the same state."""

    def __init__(self, tmp):
        import shutil, socket, time
        self.proc = None
        if not shutil.which("redis-server"):
            return
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        self.proc = subprocess.Popen(["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                                      "--appendonly", "no", "--dir", tmp],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        end = time.time() + 20
        while time.time() < end and not self.flush():
            time.sleep(0.05)

    def url(self):
        return f"redis://127.0.0.1:{self.port}"

    def flush(self):
        import socket
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=5) as c:
                c.sendall(b"FLUSHALL\r\n")
                return c.recv(64).startswith(b"+OK")
        except OSError:
            return False

    def stop(self):
        if self.proc:
            self.proc.kill()
            self.proc.wait()


def alert_digest(path):
    """Hash and count of the alert lines: everything before the statistics
    block, whose first line is 'Elapsed time: ...' (it varies run to run)."""
    h = hashlib.sha256()
    n = 0
    detected = None
    in_stats = False
    with open(path, "rb") as f:
        for line in f:
            if not in_stats and line.startswith(b"Elapsed time: "):
                in_stats = True
            if in_stats:
                m = re.match(rb"Events detected: (\d+)", line)
                if m:
                    detected = int(m.group(1))
                continue
            h.update(line)
            n += 1
    return h.hexdigest(), n, detected


def fmt_rate(x):
    return "n/a" if x is None else f"{x:,.0f}"


# ------------------------------------------------------------------ table

def parse_json_bench(out):
    """Rows of json_bench's table: label, best MB/s, best ev/s, med MB/s, med ev/s, ev/CPU-s, rejects."""
    rows = []
    for line in out.splitlines():
        tok = line.split()
        if len(tok) >= 7 and not line.startswith(("parser", "corpus", "ratio")):
            try:
                nums = [float(t) for t in tok[-6:]]
            except ValueError:
                continue
            rows.append((" ".join(tok[:-6]), *nums))
    return rows


def run_webhook(args, threads):
    """One bench/webhook_bench run (ROUNDS=1): its key=value pairs, or None
    and why."""
    if not os.access(WEBHOOK, os.X_OK):
        return None, "bench/webhook_bench not present"
    env = os.environ.copy()
    env["ROUNDS"] = "1"
    try:
        r = subprocess.run([WEBHOOK, args.peregrine, args.corpus, CONFIG, RULES_0180, str(threads)],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, timeout=1800)
    except (OSError, subprocess.TimeoutExpired) as e:
        return None, f"webhook_bench failed: {e}"
    kv = None
    for line in r.stdout.splitlines():
        if "events_per_s=" in line:
            kv = dict(p.split("=", 1) for p in line.split() if "=" in p)
    if r.returncode or not kv:
        tail = (r.stderr.strip().splitlines() or ["no key=value line"])[-1]
        return None, f"webhook_bench exit {r.returncode}: {tail}"
    return kv, None


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def cmd_table(args):
    webhook_only = args.mode == "webhook"
    load_before = loadavg()
    peregrine = os.path.abspath(args.peregrine)
    events, nbytes = corpus_stats(args.corpus)
    mb = nbytes / 1e6
    n = ncpu()
    flag = has_threads_flag(peregrine)
    errors = []

    # parse-only: one json_bench call per round, between the end-to-end
    # runs, so that both see the same machine conditions; each call loads
    # the corpus, makes a warm-up pass and PARSE_PASSES timed passes per
    # parser and reports its best
    parse = {}       # label -> {"ev": [per-round best events/s], "mb": [...], "cpu": [ev/CPU-s], "rej": n}
    parse_order = []

    def parse_round():
        if not args.json_bench:
            return False
        rc, out = capture([args.json_bench, args.corpus, str(PARSE_PASSES), "0"])
        rows = parse_json_bench(out)
        if rc not in (0, 1) or len(rows) != 2:
            errors.append(f"json_bench exit {rc}: {out.strip()[-500:]}")
            return False
        for label, bmb, bev, _, _, cev, rej in rows:
            if label not in parse:
                parse[label] = {"ev": [], "mb": [], "cpu": [], "rej": 0}
                parse_order.append(label)
            parse[label]["ev"].append(bev)
            parse[label]["mb"].append(bmb)
            parse[label]["cpu"].append(cev)
            parse[label]["rej"] = max(parse[label]["rej"], int(rej))
        return True

    # end to end
    thread_counts = [1] + ([n] if n > 1 else [])
    configs = []
    sorted_tmp = tempfile.TemporaryDirectory(prefix="pg-bench-sorted-")
    ordered = time_ordered_copy(args.corpus, sorted_tmp.name)
    # then 0.18.0 with and without twenty correlations on the time-ordered
    # corpus; the last rows: our rules with the correlation state in Redis
    # (correlations.store), a local redis-server emptied before each run
    rows = (("0.18.0 rules", RULES_0180, args.corpus, False),
            ("our rules/", RULES_OURS, args.corpus, False),
            ("0.18.0, time-ordered", RULES_0180, ordered, False),
            ("0.18.0 + 20 correlations, time-ordered", [RULES_0180, CORRELATIONS], ordered, False),
            (REDIS_LABEL, RULES_OURS, args.corpus, True),
            (REDIS_CORR_LABEL, [RULES_0180, CORRELATIONS], ordered, True))
    if webhook_only:
        rows = rows[:1]
    big = None
    if args.big_corpus:
        big = corpus_stats(args.big_corpus)
        rows += ((BIG_LABEL, RULES_0180, args.big_corpus, False),)
    for label, rules, corpus, redis in rows:
        ev, nb = big if corpus == args.big_corpus and big else (events, nbytes)
        for t in thread_counts:
            configs.append({"label": label, "rules": rules, "corpus": corpus, "threads": t, "redis": redis,
                            "config": BIG_CONFIG if label == BIG_LABEL else CONFIG, "events": ev, "mb": nb / 1e6,
                            "skip": t > 1 and not flag, "walls": [], "rss": 0, "cpu": 0.0, "min_cpu": None})
    # the start-up's CPU (0.18.0 rules, empty input), taken off the file
    # run's when compared with the webhook's, whose CPU is counted from
    # the moment it listens
    empty = os.path.join(sorted_tmp.name, "empty.jsonl")
    open(empty, "w").close()
    configs.append({"label": "start-up only (empty input), 0.18.0", "rules": RULES_0180, "corpus": empty,
                    "threads": 1, "redis": False, "config": CONFIG, "events": 0, "mb": 0.0, "skip": False,
                    "walls": [], "rss": 0, "cpu": 0.0, "min_cpu": None, "startup": True})
    # webhook runs: one per round and thread count, between the file runs
    hooks = [{"threads": t, "runs": [], "note": None} for t in thread_counts if t == 1 or flag]
    with tempfile.TemporaryDirectory(prefix="pg-bench-") as tmp:
        rds = Redis(tmp)

        def argv(c):
            extra = ["-o", "correlations.store=" + rds.url()] if c["redis"] else []
            if c["redis"]:
                rds.flush()
            return e2e_argv(peregrine, c["rules"], c["corpus"], c["threads"], flag, extra, c["config"])
        for c in configs:
            if c["redis"] and not rds.proc:
                c["skip"] = True
        for i, c in enumerate(configs):
            if c["skip"]:
                continue
            out_path, err_path = os.path.join(tmp, f"out{i}"), os.path.join(tmp, f"err{i}")
            u = spawn(argv(c), out_path, err_path)
            if u.rc:
                with open(err_path, errors="replace") as f:
                    errors.append(f"{c['label']} threads {c['threads']}: exit {u.rc}: {f.read().strip()[-500:]}")
                c["skip"] = True
                continue
            c["digest"], c["alerts"], c["detected"] = alert_digest(out_path)
            if c.get("startup"):
                c["detected"] = c["alerts"] = 0
            if c["detected"] is not None and c["detected"] != c["alerts"]:
                errors.append(f"{c['label']} threads {c['threads']}: {c['alerts']} alert lines but "
                              f"'Events detected: {c['detected']}'")
            os.unlink(out_path)
        rounds = 0
        parse_ok = True
        while any(not c["skip"] and (rounds < args.rounds or (sum(c["walls"]) < args.min_seconds
                                                               and not c.get("startup")))
                  for c in configs) and rounds < 1000:
            rounds += 1
            if parse_ok:
                parse_ok = parse_round()
            for c in configs:
                if c["skip"]:
                    continue
                u = spawn(argv(c))
                if u.rc:
                    errors.append(f"{c['label']} threads {c['threads']}: exit {u.rc} in a timed run")
                    continue
                c["walls"].append(u.wall)
                c["rss"] = max(c["rss"], u.maxrss_kb)
                if u.wall <= min(c["walls"]):
                    c["cpu"] = u.cpu
                if c["min_cpu"] is None or u.cpu < c["min_cpu"]:
                    c["min_cpu"] = u.cpu
            for h in hooks:
                if h["note"]:
                    continue
                kv, h["note"] = run_webhook(args, h["threads"])
                if kv:
                    h["runs"].append(kv)

        rds.stop()
    load_after = loadavg()

    # the table
    print(f"Peregrine benchmark: {args.corpus}: {events} events, {mb:.1f} MB of JSON "
          f"(mean {nbytes / max(events, 1):.0f} B/event)")
    print(f"{n} CPUs ({cpu_model()}); {rounds} rounds (>= {args.rounds}, and >= {args.min_seconds:g} s of each "
          f"end-to-end configuration), each round one run of everything;")
    if big:
        print(f"big events: {args.big_corpus}: {big[0]} events, {big[1] / 1e6:.1f} MB (bench_big.yaml: maxEventSize "
              f"16 MiB); webhook: bench/webhook_bench, server CPU from listening to the last answer")
    print(f"rates: best round, median in brackets (parse-only: best of {PARSE_PASSES} passes per round); "
          f"MB = 10^6 bytes of JSON text; RSS = peak, MiB")
    hdr = f"{'measurement':<52} {'thr':>3} {'events/s':>10} {'(median)':>11} {'MB/s':>8} {'wall s':>7} " \
          f"{'CPU s':>6} {'ev/CPU-s':>10} {'RSS MiB':>7}  alerts / latency"
    print(hdr)
    print("-" * len(hdr))
    simd_best = simd_cpu = None
    for label in parse_order:
        p = parse[label]
        bev, mev, bmb, cev = max(p["ev"]), statistics.median(p["ev"]), max(p["mb"]), max(p["cpu"])
        if label.startswith("simdjson"):
            simd_best, simd_cpu = bev, cev
        print(f"{'parse-only ' + label:<52} {1:>3} {bev:>10,.0f} {'(' + format(mev, ',.0f') + ')':>11} "
              f"{bmb:>8.1f} {'-':>7} {'-':>6} {cev:>10,.0f} {'-':>7}  {p['rej']} rejected")
    for c in configs:
        name = "end-to-end " + c["label"]
        thr = "1*" if not flag and c["threads"] == 1 else str(c["threads"])
        if c["skip"] or not c["walls"]:
            why = "no --threads flag yet" if not flag and c["threads"] > 1 else \
                "no redis-server" if c["redis"] and not rds.proc else "failed"
            print(f"{name:<52} {thr:>3} {'n/a':>10} {'':>11} {'n/a':>8} {'':>7} {'':>6} {'':>10} {'':>7}  {why}")
            continue
        best, med = min(c["walls"]), statistics.median(c["walls"])
        ev, cmb = c["events"], c["mb"]
        c["best_eps"] = ev / best
        c["cpu_eps"] = ev / c["min_cpu"] if c["min_cpu"] else 0
        if c.get("startup"):
            print(f"{c['label']:<52} {thr:>3} {'-':>10} {'':>11} {'-':>8} {best:>7.3f} {c['min_cpu']:>6.3f} "
                  f"{'-':>10} {c['rss'] / 1024:>7.1f}  min CPU")
            continue
        print(f"{name:<52} {thr:>3} {ev / best:>10,.0f} {'(' + format(ev / med, ',.0f') + ')':>11} "
              f"{cmb / best:>8.1f} {best:>7.3f} {c['cpu']:>6.2f} {c['cpu_eps']:>10,.0f} {c['rss'] / 1024:>7.1f}  "
              f"{c['alerts']} alerts")
    for h in hooks:
        if not h["runs"]:
            print(f"{WEBHOOK_LABEL:<52} {h['threads']:>3} {'n/a':>10} {'':>11} {'n/a':>8} {'':>7} {'':>6} {'':>10} "
                  f"{'':>7}  {h['note'] or 'no run'}")
            continue

        def num(kv, k):
            try:
                return float(kv[k])
            except (KeyError, ValueError):
                return 0.0
        rates = [num(kv, "events_per_s") for kv in h["runs"]]
        fastest = max(h["runs"], key=lambda kv: num(kv, "events_per_s"))
        cheapest = min(h["runs"], key=lambda kv: num(kv, "cpu_s"))
        h["cpu"] = num(cheapest, "cpu_s")
        h["events"] = num(cheapest, "events")
        wall = h["events"] / max(rates) if max(rates) else 0
        print(f"{WEBHOOK_LABEL:<52} {h['threads']:>3} {max(rates):>10,.0f} "
              f"{'(' + format(statistics.median(rates), ',.0f') + ')':>11} {num(fastest, 'mb_per_s'):>8.1f} "
              f"{wall:>7.3f} {h['cpu']:>6.3f} {h['events'] / h['cpu'] if h['cpu'] else 0:>10,.0f} "
              f"{max(num(kv, 'rss_mib') for kv in h['runs']):>7.1f}  "
              f"p50 {fastest.get('p50_ms', '?')} ms, p99 {fastest.get('p99_ms', '?')} ms")
    print("-" * len(hdr))
    if not flag:
        print("1* = no --threads flag in this build: the default pipeline, which is single-threaded")
    print(f"load average (1/5/15 min) before: {load_before}, after: {load_after}; other processes share the CPUs")

    # the checks
    def find(label, t):
        for c in configs:
            if c["label"] == label and c["threads"] == t and "best_eps" in c:
                return c
        return None

    def verdict(ok):
        return "ok" if ok else "BELOW TARGET"

    c1 = find("0.18.0 rules", 1)
    if c1 and simd_best:
        r = c1["best_eps"] / simd_best
        print(f"end-to-end 0.18.0 threads 1 / simdjson DOM parse-only: {r:.3f}  (required >= 0.5, aim 1.0)  "
              f"{verdict(r >= 0.5)}; by CPU time {c1['cpu_eps'] / simd_cpu:.3f}")
    for label in ("0.18.0 rules", "our rules/"):
        a, b = find(label, 1), find(label, n)
        if webhook_only and label != "0.18.0 rules":
            continue
        if n > 1 and a and b:
            r = b["best_eps"] / a["best_eps"]
            ident = b["digest"] == a["digest"]
            # threads 1's CPU-time rate is what it would do on an idle core:
            # the conservative baseline when the wall-time one was slowed down
            rc = b["best_eps"] / a["cpu_eps"]
            print(f"end-to-end {label} threads {n} / threads 1: {r:.3f}  (required >= 1.8)  {verdict(r >= 1.8)}; "
                  f"over threads 1's ev/CPU-s {rc:.3f}; alerts {'byte-identical' if ident else 'DIFFERENT'}")
            if not ident:
                errors.append(f"{label}: alerts of threads {n} differ from threads 1")
        else:
            print(f"end-to-end {label} threads {n} / threads 1: n/a  (required >= 1.8)")
    for t in thread_counts:
        for mem_label, red_label in (("our rules/", REDIS_LABEL),
                                     ("0.18.0 + 20 correlations, time-ordered", REDIS_CORR_LABEL)):
            a, b = find(mem_label, t), find(red_label, t)
            if not (a and b):
                continue
            ident = a["digest"] == b["digest"]
            print(f"end-to-end {mem_label} threads {t}, Redis store / in-process: "
                  f"{b['best_eps'] / a['best_eps']:.3f}; alerts {'byte-identical' if ident else 'DIFFERENT'}")
            if not ident:
                errors.append(f"{mem_label} threads {t}: alerts with the Redis store differ from in-process")
        a, b = find("0.18.0, time-ordered", t), find("0.18.0 + 20 correlations, time-ordered", t)
        if a and b:
            r, rc = b["best_eps"] / a["best_eps"], b["cpu_eps"] / a["cpu_eps"]
            print(f"end-to-end 0.18.0 + 20 correlations / 0.18.0, threads {t}: {r:.3f} by wall time, "
                  f"{rc:.3f} by CPU time  (required >= 0.9)  {verdict(min(r, rc) >= 0.9)}")
    # the webhook's CPU per event against the file run's (same rules, same
    # events, same threads, this run), the file run's start-up taken off
    st = next((c for c in configs if c.get("startup") and c["min_cpu"] is not None), None)
    for h in hooks:
        f = find("0.18.0 rules", h["threads"])
        if not (h.get("cpu") and f and f["min_cpu"]):
            print(f"webhook CPU per event / file input's, threads {h['threads']}: n/a  "
                  f"(required <= {WEBHOOK_MAX_RATIO})")
            continue
        file_cpu = f["min_cpu"] - (st["min_cpu"] if st else 0.0)
        w_us, f_us = 1e6 * h["cpu"] / h["events"], 1e6 * file_cpu / f["events"]
        r = w_us / f_us
        print(f"webhook CPU per event / file input's, threads {h['threads']}: {r:.2f}  ({w_us:.3f} / {f_us:.3f} "
              f"us; required <= {WEBHOOK_MAX_RATIO})  {verdict(r <= WEBHOOK_MAX_RATIO)}; "
              f"{h['cpu'] / h['events'] * 1e5:.3f} cores per 100k events/s")
    # multi-megabyte events: threads n at least as fast as threads 1
    a, b = find(BIG_LABEL, 1), find(BIG_LABEL, n)
    if n > 1 and a and b:
        r, rc = b["best_eps"] / a["best_eps"], a["min_cpu"] / b["min_cpu"]
        ident = a["digest"] == b["digest"]
        print(f"big events threads {n} / threads 1: {r:.3f} by wall time  (required >= 1.0)  {verdict(r >= 1.0)}; "
              f"CPU per event threads 1 / threads {n}: {rc:.3f}; alerts {'byte-identical' if ident else 'DIFFERENT'}")
        if not ident:
            errors.append(f"big events: alerts of threads {n} differ from threads 1")
    sorted_tmp.cleanup()
    rss = [c["rss"] / 1024 for c in configs if c["walls"] and c["label"] != BIG_LABEL]
    if rss:
        print(f"peak RSS, end to end: max {max(rss):.1f} MiB  (required <= {RSS_LIMIT_MIB:.0f})  "
              f"{verdict(max(rss) <= RSS_LIMIT_MIB)}")
    for e in errors:
        print("error: " + e, file=sys.stderr)
    return 1 if errors else 0


# ------------------------------------------------------------------ rss

def cmd_rss(args):
    peregrine = os.path.abspath(args.peregrine)
    n = ncpu()
    flag = has_threads_flag(peregrine)
    worst = 0.0
    failed = False
    for corpus in [args.corpus] + (args.extra_corpus or []):
        events, nbytes = corpus_stats(corpus)
        print(f"peak RSS over {corpus}: {events} lines, {nbytes / 1e6:.1f} MB (one run each, alerts to /dev/null)")
        for label, rules in (("0.18.0 rules", RULES_0180), ("our rules/", RULES_OURS)):
            for t in ([1, n] if flag and n > 1 else [1]):
                with tempfile.NamedTemporaryFile(prefix="pg-rss-err-") as err:
                    u = spawn(e2e_argv(peregrine, rules, corpus, t, flag), "/dev/null", err.name)
                    if u.rc:
                        print(f"  {label} threads {t}: exit {u.rc}: {open(err.name).read().strip()[-300:]}")
                        failed = True
                        continue
                mib = u.maxrss_kb / 1024
                worst = max(worst, mib)
                print(f"  {label:<14} threads {t if flag else '1*'}: peak RSS {mib:6.1f} MiB, "
                      f"{nbytes / 1e6 / u.wall:,.0f} MB/s, {u.wall:.2f} s")
    ok = not failed and worst <= RSS_LIMIT_MIB
    print(f"max peak RSS {worst:.1f} MiB (required <= {RSS_LIMIT_MIB:.0f} MiB): {'ok' if ok else 'FAIL'}")
    return 0 if ok else 1


# ------------------------------------------------------------------ callgrind

def callgrind_total(path):
    with open(path) as f:
        for line in f:
            if line.startswith(("summary:", "totals:")):
                return int(line.split()[1])
    raise RuntimeError(f"{path}: no summary line")


def cmd_callgrind(args):
    peregrine = os.path.abspath(args.peregrine)
    events, nbytes = corpus_stats(args.corpus)
    flag = has_threads_flag(peregrine)
    out = args.out
    empty = out + ".empty.jsonl"
    open(empty, "w").close()
    totals = {}
    for name, corpus in (("run", args.corpus), ("startup", empty)):
        cg = out if name == "run" else out + ".startup"
        argv = ["/usr/bin/valgrind", "--tool=callgrind", f"--callgrind-out-file={cg}",
                *e2e_argv(peregrine, RULES_0180, corpus, 1, flag)]
        with tempfile.NamedTemporaryFile(prefix="pg-cg-err-") as err:
            u = spawn(argv, "/dev/null", err.name)
            if u.rc:
                print(f"callgrind ({name}) exit {u.rc}: {open(err.name).read().strip()[-500:]}", file=sys.stderr)
                return 1
        totals[name] = callgrind_total(cg)
    os.unlink(empty)
    run, start = totals["run"], totals["startup"]
    print(f"callgrind, end to end, 0.18.0 rules, threads 1{'' if flag else ' (no --threads flag: default pipeline)'}, "
          f"{args.corpus}: {events} events, {nbytes / 1e6:.1f} MB")
    print(f"  instructions: {run:,} total, {start:,} start-up (empty input)")
    print(f"  instructions/event: {(run - start) / events:,.0f} without start-up, {run / events:,.0f} with; "
          f"{(run - start) / nbytes:.2f} per byte of JSON")
    if args.json_bench:
        # parse-only, same corpus: json_bench with 1 round and no minimum
        # time parses every line twice per parser (warm-up + 1 pass);
        # --toggle-collect counts only inside each parser's pass function
        for fn, label in (("ours_pass", "peregrine json_parse"), ("simdjson_bench_pass", "simdjson DOM")):
            cg = f"{out}.{fn}"
            argv = ["/usr/bin/valgrind", "--tool=callgrind", f"--toggle-collect={fn}", f"--callgrind-out-file={cg}",
                    os.path.abspath(args.json_bench), args.corpus, "1", "0"]
            with tempfile.NamedTemporaryFile(prefix="pg-cg-out-") as o:
                u = spawn(argv, o.name, "/dev/null")
                rows = parse_json_bench(open(o.name).read())
            if u.rc not in (0, 1) or len(rows) != 2:
                print(f"  parse-only {label}: json_bench under callgrind exit {u.rc}")
                continue
            impl = rows[1][0] if fn.startswith("simd") else rows[0][0]  # the label, with simdjson's kernel
            print(f"  parse-only instructions/event, {impl}: {callgrind_total(cg) / (2 * events):,.0f}"
                  + ("  (valgrind has no AVX-512: natively simdjson may pick another kernel)" if fn.startswith("simd") else ""))
    rc, ann = capture(["callgrind_annotate", "--inclusive=no", "--threshold=100", "--auto=no", out])
    if rc == 0:
        # the function table: after the "Ir  file:function" header's rule,
        # up to the next rule or blank line
        lines = ann.splitlines()
        start = next((i for i, l in enumerate(lines) if l.strip().endswith("file:function")), len(lines)) + 2
        table = []
        for line in lines[start:]:
            if not line.strip() or line.startswith("----"):
                break
            table.append(line)
        # callgrind_annotate splits a function by source file (code inlined
        # from a header counts under the header); sum them per function.
        own = {}
        for line in table:
            m = re.match(r"^\s*([\d,]+) \(\s*[\d.]+%\)\s+(\S.*?)(?: \[(.*)\])?$", line)
            if not m or "PROGRAM TOTALS" in line:
                continue
            fn = m.group(2).rsplit(":", 1)[-1]
            obj = os.path.basename(m.group(3)) if m.group(3) else ""
            key = (fn, obj)
            own[key] = own.get(key, 0) + int(m.group(1).replace(",", ""))
        # an inlined piece without its object name belongs to the same function
        for (fn, obj), ir in list(own.items()):
            if not obj:
                objs = [o for (f, o) in own if f == fn and o]
                if objs:
                    own[(fn, objs[0])] += own.pop((fn, obj))
        print(f"  top {args.top} functions by own instructions (callgrind_annotate {out}):")
        for (fn, obj), ir in sorted(own.items(), key=lambda kv: -kv[1])[:args.top]:
            print(f"   {ir:>14,} {100.0 * ir / run:5.1f}% {ir / events:>8,.0f}/event  {fn}  {obj}")
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("mode", choices=("table", "webhook", "rss", "callgrind"))
    ap.add_argument("--peregrine", required=True)
    ap.add_argument("--corpus", required=True)
    ap.add_argument("--json-bench")
    ap.add_argument("--extra-corpus", action="append", help="rss: more inputs to check")
    ap.add_argument("--big-corpus", help="table, webhook: multi-megabyte events (gen_big) for the big-events rows")
    ap.add_argument("--rounds", type=int, default=int(os.environ.get("ROUNDS", "7")))
    ap.add_argument("--min-seconds", type=float, default=float(os.environ.get("MIN_SECONDS", "3")),
                    help="table: keep running end-to-end rounds until each configuration has run this long")
    ap.add_argument("--out", default=os.path.join(HERE, "build", "callgrind.out.e2e"))
    ap.add_argument("--top", type=int, default=15)
    args = ap.parse_args()
    args.rounds = max(1, args.rounds)
    if args.mode == "table":
        if not args.json_bench:
            ap.error("table needs --json-bench")
        return cmd_table(args)
    if args.mode == "webhook":
        return cmd_table(args)
    if args.mode == "rss":
        return cmd_rss(args)
    return cmd_callgrind(args)


if __name__ == "__main__":
    sys.exit(main())
