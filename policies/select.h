/*
 * Selection rules: which escalation policy an alert gets when it names
 * none. Rules are tried in file order and the first that matches wins; a
 * rule without conditions matches everything, so it belongs last.
 *
 *   select { policy = "holiday-drill" drill = true
 *            calendar = {"off-hours", "holiday"} }
 *   select { policy = "large-scale" mode = "large-scale" }
 *   select { policy = "urgent" severity = {"critical", "high"} }
 *   select { policy = "standard" }
 *
 * Conditions (all that are written must hold):
 *   type     = {...}  the alert's type is one of these (ASCII case ignored)
 *   severity = {...}  the alert's severity is one of these (ditto)
 *   drill    = true | false
 *   mode     = "normal" | "large-scale"   the engine's switch or the
 *              alert's own field, whichever the engine says is in force
 *   calendar = {...}  "business", "off-hours", "holiday"
 *
 * The calendar period of an alert: for an alert to one organisation, that
 * organisation's period; for an alert to several, NISC's own, i.e. the
 * hours of the organisation with id "nisc", else of the first
 * organisation of kind government, else weekdays 09:00-18:00 Asia/Tokyo
 * (select_reference_hours). Whether holiday contacts come first is then
 * decided per organisation from its own period (policy_holiday_first).
 */
#ifndef POCALERT_SELECT_H
#define POCALERT_SELECT_H

#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>

#include "common/diag.h"
#include "contacts/directory.h"
#include "policies/calendar.h"
#include "policies/policy.h"

enum select_mode {
	SELECT_MODE_NORMAL = 0,
	SELECT_MODE_LARGE_SCALE,
};

/* "normal", "large-scale"; parse returns 0 or -EINVAL. */
const char *select_mode_name(enum select_mode m);
int select_mode_parse(const char *s, enum select_mode *ret);

struct select_rule {
	char policy[POLICY_NAME_MAX + 1];
	char **types; /* owned; NULL-free array of n_types; none = any */
	size_t n_types;
	char **severities; /* owned; none = any */
	size_t n_severities;
	int drill;	  /* -1 any, 0 not a drill, 1 a drill */
	int mode;	  /* -1 any, else enum select_mode */
	unsigned periods; /* bit (1u << enum calendar_period); 0 = any */
	int line;	  /* source line, 0 when unknown */
};

struct selection {
	struct select_rule *rules; /* owned array, in file order */
	size_t n;
};

/* What a rule is matched against. */
struct select_input {
	const char *type;     /* NULL: matches no type condition */
	const char *severity; /* NULL: matches no severity condition */
	bool drill;
	enum select_mode mode;
	enum calendar_period period;
};

/*
 * Options of a `select { ... }` section. Embed with SELECT_CFG_SEC in the
 * root options, beside POLICY_CFG_SEC.
 */
extern const cfg_opt_t select_section_options[];
#define SELECT_CFG_SEC                                                         \
	CFG_SEC("select", (cfg_opt_t *)select_section_options, CFGF_MULTI)

/*
 * Reads and checks every `select` section of root into *ret. A rule must
 * name a policy of `policies`; bad names, modes and periods go to diags as
 * "FILE:LINE: select: ..." (FILE is the section's own file when
 * common/cfgfile.c parsed it, else file; LINE is where it opens). Returns 0,
 * -EINVAL when any rule was bad, or -ENOMEM. *ret is written only on
 * success and is then owned by the caller (selection_free).
 */
int selection_from_cfg(cfg_t *root, const struct policy_set *policies,
		       struct selection *ret, const char *file,
		       struct diag_list *diags);

/* Frees the rules and empties the selection. NULL is a no-op. */
void selection_free(struct selection *sel);

/*
 * The name of the policy of the first rule matching in, or NULL when
 * none does (the engine then uses policy_default). The string belongs to
 * sel.
 */
const char *policy_select(const struct selection *sel,
			  const struct select_input *in);

/*
 * The hours against which an alert's calendar period is taken: the single
 * target's own when the alert goes to exactly one organisation
 * (single_target not NULL), else NISC's (see above). Never NULL; the
 * result points into d or is static.
 */
const struct dir_hours *
select_reference_hours(const struct directory *d,
		       const struct dir_org *single_target);

#endif
