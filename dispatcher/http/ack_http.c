/*
 * The reply links over HTTP: see ack_http.h. In order: the state (rate
 * limiter, answers waiting for the disk), the small pieces every request
 * needs (token check, user agent, headers, pages), the form parser
 * and its validation, GET, POST with its deferred reply, and the entry
 * point.
 *
 * A POST is answered only once the engine's completion says the answer
 * is on disk: the request is kept in a struct ack_pending until then.
 * Two things may happen to it meanwhile. The server may be freed
 * (shutdown): ack_http_free() lets go of every waiting request, which
 * evhttp frees with its connection. Or evhttp may free the connection
 * (evhttp_free(), an error): the connection's close callback says so,
 * and whether the request went with it. Either way the completion, when
 * it comes, finds nothing to send to and only frees its own state.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/queue.h>
#include <time.h>

#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "common/crypto.h"
#include "common/log.h"
#include "common/utf8.h"
#include "dispatcher/http/ack_http.h"
#include "dispatcher/http/ack_page.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/http/http_conn.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/http/ratelimit.h"
#include "common/timefmt.h"

#define ACK_TOKEN_MAX 64
/*
 * Looked up in place of a malformed token, so that a malformed token
 * costs what a wrong one does. Never a real token: zeros are not in the
 * base32 alphabet, and 26 characters is no base64url length of 128 or
 * 256 bits.
 */
#define ACK_DUMMY_TOKEN "00000000000000000000000000"
#define ACK_UA_MAX 256
#define ACK_HTML "text/html; charset=utf-8"
#define ACK_CSP                                                                \
	"default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; "  \
	"frame-ancestors 'none'"
#define ACK_FORM_TYPE "application/x-www-form-urlencoded"

/* One POST waiting for the engine to say its answer is on disk. */
struct ack_pending {
	LIST_ENTRY(ack_pending) link;	 /* in owner->pending */
	struct ack_http *owner;		 /* NULL once the server let go */
	struct http_conns *conns;	 /* who holds evcon's close callback */
	struct evhttp_request *req;	 /* NULL once it is not ours to use */
	struct evhttp_connection *evcon; /* whose close callback is ours */
	char *token;			 /* owned */
	struct ack_view view;		 /* owned; what the page shows */
	struct ack_form sent;		 /* owned strings; the answer */
};

/*
 * Two budgets, so that nobody can spend a recipient's: every token has
 * its own bucket, used only by requests that carry it, and each client
 * address has one more for the tokens that turn out unknown. Junk from
 * a shared address (a proxy, a carrier's NAT) empties only the latter.
 */
struct ack_http {
	struct ratelimit *rl;	    /* owned; unknown tokens per address */
	struct ratelimit *rl_token; /* owned; per token */
	LIST_HEAD(, ack_pending) pending;
};

int ack_http_new(struct ack_http **ret)
{
	struct ack_http *a = calloc(1, sizeof(*a));
	int r;

	if (a == NULL)
		return -ENOMEM;
	r = ratelimit_new(ACK_RATE_ENTRIES, &a->rl);
	if (r == 0)
		r = ratelimit_new(ACK_RATE_ENTRIES, &a->rl_token);
	if (r < 0) {
		ratelimit_free(a->rl);
		free(a);
		return r;
	}
	LIST_INIT(&a->pending);
	*ret = a;
	return 0;
}

static void pending_free(struct ack_pending *p)
{
	free(p->token);
	ack_view_free(&p->view);
	free((char *)p->sent.response);
	free((char *)p->sent.name);
	free((char *)p->sent.comment);
	free(p);
}

void ack_http_free(struct ack_http *a)
{
	struct ack_pending *p;

	if (a == NULL)
		return;
	while ((p = LIST_FIRST(&a->pending)) != NULL) {
		LIST_REMOVE(p, link);
		p->owner = NULL;
		if (p->evcon != NULL) {
			/* evhttp_free() frees it with its connection. */
			http_conns_set_closecb(p->conns, p->evcon, NULL, NULL);
			p->evcon = NULL;
		} else if (p->req != NULL) {
			/* Detached from a dead connection: nobody else will. */
			evhttp_request_free(p->req);
		}
		p->req = NULL;
	}
	ratelimit_free(a->rl);
	ratelimit_free(a->rl_token);
	free(a);
}

