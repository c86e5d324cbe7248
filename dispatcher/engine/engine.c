/*
 * The engine's lifecycle: building it from the config (store, writer,
 * channels, the reply-link key, the hooks between its modules), reloading
 * unfinished work, authenticating operators, metrics, flushing, and
 * shutting down without losing anything. It sits on top of the engine's
 * modules and is called by none of them: intake lives in intake.c,
 * acknowledgements in ack.c, escalation in escalation.c, planning in
 * plan.c, sending in scheduler.c, reloading in recovery.c, the structs in
 * model.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfgfile.h"
#include "common/crypto.h"
#include "common/log.h"
#include "common/timefmt.h"
#include "dispatcher/engine/calendar_watch.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/dircache.h"
#include "dispatcher/engine/escalation.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/recovery.h"
#include "dispatcher/engine/scheduler.h"
#include "dispatcher/engine/token.h"

struct store *engine_store(struct engine *e)
{
	return e->store;
}

void engine_flush(struct engine *e)
{
	writer_flush(e->writer);
}

bool engine_accepting(struct engine *e)
{
	return e->accepting;
}

const char *engine_authenticate(struct engine *e, const char *token)
{
	const char *who = NULL;
	uint8_t md[SHA256_LEN];

	if (token == NULL || token[0] == '\0')
		return NULL;
	crypto_sha256(token, strlen(token), md);
	/* Every operator is compared, in constant time, whoever matches. */
	for (size_t i = 0; i < e->config->n_operators; i++)
		if (crypto_equal(md, e->config->operators[i].token_sha256,
				 SHA256_LEN))
			who = e->config->operators[i].name;
	explicit_bzero(md, sizeof(md));
	return who;
}

int engine_metrics(struct engine *e, struct buf *out)
{
	const char *names[64];
	size_t depth[64], flight[64], n = 0;

	for (size_t i = 0; i < e->n_channels && n < 64; i++, n++) {
		names[n] = e->channels[i].ch.name;
		depth[n] = e->channels[i].n_ready + e->channels[i].n_waiting;
		flight[n] = e->channels[i].in_flight;
	}
	if (metrics_render(e->metrics, names, depth, flight, n, out) < 0)
		return -ENOMEM;
	return engine_reload_metrics(e, out);
}

static int engine_channels_start(struct engine *e, struct diag_list *diags)
{
	const struct config *cfg = e->config;

	e->channels = calloc(cfg->n_channels ? cfg->n_channels : 1,
			     sizeof(*e->channels));
	if (e->channels == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < cfg->n_channels; i++) {
		struct rt_channel *c = &e->channels[i];
		int r;

		c->cfg = &cfg->channels[i];
		c->ch.driver = channel_driver_find(c->cfg->driver);
		c->ch.name = strdup(c->cfg->name);
		e->n_channels++;
		/* Where its gateway callbacks come (dispatcher/http/hooks.c). */
		if (asprintf(&c->ch.hooks_url, "%s/hooks/%s",
			     cfg->public_url ? cfg->public_url : "",
			     c->cfg->name) < 0)
			c->ch.hooks_url = NULL;
		if (c->ch.name == NULL || c->ch.hooks_url == NULL ||
		    sched_channel_init(e, c) < 0)
			return -ENOMEM;
		r = channel_configure(
			&c->ch, c->cfg->sec,
			cfgfile_section_file(c->cfg->sec, cfg->path), diags);
		if (r < 0)
			return r;
		r = channel_start(&c->ch, e->base);
		if (r < 0) {
			diag_add(diags,
				 cfgfile_section_file(c->cfg->sec, cfg->path),
				 c->cfg->sec->line,
				 "channel \"%s\": cannot start: %s", c->ch.name,
				 strerror(-r));
			return r;
		}
		c->started = true;
		log_info("channel %s: driver %s started, max_concurrency %d",
			 c->ch.name, c->cfg->driver, c->cfg->max_concurrency);
	}
	return 0;
}

/*
 * A policy step may name a channel with no driver configured: its
 * deliveries are skipped. Say so once at start, not at every send.
 */
