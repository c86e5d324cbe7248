/*
 * Unit tests for dispatcher/engine/cap.c: the OASIS examples beside the
 * project (../shared/domain/cap/), every enumeration, ordering and count
 * errors with the path each one names, the rules the schema cannot say,
 * hostile documents (billion laughs, external entities), and the mapping
 * onto the operator API's alert. Where xmllint and the OASIS schema are
 * there, each document's verdict is also checked against the schema's,
 * so that "valid CAP" means what the standard means, not what we think.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "dispatcher/engine/cap.h"

#define XSD CAP_DIR "/CAP-v1.2.xsd"

/* A full message with every element pocalert reads; tests edit it. */
static const char full_doc[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
	"  <identifier>NISC-2026-0042</identifier>\n"
	"  <sender>alert@nisc.example.jp</sender>\n"
	"  <sent>2026-11-29T09:00:00+09:00</sent>\n"
	"  <status>Actual</status>\n"
	"  <msgType>Alert</msgType>\n"
	"  <scope>Restricted</scope>\n"
	"  <restriction>TLP:AMBER</restriction>\n"
	"  <addresses>bank-001 \"water-7\"</addresses>\n"
	"  <code>pocalert</code>\n"
	"  <note>see the portal</note>\n"
	"  <info>\n"
	"    <language>en-US</language>\n"
	"    <category>Security</category>\n"
	"    <event>Cyber attack</event>\n"
	"    <urgency>Immediate</urgency>\n"
	"    <severity>Moderate</severity>\n"
	"    <certainty>Likely</certainty>\n"
	"    <headline>Attack on banks</headline>\n"
	"  </info>\n"
	"  <info>\n"
	"    <language>ja-JP</language>\n"
	"    <category>Infra</category>\n"
	"    <category>Security</category>\n"
	"    <event>サイバー攻撃</event>\n"
	"    <urgency>Immediate</urgency>\n"
	"    <severity>Severe</severity>\n"
	"    <certainty>Observed</certainty>\n"
	"    <effective>2026-11-29T09:00:00+09:00</effective>\n"
	"    <headline>金融機関への攻撃</headline>\n"
	"    <description>詳細は添付を参照。</description>\n"
	"    <instruction>ログを確認してください。</instruction>\n"
	"    <parameter><valueName>pocalert:type</valueName>"
	"<value>incident</value></parameter>\n"
	"    <area><areaDesc>日本</areaDesc><altitude>10.5</altitude></area>\n"
	"  </info>\n"
	"</alert>\n";

/* full_doc with the first occurrence of from replaced by to; free it. */
static char *edit(const char *from, const char *to)
{
	const char *at = strstr(full_doc, from);
	size_t head, tail, n;
	char *out;

	assert_non_null(at);
	/*
	 * Built by hand, not with asprintf(&out, ...): gcc 12 at -O2 takes
	 * the result for a pointer to the local `out` (-Wdangling-pointer).
	 */
	head = (size_t)(at - full_doc);
	tail = strlen(at + strlen(from));
	n = strlen(to);
	out = malloc(head + n + tail + 1);
	assert_non_null(out);
	memcpy(out, full_doc, head);
	memcpy(out + head, to, n);
	memcpy(out + head + n, at + strlen(from), tail + 1);
	return out;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf = malloc(CAP_MAX_BYTES);
	size_t n;

	assert_non_null(f);
	assert_non_null(buf);
	n = fread(buf, 1, CAP_MAX_BYTES - 1, f);
	fclose(f);
	buf[n] = '\0';
	*len = n;
	return buf;
}

/*
 * The schema's verdict on doc through xmllint: 1 valid, 0 invalid, -1
 * when xmllint or the schema is not there (the check is then skipped).
 */
static int schema_verdict(const char *doc)
{
	char path[] = "/tmp/test-cap-XXXXXX";
	int fd, status;
	pid_t pid;

	if (access("/usr/bin/xmllint", X_OK) != 0 || access(XSD, R_OK) != 0)
		return -1;
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, doc, strlen(doc)), (ssize_t)strlen(doc));
	close(fd);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		int null = open("/dev/null", O_WRONLY);

		dup2(null, 1);
		dup2(null, 2);
		execl("/usr/bin/xmllint", "xmllint", "--noout", "--nonet",
		      "--schema", XSD, path, (char *)NULL);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	unlink(path);
	assert_true(WIFEXITED(status));
	assert_int_not_equal(WEXITSTATUS(status), 127);
	return WEXITSTATUS(status) == 0;
}

