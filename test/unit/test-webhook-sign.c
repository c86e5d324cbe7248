/*
 * Unit tests for the pure parts of channels/webhook.c and its neighbours:
 * the Standard Webhooks signature (against the published vector), secret
 * decoding, the JSON payload's shape, Retry-After parsing
 * (channels/http_client.c), the classification of HTTP responses into
 * channel outcomes, and the dry-run driver's line.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <jansson.h>

#include "channels/dryrun.h"
#include "channels/http_client.h"
#include "channels/registry.h"
#include "channels/webhook.h"
#include "common/buf.h"

static const struct channel_message sample = {
	.key = "dlv-42",
	.address = "https://hooks.example.jp/pocalert",
	.language = "ja",
	.alert_id = "A-2024-0007",
	.title = "不正アクセス \"注意\"\n速報",
	.body = "本文 line1\r\nline2\ttab \\ back",
	.type = "early-warning",
	.severity = "high",
	.tlp = TLP_AMBER,
	.drill = true,
	.kind = NULL,
	.org_id = "org-7",
	.org_name = "東京電力㈱",
	.contact_id = "c-1",
	.contact_name = "山田 太郎",
	.ack_url = NULL,
	.created_at = 1714554000, /* 2024-05-01T09:00:00Z */
};

static void test_sign_vector(void **state)
{
	const char *body = "{\"test\": 2432232314}";
	char sig[WEBHOOK_SIGNATURE_SIZE];
	uint8_t *key = NULL;
	size_t keylen = 0;

	(void)state;
	assert_int_equal(
		webhook_secret_decode("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
				      &key, &keylen),
		0);
	assert_int_equal(keylen, 24);
	assert_int_equal(webhook_sign(key, keylen,
				      "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      "1614265330", body, strlen(body), sig),
			 0);
	assert_string_equal(sig,
			    "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	/* Any change to id, time or body changes the signature. */
	assert_int_equal(webhook_sign(key, keylen,
				      "msg_p5jXN8AQM9LWM0D4loKWxJek",
				      "1614265331", body, strlen(body), sig),
			 0);
	assert_string_not_equal(
		sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
	free(key);
}

static void test_sign_large_body(void **state)
{
	size_t len = 100000;
	char *body = malloc(len), a[WEBHOOK_SIGNATURE_SIZE],
	     b[WEBHOOK_SIGNATURE_SIZE];

	(void)state;
	assert_non_null(body);
	memset(body, 'x', len);
	/* Past the stack buffer: the same function, the same answer. */
	assert_int_equal(webhook_sign("k", 1, "id", "1", body, len, a), 0);
	assert_int_equal(webhook_sign("k", 1, "id", "1", body, len, b), 0);
	assert_string_equal(a, b);
	assert_int_equal(strlen(a), WEBHOOK_SIGNATURE_SIZE - 1);
	assert_memory_equal(a, "v1,", 3);
	free(body);
}

static void test_secret_decode_refuses(void **state)
{
	uint8_t *key = NULL;
	size_t len = 0;

	(void)state;
	assert_int_equal(
		webhook_secret_decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", &key,
				      &len),
		-EINVAL);
	assert_int_equal(webhook_secret_decode("whsec_not base64!", &key, &len),
			 -EINVAL);
	assert_int_equal(webhook_secret_decode("whsec_", &key, &len), -EINVAL);
	assert_int_equal(webhook_secret_decode(NULL, &key, &len), -EINVAL);
	assert_null(key);
}

static void test_payload_shape(void **state)
{
	struct buf b = {0};
	json_error_t err;
	json_t *j, *o;

	(void)state;
	assert_int_equal(webhook_render_payload(&b, &sample), 0);
	j = json_loads(b.data, 0, &err);
	assert_non_null(j);
	assert_true(json_is_object(j));
	assert_string_equal(json_string_value(json_object_get(j, "type")),
			    "pocalert.alert");
	assert_string_equal(json_string_value(json_object_get(j, "alert_id")),
			    "A-2024-0007");
	/* Quotes, newlines, tabs and backslashes come back unchanged. */
	assert_string_equal(json_string_value(json_object_get(j, "title")),
			    sample.title);
	assert_string_equal(json_string_value(json_object_get(j, "body")),
			    sample.body);
	assert_string_equal(json_string_value(json_object_get(j, "alert_type")),
			    "early-warning");
	assert_string_equal(json_string_value(json_object_get(j, "severity")),
			    "high");
	assert_string_equal(json_string_value(json_object_get(j, "tlp")),
			    "TLP:AMBER");
	assert_true(json_is_true(json_object_get(j, "drill")));
	assert_string_equal(json_string_value(json_object_get(j, "kind")),
			    "alert");
	o = json_object_get(j, "organisation");
	assert_string_equal(json_string_value(json_object_get(o, "id")),
			    "org-7");
	assert_string_equal(json_string_value(json_object_get(o, "name")),
			    "東京電力㈱");
	o = json_object_get(j, "contact");
	assert_string_equal(json_string_value(json_object_get(o, "id")), "c-1");
	assert_string_equal(json_string_value(json_object_get(o, "name")),
			    "山田 太郎");
	assert_true(json_is_null(json_object_get(j, "ack_url")));
	/* In the config's zone, as the API gives times. */
	assert_string_equal(json_string_value(json_object_get(j, "created_at")),
			    "2024-05-01T18:00:00+09:00");
	/* The contact's language; Japanese when the directory has none. */
	assert_string_equal(json_string_value(json_object_get(j, "language")),
			    "ja");
	assert_int_equal(json_object_size(j), 14);
	json_decref(j);
	buf_free(&b);
	{
		struct channel_message en = sample;

		en.language = "en";
		setenv("TZ", "UTC", 1);
		tzset();
		assert_int_equal(webhook_render_payload(&b, &en), 0);
		setenv("TZ", "Asia/Tokyo", 1);
		tzset();
		j = json_loads(b.data, 0, &err);
		assert_string_equal(
			json_string_value(json_object_get(j, "language")),
			"en");
		assert_string_equal(
			json_string_value(json_object_get(j, "created_at")),
			"2024-05-01T09:00:00+00:00");
		json_decref(j);
		buf_free(&b);
	}
}

static void test_payload_kinds_and_bad_text(void **state)
{
	struct channel_message m = sample;
	struct buf b = {0};
	json_t *j;

	(void)state;
	m.kind = "cancel";
	m.drill = false;
	m.ack_url = "https://pocalert.example.jp/ack/abc";
	m.title = "bad \xff\xfe utf-8 \x01 ctl";
	m.tlp = TLP_RED;
	assert_int_equal(webhook_render_payload(&b, &m), 0);
	j = json_loads(b.data, 0, NULL);
	/* Malformed input still makes valid JSON. */
	assert_non_null(j);
	assert_string_equal(json_string_value(json_object_get(j, "kind")),
			    "cancel");
	assert_true(json_is_false(json_object_get(j, "drill")));
	assert_string_equal(json_string_value(json_object_get(j, "ack_url")),
			    m.ack_url);
	assert_string_equal(json_string_value(json_object_get(j, "tlp")),
			    "TLP:RED");
	assert_string_equal(json_string_value(json_object_get(j, "title")),
			    "bad \xef\xbf\xbd\xef\xbf\xbd utf-8 \x01 ctl");
	json_decref(j);
	buf_free(&b);
}

static void test_retry_after(void **state)
{
	time_t now = 1714554000;
	char date[64];
	struct tm tm;
	time_t later = now + 30;

	(void)state;
	assert_int_equal(http_parse_retry_after("2", now), 2);
	assert_int_equal(http_parse_retry_after(" 120 ", now), 120);
	assert_int_equal(http_parse_retry_after("0", now), 0);
	gmtime_r(&later, &tm);
	strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	assert_int_equal(http_parse_retry_after(date, now), 30);
	/* The obsolete forms HTTP still allows. */
	assert_int_equal(http_parse_retry_after(
				 "Wednesday, 01-May-24 09:01:00 GMT", now),
			 60);
	assert_int_equal(
		http_parse_retry_after("Wed May  1 09:00:10 2024", now), 10);
	/* A date in the past means now. */
	assert_int_equal(
		http_parse_retry_after("Sun, 06 Nov 1994 08:49:37 GMT", now),
		0);
	/* Garbage. */
	assert_int_equal(http_parse_retry_after("", now), -1);
	assert_int_equal(http_parse_retry_after("soon", now), -1);
	assert_int_equal(http_parse_retry_after("-5", now), -1);
	assert_int_equal(http_parse_retry_after("1.5", now), -1);
	assert_int_equal(http_parse_retry_after("2 days", now), -1);
	assert_int_equal(http_parse_retry_after("99999999999", now), -1);
	assert_int_equal(http_parse_retry_after(NULL, now), -1);
}

static struct http_response response(int status, const char *reason,
				     const char *body)
{
	return (struct http_response){
		.status = status,
		.reason = reason,
		.body = body,
		.body_len = strlen(body),
		.retry_after = -1,
		.error_text = "",
	};
}

static void test_classify(void **state)
{
	struct channel_outcome out;
	struct http_response r;
	char detail[512], big[1000];

	(void)state;
	r = response(200, "OK", "");
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_OK);
	assert_int_equal(out.code, 200);
	assert_null(out.gateway_id);
	assert_string_equal(out.detail, "HTTP 200 OK");

	r = response(500, "Internal Server Error", "oops\r\n\tdetails\x7f");
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_TEMPFAIL);
	assert_int_equal(out.code, 500);
	assert_string_equal(out.detail,
			    "HTTP 500 Internal Server Error: oops details");

	r = response(429, "Too Many Requests", "");
	r.retry_after = 2;
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_TEMPFAIL);
	assert_int_equal(out.retry_after, 2);

	r = response(408, "Request Timeout", "");
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_TEMPFAIL);

	r = response(410, "Gone", "");
	r.retry_after = 5; /* ignored: a gone endpoint is not retried */
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_PERMFAIL);
	assert_int_equal(out.retry_after, -1);
	assert_non_null(strstr(out.detail, "gone"));

	r = response(400, "Bad Request", "{\"error\":\"bad\"}");
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_PERMFAIL);
	assert_string_equal(out.detail,
			    "HTTP 400 Bad Request: {\"error\":\"bad\"}");

	r = response(301, "Moved Permanently", "");
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_PERMFAIL);

	/* A long body is cut to about 200 bytes, never mid-character. */
	for (size_t i = 0; i + 3 < sizeof(big); i += 3)
		memcpy(big + i, "警", 3);
	big[sizeof(big) - 1] = '\0';
	r = response(503, "", big);
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_TEMPFAIL);
	assert_memory_equal(out.detail, "HTTP 503: 警", strlen("HTTP 503: 警"));
	assert_true(strlen(out.detail) <= strlen("HTTP 503: ") + 200);
	assert_int_equal((strlen(out.detail) - strlen("HTTP 503: ")) % 3, 0);

	/* Binary rubbish is made printable. */
	r = response(502, "Bad Gateway", "\xff\xfe\x80zz");
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_string_equal(out.detail, "HTTP 502 Bad Gateway: ???zz");

	/* No response at all. */
	r = response(0, "", "");
	r.error = HTTP_ERR_TIMEOUT;
	r.error_text = "Operation timed out after 1000 milliseconds";
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_TEMPFAIL);
	assert_int_equal(out.code, 0);
	assert_string_equal(out.detail, r.error_text);

	r.error = HTTP_ERR_URL;
	r.error_text = "Protocol \"ftp\" not supported";
	webhook_classify(&r, &out, detail, sizeof(detail));
	assert_int_equal(out.status, CHANNEL_PERMFAIL);
}

