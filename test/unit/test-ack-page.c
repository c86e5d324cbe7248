/*
 * Unit tests for dispatcher/http/ack_page.c: the reply-link pages as a
 * recipient's phone receives them. Each story renders a page from a
 * view and reads the HTML for what must be there (the TLP label, the
 * banners, the four answers) and what must never be (markup from an
 * alert, a script, an automatic refresh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "common/buf.h"
#include "dispatcher/http/ack_page.h"

#define TOKEN "k7q2m4x9t3v6b8n5c2z7w4r6ya"

/* 2026-11-22 10:00:00 in Tokyo. */
#define CREATED_MS 1795309200000LL

static struct ack_view base_view(void)
{
	return (struct ack_view){
		.alert_id = "01JALERT0001",
		.title = "重要インフラ向け早期警戒情報",
		.body = "一行目\n二行目\n\n  字下げ",
		.type = "early-warning",
		.severity = "high",
		.tlp = TLP_AMBER,
		.org_id = "bank-1",
		.org_name = "架空銀行",
		.contact_id = "desk",
		.contact_name = "山田 太郎",
		.language = "ja",
		.created_at = CREATED_MS,
	};
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL;
	     p += strlen(needle))
		n++;
	return n;
}

/* What no page may ever hold: scripts, refreshes, self-focusing. */
static void assert_inert(const char *html)
{
	assert_null(strcasestr(html, "<script"));
	assert_null(strcasestr(html, "http-equiv"));
	assert_null(strcasestr(html, "autofocus"));
	assert_null(strcasestr(html, "javascript:"));
	assert_null(strcasestr(html, " onload"));
	assert_null(strcasestr(html, " onclick"));
	/* No external assets: nothing is fetched from anywhere. */
	assert_null(strcasestr(html, "<img"));
	assert_null(strcasestr(html, "<iframe"));
	assert_null(strcasestr(html, "<object"));
	assert_null(strcasestr(html, "<link"));
	assert_null(strcasestr(html, "url("));
	assert_null(strcasestr(html, "@import"));
}

static void test_escape(void **state)
{
	struct buf b = {0};
	const char s[] = "<script>\"x\" & 'y'</script>";

	(void)state;
	assert_int_equal(html_escape(&b, s, strlen(s)), 0);
	assert_string_equal(b.data, "&lt;script&gt;&quot;x&quot; &amp; "
				    "&#39;y&#39;&lt;/script&gt;");
	buf_free(&b);
	/* Nothing to escape, and the empty string. */
	assert_int_equal(html_escape(&b, "平文", strlen("平文")), 0);
	assert_string_equal(b.data, "平文");
	assert_int_equal(html_escape(&b, "", 0), 0);
	assert_string_equal(b.data, "平文");
	buf_free(&b);
}

static void test_form_page(void **state)
{
	struct ack_view v = base_view();
	struct buf b = {0};

	(void)state;
	assert_int_equal(ack_page_form(&b, &v, TOKEN, NULL, NULL), 0);
	assert_inert(b.data);
	assert_non_null(strstr(b.data, "<!DOCTYPE html>\n<html lang=\"ja\">"));
	assert_non_null(strstr(b.data, "<meta name=\"viewport\" "
				       "content=\"width=device-width, "
				       "initial-scale=1\">"));
	/* The label first in the body, in its TLP 2.0 colour class. */
	assert_non_null(strstr(b.data, "<body>\n<header class=\"tlp "
				       "tlp-amber\"><b>TLP:AMBER</b>"));
	assert_non_null(
		strstr(b.data, "<h1>重要インフラ向け早期警戒情報</h1>"));
	assert_non_null(strstr(b.data, "架空銀行"));
	assert_non_null(strstr(b.data, "山田 太郎"));
	assert_non_null(strstr(b.data, "早期警戒情報"));
	/* The body keeps its line breaks (pre-wrap) byte for byte. */
	assert_non_null(strstr(b.data, "<div class=\"body\">一行目\n二行目\n\n"
				       "  字下げ</div>"));
	/* No banners for a real, live alert. */
	assert_null(strstr(b.data, "訓練"));
	assert_null(strstr(b.data, "取り消されました"));
	/* Never confirmed: no previous confirmation. */
	assert_null(strstr(b.data, "確認済み"));
	/* The form posts to the same link; four answers, none chosen. */
	assert_non_null(strstr(
		b.data, "<form id=\"answer\" method=\"post\" action=\"" TOKEN
			"#answer\""));
	assert_int_equal(count(b.data, "type=\"radio\" name=\"response\""), 4);
	assert_non_null(strstr(b.data, "value=\"received\""));
	assert_non_null(strstr(b.data, "value=\"not-affected\""));
	assert_non_null(strstr(b.data, "value=\"affected\""));
	assert_non_null(strstr(b.data, "value=\"investigating\""));
	assert_non_null(strstr(b.data, "受信確認"));
	assert_non_null(strstr(b.data, "影響なし"));
	assert_non_null(strstr(b.data, "影響あり"));
	assert_non_null(strstr(b.data, "調査中"));
	assert_null(strstr(b.data, " checked>"));
	assert_non_null(strstr(b.data, "name=\"name\" maxlength=\"100\""));
	assert_non_null(strstr(b.data, "<textarea name=\"comment\""));
	assert_non_null(strstr(b.data, "maxlength=\"2000\""));
	assert_non_null(strstr(b.data, "<button type=\"submit\">"));
	assert_int_equal(count(b.data, "<form"), 1);
	buf_free(&b);
}