/*
 * Parses doc and checks our verdict, the path and a piece of the message
 * (path NULL: must be accepted), then the schema's verdict: schema 1 or
 * 0 as xmllint must say, -1 where the schema has no say (rules it cannot
 * express, documents with a DTD).
 */
static void check(const char *doc, const char *path, const char *words,
		  int schema)
{
	struct cap_alert a = {0};
	struct cap_error err;
	int r = cap_parse(doc, strlen(doc), &a, &err);

	if (path == NULL) {
		if (r != 0)
			fail_msg("refused: %s: %s", err.path, err.message);
	} else {
		assert_int_equal(r, -EINVAL);
		if (strcmp(err.path, path) != 0 ||
		    strstr(err.message, words) == NULL)
			fail_msg("expected %s: ...%s..., got %s: %s", path,
				 words, err.path, err.message);
	}
	cap_alert_free(&a);
	if (schema >= 0) {
		int v = schema_verdict(doc);

		if (v >= 0 && v != schema)
			fail_msg("xmllint says %s, expected %s",
				 v ? "valid" : "invalid",
				 schema ? "valid" : "invalid");
	}
}

static void check_edit(const char *from, const char *to, const char *path,
		       const char *words, int schema)
{
	char *doc = edit(from, to);

	check(doc, path, words, schema);
	free(doc);
}

static void test_shared_examples(void **state)
{
	size_t len;
	char *doc;
	struct cap_alert a = {0};
	struct cap_error err;

	(void)state;
	doc = read_file(CAP_DIR "/cap-min.xml", &len);
	check(doc, NULL, NULL, 1);
	assert_int_equal(cap_parse(doc, len, &a, &err), 0);
	assert_string_equal(a.identifier, "NISC-2025-0001");
	assert_string_equal(a.status, "Exercise");
	assert_string_equal(a.restriction, "TLP:AMBER");
	assert_int_equal(a.n_infos, 1);
	assert_string_equal(a.infos[0].language, "ja-JP");
	assert_string_equal(a.infos[0].severity, "Severe");
	cap_alert_free(&a);
	free(doc);

	doc = read_file(CAP_DIR "/cap-update.xml", &len);
	check(doc, NULL, NULL, 1);
	assert_int_equal(cap_parse(doc, len, &a, &err), 0);
	assert_string_equal(a.msg_type, "Cancel");
	assert_string_equal(a.references, "alert@nisc.example.jp,"
					  "NISC-2025-0001,"
					  "2025-06-01T09:00:00+09:00");
	cap_alert_free(&a);
	free(doc);

	doc = read_file(CAP_DIR "/cap-bad.xml", &len);
	check(doc, "/alert/sent", "never Z", 0);
	free(doc);
}

static void test_full_document(void **state)
{
	struct cap_alert a = {0};
	struct cap_error err;

	(void)state;
	check(full_doc, NULL, NULL, 1);
	assert_int_equal(cap_parse(full_doc, strlen(full_doc), &a, &err), 0);
	assert_int_equal(a.n_infos, 2);
	assert_string_equal(a.infos[1].event, "サイバー攻撃");
	assert_string_equal(a.infos[1].type, "incident");
	assert_null(a.infos[0].type);
	cap_alert_free(&a);
}

