/*
 * Unit tests for dispatcher/http/http_server.c as a listener, below the
 * routes: what a hostile client can do with raw bytes on a socket. The
 * real evhttp listener runs on 127.0.0.1 port 0 in front of the fake
 * engine (fake-engine.c); the client is a plain socket in the same
 * thread, and the test turns the server's loop while it waits.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/event.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "dispatcher/engine/metrics.h"
#include "dispatcher/http/http_server.h"
#include "test/unit/fake-engine.h"

struct fixture {
	struct event_base *base;
	struct engine engine;
	struct http_server *server;
	int port;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->engine.accepting = true;
	f->base = event_base_new();
	if (f->base == NULL ||
	    http_server_new(f->base, &f->engine, "127.0.0.1:0", &f->server) < 0)
		return -1;
	f->port = http_server_port(f->server);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_free(f->server);
	event_base_free(f->base);
	free(f);
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A connected socket to the server (the backlog takes it at once). */
static int dial(struct fixture *f)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)f->port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

/*
 * Sends raw, then turns the server's loop and reads what comes back
 * until the server closes or ms pass. Returns true when it closed; out
 * gets the bytes (NUL-terminated).
 */
static bool collect(struct fixture *f, int fd, int ms, struct buf *out);

static bool exchange(struct fixture *f, int fd, const char *raw, int ms,
		     struct buf *out)
{
	size_t len = strlen(raw);

	assert_int_equal(send(fd, raw, len, 0), (ssize_t)len);
	return collect(f, fd, ms, out);
}

/* The reading half of exchange(): nothing is sent. */
static bool collect(struct fixture *f, int fd, int ms, struct buf *out)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		struct pollfd p = {.fd = fd, .events = POLLIN};
		char b[4096];
		ssize_t n;

		event_base_loop(f->base, EVLOOP_NONBLOCK);
		if (poll(&p, 1, 5) <= 0)
			continue;
		n = recv(fd, b, sizeof(b), 0);
		if (n <= 0)
			return true;
		buf_append(out, b, (size_t)n);
	}
	buf_append(out, "", 0);
	return false;
}

/* How many replies (status lines) out holds. */
static int replies(const struct buf *out)
{
	int n = 0;

	for (const char *p = out->data; p && (p = strstr(p, "HTTP/1.1 ")); p++)
		n++;
	return n;
}

/*
 * Two different Content-Length headers: evhttp took the first (0) and
 * read the rest as a second request, smuggled past whatever proxy used
 * the other. Now: one 400 and the connection closed.
 */
static void test_two_content_lengths_refused(void **state)
{
	struct fixture *f = *state;
	struct buf out = {0};
	int fd = dial(f);
	bool closed = exchange(f, fd,
			       "GET /healthz HTTP/1.1\r\n"
			       "Host: x\r\n"
			       "Content-Length: 0\r\n"
			       "Content-Length: 25\r\n"
			       "\r\n"
			       "GET /healthz HTTP/1.1\r\n\r\n",
			       2000, &out);

	assert_true(closed);
	assert_int_equal(replies(&out), 1);
	assert_non_null(strstr(out.data, "HTTP/1.1 400 "));
	assert_non_null(strstr(out.data, "Connection: close\r\n"));
	close(fd);
	buf_free(&out);

	/* One length in one header, two values: the same. */
	fd = dial(f);
	closed = exchange(f, fd,
			  "POST /healthz HTTP/1.1\r\n"
			  "Host: x\r\n"
			  "Content-Length: 0, 25\r\n"
			  "\r\n",
			  2000, &out);
	assert_true(closed);
	assert_int_equal(replies(&out), 1);
	assert_non_null(strstr(out.data, "HTTP/1.1 400 "));
	close(fd);
	buf_free(&out);
}

