/*
 * Intake: accepting an alert and cancelling one (engine_accept and
 * engine_cancel of engine.h). Accepting expands the targets, chooses the
 * escalation policy and copies it into the alert, and commits the alert,
 * its organisations and its first timeline row in one transaction; it
 * then schedules the escalation tick for now, which plans step 0 on the
 * next turn of the loop through the same path as every later step
 * (escalation.c, plan.c). Cancelling withdraws what waits, closes the
 * organisations and may plan a cancellation notice to everyone notified.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "common/crypto.h"
#include "common/log.h"
#include "dispatcher/engine/calendar_watch.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/dircache.h"
#include "dispatcher/engine/escalation.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/plan.h"
#include "dispatcher/engine/planner.h"
#include "dispatcher/engine/scheduler.h"
#include "policies/calendar.h"
#include "policies/select.h"

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
		calendar_watch_guess(e, "policy selection");
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

/* Adds the alert, its organisations and its first timeline row to b. */
static int persist_alert(struct engine *e, struct rt_alert *a,
			 const struct alert_input *in,
			 const char *operator_name, const struct plan *pl,
			 struct store_batch *b)
{
	char *targets = NULL, *snapshot = NULL, detail[320];
	json_t *arr = json_array();
	int r = -ENOMEM;

	for (size_t i = 0; arr && i < in->n_targets; i++)
		json_array_append_new(arr, json_string(in->targets[i]));
	targets = arr ? json_dumps(arr, JSON_COMPACT) : NULL;
	json_decref(arr);
	snapshot = policy_to_json_string(&a->policy);
	if (targets == NULL || snapshot == NULL)
		goto out;
	if (store_batch_add(
		    b,
		    &(struct store_op){
			    .kind = STORE_OP_ALERT_NEW,
			    .alert_new = {
				    .id = a->id,
				    .title = in->title,
				    .body = in->body,
				    .type = in->type,
				    .severity = in->severity,
				    .tlp = tlp_name(in->tlp),
				    .drill = in->drill,
				    .targets = targets,
				    .policy = a->policy.name,
				    .policy_json = snapshot,
				    .mode = in->mode ? in->mode
						     : select_mode_name(
							       e->config->mode),
				    .created_at = a->created_at,
				    .created_by = operator_name,
			    }}) < 0)
		goto out;
	for (size_t i = 0; i < pl->n_orgs; i++)
		if (store_batch_add(
			    b, &(struct store_op){
				       .kind = STORE_OP_ORG_NEW,
				       .org_new = {
					       .alert_id = a->id,
					       .org_id = pl->orgs[i]->id,
					       .org_name = pl->orgs[i]->name,
					       .position = (int)i,
					       .next_at = a->created_at,
				       }}) < 0)
			goto out;
	snprintf(detail, sizeof(detail),
		 "%s %s %s%s to %zu organisations, policy %s", in->type,
		 in->severity, tlp_label(in->tlp), in->drill ? " drill" : "",
		 pl->n_orgs, a->policy.name);
	if (timeline_add(b, &a->timeline, a->id, a->created_at, operator_name,
			 "accepted", NULL, NULL, detail) < 0)
		goto out;
	r = 0;
out:
	free(targets);
	free(snapshot);
	return r;
}