static void test_dryrun_line(void **state)
{
	struct buf b = {0};
	json_t *j;

	(void)state;
	assert_int_equal(dryrun_render_line(&b, "try", &sample, 1714554000), 0);
	assert_int_equal(b.data[b.len - 1], '\n');
	/* One line: the only newline is the last byte. */
	assert_ptr_equal(strchr(b.data, '\n'), b.data + b.len - 1);
	j = json_loads(b.data, 0, NULL);
	assert_non_null(j);
	assert_string_equal(
		json_string_value(json_object_get(j, "subject")),
		"[TLP:AMBER] 【訓練】[DRILL] 不正アクセス \"注意\"\n速報");
	assert_string_equal(json_string_value(json_object_get(j, "key")),
			    "dlv-42");
	assert_string_equal(json_string_value(json_object_get(j, "address")),
			    sample.address);
	assert_true(json_is_true(json_object_get(j, "drill")));
	assert_true(json_is_null(json_object_get(j, "ack_url")));
	json_decref(j);
	buf_free(&b);
}

static void test_registry_names(void **state)
{
	(void)state;
	assert_ptr_equal(channel_driver_find("webhook"), &webhook_driver);
	assert_ptr_equal(channel_driver_find("dryrun"), &dryrun_driver);
	assert_int_equal(webhook_driver.version, CHANNEL_DRIVER_VERSION);
}

int main(void)
{
	/* The config sets TZ (timezone = "Asia/Tokyo" by default). */
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_vector),
		cmocka_unit_test(test_sign_large_body),
		cmocka_unit_test(test_secret_decode_refuses),
		cmocka_unit_test(test_payload_shape),
		cmocka_unit_test(test_payload_kinds_and_bad_text),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_classify),
		cmocka_unit_test(test_dryrun_line),
		cmocka_unit_test(test_registry_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
