"""Stories of CAP 1.2 intake: an upstream system posts an OASIS CAP message
(or an operator runs `pocalert send --cap FILE`); pocalert turns it into an
alert that reaches the organisations the message names, answers the same
message twice with the same alert, and refuses a bad one with the element's
path, storing nothing. Deliveries go to the dry-run driver's file, so what
"was sent" is read from there.
"""
import json
import os
import unittest
import urllib.error
import urllib.request

from harness import TOKEN, Server, Workdir, main, wait_for
from test_dispatch import Mailbox, channels, org_block

SHARED_CAP = os.path.join(os.environ["POCALERT_SOURCE_ROOT"], "..", "shared",
                          "domain", "cap")

DIRECTORY = """
organisation "bank-001" {
  name = "第一銀行"
  sector = "finance"
  kind = "member"
  contact "desk" {
    name = "第一銀行 緊急窓口"
    role = "primary"
    method "web" { address = "http://127.0.0.1:9/bank-001" max_tlp = "RED" }
  }
}
organisation "water-7" {
  name = "第七水道"
  sector = "water"
  kind = "member"
  contact "desk" {
    name = "第七水道 緊急窓口"
    role = "primary"
    method "web" { address = "http://127.0.0.1:9/water-7" max_tlp = "RED" }
  }
}
organisation "rail-3" {
  name = "第三鉄道"
  sector = "railway"
  kind = "member"
  contact "desk" {
    name = "第三鉄道 緊急窓口"
    role = "primary"
    method "web" { address = "http://127.0.0.1:9/rail-3" max_tlp = "RED" }
  }
}
"""

CAP = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>%(identifier)s</identifier>
  <sender>alert@upstream.example.jp</sender>
  <sent>2026-11-29T09:00:00+09:00</sent>
  <status>%(status)s</status>
  <msgType>Alert</msgType>
  <scope>Restricted</scope>
  <restriction>TLP:AMBER</restriction>
  <addresses>bank-001 water-7</addresses>
  <note>EX-2026-11</note>
  <info>
    <language>ja-JP</language>
    <category>Security</category>
    <event>サイバー攻撃</event>
    <urgency>Immediate</urgency>
    <severity>%(severity)s</severity>
    <certainty>Observed</certainty>
    <headline>金融・水道への攻撃</headline>
    <description>詳細は追って連絡します。</description>
  </info>
</alert>
"""


CANCEL = """<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>UP-2026-0001-C</identifier>
  <sender>alert@upstream.example.jp</sender>
  <sent>2026-11-29T09:30:00+09:00</sent>
  <status>Actual</status>
  <msgType>Cancel</msgType>
  <scope>Restricted</scope>
  <restriction>TLP:AMBER</restriction>
  <references>%s</references>
