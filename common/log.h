/*
 * Logging to stderr, one line per event, safe from any thread.
 *
 * log_warn() appends strerror(errno); log_warnx() does not. Pure rooms
 * (contacts/, policies/) never log: they return errors to their callers.
 * Never pass a secret to these functions.
 */
#ifndef POCALERT_LOG_H
#define POCALERT_LOG_H

enum log_level {
	LOG_LEVEL_WARN = 0,
	LOG_LEVEL_INFO = 1,
	LOG_LEVEL_DEBUG = 2,
};

/* Sets the most verbose level that is printed (default LOG_LEVEL_INFO). */
void log_set_level(enum log_level level);

void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_debug(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
