/*
 * The SQLite backend's reads of the timeline (the events table): the
 * head of an alert's chain, which a restart or a late answer continues
 * from, and the rows in order, which verification and the API walk.
 * Rows are written by sqlite_apply.c (STORE_OP_EVENT) only; the head
 * kept in the alert's row (the anchor) by the events_head trigger in the
 * same transaction. Also the small store-wide reads and writes: meta
 * facts and the alert count, which start-up checks ask for.
 */
#include <errno.h>
#include <string.h>

#include "dispatcher/store/sqlite.h"

int sqlite_timeline_head(struct store *s, const char *alert_id,
			 int64_t *ret_seq, char ret_hash[65])
{
	sqlite3_stmt *st = sqlite_store_stmt(s, "SELECT seq, hash FROM events"
						" WHERE alert_id = ?"
						" ORDER BY seq DESC LIMIT 1");
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	rc = sqlite3_step(st);
	*ret_seq = 0;
	if (rc == SQLITE_ROW) {
		const char *h = sqlite_col_text(st, 1);

		*ret_seq = sqlite3_column_int64(st, 0);
		if (h && strlen(h) == 64)
			memcpy(ret_hash, h, 65);
	} else if (rc != SQLITE_DONE) {
		sqlite_store_log_error(s, "timeline head");
	}
	sqlite3_reset(st);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? 0 : -EIO;
}

int sqlite_timeline_rows(struct store *s, const char *alert_id,
			 int (*fn)(void *, const struct store_event_row *),
			 void *arg)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "SELECT seq, at, actor, kind, org_id, delivery_id, detail,"
		   " prev_hash, hash FROM events WHERE alert_id = ?"
		   " ORDER BY seq");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_event_row row = {
			.seq = sqlite3_column_int64(st, 0),
			.at = sqlite3_column_int64(st, 1),
			.actor = sqlite_col_text(st, 2),
			.kind = sqlite_col_text(st, 3),
			.org_id = sqlite_col_text(st, 4),
			.delivery_id = sqlite_col_text(st, 5),
			.detail = sqlite_col_text(st, 6),
			.prev_hash = sqlite_col_text(st, 7),
			.hash = sqlite_col_text(st, 8),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "timeline");
}

int sqlite_timeline_anchor(struct store *s, const char *alert_id,
			   int64_t *ret_seq, char ret_hash[65])
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "SELECT head_seq, head_hash FROM alerts WHERE id = ?");
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *h = sqlite_col_text(st, 1);

		*ret_seq = sqlite3_column_int64(st, 0);
		ret_hash[0] = '\0';
		if (h && strlen(h) == 64)
			memcpy(ret_hash, h, 65);
	} else if (rc != SQLITE_DONE) {
		sqlite_store_log_error(s, "timeline anchor");
	}
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return 0;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int sqlite_meta_get(struct store *s, const char *key, char *buf, size_t len)
{
	sqlite3_stmt *st =
		sqlite_store_stmt(s, "SELECT value FROM meta WHERE key = ?");
	int rc, r;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, key);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const char *v = sqlite_col_text(st, 0);
		size_t n = v ? strlen(v) : 0;

		r = n < len ? 0 : -ENOBUFS;
		if (r == 0)
			memcpy(buf, v ? v : "", n + 1);
	} else if (rc == SQLITE_DONE) {
		r = -ENOENT;
	} else {
		sqlite_store_log_error(s, "meta");
		r = -EIO;
	}
	sqlite3_reset(st);
	return r;
}

int sqlite_meta_set(struct store *s, const char *key, const char *value)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT INTO meta (key, value) VALUES (?, ?)"
		   " ON CONFLICT (key) DO UPDATE SET value = excluded.value");

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, key);
	sqlite_bind_text(st, 2, value);
	return sqlite_end(s, st, sqlite3_step(st), 0, "meta");
}

int sqlite_alert_count(struct store *s, int64_t *ret)
{
	sqlite3_stmt *st = sqlite_store_stmt(s, "SELECT count(*) FROM alerts");
	int rc;

	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else
		sqlite_store_log_error(s, "alert count");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}
