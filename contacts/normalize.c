/*
 * Checks and normalisers for single values of the directory: telephone
 * numbers to E.164, a pragmatic mail-address check, web URLs, ids, business
 * hours, and the quoting of values in diagnostics.
 *
 * Everything here is a pure function of its input and works on bytes in
 * the ASCII range, never through <ctype.h>, so that the answer does not
 * depend on the process locale. Reasons are static English strings that
 * callers put after "FIELD 'VALUE': ".
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "contacts/directory.h"

#define E164_MAX_DIGITS 15
#define PHONE_MIN_DIGITS 8
#define MAIL_MAX 254
#define MAIL_LOCAL_MAX 64
#define DNS_NAME_MAX 253
#define DNS_LABEL_MAX 63

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alpha(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static unsigned char to_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c - 'A' + 'a' : c;
}

static int fail(const char **ret_why, const char *why)
{
	if (ret_why)
		*ret_why = why;
	return -EINVAL;
}

/*
 * What Japanese input methods type in a phone number, folded to ASCII as
 * NFKC would (full-width digits, '＋', parentheses, '．', the ideographic
 * space), and the hyphen family (-, ‐ U+2010, ‑ U+2011, ‒ – — ―
 * U+2012-2015, − U+2212, ﹣ U+FE63, － U+FF0D, ー U+30FC, ｰ U+FF70) to
 * '-'. A small table rather than a Unicode library: these are the
 * characters people write in numbers. Anything else is copied as it is.
 */
static int fold_phone(const char *in, char *out, size_t len)
{
	size_t o = 0;

	for (const unsigned char *p = (const unsigned char *)in; *p;) {
		unsigned cp = 0;
		size_t w = 1;
		char c = 0;

		if (p[0] >= 0xE0 && p[0] < 0xF0 && (p[1] & 0xC0) == 0x80 &&
		    (p[2] & 0xC0) == 0x80) {
			cp = ((p[0] & 0x0Fu) << 12) | ((p[1] & 0x3Fu) << 6) |
			     (p[2] & 0x3Fu);
			w = 3;
		} else if (p[0] == 0xC2 && p[1] == 0xA0) {
			cp = 0xA0, w = 2;
		}
		if (cp >= 0xFF10 && cp <= 0xFF19)
			c = (char)('0' + (cp - 0xFF10));
		else if (cp == 0xFF0B)
			c = '+';
		else if (cp == 0xFF08)
			c = '(';
		else if (cp == 0xFF09)
			c = ')';
		else if (cp == 0xFF0E)
			c = '.';
		else if (cp == 0x3000 || cp == 0xA0)
			c = ' ';
		else if ((cp >= 0x2010 && cp <= 0x2015) || cp == 0x2212 ||
			 cp == 0xFE63 || cp == 0xFF0D || cp == 0x30FC ||
			 cp == 0xFF70)
			c = '-';
		if (c != 0) {
			if (o + 1 >= len)
				return -E2BIG;
			out[o++] = c;
		} else {
			if (o + w >= len)
				return -E2BIG;
			memcpy(out + o, p, w);
			o += w;
		}
		p += w;
	}
	out[o] = '\0';
	return 0;
}

static bool starts(const char *digits, size_t n, const char *prefix)
{
	size_t k = strlen(prefix);

	return n >= k && memcmp(digits, prefix, k) == 0;
}

/*
 * The kind of a Japanese number written with its trunk 0 (digits, n of
 * them), by the numbering plan: 070/080/090 mobile and 050 IP phone with
 * 11 digits, 0120 free dial with 10, 0800 free dial with 11, 0570 navi
 * dial with 10, the rest (0 and an area code) fixed lines with 10.
 * -EINVAL with the reason for what fits none.
 */
