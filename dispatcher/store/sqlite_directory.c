/*
 * The directory's tables in SQLite: orgs, contacts and methods (migration
 * 1 in sqlite.c). Import writes a validated directory in one transaction, so a
 * file is taken whole or not at all; load reads it back into the
 * contacts/ model.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/store/sqlite.h"

static void bind_text(sqlite3_stmt *st, int i, const char *s)
{
	sqlite_bind_text(st, i, s);
}

static int step_done(struct store *s, sqlite3_stmt *st)
{
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite_store_log_error(s, "directory");
		return -EIO;
	}
	return 0;
}

static int org_exists(struct store *s, const char *id, bool *ret)
{
	sqlite3_stmt *st =
		sqlite_store_stmt(s, "SELECT 1 FROM orgs WHERE id = ?");

	if (st == NULL)
		return -EIO;
	bind_text(st, 1, id);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*ret = true;
		return 0;
	case SQLITE_DONE:
		*ret = false;
		return 0;
	default:
		return -EIO;
	}
}

static int write_org(struct store *s, const struct dir_org *o,
		     struct store_import_stats *stats)
{
	sqlite3_stmt *st;
	char hours[64];
	bool exists;

	if (org_exists(s, o->id, &exists) < 0)
		return -EIO;
	if (exists) {
		/* Replaced whole: its contacts and methods go with it. */
		st = sqlite_store_stmt(s,
				       "DELETE FROM contacts WHERE org_id = ?");
		if (st == NULL)
			return -EIO;
		bind_text(st, 1, o->id);
		if (step_done(s, st) < 0)
			return -EIO;
		stats->orgs_updated++;
	} else {
		stats->orgs_added++;
	}
	dir_hours_format(&o->hours, hours, sizeof(hours));
	st = sqlite_store_stmt(
		s, "INSERT INTO orgs (id, name, name_en, sector, kind,"
		   " parent, hours, timezone, days_off)"
		   " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
		   " ON CONFLICT (id) DO UPDATE SET name = excluded.name,"
		   " name_en = excluded.name_en, sector = excluded.sector,"
		   " kind = excluded.kind, parent = excluded.parent,"
		   " hours = excluded.hours, timezone = excluded.timezone,"
		   " days_off = excluded.days_off");
	if (st == NULL)
		return -EIO;
	bind_text(st, 1, o->id);
	bind_text(st, 2, o->name);
	bind_text(st, 3, o->name_en);
	bind_text(st, 4, o->sector);
	bind_text(st, 5, dir_kind_name(o->kind));
	bind_text(st, 6, o->parent);
	bind_text(st, 7, hours);
	bind_text(st, 8, o->hours.tz ? o->hours.tz : "Asia/Tokyo");
	bind_text(st, 9, o->hours.days_off ? o->hours.days_off : "");
	if (step_done(s, st) < 0)
		return -EIO;

	for (size_t i = 0; i < o->n_contacts; i++) {
		const struct dir_contact *c = &o->contacts[i];

		st = sqlite_store_stmt(
			s, "INSERT INTO contacts (org_id, id, name, role,"
			   " language, position) VALUES (?, ?, ?, ?, ?, ?)");
		if (st == NULL)
			return -EIO;
		bind_text(st, 1, o->id);
		bind_text(st, 2, c->id);
		bind_text(st, 3, c->name);
		bind_text(st, 4, dir_role_name(c->role));
		bind_text(st, 5, c->language ? c->language : "ja");
		sqlite3_bind_int(st, 6, (int)i);
		if (step_done(s, st) < 0)
			return -EIO;
		stats->contacts++;
		for (size_t k = 0; k < c->n_methods; k++) {
			const struct dir_method *m = &c->methods[k];

			st = sqlite_store_stmt(
				s, "INSERT INTO methods (org_id, contact_id,"
				   " position, channel, address, max_tlp,"
				   " charset, ord)"
				   " VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
			if (st == NULL)
				return -EIO;
			bind_text(st, 1, o->id);
			bind_text(st, 2, c->id);
			sqlite3_bind_int(st, 3, (int)k);
			bind_text(st, 4, dir_channel_name(m->channel));
			bind_text(st, 5, m->address);
			bind_text(st, 6, tlp_name(m->max_tlp));
			bind_text(st, 7, dir_charset_name(m->charset));
			sqlite3_bind_int(st, 8, m->order);
			if (step_done(s, st) < 0)
				return -EIO;
			stats->methods++;
		}
	}
	return 0;
}

/* With --replace: removes the organisations that d does not hold. */
static int remove_others(struct store *s, const struct directory *d,
			 struct store_import_stats *stats)
{
	sqlite3_stmt *st;
	int r;

	if (sqlite_store_exec(
		    s, "CREATE TEMP TABLE IF NOT EXISTS import_keep"
		       " (id TEXT PRIMARY KEY); DELETE FROM import_keep") < 0)
		return -EIO;
	for (size_t i = 0; i < d->n_orgs; i++) {
		st = sqlite_store_stmt(
			s, "INSERT OR IGNORE INTO import_keep VALUES (?)");
		if (st == NULL)
			return -EIO;
		bind_text(st, 1, d->orgs[i].id);
		if (step_done(s, st) < 0)
			return -EIO;
	}
	st = sqlite_store_stmt(s, "DELETE FROM orgs WHERE id NOT IN"
				  " (SELECT id FROM import_keep)");
	if (st == NULL)
		return -EIO;
	r = step_done(s, st);
	if (r == 0)
		stats->orgs_removed = sqlite3_changes(sqlite_store_db(s));
	return r;
}

