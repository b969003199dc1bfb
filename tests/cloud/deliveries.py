#!/usr/bin/env python3
"""Real-shaped cloud and shipper deliveries built from audit events (JSONL).

    deliveries.py EVENTS OUTDIR

writes, per scenario, numbered request bodies OUTDIR/<scenario>/NNN.body with
their extra headers in NNN.hdr (one "Name: value" per line) and the path in
NNN.path, which tests/cloud/run.sh posts with curl in order.  Every scenario
carries all the events exactly once (plus deliberate redeliveries and
records that are not audit events), so each must raise exactly the alerts
of posting the events natively.  Shapes: ../shared/design/managed-clusters.md.
"""
import base64
import gzip
import json
import os
import sys

events = [l.rstrip("\n") for l in open(sys.argv[1]) if l.strip()]
out = sys.argv[2]
CLUSTER = "harrier-prod"


def write(scenario, n, path, body, headers=()):
    d = os.path.join(out, scenario)
    os.makedirs(d, exist_ok=True)
    base = os.path.join(d, "%03d" % n)
    with open(base + ".body", "wb") as f:
        f.write(body)
    with open(base + ".hdr", "w") as f:
        f.write("".join(h + "\n" for h in headers))
    with open(base + ".path", "w") as f:
        f.write(path + "\n")


def chunks(seq, n):
    return [seq[i:i + n] for i in range(0, len(seq), n)]


# --- native: EventList bodies, the baseline --------------------------------
for i, c in enumerate(chunks(events, 100)):
    body = '{"kind":"EventList","apiVersion":"audit.k8s.io/v1","items":[%s]}' % ",".join(c)
    write("native", i, "/k8s-audit", body.encode(),
          ["Content-Type: application/json", "Authorization: Bearer shipper-token-1"])


# --- EKS: CloudWatch Logs subscription → Firehose HTTP endpoint -----------
def cwl_message(evs, stream="kube-apiserver-audit-9e41c07b2d5a8f16", first_id=0):
    return {
        "messageType": "DATA_MESSAGE",
        "owner": "210987654321",
        "logGroup": "/aws/eks/%s/cluster" % CLUSTER,
        "logStream": stream,
        "subscriptionFilters": ["to-peregrine"],
        "logEvents": [{"id": "%056d" % (first_id + k), "timestamp": 1767225601234 + k, "message": e}
                      for k, e in enumerate(evs)],
    }


CONTROL = {"messageType": "CONTROL_MESSAGE", "owner": "CloudwatchLogs", "logGroup": "", "logStream": "",
           "subscriptionFilters": [],
           "logEvents": [{"id": "", "timestamp": 1767225600000,
                          "message": "CWL CONTROL MESSAGE: Checking health of destination Firehose."}]}
NOT_AUDIT = cwl_message(['I0101 00:00:01.000000 1 controller.go:132] OpenAPI AggregationController: action '
                         'for item k8s_internal_local_delegation_chain_0000000000: Nothing (removed from the queue).'],
                        stream="kube-apiserver-6c3f0f3cfd1b4b3a8fc0b9c4d6a2e1f0")


def b64(data):
    return base64.b64encode(data).decode()


def gz(data):
    return gzip.compress(data, mtime=0)


def firehose(req_id, records):
    return json.dumps({"requestId": req_id, "timestamp": 1767225605000,
                       "records": [{"data": r} for r in records]}).encode()


