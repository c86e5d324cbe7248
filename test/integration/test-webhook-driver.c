/*
 * Integration test of the webhook driver (and so of the shared HTTP
 * client) and of the dryrun driver, in-process on a libevent loop.
 *
 * The group set-up starts test/servers/http_receiver.py on port 0 of
 * 127.0.0.1 (it prints the port it got) with the channel's secret; each
 * case configures a channel from a libconfuse text the way an operator
 * would write it, sends, runs the loop until the completions are in, and
 * then reads the receiver's log to see what the far side saw. The fault modes of the receiver's
 * URL paths stand in for real failures. The receiver is stopped at the
 * end: only the process this test started.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/pidfd.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <confuse.h>
#include <event2/event.h>
#include <jansson.h>

#include "channels/channel.h"
#include "channels/http_client.h"
#include "channels/webhook.h"
#include "channels/registry.h"

#ifndef HTTP_RECEIVER
#error "HTTP_RECEIVER: path of test/servers/http_receiver.py"
#endif

#define SECRET "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
#define MAX_RESULTS 512

/* The receiver this test started. */
static struct {
	pid_t pid;
	int port;
	char dir[64];
	char log[128];
} rx = {.pid = -1};

/* What the completions reported, in order. */
struct result {
	enum channel_status status;
	int code;
	int retry_after;
	char detail[512];
	char key[64];
	double at; /* seconds since the case began */
};

struct harness {
	struct event_base *base;
	struct event *tick; /* keeps the loop turning for deadlines */
	cfg_t *cfg;
	cfg_opt_t opts[16];
	struct channel ch;
	struct diag_list diags;
	struct result results[MAX_RESULTS];
	size_t n_results;
	bool in_send; /* a completion now would be a bug */
	bool done_inside_send;
	struct timespec t0;
};

/* Per send: where the completion writes. */
struct ticket {
	struct harness *h;
	char key[64];
};

static struct ticket tickets[MAX_RESULTS];
static size_t n_tickets;

static double since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t0->tv_sec) +
	       (double)(now.tv_nsec - t0->tv_nsec) / 1e9;
}

/* --- the receiver ---------------------------------------------------- */

