/*
 * Unit tests for the store interface (dispatcher/store/store.c) and its
 * SQLite backend (dispatcher/store/sqlite*.c) over a real file in a
 * temporary directory: the choice of backend by the `database` setting,
 * forward migrations, the typed operations applied all-or-nothing, and
 * the named reads recovery, reply links and cancellation depend on.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "dispatcher/store/sqlite.h"
#include "dispatcher/store/store.h"

struct fixture {
	char dir[64];
	char path[96];
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	strcpy(f->dir, "/tmp/pocalert-test-store-XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/pocalert.db", f->dir);
	if (store_open(f->path, &f->s) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char p[128];

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

/* One alert with two organisations, as acceptance writes it. */
static void accept(struct fixture *f)
{
	const struct store_op ops[] = {
		{.kind = STORE_OP_ALERT_NEW,
		 .alert_new = {.id = "A-1",
			       .title = "注意喚起",
			       .body = "本文",
			       .type = "incident",
			       .severity = "high",
			       .tlp = "AMBER",
			       .drill = 1,
			       .targets = "[\"all\"]",
			       .policy = "default",
			       .policy_json = "{}",
			       .mode = "normal",
			       .created_at = 1000,
			       .created_by = "alice"}},
		{.kind = STORE_OP_ORG_NEW,
		 .org_new = {.alert_id = "A-1",
			     .org_id = "org-b",
			     .org_name = "東京電力",
			     .position = 0,
			     .next_at = 1000}},
		{.kind = STORE_OP_ORG_NEW,
		 .org_new = {.alert_id = "A-1",
			     .org_id = "org-a",
			     .org_name = "関西電力",
			     .position = 1,
			     .next_at = 1000}},
		{.kind = STORE_OP_EVENT,
		 .event = {.alert_id = "A-1",
			   .seq = 1,
			   .at = 1000,
			   .actor = "alice",
			   .kind = "accepted",
			   .prev_hash = "0",
			   .hash = "h1"}},
	};

	assert_int_equal(store_apply(f->s, ops, sizeof(ops) / sizeof(ops[0]),
				     STORE_APPLY_ALL_OR_NOTHING),
			 0);
}

static struct store_op delivery(const char *id, const char *org,
				const char *contact, int rank,
				const char *state)
{
	return (struct store_op){
		.kind = STORE_OP_DELIVERY_NEW,
		.delivery_new = {.id = id,
				 .alert_id = "A-1",
				 .org_id = org,
				 .contact_id = contact,
				 .contact_name = "山田",
				 .language = "ja",
				 .channel = "mail",
				 .address = "yamada@example.jp",
				 .charset = "utf-8",
				 .step = 0,
				 .rank = rank,
				 .state = state,
				 .reason = NULL,
				 .kind = "alert"},
	};
}

static void test_backend_by_setting(void **state)
{
	struct fixture *f = *state;
	struct store *s = NULL;

	assert_string_equal(store_backend_name(f->s), "sqlite");
	assert_int_equal(store_open("postgresql://db.example/pocalert", &s),
			 -ENOTSUP);
	assert_null(s);
	assert_int_equal(store_open("nosuch://x", &s), -ENOTSUP);
	assert_null(s);
}

/*
 * An older file is taken forward: the dead-letter table is added, and the
 * timeline head of an alert written before version 5 is anchored in it.
 */
static void test_forward_migration(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	int64_t one = 0, seq = -1;
	char hash[65];

	assert_int_equal(sqlite_store_schema_version(), 6);
	accept(f);
	assert_int_equal(
		sqlite_store_exec(f->s,
				  "DROP TABLE dead_letters;"
				  "DROP TABLE holidays;"
				  "ALTER TABLE orgs DROP days_off;"
				  "DROP TRIGGER events_head;"
				  "DROP TABLE meta;"
				  "ALTER TABLE alerts DROP COLUMN head_seq;"
				  "ALTER TABLE alerts DROP COLUMN head_hash;"
				  "PRAGMA user_version = 3"),
		0);
	store_close(f->s);
	f->s = NULL;
	assert_int_equal(store_open(f->path, &s), 0);
	f->s = s;
	assert_int_equal(
		sqlite3_exec(sqlite_store_db(s),
			     "INSERT INTO dead_letters (at, kind, error, op)"
			     " VALUES (1, 'event', 'e', '{}')",
			     NULL, NULL, NULL),
		SQLITE_OK);
	{
		sqlite3_stmt *st;

		assert_int_equal(sqlite3_prepare_v2(sqlite_store_db(s),
						    "PRAGMA user_version", -1,
						    &st, NULL),
				 SQLITE_OK);
		assert_int_equal(sqlite3_step(st), SQLITE_ROW);
		one = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
	}
	assert_int_equal(one, 6);
	assert_int_equal(store_timeline_anchor(s, "A-1", &seq, hash), 0);
	assert_int_equal(seq, 1);
}

