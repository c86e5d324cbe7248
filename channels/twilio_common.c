/*
 * Shared by the Twilio-shaped drivers: see twilio_common.h. In order:
 * settings, encoders, the REST answer's classification, and the table of
 * sends (a hash by gateway id, the queue of completions, the ring of
 * finished sends kept for late callbacks).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>
#include <jansson.h>

#include "channels/http_client.h"
#include "channels/twilio_common.h"
#include "channels/twilio_sign.h"
#include "common/utf8.h"

cfg_opt_t twilio_provider_options[] = {
	CFG_STR("base_url", NULL, CFGF_NODEFAULT),
	CFG_STR("account_sid", NULL, CFGF_NODEFAULT),
	CFG_STR("auth_token_file", NULL, CFGF_NODEFAULT),
	CFG_END(),
};

/* An auth token is 32 hex digits; allow some room for other gateways. */
#define TWILIO_TOKEN_MAX 256

static int read_token(const char *path, char **ret)
{
	char buf[TWILIO_TOKEN_MAX + 2];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	/* One line: the trailing newline an editor adds is not the token. */
	while (n > 0 &&
	       (buf[n - 1] == '\n' || buf[n - 1] == '\r' || buf[n - 1] == ' '))
		n--;
	if (n == 0 || n > TWILIO_TOKEN_MAX) {
		explicit_bzero(buf, sizeof(buf));
		return -EINVAL;
	}
	buf[n] = '\0';
	*ret = strdup(buf);
	explicit_bzero(buf, sizeof(buf));
	return *ret ? 0 : -ENOMEM;
}

/* "+81..., +81..." into c->from. Returns 0, -EINVAL or -ENOMEM. */
static int split_pool(const char *s, struct twilio_conf *c)
{
	const char *p = s;

	if (s == NULL)
		return -EINVAL;
	while (*p) {
		size_t len;
		char **l;

		p += strspn(p, ", \t");
		len = strcspn(p, ", \t");
		if (len == 0)
			break;
		if (p[0] != '+' || len < 4 || len > 16 ||
		    strspn(p + 1, "0123456789") != len - 1)
			return -EINVAL;
		l = realloc(c->from, (c->n_from + 1) * sizeof(*l));
		if (l == NULL)
			return -ENOMEM;
		c->from = l;
		if ((l[c->n_from] = strndup(p, len)) == NULL)
			return -ENOMEM;
		c->n_from++;
		p += len;
	}
	return c->n_from > 0 ? 0 : -EINVAL;
}

/* Reads one provider's account from sec (the channel or a provider). */
static int read_account(struct twilio_provider *p, const char *channel,
			cfg_t *sec, int line, const char *file,
			struct diag_list *diags)
{
	const char *base = cfg_getstr(sec, "base_url");
	const char *sid = cfg_getstr(sec, "account_sid");
	const char *tf = cfg_getstr(sec, "auth_token_file");
	int r = 0, k;

	if (base == NULL || (strncmp(base, "http://", 7) != 0 &&
			     strncmp(base, "https://", 8) != 0)) {
		diag_add(diags, file, line,
			 "channel \"%s\": provider %s: base_url must start "
			 "with http:// or https://",
			 channel, p->name);
		r = -EINVAL;
	} else {
		size_t len = strlen(base);

		while (len > 0 && base[len - 1] == '/')
			len--;
		if ((p->base_url = strndup(base, len)) == NULL)
			return -ENOMEM;
	}
	if (sid == NULL || sid[0] == '\0' || strpbrk(sid, "/?#&%: ") != NULL) {
		diag_add(diags, file, line,
			 "channel \"%s\": provider %s: account_sid is missing "
			 "or has characters a URL path cannot carry",
			 channel, p->name);
		r = -EINVAL;
	} else if ((p->account_sid = strdup(sid)) == NULL) {
		return -ENOMEM;
	}
	if (tf == NULL) {
		diag_add(diags, file, line,
			 "channel \"%s\": provider %s: auth_token_file is "
			 "missing (the token is never written in the config "
			 "itself)",
			 channel, p->name);
		r = -EINVAL;
	} else if ((k = read_token(tf, &p->token)) < 0) {
		diag_add(diags, file, line,
			 "channel \"%s\": auth_token_file %s: %s", channel, tf,
			 k == -EINVAL ? "empty or not one token"
				      : strerror(-k));
		r = k == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	return r;
}

int twilio_conf_read(struct twilio_conf *c, const char *channel, cfg_t *sec,
		     const char *file, struct diag_list *diags)
{
	size_t n = 1 + cfg_size(sec, "provider");
	int r = 0, k;

	c->prov = calloc(n, sizeof(*c->prov));
	if (c->prov == NULL)
		return -ENOMEM;
	c->n_prov = n;
	if (n > 64) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": at most 63 provider sections",
			 channel);
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		cfg_t *ps = i ? cfg_getnsec(sec, "provider", i - 1) : sec;

