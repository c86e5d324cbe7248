/*
 * The scheduler: hands due deliveries to their channel's driver within
 * the channel's concurrency and rate limits, and turns each outcome into
 * the delivery's next state (sent, retry later, failed).
 *
 * Each channel has two ready queues: deliveries never tried, and retries.
 * The first is always served before the second, and deliveries enter it
 * in rank order (the planner interleaves organisations), so every
 * organisation gets its first delivery before any delivery gets a retry.
 * Pumping is deferred to an event so that completions arriving in a burst
 * cost one pass, not one pass each.
 *
 * A delivery whose outcome is final is reported through e->settled, the
 * one hook the engine installs (escalation's handler): the scheduler
 * includes nothing above the model.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/crypto.h"
#include "common/log.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/scheduler.h"
#include "policies/retry.h"

/* Jitter needs spread, not secrecy: xorshift64*, seeded from getrandom. */
static double random01(void)
{
	static uint64_t x;

	if (x == 0 && (crypto_random(&x, sizeof(x)) < 0 || x == 0))
		x = 0x9E3779B97F4A7C15ull;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	return (double)((x * 0x2545F4914F6CDD1Dull) >> 11) / 9007199254740992.0;
}

static void pump_later(struct rt_channel *c)
{
	event_active(c->pump_ev, 0, 0);
}

/*
 * d's due time has come on the engine's clock (the timer never fires
 * before it): back into the ready queue.
 */
static void retry_due_cb(void *arg)
{
	struct rt_delivery *d = arg;

	d->ch->n_waiting--;
	d->state = DSTATE_QUEUED;
	TAILQ_INSERT_TAIL(&d->ch->retry, d, qlink);
	d->ch->n_ready++;
	pump_later(d->ch);
}

void sched_enqueue(struct rt_delivery *d, int64_t next_at)
{
	struct rt_channel *c = d->ch;
	int64_t now = clock_now_ms();

	if (next_at > now) {
		/* No memory for a timer: retry at once instead. */
		if (d->timer == NULL &&
		    timer_new(c->engine->base, retry_due_cb, d, &d->timer) < 0)
			goto ready;
		if (timer_arm(d->timer, next_at) < 0)
			goto ready;
		d->due_at = next_at;
		d->state = DSTATE_RETRY_WAIT;
		c->n_waiting++;
		return;
	}
ready:
	d->state = DSTATE_QUEUED;
	TAILQ_INSERT_TAIL(d->attempts == 0 ? &c->first : &c->retry, d, qlink);
	c->n_ready++;
	pump_later(c);
}

static const char *outcome_name(enum channel_status s)
{
	switch (s) {
	case CHANNEL_OK:
		return "ok";
	case CHANNEL_TEMPFAIL:
		return "tempfail";
	case CHANNEL_PERMFAIL:
		return "permfail";
	case CHANNEL_CANCELLED:
		return "cancelled";
	}
	return "unknown";
}

static enum metrics_outcome outcome_metric(enum channel_status s)
{
	switch (s) {
	case CHANNEL_OK:
		return METRICS_OK;
	case CHANNEL_TEMPFAIL:
		return METRICS_TEMPFAIL;
	case CHANNEL_PERMFAIL:
		return METRICS_PERMFAIL;
	case CHANNEL_CANCELLED:
		break;
	}
	return METRICS_CANCELLED;
}

void sched_settle(struct rt_delivery *d)
{
	struct rt_alert *a = d->alert;
	struct rt_org *o = d->org;
	struct engine *e = d->ch->engine;

	LIST_REMOVE(d, alink);
	a->unfinished--;
	if (d->kind == DKIND_ALERT) {
		o->unfinished--;
		if (d->step == o->step)
			o->step_unfinished--;
	}
	/* What follows (a failover, the alert's release) is not ours. */
	if (e->settled != NULL)
		e->settled(e, d);
	model_delivery_free(d);
}

static void finish(struct rt_delivery *d, enum dstate state, const char *error,
		   const char *reason, int64_t sent_at, const char *gateway_id)
{
	struct engine *e = d->ch->engine;

	d->state = state;
	writer_delivery_state(e->writer, d->id, dstate_name(state), d->attempts,
			      -1, error, sent_at, gateway_id, reason);
	sched_settle(d);
}

