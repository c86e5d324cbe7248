"""Stories of the public listener under attack: the reply links make the
HTTP port reachable by anyone, so one anonymous client must not be able
to stop a broadcast. Every packet goes to 127.0.0.1.
"""
import os
import re
import select
import signal
import socket
import ssl
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import POCALERT, Server, Workdir, main, wait_for

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

DIRECTORY = """
organisation "water-a" {
  name = "甲水道"
  sector = "water"
  kind = "member"
  contact "desk" {
    name = "甲水道 窓口"
    role = "primary"
    method "web" { address = "%s" max_tlp = "AMBER" }
  }
}
"""

CHANNELS = """
channel "web" {
  driver = "webhook"
  secret = "%s"
  timeout = 5
  retry { max_attempts = 3 initial_delay = 0.3s }
}
""" % SECRET


def rss_kb(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def healthz(port, timeout=10, headers=None):
    req = urllib.request.Request("http://127.0.0.1:%d/healthz" % port, headers=headers or {})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return r.status


def quiet_connection(port):
    """A connection begun without waiting for it, that never sends."""
    s = socket.socket()
    s.setblocking(False)
    try:
        s.connect(("127.0.0.1", port))
    except BlockingIOError:
        pass
    return s


def connected(s):
    """Whether s's handshake is over (its connect() went through)."""
    p = select.poll()
    p.register(s, select.POLLOUT)
    return bool(p.poll(0)) and s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR) == 0


def backlog(port):
    """How many connections wait in the backlog of the listener on
    127.0.0.1:port (the rx_queue of a LISTEN line of /proc/net/tcp)."""
    local = "0100007F:%04X" % port
    with open("/proc/net/tcp") as f:
        for line in f:
            field = line.split()
            if field[1] == local and field[3] == "0A":
                return int(field[4].split(":")[1], 16)
    raise AssertionError("nothing listens on 127.0.0.1:%d" % port)


def closed_by_server(socks, closed):
    """Adds to closed, and returns it, the sockets of socks the server has
    closed: end of file, or a reset."""
    p = select.poll()
    for s in socks:
        if s not in closed:
            p.register(s, select.POLLIN)
    ready = {fd for fd, _ in p.poll(0)}
    for s in socks:
        if s in closed or s.fileno() not in ready:
            continue
        try:
            if s.recv(1) == b"":
                closed.add(s)
        except BlockingIOError:
            pass
        except OSError:
            closed.add(s)
    return closed