		c->prov[i].name = strdup(i ? cfg_title(ps) : "primary");
		if (c->prov[i].name == NULL)
			return -ENOMEM;
		k = read_account(&c->prov[i], channel, ps, ps->line, file,
				 diags);
		if (k == -ENOMEM)
			return k;
		if (k < 0)
			r = k;
	}
	/* The first provider's account, under the names drivers know. */
	if (c->prov[0].base_url &&
	    (c->base_url = strdup(c->prov[0].base_url)) == NULL)
		return -ENOMEM;
	if (c->prov[0].account_sid &&
	    (c->account_sid = strdup(c->prov[0].account_sid)) == NULL)
		return -ENOMEM;
	if (c->prov[0].token && (c->token = strdup(c->prov[0].token)) == NULL)
		return -ENOMEM;
	c->breaker_failures = (int)cfg_getint(sec, "breaker_failures");
	c->breaker_open = (int)cfg_getint(sec, "breaker_open");
	if (c->breaker_failures < 1 || c->breaker_open < 1) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": breaker_failures and breaker_open "
			 "must be positive",
			 channel);
		r = -EINVAL;
	}
	k = split_pool(cfg_getstr(sec, "from"), c);
	if (k == -ENOMEM)
		return -ENOMEM;
	if (k < 0) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": from needs one or more E.164 numbers "
			 "(\"+81...\"), separated by commas",
			 channel);
		r = -EINVAL;
	}
	c->timeout =
		cfg_size(sec, "timeout") > 0 ? cfg_getint(sec, "timeout") : 15;
	if (c->timeout < 1 || c->timeout > 300) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": timeout must be 1 to 300 seconds",
			 channel);
		r = -EINVAL;
	}
	return r;
}

void twilio_conf_fini(struct twilio_conf *c)
{
	if (c->token != NULL) {
		explicit_bzero(c->token, strlen(c->token));
		free(c->token);
	}
	for (size_t i = 0; i < c->n_prov; i++) {
		if (c->prov[i].token != NULL) {
			explicit_bzero(c->prov[i].token,
				       strlen(c->prov[i].token));
			free(c->prov[i].token);
		}
		free(c->prov[i].name);
		free(c->prov[i].base_url);
		free(c->prov[i].account_sid);
	}
	free(c->prov);
	free(c->base_url);
	free(c->account_sid);
	for (size_t i = 0; i < c->n_from && c->from; i++)
		free(c->from[i]);
	free(c->from);
	memset(c, 0, sizeof(*c));
}

const char *twilio_conf_from(struct twilio_conf *c)
{
	const char *f = c->from[c->next_from];

	c->next_from = (c->next_from + 1) % c->n_from;
	return f;
}

int twilio_form_add(struct buf *b, const char *name, const char *value)
{
	static const char hex[] = "0123456789ABCDEF";
	const char *parts[2] = {name, value};

	if (b->len > 0 && buf_puts(b, "&") < 0)
		return -ENOMEM;
	for (int k = 0; k < 2; k++) {
		if (k == 1 && buf_puts(b, "=") < 0)
			return -ENOMEM;
		for (const unsigned char *p = (const unsigned char *)parts[k];
		     *p; p++) {
			char esc[3] = {'%', hex[*p >> 4], hex[*p & 15]};
			bool plain = (*p >= 'A' && *p <= 'Z') ||
				     (*p >= 'a' && *p <= 'z') ||
				     (*p >= '0' && *p <= '9') || *p == '-' ||
				     *p == '_' || *p == '.' || *p == '~';

			if (plain ? buf_append(b, p, 1) < 0
				  : buf_append(b, esc, 3) < 0)
				return -ENOMEM;
		}
	}
	return 0;
}

