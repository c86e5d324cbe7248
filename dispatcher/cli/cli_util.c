/*
 * CLI helpers: see cli_util.h.
 */
#include <errno.h>
#include <stdio.h>

#include "common/diag.h"
#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"

int cli_load_config(const char *cli_path, struct config **ret)
{
	struct diag_list diags = {0};
	int r;

	r = config_load(config_path_choose(cli_path), ret, &diags);
	diag_print(&diags, stderr);
	diag_clear(&diags);
	if (r == -ENOMEM)
		return CLI_EXIT_FAILURE;
	return r < 0 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
}

int cli_open_store(const char *cli_path, struct store **ret)
{
	return cli_open_store_with(cli_path, 0, ret);
}

int cli_open_store_with(const char *cli_path, unsigned flags,
			struct store **ret)
{
	struct config *c;
	int status;

	status = cli_load_config(cli_path, &c);
	if (status != CLI_EXIT_OK)
		return status;
	if (store_open_with(c->database, flags, ret) < 0)
		status = CLI_EXIT_FAILURE;
	config_free(c);
	return status;
}
