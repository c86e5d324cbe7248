/*
 * Unit tests for dispatcher/view/status.c over a real store in a temporary
 * directory: rows are written with SQL as the engine would leave them,
 * and the JSON that GET /api/v1/alerts[/ID] answers is checked field by
 * field, including an alert of 5,000 organisations and 20,000 deliveries.
 */
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
#include <jansson.h>
#include <sqlite3.h>

#include "dispatcher/view/status.h"
#include "dispatcher/store/store.h"
#include "dispatcher/store/sqlite.h"
#include "test/unit/testutil.h"

/* 2026-11-22T10:00:00.000+09:00 */
#define T0 1795309200000LL

struct fixture {
	char *dir;  /* owned */
	char *path; /* owned; the database */
	struct store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	f->dir = testutil_tmpdir("test-status");
	f->path = testutil_path(f->dir, "pocalert.db");
	if (store_open(f->path, &f->s) < 0)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	store_close(f->s);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static void sql(struct fixture *f, const char *text)
{
	char *err = NULL;

	if (sqlite3_exec(sqlite_store_db(f->s), text, NULL, NULL, &err) !=
	    SQLITE_OK)
		fail_msg("%s: %s", text, err);
}

static void add_alert(struct fixture *f, const char *id, int64_t created,
		      const char *state, int drill)
{
	char *q = sqlite3_mprintf(
		"INSERT INTO alerts (id, title, body, type, severity, tlp,"
		" drill, targets, policy, mode, state, created_at, created_by)"
		" VALUES (%Q, '不正アクセスの注意喚起', 'body', 'incident',"
		" 'high', 'AMBER', %d, '[\"sector:electricity\"]', 'default',"
		" 'normal', %Q, %lld, 'alice')",
		id, drill, state, (long long)created);

	sql(f, q);
	sqlite3_free(q);
}

/* Two organisations, listed in position order (not id order). */
static void add_example(struct fixture *f)
{
	add_alert(f, "A-1", T0, "active", 0);
	sql(f, "INSERT INTO alert_orgs (alert_id, org_id, org_name, position,"
	       " state, step, acknowledged_at, acknowledged_by, response,"
	       " comment, via) VALUES"
	       " ('A-1', 'org-b', '東京電力', 0, 'acknowledged', 0,"
	       "  1795309260500, '山田', 'received', 'OK', 'link'),"
	       " ('A-1', 'org-a', '関西電力', 1, 'notified', 1,"
	       "  NULL, NULL, NULL, NULL, NULL),"
	       " ('A-1', 'org-c', '北陸電力', 2, 'pending', -1,"
	       "  NULL, NULL, NULL, NULL, NULL)");
	sql(f, "INSERT INTO deliveries (id, alert_id, org_id, contact_id,"
	       " contact_name, language, channel, address, charset, step, rank,"
	       " state, reason, attempts, last_error, sent_at) VALUES"
	       " ('d1', 'A-1', 'org-b', 'c1', '山田太郎', 'ja', 'mail',"
	       "  'yamada@example.jp', 'utf-8', 0, 1, 'sent', NULL, 1, NULL,"
	       "  1795309201000),"
	       " ('d2', 'A-1', 'org-b', 'c1', '山田太郎', 'ja', 'sms',"
	       "  '+819012345678', 'utf-8', 0, 2, 'cancelled', 'acknowledged',"
	       "  0, NULL, NULL),"
	       " ('d3', 'A-1', 'org-a', 'c2', 'Sato', 'en', 'mail',"
	       "  'sato@example.jp', 'utf-8', 0, 3, 'retry_wait',"
	       "  'ignored: not skipped', 2, '451 try later', NULL),"
	       " ('d4', 'A-1', 'org-a', 'c3', 'Kato', 'ja', 'voice',"
	       "  '+81312345678', 'utf-8', 1, 4, 'failed', NULL, 3,"
	       "  'no answer', NULL),"
	       " ('d5', 'A-1', 'org-a', 'c2', 'Sato', 'en', 'fax',"
	       "  '+81300000000', 'utf-8', 0, 5, 'skipped', 'TLP too high',"
	       "  0, NULL, NULL)");
}

static json_int_t count(json_t *j, const char *name)
{
	json_t *c = json_object_get(json_object_get(j, "counts"), name);

	assert_true(json_is_integer(c));
	return json_integer_value(c);
}

static const char *str(json_t *j, const char *name)
{
	json_t *v = json_object_get(j, name);

	if (!json_is_string(v))
		fail_msg("\"%s\" is not a string", name);
	return json_string_value(v);
}

static void test_alert_status(void **state)
{
	struct fixture *f = *state;
	json_t *j, *orgs, *o, *d;
	int nf = -1;

	add_example(f);
	j = status_alert(f->s, "A-1", &nf);
	assert_non_null(j);
	assert_int_equal(nf, 0);
	assert_string_equal(str(j, "id"), "A-1");
	assert_string_equal(str(j, "title"), "不正アクセスの注意喚起");
	assert_string_equal(str(j, "type"), "incident");
	assert_string_equal(str(j, "severity"), "high");
	assert_string_equal(str(j, "tlp"), "AMBER");
	assert_true(json_is_false(json_object_get(j, "drill")));
	assert_string_equal(str(j, "state"), "active");
	assert_string_equal(str(j, "created_at"),
			    "2026-11-22T10:00:00.000+09:00");
	assert_true(json_is_null(json_object_get(j, "finished_at")));
	assert_string_equal(json_string_value(json_array_get(
				    json_object_get(j, "targets"), 0)),
			    "sector:electricity");

	assert_int_equal(count(j, "organisations"), 3);
	assert_int_equal(count(j, "deliveries"), 5);
	assert_int_equal(count(j, "sent"), 1);
	assert_int_equal(count(j, "failed"), 1);
	assert_int_equal(count(j, "pending"), 1);
	assert_int_equal(count(j, "skipped"), 1);
	assert_int_equal(count(j, "cancelled"), 1);

	orgs = json_object_get(j, "organisations");
	assert_int_equal(json_array_size(orgs), 3);
	/* Position order: org-b first although org-a sorts before it. */
	o = json_array_get(orgs, 0);
	assert_string_equal(str(o, "id"), "org-b");
	assert_string_equal(str(o, "name"), "東京電力");
	assert_string_equal(str(o, "state"), "acknowledged");
	assert_int_equal(json_integer_value(json_object_get(o, "step")), 0);
	assert_string_equal(str(o, "acknowledged_at"),
			    "2026-11-22T10:01:00.500+09:00");
	assert_string_equal(str(o, "acknowledged_by"), "山田");
	assert_string_equal(str(o, "response"), "received");
	assert_string_equal(str(o, "comment"), "OK");
	assert_string_equal(str(o, "via"), "link");
	assert_int_equal(json_array_size(json_object_get(o, "deliveries")), 2);
	d = json_array_get(json_object_get(o, "deliveries"), 0);
	assert_string_equal(str(d, "id"), "d1");
	assert_string_equal(str(d, "contact"), "山田太郎");
	assert_string_equal(str(d, "contact_id"), "c1");
	assert_string_equal(str(d, "channel"), "mail");
	assert_string_equal(str(d, "address"), "yamada@example.jp");
	assert_string_equal(str(d, "state"), "sent");
	assert_true(json_is_null(json_object_get(d, "reason")));
	assert_int_equal(json_integer_value(json_object_get(d, "attempts")), 1);
	assert_true(json_is_null(json_object_get(d, "last_error")));
	assert_string_equal(str(d, "sent_at"), "2026-11-22T10:00:01.000+09:00");
	assert_int_equal(json_integer_value(json_object_get(d, "step")), 0);
	d = json_array_get(json_object_get(o, "deliveries"), 1);
	assert_string_equal(str(d, "reason"), "acknowledged");
	assert_true(json_is_null(json_object_get(d, "sent_at")));

	/* Not acknowledged: no acknowledgement fields at all. */
	o = json_array_get(orgs, 1);
	assert_string_equal(str(o, "id"), "org-a");
	assert_null(json_object_get(o, "acknowledged_at"));
	assert_int_equal(json_integer_value(json_object_get(o, "step")), 1);
	/* Deliveries by step, then rank: d3 (0/3), d5 (0/5), d4 (1/4). */
	d = json_object_get(o, "deliveries");
	assert_int_equal(json_array_size(d), 3);
	assert_string_equal(str(json_array_get(d, 0), "id"), "d3");
	assert_string_equal(str(json_array_get(d, 1), "id"), "d5");
	assert_string_equal(str(json_array_get(d, 2), "id"), "d4");
	/* A reason only where something was skipped or cancelled. */
	assert_true(
		json_is_null(json_object_get(json_array_get(d, 0), "reason")));
	assert_string_equal(str(json_array_get(d, 0), "last_error"),
			    "451 try later");
	assert_string_equal(str(json_array_get(d, 1), "reason"),
			    "TLP too high");

	/* An organisation nothing was planned for yet is still listed. */
	o = json_array_get(orgs, 2);
	assert_string_equal(str(o, "id"), "org-c");
	assert_int_equal(json_array_size(json_object_get(o, "deliveries")), 0);
	json_decref(j);
}

static void test_not_found(void **state)
{
	struct fixture *f = *state;
	int nf = 0;

	assert_null(status_alert(f->s, "nope", &nf));
	assert_int_equal(nf, 1);
	/* And the store is left usable, outside any transaction. */
	assert_true(sqlite3_get_autocommit(sqlite_store_db(f->s)) != 0);
	assert_null(status_alert(f->s, "nope", NULL));
}

/* Inside the engine's open write transaction: read it, leave it open. */
static void test_inside_open_transaction(void **state)
{
	struct fixture *f = *state;
	json_t *j;

	assert_int_equal(sqlite_store_begin(f->s), 0);
	add_example(f);
	j = status_alert(f->s, "A-1", NULL);
	assert_non_null(j);
	assert_int_equal(count(j, "deliveries"), 5);
	json_decref(j);
	assert_true(sqlite3_get_autocommit(sqlite_store_db(f->s)) == 0);
	assert_int_equal(sqlite_store_commit(f->s), 0);
}

static void test_alert_list(void **state)
{
	struct fixture *f = *state;
	json_t *list, *a;

	add_example(f);
	add_alert(f, "A-0", T0 - 60000, "completed", 0);
	add_alert(f, "A-2", T0 + 60000, "active", 1);
	sql(f,
	    "UPDATE alerts SET finished_at = 1795309300000 WHERE id = 'A-0'");
	list = status_alert_list(f->s, 10);
	assert_non_null(list);
	assert_int_equal(json_array_size(list), 3);
	/* Newest first. */
	assert_string_equal(str(json_array_get(list, 0), "id"), "A-2");
	assert_true(json_is_true(
		json_object_get(json_array_get(list, 0), "drill")));
	assert_int_equal(count(json_array_get(list, 0), "deliveries"), 0);
	assert_int_equal(count(json_array_get(list, 0), "organisations"), 0);
	a = json_array_get(list, 1);
	assert_string_equal(str(a, "id"), "A-1");
	assert_int_equal(count(a, "organisations"), 3);
	assert_int_equal(count(a, "deliveries"), 5);
	assert_int_equal(count(a, "sent"), 1);
	assert_int_equal(count(a, "failed"), 1);
	assert_int_equal(count(a, "pending"), 1);
	assert_int_equal(count(a, "skipped"), 1);
	assert_int_equal(count(a, "cancelled"), 1);
	assert_string_equal(str(a, "created_at"),
			    "2026-11-22T10:00:00.000+09:00");
	assert_string_equal(str(json_array_get(list, 2), "finished_at"),
			    "2026-11-22T10:01:40.000+09:00");
	json_decref(list);

	list = status_alert_list(f->s, 1);
	assert_int_equal(json_array_size(list), 1);
	assert_string_equal(str(json_array_get(list, 0), "id"), "A-2");
	json_decref(list);
}

static double seconds_since(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

/*
 * 5,000 organisations, 20,000 deliveries: the size of an "all sectors"
 * alert. One statement over the rows, so it stays well under a second
 * (the bound below is loose enough for valgrind).
 */
static void test_large_alert(void **state)
{
	static const char *const states[] = {"sent", "queued", "failed",
					     "retry_wait"};
	struct fixture *f = *state;
	sqlite3 *db = sqlite_store_db(f->s);
	sqlite3_stmt *o, *d;
	struct timespec t0;
	char id[32], did[32];
	json_t *j, *orgs;
	double took;

	add_alert(f, "BIG", T0, "active", 0);
	sql(f, "BEGIN");
	assert_int_equal(
		sqlite3_prepare_v2(db,
				   "INSERT INTO alert_orgs (alert_id, org_id,"
				   " org_name, position, state) VALUES"
				   " ('BIG', ?1, ?1, ?2, 'notified')",
				   -1, &o, NULL),
		SQLITE_OK);
	assert_int_equal(
		sqlite3_prepare_v2(
			db,
			"INSERT INTO deliveries (id, alert_id, org_id,"
			" contact_id, contact_name, language, channel,"
			" address, charset, rank, state) VALUES"
			" (?1, 'BIG', ?2, 'c', 'Contact', 'ja', 'mail',"
			" 'poc@example.jp', 'utf-8', ?3, ?4)",
			-1, &d, NULL),
		SQLITE_OK);
	/* Inserted in reverse so that position, not rowid, must order. */
	for (int i = 4999; i >= 0; i--) {
		snprintf(id, sizeof(id), "org-%05d", i);
		sqlite3_bind_text(o, 1, id, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int(o, 2, i);
		assert_int_equal(sqlite3_step(o), SQLITE_DONE);
		sqlite3_reset(o);
		for (int k = 0; k < 4; k++) {
			snprintf(did, sizeof(did), "d-%05d-%d", i, k);
			sqlite3_bind_text(d, 1, did, -1, SQLITE_TRANSIENT);
			sqlite3_bind_text(d, 2, id, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int(d, 3, i * 4 + k);
			sqlite3_bind_text(d, 4, states[k], -1, SQLITE_STATIC);
			assert_int_equal(sqlite3_step(d), SQLITE_DONE);
			sqlite3_reset(d);
		}
	}
	sqlite3_finalize(o);
	sqlite3_finalize(d);
	sql(f, "COMMIT");

	clock_gettime(CLOCK_MONOTONIC, &t0);
	j = status_alert(f->s, "BIG", NULL);
	took = seconds_since(&t0);
	assert_non_null(j);
	print_message("status of 5,000 orgs / 20,000 deliveries: %.3f s\n",
		      took);
	assert_true(took < 30.0);
	assert_int_equal(count(j, "organisations"), 5000);
	assert_int_equal(count(j, "deliveries"), 20000);
	assert_int_equal(count(j, "sent"), 5000);
	assert_int_equal(count(j, "pending"), 10000);
	assert_int_equal(count(j, "failed"), 5000);
	orgs = json_object_get(j, "organisations");
	assert_int_equal(json_array_size(orgs), 5000);
	assert_string_equal(str(json_array_get(orgs, 0), "id"), "org-00000");
	assert_string_equal(str(json_array_get(orgs, 4999), "id"), "org-04999");
	assert_int_equal(json_array_size(json_object_get(
				 json_array_get(orgs, 1234), "deliveries")),
			 4);
	json_decref(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alert_status, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_not_found, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_inside_open_transaction,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_alert_list, setup,
						teardown),
		cmocka_unit_test_setup_teardown(test_large_alert, setup,
						teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
