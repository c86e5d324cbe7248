/*
 * Planning: which deliveries an organisation's policy step reaches, how
 * they are written to the store before anything is sent, and the one
 * constructor of an in-memory delivery. Intake, escalation (every step,
 * cancellation and duty notices) and recovery (deliveries reloaded after
 * a restart) all build deliveries here, so that a delivery's reply link,
 * notice text and message are made one way. Above the scheduler (planned
 * deliveries are queued) and the directory cache; below escalation.
 *
 * Target expansion ("all", "sector:NAME", "org:ID" to organisations) is
 * planner.c: pure, on a directory, with no engine model.
 */
#ifndef POCALERT_ENGINE_PLAN_H
#define POCALERT_ENGINE_PLAN_H

#include "dispatcher/engine/model.h"

/*
 * One delivery to plan for an organisation of an alert: persisted by
 * plan_commit, then queued unless skipped.
 */
struct planned {
	size_t org; /* position in the alert, or DUTY_POS */
	const struct dir_contact *contact; /* the directory's */
	const struct dir_method *method;   /* the directory's */
	const char *skip_reason;	   /* NULL to send */
	int step;
	enum dkind kind;
	const char *thread_key; /* NULL, or the first report's delivery id */
};

/*
 * Appends p to *list (realloc'd; the caller frees *list). Returns 0 or
 * -ENOMEM (the list unchanged).
 */
int plan_push(struct planned **list, size_t *n, size_t *cap,
	      const struct planned *p);

/*
 * Plans step `step` for the organisation at position pos of a: the
 * contact methods the policy step reaches, TLP and channel checks
 * applied. Appends to *list (see plan_push). Returns the number of
 * sendable deliveries added, or -ENOMEM.
 */
int plan_org_step(struct engine *e, struct rt_alert *a, size_t pos, int step,
		  struct planned **list, size_t *n, size_t *cap);

/*
 * Writes planned deliveries (and their contacts' reply-link rows) in one
 * transaction, organisations interleaved, then builds them in memory and
 * queues the sendable ones in that order. Returns 0 or a negative errno
 * (nothing queued then).
 */
int plan_commit(struct engine *e, struct rt_alert *a,
		const struct planned *list, size_t n);

/* What a delivery is made of, wherever it comes from. Strings are copied. */
struct plan_delivery {
	const char *id;		  /* the idempotency key */
	struct rt_org *org;	  /* of the alert (its duty org for notices) */
	struct rt_channel *ch;	  /* not NULL */
	const char *contact_id;	  /* NULL reads as "" */
	const char *contact_name; /* NULL reads as "" */
	const char *language;	  /* NULL reads as "ja" */
	const char *address;	  /* NULL reads as "" */
	const char *charset;	  /* NULL reads as "" */
	enum dkind kind;
	int step;     /* the policy step that planned it, -1 for notices */
	int rank;     /* send order within its alert */
	int attempts; /* attempts already made (recovery) */
	const char *thread_key; /* the first report's delivery id, or NULL */
};

/*
 * The one delivery constructor: builds a queued delivery of a from s,
 * with its reply link (alert deliveries), its notice text (duty notices)
 * and its message, links it into a and counts it as unsettled in a and
 * its organisation. The alert owns it; it is not queued (sched_enqueue).
 * Returns it, or NULL when out of memory (nothing linked or counted).
 */
struct rt_delivery *plan_delivery_add(struct engine *e, struct rt_alert *a,
				      const struct plan_delivery *s);

/*
 * Makes the directory's organisation org_id a's duty organisation (the
 * one told of the unreachable), named as the cached directory names it,
 * or by its id once it left the directory. Does nothing when a already
 * has one. Returns 0 or -ENOMEM.
 */
int plan_duty_org(struct engine *e, struct rt_alert *a, const char *org_id);

#endif
