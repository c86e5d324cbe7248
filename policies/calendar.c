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
#include <strings.h>
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

void calendar_civil(int day, int *ret_y, int *ret_m, int *ret_d,
		    int *ret_weekday)
{
	long y = 1970 + day / 366, left;
	int m = 1;

	/* Walk from a year at or before the date: at most a step or two. */
	while (days_from_civil(y + 1, 1, 1) <= day)
		y++;
	while (days_from_civil(y, 1, 1) > day)
		y--;
	left = day - days_from_civil(y, 1, 1);
	while (left >= days_in_month(y, m))
		left -= days_in_month(y, m++);
	*ret_y = (int)y;
	*ret_m = m;
	*ret_d = (int)left + 1;
	/* 1970-01-01 was a Thursday. */
	*ret_weekday = (int)(((day % 7) + 7 + 4) % 7);
}

void calendar_format_date(int day, char *out, size_t len)
{
	int y, m, d, wd;

	calendar_civil(day, &y, &m, &d, &wd);
	snprintf(out, len, "%04d-%02d-%02d", y, m, d);
}

bool calendar_is_year_end(int day)
{
	int y, m, d, wd;

	calendar_civil(day, &y, &m, &d, &wd);
	return (m == 12 && d >= 29) || (m == 1 && d <= 3);
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
	cal->first_day = 1;
	cal->last_day = 0;
}

/* Sets the covered years from the first and last holiday (sorted). */
static void calendar_cover(struct calendar *cal)
{
	int y, m, d, wd;

	cal->first_day = 1;
	cal->last_day = 0;
	if (cal->n == 0)
		return;
	calendar_civil(cal->holidays[0].day, &y, &m, &d, &wd);
	cal->first_day = (int)days_from_civil(y, 1, 1);
	calendar_civil(cal->holidays[cal->n - 1].day, &y, &m, &d, &wd);
	cal->last_day = (int)days_from_civil(y, 12, 31);
}

int calendar_from_list(const struct calendar_holiday *h, size_t n,
		       struct calendar *ret)
{
	struct calendar cal = {0};

	if (n > 0) {
		cal.holidays = calloc(n, sizeof(*cal.holidays));
		if (cal.holidays == NULL)
			return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		cal.holidays[i].day = h[i].day;
		cal.holidays[i].name = strdup(h[i].name ? h[i].name : "");
		cal.n++;
		if (cal.holidays[i].name == NULL) {
			calendar_free(&cal);
			return -ENOMEM;
		}
	}
	qsort(cal.holidays, cal.n, sizeof(*cal.holidays), holiday_cmp);
	for (size_t i = 1; i < cal.n; i++) {
		if (cal.holidays[i].day == cal.holidays[i - 1].day) {
			calendar_free(&cal);
			return -EINVAL;
		}
	}
	calendar_cover(&cal);
	*ret = cal;
	return 0;
}

int calendar_builtin(struct calendar *ret)
{
	/* The Cabinet Office's syukujitsu.csv, rows for 2026 and 2027. */
	static const struct {
		const char *date, *name;
	} rows[] = {
		{"2026-01-01", "元日"},		{"2026-01-12", "成人の日"},
		{"2026-02-11", "建国記念の日"}, {"2026-02-23", "天皇誕生日"},
		{"2026-03-20", "春分の日"},	{"2026-04-29", "昭和の日"},
		{"2026-05-03", "憲法記念日"},	{"2026-05-04", "みどりの日"},
		{"2026-05-05", "こどもの日"},	{"2026-05-06", "休日"},
		{"2026-07-20", "海の日"},	{"2026-08-11", "山の日"},
		{"2026-09-21", "敬老の日"},	{"2026-09-22", "休日"},
		{"2026-09-23", "秋分の日"},	{"2026-10-12", "スポーツの日"},
		{"2026-11-03", "文化の日"},	{"2026-11-23", "勤労感謝の日"},
		{"2027-01-01", "元日"},		{"2027-01-11", "成人の日"},
		{"2027-02-11", "建国記念の日"}, {"2027-02-23", "天皇誕生日"},
		{"2027-03-21", "春分の日"},	{"2027-03-22", "休日"},
		{"2027-04-29", "昭和の日"},	{"2027-05-03", "憲法記念日"},
		{"2027-05-04", "みどりの日"},	{"2027-05-05", "こどもの日"},
		{"2027-07-19", "海の日"},	{"2027-08-11", "山の日"},
		{"2027-09-20", "敬老の日"},	{"2027-09-23", "秋分の日"},
		{"2027-10-11", "スポーツの日"}, {"2027-11-03", "文化の日"},
		{"2027-11-23", "勤労感謝の日"},
	};
	struct calendar_holiday h[sizeof(rows) / sizeof(rows[0])];

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		if (calendar_parse_date(rows[i].date, &h[i].day) < 0)
			return -EINVAL;
		h[i].name = (char *)rows[i].name;
	}
	return calendar_from_list(h, sizeof(rows) / sizeof(rows[0]), ret);
}

/* ---- the Cabinet Office's CSV ---- */

#define CSV_HEADER "国民の祝日・休日月日,国民の祝日・休日名称"

/* "2027/3/22" (month and day with or without a leading zero). */
static int parse_slash_date(const char *s, size_t len, int *ret_day)
{
	int part[3] = {0, 0, 0}, k = 0, width = 0;

	for (size_t i = 0; i < len; i++) {
		if (s[i] == '/') {
			if (width == 0 || ++k > 2)
				return -EINVAL;
			width = 0;
		} else if (s[i] >= '0' && s[i] <= '9' && width < 4) {
			part[k] = part[k] * 10 + (s[i] - '0');
			width++;
		} else {
			return -EINVAL;
		}
	}
	if (k != 2 || width == 0 || part[0] < 1970 || part[1] < 1 ||
	    part[1] > 12 || part[2] < 1 ||
	    part[2] > days_in_month(part[0], part[1]))
		return -EINVAL;
	*ret_day = (int)days_from_civil(part[0], part[1], part[2]);
	return 0;
}

