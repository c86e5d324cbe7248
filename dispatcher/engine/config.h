/*
 * The configuration file (libconfuse syntax): which database, where to
 * listen, operators, channels, policies. Found with --config FILE, else
 * $POCALERT_CONFIG, else ./pocalert.conf. Relative paths inside it are
 * relative to the directory of the config file, so a config works the
 * same from any working directory.
 */
#ifndef POCALERT_CONFIG_H
#define POCALERT_CONFIG_H

#include <stdbool.h>
#include <stdint.h>

#include <confuse.h>

#include "common/crypto.h"
#include "common/diag.h"
#include "policies/calendar.h"
#include "policies/policy.h"
#include "policies/retry.h"
#include "policies/select.h"

/* operator "NAME" { token_sha256 = "HEX" }: who may use the API. */
struct config_operator {
	char *name;			  /* owned */
	uint8_t token_sha256[SHA256_LEN]; /* SHA-256 of the bearer token */
};

/*
 * channel "NAME" { driver = "..." ... }: the engine's settings of a
 * channel; the driver reads its own options from sec.
 */
struct config_channel {
	char *name;	     /* owned; "mail", "web", "voice", ... */
	char *driver;	     /* owned; a registered driver name */
	cfg_t *sec;	     /* not owned: part of config->cfg */
	int max_concurrency; /* sends in flight at most */
	double max_rate;     /* sends started per second, 0 = unlimited */
	struct retry_policy retry;
};

struct config {
	char *path;	  /* owned; the file that was read */
	char *database;	  /* owned; a resolved path, or a URL */
	char *listen;	  /* owned; "HOST:PORT" */
	char *public_url; /* owned; base of reply links, no trailing '/' */
	char *api_url;	  /* owned; where the CLI finds the API */
	struct config_operator *operators; /* owned array */
	size_t n_operators;
	struct config_channel *channels; /* owned array */
	size_t n_channels;
	struct policy_set policies; /* escalation policies, maybe none */
	struct selection selection; /* rules picking a policy */
	struct calendar calendar; /* holidays; empty without a holidays file */
	enum select_mode mode;	  /* the centre's mode: normal or large-scale */
	double ack_rate_limit;	  /* /ack requests per second per address */
	char *ack_key_file;	  /* owned; the reply-link key's file */
	/* The listener's defences (see pocalert.conf.example). */
	int listen_max_connections; /* 0: as the descriptor limit allows */
	int listen_max_per_address; /* 0: no cap */
	int listen_request_timeout; /* seconds to send a whole request */
	char **trusted_proxies;	    /* owned; addresses or ADDRESS/BITS */
	size_t n_trusted_proxies;
	char *metrics_listen; /* owned; "HOST:PORT" for /metrics, or NULL */
	uint8_t metrics_token_sha256[SHA256_LEN]; /* when has_metrics_token */
	bool has_metrics_token;
	char *tls_certificate; /* owned; PEM chain file, or NULL: plain HTTP */
	char *tls_key;	       /* owned; PEM key file, with tls_certificate */
	cfg_t *cfg; /* owned; the parsed tree, for sections read later */
	cfg_opt_t *channel_options; /* owned; merged generic + driver options */
};

/* The channel section named name, or NULL. */
const struct config_channel *config_channel_find(const struct config *c,
						 const char *name);

/* The config path to use: cli when given, else $POCALERT_CONFIG, else ./pocalert.conf. */
const char *config_path_choose(const char *cli);

/*
 * Reads and checks the config file at path. On success *ret owns the
 * config (config_free()). Every error goes to diags as FILE:LINE;
 * returns -EINVAL for errors in the file, -ENOENT when it cannot be
 * opened (also a diag).
 */
int config_load(const char *path, struct config **ret, struct diag_list *diags);

/* Frees the config. NULL is a no-op. */
void config_free(struct config *c);

/*
 * Resolves p against the directory of the config file unless it is
 * absolute. Returns a malloc'd string owned by the caller, or NULL.
 */
char *config_resolve_path(const struct config *c, const char *p);

#endif
