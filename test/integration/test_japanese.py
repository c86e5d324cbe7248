"""Stories of Japanese data on every path: the holiday calendar, phone
numbers as Japanese offices type them, and CSV files from Excel.

Each refusal comes back as FILE:LINE naming the problem, exit 2, and leaves
the database exactly as it was.
"""
import datetime
import email
import email.header
import glob
import json
import os
import re
import unittest
import urllib.request

from harness import ROOT, Server, Workdir, main, wait_for
from test_dispatch import SECRET, Mailbox, channels

CSV_HEADER = ("org_id,org_name,sector,kind,parent,contact_id,contact_name,"
              "role,language,channel,address,max_tlp\r\n")
SYUKUJITSU = os.path.join(ROOT, "policies", "syukujitsu.csv")
CAL_HEADER = "国民の祝日・休日月日,国民の祝日・休日名称\r\n"


def tokyo_today():
    return (datetime.datetime.now(datetime.timezone.utc)
            + datetime.timedelta(hours=9)).date()


class Japanese(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.w.write_config()

    def methods(self):
        return self.w.db_rows("SELECT org_id, contact_id, channel, address FROM methods"
                              " ORDER BY 1, 2, 3, 4")

    def holidays(self):
        return self.w.db_rows("SELECT day, name FROM holidays ORDER BY day")

    # ---- contacts from Excel ----

    def test_cp932_excel_export_with_numbers_as_offices_write_them(self):
        rows = [
            ("suido", "架空水道企業団", "water", "desk", "施設課 当直", "voice", "０３－１２３４－５６７８"),
            ("suido", "架空水道企業団", "water", "desk", "施設課 当直", "sms", "０９０ー１２３４ー５６７８"),
            ("suido", "架空水道企業団", "water", "desk", "施設課 当直", "fax", "（０３）１２３４−５６７９"),
            ("suido", "架空水道企業団", "water", "duty", "表計算 ソ能", "voice", "+81-03-1234-0000"),
            ("suido", "架空水道企業団", "water", "duty", "表計算 ソ能", "voice", "０５７０‐１２３‐４５６"),
            ("suido", "架空水道企業団", "water", "duty", "表計算 ソ能", "fax", "050　1234　5678"),
        ]
        csv = CSV_HEADER + "".join(
            "%s,%s,%s,member,,%s,%s,primary,ja,%s,%s,GREEN\r\n" % (o, n, s, c, cn, ch, a)
            for o, n, s, c, cn, ch, a in rows)
        path = self.w.file("excel.csv", csv.encode("cp932"))
        p = self.w.run("contacts", "import", path, check=0)
        self.assertIn("read as CP932", p.stdout)
        self.assertEqual(self.methods(), [
            ("suido", "desk", "fax", "+81312345679"),
            ("suido", "desk", "sms", "+819012345678"),
            ("suido", "desk", "voice", "+81312345678"),
            ("suido", "duty", "fax", "+815012345678"),
            ("suido", "duty", "voice", "+81312340000"),
            ("suido", "duty", "voice", "+81570123456"),
        ])
        name = self.w.db_rows("SELECT name FROM orgs WHERE id = 'suido'")[0][0]
        self.assertEqual(name, "架空水道企業団")
        # said explicitly, any spelling of CP932 reads the same
        for enc in ("Shift_JIS", "sjis", "windows-31j", "CP932"):
            with self.subTest(encoding=enc):
                self.w.run("contacts", "check", path, "--encoding", enc, check=0)

    def assert_refused(self, name, content, pattern, *args):
        before = (self.methods(), self.w.db_rows("SELECT id, name FROM orgs ORDER BY 1"))
        path = self.w.file(name, content)
        p = self.w.run("contacts", "import", path, *args)
        self.assertEqual(p.returncode, 2, p.stderr)
        self.assertRegex(p.stderr, re.escape(path) + pattern)
        self.assertEqual((self.methods(), self.w.db_rows("SELECT id, name FROM orgs ORDER BY 1")),
                         before, "the database changed")
        return p.stderr

    def test_utf8_file_under_cp932_is_refused(self):
        csv = CSV_HEADER + "suido,架空水道企業団,water,member,,d,当直,primary,ja,mail,d@suido.example.jp,GREEN\r\n"
        err = self.assert_refused("utf8.csv", csv, r": the file is UTF-8 .*not CP932",
                                  "--encoding", "cp932")
        self.assertIn("--force-encoding", err)
        self.assertNotIn("譫ｶ", err)
        # with a byte-order mark too
        self.assert_refused("bom.csv", "\ufeff" + csv, r": the file is UTF-8 \(it starts with a UTF-8 "
                            "byte-order mark\)", "--encoding", "cp932")
        # forced, the operator gets what was asked for
        p = self.w.run("contacts", "import", self.w.file("f.csv", csv), "--encoding", "cp932",
                       "--force-encoding", check=0)
        self.assertIn("1 organisations", p.stdout)
        self.assertEqual(self.w.db_rows("SELECT name FROM orgs")[0][0], "譫ｶ遨ｺ豌ｴ驕謎ｼ∵･ｭ蝗｣")
        # auto (the default) reads it as the UTF-8 it is
        p = self.w.run("contacts", "import", self.w.file("a.csv", csv), check=0)
        self.assertIn("read as UTF-8", p.stdout)
        self.assertEqual(self.w.db_rows("SELECT name FROM orgs")[0][0], "架空水道企業団")

    def test_gaiji_is_refused_with_line_and_column(self):
        csv = (CSV_HEADER.encode() +
               "a,架空銀行,finance,member,,d,当直,primary,ja,mail,d@a.example.jp,GREEN\r\n".encode("cp932") +
               "b,".encode() + "髙".encode("cp932") + b"\xf0\x40" + "銀行".encode("cp932") +
               ",finance,member,,d,n,primary,ja,mail,d@b.example.jp,GREEN\r\n".encode())
        self.assert_refused("gaiji.csv", csv, r":3: column 4: 外字 .*0xF040", "--encoding", "cp932")

    def test_invalid_utf8_columns_count_characters(self):
        csv = (CSV_HEADER + "a,架空銀行").encode() + b"\xff" + b",finance,member,,d,n,primary,ja,mail,d@a.example.jp,GREEN\n"
        self.assert_refused("bad.csv", csv, r":2: invalid UTF-8: byte 0xFF at column 7", "--encoding", "utf-8")

    def test_phone_numbers_of_the_wrong_length_are_refused(self):
        for number, line_why in (
                ("03-1234-567", "fixed-line number has 10 digits"),
                ("090-1234-56789", "mobile number .* has 11 digits"),
                ("+81-03-1234-567", "fixed-line number has 10 digits")):
            with self.subTest(number=number):
                csv = (CSV_HEADER
                       + "a,架空銀行,finance,member,,d,当直,primary,ja,mail,d@a.example.jp,GREEN\r\n"
                       + "a,架空銀行,finance,member,,d,当直,primary,ja,voice,%s,GREEN\r\n" % number)
                self.assert_refused("len.csv", csv, r":3: address '%s': .*%s" % (re.escape(number), line_why))
        csv = (CSV_HEADER
               + "a,架空銀行,finance,member,,d,当直,primary,ja,sms,03-1234-5678,GREEN\r\n")
        self.assert_refused("sms.csv", csv, r":2: address '03-1234-5678': SMS needs a mobile number")

    def test_org_days_off(self):
        conf = """
organisation "bank" {
  name = "銀行等CEPTOAR"
  sector = "finance"
  kind = "ceptoar"
  days_off = "2026-08-14, 2026-08-13"
  contact "desk" {
    name = "窓口"
    role = "primary"
    method "mail" { address = "desk@bank.example.jp" }
  }
}
"""
        self.w.run("contacts", "import", self.w.file("d.conf", conf), check=0)
        show = json.loads(self.w.run("contacts", "show", "bank", "--json", check=0).stdout)
        self.assertEqual(show["days_off"], "2026-08-13,2026-08-14")
        p = self.w.run("contacts", "import", self.w.file("bad.conf", conf.replace("2026-08-13", "2026-08-32")))
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"bad\.conf:6: days_off '2026-08-14, 2026-08-32': not a list of dates")
        # the CSV column, repeated on every row of the organisation
        csv = (CSV_HEADER.rstrip("\r\n") + ",days_off\r\n"
               + "gas,ガス,gas,member,,d,当直,primary,ja,mail,d@gas.example.jp,GREEN,2026-12-28;2026-08-13\r\n"
               + "gas,ガス,gas,member,,d,当直,primary,ja,voice,03-1234-5678,GREEN,2026-12-28;2026-08-13\r\n")
        self.w.run("contacts", "import", self.w.file("d.csv", csv), check=0)
        show = json.loads(self.w.run("contacts", "show", "gas", "--json", check=0).stdout)
        self.assertEqual(show["days_off"], "2026-08-13,2026-12-28")

    # ---- the calendar ----

    def test_calendar_import_and_show(self):
        p = self.w.run("calendar", "show", "--year", "2027", check=0)
        self.assertIn("built-in", p.stdout)
        self.assertIn("2027-03-22 (月) 休日", p.stdout)
        self.assertIn("2027-12-30 (木) 年末年始", p.stdout)

        # the Cabinet Office's file as published: CP932
        p = self.w.run("calendar", "import", SYUKUJITSU, check=0)
        self.assertIn("imported 35 holidays, 2026-01-01 to 2027-12-31", p.stdout)
        self.assertEqual(len(self.holidays()), 35)
        p = self.w.run("calendar", "show", "--year", "2026", check=0)
        self.assertIn("imported", p.stdout)
        self.assertIn("2026-09-22 (火) 休日", p.stdout)
        self.assertIn("2026-11-23 (月) 勤労感謝の日", p.stdout)
        # a year it does not know: said so
        p = self.w.run("calendar", "show", "--year", "2028", check=0)
        self.assertIn("does not cover 2028", p.stderr)
        self.assertNotIn("成人の日", p.stdout)

        # a UTF-8 copy with 2028, all of it taken
        with open(SYUKUJITSU, encoding="cp932") as f:
            text = f.read()
        text += "2028/1/1,元日\r\n2028/1/10,成人の日\r\n"
        self.w.run("calendar", "import", self.w.file("utf8.csv", text), check=0)
        self.assertEqual(len(self.holidays()), 37)
        p = self.w.run("calendar", "show", "--year", "2028", check=0)
        self.assertIn("2028-01-10 (月) 成人の日", p.stdout)

        # a bad row: nothing changes, the row is named
        before = self.holidays()
        bad = text + "2028/2/30,ない日\r\n"
        p = self.w.run("calendar", "import", self.w.file("bad.csv", bad.encode("cp932")))
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"bad\.csv:%d: column 1: \"2028/2/30\"" % (bad.count("\n")))
        self.assertEqual(self.holidays(), before)
        # not the file at all
        p = self.w.run("calendar", "import", self.w.file("x.csv", "date,name\n2028/1/1,x\n"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("x.csv:1: not the Cabinet Office's holiday CSV", p.stderr)
        for args in (["calendar"], ["calendar", "import"], ["calendar", "frob"],
                     ["calendar", "show", "--year", "soon"]):
            with self.subTest(args=args):
                self.assertEqual(self.w.run(*args).returncode, 2)

    def healthz(self):
        with urllib.request.urlopen("http://127.0.0.1:%d/healthz" % self.w.port, timeout=10) as r:
            return r.read().decode()

    def metric(self, name):
        # /metrics on the public listener wants an operator's token.
        code, text = self.w.api("GET", "/metrics")
        self.assertEqual(code, 200, text)
        for line in text.splitlines():
            if line.startswith(name + " "):
                return int(line.split()[1])
        return None

    def test_calendar_that_ends_soon_is_warned_about(self):
        today = tokyo_today()
        # a calendar of this year only: it ends on December 31
        year = today.year
        self.w.run("calendar", "import", self.w.file(
            "short.csv", CAL_HEADER + "%d/1/1,元日\r\n" % year), check=0)
        left = (datetime.date(year, 12, 31) - today).days
        self.w.start_daemon()
        self.assertEqual(self.metric("pocalert_calendar_days_left"), left)
        h = self.healthz()
        self.assertIn("calendar: ends %d-12-31, %d days left" % (year, left), h)
        if left <= 90:
            self.assertIn("warning: calendar", h)
            self.assertIn("calendar: ends", self.w.log())
            self.assertRegex(self.w.log(), r"warn.*calendar: ends")

    def test_calendar_that_has_ended_is_warned_about(self):
        self.w.run("calendar", "import", self.w.file(
            "old.csv", CAL_HEADER + "2020/1/1,元日\r\n"), check=0)
        self.w.start_daemon()
        left = (datetime.date(2020, 12, 31) - tokyo_today()).days
        self.assertEqual(self.metric("pocalert_calendar_days_left"), left)
        self.assertIn("warning: calendar: ENDED on 2020-12-31", self.healthz())
        self.assertRegex(self.w.log(), r"warn.*calendar: ENDED on 2020-12-31")

    def test_selection_past_the_calendar_says_it_guessed(self):
        self.w.write_config("""
policy "p" { step { after = 0s roles = {"primary"} channels = {"mail"} } }
select { policy = "p" calendar = {"holiday"} }
select { policy = "p" }
""")
        self.w.run("contacts", "import", self.w.file("d.conf", """
organisation "bank" {
  name = "銀行"
  sector = "finance"
  kind = "member"
  contact "desk" {
    name = "窓口"
    role = "primary"
    method "mail" { address = "desk@bank.example.jp" }
  }
}
"""), check=0)
        self.w.run("calendar", "import", self.w.file(
            "old.csv", CAL_HEADER + "2020/1/1,元日\r\n"), check=0)
        self.w.start_daemon()
        self.w.send(targets=["org:bank"])
        wait_for(lambda: "guessed" in self.w.log(), 10, what="the guess in the log")
        self.assertRegex(self.w.log(), r"warn.*policy selection: today lies outside the holiday "
                         r"calendar \(it ends 2020-12-31\): guessed")

    def test_builtin_calendar_by_default(self):
        self.w.start_daemon()
        left = (datetime.date(2027, 12, 31) - tokyo_today()).days
        self.assertEqual(self.metric("pocalert_calendar_days_left"), left)
        self.assertIn("calendar: ends 2027-12-31", self.healthz())


JIS_DIRECTORY = """
organisation "denki" {
  name = "架空電力"
  sector = "electric-power"
  kind = "member"
  contact "desk" {
    name = "髙橋"
    role = "primary"
    method "mail" { address = "takahashi@denki.example.jp" charset = "iso-2022-jp" }
    method "web" { address = "%(hook)s" }
  }
  contact "en" {
    name = "Desk"
    role = "primary"
    language = "en"
    method "web" { address = "%(hook_en)s" }
  }
}
"""


class JapaneseChannels(unittest.TestCase):
    """Mail in ISO-2022-JP and web hooks, as their receivers see them."""

    def setUp(self):
        self.w = Workdir(self)
        self.maildir = os.path.join(self.w.path, "Maildir")
        self.smtp = Server("smtp_server.py", "--maildir", self.maildir, "--port", "0")
        self.addCleanup(self.smtp.stop)
        self.hooklog = os.path.join(self.w.path, "hooks.jsonl")
        self.http = Server("http_receiver.py", "0", self.hooklog, "--secret", SECRET)
        self.addCleanup(self.http.stop)
        self.w.write_config(channels(self.smtp.port))
        hook = "http://127.0.0.1:%d/ok/ja" % self.http.port
        self.w.run("contacts", "import", self.w.file("dir.conf", JIS_DIRECTORY % {
            "hook": hook, "hook_en": hook.replace("/ja", "/en")}), check=0)
        self.w.start_daemon()

    def raw_mail(self):
        files = sorted(glob.glob(os.path.join(self.maildir, "new", "*")))
        self.assertEqual(len(files), 1)
        with open(files[0], "rb") as f:
            return f.read()

    def hooks(self):
        if not os.path.exists(self.hooklog):
            return []
        with open(self.hooklog, encoding="utf-8") as f:
            return [json.loads(l) for l in f if l.strip()]

    def test_iso2022jp_mail_maps_variants_and_folds(self):
        sentence = "制御系への攻撃に関する早期警戒情報です、至急ご確認ください。"
        body = "髙橋様、山﨑様、草彅様へ👨‍👩‍👧👍🏽\n" + sentence * 8 + "\n"
        aid = self.w.send(title="髙橋様へ①㈱の件❤️", body=body, targets=["org:denki"])
        wait_for(lambda: glob.glob(os.path.join(self.maildir, "new", "*")), 30, what="the mail")
        raw = self.raw_mail()
        self.assertTrue(all(b < 0x80 for b in raw), "not 7bit")
        head, _, jis = raw.partition(b"\r\n\r\n")
        self.assertIn(b"charset=ISO-2022-JP", head)
        for line in jis.split(b"\r\n"):
            if b"/ack/" not in line:
                self.assertLessEqual(len(line), 76, line)
            if b"\x1b" in line:
                # balanced: the line's last shift is back to ASCII
                self.assertEqual(line[line.rindex(b"\x1b"):][:3], b"\x1b(B", line)
        text = jis.decode("iso-2022-jp")
        self.assertIn("高橋様、山崎様、草薙様へ〓〓\r\n", text)
        # 👨‍👩‍👧 and 👍🏽 in the body, ❤️ in the title it repeats
        self.assertEqual(text.count("〓"), 3)
        self.assertIn(sentence * 8, text.replace("\r\n", ""))
        msg = Mailbox(self.maildir).messages()[0]
        subject = str(email.header.make_header(email.header.decode_header(msg["Subject"])))
        self.assertEqual(subject, "[TLP:AMBER] 高橋様へ(1)(株)の件〓")
        self.assertIsNotNone(aid)

    def test_webhook_payload_speaks_the_contacts_language_and_zone(self):
        aid = self.w.send(title="早期警戒情報", targets=["org:denki"])
        wait_for(lambda: len(self.hooks()) == 2, 30, what="two web hooks")
        by_path = {h["path"]: json.loads(h["body"]) for h in self.hooks()}
        self.assertTrue(all(h["signature_ok"] for h in self.hooks()))
        self.assertEqual(by_path["/ok/ja"]["language"], "ja")
        self.assertEqual(by_path["/ok/en"]["language"], "en")
        st = self.w.status(aid)
        for p in by_path.values():
            self.assertRegex(p["created_at"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+09:00$")
            # the same instant the API gives, to the second
            self.assertEqual(p["created_at"][:19], st["created_at"][:19])


if __name__ == "__main__":
    main()
