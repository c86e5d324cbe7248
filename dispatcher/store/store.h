/*
 * The store interface: everything the program keeps on disk (the
 * directory, alerts, their organisations and deliveries, attempts, reply
 * links and the hash-chained timeline) goes through the functions below,
 * whatever the backend. Which backend is chosen by the `database`
 * setting: a path means SQLite (store/sqlite*.c); a URL names another
 * backend by its scheme (store/store.c keeps the list).
 *
 * Changes are typed operations (struct store_op) applied in one
 * transaction by store_apply(); the group-commit writer (writer.h) queues
 * them. Reads are named: each hands rows to a callback as plain structs
 * whose strings are borrowed for the length of the call. A callback
 * returning non-zero stops the walk and its value is returned.
 *
 * No SQL and no backend type appears here: callers never see how rows
 * are kept.
 */
#ifndef POCALERT_STORE_H
#define POCALERT_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "contacts/directory.h"
#include "policies/calendar.h"

struct store;

/* A time or number that is absent (NULL), or in a change "leave as is". */
#define STORE_NONE (-1)

/*
 * Opens the store named by where (the `database` setting), creating and
 * migrating it to the current schema as needed; an existing empty store
 * is refused (see STORE_OPEN_INIT). On success *ret owns the
 * store (store_close() frees it). Errors are -errno style: -ENOTSUP for a
 * backend this build lacks; a message naming where goes to the log.
 */
int store_open(const char *where, struct store **ret);

/* How store_open_with() opens. */
enum {
	/*
	 * Accept an existing store that is empty (a 0-byte SQLite file) as
	 * new. Without it such a store is refused with -ENODATA: a file cut
	 * to nothing must not silently become a new, empty history.
	 */
	STORE_OPEN_INIT = 1 << 0,
	/*
	 * The caller is the one daemon writing this store: take an
	 * exclusive lock for as long as it is open, or fail with -EBUSY
	 * (the holder's pid logged) while another process holds it.
	 */
	STORE_OPEN_EXCLUSIVE = 1 << 1,
};

/*
 * store_open() with flags. A store created here (no file before) is
 * created for the owner and group only (SQLite files 0640 in a 0750
 * directory), whatever the umask; an existing one readable by others is
 * reported in the log. Same ownership and errors as store_open(), plus
 * -ENODATA and -EBUSY as above.
 */
int store_open_with(const char *where, unsigned flags, struct store **ret);

/* Closes the store. NULL is a no-op. */
void store_close(struct store *s);

/* The backend's name ("sqlite"), for messages. */
const char *store_backend_name(const struct store *s);

/*
 * Changes. Strings are NUL-terminated; a NULL string is stored as NULL.
 * A time or count of STORE_NONE means NULL in a new row and "leave as it
 * is" in an update, unless said otherwise.
 */
enum store_op_kind {
	STORE_OP_ALERT_NEW,	 /* an accepted alert (state active) */
	STORE_OP_ORG_NEW,	 /* one recipient organisation of it */
	STORE_OP_DELIVERY_NEW,	 /* one planned delivery */
	STORE_OP_ACK_TOKEN_NEW,	 /* a contact's reply link; kept if present */
	STORE_OP_EVENT,		 /* one timeline row */
	STORE_OP_DELIVERY_STATE, /* a delivery moved on */
	STORE_OP_ATTEMPT,	 /* one try of a delivery (replaces same n) */
	STORE_OP_ORG_STATE,	 /* an organisation's state and step */
	STORE_OP_ALERT_STATE,	 /* an alert finished or was cancelled */
	STORE_OP_ACK,		 /* a contact's answer on its reply link */
	STORE_OP_ORG_ACK,	 /* an organisation acknowledged */
	STORE_OP_KIND_COUNT
};

struct store_op_alert_new {
	const char *id, *title, *body, *type, *severity, *tlp;
	int drill;
	const char *targets;	 /* JSON array as given */
	const char *policy;	 /* chosen policy name */
	const char *policy_json; /* its snapshot */
	const char *mode;
	int64_t created_at;
	const char *created_by;
};

struct store_op_org_new {
	const char *alert_id, *org_id, *org_name;
	int position;
	int64_t next_at; /* when the policy first looks */
};

struct store_op_delivery_new {
	const char *id; /* the idempotency key */
	const char *alert_id, *org_id, *contact_id, *contact_name, *language;
	const char *channel, *address, *charset;
	int step;
	int rank;	    /* send order */
	const char *state;  /* queued or skipped */
	const char *reason; /* why skipped, or NULL */
	const char *kind;   /* alert, cancel, unreachable */
};

