/*
 * The web hook driver: see webhook.h. Each message becomes one signed
 * JSON POST through the shared HTTP client of the event base, so every
 * web hook channel (and the gateway drivers) share one connection cache.
 *
 * The file holds, in order: the pure pieces (secret decoding, signing,
 * JSON payload, classification of a response), the table of sends in
 * flight (an intrusive list for stop, a hash by key for cancel, so neither
 * send nor cancel ever walks everything in flight), and the driver's
 * operations.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#include "channels/channel.h"
#include "channels/http_client.h"
#include "channels/registry.h"
#include "channels/webhook.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/diag.h"
#include "common/log.h"
#include "common/tlp.h"
#include "common/utf8.h"

#define WEBHOOK_SECRET_PREFIX "whsec_"
#define WEBHOOK_DEFAULT_TIMEOUT 10	   /* seconds */
#define WEBHOOK_DEFAULT_MAX_CONNECTIONS 64 /* per host */
#define WEBHOOK_MAX_TIMEOUT 3600
#define WEBHOOK_MAX_CONNECTIONS 10000
#define WEBHOOK_MIN_BUCKETS 64

/*
 * No option here has a default: the loader merges every driver's options
 * into one channel section, keeping the first declaration of each name,
 * so a default here would become another driver's default too (and
 * theirs ours). configure() applies ours when the value is unset, which
 * holds only while no other driver gives `timeout` a default either.
 */
static const cfg_opt_t webhook_options[] = {
	CFG_STR("secret", NULL, CFGF_NODEFAULT),
	CFG_INT("timeout", 0, CFGF_NODEFAULT),
	CFG_STR("url", NULL, CFGF_NODEFAULT),
	CFG_INT("max_connections", 0, CFGF_NODEFAULT),
	/*
	 * false (unset): only public addresses and loopback; true: private
	 * and link-local too, for a receiver inside the operator's network.
	 */
	CFG_BOOL("allow_private", cfg_false, CFGF_NODEFAULT),
	CFG_END(),
};

/* One accepted send, from channel_send() to its completion. */
struct webhook_send {
	struct webhook *wh;
	struct http_request *req; /* valid until on_http_done() */
	channel_done_fn done;
	void *arg;
	bool cancelled;			 /* channel_cancel() reached it */
	TAILQ_ENTRY(webhook_send) entry; /* wh->pending */
	struct webhook_send *hnext;	 /* hash chain */
	size_t hash;
	char key[]; /* the delivery id, sent as webhook-id */
};

TAILQ_HEAD(send_list, webhook_send);

struct webhook {
	const char *name; /* the channel's name, for logs */
	uint8_t *key;	  /* MAC key from the secret; wiped on free */
	size_t keylen;
	char *url;	      /* default URL when the address has none */
	long timeout;	      /* seconds, whole request */
	long max_connections; /* per host */
	enum http_addr_policy policy; /* where sends may connect */
	struct http_client *http;     /* NULL unless started */
	struct buf payload;	      /* reused for each send's JSON */
	struct send_list pending;     /* every send not yet completed */
	size_t n_pending;
	struct webhook_send **buckets; /* by hash of key; power of two */
	size_t nbuckets;
};

/* --- pure pieces ----------------------------------------------------- */

int webhook_secret_decode(const char *secret, uint8_t **ret_key,
			  size_t *ret_len)
{
	size_t plen = strlen(WEBHOOK_SECRET_PREFIX), len = 0;
	uint8_t *key;

	if (secret == NULL || strncmp(secret, WEBHOOK_SECRET_PREFIX, plen) != 0)
		return -EINVAL;
	key = crypto_base64_decode(secret + plen, &len);
	if (key == NULL)
		return -EINVAL;
	if (len == 0) {
		free(key);
		return -EINVAL;
	}
	*ret_key = key;
	*ret_len = len;
	return 0;
}

