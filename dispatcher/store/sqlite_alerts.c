/*
 * The SQLite backend's reads of alerts: what a start reloads (alerts,
 * their organisations, who was reached and who confirmed, deliveries
 * still to send), an alert's state, the methods a cancellation notice
 * goes to, the reply-link lookup, and the data version a directory cache
 * checks. Each walks one statement and hands plain rows to the caller.
 */
#include <errno.h>
#include <string.h>

#include "dispatcher/store/sqlite.h"

int sqlite_data_version(struct store *s, int64_t *ret)
{
	sqlite3_stmt *st = sqlite_store_stmt(s, "PRAGMA data_version");
	int rc;

	if (st == NULL)
		return -EIO;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int sqlite_alert_state(struct store *s, const char *id, char *buf, size_t len)
{
	sqlite3_stmt *st =
		sqlite_store_stmt(s, "SELECT state FROM alerts WHERE id = ?");
	const char *state;
	int rc, r;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		state = sqlite_col_text(st, 0);
		r = state != NULL && strlen(state) < len ? 0 : -ENOBUFS;
		if (r == 0)
			memcpy(buf, state, strlen(state) + 1);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
	}
	sqlite3_reset(st);
	return r;
}

int sqlite_recovery_alerts(struct store *s,
			   int (*fn)(void *, const struct store_alert_row *),
			   void *arg)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s,
		"SELECT id, title, body, type, severity, tlp, drill, created_at,"
		" policy_json, state FROM alerts WHERE state = 'active' OR id IN"
		" (SELECT DISTINCT alert_id FROM deliveries"
		"  WHERE state IN ('queued', 'sending', 'retry_wait'))"
		" ORDER BY created_at DESC");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_alert_row row = {
			.id = sqlite_col_text(st, 0),
			.title = sqlite_col_text(st, 1),
			.body = sqlite_col_text(st, 2),
			.type = sqlite_col_text(st, 3),
			.severity = sqlite_col_text(st, 4),
			.tlp = sqlite_col_text(st, 5),
			.drill = sqlite3_column_int(st, 6) != 0,
			.created_at = sqlite3_column_int64(st, 7),
			.policy_json = sqlite_col_text(st, 8),
			.state = sqlite_col_text(st, 9),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "alerts to reload");
}

/* The single number st gives for alert_id. */
static int count_for(struct store *s, sqlite3_stmt *st, const char *alert_id,
		     size_t *ret)
{
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*ret = (size_t)sqlite3_column_int64(st, 0);
	else
		sqlite_store_log_error(s, "count");
	sqlite3_reset(st);
	return rc == SQLITE_ROW ? 0 : -EIO;
}

int sqlite_alert_org_count(struct store *s, const char *alert_id, size_t *ret)
{
	return count_for(s,
			 sqlite_store_stmt(s, "SELECT count(*) FROM alert_orgs"
					      " WHERE alert_id = ?"),
			 alert_id, ret);
}

int sqlite_alert_delivery_count(struct store *s, const char *alert_id,
				size_t *ret)
{
	return count_for(s,
			 sqlite_store_stmt(s, "SELECT count(*) FROM deliveries"
					      " WHERE alert_id = ?"),
			 alert_id, ret);
}

int sqlite_alert_orgs(struct store *s, const char *alert_id,
		      int (*fn)(void *, const struct store_org_row *),
		      void *arg)
{
	sqlite3_stmt *st =
		sqlite_store_stmt(s, "SELECT org_id, org_name, state, step"
				     " FROM alert_orgs WHERE alert_id = ?"
				     " ORDER BY position");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_org_row row = {
			.org_id = sqlite_col_text(st, 0),
			.org_name = sqlite_col_text(st, 1),
			.state = sqlite_col_text(st, 2),
			.step = sqlite3_column_int(st, 3),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "organisations of an alert");
}

int sqlite_alert_reached(struct store *s, const char *alert_id,
			 int (*fn)(void *, const struct store_reach_row *),
			 void *arg)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "SELECT org_id, contact_id, step,"
		   " count(*) FILTER (WHERE state = 'sent')"
		   " FROM deliveries WHERE alert_id = ? AND kind = 'alert'"
		   " AND state != 'skipped' GROUP BY org_id, contact_id, step"
		   " ORDER BY org_id, contact_id, step");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_reach_row row = {
			.org_id = sqlite_col_text(st, 0),
			.contact_id = sqlite_col_text(st, 1),
			.step = sqlite3_column_int(st, 2),
			.sent = sqlite3_column_int(st, 3),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "contacts reached");
}

