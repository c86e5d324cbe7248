/*
 * Unit tests for dispatcher/http/http_server.c and api.c: the real evhttp
 * listener on 127.0.0.1 port 0 in front of a fake engine
 * (fake-engine.c), asked by libcurl from the same thread. curl's multi
 * interface and the server's loop take turns, so each story runs
 * without threads: the request as sent, the reply as read, and what the
 * engine was asked.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>
#include <sqlite3.h>

#include "common/buf.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/engine/metrics.h"
#include "dispatcher/store/store.h"
#include "dispatcher/store/sqlite.h"
#include "test/unit/testutil.h"
#include "test/unit/fake-engine.h"

struct fixture {
	char *dir;  /* owned */
	char *path; /* owned; the database */
	struct event_base *base;
	struct store *store;
	struct metrics *metrics;
	struct engine engine;
	struct http_server *server;
	int port;
};

/* What came back from one request. */
struct reply {
	long status;
	struct buf headers;
	struct buf body;
	json_t *json; /* the body parsed, when it is JSON */
};

static const char good_alert[] =
	"{\"title\": \"重要インフラ向け注意喚起\", \"body\": \"本文\","
	" \"type\": \"early-warning\", \"severity\": \"high\","
	" \"tlp\": \"GREEN\", \"targets\": [\"all\"], \"drill\": true}";

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	if (f == NULL)
		return -1;
	f->dir = testutil_tmpdir("test-api");
	f->path = testutil_path(f->dir, "pocalert.db");
	if (store_open(f->path, &f->store) < 0)
		return -1;
	if (sqlite3_exec(
		    sqlite_store_db(f->store),
		    "INSERT INTO alerts (id, title, body, type, severity, tlp,"
		    " drill, targets, state, created_at, created_by) VALUES"
		    " ('A-1', 'タイトル', 'b', 'incident', 'high', 'AMBER', 0,"
		    " '[\"all\"]', 'active', 1795309200000, 'alice');"
		    "INSERT INTO alert_orgs (alert_id, org_id, org_name,"
		    " position, state) VALUES ('A-1', 'org-1', '電力', 0,"
		    " 'notified');"
		    "INSERT INTO deliveries (id, alert_id, org_id, contact_id,"
		    " contact_name, language, channel, address, charset, rank,"
		    " state) VALUES ('d1', 'A-1', 'org-1', 'c1', '山田', 'ja',"
		    " 'mail', 'a@example.jp', 'utf-8', 1, 'queued');",
		    NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	f->metrics = metrics_new();
	metrics_ack(f->metrics);
	f->engine.store = f->store;
	f->engine.metrics = f->metrics;
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
	metrics_free(f->metrics);
	store_close(f->store);
	testutil_rmtree(f->dir);
	free(f->dir);
	free(f->path);
	free(f);
	return 0;
}

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	return buf_append(arg, data, size * n) == 0 ? size * n : 0;
}

/* Options for one request; all may be left zero. */
struct request {
	const char *method; /* default GET, or POST with a body */
	const char *token;  /* bearer token; NULL sends none */
	const char *body;
	size_t body_len;	 /* 0: strlen(body) */
	bool no_expect;		 /* send a large body without waiting for 100 */
	const char *auth_header; /* a raw Authorization header instead */
};

/*
 * Sends one request to the server under test and runs both sides until
 * the reply is in. The reply is the caller's (reply_free()).
 */
