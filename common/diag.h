/*
 * Diagnostics: the list of errors found in an input file, each one line of
 * the form "FILE:LINE: message". Parsers and validators append to a list
 * instead of stopping at the first error, so an operator sees every
 * problem of a file in one run.
 */
#ifndef POCALERT_DIAG_H
#define POCALERT_DIAG_H

#include <stddef.h>
#include <stdio.h>

struct diag_list {
	char **lines; /* owned; each "FILE:LINE: message" */
	size_t n;     /* lines used */
	size_t cap;   /* lines allocated */
};

/*
 * Appends "FILE:LINE: message". A line of 0 omits the number ("FILE:
 * message"); a NULL file omits both. Returns 0 or -ENOMEM.
 */
int diag_add(struct diag_list *d, const char *file, int line, const char *fmt,
	     ...) __attribute__((format(printf, 4, 5)));

/* Prints every line to f, one per line. */
void diag_print(const struct diag_list *d, FILE *f);

/* Frees the lines and empties the list; the list itself stays usable. */
void diag_clear(struct diag_list *d);

#endif
