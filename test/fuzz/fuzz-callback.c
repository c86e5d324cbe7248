/*
 * libFuzzer target: a gateway callback on POST /hooks/{channel}/{what},
 * from the form body to the driver's reading of it. The body is decoded
 * by dispatcher/http/hooks.c's form parser, signed (or not) and handed
 * to the callback operation of twilio-voice, twilio-sms or fax-http,
 * each configured in LLVMFuzzerInitialize from a small pocalert.conf.
 *
 * The first input byte picks the driver (bits 0-1), the "what" (bits
 * 2-3: status, gather, inbound or one no driver serves), the signature
 * (bits 4-5: right under the first provider's token, right under the
 * second's, absent, or one character off) and whether the signed URL
 * has a query (bit 6); the rest is the form body.
 *
 * The parser and the drivers' private state are static, and their
 * owners edit those files: as fuzz-ack-form.c does, this target compiles
 * them into itself with their exported names renamed, so that it can put
 * two sends in a driver's table for every input (one in flight, one
 * already completed) and start each input from the same state.
 *
 * Checked beyond "no crash": the decoded form is UTF-8 and survives
 * re-encoding; a served "what" with a right signature is never refused
 * as unsigned, a wrong or missing one always is and changes nothing; a
 * send completes at most once, a completed one never again, with an
 * outcome detail that is valid UTF-8; the report's kind is one of the
 * enum's, a confirmation names the send's own alert, org and contact, a
 * key is only reported for a send still in flight, the reply fits.
 */
#include <assert.h>

#define hooks_handle fuzz_hooks_handle
#define hooks_detach_all fuzz_hooks_detach_all
#include "dispatcher/http/hooks.c"
#undef hooks_handle
#undef hooks_detach_all

#define twilio_voice_driver fuzz_twilio_voice_driver
#define twilio_voice_twiml fuzz_twilio_voice_twiml
#define twilio_sms_driver fuzz_twilio_sms_driver
#define twilio_sms_body fuzz_twilio_sms_body
#define fax_http_driver fuzz_fax_http_driver
#include "channels/twilio_voice.c"
#undef STATUS_TIMEOUT_DEFAULT
#include "channels/twilio_sms.c"
#undef STATUS_TIMEOUT_DEFAULT
#include "channels/fax_http.c"

#include "channels/twilio_sign.h"
#include "dispatcher/engine/config.h"
#include "test/fuzz/fuzz-file.h"

#define PUBLIC_URL "https://pocalert.example.jp"

/*
 * Printed with the token files' directory (its length, then the path of
 * a file in it): auth_token_file is taken as given, not from the
 * config's directory.
 */
static const char conf_text[] =
	"database = \"pocalert.db\"\n"
	"listen = \"127.0.0.1:0\"\n"
	"public_url = \"" PUBLIC_URL "\"\n"
	"channel \"voice\" {\n"
	"  driver = \"twilio-voice\"\n"
	"  base_url = \"http://127.0.0.1:1\"\n"
	"  account_sid = \"AC00000000000000000000000000000001\"\n"
	"  auth_token_file = \"%2$.*1$s/token1\"\n"
	"  from = \"+81355550100, +81355550101\"\n"
	"  provider \"backup\" {\n"
	"    base_url = \"http://127.0.0.1:2\"\n"
	"    account_sid = \"AC00000000000000000000000000000002\"\n"
	"    auth_token_file = \"%2$.*1$s/token2\"\n"
	"  }\n"
	"}\n"
	"channel \"sms\" {\n"
	"  driver = \"twilio-sms\"\n"
	"  base_url = \"http://127.0.0.1:1\"\n"
	"  account_sid = \"AC00000000000000000000000000000001\"\n"
	"  auth_token_file = \"%2$.*1$s/token1\"\n"
	"  from = \"+81355550200\"\n"
	"}\n"
	"channel \"fax\" {\n"
	"  driver = \"fax-http\"\n"
	"  base_url = \"http://127.0.0.1:1\"\n"
	"  account_sid = \"AC00000000000000000000000000000001\"\n"
	"  auth_token_file = \"%2$.*1$s/token1\"\n"
	"  from = \"+81355550300\"\n"
	"  confirm_phone = \"03-5555-0000\"\n"
	"}\n";

#define TOKEN1 "0123456789abcdef0123456789abcdef"
#define TOKEN2 "fedcba9876543210fedcba9876543210"

enum { VOICE, SMS, FAX, N_DRIVERS };

static const char *const whats[] = {"status", "gather", "inbound", "recording"};

/* Which "what" each driver serves, by index into whats. */
static const bool serves[N_DRIVERS][4] = {
	[VOICE] = {true, true, false, false},
	[SMS] = {true, false, true, false},
	[FAX] = {true, false, false, false},
};