int webhook_sign(const void *key, size_t keylen, const char *id,
		 const char *timestamp, const void *body, size_t body_len,
		 char out[WEBHOOK_SIGNATURE_SIZE])
{
	size_t idlen = strlen(id), tslen = strlen(timestamp);
	size_t len = idlen + 1 + tslen + 1 + body_len;
	uint8_t mac[SHA256_LEN];
	char small[4096], *content = small, *b64;

	/* HMAC takes one buffer: join the parts, on the stack when small. */
	if (len > sizeof(small)) {
		content = malloc(len);
		if (content == NULL)
			return -ENOMEM;
	}
	memcpy(content, id, idlen);
	content[idlen] = '.';
	memcpy(content + idlen + 1, timestamp, tslen);
	content[idlen + 1 + tslen] = '.';
	if (body_len > 0)
		memcpy(content + idlen + tslen + 2, body, body_len);
	crypto_hmac_sha256(key, keylen, content, len, mac);
	if (content != small)
		free(content);
	b64 = crypto_base64(mac, sizeof(mac));
	if (b64 == NULL)
		return -ENOMEM;
	snprintf(out, WEBHOOK_SIGNATURE_SIZE, "v1,%s", b64);
	free(b64);
	return 0;
}

/*
 * Appends s as a JSON string, or null. Input is UTF-8 already checked at
 * the door; should a byte sequence still be malformed, its high bytes
 * become U+FFFD so the payload stays valid JSON.
 */
static int json_string(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	size_t len, start = 0;
	bool valid;
	int r = 0;

	if (s == NULL)
		return buf_puts(b, "null");
	len = strlen(s);
	valid = utf8_valid(s, len, NULL);
	r |= buf_append(b, "\"", 1);
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		char u[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
		const char *esc;

		if (c == '"')
			esc = "\\\"";
		else if (c == '\\')
			esc = "\\\\";
		else if (c == '\n')
			esc = "\\n";
		else if (c == '\r')
			esc = "\\r";
		else if (c == '\t')
			esc = "\\t";
		else if (c < 0x20 || c == 0x7f)
			esc = u;
		else if (c >= 0x80 && !valid)
			esc = "\\ufffd";
		else
			continue;
		r |= buf_append(b, s + start, i - start);
		r |= buf_puts(b, esc);
		start = i + 1;
	}
	r |= buf_append(b, s + start, len - start);
	r |= buf_append(b, "\"", 1);
	return r ? -ENOMEM : 0;
}

/* Appends ,"name": then the string value (name needs no escaping). */
static int json_field(struct buf *b, const char *name, const char *value)
{
	int r = 0;

	r |= buf_append(b, ",\"", 2);
	r |= buf_puts(b, name);
	r |= buf_append(b, "\":", 2);
	r |= json_string(b, value);
	return r ? -ENOMEM : 0;
}

int webhook_render_payload(struct buf *out, const struct channel_message *msg)
{
	const char *tlp =
		(unsigned)msg->tlp <= TLP_RED ? tlp_label(msg->tlp) : NULL;
	time_t created = (time_t)msg->created_at;
	char stamp[32] = "";
	struct tm tm;
	int r = 0;

	/*
	 * The config's zone (TZ, as for the API): 2026-11-29T21:44:35+09:00.
	 * strftime's %z has no colon; RFC 3339 wants one.
	 */
	if (localtime_r(&created, &tm) != NULL &&
	    strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%S%z", &tm) == 24) {
		memmove(stamp + 23, stamp + 22, 3);
		stamp[22] = ':';
	} else {
		stamp[0] = '\0';
	}
	r |= buf_puts(out, "{\"type\":\"pocalert.alert\"");
	r |= json_field(out, "alert_id", msg->alert_id);
	r |= json_field(out, "title", msg->title);
	r |= json_field(out, "body", msg->body);
	r |= json_field(out, "alert_type", msg->type);
	r |= json_field(out, "severity", msg->severity);
	r |= json_field(out, "tlp", tlp);
	r |= buf_puts(out, msg->drill ? ",\"drill\":true" : ",\"drill\":false");
	r |= json_field(out, "kind", msg->kind ? msg->kind : "alert");
	/* The contact's language, so a receiver can pick its words. */
	r |= json_field(out, "language", msg->language ? msg->language : "ja");
	r |= buf_puts(out, ",\"organisation\":{\"id\":");
	r |= json_string(out, msg->org_id);
	r |= json_field(out, "name", msg->org_name);
	r |= buf_puts(out, "},\"contact\":{\"id\":");
	r |= json_string(out, msg->contact_id);
	r |= json_field(out, "name", msg->contact_name);
	r |= buf_puts(out, "}");
	r |= json_field(out, "ack_url", msg->ack_url);
	r |= json_field(out, "created_at", stamp[0] ? stamp : NULL);
	r |= buf_puts(out, "}");
	return r ? -ENOMEM : 0;
}

