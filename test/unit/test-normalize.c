/*
 * Unit tests for contacts/normalize.c: telephone numbers to E.164, the
 * mail and URL checks, ids, business hours both ways, and the quoting of
 * values in diagnostics. Each table row is an input and either what it
 * must become or the exact reason it is refused.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contacts/directory.h"

struct example {
	const char *in;
	const char *out; /* NULL when refused */
	const char *why; /* the reason when refused */
};

typedef int (*check_fn)(const char *, char **, const char **);

static void run(check_fn fn, const struct example *ex, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char *out = NULL;
		const char *why = NULL;
		int r = fn(ex[i].in, &out, &why);

		if (ex[i].out != NULL) {
			if (r != 0)
				print_message("refused '%s': %s\n", ex[i].in,
					      why);
			assert_int_equal(r, 0);
			assert_string_equal(out, ex[i].out);
		} else {
			if (r == 0)
				print_message("accepted '%s' as '%s'\n",
					      ex[i].in, out);
			assert_int_equal(r, -EINVAL);
			assert_null(out);
			assert_string_equal(why, ex[i].why);
		}
		free(out);
	}
}

static void test_phone(void **state)
{
	static const struct example ex[] = {
		/* Japanese domestic numbers lose the trunk 0 for +81. */
		{"03-1234-5678", "+81312345678", NULL},
		{"090-1234-5678", "+819012345678", NULL},
		{"0120-123-456", "+81120123456", NULL},
		{"(03) 1234.5678", "+81312345678", NULL},
		{" 03 1234 5678 ", "+81312345678", NULL},
		/* International numbers are kept, separators dropped. */
		{"+81312345678", "+81312345678", NULL},
		{"+81 3-1234-5678", "+81312345678", NULL},
		{"+81 (0)3-1234-5678", "+81312345678", NULL},
		{"+1 (212) 555-0100", "+12125550100", NULL},
		{"+123456789012345", "+123456789012345", NULL},
		{"+1234567890123456", NULL, "longer than E.164's 15 digits"},
		{"012345678901234", NULL, "longer than E.164's 15 digits"},
		{"03-1234-567X", NULL, "letters are not allowed"},
		{"tel:0312345678", NULL, "letters are not allowed"},
		{"03/1234/5678", NULL,
		 "only digits, '+', spaces, '-', '.' and parentheses are "
		 "allowed"},
		{"", NULL, "empty"},
		{"- ()", NULL, "no digits"},
		{"012-345", NULL, "too short (under 8 digits)"},
		{"+8112345", NULL, "too short (under 8 digits)"},
		{"3-1234-5678", NULL,
		 "neither +country code nor a Japanese number starting with "
		 "0"},
		{"00-1-212-555-0100", NULL,
		 "starts with 00: write it as +CC..."},
		{"010-1-212-555-0100", NULL,
		 "010 is the prefix for calling abroad: write it as +CC..."},
		{"+0312345678", NULL, "a country code never starts with 0"},
		{"03+12345678", NULL, "'+' may only start the number"},
	};

	(void)state;
	run(dir_normalize_phone, ex, sizeof(ex) / sizeof(ex[0]));
}

/* As Japanese input methods type them: NFKC, then the hyphen family. */
static void test_phone_typed(void **state)
{
	static const struct example ex[] = {
		{"０３－１２３４－５６７８", "+81312345678", NULL},
		{"０３ー１２３４ー５６７８", "+81312345678", NULL},
		{"03‐1234‐5678", "+81312345678", NULL}, /* U+2010 */
		{"03−1234−5678", "+81312345678", NULL}, /* U+2212 */
		{"03–1234—5678", "+81312345678", NULL}, /* en, em */
		{"０９０ｰ１２３４ｰ５６７８", "+819012345678", NULL},
		{"（０３）１２３４－５６７８", "+81312345678", NULL},
		{"０３　１２３４　５６７８", "+81312345678", NULL}, /* U+3000 */
		{"＋８１　３－１２３４－５６７８", "+81312345678", NULL},
		{"０３．１２３４．５６７８", "+81312345678", NULL},
		{"０３＊１２３４", NULL,
		 "only digits, '+', spaces, '-', '.' and parentheses are "
		 "allowed"},
	};

	(void)state;
	run(dir_normalize_phone, ex, sizeof(ex) / sizeof(ex[0]));
}

