/*
 * The operator API's handlers (/api/v1/alerts...), /metrics and /healthz:
 * see api.h. Each turns a request into calls on the engine and the status
 * reader and fills a reply; http_server.c has already checked the route,
 * the method and the bearer token, and sends the reply.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <jansson.h>

#include "common/log.h"
#include "dispatcher/engine/alert.h"
#include "dispatcher/http/api.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/view/status.h"

#define API_LIST_DEFAULT 50
#define API_LIST_MAX 1000

static int api_dump_cb(const char *data, size_t len, void *arg)
{
	return buf_append(arg, data, len) < 0 ? -1 : 0;
}

void api_reply_json(struct api_reply *out, int status, json_t *body)
{
	buf_free(&out->body);
	out->content_type = NULL;
	/* Compact, UTF-8 as is (Japanese stays readable), one line. */
	if (body == NULL ||
	    json_dump_callback(body, api_dump_cb, &out->body, JSON_COMPACT) <
		    0 ||
	    buf_puts(&out->body, "\n") < 0) {
		buf_free(&out->body);
		out->status = 500;
		buf_puts(&out->body, "{\"error\":\"out of memory\"}\n");
	} else {
		out->status = status;
	}
	json_decref(body);
}

void api_reply_error(struct api_reply *out, int status, const char *field,
		     const char *fmt, ...)
{
	char msg[512];
	va_list ap;
	json_t *j, *m;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	j = json_object();
	/* json_string() refuses bad UTF-8: say something rather than nothing. */
	m = json_string(msg);
	json_object_set_new(j, "error", m ? m : json_string("invalid request"));
	if (field != NULL)
		json_object_set_new(j, "field", json_string(field));
	api_reply_json(out, status, j);
}

void api_reply_text(struct api_reply *out, int status, const char *type,
		    const char *text)
{
	buf_free(&out->body);
	out->status = status;
	out->content_type = type;
	if (buf_puts(&out->body, text) < 0)
		out->status = 500;
}

void api_alert_create(struct api_request *r, struct api_reply *out)
{
	struct alert_input in = {0};
	struct alert_error err = {0};
	char *id = NULL, location[512];
	int rc;

	if (!engine_accepting(r->engine)) {
		api_reply_error(out, 503, NULL,
				"pocalert is shutting down and takes no new "
				"alerts");
		return;
	}
	if (api_request_is_cap(r)) {
		api_alert_create_cap(r, out);
		return;
	}
	rc = alert_input_from_json(r->body, r->body_len, &in, &err);
	if (rc < 0) {
		api_reply_error(out, err.http_status ? err.http_status : 400,
				err.field, "%s", err.message);
		return;
	}
	memset(&err, 0, sizeof(err));
	rc = engine_accept(r->engine, &in, r->operator_name, &id, &err);
	if (rc == 0) {
		snprintf(location, sizeof(location), "/api/v1/alerts/%s", id);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
				  "Location", location);
		api_reply_json(out, 201, json_pack("{ss}", "id", id));
	} else if (rc == -EINVAL) {
		api_reply_error(out, err.http_status ? err.http_status : 400,
				err.field, "%s",
				err.message[0] ? err.message : "invalid alert");
	} else {
		/* No title: it may be TLP:RED, and logs travel further. */
		log_warnx("api: an alert from %s was not accepted: %s",
			  r->operator_name, strerror(-rc));
		api_reply_error(out, 500, NULL,
				"the alert could not be stored; it was not "
				"sent");
	}
	free(id);
	alert_input_free(&in);
}

/* Reads ?limit=N; returns it, or -1 after answering 400. */
static int api_list_limit(struct api_request *r, struct api_reply *out)
{
	struct evkeyvalq q;
	const char *v;
	char *end;
	long n = API_LIST_DEFAULT;

	if (r->query == NULL)
		return API_LIST_DEFAULT;
	/* It initialises q, and leaves it empty when it fails. */
	if (evhttp_parse_query_str(r->query, &q) < 0) {
		api_reply_error(out, 400, "", "malformed query string");
		return -1;
	}
	v = evhttp_find_header(&q, "limit");
	if (v != NULL) {
		errno = 0;
		n = strtol(v, &end, 10);
		if (*v == '\0' || *end != '\0' || errno != 0 || n < 1 ||
		    n > API_LIST_MAX) {
			evhttp_clear_headers(&q);
			api_reply_error(out, 400, "limit",
					"must be a number from 1 to %d",
					API_LIST_MAX);
			return -1;
		}
	}
	evhttp_clear_headers(&q);
	return (int)n;
}

