/*
 * Unit tests for dispatcher/engine/model.c: the words of delivery states,
 * organisation states and delivery kinds are what the store holds and
 * status shows, so each is pinned here, and each parses back to its enum;
 * an unknown word is refused. And the deferred release: an alert that
 * finishes inside a walk is freed after it, on the next turn of the loop.
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

#include "dispatcher/engine/model.h"
#include "dispatcher/engine/timer.h"

static void test_delivery_states(void **state)
{
	static const char *const want[] = {
		"queued", "sending", "retry_wait", "sent",
		"failed", "skipped", "cancelled",
	};

	(void)state;
	for (int s = DSTATE_QUEUED; s <= DSTATE_CANCELLED; s++)
		assert_string_equal(dstate_name((enum dstate)s), want[s]);
}

static void test_organisation_states(void **state)
{
	static const char *const want[] = {
		"pending",	"notified",    "escalated",
		"acknowledged", "unreachable", "cancelled",
	};
	enum ostate got;

	(void)state;
	for (int s = OSTATE_PENDING; s <= OSTATE_CANCELLED; s++) {
		assert_string_equal(ostate_name((enum ostate)s), want[s]);
		assert_int_equal(ostate_parse(want[s], &got), 0);
		assert_int_equal(got, s);
	}
	got = OSTATE_ESCALATED;
	assert_int_equal(ostate_parse("Pending", &got), -EINVAL);
	assert_int_equal(ostate_parse("", &got), -EINVAL);
	assert_int_equal(ostate_parse(NULL, &got), -EINVAL);
	assert_int_equal(got, OSTATE_ESCALATED); /* untouched on failure */
}

static void test_delivery_kinds(void **state)
{
	static const char *const want[] = {"alert", "cancel", "unreachable"};
	enum dkind got;

	(void)state;
	for (int k = DKIND_ALERT; k <= DKIND_UNREACHABLE; k++) {
		assert_string_equal(dkind_name((enum dkind)k), want[k]);
		assert_int_equal(dkind_parse(want[k], &got), 0);
		assert_int_equal(got, k);
	}
	assert_int_equal(dkind_parse("update", &got), -EINVAL);
}

/* An engine with only what the release needs: a loop and the alerts. */
static struct engine *release_engine(void)
{
	struct engine *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	e->base = event_base_new();
	assert_non_null(e->base);
	LIST_INIT(&e->alerts);
	assert_int_equal(model_release_start(e), 0);
	return e;
}

static void release_engine_free(struct engine *e)
{
	struct rt_alert *a;

	timer_free(e->release);
	while ((a = LIST_FIRST(&e->alerts)) != NULL) {
		LIST_REMOVE(a, link);
		model_alert_free(a);
	}
	event_base_free(e->base);
	free(e);
}

static struct rt_alert *add_alert(struct engine *e, const char *id,
				  bool finished, size_t unfinished)
{
	struct rt_alert *a = calloc(1, sizeof(*a));

	assert_non_null(a);
	LIST_INIT(&a->deliveries);
	a->id = strdup(id);
	assert_non_null(a->id);
	a->finished = finished;
	a->unfinished = unfinished;
	timeline_head_init(&a->timeline);
	LIST_INSERT_HEAD(&e->alerts, a, link);
	return a;
}

/*
 * Alerts that finish while the list of alerts is walked (as escalation's
 * tick walks it) stay in memory until the walk is over, and go on the
 * next turn of the loop, their timeline heads kept; one with a delivery
 * still unsettled, or given one after it finished, stays.
 */
static void test_finished_alerts_go_after_the_walk(void **state)
{
	struct engine *e = release_engine();
	struct rt_alert *a, *late;
	size_t walked = 0;

	(void)state;
	add_alert(e, "A-1", false, 0);
	add_alert(e, "A-2", false, 0);
	add_alert(e, "A-3", false, 1);
	late = add_alert(e, "A-4", false, 0);
	LIST_FOREACH(a, &e->alerts, link)
	{
		/* Each finishes inside the walk and asks to be released. */
		a->finished = true;
		model_alert_release(e, a);
		walked++;
	}
	assert_int_equal(walked, 4);
	/* Nothing freed inside the calls: every alert is still there. */
	assert_non_null(model_alert_find(e, "A-1"));
	assert_non_null(model_alert_find(e, "A-2"));
	assert_non_null(model_alert_find(e, "A-3"));
	assert_true(timer_armed(e->release));
	/* A duty notice planned after A-4 finished: it stays for it. */
	late->unfinished = 1;

	assert_true(event_base_loop(e->base, EVLOOP_NONBLOCK) >= 0);
	assert_null(model_alert_find(e, "A-1"));
	assert_null(model_alert_find(e, "A-2"));
	assert_non_null(model_kept_head(e, "A-1"));
	assert_non_null(model_kept_head(e, "A-2"));
	assert_non_null(model_alert_find(e, "A-3"));
	assert_non_null(model_alert_find(e, "A-4"));
	assert_null(model_kept_head(e, "A-3"));

	/* A-3's last delivery settles: it goes on the next turn. */
	a = model_alert_find(e, "A-3");
	a->unfinished = 0;
	model_alert_release(e, a);
	assert_non_null(model_alert_find(e, "A-3"));
	assert_true(event_base_loop(e->base, EVLOOP_NONBLOCK) >= 0);
	assert_null(model_alert_find(e, "A-3"));
	assert_non_null(model_alert_find(e, "A-4"));
	release_engine_free(e);
}

/* An alert not finished is never released, whatever asks. */
static void test_an_open_alert_stays(void **state)
{
	struct engine *e = release_engine();

	(void)state;
	model_alert_release(e, add_alert(e, "A-1", false, 0));
	assert_false(timer_armed(e->release));
	assert_true(event_base_loop(e->base, EVLOOP_NONBLOCK) >= 0);
	assert_non_null(model_alert_find(e, "A-1"));
	release_engine_free(e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_states),
		cmocka_unit_test(test_organisation_states),
		cmocka_unit_test(test_delivery_kinds),
		cmocka_unit_test(test_finished_alerts_go_after_the_walk),
		cmocka_unit_test(test_an_open_alert_stays),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
