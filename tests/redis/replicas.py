#!/usr/bin/env python3
"""Drive tests/redis/run.sh: write the stream, or post it to replicas.

  replicas.py stream FILE [--shift SECONDS]
      the test stream (JSONL): a burst of 30 denied requests, 15 distinct
      secrets read, a grant then a pod in kube-system, a service account
      seen from one address for two hours then from a new one, with noise.
  replicas.py post FILE START COUNT BATCH WEBHOOK,ADMIN [WEBHOOK,ADMIN ...]
      post lines [START, START+COUNT) in batches of BATCH events, batch i
      to replica i % n, and after each wait (polling /metrics, deadline
      60 s) until that replica has evaluated and emitted it, so the
      replicas take turns like API servers interleaving; exits 1 on any
      non-200 answer.
"""
import json, sys, time, urllib.request

T0 = 1714557600  # 2024-05-01T10:00:00Z


def ts(sec):
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(T0 + int(sec))) + '.%06dZ' % int(round((sec % 1) * 1e6))


def ev(i, sec, user, verb, resource, name, code=200, ns='default', ip='10.0.0.1', obj=None):
    e = {"kind": "Event", "apiVersion": "audit.k8s.io/v1", "level": "Request", "auditID": "r%s" % i,
         "stage": "ResponseComplete", "verb": verb, "user": {"username": user}, "sourceIPs": [ip],
         "objectRef": {"resource": resource, "namespace": ns, "name": name},
         "responseStatus": {"code": code}, "requestReceivedTimestamp": ts(sec), "stageTimestamp": ts(sec)}
    if obj:
        e["requestObject"] = obj
    return e


def stream(shift=0):
    out = []
    add = lambda sec, *a, **k: out.append((sec + shift, a, k))
    # new_value: two hours of one address, then a new one (twice)
    for k in range(13):
        add(k * 600, "system:serviceaccount:ci:deployer", "get", "configmaps", "c", ip="10.0.0.1")
    add(7900, "system:serviceaccount:ci:deployer", "get", "configmaps", "c", ip="10.6.6.6")
    add(7960, "system:serviceaccount:ci:deployer", "get", "configmaps", "c", ip="10.6.6.6")
    # event_count: 30 denied requests in 60 s
    for k in range(30):
        add(8000 + 2 * k + 0.25, "mallory", "get", "secrets", "s%d" % k, code=403)
    # value_count: 15 distinct secrets (each read twice) in 150 s
    for k in range(30):
        add(8100 + 5 * k + 0.5, "eve", "get", "secrets", "secret-%d" % (k % 15))
    # temporal_ordered: a grant, two minutes later a pod in kube-system
    add(8200.75, "admin", "create", "clusterrolebindings", "b-trudy", ns='',
        obj={"subjects": [{"kind": "User", "name": "trudy"}]})
    add(8320, "trudy", "create", "pods", "p1", ns='kube-system')
    # noise
    for k in range(60):
        add(7800 + 10 * k + 0.125, "system:kube-scheduler", "get", "leases", "kube-scheduler", ns='kube-system')
    out.sort(key=lambda x: x[0])
    return [json.dumps(ev("%d-%05d" % (shift, i), sec, *a, **k)) for i, (sec, a, k) in enumerate(out)]


def evaluated(admin):
    body = urllib.request.urlopen("http://127.0.0.1:%s/metrics" % admin, timeout=5).read().decode()
    return sum(float(l.split()[-1]) for l in body.splitlines() if l.startswith("peregrine_events_evaluated_total"))


def post(path, start, count, batch, reps):
    lines = open(path).read().splitlines()[start:start + count]
    reps = [r.split(',') for r in reps]
    done = [evaluated(a) for _, a in reps]
    for b in range(0, len(lines), batch):
        r = (b // batch) % len(reps)
        items = lines[b:b + batch]
        body = ('{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[%s]}' % ",".join(items)).encode()
        req = urllib.request.Request("http://127.0.0.1:%s/k8s-audit" % reps[r][0], data=body,
                                     headers={"Content-Type": "application/json"})
        try:
            code = urllib.request.urlopen(req, timeout=10).status
        except Exception as e:
            print("post to replica %d failed: %s" % (r, e))
            return 1
        if code != 200:
            print("post to replica %d: HTTP %d" % (r, code))
            return 1
        done[r] += len(items)
        end = time.time() + 60
        while evaluated(reps[r][1]) < done[r]:
            if time.time() > end:
                print("replica %d did not evaluate its batch in time" % r)
                return 1
            time.sleep(0.01)
    return 0


if __name__ == "__main__":
    if sys.argv[1] == "stream":
        shift = int(sys.argv[4]) if len(sys.argv) > 4 and sys.argv[3] == "--shift" else 0
        with open(sys.argv[2], "w") as f:
            f.write("\n".join(stream(shift)) + "\n")
        sys.exit(0)
    sys.exit(post(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), sys.argv[6:]))
