/*
 * The fax-http driver: see fax_http.h. The multipart body is built here
 * with a random boundary (a PDF could hold any fixed one); the REST and
 * callback bookkeeping is twilio_common.c's, shared with voice and SMS.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/fax_http.h"
#include "channels/fax_render.h"
#include "channels/http_client.h"
#include "channels/registry.h"
#include "channels/twilio_common.h"
#include "channels/twilio_sign.h"
#include "common/crypto.h"

#define STATUS_TIMEOUT_DEFAULT 1800 /* a fax of one page, redialled */

struct fax {
	const char *hooks_url;
	char *phone; /* owned; the number on the page, or NULL */
	struct twilio_conf conf;
	struct twilio_table table;
	struct http_client *http;
	long status_timeout;
};

static const cfg_opt_t fax_options[] = {
	CFG_STR("base_url", NULL, CFGF_NODEFAULT),
	CFG_STR("account_sid", NULL, CFGF_NODEFAULT),
	CFG_STR("auth_token_file", NULL, CFGF_NODEFAULT),
	TWILIO_CFG_PROVIDERS,
	CFG_STR("from", NULL, CFGF_NODEFAULT),
	CFG_INT("timeout", 0, CFGF_NODEFAULT),
	CFG_INT("status_timeout", STATUS_TIMEOUT_DEFAULT, CFGF_NONE),
	CFG_STR("confirm_phone", NULL, CFGF_NODEFAULT),
	CFG_END(),
};

static void fax_free(struct channel *ch)
{
	struct fax *f = ch->priv;

	if (f == NULL)
		return;
	twilio_conf_fini(&f->conf);
	free(f->phone);
	free(f);
	ch->priv = NULL;
}

static int fax_configure(struct channel *ch, cfg_t *sec, const char *file,
			 struct diag_list *diags)
{
	struct fax *f = calloc(1, sizeof(*f));
	const char *phone;
	int r;

	if (f == NULL)
		return -ENOMEM;
	ch->priv = f;
	f->hooks_url = ch->hooks_url;
	r = twilio_conf_read(&f->conf, ch->name, sec, file, diags);
	f->status_timeout = cfg_getint(sec, "status_timeout");
	phone = cfg_getstr(sec, "confirm_phone");
	if (phone != NULL && (f->phone = strdup(phone)) == NULL)
		return -ENOMEM;
	if (f->status_timeout < 1 || f->hooks_url == NULL) {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": status_timeout must be positive, and "
			 "the callbacks need a public URL",
			 ch->name);
		r = r ? r : -EINVAL;
	}
	return r;
}

static int fax_start(struct channel *ch, struct event_base *base)
{
	struct fax *f = ch->priv;

	if (f == NULL || f->conf.token == NULL)
		return -EINVAL;
	if (f->http != NULL)
		return 0;
	if (twilio_table_init(&f->table, base) < 0)
		return -ENOMEM;
	f->table.status_timeout = (int)f->status_timeout;
	f->table.conf = &f->conf;
	f->http = http_client_get(base, 16);
	f->table.http = f->http;
	return f->http ? 0 : -ENOMEM;
}

static int part(struct buf *b, const char *boundary, const char *name,
		const char *value)
{
	return buf_printf(b,
			  "--%s\r\nContent-Disposition: form-data; "
			  "name=\"%s\"\r\n\r\n%s\r\n",
			  boundary, name, value);
}

