#!/usr/bin/env python3
"""Loopback HTTP receiver for the http_output tests (stdlib only).

Appends every POST body as one line to OUT, and "content-type|user-agent"
to OUT.meta.  Listens on 127.0.0.1:PORT (0 = any free port; the port is
written to OUT.port).  --fail-first N answers 503 to the first N POSTs.
"""
import argparse
import http.server
import sys

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--fail-first", type=int, default=0)
args = ap.parse_args()
state = {"seen": 0}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep the connection, as falcosidekick does
    disable_nagle_algorithm = True  # headers and body are separate writes

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        state["seen"] += 1
        if state["seen"] <= args.fail_first:
            code = 503
        else:
            code = 200
            with open(args.out, "ab") as f:
                f.write(body + b"\n")
            with open(args.out + ".meta", "a") as f:
                f.write("%s|%s\n" % (self.headers.get("Content-Type"), self.headers.get("User-Agent")))
        self.send_response(code)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *a):
        pass


srv = http.server.HTTPServer(("127.0.0.1", args.port), Handler)
with open(args.out + ".port", "w") as f:
    f.write(str(srv.server_address[1]))
sys.stdout.flush()
srv.serve_forever()
