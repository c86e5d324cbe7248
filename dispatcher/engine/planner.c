/*
 * Alert planning: see planner.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher/engine/planner.h"

int planner_expand(const struct directory *d, char *const *targets,
		   size_t n_targets, struct plan *plan, struct alert_error *err)
{
	size_t cap = 0;
	bool *taken = calloc(d->n_orgs ? d->n_orgs : 1, sizeof(*taken));
	int r = 0;

	if (taken == NULL)
		return -ENOMEM;
	memset(plan, 0, sizeof(*plan));
	/* taken[] keeps each organisation once without a quadratic search. */
	for (size_t t = 0; t < n_targets && r == 0; t++) {
		const char *tg = targets[t];
		size_t found = 0;

		for (size_t i = 0; i < d->n_orgs && r == 0; i++) {
			const struct dir_org *o = &d->orgs[i];
			bool match;

			if (strcmp(tg, "all") == 0)
				match = o->kind != DIR_KIND_GOVERNMENT;
			else if (strncmp(tg, "sector:", 7) == 0)
				match = strcmp(o->sector, tg + 7) == 0;
			else if (strncmp(tg, "org:", 4) == 0)
				match = strcmp(o->id, tg + 4) == 0;
			else
				match = false;
			if (!match)
				continue;
			found++;
			if (taken[i])
				continue;
			taken[i] = true;
			if (plan->n_orgs == cap) {
				size_t ncap = cap ? cap * 2 : 64;
				const struct dir_org **a =
					realloc(plan->orgs, ncap * sizeof(*a));

				if (a == NULL) {
					r = -ENOMEM;
					break;
				}
				plan->orgs = a;
				cap = ncap;
			}
			plan->orgs[plan->n_orgs++] = o;
		}
		if (r == 0 && found == 0) {
			if (strcmp(tg, "all") == 0)
				r = alert_error_set(err, 400, "targets",
						    "the directory is empty");
			else if (strncmp(tg, "sector:", 7) == 0)
				r = alert_error_set(err, 400, "targets",
						    "no organisation in sector "
						    "\"%s\"",
						    tg + 7);
			else if (strncmp(tg, "org:", 4) == 0)
				r = alert_error_set(err, 400, "targets",
						    "no organisation \"%s\"",
						    tg + 4);
			else
				r = alert_error_set(err, 400, "targets",
						    "unknown target \"%s\"",
						    tg);
		}
	}
	free(taken);
	if (r < 0) {
		plan_free(plan);
		return r;
	}
	return 0;
}

void plan_free(struct plan *plan)
{
	free(plan->orgs);
	memset(plan, 0, sizeof(*plan));
}
