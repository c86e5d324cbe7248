/*
 * Unit tests for contacts/parse_csv.c: the directory as CSV, one row per
 * contact method. Columns in any order, RFC 4180 quoting with commas,
 * doubled quotes and line breaks inside fields, CRLF or LF, a UTF-8
 * byte-order mark, Excel's CP932, and every error as exactly one
 * "FILE:LINE: ..." line where LINE is the physical line a record starts.
 *
 * CP932 input is written from byte literals in this file: 表 is 95 5C, ソ
 * 83 5C and 能 94 5C, whose second byte is the ASCII backslash.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "contacts/directory.h"

#ifndef SOURCE_ROOT
#error "SOURCE_ROOT must name the source tree"
#endif

#define HEADER                                                                 \
	"org_id,org_name,sector,kind,parent,contact_id,contact_name,role,"     \
	"language,channel,address,max_tlp"

static int go_to_fixtures(void **state)
{
	(void)state;
	return chdir(SOURCE_ROOT "/test/data/contacts");
}

static void assert_diags(const struct diag_list *dl, const char *const *want,
			 size_t n)
{
	if (dl->n != n)
		for (size_t i = 0; i < dl->n; i++)
			print_message("got: %s\n", dl->lines[i]);
	assert_int_equal(dl->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(dl->lines[i], want[i]);
}

/*
 * Parses bytes written to a temporary .csv file in TMPDIR and checks the
 * diagnostics, with "t.csv" standing for the file's path.
 */
static int parse_bytes(const char *bytes, size_t len, const char *encoding,
		       struct directory *d, const char *const *want, size_t n)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct diag_list dl = {0};
	char *path;
	FILE *f;
	int r;

	assert_true(asprintf(&path, "%s/pocalert-parse-csv-%d.csv", dir,
			     (int)getpid()) > 0);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, len, f), len);
	fclose(f);
	r = dir_parse_csv(path, encoding, d, &dl);
	unlink(path);
	for (size_t i = 0; i < dl.n; i++) {
		size_t plen = strlen(path);

		assert_memory_equal(dl.lines[i], path, plen);
		memmove(dl.lines[i] + 5, dl.lines[i] + plen,
			strlen(dl.lines[i] + plen) + 1);
		memcpy(dl.lines[i], "t.csv", 5);
	}
	assert_diags(&dl, want, n);
	diag_clear(&dl);
	free(path);
	return r;
}

#define BYTES(s) s, sizeof(s) - 1

static void test_valid(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	const struct dir_org *o;
	const struct dir_contact *c;

	(void)state;
	assert_int_equal(dir_parse_csv("valid.csv", NULL, &d, &dl), 0);
	assert_diags(&dl, NULL, 0);
	assert_int_equal(d.n_orgs, 2);

	o = &d.orgs[0];
	assert_string_equal(o->id, "bank");
	assert_string_equal(o->name, "銀行等CEPTOAR");
	assert_string_equal(o->name_en, "Banks CEPTOAR");
	assert_string_equal(o->sector, "finance");
	assert_int_equal(o->kind, DIR_KIND_CEPTOAR);
	assert_null(o->parent);
	assert_int_equal(o->hours.open_min, 9 * 60 + 30);
	assert_int_equal(o->hours.close_min, 17 * 60);
	assert_string_equal(o->hours.tz, "Asia/Tokyo");
	assert_int_equal(o->line, 2);
	assert_int_equal(o->n_contacts, 2);

	/* The desk's name spans two lines of the file, in every row. */
	c = &o->contacts[0];
	assert_string_equal(c->id, "desk");
	assert_string_equal(c->name, "銀行等CEPTOAR 緊急窓口");
	assert_int_equal(c->line, 2);
	assert_int_equal(c->n_methods, 3);
	assert_int_equal(c->methods[0].line, 2);
	assert_int_equal(c->methods[1].line, 4);
	assert_int_equal(c->methods[2].line, 6);
	assert_string_equal(c->methods[0].address, "desk@bank.example.jp");
	assert_int_equal(c->methods[0].max_tlp, TLP_AMBER_STRICT);
	assert_int_equal(c->methods[0].order, 1);
	assert_string_equal(c->methods[1].address, "+81312345678");
	assert_int_equal(c->methods[1].max_tlp, TLP_AMBER);
	assert_int_equal(c->methods[1].order, 2);
	assert_int_equal(c->methods[2].charset, DIR_CHARSET_ISO2022JP);
	assert_int_equal(c->methods[2].order, 3);

	c = &o->contacts[1];
	assert_string_equal(c->name, "佐藤 健");
	assert_string_equal(c->language, "en");
	assert_int_equal(c->line, 8);
	assert_int_equal(c->methods[0].order, 0);
	assert_int_equal(c->methods[0].channel, DIR_CHANNEL_SMS);

	/* A blank line is skipped, and lines still count. */
	o = &d.orgs[1];
	assert_string_equal(o->id, "mizuho-m1");
	assert_string_equal(o->name, "表参道ソフト能登銀行, 本店");
	assert_null(o->name_en);
	assert_string_equal(o->parent, "bank");
	assert_int_equal(o->line, 10);
	c = &o->contacts[0];
	assert_string_equal(c->name, "情報システム部 \"CSIRT\"");
	assert_string_equal(c->language, "ja");
	assert_int_equal(c->methods[0].max_tlp, TLP_CLEAR);
	assert_int_equal(c->methods[0].order, 1);
	assert_int_equal(c->methods[1].line, 11);
	assert_string_equal(c->methods[1].address, "+81600001234");
	directory_free(&d);
}

