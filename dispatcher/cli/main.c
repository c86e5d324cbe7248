/*
 * pocalert: one program, many subcommands. main() picks the subcommand
 * and hands over its arguments; each command lives in its own cli_*.c.
 */
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/cli/cli.h"

static const struct cli_command commands[] = {
	{"contacts", "import, check, list and show the directory",
	 cli_contacts},
	{"send", "issue an alert through the running daemon", cli_send},
	{"status", "an alert's state per organisation (--watch, --json)",
	 cli_status},
	{"alerts", "list recent alerts", cli_alerts},
	{"cancel", "stop an alert's escalation", cli_cancel},
	{"calendar", "import and show the holiday calendar", cli_calendar},
	{"audit", "verify an alert's timeline in the database", cli_audit},
	{"serve", "run the engine and its HTTP listener", cli_serve},
	{"config", "check the config and print what serve would run",
	 cli_config},
	{"backup", "copy the store, also while serve runs", cli_backup},
	{"restore", "put a backup back (serve stopped)", cli_restore},
	{NULL, NULL, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: pocalert [--config FILE] [--log-format text|json] "
		   "COMMAND [ARGS]\n"
		   "       pocalert --version\n\n"
		   "commands:\n");
	for (const struct cli_command *c = commands; c->name; c++)
		fprintf(f, "  %-10s %s\n", c->name, c->help);
	fprintf(f, "\nRun 'pocalert COMMAND --help' for a command's options.\n"
		   "The config file is --config FILE, else $POCALERT_CONFIG, "
		   "else ./pocalert.conf.\n");
}

int main(int argc, char **argv)
{
	const char *config = NULL;
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 ||
		    strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		} else if (strcmp(argv[i], "--version") == 0 ||
			   strcmp(argv[i], "-V") == 0) {
			/* POCALERT_VERSION comes from meson's project(). */
			printf("pocalert %s\n", POCALERT_VERSION);
			return 0;
		} else if (strcmp(argv[i], "--log-format") == 0 &&
			   i + 1 < argc) {
			enum log_format lf;

			if (log_format_parse(argv[i + 1], &lf) < 0) {
				fprintf(stderr,
					"pocalert: --log-format is "
					"text or json, not '%s'\n",
					argv[i + 1]);
				return CLI_EXIT_USAGE;
			}
			log_set_format(lf);
			i += 2;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--config=", 9) == 0) {
			config = argv[i] + 9;
			i++;
		} else {
			fprintf(stderr, "pocalert: unknown option %s\n",
				argv[i]);
			usage(stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	for (const struct cli_command *c = commands; c->name; c++)
		if (strcmp(argv[i], c->name) == 0)
			return c->run(config, argc - i, argv + i);
	fprintf(stderr, "pocalert: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