static int jp_kind(const char *d, size_t n, enum dir_phone_kind *ret,
		   const char **ret_why)
{
	static const struct {
		const char *prefix;
		size_t digits;
		enum dir_phone_kind kind;
		const char *why;
	} plan[] = {
		/* 0800 first: it also starts with 080. */
		{"0800", 11, DIR_PHONE_FREE_DIAL,
		 "a free dial number (0800) has 11 digits with the 0"},
		{"070", 11, DIR_PHONE_MOBILE,
		 "a mobile number (070/080/090) has 11 digits with the 0"},
		{"080", 11, DIR_PHONE_MOBILE,
		 "a mobile number (070/080/090) has 11 digits with the 0"},
		{"090", 11, DIR_PHONE_MOBILE,
		 "a mobile number (070/080/090) has 11 digits with the 0"},
		{"050", 11, DIR_PHONE_IP,
		 "an IP phone number (050) has 11 digits with the 0"},
		{"0120", 10, DIR_PHONE_FREE_DIAL,
		 "a free dial number (0120) has 10 digits with the 0"},
		{"0570", 10, DIR_PHONE_NAVI_DIAL,
		 "a navi dial number (0570) has 10 digits with the 0"},
	};

	for (size_t i = 0; i < sizeof(plan) / sizeof(plan[0]); i++) {
		if (!starts(d, n, plan[i].prefix))
			continue;
		if (n != plan[i].digits)
			return fail(ret_why, plan[i].why);
		*ret = plan[i].kind;
		return 0;
	}
	if (n != 10)
		return fail(ret_why,
			    "a fixed-line number has 10 digits with the "
			    "area code's 0 (03-1234-5678, 0422-12-3456)");
	*ret = DIR_PHONE_FIXED;
	return 0;
}

int dir_phone_parse(const char *in, char **ret, enum dir_phone_kind *ret_kind,
		    const char **ret_why)
{
	char digits[E164_MAX_DIGITS + 2], folded[256];
	enum dir_phone_kind kind = DIR_PHONE_FOREIGN;
	size_t n = 0;
	bool plus = false;
	char *out;

	if (in == NULL || *in == '\0')
		return fail(ret_why, "empty");
	if (fold_phone(in, folded, sizeof(folded)) < 0)
		return fail(ret_why, "longer than E.164's 15 digits");
	for (const char *p = folded; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (is_digit(c)) {
			if (n == sizeof(digits))
				return fail(ret_why,
					    "longer than E.164's 15 digits");
			digits[n++] = (char)c;
		} else if (c == '+') {
			if (plus || n > 0)
				return fail(ret_why,
					    "'+' may only start the number");
			plus = true;
		} else if (c == '(' && plus && n > 0 && p[1] == '0' &&
			   p[2] == ')') {
			/*
			 * "+81 (0)3-..." shows the domestic trunk 0 that is
			 * not dialled from abroad: dropping it is the only
			 * reading that gives a working number.
			 */
			p += 2;
		} else if (c == ' ' || c == '-' || c == '.' || c == '(' ||
			   c == ')') {
			continue;
		} else if (is_alpha(c)) {
			return fail(ret_why, "letters are not allowed");
		} else {
			return fail(ret_why,
				    "only digits, '+', spaces, '-', '.' and "
				    "parentheses are allowed");
		}
	}
	if (n == 0)
		return fail(ret_why, "no digits");

	if (plus) {
		if (digits[0] == '0')
			return fail(ret_why,
				    "a country code never starts with 0");
		if (n > E164_MAX_DIGITS)
			return fail(ret_why, "longer than E.164's 15 digits");
		if (n < PHONE_MIN_DIGITS)
			return fail(ret_why, "too short (under 8 digits)");
		if (n >= 2 && digits[0] == '8' && digits[1] == '1') {
			char national[E164_MAX_DIGITS + 2];
			size_t k = n - 2, skip = 2;

			/* +81-03-...: the trunk 0 is not dialled after +81. */
			if (k > 0 && digits[2] == '0')
				k--, skip = 3;
			national[0] = '0';
			memcpy(national + 1, digits + skip, k);
			if (jp_kind(national, k + 1, &kind, ret_why) < 0)
				return -EINVAL;
			if (asprintf(&out, "+81%.*s", (int)k, digits + skip) <
			    0)
				return -ENOMEM;
		} else if (asprintf(&out, "+%.*s", (int)n, digits) < 0) {
			return -ENOMEM;
		}
		*ret = out;
		if (ret_kind)
			*ret_kind = kind;
		return 0;
	}

	if (digits[0] != '0')
		return fail(ret_why,
			    "neither +country code nor a Japanese number "
			    "starting with 0");
	/*
	 * 00 and 010 are prefixes for dialling abroad, not the start of a
	 * Japanese number: turning them into +81 would call a wrong number.
	 */
	if (n >= 2 && digits[1] == '0')
		return fail(ret_why, "starts with 00: write it as +CC...");
	if (n >= 3 && digits[1] == '1' && digits[2] == '0')
		return fail(ret_why,
			    "010 is the prefix for calling abroad: write it "
			    "as +CC...");
	/* +81 replaces the trunk 0: one digit more in E.164. */
	if (n + 1 > E164_MAX_DIGITS)
		return fail(ret_why, "longer than E.164's 15 digits");
	if (n + 1 < PHONE_MIN_DIGITS)
		return fail(ret_why, "too short (under 8 digits)");
	if (jp_kind(digits, n, &kind, ret_why) < 0)
		return -EINVAL;
	if (asprintf(&out, "+81%.*s", (int)n - 1, digits + 1) < 0)
		return -ENOMEM;
	*ret = out;
	if (ret_kind)
		*ret_kind = kind;
	return 0;
}