/* ---- pieces ---- */

/*
 * Decodes the raw path rest into a token of 1 to 64 characters of
 * [A-Za-z0-9_-]. Returns true and fills out, or false for anything else.
 */
static bool token_parse(const char *raw, char out[ACK_TOKEN_MAX + 1])
{
	size_t len = 0;
	char *dec;
	bool ok;

	/* Bound the work before decoding: "%41" is at most 3 per char. */
	if (raw == NULL || strlen(raw) > 3 * ACK_TOKEN_MAX)
		return false;
	dec = evhttp_uridecode(raw, 0, &len);
	if (dec == NULL)
		return false;
	ok = len >= 1 && len <= ACK_TOKEN_MAX && strlen(dec) == len &&
	     strspn(dec, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
			 "0123456789_-") == len;
	if (ok)
		memcpy(out, dec, len + 1);
	free(dec);
	return ok;
}

/*
 * The User-Agent, for the timeline: at most ACK_UA_MAX bytes cut at a
 * character boundary, and nothing when it is not clean UTF-8 text.
 */
static const char *user_agent(struct evhttp_request *req,
			      char out[ACK_UA_MAX + 1])
{
	const char *ua = evhttp_find_header(
		evhttp_request_get_input_headers(req), "User-Agent");
	size_t len;

	if (ua == NULL)
		return NULL;
	len = strlen(ua);
	if (len > ACK_UA_MAX) {
		len = ACK_UA_MAX;
		while (len > 0 && ((unsigned char)ua[len] & 0xc0) == 0x80)
			len--;
	}
	if (!utf8_valid(ua, len, NULL) || utf8_has_control(ua, len))
		return NULL;
	memcpy(out, ua, len);
	out[len] = '\0';
	return out;
}

/* Monotonic milliseconds, for the rate limiter. */
static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The headers of every reply-link page, whatever its status. */
static void page_headers(struct evhttp_request *req)
{
	struct evkeyvalq *h = evhttp_request_get_output_headers(req);

	evhttp_add_header(h, "Content-Security-Policy", ACK_CSP);
	evhttp_add_header(h, "Referrer-Policy", "no-referrer");
	evhttp_add_header(h, "X-Frame-Options", "DENY");
	/* Content-Type, Cache-Control: no-store and nosniff: the server's. */
}

/* Takes a rendered page (rc from ack_page_*) as the reply. */
static void page_reply(struct api_reply *out, int status, int rc)
{
	if (rc < 0) {
		buf_free(&out->body);
		api_reply_text(out, 500, "text/plain; charset=utf-8",
			       "out of memory\n");
		return;
	}
	out->status = status;
	out->content_type = ACK_HTML;
}

static void error_page(struct api_reply *out, int status)
{
	buf_free(&out->body);
	page_reply(out, status, ack_page_error(&out->body, status));
}

static bool rate_ok(struct api_request *r, struct api_reply *out,
		    const uint8_t *key);

/*
 * The 404 of a token nobody holds, paid from the client address's
 * budget for unknown tokens: once that is spent, 429.
 */
static void not_found(struct api_request *r, struct api_reply *out)
{
	if (rate_ok(r, out, NULL))
		error_page(out, 404);
}

static void form_page(struct api_reply *out, int status,
		      const struct ack_view *v, const char *token,
		      const struct ack_message *err, const struct ack_form *f)
{
	buf_free(&out->body);
	page_reply(out, status, ack_page_form(&out->body, v, token, err, f));
}

/*
 * Takes one from a bucket at the engine's current rate (burst twice the
 * rate): the one keyed by key in rl_token when key is not NULL, else
 * the client address's in rl. Returns true to go on, or false after a
 * 429.
 */
