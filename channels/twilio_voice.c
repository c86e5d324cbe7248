/*
 * The twilio-voice driver: see twilio_voice.h. Divided into the speech
 * (what is said, by TLP and language), the TwiML around it, the driver's
 * operations (configure, start, send with its REST request, stop) and
 * the callbacks: "status" ends a call's send, "gather" is a keypress.
 *
 * TLP decides what a voice may say: a call is overheard, recorded by
 * answering machines and forwarded, so above AMBER it says only that an
 * alert of that level was issued and where the details are.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/http_client.h"
#include "channels/registry.h"
#include "channels/twilio_common.h"
#include "channels/twilio_sign.h"
#include "channels/twilio_voice.h"
#include "common/log.h"

/* Twilio's limit on inline TwiML. */
#define TWIML_MAX 4000
/* Characters of the body a call reads at most (about 20 s of speech). */
#define SUMMARY_MAX 120
#define STATUS_TIMEOUT_DEFAULT 600

struct voice {
	const char *name; /* the channel's, not owned */
	const char *hooks_url;
	struct twilio_conf conf;
	struct twilio_table table;
	struct http_client *http; /* a reference, or NULL */
	long status_timeout;	  /* seconds to wait for the final status */
	long ring_timeout;	  /* the call's Timeout */
	bool machine_detection;
	struct buf scratch;
};

static const cfg_opt_t voice_options[] = {
	CFG_STR("base_url", NULL, CFGF_NODEFAULT),
	CFG_STR("account_sid", NULL, CFGF_NODEFAULT),
	CFG_STR("auth_token_file", NULL, CFGF_NODEFAULT),
	TWILIO_CFG_PROVIDERS,
	/* one number, or a pool "+81..., +81...": smtp has "from" as a string */
	CFG_STR("from", NULL, CFGF_NODEFAULT),
	CFG_INT("timeout", 0, CFGF_NODEFAULT),
	CFG_INT("status_timeout", STATUS_TIMEOUT_DEFAULT, CFGF_NONE),
	CFG_INT("ring_timeout", 30, CFGF_NONE),
	CFG_BOOL("machine_detection", cfg_true, CFGF_NONE),
	CFG_END(),
};

static const char *tlp_spoken(enum tlp t, bool ja)
{
	static const char *const words_ja[] = {
		"ティーエルピー クリア", "ティーエルピー グリーン",
		"ティーエルピー アンバー", "ティーエルピー アンバー ストリクト",
		"ティーエルピー レッド"};
	static const char *const words_en[] = {
		"T L P clear", "T L P green", "T L P amber",
		"T L P amber strict", "T L P red"};

	if ((int)t < 0 || t > TLP_RED)
		t = TLP_RED;
	return ja ? words_ja[t] : words_en[t];
}

/*
 * Appends up to max characters of s, XML-escaped, leaving out URLs (a
 * voice reading "h t t p colon slash slash" helps nobody) and turning
 * line breaks into pauses.
 */
static int add_spoken(struct buf *b, const char *s, size_t max)
{
	size_t chars = 0;

	while (*s && chars < max) {
		if (strncmp(s, "http://", 7) == 0 ||
		    strncmp(s, "https://", 8) == 0) {
			while (*s && *s != ' ' && *s != '\n' && *s != '\t')
				s++;
			continue;
		}
		if (*s == '\n' || *s == '\r' || *s == '\t') {
			if (buf_puts(b, " ") < 0)
				return -ENOMEM;
			s++;
			chars++;
			continue;
		}
		{
			/* One whole UTF-8 character at a time. */
			size_t n = 1;
			char one[5];

			while ((s[n] & 0xC0) == 0x80 && n < 4)
				n++;
			memcpy(one, s, n);
			one[n] = '\0';
			if (twilio_xml_add(b, one) < 0)
				return -ENOMEM;
			s += n;
			chars++;
		}
	}
	if (*s && buf_puts(b, "…") < 0)
		return -ENOMEM;
	return 0;
}

static int speech(struct buf *b, const struct channel_message *m, bool ja)
{
	const char *org = m->org_name && *m->org_name ? m->org_name : NULL;
	int r = 0;

	if (m->drill)
		r |= buf_puts(b, ja ? "これは訓練です。" : "This is a drill. ");
	if (org) {
		r |= twilio_xml_add(b, org);
		r |= buf_puts(b, ja ? "様。" : ". ");
	}
	if (m->tlp >= TLP_AMBER_STRICT) {
		r |= buf_printf(
			b,
			ja ? "%sの緊急連絡が発出されました。"
			     "詳細はメール、または返信リンクで"
			     "ご確認ください。"
			   : "An alert marked %s was issued to you. The "
			     "details are in your mail or behind your "
			     "reply link. ",
			tlp_spoken(m->tlp, ja));
	} else {
		r |= buf_printf(b,
				ja ? "%sの緊急連絡です。件名、"
				   : "An alert marked %s. Title: ",
				tlp_spoken(m->tlp, ja));
		r |= add_spoken(b, m->title ? m->title : "", 80);
		r |= buf_puts(b, ja ? "。" : ". ");
		r |= add_spoken(b, m->body ? m->body : "", SUMMARY_MAX);
		r |= buf_puts(b, ja ? "。" : ". ");
	}
	r |= buf_puts(b, ja ? "受領を確認するには 1 を、もう一度聞くには 9 を"
			      "押してください。"
			    : "Press 1 to confirm receipt, or 9 to hear this "
			      "again. ");
	if (m->drill)
		r |= buf_puts(b, ja ? "これは訓練です。" : "This is a drill.");
	return r ? -ENOMEM : 0;
}