int dir_normalize_phone(const char *in, char **ret, const char **ret_why)
{
	return dir_phone_parse(in, ret, NULL, ret_why);
}

/* The number for a channel: SMS needs a mobile, fax a line that takes it. */
static int normalize_phone_for(enum dir_channel c, const char *in, char **ret,
			       const char **ret_why)
{
	enum dir_phone_kind kind;
	char *out = NULL;
	int r = dir_phone_parse(in, &out, &kind, ret_why);

	if (r < 0)
		return r;
	if (c == DIR_CHANNEL_SMS && kind != DIR_PHONE_MOBILE &&
	    kind != DIR_PHONE_FOREIGN) {
		free(out);
		return fail(ret_why, "SMS needs a mobile number (070, 080 or "
				     "090)");
	}
	if (c == DIR_CHANNEL_FAX && kind != DIR_PHONE_FIXED &&
	    kind != DIR_PHONE_IP && kind != DIR_PHONE_FOREIGN) {
		free(out);
		return fail(ret_why, "fax needs a fixed-line number or an IP "
				     "phone (050)");
	}
	*ret = out;
	return 0;
}

static bool is_atext(unsigned char c)
{
	/* RFC 5322 atext: letters, digits and these specials. */
	return is_digit(c) || is_alpha(c) ||
	       (c != '\0' && strchr("!#$%&'*+-/=?^_`{|}~", c) != NULL);
}

/*
 * Checks a dot-separated host name of LDH labels: what a mail domain or
 * a URL host must be. need_dot asks for at least two labels.
 */
static int check_dns_name(const char *s, size_t len, bool need_dot,
			  const char **ret_why)
{
	size_t label = 0;
	bool dot = false, alpha_in_last = false;

	if (len == 0)
		return fail(ret_why, "empty host name");
	if (len > DNS_NAME_MAX)
		return fail(ret_why, "host name longer than 253 characters");
	for (size_t i = 0; i <= len; i++) {
		unsigned char c = i < len ? (unsigned char)s[i] : '.';

		if (c == '.') {
			if (label == 0)
				return fail(ret_why,
					    "empty label in the host name");
			if (s[i - 1] == '-')
				return fail(ret_why,
					    "a host-name label ends with '-'");
			if (i < len) {
				dot = true;
				alpha_in_last = false;
			}
			label = 0;
			continue;
		}
		if (!is_digit(c) && !is_alpha(c) && c != '-')
			return fail(ret_why,
				    "host names allow only letters, digits, "
				    "'-' and dots");
		if (c == '-' && label == 0)
			return fail(ret_why,
				    "a host-name label starts with '-'");
		if (++label > DNS_LABEL_MAX)
			return fail(ret_why,
				    "a host-name label is longer than 63 "
				    "characters");
		if (!is_digit(c))
			alpha_in_last = true;
	}
	if (need_dot && !dot)
		return fail(ret_why, "the domain has no dot");
	if (need_dot && !alpha_in_last)
		return fail(ret_why, "the top-level domain is numeric");
	return 0;
}

