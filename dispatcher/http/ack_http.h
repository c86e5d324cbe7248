/*
 * The reply links over HTTP: GET /ack/{token} shows the alert and a form,
 * POST /ack/{token} records the recipient's answer and replies once the
 * engine says it is on disk. In front of both, a per-address rate limit.
 * The pages themselves are ack_page.c's; this file is the protocol:
 * token checks, form parsing and validation, status codes, headers, and
 * the deferred reply of a POST.
 *
 * Routes and status codes:
 *   GET|HEAD /ack/{token}  200 page with form; 404; 429; 500
 *   POST /ack/{token}      200 once durable; 400 (form shown again); 404;
 *                          413 (body over 16 KiB); 415 (not a form);
 *                          429 (with Retry-After); 500
 * Unknown and malformed tokens get the same 404 bytes after the same
 * engine work. Every page carries a Content-Security-Policy that allows
 * no script, no frame and no form target but our own.
 */
#ifndef POCALERT_ACK_HTTP_H
#define POCALERT_ACK_HTTP_H

#include "dispatcher/http/api.h"

/* Largest form body a POST may carry. */
#define ACK_MAX_BODY (16 * 1024)

/* Addresses the rate limiter keeps at most. */
#define ACK_RATE_ENTRIES 8192

struct ack_http;

/*
 * The reply links' state for one HTTP server: the rate limiter and the
 * answers waiting for the disk. On success *ret owns it. Returns 0 or
 * -ENOMEM.
 */
int ack_http_new(struct ack_http **ret);

/*
 * Frees the state. Answers still waiting for the engine are let go: the
 * engine's completion still arrives and frees them, but nothing is sent
 * (the server and its connections are going away). Call it before
 * evhttp_free(). NULL is a no-op.
 */
void ack_http_free(struct ack_http *a);

/*
 * The handler of "/ack/" + "**" for GET, HEAD and POST: r->params[0]
 * is the raw rest of the path, r->ack the state. Fills out, or sets
 * out->deferred and answers later through http_server_reply().
 */
void ack_http_handle(struct api_request *r, struct api_reply *out);

#endif
