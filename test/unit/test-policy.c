/*
 * Unit tests for policies/policy.c, on a fake clock: the shipped policies
 * parse, steps fall due when they should (repeats included), organisations
 * become unreachable on time, policy_decide answers right at many
 * instants (before the first step, exactly at a due time, after a long
 * downtime), the JSON snapshot survives a round trip, config errors carry
 * FILE:LINE, and a step picks the right contact methods in the right order.
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
#include <confuse.h>

#include "common/diag.h"
#include "common/tlp.h"
#include "contacts/directory.h"
#include "policies/calendar.h"
#include "policies/policy.h"
#include "policies/select.h"

#define STANDARD_CONF POLICIES_DIR "/standard.conf"

/* 2026-01-01T00:00:00Z: the moment the test alerts are accepted. */
#define T0 1767225600.0

#define R(x) POLICY_BIT(DIR_ROLE_##x)
#define C(x) POLICY_BIT(DIR_CHANNEL_##x)

static cfg_opt_t root_opts[] = {
	POLICY_CFG_SEC,
	SELECT_CFG_SEC,
	CFG_END(),
};

/* Loads the policies of a buffer (file name "test.conf"). */
static int load_buf(const char *text, struct policy_set *set,
		    struct diag_list *d)
{
	cfg_t *cfg = cfg_init(root_opts, CFGF_NONE);
	int r;

	assert_non_null(cfg);
	assert_int_equal(cfg_parse_buf(cfg, text), CFG_SUCCESS);
	r = policy_set_from_cfg(cfg, set, "test.conf", d);
	cfg_free(cfg);
	return r;
}

/* The shipped file, parsed as the engine would (select sections too). */
static void load_standard(struct policy_set *set)
{
	struct diag_list d = {0};
	cfg_t *cfg = cfg_init(root_opts, CFGF_NONE);

	assert_non_null(cfg);
	assert_int_equal(cfg_parse(cfg, STANDARD_CONF), CFG_SUCCESS);
	assert_int_equal(policy_set_from_cfg(cfg, set, NULL, &d), 0);
	diag_print(&d, stderr);
	assert_int_equal(d.n, 0);
	cfg_free(cfg);
	diag_clear(&d);
}

static void test_standard_conf(void **state)
{
	struct policy_set set = {0};
	const struct policy *p;

	(void)state;
	load_standard(&set);
	assert_int_equal(set.n, 3);

	p = policy_set_find(&set, "standard");
	assert_non_null(p);
	assert_int_equal(p->n_steps, 3);
	assert_true(p->steps[0].after == 0);
	assert_true(p->steps[1].after == 600);
	assert_true(p->steps[2].after == 1200);
	assert_int_equal(p->steps[0].roles, R(PRIMARY));
	assert_int_equal(p->steps[0].channels, C(MAIL) | C(WEB));
	assert_int_equal(p->steps[1].roles, R(PRIMARY) | R(DEPUTY));
	assert_int_equal(p->steps[1].channels, C(VOICE) | C(MAIL));
	assert_int_equal(p->steps[2].roles,
			 R(PRIMARY) | R(DEPUTY) | R(HOLIDAY));
	assert_int_equal(p->steps[2].channels, C(VOICE) | C(SMS) | C(FAX));
	assert_int_equal(p->repeat, 1);
	assert_int_equal(p->ack, POLICY_ACK_ORGANISATION);
	assert_int_equal(p->require, 1);
	assert_true(p->give_up_after == 1800);
	assert_int_equal(p->holiday_first, POLICY_HOLIDAY_FIRST_CALENDAR);

	p = policy_set_find(&set, "large-scale");
	assert_non_null(p);
	assert_true(p->steps[0].after == 0);
	/* Loud from the first minute. */
	assert_int_equal(p->steps[0].channels, C(VOICE) | C(SMS) | C(MAIL));
	assert_true(p->steps[1].after == 300);
	assert_int_equal(p->repeat, 2);

	p = policy_set_find(&set, "holiday-drill");
	assert_non_null(p);
	assert_int_equal(p->steps[0].roles, R(HOLIDAY));
	assert_int_equal(p->steps[0].channels, C(VOICE) | C(SMS) | C(MAIL));
	assert_int_equal(p->ack, POLICY_ACK_CONTACT);
	assert_int_equal(p->holiday_first, POLICY_HOLIDAY_FIRST_ALWAYS);

	assert_null(policy_set_find(&set, "Standard"));
	assert_null(policy_set_find(&set, NULL));
	policy_set_free(&set);
	assert_int_equal(set.n, 0);
	policy_set_free(NULL);
}

