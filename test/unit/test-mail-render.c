/*
 * Unit tests for channels/mail_render.c: RFC 2047 encoded-word limits
 * (word length, line length, whole characters), subjects that decode back
 * to the Japanese they were made from, header injection, a Message-ID that
 * stays the same for a key, ISO-2022-JP bodies and subjects, and the drill
 * and TLP markers. The decoder here is our own small one, written against
 * the RFCs rather than against the renderer.
 */
#include <errno.h>
#include <iconv.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "channels/mail_render.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/utf8.h"

/* --- helpers: a small RFC 5322 / 2047 reader ----------------------------- */

/* The header block of a message, without the blank line. */
static char *headers_of(const char *msg)
{
	const char *end = strstr(msg, "\r\n\r\n");

	assert_non_null(end);
	return strndup(msg, (size_t)(end - msg) + 2);
}

/*
 * The raw value of header name (folding kept), or NULL. Only matches at
 * the start of a line, as a mail reader would.
 */
static char *header_raw(const char *msg, const char *name)
{
	char *h = headers_of(msg), *p = h, *v = NULL;
	size_t n = strlen(name);

	while (p != NULL && *p != '\0') {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *s = p + n + 1, *e = s;

			/* The value runs until a CRLF not followed by WSP. */
			while ((e = strstr(e, "\r\n")) != NULL &&
			       (e[2] == ' ' || e[2] == '\t'))
				e += 2;
			assert_non_null(e);
			v = strndup(s, (size_t)(e - s));
			break;
		}
		p = strstr(p, "\r\n");
		p = p != NULL ? p + 2 : NULL;
	}
	free(h);
	return v;
}

/* Removes CRLF before WSP (RFC 5322 unfolding) and the leading space. */
static char *unfold(const char *raw)
{
	struct buf b = {0};
	const char *p = raw;

	while (*p == ' ')
		p++;
	for (; *p != '\0'; p++) {
		if (p[0] == '\r' && p[1] == '\n') {
			p++;
			continue;
		}
		buf_append(&b, p, 1);
	}
	return buf_steal(&b);
}

/* Converts ISO-2022-JP octets to UTF-8 with iconv. */
static char *jis_to_utf8(const char *s, size_t len)
{
	iconv_t cd = iconv_open("UTF-8", "ISO-2022-JP");
	size_t cap = len * 4 + 16, inleft = len, outleft = cap;
	char *out = calloc(1, cap + 1), *in = (char *)s, *o = out;

	assert_true(cd != (iconv_t)-1);
	assert_int_not_equal(iconv(cd, &in, &inleft, &o, &outleft), (size_t)-1);
	iconv_close(cd);
	*o = '\0';
	return out;
}

/*
 * Decodes an unfolded unstructured value: encoded words are decoded and
 * white space between two of them dropped (RFC 2047 section 6.2). Checks
 * on the way that every word is at most 75 characters, decodes on its
 * own to whole characters (valid UTF-8), and for ISO-2022-JP ends in
 * ASCII mode. Counts the words in *nwords when not NULL.
 */
