/*
 * Whole-directory checks, run after a parser has read every element:
 * what no single field can tell. Duplicate organisation ids and duplicate
 * contact ids within an organisation, parents that name no organisation,
 * and parent cycles, which would send a call tree round for ever.
 *
 * Directories hold thousands of organisations, so ids are sorted once and
 * looked up by binary search; diagnostics still come out in file order.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts/directory.h"

#define CYCLE_TEXT_MAX 700 /* diag_add cuts its lines at 1 KiB */

/* An id and where it sits in its array; sorted by id, then position. */
struct slot {
	const char *id;
	size_t index;
};

static int slot_cmp(const void *a, const void *b)
{
	const struct slot *x = a, *y = b;
	int c = strcmp(x->id, y->id);

	if (c != 0)
		return c;
	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * Sorts the ids and writes first[i], the position of the first element
 * with the same id as element i (i itself when it is the first). Elements
 * without an id are their own first. Returns the sorted slots (caller
 * frees; NULL with n == 0 is fine) or NULL when out of memory.
 */
static struct slot *sort_ids(const char *(*id_of)(const void *, size_t),
			     const void *array, size_t n, size_t *first,
			     size_t *ret_n)
{
	struct slot *s = calloc(n ? n : 1, sizeof(*s));
	size_t k = 0;

	if (s == NULL)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		first[i] = i;
		if (id_of(array, i) != NULL)
			s[k++] = (struct slot){id_of(array, i), i};
	}
	qsort(s, k, sizeof(*s), slot_cmp);
	for (size_t j = 1; j < k; j++)
		if (strcmp(s[j].id, s[j - 1].id) == 0)
			first[s[j].index] = first[s[j - 1].index];
	*ret_n = k;
	return s;
}

static const char *org_id_of(const void *array, size_t i)
{
	return ((const struct dir_org *)array)[i].id;
}

static const char *contact_id_of(const void *array, size_t i)
{
	return ((const struct dir_contact *)array)[i].id;
}

/* The position of the first organisation called id, or SIZE_MAX. */
static size_t find_sorted(const struct slot *s, size_t n, const char *id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (strcmp(s[mid].id, id) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < n && strcmp(s[lo].id, id) == 0 ? s[lo].index : SIZE_MAX;
}

static int check_contacts(const struct dir_org *o, const char *file,
			  struct diag_list *diags)
{
	size_t *first, n;
	struct slot *s;
	int errors = 0;

	if (o->n_contacts < 2)
		return 0;
	first = calloc(o->n_contacts, sizeof(*first));
	if (first == NULL)
		return -ENOMEM;
	s = sort_ids(contact_id_of, o->contacts, o->n_contacts, first, &n);
	if (s == NULL) {
		free(first);
		return -ENOMEM;
	}
	for (size_t i = 0; i < o->n_contacts; i++) {
		const struct dir_contact *c = &o->contacts[i];

		if (first[i] == i)
			continue;
		diag_add(diags, file, c->line,
			 "duplicate contact id '%s' in organisation '%s' "
			 "(first at line %d)",
			 c->id, o->id ? o->id : "", o->contacts[first[i]].line);
		errors++;
	}
	free(s);
	free(first);
	return errors;
}

/*
 * Reports each parent cycle once, at the organisation of the cycle that
 * comes first in the file (preferring one read from a file, with a line),
 * listing the cycle from there. parent[i] is the
 * resolved parent of organisation i or SIZE_MAX. Each organisation is
 * walked over once: mark[] holds the walk that first reached it.
 */
static int check_cycles(const struct directory *d, const size_t *parent,
			const char *file, struct diag_list *diags)
{
	size_t *mark = calloc(d->n_orgs ? d->n_orgs : 1, sizeof(*mark));
	int errors = 0;

	if (mark == NULL)
		return -ENOMEM;
	for (size_t start = 0; start < d->n_orgs; start++) {
		size_t walk = start + 1, i = start, low, j;
		char text[CYCLE_TEXT_MAX];
		size_t len = 0;

		while (i != SIZE_MAX && mark[i] == 0) {
			mark[i] = walk;
			i = parent[i];
		}
		/* Only a node first reached by this walk closes a new cycle. */
		if (i == SIZE_MAX || mark[i] != walk)
			continue;
		/*
		 * Report at the member that comes first in the file; members
		 * with no line (stored ones, when a file is checked over the
		 * store) only when none has one.
		 */
		low = i;
		for (j = parent[i]; j != i; j = parent[j])
			if ((d->orgs[j].line > 0) > (d->orgs[low].line > 0) ||
			    ((d->orgs[j].line > 0) == (d->orgs[low].line > 0) &&
			     j < low))
				low = j;
		j = low;
		do {
			int w = snprintf(text + len, sizeof(text) - len,
					 "%s -> ", d->orgs[j].id);

			if (w < 0 || (size_t)w >= sizeof(text) - len) {
				len = sizeof(text) - 1;
				break;
			}
			len += (size_t)w;
			j = parent[j];
		} while (j != low);
		diag_add(diags, file, d->orgs[low].line, "parent cycle: %s%s",
			 text, d->orgs[low].id);
		errors++;
	}
	free(mark);
	return errors;
}

int dir_validate(const struct directory *d, const char *file,
		 struct diag_list *diags)
{
	size_t *first = NULL, *parent = NULL, n_sorted;
	struct slot *sorted = NULL;
	int errors = 0, r;

	if (d->n_orgs == 0)
		return 0;
	first = calloc(d->n_orgs, sizeof(*first));
	parent = calloc(d->n_orgs, sizeof(*parent));
	if (first == NULL || parent == NULL)
		goto oom;
	sorted = sort_ids(org_id_of, d->orgs, d->n_orgs, first, &n_sorted);
	if (sorted == NULL)
		goto oom;

	for (size_t i = 0; i < d->n_orgs; i++) {
		const struct dir_org *o = &d->orgs[i];

		if (first[i] != i) {
			diag_add(diags, file, o->line,
				 "duplicate organisation id '%s' (first at "
				 "line %d)",
				 o->id, d->orgs[first[i]].line);
			errors++;
		}
		r = check_contacts(o, file, diags);
		if (r < 0)
			goto oom;
		errors += r;

		parent[i] = SIZE_MAX;
		if (o->parent == NULL)
			continue;
		parent[i] = find_sorted(sorted, n_sorted, o->parent);
		if (parent[i] == SIZE_MAX) {
			diag_add(diags, file, o->line,
				 "parent '%s' of organisation '%s': no such "
				 "organisation",
				 o->parent, o->id ? o->id : "");
			errors++;
		}
	}

	r = check_cycles(d, parent, file, diags);
	if (r < 0)
		goto oom;
	errors += r;
	free(sorted);
	free(parent);
	free(first);
	return errors;
oom:
	free(sorted);
	free(parent);
	free(first);
	diag_add(diags, file, 0, "out of memory while validating");
	return errors + 1;
}
