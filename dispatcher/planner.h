/*
 * Planning an alert: its targets expand through the directory to
 * organisations, and each organisation's contacts and methods become
 * deliveries, in an order fair to every organisation. Pure: reads the
 * directory, decides, and leaves storing and sending to the engine.
 */
#ifndef POCALERT_PLANNER_H
#define POCALERT_PLANNER_H

#include <stdbool.h>
#include <stddef.h>

#include "common/tlp.h"
#include "contacts/directory.h"
#include "dispatcher/alert.h"

struct plan_delivery {
	size_t org;			   /* index into plan->orgs */
	const struct dir_contact *contact; /* not owned: the directory's */
	const struct dir_method *method;   /* not owned: the directory's */
	const char
		*skip_reason; /* NULL to send; else points into plan->reasons */
	int rank;	      /* send order: lower first */
};

struct plan {
	const struct dir_org **orgs; /* owned array of directory pointers */
	size_t n_orgs;
	struct plan_delivery *deliveries; /* owned array, by rank */
	size_t n_deliveries;
	char **reasons; /* owned skip reason strings */
	size_t n_reasons;
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

/*
 * Plans the deliveries for the organisations in plan: every method of
 * every contact whose role is in role_mask (bit per enum dir_role) and
 * whose channel is in channel_mask (bit per enum dir_channel). A method
 * whose max_tlp is below tlp, or whose channel has no configured driver
 * (has_channel returns false), is planned as skipped with its reason.
 * Ranks interleave organisations: every organisation's first delivery
 * comes before any organisation's second.
 */
int planner_plan(struct plan *plan, enum tlp tlp, unsigned role_mask,
		 unsigned channel_mask,
		 bool (*has_channel)(void *arg, enum dir_channel c), void *arg);

/* Frees what the plan owns. */
void plan_free(struct plan *plan);

#endif
