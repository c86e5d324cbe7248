/*
 * The directory file, in libconfuse syntax:
 *
 *	organisation "bank" {
 *		name = "銀行等CEPTOAR"  sector = "finance"  kind = "ceptoar"
 *		(optional: name_en, parent, hours, timezone)
 *		contact "desk" {
 *			name = "緊急窓口"  role = "primary"  language = "ja"
 *			method "mail" {
 *				address = "desk@bank.example.jp"
 *				(optional: max_tlp, charset, order)
 *			}
 *		}
 *	}
 *
 * A method's title is its channel, and one contact may have several
 * methods of the same channel. Comments are #, // and C-style, outside
 * quoted strings.
 *
 * libconfuse does three things differently from what a directory needs,
 * and this file works around each:
 * - It merges sections that share a title, so a second `method "mail"`
 *   would overwrite the first and a duplicate organisation id would
 *   vanish unseen. When a section closes, a validate callback marks its
 *   title as taken (a 0x1F byte in front), so no later title matches it.
 * - After parsing, a section's line is that of its closing brace. Each
 *   section holds a hidden sub-section, which libconfuse creates as the
 *   section opens and which keeps the opening line. Its name contains '|',
 *   which a file cannot spell.
 * - libconfuse 3.3 counts lines wrongly after comments, so comments are
 *   blanked out before it sees the text, keeping every line break.
 * Values are kept with the line they were read on (pointer options with a
 * parse callback), so an error points at the line of the bad value.
 *
 * libconfuse's lexer keeps global state, so parsing is not reentrant; the
 * error callback finds its diag list through a per-thread pointer.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "contacts/directory.h"

#define TAKEN '\x1f'	 /* marks the title of a closed section */
#define OPENED "|opened" /* the hidden sub-section keeping the line */
#define QUOTE_MAX 96

/* A value as read from the file and the line it was on. */
struct field {
	int line;
	char text[];
};

struct conf {
	const char *file;
	struct diag_list *diags;
	struct directory *d;
	struct directory bad_orgs; /* organisations with a bad id, checked */
	struct directory bin; /* one organisation: contacts with a bad id */
};

static _Thread_local struct conf *current;

__attribute__((format(printf, 2, 0))) static void
conf_error(cfg_t *cfg, const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (current != NULL)
		diag_add(current->diags, current->file, cfg ? cfg->line : 0,
			 "%s", msg);
}

static int field_parse(cfg_t *cfg, cfg_opt_t *opt, const char *value,
		       void *result)
{
	size_t n = strlen(value);
	struct field *f = malloc(sizeof(*f) + n + 1);

	(void)opt;
	if (f == NULL) {
		cfg_error(cfg, "out of memory");
		return -1;
	}
	f->line = cfg->line;
	memcpy(f->text, value, n + 1);
	*(void **)result = f;
	return 0;
}

static int section_closed(cfg_t *cfg, cfg_opt_t *opt)
{
	cfg_t *sec = cfg_opt_getnsec(opt, cfg_opt_size(opt) - 1);
	char *title;

	if (sec == NULL || sec->title == NULL)
		return 0;
	title = malloc(strlen(sec->title) + 2);
	if (title == NULL) {
		cfg_error(cfg, "out of memory");
		return -1;
	}
	title[0] = TAKEN;
	strcpy(title + 1, sec->title);
	free(sec->title);
	sec->title = title;
	return 0;
}

static const char *title_of(cfg_t *sec)
{
	const char *t = cfg_title(sec);

	if (t == NULL)
		return "";
	return t[0] == TAKEN ? t + 1 : t;
}

static int opened_line(cfg_t *sec)
{
	for (cfg_opt_t *o = sec->opts; o->name != NULL; o++) {
		if (strcmp(o->name, OPENED) == 0) {
			cfg_t *hidden = cfg_opt_getnsec(o, 0);

			return hidden ? hidden->line : sec->line;
		}
	}
	return sec->line;
}

/*
 * Gets the text ready for libconfuse and catches what it would take
 * silently or explain badly: blanks out comments outside quoted strings,
 * keeping line breaks (# to the end of the line anywhere, // and C
 * comments where a word may start: libconfuse reads "a//b" as one word);
 * reports a string or comment that never ends, a '{' never closed (which
 * libconfuse lets pass at the end of the file) and a '+' inside an
 * unquoted word (AMBER+STRICT must be quoted). Returns -EINVAL after
 * reporting any of them.
 */
