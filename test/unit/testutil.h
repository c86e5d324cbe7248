/*
 * Fixtures the unit tests share, so that no test carries its own copy:
 * a temporary directory and files in it, a database with a directory
 * imported, queries on a database from a connection of the test's own,
 * and an engine built on the fake clock (dispatcher/engine/clock.h) with
 * scripted channels (channels/scripted.h) over a real SQLite file and a
 * real event base, for engine stories that run in milliseconds.
 *
 * testutil.c holds what every test may use; testutil-engine.c the engine
 * fixture, so that tests of the HTTP layer, which link a fake engine,
 * never pull the real one in. Failures end the test through cmocka.
 */
#ifndef POCALERT_TESTUTIL_H
#define POCALERT_TESTUTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

/* 2026-11-24T10:00:00+09:00, a Tuesday: where the fake clock starts. */
#define TESTUTIL_T0 1795482000000LL

/*
 * A new empty directory under $TMPDIR (else /tmp) whose name starts with
 * name. Returns its path (malloc'd, caller frees).
 */
char *testutil_tmpdir(const char *name);

/* Removes dir and everything under it. NULL is a no-op. */
void testutil_rmtree(const char *dir);

/* "dir/name" (malloc'd, caller frees). */
char *testutil_path(const char *dir, const char *name);

/*
 * Writes text to dir/name, making one missing level of directory. Returns
 * the file's path (malloc'd, caller frees).
 */
char *testutil_write_file(const char *dir, const char *name, const char *text);

/*
 * Parses text as a directory file (libconfuse syntax) and imports it into
 * the database at db (created if missing) through its own connection, as
 * `pocalert contacts import` would.
 */
void testutil_import_directory(const char *db, const char *text);

/*
 * The first column of the first row of the query (printf-style with
 * sqlite3's %Q and %q) on the database at db, read through a connection
 * of its own: what is on disk, not what a cache holds. -1 when no row.
 * (No printf format check: the compiler does not know %Q.)
 */
int64_t testutil_db_int(const char *db, const char *fmt, ...);

/* Same, as text (malloc'd, caller frees), or NULL when no row or NULL. */
char *testutil_db_text(const char *db, const char *fmt, ...);

/* Runs sql (several statements may follow each other) on the database at
 * db through a connection of its own; fails the test on an error. */
void testutil_db_exec(const char *db, const char *sql);

/* Runs the loop until nothing is active or due now. */
void testutil_run(struct event_base *base);

/* An engine on the fake clock with scripted channels: testutil-engine.c. */
struct testutil_engine {
	char *dir;		 /* owned; the test's directory */
	char *db;		 /* owned; the database's path */
	struct config *config;	 /* owned */
	struct event_base *base; /* owned */
	struct engine *engine;	 /* owned; NULL between stop and start */
};

/*
 * Starts the fake clock at TESTUTIL_T0, writes config_text (channels,
 * policies; the database and key default to the test's directory) and
 * imports directory_text, then builds the engine. Also resets the
 * scripted driver's records. Returns the fixture (testutil_engine_free).
 */
struct testutil_engine *testutil_engine_new(const char *config_text,
					    const char *directory_text);

/* Frees the engine (no grace: sends held are given back). */
void testutil_engine_stop(struct testutil_engine *t);

/* Builds a new engine on the same config and database. */
void testutil_engine_start(struct testutil_engine *t);

/* Frees everything, removes the directory, back to the wall clock. */
void testutil_engine_free(struct testutil_engine *t);

/*
 * Accepts an alert (type incident, severity high, TLP:AMBER) titled title
 * to the comma-separated targets under policy (NULL: the selection
 * rules). Runs the loop. Returns its id (malloc'd, caller frees).
 */
char *testutil_engine_send(struct testutil_engine *t, const char *policy,
			   const char *targets, const char *title);

/* Moves the fake clock by ms, firing what falls due, and runs the loop. */
void testutil_engine_advance(struct testutil_engine *t, int64_t ms);

/*
 * Tells the first send to address whose outcome is not yet told how it
 * ended (see scripted_complete) and runs the loop. Fails the test when
 * there is no such send. Returns the send's position.
 */
size_t testutil_engine_complete(struct testutil_engine *t, const char *address,
				int status, int code, const char *detail,
				int retry_after);

/* Number of sends taken for address so far (scripted records). */
size_t testutil_sends_to(const char *address);

#endif
