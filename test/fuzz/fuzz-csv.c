/*
 * libFuzzer target: the directory CSV parser (contacts/parse_csv.c), the
 * path `pocalert contacts import FILE.csv` takes, in UTF-8 and CP932 (the
 * first input byte picks). Any input must end in a directory or in
 * FILE:LINE errors, never in a crash, a leak or undefined behaviour.
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
	const char *enc, *path;

	if (size == 0)
		return 0;
	enc = data[0] & 1 ? "cp932" : NULL;
	path = fuzz_file("dir.csv", data + 1, size - 1);
	if (path == NULL)
		return 0;
	dir_parse_csv(path, enc, &d, &diags);
	directory_free(&d);
	diag_clear(&diags);
	return 0;
}
