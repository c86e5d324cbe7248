/*
 * The directory as CSV, one row per contact method, the way operators keep
 * it in a spreadsheet; and reading a text file as UTF-8 whatever Excel
 * saved it in.
 *
 * The file is decoded as a whole before any comma is looked at: in CP932
 * (Shift_JIS as Windows writes it) the second byte of characters such as
 * 表, ソ and 能 is 0x5C, and splitting the raw bytes would see stray
 * backslashes and half characters. Decoding keeps every line feed where it
 * was (0x0A is never part of a CP932 character), so line numbers count in
 * the decoded text as in the file.
 *
 * Then RFC 4180: fields separated by commas, records by CRLF or LF, quoted
 * fields that may hold commas, doubled quotes and line breaks. A record's
 * line is the physical line it starts on. The header names the columns in
 * any order. Rows of one organisation repeat its fields, and rows of one
 * contact its fields: they must agree with the first row, word for word.
 */
#include <errno.h>
#include <fcntl.h>
#include <iconv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "common/buf.h"
#include "common/utf8.h"
#include "contacts/directory.h"

#define QUOTE_MAX 96
#define REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, for bytes we could not read */

/* ---- reading text ---- */

enum encoding {
	ENC_UTF8,
	ENC_CP932,
	ENC_AUTO,
};

static int encoding_parse(const char *s, enum encoding *ret)
{
	static const char *const cp932[] = {
		"cp932",     "ms932", "windows-31j", "shift_jis",
		"shift-jis", "sjis",  "x-sjis",	     "ms_kanji",
	};

	if (s == NULL || strcasecmp(s, "auto") == 0) {
		*ret = ENC_AUTO;
		return 0;
	}
	if (strcasecmp(s, "utf-8") == 0 || strcasecmp(s, "utf8") == 0) {
		*ret = ENC_UTF8;
		return 0;
	}
	/*
	 * Strict Shift_JIS lacks the NEC and IBM rows (①, ㈱) that Excel
	 * writes, so every Shift_JIS name reads as Microsoft's CP932.
	 */
	for (size_t i = 0; i < sizeof(cp932) / sizeof(cp932[0]); i++) {
		if (strcasecmp(s, cp932[i]) == 0) {
			*ret = ENC_CP932;
			return 0;
		}
	}
	return -EINVAL;
}

static int read_all(const char *path, char **ret, size_t *ret_len)
{
	struct buf b = {0};
	char chunk[65536];
	int fd, r = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		r = buf_append(&b, chunk, (size_t)n);
		if (r < 0)
			break;
	}
	close(fd);
	if (r < 0) {
		buf_free(&b);
		return r;
	}
	*ret_len = b.len;
	*ret = buf_steal(&b);
	return *ret ? 0 : -ENOMEM;
}

/*
 * Copies UTF-8 text to out, one line at a time; a line with invalid
 * sequences or NUL bytes (which would cut a field short) gets one diag
 * and U+FFFD in place of each bad byte. Returns the number of bad lines
 * or -ENOMEM.
 */
static int scrub_utf8(const char *s, size_t len, struct buf *out,
		      const char *file, const char *hint,
		      struct diag_list *diags)
{
	int line = 1, bad_lines = 0;

	for (size_t start = 0; start < len; line++) {
		const char *nl = memchr(s + start, '\n', len - start);
		size_t end = nl ? (size_t)(nl - s) + 1 : len, i = start;
		bool reported = false;

		while (i < end) {
			size_t bad = 0;
			const char *nul = memchr(s + i, '\0', end - i);
			size_t stop = nul ? (size_t)(nul - s) : end;

			if (utf8_valid(s + i, stop - i, &bad))
				bad = stop - i;
			if (buf_append(out, s + i, bad) < 0)
				return -ENOMEM;
			i += bad;
			if (i == end)
				break;
			if (!reported) {
				if (s[i] == '\0')
					diag_add(diags, file, line,
						 "NUL byte at column %zu",
						 utf8_length(s + start,
							     i - start) +
							 1);
				else
					diag_add(diags, file, line,
						 "invalid UTF-8: byte 0x%02X "
						 "at column %zu%s",
						 (unsigned char)s[i],
						 utf8_length(s + start,
							     i - start) +
							 1,
						 hint);
				reported = true;
				bad_lines++;
			}
			if (buf_puts(out, REPLACEMENT) < 0)
				return -ENOMEM;
			i++;
		}
		start = end;
	}
	return bad_lines;
}

