/*
 * For fuzz targets whose parser reads a named file (the directory and
 * config parsers take a path, as the CLI gives them): the input is
 * written to one file per process, reused for every run.
 */
#ifndef POCALERT_FUZZ_FILE_H
#define POCALERT_FUZZ_FILE_H

#include <stddef.h>
#include <stdint.h>

/*
 * Writes data to $TMPDIR/pocalert-fuzz-PID/NAME (/dev/shm when TMPDIR is
 * unset, else /tmp; made on first use) and
 * returns that path (static storage), or NULL when it cannot.
 */
const char *fuzz_file(const char *name, const uint8_t *data, size_t size);

#endif
