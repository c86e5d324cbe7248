/*
 * The handlers behind the HTTP listener's routes (http_server.c holds the
 * route table, authentication and the one reply per request). A handler
 * reads an api_request and fills an api_reply; it never calls
 * evhttp_send_*() itself, so that every request path ends in exactly one
 * reply however a handler returns. It may add response headers through
 * evhttp_request_get_output_headers(r->req).
 */
#ifndef POCALERT_API_H
#define POCALERT_API_H

#include <stdbool.h>
#include <stddef.h>

#include <event2/http.h>
#include <jansson.h>

#include "common/buf.h"

#define API_MAX_PARAMS 4

struct engine;
struct ack_http;
struct http_conns;

struct api_request {
	struct engine *engine;
	struct ack_http *ack;	    /* the reply links' state (ack_http.h) */
	struct evhttp_request *req; /* headers, peer; not for replying */
	struct http_conns *conns;   /* close callbacks go through it */
	const char *client;	    /* the client's address: the peer, or what a
			       trusted proxy says (client_addr.h) */
	enum evhttp_cmd_type method;  /* HEAD arrives as GET */
	const char *operator_name;    /* authenticated operator, else NULL */
	char *params[API_MAX_PARAMS]; /* '*' segments decoded, '**' raw */
	const char *query;	      /* raw query string, or NULL */
	const char *body;	      /* request body, not NUL-terminated */
	size_t body_len;
};

struct api_reply {
	int status;		  /* 0 until a handler answers */
	const char *content_type; /* a literal; NULL means JSON */
	struct buf body;	  /* owned; freed by the server */
	/*
	 * The handler kept r->req and answers later, through
	 * http_server_reply(), exactly once (a reply that must wait for the
	 * disk); the server then sends nothing now.
	 */
	bool deferred;
};

typedef void (*api_handler)(struct api_request *r, struct api_reply *out);

/* POST /api/v1/alerts: 201 {"id"}, 400/413 {"error","field"}, 503. */
void api_alert_create(struct api_request *r, struct api_reply *out);
/*
 * POST /api/v1/alerts with Content-Type application/cap+xml (api_cap.c):
 * an Alert is a new alert, 201 {"id"}, or 200 {"id","duplicate"} when
 * the same message came before; a Cancel cancels the alerts its
 * references name, with notices, 200 {"cancelled":[ids]}; 400 with the
 * element's path; 404 when no referenced alert is known.
 */
void api_alert_create_cap(struct api_request *r, struct api_reply *out);
/* True when r's Content-Type is application/cap+xml (any parameters). */
bool api_request_is_cap(struct api_request *r);
/* GET /api/v1/alerts[?limit=N]: the recent alerts, newest first. */
void api_alert_list(struct api_request *r, struct api_reply *out);
/* GET /api/v1/alerts/{id}: the alert's status, or 404. */
void api_alert_get(struct api_request *r, struct api_reply *out);
/* POST /api/v1/alerts/{id}/cancel [{"notify":true}]: 200, 404, 409. */
void api_alert_cancel(struct api_request *r, struct api_reply *out);
/* GET /api/v1/alerts/{id}/timeline: the alert's events, or 404. */
void api_alert_timeline(struct api_request *r, struct api_reply *out);
/* GET /metrics: Prometheus text. */
void api_metrics(struct api_request *r, struct api_reply *out);
/* GET /healthz: "ok\n". */
void api_healthz(struct api_request *r, struct api_reply *out);

/*
 * Reply helpers for every handler. api_reply_json() takes the reference
 * to body (NULL: a 500); api_reply_error() answers {"error": MESSAGE}
 * plus "field" when field is not NULL.
 */
void api_reply_json(struct api_reply *out, int status, json_t *body);
void api_reply_error(struct api_reply *out, int status, const char *field,
		     const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
void api_reply_text(struct api_reply *out, int status, const char *type,
		    const char *text);

#endif