/* Every value of every enumeration is taken; a near miss is refused. */
static void test_enumerations(void **state)
{
	static const struct {
		const char *elem, *path, *values[13];
	} enums[] = {
		{"status",
		 "/alert/status",
		 {"Actual", "Exercise", "System", "Test", "Draft"}},
		{"msgType",
		 "/alert/msgType",
		 {"Alert", "Update", "Cancel", "Ack", "Error"}},
		{"scope", "/alert/scope", {"Public", "Restricted", "Private"}},
		{"urgency",
		 "/alert/info[1]/urgency",
		 {"Immediate", "Expected", "Future", "Past", "Unknown"}},
		{"severity",
		 "/alert/info[1]/severity",
		 {"Extreme", "Severe", "Moderate", "Minor", "Unknown"}},
		{"certainty",
		 "/alert/info[1]/certainty",
		 {"Observed", "Likely", "Possible", "Unlikely", "Unknown"}},
		{"category",
		 "/alert/info[1]/category[1]",
		 {"Geo", "Met", "Safety", "Security", "Rescue", "Fire",
		  "Health", "Env", "Transport", "Infra", "CBRNE", "Other"}},
	};
	char from[64], to[96];

	(void)state;
	for (size_t i = 0; i < sizeof(enums) / sizeof(enums[0]); i++) {
		const char *e = enums[i].elem;
		const char *cur;
		char *start;

		start = strstr(full_doc, e);
		assert_non_null(start);
		/* The current value: from after "<e>" to "</". */
		cur = start + strlen(e) + 1;
		snprintf(from, sizeof(from), "<%s>%.*s</%s>", e,
			 (int)strcspn(cur, "<"), cur, e);
		for (size_t k = 0; enums[i].values[k] != NULL; k++) {
			int schema = 1;

			snprintf(to, sizeof(to), "<%s>%s</%s>", e,
				 enums[i].values[k], e);
			/* msgType Update, Cancel and Ack need references. */
			if (strcmp(e, "msgType") == 0 && k >= 1 && k <= 3) {
				check_edit(from, to, "/alert/msgType",
					   "needs <references>", 1);
				continue;
			}
			/* Private needs addresses, which full_doc has. */
			check_edit(from, to, NULL, NULL, schema);
		}
		snprintf(to, sizeof(to), "<%s>Bad</%s>", e, e);
		check_edit(from, to, enums[i].path, "\"Bad\" is not one of", 0);
		/* Case matters, and so does surrounding space. */
		snprintf(to, sizeof(to), "<%s> %s</%s>", e, enums[i].values[0],
			 e);
		check_edit(from, to, enums[i].path, "is not one of", 0);
	}
	check_edit("<severity>Severe</severity>", "<severity>Bad</severity>",
		   "/alert/info[2]/severity",
		   "\"Bad\" is not one of Extreme, Severe, Moderate, Minor, "
		   "Unknown",
		   0);
}

static void test_order_and_counts(void **state)
{
	(void)state;
	/* sender before identifier */
	check_edit("<identifier>NISC-2026-0042</identifier>\n"
		   "  <sender>alert@nisc.example.jp</sender>",
		   "<sender>alert@nisc.example.jp</sender>\n"
		   "  <identifier>NISC-2026-0042</identifier>",
		   "/alert/sender",
		   "out of order: <identifier> must come "
		   "before it",
		   0);
	/* a required element missing */
	check_edit("<status>Actual</status>", "", "/alert",
		   "<status> is missing before <msgType>", 0);
	check_edit("<certainty>Observed</certainty>", "", "/alert/info[2]",
		   "<certainty> is missing", 0);
	/* one too many */
	check_edit("<note>see the portal</note>",
		   "<note>a</note><note>b</note>", "/alert/note", "only once",
		   0);
	/* an element that is not CAP's */
	check_edit("<note>", "<colour>red</colour><note>", "/alert/colour",
		   "not a CAP 1.2 element", 0);
	/* the wrong namespace */
	check_edit("<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">",
		   "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.1\">",
		   "/", "root must be <alert>", 0);
	/* text where elements belong, elements where text belongs */
	check_edit("<note>", "stray<note>", "/alert", "not text", 0);
	check_edit("<note>see the portal</note>", "<note><b>see</b></note>",
		   "/alert/note", "text only", 0);
	/* info before note */
	check_edit("<code>pocalert</code>\n  <note>see the portal</note>",
		   "<code>pocalert</code>", NULL, NULL, 1);
	check(full_doc, NULL, NULL, 1);
	/* numbers */
	check_edit("<altitude>10.5</altitude>", "<altitude>high</altitude>",
		   "/alert/info[2]/area[1]/altitude", "not a decimal", 0);
	/* not XML at all */
	check("<alert", "", "not well-formed", 0);
	check("", "", "not well-formed", 0);
}

