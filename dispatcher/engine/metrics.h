/*
 * Counters and histograms for GET /metrics (Prometheus text format):
 * deliveries by channel and outcome, send latency by channel, and the
 * queue depth the engine reports when asked.
 */
#ifndef POCALERT_METRICS_H
#define POCALERT_METRICS_H

#include <stddef.h>

#include "common/buf.h"

enum metrics_outcome {
	METRICS_OK = 0,
	METRICS_TEMPFAIL,
	METRICS_PERMFAIL,
	METRICS_CANCELLED,
	METRICS_SKIPPED,
	METRICS_OUTCOME_COUNT,
};

struct metrics;

/* A new metrics set (metrics_free()), or NULL when out of memory. */
struct metrics *metrics_new(void);
void metrics_free(struct metrics *m);

/* Counts one finished attempt on a channel and its latency in seconds. */
void metrics_observe(struct metrics *m, const char *channel,
		     enum metrics_outcome outcome, double seconds);

/* Counts alerts accepted (drill or not). */
void metrics_alert_accepted(struct metrics *m, int drill);

/* Counts acknowledgements recorded. */
void metrics_ack(struct metrics *m);

/*
 * Sets the gauge pocalert_calendar_days_left (days until the holiday
 * calendar ends, negative once ended; -1 also when there is none).
 */
void metrics_calendar_days_left(struct metrics *m, int days);

/*
 * Appends the Prometheus exposition to out. queue_depth[i] is the number
 * of deliveries waiting (queued or retry_wait) for channel names[i].
 */
int metrics_render(const struct metrics *m, const char *const *names,
		   const size_t *queue_depth, const size_t *in_flight,
		   size_t n_channels, struct buf *out);

#endif
