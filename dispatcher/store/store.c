/*
 * The store's core: opening the SQLite file with the pragmas we rely on,
 * forward migrations keyed by PRAGMA user_version, transactions and a
 * statement cache. The tables themselves are described in the migrations
 * below, oldest first; a migration is never edited once released, only
 * followed by a new one.
 */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "common/log.h"
#include "dispatcher/store/store.h"

struct stmt_entry {
	const char *sql;    /* not owned: callers pass string literals */
	sqlite3_stmt *stmt; /* owned */
};

struct store {
	sqlite3 *db; /* owned */
	char *path;  /* owned */
	/*
	 * Grown, never evicted: callers pass literals, a fixed set, and a
	 * statement may still be stepping when another is asked for.
	 */
	struct stmt_entry *cache; /* owned array */
	int n_cache, cap_cache;
};

/*
 * Migration N takes the schema from version N-1 to N. Each runs in the
 * same transaction as the user_version update.
 */
static const char *const migrations[] = {
	/* 1: the directory. */
	"CREATE TABLE orgs ("
	"  id TEXT PRIMARY KEY,"
	"  name TEXT NOT NULL,"
	"  name_en TEXT,"
	"  sector TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  parent TEXT,"
	"  hours TEXT NOT NULL,"
	"  timezone TEXT NOT NULL"
	");"
	"CREATE INDEX orgs_sector ON orgs(sector);"
	"CREATE TABLE contacts ("
	"  org_id TEXT NOT NULL REFERENCES orgs(id) ON DELETE CASCADE,"
	"  id TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  language TEXT NOT NULL,"
	"  position INTEGER NOT NULL,"
	"  PRIMARY KEY (org_id, id)"
	");"
	"CREATE TABLE methods ("
	"  org_id TEXT NOT NULL,"
	"  contact_id TEXT NOT NULL,"
	"  position INTEGER NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  max_tlp TEXT NOT NULL,"
	"  charset TEXT NOT NULL,"
	"  ord INTEGER NOT NULL,"
	"  PRIMARY KEY (org_id, contact_id, position),"
	"  FOREIGN KEY (org_id, contact_id) REFERENCES contacts(org_id, id)"
	"    ON DELETE CASCADE"
	");",
	/*
	 * 2: alerts, the organisations each one reaches, one delivery per
	 * contact method and step, one attempt row per try, and the
	 * timeline. Names, addresses and channels are copied into the
	 * deliveries so that history survives later directory changes.
	 * Times are Unix milliseconds (UTC).
	 */
	"CREATE TABLE alerts ("
	"  id TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  body TEXT NOT NULL,"
	"  type TEXT NOT NULL,"
	"  severity TEXT NOT NULL,"
	"  tlp TEXT NOT NULL,"
	"  drill INTEGER NOT NULL,"
	"  targets TEXT NOT NULL," /* JSON array as given */
	"  policy TEXT,"	   /* chosen policy name */
	"  policy_json TEXT,"	   /* its snapshot at acceptance */
	"  mode TEXT NOT NULL DEFAULT 'normal',"
	"  state TEXT NOT NULL," /* active, completed, cancelled */
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  finished_at INTEGER"
	");"
	"CREATE INDEX alerts_state ON alerts(state);"
	"CREATE TABLE alert_orgs ("
	"  alert_id TEXT NOT NULL REFERENCES alerts(id),"
	"  org_id TEXT NOT NULL,"
	"  org_name TEXT NOT NULL,"
	"  position INTEGER NOT NULL,"
	"  state TEXT NOT NULL," /* pending, notified, escalated, ... */
	"  step INTEGER NOT NULL DEFAULT -1," /* last step planned */
	"  next_at INTEGER,"		      /* when the policy looks again */
	"  acknowledged_at INTEGER,"
	"  acknowledged_by TEXT,"
	"  response TEXT,"
	"  comment TEXT,"
	"  via TEXT,"
	"  PRIMARY KEY (alert_id, org_id)"
	");"
	"CREATE TABLE deliveries ("
	"  id TEXT PRIMARY KEY," /* the idempotency key */
	"  alert_id TEXT NOT NULL REFERENCES alerts(id),"
	"  org_id TEXT NOT NULL,"
	"  contact_id TEXT NOT NULL,"
	"  contact_name TEXT NOT NULL,"
	"  language TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  address TEXT NOT NULL,"
	"  charset TEXT NOT NULL,"
	"  step INTEGER NOT NULL DEFAULT 0,"
	"  rank INTEGER NOT NULL," /* send order: fairness */
	"  state TEXT NOT NULL,"
	"  reason TEXT," /* why skipped or cancelled */
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER," /* retry_wait: when */
	"  last_error TEXT,"
	"  sent_at INTEGER,"
	"  gateway_id TEXT"
	");"
	"CREATE INDEX deliveries_alert ON deliveries(alert_id, org_id);"
	"CREATE INDEX deliveries_unfinished ON deliveries(state)"
	"  WHERE state IN ('queued', 'sending', 'retry_wait');"
	"CREATE TABLE attempts ("
	"  delivery_id TEXT NOT NULL,"
	"  n INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  ended_at INTEGER NOT NULL,"
	"  outcome TEXT NOT NULL," /* ok, tempfail, permfail, cancelled */
	"  code INTEGER,"	   /* SMTP code or HTTP status */
	"  detail TEXT,"
	"  gateway_id TEXT,"
	"  PRIMARY KEY (delivery_id, n)"
	");"
	"CREATE TABLE events ("
	"  alert_id TEXT NOT NULL,"
	"  seq INTEGER NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  org_id TEXT,"
	"  delivery_id TEXT,"
	"  detail TEXT,"
	"  prev_hash TEXT NOT NULL," /* hash of the alert's previous row */
	"  hash TEXT NOT NULL,"
	"  PRIMARY KEY (alert_id, seq)"
	");",
	/*
	 * 3: reply links. Only the SHA-256 of each token is kept; a link is
	 * one contact's for one alert, and remembers that contact's latest
	 * answer (the first confirmation time stays).
	 */
	"CREATE TABLE ack_tokens ("
	"  token_hash TEXT PRIMARY KEY," /* hex SHA-256 of the token */
	"  alert_id TEXT NOT NULL REFERENCES alerts(id),"
	"  org_id TEXT NOT NULL,"
	"  position INTEGER NOT NULL," /* the org's in alert_orgs */
	"  contact_id TEXT NOT NULL,"
	"  contact_name TEXT NOT NULL,"
	"  language TEXT NOT NULL,"
	"  confirmed_at INTEGER,"
	"  response TEXT,"
	"  name TEXT,"
	"  comment TEXT,"
	"  source TEXT,"
	"  user_agent TEXT,"
	"  updated_at INTEGER"
	");"
	"CREATE UNIQUE INDEX ack_tokens_contact"
	"  ON ack_tokens(alert_id, org_id, contact_id);"
	"ALTER TABLE deliveries ADD COLUMN kind TEXT NOT NULL DEFAULT 'alert';"
	"CREATE INDEX alerts_created ON alerts(created_at);",
};

