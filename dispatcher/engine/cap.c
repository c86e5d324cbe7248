/*
 * CAP 1.2 in (see cap.h). Three parts: reading the bytes with libxml2
 * under options that fetch nothing and expand nothing; one table-driven
 * walk that checks each element's children against the schema's
 * sequence (order, minOccurs, maxOccurs) and each leaf's text against its
 * type, building the path of every element as it goes; and the mapping
 * of a valid message onto the operator API's JSON, which then passes the
 * same checks as any other alert (alert.c), so that CAP cannot smuggle in
 * an alert the API would refuse.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "common/buf.h"
#include "common/crypto.h"
#include "common/tlp.h"
#include "dispatcher/engine/cap.h"

/* What a leaf's text must look like. */
enum cap_type {
	CAP_STRING,
	CAP_ENUM,
	CAP_TIME,    /* YYYY-MM-DDThh:mm:ss+hh:mm or -hh:mm */
	CAP_INTEGER, /* xs:integer */
	CAP_DECIMAL, /* xs:decimal */
	CAP_COMPLEX, /* has children, described by .children */
};

struct cap_elem;

/* Called for each child element that matched; may store what it read. */
typedef int (*cap_store_fn)(void *obj, const struct cap_elem *e,
			    xmlNodePtr node, const char *path,
			    struct cap_error *err);

/* One element of a sequence, as the schema declares it. */
struct cap_elem {
	const char *name;
	int min, max; /* max 0: unbounded */
	enum cap_type type;
	const char *const *values;	 /* CAP_ENUM: NULL-terminated */
	const struct cap_elem *children; /* CAP_COMPLEX: name NULL ends */
	size_t offset;			 /* where a string goes in obj */
	cap_store_fn store;		 /* NULL: checked, not kept */
};

static const char *const cap_status[] = {"Actual", "Exercise", "System",
					 "Test",   "Draft",    NULL};
static const char *const cap_msg_types[] = {"Alert", "Update", "Cancel",
					    "Ack",   "Error",  NULL};
static const char *const cap_scopes[] = {"Public", "Restricted", "Private",
					 NULL};
static const char *const cap_categories[] = {
	"Geo", "Met",	    "Safety", "Security", "Rescue", "Fire", "Health",
	"Env", "Transport", "Infra",  "CBRNE",	  "Other",  NULL};
static const char *const cap_responses[] = {
	"Shelter", "Evacuate", "Prepare",  "Execute", "Avoid",
	"Monitor", "Assess",   "AllClear", "None",    NULL};
static const char *const cap_urgencies[] = {"Immediate", "Expected", "Future",
					    "Past",	 "Unknown",  NULL};
static const char *const cap_severities[] = {"Extreme", "Severe",  "Moderate",
					     "Minor",	"Unknown", NULL};
static const char *const cap_certainties[] = {"Observed", "Likely",  "Possible",
					      "Unlikely", "Unknown", NULL};

static int cap_err(struct cap_error *err, const char *path, const char *fmt,
		   ...) __attribute__((format(printf, 3, 4)));

static int cap_err(struct cap_error *err, const char *path, const char *fmt,
		   ...)
{
	va_list ap;

	snprintf(err->path, sizeof(err->path), "%s", path);
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int store_string(void *obj, const struct cap_elem *e, xmlNodePtr node,
			const char *path, struct cap_error *err)
{
	char **slot = (char **)((char *)obj + e->offset);
	xmlChar *text = xmlNodeGetContent(node);

	(void)path;
	(void)err;
	if (text == NULL)
		return -ENOMEM;
	free(*slot);
	*slot = strdup((const char *)text);
	xmlFree(text);
	return *slot ? 0 : -ENOMEM;
}

/* The text of node's child element named name, or NULL; xmlFree it. */
static xmlChar *child_text(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr c = node->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)c->name, name) == 0)
			return xmlNodeGetContent(c);
	return NULL;
}