int dir_check_mail(const char *in, char **ret, const char **ret_why)
{
	const char *at;
	size_t len, local;
	char *out;
	int r;

	if (in == NULL || *in == '\0')
		return fail(ret_why, "empty");
	len = strlen(in);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)in[i];

		if (c == ' ' || c == '\t')
			return fail(ret_why, "contains a space");
		if (c < 0x20 || c == 0x7F)
			return fail(ret_why, "contains a control character");
		if (c >= 0x80)
			return fail(ret_why,
				    "contains non-ASCII characters (write "
				    "the domain in its xn-- form)");
	}
	if (len > MAIL_MAX)
		return fail(ret_why, "longer than 254 characters");
	at = strchr(in, '@');
	if (at == NULL)
		return fail(ret_why, "no '@'");
	if (strchr(at + 1, '@') != NULL)
		return fail(ret_why, "more than one '@'");
	local = (size_t)(at - in);
	if (local == 0)
		return fail(ret_why, "empty local part");
	if (local > MAIL_LOCAL_MAX)
		return fail(ret_why, "local part longer than 64 characters");
	/*
	 * Dots may lead, trail or repeat: Japanese mobile carriers handed
	 * out such addresses for years and they still receive mail.
	 */
	for (size_t i = 0; i < local; i++)
		if (!is_atext((unsigned char)in[i]) && in[i] != '.')
			return fail(ret_why,
				    "character not allowed in the local part");
	r = check_dns_name(at + 1, len - local - 1, true, ret_why);
	if (r < 0)
		return r;

	/* Domains are case-insensitive; one spelling makes lookups exact. */
	out = strdup(in);
	if (out == NULL)
		return -ENOMEM;
	for (size_t i = local + 1; i < len; i++)
		out[i] = (char)to_lower((unsigned char)out[i]);
	*ret = out;
	return 0;
}

/* True for a dotted quad whose every part is 0..255 and the first 127. */
static bool is_ipv4_loopback(const char *s, size_t len)
{
	unsigned parts = 0, value = 0, ndigits = 0, first = 0;

	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			if (ndigits == 0 || value > 255)
				return false;
			if (parts++ == 0)
				first = value;
			value = ndigits = 0;
			continue;
		}
		if (!is_digit((unsigned char)s[i]) || ++ndigits > 3)
			return false;
		value = value * 10 + (unsigned)(s[i] - '0');
	}
	return parts == 4 && first == 127;
}

int dir_check_url(const char *in, char **ret, const char **ret_why)
{
	const char *host, *end, *p;
	size_t scheme_len, host_len;
	bool https, loopback = false;
	char *out;
	int r;

	if (in == NULL || *in == '\0')
		return fail(ret_why, "empty");
	for (p = in; *p; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == ' ' || c == '\t')
			return fail(ret_why, "contains a space");
		if (c < 0x20 || c == 0x7F)
			return fail(ret_why, "contains a control character");
		if (c >= 0x80)
			return fail(ret_why, "contains non-ASCII characters "
					     "(percent-encode them)");
	}
	if (strncasecmp(in, "https://", 8) == 0) {
		https = true;
		scheme_len = 8;
	} else if (strncasecmp(in, "http://", 7) == 0) {
		https = false;
		scheme_len = 7;
	} else {
		return fail(ret_why, "not an https URL");
	}

	host = in + scheme_len;
	end = host + strcspn(host, "/?#");
	if (memchr(host, '@', (size_t)(end - host)) != NULL)
		return fail(ret_why,
			    "user names and passwords do not belong in the "
			    "directory");
	if (*host == '[') {
		/* An IPv6 literal: hex digits, colons, maybe a dotted tail. */
		const char *close = memchr(host, ']', (size_t)(end - host));

		if (close == NULL || close == host + 1)
			return fail(ret_why, "bad IPv6 address in brackets");
		for (p = host + 1; p < close; p++)
			if (!is_digit((unsigned char)*p) &&
			    !(to_lower((unsigned char)*p) >= 'a' &&
			      to_lower((unsigned char)*p) <= 'f') &&
			    *p != ':' && *p != '.')
				return fail(ret_why,
					    "bad IPv6 address in brackets");
		host_len = (size_t)(close + 1 - host);
		loopback = host_len == 5 && memcmp(host, "[::1]", 5) == 0;
	} else {
		host_len = strcspn(host, ":/?#");
		r = check_dns_name(host, host_len, false, ret_why);
		if (r < 0)
			return r;
		loopback = (host_len == 9 &&
			    strncasecmp(host, "localhost", 9) == 0) ||
			   is_ipv4_loopback(host, host_len);
	}

	p = host + host_len;
	if (*p == ':') {
		unsigned long port = 0;
		size_t ndigits = 0;

		for (p++; p < end; p++, ndigits++) {
			if (!is_digit((unsigned char)*p) || ndigits >= 5)
				return fail(ret_why, "bad port");
			port = port * 10 + (unsigned long)(*p - '0');
		}
		if (ndigits == 0 || port == 0 || port > 65535)
			return fail(ret_why, "bad port");
	} else if (p != end) {
		return fail(ret_why, "bad host");
	}
	if (!https && !loopback)
		return fail(ret_why, "http is only for loopback (127.0.0.0/8, "
				     "localhost, [::1]): use https");

	/* Scheme and host are case-insensitive: keep one spelling. */
	out = strdup(in);
	if (out == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < scheme_len + host_len; i++)
		out[i] = (char)to_lower((unsigned char)out[i]);
	*ret = out;
	return 0;
}