/* CP932 characters in len bytes: a lead byte takes its trail with it. */
static size_t cp932_chars(const char *s, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; n++) {
		unsigned char c = (unsigned char)s[i];

		i += ((c >= 0x81 && c <= 0x9F) || (c >= 0xE0 && c <= 0xFC)) ? 2
									    : 1;
	}
	return n;
}

/*
 * The CP932 code of a user-defined character from the Private Use Area
 * iconv decoded it to: 188 a lead byte from 0xF0, trail bytes 0x40-0x7E
 * then 0x80-0xFC (U+E000 is 0xF040, U+E03F is 0xF080).
 */
static unsigned cp932_user_defined(unsigned cp)
{
	unsigned k = cp - 0xE000, trail = k % 188;

	return (0xF0 + k / 188) << 8 |
	       (trail < 63 ? 0x40 + trail : 0x41 + trail);
}

/*
 * 外字: CP932's user-defined area (0xF040-0xF9FC) decodes to the Private
 * Use Area, which no recipient's font shows the same. Each line holding
 * one gets a diag with its column in characters. Returns the lines.
 */
static int refuse_private_use(const char *s, size_t len, const char *file,
			      bool from_cp932, struct diag_list *diags)
{
	int line = 1, bad = 0;
	size_t col = 1;
	bool reported = false;

	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)s[i];
		size_t w = c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4;

		if (c == '\n') {
			line++;
			col = 1;
			reported = false;
			i++;
			continue;
		}
		if (w == 3 && i + 2 < len) {
			unsigned cp = ((c & 0x0Fu) << 12) |
				      (((unsigned char)s[i + 1] & 0x3Fu) << 6) |
				      ((unsigned char)s[i + 2] & 0x3Fu);

			if (cp >= 0xE000 && cp <= 0xF8FF && !reported) {
				if (from_cp932)
					diag_add(diags, file, line,
						 "column %zu: 外字 (a "
						 "user-defined character, "
						 "CP932 0x%04X): recipients "
						 "cannot read it; write it "
						 "with standard characters",
						 col, cp932_user_defined(cp));
				else
					diag_add(
						diags, file, line,
						"column %zu: U+%04X is a "
						"private-use character (外字): "
						"recipients cannot read it",
						col, cp);
				reported = true;
				bad++;
			}
		}
		i += w;
		col++;
	}
	return bad;
}

/*
 * Decodes CP932 into a malloc'd buffer (*ret, *ret_len). A byte that
 * starts no CP932 character gets a diag (one per line) and becomes
 * U+FFFD; decoding goes on with the next byte. Returns the number of bad
 * lines or -errno.
 */
static int decode_cp932(const char *s, size_t len, char **ret, size_t *ret_len,
			const char *file, struct diag_list *diags)
{
	/* One CP932 byte is at most three bytes of UTF-8 (ｱ is EF BD B1). */
	size_t cap = len * 3 + 16, olen = 0, inleft = len, counted = 0;
	char *out = malloc(cap), *in = (char *)s;
	int line = 1, reported_line = 0, bad_lines = 0;
	iconv_t cd;

	if (out == NULL)
		return -ENOMEM;
	cd = iconv_open("UTF-8", "CP932");
	if (cd == (iconv_t)-1) {
		int r = -errno;

		free(out);
		return r;
	}
	while (inleft > 0) {
		char *o = out + olen;
		size_t oleft = cap - olen - 1, n, at, col;
		int err;

		n = iconv(cd, &in, &inleft, &o, &oleft);
		err = errno;
		olen = (size_t)(o - out);
		if (n != (size_t)-1)
			break;
		if (err == E2BIG || cap - olen < 4) {
			char *bigger = realloc(out, cap * 2);

			if (bigger == NULL) {
				free(out);
				iconv_close(cd);
				return -ENOMEM;
			}
			out = bigger;
			cap *= 2;
			if (err == E2BIG)
				continue;
		}
		/* EILSEQ, or EINVAL for a character cut by the end of file. */
		at = (size_t)(in - s);
		for (; counted < at; counted++)
			if (s[counted] == '\n')
				line++;
		for (col = at; col > 0 && s[col - 1] != '\n'; col--)
			;
		if (line != reported_line && err == EINVAL)
			diag_add(diags, file, line,
				 "file ends inside a CP932 character");
		else if (line != reported_line)
			diag_add(diags, file, line,
				 "invalid CP932: byte 0x%02X at column %zu",
				 (unsigned char)*in,
				 cp932_chars(s + col, at - col) + 1);
		if (line != reported_line) {
			reported_line = line;
			bad_lines++;
		}
		memcpy(out + olen, REPLACEMENT, 3);
		olen += 3;
		in++;
		inleft--;
	}
	iconv_close(cd);
	out[olen] = '\0';
	*ret = out;
	*ret_len = olen;
	return bad_lines;
}

