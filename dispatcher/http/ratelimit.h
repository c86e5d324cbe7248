/*
 * A per-source-address request limiter: one token bucket per address
 * (rate tokens a second, at most burst of them), kept in a hash table of
 * bounded size. Used in front of the reply links (/ack/...), where a
 * stranger could otherwise guess tokens or fill the timeline with
 * link_opened events as fast as the network allows.
 *
 * IPv6 addresses count per /64, the block one subscriber usually holds,
 * so that walking through one's own prefix earns no fresh buckets.
 * Which address a request counts against is the caller's choice (the
 * listener's client address, client_addr.h). A bucket may also be keyed
 * by any 16 bytes (ratelimit_take_key()), such as a token's digest.
 */
#ifndef POCALERT_RATELIMIT_H
#define POCALERT_RATELIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct ratelimit;

/*
 * A limiter of at most max_entries addresses (at least 1). rate and
 * burst may change later (ratelimit_set). On success *ret owns it.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int ratelimit_new(size_t max_entries, struct ratelimit **ret);

/* Frees the limiter. NULL is a no-op. */
void ratelimit_free(struct ratelimit *rl);

/*
 * Sets the rate (tokens per second; 0 or less means unlimited) and the
 * burst (the bucket's size, at least 1 when limited). Buckets already
 * filled keep their tokens, capped at the new burst.
 */
void ratelimit_set(struct ratelimit *rl, double rate, double burst);

/*
 * Takes one token for addr (textual IPv4 or IPv6, as the socket gives
 * it) at now_ms on a monotonic clock. Returns true when the request may
 * go on; false when the address is over its limit, with *ret_retry_after
 * (when not NULL) set to the whole seconds until a token is back (>= 1).
 * An address that does not parse shares one bucket with every other such
 * address. When the table is full, the least recently seen address is
 * forgotten first; an address forgotten after it went idle loses
 * nothing, as its bucket had refilled anyway.
 */
bool ratelimit_take(struct ratelimit *rl, const char *addr, int64_t now_ms,
		    unsigned *ret_retry_after);

/*
 * ratelimit_take() for a bucket keyed by 16 bytes of the caller's
 * choosing (the same key is the same bucket).
 */
bool ratelimit_take_key(struct ratelimit *rl, const uint8_t key[16],
			int64_t now_ms, unsigned *ret_retry_after);

/* How many addresses the table holds now (for tests). */
size_t ratelimit_count(const struct ratelimit *rl);

#endif
