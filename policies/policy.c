/*
 * Escalation policies: see policy.h for the config and its semantics.
 * In order: names of enums, the checks shared by the config and the JSON
 * snapshot, reading the config, the snapshot, the schedule and the
 * decision, and picking the contact methods of a step.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <confuse.h>
#include <jansson.h>

#include "common/cfgfile.h"
#include "common/diag.h"
#include "common/tlp.h"
#include "contacts/directory.h"
#include "policies/calendar.h"
#include "policies/policy.h"
#include "policies/retry.h"

#define POLICY_JSON_VERSION 1
/* The longest wait a policy may name, as for every duration (retry.c). */
#define POLICY_TIME_MAX (366.0 * 86400.0)

const char *policy_ack_name(enum policy_ack a)
{
	return a == POLICY_ACK_CONTACT ? "contact" : "organisation";
}

static int policy_ack_parse(const char *s, enum policy_ack *ret)
{
	if (s == NULL)
		return -EINVAL;
	/* Both spellings: operators write either. */
	if (strcmp(s, "organisation") == 0 || strcmp(s, "organization") == 0)
		*ret = POLICY_ACK_ORGANISATION;
	else if (strcmp(s, "contact") == 0)
		*ret = POLICY_ACK_CONTACT;
	else
		return -EINVAL;
	return 0;
}

const char *policy_holiday_first_name(enum policy_holiday_first h)
{
	switch (h) {
	case POLICY_HOLIDAY_FIRST_ALWAYS:
		return "always";
	case POLICY_HOLIDAY_FIRST_NEVER:
		return "never";
	default:
		return "calendar";
	}
}

static int policy_holiday_first_parse(const char *s,
				      enum policy_holiday_first *ret)
{
	if (s == NULL)
		return -EINVAL;
	if (strcmp(s, "calendar") == 0)
		*ret = POLICY_HOLIDAY_FIRST_CALENDAR;
	else if (strcmp(s, "always") == 0)
		*ret = POLICY_HOLIDAY_FIRST_ALWAYS;
	else if (strcmp(s, "never") == 0)
		*ret = POLICY_HOLIDAY_FIRST_NEVER;
	else
		return -EINVAL;
	return 0;
}

/* Policy names travel in API requests and URLs: keep them plain. */
static bool policy_name_valid(const char *s)
{
	size_t n = 0;

	if (s == NULL)
		return false;
	for (; s[n] != '\0'; n++) {
		char c = s[n];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
	}
	return n >= 1 && n <= POLICY_NAME_MAX;
}

