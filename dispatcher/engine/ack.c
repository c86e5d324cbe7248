/*
 * Acknowledgement by reply link: what a link's page shows, opening it,
 * and confirming. Every contact of every alert has a personal link
 * {public_url}/ack/{token} (token.c); the store keeps each token's
 * SHA-256, and a link is looked up by hashing what the URL holds.
 *
 * A confirmation is written through the group commit and its completion
 * runs only once it is on disk, so the HTTP reply means "durable".
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/utf8.h"
#include "common/timefmt.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/escalation.h"
#include "dispatcher/engine/model.h"

double engine_ack_rate_limit(struct engine *e)
{
	return e->config->ack_rate_limit;
}

static char *dup_or_null(const char *t)
{
	return t ? strdup(t) : NULL;
}

/* Where a lookup's row goes. */
struct lookup {
	size_t len;	    /* of the token given */
	struct ack_view *v; /* filled when the row counts */
	int *ret_pos;
};

static int lookup_row(void *arg, const struct store_ack_row *row)
{
	struct lookup *l = arg;
	struct ack_view *v = l->v;

	/* A malformed token never matches, whatever the store holds. */
	if (l->len != 32)
		return -ENOENT;
	memset(v, 0, sizeof(*v));
	v->alert_id = dup_or_null(row->alert_id);
	v->title = dup_or_null(row->title);
	v->body = dup_or_null(row->body);
	v->type = dup_or_null(row->type);
	v->severity = dup_or_null(row->severity);
	tlp_parse(row->tlp, &v->tlp);
	v->drill = row->drill;
	v->cancelled = row->alert_state != NULL &&
		       strcmp(row->alert_state, "cancelled") == 0;
	v->org_id = dup_or_null(row->org_id);
	v->org_name = dup_or_null(row->org_name);
	v->contact_id = dup_or_null(row->contact_id);
	v->contact_name = dup_or_null(row->contact_name);
	v->language = dup_or_null(row->language);
	v->created_at = row->created_at;
	v->confirmed_at =
		row->confirmed_at == STORE_NONE ? 0 : row->confirmed_at;
	v->response = dup_or_null(row->response);
	v->name = dup_or_null(row->name);
	v->comment = dup_or_null(row->comment);
	*l->ret_pos = row->position;
	if (v->alert_id && v->org_id && v->contact_id)
		return 0;
	ack_view_free(v);
	return -ENOMEM;
}

/*
 * Hashes the token and looks it up. A malformed token is hashed and
 * looked up like any other, so that every wrong token costs the same.
 */
static int lookup(struct engine *e, const char *token, struct ack_view *v,
		  int *ret_pos, char hash[65])
{
	struct lookup l = {
		.len = token ? strlen(token) : 0, .v = v, .ret_pos = ret_pos};

	crypto_sha256_hex(token ? token : "", l.len, hash);
	return store_ack_lookup(e->store, hash, lookup_row, &l);
}

/*
 * The timeline head of an alert that may have left memory: from memory
 * when it is there, else from the store after writing what is queued.
 */
static struct timeline_head *head_for(struct engine *e, const char *alert_id,
				      struct rt_alert **ret_a,
				      struct timeline_head *tmp)
{
	struct rt_alert *a = model_alert_find(e, alert_id);

	struct timeline_head *kept;

	*ret_a = a;
	if (a != NULL)
		return &a->timeline;
	kept = model_kept_head(e, alert_id);
	if (kept != NULL)
		return kept;
	/* Long gone: what is queued goes first, then the store knows. */
	writer_flush(e->writer);
	if (timeline_head_load(e->store, alert_id, tmp) < 0)
		return NULL;
	/* Keep it for the next answer to the same alert. */
	return model_keep_head(e, alert_id, tmp);
}

static void event_for(struct engine *e, const char *alert_id, const char *actor,
		      const char *kind, const char *org_id, const char *detail)
{
	struct timeline_head tmp, *h;
	struct rt_alert *a;

	h = head_for(e, alert_id, &a, &tmp);
	if (h != NULL)
		timeline_append(e->writer, h, alert_id, clock_now_ms(), actor,
				kind, org_id, NULL, detail);
}

int engine_ack_view(struct engine *e, const char *token, bool record_open,
		    const char *source, const char *user_agent,
		    struct ack_view *ret)
{
	char hash[65], actor[96], detail[400];
	int pos, r;

	r = lookup(e, token, ret, &pos, hash);
	if (r < 0 || !record_open)
		return r;
	snprintf(actor, sizeof(actor), "contact:%s", ret->contact_id);
	if (user_agent == NULL)
		user_agent = "no user agent";
	/* At most 200 bytes of it, cut between characters. */
	snprintf(detail, sizeof(detail), "reply link opened from %s (%.*s)",
		 source ? source : "?",
		 (int)utf8_prefix(user_agent, strlen(user_agent), 200),
		 user_agent);
	event_for(e, ret->alert_id, actor, "link_opened", ret->org_id, detail);
	return 0;
}