int dir_read_text(const char *path, const char *encoding, char **ret,
		  size_t *ret_len, struct diag_list *diags)
{
	char name[32];
	size_t n = encoding ? strlen(encoding) : 0;

	/* "cp932!" is --force-encoding's way through the parsers. */
	if (n > 1 && n < sizeof(name) && encoding[n - 1] == '!') {
		memcpy(name, encoding, n - 1);
		name[n - 1] = '\0';
		return dir_read_text_as(path, name, true, ret, ret_len, NULL,
					diags);
	}
	return dir_read_text_as(path, encoding, false, ret, ret_len, NULL,
				diags);
}

int dir_read_text_as(const char *path, const char *encoding, bool force,
		     char **ret, size_t *ret_len, const char **ret_encoding,
		     struct diag_list *diags)
{
	struct buf out = {0};
	enum encoding enc;
	char *raw = NULL, *decoded = NULL;
	const char *text, *hint = "";
	size_t len;
	int r, bad = 0;
	bool has_bom, looks_utf8,
		explicit_utf8 =
			encoding != NULL && strcasecmp(encoding, "auto") != 0;

	if (encoding_parse(encoding, &enc) < 0) {
		char q[QUOTE_MAX];

		dir_quote(encoding, q, sizeof(q));
		diag_add(diags, path, 0,
			 "unknown encoding '%s' (expected auto, utf-8 or "
			 "cp932)",
			 q);
		return -EINVAL;
	}
	r = read_all(path, &raw, &len);
	if (r < 0) {
		diag_add(diags, path, 0, "cannot read: %s", strerror(-r));
		return r;
	}
	text = raw;
	has_bom = len >= 3 && memcmp(raw, "\xEF\xBB\xBF", 3) == 0;
	if (has_bom) {
		text += 3;
		len -= 3;
	}
	looks_utf8 = has_bom || (utf8_valid(text, len, NULL) &&
				 utf8_length(text, len) < len);
	if (enc == ENC_AUTO) {
		/*
		 * UTF-8 when it is; else whichever of CP932 and UTF-8 finds
		 * fewer bad lines, so that an Excel export with one stray
		 * byte is reported as the CP932 it is, at that byte.
		 */
		enc = ENC_UTF8;
		if (!has_bom && !utf8_valid(text, len, NULL)) {
			struct diag_list quiet = {0};
			struct buf scratch = {0};
			char *probe = NULL;
			size_t plen;
			int bad_cp932, bad_utf8;

			bad_cp932 = decode_cp932(text, len, &probe, &plen, path,
						 &quiet);
			bad_utf8 = scrub_utf8(text, len, &scratch, path, "",
					      &quiet);
			if (bad_cp932 >= 0 && bad_utf8 >= 0 &&
			    bad_cp932 < bad_utf8)
				enc = ENC_CP932;
			free(probe);
			buf_free(&scratch);
			diag_clear(&quiet);
		}
		if (ret_encoding != NULL)
			*ret_encoding = enc == ENC_CP932 ? "cp932" : "utf-8";
	} else if (enc == ENC_CP932 && looks_utf8 && !force) {
		/* UTF-8 Japanese is often valid CP932 too: mojibake. */
		diag_add(diags, path, 0,
			 "the file is UTF-8 (%s), not CP932: reading it as "
			 "CP932 would garble every Japanese character; use "
			 "--encoding utf-8 or auto, or --force-encoding if "
			 "it really is CP932",
			 has_bom ? "it starts with a UTF-8 byte-order mark"
				 : "its Japanese text is valid UTF-8");
		r = -EINVAL;
		goto out;
	} else if (ret_encoding != NULL) {
		*ret_encoding = enc == ENC_CP932 ? "cp932" : "utf-8";
	}
	if (enc == ENC_UTF8 && !utf8_valid(text, len, NULL))
		hint = explicit_utf8 ? ""
				     : " (nor is the file clean CP932: if it "
				       "comes from Excel, --encoding cp932 "
				       "shows its CP932 errors)";
	if (enc == ENC_CP932) {
		r = decode_cp932(text, len, &decoded, &len, path, diags);
		if (r < 0)
			goto out;
		bad += r;
		text = decoded;
	}
	r = scrub_utf8(text, len, &out, path, hint, diags);
	if (r < 0)
		goto out;
	bad += r;
	bad += refuse_private_use(out.data, out.len, path, enc == ENC_CP932,
				  diags);
	*ret_len = out.len;
	*ret = buf_steal(&out);
	r = *ret == NULL ? -ENOMEM : bad > 0 ? -EINVAL : 0;
out:
	buf_free(&out);
	free(decoded);
	free(raw);
	return r;
}

