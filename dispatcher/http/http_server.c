/*
 * The engine's HTTP listener on evhttp: see http_server.h. One generic
 * callback takes every request, finds its route in the table below,
 * checks the bearer token where the route asks for one, calls the
 * handler (api.c, ack_http.c) and sends its reply. Sending happens in
 * one place, http_server_reply(), so that every request path ends in
 * exactly one evhttp_send_reply(): right after the handler, or later for
 * a handler that defers its answer until the disk has it; evhttp itself
 * answers what never reaches us (malformed requests 400, bodies over the
 * limit 413).
 *
 * The listener is public, so before routing it defends itself: the
 * connections are counted and bounded by http_conn.c, framing two parsers
 * could read differently is refused, and the client's address is read
 * through trusted proxies (client_addr.c). At the end of the file: the
 * setting up, the metrics listener and the TLS context.
 */
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/utf8.h"
#include "dispatcher/http/ack_http.h"
#include "dispatcher/http/api.h"
#include "dispatcher/http/client_addr.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/http/hooks.h"
#include "dispatcher/http/http_conn.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/http/ratelimit.h"

/* A JSON alert is at most 64 KiB of body plus its fields. */
#define HTTP_MAX_BODY (1024 * 1024)
#define HTTP_MAX_HEADERS (16 * 1024)
#define HTTP_TIMEOUT_SECONDS 30
#define HTTP_JSON "application/json; charset=utf-8"
/*
 * Bytes read ahead of a connection's unsent replies. evhttp keeps a
 * Content-Length body in the connection's buffer until all of it is
 * there, so the largest body and header block must fit; pipelined
 * requests beyond that wait in the client's own socket buffer.
 */
#define HTTP_READ_AHEAD (HTTP_MAX_BODY + 4 * HTTP_MAX_HEADERS)
/* Connections at most when the operator sets no cap of their own. */
#define HTTP_DEFAULT_CONNECTIONS 4096
/* The fewest connections a descriptor limit leaves us. */
#define HTTP_MIN_CONNECTIONS 16
/* Prometheus and a person's curl, no more. */
#define HTTP_METRICS_CONNECTIONS 64
/* Addresses whose refused bearer tokens were logged lately. */
#define HTTP_AUTHLOG_ENTRIES 1024

struct http_server {
	struct evhttp *http;		   /* owned */
	struct evhttp_bound_socket *sock;  /* owned by http */
	struct http_conns *conns;	   /* owned; counts and bounds */
	struct engine *engine;		   /* not owned; set before the loop */
	struct ack_http *ack;		   /* owned; reply links' state */
	struct addr_nets trusted;	   /* owned; trusted_proxies */
	struct evhttp *mhttp;		   /* owned; metrics_listen, or NULL */
	struct http_conns *mconns;	   /* owned; its connections */
	uint8_t metrics_token[SHA256_LEN]; /* SHA-256, when has_metrics_token */
	bool has_metrics_token;
	struct ratelimit *authlog; /* owned; refused tokens logged, 1/s */
	int port;		   /* the port actually bound */
	int mport;		   /* the metrics listener's, or 0 */
	char *tls_cert;		   /* owned; PEM chain file, or NULL */
	char *tls_key;		   /* owned; PEM key file, or NULL */
};

/*
 * A route: the methods it answers, its path pattern and whether it needs
 * an operator's bearer token. In a pattern, "*" matches one non-empty
 * path segment, handed to the handler decoded in api_request.params; a
 * final "**" matches the rest of the path, even empty or with slashes,
 * handed over raw for the handler to judge. A path that matches a
 * pattern but not a method gets 405.
 */
enum http_auth {
	HTTP_AUTH_NONE,	    /* anyone */
	HTTP_AUTH_OPERATOR, /* Authorization: Bearer an operator's token */
	HTTP_AUTH_METRICS,  /* an operator's token, or the metrics token */
};

