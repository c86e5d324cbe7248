/*
 * The directory model: the names of its enumerations, growing and freeing
 * it, lookups, the choice of parser by file extension, and the field
 * setters both parsers use so that a bad value gets the same diagnostic
 * whether it came from a directory file or a CSV cell.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "common/utf8.h"
#include "contacts/directory.h"

#define DEFAULT_TZ "Asia/Tokyo"
#define DEFAULT_DAYS 0x3Eu	/* mon-fri */
#define DEFAULT_OPEN (9 * 60)	/* 09:00 */
#define DEFAULT_CLOSE (18 * 60) /* 18:00 */
#define TZ_MAX 64
#define ORDER_MAX_DIGITS 9 /* keeps the value inside an int */
#define QUOTE_MAX 96

static const char *const channel_names[] = {
	[DIR_CHANNEL_MAIL] = "mail", [DIR_CHANNEL_VOICE] = "voice",
	[DIR_CHANNEL_SMS] = "sms",   [DIR_CHANNEL_FAX] = "fax",
	[DIR_CHANNEL_WEB] = "web",
};

static const char *const role_names[] = {
	[DIR_ROLE_PRIMARY] = "primary",
	[DIR_ROLE_DEPUTY] = "deputy",
	[DIR_ROLE_HOLIDAY] = "holiday",
	[DIR_ROLE_DUTY] = "duty",
};

static const char *const kind_names[] = {
	[DIR_KIND_CEPTOAR] = "ceptoar",
	[DIR_KIND_MEMBER] = "member",
	[DIR_KIND_GOVERNMENT] = "government",
};

static const char *const charset_names[] = {
	[DIR_CHARSET_UTF8] = "utf-8",
	[DIR_CHARSET_ISO2022JP] = "iso-2022-jp",
};

#define N_ELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Finds s in names[0..n); names are exact, as files must write them. */
static int lookup(const char *const *names, size_t n, const char *s)
{
	if (s == NULL)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (strcmp(names[i], s) == 0)
			return (int)i;
	return -1;
}

const char *dir_channel_name(enum dir_channel c)
{
	return (unsigned)c < N_ELEMS(channel_names) ? channel_names[c] : "?";
}

int dir_channel_parse(const char *s, enum dir_channel *ret)
{
	int i = lookup(channel_names, N_ELEMS(channel_names), s);

	if (i < 0)
		return -EINVAL;
	*ret = (enum dir_channel)i;
	return 0;
}

const char *dir_role_name(enum dir_role r)
{
	return (unsigned)r < N_ELEMS(role_names) ? role_names[r] : "?";
}

int dir_role_parse(const char *s, enum dir_role *ret)
{
	int i = lookup(role_names, N_ELEMS(role_names), s);

	if (i < 0)
		return -EINVAL;
	*ret = (enum dir_role)i;
	return 0;
}

const char *dir_kind_name(enum dir_kind k)
{
	return (unsigned)k < N_ELEMS(kind_names) ? kind_names[k] : "?";
}

int dir_kind_parse(const char *s, enum dir_kind *ret)
{
	int i = lookup(kind_names, N_ELEMS(kind_names), s);

	if (i < 0)
		return -EINVAL;
	*ret = (enum dir_kind)i;
	return 0;
}

const char *dir_charset_name(enum dir_charset c)
{
	return (unsigned)c < N_ELEMS(charset_names) ? charset_names[c] : "?";
}

int dir_charset_parse(const char *s, enum dir_charset *ret)
{
	/* Charset names are case-insensitive (RFC 2978): UTF-8 is utf-8. */
	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < N_ELEMS(charset_names); i++) {
		if (strcasecmp(charset_names[i], s) == 0) {
			*ret = (enum dir_charset)i;
			return 0;
		}
	}
	return -EINVAL;
}

struct dir_org *dir_org_append(struct directory *d)
{
	struct dir_org *o;
	char *tz = strdup(DEFAULT_TZ);

