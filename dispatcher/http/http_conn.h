/*
 * The listener's connections, counted and bounded: how many are open in
 * all and per client address, how long a client may take to send a
 * whole request, how much it may send ahead of the replies it has not
 * read, and what happens when accept() runs out of descriptors. evhttp
 * (libevent 2.1) has no knob for any of these; this module adds them
 * from the outside, through the bufferevent each new connection is
 * given (evhttp_set_bevcb()) and the connection's close callback.
 *
 * A connection is "busy" from the moment its request reaches a handler
 * until its reply is written; only connections that are not busy are
 * ever closed to make room, so an answer waiting for the disk is never
 * cut off.
 */
#ifndef POCALERT_HTTP_CONN_H
#define POCALERT_HTTP_CONN_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/event.h>
#include <event2/http.h>

struct bufferevent;
struct ssl_ctx_st;

struct http_conn_limits {
	int max_connections; /* open at most, in all (> 0) */
	int max_per_address; /* open at most per client address; 0: no cap */
	int request_timeout; /* seconds to send a whole request; 0: none */
	size_t read_ahead;   /* bytes read ahead of the replies, at most */
};

/*
 * Decides whether addr (textual, as getpeername() gives it) is exempt
 * from max_per_address: a trusted reverse proxy carries every client.
 */
typedef bool (*http_conn_exempt_fn)(const char *addr, void *arg);

struct http_conns;

/*
 * Watches every connection http accepts on base from now on. lim is
 * copied. On success *ret owns the watcher; free it (http_conns_free())
 * after evhttp_free(http), which closes the connections it counts.
 * Returns 0, -EINVAL or -ENOMEM.
 */
int http_conns_new(struct event_base *base, struct evhttp *http,
		   const struct http_conn_limits *lim, struct http_conns **ret);

/* Sets the per-address exemption (NULL: none). */
void http_conns_set_exempt(struct http_conns *c, http_conn_exempt_fn fn,
			   void *arg);

/*
 * Speaks TLS on new connections with ctx (a reference is taken; NULL:
 * plain HTTP again). Connections already open keep what they had.
 */
void http_conns_set_tls(struct http_conns *c, struct ssl_ctx_st *ctx);

/*
 * Pauses accepting on listener's socket for a moment whenever accept()
 * fails for want of descriptors or memory, instead of retrying at once
 * in a loop, and logs it at most once a second.
 */
void http_conns_watch_listener(struct http_conns *c,
			       struct evhttp_bound_socket *sock);

/*
 * A whole request of req's connection has reached the router: its
 * deadline stops and the connection is busy until the reply is written.
 */
void http_conns_request_started(struct http_conns *c,
				struct evhttp_request *req);

/*
 * Calls cb(evcon, arg) when evhttp frees evcon (cb NULL: not any more).
 * The watcher holds evhttp's one close callback per connection, so every
 * other user goes through here. Returns 0, or -ENOENT when the watcher
 * does not know evcon (then evhttp's own callback is set instead).
 */
int http_conns_set_closecb(struct http_conns *c,
			   struct evhttp_connection *evcon,
			   void (*cb)(struct evhttp_connection *, void *),
			   void *arg);

/* Connections open now (for tests and metrics). */
size_t http_conns_count(const struct http_conns *c);

/* Frees the watcher. NULL is a no-op. */
void http_conns_free(struct http_conns *c);

#endif
