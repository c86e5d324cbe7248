/*
 * Group commit of the engine's state changes: see writer.h. Operations
 * are kept in arrival order in one batch and written in that order, so a
 * later change to a row always wins. The flush runs from a libevent event
 * made active when the first operation of a batch arrives: it runs after
 * the callbacks already due in the same loop turn, so one busy turn (many
 * completions) becomes one transaction.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/log.h"
#include "dispatcher/store/writer.h"

/* How long to wait before writing a batch the store failed to take. */
#define WRITER_RETRY_MS 200

/* A completion waiting for the changes queued before it to commit. */
struct waiter {
	void (*fn)(void *arg, int result);
	void *arg;
	uint64_t mark; /* the writer's pushed count when it arrived */
	bool fast;     /* arrived while the store was failing */
};

struct writer {
	struct store *store;	/* not owned */
	struct event *ev;	/* owned; the flush */
	struct store_batch ops; /* owned: queued, in arrival order */
	struct waiter *waiters; /* owned array: called after the next commit */
	size_t n_waiters, cap_waiters;
	uint64_t pushed;       /* operations ever queued */
	uint64_t committed;    /* of those, how many are written */
	int failed;	       /* consecutive failed flushes */
	int64_t failing_since; /* monotonic ms of the first of them */
	int give_up_ms;	       /* answer waiters after failing this long */
};

/* A monotonic clock in ms: how long the store has been failing. */
static int64_t writer_clock_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void writer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	writer_flush(arg);
}

struct writer *writer_new(struct event_base *base, struct store *s)
{
	struct writer *w = calloc(1, sizeof(*w));

