/*
 * Unit tests for channels/sms_segment.c and the SMS body of
 * channels/twilio_sms.c: GSM-7 and UCS-2 counts and their single and
 * concatenated limits, the extension characters, Japanese text, emoji as
 * surrogate pairs that are never split or cut, and a body that always
 * fits three segments with the TLP label, the drill marker and the link,
 * and carries no content above AMBER.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channels/sms_segment.h"
#include "channels/twilio_sms.h"
#include "common/buf.h"
#include "common/utf8.h"

static char *repeat(const char *unit, size_t n)
{
	size_t len = strlen(unit);
	char *s = malloc(len * n + 1);

	if (s == NULL)
		abort(); /* and the compiler knows s is never NULL below */
	for (size_t i = 0; i < n; i++)
		memcpy(s + i * len, unit, len);
	s[len * n] = '\0';
	return s;
}

static void test_gsm7(void **state)
{
	char *s160 = repeat("a", 160), *s161 = repeat("a", 161),
	     *s306 = repeat("a", 306), *s307 = repeat("a", 307);
	struct sms_count c;

	(void)state;
	c = sms_count("Hello, world @ 5 €");
	assert_int_equal(c.encoding, SMS_GSM7);
	assert_int_equal(c.units, 19); /* € is an escape: two septets */
	assert_int_equal(sms_count(s160).segments, 1);
	assert_int_equal(sms_count(s161).segments, 2);
	assert_int_equal(sms_count(s306).segments, 2);
	assert_int_equal(sms_count(s307).segments, 3);
	assert_int_equal(sms_count("").segments, 0);
	free(s160);
	free(s161);
	free(s306);
	free(s307);
}

static void test_japanese_is_ucs2(void **state)
{
	char *a70 = repeat("あ", 70), *a71 = repeat("あ", 71),
	     *a134 = repeat("あ", 134), *a135 = repeat("あ", 135);
	struct sms_count c;

	(void)state;
	c = sms_count("了解");
	assert_int_equal(c.encoding, SMS_UCS2);
	assert_int_equal(c.units, 2);
	assert_int_equal(sms_count(a70).segments, 1);
	assert_int_equal(sms_count(a71).segments, 2);
	assert_int_equal(sms_count(a134).segments, 2);
	assert_int_equal(sms_count(a135).segments, 3);
	/* One kanji makes the whole text UCS-2. */
	assert_int_equal(sms_count("TLP:AMBER 警報").encoding, SMS_UCS2);
	free(a70);
	free(a71);
	free(a134);
	free(a135);
}

static void test_emoji_is_a_surrogate_pair(void **state)
{
	char *a66 = repeat("あ", 66), *s;
	struct sms_count c;

	(void)state;
	c = sms_count("😀");
	assert_int_equal(c.encoding, SMS_UCS2);
	assert_int_equal(c.units, 2);
	/* 66 + 2 units: the pair does not fit 67 and is left out whole. */
	assert_int_equal(asprintf(&s, "%s😀", a66), (int)strlen(a66) + 4);
	assert_int_equal(sms_fit(s, SMS_UCS2, 67), strlen(a66));
	assert_int_equal(sms_fit(s, SMS_UCS2, 68), strlen(s));
	/* 68 units in one segment of 70 ... */
	assert_int_equal(sms_count(s).segments, 1);
	free(s);
	/* ... but 66 + pair + 66 + pair: the pairs move whole, three parts. */
	assert_true(asprintf(&s, "%s😀%s😀", a66, a66) > 0);
	c = sms_count(s);
	assert_int_equal(c.units, 136);
	assert_int_equal(c.segments, 3);
	free(s);
	free(a66);
	/* GSM-7 never cuts an escape in half. */
	assert_int_equal(sms_fit("ab€", SMS_GSM7, 3), 2);
	assert_int_equal(sms_fit("ab€", SMS_GSM7, 4), 5);
}

static const struct channel_message base = {
	.key = "d-1",
	.address = "+819012345678",
	.language = "ja",
	.alert_id = "A-1",
	.title = "電力制御システムへの不正アクセスの兆候",
	.body = "本文は送らない",
	.tlp = TLP_AMBER,
	.org_id = "o",
	.contact_id = "c",
	.ack_url = "https://pocalert.example.jp/ack/"
		   "abcdefghijklmnopqrstuvwxyz234567",
};

static void test_body_short(void **state)
{
	struct channel_message m = base;
	struct buf b = {0};

	(void)state;
	m.drill = true;
	assert_int_equal(twilio_sms_body(&b, &m), 0);
	assert_non_null(strstr(b.data, "【訓練】"));
	assert_non_null(strstr(b.data, "TLP:AMBER"));
	assert_non_null(strstr(b.data, base.title));
	assert_non_null(strstr(b.data, base.ack_url));
	assert_null(strstr(b.data, "本文"));
	assert_true(sms_count(b.data).segments <= 3);
	buf_free(&b);
}

static void test_body_long_title_is_cut(void **state)
{
	char *title = repeat("不正😀", 200);
	struct channel_message m = base;
	struct buf b = {0};
	struct sms_count c;
	size_t len;

	(void)state;
	m.title = title;
	assert_int_equal(twilio_sms_body(&b, &m), 0);
	c = sms_count(b.data);
	assert_int_equal(c.encoding, SMS_UCS2);
	assert_int_equal(c.segments, 3);
	assert_true(utf8_valid(b.data, b.len, NULL));
	assert_non_null(strstr(b.data, "…"));
	/* The link survives whole at the end. */
	len = strlen(base.ack_url);
	assert_true(b.len > len);
	assert_string_equal(b.data + b.len - len, base.ack_url);
	buf_free(&b);
	free(title);
}

static void test_body_red_has_no_content(void **state)
{
	struct channel_message m = base;
	struct buf b = {0};

	(void)state;
	m.tlp = TLP_RED;
	assert_int_equal(twilio_sms_body(&b, &m), 0);
	assert_non_null(strstr(b.data, "TLP:RED"));
	assert_null(strstr(b.data, "不正アクセス"));
	assert_non_null(strstr(b.data, base.ack_url));
	buf_free(&b);
	m.tlp = TLP_AMBER_STRICT;
	assert_int_equal(twilio_sms_body(&b, &m), 0);
	assert_non_null(strstr(b.data, "TLP:AMBER+STRICT"));
	assert_null(strstr(b.data, "不正アクセス"));
	buf_free(&b);
}

static void test_body_english_gsm7(void **state)
{
	char *title = repeat("Intrusion ", 60);
	struct channel_message m = base;
	struct buf b = {0};
	struct sms_count c;

	(void)state;
	m.language = "en";
	m.title = title;
	assert_int_equal(twilio_sms_body(&b, &m), 0);
	c = sms_count(b.data);
	assert_int_equal(c.encoding, SMS_GSM7);
	assert_true(c.segments <= 3);
	assert_non_null(strstr(b.data, "..."));
	buf_free(&b);
	free(title);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gsm7),
		cmocka_unit_test(test_japanese_is_ucs2),
		cmocka_unit_test(test_emoji_is_a_surrogate_pair),
		cmocka_unit_test(test_body_short),
		cmocka_unit_test(test_body_long_title_is_cut),
		cmocka_unit_test(test_body_red_has_no_content),
		cmocka_unit_test(test_body_english_gsm7),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