/* diag_add that tolerates a NULL list: the JSON reader only counts. */
static void __attribute__((format(printf, 4, 5)))
report(struct diag_list *diags, const char *file, int line, const char *fmt,
       ...)
{
	char msg[512];
	va_list ap;

	if (diags == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	diag_add(diags, file, line, "%s", msg);
}

/*
 * The rules a whole policy must keep, whichever way it was read. Returns
 * the number of problems; each is reported when diags is not NULL.
 */
static int policy_check(const struct policy *p, const char *file,
			struct diag_list *diags)
{
	int errors = 0;

	if (!policy_name_valid(p->name)) {
		report(diags, file, p->line,
		       "policy \"%s\": a name is 1 to %d letters, digits, '-' "
		       "or '_'",
		       p->name, POLICY_NAME_MAX);
		errors++;
	}
	if (p->n_steps < 1 || p->n_steps > POLICY_STEPS_MAX) {
		report(diags, file, p->line,
		       "policy \"%s\": needs 1 to %d steps, has %d", p->name,
		       POLICY_STEPS_MAX, p->n_steps);
		return errors + 1;
	}
	for (int i = 0; i < p->n_steps; i++) {
		const struct policy_step *st = &p->steps[i];

		/* NaN marks an after that could not be read, reported
		 * already; the snapshot reader never produces it. */
		if (st->after < 0 || st->after > POLICY_TIME_MAX) {
			report(diags, file, st->line,
			       "policy \"%s\": step %d: after must be between "
			       "0s and 366d",
			       p->name, i + 1);
			errors++;
		}
		if (i > 0 && !isnan(st->after) &&
		    !isnan(p->steps[i - 1].after) &&
		    !(st->after > p->steps[i - 1].after)) {
			report(diags, file, st->line,
			       "policy \"%s\": step %d: after (%gs) must be "
			       "later than the previous step's (%gs)",
			       p->name, i + 1, st->after,
			       p->steps[i - 1].after);
			errors++;
		}
		if ((st->roles & POLICY_ALL_ROLES) == 0 ||
		    (st->roles & ~POLICY_ALL_ROLES) != 0) {
			report(diags, file, st->line,
			       "policy \"%s\": step %d: roles must name at "
			       "least one role",
			       p->name, i + 1);
			errors++;
		}
		if ((st->channels & POLICY_ALL_CHANNELS) == 0 ||
		    (st->channels & ~POLICY_ALL_CHANNELS) != 0) {
			report(diags, file, st->line,
			       "policy \"%s\": step %d: channels must name at "
			       "least one channel",
			       p->name, i + 1);
			errors++;
		}
	}
	if (p->repeat < 0 || p->repeat > POLICY_REPEAT_MAX) {
		report(diags, file, p->line,
		       "policy \"%s\": repeat must be between 0 and %d, not %d",
		       p->name, POLICY_REPEAT_MAX, p->repeat);
		errors++;
	}
	if (p->require < 1 || p->require > 1000) {
		report(diags, file, p->line,
		       "policy \"%s\": require must be between 1 and 1000, "
		       "not %d",
		       p->name, p->require);
		errors++;
	}
	if (!(p->give_up_after > 0 && p->give_up_after <= POLICY_TIME_MAX)) {
		report(diags, file, p->line,
		       "policy \"%s\": give_up_after must be greater than 0s "
		       "and at most 366d",
		       p->name);
		errors++;
	}
	if (p->ack != POLICY_ACK_ORGANISATION && p->ack != POLICY_ACK_CONTACT)
		errors++;
	if (p->holiday_first != POLICY_HOLIDAY_FIRST_CALENDAR &&
	    p->holiday_first != POLICY_HOLIDAY_FIRST_ALWAYS &&
	    p->holiday_first != POLICY_HOLIDAY_FIRST_NEVER)
		errors++;
	return errors;
}

/* ---- config ---- */

static const cfg_opt_t step_options[] = {
	CFG_STR("after", NULL, CFGF_NODEFAULT),
	CFG_STR_LIST("roles", NULL, CFGF_NONE),
	CFG_STR_LIST("channels", NULL, CFGF_NONE),
	CFG_END(),
};

const cfg_opt_t policy_section_options[] = {
	CFG_SEC("step", (cfg_opt_t *)step_options, CFGF_MULTI),
	CFG_INT("repeat", 0, CFGF_NONE),
	CFG_STR("ack", "organisation", CFGF_NONE),
	CFG_INT("require", 1, CFGF_NONE),
	CFG_STR("give_up_after", "30m", CFGF_NONE),
	CFG_STR("holiday_first", "calendar", CFGF_NONE),
	CFG_END(),
};

/* Reads the role names of a step into a bit set; reports unknown ones. */
static int read_roles(cfg_t *ssec, const char *pname, int stepno,
		      const char *file, struct diag_list *diags, unsigned *ret)
{
	unsigned n = cfg_size(ssec, "roles"), set = 0;
	int errors = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *s = cfg_getnstr(ssec, "roles", i);
		enum dir_role r;

		if (s == NULL || dir_role_parse(s, &r) < 0) {
			diag_add(diags, file, ssec->line,
				 "policy \"%s\": step %d: unknown role \"%s\" "
				 "(primary, deputy, holiday, duty)",
				 pname, stepno, s ? s : "");
			errors++;
			continue;
		}
		set |= POLICY_BIT(r);
	}
	*ret = set;
	return errors;
}

static int read_channels(cfg_t *ssec, const char *pname, int stepno,
			 const char *file, struct diag_list *diags,
			 unsigned *ret)
{
	unsigned n = cfg_size(ssec, "channels"), set = 0;
	int errors = 0;

	for (unsigned i = 0; i < n; i++) {
		const char *s = cfg_getnstr(ssec, "channels", i);
		enum dir_channel c;

		if (s == NULL || dir_channel_parse(s, &c) < 0) {
			diag_add(diags, file, ssec->line,
				 "policy \"%s\": step %d: unknown channel "
				 "\"%s\" (mail, voice, sms, fax, web)",
				 pname, stepno, s ? s : "");
			errors++;
			continue;
		}
		set |= POLICY_BIT(c);
	}
	*ret = set;
	return errors;
}

/*
 * Reads one policy section. Values that cannot be read at all, and
 * integers out of range, are reported here with what was written; each
 * gets a harmless stand-in so that policy_check, which then checks the
 * rules between values, does not report the same mistake twice.
 */