/* The in-flight and the completed send's gateway ids, per driver. */
static const char *const live_sid[N_DRIVERS] = {"CA01", "SM01", "FX01"};
static const char *const done_sid[N_DRIVERS] = {"CA02", "SM02", "FX02"};

struct gw {
	struct channel ch;
	struct twilio_table *table; /* in ch.priv */
	struct twilio_conf *conf;   /* in ch.priv */
	long status_timeout;
};

static struct gw gws[N_DRIVERS];
static struct event_base *base;
static struct config *config;

/* What a send's completion saw. */
struct seen {
	int calls;
	enum channel_status status;
	bool detail_ok; /* the detail was valid UTF-8 */
};

static void sent(void *arg, const struct channel_outcome *out)
{
	struct seen *s = arg;

	s->calls++;
	s->status = out->status;
	s->detail_ok = out->detail != NULL &&
		       utf8_valid(out->detail, strlen(out->detail), NULL);
}

static bool str_ok(const char *s)
{
	return s == NULL || utf8_valid(s, strlen(s), NULL);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const struct channel_driver *const drivers[N_DRIVERS] = {
		&fuzz_twilio_voice_driver, &fuzz_twilio_sms_driver,
		&fuzz_fax_http_driver};
	static const char *const names[N_DRIVERS] = {"voice", "sms", "fax"};
	struct diag_list diags = {0};
	char *text = NULL, *slash;
	const char *path;
	int n;

	(void)argc;
	(void)argv;
	log_set_level(LOG_LEVEL_WARN);
	if (fuzz_file("token2", (const uint8_t *)TOKEN2, sizeof(TOKEN2) - 1) ==
		    NULL ||
	    (path = fuzz_file("token1", (const uint8_t *)TOKEN1 "\n",
			      sizeof(TOKEN1))) == NULL ||
	    (slash = strrchr(path, '/')) == NULL ||
	    (n = asprintf(&text, conf_text, (int)(slash - path), path)) < 0)
		abort();
	path = fuzz_file("pocalert.conf", (const uint8_t *)text, (size_t)n);
	free(text);
	if (path == NULL || config_load(path, &config, &diags) < 0)
		goto fail;
	base = event_base_new();
	if (base == NULL)
		abort();
	for (int d = 0; d < N_DRIVERS; d++) {
		const struct config_channel *cc =
			config_channel_find(config, names[d]);
		struct gw *g = &gws[d];

		if (cc == NULL)
			goto fail;
		g->ch.driver = drivers[d];
		g->ch.name = strdup(names[d]);
		if (g->ch.name == NULL ||
		    asprintf(&g->ch.hooks_url, PUBLIC_URL "/hooks/%s",
			     names[d]) < 0 ||
		    channel_configure(&g->ch, cc->sec, path, &diags) < 0)
			goto fail;
		/* The drivers' own state, for their tables of sends. */
		if (d == VOICE) {
			struct voice *v = g->ch.priv;

			g->table = &v->table;
			g->conf = &v->conf;
			g->status_timeout = v->status_timeout;
		} else if (d == SMS) {
			struct sms *s = g->ch.priv;

			g->table = &s->table;
			g->conf = &s->conf;
			g->status_timeout = s->status_timeout;
		} else {
			struct fax *f = g->ch.priv;

			g->table = &f->table;
			g->conf = &f->conf;
			g->status_timeout = f->status_timeout;
		}
	}
	diag_clear(&diags);
	return 0;
fail:
	/* The target's own config is wrong: say where. */
	diag_print(&diags, stderr);
	abort();
}

/* A send as twilio_created() leaves it after the gateway's 201. */
static struct twilio_send *add_send(struct gw *g, const char *sid,
				    const char *key, struct seen *seen)
{
	struct channel_message m = {
		.key = key,
		.alert_id = "A-1",
		.org_id = "org-1",
		.contact_id = "c-1",
	};
	struct twilio_send *s = twilio_send_new(g->table, &m, sent, seen);

	if (s == NULL || (s->sid = strdup(sid)) == NULL)
		abort();
	/* Voice keeps the TwiML it said, for "press 9". */
	s->extra = strdup("<Response><Say>もう一度</Say></Response>");
	twilio_rest_ended(g->table, s);
	twilio_table_index(g->table, s);
	return s;
}

/*
 * Re-encodes f as a form and parses it again: what the decoder gave must
 * come back the same.
 */