/* ---- splitting records ---- */

struct record {
	struct buf text; /* the fields, each NUL-terminated, back to back */
	size_t *off;	 /* where each field starts in text */
	size_t n, cap;
	const char **fields; /* set once the record is complete */
	int line;	     /* physical line the record starts on */
	bool bad;	     /* a malformed field was reported */
};

struct reader {
	const char *p, *end;
	int line;
	const char *file;
	struct diag_list *diags;
};

static int record_push(struct record *rec, const char *s, size_t len)
{
	if (rec->n == rec->cap) {
		size_t cap = rec->cap ? rec->cap * 2 : 32;
		size_t *off = reallocarray(rec->off, cap, sizeof(*off));

		if (off == NULL)
			return -ENOMEM;
		rec->off = off;
		rec->cap = cap;
	}
	rec->off[rec->n++] = rec->text.len;
	if (buf_append(&rec->text, s, len) < 0 ||
	    buf_append(&rec->text, "", 1) < 0)
		return -ENOMEM;
	return 0;
}

static bool at_eol(const struct reader *r)
{
	return r->p == r->end || *r->p == '\n' ||
	       (*r->p == '\r' && r->p + 1 < r->end && r->p[1] == '\n');
}

/* Reads one field at r->p into field. Returns 0 or -EINVAL (fatal). */
static int read_field(struct reader *r, struct record *rec, struct buf *field)
{
	if (r->p < r->end && *r->p == '"') {
		int start_line = r->line;

		r->p++;
		for (;;) {
			if (r->p == r->end) {
				diag_add(r->diags, r->file, start_line,
					 "quoted field never ends (a '\"' is "
					 "missing)");
				return -EINVAL;
			}
			if (*r->p == '"') {
				if (r->p + 1 < r->end && r->p[1] == '"') {
					if (buf_append(field, "\"", 1) < 0)
						return -ENOMEM;
					r->p += 2;
					continue;
				}
				r->p++;
				break;
			}
			if (*r->p == '\n')
				r->line++;
			if (buf_append(field, r->p++, 1) < 0)
				return -ENOMEM;
		}
		if (r->p < r->end && *r->p != ',' && !at_eol(r)) {
			diag_add(r->diags, r->file, r->line,
				 "text after the closing '\"' of a quoted "
				 "field");
			rec->bad = true;
		}
	}
	/* Unquoted text, or what trails a bad quoted field: up to , or EOL. */
	while (r->p < r->end && *r->p != ',' && !at_eol(r))
		if (buf_append(field, r->p++, 1) < 0)
			return -ENOMEM;
	return 0;
}

/*
 * Reads the next record. Returns 1 with rec filled, 0 at the end of the
 * text, -EINVAL after an unreadable record (reported), or -ENOMEM.
 */
static int next_record(struct reader *r, struct record *rec)
{
	struct buf field = {0};
	int ret;

	if (r->p == r->end)
		return 0;
	rec->text.len = 0;
	rec->n = 0;
	rec->line = r->line;
	rec->bad = false;
	for (;;) {
		field.len = 0;
		ret = read_field(r, rec, &field);
		if (ret < 0)
			goto out;
		ret = record_push(rec, field.data ? field.data : "", field.len);
		if (ret < 0)
			goto out;
		if (r->p == r->end)
			break;
		if (*r->p == ',') {
			r->p++;
			continue;
		}
		r->p += *r->p == '\r' ? 2 : 1;
		r->line++;
		break;
	}
	free(rec->fields);
	rec->fields = calloc(rec->n, sizeof(*rec->fields));
	ret = rec->fields ? 1 : -ENOMEM;
	for (size_t i = 0; rec->fields && i < rec->n; i++)
		rec->fields[i] = rec->text.data + rec->off[i];
out:
	buf_free(&field);
	return ret;
}

