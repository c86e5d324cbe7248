"""Stories of the phone and SMS gateway: pocalert places calls through a
Twilio-shaped gateway (test/servers/gateway_sim.py) and learns how each
ended from the gateway's signed callbacks. A duty desk that presses 1
confirms exactly as by its reply link; a phone nobody answers is retried,
then the next step goes out; an answering machine never confirms; a
callback with a bad signature is refused and changes nothing; callbacks
that come twice, late or out of order never move a delivery backwards. An
SMS reply of 1, OK or ＯＫ confirms; anything else gets one help reply; a
number two organisations share confirms neither.
"""
import base64
import hashlib
import hmac
import json
import os
import subprocess
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import Server, Workdir, deliveries, main, wait_for

SID = "AC0123456789abcdef0123456789abcdef"
TOKEN = "f0e1d2c3b4a5968778695a4b3c2d1e0f"

# Each organisation's desk phone plays a different far side.
PHONES = {
    "press": "+819011110001",
    "silent": "+819011110002",
    "machine": "+819011110003",
    "nokey": "+819011110004",
    "messy": "+819011110005",
}
SCRIPT = {
    PHONES["press"]: "answer-press-1 after 0.2s",
    PHONES["silent"]: "no-answer",
    PHONES["machine"]: "voicemail",
    PHONES["nokey"]: "answer-no-key",
    PHONES["messy"]: "answer-no-key dup late",
}

DIRECTORY = "".join("""
organisation "%(id)s" {
  name = "%(id)s 電力"
  sector = "energy"
  kind = "member"
  contact "desk" {
    name = "窓口"
    role = "primary"
    method "voice" { address = "0%(local)s" max_tlp = "RED" }
  }
  contact "deputy" {
    name = "副担当"
    role = "deputy"
    method "mail" { address = "deputy@%(id)s.example.jp" }
  }
}
""" % {"id": k, "local": v[3:]} for k, v in PHONES.items())

CONFIG = """
channel "voice" {
  driver = "twilio-voice"
  base_url = "http://127.0.0.1:%(sim)d"
  account_sid = "%(sid)s"
  auth_token_file = "%(token_file)s"
  from = "+81312345678, +81312345679"
  max_concurrency = 50
  retry { max_attempts = 2 initial_delay = 0.2s }
}
channel "mail" {
  driver = "dryrun"
  path = "mail.jsonl"
}
policy "phone" {
  step { after = 0s roles = {"primary"} channels = {"voice"} }
  step { after = 4s roles = {"deputy"} channels = {"mail"} }
  holiday_first = "never"
}
select { policy = "phone" }
"""


