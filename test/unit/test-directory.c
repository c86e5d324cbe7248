/*
 * Unit tests for contacts/directory.c: the names of the enumerations,
 * growing and freeing a directory, lookups, the field setters the parsers
 * share, reading text files, the choice of parser by extension; and the
 * two directories shipped with the source: contacts/sample/ceptoars.conf
 * and what scripts/gen-directory writes, both of which must parse clean.
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

/* Writes data to a new file whose name ends in suffix; caller unlinks. */
static char *write_temp(const char *suffix, const void *data, size_t len)
{
	const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/pocalert-dir-XXXXXX%s", dir, suffix) >
		    0);
	fd = mkstemps(path, (int)strlen(suffix));
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
	return path;
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

static void test_names(void **state)
{
	enum dir_channel ch;
	enum dir_role role;
	enum dir_kind kind;
	enum dir_charset cs;

	(void)state;
	for (int i = 0; i < DIR_CHANNEL_COUNT; i++) {
		assert_int_equal(dir_channel_parse(dir_channel_name(i), &ch),
				 0);
		assert_int_equal(ch, i);
	}
	for (int i = 0; i < DIR_ROLE_COUNT; i++) {
		assert_int_equal(dir_role_parse(dir_role_name(i), &role), 0);
		assert_int_equal(role, i);
	}
	for (int i = 0; i < DIR_KIND_COUNT; i++) {
		assert_int_equal(dir_kind_parse(dir_kind_name(i), &kind), 0);
		assert_int_equal(kind, i);
	}
	assert_string_equal(dir_channel_name(DIR_CHANNEL_SMS), "sms");
	assert_string_equal(dir_role_name(DIR_ROLE_HOLIDAY), "holiday");
	assert_string_equal(dir_kind_name(DIR_KIND_GOVERNMENT), "government");
	assert_string_equal(dir_charset_name(DIR_CHARSET_ISO2022JP),
			    "iso-2022-jp");
	/* Files write the names exactly; charsets are case-insensitive. */
	ch = DIR_CHANNEL_WEB;
	assert_int_equal(dir_channel_parse("Mail", &ch), -EINVAL);
	assert_int_equal(ch, DIR_CHANNEL_WEB);
	assert_int_equal(dir_channel_parse("telegram", &ch), -EINVAL);
	assert_int_equal(dir_role_parse("boss", &role), -EINVAL);
	assert_int_equal(dir_kind_parse("", &kind), -EINVAL);
	assert_int_equal(dir_kind_parse(NULL, &kind), -EINVAL);
	assert_int_equal(dir_charset_parse("ISO-2022-JP", &cs), 0);
	assert_int_equal(cs, DIR_CHARSET_ISO2022JP);
	assert_int_equal(dir_charset_parse("shift_jis", &cs), -EINVAL);
}

static void test_append_and_free(void **state)
{
	struct directory d = {0};
	struct dir_contact *c;
	struct dir_method *m;
	char id[16];

	(void)state;
	for (int i = 0; i < 1000; i++) {
		struct dir_org *o = dir_org_append(&d);

		assert_non_null(o);
		/* Appended zeroed, with the default business hours. */
		assert_null(o->id);
		assert_int_equal(o->n_contacts, 0);
		assert_int_equal(o->hours.days, 0x3E);
		assert_int_equal(o->hours.open_min, 9 * 60);
		assert_int_equal(o->hours.close_min, 18 * 60);
		assert_string_equal(o->hours.tz, "Asia/Tokyo");
		snprintf(id, sizeof(id), "org-%d", i);
		o->id = strdup(id);
	}
	assert_int_equal(d.n_orgs, 1000);
	assert_true(d.cap_orgs >= 1000);
	/* Growing kept what was there. */
	assert_string_equal(d.orgs[0].id, "org-0");
	assert_string_equal(d.orgs[999].id, "org-999");
	assert_ptr_equal(dir_find_org(&d, "org-500"), &d.orgs[500]);
	assert_null(dir_find_org(&d, "org-1000"));
	assert_null(dir_find_org(&d, NULL));

	c = dir_contact_append(&d.orgs[3]);
	assert_non_null(c);
	assert_null(c->language);
	assert_int_equal(c->role, DIR_ROLE_PRIMARY);
	c->id = strdup("desk");
	for (int i = 0; i < 5; i++) {
		m = dir_method_append(c);
		assert_non_null(m);
		assert_int_equal(m->max_tlp, TLP_AMBER);
		assert_int_equal(m->charset, DIR_CHARSET_UTF8);
		assert_int_equal(m->order, 0);
		m->address = strdup("desk@example.jp");
	}
	assert_int_equal(d.orgs[3].contacts[0].n_methods, 5);

	directory_free(&d);
	assert_null(d.orgs);
	assert_int_equal(d.n_orgs, 0);
	assert_int_equal(d.cap_orgs, 0);
	/* Freed is empty and usable again; NULL is a no-op. */
	assert_non_null(dir_org_append(&d));
	directory_free(&d);
	directory_free(NULL);
}

