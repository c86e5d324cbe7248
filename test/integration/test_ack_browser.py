"""Story of a reply link in a real browser: an operator issues a drill to
one water utility by web hook; the link in the payload is opened by
Debian's Chromium, headless, as a mail security scanner would (scripts
on, timers run), which must record an opening and never a confirmation;
a phone-sized screenshot is taken; then a person answers with the form's
POST, and answers again, which updates the answer but keeps the first
time.
"""
import json
import os
import shutil
import subprocess
import tempfile
import unittest
import urllib.error
import urllib.parse
import urllib.request

from harness import Server, Workdir, main, wait_for

CHROMIUM = "/usr/bin/chromium"
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
TITLE = "<script>alert(1)</script> 浄水場の遠隔監視装置への不正アクセス"
PHONE_UA = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
            "AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.0 "
            "Mobile/15E148 Safari/604.1")

CONFIG = """
channel "web" {
  driver = "webhook"
  secret = "%s"
  timeout = 5
  retry { max_attempts = 2 initial_delay = 0.2s }
}
"""

DIRECTORY = """
organisation "water-a" {
  name = "架空市水道局"
  sector = "water"
  kind = "member"
  contact "desk" {
    name = "水道局 緊急窓口"
    role = "primary"
    method "web" { address = "%s" max_tlp = "AMBER" }
  }
}
"""


@unittest.skipUnless(os.path.exists(CHROMIUM),
                     "needs Debian's chromium at %s (scripts/setup installs it)" % CHROMIUM)