static int receiver_start(void **state)
{
	char line[32] = "";
	size_t n = 0;
	int fds[2];
	struct pollfd pfd;

	(void)state;
	strcpy(rx.dir, "/tmp/pocalert-webhook-XXXXXX");
	if (mkdtemp(rx.dir) == NULL)
		return -1;
	snprintf(rx.log, sizeof(rx.log), "%s/requests.jsonl", rx.dir);
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	rx.pid = fork();
	if (rx.pid < 0)
		return -1;
	if (rx.pid == 0) {
		dup2(fds[1], STDOUT_FILENO);
		execl("/usr/bin/python3", "python3", HTTP_RECEIVER, "0", rx.log,
		      "--secret", SECRET, (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	/* The first line is the port; give Python ten seconds to start. */
	pfd = (struct pollfd){.fd = fds[0], .events = POLLIN};
	while (n + 1 < sizeof(line) && strchr(line, '\n') == NULL) {
		ssize_t got;

		if (poll(&pfd, 1, 10000) <= 0)
			break;
		got = read(fds[0], line + n, sizeof(line) - 1 - n);
		if (got <= 0)
			break;
		n += (size_t)got;
		line[n] = '\0';
	}
	close(fds[0]);
	rx.port = atoi(line);
	if (rx.port <= 0) {
		fprintf(stderr, "http_receiver.py did not start\n");
		return -1;
	}
	return 0;
}

static int receiver_stop(void **state)
{
	int status;

	(void)state;
	if (rx.pid > 0) {
		/* Readable once the receiver has exited. */
		int pidfd = pidfd_open(rx.pid, 0);
		struct pollfd pfd = {.fd = pidfd, .events = POLLIN};

		kill(rx.pid, SIGTERM);
		/* Five seconds to leave cleanly, or it is killed. */
		if (pidfd < 0 || poll(&pfd, 1, 5000) != 1)
			kill(rx.pid, SIGKILL);
		waitpid(rx.pid, &status, 0);
		if (pidfd >= 0)
			close(pidfd);
		rx.pid = -1;
	}
	unlink(rx.log);
	rmdir(rx.dir);
	return 0;
}

/* Every logged request whose path starts with prefix, in arrival order. */
static json_t *received(const char *prefix)
{
	json_t *all = json_array(), *e;
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen(rx.log, "r");

	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		const char *path;

		e = json_loads(line, 0, NULL);
		assert_non_null(e);
		path = json_string_value(json_object_get(e, "path"));
		if (path != NULL && strncmp(path, prefix, strlen(prefix)) == 0)
			json_array_append(all, e);
		json_decref(e);
	}
	free(line);
	fclose(f);
	return all;
}

static const char *header(json_t *req, const char *name)
{
	return json_string_value(
		json_object_get(json_object_get(req, "headers"), name));
}

/* --- a channel on a loop --------------------------------------------- */

static void on_tick(evutil_socket_t fd, short events, void *arg)
{
	(void)fd;
	(void)events;
	(void)arg;
}

static int case_setup(void **state)
{
	static const struct timeval every = {0, 50000};
	struct harness *h = calloc(1, sizeof(*h));

	if (h == NULL)
		return -1;
	h->base = event_base_new();
	h->tick = event_new(h->base, -1, EV_PERSIST, on_tick, NULL);
	event_add(h->tick, &every);
	clock_gettime(CLOCK_MONOTONIC, &h->t0);
	n_tickets = 0;
	*state = h;
	return 0;
}

static void channel_down(struct harness *h)
{
	if (h->ch.driver != NULL) {
		channel_stop(&h->ch);
		channel_free_priv(&h->ch);
	}
	free(h->ch.name);
	h->ch = (struct channel){0};
	if (h->cfg != NULL)
		cfg_free(h->cfg);
	h->cfg = NULL;
	diag_clear(&h->diags);
}

static int case_teardown(void **state)
{
	struct harness *h = *state;

	channel_down(h);
	event_free(h->tick);
	event_base_free(h->base);
	free(h);
	return 0;
}

/*
 * Parses text (one `channel "NAME" { ... }` section) with the driver's
 * options, as the config loader would, and configures the channel.
 * Returns what configure returned; diagnostics land in h->diags.
 */
static int channel_configure_text(struct harness *h,
				  const struct channel_driver *drv,
				  const char *text)
{
	size_t n = 0;
	cfg_t *sec;

	for (; drv->options[n].name != NULL; n++)
		h->opts[n] = drv->options[n];
	h->opts[n] = (cfg_opt_t)CFG_END();
	{
		cfg_opt_t top[] = {
			CFG_SEC("channel", h->opts, CFGF_TITLE | CFGF_MULTI),
			CFG_END(),
		};

		h->cfg = cfg_init(top, 0);
	}
	assert_non_null(h->cfg);
	assert_int_equal(cfg_parse_buf(h->cfg, text), CFG_SUCCESS);
	sec = cfg_getnsec(h->cfg, "channel", 0);
	assert_non_null(sec);
	h->ch.driver = drv;
	h->ch.name = strdup(cfg_title(sec));
	return channel_configure(&h->ch, sec, "test.conf", &h->diags);
}

static void channel_up(struct harness *h, const struct channel_driver *drv,
		       const char *fmt, ...)
{
	char text[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	assert_int_equal(channel_configure_text(h, drv, text), 0);
	assert_int_equal(h->diags.n, 0);
	assert_int_equal(channel_start(&h->ch, h->base), 0);
}

static void on_done(void *arg, const struct channel_outcome *out)
{
	struct ticket *t = arg;
	struct harness *h = t->h;
	struct result *r;

	if (h->in_send)
		h->done_inside_send = true;
	assert_true(h->n_results < MAX_RESULTS);
	assert_non_null(out->detail);
	r = &h->results[h->n_results++];
	r->status = out->status;
	r->code = out->code;
	r->retry_after = out->retry_after;
	snprintf(r->detail, sizeof(r->detail), "%s", out->detail);
	snprintf(r->key, sizeof(r->key), "%s", t->key);
	r->at = since(&h->t0);
}

/* Sends a message with this key to address; asserts it was taken. */
static void send_to(struct harness *h, const char *key, const char *address)
{
	struct channel_message m = {
		.key = key,
		.address = address,
		.charset = "utf-8",
		.language = "ja",
		.alert_id = "A-2024-0007",
		.title = "制御システムへの不正アクセス",
		.body = "詳細はポータルを参照してください。",
		.type = "incident",
		.severity = "critical",
		.tlp = TLP_AMBER,
		.drill = true,
		.org_id = "org-7",
		.org_name = "東京電力㈱",
		.contact_id = "c-1",
		.contact_name = "山田 太郎",
		.ack_url = "https://pocalert.example.jp/ack/t0k3n",
		.created_at = 1714554000,
	};
	struct ticket *t;

	assert_true(n_tickets < MAX_RESULTS);
	t = &tickets[n_tickets++];
	t->h = h;
	snprintf(t->key, sizeof(t->key), "%s", key);
	h->in_send = true;
	assert_int_equal(channel_send(&h->ch, &m, on_done, t), 0);
	h->in_send = false;
}

static char *url(const char *fmt, ...)
{
	static char buf[8][256];
	static int next;
	char path[200];
	va_list ap;
	char *u = buf[next++ % 8];

	va_start(ap, fmt);
	vsnprintf(path, sizeof(path), fmt, ap);
	va_end(ap);
	snprintf(u, 256, "http://127.0.0.1:%d%s", rx.port, path);
	return u;
}

/* Runs the loop until n completions are in or seconds pass. */
static void run_until(struct harness *h, size_t n, double seconds)
{
	double end = since(&h->t0) + seconds;

	while (h->n_results < n && since(&h->t0) < end)
		event_base_loop(h->base, EVLOOP_ONCE);
	assert_int_equal(h->n_results, n);
	assert_false(h->done_inside_send);
}

static void run_for(struct harness *h, double seconds)
{
	double end = since(&h->t0) + seconds;

	while (since(&h->t0) < end)
		event_base_loop(h->base, EVLOOP_ONCE);
}

/* --- cases ------------------------------------------------------------ */

/*
 * Twenty alerts to a healthy endpoint: each arrives exactly once, signed,
 * with webhook-id = the delivery id and the JSON payload.
 */
static void test_ok_signed_once(void **state)
{
	struct harness *h = *state;
	char key[32];
	json_t *got, *e;
	size_t i;
	time_t now = time(NULL);
	int seen[20] = {0};

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "ok-%zu", i);
		send_to(h, key, url("/ok/signed/%zu", i));
	}
	assert_int_equal(channel_in_flight(&h->ch), 20);
	run_until(h, 20, 10);
	for (i = 0; i < 20; i++) {
		assert_int_equal(h->results[i].status, CHANNEL_OK);
		assert_int_equal(h->results[i].code, 200);
	}
	assert_int_equal(channel_in_flight(&h->ch), 0);

	got = received("/ok/signed/");
	assert_int_equal(json_array_size(got), 20);
	json_array_foreach(got, i, e)
	{
		const char *path =
			json_string_value(json_object_get(e, "path"));
		int n = atoi(path + strlen("/ok/signed/"));
		json_t *body;

		assert_true(n >= 0 && n < 20);
		seen[n]++;
		snprintf(key, sizeof(key), "ok-%d", n);
		assert_string_equal(header(e, "webhook-id"), key);
		assert_true(json_is_true(json_object_get(e, "signature_ok")));
		assert_string_equal(header(e, "content-type"),
				    "application/json");
		assert_true(labs(atol(header(e, "webhook-timestamp")) -
				 (long)now) < 60);
		assert_string_equal(
			json_string_value(json_object_get(e, "method")),
			"POST");
		body = json_loads(json_string_value(json_object_get(e, "body")),
				  0, NULL);
		assert_non_null(body);
		assert_string_equal(
			json_string_value(json_object_get(body, "type")),
			"pocalert.alert");
		assert_string_equal(
			json_string_value(json_object_get(body, "tlp")),
			"TLP:AMBER");
		assert_string_equal(
			json_string_value(json_object_get(
				json_object_get(body, "organisation"), "name")),
			"東京電力㈱");
		json_decref(body);
	}
	for (i = 0; i < 20; i++)
		assert_int_equal(seen[i], 1);
	json_decref(got);
}

static void test_fail500_is_tempfail(void **state)
{
	struct harness *h = *state;

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	send_to(h, "f500-1", url("/fail500/x"));
	run_until(h, 1, 10);
	assert_int_equal(h->results[0].status, CHANNEL_TEMPFAIL);
	assert_int_equal(h->results[0].code, 500);
	assert_string_equal(
		h->results[0].detail,
		"HTTP 500 Internal Server Error: {\"status\": 500}");
}

/* A flaky endpoint: the resend carries the same webhook-id and succeeds. */
static void test_flaky_then_ok_same_id(void **state)
{
	struct harness *h = *state;
	json_t *got;

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	send_to(h, "flaky-1", url("/flaky/a"));
	run_until(h, 1, 10);
	assert_int_equal(h->results[0].status, CHANNEL_TEMPFAIL);
	assert_int_equal(h->results[0].code, 500);
	send_to(h, "flaky-1", url("/flaky/a"));
	run_until(h, 2, 10);
	assert_int_equal(h->results[1].status, CHANNEL_OK);
	got = received("/flaky/a");
	assert_int_equal(json_array_size(got), 2);
	for (size_t i = 0; i < 2; i++) {
		json_t *e = json_array_get(got, i);

		assert_string_equal(header(e, "webhook-id"), "flaky-1");
		assert_true(json_is_true(json_object_get(e, "signature_ok")));
	}
	json_decref(got);
}

static void test_ratelimit_retry_after(void **state)
{
	struct harness *h = *state;

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	send_to(h, "rl-1", url("/ratelimit/a"));
	run_until(h, 1, 10);
	assert_int_equal(h->results[0].status, CHANNEL_TEMPFAIL);
	assert_int_equal(h->results[0].code, 429);
	assert_int_equal(h->results[0].retry_after, 2);
	send_to(h, "rl-1", url("/ratelimit/a"));
	run_until(h, 2, 10);
	assert_int_equal(h->results[1].status, CHANNEL_OK);
	assert_int_equal(h->results[1].retry_after, -1);
}

static void test_gone_and_bad_are_permfail(void **state)
{
	struct harness *h = *state;

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	send_to(h, "gone-1", url("/gone/a"));
	send_to(h, "bad-1", url("/bad/a"));
	/* A scheme other than http(s) never works, nor a broken URL. */
	send_to(h, "ftp-1", "ftp://127.0.0.1/x");
	send_to(h, "crlf-1", url("/ok/x\r\nX-Injected: 1"));
	run_until(h, 4, 10);
	for (size_t i = 0; i < 4; i++) {
		struct result *r = &h->results[i];

		assert_int_equal(r->status, CHANNEL_PERMFAIL);
		if (strcmp(r->key, "gone-1") == 0) {
			assert_int_equal(r->code, 410);
			assert_non_null(strstr(r->detail, "gone"));
		} else if (strcmp(r->key, "bad-1") == 0) {
			assert_int_equal(r->code, 400);
			assert_memory_equal(r->detail, "HTTP 400 Bad Request",
					    20);
		} else {
			assert_int_equal(r->code, 0);
		}
	}
}

/* A receiver that never answers: the timeout (1 s) turns it around. */
static void test_hang_times_out(void **state)
{
	struct harness *h = *state;

	channel_up(h, &webhook_driver,
		   "channel web { secret = \"%s\" timeout = 1 }", SECRET);
	send_to(h, "hang-1", url("/hang/timeout"));
	run_until(h, 1, 5);
	assert_int_equal(h->results[0].status, CHANNEL_TEMPFAIL);
	assert_int_equal(h->results[0].code, 0);
	assert_non_null(strstr(h->results[0].detail, "timed out"));
	assert_true(h->results[0].at >= 0.9 && h->results[0].at < 4);
}

/* A port where nobody listens: connection refused, try again later. */
static void test_no_listener(void **state)
{
	struct harness *h = *state;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);
	char u[64];
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	/*
	 * A port bound but never listening: connections are refused, and
	 * while fd holds it no other process can take it.
	 */
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	snprintf(u, sizeof(u), "http://127.0.0.1:%d/ok/x", ntohs(sa.sin_port));

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	send_to(h, "nolisten-1", u);
	run_until(h, 1, 5);
	close(fd);
	assert_int_equal(h->results[0].status, CHANNEL_TEMPFAIL);
	assert_int_equal(h->results[0].code, 0);
	assert_true(strlen(h->results[0].detail) > 0);
}