static void round_trip(const struct form *f)
{
	struct buf b = {0};
	struct form g = {0};

	for (size_t i = 0; i < f->n; i++)
		if (twilio_form_add(&b, f->names[i], f->values[i]) < 0)
			abort();
	assert(form_parse(b.data ? b.data : "", b.len, &g) == 0);
	assert(g.n == f->n);
	for (size_t i = 0; i < f->n; i++) {
		assert(strcmp(f->names[i], g.names[i]) == 0);
		assert(strcmp(f->values[i], g.values[i]) == 0);
	}
	form_free(&g);
	buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct seen live_seen = {0}, done_seen = {0};
	struct twilio_send *done;
	struct channel_report rep;
	struct channel_callback cb;
	char sig[TWILIO_SIGNATURE_SIZE], url[160];
	const char *signature = sig;
	struct form f = {0};
	struct gw *g;
	int d, w, mode, rc;
	bool signed_right;

	if (size == 0)
		return 0;
	d = (data[0] & 3) % N_DRIVERS;
	w = (data[0] >> 2) & 3;
	mode = (data[0] >> 4) & 3;
	g = &gws[d];
	if (form_parse((const char *)data + 1, size - 1, &f) < 0) {
		form_free(&f);
		return 0;
	}
	assert(f.n <= HOOKS_MAX_PARAMS);
	for (size_t i = 0; i < f.n; i++)
		assert(str_ok(f.names[i]) && str_ok(f.values[i]));
	round_trip(&f);

	/* Every input starts from the same table: one send in flight, one
	   completed and kept for late callbacks. */
	if (twilio_table_init(g->table, base) < 0)
		abort();
	g->table->status_timeout = (int)g->status_timeout;
	g->table->conf = g->conf;
	add_send(g, live_sid[d], "D-live", &live_seen);
	done = add_send(g, done_sid[d], "D-done", &done_seen);
	twilio_finish(g->table, done, CHANNEL_OK, 200, "delivered", -1);
	event_base_loop(base, EVLOOP_NONBLOCK);
	assert(done_seen.calls == 1 && live_seen.calls == 0);

	snprintf(url, sizeof(url), "%s/%s%s", g->ch.hooks_url, whats[w],
		 data[0] & 0x40 ? "?attempt=1&x=%E3%81%82" : "");
	cb = (struct channel_callback){
		.what = whats[w],
		.url = url,
		.signature = sig,
		.names = (const char *const *)f.names,
		.values = (const char *const *)f.values,
		.n_params = f.n,
	};
	/* The second provider's token only where there is one (voice). */
	if (twilio_sign(mode == 1 && d == VOICE ? TOKEN2 : TOKEN1, url,
			cb.names, cb.values, cb.n_params, sig) < 0)
		abort();
	signed_right = mode < 2;
	if (mode == 2)
		signature = NULL;
	else if (mode == 3)
		sig[size % (TWILIO_SIGNATURE_SIZE - 1)] ^= 1;
	cb.signature = signature;

	memset(&rep, 0, sizeof(rep));
	rc = channel_callback(&g->ch, &cb, &rep);
	/* Completions come on the loop, never from inside the callback. */
	assert(live_seen.calls == 0);
	event_base_loop(base, EVLOOP_NONBLOCK);

	assert(rc == 0 || rc == -EPERM || rc == -EINVAL || rc == -ENOENT);
	if (!serves[d][w])
		assert(rc == -ENOENT);
	else if (signed_right)
		assert(rc != -EPERM && rc != -ENOENT);
	else
		assert(rc == -EPERM);
	/* Refused or malformed: nothing happened to any send. */
	if (rc < 0)
		assert(live_seen.calls == 0);
	assert(done_seen.calls == 1 && live_seen.calls <= 1);
	if (live_seen.calls == 1) {
		assert(live_seen.status == CHANNEL_OK ||
		       live_seen.status == CHANNEL_TEMPFAIL ||
		       live_seen.status == CHANNEL_PERMFAIL);
		assert(live_seen.detail_ok);
	}

	assert(rep.kind == CHANNEL_REPORT_NOTHING ||
	       rep.kind == CHANNEL_REPORT_CONFIRM ||
	       rep.kind == CHANNEL_REPORT_INBOUND);
	assert(memchr(rep.reply, '\0', sizeof(rep.reply)) != NULL);
	assert(str_ok(rep.reply) && str_ok(rep.gateway_id) &&
	       str_ok(rep.status) && str_ok(rep.from) && str_ok(rep.text));
	if (rc == 0) {
		if (rep.key != NULL)
			assert(strcmp(rep.key, "D-live") == 0);
		if (rep.kind == CHANNEL_REPORT_CONFIRM) {
			assert(d == VOICE && strcmp(whats[w], "gather") == 0);
			assert(rep.alert_id &&
			       strcmp(rep.alert_id, "A-1") == 0);
			assert(rep.org_id && strcmp(rep.org_id, "org-1") == 0);
			assert(rep.contact_id &&
			       strcmp(rep.contact_id, "c-1") == 0);
		} else if (rep.kind == CHANNEL_REPORT_INBOUND) {
			assert(d == SMS && strcmp(whats[w], "inbound") == 0);
			assert(rep.from != NULL && rep.text != NULL);
		}
	}

	/* Completes the send in flight with "stopped" and frees both. */
	twilio_table_fini(g->table);
	form_free(&f);
	return 0;
}
