/*
 * Alert planning: see planner.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dispatcher/planner.h"

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

static const char *plan_reason(struct plan *p, const char *fmt, const char *a,
			       const char *b)
{
	char buf[160], **arr;

	snprintf(buf, sizeof(buf), fmt, a, b);
	/* Reasons repeat across thousands of deliveries: keep one copy each. */
	for (size_t i = 0; i < p->n_reasons; i++)
		if (strcmp(p->reasons[i], buf) == 0)
			return p->reasons[i];
	arr = realloc(p->reasons, (p->n_reasons + 1) * sizeof(*arr));
	if (arr == NULL)
		return NULL;
	p->reasons = arr;
	arr[p->n_reasons] = strdup(buf);
	if (arr[p->n_reasons] == NULL)
		return NULL;
	return arr[p->n_reasons++];
}

/* Orders an organisation's methods by their `order`, stable. */
struct cand {
	const struct dir_contact *c;
	const struct dir_method *m;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;

	if (x->m->order != y->m->order)
		return x->m->order < y->m->order ? -1 : 1;
	return x < y ? -1 : (x > y);
}

static int pd_cmp(const void *a, const void *b)
{
	const struct plan_delivery *x = a, *y = b;

	return (x->rank > y->rank) - (x->rank < y->rank);
}

int planner_plan(struct plan *plan, enum tlp tlp, unsigned role_mask,
		 unsigned channel_mask,
		 bool (*has_channel)(void *arg, enum dir_channel c), void *arg)
{
	size_t cap = 0, n_cand;
	struct cand *cand = NULL;
	int r = 0;

	for (size_t oi = 0; oi < plan->n_orgs && r == 0; oi++) {
		const struct dir_org *o = plan->orgs[oi];
		size_t total = 0;

		for (size_t ci = 0; ci < o->n_contacts; ci++)
			total += o->contacts[ci].n_methods;
		free(cand);
		cand = calloc(total ? total : 1, sizeof(*cand));
		if (cand == NULL)
			return -ENOMEM;
		n_cand = 0;
		for (size_t ci = 0; ci < o->n_contacts; ci++) {
			const struct dir_contact *c = &o->contacts[ci];

			if (!(role_mask & (1u << c->role)))
				continue;
			for (size_t mi = 0; mi < c->n_methods; mi++) {
				if (!(channel_mask &
				      (1u << c->methods[mi].channel)))
					continue;
				cand[n_cand].c = c;
				cand[n_cand].m = &c->methods[mi];
				n_cand++;
			}
		}
		qsort(cand, n_cand, sizeof(*cand), cand_cmp);
		for (size_t k = 0; k < n_cand; k++) {
			struct plan_delivery *pd;
			const struct dir_method *m = cand[k].m;

			if (plan->n_deliveries == cap) {
				size_t ncap = cap ? cap * 2 : 256;
				struct plan_delivery *a = realloc(
					plan->deliveries, ncap * sizeof(*a));

				if (a == NULL) {
					r = -ENOMEM;
					break;
				}
				plan->deliveries = a;
				cap = ncap;
			}
			pd = &plan->deliveries[plan->n_deliveries++];
			pd->org = oi;
			pd->contact = cand[k].c;
			pd->method = m;
			pd->skip_reason = NULL;
			/*
			 * The k-th delivery of every organisation comes
			 * before the (k+1)-th of any.
			 */
			pd->rank = (int)(k * plan->n_orgs + oi);
			if (m->max_tlp < tlp)
				pd->skip_reason = plan_reason(
					plan,
					"%s exceeds this method's limit %s",
					tlp_label(tlp), tlp_label(m->max_tlp));
			else if (!has_channel(arg, m->channel))
				pd->skip_reason = plan_reason(
					plan,
					"no channel \"%s\" is configured%s",
					dir_channel_name(m->channel), "");
		}
	}
	free(cand);
	if (r < 0)
		return r;
	qsort(plan->deliveries, plan->n_deliveries, sizeof(*plan->deliveries),
	      pd_cmp);
	for (size_t i = 0; i < plan->n_deliveries; i++)
		plan->deliveries[i].rank = (int)i;
	return 0;
}

void plan_free(struct plan *plan)
{
	free(plan->orgs);
	free(plan->deliveries);
	for (size_t i = 0; i < plan->n_reasons; i++)
		free(plan->reasons[i]);
	free(plan->reasons);
	memset(plan, 0, sizeof(*plan));
}
