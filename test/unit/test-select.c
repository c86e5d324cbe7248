/*
 * Unit tests for policies/select.c: the shipped rules pick the right
 * policy for drills, large-scale failures and normal alerts; conditions
 * on type, severity, drill, mode and calendar; first match wins; rule
 * errors carry FILE:LINE; and the hours an alert's calendar is read from.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <confuse.h>

#include "common/diag.h"
#include "contacts/directory.h"
#include "policies/calendar.h"
#include "policies/policy.h"
#include "policies/select.h"

#define STANDARD_CONF POLICIES_DIR "/standard.conf"
#define HOLIDAYS_JP POLICIES_DIR "/holidays-jp.conf"

static cfg_opt_t root_opts[] = {
	POLICY_CFG_SEC,
	SELECT_CFG_SEC,
	CFG_END(),
};

/* Policies and rules of a file (text NULL) or a buffer; returns the
 * result of selection_from_cfg. */
static int load(const char *path, const char *text, struct policy_set *set,
		struct selection *sel, struct diag_list *d)
{
	cfg_t *cfg = cfg_init(root_opts, CFGF_NONE);
	const char *file = text ? "rules.conf" : NULL;
	int r;

	assert_non_null(cfg);
	if (text)
		assert_int_equal(cfg_parse_buf(cfg, text), CFG_SUCCESS);
	else
		assert_int_equal(cfg_parse(cfg, path), CFG_SUCCESS);
	assert_int_equal(policy_set_from_cfg(cfg, set, file, d), 0);
	r = selection_from_cfg(cfg, set, sel, file, d);
	cfg_free(cfg);
	return r;
}

static const char *pick(const struct selection *sel, const char *type,
			const char *severity, bool drill, enum select_mode mode,
			enum calendar_period period)
{
	struct select_input in = {
		.type = type,
		.severity = severity,
		.drill = drill,
		.mode = mode,
		.period = period,
	};

	return policy_select(sel, &in);
}

#define NORMAL SELECT_MODE_NORMAL
#define LARGE SELECT_MODE_LARGE_SCALE

static void test_shipped_rules(void **state)
{
	struct policy_set set = {0};
	struct selection sel = {0};
	struct diag_list d = {0};

	(void)state;
	assert_int_equal(load(STANDARD_CONF, NULL, &set, &sel, &d), 0);
	diag_print(&d, stderr);
	assert_int_equal(d.n, 0);
	assert_int_equal(sel.n, 3);

	/* A drill on a day off or out of hours: the holiday drill. */
	assert_string_equal(
		pick(&sel, NULL, NULL, true, NORMAL, CALENDAR_HOLIDAY),
		"holiday-drill");
	assert_string_equal(
		pick(&sel, NULL, NULL, true, NORMAL, CALENDAR_OFF_HOURS),
		"holiday-drill");
	/* The first rule wins even in large-scale mode. */
	assert_string_equal(
		pick(&sel, NULL, NULL, true, LARGE, CALENDAR_HOLIDAY),
		"holiday-drill");
	/* A drill in business hours is an ordinary one. */
	assert_string_equal(
		pick(&sel, NULL, NULL, true, NORMAL, CALENDAR_BUSINESS),
		"standard");
	/* A real alert on a holiday in normal times. */
	assert_string_equal(pick(&sel, "early-warning", "high", false, NORMAL,
				 CALENDAR_HOLIDAY),
			    "standard");
	/* Large-scale failure. */
	assert_string_equal(
		pick(&sel, NULL, NULL, false, LARGE, CALENDAR_BUSINESS),
		"large-scale");
	assert_string_equal(
		pick(&sel, NULL, NULL, true, LARGE, CALENDAR_BUSINESS),
		"large-scale");
	/* The name belongs to the selection and names a real policy. */
	assert_non_null(policy_set_find(&set, pick(&sel, NULL, NULL, false,
						   NORMAL, CALENDAR_BUSINESS)));
	selection_free(&sel);
	assert_int_equal(sel.n, 0);
	selection_free(NULL);
	policy_set_free(&set);
}

