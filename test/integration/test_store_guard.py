"""Stories of the store's files under fault: a database cut to 0 bytes, a
second daemon on the same store, files other users could read, and a lost
or replaced reply-link key. Each was accepted silently on main.

Sends go to the dry-run driver (a file), so no packet leaves the machine.
"""
import os
import stat
import subprocess
import unittest

from harness import POCALERT, Workdir, main

CHANNEL = """
channel "mail" {
  driver = "dryrun"
  path = "sent.jsonl"
}
"""

DIRECTORY = """
organisation "bank" {
  name = "銀行等CEPTOAR"
  sector = "finance"
  kind = "ceptoar"
  contact "desk" {
    name = "緊急窓口"
    role = "primary"
    method "mail" { address = "desk@bank.example.jp" max_tlp = "RED" }
  }
}
"""


def mode(path):
    return stat.S_IMODE(os.stat(path).st_mode)


class StoreGuard(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.w.write_config(CHANNEL)

    def serve_refused(self, *args):
        """Runs serve expecting it to refuse at once; returns its stderr."""
        p = subprocess.run([POCALERT, "--config", self.w.config, "serve", *args],
                           capture_output=True, text=True, cwd=self.w.path, timeout=60)
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertNotIn("pocalert listening", p.stderr)
        return p.stderr

    def one_alert(self):
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY), check=0)
        self.w.start_daemon()
        alert = self.w.send()
        self.w.wait_settled(alert)
        return alert

    def test_empty_database_refused_unless_init(self):
        os.makedirs(os.path.dirname(self.w.db), mode=0o750)
        open(self.w.db, "wb").close()
        err = self.serve_refused()
        self.assertIn("empty (0 bytes)", err)
        self.assertIn("--init", err)
        self.assertEqual(os.path.getsize(self.w.db), 0)
        p = self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY))
        self.assertEqual(p.returncode, 1, p.stderr)
        self.assertIn("empty (0 bytes)", p.stderr)
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY), "--init", check=0)
        self.w.start_daemon()

    def test_second_daemon_refused(self):
        self.w.start_daemon()
        err = self.serve_refused()
        self.assertIn("another pocalert serve with pid %d" % self.w.daemon.pid, err)
        # The first one carries on.
        self.assertIsNone(self.w.daemon.poll())
        self.assertEqual(self.w.stop_daemon(), 0)
        # Once it stopped, the store is free again.
        self.w.start_daemon()

    def test_files_only_for_owner_and_group(self):
        os.chmod(self.w.config, 0o644)
        old = os.umask(0o022)
        try:
            self.one_alert()
        finally:
            os.umask(old)
        self.assertIn("pocalert.conf: readable by every local user", self.w.log())
        self.assertEqual(mode(os.path.dirname(self.w.db)), 0o750)
        for suffix in ("", "-wal", "-shm"):
            self.assertEqual(mode(self.w.db + suffix), 0o640, suffix)
        self.assertEqual(mode(self.w.db + ".ackkey") & 0o077, 0)

    def test_lost_reply_key_refused(self):
        self.one_alert()
        self.assertEqual(self.w.stop_daemon(), 0)
        key = self.w.db + ".ackkey"
        with open(key, "rb") as f:
            original = f.read()
        os.unlink(key)
        err = self.serve_refused()
        self.assertIn(key + ": the reply-link key is missing", err)
        self.assertIn("1 alert whose reply links", err)
        self.assertFalse(os.path.exists(key), "a new key was made")
        # A different key is found by its fingerprint.
        with open(key, "wb") as f:
            f.write(os.urandom(32))
        err = self.serve_refused()
        self.assertIn("not the reply-link key", err)
        # The original key back: it starts.
        with open(key, "wb") as f:
            f.write(original)
        self.w.start_daemon()
        self.assertEqual(self.w.stop_daemon(), 0)
        # Giving up the old links on purpose is possible, and said.
        os.unlink(key)
        self.w.daemon = None
        p = subprocess.Popen([POCALERT, "--config", self.w.config, "serve", "--new-reply-key"],
                             stdout=subprocess.PIPE, stderr=subprocess.STDOUT, cwd=self.w.path)
        try:
            out = b""
            for line in iter(p.stdout.readline, b""):
                out += line
                if b"pocalert listening" in line:
                    break
            self.assertIn(b"pocalert listening", out)
        finally:
            p.terminate()
            p.wait(30)
            p.stdout.close()
        self.assertNotEqual(open(key, "rb").read(), original)
        # The new key is the one the store knows now.
        self.w.start_daemon()

if __name__ == "__main__":
    main()
