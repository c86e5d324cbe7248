/*
 * The SQLite backend's writes: each typed operation (store.h) as one
 * statement, a list of them applied in one transaction, and the
 * dead-letter table (migration 4) for the ones the database refuses.
 *
 * A refused statement (a constraint, a type) is undone by SQLite alone
 * and leaves the transaction open, so one bad operation costs only
 * itself: it is logged and kept as JSON in dead_letters, and the others
 * commit. A failure of the database itself (I/O, a full disk, a lock,
 * memory) rolls everything back so that the caller can try again.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "common/timefmt.h"
#include "dispatcher/store/sqlite.h"

/* true when rc refuses one statement for its content, not the database. */
static bool sqlite_refused(int rc)
{
	switch (rc & 0xff) {
	case SQLITE_CONSTRAINT:
	case SQLITE_MISMATCH:
	case SQLITE_TOOBIG:
	case SQLITE_RANGE:
		return true;
	default:
		return false;
	}
}

static sqlite3_stmt *stmt_alert_new(struct store *s,
				    const struct store_op_alert_new *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT INTO alerts (id, title, body, type, severity,"
		   " tlp, drill, targets, policy, policy_json, mode,"
		   " state, created_at, created_by)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active',"
		   " ?, ?)");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->id);
	sqlite_bind_text(st, 2, o->title);
	sqlite_bind_text(st, 3, o->body);
	sqlite_bind_text(st, 4, o->type);
	sqlite_bind_text(st, 5, o->severity);
	sqlite_bind_text(st, 6, o->tlp);
	sqlite3_bind_int(st, 7, o->drill);
	sqlite_bind_text(st, 8, o->targets);
	sqlite_bind_text(st, 9, o->policy);
	sqlite_bind_text(st, 10, o->policy_json);
	sqlite_bind_text(st, 11, o->mode);
	sqlite3_bind_int64(st, 12, o->created_at);
	sqlite_bind_text(st, 13, o->created_by);
	return st;
}

static sqlite3_stmt *stmt_org_new(struct store *s,
				  const struct store_op_org_new *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT INTO alert_orgs (alert_id, org_id,"
		   " org_name, position, state, step, next_at)"
		   " VALUES (?, ?, ?, ?, 'pending', -1, ?)");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->alert_id);
	sqlite_bind_text(st, 2, o->org_id);
	sqlite_bind_text(st, 3, o->org_name);
	sqlite3_bind_int(st, 4, o->position);
	sqlite_bind_opt(st, 5, o->next_at);
	return st;
}

