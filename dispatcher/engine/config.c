/*
 * Loading the configuration file: see config.h. libconfuse does the
 * parsing through common/cfgfile.c, which routes its errors into a diag
 * list so that every message reads "FILE:LINE: ...", expands
 * include("FILE") relative to the including file and puts each section
 * at its opening line.
 */
#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "channels/channel.h"
#include "common/cfgfile.h"
#include "dispatcher/engine/config.h"

static cfg_opt_t operator_options[] = {
	CFG_STR("token_sha256", NULL, CFGF_NODEFAULT),
	CFG_END(),
};

/* What every channel section has, whatever its driver. */
static const cfg_opt_t channel_generic_options[] = {
	CFG_STR("driver", NULL, CFGF_NODEFAULT),
	CFG_INT("max_concurrency", 16, CFGF_NONE),
	CFG_FLOAT("max_rate", 0, CFGF_NONE),
	RETRY_CFG_SEC(CFGF_NONE),
	CFG_END(),
};

static size_t opts_len(const cfg_opt_t *o)
{
	size_t n = 0;

	while (o[n].name != NULL)
		n++;
	return n;
}

/*
 * The options of a channel section: the generic ones, then every
 * driver's own, each name once. libconfuse must know every option before
 * it parses, and a section's driver is only known after.
 */
static cfg_opt_t *channel_options_build(void)
{
	const struct channel_driver *const *drv = channel_drivers();
	size_t n = opts_len(channel_generic_options) + 1, k = 0;
	cfg_opt_t *out;

	for (size_t i = 0; drv[i] != NULL; i++)
		n += opts_len(drv[i]->options);
	out = calloc(n, sizeof(*out));
	if (out == NULL)
		return NULL;
	for (size_t i = 0; channel_generic_options[i].name; i++)
		out[k++] = channel_generic_options[i];
	for (size_t i = 0; drv[i] != NULL; i++) {
		for (const cfg_opt_t *o = drv[i]->options; o->name; o++) {
			bool seen = false;

			for (size_t j = 0; j < k && !seen; j++)
				seen = strcmp(out[j].name, o->name) == 0;
			if (!seen)
				out[k++] = *o;
		}
	}
	/* calloc left the terminator zeroed: CFG_END(). */
	return out;
}

const char *config_path_choose(const char *cli)
{
	const char *env;

	if (cli != NULL)
		return cli;
	env = getenv("POCALERT_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	return "pocalert.conf";
}

char *config_resolve_path(const struct config *c, const char *p)
{
	char *copy, *dir, *out = NULL;

	if (p[0] == '/')
		return strdup(p);
	copy = strdup(c->path);
	if (copy == NULL)
		return NULL;
	dir = dirname(copy);
	if (strcmp(dir, ".") == 0)
		out = strdup(p);
	else if (asprintf(&out, "%s/%s", dir, p) < 0)
		out = NULL;
	free(copy);
	return out;
}

static char *trim_slash(const char *url)
{
	size_t n = strlen(url);

	while (n > 0 && url[n - 1] == '/')
		n--;
	return strndup(url, n);
}

static int hex_decode(const char *hex, uint8_t *out, size_t len)
{
	if (strlen(hex) != 2 * len)
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		unsigned v;

		if (sscanf(hex + 2 * i, "%2x", &v) != 1 ||
		    !isxdigit((unsigned char)hex[2 * i]) ||
		    !isxdigit((unsigned char)hex[2 * i + 1]))
			return -EINVAL;
		out[i] = (uint8_t)v;
	}
	return 0;
}

static int read_operators(struct config *c, struct diag_list *diags)
{
	size_t n = cfg_size(c->cfg, "operator");
	int bad = 0;

	c->operators = calloc(n ? n : 1, sizeof(*c->operators));
	if (c->operators == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(c->cfg, "operator", (unsigned)i);
		struct config_operator *op = &c->operators[c->n_operators];
		const char *hex = cfg_getstr(sec, "token_sha256");

		if (hex == NULL ||
		    hex_decode(hex, op->token_sha256, SHA256_LEN) < 0) {
			diag_add(diags, cfgfile_section_file(sec, c->path),
				 sec->line,
				 "operator \"%s\": token_sha256 must be 64 hex "
				 "digits (sha256sum of the token)",
				 cfg_title(sec));
			bad++;
			continue;
		}
		op->name = strdup(cfg_title(sec));
		if (op->name == NULL)
			return -ENOMEM;
		c->n_operators++;
	}
	return bad ? -EINVAL : 0;
}