static int read_policy(cfg_t *psec, struct policy *p, const char *file,
		       struct diag_list *diags)
{
	const char *title = cfg_title(psec), *s;
	unsigned n_steps = cfg_size(psec, "step");
	int errors = 0;
	long v;

	memset(p, 0, sizeof(*p));
	p->line = psec->line;
	snprintf(p->name, sizeof(p->name), "%s", title ? title : "");
	if (title != NULL && strlen(title) > POLICY_NAME_MAX) {
		diag_add(diags, file, psec->line,
			 "policy \"%s...\": a name has at most %d characters",
			 p->name, POLICY_NAME_MAX);
		errors++;
	}

	if (n_steps > POLICY_STEPS_MAX) {
		diag_add(diags, file, psec->line,
			 "policy \"%s\": at most %d steps, not %u", p->name,
			 POLICY_STEPS_MAX, n_steps);
		errors++;
		n_steps = POLICY_STEPS_MAX;
	}
	for (unsigned i = 0; i < n_steps; i++) {
		cfg_t *ssec = cfg_getnsec(psec, "step", i);
		struct policy_step *st = &p->steps[i];
		int stepno = (int)i + 1, bad;

		st->line = ssec->line;
		s = cfg_getstr(ssec, "after");
		if (s == NULL) {
			diag_add(diags, file, ssec->line,
				 "policy \"%s\": step %d: after is missing "
				 "(e.g. after = 10m)",
				 p->name, stepno);
			st->after = NAN;
			errors++;
		} else if (policy_parse_duration(s, &st->after) < 0) {
			diag_add(diags, file, ssec->line,
				 "policy \"%s\": step %d: after \"%s\" is not "
				 "a duration (e.g. 0s, 10m, 1h)",
				 p->name, stepno, s);
			st->after = NAN;
			errors++;
		}
		bad = read_roles(ssec, p->name, stepno, file, diags,
				 &st->roles);
		if (bad > 0 && st->roles == 0)
			st->roles = POLICY_BIT(DIR_ROLE_PRIMARY);
		errors += bad;
		bad = read_channels(ssec, p->name, stepno, file, diags,
				    &st->channels);
		if (bad > 0 && st->channels == 0)
			st->channels = POLICY_BIT(DIR_CHANNEL_MAIL);
		errors += bad;
	}
	p->n_steps = (int)n_steps;

	v = cfg_getint(psec, "repeat");
	if (v < 0 || v > POLICY_REPEAT_MAX) {
		diag_add(diags, file, psec->line,
			 "policy \"%s\": repeat must be between 0 and %d, "
			 "not %ld",
			 p->name, POLICY_REPEAT_MAX, v);
		errors++;
		v = 0;
	}
	p->repeat = (int)v;
	v = cfg_getint(psec, "require");
	if (v < 1 || v > 1000) {
		diag_add(diags, file, psec->line,
			 "policy \"%s\": require must be between 1 and 1000, "
			 "not %ld",
			 p->name, v);
		errors++;
		v = 1;
	}
	p->require = (int)v;

	s = cfg_getstr(psec, "ack");
	if (policy_ack_parse(s, &p->ack) < 0) {
		diag_add(diags, file, psec->line,
			 "policy \"%s\": ack must be \"organisation\" or "
			 "\"contact\", not \"%s\"",
			 p->name, s ? s : "");
		errors++;
	}
	s = cfg_getstr(psec, "holiday_first");
	if (policy_holiday_first_parse(s, &p->holiday_first) < 0) {
		diag_add(diags, file, psec->line,
			 "policy \"%s\": holiday_first must be \"calendar\", "
			 "\"always\" or \"never\", not \"%s\"",
			 p->name, s ? s : "");
		errors++;
	}
	s = cfg_getstr(psec, "give_up_after");
	if (policy_parse_duration(s, &p->give_up_after) < 0) {
		diag_add(diags, file, psec->line,
			 "policy \"%s\": give_up_after \"%s\" is not a "
			 "duration (e.g. 30m)",
			 p->name, s ? s : "");
		p->give_up_after = 1;
		errors++;
	}
	return errors + policy_check(p, file, diags);
}

int policy_set_from_cfg(cfg_t *root, struct policy_set *ret, const char *file,
			struct diag_list *diags)
{
	unsigned n = cfg_size(root, "policy");
	struct policy *all = NULL;
	int errors = 0;

