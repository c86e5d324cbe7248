/*
 * The shared HTTP client: see http_client.h. libcurl's multi interface on
 * libevent, following curl's hiperfifo pattern:
 *
 * - libcurl tells us which sockets to watch (on_curl_socket) and when to
 *   wake it (on_curl_timer); we keep one persistent event per socket,
 *   found again through curl_multi_assign(), and one timer per client.
 * - When a socket or the timer fires we hand it to
 *   curl_multi_socket_action() and then collect finished transfers from
 *   curl_multi_info_read() (drain_finished), calling each completion.
 * - Cancelled requests leave the multi at once and complete from a
 *   separate event (on_deliver), so a completion never runs inside a
 *   call the owner made.
 *
 * Requests wait for a connection in our own queue per host, not in
 * libcurl's: libcurl 7.88 keeps transfers over CURLMOPT_MAX_HOST_CONNECTIONS
 * on a list that every curl_multi_remove_handle() walks, which made each
 * request cost O(requests waiting) (measured: 28 us a request with 32
 * waiting, 178 us with 10,000). So the multi only ever holds as many
 * transfers per host as it may run, and the rest wait on a FIFO here.
 *
 * Requests are pooled with their easy handle and buffers: a steady stream
 * of requests allocates nothing here beyond what libcurl does itself.
 * Connections live in the multi's cache and are reused across requests.
 * Requests sit on intrusive lists (running, a host's queue, deferred,
 * idle) and hosts in a hash table, so nothing is ever a walk over every
 * request in flight.
 *
 * The file is divided into: the libcurl/libevent glue, hosts, requests
 * (set-up, start, completion), the client and its registry per event
 * base, and the public entry points.
 */
#include <arpa/inet.h>
#include <assert.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <netinet/in.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <curl/curl.h>
#include <event2/event.h>

#include "channels/http_client.h"
#include "common/buf.h"
#include "common/log.h"

/* Idle requests kept for reuse; more are freed when they finish. */
#define HTTP_POOL_MAX 1024
/* Pooled buffers larger than this are given back rather than kept. */
#define HTTP_POOL_BUF_MAX (64 * 1024)
/* Idle connections the multi keeps at least (across all hosts). */
#define HTTP_MIN_CACHED_CONNECTIONS 256
/* Buckets of the host table to begin with (a power of two). */
#define HTTP_HOST_BUCKETS 64
/* Bytes of "scheme://authority" that tell hosts apart. */
#define HTTP_HOST_KEY_MAX 256

enum req_state {
	REQ_IDLE,     /* in the pool */
	REQ_QUEUED,   /* on its host's queue, waiting for a connection */
	REQ_RUNNING,  /* attached to the multi */
	REQ_DEFERRED, /* ended early (cancelled, timed out waiting), waiting
			 for on_deliver */
	REQ_DONE,     /* its completion is running */
};

struct http_request;
TAILQ_HEAD(request_list, http_request);

/* Requests of one "scheme://authority": running ones and waiting ones. */
struct http_host {
	struct http_host *hnext; /* hash chain */
	size_t hash;
	size_t active;		   /* requests of this host in the multi */
	struct request_list queue; /* waiting for active to drop */
	char key[];		   /* "scheme://authority", lower case */
};

struct http_request {
	struct http_client *client;
	CURL *easy; /* kept across reuses: reset, not freed */
	enum req_state state;
	http_done_fn done;
	void *arg;
	TAILQ_ENTRY(http_request) entry; /* running, queued, deferred, idle */
	struct http_host *host;		 /* while queued or running */
	long timeout_ms;	  /* the whole request, waiting included */
	uint64_t deadline;	  /* monotonic ms when the timeout is up */
	enum http_error deferred; /* why a deferred request ended */
	struct buf body;	  /* copy of the request body */
	struct buf hdrtext;	  /* header lines, each NUL-terminated */
	/*
	 * libcurl reads a header list through the public struct curl_slist;
	 * building its nodes here rather than with curl_slist_append()
	 * saves a strdup() and a node allocation per header per request.
	 * One more node for the "Expect:" line.
	 */
	struct curl_slist hdrs[HTTP_CLIENT_MAX_HEADERS + 1];
	struct buf resp; /* the first resp_max bytes of the body */
	size_t resp_max;
	bool resp_truncated;
	char reason[64];      /* reason phrase of the last status line */
	char retry_after[64]; /* raw Retry-After value, "" when none */
	char errbuf[CURL_ERROR_SIZE];
	enum http_addr_policy addr_policy;
	char refused[160]; /* why the policy refused an address, or "" */
};

struct http_sock {
	struct event *ev;
	int what; /* CURL_POLL_* the event is armed for */
	TAILQ_ENTRY(http_sock) entry;
};

TAILQ_HEAD(sock_list, http_sock);

struct http_client {
	struct event_base *base;
	CURLM *multi;
	struct event *timer;   /* libcurl's single timeout */
	struct event *deliver; /* completions of deferred requests */
	unsigned refs;	       /* http_client_get() references */
	unsigned busy;	       /* completions running: destroy waits */
	bool dead;	       /* no references left: destroy when idle */
	long max_host;	       /* CURLMOPT_MAX_HOST_CONNECTIONS in force */
	size_t in_flight;      /* submitted, completion not yet called */
	struct request_list running;
	struct request_list deferred;
	struct request_list idle;
	size_t n_idle;
	struct http_host **hosts; /* by hash of key; power of two */
	size_t nbuckets;
	size_t nhosts;
	struct sock_list socks;	  /* every socket event, to free at the end */
	struct http_client *next; /* in the registry */
};

/*
 * Clients by event base. Drivers start on the loop's thread, but the
 * registry is global, so it takes a lock; the hot path never does.
 */
