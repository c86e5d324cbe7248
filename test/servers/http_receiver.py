#!/usr/bin/python3
"""A test HTTP receiver for web hooks and HTTP gateways.

Listens on 127.0.0.1 (HTTP/1.1, keep-alive, one thread per connection),
prints the real port as its first line of standard output, and appends
every request it receives to a log file as one JSON line: method, path,
headers (names in lower case), body, time, client_port (to count TCP
connections) and, with --secret, signature_ok (Standard Webhooks).

The answer depends on the path's first segment, so every test can pick a
fault:

  /ok/...         200
  /fail500/...    500, always
  /flaky/...      500 the first time a webhook-id is seen, then 200
  /ratelimit/...  429 with Retry-After: 2 the first time per webhook-id,
                  then 200
  /gone/...       410
  /bad/...        400
  /hang/...       never answers (sleeps an hour; other requests go on)
  /leak/...       500 with a 4 KB text body that echoes credentials, as
                  an internal service's error page may
  anything else   404

Requests without a webhook-id count "first time" per path instead. The
request is logged before it is answered, so a client that has its answer
finds the request in the log. SIGTERM ends it cleanly (exit status 0).

Usage: http_receiver.py PORT LOGFILE [--secret whsec_...]
Standard library only (Debian's /usr/bin/python3).
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import signal
import sys
import threading
import time

HANG_SECONDS = 3600


class Receiver(http.server.ThreadingHTTPServer):
    daemon_threads = True  # a hanging request never holds up exit
    allow_reuse_address = True

    def __init__(self, port, log_path, secret):
        super().__init__(("127.0.0.1", port), Handler)
        self.log_file = open(log_path, "a", encoding="utf-8")
        self.key = None
        if secret is not None:
            if not secret.startswith("whsec_"):
                raise SystemExit("--secret must start with whsec_")
            self.key = base64.b64decode(secret[len("whsec_"):])
        self.lock = threading.Lock()
        self.seen = {}  # fault mode -> set of ids already answered once

    def first_time(self, mode, ident):
        with self.lock:
            seen = self.seen.setdefault(mode, set())
            if ident in seen:
                return False
            seen.add(ident)
            return True

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False)
        with self.lock:
            self.log_file.write(line + "\n")
            self.log_file.flush()

    def signature_ok(self, headers, body):
        msg_id = headers.get("webhook-id")
        stamp = headers.get("webhook-timestamp")
        sigs = headers.get("webhook-signature")
        if msg_id is None or stamp is None or sigs is None:
            return False
        signed = msg_id.encode() + b"." + stamp.encode() + b"." + body
        expected = base64.b64encode(
            hmac.new(self.key, signed, hashlib.sha256).digest()).decode()
        for entry in sigs.split(" "):
            version, _, value = entry.partition(",")
            if version == "v1" and hmac.compare_digest(value, expected):
                return True
        return False


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive unless the client closes

    def log_message(self, format, *args):
        pass  # the JSON log is the record; keep test output quiet

    def answer(self, code, extra=None):
        body = json.dumps({"status": code}).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for name, value in (extra or {}).items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        headers = {k.lower(): v for k, v in self.headers.items()}
        entry = {
            "method": self.command,
            "path": self.path,
            "headers": headers,
            "body": body.decode("utf-8", errors="replace"),
            "time": time.time(),
            "client_port": self.client_address[1],
        }
        if self.server.key is not None:
            entry["signature_ok"] = self.server.signature_ok(headers, body)
        self.server.record(entry)

        mode = self.path.split("/")[1] if self.path.startswith("/") else ""
        ident = headers.get("webhook-id", self.path)
        if mode == "ok":
            self.answer(200)
        elif mode == "fail500":
            self.answer(500)
        elif mode == "flaky":
            self.answer(500 if self.server.first_time(mode, ident) else 200)
        elif mode == "ratelimit":
            if self.server.first_time(mode, ident):
                self.answer(429, {"Retry-After": "2"})
            else:
                self.answer(200)
        elif mode == "gone":
            self.answer(410)
        elif mode == "bad":
            self.answer(400)
        elif mode == "leak":
            body = ("internal error: db password=hunter2-Secret connecting"
                    " with token: 3f9a8c1d2e7b4a6f9c0d1e2f3a4b5c6d and"
                    " Authorization: Bearer eyJhbGciOiJIUzI1NiJ9abcdef0123 "
                    + "x" * 4000).encode()
            self.send_response(500)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "hang":
            time.sleep(HANG_SECONDS)
            self.close_connection = True
        else:
            self.answer(404)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = handle_any


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("port", type=int, help="0 picks a free port")
    parser.add_argument("log", help="file that gets one JSON line a request")
    parser.add_argument("--secret", help="whsec_... to check signatures")
    args = parser.parse_args()

    server = Receiver(args.port, args.log, args.secret)

    def on_term(signum, frame):
        # serve_forever() runs on this thread: leave it by exception.
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    print(server.server_address[1], flush=True)
    try:
        server.serve_forever()
    except (SystemExit, KeyboardInterrupt):
        pass
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        server.server_close()
        server.log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
