/*
 * The engine's HTTP listener (evhttp): routes /api/v1/..., /metrics,
 * /healthz, and later /ack/... and /hooks/.... Every request path ends in
 * exactly one evhttp_send_reply() or evhttp_send_error().
 */
#ifndef POCALERT_HTTP_SERVER_H
#define POCALERT_HTTP_SERVER_H

#include <event2/event.h>

struct engine;
struct http_server;

/*
 * Listens on listen ("HOST:PORT"; port 0 picks a free one) on base.
 * e may be NULL, to be set with http_server_set_engine() before the loop
 * runs. On success *ret owns the server. Returns 0 or -errno.
 */
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
