/*
 * Unit tests for common/: TLP names, UTF-8 checks, diagnostics, the
 * buffer and the crypto wrappers (against published test vectors).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/diag.h"
#include "common/tlp.h"
#include "common/utf8.h"

static void test_tlp_parse_and_print(void **state)
{
	enum tlp t;

	(void)state;
	assert_int_equal(tlp_parse("AMBER+STRICT", &t), 0);
	assert_int_equal(t, TLP_AMBER_STRICT);
	assert_int_equal(tlp_parse("TLP:RED", &t), 0);
	assert_int_equal(t, TLP_RED);
	/* TLP 1.0's WHITE is read as CLEAR and printed as CLEAR. */
	assert_int_equal(tlp_parse("WHITE", &t), 0);
	assert_int_equal(t, TLP_CLEAR);
	assert_string_equal(tlp_label(t), "TLP:CLEAR");
	/* Labels are exact: no lower case, no spaces. */
	assert_int_not_equal(tlp_parse("amber", &t), 0);
	assert_int_not_equal(tlp_parse("AMBER STRICT", &t), 0);
	assert_int_not_equal(tlp_parse("", &t), 0);
	assert_true(TLP_CLEAR < TLP_GREEN && TLP_AMBER < TLP_AMBER_STRICT &&
		    TLP_AMBER_STRICT < TLP_RED);
}

static void test_utf8(void **state)
{
	size_t bad = 0;

	(void)state;
	assert_true(utf8_valid("表ソ能①㈱ｱ", strlen("表ソ能①㈱ｱ"), NULL));
	assert_int_equal(utf8_length("表ソ能", strlen("表ソ能")), 3);
	/* Overlong '/', a lone continuation byte, a surrogate, a cut sequence. */
	assert_false(utf8_valid("a\xC0\xAF", 3, &bad));
	assert_int_equal(bad, 1);
	assert_false(utf8_valid("\x80", 1, NULL));
	assert_false(utf8_valid("\xED\xA0\x80", 3, NULL));
	assert_false(utf8_valid("ab\xE8\xA1", 4, &bad));
	assert_int_equal(bad, 2);
	assert_true(utf8_has_control("a\rb", 3));
	assert_true(utf8_has_control("\xC2\x85", 2));
	assert_false(utf8_has_control("警報 alert", strlen("警報 alert")));
}

/* Cutting Japanese text to a byte limit keeps whole characters only. */
static void test_utf8_prefix(void **state)
{
	const char *jp = "警報です"; /* four 3-byte characters */
	const char *emoji = "a\xF0\x9F\x9A\xA8"
			    "b";
	char big[401];
	size_t n;

	(void)state;
	assert_int_equal(utf8_prefix(jp, 12, 100), 12);
	assert_int_equal(utf8_prefix(jp, 12, 12), 12);
	assert_int_equal(utf8_prefix(jp, 12, 11), 9);
	assert_int_equal(utf8_prefix(jp, 12, 10), 9);
	assert_int_equal(utf8_prefix(jp, 12, 9), 9);
	assert_int_equal(utf8_prefix(jp, 12, 1), 0);
	assert_int_equal(utf8_prefix(jp, 12, 0), 0);
	assert_int_equal(utf8_prefix(emoji, 6, 4), 1);
	assert_int_equal(utf8_prefix(emoji, 6, 5), 5);
	/* Text snprintf() already cut inside a character: the piece goes. */
	assert_int_equal(utf8_prefix("(\xE8\xAD", 3, SIZE_MAX), 1);
	assert_int_equal(utf8_prefix("ok\xF0\x9F\x9A", 5, 4), 2);
	assert_int_equal(utf8_prefix("ok", 2, SIZE_MAX), 2);
	/* Every cut of a long comment is well-formed. */
	for (size_t i = 0; i + 3 <= 399; i += 3)
		memcpy(big + i, "\xE3\x81\x82", 3);
	big[399] = 'x';
	big[400] = '\0';
	for (size_t max = 0; max <= 400; max++) {
		n = utf8_prefix(big, 400, max);
		assert_true(n <= max);
		assert_true(max < 3 || n + 3 > max);
		assert_true(utf8_valid(big, n, NULL));
	}
}

static void test_utf8_repair(void **state)
{
	char *r;

	(void)state;
	r = utf8_repair("ok 警報", strlen("ok 警報"));
	assert_string_equal(r, "ok 警報");
	free(r);
	/* A character cut in two, then text after it (a cut User-Agent). */
	r = utf8_repair("(\xE8\xAD)", 4);
	assert_string_equal(r, "(\xEF\xBF\xBD\xEF\xBF\xBD)");
	free(r);
	r = utf8_repair("a\0b\xC0\xAF", 5);
	assert_string_equal(r, "a\xEF\xBF\xBD"
			       "b\xEF\xBF\xBD\xEF\xBF\xBD");
	assert_true(utf8_valid(r, strlen(r), NULL));
	free(r);
	r = utf8_repair("", 0);
	assert_string_equal(r, "");
	free(r);
}

static void test_diag_lines(void **state)
{
	struct diag_list d = {0};

	(void)state;
	diag_add(&d, "dir.csv", 7, "unknown channel \"%s\"", "pager");
	diag_add(&d, "dir.csv", 0, "cannot read");
	diag_add(&d, NULL, 0, "plain");
	assert_int_equal(d.n, 3);
	assert_string_equal(d.lines[0], "dir.csv:7: unknown channel \"pager\"");
	assert_string_equal(d.lines[1], "dir.csv: cannot read");
	assert_string_equal(d.lines[2], "plain");
	diag_clear(&d);
	assert_int_equal(d.n, 0);
}

static void test_buf(void **state)
{
	struct buf b = {0};
	char *s;

	(void)state;
	buf_puts(&b, "TLP:");
	buf_printf(&b, "%s/%d", "AMBER", 42);
	assert_string_equal(b.data, "TLP:AMBER/42");
	s = buf_steal(&b);
	assert_null(b.data);
	assert_string_equal(s, "TLP:AMBER/42");
	free(s);
	s = buf_steal(&b);
	assert_string_equal(s, "");
	free(s);
}

static void test_crypto_vectors(void **state)
{
	char hex[65];
	uint8_t mac[SHA256_LEN];
	char machex[2 * SHA256_LEN + 1];
	char *b64;
	uint8_t *raw;
	size_t rawlen;

	(void)state;
	/* FIPS 180-2 "abc". */
	crypto_sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223"
				 "b00361a396177a9cb410ff61f20015ad");
	/* RFC 4231 test case 2. */
	crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
	crypto_hex(mac, sizeof(mac), machex);
	assert_string_equal(machex, "5bdcc146bf60754e6a042426089575c7"
				    "5a003f089d2739839dec58b964ec3843");
	b64 = crypto_base64("any carnal pleas", 16);
	assert_string_equal(b64, "YW55IGNhcm5hbCBwbGVhcw==");
	raw = crypto_base64_decode(b64, &rawlen);
	assert_non_null(raw);
	assert_int_equal(rawlen, 16);
	assert_memory_equal(raw, "any carnal pleas", 16);
	free(raw);
	free(b64);
	assert_null(crypto_base64_decode("abc", &rawlen));
	assert_true(crypto_equal("same", "same", 4));
	assert_false(crypto_equal("same", "sane", 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tlp_parse_and_print),
		cmocka_unit_test(test_utf8),
		cmocka_unit_test(test_utf8_prefix),
		cmocka_unit_test(test_utf8_repair),
		cmocka_unit_test(test_diag_lines),
		cmocka_unit_test(test_buf),
		cmocka_unit_test(test_crypto_vectors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
