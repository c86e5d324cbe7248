/*
 * Unit tests for dispatcher/engine/alert.c: every rule of a good alert, and the
 * exact field and HTTP status each bad input is answered with, since
 * that is what an operator's script sees from the API.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "common/utf8.h"
#include "dispatcher/engine/alert.h"

static const char base_alert[] =
	"{\"title\": \"不正アクセスの注意喚起\","
	" \"body\": \"詳細は添付を参照。\\n以上\","
	" \"type\": \"early-warning\", \"severity\": \"high\","
	" \"tlp\": \"AMBER\", \"targets\": [\"sector:electricity\"]}";

/*
 * Parses the base alert with field set to value (JSON text), or removed
 * when value is NULL. Returns what alert_input_from_json() returned; a
 * successful input is freed, unless ret is given.
 */
static int try_field(const char *field, const char *value,
		     struct alert_error *err, struct alert_input *ret)
{
	struct alert_input in = {0};
	json_t *root = json_loads(base_alert, 0, NULL);
	char *text;
	int r;

	assert_non_null(root);
	if (value == NULL) {
		json_object_del(root, field);
	} else {
		json_t *v = json_loads(value, JSON_DECODE_ANY | JSON_ALLOW_NUL,
				       NULL);

		assert_non_null(v);
		json_object_set_new(root, field, v);
	}
	text = json_dumps(root, JSON_COMPACT);
	assert_non_null(text);
	memset(err, 0, sizeof(*err));
	r = alert_input_from_json(text, strlen(text), &in, err);
	free(text);
	json_decref(root);
	if (r == 0 && ret != NULL)
		*ret = in;
	else
		alert_input_free(&in);
	return r;
}

/* Expects the base alert with field=value to be refused with status and ef. */
static void expect_refused(const char *field, const char *value, int status,
			   const char *ef)
{
	struct alert_error err;

	assert_int_equal(try_field(field, value, &err, NULL), -EINVAL);
	assert_int_equal(err.http_status, status);
	assert_string_equal(err.field, ef);
	assert_true(err.message[0] != '\0');
}

static void expect_accepted(const char *field, const char *value)
{
	struct alert_error err;

	assert_int_equal(try_field(field, value, &err, NULL), 0);
}

/* A JSON string of n copies of s. */
static char *repeat_json(const char *s, size_t n)
{
	size_t len = strlen(s);
	char *out = malloc(n * len + 3), *p = out;

	assert_non_null(out);
	*p++ = '"';
	for (size_t i = 0; i < n; i++, p += len)
		memcpy(p, s, len);
	*p++ = '"';
	*p = '\0';
	return out;
}

static void test_valid_alert(void **state)
{
	struct alert_input in = {0};
	struct alert_error err;

	(void)state;
	assert_int_equal(try_field("drill", NULL, &err, &in), 0);
	assert_string_equal(in.title, "不正アクセスの注意喚起");
	assert_string_equal(in.body, "詳細は添付を参照。\n以上");
	assert_string_equal(in.type, "early-warning");
	assert_string_equal(in.severity, "high");
	assert_int_equal(in.tlp, TLP_AMBER);
	assert_false(in.drill);
	assert_int_equal(in.n_targets, 1);
	assert_string_equal(in.targets[0], "sector:electricity");
	assert_null(in.policy);
	assert_null(in.mode);
	alert_input_free(&in);
	/* Freed inputs are zeroed: freeing twice is harmless. */
	alert_input_free(&in);
	alert_input_free(NULL);
}

static void test_optional_fields(void **state)
{
	static const char full[] =
		"{\"title\": \"t\", \"body\": \"\", \"type\": \"incident\","
		" \"severity\": \"critical\", \"tlp\": \"TLP:AMBER+STRICT\","
		" \"targets\": [\"all\", \"org:jp-0001\", \"sector:情報通信\"],"
		" \"drill\": true, \"policy\": \"critical-infra\","
		" \"mode\": \"large-scale\"}";
	struct alert_input in = {0};
	struct alert_error err = {0};

	(void)state;
	assert_int_equal(alert_input_from_json(full, strlen(full), &in, &err),
			 0);
	assert_int_equal(in.tlp, TLP_AMBER_STRICT);
	assert_true(in.drill);
	assert_int_equal(in.n_targets, 3);
	assert_string_equal(in.targets[2], "sector:情報通信");
	assert_string_equal(in.policy, "critical-infra");
	assert_string_equal(in.mode, "large-scale");
	alert_input_free(&in);
	expect_accepted("mode", "\"normal\"");
	expect_accepted("drill", "false");
}