int twilio_xml_add(struct buf *b, const char *s)
{
	for (; *s; s++) {
		const char *rep = NULL;

		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&apos;";
			break;
		default:
			break;
		}
		if (rep ? buf_puts(b, rep) < 0 : buf_append(b, s, 1) < 0)
			return -ENOMEM;
	}
	return 0;
}

enum channel_status twilio_rest_status(int http_status, bool transport_error)
{
	if (transport_error || http_status == 0 || http_status == 429 ||
	    http_status == 408 || http_status >= 500)
		return CHANNEL_TEMPFAIL;
	return CHANNEL_PERMFAIL;
}

bool twilio_conf_verify(const struct twilio_conf *c,
			const struct channel_callback *cb)
{
	for (size_t i = 0; i < c->n_prov; i++)
		if (c->prov[i].token &&
		    twilio_verify(c->prov[i].token, cb->url, cb->names,
				  cb->values, cb->n_params, cb->signature))
			return true;
	return false;
}

const char *twilio_param(const struct channel_callback *cb, const char *name)
{
	for (size_t i = 0; i < cb->n_params; i++)
		if (strcmp(cb->names[i], name) == 0)
			return cb->values[i];
	return NULL;
}

/* FNV-1a: sids are the gateway's random strings, no attacker's choice. */
static size_t hash(const char *s, size_t n)
{
	size_t h = 2166136261u;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 16777619u;
	return h % n;
}

static void send_free(struct twilio_send *s)
{
	if (s == NULL)
		return;
	if (s->timer != NULL)
		event_free(s->timer);
	free(s->sid);
	free(s->key);
	free(s->alert_id);
	free(s->org_id);
	free(s->contact_id);
	free(s->extra);
	free(s->resource);
	free(s->ctype);
	free(s->body);
	free(s);
}

static void unindex(struct twilio_table *t, struct twilio_send *s)
{
	struct twilio_send **pp;

	if (s->sid == NULL)
		return;
	for (pp = &t->buckets[hash(s->sid, t->nbuckets)]; *pp;
	     pp = &(*pp)->hnext)
		if (*pp == s) {
			*pp = s->hnext;
			return;
		}
}

/* Keeps s among the finished; the oldest beyond the limit goes. */
static void keep_finished(struct twilio_table *t, struct twilio_send *s)
{
	if (s->sid == NULL) {
		send_free(s);
		return;
	}
	s->fnext = NULL;
	if (t->fin_tail)
		t->fin_tail->fnext = s;
	else
		t->fin_head = s;
	t->fin_tail = s;
	if (++t->n_finished > TWILIO_KEEP_FINISHED) {
		struct twilio_send *old = t->fin_head;

		t->fin_head = old->fnext;
		if (t->fin_head == NULL)
			t->fin_tail = NULL;
		t->n_finished--;
		unindex(t, old);
		send_free(old);
	}
}

static void run_queue(evutil_socket_t fd, short what, void *arg)
{
	struct twilio_table *t = arg;
	struct twilio_send *s;

	(void)fd;
	(void)what;
	while ((s = t->queue) != NULL) {
		t->queue = s->qnext;
		if (t->queue == NULL)
			t->queue_tail = &t->queue;
		t->in_flight--;
		s->out.detail = s->detail;
		s->out.gateway_id = s->sid;
		s->done(s->arg, &s->out);
		keep_finished(t, s);
	}
}

int twilio_table_init(struct twilio_table *t, struct event_base *base)
{
	memset(t, 0, sizeof(*t));
	t->nbuckets = 4096;
	t->buckets = calloc(t->nbuckets, sizeof(*t->buckets));
	t->queue_tail = &t->queue;
	t->ev = event_new(base, -1, 0, run_queue, t);
	t->base = base;
	return t->buckets && t->ev ? 0 : -ENOMEM;
}