class Gateways(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        token_file = self.w.file("twilio.token", TOKEN + "\n")
        script = self.w.file("script.json", json.dumps(SCRIPT))
        self.simlog = os.path.join(self.w.path, "sim.jsonl")
        self.sim = Server("gateway_sim.py", "--port", "0", "--log", self.simlog,
                          "--sid", SID, "--token-file", token_file,
                          "--script", script)
        self.addCleanup(self.sim.stop)
        self.w.write_config(CONFIG % {"sim": self.sim.port, "sid": SID,
                                      "token_file": token_file})
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY), check=0)
        self.w.start_daemon()

    def sim_log(self):
        try:
            with open(self.simlog, encoding="utf-8") as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []

    def calls_to(self, number):
        return [e for e in self.sim_log()
                if e.get("path", "").endswith("/Calls.json") and e["form"].get("To") == number]

    def org(self, aid, org_id):
        return [o for o in self.w.status(aid)["organisations"] if o["id"] == org_id][0]

    def voice(self, aid, org_id):
        return [d for d in deliveries(self.w.status(aid))
                if d["org"] == org_id and d["channel"] == "voice"]

    def events(self, aid):
        code, t = self.w.api("GET", "/api/v1/alerts/%s/timeline" % aid)
        self.assertEqual(code, 200, t)
        return t

    def test_keypress_confirms_and_stops_escalation(self):
        aid = self.w.send(targets=["org:press"], title="変電所の制御系に不正アクセス",
                          tlp="AMBER")
        wait_for(lambda: self.org(aid, "press")["state"] == "acknowledged", 20,
                 what="the keypress to confirm")
        call = self.calls_to(PHONES["press"])[0]
        self.assertTrue(call["auth_ok"])
        form = call["form"]
        self.assertIn(form["From"], ("+81312345678", "+81312345679"))
        self.assertEqual(form["MachineDetection"], "Enable")
        self.assertIn('<Gather input="dtmf" numDigits="1" action="http://127.0.0.1:%d'
                      '/hooks/voice/gather" method="POST">' % self.w.port, form["Twiml"])
        self.assertIn('<Say language="ja-JP" loop="2">', form["Twiml"])
        self.assertIn("ティーエルピー アンバー", form["Twiml"])
        self.assertIn("変電所の制御系に不正アクセス", form["Twiml"])
        self.assertNotIn("http://127.0.0.1:%d/ack" % self.w.port, form["Twiml"])
        acks = [e for e in self.events(aid) if e["kind"] == "acknowledged"]
        self.assertEqual(len(acks), 1)
        self.assertIn("keypress", acks[0]["detail"])
        # The escalation stopped: the deputy's mail never goes out.
        wait_for(lambda: self.voice(aid, "press")[0]["state"] == "sent", 20,
                 what="the call to end")
        st = self.w.status(aid)
        self.assertFalse([d for d in deliveries(st) if d["channel"] == "mail"])

    def test_red_says_no_content(self):
        aid = self.w.send(targets=["org:nokey"], title="秘匿すべき件名", body="秘匿本文",
                          tlp="RED")
        wait_for(lambda: self.calls_to(PHONES["nokey"]), 20, what="the call")
        twiml = self.calls_to(PHONES["nokey"])[0]["form"]["Twiml"]
        self.assertIn("ティーエルピー レッド", twiml)
        self.assertNotIn("秘匿", twiml)
        wait_for(lambda: self.voice(aid, "nokey")[0]["state"] == "sent", 20,
                 what="the call to end unconfirmed")
        self.assertNotEqual(self.org(aid, "nokey")["state"], "acknowledged")

    def test_no_answer_is_retried_then_escalated(self):
        aid = self.w.send(targets=["org:silent"])
        wait_for(lambda: self.voice(aid, "silent")[0]["state"] == "failed", 30,
                 what="the retries to run out")
        d = self.voice(aid, "silent")[0]
        self.assertEqual(d["attempts"], 2)
        self.assertIn("no-answer", d["last_error"])
        self.assertEqual(len(self.calls_to(PHONES["silent"])), 2)
        wait_for(lambda: [x for x in deliveries(self.w.status(aid)) if x["channel"] == "mail"],
                 20, what="the next step")

    def test_voicemail_never_confirms(self):
        aid = self.w.send(targets=["org:machine"])
        wait_for(lambda: self.voice(aid, "machine")[0]["state"] == "sent", 20,
                 what="the call to end")
        self.assertNotEqual(self.org(aid, "machine")["state"], "acknowledged")
        rows = self.w.db_rows("SELECT detail, gateway_id FROM attempts WHERE delivery_id = ?",
                              self.voice(aid, "machine")[0]["id"])
        self.assertEqual(rows[0][0], "voicemail")
        self.assertTrue(rows[0][1].startswith("CA"))

    def test_duplicated_and_late_callbacks_never_move_backwards(self):
        aid = self.w.send(targets=["org:messy"])
        wait_for(lambda: self.voice(aid, "messy")[0]["state"] == "sent", 20,
                 what="the call to end")
        # The late "ringing" comes after "completed": wait until it was answered.
        wait_for(lambda: [e for e in self.sim_log() if e.get("callback")
                          and e["params"].get("CallStatus") == "ringing"][2:], 20,
                 what="the late ringing")
        d = self.voice(aid, "messy")[0]
        self.assertEqual((d["state"], d["attempts"]), ("sent", 1))

    def test_bad_signature_is_refused_and_records_nothing(self):
        aid = self.w.send(targets=["org:nokey"])
        wait_for(lambda: self.voice(aid, "nokey")[0]["state"] == "sent", 20, what="the call")
        sid = self.calls_to(PHONES["nokey"])[0]["sid"]
        before = len(self.events(aid))
        url = "http://127.0.0.1:%d/hooks/voice/gather" % self.w.port
        params = [("CallSid", sid), ("Digits", "1"), ("AccountSid", SID)]
        data = "".join(k + v for k, v in sorted(params))
        good = base64.b64encode(hmac.new(TOKEN.encode(), (url + data).encode(),
                                         hashlib.sha1).digest()).decode()
        bad = base64.b64encode(hmac.new(b"not the token", (url + data).encode(),
                                        hashlib.sha1).digest()).decode()
        for sig in (bad, None):
            req = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(),
                                         method="POST")
            req.add_header("Content-Type", "application/x-www-form-urlencoded")
            if sig:
                req.add_header("X-Twilio-Signature", sig)
            with self.assertRaises(urllib.error.HTTPError) as cm:
                urllib.request.urlopen(req, timeout=20)
            self.assertEqual(cm.exception.code, 403)
        self.assertEqual(len(self.events(aid)), before)
        self.assertNotEqual(self.org(aid, "nokey")["state"], "acknowledged")
        # The same request signed right is a (late) keypress: it confirms.
        req = urllib.request.Request(url, data=urllib.parse.urlencode(params).encode(),
                                     method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        req.add_header("X-Twilio-Signature", good)
        with urllib.request.urlopen(req, timeout=20) as r:
            self.assertEqual(r.status, 200)
            self.assertIn("<Hangup/>", r.read().decode())
        self.assertEqual(self.org(aid, "nokey")["state"], "acknowledged")


MOBILES = {
    "reply-ok": ("+819022220001", "sms-reply OK after 0.2s"),
    "reply-zenkaku": ("+819022220002", "sms-reply ＯＫ after 0.2s"),
    "reply-other": ("+819022220003", "sms-reply はい after 0.2s"),
    "shared-a": ("+819022220004", "sms-reply 1 after 0.2s"),
    "shared-b": ("+819022220004", "sms-reply 1 after 0.2s"),
}

SMS_DIRECTORY = "".join("""
organisation "%(id)s" {
  name = "%(id)s 鉄道"
  sector = "rail"
  kind = "member"
  contact "desk" {
    name = "窓口"
    role = "primary"
    method "sms" { address = "0%(local)s" }
  }
}
""" % {"id": k, "local": v[0][3:]} for k, v in MOBILES.items())

SMS_CONFIG = """
channel "sms" {
  driver = "twilio-sms"
  base_url = "http://127.0.0.1:%(sim)d"
  account_sid = "%(sid)s"
  auth_token_file = "%(token_file)s"
  from = "+815012345678"
  retry { max_attempts = 2 initial_delay = 0.2s }
}
policy "text" {
  step { after = 0s roles = {"primary"} channels = {"sms"} }
  step { after = 30s roles = {"primary"} channels = {"sms"} }
  holiday_first = "never"
}
select { policy = "text" }
"""


class Sms(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        token_file = self.w.file("twilio.token", TOKEN + "\n")
        script = self.w.file("script.json", json.dumps({v[0]: v[1] for v in MOBILES.values()}))
        self.simlog = os.path.join(self.w.path, "sim.jsonl")
        self.sim = Server("gateway_sim.py", "--port", "0", "--log", self.simlog,
                          "--sid", SID, "--token-file", token_file, "--script", script)
        self.addCleanup(self.sim.stop)
        self.w.write_config(SMS_CONFIG % {"sim": self.sim.port, "sid": SID,
                                          "token_file": token_file})
        self.w.run("contacts", "import", self.w.file("dir.conf", SMS_DIRECTORY), check=0)
        self.w.start_daemon()

    sim_log = Gateways.sim_log
    org = Gateways.org
    events = Gateways.events

    def inbound_replies(self, number):
        return [e for e in self.sim_log() if e.get("callback", "").endswith("/hooks/sms/inbound")
                and e["params"]["From"] == number]

    def test_replies(self):
        aid = self.w.send(targets=["sector:rail"], title="運行管理システムの障害", drill=True)
        for org in ("reply-ok", "reply-zenkaku"):
            wait_for(lambda: self.org(aid, org)["state"] == "acknowledged", 20,
                     what="%s to confirm by SMS" % org)
        msgs = [e for e in self.sim_log() if e.get("path", "").endswith("/Messages.json")]
        body = msgs[0]["form"]["Body"]
        self.assertTrue(body.startswith("【訓練】TLP:AMBER "), body)
        self.assertIn("http://127.0.0.1:%d/ack/" % self.w.port, body)
        acks = [e for e in self.events(aid) if e["kind"] == "acknowledged"]
        self.assertEqual(len(acks), 2)
        self.assertTrue(all("sms reply" in a["detail"] for a in acks))
        # Anything else: one help reply, not an acknowledgement.
        wait_for(lambda: self.inbound_replies(MOBILES["reply-other"][0]), 20, what="the reply")
        self.assertIn("1 または OK", self.inbound_replies(MOBILES["reply-other"][0])[0]["reply"])
        self.assertNotEqual(self.org(aid, "reply-other")["state"], "acknowledged")
        # A number two organisations share confirms neither.
        wait_for(lambda: len(self.inbound_replies(MOBILES["shared-a"][0])) >= 2, 20,
                 what="both replies from the shared number")
        self.assertIn("返信リンク", self.inbound_replies(MOBILES["shared-a"][0])[0]["reply"])
        for org in ("shared-a", "shared-b"):
            self.assertNotEqual(self.org(aid, org)["state"], "acknowledged")
        # Delivered SMS are sent deliveries, with the gateway's id.
        wait_for(lambda: all(d["state"] == "sent" for d in deliveries(self.w.status(aid))),
                 20, what="every SMS delivered")
        rows = self.w.db_rows("SELECT gateway_id, detail FROM attempts")
        self.assertTrue(all(r[0].startswith("SM") and r[1] == "delivered" for r in rows), rows)


FAX_DIRECTORY = """
organisation "fax-ok" {
  name = "丙ガス株式会社"
  sector = "gas"
  kind = "member"
  contact "desk" {
    name = "窓口"
    role = "primary"
    method "fax" { address = "03-5555-0001" }
  }
}
organisation "fax-bad" {
  name = "丁ガス"
  sector = "gas"
  kind = "member"
  contact "desk" {
    name = "窓口"
    role = "primary"
    method "fax" { address = "03-5555-0002" }
  }
}
"""

FAX_CONFIG = """
channel "fax" {
  driver = "fax-http"
  base_url = "http://127.0.0.1:%(sim)d"
  account_sid = "%(sid)s"
  auth_token_file = "%(token_file)s"
  from = "+81355550000"
  confirm_phone = "03-5555-9999"
  retry { max_attempts = 2 initial_delay = 0.2s }
}
policy "paper" {
  step { after = 0s roles = {"primary"} channels = {"fax"} }
  holiday_first = "never"
}
select { policy = "paper" }
"""


class Fax(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        token_file = self.w.file("twilio.token", TOKEN + "\n")
        script = self.w.file("script.json", json.dumps({"+81355550002": "fax-fail"}))
        self.simlog = os.path.join(self.w.path, "sim.jsonl")
        self.sim = Server("gateway_sim.py", "--port", "0", "--log", self.simlog,
                          "--sid", SID, "--token-file", token_file, "--script", script)
        self.addCleanup(self.sim.stop)
        self.w.write_config(FAX_CONFIG % {"sim": self.sim.port, "sid": SID,
                                          "token_file": token_file})
        self.w.run("contacts", "import", self.w.file("dir.conf", FAX_DIRECTORY), check=0)
        self.w.start_daemon()

    sim_log = Gateways.sim_log

    def test_fax_methods_default_to_green(self):
        shown = json.loads(self.w.run("contacts", "show", "fax-ok", "--json", check=0).stdout)
        text = json.dumps(shown)
        self.assertIn('"max_tlp": "GREEN"', text)

    def test_fax_is_a_pdf_with_japanese_text(self):
        aid = self.w.send(targets=["sector:gas"], title="ガス供給制御系の脆弱性",
                          body="至急、パッチを適用してください。", tlp="GREEN", drill=True)
        wait_for(lambda: all(d["state"] in ("sent", "failed")
                             for d in deliveries(self.w.status(aid))), 30,
                 what="both faxes to end")
        by_org = {d["org"]: d for d in deliveries(self.w.status(aid))}
        self.assertEqual(by_org["fax-ok"]["state"], "sent")
        self.assertEqual((by_org["fax-bad"]["state"], by_org["fax-bad"]["attempts"]),
                         ("failed", 2))
        self.assertIn("fax failed", by_org["fax-bad"]["last_error"])
        up = [e for e in self.sim_log() if e.get("path", "").endswith("/Faxes.json")
              and e["form"].get("To") == "+81355550001"][0]
        self.assertTrue(up["auth_ok"])
        pdf = "%s.%s.pdf" % (self.simlog, up["sid"])
        with open(pdf, "rb") as f:
            self.assertEqual(f.read(5), b"%PDF-")
        text = subprocess.run(["pdftotext", "-enc", "UTF-8", pdf, "-"], capture_output=True,
                              text=True, check=True).stdout
        for want in ("緊急連絡", "Emergency notice", "TLP:GREEN", "これは訓練です",
                     "ガス供給制御系の脆弱性", "パッチを適用", "丙ガス株式会社",
                     "03-5555-9999", "http://127.0.0.1:%d/ack/" % self.w.port):
            self.assertIn(want, text)
        rows = self.w.db_rows("SELECT gateway_id, detail FROM attempts WHERE delivery_id = ?",
                              by_org["fax-ok"]["id"])
        self.assertTrue(rows[0][0].startswith("FX"))
        self.assertEqual(rows[0][1], "fax delivered, 1 pages sent")


FAILOVER_CONFIG = """
channel "voice" {
  driver = "twilio-voice"
  base_url = "http://127.0.0.1:%(bad)d"
  account_sid = "%(sid)s"
  auth_token_file = "%(token_file)s"
  provider "backup" {
    base_url = "http://127.0.0.1:%(good)d"
    account_sid = "%(sid2)s"
    auth_token_file = "%(token2_file)s"
  }
  breaker_failures = 2
  breaker_open = 600
  from = "+81312345678"
  max_concurrency = 1
  retry { max_attempts = 2 initial_delay = 0.2s }
}
policy "phone" {
  step { after = 0s roles = {"primary"} channels = {"voice"} }
  holiday_first = "never"
}
select { policy = "phone" }
"""


class Failover(unittest.TestCase):
    """The first provider answers 500 to everything; the second works."""

    def setUp(self):
        self.w = Workdir(self)
        token_file = self.w.file("twilio.token", TOKEN + "\n")
        token2_file = self.w.file("backup.token", "backup-token-0123456789\n")
        script = self.w.file("script.json", json.dumps({PHONES["press"]: "answer-press-1 after 0.5s"}))
        self.badlog = os.path.join(self.w.path, "bad.jsonl")
        self.goodlog = os.path.join(self.w.path, "good.jsonl")
        self.bad = Server("gateway_sim.py", "--port", "0", "--log", self.badlog,
                          "--sid", SID, "--token-file", token_file, "--error-rate", "1")
        self.addCleanup(self.bad.stop)
        self.good = Server("gateway_sim.py", "--port", "0", "--log", self.goodlog,
                           "--sid", "AC" + "b" * 32, "--token-file", token2_file,
                           "--script", script)
        self.addCleanup(self.good.stop)
        self.w.write_config(FAILOVER_CONFIG % {
            "bad": self.bad.port, "good": self.good.port, "sid": SID,
            "sid2": "AC" + "b" * 32, "token_file": token_file,
            "token2_file": token2_file})
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY), check=0)
        self.w.start_daemon()

    def lines(self, path):
        try:
            with open(path, encoding="utf-8") as f:
                return [json.loads(l) for l in f if l.strip()]
        except OSError:
            return []

    def test_failing_provider_hands_over_to_the_second(self):
        aid = self.w.send(targets=["sector:energy"])
        wait_for(lambda: all(d["state"] == "sent" for d in deliveries(self.w.status(aid))
                             if d["channel"] == "voice"), 30, what="every call to end")
        calls = [e for e in self.lines(self.goodlog) if e.get("path", "").endswith("/Calls.json")]
        self.assertEqual(len(calls), 5, "every call went out through the backup")
        self.assertTrue(all(c["auth_ok"] for c in calls))
        # The breaker opened after two failures: the first provider saw two.
        self.assertEqual(len(self.lines(self.badlog)), 2)
        # The keypress came back signed with the backup's token: it counts.
        wait_for(lambda: [o for o in self.w.status(aid)["organisations"]
                          if o["id"] == "press" and o["state"] == "acknowledged"], 20,
                 what="the keypress through the backup")
        details = [e["detail"] or "" for e in Gateways.events(self, aid)]
        self.assertTrue([d for d in details if "via backup after primary" in d], details)
        self.assertTrue([d for d in details if "via backup: primary is failing" in d], details)


if __name__ == "__main__":
    main()
