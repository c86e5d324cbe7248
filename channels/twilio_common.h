/*
 * What the Twilio-shaped drivers (twilio-voice, and twilio-sms after it)
 * share: their settings (gateway base URL, account SID, the auth token
 * read from a file, the pool of sender numbers), form encoding for the
 * REST calls, XML escaping for TwiML, the classification of the REST
 * answer into a channel outcome, and a table of sends by gateway id that
 * remembers finished ones for a while, so a late callback still finds
 * whose it was. No event loop here except the table's completions.
 */
#ifndef POCALERT_TWILIO_COMMON_H
#define POCALERT_TWILIO_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <confuse.h>

#include "channels/channel.h"
#include "common/buf.h"

/* Sends kept after they finished, for late callbacks. */
#define TWILIO_KEEP_FINISHED 8192

/*
 * One gateway account. A channel has its own (base_url, account_sid,
 * auth_token_file) first, then its `provider "NAME" {...}` sections in
 * order; each has a circuit breaker: breaker_failures failures in a row
 * open it for breaker_open seconds, then one send probes it.
 */
struct twilio_provider {
	char *name;	    /* owned; "primary" or the section's title */
	char *base_url;	    /* owned; no trailing '/' */
	char *account_sid;  /* owned */
	char *token;	    /* owned; secret, wiped when freed */
	int failures;	    /* in a row */
	int64_t open_until; /* monotonic ms; 0: closed */
	bool probing;	    /* half open: its one probe is out */
};

/* The provider sections every Twilio-shaped driver accepts. */
extern cfg_opt_t twilio_provider_options[];
#define TWILIO_CFG_PROVIDERS                                                   \
	CFG_SEC("provider", twilio_provider_options,                           \
		CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),                \
		CFG_INT("breaker_failures", 5, CFGF_NONE),                     \
		CFG_INT("breaker_open", 30, CFGF_NONE)

struct twilio_conf {
	char *base_url;	   /* owned; the first provider's, no trailing '/' */
	char *account_sid; /* owned; the first provider's */
	char *token;	   /* owned; the first provider's; wiped when freed */
	struct twilio_provider *prov; /* owned; every provider, in order */
	size_t n_prov;
	int breaker_failures;
	int breaker_open; /* seconds */
	char **from;	  /* owned; the sender pool */
	size_t n_from;
	size_t next_from; /* round robin */
	long timeout;	  /* REST request timeout, seconds */
};

/*
 * Reads base_url, account_sid, auth_token_file and from from sec into c.
 * Errors go to diags as FILE:LINE, never quoting the token. Returns 0,
 * -EINVAL or -ENOMEM.
 */
int twilio_conf_read(struct twilio_conf *c, const char *channel, cfg_t *sec,
		     const char *file, struct diag_list *diags);
/* Frees c's strings, wiping the token. */
void twilio_conf_fini(struct twilio_conf *c);
/* The next sender number of the pool, in turn. */
const char *twilio_conf_from(struct twilio_conf *c);

/* Appends name=value, form-encoded, with '&' before all but the first. */
int twilio_form_add(struct buf *b, const char *name, const char *value);
/* Appends s with &, <, >, " and ' escaped for XML. */
int twilio_xml_add(struct buf *b, const char *s);

/*
 * The outcome of a REST answer that did not create the resource: 429 and
 * 5xx and anything below HTTP are TEMPFAIL, other 4xx PERMFAIL.
 */
enum channel_status twilio_rest_status(int http_status, bool transport_error);

/* True when cb is signed with any of c's providers' tokens. */
bool twilio_conf_verify(const struct twilio_conf *c,
			const struct channel_callback *cb);

/*
 * The value of parameter name in a callback, or NULL.
 */
const char *twilio_param(const struct channel_callback *cb, const char *name);

