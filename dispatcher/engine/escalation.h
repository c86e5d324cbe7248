/*
 * Escalation: the tick that asks each open organisation's policy what is
 * due (wait, run the next step, give up), closing organisations, and
 * planning the duty notice once an alert is finished with organisations
 * unreachable. Above planning; intake, acknowledgements and the engine's
 * lifecycle call it, it calls none of them.
 */
#ifndef POCALERT_ENGINE_ESCALATION_H
#define POCALERT_ENGINE_ESCALATION_H

#include "dispatcher/engine/model.h"

/*
 * Makes the escalation timer (e->tick, owned by the engine) and arms it
 * for the first tick. Returns 0 or -ENOMEM.
 */
int escalation_start(struct engine *e);

/*
 * Arms the tick for now: it runs on the next turn of the loop, never
 * inside this call. Intake calls it so that a new alert's step 0 goes
 * out without waiting for the next regular tick.
 */
void escalation_schedule(struct engine *e);

/* Runs every organisation's policy decision that is due now. */
void escalation_run(struct engine *e);

/*
 * Closes organisation o of a in state (acknowledged, unreachable or
 * cancelled): writes the state, withdraws its waiting deliveries when
 * acknowledged, and when it was the last open one finishes the alert,
 * telling the duty contacts of the unreachable. A finished alert is
 * released later (model_alert_release), never inside this call.
 */
void escalation_close_org(struct engine *e, struct rt_alert *a,
			  struct rt_org *o, enum ostate state);

/*
 * The engine's e->settled hook (engine_settled_fn): when d was the last
 * unsettled delivery of its organisation's current step and none of the
 * step was sent, the next tick runs the next step at once (failover);
 * then asks for the alert's release.
 */
void escalation_settled(struct engine *e, struct rt_delivery *d);

#endif
