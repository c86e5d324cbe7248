/*
 * The store's front: the registry of backends and the choice by the
 * `database` setting, the thin wrappers that reach the chosen backend's
 * table (store_backend.h), and what every backend shares about
 * operations: their names, their JSON form (for dead letters) and
 * batches that own copies of them.
 *
 * The fields of each operation kind are listed once, in op_fields below;
 * copying, freeing and printing an operation all walk that list, so a new
 * field is one line there.
 */
#include <assert.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/log.h"
#include "dispatcher/store/store_backend.h"

/* Built in, by name; NULL-terminated. */
static const struct store_backend *const store_backends[] = {
	&store_backend_sqlite,
	NULL,
};

/* Backends a later version brings: named so the error can say so. */
static const char *const store_backends_later[] = {
	"postgresql",
	"postgres",
	NULL,
};

/*
 * The backend for where: the one named by its "scheme://", else the one
 * that takes plain paths. NULL (logged) when none is built in.
 */
static const struct store_backend *store_backend_for(const char *where)
{
	const char *sep = strstr(where, "://");
	size_t len;

	for (size_t i = 0; sep == NULL && store_backends[i]; i++)
		if (store_backends[i]->takes_paths)
			return store_backends[i];
	if (sep == NULL) {
		log_warnx("%s: no store backend takes a path", where);
		return NULL;
	}
	len = (size_t)(sep - where);
	for (size_t i = 0; store_backends[i]; i++)
		if (strlen(store_backends[i]->name) == len &&
		    strncmp(store_backends[i]->name, where, len) == 0)
			return store_backends[i];
	for (size_t i = 0; store_backends_later[i]; i++)
		if (strlen(store_backends_later[i]) == len &&
		    strncmp(store_backends_later[i], where, len) == 0) {
			log_warnx("database %.*s://...: postgresql backend "
				  "not built in this version",
				  (int)len, where);
			return NULL;
		}
	log_warnx("database %.*s://...: no such store backend (a path "
		  "means SQLite)",
		  (int)len, where);
	return NULL;
}

int store_open(const char *where, struct store **ret)
{
	return store_open_with(where, 0, ret);
}

int store_open_with(const char *where, unsigned flags, struct store **ret)
{
	const struct store_backend *b = store_backend_for(where);
	struct store *s;
	int r;

	if (b == NULL)
		return -ENOTSUP;
	assert(b->version == STORE_BACKEND_VERSION);
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return -ENOMEM;
	s->backend = b;
	s->flags = flags;
	r = b->open(s, where);
	if (r < 0) {
		free(s);
		return r;
	}
	*ret = s;
	return 0;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	s->backend->close(s);
	free(s);
}

const char *store_backend_name(const struct store *s)
{
	return s->backend->name;
}

int store_apply(struct store *s, const struct store_op *ops, size_t n,
		enum store_apply_mode mode)
{
	if (n == 0)
		return 0;
	return s->backend->apply(s, ops, n, mode);
}

int store_data_version(struct store *s, int64_t *ret)
{
	return s->backend->data_version(s, ret);
}

int store_alert_state(struct store *s, const char *id, char *buf, size_t len)
{
	return s->backend->alert_state(s, id, buf, len);
}

int store_recovery_alerts(struct store *s,
			  int (*fn)(void *arg, const struct store_alert_row *),
			  void *arg)
{
	return s->backend->recovery_alerts(s, fn, arg);
}

int store_alert_org_count(struct store *s, const char *alert_id, size_t *ret)
{
	return s->backend->alert_org_count(s, alert_id, ret);
}

int store_alert_orgs(struct store *s, const char *alert_id,
		     int (*fn)(void *arg, const struct store_org_row *),
		     void *arg)
{
	return s->backend->alert_orgs(s, alert_id, fn, arg);
}

int store_alert_reached(struct store *s, const char *alert_id,
			int (*fn)(void *arg, const struct store_reach_row *),
			void *arg)
{
	return s->backend->alert_reached(s, alert_id, fn, arg);
}