static char *decode_value(const char *v, int *nwords)
{
	struct buf b = {0}, pending = {0};
	bool last_word = false;
	int words = 0;

	buf_append(&b, "", 0);
	while (*v != '\0') {
		size_t sp = strspn(v, " \t");
		const char *tok = v + sp, *end;
		size_t tlen = strcspn(tok, " \t");

		pending.len = 0;
		buf_append(&pending, v, sp);
		end = tok + tlen;
		if (tlen > 4 && strncmp(tok, "=?", 2) == 0 &&
		    strncmp(end - 2, "?=", 2) == 0) {
			const char *cs = tok + 2, *q = strchr(cs, '?');
			size_t cslen = (size_t)(q - cs), raw_len;
			char *b64;
			uint8_t *raw;

			assert_true(tlen <= 75);
			assert_true(q[1] == 'B' && q[2] == '?');
			b64 = strndup(q + 3, (size_t)(end - 2 - (q + 3)));
			raw = crypto_base64_decode(b64, &raw_len);
			assert_non_null(raw);
			if (!last_word)
				buf_append(&b, pending.data, pending.len);
			if (cslen == 5 && strncmp(cs, "UTF-8", 5) == 0) {
				assert_true(
					utf8_valid((char *)raw, raw_len, NULL));
				buf_append(&b, raw, raw_len);
			} else {
				char *u;

				assert_true(cslen == 11 &&
					    strncmp(cs, "ISO-2022-JP", 11) ==
						    0);
				for (size_t i = 0; i < raw_len; i++)
					assert_true(raw[i] < 0x80);
				/* The last escape switches back to ASCII. */
				for (size_t i = raw_len; i-- > 0;) {
					if (raw[i] == 0x1b) {
						assert_true(i + 3 <= raw_len);
						assert_memory_equal(
							raw + i, "\x1b(B", 3);
						break;
					}
				}
				u = jis_to_utf8((char *)raw, raw_len);
				buf_puts(&b, u);
				free(u);
			}
			free(raw);
			free(b64);
			last_word = true;
			words++;
		} else {
			buf_append(&b, pending.data, pending.len);
			buf_append(&b, tok, tlen);
			last_word = false;
		}
		v = end;
	}
	buf_free(&pending);
	if (nwords != NULL)
		*nwords = words;
	return buf_steal(&b);
}

/* The decoded value of a header of a whole message. */
static char *header_decoded(const char *msg, const char *name)
{
	char *raw = header_raw(msg, name), *u, *d;

	assert_non_null(raw);
	u = unfold(raw);
	d = decode_value(u, NULL);
	free(raw);
	free(u);
	return d;
}

/* Every line of s at most max octets, CRLF not counted. */
static void assert_lines_within(const char *s, size_t max)
{
	while (*s != '\0') {
		const char *e = strstr(s, "\r\n");
		size_t n = e != NULL ? (size_t)(e - s) : strlen(s);

		if (n > max)
			fail_msg("line of %zu octets > %zu: %.*s", n, max,
				 (int)n, s);
		s += n + (e != NULL ? 2 : 0);
	}
}

/* The base64 body of a UTF-8 message, decoded. */
static char *body_decoded(const char *msg)
{
	const char *p = strstr(msg, "\r\n\r\n") + 4;
	struct buf b64 = {0};
	size_t len;
	char *out;

	assert_lines_within(p, 76);
	for (; *p != '\0'; p++)
		if (*p != '\r' && *p != '\n')
			buf_append(&b64, p, 1);
	out = (char *)crypto_base64_decode(b64.data, &len);
	assert_non_null(out);
	out = realloc(out, len + 1);
	out[len] = '\0';
	buf_free(&b64);
	return out;
}

static struct mail_from test_from(void)
{
	struct mail_from f;

	assert_int_equal(
		mail_from_parse("内閣サイバー警報 <alert@nisc.example.jp>", &f),
		0);
	return f;
}

static struct channel_message test_msg(void)
{
	struct channel_message m = {
		.key = "d-000123",
		.address = "poc@ceptoar.example.jp",
		.charset = "utf-8",
		.language = "ja",
		.alert_id = "A-2025-0042",
		.title = "重要インフラへの攻撃について",
		.body = "VPN 装置の脆弱性が悪用されています。\n至急確認してください。",
		.type = "incident",
		.severity = "critical",
		.tlp = TLP_AMBER,
		.org_name = "電力ISAC",
		.contact_name = "山田 太郎",
		.ack_url = "https://pocalert.example.jp/ack/TOKEN",
		.created_at = 1750000000,
	};
	return m;
}

static char *render(const struct channel_message *m)
{
	struct mail_from f = test_from();
	char *text = NULL;

	assert_int_equal(mail_render(m, &f, 1750000000, &text), 0);
	assert_non_null(text);
	mail_from_clear(&f);
	return text;
}

/* --- the cases ----------------------------------------------------------- */

