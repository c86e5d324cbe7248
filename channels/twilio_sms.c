/*
 * The twilio-sms driver: see twilio_sms.h. The body first (what fits in
 * three segments, by TLP), then the driver's operations, which share the
 * REST and callback machinery of twilio_common.c with twilio-voice, then
 * the callbacks: "status" ends a message's send, "inbound" is a reply.
 *
 * An SMS is shown on a lock screen and kept by the carrier, so above
 * AMBER it carries no content at all, only the notice and the link.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/http_client.h"
#include "channels/registry.h"
#include "channels/sms_segment.h"
#include "channels/twilio_common.h"
#include "channels/twilio_sign.h"
#include "channels/twilio_sms.h"

#define STATUS_TIMEOUT_DEFAULT 600

struct sms {
	const char *hooks_url;
	struct twilio_conf conf;
	struct twilio_table table;
	struct http_client *http; /* a reference, or NULL */
	long status_timeout;
	struct buf scratch;
};

static const cfg_opt_t sms_options[] = {
	CFG_STR("base_url", NULL, CFGF_NODEFAULT),
	CFG_STR("account_sid", NULL, CFGF_NODEFAULT),
	CFG_STR("auth_token_file", NULL, CFGF_NODEFAULT),
	TWILIO_CFG_PROVIDERS,
	CFG_STR("from", NULL, CFGF_NODEFAULT),
	CFG_INT("timeout", 0, CFGF_NODEFAULT),
	CFG_INT("status_timeout", STATUS_TIMEOUT_DEFAULT, CFGF_NONE),
	CFG_END(),
};

int twilio_sms_body(struct buf *out, const struct channel_message *m)
{
	bool ja = m->language == NULL || strcmp(m->language, "en") != 0;
	bool content = m->tlp < TLP_AMBER_STRICT;
	struct buf head = {0}, tail = {0}, whole = {0};
	const char *title = m->title ? m->title : "";
	struct sms_count c;
	const char *ell;
	size_t cap, room, cut;
	int r = -ENOMEM;

	if (m->drill && buf_puts(&head, ja ? "【訓練】" : "[DRILL] ") < 0)
		goto out;
	if (buf_printf(&head, "%s ", tlp_label(m->tlp)) < 0)
		goto out;
	if (!content) {
		if (buf_puts(&head, ja ? "緊急連絡が発出されました。詳細は"
					 "メールまたはリンクで。"
				       : "An alert was issued to you. Details "
					 "in mail or at the link.") < 0)
			goto out;
		title = "";
	} else if (buf_puts(&head, ja ? "緊急連絡: " : "Alert: ") < 0) {
		goto out;
	}
	if (m->ack_url && *m->ack_url &&
	    buf_printf(&tail, "\n%s%s",
		       ja ? "受領確認 " : "Confirm: ", m->ack_url) < 0)
		goto out;
	if (tail.data == NULL && buf_puts(&tail, "") < 0)
		goto out;
	if (buf_printf(&whole, "%s%s%s", head.data, title, tail.data) < 0)
		goto out;
	c = sms_count(whole.data);
	if (c.segments <= TWILIO_SMS_MAX_SEGMENTS) {
		r = buf_puts(out, whole.data);
		goto out;
	}
	/* Too long: the title gives way, ending in an ellipsis. */
	ell = c.encoding == SMS_UCS2 ? "…" : "...";
	cap = sms_capacity(c.encoding, TWILIO_SMS_MAX_SEGMENTS);
	room = sms_units(head.data, c.encoding) +
	       sms_units(tail.data, c.encoding) + sms_units(ell, c.encoding);
	cut = room < cap ? sms_fit(title, c.encoding, cap - room) : 0;
	r = buf_printf(out, "%s%.*s%s%s", head.data, (int)cut, title, ell,
		       tail.data);
out:
	buf_free(&head);
	buf_free(&tail);
	buf_free(&whole);
	return r < 0 ? -ENOMEM : 0;
}

static void sms_free(struct channel *ch)
{
	struct sms *s = ch->priv;

	if (s == NULL)
		return;
	twilio_conf_fini(&s->conf);
	buf_free(&s->scratch);
	free(s);
	ch->priv = NULL;
}

static int sms_configure(struct channel *ch, cfg_t *sec, const char *file,
			 struct diag_list *diags)
{
	struct sms *s = calloc(1, sizeof(*s));
	int r;

	if (s == NULL)
		return -ENOMEM;
	ch->priv = s;
	s->hooks_url = ch->hooks_url;
	r = twilio_conf_read(&s->conf, ch->name, sec, file, diags);
	s->status_timeout = cfg_getint(sec, "status_timeout");
	if (s->status_timeout < 1) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": status_timeout must be positive",
			 ch->name);
		r = r ? r : -EINVAL;
	}
	if (s->hooks_url == NULL) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": no public URL for the gateway's "
			 "callbacks",
			 ch->name);
		r = r ? r : -EINVAL;
	}
	return r;
}

