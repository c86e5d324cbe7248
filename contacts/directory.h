/*
 * The directory: organisations, their points of contact (POCs) and the
 * contact methods that reach them. Pure data and lookups: no event loop,
 * no network, no logging (errors go to a diag_list).
 *
 * Every element remembers the file line it came from, so that validation
 * after parsing can still say "FILE:LINE: what is wrong".
 */
#ifndef POCALERT_DIRECTORY_H
#define POCALERT_DIRECTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "common/diag.h"
#include "common/tlp.h"

#define DIR_ID_MAX 64 /* longest organisation or contact id */

enum dir_channel {
	DIR_CHANNEL_MAIL = 0,
	DIR_CHANNEL_VOICE,
	DIR_CHANNEL_SMS,
	DIR_CHANNEL_FAX,
	DIR_CHANNEL_WEB,
	DIR_CHANNEL_COUNT,
};

enum dir_role {
	DIR_ROLE_PRIMARY = 0,
	DIR_ROLE_DEPUTY,
	DIR_ROLE_HOLIDAY,
	DIR_ROLE_DUTY,
	DIR_ROLE_COUNT,
};

enum dir_kind {
	DIR_KIND_CEPTOAR = 0,
	DIR_KIND_MEMBER,
	DIR_KIND_GOVERNMENT,
	DIR_KIND_COUNT,
};

enum dir_charset {
	DIR_CHARSET_UTF8 = 0,  /* "utf-8", the default */
	DIR_CHARSET_ISO2022JP, /* "iso-2022-jp", mail only */
};

/*
 * Business hours of an organisation: the days of the week it works and the
 * minutes of the day it opens and closes, in a time zone. Outside them (and
 * on weekends and holidays) policies may reach holiday contacts first.
 */
struct dir_hours {
	unsigned days; /* bit 0 = Sunday ... bit 6 = Saturday */
	int open_min;  /* minutes after midnight, 0..1439 */
	int close_min; /* minutes after midnight, open_min < close_min <= 1440 */
	char *tz;      /* owned; IANA zone name, default "Asia/Tokyo" */
	char *days_off; /* owned; the organisation's own closures:
			   "YYYY-MM-DD,..." sorted, or NULL for none */
};

struct dir_method {
	enum dir_channel channel;
	char *address;	  /* owned; normalised: E.164 for voice/sms/fax */
	enum tlp max_tlp; /* highest level it may carry; default AMBER */
	enum dir_charset charset; /* mail only */
	int order; /* try order within the organisation, lower first */
	int line;  /* source line, 0 when unknown */
};

struct dir_contact {
	char *id;   /* owned; unique within its organisation */
	char *name; /* owned; UTF-8 */
	enum dir_role role;
	char *language;		    /* owned; "ja" (default) or "en" */
	struct dir_method *methods; /* owned array */
	size_t n_methods;
	int line; /* source line, 0 when unknown */
};

struct dir_org {
	char *id;      /* owned; slug [a-z0-9-]{1,64} */
	char *name;    /* owned; UTF-8, usually Japanese */
	char *name_en; /* owned; may be NULL */
	char *sector;  /* owned */
	enum dir_kind kind;
	char *parent; /* owned; organisation id or NULL */
	struct dir_hours hours;
	struct dir_contact *contacts; /* owned array */
	size_t n_contacts;
	int line; /* source line, 0 when unknown */
};

struct directory {
	struct dir_org *orgs; /* owned array, in file order */
	size_t n_orgs;
	size_t cap_orgs;
};

/* Names as written in files and JSON; parse returns 0 or -EINVAL. */
const char *dir_channel_name(enum dir_channel c);
int dir_channel_parse(const char *s, enum dir_channel *ret);
const char *dir_role_name(enum dir_role r);
int dir_role_parse(const char *s, enum dir_role *ret);
const char *dir_kind_name(enum dir_kind k);
int dir_kind_parse(const char *s, enum dir_kind *ret);
const char *dir_charset_name(enum dir_charset c);
int dir_charset_parse(const char *s, enum dir_charset *ret);

