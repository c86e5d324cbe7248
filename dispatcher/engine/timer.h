/*
 * Timers on the engine's clock (clock.h). A timer has a deadline in
 * engine-clock milliseconds and calls its function on the loop once the
 * clock reads at least that: never before, by construction. libevent
 * measures waits on its own monotonic clock, which can disagree with the
 * engine's by a few milliseconds; a timer that libevent fires early is
 * armed again for the rest instead of calling its function.
 *
 * With the fake clock, timers are not handed to libevent at all: they
 * wait in a list until a test moves the clock with timer_fake_advance(),
 * which fires each one that falls due, in deadline order, through the
 * loop of its event base.
 */
#ifndef POCALERT_TIMER_H
#define POCALERT_TIMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct timer;

/* What a timer calls when it falls due. */
typedef void (*timer_fn)(void *arg);

/*
 * A disarmed timer on base calling fn(arg). Returns 0 with *ret owning
 * it (timer_free()), or -ENOMEM.
 */
int timer_new(struct event_base *base, timer_fn fn, void *arg,
	      struct timer **ret);

/* Disarms and frees the timer. NULL is a no-op. */
void timer_free(struct timer *t);

/*
 * Arms the timer for deadline (engine-clock ms), replacing any earlier
 * deadline. A deadline already past fires on the next turn of the loop,
 * never inside this call. Returns 0 or -ENOMEM.
 */
int timer_arm(struct timer *t, int64_t deadline);

/* Disarms the timer; it will not fire until armed again. */
void timer_disarm(struct timer *t);

/* True while armed and not yet fired. */
bool timer_armed(const struct timer *t);

/* The deadline it was last armed for (ms). */
int64_t timer_deadline(const struct timer *t);

/*
 * Test hook, fake clock only (clock_fake_set): moves the clock forward by
 * ms. Each armed timer whose deadline falls within the move fires in
 * deadline order: the clock is set to its deadline, the timer is made
 * active and its base's loop run (EVLOOP_NONBLOCK) until idle, so what it
 * started, timers armed for within the move included, happens before the
 * next. The clock then reads the old time plus ms. Call it from outside
 * the loop, never from a callback.
 */
void timer_fake_advance(int64_t ms);

/* Test hook: the number of timers armed on the fake clock. */
size_t timer_fake_armed(void);

#endif
