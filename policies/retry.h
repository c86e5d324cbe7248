/*
 * Retry schedules: how long a channel waits before it tries a failed
 * delivery again, and when it stops trying. Also the duration parser every
 * part of the configuration uses ("2s", "5m", "1h30m", "30").
 *
 * Everything here is a pure function: the caller supplies the randomness
 * for jitter and the far side's Retry-After, so that a schedule can be
 * tested to the second and replayed after a restart.
 */
#ifndef POCALERT_RETRY_H
#define POCALERT_RETRY_H

#include <stdbool.h>

#include <confuse.h>

#include "common/diag.h"

/* Defaults for a channel without a retry section (seconds where timed). */
#define RETRY_DEFAULT_MAX_ATTEMPTS 5
#define RETRY_DEFAULT_INITIAL_DELAY 2.0
#define RETRY_DEFAULT_MULTIPLIER 2.0
#define RETRY_DEFAULT_MAX_DELAY 300.0
#define RETRY_DEFAULT_JITTER 0.2

struct retry_policy {
	int max_attempts; /* attempts in all, the first one included; >= 1 */
	double initial_delay; /* seconds before the second attempt; > 0 */
	double multiplier;    /* growth per further attempt; >= 1 */
	double max_delay;     /* seconds; cap before jitter; > 0 */
	double jitter;	      /* fraction, 0 <= jitter < 1; +-jitter*delay */
};

/*
 * The options of a channel's `retry { ... }` section:
 *   max_attempts  = 5      integer
 *   initial_delay = 2s     duration (see policy_parse_duration)
 *   multiplier    = 2      number
 *   max_delay     = 5m     duration
 *   jitter        = 0.2    number
 * Durations are strings so that units can be written; values are checked
 * by retry_policy_from_cfg, not while libconfuse parses. libconfuse only
 * copies option tables, so the table is const; use RETRY_CFG_SEC to embed it.
 */
extern const cfg_opt_t retry_options[];
#define RETRY_CFG_SEC(flags)                                                   \
	CFG_SEC("retry", (cfg_opt_t *)retry_options, (flags))

/* Fills p with the defaults above. */
void retry_policy_default(struct retry_policy *p);

/*
 * Reads a parsed `retry` section (NULL means defaults) into *ret. Every bad
 * value goes to diags as "FILE:LINE: ..." (file NULL: the section's own
 * file name; LINE is the section's line as libconfuse records it). Returns
 * 0, or -EINVAL when a value was bad; *ret is written only on success.
 */
int retry_policy_from_cfg(cfg_t *sec, struct retry_policy *ret,
			  const char *file, struct diag_list *diags);

/*
 * Parses a duration into seconds: a non-negative number followed by a
 * unit, "ms", "s", "m", "h" or "d" ("500ms", "2s", "1.5m", "1h"), several
 * such groups in a row ("1h30m"), or a bare number meaning seconds ("30").
 * No spaces, no sign. Returns 0 and sets *ret_seconds, or -EINVAL.
 */
int policy_parse_duration(const char *s, double *ret_seconds);

/*
 * The wait in seconds before the next attempt, once attempts_done attempts
 * have failed (1 after the first failure): initial_delay *
 * multiplier^(attempts_done - 1), capped at max_delay, then moved by up to
 * +-jitter of itself: random01 in [0, 1) maps linearly onto
 * [-jitter, +jitter) (0.5 means no change). When retry_after >= 0 (the far
 * side's Retry-After, seconds) the result is at least retry_after, or
 * max_delay when retry_after is larger: the far side cannot push a
 * delivery past the channel's own cap.
 * attempts_done <= 0 means nothing has been tried yet: 0 (or retry_after).
 */
double retry_delay(const struct retry_policy *p, int attempts_done,
		   double random01, int retry_after);

/*
 * The longest a delivery can wait in all between its first and its last
 * attempt under p, whatever the jitter draws and whatever Retry-After the
 * far side sends: the sum of the max_attempts - 1 waits, each at most
 * max(step * (1 + jitter), max_delay). With send timeouts added, every
 * delivery settles within it.
 */
double retry_horizon(const struct retry_policy *p);

/* True when attempts_done attempts have used up the policy. */
bool retry_exhausted(const struct retry_policy *p, int attempts_done);

#endif
