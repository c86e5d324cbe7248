"""Helpers for pocalert's integration stories.

Each story runs the real `pocalert` binary against real servers that it
starts on 127.0.0.1 and stops itself: the test SMTP server (aiosmtpd), the
test HTTP receiver, and `pocalert serve`. Only processes started here are
ever stopped here.

Every server binds port 0 and says which port it got, and the story reads
that back: a port picked first and bound later could be taken in between
by another test on the machine.
"""
import hashlib
import json
import os
import re
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request

POCALERT = os.environ.get("POCALERT", "build/pocalert")
ROOT = os.environ.get("POCALERT_SOURCE_ROOT",
                      os.path.dirname(os.path.dirname(os.path.dirname(
                          os.path.abspath(__file__)))))
SERVERS = os.path.join(ROOT, "test", "servers")
PYTHON = "/usr/bin/python3"
TOKEN = "test-operator-token"


# The line `pocalert serve` logs once it is bound and its engine is up.
LISTENING = re.compile(rb"pocalert listening on \S+ \(port (\d+)\)")


def closed_port(testcase):
    """A port on 127.0.0.1 where nobody listens, until the test ends.

    The socket stays bound but never listens: a connection to it is
    refused, and no other process can take the port while the test runs
    (a port bound and closed again could be reused at once).
    """
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    testcase.addCleanup(s.close)
    return s.getsockname()[1]