	if (n > 0) {
		all = calloc(n, sizeof(*all));
		if (all == NULL)
			return -ENOMEM;
	}
	for (unsigned i = 0; i < n; i++) {
		cfg_t *psec = cfg_getnsec(root, "policy", i);

		/* The section's own file first: an included one names itself. */
		errors += read_policy(psec, &all[i],
				      cfgfile_section_file(psec, file), diags);
	}
	if (errors > 0) {
		free(all);
		return -EINVAL;
	}
	ret->policies = all;
	ret->n = n;
	return 0;
}

void policy_set_free(struct policy_set *set)
{
	if (set == NULL)
		return;
	free(set->policies);
	set->policies = NULL;
	set->n = 0;
}

const struct policy *policy_set_find(const struct policy_set *set,
				     const char *name)
{
	if (set == NULL || name == NULL)
		return NULL;
	for (size_t i = 0; i < set->n; i++)
		if (strcmp(set->policies[i].name, name) == 0)
			return &set->policies[i];
	return NULL;
}

void policy_default(struct policy *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->name, sizeof(ret->name), "default");
	ret->n_steps = 1;
	ret->steps[0].after = 0;
	ret->steps[0].roles =
		POLICY_BIT(DIR_ROLE_PRIMARY) | POLICY_BIT(DIR_ROLE_DEPUTY);
	ret->steps[0].channels = POLICY_ALL_CHANNELS;
	ret->repeat = 0;
	ret->ack = POLICY_ACK_ORGANISATION;
	ret->require = 1;
	ret->give_up_after = 30 * 60;
	/*
	 * Without a configured policy the engine keeps its plain behaviour:
	 * primary and deputy contacts, whatever the day.
	 */
	ret->holiday_first = POLICY_HOLIDAY_FIRST_NEVER;
}

/* ---- JSON snapshot ---- */

/* An array of the names of the bits set; NULL when out of memory. */
static json_t *names_json(unsigned set, int count, const char *(*name)(int))
{
	json_t *a = json_array();

	if (a == NULL)
		return NULL;
	for (int i = 0; i < count; i++) {
		if (!(set & POLICY_BIT(i)))
			continue;
		if (json_array_append_new(a, json_string(name(i))) < 0) {
			json_decref(a);
			return NULL;
		}
	}
	return a;
}

static const char *role_name(int i)
{
	return dir_role_name((enum dir_role)i);
}

static const char *channel_name(int i)
{
	return dir_channel_name((enum dir_channel)i);
}

char *policy_to_json_string(const struct policy *p)
{
	json_t *o = NULL, *steps = NULL;
	char *out = NULL;
	int r = 0;

	o = json_object();
	steps = json_array();
	if (o == NULL || steps == NULL)
		goto out;
	for (int i = 0; i < p->n_steps; i++) {
		json_t *st = json_object();

		if (st == NULL || json_array_append_new(steps, st) < 0)
			goto out;
		r |= json_object_set_new(st, "after",
					 json_real(p->steps[i].after));
		r |= json_object_set_new(st, "roles",
					 names_json(p->steps[i].roles,
						    DIR_ROLE_COUNT, role_name));
		r |= json_object_set_new(st, "channels",
					 names_json(p->steps[i].channels,
						    DIR_CHANNEL_COUNT,
						    channel_name));
	}
	r |= json_object_set_new(o, "version",
				 json_integer(POLICY_JSON_VERSION));
	r |= json_object_set_new(o, "name", json_string(p->name));
	r |= json_object_set_new(o, "steps", steps);
	steps = NULL; /* o owns it now, even when the call failed */
	r |= json_object_set_new(o, "repeat", json_integer(p->repeat));
	r |= json_object_set_new(o, "ack",
				 json_string(policy_ack_name(p->ack)));
	r |= json_object_set_new(o, "require", json_integer(p->require));
	r |= json_object_set_new(o, "give_up_after",
				 json_real(p->give_up_after));
	r |= json_object_set_new(
		o, "holiday_first",
		json_string(policy_holiday_first_name(p->holiday_first)));
	if (r != 0)
		goto out;
	/* Sorted keys and a compact form: the same policy always gives the
	 * same bytes, so snapshots can be compared. */
	out = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS |
				    JSON_REAL_PRECISION(17));
out:
	json_decref(steps);
	json_decref(o);
	return out;
}

