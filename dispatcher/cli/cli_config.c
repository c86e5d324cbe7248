/*
 * `pocalert config check`: reads the config the way `serve` would (the
 * file, its policies and selection rules, the holiday calendar, every
 * channel's driver settings) and prints what a daemon would run with,
 * without opening the database, binding a socket or starting a driver.
 * An administrator runs it before `systemctl reload`; the package's test
 * runs it on the shipped example. Errors are FILE:LINE and exit 2.
 *
 * `pocalert config defaults` prints every option's default straight from
 * the option tables libconfuse parses with, so that a test can hold the
 * man page pocalert.conf(5) to them (one source of truth: the code).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "channels/channel.h"
#include "common/cfgfile.h"
#include "common/diag.h"
#include "contacts/directory.h"
#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"
#include "dispatcher/engine/config.h"

static const char config_usage[] =
	"usage: pocalert [--config FILE] config check [--quiet]\n"
	"\n"
	"Checks the config file, its policies, selection rules, holiday\n"
	"calendar and channel settings, and prints what `pocalert serve`\n"
	"would run with. Starts nothing. Exit 0 when valid, 2 on an error\n"
	"(printed as FILE:LINE).\n"
	"\n"
	"usage: pocalert config defaults\n"
	"\n"
	"Prints every option that has a default, as NAME = VALUE.\n";

/*
 * Runs each channel's driver configure step (the one that reads and
 * checks its own options) and frees it again: no thread, socket or timer
 * is made, since start is never called. Errors go to diags.
 */
static int config_check_channels(const struct config *c,
				 struct diag_list *diags)
{
	int r = 0;

	for (size_t i = 0; i < c->n_channels; i++) {
		const struct config_channel *cc = &c->channels[i];
		struct channel ch = {
			.driver = channel_driver_find(cc->driver),
			.name = cc->name,
		};

		/* config_load already refused unknown drivers. */
		if (ch.driver == NULL)
			continue;
		if (channel_configure(&ch, cc->sec,
				      cfgfile_section_file(cc->sec, c->path),
				      diags) < 0)
			r = -EINVAL;
		channel_stop(&ch);
		channel_free_priv(&ch);
	}
	return r;
}

static void config_print_mask(FILE *f, unsigned mask, int count,
			      const char *(*name)(int))
{
	const char *sep = "";

	for (int i = 0; i < count; i++)
		if (mask & (1u << i)) {
			fprintf(f, "%s%s", sep, name(i));
			sep = ",";
		}
}

static const char *role_name(int i)
{
	return dir_role_name((enum dir_role)i);
}

static const char *channel_name(int i)
{
	return dir_channel_name((enum dir_channel)i);
}

static const char *period_name(int i)
{
	return calendar_period_name((enum calendar_period)i);
}

static void config_print_list(FILE *f, const char *what, char **v, size_t n)
{
	if (n == 0)
		return;
	fprintf(f, " %s=", what);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "%s%s", i ? "," : "", v[i]);
}

static void config_print(FILE *f, const struct config *c)
{
	char first[16], last[16];

	fprintf(f, "config %s: ok\n", c->path);
	fprintf(f, "database %s\n", c->database);
	fprintf(f, "listen %s public_url %s\n", c->listen, c->public_url);
	if (c->metrics_listen)
		fprintf(f, "metrics_listen %s\n", c->metrics_listen);
	fprintf(f, "tls %s\n", c->tls_certificate ? c->tls_certificate : "off");
	fprintf(f, "mode %s\n", select_mode_name(c->mode));
	fprintf(f, "operators %zu\n", c->n_operators);
	fprintf(f, "channels %zu\n", c->n_channels);
	for (size_t i = 0; i < c->n_channels; i++) {
		const struct config_channel *cc = &c->channels[i];

		fprintf(f,
			"  channel %s driver=%s max_concurrency=%d "
			"max_rate=%g\n",
			cc->name, cc->driver, cc->max_concurrency,
			cc->max_rate);
	}
	fprintf(f, "policies %zu\n", c->policies.n);
	for (size_t i = 0; i < c->policies.n; i++) {
		const struct policy *p = &c->policies.policies[i];

		fprintf(f, "  policy %s steps=%d repeat=%d ack=%s\n", p->name,
			p->n_steps, p->repeat, policy_ack_name(p->ack));
		for (int k = 0; k < p->n_steps; k++) {
			fprintf(f, "    step %d after=%gs roles=", k + 1,
				p->steps[k].after);
			config_print_mask(f, p->steps[k].roles, DIR_ROLE_COUNT,
					  role_name);
			fputs(" channels=", f);
			config_print_mask(f, p->steps[k].channels,
					  DIR_CHANNEL_COUNT, channel_name);
			fputc('\n', f);
		}
	}
	fprintf(f, "selection rules %zu\n", c->selection.n);
	for (size_t i = 0; i < c->selection.n; i++) {
		const struct select_rule *s = &c->selection.rules[i];

		fprintf(f, "  rule %zu -> %s", i + 1, s->policy);
		config_print_list(f, "types", s->types, s->n_types);
		config_print_list(f, "severities", s->severities,
				  s->n_severities);
		if (s->drill >= 0)
			fprintf(f, " drill=%s", s->drill ? "yes" : "no");
		if (s->mode >= 0)
			fprintf(f, " mode=%s",
				select_mode_name((enum select_mode)s->mode));
		if (s->periods) {
			fputs(" periods=", f);
			config_print_mask(f, s->periods, CALENDAR_PERIOD_COUNT,
					  period_name);
		}
		fputc('\n', f);
	}
	if (c->calendar.first_day > c->calendar.last_day) {
		fprintf(f, "calendar none\n");
	} else {
		calendar_format_date(c->calendar.first_day, first,
				     sizeof(first));
		calendar_format_date(c->calendar.last_day, last, sizeof(last));
		fprintf(f, "calendar %s..%s holidays=%zu\n", first, last,
			c->calendar.n);
	}
}

