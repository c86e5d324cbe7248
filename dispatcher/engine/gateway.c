/*
 * Gateway callbacks in the engine: see gateway.h. The driver reads the
 * callback (and completes its own send when a status ends it), so what
 * is left here is the alert's side: a timeline event naming the
 * delivery, a keypress confirmation through engine_ack_confirm() with
 * the contact's own reply-link token (so it is the same event, the same
 * durability and the same idempotency as a reply-link POST), and an SMS
 * reply, matched to a contact by the number it came from.
 *
 * Every answer to the gateway waits for the writer's commit, so a 200
 * means the callback's effect is on disk.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/engine/dircache.h"
#include "dispatcher/engine/gateway.h"
#include "dispatcher/engine/model.h"
#include "dispatcher/engine/token.h"

#define TWIML "text/xml; charset=utf-8"

/* A callback waiting for the commit before it is answered. */
struct hook_wait {
	engine_hook_done_fn done;
	void *arg;
	char *reply; /* owned */
	const char *type;
};

static void hook_committed(void *arg, int result)
{
	struct hook_wait *w = arg;

	w->done(w->arg, result, w->reply ? w->reply : "", w->type);
	free(w->reply);
	free(w);
}

/* The unsettled delivery with this key, or NULL. */
static struct rt_delivery *delivery_find(struct engine *e, const char *key)
{
	struct rt_alert *a;
	struct rt_delivery *d;

	LIST_FOREACH(a, &e->alerts, link)
	{
		LIST_FOREACH(d, &a->deliveries, alink)
		if (strcmp(d->id, key) == 0)
			return d;
	}
	return NULL;
}

static bool targeted(const struct rt_org *o, const char *contact_id)
{
	for (size_t i = 0; i < o->n_targeted; i++)
		if (strcmp(o->targeted[i], contact_id) == 0)
			return true;
	return false;
}

/* A contact whose sms or voice method is number. */
struct sender {
	const char *org_id;
	const char *contact_id;
};

/*
 * The contacts with number among their phone methods: up to max in out;
 * returns how many there are in all.
 */
static size_t senders(struct engine *e, const char *number, struct sender *out,
		      size_t max)
{
	size_t n = 0;

	if (dircache_refresh(e) < 0)
		log_warnx(
			"gateway: directory not reloaded; using the old copy");
	for (size_t i = 0; i < e->dir.n_orgs; i++) {
		const struct dir_org *o = &e->dir.orgs[i];

		for (size_t j = 0; j < o->n_contacts; j++) {
			const struct dir_contact *c = &o->contacts[j];

			for (size_t k = 0; k < c->n_methods; k++) {
				const struct dir_method *m = &c->methods[k];

				if (m->channel != DIR_CHANNEL_SMS &&
				    m->channel != DIR_CHANNEL_VOICE)
					continue;
				if (strcmp(m->address, number) != 0)
					continue;
				if (n < max)
					out[n] = (struct sender){o->id, c->id};
				n++;
				break;
			}
		}
	}
	return n;
}

/* "1", "OK", "ok", "了解", "１", "ＯＫ", with spaces around: a yes. */
static bool reply_is_yes(const char *text)
{
	static const char *const yes[] = {"1",	  "OK", "ok",	"Ok",
					  "了解", "１", "ＯＫ", "ｏｋ"};
	const char *s = text, *end;
	size_t len;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' ||
			   end[-1] == '\r' || end[-1] == '\n'))
		end--;
	/* An ideographic space (U+3000) around the word, too. */
	while (end - s >= 3 && memcmp(end - 3, "\xe3\x80\x80", 3) == 0)
		end -= 3;
	while (end - s >= 3 && memcmp(s, "\xe3\x80\x80", 3) == 0)
		s += 3;
	len = (size_t)(end - s);
	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
		if (strlen(yes[i]) == len && memcmp(s, yes[i], len) == 0)
			return true;
	return false;
}

static void twiml_message(char *out, size_t len, const char *text)
{
	snprintf(out, len,
		 "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
		 "<Response><Message>%s</Message></Response>",
		 text);
}

/* Whether the help reply for this number and alert went out already. */
static bool help_sent_once(struct engine *e, struct rt_alert *a,
			   const char *number)
{
	char actor[96];

	/*
	 * One help reply per number and alert: the alert keeps the numbers
	 * it helped (in memory; after a restart a number may get one more),
	 * and the timeline records each help sent.
	 */
	snprintf(actor, sizeof(actor), "sms:%s", number);
	for (size_t i = 0; i < a->n_helped; i++)
		if (strcmp(a->helped[i], number) == 0)
			return true;
	{
		char *copy = strdup(number);
		char **l = realloc(a->helped, (a->n_helped + 1) * sizeof(*l));

		if (copy == NULL || l == NULL) {
			free(copy);
			if (l != NULL)
				a->helped = l;
			return true; /* out of memory: rather silence */
		}
		a->helped = l;
		l[a->n_helped++] = copy;
	}
	model_event(e, a, actor, "sms_help", NULL, NULL,
		    "reply not understood; help sent once");
	return false;
}

/*
 * An SMS from number: a yes confirms the sender's latest open alert
 * (through engine_ack_confirm, completing w); anything else gets the
 * help text, once per alert. Returns 1 when w was handed to the ack
 * path, 0 when the caller commits w itself, or -errno.
 */
