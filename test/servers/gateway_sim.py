#!/usr/bin/python3
"""A gateway simulator: a Twilio-shaped voice, SMS and fax gateway for tests
and the demo.

Listens on 127.0.0.1 (port 0 picks a free one; the real port is the first
line of standard output), checks HTTP Basic auth (account SID and the token
from --token-file) and appends every request to --log as one JSON line:
time, method, path, form (decoded), auth_ok, answer.

Resources (API 2010-04-01):
  POST /2010-04-01/Accounts/{Sid}/Calls.json     201 {"sid": "CA..."}
  POST /2010-04-01/Accounts/{Sid}/Messages.json  201 {"sid": "SM..."}
  POST /2010-04-01/Accounts/{Sid}/Faxes.json     201 {"sid": "FX..."}
  (Faxes takes multipart/form-data: the PDF as "Media", To, From,
  StatusCallback; the PDF is kept as --log's name + ".FXsid.pdf".)

The far side is played per destination number from --script, a JSON object
{"+8190...": "answer-press-1 after 2s", ...}; numbers not listed get
"answer-no-key" (calls), "delivered" (SMS) or "fax-ok". Behaviours:
  answer-press-1 [after Ns]   rings, answers, Gather action with Digits=1,
                              completes (AnsweredBy=human)
  answer-press-9-then-1       presses 9 (repeat), then 1
  answer-no-key               answers, completes without a keypress
  voicemail                   completes with AnsweredBy=machine_end_beep
  no-answer | busy | failed   the final status says so
  sms-reply TEXT [after Ns]   delivered, then an inbound SMS with TEXT
  delivered | undelivered     the SMS status
  fax-ok | fax-fail           the fax status (with NumPages)
Suffixes, space-separated, after the behaviour: "dup" sends every status
callback twice; "late" sends a "ringing" after the final status;
"reorder" sends the final status before "in-progress".

Callbacks are POSTed form-encoded with X-Twilio-Signature over the URL the
driver gave (StatusCallback, the Gather action parsed from the TwiML, and
for inbound SMS the StatusCallback's folder + "/inbound"). Their answers
are logged too, as {"callback": URL, "status": N, "reply": "..."}.

Fault modes (flags): --error-rate F (500 for that share of requests),
--latency MS (before every answer), --hang (never answers), --throttle N
(the first N requests get 429 with Retry-After: 1), --refuse (closes each
connection without answering).

SIGTERM ends it cleanly. Standard library only.
"""

import argparse
import base64
import hashlib
import hmac
import http.server
import json
import random
import re
import secrets
import signal
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request


def sign(token, url, params):
    """X-Twilio-Signature: HMAC-SHA1 over URL + sorted name+value."""
    data = url + "".join(k + v for k, v in sorted(params))
    mac = hmac.new(token.encode(), data.encode(), hashlib.sha1).digest()
    return base64.b64encode(mac).decode()