/* Cancelling a request that hangs: CANCELLED, later, and promptly. */
static void test_cancel_hanging(void **state)
{
	struct harness *h = *state;
	json_t *got;

	channel_up(h, &webhook_driver,
		   "channel web { secret = \"%s\" timeout = 30 }", SECRET);
	send_to(h, "cancel-1", url("/hang/cancel"));
	send_to(h, "cancel-2", url("/ok/cancel"));
	/* Let the request reach the receiver. */
	run_until(h, 1, 5);
	assert_string_equal(h->results[0].key, "cancel-2");
	run_for(h, 0.3);
	got = received("/hang/cancel");
	assert_int_equal(json_array_size(got), 1);
	json_decref(got);

	channel_cancel(&h->ch, "no-such-key");
	channel_cancel(&h->ch, "cancel-1");
	/* Never from inside cancel. */
	assert_int_equal(h->n_results, 1);
	run_until(h, 2, 2);
	assert_int_equal(h->results[1].status, CHANNEL_CANCELLED);
	assert_string_equal(h->results[1].key, "cancel-1");
	assert_int_equal(channel_in_flight(&h->ch), 0);
}

/*
 * Two hundred requests through at most two connections, then twenty one
 * at a time: the receiver sees a handful of TCP connections.
 */
static void test_connection_reuse(void **state)
{
	struct harness *h = *state;
	char key[32];
	json_t *got, *e;
	size_t i, j, distinct = 0;
	long ports[220];

	channel_up(h, &webhook_driver,
		   "channel web { secret = \"%s\" max_connections = 2 }",
		   SECRET);
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "reuse-%zu", i);
		send_to(h, key, url("/ok/reuse/%zu", i));
	}
	run_until(h, 200, 30);
	for (i = 0; i < 20; i++) {
		snprintf(key, sizeof(key), "reuse-seq-%zu", i);
		send_to(h, key, url("/ok/reuse/seq-%zu", i));
		run_until(h, 201 + i, 10);
	}
	for (i = 0; i < h->n_results; i++)
		assert_int_equal(h->results[i].status, CHANNEL_OK);

	got = received("/ok/reuse/");
	assert_int_equal(json_array_size(got), 220);
	json_array_foreach(got, i, e)
	{
		long p = (long)json_integer_value(
			json_object_get(e, "client_port"));

		for (j = 0; j < distinct && ports[j] != p; j++)
			;
		if (j == distinct)
			ports[distinct++] = p;
	}
	json_decref(got);
	print_message("220 requests over %zu connection(s)\n", distinct);
	assert_true(distinct <= 4);
}