static void test_schedule_multi_step(void **state)
{
	struct policy_set set = {0};
	const struct policy *p;

	(void)state;
	load_standard(&set);
	/* standard: 0, 10m, 20m, then the last step once more at 30m
	 * (gap 10m); unreachable one gap later, at 40m. */
	p = policy_set_find(&set, "standard");
	assert_int_equal(policy_step_count(p), 4);
	assert_true(policy_step_due(p, 0) == 0);
	assert_true(policy_step_due(p, 1) == 600);
	assert_true(policy_step_due(p, 2) == 1200);
	assert_true(policy_step_due(p, 3) == 1800);
	assert_true(policy_step_due(p, 4) < 0);
	assert_true(policy_step_due(p, -1) < 0);
	assert_true(policy_gap(p) == 600);
	assert_true(policy_unreachable_after(p) == 2400);
	assert_ptr_equal(policy_step_at(p, 3), &p->steps[2]);
	assert_ptr_equal(policy_step_at(p, 1), &p->steps[1]);
	assert_null(policy_step_at(p, 4));
	assert_null(policy_step_at(p, -1));

	/* large-scale: 0, 5m, then two repeats at 10m and 15m; 20m. */
	p = policy_set_find(&set, "large-scale");
	assert_int_equal(policy_step_count(p), 4);
	assert_true(policy_step_due(p, 2) == 600);
	assert_true(policy_step_due(p, 3) == 900);
	assert_true(policy_unreachable_after(p) == 1200);
	assert_ptr_equal(policy_step_at(p, 2), &p->steps[1]);
	assert_ptr_equal(policy_step_at(p, 3), &p->steps[1]);

	/* holiday-drill: 0, 15m, 30m; 45m. */
	p = policy_set_find(&set, "holiday-drill");
	assert_int_equal(policy_step_count(p), 3);
	assert_true(policy_step_due(p, 2) == 1800);
	assert_true(policy_unreachable_after(p) == 2700);
	policy_set_free(&set);
}

static void test_schedule_one_step(void **state)
{
	struct policy p;

	(void)state;
	/* The default: one step at 0s, unreachable after give_up_after. */
	policy_default(&p);
	assert_string_equal(p.name, "default");
	assert_int_equal(p.n_steps, 1);
	assert_int_equal(p.steps[0].roles, R(PRIMARY) | R(DEPUTY));
	assert_int_equal(p.steps[0].channels, POLICY_ALL_CHANNELS);
	assert_int_equal(policy_step_count(&p), 1);
	assert_true(policy_step_due(&p, 0) == 0);
	assert_true(policy_unreachable_after(&p) == 1800);

	/* One step with repeats: the gap is give_up_after. */
	p.repeat = 2;
	p.give_up_after = 600;
	assert_int_equal(policy_step_count(&p), 3);
	assert_true(policy_step_due(&p, 1) == 600);
	assert_true(policy_step_due(&p, 2) == 1200);
	assert_true(policy_unreachable_after(&p) == 1800);

	/* A first step later than 0s moves everything. */
	p.repeat = 0;
	p.steps[0].after = 300;
	p.give_up_after = 1800;
	assert_true(policy_step_due(&p, 0) == 300);
	assert_true(policy_unreachable_after(&p) == 2100);
}

static struct policy_decision decide(const struct policy *p, double now,
				     int last, int confirmations)
{
	struct policy_progress pr = {.last_step_run = last,
				     .confirmations = confirmations};

	return policy_decide(p, T0, now, &pr);
}

#define assert_decision(dec, act, st, next)                                    \
	do {                                                                   \
		struct policy_decision d_ = (dec);                             \
		assert_int_equal(d_.action, (act));                            \
		assert_int_equal(d_.step, (st));                               \
		assert_true(d_.next_at == (next));                             \
	} while (0)

