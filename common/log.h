/*
 * Logging to stderr, one line per event, safe from any thread.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. Pure rooms
 * (contacts/, policies/) never log: they return errors to their callers.
 * Never pass a secret to these functions.
 *
 * An event line is an event name and key=value fields ("delivery
 * alert=A org=O channel=mail outcome=sent"); a value with spaces, quotes
 * or '=' goes through log_q(). In the JSON format (--log-format json) each
 * line is an object with time, level, msg (the whole text) and every
 * key=value field of the message as a member of its own.
 */
#ifndef POCALERT_LOG_H
#define POCALERT_LOG_H

#include <stddef.h>

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

enum log_format {
	LOG_FORMAT_TEXT = 0, /* TIME LEVEL MESSAGE */
	LOG_FORMAT_JSON,     /* one JSON object per line */
};

/* Picks the line format (default LOG_FORMAT_TEXT). */
void log_set_format(enum log_format format);

/* "text" or "json" into *ret: 0, or -EINVAL for anything else. */
int log_format_parse(const char *s, enum log_format *ret);

/*
 * value as one key=value field's value: as is when it is a plain word,
 * else in double quotes with '"' and '\\' escaped and control bytes as
 * '?'. Written into buf (cut to len); returns buf. NULL gives "-".
 */
const char *log_q(char *buf, size_t len, const char *value);

/* Sets the most verbose level that is printed (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