struct http_route {
	int methods; /* EVHTTP_REQ_* mask */
	const char *pattern;
	enum http_auth auth;
	api_handler handle;
};

static const struct http_route http_routes[] = {
	/* The operator API: JSON, bearer token. */
	{EVHTTP_REQ_POST, "/api/v1/alerts", HTTP_AUTH_OPERATOR,
	 api_alert_create},
	{EVHTTP_REQ_GET, "/api/v1/alerts", HTTP_AUTH_OPERATOR, api_alert_list},
	{EVHTTP_REQ_GET, "/api/v1/alerts/*", HTTP_AUTH_OPERATOR, api_alert_get},
	{EVHTTP_REQ_POST, "/api/v1/alerts/*/cancel", HTTP_AUTH_OPERATOR,
	 api_alert_cancel},
	{EVHTTP_REQ_GET, "/api/v1/alerts/*/timeline", HTTP_AUTH_OPERATOR,
	 api_alert_timeline},
	/*
	 * The queue depths and delivery counts tell an outsider that an
	 * alert is going out: a token here, or metrics_listen without.
	 */
	{EVHTTP_REQ_GET, "/metrics", HTTP_AUTH_METRICS, api_metrics},
	/* For the load balancer: no token, and nothing to learn. */
	{EVHTTP_REQ_GET, "/healthz", HTTP_AUTH_NONE, api_healthz},
	/*
	 * The reply links: the token in the path is the credential. "**"
	 * so that every malformed token, too, reaches the handler and gets
	 * its one 404 page.
	 */
	{EVHTTP_REQ_GET | EVHTTP_REQ_POST, "/ack/**", HTTP_AUTH_NONE,
	 ack_http_handle},
	/*
	 * The gateways' callbacks: the channel's driver checks each one's
	 * signature (hooks.c), so no token here; only patterns are logged.
	 */
	{EVHTTP_REQ_POST, "/hooks/*/**", HTTP_AUTH_NONE, hooks_handle},
	{0, NULL, HTTP_AUTH_NONE, NULL},
};

/* Every path under this prefix needs a token, even one with no route. */
#define HTTP_API_PREFIX "/api/"

/*
 * Matches path against pattern. With params, fills it with the decoded
 * segments that "*" matched (malloc'd; the caller frees them). Returns
 * true on a match; a segment that decodes to NUL, bad UTF-8 or control
 * characters never matches, so handlers only see clean parameters.
 */
static bool http_match(const char *pattern, const char *path, char **params)
{
	size_t n = 0;

	while (*pattern != '\0') {
		if (strcmp(pattern, "**") == 0) {
			if (n == API_MAX_PARAMS)
				goto fail;
			if (params != NULL &&
			    (params[n] = strdup(path)) == NULL)
				goto fail;
			return true;
		}
		if (*pattern == '*') {
			const char *end = strchr(path, '/');
			size_t len = end ? (size_t)(end - path) : strlen(path);

			if (len == 0 || n == API_MAX_PARAMS)
				goto fail;
			if (params != NULL) {
				char *seg = strndup(path, len), *dec;
				size_t dlen = 0;

				dec = seg ? evhttp_uridecode(seg, 0, &dlen)
					  : NULL;
				free(seg);
				params[n] = dec;
				if (dec == NULL || strlen(dec) != dlen ||
				    !utf8_valid(dec, dlen, NULL) ||
				    utf8_has_control(dec, dlen)) {
					n++;
					goto fail;
				}
			}
			n++;
			pattern++;
			path += len;
			continue;
		}
		if (*pattern != *path)
			goto fail;
		pattern++;
		path++;
	}
	if (*path == '\0')
		return true;
fail:
	for (size_t i = 0; params != NULL && i < n; i++) {
		free(params[i]);
		params[i] = NULL;
	}
	return false;
}