/* 64 hex digits standing for the hash of event n. */
static const char *fake_hash(int n)
{
	static char h[65];

	memset(h, 'a' + n, 64);
	h[64] = '\0';
	return h;
}

/*
 * The alert's row follows its newest event in the same transaction, so
 * that cutting the newest rows off is visible; the anchor never moves
 * back, and an unknown alert has none.
 */
static void test_timeline_anchor(void **state)
{
	struct fixture *f = *state;
	int64_t seq = -1;
	char hash[65];

	accept(f);
	for (int n = 2; n <= 3; n++) {
		char prev[65];
		struct store_op ev = {.kind = STORE_OP_EVENT,
				      .event = {.alert_id = "A-1",
						.seq = n,
						.at = 2000,
						.actor = "engine",
						.kind = "sent",
						.prev_hash = prev,
						.hash = NULL}};

		strcpy(prev, fake_hash(n - 1));
		ev.event.hash = fake_hash(n);
		assert_int_equal(
			store_apply(f->s, &ev, 1, STORE_APPLY_ALL_OR_NOTHING),
			0);
	}
	assert_int_equal(store_timeline_anchor(f->s, "A-1", &seq, hash), 0);
	assert_int_equal(seq, 3);
	assert_string_equal(hash, fake_hash(3));
	/* Deleting the newest rows leaves the anchor where it was. */
	assert_int_equal(
		sqlite_store_exec(f->s, "DELETE FROM events WHERE seq > 1"), 0);
	assert_int_equal(store_timeline_anchor(f->s, "A-1", &seq, hash), 0);
	assert_int_equal(seq, 3);
	assert_int_equal(store_timeline_anchor(f->s, "nope", &seq, hash),
			 -ENOENT);
}

/* The mode bits of path, or -1. */
static int mode_of(const char *path)
{
	struct stat st;

	return stat(path, &st) < 0 ? -1 : (int)(st.st_mode & 0777);
}

/*
 * A 0-byte database is a store whose contents were lost: refused (main
 * opened it as a new, empty one), accepted only with STORE_OPEN_INIT.
 */
static void test_empty_file_refused(void **state)
{
	struct fixture *f = *state;
	char empty[128];
	struct store *s = NULL;
	FILE *fp;

	snprintf(empty, sizeof(empty), "%s/empty.db", f->dir);
	fp = fopen(empty, "w");
	assert_non_null(fp);
	fclose(fp);
	assert_int_equal(store_open(empty, &s), -ENODATA);
	assert_null(s);
	assert_int_equal(store_open_with(empty, STORE_OPEN_INIT, &s), 0);
	store_close(s);
	/* Now it has a schema: an ordinary open takes it. */
	assert_int_equal(store_open(empty, &s), 0);
	store_close(s);
	unlink(empty);
	snprintf(empty, sizeof(empty), "%s/empty.db-wal", f->dir);
	unlink(empty);
	snprintf(empty, sizeof(empty), "%s/empty.db-shm", f->dir);
	unlink(empty);
}

/*
 * Under umask 022 the database and its -wal and -shm files are created
 * 0640 and a new state directory 0750: nobody outside the group reads a
 * TLP:RED alert (main made them 0644).
 */
static void test_file_modes(void **state)
{
	struct fixture *f = *state;
	char dir[128], db[160], p[180];
	struct store *s = NULL;
	mode_t old = umask(022);

	snprintf(dir, sizeof(dir), "%s/state", f->dir);
	snprintf(db, sizeof(db), "%s/pocalert.db", dir);
	assert_int_equal(store_open(db, &s), 0);
	accept(&(struct fixture){.s = s});
	assert_int_equal(mode_of(dir), 0750);
	assert_int_equal(mode_of(db), 0640);
	snprintf(p, sizeof(p), "%s-wal", db);
	assert_int_equal(mode_of(p), 0640);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", db);
	assert_int_equal(mode_of(p), 0640);
	store_close(s);
	umask(old);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", db);
	unlink(p);
	unlink(db);
	rmdir(dir);
}

/*
 * Two daemons on one store are refused: the second exclusive open fails
 * with -EBUSY while the first holds it, and succeeds once it is closed.
 * Readers (the CLI) are not locked out.
 */