static void test_org_setters(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	struct dir_org *o = dir_org_append(&d);
	static const char *const want[] = {
		"f.conf:1: id 'Bank': not a slug (a-z, 0-9 and '-', at most "
		"64)",
		"f.conf:2: org_name is empty",
		"f.conf:3: name 'a\\x09b': contains a control character",
		"f.conf:4: kind 'bank': unknown kind (expected ceptoar, member "
		"or government)",
		"f.conf:5: parent 'Bank': not a slug (a-z, 0-9 and '-', at "
		"most 64)",
		"f.conf:6: hours 'mon-fri 18:00-09:00': closing time must be "
		"after opening time (hours past midnight are not supported)",
		"f.conf:7: timezone 'Asia/../Tokyo': not an IANA time zone "
		"name such as Asia/Tokyo",
		"f.conf:8: sector is empty",
	};

	(void)state;
	assert_int_equal(dir_org_set(o, "id", "bank", "f.conf", 1, &dl), 0);
	assert_int_equal(
		dir_org_set(o, "org_name", "銀行等CEPTOAR", "f.conf", 1, &dl),
		0);
	/* A line break in a name is a spreadsheet's wrap: one space. */
	assert_int_equal(
		dir_org_set(o, "name_en", "Banks\r\nCEPTOAR", "f.conf", 1, &dl),
		0);
	assert_string_equal(o->name_en, "Banks CEPTOAR");
	assert_int_equal(dir_org_set(o, "name_en", "", "f.conf", 1, &dl), 0);
	assert_null(o->name_en);
	assert_int_equal(dir_org_set(o, "kind", "member", "f.conf", 1, &dl), 0);
	assert_int_equal(o->kind, DIR_KIND_MEMBER);
	assert_int_equal(dir_org_set(o, "parent", "nisc", "f.conf", 1, &dl), 0);
	assert_string_equal(o->parent, "nisc");
	assert_int_equal(dir_org_set(o, "hours", "sat-sun 10:00-16:00",
				     "f.conf", 1, &dl),
			 0);
	assert_int_equal(o->hours.days, 0x41);
	assert_int_equal(
		dir_org_set(o, "timezone", "Etc/GMT-9", "f.conf", 1, &dl), 0);
	assert_string_equal(o->hours.tz, "Etc/GMT-9");
	assert_int_equal(dir_org_set(o, "timezone", "", "f.conf", 1, &dl), 0);
	assert_string_equal(o->hours.tz, "Asia/Tokyo");
	assert_int_equal(dir_org_set(o, "hours", "", "f.conf", 1, &dl), 0);
	assert_int_equal(o->hours.days, 0x3E);
	assert_int_equal(dl.n, 0);

	/* Bad values are reported and leave the field as it was. */
	assert_int_equal(dir_org_set(o, "id", "Bank", "f.conf", 1, &dl),
			 -EINVAL);
	assert_string_equal(o->id, "bank");
	assert_int_equal(dir_org_set(o, "org_name", "", "f.conf", 2, &dl),
			 -EINVAL);
	assert_int_equal(dir_org_set(o, "name", "a\tb", "f.conf", 3, &dl),
			 -EINVAL);
	assert_string_equal(o->name, "銀行等CEPTOAR");
	assert_int_equal(dir_org_set(o, "kind", "bank", "f.conf", 4, &dl),
			 -EINVAL);
	assert_int_equal(o->kind, DIR_KIND_MEMBER);
	assert_int_equal(dir_org_set(o, "parent", "Bank", "f.conf", 5, &dl),
			 -EINVAL);
	assert_string_equal(o->parent, "nisc");
	assert_int_equal(dir_org_set(o, "hours", "mon-fri 18:00-09:00",
				     "f.conf", 6, &dl),
			 -EINVAL);
	assert_int_equal(
		dir_org_set(o, "timezone", "Asia/../Tokyo", "f.conf", 7, &dl),
		-EINVAL);
	assert_int_equal(dir_org_set(o, "sector", "", "f.conf", 8, &dl),
			 -EINVAL);
	/* A field nobody knows is the caller's mistake, not the file's. */
	assert_int_equal(dir_org_set(o, "colour", "red", "f.conf", 9, &dl),
			 -ENOENT);
	assert_diags(&dl, want, 8);
	diag_clear(&dl);
	directory_free(&d);
}

