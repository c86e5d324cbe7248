/*
 * The engine's in-memory model: the structs every engine module works on
 * (an alert, its organisations and unsettled deliveries, a channel with
 * its queues, the engine itself), the enums of their states and kinds,
 * and the few operations on them that need no policy: allocation and
 * freeing, finding an alert or a channel, the timeline heads kept for
 * alerts that left memory, appending a timeline event, and releasing a
 * finished alert from a deferred callback. It is the bottom of the
 * engine: every engine module includes it, and it includes none of
 * theirs, only the leaves (config, metrics, timeline, timers).
 *
 * Only unfinished work lives in memory; the store holds everything, and
 * the writer carries changes to it.
 */
#ifndef POCALERT_ENGINE_MODEL_H
#define POCALERT_ENGINE_MODEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>

#include <event2/event.h>

#include "channels/channel.h"
#include "contacts/directory.h"
#include "dispatcher/engine/config.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/engine/metrics.h"
#include "dispatcher/store/store.h"
#include "dispatcher/engine/timeline.h"
#include "dispatcher/engine/timer.h"
#include "dispatcher/store/writer.h"
#include "policies/policy.h"

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

/* Where an organisation of an alert stands. */
enum ostate {
	OSTATE_PENDING = 0,  /* nothing sent yet */
	OSTATE_NOTIFIED,     /* a delivery of its first step went out */
	OSTATE_ESCALATED,    /* a later step was planned */
	OSTATE_ACKNOWLEDGED, /* closed: confirmed */
	OSTATE_UNREACHABLE,  /* closed: every step ran unconfirmed */
	OSTATE_CANCELLED,    /* closed: the alert was cancelled */
};

/* "pending", "notified", ... as stored and shown. */
const char *ostate_name(enum ostate s);
/* The state named s. Returns 0, or -EINVAL for an unknown name. */
int ostate_parse(const char *s, enum ostate *ret);

/* What a delivery carries. */
enum dkind {
	DKIND_ALERT = 0,   /* the alert itself, to an organisation */
	DKIND_CANCEL,	   /* a cancellation notice */
	DKIND_UNREACHABLE, /* the duty officer's list of the unreachable */
};

/* "alert", "cancel", "unreachable" as stored and given to drivers. */
const char *dkind_name(enum dkind k);
/* The kind named s. Returns 0, or -EINVAL for an unknown name. */
int dkind_parse(const char *s, enum dkind *ret);

struct rt_alert;
struct rt_channel;

/* An organisation of an active alert. */
struct rt_org {
	char *org_id;	/* owned */
	char *org_name; /* owned */
	enum ostate state;
	bool closed;		/* acknowledged, unreachable or cancelled */
	int step;		/* last step planned, -1 before the first */
	int64_t next_at;	/* ms: when the policy looks again; 0 = now */
	size_t unfinished;	/* its alert deliveries not yet settled */
	size_t step_unfinished; /* of those, from the current step */
	size_t step_sent;	/* deliveries of the current step sent */
	size_t sent;		/* deliveries sent, all steps */
	int confirmations;	/* distinct contacts who confirmed */
	char **targeted;	/* owned; contact ids reached so far */
	size_t n_targeted;
	char **confirmed; /* owned; contact ids who confirmed */
	size_t n_confirmed;
	bool force_next; /* the current step failed whole: go on now */
};

/* A delivery not yet settled. */
struct rt_delivery {
	char *id;		/* owned; the idempotency key */
	struct rt_alert *alert; /* not owned */
	struct rt_org *org;	/* not owned */
	struct rt_channel *ch;	/* not owned */
	char *contact_id;	/* owned */
	char *contact_name;	/* owned */
	char *language;		/* owned */
	char *address;		/* owned */
	char *charset;		/* owned */
	char *ack_url;		/* owned; the contact's reply link, or NULL */
	char *title;		/* owned; a notice's own title, or NULL */
	char *body;		/* owned; a notice's own body, or NULL */
	char *thread_key;	/* owned; the first report's delivery id to
				   this address (notices), or NULL */
	enum dkind kind;
	int step; /* the policy step that planned it */
	enum dstate state;
	int attempts;	     /* attempts started, the current one included */
	int rank;	     /* send order within its alert */
	int64_t started_at;  /* the current attempt's start, ms */
	int64_t due_at;	     /* retry_wait: not to start before this, ms */
	struct timer *timer; /* owned; retry_wait timer, created on need */
	struct channel_message msg; /* what the driver gets; points into here */
	TAILQ_ENTRY(rt_delivery) qlink; /* in a channel's ready queue */
	LIST_ENTRY(rt_delivery) alink;	/* in alert->deliveries */
};

TAILQ_HEAD(rt_queue, rt_delivery);

