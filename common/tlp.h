/*
 * Traffic Light Protocol 2.0 levels, ordered from least to most
 * restricted so that a contact method may carry an alert when
 * alert level <= method's max_tlp.
 */
#ifndef POCALERT_TLP_H
#define POCALERT_TLP_H

enum tlp {
	TLP_CLEAR = 0,
	TLP_GREEN,
	TLP_AMBER,
	TLP_AMBER_STRICT,
	TLP_RED,
};

/*
 * Parses a level name, with or without the "TLP:" prefix, in capitals as
 * the standard writes them. TLP 1.0's WHITE reads as CLEAR. Returns 0 and
 * sets *ret, or -EINVAL.
 */
int tlp_parse(const char *s, enum tlp *ret);

/* "CLEAR", "GREEN", "AMBER", "AMBER+STRICT", "RED". */
const char *tlp_name(enum tlp level);

/* "TLP:CLEAR" ... "TLP:RED": the label shown at the top of every message. */
const char *tlp_label(enum tlp level);

#endif
