/*
 * The fixtures every unit test may use: see testutil.h. Errors here are
 * the test's setup going wrong, so they fail the running test at once.
 */
#include <errno.h>
#include <ftw.h>
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
#include <sqlite3.h>

#include "common/diag.h"
#include "contacts/directory.h"
#include "dispatcher/store/store.h"
#include "test/unit/testutil.h"

char *testutil_tmpdir(const char *name)
{
	const char *tmp = getenv("TMPDIR");
	char *dir;

	assert_true(asprintf(&dir, "%s/pocalert-%s-XXXXXX",
			     tmp != NULL && tmp[0] ? tmp : "/tmp", name) > 0);
	if (mkdtemp(dir) == NULL)
		fail_msg("mkdtemp %s: %s", dir, strerror(errno));
	return dir;
}

static int remove_one(const char *path, const struct stat *st, int flag,
		      struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

void testutil_rmtree(const char *dir)
{
	/* Depth first, not following links: files before their directory. */
	if (dir != NULL)
		nftw(dir, remove_one, 16, FTW_DEPTH | FTW_PHYS);
}

char *testutil_path(const char *dir, const char *name)
{
	char *p;

	assert_true(asprintf(&p, "%s/%s", dir, name) > 0);
	return p;
}

char *testutil_write_file(const char *dir, const char *name, const char *text)
{
	char *path = testutil_path(dir, name), *slash;
	FILE *f;

	slash = strrchr(path, '/');
	*slash = '\0';
	mkdir(path, 0700);
	*slash = '/';
	f = fopen(path, "w");
	if (f == NULL)
		fail_msg("%s: %s", path, strerror(errno));
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
	return path;
}

void testutil_import_directory(const char *db, const char *text)
{
	char *dir = strdup(db), *slash, *file;
	struct directory d = {0};
	struct diag_list diags = {0};
	struct store_import_stats stats;
	struct store *s;

	assert_non_null(dir);
	slash = strrchr(dir, '/');
	assert_non_null(slash);
	*slash = '\0';
	file = testutil_write_file(dir, "directory.conf", text);
	if (dir_parse_conf(file, &d, &diags) < 0) {
		diag_print(&diags, stderr);
		fail_msg("the test's directory does not parse");
	}
	assert_int_equal(store_open(db, &s), 0);
	assert_int_equal(store_directory_import(s, &d, true, &stats), 0);
	store_close(s);
	directory_free(&d);
	diag_clear(&diags);
	free(file);
	free(dir);
}

/* Prepares the query on a connection of its own (caller closes both). */
static sqlite3_stmt *query(const char *db, sqlite3 **ret_conn, const char *fmt,
			   va_list ap)
{
	char *sql = sqlite3_vmprintf(fmt, ap);
	sqlite3_stmt *st = NULL;
	sqlite3 *conn = NULL;

	assert_non_null(sql);
	if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READWRITE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_prepare_v2(conn, sql, -1, &st, NULL) != SQLITE_OK)
		fail_msg("%s: %s", sql, sqlite3_errmsg(conn));
	sqlite3_free(sql);
	*ret_conn = conn;
	return st;
}

int64_t testutil_db_int(const char *db, const char *fmt, ...)
{
	sqlite3 *conn;
	sqlite3_stmt *st;
	int64_t v = -1;
	va_list ap;

	va_start(ap, fmt);
	st = query(db, &conn, fmt, ap);
	va_end(ap);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(conn);
	return v;
}

char *testutil_db_text(const char *db, const char *fmt, ...)
{
	sqlite3 *conn;
	sqlite3_stmt *st;
	char *v = NULL;
	va_list ap;

	va_start(ap, fmt);
	st = query(db, &conn, fmt, ap);
	va_end(ap);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		v = strdup((const char *)sqlite3_column_text(st, 0));
		assert_non_null(v);
	}
	sqlite3_finalize(st);
	sqlite3_close(conn);
	return v;
}

void testutil_db_exec(const char *db, const char *sql)
{
	sqlite3 *conn = NULL;
	char *err = NULL;

	if (sqlite3_open_v2(db, &conn, SQLITE_OPEN_READWRITE, NULL) !=
		    SQLITE_OK ||
	    sqlite3_exec(conn, sql, NULL, NULL, &err) != SQLITE_OK)
		fail_msg("%s: %s", sql, err ? err : sqlite3_errmsg(conn));
	sqlite3_close(conn);
}

void testutil_run(struct event_base *base)
{
	/*
	 * EVLOOP_NONBLOCK goes on while a pass found something to run, so
	 * work started by a callback (a pump, a group commit, a completion)
	 * runs within this call; engine timers on the fake clock wait for
	 * timer_fake_advance().
	 */
	assert_true(event_base_loop(base, EVLOOP_NONBLOCK) >= 0);
}
