"""The Debian package, end to end (issue 14): scripts/package builds the
.deb, it installs on this machine, the installed program answers
--version and passes `config check` on the shipped config, the installed
unit passes `systemd-analyze verify`, the man pages render, the service is
enabled and not started; then the package is purged again.

It installs into the real system, so it runs only as root, and only when
no pocalert package is there already (it removes only what it put in).
"""
import grp
import os
import pwd
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT


def dpkg_status(pkg):
    p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", pkg],
                       capture_output=True, text=True)
    return p.stdout if p.returncode == 0 else ""


@unittest.skipUnless(os.geteuid() == 0, "installs a package: root only")
class Package(unittest.TestCase):
    def setUp(self):
        if "installed" in dpkg_status("pocalert") or os.path.exists("/usr/bin/pocalert"):
            self.skipTest("a pocalert is installed already; not touching it")
        self.out = tempfile.mkdtemp(prefix="pocalert-package-")
        self.addCleanup(shutil.rmtree, self.out, True)
        # Debian leaves a package's system user behind on purge; the test
        # removes the one its install made, and only that one.
        try:
            pwd.getpwnam("pocalert")
        except KeyError:
            self.addCleanup(subprocess.run, ["deluser", "--system", "pocalert"],
                            capture_output=True, timeout=60)

    def run_ok(self, *argv):
        p = subprocess.run(argv, capture_output=True, text=True, timeout=900)
        self.assertEqual(p.returncode, 0, "%s\n%s%s" % (" ".join(argv), p.stdout, p.stderr))
        return p

    def test_build_install_check_purge(self):
        p = self.run_ok(os.path.join(ROOT, "scripts", "package"), self.out)
        deb = p.stdout.strip().splitlines()[-1]
        self.assertTrue(deb.endswith(".deb"), p.stdout)
        # Never a service started: no systemd runs here, and policy-rc.d
        # says no to anything that asks.
        self.run_ok("dpkg", "-i", deb)
        self.addCleanup(subprocess.run, ["dpkg", "--purge", "pocalert"],
                        capture_output=True, timeout=300)

        v = self.run_ok("/usr/bin/pocalert", "--version")
        self.assertRegex(v.stdout, r"^pocalert \d+\.\d+\.\d+\n$")
        st = os.stat("/etc/pocalert/pocalert.conf")
        self.assertEqual(st.st_mode & 0o777, 0o640)
        self.assertEqual(grp.getgrgid(st.st_gid).gr_name, "pocalert")
        c = self.run_ok("/usr/bin/pocalert", "--config", "/etc/pocalert/pocalert.conf",
                        "config", "check")
        self.assertIn("database /var/lib/pocalert/pocalert.db", c.stdout)
        self.assertIn("policy standard", c.stdout)
        self.assertRegex(c.stdout, r"calendar \d{4}-")
        self.run_ok("systemd-analyze", "verify", "--man=no",
                    "/lib/systemd/system/pocalert.service",
                    "/lib/systemd/system/pocalert-backup.service",
                    "/lib/systemd/system/pocalert-backup.timer")
        self.assertTrue(os.path.islink(
            "/etc/systemd/system/multi-user.target.wants/pocalert.service"),
            "the service is enabled")
        for page in ("/usr/share/man/man8/pocalert.8.gz",
                     "/usr/share/man/man5/pocalert.conf.5.gz",
                     "/usr/share/man/man5/pocalert-directory.5.gz"):
            m = subprocess.run(["man", "-l", page], capture_output=True, text=True,
                               env=dict(os.environ, MANPAGER="cat"), timeout=60)
            self.assertEqual((m.returncode, m.stderr), (0, ""), page)
            self.assertIn("NAME", m.stdout)
        self.assertEqual(os.stat("/var/lib/pocalert").st_mode & 0o777, 0o750)

        self.run_ok("dpkg", "--purge", "pocalert")
        self.assertEqual(dpkg_status("pocalert"), "")
        for gone in ("/usr/bin/pocalert", "/etc/pocalert/pocalert.conf", "/var/lib/pocalert",
                     "/etc/systemd/system/multi-user.target.wants/pocalert.service"):
            self.assertFalse(os.path.lexists(gone), gone)


if __name__ == "__main__":
    unittest.main(verbosity=2)
