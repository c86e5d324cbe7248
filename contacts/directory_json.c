/*
 * An organisation as JSON, the shape `contacts list --json` and `contacts
 * show --json` print and the HTTP API returns:
 *
 *	{"id", "name", "name_en", "sector", "kind", "parent", "hours",
 *	 "timezone", "contacts": [{"id", "name", "role", "language",
 *	 "methods": [{"channel", "address", "max_tlp", "charset", "order"}]}]}
 *
 * Keys come in this order; absent name_en and parent are null. Strings
 * are handed to jansson with their length, so Japanese text comes back
 * byte for byte when dumped without JSON_ENSURE_ASCII.
 */
#include <string.h>

#include "contacts/directory_json.h"

/* A JSON string for s, or null for NULL; NULL on failure (bad UTF-8). */
static json_t *str_or_null(const char *s)
{
	return s ? json_stringn(s, strlen(s)) : json_null();
}

/* Takes the reference to v in every case; -1 when v is NULL or on error. */
static int put(json_t *obj, const char *key, json_t *v)
{
	return v == NULL ? -1 : json_object_set_new(obj, key, v);
}

static json_t *method_to_json(const struct dir_method *m)
{
	json_t *j = json_object();

	if (j == NULL)
		return NULL;
	if (put(j, "channel", json_string(dir_channel_name(m->channel))) < 0 ||
	    put(j, "address", str_or_null(m->address)) < 0 ||
	    put(j, "max_tlp", json_string(tlp_name(m->max_tlp))) < 0 ||
	    put(j, "charset", json_string(dir_charset_name(m->charset))) < 0 ||
	    put(j, "order", json_integer(m->order)) < 0) {
		json_decref(j);
		return NULL;
	}
	return j;
}

static json_t *contact_to_json(const struct dir_contact *c)
{
	json_t *j = json_object(), *methods = json_array();

	if (j == NULL || methods == NULL)
		goto fail;
	for (size_t i = 0; i < c->n_methods; i++)
		if (json_array_append_new(methods,
					  method_to_json(&c->methods[i])) < 0)
			goto fail;
	if (put(j, "id", str_or_null(c->id)) < 0 ||
	    put(j, "name", str_or_null(c->name)) < 0 ||
	    put(j, "role", json_string(dir_role_name(c->role))) < 0 ||
	    put(j, "language", str_or_null(c->language)) < 0)
		goto fail;
	/* The array goes last, and put() takes it whatever happens. */
	if (put(j, "methods", methods) < 0) {
		methods = NULL;
		goto fail;
	}
	return j;
fail:
	json_decref(methods);
	json_decref(j);
	return NULL;
}

json_t *dir_org_to_json(const struct dir_org *o)
{
	json_t *j = json_object(), *contacts = json_array();
	char hours[64];

	if (j == NULL || contacts == NULL)
		goto fail;
	dir_hours_format(&o->hours, hours, sizeof(hours));
	for (size_t i = 0; i < o->n_contacts; i++)
		if (json_array_append_new(contacts,
					  contact_to_json(&o->contacts[i])) < 0)
			goto fail;
	if (put(j, "id", str_or_null(o->id)) < 0 ||
	    put(j, "name", str_or_null(o->name)) < 0 ||
	    put(j, "name_en", str_or_null(o->name_en)) < 0 ||
	    put(j, "sector", str_or_null(o->sector)) < 0 ||
	    put(j, "kind", json_string(dir_kind_name(o->kind))) < 0 ||
	    put(j, "parent", str_or_null(o->parent)) < 0 ||
	    put(j, "hours", json_string(hours)) < 0 ||
	    put(j, "timezone", str_or_null(o->hours.tz)) < 0 ||
	    (o->hours.days_off != NULL &&
	     put(j, "days_off", json_string(o->hours.days_off)) < 0))
		goto fail;
	if (put(j, "contacts", contacts) < 0) {
		contacts = NULL;
		goto fail;
	}
	return j;
fail:
	json_decref(contacts);
	json_decref(j);
	return NULL;
}
