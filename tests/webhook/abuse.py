#!/usr/bin/env python3
"""abuse — network abuse against a running webhook (issue 6, item 6).

  abuse.py PORT PID EVENT_FILE TIMEOUT_S MAX_CONNECTIONS

The server must have been started with webhookTimeoutSeconds = TIMEOUT_S
and webhookMaxConnections = MAX_CONNECTIONS.  Each scenario checks that a
well-behaved client is still served promptly and that the abusive
connections are closed by the server; thread count and memory must stay
bounded.  Prints "ok <scenario>" / "FAIL <scenario>: why"; exit 1 on any
failure.
"""
import socket
import sys
import threading
import time

PORT, PID, EVFILE, TMO, MAXC = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], float(sys.argv[4]), int(sys.argv[5])
EVENT = open(EVFILE, "rb").read().strip()
failures = 0


def report(ok, name, why=""):
    global failures
    print(("ok   " if ok else "FAIL ") + name + ("" if ok else ": " + why))
    failures += 0 if ok else 1


def proc_status():
    st = {}
    for line in open("/proc/%d/status" % PID):
        k, _, v = line.partition(":")
        st[k] = v.strip()
    return int(st["Threads"]), int(st["VmRSS"].split()[0])


def good_request(timeout=5.0):
    """POST one event; returns (status, seconds)."""
    t0 = time.time()
    s = socket.create_connection(("127.0.0.1", PORT), timeout=timeout)
    s.sendall(b"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nConnection: close\r\n"
              b"Content-Length: %d\r\n\r\n" % len(EVENT) + EVENT)
    data = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except socket.timeout:
        pass
    s.close()
    status = int(data.split(b" ")[1]) if data.startswith(b"HTTP/1.1 ") else 0
    return status, time.time() - t0


def closed_by_server(s, within):
    """True if the server closes s (EOF or reset) within `within` seconds."""
    s.settimeout(within)
    try:
        while True:
            d = s.recv(4096)
            if not d:
                return True
    except socket.timeout:
        return False
    except OSError:
        return True


def served(name):
    status, secs = good_request()
    report(status == 200 and secs < 2.0, name + ": a good client is served meanwhile", "status %d in %.2fs" % (status, secs))


threads0, rss0 = proc_status()

# 1. idle connections, more than the connection limit
idle = []
for _ in range(MAXC + 20):
    try:
        idle.append(socket.create_connection(("127.0.0.1", PORT), timeout=2))
    except OSError:
        break
time.sleep(0.2)
report(True, "opened %d idle connections (limit %d)" % (len(idle), MAXC))
closed = sum(closed_by_server(s, TMO + 3) for s in idle[:5])
report(closed == 5, "idle connections are closed after the timeout", "%d of 5 closed" % closed)
for s in idle:
    s.close()
time.sleep(TMO + 1)
served("after the idle flood")

# 2. slowloris: headers one byte at a time
slow = [socket.create_connection(("127.0.0.1", PORT)) for _ in range(20)]
stop = threading.Event()


def trickle(s, payload, every):
    for b in payload:
        if stop.is_set():
            return
        try:
            s.send(bytes([b]))
        except OSError:
            return
        time.sleep(every)


hdr = b"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n"
ts = [threading.Thread(target=trickle, args=(s, hdr * 100, TMO / 3), daemon=True) for s in slow]
for t in ts:
    t.start()
time.sleep(0.5)
served("slowloris headers")
closed = sum(closed_by_server(s, TMO * 3 + 3) for s in slow[:3])
report(closed == 3, "slowloris connections are cut by the request deadline", "%d of 3 closed" % closed)
stop.set()
for s in slow:
    s.close()

# 3. Content-Length larger than the body, then silence
s = socket.create_connection(("127.0.0.1", PORT))
s.sendall(b"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"kind\":")
served("short body")
report(closed_by_server(s, TMO + 3), "a body shorter than its Content-Length times out")
s.close()

# 4. chunked body that never ends (a chunk every so often, never the last one)
s = socket.create_connection(("127.0.0.1", PORT))
s.sendall(b"POST /k8s-audit HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n")
stop2 = threading.Event()


def endless(sock):
    while not stop2.is_set():
        try:
            sock.send(b"1\r\n \r\n")
        except OSError:
            return
        time.sleep(TMO / 4)


t = threading.Thread(target=endless, args=(s,), daemon=True)
t.start()
served("endless chunked body")
report(closed_by_server(s, TMO * 3 + 3), "an endless chunked body is cut by the request deadline")
stop2.set()
s.close()

# the closed connections' threads wind down: wait for it (a loaded machine is slower)
end = time.monotonic() + 30
threads1, rss1 = proc_status()
while threads1 > threads0 and time.monotonic() < end:
    time.sleep(0.1)
    threads1, rss1 = proc_status()
report(threads1 <= threads0, "threads stay bounded", "%d -> %d" % (threads0, threads1))
report(rss1 < rss0 + 32 * 1024, "memory stays bounded", "%d kB -> %d kB" % (rss0, rss1))
served("at the end")
sys.exit(1 if failures else 0)
