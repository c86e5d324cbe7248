/*
 * A growable byte buffer for building messages, JSON and SQL. Always kept
 * NUL-terminated so its data can be used as a C string.
 */
#ifndef POCALERT_BUF_H
#define POCALERT_BUF_H

#include <stddef.h>

struct buf {
	char *data; /* owned; NUL-terminated when non-NULL */
	size_t len; /* bytes used, not counting the NUL */
	size_t cap; /* bytes allocated */
};

/* Each returns 0 or -ENOMEM. */
int buf_append(struct buf *b, const void *data, size_t len);
int buf_puts(struct buf *b, const char *s);
int buf_printf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Hands the data over to the caller (never NULL on success: "" when empty). */
char *buf_steal(struct buf *b);

/* Frees the data; the buffer is empty and usable again. */
void buf_free(struct buf *b);

#endif
