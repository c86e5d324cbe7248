/*
 * Recovery: after a start, every alert that is active or still has
 * deliveries to send is read back from the store: its policy snapshot,
 * its organisations with the step each reached and who confirmed, and
 * its unfinished deliveries, which are queued again. The escalation
 * timer then asks each policy what is due, so a step that fell due while
 * the daemon was down runs at once.
 *
 * A delivery that was being sent when the process stopped has an unknown
 * outcome: it is recorded as such and sent again with the same
 * idempotency key (Message-ID, webhook-id), so a receiver can tell the
 * repeat.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/engine/engine_internal.h"
#include "dispatcher/engine/clock.h"

static char *col(sqlite3_stmt *st, int i, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *p = strdup(t ? (const char *)t : "");

	if (p == NULL)
		*oom = true;
	return p;
}

static const char *text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static int load_alerts(struct engine *e)
{
	sqlite3_stmt *st = store_stmt(
		e->store,
		"SELECT id, title, body, type, severity, tlp, drill, created_at,"
		" policy_json, state FROM alerts WHERE state = 'active' OR id IN"
		" (SELECT DISTINCT alert_id FROM deliveries"
		"  WHERE state IN ('queued', 'sending', 'retry_wait'))"
		" ORDER BY created_at DESC");
	bool oom = false;
	int rc;

	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rt_alert *a = calloc(1, sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		LIST_INIT(&a->deliveries);
		/* Newest first in the query, so the list ends oldest first. */
		LIST_INSERT_HEAD(&e->alerts, a, link);
		a->id = col(st, 0, &oom);
		a->title = col(st, 1, &oom);
		a->body = col(st, 2, &oom);
		a->type = col(st, 3, &oom);
		a->severity = col(st, 4, &oom);
		tlp_parse(text(st, 5), &a->tlp);
		a->drill = sqlite3_column_int(st, 6) != 0;
		a->created_at = sqlite3_column_int64(st, 7);
		if (policy_from_json_string(text(st, 8), &a->policy) < 0)
			policy_default(&a->policy);
		a->finished = strcmp(text(st, 9), "active") != 0;
		a->cancelled = strcmp(text(st, 9), "cancelled") == 0;
		if (oom)
			return -ENOMEM;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int add_id(char ***ids, size_t *n, const char *id)
{
	char **a = realloc(*ids, (*n + 1) * sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	*ids = a;
	if ((a[*n] = strdup(id)) == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static struct rt_org *org_by_id(struct rt_alert *a, const char *id)
{
	for (size_t i = 0; i < a->n_orgs; i++)
		if (strcmp(a->orgs[i].org_id, id) == 0)
			return &a->orgs[i];
	return NULL;
}

/* The organisations, their steps, who was reached and who confirmed. */
static int load_orgs(struct engine *e, struct rt_alert *a)
{
	sqlite3_stmt *st;
	bool oom = false;
	size_t n = 0;
	int rc;

	st = store_stmt(e->store, "SELECT count(*) FROM alert_orgs"
				  " WHERE alert_id = ?");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = (size_t)sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	a->orgs = calloc(n ? n : 1, sizeof(*a->orgs));
	if (a->orgs == NULL)
		return -ENOMEM;

	st = store_stmt(e->store, "SELECT org_id, org_name, state, step"
				  " FROM alert_orgs WHERE alert_id = ?"
				  " ORDER BY position");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && a->n_orgs < n) {
		struct rt_org *o = &a->orgs[a->n_orgs++];

		o->org_id = col(st, 0, &oom);
		o->org_name = col(st, 1, &oom);
		/* An unknown word (a newer version's) reads as pending. */
		if (ostate_parse(text(st, 2), &o->state) < 0)
			o->state = OSTATE_PENDING;
		o->step = sqlite3_column_int(st, 3);
		o->closed = o->state == OSTATE_ACKNOWLEDGED ||
			    o->state == OSTATE_UNREACHABLE ||
			    o->state == OSTATE_CANCELLED;
		/* Ask the policy at once: it counts from acceptance. */
		o->next_at = 0;
		if (!o->closed)
			a->open_orgs++;
	}
	sqlite3_reset(st);
	if (oom)
		return -ENOMEM;

	/* Reached: a sendable alert delivery was planned to the contact. */
	st = store_stmt(
		e->store,
		"SELECT org_id, contact_id, step,"
		" count(*) FILTER (WHERE state = 'sent')"
		" FROM deliveries WHERE alert_id = ? AND kind = 'alert'"
		" AND state != 'skipped' GROUP BY org_id, contact_id, step");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rt_org *o = org_by_id(a, text(st, 0));
		bool seen = false;

		if (o == NULL)
			continue;
		for (size_t i = 0; i < o->n_targeted && !seen; i++)
			seen = strcmp(o->targeted[i], text(st, 1)) == 0;
		if (!seen &&
		    add_id(&o->targeted, &o->n_targeted, text(st, 1)) < 0)
			return -ENOMEM;
		o->sent += (size_t)sqlite3_column_int(st, 3);
		if (sqlite3_column_int(st, 2) == o->step)
			o->step_sent += (size_t)sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);

	st = store_stmt(e->store,
			"SELECT org_id, contact_id FROM ack_tokens"
			" WHERE alert_id = ? AND confirmed_at IS NOT NULL");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rt_org *o = org_by_id(a, text(st, 0));

		if (o == NULL)
			continue;
		if (add_id(&o->confirmed, &o->n_confirmed, text(st, 1)) < 0)
			return -ENOMEM;
		o->confirmations++;
	}
	sqlite3_reset(st);

	st = store_stmt(e->store, "SELECT count(*) FROM deliveries"
				  " WHERE alert_id = ?");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		a->next_seq = sqlite3_column_int(st, 0) + 1;
	sqlite3_reset(st);
	return 0;
}

