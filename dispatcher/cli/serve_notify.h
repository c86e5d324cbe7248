/*
 * `pocalert serve` speaking systemd's notify protocol (sd_notify(3)):
 * READY once the daemon takes work, STATUS lines with the work it holds,
 * RELOADING around a SIGHUP, STOPPING at shutdown, and a watchdog ping
 * from the event loop itself so that a wedged loop misses its pings and
 * systemd restarts it. Without $NOTIFY_SOCKET (or built without
 * libsystemd) every call is a no-op and the daemon runs as before.
 */
#ifndef POCALERT_SERVE_NOTIFY_H
#define POCALERT_SERVE_NOTIFY_H

#include <stdbool.h>

#include <event2/event.h>

struct engine;
struct serve_notify;

/*
 * Says READY=1 with a first STATUS line and starts the loop's timers: the
 * watchdog ping at half of $WATCHDOG_USEC when systemd asked for one, and
 * a STATUS refresh. e must outlive the notifier. Returns 0 with *ret
 * owned by the caller (serve_notify_free), or -ENOMEM.
 */
int serve_notify_ready(struct event_base *base, struct engine *e,
		       struct serve_notify **ret);

/* RELOADING=1 before a reload; READY=1 and a STATUS line after it. */
void serve_notify_reloading(struct serve_notify *n);
void serve_notify_reloaded(struct serve_notify *n, bool ok);

/*
 * STOPPING=1, and the timers stop: pings end with the loop's own work.
 * NULL is a no-op.
 */
void serve_notify_stopping(struct serve_notify *n);

/* Frees the notifier. NULL is a no-op. */
void serve_notify_free(struct serve_notify *n);

#endif