static char *dupz(const char *s, bool *oom)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		*oom = true;
	return p;
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
		model_alert_free(a);
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
	struct store_batch batch = {0};
	char id[32];
	int64_t now = clock_now_ms();
	int r;

	if (!e->accepting)
		return alert_error_set(err, 503, "", "shutting down");
	if (dircache_refresh(e) < 0)
		return -EIO;
	r = planner_expand(&e->dir, in->targets, in->n_targets, &pl, err);
	if (r < 0)
		return r;
	if (in->id != NULL && strlen(in->id) < sizeof(id)) {
		/* CAP intake's id, stable for one message (cap.h). */
		strcpy(id, in->id);
	} else if (new_alert_id(id, sizeof(id)) < 0) {
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
	r = persist_alert(e, a, in, operator_name, &pl, &batch);
	if (r == 0)
		r = writer_apply_now(e->writer, &batch);
	if (r < 0) {
		if (r != -ENOMEM)
			r = -EIO;
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
	/*
	 * Step 0 is planned and sent on the next turn of the loop, not
	 * inside this call: the caller gets its answer first, and nothing
	 * here walks the alerts while escalation changes them.
	 */
	escalation_schedule(e);
out:
	store_batch_free(&batch);
	model_alert_free(a);
	plan_free(&pl);
	return r;
}

/* Answers -EALREADY for a finished alert, -ENOENT for an unknown one. */
static int cancel_finished(struct engine *e, const char *id)
{
	char state[32];
	int r = store_alert_state(e->store, id, state, sizeof(state));

	if (r == 0 || r == -ENOBUFS)
		return -EALREADY;
	return r == -ENOENT ? -ENOENT : -EIO;
}

/* The notices planned so far while the sent methods come from the store. */
struct cancel_plan {
	struct engine *e;
	struct rt_alert *a;
	struct planned *list;
	size_t n, cap;
	char **keys; /* owned copies of the thread keys the list points to */
	size_t n_keys;
};

static int cancel_notice_row(void *arg, const struct store_method_row *row)
{
	struct cancel_plan *cp = arg;
	struct rt_alert *a = cp->a;
	const char *org = row->org_id, *cid = row->contact_id;
	const char *addr = row->address;
	const struct dir_org *o;
	size_t pos;
	int r = 0;

	if (org == NULL || cid == NULL || addr == NULL)
		return 0;
	o = dircache_org(cp->e, org);
	if (o == NULL)
		return 0;
	for (pos = 0; pos < a->n_orgs; pos++)
		if (strcmp(a->orgs[pos].org_id, org) == 0)
			break;
	if (pos == a->n_orgs)
		return 0;
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
			/* The row's text lives only during this call. */
			if (row->first_id != NULL) {
				char **k = realloc(cp->keys, (cp->n_keys +
							      1) * sizeof(*k));

				if (k == NULL)
					return -ENOMEM;
				cp->keys = k;
				k[cp->n_keys] = strdup(row->first_id);
				if (k[cp->n_keys] == NULL)
					return -ENOMEM;
				p.thread_key = k[cp->n_keys++];
			}
			r = plan_push(&cp->list, &cp->n, &cp->cap, &p);
			break;
		}
	}
	return r;
}

/*
 * Plans a cancellation notice to every contact method that was sent the
 * alert: one per (contact, method), from the store, since sent
 * deliveries are no longer in memory.
 */
static int cancel_notices(struct engine *e, struct rt_alert *a)
{
	struct cancel_plan cp = {.e = e, .a = a};
	int r;

	if (dircache_refresh(e) < 0)
		return -EIO;
	r = store_alert_sent_methods(e->store, a->id, cancel_notice_row, &cp);
	if (r == 0)
		r = plan_commit(e, a, cp.list, cp.n);
	free(cp.list);
	for (size_t i = 0; i < cp.n_keys; i++)
		free(cp.keys[i]);
	free(cp.keys);
	return r;
}

int engine_cancel(struct engine *e, const char *alert_id, bool notify,
		  const char *operator_name)
{
	struct rt_alert *a = model_alert_find(e, alert_id);
	struct rt_delivery *d, *next;
	int64_t now = clock_now_ms();

	if (a == NULL || a->finished)
		return a ? -EALREADY : cancel_finished(e, alert_id);
	a->cancelled = true;
	writer_alert_state(e->writer, a->id, "cancelled", now);
	model_event(e, a, operator_name, "cancelled", NULL, NULL,
		    "cancelled by %s%s", operator_name,
		    notify ? ", notice to everyone notified" : "");
	log_info("alert %s: cancelled by %s", a->id, operator_name);
	for (d = LIST_FIRST(&a->deliveries); d != NULL; d = next) {
		next = LIST_NEXT(d, alink);
		if (d->kind == DKIND_ALERT)
			sched_cancel_delivery(d, "alert cancelled");
	}
	for (size_t i = 0; i < a->n_orgs; i++)
		if (!a->orgs[i].closed)
			escalation_close_org(e, a, &a->orgs[i],
					     OSTATE_CANCELLED);
	if (notify && cancel_notices(e, a) < 0)
		log_warnx("alert %s: could not plan the cancellation notices",
			  a->id);
	model_alert_release(e, a);
	return 0;
}
