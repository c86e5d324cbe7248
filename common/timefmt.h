/*
 * Time as the engine sees it: Unix milliseconds, and RFC 3339 text with a
 * numeric offset for everything shown to people and in JSON.
 */
#ifndef POCALERT_TIMEFMT_H
#define POCALERT_TIMEFMT_H

#include <stddef.h>
#include <stdint.h>

/* Wall-clock now in Unix milliseconds. */
int64_t time_now_ms(void);

/*
 * Writes ms as RFC 3339 in the local zone with its numeric offset,
 * e.g. "2026-11-22T10:00:00.123+09:00", into out (at least 32 bytes).
 */
void time_format_rfc3339(int64_t ms, char *out, size_t len);

#endif