static sqlite3_stmt *stmt_delivery_new(struct store *s,
				       const struct store_op_delivery_new *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT INTO deliveries (id, alert_id, org_id,"
		   " contact_id, contact_name, language, channel,"
		   " address, charset, step, rank, state, reason, kind)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->id);
	sqlite_bind_text(st, 2, o->alert_id);
	sqlite_bind_text(st, 3, o->org_id);
	sqlite_bind_text(st, 4, o->contact_id);
	sqlite_bind_text(st, 5, o->contact_name);
	sqlite_bind_text(st, 6, o->language);
	sqlite_bind_text(st, 7, o->channel);
	sqlite_bind_text(st, 8, o->address);
	sqlite_bind_text(st, 9, o->charset);
	sqlite3_bind_int(st, 10, o->step);
	sqlite3_bind_int(st, 11, o->rank);
	sqlite_bind_text(st, 12, o->state);
	sqlite_bind_text(st, 13, o->reason);
	sqlite_bind_text(st, 14, o->kind);
	return st;
}

static sqlite3_stmt *stmt_ack_token_new(struct store *s,
					const struct store_op_ack_token_new *o)
{
	/* One link per contact and alert: a later step reuses it. */
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT OR IGNORE INTO ack_tokens"
		   " (token_hash, alert_id, org_id, position, contact_id,"
		   " contact_name, language) VALUES (?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->token_hash);
	sqlite_bind_text(st, 2, o->alert_id);
	sqlite_bind_text(st, 3, o->org_id);
	sqlite3_bind_int(st, 4, o->position);
	sqlite_bind_text(st, 5, o->contact_id);
	sqlite_bind_text(st, 6, o->contact_name);
	sqlite_bind_text(st, 7, o->language);
	return st;
}

static sqlite3_stmt *stmt_event(struct store *s, const struct store_op_event *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT INTO events (alert_id, seq, at, actor, kind,"
		   " org_id, delivery_id, detail, prev_hash, hash)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->alert_id);
	sqlite3_bind_int64(st, 2, o->seq);
	sqlite3_bind_int64(st, 3, o->at);
	sqlite_bind_text(st, 4, o->actor);
	sqlite_bind_text(st, 5, o->kind);
	sqlite_bind_text(st, 6, o->org_id);
	sqlite_bind_text(st, 7, o->delivery_id);
	sqlite_bind_text(st, 8, o->detail);
	sqlite_bind_text(st, 9, o->prev_hash);
	sqlite_bind_text(st, 10, o->hash);
	return st;
}

static sqlite3_stmt *
stmt_delivery_state(struct store *s, const struct store_op_delivery_state *o)
{
	/* next_at is cleared unless waiting: a stale one would mislead. */
	sqlite3_stmt *st =
		sqlite_store_stmt(s, "UPDATE deliveries SET state = ?2,"
				     " attempts = COALESCE(?3, attempts),"
				     " next_at = ?4,"
				     " last_error = COALESCE(?5, last_error),"
				     " sent_at = COALESCE(?6, sent_at),"
				     " gateway_id = COALESCE(?7, gateway_id),"
				     " reason = COALESCE(?8, reason)"
				     " WHERE id = ?1");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->id);
	sqlite_bind_text(st, 2, o->state);
	sqlite_bind_opt(st, 3, o->attempts);
	sqlite_bind_opt(st, 4, o->next_at);
	sqlite_bind_text(st, 5, o->last_error);
	sqlite_bind_opt(st, 6, o->sent_at);
	sqlite_bind_text(st, 7, o->gateway_id);
	sqlite_bind_text(st, 8, o->reason);
	return st;
}

static sqlite3_stmt *stmt_attempt(struct store *s,
				  const struct store_op_attempt *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT OR REPLACE INTO attempts (delivery_id,"
		   " n, started_at, ended_at, outcome, code,"
		   " detail, gateway_id)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->delivery_id);
	sqlite3_bind_int(st, 2, o->n);
	sqlite3_bind_int64(st, 3, o->started_at);
	sqlite3_bind_int64(st, 4, o->ended_at);
	sqlite_bind_text(st, 5, o->outcome);
	sqlite_bind_opt(st, 6, o->code > 0 ? o->code : STORE_NONE);
	sqlite_bind_text(st, 7, o->detail);
	sqlite_bind_text(st, 8, o->gateway_id);
	return st;
}

static sqlite3_stmt *stmt_org_state(struct store *s,
				    const struct store_op_org_state *o)
{
	sqlite3_stmt *st =
		sqlite_store_stmt(s, "UPDATE alert_orgs SET state = ?3,"
				     " step = COALESCE(?4, step), next_at = ?5"
				     " WHERE alert_id = ?1 AND org_id = ?2");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->alert_id);
	sqlite_bind_text(st, 2, o->org_id);
	sqlite_bind_text(st, 3, o->state);
	sqlite_bind_opt(st, 4, o->step);
	sqlite_bind_opt(st, 5, o->next_at);
	return st;
}

static sqlite3_stmt *stmt_alert_state(struct store *s,
				      const struct store_op_alert_state *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "UPDATE alerts SET state = ?2, finished_at = ?3"
		   " WHERE id = ?1");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->alert_id);
	sqlite_bind_text(st, 2, o->state);
	sqlite_bind_opt(st, 3, o->finished_at);
	return st;
}

static sqlite3_stmt *stmt_ack(struct store *s, const struct store_op_ack *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "UPDATE ack_tokens SET"
		   " confirmed_at = COALESCE(confirmed_at, ?2),"
		   " response = ?3, name = ?4, comment = ?5,"
		   " source = ?6, user_agent = ?7, updated_at = ?2"
		   " WHERE token_hash = ?1");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->token_hash);
	sqlite3_bind_int64(st, 2, o->at);
	sqlite_bind_text(st, 3, o->response);
	sqlite_bind_text(st, 4, o->name);
	sqlite_bind_text(st, 5, o->comment);
	sqlite_bind_text(st, 6, o->source);
	sqlite_bind_text(st, 7, o->user_agent);
	return st;
}

static sqlite3_stmt *stmt_org_ack(struct store *s,
				  const struct store_op_org_ack *o)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "UPDATE alert_orgs SET state = 'acknowledged',"
		   " acknowledged_at = COALESCE(acknowledged_at, ?3),"
		   " acknowledged_by = ?4, response = ?5,"
		   " comment = ?6, via = ?7, next_at = NULL"
		   " WHERE alert_id = ?1 AND org_id = ?2");

	if (st == NULL)
		return NULL;
	sqlite_bind_text(st, 1, o->alert_id);
	sqlite_bind_text(st, 2, o->org_id);
	sqlite3_bind_int64(st, 3, o->at);
	sqlite_bind_text(st, 4, o->by);
	sqlite_bind_text(st, 5, o->response);
	sqlite_bind_text(st, 6, o->comment);
	sqlite_bind_text(st, 7, o->via);
	return st;
}