	if (tz == NULL)
		return NULL;
	if (d->n_orgs == d->cap_orgs) {
		size_t cap = d->cap_orgs ? d->cap_orgs * 2 : 16;
		struct dir_org *orgs =
			reallocarray(d->orgs, cap, sizeof(*orgs));

		if (orgs == NULL) {
			free(tz);
			return NULL;
		}
		d->orgs = orgs;
		d->cap_orgs = cap;
	}
	o = &d->orgs[d->n_orgs++];
	memset(o, 0, sizeof(*o));
	o->hours.days = DEFAULT_DAYS;
	o->hours.open_min = DEFAULT_OPEN;
	o->hours.close_min = DEFAULT_CLOSE;
	o->hours.tz = tz;
	return o;
}

/*
 * Contacts and methods are a handful per element, so their arrays grow
 * one at a time: the model carries no capacity for them.
 */
struct dir_contact *dir_contact_append(struct dir_org *o)
{
	struct dir_contact *a;

	a = reallocarray(o->contacts, o->n_contacts + 1, sizeof(*a));
	if (a == NULL)
		return NULL;
	o->contacts = a;
	a = &o->contacts[o->n_contacts++];
	memset(a, 0, sizeof(*a));
	return a;
}

struct dir_method *dir_method_append(struct dir_contact *c)
{
	struct dir_method *a;

	a = reallocarray(c->methods, c->n_methods + 1, sizeof(*a));
	if (a == NULL)
		return NULL;
	c->methods = a;
	a = &c->methods[c->n_methods++];
	memset(a, 0, sizeof(*a));
	a->max_tlp = TLP_AMBER;
	a->charset = DIR_CHARSET_UTF8;
	return a;
}

static void contact_free(struct dir_contact *c)
{
	for (size_t i = 0; i < c->n_methods; i++)
		free(c->methods[i].address);
	free(c->methods);
	free(c->id);
	free(c->name);
	free(c->language);
}

static void org_free(struct dir_org *o)
{
	for (size_t i = 0; i < o->n_contacts; i++)
		contact_free(&o->contacts[i]);
	free(o->contacts);
	free(o->id);
	free(o->name);
	free(o->name_en);
	free(o->sector);
	free(o->parent);
	free(o->hours.tz);
	free(o->hours.days_off);
}

void directory_free(struct directory *d)
{
	if (d == NULL)
		return;
	for (size_t i = 0; i < d->n_orgs; i++)
		org_free(&d->orgs[i]);
	free(d->orgs);
	d->orgs = NULL;
	d->n_orgs = d->cap_orgs = 0;
}

struct dir_org *dir_find_org(const struct directory *d, const char *id)
{
	if (d == NULL || id == NULL)
		return NULL;
	for (size_t i = 0; i < d->n_orgs; i++)
		if (d->orgs[i].id != NULL && strcmp(d->orgs[i].id, id) == 0)
			return &d->orgs[i];
	return NULL;
}

int dir_parse_file(const char *path, const char *encoding, struct directory *d,
		   struct diag_list *diags)
{
	const char *dot = strrchr(path, '.');

	/* Windows tools like to write upper-case extensions: accept them. */
	if (dot != NULL && strchr(dot, '/') == NULL) {
		if (strcasecmp(dot, ".conf") == 0) {
			/* Directory files are written by hand, in UTF-8. */
			if (encoding != NULL &&
			    strcasecmp(encoding, "utf-8") != 0 &&
			    strcasecmp(encoding, "utf8") != 0) {
				diag_add(diags, path, 0,
					 "an encoding other than utf-8 applies "
					 "to CSV files only");
				return -EINVAL;
			}
			return dir_parse_conf(path, d, diags);
		}
		if (strcasecmp(dot, ".csv") == 0)
			return dir_parse_csv(path, encoding, d, diags);
	}
	diag_add(diags, path, 0,
		 "unknown kind of directory file (expected .conf or .csv)");
	return -EINVAL;
}

/* "FIELD 'VALUE': why", the one shape of every bad-value diagnostic. */
static int bad_value(const char *file, int line, struct diag_list *diags,
		     const char *field, const char *value, const char *why)
{
	char q[QUOTE_MAX];

	dir_quote(value, q, sizeof(q));
	diag_add(diags, file, line, "%s '%s': %s", field, q, why);
	return -EINVAL;
}

static int empty_value(const char *file, int line, struct diag_list *diags,
		       const char *field)
{
	diag_add(diags, file, line, "%s is empty", field);
	return -EINVAL;
}