static pthread_mutex_t clients_lock = PTHREAD_MUTEX_INITIALIZER;
static struct http_client *clients;

static void drain_finished(struct http_client *c);

/* --- libcurl and libevent glue ------------------------------------- */

static void on_sock_event(evutil_socket_t fd, short events, void *arg)
{
	struct http_client *c = arg;
	int flags = 0, running;

	if (events & EV_READ)
		flags |= CURL_CSELECT_IN;
	if (events & EV_WRITE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(c->multi, fd, flags, &running);
	drain_finished(c);
}

static void on_timer_event(evutil_socket_t fd, short events, void *arg)
{
	struct http_client *c = arg;
	int running;

	(void)fd;
	(void)events;
	curl_multi_socket_action(c->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain_finished(c);
}

static void sock_free(struct http_client *c, struct http_sock *s)
{
	event_free(s->ev);
	TAILQ_REMOVE(&c->socks, s, entry);
	free(s);
}

/*
 * CURLMOPT_SOCKETFUNCTION: libcurl says what to watch on a socket. One
 * persistent event per socket, re-armed only when the interest changes.
 */
static int on_curl_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
			  void *socketp)
{
	struct http_client *c = userp;
	struct http_sock *s = socketp;
	short kind = EV_PERSIST;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		/* libcurl forgets the socket's assignment itself. */
		if (s != NULL)
			sock_free(c, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		kind |= EV_READ;
	if (what & CURL_POLL_OUT)
		kind |= EV_WRITE;
	if (s == NULL) {
		s = calloc(1, sizeof(*s));
		if (s == NULL)
			return -1;
		s->ev = event_new(c->base, fd, kind, on_sock_event, c);
		if (s->ev == NULL) {
			free(s);
			return -1;
		}
		TAILQ_INSERT_TAIL(&c->socks, s, entry);
		curl_multi_assign(c->multi, fd, s);
	} else if (s->what == what) {
		return 0;
	} else {
		/* event_assign() wants an event that is not pending. */
		event_del(s->ev);
		event_assign(s->ev, c->base, fd, kind, on_sock_event, c);
	}
	s->what = what;
	if (event_add(s->ev, NULL) < 0)
		return -1;
	return 0;
}

/*
 * CURLMOPT_TIMERFUNCTION: -1 deletes the timer, any other value (0
 * included) re-arms it. libcurl must not be called from here; the timer
 * event does that.
 */
static int on_curl_timer(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *c = userp;
	struct timeval tv;

	(void)multi;
	if (timeout_ms < 0) {
		evtimer_del(c->timer);
		return 0;
	}
	tv.tv_sec = timeout_ms / 1000;
	tv.tv_usec = (timeout_ms % 1000) * 1000;
	return evtimer_add(c->timer, &tv) < 0 ? -1 : 0;
}

/* --- hosts --------------------------------------------------------- */

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/*
 * Writes "scheme://host:port" of url in lower case into key (at most
 * HTTP_HOST_KEY_MAX bytes with the NUL) and returns its FNV-1a hash. User
 * information before '@' is left out: the key appears in error texts. A
 * URL without "://" is its own key: libcurl will refuse it anyway.
 */
/* Appends [from, to) in lower case to key, within HTTP_HOST_KEY_MAX. */
static void key_append(char *key, size_t *n, const char *from, const char *to)
{
	for (; from < to && *n + 1 < HTTP_HOST_KEY_MAX; from++)
		key[(*n)++] = (char)tolower((unsigned char)*from);
	key[*n] = '\0';
}

static size_t host_key(const char *url, char key[HTTP_HOST_KEY_MAX])
{
	const char *sep = strstr(url, "://"), *host, *end, *at;
	size_t h = 14695981039346656037ULL, n = 0;

	if (sep == NULL) {
		key_append(key, &n, url, url + strlen(url));
	} else {
		host = sep + 3;
		end = host + strcspn(host, "/?#");
		at = memrchr(host, '@', (size_t)(end - host));
		key_append(key, &n, url, host);
		key_append(key, &n, at ? at + 1 : host, end);
	}
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)key[i]) * 1099511628211ULL;
	return h;
}

static int hosts_grow(struct http_client *c)
{
	size_t n = c->nbuckets ? c->nbuckets * 2 : HTTP_HOST_BUCKETS;
	struct http_host **b = calloc(n, sizeof(*b)), *h, *next;

	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < c->nbuckets; i++) {
		for (h = c->hosts[i]; h != NULL; h = next) {
			next = h->hnext;
			h->hnext = b[h->hash & (n - 1)];
			b[h->hash & (n - 1)] = h;
		}
	}
	free(c->hosts);
	c->hosts = b;
	c->nbuckets = n;
	return 0;
}

/* The host of url, created when new; NULL when out of memory. */
static struct http_host *host_get(struct http_client *c, const char *url)
{
	char key[HTTP_HOST_KEY_MAX];
	size_t hash = host_key(url, key), len;
	struct http_host *h;

	for (h = c->hosts[hash & (c->nbuckets - 1)]; h; h = h->hnext)
		if (h->hash == hash && strcmp(h->key, key) == 0)
			return h;
	if (c->nhosts >= c->nbuckets && hosts_grow(c) < 0)
		return NULL;
	len = strlen(key);
	h = malloc(sizeof(*h) + len + 1);
	if (h == NULL)
		return NULL;
	h->hash = hash;
	h->active = 0;
	TAILQ_INIT(&h->queue);
	memcpy(h->key, key, len + 1);
	h->hnext = c->hosts[hash & (c->nbuckets - 1)];
	c->hosts[hash & (c->nbuckets - 1)] = h;
	c->nhosts++;
	return h;
}