/* One send as the table keeps it. */
struct twilio_send {
	char *sid;	  /* owned; the gateway's id, NULL before 201 */
	char *key;	  /* owned; the message's key */
	char *alert_id;	  /* owned */
	char *org_id;	  /* owned */
	char *contact_id; /* owned */
	char *extra;	  /* owned; the driver's (voice: the TwiML) */
	bool finished;	  /* its completion was called or is queued */
	channel_done_fn done;
	void *arg;
	struct channel_outcome out; /* the queued completion */
	char detail[128];
	struct twilio_send *hnext; /* in its hash bucket */
	struct twilio_send *qnext; /* in the completion queue */
	struct twilio_send *fnext; /* in the finished ring (oldest first) */
	struct event *timer;	   /* owned; gives up on a silent gateway */
	void *owner;		   /* the table */
	struct http_request *req;  /* the REST request while it runs */
	struct twilio_send *rprev, *rnext; /* in the REST list, while it runs */
	/* For a resubmission to the next provider: */
	char *resource; /* owned; "Calls.json", ... */
	char *ctype;	/* owned; the Content-Type header line */
	char *body;	/* owned; the request body */
	size_t body_len;
	size_t prov;	/* the provider it went to */
	uint64_t tried; /* providers tried, a bit each */
	char via[96];	/* what the timeline learns of a handover */
};

struct twilio_table {
	struct twilio_send **buckets; /* owned; by sid */
	size_t nbuckets;
	struct twilio_send *queue, **queue_tail; /* completions to call */
	struct twilio_send *fin_head, *fin_tail; /* finished, oldest first */
	size_t n_finished;
	size_t in_flight; /* sends whose completion was not called */
	struct event *ev; /* owned; calls the queued completions */
	struct event_base *base;
	struct twilio_send *rest; /* sends whose REST request runs */
	int status_timeout;	  /* seconds to wait for the final status */
	/* Final statuses that came before their send's 201 was read (the
	   gateway may call back faster than we read its answer). */
	struct {
		char sid[65];
		enum channel_status status;
		int code;
		char detail[64];
	} early[64];
	size_t next_early;
	struct twilio_conf *conf; /* not owned; for submissions */
	struct http_client *http; /* not owned */
};

/* Returns 0 or -ENOMEM. */
int twilio_table_init(struct twilio_table *t, struct event_base *base);
/*
 * Completes every unfinished send with TEMPFAIL "stopped" now, then
 * frees everything. Safe on a zeroed table.
 */
void twilio_table_fini(struct twilio_table *t);
/* A new send (not yet indexed), copying msg's ids; NULL on no memory. */
struct twilio_send *twilio_send_new(struct twilio_table *t,
				    const struct channel_message *msg,
				    channel_done_fn done, void *arg);
/* Forgets a send refused at once: its completion is never called. */
void twilio_send_drop(struct twilio_table *t, struct twilio_send *s);
/* The REST request of s ended (before indexing or finishing it). */
void twilio_rest_ended(struct twilio_table *t, struct twilio_send *s);
/*
 * After the REST request: waits at most seconds for the final status,
 * then finishes s with TEMPFAIL. Returns 0 or -ENOMEM.
 */
int twilio_send_arm(struct twilio_table *t, struct twilio_send *s, int seconds);
/* Indexes s by its sid (set by the caller, owned by s). */
void twilio_table_index(struct twilio_table *t, struct twilio_send *s);
/* The send with this sid, finished or not, or NULL. */
struct twilio_send *twilio_table_find(struct twilio_table *t, const char *sid);
/*
 * Finishes s: its completion is queued and called on the loop's next
 * turn. Does nothing for a send already finished (so a send never moves
 * backwards). A send without a sid is freed after its completion; one
 * with a sid is kept among the finished for late callbacks.
 */
void twilio_finish(struct twilio_table *t, struct twilio_send *s,
		   enum channel_status status, int code, const char *detail,
		   int retry_after);

/*
 * twilio_finish() for the send with this sid; for a sid not yet known,
 * the outcome is kept and applied once the REST answer names it.
 */
void twilio_finish_sid(struct twilio_table *t, const char *sid,
		       enum channel_status status, int code,
		       const char *detail);

/*
 * Sends s's REST request (POST {base}/2010-04-01/Accounts/{sid}/resource
 * with the body and Content-Type line) to the first provider whose
 * breaker lets it, and on a failure of that provider to the next. Takes
 * body (copies it). Returns 0 (the send then finishes later), or -errno
 * when refused at once (then the caller drops s).
 */
int twilio_submit(struct twilio_table *t, struct twilio_send *s,
		  const char *resource, const char *ctype, const char *body,
		  size_t len);

/*
 * Completion of the REST request that creates a call or message (arg is
 * the twilio_send): indexes it by its sid and waits for the status
 * callbacks, or finishes it as the HTTP answer says.
 */
struct http_response;
void twilio_created(void *arg, const struct http_response *res);

#endif
