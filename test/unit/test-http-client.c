/*
 * Unit tests for the pure parts of channels/http_client.c: the address
 * policy on resolved addresses and on URLs as written, and the hiding of
 * secret-looking text in a far side's answer. Nothing here connects.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "channels/http_client.h"

/* http_addr_check() on a literal address. */
static int check(const char *text, enum http_addr_policy policy, char *why)
{
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};

	if (inet_pton(AF_INET, text, &sin.sin_addr) == 1)
		return http_addr_check((struct sockaddr *)&sin, policy, why,
				       200);
	assert_int_equal(inet_pton(AF_INET6, text, &sin6.sin6_addr), 1);
	return http_addr_check((struct sockaddr *)&sin6, policy, why, 200);
}

static void test_addresses(void **state)
{
	static const char *const refused_public[] = {
		"10.1.2.3",	   "172.16.0.1",      "172.31.255.255",
		"192.168.1.1",	   "169.254.169.254", "100.64.0.1",
		"fe80::1",	   "fd00::1",	      "::ffff:169.254.169.254",
		"::ffff:10.0.0.1", "64:ff9b::a00:1",
	};
	static const char *const refused_always[] = {
		"0.0.0.0", "0.1.2.3", "224.0.0.1",	"255.255.255.255",
		"::",	   "ff02::1", "::ffff:0.0.0.0",
	};
	static const char *const allowed[] = {
		"127.0.0.1",	  "127.8.9.10", "::1",
		"93.184.216.34",  "172.32.0.1", "2001:db8::1",
		"::ffff:8.8.8.8",
	};
	char why[200];

	(void)state;
	for (size_t i = 0; i < sizeof(refused_public) / sizeof(char *); i++) {
		why[0] = '\0';
		assert_int_equal(
			check(refused_public[i], HTTP_ADDR_PUBLIC, why),
			-EACCES);
		assert_non_null(strstr(why, "refused to connect"));
		assert_int_equal(
			check(refused_public[i], HTTP_ADDR_PRIVATE_OK, why), 0);
	}
	for (size_t i = 0; i < sizeof(refused_always) / sizeof(char *); i++) {
		assert_int_equal(
			check(refused_always[i], HTTP_ADDR_PUBLIC, why),
			-EACCES);
		assert_int_equal(
			check(refused_always[i], HTTP_ADDR_PRIVATE_OK, why),
			-EACCES);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(char *); i++)
		assert_int_equal(check(allowed[i], HTTP_ADDR_PUBLIC, why), 0);
	check("169.254.169.254", HTTP_ADDR_PUBLIC, why);
	assert_non_null(strstr(why, "link-local"));
	check("10.0.0.1", HTTP_ADDR_PUBLIC, why);
	assert_non_null(strstr(why, "allow_private = true"));
}

/* Loopback written as a number in disguise, and literals in URLs. */
static void test_urls(void **state)
{
	static const char *const disguised[] = {
		"http://2130706433/",
		"http://0x7f000001/",
		"http://0177.0.0.1:8080/",
		"http://127.1/",
		"http://0/",
		"https://u:p@0x7f.1/x",
		"http://017700000001/",
		"http://127.0.0.01/",
	};
	char why[200];

	(void)state;
	for (size_t i = 0; i < sizeof(disguised) / sizeof(char *); i++) {
		why[0] = '\0';
		assert_int_equal(http_url_check(disguised[i],
						HTTP_ADDR_PRIVATE_OK, why,
						sizeof(why)),
				 -EACCES);
		assert_non_null(strstr(why, "non-standard numeric form"));
	}
	assert_int_equal(http_url_check("http://169.254.169.254/latest/",
					HTTP_ADDR_PUBLIC, why, sizeof(why)),
			 -EACCES);
	assert_int_equal(http_url_check("http://[fe80::1]:80/",
					HTTP_ADDR_PUBLIC, why, sizeof(why)),
			 -EACCES);
	assert_int_equal(http_url_check("http://0.0.0.0:80/",
					HTTP_ADDR_PRIVATE_OK, why, sizeof(why)),
			 -EACCES);
	/* Names are judged when they resolve; standard literals pass. */
	assert_int_equal(http_url_check("https://hooks.example.jp/a",
					HTTP_ADDR_PUBLIC, why, sizeof(why)),
			 0);
	assert_int_equal(http_url_check("https://1e100.net/", HTTP_ADDR_PUBLIC,
					why, sizeof(why)),
			 0);
	assert_int_equal(http_url_check("http://127.0.0.1:8080/ok",
					HTTP_ADDR_PUBLIC, why, sizeof(why)),
			 0);
	assert_int_equal(http_url_check("http://[::1]:8080/ok",
					HTTP_ADDR_PUBLIC, why, sizeof(why)),
			 0);
}

static void test_redact(void **state)
{
	char s[512];

	(void)state;
	strcpy(s, "db password=hunter2-Secret failed");
	http_redact_secrets(s);
	assert_string_equal(s, "db password=[hidden] failed");
	strcpy(s, "{\"token\": \"abc\", \"ok\": 1}");
	http_redact_secrets(s);
	assert_string_equal(s, "{\"token\": \"***\", \"ok\": 1}");
	strcpy(s, "Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.x");
	http_redact_secrets(s);
	assert_string_equal(s, "Authorization: Bearer [hidden]");
	strcpy(s, "id 3f9a8c1d2e7b4a6f9c0d1e2f3a4b5c6d here");
	http_redact_secrets(s);
	assert_string_equal(s, "id [hidden] here");
	/* Ordinary words and short numbers stay. */
	strcpy(s, "HTTP 500 Internal Server Error: internationalization "
		  "failed at 2024-05-01, keyboard layout");
	http_redact_secrets(s);
	assert_string_equal(s, "HTTP 500 Internal Server Error: "
			       "internationalization failed at 2024-05-01, "
			       "keyboard layout");
	strcpy(s, "");
	http_redact_secrets(s);
	assert_string_equal(s, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_redact),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
