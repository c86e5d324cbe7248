/*
 * Group commit: the engine's state changes (delivery states, attempts,
 * organisation and alert states, timeline events) are queued in memory as
 * typed operations (store.h) and written in one transaction per loop
 * turn, never one transaction per row. Acceptance and planning use the
 * same operations through writer_apply_now(), which writes what is
 * queued first and then commits theirs at once, before anything is sent.
 *
 * An operation the store refuses for its content goes to the store's
 * dead-letter table and the rest of its batch commits; only a failure of
 * the store itself (disk, lock) keeps a batch queued and retried.
 */
#ifndef POCALERT_WRITER_H
#define POCALERT_WRITER_H

#include <stdbool.h>
#include <stdint.h>

#include <event2/event.h>

#include "dispatcher/store/store.h"

struct writer;

/* A writer for s on base (writer_free()), or NULL when out of memory. */
struct writer *writer_new(struct event_base *base, struct store *s);

/* Writes what is queued, then frees the writer. NULL is a no-op. */
void writer_free(struct writer *w);

/*
 * Writes everything queued now, in one transaction. Returns 0 (refused
 * operations, if any, went to dead letters) or -EIO, when the batch stays
 * queued and is tried again shortly.
 */
int writer_flush(struct writer *w);

/*
 * Writes what is queued, then applies b's operations in a transaction
 * of their own: all of them or, on any failure, none. Returns 0, -EIO
 * (the store failed) or -EINVAL (an operation was refused). b stays the
 * caller's.
 */
int writer_apply_now(struct writer *w, const struct store_batch *b);

/*
 * Queues a copy of op (strings copied). Out of memory, the queue is
 * written first to make room; if even that fails the change is logged
 * and dropped (the state in memory stays right).
 */
void writer_push(struct writer *w, const struct store_op *op);

/* Number of operations waiting to be written. */
size_t writer_pending(const struct writer *w);

/*
 * Shorthands for writer_push() of one kind each. Strings are copied;
 * NULL strings are stored as NULL. A negative time or count means
 * "leave as it is".
 */
void writer_delivery_state(struct writer *w, const char *id, const char *state,
			   int attempts, int64_t next_at,
			   const char *last_error, int64_t sent_at,
			   const char *gateway_id, const char *reason);
void writer_attempt(struct writer *w, const char *delivery_id, int n,
		    int64_t started_at, int64_t ended_at, const char *outcome,
		    int code, const char *detail, const char *gateway_id);
void writer_org_state(struct writer *w, const char *alert_id,
		      const char *org_id, const char *state, int step,
		      int64_t next_at);
void writer_alert_state(struct writer *w, const char *alert_id,
			const char *state, int64_t finished_at);
/*
 * A timeline row; seq, prev_hash and hash are computed by the caller
 * (timeline.c) so the chain is known before the row is on disk.
 */
void writer_event(struct writer *w, const char *alert_id, int64_t seq,
		  int64_t at, const char *actor, const char *kind,
		  const char *org_id, const char *delivery_id,
		  const char *detail, const char *prev_hash, const char *hash);

/* A contact's answer on its reply-link row (the first time stays). */
void writer_ack(struct writer *w, const char *token_hash, int64_t at,
		const char *response, const char *name, const char *comment,
		const char *source, const char *user_agent);

/* An organisation acknowledged: its state and who, what, how. */
void writer_org_ack(struct writer *w, const char *alert_id, const char *org_id,
		    int64_t at, const char *by, const char *response,
		    const char *comment, const char *via);

/*
 * Calls fn(arg, 0) once everything queued so far is committed (refused
 * operations included: they are in the dead-letter table), from the
 * loop, never from inside this call. fn(arg, -EIO) if the writer is
 * freed first, or if the store has kept failing for WRITER_GIVE_UP_MS,
 * or at the next failed try when the store was already failing as fn
 * was queued (see writer_failing()): a waiter is never left waiting on a
 * store that does not answer.
 */
#define WRITER_GIVE_UP_MS 5000

/*
 * True while the store is failing to take the writer's changes (the last
 * flush failed: a full disk, a lock); *ret_ms (when not NULL) gets how
 * long. A waiter queued by writer_after_commit() meanwhile is answered
 * -EIO at the next failed try (within 200 ms) instead of after the
 * give-up time; its changes stay queued and are written when the store
 * recovers. For callers that must answer a person at once (a
 * confirmation: 503 with Retry-After).
 */
bool writer_failing(const struct writer *w, int64_t *ret_ms);

/* Changes WRITER_GIVE_UP_MS for w (tests shorten it). */
void writer_set_give_up(struct writer *w, int ms);
void writer_after_commit(struct writer *w, void (*fn)(void *arg, int result),
			 void *arg);

#endif
