/*
 * Unit tests for dispatcher/http/ack_http.c: the reply links over the real
 * evhttp listener on 127.0.0.1 port 0, in front of the fake engine
 * (fake-engine.c), asked by libcurl from the same thread. curl's multi
 * interface and the server's loop take turns, so a story can stop
 * halfway: a POST sent, the engine not yet done, no reply yet; then the
 * engine's completion fires and the reply comes.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <curl/curl.h>
#include <event2/event.h>
#include <jansson.h>

#include "common/buf.h"
#include "dispatcher/http/ack_http.h"
#include "dispatcher/http/ack_page.h"
#include "dispatcher/http/http_server.h"
#include "test/unit/fake-engine.h"

#define ACK_PATH "/ack/" FAKE_ACK_TOKEN
#define CSP                                                                    \
	"Content-Security-Policy: default-src 'none'; style-src "              \
	"'unsafe-inline'; form-action 'self'; frame-ancestors 'none'"
/* The dummy ack_http.c looks up in place of a malformed token. */
#define DUMMY_TOKEN "00000000000000000000000000"

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
	f->engine.ack = (struct ack_view){
		.alert_id = "01JALERT0001",
		.title = "水道事業者向け注意喚起",
		.body = "本文一行目\n本文二行目",
		.type = "early-warning",
		.severity = "high",
		.tlp = TLP_AMBER,
		.drill = true,
		.org_id = "water-1",
		.org_name = "架空水道局",
		.contact_id = "desk",
		.contact_name = "緊急窓口",
		.language = "ja",
		.created_at = 1795309200000LL,
	};
	f->engine.ack_now = 1795309260000LL;
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
	/* A completion still held is what an engine would fire at exit. */
	fake_ack_complete(&f->engine, -ECANCELED);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* What came back from one request. */
struct reply {
	long status;
	struct buf headers;
	struct buf body;
};

/* Options for one request; all may be left zero. */
struct request {
	const char *method;	  /* default GET, or POST with a body */
	const char *path;	  /* default ACK_PATH */
	const char *body;	  /* a form, sent as is */
	size_t body_len;	  /* 0: strlen(body) */
	const char *content_type; /* NULL: the form type; "": none at all */
	const char *token;	  /* a bearer token */
};

/* A request on its way: started, pumped, finished. */
struct call {
	CURLM *multi;
	CURL *c;
	struct curl_slist *hdrs;
	struct reply out;
	bool running;
	char ctype[160], auth[160];
};

static size_t collect(char *data, size_t size, size_t n, void *arg)
{
	return buf_append(arg, data, size * n) == 0 ? size * n : 0;
}

