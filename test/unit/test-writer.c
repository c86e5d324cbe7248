/*
 * Unit tests for dispatcher/store/writer.c over a real SQLite store in a
 * temporary directory: queued changes reach the disk in one group commit
 * and in order, a waiter is answered once they are on disk, and a batch
 * holding a change the database refuses (a duplicate timeline row)
 * still commits the rest, keeps the refused change in the dead-letter
 * table and answers the waiter, so later writes are never blocked. A
 * store that cannot write at all (another process holds its lock) keeps
 * the batch and retries, and its waiters are told so after a while
 * instead of waiting forever.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "dispatcher/store/sqlite.h"
#include "dispatcher/store/store.h"
#include "dispatcher/store/writer.h"

struct fixture {
	char dir[64];
	char path[96];
	struct store *s;
	struct event_base *base;
	struct writer *w;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/pocalert-test-writer-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/pocalert.db", f->dir);
	if (store_open(f->path, &f->s) < 0)
		return -1;
	f->base = event_base_new();
	if (f->base == NULL)
		return -1;
	f->w = writer_new(f->base, f->s);
	if (f->w == NULL)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

	writer_free(f->w);
	event_base_free(f->base);
	store_close(f->s);
	unlink(f->path);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* What a waiter was told. */
struct answer {
	int calls;
	int result;
};

static void answered(void *arg, int result)
{
	struct answer *a = arg;

	a->calls++;
	a->result = result;
}

/* Runs the loop until a has its answer (a bounded number of turns). */
static void wait_for(struct fixture *f, struct answer *a)
{
	for (int i = 0; i < 100 && a->calls == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_int_equal(a->calls, 1);
}

/* A timeline row; its hash is only a marker here, not checked. */
static void event(struct fixture *f, int64_t seq, const char *detail)
{
	char hash[65];

	snprintf(hash, sizeof(hash), "%064lld", (long long)seq);
	writer_event(f->w, "A-1", seq, 1795309200000LL + seq, "engine", "sent",
		     "org-1", NULL, detail, "prev", hash);
}

struct rows {
	int n;
	int64_t seq[8];
	char detail[8][32];
};

static int row_cb(void *arg, const struct store_event_row *r)
{
	struct rows *rows = arg;

	if (rows->n < 8) {
		rows->seq[rows->n] = r->seq;
		snprintf(rows->detail[rows->n], sizeof(rows->detail[0]), "%s",
			 r->detail ? r->detail : "(null)");
	}
	rows->n++;
	return 0;
}

struct letters {
	int n;
	char kind[32];
	char op[512];
	char error[128];
};

static int letter_cb(void *arg, const struct store_dead_letter_row *r)
{
	struct letters *l = arg;

	l->n++;
	snprintf(l->kind, sizeof(l->kind), "%s", r->kind);
	snprintf(l->op, sizeof(l->op), "%s", r->op);
	snprintf(l->error, sizeof(l->error), "%s", r->error);
	return 0;
}

/* Changes wait in memory until the loop turns, then commit together. */
static void test_group_commit(void **state)
{
	struct fixture *f = *state;
	struct answer a = {0};
	struct rows rows = {0};

	event(f, 1, "first");
	event(f, 2, "second");
	assert_int_equal(writer_pending(f->w), 2);
	writer_after_commit(f->w, answered, &a);
	/* Never answered from inside the call. */
	assert_int_equal(a.calls, 0);
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 0);
	wait_for(f, &a);
	assert_int_equal(a.result, 0);
	assert_int_equal(writer_pending(f->w), 0);
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.detail[0], "first");
	assert_string_equal(rows.detail[1], "second");
}

/* A waiter with nothing queued is still answered, from the loop. */
static void test_waiter_with_nothing_queued(void **state)
{
	struct fixture *f = *state;
	struct answer a = {0};

	writer_after_commit(f->w, answered, &a);
	assert_int_equal(a.calls, 0);
	wait_for(f, &a);
	assert_int_equal(a.result, 0);
}

/*
 * The heart of it: a refused change (a second row 1, which the events
 * primary key forbids) between good ones. The good ones are on disk, the
 * refused one is in dead_letters with every field, the waiter is
 * answered, and the next batch is written as usual.
 */
