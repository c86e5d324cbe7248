/*
 * Backup and restore of the SQLite store, with SQLite's online backup
 * API (sqlite3_backup_*).
 *
 * A backup runs in its own process (`pocalert backup`) on its own
 * connection while the daemon keeps writing: the store is in WAL mode, so
 * one backup step over every page reads one snapshot and never blocks
 * the daemon's writer (stepping in chunks instead would restart each time
 * the daemon commits, and never end during a broadcast). The copy is
 * written beside the destination, checked, synced and renamed into place,
 * so a reader never sees half a backup, and it is made 0600: it holds
 * every alert, TLP:RED ones too.
 *
 * A restore copies a backup into the store, page by page through the same
 * API, and refuses while a daemon holds the store. A daemon holds
 * flock(PATH.lock) (the exclusive lock of STORE_OPEN_EXCLUSIVE); restore
 * takes the same lock for its whole run, so a daemon cannot start in the
 * middle of it either.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/log.h"
#include "dispatcher/store/sqlite.h"

/* PRAGMA quick_check on db: 0 when it says "ok", else -EIO (logged). */
static int backup_quick_check(sqlite3 *db, const char *what)
{
	sqlite3_stmt *st = NULL;
	int r = -EIO;

	if (sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL) ==
		    SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		if (v && strcmp(v, "ok") == 0)
			r = 0;
		else
			log_warnx("%s: damaged: %s", what, v ? v : "?");
	} else {
		log_warnx("%s: cannot be checked: %s", what,
			  sqlite3_errmsg(db));
	}
	sqlite3_finalize(st);
	return r;
}

/* Copies every page of from's main database into to's in one step. */
static int backup_copy(sqlite3 *to, sqlite3 *from, const char *what)
{
	sqlite3_backup *b = sqlite3_backup_init(to, "main", from, "main");
	int rc;

	if (b == NULL) {
		log_warnx("%s: cannot start the copy: %s", what,
			  sqlite3_errmsg(to));
		return -EIO;
	}
	rc = sqlite3_backup_step(b, -1);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		log_warnx("%s: copy failed: %s", what, sqlite3_errstr(rc));
		return rc == SQLITE_BUSY || rc == SQLITE_LOCKED ? -EBUSY : -EIO;
	}
	return 0;
}

int sqlite_backup(struct store *s, const char *dest)
{
	sqlite3 *src = sqlite_store_db(s), *out = NULL;
	char *tmp = NULL;
	int fd = -1, r;

	if (asprintf(&tmp, "%s.partial", dest) < 0)
		return -ENOMEM;
	/* Made 0600 before SQLite writes a page into it. */
	(void)unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		log_warn("%s: cannot create", tmp);
		goto out;
	}
	if (sqlite3_open_v2(tmp, &out, SQLITE_OPEN_READWRITE, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: cannot open: %s", tmp,
			  out ? sqlite3_errmsg(out) : "out of memory");
		r = -EIO;
		goto out;
	}
	r = backup_copy(out, src, dest);
	/* A backup is one file: no -wal beside it to lose in a copy. */
	if (r == 0 && sqlite3_exec(out, "PRAGMA journal_mode = DELETE", NULL,
				   NULL, NULL) != SQLITE_OK)
		r = -EIO;
	if (r == 0)
		r = backup_quick_check(out, tmp);
	if (sqlite3_close(out) != SQLITE_OK)
		r = r < 0 ? r : -EIO;
	out = NULL;
	if (r == 0 && fsync(fd) < 0) {
		r = -errno;
		log_warn("%s: cannot sync", tmp);
	}
	if (r == 0 && rename(tmp, dest) < 0) {
		r = -errno;
		log_warn("%s: cannot rename to %s", tmp, dest);
	}
out:
	if (out)
		sqlite3_close(out);
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp)
		(void)unlink(tmp);
	free(tmp);
	return r;
}

/*
 * Takes flock(PATH.lock) without waiting: a running daemon holds it.
 * Returns the descriptor, -EBUSY (logged with the holder's pid when it
 * wrote one) or -errno.
 */
static int restore_lock(const char *path)
{
	char *lock = NULL, pid[32] = "";
	ssize_t n;
	int fd;

	if (asprintf(&lock, "%s.lock", path) < 0)
		return -ENOMEM;
	fd = open(lock, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
	if (fd < 0) {
		fd = -errno;
		log_warn("%s: cannot open the lock file", lock);
	} else if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		n = pread(fd, pid, sizeof(pid) - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		fd = e == EWOULDBLOCK ? -EBUSY : -e;
		if (fd == -EBUSY)
			log_warnx("%s: a pocalert daemon%s%s holds this store "
				  "(%s): stop it before restoring",
				  path, pid[0] ? " with pid " : "", pid, lock);
		else
			log_warn("%s: cannot lock", lock);
	}
	free(lock);
	return fd;
}

int sqlite_restore(struct store *s, const char *src_path)
{
	sqlite3 *db = sqlite_store_db(s), *src = NULL;
	const char *path = sqlite3_db_filename(db, "main");
	int lock, r;

	lock = restore_lock(path);
	if (lock < 0)
		return lock;
	if (sqlite3_open_v2(src_path, &src, SQLITE_OPEN_READONLY, NULL) !=
	    SQLITE_OK) {
		log_warnx("%s: cannot open: %s", src_path,
			  src ? sqlite3_errmsg(src) : "out of memory");
		r = -EINVAL;
		goto out;
	}
	/* Not a database, or a damaged one, is refused before any write. */
	if (backup_quick_check(src, src_path) < 0 ||
	    sqlite3_exec(src, "SELECT 1 FROM alerts LIMIT 1", NULL, NULL,
			 NULL) != SQLITE_OK) {
		log_warnx("%s: not a pocalert store", src_path);
		r = -EINVAL;
		goto out;
	}
	r = backup_copy(db, src, path);
out:
	sqlite3_close(src);
	close(lock);
	return r;
}
