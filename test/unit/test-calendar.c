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
#include <stdbool.h>
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

/* ---- the holidays computed from the Act, 2026-2030 ---- */

/*
 * The rules of 国民の祝日に関する法律, computed here without the code under
 * test: fixed days, Happy Monday, the equinoxes, 振替休日 (Art. 3(2)) and
 * 国民の休日 (Art. 3(3)). The equinoxes of 2026-2028 are the 暦要項's;
 * 2029 and 2030 are not yet announced and use the usual approximation
 * (floor(20.8431 + 0.242194 (y - 1980) - floor((y - 1980) / 4)), 23.2488
 * for autumn), which gives March 20 and September 23 for both.
 */
#define RULE_FIRST 2026
#define RULE_LAST 2030
#define RULE_MAX 32

static int rule_day(int y, int m, int d)
{
	char s[48];
	int day = 0;

	snprintf(s, sizeof(s), "%04d-%02d-%02d", y, m, d);
	assert_int_equal(calendar_parse_date(s, &day), 0);
	return day;
}

/* 0 = Sunday; 1970-01-01 was a Thursday. */
static int rule_weekday(int day)
{
	return ((day % 7) + 7 + 4) % 7;
}

/* The n-th Monday of month m of year y. */
static int rule_monday(int y, int m, int n)
{
	int first = rule_day(y, m, 1);
	int monday = first + (8 - rule_weekday(first)) % 7;

	return monday + 7 * (n - 1);
}

static bool rule_has(const int *days, int n, int day)
{
	for (int i = 0; i < n; i++)
		if (days[i] == day)
			return true;
	return false;
}

static int int_cmp(const void *a, const void *b)
{
	return (*(const int *)a > *(const int *)b) -
	       (*(const int *)a < *(const int *)b);
}

/* The days off of year y by the Act, sorted; returns how many. */
static int rule_holidays(int y, int *out)
{
	static const int fixed[][2] = {{1, 1},	{2, 11}, {2, 23}, {4, 29},
				       {5, 3},	{5, 4},	 {5, 5},  {8, 11},
				       {11, 3}, {11, 23}};
	int spring, autumn, n = 0, named;

	if (y == 2026) {
		spring = 20, autumn = 23;
	} else if (y == 2027) {
		spring = 21, autumn = 23;
	} else if (y == 2028) {
		spring = 20, autumn = 22;
	} else {
		spring =
			(int)(20.8431 + 0.242194 * (y - 1980) - (y - 1980) / 4);
		autumn =
			(int)(23.2488 + 0.242194 * (y - 1980) - (y - 1980) / 4);
	}
	for (size_t i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++)
		out[n++] = rule_day(y, fixed[i][0], fixed[i][1]);
	out[n++] = rule_monday(y, 1, 2);  /* 成人の日 */
	out[n++] = rule_monday(y, 7, 3);  /* 海の日 */
	out[n++] = rule_monday(y, 9, 3);  /* 敬老の日 */
	out[n++] = rule_monday(y, 10, 2); /* スポーツの日 */
	out[n++] = rule_day(y, 3, spring);
	out[n++] = rule_day(y, 9, autumn);
	named = n;
	/* 振替休日: the next day that is no holiday after a Sunday one. */
	for (int i = 0; i < named; i++) {
		if (rule_weekday(out[i]) == 0) {
			int d = out[i] + 1;

			while (rule_has(out, n, d))
				d++;
			out[n++] = d;
		}
	}
	/* 国民の休日: a day between two national holidays. */
	for (int i = 0; i < named; i++) {
		int d = out[i] + 1;

		if (!rule_has(out, n, d) && rule_has(out, named, d + 1))
			out[n++] = d;
	}
	qsort(out, (size_t)n, sizeof(int), int_cmp);
	assert_true(n <= RULE_MAX);
	return n;
}