/*
 * Subjects of every length from 1 to 120 characters, made of 1-, 2-, 3-
 * and 4-octet characters, under header names of different lengths: no
 * line over 76, no word over 75, every word whole characters, and the
 * decoded text is the text that went in.
 */
static void test_encoded_word_limits(void **state)
{
	static const char *const pieces[] = {"a", "é", "警", "😀", "ｱ"};
	static const char *const names[] = {"Subject", "X-Pocalert-Alert", "S"};

	(void)state;
	for (size_t k = 0; k < 3; k++) {
		for (size_t n = 1; n <= 120; n++) {
			struct buf in = {0}, out = {0};
			char *u, *d;
			int words;

			/* A mix of widths that shifts with n and k. */
			for (size_t i = 0; i < n; i++)
				buf_puts(&in, pieces[(i * 7 + n + k) % 5]);
			assert_int_equal(mail_header_append(&out, names[k],
							    in.data,
							    MAIL_CHARSET_UTF8),
					 0);
			assert_lines_within(out.data, 76);
			/* Continuation lines start with a space. */
			for (const char *p = strstr(out.data, "\r\n");
			     p != NULL && p[2] != '\0';
			     p = strstr(p + 2, "\r\n"))
				assert_int_equal(p[2], ' ');
			u = unfold(out.data + strlen(names[k]) + 1);
			d = decode_value(u, &words);
			if (strcmp(in.data, "a") != 0)
				assert_true(words >= 1);
			assert_string_equal(d, in.data);
			free(u);
			free(d);
			buf_free(&in);
			buf_free(&out);
		}
	}
}

static void test_subject_round_trip(void **state)
{
	struct channel_message m = test_msg();
	char *text, *subject;

	(void)state;
	m.drill = true;
	text = render(&m);
	subject = header_decoded(text, "Subject");
	assert_string_equal(subject, "【訓練】[DRILL] [TLP:AMBER] "
				     "重要インフラへの攻撃について");
	free(subject);
	free(text);

	/* A long title folds over several lines and still decodes whole. */
	m.title = "重要インフラ事業者各位：国家支援型の攻撃グループによる"
		  "VPN 装置の脆弱性を悪用した侵入が確認されています。"
		  "至急、ログの確認とパッチの適用を実施してください。";
	text = render(&m);
	assert_lines_within(text, 76);
	subject = header_decoded(text, "Subject");
	assert_string_equal(subject + strlen("【訓練】[DRILL] [TLP:AMBER] "),
			    m.title);
	free(subject);
	free(text);
}

static void test_ascii_subject(void **state)
{
	struct buf b = {0};
	char *u;

	(void)state;
	assert_int_equal(mail_header_append(&b, "Subject",
					    "[TLP:GREEN] Patch now",
					    MAIL_CHARSET_UTF8),
			 0);
	assert_string_equal(b.data, "Subject: [TLP:GREEN] Patch now\r\n");
	buf_free(&b);

	/* Long ASCII folds at spaces, unencoded. */
	assert_int_equal(
		mail_header_append(&b, "Subject",
				   "Critical vulnerability in widely deployed "
				   "VPN appliances is being actively exploited "
				   "by multiple threat actors; apply vendor "
				   "patches now",
				   MAIL_CHARSET_UTF8),
		0);
	assert_lines_within(b.data, 76);
	assert_null(strstr(b.data, "=?"));
	assert_non_null(strstr(b.data, "\r\n "));
	u = unfold(b.data + strlen("Subject:"));
	assert_string_equal(u, "Critical vulnerability in widely deployed VPN "
			       "appliances is being actively exploited by "
			       "multiple threat actors; apply vendor patches "
			       "now");
	free(u);
	buf_free(&b);

	/* Text that looks like an encoded word is encoded so it stays text. */
	assert_int_equal(mail_header_append(&b, "Subject", "=?UTF-8?B?eA==?=",
					    MAIL_CHARSET_UTF8),
			 0);
	u = unfold(b.data + strlen("Subject:"));
	{
		char *d = decode_value(u, NULL);

		assert_string_equal(d, "=?UTF-8?B?eA==?=");
		free(d);
	}
	free(u);
	buf_free(&b);
}