static void test_decide_on_time(void **state)
{
	struct policy_set set = {0};
	const struct policy *p;

	(void)state;
	load_standard(&set);
	p = policy_set_find(&set, "standard");
	/* Accepted: step 0 at once, then ask again at 10m. */
	assert_decision(decide(p, T0, -1, 0), POLICY_RUN_STEP, 0, T0 + 600);
	assert_decision(decide(p, T0 + 1, 0, 0), POLICY_WAIT, -1, T0 + 600);
	assert_decision(decide(p, T0 + 599.999, 0, 0), POLICY_WAIT, -1,
			T0 + 600);
	/* Exactly at a due time the step runs. */
	assert_decision(decide(p, T0 + 600, 0, 0), POLICY_RUN_STEP, 1,
			T0 + 1200);
	assert_decision(decide(p, T0 + 600, 1, 0), POLICY_WAIT, -1, T0 + 1200);
	assert_decision(decide(p, T0 + 1200, 1, 0), POLICY_RUN_STEP, 2,
			T0 + 1800);
	/* The repeat, then one gap of silence, then unreachable. */
	assert_decision(decide(p, T0 + 1800, 2, 0), POLICY_RUN_STEP, 3,
			T0 + 2400);
	assert_decision(decide(p, T0 + 2399, 3, 0), POLICY_WAIT, -1, T0 + 2400);
	assert_decision(decide(p, T0 + 2400, 3, 0), POLICY_UNREACHABLE, -1, -1);
	assert_decision(decide(p, T0 + 9999, 3, 0), POLICY_UNREACHABLE, -1, -1);
	/* A confirmation ends it at any point, even after unreachable. */
	assert_decision(decide(p, T0 + 700, 1, 1), POLICY_DONE, -1, -1);
	assert_decision(decide(p, T0 + 9999, 3, 1), POLICY_DONE, -1, -1);
	assert_decision(decide(p, T0, -1, 1), POLICY_DONE, -1, -1);
	policy_set_free(&set);
}

static void test_decide_after_downtime(void **state)
{
	struct policy_set set = {0};
	const struct policy *p;

	(void)state;
	load_standard(&set);
	p = policy_set_find(&set, "standard");
	/* Down from 1m to 25m: steps 1 and 2 fell due; the latest runs at
	 * start and step 1 is skipped. */
	assert_decision(decide(p, T0 + 1500, 0, 0), POLICY_RUN_STEP, 2,
			T0 + 1800);
	/* Down before anything ran, back at 15m. */
	assert_decision(decide(p, T0 + 900, -1, 0), POLICY_RUN_STEP, 1,
			T0 + 1200);
	/* Down for hours: the last run happens, and since the schedule
	 * counts from acceptance, the next answer is unreachable. */
	assert_decision(decide(p, T0 + 36000, 0, 0), POLICY_RUN_STEP, 3,
			T0 + 2400);
	assert_decision(decide(p, T0 + 36000, 3, 0), POLICY_UNREACHABLE, -1,
			-1);
	/* A record beyond the schedule is clamped, not trusted. */
	assert_decision(decide(p, T0 + 100, 99, 0), POLICY_WAIT, -1, T0 + 2400);
	assert_decision(decide(p, T0 + 100, -7, 0), POLICY_RUN_STEP, 0,
			T0 + 600);
	policy_set_free(&set);
}

static void test_decide_first_step_later(void **state)
{
	struct policy p;

	(void)state;
	policy_default(&p);
	p.steps[0].after = 300;
	/* Nothing before the first step. */
	assert_decision(decide(&p, T0, -1, 0), POLICY_WAIT, -1, T0 + 300);
	assert_decision(decide(&p, T0 + 299, -1, 0), POLICY_WAIT, -1, T0 + 300);
	assert_decision(decide(&p, T0 + 300, -1, 0), POLICY_RUN_STEP, 0,
			T0 + 2100);
	assert_decision(decide(&p, T0 + 2099, 0, 0), POLICY_WAIT, -1,
			T0 + 2100);
	assert_decision(decide(&p, T0 + 2100, 0, 0), POLICY_UNREACHABLE, -1,
			-1);
}