/* The holidays of cal in year y, sorted; returns how many. */
static int loaded_holidays(const struct calendar *cal, int y, int *out)
{
	int n = 0, from = rule_day(y, 1, 1), to = rule_day(y, 12, 31);

	for (size_t i = 0; i < cal->n; i++)
		if (cal->holidays[i].day >= from && cal->holidays[i].day <= to)
			out[n++] = cal->holidays[i].day;
	return n;
}

static void assert_matches_rules(const struct calendar *cal, int y)
{
	int want[RULE_MAX], got[400];
	int nw = rule_holidays(y, want), ng = loaded_holidays(cal, y, got);

	for (int i = 0; i < nw || i < ng; i++) {
		char w[48] = "-", g[48] = "-";

		if (i < nw)
			calendar_format_date(want[i], w, sizeof(w));
		if (i < ng)
			calendar_format_date(got[i], g, sizeof(g));
		if (strcmp(w, g) != 0)
			fail_msg("%d: the Act gives %s, the calendar %s", y, w,
				 g);
	}
}

static void test_rules_2026_2030(void **state)
{
	struct calendar builtin = {0}, csv = {0}, conf = load_jp();
	struct diag_list diags = {0};
	int days[RULE_MAX];

	(void)state;
	assert_int_equal(calendar_builtin(&builtin), 0);
	assert_int_equal(
		calendar_load(POLICIES_DIR "/syukujitsu.csv", &csv, &diags), 0);
	/* What is loaded agrees with the Act where it reaches. */
	for (int y = RULE_FIRST; y <= 2027; y++) {
		assert_matches_rules(&builtin, y);
		assert_matches_rules(&csv, y);
		assert_matches_rules(&conf, y);
	}
	/* The rules themselves, year by year: counts and known days. */
	assert_int_equal(rule_holidays(2026, days), 18);
	assert_int_equal(rule_holidays(2027, days), 17);
	assert_int_equal(rule_holidays(2028, days), 16);
	assert_true(rule_has(days, 16, rule_day(2028, 1, 10))); /* 成人 */
	assert_true(rule_has(days, 16, rule_day(2028, 9, 22))); /* 秋分 */
	assert_int_equal(rule_holidays(2029, days), 19);
	assert_true(rule_has(days, 19, rule_day(2029, 2, 12))); /* 振替 */
	assert_true(rule_has(days, 19, rule_day(2029, 4, 30))); /* 振替 */
	assert_true(rule_has(days, 19, rule_day(2029, 9, 24))); /* 振替 */
	assert_int_equal(rule_holidays(2030, days), 19);
	assert_true(rule_has(days, 19, rule_day(2030, 5, 6)));	/* 振替 */
	assert_true(rule_has(days, 19, rule_day(2030, 8, 12))); /* 振替 */
	assert_true(rule_has(days, 19, rule_day(2030, 11, 4))); /* 振替 */
	/* Beyond 2027 nothing is loaded: the calendar has ended. */
	for (int y = 2028; y <= RULE_LAST; y++) {
		int got[8];

		assert_int_equal(loaded_holidays(&builtin, y, got), 0);
		assert_false(calendar_covers(&builtin, jst(y, 1, 10, 12, 0)));
	}
	/* The CSV and the built-in copy hold the same days and names. */
	assert_int_equal(csv.n, builtin.n);
	for (size_t i = 0; i < csv.n; i++) {
		assert_int_equal(csv.holidays[i].day, builtin.holidays[i].day);
		assert_string_equal(csv.holidays[i].name,
				    builtin.holidays[i].name);
	}
	calendar_free(&builtin);
	calendar_free(&csv);
	calendar_free(&conf);
	diag_clear(&diags);
}

