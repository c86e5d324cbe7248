/*
 * The SQLite backend's core: opening the file with the pragmas we rely
 * on, forward migrations keyed by PRAGMA user_version, transactions, a
 * statement cache, small helpers for the other sqlite_*.c files, and the
 * backend table itself (store_backend_sqlite). The tables are described
 * in the migrations below, oldest first; a migration is never edited
 * once released, only followed by a new one.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "dispatcher/store/sqlite.h"

struct stmt_entry {
	const char *sql;    /* not owned: callers pass string literals */
	sqlite3_stmt *stmt; /* owned */
};

struct sqlite_store {
	sqlite3 *db; /* owned */
	char *path;  /* owned */
	/*
	 * Grown, never evicted: callers pass literals, a fixed set, and a
	 * statement may still be stepping when another is asked for.
	 */
	struct stmt_entry *cache; /* owned array */
	int n_cache, cap_cache;
	int lock_fd; /* PATH.lock held with flock(), or -1 */
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
	/*
	 * 4: dead letters. A change the database refused for its content
	 * (a constraint) is kept here, whole, instead of blocking every
	 * later write; an operator can read and replay it.
	 */
	"CREATE TABLE dead_letters ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL," /* store_op_kind_name() */
	"  error TEXT NOT NULL,"
	"  op TEXT NOT NULL" /* store_op_json() */
	");",
	/*
	 * 5: the Japanese calendar. An organisation's own days off
	 * ("YYYY-MM-DD,..." sorted); the public holidays `calendar import`
	 * took from the Cabinet Office's CSV, which replace the config's
	 * holiday file while there are any.
	 */
	"ALTER TABLE orgs ADD COLUMN days_off TEXT NOT NULL DEFAULT '';"
	"CREATE TABLE holidays ("
	"  day INTEGER PRIMARY KEY," /* days since 1970-01-01, local date */
	"  name TEXT NOT NULL"
	");",
	/*
	 * 6: the head of each alert's timeline (last seq and hash) kept in
	 * the alert's row, so that verification notices when the newest
	 * events are cut off, which the chain alone cannot show. A trigger
	 * sets it in the same transaction as the event insert, so no path
	 * that writes events can forget it. Existing alerts take their
	 * current head. And a table of store-wide facts (the fingerprint
	 * of the reply-link key).
	 */
	"ALTER TABLE alerts ADD COLUMN head_seq INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE alerts ADD COLUMN head_hash TEXT;"
	"UPDATE alerts SET"
	"  head_seq = COALESCE((SELECT max(seq) FROM events"
	"    WHERE events.alert_id = alerts.id), 0),"
	"  head_hash = (SELECT hash FROM events WHERE events.alert_id ="
	"    alerts.id ORDER BY seq DESC LIMIT 1);"
	"CREATE TRIGGER events_head AFTER INSERT ON events BEGIN"
	"  UPDATE alerts SET head_seq = NEW.seq, head_hash = NEW.hash"
	"    WHERE id = NEW.alert_id AND head_seq < NEW.seq;"
	"END;"
	"CREATE TABLE meta ("
	"  key TEXT PRIMARY KEY,"
	"  value TEXT NOT NULL"
	");",
};

/* The handle behind a store of this backend. */
static struct sqlite_store *handle_of(struct store *s)
{
	return s->handle;
}

void sqlite_store_busy_timeout(struct store *s, int ms)
{
	sqlite3_busy_timeout(handle_of(s)->db, ms);
}

int sqlite_store_schema_version(void)
{
	return (int)(sizeof(migrations) / sizeof(migrations[0]));
}

sqlite3 *sqlite_store_db(struct store *s)
{
	return handle_of(s)->db;
}

static int sqlite_exec_on(struct sqlite_store *h, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(h->db, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_warnx("%s: %s", h->path, err ? err : "unknown error");
		sqlite3_free(err);
		return -EIO;
	}
	return 0;
}

int sqlite_store_exec(struct store *s, const char *sql)
{
	return sqlite_exec_on(handle_of(s), sql);
}

int sqlite_store_begin(struct store *s)
{
	return sqlite_store_exec(s, "BEGIN IMMEDIATE");
}

int sqlite_store_commit(struct store *s)
{
	return sqlite_store_exec(s, "COMMIT");
}

void sqlite_store_rollback(struct store *s)
{
	if (!sqlite3_get_autocommit(handle_of(s)->db))
		sqlite_store_exec(s, "ROLLBACK");
}

void sqlite_store_log_error(struct store *s, const char *what)
{
	log_warnx("%s: %s: %s", handle_of(s)->path, what,
		  sqlite3_errmsg(handle_of(s)->db));
}

