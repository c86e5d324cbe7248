/*
 * An alert's targets ("all", "sector:NAME", "org:ID") expanded through
 * the directory to organisations. Pure: reads the directory and decides;
 * which contacts and methods each step reaches is intake.c's
 * plan_org_step, on the alert's policy.
 */
#ifndef POCALERT_PLANNER_H
#define POCALERT_PLANNER_H

#include <stddef.h>

#include "contacts/directory.h"
#include "dispatcher/engine/alert.h"

struct plan {
	const struct dir_org **orgs; /* owned array of directory pointers */
	size_t n_orgs;
};

/*
 * Expands targets ("all", "sector:NAME", "org:ID") to organisations, each
 * once, in target order then directory order. "all" means every
 * organisation except those of kind government (the sender's side).
 * An unknown sector or organisation is -EINVAL with err filled (field
 * "targets"). Returns 0 or a negative errno.
 */
int planner_expand(const struct directory *d, char *const *targets,
		   size_t n_targets, struct plan *plan,
		   struct alert_error *err);

/* Frees what the plan owns. */
void plan_free(struct plan *plan);

#endif
