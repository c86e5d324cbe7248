/*
 * Subcommands of the pocalert program. Each takes the config path given
 * with --config (or NULL) and its own argv (argv[0] is the command name),
 * and returns the process exit status.
 */
#ifndef POCALERT_CLI_H
#define POCALERT_CLI_H

#define CLI_EXIT_OK 0
#define CLI_EXIT_FAILURE 1 /* runtime failure */
#define CLI_EXIT_USAGE 2   /* bad usage or bad input */

struct cli_command {
	const char *name;
	const char *help;
	int (*run)(const char *config, int argc, char **argv);
};

int cli_contacts(const char *config, int argc, char **argv);
/* cli_alerts.c: the operator's alert commands, on the HTTP API. */
int cli_send(const char *config, int argc, char **argv);
int cli_status(const char *config, int argc, char **argv);
int cli_alerts(const char *config, int argc, char **argv);
int cli_cancel(const char *config, int argc, char **argv);
int cli_serve(const char *config, int argc, char **argv);
/* cli_audit.c: checks of the database itself, daemon or not. */
int cli_audit(const char *config, int argc, char **argv);
int cli_calendar(const char *config, int argc, char **argv);
/* cli_config.c: `config check`. */
int cli_config(const char *config, int argc, char **argv);
/* cli_backup.c: `backup` and `restore` of the store. */
int cli_backup(const char *config, int argc, char **argv);
int cli_restore(const char *config, int argc, char **argv);

struct config;
/*
 * Puts the calendar imported into config's database (if any) in place of
 * the config's: returns 1 when it did, 0 when none was imported, or a
 * negative errno when the database could not be read.
 */
int cli_calendar_apply(struct config *config);
/* The same with a store already open (a running daemon's, on reload). */
struct store;
int cli_calendar_apply_store(struct store *s, struct config *config);

#endif
