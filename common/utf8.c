/*
 * UTF-8 checks: see utf8.h. Follows the well-formed byte sequences table
 * of Unicode 15, section 3.9.
 */
#include <stdlib.h>
#include <string.h>

#include "common/utf8.h"

bool utf8_valid(const char *str, size_t len, size_t *bad_offset)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	while (i < len) {
		unsigned char c = s[i];
		size_t n;
		unsigned char lo = 0x80, hi = 0xBF;

		if (c < 0x80) {
			i++;
			continue;
		} else if (c >= 0xC2 && c <= 0xDF) {
			n = 1;
		} else if (c >= 0xE0 && c <= 0xEF) {
			n = 2;
			if (c == 0xE0)
				lo = 0xA0;
			else if (c == 0xED)
				hi = 0x9F;
		} else if (c >= 0xF0 && c <= 0xF4) {
			n = 3;
			if (c == 0xF0)
				lo = 0x90;
			else if (c == 0xF4)
				hi = 0x8F;
		} else {
			goto bad;
		}
		/* The lead byte needs n continuation bytes after it. */
		if (i + n >= len)
			goto bad;
		if (s[i + 1] < lo || s[i + 1] > hi)
			goto bad;
		for (size_t k = 2; k <= n; k++)
			if (s[i + k] < 0x80 || s[i + k] > 0xBF)
				goto bad;
		i += n + 1;
	}
	return true;
bad:
	if (bad_offset)
		*bad_offset = i;
	return false;
}

size_t utf8_length(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		if ((s[i] & 0xC0) != 0x80)
			n++;
	return n;
}

bool utf8_has_control(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;

	for (size_t i = 0; i < len; i++) {
		if (s[i] < 0x20 || s[i] == 0x7F)
			return true;
		/* U+0080..U+009F are encoded C2 80..C2 9F. */
		if (s[i] == 0xC2 && i + 1 < len && s[i + 1] >= 0x80 &&
		    s[i + 1] <= 0x9F)
			return true;
	}
	return false;
}

size_t utf8_prefix(const char *str, size_t len, size_t max)
{
	const unsigned char *s = (const unsigned char *)str;
	size_t cut = len < max ? len : max, lead, need;

	if (cut == 0)
		return 0;
	/* The lead byte of the last character that starts before cut. */
	lead = cut - 1;
	while (lead > 0 && (s[lead] & 0xC0) == 0x80)
		lead--;
	if ((s[lead] & 0xC0) == 0x80)
		return 0;
	if (s[lead] < 0x80)
		need = 1;
	else if (s[lead] >= 0xF0)
		need = 4;
	else if (s[lead] >= 0xE0)
		need = 3;
	else
		need = 2;
	/* It fits whole, or it goes (also when s itself ends inside it). */
	return lead + need <= cut ? cut : lead;
}

/* Length of the well-formed sequence at s[i], or 0 when there is none. */
static size_t seq_len(const unsigned char *s, size_t i, size_t len)
{
	size_t bad;

	for (size_t n = 1; n <= 4 && i + n <= len; n++)
		if (utf8_valid((const char *)s + i, n, &bad))
			return s[i] == 0 ? 0 : n;
	return 0;
}

char *utf8_repair(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	/* Each byte grows to at most the three bytes of U+FFFD. */
	char *out = malloc(len * 3 + 1);
	size_t o = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len;) {
		size_t n = seq_len(s, i, len);

		if (n == 0) {
			memcpy(out + o, "\xEF\xBF\xBD", 3);
			o += 3;
			i++;
		} else {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		}
	}
	out[o] = '\0';
	return out;
}
