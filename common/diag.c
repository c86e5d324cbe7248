/*
 * Diagnostics list: see diag.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "common/diag.h"

int diag_add(struct diag_list *d, const char *file, int line, const char *fmt,
	     ...)
{
	char msg[1024], *out = NULL;
	va_list ap;
	int r;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);

	if (d->n == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 8;
		char **lines = realloc(d->lines, cap * sizeof(*lines));

		if (lines == NULL)
			return -ENOMEM;
		d->lines = lines;
		d->cap = cap;
	}
	if (file == NULL)
		r = asprintf(&out, "%s", msg);
	else if (line > 0)
		r = asprintf(&out, "%s:%d: %s", file, line, msg);
	else
		r = asprintf(&out, "%s: %s", file, msg);
	if (r < 0)
		return -ENOMEM;
	d->lines[d->n++] = out;
	return 0;
}

void diag_print(const struct diag_list *d, FILE *f)
{
	for (size_t i = 0; i < d->n; i++)
		fprintf(f, "%s\n", d->lines[i]);
}

void diag_clear(struct diag_list *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->lines[i]);
	free(d->lines);
	d->lines = NULL;
	d->n = d->cap = 0;
}
