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
#include "common/timefmt.h"
#include "policies/calendar.h"
#include "policies/select.h"

int directory_refresh(struct engine *e)
{
	int64_t version = -1;
	struct directory d = {0};

	if (store_data_version(e->store, &version) < 0)
		version = -1;
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
	time_t now = time(NULL);
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

static bool holiday_first(struct engine *e, const struct rt_alert *a,
			  const struct dir_org *o)
{
	enum calendar_period p =
		calendar_period_at(&e->config->calendar, &o->hours,
				   (time_t)(time_now_ms() / 1000));

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
			.kind = "alert",
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
	if (strcmp(p->kind, "alert") == 0) {
		char token[33];

		ack_token(e, a->id, o->org_id, p->contact->id, token);
		if (asprintf(&d->ack_url, "%s/ack/%s", e->config->public_url,
			     token) < 0) {
			d->ack_url = NULL;
			oom = true;
		}
		explicit_bzero(token, sizeof(token));
	} else if (strcmp(p->kind, "unreachable") == 0 &&
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

/* Adds the rows of the planned deliveries to b, with their timeline. */
static int persist_planned(struct engine *e, struct rt_alert *a,
			   const struct planned *list, size_t n, int64_t now,
			   struct store_batch *b)
{
	char did[96], why[160];

	for (size_t i = 0; i < n; i++) {
		const struct planned *p = &list[i];
		const struct rt_org *o = alert_org(a, p->org);
		const char *language =
			p->contact->language ? p->contact->language : "ja";

		snprintf(did, sizeof(did), "%s-%d", a->id,
			 a->next_seq + (int)i);
		if (p->skip_reason)
			skip_words(a, p, why, sizeof(why));
		if (store_batch_add(
			    b,
			    &(struct store_op){
				    .kind = STORE_OP_DELIVERY_NEW,
				    .delivery_new = {
					    .id = did,
					    .alert_id = a->id,
					    .org_id = o->org_id,
					    .contact_id = p->contact->id,
					    .contact_name = p->contact->name,
					    .language = language,
					    .channel = dir_channel_name(
						    p->method->channel),
					    .address = p->method->address,
					    .charset = dir_charset_name(
						    p->method->charset),
					    .step = p->step,
					    .rank = a->next_seq + (int)i,
					    .state = p->skip_reason ? "skipped"
								    : "queued",
					    .reason =
						    p->skip_reason ? why : NULL,
					    .kind = p->kind,
				    }}) < 0)
			return -ENOMEM;
		if (p->skip_reason) {
			if (timeline_add(b, &a->timeline, a->id, now, "engine",
					 "skipped", o->org_id, did, why) < 0)
				return -ENOMEM;
			continue;
		}
		if (strcmp(p->kind, "alert") == 0) {
			char token[33], hash[65];

			ack_token(e, a->id, o->org_id, p->contact->id, token);
			crypto_sha256_hex(token, strlen(token), hash);
			explicit_bzero(token, sizeof(token));
			if (store_batch_add(
				    b, &(struct store_op){
					       .kind = STORE_OP_ACK_TOKEN_NEW,
					       .ack_token_new = {
						       .token_hash = hash,
						       .alert_id = a->id,
						       .org_id = o->org_id,
						       .position = (int)p->org,
						       .contact_id =
							       p->contact->id,
						       .contact_name =
							       p->contact->name,
						       .language = language,
					       }}) < 0)
				return -ENOMEM;
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
	int64_t now = time_now_ms();
	struct store_batch batch = {0};
	char did[96];
	int r;
	struct planned *list;

	if (n == 0)
		return 0;
	list = interleave(given, n);
	if (list == NULL)
		return -ENOMEM;
	/* The writer's queue goes first so the timeline stays in order. */
	r = persist_planned(e, a, list, n, now, &batch);
	if (r == 0)
		r = writer_apply_now(e->writer, &batch);
	store_batch_free(&batch);
	if (r < 0) {
		a->timeline = saved;
		free(list);
		return r == -ENOMEM ? r : -EIO;
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
		if (strcmp(p->kind, "alert") == 0) {
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
		.kind = d->kind,
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
			(time_t)(time_now_ms() / 1000));
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
		o->state = "pending";
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
	struct store_batch batch = {0};
	char id[32];
	int64_t now = time_now_ms();
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
	/* Plan and send step 0 now rather than at the next tick. */
	escalation_run(e);
out:
	store_batch_free(&batch);
	engine_alert_free(a);
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
	o = directory_org(cp->e, org);
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
				.kind = "cancel",
			};

			if (strcmp(c->methods[mi].address, addr) != 0)
				continue;
			r = push(&cp->list, &cp->n, &cp->cap, &p);
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
static int plan_cancel_notices(struct engine *e, struct rt_alert *a)
{
	struct cancel_plan cp = {.e = e, .a = a};
	int r;

	if (directory_refresh(e) < 0)
		return -EIO;
	r = store_alert_sent_methods(e->store, a->id, cancel_notice_row, &cp);
	if (r == 0)
		r = plan_commit(e, a, cp.list, cp.n);
	free(cp.list);
	return r;
}

int engine_cancel(struct engine *e, const char *alert_id, bool notify,
		  const char *operator_name)
{
	struct rt_alert *a = engine_alert_find(e, alert_id);
	struct rt_delivery *d, *next;
	int64_t now = time_now_ms();

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
		if (strcmp(d->kind, "alert") == 0)
			sched_cancel_delivery(d, "alert cancelled");
	}
	for (size_t i = 0; i < a->n_orgs; i++)
		if (!a->orgs[i].closed)
			escalation_close_org(e, a, &a->orgs[i], "cancelled");
	if (notify && plan_cancel_notices(e, a) < 0)
		log_warnx("alert %s: could not plan the cancellation notices",
			  a->id);
	a->busy = false;
	escalation_maybe_release(e, a);
	return 0;
}