/* Forgets a host with nothing running or waiting. */
static void host_drop_if_idle(struct http_client *c, struct http_host *h)
{
	struct http_host **pp = &c->hosts[h->hash & (c->nbuckets - 1)];

	if (h->active > 0 || !TAILQ_EMPTY(&h->queue))
		return;
	while (*pp != h)
		pp = &(*pp)->hnext;
	*pp = h->hnext;
	c->nhosts--;
	free(h);
}

/* --- requests ------------------------------------------------------ */

static void request_free(struct http_request *req)
{
	curl_easy_cleanup(req->easy);
	buf_free(&req->body);
	buf_free(&req->hdrtext);
	buf_free(&req->resp);
	free(req);
}

/* Gives a finished request back to the pool (or frees it). */
static void request_recycle(struct http_client *c, struct http_request *req)
{
	req->host = NULL;
	if (c->n_idle >= HTTP_POOL_MAX) {
		request_free(req);
		return;
	}
	/* Reset now rather than at reuse: it drops the caller's password. */
	curl_easy_reset(req->easy);
	if (req->body.cap > HTTP_POOL_BUF_MAX)
		buf_free(&req->body);
	if (req->resp.cap > HTTP_POOL_BUF_MAX)
		buf_free(&req->resp);
	req->state = REQ_IDLE;
	req->done = NULL;
	req->arg = NULL;
	TAILQ_INSERT_HEAD(&c->idle, req, entry);
	c->n_idle++;
}

static struct http_request *request_take(struct http_client *c)
{
	struct http_request *req = TAILQ_FIRST(&c->idle);

	if (req != NULL) {
		TAILQ_REMOVE(&c->idle, req, entry);
		c->n_idle--;
		return req;
	}
	req = calloc(1, sizeof(*req));
	if (req == NULL)
		return NULL;
	req->easy = curl_easy_init();
	if (req->easy == NULL) {
		free(req);
		return NULL;
	}
	req->client = c;
	return req;
}

/* Copies printable ASCII of s[0..len) into out, stopping at CR or LF. */
static void copy_printable(char *out, size_t outsz, const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len && s[i] != '\r' && s[i] != '\n'; i++) {
		if (n + 1 >= outsz)
			break;
		out[n++] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	}
	out[n] = '\0';
}

/*
 * CURLOPT_HEADERFUNCTION: keeps the reason phrase and Retry-After of the
 * final response. A new status line (after a 100 Continue, say) starts
 * over.
 */
static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_request *req = arg;
	size_t len = size * n, i;

	if (len >= 5 && memcmp(p, "HTTP/", 5) == 0) {
		/* "HTTP/1.1 503 Service Unavailable": skip version, code. */
		for (i = 5; i < len && p[i] != ' '; i++)
			;
		while (i < len && p[i] == ' ')
			i++;
		while (i < len && isdigit((unsigned char)p[i]))
			i++;
		while (i < len && p[i] == ' ')
			i++;
		copy_printable(req->reason, sizeof(req->reason), p + i,
			       len - i);
		req->retry_after[0] = '\0';
	} else if (len > 12 && strncasecmp(p, "retry-after:", 12) == 0) {
		for (i = 12; i < len && (p[i] == ' ' || p[i] == '\t'); i++)
			;
		copy_printable(req->retry_after, sizeof(req->retry_after),
			       p + i, len - i);
	}
	return len;
}

/* CURLOPT_WRITEFUNCTION: keeps the first bytes, reads past the rest. */
static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_request *req = arg;
	size_t len = size * n, room = req->resp_max - req->resp.len;

	if (req->resp.len < req->resp_max) {
		if (buf_append(&req->resp, p, len < room ? len : room) < 0)
			return CURL_WRITEFUNC_ERROR;
	}
	if (len > room)
		req->resp_truncated = true;
	return len;
}

/*
 * The standard phrase for a status, for responses without one of their
 * own (HTTP/2 has no reason phrase).
 */
static const char *standard_reason(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 201:
		return "Created";
	case 202:
		return "Accepted";
	case 204:
		return "No Content";
	case 400:
		return "Bad Request";
	case 401:
		return "Unauthorized";
	case 403:
		return "Forbidden";
	case 404:
		return "Not Found";
	case 408:
		return "Request Timeout";
	case 410:
		return "Gone";
	case 413:
		return "Content Too Large";
	case 429:
		return "Too Many Requests";
	case 500:
		return "Internal Server Error";
	case 502:
		return "Bad Gateway";
	case 503:
		return "Service Unavailable";
	case 504:
		return "Gateway Timeout";
	default:
		return "";
	}
}

static enum http_error classify_curl(CURLcode rc)
{
	switch (rc) {
	case CURLE_OK:
		return HTTP_ERR_NONE;
	case CURLE_OPERATION_TIMEDOUT:
		return HTTP_ERR_TIMEOUT;
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_RESOLVE_PROXY:
		return HTTP_ERR_RESOLVE;
	case CURLE_COULDNT_CONNECT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_HTTP2:
	case CURLE_HTTP2_STREAM:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		return HTTP_ERR_CONNECT;
	case CURLE_URL_MALFORMAT:
	case CURLE_UNSUPPORTED_PROTOCOL:
		return HTTP_ERR_URL;
	default:
		return HTTP_ERR_OTHER;
	}
}

/*
 * Ends a request early: its completion comes from on_deliver with err and
 * the text in errbuf. The request is on no list when this is called.
 */
static void request_defer(struct http_client *c, struct http_request *req,
			  enum http_error err)
{
	req->state = REQ_DEFERRED;
	req->deferred = err;
	TAILQ_INSERT_TAIL(&c->deferred, req, entry);
	event_active(c->deliver, 0, 0);
}