static void test_not_an_object(void **state)
{
	static const char *const bad[] = {
		"",
		"not json",
		"[1, 2]",
		"\"title\"",
		"{\"title\": ",
		/* Duplicate keys: which one would the engine have used? */
		"{\"title\": \"a\", \"title\": \"b\"}",
	};
	struct alert_input in = {0};
	struct alert_error err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		memset(&err, 0xff, sizeof(err));
		assert_int_equal(alert_input_from_json(bad[i], strlen(bad[i]),
						       &in, &err),
				 -EINVAL);
		assert_int_equal(err.http_status, 400);
		assert_string_equal(err.field, "");
		assert_true(err.message[0] != '\0');
	}
}

static void test_unknown_and_missing_fields(void **state)
{
	(void)state;
	expect_refused("colour", "\"red\"", 400, "colour");
	expect_refused("Title", "\"x\"", 400, "Title");
	expect_refused("title", NULL, 400, "title");
	expect_refused("body", NULL, 400, "body");
	expect_refused("type", NULL, 400, "type");
	expect_refused("severity", NULL, 400, "severity");
	expect_refused("tlp", NULL, 400, "tlp");
	expect_refused("targets", NULL, 400, "targets");
}

static void test_title(void **state)
{
	char *t;

	(void)state;
	/* 200 characters of Japanese (600 bytes) fit; 201 do not. */
	t = repeat_json("警", 200);
	expect_accepted("title", t);
	free(t);
	t = repeat_json("警", 201);
	expect_refused("title", t, 400, "title");
	free(t);
	t = repeat_json("a", 200);
	expect_accepted("title", t);
	free(t);
	expect_refused("title", "\"\"", 400, "title");
	expect_refused("title", "\"line\\nbreak\"", 400, "title");
	expect_refused("title", "\"tab\\there\"", 400, "title");
	expect_refused("title", "\"c1 \\u0085 control\"", 400, "title");
	expect_refused("title", "\"nul\\u0000\"", 400, "title");
	expect_refused("title", "42", 400, "title");
	expect_refused("title", "null", 400, "title");
}

/*
 * Titles that look blank, or read in another order than they are
 * written, or break the Subject line: all accepted on today's main.
 */
static void test_title_invisible_and_bidi(void **state)
{
	(void)state;
	expect_refused("title", "\"   \"", 400, "title");
	expect_refused("title", "\"\u3000\u00a0\"", 400, "title");
	expect_refused("title", "\"\u200b\"", 400, "title");
	expect_refused("title", "\"\ufeff\u200b \u2060\"", 400, "title");
	expect_refused("title", "\"invoice\u202egpj.exe\"", 400, "title");
	expect_refused("title", "\"\u2066x\u2069\"", 400, "title");
	expect_refused("title", "\"\u202ax\u202c\"", 400, "title");
	expect_refused("title", "\"first\u2028second\"", 400, "title");
	expect_refused("title", "\"first\u2029second\"", 400, "title");
	/* Visible text with an ordinary or ideographic space is fine. */
	expect_accepted("title", "\"\u3000注意喚起\"");
	expect_accepted("title", "\"a\u200bb\"");
}

/* The body may carry bidi controls only as pairs closed on their line. */
static void test_body_bidi(void **state)
{
	(void)state;
	expect_accepted("body", "\"Arabic: \u202bمرحبا\u202c done\"");
	expect_accepted("body", "\"\u2067x\u2066y\u2069\u2069\\nz\"");
	expect_refused("body", "\"access\u202e level\"", 400, "body");
	expect_refused("body", "\"\u202bopen\\nclosed\u202c\"", 400, "body");
	expect_refused("body", "\"\u2066x\u202c\"", 400, "body");
	expect_refused("body", "\"\u2069\"", 400, "body");
	expect_accepted("body", "\"first\u2028second\"");
}