int store_alert_confirmations(struct store *s, const char *alert_id,
			      int (*fn)(void *arg,
					const struct store_contact_row *),
			      void *arg)
{
	return s->backend->alert_confirmations(s, alert_id, fn, arg);
}

int store_alert_delivery_count(struct store *s, const char *alert_id,
			       size_t *ret)
{
	return s->backend->alert_delivery_count(s, alert_id, ret);
}

int store_alert_unfinished(struct store *s, const char *alert_id,
			   int (*fn)(void *arg,
				     const struct store_delivery_row *),
			   void *arg)
{
	return s->backend->alert_unfinished(s, alert_id, fn, arg);
}

int store_alert_sent_methods(struct store *s, const char *alert_id,
			     int (*fn)(void *arg,
				       const struct store_method_row *),
			     void *arg)
{
	return s->backend->alert_sent_methods(s, alert_id, fn, arg);
}

int store_ack_lookup(struct store *s, const char *token_hash,
		     int (*fn)(void *arg, const struct store_ack_row *),
		     void *arg)
{
	return s->backend->ack_lookup(s, token_hash, fn, arg);
}

int store_timeline_head(struct store *s, const char *alert_id, int64_t *ret_seq,
			char ret_hash[65])
{
	return s->backend->timeline_head(s, alert_id, ret_seq, ret_hash);
}

int store_timeline_rows(struct store *s, const char *alert_id,
			int (*fn)(void *arg, const struct store_event_row *),
			void *arg)
{
	return s->backend->timeline_rows(s, alert_id, fn, arg);
}

int store_timeline_anchor(struct store *s, const char *alert_id,
			  int64_t *ret_seq, char ret_hash[65])
{
	return s->backend->timeline_anchor(s, alert_id, ret_seq, ret_hash);
}

int store_meta_get(struct store *s, const char *key, char *buf, size_t len)
{
	return s->backend->meta_get(s, key, buf, len);
}

int store_meta_set(struct store *s, const char *key, const char *value)
{
	return s->backend->meta_set(s, key, value);
}

int store_alert_count(struct store *s, int64_t *ret)
{
	return s->backend->alert_count(s, ret);
}

int store_status_alert(struct store *s, const char *id,
		       int (*head)(void *arg,
				   const struct store_status_alert *),
		       int (*row)(void *arg, const struct store_status_row *),
		       void *arg)
{
	return s->backend->status_alert(s, id, head, row, arg);
}

int store_status_list(struct store *s, int limit,
		      int (*fn)(void *arg, const struct store_status_alert *,
				const struct store_status_counts *),
		      void *arg)
{
	return s->backend->status_list(s, limit, fn, arg);
}

int store_dead_letters(struct store *s,
		       int (*fn)(void *arg,
				 const struct store_dead_letter_row *),
		       void *arg)
{
	return s->backend->dead_letters(s, fn, arg);
}

int store_directory_import(struct store *s, const struct directory *d,
			   bool replace, struct store_import_stats *ret_stats)
{
	return s->backend->directory_import(s, d, replace, ret_stats);
}

int store_directory_load(struct store *s, const char *sector,
			 struct directory *ret)
{
	return s->backend->directory_load(s, sector, ret);
}

/* The fields of the operations, by kind. */

enum field_type {
	FIELD_STR, /* const char * */
	FIELD_INT, /* int */
	FIELD_I64, /* int64_t */
};

struct op_field {
	const char *name;
	enum field_type type;
	size_t off; /* from the start of struct store_op */
};

#define STR(k, m)                                                              \
	{                                                                      \
#m, FIELD_STR, offsetof(struct store_op, k.m)                  \
	}
#define INT(k, m)                                                              \
	{                                                                      \
#m, FIELD_INT, offsetof(struct store_op, k.m)                  \
	}
#define I64(k, m)                                                              \
	{                                                                      \
#m, FIELD_I64, offsetof(struct store_op, k.m)                  \
	}

