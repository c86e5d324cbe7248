/*
 * The scripted test driver: see scripted.h. Every send becomes a record
 * in one process-wide array (pointers, so a record stays put while the
 * array grows). A record held by a channel points back at it; when the
 * test (or a cancel) sets its outcome, the record joins its channel's
 * queue of told sends and the channel's event is made active, and that
 * event calls the completions, so a completion never runs inside
 * channel_send() or inside the test's scripted_complete().
 */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include "channels/channel.h"
#include "channels/registry.h"
#include "channels/scripted.h"

struct scripted;

/* A record and what the driver needs until its completion. */
struct held {
	struct scripted_send pub; /* first: what the test reads */
	struct scripted *owner;	  /* the channel holding it; NULL once done */
	channel_done_fn done;
	void *arg;
	int code;		     /* the told outcome */
	char *detail;		     /* owned */
	int retry_after;	     /* seconds, -1 when none */
	TAILQ_ENTRY(held) told_link; /* in owner->told */
};

TAILQ_HEAD(held_list, held);

/* A scripted channel's state. */
struct scripted {
	const char *name;      /* the channel's name, not owned */
	struct event *ev;      /* owned; calls the told completions */
	struct held_list told; /* outcome set, completion not yet called */
	size_t n_held;	       /* taken and not completed */
};

static struct held **records; /* owned array of owned records */
static size_t n_records, cap_records;

static const cfg_opt_t scripted_options[] = {
	CFG_END(),
};

static char *dup_or_empty(const char *s, bool *oom)
{
	char *p = strdup(s ? s : "");

	if (p == NULL)
		*oom = true;
	return p;
}

static void record_free(struct held *h)
{
	if (h == NULL)
		return;
	free(h->pub.channel);
	free(h->pub.key);
	free(h->pub.address);
	free(h->pub.kind);
	free(h->pub.alert_id);
	free(h->pub.org_id);
	free(h->pub.org_name);
	free(h->pub.contact_id);
	free(h->pub.title);
	free(h->pub.body);
	free(h->pub.ack_url);
	free(h->pub.thread_key);
	free(h->detail);
	free(h);
}

/* Calls h's completion with its told outcome; h leaves its channel. */
static void complete(struct held *h)
{
	struct channel_outcome out = {
		.status = h->pub.status,
		.code = h->code,
		.detail = h->detail ? h->detail : "",
		.retry_after = h->retry_after,
	};

	h->owner->n_held--;
	h->owner = NULL;
	h->pub.completed = true;
	h->done(h->arg, &out);
}

static void on_told(evutil_socket_t fd, short events, void *arg)
{
	struct scripted *s = arg;
	struct held *h;

	(void)fd;
	(void)events;
	/* One at a time from the head: a completion may tell or send more. */
	while ((h = TAILQ_FIRST(&s->told)) != NULL) {
		TAILQ_REMOVE(&s->told, h, told_link);
		complete(h);
	}
}

/* Sets h's outcome and queues its completion on its channel's loop. */
static int tell(struct held *h, enum channel_status status, int code,
		const char *detail, int retry_after)
{
	char *copy = strdup(detail ? detail : "");

	if (copy == NULL)
		return -ENOMEM;
	h->pub.told = true;
	h->pub.status = status;
	h->code = code;
	h->detail = copy;
	h->retry_after = status == CHANNEL_TEMPFAIL ? retry_after : -1;
	TAILQ_INSERT_TAIL(&h->owner->told, h, told_link);
	event_active(h->owner->ev, 0, 0);
	return 0;
}

size_t scripted_count(void)
{
	return n_records;
}

const struct scripted_send *scripted_get(size_t i)
{
	return i < n_records ? &records[i]->pub : NULL;
}

size_t scripted_waiting(void)
{
	size_t n = 0;

	for (size_t i = 0; i < n_records; i++)
		n += !records[i]->pub.completed;
	return n;
}

int scripted_find(const char *address)
{
	for (size_t i = 0; i < n_records; i++)
		if (!records[i]->pub.told &&
		    strcmp(records[i]->pub.address, address) == 0)
			return (int)i;
	return -1;
}

int scripted_complete(size_t i, enum channel_status status, int code,
		      const char *detail, int retry_after)
{
	assert(status == CHANNEL_OK || status == CHANNEL_TEMPFAIL ||
	       status == CHANNEL_PERMFAIL);
	if (i >= n_records || records[i]->owner == NULL)
		return i >= n_records ? -ENOENT : -EALREADY;
	if (records[i]->pub.told)
		return -EALREADY;
	return tell(records[i], status, code, detail, retry_after);
}

void scripted_reset(void)
{
	for (size_t i = 0; i < n_records; i++) {
		assert(records[i]->owner == NULL);
		record_free(records[i]);
	}
	free(records);
	records = NULL;
	n_records = cap_records = 0;
}