/*
 * Appends to d (NUL-terminated, size dsz) at most max bytes of the
 * response body, made safe for a log line and the timeline: control
 * characters become spaces (runs collapsed), malformed UTF-8 and C1
 * controls become '?', and a cut never splits a character.
 */
static void append_snippet(char *d, size_t dsz, const char *body, size_t len,
			   size_t max)
{
	size_t n = strlen(d), take = len < max ? len : max;
	bool valid, space = true;

	/* Step back over a character the cut would split. */
	if (take < len)
		while (take > 0 && ((unsigned char)body[take] & 0xc0) == 0x80)
			take--;
	valid = utf8_valid(body, take, NULL);
	for (size_t i = 0; i < take && n + 1 < dsz; i++) {
		unsigned char c = (unsigned char)body[i];

		if (c < 0x20 || c == 0x7f) {
			if (!space)
				d[n++] = ' ';
			space = true;
			continue;
		}
		space = false;
		if (c >= 0x80 && !valid) {
			d[n++] = '?';
		} else if (c == 0xc2 && i + 1 < take &&
			   (unsigned char)body[i + 1] < 0xa0) {
			d[n++] = '?'; /* U+0080..U+009F */
			i++;
		} else if (c >= 0xc0 && valid) {
			/* Copy a whole character or nothing. */
			size_t clen = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;

			if (n + clen >= dsz)
				break;
			memcpy(d + n, body + i, clen);
			n += clen;
			i += clen - 1;
		} else {
			d[n++] = (char)c;
		}
	}
	while (n > 0 && d[n - 1] == ' ')
		n--;
	d[n] = '\0';
}

void webhook_classify(const struct http_response *res,
		      struct channel_outcome *out, char *detail,
		      size_t detailsz)
{
	int s = res->status;
	const char *note = "";
	size_t n;

	out->code = s;
	out->detail = detail;
	out->gateway_id = NULL;
	out->retry_after = -1;
	if (s == 0) {
		/*
		 * No response: the far side may come back. A bad URL or an
		 * address the policy refuses won't.
		 */
		out->status = res->error == HTTP_ERR_URL ||
					      res->error == HTTP_ERR_REFUSED
				      ? CHANNEL_PERMFAIL
				      : CHANNEL_TEMPFAIL;
		snprintf(detail, detailsz, "%s",
			 res->error_text[0] ? res->error_text : "no response");
		return;
	}
	if (s >= 200 && s < 300) {
		out->status = CHANNEL_OK;
	} else if (s == 408 || s == 429 || s >= 500) {
		out->status = CHANNEL_TEMPFAIL;
		out->retry_after = res->retry_after;
	} else if (s == 410) {
		out->status = CHANNEL_PERMFAIL;
		note = " (endpoint gone: the receiver disabled this web hook)";
	} else if (s >= 300 && s < 400) {
		out->status = CHANNEL_PERMFAIL;
		note = " (redirects are not followed: fix the URL)";
	} else {
		out->status = CHANNEL_PERMFAIL;
	}
	snprintf(detail, detailsz, "HTTP %d%s%s%s", s,
		 res->reason[0] ? " " : "", res->reason, note);
	n = strlen(detail);
	if (res->body_len > 0 && n + 3 < detailsz) {
		memcpy(detail + n, ": ", 3);
		append_snippet(detail, detailsz, res->body, res->body_len,
			       WEBHOOK_DETAIL_BODY);
		/* A body of nothing but white space leaves a bare ": ". */
		if (strlen(detail) == n + 1)
			detail[n] = '\0';
	}
	/* The status came, but the rest of the transfer broke. */
	if (res->error != HTTP_ERR_NONE) {
		n = strlen(detail);
		snprintf(detail + n, detailsz - n, " (then: %s)",
			 res->error_text);
	}
	/* The far side's words may echo credentials: never show those. */
	http_redact_secrets(detail);
}