def wait_for(pred, timeout=30.0, interval=0.05, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError("timed out after %.0fs waiting for %s" % (timeout, what))


class Server:
    """A helper server started from test/servers; prints its port first."""

    def __init__(self, script, *args):
        self.proc = subprocess.Popen(
            [PYTHON, os.path.join(SERVERS, script), *map(str, args)],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        # Its port comes once it is bound; a server that hangs fails here.
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline() if ready else ""
        if not line:
            self.proc.kill()  # so that reading its stderr ends
            self.proc.wait()
            raise RuntimeError("%s did not start: %s" % (script, self.proc.stderr.read()))
        self.port = int(line.strip())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        for f in (self.proc.stdout, self.proc.stderr):
            if f:
                f.close()


class Workdir:
    """A temporary directory with a pocalert.conf and a database."""

    def __init__(self, testcase):
        self.path = tempfile.mkdtemp(prefix="pocalert-test-")
        testcase.addCleanup(shutil.rmtree, self.path, True)
        self.config = os.path.join(self.path, "pocalert.conf")
        self.db = os.path.join(self.path, "var", "pocalert.db")
        self.port = None  # the daemon's, once it said which
        self.extra = None
        self.daemon = None
        self.daemon_log = None
        self.pump = None
        testcase.addCleanup(self.stop_daemon)

    def file(self, name, content, encoding="utf-8"):
        p = os.path.join(self.path, name)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(content if isinstance(content, bytes) else content.encode(encoding))
        return p

    def write_config(self, extra=""):
        """pocalert.conf with extra; the daemon will listen on port 0."""
        self.extra = extra
        self._config(0)

    def _config(self, port):
        """Writes the config naming port in its URLs. The daemon always
        binds port 0 and fills in the URLs naming port 0 itself; once it
        said its port, the file names it for the CLI's api_url. Written
        whole and renamed, so a CLI never reads half of it."""
        digest = hashlib.sha256(TOKEN.encode()).hexdigest()
        text = """
database   = "var/pocalert.db"
listen     = "127.0.0.1:0"
public_url = "http://127.0.0.1:%d"
api_url    = "http://127.0.0.1:%d"
operator "ops" { token_sha256 = "%s" }
%s
""" % (port, port, digest, self.extra)
        self.file("pocalert.conf.new", text)
        os.replace(os.path.join(self.path, "pocalert.conf.new"), self.config)

    def run(self, *args, input=None, env=None, check=None):
        e = dict(os.environ)
        e["POCALERT_TOKEN"] = TOKEN
        if env:
            e.update(env)
        p = subprocess.run([POCALERT, "--config", self.config, *args],
                           input=input, capture_output=True, text=True,
                           env=e, cwd=self.path, timeout=120)
        if check is not None and p.returncode != check:
            raise AssertionError("pocalert %s: exit %d, wanted %d\nstdout: %s\nstderr: %s"
                                 % (" ".join(args), p.returncode, check, p.stdout, p.stderr))
        return p

    def db_rows(self, sql, *params):
        if not os.path.exists(self.db):
            return []
        con = sqlite3.connect(self.db, timeout=30)
        try:
            return con.execute(sql, params).fetchall()
        finally:
            con.close()

    # The daemon.
    def start_daemon(self, wrap=(), env=None):
        """Starts pocalert serve, optionally under a wrapper such as valgrind,
        and returns once it has said it listens (on a port of its own
        choice, in self.port) and answered /healthz."""
        timeout = 120 if wrap else 30
        self._config(0)  # a restart picks its port afresh
        self.daemon_log = open(os.path.join(self.path, "daemon.log"), "ab")
        self.daemon = subprocess.Popen([*wrap, POCALERT, "--config", self.config, "serve"],
                                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                       cwd=self.path,
                                       env=dict(os.environ, **env) if env else None)
        listening = {}
        ready = threading.Event()
        self.pump = threading.Thread(target=self._pump,
                                     args=(self.daemon.stdout, listening, ready), daemon=True)
        self.pump.start()
        if not ready.wait(timeout) or "port" not in listening:
            self.daemon.poll()
            raise AssertionError("pocalert serve did not say it listens (exit %s):\n%s"
                                 % (self.daemon.returncode, self.log()))
        self.port = listening["port"]
        self._config(self.port)
        # The socket was bound before that line: no refusal, at worst this
        # waits in the backlog until the loop runs.
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.port,
                                    timeout=timeout) as r:
            if r.status != 200:
                raise AssertionError("/healthz: %d\n%s" % (r.status, self.log()))

    def _pump(self, pipe, listening, ready):
        """Copies the daemon's output into daemon.log, line by line, and
        sets ready at its "listening" line, or at its end if it never came."""
        for line in iter(pipe.readline, b""):
            self.daemon_log.write(line)
            self.daemon_log.flush()
            m = LISTENING.search(line)
            if m and not ready.is_set():
                listening["port"] = int(m.group(1))
                ready.set()
        pipe.close()
        ready.set()

    def stop_daemon(self, sig=signal.SIGTERM, timeout=30):
        if self.daemon is None:
            return None
        if self.daemon.poll() is None:
            self.daemon.send_signal(sig)
            try:
                self.daemon.wait(timeout)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
        code = self.daemon.returncode
        self.daemon = None
        if self.pump:
            # Its last lines are in daemon.log once the pipe is drained.
            self.pump.join(30)
            self.pump = None
        if self.daemon_log:
            self.daemon_log.close()
            self.daemon_log = None
        return code

    def log(self):
        try:
            with open(os.path.join(self.path, "daemon.log"), encoding="utf-8", errors="replace") as f:
                return f.read()
        except OSError:
            return ""

    # The API.
    def api(self, method, path, body=None, token=TOKEN):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.port, path),
                                     data=data, method=method)
        if token:
            req.add_header("Authorization", "Bearer " + token)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                raw = r.read()
                return r.status, (json.loads(raw) if raw[:1] in (b"{", b"[") else raw.decode())
        except urllib.error.HTTPError as e:
            raw = e.read()
            try:
                return e.code, json.loads(raw)
            except ValueError:
                return e.code, raw.decode(errors="replace")

    def send(self, **alert):
        body = {"title": "テスト警報", "body": "本文", "type": "incident",
                "severity": "high", "tlp": "AMBER", "targets": ["all"]}
        body.update(alert)
        status, reply = self.api("POST", "/api/v1/alerts", body)
        if status != 201:
            raise AssertionError("POST /api/v1/alerts: %d %r" % (status, reply))
        return reply["id"]

    def status(self, alert_id):
        code, reply = self.api("GET", "/api/v1/alerts/" + alert_id)
        if code != 200:
            raise AssertionError("GET alert %s: %d %r" % (alert_id, code, reply))
        return reply

    def wait_settled(self, alert_id, timeout=60):
        def settled():
            s = self.status(alert_id)
            return s if s["counts"]["pending"] == 0 else None
        return wait_for(settled, timeout, 0.1, "alert %s to settle" % alert_id)


def deliveries(status):
    """Every delivery of a status JSON, with its organisation id."""
    out = []
    for org in status["organisations"]:
        for d in org["deliveries"]:
            d = dict(d)
            d["org"] = org["id"]
            out.append(d)
    return out


def main():
    unittest.main(verbosity=2)