static int replace(char **slot, const char *value)
{
	char *copy = strdup(value);

	if (copy == NULL)
		return -ENOMEM;
	free(*slot);
	*slot = copy;
	return 0;
}

/* The code point of the UTF-8 character at s (valid UTF-8), or 0. */
static unsigned code_point(const unsigned char *s)
{
	if (s[0] < 0x80)
		return s[0];
	if (s[0] < 0xE0)
		return ((s[0] & 0x1Fu) << 6) | (s[1] & 0x3Fu);
	if (s[0] < 0xF0)
		return ((s[0] & 0x0Fu) << 12) | ((s[1] & 0x3Fu) << 6) |
		       (s[2] & 0x3Fu);
	return ((s[0] & 0x07u) << 18) | ((s[1] & 0x3Fu) << 12) |
	       ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
}

/*
 * Whether a character belongs to Japanese text written without spaces:
 * kana, kanji, CJK punctuation, full-width forms and half-width katakana.
 */
static bool is_japanese(unsigned cp)
{
	return (cp >= 0x3000 && cp <= 0x30FF) ||
	       (cp >= 0x3400 && cp <= 0x4DBF) ||
	       (cp >= 0x4E00 && cp <= 0x9FFF) ||
	       (cp >= 0xF900 && cp <= 0xFAFF) ||
	       (cp >= 0xFF00 && cp <= 0xFFEF) ||
	       (cp >= 0x20000 && cp <= 0x3FFFF);
}

/* The code point of the last character of s[0..n), or 0 when n is 0. */
static unsigned last_code_point(const char *s, size_t n)
{
	size_t i = n;

	if (n == 0)
		return 0;
	while (i > 0 && ((unsigned char)s[i - 1] & 0xC0) == 0x80)
		i--;
	return i > 0 ? code_point((const unsigned char *)s + i - 1) : 0;
}

/*
 * Names reach mail headers, SMS bodies and voice prompts: control
 * characters there break the message or smuggle in headers. A line break
 * in a name, though, is how a spreadsheet cell shows a long name on two
 * lines (Alt+Enter in Excel), so when fold is set it joins the lines: with
 * nothing between two Japanese characters (Japanese has no spaces: 施設課
 * and 当直 make 施設課当直), with one space anywhere else.
 */
static int set_text(char **slot, bool required, bool fold, const char *field,
		    const char *value, const char *file, int line,
		    struct diag_list *diags)
{
	size_t len = strlen(value), n = 0;
	char *copy;

	if (len == 0) {
		if (required)
			return empty_value(file, line, diags, field);
		free(*slot);
		*slot = NULL;
		return 0;
	}
	if (!utf8_valid(value, len, NULL))
		return bad_value(file, line, diags, field, value,
				 "invalid UTF-8");
	copy = malloc(len + 1);
	if (copy == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < len; i++) {
		if (fold && (value[i] == '\r' || value[i] == '\n')) {
			if (value[i] == '\r' && value[i + 1] == '\n')
				i++;
			if (!(is_japanese(last_code_point(copy, n)) &&
			      is_japanese(code_point(
				      (const unsigned char *)value + i + 1))))
				copy[n++] = ' ';
		} else {
			copy[n++] = value[i];
		}
	}
	copy[n] = '\0';
	if (utf8_has_control(copy, n)) {
		free(copy);
		return bad_value(file, line, diags, field, value,
				 "contains a control character");
	}
	free(*slot);
	*slot = copy;
	return 0;
}

static int set_id(char **slot, bool optional, const char *field,
		  const char *value, const char *file, int line,
		  struct diag_list *diags)
{
	if (*value == '\0') {
		if (!optional)
			return empty_value(file, line, diags, field);
		free(*slot);
		*slot = NULL;
		return 0;
	}
	if (!dir_id_valid(value))
		return bad_value(file, line, diags, field, value,
				 "not a slug (a-z, 0-9 and '-', at most 64)");
	return replace(slot, value);
}

