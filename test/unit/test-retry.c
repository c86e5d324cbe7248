/*
 * Unit tests for policies/retry.c: the duration parser, the `retry`
 * section with its FILE:LINE errors, and the back-off schedule with its
 * jitter bounds, cap and Retry-After floor.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <confuse.h>

#include "common/diag.h"
#include "policies/retry.h"

/* Durations compared to the millisecond. */
#define assert_seconds(a, b) assert_true((a) > (b)-0.0005 && (a) < (b) + 0.0005)

static void test_duration_parse(void **state)
{
	double s = -1;

	(void)state;
	assert_int_equal(policy_parse_duration("2s", &s), 0);
	assert_seconds(s, 2);
	assert_int_equal(policy_parse_duration("5m", &s), 0);
	assert_seconds(s, 300);
	assert_int_equal(policy_parse_duration("1h", &s), 0);
	assert_seconds(s, 3600);
	assert_int_equal(policy_parse_duration("30", &s), 0);
	assert_seconds(s, 30);
	assert_int_equal(policy_parse_duration("500ms", &s), 0);
	assert_seconds(s, 0.5);
	assert_int_equal(policy_parse_duration("1h30m", &s), 0);
	assert_seconds(s, 5400);
	assert_int_equal(policy_parse_duration("1.5m", &s), 0);
	assert_seconds(s, 90);
	assert_int_equal(policy_parse_duration("2d", &s), 0);
	assert_seconds(s, 172800);
	assert_int_equal(policy_parse_duration("0s", &s), 0);
	assert_seconds(s, 0);
	assert_int_equal(policy_parse_duration("0", &s), 0);
	assert_seconds(s, 0);

	/* Refused, and *ret left alone. */
	s = 42;
	assert_int_equal(policy_parse_duration("", &s), -EINVAL);
	assert_int_equal(policy_parse_duration(NULL, &s), -EINVAL);
	assert_int_equal(policy_parse_duration("-2s", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("+2s", &s), -EINVAL);
	assert_int_equal(policy_parse_duration(" 2s", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("2 s", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("2x", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("s", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("1.s", &s), -EINVAL);
	assert_int_equal(policy_parse_duration(".5s", &s), 0);
	assert_seconds(s, 0.5);
	s = 42;
	assert_int_equal(policy_parse_duration("1h30", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("inf", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("nan", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("0x10", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("400d", &s), -EINVAL);
	assert_int_equal(policy_parse_duration("99999999999999999999", &s),
			 -EINVAL);
	assert_seconds(s, 42);
}

/* A root with one channel section holding a retry section, as the engine
 * embeds it. */
static cfg_opt_t channel_opts[] = {
	RETRY_CFG_SEC(CFGF_NONE),
	CFG_END(),
};
static cfg_opt_t root_opts[] = {
	CFG_SEC("channel", channel_opts, CFGF_MULTI | CFGF_TITLE),
	CFG_END(),
};

static cfg_t *parse(const char *text)
{
	cfg_t *cfg = cfg_init(root_opts, CFGF_NONE);

	assert_non_null(cfg);
	assert_int_equal(cfg_parse_buf(cfg, text), CFG_SUCCESS);
	return cfg;
}

static void test_retry_section(void **state)
{
	struct diag_list d = {0};
	struct retry_policy p;
	cfg_t *cfg;

	(void)state;
	cfg = parse("channel \"mail\" {\n"
		    "  retry { max_attempts = 7 initial_delay = 500ms\n"
		    "          multiplier = 3 max_delay = 1h jitter = 0 }\n"
		    "}\n"
		    "channel \"sms\" {\n"
		    "}\n");
	memset(&p, 0, sizeof(p));
	assert_int_equal(
		retry_policy_from_cfg(
			cfg_getsec(cfg_getnsec(cfg, "channel", 0), "retry"), &p,
			"x.conf", &d),
		0);
	assert_int_equal(d.n, 0);
	assert_int_equal(p.max_attempts, 7);
	assert_seconds(p.initial_delay, 0.5);
	assert_seconds(p.multiplier, 3);
	assert_seconds(p.max_delay, 3600);
	assert_seconds(p.jitter, 0);

	/* No retry section written: the defaults. */
	memset(&p, 0, sizeof(p));
	assert_int_equal(
		retry_policy_from_cfg(
			cfg_getsec(cfg_getnsec(cfg, "channel", 1), "retry"), &p,
			"x.conf", &d),
		0);
	assert_int_equal(p.max_attempts, 5);
	assert_seconds(p.initial_delay, 2);
	assert_seconds(p.multiplier, 2);
	assert_seconds(p.max_delay, 300);
	assert_seconds(p.jitter, 0.2);
	memset(&p, 0, sizeof(p));
	assert_int_equal(retry_policy_from_cfg(NULL, &p, "x.conf", &d), 0);
	assert_int_equal(p.max_attempts, 5);
	cfg_free(cfg);
	diag_clear(&d);
}

static void test_retry_section_errors(void **state)
{
	struct diag_list d = {0};
	struct retry_policy p = {.max_attempts = 99};
	cfg_t *cfg;

	(void)state;
	cfg = parse("channel \"voice\" {\n"
		    "  retry {\n"
		    "    max_attempts = 0\n"
		    "    initial_delay = 2x\n"
		    "    multiplier = 0.5\n"
		    "    max_delay = 0s\n"
		    "    jitter = 1\n"
		    "  }\n"
		    "}\n");
	assert_int_equal(
		retry_policy_from_cfg(
			cfg_getsec(cfg_getnsec(cfg, "channel", 0), "retry"), &p,
			"pocalert.conf", &d),
		-EINVAL);
	/* Untouched on failure. */
	assert_int_equal(p.max_attempts, 99);
	assert_int_equal(d.n, 5);
	/* libconfuse records a section at its closing brace, line 8. */
	assert_string_equal(d.lines[0],
			    "pocalert.conf:8: retry: max_attempts must be "
			    "between 1 and 1000, not 0");
	assert_string_equal(
		d.lines[1],
		"pocalert.conf:8: retry: initial_delay \"2x\" is not "
		"a duration (e.g. 2s, 5m, 1h)");
	assert_string_equal(d.lines[2], "pocalert.conf:8: retry: max_delay "
					"must be greater than 0");
	assert_string_equal(d.lines[3], "pocalert.conf:8: retry: multiplier "
					"must be between 1 and 100, not 0.5");
	assert_string_equal(d.lines[4], "pocalert.conf:8: retry: jitter must "
					"be at least 0 and below 1, not 1");
	cfg_free(cfg);
	diag_clear(&d);
}

static void test_delay_schedule(void **state)
{
	struct retry_policy p;

	(void)state;
	retry_policy_default(&p);
	/* random01 = 0.5 is the unjittered value: 2, 4, 8, ... 256, 300. */
	assert_seconds(retry_delay(&p, 0, 0.5, -1), 0);
	assert_seconds(retry_delay(&p, 1, 0.5, -1), 2);
	assert_seconds(retry_delay(&p, 2, 0.5, -1), 4);
	assert_seconds(retry_delay(&p, 3, 0.5, -1), 8);
	assert_seconds(retry_delay(&p, 4, 0.5, -1), 16);
	assert_seconds(retry_delay(&p, 8, 0.5, -1), 256);
	assert_seconds(retry_delay(&p, 9, 0.5, -1), 300);
	assert_seconds(retry_delay(&p, 1000000, 0.5, -1), 300);

	/* A multiplier of 1 is a constant interval. */
	p.multiplier = 1;
	assert_seconds(retry_delay(&p, 1, 0.5, -1), 2);
	assert_seconds(retry_delay(&p, 50, 0.5, -1), 2);
}

static void test_delay_jitter_bounds(void **state)
{
	struct retry_policy p;

	(void)state;
	retry_policy_default(&p); /* jitter 0.2 */
	/* The ends of the range: -20% and (nearly) +20%. */
	assert_seconds(retry_delay(&p, 3, 0.0, -1), 6.4);
	assert_seconds(retry_delay(&p, 3, 0.75, -1), 8.8);
	assert_true(retry_delay(&p, 3, 0.999999, -1) < 9.6);
	assert_true(retry_delay(&p, 3, 0.999999, -1) > 9.59);
	/* Every draw stays in [0.8 d, 1.2 d), cap included. */
	for (int i = 0; i < 1000; i++) {
		double r = i / 1000.0;
		double d4 = retry_delay(&p, 4, r, -1);
		double dcap = retry_delay(&p, 20, r, -1);

		assert_true(d4 >= 12.8 - 1e-9 && d4 < 19.2);
		assert_true(dcap >= 240 - 1e-9 && dcap < 360);
	}
	/* Out-of-range randomness is clamped, never amplified. */
	assert_seconds(retry_delay(&p, 1, -5, -1), 1.6);
	assert_seconds(retry_delay(&p, 1, 7, -1), 2.4);
	/* No jitter: the exact schedule whatever the draw. */
	p.jitter = 0;
	assert_seconds(retry_delay(&p, 2, 0.0, -1), 4);
	assert_seconds(retry_delay(&p, 2, 0.9, -1), 4);
}

static void test_delay_retry_after(void **state)
{
	struct retry_policy p;

	(void)state;
	retry_policy_default(&p);
	/* The far side asks for longer: honoured. */
	assert_seconds(retry_delay(&p, 1, 0.5, 120), 120);
	/* It asks for less than our schedule: ours stands. */
	assert_seconds(retry_delay(&p, 3, 0.5, 1), 8);
	/* Retry-After: 0 is "now", still no earlier than our own wait. */
	assert_seconds(retry_delay(&p, 2, 0.5, 0), 4);
	/* It also lifts a jittered-down value. */
	assert_seconds(retry_delay(&p, 3, 0.0, 7), 7);
	/*
	 * Above the channel's cap it is held to the cap: a receiver's
	 * Retry-After of 68 years must not park the delivery past the
	 * policy's horizon (main waited until 2094).
	 */
	assert_seconds(retry_delay(&p, 20, 0.5, 900), 300);
	assert_seconds(retry_delay(&p, 1, 0.5, 2147483647), 300);
	assert_true(retry_delay(&p, 20, 0.99, 2147483647) <= 300 * 1.2);
}

/* Every wait, Retry-After included, fits in the horizon. */
static void test_horizon_bounds_every_schedule(void **state)
{
	struct retry_policy p;
	double total;

	(void)state;
	retry_policy_default(&p);
	/* 2, 4, 8, 16 jittered up by 20 %, each at least the 300 s cap. */
	assert_seconds(retry_horizon(&p), 4 * 300);
	p.max_delay = 3600;
	assert_seconds(retry_horizon(&p), 4 * 3600);
	/* Steps jittered above the cap count as they are (8 and 10 by 1.5). */
	p.max_delay = 10;
	p.jitter = 0.5;
	assert_seconds(retry_horizon(&p), 10 + 10 + 12 + 15);
	for (int ra = -1; ra <= 1 << 30; ra = ra < 1 ? ra + 1 : ra * 7) {
		total = 0;
		for (int n = 1; n < p.max_attempts; n++)
			total += retry_delay(&p, n, 0.999, ra);
		assert_true(total <= retry_horizon(&p) + 1e-6);
	}
	p.max_attempts = 1;
	assert_seconds(retry_horizon(&p), 0);
}

static void test_exhausted(void **state)
{
	struct retry_policy p;

	(void)state;
	retry_policy_default(&p);
	assert_false(retry_exhausted(&p, 0));
	assert_false(retry_exhausted(&p, 4));
	assert_true(retry_exhausted(&p, 5));
	assert_true(retry_exhausted(&p, 6));
	p.max_attempts = 1;
	assert_false(retry_exhausted(&p, 0));
	assert_true(retry_exhausted(&p, 1));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_retry_section),
		cmocka_unit_test(test_retry_section_errors),
		cmocka_unit_test(test_delay_schedule),
		cmocka_unit_test(test_delay_jitter_bounds),
		cmocka_unit_test(test_delay_retry_after),
		cmocka_unit_test(test_horizon_bounds_every_schedule),
		cmocka_unit_test(test_exhausted),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