static void test_exclusive_lock(void **state)
{
	struct fixture *f = *state;
	struct store *a = NULL, *b = NULL, *reader = NULL;
	char lock[128];

	assert_int_equal(store_open_with(f->path, STORE_OPEN_EXCLUSIVE, &a), 0);
	assert_int_equal(store_open_with(f->path, STORE_OPEN_EXCLUSIVE, &b),
			 -EBUSY);
	assert_null(b);
	assert_int_equal(store_open(f->path, &reader), 0);
	store_close(reader);
	store_close(a);
	assert_int_equal(store_open_with(f->path, STORE_OPEN_EXCLUSIVE, &b), 0);
	store_close(b);
	snprintf(lock, sizeof(lock), "%s.lock", f->path);
	unlink(lock);
}

/* Store-wide facts and the alert count that start-up checks rely on. */
static void test_meta_and_count(void **state)
{
	struct fixture *f = *state;
	char buf[16];
	int64_t n = -1;

	assert_int_equal(store_alert_count(f->s, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(store_meta_get(f->s, "k", buf, sizeof(buf)), -ENOENT);
	assert_int_equal(store_meta_set(f->s, "k", "v1"), 0);
	assert_int_equal(store_meta_set(f->s, "k", "value-2"), 0);
	assert_int_equal(store_meta_get(f->s, "k", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "value-2");
	assert_int_equal(store_meta_get(f->s, "k", buf, 4), -ENOBUFS);
	accept(f);
	assert_int_equal(store_alert_count(f->s, &n), 0);
	assert_int_equal(n, 1);
}

/* Imported holidays: replaced whole, read back in order, none at first. */
static void test_calendar(void **state)
{
	struct fixture *f = *state;
	struct calendar_holiday h[3] = {{0, (char *)"元日"},
					{0, (char *)"休日"},
					{0, (char *)"成人の日"}};
	struct calendar cal = {0}, back = {0};

	assert_int_equal(store_calendar_load(f->s, &back), -ENOENT);
	assert_int_equal(calendar_parse_date("2027-01-01", &h[0].day), 0);
	assert_int_equal(calendar_parse_date("2027-03-22", &h[1].day), 0);
	assert_int_equal(calendar_parse_date("2027-01-11", &h[2].day), 0);
	assert_int_equal(calendar_from_list(h, 3, &cal), 0);
	assert_int_equal(store_calendar_replace(f->s, &cal), 0);
	assert_int_equal(store_calendar_load(f->s, &back), 0);
	assert_int_equal(back.n, 3);
	assert_int_equal(back.holidays[1].day, h[2].day);
	assert_string_equal(back.holidays[2].name, "休日");
	assert_int_equal(back.last_day - back.first_day, 364);
	calendar_free(&back);
	/* A second import replaces the first. */
	cal.n = 1;
	assert_int_equal(store_calendar_replace(f->s, &cal), 0);
	cal.n = 3;
	assert_int_equal(store_calendar_load(f->s, &back), 0);
	assert_int_equal(back.n, 1);
	calendar_free(&back);
	calendar_free(&cal);
}

static int count_org(void *arg, const struct store_org_row *r)
{
	char *out = arg;

	strcat(out, r->org_id);
	strcat(out, ";");
	return 0;
}

static void test_accept_and_read_back(void **state)
{
	struct fixture *f = *state;
	char buf[32], orgs[64] = "", hash[65] = "untouched";
	size_t n = 0;
	int64_t seq = -1;

	accept(f);
	assert_int_equal(store_alert_state(f->s, "A-1", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "active");
	assert_int_equal(store_alert_state(f->s, "A-1", buf, 3), -ENOBUFS);
	assert_int_equal(store_alert_state(f->s, "nope", buf, sizeof(buf)),
			 -ENOENT);
	assert_int_equal(store_alert_org_count(f->s, "A-1", &n), 0);
	assert_int_equal(n, 2);
	/* Position order, not id order. */
	assert_int_equal(store_alert_orgs(f->s, "A-1", count_org, orgs), 0);
	assert_string_equal(orgs, "org-b;org-a;");
	assert_int_equal(store_timeline_head(f->s, "A-1", &seq, hash), 0);
	assert_int_equal(seq, 1);
	/* Only a 64-digit hash is taken as a head. */
	assert_string_equal(hash, "untouched");
	assert_int_equal(store_timeline_head(f->s, "none", &seq, hash), 0);
	assert_int_equal(seq, 0);
}

/* A refused operation in an all-or-nothing list leaves nothing behind. */
static void test_all_or_nothing(void **state)
{
	struct fixture *f = *state;
	struct store_op ops[2];
	size_t n = 99;

	accept(f);
	ops[0] = delivery("A-1-1", "org-a", "c1", 1, "queued");
	ops[1] = delivery("A-1-1", "org-a", "c2", 2, "queued"); /* same id */
	assert_int_equal(store_apply(f->s, ops, 2, STORE_APPLY_ALL_OR_NOTHING),
			 -EINVAL);
	assert_int_equal(store_alert_delivery_count(f->s, "A-1", &n), 0);
	assert_int_equal(n, 0);
	/* In dead-letter mode the good one stays, the other is kept aside. */
	assert_int_equal(store_apply(f->s, ops, 2, STORE_APPLY_DEAD_LETTER), 1);
	assert_int_equal(store_alert_delivery_count(f->s, "A-1", &n), 0);
	assert_int_equal(n, 1);
}

struct seen {
	int n;
	char text[256];
};

static int unfinished_cb(void *arg, const struct store_delivery_row *r)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s:%s:%lld;", r->id,
		 r->state, (long long)r->next_at);
	s->n++;
	return 0;
}

static int reached_cb(void *arg, const struct store_reach_row *r)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s/%s/%d/%d;",
		 r->org_id, r->contact_id, r->step, r->sent);
	s->n++;
	return 0;
}