static int prepare_text(char *s, const char *file, struct diag_list *diags)
{
	int line = 1, depth = 0, open_line[8] = {0};
	bool in_word = false;
	char *p = s;

	while (*p) {
		char c = *p;

		if (c == '\n') {
			line++;
			in_word = false;
			p++;
		} else if (c == '"' || c == '\'') {
			int start = line;

			for (p++; *p && *p != c; p++) {
				if (*p == '\\' && p[1] != '\0')
					p++;
				if (*p == '\n')
					line++;
			}
			if (*p == '\0') {
				diag_add(diags, file, start,
					 "quoted string never ends (a closing "
					 "%c is missing)",
					 c);
				return -EINVAL;
			}
			p++;
			in_word = false;
		} else if (c == '#' || (!in_word && c == '/' && p[1] == '/')) {
			while (*p && *p != '\n')
				*p++ = ' ';
			in_word = false;
		} else if (!in_word && c == '/' && p[1] == '*') {
			int start = line;

			p[0] = p[1] = ' ';
			for (p += 2; *p && !(p[0] == '*' && p[1] == '/'); p++) {
				if (*p == '\n')
					line++;
				else
					*p = ' ';
			}
			if (*p == '\0') {
				diag_add(diags, file, start,
					 "comment never ends (a closing */ is "
					 "missing)");
				return -EINVAL;
			}
			p[0] = p[1] = ' ';
			p += 2;
			in_word = false;
		} else if (c == '+' && in_word && p[1] != '=') {
			diag_add(diags, file, line,
				 "'+' in an unquoted value: put the value in "
				 "double quotes, as in \"AMBER+STRICT\"");
			return -EINVAL;
		} else {
			if (c == '{' && depth++ < 8)
				open_line[depth - 1] = line;
			else if (c == '}' && depth > 0)
				depth--;
			/* The characters that end a libconfuse word. */
			in_word = strchr(" \t\r={}()+,*", c) == NULL;
			p++;
		}
	}
	if (depth > 0) {
		diag_add(diags, file, open_line[depth > 8 ? 7 : depth - 1],
			 "'{' never closed (a '}' is missing)");
		return -EINVAL;
	}
	return 0;
}

static void missing(struct conf *x, int line, const char *what, const char *id,
		    const char *field)
{
	char q[QUOTE_MAX];

	dir_quote(id, q, sizeof(q));
	diag_add(x->diags, x->file, line,
		 "%s '%s': missing required field '%s'", what, q, field);
}

struct field_rule {
	const char *name;
	bool required;
};

static struct dir_org *bin_org(struct conf *x)
{
	if (x->bin.n_orgs == 0 && dir_org_append(&x->bin) == NULL)
		return NULL;
	return &x->bin.orgs[0];
}

static int read_method(struct conf *x, struct dir_contact *c, cfg_t *sec,
		       int *n_in_org)
{
	static const char *const optional[] = {"max_tlp", "charset", "order"};
	const char *channel = title_of(sec);
	int line = opened_line(sec), r;
	size_t before = x->diags->n;
	struct dir_method *m = dir_method_append(c);
	struct field *f;
	bool channel_ok;

	if (m == NULL)
		return -ENOMEM;
	m->line = line;
	/* By default an organisation's methods are tried in file order. */
	m->order = *n_in_org + 1;
	r = dir_method_set(m, "channel", channel, x->file, line, x->diags);
	if (r == -ENOMEM)
		return r;
	channel_ok = r == 0;
	f = cfg_getptr(sec, "address");
	if (f == NULL)
		missing(x, line, "method", channel, "address");
	else if (channel_ok)
		r = dir_method_set(m, "address", f->text, x->file, f->line,
				   x->diags);
	for (size_t i = 0; i < 3 && r != -ENOMEM; i++) {
		f = cfg_getptr(sec, optional[i]);
		/* Without a channel a charset has no rule to meet. */
		if (f == NULL || (!channel_ok && i == 1))
			continue;
		r = dir_method_set(m, optional[i], f->text, x->file, f->line,
				   x->diags);
	}
	if (r == -ENOMEM)
		return r;
	if (x->diags->n != before || m->address == NULL) {
		/* Never keep a method whose address was not normalised. */
		free(m->address);
		c->n_methods--;
		return 0;
	}
	(*n_in_org)++;
	return 0;
}

static int read_contact(struct conf *x, struct dir_org *o, bool org_kept,
			cfg_t *sec, int *n_in_org)
{
	static const struct field_rule rules[] = {
		{"name", true},
		{"role", true},
		{"language", false},
	};
	const char *id = title_of(sec);
	int line = opened_line(sec), r;
	struct dir_org *home = o;
	struct dir_contact *c;

	/* A contact with a bad id or of a bad organisation is only checked. */
	if (!org_kept || !dir_id_valid(id))
		home = bin_org(x);
	if (home == NULL || (c = dir_contact_append(home)) == NULL)
		return -ENOMEM;
	c->line = line;
	r = dir_contact_set(c, "id", id, x->file, line, x->diags);
	for (size_t i = 0; i < 3 && r != -ENOMEM; i++) {
		struct field *f = cfg_getptr(sec, rules[i].name);

		if (f != NULL)
			r = dir_contact_set(c, rules[i].name, f->text, x->file,
					    f->line, x->diags);
		else if (rules[i].required)
			missing(x, line, "contact", id, rules[i].name);
	}
	if (r == -ENOMEM)
		return r;
	/* Absent, or reported as bad: either way the default keeps it whole. */
	if (c->language == NULL &&
	    dir_contact_set(c, "language", "", x->file, line, x->diags) < 0)
		return -ENOMEM;
	for (unsigned i = 0; i < cfg_size(sec, "method"); i++) {
		r = read_method(x, c, cfg_getnsec(sec, "method", i), n_in_org);
		if (r < 0)
			return r;
	}
	return 0;
}

