/*
 * libFuzzer target: the mail renderer (channels/mail_render.c). The input
 * is split at 0xFF bytes into the message's fields and the From display
 * name; whatever they hold, the message must keep RFC 5322's shape: every
 * line ends in CRLF and is at most 998 octets, no header value carries a
 * CR or LF of its own (a continuation line starts with white space), and
 * no header appears that a plain message does not have, nor twice (no
 * injected Bcc:, no second Subject:).
 */
#include <assert.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "channels/mail_render.h"

#define MAX_NAMES 64

/* Header names a message may carry, from renderings of plain messages. */
static char *known[MAX_NAMES];
static size_t n_known;

/* The name of the header line at p (up to ':'), into out. */
static bool header_name(const char *p, size_t len, char *out, size_t outsz)
{
	size_t n = 0;

	while (n < len && p[n] != ':') {
		if (!(p[n] == '-' || (p[n] >= '0' && p[n] <= '9') ||
		      (p[n] >= 'A' && p[n] <= 'Z') ||
		      (p[n] >= 'a' && p[n] <= 'z')))
			return false;
		n++;
	}
	if (n == 0 || n == len || n >= outsz)
		return false;
	memcpy(out, p, n);
	out[n] = '\0';
	return true;
}

static bool is_known(const char *name)
{
	for (size_t i = 0; i < n_known; i++)
		if (strcmp(known[i], name) == 0)
			return true;
	return false;
}

/*
 * Walks text: checks line endings and lengths everywhere and the header
 * block's shape. With learn, adds header names to known instead of
 * checking them.
 */
static void check(const char *text, bool learn)
{
	char seen[MAX_NAMES][80], name[80];
	size_t n_seen = 0, len = strlen(text);
	bool in_headers = true;

	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t end = nl ? (size_t)(nl - text) : len;

		/* Every line ends in CRLF; a bare CR or LF never appears. */
		assert(nl != NULL && end > i && text[end - 1] == '\r');
		assert(memchr(text + i, '\r', end - 1 - i) == NULL);
		/* Say which line, for whoever reads the crash. */
		if (end - 1 - i > 998)
			fprintf(stderr, "line of %zu octets: %.120s...\n",
				end - 1 - i, text + i);
		assert(end - 1 - i <= 998);
		if (in_headers && end - 1 == i) {
			in_headers = false;
		} else if (in_headers && text[i] != ' ' && text[i] != '\t') {
			assert(header_name(text + i, end - 1 - i, name,
					   sizeof(name)));
			if (learn) {
				if (!is_known(name) && n_known < MAX_NAMES)
					known[n_known++] = strdup(name);
			} else {
				assert(is_known(name));
				for (size_t k = 0; k < n_seen; k++)
					assert(strcmp(seen[k], name) != 0);
				if (n_seen < MAX_NAMES)
					strcpy(seen[n_seen++], name);
			}
		}
		i = end + 1;
	}
	assert(!in_headers);
}

static struct channel_message plain(void)
{
	return (struct channel_message){
		.key = "A-1-1",
		.address = "poc@example.jp",
		.charset = "utf-8",
		.language = "ja",
		.alert_id = "A-1",
		.title = "注意喚起",
		.body = "本文",
		.type = "incident",
		.severity = "high",
		.tlp = TLP_AMBER,
		.org_id = "org",
		.org_name = "組織",
		.contact_id = "c",
		.contact_name = "山田",
		.ack_url = "https://pocalert.example.jp/ack/t",
		.created_at = 1714554000,
	};
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	static const char *const kinds[] = {"alert", "cancel", "unreachable"};
	static const char *const charsets[] = {"utf-8", "iso-2022-jp"};
	struct mail_from from;
	char *text;

	(void)argc;
	(void)argv;
	if (mail_from_parse("警報 <alert@example.jp>", &from) < 0)
		abort();
	for (size_t k = 0; k < 3; k++)
		for (size_t c = 0; c < 2; c++)
			for (int d = 0; d < 2; d++) {
				struct channel_message m = plain();

				m.kind = kinds[k];
				m.charset = charsets[c];
				m.drill = d;
				m.ack_url = d ? NULL : m.ack_url;
				if (mail_render(&m, &from, 0, &text) < 0)
					abort();
				check(text, true);
				free(text);
			}
	mail_from_clear(&from);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Fields in input order; missing ones keep the plain value. */
	struct channel_message m = plain();
	const char **fields[] = {
		&m.title,    &m.body,	    &m.org_name, &m.contact_name,
		&m.alert_id, &m.type,	    &m.severity, &m.ack_url,
		&m.kind,     &m.contact_id, &m.key,	 &m.address,
	};
	char *copy = malloc(size + 1), *p = copy, *from_text = NULL, *text;
	struct mail_from from;
	size_t f = 0;

	if (copy == NULL)
		return 0;
	memcpy(copy, data, size);
	copy[size] = '\0';
	if (size > 0) {
		m.charset = data[0] & 1 ? "iso-2022-jp" : "utf-8";
		m.language = data[0] & 2 ? "en" : "ja";
		m.drill = data[0] & 4;
		m.tlp = (enum tlp)((data[0] >> 3) % 5);
		p++;
	}
	/* The From's display name first, then the message's fields. */
	for (char *cut; p != NULL; f++) {
		cut = strchr(p, '\xFF');
		if (cut)
			*cut = '\0';
		if (f == 0)
			from_text = p;
		else if (f - 1 < sizeof(fields) / sizeof(fields[0]))
			*fields[f - 1] = p;
		p = cut ? cut + 1 : NULL;
	}
	{
		char addr[1100];

		snprintf(addr, sizeof(addr), "%.1000s <alert@example.jp>",
			 from_text ? from_text : "");
		if (mail_from_parse(addr, &from) < 0 &&
		    mail_from_parse("alert@example.jp", &from) < 0)
			abort();
	}
	/* A From that config would refuse never reaches the renderer. */
	if (mail_from_check(&from, NULL) == 0 &&
	    mail_render(&m, &from, 1714554000, &text) == 0) {
		check(text, false);
		free(text);
	}
	mail_from_clear(&from);
	free(copy);
	return 0;
}