static int sms_start(struct channel *ch, struct event_base *base)
{
	struct sms *s = ch->priv;

	if (s == NULL || s->conf.token == NULL)
		return -EINVAL;
	if (s->http != NULL)
		return 0;
	if (twilio_table_init(&s->table, base) < 0)
		return -ENOMEM;
	s->table.status_timeout = (int)s->status_timeout;
	s->table.conf = &s->conf;
	s->http = http_client_get(base, 64);
	s->table.http = s->http;
	return s->http ? 0 : -ENOMEM;
}

static int sms_send(struct channel *ch, const struct channel_message *msg,
		    channel_done_fn done, void *arg)
{
	struct sms *s = ch->priv;
	const char *headers[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL};
	struct buf body = {0}, status = {0};
	struct twilio_send *ts;
	int r = -ENOMEM;

	if (s == NULL || s->http == NULL)
		return -ENOTCONN;
	if (msg->address == NULL || msg->address[0] != '+')
		return -EINVAL;
	s->scratch.len = 0;
	if (buf_printf(&status, "%s/status", s->hooks_url) < 0 ||
	    twilio_sms_body(&body, msg) < 0)
		goto out;
	if (twilio_form_add(&s->scratch, "To", msg->address) < 0 ||
	    twilio_form_add(&s->scratch, "From", twilio_conf_from(&s->conf)) <
		    0 ||
	    twilio_form_add(&s->scratch, "Body", body.data) < 0 ||
	    twilio_form_add(&s->scratch, "StatusCallback", status.data) < 0)
		goto out;
	ts = twilio_send_new(&s->table, msg, done, arg);
	if (ts == NULL)
		goto out;
	r = twilio_submit(&s->table, ts, "Messages.json", headers[0],
			  s->scratch.data, s->scratch.len);
	if (r < 0)
		twilio_send_drop(&s->table, ts); /* done is never called */
out:
	buf_free(&body);
	buf_free(&status);
	return r;
}

static void sms_cancel(struct channel *ch, const char *key)
{
	struct sms *s = ch->priv;

	for (struct twilio_send *t = s ? s->table.rest : NULL; t; t = t->rnext)
		if (strcmp(t->key, key) == 0 && t->req != NULL) {
			http_client_cancel(t->req);
			return;
		}
}

static size_t sms_in_flight(struct channel *ch)
{
	struct sms *s = ch->priv;

	return s ? s->table.in_flight : 0;
}

static void sms_stop(struct channel *ch)
{
	struct sms *s = ch->priv;

	if (s == NULL)
		return;
	twilio_table_fini(&s->table);
	http_client_put(s->http);
	s->http = NULL;
}

static int sms_callback(struct channel *ch, const struct channel_callback *cb,
			struct channel_report *ret)
{
	struct sms *s = ch->priv;
	struct twilio_send *t;
	const char *sid, *status;

	if (s == NULL || s->conf.token == NULL)
		return -ENOENT;
	if (strcmp(cb->what, "status") != 0 && strcmp(cb->what, "inbound") != 0)
		return -ENOENT;
	if (!twilio_conf_verify(&s->conf, cb))
		return -EPERM;
	if (strcmp(cb->what, "inbound") == 0) {
		ret->kind = CHANNEL_REPORT_INBOUND;
		ret->from = twilio_param(cb, "From");
		ret->text = twilio_param(cb, "Body");
		ret->gateway_id = twilio_param(cb, "MessageSid");
		return ret->from && ret->text ? 0 : -EINVAL;
	}
	sid = twilio_param(cb, "MessageSid");
	status = twilio_param(cb, "MessageStatus");
	if (sid == NULL || status == NULL)
		return -EINVAL;
	t = twilio_table_find(&s->table, sid);
	ret->gateway_id = sid;
	ret->key = t && !t->finished ? t->key : NULL;
	ret->status = status;
	if (strcmp(status, "delivered") == 0) {
		twilio_finish_sid(&s->table, sid, CHANNEL_OK, 200, "delivered");
	} else if (strcmp(status, "undelivered") == 0 ||
		   strcmp(status, "failed") == 0) {
		const char *code = twilio_param(cb, "ErrorCode");
		char detail[64];

		snprintf(detail, sizeof(detail), "sms %s%s%s", status,
			 code ? " " : "", code ? code : "");
		twilio_finish_sid(&s->table, sid, CHANNEL_TEMPFAIL, 0, detail);
	}
	return 0;
}

const struct channel_driver twilio_sms_driver = {
	.version = CHANNEL_DRIVER_VERSION,
	.name = "twilio-sms",
	.options = sms_options,
	.configure = sms_configure,
	.start = sms_start,
	.send = sms_send,
	.cancel = sms_cancel,
	.in_flight = sms_in_flight,
	.stop = sms_stop,
	.free = sms_free,
	.callback = sms_callback,
};
