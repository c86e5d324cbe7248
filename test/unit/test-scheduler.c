/*
 * Stories of the scheduler (dispatcher/engine/scheduler.c) on the fake
 * clock and the scripted driver: a temporary failure is retried after
 * the backoff and never a millisecond before; a far side's Retry-After
 * is honoured; every organisation gets its first delivery before any
 * organisation its second, and before any retry; max_rate spaces the
 * sends; the group commit leaves every state change on disk in the
 * order it happened; a cancel stops the retries; each delivery that
 * settles is reported once through the engine's hook, a retry never.
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

#include "channels/scripted.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/store/store.h"
#include "dispatcher/engine/timeline.h"
#include "test/unit/testutil.h"

#define T0 TESTUTIL_T0

/*
 * "mail": backoff 2 s, 4 s, no jitter, three attempts in all. "slow": one
 * send at a time. "rated": two sends a second.
 */
static const char config[] =
	"channel \"mail\" { driver = \"scripted\"\n"
	"  retry { max_attempts = 3 initial_delay = 2s multiplier = 2"
	" max_delay = 1m jitter = 0 } }\n"
	"channel \"web\" { driver = \"scripted\" max_concurrency = 1\n"
	"  retry { max_attempts = 3 initial_delay = 1ms jitter = 0 } }\n"
	"channel \"sms\" { driver = \"scripted\" max_rate = 2 }\n"
	"policy \"mail\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  give_up_after = 1h\n"
	"  holiday_first = \"never\"\n"
	"}\n"
	"policy \"web\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"web\"} }\n"
	"  give_up_after = 1h\n"
	"  holiday_first = \"never\"\n"
	"}\n"
	"policy \"sms\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"sms\"} }\n"
	"  give_up_after = 1h\n"
	"  holiday_first = \"never\"\n"
	"}\n";

/* Organisation n: one contact with a mail, two web hooks and an sms. */
#define ORG(n)                                                                 \
	"organisation \"org-" n "\" {\n"                                       \
	"  name = \"組織" n "\"\n"                                             \
	"  sector = \"finance\"\n"                                             \
	"  kind = \"member\"\n"                                                \
	"  contact \"desk\" {\n"                                               \
	"    name = \"窓口\"\n"                                              \
	"    role = \"primary\"\n"                                             \
	"    method \"mail\" { address = \"desk@org-" n ".example.jp\""        \
	" max_tlp = \"AMBER\" }\n"                                             \
	"    method \"web\" { address = \"https://first.example.jp/" n "\""    \
	" max_tlp = \"AMBER\" }\n"                                             \
	"    method \"web\" { address = \"https://second.example.jp/" n "\""   \
	" max_tlp = \"AMBER\" }\n"                                             \
	"    method \"sms\" { address = \"+81900000000" n "\""                 \
	" max_tlp = \"AMBER\" }\n"                                             \
	"  }\n"                                                                \
	"}\n"

static const char directory[] =
	ORG("1") ORG("2") ORG("3") ORG("4") ORG("5") ORG("6");

static int setup(void **state)
{
	*state = testutil_engine_new(config, directory);
	return 0;
}

static int teardown(void **state)
{
	testutil_engine_free(*state);
	return 0;
}

/* started_at of attempt n of the delivery to address, ms after T0. */
static int64_t attempt_at(struct testutil_engine *t, const char *address, int n)
{
	engine_flush(t->engine);
	return testutil_db_int(t->db,
			       "SELECT a.started_at FROM attempts a"
			       " JOIN deliveries d ON d.id = a.delivery_id"
			       " WHERE d.address = %Q AND a.n = %d",
			       address, n) -
	       T0;
}

