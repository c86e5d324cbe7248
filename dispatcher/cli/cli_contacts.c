/*
 * `pocalert contacts ...`: import, check, list and show the directory.
 * These work on the database file directly, with or without a running
 * daemon (SQLite's WAL lets both in).
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <strings.h>
#include <string.h>

#include <jansson.h>

#include "common/diag.h"
#include "contacts/directory.h"
#include "contacts/directory_json.h"
#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"
#include "dispatcher/store/store.h"

static const char contacts_usage[] =
	"usage: pocalert contacts COMMAND [OPTIONS]\n"
	"\n"
	"  import FILE [--encoding auto|utf-8|cp932] [--force-encoding]\n"
	"              [--replace] [--init]\n"
	"      load a directory file (.conf) or CSV (.csv); all or nothing.\n"
	"      Without --replace organisations are added or updated; with it\n"
	"      the directory becomes exactly the file. --encoding auto (the\n"
	"      default) reads a CSV as UTF-8 or CP932, whichever it is;\n"
	"      shift_jis, sjis and windows-31j mean cp932. A UTF-8 file is\n"
	"      refused under cp932 unless --force-encoding. --init accepts\n"
	"      an empty (0-byte) database file as a new one.\n"
	"  check FILE [--encoding E] [--force-encoding]\n"
	"      validate a file without touching the database\n"
	"  list [--sector SECTOR] [--json]\n"
	"      print the organisations\n"
	"  show ID [--json]\n"
	"      print one organisation with its contacts and methods\n";

struct contacts_args {
	const char *encoding;
	char forced[40]; /* encoding + "!" under --force-encoding */
	bool force;
	const char *sector;
	bool replace;
	bool json;
	bool init;
	const char *operand;
};

/*
 * Parses the options every contacts subcommand shares; allowed names the
 * ones this subcommand takes. Returns 0, 1 for --help, or -EINVAL.
 */