static void engine_check_policies(struct engine *e)
{
	const struct policy_set *set = &e->config->policies;

	for (size_t i = 0; i < set->n; i++) {
		const struct policy *p = &set->policies[i];

		for (int k = 0; k < p->n_steps; k++)
			for (int c = 0; c < DIR_CHANNEL_COUNT; c++) {
				const char *name =
					dir_channel_name((enum dir_channel)c);

				if ((p->steps[k].channels & POLICY_BIT(c)) &&
				    model_channel_find(e, name) == NULL)
					log_warnx(
						"policy %s step %d: no channel "
						"\"%s\" is configured; its "
						"deliveries will be skipped",
						p->name, k + 1, name);
			}
	}
}

int engine_new(struct event_base *base, const struct config *config,
	       struct engine **ret, struct diag_list *diags)
{
	struct engine *e = calloc(1, sizeof(*e));
	int r;

	if (e == NULL)
		return -ENOMEM;
	e->base = base;
	e->config = config;
	e->dir_version = -1;
	LIST_INIT(&e->alerts);
	r = store_open(config->database, &e->store);
	if (r < 0) {
		diag_add(diags, config->database, 0,
			 "cannot open the database");
		goto fail;
	}
	e->writer = writer_new(base, e->store);
	e->metrics = metrics_new();
	if (e->writer == NULL || e->metrics == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = engine_channels_start(e, diags);
	if (r < 0)
		goto fail;
	engine_check_policies(e);
	r = token_key_load(e, config->ack_key_file);
	if (r < 0) {
		diag_add(diags, config->ack_key_file, 0,
			 "cannot read or create the reply-link key");
		goto fail;
	}
	/* Settled deliveries go to escalation: the scheduler knows only this. */
	e->settled = escalation_settled;
	if (model_release_start(e) < 0 || dircache_refresh(e) < 0 ||
	    escalation_start(e) < 0 || calendar_watch_start(e) < 0) {
		r = -EIO;
		goto fail;
	}
	r = recovery_load(e);
	if (r < 0) {
		diag_add(diags, config->database, 0,
			 "cannot reload unfinished deliveries");
		goto fail;
	}
	e->accepting = true;
	*ret = e;
	return 0;
fail:
	engine_free(e, 0);
	return r;
}

static size_t engine_in_flight(struct engine *e)
{
	size_t n = 0;

	for (size_t i = 0; i < e->n_channels; i++)
		n += e->channels[i].in_flight;
	return n;
}

void engine_free(struct engine *e, int grace_ms)
{
	struct rt_alert *a;
	int64_t deadline;

	if (e == NULL)
		return;
	e->accepting = false;
	e->stopping = true;
	timer_free(e->tick);
	e->tick = NULL;
	calendar_watch_stop(e);
	/*
	 * Let sends on the wire finish, within the grace period. The wait is
	 * for real I/O, so it is measured on the wall clock: a test's fake
	 * clock stands still here and would wait for ever.
	 */
	deadline = time_now_ms() + grace_ms;
	while (engine_in_flight(e) > 0 && time_now_ms() < deadline) {
		struct timeval tick = {0, 50000};

		event_base_loopexit(e->base, &tick);
		event_base_loop(e->base, 0);
	}
	if (engine_in_flight(e) > 0)
		log_warnx("engine: %zu sends still in flight after %d ms: they "
			  "will be sent again after the next start",
			  engine_in_flight(e), grace_ms);
	for (size_t i = 0; i < e->n_channels; i++) {
		struct rt_channel *c = &e->channels[i];

		/* Completes what the driver still holds, on this thread. */
		if (c->ch.driver && c->ch.priv)
			channel_stop(&c->ch);
		if (c->ch.driver)
			channel_free_priv(&c->ch);
		sched_channel_fini(c);
		free(c->ch.name);
		free(c->ch.hooks_url);
	}
	writer_free(e->writer);
	/* What the release timer would free goes below with the rest. */
	timer_free(e->release);
	e->release = NULL;
	while ((a = LIST_FIRST(&e->alerts)) != NULL) {
		LIST_REMOVE(a, link);
		model_alert_free(a);
	}
	free(e->channels);
	explicit_bzero(e->ack_key, sizeof(e->ack_key));
	metrics_free(e->metrics);
	directory_free(&e->dir);
	store_close(e->store);
	free(e);
}