/* An alert with unfinished deliveries. */
struct rt_alert {
	char *id;	/* owned */
	char *title;	/* owned */
	char *body;	/* owned */
	char *type;	/* owned */
	char *severity; /* owned */
	enum tlp tlp;
	bool drill;
	bool cancelled;
	int64_t created_at;   /* ms; the policy counts from here */
	struct policy policy; /* the snapshot taken at acceptance */
	size_t unfinished;    /* deliveries not yet settled */
	struct rt_org *orgs;  /* owned array, by position */
	size_t n_orgs;
	struct rt_org duty; /* the government organisation told of the
				   unreachable ones; org_id NULL until then */
	size_t open_orgs;   /* orgs not yet closed */
	bool finished;	    /* every org closed: completed or cancelled */
	int next_seq;	    /* number of the next delivery id */
	struct timeline_head timeline;
	LIST_HEAD(, rt_delivery) deliveries;
	LIST_ENTRY(rt_alert) link; /* in engine->alerts */
};

/* A configured channel with its queues and limits. */
struct rt_channel {
	struct channel ch;		  /* the driver instance */
	const struct config_channel *cfg; /* not owned */
	struct engine *engine;		  /* not owned */
	struct rt_queue first; /* ready, never tried: served first (fairness) */
	struct rt_queue retry; /* ready, tried before */
	size_t n_ready;	       /* in first + retry */
	size_t n_waiting;      /* in retry_wait */
	size_t in_flight;      /* handed to the driver, not completed */
	double tokens;	       /* max_rate token bucket */
	int64_t refilled_at;   /* ms */
	struct event *pump_ev; /* owned; deferred pump */
	struct timer *pump_wait; /* owned; max_rate: until a token is due */
	bool started;
};

/*
 * The hook through which the scheduler reports a delivery that settled
 * (sent, failed, cancelled): called once per delivery after the alert's
 * and organisation's counts are updated and before d is freed. The engine
 * installs escalation's handler (engine.c), so that the scheduler calls
 * nothing above it. d is valid during the call only.
 */
typedef void (*engine_settled_fn)(struct engine *e, struct rt_delivery *d);

struct engine {
	struct event_base *base;     /* not owned */
	const struct config *config; /* not owned */
	struct store *store;	     /* owned */
	struct writer *writer;	     /* owned */
	struct metrics *metrics;     /* owned */
	struct rt_channel *channels; /* owned array */
	size_t n_channels;
	LIST_HEAD(, rt_alert) alerts; /* active alerts */
	struct directory dir;	      /* cached directory, orgs sorted by id */
	int64_t dir_version; /* PRAGMA data_version when loaded, -1 none */
	uint8_t ack_key[32]; /* derives reply-link tokens; secret */
	/*
	 * Timeline heads of alerts that left memory, so a late answer or an
	 * opened link appends without writing and re-reading the store.
	 */
	struct {
		char id[32];
		struct timeline_head head;
	} heads[64];
	size_t next_head;      /* round robin slot for the next one */
	struct timer *tick;    /* owned; escalation timer */
	struct timer *release; /* owned; frees finished alerts, deferred */
	struct timer *calendar_watch; /* owned; the daily calendar check */
	engine_settled_fn settled;    /* installed by engine.c; may be NULL */
	bool accepting;
	bool stopping;
};

/*
 * The alert with this id among the active ones, or NULL. The engine owns
 * it.
 */
struct rt_alert *model_alert_find(struct engine *e, const char *id);
/* Frees an alert, its organisations and its deliveries. NULL is a no-op. */
void model_alert_free(struct rt_alert *a);
/* Frees a delivery (not linked anywhere any more). NULL is a no-op. */
void model_delivery_free(struct rt_delivery *d);
/* The configured channel named name, or NULL. The engine owns it. */
struct rt_channel *model_channel_find(struct engine *e, const char *name);

/* The organisation at pos of a, or the duty org for DUTY_POS. */
#define DUTY_POS ((size_t)-1)
struct rt_org *model_org(struct rt_alert *a, size_t pos);

/*
 * Appends an event to a's timeline through the writer, at the engine
 * clock's now. The detail is printf-style, cut at 511 bytes.
 */
void model_event(struct engine *e, struct rt_alert *a, const char *actor,
		 const char *kind, const char *org_id, const char *delivery_id,
		 const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/*
 * Keeps a copy of the timeline head of an alert that leaves memory, in
 * a small round-robin table the engine owns; returns the kept copy.
 * model_kept_head finds one kept, or NULL.
 */
struct timeline_head *model_keep_head(struct engine *e, const char *id,
				      const struct timeline_head *head);
struct timeline_head *model_kept_head(struct engine *e, const char *id);

/*
 * Makes the deferred release: a timer on the engine clock whose callback
 * frees every finished alert with nothing unsettled. Returns 0 or
 * -ENOMEM. The engine owns the timer (e->release, timer_free()).
 */
int model_release_start(struct engine *e);

/*
 * Asks for a to be freed when it is finished and has no unsettled
 * delivery: never inside this call (a caller may be walking it or the
 * list of alerts), but from the release timer on the next turn of the
 * loop, which looks again then. Safe to call at any time.
 */
void model_alert_release(struct engine *e, struct rt_alert *a);

#endif