/* Transfer-Encoding beside Content-Length: 400 and close. */
static void test_transfer_encoding_with_length_refused(void **state)
{
	struct fixture *f = *state;
	struct buf out = {0};
	int fd = dial(f);
	bool closed = exchange(f, fd,
			       "POST /ack/abc HTTP/1.1\r\n"
			       "Host: x\r\n"
			       "Transfer-Encoding: chunked\r\n"
			       "Content-Length: 30\r\n"
			       "\r\n"
			       "0\r\n\r\n"
			       "GET /healthz HTTP/1.1\r\n\r\n",
			       2000, &out);

	assert_true(closed);
	assert_int_equal(replies(&out), 1);
	assert_non_null(strstr(out.data, "HTTP/1.1 400 "));
	assert_int_equal(f->engine.n_ack_view, 0);
	close(fd);
	buf_free(&out);

	/* A coding evhttp does not decode frames nothing: refused. */
	fd = dial(f);
	closed = exchange(f, fd,
			  "POST /ack/abc HTTP/1.1\r\n"
			  "Host: x\r\n"
			  "Transfer-Encoding: gzip, chunked\r\n"
			  "\r\n"
			  "0\r\n\r\n",
			  2000, &out);
	assert_true(closed);
	assert_non_null(strstr(out.data, "HTTP/1.1 400 "));
	close(fd);
	buf_free(&out);
}

/* The same length twice is harmless, and so is plain chunked. */
static void test_plain_framing_still_served(void **state)
{
	struct fixture *f = *state;
	struct buf out = {0};
	int fd = dial(f);

	exchange(f, fd,
		 "GET /healthz HTTP/1.1\r\n"
		 "Host: x\r\n"
		 "Content-Length: 0\r\n"
		 "Content-Length: 0\r\n"
		 "\r\n"
		 "POST /healthz HTTP/1.1\r\n"
		 "Host: x\r\n"
		 "Transfer-Encoding: chunked\r\n"
		 "\r\n"
		 "0\r\n\r\n",
		 500, &out);
	assert_int_equal(replies(&out), 2);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	assert_non_null(strstr(out.data, "HTTP/1.1 405 "));
	close(fd);
	buf_free(&out);
}

/* Turns the loop for ms. */
static void turn(struct fixture *f, int ms)
{
	int64_t end = now_ms() + ms;

	while (now_ms() < end) {
		event_base_loop(f->base, EVLOOP_NONBLOCK);
		usleep(2000);
	}
}

/*
 * Whether the server has closed fd: EOF, or a reset when it closed with
 * our bytes unread.
 */
static bool closed_by_server(int fd)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	ssize_t n;
	char c;

	if (poll(&p, 1, 0) != 1)
		return false;
	n = recv(fd, &c, 1, MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}

/* The server again, with small caps of its own. */
static void restart(struct fixture *f, int max_conns, int per_addr, int timeout)
{
	struct http_options o;

	http_server_free(f->server);
	http_options_default(&o, "127.0.0.1:0");
	o.max_connections = max_conns;
	o.max_per_address = per_addr;
	o.request_timeout = timeout;
	assert_int_equal(
		http_server_new_with(f->base, &f->engine, &o, &f->server), 0);
	f->port = http_server_port(f->server);
}

/*
 * Over the cap per address, the oldest connection of that address that
 * has sent nothing gives way to the new one: a flood of idle sockets cannot shut out a
 * client that wants an answer.
 */