static void test_every_error(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	static const char *const want[] = {
		"errors.csv:2: role 'boss': unknown role (expected primary, "
		"deputy, holiday or duty)",
		"errors.csv:3: channel 'pigeon': unknown channel (expected "
		"mail, voice, sms, fax or web)",
		"errors.csv:4: address 'desk@@bank.example.jp': more than one "
		"'@'",
		"errors.csv:5: address '03-1234-567X': letters are not allowed",
		"errors.csv:6: address 'http://portal.example.jp/': http is "
		"only for loopback (127.0.0.0/8, localhost, [::1]): use https",
		"errors.csv:7: max_tlp 'PURPLE': unknown TLP level (expected "
		"CLEAR, GREEN, AMBER, AMBER+STRICT or RED)",
		"errors.csv:8: org_name '銀行': disagrees with '銀行等CEPTOAR' "
		"given for organisation 'bank' on line 2",
		"errors.csv:9: contact_name '窓口X': disagrees with '窓口' "
		"given for contact 'desk' of organisation 'bank' on line 2",
		"errors.csv:10: org_id 'Bad_Id': not a slug (a-z, 0-9 and '-', "
		"at most 64)",
		"errors.csv:12: kind 'bank': unknown kind (expected ceptoar, "
		"member or government)",
		"errors.csv:13: 3 fields where the header has 12",
		"errors.csv:16: contact_id 'Desk!': not a slug (a-z, 0-9 and "
		"'-', at most 64)",
		"errors.csv:11: parent 'nobody' of organisation 'orphan': no "
		"such organisation",
		"errors.csv:14: parent cycle: loop-a -> loop-b -> loop-a",
	};

	(void)state;
	assert_int_equal(dir_parse_csv("errors.csv", NULL, &d, &dl), -EINVAL);
	assert_diags(&dl, want, sizeof(want) / sizeof(want[0]));
	diag_clear(&dl);
	directory_free(&d);
}

static void test_header_errors(void **state)
{
	struct directory d = {0};
	static const char text[] =
		"org_id,org_name,sector,kind,contact_id,contact_name,role,"
		"channel,address,colour,channel\n"
		"bank,x,finance,ceptoar,desk,y,primary,mail,a@b.jp,red,mail\n";
	static const char *const want[] = {
		"t.csv:1: unknown column 'colour'",
		"t.csv:1: column 'channel' appears twice",
		"t.csv:1: missing required column 'parent'",
		"t.csv:1: missing required column 'language'",
		"t.csv:1: missing required column 'max_tlp'",
	};
	static const char *const want_empty[] = {
		"t.csv: no header row (expected the columns "
		"org_id,org_name,...)",
	};

	(void)state;
	/* With a bad header no row is read: its columns mean nothing. */
	assert_int_equal(parse_bytes(BYTES(text), NULL, &d, want, 5), -EINVAL);
	assert_int_equal(d.n_orgs, 0);
	assert_int_equal(parse_bytes(BYTES("\n\n"), NULL, &d, want_empty, 1),
			 -EINVAL);
}

