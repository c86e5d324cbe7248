/*
 * Escalation: a timer looks four times a second at every open
 * organisation of every active alert and asks its policy what to do now
 * (policies/policy.h, pure): wait, run the next step, or declare the
 * organisation unreachable. The schedule counts from the alert's
 * acceptance, so after a restart the same questions give the same
 * answers and a step that fell due meanwhile runs at once.
 *
 * Intake arms the tick for now (escalation_schedule), so a new alert's
 * step 0 is planned on the next turn of the loop by this same path.
 *
 * A step whose deliveries all fail runs the next step at once (failover
 * to the organisation's next channels) instead of waiting for its time:
 * the scheduler reports each settled delivery through the engine's hook,
 * which engine.c points at escalation_settled. When every organisation
 * is closed the alert is finished; if any was unreachable, the duty
 * contacts of the government organisation get one notice listing them
 * (its words are notice.c's). A finished alert is released by the model
 * on a later turn of the loop, never here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/dircache.h"
#include "dispatcher/engine/escalation.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/plan.h"
#include "dispatcher/engine/scheduler.h"

#define TICK_MS 250

static int confirmed_targets(const struct rt_org *o)
{
	int n = 0;

	for (size_t i = 0; i < o->n_targeted; i++)
		for (size_t k = 0; k < o->n_confirmed; k++)
			if (strcmp(o->targeted[i], o->confirmed[k]) == 0) {
				n++;
				break;
			}
	return n;
}

/* Plans the duty notice: every method of every duty contact of government orgs. */
static void notify_duty(struct engine *e, struct rt_alert *a,
			size_t unreachable)
{
	struct planned *list = NULL;
	size_t n = 0, cap = 0;

	if (dircache_refresh(e) < 0)
		return;
	for (size_t i = 0; i < e->dir.n_orgs && a->duty.org_id == NULL; i++) {
		const struct dir_org *g = &e->dir.orgs[i];

		if (g->kind != DIR_KIND_GOVERNMENT)
			continue;
		for (size_t ci = 0; ci < g->n_contacts; ci++) {
			const struct dir_contact *c = &g->contacts[ci];

			if (c->role != DIR_ROLE_DUTY)
				continue;
			for (size_t mi = 0; mi < c->n_methods; mi++) {
				struct planned p = {
					.org = DUTY_POS,
					.contact = c,
					.method = &c->methods[mi],
					.step = -1,
					.kind = DKIND_UNREACHABLE,
				};

				if (!policy_method_allowed(a->tlp, p.method))
					continue;
				if (!model_channel_find(
					    e, dir_channel_name(
						       p.method->channel)))
					continue;
				if (plan_push(&list, &n, &cap, &p) < 0)
					goto out;
			}
		}
		if (n > 0 && plan_duty_org(e, a, g->id) < 0)
			goto out;
	}
	if (n == 0) {
		log_warnx("alert %s: %zu organisations unreachable and no duty "
			  "contact can be told",
			  a->id, unreachable);
		model_event(e, a, "engine", "duty_unreachable", NULL, NULL,
			    "no duty contact to tell of %zu unreachable "
			    "organisations",
			    unreachable);
		goto out;
	}
	model_event(e, a, "engine", "duty_notified", a->duty.org_id, NULL,
		    "%zu unreachable organisations reported to %s", unreachable,
		    a->duty.org_id);
	if (plan_commit(e, a, list, n) < 0)
		log_warnx("alert %s: could not plan the duty notice", a->id);
out:
	free(list);
}

void escalation_close_org(struct engine *e, struct rt_alert *a,
			  struct rt_org *o, enum ostate state)
{
	struct rt_delivery *d, *next;
	size_t unreachable = 0;

	if (o->closed)
		return;
	o->closed = true;
	o->state = state;
	a->open_orgs--;
	if (state != OSTATE_ACKNOWLEDGED)
		writer_org_state(e->writer, a->id, o->org_id,
				 ostate_name(state), -1, -1);
	if (state == OSTATE_UNREACHABLE) {
		model_event(e, a, "engine", "unreachable", o->org_id, NULL,
			    "no confirmation after every step of policy %s",
			    a->policy.name);
		log_warnx("alert %s: organisation %s unreachable", a->id,
			  o->org_id);
	}
	if (state == OSTATE_ACKNOWLEDGED) {
		/* Confirmed: nothing more goes to this organisation. */
		for (d = LIST_FIRST(&a->deliveries); d != NULL; d = next) {
			next = LIST_NEXT(d, alink);
			if (d->org == o && d->kind == DKIND_ALERT)
				sched_cancel_delivery(d, "acknowledged");
		}
	}
	if (a->open_orgs > 0)
		return;
	a->finished = true;
	if (a->cancelled)
		goto out;
	for (size_t i = 0; i < a->n_orgs; i++)
		unreachable += a->orgs[i].state == OSTATE_UNREACHABLE;
	writer_alert_state(e->writer, a->id, "completed", clock_now_ms());
	model_event(e, a, "engine", "completed", NULL, NULL,
		    "every organisation closed, %zu unreachable", unreachable);
	log_info("alert %s: completed, %zu organisations unreachable", a->id,
		 unreachable);
	if (unreachable > 0)
		notify_duty(e, a, unreachable);
out:
	model_alert_release(e, a);
}

static void step_settled(struct rt_org *o)
{
	/* Nothing of this step got through: the next step runs now. */
	o->force_next = true;
	o->next_at = 0;
}

