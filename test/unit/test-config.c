/*
 * Unit tests for dispatcher/engine/config.c, the parts that go through
 * common/cfgfile.c: an error after comments reported at its own
 * FILE:LINE (libconfuse alone would count the comments as extra lines
 * and place a section at its closing brace), and include("FILE")
 * resolved relative to the config file, not the working directory, with
 * the included sections and their errors naming the included file.
 *
 * Each test writes its config under a fresh directory in $TMPDIR and
 * loads it from another working directory.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "common/diag.h"
#include "dispatcher/engine/config.h"
#include "test/unit/testutil.h"

static char *dir; /* the test's own directory */

static int make_dir(void **state)
{
	(void)state;
	dir = testutil_tmpdir("test-config");
	/* Nothing is found relative to the working directory. */
	return chdir("/");
}

static int remove_dir(void **state)
{
	(void)state;
	testutil_rmtree(dir);
	free(dir);
	return 0;
}

/* Writes text to dir/name (one missing level of directory made). */
static void write_file(const char *name, const char *text)
{
	free(testutil_write_file(dir, name, text));
}

/* "DIR/" followed by what. */
static const char *in_dir(const char *what)
{
	static char out[4][512];
	static int next;
	char *s = out[next++ % 4];

	snprintf(s, 512, "%s/%s", dir, what);
	return s;
}

static void assert_one_diag(const struct diag_list *dl, const char *want)
{
	if (dl->n != 1 || strcmp(dl->lines[0], want) != 0)
		for (size_t i = 0; i < dl->n; i++)
			print_message("got: %s\n", dl->lines[i]);
	assert_int_equal(dl->n, 1);
	assert_string_equal(dl->lines[0], want);
}

static void test_bad_driver_after_comments(void **state)
{
	struct diag_list dl = {0};
	struct config *c = NULL;
	char want[600];

	(void)state;
	write_file("bad/pocalert.conf", "# pocalert, for a test\n"
					"// comments of every kind\n"
					"/* over\n"
					"   two lines */\n"
					"database = \"test.db\" # beside it\n"
					"channel \"mail\" {\n"
					"\tdriver = \"smtp\"\n"
					"}\n"
					"channel \"pager\" { # line 9\n"
					"\tdriver = \"pigeon\"\n"
					"}\n");
	assert_int_equal(config_load(in_dir("bad/pocalert.conf"), &c, &dl),
			 -EINVAL);
	assert_null(c);
	snprintf(want, sizeof(want),
		 "%s:9: channel \"pager\": unknown driver pigeon",
		 in_dir("bad/pocalert.conf"));
	assert_one_diag(&dl, want);
	diag_clear(&dl);

	/* An error libconfuse reports, after the same comments. */
	write_file("bad/pocalert.conf", "# pocalert, for a test\n"
					"// comments of every kind\n"
					"/* over\n"
					"   two lines */\n"
					"channel \"mail\" {\n"
					"\tdriver = \"smtp\"\n"
					"\tmax_concurrency = many\n"
					"}\n");
	assert_int_equal(config_load(in_dir("bad/pocalert.conf"), &c, &dl),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:7: invalid integer value for option 'max_concurrency'",
		 in_dir("bad/pocalert.conf"));
	assert_one_diag(&dl, want);
	diag_clear(&dl);

	/* A second channel of the same name, where it opens. */
	write_file("bad/pocalert.conf",
		   "# pocalert, for a test\n"
		   "channel \"mail\" { driver = \"smtp\" }\n"
		   "# again\n"
		   "channel \"mail\" {\n"
		   "\tdriver = \"smtp\"\n"
		   "}\n");
	assert_int_equal(config_load(in_dir("bad/pocalert.conf"), &c, &dl),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s:4: found duplicate title 'mail'",
		 in_dir("bad/pocalert.conf"));
	assert_one_diag(&dl, want);
	diag_clear(&dl);
}

static const char policies_conf[] =
	"# the policies, included\n"
	"policy \"quick\" {\n"
	"\tstep { after = 0s roles = {\"primary\"} "
	"channels = {\"mail\"} }\n"
	"\tstep {\n"
	"\t\tafter = 5m\n"
	"\t\troles = {\"deputy\"} channels = {\"mail\"}\n"
	"\t}\n"
	"}\n";

