/*
 * Gateway callbacks in the engine: the HTTP layer (dispatcher/http/
 * hooks.c) hands over a callback for one channel as it came; the
 * channel's driver checks its signature and reads it, and the engine
 * turns the reading into what it means for an alert: a timeline event
 * for the delivery the gateway id names, a confirmation by keypress
 * (exactly the reply-link confirmation of ack.c), or an SMS reply from a
 * contact's number.
 */
#ifndef POCALERT_ENGINE_GATEWAY_H
#define POCALERT_ENGINE_GATEWAY_H

#include <stddef.h>

struct engine;

/*
 * Completion of engine_gateway_callback(): result 0 once what the
 * callback changed is on disk, or -errno; reply is what to answer the
 * gateway (may be ""), of content type type. Both valid during the call.
 */
typedef void (*engine_hook_done_fn)(void *arg, int result, const char *reply,
				    const char *type);

/* A callback as it reached the listener. Nothing in it is owned. */
struct engine_hook {
	const char *channel;   /* the {channel} of /hooks/{channel}/... */
	const char *what;      /* the rest of the path */
	const char *uri;       /* path and query as requested, raw */
	const char *signature; /* X-Twilio-Signature, or NULL */
	const char *source;    /* the client's address, for the timeline */
	const char *const *names;
	const char *const *values;
	size_t n_params;
};

/*
 * Hands h to its channel's driver and acts on its reading. Returns 0
 * (done is then called once, later, once durable), or at once -ENOENT
 * for no such channel or path, -EPERM for a bad signature (nothing was
 * recorded), -EINVAL for a callback that does not parse, -ENOTSUP for a
 * channel without callbacks; done is not called then.
 */
int engine_gateway_callback(struct engine *e, const struct engine_hook *h,
			    engine_hook_done_fn done, void *arg);

#endif