static void test_body(void **state)
{
	char *b;

	(void)state;
	b = repeat_json("x", ALERT_BODY_MAX);
	expect_accepted("body", b);
	free(b);
	/* Over the limit by one byte: 413, the size is the problem. */
	b = repeat_json("x", ALERT_BODY_MAX + 1);
	expect_refused("body", b, 413, "body");
	free(b);
	/* The limit is bytes, not characters: 3-byte characters count 3. */
	b = repeat_json("報", ALERT_BODY_MAX / 3 + 1);
	expect_refused("body", b, 413, "body");
	free(b);
	expect_accepted("body", "\"\"");
	expect_accepted("body", "\"tabs\\tand\\r\\nline breaks\"");
	expect_refused("body", "\"nul \\u0000 inside\"", 400, "body");
	expect_refused("body", "[\"x\"]", 400, "body");
}

static void test_type_and_severity(void **state)
{
	static const char *const types[] = {
		"early-warning",
		"incident",
		"attack-method",
		"recovery",
		"damage",
		"response-status",
		"cooperation-request",
		"info",
	};
	char v[64];

	(void)state;
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		snprintf(v, sizeof(v), "\"%s\"", types[i]);
		expect_accepted("type", v);
		assert_true(alert_type_valid(types[i]));
	}
	expect_refused("type", "\"Incident\"", 400, "type");
	expect_refused("type", "\"incident\\u0000x\"", 400, "type");
	expect_refused("type", "3", 400, "type");
	assert_false(alert_type_valid(NULL));
	assert_false(alert_type_valid("warning"));

	expect_accepted("severity", "\"critical\"");
	expect_accepted("severity", "\"low\"");
	expect_refused("severity", "\"urgent\"", 400, "severity");
	assert_true(alert_severity_valid("medium"));
	assert_false(alert_severity_valid("HIGH"));
}

static void test_tlp(void **state)
{
	struct alert_input in = {0};
	struct alert_error err;

	(void)state;
	/* TLP 1.0's WHITE is read as CLEAR. */
	assert_int_equal(try_field("tlp", "\"WHITE\"", &err, &in), 0);
	assert_int_equal(in.tlp, TLP_CLEAR);
	alert_input_free(&in);
	assert_int_equal(try_field("tlp", "\"TLP:GREEN\"", &err, &in), 0);
	assert_int_equal(in.tlp, TLP_GREEN);
	alert_input_free(&in);
	expect_accepted("tlp", "\"CLEAR\"");
	expect_refused("tlp", "\"amber\"", 400, "tlp");
	expect_refused("tlp", "\"TLP:PURPLE\"", 400, "tlp");
	expect_refused("tlp", "2", 400, "tlp");
}

static void test_targets(void **state)
{
	(void)state;
	expect_accepted("targets", "[\"all\"]");
	expect_accepted("targets", "[\"org:jp-0001\", \"org:jp-0002\"]");
	expect_accepted("targets", "[\"sector:エネルギー\"]");
	expect_refused("targets", "[]", 400, "targets");
	expect_refused("targets", "\"all\"", 400, "targets");
	expect_refused("targets", "[\"everyone\"]", 400, "targets");
	expect_refused("targets", "[\"ALL\"]", 400, "targets");
	expect_refused("targets", "[\"sector:\"]", 400, "targets");
	expect_refused("targets", "[\"org:\"]", 400, "targets");
	expect_refused("targets", "[\"org:a b\"]", 400, "targets");
	/* The ideographic space of a Japanese input method counts too. */
	expect_refused("targets", "[\"sector:情報\\u3000通信\"]", 400,
		       "targets");
	expect_refused("targets", "[\"org:a\\nb\"]", 400, "targets");
	expect_refused("targets", "[\"all\", 7]", 400, "targets");
	expect_refused("targets", "[\"org:x\\u0000y\"]", 400, "targets");
}