static void record_free(struct record *rec)
{
	buf_free(&rec->text);
	free(rec->off);
	free(rec->fields);
}

/* ---- columns ---- */

enum column {
	COL_ORG_ID,
	COL_ORG_NAME,
	COL_SECTOR,
	COL_KIND,
	COL_PARENT,
	COL_CONTACT_ID,
	COL_CONTACT_NAME,
	COL_ROLE,
	COL_LANGUAGE,
	COL_CHANNEL,
	COL_ADDRESS,
	COL_MAX_TLP,
	COL_N_REQUIRED,
	COL_NAME_EN = COL_N_REQUIRED,
	COL_CHARSET,
	COL_HOURS,
	COL_TIMEZONE,
	COL_ORDER,
	COL_DAYS_OFF,
	COL_COUNT,
};

static const char *const column_names[COL_COUNT] = {
	[COL_ORG_ID] = "org_id",
	[COL_ORG_NAME] = "org_name",
	[COL_SECTOR] = "sector",
	[COL_KIND] = "kind",
	[COL_PARENT] = "parent",
	[COL_CONTACT_ID] = "contact_id",
	[COL_CONTACT_NAME] = "contact_name",
	[COL_ROLE] = "role",
	[COL_LANGUAGE] = "language",
	[COL_CHANNEL] = "channel",
	[COL_ADDRESS] = "address",
	[COL_MAX_TLP] = "max_tlp",
	[COL_NAME_EN] = "name_en",
	[COL_CHARSET] = "charset",
	[COL_HOURS] = "hours",
	[COL_TIMEZONE] = "timezone",
	[COL_ORDER] = "order",
	[COL_DAYS_OFF] = "days_off",
};

/* The columns every row of an organisation, or of a contact, repeats. */
static const enum column org_columns[] = {
	COL_ORG_NAME, COL_NAME_EN, COL_SECTOR,	 COL_KIND,
	COL_PARENT,   COL_HOURS,   COL_TIMEZONE, COL_DAYS_OFF,
};
#define N_ORG_COLUMNS (sizeof(org_columns) / sizeof(org_columns[0]))
static const enum column contact_columns[] = {
	COL_CONTACT_NAME,
	COL_ROLE,
	COL_LANGUAGE,
};
#define N_CONTACT_COLUMNS (sizeof(contact_columns) / sizeof(contact_columns[0]))

/* What the first row of a contact said, to compare later rows with. */
struct seen_contact {
	char *cells[N_CONTACT_COLUMNS];
	int line;
};

/* The same for an organisation, with its contacts in the same order. */
struct seen_org {
	char *cells[N_ORG_COLUMNS];
	int line;
	struct seen_contact *contacts; /* parallel to the org's contacts */
	size_t n_contacts;
	int n_methods; /* methods so far: the default order of the next */
};

struct csv {
	const char *file;
	struct diag_list *diags;
	struct directory *d;
	size_t base;	       /* orgs of d before this file */
	int col[COL_COUNT];    /* field index of each column, or -1 */
	size_t n_columns;      /* fields in the header */
	struct seen_org *seen; /* parallel to d->orgs[base..] */
	size_t n_seen;
	size_t *slots; /* hash of org id -> 1 + org index, 0 free */
	size_t n_slots;
	struct directory bad_orgs; /* organisations with a bad id, checked */
	struct directory bin; /* one organisation: contacts with a bad id */
};

static const char *cell(const struct csv *c, const struct record *rec,
			enum column col)
{
	return c->col[col] < 0 ? "" : rec->fields[c->col[col]];
}

/* ---- organisations by id ---- */

static size_t hash_id(const char *s)
{
	uint64_t h = 0xcbf29ce484222325u; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3u;
	return (size_t)h;
}

/* The organisation of this file called id, as an index into d, or -1. */
static long find_org(const struct csv *c, const char *id)
{
	if (c->n_slots == 0)
		return -1;
	for (size_t i = hash_id(id) & (c->n_slots - 1);;
	     i = (i + 1) & (c->n_slots - 1)) {
		size_t k = c->slots[i];

		if (k == 0)
			return -1;
		if (strcmp(c->d->orgs[k - 1].id, id) == 0)
			return (long)(k - 1);
	}
}

