/*
 * Intake: accepting an alert and cancelling one. Accepting plans every
 * delivery and commits the alert, its organisations, its deliveries and
 * its first timeline rows in one transaction before anything is sent;
 * only then do the deliveries enter the channels' queues.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/crypto.h"
#include "common/log.h"
#include "dispatcher/engine_internal.h"
#include "dispatcher/planner.h"
#include "dispatcher/timefmt.h"

/* Reloads the cached directory when another connection changed the file. */
static int
directory_refresh(struct engine *e)
{
	sqlite3_stmt *st = store_stmt(e->store, "PRAGMA data_version");
	int64_t version = -1;
	struct directory d = {0};

	if (st != NULL && sqlite3_step(st) == SQLITE_ROW)
		version = sqlite3_column_int64(st, 0);
	if (st != NULL)
		sqlite3_reset(st);
	if (version >= 0 && version == e->dir_version)
		return 0;
	if (store_directory_load(e->store, NULL, &d) < 0)
		return -EIO;
	directory_free(&e->dir);
	e->dir = d;
	e->dir_version = version;
	return 0;
}

static bool
has_channel(void *arg, enum dir_channel c)
{
	return engine_channel_find(arg, dir_channel_name(c)) != NULL;
}

/* "20261122-" and 8 hex digits: sortable by day, unguessable enough. */
static int
new_alert_id(char *out, size_t len)
{
	uint8_t rnd[4];
	char hex[9];
	time_t now = time(NULL);
	struct tm tm;

	if (crypto_random(rnd, sizeof(rnd)) < 0)
		return -EIO;
	crypto_hex(rnd, sizeof(rnd), hex);
	localtime_r(&now, &tm);
	/* tm fields are bounded; the cast keeps the compiler's range tight. */
	snprintf(out, len, "%04u%02u%02u-%s", (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u, hex);
	return 0;
}

static int
step_ok(struct store *s, sqlite3_stmt *st)
{
	if (st == NULL)
		return -EIO;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_warnx("intake: %s", sqlite3_errmsg(store_db(s)));
		return -EIO;
	}
	return 0;
}