/* --- sends in flight ------------------------------------------------- */

static size_t key_hash(const char *key)
{
	size_t h = 14695981039346656037ULL; /* FNV-1a */

	for (; *key != '\0'; key++)
		h = (h ^ (unsigned char)*key) * 1099511628211ULL;
	return h;
}

static int table_grow(struct webhook *wh)
{
	size_t n = wh->nbuckets ? wh->nbuckets * 2 : WEBHOOK_MIN_BUCKETS;
	struct webhook_send **b = calloc(n, sizeof(*b)), *s, *next;

	if (b == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < wh->nbuckets; i++) {
		for (s = wh->buckets[i]; s != NULL; s = next) {
			next = s->hnext;
			s->hnext = b[s->hash & (n - 1)];
			b[s->hash & (n - 1)] = s;
		}
	}
	free(wh->buckets);
	wh->buckets = b;
	wh->nbuckets = n;
	return 0;
}

static void table_add(struct webhook *wh, struct webhook_send *s)
{
	struct webhook_send **head = &wh->buckets[s->hash & (wh->nbuckets - 1)];

	s->hnext = *head;
	*head = s;
	TAILQ_INSERT_TAIL(&wh->pending, s, entry);
	wh->n_pending++;
}

static void table_remove(struct webhook *wh, struct webhook_send *s)
{
	struct webhook_send **pp = &wh->buckets[s->hash & (wh->nbuckets - 1)];

	while (*pp != s)
		pp = &(*pp)->hnext;
	*pp = s->hnext;
	TAILQ_REMOVE(&wh->pending, s, entry);
	wh->n_pending--;
}

/* --- the driver ------------------------------------------------------ */

static void on_http_done(void *arg, const struct http_response *res)
{
	struct webhook_send *s = arg;
	struct webhook *wh = s->wh;
	struct channel_outcome out;
	char detail[512];

	table_remove(wh, s);
	if (res->error == HTTP_ERR_CANCELLED) {
		out = (struct channel_outcome){
			.status = CHANNEL_CANCELLED,
			.detail = "cancelled",
			.retry_after = -1,
		};
	} else {
		webhook_classify(res, &out, detail, sizeof(detail));
	}
	if (out.status != CHANNEL_OK && out.status != CHANNEL_CANCELLED)
		log_debug("webhook %s: %s: %s", wh->name, s->key, out.detail);
	s->done(s->arg, &out);
	free(s);
}

static bool url_ok(const char *url)
{
	return strncmp(url, "http://", 7) == 0 ||
	       strncmp(url, "https://", 8) == 0;
}

/* The id goes into a header: printable ASCII without spaces only. */
static bool key_ok(const char *key)
{
	size_t n = 0;

	if (key == NULL || key[0] == '\0')
		return false;
	for (; key[n] != '\0'; n++)
		if (key[n] <= 0x20 || key[n] >= 0x7f || n >= WEBHOOK_KEY_MAX)
			return false;
	return true;
}

static int webhook_configure(struct channel *ch, cfg_t *sec, const char *file,
			     struct diag_list *diags)
{
	struct webhook *wh;
	const char *secret, *url;
	int r = 0;

	wh = calloc(1, sizeof(*wh));
	if (wh == NULL)
		return -ENOMEM;
	ch->priv = wh;
	wh->name = ch->name;
	TAILQ_INIT(&wh->pending);
	if (table_grow(wh) < 0)
		return -ENOMEM;

