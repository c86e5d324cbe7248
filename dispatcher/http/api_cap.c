/*
 * The operator API's CAP 1.2 door: POST /api/v1/alerts with Content-Type
 * application/cap+xml (see api.h). The message is parsed and checked by
 * engine/cap.c; this file only turns its msgType into calls on the
 * engine. An Alert becomes an alert whose id comes from the message
 * itself (cap_alert_id), so a message posted again finds the alert it
 * made the first time and nothing is sent twice. A Cancel finds the
 * alerts of the messages it references the same way and cancels them
 * with notices to everyone they reached.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <jansson.h>

#include "common/log.h"
#include "dispatcher/engine/alert.h"
#include "dispatcher/engine/cap.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/http/api.h"
#include "dispatcher/view/status.h"

bool api_request_is_cap(struct api_request *r)
{
	const char *ct = evhttp_find_header(
		evhttp_request_get_input_headers(r->req), "Content-Type");
	size_t n = strlen("application/cap+xml");

	return ct != NULL && strncasecmp(ct, "application/cap+xml", n) == 0 &&
	       (ct[n] == '\0' || ct[n] == ';' || ct[n] == ' ');
}

static void cap_reply_error(struct api_reply *out, const struct cap_error *e)
{
	api_reply_error(out, 400, e->path, "%s%s%s", e->path,
			e->path[0] ? ": " : "", e->message);
}

/* msgType Alert: a new alert, or the one this message made before. */
static void cap_new_alert(struct api_request *r, struct api_reply *out,
			  const struct cap_alert *a)
{
	struct alert_input in = {0};
	struct alert_error err = {0};
	char *id = NULL, location[512];
	int rc, notfound = 0;
	json_t *existing;

	rc = cap_to_input(a, &in, &err);
	if (rc < 0) {
		if (rc == -EINVAL)
			api_reply_error(out, err.http_status, err.field, "%s",
					err.message);
		else
			api_reply_error(out, 500, NULL, "out of memory");
		return;
	}
	snprintf(location, sizeof(location), "/api/v1/alerts/%s", in.id);
	/* What waits for the group commit counts as stored. */
	engine_flush(r->engine);
	existing = status_alert(engine_store(r->engine), in.id, &notfound);
	if (existing != NULL) {
		json_decref(existing);
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
				  "Location", location);
		api_reply_json(
			out, 200,
			json_pack("{ss sb}", "id", in.id, "duplicate", 1));
		goto out;
	}
	if (!notfound) {
		api_reply_error(out, 500, NULL, "cannot read the alerts");
		goto out;
	}
	rc = engine_accept(r->engine, &in, r->operator_name, &id, &err);
	if (rc == 0) {
		evhttp_add_header(evhttp_request_get_output_headers(r->req),
				  "Location", location);
		api_reply_json(out, 201, json_pack("{ss}", "id", id));
	} else if (rc == -EINVAL) {
		/* The planner's words (an unknown organisation) name our field. */
		api_reply_error(out, err.http_status ? err.http_status : 400,
				err.field, "%s",
				err.message[0] ? err.message : "invalid alert");
	} else {
		log_warnx("api: a CAP alert from %s was not accepted: %s",
			  r->operator_name, strerror(-rc));
		api_reply_error(out, 500, NULL,
				"the alert could not be stored; it was not "
				"sent");
	}
out:
	free(id);
	alert_input_free(&in);
}

/*
 * msgType Cancel: every referenced alert still running is cancelled with
 * notices; one already over is listed as finished, so the same Cancel
 * posted twice answers 200 again and sends nothing more.
 */
static void cap_cancel(struct api_request *r, struct api_reply *out,
		       const struct cap_alert *a)
{
	char ids[CAP_REFS_MAX][CAP_ID_LEN + 1];
	struct cap_error cerr = {0};
	json_t *cancelled = json_array(), *finished = json_array();
	size_t n = 0;
	int rc;

	if (cap_status_usable(a, &cerr) < 0 ||
	    cap_reference_ids(a, ids, &n, &cerr) < 0) {
		cap_reply_error(out, &cerr);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		rc = engine_cancel(r->engine, ids[i], true, r->operator_name);
		if (rc == 0) {
			json_array_append_new(cancelled, json_string(ids[i]));
		} else if (rc == -EALREADY) {
			json_array_append_new(finished, json_string(ids[i]));
		} else if (rc != -ENOENT) {
			log_warnx("api: CAP cancel of alert %s by %s failed: "
				  "%s",
				  ids[i], r->operator_name, strerror(-rc));
			api_reply_error(out, 500, NULL,
					"cannot cancel alert %s", ids[i]);
			goto out;
		}
	}
	if (json_array_size(cancelled) + json_array_size(finished) == 0) {
		api_reply_error(out, 404, "/alert/references",
				"/alert/references: no alert came from the "
				"message%s named there",
				n == 1 ? "" : "s");
		goto out;
	}
	engine_flush(r->engine);
	api_reply_json(out, 200,
		       json_pack("{sO sO}", "cancelled", cancelled, "finished",
				 finished));
out:
	json_decref(cancelled);
	json_decref(finished);
}

void api_alert_create_cap(struct api_request *r, struct api_reply *out)
{
	struct cap_alert a = {0};
	struct cap_error cerr = {0};
	int rc = cap_parse(r->body, r->body_len, &a, &cerr);

	if (rc == -EINVAL) {
		cap_reply_error(out, &cerr);
		return;
	}
	if (rc < 0) {
		api_reply_error(out, 500, NULL, "out of memory");
		return;
	}
	if (strcmp(a.msg_type, "Alert") == 0) {
		cap_new_alert(r, out, &a);
	} else if (strcmp(a.msg_type, "Cancel") == 0) {
		cap_cancel(r, out, &a);
	} else {
		snprintf(cerr.path, sizeof(cerr.path), "/alert/msgType");
		snprintf(cerr.message, sizeof(cerr.message),
			 "%s is not taken here: pocalert takes Alert and "
			 "Cancel%s",
			 a.msg_type,
			 strcmp(a.msg_type, "Update") == 0
				 ? " (follow-ups by CAP are not supported "
				   "yet)"
				 : "");
		cap_reply_error(out, &cerr);
	}
	cap_alert_free(&a);
}
