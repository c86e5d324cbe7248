/*
 * The calendar: an organisation's business hours, weekends and the public
 * holidays of a holiday file, and the question "is this organisation in
 * business hours, off-hours or on holiday at this instant?".
 *
 * Time zones are handled here without the C library's TZ machinery (no
 * setenv("TZ"), no localtime): the zones Japanese organisations use have
 * a fixed offset, so a zone is a name for an offset. Supported:
 * "Asia/Tokyo" (+09:00, no daylight saving since 1951), "UTC", "Etc/UTC"
 * and fixed offsets "+HH:MM" / "-HH:MM".
 *
 * Periods: a public holiday of the file is CALENDAR_HOLIDAY; so is a day
 * of the week the organisation does not work (its hours.days, normally
 * Saturday and Sunday): a whole day off is a holiday (休日) for choosing
 * contacts and policies. A working day outside [open, close) is
 * CALENDAR_OFF_HOURS; the rest is CALENDAR_BUSINESS. With
 * year_end_days_off, 年末年始 (December 29 to January 3, closed for
 * government offices by 行政機関の休日に関する法律) is a holiday too, and so
 * is every date of an organisation's own days off (dir_hours.days_off).
 *
 * A calendar covers whole years: from January 1 of the first year it has
 * a holiday in to December 31 of the last. Past its end it knows no
 * holiday, so callers warn (calendar_days_left) rather than trust it.
 * Calendars come from a holiday file (.conf), the Cabinet Office's
 * syukujitsu.csv (CP932 or UTF-8), or the built-in copy of that file's
 * 2026-2027 rows (calendar_builtin).
 */
#ifndef POCALERT_CALENDAR_H
#define POCALERT_CALENDAR_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "common/diag.h"
#include "contacts/directory.h"

enum calendar_period {
	CALENDAR_BUSINESS = 0,
	CALENDAR_OFF_HOURS,
	CALENDAR_HOLIDAY,
	CALENDAR_PERIOD_COUNT,
};

struct calendar_holiday {
	int day;    /* days since 1970-01-01 of the local date */
	char *name; /* owned; UTF-8, may be empty */
};

struct calendar {
	struct calendar_holiday *holidays; /* owned array, sorted by day */
	size_t n;
	int first_day; /* first covered day; first_day > last_day: none */
	int last_day;  /* last covered day (a December 31) */
	bool year_end_days_off; /* 12-29..01-03 are days off (年末年始) */
};

/*
 * Loads a holiday file (libconfuse syntax, see policies/holidays-jp.conf):
 *   holiday "2026-01-01" { name = "元日" }
 * Every error goes to diags as "PATH:LINE: ..."; a date may appear once.
 * Returns 0 with *ret filled (owned by the caller, calendar_free), -EINVAL
 * when the file had errors, -errno when it could not be read; *ret is
 * written only on success.
 */
int calendar_load(const char *path, struct calendar *ret,
		  struct diag_list *diags);

/*
 * Reads the Cabinet Office's syukujitsu.csv: header
 * "国民の祝日・休日月日,国民の祝日・休日名称", then rows "2027/3/22,休日".
 * encoding as for dir_read_text (NULL: UTF-8 or CP932, whichever the file
 * is). All or nothing: every bad row is a diag "PATH:LINE: ...", and then
 * -EINVAL; *ret is written only on success (calendar_free).
 */
int calendar_load_csv(const char *path, const char *encoding,
		      struct calendar *ret, struct diag_list *diags);

/*
 * Parses syukujitsu.csv text already decoded to UTF-8 (see
 * calendar_load_csv); path names the text in diags.
 */
int calendar_parse_csv(const char *text, size_t len, const char *path,
		       struct calendar *ret, struct diag_list *diags);

/*
 * A calendar of the holidays given (copied; any order, names may be NULL),
 * covering the whole years of the first and the last. 0 or -ENOMEM, -EINVAL
 * for a date given twice.
 */
int calendar_from_list(const struct calendar_holiday *h, size_t n,
		       struct calendar *ret);

/*
 * The built-in calendar: the Cabinet Office's holidays for 2026 and 2027,
 * used when the config names no holiday file and none was imported.
 */
int calendar_builtin(struct calendar *ret);

/*
 * Days from the local (Asia/Tokyo) date of now to the calendar's last day:
 * 0 on the last day, negative once it has ended. -ENOENT when the calendar
 * covers no day at all, else 0.
 */
int calendar_days_left(const struct calendar *cal, time_t now, int *ret_days);

/* Whether the local (Asia/Tokyo) date of now lies in the calendar. */
bool calendar_covers(const struct calendar *cal, time_t now);

/* Writes "YYYY-MM-DD" of a day number into out (at least 11 bytes). */
void calendar_format_date(int day, char *out, size_t len);

/* The year, month (1-12), day of month and weekday (0 = Sunday) of day. */
void calendar_civil(int day, int *ret_y, int *ret_m, int *ret_d,
		    int *ret_weekday);

/* Whether day (a local date) lies in 年末年始, December 29 to January 3. */
bool calendar_is_year_end(int day);

/* Frees the holidays and empties the calendar. NULL is a no-op. */
void calendar_free(struct calendar *cal);

/*
 * The offset from UTC in seconds of a zone name (see above), east
 * positive. Returns 0 and sets *ret_seconds, or -EINVAL for a zone we do
 * not know; configs should check their zones with it when they load.
 */
int calendar_zone_offset(const char *tz, int *ret_seconds);

/*
 * Hours used when an organisation has none to offer: Monday to Friday,
 * 09:00-18:00, Asia/Tokyo. Static; never free it.
 */
const struct dir_hours *calendar_default_hours(void);

/*
 * Parses "YYYY-MM-DD" into days since 1970-01-01; 0 or -EINVAL (also for
 * dates that do not exist, like 2026-02-29).
 */
int calendar_parse_date(const char *s, int *ret_day);

/* The holiday on the local date `day`, or NULL. cal may be NULL. */
const struct calendar_holiday *calendar_holiday_on(const struct calendar *cal,
						   int day);

/*
 * The period of an organisation with these hours at now. hours NULL means
 * calendar_default_hours(); cal NULL means no public holidays. A zone
 * calendar_zone_offset does not know counts as Asia/Tokyo: configs are
 * meant to refuse such zones when they load.
 */
enum calendar_period calendar_period_at(const struct calendar *cal,
					const struct dir_hours *hours,
					time_t now);

/* "business", "off-hours", "holiday"; parse returns 0 or -EINVAL. */
const char *calendar_period_name(enum calendar_period p);
int calendar_period_parse(const char *s, enum calendar_period *ret);

#endif
