/*
 * Unit tests for contacts/validate.c. Each case builds a directory in
 * memory, as a parser would leave it, and checks the exact diagnostics:
 * duplicate ids, unknown parents, and parent cycles reported once each.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "contacts/directory.h"

/* Adds an organisation with this id, parent (or NULL) and line. */
static struct dir_org *add_org(struct directory *d, const char *id,
			       const char *parent, int line)
{
	struct dir_org *o = dir_org_append(d);

	assert_non_null(o);
	o->id = strdup(id);
	o->parent = parent ? strdup(parent) : NULL;
	o->line = line;
	return o;
}

static void add_contact(struct dir_org *o, const char *id, int line)
{
	struct dir_contact *c = dir_contact_append(o);

	assert_non_null(c);
	c->id = strdup(id);
	c->line = line;
}

static void assert_diags(const struct diag_list *dl, const char *const *want,
			 size_t n)
{
	if (dl->n != n)
		for (size_t i = 0; i < dl->n; i++)
			print_message("got: %s\n", dl->lines[i]);
	assert_int_equal(dl->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(dl->lines[i], want[i]);
}

static void test_clean_tree(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};

	(void)state;
	add_org(&d, "nisc", NULL, 1);
	add_org(&d, "bank", NULL, 10);
	add_contact(&d.orgs[1], "desk", 11);
	add_contact(&d.orgs[1], "deputy", 15);
	add_org(&d, "bank-m0001", "bank", 20);
	add_org(&d, "bank-m0002", "bank", 30);
	/* A member's member is fine: call trees may be deeper. */
	add_org(&d, "bank-m0002-branch", "bank-m0002", 40);
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 0);
	assert_int_equal(dl.n, 0);
	directory_free(&d);
	/* An empty directory is valid too. */
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 0);
}

static void test_duplicates(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	static const char *const want[] = {
		"dir.conf:7: duplicate contact id 'desk' in organisation "
		"'bank' (first at line 3)",
		"dir.conf:20: duplicate organisation id 'bank' (first at line "
		"2)",
		"dir.conf:30: duplicate organisation id 'gas' (first at line "
		"25)",
		"dir.conf:40: duplicate organisation id 'bank' (first at line "
		"2)",
	};

	(void)state;
	add_org(&d, "bank", NULL, 2);
	add_contact(&d.orgs[0], "desk", 3);
	add_contact(&d.orgs[0], "deputy", 5);
	add_contact(&d.orgs[0], "desk", 7);
	/* The same contact id in another organisation is no duplicate. */
	add_org(&d, "bank", NULL, 20);
	add_contact(&d.orgs[1], "deputy", 21);
	add_org(&d, "gas", NULL, 25);
	add_org(&d, "gas", NULL, 30);
	add_org(&d, "bank", NULL, 40);
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 4);
	assert_diags(&dl, want, 4);
	diag_clear(&dl);
	directory_free(&d);
}

static void test_unknown_parent(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	static const char *const want[] = {
		"dir.conf:5: parent 'bnak' of organisation 'bank-m0001': no "
		"such organisation",
	};

	(void)state;
	add_org(&d, "bank", NULL, 1);
	add_org(&d, "bank-m0001", "bnak", 5);
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 1);
	assert_diags(&dl, want, 1);
	diag_clear(&dl);
	directory_free(&d);
}

static void test_cycles_once_each(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	static const char *const want[] = {
		"dir.conf:2: parent cycle: self -> self",
		"dir.conf:3: parent cycle: a -> b -> c -> a",
		"dir.conf:8: parent cycle: y -> x -> y",
	};

	(void)state;
	add_org(&d, "root", NULL, 1);
	add_org(&d, "self", "self", 2);
	/* A three-cycle entered from its middle, with a tail leading in. */
	add_org(&d, "a", "b", 3);
	add_org(&d, "tail", "c", 4);
	add_org(&d, "c", "a", 5);
	add_org(&d, "b", "c", 6);
	add_org(&d, "tail2", "tail", 7);
	add_org(&d, "y", "x", 8);
	add_org(&d, "x", "y", 9);
	add_org(&d, "ok", "root", 10);
	/* Each cycle once, at its member that comes first in the file. */
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 3);
	assert_diags(&dl, want, 3);
	diag_clear(&dl);
	directory_free(&d);
}

static void test_long_chain(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	char id[32], parent[32];

	(void)state;
	/* 5000 organisations in one chain: no cycle, no quadratic walk. */
	add_org(&d, "o0", NULL, 1);
	for (int i = 1; i < 5000; i++) {
		snprintf(id, sizeof(id), "o%d", i);
		snprintf(parent, sizeof(parent), "o%d", i - 1);
		add_org(&d, id, parent, i + 1);
	}
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 0);
	/* Closing the chain makes one cycle of 5000, reported once. */
	free(d.orgs[0].parent);
	d.orgs[0].parent = strdup("o4999");
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 1);
	assert_int_equal(dl.n, 1);
	/* Listed parent-wards from o0, cut short to stay one line. */
	assert_memory_equal(dl.lines[0],
			    "dir.conf:1: parent cycle: o0 -> o4999 -> o4998 ",
			    47);
	assert_true(strlen(dl.lines[0]) < 1024);
	diag_clear(&dl);
	directory_free(&d);
}

static void test_duplicate_and_parent(void **state)
{
	struct directory d = {0};
	struct diag_list dl = {0};
	static const char *const want[] = {
		"dir.conf:3: duplicate organisation id 'bank' (first at line "
		"1)",
	};

	(void)state;
	/* A parent names the first of duplicates; no spurious cycle. */
	add_org(&d, "bank", NULL, 1);
	add_org(&d, "m", "bank", 2);
	add_org(&d, "bank", "m", 3);
	assert_int_equal(dir_validate(&d, "dir.conf", &dl), 1);
	assert_diags(&dl, want, 1);
	diag_clear(&dl);
	directory_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_tree),
		cmocka_unit_test(test_duplicates),
		cmocka_unit_test(test_unknown_parent),
		cmocka_unit_test(test_cycles_once_each),
		cmocka_unit_test(test_long_chain),
		cmocka_unit_test(test_duplicate_and_parent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
