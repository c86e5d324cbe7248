/*
 * Unit tests for common/timefmt.c: RFC 3339 text with the zone's
 * numeric offset and milliseconds, never "Z".
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/timefmt.h"

/* 2026-11-22T01:00:00.123Z */
#define T0 1795309200123LL

static void set_tz(const char *tz)
{
	setenv("TZ", tz, 1);
	tzset();
}

static void test_tokyo(void **state)
{
	char out[40];

	(void)state;
	set_tz("Asia/Tokyo");
	time_format_rfc3339(T0, out, sizeof(out));
	assert_string_equal(out, "2026-11-22T10:00:00.123+09:00");
	time_format_rfc3339(0, out, sizeof(out));
	assert_string_equal(out, "1970-01-01T09:00:00.000+09:00");
}

static void test_utc_has_an_offset(void **state)
{
	char out[40];

	(void)state;
	set_tz("UTC");
	time_format_rfc3339(T0, out, sizeof(out));
	assert_string_equal(out, "2026-11-22T01:00:00.123+00:00");
	assert_null(strchr(out, 'Z'));
}

static void test_negative_offset_and_dst(void **state)
{
	char out[40];

	(void)state;
	set_tz("America/New_York");
	time_format_rfc3339(T0, out, sizeof(out));
	assert_string_equal(out, "2026-11-21T20:00:00.123-05:00");
	/* 2026-07-01T00:00:00Z, summer time. */
	time_format_rfc3339(1782864000000LL, out, sizeof(out));
	assert_string_equal(out, "2026-06-30T20:00:00.000-04:00");
	set_tz("Asia/Kolkata");
	time_format_rfc3339(T0, out, sizeof(out));
	assert_string_equal(out, "2026-11-22T06:30:00.123+05:30");
}

static void test_before_1970(void **state)
{
	char out[40];

	(void)state;
	set_tz("UTC");
	/* One millisecond before the epoch: the fraction stays positive. */
	time_format_rfc3339(-1, out, sizeof(out));
	assert_string_equal(out, "1969-12-31T23:59:59.999+00:00");
}

static void test_truncation(void **state)
{
	char out[8];

	(void)state;
	set_tz("UTC");
	time_format_rfc3339(T0, out, sizeof(out));
	assert_string_equal(out, "2026-11");
}

static void test_now(void **state)
{
	int64_t a, b;

	(void)state;
	a = time_now_ms();
	b = (int64_t)time(NULL) * 1000;
	assert_true(a > 1700000000000LL);
	assert_true(a - b < 2000 && b - a < 2000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tokyo),
		cmocka_unit_test(test_utc_has_an_offset),
		cmocka_unit_test(test_negative_offset_and_dst),
		cmocka_unit_test(test_before_1970),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_now),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