static bool already(char **ids, size_t n, const char *id)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(ids[i], id) == 0)
			return true;
	return false;
}

int engine_ack_confirm(struct engine *e, const char *token,
		       const char *response, const char *name,
		       const char *comment, const char *source,
		       const char *user_agent, engine_ack_done_fn done,
		       void *arg)
{
	struct ack_view v;
	struct rt_alert *a;
	char hash[65], actor[96], detail[600];
	int64_t now = clock_now_ms();
	bool first;
	int pos, r;

	if (!ack_response_valid(response))
		return -EINVAL;
	r = lookup(e, token, &v, &pos, hash);
	if (r < 0)
		return r;
	first = v.confirmed_at == 0;
	writer_ack(e->writer, hash, now, response, name, comment, source,
		   user_agent);
	snprintf(actor, sizeof(actor), "contact:%s", v.contact_id);
	snprintf(detail, sizeof(detail), "%s%s%s%s%s by reply link from %s",
		 response, name && *name ? " by " : "", name ? name : "",
		 comment && *comment ? ": " : "", comment ? comment : "",
		 source ? source : "?");
	/* A long comment is cut between characters, never inside one. */
	detail[utf8_prefix(detail, strlen(detail), SIZE_MAX)] = '\0';
	a = model_alert_find(e, v.alert_id);
	if (a != NULL && (size_t)pos < a->n_orgs &&
	    strcmp(a->orgs[pos].org_id, v.org_id) == 0) {
		struct rt_org *o = &a->orgs[pos];

		if (!already(o->confirmed, o->n_confirmed, v.contact_id)) {
			char *id = strdup(v.contact_id);
			char **l = realloc(o->confirmed,
					   (o->n_confirmed + 1) * sizeof(*l));

			if (id == NULL || l == NULL) {
				free(id);
				if (l)
					o->confirmed = l;
				ack_view_free(&v);
				return -ENOMEM;
			}
			o->confirmed = l;
			l[o->n_confirmed++] = id;
			o->confirmations++;
		}
		timeline_append(e->writer, &a->timeline, a->id, now, actor,
				first ? "acknowledged" : "ack_updated",
				o->org_id, NULL, detail);
		if (policy_confirmed(
			    &a->policy,
			    &(struct policy_progress){
				    .last_step_run = o->step,
				    .confirmations = o->confirmations,
				    .contacts_targeted = (int)o->n_targeted,
				    .contacts_confirmed = (int)o->n_confirmed,
			    })) {
			writer_org_ack(e->writer, a->id, o->org_id, now, name,
				       response, comment, "link");
			if (!o->closed) {
				log_info("acknowledged alert=%s org=%s "
					 "response=%s source=link",
					 a->id, o->org_id, response);
				metrics_ack(e->metrics);
			}
			/* A late confirmation turns unreachable into acknowledged. */
			if (o->closed && o->state == OSTATE_UNREACHABLE)
				o->state = OSTATE_ACKNOWLEDGED;
			escalation_close_org(e, a, o, OSTATE_ACKNOWLEDGED);
		}
	} else {
		/*
		 * The alert is finished and out of memory: a late answer is
		 * still recorded, and closes the organisation as acknowledged
		 * under an organisation-wide policy.
		 */
		event_for(e, v.alert_id, actor,
			  first ? "acknowledged" : "ack_updated", v.org_id,
			  detail);
		writer_org_ack(e->writer, v.alert_id, v.org_id, now, name,
			       response, comment, "link");
	}
	ack_view_free(&v);
	writer_after_commit(e->writer, done, arg);
	return 0;
}

static int timeline_json_row(void *arg, const struct store_event_row *row)
{
	json_t *arr = arg;
	/* Rows stored before texts were mended are served, never dropped. */
	json_t *o = timeline_row_json(row);

	if (o == NULL)
		return -ENOMEM;
	json_array_append_new(arr, o);
	return 0;
}

json_t *engine_timeline_json(struct engine *e, const char *alert_id,
			     int *ret_notfound)
{
	json_t *arr;
	int r;

	*ret_notfound = 0;
	writer_flush(e->writer);
	arr = json_array();
	if (arr == NULL)
		return NULL;
	r = store_timeline_rows(e->store, alert_id, timeline_json_row, arr);
	if (r < 0 || json_array_size(arr) == 0) {
		*ret_notfound = r == 0;
		json_decref(arr);
		return NULL;
	}
	return arr;
}