/*
 * Hands a request to the multi with what is left of its timeout. Returns
 * 0, -ETIMEDOUT when the time ran out while it waited, or -ENOMEM; on
 * error the request is on no list.
 */
static int request_start(struct http_client *c, struct http_request *req)
{
	uint64_t now = now_ms();

	if (now >= req->deadline) {
		snprintf(req->errbuf, sizeof(req->errbuf),
			 "Timed out after %ld milliseconds waiting for a "
			 "connection to %s",
			 req->timeout_ms, req->host->key);
		return -ETIMEDOUT;
	}
	if (curl_easy_setopt(req->easy, CURLOPT_TIMEOUT_MS,
			     (long)(req->deadline - now)) != CURLE_OK ||
	    curl_multi_add_handle(c->multi, req->easy) != CURLM_OK) {
		snprintf(req->errbuf, sizeof(req->errbuf), "out of memory");
		return -ENOMEM;
	}
	/* libcurl only arms its timer here; the transfer starts on the loop. */
	req->state = REQ_RUNNING;
	TAILQ_INSERT_TAIL(&c->running, req, entry);
	req->host->active++;
	return 0;
}

/* Starts waiting requests of h while it has room. */
static void host_pump(struct http_client *c, struct http_host *h)
{
	struct http_request *req;
	int r;

	while ((c->max_host <= 0 || h->active < (size_t)c->max_host) &&
	       (req = TAILQ_FIRST(&h->queue)) != NULL) {
		TAILQ_REMOVE(&h->queue, req, entry);
		r = request_start(c, req);
		if (r < 0) {
			req->host = NULL;
			request_defer(c, req,
				      r == -ETIMEDOUT ? HTTP_ERR_TIMEOUT
						      : HTTP_ERR_OTHER);
		}
	}
}

/*
 * Takes a running request out of the multi: its host gets the room for
 * the next waiting request.
 */
static void request_detach(struct http_client *c, struct http_request *req)
{
	struct http_host *h = req->host;

	curl_multi_remove_handle(c->multi, req->easy);
	TAILQ_REMOVE(&c->running, req, entry);
	req->host = NULL;
	h->active--;
	host_pump(c, h);
	host_drop_if_idle(c, h);
}

/* Takes a waiting request off its host's queue. */
static void request_unqueue(struct http_client *c, struct http_request *req)
{
	struct http_host *h = req->host;

	TAILQ_REMOVE(&h->queue, req, entry);
	req->host = NULL;
	host_drop_if_idle(c, h);
}

/*
 * Calls the completion of a request that has left the multi and hands
 * the request back to the pool. The caller holds the client busy.
 */
static void request_complete(struct http_client *c, struct http_request *req,
			     CURLcode rc)
{
	struct http_response res = {.request = req, .retry_after = -1};
	long status = 0;

	c->in_flight--;
	req->state = REQ_DONE;
	res.error = classify_curl(rc);
	/* libcurl only saw a socket it could not open: say why. */
	if (rc != CURLE_OK && req->refused[0] != '\0') {
		res.error = HTTP_ERR_REFUSED;
		snprintf(req->errbuf, sizeof(req->errbuf), "%s", req->refused);
	}
	if (curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &status) ==
	    CURLE_OK)
		res.status = (int)status;
	res.reason = req->reason[0] ? req->reason : standard_reason(res.status);
	res.body = req->resp.data ? req->resp.data : "";
	res.body_len = req->resp.len;
	res.body_truncated = req->resp_truncated;
	if (res.status > 0 && req->retry_after[0] != '\0')
		res.retry_after =
			http_parse_retry_after(req->retry_after, time(NULL));
	if (rc != CURLE_OK)
		res.error_text =
			req->errbuf[0] ? req->errbuf : curl_easy_strerror(rc);
	else
		res.error_text = "";
	req->done(req->arg, &res);
	request_recycle(c, req);
}

static void client_destroy(struct http_client *c);

/* Completions may drop the last reference: destroy waits for them. */
static void client_enter(struct http_client *c)
{
	c->busy++;
}

static void client_leave(struct http_client *c)
{
	if (--c->busy == 0 && c->dead)
		client_destroy(c);
}

/* Collects every finished transfer and calls its completion. */
static void drain_finished(struct http_client *c)
{
	struct http_request *req;
	CURLMsg *m;
	CURLcode rc;
	int left;

	client_enter(c);
	while (!c->dead && (m = curl_multi_info_read(c->multi, &left))) {
		if (m->msg != CURLMSG_DONE)
			continue;
		/* m belongs to the handle: read it before removing it. */
		rc = m->data.result;
		req = NULL;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE,
				  (char **)&req);
		assert(req != NULL && req->state == REQ_RUNNING);
		request_detach(c, req);
		request_complete(c, req, rc);
	}
	client_leave(c);
}

/* The deliver event: completions of requests that ended early. */
static void on_deliver(evutil_socket_t fd, short events, void *arg)
{
	struct http_client *c = arg;
	struct http_response res = {
		.reason = "",
		.body = "",
		.retry_after = -1,
	};
	struct http_request *req;

	(void)fd;
	(void)events;
	client_enter(c);
	while (!c->dead && (req = TAILQ_FIRST(&c->deferred)) != NULL) {
		TAILQ_REMOVE(&c->deferred, req, entry);
		c->in_flight--;
		req->state = REQ_DONE;
		res.request = req;
		res.error = req->deferred;
		res.error_text = req->errbuf[0] ? req->errbuf : "cancelled";
		req->done(req->arg, &res);
		request_recycle(c, req);
	}
	client_leave(c);
}

/* --- the client ------------------------------------------------------ */

