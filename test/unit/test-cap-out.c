/*
 * Unit tests for dispatcher/engine/cap_out.c: what pocalert writes is CAP
 * 1.2 that the OASIS schema accepts (checked with xmllint when it is
 * there) and that pocalert's own CAP intake reads back to the same alert:
 * the round trip CAP in -> alert -> CAP out.
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
#include <unistd.h>

#include <cmocka.h>

#include "dispatcher/engine/cap.h"
#include "dispatcher/engine/cap_out.h"

#define XSD CAP_DIR "/CAP-v1.2.xsd"

/* 1: the schema accepts doc; 0: it refuses it; -1: no xmllint here. */
static int schema_verdict(const char *doc)
{
	char path[] = "/tmp/test-cap-out-XXXXXX";
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

static const char upstream[] =
	"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	"<alert xmlns=\"urn:oasis:names:tc:emergency:cap:1.2\">\n"
	"  <identifier>UP-1</identifier>\n"
	"  <sender>alert@upstream.example.jp</sender>\n"
	"  <sent>2026-11-29T09:00:00+09:00</sent>\n"
	"  <status>Exercise</status>\n"
	"  <msgType>Alert</msgType>\n"
	"  <scope>Restricted</scope>\n"
	"  <restriction>TLP:AMBER+STRICT</restriction>\n"
	"  <addresses>bank-001</addresses>\n"
	"  <note>EX-1</note>\n"
	"  <info>\n"
	"    <language>ja-JP</language>\n"
	"    <category>Security</category>\n"
	"    <event>攻撃 &amp; 侵入 &lt;速報&gt;</event>\n"
	"    <urgency>Immediate</urgency>\n"
	"    <severity>Extreme</severity>\n"
	"    <certainty>Observed</certainty>\n"
	"    <description>本文 &amp; 詳細</description>\n"
	"  </info>\n"
	"</alert>\n";

static void test_round_trip(void **state)
{
	struct alert_input in = {0};
	struct alert_error err = {0};
	struct cap_alert back = {0};
	struct cap_error cerr;
	struct buf out = {0};

	(void)state;
	assert_int_equal(cap_alert_input(upstream, strlen(upstream), &in, &err),
			 0);
	assert_int_equal(
		cap_write(&(struct cap_out){.identifier = in.id,
					    .sender = "alert@nisc.example.jp",
					    .sent = 1796083200,
					    .drill = in.drill,
					    .tlp = in.tlp,
					    .title = in.title,
					    .body = in.body,
					    .severity = in.severity},
			  &out),
		0);
	assert_int_equal(buf_puts(&out, ""), 0);
	if (cap_parse(out.data, out.len, &back, &cerr) != 0)
		fail_msg("%s: %s\n%s", cerr.path, cerr.message, out.data);
	assert_int_not_equal(schema_verdict(out.data), 0);
	assert_string_equal(back.identifier, in.id);
	assert_string_equal(back.status, "Exercise");
	assert_string_equal(back.note, in.id);
	assert_string_equal(back.scope, "Restricted");
	assert_string_equal(back.restriction, "TLP:AMBER+STRICT");
	assert_string_equal(back.sent, "2026-12-01T09:00:00+09:00");
	assert_int_equal(back.n_infos, 1);
	assert_string_equal(back.infos[0].language, "ja-JP");
	assert_string_equal(back.infos[0].severity, "Extreme");
	assert_string_equal(back.infos[0].headline, "攻撃 & 侵入 <速報>");
	assert_string_equal(back.infos[0].description,
			    "Exercise: EX-1\n\n本文 & 詳細");
	cap_alert_free(&back);
	alert_input_free(&in);
	buf_free(&out);
}

static void test_public_and_severities(void **state)
{
	static const char *const ours[] = {"critical", "high", "medium", "low"};
	static const char *const theirs[] = {"Extreme", "Severe", "Moderate",
					     "Minor"};
	struct cap_alert back = {0};
	struct cap_error cerr;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		struct buf out = {0};

		assert_int_equal(
			cap_write(&(struct cap_out){.identifier = "20261129-1",
						    .sender = "a@b",
						    .sent = 0,
						    .tlp = TLP_CLEAR,
						    .title = "t",
						    .severity = ours[i],
						    .language = "en-US"},
				  &out),
			0);
		buf_puts(&out, "");
		assert_int_equal(cap_parse(out.data, out.len, &back, &cerr), 0);
		assert_int_not_equal(schema_verdict(out.data), 0);
		assert_string_equal(back.status, "Actual");
		assert_string_equal(back.scope, "Public");
		assert_null(back.note);
		assert_string_equal(back.sent, "1970-01-01T09:00:00+09:00");
		assert_string_equal(back.infos[0].severity, theirs[i]);
		assert_string_equal(back.infos[0].language, "en-US");
		cap_alert_free(&back);
		buf_free(&out);
	}
	{
		struct buf out = {0};

		assert_int_equal(cap_write(&(struct cap_out){.identifier = "x",
							     .sender = "a",
							     .title = "t",
							     .severity = "Bad"},
					   &out),
				 -EINVAL);
		buf_free(&out);
	}
}

static void test_time_jst(void **state)
{
	char t[26];

	(void)state;
	cap_time_jst(0, t);
	assert_string_equal(t, "1970-01-01T09:00:00+09:00");
	/* 2026-12-31T15:00:00Z is New Year's Day in Japan. */
	cap_time_jst(1798729200, t);
	assert_string_equal(t, "2027-01-01T00:00:00+09:00");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_public_and_severities),
		cmocka_unit_test(test_time_jst),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