static int method_cb(void *arg, const struct store_method_row *r)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s/%s/%s;", r->org_id,
		 r->contact_id, r->address);
	s->n++;
	return 0;
}

static int stop_cb(void *arg, const struct store_delivery_row *r)
{
	(void)r;
	++*(int *)arg;
	return 42;
}

/* What recovery reads after deliveries moved on. */
static void test_recovery_reads(void **state)
{
	struct fixture *f = *state;
	struct store_op ops[5];
	struct seen seen = {0};
	int calls = 0;

	accept(f);
	ops[0] = delivery("A-1-1", "org-b", "c1", 1, "queued");
	ops[1] = delivery("A-1-2", "org-a", "c2", 2, "queued");
	ops[2] = delivery("A-1-3", "org-a", "c3", 3, "queued");
	ops[3] = (struct store_op){.kind = STORE_OP_DELIVERY_STATE,
				   .delivery_state = {.id = "A-1-1",
						      .state = "sent",
						      .attempts = 1,
						      .next_at = STORE_NONE,
						      .sent_at = 2000}};
	ops[4] = (struct store_op){.kind = STORE_OP_DELIVERY_STATE,
				   .delivery_state = {.id = "A-1-2",
						      .state = "retry_wait",
						      .attempts = 1,
						      .next_at = 5000,
						      .last_error = "451 later",
						      .sent_at = STORE_NONE}};
	assert_int_equal(store_apply(f->s, ops, 5, STORE_APPLY_DEAD_LETTER), 0);

	assert_int_equal(
		store_alert_unfinished(f->s, "A-1", unfinished_cb, &seen), 0);
	assert_int_equal(seen.n, 2);
	assert_string_equal(seen.text,
			    "A-1-2:retry_wait:5000;A-1-3:queued:-1;");

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(store_alert_reached(f->s, "A-1", reached_cb, &seen),
			 0);
	assert_int_equal(seen.n, 3);
	assert_non_null(strstr(seen.text, "org-b/c1/0/1;"));
	assert_non_null(strstr(seen.text, "org-a/c2/0/0;"));

	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
		store_alert_sent_methods(f->s, "A-1", method_cb, &seen), 0);
	assert_string_equal(seen.text, "org-b/c1/yamada@example.jp;");

	/* A callback's non-zero value stops the walk and comes back. */
	assert_int_equal(store_alert_unfinished(f->s, "A-1", stop_cb, &calls),
			 42);
	assert_int_equal(calls, 1);
}

static int ack_cb(void *arg, const struct store_ack_row *r)
{
	struct seen *s = arg;

	snprintf(s->text, sizeof(s->text), "%s %s %s %s %d %lld %s",
		 r->alert_id, r->org_name, r->contact_id, r->alert_state,
		 r->position, (long long)r->confirmed_at,
		 r->response ? r->response : "-");
	s->n++;
	return 0;
}

static int confirmed_cb(void *arg, const struct store_contact_row *r)
{
	struct seen *s = arg;
	size_t len = strlen(s->text);

	snprintf(s->text + len, sizeof(s->text) - len, "%s/%s;", r->org_id,
		 r->contact_id);
	s->n++;
	return 0;
}

