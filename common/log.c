/*
 * Logging to stderr. Each call formats its whole line first and writes it
 * with one fputs() under the stdio lock, so lines from worker threads never
 * interleave.
 *
 * The JSON format is for log shippers: the same message, and its
 * key=value fields lifted into members, so that a shipper can index
 * alert, org, delivery, channel and outcome without a parser of ours.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/log.h"

static enum log_level log_level = LOG_LEVEL_INFO;
static enum log_format log_format = LOG_FORMAT_TEXT;

void log_set_format(enum log_format format)
{
	log_format = format;
}

int log_format_parse(const char *s, enum log_format *ret)
{
	if (strcmp(s, "text") == 0)
		*ret = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*ret = LOG_FORMAT_JSON;
	else
		return -EINVAL;
	return 0;
}

const char *log_q(char *buf, size_t len, const char *value)
{
	size_t o = 0;
	bool plain = true;

	if (len == 0)
		return buf;
	if (value == NULL)
		value = "-";
	for (const char *p = value; *p; p++)
		if (*p == ' ' || *p == '"' || *p == '=' || *p == '\\' ||
		    (unsigned char)*p < 0x20)
			plain = false;
	if (plain && *value) {
		snprintf(buf, len, "%s", value);
		return buf;
	}
	/* Room kept for an escape pair, the closing quote and the NUL. */
	buf[o++] = '"';
	for (const char *p = value; *p && o + 4 < len; p++) {
		unsigned char ch = (unsigned char)*p;

		if (ch == '"' || ch == '\\')
			buf[o++] = '\\';
		buf[o++] = ch < 0x20 ? '?' : (char)ch;
	}
	buf[o++] = '"';
	buf[o] = '\0';
	return buf;
}

/* s as the inside of a JSON string into out (UTF-8 passes through). */
static void json_str(FILE *out, const char *s, size_t n)
{
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
}

/*
 * The key=value fields of msg as JSON members: a key is a word of
 * [a-z0-9_] starting a token; its value runs to the next space, or is a
 * log_q() quoted string. Other words belong to msg only.
 */
static void json_fields(FILE *out, const char *msg)
{
	const char *p = msg;

	while (*p) {
		const char *k = p, *v, *end;
		bool quoted;

		while (*p && (islower((unsigned char)*p) ||
			      isdigit((unsigned char)*p) || *p == '_'))
			p++;
		if (p == k || *p != '=' || (k != msg && k[-1] != ' ')) {
			p += strcspn(p, " ");
			p += strspn(p, " ");
			continue;
		}
		v = ++p;
		quoted = *v == '"';
		if (quoted) {
			for (end = ++v; *end && *end != '"'; end++)
				if (*end == '\\' && end[1])
					end++;
		} else {
			end = v + strcspn(v, " ");
		}
		/* The line's own members win over a field of that name. */
		if (!((p - k - 1 == 4 && strncmp(k, "time", 4) == 0) ||
		      (p - k - 1 == 5 && strncmp(k, "level", 5) == 0) ||
		      (p - k - 1 == 3 && strncmp(k, "msg", 3) == 0))) {
			fputs(",\"", out);
			json_str(out, k, (size_t)(p - k - 1));
			fputs("\":\"", out);
			if (quoted) {
				for (const char *c = v; c < end; c++) {
					if (*c == '\\' && c + 1 < end)
						c++;
					json_str(out, c, 1);
				}
			} else {
				json_str(out, v, (size_t)(end - v));
			}
			fputc('"', out);
		}
		p = *end ? end + (quoted ? 1 : 0) : end;
		p += strspn(p, " ");
	}
}

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
	if (log_format == LOG_FORMAT_JSON) {
		fprintf(stderr,
			"{\"time\":\"%s.%03ldZ\",\"level\":\"%s\","
			"\"msg\":\"",
			stamp, ts.tv_nsec / 1000000, level);
		json_str(stderr, msg, sizeof(msg));
		if (suffix) {
			fputs(": ", stderr);
			json_str(stderr, suffix, strlen(suffix));
		}
		fputc('"', stderr);
		json_fields(stderr, msg);
		if (suffix) {
			fputs(",\"error\":\"", stderr);
			json_str(stderr, suffix, strlen(suffix));
			fputc('"', stderr);
		}
		fputs("}\n", stderr);
	} else {
		fprintf(stderr, "%s.%03ldZ %s %s%s%s\n", stamp,
			ts.tv_nsec / 1000000, level, msg, suffix ? ": " : "",
			suffix ? suffix : "");
	}
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
