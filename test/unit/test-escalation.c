/*
 * Stories of escalation (dispatcher/engine/escalation.c) on the fake clock
 * and the scripted driver: the next step runs once its delay has passed
 * and not before; a step whose every delivery failed for good runs the
 * next one at once (failover); a confirmation stops its organisation
 * only; when every step has run unconfirmed, the duty officer is told
 * which organisations could not be reached. The same stories run against
 * real servers in test/integration/test_escalation.py, in seconds; here
 * in milliseconds and to the millisecond.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channels/scripted.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/engine.h"
#include "test/unit/testutil.h"

static const char config[] =
	"channel \"mail\" { driver = \"scripted\"\n"
	"  retry { max_attempts = 2 initial_delay = 1s jitter = 0 } }\n"
	"channel \"web\" { driver = \"scripted\"\n"
	"  retry { max_attempts = 2 initial_delay = 1s jitter = 0 } }\n"
	/* Three steps ten seconds apart: unreachable at 30 s. */
	"policy \"fast\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  step { after = 10s roles = {\"primary\", \"deputy\"}"
	" channels = {\"mail\"} }\n"
	"  step { after = 20s roles = {\"primary\", \"deputy\"}"
	" channels = {\"mail\", \"web\"} }\n"
	"  holiday_first = \"never\"\n"
	"}\n"
	/* Mail first; the web hook only a minute later, or on failure. */
	"policy \"failover\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  step { after = 60s roles = {\"primary\"} channels = {\"web\"} }\n"
	"  holiday_first = \"never\"\n"
	"}\n"
	/* One step, unreachable five seconds after it. */
	"policy \"short\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  give_up_after = 5s\n"
	"  holiday_first = \"never\"\n"
	"}\n"
	/* The standard shape: the weekday desk first, unless it is closed. */
	"policy \"desk\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  holiday_first = \"calendar\"\n"
	"}\n";

#define WATER(id, name)                                                        \
	"organisation \"" id "\" {\n"                                          \
	"  name = \"" name "\"\n"                                              \
	"  sector = \"water\"\n"                                               \
	"  kind = \"member\"\n"                                                \
	"  contact \"desk\" {\n"                                               \
	"    name = \"窓口\"\n"                                              \
	"    role = \"primary\"\n"                                             \
	"    method \"mail\" { address = \"desk@" id ".example.jp\""           \
	" max_tlp = \"AMBER\" }\n"                                             \
	"    method \"web\" { address = \"https://hooks." id                   \
	".example.jp/alert\" max_tlp = \"AMBER\" }\n"                          \
	"  }\n"                                                                \
	"  contact \"deputy\" {\n"                                             \
	"    name = \"副担当\"\n"                                           \
	"    role = \"deputy\"\n"                                              \
	"    method \"mail\" { address = \"deputy@" id ".example.jp\""         \
	" max_tlp = \"AMBER\" }\n"                                             \
	"  }\n"                                                                \
	"}\n"

static const char directory[] =
	"organisation \"nisc\" {\n"
	"  name = \"内閣サイバーセキュリティセンター\"\n"
	"  sector = \"government\"\n"
	"  kind = \"government\"\n"
	"  contact \"duty\" {\n"
	"    name = \"当直\"\n"
	"    role = \"duty\"\n"
	"    method \"mail\" { address = \"duty@nisc.example.jp\""
	" max_tlp = \"RED\" }\n"
	"  }\n"
	"}\n" WATER("water-a", "甲水道") WATER("water-b", "乙水道");

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

/* Every send waiting is answered OK (what a working mail server does). */
static void answer_all_ok(struct testutil_engine *t)
{
	for (size_t i = 0; i < scripted_count(); i++)
		if (!scripted_get(i)->told)
			assert_int_equal(scripted_complete(i, CHANNEL_OK, 250,
							   "250 queued", -1),
					 0);
	testutil_run(t->base);
}

