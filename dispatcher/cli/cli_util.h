/*
 * Helpers shared by the CLI commands: loading the config and opening the
 * store with errors printed the same way everywhere.
 */
#ifndef POCALERT_CLI_UTIL_H
#define POCALERT_CLI_UTIL_H

#include "dispatcher/engine/config.h"
#include "dispatcher/store/store.h"

/*
 * Loads the config (cli_path, else $POCALERT_CONFIG, else ./pocalert.conf)
 * and prints its errors. Returns an exit status; on CLI_EXIT_OK *ret owns
 * the config.
 */
int cli_load_config(const char *cli_path, struct config **ret);

/* Loads the config and opens its database. Returns an exit status. */
int cli_open_store(const char *cli_path, struct store **ret);

/* cli_open_store() with store_open_with()'s flags (STORE_OPEN_INIT). */
int cli_open_store_with(const char *cli_path, unsigned flags,
			struct store **ret);

#endif