/* "GET, POST" for an Allow header (HEAD comes with GET). */
static void http_allow(int methods, char *out, size_t len)
{
	static const struct {
		int bit;
		const char *name;
	} names[] = {
		{EVHTTP_REQ_GET, "GET"},       {EVHTTP_REQ_HEAD, "HEAD"},
		{EVHTTP_REQ_POST, "POST"},     {EVHTTP_REQ_PUT, "PUT"},
		{EVHTTP_REQ_DELETE, "DELETE"}, {EVHTTP_REQ_PATCH, "PATCH"},
	};

	if (methods & EVHTTP_REQ_GET)
		methods |= EVHTTP_REQ_HEAD;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (!(methods & names[i].bit))
			continue;
		if (out[0] != '\0')
			strncat(out, ", ", len - strlen(out) - 1);
		strncat(out, names[i].name, len - strlen(out) - 1);
	}
}

static const char *http_method_name(enum evhttp_cmd_type m)
{
	switch (m) {
	case EVHTTP_REQ_GET:
		return "GET";
	case EVHTTP_REQ_POST:
		return "POST";
	case EVHTTP_REQ_HEAD:
		return "HEAD";
	case EVHTTP_REQ_PUT:
		return "PUT";
	case EVHTTP_REQ_DELETE:
		return "DELETE";
	case EVHTTP_REQ_OPTIONS:
		return "OPTIONS";
	case EVHTTP_REQ_PATCH:
		return "PATCH";
	default:
		return "OTHER";
	}
}

static int64_t http_mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/*
 * Joins the values of every header called name with ", " into a
 * malloc'd string, as RFC 9110 5.3 reads repeated list headers. NULL
 * when there is none (or no memory: then the peer is the client).
 */
static char *http_header_list(struct evhttp_request *req, const char *name)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const struct evkeyval *kv;
	struct buf b = {0};

	bool found = false;

	TAILQ_FOREACH(kv, in, next)
	{
		if (strcasecmp(kv->key, name) != 0)
			continue;
		if ((found && buf_append(&b, ", ", 2) < 0) ||
		    buf_puts(&b, kv->value) < 0) {
			buf_free(&b);
			return NULL;
		}
		found = true;
	}
	return found ? buf_steal(&b) : NULL;
}

/* The client's address (client_addr.h) into out. */
static void http_client(struct http_server *h, struct evhttp_request *req,
			char out[INET6_ADDRSTRLEN])
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	char *peer = NULL, *fwd = NULL, *xff = NULL;
	ev_uint16_t port = 0;

	if (evcon != NULL)
		evhttp_connection_get_peer(evcon, &peer, &port);
	if (h->trusted.n > 0) {
		fwd = http_header_list(req, "Forwarded");
		xff = fwd ? NULL : http_header_list(req, "X-Forwarded-For");
	}
	client_address(&h->trusted, peer, fwd, xff, out);
	free(fwd);
	free(xff);
}

/*
 * Checks "Authorization: Bearer TOKEN". Returns the operator's name, or
 * NULL after filling a 401. The token itself is never logged.
 */
static const char *http_authenticate(struct http_server *h,
				     struct evhttp_request *req,
				     const char *client, bool metrics,
				     struct api_reply *out)
{
	const char *v, *op;
	uint8_t digest[SHA256_LEN];

	v = evhttp_find_header(evhttp_request_get_input_headers(req),
			       "Authorization");
	/* The scheme is case-insensitive (RFC 9110); the token is not. */
	if (v == NULL || strncasecmp(v, "Bearer ", 7) != 0) {
		api_reply_error(out, 401, NULL,
				"an operator's bearer token is required "
				"(Authorization: Bearer TOKEN)");
		goto refused;
	}
	v += 7;
	while (*v == ' ')
		v++;
	op = *v != '\0' && strchr(v, ' ') == NULL
		     ? engine_authenticate(h->engine, v)
		     : NULL;
	if (op != NULL)
		return op;
	if (metrics && h->has_metrics_token) {
		crypto_sha256(v, strlen(v), digest);
		if (crypto_equal(digest, h->metrics_token, SHA256_LEN))
			return "metrics";
	}
	/*
	 * Once a second per address at most: a client trying tokens in a
	 * loop must not fill the disk with this line.
	 */
	if (ratelimit_take(h->authlog, client, http_mono_ms(), NULL))
		log_warnx("http: refused a bearer token from %s", client);
	api_reply_error(out, 401, NULL, "the bearer token is not valid");
refused:
	evhttp_add_header(evhttp_request_get_output_headers(req),
			  "WWW-Authenticate", "Bearer");
	return NULL;
}

