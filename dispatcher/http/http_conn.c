/*
 * The listener's connections, counted and bounded: see http_conn.h. In
 * order: the records and their two hash tables (by evhttp connection,
 * by client address), the bufferevent each connection is born with, the
 * first look at a new connection (count it, make room or refuse it), the
 * request deadline, the close callback, and accept() out of descriptors.
 *
 * How a new connection is found: evhttp 2.1 calls our bufferevent
 * callback before it knows the socket, then sets the socket and its own
 * callbacks on that bufferevent, with the new evhttp_connection as their
 * argument, all before it returns to the loop. An event made active
 * right then runs in the same turn of the loop, before the connection
 * can have read anything: it reads the connection back from the
 * bufferevent's callback argument (checked: the connection must name the
 * same bufferevent) and takes the connection's close callback, which
 * tells us when evhttp frees it. A reference on the bufferevent keeps
 * that first look safe even if evhttp were to free the connection
 * before it runs: a freed bufferevent has its callbacks cleared.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <openssl/ssl.h>

#include "common/log.h"
#include "dispatcher/http/http_conn.h"

/* How long accept() rests after running out of descriptors. */
#define CONN_ACCEPT_PAUSE_MS 200

struct addr_slot;

/* One connection evhttp accepted. */
struct conn {
	struct http_conns *owner;
	struct bufferevent *bev;	 /* evhttp's; ours holds a reference
					    until the first look */
	struct evhttp_connection *evcon; /* NULL until the first look */
	struct event *ev;		 /* the first look, then the deadline */
	struct addr_slot *slot;		 /* NULL until counted */
	struct conn *hnext;		 /* chain in owner->by_evcon */
	TAILQ_ENTRY(conn) all;		 /* owner->all, oldest first */
	TAILQ_ENTRY(conn) same;		 /* slot->conns, oldest first */
	struct evbuffer_cb_entry *heard_cb; /* on bev's input, or NULL */
	bool busy;			    /* a handler has its request */
	bool counted;			    /* in the lists and tables */
	bool heard;  /* a byte of a request came in, ever */
	bool asking; /* a byte came in since the last reply */
	void (*closecb)(struct evhttp_connection *, void *); /* a user's */
	void *closearg;
};

TAILQ_HEAD(conn_list, conn);

/* The connections of one client address. */
struct addr_slot {
	struct addr_slot *hnext;
	char addr[INET6_ADDRSTRLEN];
	bool exempt; /* a trusted proxy: no per-address cap */
	int count;
	struct conn_list conns; /* oldest first */
};

struct http_conns {
	struct event_base *base;
	struct evhttp *http;
	struct http_conn_limits lim;
	http_conn_exempt_fn exempt;
	void *exempt_arg;
	SSL_CTX *tls; /* owned reference, or NULL */
	size_t n;     /* counted connections */
	size_t nbuckets;
	struct conn **by_evcon;	       /* nbuckets chains */
	struct addr_slot **by_addr;    /* nbuckets chains */
	struct conn_list all;	       /* every counted one, oldest first */
	struct evconnlistener *paused; /* the listener resting, or NULL */
	struct event *resume;	       /* ends the rest */
	time_t full_logged;	       /* last "connection limit" line */
	time_t emfile_logged;	       /* last "out of descriptors" line */
	unsigned emfile_quiet;	       /* failures since that line */
};

static size_t ptr_hash(const struct http_conns *c, const void *p)
{
	uint64_t h = (uint64_t)(uintptr_t)p * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h >> 32) & (c->nbuckets - 1);
}

static size_t str_hash(const struct http_conns *c, const char *s)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return (size_t)h & (c->nbuckets - 1);
}

static struct conn *find_conn(const struct http_conns *c,
			      const struct evhttp_connection *evcon)
{
	struct conn *k = c->by_evcon[ptr_hash(c, evcon)];

	while (k != NULL && k->evcon != evcon)
		k = k->hnext;
	return k;
}

/* The slot of addr, made when new. NULL without memory. */
static struct addr_slot *slot_get(struct http_conns *c, const char *addr)
{
	size_t h = str_hash(c, addr);
	struct addr_slot *s = c->by_addr[h];

