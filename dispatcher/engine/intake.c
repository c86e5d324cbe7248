/*
 * Intake: accepting an alert, planning deliveries for a policy step, and
 * cancelling. Accepting chooses the escalation policy and copies it into
 * the alert, then plans step 0 and commits the alert, its organisations,
 * its deliveries, its reply links and its first timeline rows in one
 * transaction before anything is sent; only then do deliveries enter the
 * channels' queues. Later steps (escalation.c) and notices reuse
 * plan_org_step and plan_commit.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/crypto.h"
#include "common/log.h"
#include "dispatcher/engine/engine_internal.h"
#include "dispatcher/engine/planner.h"
#include "dispatcher/engine/clock.h"
#include "policies/calendar.h"
#include "policies/select.h"

int directory_refresh(struct engine *e)
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
	/* store_directory_load returns organisations in id order. */
	if (store_directory_load(e->store, NULL, &d) < 0)
		return -EIO;
	directory_free(&e->dir);
	e->dir = d;
	e->dir_version = version;
	return 0;
}

const struct dir_org *directory_org(struct engine *e, const char *id)
{
	size_t lo = 0, hi = e->dir.n_orgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(e->dir.orgs[mid].id, id);

		if (c == 0)
			return &e->dir.orgs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool has_channel(struct engine *e, enum dir_channel c)
{
	return engine_channel_find(e, dir_channel_name(c)) != NULL;
}

/* "20261122-" and 8 hex digits: sortable by day, unguessable enough. */
static int new_alert_id(char *out, size_t len)
{
	uint8_t rnd[4];
	char hex[9];
	time_t now = (time_t)(clock_now_ms() / 1000);
	struct tm tm;

	if (crypto_random(rnd, sizeof(rnd)) < 0)
		return -EIO;
	crypto_hex(rnd, sizeof(rnd), hex);
	localtime_r(&now, &tm);
	/* tm fields are bounded; the casts keep the compiler's range tight. */
	snprintf(out, len, "%04u%02u%02u-%s",
		 (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
		 hex);
	return 0;
}

static int step_ok(struct store *s, sqlite3_stmt *st)
{
	if (st == NULL)
		return -EIO;
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_warnx("intake: %s", sqlite3_errmsg(store_db(s)));
		return -EIO;
	}
	return 0;
}

static void bind_str(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static bool holiday_first(struct engine *e, const struct rt_alert *a,
			  const struct dir_org *o)
{
	enum calendar_period p =
		calendar_period_at(&e->config->calendar, &o->hours,
				   (time_t)(clock_now_ms() / 1000));

	return policy_holiday_first(&a->policy, p);
}

static int push(struct planned **list, size_t *n, size_t *cap,
		const struct planned *p)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 256;
		struct planned *l = realloc(*list, ncap * sizeof(*l));

		if (l == NULL)
			return -ENOMEM;
		*list = l;
		*cap = ncap;
	}
	(*list)[(*n)++] = *p;
	return 0;
}

int plan_org_step(struct engine *e, struct rt_alert *a, size_t pos, int step,
		  struct planned **list, size_t *n, size_t *cap)
{
	const struct dir_org *o = directory_org(e, a->orgs[pos].org_id);
	const struct policy_step *ps = policy_step_at(&a->policy, step);
	struct policy_target *t = NULL;
	size_t nt = 0;
	int sendable = 0;

	if (o == NULL || ps == NULL)
		return 0; /* gone from the directory: nothing to plan */
	if (policy_step_targets(o, ps, holiday_first(e, a, o), &t, &nt) < 0)
		return -ENOMEM;
	for (size_t i = 0; i < nt; i++) {
		const struct dir_contact *c = &o->contacts[t[i].contact];
		const struct dir_method *m = &c->methods[t[i].method];
		struct planned p = {
			.org = pos,
			.contact = c,
			.method = m,
			.step = step,
			.kind = DKIND_ALERT,
		};

		if (!policy_method_allowed(a->tlp, m))
			p.skip_reason = "TLP";
		else if (!has_channel(e, m->channel))
			p.skip_reason = "channel";
		else
			sendable++;
		if (push(list, n, cap, &p) < 0) {
			free(t);
			return -ENOMEM;
		}
	}
	free(t);
	return sendable;
}

