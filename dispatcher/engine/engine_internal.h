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
#include "dispatcher/engine/config.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/engine/metrics.h"
#include "dispatcher/store/store.h"
#include "dispatcher/engine/timeline.h"
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

struct rt_alert;
struct rt_channel;

/* An organisation of an active alert. */
struct rt_org {
	char *org_id;		/* owned */
	char *org_name;		/* owned */
	const char *state;	/* static: pending, notified, escalated,
				   acknowledged, unreachable, cancelled */
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
	const char *kind;	/* static: "alert", "cancel", "unreachable" */
	int step;		/* the policy step that planned it */
	enum dstate state;
	int attempts;	     /* attempts started, the current one included */
	int rank;	     /* send order within its alert */
	int64_t started_at;  /* the current attempt's start, ms */
	int64_t due_at;	     /* retry_wait: not to start before this, ms */
	struct event *timer; /* owned; retry_wait timer, created on need */
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
	bool busy;	      /* being walked: settling must not free it */
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
	bool started;
};

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
	size_t next_head;   /* round robin slot for the next one */
	struct event *tick; /* owned; escalation timer */
	bool accepting;
	bool stopping;
	/* owned; the daily check of calendar_watch.c */
	struct event *calendar_watch;
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
		  const char *kind, const char *org_id, const char *delivery_id,
		  const char *fmt, ...) __attribute__((format(printf, 7, 8)));

/* calendar_watch.c */
/* Checks the calendar's end now and arms the daily check. 0 or -1. */
int calendar_watch_start(struct engine *e);
/* Frees the daily check. */
void calendar_watch_stop(struct engine *e);
/* Logs that `what` guessed, when today lies outside the calendar. */
void calendar_watch_guess(struct engine *e, const char *what);

/* intake.c */
/* Fills d->msg from d and its alert. */
void intake_message_init(struct rt_delivery *d);
/* Reloads the cached directory when the file changed. Returns 0 or -EIO. */
int directory_refresh(struct engine *e);
/* The directory's organisation with this id, or NULL (binary search). */
const struct dir_org *directory_org(struct engine *e, const char *id);

/*
 * One delivery to plan for an organisation of an alert: persisted by
 * plan_commit, then queued unless skipped.
 */
struct planned {
	size_t org;			   /* position in the alert */
	const struct dir_contact *contact; /* the directory's */
	const struct dir_method *method;   /* the directory's */
	const char *skip_reason;	   /* NULL to send */
	int step;
	const char *kind; /* "alert", "cancel", "unreachable" */
};

/*
 * Plans step `step` for the organisation at position pos of a: the
 * contact methods the policy step reaches, TLP and channel checks
 * applied. Appends to *list (realloc'd, caller frees). Returns the
 * number of sendable deliveries added, or -ENOMEM.
 */
int plan_org_step(struct engine *e, struct rt_alert *a, size_t pos, int step,
		  struct planned **list, size_t *n, size_t *cap);

/*
 * Writes planned deliveries (and their contacts' reply-link rows) in one
 * transaction, then builds them in memory and queues the sendable ones
 * in order. Returns 0 or a negative errno (nothing queued then).
 */
int plan_commit(struct engine *e, struct rt_alert *a,
		const struct planned *list, size_t n);

/* escalation.c */
/* Starts the escalation timer. Returns 0 or -ENOMEM. */
int escalation_start(struct engine *e);
/* Runs every organisation's policy decision that is due now. */
void escalation_run(struct engine *e);
/* The duty notice's title and body (malloc'd, caller frees). */
int escalation_duty_text(const struct rt_alert *a, char **title, char **body);
/* The organisation at pos of a, or the duty org for DUTY_POS. */
#define DUTY_POS ((size_t)-1)
struct rt_org *alert_org(struct rt_alert *a, size_t pos);
/* Closes an organisation in state (acknowledged, unreachable, cancelled). */
void escalation_close_org(struct engine *e, struct rt_alert *a,
			  struct rt_org *o, const char *state);
/*
 * Called when an org's current-step deliveries have all settled with none
 * sent: the next tick runs its next step at once.
 */
void escalation_step_settled(struct rt_org *o);
/* Frees the alert when it is finished and nothing is in flight. */
void escalation_maybe_release(struct engine *e, struct rt_alert *a);

/*
 * engine.c: keeps the timeline head of an alert that leaves memory (a
 * copy, returned); finds one kept, or NULL.
 */
struct timeline_head *engine_keep_head(struct engine *e, const char *id,
				       const struct timeline_head *head);
struct timeline_head *engine_kept_head(struct engine *e, const char *id);

/* ack.c */
/* The reply-link token of a contact (32 base32 characters and a NUL). */
void ack_token(const struct engine *e, const char *alert_id, const char *org_id,
	       const char *contact_id, char out[33]);
/* Loads or creates the key file. Returns 0 or -errno. */
int ack_key_load(struct engine *e, const char *path);

/* recovery.c: reloads unfinished work after a start. Returns 0 or -EIO. */
int recovery_load(struct engine *e);

#endif