	while (s != NULL && strcmp(s->addr, addr) != 0)
		s = s->hnext;
	if (s != NULL)
		return s;
	s = calloc(1, sizeof(*s));
	if (s == NULL)
		return NULL;
	snprintf(s->addr, sizeof(s->addr), "%s", addr);
	s->exempt = c->exempt != NULL && c->exempt(addr, c->exempt_arg);
	TAILQ_INIT(&s->conns);
	s->hnext = c->by_addr[h];
	c->by_addr[h] = s;
	return s;
}

static void slot_drop(struct http_conns *c, struct addr_slot *s)
{
	struct addr_slot **pp = &c->by_addr[str_hash(c, s->addr)];

	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	free(s);
}

/* Forgets k: out of every list and table, its event gone, freed. */
static void conn_forget(struct conn *k)
{
	struct http_conns *c = k->owner;

	if (k->heard_cb != NULL)
		evbuffer_remove_cb_entry(bufferevent_get_input(k->bev),
					 k->heard_cb);

	if (k->counted) {
		struct conn **pp = &c->by_evcon[ptr_hash(c, k->evcon)];

		while (*pp != k)
			pp = &(*pp)->hnext;
		*pp = k->hnext;
		TAILQ_REMOVE(&c->all, k, all);
		TAILQ_REMOVE(&k->slot->conns, k, same);
		if (--k->slot->count == 0)
			slot_drop(c, k->slot);
		c->n--;
	}
	if (k->ev != NULL)
		event_free(k->ev);
	free(k);
}

/* ---- the bufferevent of a new connection ---- */

static void conn_first_look(evutil_socket_t fd, short what, void *arg);

/* Bytes came into k's input: it has begun a request. */
static void conn_heard(struct evbuffer *in, const struct evbuffer_cb_info *info,
		       void *arg)
{
	struct conn *k = arg;

	(void)in;
	if (info->n_added > 0)
		k->heard = k->asking = true;
}

/*
 * evhttp's bufferevent callback: a new connection, its socket not yet
 * set. Reading ahead stops at lim.read_ahead bytes: evhttp reads on
 * while it writes a reply (to notice a close), so a client that sends
 * requests and never reads the replies would otherwise fill memory
 * without end. With the limit its bytes wait in its own socket buffer,
 * and TCP slows it down.
 */
static struct bufferevent *conn_bev(struct event_base *base, void *arg)
{
	struct http_conns *c = arg;
	struct bufferevent *bev = NULL;
	struct conn *k = calloc(1, sizeof(*k));

	if (c->tls != NULL) {
		SSL *ssl = SSL_new(c->tls);

		if (ssl != NULL)
			bev = bufferevent_openssl_socket_new(
				base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
				BEV_OPT_CLOSE_ON_FREE);
		if (bev == NULL && ssl != NULL)
			SSL_free(ssl);
	} else {
		bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
	}
	if (bev == NULL) {
		/*
		 * evhttp makes a plain one of its own: better a plain
		 * connection that a TLS client drops at once than none.
		 */
		free(k);
		return NULL;
	}
	bufferevent_setwatermark(bev, EV_READ, 0, c->lim.read_ahead);
	if (k != NULL)
		k->ev = event_new(base, -1, 0, conn_first_look, k);
	if (k == NULL || k->ev == NULL) {
		/* Not counted, but bounded all the same. */
		free(k);
		return bev;
	}
	k->owner = c;
	k->bev = bev;
	/* Without it the connection still counts, as one never heard. */
	k->heard_cb =
		evbuffer_add_cb(bufferevent_get_input(bev), conn_heard, k);
	bufferevent_incref(bev);
	event_active(k->ev, 0, 0);
	return bev;
}

/* ---- the first look ---- */

static void conn_closed(struct evhttp_connection *evcon, void *arg);
static void conn_deadline(evutil_socket_t fd, short what, void *arg);

static void conn_arm(struct conn *k)
{
	struct timeval tv = {.tv_sec = k->owner->lim.request_timeout};

	if (k->owner->lim.request_timeout > 0)
		evtimer_add(k->ev, &tv);
}