/* The words of a skip reason, written once per delivery. */
static void skip_words(const struct rt_alert *a, const struct planned *p,
		       char *out, size_t len)
{
	if (strcmp(p->skip_reason, "TLP") == 0)
		snprintf(out, len, "%s exceeds this method's limit %s",
			 tlp_label(a->tlp), tlp_label(p->method->max_tlp));
	else
		snprintf(out, len, "no channel \"%s\" is configured",
			 dir_channel_name(p->method->channel));
}

static bool contact_in(char **ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

static int contact_add(char ***ids, size_t *n, const char *id)
{
	char **a = realloc(*ids, (*n + 1) * sizeof(*a));

	if (a == NULL)
		return -ENOMEM;
	*ids = a;
	a[*n] = strdup(id);
	if (a[*n] == NULL)
		return -ENOMEM;
	(*n)++;
	return 0;
}

static char *dupz(const char *s, bool *oom)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		*oom = true;
	return p;
}

/* Builds a queued delivery in memory; NULL when out of memory. */
static struct rt_delivery *delivery_new(struct engine *e, struct rt_alert *a,
					const struct planned *p, const char *id)
{
	struct rt_delivery *d = calloc(1, sizeof(*d));
	struct rt_org *o = alert_org(a, p->org);
	bool oom = false;

	if (d == NULL)
		return NULL;
	d->id = dupz(id, &oom);
	d->alert = a;
	d->org = o;
	d->ch = engine_channel_find(e, dir_channel_name(p->method->channel));
	d->contact_id = dupz(p->contact->id, &oom);
	d->contact_name = dupz(p->contact->name, &oom);
	d->language =
		dupz(p->contact->language ? p->contact->language : "ja", &oom);
	d->address = dupz(p->method->address, &oom);
	d->charset = dupz(dir_charset_name(p->method->charset), &oom);
	d->kind = p->kind;
	d->step = p->step;
	if (p->kind == DKIND_ALERT) {
		char token[33];

		ack_token(e, a->id, o->org_id, p->contact->id, token);
		if (asprintf(&d->ack_url, "%s/ack/%s", e->config->public_url,
			     token) < 0) {
			d->ack_url = NULL;
			oom = true;
		}
		explicit_bzero(token, sizeof(token));
	} else if (p->kind == DKIND_UNREACHABLE &&
		   escalation_duty_text(a, &d->title, &d->body) < 0) {
		oom = true;
	}
	if (oom) {
		engine_delivery_free(d);
		return NULL;
	}
	intake_message_init(d);
	return d;
}