/* Reads an array of names into a bit set with parse(); -EINVAL if bad. */
static int names_from_json(json_t *a, bool role, unsigned *ret)
{
	unsigned set = 0;
	size_t i;
	json_t *v;

	if (!json_is_array(a))
		return -EINVAL;
	json_array_foreach(a, i, v)
	{
		const char *s = json_string_value(v);

		if (s == NULL)
			return -EINVAL;
		if (role) {
			enum dir_role r;

			if (dir_role_parse(s, &r) < 0)
				return -EINVAL;
			set |= POLICY_BIT(r);
		} else {
			enum dir_channel c;

			if (dir_channel_parse(s, &c) < 0)
				return -EINVAL;
			set |= POLICY_BIT(c);
		}
	}
	*ret = set;
	return 0;
}

/* An integer member within [lo, hi]; -EINVAL otherwise. */
static int int_from_json(json_t *o, const char *key, int lo, int hi, int *ret)
{
	json_t *v = json_object_get(o, key);
	json_int_t n;

	if (!json_is_integer(v))
		return -EINVAL;
	n = json_integer_value(v);
	if (n < lo || n > hi)
		return -EINVAL;
	*ret = (int)n;
	return 0;
}

int policy_from_json_string(const char *json, struct policy *ret)
{
	json_t *o, *steps, *v;
	struct policy p;
	int version, r = -EINVAL;
	const char *s;
	size_t i;

	if (json == NULL)
		return -EINVAL;
	o = json_loads(json, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_object(o))
		goto out;
	memset(&p, 0, sizeof(p));
	if (int_from_json(o, "version", 1, 1000, &version) < 0 ||
	    version != POLICY_JSON_VERSION)
		goto out;
	s = json_string_value(json_object_get(o, "name"));
	if (s == NULL || strlen(s) > POLICY_NAME_MAX)
		goto out;
	snprintf(p.name, sizeof(p.name), "%s", s);

	steps = json_object_get(o, "steps");
	if (!json_is_array(steps) || json_array_size(steps) < 1 ||
	    json_array_size(steps) > POLICY_STEPS_MAX)
		goto out;
	json_array_foreach(steps, i, v)
	{
		struct policy_step *st = &p.steps[i];
		json_t *after = json_object_get(v, "after");

		if (!json_is_object(v) || !json_is_number(after))
			goto out;
		st->after = json_number_value(after);
		if (names_from_json(json_object_get(v, "roles"), true,
				    &st->roles) < 0 ||
		    names_from_json(json_object_get(v, "channels"), false,
				    &st->channels) < 0)
			goto out;
	}
	p.n_steps = (int)json_array_size(steps);

	if (int_from_json(o, "repeat", 0, POLICY_REPEAT_MAX, &p.repeat) < 0 ||
	    int_from_json(o, "require", 1, 1000, &p.require) < 0)
		goto out;
	if (policy_ack_parse(json_string_value(json_object_get(o, "ack")),
			     &p.ack) < 0)
		goto out;
	if (policy_holiday_first_parse(
		    json_string_value(json_object_get(o, "holiday_first")),
		    &p.holiday_first) < 0)
		goto out;
	v = json_object_get(o, "give_up_after");
	if (!json_is_number(v))
		goto out;
	p.give_up_after = json_number_value(v);
	if (policy_check(&p, NULL, NULL) > 0)
		goto out;
	*ret = p;
	r = 0;
out:
	json_decref(o);
	return r;
}

/* ---- the schedule ---- */

int policy_step_count(const struct policy *p)
{
	return p->n_steps + p->repeat;
}

double policy_gap(const struct policy *p)
{
	if (p->n_steps >= 2)
		return p->steps[p->n_steps - 1].after -
		       p->steps[p->n_steps - 2].after;
	return p->give_up_after;
}

double policy_step_due(const struct policy *p, int index)
{
	if (index < 0 || index >= policy_step_count(p))
		return -1;
	if (index < p->n_steps)
		return p->steps[index].after;
	/* A repeat: the last step again, one gap per run. Multiplying rather
	 * than adding up keeps every due time exact for whole seconds. */
	return p->steps[p->n_steps - 1].after +
	       (index - p->n_steps + 1) * policy_gap(p);
}

const struct policy_step *policy_step_at(const struct policy *p, int index)
{
	if (index < 0 || index >= policy_step_count(p))
		return NULL;
	return &p->steps[index < p->n_steps ? index : p->n_steps - 1];
}