/*
 * With one connection per host, a second request waits for the first:
 * its timeout counts from the send, waiting included, and it can be
 * cancelled while it waits. Another host is not held up.
 */
static void test_queued_behind_hang(void **state)
{
	struct harness *h = *state;
	char other[96];

	channel_up(h, &webhook_driver,
		   "channel web { secret = \"%s\" timeout = 1 "
		   "max_connections = 1 }",
		   SECRET);
	send_to(h, "q-hang", url("/hang/queue"));
	send_to(h, "q-wait", url("/ok/queue/wait"));
	send_to(h, "q-cancel", url("/ok/queue/cancel"));
	/* The same receiver by another name is another host. */
	snprintf(other, sizeof(other), "http://localhost:%d/ok/queue/other",
		 rx.port);
	send_to(h, "q-other", other);
	channel_cancel(&h->ch, "q-cancel");
	run_until(h, 2, 1);
	assert_string_equal(h->results[0].key, "q-cancel");
	assert_int_equal(h->results[0].status, CHANNEL_CANCELLED);
	assert_string_equal(h->results[1].key, "q-other");
	assert_int_equal(h->results[1].status, CHANNEL_OK);
	run_until(h, 4, 4);
	for (size_t i = 2; i < 4; i++) {
		assert_int_equal(h->results[i].status, CHANNEL_TEMPFAIL);
		assert_int_equal(h->results[i].code, 0);
		assert_non_null(strcasestr(h->results[i].detail, "timed out"));
		assert_true(h->results[i].at < 2.5);
	}
}

