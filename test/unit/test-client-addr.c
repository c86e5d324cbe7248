/*
 * Unit tests for dispatcher/http/client_addr.c: the trusted-proxy list
 * and the client address read from Forwarded and X-Forwarded-For.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "dispatcher/http/client_addr.h"

static void test_nets_parse_and_match(void **state)
{
	const char *items[] = {"127.0.0.1", "10.0.0.0/8", "2001:db8::/32",
			       "192.0.2.128/25"};
	const char *bad_items[] = {"10.0.0.0/33"};
	const char *bad = NULL;
	struct addr_nets n;

	(void)state;
	assert_int_equal(addr_nets_parse(items, 4, &n, &bad), 0);
	assert_true(addr_nets_match(&n, "127.0.0.1"));
	assert_true(addr_nets_match(&n, "::ffff:127.0.0.1"));
	assert_false(addr_nets_match(&n, "127.0.0.2"));
	assert_true(addr_nets_match(&n, "10.200.3.4"));
	assert_false(addr_nets_match(&n, "11.0.0.1"));
	assert_true(addr_nets_match(&n, "2001:db8:1::5"));
	assert_false(addr_nets_match(&n, "2001:db9::5"));
	assert_true(addr_nets_match(&n, "192.0.2.200"));
	assert_false(addr_nets_match(&n, "192.0.2.127"));
	assert_false(addr_nets_match(&n, "junk"));
	addr_nets_free(&n);
	assert_int_equal(addr_nets_parse(bad_items, 1, &n, &bad), -22);
	assert_string_equal(bad, "10.0.0.0/33");
}

static void test_client_behind_proxies(void **state)
{
	const char *items[] = {"127.0.0.1", "10.0.0.0/8"};
	struct addr_nets n;
	char out[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(addr_nets_parse(items, 2, &n, NULL), 0);
	/* An untrusted peer's headers are anybody's words. */
	client_address(&n, "198.51.100.1", NULL, "203.0.113.9", out);
	assert_string_equal(out, "198.51.100.1");
	/* Trusted: the nearest hop that is not a proxy of ours. */
	client_address(&n, "127.0.0.1", NULL, "203.0.113.9", out);
	assert_string_equal(out, "203.0.113.9");
	client_address(&n, "127.0.0.1", NULL, "1.2.3.4, 203.0.113.9, 10.1.1.1",
		       out);
	assert_string_equal(out, "203.0.113.9");
	/* Junk ends the walk at the last hop that could be read. */
	client_address(&n, "127.0.0.1", NULL, "203.0.113.9, junk, 10.1.1.1",
		       out);
	assert_string_equal(out, "10.1.1.1");
	client_address(&n, "127.0.0.1", NULL, "", out);
	assert_string_equal(out, "127.0.0.1");
	/* Forwarded, with quotes, brackets and ports. */
	client_address(&n, "127.0.0.1",
		       "for=192.0.2.60;proto=http;by=10.0.0.1, "
		       "for=\"[2001:db8:cafe::17]:4711\"",
		       "1.1.1.1", out);
	assert_string_equal(out, "2001:db8:cafe::17");
	client_address(&n, "127.0.0.1", "For=198.51.100.3:1234", NULL, out);
	assert_string_equal(out, "198.51.100.3");
	/* No proxies configured: the peer, whatever it says. */
	addr_nets_free(&n);
	client_address(&n, "::ffff:127.0.0.1", NULL, "203.0.113.9", out);
	assert_string_equal(out, "127.0.0.1");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nets_parse_and_match),
		cmocka_unit_test(test_client_behind_proxies),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
