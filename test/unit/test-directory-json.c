/*
 * Unit tests for contacts/directory_json.c: the JSON shape of an
 * organisation, key by key and in order, with Japanese text coming back
 * byte for byte and absent optional fields as null.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "contacts/directory.h"
#include "contacts/directory_json.h"

/* The organisation tests share: a CEPTOAR with one desk, two methods. */
static struct dir_org *make_bank(struct directory *d)
{
	struct dir_org *o = dir_org_append(d);
	struct dir_contact *c;
	struct dir_method *m;

	o->id = strdup("bank");
	o->name = strdup("銀行等CEPTOAR \"表\"\\ソ能");
	o->sector = strdup("finance");
	o->kind = DIR_KIND_CEPTOAR;
	c = dir_contact_append(o);
	c->id = strdup("desk");
	c->name = strdup("緊急窓口");
	c->role = DIR_ROLE_PRIMARY;
	c->language = strdup("ja");
	m = dir_method_append(c);
	m->channel = DIR_CHANNEL_MAIL;
	m->address = strdup("desk@bank.example.jp");
	m->max_tlp = TLP_AMBER_STRICT;
	m->charset = DIR_CHARSET_ISO2022JP;
	m->order = 1;
	m = dir_method_append(c);
	m->channel = DIR_CHANNEL_VOICE;
	m->address = strdup("+81312345678");
	m->order = 2;
	return o;
}

static void test_shape(void **state)
{
	struct directory d = {0};
	json_t *j;
	char *text;

	(void)state;
	j = dir_org_to_json(make_bank(&d));
	assert_non_null(j);
	/* Without JSON_ENSURE_ASCII the UTF-8 goes out untouched. */
	text = json_dumps(j, JSON_COMPACT);
	assert_string_equal(
		text,
		"{\"id\":\"bank\","
		"\"name\":\"銀行等CEPTOAR \\\"表\\\"\\\\ソ能\","
		"\"name_en\":null,\"sector\":\"finance\",\"kind\":\"ceptoar\","
		"\"parent\":null,\"hours\":\"mon-fri 09:00-18:00\","
		"\"timezone\":\"Asia/Tokyo\",\"contacts\":[{\"id\":\"desk\","
		"\"name\":\"緊急窓口\",\"role\":\"primary\","
		"\"language\":\"ja\","
		"\"methods\":[{\"channel\":\"mail\",\"address\":"
		"\"desk@bank.example.jp\",\"max_tlp\":\"AMBER+STRICT\","
		"\"charset\":\"iso-2022-jp\",\"order\":1},{\"channel\":"
		"\"voice\",\"address\":\"+81312345678\",\"max_tlp\":\"AMBER\","
		"\"charset\":\"utf-8\",\"order\":2}]}]}");
	free(text);
	json_decref(j);
	directory_free(&d);
}

static void test_round_trip(void **state)
{
	struct directory d = {0};
	struct dir_org *o = make_bank(&d);
	json_error_t err;
	json_t *j, *back, *c, *m;
	char *text;

	(void)state;
	o->name_en = strdup("Banks CEPTOAR");
	o->parent = strdup("nisc");
	o->kind = DIR_KIND_MEMBER;
	o->hours.days = 0x41;
	o->hours.open_min = 600;
	o->hours.close_min = 960;
	free(o->hours.tz);
	o->hours.tz = strdup("Etc/GMT-9");
	o->contacts[0].role = DIR_ROLE_HOLIDAY;
	o->contacts[0].methods[1].max_tlp = TLP_CLEAR;
	j = dir_org_to_json(o);
	text = json_dumps(j, 0);
	back = json_loads(text, 0, &err);
	assert_non_null(back);
	/* Every string reads back as the bytes it was made of. */
	assert_string_equal(json_string_value(json_object_get(back, "name")),
			    o->name);
	assert_string_equal(json_string_value(json_object_get(back, "name_en")),
			    "Banks CEPTOAR");
	assert_string_equal(json_string_value(json_object_get(back, "parent")),
			    "nisc");
	assert_string_equal(json_string_value(json_object_get(back, "kind")),
			    "member");
	assert_string_equal(json_string_value(json_object_get(back, "hours")),
			    "sat-sun 10:00-16:00");
	assert_string_equal(
		json_string_value(json_object_get(back, "timezone")),
		"Etc/GMT-9");
	c = json_array_get(json_object_get(back, "contacts"), 0);
	assert_string_equal(json_string_value(json_object_get(c, "role")),
			    "holiday");
	m = json_array_get(json_object_get(c, "methods"), 1);
	assert_string_equal(json_string_value(json_object_get(m, "max_tlp")),
			    "CLEAR");
	assert_int_equal(json_integer_value(json_object_get(m, "order")), 2);
	free(text);
	json_decref(back);
	json_decref(j);
	directory_free(&d);
}

static void test_refuses_bad_utf8(void **state)
{
	struct directory d = {0};
	struct dir_org *o = make_bank(&d);

	(void)state;
	/* jansson refuses invalid UTF-8: NULL, and nothing leaks. */
	free(o->contacts[0].name);
	o->contacts[0].name = strdup("\xff");
	assert_null(dir_org_to_json(o));
	directory_free(&d);
}

static void test_empty_org(void **state)
{
	struct directory d = {0};
	struct dir_org *o = dir_org_append(&d);
	json_t *j;
	char *text;

	(void)state;
	o->id = strdup("x");
	j = dir_org_to_json(o);
	text = json_dumps(j, JSON_COMPACT);
	assert_string_equal(text,
			    "{\"id\":\"x\",\"name\":null,\"name_en\":null,"
			    "\"sector\":null,\"kind\":\"ceptoar\",\"parent\":"
			    "null,\"hours\":\"mon-fri 09:00-18:00\","
			    "\"timezone\":\"Asia/Tokyo\",\"contacts\":[]}");
	free(text);
	json_decref(j);
	directory_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shape),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_refuses_bad_utf8),
		cmocka_unit_test(test_empty_org),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