static void
bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static int
persist(struct engine *e, const char *id, const struct alert_input *in,
	const char *operator_name, int64_t now, const struct plan *p,
	const size_t *sendable, struct timeline_head *head)
{
	struct store *s = e->store;
	sqlite3_stmt *st;
	char *targets = NULL, did[96];
	json_t *arr = json_array();
	size_t skipped = 0;
	int r = -EIO;

	for (size_t i = 0; arr && i < in->n_targets; i++)
		json_array_append_new(arr, json_string(in->targets[i]));
	targets = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	if (targets == NULL)
		return -ENOMEM;
	if (store_begin(s) < 0)
		goto out;
	st = store_stmt(s, "INSERT INTO alerts (id, title, body, type, severity,"
			   " tlp, drill, targets, policy, mode, state,"
			   " created_at, created_by)"
			   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active', ?, ?)");
	if (st == NULL)
		goto fail;
	bind_str(st, 1, id);
	bind_str(st, 2, in->title);
	bind_str(st, 3, in->body);
	bind_str(st, 4, in->type);
	bind_str(st, 5, in->severity);
	bind_str(st, 6, tlp_name(in->tlp));
	sqlite3_bind_int(st, 7, in->drill);
	bind_str(st, 8, targets);
	bind_str(st, 9, in->policy);
	bind_str(st, 10, in->mode ? in->mode : "normal");
	sqlite3_bind_int64(st, 11, now);
	bind_str(st, 12, operator_name);
	if (step_ok(s, st) < 0)
		goto fail;
	for (size_t oi = 0; oi < p->n_orgs; oi++) {
		st = store_stmt(s, "INSERT INTO alert_orgs (alert_id, org_id,"
				   " org_name, position, state, step)"
				   " VALUES (?, ?, ?, ?, ?, 0)");
		if (st == NULL)
			goto fail;
		bind_str(st, 1, id);
		bind_str(st, 2, p->orgs[oi]->id);
		bind_str(st, 3, p->orgs[oi]->name);
		sqlite3_bind_int(st, 4, (int)oi);
		/* Unreachable at once when no method may carry it. */
		bind_str(st, 5, sendable[oi] ? "pending" : "unreachable");
		if (step_ok(s, st) < 0)
			goto fail;
	}
	for (size_t i = 0; i < p->n_deliveries; i++) {
		const struct plan_delivery *pd = &p->deliveries[i];

		snprintf(did, sizeof(did), "%s-%zu", id, i + 1);
		st = store_stmt(s, "INSERT INTO deliveries (id, alert_id, org_id,"
				   " contact_id, contact_name, language, channel,"
				   " address, charset, step, rank, state, reason)"
				   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?)");
		if (st == NULL)
			goto fail;
		bind_str(st, 1, did);
		bind_str(st, 2, id);
		bind_str(st, 3, p->orgs[pd->org]->id);
		bind_str(st, 4, pd->contact->id);
		bind_str(st, 5, pd->contact->name);
		bind_str(st, 6, pd->contact->language ? pd->contact->language : "ja");
		bind_str(st, 7, dir_channel_name(pd->method->channel));
		bind_str(st, 8, pd->method->address);
		bind_str(st, 9, dir_charset_name(pd->method->charset));
		sqlite3_bind_int(st, 10, pd->rank);
		bind_str(st, 11, pd->skip_reason ? "skipped" : "queued");
		bind_str(st, 12, pd->skip_reason);
		if (step_ok(s, st) < 0)
			goto fail;
		skipped += pd->skip_reason != NULL;
	}
	{
		char detail[256];

		snprintf(detail, sizeof(detail),
			 "%s %s %s%s: %zu organisations, %zu deliveries "
			 "(%zu skipped)",
			 in->type, in->severity, tlp_label(in->tlp),
			 in->drill ? " drill" : "", p->n_orgs, p->n_deliveries,
			 skipped);
		if (timeline_insert(s, head, id, now, operator_name, "accepted",
				    NULL, NULL, detail) < 0)
			goto fail;
	}
	for (size_t i = 0; i < p->n_deliveries; i++) {
		const struct plan_delivery *pd = &p->deliveries[i];

		if (pd->skip_reason == NULL)
			continue;
		snprintf(did, sizeof(did), "%s-%zu", id, i + 1);
		if (timeline_insert(s, head, id, now, "engine", "skipped",
				    p->orgs[pd->org]->id, did,
				    pd->skip_reason) < 0)
			goto fail;
	}
	if (store_commit(s) < 0)
		goto fail;
	r = 0;
	goto out;
fail:
	store_rollback(s);
out:
	free(targets);
	return r;
}

static char *
xstrdup(const char *s, bool *oom)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		*oom = true;
	return p;
}

/* Fills a delivery's message; its strings point into d and its alert. */
void
intake_message_init(struct rt_delivery *d)
{
	struct rt_alert *a = d->alert;

	d->msg = (struct channel_message){
		.key = d->id,
		.address = d->address,
		.charset = d->charset,
		.language = d->language,
		.alert_id = a->id,
		.title = a->title,
		.body = a->body,
		.type = a->type,
		.severity = a->severity,
		.tlp = a->tlp,
		.drill = a->drill,
		.kind = "alert",
		.org_id = d->org->org_id,
		.org_name = d->org->org_name,
		.contact_id = d->contact_id,
		.contact_name = d->contact_name,
		.ack_url = NULL,
		.created_at = a->created_at / 1000,
	};
}

