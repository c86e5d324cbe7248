/*
 * Recovery: after a start, every alert that is active or still has
 * deliveries to send is read back from the store: its policy snapshot,
 * its organisations with the step each reached and who confirmed, and
 * its unfinished deliveries, which are queued again. The escalation
 * timer then asks each policy what is due, so a step that fell due while
 * the daemon was down runs at once.
 *
 * Reloaded deliveries are built by plan.c's one constructor, as planned
 * ones are: the same reply link, the same notice text, the same message.
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
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/plan.h"
#include "dispatcher/engine/recovery.h"
#include "dispatcher/engine/scheduler.h"

/* A copy of a row's text ("" for NULL); sets *oom when out of memory. */
static char *col(const char *t, bool *oom)
{
	char *p = strdup(t ? t : "");

	if (p == NULL)
		*oom = true;
	return p;
}

static const char *text(const char *t)
{
	return t ? t : "";
}

static int load_alert_row(void *arg, const struct store_alert_row *row)
{
	struct engine *e = arg;
	struct rt_alert *a = calloc(1, sizeof(*a));
	bool oom = false;

	if (a == NULL)
		return -ENOMEM;
	LIST_INIT(&a->deliveries);
	/* Newest first from the store, so the list ends oldest first. */
	LIST_INSERT_HEAD(&e->alerts, a, link);
	a->id = col(row->id, &oom);
	a->title = col(row->title, &oom);
	a->body = col(row->body, &oom);
	a->type = col(row->type, &oom);
	a->severity = col(row->severity, &oom);
	tlp_parse(text(row->tlp), &a->tlp);
	a->drill = row->drill;
	a->created_at = row->created_at;
	if (policy_from_json_string(text(row->policy_json), &a->policy) < 0)
		policy_default(&a->policy);
	a->finished = strcmp(text(row->state), "active") != 0;
	a->cancelled = strcmp(text(row->state), "cancelled") == 0;
	return oom ? -ENOMEM : 0;
}

