"""Stories of escalation and acknowledgement: an alert is done for an
organisation only when a person there confirms it by their reply link.
Until then pocalert escalates step by step, then tells the duty officer
who could not be reached. Policies here use seconds instead of minutes.
"""
import email
import email.header
import email.policy
import glob
import json
import os
import re
import signal
import subprocess
import time
import unittest
import urllib.parse
import urllib.request

from harness import POCALERT, Server, Workdir, deliveries, main, wait_for

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

DIRECTORY = """
organisation "nisc" {
  name = "内閣サイバーセキュリティセンター"
  sector = "government"
  kind = "government"
  contact "duty" {
    name = "当直"
    role = "duty"
    method "mail" { address = "duty@nisc.example.jp" max_tlp = "RED" }
  }
}
""" + "".join("""
organisation "%(id)s" {
  name = "%(name)s"
  sector = "water"
  kind = "member"
  contact "desk" {
    name = "%(name)s 窓口"
    role = "primary"
    method "mail" { address = "desk@%(id)s.example.jp" }
  }
  contact "deputy" {
    name = "副担当"
    role = "deputy"
    method "mail" { address = "deputy@%(id)s.example.jp" }
  }
  contact "holiday" {
    name = "休日当番"
    role = "holiday"
    method "mail" { address = "holiday@%(id)s.example.jp" }
  }
}
""" % {"id": i, "name": n} for i, n in (("water-a", "甲水道"), ("water-b", "乙水道")))


def policy(name, *afters, repeat=0, ack="organisation", holiday_first="never"):
    roles = ['{"primary"}', '{"primary", "deputy"}', '{"primary", "deputy", "holiday"}']
    steps = "\n".join('  step { after = %s roles = %s channels = {"mail"} }' % (a, roles[min(i, 2)])
                      for i, a in enumerate(afters))
    # holiday_first is fixed so that the stories do not depend on today's date
    return ('policy "%s" {\n%s\n  repeat = %d\n  ack = "%s"\n  require = 1\n'
            '  holiday_first = "%s"\n}\n' % (name, steps, repeat, ack, holiday_first))


CONFIG = """
channel "mail" {
  driver = "smtp"
  host = "127.0.0.1"
  port = %d
  from = "NISC 警報デスク <alert@nisc.example.jp>"
  workers = 2
  retry { max_attempts = 2 initial_delay = 0.2s }
}
""" + policy("fast", "0s", "1s", "2s") + policy("slow", "0s", "4s", "8s") + policy("restart", "0s", "3s") \
    + policy("holiday", "0s", "4s", holiday_first="always", ack="contact") + """
policy "loud" {
  step { after = 0s roles = {"primary"} channels = {"voice", "mail"} }
  holiday_first = "never"
}
select { policy = "loud"  severity = {"critical"} }
select { policy = "slow"  type = {"damage"} }
"""