/* Stop completes what is outstanding, before it returns. */
static void test_stop_completes_outstanding(void **state)
{
	struct harness *h = *state;

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	send_to(h, "stop-1", url("/hang/stop"));
	send_to(h, "stop-2", url("/hang/stop"));
	run_for(h, 0.2);
	channel_stop(&h->ch);
	assert_int_equal(h->n_results, 2);
	assert_int_equal(h->results[0].status, CHANNEL_TEMPFAIL);
	assert_string_equal(h->results[0].detail, "stopped");
	assert_int_equal(channel_in_flight(&h->ch), 0);
	/* Stopped: sends are refused at once, and stop again is harmless. */
	{
		struct channel_message m = {.key = "late", .address = "x"};

		assert_true(channel_send(&h->ch, &m, on_done, NULL) < 0);
	}
	channel_stop(&h->ch);
}

/* The channel's url serves messages whose address is empty. */
static void test_default_url_and_refusals(void **state)
{
	struct harness *h = *state;
	struct channel_message m = {.key = "bad\r\nkey", .address = url("/ok")};
	json_t *got;

	channel_up(h, &webhook_driver,
		   "channel web { secret = \"%s\" url = \"%s\" }", SECRET,
		   url("/ok/default"));
	send_to(h, "default-1", "");
	run_until(h, 1, 10);
	assert_int_equal(h->results[0].status, CHANNEL_OK);
	got = received("/ok/default");
	assert_int_equal(json_array_size(got), 1);
	json_decref(got);
	/* A key that would break the header is refused, not sent. */
	assert_int_equal(channel_send(&h->ch, &m, on_done, NULL), -EINVAL);
}