static int insert_org(struct csv *c, size_t index)
{
	size_t n_orgs = c->d->n_orgs - c->base, j;

	/* Keep the table at most half full so probes stay short. */
	if (n_orgs * 2 > c->n_slots) {
		size_t n = c->n_slots ? c->n_slots * 2 : 256;
		size_t *slots = calloc(n, sizeof(*slots));

		if (slots == NULL)
			return -ENOMEM;
		for (size_t i = 0; i < c->n_slots; i++) {
			size_t k = c->slots[i], h;

			if (k == 0)
				continue;
			h = hash_id(c->d->orgs[k - 1].id) & (n - 1);
			while (slots[h] != 0)
				h = (h + 1) & (n - 1);
			slots[h] = k;
		}
		free(c->slots);
		c->slots = slots;
		c->n_slots = n;
	}
	j = hash_id(c->d->orgs[index].id) & (c->n_slots - 1);
	while (c->slots[j] != 0)
		j = (j + 1) & (c->n_slots - 1);
	c->slots[j] = index + 1;
	return 0;
}

/* ---- rows ---- */

static int read_header(struct csv *c, const struct record *rec)
{
	int errors = 0;

	for (size_t i = 0; i < COL_COUNT; i++)
		c->col[i] = -1;
	for (size_t i = 0; i < rec->n; i++) {
		const char *name = rec->fields[i];
		size_t k;
		char q[QUOTE_MAX];

		for (k = 0; k < COL_COUNT; k++)
			if (strcmp(name, column_names[k]) == 0)
				break;
		dir_quote(name, q, sizeof(q));
		if (k == COL_COUNT) {
			diag_add(c->diags, c->file, rec->line,
				 "unknown column '%s'", q);
			errors++;
		} else if (c->col[k] >= 0) {
			diag_add(c->diags, c->file, rec->line,
				 "column '%s' appears twice", q);
			errors++;
		} else {
			c->col[k] = (int)i;
		}
	}
	for (size_t k = 0; k < COL_N_REQUIRED; k++) {
		if (c->col[k] < 0) {
			diag_add(c->diags, c->file, rec->line,
				 "missing required column '%s'",
				 column_names[k]);
			errors++;
		}
	}
	c->n_columns = rec->n;
	return errors;
}

static bool blank(const struct record *rec)
{
	for (size_t i = 0; i < rec->n; i++)
		if (rec->fields[i][0] != '\0')
			return false;
	return true;
}

/* Reports a later row's value that differs from the first row's. */
static void disagree(struct csv *c, int line, enum column col,
		     const char *value, const char *first, int first_line,
		     const char *what, const char *id, const char *org_id)
{
	char qv[QUOTE_MAX], qf[QUOTE_MAX];

	dir_quote(value, qv, sizeof(qv));
	dir_quote(first, qf, sizeof(qf));
	if (org_id == NULL)
		diag_add(c->diags, c->file, line,
			 "%s '%s': disagrees with '%s' given for %s '%s' on "
			 "line %d",
			 column_names[col], qv, qf, what, id, first_line);
	else
		diag_add(c->diags, c->file, line,
			 "%s '%s': disagrees with '%s' given for %s '%s' of "
			 "organisation '%s' on line %d",
			 column_names[col], qv, qf, what, id, org_id,
			 first_line);
}

/* The first row of an organisation: every org field is read and kept. */
static int new_org(struct csv *c, const struct record *rec,
		   struct dir_org **ret, struct seen_org **ret_seen)
{
	const char *id = cell(c, rec, COL_ORG_ID);
	bool keep = dir_id_valid(id);
	struct directory *target = keep ? c->d : &c->bad_orgs;
	struct dir_org *o = dir_org_append(target);
	struct seen_org *seen;
	int r;

	if (o == NULL)
		return -ENOMEM;
	o->line = rec->line;
	r = dir_org_set(o, "org_id", id, c->file, rec->line, c->diags);
	for (size_t k = 0; k < N_ORG_COLUMNS && r != -ENOMEM; k++) {
		enum column col = org_columns[k];
		const char *field = column_names[col];

		/* The file's "org_name" is the model's name. */
		r = dir_org_set(o, field, cell(c, rec, col), c->file, rec->line,
				c->diags);
	}
	if (r == -ENOMEM)
		return r;
	*ret = o;
	*ret_seen = NULL;
	if (!keep)
		return 0;

