/*
 * The fake engine of fake-engine.h: just enough of engine.h for api.c,
 * http_server.c and ack_http.c, with every call recorded for the test
 * to check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher/engine/gateway.h"
#include "test/unit/fake-engine.h"

int engine_accept(struct engine *e, const struct alert_input *in,
		  const char *operator_name, char **ret_id,
		  struct alert_error *err)
{
	e->n_accept++;
	snprintf(e->last_title, sizeof(e->last_title), "%s", in->title);
	snprintf(e->last_operator, sizeof(e->last_operator), "%s",
		 operator_name ? operator_name : "(null)");
	e->last_drill = in->drill;
	if (e->accept_result < 0) {
		*err = e->accept_err;
		return e->accept_result;
	}
	*ret_id = strdup(e->next_id ? e->next_id : "A-NEW");
	return *ret_id ? 0 : -ENOMEM;
}

int engine_cancel(struct engine *e, const char *alert_id, bool notify,
		  const char *operator_name)
{
	(void)operator_name;
	e->n_cancel++;
	snprintf(e->last_cancel_id, sizeof(e->last_cancel_id), "%s", alert_id);
	e->last_cancel_notify = notify;
	if (strcmp(alert_id, "missing") == 0)
		return -ENOENT;
	if (strcmp(alert_id, "finished") == 0)
		return -EALREADY;
	return 0;
}

struct store *engine_store(struct engine *e)
{
	return e->store;
}

void engine_flush(struct engine *e)
{
	e->n_flush++;
}

int engine_metrics(struct engine *e, struct buf *out)
{
	static const char *const names[] = {"mail", "sms"};
	static const size_t depth[] = {3, 0}, in_flight[] = {1, 0};

	return metrics_render(e->metrics, names, depth, in_flight, 2, out);
}

bool engine_accepting(struct engine *e)
{
	return e->accepting;
}

int engine_calendar_status(struct engine *e, char *buf, size_t len)
{
	(void)e;
	snprintf(buf, len, "calendar: ends 2027-12-31, 398 days left");
	return 0;
}

const char *engine_authenticate(struct engine *e, const char *token)
{
	e->n_auth++;
	return strcmp(token, FAKE_TOKEN) == 0 ? FAKE_OPERATOR : NULL;
}

/* strdup that keeps NULL; sets *failed when out of memory. */
static char *dup(const char *s, bool *failed)
{
	char *d = s ? strdup(s) : NULL;

	if (s != NULL && d == NULL)
		*failed = true;
	return d;
}

int engine_ack_view(struct engine *e, const char *token, bool record_open,
		    const char *source, const char *user_agent,
		    struct ack_view *ret)
{
	const struct ack_view *a = &e->ack;
	bool failed = false;

	e->n_ack_view++;
	snprintf(e->last_view_token, sizeof(e->last_view_token), "%s", token);
	snprintf(e->last_ack_source, sizeof(e->last_ack_source), "%s",
		 source ? source : "(null)");
	snprintf(e->last_ack_ua, sizeof(e->last_ack_ua), "%s",
		 user_agent ? user_agent : "(null)");
	if (strcmp(token, FAKE_ACK_TOKEN) != 0)
		return -ENOENT;
	if (record_open)
		e->n_ack_open++;
	memset(ret, 0, sizeof(*ret));
	ret->alert_id = dup(a->alert_id, &failed);
	ret->title = dup(a->title, &failed);
	ret->body = dup(a->body, &failed);
	ret->type = dup(a->type, &failed);
	ret->severity = dup(a->severity, &failed);
	ret->tlp = a->tlp;
	ret->drill = a->drill;
	ret->cancelled = a->cancelled;
	ret->org_id = dup(a->org_id, &failed);
	ret->org_name = dup(a->org_name, &failed);
	ret->contact_id = dup(a->contact_id, &failed);
	ret->contact_name = dup(a->contact_name, &failed);
	ret->language = dup(a->language, &failed);
	ret->created_at = a->created_at;
	ret->confirmed_at = a->confirmed_at;
	ret->response = dup(a->response, &failed);
	ret->name = dup(a->name, &failed);
	ret->comment = dup(a->comment, &failed);
	if (failed) {
		ack_view_free(ret);
		return -ENOMEM;
	}
	return 0;
}

int engine_ack_confirm(struct engine *e, const char *token,
		       const char *response, const char *name,
		       const char *comment, const char *source,
		       const char *user_agent, engine_ack_done_fn done,
		       void *arg)
{
	(void)source;
	(void)user_agent;
	e->n_ack_confirm++;
	snprintf(e->last_response, sizeof(e->last_response), "%s", response);
	snprintf(e->last_name, sizeof(e->last_name), "%s",
		 name ? name : "(null)");
	snprintf(e->last_comment, sizeof(e->last_comment), "%s",
		 comment ? comment : "(null)");
	if (strcmp(token, FAKE_ACK_TOKEN) != 0)
		return -ENOENT;
	if (!ack_response_valid(response))
		return -EINVAL;
	if (e->ack_confirm_result < 0)
		return e->ack_confirm_result;
	/* One at a time is all the tests need. */
	if (e->ack_done != NULL)
		return -EBUSY;
	e->ack_done = done;
	e->ack_done_arg = arg;
	return 0;
}

void fake_ack_complete(struct engine *e, int result)
{
	engine_ack_done_fn done = e->ack_done;

	if (done == NULL)
		return;
	e->ack_done = NULL;
	if (result == 0) {
		/* The first confirmation's time stays; the answer updates. */
		if (e->ack.confirmed_at == 0)
			e->ack.confirmed_at = e->ack_now;
		snprintf(e->ack_response, sizeof(e->ack_response), "%s",
			 e->last_response);
		snprintf(e->ack_name, sizeof(e->ack_name), "%s", e->last_name);
		snprintf(e->ack_comment, sizeof(e->ack_comment), "%s",
			 e->last_comment);
		e->ack.response = e->ack_response;
		e->ack.name =
			strcmp(e->ack_name, "(null)") ? e->ack_name : NULL;
		e->ack.comment = strcmp(e->ack_comment, "(null)")
					 ? e->ack_comment
					 : NULL;
	}
	done(e->ack_done_arg, result);
}

/* The HTTP layer's tests have no channels: every hook is unknown. */
int engine_gateway_callback(struct engine *e, const struct engine_hook *h,
			    engine_hook_done_fn done, void *arg)
{
	(void)e;
	(void)h;
	(void)done;
	(void)arg;
	return -ENOENT;
}

double engine_ack_rate_limit(struct engine *e)
{
	return e->ack_rate;
}

json_t *engine_timeline_json(struct engine *e, const char *alert_id,
			     int *ret_notfound)
{
	e->n_timeline++;
	*ret_notfound = 0;
	if (strcmp(alert_id, "A-1") != 0) {
		*ret_notfound = 1;
		return NULL;
	}
	return json_pack("[{sI sI ss ss ss sn sn ss}]", "seq", (json_int_t)1,
			 "at", (json_int_t)1795309200000, "actor", "alice",
			 "kind", "accepted", "org", "org-1", "delivery",
			 "detail", "hash",
			 "00000000000000000000000000000000000000000000000000"
			 "00000000000000");
}