void api_alert_list(struct api_request *r, struct api_reply *out)
{
	int limit = api_list_limit(r, out);
	json_t *list;

	if (limit < 0)
		return;
	engine_flush(r->engine);
	list = status_alert_list(engine_store(r->engine), limit);
	if (list == NULL)
		api_reply_error(out, 500, NULL, "cannot read the alerts");
	else
		api_reply_json(out, 200, list);
}

void api_alert_get(struct api_request *r, struct api_reply *out)
{
	const char *id = r->params[0];
	int notfound = 0;
	json_t *j;

	/* What the engine holds back for its next group commit counts too. */
	engine_flush(r->engine);
	j = status_alert(engine_store(r->engine), id, &notfound);
	if (j != NULL)
		api_reply_json(out, 200, j);
	else if (notfound)
		api_reply_error(out, 404, NULL, "no alert %s", id);
	else
		api_reply_error(out, 500, NULL, "cannot read alert %s", id);
}

/*
 * The optional body of a cancel: nothing, or {"notify": BOOL}. Returns 0,
 * or -1 after answering 400.
 */
static int api_cancel_body(struct api_request *r, struct api_reply *out,
			   bool *notify)
{
	json_error_t jerr;
	const char *key;
	json_t *root, *v;
	size_t i;

	*notify = false;
	for (i = 0; i < r->body_len; i++)
		if (!strchr(" \t\r\n", r->body[i]))
			break;
	if (i == r->body_len)
		return 0;
	root = json_loadb(r->body, r->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (root == NULL || !json_is_object(root)) {
		if (root == NULL)
			api_reply_error(out, 400, "",
					"not valid JSON: %s (line %d, column "
					"%d)",
					jerr.text, jerr.line, jerr.column);
		else
			api_reply_error(out, 400, "", "must be a JSON object");
		json_decref(root);
		return -1;
	}
	json_object_foreach(root, key, v)
	{
		if (strcmp(key, "notify") != 0) {
			api_reply_error(out, 400, key, "unknown field");
			json_decref(root);
			return -1;
		}
		if (!json_is_boolean(v)) {
			api_reply_error(out, 400, "notify",
					"must be true or false");
			json_decref(root);
			return -1;
		}
		*notify = json_is_true(v);
	}
	json_decref(root);
	return 0;
}

void api_alert_cancel(struct api_request *r, struct api_reply *out)
{
	const char *id = r->params[0];
	bool notify;
	json_t *j;
	int rc;

	if (api_cancel_body(r, out, &notify) < 0)
		return;
	rc = engine_cancel(r->engine, id, notify, r->operator_name);
	if (rc == -ENOENT) {
		api_reply_error(out, 404, NULL, "no alert %s", id);
		return;
	}
	if (rc == -EALREADY) {
		api_reply_error(out, 409, NULL, "alert %s has already finished",
				id);
		return;
	}
	if (rc < 0) {
		log_warnx("api: cancel of alert %s by %s failed: %s", id,
			  r->operator_name, strerror(-rc));
		api_reply_error(out, 500, NULL, "cannot cancel alert %s", id);
		return;
	}
	engine_flush(r->engine);
	j = status_alert(engine_store(r->engine), id, NULL);
	/* The cancel happened: a failing read must not make it look failed. */
	if (j == NULL)
		j = json_pack("{ss ss}", "id", id, "state", "cancelled");
	api_reply_json(out, 200, j);
}

void api_alert_timeline(struct api_request *r, struct api_reply *out)
{
	const char *id = r->params[0];
	int notfound = 0;
	json_t *j;

	/* Events still waiting for the group commit belong to it too. */
	engine_flush(r->engine);
	j = engine_timeline_json(r->engine, id, &notfound);
	if (j != NULL)
		api_reply_json(out, 200, j);
	else if (notfound)
		api_reply_error(out, 404, NULL, "no alert %s", id);
	else
		api_reply_error(out, 500, NULL,
				"cannot read the timeline of alert %s", id);
}

void api_metrics(struct api_request *r, struct api_reply *out)
{
	buf_free(&out->body);
	if (engine_metrics(r->engine, &out->body) < 0) {
		api_reply_error(out, 500, NULL, "cannot render the metrics");
		return;
	}
	out->status = 200;
	out->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

void api_healthz(struct api_request *r, struct api_reply *out)
{
	char line[320], text[400];
	int warn = engine_calendar_status(r->engine, line, sizeof(line));

	/* Still 200: the daemon works; the calendar line says what to fix. */
	snprintf(text, sizeof(text), "ok\n%s%s\n", warn ? "warning: " : "",
		 line);
	api_reply_text(out, 200, "text/plain; charset=utf-8", text);
}
