/*
 * The engine's clock: every part of the engine asks clock_now_ms() what
 * time it is, and nothing else. It is the wall clock (Unix milliseconds)
 * unless a test switches it to a fake clock that stands still until the
 * test moves it, so that escalation, retries and rate limits can be
 * tested to the millisecond without waiting or depending on the machine's
 * load. Timers that fire on this clock are in timer.h; moving the fake
 * clock so that they fire is timer_fake_advance().
 *
 * The clock is process-wide and read only on the engine's loop thread.
 */
#ifndef POCALERT_CLOCK_H
#define POCALERT_CLOCK_H

#include <stdbool.h>
#include <stdint.h>

/* Now on the engine's clock, Unix milliseconds. */
int64_t clock_now_ms(void);

/*
 * Test hook: from now on the clock is fake and reads ms until set again.
 * Switch only while no engine timer is armed (before building the
 * engine, or after freeing it).
 */
void clock_fake_set(int64_t ms);

/* Test hook: back to the wall clock (same condition as clock_fake_set). */
void clock_real(void);

/* True while the clock is fake. */
bool clock_is_fake(void);

#endif
