/*
 * The timeline of an alert: every event (accepted, planned, sent, failed,
 * retried, cancelled, ...) as one row with its time and actor. Each row
 * carries the SHA-256 of the previous row of the same alert, so the
 * history is tamper-evident: changing, removing or reordering a row
 * breaks every hash after it.
 */
#ifndef POCALERT_TIMELINE_H
#define POCALERT_TIMELINE_H

#include <stdint.h>

#include <jansson.h>

#include "dispatcher/store/store.h"
#include "dispatcher/store/writer.h"

/* Where an alert's chain stands: the last row's number and hash. */
struct timeline_head {
	int64_t seq;   /* last row written, 0 before the first */
	char hash[65]; /* its hash; 64 zeros before the first */
};

/* The head of a new alert's chain. */
void timeline_head_init(struct timeline_head *h);

/*
 * Reads the head of alert_id's chain from the store (rows already
 * written). Returns 0 or -EIO.
 */
int timeline_head_load(struct store *s, const char *alert_id,
		       struct timeline_head *ret);

/*
 * The hash of one row: SHA-256 over the previous hash and every field,
 * each length-prefixed so that no two different rows hash alike. hex gets
 * 64 hex digits and a NUL.
 */
void timeline_hash(const char *prev_hash, const char *alert_id, int64_t seq,
		   int64_t at, const char *actor, const char *kind,
		   const char *org_id, const char *delivery_id,
		   const char *detail, char hex[65]);

/*
 * Appends a row through the writer (group commit) and advances head.
 * org_id, delivery_id and detail may be NULL.
 */
void timeline_append(struct writer *w, struct timeline_head *head,
		     const char *alert_id, int64_t at, const char *actor,
		     const char *kind, const char *org_id,
		     const char *delivery_id, const char *detail);

/*
 * Adds a row to b, a batch the caller commits at once (acceptance and
 * planning), and advances head. Returns 0 or -ENOMEM (head unchanged).
 */
int timeline_add(struct store_batch *b, struct timeline_head *head,
		 const char *alert_id, int64_t at, const char *actor,
		 const char *kind, const char *org_id, const char *delivery_id,
		 const char *detail);

/*
 * One stored row as the API serves it: {"seq","at","actor","kind","org",
 * "delivery","detail","hash"}. Text that is not well-formed UTF-8 (rows
 * written before the timeline repaired it) is shown with U+FFFD instead
 * of making the row vanish. Returns a new reference, NULL only when out
 * of memory.
 */
json_t *timeline_row_json(const struct store_event_row *row);

/* 1 when every text field of row is well-formed UTF-8, else 0. */
int timeline_row_text_ok(const struct store_event_row *row);

/* Why timeline_verify_ex() found a chain broken. */
enum timeline_fault {
	TIMELINE_FAULT_CHAIN, /* a gap, a wrong link or a wrong hash */
	TIMELINE_FAULT_TEXT,  /* a row the API cannot serve (bad UTF-8) */
	TIMELINE_FAULT_HEAD,  /* rows missing after the last one (or it
				 differs from the head the alert records) */
};

/*
 * Checks alert_id's chain in the store. Returns the number of rows checked
 * (>= 0) when every hash holds, -ENOENT when the alert has no rows, or
 * -EBADMSG with *ret_bad_seq set to the first row that does not hold.
 */
int timeline_verify(struct store *s, const char *alert_id,
		    int64_t *ret_bad_seq);

/* timeline_verify(), also telling why when broken (ret_fault may be NULL). */
int timeline_verify_ex(struct store *s, const char *alert_id,
		       int64_t *ret_bad_seq, enum timeline_fault *ret_fault);

#endif
