/*
 * The engine: accepts alerts, plans their deliveries, keeps them on disk
 * and sends them through the channels, retrying and recording outcomes.
 * Runs on one libevent loop; everything here is called on that loop's
 * thread.
 */
#ifndef POCALERT_ENGINE_H
#define POCALERT_ENGINE_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <jansson.h>
#include <stdint.h>

#include "common/buf.h"
#include "dispatcher/engine/alert.h"
#include "dispatcher/engine/config.h"
#include "dispatcher/store/store.h"

struct engine;

/*
 * Builds the engine from a loaded config on base: opens the store,
 * configures and starts the channels, reloads every unfinished delivery.
 * Errors go to diags (config errors as FILE:LINE). On success *ret owns
 * the engine; config must outlive it.
 */
int engine_new(struct event_base *base, const struct config *config,
	       struct engine **ret, struct diag_list *diags);

/*
 * Stops taking work, waits up to grace_ms for sends in flight, writes
 * everything pending and frees the engine. NULL is a no-op.
 */
void engine_free(struct engine *e, int grace_ms);

/*
 * Accepts an alert: expands its targets, plans the deliveries, commits
 * them to the store and schedules the sends, then returns. *ret_id gets
 * the new alert's id (malloc'd, caller owns it). Returns 0, -EINVAL with
 * err filled (unknown target, policy, ...), or -EIO.
 */
int engine_accept(struct engine *e, const struct alert_input *in,
		  const char *operator_name, char **ret_id,
		  struct alert_error *err);

/*
 * Cancels an alert: its waiting deliveries become cancelled and nothing
 * more is sent. With notify, everyone already notified gets a
 * cancellation notice. Returns 0, -ENOENT, or -EALREADY when it had
 * already finished.
 */
int engine_cancel(struct engine *e, const char *alert_id, bool notify,
		  const char *operator_name);

/*
 * Switches a running engine to next (reload.c): operators, policies,
 * selection rules, calendar, mode and the directory cache take effect for
 * decisions from now on; alerts already accepted keep their policy, sends
 * in flight and timers are untouched. A next that changes what only a
 * restart can (database, listeners, channels) is refused with diags and
 * -EINVAL, the old config kept. The caller keeps both configs alive until
 * engine_free (channels point into the one they started with).
 */
int engine_reload(struct engine *e, const struct config *next,
		  struct diag_list *diags);

/*
 * Counts a reload refused before the engine saw it (the file did not
 * load). engine_reload counts its own outcomes.
 */
void engine_reload_refused(struct engine *e);

/*
 * Appends pocalert_build_info, pocalert_config_reloads_total and
 * pocalert_alerts_active to out (reload.c). Returns 0 or -ENOMEM.
 */
int engine_reload_metrics(struct engine *e, struct buf *out);

/*
 * Deliveries not yet settled (queued, waiting to retry, in flight) and
 * alerts still active, for systemd's STATUS= line.
 */
void engine_pending(struct engine *e, size_t *ret_deliveries,
		    size_t *ret_alerts);

/* The engine's store, for status queries. */
struct store *engine_store(struct engine *e);

/* Writes everything pending now (the API calls it before reading). */
void engine_flush(struct engine *e);

/* Appends the Prometheus exposition of the engine's metrics to out. */
int engine_metrics(struct engine *e, struct buf *out);

/* True while the engine takes new alerts (false once shutdown began). */
bool engine_accepting(struct engine *e);

/*
 * One line on the holiday calendar for /healthz into buf: when it ends
 * and how many days are left. Returns 1 when it ends within 90 days, has
 * ended or is empty (a warning), else 0.
 */
int engine_calendar_status(struct engine *e, char *buf, size_t len);

/*
 * Checks a bearer token against the configured operators. Returns the
 * operator's name (owned by the engine) or NULL.
 */
const char *engine_authenticate(struct engine *e, const char *token);

/* What a reply-link page shows about its alert and contact. */
struct ack_view {
	char *alert_id; /* owned */
	char *title;	/* owned */
	char *body;	/* owned */
	char *type;	/* owned */
	char *severity; /* owned */
	enum tlp tlp;
	bool drill;
	bool cancelled;	    /* the alert was cancelled */
	char *org_id;	    /* owned */
	char *org_name;	    /* owned */
	char *contact_id;   /* owned */
	char *contact_name; /* owned */
	char *language;	    /* owned; "ja" or "en" */
	int64_t created_at; /* ms */
	int64_t confirmed_at; /* this contact's first confirmation, ms; 0 when none */
	char *response;	      /* owned; its latest response, or NULL */
	char *name;	      /* owned; who confirmed, or NULL */
	char *comment;	      /* owned; or NULL */
};

/* Frees what the view owns. NULL is a no-op. */
void ack_view_free(struct ack_view *v);

/* True for received, not-affected, affected, investigating. */
bool ack_response_valid(const char *response);

/*
 * Looks up a reply-link token as it appears in the URL. Unknown and
 * malformed tokens cost the same work as known ones (the token is hashed
 * and looked up either way). With record_open, a link_opened event goes
 * into the timeline (never a confirmation). Returns 0 with *ret filled,
 * or -ENOENT.
 */
int engine_ack_view(struct engine *e, const char *token, bool record_open,
		    const char *source, const char *user_agent,
		    struct ack_view *ret);

/* Completion of engine_ack_confirm: result 0 once durable, or -errno. */
typedef void (*engine_ack_done_fn)(void *arg, int result);

/*
 * Records a confirmation for the token's contact: response (see
 * ack_response_valid), optional name and comment (UTF-8, checked by the
 * caller), the source address and user agent. Idempotent: a later call
 * updates response, name and comment; the first confirmation time stays.
 * A confirmation that satisfies the alert's policy closes the
 * organisation (its waiting deliveries are cancelled, its escalation
 * stops). done is called once the change is on disk (after the group
 * commit), never from inside this call. Returns 0 (done will be called),
 * -ENOENT for an unknown token, -EINVAL for a bad response.
 */
int engine_ack_confirm(struct engine *e, const char *token,
		       const char *response, const char *name,
		       const char *comment, const char *source,
		       const char *user_agent, engine_ack_done_fn done,
		       void *arg);

/*
 * Source-address rate limit for /ack (requests per second per address,
 * 0 = unlimited), from the config's ack_rate_limit.
 */
double engine_ack_rate_limit(struct engine *e);

/*
 * The alert's timeline as JSON: [{"seq","at","actor","kind","org","delivery",
 * "detail","hash"}]. A new reference, or NULL with *ret_notfound set.
 */
json_t *engine_timeline_json(struct engine *e, const char *alert_id,
			     int *ret_notfound);

#endif
