#include "dispatcher/cli.h"
int cli_contacts(const char *config, int argc, char **argv)
{
	(void)config;
	(void)argc;
	(void)argv;
	return CLI_EXIT_USAGE;
}
