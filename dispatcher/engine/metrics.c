/*
 * Counters and histograms for GET /metrics: see metrics.h. The engine
 * counts as it goes (one loop thread, so no locks); metrics_render()
 * writes the Prometheus text exposition format 0.0.4. Channels are few
 * (mail, webhook, voice, sms, fax), so they live in a small fixed array
 * found by name; a channel beyond the array is counted under "other"
 * rather than lost.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/engine/metrics.h"

#define METRICS_CHANNELS_MAX 16
#define METRICS_NAME_MAX 32
#define METRICS_OTHER METRICS_CHANNELS_MAX /* index of the "other" slot */

/* Upper bounds of the send latency buckets, seconds; +Inf is implied. */
static const double metrics_buckets[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60,
};
#define METRICS_N_BUCKETS (sizeof(metrics_buckets) / sizeof(metrics_buckets[0]))

static const char *const metrics_outcome_names[METRICS_OUTCOME_COUNT] = {
	[METRICS_OK] = "ok",
	[METRICS_TEMPFAIL] = "tempfail",
	[METRICS_PERMFAIL] = "permfail",
	[METRICS_CANCELLED] = "cancelled",
	[METRICS_SKIPPED] = "skipped",
};

struct metrics_channel {
	char name[METRICS_NAME_MAX]; /* "" while the slot is free */
	uint64_t outcomes[METRICS_OUTCOME_COUNT]; /* finished attempts */
	uint64_t buckets[METRICS_N_BUCKETS]; /* per bucket, not cumulative */
	uint64_t count;			     /* latencies observed */
	double sum;			     /* their sum, seconds */
};

struct metrics {
	struct metrics_channel channels[METRICS_CHANNELS_MAX + 1];
	size_t n_channels;  /* slots used, not counting "other" */
	bool other_used;    /* something was counted as "other" */
	uint64_t alerts[2]; /* accepted: [0] real, [1] drills */
	uint64_t acks;	    /* acknowledgements recorded */
	bool calendar_set;  /* calendar_days_left was given */
	int calendar_days_left;
};

/* A channel to render: its name and its counts (NULL: all zero). */
struct metrics_row {
	const char *name;
	const struct metrics_channel *c;
};

struct metrics *metrics_new(void)
{
	struct metrics *m = calloc(1, sizeof(*m));

	if (m != NULL)
		strcpy(m->channels[METRICS_OTHER].name, "other");
	return m;
}

void metrics_free(struct metrics *m)
{
	free(m);
}

/* The slot of a channel, taking a free one for a new name. */
static struct metrics_channel *metrics_channel_get(struct metrics *m,
						   const char *name)
{
	struct metrics_channel *c;

	for (size_t i = 0; i < m->n_channels; i++)
		if (strcmp(m->channels[i].name, name) == 0)
			return &m->channels[i];
	if (m->n_channels == METRICS_CHANNELS_MAX ||
	    strlen(name) >= METRICS_NAME_MAX) {
		if (!m->other_used)
			log_warnx("metrics: no room for channel \"%s\": "
				  "counting it as \"other\"",
				  name);
		m->other_used = true;
		return &m->channels[METRICS_OTHER];
	}
	c = &m->channels[m->n_channels++];
	strcpy(c->name, name);
	return c;
}

/*
 * Counts one finished attempt. Only attempts that went out (ok, tempfail,
 * permfail) have a latency worth a histogram; skipped and cancelled
 * deliveries are counted and nothing more.
 */
void metrics_observe(struct metrics *m, const char *channel,
		     enum metrics_outcome outcome, double seconds)
{
	struct metrics_channel *c;

	if (m == NULL || channel == NULL ||
	    (unsigned)outcome >= METRICS_OUTCOME_COUNT)
		return;
	c = metrics_channel_get(m, channel);
	c->outcomes[outcome]++;
	if (outcome != METRICS_OK && outcome != METRICS_TEMPFAIL &&
	    outcome != METRICS_PERMFAIL)
		return;
	/* A clock stepping back must not make the sum go down. */
	if (!isfinite(seconds) || seconds < 0)
		seconds = 0;
	for (size_t i = 0; i < METRICS_N_BUCKETS; i++) {
		if (seconds <= metrics_buckets[i]) {
			c->buckets[i]++;
			break;
		}
	}
	c->count++;
	c->sum += seconds;
}

