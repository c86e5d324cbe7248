/*
 * Unit tests for contacts/parse_conf.c: a directory file in libconfuse
 * syntax read into the model with every field and line, each kind of
 * error reported as exactly one "FILE:LINE: ..." line, and libconfuse's
 * habits worked around (merged titles, lines after comments, unclosed
 * sections, unquoted AMBER+STRICT).
 *
 * The fixtures are in test/data/contacts; the tests run from there so that
 * diagnostics name the file as the fixtures are named.
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
 * Parses text written to a temporary file called NAME.conf in TMPDIR,
 * and checks the diagnostics, with "NAME.conf" standing for the path.
 */
static int parse_text(const char *text, size_t len, struct directory *d,
		      const char *const *want, size_t n)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	struct diag_list dl = {0};
	char *path;
	FILE *f;
	int r;

	assert_true(asprintf(&path, "%s/pocalert-parse-conf-%d.conf", dir,
			     (int)getpid()) > 0);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	fclose(f);
	r = dir_parse_conf(path, d, &dl);
	unlink(path);
	for (size_t i = 0; i < dl.n; i++) {
		/* Show the diagnostics as if the file were called t.conf. */
		size_t plen = strlen(path);

		assert_memory_equal(dl.lines[i], path, plen);
		memmove(dl.lines[i] + 6, dl.lines[i] + plen,
			strlen(dl.lines[i] + plen) + 1);
		memcpy(dl.lines[i], "t.conf", 6);
	}
	assert_diags(&dl, want, n);
	diag_clear(&dl);
	free(path);
	return r;
}

#define TEXT(s) s, sizeof(s) - 1

static void test_valid(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	const struct dir_org *o;
	const struct dir_contact *c;
	const struct dir_method *m;

	(void)state;
	assert_int_equal(dir_parse_conf("valid.conf", &d, &dl), 0);
	assert_diags(&dl, NULL, 0);
	assert_int_equal(d.n_orgs, 2);

	o = &d.orgs[0];
	assert_string_equal(o->id, "bank");
	assert_string_equal(o->name, "銀行等CEPTOAR");
	assert_string_equal(o->name_en, "Banks CEPTOAR");
	assert_string_equal(o->sector, "finance");
	assert_int_equal(o->kind, DIR_KIND_CEPTOAR);
	assert_null(o->parent);
	assert_int_equal(o->hours.days, 0x3E);
	assert_int_equal(o->hours.open_min, 9 * 60 + 30);
	assert_int_equal(o->hours.close_min, 17 * 60);
	assert_string_equal(o->hours.tz, "Asia/Tokyo");
	/* Lines survive the comments above: libconfuse alone says 11. */
	assert_int_equal(o->line, 7);
	assert_int_equal(o->n_contacts, 2);

	c = &o->contacts[0];
	assert_string_equal(c->id, "desk");
	assert_string_equal(c->name, "銀行等CEPTOAR 緊急窓口");
	assert_int_equal(c->role, DIR_ROLE_PRIMARY);
	assert_string_equal(c->language, "ja");
	assert_int_equal(c->line, 14);
	/* Two "mail" methods stay two methods, in file order. */
	assert_int_equal(c->n_methods, 3);
	m = &c->methods[0];
	assert_int_equal(m->channel, DIR_CHANNEL_MAIL);
	assert_string_equal(m->address, "desk@bank.example.jp");
	assert_int_equal(m->max_tlp, TLP_AMBER_STRICT);
	assert_int_equal(m->charset, DIR_CHARSET_UTF8);
	assert_int_equal(m->order, 1);
	assert_int_equal(m->line, 18);
	m = &c->methods[1];
	assert_int_equal(m->channel, DIR_CHANNEL_VOICE);
	assert_string_equal(m->address, "+81312345678");
	assert_int_equal(m->max_tlp, TLP_AMBER);
	assert_int_equal(m->order, 2);
	assert_int_equal(m->line, 19);
	m = &c->methods[2];
	assert_int_equal(m->channel, DIR_CHANNEL_MAIL);
	assert_string_equal(m->address, "old@bank.example.jp");
	assert_int_equal(m->charset, DIR_CHARSET_ISO2022JP);
	assert_int_equal(m->order, 3);
	assert_int_equal(m->line, 20);

	c = &o->contacts[1];
	assert_string_equal(c->id, "deputy");
	assert_string_equal(c->language, "en");
	assert_int_equal(c->role, DIR_ROLE_DEPUTY);
	assert_int_equal(c->line, 22);
	assert_int_equal(c->n_methods, 1);
	/* order = 0 puts the deputy's SMS before everything else. */
	assert_int_equal(c->methods[0].order, 0);
	assert_int_equal(c->methods[0].channel, DIR_CHANNEL_SMS);
	assert_string_equal(c->methods[0].address, "+819012345678");
	assert_int_equal(c->methods[0].max_tlp, TLP_GREEN);

	o = &d.orgs[1];
	assert_string_equal(o->id, "mizuho-m1");
	/* 表, ソ and 能 come through as they are. */
	assert_string_equal(o->name, "表参道ソフト能登銀行");
	assert_null(o->name_en);
	assert_int_equal(o->kind, DIR_KIND_MEMBER);
	assert_string_equal(o->parent, "bank");
	assert_int_equal(o->line, 30);
	/* Default hours. */
	assert_int_equal(o->hours.days, 0x3E);
	assert_int_equal(o->hours.open_min, 9 * 60);
	assert_int_equal(o->hours.close_min, 18 * 60);
	c = &o->contacts[0];
	assert_string_equal(c->language, "ja");
	m = &c->methods[0];
	/* An unquoted URL keeps its "//"; WHITE reads as CLEAR. */
	assert_string_equal(m->address,
			    "https://hooks.mizuho-m1.example.jp/pocalert");
	assert_int_equal(m->max_tlp, TLP_CLEAR);
	assert_int_equal(m->line, 39);
	/* Each organisation counts its own order from 1. */
	assert_int_equal(m->order, 1);
	assert_int_equal(c->methods[1].channel, DIR_CHANNEL_FAX);
	assert_string_equal(c->methods[1].address, "+81600001234");
	assert_int_equal(c->methods[1].order, 2);
	directory_free(&d);
}

