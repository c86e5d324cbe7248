/*
 * SMS segment arithmetic: see sms_segment.h. The GSM 03.38 default
 * alphabet is kept as two tables of code points: the basic set (one
 * septet) and the extension set reached by ESC (two septets).
 *
 * Parts of a concatenated message are counted the way handsets split
 * them: a character that would straddle the end of a part moves whole to
 * the next one (a surrogate pair, or an ESC with its character), so a
 * part may hold one unit less than 153 or 67.
 */
#include <stdint.h>
#include <string.h>

#include "channels/sms_segment.h"

static const uint16_t gsm_basic[] = {
	'@',   0xA3,  '$',   0xA5,  0xE8,  0xE9,  0xF9,	 0xEC, 0xF2,  0xC7,
	'\n',  0xD8,  0xF8,  '\r',  0xC5,  0xE5,  0x394, '_',  0x3A6, 0x393,
	0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6,  0xDF,
	0xC9,  ' ',   '!',   '"',   '#',   0xA4,  '%',	 '&',  '\'',  '(',
	')',   '*',   '+',   ',',   '-',   '.',	  '/',	 ':',  ';',   '<',
	'=',   '>',   '?',   0xA1,  0xC4,  0xD6,  0xD1,	 0xDC, 0xA7,  0xBF,
	0xE4,  0xF6,  0xF1,  0xFC,  0xE0,
};
static const uint16_t gsm_ext[] = {'^', '{', '}', '\\',	  '[',
				   '~', ']', '|', 0x20AC, '\f'};

/* Decodes one UTF-8 character at s; *len gets its length. */
static uint32_t decode(const char *s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)s;

	if (p[0] < 0x80) {
		*len = 1;
		return p[0];
	}
	if ((p[0] & 0xE0) == 0xC0 && p[1]) {
		*len = 2;
		return (uint32_t)(p[0] & 0x1F) << 6 | (p[1] & 0x3F);
	}
	if ((p[0] & 0xF0) == 0xE0 && p[1] && p[2]) {
		*len = 3;
		return (uint32_t)(p[0] & 0x0F) << 12 |
		       (uint32_t)(p[1] & 0x3F) << 6 | (p[2] & 0x3F);
	}
	if ((p[0] & 0xF8) == 0xF0 && p[1] && p[2] && p[3]) {
		*len = 4;
		return (uint32_t)(p[0] & 0x07) << 18 |
		       (uint32_t)(p[1] & 0x3F) << 12 |
		       (uint32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
	}
	*len = 1; /* not UTF-8: counted as one unknown character */
	return 0xFFFD;
}

/* Septets of c in GSM-7, or 0 when the alphabet lacks it. */
static size_t septets(uint32_t c)
{
	if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	    (c >= '0' && c <= '9'))
		return 1;
	for (size_t i = 0; i < sizeof(gsm_basic) / sizeof(gsm_basic[0]); i++)
		if (gsm_basic[i] == c)
			return 1;
	for (size_t i = 0; i < sizeof(gsm_ext) / sizeof(gsm_ext[0]); i++)
		if (gsm_ext[i] == c)
			return 2;
	return 0;
}

static size_t units_of(uint32_t c, enum sms_encoding enc)
{
	if (enc == SMS_GSM7)
		return septets(c);
	return c > 0xFFFF ? 2 : 1;
}

static enum sms_encoding encoding_of(const char *s)
{
	for (size_t len; *s; s += len)
		if (septets(decode(s, &len)) == 0)
			return SMS_UCS2;
	return SMS_GSM7;
}

struct sms_count sms_count(const char *s)
{
	struct sms_count c = {.encoding = encoding_of(s)};
	size_t single = c.encoding == SMS_GSM7 ? 160 : 70;
	size_t part = c.encoding == SMS_GSM7 ? 153 : 67;
	size_t in_part = 0, len;

	for (const char *p = s; *p; p += len)
		c.units += units_of(decode(p, &len), c.encoding);
	if (c.units == 0)
		return c;
	if (c.units <= single) {
		c.segments = 1;
		return c;
	}
	/* Walk again: a character never straddles two parts. */
	c.segments = 1;
	for (const char *p = s; *p; p += len) {
		size_t u = units_of(decode(p, &len), c.encoding);

		if (in_part + u > part) {
			c.segments++;
			in_part = 0;
		}
		in_part += u;
	}
	return c;
}

size_t sms_fit(const char *s, enum sms_encoding enc, size_t units)
{
	size_t used = 0, len;
	const char *p = s;

	for (; *p; p += len) {
		size_t u = units_of(decode(p, &len), enc);

		if (u == 0)
			u = 1; /* not in the alphabet: the caller chose wrong */
		if (used + u > units)
			break;
		used += u;
	}
	return (size_t)(p - s);
}

size_t sms_units(const char *s, enum sms_encoding enc)
{
	size_t n = 0, len;

	for (; *s; s += len) {
		size_t u = units_of(decode(s, &len), enc);

		n += u ? u : 1;
	}
	return n;
}

size_t sms_capacity(enum sms_encoding enc, size_t max_segments)
{
	if (max_segments <= 1)
		return enc == SMS_GSM7 ? 160 : 70;
	/* Less one unit a part: a pair moved whole to the next part. */
	return max_segments * (enc == SMS_GSM7 ? 153 : 67) - (max_segments - 1);
}
