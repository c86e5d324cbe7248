/*
 * The reply links over HTTP: GET /ack/{token} shows the alert and a form,
 * POST /ack/{token} records the recipient's answer and replies once the
 * engine says it is on disk. In front of both, a rate limit with two
 * budgets: each link's own, and one per client address for unknown
 * tokens, so that junk never locks a recipient out.
 * The pages themselves are ack_page.c's; this file is the protocol:
 * token checks, form parsing and validation, status codes, headers, and
 * the deferred reply of a POST.
 *
 * Routes and status codes:
 *   GET|HEAD /ack/{token}  200 page with form; 404; 429; 500
 *   POST /ack/{token}      200 once durable; 400 (form shown again); 404;
 *                          413 (body over ACK_MAX_BODY); 415 (not a
 *                          form);
 *                          429 (with Retry-After); 500
 * Unknown and malformed tokens get the same 404 bytes after the same
 * engine work. Every page carries a Content-Security-Policy that allows
 * no script, no frame and no form target but our own.
 */
#ifndef POCALERT_ACK_HTTP_H
#define POCALERT_ACK_HTTP_H

#include "dispatcher/http/ack_page.h"
#include "dispatcher/http/api.h"

/*
 * Largest form body a POST may carry, sized from the form's own limits
 * so that every answer the form lets a person type fits: a character is
 * at most 4 bytes of UTF-8 and each byte at most 3 once percent-encoded
 * ("%E3"), so 12 bytes a character; a newline the textarea counts as one
 * character goes out as CRLF, "%0D%0A", 6 bytes. The rest is the field
 * names, the answer and white space that trimming removes.
 */
#define ACK_FORM_BYTES_PER_CHAR 12
#define ACK_MAX_BODY                                                           \
	((ACK_NAME_MAX + ACK_COMMENT_MAX) * ACK_FORM_BYTES_PER_CHAR + 1024)

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