static int fax_send(struct channel *ch, const struct channel_message *msg,
		    channel_done_fn done, void *arg)
{
	struct fax *f = ch->priv;
	struct buf pdf = {0}, body = {0}, status = {0};
	char boundary[41], ctype[96];
	uint8_t rnd[16];
	struct twilio_send *ts;
	int r = -ENOMEM;

	if (f == NULL || f->http == NULL)
		return -ENOTCONN;
	if (msg->address == NULL || msg->address[0] != '+' ||
	    strpbrk(msg->address, "\r\n\"") != NULL)
		return -EINVAL;
	if (crypto_random(rnd, sizeof(rnd)) < 0)
		return -EIO;
	memcpy(boundary, "pocalert-", 9);
	crypto_hex(rnd, sizeof(rnd), boundary + 9);
	snprintf(ctype, sizeof(ctype),
		 "Content-Type: multipart/form-data; boundary=%s", boundary);
	r = fax_render_pdf(&pdf, msg, f->phone);
	if (r < 0)
		goto out;
	r = -ENOMEM;
	if (buf_printf(&status, "%s/status", f->hooks_url) < 0 ||
	    part(&body, boundary, "To", msg->address) < 0 ||
	    part(&body, boundary, "From", twilio_conf_from(&f->conf)) < 0 ||
	    part(&body, boundary, "StatusCallback", status.data) < 0 ||
	    buf_printf(
		    &body,
		    "--%s\r\nContent-Disposition: form-data; name=\"Media\"; "
		    "filename=\"alert.pdf\"\r\nContent-Type: "
		    "application/pdf\r\n\r\n",
		    boundary) < 0 ||
	    buf_append(&body, pdf.data, pdf.len) < 0 ||
	    buf_printf(&body, "\r\n--%s--\r\n", boundary) < 0)
		goto out;
	ts = twilio_send_new(&f->table, msg, done, arg);
	if (ts == NULL)
		goto out;
	r = twilio_submit(&f->table, ts, "Faxes.json", ctype, body.data,
			  body.len);
	if (r < 0)
		twilio_send_drop(&f->table, ts); /* done is never called */
out:
	buf_free(&pdf);
	buf_free(&body);
	buf_free(&status);
	return r;
}

static void fax_cancel(struct channel *ch, const char *key)
{
	struct fax *f = ch->priv;

	for (struct twilio_send *t = f ? f->table.rest : NULL; t; t = t->rnext)
		if (strcmp(t->key, key) == 0 && t->req != NULL) {
			http_client_cancel(t->req);
			return;
		}
}

static size_t fax_in_flight(struct channel *ch)
{
	struct fax *f = ch->priv;

	return f ? f->table.in_flight : 0;
}

static void fax_stop(struct channel *ch)
{
	struct fax *f = ch->priv;

	if (f == NULL)
		return;
	twilio_table_fini(&f->table);
	http_client_put(f->http);
	f->http = NULL;
}

static int fax_callback(struct channel *ch, const struct channel_callback *cb,
			struct channel_report *ret)
{
	struct fax *f = ch->priv;
	const char *sid, *status, *pages;
	struct twilio_send *t;
	char detail[64];

	if (f == NULL || f->conf.token == NULL)
		return -ENOENT;
	if (strcmp(cb->what, "status") != 0)
		return -ENOENT;
	if (!twilio_conf_verify(&f->conf, cb))
		return -EPERM;
	sid = twilio_param(cb, "FaxSid");
	status = twilio_param(cb, "FaxStatus");
	pages = twilio_param(cb, "NumPages");
	if (sid == NULL || status == NULL)
		return -EINVAL;
	t = twilio_table_find(&f->table, sid);
	ret->gateway_id = sid;
	ret->key = t && !t->finished ? t->key : NULL;
	ret->status = status;
	snprintf(detail, sizeof(detail), "fax %s, %s pages sent", status,
		 pages ? pages : "?");
	if (strcmp(status, "delivered") == 0)
		twilio_finish_sid(&f->table, sid, CHANNEL_OK, 200, detail);
	else if (strcmp(status, "failed") == 0 ||
		 strcmp(status, "no-answer") == 0 ||
		 strcmp(status, "busy") == 0)
		twilio_finish_sid(&f->table, sid, CHANNEL_TEMPFAIL, 0, detail);
	return 0;
}

const struct channel_driver fax_http_driver = {
	.version = CHANNEL_DRIVER_VERSION,
	.name = "fax-http",
	.options = fax_options,
	.configure = fax_configure,
	.start = fax_start,
	.send = fax_send,
	.cancel = fax_cancel,
	.in_flight = fax_in_flight,
	.stop = fax_stop,
	.free = fax_free,
	.callback = fax_callback,
};
