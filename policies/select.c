/*
 * Selection rules: see select.h. Reading the `select` sections, matching
 * an alert against them, and the hours an alert's calendar is read from.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <confuse.h>

#include "common/cfgfile.h"
#include "common/diag.h"
#include "contacts/directory.h"
#include "policies/calendar.h"
#include "policies/policy.h"
#include "policies/select.h"

const char *select_mode_name(enum select_mode m)
{
	return m == SELECT_MODE_LARGE_SCALE ? "large-scale" : "normal";
}

int select_mode_parse(const char *s, enum select_mode *ret)
{
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "normal") == 0)
		*ret = SELECT_MODE_NORMAL;
	else if (strcmp(s, "large-scale") == 0)
		*ret = SELECT_MODE_LARGE_SCALE;
	else
		return -EINVAL;
	return 0;
}

/*
 * Conditions left out are NODEFAULT, so cfg_size() tells "not written"
 * (any) from "written".
 */
const cfg_opt_t select_section_options[] = {
	CFG_STR("policy", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("type", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("severity", NULL, CFGF_NODEFAULT),
	CFG_BOOL("drill", cfg_false, CFGF_NODEFAULT),
	CFG_STR("mode", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("calendar", NULL, CFGF_NODEFAULT),
	CFG_END(),
};

static void rule_free(struct select_rule *r)
{
	for (size_t i = 0; i < r->n_types; i++)
		free(r->types[i]);
	free(r->types);
	for (size_t i = 0; i < r->n_severities; i++)
		free(r->severities[i]);
	free(r->severities);
	memset(r, 0, sizeof(*r));
}

void selection_free(struct selection *sel)
{
	if (sel == NULL)
		return;
	for (size_t i = 0; i < sel->n; i++)
		rule_free(&sel->rules[i]);
	free(sel->rules);
	sel->rules = NULL;
	sel->n = 0;
}

/* Copies a string list option; empty strings are a config error. */
static int copy_list(cfg_t *sec, const char *name, const char *file,
		     struct diag_list *diags, char ***ret, size_t *ret_n,
		     int *errors)
{
	unsigned n = cfg_size(sec, name);
	char **v;

	*ret = NULL;
	*ret_n = 0;
	if (n == 0)
		return 0;
	v = calloc(n, sizeof(*v));
	if (v == NULL)
		return -ENOMEM;
	*ret = v;
	for (unsigned i = 0; i < n; i++) {
		const char *s = cfg_getnstr(sec, name, i);

		if (s == NULL || *s == '\0') {
			diag_add(diags, file, sec->line,
				 "select: %s must not hold an empty name",
				 name);
			(*errors)++;
			s = "";
		}
		v[i] = strdup(s);
		if (v[i] == NULL)
			return -ENOMEM;
		(*ret_n)++;
	}
	return 0;
}

/* Reads one rule; returns 0 or -ENOMEM, counting config errors. */
static int read_rule(cfg_t *sec, const struct policy_set *policies,
		     struct select_rule *r, const char *file,
		     struct diag_list *diags, int *errors)
{
	const char *s;
	int rc;

	r->line = sec->line;
	r->drill = -1;
	r->mode = -1;
	s = cfg_getstr(sec, "policy");
	if (s == NULL) {
		diag_add(diags, file, sec->line,
			 "select: a rule needs policy = \"NAME\"");
		(*errors)++;
	} else if (policy_set_find(policies, s) == NULL) {
		diag_add(diags, file, sec->line,
			 "select: unknown policy \"%s\"", s);
		(*errors)++;
	} else {
		snprintf(r->policy, sizeof(r->policy), "%s", s);
	}

	rc = copy_list(sec, "type", file, diags, &r->types, &r->n_types,
		       errors);
	if (rc == 0)
		rc = copy_list(sec, "severity", file, diags, &r->severities,
			       &r->n_severities, errors);
	if (rc < 0)
		return rc;

	if (cfg_size(sec, "drill") > 0)
		r->drill = cfg_getbool(sec, "drill") ? 1 : 0;
	if (cfg_size(sec, "mode") > 0) {
		enum select_mode m;

		s = cfg_getstr(sec, "mode");
		if (select_mode_parse(s, &m) < 0) {
			diag_add(diags, file, sec->line,
				 "select: mode must be \"normal\" or "
				 "\"large-scale\", not \"%s\"",
				 s ? s : "");
			(*errors)++;
		} else {
			r->mode = (int)m;
		}
	}
	for (unsigned i = 0; i < cfg_size(sec, "calendar"); i++) {
		enum calendar_period p;

		s = cfg_getnstr(sec, "calendar", i);
		if (calendar_period_parse(s, &p) < 0) {
			diag_add(diags, file, sec->line,
				 "select: unknown calendar period \"%s\" "
				 "(business, off-hours, holiday)",
				 s ? s : "");
			(*errors)++;
			continue;
		}
		r->periods |= 1u << p;
	}
	return 0;
}

int selection_from_cfg(cfg_t *root, const struct policy_set *policies,
		       struct selection *ret, const char *file,
		       struct diag_list *diags)
{
	struct selection sel = {0};
	unsigned n = cfg_size(root, "select");
	int errors = 0, r;

	if (n > 0) {
		sel.rules = calloc(n, sizeof(*sel.rules));
		if (sel.rules == NULL)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		cfg_t *sec = cfg_getnsec(root, "select", i);

		/* Counted first, so that a half-read rule is freed too. */
		sel.n++;
		/* The section's own file first: an included one names itself. */
		r = read_rule(sec, policies, &sel.rules[i],
			      cfgfile_section_file(sec, file), diags, &errors);
		if (r < 0)
			goto fail;
	}
	if (errors > 0) {
		r = -EINVAL;
		goto fail;
	}
	*ret = sel;
	return 0;
fail:
	selection_free(&sel);
	return r;
}

/* True when the list is empty (no condition) or holds s. */
static bool list_matches(char *const *list, size_t n, const char *s)
{
	if (n == 0)
		return true;
	if (s == NULL)
		return false;
	for (size_t i = 0; i < n; i++)
		if (strcasecmp(list[i], s) == 0)
			return true;
	return false;
}

static bool rule_matches(const struct select_rule *r,
			 const struct select_input *in)
{
	if (!list_matches(r->types, r->n_types, in->type))
		return false;
	if (!list_matches(r->severities, r->n_severities, in->severity))
		return false;
	if (r->drill >= 0 && r->drill != (in->drill ? 1 : 0))
		return false;
	if (r->mode >= 0 && r->mode != (int)in->mode)
		return false;
	if (r->periods != 0 && !(r->periods & (1u << in->period)))
		return false;
	return true;
}

const char *policy_select(const struct selection *sel,
			  const struct select_input *in)
{
	if (sel == NULL)
		return NULL;
	for (size_t i = 0; i < sel->n; i++)
		if (rule_matches(&sel->rules[i], in))
			return sel->rules[i].policy;
	return NULL;
}

const struct dir_hours *
select_reference_hours(const struct directory *d,
		       const struct dir_org *single_target)
{
	if (single_target != NULL)
		return &single_target->hours;
	if (d != NULL) {
		for (size_t i = 0; i < d->n_orgs; i++)
			if (d->orgs[i].id != NULL &&
			    strcmp(d->orgs[i].id, "nisc") == 0)
				return &d->orgs[i].hours;
		for (size_t i = 0; i < d->n_orgs; i++)
			if (d->orgs[i].kind == DIR_KIND_GOVERNMENT)
				return &d->orgs[i].hours;
	}
	return calendar_default_hours();
}
