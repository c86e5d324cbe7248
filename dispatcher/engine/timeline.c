/*
 * The hash-chained timeline: see timeline.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/timefmt.h"
#include "common/utf8.h"
#include "dispatcher/engine/timeline.h"

#define ZERO_HASH                                                              \
	"0000000000000000000000000000000000000000000000000000000000000000"

void timeline_head_init(struct timeline_head *h)
{
	h->seq = 0;
	memcpy(h->hash, ZERO_HASH, sizeof(h->hash));
}

int timeline_head_load(struct store *s, const char *alert_id,
		       struct timeline_head *ret)
{
	timeline_head_init(ret);
	return store_timeline_head(s, alert_id, &ret->seq, ret->hash);
}

static void field(struct buf *b, const char *s)
{
	/* Length-prefixed, and NULL distinct from "". */
	if (s == NULL)
		buf_puts(b, "-1:");
	else
		buf_printf(b, "%zu:%s", strlen(s), s);
}

void timeline_hash(const char *prev_hash, const char *alert_id, int64_t seq,
		   int64_t at, const char *actor, const char *kind,
		   const char *org_id, const char *delivery_id,
		   const char *detail, char hex[65])
{
	struct buf b = {0};

	field(&b, prev_hash);
	field(&b, alert_id);
	buf_printf(&b, "%" PRId64 ":%" PRId64 ":", seq, at);
	field(&b, actor);
	field(&b, kind);
	field(&b, org_id);
	field(&b, delivery_id);
	field(&b, detail);
	crypto_sha256_hex(b.data ? b.data : "", b.len, hex);
	buf_free(&b);
}

/*
 * detail as it is stored: a caller that cut its text at a byte limit may
 * have split a character, and a row with invalid UTF-8 cannot be served
 * as JSON. Such bytes become U+FFFD before the row is hashed, so the
 * chain covers what is shown. Returns detail itself or *copy (freed by
 * the caller); NULL detail stays NULL, and so does the row when out of
 * memory (the event is kept, its detail lost, rather than the event).
 */
static const char *stored_detail(const char *detail, char **copy)
{
	*copy = NULL;
	if (detail == NULL || utf8_valid(detail, strlen(detail), NULL))
		return detail;
	*copy = utf8_repair(detail, strlen(detail));
	return *copy;
}

void timeline_append(struct writer *w, struct timeline_head *head,
		     const char *alert_id, int64_t at, const char *actor,
		     const char *kind, const char *org_id,
		     const char *delivery_id, const char *raw_detail)
{
	char hash[65], *copy;
	int64_t seq = head->seq + 1;
	const char *detail = stored_detail(raw_detail, &copy);

	timeline_hash(head->hash, alert_id, seq, at, actor, kind, org_id,
		      delivery_id, detail, hash);
	writer_event(w, alert_id, seq, at, actor, kind, org_id, delivery_id,
		     detail, head->hash, hash);
	free(copy);
	head->seq = seq;
	memcpy(head->hash, hash, sizeof(hash));
}

int timeline_add(struct store_batch *b, struct timeline_head *head,
		 const char *alert_id, int64_t at, const char *actor,
		 const char *kind, const char *org_id, const char *delivery_id,
		 const char *raw_detail)
{
	char hash[65], *copy;
	int64_t seq = head->seq + 1;
	const char *detail = stored_detail(raw_detail, &copy);
	int r = 0;
	struct store_op op = {
		.kind = STORE_OP_EVENT,
		.event =
			{
				.alert_id = alert_id,
				.seq = seq,
				.at = at,
				.actor = actor,
				.kind = kind,
				.org_id = org_id,
				.delivery_id = delivery_id,
				.detail = detail,
				.prev_hash = head->hash,
				.hash = hash,
			},
	};

	timeline_hash(head->hash, alert_id, seq, at, actor, kind, org_id,
		      delivery_id, detail, hash);
	if (store_batch_add(b, &op) < 0) {
		r = -ENOMEM;
		goto out;
	}
	head->seq = seq;
	memcpy(head->hash, hash, sizeof(hash));
out:
	free(copy);
	return r;
}

/* A text field as the API serves it: repaired when not well-formed. */
static json_t *json_text(const char *s)
{
	char *copy;
	json_t *j;

	if (s == NULL)
		return json_null();
	if (utf8_valid(s, strlen(s), NULL))
		return json_string(s);
	copy = utf8_repair(s, strlen(s));
	j = copy ? json_string(copy) : NULL;
	free(copy);
	return j;
}