/* Only these header fields may appear, each once. */
static void assert_header_fields(const char *text)
{
	static const char *const allowed[] = {"Date",
					      "From",
					      "To",
					      "Subject",
					      "Message-ID",
					      "MIME-Version",
					      "Content-Type",
					      "Content-Transfer-Encoding",
					      "X-Pocalert-Alert",
					      "X-Pocalert-TLP"};
	char *h = headers_of(text);
	int seen[10] = {0};

	for (char *p = h; *p != '\0';) {
		char *e = strstr(p, "\r\n");
		bool ok = false;

		assert_non_null(e);
		/* No bare CR or LF inside a line. */
		assert_null(memchr(p, '\r', (size_t)(e - p)));
		assert_null(memchr(p, '\n', (size_t)(e - p)));
		if (*p != ' ' && *p != '\t') {
			for (size_t i = 0; i < 10 && !ok; i++) {
				size_t n = strlen(allowed[i]);

				if (strncmp(p, allowed[i], n) == 0 &&
				    p[n] == ':') {
					ok = true;
					seen[i]++;
				}
			}
			if (!ok)
				fail_msg("unexpected header line: %.*s",
					 (int)(e - p), p);
		}
		p = e + 2;
	}
	for (size_t i = 0; i < 10; i++)
		assert_int_equal(seen[i], 1);
	free(h);
}

static void test_header_injection(void **state)
{
	static const char *const titles[] = {
		"Alert\r\nBcc: x@y", "警報\r\nBcc: x@y",
		"Alert\nBcc: x@y\r\n\r\nbody", "Alert\rBcc: x@y",
		"a\x1b\x7f\xc2\x85z"};
	struct channel_message m = test_msg();
	struct mail_from f;
	char *text, *v;

	(void)state;
	for (size_t i = 0; i < sizeof(titles) / sizeof(titles[0]); i++) {
		m.title = titles[i];
		m.alert_id = "A-1\r\nBcc: y@z";
		text = render(&m);
		assert_header_fields(text);
		v = header_decoded(text, "X-Pocalert-Alert");
		assert_string_equal(v, "A-1 Bcc: y@z");
		free(v);
		v = header_decoded(text, "Subject");
		if (i < 4)
			assert_non_null(strstr(v, " Bcc: x@y"));
		else
			assert_string_equal(v, "[TLP:AMBER] a z");
		free(v);
		free(text);
	}

	/* An address carrying CRLF is refused, not cleaned into something. */
	m.address = "poc@example.jp\r\nBcc: x@y";
	f = test_from();
	text = NULL;
	assert_int_equal(mail_render(&m, &f, 0, &text), -EINVAL);
	assert_null(text);
	mail_from_clear(&f);
	assert_false(mail_address_valid("a b@example.jp"));
	assert_false(mail_address_valid("<a@example.jp>"));
	assert_true(mail_address_valid("tempfail-1@example.jp"));

	/* So is a configured From with a control character. */
	assert_int_equal(mail_from_parse("X\r\nBcc: y <a@example.jp>", &f),
			 -EINVAL);
}

static void test_message_id_stable(void **state)
{
	struct channel_message m = test_msg();
	struct mail_from f = test_from();
	char *a = NULL, *b = NULL, *ida, *idb, *id;

	(void)state;
	/* Same key, different time: same id. */
	assert_int_equal(mail_render(&m, &f, 1750000000, &a), 0);
	assert_int_equal(mail_render(&m, &f, 1750003600, &b), 0);
	ida = header_raw(a, "Message-ID");
	idb = header_raw(b, "Message-ID");
	assert_string_equal(ida, " <d-000123@nisc.example.jp>");
	assert_string_equal(ida, idb);
	free(idb);
	free(b);
	b = NULL;

	/* Another key, another id. */
	m.key = "d-000124";
	assert_int_equal(mail_render(&m, &f, 1750000000, &b), 0);
	idb = header_raw(b, "Message-ID");
	assert_string_not_equal(ida, idb);

	/* Odd octets in a key are escaped, so the id stays one token. */
	id = mail_message_id("d/1 2\r\n>x", "example.jp");
	assert_string_equal(id, "<d=2F1=202=0D=0A=3Ex@example.jp>");
	free(id);

	free(ida);
	free(idb);
	free(a);
	free(b);
	mail_from_clear(&f);
}

