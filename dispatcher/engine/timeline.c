/*
 * The hash-chained timeline: see timeline.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
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

void timeline_append(struct writer *w, struct timeline_head *head,
		     const char *alert_id, int64_t at, const char *actor,
		     const char *kind, const char *org_id,
		     const char *delivery_id, const char *detail)
{
	char hash[65];
	int64_t seq = head->seq + 1;

	timeline_hash(head->hash, alert_id, seq, at, actor, kind, org_id,
		      delivery_id, detail, hash);
	writer_event(w, alert_id, seq, at, actor, kind, org_id, delivery_id,
		     detail, head->hash, hash);
	head->seq = seq;
	memcpy(head->hash, hash, sizeof(hash));
}

int timeline_add(struct store_batch *b, struct timeline_head *head,
		 const char *alert_id, int64_t at, const char *actor,
		 const char *kind, const char *org_id, const char *delivery_id,
		 const char *detail)
{
	char hash[65];
	int64_t seq = head->seq + 1;
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
	if (store_batch_add(b, &op) < 0)
		return -ENOMEM;
	head->seq = seq;
	memcpy(head->hash, hash, sizeof(hash));
	return 0;
}

/* Where a verification stands while the rows come. */
struct verify {
	const char *alert_id;
	struct timeline_head head;
	int64_t bad_seq;
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
		return -EBADMSG;
	}
	v->head.seq = row->seq;
	memcpy(v->head.hash, want, sizeof(want));
	v->n++;
	return 0;
}

int timeline_verify(struct store *s, const char *alert_id, int64_t *ret_bad_seq)
{
	struct verify v = {.alert_id = alert_id};
	int r;

	timeline_head_init(&v.head);
	r = store_timeline_rows(s, alert_id, verify_row, &v);
	if (r == -EBADMSG)
		*ret_bad_seq = v.bad_seq;
	if (r < 0)
		return r == -EBADMSG ? r : -EIO;
	return v.n == 0 ? -ENOENT : v.n;
}