static void test_decide_acks(void **state)
{
	struct policy p;
	struct policy_progress pr = {.last_step_run = 0};

	(void)state;
	policy_default(&p);
	p.require = 2;
	pr.confirmations = 1;
	assert_int_equal(policy_decide(&p, T0, T0 + 10, &pr).action,
			 POLICY_WAIT);
	pr.confirmations = 2;
	assert_int_equal(policy_decide(&p, T0, T0 + 10, &pr).action,
			 POLICY_DONE);

	/* Per contact: everyone reached so far; require does not count. */
	p.ack = POLICY_ACK_CONTACT;
	pr.confirmations = 5;
	pr.contacts_targeted = 3;
	pr.contacts_confirmed = 2;
	assert_false(policy_confirmed(&p, &pr));
	assert_int_equal(policy_decide(&p, T0, T0 + 10, &pr).action,
			 POLICY_WAIT);
	pr.contacts_confirmed = 3;
	assert_true(policy_confirmed(&p, &pr));
	assert_int_equal(policy_decide(&p, T0, T0 + 10, &pr).action,
			 POLICY_DONE);
	/* Nobody reached yet is not "everyone confirmed". */
	pr.contacts_targeted = 0;
	pr.contacts_confirmed = 0;
	assert_false(policy_confirmed(&p, &pr));
}

static void assert_same_policy(const struct policy *a, const struct policy *b)
{
	assert_string_equal(a->name, b->name);
	assert_int_equal(a->n_steps, b->n_steps);
	for (int i = 0; i < a->n_steps; i++) {
		assert_true(a->steps[i].after == b->steps[i].after);
		assert_int_equal(a->steps[i].roles, b->steps[i].roles);
		assert_int_equal(a->steps[i].channels, b->steps[i].channels);
	}
	assert_int_equal(a->repeat, b->repeat);
	assert_int_equal(a->ack, b->ack);
	assert_int_equal(a->require, b->require);
	assert_true(a->give_up_after == b->give_up_after);
	assert_int_equal(a->holiday_first, b->holiday_first);
}

static void test_json_round_trip(void **state)
{
	struct policy_set set = {0};
	struct policy back, p;
	char *json, *again;

	(void)state;
	load_standard(&set);
	for (size_t i = 0; i < set.n; i++) {
		json = policy_to_json_string(&set.policies[i]);
		assert_non_null(json);
		memset(&back, 0xa5, sizeof(back));
		assert_int_equal(policy_from_json_string(json, &back), 0);
		assert_same_policy(&set.policies[i], &back);
		/* The same bytes again from the copy. */
		again = policy_to_json_string(&back);
		assert_string_equal(json, again);
		free(again);
		free(json);
	}
	policy_set_free(&set);

	/* The exact form, and fractions of seconds survive. */
	policy_default(&p);
	json = policy_to_json_string(&p);
	assert_string_equal(
		json, "{\"ack\":\"organisation\",\"give_up_after\":1800.0,"
		      "\"holiday_first\":\"never\",\"name\":\"default\","
		      "\"repeat\":0,\"require\":1,\"steps\":[{\"after\":0.0,"
		      "\"channels\":[\"mail\",\"voice\",\"sms\",\"fax\","
		      "\"web\"],\"roles\":[\"primary\",\"deputy\"]}],"
		      "\"version\":1}");
	free(json);
	p.steps[0].after = 0.125;
	p.give_up_after = 1234.5;
	json = policy_to_json_string(&p);
	assert_int_equal(policy_from_json_string(json, &back), 0);
	assert_same_policy(&p, &back);
	free(json);
}