	seen = reallocarray(c->seen, c->n_seen + 1, sizeof(*seen));
	if (seen == NULL)
		return -ENOMEM;
	c->seen = seen;
	seen = &c->seen[c->n_seen++];
	memset(seen, 0, sizeof(*seen));
	seen->line = rec->line;
	for (size_t k = 0; k < N_ORG_COLUMNS; k++) {
		seen->cells[k] = strdup(cell(c, rec, org_columns[k]));
		if (seen->cells[k] == NULL)
			return -ENOMEM;
	}
	*ret_seen = seen;
	return insert_org(c, c->d->n_orgs - 1);
}

/*
 * The first row of a contact. *ret_kept tells whether it joined o, or
 * went to the bin because it or its organisation has a bad id.
 */
static int new_contact(struct csv *c, const struct record *rec,
		       struct dir_org *o, struct seen_org *seen,
		       struct dir_contact **ret, bool *ret_kept)
{
	const char *id = cell(c, rec, COL_CONTACT_ID);
	struct seen_contact *sc;
	struct dir_contact *ct;
	int r;

	/* A contact with a bad id or of a bad organisation is only checked. */
	if (seen == NULL || !dir_id_valid(id)) {
		seen = NULL;
		if (c->bin.n_orgs == 0 && dir_org_append(&c->bin) == NULL)
			return -ENOMEM;
		o = &c->bin.orgs[0];
	}
	ct = dir_contact_append(o);
	if (ct == NULL)
		return -ENOMEM;
	ct->line = rec->line;
	r = dir_contact_set(ct, "contact_id", id, c->file, rec->line, c->diags);
	for (size_t k = 0; k < N_CONTACT_COLUMNS && r != -ENOMEM; k++) {
		enum column col = contact_columns[k];

		r = dir_contact_set(ct, column_names[col], cell(c, rec, col),
				    c->file, rec->line, c->diags);
	}
	if (r == -ENOMEM)
		return r;
	if (ct->language == NULL) {
		/* A bad language cell was reported; keep the model whole. */
		ct->language = strdup("ja");
		if (ct->language == NULL)
			return -ENOMEM;
	}
	*ret = ct;
	*ret_kept = seen != NULL;
	if (seen == NULL)
		return 0;

