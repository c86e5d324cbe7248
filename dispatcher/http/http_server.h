/*
 * The engine's HTTP listener (evhttp): routes /api/v1/..., /metrics,
 * /healthz, /ack/... and later /hooks/.... Every request path ends in
 * exactly one evhttp_send_reply() or evhttp_send_error(). It faces the
 * public: connections are bounded (http_conn.h), it may speak TLS itself,
 * and /metrics may have a listener of its own.
 */
#ifndef POCALERT_HTTP_SERVER_H
#define POCALERT_HTTP_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include <event2/event.h>

struct engine;
struct http_server;

/* How the listener is set up; http_options_default() fills the rest. */
struct http_options {
	const char *listen;  /* "HOST:PORT"; port 0 picks a free one */
	int max_connections; /* open at most; 0: as the descriptor limit
				less fd_reserve allows, 4096 at most */
	int max_per_address; /* per client address; 0: no cap */
	int fd_reserve;	     /* descriptors kept for sends and files */
	int request_timeout; /* seconds to send a whole request */
	/* Addresses ("192.0.2.1", "10.0.0.0/8", "::1") whose X-Forwarded-For
	 * and Forwarded headers name the client; not owned. */
	const char *const *trusted_proxies;
	size_t n_trusted_proxies;
	/* "HOST:PORT" of a second listener with /metrics and /healthz and
	 * no token (NULL: none); on the main listener /metrics always wants
	 * a bearer token, an operator's or metrics_token_sha256's. */
	const char *metrics_listen;
	const uint8_t *metrics_token_sha256; /* SHA256_LEN bytes, or NULL */
	/* PEM files: with both, the listener speaks TLS itself (for a
	 * deployment without a proxy in front); not copied until used. */
	const char *tls_certificate;
	const char *tls_key;
};

/* The defaults, listening on listen (not copied). */
void http_options_default(struct http_options *o, const char *listen);

/*
 * Listens as o says on base. e may be NULL, to be set with
 * http_server_set_engine() before the loop runs. On success *ret owns
 * the server. Returns 0, -EINVAL for options that do not parse (logged)
 * or another -errno.
 */
int http_server_new_with(struct event_base *base, struct engine *e,
			 const struct http_options *o,
			 struct http_server **ret);

/* http_server_new_with() with the defaults, on listen. */
int http_server_new(struct event_base *base, struct engine *e,
		    const char *listen, struct http_server **ret);

/*
 * Routes requests to e (not owned, must outlive the server). For a
 * server bound before its engine exists: `serve` binds first so that the
 * engine's reply links can name the port the kernel picked.
 */
void http_server_set_engine(struct http_server *h, struct engine *e);

/* The port actually bound. */
int http_server_port(const struct http_server *h);

/*
 * Loads the TLS certificate and key again from their files (after a
 * renewal, on SIGHUP): new connections get them, open ones keep theirs.
 * On failure the old pair stays in use. Returns 0 (also without TLS) or
 * -errno, logged.
 */
int http_server_reload_tls(struct http_server *h);

/* The metrics listener's port, or 0 without one. */
int http_server_metrics_port(const struct http_server *h);

/* Connections open now. */
size_t http_server_connections(const struct http_server *h);

/*
 * Sends out as the reply to req and frees out's body: the one
 * evhttp_send_reply() of every routed request. Handlers do not call it;
 * the server does when they return, or a handler that set out->deferred
 * calls it later, once, for the request it kept.
 */
struct evhttp_request;
struct api_reply;
void http_server_reply(struct evhttp_request *req, struct api_reply *out);

/* Stops listening and frees the server. NULL is a no-op. */
void http_server_free(struct http_server *h);

#endif