static int persist_planned(struct engine *e, struct rt_alert *a,
			   const struct planned *list, size_t n, int64_t now)
{
	struct store *s = e->store;
	sqlite3_stmt *st;
	char did[96], why[160];

	for (size_t i = 0; i < n; i++) {
		const struct planned *p = &list[i];
		const struct rt_org *o = alert_org(a, p->org);

		snprintf(did, sizeof(did), "%s-%d", a->id,
			 a->next_seq + (int)i);
		if (p->skip_reason)
			skip_words(a, p, why, sizeof(why));
		st = store_stmt(
			s,
			"INSERT INTO deliveries (id, alert_id, org_id,"
			" contact_id, contact_name, language, channel,"
			" address, charset, step, rank, state, reason,"
			" kind)"
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
		if (st == NULL)
			return -EIO;
		bind_str(st, 1, did);
		bind_str(st, 2, a->id);
		bind_str(st, 3, o->org_id);
		bind_str(st, 4, p->contact->id);
		bind_str(st, 5, p->contact->name);
		bind_str(st, 6,
			 p->contact->language ? p->contact->language : "ja");
		bind_str(st, 7, dir_channel_name(p->method->channel));
		bind_str(st, 8, p->method->address);
		bind_str(st, 9, dir_charset_name(p->method->charset));
		sqlite3_bind_int(st, 10, p->step);
		sqlite3_bind_int(st, 11, a->next_seq + (int)i);
		bind_str(st, 12, p->skip_reason ? "skipped" : "queued");
		bind_str(st, 13, p->skip_reason ? why : NULL);
		bind_str(st, 14, dkind_name(p->kind));
		if (step_ok(s, st) < 0)
			return -EIO;
		if (p->skip_reason) {
			if (timeline_insert(s, &a->timeline, a->id, now,
					    "engine", "skipped", o->org_id, did,
					    why) < 0)
				return -EIO;
			continue;
		}
		if (p->kind == DKIND_ALERT) {
			char token[33], hash[65];

			ack_token(e, a->id, o->org_id, p->contact->id, token);
			crypto_sha256_hex(token, strlen(token), hash);
			explicit_bzero(token, sizeof(token));
			st = store_stmt(
				s, "INSERT OR IGNORE INTO ack_tokens"
				   " (token_hash, alert_id, org_id,"
				   " position, contact_id, contact_name,"
				   " language) VALUES (?, ?, ?, ?, ?, ?, ?)");
			if (st == NULL)
				return -EIO;
			bind_str(st, 1, hash);
			bind_str(st, 2, a->id);
			bind_str(st, 3, o->org_id);
			sqlite3_bind_int(st, 4, (int)p->org);
			bind_str(st, 5, p->contact->id);
			bind_str(st, 6, p->contact->name);
			bind_str(st, 7,
				 p->contact->language ? p->contact->language
						      : "ja");
			if (step_ok(s, st) < 0)
				return -EIO;
		}
	}
	return 0;
}

/* A planned delivery with its place in its organisation's list. */
struct ordered {
	struct planned p;
	size_t k; /* 0 for the organisation's first delivery, 1 next... */
	size_t i; /* position in the original list, for a stable sort */
};

static int ordered_cmp(const void *x, const void *y)
{
	const struct ordered *a = x, *b = y;

	if (a->k != b->k)
		return a->k < b->k ? -1 : 1;
	return (a->i > b->i) - (a->i < b->i);
}

/*
 * Interleaves the organisations: every organisation's first delivery
 * comes before any organisation's second, and so on. The list holds each
 * organisation's deliveries together, in its own order. Returns a
 * malloc'd copy (caller frees), or NULL when out of memory.
 */
static struct planned *interleave(const struct planned *list, size_t n)
{
	struct ordered *o = calloc(n ? n : 1, sizeof(*o));
	struct planned *out = calloc(n ? n : 1, sizeof(*out));
	size_t k = 0;

	if (o == NULL || out == NULL) {
		free(o);
		free(out);
		return NULL;
	}
	for (size_t i = 0; i < n; i++) {
		k = i > 0 && list[i].org == list[i - 1].org ? k + 1 : 0;
		o[i] = (struct ordered){.p = list[i], .k = k, .i = i};
	}
	qsort(o, n, sizeof(*o), ordered_cmp);
	for (size_t i = 0; i < n; i++)
		out[i] = o[i].p;
	free(o);
	return out;
}

int plan_commit(struct engine *e, struct rt_alert *a,
		const struct planned *given, size_t n)
{
	struct timeline_head saved = a->timeline;
	int64_t now = clock_now_ms();
	char did[96];
	int r;
	struct planned *list;

	if (n == 0)
		return 0;
	list = interleave(given, n);
	if (list == NULL)
		return -ENOMEM;
	/* The writer's queue goes first so the timeline stays in order. */
	writer_flush(e->writer);
	if (store_begin(e->store) < 0) {
		free(list);
		return -EIO;
	}
	r = persist_planned(e, a, list, n, now);
	if (r == 0)
		r = store_commit(e->store);
	if (r < 0) {
		store_rollback(e->store);
		a->timeline = saved;
		free(list);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		const struct planned *p = &list[i];
		struct rt_org *o = alert_org(a, p->org);
		struct rt_delivery *d;

		snprintf(did, sizeof(did), "%s-%d", a->id,
			 a->next_seq + (int)i);
		if (p->skip_reason)
			continue;
		d = delivery_new(e, a, p, did);
		if (d == NULL) {
			/* On disk: the next start sends it. */
			log_warnx(
				"alert %s delivery %s: out of memory; it will "
				"be sent after a restart",
				a->id, did);
			continue;
		}
		d->rank = a->next_seq + (int)i;
		LIST_INSERT_HEAD(&a->deliveries, d, alink);
		a->unfinished++;
		if (p->kind == DKIND_ALERT) {
			o->unfinished++;
			if (p->step == o->step)
				o->step_unfinished++;
			if (!contact_in(o->targeted, o->n_targeted,
					p->contact->id))
				contact_add(&o->targeted, &o->n_targeted,
					    p->contact->id);
		}
		sched_enqueue(d, 0);
	}
	a->next_seq += (int)n;
	free(list);
	return 0;
}

/* Fills a delivery's message; its strings point into d and its alert. */
void intake_message_init(struct rt_delivery *d)
{
	struct rt_alert *a = d->alert;

	d->msg = (struct channel_message){
		.key = d->id,
		.address = d->address,
		.charset = d->charset,
		.language = d->language,
		.alert_id = a->id,
		.title = d->title ? d->title : a->title,
		.body = d->body ? d->body : a->body,
		.type = a->type,
		.severity = a->severity,
		.tlp = a->tlp,
		.drill = a->drill,
		.kind = dkind_name(d->kind),
		.org_id = d->org->org_id,
		.org_name = d->org->org_name,
		.contact_id = d->contact_id,
		.contact_name = d->contact_name,
		.ack_url = d->ack_url,
		.created_at = a->created_at / 1000,
	};
}

/* Chooses the policy: the one named, else the selection rules, else the default. */
static int choose_policy(struct engine *e, const struct alert_input *in,
			 struct policy *ret, struct alert_error *err)
{
	const struct config *c = e->config;
	const struct policy *p;
	const char *name = in->policy;

	if (name == NULL) {
		struct select_input si = {
			.type = in->type,
			.severity = in->severity,
			.drill = in->drill,
			.mode = c->mode,
		};

		if (in->mode)
			select_mode_parse(in->mode, &si.mode);
		/* A broadcast follows the centre's own hours. */
		si.period = calendar_period_at(
			&c->calendar, select_reference_hours(&e->dir, NULL),
			(time_t)(clock_now_ms() / 1000));
		name = policy_select(&c->selection, &si);
	}
	if (name == NULL) {
		policy_default(ret);
		return 0;
	}
	p = policy_set_find(&c->policies, name);
	if (p == NULL)
		return alert_error_set(err, 400, "policy", "no policy \"%s\"",
				       name);
	*ret = *p;
	return 0;
}

static int persist_alert(struct engine *e, struct rt_alert *a,
			 const struct alert_input *in,
			 const char *operator_name, const struct plan *pl)
{
	struct store *s = e->store;
	sqlite3_stmt *st;
	char *targets = NULL, *snapshot = NULL, detail[320];
	json_t *arr = json_array();
	int r = -EIO;

	for (size_t i = 0; arr && i < in->n_targets; i++)
		json_array_append_new(arr, json_string(in->targets[i]));
	targets = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	snapshot = policy_to_json_string(&a->policy);
	if (targets == NULL || snapshot == NULL) {
		r = -ENOMEM;
		goto out;
	}
	st = store_stmt(s,
			"INSERT INTO alerts (id, title, body, type, severity,"
			" tlp, drill, targets, policy, policy_json, mode,"
			" state, created_at, created_by)"
			" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'active',"
			" ?, ?)");
	if (st == NULL)
		goto out;
	bind_str(st, 1, a->id);
	bind_str(st, 2, in->title);
	bind_str(st, 3, in->body);
	bind_str(st, 4, in->type);
	bind_str(st, 5, in->severity);
	bind_str(st, 6, tlp_name(in->tlp));
	sqlite3_bind_int(st, 7, in->drill);
	bind_str(st, 8, targets);
	bind_str(st, 9, a->policy.name);
	bind_str(st, 10, snapshot);
	bind_str(st, 11,
		 in->mode ? in->mode : select_mode_name(e->config->mode));
	sqlite3_bind_int64(st, 12, a->created_at);
	bind_str(st, 13, operator_name);
	if (step_ok(s, st) < 0)
		goto out;
	for (size_t i = 0; i < pl->n_orgs; i++) {
		st = store_stmt(s, "INSERT INTO alert_orgs (alert_id, org_id,"
				   " org_name, position, state, step, next_at)"
				   " VALUES (?, ?, ?, ?, 'pending', -1, ?)");
		if (st == NULL)
			goto out;
		bind_str(st, 1, a->id);
		bind_str(st, 2, pl->orgs[i]->id);
		bind_str(st, 3, pl->orgs[i]->name);
		sqlite3_bind_int(st, 4, (int)i);
		sqlite3_bind_int64(st, 5, a->created_at);
		if (step_ok(s, st) < 0)
			goto out;
	}
	snprintf(detail, sizeof(detail),
		 "%s %s %s%s to %zu organisations, policy %s", in->type,
		 in->severity, tlp_label(in->tlp), in->drill ? " drill" : "",
		 pl->n_orgs, a->policy.name);
	if (timeline_insert(s, &a->timeline, a->id, a->created_at,
			    operator_name, "accepted", NULL, NULL, detail) < 0)
		goto out;
	r = 0;
out:
	free(targets);
	free(snapshot);
	return r;
}

static struct rt_alert *alert_new(const char *id, const struct alert_input *in,
				  int64_t now, const struct plan *pl)
{
	struct rt_alert *a = calloc(1, sizeof(*a));
	bool oom = false;

	if (a == NULL)
		return NULL;
	LIST_INIT(&a->deliveries);
	a->id = dupz(id, &oom);
	a->title = dupz(in->title, &oom);
	a->body = dupz(in->body, &oom);
	a->type = dupz(in->type, &oom);
	a->severity = dupz(in->severity, &oom);
	a->tlp = in->tlp;
	a->drill = in->drill;
	a->created_at = now;
	a->next_seq = 1;
	timeline_head_init(&a->timeline);
	a->orgs = calloc(pl->n_orgs ? pl->n_orgs : 1, sizeof(*a->orgs));
	if (a->orgs == NULL)
		oom = true;
	for (size_t i = 0; !oom && i < pl->n_orgs; i++) {
		struct rt_org *o = &a->orgs[i];

		o->org_id = dupz(pl->orgs[i]->id, &oom);
		o->org_name = dupz(pl->orgs[i]->name, &oom);
		o->state = OSTATE_PENDING;
		o->step = -1;
		o->next_at = now;
		a->n_orgs++;
	}
	a->open_orgs = a->n_orgs;
	if (oom) {
		engine_alert_free(a);
		return NULL;
	}
	return a;
}

int engine_accept(struct engine *e, const struct alert_input *in,
		  const char *operator_name, char **ret_id,
		  struct alert_error *err)
{
	struct plan pl = {0};
	struct rt_alert *a = NULL;
	char id[32];
	int64_t now = clock_now_ms();
	int r;

	if (!e->accepting)
		return alert_error_set(err, 503, "", "shutting down");
	if (directory_refresh(e) < 0)
		return -EIO;
	r = planner_expand(&e->dir, in->targets, in->n_targets, &pl, err);
	if (r < 0)
		return r;
	if (new_alert_id(id, sizeof(id)) < 0) {
		r = -EIO;
		goto out;
	}
	a = alert_new(id, in, now, &pl);
	if (a == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = choose_policy(e, in, &a->policy, err);
	if (r < 0)
		goto out;
	/*
	 * The alert and its organisations commit first; the escalation
	 * tick then plans step 0 (at once when it is due at 0s) through the
	 * same path as every later step.
	 */
	writer_flush(e->writer);
	if (store_begin(e->store) < 0) {
		r = -EIO;
		goto out;
	}
	r = persist_alert(e, a, in, operator_name, &pl);
	if (r == 0)
		r = store_commit(e->store);
	if (r < 0) {
		store_rollback(e->store);
		goto out;
	}
	LIST_INSERT_HEAD(&e->alerts, a, link);
	metrics_alert_accepted(e->metrics, in->drill);
	log_info("alert %s: accepted from %s: %zu organisations, policy %s", id,
		 operator_name, pl.n_orgs, a->policy.name);
	*ret_id = strdup(id);
	a = NULL;
	if (*ret_id == NULL)
		r = -ENOMEM;
	/* Plan and send step 0 now rather than at the next tick. */
	escalation_run(e);
out:
	engine_alert_free(a);
	plan_free(&pl);
	return r;
}

/* Answers -EALREADY for a finished alert, -ENOENT for an unknown one. */
static int cancel_finished(struct engine *e, const char *id)
{
	sqlite3_stmt *st =
		store_stmt(e->store, "SELECT state FROM alerts WHERE id = ?");
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

/*
 * Plans a cancellation notice to every contact method that was sent the
 * alert: one per (contact, method), from the store, since sent
 * deliveries are no longer in memory.
 */
static int plan_cancel_notices(struct engine *e, struct rt_alert *a)
{
	sqlite3_stmt *st =
		store_stmt(e->store, "SELECT DISTINCT org_id, contact_id,"
				     " channel, address FROM deliveries"
				     " WHERE alert_id = ? AND state = 'sent'"
				     " AND kind = 'alert'");
	struct planned *list = NULL;
	size_t n = 0, cap = 0;
	int r = 0, rc;

	if (st == NULL || directory_refresh(e) < 0)
		return -EIO;
	sqlite3_bind_text(st, 1, a->id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && r == 0) {
		const char *org = (const char *)sqlite3_column_text(st, 0);
		const char *cid = (const char *)sqlite3_column_text(st, 1);
		const char *addr = (const char *)sqlite3_column_text(st, 3);
		const struct dir_org *o = directory_org(e, org);
		size_t pos;

		if (o == NULL)
			continue;
		for (pos = 0; pos < a->n_orgs; pos++)
			if (strcmp(a->orgs[pos].org_id, org) == 0)
				break;
		if (pos == a->n_orgs)
			continue;
		/* The directory's contact method with this address. */
		for (size_t ci = 0; ci < o->n_contacts; ci++) {
			const struct dir_contact *c = &o->contacts[ci];

			if (strcmp(c->id, cid) != 0)
				continue;
			for (size_t mi = 0; mi < c->n_methods; mi++) {
				struct planned p = {
					.org = pos,
					.contact = c,
					.method = &c->methods[mi],
					.step = -1,
					.kind = DKIND_CANCEL,
				};

				if (strcmp(c->methods[mi].address, addr) != 0)
					continue;
				r = push(&list, &n, &cap, &p);
				break;
			}
		}
	}
	sqlite3_reset(st);
	if (r == 0)
		r = plan_commit(e, a, list, n);
	free(list);
	return r;
}

int engine_cancel(struct engine *e, const char *alert_id, bool notify,
		  const char *operator_name)
{
	struct rt_alert *a = engine_alert_find(e, alert_id);
	struct rt_delivery *d, *next;
	int64_t now = clock_now_ms();

	if (a == NULL || a->finished)
		return a ? -EALREADY : cancel_finished(e, alert_id);
	a->cancelled = true;
	writer_alert_state(e->writer, a->id, "cancelled", now);
	engine_event(e, a, operator_name, "cancelled", NULL, NULL,
		     "cancelled by %s%s", operator_name,
		     notify ? ", notice to everyone notified" : "");
	log_info("alert %s: cancelled by %s", a->id, operator_name);
	a->busy = true;
	for (d = LIST_FIRST(&a->deliveries); d != NULL; d = next) {
		next = LIST_NEXT(d, alink);
		if (d->kind == DKIND_ALERT)
			sched_cancel_delivery(d, "alert cancelled");
	}
	for (size_t i = 0; i < a->n_orgs; i++)
		if (!a->orgs[i].closed)
			escalation_close_org(e, a, &a->orgs[i],
					     OSTATE_CANCELLED);
	if (notify && plan_cancel_notices(e, a) < 0)
		log_warnx("alert %s: could not plan the cancellation notices",
			  a->id);
	a->busy = false;
	escalation_maybe_release(e, a);
	return 0;
}
