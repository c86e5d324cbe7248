/*
 * `pocalert serve`: the engine and its HTTP listener on one libevent loop,
 * in the foreground, until SIGTERM or SIGINT. On a signal it stops taking
 * work, lets sends in flight finish (bounded), writes everything and
 * exits 0. SIGHUP reads the TLS files and the config again (a config
 * with an error is refused and the running one kept). Under systemd it
 * speaks the notify protocol (serve_notify.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <event2/event.h>
#include <event2/thread.h>

#include "common/log.h"
#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"
#include "dispatcher/cli/serve_notify.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/http/http_server.h"
#include "dispatcher/store/keyguard.h"

#define SHUTDOWN_GRACE_MS 10000

static const char serve_usage[] =
	"usage: pocalert serve [--verbose] [--init] [--new-reply-key]\n"
	"\n"
	"Runs the engine and its HTTP listener in the foreground. SIGTERM or\n"
	"SIGINT stops it cleanly (in-flight sends get up to 10 seconds).\n"
	"Only one serve may use a database at a time.\n"
	"\n"
	"  --init           accept an empty (0-byte) database file as a new\n"
	"                   one; without it such a file is refused, since its\n"
	"                   history and directory were lost\n"
	"  --new-reply-key  start although the reply-link key file is missing\n"
	"                   or not the one the database's alerts were sent\n"
	"                   with: every reply link already sent stops working\n";

/*
 * With `listen = "HOST:0"` the kernel picks the port, so a public_url or
 * api_url that names port 0 ("http://127.0.0.1:0") can be right only
 * once the socket is bound: *url (owned by the config) gets the bound
 * port in place of that 0. Other URLs stay as the operator wrote them.
 * Returns 0 or -ENOMEM.
 */
static int serve_url_fill_port(char **url, int port)
{
	const char *host = strstr(*url, "://"), *end;
	char *out;
	int keep;

	if (host == NULL)
		return 0;
	host += 3;
	end = host + strcspn(host, "/?#");
	if (end - host < 2 || end[-2] != ':' || end[-1] != '0')
		return 0;
	keep = (int)(end - 1 - *url); /* up to the ':' */
	if (asprintf(&out, "%.*s%d%s", keep, *url, port, end) < 0)
		return -ENOMEM;
	free(*url);
	*url = out;
	return 0;
}

/*
 * Raises the soft limit on open descriptors to the hard one: the usual
 * 1024 is a historical default for select(), which nothing here uses,
 * and a public listener with a thousand idle clients must not starve
 * the mail and web-hook sends of sockets.
 */
static void serve_raise_nofile(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		log_warn("cannot raise the open-file limit");
}

/*
 * Descriptors kept back from the listener for everything else: every
 * channel's sends in flight (a socket each, and one more for a worker's
 * or a resolver's), the database with its journal, the log, and room.
 */
static int serve_fd_reserve(const struct config *c)
{
	long n = 64;

	for (size_t i = 0; i < c->n_channels; i++)
		n += 2L * c->channels[i].max_concurrency;
	return n > 100000 ? 100000 : (int)n;
}

/* What a SIGHUP needs to read and apply a new config. */
struct serve_reload {
	const char *config_path;     /* --config, or NULL */
	struct event_base *base;     /* not owned */
	struct engine *engine;	     /* not owned */
	struct http_server *http;    /* not owned */
	struct serve_notify *notify; /* not owned; may be NULL */
	int port;		     /* the bound port, for URLs naming 0 */
	/*
	 * Every config that ran, the last one current: channels and the
	 * listener keep pointing into the one they started with, so none
	 * is freed before the engine and the server are.
	 */
	struct config **configs;
	size_t n_configs;
};

/*
 * Loads the config file again and hands it to the engine. A config with
 * an error (FILE:LINE in the log), or one that changes what only a
 * restart can, is refused and the running one stays. Returns 0 or -errno.
 */
