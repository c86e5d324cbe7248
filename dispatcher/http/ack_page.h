/*
 * The reply-link pages (/ack/{token}) as HTML: the page with the alert
 * and its form, the page that confirms an answer, and the error pages.
 * Pure rendering into a buffer, no HTTP and no engine calls, so every
 * byte a recipient's phone sees can be checked by a unit test.
 *
 * The pages are self-contained: inline CSS, no scripts, no external
 * assets, no automatic navigation. Mail security scanners open reply
 * links and some run JavaScript; nothing on a page may submit itself.
 * Every value that comes from an alert or a person goes through
 * html_escape().
 */
#ifndef POCALERT_ACK_PAGE_H
#define POCALERT_ACK_PAGE_H

#include <stddef.h>
#include <stdint.h>

#include "common/buf.h"
#include "dispatcher/engine/engine.h"

/* Longest name and comment a form may carry, in characters. */
#define ACK_NAME_MAX 100
#define ACK_COMMENT_MAX 2000

/*
 * Appends s[0..len) to out with & < > " ' written as character
 * references, safe in element content and in quoted attribute values.
 * Returns 0 or -ENOMEM.
 */
int html_escape(struct buf *out, const char *s, size_t len);

/* A message shown on a page, in both languages (literals, not escaped). */
struct ack_message {
	const char *ja;
	const char *en;
};

/*
 * What the person sent, shown again in the form when it comes back with
 * an error. Any field may be NULL.
 */
struct ack_form {
	const char *response;
	const char *name;
	const char *comment;
};

/*
 * The page of a reply link: TLP label, drill and cancelled banners, the
 * alert, whom it is for, the previous confirmation if any, and the form
 * that posts to the same link (id "answer", which the action's fragment
 * names). token is the link's token (only [A-Za-z0-9_-]); error, when
 * not NULL, is shown in the form, which then holds what form says was
 * sent. No answer is pre-selected unless form carries a valid one.
 * Returns 0 or -ENOMEM.
 */
int ack_page_form(struct buf *out, const struct ack_view *v, const char *token,
		  const struct ack_message *error, const struct ack_form *form);

/*
 * The page after an answer is on disk: the answer, name and comment as
 * sent, when it was recorded (recorded_at) and, when earlier, the first
 * confirmation (first_at; times are Unix ms). Returns 0 or -ENOMEM.
 */
int ack_page_confirmed(struct buf *out, const struct ack_view *v,
		       const char *token, const struct ack_form *sent,
		       int64_t recorded_at, int64_t first_at);

/*
 * An error page for status 404, 413, 415, 429 or 500 (anything else reads
 * as 500). It names nothing from the request, so that two wrong links
 * get byte-identical pages. Returns 0 or -ENOMEM.
 */
int ack_page_error(struct buf *out, int status);

/* The bilingual label of an answer ("受信確認", "Received"), or NULL. */
const struct ack_message *ack_response_label(const char *response);

#endif