void twilio_table_fini(struct twilio_table *t)
{
	struct twilio_send *s, *next;

	/* Whatever is queued completes now, as stop's contract says. */
	if (t->ev != NULL)
		run_queue(-1, 0, t);
	while ((s = t->rest) != NULL) {
		twilio_rest_ended(t, s);
		if (s->req != NULL)
			http_client_abort(s->req);
		t->in_flight--;
		s->out = (struct channel_outcome){
			.status = CHANNEL_TEMPFAIL,
			.detail = "stopped",
			.retry_after = -1,
		};
		s->done(s->arg, &s->out);
		send_free(s);
	}
	for (size_t i = 0; t->buckets && i < t->nbuckets; i++)
		for (s = t->buckets[i]; s; s = next) {
			next = s->hnext;
			if (!s->finished) {
				s->finished = true;
				t->in_flight--;
				s->out = (struct channel_outcome){
					.status = CHANNEL_TEMPFAIL,
					.detail = "stopped",
					.gateway_id = s->sid,
					.retry_after = -1,
				};
				s->done(s->arg, &s->out);
			}
			send_free(s);
		}
	free(t->buckets);
	if (t->ev != NULL)
		event_free(t->ev);
	memset(t, 0, sizeof(*t));
}

static char *dup0(const char *s)
{
	return strdup(s ? s : "");
}

struct twilio_send *twilio_send_new(struct twilio_table *t,
				    const struct channel_message *msg,
				    channel_done_fn done, void *arg)
{
	struct twilio_send *s = calloc(1, sizeof(*s));

	if (s == NULL)
		return NULL;
	s->key = dup0(msg->key);
	s->alert_id = dup0(msg->alert_id);
	s->org_id = dup0(msg->org_id);
	s->contact_id = dup0(msg->contact_id);
	if (!s->key || !s->alert_id || !s->org_id || !s->contact_id) {
		send_free(s);
		return NULL;
	}
	s->done = done;
	s->arg = arg;
	s->owner = t;
	t->in_flight++;
	s->rnext = t->rest;
	if (t->rest)
		t->rest->rprev = s;
	t->rest = s;
	return s;
}

void twilio_send_drop(struct twilio_table *t, struct twilio_send *s)
{
	twilio_rest_ended(t, s);
	t->in_flight--;
	send_free(s);
}

void twilio_rest_ended(struct twilio_table *t, struct twilio_send *s)
{
	if (s->rprev)
		s->rprev->rnext = s->rnext;
	else if (t->rest == s)
		t->rest = s->rnext;
	if (s->rnext)
		s->rnext->rprev = s->rprev;
	s->rprev = s->rnext = NULL;
	s->req = NULL;
}

static void silent(evutil_socket_t fd, short what, void *arg)
{
	struct twilio_send *s = arg;

	(void)fd;
	(void)what;
	twilio_finish(s->owner, s, CHANNEL_TEMPFAIL, 0,
		      "no final status from the gateway", -1);
}

int twilio_send_arm(struct twilio_table *t, struct twilio_send *s, int seconds)
{
	struct timeval tv = {seconds, 0};

	if (s->timer == NULL)
		s->timer = evtimer_new(t->base, silent, s);
	if (s->timer == NULL)
		return -ENOMEM;
	return evtimer_add(s->timer, &tv) == 0 ? 0 : -ENOMEM;
}

void twilio_table_index(struct twilio_table *t, struct twilio_send *s)
{
	size_t h = hash(s->sid, t->nbuckets);

	s->hnext = t->buckets[h];
	t->buckets[h] = s;
}

struct twilio_send *twilio_table_find(struct twilio_table *t, const char *sid)
{
	if (sid == NULL || t->buckets == NULL)
		return NULL;
	for (struct twilio_send *s = t->buckets[hash(sid, t->nbuckets)]; s;
	     s = s->hnext)
		if (s->sid && strcmp(s->sid, sid) == 0)
			return s;
	return NULL;
}

