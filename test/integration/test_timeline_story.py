"""Stories of the timeline as evidence: an event whose detail was cut at a
byte limit inside a character (a long Japanese User-Agent) is kept, shown
by the API and verified; and `audit verify` notices when the newest
events of a chain were cut off. On main the first event vanished from
GET .../timeline while audit said "intact", and the second said
"intact" too.

Sends go to the dry-run driver (a file): no packet leaves the machine.
"""
import json
import os
import sqlite3
import urllib.request

import unittest

from harness import Workdir, main, wait_for

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


class TimelineStory(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.w.write_config(CHANNEL)
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY), check=0)
        self.w.start_daemon()
        self.alert = self.w.send()
        self.w.wait_settled(self.alert)

    def ack_url(self):
        sent = os.path.join(self.w.path, "sent.jsonl")

        def find():
            if not os.path.exists(sent):
                return None
            with open(sent, encoding="utf-8") as f:
                for line in f:
                    m = json.loads(line)
                    if m.get("ack_url"):
                        return m["ack_url"]
            return None
        return wait_for(find, 30, what="a reply link in the dry run")

    def test_cut_character_kept_served_and_verified(self):
        agent = "検証ブラウザ" * 60  # 1,080 bytes: cut at 200 inside one
        # http.client sends header text as Latin-1: hand it the UTF-8 bytes.
        req = urllib.request.Request(self.ack_url(), headers={
            "User-Agent": agent.encode("utf-8").decode("latin-1")})
        with urllib.request.urlopen(req, timeout=30) as r:
            self.assertEqual(r.status, 200)

        def opened():
            code, events = self.w.api("GET", "/api/v1/alerts/%s/timeline" % self.alert)
            self.assertEqual(code, 200)
            return [e for e in events if e["kind"] == "link_opened"]
        events = wait_for(opened, 30, what="the link_opened event in the API")
        self.assertIn("検証ブラウザ", events[0]["detail"])
        # Every stored row is valid UTF-8, and the chain holds.
        self.assertEqual(self.w.stop_daemon(), 0)
        con = sqlite3.connect(self.w.db)
        try:
            raw = con.execute("SELECT CAST(detail AS BLOB) FROM events").fetchall()
        finally:
            con.close()
        for (b,) in raw:
            if b is not None:
                b.decode("utf-8")  # raises on a cut character
        p = self.w.run("audit", "verify", self.alert)
        self.assertEqual(p.returncode, 0, p.stdout + p.stderr)
        self.assertIn("timeline intact", p.stdout)

    def test_cut_off_newest_events_found(self):
        self.assertEqual(self.w.stop_daemon(), 0)
        p = self.w.run("audit", "verify", self.alert, check=0)
        n = int(p.stdout.split(",")[1].split()[0])
        self.assertGreaterEqual(n, 2)
        con = sqlite3.connect(self.w.db)
        try:
            con.execute("DELETE FROM events WHERE alert_id = ? AND seq = ?", (self.alert, n))
            con.commit()
        finally:
            con.close()
        p = self.w.run("audit", "verify", self.alert)
        self.assertEqual(p.returncode, 1, p.stdout + p.stderr)
        self.assertIn("broken at event %d" % n, p.stdout)
        self.assertIn("newest are missing", p.stdout)


if __name__ == "__main__":
    main()