static void test_bom_crlf_and_blank_rows(void **state)
{
	struct directory d = {0};
	static const char text[] =
		"\xEF\xBB\xBF" HEADER "\r\n"
		"gas,ＧＡＳ,gas,ceptoar,,desk,窓口,primary,,mail,"
		"desk@gas.example.jp,\r\n"
		",,,,,,,,,,,\r\n"
		"\r\n"
		"gas,ＧＡＳ,gas,ceptoar,,desk,窓口,primary,,voice,"
		"\"03-0000-1110\",\r\n";

	(void)state;
	/* The mark is not part of "org_id"; the empty rows are skipped. */
	assert_int_equal(parse_bytes(BYTES(text), NULL, &d, NULL, 0), 0);
	assert_int_equal(d.n_orgs, 1);
	assert_string_equal(d.orgs[0].name, "ＧＡＳ");
	assert_int_equal(d.orgs[0].contacts[0].n_methods, 2);
	assert_int_equal(d.orgs[0].contacts[0].methods[1].line, 5);
	assert_string_equal(d.orgs[0].contacts[0].methods[1].address,
			    "+81300001110");
	directory_free(&d);
}

static void test_multiline_fields_keep_lines(void **state)
{
	struct directory d = {0};
	static const char text[] = HEADER
		"\n"
		"a,\"A\n社\",gas,member,,d,\"x, \"\"y\"\"\n\nz\",primary,,"
		"mail,bad-address,\n"
		"b,B,gas,member,,d,n,primary,,fax,0,\n"
		"c,\"C\r\n\",gas,member,,d,n,boss,,fax,03-0000-2110,\n";
	static const char *const want[] = {
		"t.csv:2: address 'bad-address': no '@'",
		"t.csv:6: address '0': too short (under 8 digits)",
		("t.csv:7: role 'boss': unknown role (expected primary, deputy, "
		 "holiday or duty)"),
	};

	(void)state;
	assert_int_equal(parse_bytes(BYTES(text), NULL, &d, want, 3), -EINVAL);
	assert_string_equal(d.orgs[0].name, "A 社");
	/* Line breaks fold to a space each; the doubled quotes are one. */
	assert_string_equal(d.orgs[0].contacts[0].name, "x, \"y\"  z");
	assert_int_equal(d.orgs[1].line, 6);
	assert_int_equal(d.orgs[2].line, 7);
	assert_string_equal(d.orgs[2].name, "C ");
	directory_free(&d);
}

static void test_cp932(void **state)
{
	struct directory d = {0};
	/*
	 * 表ソ能①㈱ｱｲｳ as org_name, ソフト as a quoted contact name that
	 * holds a comma; in UTF-8 the name must come out byte for byte.
	 */
	static const char text[] =
		HEADER "\r\n"
		       "x,\x95\x5c\x83\x5c\x94\x5c\x87\x40\x87\x8a\xb1\xb2\xb3,"
		       "finance,ceptoar,,desk,\"\x83\x5c\x83\x74\x83\x67, "
		       "\x95\x5c\",primary,,mail,desk@x.example.jp,\r\n";
	static const char *const want_utf8[] = {
		"t.csv:2: invalid UTF-8: byte 0x95 at column 3",
	};

	(void)state;
	assert_int_equal(parse_bytes(BYTES(text), "cp932", &d, NULL, 0), 0);
	assert_int_equal(d.n_orgs, 1);
	assert_string_equal(d.orgs[0].name, "\xE8\xA1\xA8"   /* 表 */
					    "\xE3\x82\xBD"   /* ソ */
					    "\xE8\x83\xBD"   /* 能 */
					    "\xE2\x91\xA0"   /* ① */
					    "\xE3\x88\xB1"   /* ㈱ */
					    "\xEF\xBD\xB1"   /* ｱ */
					    "\xEF\xBD\xB2"   /* ｲ */
					    "\xEF\xBD\xB3"); /* ｳ */
	assert_string_equal(d.orgs[0].name, "表ソ能①㈱ｱｲｳ");
	assert_string_equal(d.orgs[0].contacts[0].name, "ソフト, 表");
	directory_free(&d);

	/* Read as UTF-8, the same bytes are wrong on line 2 only. */
	assert_int_equal(parse_bytes(BYTES(text), "utf-8", &d, want_utf8, 1),
			 -EINVAL);
	directory_free(&d);
	/* Without an encoding (auto) they are taken for the CP932 they are. */
	assert_int_equal(parse_bytes(BYTES(text), NULL, &d, NULL, 0), 0);
	assert_string_equal(d.orgs[0].name, "表ソ能①㈱ｱｲｳ");
	directory_free(&d);
	/* Every name Windows and Excel give CP932, in any case. */
	for (size_t i = 0; i < 5; i++) {
		static const char *const names[] = {
			"CP932", "Shift_JIS", "SJIS", "windows-31j", "auto"};

		assert_int_equal(
			parse_bytes(BYTES(text), names[i], &d, NULL, 0), 0);
		assert_string_equal(d.orgs[0].contacts[0].name, "ソフト, 表");
		directory_free(&d);
	}
}