static void test_every_error(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	static const char *const want[] = {
		"errors.conf:8: role 'boss': unknown role (expected primary, "
		"deputy, holiday or duty)",
		"errors.conf:9: channel 'pigeon': unknown channel (expected "
		"mail, voice, sms, fax or web)",
		"errors.conf:10: address 'desk@@bank.example.jp': more than "
		"one '@'",
		"errors.conf:11: address '03-1234-567X': letters are not "
		"allowed",
		"errors.conf:12: address 'http://portal.example.jp/': http is "
		"only for loopback (127.0.0.0/8, localhost, [::1]): use https",
		"errors.conf:13: max_tlp 'PURPLE': unknown TLP level (expected "
		"CLEAR, GREEN, AMBER, AMBER+STRICT or RED)",
		"errors.conf:14: charset 'utf-8': a charset applies to mail "
		"only",
		"errors.conf:15: method 'mail': missing required field "
		"'address'",
		"errors.conf:25: kind 'bank': unknown kind (expected ceptoar, "
		"member or government)",
		"errors.conf:27: id 'Bad_Id': not a slug (a-z, 0-9 and '-', at "
		"most 64)",
		"errors.conf:37: contact 'x': missing required field 'name'",
		"errors.conf:17: duplicate contact id 'desk' in organisation "
		"'bank' (first at line 6)",
		"errors.conf:22: duplicate organisation id 'bank' (first at "
		"line 2)",
		"errors.conf:32: parent 'nobody' of organisation 'orphan': no "
		"such organisation",
		"errors.conf:39: parent cycle: loop-a -> loop-b -> loop-a",
	};

	(void)state;
	assert_int_equal(dir_parse_conf("errors.conf", &d, &dl), -EINVAL);
	assert_diags(&dl, want, sizeof(want) / sizeof(want[0]));
	/* What could be read stays, minus bad ids and bad methods. */
	assert_int_equal(d.n_orgs, 5);
	assert_null(dir_find_org(&d, "Bad_Id"));
	assert_int_equal(d.orgs[0].contacts[0].n_methods, 0);
	diag_clear(&dl);
	directory_free(&d);
}

static void test_missing_fields(void **state)
{
	struct directory d = {0};
	static const char text[] = "organisation \"gas\" {\n"
				   "\tname_en = \"Gas\"\n"
				   "\tcontact \"desk\" {\n"
				   "\t\tmethod \"fax\" { }\n"
				   "\t}\n"
				   "}\n";
	static const char *const want[] = {
		"t.conf:1: organisation 'gas': missing required field 'name'",
		"t.conf:1: organisation 'gas': missing required field 'sector'",
		"t.conf:1: organisation 'gas': missing required field 'kind'",
		"t.conf:3: contact 'desk': missing required field 'name'",
		"t.conf:3: contact 'desk': missing required field 'role'",
		"t.conf:4: method 'fax': missing required field 'address'",
	};

	(void)state;
	assert_int_equal(parse_text(TEXT(text), &d, want, 6), -EINVAL);
	directory_free(&d);
}

