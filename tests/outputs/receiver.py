#!/usr/bin/env python3
"""Loopback HTTP receiver for the http_output tests (stdlib only).

Appends every POST body as one line to OUT, and "content-type|user-agent"
to OUT.meta.  Listens on 127.0.0.1:PORT (0 = any free port; the port is
written to OUT.port).  --fail-first N answers 503 to the first N POSTs.
--cert/--key serve HTTPS; --client-ca also requires a client certificate
signed by that CA (mutual TLS).
"""
import argparse
import http.server
import ssl
import sys

ap = argparse.ArgumentParser()
ap.add_argument("out")
ap.add_argument("--port", type=int, default=0)
ap.add_argument("--fail-first", type=int, default=0)
ap.add_argument("--cert")
ap.add_argument("--key")
ap.add_argument("--client-ca")
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
if args.cert:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(args.cert, args.key)
    if args.client_ca:
        ctx.verify_mode = ssl.CERT_REQUIRED
        ctx.load_verify_locations(args.client_ca)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
with open(args.out + ".port", "w") as f:
    f.write(str(srv.server_address[1]))
sys.stdout.flush()
srv.serve_forever()