static void test_contact_and_method_setters(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	struct dir_org *o = dir_org_append(&d);
	struct dir_contact *c = dir_contact_append(o);
	struct dir_method *m = dir_method_append(c);
	static const char *const want[] = {
		"x.csv:2: role 'boss': unknown role (expected primary, deputy, "
		"holiday or duty)",
		"x.csv:3: language 'fr': unknown language (expected ja or en)",
		"x.csv:4: charset 'utf-8': a charset applies to mail only",
		"x.csv:5: order '-1': not a whole number from 0 to 999999999",
		"x.csv:6: order '1234567890': not a whole number from 0 to "
		"999999999",
		"x.csv:7: address '03-1234': too short (under 8 digits)",
		"x.csv:8: max_tlp 'amber': unknown TLP level (expected CLEAR, "
		"GREEN, AMBER, AMBER+STRICT or RED)",
		"x.csv:9: charset 'shift_jis': unknown charset (expected utf-8 "
		"or iso-2022-jp)",
		"x.csv:10: channel 'pager': unknown channel (expected mail, "
		"voice, sms, fax or web)",
		"x.csv:11: address is empty",
	};

	(void)state;
	assert_int_equal(
		dir_contact_set(c, "contact_id", "desk", "x.csv", 1, &dl), 0);
	assert_int_equal(dir_contact_set(c, "contact_name", "窓口\n夜間",
					 "x.csv", 1, &dl),
			 0);
	/* Japanese has no spaces: two Japanese lines join with nothing. */
	assert_string_equal(c->name, "窓口夜間");
	assert_int_equal(dir_contact_set(c, "contact_name",
					 "施設課\r\n（当直）", "x.csv", 1, &dl),
			 0);
	assert_string_equal(c->name, "施設課（当直）");
	/* Latin on either side keeps one space. */
	assert_int_equal(dir_contact_set(c, "contact_name", "NISC\n当直",
					 "x.csv", 1, &dl),
			 0);
	assert_string_equal(c->name, "NISC 当直");
	assert_int_equal(dir_contact_set(c, "contact_name", "当直\nDesk 2",
					 "x.csv", 1, &dl),
			 0);
	assert_string_equal(c->name, "当直 Desk 2");
	assert_int_equal(dir_contact_set(c, "role", "duty", "x.csv", 1, &dl),
			 0);
	assert_int_equal(c->role, DIR_ROLE_DUTY);
	assert_int_equal(dir_contact_set(c, "language", "", "x.csv", 1, &dl),
			 0);
	assert_string_equal(c->language, "ja");
	assert_int_equal(dir_contact_set(c, "role", "boss", "x.csv", 2, &dl),
			 -EINVAL);
	assert_int_equal(dir_contact_set(c, "language", "fr", "x.csv", 3, &dl),
			 -EINVAL);
	assert_string_equal(c->language, "ja");

	assert_int_equal(dir_method_set(m, "channel", "voice", "x.csv", 1, &dl),
			 0);
	assert_int_equal(
		dir_method_set(m, "address", "03-1234-5678", "x.csv", 1, &dl),
		0);
	assert_string_equal(m->address, "+81312345678");
	/* An empty charset cell is no charset, whatever the channel. */
	assert_int_equal(dir_method_set(m, "charset", "", "x.csv", 1, &dl), 0);
	assert_int_equal(dir_method_set(m, "charset", "utf-8", "x.csv", 4, &dl),
			 -EINVAL);
	assert_int_equal(dir_method_set(m, "order", "7", "x.csv", 1, &dl), 0);
	assert_int_equal(m->order, 7);
	assert_int_equal(dir_method_set(m, "order", "", "x.csv", 1, &dl), 0);
	assert_int_equal(m->order, 7);
	assert_int_equal(dir_method_set(m, "order", "-1", "x.csv", 5, &dl),
			 -EINVAL);
	assert_int_equal(
		dir_method_set(m, "order", "1234567890", "x.csv", 6, &dl),
		-EINVAL);
	assert_int_equal(m->order, 7);
	assert_int_equal(
		dir_method_set(m, "address", "03-1234", "x.csv", 7, &dl),
		-EINVAL);
	assert_string_equal(m->address, "+81312345678");
	assert_int_equal(dir_method_set(m, "max_tlp", "WHITE", "x.csv", 1, &dl),
			 0);
	assert_int_equal(m->max_tlp, TLP_CLEAR);
	assert_int_equal(dir_method_set(m, "max_tlp", "", "x.csv", 1, &dl), 0);
	assert_int_equal(m->max_tlp, TLP_AMBER);
	assert_int_equal(dir_method_set(m, "max_tlp", "amber", "x.csv", 8, &dl),
			 -EINVAL);
	assert_int_equal(dir_method_set(m, "channel", "mail", "x.csv", 1, &dl),
			 0);
	assert_int_equal(
		dir_method_set(m, "charset", "ISO-2022-JP", "x.csv", 1, &dl),
		0);
	assert_int_equal(m->charset, DIR_CHARSET_ISO2022JP);
	assert_int_equal(
		dir_method_set(m, "charset", "shift_jis", "x.csv", 9, &dl),
		-EINVAL);
	assert_int_equal(
		dir_method_set(m, "channel", "pager", "x.csv", 10, &dl),
		-EINVAL);
	assert_int_equal(m->channel, DIR_CHANNEL_MAIL);
	assert_int_equal(dir_method_set(m, "address", "", "x.csv", 11, &dl),
			 -EINVAL);
	assert_diags(&dl, want, 10);
	diag_clear(&dl);
	directory_free(&d);
}

