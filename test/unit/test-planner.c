/*
 * Unit tests for dispatcher/engine/planner.c: targets expanded through a
 * directory to organisations. "all" leaves out the government side;
 * sectors and single organisations; each organisation once, in target
 * order then directory order; every unknown target refused with the
 * words the API answers, and nothing left in the plan.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/diag.h"
#include "contacts/directory.h"
#include "dispatcher/engine/planner.h"
#include "test/unit/testutil.h"

static const char directory[] =
	"organisation \"nisc\" { name = \"NISC\" sector = \"government\""
	" kind = \"government\" contact \"duty\" { name = \"当直\""
	" role = \"duty\" method \"mail\" { address = \"d@nisc.example.jp\" }"
	" } }\n"
	"organisation \"water-b\" { name = \"乙\" sector = \"water\""
	" kind = \"member\" contact \"desk\" { name = \"窓口\""
	" role = \"primary\" method \"mail\" { address = \"d@b.example.jp\" }"
	" } }\n"
	"organisation \"bank\" { name = \"銀行\" sector = \"finance\""
	" kind = \"ceptoar\" contact \"desk\" { name = \"窓口\""
	" role = \"primary\" method \"mail\" { address = \"d@bank.example.jp\""
	" } } }\n"
	"organisation \"water-a\" { name = \"甲\" sector = \"water\""
	" kind = \"member\" contact \"desk\" { name = \"窓口\""
	" role = \"primary\" method \"mail\" { address = \"d@a.example.jp\" }"
	" } }\n";

struct fixture {
	char *dir;
	struct directory d;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct diag_list diags = {0};
	char *path;

	f->dir = testutil_tmpdir("planner");
	path = testutil_write_file(f->dir, "dir.conf", directory);
	if (dir_parse_conf(path, &f->d, &diags) < 0) {
		diag_print(&diags, stderr);
		fail_msg("the directory does not parse");
	}
	diag_clear(&diags);
	free(path);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	directory_free(&f->d);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f);
	return 0;
}

/* Expands the comma-separated targets; the ids in order, comma-joined. */
static int expand(struct fixture *f, const char *targets, char *out, size_t len,
		  struct alert_error *err)
{
	char *list = strdup(targets), *save = NULL, *tok, *tv[8];
	struct plan pl;
	size_t n = 0;
	int r;

	for (tok = strtok_r(list, ",", &save); tok && n < 8;
	     tok = strtok_r(NULL, ",", &save))
		tv[n++] = tok;
	r = planner_expand(&f->d, tv, n, &pl, err);
	out[0] = '\0';
	if (r < 0) {
		assert_int_equal(pl.n_orgs, 0);
		assert_null(pl.orgs);
	}
	for (size_t i = 0; r == 0 && i < pl.n_orgs; i++)
		snprintf(out + strlen(out), len - strlen(out), "%s%s",
			 i ? "," : "", pl.orgs[i]->id);
	plan_free(&pl);
	free(list);
	return r;
}

static void expect(struct fixture *f, const char *targets, const char *want)
{
	struct alert_error err = {0};
	char got[256];

	assert_int_equal(expand(f, targets, got, sizeof(got), &err), 0);
	assert_string_equal(got, want);
}

static void expect_refused(struct fixture *f, const char *targets,
			   const char *message)
{
	struct alert_error err = {0};
	char got[256];

	assert_int_equal(expand(f, targets, got, sizeof(got), &err), -EINVAL);
	assert_int_equal(err.http_status, 400);
	assert_string_equal(err.field, "targets");
	assert_string_equal(err.message, message);
}

static void test_all_leaves_out_the_government(void **state)
{
	expect(*state, "all", "water-b,bank,water-a");
}

static void test_sectors_and_organisations(void **state)
{
	expect(*state, "sector:water", "water-b,water-a");
	expect(*state, "org:bank", "bank");
	/* Named on purpose, the government side is reached too. */
	expect(*state, "org:nisc", "nisc");
	expect(*state, "sector:government", "nisc");
}

static void test_each_once_in_target_order(void **state)
{
	expect(*state, "org:water-a,sector:water,org:bank",
	       "water-a,water-b,bank");
	expect(*state, "sector:finance,all,org:bank", "bank,water-b,water-a");
}

static void test_unknown_targets_are_refused(void **state)
{
	struct fixture *f = *state;

	expect_refused(f, "sector:gas", "no organisation in sector \"gas\"");
	expect_refused(f, "org:water-a,org:water-c",
		       "no organisation \"water-c\"");
	expect_refused(f, "everyone", "unknown target \"everyone\"");
}

static void test_empty_directory(void **state)
{
	struct directory empty = {0};
	struct alert_error err = {0};
	char *tv[] = {"all"};
	struct plan pl;

	(void)state;
	assert_int_equal(planner_expand(&empty, tv, 1, &pl, &err), -EINVAL);
	assert_string_equal(err.message, "the directory is empty");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_all_leaves_out_the_government, setup, teardown),
		cmocka_unit_test_setup_teardown(test_sectors_and_organisations,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_each_once_in_target_order,
						setup, teardown),
		cmocka_unit_test_setup_teardown(
			test_unknown_targets_are_refused, setup, teardown),
		cmocka_unit_test(test_empty_directory),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