/* The Japanese numbering plan: the length each kind of number has. */
static void test_phone_plan(void **state)
{
	static const struct example ex[] = {
		{"0422-12-3456", "+81422123456", NULL},
		{"050-1234-5678", "+815012345678", NULL},
		{"070-1234-5678", "+817012345678", NULL},
		{"080-1234-5678", "+818012345678", NULL},
		{"0120-123-456", "+81120123456", NULL},
		{"0800-123-4567", "+818001234567", NULL},
		{"0570-123-456", "+81570123456", NULL},
		/* A trunk 0 written after +81 is dropped. */
		{"+81-03-1234-5678", "+81312345678", NULL},
		{"+81 090 1234 5678", "+819012345678", NULL},
		/* Other countries: as written, after a length check. */
		{"+1 212 555 0100", "+12125550100", NULL},
		{"+44 20 7946 0958", "+442079460958", NULL},
		{"03-1234-567", NULL,
		 "a fixed-line number has 10 digits with the area code's 0 "
		 "(03-1234-5678, 0422-12-3456)"},
		{"03-1234-56789", NULL,
		 "a fixed-line number has 10 digits with the area code's 0 "
		 "(03-1234-5678, 0422-12-3456)"},
		{"090-1234-56789", NULL,
		 "a mobile number (070/080/090) has 11 digits with the 0"},
		{"090-1234-567", NULL,
		 "a mobile number (070/080/090) has 11 digits with the 0"},
		{"050-123-4567", NULL,
		 "an IP phone number (050) has 11 digits with the 0"},
		{"0120-123-4567", NULL,
		 "a free dial number (0120) has 10 digits with the 0"},
		{"0800-123-456", NULL,
		 "a free dial number (0800) has 11 digits with the 0"},
		{"0570-1234-567", NULL,
		 "a navi dial number (0570) has 10 digits with the 0"},
		{"+81-03-1234-567", NULL,
		 "a fixed-line number has 10 digits with the area code's 0 "
		 "(03-1234-5678, 0422-12-3456)"},
		{"+81 90 1234 567", NULL,
		 "a mobile number (070/080/090) has 11 digits with the 0"},
		{"+1 234 567", NULL, "too short (under 8 digits)"},
	};

	(void)state;
	run(dir_normalize_phone, ex, sizeof(ex) / sizeof(ex[0]));
}

static int sms(const char *in, char **ret, const char **why)
{
	return dir_normalize_address(DIR_CHANNEL_SMS, in, ret, why);
}

static int fax(const char *in, char **ret, const char **why)
{
	return dir_normalize_address(DIR_CHANNEL_FAX, in, ret, why);
}

static int voice(const char *in, char **ret, const char **why)
{
	return dir_normalize_address(DIR_CHANNEL_VOICE, in, ret, why);
}

/* Which kinds each channel takes: SMS mobiles, fax fixed lines and 050. */
static void test_phone_channels(void **state)
{
	static const struct example sms_ex[] = {
		{"090-1234-5678", "+819012345678", NULL},
		{"070-1234-5678", "+817012345678", NULL},
		{"+44 7700 900123", "+447700900123", NULL},
		{"03-1234-5678", NULL,
		 "SMS needs a mobile number (070, 080 or 090)"},
		{"050-1234-5678", NULL,
		 "SMS needs a mobile number (070, 080 or 090)"},
		{"0570-123-456", NULL,
		 "SMS needs a mobile number (070, 080 or 090)"},
	};
	static const struct example fax_ex[] = {
		{"03-1234-5678", "+81312345678", NULL},
		{"050-1234-5678", "+815012345678", NULL},
		{"090-1234-5678", NULL,
		 "fax needs a fixed-line number or an IP phone (050)"},
		{"0570-123-456", NULL,
		 "fax needs a fixed-line number or an IP phone (050)"},
		{"0120-123-456", NULL,
		 "fax needs a fixed-line number or an IP phone (050)"},
	};
	static const struct example voice_ex[] = {
		{"0570-123-456", "+81570123456", NULL},
		{"0120-123-456", "+81120123456", NULL},
		{"090-1234-5678", "+819012345678", NULL},
	};

	(void)state;
	run(sms, sms_ex, sizeof(sms_ex) / sizeof(sms_ex[0]));
	run(fax, fax_ex, sizeof(fax_ex) / sizeof(fax_ex[0]));
	run(voice, voice_ex, sizeof(voice_ex) / sizeof(voice_ex[0]));
}