static void test_read_text(void **state)
{
	struct diag_list dl = {0};
	char *path, *text = NULL;
	size_t len = 0;
	static const char bom[] = "\xEF\xBB\xBF"
				  "a,b\n";
	static const char bad[] = "ok\nb\xFF"
				  "d\xC3\nfine\nnul\0here\n";

	(void)state;
	/* The byte-order mark is dropped. */
	path = write_temp(".csv", bom, sizeof(bom) - 1);
	assert_int_equal(dir_read_text(path, "UTF-8", &text, &len, &dl), 0);
	assert_string_equal(text, "a,b\n");
	assert_int_equal(len, 4);
	free(text);
	unlink(path);
	free(path);

	/* Bad bytes: one diag a line, each byte turned into U+FFFD. */
	path = write_temp(".csv", bad, sizeof(bad) - 1);
	assert_int_equal(dir_read_text(path, "utf-8", &text, &len, &dl),
			 -EINVAL);
	assert_string_equal(text, "ok\nb\xEF\xBF\xBD"
				  "d\xEF\xBF\xBD\nfine\nnul\xEF\xBF\xBDhere\n");
	assert_int_equal(len, strlen(text));
	assert_int_equal(dl.n, 2);
	assert_true(strcmp(dl.lines[0] + strlen(path),
			   ":2: invalid UTF-8: byte 0xFF at column 2") == 0);
	assert_true(strcmp(dl.lines[1] + strlen(path),
			   ":4: NUL byte at column 4") == 0);
	diag_clear(&dl);
	free(text);

	text = NULL;
	assert_int_equal(dir_read_text(path, "ebcdic", &text, &len, &dl),
			 -EINVAL);
	assert_null(text);
	assert_true(
		strcmp(dl.lines[0] + strlen(path),
		       ": unknown encoding 'ebcdic' (expected auto, utf-8 or "
		       "cp932)") == 0);
	diag_clear(&dl);
	unlink(path);

	assert_int_equal(dir_read_text(path, NULL, &text, &len, &dl), -ENOENT);
	assert_null(text);
	assert_int_equal(dl.n, 1);
	assert_true(strcmp(dl.lines[0] + strlen(path),
			   ": cannot read: No such file or directory") == 0);
	diag_clear(&dl);
	free(path);
}