static void client_destroy(struct http_client *c)
{
	struct http_request *req;
	struct http_host *h;
	struct http_sock *s;
	size_t lost = 0;

	while ((req = TAILQ_FIRST(&c->running)) != NULL) {
		TAILQ_REMOVE(&c->running, req, entry);
		curl_multi_remove_handle(c->multi, req->easy);
		request_free(req);
		lost++;
	}
	for (size_t i = 0; i < c->nbuckets; i++) {
		while ((h = c->hosts[i]) != NULL) {
			c->hosts[i] = h->hnext;
			while ((req = TAILQ_FIRST(&h->queue)) != NULL) {
				TAILQ_REMOVE(&h->queue, req, entry);
				request_free(req);
				lost++;
			}
			free(h);
		}
	}
	free(c->hosts);
	while ((req = TAILQ_FIRST(&c->deferred)) != NULL) {
		TAILQ_REMOVE(&c->deferred, req, entry);
		request_free(req);
		lost++;
	}
	if (lost > 0)
		log_warnx("http client: %zu request(s) dropped at shutdown "
			  "without completion",
			  lost);
	while ((req = TAILQ_FIRST(&c->idle)) != NULL) {
		TAILQ_REMOVE(&c->idle, req, entry);
		request_free(req);
	}
	/* Closing the cache calls on_curl_socket: c must still be whole. */
	if (c->multi != NULL)
		curl_multi_cleanup(c->multi);
	while ((s = TAILQ_FIRST(&c->socks)) != NULL)
		sock_free(c, s);
	if (c->timer != NULL)
		event_free(c->timer);
	if (c->deliver != NULL)
		event_free(c->deliver);
	curl_global_cleanup();
	free(c);
}

static void client_set_max_host(struct http_client *c, long n)
{
	long cached = n * 4;

	if (n <= 0 || n <= c->max_host)
		return;
	c->max_host = n;
	curl_multi_setopt(c->multi, CURLMOPT_MAX_HOST_CONNECTIONS, n);
	/*
	 * The cache's default size follows the number of transfers in the
	 * multi, so a quiet moment would close idle connections; keep
	 * enough for several hosts at the limit.
	 */
	if (cached < HTTP_MIN_CACHED_CONNECTIONS)
		cached = HTTP_MIN_CACHED_CONNECTIONS;
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS, cached);
}

static struct http_client *client_new(struct event_base *base)
{
	struct http_client *c = calloc(1, sizeof(*c));

	if (c == NULL)
		return NULL;
	c->base = base;
	TAILQ_INIT(&c->running);
	TAILQ_INIT(&c->deferred);
	TAILQ_INIT(&c->idle);
	TAILQ_INIT(&c->socks);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		free(c);
		return NULL;
	}
	c->multi = curl_multi_init();
	c->timer = evtimer_new(base, on_timer_event, c);
	c->deliver = event_new(base, -1, 0, on_deliver, c);
	if (c->multi == NULL || c->timer == NULL || c->deliver == NULL ||
	    hosts_grow(c) < 0)
		goto fail;
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETFUNCTION, on_curl_socket);
	curl_multi_setopt(c->multi, CURLMOPT_SOCKETDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERFUNCTION, on_curl_timer);
	curl_multi_setopt(c->multi, CURLMOPT_TIMERDATA, c);
	curl_multi_setopt(c->multi, CURLMOPT_MAXCONNECTS,
			  (long)HTTP_MIN_CACHED_CONNECTIONS);
	return c;
fail:
	client_destroy(c);
	return NULL;
}

struct http_client *http_client_get(struct event_base *base,
				    long max_host_connections)
{
	struct http_client *c;

	assert(base != NULL);
	pthread_mutex_lock(&clients_lock);
	for (c = clients; c != NULL; c = c->next)
		if (c->base == base)
			break;
	if (c == NULL) {
		c = client_new(base);
		if (c == NULL)
			goto out;
		c->next = clients;
		clients = c;
	}
	c->refs++;
	client_set_max_host(c, max_host_connections);
out:
	pthread_mutex_unlock(&clients_lock);
	return c;
}

void http_client_put(struct http_client *c)
{
	struct http_client **pp;

	if (c == NULL)
		return;
	pthread_mutex_lock(&clients_lock);
	assert(c->refs > 0);
	if (--c->refs > 0) {
		pthread_mutex_unlock(&clients_lock);
		return;
	}
	for (pp = &clients; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	}
	pthread_mutex_unlock(&clients_lock);
	c->dead = true;
	if (c->busy == 0)
		client_destroy(c);
}

size_t http_client_in_flight(const struct http_client *c)
{
	return c->in_flight;
}

/* Copies the caller's header lines into req and links them for libcurl. */
static int request_set_headers(struct http_request *req,
			       const char *const *headers, bool no_expect)
{
	size_t n = 0, off = 0;

	req->hdrtext.len = 0;
	for (; headers != NULL && headers[n] != NULL; n++) {
		if (n == HTTP_CLIENT_MAX_HEADERS ||
		    strpbrk(headers[n], "\r\n") != NULL)
			return -EINVAL;
		if (buf_append(&req->hdrtext, headers[n],
			       strlen(headers[n]) + 1) < 0)
			return -ENOMEM;
	}
	/*
	 * libcurl 7.x asks for "100 Continue" before bodies over 1 KiB and
	 * waits up to a second for it: a web hook is small, send it whole.
	 */
	if (no_expect && buf_append(&req->hdrtext, "Expect:", 8) < 0)
		return -ENOMEM;
	if (no_expect)
		n++;
	/* The text is complete: only now are its addresses stable. */
	for (size_t i = 0; i < n; i++) {
		req->hdrs[i].data = req->hdrtext.data + off;
		req->hdrs[i].next = i + 1 < n ? &req->hdrs[i + 1] : NULL;
		off += strlen(req->hdrs[i].data) + 1;
	}
	return (int)n;
}

