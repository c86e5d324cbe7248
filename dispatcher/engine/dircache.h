/*
 * The engine's cached copy of the directory (organisations, contacts,
 * contact methods), read from the store and read again only when the
 * database changed (SQLite's data_version), so that planning a step for
 * thousands of organisations never queries the store per organisation.
 * The cache lives in struct engine (e->dir, e->dir_version).
 */
#ifndef POCALERT_ENGINE_DIRCACHE_H
#define POCALERT_ENGINE_DIRCACHE_H

#include "dispatcher/engine/model.h"

/*
 * Reloads e->dir from the store when the database changed since the last
 * load (always when the version cannot be read). Pointers into the old
 * directory are invalid afterwards. Returns 0, or -EIO with the old copy
 * kept.
 */
int dircache_refresh(struct engine *e);

/*
 * The cached directory's organisation with this id, or NULL (binary
 * search: the store returns organisations in id order). The cache owns
 * it, until the next dircache_refresh() that reloads.
 */
const struct dir_org *dircache_org(struct engine *e, const char *id);

#endif
