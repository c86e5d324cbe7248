/*
 * Unit tests for policies/calendar.c: zones, dates, the shipped Japanese
 * holiday file, errors in a holiday file with their lines, and the period
 * (business, off-hours, holiday) of an organisation at instants around
 * Tokyo's and UTC's midnights. Instants are built with timegm(), which
 * knows nothing of our code, so expectations do not lean on what is tested.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/diag.h"
#include "contacts/directory.h"
#include "policies/calendar.h"

#define HOLIDAYS_JP POLICIES_DIR "/holidays-jp.conf"

/* The instant of a wall-clock time at a UTC offset (hours). */
static time_t at(int y, int mo, int d, int h, int mi, int offset_h)
{
	struct tm tm = {
		.tm_year = y - 1900,
		.tm_mon = mo - 1,
		.tm_mday = d,
		.tm_hour = h,
		.tm_min = mi,
	};

	return timegm(&tm) - offset_h * 3600;
}

#define jst(y, mo, d, h, mi) at(y, mo, d, h, mi, 9)

static void test_zone_offsets(void **state)
{
	int off = 12345;

	(void)state;
	assert_int_equal(calendar_zone_offset("Asia/Tokyo", &off), 0);
	assert_int_equal(off, 32400);
	assert_int_equal(calendar_zone_offset("UTC", &off), 0);
	assert_int_equal(off, 0);
	off = 1;
	assert_int_equal(calendar_zone_offset("Etc/UTC", &off), 0);
	assert_int_equal(off, 0);
	assert_int_equal(calendar_zone_offset("+05:30", &off), 0);
	assert_int_equal(off, 19800);
	assert_int_equal(calendar_zone_offset("-03:00", &off), 0);
	assert_int_equal(off, -10800);
	assert_int_equal(calendar_zone_offset("+14:00", &off), 0);
	assert_int_equal(off, 50400);

	off = 777;
	assert_int_equal(calendar_zone_offset("Europe/London", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset("asia/tokyo", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset("JST", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset("+9:00", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset("+09:60", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset("+14:30", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset("09:00", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset("", &off), -EINVAL);
	assert_int_equal(calendar_zone_offset(NULL, &off), -EINVAL);
	assert_int_equal(off, 777);
}

static void test_dates(void **state)
{
	int day = -1;

	(void)state;
	assert_int_equal(calendar_parse_date("1970-01-01", &day), 0);
	assert_int_equal(day, 0);
	assert_int_equal(calendar_parse_date("2026-01-01", &day), 0);
	assert_int_equal(day, 20454);
	assert_int_equal(calendar_parse_date("2024-02-29", &day), 0);
	assert_int_equal(day, 19782);
	assert_int_equal(calendar_parse_date("2000-03-01", &day), 0);
	assert_int_equal(day, 11017);
	day = -1;
	assert_int_equal(calendar_parse_date("2026-02-29", &day), -EINVAL);
	assert_int_equal(calendar_parse_date("2100-02-29", &day), -EINVAL);
	assert_int_equal(calendar_parse_date("2026-13-01", &day), -EINVAL);
	assert_int_equal(calendar_parse_date("2026-04-31", &day), -EINVAL);
	assert_int_equal(calendar_parse_date("2026-1-01", &day), -EINVAL);
	assert_int_equal(calendar_parse_date("2026/01/01", &day), -EINVAL);
	assert_int_equal(calendar_parse_date("2026-01-01x", &day), -EINVAL);
	assert_int_equal(calendar_parse_date("1969-12-31", &day), -EINVAL);
	assert_int_equal(day, -1);
}

static int day_of(const char *s)
{
	int day = -1;

	assert_int_equal(calendar_parse_date(s, &day), 0);
	return day;
}

static void test_holiday_file_loads(void **state)
{
	struct diag_list d = {0};
	struct calendar cal = {0};
	const struct calendar_holiday *h;
	size_t in2026 = 0, in2027 = 0;

	(void)state;
	assert_int_equal(calendar_load(HOLIDAYS_JP, &cal, &d), 0);
	diag_print(&d, stderr);
	assert_int_equal(d.n, 0);
	assert_int_equal(cal.n, 35);
	for (size_t i = 0; i < cal.n; i++) {
		if (i > 0)
			assert_true(cal.holidays[i - 1].day <
				    cal.holidays[i].day);
		if (cal.holidays[i].day < day_of("2027-01-01"))
			in2026++;
		else
			in2027++;
	}
	assert_int_equal(in2026, 18);
	assert_int_equal(in2027, 17);

	h = calendar_holiday_on(&cal, day_of("2026-01-01"));
	assert_non_null(h);
	assert_string_equal(h->name, "元日");
	h = calendar_holiday_on(&cal, day_of("2026-05-06"));
	assert_non_null(h);
	assert_string_equal(h->name, "振替休日");
	h = calendar_holiday_on(&cal, day_of("2026-09-22"));
	assert_non_null(h);
	assert_string_equal(h->name, "国民の休日");
	h = calendar_holiday_on(&cal, day_of("2027-03-22"));
	assert_non_null(h);
	assert_string_equal(h->name, "振替休日");
	assert_non_null(calendar_holiday_on(&cal, day_of("2026-01-12")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2026-02-23")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2026-03-20")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2026-07-20")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2026-10-12")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2027-01-11")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2027-07-19")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2027-09-20")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2027-10-11")));
	assert_non_null(calendar_holiday_on(&cal, day_of("2027-11-23")));
	/* Working days next to holidays. */
	assert_null(calendar_holiday_on(&cal, day_of("2026-05-07")));
	assert_null(calendar_holiday_on(&cal, day_of("2026-09-24")));
	assert_null(calendar_holiday_on(&cal, day_of("2026-12-31")));
	assert_null(calendar_holiday_on(&cal, day_of("2027-09-21")));
	assert_null(calendar_holiday_on(&cal, day_of("2027-09-22")));
	assert_null(calendar_holiday_on(NULL, day_of("2026-01-01")));
	calendar_free(&cal);
	assert_int_equal(cal.n, 0);
	calendar_free(NULL);
	diag_clear(&d);
}

/* Writes text to a fresh temporary file; its path goes to path (64). */
static void write_temp(const char *text, char *path)
{
	FILE *f;
	int fd;

	snprintf(path, 64, "/tmp/test-calendar-XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	f = fdopen(fd, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_holiday_file_errors(void **state)
{
	struct diag_list d = {0};
	struct calendar cal = {.n = 99};
	char path[64], want[128];

	(void)state;
	/* Comments before the errors: their lines must still be right. */
	write_temp("# a holiday file\n"
		   "// with comments /* of every kind */\n"
		   "/* over\n   two lines */\n"
		   "holiday \"2026-01-01\" { name = \"元日\" }\n"
		   "holiday \"2026-02-30\" { name = \"x\" }\n"
		   "\n"
		   "holiday \"2026/03/01\" {\n"
		   "  name = \"y\"\n"
		   "}\n",
		   path);
	assert_int_equal(calendar_load(path, &cal, &d), -EINVAL);
	assert_int_equal(cal.n, 99);
	assert_int_equal(d.n, 2);
	snprintf(want, sizeof(want),
		 "%s:6: holiday \"2026-02-30\": not a date (YYYY-MM-DD)", path);
	assert_string_equal(d.lines[0], want);
	/* A section is where it opens (libconfuse alone says 10). */
	snprintf(want, sizeof(want),
		 "%s:8: holiday \"2026/03/01\": not a date (YYYY-MM-DD)", path);
	assert_string_equal(d.lines[1], want);
	unlink(path);
	diag_clear(&d);

	/* A syntax error, reported by libconfuse through our list. */
	write_temp("# first\n"
		   "holiday \"2026-01-01\" { name = \"a\" }\n"
		   "holiday \"2026-01-02\" { nme = \"b\" }\n",
		   path);
	assert_int_equal(calendar_load(path, &cal, &d), -EINVAL);
	assert_true(d.n >= 1);
	snprintf(want, sizeof(want), "%s:3: ", path);
	assert_memory_equal(d.lines[0], want, strlen(want));
	assert_non_null(strstr(d.lines[0], "nme"));
	unlink(path);
	diag_clear(&d);

	/* The same date twice. */
	write_temp("holiday \"2026-01-01\" { name = \"a\" }\n"
		   "holiday \"2026-01-01\" { name = \"b\" }\n",
		   path);
	assert_int_equal(calendar_load(path, &cal, &d), -EINVAL);
	assert_true(d.n >= 1);
	snprintf(want, sizeof(want), "%s:2: ", path);
	assert_memory_equal(d.lines[0], want, strlen(want));
	unlink(path);
	diag_clear(&d);

	/* Comment characters inside quotes are text. */
	write_temp("holiday \"2026-01-03\" { name = \"a#b // c /* d */\" }\n",
		   path);
	assert_int_equal(calendar_load(path, &cal, &d), 0);
	assert_int_equal(d.n, 0);
	assert_int_equal(cal.n, 1);
	assert_string_equal(cal.holidays[0].name, "a#b // c /* d */");
	calendar_free(&cal);
	unlink(path);

	/* No file. */
	assert_int_equal(calendar_load("/nonexistent/holidays.conf", &cal, &d),
			 -ENOENT);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.lines[0],
			    "/nonexistent/holidays.conf: cannot read the "
			    "holiday file: No such file or directory");
	diag_clear(&d);
}

static struct calendar load_jp(void)
{
	struct diag_list d = {0};
	struct calendar cal = {0};

	assert_int_equal(calendar_load(HOLIDAYS_JP, &cal, &d), 0);
	diag_clear(&d);
	return cal;
}

static void test_period_tokyo(void **state)
{
	struct calendar cal = load_jp();
	const struct dir_hours *h = calendar_default_hours();

	(void)state;
	/* New Year's Day begins in Tokyo while UTC is still on Dec 31. */
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 1, 0, 30)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 1, 0, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, h, jst(2025, 12, 31, 23, 59)),
			 CALENDAR_OFF_HOURS);
	assert_int_equal(calendar_period_at(&cal, h, jst(2025, 12, 31, 12, 0)),
			 CALENDAR_BUSINESS);
	/* Monday 2026-01-05: the edges of the working day. */
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 5, 8, 59)),
			 CALENDAR_OFF_HOURS);
	assert_int_equal(
		calendar_period_at(&cal, h, jst(2026, 1, 5, 8, 59) + 59),
		CALENDAR_OFF_HOURS);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 5, 9, 0)),
			 CALENDAR_BUSINESS);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 5, 17, 59)),
			 CALENDAR_BUSINESS);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 5, 18, 0)),
			 CALENDAR_OFF_HOURS);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 5, 3, 0)),
			 CALENDAR_OFF_HOURS);
	/* Weekends count as days off, whatever the hour. */
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 10, 12, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 11, 23, 59)),
			 CALENDAR_HOLIDAY);
	/* Coming of Age Day, the Golden Week substitute, the citizens'
	 * holiday, and the working days after them. */
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 12, 10, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 1, 13, 10, 0)),
			 CALENDAR_BUSINESS);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 5, 6, 10, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 5, 7, 10, 0)),
			 CALENDAR_BUSINESS);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 9, 22, 10, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, h, jst(2026, 9, 24, 10, 0)),
			 CALENDAR_BUSINESS);
	/* Without a holiday file, New Year's Day is a Thursday like any. */
	assert_int_equal(calendar_period_at(NULL, h, jst(2026, 1, 1, 10, 0)),
			 CALENDAR_BUSINESS);
	/* hours NULL: the same default hours. */
	assert_int_equal(calendar_period_at(&cal, NULL, jst(2026, 1, 5, 9, 0)),
			 CALENDAR_BUSINESS);
	assert_int_equal(calendar_period_at(&cal, NULL, jst(2026, 1, 5, 18, 0)),
			 CALENDAR_OFF_HOURS);
	calendar_free(&cal);
}

