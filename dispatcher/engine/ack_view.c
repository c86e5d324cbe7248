/*
 * The parts of the reply-link interface that need no engine: the answers
 * a contact may give and freeing a page's view. Kept apart from ack.c so
 * that the HTTP layer's tests link them with a fake engine instead of
 * copying them.
 */
#include <stdlib.h>
#include <string.h>

#include "dispatcher/engine/engine.h"

static const char *const responses[] = {
	"received", "not-affected", "affected", "investigating", NULL,
};

bool ack_response_valid(const char *response)
{
	for (size_t i = 0; response && responses[i]; i++)
		if (strcmp(response, responses[i]) == 0)
			return true;
	return false;
}

void ack_view_free(struct ack_view *v)
{
	if (v == NULL)
		return;
	free(v->alert_id);
	free(v->title);
	free(v->body);
	free(v->type);
	free(v->severity);
	free(v->org_id);
	free(v->org_name);
	free(v->contact_id);
	free(v->contact_name);
	free(v->language);
	free(v->response);
	free(v->name);
	free(v->comment);
	memset(v, 0, sizeof(*v));
}