static void test_markup_in_alert_is_text(void **state)
{
	struct ack_view v = base_view();
	struct buf b = {0};
	struct ack_form f = {.response = "affected",
			     .name = "\"><script>alert(2)</script>",
			     .comment = "</textarea><script>x</script>"};

	(void)state;
	v.title = "<script>alert(1)</script> & 'q' \"d\"";
	v.body = "<img src=x onerror=alert(1)>\n<b>bold</b>";
	v.org_name = "<i>org</i>";
	v.contact_name = "<u>c</u>";
	v.alert_id = "<id>";
	v.type = "<t>";
	v.severity = "<s>";
	v.confirmed_at = CREATED_MS + 60000;
	v.response = "<r>";
	v.name = "<n>";
	v.comment = "<c>";
	assert_int_equal(ack_page_form(&b, &v, TOKEN, NULL, &f), 0);
	assert_inert(b.data);
	assert_null(strstr(b.data, "<img"));
	assert_null(strstr(b.data, "<b>bold"));
	assert_null(strstr(b.data, "<i>"));
	assert_null(strstr(b.data, "<u>"));
	assert_null(strstr(b.data, "<id>"));
	assert_null(strstr(b.data, "<r>"));
	assert_null(strstr(b.data, "<n>"));
	assert_null(strstr(b.data, "<c>"));
	assert_non_null(strstr(b.data,
			       "<h1>&lt;script&gt;alert(1)&lt;/script&gt; "
			       "&amp; &#39;q&#39; &quot;d&quot;</h1>"));
	assert_non_null(strstr(b.data, "<title>TLP:AMBER &lt;script&gt;"));
	assert_non_null(strstr(b.data, "&lt;img src=x onerror=alert(1)&gt;"));
	/* What the person typed comes back inside its field, as text. */
	assert_non_null(strstr(b.data, "value=\"&quot;&gt;&lt;script&gt;"));
	assert_non_null(strstr(b.data, "&lt;/textarea&gt;&lt;script&gt;x"));
	assert_int_equal(count(b.data, "</textarea>"), 1);
	buf_free(&b);
}

static void test_drill_cancelled_and_levels(void **state)
{
	static const struct {
		enum tlp level;
		const char *label;
	} levels[] = {
		{TLP_CLEAR, "<header class=\"tlp tlp-clear\"><b>TLP:CLEAR</b>"},
		{TLP_GREEN, "<header class=\"tlp tlp-green\"><b>TLP:GREEN</b>"},
		{TLP_AMBER, "<header class=\"tlp tlp-amber\"><b>TLP:AMBER</b>"},
		{TLP_AMBER_STRICT, "<header class=\"tlp tlp-amber\">"
				   "<b>TLP:AMBER+STRICT</b>"},
		{TLP_RED, "<header class=\"tlp tlp-red\"><b>TLP:RED</b>"},
	};
	struct ack_view v = base_view();
	struct buf b = {0};

	(void)state;
	v.drill = true;
	v.cancelled = true;
	assert_int_equal(ack_page_form(&b, &v, TOKEN, NULL, NULL), 0);
	assert_non_null(strstr(b.data, "<p class=\"banner drill\">"
				       "【訓練】これは訓練です"));
	assert_non_null(strstr(b.data, "DRILL: this is an exercise"));
	assert_non_null(strstr(b.data, "<p class=\"banner cancelled\">"));
	assert_non_null(strstr(b.data, "This alert has been cancelled"));
	assert_non_null(strstr(b.data, "<title>【訓練】TLP:AMBER "));
	/* The drill banner right under the label, above the title. */
	assert_true(strstr(b.data, "banner drill") < strstr(b.data, "<h1>"));
	buf_free(&b);
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		v = base_view();
		v.tlp = levels[i].level;
		assert_int_equal(ack_page_form(&b, &v, TOKEN, NULL, NULL), 0);
		assert_non_null(strstr(b.data, levels[i].label));
		/* The CSS gives each class its TLP 2.0 colour. */
		assert_non_null(strstr(b.data, ".tlp-red b{color:#ff2b2b}"));
		assert_non_null(strstr(b.data, ".tlp-amber b{color:#ffc000}"));
		buf_free(&b);
	}
}