</alert>
"""


def cap(identifier="UP-2026-0001", status="Actual", severity="Severe"):
    return CAP % {"identifier": identifier, "status": status,
                  "severity": severity}


class CapIntake(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.sent = os.path.join(self.w.path, "sent.jsonl")
        # The dry-run driver stands in for the web hooks: nothing leaves.
        self.w.write_config('channel "web" { driver = "dryrun" path = "%s" }'
                            % self.sent)
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY),
                   check=0)
        self.w.start_daemon()

    def post_cap(self, body, content_type="application/cap+xml"):
        req = urllib.request.Request(
            "http://127.0.0.1:%d/api/v1/alerts" % self.w.port,
            data=body.encode(), method="POST")
        req.add_header("Authorization", "Bearer " + TOKEN)
        req.add_header("Content-Type", content_type)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())

    def sent_lines(self):
        if not os.path.exists(self.sent):
            return []
        with open(self.sent, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def alert_count(self):
        return self.w.db_rows("SELECT count(*) FROM alerts")[0][0]

    def test_post_reaches_the_addresses_once(self):
        code, reply = self.post_cap(cap())
        self.assertEqual(code, 201, reply)
        aid = reply["id"]
        status = self.w.wait_settled(aid)
        self.assertEqual(status["title"], "金融・水道への攻撃")
        self.assertEqual(status["tlp"], "AMBER")
        self.assertEqual(sorted(o["id"] for o in status["organisations"]),
                         ["bank-001", "water-7"])
        # The same message again: the same alert, nothing sent twice.
        n = len(self.sent_lines())
        code, again = self.post_cap(cap())
        self.assertEqual(code, 200, again)
        self.assertEqual(again["id"], aid)
        self.assertTrue(again["duplicate"])
        self.assertEqual(self.alert_count(), 1)
        self.assertEqual(len(self.sent_lines()), n)
        # Another identifier is another alert.
        code, other = self.post_cap(cap(identifier="UP-2026-0002"))
        self.assertEqual(code, 201, other)
        self.assertNotEqual(other["id"], aid)

    def test_bad_messages_are_400_with_the_path_and_store_nothing(self):
        cases = [
            (cap(severity="Bad"), "/alert/info[1]/severity",
             '"Bad" is not one of Extreme, Severe, Moderate, Minor, Unknown'),
            (cap(status="Test"), "/alert/status", "Test is refused"),
            (cap().replace("+09:00", "Z", 1), "/alert/sent", "never Z"),
            (cap().replace("<addresses>bank-001 water-7</addresses>",
                           "<addresses>bank-001 nowhere</addresses>"),
             None, "nowhere"),
        ]
        with open(os.path.join(SHARED_CAP, "cap-bad.xml"),
                  encoding="utf-8") as f:
            cases.append((f.read(), "/alert/sent", "never Z"))
        for body, path, words in cases:
            code, reply = self.post_cap(body)
            self.assertEqual(code, 400, reply)
            if path is not None:
                self.assertEqual(reply["field"], path)
                self.assertTrue(reply["error"].startswith(path + ": "), reply)
            self.assertIn(words, reply["error"])
        self.assertEqual(self.alert_count(), 0)
        self.assertEqual(self.sent_lines(), [])

    def test_billion_laughs_and_external_entity_are_refused(self):
        secret = self.w.file("secret.txt", "SECRET-CANARY")
        xxe = ('<?xml version="1.0"?>\n'
               '<!DOCTYPE alert [ <!ENTITY x SYSTEM "file://%s"> ]>\n'
               '<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
               '<identifier>&x;</identifier></alert>\n' % secret)
        laughs = ('<?xml version="1.0"?>\n<!DOCTYPE alert [\n'
                  ' <!ENTITY a "lollollollollollollollollollol">\n'
                  + "".join(' <!ENTITY %s "%s">\n' % (n, ("&%s;" % p) * 10)
                            for p, n in zip("abcdefgh", "bcdefghi"))
                  + ']>\n<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">'
                    '<identifier>&i;</identifier></alert>\n')
        for body in (xxe, laughs):
            code, reply = self.post_cap(body)
            self.assertEqual(code, 400, reply)
            self.assertNotIn("SECRET", json.dumps(reply))
        self.assertEqual(self.alert_count(), 0)

    def test_cancel_by_cap_reaches_everyone_the_alert_reached(self):
        code, reply = self.post_cap(cap())
        self.assertEqual(code, 201, reply)
        aid = reply["id"]
        self.w.wait_settled(aid)
        reached = sorted(l["address"] for l in self.sent_lines())
        self.assertEqual(len(reached), 2)
        cancel = CANCEL % "alert@upstream.example.jp,UP-2026-0001,2026-11-29T09:00:00+09:00"
        code, reply = self.post_cap(cancel)
        self.assertEqual(code, 200, reply)
        self.assertEqual(reply["cancelled"], [aid])
        self.assertEqual(self.w.status(aid)["state"], "cancelled")
        def notices():
            n = [l for l in self.sent_lines() if l.get("kind") == "cancel"]
            return n if len(n) == 2 else None
        n = wait_for(notices, 30, 0.05, "two cancellation notices")
        self.assertEqual(sorted(l["address"] for l in n), reached)
        # The same Cancel again: finished, nothing more sent.
        code, reply = self.post_cap(cancel)
        self.assertEqual(code, 200, reply)
        self.assertEqual(reply["finished"], [aid])
        self.assertEqual(len([l for l in self.sent_lines()
                              if l.get("kind") == "cancel"]), 2)
        # A Cancel of a message that never came: 404, by path.
        code, reply = self.post_cap(CANCEL % "x@y,NOPE,2026-11-29T09:00:00+09:00")
        self.assertEqual(code, 404, reply)
        self.assertEqual(reply["field"], "/alert/references")
        # A malformed reference, and an Update: 400.
        code, reply = self.post_cap(CANCEL % "only-two,parts")
        self.assertEqual(code, 400, reply)
        self.assertEqual(reply["field"], "/alert/references")
        code, reply = self.post_cap(CANCEL.replace("Cancel", "Update") % "x@y,N,2026-11-29T09:00:00+09:00")
        self.assertEqual(code, 400, reply)
        self.assertEqual(reply["field"], "/alert/msgType")

    def test_cli_send_cap(self):
        good = self.w.file("good.xml", cap(status="Exercise"))
        p = self.w.run("send", "--cap", good, check=0)
        aid = p.stdout.strip()
        status = self.w.wait_settled(aid)
        self.assertTrue(status["drill"])
        # Again: the same id, exit 0.
        p = self.w.run("send", "--cap", good, check=0)
        self.assertEqual(p.stdout.strip(), aid)
        # A bad file: exit 2, the path on stderr, nothing stored.
        bad = self.w.file("bad.xml", cap(identifier="UP-X", severity="Bad"))
        p = self.w.run("send", "--cap", bad, check=2)
        self.assertIn("/alert/info[1]/severity: \"Bad\" is not one of",
                      p.stderr)
        # A Cancel through the CLI names what it cancelled.
        cancel = self.w.file("cancel.xml", CANCEL.replace(
            "<status>Actual", "<status>Exercise") % (
            "alert@upstream.example.jp,UP-2026-0001,2026-11-29T09:00:00+09:00"))
        p = self.w.run("send", "--cap", cancel, check=0)
        self.assertEqual(p.stdout, "cancelled %s\n" % aid)
        # --cap takes the whole alert.
        p = self.w.run("send", "--cap", good, "--tlp", "RED", check=2)
        self.assertIn("--cap", p.stderr)
        self.assertEqual(self.alert_count(), 1)


class CapThreads(unittest.TestCase):
    """A cancellation by CAP reaches each address in the thread of the first
    report it got: In-Reply-To and References name that mail's Message-ID,
    as Python's email parser reads them."""

    def test_cancel_notice_threads_under_the_first_report(self):
        w = Workdir(self)
        maildir = os.path.join(w.path, "Maildir")
        smtp = Server("smtp_server.py", "--maildir", maildir, "--port", "0")
        self.addCleanup(smtp.stop)
        mail = Mailbox(maildir)
        w.write_config(channels(smtp.port))
        orgs = org_block("bank-001", "第一銀行",
                         [("mail", "desk@bank.example.jp", "RED")])
        orgs += org_block("water-7", "第七水道",
                          [("mail", "desk@water.example.jp", "RED")],
                          sector="water")
        w.run("contacts", "import", w.file("dir.conf", orgs), check=0)
        w.start_daemon()
        p = w.run("send", "--cap", w.file("a.xml", cap()), check=0)
        aid = p.stdout.strip()
        w.wait_settled(aid)
        first = {m["X-Test-Envelope-To"].strip(): m["Message-ID"]
                 for m in mail.messages()}
        self.assertEqual(sorted(first), ["desk@bank.example.jp",
                                         "desk@water.example.jp"])
        cancel = w.file("c.xml", CANCEL % (
            "alert@upstream.example.jp,UP-2026-0001,2026-11-29T09:00:00+09:00"))
        w.run("send", "--cap", cancel, check=0)

        def notices():
            got = [m for m in mail.messages() if m["In-Reply-To"]]
            return got if len(got) == 2 else None
        for m in wait_for(notices, 30, 0.05, "two cancellation mails"):
            to = m["X-Test-Envelope-To"].strip()
            self.assertEqual(m["In-Reply-To"], first[to])
            self.assertEqual(m["References"], first[to])
            self.assertNotEqual(m["Message-ID"], first[to])


if __name__ == "__main__":
    main()