class Listener(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.hooklog = os.path.join(self.w.path, "hooks.jsonl")
        self.http = Server("http_receiver.py", "0", self.hooklog, "--secret", SECRET)
        self.addCleanup(self.http.stop)

    def start(self, extra="", wrap=()):
        self.w.write_config(CHANNELS + extra)
        url = "http://127.0.0.1:%d/ok/water-a" % self.http.port
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY % url), check=0)
        self.w.start_daemon(wrap=wrap)

    def hooks(self):
        if not os.path.exists(self.hooklog):
            return []
        import json
        with open(self.hooklog, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def test_pipelined_flood_never_read_keeps_memory_bounded(self):
        """One client sends GET /healthz in a loop for 8 seconds and never
        reads a reply. The daemon stops reading from it once its replies
        back up, so its memory stays put, and others are still served."""
        self.start()
        pid = self.w.daemon.pid
        before = rss_kb(pid)
        s = socket.create_connection(("127.0.0.1", self.w.port))
        s.setblocking(False)
        req = b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n" * 512
        sent = 0
        peak = before
        end = time.monotonic() + 8
        while time.monotonic() < end:
            try:
                sent += s.send(req)
            except BlockingIOError:
                time.sleep(0.01)
            peak = max(peak, rss_kb(pid))
        # Someone else is served meanwhile.
        self.assertEqual(healthz(self.w.port), 200)
        peak = max(peak, rss_kb(pid))
        s.close()
        print("pipelined flood: %d bytes sent, RSS %d kB before, %d kB at most"
              % (sent, before, peak))
        self.assertLess(peak, 100 * 1024, "RSS grew to %d kB" % peak)
        self.assertEqual(healthz(self.w.port), 200)

    def test_idle_connections_under_1024_descriptors(self):
        """1,100 idle connections against a daemon held to 1024 descriptors:
        once it has taken them all in (100 held, the rest given way), a
        client that sends a whole request is answered, even when it waits
        in the backlog in front of 110 more quiet ones; accept() does not
        spin, and an alert's web hook is still delivered."""
        prlimit = "/usr/bin/prlimit"
        if not os.path.exists(prlimit):
            self.skipTest("needs prlimit (util-linux)")
        self.start(wrap=(prlimit, "--nofile=1024:1024"))
        pid = self.w.daemon.pid
        with open("/proc/%d/limits" % pid) as f:
            self.assertRegex(f.read(), r"Max open files\s+1024\s+1024")
        socks = []
        self.addCleanup(lambda: [s.close() for s in socks])
        # In waves of 100, each fitting the listen backlog (128): a full
        # backlog drops handshakes, which the kernel retries seconds
        # later or leaves half-open for good. A wave is taken in when
        # its handshakes are over and the backlog is empty again.
        flood = []
        while len(flood) < 1100:
            wave = [quiet_connection(self.w.port) for _ in range(100)]
            flood += wave
            wait_for(lambda: all(connected(s) for s in wave) and backlog(self.w.port) == 0,
                     30, what="the daemon to take in %d connections" % len(flood))
        socks += flood
        # It holds 100 (listen_max_per_address) and closed the other
        # 1,000, the oldest first, to make room.
        closed = set()
        wait_for(lambda: len(closed_by_server(flood, closed)) >= 1000, 10,
                 what="1,000 connections to give way")
        self.assertEqual(closed, set(flood[:1000]))
        # Descriptors: those 100 and its own few, far from the 1024.
        self.assertLess(len(os.listdir("/proc/%d/fd" % pid)), 200)
        self.assertIn("the connection limit per address reached (127.0.0.1)",
                      self.w.log())
        self.assertEqual(healthz(self.w.port), 200)

        # The race the issue saw, made certain: while the daemon is
        # stopped, a request and then 110 quiet connections wait in the
        # backlog, so the daemon takes all of them in one turn, before it
        # has read a byte of the request.
        os.kill(pid, signal.SIGSTOP)
        try:
            asking = socket.create_connection(("127.0.0.1", self.w.port), timeout=10)
            socks.append(asking)
            asking.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            behind = [quiet_connection(self.w.port) for _ in range(110)]
            socks += behind
            wait_for(lambda: backlog(self.w.port) == 111, 10,
                     what="the 111 to wait in the backlog")
        finally:
            os.kill(pid, signal.SIGCONT)
        reply = b""
        asking.settimeout(10)
        while True:
            b = asking.recv(4096)
            if not b:
                break
            reply += b
        self.assertTrue(reply.startswith(b"HTTP/1.1 200 "), reply)
        # Quiet connections gave way for them, the oldest first: the 99
        # left of the flood (/healthz's connection took the place of one),
        # then the first 11 of the 110, or 12 if /healthz's connection
        # was still open, between two requests.
        wait_for(lambda: len(closed_by_server(flood, closed)) == 1100, 10,
                 what="the rest of the flood to give way")
        gone = closed_by_server(behind, set())
        self.assertEqual(gone, set(behind[:len(gone)]))
        self.assertIn(len(gone), (11, 12))

        aid = self.w.send(targets=["org:water-a"], tlp="AMBER")
        wait_for(self.hooks, 30, what="the web hook")
        st = self.w.wait_settled(aid)
        self.assertEqual(st["counts"]["pending"], 0)
        self.assertEqual(st["counts"]["sent"], 1, st)
        self.assertEqual(healthz(self.w.port), 200)
        log = self.w.log()
        self.assertNotIn("Too many open files", log)
        self.assertLess(len(log), 200 * 1024, "the log grew to %d bytes" % len(log))

    def test_junk_through_a_trusted_proxy_does_not_lock_out_a_recipient(self):
        """Behind a reverse proxy every request comes from the proxy's
        address. 80 requests with made-up tokens, through it, spend their
        sender's budget for junk, and a recipient's confirmation through
        the same proxy is still recorded."""
        self.junk_then_confirm('trusted_proxies = {"127.0.0.1"}\n', "203.0.113.9")

    def test_junk_from_a_shared_address_does_not_lock_out_a_recipient(self):
        """The same with no proxy configured: the junk and the answer come
        from one address (a carrier's NAT), and the answer still counts."""
        self.junk_then_confirm("", "127.0.0.1")

    def junk_then_confirm(self, extra, source):
        self.start(extra)
        aid = self.w.send(targets=["org:water-a"], tlp="AMBER")
        import json
        hook = wait_for(self.hooks, 30, what="the web hook")[0]
        url = json.loads(hook["body"])["ack_url"]
        base = url.split("/ack/")[0]
        codes = []
        for i in range(80):
            req = urllib.request.Request("%s/ack/%032d" % (base, i),
                                         headers={"X-Forwarded-For": "198.51.100.7"})
            try:
                with urllib.request.urlopen(req, timeout=10) as r:
                    codes.append(r.status)
            except urllib.error.HTTPError as e:
                codes.append(e.code)
        self.assertIn(404, codes)
        self.assertIn(429, codes, "the junk was never limited")
        data = urllib.parse.urlencode({"response": "received", "name": "佐藤"}).encode()
        req = urllib.request.Request(url, data=data, method="POST", headers={
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Forwarded-For": "203.0.113.9"})
        with urllib.request.urlopen(req, timeout=20) as r:
            self.assertEqual(r.status, 200)
        org = self.w.status(aid)["organisations"][0]
        self.assertEqual(org["state"], "acknowledged")
        code, t = self.w.api("GET", "/api/v1/alerts/%s/timeline" % aid)
        self.assertEqual(code, 200)
        acks = [e for e in t if e["kind"] == "acknowledged"]
        self.assertTrue(acks, t)
        # The proxy's word names the client, not the proxy.
        self.assertIn(source, json.dumps(acks, ensure_ascii=False))

    def test_metrics_need_a_token_or_their_own_listener(self):
        """/metrics tells an outsider an alert is going out: on the public
        listener it wants a token (Prometheus's own, here), and without one
        it is served on a loopback listener of its own."""
        import hashlib
        digest = hashlib.sha256(b"prometheus-token").hexdigest()
        self.start('metrics_listen = "127.0.0.1:0"\nmetrics_token_sha256 = "%s"\n' % digest)
        self.assertEqual(self.w.api("GET", "/metrics", token=None)[0], 401)
        code, text = self.w.api("GET", "/metrics", token="prometheus-token")
        self.assertEqual(code, 200)
        self.assertIn("pocalert_", text)
        # That token opens nothing else.
        self.assertEqual(self.w.api("GET", "/api/v1/alerts", token="prometheus-token")[0], 401)
        m = re.search(r"metrics on 127\.0\.0\.1:0 \(port (\d+)\)", self.w.log())
        self.assertIsNotNone(m, self.w.log())
        with urllib.request.urlopen("http://127.0.0.1:%s/metrics" % m.group(1), timeout=10) as r:
            self.assertEqual(r.status, 200)
            self.assertIn(b"pocalert_", r.read())
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen("http://127.0.0.1:%s/api/v1/alerts" % m.group(1), timeout=10)
        self.assertEqual(e.exception.code, 404)

    def test_slowloris_is_cut_at_the_request_deadline(self):
        """A client that sends one header line every second never finishes
        its request: the connection is closed at the deadline."""
        self.start("listen_request_timeout = 2\n")
        s = socket.create_connection(("127.0.0.1", self.w.port))
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        start = time.monotonic()
        closed = None
        s.settimeout(0.5)
        while time.monotonic() - start < 10:
            try:
                s.sendall(b"X-Slow: 1\r\n")
                data = s.recv(100)
                if data == b"":
                    closed = time.monotonic() - start
                    break
            except socket.timeout:
                continue
            except OSError:
                closed = time.monotonic() - start
                break
        s.close()
        self.assertIsNotNone(closed, "the slow client was never cut off")
        self.assertLess(closed, 5)
        self.assertEqual(healthz(self.w.port), 200)


def make_certificate(dirpath, name, cn):
    """A self-signed certificate for 127.0.0.1, made with the openssl CLI;
    returns the paths of the certificate and its key."""
    cert = os.path.join(dirpath, name + ".pem")
    key = os.path.join(dirpath, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:prime256v1", "-nodes", "-days", "1",
                    "-subj", "/CN=" + cn, "-addext", "subjectAltName=IP:127.0.0.1",
                    "-keyout", key, "-out", cert],
                   check=True, capture_output=True, timeout=60)
    return cert, key


class ListenerTLS(unittest.TestCase):
    """The listener speaking TLS itself, for a deployment with no proxy."""

    def setUp(self):
        self.w = Workdir(self)

    def start(self):
        """Like Workdir.start_daemon(), but the daemon speaks TLS, so its
        readiness is asked over https."""
        w = self.w
        w._config(0)
        w.daemon_log = open(os.path.join(w.path, "daemon.log"), "ab")
        w.daemon = subprocess.Popen([POCALERT, "--config", w.config, "serve"],
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                    cwd=w.path)
        listening = {}
        ready = threading.Event()
        w.pump = threading.Thread(target=w._pump, args=(w.daemon.stdout, listening, ready),
                                  daemon=True)
        w.pump.start()
        if not ready.wait(30) or "port" not in listening:
            raise AssertionError("pocalert serve did not start:\n" + w.log())
        w.port = listening["port"]

    def assertHealthy(self, got):
        """/healthz answered 200 with "ok" first (detail lines may follow)."""
        code, body = got
        self.assertEqual(code, 200, body)
        self.assertTrue(body.startswith(b"ok\n"), body)

    def get(self, cafile, path="/healthz"):
        ctx = ssl.create_default_context(cafile=cafile)
        with urllib.request.urlopen("https://127.0.0.1:%d%s" % (self.w.port, path),
                                    context=ctx, timeout=10) as r:
            return r.status, r.read()

    def peer_subject(self):
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        with socket.create_connection(("127.0.0.1", self.w.port), timeout=10) as s:
            with ctx.wrap_socket(s) as t:
                der = t.getpeercert(binary_form=True)
        return ssl.DER_cert_to_PEM_cert(der)

    def test_tls_served_and_reloaded_on_sighup(self):
        cert, key = make_certificate(self.w.path, "one", "pocalert-one")
        self.w.write_config('tls_certificate = "one.pem"\ntls_key = "one.key"\n')
        self.start()
        self.assertHealthy(self.get(cert))
        # Plain HTTP on the TLS port gets no answer.
        with self.assertRaises(Exception):
            healthz(self.w.port, timeout=3)
        # An API call over TLS, with the operator's token.
        ctx = ssl.create_default_context(cafile=cert)
        req = urllib.request.Request("https://127.0.0.1:%d/api/v1/alerts" % self.w.port,
                                     headers={"Authorization": "Bearer test-operator-token"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            self.assertEqual(r.status, 200)

        # The certificate is renewed in place; SIGHUP reads it again.
        with open(cert) as f:
            first = f.read()
        two_cert, two_key = make_certificate(self.w.path, "two", "pocalert-two")
        os.replace(two_cert, cert)
        os.replace(two_key, key)
        self.w.daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: self.peer_subject() != first, 10, what="the new certificate")
        self.assertHealthy(self.get(cert))
        with self.assertRaises(urllib.error.URLError):
            ctx = ssl.create_default_context(cadata=first)
            urllib.request.urlopen("https://127.0.0.1:%d/healthz" % self.w.port,
                                   context=ctx, timeout=10)

        # A broken pair on reload keeps the one loaded before.
        with open(key, "w") as f:
            f.write("not a key\n")
        self.w.daemon.send_signal(signal.SIGHUP)
        wait_for(lambda: "keeping the certificate loaded before" in self.w.log(), 10,
                 what="the reload to fail")
        self.assertHealthy(self.get(cert))
        self.assertEqual(self.w.stop_daemon(), 0)


if __name__ == "__main__":
    main()
