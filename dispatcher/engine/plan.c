/*
 * Planning: see plan.h. A step is planned in two halves. plan_org_step
 * asks the policy which contacts and methods of one organisation a step
 * reaches and marks those that may not be sent (TLP above the method's
 * ceiling, no such channel configured). plan_commit then writes every
 * planned delivery, its reply-link row and its timeline rows in one
 * transaction, interleaving organisations so that each gets its first
 * delivery before any gets its second, and only once that is durable
 * builds the deliveries (plan_delivery_add) and queues them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/crypto.h"
#include "common/log.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/dircache.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/notice.h"
#include "dispatcher/engine/plan.h"
#include "dispatcher/engine/scheduler.h"
#include "dispatcher/engine/token.h"
#include "policies/calendar.h"

static bool has_channel(struct engine *e, enum dir_channel c)
{
	return model_channel_find(e, dir_channel_name(c)) != NULL;
}

static bool holiday_first(struct engine *e, const struct rt_alert *a,
			  const struct dir_org *o)
{
	enum calendar_period p =
		calendar_period_at(&e->config->calendar, &o->hours,
				   (time_t)(clock_now_ms() / 1000));

	return policy_holiday_first(&a->policy, p);
}

int plan_push(struct planned **list, size_t *n, size_t *cap,
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
	const struct dir_org *o = dircache_org(e, a->orgs[pos].org_id);
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
		if (plan_push(list, n, cap, &p) < 0) {
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

/* Fills a delivery's message; its strings point into d and its alert. */
static void message_init(struct rt_delivery *d)
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
		.thread_key = d->thread_key,
		.created_at = a->created_at / 1000,
	};
}

struct rt_delivery *plan_delivery_add(struct engine *e, struct rt_alert *a,
				      const struct plan_delivery *s)
{
	struct rt_delivery *d = calloc(1, sizeof(*d));
	struct rt_org *o = s->org;
	bool oom = false;

	if (d == NULL)
		return NULL;
	d->id = dupz(s->id, &oom);
	d->alert = a;
	d->org = o;
	d->ch = s->ch;
	d->contact_id = dupz(s->contact_id, &oom);
	d->contact_name = dupz(s->contact_name, &oom);
	d->language = dupz(s->language ? s->language : "ja", &oom);
	d->address = dupz(s->address, &oom);
	d->charset = dupz(s->charset, &oom);
	d->kind = s->kind;
	d->step = s->step;
	d->rank = s->rank;
	d->attempts = s->attempts;
	if (s->thread_key != NULL)
		d->thread_key = dupz(s->thread_key, &oom);
	if (s->kind == DKIND_ALERT && !oom) {
		char token[33];

		token_make(e, a->id, o->org_id, d->contact_id, token);
		if (asprintf(&d->ack_url, "%s/ack/%s", e->config->public_url,
			     token) < 0) {
			d->ack_url = NULL;
			oom = true;
		}
		explicit_bzero(token, sizeof(token));
	} else if (s->kind == DKIND_UNREACHABLE &&
		   notice_duty_text(a, &d->title, &d->body) < 0) {
		oom = true;
	}
	if (oom) {
		model_delivery_free(d);
		return NULL;
	}
	message_init(d);
	LIST_INSERT_HEAD(&a->deliveries, d, alink);
	a->unfinished++;
	if (s->kind == DKIND_ALERT) {
		o->unfinished++;
		if (s->step == o->step)
			o->step_unfinished++;
	}
	return d;
}

int plan_duty_org(struct engine *e, struct rt_alert *a, const char *org_id)
{
	const struct dir_org *g = dircache_org(e, org_id);
	bool oom = false;

	if (a->duty.org_id != NULL)
		return 0;
	a->duty.org_id = dupz(org_id, &oom);
	a->duty.org_name = dupz(g ? g->name : org_id, &oom);
	a->duty.state = OSTATE_NOTIFIED;
	return oom ? -ENOMEM : 0;
}

/* Adds the rows of the planned deliveries to b, with their timeline. */
static int persist_planned(struct engine *e, struct rt_alert *a,
			   const struct planned *list, size_t n, int64_t now,
			   struct store_batch *b)
{
	char did[96], why[160];

	for (size_t i = 0; i < n; i++) {
		const struct planned *p = &list[i];
		const struct rt_org *o = model_org(a, p->org);
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
					    .kind = dkind_name(p->kind),
				    }}) < 0)
			return -ENOMEM;
		if (p->skip_reason) {
			if (timeline_add(b, &a->timeline, a->id, now, "engine",
					 "skipped", o->org_id, did, why) < 0)
				return -ENOMEM;
			continue;
		}
		if (p->kind == DKIND_ALERT) {
			char token[33], hash[65];

			token_make(e, a->id, o->org_id, p->contact->id, token);
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
	int64_t now = clock_now_ms();
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
		struct rt_org *o = model_org(a, p->org);
		struct rt_delivery *d;

		snprintf(did, sizeof(did), "%s-%d", a->id,
			 a->next_seq + (int)i);
		if (p->skip_reason)
			continue;
		d = plan_delivery_add(
			e, a,
			&(struct plan_delivery){
				.id = did,
				.org = o,
				.ch = model_channel_find(
					e,
					dir_channel_name(p->method->channel)),
				.contact_id = p->contact->id,
				.contact_name = p->contact->name,
				.language = p->contact->language,
				.address = p->method->address,
				.charset = dir_charset_name(p->method->charset),
				.kind = p->kind,
				.step = p->step,
				.rank = a->next_seq + (int)i,
				.thread_key = p->thread_key,
			});
		if (d == NULL) {
			/* On disk: the next start sends it. */
			log_warnx(
				"alert %s delivery %s: out of memory; it will "
				"be sent after a restart",
				a->id, did);
			continue;
		}
		if (p->kind == DKIND_ALERT) {
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