/* Sends out: the one evhttp_send_reply() of every request we route. */
void http_server_reply(struct evhttp_request *req, struct api_reply *out)
{
	struct evkeyvalq *hdrs = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evhttp_request_get_output_buffer(req);

	if (out->status == 0) {
		/* A handler that answered nothing is a bug; still reply. */
		log_warnx("http: a handler returned without a reply");
		api_reply_error(out, 500, NULL, "internal error");
	}
	evhttp_add_header(hdrs, "Content-Type",
			  out->content_type ? out->content_type : HTTP_JSON);
	/* Alert status is not for shared caches or a browser's history. */
	evhttp_add_header(hdrs, "Cache-Control", "no-store");
	evhttp_add_header(hdrs, "X-Content-Type-Options", "nosniff");
	/*
	 * evhttp writes whatever body it is given, even to a HEAD: the
	 * length goes out, the bytes do not.
	 */
	if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD) {
		char len[32];

		snprintf(len, sizeof(len), "%zu", out->body.len);
		evhttp_add_header(hdrs, "Content-Length", len);
	} else if (out->body.len > 0) {
		evbuffer_add(body, out->body.data, out->body.len);
	}
	evhttp_send_reply(req, out->status, NULL, NULL);
	buf_free(&out->body);
}

/*
 * Whether the request's framing is one that two HTTP parsers could read
 * differently (request smuggling, RFC 9112 6.1 and 6.3). evhttp reads a
 * body by the first Content-Length it finds and takes the rest as the
 * next request, while a proxy in front may have used another: so two
 * Content-Length values that differ, a Transfer-Encoding beside a
 * Content-Length, or a Transfer-Encoding other than plain "chunked"
 * (which evhttp would ignore and frame by Content-Length or not at all).
 * Copies of one same length are harmless and allowed.
 */
static bool http_framing_ambiguous(struct evhttp_request *req)
{
	struct evkeyvalq *in = evhttp_request_get_input_headers(req);
	const struct evkeyval *kv;
	const char *length = NULL;
	bool te = false;

	TAILQ_FOREACH(kv, in, next)
	{
		if (strcasecmp(kv->key, "Transfer-Encoding") == 0) {
			if (te || strcasecmp(kv->value, "chunked") != 0)
				return true;
			te = true;
		} else if (strcasecmp(kv->key, "Content-Length") == 0) {
			/* "5, 6" in one header is two lengths as well. */
			if (strchr(kv->value, ',') != NULL)
				return true;
			if (length != NULL && strcmp(length, kv->value) != 0)
				return true;
			length = kv->value;
		}
	}
	return te && length != NULL;
}