static void test_mail(void **state)
{
	char long_local[80], long_mail[300];
	static const struct example ex[] = {
		{"desk@bank.example.jp", "desk@bank.example.jp", NULL},
		/* The domain is folded to lower case, the local part kept. */
		{"Desk.Ops+alert@Bank.Example.JP",
		 "Desk.Ops+alert@bank.example.jp", NULL},
		/* Old Japanese mobile addresses with odd dots still work. */
		{"taro..yamada.@docomo.example.jp",
		 "taro..yamada.@docomo.example.jp", NULL},
		{"", NULL, "empty"},
		{"desk @bank.example.jp", NULL, "contains a space"},
		{"desk@bank.example.jp\r\nBcc: x@y.jp", NULL,
		 "contains a control character"},
		{"山田@bank.example.jp", NULL,
		 "contains non-ASCII characters (write the domain in its xn-- "
		 "form)"},
		{"desk.bank.example.jp", NULL, "no '@'"},
		{"desk@@bank.example.jp", NULL, "more than one '@'"},
		{"@bank.example.jp", NULL, "empty local part"},
		{"desk@", NULL, "empty host name"},
		{"desk@localhost", NULL, "the domain has no dot"},
		{"desk@bank..example.jp", NULL, "empty label in the host name"},
		{"desk@bank.example.jp.", NULL, "empty label in the host name"},
		{"desk@-bank.example.jp", NULL,
		 "a host-name label starts with '-'"},
		{"desk@bank-.example.jp", NULL,
		 "a host-name label ends with '-'"},
		{"desk@bank_1.example.jp", NULL,
		 "host names allow only letters, digits, '-' and dots"},
		{"desk@192.0.2.1", NULL, "the top-level domain is numeric"},
		{"de(s)k@bank.example.jp", NULL,
		 "character not allowed in the local part"},
	};
	struct example extra[2];

	(void)state;
	run(dir_check_mail, ex, sizeof(ex) / sizeof(ex[0]));

	memset(long_local, 'a', 65);
	strcpy(long_local + 65, "@example.jp");
	extra[0] = (struct example){long_local, NULL,
				    "local part longer than 64 characters"};
	/* 64 + 1 + 190 = 255 characters. */
	memset(long_mail, 'b', 64);
	long_mail[64] = '@';
	for (int i = 0; i < 190; i += 10)
		memcpy(long_mail + 65 + i, "abcdefghi.", 10);
	memcpy(long_mail + 65 + 187, "jp", 3);
	assert_int_equal(strlen(long_mail), 254);
	extra[1] = (struct example){long_mail, long_mail, NULL};
	run(dir_check_mail, extra, 2);
	strcpy(long_mail + 252, "jpx");
	extra[1] =
		(struct example){long_mail, NULL, "longer than 254 characters"};
	run(dir_check_mail, extra + 1, 1);
}