struct store_op_ack_token_new {
	const char *token_hash; /* hex SHA-256 of the token */
	const char *alert_id, *org_id;
	int position; /* the organisation's */
	const char *contact_id, *contact_name, *language;
};

struct store_op_event {
	const char *alert_id;
	int64_t seq, at;
	const char *actor, *kind, *org_id, *delivery_id, *detail;
	const char *prev_hash, *hash;
};

struct store_op_delivery_state {
	const char *id, *state;
	int attempts;
	int64_t next_at; /* kept only while waiting: STORE_NONE clears it */
	const char *last_error;
	int64_t sent_at;
	const char *gateway_id, *reason;
};

struct store_op_attempt {
	const char *delivery_id;
	int n;
	int64_t started_at, ended_at;
	const char *outcome; /* ok, tempfail, permfail, cancelled, unknown */
	int code;	     /* SMTP code or HTTP status; <= 0 for none */
	const char *detail, *gateway_id;
};

struct store_op_org_state {
	const char *alert_id, *org_id, *state;
	int step;
	int64_t next_at; /* STORE_NONE clears it */
};

struct store_op_alert_state {
	const char *alert_id, *state;
	int64_t finished_at; /* STORE_NONE clears it */
};

struct store_op_ack {
	const char *token_hash;
	int64_t at; /* the first answer's time stays */
	const char *response, *name, *comment, *source, *user_agent;
};

struct store_op_org_ack {
	const char *alert_id, *org_id;
	int64_t at; /* the first acknowledgement's time stays */
	const char *by, *response, *comment, *via;
};

/* One change; kind says which member counts. */
struct store_op {
	enum store_op_kind kind;
	union {
		struct store_op_alert_new alert_new;
		struct store_op_org_new org_new;
		struct store_op_delivery_new delivery_new;
		struct store_op_ack_token_new ack_token_new;
		struct store_op_event event;
		struct store_op_delivery_state delivery_state;
		struct store_op_attempt attempt;
		struct store_op_org_state org_state;
		struct store_op_alert_state alert_state;
		struct store_op_ack ack;
		struct store_op_org_ack org_ack;
	};
};

/* The kind's name ("event", "delivery_state", ...), for messages. */
const char *store_op_kind_name(enum store_op_kind kind);

/*
 * The operation as a JSON object (every field, NULLs as null), for the
 * dead-letter table and the log. A malloc'd string the caller frees, or
 * NULL when out of memory.
 */
char *store_op_json(const struct store_op *op);

/* A list of operations that owns copies of their strings. */
struct store_batch {
	struct store_op *ops; /* owned; so are the strings of each */
	size_t n, cap;
};

/* Appends a copy of op (strings copied). Returns 0 or -ENOMEM. */
int store_batch_add(struct store_batch *b, const struct store_op *op);

/* Empties b, keeping its room. */
void store_batch_clear(struct store_batch *b);

/* Frees what b holds; b is left empty and may be reused. */
void store_batch_free(struct store_batch *b);

enum store_apply_mode {
	/* Any refused operation rolls the whole list back. */
	STORE_APPLY_ALL_OR_NOTHING,
	/*
	 * An operation the database refuses for its content (a constraint,
	 * a type) is logged and kept in the dead-letter table; the others
	 * commit.
	 */
	STORE_APPLY_DEAD_LETTER,
};

/*
 * Applies ops[0..n) in order in one transaction. Returns the number of
 * operations sent to the dead-letter table (>= 0; always 0 in
 * ALL_OR_NOTHING mode) when the transaction committed; -EINVAL when an
 * operation was refused in ALL_OR_NOTHING mode; -EIO when nothing could
 * be written (disk, lock), so that trying again later is right.
 */
int store_apply(struct store *s, const struct store_op *ops, size_t n,
		enum store_apply_mode mode);

/* Reads. */

/*
 * A number that changes whenever another connection (another process)
 * has committed to the store, so that a cache can tell it is stale.
 */
int store_data_version(struct store *s, int64_t *ret);

/*
 * Copies the state of alert id (active, completed, cancelled) into buf.
 * Returns 0, -ENOENT for no such alert, -ENOBUFS or -EIO.
 */
int store_alert_state(struct store *s, const char *id, char *buf, size_t len);

/* An alert as recovery needs it. */
struct store_alert_row {
	const char *id, *title, *body, *type, *severity, *tlp;
	bool drill;
	int64_t created_at;
	const char *policy_json; /* may be NULL */
	const char *state;
};

