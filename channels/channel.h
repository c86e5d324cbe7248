/*
 * The channel driver interface. A driver turns one message into something
 * on the wire (a mail, an HTTP request, a call) and reports how it went.
 * It knows an address and a message, never an alert's lifecycle, the store
 * or the scheduler: retries, rate limits and concurrency limits are the
 * engine's, driven by the outcome the driver reports.
 *
 * Drivers are const tables of function pointers found by name in the
 * registry (channels/registry.c). Callers use the channel_*() wrappers
 * below, never the table directly.
 */
#ifndef POCALERT_CHANNEL_H
#define POCALERT_CHANNEL_H

#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>
#include <event2/event.h>

#include "common/diag.h"
#include "common/tlp.h"

#define CHANNEL_DRIVER_VERSION 1

enum channel_status {
	CHANNEL_OK = 0,	  /* the far side accepted the message */
	CHANNEL_TEMPFAIL, /* may succeed later: retry */
	CHANNEL_PERMFAIL, /* will never succeed to this address: do not retry */
	CHANNEL_CANCELLED, /* withdrawn by channel_cancel() before it went out */
};

/*
 * What a driver sends. Every string is UTF-8 and owned by the caller; it
 * stays valid until the completion has been called. A driver renders it
 * for its medium (MIME mail, JSON, TwiML, ...).
 */
struct channel_message {
	const char *
		key; /* idempotency key: the delivery id, stable across retries */
	const char *address;  /* normalised address of the contact method */
	const char *charset;  /* mail: "utf-8" or "iso-2022-jp" */
	const char *language; /* "ja" or "en" */
	const char *alert_id;
	const char *title;
	const char *body;
	const char *type;     /* early-warning, incident, ... */
	const char *severity; /* critical, high, medium, low */
	enum tlp tlp;
	bool drill; /* exercise: marked 【訓練】[DRILL] */
	const char *
		kind; /* "alert" (default when NULL), "cancel", "unreachable" */
	const char *org_id;
	const char *org_name;
	const char *contact_id;
	const char *contact_name;
	const char *ack_url;	/* personal reply link, may be NULL */
	const char *thread_key; /* the first report's key to this address, for
				   mail's In-Reply-To and References; NULL */
	long long created_at;	/* alert acceptance, Unix seconds */
};

/* How a send ended, as reported to the completion. */
struct channel_outcome {
	enum channel_status status;
	int code; /* SMTP reply code or HTTP status; 0 when none (e.g. connect failed) */
	const char *
		detail; /* the far side's words or the local error; never NULL */
	const char *
		gateway_id; /* the far side's id (queue id, call sid), may be NULL */
	int retry_after; /* seconds the far side asked to wait, -1 when none */
};

/*
 * Completion of channel_send(). Called exactly once per accepted send, on
 * the event loop's thread, never from inside channel_send() itself. The
 * outcome is valid only during the call.
 */
typedef void (*channel_done_fn)(void *arg, const struct channel_outcome *out);

struct channel;

struct channel_driver {
	int version;	  /* CHANNEL_DRIVER_VERSION */
	const char *name; /* "smtp", "webhook", "dryrun", ... */

	/*
	 * Options this driver reads from its channel section, terminated by
	 * CFG_END(). The config loader merges every driver's options into
	 * the channel section; options of the same name must agree in type.
	 */
	const cfg_opt_t *options;

	/*
	 * Reads the driver's settings from its parsed channel section and
	 * hangs private state on ch->priv. Errors go to diags as FILE:LINE
	 * (file is the config path, the section's line is sec->line).
	 * Returns 0 or a negative errno. On failure ch->priv may be half
	 * built: stop and free must cope.
	 */
	int (*configure)(struct channel *ch, cfg_t *sec, const char *file,
			 struct diag_list *diags);

	/* Attaches to the loop: threads, sockets, timers. Returns 0 or -errno. */
	int (*start)(struct channel *ch, struct event_base *base);

	/*
	 * Queues a message for sending; never blocks. Returns 0 when taken
	 * (done will be called exactly once later) or a negative errno when
	 * refused at once (done will not be called).
	 */
	int (*send)(struct channel *ch, const struct channel_message *msg,
		    channel_done_fn done, void *arg);

	/*
	 * Withdraws the message with this key if it has not gone out yet:
	 * its completion then comes with CHANNEL_CANCELLED. A message already
	 * on the wire completes as it would have. Never blocks.
	 */
	void (*cancel)(struct channel *ch, const char *key);

	/*
	 * Number of sends accepted whose completion has not been called yet,
	 * so the engine can wait for them at shutdown.
	 */
	size_t (*in_flight)(struct channel *ch);

	/*
	 * Detaches from the loop: stops threads and closes connections.
	 * Messages still queued complete with CHANNEL_TEMPFAIL "stopped"
	 * before it returns. Safe on a channel that was configured but not
	 * started, or half configured.
	 */
	void (*stop)(struct channel *ch);

	/* Frees ch->priv (wiping secrets). Safe when ch->priv is NULL. */
	void (*free)(struct channel *ch);
};

/* A configured channel: the section `channel "NAME" { driver = ... }`. */
struct channel {
	const struct channel_driver *driver;
	char *name; /* owned; section title: "mail", "web", ... */
	void *priv; /* the driver's state */
};

/* The driver named name, or NULL. */
const struct channel_driver *channel_driver_find(const char *name);

/* The NULL-terminated array of every registered driver. */
const struct channel_driver *const *channel_drivers(void);

/* Wrappers: callers use these, never ch->driver directly. */
static inline int channel_configure(struct channel *ch, cfg_t *sec,
				    const char *file, struct diag_list *diags)
{
	return ch->driver->configure(ch, sec, file, diags);
}

static inline int channel_start(struct channel *ch, struct event_base *base)
{
	return ch->driver->start(ch, base);
}

static inline int channel_send(struct channel *ch,
			       const struct channel_message *msg,
			       channel_done_fn done, void *arg)
{
	return ch->driver->send(ch, msg, done, arg);
}

static inline void channel_cancel(struct channel *ch, const char *key)
{
	ch->driver->cancel(ch, key);
}

static inline size_t channel_in_flight(struct channel *ch)
{
	return ch->driver->in_flight(ch);
}

static inline void channel_stop(struct channel *ch)
{
	ch->driver->stop(ch);
}

static inline void channel_free_priv(struct channel *ch)
{
	if (ch->driver && ch->driver->free)
		ch->driver->free(ch);
	ch->priv = NULL;
}

#endif