	secret = cfg_getstr(sec, "secret");
	if (secret == NULL || secret[0] == '\0') {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": the webhook driver needs a secret "
			 "(\"whsec_\" and base64)",
			 ch->name);
		r = -EINVAL;
	} else if (webhook_secret_decode(secret, &wh->key, &wh->keylen) < 0) {
		/* Never quote the secret itself. */
		diag_add(
			diags, file, sec->line,
			"channel \"%s\": secret must be \"whsec_\" followed by "
			"base64",
			ch->name);
		r = -EINVAL;
	}

	wh->timeout = cfg_size(sec, "timeout") > 0 ? cfg_getint(sec, "timeout")
						   : WEBHOOK_DEFAULT_TIMEOUT;
	if (wh->timeout < 1 || wh->timeout > WEBHOOK_MAX_TIMEOUT) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": timeout must be 1 to %d seconds, "
			 "not %ld",
			 ch->name, WEBHOOK_MAX_TIMEOUT, wh->timeout);
		r = -EINVAL;
	}

	wh->max_connections = cfg_size(sec, "max_connections") > 0
				      ? cfg_getint(sec, "max_connections")
				      : WEBHOOK_DEFAULT_MAX_CONNECTIONS;
	if (wh->max_connections < 1 ||
	    wh->max_connections > WEBHOOK_MAX_CONNECTIONS) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": max_connections must be 1 to %d, "
			 "not %ld",
			 ch->name, WEBHOOK_MAX_CONNECTIONS,
			 wh->max_connections);
		r = -EINVAL;
	}

	wh->policy = cfg_size(sec, "allow_private") > 0 &&
				     cfg_getbool(sec, "allow_private")
			     ? HTTP_ADDR_PRIVATE_OK
			     : HTTP_ADDR_PUBLIC;

	url = cfg_getstr(sec, "url");
	if (url != NULL && url[0] != '\0') {
		char why[200];

		if (!url_ok(url)) {
			diag_add(diags, file, sec->line,
				 "channel \"%s\": url must start with http:// "
				 "or https://",
				 ch->name);
			r = -EINVAL;
		} else if (http_url_check(url, wh->policy, why, sizeof(why)) <
			   0) {
			diag_add(diags, file, sec->line,
				 "channel \"%s\": url %s", ch->name, why);
			r = -EINVAL;
		} else if ((wh->url = strdup(url)) == NULL) {
			return -ENOMEM;
		}
	}
	return r;
}

static int webhook_start(struct channel *ch, struct event_base *base)
{
	struct webhook *wh = ch->priv;

	if (wh == NULL || wh->key == NULL)
		return -EINVAL;
	if (wh->http != NULL)
		return 0;
	wh->http = http_client_get(base, wh->max_connections);
	return wh->http ? 0 : -ENOMEM;
}