static void test_include_relative_to_config(void **state)
{
	struct diag_list dl = {0};
	struct config *c = NULL;
	const struct config_channel *ch;
	cfg_t *sec;

	(void)state;
	write_file("inc/pocalert.conf", "# the main config\n"
					"database = \"test.db\"\n"
					"include(\"sub/policies.conf\")\n"
					"channel \"mail\" {\n"
					"\tdriver = \"smtp\"\n"
					"}\n");
	write_file("inc/sub/policies.conf", policies_conf);
	assert_int_equal(config_load(in_dir("inc/pocalert.conf"), &c, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_non_null(c);

	sec = cfg_getnsec(c->cfg, "policy", 0);
	assert_non_null(sec);
	assert_string_equal(cfg_title(sec), "quick");
	assert_string_equal(sec->filename, in_dir("inc/sub/policies.conf"));
	assert_int_equal(sec->line, 2);
	assert_int_equal(cfg_getnsec(sec, "step", 1)->line, 4);

	ch = config_channel_find(c, "mail");
	assert_non_null(ch);
	assert_string_equal(ch->sec->filename, in_dir("inc/pocalert.conf"));
	assert_int_equal(ch->sec->line, 4);
	config_free(c);
}

static void test_include_errors(void **state)
{
	struct diag_list dl = {0};
	struct config *c = NULL;
	char want[600];

	(void)state;
	/* Inside the included file: its name, its line. */
	write_file("ierr/pocalert.conf", "database = \"test.db\"\n"
					 "include(\"sub/policies.conf\")\n");
	write_file("ierr/sub/policies.conf", "# one\n"
					     "/* two */\n"
					     "policy \"p\" {\n"
					     "\tcolour = \"red\"\n"
					     "}\n");
	assert_int_equal(config_load(in_dir("ierr/pocalert.conf"), &c, &dl),
			 -EINVAL);
	snprintf(want, sizeof(want), "%s:4: no such option 'colour'",
		 in_dir("ierr/sub/policies.conf"));
	assert_one_diag(&dl, want);
	diag_clear(&dl);

	/* A policy's own check, on a step of the included file. */
	write_file("ierr/sub/policies.conf",
		   "# one\n"
		   "policy \"p\" {\n"
		   "\tstep { after = 0s\n"
		   "\t\troles = {\"boss\"} channels = "
		   "{\"mail\"} }\n"
		   "}\n");
	assert_int_equal(config_load(in_dir("ierr/pocalert.conf"), &c, &dl),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: policy \"p\": step 1: unknown role \"boss\" "
		 "(primary, deputy, holiday, duty)",
		 in_dir("ierr/sub/policies.conf"));
	assert_one_diag(&dl, want);
	diag_clear(&dl);

	/* Missing: an error at the include line of the config file. */
	write_file("ierr/pocalert.conf", "database = \"test.db\"\n"
					 "\n"
					 "include(\"sub/nothing.conf\")\n");
	assert_int_equal(config_load(in_dir("ierr/pocalert.conf"), &c, &dl),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s:3: cannot include \"%s\": No such file or directory",
		 in_dir("ierr/pocalert.conf"), in_dir("ierr/sub/nothing.conf"));
	assert_one_diag(&dl, want);
	diag_clear(&dl);
}

/*
 * The calendar: the built-in 2026-2027 rows without a holidays file, 年末年始
 * on unless turned off, and a holidays file in the Cabinet Office's CSV.
 */
static void test_calendar_settings(void **state)
{
	struct diag_list dl = {0};
	struct config *c = NULL;
	int day;

	(void)state;
	write_file("cal/pocalert.conf", "database = \"test.db\"\n");
	assert_int_equal(config_load(in_dir("cal/pocalert.conf"), &c, &dl), 0);
	assert_int_equal(c->calendar.n, 35);
	assert_true(c->calendar.year_end_days_off);
	assert_int_equal(calendar_parse_date("2027-12-31", &day), 0);
	assert_int_equal(c->calendar.last_day, day);
	config_free(c);

	write_file("cal/off.conf", "database = \"test.db\"\n"
				   "year_end_days_off = false\n"
				   "holidays = \"h.csv\"\n");
	write_file("cal/h.csv", "国民の祝日・休日月日,国民の祝日・休日名称\n"
				"2030/1/1,元日\n");
	assert_int_equal(config_load(in_dir("cal/off.conf"), &c, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_false(c->calendar.year_end_days_off);
	assert_int_equal(c->calendar.n, 1);
	assert_string_equal(c->calendar.holidays[0].name, "元日");
	config_free(c);
	c = NULL;

	/* A bad row of the CSV is the config's error, with its line. */
	write_file("cal/h.csv", "国民の祝日・休日月日,国民の祝日・休日名称\n"
				"2030/13/1,元日\n");
	assert_int_equal(config_load(in_dir("cal/off.conf"), &c, &dl), -EINVAL);
	assert_null(c);
	assert_int_equal(dl.n, 1);
	assert_non_null(
		strstr(dl.lines[0], "h.csv:2: column 1: \"2030/13/1\""));
	diag_clear(&dl);
}

/* The listener's settings: defaults, values, and what is refused. */
static void test_listener_settings(void **state)
{
	struct diag_list dl = {0};
	struct config *c = NULL;
	char want[600];

	(void)state;
	write_file("lis/pocalert.conf", "database = \"test.db\"\n");
	assert_int_equal(config_load(in_dir("lis/pocalert.conf"), &c, &dl), 0);
	assert_int_equal(c->listen_max_connections, 0);
	assert_int_equal(c->listen_max_per_address, 100);
	assert_int_equal(c->listen_request_timeout, 20);
	assert_int_equal(c->n_trusted_proxies, 0);
	assert_null(c->metrics_listen);
	assert_false(c->has_metrics_token);
	assert_null(c->tls_certificate);
	config_free(c);

	write_file(
		"lis/pocalert.conf",
		"database = \"test.db\"\n"
		"listen_max_connections = 500\n"
		"listen_max_per_address = 0\n"
		"listen_request_timeout = 5\n"
		"trusted_proxies = {\"127.0.0.1\", \"10.0.0.0/8\"}\n"
		"metrics_listen = \"127.0.0.1:9025\"\n"
		"metrics_token_sha256 = \"" /* sha256("x") */
		"2d711642b726b04401627ca9fbac32f5c8530fb1903cc4db02258717921a4881"
		"\"\n"
		"tls_certificate = \"tls/cert.pem\"\n"
		"tls_key = \"/etc/pocalert/key.pem\"\n");
	assert_int_equal(config_load(in_dir("lis/pocalert.conf"), &c, &dl), 0);
	assert_int_equal(c->listen_max_connections, 500);
	assert_int_equal(c->listen_max_per_address, 0);
	assert_int_equal(c->listen_request_timeout, 5);
	assert_int_equal(c->n_trusted_proxies, 2);
	assert_string_equal(c->trusted_proxies[1], "10.0.0.0/8");
	assert_string_equal(c->metrics_listen, "127.0.0.1:9025");
	assert_true(c->has_metrics_token);
	assert_int_equal(c->metrics_token_sha256[0], 0x2d);
	/* Relative to the config file, as every path in it. */
	assert_string_equal(c->tls_certificate, in_dir("lis/tls/cert.pem"));
	assert_string_equal(c->tls_key, "/etc/pocalert/key.pem");
	config_free(c);

	write_file("lis/pocalert.conf", "database = \"test.db\"\n"
					"tls_certificate = \"cert.pem\"\n");
	assert_int_equal(config_load(in_dir("lis/pocalert.conf"), &c, &dl),
			 -EINVAL);
	snprintf(want, sizeof(want),
		 "%s: tls_certificate and tls_key go together: give both or "
		 "neither",
		 in_dir("lis/pocalert.conf"));
	assert_one_diag(&dl, want);
	diag_clear(&dl);

	write_file("lis/pocalert.conf", "database = \"test.db\"\n"
					"listen_request_timeout = 0\n");
	assert_int_equal(config_load(in_dir("lis/pocalert.conf"), &c, &dl),
			 -EINVAL);
	assert_int_equal(dl.n, 1);
	assert_non_null(strstr(dl.lines[0], "listen_request_timeout"));
	diag_clear(&dl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_driver_after_comments),
		cmocka_unit_test(test_include_relative_to_config),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_calendar_settings),
		cmocka_unit_test(test_listener_settings),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