static void test_previous_confirmation_and_english(void **state)
{
	struct ack_view v = base_view();
	struct buf b = {0};

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	v.language = "en";
	v.confirmed_at = CREATED_MS + 5 * 60 * 1000 + 7000;
	v.response = "investigating";
	v.name = "Yamada";
	v.comment = "Checking our\nfirewalls";
	assert_int_equal(ack_page_form(&b, &v, TOKEN, NULL, NULL), 0);
	assert_non_null(strstr(b.data, "<html lang=\"en\">"));
	/* English first, Japanese beneath. */
	assert_non_null(strstr(b.data, "Already confirmed<span class=\"s\" "
				       "lang=\"ja\">確認済みです</span>"));
	assert_non_null(strstr(b.data, "2026-11-22 10:05:07 JST"));
	assert_non_null(strstr(b.data, "Investigating"));
	assert_non_null(strstr(b.data, "Yamada"));
	assert_non_null(strstr(b.data, "Checking our\nfirewalls"));
	/* Still no answer chosen in the form. */
	assert_null(strstr(b.data, " checked>"));
	/* The sender's Japanese is marked as such on an English page. */
	assert_non_null(strstr(
		b.data, "<h1 lang=\"ja\">重要インフラ向け早期警戒情報</h1>"));
	assert_non_null(strstr(b.data, "<div class=\"body\" lang=\"ja\">"
				       "一行目\n"));
	assert_non_null(strstr(b.data, "<span lang=\"ja\">架空銀行</span>"));
	/* One word for severity everywhere: 重大度, as in mail. */
	assert_non_null(strstr(b.data, "Severity<span class=\"s\" "
				       "lang=\"ja\">重大度</span>"));
	assert_null(strstr(b.data, "重要度"));
	buf_free(&b);

	/* An English title on an English page needs no mark. */
	v.title = "Early warning";
	v.body = "Patch now.";
	assert_int_equal(ack_page_form(&b, &v, TOKEN, NULL, NULL), 0);
	assert_non_null(strstr(b.data, "<h1>Early warning</h1>"));
	assert_non_null(strstr(b.data, "<div class=\"body\">Patch now."));
	buf_free(&b);

	/* A Japanese page is lang="ja" as a whole: no marks inside. */
	v = base_view();
	assert_int_equal(ack_page_form(&b, &v, TOKEN, NULL, NULL), 0);
	assert_non_null(
		strstr(b.data, "<h1>重要インフラ向け早期警戒情報</h1>"));
	assert_non_null(strstr(b.data, "重大度<span class=\"s\" "
				       "lang=\"en\">Severity</span>"));
	buf_free(&b);
}

static void test_form_with_error(void **state)
{
	static const struct ack_message err = {"選んでください", "Choose one"};
	struct ack_view v = base_view();
	struct ack_form f = {.response = "affected",
			     .name = "佐藤",
			     .comment = "\n先頭が空行"};
	struct buf b = {0};

	(void)state;
	assert_int_equal(ack_page_form(&b, &v, TOKEN, &err, &f), 0);
	/* The error inside the form, right above the answers. */
	assert_non_null(strstr(b.data, "#answer\" accept-charset=\"utf-8\">\n"
				       "<p class=\"msg err\" role=\"alert\">"
				       "選んでください<span class=\"s\" "
				       "lang=\"en\">Choose one</span></p>"));
	/* The answer sent is chosen again, the others not. */
	assert_int_equal(count(b.data, " checked>"), 1);
	assert_non_null(strstr(b.data, "value=\"affected\" required checked"));
	assert_non_null(strstr(b.data, "value=\"佐藤\""));
	/* One newline for the parser to drop, then the comment's own. */
	assert_non_null(strstr(b.data, "maxlength=\"2000\">\n\n先頭が空行"));
	buf_free(&b);

	/* An unknown answer chooses nothing. */
	f.response = "maybe";
	assert_int_equal(ack_page_form(&b, &v, TOKEN, &err, &f), 0);
	assert_null(strstr(b.data, " checked>"));
	buf_free(&b);
}