/* 年末年始 and an organisation's own days off. */
static void test_year_end_and_days_off(void **state)
{
	struct calendar cal = {0};
	struct dir_hours h = *calendar_default_hours();
	const char *why = NULL;

	(void)state;
	assert_int_equal(calendar_builtin(&cal), 0);
	/* Wednesday 2026-12-30 10:00: a weekday, but 年末年始. */
	assert_int_equal(
		calendar_period_at(&cal, NULL, jst(2026, 12, 30, 10, 0)),
		CALENDAR_BUSINESS);
	cal.year_end_days_off = true;
	assert_int_equal(
		calendar_period_at(&cal, NULL, jst(2026, 12, 30, 10, 0)),
		CALENDAR_HOLIDAY);
	assert_int_equal(
		calendar_period_at(&cal, NULL, jst(2026, 12, 29, 0, 0)),
		CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, NULL, jst(2027, 1, 4, 10, 0)),
			 CALENDAR_BUSINESS);
	assert_int_equal(
		calendar_period_at(&cal, NULL, jst(2026, 12, 28, 10, 0)),
		CALENDAR_BUSINESS);
	/* 2027-01-03 23:59 is still 年末年始; 2028's too, past the end. */
	assert_int_equal(
		calendar_period_at(&cal, NULL, jst(2027, 1, 3, 23, 59)),
		CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, NULL, jst(2028, 1, 3, 9, 0)),
			 CALENDAR_HOLIDAY);
	assert_true(calendar_is_year_end(rule_day(2030, 12, 31)));
	assert_false(calendar_is_year_end(rule_day(2030, 1, 4)));

	/* An organisation closed on 2026-08-13 and 08-14 (お盆). */
	assert_int_equal(dir_days_off_parse("2026-08-14; 2026-08-13,2026-08-14",
					    &h.days_off, &why),
			 0);
	assert_string_equal(h.days_off, "2026-08-13,2026-08-14");
	assert_int_equal(calendar_period_at(&cal, &h, jst(2026, 8, 13, 10, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, &h, jst(2026, 8, 14, 17, 0)),
			 CALENDAR_HOLIDAY);
	assert_int_equal(calendar_period_at(&cal, &h, jst(2026, 8, 12, 10, 0)),
			 CALENDAR_BUSINESS);
	assert_int_equal(
		calendar_period_at(&cal, NULL, jst(2026, 8, 13, 10, 0)),
		CALENDAR_BUSINESS);
	free(h.days_off);
	assert_int_equal(dir_days_off_parse("2026-02-30", &h.days_off, &why),
			 -EINVAL);
	assert_int_equal(dir_days_off_parse("2026/08/13", &h.days_off, &why),
			 -EINVAL);
	calendar_free(&cal);
}

/* How long the calendar has left, and what "none" looks like. */
static void test_days_left(void **state)
{
	struct calendar cal = {0}, none = {0};
	int left = 12345;

	(void)state;
	assert_int_equal(calendar_builtin(&cal), 0);
	assert_int_equal(
		calendar_days_left(&cal, jst(2027, 12, 31, 23, 0), &left), 0);
	assert_int_equal(left, 0);
	assert_int_equal(
		calendar_days_left(&cal, jst(2027, 10, 2, 0, 0), &left), 0);
	assert_int_equal(left, 90);
	assert_int_equal(
		calendar_days_left(&cal, jst(2028, 1, 10, 9, 0), &left), 0);
	assert_int_equal(left, -10);
	/* Tokyo's date: 2027-12-31 15:00 UTC is already 2028 there. */
	assert_int_equal(
		calendar_days_left(&cal, at(2027, 12, 31, 15, 0, 0), &left), 0);
	assert_int_equal(left, -1);
	assert_true(calendar_covers(&cal, jst(2026, 1, 1, 0, 0)));
	assert_false(calendar_covers(&cal, jst(2025, 12, 31, 23, 59)));
	none.first_day = 1;
	assert_int_equal(calendar_days_left(&none, 0, &left), -ENOENT);
	assert_false(calendar_covers(&none, jst(2026, 6, 1, 0, 0)));
	assert_int_equal(calendar_days_left(NULL, 0, &left), -ENOENT);
	calendar_free(&cal);
}

