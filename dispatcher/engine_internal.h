/*
 * The engine's in-memory model, shared by engine.c (lifecycle, intake),
 * scheduler.c (queues, sends, outcomes) and recovery.c (reload after a
 * restart). Only unfinished work lives in memory; the store holds
 * everything, and the writer carries changes to it.
 */
#ifndef POCALERT_ENGINE_INTERNAL_H
#define POCALERT_ENGINE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "channels/channel.h"
#include "contacts/directory.h"
#include "dispatcher/config.h"
#include "dispatcher/engine.h"
#include "dispatcher/metrics.h"
#include "dispatcher/store.h"
#include "dispatcher/timeline.h"
#include "dispatcher/writer.h"

enum dstate {
	DSTATE_QUEUED = 0,
	DSTATE_SENDING,
	DSTATE_RETRY_WAIT,
	DSTATE_SENT,
	DSTATE_FAILED,
	DSTATE_SKIPPED,
	DSTATE_CANCELLED,
};

/* "queued", "sending", ... as stored and shown. */
const char *dstate_name(enum dstate s);

struct rt_alert;
struct rt_channel;

/* An organisation of an active alert. */
struct rt_org {
	char *org_id;		/* owned */
	char *org_name;		/* owned */
	char *state;		/* static string: pending, notified, ... */
	size_t unfinished;	/* its deliveries not yet settled */
	size_t sent;		/* its deliveries sent */
	LIST_ENTRY(rt_org) link; /* in alert->orgs */
};

/* A delivery not yet settled. */
struct rt_delivery {
	char *id;		/* owned; the idempotency key */
	struct rt_alert *alert;	/* not owned */
	struct rt_org *org;	/* not owned */
	struct rt_channel *ch;	/* not owned */
	char *contact_id;	/* owned */
	char *contact_name;	/* owned */
	char *language;		/* owned */
	char *address;		/* owned */
	char *charset;		/* owned */
	enum dstate state;
	int attempts;		/* attempts started, the current one included */
	int rank;		/* send order within its alert */
	int64_t started_at;	/* the current attempt's start, ms */
	struct event *timer;	/* owned; retry_wait timer, created on need */
	struct channel_message msg; /* what the driver gets; points into here */
	TAILQ_ENTRY(rt_delivery) qlink; /* in a channel's ready queue */
	LIST_ENTRY(rt_delivery) alink;	/* in alert->deliveries */
};

TAILQ_HEAD(rt_queue, rt_delivery);

/* An alert with unfinished deliveries. */
struct rt_alert {
	char *id;		/* owned */
	char *title;		/* owned */
	char *body;		/* owned */
	char *type;		/* owned */
	char *severity;		/* owned */
	enum tlp tlp;
	bool drill;
	bool cancelled;
	bool busy;		/* being walked: settling must not free it */
	int64_t created_at;	/* ms */
	size_t unfinished;	/* deliveries not yet settled */
	struct timeline_head timeline;
	LIST_HEAD(, rt_org) orgs;
	LIST_HEAD(, rt_delivery) deliveries;
	LIST_ENTRY(rt_alert) link; /* in engine->alerts */
};

/* A configured channel with its queues and limits. */
struct rt_channel {
	struct channel ch;	/* the driver instance */
	const struct config_channel *cfg; /* not owned */
	struct engine *engine;	/* not owned */
	struct rt_queue first;	/* ready, never tried: served first (fairness) */
	struct rt_queue retry;	/* ready, tried before */
	size_t n_ready;		/* in first + retry */
	size_t n_waiting;	/* in retry_wait */
	size_t in_flight;	/* handed to the driver, not completed */
	double tokens;		/* max_rate token bucket */
	int64_t refilled_at;	/* ms */
	struct event *pump_ev;	/* owned; deferred pump */
	bool started;
};

struct engine {
	struct event_base *base;	/* not owned */
	const struct config *config;	/* not owned */
	struct store *store;		/* owned */
	struct writer *writer;		/* owned */
	struct metrics *metrics;	/* owned */
	struct rt_channel *channels;	/* owned array */
	size_t n_channels;
	LIST_HEAD(, rt_alert) alerts;	/* active alerts */
	struct directory dir;		/* cached directory */
	int64_t dir_version;		/* PRAGMA data_version when loaded, -1 none */
	bool accepting;
	bool stopping;
};

/* scheduler.c */
/* Puts a delivery into its channel's ready queue (or its timer) and pumps. */
void sched_enqueue(struct rt_delivery *d, int64_t next_at);
/* Withdraws a waiting delivery (queued or retry_wait) and marks it cancelled. */
void sched_cancel_delivery(struct rt_delivery *d, const char *reason);
/* Frees a settled delivery and, when it was the last, settles its alert. */
void sched_settle(struct rt_delivery *d);
/* Inits the channel's queues and pump event. */
int sched_channel_init(struct engine *e, struct rt_channel *c);
/* Frees what sched_channel_init made. */
void sched_channel_fini(struct rt_channel *c);

/* engine.c helpers used by the scheduler and recovery */
struct rt_alert *engine_alert_find(struct engine *e, const char *id);
void engine_alert_free(struct rt_alert *a);
void engine_delivery_free(struct rt_delivery *d);
struct rt_channel *engine_channel_find(struct engine *e, const char *name);
void engine_event(struct engine *e, struct rt_alert *a, const char *actor,
		  const char *kind, const char *org_id,
		  const char *delivery_id, const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* intake.c: fills d->msg from d and its alert. */
void intake_message_init(struct rt_delivery *d);

/* recovery.c: reloads unfinished work after a start. Returns 0 or -EIO. */
int recovery_load(struct engine *e);

#endif