static void test_confirmed_page(void **state)
{
	struct ack_view v = base_view();
	struct ack_form sent = {.response = "not-affected",
				.name = "<b>鈴木</b>",
				.comment = "異常なし"};
	struct buf b = {0};

	(void)state;
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	assert_int_equal(ack_page_confirmed(&b, &v, TOKEN, &sent,
					    CREATED_MS + 3600 * 1000, 0),
			 0);
	assert_inert(b.data);
	assert_non_null(strstr(b.data, "受信確認を記録しました"));
	assert_non_null(strstr(b.data, "Your confirmation is recorded"));
	assert_non_null(strstr(b.data, "<header class=\"tlp tlp-amber\">"));
	assert_non_null(strstr(b.data, "影響なし"));
	assert_non_null(strstr(b.data, "2026-11-22 11:00:00 JST"));
	assert_non_null(strstr(b.data, "&lt;b&gt;鈴木&lt;/b&gt;"));
	assert_non_null(strstr(b.data, "異常なし"));
	assert_null(strstr(b.data, "最初の確認"));
	/* A way back to the form, on the same link. */
	assert_non_null(strstr(b.data, "<a href=\"" TOKEN "\">"));
	assert_null(strstr(b.data, "<form"));
	buf_free(&b);

	/* An update: the first confirmation's time is shown too. */
	assert_int_equal(ack_page_confirmed(&b, &v, TOKEN, &sent,
					    CREATED_MS + 3600 * 1000,
					    CREATED_MS + 60 * 1000),
			 0);
	assert_non_null(strstr(b.data, "最初の確認"));
	assert_non_null(strstr(b.data, "2026-11-22 10:01:00 JST"));
	buf_free(&b);
}

static void test_error_pages(void **state)
{
	static const int statuses[] = {404, 413, 415, 429, 500};
	struct buf a = {0}, b = {0};

	(void)state;
	for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
		assert_int_equal(ack_page_error(&a, statuses[i]), 0);
		assert_inert(a.data);
		assert_non_null(strstr(a.data, "<html lang=\"ja\">"));
		assert_non_null(strstr(a.data, "name=\"viewport\""));
		assert_null(strstr(a.data, "<form"));
		buf_free(&a);
	}
	assert_int_equal(ack_page_error(&a, 404), 0);
	assert_non_null(strstr(a.data, "このリンクは無効です"));
	/* Not "this link is yours": it is nobody's. */
	assert_null(strstr(a.data, "<footer>"));
	assert_non_null(strstr(a.data, "This link is not valid"));
	/* Two renderings, two bad tokens: the page names neither. */
	assert_int_equal(ack_page_error(&b, 404), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.data, b.data, a.len);
	buf_free(&b);
	/* An unknown status reads as 500. */
	assert_int_equal(ack_page_error(&b, 418), 0);
	assert_int_equal(ack_page_error(&a, 500), 0);
	assert_non_null(strstr(b.data, "記録できませんでした"));
	buf_free(&a);
	buf_free(&b);
	assert_int_equal(ack_page_error(&a, 429), 0);
	assert_non_null(strstr(a.data, "Too many requests"));
	buf_free(&a);
}

static void test_response_labels(void **state)
{
	(void)state;
	assert_string_equal(ack_response_label("received")->ja, "受信確認");
	assert_string_equal(ack_response_label("not-affected")->en,
			    "Not affected");
	assert_string_equal(ack_response_label("affected")->ja, "影響あり");
	assert_string_equal(ack_response_label("investigating")->ja, "調査中");
	assert_null(ack_response_label("Received"));
	assert_null(ack_response_label(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_form_page),
		cmocka_unit_test(test_markup_in_alert_is_text),
		cmocka_unit_test(test_drill_cancelled_and_levels),
		cmocka_unit_test(test_previous_confirmation_and_english),
		cmocka_unit_test(test_form_with_error),
		cmocka_unit_test(test_confirmed_page),
		cmocka_unit_test(test_error_pages),
		cmocka_unit_test(test_response_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