class Sim(http.server.ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 1024

    def __init__(self, args):
        super().__init__(("127.0.0.1", args.port), Handler)
        self.args = args
        with open(args.token_file, encoding="utf-8") as f:
            self.token = f.read().strip()
        self.script = {}
        if args.script:
            with open(args.script, encoding="utf-8") as f:
                self.script = json.load(f)
        self.log_file = open(args.log, "a", encoding="utf-8")
        self.lock = threading.Lock()
        self.requests = 0

    def log(self, entry):
        entry["time"] = time.time()
        with self.lock:
            self.log_file.write(json.dumps(entry, ensure_ascii=False) + "\n")
            self.log_file.flush()

    def callback(self, url, params):
        """POSTs a signed callback and logs what came back."""
        if not url:
            return None
        body = urllib.parse.urlencode(params).encode()
        req = urllib.request.Request(url, data=body, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        req.add_header("X-Twilio-Signature", sign(self.token, url, params))
        status, reply = 0, ""
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                status, reply = r.status, r.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as e:
            status, reply = e.code, e.read().decode("utf-8", "replace")
        except OSError as e:
            reply = str(e)
        self.log({"callback": url, "params": dict(params), "status": status,
                  "reply": reply})
        return reply

    def behaviour(self, number, default):
        words = self.script.get(number, default).split()
        delay = 0.0
        if "after" in words:
            i = words.index("after")
            delay = float(words[i + 1].rstrip("s"))
            del words[i:i + 2]
        return words, delay


def far_call(sim, sid, form):
    words, delay = sim.behaviour(form.get("To", ""), "answer-no-key")
    what, flags = words[0], set(words[1:])
    url = form.get("StatusCallback")
    m = re.search(r'action="([^"]*)"', form.get("Twiml", ""))
    action = m.group(1).replace("&amp;", "&") if m else None
    base = [("CallSid", sid), ("AccountSid", sim.args.sid),
            ("From", form.get("From", "")), ("To", form.get("To", ""))]
    reps = 2 if "dup" in flags else 1

    def status(s, extra=()):
        for _ in range(reps):
            sim.callback(url, base + [("CallStatus", s)] + list(extra))

    time.sleep(delay)
    if what in ("no-answer", "busy", "failed"):
        status("ringing")
        status(what)
        return
    final = [("AnsweredBy", "human")]
    if what == "voicemail":
        final = [("AnsweredBy", "machine_end_beep")]
    if "reorder" in flags:
        status("completed", final)
        status("in-progress")
        return
    status("ringing")
    status("in-progress")
    if what in ("answer-press-1", "answer-press-9-then-1"):
        digits = ["9", "1"] if what == "answer-press-9-then-1" else ["1"]
        for d in digits:
            for _ in range(reps):
                sim.callback(action, base + [("CallStatus", "in-progress"),
                                             ("Digits", d)])
    status("completed", final)
    if "late" in flags:
        status("ringing")


def far_sms(sim, sid, form):
    words, delay = sim.behaviour(form.get("To", ""), "delivered")
    what = words[0]
    url = form.get("StatusCallback")
    base = [("MessageSid", sid), ("AccountSid", sim.args.sid),
            ("From", form.get("From", "")), ("To", form.get("To", ""))]
    final = "undelivered" if what == "undelivered" else "delivered"
    sim.callback(url, base + [("MessageStatus", "sent")])
    sim.callback(url, base + [("MessageStatus", final)])
    if what == "sms-reply" and url:
        time.sleep(delay)
        text = " ".join(words[1:]) or "OK"
        inbound = url.rsplit("/", 1)[0] + "/inbound"
        sim.callback(inbound, [("MessageSid", "SM" + secrets.token_hex(16)),
                               ("AccountSid", sim.args.sid),
                               ("From", form.get("To", "")),
                               ("To", form.get("From", "")),
                               ("Body", text), ("NumSegments", "1")])


def far_fax(sim, sid, form):
    words, delay = sim.behaviour(form.get("To", ""), "fax-ok")
    time.sleep(delay)
    ok = words[0] != "fax-fail"
    sim.callback(form.get("StatusCallback"),
                 [("FaxSid", sid), ("AccountSid", sim.args.sid),
                  ("To", form.get("To", "")),
                  ("FaxStatus", "delivered" if ok else "failed"),
                  ("NumPages", "1" if ok else "0")])


def parse_multipart(ctype, body):
    m = re.search(r'boundary="?([^";]+)"?', ctype)
    if not m:
        return {}, None
    form, media = {}, None
    for part in body.split(b"--" + m.group(1).encode()):
        head, _, data = part.partition(b"\r\n\r\n")
        name = re.search(rb'name="([^"]+)"', head)
        if not name:
            continue
        data = data[:-2] if data.endswith(b"\r\n") else data
        if b"filename=" in head:
            media = data
        else:
            form[name.group(1).decode()] = data.decode("utf-8", "replace")
    return form, media


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def answer(self, code, obj, headers=()):
        body = json.dumps(obj).encode()
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        for k, v in headers:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self):
        sim, args = self.server, self.server.args
        length = int(self.headers.get("Content-Length") or 0)
        raw = self.rfile.read(length)
        if args.refuse:
            self.close_connection = True
            self.connection.close()
            return
        ctype = self.headers.get("Content-Type", "")
        media = None
        if ctype.startswith("multipart/form-data"):
            form, media = parse_multipart(ctype, raw)
        else:
            form = dict(urllib.parse.parse_qsl(raw.decode("utf-8", "replace"),
                                               keep_blank_values=True))
            # StatusCallbackEvent repeats: keep them all for the log.
            events = [v for k, v in urllib.parse.parse_qsl(raw.decode())
                      if k == "StatusCallbackEvent"]
            if events:
                form["StatusCallbackEvent"] = events
        want = "Basic " + base64.b64encode(
            ("%s:%s" % (args.sid, sim.token)).encode()).decode()
        auth_ok = hmac.compare_digest(self.headers.get("Authorization", ""), want)
        with sim.lock:
            sim.requests += 1
            n = sim.requests
        entry = {"method": "POST", "path": self.path, "form": form,
                 "auth_ok": auth_ok}
        if args.latency:
            time.sleep(args.latency / 1000.0)
        if args.hang:
            sim.log(dict(entry, answer="hang"))
            time.sleep(3600)
            return
        if n <= args.throttle:
            sim.log(dict(entry, answer=429))
            return self.answer(429, {"message": "Too Many Requests"},
                               [("Retry-After", "1")])
        if args.error_rate and random.random() < args.error_rate:
            sim.log(dict(entry, answer=500))
            return self.answer(500, {"message": "simulated failure"})
        if not auth_ok:
            sim.log(dict(entry, answer=401))
            return self.answer(401, {"message": "Authenticate"})
        m = re.fullmatch(r"/2010-04-01/Accounts/([^/]+)/(Calls|Messages|Faxes)\.json",
                         self.path)
        if not m or m.group(1) != args.sid:
            sim.log(dict(entry, answer=404))
            return self.answer(404, {"message": "no such resource"})
        kind = m.group(2)
        prefix = {"Calls": "CA", "Messages": "SM", "Faxes": "FX"}[kind]
        sid = prefix + secrets.token_hex(16)
        if kind == "Faxes" and media is not None:
            with open("%s.%s.pdf" % (args.log, sid), "wb") as f:
                f.write(media)
            form["Media"] = "%d bytes" % len(media)
        sim.log(dict(entry, answer=201, sid=sid))
        self.answer(201, {"sid": sid, "status": "queued", "to": form.get("To")})
        if not args.quiet:
            play = {"Calls": far_call, "Messages": far_sms, "Faxes": far_fax}[kind]
            threading.Thread(target=play, args=(sim, sid, form), daemon=True).start()


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--log", required=True)
    p.add_argument("--sid", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--script")
    p.add_argument("--error-rate", type=float, default=0.0)
    p.add_argument("--latency", type=int, default=0)
    p.add_argument("--hang", action="store_true")
    p.add_argument("--throttle", type=int, default=0)
    p.add_argument("--refuse", action="store_true")
    p.add_argument("--quiet", action="store_true",
                   help="no far side at all (for the bench)")
    args = p.parse_args()
    sim = Sim(args)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(sim.server_address[1], flush=True)
    try:
        sim.serve_forever()
    except SystemExit:
        pass
    finally:
        sim.server_close()


if __name__ == "__main__":
    main()