/*
 * Appends a zeroed organisation (hours set to the default) and returns it,
 * or NULL when out of memory. The pointer is valid until the next append.
 * A contact comes zeroed (language NULL: the caller sets it); a method
 * comes with max_tlp AMBER and charset utf-8, its order 0.
 */
struct dir_org *dir_org_append(struct directory *d);
struct dir_contact *dir_contact_append(struct dir_org *o);
struct dir_method *dir_method_append(struct dir_contact *c);

/* Frees everything the directory owns; it is empty and usable again. NULL is a no-op. */
void directory_free(struct directory *d);

/* The organisation with this id, or NULL. Linear; see dir_index for bulk lookups. */
struct dir_org *dir_find_org(const struct directory *d, const char *id);

/*
 * Normalisers and checks for single values. Each returns 0 and hands a
 * malloc'd normalised copy to *ret (caller owns it), or -EINVAL with a
 * static English reason in *ret_why.
 */
int dir_normalize_phone(const char *in, char **ret, const char **ret_why);

/* The kinds of number of the Japanese numbering plan, and the rest. */
enum dir_phone_kind {
	DIR_PHONE_FIXED,     /* 0 + area code, 10 digits */
	DIR_PHONE_MOBILE,    /* 070/080/090, 11 digits */
	DIR_PHONE_IP,	     /* 050, 11 digits */
	DIR_PHONE_FREE_DIAL, /* 0120 (10 digits), 0800 (11) */
	DIR_PHONE_NAVI_DIAL, /* 0570, 10 digits: voice only */
	DIR_PHONE_FOREIGN,   /* +CC other than +81: length checked only */
};

/*
 * Normalises a phone number as people type it to E.164 (see
 * dir_normalize_phone, which is this without the kind): full-width
 * digits, the hyphen family and the ideographic space are folded first;
 * Japanese numbers (0..., or +81 with or without a stray trunk 0) must fit
 * the numbering plan. *ret_kind (may be NULL) gets the kind.
 */
int dir_phone_parse(const char *in, char **ret, enum dir_phone_kind *ret_kind,
		    const char **ret_why);
int dir_check_mail(const char *in, char **ret, const char **ret_why);
int dir_check_url(const char *in, char **ret, const char **ret_why);
/* Normalises an address for the given channel with the checks above. */
int dir_normalize_address(enum dir_channel c, const char *in, char **ret,
			  const char **ret_why);
/* True for [a-z0-9-]{1,64}. */
bool dir_id_valid(const char *id);
/*
 * Parses "mon-fri 09:00-18:00" (days: sun mon tue wed thu fri sat, a range
 * or a comma list) into hours; the time zone is left alone.
 */
int dir_hours_parse(const char *s, struct dir_hours *ret, const char **ret_why);
/*
 * Parses an organisation's days off: dates YYYY-MM-DD separated by commas,
 * semicolons or spaces, into *ret ("YYYY-MM-DD,..." sorted, duplicates
 * dropped, malloc'd; NULL for an empty list). -EINVAL with *ret_why.
 */
int dir_days_off_parse(const char *s, char **ret, const char **ret_why);
/* Writes the canonical form of hours ("mon-fri 09:00-18:00") into out. */
void dir_hours_format(const struct dir_hours *h, char *out, size_t len);

/*
 * Whole-directory checks after parsing: duplicate organisation ids,
 * duplicate contact ids within an organisation, unknown parents, parent
 * cycles. Errors go to diags as FILE:LINE using each element's line.
 * Returns the number of errors found.
 */
int dir_validate(const struct directory *d, const char *file,
		 struct diag_list *diags);

/*
 * Parses a directory file in libconfuse syntax (see README). Appends to d;
 * every error to diags. Returns 0 when the file had no error, -EINVAL when
 * it had some (d then holds what could be read), -errno when it could not
 * be read. Runs dir_validate.
 */
