/*
 * The calendar: see calendar.h. In order: dates as day numbers, zones,
 * loading a holiday file, and the period of an organisation at an
 * instant.
 *
 * Dates are counted as days since 1970-01-01 of the proleptic Gregorian
 * calendar, computed by hand: the C library would need TZ to do it in
 * local time, and the arithmetic is short.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <confuse.h>

#include "common/cfgfile.h"
#include "common/diag.h"
#include "common/utf8.h"
#include "contacts/directory.h"
#include "policies/calendar.h"

/* ---- dates ---- */

static bool is_leap(long y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int days_in_month(long y, int m)
{
	static const int len[12] = {31, 28, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};

	return m == 2 && is_leap(y) ? 29 : len[m - 1];
}

/* Days from 0001-01-01 to the first of January of year y (y >= 1). */
static long days_before_year(long y)
{
	long p = y - 1;

	return p * 365 + p / 4 - p / 100 + p / 400;
}

static long days_from_civil(long y, int m, int d)
{
	static const int before_month[12] = {0,	  31,  59,  90,	 120, 151,
					     181, 212, 243, 273, 304, 334};

	return days_before_year(y) - days_before_year(1970) +
	       before_month[m - 1] + (m > 2 && is_leap(y)) + d - 1;
}

/* Two or four ASCII digits at s, as a number; -1 when not digits. */
static int digits(const char *s, int n)
{
	int v = 0;

	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

int calendar_parse_date(const char *s, int *ret_day)
{
	int y, m, d;

	if (s == NULL || strlen(s) != 10 || s[4] != '-' || s[7] != '-')
		return -EINVAL;
	y = digits(s, 4);
	m = digits(s + 5, 2);
	d = digits(s + 8, 2);
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > days_in_month(y, m))
		return -EINVAL;
	*ret_day = (int)days_from_civil(y, m, d);
	return 0;
}

/* ---- zones ---- */

int calendar_zone_offset(const char *tz, int *ret_seconds)
{
	int h, m;

	if (tz == NULL)
		return -EINVAL;
	/* Japan has kept +09:00 without daylight saving since 1951. */
	if (strcmp(tz, "Asia/Tokyo") == 0) {
		*ret_seconds = 9 * 3600;
		return 0;
	}
	if (strcmp(tz, "UTC") == 0 || strcmp(tz, "Etc/UTC") == 0) {
		*ret_seconds = 0;
		return 0;
	}
	if (strlen(tz) != 6 || (tz[0] != '+' && tz[0] != '-') || tz[3] != ':')
		return -EINVAL;
	h = digits(tz + 1, 2);
	m = digits(tz + 4, 2);
	/* Real offsets run from -12:00 to +14:00. */
	if (h < 0 || m < 0 || m > 59 || h > 14 || (h == 14 && m > 0))
		return -EINVAL;
	*ret_seconds = (tz[0] == '-' ? -1 : 1) * (h * 3600 + m * 60);
	return 0;
}

const struct dir_hours *calendar_default_hours(void)
{
	static const struct dir_hours hours = {
		.days = 0x3e, /* Monday to Friday */
		.open_min = 9 * 60,
		.close_min = 18 * 60,
		.tz = (char *)"Asia/Tokyo",
	};

	return &hours;
}

/* ---- the holiday file ---- */

static const cfg_opt_t holiday_options[] = {
	CFG_STR("name", "", CFGF_NONE),
	CFG_END(),
};

static const cfg_opt_t holiday_file_options[] = {
	CFG_SEC("holiday", (cfg_opt_t *)holiday_options,
		CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
	CFG_END(),
};

static int holiday_cmp(const void *a, const void *b)
{
	const struct calendar_holiday *x = a, *y = b;

	return (x->day > y->day) - (x->day < y->day);
}

void calendar_free(struct calendar *cal)
{
	if (cal == NULL)
		return;
	for (size_t i = 0; i < cal->n; i++)
		free(cal->holidays[i].name);
	free(cal->holidays);
	cal->holidays = NULL;
	cal->n = 0;
}

int calendar_load(const char *path, struct calendar *ret,
		  struct diag_list *diags)
{
	struct calendar cal = {0};
	cfg_t *cfg = NULL;
	unsigned n;
	int r, errors = 0;

	/* Said here in the words of a holiday file; cfgfile has its own. */
	if (access(path, R_OK) < 0) {
		r = -errno;
		diag_add(diags, path, 0, "cannot read the holiday file: %s",
			 strerror(-r));
		return r;
	}
	cfg = cfg_init((cfg_opt_t *)holiday_file_options, CFGF_NONE);
	if (cfg == NULL)
		return -ENOMEM;
	r = cfgfile_parse(cfg, path, diags);
	if (r < 0)
		goto out;

	n = cfg_size(cfg, "holiday");
	if (n > 0) {
		cal.holidays = calloc(n, sizeof(*cal.holidays));
		if (cal.holidays == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	for (unsigned i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(cfg, "holiday", i);
		const char *date = cfg_title(sec),
			   *name = cfg_getstr(sec, "name");
		int day;

		if (calendar_parse_date(date, &day) < 0) {
			diag_add(diags, path, sec->line,
				 "holiday \"%s\": not a date (YYYY-MM-DD)",
				 date ? date : "");
			errors++;
			continue;
		}
		if (name == NULL)
			name = "";
		if (!utf8_valid(name, strlen(name), NULL) ||
		    utf8_has_control(name, strlen(name))) {
			diag_add(diags, path, sec->line,
				 "holiday \"%s\": the name is not printable "
				 "UTF-8",
				 date);
			errors++;
			continue;
		}
		cal.holidays[cal.n].day = day;
		cal.holidays[cal.n].name = strdup(name);
		if (cal.holidays[cal.n].name == NULL) {
			r = -ENOMEM;
			goto out;
		}
		cal.n++;
	}
	if (errors > 0) {
		r = -EINVAL;
		goto out;
	}
	qsort(cal.holidays, cal.n, sizeof(*cal.holidays), holiday_cmp);
	*ret = cal;
	cal.holidays = NULL;
	cal.n = 0;
	r = 0;
out:
	calendar_free(&cal);
	cfg_free(cfg);
	return r;
}

const struct calendar_holiday *calendar_holiday_on(const struct calendar *cal,
						   int day)
{
	size_t lo = 0, hi;

	if (cal == NULL)
		return NULL;
	hi = cal->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cal->holidays[mid].day == day)
			return &cal->holidays[mid];
		if (cal->holidays[mid].day < day)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- periods ---- */

/* Floor division, so that instants before 1970 land on the right day. */
static long long floor_div(long long a, long long b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

enum calendar_period calendar_period_at(const struct calendar *cal,
					const struct dir_hours *hours,
					time_t now)
{
	long long local, day, minute;
	int offset, weekday;

	if (hours == NULL)
		hours = calendar_default_hours();
	if (calendar_zone_offset(hours->tz ? hours->tz : "Asia/Tokyo",
				 &offset) < 0)
		offset = 9 * 3600;
	local = (long long)now + offset;
	day = floor_div(local, 86400);
	minute = (local - day * 86400) / 60;
	/* 1970-01-01 was a Thursday; 0 is Sunday as in dir_hours.days. */
	weekday = (int)(((day % 7) + 7 + 4) % 7);

	if (day >= -2147483647LL && day <= 2147483647LL &&
	    calendar_holiday_on(cal, (int)day) != NULL)
		return CALENDAR_HOLIDAY;
	if (!(hours->days & (1u << weekday)))
		return CALENDAR_HOLIDAY;
	if (minute < hours->open_min || minute >= hours->close_min)
		return CALENDAR_OFF_HOURS;
	return CALENDAR_BUSINESS;
}

const char *calendar_period_name(enum calendar_period p)
{
	switch (p) {
	case CALENDAR_BUSINESS:
		return "business";
	case CALENDAR_OFF_HOURS:
		return "off-hours";
	case CALENDAR_HOLIDAY:
		return "holiday";
	default:
		return "?";
	}
}

int calendar_period_parse(const char *s, enum calendar_period *ret)
{
	if (s == NULL)
		return -EINVAL;
	for (int p = 0; p < CALENDAR_PERIOD_COUNT; p++) {
		if (strcmp(s, calendar_period_name(p)) == 0) {
			*ret = (enum calendar_period)p;
			return 0;
		}
	}
	return -EINVAL;
}