static void start(struct fixture *f, const struct request *rq, struct call *k)
{
	char url[512];

	memset(k, 0, sizeof(*k));
	k->multi = curl_multi_init();
	k->c = curl_easy_init();
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", f->port,
		 rq->path ? rq->path : ACK_PATH);
	curl_easy_setopt(k->c, CURLOPT_URL, url);
	curl_easy_setopt(k->c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(k->c, CURLOPT_WRITEDATA, &k->out.body);
	curl_easy_setopt(k->c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(k->c, CURLOPT_HEADERDATA, &k->out.headers);
	curl_easy_setopt(k->c, CURLOPT_TIMEOUT, 20L);
	curl_easy_setopt(k->c, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(k->c, CURLOPT_USERAGENT, "test-ack-http/1");
	k->hdrs = curl_slist_append(k->hdrs, "Expect:");
	if (rq->body != NULL) {
		curl_easy_setopt(k->c, CURLOPT_POSTFIELDS, rq->body);
		curl_easy_setopt(
			k->c, CURLOPT_POSTFIELDSIZE,
			(long)(rq->body_len ? rq->body_len : strlen(rq->body)));
		if (rq->content_type != NULL) {
			snprintf(k->ctype, sizeof(k->ctype),
				 "Content-Type:%s%s",
				 rq->content_type[0] ? " " : "",
				 rq->content_type);
			k->hdrs = curl_slist_append(k->hdrs, k->ctype);
		}
	}
	if (rq->token != NULL) {
		snprintf(k->auth, sizeof(k->auth), "Authorization: Bearer %s",
			 rq->token);
		k->hdrs = curl_slist_append(k->hdrs, k->auth);
	}
	if (rq->method != NULL && strcmp(rq->method, "HEAD") == 0)
		curl_easy_setopt(k->c, CURLOPT_NOBODY, 1L);
	else if (rq->method != NULL)
		curl_easy_setopt(k->c, CURLOPT_CUSTOMREQUEST, rq->method);
	curl_easy_setopt(k->c, CURLOPT_HTTPHEADER, k->hdrs);
	curl_multi_add_handle(k->multi, k->c);
	k->running = true;
}

/* Lets both sides run up to rounds turns. Returns true once replied. */
static bool pump(struct fixture *f, struct call *k, int rounds)
{
	int running = 1;

	for (int i = 0; i < rounds && k->running; i++) {
		curl_multi_perform(k->multi, &running);
		k->running = running != 0;
		if (k->running)
			curl_multi_poll(k->multi, NULL, 0, 2, NULL);
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	}
	return !k->running;
}

/* Drops the request halfway: the client hangs up. */
static void hang_up(struct call *k)
{
	curl_multi_remove_handle(k->multi, k->c);
	curl_easy_cleanup(k->c);
	curl_multi_cleanup(k->multi);
	curl_slist_free_all(k->hdrs);
	buf_free(&k->out.headers);
	buf_free(&k->out.body);
}

/* Runs until the reply is in; it is the caller's (reply_free()). */
static void finish(struct fixture *f, struct call *k, struct reply *out)
{
	while (!pump(f, k, 1000))
		;
	curl_easy_getinfo(k->c, CURLINFO_RESPONSE_CODE, &k->out.status);
	curl_multi_remove_handle(k->multi, k->c);
	curl_easy_cleanup(k->c);
	curl_multi_cleanup(k->multi);
	curl_slist_free_all(k->hdrs);
	*out = k->out;
}

static void do_request(struct fixture *f, const struct request *rq,
		       struct reply *out)
{
	struct call k;

	start(f, rq, &k);
	finish(f, &k, out);
}

static void reply_free(struct reply *r)
{
	buf_free(&r->headers);
	buf_free(&r->body);
}

static bool has_header(const struct reply *r, const char *line)
{
	return r->headers.data != NULL && strstr(r->headers.data, line);
}

static const char *body(const struct reply *r)
{
	return r->body.data ? r->body.data : "";
}

/* The headers without the Date line, which changes by the second. */
static char *headers_sans_date(const struct reply *r)
{
	struct buf b = {0};
	const char *p = r->headers.data;

	while (p != NULL && *p != '\0') {
		const char *eol = strchr(p, '\n');
		size_t len = eol ? (size_t)(eol - p + 1) : strlen(p);

		if (strncasecmp(p, "Date:", 5) != 0)
			buf_append(&b, p, len);
		p += len;
	}
	return buf_steal(&b);
}

/* How many times line appears among the headers. */
static int header_count(const struct reply *r, const char *line)
{
	int n = 0;

	for (const char *p = r->headers.data; p && (p = strstr(p, line));
	     p += strlen(line))
		n++;
	return n;
}

/* Every reply-link page's headers. */
static void assert_page_headers(const struct reply *r)
{
	assert_true(has_header(r, CSP "\r\n"));
	assert_true(has_header(r, "X-Content-Type-Options: nosniff\r\n"));
	assert_true(has_header(r, "Referrer-Policy: no-referrer\r\n"));
	assert_true(has_header(r, "Cache-Control: no-store\r\n"));
	assert_true(
		has_header(r, "Content-Type: text/html; charset=utf-8\r\n"));
}

static void test_get_shows_the_page_and_never_confirms(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	do_request(f, &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	assert_page_headers(&r);
	assert_non_null(strstr(body(&r), "水道事業者向け注意喚起"));
	assert_non_null(strstr(body(&r), "【訓練】これは訓練です"));
	assert_non_null(strstr(body(&r), "<b>TLP:AMBER</b>"));
	assert_non_null(strstr(body(&r), "架空水道局"));
	assert_non_null(
		strstr(body(&r), "action=\"" FAKE_ACK_TOKEN "#answer\""));
	assert_null(strstr(body(&r), " checked>"));
	assert_null(strcasestr(body(&r), "<script"));
	/* An opening is recorded, with the peer and its user agent. */
	assert_int_equal(f->engine.n_ack_open, 1);
	assert_int_equal(f->engine.n_ack_confirm, 0);
	assert_string_equal(f->engine.last_ack_source, "127.0.0.1");
	assert_string_equal(f->engine.last_ack_ua, "test-ack-http/1");
	reply_free(&r);

	/* Opening it again (a scanner, then the person) never confirms. */
	do_request(f, &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	assert_int_equal(f->engine.n_ack_open, 2);
	assert_int_equal(f->engine.n_ack_confirm, 0);

	/* HEAD: the headers of a GET, no body, and no opening. */
	do_request(f, &(struct request){.method = "HEAD"}, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_page_headers(&r);
	reply_free(&r);
	assert_int_equal(f->engine.n_ack_open, 2);
	assert_int_equal(f->engine.n_ack_view, 3);
}

static void test_unknown_and_malformed_tokens_look_alike(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"/ack/" DUMMY_TOKEN, /* well-formed, unknown */
		"/ack/abc$def",	     /* a character outside the set */
		"/ack/",	     /* empty */
		"/ack/a/b",	     /* a slash */
		"/ack/%00abc",	     /* a NUL */
		"/ack/abc%0A",	     /* a newline */
		"/ack/%E3%81%82",    /* not ASCII */
		"/ack/a.b",	     /* a dot */
		"/ack/" FAKE_ACK_TOKEN "x" FAKE_ACK_TOKEN "x" FAKE_ACK_TOKEN,
	};
	struct reply first, r;
	char *h0, *h;
	int views;

	do_request(f, &(struct request){.path = "/ack/nosuchtoken123"}, &first);
	assert_int_equal(first.status, 404);
	assert_page_headers(&first);
	assert_non_null(strstr(body(&first), "このリンクは無効です"));
	assert_string_equal(f->engine.last_view_token, "nosuchtoken123");
	h0 = headers_sans_date(&first);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		views = f->engine.n_ack_view;
		do_request(f, &(struct request){.path = bad[i]}, &r);
		assert_int_equal(r.status, 404);
		assert_int_equal(r.body.len, first.body.len);
		assert_memory_equal(r.body.data, first.body.data, r.body.len);
		h = headers_sans_date(&r);
		assert_string_equal(h, h0);
		free(h);
		/* The same engine work: one lookup, of the dummy if need be. */
		assert_int_equal(f->engine.n_ack_view, views + 1);
		if (i > 0)
			assert_string_equal(f->engine.last_view_token,
					    DUMMY_TOKEN);
		reply_free(&r);
	}
	/* A POST to a wrong link: the same page, and nothing recorded. */
	do_request(f,
		   &(struct request){.path = "/ack/nosuchtoken123",
				     .body = "response=received"},
		   &r);
	assert_int_equal(r.status, 404);
	assert_memory_equal(r.body.data, first.body.data, first.body.len);
	reply_free(&r);
	do_request(f,
		   &(struct request){.path = "/ack/bad!",
				     .body = "response=received"},
		   &r);
	assert_int_equal(r.status, 404);
	assert_memory_equal(r.body.data, first.body.data, first.body.len);
	reply_free(&r);
	assert_int_equal(f->engine.n_ack_open, 0);
	assert_int_equal(f->engine.n_ack_confirm, 0);
	/* A percent-encoded good token is the good token. */
	do_request(
		f,
		&(struct request){.path = "/ack/%6b7q2m4x9t3v6b8n5c2z7w4r6ya"},
		&r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	free(h0);
	reply_free(&first);
}

static void test_post_replies_once_durable(void **state)
{
	struct fixture *f = *state;
	struct call k;
	struct reply r;

	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	start(f,
	      &(struct request){.body = "response=affected&name=%E4%BD%90"
					"%E8%97%A4+%E8%8A%B1%E5%AD%90"
					"&comment=%E7%A2%BA%E8%AA%8D%E4%B8%AD"
					"%0D%0A2%E8%A1%8C%E7%9B%AE"},
	      &k);
	/* The engine has the answer; the disk does not yet: no reply. */
	assert_false(pump(f, &k, 100));
	assert_int_equal(f->engine.n_ack_confirm, 1);
	assert_non_null(f->engine.ack_done);
	assert_string_equal(f->engine.last_response, "affected");
	assert_string_equal(f->engine.last_name, "佐藤 花子");
	/* The textarea's CRLF arrives as one newline. */
	assert_string_equal(f->engine.last_comment, "確認中\n2行目");
	assert_int_equal(f->engine.n_ack_open, 0);
	assert_false(pump(f, &k, 50));
	/* The group commit is done: now the reply. */
	fake_ack_complete(&f->engine, 0);
	finish(f, &k, &r);
	assert_int_equal(r.status, 200);
	assert_page_headers(&r);
	/* Each header once, on the deferred reply as on any other. */
	assert_int_equal(header_count(&r, CSP "\r\n"), 1);
	assert_int_equal(header_count(&r, "Referrer-Policy:"), 1);
	assert_int_equal(header_count(&r, "X-Frame-Options:"), 1);
	assert_int_equal(header_count(&r, "Cache-Control:"), 1);
	assert_non_null(strstr(body(&r), "受信確認を記録しました"));
	assert_non_null(strstr(body(&r), "Your confirmation is recorded"));
	assert_non_null(strstr(body(&r), "影響あり"));
	assert_non_null(strstr(body(&r), "佐藤 花子"));
	assert_non_null(strstr(body(&r), "確認中\n2行目"));
	reply_free(&r);

	/* The page now shows the confirmation, and still asks nothing. */
	do_request(f, &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "確認済みです"));
	assert_non_null(strstr(body(&r), "2026-11-22 10:01:00 JST"));
	assert_null(strstr(body(&r), " checked>"));
	reply_free(&r);

	/* Again, with another answer and no name: an update. */
	start(f, &(struct request){.body = "response=not-affected&name="}, &k);
	assert_false(pump(f, &k, 50));
	assert_string_equal(f->engine.last_name, "(null)");
	assert_string_equal(f->engine.last_comment, "(null)");
	fake_ack_complete(&f->engine, 0);
	finish(f, &k, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "影響なし"));
	/* The first confirmation's time is kept and shown. */
	assert_non_null(strstr(body(&r), "最初の確認"));
	reply_free(&r);
	assert_int_equal(f->engine.n_ack_confirm, 2);
}

/* POSTs body and expects 400 with the form again and no confirmation. */
static void expect_400(struct fixture *f, const char *form, const char *why)
{
	int before = f->engine.n_ack_confirm;
	struct reply r;

	do_request(f, &(struct request){.body = form}, &r);
	if (r.status != 400)
		fail_msg("%s: %ld for \"%s\"", why, r.status, form);
	assert_page_headers(&r);
	assert_non_null(strstr(body(&r), "<p class=\"msg err\""));
	assert_non_null(
		strstr(body(&r), "<form id=\"answer\" method=\"post\""));
	assert_int_equal(f->engine.n_ack_confirm, before);
	reply_free(&r);
}

static void test_post_refused_with_the_form(void **state)
{
	struct fixture *f = *state;
	char form[12000];
	struct reply r;
	int n;

	/* No answer, or one that is not among the four. */
	do_request(f, &(struct request){.body = "name=x&comment=y"}, &r);
	assert_int_equal(r.status, 400);
	assert_non_null(strstr(body(&r), "状況を4つの中から1つ選んでください"));
	assert_non_null(strstr(body(&r), "Choose one of the four answers"));
	/* What was typed is kept. */
	assert_non_null(strstr(body(&r), "value=\"x\""));
	assert_non_null(strstr(body(&r), ">\ny</textarea>"));
	reply_free(&r);
	expect_400(f, "response=maybe", "unknown answer");
	expect_400(f, "response=", "empty answer");
	expect_400(f, "response=Received", "answers are case-sensitive");
	expect_400(f, "response=received%00", "a NUL in the answer");
	expect_400(f, "", "empty body");
	expect_400(f, "response=received&response=affected", "two answers");
	expect_400(f, "response=received&comment=%ZZ", "bad encoding");
	expect_400(f, "response=received&comment=%E3%81", "bad UTF-8");
	expect_400(f, "response=received&comment=a%01b", "a control char");
	expect_400(f, "response=received&comment=a%1Bb", "an escape");
	expect_400(f, "response=received&comment=a%C2%85b", "a C1 control");
	expect_400(f, "response=received&name=a%0Ab", "a newline in a name");
	expect_400(f, "response=received&name=a%09b", "a tab in a name");
	/* 101 characters of name, 2001 of comment: one too many each. */
	n = snprintf(form, sizeof(form), "response=received&name=");
	for (int i = 0; i < 101; i++)
		n += snprintf(form + n, sizeof(form) - (size_t)n,
			      "%%E5%%90%%8D");
	expect_400(f, form, "a name of 101 characters");
	n = snprintf(form, sizeof(form), "response=received&comment=");
	for (int i = 0; i < 2001; i++)
		form[n++] = 'c';
	form[n] = '\0';
	expect_400(f, form, "a comment of 2001 characters");

	/* Exactly at the limits, with tabs and newlines: accepted. */
	n = snprintf(form, sizeof(form), "response=received&name=");
	for (int i = 0; i < 100; i++)
		n += snprintf(form + n, sizeof(form) - (size_t)n,
			      "%%E5%%90%%8D");
	n += snprintf(form + n, sizeof(form) - (size_t)n,
		      "&comment=a%%09b%%0A");
	for (int i = 0; i < 1996; i++)
		form[n++] = 'c';
	form[n] = '\0';
	{
		struct call k;

		start(f, &(struct request){.body = form}, &k);
		assert_false(pump(f, &k, 50));
		assert_int_equal(f->engine.n_ack_confirm, 1);
		fake_ack_complete(&f->engine, 0);
		finish(f, &k, &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
	assert_int_equal(strlen(f->engine.last_comment), 2000);
	/* The ideographic space of a Japanese keyboard is trimmed too. */
	{
		struct call k;

		start(f,
		      &(struct request){.body = "response=received&name=+"
						"%E3%80%80%E7%94%B0%E4%B8%AD"
						"%E3%80%80&unknown=1"},
		      &k);
		assert_false(pump(f, &k, 50));
		assert_string_equal(f->engine.last_name, "田中");
		fake_ack_complete(&f->engine, 0);
		finish(f, &k, &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
}

static void test_post_415_and_413(void **state)
{
	struct fixture *f = *state;
	size_t n = ACK_MAX_BODY + 1;
	char *big = malloc(n + 1);
	struct reply r;

	do_request(f,
		   &(struct request){.body = "{\"response\":\"received\"}",
				     .content_type = "application/json"},
		   &r);
	assert_int_equal(r.status, 415);
	assert_page_headers(&r);
	assert_non_null(strstr(body(&r), "送信形式が正しくありません"));
	reply_free(&r);
	do_request(f,
		   &(struct request){.body = "response=received",
				     .content_type = ""},
		   &r);
	assert_int_equal(r.status, 415);
	reply_free(&r);
	do_request(f,
		   &(struct request){.body = "response=received",
				     .content_type = "application/"
						     "x-www-form-urlencoded; "
						     "charset=Shift_JIS"},
		   &r);
	assert_int_equal(r.status, 415);
	reply_free(&r);
	do_request(f,
		   &(struct request){.body = "response=received",
				     .content_type = "multipart/form-data; "
						     "boundary=x"},
		   &r);
	assert_int_equal(r.status, 415);
	reply_free(&r);
	assert_int_equal(f->engine.n_ack_confirm, 0);

	assert_non_null(big);
	memcpy(big, "response=received&comment=", 26);
	memset(big + 26, 'x', n - 26);
	big[n] = '\0';
	do_request(f, &(struct request){.body = big, .body_len = n}, &r);
	assert_int_equal(r.status, 413);
	assert_page_headers(&r);
	assert_non_null(strstr(body(&r), "送信内容が大きすぎます"));
	reply_free(&r);
	free(big);
	assert_int_equal(f->engine.n_ack_confirm, 0);

	/* A charset of UTF-8 (any case) is the form type still. */
	{
		struct call k;

		start(f,
		      &(struct request){.body = "response=received",
					.content_type =
						"Application/X-WWW-Form-"
						"Urlencoded;charset="
						"\"UTF-8\""},
		      &k);
		assert_false(pump(f, &k, 50));
		assert_int_equal(f->engine.n_ack_confirm, 1);
		fake_ack_complete(&f->engine, 0);
		finish(f, &k, &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
}

/*
 * The longest answer the form lets a person type: a 2,000-character
 * Japanese comment (18 KB once encoded) and a 100-character name, with
 * the comment's lines sent as the textarea does, CRLF. It is recorded,
 * not refused with 413.
 */
static void test_post_longest_japanese_answer(void **state)
{
	struct fixture *f = *state;
	struct buf form = {0};
	struct call k;
	struct reply r;

	buf_append(&form, "response=affected&name=", 23);
	for (int i = 0; i < ACK_NAME_MAX; i++)
		buf_append(&form, "%E4%BD%90", 9); /* 佐 */
	buf_append(&form, "&comment=", 9);
	for (int i = 0; i < ACK_COMMENT_MAX; i++)
		if (i % 100 == 99)
			buf_append(&form, "%0D%0A", 6);
		else
			buf_append(&form, "%E7%A2%BA", 9); /* 確 */
	assert_true(form.len > 18000);
	assert_true(form.len <= ACK_MAX_BODY);
	start(f, &(struct request){.body = form.data, .body_len = form.len},
	      &k);
	assert_false(pump(f, &k, 200));
	assert_int_equal(f->engine.n_ack_confirm, 1);
	assert_int_equal(strlen(f->engine.last_comment), 1980 * 3 + 19);
	fake_ack_complete(&f->engine, 0);
	finish(f, &k, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	buf_free(&form);
}

static void test_rate_limit(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	int views;

	f->engine.ack_rate = 1; /* 1 a second, burst 2 */
	/* Unknown tokens spend the address's budget for junk... */
	for (int i = 0; i < 2; i++) {
		do_request(f, &(struct request){.path = "/ack/guess"}, &r);
		assert_int_equal(r.status, 404);
		reply_free(&r);
	}
	do_request(f, &(struct request){.path = "/ack/guess2"}, &r);
	assert_int_equal(r.status, 429);
	assert_page_headers(&r);
	assert_true(has_header(&r, "Retry-After: 1\r\n"));
	assert_non_null(strstr(body(&r), "アクセスが集中しています"));
	reply_free(&r);
	/* ...and never the budget of a real link from the same address. */
	for (int i = 0; i < 2; i++) {
		do_request(f, &(struct request){0}, &r);
		assert_int_equal(r.status, 200);
		reply_free(&r);
	}
	/* A link's own budget, spent by its own requests alone. */
	views = f->engine.n_ack_view;
	do_request(f, &(struct request){0}, &r);
	assert_int_equal(r.status, 429);
	assert_true(has_header(&r, "Retry-After: 1\r\n"));
	reply_free(&r);
	do_request(f, &(struct request){.body = "response=received"}, &r);
	assert_int_equal(r.status, 429);
	reply_free(&r);
	/* Limited before the lookup: no opening recorded, no answer. */
	assert_int_equal(f->engine.n_ack_view, views);
	assert_int_equal(f->engine.n_ack_confirm, 0);
	/* The operator API is not behind this limit. */
	do_request(f, &(struct request){.path = "/healthz"}, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	/* 0 lifts the limit. */
	f->engine.ack_rate = 0;
	do_request(f, &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	reply_free(&r);
	do_request(f, &(struct request){.path = "/ack/guess3"}, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
}

static void test_engine_failures(void **state)
{
	struct fixture *f = *state;
	struct call k;
	struct reply r;

	/*
	 * The disk said no: 503 with Retry-After at once (the answer stays
	 * queued in the writer), with the form and the answer kept.
	 */
	start(f, &(struct request){.body = "response=investigating&name=N"},
	      &k);
	assert_false(pump(f, &k, 50));
	fake_ack_complete(&f->engine, -EIO);
	finish(f, &k, &r);
	assert_int_equal(r.status, 503);
	assert_non_null(strcasestr(r.headers.data, "Retry-After: 30\r\n"));
	assert_page_headers(&r);
	assert_non_null(strstr(body(&r), "回答を記録できませんでした"));
	assert_non_null(strstr(body(&r), "value=\"investigating\" required "
					 "checked>"));
	assert_non_null(strstr(body(&r), "value=\"N\""));
	reply_free(&r);

	/* The engine refused at once. */
	f->engine.ack_confirm_result = -EIO;
	do_request(f, &(struct request){.body = "response=received"}, &r);
	assert_int_equal(r.status, 500);
	assert_page_headers(&r);
	reply_free(&r);
	f->engine.ack_confirm_result = 0;
}

static void test_client_gone_while_waiting(void **state)
{
	struct fixture *f = *state;
	struct call k;
	struct reply r;

	start(f, &(struct request){.body = "response=received"}, &k);
	assert_false(pump(f, &k, 50));
	assert_non_null(f->engine.ack_done);
	/* The person closes the tab before the disk is done. */
	hang_up(&k);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	/* The reply goes nowhere, and nothing breaks. */
	fake_ack_complete(&f->engine, 0);
	for (int i = 0; i < 20; i++)
		event_base_loop(f->base, EVLOOP_NONBLOCK);
	do_request(f, &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(body(&r), "確認済みです"));
	reply_free(&r);
}

static void test_server_freed_while_waiting(void **state)
{
	struct fixture *f = *state;
	struct call k;

	start(f, &(struct request){.body = "response=received"}, &k);
	assert_false(pump(f, &k, 50));
	assert_non_null(f->engine.ack_done);
	/* Shutdown: the listener goes first, the engine's commit after. */
	http_server_free(f->server);
	f->server = NULL;
	fake_ack_complete(&f->engine, 0);
	/* The client sees the connection close, with no reply. */
	while (!pump(f, &k, 1000))
		;
	curl_easy_getinfo(k.c, CURLINFO_RESPONSE_CODE, &k.out.status);
	assert_int_equal(k.out.status, 0);
	hang_up(&k);
}

static void test_escaping_end_to_end(void **state)
{
	struct fixture *f = *state;
	struct call k;
	struct reply r;

	f->engine.ack.title = "<script>alert(1)</script>";
	f->engine.ack.body = "<img src=x onerror=alert(2)>";
	f->engine.ack.org_name = "A&B \"組合\"";
	do_request(f, &(struct request){0}, &r);
	assert_int_equal(r.status, 200);
	assert_null(strcasestr(body(&r), "<script"));
	assert_null(strstr(body(&r), "<img"));
	assert_non_null(strstr(body(&r), "<h1>&lt;script&gt;alert(1)&lt;/"
					 "script&gt;</h1>"));
	assert_non_null(strstr(body(&r), "A&amp;B &quot;組合&quot;"));
	reply_free(&r);

	/* A comment with markup comes back as text on every page. */
	start(f,
	      &(struct request){.body = "response=received&comment=%3Cscript"
					"%3Ealert(3)%3C%2Fscript%3E&name=%27"
					"%3E%3Cb%3E"},
	      &k);
	assert_false(pump(f, &k, 50));
	assert_string_equal(f->engine.last_comment,
			    "<script>alert(3)</script>");
	fake_ack_complete(&f->engine, 0);
	finish(f, &k, &r);
	assert_int_equal(r.status, 200);
	assert_null(strcasestr(body(&r), "<script"));
	assert_null(strstr(body(&r), "'><b>"));
	assert_non_null(strstr(body(&r), "&lt;script&gt;alert(3)"));
	assert_non_null(strstr(body(&r), "&#39;&gt;&lt;b&gt;"));
	reply_free(&r);
	do_request(f, &(struct request){0}, &r);
	assert_null(strcasestr(body(&r), "<script"));
	assert_non_null(strstr(body(&r), "&lt;script&gt;alert(3)"));
	reply_free(&r);
}

static void test_other_methods(void **state)
{
	struct fixture *f = *state;
	struct reply r;

	do_request(f, &(struct request){.method = "PUT"}, &r);
	assert_int_equal(r.status, 405);
	assert_true(has_header(&r, "Allow: GET, HEAD, POST"));
	reply_free(&r);
	/* "/ack" without a token is no reply link at all. */
	do_request(f, &(struct request){.path = "/ack"}, &r);
	assert_int_equal(r.status, 404);
	reply_free(&r);
	assert_int_equal(f->engine.n_ack_view, 0);
}

static void test_timeline_route(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	json_t *j;

	do_request(f, &(struct request){.path = "/api/v1/alerts/A-1/timeline"},
		   &r);
	assert_int_equal(r.status, 401);
	reply_free(&r);
	assert_int_equal(f->engine.n_timeline, 0);
	do_request(f,
		   &(struct request){.path = "/api/v1/alerts/A-1/timeline",
				     .token = FAKE_TOKEN},
		   &r);
	assert_int_equal(r.status, 200);
	j = json_loadb(r.body.data, r.body.len, 0, NULL);
	assert_true(json_is_array(j));
	assert_string_equal(json_string_value(json_object_get(
				    json_array_get(j, 0), "kind")),
			    "accepted");
	json_decref(j);
	reply_free(&r);
	do_request(f,
		   &(struct request){.path = "/api/v1/alerts/nope/timeline",
				     .token = FAKE_TOKEN},
		   &r);
	assert_int_equal(r.status, 404);
	assert_non_null(strstr(body(&r), "no alert nope"));
	reply_free(&r);
	assert_true(f->engine.n_flush >= 2);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_get_shows_the_page_and_never_confirms),
		T(test_unknown_and_malformed_tokens_look_alike),
		T(test_post_replies_once_durable),
		T(test_post_refused_with_the_form),
		T(test_post_415_and_413),
		T(test_post_longest_japanese_answer),
		T(test_rate_limit),
		T(test_engine_failures),
		T(test_client_gone_while_waiting),
		T(test_server_freed_while_waiting),
		T(test_escaping_end_to_end),
		T(test_other_methods),
		T(test_timeline_route),
	};
	int r;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	r = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return r;
}