/*
 * A UTF-8 file under --encoding cp932: its bytes are valid CP932 too, and
 * would import as mojibake (架空水道企業団 as 譫ｶ遨ｺ豌ｴ驕謎ｼ∵･ｭ蝗｣).
 */
static void test_utf8_under_cp932(void **state)
{
	struct directory d = {0};
	static const char text[] =
		HEADER "\n"
		       "w,架空水道企業団,water,member,,d,当直,primary,,mail,"
		       "a@w.example.jp,\n";
	static const char *const want[] = {
		"t.csv: the file is UTF-8 (its Japanese text is valid UTF-8), "
		"not CP932: reading it as CP932 would garble every Japanese "
		"character; use --encoding utf-8 or auto, or --force-encoding "
		"if it really is CP932",
	};

	(void)state;
	assert_int_equal(parse_bytes(BYTES(text), "cp932", &d, want, 1),
			 -EINVAL);
	assert_int_equal(d.n_orgs, 0);
	directory_free(&d);
	/* Forced, it is read as CP932: what the operator asked for. */
	assert_int_equal(parse_bytes(BYTES(text), "cp932!", &d, NULL, 0), 0);
	assert_string_equal(d.orgs[0].name, "譫ｶ遨ｺ豌ｴ驕謎ｼ∵･ｭ蝗｣");
	directory_free(&d);
	/* auto (the default) reads it as the UTF-8 it is. */
	assert_int_equal(parse_bytes(BYTES(text), NULL, &d, NULL, 0), 0);
	assert_string_equal(d.orgs[0].name, "架空水道企業団");
	directory_free(&d);
	/* ASCII only is both: no reason to refuse. */
	assert_int_equal(
		parse_bytes(BYTES(HEADER "\nw,W,water,member,,d,n,"
					 "primary,,mail,a@w.example.jp,"
					 "\n"),
			    "cp932", &d, NULL, 0),
		0);
	directory_free(&d);
}

/*
 * A file refused before it is split (UTF-8 text, with a NUL, read as
 * CP932) is reported, and nothing is parsed from no text: main computed
 * NULL + 0 there, which clang's UBSan reports (fuzz-csv found it; gcc's
 * does not check it, so under build-san this only shows the outcome).
 */
static void test_undecodable(void **state)
{
	/* The input fuzz-csv found, as it was. */
	static const char bytes[] =
		"org_id,kind,org_name,name_en,s\x00odress,max_tlp,charset"
		",order\x0A"
		"bank,ceptoar,\xE9\x8A\x80\xE8\xA1\x8C\xE7"
		"\xAD\x89"
		"CEPTOAR,Banks CEPTOAR,finance,,mon-fri addres"
		"s,max_tl]p,chaepuea";
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct directory d = {0};
	struct diag_list dl = {0};
	char *path;
	FILE *f;

	(void)state;
	assert_true(asprintf(&path, "%s/pocalert-undecodable-%d.csv", dir,
			     (int)getpid()) > 0);
	f = fopen(path, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite(bytes, 1, sizeof(bytes) - 1, f),
			 sizeof(bytes) - 1);
	fclose(f);
	assert_int_equal(dir_parse_csv(path, "cp932", &d, &dl), -EINVAL);
	assert_true(dl.n >= 1);
	assert_int_equal(d.n_orgs, 0);
	unlink(path);
	free(path);
	diag_clear(&dl);
	directory_free(&d);
}

