/*
 * The status of alerts as JSON, built from the store's status rows (see
 * status.h and store_status_alert()): one walk over an alert's
 * organisations and deliveries, from which the counts and the JSON are
 * built in the same pass, so an alert of 5,000 organisations and 20,000
 * deliveries polled every second stays cheap.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "dispatcher/view/status.h"
#include "common/timefmt.h"

/* A string as JSON; NULL (or text jansson refuses) as null. */
static json_t *j_text(const char *s)
{
	json_t *j;

	if (s == NULL)
		return json_null();
	j = json_string(s);
	return j ? j : json_null();
}

/* Unix milliseconds as RFC 3339 local time, or null for none. */
static json_t *j_time(int64_t ms)
{
	char text[40];

	if (ms == STORE_NONE)
		return json_null();
	time_format_rfc3339(ms, text, sizeof(text));
	return json_string(text);
}

static bool is(const char *v, const char *s)
{
	return v != NULL && strcmp(v, s) == 0;
}

static json_t *status_counts_json(const struct store_status_counts *c)
{
	return json_pack("{sI sI sI sI sI sI sI}", "organisations",
			 (json_int_t)c->organisations, "deliveries",
			 (json_int_t)c->deliveries, "sent", (json_int_t)c->sent,
			 "failed", (json_int_t)c->failed, "pending",
			 (json_int_t)c->pending, "skipped",
			 (json_int_t)c->skipped, "cancelled",
			 (json_int_t)c->cancelled);
}

/* Counts one delivery by its state. */
static void status_count(struct store_status_counts *c, const char *state)
{
	c->deliveries++;
	if (state == NULL)
		return;
	if (strcmp(state, "sent") == 0)
		c->sent++;
	else if (strcmp(state, "failed") == 0)
		c->failed++;
	else if (strcmp(state, "queued") == 0 ||
		 strcmp(state, "sending") == 0 ||
		 strcmp(state, "retry_wait") == 0)
		c->pending++;
	else if (strcmp(state, "skipped") == 0)
		c->skipped++;
	else if (strcmp(state, "cancelled") == 0)
		c->cancelled++;
}

static json_t *status_alert_head(const struct store_status_alert *a)
{
	return json_pack("{so so so so so sb so so so so so so}", "id",
			 j_text(a->id), "title", j_text(a->title), "type",
			 j_text(a->type), "severity", j_text(a->severity),
			 "tlp", j_text(a->tlp), "drill", a->drill, "state",
			 j_text(a->state), "created_at", j_time(a->created_at),
			 "created_by", j_text(a->created_by), "finished_at",
			 j_time(a->finished_at), "mode", j_text(a->mode),
			 "policy", j_text(a->policy));
}

static json_t *status_org_json(const struct store_status_row *r)
{
	json_t *o;

	o = json_pack("{so so so sI}", "id", j_text(r->org_id), "name",
		      j_text(r->org_name), "state", j_text(r->org_state),
		      "step", (json_int_t)r->org_step);
	if (o == NULL)
		return NULL;
	if (r->acknowledged_at != STORE_NONE) {
		json_object_set_new(o, "acknowledged_at",
				    j_time(r->acknowledged_at));
		json_object_set_new(o, "acknowledged_by",
				    j_text(r->acknowledged_by));
		json_object_set_new(o, "response", j_text(r->response));
		json_object_set_new(o, "comment", j_text(r->comment));
		json_object_set_new(o, "via", j_text(r->via));
	}
	return o;
}

static json_t *status_delivery_json(const struct store_status_row *r)
{
	/* A reason is only meaningful for what did not go out. */
	bool has_reason = is(r->state, "skipped") || is(r->state, "cancelled");

	return json_pack(
		"{so so so so so so so sI so so sI}", "id", j_text(r->id),
		"contact", j_text(r->contact_name), "contact_id",
		j_text(r->contact_id), "channel", j_text(r->channel), "address",
		j_text(r->address), "state", j_text(r->state), "reason",
		has_reason ? j_text(r->reason) : json_null(), "attempts",
		(json_int_t)r->attempts, "last_error", j_text(r->last_error),
		"sent_at", j_time(r->sent_at), "step", (json_int_t)r->step);
}