static int webhook_send(struct channel *ch, const struct channel_message *msg,
			channel_done_fn done, void *arg)
{
	struct webhook *wh = ch->priv;
	char ts[24], sig[WEBHOOK_SIGNATURE_SIZE];
	char id_hdr[sizeof("webhook-id: ") + WEBHOOK_KEY_MAX];
	char ts_hdr[sizeof("webhook-timestamp: ") + sizeof(ts)];
	char sig_hdr[sizeof("webhook-signature: ") + sizeof(sig)];
	const char *headers[] = {
		"Content-Type: application/json", id_hdr, ts_hdr, sig_hdr, NULL,
	};
	struct http_request_spec spec = {.method = "POST"};
	struct webhook_send *s;
	size_t keylen;
	int r;

	if (wh == NULL || wh->http == NULL)
		return -ENOTCONN;
	spec.url = msg->address && msg->address[0] ? msg->address : wh->url;
	if (spec.url == NULL || !key_ok(msg->key))
		return -EINVAL;
	keylen = strlen(msg->key);

	wh->payload.len = 0;
	if (webhook_render_payload(&wh->payload, msg) < 0)
		return -ENOMEM;
	snprintf(ts, sizeof(ts), "%lld", (long long)time(NULL));
	r = webhook_sign(wh->key, wh->keylen, msg->key, ts, wh->payload.data,
			 wh->payload.len, sig);
	if (r < 0)
		return r;
	snprintf(id_hdr, sizeof(id_hdr), "webhook-id: %s", msg->key);
	snprintf(ts_hdr, sizeof(ts_hdr), "webhook-timestamp: %s", ts);
	snprintf(sig_hdr, sizeof(sig_hdr), "webhook-signature: %s", sig);

	if (wh->n_pending >= wh->nbuckets && table_grow(wh) < 0)
		return -ENOMEM;
	s = malloc(sizeof(*s) + keylen + 1);
	if (s == NULL)
		return -ENOMEM;
	*s = (struct webhook_send){
		.wh = wh,
		.done = done,
		.arg = arg,
		.hash = key_hash(msg->key),
	};
	memcpy(s->key, msg->key, keylen + 1);

	spec.headers = headers;
	spec.body = wh->payload.data;
	spec.body_len = wh->payload.len;
	spec.timeout_ms = wh->timeout * 1000;
	spec.addr_policy = wh->policy;
	/*
	 * Only the start of a failing answer is ever shown (a few bytes
	 * over, so the cut can be made at a character): an internal
	 * service's page must not end up whole in logs and the timeline.
	 */
	spec.max_response = WEBHOOK_DETAIL_BODY + 4;
	/* The client copies the payload: the scratch buffer is free again. */
	r = http_client_submit(wh->http, &spec, on_http_done, s, &s->req);
	if (r < 0) {
		free(s);
		return r;
	}
	table_add(wh, s);
	return 0;
}

static void webhook_cancel(struct channel *ch, const char *key)
{
	struct webhook *wh = ch->priv;
	struct webhook_send *s;
	size_t h;

	if (wh == NULL || wh->nbuckets == 0 || key == NULL)
		return;
	h = key_hash(key);
	for (s = wh->buckets[h & (wh->nbuckets - 1)]; s != NULL; s = s->hnext) {
		if (s->hash != h || s->cancelled || strcmp(s->key, key) != 0)
			continue;
		/* The completion comes from the client, on the loop. */
		s->cancelled = true;
		http_client_cancel(s->req);
	}
}

static size_t webhook_in_flight(struct channel *ch)
{
	struct webhook *wh = ch->priv;

	return wh ? wh->n_pending : 0;
}

static void webhook_stop(struct channel *ch)
{
	struct webhook *wh = ch->priv;
	struct http_client *http;
	struct webhook_send *s;

	if (wh == NULL)
		return;
	/* From here sends are refused, even from inside a completion. */
	http = wh->http;
	wh->http = NULL;
	while ((s = TAILQ_FIRST(&wh->pending)) != NULL) {
		struct channel_outcome out = {
			.status = s->cancelled ? CHANNEL_CANCELLED
					       : CHANNEL_TEMPFAIL,
			.detail = s->cancelled ? "cancelled" : "stopped",
			.retry_after = -1,
		};

		table_remove(wh, s);
		http_client_abort(s->req);
		s->done(s->arg, &out);
		free(s);
	}
	http_client_put(http);
}

static void webhook_free(struct channel *ch)
{
	struct webhook *wh = ch->priv;

	if (wh == NULL)
		return;
	if (wh->http != NULL)
		webhook_stop(ch);
	if (wh->key != NULL) {
		explicit_bzero(wh->key, wh->keylen);
		free(wh->key);
	}
	free(wh->url);
	buf_free(&wh->payload);
	free(wh->buckets);
	free(wh);
	ch->priv = NULL;
}

const struct channel_driver webhook_driver = {
	.version = CHANNEL_DRIVER_VERSION,
	.name = "webhook",
	.options = webhook_options,
	.configure = webhook_configure,
	.start = webhook_start,
	.send = webhook_send,
	.cancel = webhook_cancel,
	.in_flight = webhook_in_flight,
	.stop = webhook_stop,
	.free = webhook_free,
};