static const char csv_utf8[] = "国民の祝日・休日月日,国民の祝日・休日名称\r\n"
			       "2027/1/1,元日\r\n"
			       "2027/3/22,休日\r\n"
			       "2028/01/10,成人の日\r\n";

/* Every diag line joined with newlines (malloc'd). */
static char *diag_join(const struct diag_list *d)
{
	size_t len = 1;
	char *out;

	for (size_t i = 0; i < d->n; i++)
		len += strlen(d->lines[i]) + 1;
	out = calloc(1, len);
	assert_non_null(out);
	for (size_t i = 0; i < d->n; i++) {
		strcat(out, d->lines[i]);
		strcat(out, "\n");
	}
	return out;
}

static char *write_tmp(const char *bytes, size_t len)
{
	char *path = strdup("/tmp/pocalert-cal-XXXXXX.csv");
	int fd = mkstemps(path, 4);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, bytes, len), (ssize_t)len);
	close(fd);
	return path;
}

/* The Cabinet Office's CSV: CP932 or UTF-8, all or nothing. */
static void test_csv(void **state)
{
	struct calendar cal = {0};
	struct diag_list diags = {0};
	char *path, *joined;

	(void)state;
	/* A UTF-8 copy. */
	path = write_tmp(csv_utf8, strlen(csv_utf8));
	assert_int_equal(calendar_load_csv(path, NULL, &cal, &diags), 0);
	assert_int_equal(cal.n, 3);
	assert_int_equal(cal.holidays[1].day, rule_day(2027, 3, 22));
	assert_string_equal(cal.holidays[2].name, "成人の日");
	assert_int_equal(cal.first_day, rule_day(2027, 1, 1));
	assert_int_equal(cal.last_day, rule_day(2028, 12, 31));
	calendar_free(&cal);
	unlink(path);
	free(path);

	/* The shipped file is CP932, read as such whatever was asked. */
	assert_int_equal(calendar_load_csv(POLICIES_DIR "/syukujitsu.csv",
					   "cp932", &cal, &diags),
			 0);
	assert_int_equal(cal.n, 35);
	calendar_free(&cal);
	assert_int_equal(diags.n, 0);

	/* Errors: every bad row named, nothing kept. */
	{
		static const char bad[] =
			"国民の祝日・休日月日,国民の祝日・休日名称\n"
			"2027/1/1,元日\n"
			"2027/2/30,ない日\n"
			"2027/3/22\n"
			"2027/1/1,元日\n"
			"2027/5/3,\n";

		path = write_tmp(bad, strlen(bad));
		cal.n = 99;
		assert_int_equal(calendar_load_csv(path, NULL, &cal, &diags),
				 -EINVAL);
		assert_int_equal(cal.n, 99);
		joined = diag_join(&diags);
		assert_non_null(strstr(joined, ":3: column 1: \"2027/2/30\""));
		assert_non_null(strstr(joined, ":4: expected two fields"));
		assert_non_null(strstr(joined, ":5: column 1: 2027/1/1 is "
					       "listed twice"));
		assert_non_null(strstr(joined, ":6: column 10: the holiday"));
		free(joined);
		diag_clear(&diags);
		unlink(path);
		free(path);
	}
	/* Not the Cabinet Office's header. */
	path = write_tmp("date,name\n2027/1/1,x\n", 21);
	cal.n = 99;
	assert_int_equal(calendar_load_csv(path, NULL, &cal, &diags), -EINVAL);
	joined = diag_join(&diags);
	assert_non_null(strstr(joined, ":1: not the Cabinet Office's"));
	free(joined);
	diag_clear(&diags);
	unlink(path);
	free(path);
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
		cmocka_unit_test(test_rules_2026_2030),
		cmocka_unit_test(test_year_end_and_days_off),
		cmocka_unit_test(test_days_left),
		cmocka_unit_test(test_csv),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
