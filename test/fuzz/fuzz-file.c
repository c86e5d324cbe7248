/*
 * fuzz_file(): see fuzz-file.h. The directory is left behind on exit: a
 * fuzzer ends by signal or by libFuzzer's exit, with no hook that runs
 * every time; it holds one small file. scripts/fuzz removes them.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "test/fuzz/fuzz-file.h"

const char *fuzz_file(const char *name, const uint8_t *data, size_t size)
{
	static char dir[256], path[512];
	const char *tmp = getenv("TMPDIR");
	FILE *f;

	if (dir[0] == '\0') {
		/*
		 * Memory-backed when there is one: a file written per run
		 * to a disk-backed /tmp made these targets eight times
		 * slower.
		 */
		if (tmp == NULL || *tmp == '\0')
			tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm"
							    : "/tmp";
		snprintf(dir, sizeof(dir), "%s/pocalert-fuzz-%ld", tmp,
			 (long)getpid());
		if (mkdir(dir, 0700) < 0 && access(dir, W_OK) < 0)
			return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (f == NULL)
		return NULL;
	if (size > 0 && fwrite(data, 1, size, f) != size) {
		fclose(f);
		return NULL;
	}
	fclose(f);
	return path;
}
