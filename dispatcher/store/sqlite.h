/*
 * The SQLite backend's insides, shared by its files and nothing else:
 * sqlite.c opens the file, migrates it and keeps the statement cache;
 * sqlite_apply.c writes the typed operations and the dead letters;
 * sqlite_alerts.c, sqlite_timeline.c and sqlite_status.c hold the named
 * reads; sqlite_directory.c the directory's tables.
 *
 * Tests may include this header to look at the file directly (the
 * fixtures write rows as an older pocalert would have); the program
 * never does outside dispatcher/store/.
 */
#ifndef POCALERT_STORE_SQLITE_H
#define POCALERT_STORE_SQLITE_H

#include <stdint.h>

#include <sqlite3.h>

#include "dispatcher/store/store_backend.h"

/* The connection of a store opened by the SQLite backend. */
sqlite3 *sqlite_store_db(struct store *s);

/* How long a statement waits for another connection's lock (tests). */
void sqlite_store_busy_timeout(struct store *s, int ms);

/* The schema version the code expects (the number of migrations). */
int sqlite_store_schema_version(void);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK (a no-op outside one). 0 or -EIO. */
int sqlite_store_begin(struct store *s);
int sqlite_store_commit(struct store *s);
void sqlite_store_rollback(struct store *s);

/* Runs sql with no result rows. Returns 0 or -EIO (logged). */
int sqlite_store_exec(struct store *s, const char *sql);

/*
 * Prepares sql (cached per store: statements live until close, and are
 * reset and unbound before being handed out). sql must be a string
 * literal: the cache keys on its address. NULL on error (logged).
 */
sqlite3_stmt *sqlite_store_stmt(struct store *s, const char *sql);

/* Logs the connection's last error with what was being done. */
void sqlite_store_log_error(struct store *s, const char *what);

/* Binds s, or NULL when s is NULL. */
void sqlite_bind_text(sqlite3_stmt *st, int i, const char *s);

/* Binds v, or NULL when v is STORE_NONE (or any negative value). */
void sqlite_bind_opt(sqlite3_stmt *st, int i, int64_t v);

/* Column i as text, or NULL. */
const char *sqlite_col_text(sqlite3_stmt *st, int i);

/* Column i as a number, or STORE_NONE for NULL. */
int64_t sqlite_col_opt(sqlite3_stmt *st, int i);

/*
 * Ends a walk over st's rows: resets st and returns r when a callback
 * stopped the walk (r != 0), else 0 when the last step gave rc
 * SQLITE_DONE, else -EIO (logged with what).
 */
int sqlite_end(struct store *s, sqlite3_stmt *st, int rc, int r,
	       const char *what);

/* The backend's operations, defined in the files named above. */
int sqlite_apply(struct store *s, const struct store_op *ops, size_t n,
		 enum store_apply_mode mode);
int sqlite_dead_letters(struct store *s,
			int (*fn)(void *, const struct store_dead_letter_row *),
			void *arg);
int sqlite_data_version(struct store *s, int64_t *ret);
int sqlite_alert_state(struct store *s, const char *id, char *buf, size_t len);
int sqlite_recovery_alerts(struct store *s,
			   int (*fn)(void *, const struct store_alert_row *),
			   void *arg);
int sqlite_alert_org_count(struct store *s, const char *alert_id, size_t *ret);
int sqlite_alert_orgs(struct store *s, const char *alert_id,
		      int (*fn)(void *, const struct store_org_row *),
		      void *arg);
int sqlite_alert_reached(struct store *s, const char *alert_id,
			 int (*fn)(void *, const struct store_reach_row *),
			 void *arg);
int sqlite_alert_confirmations(struct store *s, const char *alert_id,
			       int (*fn)(void *,
					 const struct store_contact_row *),
			       void *arg);
int sqlite_alert_delivery_count(struct store *s, const char *alert_id,
				size_t *ret);
int sqlite_alert_unfinished(struct store *s, const char *alert_id,
			    int (*fn)(void *,
				      const struct store_delivery_row *),
			    void *arg);
int sqlite_alert_sent_methods(struct store *s, const char *alert_id,
			      int (*fn)(void *,
					const struct store_method_row *),
			      void *arg);
int sqlite_ack_lookup(struct store *s, const char *token_hash,
		      int (*fn)(void *, const struct store_ack_row *),
		      void *arg);
int sqlite_timeline_head(struct store *s, const char *alert_id,
			 int64_t *ret_seq, char ret_hash[65]);
int sqlite_timeline_rows(struct store *s, const char *alert_id,
			 int (*fn)(void *, const struct store_event_row *),
			 void *arg);
int sqlite_timeline_anchor(struct store *s, const char *alert_id,
			   int64_t *ret_seq, char ret_hash[65]);
int sqlite_meta_get(struct store *s, const char *key, char *buf, size_t len);
int sqlite_meta_set(struct store *s, const char *key, const char *value);
int sqlite_alert_count(struct store *s, int64_t *ret);
int sqlite_status_alert(struct store *s, const char *id,
			int (*head)(void *, const struct store_status_alert *),
			int (*row)(void *, const struct store_status_row *),
			void *arg);
int sqlite_status_list(struct store *s, int limit,
		       int (*fn)(void *, const struct store_status_alert *,
				 const struct store_status_counts *),
		       void *arg);
int sqlite_directory_import(struct store *s, const struct directory *d,
			    bool replace, struct store_import_stats *ret);
int sqlite_calendar_replace(struct store *s, const struct calendar *cal);
int sqlite_calendar_load(struct store *s, struct calendar *ret);
int sqlite_directory_load(struct store *s, const char *sector,
			  struct directory *ret);

/* sqlite_backup.c: the backend's backup and restore operations. */
int sqlite_backup(struct store *s, const char *dest);
int sqlite_restore(struct store *s, const char *src);

#endif
