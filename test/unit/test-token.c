/*
 * Unit tests for the reply-link tokens of dispatcher/engine/token.c
 * (token_make): 32 characters of lower-case base32; the same ids and key
 * give the same token (links are rebuilt for every step and after a
 * restart); different ids or another key give another; the ids are kept
 * apart (moving text between them changes the token); and one token
 * pinned to the documented construction, HMAC-SHA256 over
 * "ack\0ALERT\0ORG\0CONTACT" truncated to 160 bits, computed outside
 * pocalert: links already mailed must keep working after an upgrade.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "dispatcher/engine/token.h"

static struct engine *engine_with_key(uint8_t first)
{
	struct engine *e = calloc(1, sizeof(*e));

	assert_non_null(e);
	for (size_t i = 0; i < sizeof(e->ack_key); i++)
		e->ack_key[i] = (uint8_t)(first + i);
	return e;
}

static void test_pinned_token(void **state)
{
	struct engine *e = engine_with_key(0);
	char tok[33];

	(void)state;
	/* Python: base64.b32encode(hmac(bytes(range(32)), msg)[:20]).lower() */
	token_make(e, "20261124-0a1b2c3d", "water-a", "desk", tok);
	assert_string_equal(tok, "4jx2g2yo67q7d56337i47bgibgo66ke2");
	free(e);
}

static void test_shape_and_stability(void **state)
{
	struct engine *e = engine_with_key(7);
	char a[33], b[33];

	(void)state;
	token_make(e, "A-1", "org-a", "c1", a);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "abcdefghijklmnopqrstuvwxyz234567"), 32);
	token_make(e, "A-1", "org-a", "c1", b);
	assert_string_equal(a, b);
	free(e);
}

static void test_every_id_and_the_key_count(void **state)
{
	struct engine *e = engine_with_key(7), *other = engine_with_key(8);
	char base[33], t[33];

	(void)state;
	token_make(e, "A-1", "org-a", "c1", base);
	token_make(e, "A-2", "org-a", "c1", t);
	assert_string_not_equal(base, t);
	token_make(e, "A-1", "org-b", "c1", t);
	assert_string_not_equal(base, t);
	token_make(e, "A-1", "org-a", "c2", t);
	assert_string_not_equal(base, t);
	token_make(other, "A-1", "org-a", "c1", t);
	assert_string_not_equal(base, t);
	/* Text moved from one id to the next is another contact. */
	token_make(e, "A-1", "org-ac", "1", t);
	assert_string_not_equal(base, t);
	token_make(e, "A-1org-a", "", "c1", t);
	assert_string_not_equal(base, t);
	free(e);
	free(other);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pinned_token),
		cmocka_unit_test(test_shape_and_stability),
		cmocka_unit_test(test_every_id_and_the_key_count),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