class Escalation(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.maildir = os.path.join(self.w.path, "Maildir")
        self.smtp = Server("smtp_server.py", "--maildir", self.maildir, "--port", "0")
        self.addCleanup(self.smtp.stop)
        self.w.write_config(CONFIG % self.smtp.port)
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY), check=0)
        self.w.start_daemon()

    def mails(self):
        out = []
        for f in sorted(glob.glob(os.path.join(self.maildir, "new", "*")), key=os.path.getmtime):
            with open(f, "rb") as fh:
                m = email.message_from_binary_file(fh, policy=email.policy.default)
            subject = str(email.header.make_header(email.header.decode_header(m["Subject"])))
            out.append((m["X-Test-Envelope-To"].strip(), subject, m.get_body().get_content()))
        return out

    def to(self, address):
        return [m for m in self.mails() if m[0] == address]

    def org(self, aid, org_id):
        return [o for o in self.w.status(aid)["organisations"] if o["id"] == org_id][0]

    def ack_url(self, address):
        body = wait_for(lambda: self.to(address), 20, what="a mail to " + address)[0][2]
        return re.search(r"http://127\.0\.0\.1:\d+/ack/[a-z2-7]{32}", body).group(0)

    def post(self, url, **form):
        data = urllib.parse.urlencode(form).encode()
        req = urllib.request.Request(url, data=data, method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        try:
            with urllib.request.urlopen(req, timeout=20) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def timeline(self, aid):
        code, t = self.w.api("GET", "/api/v1/alerts/%s/timeline" % aid)
        self.assertEqual(code, 200, t)
        return t

    def test_no_confirmation_escalates_then_tells_the_duty_officer(self):
        aid = self.w.send(policy="fast", targets=["sector:water"], title="浄水場制御系への攻撃")
        wait_for(lambda: self.w.status(aid)["state"] == "completed", 30, what="the alert to complete")
        st = self.w.status(aid)
        self.assertEqual([o["state"] for o in st["organisations"]], ["unreachable", "unreachable"])
        for org in ("water-a", "water-b"):
            self.assertEqual(len(self.to("desk@%s.example.jp" % org)), 3, "primary: steps 1, 2, 3")
            self.assertEqual(len(self.to("deputy@%s.example.jp" % org)), 2, "deputy: steps 2, 3")
            self.assertEqual(len(self.to("holiday@%s.example.jp" % org)), 1, "holiday: step 3")
        duty = wait_for(lambda: self.to("duty@nisc.example.jp"), 20, what="the duty notice")
        self.assertEqual(len(duty), 1)
        # Japanese first, English beside it, and the count right
        self.assertIn("【到達不能】2組織に連絡がつきません / 2 organisations unreachable", duty[0][1])
        self.assertIn("次の2組織に連絡がつきませんでした。", duty[0][2])
        self.assertIn("water-a", duty[0][2])
        self.assertIn("water-b", duty[0][2])
        kinds = [e["kind"] for e in self.timeline(aid)]
        self.assertEqual(kinds.count("escalated"), 4)
        self.assertEqual(kinds.count("unreachable"), 2)
        self.assertIn("duty_notified", kinds)

    def test_confirmation_after_step_one_stops_that_organisation_only(self):
        aid = self.w.send(policy="slow", targets=["sector:water"])
        url = self.ack_url("desk@water-a.example.jp")
        code, page = self.post(url, response="affected", name="山田 太郎", comment="<b>調査中</b> です")
        self.assertEqual(code, 200, page)
        o = self.org(aid, "water-a")
        self.assertEqual(o["state"], "acknowledged")
        self.assertEqual(o["response"], "affected")
        self.assertEqual(o["acknowledged_by"], "山田 太郎")
        self.assertEqual(o["comment"], "<b>調査中</b> です")
        wait_for(lambda: self.w.status(aid)["state"] == "completed", 40, what="the alert to complete")
        # nothing more went to water-a; water-b escalated to the end
        self.assertEqual(len(self.to("desk@water-a.example.jp")), 1)
        self.assertEqual(self.to("deputy@water-a.example.jp"), [])
        self.assertEqual(len(self.to("desk@water-b.example.jp")), 3)
        self.assertEqual(self.org(aid, "water-b")["state"], "unreachable")
        duty = wait_for(lambda: self.to("duty@nisc.example.jp"), 20, what="the duty notice")[0][2]
        self.assertIn("water-b", duty)
        self.assertNotIn("water-a", duty)
        # a second answer updates the response, the first time stays
        first = self.org(aid, "water-a")["acknowledged_at"]
        self.assertEqual(self.post(url, response="not-affected")[0], 200)
        o = self.org(aid, "water-a")
        self.assertEqual((o["response"], o["acknowledged_at"]), ("not-affected", first))

    def test_get_never_confirms_and_bad_tokens_look_alike(self):
        aid = self.w.send(policy="slow", targets=["org:water-a"], title="<script>alert(1)</script>")
        url = self.ack_url("desk@water-a.example.jp")
        with urllib.request.urlopen(url, timeout=10) as r:
            page = r.read().decode()
        self.assertIn("&lt;script&gt;alert(1)&lt;/script&gt;", page)
        self.assertNotIn("<script>", page)
        self.assertEqual(self.org(aid, "water-a")["state"], "notified")
        self.assertIn("link_opened", [e["kind"] for e in self.timeline(aid)])
        bad = []
        for token in ("a" * 32, "not-a-token", "%00"):
            try:
                urllib.request.urlopen(url.rsplit("/", 1)[0] + "/" + token, timeout=10)
            except urllib.error.HTTPError as e:
                bad.append((e.code, e.read()))
        self.assertEqual(len(bad), 3)
        self.assertTrue(all(b == bad[0] for b in bad), "unknown and malformed tokens differ")
        self.assertEqual(bad[0][0], 404)
        code, page = self.post(url, response="maybe")
        self.assertEqual(code, 400)
        self.assertEqual(self.org(aid, "water-a")["state"], "notified")

    def test_restart_keeps_the_escalation_timers(self):
        aid = self.w.send(policy="restart", targets=["org:water-a"])
        wait_for(lambda: self.to("desk@water-a.example.jp"), 20, what="step 1")
        self.assertEqual(self.w.stop_daemon(signal.SIGTERM), 0)
        # the policy leaves the config: the alert goes on with its snapshot
        self.w.write_config((CONFIG % self.smtp.port).replace(policy("restart", "0s", "3s"), ""))
        time.sleep(3.5)  # step 2 falls due while the daemon is down
        self.assertEqual(self.to("deputy@water-a.example.jp"), [])
        self.w.start_daemon()
        wait_for(lambda: self.to("deputy@water-a.example.jp"), 10, what="step 2 after the restart")
        wait_for(lambda: self.org(aid, "water-a")["state"] == "unreachable", 20, what="unreachable")

    def test_cancel_with_notice(self):
        aid = self.w.send(policy="slow", targets=["org:water-b"])
        wait_for(lambda: self.to("desk@water-b.example.jp"), 20, what="step 1")
        p = self.w.run("cancel", aid, "--notify", check=0)
        notice = wait_for(lambda: [m for m in self.to("desk@water-b.example.jp") if "CANCELLED" in m[1]],
                          20, what="the cancellation notice")
        self.assertEqual(len(notice), 1)
        self.assertEqual(self.w.status(aid)["state"], "cancelled")
        self.assertEqual(self.org(aid, "water-b")["state"], "cancelled")
        time.sleep(4.5)
        self.assertEqual(self.to("deputy@water-b.example.jp"), [], "no escalation after cancel")
        self.assertIn(aid, p.stdout)

    def test_holiday_contacts_first_and_every_contact_must_confirm(self):
        aid = self.w.send(policy="holiday", targets=["org:water-a"], drill=True)
        # step 1 reaches the primary and, holiday first, the holiday contact
        wait_for(lambda: self.to("holiday@water-a.example.jp") and self.to("desk@water-a.example.jp"),
                 20, what="step 1")
        st = self.w.status(aid)
        ranks = {d["address"]: int(d["id"].rsplit("-", 1)[1]) for d in deliveries(st)}
        self.assertLess(ranks["holiday@water-a.example.jp"], ranks["desk@water-a.example.jp"])
        # ack per contact: one confirmation does not close the organisation
        self.assertEqual(self.post(self.ack_url("holiday@water-a.example.jp"), response="received")[0], 200)
        self.assertNotEqual(self.org(aid, "water-a")["state"], "acknowledged")
        self.assertEqual(self.post(self.ack_url("desk@water-a.example.jp"), response="received")[0], 200)
        self.assertEqual(self.org(aid, "water-a")["state"], "acknowledged")

    def test_selection_rules_and_unconfigured_channels(self):
        critical = self.w.send(severity="critical", type="incident", targets=["org:water-a"])
        damage = self.w.send(severity="low", type="damage", targets=["org:water-a"])
        other = self.w.send(severity="low", type="info", targets=["org:water-a"])
        self.assertEqual(self.w.status(critical)["policy"], "loud")
        self.assertEqual(self.w.status(damage)["policy"], "slow")
        self.assertEqual(self.w.status(other)["policy"], "default")
        # "loud" names voice, which has no channel here: said once at start,
        # and its deliveries are skipped with that reason
        self.assertIn('policy loud step 1: no channel "voice" is configured', self.w.log())
        self.assertEqual(self.w.status(critical)["counts"]["skipped"], 0, "water-a has no voice method")

    def test_tampered_timeline_fails_audit(self):
        aid = self.w.send(policy="slow", targets=["org:water-a"])
        wait_for(lambda: self.to("desk@water-a.example.jp"), 20, what="step 1")
        self.w.api("GET", "/api/v1/alerts/" + aid)  # writes what is queued
        p = self.w.run("audit", "verify", aid)
        self.assertEqual(p.returncode, 0, p.stderr)
        self.assertIn("intact", p.stdout)
        self.w.stop_daemon()
        import sqlite3
        con = sqlite3.connect(self.w.db)
        con.execute("UPDATE events SET detail = 'nothing happened' WHERE alert_id = ? AND seq = 2", (aid,))
        con.commit()
        con.close()
        p = self.w.run("audit", "verify", aid)
        self.assertEqual(p.returncode, 1)
        self.assertIn("broken at event 2", p.stdout + p.stderr)
        self.assertEqual(self.w.run("audit", "verify", "no-such-alert").returncode, 2)

    def test_duty_notice_for_one_organisation_says_organisation(self):
        aid = self.w.send(policy="fast", targets=["org:water-a"], title="単独")
        wait_for(lambda: self.w.status(aid)["state"] == "completed", 30, what="the alert to complete")
        duty = wait_for(lambda: self.to("duty@nisc.example.jp"), 20, what="the duty notice")
        self.assertIn("【到達不能】1組織に連絡がつきません / 1 organisation unreachable: 単独", duty[0][1])
        self.assertIn("This organisation could not be reached", duty[0][2])


if __name__ == "__main__":
    main()
