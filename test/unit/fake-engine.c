/*
 * The fake engine of fake-engine.h: just enough of engine.h for api.c
 * and http_server.c, with every call recorded for the test to check.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

const char *engine_authenticate(struct engine *e, const char *token)
{
	e->n_auth++;
	return strcmp(token, FAKE_TOKEN) == 0 ? FAKE_OPERATOR : NULL;
}
