#!/usr/bin/env python3
"""An HTTP proxy in front of an S3 server that answers every Nth request itself with a
transient error (503 SlowDown, or 500 InternalError) instead of forwarding it: what the
object-store tests use to check that churnlake retries and never half-publishes.

    python3 scripts/flaky_s3_proxy.py --upstream http://127.0.0.1:PORT --every 5

Prints the port it listens on (127.0.0.1, a free one) on the first line of stdout, then
serves until killed. Requests are forwarded as they came (headers, signature and body).
"""

import argparse
import http.client
import http.server
import itertools
import sys
import threading
import urllib.parse

ERRORS = [
    (503, "SlowDown", "Please reduce your request rate."),
    (500, "InternalError", "We encountered an internal error. Please try again."),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--upstream", required=True, help="the S3 server's URL, http://HOST:PORT")
    parser.add_argument("--every", type=int, default=5, help="fail one request in this many")
    args = parser.parse_args()
    upstream = urllib.parse.urlsplit(args.upstream)
    counter = itertools.count(1)
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *_):  # quiet
            pass

        def handle_any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            with lock:
                n = next(counter)
            if n % args.every == 0:
                status, code, message = ERRORS[(n // args.every) % len(ERRORS)]
                reply = f"<Error><Code>{code}</Code><Message>{message}</Message></Error>".encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(reply)
                return
            conn = http.client.HTTPConnection(upstream.hostname, upstream.port, timeout=60)
            headers = {k: v for k, v in self.headers.items() if k.lower() not in ("connection", "keep-alive")}
            conn.request(self.command, self.path, body=body, headers=headers)
            response = conn.getresponse()
            data = response.read()
            self.send_response(response.status)
            for key, value in response.getheaders():
                if key.lower() not in ("connection", "keep-alive", "transfer-encoding", "content-length"):
                    self.send_header(key, value)
            # a HEAD's length is the object's (it has no body to count)
            length = response.getheader("Content-Length", "0") if self.command == "HEAD" else str(len(data))
            self.send_header("Content-Length", length)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(data)
            conn.close()

        do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = handle_any

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(server.server_address[1], flush=True)
    sys.stdout.close()
    server.serve_forever()


if __name__ == "__main__":
    main()