static void test_period_other_zones(void **state)
{
	struct calendar cal = load_jp();
	struct dir_hours utc = {.days = 0x3e,
				.open_min = 9 * 60,
				.close_min = 18 * 60,
				.tz = (char *)"UTC"};
	struct dir_hours ny = utc, always = utc, unknown = utc;

	(void)state;
	ny.tz = (char *)"-05:00";
	/* Monday 2026-01-05 09:00 UTC is 18:00 in Tokyo. */
	assert_int_equal(
		calendar_period_at(&cal, &utc, at(2026, 1, 5, 9, 0, 0)),
		CALENDAR_BUSINESS);
	assert_int_equal(
		calendar_period_at(&cal, NULL, at(2026, 1, 5, 9, 0, 0)),
		CALENDAR_OFF_HOURS);
	/* 2025-12-31 20:00 UTC: still Wednesday evening in UTC, already New
	 * Year's Day in Tokyo. */
	assert_int_equal(
		calendar_period_at(&cal, &utc, at(2025, 12, 31, 20, 0, 0)),
		CALENDAR_OFF_HOURS);
	assert_int_equal(
		calendar_period_at(&cal, NULL, at(2025, 12, 31, 20, 0, 0)),
		CALENDAR_HOLIDAY);
	/* The holiday follows the local date in every zone. */
	assert_int_equal(
		calendar_period_at(&cal, &utc, at(2026, 1, 1, 10, 0, 0)),
		CALENDAR_HOLIDAY);
	/* 2026-01-02 03:00 UTC is 2026-01-01 22:00 at -05:00. */
	assert_int_equal(calendar_period_at(&cal, &ny, at(2026, 1, 2, 3, 0, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(
		calendar_period_at(&cal, &ny, at(2026, 1, 2, 15, 0, 0)),
		CALENDAR_BUSINESS);
	/* A desk that never closes: business except on holidays. */
	always.days = 0x7f;
	always.open_min = 0;
	always.close_min = 1440;
	always.tz = (char *)"Asia/Tokyo";
	assert_int_equal(
		calendar_period_at(&cal, &always, jst(2026, 1, 10, 3, 0)),
		CALENDAR_BUSINESS);
	assert_int_equal(
		calendar_period_at(&cal, &always, jst(2026, 1, 12, 3, 0)),
		CALENDAR_HOLIDAY);
	/* A zone we do not know is read as Asia/Tokyo. */
	unknown.tz = (char *)"Mars/Olympus";
	assert_int_equal(
		calendar_period_at(&cal, &unknown, jst(2026, 1, 5, 9, 0)),
		CALENDAR_BUSINESS);
	unknown.tz = NULL;
	assert_int_equal(
		calendar_period_at(&cal, &unknown, jst(2026, 1, 5, 8, 0)),
		CALENDAR_OFF_HOURS);
	calendar_free(&cal);
}

static void test_period_names(void **state)
{
	enum calendar_period p = CALENDAR_BUSINESS;

	(void)state;
	assert_string_equal(calendar_period_name(CALENDAR_OFF_HOURS),
			    "off-hours");
	assert_int_equal(calendar_period_parse("holiday", &p), 0);
	assert_int_equal(p, CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_parse("off-hours", &p), 0);
	assert_int_equal(p, CALENDAR_OFF_HOURS);
	assert_int_equal(calendar_period_parse("weekend", &p), -EINVAL);
	assert_int_equal(calendar_period_parse("Business", &p), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zone_offsets),
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_holiday_file_loads),
		cmocka_unit_test(test_holiday_file_errors),
		cmocka_unit_test(test_period_tokyo),
		cmocka_unit_test(test_period_other_zones),
		cmocka_unit_test(test_period_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
