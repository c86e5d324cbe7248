/*
 * TLP 2.0 names and labels: see tlp.h.
 */
#include <errno.h>
#include <string.h>

#include "common/tlp.h"

static const char *const tlp_names[] = {
	[TLP_CLEAR] = "CLEAR", [TLP_GREEN] = "GREEN",
	[TLP_AMBER] = "AMBER", [TLP_AMBER_STRICT] = "AMBER+STRICT",
	[TLP_RED] = "RED",
};

static const char *const tlp_labels[] = {
	[TLP_CLEAR] = "TLP:CLEAR", [TLP_GREEN] = "TLP:GREEN",
	[TLP_AMBER] = "TLP:AMBER", [TLP_AMBER_STRICT] = "TLP:AMBER+STRICT",
	[TLP_RED] = "TLP:RED",
};

int tlp_parse(const char *s, enum tlp *ret)
{
	if (s == NULL)
		return -EINVAL;
	if (strncmp(s, "TLP:", 4) == 0)
		s += 4;
	if (strcmp(s, "WHITE") == 0) {
		*ret = TLP_CLEAR;
		return 0;
	}
	for (size_t i = 0; i < sizeof(tlp_names) / sizeof(tlp_names[0]); i++) {
		if (strcmp(s, tlp_names[i]) == 0) {
			*ret = (enum tlp)i;
			return 0;
		}
	}
	return -EINVAL;
}

const char *tlp_name(enum tlp level)
{
	return tlp_names[level];
}

const char *tlp_label(enum tlp level)
{
	return tlp_labels[level];
}