int calendar_parse_csv(const char *text, size_t len, const char *path,
		       struct calendar *ret, struct diag_list *diags)
{
	struct calendar_holiday *h = NULL;
	size_t n = 0, cap = 0;
	int line = 0, errors = 0, r;
	bool header = false;

	for (size_t start = 0; start < len;) {
		const char *p = text + start,
			   *nl = memchr(p, '\n', len - start);
		size_t l = nl ? (size_t)(nl - p) : len - start;
		const char *comma;
		char *name;
		int day;

		start += l + (nl != NULL);
		line++;
		if (l > 0 && p[l - 1] == '\r')
			l--;
		if (l == 0)
			continue;
		if (!header) {
			if (l != strlen(CSV_HEADER) ||
			    memcmp(p, CSV_HEADER, l) != 0) {
				diag_add(diags, path, line,
					 "not the Cabinet Office's holiday "
					 "CSV: the header must be \"%s\"",
					 CSV_HEADER);
				errors++;
				break;
			}
			header = true;
			continue;
		}
		comma = memchr(p, ',', l);
		if (comma == NULL ||
		    memchr(comma + 1, ',', l - (size_t)(comma - p) - 1)) {
			diag_add(diags, path, line,
				 "expected two fields: date,name");
			errors++;
			continue;
		}
		if (parse_slash_date(p, (size_t)(comma - p), &day) < 0) {
			diag_add(diags, path, line,
				 "column 1: \"%.*s\" is not a date "
				 "(YYYY/M/D)",
				 (int)(comma - p) > 40 ? 40 : (int)(comma - p),
				 p);
			errors++;
			continue;
		}
		name = strndup(comma + 1, l - (size_t)(comma - p) - 1);
		if (name == NULL) {
			r = -ENOMEM;
			goto out;
		}
		if (name[0] == '\0' || utf8_has_control(name, strlen(name))) {
			diag_add(diags, path, line,
				 "column %zu: the holiday's name is empty or "
				 "not printable",
				 utf8_length(p, (size_t)(comma - p)) + 2);
			free(name);
			errors++;
			continue;
		}
		for (size_t i = 0; i < n; i++) {
			if (h[i].day == day) {
				diag_add(diags, path, line,
					 "column 1: %.*s is listed twice",
					 (int)(comma - p), p);
				errors++;
				free(name);
				name = NULL;
				break;
			}
		}
		if (name == NULL)
			continue;
		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct calendar_holiday *g =
				reallocarray(h, c, sizeof(*h));

			if (g == NULL) {
				free(name);
				r = -ENOMEM;
				goto out;
			}
			h = g;
			cap = c;
		}
		h[n].day = day;
		h[n++].name = name;
	}
	if (!header && errors == 0) {
		diag_add(diags, path, 0, "empty file: no holidays");
		errors++;
	}
	if (errors > 0) {
		r = -EINVAL;
		goto out;
	}
	r = calendar_from_list(h, n, ret);
out:
	for (size_t i = 0; i < n; i++)
		free(h[i].name);
	free(h);
	return r;
}

int calendar_load_csv(const char *path, const char *encoding,
		      struct calendar *ret, struct diag_list *diags)
{
	char *text = NULL;
	size_t len = 0;
	int r;

	r = dir_read_text(path, encoding, &text, &len, diags);
	if (r == 0)
		r = calendar_parse_csv(text, len, path, ret, diags);
	free(text);
	return r;
}

int calendar_load(const char *path, struct calendar *ret,
		  struct diag_list *diags)
{
	struct calendar cal = {0};
	cfg_t *cfg = NULL;
	unsigned n;
	int r, errors = 0;

	size_t plen = strlen(path);

	if (plen > 4 && strcasecmp(path + plen - 4, ".csv") == 0)
		return calendar_load_csv(path, NULL, ret, diags);
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
	calendar_cover(&cal);
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

/* The local date in Japan of an instant. */
static int tokyo_day(time_t now)
{
	return (int)floor_div((long long)now + 9 * 3600, 86400);
}

int calendar_days_left(const struct calendar *cal, time_t now, int *ret_days)
{
	if (cal == NULL || cal->first_day > cal->last_day)
		return -ENOENT;
	*ret_days = cal->last_day - tokyo_day(now);
	return 0;
}

bool calendar_covers(const struct calendar *cal, time_t now)
{
	int day = tokyo_day(now);

	return cal != NULL && cal->first_day <= cal->last_day &&
	       day >= cal->first_day && day <= cal->last_day;
}

/* Whether the date is in a "YYYY-MM-DD,YYYY-MM-DD" list. */
static bool in_date_list(const char *list, int day)
{
	char date[48];
	size_t n;

	if (list == NULL || *list == '\0')
		return false;
	calendar_format_date(day, date, sizeof(date));
	n = strlen(date);
	for (const char *p = list; (p = strstr(p, date)) != NULL; p += n)
		if ((p == list || p[-1] == ',') &&
		    (p[n] == ',' || p[n] == '\0'))
			return true;
	return false;
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
	if (day >= -2147483647LL && day <= 2147483647LL &&
	    ((cal != NULL && cal->year_end_days_off &&
	      calendar_is_year_end((int)day)) ||
	     in_date_list(hours->days_off, (int)day)))
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