static int read_channels(struct config *c, struct diag_list *diags)
{
	size_t n = cfg_size(c->cfg, "channel");
	int bad = 0;

	c->channels = calloc(n ? n : 1, sizeof(*c->channels));
	if (c->channels == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(c->cfg, "channel", (unsigned)i);
		struct config_channel *ch = &c->channels[c->n_channels];
		const char *driver = cfg_getstr(sec, "driver");
		long conc = cfg_getint(sec, "max_concurrency");
		double rate = cfg_getfloat(sec, "max_rate");

		if (driver == NULL || channel_driver_find(driver) == NULL) {
			diag_add(diags, cfgfile_section_file(sec, c->path),
				 sec->line, "channel \"%s\": %s driver%s%s",
				 cfg_title(sec), driver ? "unknown" : "missing",
				 driver ? " " : "", driver ? driver : "");
			bad++;
			continue;
		}
		if (conc < 1 || conc > 100000 || rate < 0) {
			diag_add(diags, cfgfile_section_file(sec, c->path),
				 sec->line,
				 "channel \"%s\": max_concurrency must be "
				 "1..100000 and max_rate >= 0",
				 cfg_title(sec));
			bad++;
			continue;
		}
		if (retry_policy_from_cfg(cfg_getsec(sec, "retry"), &ch->retry,
					  cfgfile_section_file(sec, c->path),
					  diags) < 0) {
			bad++;
			continue;
		}
		ch->name = strdup(cfg_title(sec));
		ch->driver = strdup(driver);
		if (ch->name == NULL || ch->driver == NULL)
			return -ENOMEM;
		ch->sec = sec;
		ch->max_concurrency = (int)conc;
		ch->max_rate = rate;
		c->n_channels++;
	}
	return bad ? -EINVAL : 0;
}

/*
 * Times shown to people (pages, status, reports) are in the centre's
 * zone, whatever the server's clock is set to: TZ is set for the whole
 * process before anything is formatted.
 */
static int apply_timezone(struct config *c, struct diag_list *diags)
{
	const char *tz = cfg_getstr(c->cfg, "timezone");
	char path[512];

	/* A zone name, never a path: it is looked up under zoneinfo. */
	snprintf(path, sizeof(path), "/usr/share/zoneinfo/%s", tz);
	if (tz[0] == '\0' || tz[0] == '/' || strstr(tz, "..") ||
	    access(path, R_OK) < 0) {
		diag_add(diags, c->path, 0,
			 "timezone \"%s\": not a known zone (e.g. Asia/Tokyo)",
			 tz);
		return -EINVAL;
	}
	setenv("TZ", tz, 1);
	tzset();
	return 0;
}

/* Policies, selection rules, the holiday calendar, the mode, the ack key. */
static int read_policies(struct config *c, struct diag_list *diags)
{
	const char *holidays = cfg_getstr(c->cfg, "holidays");
	const char *mode = cfg_getstr(c->cfg, "mode");
	const char *key = cfg_getstr(c->cfg, "ack_key_file");
	int r;

	r = policy_set_from_cfg(c->cfg, &c->policies, NULL, diags);
	if (r < 0)
		return r;
	r = selection_from_cfg(c->cfg, &c->policies, &c->selection, NULL,
			       diags);
	if (r < 0)
		return r;
	if (select_mode_parse(mode, &c->mode) < 0) {
		diag_add(diags, c->path, 0,
			 "mode \"%s\": must be \"normal\" or \"large-scale\"",
			 mode);
		return -EINVAL;
	}
	if (apply_timezone(c, diags) < 0)
		return -EINVAL;
	c->ack_rate_limit = cfg_getfloat(c->cfg, "ack_rate_limit");
	if (c->ack_rate_limit < 0) {
		diag_add(diags, c->path, 0, "ack_rate_limit must be >= 0");
		return -EINVAL;
	}
	if (holidays != NULL) {
		char *path = config_resolve_path(c, holidays);

		if (path == NULL)
			return -ENOMEM;
		r = calendar_load(path, &c->calendar, diags);
		free(path);
	} else {
		/* The Cabinet Office's 2026-2027 rows; the watch warns. */
		r = calendar_builtin(&c->calendar);
	}
	if (r < 0)
		return r;
	c->calendar.year_end_days_off =
		cfg_getbool(c->cfg, "year_end_days_off");
	/* The reply-link key lives beside the database, never inside it. */
	if (key != NULL)
		c->ack_key_file = config_resolve_path(c, key);
	else if (asprintf(&c->ack_key_file, "%s.ackkey", c->database) < 0)
		c->ack_key_file = NULL;
	return c->ack_key_file ? 0 : -ENOMEM;
}

