/*
 * The SQLite backend's reads of the timeline (the events table): the
 * head of an alert's chain, which a restart or a late answer continues
 * from, and the rows in order, which verification and the API walk.
 * Rows are written by sqlite_apply.c (STORE_OP_EVENT) only.
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
