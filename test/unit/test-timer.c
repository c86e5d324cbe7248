/*
 * Unit tests for dispatcher/engine/clock.c and timer.c: on the fake
 * clock, timers fire in deadline order, never before their deadline, each
 * with the clock standing at its own deadline, including timers armed by
 * other timers within one move; disarming and re-arming; a deadline
 * already past fires from the loop, not inside timer_arm(). One test runs
 * on the real clock for a few tens of milliseconds to check that a timer
 * never fires before its deadline on the engine's clock, whatever
 * libevent's own clock says.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/timer.h"
#include "test/unit/testutil.h"

#define T0 TESTUTIL_T0

struct fired {
	char names[16]; /* the order they fired in */
	int64_t at[16]; /* the clock when each fired */
	size_t n;
};

/* One timer of a test: its name, where to record, what to arm next. */
struct probe {
	char name;
	struct fired *log;
	struct timer *timer;
	struct timer *then; /* armed by this one when it fires, or NULL */
	int64_t then_after; /* ms after now */
};

static void probe_fn(void *arg)
{
	struct probe *p = arg;

	assert_true(p->log->n < 16);
	p->log->names[p->log->n] = p->name;
	p->log->at[p->log->n++] = clock_now_ms();
	if (p->then != NULL)
		assert_int_equal(
			timer_arm(p->then, clock_now_ms() + p->then_after), 0);
}

struct fixture {
	struct event_base *base;
	struct fired log;
	struct probe p[4];
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	clock_fake_set(T0);
	f->base = event_base_new();
	for (int i = 0; i < 4; i++) {
		f->p[i].name = (char)('a' + i);
		f->p[i].log = &f->log;
		assert_int_equal(
			timer_new(f->base, probe_fn, &f->p[i], &f->p[i].timer),
			0);
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < 4; i++)
		timer_free(f->p[i].timer);
	assert_int_equal(timer_fake_armed(), 0);
	event_base_free(f->base);
	clock_real();
	free(f);
	return 0;
}

static void test_deadline_order_and_never_early(void **state)
{
	struct fixture *f = *state;

	/* Armed out of order; c and d share a deadline: arming order. */
	assert_int_equal(timer_arm(f->p[0].timer, T0 + 300), 0);
	assert_int_equal(timer_arm(f->p[3].timer, T0 + 200), 0);
	assert_int_equal(timer_arm(f->p[1].timer, T0 + 100), 0);
	assert_int_equal(timer_arm(f->p[2].timer, T0 + 200), 0);
	assert_int_equal(timer_fake_armed(), 4);
	timer_fake_advance(99);
	assert_int_equal(f->log.n, 0);
	timer_fake_advance(151);
	assert_int_equal(f->log.n, 3);
	assert_memory_equal(f->log.names, "bdc", 3);
	assert_int_equal(f->log.at[0], T0 + 100);
	assert_int_equal(f->log.at[1], T0 + 200);
	assert_int_equal(f->log.at[2], T0 + 200);
	assert_int_equal(clock_now_ms(), T0 + 250);
	assert_true(timer_armed(f->p[0].timer));
	assert_false(timer_armed(f->p[1].timer));
	timer_fake_advance(50);
	assert_int_equal(f->log.n, 4);
	assert_int_equal(f->log.at[3], T0 + 300);
}

static void test_armed_by_a_timer_within_the_move(void **state)
{
	struct fixture *f = *state;

	/* a at 100 arms b for 50 later: b (150) comes before c (200). */
	f->p[0].then = f->p[1].timer;
	f->p[0].then_after = 50;
	assert_int_equal(timer_arm(f->p[0].timer, T0 + 100), 0);
	assert_int_equal(timer_arm(f->p[2].timer, T0 + 200), 0);
	timer_fake_advance(1000);
	assert_int_equal(f->log.n, 3);
	assert_memory_equal(f->log.names, "abc", 3);
	assert_int_equal(f->log.at[1], T0 + 150);
	assert_int_equal(clock_now_ms(), T0 + 1000);
}

static void test_disarm_rearm_and_past_deadlines(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(timer_arm(f->p[0].timer, T0 + 100), 0);
	timer_disarm(f->p[0].timer);
	assert_int_equal(timer_fake_armed(), 0);
	timer_fake_advance(200);
	assert_int_equal(f->log.n, 0);

	/* Re-arming replaces the deadline. */
	assert_int_equal(timer_arm(f->p[1].timer, T0 + 300), 0);
	assert_int_equal(timer_arm(f->p[1].timer, T0 + 500), 0);
	assert_int_equal(timer_deadline(f->p[1].timer), T0 + 500);
	timer_fake_advance(200);
	assert_int_equal(f->log.n, 0);

	/* A deadline already past fires from the loop, not from the call. */
	assert_int_equal(timer_arm(f->p[2].timer, T0), 0);
	assert_int_equal(f->log.n, 0);
	testutil_run(f->base);
	assert_int_equal(f->log.n, 1);
	assert_int_equal(f->log.names[0], 'c');
	timer_disarm(f->p[1].timer);
}

static void test_real_clock_never_fires_early(void **state)
{
	struct fixture *f = *state;
	int64_t deadline[3];

	/* This one runs on the wall clock: a few tens of milliseconds. */
	clock_real();
	for (int i = 0; i < 3; i++) {
		deadline[i] = clock_now_ms() + 10 * (i + 1);
		assert_int_equal(timer_arm(f->p[i].timer, deadline[i]), 0);
	}
	while (f->log.n < 3)
		assert_true(event_base_loop(f->base, EVLOOP_ONCE) >= 0);
	assert_memory_equal(f->log.names, "abc", 3);
	for (int i = 0; i < 3; i++)
		assert_true(f->log.at[i] >= deadline[i]);
	clock_fake_set(T0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_deadline_order_and_never_early, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_armed_by_a_timer_within_the_move, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_disarm_rearm_and_past_deadlines, setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_real_clock_never_fires_early, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