/* A notice names the first report's Message-ID; a first report nothing. */
static void test_thread_headers(void **state)
{
	struct channel_message m = test_msg();
	struct mail_from f = test_from();
	char *text = NULL, *h;

	(void)state;
	assert_int_equal(mail_render(&m, &f, 1750000000, &text), 0);
	assert_null(strstr(text, "In-Reply-To:"));
	assert_null(strstr(text, "References:"));
	free(text);

	m.key = "d-000200";
	m.kind = "cancel";
	m.thread_key = "d-000123";
	assert_int_equal(mail_render(&m, &f, 1750000000, &text), 0);
	h = header_raw(text, "In-Reply-To");
	assert_string_equal(h, " <d-000123@nisc.example.jp>");
	free(h);
	h = header_raw(text, "References");
	assert_string_equal(h, " <d-000123@nisc.example.jp>");
	free(h);
	h = header_raw(text, "Message-ID");
	assert_string_equal(h, " <d-000200@nisc.example.jp>");
	free(h);
	free(text);
	mail_from_clear(&f);
}

static void test_iso2022jp(void **state)
{
	struct channel_message m = test_msg();
	char *text, *subject, *raw, *u, *body;
	const char *p;
	int words;

	(void)state;
	m.charset = "ISO-2022-JP";
	m.title = "警報①㈱ｶﾞｽ～😀";
	m.body = "本文です。\n第二行 with ASCII\n";
	text = render(&m);

	/* 7 bit from the first octet to the last. */
	for (p = text; *p != '\0'; p++)
		assert_true((unsigned char)*p < 0x80);
	assert_non_null(strstr(text, "Content-Type: text/plain; "
				     "charset=ISO-2022-JP\r\n"));
	assert_non_null(strstr(text, "Content-Transfer-Encoding: 7bit\r\n"));
	assert_lines_within(text, 998);

	/* Subject: ISO-2022-JP words, each ending in ASCII mode. */
	raw = header_raw(text, "Subject");
	assert_non_null(strstr(raw, "=?ISO-2022-JP?B?"));
	u = unfold(raw);
	subject = decode_value(u, &words);
	assert_true(words >= 1);
	assert_string_equal(subject, "[TLP:AMBER] 警報(1)(株)ガス〜〓");
	free(subject);
	free(u);
	free(raw);

	/* Body: ESC $ B ... ESC ( B on each Japanese line. */
	body = strstr(text, "\r\n\r\n") + 4;
	assert_non_null(strstr(body, "\x1b$B"));
	for (p = body; *p != '\0';) {
		const char *e = strstr(p, "\r\n");
		const char *last = NULL;

		assert_non_null(e);
		for (const char *q = p; q < e; q++)
			if (*q == 0x1b)
				last = q;
		if (last != NULL)
			assert_memory_equal(last, "\x1b(B", 3);
		p = e + 2;
	}
	u = jis_to_utf8(body, strlen(body));
	assert_non_null(strstr(u, "TLP:AMBER\r\n\r\n警報(1)(株)ガス〜〓\r\n\r\n"
				  "本文です。\r\n第二行 with ASCII\r\n"));
	assert_non_null(strstr(u, "受信確認 / Acknowledge: "
				  "https://pocalert.example.jp/ack/TOKEN\r\n"));
	free(u);
	free(text);

	/* A very long line is cut into lines of at most 998 octets. */
	{
		struct buf longline = {0};

		for (int i = 0; i < 700; i++)
			buf_puts(&longline, i % 10 == 9 ? "a" : "警");
		m.body = longline.data;
		text = render(&m);
		assert_lines_within(text, 998);
		body = strstr(text, "\r\n\r\n") + 4;
		u = jis_to_utf8(body, strlen(body));
		/* Cut between characters: joining the pieces gives it back. */
		{
			struct buf joined = {0};

			for (const char *q = u; *q != '\0'; q++)
				if (*q != '\r' && *q != '\n')
					buf_append(&joined, q, 1);
			assert_non_null(strstr(joined.data, longline.data));
			buf_free(&joined);
		}
		free(u);
		free(text);
		buf_free(&longline);
	}
}

