/*
 * Group commit of the engine's state changes: see writer.h. Operations
 * are kept in arrival order in one array and written in that order, so a
 * later change to a row always wins. The flush runs from a libevent event
 * made active when the first operation of a batch arrives: it runs after
 * the callbacks already due in the same loop turn, so one busy turn (many
 * completions) becomes one transaction.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/store/writer.h"

enum op_kind {
	OP_DELIVERY,
	OP_ATTEMPT,
	OP_ORG,
	OP_ALERT,
	OP_EVENT,
	OP_ACK,
	OP_ORG_ACK,
};

/* A completion waiting for the next commit. */
struct waiter {
	void (*fn)(void *arg, int result);
	void *arg;
};

/* One queued change; which fields count depends on kind. */
struct op {
	enum op_kind kind;
	char *s[8];   /* owned strings, meaning per kind */
	int64_t t[4]; /* times / numbers, meaning per kind */
	int i[2];
};

struct writer {
	struct store *store; /* not owned */
	struct event *ev;    /* owned; the flush */
	struct op *ops;	     /* owned array */
	size_t n, cap;
	struct waiter *waiters; /* owned array: called after the next commit */
	size_t n_waiters, cap_waiters;
	int failed; /* consecutive failed flushes */
};

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
	w->ev = event_new(base, -1, 0, writer_cb, w);
	if (w->ev == NULL) {
		free(w);
		return NULL;
	}
	return w;
}

static void op_clear(struct op *o)
{
	for (size_t i = 0; i < sizeof(o->s) / sizeof(o->s[0]); i++)
		free(o->s[i]);
}

void writer_free(struct writer *w)
{
	if (w == NULL)
		return;
	writer_flush(w);
	for (size_t i = 0; i < w->n; i++)
		op_clear(&w->ops[i]);
	for (size_t i = 0; i < w->n_waiters; i++)
		w->waiters[i].fn(w->waiters[i].arg, -EIO);
	free(w->waiters);
	free(w->ops);
	event_free(w->ev);
	free(w);
}

size_t writer_pending(const struct writer *w)
{
	return w->n;
}

static struct op *writer_push(struct writer *w, enum op_kind kind)
{
	struct op *o;

	if (w->n == w->cap) {
		size_t cap = w->cap ? w->cap * 2 : 256;
		struct op *ops = realloc(w->ops, cap * sizeof(*ops));

		if (ops == NULL) {
			/*
			 * Out of memory: write what we have now and reuse
			 * the space; the state in memory is still right.
			 */
			log_warnx("writer: out of memory, flushing early");
			writer_flush(w);
			if (w->n == w->cap)
				abort();
		} else {
			w->ops = ops;
			w->cap = cap;
		}
	}
	if (w->n == 0)
		event_active(w->ev, 0, 0);
	o = &w->ops[w->n++];
	memset(o, 0, sizeof(*o));
	o->kind = kind;
	return o;
}

static char *dup_or_null(const char *s)
{
	return s ? strdup(s) : NULL;
}

void writer_delivery_state(struct writer *w, const char *id, const char *state,
			   int attempts, int64_t next_at,
			   const char *last_error, int64_t sent_at,
			   const char *gateway_id, const char *reason)
{
	struct op *o = writer_push(w, OP_DELIVERY);

	o->s[0] = strdup(id);
	o->s[1] = strdup(state);
	o->s[2] = dup_or_null(last_error);
	o->s[3] = dup_or_null(gateway_id);
	o->s[4] = dup_or_null(reason);
	o->i[0] = attempts;
	o->t[0] = next_at;
	o->t[1] = sent_at;
}

void writer_attempt(struct writer *w, const char *delivery_id, int n,
		    int64_t started_at, int64_t ended_at, const char *outcome,
		    int code, const char *detail, const char *gateway_id)
{
	struct op *o = writer_push(w, OP_ATTEMPT);

	o->s[0] = strdup(delivery_id);
	o->s[1] = strdup(outcome);
	o->s[2] = dup_or_null(detail);
	o->s[3] = dup_or_null(gateway_id);
	o->i[0] = n;
	o->i[1] = code;
	o->t[0] = started_at;
	o->t[1] = ended_at;
}

void writer_org_state(struct writer *w, const char *alert_id,
		      const char *org_id, const char *state, int step,
		      int64_t next_at)
{
	struct op *o = writer_push(w, OP_ORG);

	o->s[0] = strdup(alert_id);
	o->s[1] = strdup(org_id);
	o->s[2] = strdup(state);
	o->i[0] = step;
	o->t[0] = next_at;
}