/* <parameter>: pocalert:targets and pocalert:type are ours; the rest pass. */
static int store_parameter(void *obj, const struct cap_elem *e, xmlNodePtr node,
			   const char *path, struct cap_error *err)
{
	struct cap_info *info = obj;
	xmlChar *name = child_text(node, "valueName");
	xmlChar *value = child_text(node, "value");
	char **slot = NULL;
	int r = 0;

	(void)e;
	if (name != NULL && strcmp((const char *)name, "pocalert:targets") == 0)
		slot = &info->targets;
	else if (name != NULL &&
		 strcmp((const char *)name, "pocalert:type") == 0)
		slot = &info->type;
	if (slot != NULL && *slot != NULL) {
		r = cap_err(err, path, "%s is given twice", (char *)name);
	} else if (slot != NULL) {
		*slot = strdup(value ? (const char *)value : "");
		r = *slot ? 0 : -ENOMEM;
	}
	xmlFree(name);
	xmlFree(value);
	return r;
}

static int store_info(void *obj, const struct cap_elem *e, xmlNodePtr node,
		      const char *path, struct cap_error *err);

#define INFO_OFF(f) offsetof(struct cap_info, f)
#define ALERT_OFF(f) offsetof(struct cap_alert, f)

static const struct cap_elem cap_pair[] = {
	{"valueName", 1, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"value", 1, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cap_elem cap_resource[] = {
	{"resourceDesc", 1, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"mimeType", 1, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"size", 0, 1, CAP_INTEGER, NULL, NULL, 0, NULL},
	{"uri", 0, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"derefUri", 0, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"digest", 0, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cap_elem cap_area[] = {
	{"areaDesc", 1, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"polygon", 0, 0, CAP_STRING, NULL, NULL, 0, NULL},
	{"circle", 0, 0, CAP_STRING, NULL, NULL, 0, NULL},
	{"geocode", 0, 0, CAP_COMPLEX, NULL, cap_pair, 0, NULL},
	{"altitude", 0, 1, CAP_DECIMAL, NULL, NULL, 0, NULL},
	{"ceiling", 0, 1, CAP_DECIMAL, NULL, NULL, 0, NULL},
	{NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cap_elem cap_info_seq[] = {
	{"language", 0, 1, CAP_STRING, NULL, NULL, INFO_OFF(language),
	 store_string},
	{"category", 1, 0, CAP_ENUM, cap_categories, NULL, 0, NULL},
	{"event", 1, 1, CAP_STRING, NULL, NULL, INFO_OFF(event), store_string},
	{"responseType", 0, 0, CAP_ENUM, cap_responses, NULL, 0, NULL},
	{"urgency", 1, 1, CAP_ENUM, cap_urgencies, NULL, INFO_OFF(urgency),
	 store_string},
	{"severity", 1, 1, CAP_ENUM, cap_severities, NULL, INFO_OFF(severity),
	 store_string},
	{"certainty", 1, 1, CAP_ENUM, cap_certainties, NULL,
	 INFO_OFF(certainty), store_string},
	{"audience", 0, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"eventCode", 0, 0, CAP_COMPLEX, NULL, cap_pair, 0, NULL},
	{"effective", 0, 1, CAP_TIME, NULL, NULL, 0, NULL},
	{"onset", 0, 1, CAP_TIME, NULL, NULL, 0, NULL},
	{"expires", 0, 1, CAP_TIME, NULL, NULL, 0, NULL},
	{"senderName", 0, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"headline", 0, 1, CAP_STRING, NULL, NULL, INFO_OFF(headline),
	 store_string},
	{"description", 0, 1, CAP_STRING, NULL, NULL, INFO_OFF(description),
	 store_string},
	{"instruction", 0, 1, CAP_STRING, NULL, NULL, INFO_OFF(instruction),
	 store_string},
	{"web", 0, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"contact", 0, 1, CAP_STRING, NULL, NULL, 0, NULL},
	{"parameter", 0, 0, CAP_COMPLEX, NULL, cap_pair, 0, store_parameter},
	{"resource", 0, 0, CAP_COMPLEX, NULL, cap_resource, 0, NULL},
	{"area", 0, 0, CAP_COMPLEX, NULL, cap_area, 0, NULL},
	{NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static const struct cap_elem cap_alert_seq[] = {
	{"identifier", 1, 1, CAP_STRING, NULL, NULL, ALERT_OFF(identifier),
	 store_string},
	{"sender", 1, 1, CAP_STRING, NULL, NULL, ALERT_OFF(sender),
	 store_string},
	{"sent", 1, 1, CAP_TIME, NULL, NULL, ALERT_OFF(sent), store_string},
	{"status", 1, 1, CAP_ENUM, cap_status, NULL, ALERT_OFF(status),
	 store_string},
	{"msgType", 1, 1, CAP_ENUM, cap_msg_types, NULL, ALERT_OFF(msg_type),
	 store_string},
	{"source", 0, 1, CAP_STRING, NULL, NULL, ALERT_OFF(source),
	 store_string},
	{"scope", 1, 1, CAP_ENUM, cap_scopes, NULL, ALERT_OFF(scope),
	 store_string},
	{"restriction", 0, 1, CAP_STRING, NULL, NULL, ALERT_OFF(restriction),
	 store_string},
	{"addresses", 0, 1, CAP_STRING, NULL, NULL, ALERT_OFF(addresses),
	 store_string},
	{"code", 0, 0, CAP_STRING, NULL, NULL, 0, NULL},
	{"note", 0, 1, CAP_STRING, NULL, NULL, ALERT_OFF(note), store_string},
	{"references", 0, 1, CAP_STRING, NULL, NULL, ALERT_OFF(references),
	 store_string},
	{"incidents", 0, 1, CAP_STRING, NULL, NULL, ALERT_OFF(incidents),
	 store_string},
	{"info", 0, 0, CAP_COMPLEX, NULL, cap_info_seq, 0, store_info},
	{NULL, 0, 0, 0, NULL, NULL, 0, NULL},
};

static int cap_walk(xmlNodePtr parent, const struct cap_elem *seq, void *obj,
		    const char *path, struct cap_error *err);

static int store_info(void *obj, const struct cap_elem *e, xmlNodePtr node,
		      const char *path, struct cap_error *err)
{
	struct cap_alert *a = obj;
	struct cap_info *n;
	int r;

	n = realloc(a->infos, (a->n_infos + 1) * sizeof(*n));
	if (n == NULL)
		return -ENOMEM;
	a->infos = n;
	n = &a->infos[a->n_infos++];
	memset(n, 0, sizeof(*n));
	r = cap_walk(node, e->children, n, path, err);
	if (r == 0 && n->language == NULL)
		n->language = strdup("en-US");
	if (r == 0 && n->language == NULL)
		r = -ENOMEM;
	return r;
}

static bool is_digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/*
 * CAP's dateTime: the schema's pattern, read strictly. The schema's
 * "[-,+]" also lets a comma through, which is a slip of its authors, not
 * a time zone: refused here. Field ranges are checked too, so that a
 * month 13 does not reach the timeline.
 */
static bool cap_time_valid(const char *s)
{
	int mo, d, h, mi, sec, oh, om;

	if (strlen(s) != 25 || !is_digits(s, 4) || s[4] != '-' ||
	    !is_digits(s + 5, 2) || s[7] != '-' || !is_digits(s + 8, 2) ||
	    s[10] != 'T' || !is_digits(s + 11, 2) || s[13] != ':' ||
	    !is_digits(s + 14, 2) || s[16] != ':' || !is_digits(s + 17, 2) ||
	    (s[19] != '+' && s[19] != '-') || !is_digits(s + 20, 2) ||
	    s[22] != ':' || !is_digits(s + 23, 2))
		return false;
	mo = atoi(s + 5);
	d = atoi(s + 8);
	h = atoi(s + 11);
	mi = atoi(s + 14);
	sec = atoi(s + 17);
	oh = atoi(s + 20);
	om = atoi(s + 23);
	return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 &&
	       mi <= 59 && sec <= 60 && oh <= 14 && om <= 59;
}

static bool cap_number_valid(const char *s, bool decimal)
{
	const char *p = s;
	bool digits = false, dot = false;

	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	if (*p == '+' || *p == '-')
		p++;
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			digits = true;
		else if (*p == '.' && decimal && !dot)
			dot = true;
		else
			break;
	}
	while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
		p++;
	return digits && *p == '\0';
}

/* Checks a leaf: no child elements, text of its type. */
static int cap_check_leaf(xmlNodePtr node, const struct cap_elem *e,
			  const char *path, struct cap_error *err)
{
	xmlChar *x;
	const char *t;
	int r = 0;

	for (xmlNodePtr c = node->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE)
			return cap_err(err, path, "holds text only, not <%s>",
				       (const char *)c->name);
	x = xmlNodeGetContent(node);
	if (x == NULL)
		return -ENOMEM;
	t = (const char *)x;
	switch (e->type) {
	case CAP_ENUM: {
		char list[200] = "";
		bool ok = false;

		for (const char *const *v = e->values; *v; v++) {
			if (strcmp(*v, t) == 0)
				ok = true;
			snprintf(list + strlen(list),
				 sizeof(list) - strlen(list), "%s%s",
				 v == e->values ? "" : ", ", *v);
		}
		if (!ok)
			r = cap_err(err, path, "\"%.64s\" is not one of %s", t,
				    list);
		break;
	}
	case CAP_TIME:
		if (!cap_time_valid(t))
			r = cap_err(err, path,
				    "\"%.64s\" is not a time of the form "
				    "YYYY-MM-DDThh:mm:ss+hh:mm (an explicit "
				    "offset: -00:00 for UTC, never Z)",
				    t);
		break;
	case CAP_INTEGER:
	case CAP_DECIMAL:
		if (!cap_number_valid(t, e->type == CAP_DECIMAL))
			r = cap_err(err, path, "\"%.64s\" is not a%s number", t,
				    e->type == CAP_DECIMAL ? " decimal"
							   : "n integer");
		break;
	default:
		break;
	}
	xmlFree(x);
	return r;
}

static bool cap_node_in_ns(xmlNodePtr n)
{
	return n->ns != NULL && n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, CAP_NS) == 0;
}

/* True when an element named name follows node among its siblings. */
static bool cap_later_sibling(xmlNodePtr node, const char *name)
{
	for (xmlNodePtr n = node->next; n != NULL; n = n->next)
		if (n->type == XML_ELEMENT_NODE &&
		    strcmp((const char *)n->name, name) == 0)
			return true;
	return false;
}

/*
 * Walks the children of parent against seq: elements in the sequence's
 * order, each within its numbers; text only as whitespace between them.
 * A repeatable element's path carries its position ("info[2]").
 */
static int cap_walk(xmlNodePtr parent, const struct cap_elem *seq, void *obj,
		    const char *path, struct cap_error *err)
{
	int counts[32] = {0};
	size_t at = 0, n_seq = 0;
	char sub[128];
	int r;

	while (seq[n_seq].name != NULL)
		n_seq++;
	for (xmlNodePtr c = parent->children; c != NULL; c = c->next) {
		const char *name = (const char *)c->name;
		size_t k;

		if (c->type == XML_ENTITY_REF_NODE)
			return cap_err(err, path,
				       "entity references (&%s;) are not "
				       "allowed",
				       name);
		if (c->type == XML_TEXT_NODE ||
		    c->type == XML_CDATA_SECTION_NODE) {
			for (const xmlChar *p = c->content; p && *p; p++)
				if (!strchr(" \t\r\n", *p))
					return cap_err(err, path,
						       "holds elements, not "
						       "text");
			continue;
		}
		if (c->type != XML_ELEMENT_NODE)
			continue; /* comments, processing instructions */
		/* The schema's last word: XML signatures after <info>. */
		if (parent->parent != NULL &&
		    parent->parent->type == XML_DOCUMENT_NODE && c->ns &&
		    strcmp((const char *)c->ns->href,
			   "http://www.w3.org/2000/09/xmldsig#") == 0) {
			at = n_seq;
			continue;
		}
		snprintf(sub, sizeof(sub), "%s/%s", path, name);
		if (!cap_node_in_ns(c))
			return cap_err(err, sub,
				       "is not in the CAP 1.2 namespace %s",
				       CAP_NS);
		for (k = at; k < n_seq; k++)
			if (strcmp(seq[k].name, name) == 0)
				break;
		if (k == n_seq) {
			for (k = 0; k < at; k++)
				if (strcmp(seq[k].name, name) == 0)
					break;
			if (k < at)
				return cap_err(err, sub,
					       "is out of order: it must come "
					       "before <%s>",
					       seq[at].name);
			return cap_err(err, sub,
				       "is not a CAP 1.2 element here");
		}
		/*
		 * Everything skipped over must have been optional; one that
		 * comes later is out of order rather than missing.
		 */
		for (size_t j = at; j < k; j++) {
			if (counts[j] >= seq[j].min)
				continue;
			if (cap_later_sibling(c, seq[j].name))
				return cap_err(err, sub,
					       "is out of order: <%s> must "
					       "come before it",
					       seq[j].name);
			return cap_err(err, path, "<%s> is missing before <%s>",
				       seq[j].name, name);
		}
		at = k;
		counts[k]++;
		if (seq[k].max != 0 && counts[k] > seq[k].max)
			return cap_err(err, sub, "may appear only once");
		if (seq[k].max != 1)
			snprintf(sub, sizeof(sub), "%s/%s[%d]", path, name,
				 counts[k]);
		if (seq[k].type == CAP_COMPLEX) {
			/* info's walk happens inside store_info. */
			r = seq[k].store == store_info
				    ? 0
				    : cap_walk(c, seq[k].children, obj, sub,
					       err);
		} else {
			r = cap_check_leaf(c, &seq[k], sub, err);
		}
		if (r == 0 && seq[k].store != NULL)
			r = seq[k].store(obj, &seq[k], c, sub, err);
		if (r < 0)
			return r;
	}
	for (size_t j = at; j < n_seq; j++)
		if (counts[j] < seq[j].min)
			return cap_err(err, path, "<%s> is missing",
				       seq[j].name);
	return 0;
}

/* Rules between elements that the schema's grammar cannot say. */
static int cap_check_rules(const struct cap_alert *a, struct cap_error *err)
{
	if (strcmp(a->scope, "Restricted") == 0 && a->restriction == NULL)
		return cap_err(err, "/alert/scope",
			       "Restricted needs <restriction>");
	if (strcmp(a->scope, "Private") == 0 && a->addresses == NULL)
		return cap_err(err, "/alert/scope",
			       "Private needs <addresses>");
	if ((strcmp(a->msg_type, "Update") == 0 ||
	     strcmp(a->msg_type, "Cancel") == 0 ||
	     strcmp(a->msg_type, "Ack") == 0) &&
	    a->references == NULL)
		return cap_err(err, "/alert/msgType",
			       "%s needs <references> to the message it is "
			       "about",
			       a->msg_type);
	return 0;
}

int cap_parse(const char *xml, size_t len, struct cap_alert *ret,
	      struct cap_error *err)
{
	struct cap_alert a = {0};
	xmlParserCtxtPtr ctx = NULL;
	xmlDocPtr doc = NULL;
	xmlNodePtr root;
	int r;

	memset(err, 0, sizeof(*err));
	if (len > CAP_MAX_BYTES)
		return cap_err(err, "", "larger than %d bytes", CAP_MAX_BYTES);
	ctx = xmlNewParserCtxt();
	if (ctx == NULL)
		return -ENOMEM;
	/*
	 * No XML_PARSE_NOENT (entities stay references, refused below), no
	 * DTDLOAD or DTDATTR (nothing outside is read), NONET for good
	 * measure, and no errors on stderr: they come back in err.
	 */
	doc = xmlCtxtReadMemory(ctx, xml, (int)len, "cap.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
					XML_PARSE_NOWARNING |
					XML_PARSE_NOCDATA);
	if (doc == NULL) {
		const xmlError *e = xmlCtxtGetLastError(ctx);
		char msg[200] = "not well-formed XML";

		if (e != NULL && e->message != NULL) {
			snprintf(msg, sizeof(msg), "%s", e->message);
			msg[strcspn(msg, "\n")] = '\0';
		}
		r = cap_err(err, "", "not well-formed XML: line %d: %s",
			    e ? e->line : 0, msg);
		goto out;
	}
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		r = cap_err(err, "",
			    "a DOCTYPE is not allowed in a CAP message");
		goto out;
	}
	root = xmlDocGetRootElement(doc);
	if (root == NULL || strcmp((const char *)root->name, "alert") != 0 ||
	    !cap_node_in_ns(root)) {
		r = cap_err(err, "/", "the root must be <alert> in %s", CAP_NS);
		goto out;
	}
	r = cap_walk(root, cap_alert_seq, &a, "/alert", err);
	if (r == 0)
		r = cap_check_rules(&a, err);
out:
	xmlFreeDoc(doc);
	xmlFreeParserCtxt(ctx);
	if (r == 0) {
		*ret = a;
		return 0;
	}
	cap_alert_free(&a);
	return r;
}

void cap_alert_free(struct cap_alert *a)
{
	if (a == NULL)
		return;
	for (size_t i = 0; i < a->n_infos; i++) {
		struct cap_info *n = &a->infos[i];

		free(n->language);
		free(n->event);
		free(n->urgency);
		free(n->severity);
		free(n->certainty);
		free(n->headline);
		free(n->description);
		free(n->instruction);
		free(n->targets);
		free(n->type);
	}
	free(a->infos);
	free(a->identifier);
	free(a->sender);
	free(a->sent);
	free(a->status);
	free(a->msg_type);
	free(a->source);
	free(a->scope);
	free(a->restriction);
	free(a->addresses);
	free(a->note);
	free(a->references);
	free(a->incidents);
	memset(a, 0, sizeof(*a));
}

/* ---- mapping onto the operator API's alert ---- */

/* The info block pocalert reads: ja-JP when there is one, else the first. */
static size_t cap_pick_info(const struct cap_alert *a)
{
	for (size_t i = 0; i < a->n_infos; i++)
		if (strcmp(a->infos[i].language, "ja-JP") == 0)
			return i;
	return 0;
}

/* The first "TLP:..." word of <restriction>; 0 and *ret, or -EINVAL. */
static int cap_restriction_tlp(const char *s, enum tlp *ret)
{
	const char *p = strstr(s, "TLP:");
	char word[32];
	size_t n;

	if (p == NULL)
		return -EINVAL;
	n = strcspn(p, " \t\r\n,;");
	if (n >= sizeof(word))
		return -EINVAL;
	memcpy(word, p, n);
	word[n] = '\0';
	return tlp_parse(word, ret);
}

static const struct {
	const char *cap, *ours;
} cap_severity_map[] = {
	{"Extreme", "critical"},
	{"Severe", "high"},
	{"Moderate", "medium"},
	{"Minor", "low"},
};

/*
 * <addresses>: organisation ids separated by spaces, an id with spaces
 * in double quotes (CAP's rule). Each becomes "org:ID".
 */
static int cap_add_addresses(json_t *targets, const char *s)
{
	const char *p = s;

	while (*p) {
		const char *start;
		size_t n;
		char *t;

		while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n')
			p++;
		if (*p == '\0')
			break;
		if (*p == '"') {
			start = ++p;
			n = strcspn(p, "\"");
			p += n + (p[n] == '"');
		} else {
			start = p;
			n = strcspn(p, " \t\r\n");
			p += n;
		}
		if (n == 0)
			continue;
		if (asprintf(&t, "org:%.*s", (int)n, start) < 0)
			return -ENOMEM;
		json_array_append_new(targets, json_string(t));
		free(t);
	}
	return 0;
}

/* pocalert:targets: our own syntax, separated by commas or spaces. */
static int cap_add_targets(json_t *targets, const char *s)
{
	const char *p = s;

	while (*p) {
		size_t n;

		p += strspn(p, ", \t\r\n");
		n = strcspn(p, ", \t\r\n");
		if (n > 0)
			json_array_append_new(targets, json_stringn(p, n));
		p += n;
	}
	return 0;
}

/* Appends text to the body with a blank line between parts. */
static int cap_body_add(struct buf *b, const char *label, const char *text)
{
	if (text == NULL || text[strspn(text, " \t\r\n")] == '\0')
		return 0;
	if (b->len > 0 && buf_puts(b, "\n\n") < 0)
		return -ENOMEM;
	if (label != NULL && buf_puts(b, label) < 0)
		return -ENOMEM;
	return buf_puts(b, text) < 0 ? -ENOMEM : 0;
}

int cap_status_usable(const struct cap_alert *a, struct cap_error *err)
{
	if (strcmp(a->status, "Actual") == 0 ||
	    strcmp(a->status, "Exercise") == 0)
		return 0;
	return cap_err(err, "/alert/status",
		       "%s is refused: pocalert sends Actual alerts and "
		       "Exercise drills only (%s)",
		       a->status,
		       strcmp(a->status, "Test") == 0
			       ? "a Test is to be discarded"
		       : strcmp(a->status, "System") == 0
			       ? "System messages are for the network, not "
				 "for people"
			       : "a Draft is not to be acted on");
}

int cap_reference_ids(const struct cap_alert *a, char ids[][CAP_ID_LEN + 1],
		      size_t *n, struct cap_error *err)
{
	const char *p = a->references ? a->references : "";
	size_t k = 0;

	while (*p) {
		struct cap_alert ref = {0};
		char *triple, *c1, *c2;
		size_t len;

		p += strspn(p, " \t\r\n");
		len = strcspn(p, " \t\r\n");
		if (len == 0)
			break;
		if (k == CAP_REFS_MAX)
			return cap_err(err, "/alert/references",
				       "names more than %d messages",
				       CAP_REFS_MAX);
		triple = strndup(p, len);
		if (triple == NULL)
			return -ENOMEM;
		p += len;
		c1 = strchr(triple, ',');
		c2 = c1 ? strchr(c1 + 1, ',') : NULL;
		if (c2 == NULL || strchr(c2 + 1, ',') != NULL || c1 == triple ||
		    c2 == c1 + 1 || !cap_time_valid(c2 + 1)) {
			cap_err(err, "/alert/references",
				"\"%.64s\" is not sender,identifier,sent",
				triple);
			free(triple);
			return -EINVAL;
		}
		*c1 = *c2 = '\0';
		ref.sender = triple;
		ref.identifier = c1 + 1;
		ref.sent = c2 + 1;
		cap_alert_id(&ref, ids[k++]);
		free(triple);
	}
	if (k == 0)
		return cap_err(err, "/alert/references", "names no message");
	*n = k;
	return 0;
}

int cap_to_request(const struct cap_alert *a, json_t **ret,
		   struct cap_error *err)
{
	const struct cap_info *in;
	const char *severity = NULL;
	char ipath[64];
	struct buf body = {0};
	json_t *o = NULL, *targets = NULL;
	enum tlp tlp = TLP_CLEAR;
	bool drill;
	size_t k;
	int r;

	if (strcmp(a->msg_type, "Alert") != 0)
		return cap_err(err, "/alert/msgType",
			       "%s is not a new alert; pocalert takes Alert "
			       "here",
			       a->msg_type);
	r = cap_status_usable(a, err);
	if (r < 0)
		return r;
	drill = strcmp(a->status, "Exercise") == 0;
	if (a->restriction != NULL) {
		if (cap_restriction_tlp(a->restriction, &tlp) < 0 &&
		    strcmp(a->scope, "Public") != 0)
			return cap_err(err, "/alert/restriction",
				       "carries no TLP 2.0 label (TLP:CLEAR, "
				       "TLP:GREEN, TLP:AMBER, "
				       "TLP:AMBER+STRICT or TLP:RED)");
	} else if (strcmp(a->scope, "Public") != 0) {
		return cap_err(err, "/alert/restriction",
			       "is missing: a %s alert needs its TLP label "
			       "there",
			       a->scope);
	}
	if (a->n_infos == 0)
		return cap_err(err, "/alert/info",
			       "is missing: pocalert needs an <info> block for "
			       "the alert's title and severity");
	k = cap_pick_info(a);
	in = &a->infos[k];
	snprintf(ipath, sizeof(ipath), "/alert/info[%zu]", k + 1);
	for (size_t i = 0;
	     i < sizeof(cap_severity_map) / sizeof(cap_severity_map[0]); i++)
		if (strcmp(in->severity, cap_severity_map[i].cap) == 0)
			severity = cap_severity_map[i].ours;
	if (severity == NULL) {
		char p[96];

		snprintf(p, sizeof(p), "%s/severity", ipath);
		return cap_err(err, p,
			       "Unknown has no pocalert severity: give "
			       "Extreme, Severe, Moderate or Minor");
	}
	targets = json_array();
	if (targets == NULL)
		return -ENOMEM;
	r = 0;
	if (a->addresses != NULL)
		r = cap_add_addresses(targets, a->addresses);
	if (r == 0 && in->targets != NULL)
		r = cap_add_targets(targets, in->targets);
	if (r < 0)
		goto out;
	if (json_array_size(targets) == 0) {
		r = cap_err(err, "/alert/addresses",
			    "is missing: name the organisations there, or in "
			    "a <parameter> pocalert:targets of %s",
			    ipath);
		goto out;
	}
	if ((drill && cap_body_add(&body, "Exercise: ", a->note) < 0) ||
	    cap_body_add(&body, NULL, in->description) < 0 ||
	    cap_body_add(&body, NULL, in->instruction) < 0) {
		r = -ENOMEM;
		goto out;
	}
	/* The API wants a body; an event alone still says what happened. */
	if (body.len == 0 && cap_body_add(&body, NULL, in->event) < 0) {
		r = -ENOMEM;
		goto out;
	}
	o = json_pack("{ss ss* ss ss ss sO sb}", "title",
		      in->headline ? in->headline : in->event, "body",
		      body.data, "type", in->type ? in->type : "early-warning",
		      "severity", severity, "tlp", tlp_name(tlp), "targets",
		      targets, "drill", drill);
	if (o == NULL) {
		/* json_pack refuses bad UTF-8: libxml2 gave us UTF-8, so ENOMEM. */
		r = -ENOMEM;
		goto out;
	}
	*ret = o;
	r = 0;
out:
	buf_free(&body);
	json_decref(targets);
	return r;
}

/* The element an API field came from, for errors in CAP's terms. */
static void cap_field_path(const struct cap_alert *a, const char *field,
			   char *out, size_t len)
{
	size_t k = cap_pick_info(a);
	const struct cap_info *in = a->n_infos ? &a->infos[k] : NULL;

	if (strcmp(field, "title") == 0)
		snprintf(out, len, "/alert/info[%zu]/%s", k + 1,
			 in && in->headline ? "headline" : "event");
	else if (strcmp(field, "body") == 0)
		snprintf(out, len, "/alert/info[%zu]/description", k + 1);
	else if (strcmp(field, "type") == 0)
		snprintf(out, len, "/alert/info[%zu]/parameter", k + 1);
	else if (strcmp(field, "targets") == 0)
		snprintf(out, len, "%s",
			 a->addresses ? "/alert/addresses" : "/alert/info");
	else
		snprintf(out, len, "/alert");
}

void cap_alert_id(const struct cap_alert *a, char out[CAP_ID_LEN + 1])
{
	uint8_t sum[SHA256_LEN];
	char hex[17];
	struct buf key = {0};

	/* Newlines cannot occur in a valid sent; they keep fields apart. */
	if (buf_printf(&key, "%s\n%s\n%s", a->sender, a->identifier, a->sent) <
	    0) {
		/* Out of memory: hash what there is, still deterministic. */
		crypto_sha256(a->identifier, strlen(a->identifier), sum);
	} else {
		crypto_sha256(key.data, key.len, sum);
	}
	buf_free(&key);
	crypto_hex(sum, 8, hex);
	snprintf(out, CAP_ID_LEN + 1, "%.4s%.2s%.2s-%s", a->sent, a->sent + 5,
		 a->sent + 8, hex);
}

/* The path as the error's field, cut to fit: the message has it whole. */
static void cap_set_field(struct alert_error *err, const char *path)
{
	size_t n = strlen(path);

	if (n >= sizeof(err->field))
		n = sizeof(err->field) - 1;
	memcpy(err->field, path, n);
	err->field[n] = '\0';
}

int cap_to_input(const struct cap_alert *a, struct alert_input *ret,
		 struct alert_error *err)
{
	struct cap_error cerr = {0};
	struct alert_error aerr = {0};
	json_t *req = NULL;
	char *text = NULL, path[128];
	int r;

	r = cap_to_request(a, &req, &cerr);
	if (r == -EINVAL) {
		alert_error_set(err, 400, "", "%s: %s", cerr.path,
				cerr.message);
		cap_set_field(err, cerr.path);
		goto out;
	}
	if (r < 0)
		goto out;
	text = json_dumps(req, JSON_COMPACT);
	if (text == NULL) {
		r = -ENOMEM;
		goto out;
	}
	r = alert_input_from_json(text, strlen(text), ret, &aerr);
	if (r == 0) {
		char id[CAP_ID_LEN + 1];

		cap_alert_id(a, id);
		ret->id = strdup(id);
		if (ret->id == NULL) {
			alert_input_free(ret);
			r = -ENOMEM;
		}
	} else if (r == -EINVAL) {
		cap_field_path(a, aerr.field, path, sizeof(path));
		alert_error_set(err, aerr.http_status ? aerr.http_status : 400,
				"", "%s: %s", path, aerr.message);
		cap_set_field(err, path);
	}
out:
	free(text);
	json_decref(req);
	return r;
}

int cap_alert_input(const char *xml, size_t len, struct alert_input *ret,
		    struct alert_error *err)
{
	struct cap_alert a = {0};
	struct cap_error cerr = {0};
	int r = cap_parse(xml, len, &a, &cerr);

	if (r == -EINVAL) {
		alert_error_set(err, 400, "", "%s%s%s", cerr.path,
				cerr.path[0] ? ": " : "", cerr.message);
		cap_set_field(err, cerr.path);
	}
	if (r == 0)
		r = cap_to_input(&a, ret, err);
	cap_alert_free(&a);
	return r;
}