/* The body of a rendered message as UTF-8 (from ISO-2022-JP). */
static char *jis_body(const char *text)
{
	const char *body = strstr(text, "\r\n\r\n") + 4;

	return jis_to_utf8(body, strlen(body));
}

/* Names and emoji: variants to their JIS X 0208 forms, one 〓 a glyph. */
static void test_iso2022jp_mapping(void **state)
{
	static const struct {
		const char *in, *out;
	} ex[] = {
		{"髙橋", "高橋"},
		{"山﨑", "山崎"},
		{"德川", "徳川"},
		{"草彅", "草薙"},
		{"𠮷野家", "吉野家"},
		{"①㈱№1", "(1)(株)No.1"},
		{"葛\xef\xb8\x80城", "葛城"}, /* U+FE00 dropped */
		{"👍🏽", "〓"},	      /* skin tone dropped */
		{"👨‍👩‍👧", "〓"}, /* a ZWJ family: one 〓 */
		{"❤️", "〓"},	      /* VS16 dropped */
		{"🇯🇵🇺🇸", "〓〓"},	      /* two flags */
		{"😀😀", "〓〓"},		      /* two emoji stay two */
		{"a😀b", "a〓b"},
	};
	struct channel_message m = test_msg();

	(void)state;
	m.charset = "ISO-2022-JP";
	for (size_t i = 0; i < sizeof(ex) / sizeof(ex[0]); i++) {
		char *text, *u, want[128];

		m.body = ex[i].in;
		text = render(&m);
		u = jis_body(text);
		snprintf(want, sizeof(want), "\r\n%s\r\n", ex[i].out);
		if (strstr(u, want) == NULL)
			fail_msg("'%s' gave:\n%s", ex[i].in, u);
		free(u);
		free(text);
	}
}

/*
 * A long Japanese paragraph folds at character boundaries within 76
 * octets, each line balanced (ending in ASCII mode); reply links and other
 * ASCII words are never cut; joining the lines gives the text back.
 */
static void test_iso2022jp_folding(void **state)
{
	struct channel_message m = test_msg();
	struct buf para = {0}, joined = {0};
	char *text, *u, *body;
	const char *link = "https://pocalert.example.jp/ack/"
			   "0123456789abcdef0123456789abcdef0123456789abcdef";

	(void)state;
	m.charset = "ISO-2022-JP";
	for (int i = 0; i < 12; i++)
		buf_puts(&para, "制御系への攻撃に関する早期警戒情報です、"
				"至急ご確認ください。");
	buf_printf(&para, "詳細は%s を参照。", link);
	m.body = para.data;
	text = render(&m);
	body = strstr(text, "\r\n\r\n") + 4;
	for (const char *p = body; *p != '\0';) {
		const char *e = strstr(p, "\r\n"), *last = NULL;
		bool has_link = false;

		assert_non_null(e);
		for (const char *q = p; q < e; q++)
			if (*q == 0x1b)
				last = q;
		if (last != NULL)
			assert_memory_equal(last, "\x1b(B", 3);
		has_link =
			memmem(p, (size_t)(e - p), link, strlen(link)) != NULL;
		if (!has_link && (size_t)(e - p) > 76)
			fail_msg("a line of %zu octets: %.*s", (size_t)(e - p),
				 (int)(e - p), p);
		p = e + 2;
	}
	u = jis_to_utf8(body, strlen(body));
	/* The link is whole on one line. */
	assert_non_null(strstr(u, link));
	/* No line starts with 、 or 。 (禁則). */
	assert_null(strstr(u, "\n、"));
	assert_null(strstr(u, "\n。"));
	for (const char *q = u; *q != '\0'; q++)
		if (*q != '\r' && *q != '\n')
			buf_append(&joined, q, 1);
	assert_non_null(strstr(joined.data, para.data));
	buf_free(&joined);
	buf_free(&para);
	free(u);
	free(text);
}

