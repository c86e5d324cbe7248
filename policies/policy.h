/*
 * Escalation policies: the steps by which an alert reaches an organisation
 * (which roles, which channels, how long after the alert was accepted),
 * how often the last step repeats, what counts as confirmed, and when an
 * organisation that never confirmed is declared unreachable.
 *
 * A policy is plain data of fixed size (no pointers), so the engine can
 * copy it, and stores its JSON snapshot with the alert when the alert is
 * accepted: editing the config later never changes a running alert.
 *
 * Everything here is pure. Time is a parameter (seconds, Unix time or
 * seconds after acceptance as each function says); nothing reads a clock.
 *
 * Config (libconfuse), usually in policies/standard.conf:
 *   policy "standard" {
 *     step { after = 0s  roles = {"primary"} channels = {"mail", "web"} }
 *     step { after = 10m roles = {"primary", "deputy"} channels = {"voice"} }
 *     repeat        = 1            # the last step runs again this often
 *     ack           = "organisation"   # or "contact"
 *     require       = 1            # confirmations that close an organisation
 *     give_up_after = 30m          # gap of a one-step policy
 *     holiday_first = "calendar"   # or "always", "never"
 *   }
 *
 * Semantics:
 * - `after` counts from the moment the alert was accepted; steps must be
 *   strictly increasing. The first may be later than 0s.
 * - The "gap" of a policy is the time between its last two steps, or
 *   give_up_after when it has only one step. `repeat = N` runs the last
 *   step N more times, each one gap after the previous run.
 * - An organisation is unreachable one gap after its last run (step or
 *   repeat) without being confirmed.
 * - ack = "organisation": confirmed when it has `require` confirmations
 *   (from any of its contacts). ack = "contact": confirmed when every
 *   contact targeted so far has confirmed; `require` is then ignored.
 *   Contacts added by a later step must confirm too.
 * - holiday_first = "calendar": holiday-role contacts are reached first
 *   when the organisation is off-hours or on a holiday (see
 *   calendar_period_at); "always" and "never" override the calendar. When
 *   holiday contacts come first they are also targeted at every step, even
 *   one whose roles do not name "holiday": out of hours the people who
 *   can act are the ones on holiday duty.
 */
#ifndef POCALERT_POLICY_H
#define POCALERT_POLICY_H

#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>

#include "common/diag.h"
#include "common/tlp.h"
#include "contacts/directory.h"
#include "policies/calendar.h"

#define POLICY_NAME_MAX 64  /* longest policy name, bytes */
#define POLICY_STEPS_MAX 16 /* steps written in one policy */
#define POLICY_REPEAT_MAX 100

/* A set of roles or channels: bit (1u << enum value). */
#define POLICY_BIT(e) (1u << (unsigned)(e))
#define POLICY_ALL_ROLES ((1u << DIR_ROLE_COUNT) - 1)
#define POLICY_ALL_CHANNELS ((1u << DIR_CHANNEL_COUNT) - 1)

enum policy_ack {
	POLICY_ACK_ORGANISATION = 0, /* `require` confirmations close it */
	POLICY_ACK_CONTACT,	     /* every targeted contact must confirm */
};

enum policy_holiday_first {
	POLICY_HOLIDAY_FIRST_CALENDAR = 0, /* off-hours and holidays: yes */
	POLICY_HOLIDAY_FIRST_ALWAYS,
	POLICY_HOLIDAY_FIRST_NEVER,
};

struct policy_step {
	double after;	   /* seconds after the alert was accepted */
	unsigned roles;	   /* POLICY_BIT(enum dir_role) set; never empty */
	unsigned channels; /* POLICY_BIT(enum dir_channel) set; never empty */
	int line;	   /* source line, 0 when unknown */
};

struct policy {
	char name[POLICY_NAME_MAX + 1];
	struct policy_step steps[POLICY_STEPS_MAX];
	int n_steps; /* 1..POLICY_STEPS_MAX */
	int repeat;  /* 0..POLICY_REPEAT_MAX extra runs of the last step */
	enum policy_ack ack;
	int require;	      /* >= 1; ack = organisation only */
	double give_up_after; /* seconds; the gap of a one-step policy */
	enum policy_holiday_first holiday_first;
	int line; /* source line, 0 when unknown */
};

struct policy_set {
	struct policy *policies; /* owned array, in file order */
	size_t n;
};

/*
 * Options of a `policy "NAME" { ... }` section. Embed with POLICY_CFG_SEC
 * in the root options (libconfuse only copies option tables, hence the
 * cast). Values are checked by policy_set_from_cfg, not while parsing.
 */
extern const cfg_opt_t policy_section_options[];
#define POLICY_CFG_SEC                                                         \
	CFG_SEC("policy", (cfg_opt_t *)policy_section_options,                 \
		CFGF_MULTI | CFGF_TITLE | CFGF_NO_TITLE_DUPES)

/*
 * Reads and checks every `policy` section of root into *ret. Errors go to
 * diags as "FILE:LINE: policy "NAME": ..." (FILE is the section's own file
 * when common/cfgfile.c parsed it, else file; LINE is where it opens).
 * Returns 0, -EINVAL when any policy was bad (all are reported), or
 * -ENOMEM. *ret is written only on success and is then owned by the
 * caller (policy_set_free). No policy at all is not an error.
 */