/*
 * CURLOPT_OPENSOCKETFUNCTION: the one place every connection of a request
 * is made, with the address the name resolved to. Refusing here (rather
 * than checking the name before) leaves no gap for DNS to answer one
 * address to a check and another to the connect.
 */
static curl_socket_t on_open_socket(void *arg, curlsocktype purpose,
				    struct curl_sockaddr *a)
{
	struct http_request *req = arg;
	char why[128];
	int fd;

	if (purpose == CURLSOCKTYPE_IPCXN &&
	    http_addr_check(&a->addr, req->addr_policy, why, sizeof(why)) < 0) {
		snprintf(req->refused, sizeof(req->refused), "%s", why);
		return CURL_SOCKET_BAD;
	}
	fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
	return fd < 0 ? CURL_SOCKET_BAD : fd;
}

static int url_host_obfuscated(const char *url, char *why, size_t whysz);

/* Sets the easy handle's options for spec; returns 0 or a negative errno. */
static int request_setup(struct http_request *req,
			 const struct http_request_spec *spec)
{
	CURL *e = req->easy;
	const char *method = spec->method;
	bool has_body = spec->body != NULL;
	int bad = 0, nh;

	if (method == NULL)
		method = has_body ? "POST" : "GET";
	nh = request_set_headers(req, spec->headers, has_body);
	if (nh < 0)
		return nh;
	req->body.len = 0;
	if (has_body && buf_append(&req->body, spec->body, spec->body_len) < 0)
		return -ENOMEM;
	req->resp.len = 0;
	if (req->resp.data != NULL)
		req->resp.data[0] = '\0';
	req->resp_max = spec->max_response ? spec->max_response
					   : HTTP_CLIENT_MAX_RESPONSE;
	req->resp_truncated = false;
	req->reason[0] = '\0';
	req->retry_after[0] = '\0';
	req->errbuf[0] = '\0';
	req->refused[0] = '\0';
	req->addr_policy = spec->addr_policy;

	bad |= curl_easy_setopt(e, CURLOPT_URL, spec->url) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETFUNCTION,
				on_open_socket) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_OPENSOCKETDATA, req) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https") !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)req) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L) != CURLE_OK;
	/* Idle kept-alive connections stay usable through middleboxes. */
	bad |= curl_easy_setopt(e, CURLOPT_TCP_KEEPALIVE, 1L) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_USERAGENT, "pocalert") != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_body) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_WRITEDATA, req) != CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header) !=
	       CURLE_OK;
	bad |= curl_easy_setopt(e, CURLOPT_HEADERDATA, req) != CURLE_OK;
	if (nh > 0)
		bad |= curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->hdrs) !=
		       CURLE_OK;
	if (has_body) {
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE,
					(curl_off_t)req->body.len) != CURLE_OK;
		/* buf keeps data non-NULL once appended to, even for 0 bytes. */
		bad |= curl_easy_setopt(e, CURLOPT_POSTFIELDS,
					req->body.data ? req->body.data : "") !=
		       CURLE_OK;
	}
	if (strcmp(method, "HEAD") == 0)
		bad |= curl_easy_setopt(e, CURLOPT_NOBODY, 1L) != CURLE_OK;
	else if (!(strcmp(method, "POST") == 0 && has_body) &&
		 !(strcmp(method, "GET") == 0 && !has_body))
		bad |= curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, method) !=
		       CURLE_OK;
	if (spec->username != NULL) {
		bad |= curl_easy_setopt(e, CURLOPT_HTTPAUTH,
					(long)CURLAUTH_BASIC) != CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_USERNAME, spec->username) !=
		       CURLE_OK;
		bad |= curl_easy_setopt(e, CURLOPT_PASSWORD,
					spec->password ? spec->password : "") !=
		       CURLE_OK;
	}
	return bad ? -ENOMEM : 0;
}

int http_client_submit(struct http_client *c,
		       const struct http_request_spec *spec, http_done_fn done,
		       void *arg, struct http_request **ret_req)
{
	struct http_request *req;
	struct http_host *h;
	int r;

	assert(c != NULL && spec != NULL && done != NULL);
	if (c->dead || spec->url == NULL || spec->url[0] == '\0' ||
	    spec->timeout_ms <= 0)
		return -EINVAL;
	req = request_take(c);
	if (req == NULL)
		return -ENOMEM;
	r = request_setup(req, spec);
	if (r < 0)
		goto fail;
	/*
	 * A host written to slip past checks ends here, reported as such.
	 * Every other address, literal or resolved, is judged as the
	 * socket opens (on_open_socket).
	 */
	if (url_host_obfuscated(spec->url, req->errbuf, sizeof(req->errbuf)) <
	    0) {
		req->done = done;
		req->arg = arg;
		c->in_flight++;
		request_defer(c, req, HTTP_ERR_REFUSED);
		if (ret_req != NULL)
			*ret_req = req;
		return 0;
	}
	r = -ENOMEM;
	h = host_get(c, spec->url);
	if (h == NULL)
		goto fail;
	req->host = h;
	req->timeout_ms = spec->timeout_ms;
	req->deadline = now_ms() + (uint64_t)spec->timeout_ms;
	if (c->max_host > 0 &&
	    (h->active >= (size_t)c->max_host || !TAILQ_EMPTY(&h->queue))) {
		/* Wait for a connection of this host, first come first served. */
		req->state = REQ_QUEUED;
		TAILQ_INSERT_TAIL(&h->queue, req, entry);
	} else if (request_start(c, req) < 0) {
		req->host = NULL;
		host_drop_if_idle(c, h);
		goto fail;
	}
	req->done = done;
	req->arg = arg;
	c->in_flight++;
	if (ret_req != NULL)
		*ret_req = req;
	return 0;
fail:
	request_recycle(c, req);
	return r;
}