/* 外字 (CP932 0xF040-0xF9FC): refused with the row and the column. */
static void test_gaiji(void **state)
{
	struct directory d = {0};
	static const char text[] = HEADER
		"\n"
		"x,\x8b\xf3\xf0\x40,gas,member,,d,\x83\x5c\xf0\x9f,primary,,"
		"mail,a@x.example.jp,\n"
		"y,\xf0\x9f,gas,member,,d,n,primary,,mail,b@x.example.jp,\n"
		"z,\xf9\xfc,gas,member,,d,n,primary,,mail,c@x.example.jp,\n";
	static const char *const want[] = {
		"t.csv:2: column 4: 外字 (a user-defined character, CP932 "
		"0xF040): recipients cannot read it; write it with standard "
		"characters",
		"t.csv:3: column 3: 外字 (a user-defined character, CP932 "
		"0xF09F): recipients cannot read it; write it with standard "
		"characters",
		"t.csv:4: column 3: 外字 (a user-defined character, CP932 "
		"0xF9FC): recipients cannot read it; write it with standard "
		"characters",
	};
	static const char *const want_utf8[] = {
		"t.csv:2: column 4: U+E000 is a private-use character (外字): "
		"recipients cannot read it",
	};

	(void)state;
	assert_int_equal(parse_bytes(BYTES(text), "cp932", &d, want, 3),
			 -EINVAL);
	directory_free(&d);
	assert_int_equal(parse_bytes(BYTES(HEADER "\nx,空\xee\x80\x80,gas,"
						  "member,,d,n,primary,,mail,"
						  "a@x.example.jp,\n"),
				     NULL, &d, want_utf8, 1),
			 -EINVAL);
	directory_free(&d);
}

static void test_bad_cp932(void **state)
{
	struct directory d = {0};
	/* 0x81 0x20 starts no character; 0x95 at the very end is cut. */
	static const char text[] = HEADER
		"\n"
		"x,ok,gas,member,,d,n,primary,,mail,a@x.example.jp,\n"
		"y,\x81\x20\x81\x20,gas,member,,d,n,primary,,mail,"
		"b@x.example.jp,\n"
		"z,\x83\x5c,gas,member,,d,n,primary,,mail,c@x.example.jp,\x95";
	static const char *const want[] = {
		"t.csv:3: invalid CP932: byte 0x81 at column 3",
		"t.csv:4: file ends inside a CP932 character",
		("t.csv:4: max_tlp '\xEF\xBF\xBD': unknown TLP level (expected "
		 "CLEAR, GREEN, AMBER, AMBER+STRICT or RED)"),
	};
	static const char *const want_bom[] = {
		"t.csv: the file is UTF-8 (it starts with a UTF-8 byte-order "
		"mark), not CP932: reading it as CP932 would garble every "
		"Japanese character; use --encoding utf-8 or auto, or "
		"--force-encoding if it really is CP932",
	};

	static const char *const want_auto[] = {
		"t.csv:3: invalid CP932: byte 0x81 at column 5",
	};
	/* Two Japanese lines, one stray byte after "y,表表" (6 bytes). */
	static const char stray[] = HEADER
		"\n"
		"x,\x95\x5c,gas,member,,d,n,primary,,mail,a@x.example.jp,\n"
		"y,\x95\x5c\x95\x5c\x81\x20,gas,member,,d,n,primary,,mail,"
		"b@x.example.jp,\n";

	(void)state;
	/*
	 * Without --encoding, a CP932 file with one bad byte is reported as
	 * CP932 at that byte, its column counted in characters.
	 */
	assert_int_equal(parse_bytes(BYTES(stray), NULL, &d, want_auto, 1),
			 -EINVAL);
	directory_free(&d);
	/* Every line is still read; bad bytes become U+FFFD. */
	assert_int_equal(parse_bytes(BYTES(text), "sjis", &d, want, 3),
			 -EINVAL);
	assert_int_equal(d.n_orgs, 3);
	assert_string_equal(d.orgs[1].name, "\xEF\xBF\xBD \xEF\xBF\xBD ");
	assert_string_equal(d.orgs[2].name, "ソ");
	directory_free(&d);
	assert_int_equal(parse_bytes(BYTES("\xEF\xBB\xBF" HEADER "\n"), "cp932",
				     &d, want_bom, 1),
			 -EINVAL);
}