class AckInBrowser(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.hooklog = os.path.join(self.w.path, "hooks.jsonl")
        self.http = Server("http_receiver.py", "0", self.hooklog, "--secret", SECRET)
        self.addCleanup(self.http.stop)
        self.w.write_config(CONFIG % SECRET)
        url = "http://127.0.0.1:%d/ok/water-a" % self.http.port
        self.w.run("contacts", "import", self.w.file("dir.conf", DIRECTORY % url), check=0)
        self.w.start_daemon()
        self.profile = tempfile.mkdtemp(prefix="pocalert-chromium-")
        self.addCleanup(shutil.rmtree, self.profile, True)

    def chromium(self, *args):
        """Runs headless Chromium with a throwaway profile; its stdout."""
        p = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
             "--no-first-run", "--disable-background-networking",
             "--disable-component-update", "--disable-sync",
             "--user-data-dir=" + self.profile, *args],
            capture_output=True, text=True, timeout=120)
        if p.returncode != 0:
            raise AssertionError("chromium %s: exit %d\n%s" % (" ".join(args), p.returncode, p.stderr))
        return p.stdout

    def hooks(self):
        if not os.path.exists(self.hooklog):
            return []
        with open(self.hooklog, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def org(self, aid):
        return self.w.status(aid)["organisations"][0]

    def timeline_kinds(self, aid):
        code, t = self.w.api("GET", "/api/v1/alerts/%s/timeline" % aid)
        self.assertEqual(code, 200, t)
        return [e["kind"] for e in t]

    def post(self, url, **form):
        """The form's POST as a phone's browser sends it."""
        req = urllib.request.Request(url, data=urllib.parse.urlencode(form).encode(), method="POST")
        req.add_header("Content-Type", "application/x-www-form-urlencoded")
        req.add_header("User-Agent", PHONE_UA)
        req.add_header("Origin", url.split("/ack/")[0])
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status, dict(r.headers), r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read().decode()

    def test_chromium_opens_the_link_and_a_person_answers(self):
        aid = self.w.send(title=TITLE, body="遠隔監視装置の管理画面を確認してください。\n続報を待ってください。",
                          tlp="AMBER", targets=["org:water-a"], drill=True, type="early-warning")
        hook = wait_for(self.hooks, 30, what="the web hook")[0]
        self.assertTrue(hook["signature_ok"], hook)
        url = json.loads(hook["body"])["ack_url"]
        self.assertRegex(url, r"^http://127\.0\.0\.1:%d/ack/[A-Za-z0-9_-]{16,64}$" % self.w.port)

        # The scanner's visit: scripts on, and five seconds of timers.
        dom = self.chromium("--virtual-time-budget=5000", "--dump-dom", url)
        self.assertIn("<h1>&lt;script&gt;alert(1)&lt;/script&gt; 浄水場の遠隔監視装置への不正アクセス</h1>", dom)
        self.assertNotIn("<script", dom)
        self.assertIn("【訓練】これは訓練です", dom)
        self.assertIn("<b>TLP:AMBER</b>", dom)
        self.assertIn("架空市水道局", dom)
        self.assertEqual(dom.count('type="radio"'), 4)
        for value in ("received", "not-affected", "affected", "investigating"):
            self.assertIn('value="%s"' % value, dom)
        self.assertNotIn("checked", dom.split("<form", 1)[1])
        # ...recorded an opening, and confirmed nothing.
        o = self.org(aid)
        self.assertNotEqual(o["state"], "acknowledged")
        self.assertIsNone(o.get("acknowledged_at"))
        kinds = self.timeline_kinds(aid)
        self.assertIn("link_opened", kinds)
        self.assertNotIn("acknowledged", kinds)

        # On a phone's screen: a real rendering, not an empty page, with
        # fonts for Japanese and for emoji (scripts/setup installs both),
        # so that no character shows as a box (tofu).
        for family in ("IPAGothic", "Noto Color Emoji"):
            fonts = subprocess.run(["fc-list", ":family=" + family], capture_output=True, text=True)
            self.assertTrue(fonts.stdout.strip(), "no %s font: run scripts/setup" % family)
        png = os.path.join(self.w.path, "ack-phone.png")
        self.chromium("--hide-scrollbars", "--window-size=390,844", "--screenshot=" + png, url)
        with open(png, "rb") as f:
            data = f.read()
        self.assertEqual(data[:8], b"\x89PNG\r\n\x1a\n")
        self.assertGreater(len(data), 10 * 1024, "the screenshot is nearly blank")
        if os.environ.get("POCALERT_SCREENSHOT_DIR"):
            shutil.copy(png, os.environ["POCALERT_SCREENSHOT_DIR"])

        # A person answers: the reply says it is recorded, and it is.
        code, headers, page = self.post(url, response="affected", name="山田 太郎",
                                        comment="調査中です。\r\n<b>続報</b>は夕方に。")
        self.assertEqual(code, 200, page)
        self.assertIn("受信確認を記録しました", page)
        self.assertIn("&lt;b&gt;続報&lt;/b&gt;", page)
        self.assertNotIn("<b>続報", page)
        self.assertEqual(headers["Content-Security-Policy"],
                         "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "
                         "frame-ancestors 'none'")
        self.assertEqual(headers["Cache-Control"], "no-store")
        o = self.org(aid)
        self.assertEqual(o["state"], "acknowledged")
        self.assertEqual(o["response"], "affected")
        self.assertEqual(o["acknowledged_by"], "山田 太郎")
        self.assertEqual(o["comment"], "調査中です。\n<b>続報</b>は夕方に。")
        first = o.get("acknowledged_at")
        self.assertIsNotNone(first)

        # A second answer updates the response; the first time stays.
        code, _, page = self.post(url, response="not-affected")
        self.assertEqual(code, 200, page)
        o = self.org(aid)
        self.assertEqual((o["state"], o["response"], o.get("acknowledged_at")),
                         ("acknowledged", "not-affected", first))
        kinds = self.timeline_kinds(aid)
        self.assertIn("acknowledged", kinds)
        self.assertIn("ack_updated", kinds)

        # The page now says so, and still chooses nothing for the person.
        dom = self.chromium("--dump-dom", url)
        self.assertIn("確認済みです", dom)
        self.assertNotIn("checked", dom.split("<form", 1)[1])

        # A wrong answer comes back with the form, and changes nothing.
        code, _, page = self.post(url, response="maybe")
        self.assertEqual(code, 400)
        self.assertIn('<form id="answer"', page)
        self.assertEqual(self.org(aid)["response"], "not-affected")

        # And the history of all this is intact on disk.
        p = self.w.run("audit", "verify", aid, check=0)
        self.assertRegex(p.stdout, r"^%s: timeline intact, \d+ events\n$" % aid)
        p = self.w.run("status", aid, "--timeline", check=0)
        self.assertRegex(p.stdout.splitlines()[0], r"^TIME\s+ACTOR\s+KIND\s+ORG\s+DELIVERY\s+DETAIL$")
        self.assertIn("link_opened", p.stdout)
        self.assertIn("ack_updated", p.stdout)


if __name__ == "__main__":
    main()
