/*
 * Engine timers: see timer.h. Each timer owns one libevent event. On the
 * real clock the event is a timeout for the wait left until the deadline;
 * its callback compares the deadline with the engine's clock and either
 * calls the timer's function or waits again for what is left. On the fake
 * clock the event never gets a timeout: armed timers sit in one list in
 * deadline order (arming order among equals), and timer_fake_advance()
 * activates them one by one as it moves the clock past their deadlines.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/queue.h>

#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/timer.h"

struct timer {
	struct event_base *base; /* not owned */
	struct event *ev;	 /* owned */
	timer_fn fn;
	void *arg;
	int64_t deadline; /* engine-clock ms */
	bool armed;
	bool in_fake; /* in the fake-clock list below */
	TAILQ_ENTRY(timer) link;
};

TAILQ_HEAD(timer_list, timer);

/* Timers waiting on the fake clock, earliest deadline first. */
static struct timer_list fake_list = TAILQ_HEAD_INITIALIZER(fake_list);
static size_t fake_n;

static void fake_remove(struct timer *t)
{
	if (t->in_fake) {
		TAILQ_REMOVE(&fake_list, t, link);
		t->in_fake = false;
		fake_n--;
	}
}

static void fake_insert(struct timer *t)
{
	struct timer *p = TAILQ_FIRST(&fake_list);

	/* After every equal deadline: equals fire in the order armed. */
	while (p != NULL && p->deadline <= t->deadline)
		p = TAILQ_NEXT(p, link);
	if (p != NULL)
		TAILQ_INSERT_BEFORE(p, t, link);
	else
		TAILQ_INSERT_TAIL(&fake_list, t, link);
	t->in_fake = true;
	fake_n++;
}

/* Hands the wait until the deadline to libevent or to the fake list. */
static int schedule(struct timer *t, int64_t now)
{
	int64_t wait = t->deadline - now;
	struct timeval tv;

	if (wait <= 0) {
		/* Due: fire from the loop, never from inside the caller. */
		event_active(t->ev, EV_TIMEOUT, 0);
		return 0;
	}
	if (clock_is_fake()) {
		fake_insert(t);
		return 0;
	}
	tv.tv_sec = (time_t)(wait / 1000);
	tv.tv_usec = (suseconds_t)(wait % 1000) * 1000;
	return evtimer_add(t->ev, &tv) < 0 ? -ENOMEM : 0;
}

static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct timer *t = arg;
	int64_t now = clock_now_ms();

	(void)fd;
	(void)what;
	if (!t->armed)
		return;
	/*
	 * libevent counts on its monotonic clock: it may fire a little before
	 * the engine's clock reaches the deadline. Wait the rest.
	 */
	if (now < t->deadline) {
		if (schedule(t, now) == 0)
			return;
		/* No memory to wait again: late beats never. */
	}
	t->armed = false;
	t->fn(t->arg);
}

int timer_new(struct event_base *base, timer_fn fn, void *arg,
	      struct timer **ret)
{
	struct timer *t = calloc(1, sizeof(*t));

	if (t == NULL)
		return -ENOMEM;
	t->base = base;
	t->fn = fn;
	t->arg = arg;
	t->ev = evtimer_new(base, timer_cb, t);
	if (t->ev == NULL) {
		free(t);
		return -ENOMEM;
	}
	*ret = t;
	return 0;
}

void timer_free(struct timer *t)
{
	if (t == NULL)
		return;
	fake_remove(t);
	event_free(t->ev);
	free(t);
}

int timer_arm(struct timer *t, int64_t deadline)
{
	int r;

	timer_disarm(t);
	t->deadline = deadline;
	t->armed = true;
	r = schedule(t, clock_now_ms());
	if (r < 0)
		t->armed = false;
	return r;
}

void timer_disarm(struct timer *t)
{
	t->armed = false;
	fake_remove(t);
	/* Removes a pending timeout and an activation not yet run alike. */
	event_del(t->ev);
}

bool timer_armed(const struct timer *t)
{
	return t->armed;
}

int64_t timer_deadline(const struct timer *t)
{
	return t->deadline;
}

void timer_fake_advance(int64_t ms)
{
	int64_t target = clock_now_ms() + ms;
	struct timer *t;

	/*
	 * One timer at a time, running the loop after each: a timer fired
	 * here may arm another (or itself) for a deadline within the move,
	 * which must then fire in its turn, not after the rest.
	 */
	while ((t = TAILQ_FIRST(&fake_list)) != NULL && t->deadline <= target) {
		fake_remove(t);
		if (t->deadline > clock_now_ms())
			clock_fake_set(t->deadline);
		event_active(t->ev, EV_TIMEOUT, 0);
		event_base_loop(t->base, EVLOOP_NONBLOCK);
	}
	clock_fake_set(target);
}

size_t timer_fake_armed(void)
{
	return fake_n;
}