/* The client on its own: response headers, body, cancel and abort. */
struct direct {
	int calls;
	int status;
	enum http_error error;
	char reason[64];
	char content_type[64];
	char body[64];
};

static void on_direct(void *arg, const struct http_response *res)
{
	struct direct *d = arg;
	const char *ct = http_response_header(res, "Content-Type");

	d->calls++;
	d->status = res->status;
	d->error = res->error;
	snprintf(d->reason, sizeof(d->reason), "%s", res->reason);
	snprintf(d->content_type, sizeof(d->content_type), "%s",
		 ct ? ct : "(none)");
	snprintf(d->body, sizeof(d->body), "%.*s", (int)res->body_len,
		 res->body);
}

static void test_http_client_direct(void **state)
{
	struct harness *h = *state;
	struct http_client *c = http_client_get(h->base, 4);
	const char *hdrs[] = {"X-Test: direct", NULL};
	const char *bad_hdrs[] = {"X-Test: a\r\nX-Evil: b", NULL};
	struct http_request_spec spec = {
		.url = url("/ok/direct"),
		.headers = hdrs,
		.timeout_ms = 5000,
		.max_response = 4,
	};
	struct direct got = {0}, hung = {0}, dropped = {0};
	struct http_request *req;
	double end;
	json_t *log;

	assert_non_null(c);
	/* GET with a small response limit. */
	assert_int_equal(http_client_submit(c, &spec, on_direct, &got, NULL),
			 0);
	spec.url = url("/hang/direct");
	assert_int_equal(http_client_submit(c, &spec, on_direct, &hung, &req),
			 0);
	http_client_cancel(req);
	http_client_cancel(req);
	assert_int_equal(hung.calls, 0);
	assert_int_equal(
		http_client_submit(c, &spec, on_direct, &dropped, &req), 0);
	assert_int_equal(http_client_in_flight(c), 3);
	http_client_abort(req);
	assert_int_equal(http_client_in_flight(c), 2);
	spec.headers = bad_hdrs;
	assert_int_equal(http_client_submit(c, &spec, on_direct, &got, NULL),
			 -EINVAL);

	end = since(&h->t0) + 5;
	while ((got.calls == 0 || hung.calls == 0) && since(&h->t0) < end)
		event_base_loop(h->base, EVLOOP_ONCE);
	assert_int_equal(got.calls, 1);
	assert_int_equal(got.status, 200);
	assert_int_equal(got.error, HTTP_ERR_NONE);
	assert_string_equal(got.reason, "OK");
	assert_string_equal(got.content_type, "application/json");
	assert_string_equal(got.body, "{\"st");
	assert_int_equal(hung.calls, 1);
	assert_int_equal(hung.error, HTTP_ERR_CANCELLED);
	assert_int_equal(dropped.calls, 0);
	assert_int_equal(http_client_in_flight(c), 0);
	http_client_put(c);

	log = received("/ok/direct");
	assert_int_equal(json_array_size(log), 1);
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(log, 0), "method")),
			    "GET");
	assert_string_equal(header(json_array_get(log, 0), "x-test"), "direct");
	json_decref(log);
}

/* Two channels on one loop share one HTTP client. */
static void test_shared_client(void **state)
{
	struct harness *h = *state;
	struct http_client *a = http_client_get(h->base, 4);
	struct http_client *b = http_client_get(h->base, 8);
	struct event_base *other = event_base_new();
	struct http_client *c = http_client_get(other, 4);

	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_ptr_not_equal(a, c);
	http_client_put(b);
	http_client_put(a);
	http_client_put(c);
	event_base_free(other);
}