static int config_check(const char *config_path, int argc, char **argv)
{
	struct diag_list diags = {0};
	struct config *c = NULL;
	bool quiet = false;
	int status;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			fputs(config_usage, stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			quiet = true;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			/* `config check --config F` reads as naturally. */
			config_path = argv[++i];
		} else {
			fprintf(stderr,
				"pocalert config check: unknown "
				"option %s\n",
				argv[i]);
			fputs(config_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	status = cli_load_config(config_path, &c);
	if (status != CLI_EXIT_OK)
		return status;
	if (config_check_channels(c, &diags) < 0) {
		diag_print(&diags, stderr);
		status = CLI_EXIT_USAGE;
		goto out;
	}
	diag_print(&diags, stderr);
	if (!quiet)
		config_print(stdout, c);
out:
	diag_clear(&diags);
	config_free(c);
	return status;
}

/*
 * One line per option of opts that has a default (sections recursed into
 * with their name as a prefix): what libconfuse fills in when the file
 * leaves the option out.
 */
static void config_print_defaults(FILE *f, const cfg_opt_t *opts,
				  const char *prefix)
{
	char sub[128];

	for (const cfg_opt_t *o = opts; o->name; o++) {
		if (o->type == CFGT_SEC) {
			snprintf(sub, sizeof(sub), "%s%s.", prefix, o->name);
			config_print_defaults(f, o->subopts, sub);
			continue;
		}
		if (o->type == CFGT_FUNC || (o->flags & CFGF_NODEFAULT))
			continue;
		fprintf(f, "%s%s = ", prefix, o->name);
		if (o->flags & CFGF_LIST)
			fprintf(f, "%s", o->def.parsed ? o->def.parsed : "{}");
		else if (o->type == CFGT_INT)
			fprintf(f, "%ld", o->def.number);
		else if (o->type == CFGT_FLOAT)
			fprintf(f, "%g", o->def.fpnumber);
		else if (o->type == CFGT_BOOL)
			fputs(o->def.boolean ? "true" : "false", f);
		else
			fprintf(f, "\"%s\"",
				o->def.string ? o->def.string : "");
		fputc('\n', f);
	}
}

/*
 * The file /dev/null is a config that sets nothing; its parse holds the
 * whole option table, sections (channel with every driver's options
 * merged, policy, select) included.
 */
static int config_defaults(int argc)
{
	struct config *c = NULL;
	int status;

	if (argc > 1) {
		fputs(config_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	status = cli_load_config("/dev/null", &c);
	if (status != CLI_EXIT_OK)
		return status;
	config_print_defaults(stdout, c->cfg->opts, "");
	config_free(c);
	return CLI_EXIT_OK;
}

int cli_config(const char *config_path, int argc, char **argv)
{
	if (argc >= 2 && strcmp(argv[1], "defaults") == 0)
		return config_defaults(argc - 1);
	if (argc >= 2 && strcmp(argv[1], "check") == 0)
		return config_check(config_path, argc - 1, argv + 1);
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(config_usage, stdout);
		return CLI_EXIT_OK;
	}
	fputs(config_usage, stderr);
	return CLI_EXIT_USAGE;
}
