/*
 * Stories of intake (dispatcher/engine/intake.c) on the fake clock and
 * the scripted driver, about what happens inside the call and what on
 * the loop: accepting an alert commits it and returns before anything
 * is planned or sent (the escalation tick plans step 0 on the next turn
 * of the loop), and cancelling finishes an alert whose memory is freed
 * after the call, on the next turn, never inside its own walk.
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
#include "test/unit/testutil.h"

static const char config[] =
	"channel \"mail\" { driver = \"scripted\"\n"
	"  retry { max_attempts = 2 initial_delay = 1s jitter = 0 } }\n"
	"policy \"two\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  step { after = 10s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  holiday_first = \"never\"\n"
	"}\n";

#define ORG(id)                                                                \
	"organisation \"" id "\" {\n"                                          \
	"  name = \"" id "\"\n"                                                \
	"  sector = \"rail\"\n"                                                \
	"  kind = \"member\"\n"                                                \
	"  contact \"desk\" {\n"                                               \
	"    name = \"窓口\"\n"                                              \
	"    role = \"primary\"\n"                                             \
	"    method \"mail\" { address = \"desk@" id ".example.jp\""           \
	" max_tlp = \"AMBER\" }\n"                                             \
	"  }\n"                                                                \
	"}\n"

static const char directory[] = ORG("rail-a") ORG("rail-b");

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

/* engine_accept itself, without running the loop after it. */
static char *accept_only(struct testutil_engine *t, const char *targets)
{
	char *tv[] = {(char *)targets};
	struct alert_input in = {
		.title = (char *)"運行停止",
		.body = (char *)"本文 / body",
		.type = (char *)"incident",
		.severity = (char *)"high",
		.tlp = TLP_AMBER,
		.targets = tv,
		.n_targets = 1,
		.policy = (char *)"two",
	};
	struct alert_error err = {0};
	char *id = NULL;

	assert_int_equal(engine_accept(t->engine, &in, "tester", &id, &err), 0);
	assert_non_null(id);
	return id;
}

static void test_accept_plans_on_the_next_turn(void **state)
{
	struct testutil_engine *t = *state;
	char *id = accept_only(t, "sector:rail");

	/* Committed, but nothing planned or sent inside the call. */
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM alerts"
					 " WHERE id = %Q",
					 id),
			 1);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM deliveries"
					 " WHERE alert_id = %Q",
					 id),
			 0);
	assert_int_equal(scripted_count(), 0);

	/* The next turn of the loop runs the tick: step 0, no clock moved. */
	testutil_run(t->base);
	assert_int_equal(scripted_count(), 2);
	assert_int_equal(testutil_sends_to("desk@rail-a.example.jp"), 1);
	assert_int_equal(testutil_sends_to("desk@rail-b.example.jp"), 1);
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM deliveries"
					 " WHERE alert_id = %Q",
					 id),
			 2);
	free(id);
}

static void test_two_accepts_in_one_turn_plan_both(void **state)
{
	struct testutil_engine *t = *state;
	char *a = accept_only(t, "org:rail-a");
	char *b = accept_only(t, "org:rail-b");

	assert_int_equal(scripted_count(), 0);
	testutil_run(t->base);
	assert_int_equal(testutil_sends_to("desk@rail-a.example.jp"), 1);
	assert_int_equal(testutil_sends_to("desk@rail-b.example.jp"), 1);
	free(a);
	free(b);
}

static void test_cancelled_alert_leaves_memory_after_the_call(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "two", "sector:rail", "運行停止");
	struct rt_alert *a;

	assert_int_equal(scripted_count(), 2);
	/* Both answered: nothing unsettled, so cancelling finishes it. */
	testutil_engine_complete(t, "desk@rail-a.example.jp", CHANNEL_OK, 250,
				 "250 ok", -1);
	testutil_engine_complete(t, "desk@rail-b.example.jp", CHANNEL_OK, 250,
				 "250 ok", -1);
	assert_int_equal(engine_cancel(t->engine, id, false, "tester"), 0);
	a = model_alert_find(t->engine, id);
	assert_non_null(a);
	assert_true(a->finished);
	assert_int_equal(a->unfinished, 0);
	/* Finished: a second cancel says so, from memory. */
	assert_int_equal(engine_cancel(t->engine, id, false, "tester"),
			 -EALREADY);

	testutil_run(t->base);
	assert_null(model_alert_find(t->engine, id));
	assert_int_equal(engine_cancel(t->engine, id, false, "tester"),
			 -EALREADY);
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM alert_orgs"
					 " WHERE alert_id = %Q"
					 " AND state = 'cancelled'",
					 id),
			 2);
	free(id);
}

static void test_cancel_with_sends_in_flight_waits_for_them(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "two", "sector:rail", "運行停止");
	struct rt_alert *a;

	assert_int_equal(engine_cancel(t->engine, id, false, "tester"), 0);
	/* Two sends in flight were asked to cancel; they settle later. */
	assert_true(scripted_get(0)->cancelled);
	assert_true(scripted_get(1)->cancelled);
	a = model_alert_find(t->engine, id);
	assert_non_null(a);
	assert_true(a->finished);
	assert_int_equal(a->unfinished, 2);
	/* Their completions run on the loop; then the alert goes. */
	testutil_run(t->base);
	assert_true(scripted_get(0)->completed);
	assert_true(scripted_get(1)->completed);
	assert_null(model_alert_find(t->engine, id));
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM deliveries"
					 " WHERE alert_id = %Q"
					 " AND state = 'cancelled'",
					 id),
			 2);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_accept_plans_on_the_next_turn, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_two_accepts_in_one_turn_plan_both, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_cancelled_alert_leaves_memory_after_the_call,
			setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_cancel_with_sends_in_flight_waits_for_them, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
