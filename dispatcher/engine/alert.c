/*
 * An alert as an operator submits it: see alert.h. The one place where
 * the rules of a good alert are written down; the API, later CAP intake
 * and the tests all come through alert_input_from_json(). The checks run
 * in a fixed order (unknown fields, then each field in the order of the
 * struct, then rules between fields) so that the same bad input always
 * gets the same answer, and each answer names one field.
 */
#include <errno.h>
#include <inttypes.h>
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
 * Makes s (a buffer of size bytes) valid UTF-8 in place: snprintf() may
 * have cut it inside a character, and jansson's error text quotes the
 * bytes near the error as they came, cut at its own limit or not UTF-8
 * at all. Bad bytes become U+FFFD and the result is cut at a character
 * boundary to fit, so that the message still goes out as JSON instead of
 * a bare "invalid request".
 */
static void alert_fix_utf8(char *s, size_t size)
{
	size_t len = strlen(s);
	char *fixed;

	if (utf8_valid(s, len, NULL))
		return;
	fixed = utf8_repair(s, len);
	if (fixed == NULL) {
		/* Out of memory: keep the ASCII part. */
		for (size_t i = 0; i < len; i++)
			if ((unsigned char)s[i] >= 0x80)
				s[i] = '?';
		return;
	}
	len = utf8_prefix(fixed, strlen(fixed), size - 1);
	memcpy(s, fixed, len);
	s[len] = '\0';
	free(fixed);
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
	alert_fix_utf8(err->field, sizeof(err->field));
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	alert_fix_utf8(err->message, sizeof(err->message));
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
 * what the checks below need, not a general decoder.
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

/* Bidirectional embedding, override and isolate controls. */
static bool alert_is_bidi(uint32_t cp)
{
	return (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/*
 * Characters that show nothing by themselves: spaces of every width, the
 * zero-width space and joiners, the word joiner, the byte-order mark,
 * soft hyphen and the variation selectors. A title made only of these
 * looks blank in every mail client and on every phone.
 */
static bool alert_is_invisible(uint32_t cp)
{
	return cp == 0x20 || cp == 0xA0 || cp == 0xAD || cp == 0x1680 ||
	       (cp >= 0x2000 && cp <= 0x200F) || cp == 0x202F ||
	       (cp >= 0x205F && cp <= 0x2064) || cp == 0x3000 || cp == 0x3164 ||
	       cp == 0xFEFF || (cp >= 0xFE00 && cp <= 0xFE0F);
}

/*
 * The text's reading order must be what the reader sees: a title may
 * carry no bidi control, no line or paragraph separator (U+2028, U+2029:
 * a line break in a Subject), and must have at least one visible
 * character. Returns 0 or -EINVAL with err filled.
 */
static int alert_check_title_text(const char *str, size_t len,
				  struct alert_error *err)
{
	const unsigned char *s = (const unsigned char *)str;
	bool visible = false;
	size_t i = 0, adv;

	while (i < len) {
		uint32_t cp = alert_next_cp(s + i, len - i, &adv);

		if (alert_is_bidi(cp))
			return alert_error_set(
				err, 400, "title",
				"must not contain bidirectional control "
				"characters (U+%04" PRIX32 " at byte %zu): "
				"they change the order the text is read in",
				cp, i);
		if (cp == 0x2028 || cp == 0x2029)
			return alert_error_set(
				err, 400, "title",
				"must not contain line or paragraph "
				"separators (U+%04" PRIX32 ")",
				cp);
		if (!alert_is_invisible(cp))
			visible = true;
		i += adv;
	}
	if (!visible)
		return alert_error_set(err, 400, "title",
				       "must contain visible text (it is "
				       "blank or only invisible characters)");
	return 0;
}

/*
 * The body may use bidi controls for right-to-left text only as pairs:
 * every embedding or override (U+202A..U+202E) closed by U+202C, every
 * isolate (U+2066..U+2068) closed by U+2069, nested properly and within
 * one line, so that nothing reverses the text after it (the Trojan
 * Source trick). Returns 0 or -EINVAL with err filled.
 */
static int alert_check_body_bidi(const char *str, size_t len,
				 struct alert_error *err)
{
	const unsigned char *s = (const unsigned char *)str;
	/* Unicode's own limit of nesting is 125; deeper is refused too. */
	char stack[125];
	size_t depth = 0, i = 0, adv, line = 1;

	while (i <= len) {
		uint32_t cp =
			i < len ? alert_next_cp(s + i, len - i, &adv) : '\n';

		if (i == len)
			adv = 1;
		if (cp == '\n' || cp == '\r' || cp == 0x2028 || cp == 0x2029 ||
		    cp == 0x85) {
			if (depth > 0)
				return alert_error_set(
					err, 400, "body",
					"line %zu: a bidirectional control "
					"character is not closed on its line "
					"(U+202C closes U+202A..U+202E, "
					"U+2069 closes U+2066..U+2068)",
					line);
			line++;
		} else if ((cp >= 0x202A && cp <= 0x202E && cp != 0x202C) ||
			   (cp >= 0x2066 && cp <= 0x2068)) {
			if (depth == sizeof(stack))
				return alert_error_set(
					err, 400, "body",
					"line %zu: bidirectional controls "
					"nested too deep",
					line);
			stack[depth++] = cp >= 0x2066 ? 'i' : 'e';
		} else if (cp == 0x202C || cp == 0x2069) {
			if (depth == 0 ||
			    stack[depth - 1] != (cp == 0x2069 ? 'i' : 'e'))
				return alert_error_set(
					err, 400, "body",
					"line %zu: U+%04" PRIX32 " closes "
					"no bidirectional control opened "
					"before it",
					line, cp);
			depth--;
		}
		i += adv;
	}
	return 0;
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
	r = alert_check_title_text(s, len, err);
	if (r < 0)
		return r;
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
	r = alert_check_body_bidi(s, len, err);
	if (r < 0)
		return r;
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
