/*
 * POST /hooks/{channel}/{what}: see hooks.h. Divided into the form
 * decoder (application/x-www-form-urlencoded, '+' as space, %XX, every
 * name and value checked to be UTF-8 without NUL), the handler, and the
 * waiting requests: a callback's answer is deferred until the engine's
 * commit, and a request whose connection dies meanwhile is forgotten
 * through the connection watcher's close callback, as ack_http.c does.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/log.h"
#include "common/utf8.h"
#include "dispatcher/engine/gateway.h"
#include "dispatcher/http/hooks.h"
#include "dispatcher/http/http_conn.h"
#include "dispatcher/http/http_server.h"

/* Twilio's callbacks carry a few dozen fields; far more is not one. */
#define HOOKS_MAX_PARAMS 64

struct hook_pending {
	struct evhttp_request *req; /* NULL once its connection died */
	struct evhttp_connection *evcon;
	struct http_conns *conns;
	LIST_ENTRY(hook_pending) link;
};

static LIST_HEAD(, hook_pending) pending = LIST_HEAD_INITIALIZER(pending);

/*
 * Decodes s[0..len) into a new string owned by the caller; NULL for a
 * bad escape, a NUL, bad UTF-8, or no memory.
 */
static char *form_decode(const char *s, size_t len)
{
	char *out = malloc(len + 1), *p = out;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			*p++ = ' ';
		} else if (s[i] == '%') {
			char hex[3];
			char *end;
			long v;

			if (i + 2 >= len)
				goto bad;
			hex[0] = s[i + 1];
			hex[1] = s[i + 2];
			hex[2] = '\0';
			v = strtol(hex, &end, 16);
			if (end != hex + 2 || v == 0)
				goto bad;
			*p++ = (char)v;
			i += 2;
		} else {
			*p++ = s[i];
		}
	}
	*p = '\0';
	if (!utf8_valid(out, (size_t)(p - out), NULL))
		goto bad;
	return out;
bad:
	free(out);
	return NULL;
}

struct form {
	char *names[HOOKS_MAX_PARAMS];
	char *values[HOOKS_MAX_PARAMS];
	size_t n;
};

static void form_free(struct form *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->names[i]);
		free(f->values[i]);
	}
	f->n = 0;
}

/* Returns 0, -EINVAL for a body that is not a form, or -E2BIG. */
static int form_parse(const char *body, size_t len, struct form *f)
{
	size_t i = 0;

	f->n = 0;
	while (i < len) {
		size_t end = i, eq;

		while (end < len && body[end] != '&')
			end++;
		if (end == i) {
			i++;
			continue;
		}
		if (f->n == HOOKS_MAX_PARAMS)
			return -E2BIG;
		for (eq = i; eq < end && body[eq] != '='; eq++)
			;
		f->names[f->n] = form_decode(body + i, eq - i);
		f->values[f->n] = form_decode(body + (eq < end ? eq + 1 : end),
					      eq < end ? end - eq - 1 : 0);
		if (f->names[f->n] == NULL || f->values[f->n] == NULL) {
			free(f->names[f->n]);
			free(f->values[f->n]);
			return -EINVAL;
		}
		f->n++;
		i = end + 1;
	}
	return 0;
}

static void hook_closed(struct evhttp_connection *evcon, void *arg)
{
	struct hook_pending *p = arg;

	if (p->req != NULL && evhttp_request_get_connection(p->req) == evcon)
		p->req = NULL;
	p->evcon = NULL;
}

static void hook_done(void *arg, int result, const char *reply,
		      const char *type)
{
	struct hook_pending *p = arg;
	struct api_reply out = {0};

	LIST_REMOVE(p, link);
	if (p->req != NULL) {
		if (p->evcon != NULL)
			http_conns_set_closecb(p->conns, p->evcon, NULL, NULL);
		if (result < 0) {
			log_warnx("hooks: a callback was not recorded: %s",
				  strerror(-result));
			api_reply_error(&out, 500, NULL, "not recorded");
		} else {
			/* An empty TwiML answer: nothing to say or do. */
			api_reply_text(&out, 200, type,
				       reply[0] ? reply : "<Response/>");
		}
		http_server_reply(p->req, &out);
	}
	free(p);
}

void hooks_detach_all(void)
{
	struct hook_pending *p;

	LIST_FOREACH(p, &pending, link)
	{
		if (p->evcon != NULL) {
			http_conns_set_closecb(p->conns, p->evcon, NULL, NULL);
			p->evcon = NULL;
		} else if (p->req != NULL) {
			evhttp_request_free(p->req);
		}
		p->req = NULL;
	}
}

void hooks_handle(struct api_request *r, struct api_reply *out)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(r->req);
	const char *ct = evhttp_find_header(in, "Content-Type");
	struct hook_pending *p = NULL;
	struct form f = {0};
	struct engine_hook h;
	int rc;

	if (ct == NULL ||
	    strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0) {
		api_reply_error(out, 415, NULL, "want a form");
		return;
	}
	rc = form_parse(r->body, r->body_len, &f);
	if (rc < 0) {
		api_reply_error(out, 400, NULL, "malformed form");
		goto out;
	}
	p = calloc(1, sizeof(*p));
	if (p == NULL) {
		api_reply_error(out, 500, NULL, "out of memory");
		goto out;
	}
	h = (struct engine_hook){
		.channel = r->params[0],
		.what = r->params[1],
		.uri = evhttp_request_get_uri(r->req),
		.signature = evhttp_find_header(in, "X-Twilio-Signature"),
		.source = r->client,
		.names = (const char *const *)f.names,
		.values = (const char *const *)f.values,
		.n_params = f.n,
	};
	/* Linked first: the completion unlinks, and never runs in here. */
	LIST_INSERT_HEAD(&pending, p, link);
	rc = engine_gateway_callback(r->engine, &h, hook_done, p);
	if (rc < 0) {
		LIST_REMOVE(p, link);
		free(p);
		p = NULL;
		if (rc == -EPERM)
			api_reply_error(out, 403, NULL, "bad signature");
		else if (rc == -ENOENT || rc == -ENOTSUP)
			api_reply_error(out, 404, NULL, "no such hook");
		else if (rc == -EINVAL)
			api_reply_error(out, 400, NULL, "malformed callback");
		else
			api_reply_error(out, 500, NULL, "not recorded");
		goto out;
	}
	p->req = r->req;
	p->evcon = evhttp_request_get_connection(r->req);
	p->conns = r->conns;
	if (p->evcon != NULL)
		http_conns_set_closecb(p->conns, p->evcon, hook_closed, p);
	out->deferred = true;
out:
	form_free(&f);
}