int dir_normalize_address(enum dir_channel c, const char *in, char **ret,
			  const char **ret_why)
{
	switch (c) {
	case DIR_CHANNEL_MAIL:
		return dir_check_mail(in, ret, ret_why);
	case DIR_CHANNEL_VOICE:
	case DIR_CHANNEL_SMS:
	case DIR_CHANNEL_FAX:
		return normalize_phone_for(c, in, ret, ret_why);
	case DIR_CHANNEL_WEB:
		return dir_check_url(in, ret, ret_why);
	case DIR_CHANNEL_COUNT:
		break;
	}
	return fail(ret_why, "unknown channel");
}

bool dir_id_valid(const char *id)
{
	size_t n = 0;

	if (id == NULL)
		return false;
	for (; id[n]; n++) {
		unsigned char c = (unsigned char)id[n];

		if (!(c >= 'a' && c <= 'z') && !is_digit(c) && c != '-')
			return false;
		if (n == DIR_ID_MAX)
			return false;
	}
	return n > 0;
}

static const char *const day_names[7] = {
	"sun", "mon", "tue", "wed", "thu", "fri", "sat",
};

/* Reads a three-letter day name at s; returns 0..6 or -1. */
static int parse_day(const char *s)
{
	for (int i = 0; i < 7; i++)
		if (strncasecmp(s, day_names[i], 3) == 0)
			return i;
	return -1;
}

/* Reads "H:MM" or "HH:MM" at *s, moving *s past it; minutes or -1. */
static int parse_time(const char **s)
{
	const char *p = *s;
	int h = 0, m, n = 0;

	while (is_digit((unsigned char)*p) && n < 2) {
		h = h * 10 + (*p++ - '0');
		n++;
	}
	if (n == 0 || *p != ':' || !is_digit((unsigned char)p[1]) ||
	    !is_digit((unsigned char)p[2]))
		return -1;
	m = (p[1] - '0') * 10 + (p[2] - '0');
	if (m > 59 || h > 24 || (h == 24 && m != 0))
		return -1;
	*s = p + 3;
	return h * 60 + m;
}