static void on_done(void *arg, const struct channel_outcome *o)
{
	struct rt_delivery *d = arg;
	struct rt_channel *c = d->ch;
	struct engine *e = c->engine;
	struct rt_alert *a = d->alert;
	int64_t now = clock_now_ms();
	const char *detail = o->detail ? o->detail : "";
	char word[32], qbuf[320];

	c->in_flight--;
	pump_later(c);
	metrics_observe(e->metrics, c->ch.name, outcome_metric(o->status),
			(double)(now - d->started_at) / 1000.0);

	if (o->status == CHANNEL_TEMPFAIL && e->stopping) {
		/*
		 * The driver gave it back unsent because we are shutting
		 * down: not an attempt. It stays queued on disk and goes out
		 * after the next start.
		 */
		d->attempts--;
		d->state = DSTATE_QUEUED;
		writer_delivery_state(e->writer, d->id, "queued", d->attempts,
				      -1, NULL, -1, NULL, NULL);
		return;
	}
	writer_attempt(e->writer, d->id, d->attempts, d->started_at, now,
		       outcome_name(o->status), o->code, detail, o->gateway_id);
	switch (o->status) {
	case CHANNEL_OK:
		log_info("delivery alert=%s org=%s delivery=%s channel=%s "
			 "outcome=sent attempt=%d detail=%s",
			 a->id, d->org->org_id, d->id, c->ch.name, d->attempts,
			 log_q(qbuf, sizeof(qbuf), detail));
		if (d->kind == DKIND_ALERT) {
			d->org->sent++;
			if (d->step == d->org->step)
				d->org->step_sent++;
			if (d->org->state == OSTATE_PENDING) {
				d->org->state = OSTATE_NOTIFIED;
				writer_org_state(e->writer, a->id,
						 d->org->org_id, "notified", -1,
						 -1);
			}
		}
		model_event(e, a, c->ch.name, "sent", d->org->org_id, d->id,
			    "%s %s: %s", c->ch.name, d->address, detail);
		finish(d, DSTATE_SENT, NULL, NULL, now, o->gateway_id);
		return;
	case CHANNEL_CANCELLED:
		model_event(e, a, "engine", "cancelled", d->org->org_id, d->id,
			    "withdrawn before it was sent");
		finish(d, DSTATE_CANCELLED, NULL, "cancelled", -1, NULL);
		return;
	case CHANNEL_PERMFAIL:
		log_warnx("delivery alert=%s org=%s delivery=%s channel=%s "
			  "outcome=failed attempt=%d detail=%s",
			  a->id, d->org->org_id, d->id, c->ch.name, d->attempts,
			  log_q(qbuf, sizeof(qbuf), detail));
		model_event(e, a, c->ch.name, "failed", d->org->org_id, d->id,
			    "permanent: %s", detail);
		finish(d, DSTATE_FAILED, detail, NULL, -1, NULL);
		return;
	case CHANNEL_TEMPFAIL:
		break;
	}
	if (d->kind == DKIND_ALERT && (a->cancelled || d->org->closed)) {
		/* Nobody needs it any more: the alert or the org is closed. */
		finish(d, DSTATE_CANCELLED, detail,
		       a->cancelled ? "cancelled" : ostate_name(d->org->state),
		       -1, NULL);
		return;
	}
	if (retry_exhausted(&c->cfg->retry, d->attempts)) {
		log_warnx("delivery alert=%s org=%s delivery=%s channel=%s "
			  "outcome=gave_up attempt=%d detail=%s",
			  a->id, d->org->org_id, d->id, c->ch.name, d->attempts,
			  log_q(qbuf, sizeof(qbuf), detail));
		model_event(e, a, c->ch.name, "failed", d->org->org_id, d->id,
			    "gave up after %d attempts: %s", d->attempts,
			    detail);
		finish(d, DSTATE_FAILED, detail, NULL, -1, NULL);
		return;
	}
	{
		double delay = retry_delay(&c->cfg->retry, d->attempts,
					   random01(), o->retry_after);
		int64_t next = now + (int64_t)llround(delay * 1000.0);

		snprintf(word, sizeof(word), "%.1fs", delay);
		log_info("delivery alert=%s org=%s delivery=%s channel=%s "
			 "outcome=retry attempt=%d next_in=%s detail=%s",
			 a->id, d->org->org_id, d->id, c->ch.name, d->attempts,
			 word, log_q(qbuf, sizeof(qbuf), detail));
		writer_delivery_state(e->writer, d->id, "retry_wait",
				      d->attempts, next, detail, -1, NULL,
				      NULL);
		model_event(e, a, c->ch.name, "retry", d->org->org_id, d->id,
			    "attempt %d failed (%s), next in %s", d->attempts,
			    detail, word);
		sched_enqueue(d, next);
	}
}