static void test_syntax_errors(void **state)
{
	struct directory d = {0};
	static const char unknown[] = "organisation \"a\" {\n"
				      "\tname = \"x\"\n"
				      "\tcolour = \"red\"\n"
				      "}\n";
	static const char *const want_unknown[] = {
		"t.conf:3: no such option 'colour'",
	};
	static const char unclosed[] = "# the end is missing\n"
				       "organisation \"a\" {\n"
				       "\tname = \"x\"\n";
	static const char *const want_unclosed[] = {
		"t.conf:2: '{' never closed (a '}' is missing)",
	};
	static const char unquoted[] =
		"organisation \"a\" {\n"
		"\tcontact \"b\" {\n"
		"\t\tmethod \"mail\" { max_tlp = AMBER+STRICT }\n"
		"\t}\n"
		"}\n";
	static const char *const want_unquoted[] = {
		"t.conf:3: '+' in an unquoted value: put the value in double "
		"quotes, as in \"AMBER+STRICT\"",
	};
	static const char string[] = "organisation \"a\" {\n"
				     "\tname = \"x\n"
				     "}\n";
	static const char *const want_string[] = {
		"t.conf:2: quoted string never ends (a closing \" is missing)",
	};
	static const char comment[] = "organisation \"a\" {\n"
				      "}\n"
				      "/* to the end\n";
	static const char *const want_comment[] = {
		"t.conf:3: comment never ends (a closing */ is missing)",
	};
	static const char brace[] = "organisation \"a\" {\n"
				    "}\n"
				    "}\n";
	static const char *const want_brace[] = {
		"t.conf:3: unexpected closing brace",
	};

	(void)state;
	assert_int_equal(parse_text(TEXT(unknown), &d, want_unknown, 1),
			 -EINVAL);
	assert_int_equal(parse_text(TEXT(unclosed), &d, want_unclosed, 1),
			 -EINVAL);
	assert_int_equal(parse_text(TEXT(unquoted), &d, want_unquoted, 1),
			 -EINVAL);
	assert_int_equal(parse_text(TEXT(string), &d, want_string, 1), -EINVAL);
	assert_int_equal(parse_text(TEXT(comment), &d, want_comment, 1),
			 -EINVAL);
	assert_int_equal(parse_text(TEXT(brace), &d, want_brace, 1), -EINVAL);
	assert_int_equal(d.n_orgs, 0);
}

static void test_invalid_utf8(void **state)
{
	struct directory d = {0};
	/* 銀 cut after its second byte, and a lone 0xFF. */
	static const char text[] = "organisation \"a\" {\n"
				   "\tname = \"\xE9\x8A\"\n"
				   "\tsector = \"x\" kind = \"member\"\n"
				   "\tname_en = \"\xFF\"\n"
				   "}\n";
	static const char *const want[] = {
		"t.conf:2: invalid UTF-8: byte 0xE9 at column 10",
		"t.conf:4: invalid UTF-8: byte 0xFF at column 13",
	};

	(void)state;
	assert_int_equal(parse_text(TEXT(text), &d, want, 2), -EINVAL);
	/* The bad bytes are gone: the model holds valid UTF-8 only. */
	assert_string_equal(d.orgs[0].name, "\xEF\xBF\xBD\xEF\xBF\xBD");
	directory_free(&d);
}

static void test_comments_and_lines(void **state)
{
	struct directory d = {0};
	static const char text[] =
		"# one\n"
		"## two\n"
		"// three\n"
		"/* four\n"
		"   five */ organisation \"a\" { # six\n"
		"\tname = \"x # not a comment\" // seven\n"
		"\tsector = 's' kind = \"member\"\n"
		"\tcontact \"c\" { name = \"n\" role = \"duty\"\n"
		"\t\tmethod \"voice\" {\n"
		"\t\t\taddress = \"03-1234-5678\" /* ten */ }\n"
		"\t\tmethod \"voice\" { address = \"bad\" }\n"
		"\t}\n"
		"}\n";
	static const char *const want[] = {
		"t.conf:11: address 'bad': letters are not allowed",
	};

	(void)state;
	assert_int_equal(parse_text(TEXT(text), &d, want, 1), -EINVAL);
	assert_int_equal(d.orgs[0].line, 5);
	assert_string_equal(d.orgs[0].name, "x # not a comment");
	assert_string_equal(d.orgs[0].sector, "s");
	assert_int_equal(d.orgs[0].contacts[0].line, 8);
	assert_int_equal(d.orgs[0].contacts[0].methods[0].line, 9);
	assert_int_equal(d.orgs[0].contacts[0].n_methods, 1);
	directory_free(&d);
}

static void test_empty_and_unreadable(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};

	(void)state;
	/* A file with nothing but comments is an empty directory. */
	assert_int_equal(parse_text(TEXT("# nothing yet\n"), &d, NULL, 0), 0);
	assert_int_equal(d.n_orgs, 0);
	assert_int_equal(dir_parse_conf("no-such-file.conf", &d, &dl), -ENOENT);
	assert_int_equal(dl.n, 1);
	assert_string_equal(dl.lines[0], "no-such-file.conf: cannot read: No "
					 "such file or directory");
	diag_clear(&dl);
}

static void test_appends(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};

	(void)state;
	/* A second file adds to what is there, and is checked against it. */
	assert_int_equal(dir_parse_conf("valid.conf", &d, &dl), 0);
	assert_int_equal(dir_parse_conf("valid.conf", &d, &dl), -EINVAL);
	assert_int_equal(d.n_orgs, 4);
	assert_int_equal(dl.n, 2);
	assert_string_equal(dl.lines[0], "valid.conf:7: duplicate organisation "
					 "id 'bank' (first at line 7)");
	diag_clear(&dl);
	directory_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid),
		cmocka_unit_test(test_every_error),
		cmocka_unit_test(test_missing_fields),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_comments_and_lines),
		cmocka_unit_test(test_empty_and_unreadable),
		cmocka_unit_test(test_appends),
	};

	return cmocka_run_group_tests(tests, go_to_fixtures, NULL);
}
