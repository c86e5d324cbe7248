"""Stories of the engine: an operator issues alerts, pocalert delivers them
by mail (to a real SMTP server) and web hook (to a real HTTP receiver),
retries what fails, and never loses a delivery, not even to kill -9.
"""
import base64
import email
import email.header
import email.policy
import glob
import hashlib
import hmac
import json
import os
import signal
import time
import unittest

from harness import (Server, Workdir, closed_port, deliveries, main, wait_for)

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TITLE = "重要インフラへのサイバー攻撃に関する早期警戒情報"


def org_block(org_id, name, methods, sector="finance", extra_contacts=""):
    ms = "\n".join('    method "%s" { address = "%s" max_tlp = "%s" }' % m for m in methods)
    return """
organisation "%s" {
  name = "%s"
  sector = "%s"
  kind = "member"
  contact "desk" {
    name = "%s 緊急窓口"
    role = "primary"
%s
  }
%s
}
""" % (org_id, name, sector, name, ms, extra_contacts)


def channels(smtp_port, retry="max_attempts = 3 initial_delay = 0.3s multiplier = 2 max_delay = 2s jitter = 0.1",
             mail_extra="", web_extra=""):
    return """
channel "mail" {
  driver = "smtp"
  host = "127.0.0.1"
  port = %d
  tls = "none"
  from = "NISC 警報デスク <alert@nisc.example.jp>"
  workers = 2
  max_concurrency = 16
  timeout = 5
  retry { %s }
  %s
}
channel "web" {
  driver = "webhook"
  secret = "%s"
  timeout = 2
  max_concurrency = 32
  retry { %s }
  %s
}
""" % (smtp_port, retry, mail_extra, SECRET, retry, web_extra)


class Mailbox:
    def __init__(self, path):
        self.path = path

    def messages(self):
        out = []
        for f in sorted(glob.glob(os.path.join(self.path, "new", "*"))):
            with open(f, "rb") as fh:
                out.append(email.message_from_binary_file(fh, policy=email.policy.default))
        return out

    def by_recipient(self):
        res = {}
        for m in self.messages():
            res.setdefault(m["X-Test-Envelope-To"].strip(), []).append(m)
        return res


def read_log(path):
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as f:
        return [json.loads(l) for l in f if l.strip()]


