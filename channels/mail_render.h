/*
 * Mail rendering: turns a struct channel_message into a complete RFC 5322
 * message (headers, a blank line, the body; CRLF line ends) ready to hand
 * to an SMTP client. Pure: no I/O, no clock (the caller passes the time
 * for the Date header), no randomness, so the same delivery key always
 * gives the same Message-ID and a test can check every octet.
 *
 * Two body forms: UTF-8 in base64 (the default) and ISO-2022-JP in 7bit
 * for legacy Japanese systems. Header text from the message is cleaned of
 * control characters (no header injection), non-ASCII header text becomes
 * RFC 2047 encoded words, and header lines are folded at 76 octets.
 */
#ifndef POCALERT_MAIL_RENDER_H
#define POCALERT_MAIL_RENDER_H

#include <stdbool.h>
#include <time.h>

#include "channels/channel.h"
#include "common/buf.h"

enum mail_charset {
	MAIL_CHARSET_UTF8 = 0,	/* base64 body, =?UTF-8?B?...?= words */
	MAIL_CHARSET_ISO2022JP, /* 7bit body, =?ISO-2022-JP?B?...?= words */
};

/* A parsed From header: an optional display name and an address. */
struct mail_from {
	char *display;	    /* owned; UTF-8 display name, NULL when none */
	char *address;	    /* owned; the addr-spec local@domain */
	const char *domain; /* points into address, after the '@' */
};

/*
 * True when addr is a plain ASCII addr-spec we are willing to put in an
 * SMTP envelope and a header: local@domain, printable, no white space,
 * no angle brackets, quotes, commas or other list syntax, at most 254
 * octets.
 */
bool mail_address_valid(const char *addr);

/*
 * Parses a configured From: "addr@dom", "<addr@dom>", "Name <addr@dom>"
 * or "\"Name, Inc.\" <addr@dom>"; the name may be UTF-8 (Japanese). On
 * success fills *ret (the caller frees it with mail_from_clear()) and
 * returns 0; -EINVAL when the text is not such an address (nothing is
 * written), -ENOMEM.
 */
int mail_from_parse(const char *text, struct mail_from *ret);

/*
 * Renders the From header for `from` and checks that no line is over 998
 * octets (RFC 5322), which the display name decides (alike in every
 * charset: see mail_render.c):
 * 0, -E2BIG (with *ret_longest, when not NULL, set to the longest line),
 * -ENOMEM or -errno from iconv. Run it on configuration, so a From that
 * would make every message fail is refused before the first send.
 */
int mail_from_check(const struct mail_from *from, size_t *ret_longest);

/* Frees what mail_from_parse() allocated; safe on a zeroed struct. */
void mail_from_clear(struct mail_from *from);

/*
 * Reads a contact method's charset: NULL, "", "utf-8" or "utf8" give
 * UTF-8, "iso-2022-jp" gives ISO-2022-JP (any case). -EINVAL otherwise.
 */
int mail_charset_parse(const char *name, enum mail_charset *ret);

/*
 * Appends the unstructured header "Name: value" CRLF to out. The value is
 * cleaned (control characters become spaces, runs of spaces one space);
 * non-ASCII values become RFC 2047 encoded words in cs, each at most 75
 * characters and never splitting a character; lines are folded at 76
 * octets with CRLF + space. Returns 0, -ENOMEM, or -errno from iconv.
 */
int mail_header_append(struct buf *out, const char *name, const char *value,
		       enum mail_charset cs);

/*
 * The Subject text before encoding: drill marker, cancel marker, TLP
 * label, title (see mail_render.c). Returns a malloc'd string owned by
 * the caller, or NULL when out of memory.
 */
char *mail_subject(const struct channel_message *msg);

/*
 * The Message-ID "<KEY@DOMAIN>" for a delivery key: a function of key and
 * domain only, so a retried delivery keeps its id. Octets of key outside
 * [A-Za-z0-9_+-] are written as "=XX" so any key gives a valid, distinct
 * id. Returns a malloc'd string owned by the caller, or NULL.
 */
char *mail_message_id(const char *key, const char *domain);

/*
 * Renders msg as a complete message from `from`, dated `now`, in the
 * charset msg->charset names (unknown names fall back to UTF-8, the safe
 * default). On success *ret_text gets a malloc'd NUL-terminated message
 * owned by the caller and 0 is returned; otherwise -EINVAL (no key or
 * address, or a key whose Message-ID line would pass 998 octets),
 * -ENOMEM, or -errno from iconv, and *ret_text is untouched.
 */
int mail_render(const struct channel_message *msg, const struct mail_from *from,
		time_t now, char **ret_text);

#endif
