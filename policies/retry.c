/*
 * Retry schedules and durations: see retry.h. The file has three parts:
 * the duration parser, the libconfuse section and its checks, and the
 * schedule itself (retry_delay, retry_exhausted).
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>

#include <confuse.h>

#include "common/diag.h"
#include "policies/retry.h"

/*
 * The longest duration we accept: a year. Nothing in an alert's life waits
 * that long, and the bound keeps sums and products far from overflow.
 */
#define DURATION_MAX (366.0 * 86400.0)

/*
 * Reads "DIGITS[.DIGITS]" at *p by hand rather than with strtod, which
 * would also take signs, spaces, "inf", "nan" and hex floats.
 */
static int parse_number(const char **p, double *ret)
{
	const char *s = *p;
	double v = 0, scale = 1;
	bool digits = false;

	while (*s >= '0' && *s <= '9') {
		v = v * 10 + (*s++ - '0');
		digits = true;
		if (v > DURATION_MAX * 1000)
			return -EINVAL;
	}
	if (*s == '.') {
		s++;
		if (!(*s >= '0' && *s <= '9'))
			return -EINVAL;
		while (*s >= '0' && *s <= '9') {
			scale /= 10;
			v += (*s++ - '0') * scale;
		}
		digits = true;
	}
	if (!digits)
		return -EINVAL;
	*p = s;
	*ret = v;
	return 0;
}

int policy_parse_duration(const char *s, double *ret_seconds)
{
	double total = 0;
	bool unitless = false;
	int groups = 0;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	while (*s != '\0') {
		double v, unit;

		if (parse_number(&s, &v) < 0)
			return -EINVAL;
		groups++;
		if (s[0] == 'm' && s[1] == 's') {
			unit = 0.001;
			s += 2;
		} else if (*s == 's') {
			unit = 1;
			s++;
		} else if (*s == 'm') {
			unit = 60;
			s++;
		} else if (*s == 'h') {
			unit = 3600;
			s++;
		} else if (*s == 'd') {
			unit = 86400;
			s++;
		} else if (*s == '\0') {
			/* A bare number is seconds, but only on its own:
			 * "1h30" is more likely a typo than 1h + 30s. */
			unit = 1;
			unitless = true;
		} else {
			return -EINVAL;
		}
		total += v * unit;
		if (total > DURATION_MAX)
			return -EINVAL;
	}
	if (unitless && groups > 1)
		return -EINVAL;
	*ret_seconds = total;
	return 0;
}

const cfg_opt_t retry_options[] = {
	CFG_INT("max_attempts", RETRY_DEFAULT_MAX_ATTEMPTS, CFGF_NONE),
	CFG_STR("initial_delay", "2s", CFGF_NONE),
	CFG_FLOAT("multiplier", RETRY_DEFAULT_MULTIPLIER, CFGF_NONE),
	CFG_STR("max_delay", "5m", CFGF_NONE),
	CFG_FLOAT("jitter", RETRY_DEFAULT_JITTER, CFGF_NONE),
	CFG_END(),
};

void retry_policy_default(struct retry_policy *p)
{
	p->max_attempts = RETRY_DEFAULT_MAX_ATTEMPTS;
	p->initial_delay = RETRY_DEFAULT_INITIAL_DELAY;
	p->multiplier = RETRY_DEFAULT_MULTIPLIER;
	p->max_delay = RETRY_DEFAULT_MAX_DELAY;
	p->jitter = RETRY_DEFAULT_JITTER;
}

/* Reads a duration option that must be > 0; reports and counts a bad one. */
static int read_positive_duration(cfg_t *sec, const char *name,
				  const char *file, struct diag_list *diags,
				  double *ret)
{
	const char *s = cfg_getstr(sec, name);

	if (policy_parse_duration(s, ret) < 0) {
		diag_add(diags, file, sec->line,
			 "retry: %s \"%s\" is not a duration (e.g. 2s, 5m, 1h)",
			 name, s ? s : "");
		return 1;
	}
	if (*ret <= 0) {
		diag_add(diags, file, sec->line,
			 "retry: %s must be greater than 0", name);
		return 1;
	}
	return 0;
}

int retry_policy_from_cfg(cfg_t *sec, struct retry_policy *ret,
			  const char *file, struct diag_list *diags)
{
	struct retry_policy p;
	long attempts;
	int errors = 0;

	retry_policy_default(&p);
	if (sec == NULL)
		goto out;
	if (file == NULL)
		file = sec->filename;

	attempts = cfg_getint(sec, "max_attempts");
	if (attempts < 1 || attempts > 1000) {
		diag_add(
			diags, file, sec->line,
			"retry: max_attempts must be between 1 and 1000, not %ld",
			attempts);
		errors++;
	} else {
		p.max_attempts = (int)attempts;
	}
	errors += read_positive_duration(sec, "initial_delay", file, diags,
					 &p.initial_delay);
	errors += read_positive_duration(sec, "max_delay", file, diags,
					 &p.max_delay);
	p.multiplier = cfg_getfloat(sec, "multiplier");
	/* Written as !(x >= 1) so that NaN is refused too. */
	if (!(p.multiplier >= 1 && p.multiplier <= 100)) {
		diag_add(diags, file, sec->line,
			 "retry: multiplier must be between 1 and 100, not %g",
			 p.multiplier);
		errors++;
	}
	p.jitter = cfg_getfloat(sec, "jitter");
	if (!(p.jitter >= 0 && p.jitter < 1)) {
		diag_add(diags, file, sec->line,
			 "retry: jitter must be at least 0 and below 1, not %g",
			 p.jitter);
		errors++;
	}
	if (errors > 0)
		return -EINVAL;
out:
	*ret = p;
	return 0;
}

double retry_delay(const struct retry_policy *p, int attempts_done,
		   double random01, int retry_after)
{
	double d = 0;

	if (attempts_done >= 1) {
		d = p->initial_delay;
		/* Multiply step by step instead of calling pow(): the loop
		 * stops at the cap, so a huge attempt count costs nothing and
		 * cannot overflow. */
		for (int i = 1; i < attempts_done && d < p->max_delay; i++) {
			if (p->multiplier <= 1)
				break;
			d *= p->multiplier;
		}
		if (d > p->max_delay)
			d = p->max_delay;
		if (!(random01 >= 0))
			random01 = 0;
		if (random01 >= 1)
			random01 = 1;
		d *= 1 + p->jitter * (2 * random01 - 1);
		if (d < 0)
			d = 0;
	}
	/*
	 * The far side's wish is honoured up to the channel's own cap, never
	 * beyond: a receiver answering Retry-After: 2147483647 would
	 * otherwise park the delivery for 68 years and the alert would never
	 * settle (retry_horizon() must stay a true bound).
	 */
	if (retry_after >= 0) {
		double ra =
			retry_after < p->max_delay ? retry_after : p->max_delay;

		if (d < ra)
			d = ra;
	}
	return d;
}

double retry_horizon(const struct retry_policy *p)
{
	double total = 0, d = p->initial_delay;

	/*
	 * The waits between max_attempts attempts, each at its largest: the
	 * schedule's step jittered up, or a Retry-After at the cap.
	 */
	for (int i = 1; i < p->max_attempts; i++) {
		double step =
			(d < p->max_delay ? d : p->max_delay) * (1 + p->jitter);

		total += step > p->max_delay ? step : p->max_delay;
		if (d < p->max_delay && p->multiplier > 1)
			d *= p->multiplier;
	}
	return total;
}

bool retry_exhausted(const struct retry_policy *p, int attempts_done)
{
	return attempts_done >= p->max_attempts;
}