int twilio_voice_twiml(struct buf *out, const struct channel_message *msg,
		       const char *gather_url)
{
	bool ja = msg->language == NULL || strcmp(msg->language, "en") != 0;
	int r = 0;

	r |= buf_puts(out, "<Response><Gather input=\"dtmf\" numDigits=\"1\" "
			   "action=\"");
	r |= twilio_xml_add(out, gather_url);
	r |= buf_printf(out,
			"\" method=\"POST\"><Say language=\"%s\" "
			"loop=\"2\">",
			ja ? "ja-JP" : "en-US");
	r |= speech(out, msg, ja);
	r |= buf_puts(out, "</Say></Gather></Response>");
	return r ? -ENOMEM : 0;
}

static void voice_free(struct channel *ch)
{
	struct voice *v = ch->priv;

	if (v == NULL)
		return;
	twilio_conf_fini(&v->conf);
	buf_free(&v->scratch);
	free(v);
	ch->priv = NULL;
}

static int voice_configure(struct channel *ch, cfg_t *sec, const char *file,
			   struct diag_list *diags)
{
	struct voice *v = calloc(1, sizeof(*v));
	int r;

	if (v == NULL)
		return -ENOMEM;
	ch->priv = v;
	v->name = ch->name;
	v->hooks_url = ch->hooks_url;
	r = twilio_conf_read(&v->conf, ch->name, sec, file, diags);
	v->status_timeout = cfg_getint(sec, "status_timeout");
	v->ring_timeout = cfg_getint(sec, "ring_timeout");
	v->machine_detection = cfg_getbool(sec, "machine_detection");
	if (v->status_timeout < 1 || v->ring_timeout < 5 ||
	    v->ring_timeout > 600) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": status_timeout must be positive and "
			 "ring_timeout 5 to 600 seconds",
			 ch->name);
		r = r ? r : -EINVAL;
	}
	if (v->hooks_url == NULL) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": no public URL for the gateway's "
			 "callbacks",
			 ch->name);
		r = r ? r : -EINVAL;
	}
	return r;
}

static int voice_start(struct channel *ch, struct event_base *base)
{
	struct voice *v = ch->priv;

	if (v == NULL || v->conf.token == NULL)
		return -EINVAL;
	if (v->http != NULL)
		return 0;
	if (twilio_table_init(&v->table, base) < 0)
		return -ENOMEM;
	v->table.status_timeout = (int)v->status_timeout;
	v->table.conf = &v->conf;
	v->http = http_client_get(base, 64);
	v->table.http = v->http;
	return v->http ? 0 : -ENOMEM;
}

static int voice_send(struct channel *ch, const struct channel_message *msg,
		      channel_done_fn done, void *arg)
{
	struct voice *v = ch->priv;
	const char *headers[] = {
		"Content-Type: application/x-www-form-urlencoded", NULL};
	struct buf twiml = {0}, gather = {0}, status = {0};
	struct twilio_send *s = NULL;
	char ring[16];
	int r = -ENOMEM;

	if (v == NULL || v->http == NULL)
		return -ENOTCONN;
	if (msg->address == NULL || msg->address[0] != '+')
		return -EINVAL;
	v->scratch.len = 0;
	if (buf_printf(&gather, "%s/gather", v->hooks_url) < 0 ||
	    buf_printf(&status, "%s/status", v->hooks_url) < 0 ||
	    twilio_voice_twiml(&twiml, msg, gather.data) < 0)
		goto out;
	if (twiml.len > TWIML_MAX) {
		r = -EMSGSIZE;
		goto out;
	}
	snprintf(ring, sizeof(ring), "%ld", v->ring_timeout);
	if (twilio_form_add(&v->scratch, "To", msg->address) < 0 ||
	    twilio_form_add(&v->scratch, "From", twilio_conf_from(&v->conf)) <
		    0 ||
	    twilio_form_add(&v->scratch, "Twiml", twiml.data) < 0 ||
	    twilio_form_add(&v->scratch, "StatusCallback", status.data) < 0 ||
	    twilio_form_add(&v->scratch, "StatusCallbackMethod", "POST") < 0 ||
	    twilio_form_add(&v->scratch, "StatusCallbackEvent", "initiated") <
		    0 ||
	    twilio_form_add(&v->scratch, "StatusCallbackEvent", "ringing") <
		    0 ||
	    twilio_form_add(&v->scratch, "StatusCallbackEvent", "answered") <
		    0 ||
	    twilio_form_add(&v->scratch, "StatusCallbackEvent", "completed") <
		    0 ||
	    twilio_form_add(&v->scratch, "Timeout", ring) < 0 ||
	    (v->machine_detection &&
	     twilio_form_add(&v->scratch, "MachineDetection", "Enable") < 0))
		goto out;
	s = twilio_send_new(&v->table, msg, done, arg);
	if (s == NULL)
		goto out;
	/* Kept for "press 9": the same words again. */
	s->extra = buf_steal(&twiml);
	r = twilio_submit(&v->table, s, "Calls.json", headers[0],
			  v->scratch.data, v->scratch.len);
	if (r < 0) {
		/* Refused at once: done must not be called. */
		twilio_send_drop(&v->table, s);
	}
out:
	buf_free(&twiml);
	buf_free(&gather);
	buf_free(&status);
	return r;
}