static int serve_reload_config(struct serve_reload *rl)
{
	struct diag_list diags = {0};
	struct config *next = NULL, **grown;
	int r;

	r = config_load(config_path_choose(rl->config_path), &next, &diags);
	if (r == 0 && (serve_url_fill_port(&next->public_url, rl->port) < 0 ||
		       serve_url_fill_port(&next->api_url, rl->port) < 0))
		r = -ENOMEM;
	if (r == 0 &&
	    cli_calendar_apply_store(engine_store(rl->engine), next) < 0) {
		diag_add(&diags, next->database, 0,
			 "cannot read the imported calendar");
		r = -EIO;
	}
	grown = r == 0 ? realloc(rl->configs,
				 (rl->n_configs + 1) * sizeof(*grown))
		       : NULL;
	if (r == 0 && grown == NULL)
		r = -ENOMEM;
	if (r == 0) {
		rl->configs = grown;
		r = engine_reload(rl->engine, next, &diags);
	} else {
		engine_reload_refused(rl->engine);
	}
	for (size_t i = 0; i < diags.n; i++)
		log_warnx("%s", diags.lines[i]);
	diag_clear(&diags);
	if (r < 0) {
		log_warnx("reload refused: the old config runs on");
		config_free(next);
		return r;
	}
	rl->configs[rl->n_configs++] = next;
	return 0;
}

/*
 * SIGHUP (`systemctl reload`): a renewed TLS certificate is read again,
 * then the config and the directory.
 */
static void on_hup(evutil_socket_t sig, short what, void *arg)
{
	struct serve_reload *rl = arg;
	int r;

	(void)sig;
	(void)what;
	log_info("received SIGHUP: reloading the TLS certificate and config");
	serve_notify_reloading(rl->notify);
	http_server_reload_tls(rl->http);
	r = serve_reload_config(rl);
	serve_notify_reloaded(rl->notify, r == 0);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct serve_reload *rl = arg;

	(void)what;
	log_info("received %s: shutting down", strsignal((int)sig));
	serve_notify_stopping(rl->notify);
	event_base_loopbreak(rl->base);
}

/*
 * The loop with libevent's precise timer: its default monotonic clock is
 * coarse (a few ms here), which let retry timers fire early.
 */
static struct event_base *serve_base_new(void)
{
	struct event_config *cfg = event_config_new();
	struct event_base *base = NULL;

	if (cfg == NULL)
		return NULL;
	if (event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER) == 0)
		base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return base;
}

/*
 * The config holds secrets (gateway tokens, the SMTP password): say so
 * when any local user can read it. A warning, not a refusal: the
 * operator may have reasons (a container with one user).
 */
static void serve_check_config_mode(const char *path)
{
	struct stat st;

	if (stat(path, &st) == 0 && (st.st_mode & S_IROTH))
		log_warnx("%s: readable by every local user (mode %04o) and "
			  "it holds secrets: run chmod 640 on it",
			  path, (unsigned)(st.st_mode & 07777));
}