/* Configuration errors come back as FILE:LINE lines, secret unquoted. */
static void test_bad_config(void **state)
{
	struct harness *h = *state;
	char prefix[32];
	int line;

	assert_int_equal(
		channel_configure_text(h, &webhook_driver,
				       "\n\nchannel web {\n"
				       "  secret = \"MfKQ9r8GKYqrTwjUPD8I\"\n"
				       "  timeout = 0\n"
				       "  url = \"ftp://example.jp/\"\n"
				       "  max_connections = -1\n"
				       "}\n"),
		-EINVAL);
	assert_int_equal(h->diags.n, 4);
	/*
	 * Errors carry the section's line; libconfuse records the line
	 * where the section ends (8 here), not where it opens.
	 */
	line = cfg_getnsec(h->cfg, "channel", 0)->line;
	assert_true(line >= 3 && line <= 8);
	snprintf(prefix, sizeof(prefix), "test.conf:%d: ", line);
	for (size_t i = 0; i < h->diags.n; i++) {
		assert_memory_equal(h->diags.lines[i], prefix, strlen(prefix));
		assert_null(strstr(h->diags.lines[i], "MfKQ9r8"));
	}
	assert_non_null(strstr(h->diags.lines[0], "whsec_"));
	/* Half configured: stop and free cope. */
	channel_down(h);

	assert_int_equal(channel_configure_text(h, &webhook_driver,
						"channel web { timeout = 5 }"),
			 -EINVAL);
	assert_int_equal(h->diags.n, 1);
	assert_non_null(strstr(h->diags.lines[0], "needs a secret"));
	channel_down(h);

	assert_int_equal(
		channel_configure_text(h, &dryrun_driver, "channel try { }"),
		-EINVAL);
	assert_non_null(strstr(h->diags.lines[0], "needs a path"));
}

/*
 * The address policy: a link-local, private or unspecified address is
 * refused as the socket would open (no packet leaves), loopback written
 * as a number in disguise is refused before, each as a permanent failure
 * saying why; loopback by name or dotted decimal still works. On main
 * every one of these was tried.
 */
static void test_address_policy(void **state)
{
	struct harness *h = *state;
	char u[8][128];
	static const char *const why[] = {
		"link-local",
		"private",
		"unspecified",
		"link-local",
		"non-standard numeric form",
		"non-standard numeric form",
		"non-standard numeric form",
	};
	json_t *got;

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	snprintf(u[0], 128, "http://169.254.169.254:%d/ok/pol/meta", rx.port);
	snprintf(u[1], 128, "http://10.255.255.1:%d/ok/pol/priv", rx.port);
	snprintf(u[2], 128, "http://0.0.0.0:%d/ok/pol/zero", rx.port);
	snprintf(u[3], 128, "http://[fe80::1]:%d/ok/pol/ll6", rx.port);
	snprintf(u[4], 128, "http://2130706433:%d/ok/pol/dec", rx.port);
	snprintf(u[5], 128, "http://0177.0.0.1:%d/ok/pol/oct", rx.port);
	snprintf(u[6], 128, "http://0:%d/ok/pol/null", rx.port);
	snprintf(u[7], 128, "http://localhost:%d/ok/pol/name", rx.port);
	for (int i = 0; i < 8; i++) {
		char key[16];

		snprintf(key, sizeof(key), "pol-%d", i);
		send_to(h, key, u[i]);
	}
	run_until(h, 8, 15);
	for (size_t i = 0; i < 8; i++) {
		struct result *r = NULL;
		char key[16];

		snprintf(key, sizeof(key), "pol-%zu", i);
		for (size_t k = 0; k < h->n_results; k++)
			if (strcmp(h->results[k].key, key) == 0)
				r = &h->results[k];
		assert_non_null(r);
		if (i == 7) {
			assert_int_equal(r->status, CHANNEL_OK);
			continue;
		}
		if (r->status != CHANNEL_PERMFAIL || !strstr(r->detail, why[i]))
			print_message("%s: %s\n", key, r->detail);
		assert_int_equal(r->status, CHANNEL_PERMFAIL);
		assert_non_null(strstr(r->detail, why[i]));
	}
	/* Only the loopback name reached the receiver. */
	got = received("/ok/pol/");
	assert_int_equal(json_array_size(got), 1);
	json_decref(got);
	channel_down(h);

	/* A configured url is judged at configure time too. */
	assert_int_equal(channel_configure_text(
				 h, &webhook_driver,
				 "channel web { secret = \"" SECRET "\"\n"
				 "  url = \"http://169.254.169.254/latest\" }"),
			 -EINVAL);
	assert_non_null(strstr(h->diags.lines[0], "link-local"));
	channel_down(h);
	/* allow_private lets a private url be configured. */
	assert_int_equal(
		channel_configure_text(h, &webhook_driver,
				       "channel web { secret = \"" SECRET "\"\n"
				       "  allow_private = true\n"
				       "  url = \"http://10.1.2.3/hook\" }"),
		0);
}