int dir_parse_conf(const char *path, struct directory *d,
		   struct diag_list *diags);

/*
 * Parses a CSV file, one row per contact method, header row first (see
 * README). encoding is NULL or "utf-8" or "cp932"; CP932 is decoded to
 * UTF-8 before the CSV is split. Same return convention as
 * dir_parse_conf. Runs dir_validate.
 */
int dir_parse_csv(const char *path, const char *encoding, struct directory *d,
		  struct diag_list *diags);

/*
 * Picks the parser by extension (".conf" or ".csv"); anything else is a
 * diag and -EINVAL.
 */
int dir_parse_file(const char *path, const char *encoding, struct directory *d,
		   struct diag_list *diags);

/*
 * Field setters shared by the parsers (and usable by anything that edits
 * the directory from text): each sets one field of an element from its
 * text as written in a directory file or a CSV cell, checking and
 * normalising it. field is the name in either format: "id" or "org_id",
 * "name" or "org_name", "name_en", "sector", "kind", "parent", "hours",
 * "timezone" for an organisation; "id" or "contact_id", "name" or
 * "contact_name", "role", "language" for a contact; "channel", "address",
 * "max_tlp", "charset", "order" for a method (set "channel" first). An
 * empty value of an optional field sets its default. On a bad value,
 * appends "FILE:LINE: FIELD 'VALUE': reason" (with the caller's spelling
 * of FIELD) to diags, leaves the element as it was and returns -EINVAL;
 * -ENOMEM when out of memory; -ENOENT for a field it does not know (a
 * programmer error, no diag).
 */
int dir_org_set(struct dir_org *o, const char *field, const char *value,
		const char *file, int line, struct diag_list *diags);
int dir_contact_set(struct dir_contact *c, const char *field, const char *value,
		    const char *file, int line, struct diag_list *diags);
int dir_method_set(struct dir_method *m, const char *field, const char *value,
		   const char *file, int line, struct diag_list *diags);

/*
 * Reads a whole text file into *ret as UTF-8 (malloc'd, NUL-terminated,
 * caller owns it; *ret_len its length). encoding is NULL, "utf-8" or
 * "cp932" (also "shift_jis", "windows-31j"); a UTF-8 byte-order mark is
 * dropped. Every line holding bytes that are not valid in the encoding, or
 * a NUL byte, gets a diag, and those bytes become U+FFFD so the text is
 * always valid UTF-8: returns 0 when clean, -EINVAL when such diags were
 * added (the text is still handed over), or -errno with a diag and no text
 * when the file could not be read or the encoding is unknown.
 */
/* An encoding written with a trailing '!' ("cp932!") is forced. */
int dir_read_text(const char *path, const char *encoding, char **ret,
		  size_t *ret_len, struct diag_list *diags);

/*
 * dir_read_text with more say: encoding may also be "auto" (NULL is auto:
 * UTF-8 when the bytes are valid UTF-8 or start with its byte-order mark,
 * CP932 when they decode cleanly as that, else UTF-8 with its errors).
 * Under "cp932" a file that is UTF-8 (a byte-order mark, or valid UTF-8
 * with non-ASCII text) is refused with a diag saying so, unless force.
 * 外字 (CP932 0xF040-0xF9FC, or any Private Use Area character) is refused
 * with line and column. Columns count characters. *ret_encoding, when not
 * NULL, gets "utf-8" or "cp932": what the text was read as.
 */
int dir_read_text_as(const char *path, const char *encoding, bool force,
		     char **ret, size_t *ret_len, const char **ret_encoding,
		     struct diag_list *diags);

/*
 * Copies s into out (len bytes, at least 8) for quoting in a diagnostic:
 * control characters become \xNN so a diag stays one line, and a long
 * value is cut at a character boundary and ends in "...".
 */
void dir_quote(const char *s, char *out, size_t len);

#endif
