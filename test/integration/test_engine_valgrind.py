"""The engine under valgrind: a whole alert's life (intake, sends by mail
and web hook, a retry, escalation, a confirmation by reply link, a cancel
with notices, shutdown) must end with no memory error and no leak.
"""
import os
import signal
import unittest
import urllib.parse
import urllib.request

from harness import ROOT, Server, Workdir, deliveries, main, wait_for
from test_dispatch import SECRET, org_block, channels
import json

VALGRIND = ["valgrind", "--quiet", "--error-exitcode=99", "--leak-check=full",
            "--suppressions=" + os.path.join(ROOT, "test", "valgrind.supp"),
            "--errors-for-leak-kinds=definite,indirect", "--show-leak-kinds=definite,indirect"]


class EngineUnderValgrind(unittest.TestCase):
    def test_an_alerts_life_leaks_nothing(self):
        w = Workdir(self)
        maildir = os.path.join(w.path, "Maildir")
        smtp = Server("smtp_server.py", "--maildir", maildir, "--port", "0")
        self.addCleanup(smtp.stop)
        http = Server("http_receiver.py", "0", os.path.join(w.path, "hooks.jsonl"), "--secret", SECRET)
        self.addCleanup(http.stop)
        url = "http://127.0.0.1:%d/" % http.port
        w.write_config(channels(smtp.port) + """
policy "short" {
  step { after = 0s roles = {"primary"} channels = {"mail", "web"} }
  step { after = 3s roles = {"primary", "deputy"} channels = {"mail", "web"} }
  holiday_first = "never"
}
""")
        w.run("contacts", "import", w.file("d.conf", "".join([
            org_block("a", "甲", [("mail", "desk@a.example.jp", "AMBER"), ("web", url + "ok/a", "AMBER")]),
            org_block("b", "乙", [("mail", "tempfail-b@example.jp", "AMBER"), ("web", url + "flaky/b", "AMBER")]),
            org_block("c", "丙", [("mail", "permfail-c@example.jp", "AMBER")]),
        ])), check=0)
        w.start_daemon(wrap=VALGRIND)
        aid = w.send(policy="short", targets=["all"])
        wait_for(lambda: w.status(aid)["counts"]["sent"] >= 4, 120, what="the first sends")
        # a contact of a confirms by its reply link
        hooks = os.path.join(w.path, "hooks.jsonl")

        def ack_url():
            if not os.path.exists(hooks):
                return None
            with open(hooks, encoding="utf-8") as f:
                for line in f:
                    payload = json.loads(json.loads(line)["body"])
                    if payload["organisation"]["id"] == "a":
                        return payload["ack_url"]
            return None
        url_a = wait_for(ack_url, 60, what="a web hook to a")
        body = urllib.parse.urlencode({"response": "received", "name": "検証"}).encode()
        urllib.request.urlopen(urllib.request.Request(url_a, data=body), timeout=60).read()
        wait_for(lambda: [o for o in w.status(aid)["organisations"] if o["state"] == "escalated"],
                 120, what="an escalation")
        code, _ = w.api("POST", "/api/v1/alerts/%s/cancel" % aid, {"notify": True})
        self.assertEqual(code, 200)
        wait_for(lambda: w.status(aid)["counts"]["pending"] == 0, 120, what="the notices")
        code = w.stop_daemon(signal.SIGTERM, timeout=120)
        self.assertEqual(code, 0, "valgrind found errors or leaks:\n" + w.log()[-6000:])


if __name__ == "__main__":
    main()
