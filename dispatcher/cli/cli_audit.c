/*
 * `pocalert audit verify ID`: checks an alert's hash-chained timeline
 * (timeline.h) in the database itself, not through the daemon, so that
 * it works with the daemon stopped and does not take the daemon's word
 * for its own history. The store lets it read while the daemon
 * writes (SQLite's WAL); what the daemon still holds for its next group commit is not
 * yet on disk and is not checked.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"
#include "dispatcher/store/store.h"
#include "dispatcher/engine/timeline.h"

static const char audit_usage[] =
	"usage: pocalert audit verify ID\n"
	"\n"
	"Checks that the timeline of alert ID in the database is intact:\n"
	"every event chained to the one before it by its SHA-256, none\n"
	"changed, removed or reordered. Reads the database named by the\n"
	"config, with or without the daemon running.\n"
	"Exit status: 0 intact, 1 broken (or the check failed), 2 no such\n"
	"alert or bad usage.\n";

/* 1 when the store has alert id, 0 when not, -EIO on error. */
static int alert_exists(struct store *s, const char *id)
{
	char state[32];
	int r = store_alert_state(s, id, state, sizeof(state));

	if (r == 0 || r == -ENOBUFS)
		return 1;
	return r == -ENOENT ? 0 : -EIO;
}

static int audit_verify(const char *config, const char *id)
{
	static const char *const why[] = {
		[TIMELINE_FAULT_CHAIN] = "",
		[TIMELINE_FAULT_TEXT] = " (its text is not valid UTF-8: the "
					"API cannot serve it)",
		[TIMELINE_FAULT_HEAD] = " (the alert records a later last "
					"event: the newest are missing)",
	};
	struct store *s = NULL;
	enum timeline_fault fault = TIMELINE_FAULT_CHAIN;
	int64_t bad = 0;
	int status, n, exists;

	status = cli_open_store(config, &s);
	if (status != CLI_EXIT_OK)
		return status;
	n = timeline_verify_ex(s, id, &bad, &fault);
	if (n >= 0) {
		printf("%s: timeline intact, %d event%s\n", id, n,
		       n == 1 ? "" : "s");
		status = CLI_EXIT_OK;
	} else if (n == -EBADMSG) {
		printf("%s: timeline broken at event %" PRId64 "%s\n", id, bad,
		       why[fault]);
		status = CLI_EXIT_FAILURE;
	} else if (n == -ENOENT) {
		/*
		 * No events at all: an unknown alert, or a known one whose
		 * history was removed (every alert starts with "accepted").
		 */
		exists = alert_exists(s, id);
		if (exists == 0) {
			fprintf(stderr, "pocalert audit: no alert %s\n", id);
			status = CLI_EXIT_USAGE;
		} else if (exists > 0) {
			printf("%s: timeline broken at event 1\n", id);
			status = CLI_EXIT_FAILURE;
		} else {
			fprintf(stderr,
				"pocalert audit: cannot read alert %s from "
				"the database\n",
				id);
			status = CLI_EXIT_FAILURE;
		}
	} else {
		fprintf(stderr,
			"pocalert audit: cannot read the timeline of alert %s "
			"from the database\n",
			id);
		status = CLI_EXIT_FAILURE;
	}
	store_close(s);
	return status;
}

int cli_audit(const char *config, int argc, char **argv)
{
	if (argc >= 2 &&
	    (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(audit_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (argc < 2 || strcmp(argv[1], "verify") != 0) {
		if (argc < 2)
			fprintf(stderr, "pocalert audit: missing subcommand\n");
		else
			fprintf(stderr,
				"pocalert audit: unknown subcommand '%s'\n",
				argv[1]);
		fputs(audit_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	if (argc == 3 &&
	    (strcmp(argv[2], "--help") == 0 || strcmp(argv[2], "-h") == 0)) {
		fputs(audit_usage, stdout);
		return CLI_EXIT_OK;
	}
	if (argc == 3 && argv[2][0] == '-') {
		fprintf(stderr, "pocalert audit verify: unknown option %s\n",
			argv[2]);
		fputs(audit_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	if (argc != 3 || argv[2][0] == '\0') {
		fprintf(stderr, "pocalert audit verify: %s\n",
			argc == 3  ? "empty alert ID"
			: argc < 3 ? "missing alert ID"
				   : "takes one alert ID");
		fputs(audit_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	return audit_verify(config, argv[2]);
}