class Dispatch(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.maildir = os.path.join(self.w.path, "Maildir")
        self.smtp = Server("smtp_server.py", "--maildir", self.maildir, "--port", "0")
        self.addCleanup(self.smtp.stop)
        self.hooklog = os.path.join(self.w.path, "hooks.jsonl")
        self.http = Server("http_receiver.py", "0", self.hooklog, "--secret", SECRET)
        self.addCleanup(self.http.stop)
        self.mail = Mailbox(self.maildir)

    def url(self, path):
        return "http://127.0.0.1:%d/%s" % (self.http.port, path)

    def setup_directory(self, text, **chan):
        self.w.write_config(channels(self.smtp.port, **chan))
        path = self.w.file("dir.conf", text)
        self.w.run("contacts", "import", path, check=0)

    def hooks(self):
        return read_log(self.hooklog)

    def test_broadcast_reaches_each_address_once(self):
        orgs = []
        for i in range(20):
            deputy = """
  contact "deputy" {
    name = "副担当"
    role = "deputy"
    method "mail" { address = "deputy-%d@example.jp" max_tlp = "AMBER" }
  }
  contact "holiday" {
    name = "休日当番"
    role = "holiday"
    method "mail" { address = "holiday-%d@example.jp" max_tlp = "AMBER" }
  }""" % (i, i)
            orgs.append(org_block("org-%02d" % i, "会員%02d" % i, [
                ("mail", "desk-%d@example.jp" % i, "RED"),
                ("web", self.url("ok/%d" % i), "AMBER"),
                ("web", self.url("ok/green-%d" % i), "GREEN"),
            ], extra_contacts=deputy))
        self.setup_directory("".join(orgs))
        self.w.start_daemon()
        aid = self.w.send(title=TITLE, body="攻撃の詳細。\n対策を講じてください。", tlp="AMBER")
        st = self.w.wait_settled(aid)
        # every delivery settled, but the alert waits for confirmations
        self.assertEqual(st["state"], "active")
        self.assertEqual(st["tlp"], "AMBER")
        # times are shown in the centre's zone (timezone, default Asia/Tokyo)
        self.assertTrue(st["created_at"].endswith("+09:00"), st["created_at"])
        ds = deliveries(st)
        # primary mail + web + deputy mail sent; the GREEN web method skipped
        self.assertEqual(st["counts"]["sent"], 60)
        self.assertEqual(st["counts"]["skipped"], 20)
        skipped = [d for d in ds if d["state"] == "skipped"]
        self.assertTrue(all("TLP:AMBER" in d["reason"] and "TLP:GREEN" in d["reason"] for d in skipped))
        self.assertTrue(all("green" in d["address"] for d in skipped))
        for org in st["organisations"]:
            self.assertEqual(org["state"], "notified")

        box = self.mail.by_recipient()
        for i in range(20):
            self.assertEqual(len(box.get("desk-%d@example.jp" % i, [])), 1)
            self.assertEqual(len(box.get("deputy-%d@example.jp" % i, [])), 1)
            self.assertNotIn("holiday-%d@example.jp" % i, box)
        msg = box["desk-3@example.jp"][0]
        subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
        self.assertEqual(subject, "[TLP:AMBER] " + TITLE)
        body = msg.get_body().get_content()
        self.assertEqual(body.splitlines()[0], "TLP:AMBER")
        self.assertIn("対策を講じてください。", body)
        # Message-ID and ENVID carry the delivery id
        mine = [d for d in ds if d["address"] == "desk-3@example.jp"][0]
        self.assertEqual(msg["Message-ID"].strip(), "<%s@nisc.example.jp>" % mine["id"])
        self.assertIn("ENVID=" + mine["id"], msg["X-Test-Envelope-Mail-Options"])

        hooks = self.hooks()
        self.assertEqual(len(hooks), 20)
        paths = sorted(h["path"] for h in hooks)
        self.assertEqual(paths, sorted("/ok/%d" % i for i in range(20)))
        ids = {d["address"]: d["id"] for d in ds}
        for h in hooks:
            self.assertTrue(h["signature_ok"], h)
            self.assertEqual(h["headers"]["webhook-id"], ids[self.url(h["path"][1:])])
            payload = json.loads(h["body"])
            self.assertEqual(payload["title"], TITLE)
            self.assertEqual(payload["tlp"], "TLP:AMBER")
            self.assertFalse(payload["drill"])
            self.assertRegex(payload["ack_url"], r"^http://127\.0\.0\.1:%d/ack/[a-z2-7]{32}$" % self.w.port)
        # every mail carries its contact's reply link
        self.assertRegex(body, r"http://127\.0\.0\.1:%d/ack/[a-z2-7]{32}" % self.w.port)

    def test_drill_is_marked_and_red_needs_org_targets(self):
        self.setup_directory(org_block("water-a", "架空水道", [("mail", "desk@water.example.jp", "RED")], sector="water"))
        self.w.start_daemon()
        code, reply = self.w.api("POST", "/api/v1/alerts", {
            "title": "t", "body": "b", "type": "info", "severity": "low",
            "tlp": "RED", "targets": ["sector:water"]})
        self.assertEqual(code, 400)
        self.assertEqual(reply["field"], "targets")
        aid = self.w.send(title="休日情報伝達訓練", tlp="RED", targets=["org:water-a"], drill=True)
        st = self.w.wait_settled(aid)
        self.assertTrue(st["drill"])
        msg = self.mail.messages()[0]
        subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
        self.assertTrue(subject.startswith("【訓練】[DRILL]"), subject)
        self.assertIn("[TLP:RED]", subject)
        self.assertTrue(msg.get_body().get_content().startswith("【訓練】[DRILL]"))

    def test_faults_settle_in_their_right_state(self):
        dead = closed_port(self)
        self.setup_directory("".join([
            org_block("tmp", "一時障害", [("mail", "tempfail-a@example.jp", "AMBER")]),
            org_block("perm", "恒久障害", [("mail", "permfail-b@example.jp", "AMBER")]),
            org_block("e500", "五百", [("web", self.url("fail500/x"), "AMBER")]),
            org_block("rate", "制限", [("web", self.url("ratelimit/x"), "AMBER")]),
            org_block("hang", "無応答", [("web", self.url("hang/x"), "AMBER")]),
            org_block("gone", "廃止", [("web", self.url("gone/x"), "AMBER")]),
            org_block("dead", "不在", [("web", "http://127.0.0.1:%d/x" % dead, "AMBER")]),
        ]))
        self.w.start_daemon()
        aid = self.w.send()
        st = self.w.wait_settled(aid, timeout=90)
        by_org = {o["id"]: o["deliveries"][0] for o in st["organisations"]}
        expect = {
            "tmp": ("sent", 2), "perm": ("failed", 1), "e500": ("failed", 3),
            "rate": ("sent", 2), "hang": ("failed", 3), "gone": ("failed", 1),
            "dead": ("failed", 3),
        }
        for org, (state, attempts) in expect.items():
            with self.subTest(org=org):
                self.assertEqual((by_org[org]["state"], by_org[org]["attempts"]), (state, attempts),
                                 by_org[org])
        self.assertIn("550", by_org["perm"]["last_error"])
        self.assertIn("500", by_org["e500"]["last_error"])
        self.assertEqual(st["organisations"][[o["id"] for o in st["organisations"]].index("perm")]["state"],
                         "unreachable")
        # Retry-After: 2 was honoured between the two attempts
        rows = self.w.db_rows("SELECT started_at FROM attempts WHERE delivery_id = ? ORDER BY n",
                              by_org["rate"]["id"])
        self.assertGreaterEqual(rows[1][0] - rows[0][0], 2000)
        # every attempt is a row, with the far side's words
        n = self.w.db_rows("SELECT count(*) FROM attempts a JOIN deliveries d ON d.id = a.delivery_id"
                           " WHERE d.alert_id = ?", aid)[0][0]
        self.assertEqual(n, sum(a for _, a in expect.values()))
        # the tempfail mail was delivered exactly once, the permfail one never
        box = self.mail.by_recipient()
        self.assertEqual(len(box.get("tempfail-a@example.jp", [])), 1)
        self.assertNotIn("permfail-b@example.jp", box)

    def test_every_organisation_first_before_any_second(self):
        """With one send at a time, the order of attempts shows the fairness."""
        self.setup_directory("".join(org_block("f%d" % i, "組織%d" % i, [
            ("mail", "first-%d@example.jp" % i, "AMBER"),
            ("mail", "second-%d@example.jp" % i, "AMBER"),
            ("mail", "third-%d@example.jp" % i, "AMBER")]) for i in range(6)),
            mail_extra="max_concurrency = 1")
        self.w.start_daemon()
        aid = self.w.send()
        self.w.wait_settled(aid)
        rows = self.w.db_rows("SELECT d.address FROM attempts a JOIN deliveries d ON d.id = a.delivery_id"
                              " WHERE d.alert_id = ? ORDER BY a.started_at, a.rowid", aid)
        order = [r[0].split("-")[0] for r in rows]
        self.assertEqual(order, ["first"] * 6 + ["second"] * 6 + ["third"] * 6, rows)

    def test_max_rate_spaces_the_sends(self):
        """max_rate = 2 with a burst of 2: six sends need at least two seconds.
        A lower bound the limiter guarantees, whatever the machine's speed."""
        self.setup_directory("".join(org_block("r%d" % i, "組織%d" % i,
                                               [("mail", "r-%d@example.jp" % i, "AMBER")]) for i in range(6)),
                             mail_extra="max_rate = 2")
        self.w.start_daemon()
        aid = self.w.send()
        self.w.wait_settled(aid)
        starts = [r[0] for r in self.w.db_rows(
            "SELECT a.started_at FROM attempts a JOIN deliveries d ON d.id = a.delivery_id"
            " WHERE d.alert_id = ? ORDER BY a.started_at", aid)]
        self.assertEqual(len(starts), 6)
        self.assertGreaterEqual(starts[-1] - starts[0], 1900)

    def test_smtp_server_down_is_retried_then_failed(self):
        closed = closed_port(self)
        self.w.write_config(channels(closed))
        self.w.run("contacts", "import", self.w.file("d.conf", org_block(
            "a", "甲", [("mail", "desk@a.example.jp", "AMBER")])), check=0)
        self.w.start_daemon()
        aid = self.w.send()
        d = deliveries(self.w.wait_settled(aid))[0]
        self.assertEqual((d["state"], d["attempts"]), ("failed", 3))
        self.assertRegex(d["last_error"], "(?i)connect|refused")

    def test_cancel_stops_retries(self):
        self.setup_directory(org_block("e500", "五百", [("web", self.url("fail500/x"), "AMBER")]),
                             retry="max_attempts = 10 initial_delay = 30s")
        self.w.start_daemon()
        aid = self.w.send()
        wait_for(lambda: deliveries(self.w.status(aid))[0]["state"] == "retry_wait", 20,
                 what="the first failure")
        code, reply = self.w.api("POST", "/api/v1/alerts/%s/cancel" % aid, {})
        self.assertEqual(code, 200, reply)
        st = self.w.status(aid)
        self.assertEqual(st["state"], "cancelled")
        self.assertEqual(deliveries(st)[0]["state"], "cancelled")
        self.assertEqual(self.w.api("POST", "/api/v1/alerts/%s/cancel" % aid, {})[0], 409)
        self.assertEqual(self.w.api("POST", "/api/v1/alerts/nope/cancel", {})[0], 404)

    def test_cli_send_status_and_api_errors(self):
        self.setup_directory(org_block("a", "甲", [("mail", "desk@a.example.jp", "AMBER")]))
        self.w.start_daemon()
        body = self.w.file("body.txt", "本文です。")
        p = self.w.run("send", "--title", "CLIから", "--body-file", body, "--type", "early-warning",
                       "--severity", "critical", "--tlp", "GREEN", "--to", "org:a", check=0)
        aid = p.stdout.strip()
        self.w.wait_settled(aid)
        st = json.loads(self.w.run("status", aid, "--json", check=0).stdout)
        self.assertEqual(st["counts"]["sent"], 1)
        self.assertIn(aid, self.w.run("alerts", check=0).stdout)
        p = self.w.run("send", "--title", "x", "--body", "y", "--type", "incident", "--severity", "high",
                       "--tlp", "AMBER", "--to", "org:nobody")
        self.assertEqual(p.returncode, 2)
        self.assertIn("targets", p.stderr)
        self.assertEqual(self.w.run("send", "--title", "x", env={"POCALERT_TOKEN": ""}).returncode, 2)
        self.assertEqual(self.w.api("GET", "/api/v1/alerts", token=None)[0], 401)
        self.assertEqual(self.w.api("GET", "/api/v1/alerts", token="wrong")[0], 401)
        self.assertEqual(self.w.api("GET", "/api/v1/alerts/nope")[0], 404)
        code, reply = self.w.api("POST", "/api/v1/alerts", {"title": "", "body": "b", "type": "info",
                                                             "severity": "low", "tlp": "CLEAR",
                                                             "targets": ["all"]})
        self.assertEqual((code, reply["field"]), (400, "title"))
        # /metrics wants a token on the public listener.
        self.assertEqual(self.w.api("GET", "/metrics", token=None)[0], 401)
        code, text = self.w.api("GET", "/metrics")
        self.assertEqual(code, 200)
        self.assertIn('pocalert_deliveries_total{channel="mail",outcome="ok"} 1', text)

    def test_sigterm_exits_zero_and_keeps_queued_work(self):
        self.setup_directory("".join(org_block("o%d" % i, "組織%d" % i,
                                               [("mail", "slow-%d@example.jp" % i, "AMBER")])
                                     for i in range(3)))
        self.w.start_daemon()
        self.w.send()
        self.assertEqual(self.w.stop_daemon(signal.SIGTERM), 0)
        self.assertIn("stopped", self.w.log())

    def test_kill_9_loses_nothing(self):
        """2,000 organisations, kill -9 midway, start again: all sent, none lost."""
        n = 2000
        orgs = "".join(org_block("m%04d" % i, "会員%04d" % i, [
            ("mail", "desk-%d@example.jp" % i, "AMBER"),
            ("web", self.url("ok/%d" % i), "AMBER")]) for i in range(n))
        self.setup_directory(orgs, mail_extra="max_rate = 400", web_extra="max_rate = 400")
        self.w.start_daemon()
        aid = self.w.send()
        wait_for(lambda: len(self.hooks()) >= 300, 60, what="a few hundred web hooks")
        self.w.daemon.send_signal(signal.SIGKILL)
        self.w.daemon.wait()
        self.w.stop_daemon()
        states = dict(self.w.db_rows("SELECT id, state FROM deliveries WHERE alert_id = ?", aid))
        self.assertEqual(len(states), 2 * n, "every delivery was on disk before the kill")
        done_before = {k for k, v in states.items() if v == "sent"}
        self.assertLess(len(done_before), 2 * n, "the kill came too late to test anything")
        self.w.start_daemon()
        st = self.w.wait_settled(aid, timeout=120)
        self.assertEqual(st["counts"]["sent"], 2 * n)
        seen = {}
        for h in self.hooks():
            seen[h["headers"]["webhook-id"]] = seen.get(h["headers"]["webhook-id"], 0) + 1
        for m in self.mail.messages():
            mid = m["Message-ID"].strip()[1:].split("@")[0]
            seen[mid] = seen.get(mid, 0) + 1
        self.assertEqual(set(seen), set(states), "every delivery arrived at least once")
        dups = {k for k, c in seen.items() if c > 1}
        # only deliveries whose outcome was not yet on disk may repeat
        self.assertFalse(dups & done_before, "a delivery recorded as sent was sent again")
        print("kill -9: %d of %d deliveries settled on disk before the kill; %d sent twice"
              % (len(done_before), 2 * n, len(dups)))


if __name__ == "__main__":
    main()