KEY = "pgr-firehose-key-7Qw2xT9"
req = 0
for i, c in enumerate(chunks(events, 100)):
    rid = "0c7e5a1d-93b2-4f0e-a8d1-%012d" % i
    hdr = ["Content-Type: application/json", "X-Amz-Firehose-Protocol-Version: 1.0",
           "X-Amz-Firehose-Request-Id: " + rid, "X-Amz-Firehose-Access-Key: " + KEY,
           "X-Amz-Firehose-Source-Arn: arn:aws:firehose:eu-west-1:210987654321:deliverystream/eks-audit"]
    if i == 2:
        # Firehose decompression on: base64 of the plain CloudWatch message
        recs = [b64(json.dumps(cwl_message(p)).encode()) for p in chunks(c, 25)]
    elif i == 3:
        # decompression and message extraction on: the bare events, back to back
        recs = [b64("".join(p).encode()) for p in chunks(c[:50], 25)]
        recs += [b64("\n".join(p).encode() + b"\n") for p in chunks(c[50:], 25)]
    else:
        # the default: base64 of gzip of a CloudWatch message, several per record
        recs = [b64(gz(json.dumps(cwl_message(p, first_id=i * 100)).encode())) for p in chunks(c, 20)]
    if i == 0:
        recs = [b64(gz(json.dumps(CONTROL).encode())), b64(gz(json.dumps(NOT_AUDIT).encode())), ""] + recs
    body = firehose(rid, recs)
    if i == 1:
        body = gz(body)
        hdr.append("Content-Encoding: gzip")
    if i == 4:
        hdr.append("X-Amz-Firehose-Common-Attributes: " + json.dumps({"commonAttributes": {"cluster": CLUSTER}}))
    write("firehose", req, "/ingest/aws-firehose", body, hdr)
    req += 1
    if i == 5:      # Firehose retries a whole batch with the same request id
        write("firehose", req, "/ingest/aws-firehose", body, hdr)
        req += 1


# --- AKS: diagnostic settings → Event Hubs, relayed by a shipper ----------
RID = ("/SUBSCRIPTIONS/6F1C2D3E-0000-4000-8000-00000000CAFE/RESOURCEGROUPS/RG-KESTREL/PROVIDERS/"
       "MICROSOFT.CONTAINERSERVICE/MANAGEDCLUSTERS/KESTREL-AKS")


def aks_record(log, category="kube-audit"):
    return {"time": "2026-01-01T00:00:01.4410000Z", "resourceId": RID, "category": category,
            "operationName": "Microsoft.ContainerService/managedClusters/diagnosticLogs/Read",
            "properties": {"log": log, "stream": "stdout", "pod": "kube-apiserver-7c9d5f8b6-qm4tz"}}


for i, c in enumerate(chunks(events, 100)):
    recs = [aks_record(e, "kube-audit-admin" if k % 2 else "kube-audit") for k, e in enumerate(c)]
    if i == 0:
        recs.insert(3, aks_record("I0101 00:00:01.000000 1 trace.go:236] Trace[1]: \"List\"", "kube-apiserver"))
        recs.insert(7, aks_record("guard: request allowed", "guard"))
    hdr = ["Content-Type: application/json", "Authorization: Bearer shipper-token-1"]
    body = json.dumps({"records": recs}).encode()
    if i == 1:
        # a storage-account blob: JSON Lines, one record per line
        body = "\n".join(json.dumps(r) for r in recs).encode() + b"\n"
        hdr[0] = "Content-Type: application/x-ndjson"
    write("aks", i, "/ingest/generic", body, hdr)

# --- self-managed clusters: Fluent Bit and Vector http outputs ------------
BASIC = "Authorization: Basic " + b64(b"fluent-bit:shipper-token-1")
for i, c in enumerate(chunks(events, 100)):
    k = i % 4
    if k == 0:      # Fluent Bit format json, tail without a parser: the line under "log"
        body = json.dumps([{"date": 1767225601.234 + j, "log": e} for j, e in enumerate(c)]).encode()
        hdr = ["Content-Type: application/json", BASIC]
    elif k == 1:    # Fluent Bit format json_lines, gzip
        body = gz("".join(json.dumps({"date": 1767225601.5, "log": e + "\n"}) + "\n" for e in c).encode())
        hdr = ["Content-Type: application/x-ndjson", "Content-Encoding: gzip", BASIC]
    elif k == 2:    # Vector json codec: a JSON array of the (parsed) events
        body = ("[" + ",".join(c) + "]").encode()
        hdr = ["Content-Type: application/json", "Authorization: Bearer shipper-token-1"]
    else:           # Vector newline_delimited framing, file source: the line under "message"
        body = "".join(json.dumps({"message": e, "file": "/var/log/kube-audit.log", "host": "cp-1"}) + "\n"
                       for e in c).encode()
        hdr = ["Content-Type: application/x-ndjson", "Authorization: Bearer shipper-token-1"]
    write("shippers", i, "/ingest/generic/" + CLUSTER, body, hdr)