	sc = reallocarray(seen->contacts, seen->n_contacts + 1, sizeof(*sc));
	if (sc == NULL)
		return -ENOMEM;
	seen->contacts = sc;
	sc = &seen->contacts[seen->n_contacts++];
	memset(sc, 0, sizeof(*sc));
	sc->line = rec->line;
	for (size_t k = 0; k < N_CONTACT_COLUMNS; k++) {
		sc->cells[k] = strdup(cell(c, rec, contact_columns[k]));
		if (sc->cells[k] == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int add_method(struct csv *c, const struct record *rec,
		      struct dir_contact *ct, struct seen_org *seen)
{
	static const enum column after_channel[] = {
		COL_ADDRESS,
		COL_CHARSET,
		COL_MAX_TLP,
		COL_ORDER,
	};
#define N_AFTER_CHANNEL (sizeof(after_channel) / sizeof(after_channel[0]))
	struct dir_method *m = dir_method_append(ct);
	size_t before = c->diags->n;
	int r;

	if (m == NULL)
		return -ENOMEM;
	m->line = rec->line;
	/* By default an organisation's methods are tried in file order. */
	m->order = seen ? seen->n_methods + 1 : 0;
	r = dir_method_set(m, "channel", cell(c, rec, COL_CHANNEL), c->file,
			   rec->line, c->diags);
	for (size_t k = 0; k < N_AFTER_CHANNEL && r != -ENOMEM; k++) {
		enum column col = after_channel[k];

		/* Without a channel an address has no rules to meet. */
		if (r == -EINVAL && (col == COL_ADDRESS || col == COL_CHARSET))
			continue;
		r = dir_method_set(m, column_names[col], cell(c, rec, col),
				   c->file, rec->line, c->diags);
	}
	if (r == -ENOMEM)
		return r;
	if (c->diags->n != before || m->address == NULL) {
		/* Never keep a method whose address was not normalised. */
		free(m->address);
		ct->n_methods--;
		return 0;
	}
	if (seen)
		seen->n_methods++;
	return 0;
}

static int read_row(struct csv *c, const struct record *rec)
{
	const char *org_id, *contact_id;
	struct seen_org *seen = NULL;
	struct dir_contact *ct = NULL;
	struct dir_org *o;
	long at;
	int r;

	/* Checked first: cell() trusts the row to be as wide as the header. */
	if (rec->n != c->n_columns) {
		diag_add(c->diags, c->file, rec->line,
			 "%zu fields where the header has %zu", rec->n,
			 c->n_columns);
		return 0;
	}
	if (rec->bad)
		return 0;
	org_id = cell(c, rec, COL_ORG_ID);
	contact_id = cell(c, rec, COL_CONTACT_ID);

	at = dir_id_valid(org_id) ? find_org(c, org_id) : -1;
	if (at < 0) {
		r = new_org(c, rec, &o, &seen);
		if (r < 0)
			return r;
	} else {
		o = &c->d->orgs[at];
		seen = &c->seen[(size_t)at - c->base];
		for (size_t k = 0; k < N_ORG_COLUMNS; k++) {
			const char *v = cell(c, rec, org_columns[k]);

			if (strcmp(v, seen->cells[k]) != 0)
				disagree(c, rec->line, org_columns[k], v,
					 seen->cells[k], seen->line,
					 "organisation", org_id, NULL);
		}
	}

	if (seen != NULL && dir_id_valid(contact_id)) {
		for (size_t i = 0; i < o->n_contacts && ct == NULL; i++) {
			struct seen_contact *sc = &seen->contacts[i];

			if (strcmp(o->contacts[i].id, contact_id) != 0)
				continue;
			ct = &o->contacts[i];
			for (size_t k = 0; k < N_CONTACT_COLUMNS; k++) {
				const char *v =
					cell(c, rec, contact_columns[k]);

				if (strcmp(v, sc->cells[k]) != 0)
					disagree(c, rec->line,
						 contact_columns[k], v,
						 sc->cells[k], sc->line,
						 "contact", contact_id, org_id);
			}
		}
	}
	if (ct == NULL) {
		bool kept;

		r = new_contact(c, rec, o, seen, &ct, &kept);
		if (r < 0)
			return r;
		if (!kept)
			seen = NULL;
	}
	return add_method(c, rec, ct, seen);
}

static void csv_free(struct csv *c)
{
	for (size_t i = 0; i < c->n_seen; i++) {
		struct seen_org *s = &c->seen[i];

		for (size_t k = 0; k < N_ORG_COLUMNS; k++)
			free(s->cells[k]);
		for (size_t j = 0; j < s->n_contacts; j++)
			for (size_t k = 0; k < N_CONTACT_COLUMNS; k++)
				free(s->contacts[j].cells[k]);
		free(s->contacts);
	}
	free(c->seen);
	free(c->slots);
	directory_free(&c->bad_orgs);
	directory_free(&c->bin);
}

int dir_parse_csv(const char *path, const char *encoding, struct directory *d,
		  struct diag_list *diags)
{
	struct csv c = {
		.file = path,
		.diags = diags,
		.d = d,
		.base = d->n_orgs,
	};
	struct record rec = {0};
	struct reader rd = {0};
	size_t before = diags->n;
	bool header = false;
	char *text = NULL;
	size_t len = 0;
	int r;

	r = dir_read_text(path, encoding, &text, &len, diags);
	if (r < 0 && r != -EINVAL)
		return r;
	/*
	 * A file that could not be decoded leaves no text: nothing to read
	 * (NULL + 0 is undefined; found by test/fuzz/fuzz-csv).
	 */
	rd = (struct reader){text, text ? text + len : NULL, 1, path, diags};
	while ((r = next_record(&rd, &rec)) > 0) {
		if (blank(&rec))
			continue;
		if (!header) {
			header = true;
			if (read_header(&c, &rec) > 0)
				break;
			continue;
		}
		r = read_row(&c, &rec);
		if (r < 0)
			break;
	}
	if (r == -ENOMEM)
		goto out;
	if (!header && diags->n == before)
		diag_add(diags, path, 0,
			 "no header row (expected the columns %s,%s,...)",
			 column_names[0], column_names[1]);
	r = 0;
	dir_validate(d, path, diags);
out:
	csv_free(&c);
	record_free(&rec);
	free(text);
	if (r < 0)
		return r;
	return diags->n > before ? -EINVAL : 0;
}
