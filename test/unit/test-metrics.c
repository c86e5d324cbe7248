/*
 * Unit tests for dispatcher/engine/metrics.c: the exposition holds the exact
 * lines Prometheus and our dashboards read, with cumulative buckets and
 * label values escaped.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/buf.h"
#include "dispatcher/engine/metrics.h"

/* True when text holds line as a whole line. */
static bool has_line(const char *text, const char *line)
{
	size_t len = strlen(line);

	for (const char *p = text; (p = strstr(p, line)) != NULL; p++)
		if ((p == text || p[-1] == '\n') && p[len] == '\n')
			return true;
	return false;
}

static void expect_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("missing line: %s\n--- exposition:\n%s", line, text);
}

static void test_counters_and_histogram(void **state)
{
	static const char *const names[] = {"mail", "sms", "voice"};
	static const size_t depth[] = {12, 0, 3}, flight[] = {4, 1, 0};
	struct metrics *m = metrics_new();
	struct buf out = {0};

	(void)state;
	assert_non_null(m);
	metrics_observe(m, "mail", METRICS_OK, 0.004);
	metrics_observe(m, "mail", METRICS_OK, 0.2);
	metrics_observe(m, "mail", METRICS_TEMPFAIL, 3.0);
	metrics_observe(m, "mail", METRICS_OK, 120.0);
	metrics_observe(m, "sms", METRICS_PERMFAIL, 0.5);
	metrics_observe(m, "sms", METRICS_SKIPPED, 0);
	metrics_alert_accepted(m, 0);
	metrics_alert_accepted(m, 1);
	metrics_alert_accepted(m, 1);
	metrics_ack(m);
	assert_int_equal(metrics_render(m, names, depth, flight, 3, &out), 0);

	expect_line(out.data, "# HELP pocalert_deliveries_total Finished "
			      "delivery attempts by channel and outcome.");
	expect_line(out.data, "# TYPE pocalert_deliveries_total counter");
	expect_line(
		out.data,
		"pocalert_deliveries_total{channel=\"mail\",outcome=\"ok\"} 3");
	expect_line(out.data, "pocalert_deliveries_total{channel=\"mail\","
			      "outcome=\"tempfail\"} 1");
	expect_line(out.data, "pocalert_deliveries_total{channel=\"sms\","
			      "outcome=\"permfail\"} 1");
	expect_line(out.data, "pocalert_deliveries_total{channel=\"sms\","
			      "outcome=\"skipped\"} 1");
	/* A configured channel that sent nothing shows zeros, not gaps. */
	expect_line(out.data, "pocalert_deliveries_total{channel=\"voice\","
			      "outcome=\"ok\"} 0");

	expect_line(out.data, "# TYPE pocalert_send_seconds histogram");
	expect_line(
		out.data,
		"pocalert_send_seconds_bucket{channel=\"mail\",le=\"0.005\"} 1");
	expect_line(
		out.data,
		"pocalert_send_seconds_bucket{channel=\"mail\",le=\"0.25\"} 2");
	expect_line(
		out.data,
		"pocalert_send_seconds_bucket{channel=\"mail\",le=\"5\"} 3");
	expect_line(
		out.data,
		"pocalert_send_seconds_bucket{channel=\"mail\",le=\"60\"} 3");
	expect_line(
		out.data,
		"pocalert_send_seconds_bucket{channel=\"mail\",le=\"+Inf\"} 4");
	expect_line(out.data,
		    "pocalert_send_seconds_count{channel=\"mail\"} 4");
	expect_line(out.data,
		    "pocalert_send_seconds_sum{channel=\"mail\"} 123.204");
	/* Skipped deliveries never went out: no latency for them. */
	expect_line(out.data, "pocalert_send_seconds_count{channel=\"sms\"} 1");
	expect_line(
		out.data,
		"pocalert_send_seconds_bucket{channel=\"voice\",le=\"+Inf\"} 0");

	expect_line(out.data, "# TYPE pocalert_queue_depth gauge");
	expect_line(out.data, "pocalert_queue_depth{channel=\"mail\"} 12");
	expect_line(out.data, "pocalert_queue_depth{channel=\"voice\"} 3");
	expect_line(out.data, "# TYPE pocalert_in_flight gauge");
	expect_line(out.data, "pocalert_in_flight{channel=\"sms\"} 1");

	expect_line(out.data, "# TYPE pocalert_alerts_accepted_total counter");
	expect_line(out.data,
		    "pocalert_alerts_accepted_total{drill=\"false\"} 1");
	expect_line(out.data,
		    "pocalert_alerts_accepted_total{drill=\"true\"} 2");
	expect_line(out.data, "# TYPE pocalert_acks_total counter");
	expect_line(out.data, "pocalert_acks_total 1");
	/* Every line ends with a line feed, the last one too. */
	assert_int_equal(out.data[out.len - 1], '\n');
	buf_free(&out);
	metrics_free(m);
}

