/*
 * The notify protocol for `pocalert serve`: see serve_notify.h.
 *
 * The watchdog is pinged from a timer on the event loop, not a thread:
 * the point is to prove that the loop still turns. STATUS= lines carry
 * the deliveries not yet settled and the active alerts, what
 * `systemctl status pocalert` then shows.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "common/log.h"
#include "dispatcher/cli/serve_notify.h"
#include "dispatcher/engine/engine.h"

#define STATUS_EVERY_MS 5000

struct serve_notify {
	struct engine *engine;	/* not owned */
	struct event *watchdog; /* owned; NULL without a watchdog */
	struct event *status;	/* owned; STATUS= refresh */
	struct timeval ping_tv; /* half the watchdog interval */
};

static void notify_send(const char *msg)
{
#if HAVE_LIBSYSTEMD
	int r = sd_notify(0, msg);

	if (r < 0)
		log_warnx("sd_notify: %s", strerror(-r));
#else
	(void)msg;
#endif
}

static void notify_status(struct serve_notify *n, const char *prefix)
{
	char msg[160];
	size_t deliveries, alerts;

	engine_pending(n->engine, &deliveries, &alerts);
	snprintf(msg, sizeof(msg),
		 "%sSTATUS=%zu deliveries pending, %zu alerts active", prefix,
		 deliveries, alerts);
	notify_send(msg);
}

static void on_watchdog(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	notify_send("WATCHDOG=1");
}

static void on_status(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	notify_status(arg, "");
}

/* Microseconds systemd wants pings within, or 0 when it wants none. */
static uint64_t notify_watchdog_usec(void)
{
#if HAVE_LIBSYSTEMD
	uint64_t usec = 0;

	if (sd_watchdog_enabled(0, &usec) > 0)
		return usec;
#endif
	return 0;
}

int serve_notify_ready(struct event_base *base, struct engine *e,
		       struct serve_notify **ret)
{
	struct serve_notify *n = calloc(1, sizeof(*n));
	struct timeval every = {STATUS_EVERY_MS / 1000, 0};
	uint64_t usec = notify_watchdog_usec();

	if (n == NULL)
		return -ENOMEM;
	n->engine = e;
	n->status = event_new(base, -1, EV_PERSIST, on_status, n);
	if (n->status == NULL || event_add(n->status, &every) < 0)
		goto fail;
	if (usec > 0) {
		/* Half the interval, as sd_watchdog_enabled(3) advises. */
		usec /= 2;
		n->ping_tv.tv_sec = (time_t)(usec / 1000000);
		n->ping_tv.tv_usec = (suseconds_t)(usec % 1000000);
		n->watchdog = event_new(base, -1, EV_PERSIST, on_watchdog, n);
		if (n->watchdog == NULL ||
		    event_add(n->watchdog, &n->ping_tv) < 0)
			goto fail;
		log_info("watchdog ping_every_us=%llu",
			 (unsigned long long)usec);
	}
	notify_status(n, "READY=1\n");
	*ret = n;
	return 0;
fail:
	serve_notify_free(n);
	return -ENOMEM;
}

void serve_notify_reloading(struct serve_notify *n)
{
	if (n)
		notify_send("RELOADING=1");
}

void serve_notify_reloaded(struct serve_notify *n, bool ok)
{
	if (n == NULL)
		return;
	if (ok)
		notify_status(n, "READY=1\n");
	else
		notify_send("READY=1\nSTATUS=reload refused: the old config "
			    "runs on");
}

void serve_notify_stopping(struct serve_notify *n)
{
	if (n == NULL)
		return;
	notify_send("STOPPING=1\nSTATUS=stopping");
	if (n->status)
		event_del(n->status);
}

void serve_notify_free(struct serve_notify *n)
{
	if (n == NULL)
		return;
	if (n->watchdog)
		event_free(n->watchdog);
	if (n->status)
		event_free(n->status);
	free(n);
}