/* An IANA zone name such as Asia/Tokyo, Etc/GMT-9 or UTC; no "..". */
static bool tz_valid(const char *s)
{
	size_t n = 0, part = 0;

	for (; s[n]; n++) {
		unsigned char c = (unsigned char)s[n];

		if (c == '/') {
			if (part == 0)
				return false;
			part = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' ||
		      c == '+'))
			return false;
		part++;
	}
	return n > 0 && n <= TZ_MAX && part > 0;
}

static int date_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether s (10 bytes) is a real date YYYY-MM-DD from 1970 on. */
static bool date_valid(const char *s)
{
	static const int len[12] = {31, 29, 31, 30, 31, 30,
				    31, 31, 30, 31, 30, 31};
	int y = 0, m, d;

	for (int i = 0; i < 10; i++)
		if (i == 4 || i == 7 ? s[i] != '-' : (s[i] < '0' || s[i] > '9'))
			return false;
	for (int i = 0; i < 4; i++)
		y = y * 10 + (s[i] - '0');
	m = (s[5] - '0') * 10 + (s[6] - '0');
	d = (s[8] - '0') * 10 + (s[9] - '0');
	if (y < 1970 || m < 1 || m > 12 || d < 1 || d > len[m - 1])
		return false;
	return !(m == 2 && d == 29 &&
		 !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0));
}

int dir_days_off_parse(const char *s, char **ret, const char **ret_why)
{
	char *dates[366], *out;
	size_t n = 0;

	while (*s != '\0') {
		size_t w = strcspn(s, ",; \t");

		if (w == 0) {
			s++;
			continue;
		}
		if (w != 10 || !date_valid(s)) {
			*ret_why = "not a list of dates YYYY-MM-DD (separated "
				   "by commas, semicolons or spaces)";
			return -EINVAL;
		}
		if (n == sizeof(dates) / sizeof(dates[0])) {
			*ret_why = "more than 366 days off";
			return -EINVAL;
		}
		dates[n++] = (char *)s;
		s += w;
	}
	if (n == 0) {
		*ret = NULL;
		return 0;
	}
	qsort(dates, n, sizeof(dates[0]), date_cmp);
	out = malloc(n * 11);
	if (out == NULL)
		return -ENOMEM;
	out[0] = '\0';
	for (size_t i = 0, k = 0; i < n; i++) {
		if (i > 0 && memcmp(dates[i], dates[i - 1], 10) == 0)
			continue;
		if (k++ > 0)
			strcat(out, ",");
		strncat(out, dates[i], 10);
	}
	*ret = out;
	return 0;
}

static bool is(const char *field, const char *a, const char *b)
{
	return strcmp(field, a) == 0 || (b != NULL && strcmp(field, b) == 0);
}

int dir_org_set(struct dir_org *o, const char *field, const char *value,
		const char *file, int line, struct diag_list *diags)
{
	const char *why;

	if (is(field, "id", "org_id"))
		return set_id(&o->id, false, field, value, file, line, diags);
	if (is(field, "name", "org_name"))
		return set_text(&o->name, true, true, field, value, file, line,
				diags);
	if (is(field, "name_en", NULL))
		return set_text(&o->name_en, false, true, field, value, file,
				line, diags);
	if (is(field, "sector", NULL))
		return set_text(&o->sector, true, false, field, value, file,
				line, diags);
	if (is(field, "parent", NULL))
		return set_id(&o->parent, true, field, value, file, line,
			      diags);
	if (is(field, "kind", NULL)) {
		if (*value == '\0')
			return empty_value(file, line, diags, field);
		if (dir_kind_parse(value, &o->kind) < 0)
			return bad_value(file, line, diags, field, value,
					 "unknown kind (expected ceptoar, "
					 "member or government)");
		return 0;
	}
	if (is(field, "hours", NULL)) {
		struct dir_hours h = o->hours;

		if (*value == '\0') {
			h.days = DEFAULT_DAYS;
			h.open_min = DEFAULT_OPEN;
			h.close_min = DEFAULT_CLOSE;
		} else if (dir_hours_parse(value, &h, &why) < 0) {
			return bad_value(file, line, diags, field, value, why);
		}
		o->hours = h;
		return 0;
	}
	if (is(field, "days_off", NULL)) {
		char *list = NULL;
		int r = dir_days_off_parse(value, &list, &why);

		if (r == -EINVAL)
			return bad_value(file, line, diags, field, value, why);
		if (r < 0)
			return r;
		free(o->hours.days_off);
		o->hours.days_off = list;
		return 0;
	}
	if (is(field, "timezone", NULL)) {
		if (*value == '\0')
			value = DEFAULT_TZ;
		if (!tz_valid(value))
			return bad_value(file, line, diags, field, value,
					 "not an IANA time zone name such as "
					 "Asia/Tokyo");
		return replace(&o->hours.tz, value);
	}
	return -ENOENT;
}