static void http_server_handle(struct evhttp_request *req, void *arg)
{
	struct http_server *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct http_route *route = NULL;
	struct api_request r = {
		.engine = h->engine,
		.ack = h->ack,
		.req = req,
		.method = method == EVHTTP_REQ_HEAD ? EVHTTP_REQ_GET : method,
		.query = uri ? evhttp_uri_get_query(uri) : NULL,
	};
	struct api_reply out = {0};
	struct evbuffer *in;
	bool found = false;
	enum http_auth auth = HTTP_AUTH_NONE;
	int allowed = 0;
	char client[INET6_ADDRSTRLEN];

	/* Requests wait in the backlog until the loop runs: engine is set. */
	assert(h->engine != NULL);
	http_conns_request_started(h->conns, req);
	http_client(h, req, client);
	r.client = client;
	r.conns = h->conns;

	/*
	 * Before anything reads the body or the bytes after it: what
	 * follows on this connection cannot be told apart from a request
	 * smuggled inside this one, so the answer is 400 and the close.
	 */
	if (http_framing_ambiguous(req)) {
		log_debug("http: refused a request with ambiguous framing");
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Connection", "close");
		api_reply_error(&out, 400, NULL,
				"conflicting Content-Length or "
				"Transfer-Encoding headers");
		goto send;
	}

	if (path == NULL || path[0] == '\0')
		path = "/";
	for (const struct http_route *rt = http_routes; rt->pattern; rt++) {
		if (!http_match(rt->pattern, path, NULL))
			continue;
		found = true;
		allowed |= rt->methods;
		if (rt->auth > auth)
			auth = rt->auth;
		if (route == NULL && (rt->methods & r.method))
			route = rt;
	}
	/* Strangers learn nothing about the API, not even its paths. */
	if (auth != HTTP_AUTH_NONE ||
	    (!found &&
	     strncmp(path, HTTP_API_PREFIX, strlen(HTTP_API_PREFIX)) == 0)) {
		r.operator_name = http_authenticate(
			h, req, client, auth == HTTP_AUTH_METRICS, &out);
		if (r.operator_name == NULL)
			goto send;
	}
	if (!found) {
		api_reply_error(&out, 404, NULL, "no such resource");
		goto send;
	}
	if (route == NULL) {
		char allow[64];

		http_allow(allowed, allow, sizeof(allow));
		evhttp_add_header(evhttp_request_get_output_headers(req),
				  "Allow", allow);
		api_reply_error(&out, 405, NULL, "method %s not allowed here",
				http_method_name(method));
		goto send;
	}
	if (!http_match(route->pattern, path, r.params)) {
		/* Matched the shape, but a segment decodes to junk. */
		api_reply_error(&out, 404, NULL, "no such resource");
		goto send;
	}
	in = evhttp_request_get_input_buffer(req);
	r.body_len = evbuffer_get_length(in);
	r.body = r.body_len ? (const char *)evbuffer_pullup(in, -1) : "";
	if (r.body == NULL) {
		api_reply_error(&out, 500, NULL, "out of memory");
		goto send;
	}
	route->handle(&r, &out);
	if (out.deferred) {
		/* The handler owns req now and replies later. */
		log_debug("http: %s %s -> later", http_method_name(method),
			  route->pattern);
		buf_free(&out.body);
		goto out;
	}
send:
	log_debug("http: %s %s -> %d%s%s", http_method_name(method),
		  route ? route->pattern : "(no route)", out.status,
		  r.operator_name ? " by " : "",
		  r.operator_name ? r.operator_name : "");
	http_server_reply(req, &out);
out:
	for (size_t i = 0; i < API_MAX_PARAMS; i++)
		free(r.params[i]);
}

/*
 * The metrics listener's one callback: /metrics and /healthz without a
 * token, nothing else. It is meant for an address only Prometheus
 * reaches (loopback, a management network).
 */
static void http_metrics_handle(struct evhttp_request *req, void *arg)
{
	struct http_server *h = arg;
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	struct api_request r = {
		.engine = h->engine,
		.req = req,
		.method = EVHTTP_REQ_GET,
		.conns = h->mconns,
	};
	struct api_reply out = {0};

	assert(h->engine != NULL);
	http_conns_request_started(h->mconns, req);
	if (path == NULL ||
	    (strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0))
		api_reply_error(&out, 404, NULL, "no such resource");
	else if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD)
		api_reply_error(&out, 405, NULL, "only GET here");
	else if (strcmp(path, "/metrics") == 0)
		api_metrics(&r, &out);
	else
		api_healthz(&r, &out);
	http_server_reply(req, &out);
}