static void test_refused_change_goes_to_dead_letters(void **state)
{
	struct fixture *f = *state;
	struct answer a = {0}, b = {0};
	struct rows rows = {0};
	struct letters l = {0};

	event(f, 1, "good one");
	event(f, 1, "refused: same seq");
	event(f, 2, "good two");
	writer_org_state(f->w, "A-1", "org-1", "notified", 0, -1);
	writer_after_commit(f->w, answered, &a);
	wait_for(f, &a);
	assert_int_equal(a.result, 0);
	assert_int_equal(writer_pending(f->w), 0);

	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(rows.seq[0], 1);
	assert_string_equal(rows.detail[0], "good one");
	assert_int_equal(rows.seq[1], 2);
	assert_string_equal(rows.detail[1], "good two");

	assert_int_equal(store_dead_letters(f->s, letter_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_string_equal(l.kind, "event");
	assert_non_null(strstr(l.error, "UNIQUE"));
	assert_non_null(strstr(l.op, "\"op\":\"event\""));
	assert_non_null(strstr(l.op, "\"seq\":1"));
	assert_non_null(strstr(l.op, "\"detail\":\"refused: same seq\""));
	assert_non_null(strstr(l.op, "\"delivery_id\":null"));

	/* Not blocked: the next change goes through. */
	event(f, 3, "after");
	writer_after_commit(f->w, answered, &b);
	wait_for(f, &b);
	assert_int_equal(b.result, 0);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 3);
	assert_string_equal(rows.detail[2], "after");
}

/* A NOT NULL column left empty is refused the same way. */
static void test_refused_null(void **state)
{
	struct fixture *f = *state;
	struct answer a = {0};
	struct letters l = {0};
	struct rows rows = {0};

	writer_push(f->w, &(struct store_op){
				  .kind = STORE_OP_EVENT,
				  .event = {.alert_id = "A-1",
					    .seq = 1,
					    .at = 1,
					    .actor = NULL, /* NOT NULL */
					    .kind = "sent",
					    .prev_hash = "p",
					    .hash = "h"},
			  });
	event(f, 1, "good");
	writer_after_commit(f->w, answered, &a);
	wait_for(f, &a);
	assert_int_equal(a.result, 0);
	assert_int_equal(store_dead_letters(f->s, letter_cb, &l), 0);
	assert_int_equal(l.n, 1);
	assert_non_null(strstr(l.error, "NOT NULL"));
	assert_non_null(strstr(l.op, "\"actor\":null"));
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 1);
}

/*
 * writer_apply_now: what is queued goes first (the timeline stays in
 * order), then the batch commits whole or, refused, not at all.
 */
static void test_apply_now(void **state)
{
	struct fixture *f = *state;
	struct store_batch b = {0};
	struct rows rows = {0};
	struct letters l = {0};

	event(f, 1, "queued");
	assert_int_equal(store_batch_add(&b,
					 &(struct store_op){
						 .kind = STORE_OP_EVENT,
						 .event = {.alert_id = "A-1",
							   .seq = 2,
							   .at = 2,
							   .actor = "op",
							   .kind = "accepted",
							   .detail = "batch",
							   .prev_hash = "p",
							   .hash = "h"},
					 }),
			 0);
	assert_int_equal(writer_apply_now(f->w, &b), 0);
	assert_int_equal(writer_pending(f->w), 0);
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_string_equal(rows.detail[0], "queued");
	assert_string_equal(rows.detail[1], "batch");

	/* The same row again: refused, and nothing of the batch stays. */
	b.ops[0].event.seq = 3;
	assert_int_equal(store_batch_add(&b,
					 &(struct store_op){
						 .kind = STORE_OP_EVENT,
						 .event = {.alert_id = "A-1",
							   .seq = 2,
							   .at = 2,
							   .actor = "op",
							   .kind = "again",
							   .prev_hash = "p",
							   .hash = "h"},
					 }),
			 0);
	assert_int_equal(writer_apply_now(f->w, &b), -EINVAL);
	memset(&rows, 0, sizeof(rows));
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 2);
	/* All or nothing: not a dead letter, the caller is told. */
	assert_int_equal(store_dead_letters(f->s, letter_cb, &l), 0);
	assert_int_equal(l.n, 0);
	store_batch_free(&b);
}

