/*
 * Unit tests for channels/scripted.c, the test driver the engine stories
 * use, held to the driver contract of channels/channel.h: a completion
 * never runs inside channel_send() or inside the test's own call, and
 * exactly once; a cancel withdraws a send not yet told, while one already
 * told completes as told; stop completes everything held before it
 * returns; and stop and free are safe on a channel configured but never
 * started, or never configured.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channels/channel.h"
#include "channels/scripted.h"
#include "test/unit/testutil.h"

/* What the completions of one send saw. */
struct seen {
	int calls;
	enum channel_status status;
	int code;
	int retry_after;
	char detail[64];
};

static void done(void *arg, const struct channel_outcome *out)
{
	struct seen *s = arg;

	s->calls++;
	s->status = out->status;
	s->code = out->code;
	s->retry_after = out->retry_after;
	snprintf(s->detail, sizeof(s->detail), "%s", out->detail);
}

struct fixture {
	struct event_base *base;
	struct channel ch;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	scripted_reset();
	f->base = event_base_new();
	f->ch.driver = channel_driver_find("scripted");
	f->ch.name = "mail";
	assert_non_null(f->ch.driver);
	assert_int_equal(channel_configure(&f->ch, NULL, "x.conf", NULL), 0);
	assert_int_equal(channel_start(&f->ch, f->base), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	channel_stop(&f->ch);
	channel_free_priv(&f->ch);
	event_base_free(f->base);
	scripted_reset();
	free(f);
	return 0;
}

static void send_to(struct fixture *f, const char *key, const char *address,
		    struct seen *seen)
{
	struct channel_message m = {
		.key = key,
		.address = address,
		.title = "件名",
		.kind = NULL,
		.ack_url = "https://example.jp/ack/abc",
	};

	assert_int_equal(channel_send(&f->ch, &m, done, seen), 0);
}

static void test_completes_once_from_the_loop(void **state)
{
	struct fixture *f = *state;
	struct seen a = {0}, b = {0};

	send_to(f, "A-1-1", "a@example.jp", &a);
	send_to(f, "A-1-2", "b@example.jp", &b);
	assert_int_equal(scripted_count(), 2);
	assert_int_equal(channel_in_flight(&f->ch), 2);
	assert_string_equal(scripted_get(0)->kind, "alert");
	assert_string_equal(scripted_get(0)->channel, "mail");
	assert_string_equal(scripted_get(1)->ack_url,
			    "https://example.jp/ack/abc");
	assert_int_equal(scripted_find("b@example.jp"), 1);

	assert_int_equal(
		scripted_complete(1, CHANNEL_TEMPFAIL, 429, "429 slow down", 5),
		0);
	assert_int_equal(b.calls, 0); /* not inside the test's call */
	assert_int_equal(scripted_find("b@example.jp"), -1);
	assert_int_equal(scripted_complete(1, CHANNEL_OK, 200, "200", -1),
			 -EALREADY);
	testutil_run(f->base);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, CHANNEL_TEMPFAIL);
	assert_int_equal(b.code, 429);
	assert_int_equal(b.retry_after, 5);
	assert_string_equal(b.detail, "429 slow down");
	assert_int_equal(a.calls, 0);
	assert_int_equal(scripted_waiting(), 1);
	assert_int_equal(channel_in_flight(&f->ch), 1);
	testutil_run(f->base);
	assert_int_equal(b.calls, 1);
	assert_int_equal(scripted_complete(5, CHANNEL_OK, 0, NULL, -1),
			 -ENOENT);
	/* a completes here, not in teardown after its record is gone. */
	assert_int_equal(scripted_complete(0, CHANNEL_OK, 250, NULL, -1), 0);
	testutil_run(f->base);
	assert_int_equal(a.calls, 1);
	assert_string_equal(a.detail, "");
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct seen a = {0}, b = {0};

	send_to(f, "A-1-1", "a@example.jp", &a);
	send_to(f, "A-1-2", "b@example.jp", &b);
	/* b is already told: "on the wire", it completes as told. */
	assert_int_equal(
		scripted_complete(1, CHANNEL_PERMFAIL, 550, "550 unknown", -1),
		0);
	channel_cancel(&f->ch, "A-1-1");
	channel_cancel(&f->ch, "A-1-2");
	channel_cancel(&f->ch, "no-such-key");
	assert_int_equal(a.calls, 0);
	testutil_run(f->base);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, CHANNEL_CANCELLED);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, CHANNEL_PERMFAIL);
	assert_int_equal(b.retry_after, -1);
	assert_true(scripted_get(0)->cancelled);
	assert_int_equal(scripted_complete(0, CHANNEL_OK, 0, NULL, -1),
			 -EALREADY);
}

static void test_stop_gives_back_what_it_holds(void **state)
{
	struct fixture *f = *state;
	struct seen a = {0}, b = {0}, c = {0};

	send_to(f, "A-1-1", "a@example.jp", &a);
	send_to(f, "A-1-2", "b@example.jp", &b);
	assert_int_equal(scripted_complete(1, CHANNEL_OK, 250, "250", -1), 0);
	channel_stop(&f->ch);
	/* Before stop returned: the told one as told, the other given back. */
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.status, CHANNEL_TEMPFAIL);
	assert_string_equal(a.detail, "stopped");
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.status, CHANNEL_OK);
	assert_int_equal(channel_in_flight(&f->ch), 0);
	/* Stopped: no more sends; a second stop is harmless. */
	{
		struct channel_message m = {.key = "k", .address = "c"};

		assert_int_equal(channel_send(&f->ch, &m, done, &c), -ENOTCONN);
	}
	channel_stop(&f->ch);
	testutil_run(f->base);
	assert_int_equal(a.calls + b.calls + c.calls, 2);
	/* The records outlive the channel. */
	assert_int_equal(scripted_count(), 2);
	assert_true(scripted_get(0)->completed);
}

static void test_half_started(void **state)
{
	struct channel ch = {.driver = channel_driver_find("scripted"),
			     .name = "web"};
	struct channel_message m = {.key = "k", .address = "x"};
	struct seen s = {0};

	(void)state;
	/* Never configured. */
	channel_stop(&ch);
	channel_free_priv(&ch);
	/* Configured, never started: refuses sends, stops and frees. */
	assert_int_equal(channel_configure(&ch, NULL, "x.conf", NULL), 0);
	assert_int_equal(channel_send(&ch, &m, done, &s), -ENOTCONN);
	assert_int_equal(channel_in_flight(&ch), 0);
	channel_stop(&ch);
	channel_free_priv(&ch);
	assert_null(ch.priv);
	assert_int_equal(s.calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_completes_once_from_the_loop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_stop_gives_back_what_it_holds, setup, teardown),
		cmocka_unit_test(test_half_started),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