/* Loads one alert's unfinished deliveries and queues them in rank order. */
static int load_deliveries(struct engine *e, struct rt_alert *a,
			   size_t *ret_count)
{
	sqlite3_stmt *st = store_stmt(
		e->store,
		"SELECT id, org_id, contact_id, contact_name, language, channel,"
		" address, charset, rank, state, attempts, next_at, kind, step"
		" FROM deliveries WHERE alert_id = ?"
		" AND state IN ('queued', 'sending', 'retry_wait')"
		" ORDER BY rank");
	int64_t now = clock_now_ms();
	bool oom = false;
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rt_channel *c = engine_channel_find(e, text(st, 5));
		const char *state = text(st, 9), *kind = text(st, 12);
		struct rt_delivery *d;
		int64_t next_at = 0;

		d = calloc(1, sizeof(*d));
		if (d == NULL)
			return -ENOMEM;
		d->id = col(st, 0, &oom);
		d->alert = a;
		d->contact_id = col(st, 2, &oom);
		d->contact_name = col(st, 3, &oom);
		d->language = col(st, 4, &oom);
		d->address = col(st, 6, &oom);
		d->charset = col(st, 7, &oom);
		d->rank = sqlite3_column_int(st, 8);
		d->attempts = sqlite3_column_int(st, 10);
		d->step = sqlite3_column_int(st, 13);
		d->ch = c;
		/* An unknown kind is sent as the alert, as before. */
		if (dkind_parse(kind, &d->kind) < 0)
			d->kind = DKIND_ALERT;
		if (d->kind == DKIND_UNREACHABLE) {
			if (a->duty.org_id == NULL) {
				a->duty.org_id = col(st, 1, &oom);
				a->duty.org_name = col(st, 1, &oom);
				a->duty.state = OSTATE_NOTIFIED;
			}
			d->org = &a->duty;
			if (escalation_duty_text(a, &d->title, &d->body) < 0)
				oom = true;
		} else {
			d->org = org_by_id(a, text(st, 1));
		}
		if (oom || d->org == NULL) {
			engine_delivery_free(d);
			if (oom)
				return -ENOMEM;
			continue;
		}
		if (c == NULL) {
			/* Its channel left the config: nothing can send it. */
			writer_delivery_state(
				e->writer, d->id, "failed", d->attempts, -1,
				"its channel is no longer configured", -1, NULL,
				NULL);
			engine_delivery_free(d);
			continue;
		}
		if (d->kind == DKIND_ALERT) {
			char token[33];

			ack_token(e, a->id, d->org->org_id, d->contact_id,
				  token);
			if (asprintf(&d->ack_url, "%s/ack/%s",
				     e->config->public_url, token) < 0) {
				d->ack_url = NULL;
				explicit_bzero(token, sizeof(token));
				engine_delivery_free(d);
				return -ENOMEM;
			}
			explicit_bzero(token, sizeof(token));
			d->org->unfinished++;
			if (d->step == d->org->step)
				d->org->step_unfinished++;
		}
		LIST_INSERT_HEAD(&a->deliveries, d, alink);
		a->unfinished++;
		intake_message_init(d);
		if (strcmp(state, "sending") == 0) {
			writer_attempt(e->writer, d->id, d->attempts, now, now,
				       "unknown", 0,
				       "interrupted: the engine stopped before "
				       "the outcome was known",
				       NULL);
			engine_event(e, a, "engine", "resend", d->org->org_id,
				     d->id,
				     "outcome unknown after a restart: sent "
				     "again with the same key");
		} else if (strcmp(state, "retry_wait") == 0) {
			next_at = sqlite3_column_int64(st, 11);
		}
		sched_enqueue(d, next_at);
		(*ret_count)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int recovery_load(struct engine *e)
{
	struct rt_alert *a, *next;
	size_t count = 0, alerts = 0;
	int r;

	r = load_alerts(e);
	if (r < 0)
		return r;
	for (a = LIST_FIRST(&e->alerts); a != NULL; a = next) {
		next = LIST_NEXT(a, link);
		a->busy = true;
		r = timeline_head_load(e->store, a->id, &a->timeline);
		if (r == 0)
			r = load_orgs(e, a);
		if (r == 0)
			r = load_deliveries(e, a, &count);
		a->busy = false;
		if (r < 0)
			return r;
		alerts++;
		if (!a->finished && a->open_orgs == 0) {
			/* Every org closed but the last write did not land. */
			a->finished = true;
			if (!a->cancelled)
				writer_alert_state(e->writer, a->id,
						   "completed", clock_now_ms());
		}
		escalation_maybe_release(e, a);
	}
	if (alerts > 0)
		log_info("recovery: %zu alerts reloaded, %zu deliveries queued "
			 "again",
			 alerts, count);
	return 0;
}