/*
 * A failing answer is quoted by its first 200 bytes at most, with the
 * credentials an internal error page echoes hidden.
 */
static void test_failing_answer_cut_and_hidden(void **state)
{
	struct harness *h = *state;
	const char *d;

	channel_up(h, &webhook_driver, "channel web { secret = \"%s\" }",
		   SECRET);
	send_to(h, "leak-1", url("/leak/x"));
	run_until(h, 1, 10);
	d = h->results[0].detail;
	assert_int_equal(h->results[0].status, CHANNEL_TEMPFAIL);
	assert_true(strlen(d) <= strlen("HTTP 500 Internal Server Error: ") +
					 WEBHOOK_DETAIL_BODY);
	assert_null(strstr(d, "hunter2"));
	assert_null(strstr(d, "3f9a8c1d"));
	assert_null(strstr(d, "eyJhbGci"));
	assert_non_null(strstr(d, "password=[hidden]"));
}

/* The dry run writes one line per message and sends nothing. */
static void test_dryrun(void **state)
{
	struct harness *h = *state;
	char path[192], *line = NULL;
	size_t cap = 0, lines = 0;
	json_t *before = received(""), *after;
	FILE *f;

	snprintf(path, sizeof(path), "%s/dryrun.jsonl", rx.dir);
	channel_up(h, &dryrun_driver, "channel try { path = \"%s\" }", path);
	send_to(h, "dry-1", url("/ok/dry/1"));
	send_to(h, "dry-2", "ops@example.jp");
	send_to(h, "dry-3", "+81312345678");
	send_to(h, "dry-4", url("/ok/dry/4"));
	channel_cancel(&h->ch, "dry-4");
	assert_int_equal(h->n_results, 0);
	assert_int_equal(channel_in_flight(&h->ch), 4);
	run_until(h, 4, 5);
	for (size_t i = 0; i < 4; i++)
		assert_int_equal(h->results[i].status,
				 i < 3 ? CHANNEL_OK : CHANNEL_CANCELLED);

	f = fopen(path, "r");
	assert_non_null(f);
	while (getline(&line, &cap, f) > 0) {
		json_t *j = json_loads(line, 0, NULL);
		char key[16];

		assert_non_null(j);
		snprintf(key, sizeof(key), "dry-%zu", ++lines);
		assert_string_equal(
			json_string_value(json_object_get(j, "key")), key);
		assert_non_null(
			strstr(json_string_value(json_object_get(j, "subject")),
			       "[TLP:AMBER] 【訓練】[DRILL] "));
		json_decref(j);
	}
	free(line);
	fclose(f);
	assert_int_equal(lines, 3);
	/* Nobody was contacted. */
	after = received("");
	assert_int_equal(json_array_size(after), json_array_size(before));
	json_decref(before);
	json_decref(after);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define CASE(f) cmocka_unit_test_setup_teardown(f, case_setup, case_teardown)
		CASE(test_ok_signed_once),
		CASE(test_fail500_is_tempfail),
		CASE(test_flaky_then_ok_same_id),
		CASE(test_ratelimit_retry_after),
		CASE(test_gone_and_bad_are_permfail),
		CASE(test_hang_times_out),
		CASE(test_no_listener),
		CASE(test_cancel_hanging),
		CASE(test_connection_reuse),
		CASE(test_queued_behind_hang),
		CASE(test_stop_completes_outstanding),
		CASE(test_default_url_and_refusals),
		CASE(test_http_client_direct),
		CASE(test_shared_client),
		CASE(test_bad_config),
		CASE(test_dryrun),
		CASE(test_address_policy),
		CASE(test_failing_answer_cut_and_hidden),
#undef CASE
	};

	return cmocka_run_group_tests(tests, receiver_start, receiver_stop);
}
