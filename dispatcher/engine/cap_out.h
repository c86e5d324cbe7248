/*
 * OASIS CAP 1.2 out: an alert written as a CAP <alert> that validates
 * against the OASIS schema, for systems downstream that read CAP. Pure:
 * it takes the alert's fields and returns text, with libxml2's writer
 * doing the escaping, so that a title with "<" or "&" stays text.
 */
#ifndef POCALERT_CAP_OUT_H
#define POCALERT_CAP_OUT_H

#include <stdbool.h>
#include <stdint.h>

#include "common/buf.h"
#include "common/tlp.h"

/* What goes into the message. Strings are borrowed. */
struct cap_out {
	const char *identifier; /* the alert id */
	const char *sender;	/* who pocalert speaks as */
	int64_t sent;		/* Unix seconds; written with +09:00 */
	bool drill;		/* status Exercise, else Actual */
	enum tlp tlp;		/* in <restriction>; scope Restricted unless
				   CLEAR, which is Public */
	const char *title;	/* headline and event */
	const char *body;	/* description; may be NULL */
	const char *severity;	/* critical, high, medium, low */
	const char *language;	/* "ja-JP" when NULL */
};

/*
 * Appends the CAP XML of in to out. Returns 0, -EINVAL for a severity
 * pocalert does not know, or -ENOMEM.
 */
int cap_write(const struct cap_out *in, struct buf *out);

/* "YYYY-MM-DDThh:mm:ss+09:00" for t into out (26 bytes with the NUL). */
void cap_time_jst(int64_t t, char out[26]);

#endif