static void do_request(struct fixture *f, const char *path,
		       const struct request *rq, struct reply *out)
{
	CURLM *multi = curl_multi_init();
	CURL *c = curl_easy_init();
	struct curl_slist *hdrs = NULL;
	char url[512], auth[256];
	int running = 1;

	memset(out, 0, sizeof(*out));
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", f->port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &out->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &out->headers);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(c, CURLOPT_NOPROXY, "*");
	if (rq->token != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
			 rq->token);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (rq->auth_header != NULL) {
		snprintf(auth, sizeof(auth), "Authorization: %s",
			 rq->auth_header);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (rq->body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(
			c, CURLOPT_POSTFIELDSIZE,
			(long)(rq->body_len ? rq->body_len : strlen(rq->body)));
		hdrs = curl_slist_append(hdrs,
					 "Content-Type: application/json");
	}
	if (rq->no_expect)
		hdrs = curl_slist_append(hdrs, "Expect:");
	if (rq->method != NULL && strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	else if (rq->method != NULL)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_multi_add_handle(multi, c);
	/* Take turns: curl sends or reads a little, then the server runs. */
	while (running) {
		curl_multi_perform(multi, &running);
		if (running)
			curl_multi_poll(multi, NULL, 0, 2, NULL);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_multi_remove_handle(multi, c);
	curl_easy_cleanup(c);
	curl_multi_cleanup(multi);
	curl_slist_free_all(hdrs);
	if (out->body.len > 0)
		out->json = json_loadb(out->body.data, out->body.len, 0, NULL);
}

static void reply_free(struct reply *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
	json_decref(r->json);
}

/* The reply's header line "Name: value" (case as libevent writes it). */
static bool has_header(const struct reply *r, const char *line)
{
	return r->headers.data != NULL && strstr(r->headers.data, line);
}

static const char *json_str(const struct reply *r, const char *name)
{
	json_t *v = json_object_get(r->json, name);

	if (!json_is_string(v))
		fail_msg("reply has no string \"%s\": %s", name,
			 r->body.data ? r->body.data : "(empty)");
	return json_string_value(v);
}

static void test_healthz_needs_no_token_metrics_does(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	do_request(f, "/healthz", &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data,
			    "ok\ncalendar: ends 2027-12-31, 398 days left\n");
	reply_free(&r);

	/* Queue depths tell an outsider an alert is going out. */
	do_request(f, "/metrics", &(struct request){0}, &r);
	assert_int_equal(r.status, 401);
	assert_null(strstr(r.body.data, "pocalert_"));
	reply_free(&r);
	do_request(f, "/metrics", &(struct request){.token = FAKE_TOKEN}, &r);
	assert_int_equal(r.status, 200);
	assert_true(has_header(
		&r, "Content-Type: text/plain; version=0.0.4; charset=utf-8"));
	assert_non_null(strstr(r.body.data, "\npocalert_acks_total 1\n"));
	assert_non_null(strstr(r.body.data,
			       "\npocalert_queue_depth{channel=\"mail\"} 3\n"));
	reply_free(&r);

	/* HEAD: the headers of a GET, and no body. */
	do_request(f, "/healthz", &(struct request){.method = "HEAD"}, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_true(has_header(&r, "Content-Length: 44"));
	reply_free(&r);
}

static void test_unauthorised(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	do_request(f, "/api/v1/alerts", &(struct request){.body = good_alert},
		   &r);
	assert_int_equal(r.status, 401);
	assert_true(has_header(&r, "WWW-Authenticate: Bearer"));
	assert_true(has_header(&r, "Content-Type: application/json; "
				   "charset=utf-8"));
	assert_non_null(strstr(json_str(&r, "error"), "token"));
	reply_free(&r);

	do_request(f, "/api/v1/alerts",
		   &(struct request){.body = good_alert, .token = "wrong"}, &r);
	assert_int_equal(r.status, 401);
	assert_true(has_header(&r, "WWW-Authenticate: Bearer"));
	reply_free(&r);

	/* Another scheme, or the right token with junk after it. */
	do_request(f, "/api/v1/alerts",
		   &(struct request){.auth_header = "Basic czNjcmV0LXRva2Vu"},
		   &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	do_request(f, "/api/v1/alerts",
		   &(struct request){.auth_header = "Bearer " FAKE_TOKEN " x"},
		   &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);

	/* Reads and unknown API paths are guarded the same way. */
	do_request(f, "/api/v1/alerts/A-1", &(struct request){0}, &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	do_request(f, "/api/v1/nothing-here", &(struct request){0}, &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	assert_int_equal(f->engine.n_accept, 0);

	/* The scheme is case-insensitive. */
	do_request(f, "/api/v1/alerts",
		   &(struct request){.auth_header = "bearer " FAKE_TOKEN}, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_create(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	f->engine.next_id = "01JDRILL0001";
	do_request(f, "/api/v1/alerts",
		   &(struct request){.body = good_alert, .token = FAKE_TOKEN},
		   &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_str(&r, "id"), "01JDRILL0001");
	assert_true(has_header(&r, "Location: /api/v1/alerts/01JDRILL0001"));
	assert_true(has_header(&r, "Content-Type: application/json; "
				   "charset=utf-8"));
	assert_int_equal(f->engine.n_accept, 1);
	assert_string_equal(f->engine.last_title, "重要インフラ向け注意喚起");
	assert_string_equal(f->engine.last_operator, FAKE_OPERATOR);
	assert_true(f->engine.last_drill);
	reply_free(&r);
}

static void test_create_refused(void **state)
{
	struct fixture *f = *state;
	struct request rq = {.token = FAKE_TOKEN};
	struct reply r;

	rq.body = "{\"title\": \"t\"}";
	do_request(f, "/api/v1/alerts", &rq, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_str(&r, "field"), "body");
	reply_free(&r);

	rq.body = "{\"colour\": 1}";
	do_request(f, "/api/v1/alerts", &rq, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_str(&r, "field"), "colour");
	reply_free(&r);

	rq.body = "this is not json";
	do_request(f, "/api/v1/alerts", &rq, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_str(&r, "field"), "");
	reply_free(&r);
	assert_int_equal(f->engine.n_accept, 0);

	/* The planner's refusal (an unknown organisation) comes through. */
	f->engine.accept_result = -EINVAL;
	alert_error_set(&f->engine.accept_err, 400, "targets",
			"no organisation \"org:nope\"");
	rq.body = good_alert;
	do_request(f, "/api/v1/alerts", &rq, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_str(&r, "field"), "targets");
	assert_string_equal(json_str(&r, "error"),
			    "no organisation \"org:nope\"");
	reply_free(&r);

	/* Shutting down: 503, and the engine is not asked. */
	f->engine.accept_result = 0;
	f->engine.accepting = false;
	do_request(f, "/api/v1/alerts", &rq, &r);
	assert_int_equal(r.status, 503);
	reply_free(&r);
	assert_int_equal(f->engine.n_accept, 1);
}

/* An alert body over 64 KiB inside a small request: the field's 413. */
static void test_alert_body_too_large(void **state)
{
	struct fixture *f = *state;
	size_t n = 70 * 1024;
	char *big = malloc(n + 256);
	struct reply r;
	int len;

	assert_non_null(big);
	len = sprintf(big, "{\"title\": \"t\", \"type\": \"info\", "
			   "\"severity\": \"low\", \"tlp\": \"CLEAR\", "
			   "\"targets\": [\"all\"], \"body\": \"");
	assert_true(len > 0 && len < 256);
	memset(big + (size_t)len, 'x', n);
	strcpy(big + (size_t)len + n, "\"}");
	do_request(f, "/api/v1/alerts",
		   &(struct request){.body = big, .token = FAKE_TOKEN}, &r);
	assert_int_equal(r.status, 413);
	assert_string_equal(json_str(&r, "field"), "body");
	reply_free(&r);
	free(big);
}

/* A request body over 1 MiB never reaches a handler: evhttp says 413. */
static void test_request_too_large(void **state)
{
	struct fixture *f = *state;
	size_t n = 2 * 1024 * 1024;
	char *big = malloc(n);
	struct reply r;

	assert_non_null(big);
	memset(big, ' ', n);
	do_request(f, "/api/v1/alerts",
		   &(struct request){
			   .body = big, .body_len = n, .token = FAKE_TOKEN},
		   &r);
	assert_int_equal(r.status, 413);
	reply_free(&r);
	/* Without "Expect: 100-continue" the body is read, then refused. */
	do_request(f, "/api/v1/alerts",
		   &(struct request){.body = big,
				     .body_len = n,
				     .token = FAKE_TOKEN,
				     .no_expect = true},
		   &r);
	assert_int_equal(r.status, 413);
	reply_free(&r);
	assert_int_equal(f->engine.n_accept, 0);
	free(big);

	/* And the server still answers. */
	do_request(f, "/healthz", &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_get_and_list(void **state)
{
	struct fixture *f = *state;
	struct request rq = {.token = FAKE_TOKEN};
	struct reply r;
	json_t *counts;

	do_request(f, "/api/v1/alerts/A-1", &rq, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_str(&r, "id"), "A-1");
	assert_string_equal(json_str(&r, "title"), "タイトル");
	counts = json_object_get(r.json, "counts");
	assert_int_equal(json_integer_value(json_object_get(counts, "pending")),
			 1);
	assert_true(has_header(&r, "Cache-Control: no-store"));
	/* Flushed before reading, so the status includes the latest. */
	assert_int_equal(f->engine.n_flush, 1);
	reply_free(&r);

	/* The id is a path segment: percent-encoding is decoded. */
	do_request(f, "/api/v1/alerts/A%2D1", &rq, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);

	do_request(f, "/api/v1/alerts/nope", &rq, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(json_str(&r, "error"), "no alert nope");
	reply_free(&r);

	do_request(f, "/api/v1/alerts", &rq, &r);
	assert_int_equal(r.status, 200);
	assert_true(json_is_array(r.json));
	assert_int_equal(json_array_size(r.json), 1);
	reply_free(&r);

	do_request(f, "/api/v1/alerts?limit=0", &rq, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_str(&r, "field"), "limit");
	reply_free(&r);
	do_request(f, "/api/v1/alerts?limit=5", &rq, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
}

static void test_cancel(void **state)
{
	struct fixture *f = *state;
	struct request rq = {.token = FAKE_TOKEN, .method = "POST", .body = ""};
	struct reply r;

	do_request(f, "/api/v1/alerts/A-1/cancel", &rq, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_str(&r, "id"), "A-1");
	assert_int_equal(f->engine.n_cancel, 1);
	assert_string_equal(f->engine.last_cancel_id, "A-1");
	assert_false(f->engine.last_cancel_notify);
	reply_free(&r);

	rq.body = "{\"notify\": true}";
	do_request(f, "/api/v1/alerts/A-1/cancel", &rq, &r);
	assert_int_equal(r.status, 200);
	assert_true(f->engine.last_cancel_notify);
	reply_free(&r);

	do_request(f, "/api/v1/alerts/missing/cancel", &rq, &r);
	assert_int_equal(r.status, 404);
	assert_string_equal(json_str(&r, "error"), "no alert missing");
	reply_free(&r);

	do_request(f, "/api/v1/alerts/finished/cancel", &rq, &r);
	assert_int_equal(r.status, 409);
	reply_free(&r);

	rq.body = "{\"notify\": \"yes\"}";
	do_request(f, "/api/v1/alerts/A-1/cancel", &rq, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_str(&r, "field"), "notify");
	reply_free(&r);
	rq.body = "{\"reason\": \"x\"}";
	do_request(f, "/api/v1/alerts/A-1/cancel", &rq, &r);
	assert_int_equal(r.status, 400);
	assert_string_equal(json_str(&r, "field"), "reason");
	reply_free(&r);
	assert_int_equal(f->engine.n_cancel, 4);
}

static void test_wrong_method_and_path(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	do_request(f, "/api/v1/alerts",
		   &(struct request){.method = "DELETE", .token = FAKE_TOKEN},
		   &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: GET, HEAD, POST"));
	reply_free(&r);

	do_request(f, "/api/v1/alerts/A-1/cancel",
		   &(struct request){.token = FAKE_TOKEN}, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: POST"));
	reply_free(&r);

	do_request(f, "/healthz", &(struct request){.method = "PUT"}, &r);
	assert_int_equal(r.status, 405);
	reply_free(&r);

	do_request(f, "/nothing", &(struct request){0}, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	do_request(f, "/api/v1/alerts/A-1/extra",
		   &(struct request){.token = FAKE_TOKEN}, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	do_request(f, "/api/v1/alerts/", &(struct request){.token = FAKE_TOKEN},
		   &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	/* A segment that decodes to a control character matches nothing. */
	do_request(f, "/api/v1/alerts/A%0A1",
		   &(struct request){.token = FAKE_TOKEN}, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	assert_int_equal(f->engine.n_accept + f->engine.n_cancel, 0);
}

static void test_listen_errors(void **state)
{
	struct fixture *f = *state;
	struct http_server *h = NULL;
	char busy[64];

	assert_int_equal(http_server_new(f->base, &f->engine, "no-port", &h),
			 -EINVAL);
	assert_int_equal(
		http_server_new(f->base, &f->engine, "127.0.0.1:99999", &h),
		-EINVAL);
	snprintf(busy, sizeof(busy), "127.0.0.1:%d", f->port);
	assert_true(http_server_new(f->base, &f->engine, busy, &h) < 0);
	assert_null(h);
	http_server_free(NULL);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_healthz_needs_no_token_metrics_does),
		T(test_unauthorised),
		T(test_create),
		T(test_create_refused),
		T(test_alert_body_too_large),
		T(test_request_too_large),
		T(test_get_and_list),
		T(test_cancel),
		T(test_wrong_method_and_path),
		T(test_listen_errors),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