static const struct op_field f_alert_new[] = {
	STR(alert_new, id),	    STR(alert_new, title),
	STR(alert_new, body),	    STR(alert_new, type),
	STR(alert_new, severity),   STR(alert_new, tlp),
	INT(alert_new, drill),	    STR(alert_new, targets),
	STR(alert_new, policy),	    STR(alert_new, policy_json),
	STR(alert_new, mode),	    I64(alert_new, created_at),
	STR(alert_new, created_by), {NULL, 0, 0},
};

static const struct op_field f_org_new[] = {
	STR(org_new, alert_id), STR(org_new, org_id),  STR(org_new, org_name),
	INT(org_new, position), I64(org_new, next_at), {NULL, 0, 0},
};

static const struct op_field f_delivery_new[] = {
	STR(delivery_new, id),
	STR(delivery_new, alert_id),
	STR(delivery_new, org_id),
	STR(delivery_new, contact_id),
	STR(delivery_new, contact_name),
	STR(delivery_new, language),
	STR(delivery_new, channel),
	STR(delivery_new, address),
	STR(delivery_new, charset),
	INT(delivery_new, step),
	INT(delivery_new, rank),
	STR(delivery_new, state),
	STR(delivery_new, reason),
	STR(delivery_new, kind),
	{NULL, 0, 0},
};

static const struct op_field f_ack_token_new[] = {
	STR(ack_token_new, token_hash), STR(ack_token_new, alert_id),
	STR(ack_token_new, org_id),	INT(ack_token_new, position),
	STR(ack_token_new, contact_id), STR(ack_token_new, contact_name),
	STR(ack_token_new, language),	{NULL, 0, 0},
};

static const struct op_field f_event[] = {
	STR(event, alert_id),	 I64(event, seq),    I64(event, at),
	STR(event, actor),	 STR(event, kind),   STR(event, org_id),
	STR(event, delivery_id), STR(event, detail), STR(event, prev_hash),
	STR(event, hash),	 {NULL, 0, 0},
};

static const struct op_field f_delivery_state[] = {
	STR(delivery_state, id),
	STR(delivery_state, state),
	INT(delivery_state, attempts),
	I64(delivery_state, next_at),
	STR(delivery_state, last_error),
	I64(delivery_state, sent_at),
	STR(delivery_state, gateway_id),
	STR(delivery_state, reason),
	{NULL, 0, 0},
};

static const struct op_field f_attempt[] = {
	STR(attempt, delivery_id),
	INT(attempt, n),
	I64(attempt, started_at),
	I64(attempt, ended_at),
	STR(attempt, outcome),
	INT(attempt, code),
	STR(attempt, detail),
	STR(attempt, gateway_id),
	{NULL, 0, 0},
};

static const struct op_field f_org_state[] = {
	STR(org_state, alert_id), STR(org_state, org_id),
	STR(org_state, state),	  INT(org_state, step),
	I64(org_state, next_at),  {NULL, 0, 0},
};

static const struct op_field f_alert_state[] = {
	STR(alert_state, alert_id),
	STR(alert_state, state),
	I64(alert_state, finished_at),
	{NULL, 0, 0},
};

static const struct op_field f_ack[] = {
	STR(ack, token_hash), I64(ack, at),	 STR(ack, response),
	STR(ack, name),	      STR(ack, comment), STR(ack, source),
	STR(ack, user_agent), {NULL, 0, 0},
};

static const struct op_field f_org_ack[] = {
	STR(org_ack, alert_id), STR(org_ack, org_id),	I64(org_ack, at),
	STR(org_ack, by),	STR(org_ack, response), STR(org_ack, comment),
	STR(org_ack, via),	{NULL, 0, 0},
};

#undef STR
#undef INT
#undef I64