static void test_broken_quotes(void **state)
{
	struct directory d = {0};
	static const char after[] = HEADER
		"\n"
		"a,\"A\"x,gas,member,,d,n,primary,,mail,a@x.example.jp,\n"
		"b,B,gas,member,,d,n,primary,,mail,b@x.example.jp,\n";
	static const char *const want_after[] = {
		"t.csv:2: text after the closing '\"' of a quoted field",
	};
	static const char open[] =
		HEADER "\n"
		       "a,A,gas,member,,d,n,primary,,mail,a@x.example.jp,\n"
		       "b,\"B,gas,member,,d,n,primary,,mail,b@x.example.jp,\n"
		       "c,C,gas,member,,d,n,primary,,mail,c@x.example.jp,\n";
	static const char *const want_open[] = {
		"t.csv:3: quoted field never ends (a '\"' is missing)",
	};

	(void)state;
	/* The broken row is skipped; the next one is read. */
	assert_int_equal(parse_bytes(BYTES(after), NULL, &d, want_after, 1),
			 -EINVAL);
	assert_int_equal(d.n_orgs, 1);
	assert_string_equal(d.orgs[0].id, "b");
	directory_free(&d);
	/* A quote never closed swallows the rest: nothing after is read. */
	assert_int_equal(parse_bytes(BYTES(open), NULL, &d, want_open, 1),
			 -EINVAL);
	assert_int_equal(d.n_orgs, 1);
	directory_free(&d);
}

static void test_optional_columns(void **state)
{
	struct directory d = {0};
	static const char text[] =
		"order,charset,timezone,hours,name_en," HEADER "\n"
		"2,,,sat-sun 10:00-16:00,Gas,gas,G,gas,ceptoar,,d,n,primary,,"
		"voice,03-0000-1110,\n"
		"1,ISO-2022-JP,,sat-sun 10:00-16:00,Gas,gas,G,gas,ceptoar,,d,n,"
		"primary,,mail,d@gas.example.jp,RED\n"
		",utf-8,,sat-sun 10:00-16:00,Gas,gas,G,gas,ceptoar,,d,n,"
		"primary,,fax,03-0000-2110,\n"
		"x,,Mars/Base,sun 25:00-26:00,,h,H,gas,member,gas,d,n,"
		"primary,,fax,03-0000-2111,\n";
	static const char *const want[] = {
		"t.csv:4: charset 'utf-8': a charset applies to mail only",
		("t.csv:5: hours 'sun 25:00-26:00': expected times like "
		 "09:00-18:00"),
		"t.csv:5: order 'x': not a whole number from 0 to 999999999",
	};

	(void)state;
	assert_int_equal(parse_bytes(BYTES(text), NULL, &d, want, 3), -EINVAL);
	assert_string_equal(d.orgs[0].name_en, "Gas");
	assert_int_equal(d.orgs[0].hours.days, 0x41);
	assert_int_equal(d.orgs[0].contacts[0].methods[0].order, 2);
	assert_int_equal(d.orgs[0].contacts[0].methods[1].order, 1);
	assert_int_equal(d.orgs[0].contacts[0].methods[1].charset,
			 DIR_CHARSET_ISO2022JP);
	assert_int_equal(d.orgs[0].contacts[0].methods[1].max_tlp, TLP_RED);
	/* A plausible zone name is taken; pocalert has no zone database. */
	assert_string_equal(d.orgs[1].hours.tz, "Mars/Base");
	directory_free(&d);
}

static void test_unreadable(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};

	(void)state;
	assert_int_equal(dir_parse_csv("no-such-file.csv", NULL, &d, &dl),
			 -ENOENT);
	assert_int_equal(dl.n, 1);
	assert_string_equal(dl.lines[0], "no-such-file.csv: cannot read: No "
					 "such file or directory");
	diag_clear(&dl);
	assert_int_equal(dir_parse_csv("valid.csv", "latin-1", &d, &dl),
			 -EINVAL);
	assert_string_equal(dl.lines[0], "valid.csv: unknown encoding "
					 "'latin-1' (expected auto, utf-8 or "
					 "cp932)");
	diag_clear(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_header_errors),
		cmocka_unit_test(test_bom_crlf_and_blank_rows),
		cmocka_unit_test(test_multiline_fields_keep_lines),
		cmocka_unit_test(test_cp932),
		cmocka_unit_test(test_bad_cp932),
		cmocka_unit_test(test_utf8_under_cp932),
		cmocka_unit_test(test_gaiji),
		cmocka_unit_test(test_undecodable),
		cmocka_unit_test(test_broken_quotes),
		cmocka_unit_test(test_optional_columns),
		cmocka_unit_test(test_unreadable),
	};

	return cmocka_run_group_tests(tests, go_to_fixtures, NULL);
}