int policy_set_from_cfg(cfg_t *root, struct policy_set *ret, const char *file,
			struct diag_list *diags);

/* Frees the set's array and empties it. NULL is a no-op. */
void policy_set_free(struct policy_set *set);

/* The policy with this name, or NULL. */
const struct policy *policy_set_find(const struct policy_set *set,
				     const char *name);

/*
 * The policy used when none is configured or selected: "default", one step
 * at 0s to primary and deputy contacts on every channel, ack per
 * organisation with one confirmation, unreachable after 30 minutes,
 * holiday contacts never moved first.
 */
void policy_default(struct policy *ret);

/*
 * The snapshot stored with an alert: a JSON object with a "version" (1),
 * the name, the steps (after in seconds, role and channel names), repeat,
 * ack, require, give_up_after and holiday_first. The string is malloc'd
 * and owned by the caller (free()); NULL when out of memory.
 */
char *policy_to_json_string(const struct policy *p);

/*
 * Reads a snapshot back, with the same checks as the config. Returns 0 and
 * fills *ret, or -EINVAL for anything malformed (ret untouched).
 */
int policy_from_json_string(const char *json, struct policy *ret);

/* Steps in the schedule: the written steps plus the repeats. */
int policy_step_count(const struct policy *p);

/*
 * Seconds after acceptance at which step index (0-based, repeats included)
 * runs; negative when index is out of range.
 */
double policy_step_due(const struct policy *p, int index);

/* The step that runs at index (repeats map to the last step), or NULL. */
const struct policy_step *policy_step_at(const struct policy *p, int index);

/* The gap between the last two steps, or give_up_after for one step. */
double policy_gap(const struct policy *p);

/* Seconds after acceptance at which an unconfirmed organisation becomes
 * unreachable: one gap after the last run. */
double policy_unreachable_after(const struct policy *p);

/* Where one organisation stands in an alert, as the engine recorded it. */
struct policy_progress {
	int last_step_run;	/* index of the last step run; -1 for none */
	int confirmations;	/* confirmations received (ack organisation) */
	int contacts_targeted;	/* distinct contacts reached so far */
	int contacts_confirmed; /* of those, how many confirmed */
};

/* True when the progress counts as confirmed under p's ack mode. */
bool policy_confirmed(const struct policy *p, const struct policy_progress *pr);

enum policy_action {
	POLICY_WAIT = 0,    /* nothing to do before next_at */
	POLICY_RUN_STEP,    /* run `step` now, then ask again at next_at */
	POLICY_UNREACHABLE, /* declare the organisation unreachable now */
	POLICY_DONE,	    /* confirmed: stop escalating */
};

struct policy_decision {
	enum policy_action action;
	int step;	/* POLICY_RUN_STEP: the index to run; else -1 */
	double next_at; /* WAIT, RUN_STEP: Unix time to ask again; else -1 */
};

/*
 * What to do now for one organisation. accepted_at and now are Unix times
 * in seconds. In order:
 * - confirmed (policy_confirmed): DONE;
 * - a step later than last_step_run is due: RUN_STEP with the latest due
 *   step. Steps that fell due while the daemon was down are not run one
 *   by one: the latest one runs at once (it reaches the widest set of
 *   roles and channels) and the skipped ones are never run. next_at is
 *   when the following step, or the unreachable time, falls due;
 * - every step has run and policy_unreachable_after has passed:
 *   UNREACHABLE (also after a long downtime: the schedule is counted from
 *   acceptance, not from the restart);
 * - otherwise WAIT until the next step or the unreachable time.
 * Once unreachable, a late confirmation still turns the answer into DONE.
 */
struct policy_decision policy_decide(const struct policy *p, double accepted_at,
				     double now,
				     const struct policy_progress *pr);

/* True when a method may carry an alert of this level: level <= max_tlp. */
bool policy_method_allowed(enum tlp alert_tlp, const struct dir_method *m);

/* Whether holiday contacts come first for an organisation in period. */
bool policy_holiday_first(const struct policy *p, enum calendar_period period);

/* A contact method of an organisation, by index into its arrays. */
struct policy_target {
	size_t contact; /* index into org->contacts */
	size_t method;	/* index into that contact's methods */
};

/*
 * The contact methods of org that a step reaches: the contact's role is in
 * step->roles and the method's channel in step->channels. With
 * holiday_first, holiday-role contacts are included whatever step->roles
 * says, and all their methods come before any other. Within that, methods
 * are ordered by their `order`, then by contact and method index. TLP is
 * not applied here (see policy_method_allowed), so that the caller can
 * record which methods the level ruled out.
 * On success *ret is a malloc'd array owned by the caller (free()), NULL
 * when nothing matched, and *ret_n its length. Returns 0 or -ENOMEM.
 */
int policy_step_targets(const struct dir_org *org,
			const struct policy_step *step, bool holiday_first,
			struct policy_target **ret, size_t *ret_n);

/* "organisation"/"contact" and "calendar"/"always"/"never". */
const char *policy_ack_name(enum policy_ack a);
const char *policy_holiday_first_name(enum policy_holiday_first h);

#endif