static void test_url(void **state)
{
	static const struct example ex[] = {
		{"https://portal.bank.example.jp/alerts",
		 "https://portal.bank.example.jp/alerts", NULL},
		{"https://example.jp", "https://example.jp", NULL},
		{"https://example.jp:8443/a/b?x=1#top",
		 "https://example.jp:8443/a/b?x=1#top", NULL},
		/* Scheme and host fold to lower case; the path is kept. */
		{"HTTPS://Portal.Example.JP/Alerts?Q=A",
		 "https://portal.example.jp/Alerts?Q=A", NULL},
		/* http only where nothing leaves the machine. */
		{"http://127.0.0.1:8080/hook", "http://127.0.0.1:8080/hook",
		 NULL},
		{"http://127.200.3.4/", "http://127.200.3.4/", NULL},
		{"http://localhost/hook", "http://localhost/hook", NULL},
		{"http://LocalHost:9/", "http://localhost:9/", NULL},
		{"http://[::1]:9000/hook", "http://[::1]:9000/hook", NULL},
		{"https://[2001:db8::1]/x", "https://[2001:db8::1]/x", NULL},
		{"http://portal.example.jp/", NULL,
		 "http is only for loopback (127.0.0.0/8, localhost, [::1]): "
		 "use https"},
		{"http://128.0.0.1/", NULL,
		 "http is only for loopback (127.0.0.0/8, localhost, [::1]): "
		 "use https"},
		{"http://127.0.0.256/", NULL,
		 "http is only for loopback (127.0.0.0/8, localhost, [::1]): "
		 "use https"},
		{"http://localhost.example.jp/", NULL,
		 "http is only for loopback (127.0.0.0/8, localhost, [::1]): "
		 "use https"},
		{"http://[::2]/", NULL,
		 "http is only for loopback (127.0.0.0/8, localhost, [::1]): "
		 "use https"},
		{"ftp://example.jp/", NULL, "not an https URL"},
		{"portal.example.jp", NULL, "not an https URL"},
		{"", NULL, "empty"},
		{"https:///alerts", NULL, "empty host name"},
		{"https://portal.example.jp/a b", NULL, "contains a space"},
		{"https://portal.example.jp/\x7f", NULL,
		 "contains a control character"},
		{"https://例え.jp/", NULL,
		 "contains non-ASCII characters (percent-encode them)"},
		{"https://user:secret@example.jp/", NULL,
		 "user names and passwords do not belong in the directory"},
		{"https://example.jp:0/", NULL, "bad port"},
		{"https://example.jp:65536/", NULL, "bad port"},
		{"https://example.jp:/", NULL, "bad port"},
		{"https://example.jp:8x/", NULL, "bad port"},
		{"https://[::1/", NULL, "bad IPv6 address in brackets"},
		{"https://[::1]x/", NULL, "bad host"},
		{"https://exa_mple.jp/", NULL,
		 "host names allow only letters, digits, '-' and dots"},
	};

	(void)state;
	run(dir_check_url, ex, sizeof(ex) / sizeof(ex[0]));
}

static void test_address_by_channel(void **state)
{
	char *out;
	const char *why;

	(void)state;
	assert_int_equal(dir_normalize_address(DIR_CHANNEL_FAX, "03-1234-5678",
					       &out, &why),
			 0);
	assert_string_equal(out, "+81312345678");
	free(out);
	assert_int_equal(
		dir_normalize_address(DIR_CHANNEL_SMS, "a@b.jp", &out, &why),
		-EINVAL);
	assert_string_equal(why, "letters are not allowed");
	assert_int_equal(dir_normalize_address(DIR_CHANNEL_WEB,
					       "https://x.example.jp/", &out,
					       &why),
			 0);
	assert_string_equal(out, "https://x.example.jp/");
	free(out);
	assert_int_equal(dir_normalize_address(DIR_CHANNEL_MAIL,
					       "https://x.example.jp/", &out,
					       &why),
			 -EINVAL);
	assert_string_equal(why, "no '@'");
}

static void test_id(void **state)
{
	char id[70];

	(void)state;
	assert_true(dir_id_valid("bank"));
	assert_true(dir_id_valid("t-ceptoar"));
	assert_true(dir_id_valid("bank-m0001"));
	assert_true(dir_id_valid("7"));
	memset(id, 'a', 64);
	id[64] = '\0';
	assert_true(dir_id_valid(id));
	id[64] = 'a';
	id[65] = '\0';
	assert_false(dir_id_valid(id));
	assert_false(dir_id_valid(""));
	assert_false(dir_id_valid(NULL));
	assert_false(dir_id_valid("Bank"));
	assert_false(dir_id_valid("bank_1"));
	assert_false(dir_id_valid("bank 1"));
	assert_false(dir_id_valid("銀行"));
}

