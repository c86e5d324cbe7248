/*
 * The reply-link pages: see ack_page.h. One small writer (struct page)
 * with a sticky error so that rendering reads top to bottom like the
 * page itself; the shared head (meta tags, CSS) and the TLP header come
 * first, then the three pages.
 *
 * The pages are bilingual: the contact's language first, the other
 * beneath it in a smaller line (class "s", with its own lang attribute
 * for screen readers). Phones are the first audience: one column, text
 * at 17px, answers as whole-width touch targets at least 52px high.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/tlp.h"
#include "dispatcher/http/ack_page.h"

struct page {
	struct buf *b;
	int err; /* the first failure; later writes do nothing */
	bool en; /* English first (the contact's language is "en") */
};

static void put(struct page *p, const char *s)
{
	if (p->err == 0)
		p->err = buf_puts(p->b, s);
}

static void putf(struct page *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void putf(struct page *p, const char *fmt, ...)
{
	va_list ap;
	char tmp[256];
	int n;

	if (p->err != 0)
		return;
	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	/* Only short formatted pieces come here (numbers, times). */
	if (n < 0 || (size_t)n >= sizeof(tmp))
		p->err = -EINVAL;
	else
		p->err = buf_puts(p->b, tmp);
}

int html_escape(struct buf *out, const char *s, size_t len)
{
	size_t start = 0;

	for (size_t i = 0; i < len; i++) {
		const char *ref;

		switch (s[i]) {
		case '&':
			ref = "&amp;";
			break;
		case '<':
			ref = "&lt;";
			break;
		case '>':
			ref = "&gt;";
			break;
		case '"':
			ref = "&quot;";
			break;
		case '\'':
			ref = "&#39;";
			break;
		default:
			continue;
		}
		if (buf_append(out, s + start, i - start) < 0 ||
		    buf_puts(out, ref) < 0)
			return -ENOMEM;
		start = i + 1;
	}
	return buf_append(out, s + start, len - start);
}

/* Text from outside (an alert, a person): always escaped. */
static void text(struct page *p, const char *s)
{
	if (p->err == 0 && s != NULL)
		p->err = html_escape(p->b, s, strlen(s));
}

/*
 * Our own words in both languages (literals without markup): the
 * contact's language, then the other in a smaller line.
 */
static void bi(struct page *p, const char *ja, const char *en)
{
	put(p, p->en ? en : ja);
	put(p, p->en ? "<span class=\"s\" lang=\"ja\">"
		     : "<span class=\"s\" lang=\"en\">");
	put(p, p->en ? ja : en);
	put(p, "</span>");
}

/* The same, on one line with a slash, for <title>. */
static void bi_flat(struct page *p, const char *ja, const char *en)
{
	put(p, p->en ? en : ja);
	put(p, " / ");
	put(p, p->en ? ja : en);
}

/*
 * A time for people: the server's local zone with its name, e.g.
 * "2026-11-22 10:00:05 JST". Seconds matter to an audit of who answered
 * first.
 */
static void when(struct page *p, int64_t ms)
{
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	char s[64];

	if (localtime_r(&t, &tm) == NULL ||
	    strftime(s, sizeof(s), "%Y-%m-%d %H:%M:%S %Z", &tm) == 0)
		snprintf(s, sizeof(s), "%lld ms", (long long)ms);
	text(p, s);
}

/*
 * Phone first: one column, large type and touch targets. The TLP colours
 * are TLP 2.0's, on black as the standard shows them.
 */
static const char page_css[] =
	"*{box-sizing:border-box}"
	"html{-webkit-text-size-adjust:100%;text-size-adjust:100%}"
	"body{margin:0;background:#f3f3f3;color:#1b1b1b;"
	"font:17px/1.6 system-ui,-apple-system,\"Hiragino Sans\","
	"\"Noto Sans CJK JP\",\"Yu Gothic\",Meiryo,sans-serif}"
	".s{display:block;font-size:.82em;font-weight:400;color:#555}"
	".tlp{margin:0;background:#000;padding:14px 16px}"
	".tlp b{display:block;font:700 26px/1.2 ui-monospace,\"SF Mono\","
	"Menlo,Consolas,monospace;letter-spacing:.04em}"
	".tlp .s,.tlp span{color:#e8e8e8}"
	".tlp-red b{color:#ff2b2b}.tlp-amber b{color:#ffc000}"
	".tlp-green b{color:#33ff00}.tlp-clear b{color:#fff}"
	".banner{margin:0;padding:12px 16px;font-weight:700;font-size:1.1em}"
	".banner .s{color:inherit}"
	".drill{background:#1d4ed8;color:#fff}"
	".cancelled{background:#3f3f3f;color:#fff}"
	"main{max-width:40rem;margin:0 auto;padding:16px}"
	"h1{font-size:1.3em;line-height:1.4;margin:.3em 0 .6em;"
	"overflow-wrap:anywhere}"
	"h2{font-size:1.1em;margin:1.4em 0 .5em}"
	"dl{margin:0 0 16px;display:grid;grid-template-columns:auto 1fr;"
	"gap:4px 12px}"
	"dt{color:#555;font-size:.9em}dt .s{font-size:.8em}"
	"dd{margin:0;overflow-wrap:anywhere}"
	".body,.note{background:#fff;border:1px solid #ccc;border-radius:8px;"
	"padding:12px 14px;white-space:pre-wrap;overflow-wrap:anywhere}"
	".msg{margin:16px 0;padding:12px 14px;border-radius:8px;"
	"font-weight:700}"
	".msg .s{color:inherit}"
	".err{background:#fdecea;border-left:6px solid #c5221f;color:#7a1410}"
	".ok{background:#e6f4ea;border-left:6px solid #188038;color:#0d4d22}"
	".prev{background:#fff;border:1px solid #ccc;border-radius:8px;"
	"padding:12px 14px}"
	".prev dl{margin:0}"
	"fieldset{border:0;padding:0;margin:0 0 12px}"
	"legend{font-size:1.1em;font-weight:700;margin:1.2em 0 4px;padding:0}"
	".choice{display:flex;align-items:center;gap:14px;min-height:56px;"
	"margin:8px 0;padding:10px 14px;background:#fff;border:2px solid #bbb;"
	"border-radius:10px;cursor:pointer}"
	".choice input{width:26px;height:26px;margin:0;flex:none}"
	".choice:has(input:checked){border-color:#0b57d0;background:#e8f0fe}"
	".field{display:block;margin:14px 0;font-weight:700}"
	".field input,.field textarea{display:block;width:100%;margin-top:6px;"
	"padding:12px;font:inherit;font-weight:400;border:1px solid #888;"
	"border-radius:8px;background:#fff}"
	"button{display:block;width:100%;min-height:56px;margin:20px 0 8px;"
	"font:inherit;font-weight:700;color:#fff;background:#0b57d0;border:0;"
	"border-radius:10px;cursor:pointer}"
	"button .s{color:#dbe6ff}"
	"a{color:#0b57d0}"
	"footer{max-width:40rem;margin:0 auto;padding:8px 16px 32px;"
	"font-size:.85em;color:#555}";

/* Opens the document: <head> with the title pieces the caller writes. */
static void head_open(struct page *p)
{
	put(p, "<!DOCTYPE html>\n<html lang=\"");
	put(p, p->en ? "en" : "ja");
	put(p, "\">\n<head>\n<meta charset=\"utf-8\">\n"
	       "<meta name=\"viewport\" content=\"width=device-width, "
	       "initial-scale=1\">\n"
	       "<meta name=\"robots\" content=\"noindex, nofollow\">\n"
	       "<meta name=\"referrer\" content=\"no-referrer\">\n"
	       "<meta name=\"format-detection\" content=\"telephone=no\">\n"
	       "<title>");
}

static void head_close(struct page *p)
{
	put(p, "</title>\n<style>");
	put(p, page_css);
	put(p, "</style>\n</head>\n<body>\n");
}

/* Closes the document; a page of a working link says whose it is. */
static void doc_close(struct page *p, bool personal)
{
	if (personal) {
		put(p, "<footer>");
		bi(p, "このリンクはあなた専用です。転送しないでください。",
		   "This link is yours alone; please do not forward it.");
		put(p, "</footer>\n");
	}
	put(p, "</body>\n</html>\n");
}

/* TLP 2.0's scope of each level, in our words. */
static void tlp_header(struct page *p, enum tlp level)
{
	static const struct {
		const char *cls;
		const char *ja, *en;
	} lv[] = {
		[TLP_CLEAR] = {"clear", "公開可", "Disclosure is not limited."},
		[TLP_GREEN] = {"green", "コミュニティ内で共有可",
			       "Share within your community only."},
		[TLP_AMBER] = {"amber", "自組織と顧客の必要な範囲でのみ共有可",
			       "Share within your organisation and its "
			       "clients, on a need-to-know basis."},
		[TLP_AMBER_STRICT] = {"amber", "自組織内でのみ共有可",
				      "Share within your organisation only."},
		[TLP_RED] = {"red", "受信者本人限り",
			     "For the named recipients only."},
	};
	unsigned i = (unsigned)level;

	if (i >= sizeof(lv) / sizeof(lv[0]))
		i = TLP_RED; /* an unknown level is treated as the strictest */
	put(p, "<header class=\"tlp tlp-");
	put(p, lv[i].cls);
	put(p, "\"><b>");
	put(p, tlp_label((enum tlp)i));
	put(p, "</b><span>");
	bi(p, lv[i].ja, lv[i].en);
	put(p, "</span></header>\n");
}

static void banners(struct page *p, const struct ack_view *v)
{
	if (v->drill) {
		put(p, "<p class=\"banner drill\">");
		bi(p, "【訓練】これは訓練です", "DRILL: this is an exercise");
		put(p, "</p>\n");
	}
	if (v->cancelled) {
		put(p, "<p class=\"banner cancelled\">");
		bi(p, "この警報は取り消されました",
		   "This alert has been cancelled");
		put(p, "</p>\n");
	}
}

static const struct {
	const char *code;
	struct ack_message label;
} responses[] = {
	{"received", {"受信確認", "Received"}},
	{"not-affected", {"影響なし", "Not affected"}},
	{"affected", {"影響あり", "Affected"}},
	{"investigating", {"調査中", "Investigating"}},
};

#define N_RESPONSES (sizeof(responses) / sizeof(responses[0]))

const struct ack_message *ack_response_label(const char *response)
{
	for (size_t i = 0; response != NULL && i < N_RESPONSES; i++)
		if (strcmp(response, responses[i].code) == 0)
			return &responses[i].label;
	return NULL;
}

/* An answer as people read it; an unknown code is shown as sent. */
static void response_text(struct page *p, const char *response)
{
	const struct ack_message *m = ack_response_label(response);

	if (m != NULL)
		bi(p, m->ja, m->en);
	else
		text(p, response);
}

/* The information types and severities of CEPTOAR.md. */
static const struct {
	const char *code;
	struct ack_message label;
} kinds[] = {
	{"early-warning", {"早期警戒情報", "Early warning"}},
	{"incident", {"障害・攻撃情報", "Incident or attack"}},
	{"attack-method", {"攻撃手法情報", "Attack method"}},
	{"recovery", {"復旧手法情報", "Recovery method"}},
	{"damage", {"被害情報", "Damage"}},
	{"response-status", {"対応状況情報", "Response status"}},
	{"cooperation-request", {"連携要請", "Request for cooperation"}},
	{"info", {"各種関連情報", "Related information"}},
	{"critical", {"緊急", "Critical"}},
	{"high", {"高", "High"}},
	{"medium", {"中", "Medium"}},
	{"low", {"低", "Low"}},
};

static void code_text(struct page *p, const char *code)
{
	for (size_t i = 0; code != NULL && i < sizeof(kinds) / sizeof(kinds[0]);
	     i++) {
		if (strcmp(code, kinds[i].code) == 0) {
			bi(p, kinds[i].label.ja, kinds[i].label.en);
			return;
		}
	}
	text(p, code);
}

/*
 * Whether s holds Japanese (kana or kanji, full-width forms): text the
 * sender wrote in Japanese, which an English page must mark lang="ja" so
 * that browsers and screen readers pick Japanese fonts and voices.
 */
static bool has_japanese(const char *s)
{
	for (const unsigned char *q = (const unsigned char *)s; q && *q; q++) {
		/* E3 81..83: kana; E4-E9: CJK ideographs; EF BC-BD: full width */
		if (q[0] == 0xE3 && q[1] >= 0x81 && q[1] <= 0x83)
			return true;
		if (q[0] >= 0xE4 && q[0] <= 0xE9)
			return true;
		if (q[0] == 0xEF && (q[1] == 0xBC || q[1] == 0xBD))
			return true;
	}
	return false;
}

/* ` lang="ja"` on an English page for Japanese text, else nothing. */
static void lang_of(struct page *p, const char *s)
{
	if (p->en && has_japanese(s))
		put(p, " lang=\"ja\"");
}

static void dt(struct page *p, const char *ja, const char *en)
{
	put(p, "<dt>");
	bi(p, ja, en);
	put(p, "</dt><dd>");
}

/* The title as a document title: drill mark, TLP label, title. */
static void title_line(struct page *p, const struct ack_view *v, const char *ja,
		       const char *en)
{
	if (v->drill)
		put(p, "【訓練】");
	put(p, tlp_label(v->tlp));
	put(p, " ");
	text(p, v->title);
	put(p, " - ");
	bi_flat(p, ja, en);
}

/* Alert, recipient and body: the top of the form page. */
static void alert_part(struct page *p, const struct ack_view *v)
{
	put(p, "<h1");
	lang_of(p, v->title);
	put(p, ">");
	text(p, v->title);
	put(p, "</h1>\n<dl>");
	dt(p, "宛先", "For");
	put(p, "<span");
	lang_of(p, v->org_name);
	put(p, ">");
	text(p, v->org_name);
	put(p, "</span>");
	if (v->contact_name != NULL && v->contact_name[0] != '\0') {
		put(p, "<br><span");
		lang_of(p, v->contact_name);
		put(p, ">");
		text(p, v->contact_name);
		put(p, "</span>");
	}
	put(p, "</dd>");
	dt(p, "種別", "Type");
	code_text(p, v->type);
	put(p, "</dd>");
	dt(p, "重大度", "Severity");
	code_text(p, v->severity);
	put(p, "</dd>");
	dt(p, "発信日時", "Issued");
	when(p, v->created_at);
	put(p, "</dd>");
	dt(p, "警報ID", "Alert ID");
	text(p, v->alert_id);
	put(p, "</dd></dl>\n");
	/* pre-wrap keeps the sender's line breaks and indentation. */
	put(p, "<div class=\"body\"");
	lang_of(p, v->body);
	put(p, ">");
	text(p, v->body);
	put(p, "</div>\n");
}

/* Name and comment of an answer, when given. */
static void who_and_comment(struct page *p, const char *name,
			    const char *comment)
{
	if (name != NULL && name[0] != '\0') {
		dt(p, "お名前", "Name");
		text(p, name);
		put(p, "</dd>");
	}
	if (comment != NULL && comment[0] != '\0') {
		dt(p, "コメント", "Comment");
		put(p, "<div class=\"note\">");
		text(p, comment);
		put(p, "</div></dd>");
	}
}

static void previous_part(struct page *p, const struct ack_view *v)
{
	if (v->confirmed_at == 0)
		return;
	put(p, "<h2>");
	bi(p, "あなたの回答", "Your answer");
	put(p, "</h2>\n<div class=\"prev\"><dl>");
	dt(p, "最初の確認", "First confirmed");
	when(p, v->confirmed_at);
	put(p, "</dd>");
	dt(p, "現在の回答", "Current answer");
	response_text(p, v->response);
	put(p, "</dd>");
	who_and_comment(p, v->name, v->comment);
	put(p, "</dl></div>\n<p>");
	bi(p, "もう一度送信すると、回答を更新します。",
	   "Sending the form again updates your answer.");
	put(p, "</p>\n");
}

static void message(struct page *p, const char *cls,
		    const struct ack_message *m);

static void form_part(struct page *p, const char *token,
		      const struct ack_message *error,
		      const struct ack_form *form)
{
	const char *chosen = form ? form->response : NULL;

	/*
	 * A relative action: the same link, also behind a proxy that
	 * serves us under a path prefix. Its fragment brings a refused
	 * form's reply into view at the form and its error, with no
	 * script. No autofocus either: only a person's press on the
	 * button sends it.
	 */
	put(p, "<form id=\"answer\" method=\"post\" action=\"");
	text(p, token);
	put(p, "#answer\" accept-charset=\"utf-8\">\n");
	if (error != NULL)
		message(p, "err", error);
	put(p, "<fieldset>\n<legend>");
	bi(p, "状況を回答してください", "Please tell us your situation");
	put(p, "</legend>\n");
	for (size_t i = 0; i < N_RESPONSES; i++) {
		put(p, "<label class=\"choice\"><input type=\"radio\" "
		       "name=\"response\" value=\"");
		put(p, responses[i].code);
		put(p, "\" required");
		if (chosen != NULL && strcmp(chosen, responses[i].code) == 0)
			put(p, " checked");
		put(p, "><span>");
		bi(p, responses[i].label.ja, responses[i].label.en);
		put(p, "</span></label>\n");
	}
	put(p, "</fieldset>\n<label class=\"field\">");
	bi(p, "お名前（任意）", "Your name (optional)");
	putf(p,
	     "<input type=\"text\" name=\"name\" maxlength=\"%d\" "
	     "autocomplete=\"name\" value=\"",
	     ACK_NAME_MAX);
	text(p, form ? form->name : NULL);
	put(p, "\"></label>\n<label class=\"field\">");
	bi(p, "コメント（任意）", "Comment (optional)");
	putf(p, "<textarea name=\"comment\" rows=\"4\" maxlength=\"%d\">",
	     ACK_COMMENT_MAX);
	/*
	 * The parser drops one newline right after <textarea>: give it one,
	 * so that a comment starting with a blank line keeps it.
	 */
	put(p, "\n");
	text(p, form ? form->comment : NULL);
	put(p, "</textarea></label>\n<button type=\"submit\">");
	bi(p, "送信する", "Send");
	put(p, "</button>\n</form>\n");
}

static void message(struct page *p, const char *cls,
		    const struct ack_message *m)
{
	put(p, "<p class=\"msg ");
	put(p, cls);
	put(p, "\" role=\"");
	put(p, strcmp(cls, "err") == 0 ? "alert" : "status");
	put(p, "\">");
	bi(p, m->ja, m->en);
	put(p, "</p>\n");
}

static bool lang_en(const struct ack_view *v)
{
	return v->language != NULL && strcmp(v->language, "en") == 0;
}

int ack_page_form(struct buf *out, const struct ack_view *v, const char *token,
		  const struct ack_message *error, const struct ack_form *form)
{
	struct page p = {.b = out, .en = lang_en(v)};

	head_open(&p);
	title_line(&p, v, "受信確認", "Acknowledgement");
	head_close(&p);
	tlp_header(&p, v->tlp);
	banners(&p, v);
	put(&p, "<main>\n");
	if (v->confirmed_at != 0) {
		static const struct ack_message seen = {"確認済みです",
							"Already confirmed"};

		message(&p, "ok", &seen);
	}
	alert_part(&p, v);
	previous_part(&p, v);
	form_part(&p, token, error, form);
	put(&p, "</main>\n");
	doc_close(&p, true);
	return p.err;
}

int ack_page_confirmed(struct buf *out, const struct ack_view *v,
		       const char *token, const struct ack_form *sent,
		       int64_t recorded_at, int64_t first_at)
{
	struct page p = {.b = out, .en = lang_en(v)};
	static const struct ack_message done = {
		"受信確認を記録しました", "Your confirmation is recorded"};

	head_open(&p);
	title_line(&p, v, "記録しました", "Recorded");
	head_close(&p);
	tlp_header(&p, v->tlp);
	banners(&p, v);
	put(&p, "<main>\n");
	message(&p, "ok", &done);
	put(&p, "<h1>");
	text(&p, v->title);
	put(&p, "</h1>\n<dl>");
	dt(&p, "宛先", "For");
	text(&p, v->org_name);
	put(&p, "</dd>");
	dt(&p, "回答", "Answer");
	response_text(&p, sent->response);
	put(&p, "</dd>");
	dt(&p, "記録日時", "Recorded at");
	when(&p, recorded_at);
	put(&p, "</dd>");
	if (first_at != 0 && first_at < recorded_at) {
		dt(&p, "最初の確認", "First confirmed");
		when(&p, first_at);
		put(&p, "</dd>");
	}
	who_and_comment(&p, sent->name, sent->comment);
	put(&p, "</dl>\n<p><a href=\"");
	text(&p, token);
	put(&p, "\">");
	bi(&p, "回答を変更する", "Change your answer");
	put(&p, "</a></p>\n</main>\n");
	doc_close(&p, true);
	return p.err;
}

int ack_page_error(struct buf *out, int status)
{
	static const struct {
		int status;
		struct ack_message title, detail;
	} pages[] = {
		{404,
		 {"このリンクは無効です", "This link is not valid"},
		 {"リンクが途中で切れていないか確かめてください。"
		  "解決しない場合は、警報の送信元にお問い合わせください。",
		  "Check that the whole link was opened. If it still fails, "
		  "contact the sender of the alert."}},
		{413,
		 {"送信内容が大きすぎます", "What you sent is too large"},
		 {"コメントを短くして、もう一度送信してください。",
		  "Shorten the comment and send it again."}},
		{415,
		 {"送信形式が正しくありません",
		  "The form was not sent in the expected format"},
		 {"リンクを開き直し、ページのフォームから送信してください。",
		  "Open the link again and send the form on its page."}},
		{429,
		 {"アクセスが集中しています", "Too many requests"},
		 {"しばらく待ってから、もう一度お試しください。",
		  "Wait a moment, then try again."}},
		{500,
		 {"記録できませんでした", "Your answer could not be recorded"},
		 {"しばらく待ってから、もう一度お試しください。",
		  "Wait a moment, then try again."}},
	};
	struct page p = {.b = out};
	size_t i, n = sizeof(pages) / sizeof(pages[0]);

	for (i = 0; i < n - 1; i++)
		if (pages[i].status == status)
			break;
	head_open(&p);
	bi_flat(&p, pages[i].title.ja, pages[i].title.en);
	head_close(&p);
	put(&p, "<main>\n<h1>");
	bi(&p, pages[i].title.ja, pages[i].title.en);
	put(&p, "</h1>\n<p>");
	bi(&p, pages[i].detail.ja, pages[i].detail.en);
	put(&p, "</p>\n</main>\n");
	doc_close(&p, false);
	return p.err;
}
