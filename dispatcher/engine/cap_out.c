/*
 * CAP 1.2 out (see cap_out.h). The elements go out in the schema's order
 * with the values CAP knows: severity critical/high/medium/low as
 * Extreme/Severe/Moderate/Minor (the inverse of CAP in, cap.c), urgency
 * Immediate and certainty Observed since an alert is issued about what
 * has been seen, category Security for a cyber-security centre's alerts.
 * Times are written in Japan's offset, which has no summer time, so the
 * fixed +09:00 is always right.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <libxml/xmlwriter.h>

#include "dispatcher/engine/cap.h"
#include "dispatcher/engine/cap_out.h"

static const struct {
	const char *ours, *cap;
} cap_out_severity[] = {
	{"critical", "Extreme"},
	{"high", "Severe"},
	{"medium", "Moderate"},
	{"low", "Minor"},
};

void cap_time_jst(int64_t t, char out[26])
{
	time_t local = (time_t)(t + 9 * 3600);
	struct tm tm;

	gmtime_r(&local, &tm);
	snprintf(out, 26, "%04u-%02u-%02uT%02u:%02u:%02u+09:00",
		 (unsigned)(tm.tm_year + 1900) % 10000u,
		 (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
		 (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u,
		 (unsigned)tm.tm_sec % 100u);
}

/* One <name>text</name>; libxml2 escapes the text. */
static int elem(xmlTextWriterPtr w, const char *name, const char *text)
{
	return xmlTextWriterWriteElement(w, BAD_CAST name, BAD_CAST text) < 0
		       ? -ENOMEM
		       : 0;
}

int cap_write(const struct cap_out *in, struct buf *out)
{
	const char *severity = NULL;
	char sent[26], restriction[32];
	xmlBufferPtr xb = NULL;
	xmlTextWriterPtr w = NULL;
	int r = -ENOMEM;

	for (size_t i = 0;
	     i < sizeof(cap_out_severity) / sizeof(cap_out_severity[0]); i++)
		if (in->severity &&
		    strcmp(in->severity, cap_out_severity[i].ours) == 0)
			severity = cap_out_severity[i].cap;
	if (severity == NULL)
		return -EINVAL;
	cap_time_jst(in->sent, sent);
	snprintf(restriction, sizeof(restriction), "%s", tlp_label(in->tlp));
	xb = xmlBufferCreate();
	w = xb ? xmlNewTextWriterMemory(xb, 0) : NULL;
	if (w == NULL)
		goto out;
	xmlTextWriterSetIndent(w, 1);
	if (xmlTextWriterStartDocument(w, NULL, "UTF-8", NULL) < 0 ||
	    xmlTextWriterStartElementNS(w, NULL, BAD_CAST "alert",
					BAD_CAST CAP_NS) < 0)
		goto out;
	if (elem(w, "identifier", in->identifier) < 0 ||
	    elem(w, "sender", in->sender) < 0 || elem(w, "sent", sent) < 0 ||
	    elem(w, "status", in->drill ? "Exercise" : "Actual") < 0 ||
	    elem(w, "msgType", "Alert") < 0 ||
	    elem(w, "scope", in->tlp == TLP_CLEAR ? "Public" : "Restricted") <
		    0 ||
	    elem(w, "restriction", restriction) < 0)
		goto out;
	/* A drill is its own exercise: its id names it. */
	if (in->drill && elem(w, "note", in->identifier) < 0)
		goto out;
	if (xmlTextWriterStartElement(w, BAD_CAST "info") < 0 ||
	    elem(w, "language", in->language ? in->language : "ja-JP") < 0 ||
	    elem(w, "category", "Security") < 0 ||
	    elem(w, "event", in->title) < 0 ||
	    elem(w, "urgency", "Immediate") < 0 ||
	    elem(w, "severity", severity) < 0 ||
	    elem(w, "certainty", "Observed") < 0 ||
	    elem(w, "headline", in->title) < 0 ||
	    (in->body != NULL && elem(w, "description", in->body) < 0) ||
	    xmlTextWriterEndElement(w) < 0)
		goto out;
	if (xmlTextWriterEndDocument(w) < 0)
		goto out;
	xmlFreeTextWriter(w);
	w = NULL;
	r = buf_append(out, xmlBufferContent(xb), (size_t)xmlBufferLength(xb)) <
			    0
		    ? -ENOMEM
		    : 0;
out:
	xmlFreeTextWriter(w);
	xmlBufferFree(xb);
	return r;
}
