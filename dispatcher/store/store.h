/*
 * The store: one SQLite file holding the directory, alerts, deliveries,
 * attempts and the timeline. WAL mode, foreign keys on, schema versioned
 * with PRAGMA user_version and upgraded by forward migrations when opened.
 *
 * store.c holds opening, migrations and transactions; the tables of each
 * subject have their own file (store_directory.c, ...).
 */
#ifndef POCALERT_STORE_H
#define POCALERT_STORE_H

#include <stdbool.h>

#include <sqlite3.h>

#include "common/diag.h"
#include "contacts/directory.h"

struct store;

/*
 * Opens (creating if needed) the database at path, creating its parent
 * directory when missing, and migrates it to the current schema. On
 * success *ret owns the store (store_close() frees it). Errors are
 * -errno style; a message naming the file goes to stderr through log_warnx.
 */
int store_open(const char *path, struct store **ret);

/* Closes the database. NULL is a no-op. */
void store_close(struct store *s);

/* The connection, for the store_*.c files of the dispatcher. */
sqlite3 *store_db(struct store *s);

/* The schema version the code expects (the number of migrations). */
int store_schema_version(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. Return 0 or -EIO. */
int store_begin(struct store *s);
int store_commit(struct store *s);
void store_rollback(struct store *s);

/*
 * Prepares sql (cached per store: statements live until store_close, and
 * are reset before being handed out). Returns NULL on error after logging
 * the SQLite message.
 */
sqlite3_stmt *store_stmt(struct store *s, const char *sql);

/* Runs sql with no result rows. Returns 0 or -EIO (logged). */
int store_exec(struct store *s, const char *sql);

struct store_import_stats {
	int orgs_added;
	int orgs_updated;
	int orgs_removed;
	int contacts;
	int methods;
};

/*
 * Writes the organisations of d into the store in one transaction. Without
 * replace, organisations in d are added or replaced whole (their contacts
 * and methods become exactly d's) and the others stay; with replace the
 * directory becomes exactly d. d must have been validated. On any error
 * nothing changes. Returns 0 or a negative errno.
 */
int store_directory_import(struct store *s, const struct directory *d,
			   bool replace, struct store_import_stats *ret_stats);

/*
 * Loads the directory (or only the organisations of a sector when sector
 * is not NULL) into *ret, which the caller frees with directory_free().
 * Organisations come in id order, contacts and methods in their order.
 */
int store_directory_load(struct store *s, const char *sector,
			 struct directory *ret);

#endif