static void test_hours_parse(void **state)
{
	static const struct {
		const char *in;
		unsigned days;
		int open, close;
		const char *canonical;
	} ok[] = {
		{"mon-fri 09:00-18:00", 0x3E, 540, 1080, "mon-fri 09:00-18:00"},
		{"mon,wed,fri 9:00-17:30", 0x2A, 540, 1050,
		 "mon,wed,fri 09:00-17:30"},
		{"sat-sun 10:00-16:00", 0x41, 600, 960, "sat-sun 10:00-16:00"},
		{"fri-mon 00:00-24:00", 0x63, 0, 1440, "fri-mon 00:00-24:00"},
		{"sun-sat 00:00-24:00", 0x7F, 0, 1440, "sun-sat 00:00-24:00"},
		{"  Mon-Wed,fri   08:30-17:15 ", 0x2E, 510, 1035,
		 "mon-wed,fri 08:30-17:15"},
		{"wed 12:00-12:01", 0x08, 720, 721, "wed 12:00-12:01"},
	};
	static const struct example bad[] = {
		{"", NULL, "empty"},
		{"mon-fri", NULL,
		 "expected a space between days and times, as in \"mon-fri "
		 "09:00-18:00\""},
		{"monday 09:00-18:00", NULL,
		 "expected a space between days and times, as in \"mon-fri "
		 "09:00-18:00\""},
		{"weekdays 09:00-18:00", NULL,
		 "expected days like mon-fri or mon,wed,fri (sun mon tue wed "
		 "thu fri sat)"},
		{"mon-xyz 09:00-18:00", NULL,
		 "expected a day after '-' (sun mon tue wed thu fri sat)"},
		{"mon-fri 9-18", NULL, "expected times like 09:00-18:00"},
		{"mon-fri 09:00-24:30", NULL,
		 "expected times like 09:00-18:00"},
		{"mon-fri 09:60-18:00", NULL,
		 "expected times like 09:00-18:00"},
		{"mon-fri 09:00-18:00 JST", NULL,
		 "unexpected text after the times"},
		{"mon-fri 22:00-06:00", NULL,
		 "closing time must be after opening time (hours past midnight "
		 "are not supported)"},
		{"mon-fri 24:00-24:00", NULL,
		 "opening time 24:00 is not a time of day"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		struct dir_hours h = {.tz = (char *)"Asia/Tokyo"};
		char out[64];
		const char *why = NULL;

		assert_int_equal(dir_hours_parse(ok[i].in, &h, &why), 0);
		assert_int_equal(h.days, ok[i].days);
		assert_int_equal(h.open_min, ok[i].open);
		assert_int_equal(h.close_min, ok[i].close);
		assert_string_equal(h.tz, "Asia/Tokyo");
		dir_hours_format(&h, out, sizeof(out));
		assert_string_equal(out, ok[i].canonical);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* On failure the hours are left as they were. */
		struct dir_hours h = {.days = 1, .open_min = 2, .close_min = 3};
		const char *why = NULL;

		if (dir_hours_parse(bad[i].in, &h, &why) == 0)
			print_message("accepted '%s'\n", bad[i].in);
		assert_string_equal(why, bad[i].why);
		assert_int_equal(h.days, 1);
		assert_int_equal(h.open_min, 2);
		assert_int_equal(h.close_min, 3);
	}
}

static void test_hours_round_trip(void **state)
{
	(void)state;
	/* Every set of days reads back as itself from its canonical form. */
	for (unsigned days = 1; days < 0x80; days++) {
		struct dir_hours h = {days, 9 * 60, 18 * 60, NULL, NULL},
				 back = {0};
		char out[64];
		const char *why = NULL;

		dir_hours_format(&h, out, sizeof(out));
		if (dir_hours_parse(out, &back, &why) != 0)
			print_message("'%s': %s\n", out, why);
		assert_int_equal(back.days, days);
		assert_int_equal(back.open_min, 540);
		assert_int_equal(back.close_min, 1080);
	}
}

static void test_quote(void **state)
{
	char out[16];

	(void)state;
	dir_quote("bank", out, sizeof(out));
	assert_string_equal(out, "bank");
	dir_quote("a\nb\tc", out, sizeof(out));
	assert_string_equal(out, "a\\x0Ab\\x09c");
	dir_quote("a\xff", out, sizeof(out));
	assert_string_equal(out, "a\\xFF");
	/* 15 characters fit exactly; one more is cut with "...". */
	dir_quote("abcdefghijklmno", out, sizeof(out));
	assert_string_equal(out, "abcdefghijklmno");
	dir_quote("abcdefghijklmnop", out, sizeof(out));
	assert_string_equal(out, "abcdefghijkl...");
	/* A cut never splits a character: 表 is three bytes. */
	dir_quote("表表表表表表", out, sizeof(out));
	assert_string_equal(out, "表表表表...");
	dir_quote(NULL, out, sizeof(out));
	assert_string_equal(out, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phone),
		cmocka_unit_test(test_phone_typed),
		cmocka_unit_test(test_phone_plan),
		cmocka_unit_test(test_phone_channels),
		cmocka_unit_test(test_mail),
		cmocka_unit_test(test_url),
		cmocka_unit_test(test_address_by_channel),
		cmocka_unit_test(test_id),
		cmocka_unit_test(test_hours_parse),
		cmocka_unit_test(test_hours_round_trip),
		cmocka_unit_test(test_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