static int load_alerts(struct engine *e)
{
	return store_recovery_alerts(e->store, load_alert_row, e);
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

/*
 * An alert's organisations sorted by id, for the lookups of a reload: one
 * per delivery and per reached contact, so a linear search made the
 * restart quadratic in the size of the alert.
 */
struct org_index {
	struct rt_org **by_id; /* owned array; the orgs are the alert's */
	size_t n;
};

static int org_index_cmp(const void *x, const void *y)
{
	const struct rt_org *const *a = x, *const *b = y;

	return strcmp((*a)->org_id, (*b)->org_id);
}

/* Indexes a->orgs, which must not move while the index is used. */
static int org_index_build(struct org_index *ix, struct rt_alert *a)
{
	ix->by_id = calloc(a->n_orgs ? a->n_orgs : 1, sizeof(*ix->by_id));
	if (ix->by_id == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < a->n_orgs; i++)
		ix->by_id[i] = &a->orgs[i];
	ix->n = a->n_orgs;
	qsort(ix->by_id, ix->n, sizeof(*ix->by_id), org_index_cmp);
	return 0;
}

static void org_index_free(struct org_index *ix)
{
	free(ix->by_id);
	ix->by_id = NULL;
	ix->n = 0;
}

/* alert_orgs' key makes an id unique within its alert. */
static struct rt_org *org_by_id(const struct org_index *ix, const char *id)
{
	size_t lo = 0, hi = ix->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(id, ix->by_id[mid]->org_id);

		if (c == 0)
			return ix->by_id[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* An alert whose organisations are being read, and the room counted. */
struct org_load {
	struct rt_alert *a;
	size_t cap;
};

static int load_org_row(void *arg, const struct store_org_row *row)
{
	struct org_load *l = arg;
	struct rt_alert *a = l->a;
	struct rt_org *o;
	bool oom = false;

	if (a->n_orgs == l->cap)
		return 0; /* more than counted: a concurrent writer */
	o = &a->orgs[a->n_orgs++];
	o->org_id = col(row->org_id, &oom);
	o->org_name = col(row->org_name, &oom);
	/* An unknown word (a newer version's) reads as pending. */
	if (ostate_parse(text(row->state), &o->state) < 0)
		o->state = OSTATE_PENDING;
	o->step = row->step;
	o->closed = o->state == OSTATE_ACKNOWLEDGED ||
		    o->state == OSTATE_UNREACHABLE ||
		    o->state == OSTATE_CANCELLED;
	/* Ask the policy at once: it counts from acceptance. */
	o->next_at = 0;
	if (!o->closed)
		a->open_orgs++;
	return oom ? -ENOMEM : 0;
}

/* Reached: a sendable alert delivery was planned to the contact. */
static int load_reach_row(void *arg, const struct store_reach_row *row)
{
	const struct org_index *ix = arg;
	struct rt_org *o = org_by_id(ix, text(row->org_id));
	const char *cid = text(row->contact_id);
	bool seen;

	if (o == NULL)
		return 0;
	/*
	 * Rows come by org and contact, so a contact reached in several
	 * steps repeats the last one added: a scan of the whole list was
	 * quadratic in an organisation's contacts.
	 */
	seen = o->n_targeted > 0 &&
	       strcmp(o->targeted[o->n_targeted - 1], cid) == 0;
	if (!seen && add_id(&o->targeted, &o->n_targeted, cid) < 0)
		return -ENOMEM;
	o->sent += (size_t)row->sent;
	if (row->step == o->step)
		o->step_sent += (size_t)row->sent;
	return 0;
}

static int load_confirmed_row(void *arg, const struct store_contact_row *row)
{
	const struct org_index *ix = arg;
	struct rt_org *o = org_by_id(ix, text(row->org_id));

	if (o == NULL)
		return 0;
	if (add_id(&o->confirmed, &o->n_confirmed, text(row->contact_id)) < 0)
		return -ENOMEM;
	o->confirmations++;
	return 0;
}

/*
 * The organisations, their steps, who was reached and who confirmed.
 * Fills ix (the caller frees it) for the deliveries that follow.
 */
static int load_orgs(struct engine *e, struct rt_alert *a, struct org_index *ix)
{
	size_t n = 0;
	int r;

	r = store_alert_org_count(e->store, a->id, &n);
	if (r < 0)
		return r;
	a->orgs = calloc(n ? n : 1, sizeof(*a->orgs));
	if (a->orgs == NULL)
		return -ENOMEM;
	r = store_alert_orgs(e->store, a->id, load_org_row,
			     &(struct org_load){.a = a, .cap = n});
	if (r == 0)
		r = org_index_build(ix, a);
	if (r == 0)
		r = store_alert_reached(e->store, a->id, load_reach_row, ix);
	if (r == 0)
		r = store_alert_confirmations(e->store, a->id,
					      load_confirmed_row, ix);
	if (r == 0)
		r = store_alert_delivery_count(e->store, a->id, &n);
	if (r == 0)
		a->next_seq = (int)n + 1;
	return r;
}

/* An alert whose unfinished deliveries are being queued again. */
struct delivery_load {
	struct engine *e;
	struct rt_alert *a;
	const struct org_index *ix;
	int64_t now;
	size_t count;
};

static int load_delivery_row(void *arg, const struct store_delivery_row *row)
{
	struct delivery_load *l = arg;
	struct engine *e = l->e;
	struct rt_alert *a = l->a;
	struct rt_channel *c = model_channel_find(e, text(row->channel));
	const char *state = text(row->state);
	struct rt_org *o;
	struct rt_delivery *d;
	enum dkind kind;
	int64_t next_at = 0;

	/* An unknown kind is sent as the alert, as before. */
	if (dkind_parse(text(row->kind), &kind) < 0)
		kind = DKIND_ALERT;
	if (kind == DKIND_UNREACHABLE) {
		if (plan_duty_org(e, a, text(row->org_id)) < 0)
			return -ENOMEM;
		o = &a->duty;
	} else {
		o = org_by_id(l->ix, text(row->org_id));
	}
	if (o == NULL)
		return 0;
	if (c == NULL) {
		/* Its channel left the config: nothing can send it. */
		writer_delivery_state(
			e->writer, text(row->id), "failed", row->attempts, -1,
			"its channel is no longer configured", -1, NULL, NULL);
		return 0;
	}
	d = plan_delivery_add(e, a,
			      &(struct plan_delivery){
				      .id = row->id,
				      .org = o,
				      .ch = c,
				      .contact_id = row->contact_id,
				      .contact_name = row->contact_name,
				      .language = row->language,
				      .address = row->address,
				      .charset = row->charset,
				      .kind = kind,
				      .step = row->step,
				      .rank = row->rank,
				      .attempts = row->attempts,
			      });
	if (d == NULL)
		return -ENOMEM;
	if (strcmp(state, "sending") == 0) {
		writer_attempt(e->writer, d->id, d->attempts, l->now, l->now,
			       "unknown", 0,
			       "interrupted: the engine stopped before "
			       "the outcome was known",
			       NULL);
		model_event(e, a, "engine", "resend", d->org->org_id, d->id,
			    "outcome unknown after a restart: sent "
			    "again with the same key");
	} else if (strcmp(state, "retry_wait") == 0 &&
		   row->next_at != STORE_NONE) {
		next_at = row->next_at;
	}
	sched_enqueue(d, next_at);
	l->count++;
	return 0;
}

/* Loads one alert's unfinished deliveries and queues them in rank order. */
static int load_deliveries(struct engine *e, struct rt_alert *a,
			   const struct org_index *ix, size_t *ret_count)
{
	struct delivery_load l = {
		.e = e, .a = a, .ix = ix, .now = clock_now_ms()};
	int r;

	r = store_alert_unfinished(e->store, a->id, load_delivery_row, &l);
	*ret_count += l.count;
	return r;
}

static int thread_row(void *arg, const struct store_method_row *row)
{
	struct rt_alert *a = arg;
	struct rt_delivery *d;

	if (row->first_id == NULL)
		return 0;
	LIST_FOREACH(d, &a->deliveries, alink)
	{
		if (d->kind != DKIND_CANCEL || d->thread_key != NULL ||
		    strcmp(d->contact_id, text(row->contact_id)) != 0 ||
		    strcmp(d->address, text(row->address)) != 0 ||
		    strcmp(d->ch->cfg->name, text(row->channel)) != 0)
			continue;
		d->thread_key = strdup(row->first_id);
		if (d->thread_key == NULL)
			return -ENOMEM;
		d->msg.thread_key = d->thread_key;
	}
	return 0;
}

/*
 * Cancellation notices reloaded after a restart name the first report to
 * their address again (mail's In-Reply-To), as when they were planned;
 * the store knows which delivery that was.
 */
static int thread_notices(struct engine *e, struct rt_alert *a)
{
	struct rt_delivery *d;

	LIST_FOREACH(d, &a->deliveries, alink)
	if (d->kind == DKIND_CANCEL)
		return store_alert_sent_methods(e->store, a->id, thread_row, a);
	return 0;
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
		struct org_index ix = {0};

		next = LIST_NEXT(a, link);
		r = timeline_head_load(e->store, a->id, &a->timeline);
		if (r == 0)
			r = load_orgs(e, a, &ix);
		if (r == 0)
			r = load_deliveries(e, a, &ix, &count);
		if (r == 0)
			r = thread_notices(e, a);
		org_index_free(&ix);
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
		model_alert_release(e, a);
	}
	if (alerts > 0)
		log_info("recovery: %zu alerts reloaded, %zu deliveries queued "
			 "again",
			 alerts, count);
	return 0;
}