void http_client_cancel(struct http_request *req)
{
	struct http_client *c = req->client;

	switch (req->state) {
	case REQ_RUNNING:
		request_detach(c, req);
		break;
	case REQ_QUEUED:
		request_unqueue(c, req);
		break;
	default:
		/* Already ending: the completion is on its way. */
		return;
	}
	snprintf(req->errbuf, sizeof(req->errbuf), "cancelled");
	request_defer(c, req, HTTP_ERR_CANCELLED);
}

void http_client_abort(struct http_request *req)
{
	struct http_client *c = req->client;

	switch (req->state) {
	case REQ_RUNNING:
		request_detach(c, req);
		break;
	case REQ_QUEUED:
		request_unqueue(c, req);
		break;
	case REQ_DEFERRED:
		TAILQ_REMOVE(&c->deferred, req, entry);
		break;
	default:
		/* Idle or completing: the handle is not the caller's. */
		assert(!"http_client_abort on a finished request");
		return;
	}
	c->in_flight--;
	request_recycle(c, req);
}

const char *http_response_header(const struct http_response *res,
				 const char *name)
{
	struct curl_header *h;

	if (res->request == NULL || res->status == 0)
		return NULL;
	if (curl_easy_header(res->request->easy, name, 0, CURLH_HEADER, -1,
			     &h) != CURLHE_OK)
		return NULL;
	/* Index 0 is the first; the last of a repeated header wins. */
	if (h->amount > 1 &&
	    curl_easy_header(res->request->easy, name, h->amount - 1,
			     CURLH_HEADER, -1, &h) != CURLHE_OK)
		return NULL;
	return h->value;
}

int http_parse_retry_after(const char *value, time_t now)
{
	const char *p = value;
	long long secs = 0;
	time_t when;

	if (p == NULL)
		return -1;
	while (*p == ' ' || *p == '\t')
		p++;
	if (isdigit((unsigned char)*p)) {
		for (; isdigit((unsigned char)*p); p++) {
			secs = secs * 10 + (*p - '0');
			if (secs > INT_MAX)
				return -1;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		return *p == '\0' ? (int)secs : -1;
	}
	/* Every HTTP-date form starts with a day name. */
	if (!isalpha((unsigned char)*p))
		return -1;
	when = curl_getdate(p, NULL);
	if (when == (time_t)-1)
		return -1;
	if (when <= now)
		return 0;
	if (when - now > INT_MAX)
		return INT_MAX;
	return (int)(when - now);
}

/* --- the address policy and secret hiding (pure) ---------------------- */

/* The refusal of IPv4 address a (host order), or NULL when allowed. */
static const char *addr4_refusal(uint32_t a, enum http_addr_policy policy)
{
	bool priv = policy == HTTP_ADDR_PRIVATE_OK;

	if ((a >> 24) == 0)
		return "an unspecified address (0.0.0.0/8)";
	if ((a >> 24) == 127)
		return NULL;
	if ((a >> 28) == 0xE)
		return "a multicast address";
	if ((a >> 28) == 0xF)
		return "a reserved or broadcast address";
	if (priv)
		return NULL;
	if ((a >> 24) == 10 || (a >> 20) == 0xAC1 || (a >> 16) == 0xC0A8)
		return "a private address";
	if ((a >> 16) == 0xA9FE)
		return "a link-local address";
	if ((a >> 22) == (100u << 2 | 1))
		return "a shared (carrier-grade NAT) address";
	return NULL;
}

int http_addr_check(const struct sockaddr *sa, enum http_addr_policy policy,
		    char *why, size_t whysz)
{
	char text[INET6_ADDRSTRLEN] = "?";
	const char *no = NULL;

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, text, sizeof(text));
		no = addr4_refusal(ntohl(in->sin_addr.s_addr), policy);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 =
			(const struct sockaddr_in6 *)sa;
		const uint8_t *b = in6->sin6_addr.s6_addr;
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
						   0, 0, 0, 0, 0xFF, 0xFF};
		static const uint8_t nat64[12] = {0, 0x64, 0xFF, 0x9B};

		inet_ntop(AF_INET6, &in6->sin6_addr, text, sizeof(text));
		if (IN6_IS_ADDR_LOOPBACK(&in6->sin6_addr))
			no = NULL;
		else if (IN6_IS_ADDR_UNSPECIFIED(&in6->sin6_addr))
			no = "an unspecified address (::)";
		else if (memcmp(b, mapped, 12) == 0 ||
			 memcmp(b, nat64, 12) == 0)
			/* An IPv4 address in IPv6 clothes: judge the IPv4. */
			no = addr4_refusal((uint32_t)b[12] << 24 |
						   (uint32_t)b[13] << 16 |
						   (uint32_t)b[14] << 8 | b[15],
					   policy);
		else if (b[0] == 0xFF)
			no = "a multicast address";
		else if (policy == HTTP_ADDR_PRIVATE_OK)
			no = NULL;
		else if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80)
			no = "a link-local address";
		else if ((b[0] & 0xFE) == 0xFC)
			no = "a private (unique local) address";
	} else {
		no = "not an internet address";
	}
	if (no == NULL)
		return 0;
	snprintf(
		why, whysz,
		"refused to connect to %s: %s (the channel's address policy%s)",
		text, no,
		policy == HTTP_ADDR_PUBLIC && strstr(no, "private") != NULL
			? "; allow_private = true permits it"
			: "");
	return -EACCES;
}