/*
 * The alerts a start must reload: active ones, and finished ones that
 * still have deliveries to send. Newest first.
 */
int store_recovery_alerts(struct store *s,
			  int (*fn)(void *arg, const struct store_alert_row *),
			  void *arg);

/* How many organisations alert_id reaches. */
int store_alert_org_count(struct store *s, const char *alert_id, size_t *ret);

struct store_org_row {
	const char *org_id, *org_name, *state;
	int step; /* last step planned; -1 before the first */
};

/* The organisations of alert_id in position order. */
int store_alert_orgs(struct store *s, const char *alert_id,
		     int (*fn)(void *arg, const struct store_org_row *),
		     void *arg);

/* A contact an alert delivery was planned to (not skipped), per step. */
struct store_reach_row {
	const char *org_id, *contact_id;
	int step;
	int sent; /* how many of those deliveries were sent */
};

/* In org_id, contact_id, step order: recovery relies on it. */
int store_alert_reached(struct store *s, const char *alert_id,
			int (*fn)(void *arg, const struct store_reach_row *),
			void *arg);

/* A contact of an organisation. */
struct store_contact_row {
	const char *org_id, *contact_id;
};

/* The contacts of alert_id that confirmed by reply link. */
int store_alert_confirmations(struct store *s, const char *alert_id,
			      int (*fn)(void *arg,
					const struct store_contact_row *),
			      void *arg);

/* How many deliveries alert_id has, of every state. */
int store_alert_delivery_count(struct store *s, const char *alert_id,
			       size_t *ret);

struct store_delivery_row {
	const char *id, *org_id, *contact_id, *contact_name, *language;
	const char *channel, *address, *charset;
	int rank;
	const char *state; /* queued, sending, retry_wait */
	int attempts;
	int64_t next_at; /* or STORE_NONE */
	const char *kind;
	int step;
};

/* The deliveries of alert_id still to send, in rank order. */
int store_alert_unfinished(struct store *s, const char *alert_id,
			   int (*fn)(void *arg,
				     const struct store_delivery_row *),
			   void *arg);

/* A contact method an alert delivery was sent to. */
struct store_method_row {
	const char *org_id, *contact_id, *channel, *address;
	const char *first_id; /* the first delivery of the alert sent there */
};

/* Each (contact, channel, address) alert_id was sent to, once. */
int store_alert_sent_methods(struct store *s, const char *alert_id,
			     int (*fn)(void *arg,
				       const struct store_method_row *),
			     void *arg);

/* A reply link joined with its alert and organisation. */
struct store_ack_row {
	const char *alert_id, *title, *body, *type, *severity, *tlp;
	bool drill;
	const char *alert_state;
	const char *org_id, *org_name, *contact_id, *contact_name, *language;
	int64_t created_at;
	int64_t confirmed_at; /* or STORE_NONE */
	const char *response, *name, *comment;
	int position; /* the organisation's */
};

/*
 * Finds the reply link whose token hashes to token_hash and calls fn on
 * it. Returns fn's value, -ENOENT when there is none, or -EIO.
 */
int store_ack_lookup(struct store *s, const char *token_hash,
		     int (*fn)(void *arg, const struct store_ack_row *),
		     void *arg);

/*
 * The last timeline row of alert_id: its seq and hash. With no rows,
 * *ret_seq is 0 and ret_hash is left as it is. Returns 0 or -EIO.
 */
int store_timeline_head(struct store *s, const char *alert_id, int64_t *ret_seq,
			char ret_hash[65]);

struct store_event_row {
	int64_t seq, at;
	const char *actor, *kind, *org_id, *delivery_id, *detail;
	const char *prev_hash, *hash;
};

/* The timeline rows of alert_id in seq order. */
int store_timeline_rows(struct store *s, const char *alert_id,
			int (*fn)(void *arg, const struct store_event_row *),
			void *arg);

/*
 * The head of alert_id's timeline as recorded in the alert itself,
 * updated in the same transaction as every event: its seq (0 before any
 * event) and hash ("" before any). Rows missing after it show that the
 * timeline was cut. Returns 0, -ENOENT for no such alert, or -EIO.
 */
int store_timeline_anchor(struct store *s, const char *alert_id,
			  int64_t *ret_seq, char ret_hash[65]);

/*
 * Store-wide facts by key (such as "ackkey_fingerprint"). get copies the
 * value into buf: 0, -ENOENT, -ENOBUFS or -EIO. set commits at once and
 * must not be called while the writer holds a transaction: 0 or -EIO.
 */