static void start_send(struct rt_delivery *d)
{
	struct rt_channel *c = d->ch;
	struct engine *e = c->engine;
	int r;

	d->attempts++;
	d->state = DSTATE_SENDING;
	d->started_at = clock_now_ms();
	c->in_flight++;
	writer_delivery_state(e->writer, d->id, "sending", d->attempts, -1,
			      NULL, -1, NULL, NULL);
	r = channel_send(&c->ch, &d->msg, on_done, d);
	if (r < 0) {
		struct channel_outcome o = {
			.status = CHANNEL_TEMPFAIL,
			.detail = "the driver refused the message",
			.retry_after = -1,
		};

		on_done(d, &o);
	}
}

/* Refills the token bucket; true when a send may start now. */
static bool rate_take(struct rt_channel *c, int64_t now)
{
	double rate = c->cfg->max_rate, burst;

	if (rate <= 0)
		return true;
	burst = rate < 1 ? 1 : rate;
	c->tokens += (double)(now - c->refilled_at) * rate / 1000.0;
	if (c->tokens > burst)
		c->tokens = burst;
	c->refilled_at = now;
	if (c->tokens < 1)
		return false;
	c->tokens -= 1;
	return true;
}

static void pump(struct rt_channel *c)
{
	struct engine *e = c->engine;

	while (c->n_ready > 0 && !e->stopping &&
	       c->in_flight < (size_t)c->cfg->max_concurrency) {
		struct rt_delivery *d;
		int64_t now = clock_now_ms();

		if (!rate_take(c, now)) {
			/* Rounded up: at the deadline a whole token is there. */
			double wait = (1 - c->tokens) / c->cfg->max_rate;

			if (timer_arm(c->pump_wait,
				      now + (int64_t)ceil(wait * 1000.0)) < 0)
				pump_later(c);
			return;
		}
		d = TAILQ_FIRST(&c->first);
		if (d != NULL) {
			TAILQ_REMOVE(&c->first, d, qlink);
		} else {
			d = TAILQ_FIRST(&c->retry);
			TAILQ_REMOVE(&c->retry, d, qlink);
		}
		c->n_ready--;
		start_send(d);
	}
}

static void pump_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

static void pump_wait_cb(void *arg)
{
	pump(arg);
}

void sched_cancel_delivery(struct rt_delivery *d, const char *reason)
{
	struct rt_channel *c = d->ch;

	switch (d->state) {
	case DSTATE_QUEUED:
		TAILQ_REMOVE(d->attempts == 0 ? &c->first : &c->retry, d,
			     qlink);
		c->n_ready--;
		break;
	case DSTATE_RETRY_WAIT:
		timer_disarm(d->timer);
		c->n_waiting--;
		break;
	case DSTATE_SENDING:
		/* Its completion will settle it. */
		channel_cancel(&c->ch, d->id);
		return;
	default:
		return;
	}
	finish(d, DSTATE_CANCELLED, NULL, reason, -1, NULL);
}

int sched_channel_init(struct engine *e, struct rt_channel *c)
{
	c->engine = e;
	TAILQ_INIT(&c->first);
	TAILQ_INIT(&c->retry);
	c->refilled_at = clock_now_ms();
	c->tokens = c->cfg->max_rate > 1 ? c->cfg->max_rate : 1;
	c->pump_ev = event_new(e->base, -1, 0, pump_cb, c);
	if (c->pump_ev == NULL)
		return -ENOMEM;
	return timer_new(e->base, pump_wait_cb, c, &c->pump_wait);
}

void sched_channel_fini(struct rt_channel *c)
{
	if (c->pump_ev)
		event_free(c->pump_ev);
	c->pump_ev = NULL;
	timer_free(c->pump_wait);
	c->pump_wait = NULL;
}