static bool rate_ok(struct api_request *r, struct api_reply *out,
		    const uint8_t *key)
{
	double rate = engine_ack_rate_limit(r->engine);
	struct ratelimit *rl = key ? r->ack->rl_token : r->ack->rl;
	unsigned retry = 1;
	bool ok;
	char s[16];

	ratelimit_set(rl, rate, 2 * rate);
	ok = key ? ratelimit_take_key(rl, key, mono_ms(), &retry)
		 : ratelimit_take(rl, r->client, mono_ms(), &retry);
	if (ok)
		return true;
	snprintf(s, sizeof(s), "%u", retry);
	evhttp_add_header(evhttp_request_get_output_headers(r->req),
			  "Retry-After", s);
	error_page(out, 429);
	return false;
}

/* ---- the form ---- */

static const struct ack_message msg_response = {
	"状況を4つの中から1つ選んでください。",
	"Choose one of the four answers about your situation."};
static const struct ack_message msg_name = {
	"お名前は100文字以内で、1行で入力してください。",
	"Your name must be one line of at most 100 characters."};
static const struct ack_message msg_comment = {
	"コメントは2000文字以内で入力してください。制御文字は使えません。",
	"The comment must be at most 2000 characters, without control "
	"characters."};
static const struct ack_message msg_encoding = {
	"送信内容を読み取れませんでした。もう一度送信してください。",
	"The form could not be read. Please send it again."};
static const struct ack_message msg_not_recorded = {
	"回答を記録できませんでした。しばらく待ってから、もう一度送信してください"
	"。",
	"Your answer could not be recorded. Wait a moment, then send it "
	"again."};

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Decodes one application/x-www-form-urlencoded piece ('+' is a space,
 * %HH a byte) into a malloc'd string; *ret_len gets its length, which
 * is shorter than strlen's when it holds a NUL. NULL for a bad %.
 */
static char *form_decode(const char *s, size_t len, size_t *ret_len)
{
	char *out = malloc(len + 1);
	size_t n = 0;

	if (out == NULL)
		return NULL;
	for (size_t i = 0; i < len; i++) {
		if (s[i] == '+') {
			out[n++] = ' ';
		} else if (s[i] == '%') {
			int hi = len - i >= 3 ? hexval(s[i + 1]) : -1;
			int lo = len - i >= 3 ? hexval(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				free(out);
				return NULL;
			}
			out[n++] = (char)(hi * 16 + lo);
			i += 2;
		} else {
			out[n++] = s[i];
		}
	}
	out[n] = '\0';
	*ret_len = n;
	return out;
}

/* The three fields of the form as sent, decoded; unknown fields ignored. */
struct form_in {
	char *value[3]; /* response, name, comment; owned, or NULL */
	size_t len[3];
};

static const char *const form_names[3] = {"response", "name", "comment"};

static void form_in_free(struct form_in *f)
{
	for (int i = 0; i < 3; i++)
		free(f->value[i]);
}

/*
 * Parses body into f (f's strings are the caller's, form_in_free(), also
 * after a failure). Returns 0, or -EINVAL for a bad encoding, a field
 * given twice or no memory: each means the form could not be read.
 */
static int form_parse(const char *body, size_t len, struct form_in *f)
{
	size_t i = 0;

	memset(f, 0, sizeof(*f));
	while (i < len) {
		const char *pair = body + i, *amp, *eq;
		size_t plen, klen;
		char *key;
		int which = -1;

		amp = memchr(pair, '&', len - i);
		plen = amp ? (size_t)(amp - pair) : len - i;
		i += plen + 1;
		if (plen == 0)
			continue;
		eq = memchr(pair, '=', plen);
		klen = eq ? (size_t)(eq - pair) : plen;
		key = form_decode(pair, klen, &klen);
		if (key == NULL)
			return -EINVAL;
		for (int k = 0; k < 3; k++)
			if (strlen(key) == klen &&
			    strcmp(key, form_names[k]) == 0)
				which = k;
		free(key);
		if (which < 0)
			continue;
		if (f->value[which] != NULL)
			return -EINVAL;
		f->value[which] =
			eq ? form_decode(eq + 1, plen - (size_t)(eq + 1 - pair),
					 &f->len[which])
			   : strdup("");
		if (f->value[which] == NULL)
			return -EINVAL;
	}
	return 0;
}