static void test_next_step_after_the_policy_delay(void **state)
{
	struct testutil_engine *t = *state;
	char *id =
		testutil_engine_send(t, "fast", "sector:water", "断水の恐れ");

	/* Step 1 at once: the primary contact of each organisation. */
	assert_int_equal(scripted_count(), 2);
	assert_int_equal(testutil_sends_to("desk@water-a.example.jp"), 1);
	assert_int_equal(testutil_sends_to("desk@water-b.example.jp"), 1);
	answer_all_ok(t);

	/* Not a millisecond before ten seconds. */
	testutil_engine_advance(t, 9999);
	assert_int_equal(scripted_count(), 2);
	/* Within one escalation tick after. */
	testutil_engine_advance(t, 250);
	assert_int_equal(testutil_sends_to("deputy@water-a.example.jp"), 1);
	assert_int_equal(testutil_sends_to("deputy@water-b.example.jp"), 1);
	assert_int_equal(testutil_sends_to("desk@water-a.example.jp"), 2);
	assert_int_equal(testutil_sends_to("https://hooks.water-a.example.jp/"
					   "alert"),
			 0);
	answer_all_ok(t);
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM alert_orgs"
					 " WHERE alert_id = %Q AND step = 1"
					 " AND state = 'escalated'",
					 id),
			 2);

	/* Step 3 adds the web hook; then, unconfirmed, unreachable. */
	testutil_engine_advance(t, 10000);
	assert_int_equal(testutil_sends_to("https://hooks.water-a.example.jp/"
					   "alert"),
			 1);
	answer_all_ok(t);
	testutil_engine_advance(t, 10000);
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM alert_orgs"
					 " WHERE alert_id = %Q"
					 " AND state = 'unreachable'",
					 id),
			 2);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM events"
					 " WHERE alert_id = %Q"
					 " AND kind = 'escalated'",
					 id),
			 4);
	free(id);
}

static void test_permanent_failure_fails_over_at_once(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "failover", "sector:water",
					"制御系への攻撃");
	char *err;

	testutil_engine_complete(t, "desk@water-a.example.jp", CHANNEL_PERMFAIL,
				 550, "550 no such user", -1);
	testutil_engine_complete(t, "desk@water-b.example.jp", CHANNEL_OK, 250,
				 "250 queued", -1);
	/* The next tick runs step 2 for water-a, fifty-nine seconds early. */
	testutil_engine_advance(t, 250);
	assert_int_equal(testutil_sends_to("https://hooks.water-a.example.jp/"
					   "alert"),
			 1);
	assert_int_equal(testutil_sends_to("https://hooks.water-b.example.jp/"
					   "alert"),
			 0);
	engine_flush(t->engine);
	err = testutil_db_text(t->db,
			       "SELECT last_error FROM deliveries"
			       " WHERE alert_id = %Q AND state = 'failed'",
			       id);
	assert_non_null(err);
	assert_non_null(strstr(err, "550 no such user"));
	/* water-b waits for its own time. */
	testutil_engine_advance(t, 59749);
	assert_int_equal(testutil_sends_to("https://hooks.water-b.example.jp/"
					   "alert"),
			 0);
	testutil_engine_advance(t, 250);
	assert_int_equal(testutil_sends_to("https://hooks.water-b.example.jp/"
					   "alert"),
			 1);
	free(err);
	free(id);
}

/* The reply-link token at the end of a sent message's link. */
static const char *token_of(const char *address)
{
	for (size_t i = 0; i < scripted_count(); i++) {
		const struct scripted_send *s = scripted_get(i);

		if (strcmp(s->address, address) == 0 && s->ack_url != NULL)
			return strrchr(s->ack_url, '/') + 1;
	}
	fail_msg("no reply link went to %s", address);
	return NULL;
}

static void confirmed(void *arg, int result)
{
	*(int *)arg = result == 0 ? 1 : -1;
}