static void test_times(void **state)
{
	static const struct {
		const char *sent;
		int ok;
	} cases[] = {
		{"2026-11-29T09:00:00+09:00", 1},
		{"2026-11-29T00:00:00-00:00", 1},
		{"2026-11-29T00:00:00Z", 0},
		{"2026-11-29T00:00:00", 0},
		{"2026-11-29 00:00:00+09:00", 0},
		{"2026-11-29T00:00:00.5+09:00", 0},
		{"26-11-29T00:00:00+09:00", 0},
	};
	char to[96];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(to, sizeof(to), "<sent>%s</sent>", cases[i].sent);
		check_edit("<sent>2026-11-29T09:00:00+09:00</sent>", to,
			   cases[i].ok ? NULL : "/alert/sent",
			   cases[i].ok ? NULL : "explicit offset", cases[i].ok);
	}
	/* The pattern passes a month 13; we do not (schema has no say). */
	check_edit("<sent>2026-11-29T09:00:00+09:00</sent>",
		   "<sent>2026-13-29T09:00:00+09:00</sent>", "/alert/sent",
		   "explicit offset", -1);
	check_edit("<effective>2026-11-29T09:00:00+09:00</effective>",
		   "<effective>2026-11-29T09:00:00Z</effective>",
		   "/alert/info[2]/effective", "never Z", 0);
}

/* Rules of CAP that the schema's grammar cannot express. */
static void test_rules(void **state)
{
	(void)state;
	check_edit("<restriction>TLP:AMBER</restriction>", "", "/alert/scope",
		   "Restricted needs <restriction>", 1);
	check_edit("<scope>Restricted</scope>\n"
		   "  <restriction>TLP:AMBER</restriction>\n"
		   "  <addresses>bank-001 \"water-7\"</addresses>",
		   "<scope>Private</scope>", "/alert/scope",
		   "Private needs <addresses>", 1);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Billion laughs and external entities: refused at once, nothing read. */
static void test_hostile(void **state)
{
	static const char laughs[] =
		"<?xml version=\"1.0\"?>\n"
		"<!DOCTYPE alert [\n"
		" <!ENTITY a \"lollollollollollollollollollol\">\n"
		" <!ENTITY b \"&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;\">\n"
		" <!ENTITY c \"&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;\">\n"
		" <!ENTITY d \"&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;\">\n"
		" <!ENTITY e \"&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;\">\n"
		" <!ENTITY f \"&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;\">\n"
		" <!ENTITY g \"&f;&f;&f;&f;&f;&f;&f;&f;&f;&f;\">\n"
		" <!ENTITY h \"&g;&g;&g;&g;&g;&g;&g;&g;&g;&g;\">\n"
		" <!ENTITY i \"&h;&h;&h;&h;&h;&h;&h;&h;&h;&h;\">\n"
		"]>\n"
		"<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
		"<identifier>&i;</identifier></alert>\n";
	char xxe[512];
	char canary[] = "/tmp/test-cap-canary-XXXXXX";
	double t0;
	int fd;

	(void)state;
	t0 = now_s();
	/* libxml2 may see the loop before we see the DOCTYPE: either way. */
	check(laughs, "", "", -1);
	assert_true(now_s() - t0 < 1.0);

	/*
	 * An external entity naming a file that holds a secret: refused, and
	 * the error does not carry the file's text.
	 */
	fd = mkstemp(canary);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "SECRET-CANARY", 13), 13);
	close(fd);
	snprintf(xxe, sizeof(xxe),
		 "<?xml version=\"1.0\"?>\n"
		 "<!DOCTYPE alert [ <!ENTITY x SYSTEM \"file://%s\"> ]>\n"
		 "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">"
		 "<identifier>&x;</identifier></alert>\n",
		 canary);
	{
		struct cap_alert a = {0};
		struct cap_error err;

		assert_int_equal(cap_parse(xxe, strlen(xxe), &a, &err),
				 -EINVAL);
		assert_null(strstr(err.message, "SECRET"));
		assert_non_null(strstr(err.message, "DOCTYPE"));
	}
	unlink(canary);
	/* Over the network: the same refusal, before anything is fetched. */
	check("<?xml version=\"1.0\"?>\n"
	      "<!DOCTYPE alert SYSTEM \"http://127.0.0.1:9/cap.dtd\">\n"
	      "<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\"/>\n",
	      "", "DOCTYPE", -1);
}

