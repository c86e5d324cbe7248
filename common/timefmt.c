/*
 * Time as the engine sees it: see timefmt.h. Milliseconds since the Unix
 * epoch are what the store keeps; RFC 3339 with the local zone's numeric
 * offset is what people and JSON clients read. We never write "Z": an
 * operator in Tokyo reads "+09:00" and knows at once which clock it is.
 */
#include <stdio.h>
#include <time.h>

#include "common/timefmt.h"

int64_t time_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Writes ms as RFC 3339 in the local zone (as set by TZ; a caller that
 * changes TZ at run time calls tzset() itself), e.g.
 * "2026-11-22T10:00:00.123+09:00", into out, truncating to len.
 */
void time_format_rfc3339(int64_t ms, char *out, size_t len)
{
	/* Floor division, so times before 1970 keep a positive fraction. */
	int64_t sec = ms / 1000, frac = ms % 1000;
	time_t t;
	struct tm tm;
	long off;
	char sign = '+';

	if (len == 0)
		return;
	if (frac < 0) {
		frac += 1000;
		sec--;
	}
	t = (time_t)sec;
	if (localtime_r(&t, &tm) == NULL) {
		snprintf(out, len, "invalid-time");
		return;
	}
	off = tm.tm_gmtoff;
	/*
	 * RFC 3339 offsets have no seconds; the odd historical zone whose
	 * offset does (local mean time) is written in UTC instead, so the
	 * text always names the right instant.
	 */
	if (off % 60 != 0) {
		if (gmtime_r(&t, &tm) == NULL) {
			snprintf(out, len, "invalid-time");
			return;
		}
		off = 0;
	}
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	snprintf(out, len, "%04d-%02d-%02dT%02d:%02d:%02d.%03d%c%02ld:%02ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, (int)frac, sign, off / 3600,
		 off / 60 % 60);
}
