/*
 * Stories of recovery (dispatcher/engine/recovery.c): the engine is freed
 * with sends in flight, or abandoned as if the process had died, and a
 * new engine on the same database carries on: every unfinished delivery
 * is sent again with the same id (the receiver's idempotency key), a
 * retry keeps its due time, an escalation step that fell due while
 * no engine ran runs at once, and a duty notice sent again after a
 * restart names the government organisation as the first one did.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channels/scripted.h"
#include "common/diag.h"
#include "dispatcher/engine/engine.h"
#include "test/unit/testutil.h"

static const char config[] =
	"channel \"mail\" { driver = \"scripted\"\n"
	"  retry { max_attempts = 3 initial_delay = 2s jitter = 0 } }\n"
	"policy \"two\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  step { after = 10s roles = {\"primary\", \"deputy\"}"
	" channels = {\"mail\"} }\n"
	"  holiday_first = \"never\"\n"
	"}\n";

#define ORG(id)                                                                \
	"organisation \"" id "\" {\n"                                          \
	"  name = \"" id "\"\n"                                                \
	"  sector = \"energy\"\n"                                              \
	"  kind = \"member\"\n"                                                \
	"  contact \"desk\" {\n"                                               \
	"    name = \"窓口\"\n"                                              \
	"    role = \"primary\"\n"                                             \
	"    method \"mail\" { address = \"desk@" id ".example.jp\""           \
	" max_tlp = \"AMBER\" }\n"                                             \
	"  }\n"                                                                \
	"  contact \"deputy\" {\n"                                             \
	"    name = \"副担当\"\n"                                           \
	"    role = \"deputy\"\n"                                              \
	"    method \"mail\" { address = \"deputy@" id ".example.jp\""         \
	" max_tlp = \"AMBER\" }\n"                                             \
	"  }\n"                                                                \
	"}\n"

static const char directory[] = ORG("power-a") ORG("power-b");

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

static void test_freed_mid_flight_resends_with_the_same_ids(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "two", "sector:energy", "停電");
	char *keys[2];

	assert_int_equal(scripted_count(), 2);
	keys[0] = strdup(scripted_get(0)->key);
	keys[1] = strdup(scripted_get(1)->key);

	/* Stopped before either answer came back: given back, not lost. */
	testutil_engine_stop(t);
	assert_int_equal(scripted_waiting(), 0);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM deliveries"
					 " WHERE alert_id = %Q AND state ="
					 " 'queued' AND attempts = 0",
					 id),
			 2);
	testutil_engine_advance(t, 1000);
	testutil_engine_start(t);
	assert_int_equal(scripted_count(), 4);
	assert_string_equal(scripted_get(2)->key, keys[0]);
	assert_string_equal(scripted_get(3)->key, keys[1]);
	testutil_engine_complete(t, "desk@power-a.example.jp", CHANNEL_OK, 250,
				 "250 ok", -1);
	testutil_engine_complete(t, "desk@power-b.example.jp", CHANNEL_OK, 250,
				 "250 ok", -1);
	engine_flush(t->engine);
	/* Two deliveries, each sent once: the restart planned nothing new. */
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM deliveries"
					 " WHERE alert_id = %Q AND state ="
					 " 'sent' AND attempts = 1",
					 id),
			 2);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM deliveries"
					 " WHERE alert_id = %Q",
					 id),
			 2);
	free(keys[0]);
	free(keys[1]);
	free(id);
}

static void test_died_mid_flight_resends_with_the_same_id(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "two", "org:power-a", "停電");
	struct diag_list diags = {0};
	struct engine *dead = t->engine;
	char *key;

	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM deliveries"
					 " WHERE alert_id = %Q AND state ="
					 " 'sending'",
					 id),
			 1);
	key = strdup(scripted_get(0)->key);

	/*
	 * The process dies: the old engine is never stopped, its send never
	 * answered. A new engine opens the same database.
	 */
	assert_int_equal(engine_new(t->base, t->config, &t->engine, &diags), 0);
	testutil_run(t->base);
	assert_int_equal(scripted_count(), 2);
	assert_string_equal(scripted_get(1)->key, key);
	engine_flush(t->engine);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM attempts"
					 " WHERE delivery_id = %Q AND outcome ="
					 " 'unknown'",
					 key),
			 1);
	assert_int_equal(testutil_db_int(t->db,
					 "SELECT count(*) FROM events"
					 " WHERE alert_id = %Q AND kind ="
					 " 'resend'",
					 id),
			 1);
	/* The old engine's memory goes; what it would write, it may. */
	engine_free(dead, 0);
	free(key);
	free(id);
}

static void test_a_retry_keeps_its_due_time(void **state)
{
	struct testutil_engine *t = *state;
	const char *to = "desk@power-a.example.jp";
	char *id = testutil_engine_send(t, "two", "org:power-a", "停電");

	testutil_engine_complete(t, to, CHANNEL_TEMPFAIL, 451, "451", -1);
	testutil_engine_advance(t, 500);
	testutil_engine_stop(t);
	testutil_engine_start(t);
	/* Due at 2 s after the failure, whatever restarted in between. */
	testutil_engine_advance(t, 1499);
	assert_int_equal(testutil_sends_to(to), 1);
	testutil_engine_advance(t, 1);
	assert_int_equal(testutil_sends_to(to), 2);
	free(id);
}

