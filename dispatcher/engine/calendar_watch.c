/*
 * The calendar watch: a holiday calendar covers whole years and then knows
 * no holiday, so every day past its end would pass for a business day.
 * At start and once a day this says how long the calendar has left: a
 * warning in the log when it ends within CALENDAR_WARN_DAYS or has ended,
 * the gauge pocalert_calendar_days_left, and a line of /healthz. A policy
 * selection made past the end says in the log that it guessed.
 */
#include <stdbool.h>
#include <stdio.h>
#include <time.h>

#include "common/log.h"
#include "dispatcher/engine/calendar_watch.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/engine/metrics.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/timer.h"

#define CALENDAR_WARN_DAYS 90
#define CALENDAR_WATCH_SECONDS (24 * 3600)

static time_t watch_now(void)
{
	return (time_t)(clock_now_ms() / 1000);
}

int engine_calendar_status(struct engine *e, char *buf, size_t len)
{
	const struct calendar *cal = &e->config->calendar;
	char last[48];
	int left;

	if (calendar_days_left(cal, watch_now(), &left) < 0) {
		snprintf(buf, len,
			 "calendar: no public holidays known: every weekday "
			 "counts as a business day (import syukujitsu.csv "
			 "with pocalert calendar import)");
		return 1;
	}
	calendar_format_date(cal->last_day, last, sizeof(last));
	if (left < 0) {
		snprintf(buf, len,
			 "calendar: ENDED on %s (%d days ago): holidays after "
			 "it count as business days; import a newer "
			 "syukujitsu.csv",
			 last, -left);
		return 1;
	}
	snprintf(buf, len, "calendar: ends %s, %d days left%s", last, left,
		 left <= CALENDAR_WARN_DAYS
			 ? "; import a newer syukujitsu.csv soon"
			 : "");
	return left <= CALENDAR_WARN_DAYS;
}

static void calendar_watch_check(struct engine *e)
{
	char msg[256];
	int left;

	if (calendar_days_left(&e->config->calendar, watch_now(), &left) < 0)
		left = -1;
	metrics_calendar_days_left(e->metrics, left);
	if (engine_calendar_status(e, msg, sizeof(msg)) != 0)
		log_warnx("%s", msg);
	else
		log_info("%s", msg);
}

static void calendar_watch_fire(void *arg)
{
	struct engine *e = arg;

	calendar_watch_check(e);
	if (timer_arm(e->calendar_watch,
		      clock_now_ms() + CALENDAR_WATCH_SECONDS * 1000LL) < 0)
		log_warnx("calendar: cannot arm the daily check");
}

int calendar_watch_start(struct engine *e)
{
	calendar_watch_check(e);
	if (timer_new(e->base, calendar_watch_fire, e, &e->calendar_watch) < 0)
		return -1;
	return timer_arm(e->calendar_watch,
			 clock_now_ms() + CALENDAR_WATCH_SECONDS * 1000LL) < 0
		       ? -1
		       : 0;
}

void calendar_watch_stop(struct engine *e)
{
	timer_free(e->calendar_watch);
	e->calendar_watch = NULL;
}

void calendar_watch_guess(struct engine *e, const char *what)
{
	const struct selection *sel = &e->config->selection;
	bool uses_calendar = false;
	char last[48];

	for (size_t i = 0; i < sel->n; i++)
		uses_calendar |= sel->rules[i].periods != 0;
	if (!uses_calendar ||
	    calendar_covers(&e->config->calendar, watch_now()))
		return;
	calendar_format_date(e->config->calendar.last_day, last, sizeof(last));
	log_warnx("%s: today lies outside the holiday calendar (it ends %s): "
		  "guessed that today is no public holiday",
		  what, last);
}