/* A path setting resolved against the config's directory, or NULL. */
static int opt_path(struct config *c, const char *name, char **ret)
{
	const char *v = cfg_getstr(c->cfg, name);

	*ret = NULL;
	if (v == NULL || v[0] == '\0')
		return 0;
	*ret = config_resolve_path(c, v);
	return *ret ? 0 : -ENOMEM;
}

/* The listener's defences: connection caps, proxies, metrics, TLS. */
static int read_listener(struct config *c, struct diag_list *diags)
{
	long maxc = cfg_getint(c->cfg, "listen_max_connections");
	long per = cfg_getint(c->cfg, "listen_max_per_address");
	long rt = cfg_getint(c->cfg, "listen_request_timeout");
	const char *ml = cfg_getstr(c->cfg, "metrics_listen");
	const char *mt = cfg_getstr(c->cfg, "metrics_token_sha256");
	size_t n = cfg_size(c->cfg, "trusted_proxies");
	int bad = 0;

	if (maxc < 0 || maxc > 1000000 || per < 0 || per > 1000000) {
		diag_add(diags, c->path, 0,
			 "listen_max_connections and listen_max_per_address "
			 "must be 0..1000000 (0: no cap of its own)");
		bad++;
	}
	if (rt < 1 || rt > 3600) {
		diag_add(diags, c->path, 0,
			 "listen_request_timeout must be 1..3600 seconds");
		bad++;
	}
	c->listen_max_connections = (int)maxc;
	c->listen_max_per_address = (int)per;
	c->listen_request_timeout = (int)rt;
	if (mt != NULL) {
		if (hex_decode(mt, c->metrics_token_sha256, SHA256_LEN) < 0) {
			diag_add(diags, c->path, 0,
				 "metrics_token_sha256 must be 64 hex digits "
				 "(sha256sum of the token)");
			bad++;
		}
		c->has_metrics_token = true;
	}
	if (ml != NULL && (c->metrics_listen = strdup(ml)) == NULL)
		return -ENOMEM;
	c->trusted_proxies = calloc(n ? n : 1, sizeof(char *));
	if (c->trusted_proxies == NULL)
		return -ENOMEM;
	for (size_t i = 0; i < n; i++) {
		c->trusted_proxies[i] = strdup(
			cfg_getnstr(c->cfg, "trusted_proxies", (unsigned)i));
		if (c->trusted_proxies[i] == NULL)
			return -ENOMEM;
		c->n_trusted_proxies++;
	}
	if (opt_path(c, "tls_certificate", &c->tls_certificate) < 0 ||
	    opt_path(c, "tls_key", &c->tls_key) < 0)
		return -ENOMEM;
	if ((c->tls_certificate == NULL) != (c->tls_key == NULL)) {
		diag_add(diags, c->path, 0,
			 "tls_certificate and tls_key go together: give both "
			 "or neither");
		bad++;
	}
	return bad ? -EINVAL : 0;
}