static void test_a_step_due_while_down_runs_at_once(void **state)
{
	struct testutil_engine *t = *state;
	char *id = testutil_engine_send(t, "two", "org:power-b", "停電");

	testutil_engine_complete(t, "desk@power-b.example.jp", CHANNEL_OK, 250,
				 "250 ok", -1);
	testutil_engine_stop(t);
	/* Down for a minute: step 2 fell due meanwhile. */
	testutil_engine_advance(t, 60000);
	testutil_engine_start(t);
	testutil_engine_advance(t, 250);
	assert_int_equal(testutil_sends_to("deputy@power-b.example.jp"), 1);
	assert_int_equal(testutil_sends_to("desk@power-b.example.jp"), 2);
	free(id);
}

/* The duty officer's organisation, for the notice of the unreachable. */
static const char duty_config[] =
	"channel \"mail\" { driver = \"scripted\"\n"
	"  retry { max_attempts = 3 initial_delay = 2s jitter = 0 } }\n"
	"policy \"short\" {\n"
	"  step { after = 0s roles = {\"primary\"} channels = {\"mail\"} }\n"
	"  give_up_after = 5s\n"
	"  holiday_first = \"never\"\n"
	"}\n";

static const char duty_directory[] =
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
	"}\n" ORG("power-a");

/* The last send taken for address, or NULL. */
static const struct scripted_send *last_to(const char *address)
{
	const struct scripted_send *s = NULL;

	for (size_t i = 0; i < scripted_count(); i++)
		if (strcmp(scripted_get(i)->address, address) == 0)
			s = scripted_get(i);
	return s;
}

static void test_a_duty_notice_resent_names_the_organisation(void **state)
{
	struct testutil_engine *t =
		testutil_engine_new(duty_config, duty_directory);
	const char *duty = "duty@nisc.example.jp";
	char *id = testutil_engine_send(t, "short", "org:power-a", "停電");
	char *key;

	(void)state;
	testutil_engine_complete(t, "desk@power-a.example.jp", CHANNEL_OK, 250,
				 "250 ok", -1);
	/* Nobody confirms: five seconds on, the duty officer is told. */
	testutil_engine_advance(t, 5250);
	assert_int_equal(testutil_sends_to(duty), 1);
	assert_string_equal(last_to(duty)->kind, "unreachable");
	assert_string_equal(last_to(duty)->org_id, "nisc");
	assert_string_equal(last_to(duty)->org_name,
			    "内閣サイバーセキュリティセンター");
	key = strdup(last_to(duty)->key);

	/* Stopped before the mail server answered: sent again after. */
	testutil_engine_stop(t);
	testutil_engine_start(t);
	assert_int_equal(testutil_sends_to(duty), 2);
	assert_string_equal(last_to(duty)->key, key);
	assert_string_equal(last_to(duty)->kind, "unreachable");
	assert_non_null(strstr(last_to(duty)->body, "power-a"));
	/* Named as before the restart, not by its id. */
	assert_string_equal(last_to(duty)->org_id, "nisc");
	assert_string_equal(last_to(duty)->org_name,
			    "内閣サイバーセキュリティセンター");
	free(key);
	free(id);
	testutil_engine_free(t);
}

/*
 * A cancellation notice names the first report sent to its address
 * (mail's In-Reply-To), and names it again when it is sent after a
 * restart.
 */
static void test_a_cancel_notice_resent_keeps_its_thread(void **state)
{
	struct testutil_engine *t = *state;
	const char *desk = "desk@power-a.example.jp";
	char *id = testutil_engine_send(t, "two", "org:power-a", "停電");
	char *first, *key;

	assert_int_equal(testutil_sends_to(desk), 1);
	assert_null(last_to(desk)->thread_key);
	first = strdup(last_to(desk)->key);
	testutil_engine_complete(t, desk, CHANNEL_OK, 250, "250 ok", -1);
	assert_int_equal(engine_cancel(t->engine, id, true, "tester"), 0);
	testutil_engine_advance(t, 1);
	assert_int_equal(testutil_sends_to(desk), 2);
	assert_string_equal(last_to(desk)->kind, "cancel");
	assert_string_equal(last_to(desk)->thread_key, first);
	key = strdup(last_to(desk)->key);

	/* Stopped before the mail server answered: the same thread after. */
	testutil_engine_stop(t);
	testutil_engine_start(t);
	assert_int_equal(testutil_sends_to(desk), 3);
	assert_string_equal(last_to(desk)->key, key);
	assert_string_equal(last_to(desk)->kind, "cancel");
	assert_string_equal(last_to(desk)->thread_key, first);
	free(first);
	free(key);
	free(id);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_freed_mid_flight_resends_with_the_same_ids, setup,
			teardown),
		cmocka_unit_test_setup_teardown(
			test_died_mid_flight_resends_with_the_same_id, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_a_retry_keeps_its_due_time,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_a_step_due_while_down_runs_at_once, setup,
			teardown),
		cmocka_unit_test(
			test_a_duty_notice_resent_names_the_organisation),
		cmocka_unit_test_setup_teardown(
			test_a_cancel_notice_resent_keeps_its_thread, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