void metrics_alert_accepted(struct metrics *m, int drill)
{
	if (m != NULL)
		m->alerts[drill ? 1 : 0]++;
}

void metrics_ack(struct metrics *m)
{
	if (m != NULL)
		m->acks++;
}

/*
 * Appends a label value in the exposition format's escaping: backslash,
 * double quote and line feed are the three characters it reserves.
 */
static int metrics_label(struct buf *out, const char *v)
{
	int r = 0;

	for (; *v != '\0' && r == 0; v++) {
		switch (*v) {
		case '\\':
			r = buf_puts(out, "\\\\");
			break;
		case '"':
			r = buf_puts(out, "\\\"");
			break;
		case '\n':
			r = buf_puts(out, "\\n");
			break;
		default:
			r = buf_append(out, v, 1);
		}
	}
	return r;
}

/* Appends "NAME{channel="CH"" with the channel escaped; the caller closes. */
static int metrics_open(struct buf *out, const char *metric, const char *ch)
{
	int r;

	r = buf_printf(out, "%s{channel=\"", metric);
	if (r == 0)
		r = metrics_label(out, ch);
	if (r == 0)
		r = buf_puts(out, "\"");
	return r;
}

static int metrics_header(struct buf *out, const char *name, const char *type,
			  const char *help)
{
	return buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name,
			  type);
}

/*
 * The channels to show: every configured one (names), so that a channel
 * that has sent nothing yet still shows zeros, then any counted channel
 * the caller did not name. *ret is malloc'd; the caller frees it.
 */
static int metrics_rows(const struct metrics *m, const char *const *names,
			size_t n_names, struct metrics_row **ret, size_t *ret_n)
{
	struct metrics_row *rows;
	size_t n = 0;

	rows = calloc(n_names + METRICS_CHANNELS_MAX + 1, sizeof(*rows));
	if (rows == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n_names; i++) {
		rows[n].name = names[i];
		for (size_t k = 0; k < m->n_channels; k++)
			if (strcmp(m->channels[k].name, names[i]) == 0)
				rows[n].c = &m->channels[k];
		n++;
	}
	for (size_t k = 0; k <= METRICS_OTHER; k++) {
		const struct metrics_channel *c = &m->channels[k];
		bool named = false;

		if (k == METRICS_OTHER ? !m->other_used : k >= m->n_channels)
			continue;
		for (size_t i = 0; i < n_names && !named; i++)
			named = strcmp(names[i], c->name) == 0;
		if (!named) {
			rows[n].name = c->name;
			rows[n].c = c;
			n++;
		}
	}
	*ret = rows;
	*ret_n = n;
	return 0;
}

static int metrics_render_deliveries(const struct metrics_row *rows, size_t n,
				     struct buf *out)
{
	const char *name = "pocalert_deliveries_total";
	int r;

	r = metrics_header(
		out, name, "counter",
		"Finished delivery attempts by channel and outcome.");
	for (size_t i = 0; i < n && r == 0; i++) {
		for (int o = 0; o < METRICS_OUTCOME_COUNT && r == 0; o++) {
			uint64_t v = rows[i].c ? rows[i].c->outcomes[o] : 0;

			r = metrics_open(out, name, rows[i].name);
			if (r == 0)
				r = buf_printf(out, ",outcome=\"%s\"} %llu\n",
					       metrics_outcome_names[o],
					       (unsigned long long)v);
		}
	}
	return r;
}

static int metrics_render_latency(const struct metrics_row *rows, size_t n,
				  struct buf *out)
{
	static const struct metrics_channel zero;
	int r;

