/*
 * `pocalert backup FILE` and `pocalert restore FILE`: the store copied
 * out while a daemon runs (the nightly pocalert-backup.timer runs the
 * first), and copied back in while none does. Both work on the database
 * named by the config, through the store's backend (store_backup,
 * store_restore), so no SQL lives here.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "common/log.h"
#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"

static const char backup_usage[] =
	"usage: pocalert [--config FILE] backup DEST\n"
	"\n"
	"Writes a consistent copy of the store to DEST (mode 0600, replaced\n"
	"only once complete), also while `pocalert serve` runs on it.\n";

static const char restore_usage[] =
	"usage: pocalert [--config FILE] restore SRC\n"
	"\n"
	"Replaces the store's contents with the backup SRC. Refused while a\n"
	"daemon holds the store: stop pocalert first.\n";

/* One positional argument, or --help. Returns it, or NULL with *status. */
static const char *one_arg(int argc, char **argv, const char *usage,
			   int *status)
{
	if (argc == 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		*status = CLI_EXIT_OK;
		return NULL;
	}
	if (argc != 2 || argv[1][0] == '-' || argv[1][0] == '\0') {
		fputs(usage, stderr);
		*status = CLI_EXIT_USAGE;
		return NULL;
	}
	return argv[1];
}

int cli_backup(const char *config_path, int argc, char **argv)
{
	struct store *s = NULL;
	const char *dest;
	int status, r;

	dest = one_arg(argc, argv, backup_usage, &status);
	if (dest == NULL)
		return status;
	status = cli_open_store(config_path, &s);
	if (status != CLI_EXIT_OK)
		return status;
	r = store_backup(s, dest);
	store_close(s);
	if (r < 0) {
		fprintf(stderr, "pocalert backup: %s: %s\n", dest,
			strerror(-r));
		return CLI_EXIT_FAILURE;
	}
	log_info("backup written dest=%s", dest);
	return CLI_EXIT_OK;
}

int cli_restore(const char *config_path, int argc, char **argv)
{
	struct store *s = NULL;
	const char *src;
	int status, r;

	src = one_arg(argc, argv, restore_usage, &status);
	if (src == NULL)
		return status;
	status = cli_open_store(config_path, &s);
	if (status != CLI_EXIT_OK)
		return status;
	r = store_restore(s, src);
	store_close(s);
	if (r == -EBUSY) {
		fprintf(stderr, "pocalert restore: the store is in use by a "
				"running daemon: stop it first\n");
		return CLI_EXIT_FAILURE;
	}
	if (r < 0) {
		fprintf(stderr, "pocalert restore: %s: %s\n", src,
			r == -EINVAL ? "not a pocalert store" : strerror(-r));
		return r == -EINVAL ? CLI_EXIT_USAGE : CLI_EXIT_FAILURE;
	}
	log_info("restored src=%s", src);
	return CLI_EXIT_OK;
}
