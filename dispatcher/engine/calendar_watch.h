/*
 * The calendar watch (calendar_watch.c): how long the holiday calendar
 * has left, checked at start and once a day on the engine clock.
 */
#ifndef POCALERT_CALENDAR_WATCH_H
#define POCALERT_CALENDAR_WATCH_H

struct engine;

/* Checks the calendar's end now and arms the daily check. 0 or -1. */
int calendar_watch_start(struct engine *e);

/* Frees the daily check. Safe when it was never started. */
void calendar_watch_stop(struct engine *e);

/* Logs that `what` guessed, when today lies outside the calendar. */
void calendar_watch_guess(struct engine *e, const char *what);

#endif
