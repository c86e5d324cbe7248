/*
 * libFuzzer target: the daemon's config (dispatcher/engine/config.c over
 * common/cfgfile.c): channels, policies, operators, includes. Loading
 * only; nothing is started.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "dispatcher/engine/config.h"
#include "test/fuzz/fuzz-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config *c = NULL;
	struct diag_list diags = {0};
	const char *path = fuzz_file("pocalert.conf", data, size);

	if (path == NULL)
		return 0;
	if (config_load(path, &c, &diags) == 0)
		config_free(c);
	diag_clear(&diags);
	return 0;
}