/* The mapping onto the API's alert, and its refusals by path. */
static void test_mapping(void **state)
{
	struct alert_input in = {0};
	struct alert_error err = {0};
	size_t len;
	char *doc;

	(void)state;
	assert_int_equal(cap_alert_input(full_doc, strlen(full_doc), &in, &err),
			 0);
	/* The ja-JP block wins over the first. */
	assert_string_equal(in.title, "金融機関への攻撃");
	assert_string_equal(in.body,
			    "詳細は添付を参照。\n\nログを確認してください。");
	assert_string_equal(in.severity, "high");
	assert_string_equal(in.type, "incident");
	assert_int_equal(in.tlp, TLP_AMBER);
	assert_false(in.drill);
	assert_int_equal(in.n_targets, 2);
	assert_string_equal(in.targets[0], "org:bank-001");
	assert_string_equal(in.targets[1], "org:water-7");
	alert_input_free(&in);

	/* The shared example: a drill, its note at the top of the body. */
	doc = read_file(CAP_DIR "/cap-min.xml", &len);
	memset(&err, 0, sizeof(err));
	assert_int_equal(cap_alert_input(doc, len, &in, &err), -EINVAL);
	assert_string_equal(err.field, "/alert/addresses");
	free(doc);
}

static void expect_refused(const char *from, const char *to, const char *path,
			   const char *words)
{
	struct alert_input in = {0};
	struct alert_error err = {0};
	char *doc = edit(from, to);
	int r = cap_alert_input(doc, strlen(doc), &in, &err);

	if (r != -EINVAL || strncmp(err.message, path, strlen(path)) != 0 ||
	    strstr(err.message, words) == NULL)
		fail_msg("expected %s ...%s..., got %d %s", path, words, r,
			 err.message);
	assert_int_equal(err.http_status, 400);
	alert_input_free(&in);
	free(doc);
}

static void expect_mapped(const char *from, const char *to,
			  struct alert_input *ret)
{
	struct alert_error err = {0};
	char *doc = edit(from, to);

	if (cap_alert_input(doc, strlen(doc), ret, &err) != 0)
		fail_msg("refused: %s", err.message);
	free(doc);
}