static int read_org(struct conf *x, cfg_t *sec)
{
	static const struct field_rule rules[] = {
		{"name", true},	     {"name_en", false}, {"sector", true},
		{"kind", true},	     {"parent", false},	 {"hours", false},
		{"timezone", false},
	};
	const char *id = title_of(sec);
	int line = opened_line(sec), n_in_org = 0, r;
	bool keep = dir_id_valid(id);
	struct dir_org *o = dir_org_append(keep ? x->d : &x->bad_orgs);

	if (o == NULL)
		return -ENOMEM;
	o->line = line;
	r = dir_org_set(o, "id", id, x->file, line, x->diags);
	for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		struct field *f = cfg_getptr(sec, rules[i].name);

		if (r == -ENOMEM)
			return r;
		if (f != NULL)
			r = dir_org_set(o, rules[i].name, f->text, x->file,
					f->line, x->diags);
		else if (rules[i].required)
			missing(x, line, "organisation", id, rules[i].name);
	}
	if (r == -ENOMEM)
		return r;
	for (unsigned i = 0; i < cfg_size(sec, "contact"); i++) {
		r = read_contact(x, o, keep, cfg_getnsec(sec, "contact", i),
				 &n_in_org);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Parses text (comments already blanked) into x->d. */
static int parse_text(struct conf *x, const char *text)
{
	cfg_opt_t opened[] = {CFG_END()};
	cfg_opt_t method[] = {
		CFG_PTR_CB("address", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("max_tlp", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("charset", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("order", NULL, CFGF_NONE, field_parse, free),
		CFG_SEC(OPENED, opened, CFGF_NONE),
		CFG_END(),
	};
	cfg_opt_t contact[] = {
		CFG_PTR_CB("name", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("role", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("language", NULL, CFGF_NONE, field_parse, free),
		CFG_SEC("method", method, CFGF_MULTI | CFGF_TITLE),
		CFG_SEC(OPENED, opened, CFGF_NONE),
		CFG_END(),
	};
	cfg_opt_t org[] = {
		CFG_PTR_CB("name", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("name_en", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("sector", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("kind", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("parent", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("hours", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("timezone", NULL, CFGF_NONE, field_parse, free),
		CFG_SEC("contact", contact, CFGF_MULTI | CFGF_TITLE),
		CFG_SEC(OPENED, opened, CFGF_NONE),
		CFG_END(),
	};
	cfg_opt_t root[] = {
		CFG_SEC("organisation", org, CFGF_MULTI | CFGF_TITLE),
		CFG_END(),
	};
	size_t before = x->diags->n;
	cfg_t *cfg;
	int r = 0;

	/* cfg_init copies the tables, callbacks included. */
	contact[3].validcb = section_closed;
	org[7].validcb = section_closed;
	root[0].validcb = section_closed;
	cfg = cfg_init(root, CFGF_NONE);
	if (cfg == NULL)
		return -ENOMEM;
	cfg_set_error_function(cfg, conf_error);
	current = x;
	r = cfg_parse_buf(cfg, text);
	current = NULL;
	if (r != CFG_SUCCESS) {
		/* The lexer gives up on some input without saying why. */
		if (x->diags->n == before)
			diag_add(x->diags, x->file, cfg->line, "syntax error");
		r = 0;
		goto out;
	}
	for (unsigned i = 0; i < cfg_size(cfg, "organisation") && r == 0; i++)
		r = read_org(x, cfg_getnsec(cfg, "organisation", i));
out:
	cfg_free(cfg);
	return r;
}

int dir_parse_conf(const char *path, struct directory *d,
		   struct diag_list *diags)
{
	struct conf x = {.file = path, .diags = diags, .d = d};
	size_t before = diags->n, len;
	char *text = NULL;
	int r;

	r = dir_read_text(path, NULL, &text, &len, diags);
	if (r < 0 && r != -EINVAL)
		return r;
	r = 0;
	if (prepare_text(text, path, diags) == 0)
		r = parse_text(&x, text);
	free(text);
	directory_free(&x.bad_orgs);
	directory_free(&x.bin);
	if (r < 0)
		return r;
	dir_validate(d, path, diags);
	return diags->n > before ? -EINVAL : 0;
}
