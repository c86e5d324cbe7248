/*
 * The engine's in-memory model (model.h): the names of its enumerations,
 * allocation and freeing, look-ups, the kept timeline heads, timeline
 * events, and the deferred release of finished alerts.
 *
 * Delivery states, organisation states and delivery kinds are enums in
 * memory, compared as numbers; the store, the timeline, status and the
 * drivers see their words, which are part of the outside contract and
 * must never change.
 *
 * A finished alert is never freed where it is noticed: that may be deep
 * in a walk over the alerts or over the alert's deliveries (a settling
 * delivery, a closing organisation). model_alert_release() arms a timer
 * for now instead, and its callback, on the next turn of the loop, frees
 * whatever is finished by then.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/model.h"

static const char *const dstate_names[] = {
	[DSTATE_QUEUED] = "queued",	    [DSTATE_SENDING] = "sending",
	[DSTATE_RETRY_WAIT] = "retry_wait", [DSTATE_SENT] = "sent",
	[DSTATE_FAILED] = "failed",	    [DSTATE_SKIPPED] = "skipped",
	[DSTATE_CANCELLED] = "cancelled",
};

static const char *const ostate_names[] = {
	[OSTATE_PENDING] = "pending",
	[OSTATE_NOTIFIED] = "notified",
	[OSTATE_ESCALATED] = "escalated",
	[OSTATE_ACKNOWLEDGED] = "acknowledged",
	[OSTATE_UNREACHABLE] = "unreachable",
	[OSTATE_CANCELLED] = "cancelled",
};

static const char *const dkind_names[] = {
	[DKIND_ALERT] = "alert",
	[DKIND_CANCEL] = "cancel",
	[DKIND_UNREACHABLE] = "unreachable",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The position of s in names, or -1. */
static int find(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *dstate_name(enum dstate s)
{
	return dstate_names[s];
}

const char *ostate_name(enum ostate s)
{
	return ostate_names[s];
}

int ostate_parse(const char *s, enum ostate *ret)
{
	int i = find(ostate_names, COUNT(ostate_names), s);

	if (i < 0)
		return -EINVAL;
	*ret = (enum ostate)i;
	return 0;
}

const char *dkind_name(enum dkind k)
{
	return dkind_names[k];
}

int dkind_parse(const char *s, enum dkind *ret)
{
	int i = find(dkind_names, COUNT(dkind_names), s);

	if (i < 0)
		return -EINVAL;
	*ret = (enum dkind)i;
	return 0;
}

struct rt_alert *model_alert_find(struct engine *e, const char *id)
{
	struct rt_alert *a;

	LIST_FOREACH(a, &e->alerts, link)
	if (strcmp(a->id, id) == 0)
		return a;
	return NULL;
}

void model_delivery_free(struct rt_delivery *d)
{
	if (d == NULL)
		return;
	timer_free(d->timer);
	free(d->id);
	free(d->contact_id);
	free(d->contact_name);
	free(d->language);
	free(d->address);
	free(d->charset);
	free(d->ack_url);
	free(d->title);
	free(d->body);
	free(d->thread_key);
	free(d);
}

static void rt_org_fini(struct rt_org *o)
{
	free(o->org_id);
	free(o->org_name);
	for (size_t i = 0; i < o->n_targeted; i++)
		free(o->targeted[i]);
	free(o->targeted);
	for (size_t i = 0; i < o->n_confirmed; i++)
		free(o->confirmed[i]);
	free(o->confirmed);
}

void model_alert_free(struct rt_alert *a)
{
	struct rt_delivery *d;

	if (a == NULL)
		return;
	while ((d = LIST_FIRST(&a->deliveries)) != NULL) {
		LIST_REMOVE(d, alink);
		model_delivery_free(d);
	}
	for (size_t i = 0; i < a->n_orgs; i++)
		rt_org_fini(&a->orgs[i]);
	free(a->orgs);
	rt_org_fini(&a->duty);
	free(a->id);
	free(a->title);
	free(a->body);
	free(a->type);
	free(a->severity);
	free(a);
}

struct rt_channel *model_channel_find(struct engine *e, const char *name)
{
	for (size_t i = 0; i < e->n_channels; i++)
		if (strcmp(e->channels[i].ch.name, name) == 0)
			return &e->channels[i];
	return NULL;
}

struct rt_org *model_org(struct rt_alert *a, size_t pos)
{
	return pos == DUTY_POS ? &a->duty : &a->orgs[pos];
}

void model_event(struct engine *e, struct rt_alert *a, const char *actor,
		 const char *kind, const char *org_id, const char *delivery_id,
		 const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	timeline_append(e->writer, &a->timeline, a->id, clock_now_ms(), actor,
			kind, org_id, delivery_id, detail);
}

struct timeline_head *model_keep_head(struct engine *e, const char *id,
				      const struct timeline_head *head)
{
	size_t n = sizeof(e->heads) / sizeof(e->heads[0]);
	struct timeline_head *h = model_kept_head(e, id);

	if (h == NULL) {
		size_t i = e->next_head++ % n;

		snprintf(e->heads[i].id, sizeof(e->heads[i].id), "%s", id);
		h = &e->heads[i].head;
	}
	*h = *head;
	return h;
}

struct timeline_head *model_kept_head(struct engine *e, const char *id)
{
	for (size_t i = 0; i < sizeof(e->heads) / sizeof(e->heads[0]); i++)
		if (e->heads[i].id[0] && strcmp(e->heads[i].id, id) == 0)
			return &e->heads[i].head;
	return NULL;
}

static bool releasable(const struct rt_alert *a)
{
	return a->finished && a->unfinished == 0;
}

/* The release timer: nothing walks the alerts now; free the finished. */
static void release_cb(void *arg)
{
	struct engine *e = arg;
	struct rt_alert *a, *next;

	for (a = LIST_FIRST(&e->alerts); a != NULL; a = next) {
		next = LIST_NEXT(a, link);
		if (!releasable(a))
			continue;
		model_keep_head(e, a->id, &a->timeline);
		LIST_REMOVE(a, link);
		model_alert_free(a);
	}
}

int model_release_start(struct engine *e)
{
	return timer_new(e->base, release_cb, e, &e->release);
}

void model_alert_release(struct engine *e, struct rt_alert *a)
{
	if (!releasable(a) || e->release == NULL || timer_armed(e->release))
		return;
	/* Due now: fires on the next turn of the loop, on either clock. */
	if (timer_arm(e->release, clock_now_ms()) < 0)
		log_warnx("alert %s: cannot schedule its release; it stays in "
			  "memory until the next one",
			  a->id);
}
