/*
 * Unit tests for dispatcher/http/ratelimit.c: token buckets per address on a
 * clock the test moves by hand, IPv6 counted per /64, and a table that
 * never grows past its bound.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "dispatcher/http/ratelimit.h"

static void test_unlimited(void **state)
{
	struct ratelimit *rl;

	(void)state;
	assert_int_equal(ratelimit_new(4, &rl), 0);
	ratelimit_set(rl, 0, 0);
	for (int i = 0; i < 1000; i++)
		assert_true(ratelimit_take(rl, "192.0.2.1", 0, NULL));
	/* Nothing is even remembered. */
	assert_int_equal(ratelimit_count(rl), 0);
	ratelimit_free(rl);
	ratelimit_free(NULL);
}

static void test_bucket(void **state)
{
	struct ratelimit *rl;
	unsigned retry = 0;

	(void)state;
	assert_int_equal(ratelimit_new(16, &rl), 0);
	ratelimit_set(rl, 2, 4); /* 2 a second, burst 4 */
	for (int i = 0; i < 4; i++)
		assert_true(ratelimit_take(rl, "192.0.2.1", 1000, &retry));
	assert_false(ratelimit_take(rl, "192.0.2.1", 1000, &retry));
	assert_int_equal(retry, 1);
	/* Another address has its own bucket. */
	assert_true(ratelimit_take(rl, "192.0.2.2", 1000, NULL));
	/* Half a second later: one token back, and only one. */
	assert_true(ratelimit_take(rl, "192.0.2.1", 1500, NULL));
	assert_false(ratelimit_take(rl, "192.0.2.1", 1500, NULL));
	/* A long idle time refills to the burst, not beyond. */
	for (int i = 0; i < 4; i++)
		assert_true(ratelimit_take(rl, "192.0.2.1", 60000, NULL));
	assert_false(ratelimit_take(rl, "192.0.2.1", 60000, NULL));
	/* A clock that goes back gives nothing. */
	assert_false(ratelimit_take(rl, "192.0.2.1", 50000, NULL));
	ratelimit_free(rl);
}

static void test_retry_after(void **state)
{
	struct ratelimit *rl;
	unsigned retry = 0;

	(void)state;
	assert_int_equal(ratelimit_new(16, &rl), 0);
	ratelimit_set(rl, 0.1, 1); /* one every ten seconds */
	assert_true(ratelimit_take(rl, "192.0.2.9", 0, &retry));
	assert_false(ratelimit_take(rl, "192.0.2.9", 0, &retry));
	assert_int_equal(retry, 10);
	assert_false(ratelimit_take(rl, "192.0.2.9", 7000, &retry));
	assert_int_equal(retry, 3);
	ratelimit_free(rl);
}

static void test_ipv6_per_64(void **state)
{
	struct ratelimit *rl;

	(void)state;
	assert_int_equal(ratelimit_new(16, &rl), 0);
	ratelimit_set(rl, 1, 2);
	assert_true(ratelimit_take(rl, "2001:db8:1:2::1", 0, NULL));
	assert_true(ratelimit_take(rl, "2001:db8:1:2:ffff::9", 0, NULL));
	/* Same /64, whatever the host part. */
	assert_false(ratelimit_take(rl, "2001:db8:1:2:abcd::5", 0, NULL));
	/* The next /64 is someone else. */
	assert_true(ratelimit_take(rl, "2001:db8:1:3::1", 0, NULL));
	/* An IPv4 address and its v4-mapped form are one host. */
	assert_true(ratelimit_take(rl, "198.51.100.7", 0, NULL));
	assert_true(ratelimit_take(rl, "::ffff:198.51.100.7", 0, NULL));
	assert_false(ratelimit_take(rl, "198.51.100.7", 0, NULL));
	/* ...but its IPv4 neighbour is not. */
	assert_true(ratelimit_take(rl, "198.51.100.8", 0, NULL));
	assert_int_equal(ratelimit_count(rl), 4);
	ratelimit_free(rl);
}

static void test_bounded_table(void **state)
{
	struct ratelimit *rl;
	char addr[32];

	(void)state;
	assert_int_equal(ratelimit_new(8, &rl), 0);
	ratelimit_set(rl, 1, 1);
	/* The first address is used up... */
	assert_true(ratelimit_take(rl, "10.0.0.1", 0, NULL));
	assert_false(ratelimit_take(rl, "10.0.0.1", 0, NULL));
	/* ...then a thousand others pass through a table of eight. */
	for (int i = 0; i < 1000; i++) {
		snprintf(addr, sizeof(addr), "10.1.%d.%d", i / 256, i % 256);
		assert_true(ratelimit_take(rl, addr, 10, NULL));
		assert_true(ratelimit_count(rl) <= 8);
	}
	assert_int_equal(ratelimit_count(rl), 8);
	/* The most recent ones are still remembered and still limited. */
	assert_false(ratelimit_take(rl, addr, 10, NULL));
	/* The least recent was forgotten: a fresh bucket. */
	assert_true(ratelimit_take(rl, "10.0.0.1", 10, NULL));
	ratelimit_free(rl);
	assert_int_equal(ratelimit_new(0, &rl), -EINVAL);
}

static void test_unparsable_shares_one_bucket(void **state)
{
	struct ratelimit *rl;

	(void)state;
	assert_int_equal(ratelimit_new(8, &rl), 0);
	ratelimit_set(rl, 1, 1);
	assert_true(ratelimit_take(rl, "unknown", 0, NULL));
	assert_false(ratelimit_take(rl, "not an address", 0, NULL));
	assert_false(ratelimit_take(rl, NULL, 0, NULL));
	ratelimit_free(rl);
}

/* Buckets keyed by any 16 bytes: one key, one bucket, apart from others. */
static void test_keyed_buckets(void **state)
{
	struct ratelimit *rl;
	uint8_t a[16] = {1}, b[16] = {2};

	(void)state;
	assert_int_equal(ratelimit_new(8, &rl), 0);
	ratelimit_set(rl, 1, 2);
	assert_true(ratelimit_take_key(rl, a, 0, NULL));
	assert_true(ratelimit_take_key(rl, a, 0, NULL));
	assert_false(ratelimit_take_key(rl, a, 0, NULL));
	assert_true(ratelimit_take_key(rl, b, 0, NULL));
	assert_true(ratelimit_take_key(rl, a, 1000, NULL));
	ratelimit_free(rl);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlimited),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_retry_after),
		cmocka_unit_test(test_ipv6_per_64),
		cmocka_unit_test(test_bounded_table),
		cmocka_unit_test(test_unparsable_shares_one_bucket),
		cmocka_unit_test(test_keyed_buckets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