/*
 * The host of url as written, into host (brackets of an IPv6 literal
 * removed; *ret_v6 set for one). Returns false when there is none to
 * judge (no "://", too long): libcurl then says what is wrong.
 */
static bool url_host(const char *url, char *host, size_t hostsz, bool *ret_v6)
{
	const char *p = strstr(url, "://"), *end, *at;
	size_t n;

	if (p == NULL)
		return false;
	p += 3;
	end = p + strcspn(p, "/?#");
	/* Skip user:password@ (the last @ of the authority). */
	for (at = p; at < end; at++)
		if (*at == '@')
			p = at + 1;
	*ret_v6 = *p == '[';
	if (*ret_v6)
		p++;
	n = *ret_v6 ? strcspn(p, "]") : strcspn(p, ":/?#");
	if (n >= hostsz)
		return false;
	memcpy(host, p, n);
	host[n] = '\0';
	return true;
}

/*
 * -EACCES (reason in why) when the URL's host is an IPv4 address written
 * in another form than dotted decimal: inet_aton() takes what resolvers
 * take (2130706433, 0x7f.1, 0177.0.0.1, 127.1, 0), inet_pton() only the
 * standard form. Such a host is written to hide which address it is.
 */
static int url_host_obfuscated(const char *url, char *why, size_t whysz)
{
	char host[256];
	struct in_addr a4;
	bool v6;

	if (!url_host(url, host, sizeof(host), &v6) || v6 ||
	    inet_aton(host, &a4) == 0 || inet_pton(AF_INET, host, &a4) == 1)
		return 0;
	snprintf(why, whysz,
		 "refused: the host \"%s\" is an address written in a "
		 "non-standard numeric form (write it in dotted decimal)",
		 host);
	return -EACCES;
}

int http_url_check(const char *url, enum http_addr_policy policy, char *why,
		   size_t whysz)
{
	char host[256];
	struct sockaddr_in sin = {.sin_family = AF_INET};
	struct sockaddr_in6 sin6 = {.sin6_family = AF_INET6};
	bool v6;

	if (url_host_obfuscated(url, why, whysz) < 0)
		return -EACCES;
	if (!url_host(url, host, sizeof(host), &v6))
		return 0;
	if (v6 && inet_pton(AF_INET6, host, &sin6.sin6_addr) == 1)
		return http_addr_check((struct sockaddr *)&sin6, policy, why,
				       whysz);
	if (!v6 && inet_pton(AF_INET, host, &sin.sin_addr) == 1)
		return http_addr_check((struct sockaddr *)&sin, policy, why,
				       whysz);
	return 0;
}

/* Characters of a secret-looking run (base64, base64url, hex). */
static bool secret_char(unsigned char c)
{
	return isalnum(c) || c == '+' || c == '/' || c == '=' || c == '_' ||
	       c == '-';
}

/* Replaces s[from..to) with "[hidden]" (or stars when shorter). */
static size_t hide(char *s, size_t from, size_t to)
{
	static const char mark[] = "[hidden]";
	size_t len = strlen(s), n = to - from;

	if (n >= sizeof(mark) - 1) {
		memcpy(s + from, mark, sizeof(mark) - 1);
		memmove(s + from + sizeof(mark) - 1, s + to, len - to + 1);
		return from + sizeof(mark) - 1;
	}
	memset(s + from, '*', n);
	return to;
}

void http_redact_secrets(char *s)
{
	static const char *const words[] = {
		"password",  "passwd",	"secret", "token", "apikey",
		"api_key",   "api-key", "key",	  "auth",  "bearer",
		"signature", "session", "cookie", NULL,
	};
	size_t i = 0;

	while (s[i] != '\0') {
		size_t w = 0, j, v;
		bool digit = false, alpha = false;

		/* A keyword at the start of a word, and what follows it. */
		if (i == 0 || !isalnum((unsigned char)s[i - 1])) {
			for (size_t k = 0; words[k] != NULL && w == 0; k++) {
				size_t kl = strlen(words[k]);

				if (strncasecmp(s + i, words[k], kl) == 0)
					w = kl;
			}
		}
		if (w > 0) {
			/* The rest of the word: "token_value", "Authorization". */
			j = i + w;
			while (isalnum((unsigned char)s[j]) || s[j] == '_' ||
			       s[j] == '-')
				j++;
			while (s[j] == '"' || s[j] == '\'' || s[j] == ' ')
				j++;
			if (s[j] == ':' || s[j] == '=' ||
			    strncasecmp(s + i, "bearer", 6) == 0) {
				if (s[j] == ':' || s[j] == '=')
					j++;
				while (s[j] == ' ' || s[j] == '"' ||
				       s[j] == '\'')
					j++;
				/* "Basic xxx" / "Bearer xxx" after auth: */
				if (strncasecmp(s + j, "bearer ", 7) == 0 ||
				    strncasecmp(s + j, "basic ", 6) == 0)
					j += s[j + 1] == 'e' || s[j + 1] == 'E'
						     ? 7
						     : 6;
				for (v = j;
				     s[v] != '\0' && s[v] != ' ' &&
				     s[v] != '"' && s[v] != '\'' &&
				     s[v] != ',' && s[v] != '&' &&
				     s[v] != ';' && s[v] != '}' && s[v] != '<';
				     v++)
					;
				if (v > j) {
					i = hide(s, j, v);
					continue;
				}
			}
		}
		/* A long run of key-like characters with letters and digits. */
		for (j = i; secret_char((unsigned char)s[j]); j++) {
			digit |= isdigit((unsigned char)s[j]) != 0;
			alpha |= isalpha((unsigned char)s[j]) != 0;
		}
		if (j - i >= 24 && digit && alpha) {
			i = hide(s, i, j);
			continue;
		}
		i = j > i ? j : i + 1;
	}
}