static void test_conditions(void **state)
{
	struct policy_set set = {0};
	struct selection sel = {0};
	struct diag_list d = {0};

	(void)state;
	assert_int_equal(
		load(NULL,
		     "policy \"p1\" { step { after = 0s roles = {\"primary\"} "
		     "channels = {\"mail\"} } }\n"
		     "policy \"p2\" { step { after = 0s roles = {\"primary\"} "
		     "channels = {\"voice\"} } }\n"
		     "policy \"p3\" { step { after = 0s roles = {\"duty\"} "
		     "channels = {\"fax\"} } }\n"
		     "select { policy = \"p1\" type = {\"early-warning\", "
		     "\"attack\"} severity = {\"critical\"} }\n"
		     "select { policy = \"p2\" severity = {\"critical\", "
		     "\"high\"} drill = false calendar = {\"business\"} }\n"
		     "select { policy = \"p3\" mode = \"normal\" calendar = "
		     "{\"holiday\"} }\n",
		     &set, &sel, &d),
		0);
	assert_int_equal(sel.n, 3);
	assert_int_equal(sel.rules[0].line, 4);
	assert_int_equal(sel.rules[2].drill, -1);
	assert_int_equal(sel.rules[1].drill, 0);

	/* Type and severity both hold; case is ignored. */
	assert_string_equal(
		pick(&sel, "Attack", "CRITICAL", true, LARGE, CALENDAR_HOLIDAY),
		"p1");
	/* Type matches, severity does not: on to the next rule. */
	assert_string_equal(
		pick(&sel, "attack", "high", false, NORMAL, CALENDAR_BUSINESS),
		"p2");
	/* p2 wants no drill and business hours. */
	assert_null(
		pick(&sel, "attack", "high", true, LARGE, CALENDAR_BUSINESS));
	assert_null(
		pick(&sel, "attack", "high", false, LARGE, CALENDAR_OFF_HOURS));
	/* A condition on a field the alert lacks does not hold. */
	assert_null(pick(&sel, NULL, NULL, false, LARGE, CALENDAR_BUSINESS));
	/* p3: normal mode on a holiday, whatever type and severity. */
	assert_string_equal(
		pick(&sel, NULL, NULL, true, NORMAL, CALENDAR_HOLIDAY), "p3");
	assert_null(pick(&sel, NULL, NULL, true, LARGE, CALENDAR_HOLIDAY));
	/* No rule matches: NULL, the engine then uses the default. */
	assert_null(
		pick(&sel, "other", "low", false, NORMAL, CALENDAR_OFF_HOURS));
	assert_null(policy_select(NULL, &(struct select_input){0}));
	selection_free(&sel);
	policy_set_free(&set);
	diag_clear(&d);
}

static void test_rule_errors(void **state)
{
	struct policy_set set = {0};
	struct selection sel = {.n = 42};
	struct diag_list d = {0};

	(void)state;
	assert_int_equal(
		load(NULL,
		     "policy \"p1\" { step { after = 0s roles = {\"primary\"} "
		     "channels = {\"mail\"} } }\n"
		     "select { policy = \"p1\" }\n"
		     "select { policy = \"nope\" }\n"
		     "select {\n"
		     "  drill = true\n"
		     "}\n"
		     "select { policy = \"p1\" mode = \"panic\" calendar = "
		     "{\"weekend\", \"holiday\"} type = {\"\"} }\n",
		     &set, &sel, &d),
		-EINVAL);
	assert_int_equal(sel.n, 42);
	assert_int_equal(d.n, 5);
	assert_string_equal(d.lines[0],
			    "rules.conf:3: select: unknown policy \"nope\"");
	assert_string_equal(d.lines[1], "rules.conf:6: select: a rule needs "
					"policy = \"NAME\"");
	assert_string_equal(d.lines[2], "rules.conf:7: select: type must not "
					"hold an empty name");
	assert_string_equal(d.lines[3], "rules.conf:7: select: mode must be "
					"\"normal\" or \"large-scale\", not "
					"\"panic\"");
	assert_string_equal(d.lines[4],
			    "rules.conf:7: select: unknown calendar period "
			    "\"weekend\" (business, off-hours, holiday)");
	policy_set_free(&set);
	diag_clear(&d);
}

static void test_modes(void **state)
{
	enum select_mode m = SELECT_MODE_NORMAL;

	(void)state;
	assert_int_equal(select_mode_parse("large-scale", &m), 0);
	assert_int_equal(m, SELECT_MODE_LARGE_SCALE);
	assert_string_equal(select_mode_name(m), "large-scale");
	assert_int_equal(select_mode_parse("normal", &m), 0);
	assert_int_equal(m, SELECT_MODE_NORMAL);
	assert_int_equal(select_mode_parse("large", &m), -EINVAL);
	assert_int_equal(select_mode_parse(NULL, &m), -EINVAL);
}

