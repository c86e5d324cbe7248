/*
 * Mail rendering: see mail_render.h. In order below: UTF-8 helpers and
 * the cleaning of text from outside; the charset encoder (UTF-8 as is, or
 * ISO-2022-JP through iconv with substitutes for what JIS X 0208 cannot
 * carry); header folding and RFC 2047 encoded words; addresses and the
 * From parser; the subject and body text; mail_render(), which puts the
 * message together.
 */
#include <errno.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "channels/mail_render.h"
#include "common/crypto.h"
#include "common/tlp.h"
#include "common/utf8.h"

#define FOLD_COLS 76  /* header and base64 lines, CRLF not counted */
#define WORD_MAX 75   /* RFC 2047: longest encoded word */
#define HARD_COLS 998 /* RFC 5322: longest line, CRLF not counted */
#define SOFT_COLS 76  /* ISO-2022-JP body lines, escapes included */
#define GETA "〓"     /* U+3013, JIS's mark for "character not available" */
#define DRILL_MARK "【訓練】[DRILL]"
#define CANCEL_MARK "[取消/CANCELLED]"

/* --- UTF-8 and cleaning ------------------------------------------------ */

/*
 * Decodes the code point at s[0..len) into *cp and returns its length.
 * An invalid or cut sequence reads as U+FFFD one octet long, so callers
 * always make progress and never pass bad UTF-8 on.
 */
static size_t u8_decode(const char *str, size_t len, uint32_t *cp)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t c = s[0], min;
	size_t n;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		c &= 0x1f;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		c &= 0x0f;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		c &= 0x07;
		min = 0x10000;
	} else {
		goto bad;
	}
	if (n > len)
		goto bad;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			goto bad;
		c = (c << 6) | (s[i] & 0x3f);
	}
	if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
		goto bad;
	*cp = c;
	return n;
bad:
	*cp = 0xfffd;
	return 1;
}