static int scripted_configure(struct channel *ch, cfg_t *sec, const char *file,
			      struct diag_list *diags)
{
	struct scripted *s = calloc(1, sizeof(*s));

	(void)sec;
	(void)file;
	(void)diags;
	if (s == NULL)
		return -ENOMEM;
	s->name = ch->name;
	TAILQ_INIT(&s->told);
	ch->priv = s;
	return 0;
}

static int scripted_start(struct channel *ch, struct event_base *base)
{
	struct scripted *s = ch->priv;

	if (s == NULL)
		return -EINVAL;
	if (s->ev == NULL)
		s->ev = event_new(base, -1, 0, on_told, s);
	return s->ev ? 0 : -ENOMEM;
}

static int scripted_send(struct channel *ch, const struct channel_message *msg,
			 channel_done_fn done, void *arg)
{
	struct scripted *s = ch->priv;
	struct held *h;
	bool oom = false;

	if (s == NULL || s->ev == NULL)
		return -ENOTCONN;
	if (n_records == cap_records) {
		size_t ncap = cap_records ? cap_records * 2 : 64;
		struct held **r = realloc(records, ncap * sizeof(*r));

		if (r == NULL)
			return -ENOMEM;
		records = r;
		cap_records = ncap;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL)
		return -ENOMEM;
	h->pub.channel = dup_or_empty(s->name, &oom);
	h->pub.key = dup_or_empty(msg->key, &oom);
	h->pub.address = dup_or_empty(msg->address, &oom);
	h->pub.kind = dup_or_empty(msg->kind ? msg->kind : "alert", &oom);
	h->pub.alert_id = dup_or_empty(msg->alert_id, &oom);
	h->pub.org_id = dup_or_empty(msg->org_id, &oom);
	h->pub.org_name = dup_or_empty(msg->org_name, &oom);
	h->pub.contact_id = dup_or_empty(msg->contact_id, &oom);
	h->pub.title = dup_or_empty(msg->title, &oom);
	h->pub.body = dup_or_empty(msg->body, &oom);
	if (msg->ack_url != NULL)
		h->pub.ack_url = dup_or_empty(msg->ack_url, &oom);
	if (msg->thread_key != NULL)
		h->pub.thread_key = dup_or_empty(msg->thread_key, &oom);
	if (oom) {
		record_free(h);
		return -ENOMEM;
	}
	h->owner = s;
	h->done = done;
	h->arg = arg;
	s->n_held++;
	records[n_records++] = h;
	return 0;
}

/* A held send not yet told is withdrawn; one told completes as told. */
static void scripted_cancel(struct channel *ch, const char *key)
{
	struct scripted *s = ch->priv;

	if (s == NULL || key == NULL)
		return;
	for (size_t i = 0; i < n_records; i++) {
		struct held *h = records[i];

		if (h->owner != s || strcmp(h->pub.key, key) != 0)
			continue;
		h->pub.cancelled = true;
		if (!h->pub.told)
			tell(h, CHANNEL_CANCELLED, 0, "cancelled", -1);
	}
}

static size_t scripted_in_flight(struct channel *ch)
{
	struct scripted *s = ch->priv;

	return s ? s->n_held : 0;
}

/*
 * Completes every send the channel holds before returning: told ones as
 * told, the rest TEMPFAIL "stopped" (never sent, so the engine queues
 * them again).
 */
static void scripted_stop(struct channel *ch)
{
	struct scripted *s = ch->priv;
	struct held *h;

	if (s == NULL)
		return;
	while ((h = TAILQ_FIRST(&s->told)) != NULL) {
		TAILQ_REMOVE(&s->told, h, told_link);
		complete(h);
	}
	for (size_t i = 0; i < n_records && s->n_held > 0; i++) {
		h = records[i];
		if (h->owner != s)
			continue;
		h->pub.told = true;
		h->pub.status = CHANNEL_TEMPFAIL;
		h->retry_after = -1;
		free(h->detail);
		h->detail = strdup("stopped");
		complete(h);
	}
	if (s->ev != NULL) {
		event_free(s->ev);
		s->ev = NULL;
	}
}

static void scripted_free(struct channel *ch)
{
	struct scripted *s = ch->priv;

	if (s == NULL)
		return;
	scripted_stop(ch);
	free(s);
	ch->priv = NULL;
}

const struct channel_driver scripted_driver = {
	.version = CHANNEL_DRIVER_VERSION,
	.name = "scripted",
	.options = scripted_options,
	.configure = scripted_configure,
	.start = scripted_start,
	.send = scripted_send,
	.cancel = scripted_cancel,
	.in_flight = scripted_in_flight,
	.stop = scripted_stop,
	.free = scripted_free,
};