static bool ascii_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* U+3000, the space of Japanese input methods, in UTF-8. */
#define IDEOGRAPHIC_SPACE "\xE3\x80\x80"

/* Trims white space (with the ideographic space) from both ends. */
static void trim(char *s, size_t *len)
{
	size_t start = 0;

	for (;;) {
		if (start < *len && ascii_space(s[start]))
			start++;
		else if (*len - start >= 3 &&
			 memcmp(s + start, IDEOGRAPHIC_SPACE, 3) == 0)
			start += 3;
		else
			break;
	}
	while (*len > start) {
		if (ascii_space(s[*len - 1]))
			(*len)--;
		else if (*len - start >= 3 &&
			 memcmp(s + *len - 3, IDEOGRAPHIC_SPACE, 3) == 0)
			*len -= 3;
		else
			break;
	}
	memmove(s, s + start, *len - start);
	*len -= start;
	s[*len] = '\0';
}

/* CRLF and lone CR become LF, as a textarea's lines are sent with CRLF. */
static void newlines(char *s, size_t *len)
{
	size_t n = 0;

	for (size_t i = 0; i < *len; i++) {
		if (s[i] == '\r') {
			s[n++] = '\n';
			if (i + 1 < *len && s[i + 1] == '\n')
				i++;
		} else {
			s[n++] = s[i];
		}
	}
	*len = n;
	s[n] = '\0';
}

/* A control character other than newline and tab (C0, DEL, C1)? */
static bool comment_has_control(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f)
			return true;
		/* U+0080..U+009F are C2 80..C2 9F in valid UTF-8. */
		if (c == 0xc2 && i + 1 < len &&
		    (unsigned char)s[i + 1] >= 0x80 &&
		    (unsigned char)s[i + 1] <= 0x9f)
			return true;
	}
	return false;
}

/*
 * Checks the decoded form and fills sent with its fields (pointing into
 * f; an empty name or comment becomes NULL). Returns NULL when it is
 * good, else the message for the page. Fields that are valid text are
 * kept in sent even then, so that the form shows them again.
 */
static const struct ack_message *form_check(struct form_in *f,
					    struct ack_form *sent)
{
	const struct ack_message *bad = NULL;
	char *resp = f->value[0], *name = f->value[1], *comment = f->value[2];

	memset(sent, 0, sizeof(*sent));
	/* Text that is not UTF-8 or holds a NUL is not shown again. */
	if (name != NULL && !utf8_valid(name, f->len[1], NULL)) {
		bad = &msg_encoding;
	} else if (name != NULL && strlen(name) != f->len[1]) {
		bad = &msg_name;
	} else if (name != NULL) {
		trim(name, &f->len[1]);
		if (utf8_has_control(name, f->len[1]) ||
		    utf8_length(name, f->len[1]) > ACK_NAME_MAX)
			bad = &msg_name;
		sent->name = f->len[1] ? name : NULL;
	}
	if (comment != NULL && !utf8_valid(comment, f->len[2], NULL)) {
		bad = bad ? bad : &msg_encoding;
	} else if (comment != NULL && strlen(comment) != f->len[2]) {
		bad = bad ? bad : &msg_comment;
	} else if (comment != NULL) {
		newlines(comment, &f->len[2]);
		trim(comment, &f->len[2]);
		if (comment_has_control(comment, f->len[2]) ||
		    utf8_length(comment, f->len[2]) > ACK_COMMENT_MAX)
			bad = bad ? bad : &msg_comment;
		sent->comment = f->len[2] ? comment : NULL;
	}
	/* The answer first on the page: the one thing that must be there. */
	if (resp == NULL || strlen(resp) != f->len[0] ||
	    !ack_response_valid(resp))
		return &msg_response;
	sent->response = resp;
	return bad;
}

/* ---- GET ---- */

/*
 * Looks the token up, malformed or not, with the same engine work.
 * Returns 0 with *v filled, -ENOENT, or another -errno.
 */
static int view(struct api_request *r, const char *token, bool well_formed,
		bool record_open, const char *addr, const char *ua,
		struct ack_view *v)
{
	int rc;