static void test_retry_backs_off_never_before_due(void **state)
{
	struct testutil_engine *t = *state;
	const char *to = "desk@org-1.example.jp";
	char *id = testutil_engine_send(t, "mail", "org:org-1", "backoff");
	char *st;

	testutil_engine_complete(t, to, CHANNEL_TEMPFAIL, 451,
				 "451 try again later", -1);
	testutil_engine_advance(t, 1999);
	assert_int_equal(testutil_sends_to(to), 1);
	testutil_engine_advance(t, 1);
	assert_int_equal(testutil_sends_to(to), 2);

	/* The second wait doubles. */
	testutil_engine_complete(t, to, CHANNEL_TEMPFAIL, 451,
				 "451 try again later", -1);
	testutil_engine_advance(t, 3999);
	assert_int_equal(testutil_sends_to(to), 2);
	testutil_engine_advance(t, 1);
	assert_int_equal(testutil_sends_to(to), 3);

	/* The third failure is the last attempt: failed, never a fourth. */
	testutil_engine_complete(t, to, CHANNEL_TEMPFAIL, 451, "451 still busy",
				 -1);
	testutil_engine_advance(t, 60000);
	assert_int_equal(testutil_sends_to(to), 3);
	assert_int_equal(attempt_at(t, to, 1), 0);
	assert_int_equal(attempt_at(t, to, 2), 2000);
	assert_int_equal(attempt_at(t, to, 3), 6000);
	st = testutil_db_text(t->db,
			      "SELECT state || ' ' || attempts || ' ' ||"
			      " last_error FROM deliveries WHERE address = %Q",
			      to);
	assert_string_equal(st, "failed 3 451 still busy");
	/* Each retry went out with the same idempotency key. */
	assert_string_equal(scripted_get(0)->key, scripted_get(2)->key);
	free(st);
	free(id);
}

static void test_retry_after_is_honoured(void **state)
{
	struct testutil_engine *t = *state;
	const char *to = "desk@org-2.example.jp";
	char *id = testutil_engine_send(t, "mail", "org:org-2", "429");

	/* The far side asks for 7 s, longer than the 2 s backoff. */
	testutil_engine_advance(t, 300);
	testutil_engine_complete(t, to, CHANNEL_TEMPFAIL, 429,
				 "429 Too Many Requests", 7);
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT next_at FROM deliveries"
					 " WHERE address = %Q",
					 to),
			 T0 + 7300);
	testutil_engine_advance(t, 6999);
	assert_int_equal(testutil_sends_to(to), 1);
	testutil_engine_advance(t, 1);
	assert_int_equal(testutil_sends_to(to), 2);
	testutil_engine_complete(t, to, CHANNEL_OK, 250, "250 ok", -1);
	/* Seven seconds after the answer, not after the attempt began. */
	assert_int_equal(attempt_at(t, to, 2), 300 + 7000);
	free(id);
}

/* The order in which addresses were handed to the driver. */
static void expect_order(const char *const *want, size_t n)
{
	assert_int_equal(scripted_count(), n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(scripted_get(i)->address, want[i]);
}

static void test_first_deliveries_before_seconds_and_retries(void **state)
{
	struct testutil_engine *t = *state;
	static const char *const want[] = {
		"https://first.example.jp/1",  "https://first.example.jp/2",
		"https://first.example.jp/3",  "https://second.example.jp/1",
		"https://second.example.jp/2", "https://second.example.jp/3",
		"https://first.example.jp/1",
	};
	char *id = testutil_engine_send(t, "web",
					"org:org-1,org:org-2,org:"
					"org-3",
					"fairness");

	/* One at a time; the first fails and is due again 1 ms later. */
	testutil_engine_complete(t, want[0], CHANNEL_TEMPFAIL, 503, "503", -1);
	testutil_engine_advance(t, 1);
	/* Due, but the first deliveries of the others go before it. */
	for (size_t i = 1; i < 6; i++)
		testutil_engine_complete(t, want[i], CHANNEL_OK, 200, "200",
					 -1);
	testutil_engine_complete(t, want[6], CHANNEL_OK, 200, "200", -1);
	expect_order(want, 7);
	free(id);
}

static void test_max_rate_spaces_the_sends(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "sms", "sector:finance", "rate");

	/* A burst of two, then one every 500 ms. */
	assert_int_equal(scripted_count(), 2);
	testutil_engine_advance(t, 499);
	assert_int_equal(scripted_count(), 2);
	testutil_engine_advance(t, 1);
	assert_int_equal(scripted_count(), 3);
	testutil_engine_advance(t, 500);
	assert_int_equal(scripted_count(), 4);
	testutil_engine_advance(t, 1000);
	assert_int_equal(scripted_count(), 6);
	free(id);
}