void writer_alert_state(struct writer *w, const char *alert_id,
			const char *state, int64_t finished_at)
{
	struct op *o = writer_push(w, OP_ALERT);

	o->s[0] = strdup(alert_id);
	o->s[1] = strdup(state);
	o->t[0] = finished_at;
}

void writer_event(struct writer *w, const char *alert_id, int64_t seq,
		  int64_t at, const char *actor, const char *kind,
		  const char *org_id, const char *delivery_id,
		  const char *detail, const char *prev_hash, const char *hash)
{
	struct op *o = writer_push(w, OP_EVENT);

	o->s[0] = strdup(alert_id);
	o->s[1] = strdup(actor);
	o->s[2] = strdup(kind);
	o->s[3] = dup_or_null(org_id);
	o->s[4] = dup_or_null(delivery_id);
	o->s[5] = dup_or_null(detail);
	o->s[6] = strdup(prev_hash);
	o->s[7] = strdup(hash);
	o->t[0] = seq;
	o->t[1] = at;
}

void writer_ack(struct writer *w, const char *token_hash, int64_t at,
		const char *response, const char *name, const char *comment,
		const char *source, const char *user_agent)
{
	struct op *o = writer_push(w, OP_ACK);

	o->s[0] = strdup(token_hash);
	o->s[1] = strdup(response);
	o->s[2] = dup_or_null(name);
	o->s[3] = dup_or_null(comment);
	o->s[4] = dup_or_null(source);
	o->s[5] = dup_or_null(user_agent);
	o->t[0] = at;
}

void writer_org_ack(struct writer *w, const char *alert_id, const char *org_id,
		    int64_t at, const char *by, const char *response,
		    const char *comment, const char *via)
{
	struct op *o = writer_push(w, OP_ORG_ACK);

	o->s[0] = strdup(alert_id);
	o->s[1] = strdup(org_id);
	o->s[2] = dup_or_null(by);
	o->s[3] = strdup(response);
	o->s[4] = dup_or_null(comment);
	o->s[5] = strdup(via);
	o->t[0] = at;
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
	w->n_waiters++;
	/* Even with nothing queued, the answer comes from the loop. */
	event_active(w->ev, 0, 0);
}

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

/* Binds v, or NULL when v is negative ("leave as it is" via COALESCE). */
static void bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

