/*
 * Recovery: after a start, every active alert's unfinished deliveries are
 * read back from the store and queued again. A delivery that was being
 * sent when the process stopped has an unknown outcome: it is recorded as
 * such and sent again with the same idempotency key (Message-ID,
 * webhook-id), so a receiver can tell the repeat.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/engine_internal.h"
#include "dispatcher/timefmt.h"

static char *
col(sqlite3_stmt *st, int i, bool *oom)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	char *p = strdup(t ? (const char *)t : "");

	if (p == NULL)
		*oom = true;
	return p;
}

static int
load_alerts(struct engine *e)
{
	sqlite3_stmt *st = store_stmt(e->store,
				      "SELECT id, title, body, type, severity,"
				      " tlp, drill, created_at FROM alerts"
				      " WHERE state = 'active'"
				      " ORDER BY created_at DESC");
	bool oom = false;
	int rc;

	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct rt_alert *a = calloc(1, sizeof(*a));

		if (a == NULL)
			return -ENOMEM;
		LIST_INIT(&a->orgs);
		LIST_INIT(&a->deliveries);
		a->id = col(st, 0, &oom);
		a->title = col(st, 1, &oom);
		a->body = col(st, 2, &oom);
		a->type = col(st, 3, &oom);
		a->severity = col(st, 4, &oom);
		tlp_parse((const char *)sqlite3_column_text(st, 5), &a->tlp);
		a->drill = sqlite3_column_int(st, 6) != 0;
		a->created_at = sqlite3_column_int64(st, 7);
		/* Newest first in the query, so the list ends oldest first. */
		LIST_INSERT_HEAD(&e->alerts, a, link);
		if (oom)
			return -ENOMEM;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static struct rt_org *
org_get(struct rt_alert *a, const char *org_id, const char *name,
	const char *state, bool *oom)
{
	struct rt_org *o;

	LIST_FOREACH(o, &a->orgs, link)
		if (strcmp(o->org_id, org_id) == 0)
			return o;
	o = calloc(1, sizeof(*o));
	if (o == NULL) {
		*oom = true;
		return NULL;
	}
	o->org_id = strdup(org_id);
	o->org_name = strdup(name ? name : org_id);
	/* States are static strings in memory: map the stored one. */
	o->state = strcmp(state, "pending") == 0 ? "pending" : "notified";
	if (o->org_id == NULL || o->org_name == NULL)
		*oom = true;
	LIST_INSERT_HEAD(&a->orgs, o, link);
	return o;
}

/* Loads one alert's unfinished deliveries and queues them in rank order. */
static int
load_deliveries(struct engine *e, struct rt_alert *a, size_t *ret_count)
{
	sqlite3_stmt *st = store_stmt(
		e->store,
		"SELECT d.id, d.org_id, o.org_name, o.state, d.contact_id,"
		" d.contact_name, d.language, d.channel, d.address, d.charset,"
		" d.rank, d.state, d.attempts, d.next_at"
		" FROM deliveries d JOIN alert_orgs o"
		" ON o.alert_id = d.alert_id AND o.org_id = d.org_id"
		" WHERE d.alert_id = ?"
		" AND d.state IN ('queued', 'sending', 'retry_wait')"
		" ORDER BY d.rank");
	int64_t now = time_now_ms();
	bool oom = false;
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_TRANSIENT);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *channel = (const char *)sqlite3_column_text(st, 7);
		const char *state = (const char *)sqlite3_column_text(st, 11);
		struct rt_channel *c = engine_channel_find(e, channel);
		struct rt_delivery *d;
		int64_t next_at = 0;

		d = calloc(1, sizeof(*d));
		if (d == NULL)
			return -ENOMEM;
		d->id = col(st, 0, &oom);
		d->alert = a;
		d->org = org_get(a, (const char *)sqlite3_column_text(st, 1),
				 (const char *)sqlite3_column_text(st, 2),
				 (const char *)sqlite3_column_text(st, 3), &oom);
		d->contact_id = col(st, 4, &oom);
		d->contact_name = col(st, 5, &oom);
		d->language = col(st, 6, &oom);
		d->address = col(st, 8, &oom);
		d->charset = col(st, 9, &oom);
		d->rank = sqlite3_column_int(st, 10);
		d->attempts = sqlite3_column_int(st, 12);
		d->ch = c;
		if (oom || d->org == NULL) {
			engine_delivery_free(d);
			return -ENOMEM;
		}
		if (c == NULL) {
			/* Its channel left the config: nothing can send it. */
			writer_delivery_state(e->writer, d->id, "failed",
					      d->attempts, -1,
					      "its channel is no longer configured",
					      -1, NULL, NULL);
			engine_delivery_free(d);
			continue;
		}
		LIST_INSERT_HEAD(&a->deliveries, d, alink);
		d->org->unfinished++;
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
			next_at = sqlite3_column_int64(st, 13);
		}
		sched_enqueue(d, next_at);
		(*ret_count)++;
	}
	sqlite3_reset(st);
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int
recovery_load(struct engine *e)
{
	struct rt_alert *a, *next;
	size_t count = 0, alerts = 0;
	int r;

	r = load_alerts(e);
	if (r < 0)
		return r;
	for (a = LIST_FIRST(&e->alerts); a != NULL; a = next) {
		next = LIST_NEXT(a, link);
		r = timeline_head_load(e->store, a->id, &a->timeline);
		if (r == 0) {
			a->busy = true;
			r = load_deliveries(e, a, &count);
			a->busy = false;
		}
		if (r < 0)
			return r;
		alerts++;
		if (a->unfinished == 0) {
			/* It had settled but the last write did not land. */
			writer_alert_state(e->writer, a->id, "completed",
					   time_now_ms());
			engine_event(e, a, "engine", "completed", NULL, NULL,
				     "every delivery settled");
			LIST_REMOVE(a, link);
			engine_alert_free(a);
		}
	}
	if (alerts > 0)
		log_info("recovery: %zu active alerts, %zu deliveries queued "
			 "again",
			 alerts, count);
	return 0;
}