/* A reply link: looked up by its hash, then answered twice. */
static void test_ack_lookup(void **state)
{
	struct fixture *f = *state;
	struct store_op ops[3] = {
		{.kind = STORE_OP_ACK_TOKEN_NEW,
		 .ack_token_new = {.token_hash = "H",
				   .alert_id = "A-1",
				   .org_id = "org-a",
				   .position = 1,
				   .contact_id = "c2",
				   .contact_name = "佐藤",
				   .language = "ja"}},
		{.kind = STORE_OP_ACK,
		 .ack = {.token_hash = "H",
			 .at = 3000,
			 .response = "received",
			 .source = "127.0.0.1"}},
		{.kind = STORE_OP_ACK,
		 .ack = {.token_hash = "H",
			 .at = 4000,
			 .response = "affected",
			 .source = "127.0.0.1"}},
	};
	struct seen seen = {0};

	accept(f);
	assert_int_equal(store_apply(f->s, ops, 1, STORE_APPLY_DEAD_LETTER), 0);
	assert_int_equal(store_ack_lookup(f->s, "H", ack_cb, &seen), 0);
	assert_string_equal(seen.text, "A-1 関西電力 c2 active 1 -1 -");
	assert_int_equal(store_ack_lookup(f->s, "other", ack_cb, &seen),
			 -ENOENT);
	/* The first confirmation time stays, the latest answer counts. */
	assert_int_equal(store_apply(f->s, ops + 1, 2, STORE_APPLY_DEAD_LETTER),
			 0);
	assert_int_equal(store_ack_lookup(f->s, "H", ack_cb, &seen), 0);
	assert_string_equal(seen.text,
			    "A-1 関西電力 c2 active 1 3000 affected");
	memset(&seen, 0, sizeof(seen));
	assert_int_equal(
		store_alert_confirmations(f->s, "A-1", confirmed_cb, &seen), 0);
	assert_string_equal(seen.text, "org-a/c2;");
}

/* The directory cache learns of another process's commit. */
static void test_data_version(void **state)
{
	struct fixture *f = *state;
	struct store *other;
	int64_t v1 = -1, v2 = -1;

	assert_int_equal(store_data_version(f->s, &v1), 0);
	assert_int_equal(store_open(f->path, &other), 0);
	accept(&(struct fixture){.s = other});
	store_close(other);
	assert_int_equal(store_data_version(f->s, &v2), 0);
	assert_true(v1 != v2);
}

/* Every field of an operation, NULL as null, in the dead-letter form. */
static void test_op_json(void **state)
{
	struct store_op op = {.kind = STORE_OP_ORG_ACK,
			      .org_ack = {.alert_id = "A-1",
					  .org_id = "org-a",
					  .at = 5,
					  .by = NULL,
					  .response = "received",
					  .comment = "\"quoted\"",
					  .via = "link"}};
	char *j = store_op_json(&op);

	(void)state;
	assert_non_null(j);
	assert_string_equal(j, "{\"op\":\"org_ack\",\"alert_id\":\"A-1\","
			       "\"org_id\":\"org-a\",\"at\":5,\"by\":null,"
			       "\"response\":\"received\",\"comment\":"
			       "\"\\\"quoted\\\"\",\"via\":\"link\"}");
	free(j);
	assert_string_equal(store_op_kind_name(STORE_OP_DELIVERY_STATE),
			    "delivery_state");
}

/* A batch owns its copies: the caller's strings may go at once. */
static void test_batch_copies(void **state)
{
	struct store_batch b = {0};
	char id[16] = "A-1";

	(void)state;
	for (int i = 0; i < 100; i++)
		assert_int_equal(
			store_batch_add(
				&b,
				&(struct store_op){
					.kind = STORE_OP_ALERT_STATE,
					.alert_state = {.alert_id = id,
							.state = "completed",
							.finished_at = i}}),
			0);
	strcpy(id, "changed");
	assert_int_equal(b.n, 100);
	assert_string_equal(b.ops[99].alert_state.alert_id, "A-1");
	assert_true(b.ops[99].alert_state.alert_id != id);
	store_batch_clear(&b);
	assert_int_equal(b.n, 0);
	store_batch_free(&b);
	assert_null(b.ops);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_backend_by_setting, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_forward_migration, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_timeline_anchor, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_meta_and_count, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_empty_file_refused, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_file_modes, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_exclusive_lock, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_calendar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_and_read_back,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_all_or_nothing, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_recovery_reads, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_ack_lookup, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_data_version, setup,
						teardown),
		cmocka_unit_test(test_op_json),
		cmocka_unit_test(test_batch_copies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