static void test_parse_file_dispatch(void **state)
{
	static const char conf[] = "organisation \"gas\" {\n"
				   "\tname = \"GAS CEPTOAR\"\n"
				   "\tsector = \"gas\"\n"
				   "\tkind = \"ceptoar\"\n"
				   "}\n";
	static const char csv[] =
		"org_id,org_name,sector,kind,parent,contact_id,contact_name,"
		"role,language,channel,address,max_tlp\r\n"
		"gas,GAS CEPTOAR,gas,ceptoar,,desk,窓口,primary,,fax,"
		"03-0000-2110,GREEN\r\n";
	struct directory d = {0};
	struct diag_list dl = {0};
	char *path;

	(void)state;
	path = write_temp(".conf", conf, sizeof(conf) - 1);
	assert_int_equal(dir_parse_file(path, NULL, &d, &dl), 0);
	assert_int_equal(d.n_orgs, 1);
	assert_string_equal(d.orgs[0].name, "GAS CEPTOAR");
	/* A hand-written directory file is UTF-8 only. */
	assert_int_equal(dir_parse_file(path, "cp932", &d, &dl), -EINVAL);
	assert_int_equal(dl.n, 1);
	assert_true(strcmp(dl.lines[0] + strlen(path),
			   ": an encoding other than utf-8 applies to CSV "
			   "files only") == 0);
	diag_clear(&dl);
	unlink(path);
	free(path);
	directory_free(&d);

	/* Upper-case extensions, as Windows tools write them. */
	path = write_temp(".CSV", csv, sizeof(csv) - 1);
	assert_int_equal(dir_parse_file(path, "utf-8", &d, &dl), 0);
	assert_int_equal(d.n_orgs, 1);
	assert_string_equal(d.orgs[0].contacts[0].methods[0].address,
			    "+81300002110");
	unlink(path);
	free(path);
	directory_free(&d);

	assert_int_equal(dir_parse_file("contacts.xlsx", NULL, &d, &dl),
			 -EINVAL);
	assert_int_equal(dir_parse_file("dir.conf/data", NULL, &d, &dl),
			 -EINVAL);
	assert_int_equal(dl.n, 2);
	assert_string_equal(dl.lines[0],
			    "contacts.xlsx: unknown kind of directory file "
			    "(expected .conf or .csv)");
	assert_int_equal(d.n_orgs, 0);
	diag_clear(&dl);
}

static const char *const ceptoar_ids[] = {
	"t-ceptoar",
	"catv",
	"broadcast",
	"bank",
	"securities",
	"life-insurance",
	"nonlife-insurance",
	"aviation",
	"railway",
	"electricity",
	"gas",
	"local-government",
	"medical",
	"water",
	"logistics",
	"chemical",
	"credit",
	"petroleum",
};

static bool has_method(const struct dir_org *o, enum dir_channel ch,
		       const char *prefix)
{
	for (size_t i = 0; i < o->n_contacts; i++)
		for (size_t k = 0; k < o->contacts[i].n_methods; k++) {
			const struct dir_method *m = &o->contacts[i].methods[k];

			if (m->channel == ch &&
			    strncmp(m->address, prefix, strlen(prefix)) == 0)
				return true;
		}
	return false;
}

static void test_sample(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	const struct dir_org *o;

	(void)state;
	assert_int_equal(dir_parse_file(SOURCE_ROOT
					"/contacts/sample/ceptoars.conf",
					NULL, &d, &dl),
			 0);
	assert_diags(&dl, NULL, 0);
	assert_int_equal(d.n_orgs, 19);
	for (size_t i = 0; i < 18; i++) {
		unsigned roles = 0;

		o = dir_find_org(&d, ceptoar_ids[i]);
		assert_non_null(o);
		assert_int_equal(o->kind, DIR_KIND_CEPTOAR);
		assert_non_null(o->name_en);
		/* Every CEPTOAR: a desk, a deputy and a holiday contact. */
		for (size_t k = 0; k < o->n_contacts; k++)
			roles |= 1u << o->contacts[k].role;
		assert_int_equal(roles, (1u << DIR_ROLE_PRIMARY) |
						(1u << DIR_ROLE_DEPUTY) |
						(1u << DIR_ROLE_HOLIDAY));
		/* Everyone declared mail and phone. */
		assert_true(has_method(o, DIR_CHANNEL_MAIL, "desk@"));
		assert_true(has_method(o, DIR_CHANNEL_VOICE, "+81300001"));
	}
	o = dir_find_org(&d, "nisc");
	assert_non_null(o);
	assert_int_equal(o->kind, DIR_KIND_GOVERNMENT);
	assert_string_equal(o->sector, "government");
	assert_int_equal(o->contacts[0].role, DIR_ROLE_DUTY);
	/* Declared channels, as the domain notes list them. */
	o = dir_find_org(&d, "medical");
	assert_string_equal(o->name, "医療CEPTOAR");
	assert_true(has_method(o, DIR_CHANNEL_VOICE, "+818000009")); /* sat */
	assert_true(has_method(o, DIR_CHANNEL_SMS, "+819000001"));
	assert_true(has_method(o, DIR_CHANNEL_FAX, "+81300002"));
	assert_false(has_method(o, DIR_CHANNEL_WEB, ""));
	o = dir_find_org(&d, "bank");
	assert_true(has_method(o, DIR_CHANNEL_WEB, "https://"));
	assert_false(has_method(o, DIR_CHANNEL_FAX, ""));
	assert_int_equal(o->contacts[0].methods[0].max_tlp, TLP_AMBER_STRICT);
	directory_free(&d);
}