static void test_red_only_to_organisations(void **state)
{
	struct alert_input in = {0};
	struct alert_error err = {0};
	static const char red_org[] =
		"{\"title\": \"t\", \"body\": \"b\", \"type\": \"info\","
		" \"severity\": \"low\", \"tlp\": \"RED\","
		" \"targets\": [\"org:jp-0001\", \"org:jp-0002\"]}";
	static const char red_sector[] =
		"{\"title\": \"t\", \"body\": \"b\", \"type\": \"info\","
		" \"severity\": \"low\", \"tlp\": \"TLP:RED\","
		" \"targets\": [\"org:jp-0001\", \"sector:finance\"]}";
	static const char red_all[] =
		"{\"title\": \"t\", \"body\": \"b\", \"type\": \"info\","
		" \"severity\": \"low\", \"tlp\": \"RED\","
		" \"targets\": [\"all\"]}";

	(void)state;
	assert_int_equal(
		alert_input_from_json(red_org, strlen(red_org), &in, &err), 0);
	assert_int_equal(in.tlp, TLP_RED);
	alert_input_free(&in);
	assert_int_equal(alert_input_from_json(red_sector, strlen(red_sector),
					       &in, &err),
			 -EINVAL);
	assert_int_equal(err.http_status, 400);
	assert_string_equal(err.field, "targets");
	assert_non_null(strstr(err.message, "sector:finance"));
	assert_int_equal(
		alert_input_from_json(red_all, strlen(red_all), &in, &err),
		-EINVAL);
	assert_string_equal(err.field, "targets");
}

static void test_drill_policy_mode(void **state)
{
	(void)state;
	/* A drill is true or false, never something that reads as false. */
	expect_refused("drill", "\"yes\"", 400, "drill");
	expect_refused("drill", "null", 400, "drill");
	expect_refused("drill", "1", 400, "drill");
	expect_refused("policy", "\"\"", 400, "policy");
	expect_refused("policy", "5", 400, "policy");
	expect_refused("mode", "\"fast\"", 400, "mode");
	expect_refused("mode", "true", 400, "mode");
}

static void test_error_set(void **state)
{
	struct alert_error err;
	char longf[64];

	(void)state;
	assert_int_equal(alert_error_set(&err, 413, "body", "%d bytes", 7),
			 -EINVAL);
	assert_int_equal(err.http_status, 413);
	assert_string_equal(err.field, "body");
	assert_string_equal(err.message, "7 bytes");
	assert_int_equal(alert_error_set(NULL, 400, "x", "y"), -EINVAL);
	/*
	 * A field name cut to fit is cut between characters: 10 x "あ" is
	 * 30 bytes, 11 would need 33 of the 31 available.
	 */
	longf[0] = '\0';
	for (int i = 0; i < 11; i++)
		strcat(longf, "あ");
	alert_error_set(&err, 400, longf, "unknown field");
	assert_int_equal(strlen(err.field), 30);
}

/*
 * jansson's error text quotes the input near the error, cut at its own
 * limit or raw: the message must still be valid UTF-8 (on main the API
 * then answered only {"error":"invalid request"}).
 */
static void test_json_error_is_utf8(void **state)
{
	struct alert_input in;
	struct alert_error err;
	/* jansson quotes "\u12" and the first byte of the character. */
	const char *bodies[] = {
		"{\"title\": \"\\u12\xE8\xAD\xA6\"}",
		"{\"title\": \"\\u1\xF0\x9F\x9A\xA8\"}",
		"{\"title\": \"x\"} \xE8\xAD\xA6",
		"[\xE8\xAD\xA6]",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		assert_int_equal(alert_input_from_json(bodies[i],
						       strlen(bodies[i]), &in,
						       &err),
				 -EINVAL);
		assert_true(utf8_valid(err.message, strlen(err.message), NULL));
		assert_non_null(strstr(err.message, "not valid JSON"));
		assert_non_null(strstr(err.message, "line 1"));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valid_alert),
		cmocka_unit_test(test_optional_fields),
		cmocka_unit_test(test_not_an_object),
		cmocka_unit_test(test_unknown_and_missing_fields),
		cmocka_unit_test(test_title),
		cmocka_unit_test(test_title_invisible_and_bidi),
		cmocka_unit_test(test_body_bidi),
		cmocka_unit_test(test_body),
		cmocka_unit_test(test_type_and_severity),
		cmocka_unit_test(test_tlp),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_red_only_to_organisations),
		cmocka_unit_test(test_drill_policy_mode),
		cmocka_unit_test(test_error_set),
		cmocka_unit_test(test_json_error_is_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
