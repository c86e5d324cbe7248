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

#include "common/buf.h"
#include "dispatcher/alert.h"
#include "dispatcher/config.h"
#include "dispatcher/store.h"

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

/* The engine's store, for status queries. */
struct store *engine_store(struct engine *e);

/* Writes everything pending now (the API calls it before reading). */
void engine_flush(struct engine *e);

/* Appends the Prometheus exposition of the engine's metrics to out. */
int engine_metrics(struct engine *e, struct buf *out);

/* True while the engine takes new alerts (false once shutdown began). */
bool engine_accepting(struct engine *e);

/*
 * Checks a bearer token against the configured operators. Returns the
 * operator's name (owned by the engine) or NULL.
 */
const char *engine_authenticate(struct engine *e, const char *token);

#endif
