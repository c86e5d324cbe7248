/*
 * The engine's lifecycle: building it from the config (store, writer,
 * channels), authenticating operators, metrics, and shutting down without
 * losing anything. Intake lives in intake.c, sending in scheduler.c,
 * reloading after a restart in recovery.c.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cfgfile.h"
#include "common/crypto.h"
#include "common/log.h"
#include "dispatcher/engine/engine_internal.h"
#include "common/timefmt.h"

struct rt_alert *engine_alert_find(struct engine *e, const char *id)
{
	struct rt_alert *a;

	LIST_FOREACH(a, &e->alerts, link)
	if (strcmp(a->id, id) == 0)
		return a;
	return NULL;
}

void engine_delivery_free(struct rt_delivery *d)
{
	if (d == NULL)
		return;
	if (d->timer)
		event_free(d->timer);
	free(d->id);
	free(d->contact_id);
	free(d->contact_name);
	free(d->language);
	free(d->address);
	free(d->charset);
	free(d->ack_url);
	free(d->title);
	free(d->body);
	free(d);
}

static void rt_org_fini(struct rt_org *o)
{
	free(o->org_id);
	free(o->org_name);
	for (size_t i = 0; i < o->n_targeted; i++)
		free(o->targeted[i]);
	free(o->targeted);
	for (size_t i = 0; i < o->n_confirmed; i++)
		free(o->confirmed[i]);
	free(o->confirmed);
}

void engine_alert_free(struct rt_alert *a)
{
	struct rt_delivery *d;

	if (a == NULL)
		return;
	while ((d = LIST_FIRST(&a->deliveries)) != NULL) {
		LIST_REMOVE(d, alink);
		engine_delivery_free(d);
	}
	for (size_t i = 0; i < a->n_orgs; i++)
		rt_org_fini(&a->orgs[i]);
	free(a->orgs);
	rt_org_fini(&a->duty);
	free(a->id);
	free(a->title);
	free(a->body);
	free(a->type);
	free(a->severity);
	free(a);
}

struct timeline_head *engine_keep_head(struct engine *e, const char *id,
				       const struct timeline_head *head)
{
	size_t n = sizeof(e->heads) / sizeof(e->heads[0]);
	struct timeline_head *h = engine_kept_head(e, id);

	if (h == NULL) {
		size_t i = e->next_head++ % n;

		snprintf(e->heads[i].id, sizeof(e->heads[i].id), "%s", id);
		h = &e->heads[i].head;
	}
	*h = *head;
	return h;
}

struct timeline_head *engine_kept_head(struct engine *e, const char *id)
{
	for (size_t i = 0; i < sizeof(e->heads) / sizeof(e->heads[0]); i++)
		if (e->heads[i].id[0] && strcmp(e->heads[i].id, id) == 0)
			return &e->heads[i].head;
	return NULL;
}

struct rt_channel *engine_channel_find(struct engine *e, const char *name)
{
	for (size_t i = 0; i < e->n_channels; i++)
		if (strcmp(e->channels[i].ch.name, name) == 0)
			return &e->channels[i];
	return NULL;
}

void engine_event(struct engine *e, struct rt_alert *a, const char *actor,
		  const char *kind, const char *org_id, const char *delivery_id,
		  const char *fmt, ...)
{
	char detail[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(detail, sizeof(detail), fmt, ap);
	va_end(ap);
	timeline_append(e->writer, &a->timeline, a->id, time_now_ms(), actor,
			kind, org_id, delivery_id, detail);
}

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
	return metrics_render(e->metrics, names, depth, flight, n, out);
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
		if (c->ch.name == NULL || sched_channel_init(e, c) < 0)
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
				    engine_channel_find(e, name) == NULL)
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
	r = ack_key_load(e, config->ack_key_file);
	if (r < 0) {
		diag_add(diags, config->ack_key_file, 0,
			 "cannot read or create the reply-link key");
		goto fail;
	}
	if (directory_refresh(e) < 0 || escalation_start(e) < 0 ||
	    calendar_watch_start(e) < 0) {
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
	if (e->tick)
		event_free(e->tick);
	e->tick = NULL;
	calendar_watch_stop(e);
	/* Let sends on the wire finish, within the grace period. */
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
	}
	writer_free(e->writer);
	while ((a = LIST_FIRST(&e->alerts)) != NULL) {
		LIST_REMOVE(a, link);
		engine_alert_free(a);
	}
	free(e->channels);
	explicit_bzero(e->ack_key, sizeof(e->ack_key));
	metrics_free(e->metrics);
	directory_free(&e->dir);
	store_close(e->store);
	free(e);
}
