/*
 * SMS segments: how many parts a text takes, and cutting a text so that
 * it fits. A text entirely in the GSM 03.38 alphabet goes as GSM-7: 160
 * septets in one segment, 153 per part when concatenated; its extension
 * characters ({ } [ ] \ ~ ^ | €) take two. Anything else (Japanese) goes
 * as UCS-2: 70 UTF-16 units in one segment, 67 per part; a character
 * outside the BMP (most emoji) is a surrogate pair, two units, and is
 * never split across parts or cut in half. Pure functions on UTF-8.
 */
#ifndef POCALERT_SMS_SEGMENT_H
#define POCALERT_SMS_SEGMENT_H

#include <stdbool.h>
#include <stddef.h>

enum sms_encoding {
	SMS_GSM7 = 0,
	SMS_UCS2,
};

struct sms_count {
	enum sms_encoding encoding;
	size_t units;	 /* septets (GSM-7) or UTF-16 units (UCS-2) */
	size_t segments; /* parts it takes; 0 for an empty text */
};

/* Counts s (valid UTF-8). */
struct sms_count sms_count(const char *s);

/*
 * The number of bytes of s that fit in units (of the given encoding),
 * ending at a character boundary: never inside a UTF-8 sequence, never
 * between the two halves of a surrogate pair, never inside a GSM-7
 * escape.
 */
size_t sms_fit(const char *s, enum sms_encoding enc, size_t units);

/* Units s takes in enc (a character GSM-7 lacks counts one). */
size_t sms_units(const char *s, enum sms_encoding enc);

/*
 * Segments of max_segments parts allow this many units in enc: one part
 * of 160 or 70, or max_segments parts of 153 or 67 each.
 */
size_t sms_capacity(enum sms_encoding enc, size_t max_segments);

#endif
