/*
 * Unit tests for dispatcher/engine/model.c: the words of delivery states,
 * organisation states and delivery kinds are what the store holds and
 * status shows, so each is pinned here, and each parses back to its enum;
 * an unknown word is refused.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delivery_states),
		cmocka_unit_test(test_organisation_states),
		cmocka_unit_test(test_delivery_kinds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