sqlite3_stmt *sqlite_store_stmt(struct store *s, const char *sql)
{
	struct sqlite_store *h = handle_of(s);
	sqlite3_stmt *stmt;

	/* Callers pass literals, so pointer equality finds repeats fast. */
	for (int i = 0; i < h->n_cache; i++) {
		if (h->cache[i].sql == sql) {
			sqlite3_reset(h->cache[i].stmt);
			sqlite3_clear_bindings(h->cache[i].stmt);
			return h->cache[i].stmt;
		}
	}
	if (sqlite3_prepare_v3(h->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt,
			       NULL) != SQLITE_OK) {
		log_warnx("%s: %s", h->path, sqlite3_errmsg(h->db));
		return NULL;
	}
	if (h->n_cache == h->cap_cache) {
		int cap = h->cap_cache ? h->cap_cache * 2 : 64;
		struct stmt_entry *c =
			realloc(h->cache, (size_t)cap * sizeof(*c));

		if (c == NULL) {
			sqlite3_finalize(stmt);
			log_warnx("%s: out of memory", h->path);
			return NULL;
		}
		h->cache = c;
		h->cap_cache = cap;
	}
	h->cache[h->n_cache].sql = sql;
	h->cache[h->n_cache].stmt = stmt;
	h->n_cache++;
	return stmt;
}

void sqlite_bind_text(sqlite3_stmt *st, int i, const char *s)
{
	if (s)
		sqlite3_bind_text(st, i, s, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

void sqlite_bind_opt(sqlite3_stmt *st, int i, int64_t v)
{
	if (v >= 0)
		sqlite3_bind_int64(st, i, v);
	else
		sqlite3_bind_null(st, i);
}

const char *sqlite_col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

int64_t sqlite_col_opt(sqlite3_stmt *st, int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return STORE_NONE;
	return sqlite3_column_int64(st, i);
}

int sqlite_end(struct store *s, sqlite3_stmt *st, int rc, int r,
	       const char *what)
{
	if (r == 0 && rc != SQLITE_DONE) {
		sqlite_store_log_error(s, what);
		r = -EIO;
	}
	sqlite3_reset(st);
	return r;
}

static int sqlite_user_version(struct sqlite_store *h, int *ret)
{
	sqlite3_stmt *stmt;
	int r = -EIO;

	if (sqlite3_prepare_v2(h->db, "PRAGMA user_version", -1, &stmt, NULL) !=
	    SQLITE_OK)
		return -EIO;
	if (sqlite3_step(stmt) == SQLITE_ROW) {
		*ret = sqlite3_column_int(stmt, 0);
		r = 0;
	}
	sqlite3_finalize(stmt);
	return r;
}

static int sqlite_migrate(struct store *s)
{
	struct sqlite_store *h = handle_of(s);
	int version, target = sqlite_store_schema_version();
	char sql[64];

	if (sqlite_store_begin(s) < 0)
		return -EIO;
	if (sqlite_user_version(h, &version) < 0)
		goto fail;
	if (version > target) {
		log_warnx("%s: schema version %d is newer than this pocalert "
			  "(%d): upgrade pocalert",
			  h->path, version, target);
		sqlite_store_rollback(s);
		return -EPROTO;
	}
	for (; version < target; version++) {
		if (sqlite_store_exec(s, migrations[version]) < 0)
			goto fail;
	}
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", target);
	if (sqlite_store_exec(s, sql) < 0)
		goto fail;
	return sqlite_store_commit(s);
fail:
	sqlite_store_rollback(s);
	return -EIO;
}

/* Creates the parent directory of path when it does not exist (one level). */
static int sqlite_make_parent(const char *path)
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

/*
 * The exclusive lock of STORE_OPEN_EXCLUSIVE: flock() on PATH.lock, a
 * file of its own because SQLite's POSIX locks on the database are
 * dropped when any descriptor of that file in the process closes. The
 * holder's pid is written in it for the message. Returns 0, -EBUSY
 * (logged with the holder) or -errno.
 */
static int sqlite_lock(struct sqlite_store *h)
{
	char *lock = NULL, pid[32] = "";
	ssize_t n;
	int fd, r;

	if (asprintf(&lock, "%s.lock", h->path) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		r = -errno;
		log_warn("%s: cannot open the lock file", lock);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		r = errno == EWOULDBLOCK ? -EBUSY : -errno;
		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		if (r == -EBUSY)
			log_warnx(
				"%s: another pocalert serve%s%s is using this "
				"database (it holds %s): stop it first; two "
				"daemons on one store would send every "
				"alert twice",
				h->path, pid[0] ? " with pid " : "", pid, lock);
		else
			log_warn("%s: cannot lock", lock);
		close(fd);
		goto out;
	}
	snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == 0 &&
	    pwrite(fd, pid, strlen(pid), 0) != (ssize_t)strlen(pid))
		log_warn("%s: cannot write the pid", lock);
	h->lock_fd = fd;
	r = 0;
out:
	free(lock);
	return r;
}

/*
 * Before SQLite opens path: a missing file is created 0640 here (SQLite
 * would take the umask, often 022, and its -wal and -shm files copy the
 * database's mode), so that a TLP:RED alert is never readable by every
 * local user. An existing empty file is refused unless init: it is a
 * store whose contents were lost, not a new one. A file readable by
 * others is reported. Returns 0, -ENODATA or -errno.
 */
static int sqlite_prepare_file(const char *path, bool init)
{
	struct stat st;
	int fd;

	/* SQLite's own names, not files of ours to create or judge. */
	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	if (stat(path, &st) < 0) {
		if (errno != ENOENT)
			return -errno;
		fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
		if (fd < 0)
			return errno == EEXIST ? 0 : -errno;
		/* The umask may have taken more; it must not give more. */
		if (fchmod(fd, 0640) < 0)
			log_warn("%s: cannot set its mode", path);
		close(fd);
		return 0;
	}
	if (S_ISREG(st.st_mode) && st.st_size == 0 && !init) {
		log_warnx("%s: the database file is empty (0 bytes): its "
			  "alerts and directory are gone, or it was never "
			  "written. Restore it from a backup, or start a new "
			  "database on purpose with --init",
			  path);
		return -ENODATA;
	}
	if (st.st_mode & S_IRWXO)
		log_warnx("%s: readable by every local user (mode %04o): run "
			  "chmod 640 on it and its -wal and -shm files",
			  path, (unsigned)(st.st_mode & 07777));
	return 0;
}

static void sqlite_handle_free(struct sqlite_store *h)
{
	if (h == NULL)
		return;
	for (int i = 0; i < h->n_cache; i++)
		sqlite3_finalize(h->cache[i].stmt);
	free(h->cache);
	sqlite3_close(h->db);
	/* After SQLite is done with the file: closing drops the lock. */
	if (h->lock_fd >= 0)
		close(h->lock_fd);
	free(h->path);
	free(h);
}

static int sqlite_open(struct store *s, const char *path)
{
	struct sqlite_store *h;
	int r;

	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->path = strdup(path)) == NULL) {
		free(h);
		return -ENOMEM;
	}
	h->lock_fd = -1;
	s->handle = h;
	r = sqlite_make_parent(path);
	if (r < 0) {
		errno = -r;
		log_warn("%s: cannot create its directory", path);
		goto fail;
	}
	/* Locked before anything is read or written: one writer only. */
	if (s->flags & STORE_OPEN_EXCLUSIVE) {
		r = sqlite_lock(h);
		if (r < 0)
			goto fail;
	}
	r = sqlite_prepare_file(path, s->flags & STORE_OPEN_INIT);
	if (r == -ENODATA)
		goto fail;
	if (r < 0) {
		errno = -r;
		log_warn("%s", path);
		goto fail;
	}
	if (sqlite3_open_v2(path, &h->db,
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
				    SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		log_warnx("%s: %s", path,
			  h->db ? sqlite3_errmsg(h->db) : "out of memory");
		r = -EIO;
		goto fail;
	}
	/*
	 * WAL lets the CLI read while the daemon writes. FULL sync makes a
	 * commit durable across power loss too, not only a process crash:
	 * an accepted alert must be on disk. Group commits keep the fsync
	 * count per second small.
	 */
	sqlite3_busy_timeout(h->db, 10000);
	if (sqlite_store_exec(s, "PRAGMA journal_mode = WAL;"
				 "PRAGMA synchronous = FULL;"
				 "PRAGMA foreign_keys = ON;") < 0) {
		r = -EIO;
		goto fail;
	}
	r = sqlite_migrate(s);
	if (r < 0)
		goto fail;
	return 0;
fail:
	sqlite_handle_free(h);
	s->handle = NULL;
	return r;
}