static const struct {
	const char *name;
	const struct op_field *fields;
} op_kinds[STORE_OP_KIND_COUNT] = {
	[STORE_OP_ALERT_NEW] = {"alert_new", f_alert_new},
	[STORE_OP_ORG_NEW] = {"org_new", f_org_new},
	[STORE_OP_DELIVERY_NEW] = {"delivery_new", f_delivery_new},
	[STORE_OP_ACK_TOKEN_NEW] = {"ack_token_new", f_ack_token_new},
	[STORE_OP_EVENT] = {"event", f_event},
	[STORE_OP_DELIVERY_STATE] = {"delivery_state", f_delivery_state},
	[STORE_OP_ATTEMPT] = {"attempt", f_attempt},
	[STORE_OP_ORG_STATE] = {"org_state", f_org_state},
	[STORE_OP_ALERT_STATE] = {"alert_state", f_alert_state},
	[STORE_OP_ACK] = {"ack", f_ack},
	[STORE_OP_ORG_ACK] = {"org_ack", f_org_ack},
};

const char *store_op_kind_name(enum store_op_kind kind)
{
	if ((unsigned)kind >= STORE_OP_KIND_COUNT)
		return "unknown";
	return op_kinds[kind].name;
}

static const char **op_str(struct store_op *op, const struct op_field *f)
{
	return (const char **)((char *)op + f->off);
}

char *store_op_json(const struct store_op *op)
{
	json_t *o = json_object();
	const struct op_field *f;
	char *text;

	if (o == NULL || (unsigned)op->kind >= STORE_OP_KIND_COUNT)
		goto fail;
	if (json_object_set_new(o, "op", json_string(op_kinds[op->kind].name)) <
	    0)
		goto fail;
	for (f = op_kinds[op->kind].fields; f->name; f++) {
		const char *p = (const char *)op + f->off;
		json_t *v;

		switch (f->type) {
		case FIELD_STR:
			v = *(const char *const *)p
				    ? json_string(*(const char *const *)p)
				    : json_null();
			break;
		case FIELD_INT:
			v = json_integer(*(const int *)p);
			break;
		default:
			v = json_integer(*(const int64_t *)p);
			break;
		}
		/* Text jansson refuses (not UTF-8) is kept as null. */
		if (json_object_set_new(o, f->name, v ? v : json_null()) < 0)
			goto fail;
	}
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	return text;
fail:
	json_decref(o);
	return NULL;
}

/* Frees the strings of op, which a batch owns. */
static void op_free_strings(struct store_op *op)
{
	for (const struct op_field *f = op_kinds[op->kind].fields; f->name; f++)
		if (f->type == FIELD_STR)
			free((char *)*op_str(op, f));
}

int store_batch_add(struct store_batch *b, const struct store_op *op)
{
	struct store_op *copy;

	assert((unsigned)op->kind < STORE_OP_KIND_COUNT);
	if (b->n == b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 64;
		struct store_op *ops = realloc(b->ops, cap * sizeof(*ops));

		if (ops == NULL)
			return -ENOMEM;
		b->ops = ops;
		b->cap = cap;
	}
	copy = &b->ops[b->n];
	*copy = *op;
	for (const struct op_field *f = op_kinds[op->kind].fields; f->name;
	     f++) {
		const char **p = op_str(copy, f);

		if (f->type != FIELD_STR || *p == NULL)
			continue;
		*p = strdup(*p);
		if (*p == NULL) {
			/* Undo the copies made so far; the rest are NULL. */
			for (f++; f->name; f++)
				if (f->type == FIELD_STR)
					*op_str(copy, f) = NULL;
			op_free_strings(copy);
			return -ENOMEM;
		}
	}
	b->n++;
	return 0;
}

void store_batch_clear(struct store_batch *b)
{
	for (size_t i = 0; i < b->n; i++)
		op_free_strings(&b->ops[i]);
	b->n = 0;
}

void store_batch_free(struct store_batch *b)
{
	store_batch_clear(b);
	free(b->ops);
	b->ops = NULL;
	b->cap = 0;
}

int store_calendar_replace(struct store *s, const struct calendar *cal)
{
	return s->backend->calendar_replace(s, cal);
}

int store_calendar_load(struct store *s, struct calendar *ret)
{
	return s->backend->calendar_load(s, ret);
}

int store_backup(struct store *s, const char *dest)
{
	return s->backend->backup(s, dest);
}

int store_restore(struct store *s, const char *src)
{
	return s->backend->restore(s, src);
}