	memset(v, 0, sizeof(*v));
	rc = engine_ack_view(r->engine, well_formed ? token : ACK_DUMMY_TOKEN,
			     record_open, addr, ua, v);
	if (rc == 0 && !well_formed) {
		ack_view_free(v);
		memset(v, 0, sizeof(*v));
		rc = -ENOENT;
	}
	return rc;
}

static void ack_get(struct api_request *r, struct api_reply *out,
		    const char *token, bool well_formed, const char *addr,
		    const char *ua)
{
	/* A HEAD shows nothing to anyone: it is not an opening. */
	bool open = evhttp_request_get_command(r->req) == EVHTTP_REQ_GET;
	struct ack_view v;
	int rc = view(r, token, well_formed, open, addr, ua, &v);

	if (rc == -ENOENT) {
		not_found(r, out);
		return;
	}
	if (rc < 0) {
		log_warnx("ack: cannot read a reply link: %s", strerror(-rc));
		error_page(out, 500);
		return;
	}
	form_page(out, 200, &v, token, NULL, NULL);
	ack_view_free(&v);
}

/* ---- POST ---- */

/* "application/x-www-form-urlencoded", with no charset but UTF-8. */
static bool is_form(const char *ct)
{
	size_t n = strlen(ACK_FORM_TYPE);
	const char *cs;

	if (ct == NULL)
		return false;
	ct += strspn(ct, " \t");
	if (strncasecmp(ct, ACK_FORM_TYPE, n) != 0)
		return false;
	ct += n;
	ct += strspn(ct, " \t");
	if (*ct == '\0')
		return true;
	if (*ct != ';')
		return false;
	cs = strcasestr(ct, "charset=");
	if (cs == NULL)
		return true;
	cs += strlen("charset=");
	if (*cs == '"')
		cs++;
	/* strchr() finds the terminator too: "utf-8" at the very end. */
	return strncasecmp(cs, "utf-8", 5) == 0 &&
	       strchr("\"; \t", cs[5]) != NULL;
}

/* The engine's completion: the answer is on disk (0), or not. */
static void ack_done(void *arg, int result)
{
	struct ack_pending *p = arg;
	struct api_reply out = {0};

	if (p->owner != NULL)
		LIST_REMOVE(p, link);
	if (result < 0)
		log_warnx("ack: an answer for alert %s (%s) was not recorded: "
			  "%s",
			  p->view.alert_id, p->view.org_id, strerror(-result));
	if (p->req != NULL) {
		if (p->evcon != NULL)
			http_conns_set_closecb(p->conns, p->evcon, NULL, NULL);
		if (result == 0)
			page_reply(&out, 200,
				   ack_page_confirmed(&out.body, &p->view,
						      p->token, &p->sent,
						      time_now_ms(),
						      p->view.confirmed_at));
		else if (result == -EIO) {
			/*
			 * The store cannot commit now (a full disk, a lock):
			 * the answer stays queued and is written when it can;
			 * the person is told at once to try again shortly.
			 */
			evhttp_add_header(
				evhttp_request_get_output_headers(p->req),
				"Retry-After", "30");
			form_page(&out, 503, &p->view, p->token,
				  &msg_not_recorded, &p->sent);
		} else
			form_page(&out, 500, &p->view, p->token,
				  &msg_not_recorded, &p->sent);
		/*
		 * The page's own headers went onto req when it came in
		 * (ack_http_handle()): adding them here again sent each
		 * twice.
		 */
		http_server_reply(p->req, &out);
	}
	pending_free(p);
}

/*
 * evhttp is freeing the connection of a waiting POST. The request goes
 * with it unless evhttp detached it first (a dead peer): then it lives
 * on until we reply, which frees it.
 */
static void ack_closed(struct evhttp_connection *evcon, void *arg)
{
	struct ack_pending *p = arg;

	if (p->req != NULL && evhttp_request_get_connection(p->req) == evcon)
		p->req = NULL;
	p->evcon = NULL;
}

/*
 * Hands the checked answer to the engine and waits for its completion;
 * v moves into the waiting state. Sets out->deferred, or answers now
 * when the engine refuses.
 */