static void sqlite_close(struct store *s)
{
	sqlite_handle_free(s->handle);
	s->handle = NULL;
}

const struct store_backend store_backend_sqlite = {
	.version = STORE_BACKEND_VERSION,
	.name = "sqlite",
	.takes_paths = true,
	.open = sqlite_open,
	.close = sqlite_close,
	.apply = sqlite_apply,
	.data_version = sqlite_data_version,
	.alert_state = sqlite_alert_state,
	.recovery_alerts = sqlite_recovery_alerts,
	.alert_org_count = sqlite_alert_org_count,
	.alert_orgs = sqlite_alert_orgs,
	.alert_reached = sqlite_alert_reached,
	.alert_confirmations = sqlite_alert_confirmations,
	.alert_delivery_count = sqlite_alert_delivery_count,
	.alert_unfinished = sqlite_alert_unfinished,
	.alert_sent_methods = sqlite_alert_sent_methods,
	.ack_lookup = sqlite_ack_lookup,
	.timeline_head = sqlite_timeline_head,
	.timeline_rows = sqlite_timeline_rows,
	.timeline_anchor = sqlite_timeline_anchor,
	.meta_get = sqlite_meta_get,
	.meta_set = sqlite_meta_set,
	.alert_count = sqlite_alert_count,
	.status_alert = sqlite_status_alert,
	.status_list = sqlite_status_list,
	.dead_letters = sqlite_dead_letters,
	.directory_import = sqlite_directory_import,
	.directory_load = sqlite_directory_load,
	.calendar_replace = sqlite_calendar_replace,
	.calendar_load = sqlite_calendar_load,
	.backup = sqlite_backup,
	.restore = sqlite_restore,
};
