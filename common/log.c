/*
 * Logging to stderr. Each call formats its whole line first and writes it
 * with one fputs() under the stdio lock, so lines from worker threads never
 * interleave.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static enum log_level log_level = LOG_LEVEL_INFO;

void log_set_level(enum log_level level)
{
	log_level = level;
}

static void log_line(const char *level, const char *suffix, const char *fmt,
		     va_list ap)
{
	char msg[2048], stamp[32];
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S", &tm);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	flockfile(stderr);
	fprintf(stderr, "%s.%03ldZ %s %s%s%s\n", stamp, ts.tv_nsec / 1000000,
		level, msg, suffix ? ": " : "", suffix ? suffix : "");
	funlockfile(stderr);
}

void log_warn(const char *fmt, ...)
{
	char errbuf[128];
	const char *err;
	int saved = errno;
	va_list ap;

	err = strerror_r(saved, errbuf, sizeof(errbuf));
	va_start(ap, fmt);
	log_line("warn", err, fmt, ap);
	va_end(ap);
	errno = saved;
}

void log_warnx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_line("warn", NULL, fmt, ap);
	va_end(ap);
}

void log_info(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_line("info", NULL, fmt, ap);
	va_end(ap);
}

void log_debug(const char *fmt, ...)
{
	va_list ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_line("debug", NULL, fmt, ap);
	va_end(ap);
}