/* Runs gen-directory into a file with this suffix; caller unlinks. */
static char *generate(const char *args, const char *suffix)
{
	char *path = write_temp(suffix, "", 0), *cmd;

	assert_true(asprintf(&cmd,
			     "/usr/bin/python3 %s/scripts/gen-directory "
			     "%s > %s",
			     SOURCE_ROOT, args, path) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	return path;
}

static void test_generated(void **state)
{
	static const char *const formats[] = {"conf", "csv"};
	struct diag_list dl = {0};

	(void)state;
	for (size_t f = 0; f < 2; f++) {
		struct directory d = {0};
		char args[64], suffix[8];
		size_t members = 0, bank = 0, local = 0;
		char *path;

		snprintf(args, sizeof(args), "200 --seed 5 --format %s",
			 formats[f]);
		snprintf(suffix, sizeof(suffix), ".%s", formats[f]);
		path = generate(args, suffix);
		assert_int_equal(dir_parse_file(path, NULL, &d, &dl), 0);
		assert_diags(&dl, NULL, 0);
		assert_int_equal(d.n_orgs, 19 + 200);
		for (size_t i = 0; i < d.n_orgs; i++) {
			const struct dir_org *o = &d.orgs[i], *p;

			if (o->kind != DIR_KIND_MEMBER)
				continue;
			members++;
			p = dir_find_org(&d, o->parent);
			assert_non_null(p);
			assert_int_equal(p->kind, DIR_KIND_CEPTOAR);
			assert_string_equal(o->sector, p->sector);
			assert_true(o->n_contacts == 2 || o->n_contacts == 3);
			for (size_t k = 0; k < o->n_contacts; k++)
				assert_true(o->contacts[k].n_methods == 2 ||
					    o->contacts[k].n_methods == 3);
			bank += strcmp(o->parent, "bank") == 0;
			local += strcmp(o->parent, "local-government") == 0;
		}
		/* Shared out by member counts: 1433 and 1788 of 4327. */
		assert_int_equal(members, 200);
		assert_int_equal(bank, 67);
		assert_int_equal(local, 84);
		directory_free(&d);
		unlink(path);
		free(path);
	}
}

static void test_generated_is_deterministic(void **state)
{
	char *a = generate("40 --seed 9 --format csv", ".csv");
	char *b = generate("40 --seed 9 --format csv", ".csv");
	char *c = generate("40 --seed 10 --format csv", ".csv");
	char *cmd;

	(void)state;
	assert_true(asprintf(&cmd, "cmp -s %s %s", a, b) > 0);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	assert_true(asprintf(&cmd, "cmp -s %s %s", a, c) > 0);
	assert_int_not_equal(system(cmd), 0);
	free(cmd);
	unlink(a);
	unlink(b);
	unlink(c);
	free(a);
	free(b);
	free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_append_and_free),
		cmocka_unit_test(test_org_setters),
		cmocka_unit_test(test_contact_and_method_setters),
		cmocka_unit_test(test_read_text),
		cmocka_unit_test(test_parse_file_dispatch),
		cmocka_unit_test(test_sample),
		cmocka_unit_test(test_generated),
		cmocka_unit_test(test_generated_is_deterministic),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