json_t *timeline_row_json(const struct store_event_row *row)
{
	json_t *o = json_object();
	char at[40];
	int bad = o == NULL;

	time_format_rfc3339(row->at, at, sizeof(at));
	bad |= json_object_set_new(o, "seq", json_integer(row->seq));
	bad |= json_object_set_new(o, "at", json_string(at));
	bad |= json_object_set_new(o, "actor", json_text(row->actor));
	bad |= json_object_set_new(o, "kind", json_text(row->kind));
	bad |= json_object_set_new(o, "org", json_text(row->org_id));
	bad |= json_object_set_new(o, "delivery", json_text(row->delivery_id));
	bad |= json_object_set_new(o, "detail", json_text(row->detail));
	bad |= json_object_set_new(o, "hash", json_text(row->hash));
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}

int timeline_row_text_ok(const struct store_event_row *row)
{
	const char *f[] = {row->actor,	     row->kind,	  row->org_id,
			   row->delivery_id, row->detail, row->hash};

	for (size_t i = 0; i < sizeof(f) / sizeof(f[0]); i++)
		if (f[i] != NULL && !utf8_valid(f[i], strlen(f[i]), NULL))
			return 0;
	return 1;
}

/* Where a verification stands while the rows come. */
struct verify {
	const char *alert_id;
	struct timeline_head head;
	int64_t bad_seq;
	enum timeline_fault fault;
	int n;
};

static int verify_row(void *arg, const struct store_event_row *row)
{
	struct verify *v = arg;
	char want[65];

	timeline_hash(v->head.hash, v->alert_id, row->seq, row->at, row->actor,
		      row->kind, row->org_id, row->delivery_id, row->detail,
		      want);
	/* A gap in seq, a wrong link or a wrong hash all break it. */
	if (row->seq != v->head.seq + 1 || row->prev_hash == NULL ||
	    row->hash == NULL || strcmp(row->prev_hash, v->head.hash) != 0 ||
	    strcmp(row->hash, want) != 0) {
		v->bad_seq = row->seq;
		v->fault = TIMELINE_FAULT_CHAIN;
		return -EBADMSG;
	}
	/*
	 * A row the API cannot serve is as bad as a missing one: readers of
	 * the timeline would not see it.
	 */
	if (!timeline_row_text_ok(row)) {
		v->bad_seq = row->seq;
		v->fault = TIMELINE_FAULT_TEXT;
		return -EBADMSG;
	}
	v->head.seq = row->seq;
	memcpy(v->head.hash, want, sizeof(want));
	v->n++;
	return 0;
}

int timeline_verify_ex(struct store *s, const char *alert_id,
		       int64_t *ret_bad_seq, enum timeline_fault *ret_fault)
{
	struct verify v = {.alert_id = alert_id};
	int64_t anchor_seq = 0;
	char anchor_hash[65] = "";
	int r;

	timeline_head_init(&v.head);
	r = store_timeline_rows(s, alert_id, verify_row, &v);
	if (r == -EBADMSG)
		goto broken;
	if (r < 0)
		return -EIO;
	/*
	 * The chain alone cannot tell that its newest rows were cut off:
	 * the alert's row records the head the writer last committed.
	 */
	r = store_timeline_anchor(s, alert_id, &anchor_seq, anchor_hash);
	if (r < 0 && r != -ENOENT)
		return -EIO;
	if (r == 0 &&
	    (anchor_seq != v.head.seq ||
	     (anchor_seq > 0 && strcmp(anchor_hash, v.head.hash) != 0))) {
		v.fault = TIMELINE_FAULT_HEAD;
		/* The first event missing, or the last one when it differs. */
		v.bad_seq =
			anchor_seq > v.head.seq ? v.head.seq + 1 : v.head.seq;
		goto broken;
	}
	return v.n == 0 ? -ENOENT : v.n;
broken:
	*ret_bad_seq = v.bad_seq;
	if (ret_fault)
		*ret_fault = v.fault;
	return -EBADMSG;
}

int timeline_verify(struct store *s, const char *alert_id, int64_t *ret_bad_seq)
{
	return timeline_verify_ex(s, alert_id, ret_bad_seq, NULL);
}