double policy_unreachable_after(const struct policy *p)
{
	return policy_step_due(p, policy_step_count(p) - 1) + policy_gap(p);
}

bool policy_confirmed(const struct policy *p, const struct policy_progress *pr)
{
	if (p->ack == POLICY_ACK_CONTACT)
		return pr->contacts_targeted > 0 &&
		       pr->contacts_confirmed >= pr->contacts_targeted;
	return pr->confirmations >= p->require;
}

struct policy_decision policy_decide(const struct policy *p, double accepted_at,
				     double now,
				     const struct policy_progress *pr)
{
	struct policy_decision d = {
		.action = POLICY_WAIT, .step = -1, .next_at = -1};
	int n = policy_step_count(p), last = pr->last_step_run, due = -1;
	double elapsed = now - accepted_at;

	if (policy_confirmed(p, pr)) {
		d.action = POLICY_DONE;
		return d;
	}
	/* The engine's record is trusted only within the schedule. */
	if (last < -1)
		last = -1;
	if (last > n - 1)
		last = n - 1;
	for (int i = 0; i < n && policy_step_due(p, i) <= elapsed; i++)
		due = i;

	if (due > last) {
		d.action = POLICY_RUN_STEP;
		d.step = due;
		d.next_at = accepted_at +
			    (due + 1 < n ? policy_step_due(p, due + 1)
					 : policy_unreachable_after(p));
		return d;
	}
	if (last == n - 1 && elapsed >= policy_unreachable_after(p)) {
		d.action = POLICY_UNREACHABLE;
		return d;
	}
	d.next_at = accepted_at + (last + 1 < n ? policy_step_due(p, last + 1)
						: policy_unreachable_after(p));
	return d;
}

/* ---- contact methods of a step ---- */

bool policy_method_allowed(enum tlp alert_tlp, const struct dir_method *m)
{
	return alert_tlp <= m->max_tlp;
}

bool policy_holiday_first(const struct policy *p, enum calendar_period period)
{
	switch (p->holiday_first) {
	case POLICY_HOLIDAY_FIRST_ALWAYS:
		return true;
	case POLICY_HOLIDAY_FIRST_NEVER:
		return false;
	default:
		return period != CALENDAR_BUSINESS;
	}
}

/* A target with the keys it is sorted by. */
struct ranked_target {
	struct policy_target t;
	int group; /* 0: holiday contacts when they come first; else 1 */
	int order; /* the method's order */
};

static int ranked_cmp(const void *a, const void *b)
{
	const struct ranked_target *x = a, *y = b;

	if (x->group != y->group)
		return x->group < y->group ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	if (x->t.contact != y->t.contact)
		return x->t.contact < y->t.contact ? -1 : 1;
	if (x->t.method != y->t.method)
		return x->t.method < y->t.method ? -1 : 1;
	return 0;
}

int policy_step_targets(const struct dir_org *org,
			const struct policy_step *step, bool holiday_first,
			struct policy_target **ret, size_t *ret_n)
{
	struct ranked_target *rk = NULL;
	struct policy_target *out = NULL;
	unsigned roles = step->roles;
	size_t total = 0, n = 0;

	if (holiday_first)
		roles |= POLICY_BIT(DIR_ROLE_HOLIDAY);
	for (size_t c = 0; c < org->n_contacts; c++)
		total += org->contacts[c].n_methods;
	if (total > 0) {
		rk = calloc(total, sizeof(*rk));
		if (rk == NULL)
			return -ENOMEM;
	}
	for (size_t c = 0; c < org->n_contacts; c++) {
		const struct dir_contact *ct = &org->contacts[c];

		if (!(roles & POLICY_BIT(ct->role)))
			continue;
		for (size_t m = 0; m < ct->n_methods; m++) {
			if (!(step->channels &
			      POLICY_BIT(ct->methods[m].channel)))
				continue;
			rk[n].t.contact = c;
			rk[n].t.method = m;
			rk[n].group =
				holiday_first && ct->role == DIR_ROLE_HOLIDAY
					? 0
					: 1;
			rk[n].order = ct->methods[m].order;
			n++;
		}
	}
	if (n > 0) {
		qsort(rk, n, sizeof(*rk), ranked_cmp);
		out = calloc(n, sizeof(*out));
		if (out == NULL) {
			free(rk);
			return -ENOMEM;
		}
		for (size_t i = 0; i < n; i++)
			out[i] = rk[i].t;
	}
	free(rk);
	*ret = out;
	*ret_n = n;
	return 0;
}