static void test_state_rows_on_disk_in_order(void **state)
{
	struct testutil_engine *t = *state;
	const char *to = "desk@org-3.example.jp";
	char *id = testutil_engine_send(t, "mail", "org:org-3", "order");
	struct store *s;
	int64_t bad = 0;
	char *kinds;

	testutil_engine_complete(t, to, CHANNEL_TEMPFAIL, 451, "451 later", -1);
	testutil_engine_advance(t, 2000);
	testutil_engine_complete(t, to, CHANNEL_OK, 250, "250 queued as X1",
				 -1);
	engine_flush(t->engine);
	/* The last state written wins: sent, not the retry_wait before it. */
	kinds = testutil_db_text(t->db,
				 "SELECT state || ' ' || attempts || ' ' ||"
				 " (sent_at - %lld) FROM deliveries"
				 " WHERE address = %Q",
				 (long long)T0, to);
	assert_string_equal(kinds, "sent 2 2000");
	free(kinds);
	kinds = testutil_db_text(t->db,
				 "SELECT group_concat(outcome, ',') FROM"
				 " (SELECT outcome FROM attempts ORDER BY n)");
	assert_string_equal(kinds, "tempfail,ok");
	free(kinds);
	/* The timeline in the order things happened, its chain whole. */
	kinds = testutil_db_text(t->db,
				 "SELECT group_concat(kind, ',') FROM"
				 " (SELECT kind FROM events WHERE alert_id = %Q"
				 " ORDER BY seq)",
				 id);
	assert_string_equal(kinds, "accepted,retry,sent");
	free(kinds);
	assert_int_equal(store_open(t->db, &s), 0);
	assert_int_equal(timeline_verify(s, id, &bad), 3);
	store_close(s);
	free(id);
}

static void test_cancel_stops_the_retries(void **state)
{
	struct testutil_engine *t = *state;
	const char *to = "desk@org-4.example.jp";
	char *id = testutil_engine_send(t, "mail", "org:org-4", "cancel");
	char *st;

	testutil_engine_complete(t, to, CHANNEL_TEMPFAIL, 451, "451", -1);
	assert_int_equal(engine_cancel(t->engine, id, false, "tester"), 0);
	testutil_engine_advance(t, 60000);
	assert_int_equal(testutil_sends_to(to), 1);
	engine_flush(t->engine);
	st = testutil_db_text(t->db,
			      "SELECT a.state || ' ' || d.state FROM alerts a"
			      " JOIN deliveries d ON d.alert_id = a.id"
			      " WHERE a.id = %Q",
			      id);
	assert_string_equal(st, "cancelled cancelled");
	assert_int_equal(engine_cancel(t->engine, id, false, "tester"),
			 -EALREADY);
	free(st);
	free(id);
}

/* What the settled hook saw, in order; the engine's own hook still runs. */
static engine_settled_fn inner_settled;
static char settled_seen[8][64];
static size_t n_settled;

static void record_settled(struct engine *e, struct rt_delivery *d)
{
	if (n_settled < 8)
		snprintf(settled_seen[n_settled], sizeof(settled_seen[0]),
			 "%s %s", d->address, dstate_name(d->state));
	n_settled++;
	inner_settled(e, d);
}

static void test_each_settled_delivery_reported_once(void **state)
{
	struct testutil_engine *t = *state;
	char *id;

	n_settled = 0;
	inner_settled = t->engine->settled;
	assert_non_null(inner_settled);
	t->engine->settled = record_settled;
	id = testutil_engine_send(t, "web", "org:org-1", "hook");
	/* One send at a time on "web": the first, then the second. */
	testutil_engine_complete(t, "https://first.example.jp/1",
				 CHANNEL_TEMPFAIL, 503, "503", -1);
	assert_int_equal(n_settled, 0); /* a retry is not settled */
	testutil_engine_complete(t, "https://second.example.jp/1",
				 CHANNEL_PERMFAIL, 410, "410 gone", -1);
	assert_int_equal(n_settled, 1);
	assert_string_equal(settled_seen[0],
			    "https://second.example.jp/1 failed");
	testutil_engine_advance(t, 1);
	testutil_engine_complete(t, "https://first.example.jp/1", CHANNEL_OK,
				 200, "200", -1);
	assert_int_equal(n_settled, 2);
	assert_string_equal(settled_seen[1], "https://first.example.jp/1 sent");
	t->engine->settled = inner_settled;
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_each_settled_delivery_reported_once, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_retry_backs_off_never_before_due, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_after_is_honoured,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_first_deliveries_before_seconds_and_retries, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_max_rate_spaces_the_sends,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_state_rows_on_disk_in_order, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_stops_the_retries,
						setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