static void ack_confirm(struct api_request *r, struct api_reply *out,
			const char *token, struct ack_view *v,
			const struct ack_form *sent, const char *addr,
			const char *ua)
{
	struct ack_pending *p = calloc(1, sizeof(*p));
	int rc;

	if (p == NULL || (p->token = strdup(token)) == NULL ||
	    (p->sent.response = strdup(sent->response)) == NULL ||
	    (sent->name && (p->sent.name = strdup(sent->name)) == NULL) ||
	    (sent->comment &&
	     (p->sent.comment = strdup(sent->comment)) == NULL)) {
		if (p != NULL)
			pending_free(p);
		ack_view_free(v);
		error_page(out, 500);
		return;
	}
	p->view = *v;
	memset(v, 0, sizeof(*v));
	rc = engine_ack_confirm(r->engine, token, p->sent.response,
				p->sent.name, p->sent.comment, addr, ua,
				ack_done, p);
	if (rc < 0) {
		if (rc == -ENOENT)
			error_page(out, 404);
		else if (rc == -EINVAL)
			form_page(out, 400, &p->view, token, &msg_response,
				  &p->sent);
		else
			form_page(out, 500, &p->view, token, &msg_not_recorded,
				  &p->sent);
		if (rc != -ENOENT && rc != -EINVAL)
			log_warnx("ack: cannot record an answer for alert %s: "
				  "%s",
				  p->view.alert_id, strerror(-rc));
		pending_free(p);
		return;
	}
	/* From here on the completion owns p, and p the request. */
	p->req = r->req;
	p->evcon = evhttp_request_get_connection(r->req);
	p->owner = r->ack;
	p->conns = r->conns;
	LIST_INSERT_HEAD(&r->ack->pending, p, link);
	if (p->evcon != NULL)
		http_conns_set_closecb(p->conns, p->evcon, ack_closed, p);
	out->deferred = true;
}

static void ack_post(struct api_request *r, struct api_reply *out,
		     const char *token, bool well_formed, const char *addr,
		     const char *ua)
{
	const char *ct = evhttp_find_header(
		evhttp_request_get_input_headers(r->req), "Content-Type");
	const struct ack_message *bad;
	struct form_in f;
	struct ack_form sent;
	struct ack_view v;
	int rc = view(r, token, well_formed, false, addr, ua, &v);

	if (rc == -ENOENT) {
		not_found(r, out);
		return;
	}
	if (rc < 0) {
		log_warnx("ack: cannot read a reply link: %s", strerror(-rc));
		error_page(out, 500);
		return;
	}
	if (!is_form(ct)) {
		error_page(out, 415);
		goto out;
	}
	if (r->body_len > ACK_MAX_BODY) {
		error_page(out, 413);
		goto out;
	}
	rc = form_parse(r->body, r->body_len, &f);
	bad = rc < 0 ? &msg_encoding : form_check(&f, &sent);
	if (rc < 0)
		memset(&sent, 0, sizeof(sent));
	if (bad != NULL)
		form_page(out, 400, &v, token, bad, &sent);
	else
		ack_confirm(r, out, token, &v, &sent, addr, ua);
	form_in_free(&f);
out:
	ack_view_free(&v);
}

/* ---- entry ---- */

void ack_http_handle(struct api_request *r, struct api_reply *out)
{
	char token[ACK_TOKEN_MAX + 1], uabuf[ACK_UA_MAX + 1];
	const char *addr = r->client ? r->client : "unknown";
	const char *ua = user_agent(r->req, uabuf);
	bool well_formed = token_parse(r->params[0], token);
	uint8_t key[SHA256_LEN];

	page_headers(r->req);
	/*
	 * The link's own budget first, keyed by the path as sent (a
	 * malformed one too): a recipient's link stays usable whatever
	 * others send from the same address.
	 */
	crypto_sha256(r->params[0] ? r->params[0] : "",
		      r->params[0] ? strlen(r->params[0]) : 0, key);
	if (!rate_ok(r, out, key))
		return;
	if (!well_formed)
		token[0] = '\0';
	if (r->method == EVHTTP_REQ_POST)
		ack_post(r, out, token, well_formed, addr, ua);
	else
		ack_get(r, out, token, well_formed, addr, ua);
}