int dir_hours_parse(const char *s, struct dir_hours *ret, const char **ret_why)
{
	unsigned days = 0;
	int open_min, close_min;

	if (s == NULL)
		return fail(ret_why, "empty");
	while (*s == ' ')
		s++;
	if (*s == '\0')
		return fail(ret_why, "empty");

	/* Days: a comma list of days or ranges; a range may wrap (fri-mon). */
	for (;;) {
		int from = parse_day(s), to;

		if (from < 0)
			return fail(ret_why,
				    "expected days like mon-fri or mon,wed,fri "
				    "(sun mon tue wed thu fri sat)");
		s += 3;
		to = from;
		if (*s == '-') {
			to = parse_day(s + 1);
			if (to < 0)
				return fail(ret_why,
					    "expected a day after '-' (sun "
					    "mon tue wed thu fri sat)");
			s += 4;
		}
		for (int d = from;; d = (d + 1) % 7) {
			days |= 1u << d;
			if (d == to)
				break;
		}
		if (*s != ',')
			break;
		s++;
	}
	if (*s != ' ')
		return fail(ret_why,
			    "expected a space between days and times, as in "
			    "\"mon-fri 09:00-18:00\"");
	while (*s == ' ')
		s++;

	open_min = parse_time(&s);
	if (open_min < 0 || *s != '-')
		return fail(ret_why, "expected times like 09:00-18:00");
	s++;
	close_min = parse_time(&s);
	if (close_min < 0)
		return fail(ret_why, "expected times like 09:00-18:00");
	while (*s == ' ')
		s++;
	if (*s != '\0')
		return fail(ret_why, "unexpected text after the times");
	if (open_min == 24 * 60)
		return fail(ret_why, "opening time 24:00 is not a time of day");
	if (close_min <= open_min)
		return fail(ret_why, "closing time must be after opening time "
				     "(hours past midnight are not supported)");

	ret->days = days;
	ret->open_min = open_min;
	ret->close_min = close_min;
	return 0;
}

void dir_hours_format(const struct dir_hours *h, char *out, size_t len)
{
	char days[40] = "";
	size_t n = 0;
	unsigned set = h->days & 0x7F;

	if (set == 0x7F) {
		snprintf(days, sizeof(days), "sun-sat");
	} else if (set != 0) {
		/*
		 * Runs of consecutive days become ranges. Starting the walk
		 * just after a day off keeps a weekend run such as sat-sun in
		 * one piece, so that parsing the output gives the same days.
		 */
		int start = 0;

		while (set & (1u << start))
			start++;
		for (int k = 1; k <= 7;) {
			int d = (start + k) % 7, e = d, len_run = 1;

			if (!(set & (1u << d))) {
				k++;
				continue;
			}
			while (k + len_run <= 7 &&
			       (set & (1u << ((start + k + len_run) % 7)))) {
				e = (start + k + len_run) % 7;
				len_run++;
			}
			n += (size_t)snprintf(days + n, sizeof(days) - n,
					      "%s%s%s%s", n ? "," : "",
					      day_names[d],
					      len_run > 1 ? "-" : "",
					      len_run > 1 ? day_names[e] : "");
			k += len_run;
		}
	}
	snprintf(out, len, "%s %02d:%02d-%02d:%02d", days, h->open_min / 60,
		 h->open_min % 60, h->close_min / 60, h->close_min % 60);
}

/*
 * The quoted form of the character at s: printable text as it is, control
 * characters and bytes that do not start a well-formed UTF-8 sequence as
 * \xNN. Writes it to piece, sets *used to the bytes of s it stands for and
 * returns its length.
 */
static size_t quote_piece(const char *s, char piece[8], size_t *used)
{
	unsigned char c = (unsigned char)*s;
	size_t k = 1;

	if (c >= 0xF0 && c <= 0xF4)
		k = 4;
	else if (c >= 0xE0 && c <= 0xEF)
		k = 3;
	else if (c >= 0xC2 && c <= 0xDF)
		k = 2;
	for (size_t i = 1; i < k; i++)
		if (((unsigned char)s[i] & 0xC0) != 0x80)
			k = 0;
	if (c < 0x20 || c == 0x7F || (c >= 0x80 && k < 2)) {
		snprintf(piece, 8, "\\x%02X", c);
		*used = 1;
		return 4;
	}
	memcpy(piece, s, k);
	*used = k;
	return k;
}

void dir_quote(const char *s, char *out, size_t len)
{
	size_t total = 0, o = 0, used;
	char piece[8];

	if (len == 0)
		return;
	out[0] = '\0';
	if (s == NULL || len < 8)
		return;
	for (const char *p = s; *p; p += used)
		total += quote_piece(p, piece, &used);
	for (const char *p = s; *p; p += used) {
		size_t plen = quote_piece(p, piece, &used);

		/* Cut only when it all cannot fit; leave room for "...". */
		if (total >= len && o + plen > len - 4) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		memcpy(out + o, piece, plen);
		o += plen;
	}
	out[o] = '\0';
}
