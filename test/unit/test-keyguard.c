/*
 * Unit tests for dispatcher/store/keyguard.c: the rule that refuses a
 * missing or replaced reply-link key once alerts exist, and the check
 * and record against a real store and key file.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatcher/store/keyguard.h"
#include "test/unit/testutil.h"

static void test_decide(void **state)
{
	(void)state;
	/* First start: no key, no alerts. */
	assert_int_equal(keyguard_decide(NULL, NULL, 0, false), KEYGUARD_NEW);
	/* Links are out and the key is gone: refuse, unless on purpose. */
	assert_int_equal(keyguard_decide(NULL, "aa", 3, false),
			 KEYGUARD_MISSING);
	assert_int_equal(keyguard_decide(NULL, NULL, 3, false),
			 KEYGUARD_MISSING);
	assert_int_equal(keyguard_decide(NULL, "aa", 3, true), KEYGUARD_NEW);
	/* A key the store has not seen yet (upgrade): record it. */
	assert_int_equal(keyguard_decide("aa", NULL, 3, false),
			 KEYGUARD_RECORD);
	assert_int_equal(keyguard_decide("aa", "aa", 3, false), KEYGUARD_OK);
	assert_int_equal(keyguard_decide("bb", "aa", 3, false),
			 KEYGUARD_REPLACED);
	assert_int_equal(keyguard_decide("bb", "aa", 3, true), KEYGUARD_RECORD);
	assert_int_equal(keyguard_decide("bb", "aa", 0, false),
			 KEYGUARD_RECORD);
}

static void test_fingerprint(void **state)
{
	unsigned char a[32] = {0}, b[32] = {0};
	char fa[65], fb[65];

	(void)state;
	b[31] = 1;
	keyguard_fingerprint(a, sizeof(a), fa);
	keyguard_fingerprint(b, sizeof(b), fb);
	assert_int_equal(strlen(fa), 64);
	assert_string_not_equal(fa, fb);
}

/* Against a store: recorded on first sight, refused when replaced. */
static void test_check_and_record(void **state)
{
	char *dir = testutil_tmpdir("keyguard");
	char *db = testutil_path(dir, "pocalert.db");
	char *key = testutil_path(dir, "pocalert.db.ackkey");
	struct diag_list dl = {0};
	struct store *s = NULL;
	char fp[65];
	FILE *f;

	(void)state;
	assert_int_equal(store_open(db, &s), 0);
	assert_int_equal(keyguard_check(s, key, false, &dl), KEYGUARD_NEW);
	f = fopen(key, "wb");
	assert_non_null(f);
	assert_int_equal(fwrite("0123456789abcdef0123456789abcdef", 1, 32, f),
			 32);
	fclose(f);
	assert_int_equal(keyguard_record(s, key, &dl), 0);
	assert_int_equal(store_meta_get(s, KEYGUARD_META, fp, sizeof(fp)), 0);
	assert_int_equal(keyguard_check(s, key, false, &dl), KEYGUARD_OK);
	testutil_db_exec(db, "INSERT INTO alerts (id, title, body, type,"
			     " severity, tlp, drill, targets, state,"
			     " created_at, created_by) VALUES ('A-1', 't',"
			     " 'b', 'incident', 'high', 'AMBER', 0, '[]',"
			     " 'active', 0, 'ops')");
	f = fopen(key, "wb");
	assert_int_equal(fwrite("ffffffffffffffffffffffffffffffff", 1, 32, f),
			 32);
	fclose(f);
	assert_int_equal(keyguard_check(s, key, false, &dl), -EKEYREJECTED);
	assert_int_equal(dl.n, 1);
	assert_non_null(strstr(dl.lines[0], key));
	remove(key);
	assert_int_equal(keyguard_check(s, key, false, &dl), -ENOKEY);
	assert_non_null(strstr(dl.lines[1], "--new-reply-key"));
	/* Not a key at all. */
	f = fopen(key, "wb");
	fclose(f);
	assert_int_equal(keyguard_check(s, key, false, &dl), -EIO);
	diag_clear(&dl);
	store_close(s);
	testutil_rmtree(dir);
	free(dir);
	free(db);
	free(key);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_decide),
		cmocka_unit_test(test_fingerprint),
		cmocka_unit_test(test_check_and_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