	r = metrics_header(out, "pocalert_send_seconds", "histogram",
			   "Time from handing a message to a channel to its "
			   "outcome, seconds.");
	for (size_t i = 0; i < n && r == 0; i++) {
		const struct metrics_channel *c = rows[i].c ? rows[i].c : &zero;
		unsigned long long cumulative = 0;

		for (size_t b = 0; b < METRICS_N_BUCKETS && r == 0; b++) {
			cumulative += c->buckets[b];
			r = metrics_open(out, "pocalert_send_seconds_bucket",
					 rows[i].name);
			if (r == 0)
				r = buf_printf(out, ",le=\"%g\"} %llu\n",
					       metrics_buckets[b], cumulative);
		}
		if (r == 0)
			r = metrics_open(out, "pocalert_send_seconds_bucket",
					 rows[i].name);
		if (r == 0)
			r = buf_printf(out, ",le=\"+Inf\"} %llu\n",
				       (unsigned long long)c->count);
		if (r == 0)
			r = metrics_open(out, "pocalert_send_seconds_sum",
					 rows[i].name);
		if (r == 0)
			r = buf_printf(out, "} %.9g\n", c->sum);
		if (r == 0)
			r = metrics_open(out, "pocalert_send_seconds_count",
					 rows[i].name);
		if (r == 0)
			r = buf_printf(out, "} %llu\n",
				       (unsigned long long)c->count);
	}
	return r;
}

/* One gauge per channel the caller named; values[i] belongs to names[i]. */
static int metrics_render_gauge(const char *name, const char *help,
				const char *const *names, const size_t *values,
				size_t n, struct buf *out)
{
	int r;

	if (values == NULL || n == 0)
		return 0;
	r = metrics_header(out, name, "gauge", help);
	for (size_t i = 0; i < n && r == 0; i++) {
		r = metrics_open(out, name, names[i]);
		if (r == 0)
			r = buf_printf(out, "} %zu\n", values[i]);
	}
	return r;
}

void metrics_calendar_days_left(struct metrics *m, int days)
{
	m->calendar_set = true;
	m->calendar_days_left = days;
}

/*
 * Appends the exposition to out: the caller owns out and frees it. names,
 * queue_depth and in_flight hold n_channels entries each (the gauges are
 * left out when queue_depth or in_flight is NULL). Returns 0 or -ENOMEM.
 */
int metrics_render(const struct metrics *m, const char *const *names,
		   const size_t *queue_depth, const size_t *in_flight,
		   size_t n_channels, struct buf *out)
{
	struct metrics_row *rows = NULL;
	size_t n_rows = 0;
	int r;

	if (names == NULL)
		n_channels = 0;
	r = metrics_rows(m, names, n_channels, &rows, &n_rows);
	if (r < 0)
		return r;
	r = metrics_render_deliveries(rows, n_rows, out);
	if (r == 0)
		r = metrics_render_latency(rows, n_rows, out);
	if (r == 0)
		r = metrics_render_gauge(
			"pocalert_queue_depth",
			"Deliveries waiting to be sent (queued or retry_wait).",
			names, queue_depth, n_channels, out);
	if (r == 0)
		r = metrics_render_gauge("pocalert_in_flight",
					 "Deliveries being sent right now.",
					 names, in_flight, n_channels, out);
	if (r == 0)
		r = metrics_header(out, "pocalert_alerts_accepted_total",
				   "counter", "Alerts accepted, drills apart.");
	if (r == 0)
		r = buf_printf(
			out,
			"pocalert_alerts_accepted_total{drill=\"false\"} "
			"%llu\n"
			"pocalert_alerts_accepted_total{drill=\"true\"} "
			"%llu\n",
			(unsigned long long)m->alerts[0],
			(unsigned long long)m->alerts[1]);
	if (r == 0)
		r = metrics_header(out, "pocalert_acks_total", "counter",
				   "Acknowledgements recorded.");
	if (r == 0)
		r = buf_printf(out, "pocalert_acks_total %llu\n",
			       (unsigned long long)m->acks);
	if (r == 0 && m->calendar_set)
		r = metrics_header(out, "pocalert_calendar_days_left", "gauge",
				   "Days until the holiday calendar ends "
				   "(negative: it has ended).");
	if (r == 0 && m->calendar_set)
		r = buf_printf(out, "pocalert_calendar_days_left %d\n",
			       m->calendar_days_left);
	free(rows);
	return r < 0 ? -ENOMEM : 0;
}