static void voice_cancel(struct channel *ch, const char *key)
{
	struct voice *v = ch->priv;

	/* Only a call not yet placed can be withdrawn. */
	for (struct twilio_send *s = v ? v->table.rest : NULL; s; s = s->rnext)
		if (strcmp(s->key, key) == 0 && s->req != NULL) {
			http_client_cancel(s->req);
			return;
		}
}

static size_t voice_in_flight(struct channel *ch)
{
	struct voice *v = ch->priv;

	return v ? v->table.in_flight : 0;
}

static void voice_stop(struct channel *ch)
{
	struct voice *v = ch->priv;

	if (v == NULL)
		return;
	twilio_table_fini(&v->table);
	http_client_put(v->http);
	v->http = NULL;
}

/* How a final call status ends the send. */
static void voice_status(struct twilio_table *t, const char *s,
			 const char *status, const char *answered_by)
{
	char detail[96];

	if (strcmp(status, "completed") == 0) {
		bool machine = answered_by != NULL &&
			       strncmp(answered_by, "machine_", 8) == 0;

		/* A machine never confirms: sent, and said so. */
		twilio_finish_sid(t, s, CHANNEL_OK, 200,
				  machine ? "voicemail" : "completed");
	} else if (strcmp(status, "no-answer") == 0 ||
		   strcmp(status, "busy") == 0 ||
		   strcmp(status, "failed") == 0 ||
		   strcmp(status, "canceled") == 0) {
		snprintf(detail, sizeof(detail), "call %s", status);
		twilio_finish_sid(t, s, CHANNEL_TEMPFAIL, 0, detail);
	}
	/* queued, initiated, ringing, in-progress: progress only. */
}

static int voice_callback(struct channel *ch, const struct channel_callback *cb,
			  struct channel_report *ret)
{
	struct voice *v = ch->priv;
	const char *sid, *status, *digits;
	struct twilio_send *s;

	if (v == NULL || v->conf.token == NULL)
		return -ENOENT;
	if (strcmp(cb->what, "status") != 0 && strcmp(cb->what, "gather") != 0)
		return -ENOENT;
	if (!twilio_conf_verify(&v->conf, cb))
		return -EPERM;
	sid = twilio_param(cb, "CallSid");
	if (sid == NULL)
		return -EINVAL;
	s = twilio_table_find(&v->table, sid);
	ret->gateway_id = sid;
	ret->key = s && !s->finished ? s->key : NULL;
	if (strcmp(cb->what, "status") == 0) {
		const char *by = twilio_param(cb, "AnsweredBy");

		status = twilio_param(cb, "CallStatus");
		if (status == NULL)
			return -EINVAL;
		ret->status = status;
		voice_status(&v->table, sid, status, by);
		return 0;
	}
	digits = twilio_param(cb, "Digits");
	ret->status = digits && strcmp(digits, "1") == 0 ? "pressed 1"
							 : "pressed other";
	if (s != NULL && digits != NULL && strcmp(digits, "1") == 0) {
		ret->kind = CHANNEL_REPORT_CONFIRM;
		ret->alert_id = s->alert_id;
		ret->org_id = s->org_id;
		ret->contact_id = s->contact_id;
		snprintf(
			ret->reply, sizeof(ret->reply),
			"<Response><Say language=\"ja-JP\">受領を確認しました。"
			"ありがとうございました。</Say><Hangup/></Response>");
	} else if (s != NULL && digits != NULL && strcmp(digits, "9") == 0 &&
		   s->extra != NULL && strlen(s->extra) < sizeof(ret->reply)) {
		snprintf(ret->reply, sizeof(ret->reply), "%s", s->extra);
	} else {
		snprintf(ret->reply, sizeof(ret->reply),
			 "<Response><Hangup/></Response>");
	}
	return 0;
}

const struct channel_driver twilio_voice_driver = {
	.version = CHANNEL_DRIVER_VERSION,
	.name = "twilio-voice",
	.options = voice_options,
	.configure = voice_configure,
	.start = voice_start,
	.send = voice_send,
	.cancel = voice_cancel,
	.in_flight = voice_in_flight,
	.stop = voice_stop,
	.free = voice_free,
	.callback = voice_callback,
};
