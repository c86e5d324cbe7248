/*
 * The imported public holidays in SQLite (table holidays, migration 5):
 * `calendar import` replaces them whole in one transaction; `serve` and
 * `calendar show` read them back into a policies/ calendar.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher/store/sqlite.h"

int sqlite_calendar_replace(struct store *s, const struct calendar *cal)
{
	sqlite3_stmt *st;
	int r = -EIO;

	if (sqlite_store_begin(s) < 0)
		return -EIO;
	st = sqlite_store_stmt(s, "DELETE FROM holidays");
	if (st == NULL || sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	for (size_t i = 0; i < cal->n; i++) {
		st = sqlite_store_stmt(
			s, "INSERT INTO holidays (day, name) VALUES (?, ?)");
		if (st == NULL)
			goto fail;
		sqlite3_bind_int(st, 1, cal->holidays[i].day);
		sqlite_bind_text(st, 2, cal->holidays[i].name);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
	}
	if (sqlite_store_commit(s) < 0)
		goto fail;
	return 0;
fail:
	sqlite_store_log_error(s, "calendar");
	sqlite_store_rollback(s);
	return r;
}

int sqlite_calendar_load(struct store *s, struct calendar *ret)
{
	struct calendar_holiday *h = NULL;
	size_t n = 0, cap = 0;
	sqlite3_stmt *st;
	int rc, r = -EIO;

	st = sqlite_store_stmt(s,
			       "SELECT day, name FROM holidays ORDER BY day");
	if (st == NULL)
		return -EIO;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 1);

		if (n == cap) {
			size_t c = cap ? cap * 2 : 64;
			struct calendar_holiday *g =
				reallocarray(h, c, sizeof(*h));

			if (g == NULL) {
				r = -ENOMEM;
				goto out;
			}
			h = g;
			cap = c;
		}
		h[n].day = sqlite3_column_int(st, 0);
		h[n].name = strdup(name ? name : "");
		if (h[n++].name == NULL) {
			r = -ENOMEM;
			goto out;
		}
	}
	if (rc != SQLITE_DONE)
		goto out;
	r = n == 0 ? -ENOENT : calendar_from_list(h, n, ret);
out:
	sqlite3_reset(st);
	for (size_t i = 0; i < n; i++)
		free(h[i].name);
	free(h);
	return r;
}
