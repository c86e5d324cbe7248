/*
 * The scripted driver (`driver = "scripted"`), a test driver: it sends
 * nothing. Each send is recorded (what, to whom, on which channel) and
 * held until the test says how it ended: OK, TEMPFAIL with an optional
 * Retry-After, or PERMFAIL, with the far side's words. The completion
 * then comes on the next turn of the loop, as a real driver's would. So
 * engine tests decide every outcome and its moment, and never wait on a
 * server or on wall time. Never configure it in production: its sends
 * would wait for ever.
 *
 * The records are process-wide, in the order the sends were taken, and
 * outlive the channels (a test reads them after freeing the engine);
 * scripted_reset() forgets them. Everything runs on the loop's thread.
 * The driver table, scripted_driver, is declared in channels/registry.h.
 */
#ifndef POCALERT_SCRIPTED_H
#define POCALERT_SCRIPTED_H

#include <stdbool.h>
#include <stddef.h>

#include "channels/channel.h"

/* One send the driver took. Strings are copies owned by the record. */
struct scripted_send {
	char *channel;		    /* the channel's name: "mail", "web", ... */
	char *key;		    /* the idempotency key (delivery id) */
	char *address;		    /* where it was to go */
	char *kind;		    /* "alert", "cancel", "unreachable" */
	char *alert_id;		    /* may be "" */
	char *org_id;		    /* may be "" */
	char *org_name;		    /* may be "" */
	char *contact_id;	    /* may be "" */
	char *title;		    /* may be "" */
	char *body;		    /* may be "" */
	char *ack_url;		    /* the reply link, or NULL */
	char *thread_key;	    /* the first report's key, or NULL */
	bool cancelled;		    /* channel_cancel() asked for it */
	bool told;		    /* the test (or a cancel) set its outcome */
	bool completed;		    /* its completion has been called */
	enum channel_status status; /* how it completed */
};

/* Number of sends taken since the last reset, completed or not. */
size_t scripted_count(void);

/* The send taken i-th (from 0), or NULL past the end. */
const struct scripted_send *scripted_get(size_t i);

/* Number of sends taken and not yet completed. */
size_t scripted_waiting(void);

/*
 * The position of the first send to address (any channel) whose outcome
 * is not yet told, or -1.
 */
int scripted_find(const char *address);

/*
 * Tells send i how it ended: status (CHANNEL_OK, CHANNEL_TEMPFAIL or
 * CHANNEL_PERMFAIL), the reply code (0 when none), the far side's words
 * (copied; NULL means "") and, for TEMPFAIL, the far side's Retry-After
 * in seconds or -1. Its completion is called on the loop's next turn,
 * never inside this call. Returns 0, -ENOENT for no such send, or
 * -EALREADY when its outcome was already told.
 */
int scripted_complete(size_t i, enum channel_status status, int code,
		      const char *detail, int retry_after);

/* Forgets every record. Only while no scripted channel holds a send. */
void scripted_reset(void);

#endif