/* Splits "HOST:PORT" ("[v6]:PORT" too) into host (malloc'd) and port. */
static int http_split_listen(const char *listen, char **ret_host, int *ret_port)
{
	const char *colon = strrchr(listen, ':'), *host = listen;
	size_t hlen;
	char *end;
	long port;

	if (colon == NULL || colon[1] == '\0')
		return -EINVAL;
	errno = 0;
	port = strtol(colon + 1, &end, 10);
	if (*end != '\0' || errno != 0 || port < 0 || port > 65535)
		return -EINVAL;
	hlen = (size_t)(colon - listen);
	if (hlen >= 2 && host[0] == '[' && host[hlen - 1] == ']') {
		host++;
		hlen -= 2;
	}
	if (hlen == 0)
		return -EINVAL;
	*ret_host = strndup(host, hlen);
	if (*ret_host == NULL)
		return -ENOMEM;
	*ret_port = (int)port;
	return 0;
}

/* The port sock is bound to, or -errno. */
static int http_bound_port(struct evhttp_bound_socket *sock)
{
	struct sockaddr_storage ss;
	socklen_t sslen = sizeof(ss);

	if (getsockname(evhttp_bound_socket_get_fd(sock),
			(struct sockaddr *)&ss, &sslen) < 0) {
		log_warn("http: getsockname");
		return -errno;
	}
	return ss.ss_family == AF_INET6
		       ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
		       : ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

void http_options_default(struct http_options *o, const char *listen)
{
	memset(o, 0, sizeof(*o));
	o->listen = listen;
	o->max_per_address = 100;
	o->fd_reserve = 256;
	o->request_timeout = 20;
}

/*
 * The connections we may hold: what the descriptor limit leaves once
 * the reserve for everything else (sends, the database, the log) is set
 * aside, and no more than the operator's cap, or HTTP_DEFAULT_CONNECTIONS
 * without one: each may hold a request's worth of memory.
 */
static int http_max_connections(const struct http_options *o)
{
	struct rlimit rl;
	long n = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0)
		n = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > INT_MAX
			    ? INT_MAX
			    : (long)rl.rlim_cur;
	n -= o->fd_reserve;
	if (o->max_connections > 0 && o->max_connections < n)
		n = o->max_connections;
	else if (o->max_connections == 0 && n > HTTP_DEFAULT_CONNECTIONS)
		n = HTTP_DEFAULT_CONNECTIONS;
	return n < HTTP_MIN_CONNECTIONS ? HTTP_MIN_CONNECTIONS : (int)n;
}

/*
 * Opens the metrics listener on listen: a second evhttp on the same
 * loop, with its own small share of connections.
 */
static int http_metrics_listen(struct http_server *h, struct event_base *base,
			       const char *listen)
{
	struct http_conn_limits lim = {
		.max_connections = HTTP_METRICS_CONNECTIONS,
		.max_per_address = 0,
		.request_timeout = 10,
		.read_ahead = 4 * HTTP_MAX_HEADERS,
	};
	struct evhttp_bound_socket *sock;
	char *host = NULL;
	int port, r;

	r = http_split_listen(listen, &host, &port);
	if (r < 0) {
		if (r == -EINVAL)
			log_warnx("http: metrics_listen \"%s\" is not "
				  "HOST:PORT",
				  listen);
		return r;
	}
	h->mhttp = evhttp_new(base);
	if (h->mhttp == NULL) {
		free(host);
		return -ENOMEM;
	}
	r = http_conns_new(base, h->mhttp, &lim, &h->mconns);
	if (r < 0) {
		free(host);
		return r;
	}
	evhttp_set_max_body_size(h->mhttp, 0);
	evhttp_set_max_headers_size(h->mhttp, HTTP_MAX_HEADERS);
	evhttp_set_timeout(h->mhttp, HTTP_TIMEOUT_SECONDS);
	evhttp_set_allowed_methods(h->mhttp, EVHTTP_REQ_GET | EVHTTP_REQ_HEAD);
	evhttp_set_gencb(h->mhttp, http_metrics_handle, h);
	errno = 0;
	sock = evhttp_bind_socket_with_handle(h->mhttp, host,
					      (ev_uint16_t)port);
	free(host);
	if (sock == NULL) {
		r = errno ? -errno : -EADDRNOTAVAIL;
		log_warn("http: cannot listen for metrics on %s", listen);
		return r;
	}
	http_conns_watch_listener(h->mconns, sock);
	h->mport = http_bound_port(sock);
	log_info("http: metrics on %s (port %d)", listen, h->mport);
	return 0;
}