static void test_json_rejects(void **state)
{
	static const char *bad[] = {
		"",
		"not json",
		"[]",
		/* version */
		"{\"version\":2,\"name\":\"x\",\"steps\":[{\"after\":0,"
		"\"roles\":[\"primary\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* no steps */
		"{\"version\":1,\"name\":\"x\",\"steps\":[],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* steps out of order */
		"{\"version\":1,\"name\":\"x\",\"steps\":[{\"after\":60,"
		"\"roles\":[\"primary\"],\"channels\":[\"mail\"]},{\"after\":"
		"60,\"roles\":[\"primary\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* unknown role */
		"{\"version\":1,\"name\":\"x\",\"steps\":[{\"after\":0,"
		"\"roles\":[\"boss\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* no channel */
		"{\"version\":1,\"name\":\"x\",\"steps\":[{\"after\":0,"
		"\"roles\":[\"primary\"],\"channels\":[]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* require 0 */
		"{\"version\":1,\"name\":\"x\",\"steps\":[{\"after\":0,"
		"\"roles\":[\"primary\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":0,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* a name that is not one */
		"{\"version\":1,\"name\":\"a b\",\"steps\":[{\"after\":0,"
		"\"roles\":[\"primary\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* a key twice */
		"{\"version\":1,\"name\":\"x\",\"name\":\"y\",\"steps\":[{"
		"\"after\":0,\"roles\":[\"primary\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
		/* ack unknown */
		"{\"version\":1,\"name\":\"x\",\"steps\":[{\"after\":0,"
		"\"roles\":[\"primary\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"all\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}",
	};
	const char *good =
		"{\"version\":1,\"name\":\"x\",\"steps\":[{\"after\":0,"
		"\"roles\":[\"primary\"],\"channels\":[\"mail\"]}],"
		"\"repeat\":0,\"ack\":\"organisation\",\"require\":1,"
		"\"give_up_after\":60,\"holiday_first\":\"calendar\"}";
	struct policy p;

	(void)state;
	memset(&p, 0, sizeof(p));
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (policy_from_json_string(bad[i], &p) != -EINVAL)
			fail_msg("accepted bad snapshot %zu: %s", i, bad[i]);
		assert_int_equal(p.n_steps, 0);
	}
	assert_int_equal(policy_from_json_string(NULL, &p), -EINVAL);
	/* The control: one character away from the bad ones, accepted. */
	assert_int_equal(policy_from_json_string(good, &p), 0);
	assert_string_equal(p.name, "x");
	assert_true(p.give_up_after == 60);
}

static void test_config_errors(void **state)
{
	struct policy_set set = {.n = 42};
	struct diag_list d = {0};

	(void)state;
	assert_int_equal(
		load_buf("policy \"a\" {\n"
			 "  step { after = 10m roles = {\"primary\"} channels "
			 "= {\"mail\"} }\n"
			 "  step { after = 5m roles = {\"primary\"} channels = "
			 "{\"mail\"} }\n"
			 "}\n"
			 "policy \"b\" {\n"
			 "  step { after = 0s roles = {\"chief\"} channels = "
			 "{\"pager\"} }\n"
			 "  repeat = -1\n"
			 "  require = 0\n"
			 "  ack = \"everyone\"\n"
			 "}\n"
			 "policy \"c\" {\n"
			 "}\n"
			 "policy \"d\" {\n"
			 "  step { roles = {\"primary\"} channels = {\"mail\"} "
			 "}\n"
			 "  step { after = soon roles = {\"primary\"} channels "
			 "= {\"mail\"} }\n"
			 "  step { after = 1h channels = {\"mail\"} }\n"
			 "  holiday_first = \"sometimes\"\n"
			 "  give_up_after = 0s\n"
			 "}\n"
			 "policy \"bad name\" {\n"
			 "  step { after = 0s roles = {\"duty\"} channels = "
			 "{\"fax\"} }\n"
			 "}\n"
			 "policy \"fine\" {\n"
			 "  step { after = 0s roles = {\"duty\"} channels = "
			 "{\"fax\"} }\n"
			 "}\n",
			 &set, &d),
		-EINVAL);
	/* Untouched on failure. */
	assert_int_equal(set.n, 42);
	assert_int_equal(d.n, 13);
	assert_string_equal(d.lines[0],
			    "test.conf:3: policy \"a\": step 2: after (300s) "
			    "must be later than the previous step's (600s)");
	assert_string_equal(d.lines[1],
			    "test.conf:6: policy \"b\": step 1: unknown role "
			    "\"chief\" (primary, deputy, holiday, duty)");
	assert_string_equal(d.lines[2],
			    "test.conf:6: policy \"b\": step 1: unknown "
			    "channel \"pager\" (mail, voice, sms, fax, web)");
	/* Section-wide values are placed at the section's closing brace. */
	assert_string_equal(d.lines[3], "test.conf:10: policy \"b\": repeat "
					"must be between 0 and 100, not -1");
	assert_string_equal(d.lines[4],
			    "test.conf:10: policy \"b\": require must be "
			    "between 1 and 1000, not 0");
	assert_string_equal(
		d.lines[5],
		"test.conf:10: policy \"b\": ack must be "
		"\"organisation\" or \"contact\", not \"everyone\"");
	assert_string_equal(d.lines[6], "test.conf:12: policy \"c\": needs 1 "
					"to 16 steps, has 0");
	assert_string_equal(d.lines[7],
			    "test.conf:14: policy \"d\": step 1: after is "
			    "missing (e.g. after = 10m)");
	assert_string_equal(d.lines[8],
			    "test.conf:15: policy \"d\": step 2: after "
			    "\"soon\" is not a duration (e.g. 0s, 10m, 1h)");
	assert_string_equal(d.lines[9],
			    "test.conf:19: policy \"d\": holiday_first must "
			    "be \"calendar\", \"always\" or \"never\", not "
			    "\"sometimes\"");
	assert_string_equal(d.lines[10],
			    "test.conf:16: policy \"d\": step 3: roles must "
			    "name at least one role");
	assert_string_equal(d.lines[11],
			    "test.conf:19: policy \"d\": give_up_after must "
			    "be greater than 0s and at most 366d");
	assert_string_equal(d.lines[12],
			    "test.conf:22: policy \"bad name\": a name is 1 to "
			    "64 letters, digits, '-' or '_'");
	diag_clear(&d);

	/* No policy at all is fine: the engine falls back to the default. */
	assert_int_equal(load_buf("", &set, &d), 0);
	assert_int_equal(set.n, 0);
	assert_null(set.policies);
	assert_int_equal(d.n, 0);
}