/* The statement of op with its values bound, or NULL (logged). */
static sqlite3_stmt *op_stmt(struct store *s, const struct store_op *op)
{
	switch (op->kind) {
	case STORE_OP_ALERT_NEW:
		return stmt_alert_new(s, &op->alert_new);
	case STORE_OP_ORG_NEW:
		return stmt_org_new(s, &op->org_new);
	case STORE_OP_DELIVERY_NEW:
		return stmt_delivery_new(s, &op->delivery_new);
	case STORE_OP_ACK_TOKEN_NEW:
		return stmt_ack_token_new(s, &op->ack_token_new);
	case STORE_OP_EVENT:
		return stmt_event(s, &op->event);
	case STORE_OP_DELIVERY_STATE:
		return stmt_delivery_state(s, &op->delivery_state);
	case STORE_OP_ATTEMPT:
		return stmt_attempt(s, &op->attempt);
	case STORE_OP_ORG_STATE:
		return stmt_org_state(s, &op->org_state);
	case STORE_OP_ALERT_STATE:
		return stmt_alert_state(s, &op->alert_state);
	case STORE_OP_ACK:
		return stmt_ack(s, &op->ack);
	case STORE_OP_ORG_ACK:
		return stmt_org_ack(s, &op->org_ack);
	case STORE_OP_KIND_COUNT:
		break;
	}
	log_warnx("store: unknown operation %d", (int)op->kind);
	return NULL;
}

/* Keeps a refused op in dead_letters, inside the open transaction. */
static int dead_letter(struct store *s, const struct store_op *op,
		       const char *error)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "INSERT INTO dead_letters (at, kind, error, op)"
		   " VALUES (?, ?, ?, ?)");
	char *json = store_op_json(op);
	int r = 0;

	if (st == NULL || json == NULL) {
		free(json);
		return -EIO;
	}
	sqlite3_bind_int64(st, 1, time_now_ms());
	sqlite_bind_text(st, 2, store_op_kind_name(op->kind));
	sqlite_bind_text(st, 3, error);
	sqlite_bind_text(st, 4, json);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite_store_log_error(s, "dead letter");
		r = -EIO;
	}
	sqlite3_reset(st);
	free(json);
	return r;
}

int sqlite_apply(struct store *s, const struct store_op *ops, size_t n,
		 enum store_apply_mode mode)
{
	sqlite3 *db = sqlite_store_db(s);
	int dead = 0, r = -EIO;

	if (sqlite_store_begin(s) < 0)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st = op_stmt(s, &ops[i]);
		char *error;
		int rc;

		if (st == NULL)
			goto fail;
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			continue;
		if (!sqlite_refused(rc) || sqlite3_get_autocommit(db)) {
			/* The database failed, or dropped the transaction. */
			sqlite_store_log_error(s,
					       store_op_kind_name(ops[i].kind));
			goto fail;
		}
		error = strdup(sqlite3_errmsg(db));
		sqlite3_reset(st);
		if (mode == STORE_APPLY_ALL_OR_NOTHING) {
			log_warnx("store: %s refused: %s",
				  store_op_kind_name(ops[i].kind),
				  error ? error : "out of memory");
			free(error);
			r = -EINVAL;
			goto fail;
		}
		log_warnx("store: %s refused: %s; kept in dead_letters, the "
			  "rest of the batch is written",
			  store_op_kind_name(ops[i].kind),
			  error ? error : "out of memory");
		rc = dead_letter(s, &ops[i], error ? error : "out of memory");
		free(error);
		if (rc < 0)
			goto fail;
		dead++;
	}
	if (sqlite_store_commit(s) < 0)
		goto fail;
	return dead;
fail:
	sqlite_store_rollback(s);
	return r;
}

int sqlite_dead_letters(struct store *s,
			int (*fn)(void *, const struct store_dead_letter_row *),
			void *arg)
{
	sqlite3_stmt *st = sqlite_store_stmt(
		s, "SELECT id, at, kind, error, op FROM dead_letters"
		   " ORDER BY id");
	int rc = SQLITE_DONE, r = 0;

	if (st == NULL)
		return -EIO;
	while (r == 0 && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct store_dead_letter_row row = {
			.id = sqlite3_column_int64(st, 0),
			.at = sqlite3_column_int64(st, 1),
			.kind = sqlite_col_text(st, 2),
			.error = sqlite_col_text(st, 3),
			.op = sqlite_col_text(st, 4),
		};

		r = fn(arg, &row);
	}
	return sqlite_end(s, st, rc, r, "dead letters");
}
