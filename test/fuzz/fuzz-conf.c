/*
 * libFuzzer target: the directory .conf parser (contacts/parse_conf.c,
 * libconfuse syntax, with its validation), as `pocalert contacts import
 * FILE.conf` runs it.
 */
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "contacts/directory.h"
#include "test/fuzz/fuzz-file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct directory d = {0};
	struct diag_list diags = {0};
	const char *path = fuzz_file("dir.conf", data, size);

	if (path == NULL)
		return 0;
	dir_parse_conf(path, &d, &diags);
	directory_free(&d);
	diag_clear(&diags);
	return 0;
}