int store_meta_get(struct store *s, const char *key, char *buf, size_t len);
int store_meta_set(struct store *s, const char *key, const char *value);

/* How many alerts the store holds, in any state: 0 or -EIO. */
int store_alert_count(struct store *s, int64_t *ret);

/* An alert as status shows it. */
struct store_status_alert {
	const char *id, *title, *type, *severity, *tlp;
	bool drill;
	const char *state;
	int64_t created_at;
	const char *created_by;
	int64_t finished_at; /* or STORE_NONE */
	const char *mode, *policy;
	const char *targets; /* JSON text; NULL in lists */
};

struct store_status_counts {
	int64_t organisations;
	int64_t deliveries;
	int64_t sent;
	int64_t failed;
	int64_t pending; /* queued, sending or retry_wait */
	int64_t skipped;
	int64_t cancelled;
};

/* One organisation of an alert with one of its deliveries. */
struct store_status_row {
	const char *org_id, *org_name, *org_state;
	int org_step;
	int64_t acknowledged_at; /* or STORE_NONE */
	const char *acknowledged_by, *response, *comment, *via;
	const char *id; /* the delivery's; NULL when the org has none */
	const char *contact_name, *contact_id, *channel, *address;
	const char *state, *reason;
	int attempts;
	const char *last_error;
	int64_t sent_at; /* or STORE_NONE */
	int step;
};

/*
 * The status of alert id from one snapshot: head(arg, alert) once, then
 * row() for each organisation and delivery, organisations in position
 * order, each one's deliveries together by step and rank (an
 * organisation without deliveries comes once, with id NULL). Returns 0,
 * -ENOENT for no such alert, a callback's value or -EIO.
 */
int store_status_alert(struct store *s, const char *id,
		       int (*head)(void *arg,
				   const struct store_status_alert *),
		       int (*row)(void *arg, const struct store_status_row *),
		       void *arg);

/* The newest limit alerts, newest first, each with its counts. */
int store_status_list(struct store *s, int limit,
		      int (*fn)(void *arg, const struct store_status_alert *,
				const struct store_status_counts *),
		      void *arg);

/* An operation the database refused, kept for an operator to look at. */
struct store_dead_letter_row {
	int64_t id, at;
	const char *kind;  /* store_op_kind_name() */
	const char *error; /* the database's words */
	const char *op;	   /* store_op_json() */
};

/* The dead letters, oldest first. */
int store_dead_letters(struct store *s,
		       int (*fn)(void *arg,
				 const struct store_dead_letter_row *),
		       void *arg);

/* The directory. */

struct store_import_stats {
	int orgs_added;
	int orgs_updated;
	int orgs_removed;
	int contacts;
	int methods;
};

/*
 * Writes the organisations of d into the store in one transaction. Without
 * replace, organisations in d are added or replaced whole (their contacts
 * and methods become exactly d's) and the others stay; with replace the
 * directory becomes exactly d. d must have been validated. On any error
 * nothing changes. Returns 0 or a negative errno.
 */
int store_directory_import(struct store *s, const struct directory *d,
			   bool replace, struct store_import_stats *ret_stats);

/*
 * Loads the directory (or only the organisations of a sector when sector
 * is not NULL) into *ret, which the caller frees with directory_free().
 * Organisations come in id order, contacts and methods in their order.
 */
int store_directory_load(struct store *s, const char *sector,
			 struct directory *ret);

/* The public holidays imported by `calendar import`. */

/*
 * Makes the stored holidays exactly those of cal, in one transaction: on
 * any error nothing changes. Returns 0 or a negative errno.
 */
int store_calendar_replace(struct store *s, const struct calendar *cal);

/*
 * Reads the stored holidays into *ret (calendar_free; covering the whole
 * years of the first and last holiday). Returns 0, -ENOENT when none were
 * ever imported (*ret untouched), or a negative errno.
 */
int store_calendar_load(struct store *s, struct calendar *ret);

/*
 * Writes a consistent copy of the store to the file dest while a daemon
 * keeps writing to it (the copy replaces dest only once complete and
 * checked; mode 0600). Returns 0, -EBUSY or -EIO (logged).
 */
int store_backup(struct store *s, const char *dest);

/*
 * Replaces the store's contents with the backup at src. Refuses with
 * -EBUSY while a daemon holds the store, -EINVAL when src is not a
 * readable pocalert store; -EIO otherwise (all logged).
 */
int store_restore(struct store *s, const char *src);

#endif