static void test_drill_and_tlp_markers(void **state)
{
	struct channel_message m = test_msg();
	char *text, *s, *body, *v;

	(void)state;
	/* Not a drill: the TLP label opens the subject and the body. */
	text = render(&m);
	s = header_decoded(text, "Subject");
	assert_string_equal(s, "[TLP:AMBER] 重要インフラへの攻撃について");
	free(s);
	body = body_decoded(text);
	assert_memory_equal(body, "TLP:AMBER\r\n\r\n", 13);
	assert_non_null(strstr(body,
			       "\r\n\r\n重要インフラへの攻撃について\r\n\r\n"
			       "VPN 装置の脆弱性が悪用されています。\r\n"));
	assert_non_null(strstr(body,
			       "受信確認 / Acknowledge: "
			       "https://pocalert.example.jp/ack/TOKEN\r\n"));
	assert_non_null(strstr(body, "警報ID / Alert ID: A-2025-0042\r\n"));
	assert_non_null(strstr(body, "重大度 / Severity: critical\r\n"));
	assert_non_null(strstr(body, "組織 / Organisation: 電力ISAC\r\n"));
	assert_non_null(strstr(body, "宛先 / Contact: 山田 太郎\r\n"));
	free(body);
	v = header_raw(text, "X-Pocalert-TLP");
	assert_string_equal(v, " TLP:AMBER");
	free(v);
	v = header_raw(text, "X-Pocalert-Alert");
	assert_string_equal(v, " A-2025-0042");
	free(v);
	free(text);

	/* A drill: the drill line comes first, then the label. */
	m.drill = true;
	m.tlp = TLP_RED;
	m.language = "en";
	text = render(&m);
	s = header_decoded(text, "Subject");
	assert_string_equal(s, "【訓練】[DRILL] [TLP:RED] "
			       "重要インフラへの攻撃について");
	free(s);
	body = body_decoded(text);
	assert_memory_equal(body,
			    "【訓練】[DRILL] これは訓練です。This is a drill."
			    "\r\nTLP:RED\r\n\r\n",
			    strlen("【訓練】[DRILL] これは訓練です。This is a "
				   "drill.\r\nTLP:RED\r\n\r\n"));
	/* An English reader gets English first. */
	assert_non_null(strstr(body, "Acknowledge / 受信確認: "));
	assert_non_null(strstr(body, "Alert ID / 警報ID: A-2025-0042\r\n"));
	free(body);
	free(text);

	/* A cancellation says so after the drill marker. */
	m.kind = "cancel";
	text = render(&m);
	s = header_decoded(text, "Subject");
	assert_string_equal(s, "【訓練】[DRILL] [取消/CANCELLED] [TLP:RED] "
			       "重要インフラへの攻撃について");
	free(s);
	free(text);

	/* The duty officer's notice keeps its title as given. */
	m.kind = "unreachable";
	m.drill = false;
	m.title = "Unreachable: 3 organisations";
	text = render(&m);
	v = header_raw(text, "Subject");
	assert_string_equal(v, " Unreachable: 3 organisations");
	free(v);
	free(text);
}