int sqlite_alert_confirmations(struct store *s, const char *alert_id,
			       int (*fn)(void *,
					 const struct store_contact_row *),
			       void *arg)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "SELECT org_id, contact_id FROM ack_tokens"
		   " WHERE alert_id = ? AND confirmed_at IS NOT NULL");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_contact_row row = {
			.org_id = sqlite_col_text(st, 0),
			.contact_id = sqlite_col_text(st, 1),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "confirmations");
}

int sqlite_alert_unfinished(struct store *s, const char *alert_id,
			    int (*fn)(void *,
				      const struct store_delivery_row *),
			    void *arg)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s,
		"SELECT id, org_id, contact_id, contact_name, language, channel,"
		" address, charset, rank, state, attempts, next_at, kind, step"
		" FROM deliveries WHERE alert_id = ?"
		" AND state IN ('queued', 'sending', 'retry_wait')"
		" ORDER BY rank");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_delivery_row row = {
			.id = sqlite_col_text(st, 0),
			.org_id = sqlite_col_text(st, 1),
			.contact_id = sqlite_col_text(st, 2),
			.contact_name = sqlite_col_text(st, 3),
			.language = sqlite_col_text(st, 4),
			.channel = sqlite_col_text(st, 5),
			.address = sqlite_col_text(st, 6),
			.charset = sqlite_col_text(st, 7),
			.rank = sqlite3_column_int(st, 8),
			.state = sqlite_col_text(st, 9),
			.attempts = sqlite3_column_int(st, 10),
			.next_at = sqlite_col_opt(st, 11),
			.kind = sqlite_col_text(st, 12),
			.step = sqlite3_column_int(st, 13),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "unfinished deliveries");
}

int sqlite_alert_sent_methods(struct store *s, const char *alert_id,
			      int (*fn)(void *,
					const struct store_method_row *),
			      void *arg)
{
	sqlite3_stmt *st =
		/* SQLite takes id from the row with the least rank. */
		sqlite_store_stmt(s, "SELECT org_id, contact_id,"
				     " channel, address, id, MIN(rank)"
				     " FROM deliveries"
				     " WHERE alert_id = ? AND state = 'sent'"
				     " AND kind = 'alert'"
				     " GROUP BY org_id, contact_id, channel,"
				     " address");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, alert_id);
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_method_row row = {
			.org_id = sqlite_col_text(st, 0),
			.contact_id = sqlite_col_text(st, 1),
			.channel = sqlite_col_text(st, 2),
			.address = sqlite_col_text(st, 3),
			.first_id = sqlite_col_text(st, 4),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "methods sent to");
}

int sqlite_ack_lookup(struct store *s, const char *token_hash,
		      int (*fn)(void *, const struct store_ack_row *),
		      void *arg)
{
	/* The token's row, joined with its alert and organisation. */
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "SELECT t.alert_id, a.title, a.body, a.type, a.severity,"
		   " a.tlp, a.drill, a.state, t.org_id, o.org_name,"
		   " t.contact_id, t.contact_name, t.language, a.created_at,"
		   " t.confirmed_at, t.response, t.name, t.comment, t.position"
		   " FROM ack_tokens t JOIN alerts a ON a.id = t.alert_id"
		   " JOIN alert_orgs o ON o.alert_id = t.alert_id"
		   "  AND o.org_id = t.org_id"
		   " WHERE t.token_hash = ?");
	int rc, r;

	if (st == NULL)
		return -EIO;
	sqlite_bind_text(st, 1, token_hash);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		struct store_ack_row row = {
			.alert_id = sqlite_col_text(st, 0),
			.title = sqlite_col_text(st, 1),
			.body = sqlite_col_text(st, 2),
			.type = sqlite_col_text(st, 3),
			.severity = sqlite_col_text(st, 4),
			.tlp = sqlite_col_text(st, 5),
			.drill = sqlite3_column_int(st, 6) != 0,
			.alert_state = sqlite_col_text(st, 7),
			.org_id = sqlite_col_text(st, 8),
			.org_name = sqlite_col_text(st, 9),
			.contact_id = sqlite_col_text(st, 10),
			.contact_name = sqlite_col_text(st, 11),
			.language = sqlite_col_text(st, 12),
			.created_at = sqlite3_column_int64(st, 13),
			.confirmed_at = sqlite_col_opt(st, 14),
			.response = sqlite_col_text(st, 15),
			.name = sqlite_col_text(st, 16),
			.comment = sqlite_col_text(st, 17),
			.position = sqlite3_column_int(st, 18),
		};

		r = fn(arg, &row);
	} else {
		r = rc == SQLITE_DONE ? -ENOENT : -EIO;
		if (r == -EIO)
			sqlite_store_log_error(s, "reply link");
	}
	sqlite3_reset(st);
	return r;
}