/*
 * A TLS context from the certificate chain and key files (PEM): TLS 1.2
 * and up, no renegotiation (a client could make us do the handshake's
 * work over and over). On success *ret holds one reference. Returns 0,
 * or -EINVAL (logged) when the files do not load or do not match.
 */
static int http_tls_load(const char *cert, const char *key, SSL_CTX **ret)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	char msg[256] = "";

	if (ctx == NULL)
		return -ENOMEM;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (SSL_CTX_use_certificate_chain_file(ctx, cert) != 1 ||
	    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		ERR_error_string_n(ERR_get_error(), msg, sizeof(msg));
		ERR_clear_error();
		log_warnx("http: cannot use the TLS certificate %s with the "
			  "key %s: %s",
			  cert, key, msg);
		SSL_CTX_free(ctx);
		return -EINVAL;
	}
	*ret = ctx;
	return 0;
}

int http_server_reload_tls(struct http_server *h)
{
	SSL_CTX *ctx;
	int r;

	if (h->tls_cert == NULL)
		return 0;
	r = http_tls_load(h->tls_cert, h->tls_key, &ctx);
	if (r < 0) {
		log_warnx("http: TLS: keeping the certificate loaded before");
		return r;
	}
	/* Connections open now keep theirs; new ones get this. */
	http_conns_set_tls(h->conns, ctx);
	SSL_CTX_free(ctx);
	log_info("http: TLS certificate loaded from %s", h->tls_cert);
	return 0;
}

static bool http_trusted(const char *addr, void *arg)
{
	return addr_nets_match(arg, addr);
}

int http_server_new(struct event_base *base, struct engine *e,
		    const char *listen, struct http_server **ret)
{
	struct http_options o;

	http_options_default(&o, listen);
	return http_server_new_with(base, e, &o, ret);
}

/*
 * Listens as o says on base and routes requests to the engine e, which
 * must outlive the server; e may be NULL until http_server_set_engine(),
 * if that comes before the loop runs. On success *ret owns the server
 * (http_server_free()). Returns 0, -EINVAL for a malformed listen or
 * trusted_proxies, or another -errno (logged) when binding fails.
 */