/*
 * Whether k has bytes we have not parsed yet: in its input buffer, or
 * still in its socket because the loop has not read them (a connection
 * accepted in the same turn as many others). They may be a whole
 * request.
 */
static bool conn_pending(const struct conn *k)
{
	int n = 0;

	if (evbuffer_get_length(bufferevent_get_input(k->bev)) > 0)
		return true;
	return ioctl(bufferevent_getfd(k->bev), FIONREAD, &n) == 0 && n > 0;
}

/*
 * The connection of list (linked through same or all, oldest first)
 * that gives way to spare, the new one, or NULL. A connection a handler
 * holds, or one with bytes waiting, never does: closing it would leave
 * a request unanswered. Of the rest, in order: the oldest that has
 * never sent a byte, the oldest between requests, and last the oldest
 * with a request trickling in (its bytes parsed, more to come; the
 * request deadline would end it anyway).
 */
static struct conn *conn_victim(struct conn_list *list, bool same,
				const struct conn *spare)
{
	struct conn *k, *between = NULL, *trickling = NULL;

	for (k = TAILQ_FIRST(list); k != NULL;
	     k = same ? TAILQ_NEXT(k, same) : TAILQ_NEXT(k, all)) {
		if (k->busy || k == spare)
			continue;
		if (k->heard && !k->asking && between != NULL)
			continue;
		if (k->asking && trickling != NULL)
			continue;
		if (conn_pending(k))
			continue;
		if (!k->heard)
			return k;
		if (!k->asking)
			between = k;
		else
			trickling = k;
	}
	return between != NULL ? between : trickling;
}

/* Logs that a limit was hit, at most once a second. */
static void log_full(struct http_conns *c, const char *what, const char *addr)
{
	time_t now = time(NULL);

	if (now == c->full_logged)
		return;
	c->full_logged = now;
	log_warnx("http: %s reached (%s): the oldest connection that has "
		  "sent nothing gives way, or the new one is closed",
		  what, addr);
}

/*
 * Makes room for k under both caps by closing connections that have
 * no request to answer (its own address's first; see conn_victim()).
 * Returns false when there is none to close: k itself must go.
 */
static bool make_room(struct http_conns *c, struct conn *k)
{
	struct addr_slot *s = k->slot;

	while (!s->exempt && c->lim.max_per_address > 0 &&
	       s->count > c->lim.max_per_address) {
		struct conn *v = conn_victim(&s->conns, true, k);

		log_full(c, "the connection limit per address", s->addr);
		if (v == NULL)
			return false;
		evhttp_connection_free(v->evcon);
	}
	while (c->n > (size_t)c->lim.max_connections) {
		struct conn *v = conn_victim(&c->all, false, k);

		log_full(c, "the connection limit", s->addr);
		if (v == NULL)
			return false;
		evhttp_connection_free(v->evcon);
	}
	return true;
}

static void conn_first_look(evutil_socket_t fd, short what, void *arg)
{
	struct conn *k = arg;
	struct http_conns *c = k->owner;
	struct bufferevent *bev = k->bev;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char addr[INET6_ADDRSTRLEN] = "unknown";
	void *cbarg = NULL;
	size_t h;

	(void)fd;
	(void)what;
	bufferevent_getcb(bev, NULL, NULL, NULL, &cbarg);
	k->evcon = cbarg;
	if (k->evcon == NULL ||
	    evhttp_connection_get_bufferevent(k->evcon) != bev) {
		/* Gone already, or not the evhttp we know: not ours. */
		conn_forget(k);
		bufferevent_decref(bev);
		return;
	}
	bufferevent_decref(bev);
	if (getpeername(bufferevent_getfd(bev), (struct sockaddr *)&ss, &sl) ==
	    0) {
		if (ss.ss_family == AF_INET)
			inet_ntop(AF_INET,
				  &((struct sockaddr_in *)&ss)->sin_addr, addr,
				  sizeof(addr));
		else if (ss.ss_family == AF_INET6)
			inet_ntop(AF_INET6,
				  &((struct sockaddr_in6 *)&ss)->sin6_addr,
				  addr, sizeof(addr));
	}
	k->slot = slot_get(c, addr);
	if (k->slot == NULL) {
		k->evcon = NULL;
		conn_forget(k);
		return;
	}
	/* From here on evhttp_connection_free() calls conn_closed(). */
	evhttp_connection_set_closecb(k->evcon, conn_closed, k);
	k->counted = true;
	h = ptr_hash(c, k->evcon);
	k->hnext = c->by_evcon[h];
	c->by_evcon[h] = k;
	TAILQ_INSERT_TAIL(&c->all, k, all);
	TAILQ_INSERT_TAIL(&k->slot->conns, k, same);
	k->slot->count++;
	c->n++;
	event_free(k->ev);
	k->ev = evtimer_new(c->base, conn_deadline, k);
	if (k->ev != NULL)
		conn_arm(k);
	if (!make_room(c, k))
		evhttp_connection_free(k->evcon);
}