static void test_reference_hours(void **state)
{
	struct dir_org orgs[3] = {
		{.id = (char *)"bank-ceptoar", .kind = DIR_KIND_CEPTOAR},
		{.id = (char *)"mic", .kind = DIR_KIND_GOVERNMENT},
		{.id = (char *)"nisc", .kind = DIR_KIND_GOVERNMENT},
	};
	struct directory dir = {.orgs = orgs, .n_orgs = 3};

	(void)state;
	/* NISC's own hours when it is in the directory. */
	assert_ptr_equal(select_reference_hours(&dir, NULL), &orgs[2].hours);
	/* Else the first government organisation. */
	dir.n_orgs = 2;
	assert_ptr_equal(select_reference_hours(&dir, NULL), &orgs[1].hours);
	/* Else weekdays 09:00-18:00 Asia/Tokyo. */
	dir.n_orgs = 1;
	assert_ptr_equal(select_reference_hours(&dir, NULL),
			 calendar_default_hours());
	assert_ptr_equal(select_reference_hours(NULL, NULL),
			 calendar_default_hours());
	assert_int_equal(calendar_default_hours()->days, 0x3e);
	assert_int_equal(calendar_default_hours()->open_min, 540);
	assert_int_equal(calendar_default_hours()->close_min, 1080);
	assert_string_equal(calendar_default_hours()->tz, "Asia/Tokyo");
	/* One target: its own hours. */
	assert_ptr_equal(select_reference_hours(&dir, &orgs[0]),
			 &orgs[0].hours);
}

/*
 * The whole chain as the engine runs it: a drill to every organisation
 * at 10:00 on New Year's Day in Tokyo reads NISC's calendar (a holiday),
 * picks the holiday drill, and puts holiday contacts first everywhere; in
 * business hours on a Monday it is an ordinary drill where a 24-hour desk
 * gets no holiday-first treatment.
 */
static void test_chain(void **state)
{
	struct policy_set set = {0};
	struct selection sel = {0};
	struct diag_list d = {0};
	struct calendar cal = {0};
	struct dir_org orgs[2] = {
		{.id = (char *)"nisc", .kind = DIR_KIND_GOVERNMENT},
		{.id = (char *)"power-desk", .kind = DIR_KIND_MEMBER},
	};
	struct directory dir = {.orgs = orgs, .n_orgs = 2};
	struct select_input in = {.drill = true, .mode = SELECT_MODE_NORMAL};
	const struct policy *p;
	/* 2026-01-01T10:00+09:00 and 2026-01-05T10:00+09:00. */
	time_t new_year = 1767229200, monday = 1767574800;

	(void)state;
	orgs[0].hours = *calendar_default_hours();
	orgs[1].hours = (struct dir_hours){.days = 0x7f,
					   .open_min = 0,
					   .close_min = 1440,
					   .tz = (char *)"Asia/Tokyo"};
	assert_int_equal(calendar_load(HOLIDAYS_JP, &cal, &d), 0);
	assert_int_equal(load(STANDARD_CONF, NULL, &set, &sel, &d), 0);

	in.period = calendar_period_at(&cal, select_reference_hours(&dir, NULL),
				       new_year);
	assert_int_equal(in.period, CALENDAR_HOLIDAY);
	p = policy_set_find(&set, policy_select(&sel, &in));
	assert_non_null(p);
	assert_string_equal(p->name, "holiday-drill");
	assert_true(policy_holiday_first(
		p, calendar_period_at(&cal, &orgs[1].hours, new_year)));

	in.period = calendar_period_at(&cal, select_reference_hours(&dir, NULL),
				       monday);
	assert_int_equal(in.period, CALENDAR_BUSINESS);
	p = policy_set_find(&set, policy_select(&sel, &in));
	assert_string_equal(p->name, "standard");
	assert_false(policy_holiday_first(
		p, calendar_period_at(&cal, &orgs[1].hours, monday)));
	/* The same desk on New Year's Day under the standard policy. */
	assert_true(policy_holiday_first(
		p, calendar_period_at(&cal, &orgs[1].hours, new_year)));

	selection_free(&sel);
	policy_set_free(&set);
	calendar_free(&cal);
	diag_clear(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_rules),
		cmocka_unit_test(test_conditions),
		cmocka_unit_test(test_rule_errors),
		cmocka_unit_test(test_modes),
		cmocka_unit_test(test_reference_hours),
		cmocka_unit_test(test_chain),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
