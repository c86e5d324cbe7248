/*
 * The status of alerts as JSON, read straight from the store's tables:
 * see status.h. An alert may reach 5,000 organisations through 20,000
 * deliveries and the console polls it every second, so an alert's status
 * is three statements whatever its size: the alert row, then one walk
 * over its organisations in position order with their deliveries joined
 * in, from which the counts and the JSON are built in the same pass.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>
#include <sqlite3.h>

#include "common/log.h"
#include "dispatcher/view/status.h"
#include "common/timefmt.h"

struct status_counts {
	json_int_t organisations;
	json_int_t deliveries;
	json_int_t sent;
	json_int_t failed;
	json_int_t pending; /* queued, sending or retry_wait */
	json_int_t skipped;
	json_int_t cancelled;
};

/* A text column as a JSON string; NULL (or text jansson refuses) as null. */
static json_t *col_text(sqlite3_stmt *st, int i)
{
	const char *s = (const char *)sqlite3_column_text(st, i);
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_stringn(s, (size_t)sqlite3_column_bytes(st, i));
	return j ? j : json_null();
}

/* A column of Unix milliseconds as RFC 3339 local time, or null. */
static json_t *col_time(sqlite3_stmt *st, int i)
{
	char text[40];

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	time_format_rfc3339(sqlite3_column_int64(st, i), text, sizeof(text));
	return json_string(text);
}

static json_t *col_int(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	return json_integer(sqlite3_column_int64(st, i));
}

static bool col_is(sqlite3_stmt *st, int i, const char *s)
{
	const char *v = (const char *)sqlite3_column_text(st, i);

	return v != NULL && strcmp(v, s) == 0;
}

static json_t *status_counts_json(const struct status_counts *c)
{
	return json_pack("{sI sI sI sI sI sI sI}", "organisations",
			 c->organisations, "deliveries", c->deliveries, "sent",
			 c->sent, "failed", c->failed, "pending", c->pending,
			 "skipped", c->skipped, "cancelled", c->cancelled);
}

/* Counts one delivery by its state. */
static void status_count(struct status_counts *c, const char *state)
{
	c->deliveries++;
	if (state == NULL)
		return;
	if (strcmp(state, "sent") == 0)
		c->sent++;
	else if (strcmp(state, "failed") == 0)
		c->failed++;
	else if (strcmp(state, "queued") == 0 ||
		 strcmp(state, "sending") == 0 ||
		 strcmp(state, "retry_wait") == 0)
		c->pending++;
	else if (strcmp(state, "skipped") == 0)
		c->skipped++;
	else if (strcmp(state, "cancelled") == 0)
		c->cancelled++;
}

/*
 * The columns both the alert and the list show, first in both queries:
 * id, title, type, severity, tlp, drill, state, created_at, created_by,
 * finished_at, mode, policy.
 */
#define STATUS_ALERT_COLUMNS                                                   \
	"a.id, a.title, a.type, a.severity, a.tlp, a.drill, a.state, "         \
	"a.created_at, a.created_by, a.finished_at, a.mode, a.policy"
#define STATUS_N_ALERT_COLUMNS 12

static json_t *status_alert_head(sqlite3_stmt *st)
{
	return json_pack(
		"{so so so so so sb so so so so so so}", "id", col_text(st, 0),
		"title", col_text(st, 1), "type", col_text(st, 2), "severity",
		col_text(st, 3), "tlp", col_text(st, 4), "drill",
		sqlite3_column_int(st, 5) != 0, "state", col_text(st, 6),
		"created_at", col_time(st, 7), "created_by", col_text(st, 8),
		"finished_at", col_time(st, 9), "mode", col_text(st, 10),
		"policy", col_text(st, 11));
}

/* Organisation columns: org_id, org_name, state, step, acknowledged_at,
 * acknowledged_by, response, comment, via; then the delivery's. */
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

static json_t *status_org_json(sqlite3_stmt *st)
{
	json_t *o;

	o = json_pack("{so so so so}", "id", col_text(st, 0), "name",
		      col_text(st, 1), "state", col_text(st, 2), "step",
		      col_int(st, 3));
	if (o == NULL)
		return NULL;
	if (sqlite3_column_type(st, 4) != SQLITE_NULL) {
		json_object_set_new(o, "acknowledged_at", col_time(st, 4));
		json_object_set_new(o, "acknowledged_by", col_text(st, 5));
		json_object_set_new(o, "response", col_text(st, 6));
		json_object_set_new(o, "comment", col_text(st, 7));
		json_object_set_new(o, "via", col_text(st, 8));
	}
	return o;
}

static json_t *status_delivery_json(sqlite3_stmt *st)
{
	/* A reason is only meaningful for what did not go out. */
	bool has_reason =
		col_is(st, 14, "skipped") || col_is(st, 14, "cancelled");

	return json_pack(
		"{so so so so so so so so so so so}", "id", col_text(st, 9),
		"contact", col_text(st, 10), "contact_id", col_text(st, 11),
		"channel", col_text(st, 12), "address", col_text(st, 13),
		"state", col_text(st, 14), "reason",
		has_reason ? col_text(st, 15) : json_null(), "attempts",
		col_int(st, 16), "last_error", col_text(st, 17), "sent_at",
		col_time(st, 18), "step", col_int(st, 19));
}

/*
 * Appends the organisations of alert id to orgs and counts them into c:
 * one statement, one pass. Returns 0, or -1 (logged).
 */