/* ---- the deadline ---- */

/*
 * A client had request_timeout seconds, from its connection or its last
 * reply, to send a whole request, and did not: one header line every
 * few seconds (slowloris) keeps evhttp's per-read timeout happy for
 * ever, this does not.
 */
static void conn_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *k = arg;

	(void)fd;
	(void)what;
	log_debug("http: closed a connection from %s that sent no whole "
		  "request in %d s",
		  k->slot->addr, k->owner->lim.request_timeout);
	evhttp_connection_free(k->evcon);
}

static void conn_reply_done(struct evhttp_request *req, void *arg)
{
	struct http_conns *c = arg;
	struct conn *k = find_conn(c, evhttp_request_get_connection(req));

	if (k == NULL)
		return;
	k->busy = false;
	/* Bytes already in its buffer are a next request: not idle. */
	k->asking = false;
	if (k->ev != NULL)
		conn_arm(k);
}

void http_conns_request_started(struct http_conns *c,
				struct evhttp_request *req)
{
	struct conn *k = find_conn(c, evhttp_request_get_connection(req));

	if (k == NULL)
		return;
	k->busy = true;
	if (k->ev != NULL)
		evtimer_del(k->ev);
	evhttp_request_set_on_complete_cb(req, conn_reply_done, c);
}

/* ---- closing ---- */

static void conn_closed(struct evhttp_connection *evcon, void *arg)
{
	struct conn *k = arg;

	if (k->closecb != NULL)
		k->closecb(evcon, k->closearg);
	conn_forget(k);
}

int http_conns_set_closecb(struct http_conns *c,
			   struct evhttp_connection *evcon,
			   void (*cb)(struct evhttp_connection *, void *),
			   void *arg)
{
	struct conn *k = find_conn(c, evcon);

	if (k == NULL) {
		evhttp_connection_set_closecb(evcon, cb, arg);
		return -ENOENT;
	}
	k->closecb = cb;
	k->closearg = arg;
	return 0;
}

/* ---- accept() out of descriptors ---- */

/*
 * The listeners being watched, and by whom. libevent hands an accept
 * error callback only the listener and evhttp's own argument, so the
 * watcher is found here; a process has one or two listeners.
 */
#define CONN_MAX_LISTENERS 8
static struct {
	struct evconnlistener *lev;
	struct http_conns *owner;
} conn_listeners[CONN_MAX_LISTENERS];

static void conn_resume(evutil_socket_t fd, short what, void *arg)
{
	struct http_conns *c = arg;

	(void)fd;
	(void)what;
	if (c->paused != NULL)
		evconnlistener_enable(c->paused);
	c->paused = NULL;
}

/*
 * accept() failed with something other than a retry. With no
 * descriptor left (EMFILE, ENFILE) or no memory, the connection stays in
 * the kernel's backlog and the listener would be woken for it again at
 * once, for ever: it rests a moment instead, while connections close
 * and free descriptors.
 */