static void test_cap_per_address(void **state)
{
	struct fixture *f = *state;
	struct buf out = {0};
	int fd[5];

	restart(f, 100, 3, 60);
	for (int i = 0; i < 3; i++)
		fd[i] = dial(f);
	turn(f, 100);
	assert_int_equal(http_server_connections(f->server), 3);
	fd[3] = dial(f);
	turn(f, 100);
	assert_int_equal(http_server_connections(f->server), 3);
	assert_true(closed_by_server(fd[0]));
	assert_false(closed_by_server(fd[1]));
	/* The newest is served. */
	exchange(f, fd[3], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 300,
		 &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	buf_free(&out);
	for (int i = 0; i < 4; i++)
		close(fd[i]);
	turn(f, 100);
	assert_int_equal(http_server_connections(f->server), 0);
}

/*
 * A client that has sent a whole request is answered, however many
 * connections from its address the backlog hands over after it: only
 * connections that have sent nothing give way, oldest first. Every
 * socket here waits in the backlog until the loop turns, so they are
 * all accepted in one go, before evhttp has read a byte of any.
 */
static void test_cap_spares_a_waiting_request(void **state)
{
	struct fixture *f = *state;
	struct buf out = {0};
	const char *req = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
	int quiet[12], asking;

	restart(f, 100, 4, 60);
	for (int i = 0; i < 2; i++)
		quiet[i] = dial(f);
	asking = dial(f);
	assert_int_equal(send(asking, req, strlen(req), 0),
			 (ssize_t)strlen(req));
	for (int i = 2; i < 12; i++)
		quiet[i] = dial(f);
	turn(f, 200);
	assert_int_equal(http_server_connections(f->server), 4);
	/* Its request was read and answered, not cut off unanswered. */
	collect(f, asking, 500, &out);
	buf_append(&out, "", 0);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	/* The quiet ones gave way oldest first; the newest three stay. */
	for (int i = 0; i < 9; i++)
		assert_true(closed_by_server(quiet[i]));
	for (int i = 9; i < 12; i++)
		assert_false(closed_by_server(quiet[i]));
	buf_free(&out);
	close(asking);
	for (int i = 0; i < 12; i++)
		close(quiet[i]);
}

/* The total cap works the same way across addresses. */
static void test_cap_in_all(void **state)
{
	struct fixture *f = *state;
	int fd[20];

	/* The fewest connections the server keeps is 16. */
	restart(f, 16, 0, 60);
	for (int i = 0; i < 20; i++) {
		fd[i] = dial(f);
		turn(f, 10);
	}
	turn(f, 100);
	assert_int_equal(http_server_connections(f->server), 16);
	for (int i = 0; i < 4; i++)
		assert_true(closed_by_server(fd[i]));
	assert_false(closed_by_server(fd[19]));
	for (int i = 0; i < 20; i++)
		close(fd[i]);
}

/*
 * A request must be whole within request_timeout seconds, however
 * slowly it trickles in; after a reply the clock starts again.
 */
static void test_request_deadline(void **state)
{
	struct fixture *f = *state;
	struct buf out = {0};
	int fd, fd2;
	int64_t start;

	restart(f, 100, 0, 1);
	fd = dial(f);
	fd2 = dial(f);
	exchange(f, fd2, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 200, &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	buf_free(&out);
	start = now_ms();
	assert_int_equal(send(fd, "GET /healthz HTTP/1.1\r\n", 23, 0), 23);
	while (!closed_by_server(fd) && now_ms() - start < 3000) {
		/* A header line every 200 ms keeps evhttp's own timer quiet. */
		send(fd, "X-Slow: 1\r\n", 11, MSG_NOSIGNAL);
		turn(f, 200);
	}
	assert_true(now_ms() - start < 2000);
	assert_true(closed_by_server(fd2));
	close(fd);
	close(fd2);
}

/* The reply to one GET of path on port, with an optional bearer token. */
static void get(struct fixture *f, int port, const char *path,
		const char *token, struct buf *out)
{
	char raw[512];
	int saved = f->port, fd;

	f->port = port;
	fd = dial(f);
	f->port = saved;
	snprintf(raw, sizeof(raw),
		 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
		 "%s%s%s\r\n",
		 path, token ? "Authorization: Bearer " : "",
		 token ? token : "", token ? "\r\n" : "");
	exchange(f, fd, raw, 2000, out);
	close(fd);
}

/*
 * /metrics on the public listener wants a token (an operator's or the
 * metrics token); on its own listener it needs none, and that listener
 * serves nothing else.
 */
static void test_metrics_listener_and_token(void **state)
{
	struct fixture *f = *state;
	struct http_options o;
	uint8_t digest[SHA256_LEN];
	struct buf out = {0};
	int mport;

	f->engine.metrics = metrics_new();
	assert_non_null(f->engine.metrics);
	crypto_sha256("m-token", 7, digest);
	http_server_free(f->server);
	http_options_default(&o, "127.0.0.1:0");
	o.metrics_listen = "127.0.0.1:0";
	o.metrics_token_sha256 = digest;
	assert_int_equal(
		http_server_new_with(f->base, &f->engine, &o, &f->server), 0);
	f->port = http_server_port(f->server);
	mport = http_server_metrics_port(f->server);
	assert_true(mport > 0 && mport != f->port);

	get(f, f->port, "/metrics", NULL, &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 401 "));
	buf_free(&out);
	get(f, f->port, "/metrics", "m-token", &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	assert_non_null(strstr(out.data, "pocalert_"));
	buf_free(&out);
	get(f, f->port, "/metrics", FAKE_TOKEN, &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	buf_free(&out);
	/* The metrics token opens /metrics only, not the API. */
	get(f, f->port, "/api/v1/alerts", "m-token", &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 401 "));
	buf_free(&out);

	get(f, mport, "/metrics", NULL, &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	assert_non_null(strstr(out.data, "pocalert_"));
	buf_free(&out);
	get(f, mport, "/healthz", NULL, &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	buf_free(&out);
	get(f, mport, "/api/v1/alerts", FAKE_TOKEN, &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 404 "));
	buf_free(&out);
	get(f, mport, "/ack/abc", NULL, &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 404 "));
	buf_free(&out);

	http_server_free(f->server);
	f->server = NULL;
	metrics_free(f->engine.metrics);
}

/* A client trying bearer tokens in a loop: one log line a second. */
static void test_wrong_tokens_logged_once_a_second(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/test-http-server-log.XXXXXX";
	int logfd = mkstemp(path), saved = dup(2), lines = 0;
	struct buf out = {0};
	char text[8192] = "";
	ssize_t n;

	assert_true(logfd >= 0 && saved >= 0);
	fflush(stderr);
	dup2(logfd, 2);
	for (int i = 0; i < 20; i++) {
		get(f, f->port, "/api/v1/alerts", "wrong", &out);
		assert_non_null(strstr(out.data, "HTTP/1.1 401 "));
		buf_free(&out);
	}
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(logfd, text, sizeof(text) - 1, 0);
	close(logfd);
	unlink(path);
	assert_true(n > 0);
	for (const char *p = text; (p = strstr(p, "refused a bearer token"));
	     p++)
		lines++;
	/* 20 tries in well under 2 s: one line, two at a second's edge. */
	assert_in_range(lines, 1, 2);
}

/* Descriptors this process has open. */
static int open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 4096; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

/*
 * accept() with no descriptor left: the listener rests and logs once,
 * instead of being woken for the same connection in a loop; once
 * descriptors are back, the waiting clients are served.
 */
static void test_accept_out_of_descriptors(void **state)
{
	struct fixture *f = *state;
	char path[] = "/tmp/test-http-server-log.XXXXXX";
	int logfd = mkstemp(path), saved = dup(2), lines = 0, fd[3];
	struct rlimit old, low;
	struct buf out = {0};
	char text[16384] = "";
	ssize_t n;

	assert_true(logfd >= 0 && saved >= 0);
	for (int i = 0; i < 3; i++)
		fd[i] = dial(f);
	fflush(stderr);
	dup2(logfd, 2);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &old), 0);
	low = old;
	/* Not one more descriptor: every accept() fails with EMFILE. */
	low.rlim_cur = (rlim_t)(open_fds() + 3) > old.rlim_cur
			       ? old.rlim_cur
			       : (rlim_t)open_fds();
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	turn(f, 1500);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &old), 0);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	n = pread(logfd, text, sizeof(text) - 1, 0);
	close(logfd);
	unlink(path);
	assert_true(n > 0);
	for (const char *p = text; (p = strstr(p, "accept() failed;")); p++)
		lines++;
	/*
	 * 1.5 s of a full table, touching at most three seconds of the
	 * clock: a line a second, not one a wake-up (every 200 ms).
	 */
	assert_in_range(lines, 1, 3);
	assert_non_null(strstr(text, "Too many open files"));
	/* libevent's own line, once per wake-up, never comes. */
	assert_null(strstr(text, "Error from accept() call"));
	/* Descriptors are back: the clients that waited are served. */
	exchange(f, fd[2], "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", 1000,
		 &out);
	assert_non_null(strstr(out.data, "HTTP/1.1 200 "));
	buf_free(&out);
	for (int i = 0; i < 3; i++)
		close(fd[i]);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_two_content_lengths_refused),
		T(test_transfer_encoding_with_length_refused),
		T(test_plain_framing_still_served),
		T(test_cap_per_address),
		T(test_cap_spares_a_waiting_request),
		T(test_cap_in_all),
		T(test_request_deadline),
		T(test_metrics_listener_and_token),
		T(test_wrong_tokens_logged_once_a_second),
		T(test_accept_out_of_descriptors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