/*
 * The database is locked by another process: the batch stays queued and
 * is retried, the waiter hears -EIO after the give-up time, and once
 * the lock goes the batch is written and the next waiter hears 0.
 */
static void test_locked_store(void **state)
{
	struct fixture *f = *state;
	struct answer a = {0}, b = {0};
	struct rows rows = {0};
	sqlite3 *other;

	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite_store_busy_timeout(f->s, 10);
	writer_set_give_up(f->w, 300);

	event(f, 1, "held back");
	writer_after_commit(f->w, answered, &a);
	for (int i = 0; i < 50 && a.calls == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.result, -EIO);
	/* Kept, not dropped. */
	assert_int_equal(writer_pending(f->w), 1);

	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(other);
	writer_after_commit(f->w, answered, &b);
	for (int i = 0; i < 50 && b.calls == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(b.calls, 1);
	assert_int_equal(b.result, 0);
	assert_int_equal(writer_pending(f->w), 0);
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 1);
	/* The first waiter was answered once only. */
	assert_int_equal(a.calls, 1);
}

/*
 * A confirmation that arrives while the store cannot commit is told so at
 * the next try (a person is waiting on the page: main kept it 40 s), and
 * its change is still written once the store recovers.
 */
static void test_failing_store_answers_fast(void **state)
{
	struct fixture *f = *state;
	struct answer first = {0}, late = {0};
	struct rows rows = {0};
	int64_t ms = -1;
	struct timespec t0, t1;
	sqlite3 *other;

	assert_int_equal(sqlite3_open(f->path, &other), SQLITE_OK);
	assert_int_equal(
		sqlite3_exec(other, "BEGIN IMMEDIATE", NULL, NULL, NULL),
		SQLITE_OK);
	sqlite_store_busy_timeout(f->s, 10);
	/* The give-up time stays long: only the fast path may answer. */
	writer_set_give_up(f->w, 60000);
	assert_false(writer_failing(f->w, NULL));
	event(f, 1, "before");
	writer_after_commit(f->w, answered, &first);
	event_base_loop(f->base, EVLOOP_ONCE | EVLOOP_NONBLOCK);
	assert_true(writer_failing(f->w, &ms));
	assert_true(ms >= 0);
	assert_int_equal(first.calls, 0); /* it came before the failure */

	clock_gettime(CLOCK_MONOTONIC, &t0);
	event(f, 2, "the confirmation");
	writer_after_commit(f->w, answered, &late);
	for (int i = 0; i < 50 && late.calls == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_int_equal(late.calls, 1);
	assert_int_equal(late.result, -EIO);
	assert_true((t1.tv_sec - t0.tv_sec) * 1000 +
			    (t1.tv_nsec - t0.tv_nsec) / 1000000 <
		    2000);
	assert_int_equal(writer_pending(f->w), 2);

	/* The store recovers: both rows are written, the first waiter told. */
	assert_int_equal(sqlite3_exec(other, "COMMIT", NULL, NULL, NULL),
			 SQLITE_OK);
	sqlite3_close(other);
	for (int i = 0; i < 50 && first.calls == 0; i++)
		event_base_loop(f->base, EVLOOP_ONCE);
	assert_int_equal(first.calls, 1);
	assert_int_equal(first.result, 0);
	assert_false(writer_failing(f->w, NULL));
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 2);
	assert_int_equal(late.calls, 1);
}

/* Freeing the writer writes what is queued and answers the waiters. */
static void test_free_writes_queue(void **state)
{
	struct fixture *f = *state;
	struct answer a = {0};
	struct rows rows = {0};

	event(f, 1, "last words");
	writer_after_commit(f->w, answered, &a);
	writer_free(f->w);
	f->w = NULL;
	assert_int_equal(a.calls, 1);
	assert_int_equal(a.result, 0);
	assert_int_equal(store_timeline_rows(f->s, "A-1", row_cb, &rows), 0);
	assert_int_equal(rows.n, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_group_commit, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_waiter_with_nothing_queued,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_refused_change_goes_to_dead_letters, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_refused_null, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_apply_now, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_locked_store, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_failing_store_answers_fast,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_writes_queue, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
