#!/usr/bin/env python3
"""crash.py PEREGRINE RULES DIR ROUNDS [INIT_CONFIG]

kill -9 under load: for each round, start PEREGRINE as a webhook (alerts
on stdout into DIR/round-N.out), post EventLists of events with unique
auditIDs from 3 clients, record the IDs of every body answered 200, kill
-9 the server at a random point (0.3-1.5 s in), and check that every
acknowledged event's alert is in its stdout.  Prints one line per round
and a summary; exit 1 if any acknowledged alert was lost.
"""
import http.client
import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
import time

peregrine, rules, d, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
init = sys.argv[5] if len(sys.argv) > 5 else ""
random.seed(int(os.environ.get("SEED", "20")))
lost_rounds = lost_total = acked_total = 0


def event(eid):
    return ('{"kind":"Event","apiVersion":"audit.k8s.io/v1","level":"Metadata","auditID":"%s","stage":"ResponseComplete",'
            '"verb":"get","requestURI":"/api/v1/pods","user":{"username":"u"},"stageTimestamp":"2024-01-01T00:00:01Z"}' % eid)


for r in range(rounds):
    out = os.path.join(d, "round-%d.out" % r)
    args = [peregrine, "-r", rules, "--threads", "2", "-o", "webserver.enabled=false",
            "-o", "plugins[0].open_params=http://127.0.0.1:0/k8s-audit"]
    if init:
        args += ["-o", "plugins[0].init_config=" + init]
    with open(out, "wb") as so, open(out + ".err", "wb") as se:
        srv = subprocess.Popen(args, stdout=so, stderr=se)
    port = None
    for _ in range(400):
        m = re.search(r"listening on http://[^:]*:(\d+)", open(out + ".err").read())
        if m:
            port = int(m.group(1))
            break
        time.sleep(0.025)
    if port is None:
        srv.kill()
        sys.exit("round %d: webhook did not start" % r)
    acked, stop = [], threading.Event()

    def client(k):
        n = 0
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        while not stop.is_set():
            ids = ["r%d-c%d-%d" % (r, k, n + i) for i in range(50)]
            n += 50
            body = '{"kind":"EventList","items":[' + ",".join(event(i) for i in ids) + "]}"
            try:
                conn.request("POST", "/k8s-audit", body, {"Content-Type": "application/json"})
                resp = conn.getresponse()
                resp.read()
                if resp.status == 200:
                    acked.extend(ids)
            except (OSError, http.client.HTTPException):
                return      # the server is gone

    ts = [threading.Thread(target=client, args=(k,)) for k in range(3)]
    for t in ts:
        t.start()
    time.sleep(random.uniform(0.3, 1.5))    # the crash point, at random
    srv.send_signal(signal.SIGKILL)
    srv.wait()
    stop.set()
    for t in ts:
        t.join()
    seen = set(re.findall(rb"id=(r\d+-c\d+-\d+)", open(out, "rb").read()))
    lost = [i for i in acked if i.encode() not in seen]
    acked_total += len(acked)
    lost_total += len(lost)
    lost_rounds += bool(lost)
    print("  round %2d: %6d acknowledged, %d lost" % (r, len(acked), len(lost)))
print("crash: %d rounds, %d events acknowledged, %d acknowledged alerts lost in %d rounds"
      % (rounds, acked_total, lost_total, lost_rounds))
sys.exit(1 if lost_total or not acked_total else 0)