int cli_serve(const char *config_path, int argc, char **argv)
{
	struct diag_list diags = {0};
	struct config *config = NULL;
	struct event_base *base = NULL;
	struct engine *e = NULL;
	struct http_server *http = NULL;
	struct event *sigterm = NULL, *sigint = NULL, *sighup = NULL;
	struct http_options hopt;
	struct store *guard = NULL;
	unsigned open_flags = STORE_OPEN_EXCLUSIVE;
	bool new_key = false;
	int key_verdict;
	struct serve_reload rl = {.config_path = config_path};
	struct serve_notify *notify = NULL;
	int status, port, r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(serve_usage, stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "--verbose") == 0) {
			log_set_level(LOG_LEVEL_DEBUG);
		} else if (strcmp(argv[i], "--init") == 0) {
			open_flags |= STORE_OPEN_INIT;
		} else if (strcmp(argv[i], "--new-reply-key") == 0) {
			new_key = true;
		} else {
			fprintf(stderr, "pocalert serve: unknown option %s\n",
				argv[i]);
			fputs(serve_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	/*
	 * Everything the daemon creates (database, -wal, -shm, the key,
	 * the lock) is for its owner and group only.
	 */
	umask(027);
	status = cli_load_config(config_path, &config);
	if (status != CLI_EXIT_OK)
		return status;
	serve_check_config_mode(config_path_choose(config_path));
	/*
	 * Held for the daemon's life: the exclusive lock that keeps a second
	 * serve off this store (the engine assumes it is the only writer),
	 * the refusal of an empty file, and the reply-link key's check, all
	 * before the engine touches the store or the key.
	 */
	r = store_open_with(config->database, open_flags, &guard);
	if (r < 0) {
		fprintf(stderr, "pocalert serve: %s: %s\n", config->database,
			r == -EBUSY	? "in use by another pocalert serve"
			: r == -ENODATA ? "empty database file refused (see "
					  "--init)"
					: "cannot open the database");
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	key_verdict =
		keyguard_check(guard, config->ack_key_file, new_key, &diags);
	diag_print(&diags, stderr);
	diag_clear(&diags);
	if (key_verdict < 0) {
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	/* An imported calendar takes the place of the holiday file. */
	if (cli_calendar_apply(config) < 0) {
		log_warnx("cannot read the calendar from %s", config->database);
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	serve_raise_nofile();
	/* Drivers with worker threads wake the loop from those threads. */
	if (evthread_use_pthreads() < 0 || (base = serve_base_new()) == NULL) {
		log_warnx("cannot create the event loop");
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	/*
	 * Bound before the engine starts: recovery builds reply links from
	 * public_url, which must already name the port the kernel picked.
	 * Requests wait in the backlog until the loop runs.
	 */
	http_options_default(&hopt, config->listen);
	hopt.max_connections = config->listen_max_connections;
	hopt.max_per_address = config->listen_max_per_address;
	hopt.request_timeout = config->listen_request_timeout;
	hopt.fd_reserve = serve_fd_reserve(config);
	hopt.trusted_proxies = (const char *const *)config->trusted_proxies;
	hopt.n_trusted_proxies = config->n_trusted_proxies;
	hopt.metrics_listen = config->metrics_listen;
	if (config->has_metrics_token)
		hopt.metrics_token_sha256 = config->metrics_token_sha256;
	hopt.tls_certificate = config->tls_certificate;
	hopt.tls_key = config->tls_key;
	r = http_server_new_with(base, NULL, &hopt, &http);
	if (r < 0) {
		log_warnx("cannot listen on %s: %s", config->listen,
			  strerror(-r));
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	port = http_server_port(http);
	if (serve_url_fill_port(&config->public_url, port) < 0 ||
	    serve_url_fill_port(&config->api_url, port) < 0) {
		log_warnx("out of memory");
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	r = engine_new(base, config, &e, &diags);
	diag_print(&diags, stderr);
	if (r < 0) {
		status = r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
		goto out;
	}
	/* The engine made the key just now: remember which it is. */
	if (key_verdict == KEYGUARD_NEW &&
	    keyguard_record(guard, config->ack_key_file, &diags) < 0) {
		diag_print(&diags, stderr);
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	http_server_set_engine(http, e);
	log_info("pocalert listening on %s (port %d), database %s",
		 config->listen, port, config->database);
	rl.base = base;
	rl.engine = e;
	rl.http = http;
	rl.port = port;
	sigterm = evsignal_new(base, SIGTERM, on_signal, &rl);
	sigint = evsignal_new(base, SIGINT, on_signal, &rl);
	sighup = evsignal_new(base, SIGHUP, on_hup, &rl);
	if (sigterm == NULL || sigint == NULL || sighup == NULL ||
	    evsignal_add(sigterm, NULL) || evsignal_add(sigint, NULL) ||
	    evsignal_add(sighup, NULL)) {
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	/* Store open, recovery done, listener bound: systemd may go on. */
	if (serve_notify_ready(base, e, &notify) < 0) {
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	rl.notify = notify;
	event_base_dispatch(base);
	status = CLI_EXIT_OK;
out:
	/* Before the server goes: the drain below still turns the loop. */
	if (sighup)
		event_free(sighup);
	/* Stop taking requests first, then drain the engine. */
	http_server_free(http);
	engine_free(e, SHUTDOWN_GRACE_MS);
	serve_notify_free(notify);
	for (size_t i = 0; i < rl.n_configs; i++)
		config_free(rl.configs[i]);
	free(rl.configs);
	if (sigterm)
		event_free(sigterm);
	if (sigint)
		event_free(sigint);
	if (base)
		event_base_free(base);
	/* Last: the lock is held until the engine has written everything. */
	store_close(guard);
	config_free(config);
	diag_clear(&diags);
	if (status == CLI_EXIT_OK)
		log_info("pocalert stopped");
	return status;
}