static int write_op(struct store *s, const struct op *o)
{
	sqlite3_stmt *st = NULL;

	switch (o->kind) {
	case OP_DELIVERY:
		/* next_at is cleared unless waiting: a stale one would mislead. */
		st = store_stmt(s, "UPDATE deliveries SET state = ?2,"
				   " attempts = COALESCE(?3, attempts),"
				   " next_at = ?4,"
				   " last_error = COALESCE(?5, last_error),"
				   " sent_at = COALESCE(?6, sent_at),"
				   " gateway_id = COALESCE(?7, gateway_id),"
				   " reason = COALESCE(?8, reason)"
				   " WHERE id = ?1");
		if (st == NULL)
			return -EIO;
		bind_str(st, 1, o->s[0]);
		bind_str(st, 2, o->s[1]);
		bind_opt(st, 3, o->i[0]);
		bind_opt(st, 4, o->t[0]);
		bind_str(st, 5, o->s[2]);
		bind_opt(st, 6, o->t[1]);
		bind_str(st, 7, o->s[3]);
		bind_str(st, 8, o->s[4]);
		break;
	case OP_ATTEMPT:
		st = store_stmt(s,
				"INSERT OR REPLACE INTO attempts (delivery_id,"
				" n, started_at, ended_at, outcome, code,"
				" detail, gateway_id)"
				" VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
		if (st == NULL)
			return -EIO;
		bind_str(st, 1, o->s[0]);
		sqlite3_bind_int(st, 2, o->i[0]);
		sqlite3_bind_int64(st, 3, o->t[0]);
		sqlite3_bind_int64(st, 4, o->t[1]);
		bind_str(st, 5, o->s[1]);
		if (o->i[1] > 0)
			sqlite3_bind_int(st, 6, o->i[1]);
		else
			sqlite3_bind_null(st, 6);
		bind_str(st, 7, o->s[2]);
		bind_str(st, 8, o->s[3]);
		break;
	case OP_ORG:
		st = store_stmt(s, "UPDATE alert_orgs SET state = ?3,"
				   " step = COALESCE(?4, step), next_at = ?5"
				   " WHERE alert_id = ?1 AND org_id = ?2");
		if (st == NULL)
			return -EIO;
		bind_str(st, 1, o->s[0]);
		bind_str(st, 2, o->s[1]);
		bind_str(st, 3, o->s[2]);
		bind_opt(st, 4, o->i[0]);
		bind_opt(st, 5, o->t[0]);
		break;
	case OP_ALERT:
		st = store_stmt(s,
				"UPDATE alerts SET state = ?2, finished_at = ?3"
				" WHERE id = ?1");
		if (st == NULL)
			return -EIO;
		bind_str(st, 1, o->s[0]);
		bind_str(st, 2, o->s[1]);
		bind_opt(st, 3, o->t[0]);
		break;
	case OP_ACK:
		st = store_stmt(s,
				"UPDATE ack_tokens SET"
				" confirmed_at = COALESCE(confirmed_at, ?2),"
				" response = ?3, name = ?4, comment = ?5,"
				" source = ?6, user_agent = ?7, updated_at = ?2"
				" WHERE token_hash = ?1");
		if (st == NULL)
			return -EIO;
		for (int k = 0; k < 6; k++)
			bind_str(st, k == 0 ? 1 : k + 2, o->s[k]);
		sqlite3_bind_int64(st, 2, o->t[0]);
		break;
	case OP_ORG_ACK:
		st = store_stmt(
			s, "UPDATE alert_orgs SET state = 'acknowledged',"
			   " acknowledged_at = COALESCE(acknowledged_at, ?3),"
			   " acknowledged_by = ?4, response = ?5,"
			   " comment = ?6, via = ?7, next_at = NULL"
			   " WHERE alert_id = ?1 AND org_id = ?2");
		if (st == NULL)
			return -EIO;
		bind_str(st, 1, o->s[0]);
		bind_str(st, 2, o->s[1]);
		sqlite3_bind_int64(st, 3, o->t[0]);
		bind_str(st, 4, o->s[2]);
		bind_str(st, 5, o->s[3]);
		bind_str(st, 6, o->s[4]);
		bind_str(st, 7, o->s[5]);
		break;
	case OP_EVENT:
		st = store_stmt(s,
				"INSERT INTO events (alert_id, seq, at, actor,"
				" kind, org_id, delivery_id, detail,"
				" prev_hash, hash)"
				" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
		if (st == NULL)
			return -EIO;
		bind_str(st, 1, o->s[0]);
		sqlite3_bind_int64(st, 2, o->t[0]);
		sqlite3_bind_int64(st, 3, o->t[1]);
		bind_str(st, 4, o->s[1]);
		bind_str(st, 5, o->s[2]);
		bind_str(st, 6, o->s[3]);
		bind_str(st, 7, o->s[4]);
		bind_str(st, 8, o->s[5]);
		bind_str(st, 9, o->s[6]);
		bind_str(st, 10, o->s[7]);
		break;
	}
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_warnx("writer: %s", sqlite3_errmsg(store_db(s)));
		return -EIO;
	}
	return 0;
}

int writer_flush(struct writer *w)
{
	size_t i;

	if (w->n == 0)
		goto answer;
	if (store_begin(w->store) < 0)
		goto retry;
	for (i = 0; i < w->n; i++)
		if (write_op(w->store, &w->ops[i]) < 0)
			goto fail;
	if (store_commit(w->store) < 0)
		goto fail;
	for (i = 0; i < w->n; i++)
		op_clear(&w->ops[i]);
	w->n = 0;
	w->failed = 0;
answer:
	/* Everything queued before each waiter arrived is now on disk. */
	while (w->n_waiters > 0) {
		size_t n = w->n_waiters;
		struct waiter batch[64];

		if (n > 64)
			n = 64;
		memcpy(batch, w->waiters, n * sizeof(batch[0]));
		memmove(w->waiters, w->waiters + n,
			(w->n_waiters - n) * sizeof(batch[0]));
		w->n_waiters -= n;
		for (size_t k = 0; k < n; k++)
			batch[k].fn(batch[k].arg, 0);
	}
	return 0;
fail:
	store_rollback(w->store);
retry:
	/*
	 * Keep the batch and try again shortly: the disk may be full or the
	 * file locked by a long reader. Nothing in memory is lost meanwhile.
	 */
	if (w->failed++ == 0)
		log_warnx("writer: could not write %zu changes, will retry",
			  w->n);
	{
		struct timeval tv = {0, 200000};

		event_add(w->ev, &tv);
	}
	return -EIO;
}