static int parse_args(const char *cmd, const char *allowed, int argc,
		      char **argv, struct contacts_args *a)
{
	static const struct option longopts[] = {
		{"encoding", required_argument, NULL, 'e'},
		{"force-encoding", no_argument, NULL, 'f'},
		{"sector", required_argument, NULL, 's'},
		{"replace", no_argument, NULL, 'r'},
		{"init", no_argument, NULL, 'i'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int ch;

	optind = 0; /* glibc: start afresh on a new argv */
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		if (ch == 'h')
			return 1;
		if (ch == 'f' && strchr(allowed, 'e') != NULL) {
			a->force = true;
			continue;
		}
		if (ch == '?' || strchr(allowed, ch) == NULL) {
			fprintf(stderr,
				"pocalert contacts %s: unknown option %s\n",
				cmd, argv[optind - 1]);
			return -EINVAL;
		}
		switch (ch) {
		case 'e':
			a->encoding = optarg;
			break;
		case 's':
			a->sector = optarg;
			break;
		case 'i':
			a->init = true;
			break;
		case 'r':
			a->replace = true;
			break;
		case 'j':
			a->json = true;
			break;
		}
	}
	if (optind < argc)
		a->operand = argv[optind++];
	if (optind < argc) {
		fprintf(stderr,
			"pocalert contacts %s: unexpected argument %s\n", cmd,
			argv[optind]);
		return -EINVAL;
	}
	if (a->force && a->encoding != NULL) {
		/* dir_read_text's spelling of a forced encoding. */
		if (snprintf(a->forced, sizeof(a->forced), "%s!",
			     a->encoding) >= (int)sizeof(a->forced)) {
			fprintf(stderr,
				"pocalert contacts %s: --encoding: unknown "
				"encoding\n",
				cmd);
			return -EINVAL;
		}
		a->encoding = a->forced;
	}
	return 0;
}

/*
 * Which encoding auto picked for a CSV file, as the end of the line that
 * reports the import ("", or "; read as CP932 (detected)").
 */
static const char *told_encoding(const char *path, const char *encoding)
{
	struct diag_list quiet = {0};
	const char *picked = NULL, *told = "";
	char *text = NULL;
	size_t len = strlen(path);
	int r;

	if ((encoding != NULL && strcasecmp(encoding, "auto") != 0) ||
	    len < 4 || strcasecmp(path + len - 4, ".csv") != 0)
		return "";
	r = dir_read_text_as(path, NULL, false, &text, &len, &picked, &quiet);
	if (r == 0 && picked != NULL)
		told = strcmp(picked, "cp932") == 0
			       ? "; read as CP932 (detected)"
			       : "; read as UTF-8 (detected)";
	free(text);
	diag_clear(&quiet);
	return told;
}

/* Prints a file's errors; returns the exit status they mean. */
static int report(const char *path, int r, struct diag_list *diags)
{
	if (r == 0 && diags->n == 0)
		return CLI_EXIT_OK;
	diag_print(diags, stderr);
	if (diags->n == 0)
		fprintf(stderr, "%s: %s\n", path, strerror(-r));
	fprintf(stderr, "%s: %zu error%s, nothing imported\n", path, diags->n,
		diags->n == 1 ? "" : "s");
	return r == -ENOMEM ? CLI_EXIT_FAILURE : CLI_EXIT_USAGE;
}

/* Parses and validates a file; prints every error. Returns an exit status. */
static int read_file(const char *path, const char *encoding,
		     struct directory *d)
{
	struct diag_list diags = {0};
	int r, status;

	r = dir_parse_file(path, encoding, d, &diags);
	status = report(path, r, &diags);
	diag_clear(&diags);
	return status;
}

static int cmd_check(struct contacts_args *a)
{
	struct directory d = {0};
	size_t contacts = 0, methods = 0;
	int status;

	status = read_file(a->operand, a->encoding, &d);
	if (status == CLI_EXIT_OK) {
		for (size_t i = 0; i < d.n_orgs; i++) {
			contacts += d.orgs[i].n_contacts;
			for (size_t k = 0; k < d.orgs[i].n_contacts; k++)
				methods += d.orgs[i].contacts[k].n_methods;
		}
		printf("%s: ok: %zu organisations, %zu contacts, %zu "
		       "methods%s\n",
		       a->operand, d.n_orgs, contacts, methods,
		       told_encoding(a->operand, a->encoding));
	}
	directory_free(&d);
	return status;
}

static int cmp_org_id(const void *key, const void *elem)
{
	return strcmp(key, ((const struct dir_org *)elem)->id);
}

/*
 * Without --replace a file lands on top of the stored directory: its
 * organisations may name stored ones as parents, and a cycle may run
 * through them. The file is parsed again over the stored organisations
 * it does not replace, so that parents and cycles are judged on the
 * directory the import will make; that verdict goes to diags. Returns 0,
 * 1 when nothing is stored (the file's own verdict stands), -EINVAL when
 * the file has errors, or another negative errno.
 */
static int check_over_store(struct store *s, const struct contacts_args *a,
			    const struct directory *file,
			    struct diag_list *diags)
{
	struct directory stored = {0}, merged = {0};
	bool *replaced = NULL;
	int r = -ENOMEM;

	if (store_directory_load(s, NULL, &stored) < 0) {
		r = -EIO;
		goto out;
	}
	if (stored.n_orgs == 0) {
		r = 1;
		goto out;
	}
	replaced = calloc(stored.n_orgs, sizeof(*replaced));
	if (replaced == NULL)
		goto out;
	/* store_directory_load returns organisations sorted by id. */
	for (size_t i = 0; i < file->n_orgs; i++) {
		struct dir_org *o =
			bsearch(file->orgs[i].id, stored.orgs, stored.n_orgs,
				sizeof(*o), cmp_org_id);

		if (o != NULL)
			replaced[o - stored.orgs] = true;
	}
	for (size_t i = 0; i < stored.n_orgs; i++) {
		struct dir_org *o;

		if (replaced[i])
			continue;
		o = dir_org_append(&merged);
		if (o == NULL)
			goto out;
		/* Moved, not copied: the stored entry is emptied. */
		free(o->hours.tz);
		*o = stored.orgs[i];
		memset(&stored.orgs[i], 0, sizeof(stored.orgs[i]));
	}
	r = dir_parse_file(a->operand, a->encoding, &merged, diags);
out:
	free(replaced);
	directory_free(&merged);
	directory_free(&stored);
	return r;
}

static int cmd_import(const char *config, struct contacts_args *a)
{
	struct diag_list diags = {0};
	struct directory d = {0};
	struct store_import_stats st;
	struct store *s = NULL;
	int r, status;

	r = dir_parse_file(a->operand, a->encoding, &d, &diags);
	if (r < 0 && r != -EINVAL) {
		/* Unreadable: no store verdict can change that. */
		status = report(a->operand, r, &diags);
		goto out;
	}
	status = cli_open_store_with(config, a->init ? STORE_OPEN_INIT : 0, &s);
	if (status != CLI_EXIT_OK)
		goto out;
	if (!a->replace) {
		struct diag_list over = {0};
		int v = check_over_store(s, a, &d, &over);

		if (v == 1) {
			diag_clear(&over);
		} else if (v == 0 || v == -EINVAL) {
			diag_clear(&diags);
			diags = over;
			r = v;
		} else {
			diag_clear(&over);
			fprintf(stderr, "pocalert: cannot read the stored "
					"directory\n");
			status = CLI_EXIT_FAILURE;
			goto out;
		}
	}
	status = report(a->operand, r, &diags);
	if (status != CLI_EXIT_OK)
		goto out;
	if (store_directory_import(s, &d, a->replace, &st) < 0) {
		fprintf(stderr,
			"pocalert: import of %s failed, nothing changed\n",
			a->operand);
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	printf("%s: imported %zu organisations (%d added, %d updated, "
	       "%d removed), %d contacts, %d methods%s\n",
	       a->operand, d.n_orgs, st.orgs_added, st.orgs_updated,
	       st.orgs_removed, st.contacts, st.methods,
	       told_encoding(a->operand, a->encoding));
out:
	diag_clear(&diags);
	store_close(s);
	directory_free(&d);
	return status;
}

static void print_org_text(const struct dir_org *o)
{
	char hours[64];

	dir_hours_format(&o->hours, hours, sizeof(hours));
	printf("%s  %s", o->id, o->name);
	if (o->name_en)
		printf(" (%s)", o->name_en);
	printf("\n  kind %s, sector %s", dir_kind_name(o->kind), o->sector);
	if (o->parent)
		printf(", parent %s", o->parent);
	printf(", hours %s %s\n", hours, o->hours.tz);
	for (size_t i = 0; i < o->n_contacts; i++) {
		const struct dir_contact *c = &o->contacts[i];

		printf("  contact %s  %s  [%s, %s]\n", c->id, c->name,
		       dir_role_name(c->role), c->language);
		for (size_t k = 0; k < c->n_methods; k++) {
			const struct dir_method *m = &c->methods[k];

			printf("    %-5s %-40s max %s",
			       dir_channel_name(m->channel), m->address,
			       tlp_label(m->max_tlp));
			if (m->channel == DIR_CHANNEL_MAIL)
				printf(" %s", dir_charset_name(m->charset));
			printf(" order %d\n", m->order);
		}
	}
}

static int print_json(json_t *j)
{
	int r;

	if (j == NULL)
		return CLI_EXIT_FAILURE;
	/* Japanese stays as UTF-8, byte for byte. */
	r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(j);
	putchar('\n');
	return r == 0 ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
}

static int cmd_list(const char *config, struct contacts_args *a)
{
	struct directory d = {0};
	struct store *s = NULL;
	int status;

	status = cli_open_store(config, &s);
	if (status != CLI_EXIT_OK)
		return status;
	if (store_directory_load(s, a->sector, &d) < 0) {
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	if (a->json) {
		json_t *arr = json_array();

		for (size_t i = 0; arr && i < d.n_orgs; i++)
			json_array_append_new(arr, dir_org_to_json(&d.orgs[i]));
		status = print_json(arr);
	} else {
		for (size_t i = 0; i < d.n_orgs; i++) {
			const struct dir_org *o = &d.orgs[i];
			size_t methods = 0;

			for (size_t k = 0; k < o->n_contacts; k++)
				methods += o->contacts[k].n_methods;
			printf("%-24s %-10s %-36s %2zu contacts %2zu methods  %s\n",
			       o->id, dir_kind_name(o->kind), o->sector,
			       o->n_contacts, methods, o->name);
		}
		printf("%zu organisations\n", d.n_orgs);
	}
out:
	directory_free(&d);
	store_close(s);
	return status;
}

static int cmd_show(const char *config, struct contacts_args *a)
{
	struct directory d = {0};
	struct store *s = NULL;
	struct dir_org *o;
	int status;

	status = cli_open_store(config, &s);
	if (status != CLI_EXIT_OK)
		return status;
	if (store_directory_load(s, NULL, &d) < 0) {
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	o = dir_find_org(&d, a->operand);
	if (o == NULL) {
		fprintf(stderr,
			"pocalert contacts show: no organisation \"%s\"\n",
			a->operand);
		status = CLI_EXIT_USAGE;
	} else if (a->json) {
		status = print_json(dir_org_to_json(o));
	} else {
		print_org_text(o);
	}
out:
	directory_free(&d);
	store_close(s);
	return status;
}

int cli_contacts(const char *config, int argc, char **argv)
{
	static const struct {
		const char *name;
		const char *allowed; /* option letters it takes */
		bool needs_operand;
	} subs[] = {
		{"import", "eri", true},
		{"check", "e", true},
		{"list", "sj", false},
		{"show", "j", true},
	};
	struct contacts_args a = {0};
	const char *sub;
	int r;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		fputs(contacts_usage, argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	sub = argv[1];
	for (size_t i = 0; i < sizeof(subs) / sizeof(subs[0]); i++) {
		if (strcmp(sub, subs[i].name) != 0)
			continue;
		r = parse_args(sub, subs[i].allowed, argc - 1, argv + 1, &a);
		if (r == 1) {
			fputs(contacts_usage, stdout);
			return CLI_EXIT_OK;
		}
		if (r < 0)
			return CLI_EXIT_USAGE;
		if (subs[i].needs_operand != (a.operand != NULL)) {
			fprintf(stderr, "pocalert contacts %s: %s\n", sub,
				a.operand ? "takes no argument"
					  : "missing argument");
			fputs(contacts_usage, stderr);
			return CLI_EXIT_USAGE;
		}
		if (strcmp(sub, "import") == 0)
			return cmd_import(config, &a);
		if (strcmp(sub, "check") == 0)
			return cmd_check(&a);
		if (strcmp(sub, "list") == 0)
			return cmd_list(config, &a);
		return cmd_show(config, &a);
	}
	fprintf(stderr, "pocalert contacts: unknown command '%s'\n", sub);
	fputs(contacts_usage, stderr);
	return CLI_EXIT_USAGE;
}
