/*
 * `pocalert calendar import FILE` and `pocalert calendar show`: the public
 * holidays, taken from the Cabinet Office's syukujitsu.csv into the
 * database, and printed year by year. Also the choice `serve` makes at
 * start: an imported calendar, else the config's holiday file, else the
 * built-in 2026-2027 rows.
 *
 * The imported calendar lives in the database, beside the directory it
 * serves: an import is one transaction (all or nothing), `backup` carries
 * it, and no file the config or a package owns is rewritten.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"
#include "policies/calendar.h"

static const char calendar_usage[] =
	"usage: pocalert calendar import FILE [--encoding auto|utf-8|cp932]\n"
	"       pocalert calendar show [--year YYYY]\n"
	"\n"
	"import  reads the Cabinet Office's holiday CSV (syukujitsu.csv, CP932\n"
	"        or UTF-8) into the database, all or nothing; it replaces the\n"
	"        config's holiday file from the next start of serve.\n"
	"show    prints the days off of a year (default: this year) and where\n"
	"        the calendar comes from and ends.\n";

static const char *const weekdays[7] = {"日", "月", "火", "水",
					"木", "金", "土"};

int cli_calendar_apply(struct config *config)
{
	struct store *s = NULL;
	int r;

	r = store_open(config->database, &s);
	if (r < 0)
		return r;
	r = cli_calendar_apply_store(s, config);
	store_close(s);
	return r;
}

int cli_calendar_apply_store(struct store *s, struct config *config)
{
	struct calendar cal = {0};
	int r;

	r = store_calendar_load(s, &cal);
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	cal.year_end_days_off = config->calendar.year_end_days_off;
	calendar_free(&config->calendar);
	config->calendar = cal;
	return 1;
}

static int cmd_import(const char *config_path, const char *file,
		      const char *encoding)
{
	struct diag_list diags = {0};
	struct calendar cal = {0};
	struct store *s = NULL;
	char first[48], last[48];
	int r, status;

	r = calendar_load_csv(file, encoding, &cal, &diags);
	diag_print(&diags, stderr);
	diag_clear(&diags);
	if (r < 0) {
		fprintf(stderr, "pocalert: %s: nothing imported\n", file);
		return r == -ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
	}
	status = cli_open_store(config_path, &s);
	if (status != CLI_EXIT_OK)
		goto out;
	if (store_calendar_replace(s, &cal) < 0) {
		fprintf(stderr,
			"pocalert: import of %s failed, nothing "
			"changed\n",
			file);
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	calendar_format_date(cal.first_day, first, sizeof(first));
	calendar_format_date(cal.last_day, last, sizeof(last));
	printf("%s: imported %zu holidays, %s to %s\n", file, cal.n, first,
	       last);
out:
	store_close(s);
	calendar_free(&cal);
	return status;
}

static int cmd_show(const char *config_path, int year)
{
	struct config *config = NULL;
	const char *source;
	char first[48], last[48];
	int status, r, start, end, y, m, d, wd, shown = 0;

	status = cli_load_config(config_path, &config);
	if (status != CLI_EXIT_OK)
		return status;
	r = cli_calendar_apply(config);
	if (r < 0) {
		fprintf(stderr, "pocalert: cannot read the database %s\n",
			config->database);
		config_free(config);
		return CLI_EXIT_FAILURE;
	}
	if (r == 1)
		source = "imported (pocalert calendar import)";
	else if (cfg_getstr(config->cfg, "holidays") != NULL)
		source = cfg_getstr(config->cfg, "holidays");
	else
		source = "built-in (Cabinet Office, 2026-2027)";
	if (year == 0) {
		calendar_civil((int)((time(NULL) + 9 * 3600) / 86400), &y, &m,
			       &d, &wd);
		year = y;
	}
	calendar_format_date(config->calendar.first_day, first, sizeof(first));
	calendar_format_date(config->calendar.last_day, last, sizeof(last));
	printf("calendar: %s, %s to %s; 年末年始 (12/29-1/3) %s\n", source,
	       first, last,
	       config->calendar.year_end_days_off ? "days off"
						  : "working days");
	{
		char ys[48];

		snprintf(ys, sizeof(ys), "%04d-01-01", year);
		if (calendar_parse_date(ys, &start) < 0) {
			fprintf(stderr, "pocalert calendar show: bad year\n");
			config_free(config);
			return CLI_EXIT_USAGE;
		}
		snprintf(ys, sizeof(ys), "%04d-12-31", year);
		calendar_parse_date(ys, &end);
	}
	for (int day = start; day <= end; day++) {
		const struct calendar_holiday *h =
			calendar_holiday_on(&config->calendar, day);
		const char *name = h ? h->name : NULL;
		char date[48];

		if (name == NULL && config->calendar.year_end_days_off &&
		    calendar_is_year_end(day))
			name = "年末年始";
		if (name == NULL)
			continue;
		calendar_civil(day, &y, &m, &d, &wd);
		calendar_format_date(day, date, sizeof(date));
		printf("%s (%s) %s\n", date, weekdays[wd], name);
		shown++;
	}
	if (start > config->calendar.last_day ||
	    end < config->calendar.first_day)
		fprintf(stderr,
			"pocalert: warning: the calendar does not cover %d: "
			"public holidays are unknown (import a newer "
			"syukujitsu.csv)\n",
			year);
	(void)shown;
	config_free(config);
	return CLI_EXIT_OK;
}

int cli_calendar(const char *config, int argc, char **argv)
{
	const char *file = NULL, *encoding = NULL;
	int year = 0;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(calendar_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0) {
			fputs(calendar_usage, stdout);
			return CLI_EXIT_OK;
		} else if (strcmp(argv[i], "--encoding") == 0 && i + 1 < argc &&
			   strcmp(argv[1], "import") == 0) {
			encoding = argv[++i];
		} else if (strcmp(argv[i], "--year") == 0 && i + 1 < argc &&
			   strcmp(argv[1], "show") == 0) {
			char *end;
			long y = strtol(argv[++i], &end, 10);

			if (*end != '\0' || y < 1970 || y > 9999) {
				fprintf(stderr,
					"pocalert calendar show: --year '%s': "
					"not a year (1970-9999)\n",
					argv[i]);
				return CLI_EXIT_USAGE;
			}
			year = (int)y;
		} else if (argv[i][0] != '-' && file == NULL &&
			   strcmp(argv[1], "import") == 0) {
			file = argv[i];
		} else {
			fprintf(stderr,
				"pocalert calendar %s: unexpected '%s'\n",
				argv[1], argv[i]);
			fputs(calendar_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	if (strcmp(argv[1], "import") == 0) {
		if (file == NULL) {
			fprintf(stderr, "pocalert calendar import: missing "
					"FILE\n");
			return CLI_EXIT_USAGE;
		}
		return cmd_import(config, file, encoding);
	}
	if (strcmp(argv[1], "show") == 0)
		return cmd_show(config, year);
	fprintf(stderr, "pocalert calendar: unknown command '%s'\n", argv[1]);
	fputs(calendar_usage, stderr);
	return CLI_EXIT_USAGE;
}