	if (w == NULL)
		return NULL;
	w->store = s;
	w->give_up_ms = WRITER_GIVE_UP_MS;
	w->ev = event_new(base, -1, 0, writer_cb, w);
	if (w->ev == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

/*
 * Answers, in arrival order, at most max waiters whose mark is at most
 * upto, with result. A callback may queue more waiters or flush again
 * (re-entering here), so the array is re-read each round and a slice
 * copied out before any callback runs.
 */
static void writer_answer(struct writer *w, uint64_t upto, size_t max,
			  int result)
{
	struct waiter batch[64];
	size_t k;

	do {
		for (k = 0; k < w->n_waiters && k < 64 && k < max &&
			    w->waiters[k].mark <= upto;
		     k++)
			;
		if (k == 0)
			break; /* w->waiters may be NULL: no memcpy from it */
		memcpy(batch, w->waiters, k * sizeof(batch[0]));
		memmove(w->waiters, w->waiters + k,
			(w->n_waiters - k) * sizeof(batch[0]));
		w->n_waiters -= k;
		max -= k;
		for (size_t i = 0; i < k; i++)
			batch[i].fn(batch[i].arg, result);
	} while (true);
}

void writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_flush(w);
	store_batch_free(&w->ops);
	writer_answer(w, UINT64_MAX, w->n_waiters, -EIO);
	free(w->waiters);
	event_free(w->ev);
	free(w);
}

void writer_set_give_up(struct writer *w, int ms)
{
	w->give_up_ms = ms;
}

size_t writer_pending(const struct writer *w)
{
	return w->ops.n;
}

void writer_push(struct writer *w, const struct store_op *op)
{
	if (w->ops.n == 0)
		event_active(w->ev, 0, 0);
	if (store_batch_add(&w->ops, op) == 0) {
		w->pushed++;
		return;
	}
	/*
	 * Out of memory: write what we have now and reuse the space; the
	 * state in memory is still right.
	 */
	log_warnx("writer: out of memory, flushing early");
	if (writer_flush(w) == 0 && store_batch_add(&w->ops, op) == 0) {
		w->pushed++;
		return;
	}
	log_warnx("writer: out of memory: a %s change is lost on disk "
		  "(memory keeps it until a restart)",
		  store_op_kind_name(op->kind));
}

void writer_delivery_state(struct writer *w, const char *id, const char *state,
			   int attempts, int64_t next_at,
			   const char *last_error, int64_t sent_at,
			   const char *gateway_id, const char *reason)
{
	writer_push(w, &(struct store_op){.kind = STORE_OP_DELIVERY_STATE,
					  .delivery_state = {
						  .id = id,
						  .state = state,
						  .attempts = attempts,
						  .next_at = next_at,
						  .last_error = last_error,
						  .sent_at = sent_at,
						  .gateway_id = gateway_id,
						  .reason = reason,
					  }});
}

void writer_attempt(struct writer *w, const char *delivery_id, int n,
		    int64_t started_at, int64_t ended_at, const char *outcome,
		    int code, const char *detail, const char *gateway_id)
{
	writer_push(w, &(struct store_op){.kind = STORE_OP_ATTEMPT,
					  .attempt = {
						  .delivery_id = delivery_id,
						  .n = n,
						  .started_at = started_at,
						  .ended_at = ended_at,
						  .outcome = outcome,
						  .code = code,
						  .detail = detail,
						  .gateway_id = gateway_id,
					  }});
}

void writer_org_state(struct writer *w, const char *alert_id,
		      const char *org_id, const char *state, int step,
		      int64_t next_at)
{
	writer_push(w, &(struct store_op){.kind = STORE_OP_ORG_STATE,
					  .org_state = {
						  .alert_id = alert_id,
						  .org_id = org_id,
						  .state = state,
						  .step = step,
						  .next_at = next_at,
					  }});
}

void writer_alert_state(struct writer *w, const char *alert_id,
			const char *state, int64_t finished_at)
{
	writer_push(w, &(struct store_op){.kind = STORE_OP_ALERT_STATE,
					  .alert_state = {
						  .alert_id = alert_id,
						  .state = state,
						  .finished_at = finished_at,
					  }});
}

void writer_event(struct writer *w, const char *alert_id, int64_t seq,
		  int64_t at, const char *actor, const char *kind,
		  const char *org_id, const char *delivery_id,
		  const char *detail, const char *prev_hash, const char *hash)
{
	writer_push(w, &(struct store_op){.kind = STORE_OP_EVENT,
					  .event = {
						  .alert_id = alert_id,
						  .seq = seq,
						  .at = at,
						  .actor = actor,
						  .kind = kind,
						  .org_id = org_id,
						  .delivery_id = delivery_id,
						  .detail = detail,
						  .prev_hash = prev_hash,
						  .hash = hash,
					  }});
}

void writer_ack(struct writer *w, const char *token_hash, int64_t at,
		const char *response, const char *name, const char *comment,
		const char *source, const char *user_agent)
{
	writer_push(w, &(struct store_op){.kind = STORE_OP_ACK,
					  .ack = {
						  .token_hash = token_hash,
						  .at = at,
						  .response = response,
						  .name = name,
						  .comment = comment,
						  .source = source,
						  .user_agent = user_agent,
					  }});
}

void writer_org_ack(struct writer *w, const char *alert_id, const char *org_id,
		    int64_t at, const char *by, const char *response,
		    const char *comment, const char *via)
{
	writer_push(w, &(struct store_op){.kind = STORE_OP_ORG_ACK,
					  .org_ack = {
						  .alert_id = alert_id,
						  .org_id = org_id,
						  .at = at,
						  .by = by,
						  .response = response,
						  .comment = comment,
						  .via = via,
					  }});
}

void writer_after_commit(struct writer *w, void (*fn)(void *arg, int result),
			 void *arg)
{
	if (w->n_waiters == w->cap_waiters) {
		size_t cap = w->cap_waiters ? w->cap_waiters * 2 : 64;
		struct waiter *a = realloc(w->waiters, cap * sizeof(*a));

		if (a == NULL) {
			/* Cannot wait: write now, then answer. */
			int r = writer_flush(w);

			fn(arg, r);
			return;
		}
		w->waiters = a;
		w->cap_waiters = cap;
	}
	w->waiters[w->n_waiters].fn = fn;
	w->waiters[w->n_waiters].arg = arg;
	w->waiters[w->n_waiters].mark = w->pushed;
	/*
	 * The store is failing already: this waiter is told at the next
	 * failed try (WRITER_RETRY_MS), not after the give-up time, so that
	 * a person waiting on a page gets "try again" at once. Its changes
	 * stay queued and are written when the store takes them again.
	 */
	w->waiters[w->n_waiters].fast = w->failed > 0;
	w->n_waiters++;
	/* Even with nothing queued, the answer comes from the loop. */
	event_active(w->ev, 0, 0);
}

/* Answers -EIO to the waiters that came while the store was failing. */
static void writer_answer_fast(struct writer *w)
{
	struct waiter batch[64];
	size_t k, keep;

	do {
		k = 0;
		keep = 0;
		for (size_t i = 0; i < w->n_waiters; i++) {
			if (w->waiters[i].fast && k < 64)
				batch[k++] = w->waiters[i];
			else
				w->waiters[keep++] = w->waiters[i];
		}
		w->n_waiters = keep;
		/* Callbacks may add waiters: the array is settled first. */
		for (size_t i = 0; i < k; i++)
			batch[i].fn(batch[i].arg, -EIO);
	} while (k == 64);
}

bool writer_failing(const struct writer *w, int64_t *ret_ms)
{
	if (w->failed == 0)
		return false;
	if (ret_ms != NULL)
		*ret_ms = writer_clock_ms() - w->failing_since;
	return true;
}

int writer_flush(struct writer *w)
{
	int r = 0;

	if (w->ops.n > 0)
		r = store_apply(w->store, w->ops.ops, w->ops.n,
				STORE_APPLY_DEAD_LETTER);
	if (r < 0) {
		/*
		 * Keep the batch and try again shortly: the disk may be full
		 * or the file locked by a long reader. Nothing in memory is
		 * lost meanwhile. Waiters are told after a while rather than
		 * kept waiting on a store that does not answer.
		 */
		struct timeval tv = {0, WRITER_RETRY_MS * 1000};

		if (w->failed++ == 0) {
			w->failing_since = writer_clock_ms();
			log_warnx("writer: could not write %zu changes, will "
				  "retry",
				  w->ops.n);
		}
		if (writer_clock_ms() - w->failing_since >= w->give_up_ms)
			writer_answer(w, UINT64_MAX, w->n_waiters, -EIO);
		else
			writer_answer_fast(w);
		event_add(w->ev, &tv);
		return -EIO;
	}
	if (w->failed > 0)
		log_info("writer: the store takes changes again");
	w->failed = 0;
	store_batch_clear(&w->ops);
	w->committed = w->pushed;
	/* Refused changes count as written: they are in dead_letters. */
	writer_answer(w, w->committed, SIZE_MAX, 0);
	return 0;
}

int writer_apply_now(struct writer *w, const struct store_batch *b)
{
	/* The queue goes first so the timeline stays in order. */
	if (writer_flush(w) < 0)
		return -EIO;
	return store_apply(w->store, b->ops, b->n, STORE_APPLY_ALL_OR_NOTHING);
}