static void test_method_allowed(void **state)
{
	struct dir_method m = {.channel = DIR_CHANNEL_MAIL,
			       .max_tlp = TLP_AMBER};

	(void)state;
	assert_true(policy_method_allowed(TLP_CLEAR, &m));
	assert_true(policy_method_allowed(TLP_GREEN, &m));
	assert_true(policy_method_allowed(TLP_AMBER, &m));
	assert_false(policy_method_allowed(TLP_AMBER_STRICT, &m));
	assert_false(policy_method_allowed(TLP_RED, &m));
	m.max_tlp = TLP_RED;
	assert_true(policy_method_allowed(TLP_RED, &m));
	m.max_tlp = TLP_CLEAR;
	assert_false(policy_method_allowed(TLP_GREEN, &m));
}

static void test_holiday_first(void **state)
{
	struct policy p;

	(void)state;
	policy_default(&p);
	/* The built-in default never reorders: the plain engine behaviour. */
	assert_false(policy_holiday_first(&p, CALENDAR_HOLIDAY));
	p.holiday_first = POLICY_HOLIDAY_FIRST_CALENDAR;
	assert_false(policy_holiday_first(&p, CALENDAR_BUSINESS));
	assert_true(policy_holiday_first(&p, CALENDAR_OFF_HOURS));
	assert_true(policy_holiday_first(&p, CALENDAR_HOLIDAY));
	p.holiday_first = POLICY_HOLIDAY_FIRST_ALWAYS;
	assert_true(policy_holiday_first(&p, CALENDAR_BUSINESS));
	p.holiday_first = POLICY_HOLIDAY_FIRST_NEVER;
	assert_false(policy_holiday_first(&p, CALENDAR_HOLIDAY));
}

/*
 * An organisation built by hand: a primary (mail order 2, voice 5), a
 * deputy (mail 1, sms 3), a holiday contact (voice 4, mail 6) and a duty
 * desk (fax 0).
 */