static void test_duty_notice_names_the_unreachable(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "short", "sector:water", "水質異常");
	const struct scripted_send *duty = NULL;
	int done = 0;

	answer_all_ok(t);
	/* Someone at water-a confirms by the reply link. */
	assert_int_equal(engine_ack_confirm(
				 t->engine, token_of("desk@water-a.example.jp"),
				 "received", "山田", NULL, "192.0.2.1", "test",
				 confirmed, &done),
			 0);
	testutil_run(t->base);
	assert_int_equal(done, 1);

	/* Five seconds later water-b is unreachable: the duty officer hears. */
	testutil_engine_advance(t, 4999);
	assert_int_equal(testutil_sends_to("duty@nisc.example.jp"), 0);
	testutil_engine_advance(t, 250);
	assert_int_equal(testutil_sends_to("duty@nisc.example.jp"), 1);
	for (size_t i = 0; i < scripted_count(); i++)
		if (strcmp(scripted_get(i)->address, "duty@nisc.example.jp") ==
		    0)
			duty = scripted_get(i);
	assert_string_equal(duty->kind, "unreachable");
	assert_non_null(strstr(duty->title, "到達不能"));
	assert_non_null(strstr(duty->body, "water-b"));
	assert_null(strstr(duty->body, "water-a"));
	/* Nothing more went to the organisation that confirmed. */
	assert_int_equal(testutil_sends_to("desk@water-a.example.jp"), 1);
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM events"
					 " WHERE alert_id = %Q"
					 " AND kind = 'duty_notified'",
					 id),
			 1);
	free(id);
}

static void test_confirmation_stops_that_organisation_only(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "fast", "sector:water", "断水");
	int done = 0;

	answer_all_ok(t);
	assert_int_equal(engine_ack_confirm(
				 t->engine, token_of("desk@water-b.example.jp"),
				 "affected", NULL, "調査中", "192.0.2.1",
				 "test", confirmed, &done),
			 0);
	testutil_run(t->base);
	assert_int_equal(done, 1);
	testutil_engine_advance(t, 10250);
	assert_int_equal(testutil_sends_to("deputy@water-a.example.jp"), 1);
	assert_int_equal(testutil_sends_to("deputy@water-b.example.jp"), 0);
	assert_int_equal(testutil_sends_to("desk@water-b.example.jp"), 1);
	engine_flush(t->engine);
	assert_int_equal(
		testutil_db_int(t->db,
				"SELECT count(*) FROM alert_orgs"
				" WHERE alert_id = %Q AND org_id ="
				" 'water-b' AND state = 'acknowledged'",
				id),
		1);
	free(id);
}

/*
 * 年末年始: December 29 to January 3 are days off (government offices by
 * law, most members too) although they may be weekdays. On Wednesday
 * 2026-12-30 at 10:00 the first step reaches the holiday desk first (and
 * the weekday desk after it); on Friday 2026-12-25 at the same hour only
 * the weekday desk, as on any business day.
 */
static const char office_directory[] =
	"organisation \"water-c\" {\n"
	"  name = \"丙水道\"\n"
	"  sector = \"water\"\n"
	"  kind = \"member\"\n"
	"  hours = \"mon-fri 08:30-17:15\"\n"
	"  contact \"desk\" { name = \"窓口\" role = \"primary\"\n"
	"    method \"mail\" { address = \"desk@water-c.example.jp\" } }\n"
	"  contact \"holiday\" { name = \"休日当番\" role = \"holiday\"\n"
	"    method \"mail\" { address = \"holiday@water-c.example.jp\" } }\n"
	"}\n";

/* Sends the first step at `at`; whether the holiday desk came first. */
static bool holiday_desk_first_at(int64_t at)
{
	struct testutil_engine *t =
		testutil_engine_new(config, office_directory);
	bool first;
	char *id;

	clock_fake_set(at);
	id = testutil_engine_send(t, "desk", "sector:water", "年末の警報");
	assert_true(scripted_count() >= 1);
	assert_int_equal(testutil_sends_to("desk@water-c.example.jp"), 1);
	first = strcmp(scripted_get(0)->address,
		       "holiday@water-c.example.jp") == 0;
	/* Reached at all only when it came first. */
	assert_int_equal(testutil_sends_to("holiday@water-c.example.jp"),
			 first ? 1 : 0);
	free(id);
	testutil_engine_free(t);
	return first;
}

static void test_year_end_reaches_the_holiday_desk(void **state)
{
	(void)state;
	/* 2026-12-30T10:00:00+09:00, a Wednesday within 年末年始. */
	assert_true(holiday_desk_first_at(1798592400000LL));
	/* 2026-12-25T10:00:00+09:00, a Friday and a business day. */
	assert_false(holiday_desk_first_at(1798160400000LL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_next_step_after_the_policy_delay, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_permanent_failure_fails_over_at_once, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_duty_notice_names_the_unreachable, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_confirmation_stops_that_organisation_only, setup,
			teardown),
		cmocka_unit_test(test_year_end_reaches_the_holiday_desk),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
