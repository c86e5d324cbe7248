"""Stories of an operator maintaining the directory with `pocalert contacts`.

Each error kind must come back as FILE:LINE naming the problem, exit 2,
and leave the database exactly as it was.
"""
import json
import os
import re
import unittest

from harness import ROOT, Workdir, main

GOOD = """\
organisation "bank" {
  name = "銀行等CEPTOAR"
  name_en = "Banks CEPTOAR"
  sector = "finance"
  kind = "ceptoar"
  contact "desk" {
    name = "緊急窓口"
    role = "primary"
    method "mail" { address = "desk@bank.example.jp" max_tlp = "AMBER+STRICT" }
    method "voice" { address = "03-1234-5678" }
  }
}
organisation "bank-a" {
  name = "架空銀行"
  sector = "finance"
  kind = "member"
  parent = "bank"
  contact "ops" {
    name = "システム部"
    role = "deputy"
    method "web" { address = "https://hooks.example.jp/a" max_tlp = "GREEN" }
  }
}
"""

CSV_HEADER = "org_id,org_name,sector,kind,parent,contact_id,contact_name,role,language,channel,address,max_tlp\r\n"


class ContactsCli(unittest.TestCase):
    def setUp(self):
        self.w = Workdir(self)
        self.w.write_config()

    def directory(self):
        """The directory as the database holds it."""
        return self.w.db_rows("SELECT o.id, o.name, c.id, m.channel, m.address, m.max_tlp"
                              " FROM orgs o LEFT JOIN contacts c ON c.org_id = o.id"
                              " LEFT JOIN methods m ON m.org_id = o.id AND m.contact_id = c.id"
                              " ORDER BY 1, 3, 4, 5")

    def import_ok(self, name, content, *args):
        path = self.w.file(name, content)
        return self.w.run("contacts", "import", path, *args, check=0)

    def assert_refused(self, name, content, line, pattern, *args):
        """Importing content fails at line with a message matching pattern; nothing changes."""
        before = self.directory()
        path = self.w.file(name, content)
        p = self.w.run("contacts", "import", path, *args)
        self.assertEqual(p.returncode, 2, p.stderr)
        want = re.compile(re.escape(path) + ":%d: .*%s" % (line, pattern))
        self.assertTrue(any(want.search(l) for l in p.stderr.splitlines()),
                        "no %s:%d: %s in:\n%s" % (name, line, pattern, p.stderr))
        self.assertEqual(self.directory(), before, "the database changed")
        # check gives the same verdict without a database
        c = self.w.run("contacts", "check", path, *args)
        self.assertEqual(c.returncode, 2)
        return p.stderr

    def test_import_list_show(self):
        p = self.import_ok("dir.conf", GOOD)
        self.assertIn("2 organisations", p.stdout)
        rows = self.directory()
        self.assertIn(("bank", "銀行等CEPTOAR", "desk", "voice", "+81312345678", "AMBER"), rows)
        self.assertIn(("bank", "銀行等CEPTOAR", "desk", "mail", "desk@bank.example.jp", "AMBER+STRICT"), rows)
        lst = json.loads(self.w.run("contacts", "list", "--json", check=0).stdout)
        self.assertEqual([o["id"] for o in lst], ["bank", "bank-a"])
        show = json.loads(self.w.run("contacts", "show", "bank-a", "--json", check=0).stdout)
        self.assertEqual(show["parent"], "bank")
        self.assertEqual(show["kind"], "member")
        self.assertIsNone(show["name_en"])
        m = show["contacts"][0]["methods"][0]
        self.assertEqual((m["channel"], m["address"], m["max_tlp"]),
                         ("web", "https://hooks.example.jp/a", "GREEN"))
        text = self.w.run("contacts", "show", "bank", check=0).stdout
        self.assertIn("+81312345678", text)
        self.assertIn("緊急窓口", text)
        self.assertEqual(self.w.run("contacts", "show", "nobody").returncode, 2)
        by_sector = json.loads(self.w.run("contacts", "list", "--sector", "water", "--json", check=0).stdout)
        self.assertEqual(by_sector, [])

    def test_each_error_names_file_and_line(self):
        self.import_ok("dir.conf", GOOD)
        cases = [
            ("channel.conf", GOOD.replace('method "voice"', 'method "pager"'), 10, "pager"),
            ("role.conf", GOOD.replace('role = "deputy"', 'role = "boss"'), 20, "boss"),
            ("kind.conf", GOOD.replace('kind = "member"', 'kind = "bank"'), 16, "bank"),
            ("tlp.conf", GOOD.replace('"AMBER+STRICT"', '"PURPLE"'), 9, "PURPLE"),
            ("mail.conf", GOOD.replace("desk@bank.example.jp", "desk.bank.example.jp"), 9, "desk.bank.example.jp"),
            ("phone.conf", GOOD.replace("03-1234-5678", "03-CALL-NOW"), 10, "03-CALL-NOW"),
            ("url.conf", GOOD.replace("https://hooks", "http://hooks"), 21, "https"),
            ("dup.conf", GOOD.replace('organisation "bank-a"', 'organisation "bank"'), 13, "bank"),
            ("parent.conf", GOOD.replace('parent = "bank"', 'parent = "nobank"'), 13, "nobank"),
            ("utf8.conf", GOOD.encode().replace("架空".encode(), b"\xff\xfe"), 0, ""),
        ]
        for name, content, line, pattern in cases:
            with self.subTest(name):
                if line == 0:
                    before = self.directory()
                    p = self.w.run("contacts", "import", self.w.file(name, content))
                    self.assertEqual(p.returncode, 2)
                    self.assertRegex(p.stderr, re.escape(name) + r":\d+: .*UTF-8")
                    self.assertEqual(self.directory(), before)
                else:
                    self.assert_refused(name, content, line, re.escape(pattern))

    def test_parent_cycle(self):
        cyc = GOOD.replace('kind = "ceptoar"', 'kind = "ceptoar"\n  parent = "bank-a"')
        self.assert_refused("cycle.conf", cyc, 1, "cycle")

    def test_all_errors_reported_at_once(self):
        bad = GOOD.replace('method "voice"', 'method "pager"').replace('role = "deputy"', 'role = "boss"')
        p = self.w.run("contacts", "import", self.w.file("two.conf", bad))
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"two\.conf:10: .*pager")
        self.assertRegex(p.stderr, r"two\.conf:20: .*boss")

    def test_replace_makes_the_directory_exactly_the_file(self):
        self.import_ok("dir.conf", GOOD)
        other = """\
organisation "water" {
  name = "水道CEPTOAR"
  sector = "water"
  kind = "ceptoar"
  contact "desk" {
    name = "当番"
    role = "primary"
    method "fax" { address = "+81 3 0000 1111" max_tlp = "GREEN" }
  }
}
"""
        p = self.import_ok("water.conf", other)
        self.assertIn("1 added", p.stdout)
        ids = sorted({r[0] for r in self.directory()})
        self.assertEqual(ids, ["bank", "bank-a", "water"])
        p = self.import_ok("water.conf", other, "--replace")
        self.assertIn("2 removed", p.stdout)
        self.assertEqual(sorted({r[0] for r in self.directory()}), ["water"])

    def test_update_replaces_an_organisations_contacts_whole(self):
        self.import_ok("dir.conf", GOOD)
        changed = GOOD.replace("03-1234-5678", "090-1111-2222")
        self.import_ok("dir2.conf", changed)
        addrs = [r[4] for r in self.directory() if r[0] == "bank"]
        self.assertIn("+819011112222", addrs)
        self.assertNotIn("+81312345678", addrs)

    def test_cp932_csv_comes_back_byte_for_byte(self):
        name = "表ソ能①㈱ｱｲｳ商事"
        contact = "担当 \"ソ\", 能"
        csv = CSV_HEADER + ",".join([
            "hyo", name, "finance", "member", "", "c1", '"担当 ""ソ"", 能"',
            "primary", "ja", "mail", "a@hyo.example.jp", "AMBER"]) + "\r\n"
        path = self.w.file("excel.csv", csv.encode("cp932"))
        self.w.run("contacts", "import", path, "--encoding", "cp932", check=0)
        show = self.w.run("contacts", "show", "hyo", "--json", check=0)
        obj = json.loads(show.stdout)
        self.assertEqual(obj["name"].encode("utf-8"), name.encode("utf-8"))
        self.assertEqual(obj["contacts"][0]["name"], contact)
        # the raw output holds the characters themselves, not \\u escapes
        self.assertIn(name.encode("utf-8"), show.stdout.encode("utf-8"))

    def test_csv_quoted_newline_keeps_line_numbers(self):
        csv = (CSV_HEADER
               + 'a,"二行の\n名前",finance,member,,c1,担当,primary,ja,mail,a@a.example.jp,AMBER\n'
               + "b,名前,finance,member,,c1,担当,primary,ja,pager,x,AMBER\n")
        self.assert_refused("lines.csv", csv, 4, "pager")

    def test_csv_with_bom(self):
        csv = "\ufeff" + CSV_HEADER + "bom,名前,finance,member,,c1,担当,primary,ja,sms,090-0000-1111,GREEN\n"
        self.import_ok("bom.csv", csv)
        show = json.loads(self.w.run("contacts", "show", "bom", "--json", check=0).stdout)
        self.assertEqual(show["contacts"][0]["methods"][0]["address"], "+819000001111")

    def test_invalid_cp932_is_refused(self):
        before = self.directory()
        path = self.w.file("bad.csv", CSV_HEADER.encode() + b"x,\x81\x20bad,finance,member,,c,n,primary,ja,mail,a@b.example.jp,AMBER\n")
        p = self.w.run("contacts", "import", path, "--encoding", "cp932")
        self.assertEqual(p.returncode, 2)
        self.assertRegex(p.stderr, r"bad\.csv:\d+: .*CP932")
        self.assertEqual(self.directory(), before)

    def test_sample_directory(self):
        sample = os.path.join(ROOT, "contacts", "sample", "ceptoars.conf")
        p = self.w.run("contacts", "import", sample, check=0)
        self.assertIn("19 organisations", p.stdout)
        lst = json.loads(self.w.run("contacts", "list", "--json", check=0).stdout)
        nisc = [o for o in lst if o["id"] == "nisc"][0]
        self.assertEqual(nisc["kind"], "government")
        self.assertIn("duty", [c["role"] for c in nisc["contacts"]])

    def test_usage_errors(self):
        for args in (["contacts"], ["contacts", "import"], ["contacts", "frob"],
                     ["contacts", "list", "--bogus"], ["contacts", "import", "x.conf", "--encoding", "latin1"],
                     ["nosuchcommand"]):
            with self.subTest(args=args):
                self.assertEqual(self.w.run(*args).returncode, 2)
        for args in (["--help"], ["contacts", "--help"], ["contacts", "import", "--help"],
                     ["contacts", "list", "--help"], ["serve", "--help"]):
            with self.subTest(args=args):
                p = self.w.run(*args)
                self.assertEqual(p.returncode, 0)
                self.assertIn("usage", p.stdout)
        p = self.w.run("contacts", "import", self.w.file("x.txt", "hello"))
        self.assertEqual(p.returncode, 2)
        self.assertIn("x.txt", p.stderr)

    def test_members_file_may_name_stored_parents(self):
        """A sector's member list, imported on its own after the CEPTOARs."""
        self.import_ok("dir.conf", GOOD)
        members = """\
organisation "bank-b" {
  name = "乙銀行"
  sector = "finance"
  kind = "member"
  parent = "bank"
  contact "ops" {
    name = "システム部"
    role = "primary"
    method "mail" { address = "ops@bank-b.example.jp" }
  }
}
"""
        self.import_ok("members.conf", members)
        self.assertIn("bank-b", {r[0] for r in self.directory()})
        # a parent neither in the file nor stored is still refused
        self.assert_refused("orphans.conf", members.replace('"bank-b"', '"bank-c"')
                            .replace('parent = "bank"', 'parent = "nobank"'), 1, "nobank")
        # a cycle through stored organisations: bank's parent would be bank-a,
        # whose stored parent is bank
        cycle = GOOD.split('organisation "bank-a"')[0].replace(
            'kind = "ceptoar"', 'kind = "ceptoar"\n  parent = "bank-a"')
        self.assert_refused("cycle2.conf", cycle, 1, "cycle")

    def test_unknown_timezone_is_refused(self):
        self.w.write_config('timezone = "Mars/Olympus_Mons"')
        p = self.w.run("contacts", "list")
        self.assertEqual(p.returncode, 2)
        self.assertIn("Mars/Olympus_Mons", p.stderr)

    def test_missing_config_is_a_usage_error(self):
        p = self.w.run("--config", os.path.join(self.w.path, "nope.conf"), "contacts", "list")
        # the first --config is the workdir's; the later one wins
        self.assertEqual(p.returncode, 2)
        self.assertIn("nope.conf", p.stderr)


if __name__ == "__main__":
    main()