static struct dir_method m_primary[] = {
	{.channel = DIR_CHANNEL_MAIL, .order = 2},
	{.channel = DIR_CHANNEL_VOICE, .order = 5},
};
static struct dir_method m_deputy[] = {
	{.channel = DIR_CHANNEL_MAIL, .order = 1},
	{.channel = DIR_CHANNEL_SMS, .order = 3},
};
static struct dir_method m_holiday[] = {
	{.channel = DIR_CHANNEL_VOICE, .order = 4},
	{.channel = DIR_CHANNEL_MAIL, .order = 6},
};
static struct dir_method m_duty[] = {
	{.channel = DIR_CHANNEL_FAX, .order = 0},
};
static struct dir_contact contacts[] = {
	{.role = DIR_ROLE_PRIMARY, .methods = m_primary, .n_methods = 2},
	{.role = DIR_ROLE_DEPUTY, .methods = m_deputy, .n_methods = 2},
	{.role = DIR_ROLE_HOLIDAY, .methods = m_holiday, .n_methods = 2},
	{.role = DIR_ROLE_DUTY, .methods = m_duty, .n_methods = 1},
};

/* Checks the targets against "c,m c,m ..." and frees them. */
static void assert_targets(struct policy_target *t, size_t n, const char *want)
{
	char got[256] = "";
	size_t len = 0;

	for (size_t i = 0; i < n; i++)
		len += snprintf(got + len, sizeof(got) - len, "%s%zu,%zu",
				i ? " " : "", t[i].contact, t[i].method);
	assert_string_equal(got, want);
	free(t);
}

static void test_step_targets(void **state)
{
	struct dir_org org = {.contacts = contacts, .n_contacts = 4};
	struct policy_step step = {
		.roles = R(PRIMARY) | R(DEPUTY),
		.channels = C(MAIL) | C(VOICE) | C(SMS),
	};
	struct policy_target *t = NULL;
	size_t n = 99;

	(void)state;
	/* By method order across contacts. */
	assert_int_equal(policy_step_targets(&org, &step, false, &t, &n), 0);
	assert_int_equal(n, 4);
	assert_targets(t, n, "1,0 0,0 1,1 0,1");
	/* Off-hours: the holiday contact joins and comes first. */
	assert_int_equal(policy_step_targets(&org, &step, true, &t, &n), 0);
	assert_targets(t, n, "2,0 2,1 1,0 0,0 1,1 0,1");
	/* Channels still filter the holiday contact's methods. */
	step.channels = C(VOICE);
	assert_int_equal(policy_step_targets(&org, &step, true, &t, &n), 0);
	assert_targets(t, n, "2,0 0,1");
	/* Every role, fax only: the duty desk. */
	step.roles = POLICY_ALL_ROLES;
	step.channels = C(FAX);
	assert_int_equal(policy_step_targets(&org, &step, false, &t, &n), 0);
	assert_targets(t, n, "3,0");
	/* Nothing matches: NULL and 0. */
	step.channels = C(WEB);
	t = (struct policy_target *)&n;
	assert_int_equal(policy_step_targets(&org, &step, true, &t, &n), 0);
	assert_null(t);
	assert_int_equal(n, 0);
	/* No holiday contact: holiday_first changes nothing. */
	org.n_contacts = 2;
	step.roles = R(PRIMARY) | R(DEPUTY);
	step.channels = POLICY_ALL_CHANNELS;
	assert_int_equal(policy_step_targets(&org, &step, true, &t, &n), 0);
	assert_targets(t, n, "1,0 0,0 1,1 0,1");
	/* An organisation without contacts. */
	org.n_contacts = 0;
	assert_int_equal(policy_step_targets(&org, &step, true, &t, &n), 0);
	assert_null(t);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_standard_conf),
		cmocka_unit_test(test_schedule_multi_step),
		cmocka_unit_test(test_schedule_one_step),
		cmocka_unit_test(test_decide_on_time),
		cmocka_unit_test(test_decide_after_downtime),
		cmocka_unit_test(test_decide_first_step_later),
		cmocka_unit_test(test_decide_acks),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_json_rejects),
		cmocka_unit_test(test_config_errors),
		cmocka_unit_test(test_method_allowed),
		cmocka_unit_test(test_holiday_first),
		cmocka_unit_test(test_step_targets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