static void test_mapping_rules(void **state)
{
	struct alert_input in = {0};
	static const struct {
		const char *cap, *ours;
	} sev[] = {{"Extreme", "critical"},
		   {"Severe", "high"},
		   {"Moderate", "medium"},
		   {"Minor", "low"}};
	char to[64];

	(void)state;
	expect_refused("<status>Actual</status>", "<status>Test</status>",
		       "/alert/status", "Test is refused");
	expect_refused("<status>Actual</status>", "<status>System</status>",
		       "/alert/status", "System is refused");
	expect_refused("<status>Actual</status>", "<status>Draft</status>",
		       "/alert/status", "Draft is refused");
	expect_refused("<msgType>Alert</msgType>", "<msgType>Error</msgType>",
		       "/alert/msgType", "not a new alert");
	expect_refused("<severity>Severe</severity>",
		       "<severity>Unknown</severity>",
		       "/alert/info[2]/severity", "Unknown");
	expect_refused("<restriction>TLP:AMBER</restriction>",
		       "<restriction>members only</restriction>",
		       "/alert/restriction", "no TLP 2.0 label");
	expect_refused("<restriction>TLP:AMBER</restriction>",
		       "<restriction>TLP:PURPLE</restriction>",
		       "/alert/restriction", "no TLP 2.0 label");
	expect_refused("<addresses>bank-001 \"water-7\"</addresses>", "",
		       "/alert/addresses", "is missing");
	expect_refused("<headline>金融機関への攻撃</headline>",
		       "<headline>a\tb</headline>", "/alert/info[2]/headline",
		       "");
	expect_refused("<value>incident</value>", "<value>gossip</value>",
		       "/alert/info[2]/parameter", "");

	for (size_t i = 0; i < 4; i++) {
		snprintf(to, sizeof(to), "<severity>%s</severity>", sev[i].cap);
		expect_mapped("<severity>Severe</severity>", to, &in);
		assert_string_equal(in.severity, sev[i].ours);
		alert_input_free(&in);
	}
	/* Exercise: a drill, the exercise id from <note> heads the body. */
	expect_mapped("<status>Actual</status>", "<status>Exercise</status>",
		      &in);
	assert_true(in.drill);
	assert_string_equal(in.body, "Exercise: see the portal\n\n"
				     "詳細は添付を参照。\n\n"
				     "ログを確認してください。");
	alert_input_free(&in);
	/* Public without a restriction is CLEAR. */
	expect_mapped("<scope>Restricted</scope>\n"
		      "  <restriction>TLP:AMBER</restriction>",
		      "<scope>Public</scope>", &in);
	assert_int_equal(in.tlp, TLP_CLEAR);
	alert_input_free(&in);
	/* RED stays RED; TLP 1.0's WHITE reads as CLEAR. */
	expect_mapped("<restriction>TLP:AMBER</restriction>",
		      "<restriction>TLP:RED</restriction>", &in);
	assert_int_equal(in.tlp, TLP_RED);
	alert_input_free(&in);
	expect_mapped("<restriction>TLP:AMBER</restriction>",
		      "<restriction>TLP:WHITE</restriction>", &in);
	assert_int_equal(in.tlp, TLP_CLEAR);
	alert_input_free(&in);
}

static void test_targets_parameter(void **state)
{
	struct alert_input in = {0};
	struct alert_error err = {0};
	char *doc = edit("<addresses>bank-001 \"water-7\"</addresses>", "");
	char *doc2, *area = strstr(doc, "<area>");
	int r, off;

	(void)state;
	assert_non_null(area);
	off = (int)(area - doc);
	assert_true(asprintf(&doc2,
			     "%.*s<parameter><valueName>pocalert:targets"
			     "</valueName><value>sector:finance, all"
			     "</value></parameter>%s",
			     off, doc, doc + off) > 0);
	r = cap_alert_input(doc2, strlen(doc2), &in, &err);
	if (r != 0)
		fail_msg("refused: %s", err.message);
	assert_int_equal(in.n_targets, 2);
	assert_string_equal(in.targets[0], "sector:finance");
	assert_string_equal(in.targets[1], "all");
	alert_input_free(&in);
	free(doc);
	free(doc2);
}

/* One message, one id; any of sender, identifier, sent changes it. */
static void test_alert_id(void **state)
{
	struct alert_input in = {0}, again = {0};
	struct alert_error err = {0};
	static const char *const edits[][2] = {
		{"NISC-2026-0042", "NISC-2026-0043"},
		{"alert@nisc.example.jp", "alert@other.example.jp"},
		{"<sent>2026-11-29T09:00:00+09:00",
		 "<sent>2026-11-29T09:00:01+09:00"},
	};

	(void)state;
	assert_int_equal(cap_alert_input(full_doc, strlen(full_doc), &in, &err),
			 0);
	assert_int_equal(
		cap_alert_input(full_doc, strlen(full_doc), &again, &err), 0);
	assert_non_null(in.id);
	assert_int_equal(strlen(in.id), CAP_ID_LEN);
	assert_memory_equal(in.id, "20261129-", 9);
	assert_string_equal(in.id, again.id);
	alert_input_free(&again);
	for (size_t i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		expect_mapped(edits[i][0], edits[i][1], &again);
		assert_string_not_equal(in.id, again.id);
		alert_input_free(&again);
	}
	alert_input_free(&in);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shared_examples),
		cmocka_unit_test(test_full_document),
		cmocka_unit_test(test_enumerations),
		cmocka_unit_test(test_order_and_counts),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_mapping),
		cmocka_unit_test(test_mapping_rules),
		cmocka_unit_test(test_targets_parameter),
		cmocka_unit_test(test_alert_id),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
