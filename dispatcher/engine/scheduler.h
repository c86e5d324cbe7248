/*
 * The scheduler: each channel's ready queues, its concurrency and rate
 * limits, sends through the channel's driver, and each outcome turned
 * into the delivery's next state (sent, retry later, failed). Above the
 * model only: it reports a settled delivery through e->settled, the hook
 * the engine installs, and never calls planning or escalation.
 */
#ifndef POCALERT_ENGINE_SCHEDULER_H
#define POCALERT_ENGINE_SCHEDULER_H

#include "dispatcher/engine/model.h"

/*
 * Puts a delivery (linked into its alert, d->ch set) into its channel's
 * ready queue, or into retry_wait until next_at (engine-clock ms) when
 * that is later than now, and pumps. The alert keeps owning d.
 */
void sched_enqueue(struct rt_delivery *d, int64_t next_at);

/*
 * Withdraws a waiting delivery (queued or retry_wait), marks it cancelled
 * with reason and settles it: d is freed before this returns. A delivery
 * being sent is asked to cancel; its completion settles it later.
 */
void sched_cancel_delivery(struct rt_delivery *d, const char *reason);

/*
 * Unlinks a delivery whose outcome is final, updates its alert's and
 * organisation's counts, calls e->settled and frees d.
 */
void sched_settle(struct rt_delivery *d);

/* Inits c's queues, pump event and rate timer. Returns 0 or -ENOMEM. */
int sched_channel_init(struct engine *e, struct rt_channel *c);

/* Frees what sched_channel_init made. */
void sched_channel_fini(struct rt_channel *c);

#endif
