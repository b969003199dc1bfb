#!/usr/bin/env python3
"""post_events — send a JSONL audit log to a webhook the way the Kubernetes
API server does: EventList bodies of --batch events, from --clients
concurrent connections, retrying a 503 after its Retry-After (capped by
--retry-wait).  Prints one JSON summary line:

  {"events_acked": N, "requests": R, "status": {"200": ...}, "retries": k,
   "seconds": s, "events_per_s": x, "p50_ms": a, "p99_ms": b, "errors": e}

SIGTERM stops it cleanly: requests in progress finish, no new ones start,
the summary is printed.  Used by tests/webhook/run.sh and bench/webhook_bench.  Standard library only.
"""
import argparse
import http.client
import json
import signal
import ssl
import sys
import threading
import time
import urllib.parse


def batches(path, size):
    items = []
    with open(path, "rb") as f:
        for line in f:
            line = line.strip()
            if line:
                items.append(line)
            if len(items) == size:
                yield items
                items = []
    if items:
        yield items


def body_of(items):
    return b'{"kind":"EventList","apiVersion":"audit.k8s.io/v1","metadata":{},"items":[' + b",".join(items) + b"]}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("file")
    ap.add_argument("--batch", type=int, default=400)
    ap.add_argument("--clients", type=int, default=4)
    ap.add_argument("--repeat", type=int, default=1, help="send the file this many times")
    ap.add_argument("--cafile")
    ap.add_argument("--cert")
    ap.add_argument("--key")
    ap.add_argument("--token")
    ap.add_argument("--retry-wait", type=float, default=1.0)
    ap.add_argument("--stop-on-error", action="store_true", help="a client stops at its first connection error")
    a = ap.parse_args()

    u = urllib.parse.urlsplit(a.url)
    ctx = None
    if u.scheme == "https":
        ctx = ssl.create_default_context(cafile=a.cafile)
        ctx.check_hostname = False
        if not a.cafile:
            ctx.verify_mode = ssl.CERT_NONE
        if a.cert:
            ctx.load_cert_chain(a.cert, a.key)
    bodies = [(len(b), body_of(b)) for b in batches(a.file, a.batch)] * a.repeat
    lock = threading.Lock()
    stop = threading.Event()
    # SIGTERM: finish the requests in progress, send no more, print the summary
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    state = {"next": 0, "acked": 0, "requests": 0, "status": {}, "retries": 0, "errors": 0, "lat": []}

    def connect():
        if ctx:
            return http.client.HTTPSConnection(u.hostname, u.port, context=ctx, timeout=30)
        return http.client.HTTPConnection(u.hostname, u.port, timeout=30)

    headers = {"Content-Type": "application/json"}
    if a.token:
        headers["Authorization"] = "Bearer " + a.token

    def client():
        conn = connect()
        while True:
            with lock:
                i = state["next"]
                if i >= len(bodies) or stop.is_set():
                    return
                state["next"] += 1
            n, body = bodies[i]
            while True:
                t0 = time.perf_counter()
                try:
                    conn.request("POST", u.path, body=body, headers=headers)
                    r = conn.getresponse()
                    r.read()
                except (OSError, http.client.HTTPException):
                    with lock:
                        state["errors"] += 1
                    conn.close()
                    if a.stop_on_error:
                        return
                    time.sleep(0.05)
                    conn = connect()
                    continue
                dt = time.perf_counter() - t0
                with lock:
                    state["requests"] += 1
                    state["status"][str(r.status)] = state["status"].get(str(r.status), 0) + 1
                    state["lat"].append(dt)
                if r.status == 503:
                    with lock:
                        state["retries"] += 1
                    wait = float(r.getheader("Retry-After", "1") or 1)
                    time.sleep(min(wait, a.retry_wait))
                    continue
                if r.status == 200:
                    with lock:
                        state["acked"] += n
                break

    t0 = time.perf_counter()
    threads = [threading.Thread(target=client) for _ in range(a.clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    secs = time.perf_counter() - t0
    lat = sorted(state["lat"]) or [0.0]
    pct = lambda p: round(lat[min(len(lat) - 1, int(p * len(lat)))] * 1000, 2)
    print(json.dumps({"events_acked": state["acked"], "requests": state["requests"], "status": state["status"],
                      "retries": state["retries"], "errors": state["errors"], "seconds": round(secs, 3),
                      "events_per_s": round(state["acked"] / secs) if secs else 0,
                      "p50_ms": pct(0.50), "p99_ms": pct(0.99)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