/* Runs step k for org o (at pos); adds its deliveries to the list. */
static int run_step(struct engine *e, struct rt_alert *a, size_t pos, int k,
		    struct planned **list, size_t *n, size_t *cap)
{
	struct rt_org *o = &a->orgs[pos];
	const struct policy_step *ps = policy_step_at(&a->policy, k);
	int sendable;

	sendable = plan_org_step(e, a, pos, k, list, n, cap);
	if (sendable < 0)
		return sendable;
	o->step = k;
	o->step_unfinished = 0;
	o->step_sent = 0;
	if (k > 0) {
		char roles[80] = "", chans[80] = "";

		for (int r = 0; r < DIR_ROLE_COUNT; r++)
			if (ps->roles & POLICY_BIT(r))
				snprintf(roles + strlen(roles),
					 sizeof(roles) - strlen(roles), "%s%s",
					 roles[0] ? "," : "",
					 dir_role_name((enum dir_role)r));
		for (int c = 0; c < DIR_CHANNEL_COUNT; c++)
			if (ps->channels & POLICY_BIT(c))
				snprintf(chans + strlen(chans),
					 sizeof(chans) - strlen(chans), "%s%s",
					 chans[0] ? "," : "",
					 dir_channel_name((enum dir_channel)c));
		o->state = OSTATE_ESCALATED;
		model_event(e, a, "engine", "escalated", o->org_id, NULL,
			    "step %d: %s by %s, %d deliveries", k + 1, roles,
			    chans, sendable);
		log_info("escalated alert=%s org=%s step=%d", a->id, o->org_id,
			 k + 1);
	}
	writer_org_state(e->writer, a->id, o->org_id, ostate_name(o->state), k,
			 -1);
	if (sendable == 0)
		step_settled(o);
	return 0;
}

static void decide_org(struct engine *e, struct rt_alert *a, size_t pos,
		       int64_t now, struct planned **list, size_t *n,
		       size_t *cap)
{
	struct rt_org *o = &a->orgs[pos];
	struct policy_progress pr = {
		.last_step_run = o->step,
		.confirmations = o->confirmations,
		.contacts_targeted = (int)o->n_targeted,
		.contacts_confirmed = confirmed_targets(o),
	};
	struct policy_decision dec;

	if (o->force_next) {
		o->force_next = false;
		if (o->step + 1 < policy_step_count(&a->policy)) {
			run_step(e, a, pos, o->step + 1, list, n, cap);
			o->next_at = now;
			return;
		}
		if (o->sent == 0) {
			escalation_close_org(e, a, o, OSTATE_UNREACHABLE);
			return;
		}
	}
	dec = policy_decide(&a->policy, (double)a->created_at / 1000.0,
			    (double)now / 1000.0, &pr);
	switch (dec.action) {
	case POLICY_WAIT:
		o->next_at = (int64_t)(dec.next_at * 1000.0);
		break;
	case POLICY_RUN_STEP:
		run_step(e, a, pos, dec.step, list, n, cap);
		o->next_at = (int64_t)(dec.next_at * 1000.0);
		break;
	case POLICY_UNREACHABLE:
		escalation_close_org(e, a, o, OSTATE_UNREACHABLE);
		break;
	case POLICY_DONE:
		escalation_close_org(e, a, o, OSTATE_ACKNOWLEDGED);
		break;
	}
}

void escalation_run(struct engine *e)
{
	struct rt_alert *a, *next;
	int64_t now = clock_now_ms();

	if (e->stopping)
		return;
	if (dircache_refresh(e) < 0)
		log_warnx("escalation: cannot read the directory");
	for (a = LIST_FIRST(&e->alerts); a != NULL; a = next) {
		struct planned *list = NULL;
		size_t n = 0, cap = 0;

		next = LIST_NEXT(a, link);
		if (a->finished)
			continue;
		for (size_t pos = 0; pos < a->n_orgs; pos++) {
			struct rt_org *o = &a->orgs[pos];

			if (!o->closed && o->next_at <= now)
				decide_org(e, a, pos, now, &list, &n, &cap);
		}
		if (n > 0 && plan_commit(e, a, list, n) < 0)
			log_warnx("alert %s: could not plan %zu deliveries; "
				  "will try again",
				  a->id, n);
		free(list);
		model_alert_release(e, a);
	}
}

static void tick_cb(void *arg)
{
	struct engine *e = arg;

	escalation_run(e);
	/* Counted from now: a slow run delays the next look, never doubles it. */
	if (timer_arm(e->tick, clock_now_ms() + TICK_MS) < 0)
		log_warnx("escalation: cannot re-arm the timer");
}

void escalation_settled(struct engine *e, struct rt_delivery *d)
{
	struct rt_org *o = d->org;

	if (d->kind == DKIND_ALERT && d->step == o->step &&
	    o->step_unfinished == 0 && o->step_sent == 0 && !o->closed)
		step_settled(o);
	model_alert_release(e, d->alert);
}

void escalation_schedule(struct engine *e)
{
	if (e->tick == NULL || timer_arm(e->tick, clock_now_ms()) < 0)
		log_warnx("escalation: cannot arm the timer");
}

int escalation_start(struct engine *e)
{
	if (timer_new(e->base, tick_cb, e, &e->tick) < 0 ||
	    timer_arm(e->tick, clock_now_ms() + TICK_MS) < 0)
		return -ENOMEM;
	return 0;
}
