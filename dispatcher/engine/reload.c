/*
 * A running engine takes a new config (SIGHUP, `systemctl reload`) and
 * reports how much work it holds (for systemd's STATUS= line).
 *
 * A reload swaps what is read afresh on every decision: operators,
 * policies and selection rules, the calendar, the mode, reply-link rate
 * limit and the directory cache. What is bound to running resources (the
 * database, the listeners, the channels and their drivers) needs a
 * restart: a config that changes it is refused whole, so the daemon never
 * runs half of one config and half of another. Alerts already accepted
 * keep the policy snapshot they were accepted with, and deliveries in
 * flight or waiting on a timer are not touched.
 *
 * The reload counters are the process's (one engine per daemon): an
 * on-call engineer alerts on a refused reload, which otherwise leaves the
 * daemon quietly running yesterday's config.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "common/buf.h"
#include "common/cfgfile.h"
#include "common/log.h"
#include "dispatcher/engine/dircache.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/engine/model.h"

static unsigned long reloads_ok, reloads_refused;

void engine_reload_refused(struct engine *e)
{
	(void)e;
	reloads_refused++;
}

int engine_reload_metrics(struct engine *e, struct buf *out)
{
	size_t deliveries, alerts;

	engine_pending(e, &deliveries, &alerts);
	return buf_printf(
		out,
		"# HELP pocalert_build_info The running version.\n"
		"# TYPE pocalert_build_info gauge\n"
		"pocalert_build_info{version=\"%s\"} 1\n"
		"# HELP pocalert_config_reloads_total Reloads (SIGHUP) by "
		"result.\n"
		"# TYPE pocalert_config_reloads_total counter\n"
		"pocalert_config_reloads_total{result=\"ok\"} %lu\n"
		"pocalert_config_reloads_total{result=\"refused\"} %lu\n"
		"# HELP pocalert_alerts_active Alerts not yet finished.\n"
		"# TYPE pocalert_alerts_active gauge\n"
		"pocalert_alerts_active %zu\n",
		POCALERT_VERSION, reloads_ok, reloads_refused, alerts);
}

static bool str_same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

/*
 * One diag for each setting that differs in a way only a restart can
 * apply. Returns how many.
 */
static int reload_restart_only(const struct config *cur,
			       const struct config *next,
			       struct diag_list *diags)
{
	static const char restart[] = "takes a restart, not a reload";
	int n = 0;

	if (!str_same(cur->database, next->database) && ++n)
		diag_add(diags, next->path, 0, "database changed: %s", restart);
	if (!str_same(cur->listen, next->listen) && ++n)
		diag_add(diags, next->path, 0, "listen changed: %s", restart);
	if (!str_same(cur->metrics_listen, next->metrics_listen) && ++n)
		diag_add(diags, next->path, 0, "metrics_listen changed: %s",
			 restart);
	if (!str_same(cur->ack_key_file, next->ack_key_file) && ++n)
		diag_add(diags, next->path, 0, "ack_key_file changed: %s",
			 restart);
	if (cur->n_channels != next->n_channels && ++n)
		diag_add(diags, next->path, 0,
			 "the set of channels changed: %s", restart);
	for (size_t i = 0; i < cur->n_channels && i < next->n_channels; i++) {
		const struct config_channel *a = &cur->channels[i];
		const struct config_channel *b = &next->channels[i];

		if (strcmp(a->name, b->name) != 0 ||
		    strcmp(a->driver, b->driver) != 0 ||
		    a->max_concurrency != b->max_concurrency ||
		    a->max_rate != b->max_rate) {
			diag_add(diags,
				 cfgfile_section_file(b->sec, next->path),
				 b->sec->line, "channel \"%s\" changed: %s",
				 b->name, restart);
			n++;
		}
	}
	return n;
}

int engine_reload(struct engine *e, const struct config *next,
		  struct diag_list *diags)
{
	const struct config *prev = e->config;

	if (reload_restart_only(prev, next, diags) > 0) {
		reloads_refused++;
		return -EINVAL;
	}
	/*
	 * Channels keep pointing into the config they were started with
	 * (rt_channel.cfg, the drivers' sections): the caller keeps every
	 * config alive until engine_free.
	 */
	e->config = next;
	/* The directory may have been imported since: read it afresh. */
	e->dir_version = -1;
	if (dircache_refresh(e) < 0) {
		e->config = prev;
		diag_add(diags, next->database, 0,
			 "cannot read the directory: the old config is kept");
		reloads_refused++;
		return -EIO;
	}
	reloads_ok++;
	log_info("reloaded config=%s operators=%zu policies=%zu rules=%zu "
		 "orgs=%zu",
		 next->path, next->n_operators, next->policies.n,
		 next->selection.n, e->dir.n_orgs);
	return 0;
}

void engine_pending(struct engine *e, size_t *ret_deliveries,
		    size_t *ret_alerts)
{
	size_t d = 0, a = 0;
	struct rt_alert *al;

	for (size_t i = 0; i < e->n_channels; i++)
		d += e->channels[i].n_ready + e->channels[i].n_waiting +
		     e->channels[i].in_flight;
	LIST_FOREACH(al, &e->alerts, link)
	a++;
	*ret_deliveries = d;
	*ret_alerts = a;
}