int store_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

sqlite3 *store_db(struct store *s)
{
	return s->db;
}

int store_exec(struct store *s, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("%s: %s", s->path, err ? err : "unknown error");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

int store_begin(struct store *s)
{
	return store_exec(s, "BEGIN IMMEDIATE");
}

int store_commit(struct store *s)
{
	return store_exec(s, "COMMIT");
}

void store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		store_exec(s, "ROLLBACK");
}

sqlite3_stmt *store_stmt(struct store *s, const char *sql)
{
	sqlite3_stmt *stmt;

	/* Callers pass literals, so pointer equality finds repeats fast. */
	for (int i = 0; i < s->n_cache; i++) {
		if (s->cache[i].sql == sql) {
			sqlite3_reset(s->cache[i].stmt);
			sqlite3_clear_bindings(s->cache[i].stmt);
			return s->cache[i].stmt;
		}
	}
	if (sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
			       NULL) != SQLITE_OK) {
		log_warnx("%s: %s", s->path, sqlite3_errmsg(s->db));
		return NULL;
	}
	if (s->n_cache == s->cap_cache) {
		int cap = s->cap_cache ? s->cap_cache * 2 : 64;
		struct stmt_entry *c =
			realloc(s->cache, (size_t)cap * sizeof(*c));

		if (c == NULL) {
			sqlite3_finalize(stmt);
			log_warnx("%s: out of memory", s->path);
			return NULL;
		}
		s->cache = c;
		s->cap_cache = cap;
	}
	s->cache[s->n_cache].sql = sql;
	s->cache[s->n_cache].stmt = stmt;
	s->n_cache++;
	return stmt;
}

