/*
 * Unit tests for channels/twilio_common.c's table of sends: a final
 * status whose words the gateway chose (an SMS ErrorCode, a fax's
 * NumPages) is cut to the outcome's size, and the cut must fall between
 * characters, both for a send already known and for a status that came
 * before the gateway's 201 named the send (found by fuzz-callback).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <event2/event.h>

#include "channels/http_client.h"
#include "channels/twilio_common.h"
#include "common/utf8.h"

struct seen {
	int calls;
	enum channel_status status;
	char detail[160];
};

static void sent(void *arg, const struct channel_outcome *out)
{
	struct seen *s = arg;

	s->calls++;
	s->status = out->status;
	snprintf(s->detail, sizeof(s->detail), "%s", out->detail);
}

/* "sms undelivered: " and 60 characters of three bytes each. */
static const char *long_detail(void)
{
	static char d[256];

	snprintf(d, sizeof(d), "sms undelivered: ");
	for (int i = 0; i < 60; i++)
		strcat(d, "あ");
	return d;
}

static struct twilio_send *new_send(struct twilio_table *t, struct seen *seen)
{
	struct channel_message m = {.key = "D-1", .alert_id = "A-1"};
	struct twilio_send *s = twilio_send_new(t, &m, sent, seen);

	assert_non_null(s);
	return s;
}

static void test_finish_cuts_between_characters(void **state)
{
	struct event_base *base = event_base_new();
	struct twilio_table t;
	struct seen seen = {0};
	struct twilio_send *s;

	(void)state;
	assert_int_equal(twilio_table_init(&t, base), 0);
	s = new_send(&t, &seen);
	s->sid = strdup("SM01");
	twilio_rest_ended(&t, s);
	twilio_table_index(&t, s);
	twilio_finish_sid(&t, "SM01", CHANNEL_TEMPFAIL, 0, long_detail());
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.status, CHANNEL_TEMPFAIL);
	assert_true(strncmp(seen.detail, "sms undelivered: あ", 20) == 0);
	assert_true(utf8_valid(seen.detail, strlen(seen.detail), NULL));
	twilio_table_fini(&t);
	event_base_free(base);
}

static void test_early_status_cuts_between_characters(void **state)
{
	struct event_base *base = event_base_new();
	struct twilio_provider prov = {.name = "primary"};
	struct twilio_conf conf = {.prov = &prov, .n_prov = 1};
	struct http_response res = {
		.status = 201,
		.reason = "Created",
		.body = "{\"sid\":\"SM02\"}",
		.body_len = 14,
		.retry_after = -1,
		.error_text = "",
	};
	struct twilio_table t;
	struct seen seen = {0};

	(void)state;
	assert_int_equal(twilio_table_init(&t, base), 0);
	t.conf = &conf;
	t.status_timeout = 60;
	/* The callback outruns the 201: kept, then applied. */
	twilio_finish_sid(&t, "SM02", CHANNEL_TEMPFAIL, 0, long_detail());
	twilio_created(new_send(&t, &seen), &res);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert_int_equal(seen.calls, 1);
	assert_int_equal(seen.status, CHANNEL_TEMPFAIL);
	assert_true(strncmp(seen.detail, "sms undelivered: あ", 20) == 0);
	assert_true(utf8_valid(seen.detail, strlen(seen.detail), NULL));
	twilio_table_fini(&t);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_finish_cuts_between_characters),
		cmocka_unit_test(test_early_status_cuts_between_characters),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