static void test_from_header(void **state)
{
	struct mail_from f;
	struct buf b = {0};
	char *text, *v;
	struct channel_message m = test_msg();

	(void)state;
	assert_int_equal(mail_from_parse("  alert@nisc.example.jp ", &f), 0);
	assert_null(f.display);
	assert_string_equal(f.address, "alert@nisc.example.jp");
	assert_string_equal(f.domain, "nisc.example.jp");
	mail_from_clear(&f);

	assert_int_equal(
		mail_from_parse("\"Doe, \\\"J\\\"\" <j@example.jp>", &f), 0);
	assert_string_equal(f.display, "Doe, \"J\"");
	mail_from_clear(&f);

	assert_int_equal(mail_from_parse("<x@example.jp>", &f), 0);
	assert_null(f.display);
	mail_from_clear(&f);

	assert_int_equal(mail_from_parse("no-at-sign", &f), -EINVAL);
	assert_int_equal(mail_from_parse("Name <>", &f), -EINVAL);
	assert_int_equal(mail_from_parse("a@b@c", &f), -EINVAL);
	assert_int_equal(mail_from_parse("", &f), -EINVAL);
	assert_int_equal(mail_from_parse("Name <a@b", &f), -EINVAL);

	/* A Japanese name goes out encoded and comes back whole. */
	text = render(&m);
	v = header_decoded(text, "From");
	assert_string_equal(v, "内閣サイバー警報 <alert@nisc.example.jp>");
	free(v);
	v = header_raw(text, "From");
	assert_non_null(strstr(v, "=?UTF-8?B?"));
	free(v);
	free(text);

	/* An ASCII name with specials is quoted. */
	assert_int_equal(mail_from_parse("NISC, Japan <a@example.jp>", &f), 0);
	{
		char *out = NULL;

		assert_int_equal(mail_render(&m, &f, 0, &out), 0);
		v = header_raw(out, "From");
		assert_string_equal(v, " \"NISC, Japan\" <a@example.jp>");
		free(v);
		free(out);
	}
	mail_from_clear(&f);
	buf_free(&b);
}

static void test_date(void **state)
{
	struct channel_message m = test_msg();
	struct mail_from f = test_from();
	char *text = NULL, *v;

	(void)state;
	setenv("TZ", "JST-9", 1);
	tzset();
	assert_int_equal(mail_render(&m, &f, 0, &text), 0);
	v = header_raw(text, "Date");
	assert_string_equal(v, " Thu, 01 Jan 1970 09:00:00 +0900");
	free(v);
	free(text);
	setenv("TZ", "UTC0", 1);
	tzset();
	assert_int_equal(mail_render(&m, &f, 1750000000, &text), 0);
	v = header_raw(text, "Date");
	assert_string_equal(v, " Sun, 15 Jun 2025 15:06:40 +0000");
	free(v);
	free(text);
	mail_from_clear(&f);
}

static void test_charset_parse(void **state)
{
	enum mail_charset cs;

	(void)state;
	assert_int_equal(mail_charset_parse(NULL, &cs), 0);
	assert_int_equal(cs, MAIL_CHARSET_UTF8);
	assert_int_equal(mail_charset_parse("UTF-8", &cs), 0);
	assert_int_equal(cs, MAIL_CHARSET_UTF8);
	assert_int_equal(mail_charset_parse("iso-2022-jp", &cs), 0);
	assert_int_equal(cs, MAIL_CHARSET_ISO2022JP);
	assert_int_equal(mail_charset_parse("shift_jis", &cs), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encoded_word_limits),
		cmocka_unit_test(test_subject_round_trip),
		cmocka_unit_test(test_ascii_subject),
		cmocka_unit_test(test_header_injection),
		cmocka_unit_test(test_message_id_stable),
		cmocka_unit_test(test_thread_headers),
		cmocka_unit_test(test_iso2022jp),
		cmocka_unit_test(test_iso2022jp_mapping),
		cmocka_unit_test(test_iso2022jp_folding),
		cmocka_unit_test(test_drill_and_tlp_markers),
		cmocka_unit_test(test_from_header),
		cmocka_unit_test(test_date),
		cmocka_unit_test(test_charset_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