void twilio_finish(struct twilio_table *t, struct twilio_send *s,
		   enum channel_status status, int code, const char *detail,
		   int retry_after)
{
	if (s->finished)
		return;
	s->finished = true;
	if (s->timer != NULL)
		event_del(s->timer);
	s->out = (struct channel_outcome){
		.status = status,
		.code = code,
		.retry_after = retry_after,
	};
	/* A handover shows in the outcome, and so in the timeline. */
	snprintf(s->detail, sizeof(s->detail), "%s%s%s%s", detail ? detail : "",
		 s->via[0] ? " (" : "", s->via, s->via[0] ? ")" : "");
	/* The gateway's words may be cut inside a character, here or by
	   the driver before: the detail is stored and served as UTF-8. */
	s->detail[utf8_prefix(s->detail, strlen(s->detail), SIZE_MAX)] = '\0';
	s->qnext = NULL;
	*t->queue_tail = s;
	t->queue_tail = &s->qnext;
	event_active(t->ev, 0, 0);
}

void twilio_finish_sid(struct twilio_table *t, const char *sid,
		       enum channel_status status, int code, const char *detail)
{
	struct twilio_send *s = twilio_table_find(t, sid);
	size_t n = sizeof(t->early) / sizeof(t->early[0]), i;

	if (s != NULL) {
		twilio_finish(t, s, status, code, detail, -1);
		return;
	}
	if (strlen(sid) >= sizeof(t->early[0].sid))
		return;
	for (i = 0; i < n; i++)
		if (strcmp(t->early[i].sid, sid) == 0)
			return; /* the first final status stands */
	i = t->next_early++ % n;
	snprintf(t->early[i].sid, sizeof(t->early[i].sid), "%s", sid);
	t->early[i].status = status;
	t->early[i].code = code;
	snprintf(t->early[i].detail, sizeof(t->early[i].detail), "%s", detail);
	t->early[i].detail[utf8_prefix(t->early[i].detail,
				       strlen(t->early[i].detail), SIZE_MAX)] =
		'\0';
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void provider_failed(struct twilio_table *t, size_t i)
{
	struct twilio_provider *p = &t->conf->prov[i];

	p->failures++;
	/* A failed probe, or too many in a row: open (again). */
	if (p->probing || p->failures >= t->conf->breaker_failures) {
		p->open_until =
			mono_ms() + (int64_t)t->conf->breaker_open * 1000;
		p->probing = false;
	}
}

static void provider_ok(struct twilio_table *t, size_t i)
{
	struct twilio_provider *p = &t->conf->prov[i];

	p->failures = 0;
	p->open_until = 0;
	p->probing = false;
}

/*
 * The first provider s has not tried whose breaker is closed, or half
 * open without a probe out (this send becomes the probe); or -1.
 */
static int provider_pick(struct twilio_table *t, struct twilio_send *s)
{
	int64_t now = mono_ms();

	for (size_t i = 0; i < t->conf->n_prov; i++) {
		struct twilio_provider *p = &t->conf->prov[i];

		if (s->tried & (UINT64_C(1) << i))
			continue;
		if (p->open_until == 0)
			return (int)i;
		if (now >= p->open_until && !p->probing) {
			p->probing = true;
			return (int)i;
		}
	}
	return -1;
}

static int submit_to(struct twilio_table *t, struct twilio_send *s, size_t i)
{
	struct twilio_provider *p = &t->conf->prov[i];
	const char *headers[] = {s->ctype, NULL};
	struct http_request_spec spec = {.method = "POST"};
	char *url = NULL;
	int r;

	if (asprintf(&url, "%s/2010-04-01/Accounts/%s/%s", p->base_url,
		     p->account_sid, s->resource) < 0)
		return -ENOMEM;
	s->prov = i;
	s->tried |= UINT64_C(1) << i;
	spec.url = url;
	spec.headers = headers;
	spec.body = s->body;
	spec.body_len = s->body_len;
	spec.timeout_ms = t->conf->timeout * 1000;
	spec.username = p->account_sid;
	spec.password = p->token;
	r = http_client_submit(t->http, &spec, twilio_created, s, &s->req);
	free(url);
	if (r == 0 && s->rprev == NULL && t->rest != s) {
		/* Back on the REST list for stop() and cancel(). */
		s->rnext = t->rest;
		if (t->rest)
			t->rest->rprev = s;
		t->rest = s;
	}
	return r;
}

/* After a failure of s's provider: the next one, if any. 0 when sent. */
static int resubmit(struct twilio_table *t, struct twilio_send *s,
		    const char *why)
{
	size_t from = s->prov;
	int i = provider_pick(t, s);

	if (i < 0)
		return -EAGAIN;
	snprintf(s->via, sizeof(s->via), "via %s after %s: %.40s",
		 t->conf->prov[i].name, t->conf->prov[from].name, why);
	return submit_to(t, s, (size_t)i);
}

int twilio_submit(struct twilio_table *t, struct twilio_send *s,
		  const char *resource, const char *ctype, const char *body,
		  size_t len)
{
	int i;

	s->resource = strdup(resource);
	s->ctype = strdup(ctype);
	s->body = malloc(len ? len : 1);
	if (s->resource == NULL || s->ctype == NULL || s->body == NULL)
		return -ENOMEM;
	memcpy(s->body, body, len);
	s->body_len = len;
	i = provider_pick(t, s);
	if (i < 0) {
		/* Every breaker open: fail now, the engine retries later. */
		twilio_rest_ended(t, s);
		twilio_finish(t, s, CHANNEL_TEMPFAIL, 0,
			      "every provider is failing (circuit open)",
			      t->conf->breaker_open);
		return 0;
	}
	if (i > 0)
		snprintf(s->via, sizeof(s->via), "via %s: %s is failing",
			 t->conf->prov[i].name, t->conf->prov[0].name);
	return submit_to(t, s, (size_t)i);
}

/*
 * The gateway answered the REST request that creates a call or message:
 * with 201 and a sid the send waits for its status callbacks (at most
 * t->status_timeout seconds), else it ends now as the answer says.
 */
void twilio_created(void *arg, const struct http_response *res)
{
	struct twilio_send *s = arg;
	struct twilio_table *t = s->owner;
	const char *sid = NULL;
	json_t *j = NULL;
	char detail[128];

	twilio_rest_ended(t, s);
	if (res->error == HTTP_ERR_CANCELLED) {
		/* A cancelled probe proved nothing: let another probe. */
		t->conf->prov[s->prov].probing = false;
		twilio_finish(t, s, CHANNEL_CANCELLED, 0, "cancelled", -1);
		return;
	}
	if (res->error == HTTP_ERR_NONE && res->status == 201) {
		j = json_loadb(res->body, res->body_len, 0, NULL);
		sid = json_string_value(json_object_get(j, "sid"));
	}
	if (sid == NULL || sid[0] == '\0' || strlen(sid) > 64) {
		bool transport = res->error != HTTP_ERR_NONE;

		snprintf(detail, sizeof(detail), "%s",
			 transport ? (res->error_text[0] ? res->error_text
							 : "no answer")
			 : res->status == 201 ? "201 without a call sid"
					      : res->reason);
		if (res->status == 201 && sid == NULL)
			transport = true; /* malformed: try again later */
		json_decref(j);
		if (twilio_rest_status(res->status, transport) ==
		    CHANNEL_TEMPFAIL) {
			provider_failed(t, s->prov);
			if (resubmit(t, s, detail) == 0)
				return;
		}
		twilio_finish(t, s, twilio_rest_status(res->status, transport),
			      res->status, detail, res->retry_after);
		return;
	}
	provider_ok(t, s->prov);
	s->sid = strdup(sid);
	json_decref(j);
	if (s->sid == NULL) {
		twilio_finish(t, s, CHANNEL_TEMPFAIL, 201, "out of memory", -1);
		return;
	}
	twilio_table_index(t, s);
	for (size_t i = 0; i < sizeof(t->early) / sizeof(t->early[0]); i++)
		if (strcmp(t->early[i].sid, s->sid) == 0) {
			t->early[i].sid[0] = '\0';
			twilio_finish(t, s, t->early[i].status,
				      t->early[i].code, t->early[i].detail, -1);
			return;
		}
	if (twilio_send_arm(t, s, t->status_timeout) < 0)
		twilio_finish(t, s, CHANNEL_TEMPFAIL, 201, "out of memory", -1);
}
