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
 * CALENDAR_OFF_HOURS; the rest is CALENDAR_BUSINESS.
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
