"""Stories of running pocalert as a service (issue 14): the version, the
config check an administrator runs before a reload, the systemd notify
protocol read from a socket of the test's own, a reload by SIGHUP, and a
backup taken while the daemon runs.

No service is ever started through systemd here: the notify protocol is
checked with NOTIFY_SOCKET pointing at a datagram socket this test binds
and reads, which is exactly what systemd would read.
"""
import fcntl
import hashlib
import json
import os
import re
import signal
import socket
import sqlite3
import subprocess
import threading
import unittest

import harness
from harness import POCALERT, ROOT, Workdir, wait_for

EXAMPLE = os.path.join(ROOT, "pocalert.conf.example")


def meson_version():
    with open(os.path.join(ROOT, "meson.build"), encoding="utf-8") as f:
        return re.search(r"version:\s*'([^']+)'", f.read()).group(1)


class VersionAndCheck(unittest.TestCase):
    def test_version_is_the_projects(self):
        p = subprocess.run([POCALERT, "--version"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(p.stdout, "pocalert %s\n" % meson_version())

    def test_check_prints_what_serve_would_run(self):
        p = subprocess.run([POCALERT, "config", "check", "--config", EXAMPLE],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        out = p.stdout
        self.assertIn("config %s: ok" % EXAMPLE, out)
        self.assertRegex(out, r"(?m)^  channel mail driver=smtp ")
        self.assertRegex(out, r"(?m)^  channel web driver=webhook ")
        self.assertRegex(out, r"(?m)^  policy standard steps=3 ")
        self.assertRegex(out, r"(?m)^  rule 3 -> standard$")
        self.assertRegex(out, r"(?m)^calendar \d{4}-\d\d-\d\d\.\.\d{4}-12-31 holidays=\d+$")

    def test_check_starts_nothing(self):
        # The example's database is var/pocalert.db beside the file: a
        # check of a copy must not create it.
        w = Workdir(self)
        with open(EXAMPLE, encoding="utf-8") as f:
            text = f.read()
        text = text.replace('"policies/', '"%s/policies/' % ROOT)
        conf = w.file("pocalert.conf", text)
        p = subprocess.run([POCALERT, "--config", conf, "config", "check"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertFalse(os.path.exists(os.path.join(w.path, "var")))

    def test_check_names_file_and_line_and_exits_2(self):
        w = Workdir(self)
        w.write_config('channel "mail" {\n  driver = "smtp"\n  port = "x"\n}\n')
        p = w.run("config", "check")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertRegex(p.stderr, re.escape(w.config) + r":\d+:")
        self.assertEqual(p.stdout, "")

    def test_driver_settings_are_checked(self):
        # Parsed fine, refused by the smtp driver's own configure step.
        w = Workdir(self)
        w.write_config('channel "mail" {\n  driver = "smtp"\n  tls = "sometimes"\n}\n')
        p = w.run("config", "check")
        self.assertEqual(p.returncode, 2, p.stdout + p.stderr)
        self.assertRegex(p.stderr, re.escape(w.config) + r":\d+:")

    def test_usage(self):
        w = Workdir(self)
        w.write_config()
        self.assertEqual(w.run("config").returncode, 2)
        self.assertEqual(w.run("config", "check", "--bogus").returncode, 2)


class NotifySocket:
    """The datagram socket systemd would read: NOTIFY_SOCKET points here."""

    def __init__(self, testcase, workdir):
        self.path = os.path.join(workdir.path, "notify.sock")
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(self.path)
        testcase.addCleanup(self.sock.close)
        self.seen = []

    def expect(self, line, timeout=30):
        """Reads datagrams until one holds line; returns that datagram."""
        self.sock.settimeout(timeout)
        while True:
            try:
                msg = self.sock.recv(4096).decode()
            except socket.timeout:
                raise AssertionError("no %r within %ds; got %r" % (line, timeout, self.seen))
            self.seen.append(msg)
            if line in msg.split("\n"):
                return msg


def web_channel(retry="max_attempts = 4 initial_delay = 1s multiplier = 1 max_delay = 1s jitter = 0"):
    return """
channel "web" {
  driver = "webhook"
  secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
  timeout = 5
  max_concurrency = 4
  retry { %s }
}
""" % retry


def web_org(org_id, url):
    return """
organisation "%s" {
  name = "%s"
  sector = "finance"
  kind = "member"
  contact "desk" {
    name = "desk"
    role = "primary"
    method "web" { address = "%s" max_tlp = "AMBER" }
  }
}
""" % (org_id, org_id, url)


class Notify(unittest.TestCase):
    def test_ready_status_watchdog_stopping(self):
        w = Workdir(self)
        w.write_config()
        n = NotifySocket(self, w)
        # 0.2 s: pings every 0.1 s from the loop.
        w.start_daemon(env={"NOTIFY_SOCKET": n.path, "WATCHDOG_USEC": "200000"})
        ready = n.expect("READY=1")
        self.assertRegex(ready, r"STATUS=0 deliveries pending, 0 alerts active")
        n.expect("WATCHDOG=1")
        n.expect("WATCHDOG=1")
        w.daemon.send_signal(signal.SIGTERM)
        n.expect("STOPPING=1")
        # Its own exit, not stop_daemon()'s second signal: once shutdown
        # has freed the handlers a second SIGTERM ends it by the default.
        self.assertEqual(w.daemon.wait(30), 0)
        self.assertEqual(w.stop_daemon(), 0)

    def test_without_notify_socket_nothing_changes(self):
        w = Workdir(self)
        w.write_config()
        # Only a watchdog interval, no socket: notify stays silent.
        w.start_daemon(env={"WATCHDOG_USEC": "200000"})
        self.assertEqual(w.api("GET", "/healthz")[0], 200)
        self.assertEqual(w.stop_daemon(), 0)
        self.assertNotIn("sd_notify", w.log())


class Reload(unittest.TestCase):
    """SIGHUP re-reads the config; a broken one is refused, the old runs on."""

    def setUp(self):
        self.w = Workdir(self)
        self.hooklog = os.path.join(self.w.path, "hooks.jsonl")
        self.http = harness.Server("http_receiver.py", "0", self.hooklog)
        self.addCleanup(self.http.stop)
        self.n = NotifySocket(self, self.w)

    def hooks(self):
        if not os.path.exists(self.hooklog):
            return []
        with open(self.hooklog, encoding="utf-8") as f:
            return [l for l in f if l.strip()]

    def start(self, extra=""):
        self.w.write_config(web_channel() + extra)
        d = self.w.file("dir.conf", web_org("flaky", "http://127.0.0.1:%d/flaky/x" % self.http.port))
        self.w.run("contacts", "import", d, check=0)
        self.w.start_daemon(env={"NOTIFY_SOCKET": self.n.path})
        self.n.expect("READY=1")

    def hup(self, text):
        """Writes the config as text and sends SIGHUP; returns the READY
        datagram that ends the reload."""
        outcomes = re.compile(r"reload refused|reloaded config=")
        seen = len(outcomes.findall(self.w.log()))
        path = self.w.file("pocalert.conf.new", text)
        os.replace(path, self.w.config)
        self.w.daemon.send_signal(signal.SIGHUP)
        self.n.expect("RELOADING=1")
        ready = self.n.expect("READY=1")
        # The log comes through a pipe: its outcome line may trail.
        wait_for(lambda: len(outcomes.findall(self.w.log())) > seen, 30,
                 what="the reload's outcome in the log")
        return ready

    def current_config(self):
        with open(self.w.config, encoding="utf-8") as f:
            return f.read()

    def test_broken_config_refused_old_runs_on(self):
        self.start()
        good = self.current_config()
        broken = good + '\noperator "late" {\n  token_sha256 = 42x\n}\n'
        ready = self.hup(broken)
        self.assertIn("STATUS=reload refused", ready)
        self.assertRegex(self.w.log(), re.escape(self.w.config) + r":\d+: ")
        self.assertIn("reload refused: the old config runs on", self.w.log())
        # The old operators still work, and the daemon takes alerts.
        self.assertEqual(self.w.api("GET", "/api/v1/alerts")[0], 200)
        self.w.send(targets=["org:flaky"])
        # The file is fixed: the next HUP applies it.
        self.assertNotIn("refused", self.hup(good))
        self.assertEqual(self.w.stop_daemon(), 0)

    def test_new_operator_takes_effect_and_timers_survive(self):
        self.start()
        alert = self.w.send(targets=["org:flaky"])
        # The first attempt fails (500): its retry timer is set for 1 s on.
        wait_for(lambda: len(self.hooks()) >= 1, 30, what="the first attempt")
        new_token = "rotated-operator-token"
        digest = hashlib.sha256(new_token.encode()).hexdigest()
        text = re.sub(r'operator "ops" \{[^}]*\}',
                      'operator "ops2" { token_sha256 = "%s" }' % digest,
                      self.current_config())
        ready = self.hup(text)
        self.assertNotIn("refused", ready)
        self.assertEqual(self.w.api("GET", "/api/v1/alerts", token=new_token)[0], 200)
        self.assertEqual(self.w.api("GET", "/api/v1/alerts")[0], 401)
        # The retry set before the reload still goes out, and succeeds.
        wait_for(lambda: len(self.hooks()) >= 2, 30, what="the retry after the reload")

        def state():
            st = self.w.api("GET", "/api/v1/alerts/%s" % alert, token=new_token)[1]
            return harness.deliveries(st)[0]["state"]
        wait_for(lambda: state() == "sent", 30, what="the delivery sent")
        self.assertEqual(len(self.hooks()), 2)
        self.assertEqual(self.w.stop_daemon(), 0)

    def test_restart_only_change_is_refused(self):
        self.start()
        text = self.current_config().replace('listen     = "127.0.0.1:0"',
                                             'listen     = "127.0.0.1:1"')
        ready = self.hup(text)
        self.assertIn("refused", ready)
        self.assertIn("listen changed: takes a restart", self.w.log())
        self.assertEqual(self.w.api("GET", "/healthz")[0], 200)
        self.assertEqual(self.w.stop_daemon(), 0)

    def test_directory_is_read_again(self):
        self.start()
        d = self.w.file("dir2.conf", web_org("second", "http://127.0.0.1:%d/ok/y" % self.http.port))
        self.w.run("contacts", "import", d, check=0)
        self.hup(self.current_config())
        self.assertRegex(self.w.log(), r"reloaded config=.* orgs=2")
        self.assertEqual(self.w.stop_daemon(), 0)


class Backup(unittest.TestCase):
    """backup copies a running daemon's store; restore waits for it to stop."""

    def setUp(self):
        self.w = Workdir(self)
        self.w.write_config("""
channel "mail" { driver = "dryrun"  path = "var/mail.jsonl" }
channel "web" { driver = "dryrun"  path = "var/web.jsonl" }
""")
        d = os.path.join(self.w.path, "dir.conf")
        with open(d, "w", encoding="utf-8") as f:
            subprocess.run([harness.PYTHON, os.path.join(ROOT, "scripts", "gen-directory"), "400",
                            "--seed", "14"], stdout=f, check=True, timeout=120)
        self.w.run("contacts", "import", d, check=0)

    def test_backup_during_a_broadcast_holds_every_accepted_alert(self):
        self.w.start_daemon()
        accepted = []
        for _ in range(3):
            accepted.append(self.w.send(targets=["all"]))
        # More alerts go on being accepted while the backup runs.
        stop = threading.Event()
        during = []

        def keep_sending():
            while not stop.is_set():
                during.append(self.w.send(targets=["all"], tlp="GREEN"))
        t = threading.Thread(target=keep_sending)
        t.start()
        try:
            wait_for(lambda: len(during) >= 1, 60, what="a send during the broadcast")
            before = list(accepted) + list(during)
            dest = os.path.join(self.w.path, "nightly.db")
            p = self.w.run("backup", dest)
        finally:
            stop.set()
            t.join(120)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertEqual(os.stat(dest).st_mode & 0o777, 0o600)
        self.assertFalse(os.path.exists(dest + ".partial"))
        con = sqlite3.connect("file:%s?mode=ro" % dest, uri=True)
        self.addCleanup(con.close)
        self.assertEqual(con.execute("PRAGMA quick_check").fetchone()[0], "ok")
        ids = {r[0] for r in con.execute("SELECT id FROM alerts")}
        self.assertLessEqual(set(before), ids)
        # Each alert's deliveries were committed with it: all of them.
        for a in before:
            live = self.w.db_rows("SELECT count(*) FROM deliveries WHERE alert_id = ?", a)[0][0]
            copy = con.execute("SELECT count(*) FROM deliveries WHERE alert_id = ?", (a,)).fetchone()[0]
            self.assertGreater(copy, 0)
            self.assertEqual(copy, live, a)
        self.assertEqual(self.w.stop_daemon(), 0)

    def test_restore_puts_the_backup_back(self):
        self.w.start_daemon()
        first = self.w.send(targets=["all"])
        self.w.run("backup", os.path.join(self.w.path, "b.db"), check=0)
        second = self.w.send(targets=["all"])
        self.assertEqual(self.w.stop_daemon(), 0)
        self.w.run("restore", os.path.join(self.w.path, "b.db"), check=0)
        ids = {r[0] for r in self.w.db_rows("SELECT id FROM alerts")}
        self.assertIn(first, ids)
        self.assertNotIn(second, ids)

    def test_restore_refused_while_the_store_is_held(self):
        # The lock a daemon holds (flock on DATABASE.lock), taken here as
        # serve takes it, with its pid written in.
        os.makedirs(os.path.dirname(self.w.db), exist_ok=True)
        backup = os.path.join(self.w.path, "b.db")
        self.w.run("backup", backup, check=0)
        with open(self.w.db + ".lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            lock.write("4242\n")
            lock.flush()
            p = self.w.run("restore", backup)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("pid 4242", p.stderr)
        self.assertIn("stop it first", p.stderr)

    def test_restore_refused_while_serve_runs(self):
        self.w.start_daemon()
        backup = os.path.join(self.w.path, "b.db")
        self.w.run("backup", backup, check=0)
        with open(self.w.db + ".lock", "a") as probe:
            try:
                fcntl.flock(probe, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                pass
            else:
                fcntl.flock(probe, fcntl.LOCK_UN)
                self.skipTest("serve on this branch holds no store lock yet "
                              "(it comes with the store hardening)")
        p = self.w.run("restore", backup)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertEqual(self.w.api("GET", "/healthz")[0], 200)

    def test_restore_refuses_what_is_not_a_store(self):
        junk = self.w.file("junk.db", "not a database at all\n" * 100)
        p = self.w.run("restore", junk)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertIn("not a pocalert store", p.stderr)
        self.assertEqual(self.w.run("backup").returncode, 2)
        self.assertEqual(self.w.run("restore", "a", "b").returncode, 2)


BUILD = os.environ.get("POCALERT_BUILD_ROOT", os.path.dirname(os.path.abspath(POCALERT)))
UNITS = ("pocalert.service", "pocalert-backup.service", "pocalert-backup.timer")


class Units(unittest.TestCase):
    """The systemd units as built, checked by systemd-analyze (never started)."""

    def units(self):
        """The built units in a directory of their own, ExecStart naming
        this build's binary (verify wants the program to exist)."""
        w = Workdir(self)
        bindir = re.compile(r"/\S*/bin/pocalert ")
        out = []
        for name in UNITS:
            src = os.path.join(BUILD, "dist", name)
            if not os.path.exists(src):
                src = os.path.join(ROOT, "dist", name)
            with open(src, encoding="utf-8") as f:
                text = bindir.sub(os.path.abspath(POCALERT) + " ", f.read())
            out.append(w.file(name, text))
        return out

    def test_verify_accepts_the_units(self):
        p = subprocess.run(["systemd-analyze", "verify", "--man=no", *self.units()],
                           capture_output=True, text=True, timeout=120)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertEqual(p.stderr.strip(), "")

    def test_service_is_notify_with_watchdog_and_hardening(self):
        with open(self.units()[0], encoding="utf-8") as f:
            text = f.read()
        for line in ("Type=notify", "WatchdogSec=30s", "User=pocalert",
                     "StateDirectory=pocalert", "ProtectSystem=strict",
                     "PrivateTmp=yes", "NoNewPrivileges=yes",
                     "SystemCallFilter=@system-service",
                     "ExecReload=/bin/kill -HUP $MAINPID"):
            self.assertRegex(text, "(?m)^" + re.escape(line) + "$")
        self.assertRegex(text, "(?m)^RestrictAddressFamilies=")

    def test_security_exposure_is_ok(self):
        p = subprocess.run(["systemd-analyze", "security", "--offline=true", self.units()[0]],
                           capture_output=True, text=True, timeout=120)
        m = re.search(r"Overall exposure level for pocalert.service: ([0-9.]+) (\w+)", p.stdout)
        self.assertIsNotNone(m, p.stdout + p.stderr)
        print("systemd-analyze security: %s %s" % (m.group(1), m.group(2)))
        self.assertIn(m.group(2), ("OK", "SAFE", "PERFECT"))
        self.assertLessEqual(float(m.group(1)), 2.0)


class Install(unittest.TestCase):
    """meson install into a DESTDIR: the layout, the modes, a kept config."""

    def install(self, dest):
        p = subprocess.run([os.environ.get("MESON", "meson"), "install", "-C", BUILD,
                            "--no-rebuild", "--quiet", "--destdir", dest],
                           capture_output=True, text=True, timeout=300)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)

    def prefix(self):
        with open(os.path.join(BUILD, "meson-info", "intro-buildoptions.json"), encoding="utf-8") as f:
            opts = {o["name"]: o["value"] for o in json.load(f)}
        return opts

    def test_layout_and_kept_config(self):
        w = Workdir(self)
        dest = os.path.join(w.path, "root")
        self.install(dest)
        o = self.prefix()
        pre = dest + o["prefix"]
        etc = os.path.join(dest + os.path.join(o["prefix"], o["sysconfdir"]), "pocalert")
        conf = os.path.join(etc, "pocalert.conf")
        self.assertTrue(os.access(os.path.join(pre, o["bindir"], "pocalert"), os.X_OK))
        self.assertEqual(os.stat(conf).st_mode & 0o777, 0o640)
        share = os.path.join(pre, o["datadir"], "pocalert", "policies")
        for f in ("standard.conf", "holidays-jp.conf", "syukujitsu.csv"):
            self.assertTrue(os.path.isfile(os.path.join(share, f)), f)
        unitdir = o["systemdsystemunitdir"] or os.path.join(o["prefix"], "lib/systemd/system")
        for u in UNITS:
            self.assertTrue(os.path.isfile(dest + os.path.join(unitdir, u)), u)
        state = dest + os.path.join(o["prefix"], o["localstatedir"], "lib", "pocalert")
        self.assertEqual(os.stat(state).st_mode & 0o777, 0o750)
        # The installed config names the installed paths; checked where it
        # landed (the DESTDIR in front), it passes.
        with open(conf, encoding="utf-8") as f:
            text = f.read()
        self.assertIn('"%s/pocalert.db"' % os.path.join(o["prefix"], o["localstatedir"], "lib", "pocalert"), text)
        moved = w.file("moved.conf", text.replace('"' + o["prefix"], '"' + dest + o["prefix"]))
        p = subprocess.run([POCALERT, "--config", moved, "config", "check", "--quiet"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        # An administrator's edit survives the next install.
        with open(conf, "a", encoding="utf-8") as f:
            f.write("# edited by the administrator\n")
        self.install(dest)
        with open(conf, encoding="utf-8") as f:
            self.assertIn("# edited by the administrator", f.read())


DOC = os.path.join(ROOT, "doc")


class ManPages(unittest.TestCase):
    """The man pages render, name every command, and state the defaults
    the program has."""

    def page(self, name):
        with open(os.path.join(DOC, name + ".scd"), encoding="utf-8") as f:
            return f.read()

    def test_pages_render_with_man(self):
        built = os.path.join(BUILD, "doc")
        for name in ("pocalert.8", "pocalert.conf.5", "pocalert-directory.5"):
            path = os.path.join(built, name)
            self.assertTrue(os.path.exists(path), "%s not built (is scdoc installed?)" % path)
            p = subprocess.run(["man", "-l", path], capture_output=True, text=True,
                               env=dict(os.environ, MANPAGER="cat", MANWIDTH="80"), timeout=60)
            self.assertEqual(p.returncode, 0, p.stderr)
            self.assertIn("NAME", p.stdout)
            self.assertEqual(p.stderr.strip(), "", name)

    maxDiff = None

    def test_conf_page_states_the_codes_defaults(self):
        p = subprocess.run([POCALERT, "config", "defaults"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual(p.returncode, 0, p.stderr)
        code = dict(l.split(" = ", 1) for l in p.stdout.splitlines())
        self.assertIn("listen", code)
        # In the page: "*NAME* ..." then an indented paragraph holding
        # "Default: VALUE." (one option per term line, dotted for sections).
        page = {}
        for m in re.finditer(r"(?m)^\*([a-z_.]+)\*[^\n]*\n((?:\t[^\n]*\n)+)", self.page("pocalert.conf.5")):
            d = re.search(r"Default: (.*?)\.?$", m.group(2).replace("\n\t", " ").strip())
            if d:
                page[m.group(1)] = d.group(1)
        # policy.step.roles and .channels share one term line.
        page.setdefault("policy.step.channels", page.get("policy.step.roles"))
        self.assertEqual({k: page.get(k) for k in code}, code)
        self.assertEqual(set(page) - set(code), set(), "defaults in the page the code lacks")

    def test_every_command_is_in_pocalert_8(self):
        p = subprocess.run([POCALERT, "--help"], capture_output=True, text=True, timeout=30)
        commands = re.findall(r"(?m)^  ([a-z]+) ", p.stdout)
        self.assertIn("backup", commands)
        page = self.page("pocalert.8")
        for c in commands:
            self.assertRegex(page, r"(?m)^\*%s[* ]" % c, c)
        for code in ("*0*", "*1*", "*2*"):
            self.assertIn(code, page)


class Logs(unittest.TestCase):
    """key=value event lines, and the same as JSON objects for shippers."""

    def setUp(self):
        self.w = Workdir(self)
        self.hooklog = os.path.join(self.w.path, "hooks.jsonl")
        self.http = harness.Server("http_receiver.py", "0", self.hooklog)
        self.addCleanup(self.http.stop)

    def run_one(self):
        self.w.write_config(web_channel())
        d = self.w.file("dir.conf", web_org("flaky", "http://127.0.0.1:%d/flaky/x" % self.http.port))
        self.w.run("contacts", "import", d, check=0)
        self.w.start_daemon()
        alert = self.w.send(targets=["org:flaky"], body="本文 SECRET-BODY-TEXT")
        self.w.wait_settled(alert)
        self.assertEqual(self.w.stop_daemon(), 0)
        return alert

    def test_delivery_lines_have_fields(self):
        alert = self.run_one()
        log = self.w.log()
        self.assertRegex(log, r"(?m) info delivery alert=%s org=flaky delivery=\S+ channel=web "
                              r"outcome=retry attempt=1 next_in=\S+ detail=\S" % re.escape(alert))
        self.assertRegex(log, r"(?m) info delivery alert=%s org=flaky delivery=\S+ channel=web "
                              r"outcome=sent attempt=2 " % re.escape(alert))
        self.assertNotIn("SECRET-BODY-TEXT", log)
        self.assertNotIn("/ack/", log)

    def test_json_format(self):
        w = self.w
        w.write_config(web_channel())
        d = w.file("dir.conf", web_org("flaky", "http://127.0.0.1:%d/flaky/x" % self.http.port))
        w.run("contacts", "import", d, check=0)
        # Started here: --log-format goes before the command, and the
        # harness starts "pocalert --config F serve".
        w._config(0)
        log = open(os.path.join(w.path, "daemon.log"), "wb")
        self.addCleanup(log.close)
        n = NotifySocket(self, w)
        proc = subprocess.Popen([POCALERT, "--log-format", "json", "--config", w.config, "serve"],
                                stdout=log, stderr=subprocess.STDOUT, cwd=w.path,
                                env=dict(os.environ, NOTIFY_SOCKET=n.path))

        def stop():
            if proc.poll() is None:
                proc.terminate()
                proc.wait(30)
        self.addCleanup(stop)
        n.expect("READY=1")
        lines = [json.loads(l) for l in w.log().splitlines()]
        listening = [l for l in lines if l["msg"].startswith("pocalert listening on")]
        self.assertEqual(len(listening), 1, lines)
        port = int(re.search(r"\(port (\d+)\)", listening[0]["msg"]).group(1))
        w.port = port
        w._config(port)
        alert = w.send(targets=["org:flaky"])
        w.wait_settled(alert)
        proc.terminate()
        self.assertEqual(proc.wait(30), 0)
        lines = [json.loads(l) for l in w.log().splitlines()]
        for l in lines:
            self.assertEqual(set(l) >= {"time", "level", "msg"}, True, l)
        sent = [l for l in lines if l.get("outcome") == "sent"]
        self.assertEqual(len(sent), 1, lines)
        self.assertEqual((sent[0]["alert"], sent[0]["org"], sent[0]["channel"], sent[0]["level"]),
                         (alert, "flaky", "web", "info"))
        retry = [l for l in lines if l.get("outcome") == "retry"][0]
        self.assertIn("500", retry["detail"])

    def test_bad_log_format_is_usage(self):
        p = subprocess.run([POCALERT, "--log-format", "xml", "--version"],
                           capture_output=True, text=True, timeout=30)
        self.assertEqual(p.returncode, 2)
        self.assertIn("text or json", p.stderr)


class Metrics(unittest.TestCase):
    """What an on-call engineer graphs, and the shipped rules and dashboard
    naming only metrics that exist."""

    def test_reloads_counted_and_contrib_names_exist(self):
        w = Workdir(self)
        w.write_config(web_channel())
        n = NotifySocket(self, w)
        w.start_daemon(env={"NOTIFY_SOCKET": n.path})
        n.expect("READY=1")
        w.file("pocalert.conf", "listen = \n")  # broken: no value
        w.daemon.send_signal(signal.SIGHUP)
        self.assertIn("refused", n.expect("READY=1"))
        status, text = w.api("GET", "/metrics")
        self.assertEqual(status, 200)
        self.assertIn('pocalert_config_reloads_total{result="refused"} 1\n', text)
        self.assertIn('pocalert_config_reloads_total{result="ok"} 0\n', text)
        self.assertRegex(text, r'pocalert_build_info\{version="[0-9.]+"\} 1\n')
        self.assertIn("pocalert_alerts_active 0\n", text)
        served = set(re.findall(r"(?m)^(pocalert_[a-z_]+)", text))
        for f in ("prometheus/pocalert.rules.yml", "grafana/pocalert.json"):
            with open(os.path.join(ROOT, "contrib", f), encoding="utf-8") as fh:
                named = set(re.findall(r"pocalert_[a-z_]+", fh.read()))
            self.assertTrue(named, f)
            self.assertEqual(named - served, set(), f)
        self.assertEqual(w.stop_daemon(), 0)


if __name__ == "__main__":
    unittest.main(verbosity=2)