static int u8_put(struct buf *b, uint32_t cp)
{
	char s[4];
	size_t n;

	if (cp < 0x80) {
		s[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		s[0] = (char)(0xc0 | cp >> 6);
		s[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		s[0] = (char)(0xe0 | cp >> 12);
		s[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		s[0] = (char)(0xf0 | cp >> 18);
		s[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
		s[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
		s[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(b, s, n);
}

/* C0 controls, DEL and C1 controls: nothing a mail line may carry raw. */
static bool is_control(uint32_t cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f);
}

static bool is_ascii(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if ((unsigned char)s[i] >= 0x80)
			return false;
	return true;
}

/*
 * Header text from outside: every control character becomes a space (CR
 * and LF above all, or a title could add a Bcc: header), runs of spaces
 * become one and the ends are trimmed. Appends to out, which is left a
 * valid (possibly empty) string.
 */
static int header_clean(const char *s, struct buf *out)
{
	size_t len = strlen(s), i = 0;
	bool space = false, started = false;
	uint32_t cp;
	int r = buf_append(out, "", 0);

	while (r == 0 && i < len) {
		i += u8_decode(s + i, len - i, &cp);
		if (is_control(cp) || cp == ' ') {
			space = true;
			continue;
		}
		if (space && started)
			r = buf_append(out, " ", 1);
		space = false;
		started = true;
		if (r == 0)
			r = u8_put(out, cp);
	}
	return r;
}

/*
 * Body text from outside: CRLF and lone CR become LF (lines are joined
 * with CRLF later), TAB stays, other control characters become spaces
 * (an ESC would break ISO-2022-JP's shift states).
 */
static int body_clean(const char *s, struct buf *out)
{
	size_t len = strlen(s), i = 0;
	uint32_t cp;
	int r = buf_append(out, "", 0);

	while (r == 0 && i < len) {
		i += u8_decode(s + i, len - i, &cp);
		if (cp == '\r') {
			if (i < len && s[i] == '\n')
				i++;
			cp = '\n';
		} else if (is_control(cp) && cp != '\n' && cp != '\t') {
			cp = ' ';
		}
		r = u8_put(out, cp);
	}
	return r;
}

/* --- the charset encoder ----------------------------------------------- */

struct enc {
	enum mail_charset cs;
	iconv_t cd; /* UTF-8 to ISO-2022-JP; (iconv_t)-1 for UTF-8 */
};

static int enc_open(struct enc *e, enum mail_charset cs)
{
	e->cs = cs;
	e->cd = (iconv_t)-1;
	if (cs == MAIL_CHARSET_ISO2022JP) {
		e->cd = iconv_open("ISO-2022-JP", "UTF-8");
		if (e->cd == (iconv_t)-1)
			return errno ? -errno : -EINVAL;
	}
	return 0;
}

static void enc_close(struct enc *e)
{
	if (e->cd != (iconv_t)-1)
		iconv_close(e->cd);
	e->cd = (iconv_t)-1;
}

/*
 * Appends s[0..len) in the encoder's charset. Each ISO-2022-JP run starts
 * from ASCII and ends in ASCII mode (ESC ( B), so it stands alone: an
 * encoded word or a body line never depends on its neighbour's state.
 * The text must be representable (see jis_prepare()).
 */
static int enc_convert(struct enc *e, const char *s, size_t len,
		       struct buf *out)
{
	char tmp[512], *in = (char *)s, *o;
	size_t inleft = len, oleft, r;
	int ret;

	if (e->cs == MAIL_CHARSET_UTF8)
		return buf_append(out, s, len);
	iconv(e->cd, NULL, NULL, NULL, NULL);
	while (inleft > 0) {
		o = tmp;
		oleft = sizeof(tmp);
		r = iconv(e->cd, &in, &inleft, &o, &oleft);
		if (r == (size_t)-1 && errno != E2BIG)
			return -errno;
		if ((ret = buf_append(out, tmp, (size_t)(o - tmp))) < 0)
			return ret;
	}
	o = tmp;
	oleft = sizeof(tmp);
	if (iconv(e->cd, NULL, NULL, &o, &oleft) == (size_t)-1)
		return -errno;
	return buf_append(out, tmp, (size_t)(o - tmp));
}

/* True when ISO-2022-JP can carry the one character at s[0..n). */
static bool jis_can(struct enc *e, const char *s, size_t n)
{
	char tmp[16], *in = (char *)s, *o = tmp;
	size_t inleft = n, oleft = sizeof(tmp);

	iconv(e->cd, NULL, NULL, NULL, NULL);
	return iconv(e->cd, &in, &inleft, &o, &oleft) != (size_t)-1 &&
	       inleft == 0;
}

/*
 * What we write for characters ISO-2022-JP (JIS X 0208) cannot carry.
 * Sorted by code point. First the characters Windows (CP932) maps
 * differently from JIS, which are the same character to a reader; then
 * the "machine-dependent" NEC row 13 that Japanese text uses all the time
 * (①, ㈱, ㍻, units) spelled out with characters JIS has.
 */
static const struct jis_sub {
	uint32_t cp;
	const char *text;
} jis_subs[] = {
	{0x00a0, " "},		{0x2013, "-"},	      {0x2022, "・"},
	{0x2116, "No."},	{0x2121, "TEL"},      {0x2225, "‖"},
	{0x3231, "(株)"},	{0x3232, "(有)"},     {0x3239, "(代)"},
	{0x32a4, "(上)"},	{0x32a5, "(中)"},     {0x32a6, "(下)"},
	{0x32a7, "(左)"},	{0x32a8, "(右)"},     {0x32ff, "令和"},
	{0x3303, "アール"},	{0x330d, "カロリー"}, {0x3314, "キロ"},
	{0x3318, "グラム"},	{0x3322, "センチ"},   {0x3323, "セント"},
	{0x3326, "ドル"},	{0x3327, "トン"},     {0x332b, "パーセント"},
	{0x3336, "ヘクタール"}, {0x333b, "ページ"},   {0x3349, "ミリ"},
	{0x334a, "ミリバール"}, {0x334d, "メートル"}, {0x3351, "リットル"},
	{0x3357, "ワット"},	{0x337b, "平成"},     {0x337c, "昭和"},
	{0x337d, "大正"},	{0x337e, "明治"},     {0x338e, "mg"},
	{0x338f, "kg"},		{0x339c, "mm"},	      {0x339d, "cm"},
	{0x339e, "km"},		{0x33a1, "m2"},	      {0x33c4, "cc"},
	{0x33cd, "K.K."},	{0xff0d, "−"},	      {0xff5e, "〜"},
	{0xffe0, "¢"},		{0xffe1, "£"},	      {0xffe2, "¬"},
};

/*
 * Well-known variant kanji of names (異体字) outside JIS X 0208, written as
 * their JIS X 0208 form: 髙橋 reads 高橋, not 〓橋. Sorted by code point.
 */
static const struct jis_sub jis_variants[] = {
	{0x5f45, "薙"},	 /* 彅 */
	{0x5fb7, "徳"},	 /* 德 */
	{0x6801, "柳"},	 /* 栁 */
	{0x6ff5, "浜"},	 /* 濵 */
	{0x9ad9, "高"},	 /* 髙 */
	{0xfa10, "塚"},	 /* 塚 (compatibility) */
	{0xfa11, "崎"},	 /* 﨑 */
	{0xfa12, "晴"},	 /* 晴 (compatibility) */
	{0xfa19, "神"},	 /* 神 (compatibility) */
	{0xfa1b, "福"},	 /* 福 (compatibility) */
	{0x20bb7, "吉"}, /* 𠮷 */
};

static const char *const roman[] = {"I",   "II",   "III", "IV", "V",  "VI",
				    "VII", "VIII", "IX",  "X",	"XI", "XII"};
static const char *const roman_lower[] = {"i",	"ii", "iii", "iv",
					  "v",	"vi", "vii", "viii",
					  "ix", "x",  "xi",  "xii"};

/* Half-width katakana U+FF61..U+FF9F as full-width, three octets each. */
static const char kana_full[] =
	"。「」、・ヲァィゥェォャュョッーアイウエオカキクケコサシスセソタチツテト"
	"ナニヌネノハヒフヘホマミムメモヤユヨラリルレロワン゛゜";
_Static_assert(sizeof(kana_full) == 63 * 3 + 1, "U+FF61..U+FF9F");

static int jis_sub_cmp(const void *key, const void *elem)
{
	uint32_t cp = *(const uint32_t *)key;
	const struct jis_sub *s = elem;

	return cp < s->cp ? -1 : cp > s->cp;
}

/*
 * Appends the substitute for cp, which ISO-2022-JP cannot carry, or
 * returns 1 when cp has none of its own (the caller writes 〓).
 */
static int jis_substitute(uint32_t cp, struct buf *out)
{
	const struct jis_sub *s;

	if (cp >= 0x2160 && cp <= 0x216b)
		return buf_puts(out, roman[cp - 0x2160]);
	if (cp >= 0x2170 && cp <= 0x217b)
		return buf_puts(out, roman_lower[cp - 0x2170]);
	if (cp >= 0x2460 && cp <= 0x2473)
		return buf_printf(out, "(%u)", (unsigned)(cp - 0x2460 + 1));
	s = bsearch(&cp, jis_subs, sizeof(jis_subs) / sizeof(jis_subs[0]),
		    sizeof(jis_subs[0]), jis_sub_cmp);
	if (s == NULL)
		s = bsearch(&cp, jis_variants,
			    sizeof(jis_variants) / sizeof(jis_variants[0]),
			    sizeof(jis_variants[0]), jis_sub_cmp);
	if (s != NULL)
		return buf_puts(out, s->text);
	return 1;
}

/*
 * Characters that only shape their neighbour: variation selectors, the
 * zero-width joiner and non-joiner, emoji skin tones and tag characters.
 * In ISO-2022-JP they are dropped: they have nothing to show on their own.
 */
static bool jis_drop(uint32_t cp)
{
	return (cp >= 0xfe00 && cp <= 0xfe0f) || cp == 0x200d || cp == 0x200c ||
	       (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
	       (cp >= 0xe0020 && cp <= 0xe007f) ||
	       (cp >= 0xe0100 && cp <= 0xe01ef);
}

/*
 * Half-width katakana at s[0..len) (first code point cp, n octets) as one
 * full-width character, taking a following sound mark (ﾞ, ﾟ) into it
 * where one exists (ｶﾞ is ガ). Returns the octets of s consumed.
 */
static size_t jis_kana(const char *s, size_t len, uint32_t cp, size_t n,
		       uint32_t *ret)
{
	uint32_t full, mark;
	size_t i = (size_t)(cp - 0xff61) * 3, m;
	bool ka_to, ha;

	u8_decode(kana_full + i, 3, &full);
	*ret = full;
	if (n >= len)
		return n;
	m = u8_decode(s + n, len - n, &mark);
	/* カ..ト take a voiced mark at +1 (with ッ skipped); ハ..ホ take +1 and +2. */
	ka_to = (full >= 0x30ab && full <= 0x30c1 &&
		 (full - 0x30ab) % 2 == 0) ||
		full == 0x30c4 || full == 0x30c6 || full == 0x30c8;
	ha = full >= 0x30cf && full <= 0x30db && (full - 0x30cf) % 3 == 0;
	if (mark == 0xff9e && (ka_to || ha)) {
		*ret = full + 1;
		return n + m;
	}
	if (mark == 0xff9e && full == 0x30a6) { /* ｳﾞ is ヴ */
		*ret = 0x30f4;
		return n + m;
	}
	if (mark == 0xff9f && ha) {
		*ret = full + 2;
		return n + m;
	}
	return n;
}

/*
 * Appends s[0..len) to out as UTF-8 that ISO-2022-JP can carry.
 *
 * A character it cannot carry does not fail the delivery: an alert with
 * one odd character beats an alert that never arrives. Known ones get a
 * readable spelling (① as "(1)", ㈱ as "(株)", half-width ｱ as ア,
 * Windows' ～ as JIS's 〜, 髙 as 高); variation selectors, joiners and
 * skin tones are dropped; anything else (emoji, rare CJK) becomes 〓, once
 * per character as a reader sees it (👨‍👩‍👧 or 🇯🇵 is one 〓): the JIS geta
 * mark that means "character not available" and that nobody mistakes for
 * a "?" that was really in the text.
 */
static int jis_prepare(struct enc *e, const char *s, size_t len,
		       struct buf *out)
{
	size_t i = 0, n;
	uint32_t cp;
	int r = buf_append(out, "", 0);
	bool geta = false;   /* the last thing written was a 〓 */
	bool joined = false; /* a joiner followed it */
	bool flag = false;   /* it stood for a lone regional indicator */

	while (r == 0 && i < len) {
		bool ri;

		n = u8_decode(s + i, len - i, &cp);
		ri = cp >= 0x1f1e6 && cp <= 0x1f1ff;
		if (jis_drop(cp)) {
			joined = geta && (joined || cp == 0x200d);
			i += n;
			continue;
		}
		if (cp < 0x80 || (cp != 0xfffd && jis_can(e, s + i, n))) {
			r = buf_append(out, s + i, n);
			geta = false;
		} else if (cp >= 0xff61 && cp <= 0xff9f) {
			n = jis_kana(s + i, len - i, cp, n, &cp);
			r = u8_put(out, cp);
			geta = false;
		} else if ((r = jis_substitute(cp, out)) == 1) {
			/* One 〓 for a ZWJ sequence or a flag's two letters. */
			if (geta && (joined || (ri && flag))) {
				r = 0;
				flag = false;
			} else {
				r = buf_puts(out, GETA);
				geta = true;
				flag = ri;
			}
		} else {
			geta = false;
		}
		joined = false;
		i += n;
	}
	return r;
}

/*
 * How many octets of s[0..len), whole characters only, fit in at most
 * max octets once converted.
 */
static size_t enc_fit(struct enc *e, const char *s, size_t len, size_t max)
{
	struct buf tmp = {0};
	size_t i = 0, n;
	uint32_t cp;

	while (i < len) {
		n = u8_decode(s + i, len - i, &cp);
		if (e->cs == MAIL_CHARSET_UTF8) {
			if (i + n > max)
				break;
		} else {
			tmp.len = 0;
			if (enc_convert(e, s, i + n, &tmp) < 0 || tmp.len > max)
				break;
		}
		i += n;
	}
	buf_free(&tmp);
	return i;
}

/* --- header folding and encoded words ---------------------------------- */

/* A header being written: tokens separated by spaces that may fold. */
struct fold {
	struct buf *out;
	size_t col; /* octets on the current line */
	bool first; /* nothing written after "Name:" yet */
};

static int fold_start(struct fold *f, struct buf *out, const char *name)
{
	f->out = out;
	f->col = strlen(name) + 1;
	f->first = true;
	return buf_printf(out, "%s:", name);
}

/*
 * Appends " token", folding (CRLF, the space then begins the next line)
 * when the token would pass column 76. Never before the first token; a
 * token longer than a line stays whole (the caller avoids that).
 */
static int fold_token(struct fold *f, const char *tok, size_t len)
{
	int r;

	if (!f->first && f->col + 1 + len > FOLD_COLS) {
		if ((r = buf_puts(f->out, "\r\n")) < 0)
			return r;
		f->col = 0;
	}
	f->first = false;
	f->col += 1 + len;
	if ((r = buf_append(f->out, " ", 1)) < 0)
		return r;
	return buf_append(f->out, tok, len);
}

static int fold_end(struct fold *f)
{
	return buf_puts(f->out, "\r\n");
}

/*
 * Appends s[0..len) (UTF-8; for ISO-2022-JP already through jis_prepare)
 * as RFC 2047 "B" encoded words. Each word is as long as the current line
 * allows, at most 75 characters, and holds whole characters only, so
 * every word decodes on its own.
 */
static int fold_encoded(struct fold *f, struct enc *e, const char *s,
			size_t len)
{
	const char *prefix =
		e->cs == MAIL_CHARSET_UTF8 ? "=?UTF-8?B?" : "=?ISO-2022-JP?B?";
	size_t over = strlen(prefix) + 2, i = 0, room, maxraw, n;
	struct buf raw = {0}, word = {0};
	char *b64;
	int r = 0;

	while (r == 0 && i < len) {
		room = f->col + 1 < FOLD_COLS ? FOLD_COLS - f->col - 1 : 0;
		if (room > WORD_MAX)
			room = WORD_MAX;
		maxraw = room >= over + 4 ? (room - over) / 4 * 3 : 0;
		n = maxraw > 0 ? enc_fit(e, s + i, len - i, maxraw) : 0;
		if (n == 0) {
			/* Not one more character fits here: fold. */
			if (f->col == 0) {
				r = -EINVAL; /* not even on a fresh line */
				break;
			}
			r = buf_puts(f->out, "\r\n");
			f->col = 0;
			continue;
		}
		raw.len = 0;
		word.len = 0;
		if ((r = enc_convert(e, s + i, n, &raw)) < 0)
			break;
		if ((b64 = crypto_base64(raw.data, raw.len)) == NULL) {
			r = -ENOMEM;
			break;
		}
		r = buf_printf(&word, "%s%s?=", prefix, b64);
		free(b64);
		if (r == 0)
			r = fold_token(f, word.data, word.len);
		i += n;
	}
	buf_free(&raw);
	buf_free(&word);
	return r;
}

/*
 * True when an ASCII value can go out as it is: no "=?" that a reader
 * would take for an encoded word, and every word fits a folded line.
 */
static bool ascii_foldable(const char *name, const char *s, size_t len)
{
	size_t col = strlen(name) + 1, w;

	if (!is_ascii(s, len) || strstr(s, "=?") != NULL)
		return false;
	while (*s != '\0') {
		w = strcspn(s, " ");
		if (col + 1 + w > FOLD_COLS)
			return false;
		col = 0;
		s += w;
		s += *s == ' ';
	}
	return true;
}

/* Appends space-separated words of s[0..len) as folding tokens. */
static int fold_words(struct fold *f, const char *s)
{
	size_t w;
	int r = 0;

	while (r == 0 && *s != '\0') {
		w = strcspn(s, " ");
		r = fold_token(f, s, w);
		s += w;
		s += *s == ' ';
	}
	return r;
}

/* Appends clean text (see header_clean) as words or encoded words. */
static int fold_text(struct fold *f, struct enc *e, const char *name,
		     const struct buf *clean)
{
	struct buf prep = {0};
	int r;

	if (clean->len == 0)
		return 0;
	if (ascii_foldable(name, clean->data, clean->len))
		return fold_words(f, clean->data);
	if (e->cs == MAIL_CHARSET_UTF8)
		return fold_encoded(f, e, clean->data, clean->len);
	r = jis_prepare(e, clean->data, clean->len, &prep);
	if (r == 0)
		r = fold_encoded(f, e, prep.data, prep.len);
	buf_free(&prep);
	return r;
}

static int header_unstructured(struct buf *out, const char *name,
			       const char *value, struct enc *e)
{
	struct buf clean = {0};
	struct fold f;
	int r;

	r = header_clean(value != NULL ? value : "", &clean);
	if (r == 0)
		r = fold_start(&f, out, name);
	if (r == 0)
		r = fold_text(&f, e, name, &clean);
	if (r == 0)
		r = fold_end(&f);
	buf_free(&clean);
	return r;
}

int mail_header_append(struct buf *out, const char *name, const char *value,
		       enum mail_charset cs)
{
	struct enc e;
	int r;

	if ((r = enc_open(&e, cs)) < 0)
		return r;
	r = header_unstructured(out, name, value, &e);
	enc_close(&e);
	return r;
}

/* --- addresses and From ------------------------------------------------ */

bool mail_address_valid(const char *addr)
{
	const char *at;
	size_t len;

	if (addr == NULL)
		return false;
	len = strlen(addr);
	at = strchr(addr, '@');
	if (len == 0 || len > 254 || at == NULL || at == addr ||
	    strchr(at + 1, '@') != NULL || at[1] == '\0' || at[1] == '.' ||
	    addr[len - 1] == '.')
		return false;
	for (const char *p = addr; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c <= 0x20 || c >= 0x7f || strchr("<>()[],;:\\\"", c))
			return false;
	}
	return true;
}

void mail_from_clear(struct mail_from *from)
{
	free(from->display);
	free(from->address);
	from->display = from->address = NULL;
	from->domain = NULL;
}

static char *strndup_trim(const char *s, size_t len)
{
	while (len > 0 && (*s == ' ' || *s == '\t')) {
		s++;
		len--;
	}
	while (len > 0 && (s[len - 1] == ' ' || s[len - 1] == '\t'))
		len--;
	return strndup(s, len);
}

int mail_from_parse(const char *text, struct mail_from *ret)
{
	struct mail_from f = {0};
	const char *lt;
	size_t len;
	char *t;

	if (text == NULL)
		return -EINVAL;
	if ((t = strndup_trim(text, strlen(text))) == NULL)
		return -ENOMEM;
	len = strlen(t);
	if (!utf8_valid(t, len, NULL) || utf8_has_control(t, len)) {
		free(t);
		return -EINVAL;
	}
	if (len > 0 && t[len - 1] == '>') {
		if ((lt = strrchr(t, '<')) == NULL)
			goto bad;
		f.address = strndup(lt + 1, (size_t)(t + len - 1 - (lt + 1)));
		f.display = strndup_trim(t, (size_t)(lt - t));
		if (f.address == NULL || f.display == NULL)
			goto nomem;
		len = strlen(f.display);
		if (len >= 2 && f.display[0] == '"' &&
		    f.display[len - 1] == '"') {
			/* A quoted-string: drop the quotes and undo \x. */
			char *w = f.display;

			for (const char *p = f.display + 1;
			     p < f.display + len - 1; p++) {
				if (*p == '\\' && p + 1 < f.display + len - 1)
					p++;
				*w++ = *p;
			}
			*w = '\0';
		}
		if (f.display[0] == '\0') {
			free(f.display);
			f.display = NULL;
		}
	} else if ((f.address = strdup(t)) == NULL) {
		goto nomem;
	}
	if (!mail_address_valid(f.address))
		goto bad;
	f.domain = strchr(f.address, '@') + 1;
	free(t);
	*ret = f;
	return 0;
bad:
	free(t);
	mail_from_clear(&f);
	return -EINVAL;
nomem:
	free(t);
	mail_from_clear(&f);
	return -ENOMEM;
}

int mail_charset_parse(const char *name, enum mail_charset *ret)
{
	if (name == NULL || name[0] == '\0' || strcasecmp(name, "utf-8") == 0 ||
	    strcasecmp(name, "utf8") == 0) {
		*ret = MAIL_CHARSET_UTF8;
		return 0;
	}
	if (strcasecmp(name, "iso-2022-jp") == 0) {
		*ret = MAIL_CHARSET_ISO2022JP;
		return 0;
	}
	return -EINVAL;
}

/* An atom-only display name can go out bare; anything else is quoted. */
static bool phrase_plain(const char *s)
{
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		      (c >= '0' && c <= '9') || c == ' ' ||
		      strchr("!#$%&'*+-/=?^_`{|}~", c)))
			return false;
	}
	return true;
}

static int header_from(struct buf *out, const struct mail_from *from,
		       struct enc *e)
{
	struct buf clean = {0}, tok = {0};
	struct fold f;
	int r;

	r = header_clean(from->display != NULL ? from->display : "", &clean);
	if (r == 0)
		r = fold_start(&f, out, "From");
	if (r == 0 && clean.len > 0) {
		if (!is_ascii(clean.data, clean.len)) {
			r = fold_text(&f, e, "From", &clean);
		} else if (phrase_plain(clean.data) &&
			   strstr(clean.data, "=?") == NULL) {
			r = fold_words(&f, clean.data);
		} else {
			r = buf_append(&tok, "\"", 1);
			for (const char *p = clean.data; r == 0 && *p; p++) {
				if (*p == '"' || *p == '\\')
					r = buf_append(&tok, "\\", 1);
				if (r == 0)
					r = buf_append(&tok, p, 1);
			}
			if (r == 0)
				r = buf_append(&tok, "\"", 1);
			if (r == 0)
				r = fold_token(&f, tok.data, tok.len);
			tok.len = 0;
		}
	}
	if (r == 0)
		r = buf_printf(&tok, "<%s>", from->address);
	if (r == 0)
		r = fold_token(&f, tok.data, tok.len);
	if (r == 0)
		r = fold_end(&f);
	buf_free(&clean);
	buf_free(&tok);
	return r;
}

char *mail_message_id(const char *key, const char *domain)
{
	struct buf b = {0};
	int r = buf_puts(&b, "<");

	for (const char *p = key; r == 0 && *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '+')
			r = buf_append(&b, p, 1);
		else
			r = buf_printf(&b, "=%02X", c);
	}
	if (r == 0)
		r = buf_printf(&b, "@%s>", domain);
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/*
 * A follow-up or cancellation names the first report's Message-ID to the
 * same address, so that mail clients show one thread (RFC 5322 3.6.4).
 */
static int header_thread(struct buf *out, const struct channel_message *msg,
			 const char *domain)
{
	char *id;
	int r;

	if (msg->thread_key == NULL || msg->thread_key[0] == '\0')
		return 0;
	id = mail_message_id(msg->thread_key, domain);
	if (id == NULL)
		return -ENOMEM;
	r = buf_printf(out, "In-Reply-To: %s\r\nReferences: %s\r\n", id, id);
	free(id);
	return r;
}

/* --- subject, date and body ---------------------------------------------- */

static const char *msg_kind(const struct channel_message *msg)
{
	return msg->kind != NULL ? msg->kind : "alert";
}

/*
 * The drill marker comes first, so that no reader can take an exercise
 * for the real thing even when a client cuts the subject short. The
 * unreachable notice goes to our own duty officer: its title says it all.
 */
char *mail_subject(const struct channel_message *msg)
{
	struct buf b = {0};
	int r = buf_append(&b, "", 0);

	if (r == 0 && msg->drill)
		r = buf_puts(&b, DRILL_MARK " ");
	if (r == 0 && strcmp(msg_kind(msg), "unreachable") != 0) {
		if (strcmp(msg_kind(msg), "cancel") == 0)
			r = buf_puts(&b, CANCEL_MARK " ");
		if (r == 0)
			r = buf_printf(&b, "[%s] ", tlp_label(msg->tlp));
	}
	if (r == 0 && msg->title != NULL)
		r = buf_puts(&b, msg->title);
	if (r < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* RFC 5322 date with a numeric zone; names by hand, whatever the locale. */
static int header_date(struct buf *out, time_t now)
{
	static const char *const days[] = {"Sun", "Mon", "Tue", "Wed",
					   "Thu", "Fri", "Sat"};
	static const char *const months[] = {"Jan", "Feb", "Mar", "Apr",
					     "May", "Jun", "Jul", "Aug",
					     "Sep", "Oct", "Nov", "Dec"};
	struct tm tm;
	long off;
	char sign = '+';

	if (localtime_r(&now, &tm) == NULL)
		return -EINVAL;
	off = tm.tm_gmtoff / 60;
	if (off < 0) {
		sign = '-';
		off = -off;
	}
	return buf_printf(
		out, "Date: %s, %02d %s %04d %02d:%02d:%02d %c%02ld%02ld\r\n",
		days[tm.tm_wday], tm.tm_mday, months[tm.tm_mon],
		tm.tm_year + 1900, tm.tm_hour, tm.tm_min, tm.tm_sec, sign,
		off / 60, off % 60);
}

/* "日本語 / English", or English first for a contact who reads English. */
static int body_label(struct buf *b, bool en, const char *ja,
		      const char *english, const char *value)
{
	struct buf clean = {0};
	int r;

	if (value == NULL)
		return 0;
	r = body_clean(value, &clean);
	if (r == 0)
		r = buf_printf(b, "%s / %s: %s\n", en ? english : ja,
			       en ? ja : english, clean.data);
	buf_free(&clean);
	return r;
}

/*
 * The body as UTF-8 text with LF line ends: the drill line, the TLP label
 * right before the content, the title and body, the personal reply link,
 * and a footer saying what the alert is and who it is for.
 */
static int body_text(const struct channel_message *msg, struct buf *b)
{
	bool en = msg->language != NULL &&
		  strncasecmp(msg->language, "en", 2) == 0;
	int r = 0;

	if (msg->drill)
		r = buf_puts(b,
			     DRILL_MARK " これは訓練です。This is a drill.\n");
	if (r == 0)
		r = buf_printf(b, "%s\n\n", tlp_label(msg->tlp));
	if (r == 0 && strcmp(msg_kind(msg), "cancel") == 0)
		r = buf_puts(b, CANCEL_MARK " ");
	if (r == 0 && msg->title != NULL)
		r = body_clean(msg->title, b);
	if (r == 0)
		r = buf_puts(b, "\n\n");
	if (r == 0 && msg->body != NULL && msg->body[0] != '\0') {
		r = body_clean(msg->body, b);
		if (r == 0 && b->data[b->len - 1] != '\n')
			r = buf_puts(b, "\n");
	}
	if (r == 0 && msg->ack_url != NULL) {
		r = buf_puts(b, "\n");
		if (r == 0)
			r = body_label(b, en, "受信確認", "Acknowledge",
				       msg->ack_url);
	}
	if (r == 0)
		r = buf_puts(b, "\n----------------------------------------\n");
	if (r == 0)
		r = body_label(b, en, "警報ID", "Alert ID", msg->alert_id);
	if (r == 0)
		r = body_label(b, en, "種別", "Type", msg->type);
	if (r == 0)
		r = body_label(b, en, "重大度", "Severity", msg->severity);
	if (r == 0)
		r = body_label(b, en, "組織", "Organisation", msg->org_name);
	if (r == 0)
		r = body_label(b, en, "宛先", "Contact", msg->contact_name);
	return r;
}

/* UTF-8 body: CRLF lines, base64, 76 characters a line. */
static int body_base64(struct buf *out, const char *text)
{
	struct buf crlf = {0};
	char *b64 = NULL;
	size_t len;
	int r = buf_append(&crlf, "", 0);

	for (const char *p = text; r == 0 && *p != '\0'; p++)
		r = *p == '\n' ? buf_puts(&crlf, "\r\n")
			       : buf_append(&crlf, p, 1);
	if (r == 0 && (b64 = crypto_base64(crlf.data, crlf.len)) == NULL)
		r = -ENOMEM;
	len = b64 != NULL ? strlen(b64) : 0;
	for (size_t i = 0; r == 0 && i < len; i += FOLD_COLS) {
		r = buf_append(out, b64 + i,
			       len - i < FOLD_COLS ? len - i : FOLD_COLS);
		if (r == 0)
			r = buf_puts(out, "\r\n");
	}
	free(b64);
	buf_free(&crlf);
	return r;
}

/* Whether a line may start with cp: not with closing punctuation (禁則). */
static bool jis_may_start(uint32_t cp)
{
	static const uint32_t closing[] = {
		0x3001, 0x3002, 0xff0c, 0xff0e, 0x300d, 0x300f, 0xff09,
		0x3011, 0x30fc, 0x3063, 0x30c3, 0xff01, 0xff1f, 0x30fb,
	};

	for (size_t i = 0; i < sizeof(closing) / sizeof(closing[0]); i++)
		if (cp == closing[i])
			return false;
	return true;
}

/*
 * Where a line of prepared text s[0..len) may break at octet p (0 < p <
 * len): between characters, never inside a run of ASCII that is not a
 * space (a word, a number, a reply link), and never before closing
 * punctuation.
 */
static bool jis_break_ok(const char *s, size_t len, size_t p)
{
	uint32_t next;

	if (p == 0 || p >= len || ((unsigned char)s[p] & 0xc0) == 0x80)
		return false;
	u8_decode(s + p, len - p, &next);
	if (!jis_may_start(next))
		return false;
	if ((unsigned char)s[p - 1] < 0x80 && (unsigned char)s[p] < 0x80)
		return s[p - 1] == ' ';
	return true;
}

/*
 * ISO-2022-JP body, 7bit, folded as Japanese mail is: a line longer than
 * SOFT_COLS octets once encoded is broken at a character boundary so that
 * each piece fits, every piece converted on its own (escape sequences
 * balanced, ending in ASCII mode). Words of ASCII (reply links) are never
 * cut unless one alone would pass HARD_COLS.
 */
static int body_jis(struct buf *out, struct enc *e, const char *text)
{
	struct buf prep = {0};
	const char *p = text, *nl;
	size_t len, i, n;
	int r = 0;

	while (r == 0 && *p != '\0') {
		nl = strchr(p, '\n');
		len = nl != NULL ? (size_t)(nl - p) : strlen(p);
		prep.len = 0;
		r = jis_prepare(e, p, len, &prep);
		for (i = 0; r == 0 && (i < prep.len || i == 0); i += n) {
			const char *s = prep.data + i;
			size_t left = prep.len - i, fit, b;

			fit = enc_fit(e, s, left, SOFT_COLS);
			n = fit;
			if (fit < left) {
				/* The last allowed break within the fit. */
				for (b = fit;
				     b > 0 && !jis_break_ok(s, left, b); b--)
					;
				if (b > 0) {
					n = b;
				} else {
					/* One long word: whole, up to 998. */
					for (b = fit + 1;
					     b < left &&
					     !jis_break_ok(s, left, b);
					     b++)
						;
					n = enc_fit(e, s, b, HARD_COLS);
				}
			}
			if (n == 0 && left > 0) {
				r = -EINVAL;
				break;
			}
			r = enc_convert(e, s, n, out);
			if (r == 0)
				r = buf_puts(out, "\r\n");
			if (left == 0)
				break;
		}
		p += len + (nl != NULL);
	}
	buf_free(&prep);
	return r;
}

/* --- the message ------------------------------------------------------- */

int mail_render(const struct channel_message *msg, const struct mail_from *from,
		time_t now, char **ret_text)
{
	enum mail_charset cs;
	struct buf out = {0}, body = {0};
	struct enc e;
	char *subject = NULL, *msgid = NULL;
	int r;

	if (msg->key == NULL || msg->key[0] == '\0' ||
	    !mail_address_valid(msg->address) || from == NULL ||
	    from->address == NULL || from->domain == NULL)
		return -EINVAL;
	if (mail_charset_parse(msg->charset, &cs) < 0)
		cs = MAIL_CHARSET_UTF8;
	if ((r = enc_open(&e, cs)) < 0)
		return r;

	subject = mail_subject(msg);
	msgid = mail_message_id(msg->key, from->domain);
	if (subject == NULL || msgid == NULL) {
		r = -ENOMEM;
		goto out;
	}
	if ((r = header_date(&out, now)) < 0 ||
	    (r = header_from(&out, from, &e)) < 0 ||
	    (r = buf_printf(&out, "To: %s\r\n", msg->address)) < 0 ||
	    (r = header_unstructured(&out, "Subject", subject, &e)) < 0 ||
	    (r = buf_printf(&out, "Message-ID: %s\r\n", msgid)) < 0 ||
	    (r = header_thread(&out, msg, from->domain)) < 0 ||
	    (r = buf_puts(&out, "MIME-Version: 1.0\r\n")) < 0)
		goto out;
	if (cs == MAIL_CHARSET_UTF8)
		r = buf_puts(&out, "Content-Type: text/plain; charset=UTF-8\r\n"
				   "Content-Transfer-Encoding: base64\r\n");
	else
		r = buf_puts(&out,
			     "Content-Type: text/plain; charset=ISO-2022-JP\r\n"
			     "Content-Transfer-Encoding: 7bit\r\n");
	if (r < 0)
		goto out;
	if (msg->alert_id != NULL &&
	    (r = header_unstructured(&out, "X-Pocalert-Alert", msg->alert_id,
				     &e)) < 0)
		goto out;
	if ((r = buf_printf(&out, "X-Pocalert-TLP: %s\r\n\r\n",
			    tlp_label(msg->tlp))) < 0)
		goto out;

	if ((r = body_text(msg, &body)) < 0)
		goto out;
	r = cs == MAIL_CHARSET_UTF8 ? body_base64(&out, body.data)
				    : body_jis(&out, &e, body.data);
	if (r < 0)
		goto out;
	if ((*ret_text = buf_steal(&out)) == NULL)
		r = -ENOMEM;
out:
	enc_close(&e);
	free(subject);
	free(msgid);
	buf_free(&body);
	buf_free(&out);
	return r;
}
