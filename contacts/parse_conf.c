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
 * common/cfgfile.c reads the file for libconfuse (comments blanked, lines
 * right, sections at their opening lines, a string, comment or '{' that
 * never ends reported) and keeps sections that share a title apart: a
 * second `method "mail"` is a second method, and a duplicate
 * organisation id reaches dir_validate() instead of vanishing. Values
 * are kept with the line they were read on (pointer options with a parse
 * callback), so an error points at the line of the bad value.
 */
#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>

#include "common/cfgfile.h"
#include "contacts/directory.h"

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
	f->line = cfgfile_line(cfg);
	memcpy(f->text, value, n + 1);
	*(void **)result = f;
	return 0;
}

static const char *title_of(cfg_t *sec)
{
	const char *t = cfg_title(sec);

	return t != NULL ? t : "";
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
	int line = sec->line, r;
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
	int line = sec->line, r;
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
		{"name", true},	     {"name_en", false},  {"sector", true},
		{"kind", true},	     {"parent", false},	  {"hours", false},
		{"timezone", false}, {"days_off", false},
	};
	const char *id = title_of(sec);
	int line = sec->line, n_in_org = 0, r;
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

/* Parses text (the file as read) into x->d. */
static int parse_text(struct conf *x, const char *text)
{
	cfg_opt_t method[] = {
		CFG_PTR_CB("address", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("max_tlp", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("charset", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("order", NULL, CFGF_NONE, field_parse, free),
		CFG_END(),
	};
	cfg_opt_t contact[] = {
		CFG_PTR_CB("name", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("role", NULL, CFGF_NONE, field_parse, free),
		CFG_PTR_CB("language", NULL, CFGF_NONE, field_parse, free),
		CFG_SEC("method", method, CFGF_MULTI | CFGF_TITLE),
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
		CFG_PTR_CB("days_off", NULL, CFGF_NONE, field_parse, free),
		CFG_SEC("contact", contact, CFGF_MULTI | CFGF_TITLE),
		CFG_END(),
	};
	cfg_opt_t root[] = {
		CFG_SEC("organisation", org, CFGF_MULTI | CFGF_TITLE),
		CFG_END(),
	};
	static const char *const titled[] = {
		"organisation",
		"organisation|contact",
		"organisation|contact|method",
	};
	cfg_t *cfg = cfg_init(root, CFGF_NONE);
	int r = 0;

	if (cfg == NULL)
		return -ENOMEM;
	/* Duplicate ids are dir_validate()'s to report, with both lines. */
	for (size_t i = 0; i < sizeof(titled) / sizeof(titled[0]); i++) {
		r = cfgfile_set_titles(cfg, titled[i], CFGFILE_TITLES_SEPARATE);
		assert(r == 0);
	}
	r = cfgfile_parse_text(cfg, x->file, text, x->diags);
	if (r < 0) {
		/* Reported: nothing of a file libconfuse refused is kept. */
		if (r != -ENOMEM)
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

	r = dir_read_text(path, "utf-8", &text, &len, diags);
	if (r < 0 && r != -EINVAL)
		return r;
	/* Invalid UTF-8 is reported and replaced: the rest is still read. */
	r = text != NULL ? parse_text(&x, text) : 0;
	free(text);
	directory_free(&x.bad_orgs);
	directory_free(&x.bin);
	if (r < 0)
		return r;
	dir_validate(d, path, diags);
	return diags->n > before ? -EINVAL : 0;
}