/* Builds the in-memory alert for the deliveries to send, in rank order. */
static int
build_runtime(struct engine *e, const char *id, const struct alert_input *in,
	      int64_t now, const struct plan *p,
	      const struct timeline_head *head, struct rt_alert **ret)
{
	struct rt_alert *a = calloc(1, sizeof(*a));
	struct rt_org **orgs = NULL;
	bool oom = false;

	if (a == NULL)
		return -ENOMEM;
	LIST_INIT(&a->orgs);
	LIST_INIT(&a->deliveries);
	a->id = xstrdup(id, &oom);
	a->title = xstrdup(in->title, &oom);
	a->body = xstrdup(in->body, &oom);
	a->type = xstrdup(in->type, &oom);
	a->severity = xstrdup(in->severity, &oom);
	a->tlp = in->tlp;
	a->drill = in->drill;
	a->created_at = now;
	a->timeline = *head;
	orgs = calloc(p->n_orgs ? p->n_orgs : 1, sizeof(*orgs));
	if (orgs == NULL)
		goto nomem;
	for (size_t i = 0; i < p->n_deliveries; i++) {
		const struct plan_delivery *pd = &p->deliveries[i];
		struct rt_delivery *d;
		char did[96];

		if (pd->skip_reason)
			continue;
		if (orgs[pd->org] == NULL) {
			struct rt_org *o = calloc(1, sizeof(*o));

			if (o == NULL)
				goto nomem;
			o->org_id = xstrdup(p->orgs[pd->org]->id, &oom);
			o->org_name = xstrdup(p->orgs[pd->org]->name, &oom);
			o->state = "pending";
			LIST_INSERT_HEAD(&a->orgs, o, link);
			orgs[pd->org] = o;
		}
		d = calloc(1, sizeof(*d));
		if (d == NULL)
			goto nomem;
		snprintf(did, sizeof(did), "%s-%zu", id, i + 1);
		d->id = xstrdup(did, &oom);
		d->alert = a;
		d->org = orgs[pd->org];
		d->ch = engine_channel_find(e, dir_channel_name(pd->method->channel));
		d->contact_id = xstrdup(pd->contact->id, &oom);
		d->contact_name = xstrdup(pd->contact->name, &oom);
		d->language = xstrdup(pd->contact->language ? pd->contact->language
							    : "ja",
				      &oom);
		d->address = xstrdup(pd->method->address, &oom);
		d->charset = xstrdup(dir_charset_name(pd->method->charset), &oom);
		d->rank = pd->rank;
		d->org->unfinished++;
		a->unfinished++;
		LIST_INSERT_HEAD(&a->deliveries, d, alink);
		intake_message_init(d);
	}
	free(orgs);
	if (oom)
		goto nomem_freed;
	*ret = a;
	return 0;
nomem:
	free(orgs);
nomem_freed:
	engine_alert_free(a);
	return -ENOMEM;
}

int
engine_accept(struct engine *e, const struct alert_input *in,
	      const char *operator_name, char **ret_id,
	      struct alert_error *err)
{
	struct plan p = {0};
	struct timeline_head head;
	struct rt_alert *a = NULL;
	struct rt_delivery *d, **order = NULL;
	size_t *sendable = NULL, n = 0;
	char id[32];
	int64_t now = time_now_ms();
	int r;

