/*
 * The hash-chained timeline: see timeline.h.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/log.h"
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
	sqlite3_stmt *st = store_stmt(s, "SELECT seq, hash FROM events"
					 " WHERE alert_id = ?"
					 " ORDER BY seq DESC LIMIT 1");
	int rc;

	if (st == NULL)
		return -EIO;
	timeline_head_init(ret);
	sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 1);

		ret->seq = sqlite3_column_int64(st, 0);
		if (h && strlen((const char *)h) == 64)
			memcpy(ret->hash, h, 65);
		return 0;
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
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

int timeline_insert(struct store *s, struct timeline_head *head,
		    const char *alert_id, int64_t at, const char *actor,
		    const char *kind, const char *org_id,
		    const char *delivery_id, const char *detail)
{
	char hash[65];
	int64_t seq = head->seq + 1;
	sqlite3_stmt *st;

	timeline_hash(head->hash, alert_id, seq, at, actor, kind, org_id,
		      delivery_id, detail, hash);
	st = store_stmt(s, "INSERT INTO events (alert_id, seq, at, actor, kind,"
			   " org_id, delivery_id, detail, prev_hash, hash)"
			   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	if (st == NULL)
		return -EIO;
	sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, seq);
	sqlite3_bind_int64(st, 3, at);
	sqlite3_bind_text(st, 4, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, org_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, delivery_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, detail, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, head->hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_warnx("timeline: %s", sqlite3_errmsg(store_db(s)));
		return -EIO;
	}
	head->seq = seq;
	memcpy(head->hash, hash, sizeof(hash));
	return 0;
}

static const char *text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int timeline_verify(struct store *s, const char *alert_id, int64_t *ret_bad_seq)
{
	sqlite3_stmt *st = store_stmt(s, "SELECT seq, at, actor, kind, org_id,"
					 " delivery_id, detail, prev_hash, hash"
					 " FROM events WHERE alert_id = ?"
					 " ORDER BY seq");
	struct timeline_head head;
	int rc, n = 0;

	if (st == NULL)
		return -EIO;
	timeline_head_init(&head);
	sqlite3_bind_text(st, 1, alert_id, -1, SQLITE_STATIC);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		const char *prev = text(st, 7), *hash = text(st, 8);
		char want[65];

		timeline_hash(head.hash, alert_id, seq,
			      sqlite3_column_int64(st, 1), text(st, 2),
			      text(st, 3), text(st, 4), text(st, 5),
			      text(st, 6), want);
		/* A gap in seq, a wrong link or a wrong hash all break it. */
		if (seq != head.seq + 1 || prev == NULL || hash == NULL ||
		    strcmp(prev, head.hash) != 0 || strcmp(hash, want) != 0) {
			*ret_bad_seq = seq;
			sqlite3_reset(st);
			return -EBADMSG;
		}
		head.seq = seq;
		memcpy(head.hash, want, sizeof(want));
		n++;
	}
	sqlite3_reset(st);
	if (rc != SQLITE_DONE)
		return -EIO;
	return n == 0 ? -ENOENT : n;
}