/* What one alert's walk builds. */
struct status_build {
	json_t *alert; /* owned until handed back */
	json_t *orgs;  /* owned until set into alert */
	json_t *dels;  /* borrowed: the current organisation's */
	char *prev;    /* owned: the current organisation's id */
	struct store_status_counts c;
};

static int status_head_cb(void *arg, const struct store_status_alert *a)
{
	struct status_build *b = arg;
	json_t *targets = NULL;
	json_error_t jerr;

	b->alert = status_alert_head(a);
	if (b->alert == NULL)
		return -ENOMEM;
	/* The targets as the operator gave them: a JSON array as text. */
	if (a->targets != NULL)
		targets = json_loads(a->targets, 0, &jerr);
	json_object_set_new(b->alert, "targets",
			    targets ? targets : json_null());
	return 0;
}

static int status_row_cb(void *arg, const struct store_status_row *r)
{
	struct status_build *b = arg;
	const char *org_id = r->org_id ? r->org_id : "";

	/* Rows come grouped by organisation: a new id starts one. */
	if (b->prev == NULL || strcmp(b->prev, org_id) != 0) {
		json_t *org = status_org_json(r);

		free(b->prev);
		b->prev = strdup(org_id);
		b->dels = json_array();
		if (b->prev == NULL || org == NULL || b->dels == NULL ||
		    json_object_set_new(org, "deliveries", b->dels) < 0 ||
		    json_array_append_new(b->orgs, org) < 0)
			return -ENOMEM;
		b->c.organisations++;
	}
	if (r->id == NULL)
		return 0; /* an organisation with no deliveries */
	status_count(&b->c, r->state);
	if (json_array_append_new(b->dels, status_delivery_json(r)) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * The status of one alert (shape in status.h), from one snapshot so
 * counts and rows agree. Returns a new reference the caller owns, or
 * NULL: with *ret_notfound set (when not NULL) for no such alert, clear
 * for a store error (logged).
 */
json_t *status_alert(struct store *s, const char *id, int *ret_notfound)
{
	struct status_build b = {0};
	int r;

	if (ret_notfound != NULL)
		*ret_notfound = 0;
	b.orgs = json_array();
	if (b.orgs == NULL)
		return NULL;
	r = store_status_alert(s, id, status_head_cb, status_row_cb, &b);
	free(b.prev);
	if (r == -ENOENT && ret_notfound != NULL)
		*ret_notfound = 1;
	if (r == -ENOMEM)
		log_warnx("status of alert %s: out of memory", id);
	if (r < 0)
		goto fail;
	if (json_object_set_new(b.alert, "counts", status_counts_json(&b.c)) <
	    0)
		goto fail;
	r = json_object_set_new(b.alert, "organisations", b.orgs);
	b.orgs = NULL; /* set_new takes it, even when it fails */
	if (r < 0)
		goto fail;
	return b.alert;
fail:
	json_decref(b.orgs);
	json_decref(b.alert);
	return NULL;
}

static int status_list_cb(void *arg, const struct store_status_alert *a,
			  const struct store_status_counts *c)
{
	json_t *list = arg, *item = status_alert_head(a);

	if (item == NULL ||
	    json_object_set_new(item, "counts", status_counts_json(c)) < 0 ||
	    json_array_append_new(list, item) < 0)
		return -ENOMEM;
	return 0;
}

/*
 * Recent alerts, newest first, at most limit (<= 0: 50), each with its
 * counts. Returns a new reference the caller owns, or NULL on a store
 * error (logged).
 */
json_t *status_alert_list(struct store *s, int limit)
{
	json_t *list = json_array();
	int r;

	if (list == NULL)
		return NULL;
	r = store_status_list(s, limit > 0 ? limit : 50, status_list_cb, list);
	if (r < 0) {
		if (r == -ENOMEM)
			log_warnx("alert list: out of memory");
		json_decref(list);
		return NULL;
	}
	return list;
}