static void test_buckets_are_cumulative(void **state)
{
	static const char *const le[] = {
		"0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5",
		"1",	 "2.5",	 "5",	  "10",	  "30",	 "60"};
	struct metrics *m = metrics_new();
	struct buf out = {0};
	char line[128];

	(void)state;
	/* One observation just inside each bucket: bucket i counts i+1. */
	for (size_t i = 0; i < 13; i++)
		metrics_observe(m, "webhook", METRICS_OK, strtod(le[i], NULL));
	assert_int_equal(metrics_render(m, NULL, NULL, NULL, 0, &out), 0);
	for (size_t i = 0; i < 13; i++) {
		snprintf(line, sizeof(line),
			 "pocalert_send_seconds_bucket{channel=\"webhook\","
			 "le=\"%s\"} %zu",
			 le[i], i + 1);
		expect_line(out.data, line);
	}
	/* Without channel names there are no gauges to show. */
	assert_null(strstr(out.data, "pocalert_queue_depth"));
	buf_free(&out);
	metrics_free(m);
}

/* The calendar gauge: absent until set, then its days (negative: ended). */
static void test_calendar_days_left(void **state)
{
	struct metrics *m = metrics_new();
	struct buf out = {0};

	(void)state;
	assert_int_equal(metrics_render(m, NULL, NULL, NULL, 0, &out), 0);
	assert_null(strstr(out.data, "pocalert_calendar_days_left"));
	buf_free(&out);
	metrics_calendar_days_left(m, 32);
	assert_int_equal(metrics_render(m, NULL, NULL, NULL, 0, &out), 0);
	expect_line(out.data, "# TYPE pocalert_calendar_days_left gauge");
	expect_line(out.data, "pocalert_calendar_days_left 32");
	buf_free(&out);
	metrics_calendar_days_left(m, -10);
	assert_int_equal(metrics_render(m, NULL, NULL, NULL, 0, &out), 0);
	expect_line(out.data, "pocalert_calendar_days_left -10");
	buf_free(&out);
	metrics_free(m);
}

static void test_label_escaping(void **state)
{
	const char *names[] = {"we\"ird\\na\nme"};
	size_t zero[] = {0};
	struct metrics *m = metrics_new();
	struct buf out = {0};

	(void)state;
	metrics_observe(m, names[0], METRICS_OK, 1);
	assert_int_equal(metrics_render(m, names, zero, zero, 1, &out), 0);
	expect_line(out.data,
		    "pocalert_queue_depth{channel=\"we\\\"ird\\\\na\\nme\"} 0");
	expect_line(
		out.data,
		"pocalert_deliveries_total{channel=\"we\\\"ird\\\\na\\nme\",outcome=\"ok\"} 1");
	buf_free(&out);
	metrics_free(m);
}

static void test_many_channels(void **state)
{
	struct metrics *m = metrics_new();
	struct buf out = {0};
	char name[32];

	(void)state;
	/* More channels than slots: the rest add up under "other". */
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "ch%d", i);
		metrics_observe(m, name, METRICS_OK, 0.1);
	}
	metrics_observe(m, "ch0", METRICS_OK, 0.1);
	assert_int_equal(metrics_render(m, NULL, NULL, NULL, 0, &out), 0);
	expect_line(
		out.data,
		"pocalert_deliveries_total{channel=\"ch0\",outcome=\"ok\"} 2");
	expect_line(
		out.data,
		"pocalert_deliveries_total{channel=\"ch15\",outcome=\"ok\"} 1");
	expect_line(
		out.data,
		"pocalert_deliveries_total{channel=\"other\",outcome=\"ok\"} 4");
	assert_null(strstr(out.data, "\"ch16\""));
	buf_free(&out);
	metrics_free(m);
	metrics_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counters_and_histogram),
		cmocka_unit_test(test_buckets_are_cumulative),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_calendar_days_left),
		cmocka_unit_test(test_many_channels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
