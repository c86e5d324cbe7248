/*
 * The backend table behind store.h, private to dispatcher/store/. A
 * backend is one const struct store_backend, written with designated
 * initialisers, listed by name in store.c's registry; store.c's thin
 * wrappers call through it, so nothing outside this folder touches the
 * table. Adding a backend is one file set (store/NAME*.c) and one
 * registry line.
 *
 * Every operation gets the struct store that open() filled; rows handed
 * to callbacks are valid only during the call, and a callback returning
 * non-zero stops a walk with that value. Errors are negative errno
 * values: -EIO for anything the database reports, logged by the backend.
 */
#ifndef POCALERT_STORE_BACKEND_H
#define POCALERT_STORE_BACKEND_H

#include "dispatcher/store/store.h"

/* Bumped when the table changes shape. */
#define STORE_BACKEND_VERSION 1

struct store_backend {
	int version; /* STORE_BACKEND_VERSION */
	/* In messages, and the URL scheme that picks it ("postgresql"). */
	const char *name;
	/* true: chosen for a plain path (no "scheme://"). One backend only. */
	bool takes_paths;

	/*
	 * Opens (creating and migrating as needed) the store at where and
	 * sets s->handle, honouring s->flags (STORE_OPEN_*): an existing
	 * but empty store is refused with -ENODATA unless STORE_OPEN_INIT;
	 * STORE_OPEN_EXCLUSIVE takes a lock held until close() and fails
	 * with -EBUSY while another process holds it. On failure logs why,
	 * naming where, leaves nothing to free and returns a negative errno.
	 */
	int (*open)(struct store *s, const char *where);
	/* Frees s->handle. Called once, after a successful open only. */
	void (*close)(struct store *s);

	/*
	 * Applies ops[0..n) in order in one transaction; see store_apply()
	 * for the modes and the result. Must tell a refusal of one
	 * operation (its content) from a failure of the database (I/O,
	 * lock, memory): only the first goes to dead letters, and only
	 * after every change of that operation is undone. Never leaves a
	 * transaction open.
	 */
	int (*apply)(struct store *s, const struct store_op *ops, size_t n,
		     enum store_apply_mode mode);

	/*
	 * The reads, each as its wrapper in store.h says. Walks call fn
	 * once per row in the order stated there and stop at its first
	 * non-zero value, which they return; strings in a row may be NULL
	 * only where store.h says so.
	 */

	/* A number that changes when another connection commits. */
	int (*data_version)(struct store *s, int64_t *ret);
	/* Copies the state into buf: 0, -ENOENT, -ENOBUFS or -EIO. */
	int (*alert_state)(struct store *s, const char *id, char *buf,
			   size_t len);
	/* Active alerts and those with deliveries to send, newest first. */
	int (*recovery_alerts)(struct store *s,
			       int (*fn)(void *,
					 const struct store_alert_row *),
			       void *arg);
	/* How many organisations an alert reaches. */
	int (*alert_org_count)(struct store *s, const char *alert_id,
			       size_t *ret);
	/* An alert's organisations in position order. */
	int (*alert_orgs)(struct store *s, const char *alert_id,
			  int (*fn)(void *, const struct store_org_row *),
			  void *arg);
	/* (org, contact, step) of sendable alert deliveries, sent counted. */
	int (*alert_reached)(struct store *s, const char *alert_id,
			     int (*fn)(void *, const struct store_reach_row *),
			     void *arg);
	/* The contacts that confirmed by reply link. */
	int (*alert_confirmations)(struct store *s, const char *alert_id,
				   int (*fn)(void *,
					     const struct store_contact_row *),
				   void *arg);
	/* How many deliveries an alert has, of every state. */
	int (*alert_delivery_count)(struct store *s, const char *alert_id,
				    size_t *ret);
	/* Deliveries queued, sending or waiting to retry, in rank order. */
	int (*alert_unfinished)(struct store *s, const char *alert_id,
				int (*fn)(void *,
					  const struct store_delivery_row *),
				void *arg);
	/* Each distinct (contact, channel, address) an alert was sent to. */
	int (*alert_sent_methods)(struct store *s, const char *alert_id,
				  int (*fn)(void *,
					    const struct store_method_row *),
				  void *arg);
	/* One reply link by token hash: fn's value, -ENOENT or -EIO. */
	int (*ack_lookup)(struct store *s, const char *token_hash,
			  int (*fn)(void *, const struct store_ack_row *),
			  void *arg);
	/* The last row's seq and hash; seq 0 when there is none. */
	int (*timeline_head)(struct store *s, const char *alert_id,
			     int64_t *ret_seq, char ret_hash[65]);
	/* An alert's timeline rows in seq order. */
	int (*timeline_rows)(struct store *s, const char *alert_id,
			     int (*fn)(void *, const struct store_event_row *),
			     void *arg);
	/*
	 * The head recorded in the alert itself, committed with its last
	 * event: seq 0 and hash "" before any; -ENOENT for no such alert.
	 */
	int (*timeline_anchor)(struct store *s, const char *alert_id,
			       int64_t *ret_seq, char ret_hash[65]);
	/* A store-wide fact by key: 0, -ENOENT, -ENOBUFS or -EIO. */
	int (*meta_get)(struct store *s, const char *key, char *buf,
			size_t len);
	/* Sets (or replaces) a fact, committed at once: 0 or -EIO. */
	int (*meta_set)(struct store *s, const char *key, const char *value);
	/* How many alerts the store holds (any state): 0 or -EIO. */
	int (*alert_count)(struct store *s, int64_t *ret);
	/*
	 * An alert's head, then its organisation/delivery rows, from one
	 * snapshot even while others commit; -ENOENT for no such alert.
	 */
	int (*status_alert)(struct store *s, const char *id,
			    int (*head)(void *,
					const struct store_status_alert *),
			    int (*row)(void *, const struct store_status_row *),
			    void *arg);
	/* The newest limit alerts with their counts, newest first. */
	int (*status_list)(struct store *s, int limit,
			   int (*fn)(void *, const struct store_status_alert *,
				     const struct store_status_counts *),
			   void *arg);
	/* The refused operations, oldest first. */
	int (*dead_letters)(struct store *s,
			    int (*fn)(void *,
				      const struct store_dead_letter_row *),
			    void *arg);
	/* Writes a validated directory, all or nothing. */
	int (*directory_import)(struct store *s, const struct directory *d,
				bool replace, struct store_import_stats *ret);
	/* Reads the directory (or one sector) in id order. */
	int (*directory_load)(struct store *s, const char *sector,
			      struct directory *ret);
	/* Makes the stored holidays exactly cal's, all or nothing. */
	int (*calendar_replace)(struct store *s, const struct calendar *cal);
	/* Reads the stored holidays (none: an empty calendar). */
	int (*calendar_load)(struct store *s, struct calendar *ret);

	/*
	 * Writes a consistent copy of the store to the file dest (replaced
	 * whole once complete) while other connections keep writing.
	 */
	int (*backup)(struct store *s, const char *dest);
	/*
	 * Replaces the store's contents with the backup at src: -EBUSY
	 * while a daemon holds the store, -EINVAL when src is not a store.
	 */
	int (*restore)(struct store *s, const char *src);
};

/* An open store: which backend, and its private state. */
struct store {
	const struct store_backend *backend; /* not owned: a static table */
	void *handle;			     /* owned by the backend */
	unsigned flags;			     /* STORE_OPEN_*, for open() */
};

/* The backends built in (store/sqlite.c, ...). */
extern const struct store_backend store_backend_sqlite;

#endif