int config_load(const char *path, struct config **ret, struct diag_list *diags)
{
	struct config *c;
	int r;

	if (access(path, R_OK) < 0) {
		diag_add(diags, path, 0,
			 "cannot read the config file: %s (give one with "
			 "--config FILE or POCALERT_CONFIG)",
			 strerror(errno));
		return -ENOENT;
	}
	c = calloc(1, sizeof(*c));
	if (c == NULL)
		return -ENOMEM;
	c->path = strdup(path);
	c->channel_options = channel_options_build();
	if (c->path == NULL || c->channel_options == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	{
		cfg_opt_t root_options[] = {
			CFG_STR("database", "var/pocalert.db", CFGF_NONE),
			CFG_STR("listen", "127.0.0.1:8025", CFGF_NONE),
			CFG_STR("public_url", "http://127.0.0.1:8025",
				CFGF_NONE),
			CFG_STR("api_url", "http://127.0.0.1:8025", CFGF_NONE),
			CFG_SEC("operator", operator_options,
				CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
			CFG_SEC("channel", c->channel_options,
				CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES),
			POLICY_CFG_SEC,
			SELECT_CFG_SEC,
			CFG_STR("holidays", NULL, CFGF_NODEFAULT),
			CFG_BOOL("year_end_days_off", cfg_true, CFGF_NONE),
			CFG_STR("mode", "normal", CFGF_NONE),
			CFG_STR("timezone", "Asia/Tokyo", CFGF_NONE),
			CFG_FLOAT("ack_rate_limit", 30, CFGF_NONE),
			CFG_STR("ack_key_file", NULL, CFGF_NODEFAULT),
			CFG_INT("listen_max_connections", 0, CFGF_NONE),
			CFG_INT("listen_max_per_address", 100, CFGF_NONE),
			CFG_INT("listen_request_timeout", 20, CFGF_NONE),
			CFG_STR_LIST("trusted_proxies", "{}", CFGF_NONE),
			CFG_STR("metrics_listen", NULL, CFGF_NODEFAULT),
			CFG_STR("metrics_token_sha256", NULL, CFGF_NODEFAULT),
			CFG_STR("tls_certificate", NULL, CFGF_NODEFAULT),
			CFG_STR("tls_key", NULL, CFGF_NODEFAULT),
			CFG_FUNC("include", cfg_include),
			CFG_END(),
		};

		/* cfg_init copies the option tables it is given. */
		c->cfg = cfg_init(root_options, CFGF_NONE);
	}
	if (c->cfg == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	/* Errors (included files too) reach diags as FILE:LINE. */
	r = cfgfile_parse(c->cfg, path, diags);
	if (r < 0)
		goto fail;
	/* A URL names a store backend (store.h); only a path is resolved. */
	if (strstr(cfg_getstr(c->cfg, "database"), "://") != NULL)
		c->database = strdup(cfg_getstr(c->cfg, "database"));
	else
		c->database =
			config_resolve_path(c, cfg_getstr(c->cfg, "database"));
	c->listen = strdup(cfg_getstr(c->cfg, "listen"));
	c->public_url = trim_slash(cfg_getstr(c->cfg, "public_url"));
	c->api_url = trim_slash(cfg_getstr(c->cfg, "api_url"));
	if (c->database == NULL || c->listen == NULL || c->public_url == NULL ||
	    c->api_url == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	r = read_operators(c, diags);
	if (r == 0)
		r = read_channels(c, diags);
	if (r == 0)
		r = read_policies(c, diags);
	if (r == 0)
		r = read_listener(c, diags);
	if (r < 0)
		goto fail;
	*ret = c;
	return 0;
fail:
	config_free(c);
	return r;
}

const struct config_channel *config_channel_find(const struct config *c,
						 const char *name)
{
	for (size_t i = 0; i < c->n_channels; i++)
		if (strcmp(c->channels[i].name, name) == 0)
			return &c->channels[i];
	return NULL;
}

void config_free(struct config *c)
{
	if (c == NULL)
		return;
	if (c->cfg)
		cfg_free(c->cfg);
	free(c->path);
	free(c->database);
	free(c->listen);
	free(c->public_url);
	free(c->api_url);
	for (size_t i = 0; i < c->n_operators; i++)
		free(c->operators[i].name);
	free(c->operators);
	for (size_t i = 0; i < c->n_channels; i++) {
		free(c->channels[i].name);
		free(c->channels[i].driver);
	}
	free(c->channels);
	free(c->channel_options);
	policy_set_free(&c->policies);
	selection_free(&c->selection);
	calendar_free(&c->calendar);
	free(c->ack_key_file);
	for (size_t i = 0; i < c->n_trusted_proxies; i++)
		free(c->trusted_proxies[i]);
	free(c->trusted_proxies);
	free(c->metrics_listen);
	explicit_bzero(c->metrics_token_sha256,
		       sizeof(c->metrics_token_sha256));
	free(c->tls_certificate);
	free(c->tls_key);
	free(c);
}