	if (!e->accepting)
		return alert_error_set(err, 503, "", "shutting down");
	if (directory_refresh(e) < 0)
		return -EIO;
	r = planner_expand(&e->dir, in->targets, in->n_targets, &p, err);
	if (r < 0)
		return r;
	r = planner_plan(&p, in->tlp,
			 (1u << DIR_ROLE_PRIMARY) | (1u << DIR_ROLE_DEPUTY),
			 ~0u, has_channel, e);
	if (r < 0)
		goto out;
	sendable = calloc(p.n_orgs ? p.n_orgs : 1, sizeof(*sendable));
	if (sendable == NULL || new_alert_id(id, sizeof(id)) < 0) {
		r = -ENOMEM;
		goto out;
	}
	for (size_t i = 0; i < p.n_deliveries; i++)
		if (p.deliveries[i].skip_reason == NULL)
			sendable[p.deliveries[i].org]++;
	timeline_head_init(&head);
	/* Durable first: nothing is sent for an alert that is not on disk. */
	r = persist(e, id, in, operator_name, now, &p, sendable, &head);
	if (r < 0)
		goto out;
	r = build_runtime(e, id, in, now, &p, &head, &a);
	if (r < 0) {
		/*
		 * On disk but not in memory: the next start sends it. Say
		 * so rather than pretend it failed.
		 */
		log_warnx("alert %s: accepted but out of memory; it will be "
			  "sent after a restart",
			  id);
		r = 0;
		goto done;
	}
	LIST_INSERT_HEAD(&e->alerts, a, link);
	metrics_alert_accepted(e->metrics, in->drill);
	log_info("alert %s: accepted from %s: %zu organisations, %zu "
		 "deliveries to send",
		 id, operator_name, p.n_orgs, a->unfinished);
	for (size_t oi = 0; oi < p.n_orgs; oi++)
		if (sendable[oi] == 0)
			engine_event(e, a, "engine", "unreachable",
				     p.orgs[oi]->id, NULL,
				     "no contact method may carry this alert");
	/* The list holds them newest first: enqueue by rank. */
	order = calloc(a->unfinished ? a->unfinished : 1, sizeof(*order));
	if (order == NULL) {
		r = -ENOMEM;
		goto done;
	}
	LIST_FOREACH(d, &a->deliveries, alink)
		order[n++] = d;
	a->busy = true;
	for (size_t i = n; i-- > 0;)
		sched_enqueue(order[i], 0);
	a->busy = false;
	if (a->unfinished == 0) {
		writer_alert_state(e->writer, a->id, "completed", now);
		engine_event(e, a, "engine", "completed", NULL, NULL,
			     "nothing to send");
		LIST_REMOVE(a, link);
		engine_alert_free(a);
	}
done:
	*ret_id = strdup(id);
	if (*ret_id == NULL)
		r = -ENOMEM;
out:
	free(order);
	free(sendable);
	plan_free(&p);
	return r;
}

/* Answers -EALREADY for a finished alert, -ENOENT for an unknown one. */
static int
cancel_finished(struct engine *e, const char *id)
{
	sqlite3_stmt *st = store_stmt(e->store,
				      "SELECT state FROM alerts WHERE id = ?");
	int rc;

	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc == SQLITE_ROW)
		return -EALREADY;
	return rc == SQLITE_DONE ? -ENOENT : -EIO;
}

int
engine_cancel(struct engine *e, const char *alert_id, bool notify,
	      const char *operator_name)
{
	struct rt_alert *a = engine_alert_find(e, alert_id);
	struct rt_delivery *d, *next;
	struct rt_org *o;
	int64_t now = time_now_ms();

	(void)notify;
	if (a == NULL)
		return cancel_finished(e, alert_id);
	a->cancelled = true;
	writer_alert_state(e->writer, a->id, "cancelled", now);
	engine_event(e, a, operator_name, "cancelled", NULL, NULL,
		     "cancelled by %s", operator_name);
	LIST_FOREACH(o, &a->orgs, link) {
		if (strcmp(o->state, "pending") == 0) {
			o->state = "cancelled";
			writer_org_state(e->writer, a->id, o->org_id,
					 "cancelled", -1, -1);
		}
	}
	log_info("alert %s: cancelled by %s", a->id, operator_name);
	a->busy = true;
	for (d = LIST_FIRST(&a->deliveries); d != NULL; d = next) {
		next = LIST_NEXT(d, alink);
		sched_cancel_delivery(d, "alert cancelled");
	}
	a->busy = false;
	if (a->unfinished == 0) {
		LIST_REMOVE(a, link);
		engine_alert_free(a);
	}
	return 0;
}
