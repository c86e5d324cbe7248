/*
 * UTF-8 validation, shared by every input path (directory files, API
 * bodies, callbacks): invalid text is refused at the door, so everything
 * stored and sent is well-formed.
 */
#ifndef POCALERT_UTF8_H
#define POCALERT_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/*
 * True when s[0..len) is well-formed UTF-8 (no overlongs, no surrogates,
 * nothing above U+10FFFF). When false and bad_offset is not NULL, it is
 * set to the offset of the first bad byte.
 */
bool utf8_valid(const char *s, size_t len, size_t *bad_offset);

/* Number of code points in a valid UTF-8 string of len bytes. */
size_t utf8_length(const char *s, size_t len);

/* True when s holds a C0 control character, DEL, or a C1 control (U+0080-U+009F). */
bool utf8_has_control(const char *s, size_t len);

/*
 * The byte length of the longest prefix of s[0..len) that is at most max
 * bytes and does not end inside a character, so that text cut to a size
 * limit stays well-formed: use it as "%.*s" precision or for a copy. A
 * character that s itself ends inside (text snprintf() already cut) is
 * dropped too: after snprintf(buf, ...), buf[utf8_prefix(buf,
 * strlen(buf), SIZE_MAX)] = '\0' mends the cut.
 */
size_t utf8_prefix(const char *s, size_t len, size_t max);

/*
 * A copy of s[0..len) that is well-formed UTF-8: each byte that does not
 * begin a well-formed sequence becomes U+FFFD, so text that was cut or
 * garbled elsewhere is still shown (and hashed) rather than dropped.
 * Embedded NULs also become U+FFFD, since the copy is a C string.
 * Returns a NUL-terminated string the caller frees, or NULL when out of
 * memory.
 */
char *utf8_repair(const char *s, size_t len);

#endif
