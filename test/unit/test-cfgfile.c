/*
 * Unit tests for common/cfgfile.c: comments of the three kinds blanked
 * (and their markers left alone inside strings), the lines libconfuse
 * reports after comments, sections placed at their opening lines however
 * they share lines, include() relative to the including file with errors
 * inside it named by that file, a missing include and an include loop,
 * strings, comments and braces that never end, and sections that share a
 * title kept apart or refused.
 *
 * Files are written to a fresh directory under $TMPDIR; the tests that
 * include run from another working directory, so that a path resolved
 * against the working directory would not be found.
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
#include <confuse.h>

#include "common/cfgfile.h"
#include "common/diag.h"
#include "test/unit/testutil.h"

static char *dir; /* the test's own directory */

static int make_dir(void **state)
{
	(void)state;
	dir = testutil_tmpdir("test-cfgfile");
	return 0;
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

/* ---- the options the tests parse with ---- */

static int value_line; /* set by the parse callback of "at" */

static int at_parse(cfg_t *cfg, cfg_opt_t *opt, const char *value, void *result)
{
	(void)opt;
	(void)value;
	value_line = cfgfile_line(cfg);
	*(long *)result = value_line;
	return 0;
}

static cfg_opt_t inner_opts[] = {
	CFG_INT("v", 0, CFGF_NONE),
	CFG_INT_CB("at", 0, CFGF_NONE, at_parse),
	CFG_END(),
};

static cfg_opt_t outer_opts[] = {
	CFG_STR("x", NULL, CFGF_NONE),
	CFG_STR_LIST("l", NULL, CFGF_NONE),
	CFG_SEC("inner", inner_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_SEC("step", inner_opts, CFGF_MULTI),
	CFG_END(),
};

static cfg_opt_t root_opts[] = {
	CFG_SEC("outer", outer_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_INT("n", 0, CFGF_NONE),
	CFG_STR("s", NULL, CFGF_NONE),
	CFG_FUNC("include", cfg_include),
	CFG_END(),
};

/* The same without include(): includes stay libconfuse's business. */
static cfg_opt_t root_opts_no_include[] = {
	CFG_SEC("outer", outer_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_INT("n", 0, CFGF_NONE),
	CFG_STR("s", NULL, CFGF_NONE),
	CFG_END(),
};

static cfg_t *new_cfg(void)
{
	cfg_t *cfg = cfg_init(root_opts, CFGF_NONE);

	assert_non_null(cfg);
	return cfg;
}

static cfg_t *outer(cfg_t *cfg, unsigned i)
{
	cfg_t *sec = cfg_getnsec(cfg, "outer", i);

	assert_non_null(sec);
	return sec;
}

/* ---- blanking ---- */

static void test_blank_comments(void **state)
{
	static const char in[] = "a = \"x # y // z /* w */\" # one\n"
				 "b = 'p // q # r' // two\n"
				 "/* three\n"
				 "   four */ c = 1\n"
				 "d = e//f # a//b is one word\n"
				 "e = \"say \\\"# hi\\\"\" f = 'it\\'s'#x\n";
	static const char want[] = "a = \"x # y // z /* w */\"      \n"
				   "b = 'p // q # r'       \n"
				   "        \n"
				   "           c = 1\n"
				   "d = e//f                   \n"
				   "e = \"say \\\"# hi\\\"\" f = 'it\\'s'  \n";
	struct diag_list dl = {0};
	char *text = strdup(in);

	(void)state;
	assert_non_null(text);
	assert_int_equal(cfgfile_blank(text, "t.conf", &dl), 0);
	assert_int_equal(dl.n, 0);
	/* Every byte stays where it was; only comments became spaces. */
	assert_int_equal(strlen(text), strlen(in));
	assert_string_equal(text, want);
	free(text);
}

static void test_blank_errors(void **state)
{
	static const struct {
		const char *text;
		const char *want;
	} cases[] = {
		{"a = 1\nb = \"open\n\nc = 2\n",
		 "t.conf:2: quoted string never ends (a closing \" is missing)"},
		{"a = 'it\\'s\n",
		 "t.conf:1: quoted string never ends (a closing ' is missing)"},
		{"a = 1 # fine\n/* open\n\n",
		 "t.conf:2: comment never ends (a closing */ is missing)"},
		{"x {\n  y {\n  }\n  z {\n",
		 "t.conf:4: '{' never closed (a '}' "
		 "is missing)"},
		{"x {\n}\n}\n", "t.conf:3: unexpected closing brace"},
		{"t = AMBER+STRICT\n",
		 "t.conf:1: '+' in an unquoted value: put the value in double "
		 "quotes, as in \"AMBER+STRICT\""},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct diag_list dl = {0};
		char *text = strdup(cases[i].text);

		assert_non_null(text);
		assert_int_equal(cfgfile_blank(text, "t.conf", &dl), -EINVAL);
		assert_diags(&dl, &cases[i].want, 1);
		diag_clear(&dl);
		free(text);
	}
}

static void test_read(void **state)
{
	struct diag_list dl = {0};
	char *text = NULL;
	char want[600];

	(void)state;
	write_file("read.conf", "n = 1 # one\n");
	assert_int_equal(cfgfile_read(in_dir("read.conf"), &text, &dl), 0);
	assert_string_equal(text, "n = 1      \n");
	free(text);
	text = NULL;

	assert_int_equal(cfgfile_read(in_dir("none.conf"), &text, &dl),
			 -ENOENT);
	assert_null(text);
	snprintf(want, sizeof(want),
		 "%s: cannot read: No such file or directory",
		 in_dir("none.conf"));
	assert_string_equal(dl.lines[0], want);
	diag_clear(&dl);

	write_file("nul.conf", "n = 1\nx");
	{
		char path[512];
		FILE *f;

		snprintf(path, sizeof(path), "%s", in_dir("nul.conf"));
		f = fopen(path, "a");
		assert_non_null(f);
		fputc('\0', f);
		fclose(f);
	}
	assert_int_equal(cfgfile_read(in_dir("nul.conf"), &text, &dl), -EINVAL);
	snprintf(want, sizeof(want), "%s:2: a NUL byte (is this a text file?)",
		 in_dir("nul.conf"));
	assert_string_equal(dl.lines[0], want);
	diag_clear(&dl);
}

/* ---- lines ---- */

static void test_lines_after_comments(void **state)
{
	static const char text[] = "# one\n"
				   "// two\n"
				   "/* three\n"
				   "   four */\n"
				   "n = 1 # five\n"
				   "outer \"a\" { // six\n"
				   "\tl = {\"p\", # a comment inside a list\n"
				   "\t     \"q\"}\n"
				   "\tinner \"i\" { at = 0 }\n"
				   "}\n"
				   "# eleven\n"
				   "bogus = 2\n";
	static const char *const want[] = {
		"t.conf:12: no such option 'bogus'",
	};
	struct diag_list dl = {0};
	cfg_t *cfg = new_cfg();

	(void)state;
	assert_int_equal(cfgfile_parse_text(cfg, "t.conf", text, &dl), -EINVAL);
	assert_diags(&dl, want, 1);
	/* What was parsed before the error has its lines. */
	assert_int_equal(outer(cfg, 0)->line, 6);
	assert_int_equal(cfg_size(outer(cfg, 0), "l"), 2);
	assert_int_equal(cfg_getnsec(outer(cfg, 0), "inner", 0)->line, 9);
	/* A parse callback learns the line of its value. */
	assert_int_equal(value_line, 9);
	cfg_free(cfg);
	diag_clear(&dl);
}

static void test_opening_lines(void **state)
{
	static const char text[] = "outer \"a\" {\n"			 /* 1 */
				   "\tinner \"x\" { v = 1 }\n"		 /* 2 */
				   "\tinner \"y\" {\n"			 /* 3 */
				   "\t\tv = 2\n"			 /* 4 */
				   "\t} step { v = 3 } step\n"		 /* 5 */
				   "\t{\n"				 /* 6 */
				   "\t} } outer \"b\" { inner \"z\" {\n" /* 7 */
				   "\tv = 4 } }\n"			 /* 8 */
				   "outer \"c\" { x = \"}{\" }\n";	 /* 9 */
	struct diag_list dl = {0};
	cfg_t *cfg = new_cfg(), *a, *b;

	(void)state;
	assert_int_equal(cfgfile_parse_text(cfg, "t.conf", text, &dl), 0);
	assert_int_equal(dl.n, 0);
	a = outer(cfg, 0);
	assert_string_equal(cfg_title(a), "a");
	assert_int_equal(a->line, 1);
	assert_string_equal(a->filename, "t.conf");
	assert_int_equal(cfg_getnsec(a, "inner", 0)->line, 2);
	assert_int_equal(cfg_getnsec(a, "inner", 1)->line, 3);
	assert_int_equal(cfg_getint(cfg_getnsec(a, "inner", 1), "v"), 2);
	assert_int_equal(cfg_getnsec(a, "step", 0)->line, 5);
	/* A section opens where its '{' is. */
	assert_int_equal(cfg_getnsec(a, "step", 1)->line, 6);
	b = outer(cfg, 1);
	assert_int_equal(b->line, 7);
	assert_int_equal(cfg_getnsec(b, "inner", 0)->line, 7);
	assert_int_equal(cfg_getint(cfg_getnsec(b, "inner", 0), "v"), 4);
	assert_int_equal(outer(cfg, 2)->line, 9);
	assert_string_equal(cfg_getstr(outer(cfg, 2), "x"), "}{");
	assert_string_equal(cfg->filename, "t.conf");
	cfg_free(cfg);
}

static void errfunc_unused(cfg_t *cfg, const char *fmt, va_list ap)
{
	(void)cfg;
	(void)fmt;
	(void)ap;
}

static void test_errors_routed(void **state)
{
	static const char text[] = "/* a\n   b */ outer \"a\" {\n"
				   "\tinner \"x\" {\n"
				   "\t\tv = \"many\"\n"
				   "\t}\n"
				   "}\n";
	static const char *const want[] = {
		"t.conf:4: invalid integer value for option 'v'",
	};
	struct diag_list dl = {0};
	cfg_t *cfg = new_cfg();

	(void)state;
	cfg_set_error_function(cfg, errfunc_unused);
	assert_int_equal(cfgfile_parse_text(cfg, "t.conf", text, &dl), -EINVAL);
	assert_diags(&dl, want, 1);
	/* The caller's error function is back, in every section too. */
	assert_ptr_equal(cfg->errfunc, errfunc_unused);
	assert_ptr_equal(outer(cfg, 0)->errfunc, errfunc_unused);
	cfg_free(cfg);
	diag_clear(&dl);
}

/* ---- includes ---- */

static void test_include_relative(void **state)
{
	struct diag_list dl = {0};
	cfg_t *cfg = new_cfg(), *sec;
	char *cwd = getcwd(NULL, 0);

	(void)state;
	write_file("inc/main.conf", "# the main file\n"
				    "n = 1\n"
				    "include(\"sub/a.conf\") s = \"after\"\n"
				    "outer \"m\" {\n"
				    "}\n");
	write_file("inc/sub/a.conf", "// included, relative to main.conf\n"
				     "/* two\n"
				     "   three */\n"
				     "outer \"a\" {\n"
				     "\tinclude ( 'b.conf' )\n"
				     "}\n");
	write_file("inc/sub/b.conf", "# relative to sub/a.conf\n"
				     "inner \"b\" { at = 2 }\n");
	/* Not found from here: only relative to the including file. */
	assert_int_equal(chdir("/"), 0);
	assert_int_equal(cfgfile_parse(cfg, in_dir("inc/main.conf"), &dl), 0);
	assert_int_equal(chdir(cwd), 0);
	free(cwd);
	assert_diags(&dl, NULL, 0);
	assert_int_equal(cfg_getint(cfg, "n"), 1);
	assert_string_equal(cfg_getstr(cfg, "s"), "after");
	assert_int_equal(cfg_size(cfg, "outer"), 2);

	sec = outer(cfg, 0);
	assert_string_equal(cfg_title(sec), "a");
	assert_string_equal(sec->filename, in_dir("inc/sub/a.conf"));
	assert_int_equal(sec->line, 4);
	sec = cfg_getnsec(sec, "inner", 0);
	assert_string_equal(sec->filename, in_dir("inc/sub/b.conf"));
	assert_int_equal(sec->line, 2);
	assert_int_equal(cfg_getint(sec, "at"), 2);

	sec = outer(cfg, 1);
	assert_string_equal(sec->filename, in_dir("inc/main.conf"));
	assert_int_equal(sec->line, 4);
	cfg_free(cfg);
}

static void test_include_errors(void **state)
{
	struct diag_list dl = {0};
	char want[3][600];
	cfg_t *cfg;

	(void)state;
	/* An error inside an included file is named by that file. */
	write_file("err/main.conf", "n = 1\n"
				    "\n"
				    "include(\"part.conf\")\n"
				    "include(\"gone.conf\")\n"
				    "bogus = 1\n");
	write_file("err/part.conf", "# one\n"
				    "outer \"p\" {\n"
				    "\tcolour = \"red\"\n"
				    "}\n");
	snprintf(want[0], sizeof(want[0]),
		 "%s:4: cannot include \"%s\": No such file or directory",
		 in_dir("err/main.conf"), in_dir("err/gone.conf"));
	cfg = new_cfg();
	assert_int_equal(cfgfile_parse(cfg, in_dir("err/main.conf"), &dl),
			 -EINVAL);
	{
		const char *w[] = {want[0]};

		/* A missing file stops the parse before libconfuse. */
		assert_diags(&dl, w, 1);
	}
	cfg_free(cfg);
	diag_clear(&dl);

	write_file("err/main.conf", "n = 1\n"
				    "\n"
				    "include(\"part.conf\")\n"
				    "bogus = 1\n");
	snprintf(want[0], sizeof(want[0]), "%s:3: no such option 'colour'",
		 in_dir("err/part.conf"));
	cfg = new_cfg();
	assert_int_equal(cfgfile_parse(cfg, in_dir("err/main.conf"), &dl),
			 -EINVAL);
	{
		const char *w[] = {want[0]};

		assert_diags(&dl, w, 1);
	}
	cfg_free(cfg);
	diag_clear(&dl);

	/* Checks of the included file, with its name; a bad include. */
	write_file("err/main.conf", "include(\"open.conf\")\n"
				    "include(open.conf)\n");
	write_file("err/open.conf", "outer \"o\" {\n"
				    "\tx = \"never ends\n");
	snprintf(want[0], sizeof(want[0]),
		 "%s:2: quoted string never ends (a closing \" is missing)",
		 in_dir("err/open.conf"));
	snprintf(want[1], sizeof(want[1]),
		 "%s:2: include: write it include(\"FILE\")",
		 in_dir("err/main.conf"));
	cfg = new_cfg();
	assert_int_equal(cfgfile_parse(cfg, in_dir("err/main.conf"), &dl),
			 -EINVAL);
	{
		const char *w[] = {want[0], want[1]};

		assert_diags(&dl, w, 2);
	}
	cfg_free(cfg);
	diag_clear(&dl);

	/* A file that includes itself. */
	write_file("err/loop.conf", "n = 1\ninclude(\"loop.conf\")\n");
	snprintf(want[0], sizeof(want[0]),
		 "%s:2: include(\"loop.conf\"): includes nested more than %d "
		 "deep (does a file include itself?)",
		 in_dir("err/loop.conf"), CFGFILE_INCLUDE_DEPTH);
	cfg = new_cfg();
	assert_int_equal(cfgfile_parse(cfg, in_dir("err/loop.conf"), &dl),
			 -EINVAL);
	{
		const char *w[] = {want[0]};

		assert_diags(&dl, w, 1);
	}
	cfg_free(cfg);
	diag_clear(&dl);

	/* The top file itself. */
	cfg = new_cfg();
	assert_int_equal(cfgfile_parse(cfg, in_dir("err/none.conf"), &dl),
			 -ENOENT);
	snprintf(want[0], sizeof(want[0]),
		 "%s: cannot read: No such file or directory",
		 in_dir("err/none.conf"));
	{
		const char *w[] = {want[0]};

		assert_diags(&dl, w, 1);
	}
	cfg_free(cfg);
	diag_clear(&dl);
}

static void test_include_undeclared(void **state)
{
	struct diag_list dl = {0};
	cfg_t *cfg = cfg_init(root_opts_no_include, CFGF_NONE);

	(void)state;
	assert_non_null(cfg);
	/* Left to libconfuse, which knows no such function. */
	assert_int_equal(cfgfile_parse_text(cfg, "t.conf",
					    "n = 1\n\ninclude(\"x.conf\")\n",
					    &dl),
			 -EINVAL);
	assert_int_equal(dl.n, 1);
	assert_memory_equal(dl.lines[0], "t.conf:3: ", 10);
	cfg_free(cfg);
	diag_clear(&dl);
}

/* ---- titles ---- */

static const char dup_text[] = "outer \"a\" { x = \"1\" }\n"
			       "outer \"b\" {\n"
			       "\tinner \"i\" { v = 1 }\n"
			       "\tinner \"i\" { v = 2 }\n"
			       "}\n"
			       "outer \"a\" { x = \"2\" }\n";

static void test_titles_separate(void **state)
{
	struct diag_list dl = {0};
	cfg_t *cfg = new_cfg(), *b;

	(void)state;
	assert_int_equal(
		cfgfile_set_titles(cfg, "outer", CFGFILE_TITLES_SEPARATE), 0);
	assert_int_equal(
		cfgfile_set_titles(cfg, "outer|inner", CFGFILE_TITLES_SEPARATE),
		0);
	assert_int_equal(cfgfile_parse_text(cfg, "t.conf", dup_text, &dl), 0);
	assert_int_equal(dl.n, 0);
	assert_int_equal(cfg_size(cfg, "outer"), 3);
	/* In file order, each with its own title, values and line. */
	assert_string_equal(cfg_title(outer(cfg, 0)), "a");
	assert_string_equal(cfg_getstr(outer(cfg, 0), "x"), "1");
	assert_string_equal(cfg_title(outer(cfg, 2)), "a");
	assert_string_equal(cfg_getstr(outer(cfg, 2), "x"), "2");
	assert_int_equal(outer(cfg, 2)->line, 6);
	b = outer(cfg, 1);
	assert_int_equal(cfg_size(b, "inner"), 2);
	assert_string_equal(cfg_title(cfg_getnsec(b, "inner", 1)), "i");
	assert_int_equal(cfg_getint(cfg_getnsec(b, "inner", 1), "v"), 2);
	assert_int_equal(cfg_getnsec(b, "inner", 1)->line, 4);
	/* Lookups by title find the first. */
	assert_string_equal(cfg_getstr(cfg_gettsec(cfg, "outer", "a"), "x"),
			    "1");
	cfg_free(cfg);
}

static void test_titles_unique(void **state)
{
	static const char *const want[] = {
		"t.conf:4: duplicate inner \"i\" (first at line 3)",
		"t.conf:6: duplicate outer \"a\" (first at line 1)",
	};
	struct diag_list dl = {0};
	cfg_t *cfg = new_cfg();

	(void)state;
	assert_int_equal(
		cfgfile_set_titles(cfg, "outer", CFGFILE_TITLES_UNIQUE), 0);
	assert_int_equal(
		cfgfile_set_titles(cfg, "outer|inner", CFGFILE_TITLES_UNIQUE),
		0);
	/* Not sections with titles, or no such option. */
	assert_int_equal(
		cfgfile_set_titles(cfg, "outer|step", CFGFILE_TITLES_UNIQUE),
		-EINVAL);
	assert_int_equal(cfgfile_set_titles(cfg, "n", CFGFILE_TITLES_UNIQUE),
			 -EINVAL);
	assert_int_equal(
		cfgfile_set_titles(cfg, "outer|nothing", CFGFILE_TITLES_UNIQUE),
		-EINVAL);
	/* Every repeat is reported, not only the first. */
	assert_int_equal(cfgfile_parse_text(cfg, "t.conf", dup_text, &dl),
			 -EINVAL);
	assert_diags(&dl, want, 2);
	cfg_free(cfg);
	diag_clear(&dl);
}

static void test_section_file(void **state)
{
	cfg_t *cfg = new_cfg();
	struct diag_list dl = {0};

	(void)state;
	/* libconfuse's name for a buffer is no file name. */
	assert_int_equal(cfg_parse_buf(cfg, "outer \"a\" { }\n"), CFG_SUCCESS);
	assert_string_equal(cfgfile_section_file(outer(cfg, 0), "x.conf"),
			    "x.conf");
	assert_string_equal(cfgfile_section_file(outer(cfg, 0), NULL), "[buf]");
	cfg_free(cfg);

	cfg = new_cfg();
	assert_int_equal(
		cfgfile_parse_text(cfg, "t.conf", "outer \"a\" { }\n", &dl), 0);
	assert_string_equal(cfgfile_section_file(outer(cfg, 0), "x.conf"),
			    "t.conf");
	cfg_free(cfg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blank_comments),
		cmocka_unit_test(test_blank_errors),
		cmocka_unit_test(test_read),
		cmocka_unit_test(test_lines_after_comments),
		cmocka_unit_test(test_opening_lines),
		cmocka_unit_test(test_errors_routed),
		cmocka_unit_test(test_include_relative),
		cmocka_unit_test(test_include_errors),
		cmocka_unit_test(test_include_undeclared),
		cmocka_unit_test(test_titles_separate),
		cmocka_unit_test(test_titles_unique),
		cmocka_unit_test(test_section_file),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
