/*
 * OASIS CAP 1.2 in: a pure parser and validator for an <alert> document
 * (libxml2, no network, no DTD, no entities) and its mapping onto the
 * operator API's alert (alert.h). No event loop, no store: the API and
 * the tests call it on a byte buffer. Every error names the element by
 * its path, such as /alert/info[1]/severity, so that whoever wrote the
 * document can find what to fix.
 */
#ifndef POCALERT_CAP_H
#define POCALERT_CAP_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "dispatcher/engine/alert.h"

#define CAP_NS "urn:oasis:names:tc:emergency:cap:1.2"
#define CAP_ID_LEN 25		    /* YYYYMMDD-XXXXXXXXXXXXXXXX */
#define CAP_MAX_BYTES (1024 * 1024) /* a CAP message larger is refused */

/* One <info> block: what pocalert reads of it. Strings owned, or NULL. */
struct cap_info {
	char *language; /* "en-US" when absent, as the schema defaults it */
	char *event;
	char *urgency, *severity, *certainty;
	char *headline, *description, *instruction;
	char *targets; /* <parameter> pocalert:targets, or NULL */
	char *type;    /* <parameter> pocalert:type, or NULL */
};

/* A valid CAP 1.2 <alert>. Strings owned, or NULL when absent. */
struct cap_alert {
	char *identifier, *sender, *sent;
	char *status, *msg_type, *source, *scope;
	char *restriction, *addresses, *note, *references, *incidents;
	struct cap_info *infos; /* owned array of n_infos */
	size_t n_infos;
};

/* Why a document was refused. */
struct cap_error {
	char path[128];	   /* "/alert/info[1]/severity"; "" for the document */
	char message[256]; /* what is wrong there */
};

/*
 * Parses and validates len bytes of XML against the CAP 1.2 rules: the
 * elements of <alert> and <info> in the schema's order and numbers, the
 * enumerations, `sent` and the other times with an explicit offset
 * (never Z), Restricted with <restriction>, Private with <addresses>. A
 * document with a DOCTYPE or an entity reference is refused: CAP has no
 * use for either, and refusing them is what keeps XXE and "billion
 * laughs" out. Returns 0 and fills *ret (cap_alert_free()), or -EINVAL
 * with *err filled (-ENOMEM on memory).
 */
int cap_parse(const char *xml, size_t len, struct cap_alert *ret,
	      struct cap_error *err);

/* Frees what the alert owns. NULL is a no-op. */
void cap_alert_free(struct cap_alert *a);

/*
 * Maps a parsed msgType=Alert message onto the operator API's JSON body
 * (see the table in README.md): status Actual is an alert, Exercise a
 * drill; Test, System and Draft are refused with the reason; the TLP
 * label from <restriction>, CLEAR for Public without one; title from
 * event and headline, body from note (drills), description and
 * instruction of the ja-JP block (else the first); severity from CAP's;
 * targets from <addresses> (organisation ids) or pocalert:targets.
 * Returns 0 and *ret (the caller's reference), or -EINVAL with *err.
 */
int cap_to_request(const struct cap_alert *a, json_t **ret,
		   struct cap_error *err);

/*
 * The alert id a CAP message always maps to: the day of its `sent` as
 * written, and 16 hex digits of SHA-256 over sender, identifier and sent
 * ("20250601-" + 16), so that the same message posted twice names the
 * same alert and the API can answer with it instead of sending again.
 */
void cap_alert_id(const struct cap_alert *a, char out[CAP_ID_LEN + 1]);

#define CAP_REFS_MAX 16 /* references read from one message */

/*
 * The alert ids of the messages a's <references> names ("sender,
 * identifier,sent" separated by spaces), as cap_alert_id() made them:
 * how an Update or Cancel finds the alert its first report became.
 * Fills ids with *n of them. Returns 0, or -EINVAL with *err when a
 * reference is malformed, there is none, or more than CAP_REFS_MAX.
 */
int cap_reference_ids(const struct cap_alert *a, char ids[][CAP_ID_LEN + 1],
		      size_t *n, struct cap_error *err);

/*
 * Checks what pocalert takes of status for any msgType: Actual, or
 * Exercise (a drill); 0, or -EINVAL with *err saying why the others are
 * refused.
 */
int cap_status_usable(const struct cap_alert *a, struct cap_error *err);

/*
 * cap_to_request, then the operator API's own checks
 * (alert_input_from_json) with their field named back as the element it
 * came from. Returns 0 and fills *ret (alert_input_free()) with ret->id
 * from cap_alert_id(), or -EINVAL with *err (http_status 400, the
 * message starting with the element's path, field holding as much of
 * the path as fits).
 */
int cap_to_input(const struct cap_alert *a, struct alert_input *ret,
		 struct alert_error *err);

/*
 * The whole intake of a CAP Alert body: cap_parse, then cap_to_input.
 */
int cap_alert_input(const char *xml, size_t len, struct alert_input *ret,
		    struct alert_error *err);

#endif