static int status_orgs(struct store *s, const char *id, json_t *orgs,
		       struct status_counts *c)
{
	sqlite3_stmt *st = store_stmt(s, status_rows_sql);
	json_t *org, *dels = NULL;
	char *prev = NULL; /* the organisation being filled */
	int rc;

	if (st == NULL)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *org_id = (const char *)sqlite3_column_text(st, 0);

		if (org_id == NULL)
			org_id = "";
		/* Rows come grouped by organisation: a new id starts one. */
		if (prev == NULL || strcmp(prev, org_id) != 0) {
			free(prev);
			prev = strdup(org_id);
			org = status_org_json(st);
			dels = json_array();
			if (prev == NULL || org == NULL || dels == NULL ||
			    json_object_set_new(org, "deliveries", dels) < 0 ||
			    json_array_append_new(orgs, org) < 0) {
				rc = SQLITE_NOMEM;
				break;
			}
			c->organisations++;
		}
		if (sqlite3_column_type(st, 9) == SQLITE_NULL)
			continue; /* an organisation with no deliveries */
		status_count(c, (const char *)sqlite3_column_text(st, 14));
		if (json_array_append_new(dels, status_delivery_json(st)) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	free(prev);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("status of alert %s: %s", id,
			  rc == SQLITE_NOMEM ? "out of memory"
					     : sqlite3_errstr(rc));
		return -1;
	}
	return 0;
}

/*
 * The status of one alert (shape in status.h), read in one transaction
 * so counts and rows agree. Returns a new reference the caller owns, or
 * NULL: with *ret_notfound set (when not NULL) for no such alert, clear
 * for a store error (logged).
 */
json_t *status_alert(struct store *s, const char *id, int *ret_notfound)
{
	sqlite3_stmt *st;
	struct status_counts c = {0};
	json_t *alert = NULL, *orgs = NULL, *targets;
	const char *text;
	json_error_t jerr;
	bool own_txn;
	int rc;

	if (ret_notfound != NULL)
		*ret_notfound = 0;
	/*
	 * One read transaction, so that the rows and the counts come from
	 * one snapshot even if another process commits meanwhile. The
	 * connection is the engine's: when it has a transaction open we
	 * read inside it and must neither commit nor roll it back.
	 */
	own_txn = sqlite3_get_autocommit(store_db(s)) != 0;
	if (own_txn && store_exec(s, "BEGIN") < 0)
		return NULL;
	st = store_stmt(s, "SELECT " STATUS_ALERT_COLUMNS ", a.targets"
			   " FROM alerts a WHERE a.id = ?1");
	if (st == NULL)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_DONE) {
		if (ret_notfound != NULL)
			*ret_notfound = 1;
		goto fail;
	}
	if (rc != SQLITE_ROW) {
		log_warnx("status of alert %s: %s", id, sqlite3_errstr(rc));
		goto fail;
	}
	alert = status_alert_head(st);
	if (alert == NULL)
		goto fail;
	/* The targets as the operator gave them: a JSON array as text. */
	text = (const char *)sqlite3_column_text(st, STATUS_N_ALERT_COLUMNS);
	targets = text ? json_loads(text, 0, &jerr) : NULL;
	json_object_set_new(alert, "targets", targets ? targets : json_null());
	sqlite3_reset(st);

	orgs = json_array();
	if (orgs == NULL || status_orgs(s, id, orgs, &c) < 0)
		goto fail;
	if (json_object_set_new(alert, "counts", status_counts_json(&c)) < 0)
		goto fail;
	rc = json_object_set_new(alert, "organisations", orgs);
	orgs = NULL; /* set_new takes it, even when it fails */
	if (rc < 0)
		goto fail;
	if (own_txn)
		store_exec(s, "COMMIT");
	return alert;
fail:
	if (st != NULL)
		sqlite3_reset(st);
	json_decref(orgs);
	json_decref(alert);
	/* Only reads happened: COMMIT ends the snapshot and loses nothing. */
	if (own_txn)
		store_exec(s, "COMMIT");
	return NULL;
}

/*
 * Recent alerts, newest first, at most limit (<= 0: 50), each with its
 * counts: one statement whatever the number of alerts. Returns a new
 * reference the caller owns, or NULL on a store error (logged).
 */
json_t *status_alert_list(struct store *s, int limit)
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
	sqlite3_stmt *st = store_stmt(s, sql);
	json_t *list = json_array(), *item;
	int rc, k = STATUS_N_ALERT_COLUMNS;

	if (st == NULL || list == NULL) {
		json_decref(list);
		return NULL;
	}
	sqlite3_bind_int(st, 1, limit > 0 ? limit : 50);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct status_counts c = {
			.organisations = sqlite3_column_int64(st, k),
			.deliveries = sqlite3_column_int64(st, k + 1),
			.sent = sqlite3_column_int64(st, k + 2),
			.failed = sqlite3_column_int64(st, k + 3),
			.pending = sqlite3_column_int64(st, k + 4),
			.skipped = sqlite3_column_int64(st, k + 5),
			.cancelled = sqlite3_column_int64(st, k + 6),
		};

		item = status_alert_head(st);
		if (item == NULL ||
		    json_object_set_new(item, "counts",
					status_counts_json(&c)) < 0 ||
		    json_array_append_new(list, item) < 0) {
			rc = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE) {
		log_warnx("alert list: %s", rc == SQLITE_NOMEM
						    ? "out of memory"
						    : sqlite3_errstr(rc));
		json_decref(list);
		return NULL;
	}
	return list;
}