int http_server_new_with(struct event_base *base, struct engine *e,
			 const struct http_options *o, struct http_server **ret)
{
	struct http_server *h;
	struct http_conn_limits lim = {
		.max_per_address = o->max_per_address,
		.request_timeout = o->request_timeout,
		.read_ahead = HTTP_READ_AHEAD,
	};
	const char *listen = o->listen, *bad = NULL;
	char *host = NULL;
	int port, r;

	r = http_split_listen(listen, &host, &port);
	if (r < 0) {
		if (r == -EINVAL)
			log_warnx("http: listen \"%s\" is not HOST:PORT",
				  listen);
		return r;
	}
	h = calloc(1, sizeof(*h));
	if (h == NULL || (h->http = evhttp_new(base)) == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	h->engine = e;
	r = addr_nets_parse(o->trusted_proxies, o->n_trusted_proxies,
			    &h->trusted, &bad);
	if (r == -EINVAL)
		log_warnx("http: trusted proxy \"%s\" is not an address or "
			  "ADDRESS/BITS",
			  bad);
	if (r < 0)
		goto fail;
	r = ratelimit_new(HTTP_AUTHLOG_ENTRIES, &h->authlog);
	if (r < 0)
		goto fail;
	ratelimit_set(h->authlog, 1, 1);
	r = ack_http_new(&h->ack);
	if (r < 0)
		goto fail;
	lim.max_connections = http_max_connections(o);
	r = http_conns_new(base, h->http, &lim, &h->conns);
	if (r < 0)
		goto fail;
	http_conns_set_exempt(h->conns, http_trusted, &h->trusted);
	if ((o->tls_certificate == NULL) != (o->tls_key == NULL)) {
		log_warnx("http: a TLS certificate needs its key, and a key "
			  "its certificate");
		r = -EINVAL;
		goto fail;
	}
	if (o->tls_certificate != NULL) {
		h->tls_cert = strdup(o->tls_certificate);
		h->tls_key = strdup(o->tls_key);
		if (h->tls_cert == NULL || h->tls_key == NULL) {
			r = -ENOMEM;
			goto fail;
		}
		r = http_server_reload_tls(h);
		if (r < 0)
			goto fail;
	}
	evhttp_set_max_body_size(h->http, HTTP_MAX_BODY);
	evhttp_set_max_headers_size(h->http, HTTP_MAX_HEADERS);
	evhttp_set_timeout(h->http, HTTP_TIMEOUT_SECONDS);
	/*
	 * Lingering close: an oversize body is read to its end and then
	 * refused with 413, so the client sees the 413 rather than a reset
	 * connection in the middle of its upload.
	 */
	evhttp_set_flags(h->http, EVHTTP_SERVER_LINGERING_CLOSE);
	/* Methods we may answer 405 to; the rest evhttp refuses with 501. */
	evhttp_set_allowed_methods(
		h->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD |
				 EVHTTP_REQ_PUT | EVHTTP_REQ_DELETE |
				 EVHTTP_REQ_PATCH | EVHTTP_REQ_OPTIONS);
	evhttp_set_gencb(h->http, http_server_handle, h);
	errno = 0;
	h->sock = evhttp_bind_socket_with_handle(h->http, host,
						 (ev_uint16_t)port);
	if (h->sock == NULL) {
		r = errno ? -errno : -EADDRNOTAVAIL;
		log_warn("http: cannot listen on %s", listen);
		goto fail;
	}
	http_conns_watch_listener(h->conns, h->sock);
	h->port = http_bound_port(h->sock);
	if (h->port < 0) {
		r = h->port;
		goto fail;
	}
	log_info("http: listening on %s (port %d), %d connections at most",
		 listen, h->port, lim.max_connections);
	if (o->metrics_token_sha256 != NULL) {
		memcpy(h->metrics_token, o->metrics_token_sha256, SHA256_LEN);
		h->has_metrics_token = true;
	}
	if (o->metrics_listen != NULL) {
		r = http_metrics_listen(h, base, o->metrics_listen);
		if (r < 0)
			goto fail;
	}
	free(host);
	*ret = h;
	return 0;
fail:
	free(host);
	http_server_free(h);
	return r;
}

void http_server_set_engine(struct http_server *h, struct engine *e)
{
	h->engine = e;
}

int http_server_port(const struct http_server *h)
{
	return h->port;
}

int http_server_metrics_port(const struct http_server *h)
{
	return h->mport;
}

size_t http_server_connections(const struct http_server *h)
{
	return http_conns_count(h->conns);
}

void http_server_free(struct http_server *h)
{
	if (h == NULL)
		return;
	/* First: answers waiting for the disk let go of their requests. */
	ack_http_free(h->ack);
	hooks_detach_all();
	/* Frees the listener and every open connection with it. */
	if (h->http != NULL)
		evhttp_free(h->http);
	if (h->mhttp != NULL)
		evhttp_free(h->mhttp);
	http_conns_free(h->mconns);
	free(h->tls_cert);
	free(h->tls_key);
	explicit_bzero(h->metrics_token, sizeof(h->metrics_token));
	/* After: evhttp_free() told it of every connection it closed. */
	http_conns_free(h->conns);
	ratelimit_free(h->authlog);
	addr_nets_free(&h->trusted);
	free(h);
}
