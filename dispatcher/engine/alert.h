/*
 * An alert as an operator submits it, and its validation. Every rule of
 * the operator API lives here so that the API, later CAP intake and the
 * tests share one definition of a good alert.
 */
#ifndef POCALERT_ALERT_H
#define POCALERT_ALERT_H

#include <stdbool.h>
#include <stddef.h>

#include "common/tlp.h"

#define ALERT_TITLE_MAX 200	   /* characters */
#define ALERT_BODY_MAX (64 * 1024) /* bytes */

struct alert_input {
	char *title;	/* owned; 1..200 characters, no control characters */
	char *body;	/* owned; valid UTF-8, <= 64 KiB */
	char *type;	/* owned; early-warning, incident, ... */
	char *severity; /* owned; critical, high, medium, low */
	enum tlp tlp;
	bool drill;
	char **targets; /* owned; "all", "sector:NAME", "org:ID" */
	size_t n_targets;
	char *policy; /* owned; may be NULL */
	char *mode;   /* owned; "normal" or "large-scale", may be NULL */
	char *id;     /* owned; the id to take (CAP intake's stable one,
			 cap.h), NULL for a fresh one; never from JSON */
};

/* Why an input was refused: what the API answers. */
struct alert_error {
	int http_status; /* 400, or 413 for an oversize body */
	char field[32];	 /* the offending field, "" when none */
	char message[256];
};

/*
 * Parses and checks a JSON request body. Returns 0 and fills *ret (the
 * caller frees it with alert_input_free) or -EINVAL with *err filled.
 * Target names are checked for shape here; whether they exist in the
 * directory is the planner's question.
 */
int alert_input_from_json(const char *json, size_t len, struct alert_input *ret,
			  struct alert_error *err);

/* Frees what the input owns. NULL is a no-op. */
void alert_input_free(struct alert_input *in);

/* True for a known type / severity name. */
bool alert_type_valid(const char *s);
bool alert_severity_valid(const char *s);

/* Fills err; returns -EINVAL for use in return statements. */
int alert_error_set(struct alert_error *err, int http_status, const char *field,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
