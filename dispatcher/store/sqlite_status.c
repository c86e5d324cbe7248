/*
 * The SQLite backend's status reads: an alert with every organisation
 * and delivery, and the list of recent alerts with their counts. An
 * alert may reach 5,000 organisations through 20,000 deliveries and the
 * console polls it every second, so an alert's status is two statements
 * whatever its size, read in one transaction so that rows agree: the
 * alert row, then one walk over its organisations in position order
 * with their deliveries joined in. The list is one statement.
 */
#include <errno.h>
#include <stdbool.h>

#include "common/log.h"
#include "dispatcher/store/sqlite.h"

/*
 * The columns both the alert and the list show, first in both queries:
 * id, title, type, severity, tlp, drill, state, created_at, created_by,
 * finished_at, mode, policy.
 */
#define STATUS_ALERT_COLUMNS                                                   \
	"a.id, a.title, a.type, a.severity, a.tlp, a.drill, a.state, "         \
	"a.created_at, a.created_by, a.finished_at, a.mode, a.policy"
#define STATUS_N_ALERT_COLUMNS 12

static struct store_status_alert status_alert_row(sqlite3_stmt *st)
{
	return (struct store_status_alert){
		.id = sqlite_col_text(st, 0),
		.title = sqlite_col_text(st, 1),
		.type = sqlite_col_text(st, 2),
		.severity = sqlite_col_text(st, 3),
		.tlp = sqlite_col_text(st, 4),
		.drill = sqlite3_column_int(st, 5) != 0,
		.state = sqlite_col_text(st, 6),
		.created_at = sqlite3_column_int64(st, 7),
		.created_by = sqlite_col_text(st, 8),
		.finished_at = sqlite_col_opt(st, 9),
		.mode = sqlite_col_text(st, 10),
		.policy = sqlite_col_text(st, 11),
	};
}

/* Organisation columns first, then the delivery's (NULL when none). */
static const char status_rows_sql[] =
	"SELECT o.org_id, o.org_name, o.state, o.step, o.acknowledged_at,"
	" o.acknowledged_by, o.response, o.comment, o.via,"
	" d.id, d.contact_name, d.contact_id, d.channel, d.address, d.state,"
	" d.reason, d.attempts, d.last_error, d.sent_at, d.step"
	" FROM alert_orgs o"
	" LEFT JOIN deliveries d ON d.alert_id = o.alert_id"
	"  AND d.org_id = o.org_id"
	" WHERE o.alert_id = ?1"
	" ORDER BY o.position, o.org_id, d.step, d.rank, d.id";

static int status_rows(struct store *s, const char *id,
		       int (*fn)(void *, const struct store_status_row *),
		       void *arg)
{
	sqlite3_stmt *st = sqlite_store_stmt(s, status_rows_sql);
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_status_row row = {
			.org_id = sqlite_col_text(st, 0),
			.org_name = sqlite_col_text(st, 1),
			.org_state = sqlite_col_text(st, 2),
			.org_step = sqlite3_column_int(st, 3),
			.acknowledged_at = sqlite_col_opt(st, 4),
			.acknowledged_by = sqlite_col_text(st, 5),
			.response = sqlite_col_text(st, 6),
			.comment = sqlite_col_text(st, 7),
			.via = sqlite_col_text(st, 8),
			.id = sqlite_col_text(st, 9),
			.contact_name = sqlite_col_text(st, 10),
			.contact_id = sqlite_col_text(st, 11),
			.channel = sqlite_col_text(st, 12),
			.address = sqlite_col_text(st, 13),
			.state = sqlite_col_text(st, 14),
			.reason = sqlite_col_text(st, 15),
			.attempts = sqlite3_column_int(st, 16),
			.last_error = sqlite_col_text(st, 17),
			.sent_at = sqlite_col_opt(st, 18),
			.step = sqlite3_column_int(st, 19),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "status of an alert");
}

int sqlite_status_alert(struct store *s, const char *id,
			int (*head)(void *, const struct store_status_alert *),
			int (*row)(void *, const struct store_status_row *),
			void *arg)
{
	sqlite3_stmt *st;
	bool own_txn;
	int rc, r;

	/*
	 * One read transaction, so that the rows come from one snapshot
	 * even if another process commits meanwhile. When the connection
	 * already has a transaction open we read inside it and must
	 * neither commit nor roll it back.
	 */
	own_txn = sqlite3_get_autocommit(sqlite_store_db(s)) != 0;
	if (own_txn && sqlite_store_exec(s, "BEGIN") < 0)
		return -EIO;
	st = sqlite_store_stmt(s, "SELECT " STATUS_ALERT_COLUMNS ", a.targets"
				  " FROM alerts a WHERE a.id = ?1");
	if (st == NULL) {
		r = -EIO;
		goto out;
	}
	sqlite_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct store_status_alert a = status_alert_row(st);

		a.targets = sqlite_col_text(st, STATUS_N_ALERT_COLUMNS);
		r = head(arg, &a);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
		if (r == -EIO)
			sqlite_store_log_error(s, "status of an alert");
	}
	sqlite3_reset(st);
	if (r == 0)
		r = status_rows(s, id, row, arg);
out:
	/* Only reads happened: COMMIT ends the snapshot and loses nothing. */
	if (own_txn)
		sqlite_store_exec(s, "COMMIT");
	return r;
}

int sqlite_status_list(struct store *s, int limit,
		       int (*fn)(void *, const struct store_status_alert *,
				 const struct store_status_counts *),
		       void *arg)
{
	static const char sql[] =
		"SELECT " STATUS_ALERT_COLUMNS ","
		" (SELECT COUNT(*) FROM alert_orgs o WHERE o.alert_id = a.id),"
		" COUNT(d.id),"
		" SUM(d.state = 'sent'), SUM(d.state = 'failed'),"
		" SUM(d.state IN ('queued', 'sending', 'retry_wait')),"
		" SUM(d.state = 'skipped'), SUM(d.state = 'cancelled')"
		" FROM (SELECT rowid AS rid, * FROM alerts"
		"       ORDER BY created_at DESC, rowid DESC LIMIT ?1) a"
		" LEFT JOIN deliveries d ON d.alert_id = a.id"
		" GROUP BY a.id"
		" ORDER BY a.created_at DESC, a.rid DESC";
	sqlite3_stmt *st = sqlite_store_stmt(s, sql);
	int rc = SQLITE_DONE, r = 0, k = STATUS_N_ALERT_COLUMNS;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_int(st, 1, limit);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_status_alert a = status_alert_row(st);
		struct store_status_counts c = {
			.organisations = sqlite3_column_int64(st, k),
			.deliveries = sqlite3_column_int64(st, k + 1),
			.sent = sqlite3_column_int64(st, k + 2),
			.failed = sqlite3_column_int64(st, k + 3),
			.pending = sqlite3_column_int64(st, k + 4),
			.skipped = sqlite3_column_int64(st, k + 5),
			.cancelled = sqlite3_column_int64(st, k + 6),
		};

		r = fn(arg, &a, &c);
	}
	return sqlite_end(s, st, rc, r, "alert list");
}
