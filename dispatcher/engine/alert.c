/*
 * An alert as an operator submits it: see alert.h. The one place where
 * the rules of a good alert are written down; the API, later CAP intake
 * and the tests all come through alert_input_from_json(). The checks run
 * in a fixed order (unknown fields, then each field in the order of the
 * struct, then rules between fields) so that the same bad input always
 * gets the same answer, and each answer names one field.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/utf8.h"
#include "dispatcher/engine/alert.h"

/* More targets than any directory has organisations: a runaway client. */
#define ALERT_TARGETS_MAX 10000

static const char *const alert_types[] = {
	"early-warning",
	"incident",
	"attack-method",
	"recovery",
	"damage",
	"response-status",
	"cooperation-request",
	"info",
	NULL,
};

static const char *const alert_severities[] = {
	"critical", "high", "medium", "low", NULL,
};

static const char *const alert_modes[] = {"normal", "large-scale", NULL};

/* Every field the API knows; anything else is refused by name. */
static const char *const alert_fields[] = {
	"title",   "body",  "type",   "severity", "tlp",
	"targets", "drill", "policy", "mode",	  NULL,
};

static bool alert_in_list(const char *const *list, const char *s)
{
	if (s == NULL)
		return false;
	for (; *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return true;
	return false;
}

bool alert_type_valid(const char *s)
{
	return alert_in_list(alert_types, s);
}

bool alert_severity_valid(const char *s)
{
	return alert_in_list(alert_severities, s);
}

/*
 * Cuts a string that snprintf() may have truncated in the middle of a
 * UTF-8 sequence back to the last whole character, so that an error
 * built from user input is still valid UTF-8 when it goes out as JSON.
 */
static void alert_trim_utf8(char *s)
{
	size_t len = strlen(s), lead = len, need;
	unsigned char c;

	while (lead > 0 && len - lead < 4 &&
	       ((unsigned char)s[lead - 1] & 0xC0) == 0x80)
		lead--;
	if (lead == 0)
		return;
	c = (unsigned char)s[lead - 1];
	if (c < 0x80)
		return;
	need = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC0 ? 2 : 1;
	if (len - (lead - 1) < need)
		s[lead - 1] = '\0';
}

/*
 * Fills err (when not NULL) with the HTTP status, the offending field
 * ("" when none) and the message, both cut to fit at a character
 * boundary. Returns -EINVAL so that callers can return it directly.
 */
int alert_error_set(struct alert_error *err, int http_status, const char *field,
		    const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return -EINVAL;
	err->http_status = http_status;
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	alert_trim_utf8(err->field);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	alert_trim_utf8(err->message);
	return -EINVAL;
}

void alert_input_free(struct alert_input *in)
{
	if (in == NULL)
		return;
	free(in->title);
	free(in->body);
	free(in->type);
	free(in->severity);
	for (size_t i = 0; i < in->n_targets; i++)
		free(in->targets[i]);
	free(in->targets);
	free(in->policy);
	free(in->mode);
	free(in->id);
	memset(in, 0, sizeof(*in));
}

/*
 * The code point at s (valid UTF-8 assumed); *adv gets its length. Only
 * what alert_has_space() needs, not a general decoder.
 */
static uint32_t alert_next_cp(const unsigned char *s, size_t len, size_t *adv)
{
	if (s[0] < 0x80 || len < 2) {
		*adv = 1;
		return s[0];
	}
	if (s[0] < 0xE0) {
		*adv = 2;
		return (uint32_t)(s[0] & 0x1F) << 6 | (s[1] & 0x3F);
	}
	if (s[0] < 0xF0 || len < 4) {
		*adv = len < 3 ? len : 3;
		if (len < 3)
			return 0xFFFD;
		return (uint32_t)(s[0] & 0x0F) << 12 |
		       (uint32_t)(s[1] & 0x3F) << 6 | (s[2] & 0x3F);
	}
	*adv = 4;
	return (uint32_t)(s[0] & 0x07) << 18 | (uint32_t)(s[1] & 0x3F) << 12 |
	       (uint32_t)(s[2] & 0x3F) << 6 | (s[3] & 0x3F);
}

/*
 * True when s holds a Unicode space: ASCII's, but also the no-break and
 * ideographic spaces a Japanese input method slips into a name.
 */
static bool alert_has_space(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0, adv;

	while (i < len) {
		uint32_t cp = alert_next_cp(s + i, len - i, &adv);

		if (cp == 0x20 || cp == 0xA0 || cp == 0x1680 ||
		    (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
		    cp == 0x2029 || cp == 0x202F || cp == 0x205F ||
		    cp == 0x3000)
			return true;
		i += adv;
	}
	return false;
}

/*
 * Reads field name of root as a string. Absent: *ret is NULL and 0 is
 * returned, or an error when required. Present: must be a string without
 * NUL characters (JSON's \u0000 would cut a C string short and make
 * "incident\u0000x" compare equal to "incident").
 */
static int alert_get_string(json_t *root, const char *name, bool required,
			    const char **ret, size_t *ret_len,
			    struct alert_error *err)
{
	json_t *v = json_object_get(root, name);

	*ret = NULL;
	*ret_len = 0;
	if (v == NULL) {
		if (required)
			return alert_error_set(err, 400, name,
					       "required field is missing");
		return 0;
	}
	if (!json_is_string(v))
		return alert_error_set(err, 400, name, "must be a string");
	*ret = json_string_value(v);
	*ret_len = json_string_length(v);
	/* The body's own check says which limit it broke first. */
	if (strcmp(name, "body") != 0 && memchr(*ret, '\0', *ret_len) != NULL)
		return alert_error_set(err, 400, name,
				       "must not contain NUL characters");
	return 0;
}

static int alert_dup(const char *s, size_t len, char **ret)
{
	*ret = strndup(s, len);
	return *ret == NULL ? -ENOMEM : 0;
}

static int alert_parse_title(json_t *root, struct alert_input *in,
			     struct alert_error *err)
{
	const char *s;
	size_t len, chars;
	int r;

	r = alert_get_string(root, "title", true, &s, &len, err);
	if (r < 0)
		return r;
	/* jansson refuses bad UTF-8 already; this guards other callers. */
	if (!utf8_valid(s, len, NULL))
		return alert_error_set(err, 400, "title",
				       "must be valid UTF-8");
	chars = utf8_length(s, len);
	if (chars == 0)
		return alert_error_set(err, 400, "title", "must not be empty");
	if (chars > ALERT_TITLE_MAX)
		return alert_error_set(
			err, 400, "title",
			"must be at most %d characters (has %zu)",
			ALERT_TITLE_MAX, chars);
	if (utf8_has_control(s, len))
		return alert_error_set(err, 400, "title",
				       "must not contain control characters "
				       "(line breaks, tabs, ...)");
	return alert_dup(s, len, &in->title);
}

static int alert_parse_body(json_t *root, struct alert_input *in,
			    struct alert_error *err)
{
	const char *s;
	size_t len;
	int r;

	r = alert_get_string(root, "body", true, &s, &len, err);
	if (r < 0)
		return r;
	if (len > ALERT_BODY_MAX)
		return alert_error_set(err, 413, "body",
				       "must be at most %d bytes (has %zu)",
				       ALERT_BODY_MAX, len);
	if (memchr(s, '\0', len) != NULL)
		return alert_error_set(err, 400, "body",
				       "must not contain NUL characters");
	if (!utf8_valid(s, len, NULL))
		return alert_error_set(err, 400, "body", "must be valid UTF-8");
	return alert_dup(s, len, &in->body);
}

/* A required string that must be one of list; choices is for the message. */
static int alert_parse_choice(json_t *root, const char *name,
			      const char *const *list, const char *choices,
			      char **ret, struct alert_error *err)
{
	const char *s;
	size_t len;
	int r;

	r = alert_get_string(root, name, true, &s, &len, err);
	if (r < 0)
		return r;
	if (!alert_in_list(list, s))
		return alert_error_set(err, 400, name, "must be one of %s",
				       choices);
	return alert_dup(s, len, ret);
}

static int alert_parse_tlp(json_t *root, struct alert_input *in,
			   struct alert_error *err)
{
	const char *s;
	size_t len;
	int r;

	r = alert_get_string(root, "tlp", true, &s, &len, err);
	if (r < 0)
		return r;
	if (tlp_parse(s, &in->tlp) < 0)
		return alert_error_set(err, 400, "tlp",
				       "must be one of CLEAR, GREEN, AMBER, "
				       "AMBER+STRICT, RED (\"TLP:\" prefix "
				       "allowed)");
	return 0;
}

/* "all", "sector:NAME" or "org:ID", NAME and ID non-empty and unspaced. */
static bool alert_target_valid(const char *s, size_t len)
{
	const char *name;

	if (len == 3 && memcmp(s, "all", 3) == 0)
		return true;
	if (len > 7 && memcmp(s, "sector:", 7) == 0)
		name = s + 7;
	else if (len > 4 && memcmp(s, "org:", 4) == 0)
		name = s + 4;
	else
		return false;
	len -= (size_t)(name - s);
	return utf8_valid(name, len, NULL) && !utf8_has_control(name, len) &&
	       !alert_has_space(name, len);
}

static int alert_parse_targets(json_t *root, struct alert_input *in,
			       struct alert_error *err)
{
	json_t *v = json_object_get(root, "targets"), *t;
	size_t i, n;

	if (v == NULL)
		return alert_error_set(err, 400, "targets",
				       "required field is missing");
	if (!json_is_array(v) || json_array_size(v) == 0)
		return alert_error_set(err, 400, "targets",
				       "must be a non-empty array of \"all\", "
				       "\"sector:NAME\" or \"org:ID\"");
	n = json_array_size(v);
	if (n > ALERT_TARGETS_MAX)
		return alert_error_set(err, 400, "targets",
				       "too many targets (%zu, at most %d)", n,
				       ALERT_TARGETS_MAX);
	in->targets = calloc(n, sizeof(*in->targets));
	if (in->targets == NULL)
		return -ENOMEM;
	json_array_foreach(v, i, t)
	{
		const char *s = json_string_value(t);
		size_t len = json_string_length(t);

		if (s == NULL)
			return alert_error_set(err, 400, "targets",
					       "targets[%zu] must be a string",
					       i);
		if (memchr(s, '\0', len) != NULL || !alert_target_valid(s, len))
			return alert_error_set(
				err, 400, "targets",
				"targets[%zu] \"%s\" is not \"all\", "
				"\"sector:NAME\" or \"org:ID\" (no spaces or "
				"control characters in the name)",
				i, s);
		if (alert_dup(s, len, &in->targets[i]) < 0)
			return -ENOMEM;
		in->n_targets++;
	}
	return 0;
}

static int alert_parse_optional(json_t *root, struct alert_input *in,
				struct alert_error *err)
{
	json_t *drill = json_object_get(root, "drill");
	const char *s;
	size_t len;
	int r;

	/*
	 * No null for "not a drill": a real alert sent by mistake for a
	 * drill is the worst error this field can cause, so it is either
	 * true, false or absent.
	 */
	if (drill != NULL && !json_is_boolean(drill))
		return alert_error_set(err, 400, "drill",
				       "must be true or false");
	in->drill = json_is_true(drill);

	r = alert_get_string(root, "policy", false, &s, &len, err);
	if (r < 0)
		return r;
	if (s != NULL) {
		if (len == 0 || utf8_has_control(s, len))
			return alert_error_set(err, 400, "policy",
					       "must be a policy name");
		if (alert_dup(s, len, &in->policy) < 0)
			return -ENOMEM;
	}

	r = alert_get_string(root, "mode", false, &s, &len, err);
	if (r < 0)
		return r;
	if (s != NULL) {
		if (!alert_in_list(alert_modes, s))
			return alert_error_set(err, 400, "mode",
					       "must be \"normal\" or "
					       "\"large-scale\"");
		if (alert_dup(s, len, &in->mode) < 0)
			return -ENOMEM;
	}
	return 0;
}

/*
 * TLP:RED is for named recipients only: a sector or "all" reaches
 * people the sender cannot list, which RED forbids.
 */
static int alert_check_red(const struct alert_input *in,
			   struct alert_error *err)
{
	if (in->tlp != TLP_RED)
		return 0;
	for (size_t i = 0; i < in->n_targets; i++)
		if (strncmp(in->targets[i], "org:", 4) != 0)
			return alert_error_set(
				err, 400, "targets",
				"TLP:RED may only go to named organisations "
				"(org:ID), not \"%s\"",
				in->targets[i]);
	return 0;
}

/*
 * Parses and checks the JSON body json[0..len). On success *ret is filled
 * and the caller owns it (alert_input_free()); on failure *ret is left
 * alone and err says why (400, or 413 for an oversize body). Returns 0,
 * -EINVAL, or -ENOMEM (err then says so with status 500).
 */
int alert_input_from_json(const char *json, size_t len, struct alert_input *ret,
			  struct alert_error *err)
{
	struct alert_input in = {0};
	json_error_t jerr;
	const char *key;
	json_t *root, *v;
	int r;

	/* ALLOW_NUL so that a NUL is refused by field name, not as bad JSON. */
	root = json_loadb(json, len, JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL,
			  &jerr);
	if (root == NULL)
		return alert_error_set(
			err, 400, "", "not valid JSON: %s (line %d, column %d)",
			jerr.text, jerr.line, jerr.column);
	if (!json_is_object(root)) {
		r = alert_error_set(err, 400, "", "must be a JSON object");
		goto fail;
	}
	json_object_foreach(root, key, v)
	{
		if (!alert_in_list(alert_fields, key)) {
			r = alert_error_set(err, 400, key, "unknown field");
			goto fail;
		}
	}
	r = alert_parse_title(root, &in, err);
	if (r == 0)
		r = alert_parse_body(root, &in, err);
	if (r == 0)
		r = alert_parse_choice(root, "type", alert_types,
				       "early-warning, incident, "
				       "attack-method, recovery, damage, "
				       "response-status, cooperation-request, "
				       "info",
				       &in.type, err);
	if (r == 0)
		r = alert_parse_choice(root, "severity", alert_severities,
				       "critical, high, medium, low",
				       &in.severity, err);
	if (r == 0)
		r = alert_parse_tlp(root, &in, err);
	if (r == 0)
		r = alert_parse_targets(root, &in, err);
	if (r == 0)
		r = alert_parse_optional(root, &in, err);
	if (r == 0)
		r = alert_check_red(&in, err);
	if (r < 0)
		goto fail;
	json_decref(root);
	*ret = in;
	return 0;
fail:
	if (r == -ENOMEM)
		alert_error_set(err, 500, "", "out of memory");
	alert_input_free(&in);
	json_decref(root);
	return r == -ENOMEM ? -ENOMEM : -EINVAL;
}