static int inbound(struct engine *e, const struct channel_report *rep,
		   const char *source, struct hook_wait *w, char *reply,
		   size_t len)
{
	struct sender who[2];
	struct rt_alert *a, *best = NULL;
	struct rt_org *org = NULL;
	char tok[33], src[160];
	size_t n;
	int r;

	(void)source;
	if (rep->from == NULL || rep->text == NULL)
		return -EINVAL;
	n = senders(e, rep->from, who, 2);
	if (n == 0)
		return 0; /* a stranger: no answer at all */
	if (n > 1) {
		bool same_org = true;

		for (size_t i = 1; i < n && i < 2; i++)
			same_org &= strcmp(who[i].org_id, who[0].org_id) == 0;
		if (!same_org || n > 2) {
			twiml_message(reply, len,
				      "この番号は複数の組織で登録されています。"
				      "受領確認は返信リンクからお願いします。"
				      " / This number belongs to several "
				      "organisations: please confirm with "
				      "the reply link.");
			return 0;
		}
	}
	LIST_FOREACH(a, &e->alerts, link)
	{
		for (size_t i = 0; i < a->n_orgs; i++) {
			struct rt_org *o = &a->orgs[i];

			if (o->closed || strcmp(o->org_id, who[0].org_id) ||
			    !targeted(o, who[0].contact_id))
				continue;
			if (best == NULL || a->created_at > best->created_at) {
				best = a;
				org = o;
			}
		}
	}
	if (best == NULL)
		return 0;
	if (!reply_is_yes(rep->text)) {
		if (!help_sent_once(e, best, rep->from))
			twiml_message(reply, len,
				      "受領確認は 1 または OK と返信してくだ"
				      "さい。 / Reply 1 or OK to confirm.");
		return 0;
	}
	token_make(e, best->id, org->org_id, who[0].contact_id, tok);
	snprintf(src, sizeof(src), "sms reply from %s", rep->from);
	r = engine_ack_confirm(e, tok, "received", NULL, NULL, src, "sms",
			       hook_committed, w);
	explicit_bzero(tok, sizeof(tok));
	return r < 0 ? r : 1;
}

int engine_gateway_callback(struct engine *e, const struct engine_hook *h,
			    engine_hook_done_fn done, void *arg)
{
	struct rt_channel *c = model_channel_find(e, h->channel);
	struct channel_report rep;
	struct channel_callback cb;
	struct hook_wait *w;
	struct rt_delivery *d = NULL;
	char *url = NULL;
	int r;

	if (c == NULL || c->ch.driver == NULL)
		return -ENOENT;
	/* The URL the gateway signed: our public one, as it called it. */
	if (asprintf(&url, "%s%s", e->config->public_url, h->uri) < 0)
		return -ENOMEM;
	cb = (struct channel_callback){
		.what = h->what,
		.url = url,
		.signature = h->signature,
		.names = h->names,
		.values = h->values,
		.n_params = h->n_params,
	};
	memset(&rep, 0, sizeof(rep));
	r = channel_callback(&c->ch, &cb, &rep);
	free(url);
	if (r < 0) {
		if (r == -EPERM)
			log_warnx(
				"gateway: channel %s: a callback from %s with "
				"a bad signature, refused",
				h->channel, h->source ? h->source : "?");
		return r;
	}
	w = calloc(1, sizeof(*w));
	if (w == NULL || (w->reply = strdup(rep.reply)) == NULL) {
		free(w);
		return -ENOMEM;
	}
	w->done = done;
	w->arg = arg;
	w->type = rep.reply_type ? rep.reply_type : TWIML;
	if (rep.key != NULL)
		d = delivery_find(e, rep.key);
	if (d != NULL && rep.status != NULL)
		model_event(e, d->alert, "gateway", "gateway_status",
			    d->org->org_id, d->id, "%s %s: %s", h->channel,
			    rep.gateway_id ? rep.gateway_id : "?", rep.status);
	switch (rep.kind) {
	case CHANNEL_REPORT_CONFIRM: {
		char tok[33], src[160];

		if (rep.alert_id == NULL || rep.org_id == NULL ||
		    rep.contact_id == NULL)
			break;
		token_make(e, rep.alert_id, rep.org_id, rep.contact_id, tok);
		snprintf(src, sizeof(src), "keypress on call %s",
			 rep.gateway_id ? rep.gateway_id : "?");
		r = engine_ack_confirm(e, tok, "received", NULL, NULL, src,
				       "voice", hook_committed, w);
		explicit_bzero(tok, sizeof(tok));
		if (r == 0)
			return 0;
		log_warnx("gateway: keypress on %s not recorded: %s",
			  rep.gateway_id ? rep.gateway_id : "?", strerror(-r));
		break;
	}
	case CHANNEL_REPORT_INBOUND: {
		char reply[sizeof(rep.reply)] = "";

		r = inbound(e, &rep, h->source, w, reply, sizeof(reply));
		if (r == 1)
			return 0;
		if (r < 0) {
			free(w->reply);
			free(w);
			return r;
		}
		if (reply[0] != '\0') {
			free(w->reply);
			w->reply = strdup(reply);
		}
		break;
	}
	default:
		break;
	}
	writer_after_commit(e->writer, hook_committed, w);
	return 0;
}