int sqlite_directory_import(struct store *s, const struct directory *d,
			    bool replace, struct store_import_stats *ret_stats)
{
	struct store_import_stats stats = {0};

	if (sqlite_store_begin(s) < 0)
		return -EIO;
	if (replace && remove_others(s, d, &stats) < 0)
		goto fail;
	for (size_t i = 0; i < d->n_orgs; i++)
		if (write_org(s, &d->orgs[i], &stats) < 0)
			goto fail;
	if (sqlite_store_commit(s) < 0)
		goto fail;
	if (ret_stats)
		*ret_stats = stats;
	return 0;
fail:
	sqlite_store_rollback(s);
	return -EIO;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? strdup((const char *)t) : NULL;
}

static const char *col_text(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t ? (const char *)t : "";
}

static int load_orgs(struct store *s, const char *sector, struct directory *d)
{
	sqlite3_stmt *st;
	int rc;

	st = sqlite_store_stmt(s,
			       "SELECT id, name, name_en, sector, kind, parent,"
			       " hours, timezone, days_off FROM orgs"
			       " WHERE ?1 IS NULL OR sector = ?1 ORDER BY id");
	if (st == NULL)
		return -EIO;
	bind_text(st, 1, sector);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dir_org *o = dir_org_append(d);
		const char *why;

		if (o == NULL)
			return -ENOMEM;
		o->id = col_dup(st, 0);
		o->name = col_dup(st, 1);
		o->name_en = col_dup(st, 2);
		o->sector = col_dup(st, 3);
		dir_kind_parse(col_text(st, 4), &o->kind);
		o->parent = col_dup(st, 5);
		dir_hours_parse(col_text(st, 6), &o->hours, &why);
		free(o->hours.tz);
		o->hours.tz = col_dup(st, 7);
		if (col_text(st, 8) != NULL && *col_text(st, 8) != '\0') {
			o->hours.days_off = col_dup(st, 8);
			if (o->hours.days_off == NULL)
				return -ENOMEM;
		}
		if (o->id == NULL || o->name == NULL || o->sector == NULL ||
		    o->hours.tz == NULL)
			return -ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

static int load_contacts(struct store *s, struct dir_org *o)
{
	sqlite3_stmt *st;
	int rc;

	st = sqlite_store_stmt(s,
			       "SELECT id, name, role, language FROM contacts"
			       " WHERE org_id = ? ORDER BY position");
	if (st == NULL)
		return -EIO;
	bind_text(st, 1, o->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct dir_contact *c = dir_contact_append(o);

		if (c == NULL)
			return -ENOMEM;
		c->id = col_dup(st, 0);
		c->name = col_dup(st, 1);
		dir_role_parse(col_text(st, 2), &c->role);
		c->language = col_dup(st, 3);
		if (c->id == NULL || c->name == NULL || c->language == NULL)
			return -ENOMEM;
	}
	if (rc != SQLITE_DONE)
		return -EIO;

	st = sqlite_store_stmt(s,
			       "SELECT contact_id, channel, address, max_tlp,"
			       " charset, ord FROM methods WHERE org_id = ?"
			       " ORDER BY contact_id, position");
	if (st == NULL)
		return -EIO;
	bind_text(st, 1, o->id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *cid = col_text(st, 0);
		struct dir_contact *c = NULL;
		struct dir_method *m;

		for (size_t i = 0; i < o->n_contacts; i++)
			if (strcmp(o->contacts[i].id, cid) == 0)
				c = &o->contacts[i];
		if (c == NULL)
			return -EIO;
		m = dir_method_append(c);
		if (m == NULL)
			return -ENOMEM;
		dir_channel_parse(col_text(st, 1), &m->channel);
		m->address = col_dup(st, 2);
		tlp_parse(col_text(st, 3), &m->max_tlp);
		dir_charset_parse(col_text(st, 4), &m->charset);
		m->order = sqlite3_column_int(st, 5);
		if (m->address == NULL)
			return -ENOMEM;
	}
	return rc == SQLITE_DONE ? 0 : -EIO;
}

int sqlite_directory_load(struct store *s, const char *sector,
			  struct directory *ret)
{
	struct directory d = {0};
	int r;

	/* A read transaction gives one consistent view of the three tables. */
	if (sqlite_store_exec(s, "BEGIN") < 0)
		return -EIO;
	r = load_orgs(s, sector, &d);
	for (size_t i = 0; r == 0 && i < d.n_orgs; i++)
		r = load_contacts(s, &d.orgs[i]);
	sqlite_store_exec(s, r == 0 ? "COMMIT" : "ROLLBACK");
	if (r < 0) {
		directory_free(&d);
		return r;
	}
	*ret = d;
	return 0;
}
