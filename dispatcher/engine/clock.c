/*
 * The engine's clock: see clock.h. Two variables, no locking: the fake
 * clock exists for single-threaded tests, and the real one is the wall
 * clock of common/timefmt.c, which the store records and people read.
 */
#include "dispatcher/engine/clock.h"
#include "common/timefmt.h"

static bool fake;	/* the test's clock is in use */
static int64_t fake_ms; /* what it reads */

int64_t clock_now_ms(void)
{
	return fake ? fake_ms : time_now_ms();
}

void clock_fake_set(int64_t ms)
{
	fake = true;
	fake_ms = ms;
}

void clock_real(void)
{
	fake = false;
}

bool clock_is_fake(void)
{
	return fake;
}
