/*
 * The names of the engine's enumerations (engine_internal.h): delivery
 * states, organisation states and delivery kinds. In memory they are
 * enums, compared as numbers; the store, the timeline, status and the
 * drivers see these words, which are part of the outside contract and
 * must never change.
 */
#include <errno.h>
#include <string.h>

#include "dispatcher/engine/engine_internal.h"

static const char *const dstate_names[] = {
	[DSTATE_QUEUED] = "queued",	    [DSTATE_SENDING] = "sending",
	[DSTATE_RETRY_WAIT] = "retry_wait", [DSTATE_SENT] = "sent",
	[DSTATE_FAILED] = "failed",	    [DSTATE_SKIPPED] = "skipped",
	[DSTATE_CANCELLED] = "cancelled",
};

static const char *const ostate_names[] = {
	[OSTATE_PENDING] = "pending",
	[OSTATE_NOTIFIED] = "notified",
	[OSTATE_ESCALATED] = "escalated",
	[OSTATE_ACKNOWLEDGED] = "acknowledged",
	[OSTATE_UNREACHABLE] = "unreachable",
	[OSTATE_CANCELLED] = "cancelled",
};

static const char *const dkind_names[] = {
	[DKIND_ALERT] = "alert",
	[DKIND_CANCEL] = "cancel",
	[DKIND_UNREACHABLE] = "unreachable",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The position of s in names, or -1. */
static int find(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s != NULL && i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *dstate_name(enum dstate s)
{
	return dstate_names[s];
}

const char *ostate_name(enum ostate s)
{
	return ostate_names[s];
}

int ostate_parse(const char *s, enum ostate *ret)
{
	int i = find(ostate_names, COUNT(ostate_names), s);

	if (i < 0)
		return -EINVAL;
	*ret = (enum ostate)i;
	return 0;
}

const char *dkind_name(enum dkind k)
{
	return dkind_names[k];
}

int dkind_parse(const char *s, enum dkind *ret)
{
	int i = find(dkind_names, COUNT(dkind_names), s);

	if (i < 0)
		return -EINVAL;
	*ret = (enum dkind)i;
	return 0;
}