int dir_contact_set(struct dir_contact *c, const char *field, const char *value,
		    const char *file, int line, struct diag_list *diags)
{
	if (is(field, "id", "contact_id"))
		return set_id(&c->id, false, field, value, file, line, diags);
	if (is(field, "name", "contact_name"))
		return set_text(&c->name, true, true, field, value, file, line,
				diags);
	if (is(field, "role", NULL)) {
		if (*value == '\0')
			return empty_value(file, line, diags, field);
		if (dir_role_parse(value, &c->role) < 0)
			return bad_value(file, line, diags, field, value,
					 "unknown role (expected primary, "
					 "deputy, holiday or duty)");
		return 0;
	}
	if (is(field, "language", NULL)) {
		if (*value == '\0')
			value = "ja";
		if (strcmp(value, "ja") != 0 && strcmp(value, "en") != 0)
			return bad_value(file, line, diags, field, value,
					 "unknown language (expected ja or "
					 "en)");
		return replace(&c->language, value);
	}
	return -ENOENT;
}

int dir_method_set(struct dir_method *m, const char *field, const char *value,
		   const char *file, int line, struct diag_list *diags)
{
	const char *why;
	char *out;
	int r;

	if (is(field, "channel", NULL)) {
		if (*value == '\0')
			return empty_value(file, line, diags, field);
		if (dir_channel_parse(value, &m->channel) < 0)
			return bad_value(file, line, diags, field, value,
					 "unknown channel (expected mail, "
					 "voice, sms, fax or web)");
		/* A fax lies in a tray for anyone to read: GREEN at most,
		   unless the method says otherwise (parsers set the channel
		   first). */
		if (m->channel == DIR_CHANNEL_FAX)
			m->max_tlp = TLP_GREEN;
		return 0;
	}
	if (is(field, "address", NULL)) {
		if (*value == '\0')
			return empty_value(file, line, diags, field);
		r = dir_normalize_address(m->channel, value, &out, &why);
		if (r == -EINVAL)
			return bad_value(file, line, diags, field, value, why);
		if (r < 0)
			return r;
		free(m->address);
		m->address = out;
		return 0;
	}
	if (is(field, "max_tlp", NULL)) {
		if (*value == '\0') {
			m->max_tlp = m->channel == DIR_CHANNEL_FAX ? TLP_GREEN
								   : TLP_AMBER;
			return 0;
		}
		if (tlp_parse(value, &m->max_tlp) < 0)
			return bad_value(file, line, diags, field, value,
					 "unknown TLP level (expected CLEAR, "
					 "GREEN, AMBER, AMBER+STRICT or RED)");
		return 0;
	}
	if (is(field, "charset", NULL)) {
		if (*value == '\0') {
			m->charset = DIR_CHARSET_UTF8;
			return 0;
		}
		if (m->channel != DIR_CHANNEL_MAIL)
			return bad_value(file, line, diags, field, value,
					 "a charset applies to mail only");
		if (dir_charset_parse(value, &m->charset) < 0)
			return bad_value(file, line, diags, field, value,
					 "unknown charset (expected utf-8 or "
					 "iso-2022-jp)");
		return 0;
	}
	if (is(field, "order", NULL)) {
		int n = 0;
		size_t i;

		if (*value == '\0')
			return 0;
		for (i = 0; value[i] >= '0' && value[i] <= '9'; i++)
			if (i < ORDER_MAX_DIGITS)
				n = n * 10 + (value[i] - '0');
		if (value[i] != '\0' || i > ORDER_MAX_DIGITS)
			return bad_value(file, line, diags, field, value,
					 "not a whole number from 0 to "
					 "999999999");
		m->order = n;
		return 0;
	}
	return -ENOENT;
}