static int store_user_version(struct store *s, int *ret)
{
	sqlite3_stmt *stmt;
	int r = -EIO;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return -EIO;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*ret = sqlite3_column_int(stmt, 0);
		r = 0;
	}
	sqlite3_finalize(stmt);
	return r;
}

static int store_migrate(struct store *s)
{
	int version, target = store_schema_version();
	char sql[64];

	if (store_begin(s) < 0)
		return -EIO;
	if (store_user_version(s, &version) < 0)
		goto fail;
	if (version > target) {
		log_warnx("%s: schema version %d is newer than this pocalert "
			  "(%d): upgrade pocalert",
			  s->path, version, target);
		store_rollback(s);
		return -EPROTO;
	}
	for (; version < target; version++) {
		if (store_exec(s, migrations[version]) < 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
	if (store_exec(s, sql) < 0)
		goto fail;
	return store_commit(s);
fail:
	store_rollback(s);
	return -EIO;
}

/* Creates the parent directory of path when it does not exist (one level). */
static int store_make_parent(const char *path)
{
	char *copy = strdup(path), *dir;
	int r = 0;

	if (copy == NULL)
		return -ENOMEM;
	dir = dirname(copy);
	if (strcmp(dir, ".") != 0 && mkdir(dir, 0750) < 0 && errno != EEXIST)
		r = -errno;
	free(copy);
	return r;
}

int store_open(const char *path, struct store **ret)
{
	struct store *s;
	int r;

	s = calloc(1, sizeof(*s));
	if (s == NULL || (s->path = strdup(path)) == NULL) {
		free(s);
		return -ENOMEM;
	}
	r = store_make_parent(path);
	if (r < 0) {
		errno = -r;
		log_warn("%s: cannot create its directory", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &s->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_warnx("%s: %s", path,
			  s->db ? sqlite3_errmsg(s->db) : "out of memory");
		r = -EIO;
		goto fail;
	}
	/*
	 * WAL lets the CLI read while the daemon writes. FULL sync makes a
	 * commit durable across power loss too, not only a process crash:
	 * an accepted alert must be on disk. Group commits keep the fsync
	 * count per second small.
	 */
	sqlite3_busy_timeout(s->db, 10000);
	if (store_exec(s, "PRAGMA journal_mode = WAL;"
			  "PRAGMA synchronous = FULL;"
			  "PRAGMA foreign_keys = ON;") < 0) {
		r = -EIO;
		goto fail;
	}
	r = store_migrate(s);
	if (r < 0)
		goto fail;
	*ret = s;
	return 0;
fail:
	store_close(s);
	return r;
}

void store_close(struct store *s)
{
	if (s == NULL)
		return;
	for (int i = 0; i < s->n_cache; i++)
		sqlite3_finalize(s->cache[i].stmt);
	free(s->cache);
	sqlite3_close(s->db);
	free(s->path);
	free(s);
}