static void conn_accept_error(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct http_conns *c = NULL;
	struct timeval tv = {0, CONN_ACCEPT_PAUSE_MS * 1000};
	time_t now = time(NULL);

	/* arg is evhttp's own: find whose listener this is. */
	(void)arg;
	for (size_t i = 0; i < CONN_MAX_LISTENERS && c == NULL; i++)
		if (conn_listeners[i].lev == lev)
			c = conn_listeners[i].owner;
	if (c == NULL)
		return;
	if (now != c->emfile_logged) {
		if (c->emfile_quiet > 0)
			log_warnx("http: accept() failed %u more times",
				  c->emfile_quiet);
		errno = err;
		log_warn("http: accept() failed; pausing for %d ms",
			 CONN_ACCEPT_PAUSE_MS);
		c->emfile_logged = now;
		c->emfile_quiet = 0;
	} else {
		c->emfile_quiet++;
	}
	if (c->paused != NULL)
		return;
	evconnlistener_disable(lev);
	c->paused = lev;
	evtimer_add(c->resume, &tv);
}

void http_conns_watch_listener(struct http_conns *c,
			       struct evhttp_bound_socket *sock)
{
	struct evconnlistener *lev = evhttp_bound_socket_get_listener(sock);

	for (size_t i = 0; i < CONN_MAX_LISTENERS; i++) {
		if (conn_listeners[i].lev != NULL)
			continue;
		conn_listeners[i].lev = lev;
		conn_listeners[i].owner = c;
		evconnlistener_set_error_cb(lev, conn_accept_error);
		return;
	}
	/* Unwatched, it is as before: libevent logs and retries. */
	log_warnx("http: more than %d listeners; accept() errors unwatched",
		  CONN_MAX_LISTENERS);
}

/* ---- the watcher ---- */

int http_conns_new(struct event_base *base, struct evhttp *http,
		   const struct http_conn_limits *lim, struct http_conns **ret)
{
	struct http_conns *c;
	size_t nb = 64;

	if (lim->max_connections <= 0 || lim->max_per_address < 0 ||
	    lim->request_timeout < 0 || lim->read_ahead == 0)
		return -EINVAL;
	while (nb < (size_t)lim->max_connections && nb < (1u << 20))
		nb *= 2;
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->base = base;
	c->http = http;
	c->lim = *lim;
	c->nbuckets = nb;
	TAILQ_INIT(&c->all);
	c->by_evcon = calloc(nb, sizeof(*c->by_evcon));
	c->by_addr = calloc(nb, sizeof(*c->by_addr));
	c->resume = evtimer_new(base, conn_resume, c);
	if (c->by_evcon == NULL || c->by_addr == NULL || c->resume == NULL) {
		http_conns_free(c);
		return -ENOMEM;
	}
	evhttp_set_bevcb(http, conn_bev, c);
	*ret = c;
	return 0;
}

void http_conns_set_exempt(struct http_conns *c, http_conn_exempt_fn fn,
			   void *arg)
{
	c->exempt = fn;
	c->exempt_arg = arg;
}

void http_conns_set_tls(struct http_conns *c, struct ssl_ctx_st *ctx)
{
	if (ctx != NULL)
		SSL_CTX_up_ref(ctx);
	if (c->tls != NULL)
		SSL_CTX_free(c->tls);
	c->tls = ctx;
}

size_t http_conns_count(const struct http_conns *c)
{
	return c->n;
}

void http_conns_free(struct http_conns *c)
{
	struct conn *k;

	if (c == NULL)
		return;
	/* evhttp_free() came first and freed them; anything left goes. */
	while ((k = TAILQ_FIRST(&c->all)) != NULL) {
		evhttp_connection_set_closecb(k->evcon, NULL, NULL);
		conn_forget(k);
	}
	for (size_t i = 0; i < CONN_MAX_LISTENERS; i++)
		if (conn_listeners[i].owner == c)
			conn_listeners[i].lev = NULL,
			conn_listeners[i].owner = NULL;
	if (c->resume != NULL)
		event_free(c->resume);
	if (c->tls != NULL)
		SSL_CTX_free(c->tls);
	free(c->by_evcon);
	free(c->by_addr);
	free(c);
}
