/*
 * Unit tests for channels/twilio_sign.c: the X-Twilio-Signature of a
 * gateway callback against the vector in STANDARDS.md, its independence
 * from the order the parameters came in, and the refusals: a changed
 * parameter, URL or token, a missing or malformed signature.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "channels/twilio_sign.h"

static const char *vec_url = "https://mycompany.com/myapp.php?foo=1&bar=2";
static const char *vec_sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";

static void test_vector(void **state)
{
	const char *names[] = {"CallSid", "Caller", "Digits", "From", "To"};
	const char *values[] = {"CA1234567890ABCDE", "+14158675309", "1234",
				"+14158675309", "+18005551212"};
	char sig[TWILIO_SIGNATURE_SIZE];

	(void)state;
	assert_int_equal(twilio_sign("12345", vec_url, names, values, 5, sig),
			 0);
	assert_string_equal(sig, vec_sig);
	assert_true(twilio_verify("12345", vec_url, names, values, 5, vec_sig));
}

static void test_order_does_not_matter(void **state)
{
	/* The gateway posts in its own order; the signature sorts. */
	const char *names[] = {"To", "Digits", "CallSid", "From", "Caller"};
	const char *values[] = {"+18005551212", "1234", "CA1234567890ABCDE",
				"+14158675309", "+14158675309"};

	(void)state;
	assert_true(twilio_verify("12345", vec_url, names, values, 5, vec_sig));
}

static void test_refusals(void **state)
{
	const char *names[] = {"CallSid", "Caller", "Digits", "From", "To"};
	const char *values[] = {"CA1234567890ABCDE", "+14158675309", "1",
				"+14158675309", "+18005551212"};

	(void)state;
	/* Digits changed from 1234 to 1: a forged keypress. */
	assert_false(
		twilio_verify("12345", vec_url, names, values, 5, vec_sig));
	values[2] = "1234";
	assert_false(
		twilio_verify("12346", vec_url, names, values, 5, vec_sig));
	assert_false(twilio_verify("12345",
				   "https://mycompany.com/myapp.php?foo=1",
				   names, values, 5, vec_sig));
	/* A parameter dropped. */
	assert_false(
		twilio_verify("12345", vec_url, names, values, 4, vec_sig));
	assert_false(twilio_verify("12345", vec_url, names, values, 5, NULL));
	assert_false(twilio_verify("12345", vec_url, names, values, 5, ""));
	assert_false(twilio_verify("12345", vec_url, names, values, 5,
				   "RSOYDt4T1cUTdK1PDd93/VVr8B8=x"));
	assert_false(twilio_verify("12345", vec_url, names, values, 5,
				   "RSOYDt4T1cUTdK1PDd93/VVr8B9="));
}

static void test_no_params(void **state)
{
	char a[TWILIO_SIGNATURE_SIZE], b[TWILIO_SIGNATURE_SIZE];

	(void)state;
	assert_int_equal(
		twilio_sign("t", "http://127.0.0.1/x", NULL, NULL, 0, a), 0);
	assert_int_equal(
		twilio_sign("t", "http://127.0.0.1/y", NULL, NULL, 0, b), 0);
	assert_string_not_equal(a, b);
	assert_true(twilio_verify("t", "http://127.0.0.1/x", NULL, NULL, 0, a));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vector),
		cmocka_unit_test(test_order_does_not_matter),
		cmocka_unit_test(test_refusals),
		cmocka_unit_test(test_no_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
