/*
 * The cached directory: see dircache.h.
 */
#include <errno.h>
#include <string.h>

#include "dispatcher/engine/dircache.h"

int dircache_refresh(struct engine *e)
{
	int64_t version = -1;
	struct directory d = {0};

	if (store_data_version(e->store, &version) < 0)
		version = -1;
	if (version >= 0 && version == e->dir_version)
		return 0;
	/* store_directory_load returns organisations in id order. */
	if (store_directory_load(e->store, NULL, &d) < 0)
		return -EIO;
	directory_free(&e->dir);
	e->dir = d;
	e->dir_version = version;
	return 0;
}

const struct dir_org *dircache_org(struct engine *e, const char *id)
{
	size_t lo = 0, hi = e->dir.n_orgs;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(e->dir.orgs[mid].id, id);

		if (c == 0)
			return &e->dir.orgs[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
