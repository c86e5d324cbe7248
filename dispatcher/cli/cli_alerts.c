/*
 * `pocalert send`, `status`, `alerts` and `cancel`: the operator's
 * commands, spoken to the running daemon through its HTTP API (libcurl's
 * easy interface; a command blocks, which is what a person at a terminal
 * expects). Unlike `contacts`, these never open the database: the daemon
 * is the one writer, and the API is where alerts are validated.
 *
 * The first half is a small API client (token, base URL, one call, error
 * replies turned into messages and exit statuses); the second half is the
 * commands, each with its usage text.
 */
#include <errno.h>
#include <getopt.h>
#include <stddef.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <curl/curl.h>
#include <jansson.h>

#include "common/buf.h"
#include "common/utf8.h"
#include "dispatcher/engine/alert.h"
#include "dispatcher/engine/cap.h"
#include "dispatcher/cli/cli.h"
#include "dispatcher/cli/cli_util.h"
#include "common/timefmt.h"

/* A status of 20,000 deliveries is a few MB; more is something wrong. */
#define CLIENT_MAX_RESPONSE (64 * 1024 * 1024)
#define WATCH_BAR_WIDTH 30

struct client {
	const char *cmd; /* "send", ...: prefixes every message */
	char *base;	 /* owned; the API's base URL, no '/' at end */
	char *auth;	 /* owned; the Authorization header, wiped */
	CURL *curl;	 /* owned */
	char errbuf[CURL_ERROR_SIZE];
	const char *body_type; /* a Content-Type header; NULL: JSON */
};

/* One reply from the API. */
struct client_reply {
	long status; /* HTTP status */
	struct buf body;
	json_t *json; /* the body parsed, or NULL when it is not JSON */
};

static void client_reply_free(struct client_reply *r)
{
	buf_free(&r->body);
	json_decref(r->json);
	memset(r, 0, sizeof(*r));
}

/*
 * Reads the token and the API's URL. Returns an exit status; on
 * CLI_EXIT_OK the client is ready and the caller closes it.
 */
static int client_open(const char *config, const char *cmd, struct client *c)
{
	const char *token = getenv("POCALERT_TOKEN");
	struct config *cfg;
	int status;

	memset(c, 0, sizeof(*c));
	c->cmd = cmd;
	if (token == NULL || token[0] == '\0') {
		fprintf(stderr,
			"pocalert %s: POCALERT_TOKEN is not set: export the "
			"operator's API token first\n",
			cmd);
		return CLI_EXIT_USAGE;
	}
	status = cli_load_config(config, &cfg);
	if (status != CLI_EXIT_OK)
		return status;
	c->base = strdup(cfg->api_url);
	config_free(cfg);
	if (c->base == NULL ||
	    asprintf(&c->auth, "Authorization: Bearer %s", token) < 0) {
		c->auth = NULL;
		fprintf(stderr, "pocalert %s: out of memory\n", cmd);
		return CLI_EXIT_FAILURE;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK ||
	    (c->curl = curl_easy_init()) == NULL) {
		fprintf(stderr, "pocalert %s: cannot start libcurl\n", cmd);
		return CLI_EXIT_FAILURE;
	}
	return CLI_EXIT_OK;
}

static void client_close(struct client *c)
{
	if (c->auth != NULL) {
		explicit_bzero(c->auth, strlen(c->auth));
		free(c->auth);
	}
	if (c->curl != NULL) {
		curl_easy_cleanup(c->curl);
		curl_global_cleanup();
	}
	free(c->base);
	memset(c, 0, sizeof(*c));
}

static size_t client_collect(char *data, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (b->len + size * n > CLIENT_MAX_RESPONSE ||
	    buf_append(b, data, size * n) < 0)
		return 0; /* curl then fails the transfer */
	return size * n;
}

/* Appends s to *l, keeping the list whole when out of memory. */
static int slist_add(struct curl_slist **l, const char *s)
{
	struct curl_slist *n = curl_slist_append(*l, s);

	if (n == NULL)
		return -1;
	*l = n;
	return 0;
}

/*
 * One call: method on base + path with an optional JSON body. Returns an
 * exit status; CLI_EXIT_OK means an HTTP reply came back (any status),
 * which *ret then holds (client_reply_free()). An unreachable daemon is
 * reported here with the URL that was tried.
 */
static int client_call(struct client *c, const char *method, const char *path,
		       const char *body, struct client_reply *ret)
{
	struct curl_slist *hdrs = NULL;
	char *url = NULL;
	CURLcode rc;
	int status = CLI_EXIT_FAILURE;

	memset(ret, 0, sizeof(*ret));
	if (asprintf(&url, "%s%s", c->base, path) < 0) {
		url = NULL;
		fprintf(stderr, "pocalert %s: out of memory\n", c->cmd);
		goto out;
	}
	curl_easy_reset(c->curl);
	c->errbuf[0] = '\0';
	/* Our server answers without 100-continue: don't wait for one. */
	if (slist_add(&hdrs, c->auth) < 0 ||
	    slist_add(&hdrs, "Accept: application/json") < 0 ||
	    slist_add(&hdrs, "Expect:") < 0 ||
	    (body != NULL &&
	     slist_add(&hdrs, c->body_type ? c->body_type
					   : "Content-Type: application/json; "
					     "charset=utf-8") < 0)) {
		fprintf(stderr, "pocalert %s: out of memory\n", c->cmd);
		goto out;
	}
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	if (body != NULL) {
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDSIZE,
				 (long)strlen(body));
	}
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, client_collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &ret->body);
	curl_easy_setopt(c->curl, CURLOPT_ERRORBUFFER, c->errbuf);
	curl_easy_setopt(c->curl, CURLOPT_CONNECTTIMEOUT, 10L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT, 120L);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	rc = curl_easy_perform(c->curl);
	if (rc != CURLE_OK) {
		fprintf(stderr, "pocalert %s: cannot reach the API at %s: %s\n",
			c->cmd, url,
			c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc));
		client_reply_free(ret);
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &ret->status);
	if (ret->body.len > 0)
		ret->json = json_loadb(ret->body.data, ret->body.len, 0, NULL);
	status = CLI_EXIT_OK;
out:
	curl_slist_free_all(hdrs);
	free(url);
	return status;
}

/* The "error" of an API reply, or a description of a non-JSON one. */
static const char *reply_message(const struct client_reply *r, char *tmp,
				 size_t len)
{
	const char *m = json_string_value(json_object_get(r->json, "error"));

	if (m != NULL)
		return m;
	snprintf(tmp, len, "HTTP status %ld", r->status);
	return tmp;
}

/*
 * Reports an error reply that the command has no special words for and
 * returns the exit status: 2 for what the operator can fix (the input,
 * the token), 1 for the rest.
 */
static int client_fail(const struct client *c, const struct client_reply *r)
{
	const char *field =
		json_string_value(json_object_get(r->json, "field"));
	char tmp[64];
	const char *msg = reply_message(r, tmp, sizeof(tmp));

	switch (r->status) {
	case 400:
	case 413:
		if (field != NULL && field[0] != '\0')
			fprintf(stderr, "pocalert %s: %s: %s\n", c->cmd, field,
				msg);
		else
			fprintf(stderr, "pocalert %s: %s\n", c->cmd, msg);
		return CLI_EXIT_USAGE;
	case 401:
		fprintf(stderr,
			"pocalert %s: the API refused POCALERT_TOKEN: %s\n",
			c->cmd, msg);
		return CLI_EXIT_USAGE;
	case 503:
		fprintf(stderr,
			"pocalert %s: the daemon is not taking "
			"requests: %s\n",
			c->cmd, msg);
		return CLI_EXIT_FAILURE;
	default:
		fprintf(stderr, "pocalert %s: the API answered %ld: %s\n",
			c->cmd, r->status, msg);
		return CLI_EXIT_FAILURE;
	}
}

/* "/api/v1/alerts/ID" + suffix with ID percent-encoded; NULL on ENOMEM. */
static char *alert_path(struct client *c, const char *id, const char *suffix)
{
	char *esc = curl_easy_escape(c->curl, id, 0), *p = NULL;

	if (esc != NULL && asprintf(&p, "/api/v1/alerts/%s%s", esc, suffix) < 0)
		p = NULL;
	curl_free(esc);
	return p;
}

static int print_json(json_t *j)
{
	/* Japanese stays as UTF-8, byte for byte. */
	if (json_dumpf(j, stdout, JSON_INDENT(2)) < 0)
		return CLI_EXIT_FAILURE;
	putchar('\n');
	return CLI_EXIT_OK;
}

static json_int_t jint(json_t *o, const char *key)
{
	return json_integer_value(json_object_get(o, key));
}

static const char *jstr(json_t *o, const char *key, const char *dflt)
{
	const char *s = json_string_value(json_object_get(o, key));

	return s ? s : dflt;
}

/*
 * Resets getopt for a fresh argv. Options may come after the operand
 * ("status ID --watch"): glibc's getopt_long permutes argv for that.
 */
static void getopt_reset(void)
{
	optind = 0; /* glibc: start afresh */
	opterr = 0;
}

static int unknown_option(const char *cmd, char **argv, const char *usage)
{
	fprintf(stderr, "pocalert %s: unknown option or missing value: %s\n",
		cmd, argv[optind - 1]);
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

/* ---- send ---- */

static const char send_usage[] =
	"usage: pocalert send --title TITLE (--body TEXT | --body-file FILE)\n"
	"                     --type TYPE --severity SEVERITY --tlp LEVEL\n"
	"                     --to TARGET[,TARGET...] [--drill]\n"
	"                     [--policy NAME] [--mode normal|large-scale] "
	"[--json]\n"
	"       pocalert send --cap FILE [--json]\n"
	"\n"
	"Issues an alert through the running daemon and prints its id.\n"
	"  --title      1 to 200 characters, one line\n"
	"  --body       the text; --body-file reads it from FILE (- for stdin),\n"
	"               UTF-8, at most 64 KiB\n"
	"  --type       early-warning, incident, attack-method, recovery,\n"
	"               damage, response-status, cooperation-request, info\n"
	"  --severity   critical, high, medium, low\n"
	"  --tlp        CLEAR, GREEN, AMBER, AMBER+STRICT, RED\n"
	"  --to         all, sector:NAME or org:ID; repeat or separate with "
	"commas\n"
	"               (TLP:RED only to org:ID)\n"
	"  --drill      an exercise: marked as such everywhere\n"
	"  --cap        the alert is the OASIS CAP 1.2 message in FILE (- for\n"
	"               stdin); the same message twice is one alert\n"
	"  --json       print the API's reply instead of the id\n"
	"The token comes from $POCALERT_TOKEN, the API's URL from the config's\n"
	"api_url.\n";

/*
 * Reads the body file (or stdin for "-") into *ret (malloc'd, caller
 * frees). Returns an exit status, having said what was wrong.
 */
static int read_body_file(const char *path, char **ret, size_t *ret_len)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct buf b = {0};
	char chunk[8192];
	size_t n, bad = 0;
	int status = CLI_EXIT_USAGE;

	if (f == NULL) {
		fprintf(stderr, "pocalert send: --body-file: %s: %s\n", path,
			strerror(errno));
		return CLI_EXIT_USAGE;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			status = CLI_EXIT_FAILURE;
			goto out;
		}
		/* A little slack for a BOM; the limit is checked below. */
		if (b.len > ALERT_BODY_MAX + 3)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "pocalert send: --body-file: %s: %s\n", path,
			strerror(errno));
		goto out;
	}
	/* Windows editors start UTF-8 files with a BOM; it is not text. */
	if (b.len >= 3 && memcmp(b.data, "\xEF\xBB\xBF", 3) == 0) {
		memmove(b.data, b.data + 3, b.len - 2);
		b.len -= 3;
	}
	if (b.len > ALERT_BODY_MAX) {
		fprintf(stderr,
			"pocalert send: body: %s is larger than %d bytes\n",
			path, ALERT_BODY_MAX);
		goto out;
	}
	if (!utf8_valid(b.data ? b.data : "", b.len, &bad)) {
		fprintf(stderr,
			"pocalert send: body: %s is not valid UTF-8 (byte %zu); "
			"convert it first, e.g. iconv -f CP932 -t UTF-8\n",
			path, bad);
		goto out;
	}
	*ret_len = b.len;
	*ret = buf_steal(&b);
	status = *ret ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
out:
	if (f != stdin)
		fclose(f);
	buf_free(&b);
	return status;
}

/* Adds name: value as a JSON string, refusing what is not UTF-8. */
static int set_string(json_t *o, const char *name, const char *value,
		      size_t len)
{
	json_t *s = json_stringn(value, len);

	if (s == NULL) {
		fprintf(stderr, "pocalert send: --%s is not valid UTF-8\n",
			name);
		return CLI_EXIT_USAGE;
	}
	json_object_set_new(o, name, s);
	return CLI_EXIT_OK;
}

/* Splits "a,b , c" into the targets array; an empty piece is an error. */
static int add_targets(json_t *arr, const char *list)
{
	const char *p = list;

	for (;;) {
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		json_t *s;

		while (len > 0 && *p == ' ') {
			p++;
			len--;
		}
		while (len > 0 && p[len - 1] == ' ')
			len--;
		if (len == 0) {
			fprintf(stderr,
				"pocalert send: --to: empty target in "
				"\"%s\"\n",
				list);
			return CLI_EXIT_USAGE;
		}
		s = json_stringn(p, len);
		if (s == NULL) {
			fprintf(stderr, "pocalert send: --to is not valid "
					"UTF-8\n");
			return CLI_EXIT_USAGE;
		}
		json_array_append_new(arr, s);
		if (end == NULL)
			return CLI_EXIT_OK;
		p = end + 1;
	}
}

struct send_args {
	const char *title, *body, *body_file, *type, *severity, *tlp;
	const char *policy, *mode;
	const char *cap; /* --cap FILE: nothing else but --json */
	json_t *targets;
	bool drill, json;
};

/* --cap carries the whole alert: any other alert option is a mistake. */
static int send_cap_only(const struct send_args *a)
{
	if (a->title || a->body || a->body_file || a->type || a->severity ||
	    a->tlp || a->policy || a->mode || a->drill ||
	    json_array_size(a->targets) > 0) {
		fprintf(stderr,
			"pocalert send: --cap takes the whole alert from "
			"the file; give no other alert option\n");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/*
 * Reads a CAP file (or stdin for "-") into *ret, NUL-terminated, as
 * bytes: the XML declares its own encoding, the daemon checks the rest.
 */
static int read_cap_file(const char *path, char **ret)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "rb");
	struct buf b = {0};
	char chunk[8192];
	size_t n;
	int status = CLI_EXIT_USAGE;

	if (f == NULL) {
		fprintf(stderr, "pocalert send: --cap: %s: %s\n", path,
			strerror(errno));
		return CLI_EXIT_USAGE;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n) < 0) {
			status = CLI_EXIT_FAILURE;
			goto out;
		}
		if (b.len > CAP_MAX_BYTES)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "pocalert send: --cap: %s: %s\n", path,
			strerror(errno));
		goto out;
	}
	if (b.len > CAP_MAX_BYTES) {
		fprintf(stderr,
			"pocalert send: --cap: %s is larger than %d "
			"bytes\n",
			path, CAP_MAX_BYTES);
		goto out;
	}
	if (b.len == 0 || memchr(b.data, '\0', b.len) != NULL) {
		fprintf(stderr, "pocalert send: --cap: %s is %s\n", path,
			b.len ? "not XML text (it holds NUL bytes)" : "empty");
		goto out;
	}
	*ret = buf_steal(&b);
	status = *ret ? CLI_EXIT_OK : CLI_EXIT_FAILURE;
out:
	if (f != stdin)
		fclose(f);
	buf_free(&b);
	return status;
}

static int send_parse(int argc, char **argv, struct send_args *a)
{
	static const struct option longopts[] = {
		{"title", required_argument, NULL, 't'},
		{"body", required_argument, NULL, 'b'},
		{"body-file", required_argument, NULL, 'f'},
		{"type", required_argument, NULL, 'y'},
		{"severity", required_argument, NULL, 's'},
		{"tlp", required_argument, NULL, 'l'},
		{"to", required_argument, NULL, 'o'},
		{"drill", no_argument, NULL, 'd'},
		{"policy", required_argument, NULL, 'p'},
		{"mode", required_argument, NULL, 'm'},
		{"json", no_argument, NULL, 'j'},
		{"cap", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	/* In the order the usage lists them. */
	static const struct {
		const char *name;
		size_t off;
	} required[] = {
		{"title", offsetof(struct send_args, title)},
		{"type", offsetof(struct send_args, type)},
		{"severity", offsetof(struct send_args, severity)},
		{"tlp", offsetof(struct send_args, tlp)},
	};
	int ch, status;

	getopt_reset();
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(send_usage, stdout);
			return -1;
		case 't':
			a->title = optarg;
			break;
		case 'b':
			a->body = optarg;
			break;
		case 'f':
			a->body_file = optarg;
			break;
		case 'y':
			a->type = optarg;
			break;
		case 's':
			a->severity = optarg;
			break;
		case 'l':
			a->tlp = optarg;
			break;
		case 'o':
			status = add_targets(a->targets, optarg);
			if (status != CLI_EXIT_OK)
				return status;
			break;
		case 'd':
			a->drill = true;
			break;
		case 'p':
			a->policy = optarg;
			break;
		case 'm':
			a->mode = optarg;
			break;
		case 'j':
			a->json = true;
			break;
		case 'c':
			a->cap = optarg;
			break;
		default:
			return unknown_option("send", argv, send_usage);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pocalert send: unexpected argument %s\n",
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (a->cap != NULL)
		return send_cap_only(a);
	if ((a->body != NULL) == (a->body_file != NULL)) {
		fprintf(stderr, "pocalert send: give exactly one of --body and "
				"--body-file\n");
		return CLI_EXIT_USAGE;
	}
	for (size_t i = 0; i < sizeof(required) / sizeof(required[0]); i++) {
		if (*(const char **)((char *)a + required[i].off) == NULL) {
			fprintf(stderr,
				"pocalert send: --%s is required (see "
				"--help)\n",
				required[i].name);
			return CLI_EXIT_USAGE;
		}
	}
	if (json_array_size(a->targets) == 0) {
		fprintf(stderr,
			"pocalert send: --to is required (see --help)\n");
		return CLI_EXIT_USAGE;
	}
	return CLI_EXIT_OK;
}

/* The request body from the arguments; *ret is the caller's. */
static int send_build(const struct send_args *a, json_t **ret)
{
	json_t *o = json_object();
	char *file_body = NULL;
	size_t file_len = 0;
	int status = CLI_EXIT_FAILURE;

	if (o == NULL)
		goto out;
	if (a->body_file != NULL) {
		status = read_body_file(a->body_file, &file_body, &file_len);
		if (status != CLI_EXIT_OK)
			goto out;
	}
	status = set_string(o, "title", a->title, strlen(a->title));
	if (status == CLI_EXIT_OK)
		status = file_body ? set_string(o, "body", file_body, file_len)
				   : set_string(o, "body", a->body,
						strlen(a->body));
	if (status == CLI_EXIT_OK)
		status = set_string(o, "type", a->type, strlen(a->type));
	if (status == CLI_EXIT_OK)
		status = set_string(o, "severity", a->severity,
				    strlen(a->severity));
	if (status == CLI_EXIT_OK)
		status = set_string(o, "tlp", a->tlp, strlen(a->tlp));
	if (status == CLI_EXIT_OK)
		json_object_set(o, "targets", a->targets);
	if (status == CLI_EXIT_OK && a->drill)
		json_object_set_new(o, "drill", json_true());
	if (status == CLI_EXIT_OK && a->policy != NULL)
		status = set_string(o, "policy", a->policy, strlen(a->policy));
	if (status == CLI_EXIT_OK && a->mode != NULL)
		status = set_string(o, "mode", a->mode, strlen(a->mode));
	if (status == CLI_EXIT_OK) {
		*ret = o;
		o = NULL;
	}
out:
	free(file_body);
	json_decref(o);
	return status;
}

/*
 * send --cap: the file as it is, application/cap+xml. 201 is a new
 * alert, 200 the one this message made before; both print its id. The
 * daemon's refusal already names the element's path, so it is printed
 * as it came.
 */
static int send_cap(const char *config, const struct send_args *a)
{
	struct client c = {0};
	struct client_reply r = {0};
	char *text = NULL;
	int status;

	status = read_cap_file(a->cap, &text);
	if (status != CLI_EXIT_OK)
		return status;
	status = client_open(config, "send", &c);
	if (status != CLI_EXIT_OK)
		goto out;
	c.body_type = "Content-Type: application/cap+xml";
	status = client_call(&c, "POST", "/api/v1/alerts", text, &r);
	if (status != CLI_EXIT_OK)
		goto out;
	if (r.status == 400 &&
	    json_is_string(json_object_get(r.json, "error"))) {
		fprintf(stderr, "pocalert send: %s: %s\n", a->cap,
			jstr(r.json, "error", ""));
		status = CLI_EXIT_USAGE;
	} else if (r.status != 201 && r.status != 200) {
		status = client_fail(&c, &r);
	} else if (a->json) {
		status = print_json(r.json);
	} else if (jstr(r.json, "id", NULL) != NULL) {
		printf("%s\n", jstr(r.json, "id", NULL));
	} else if (json_is_array(json_object_get(r.json, "cancelled"))) {
		/* A CAP Cancel: what it cancelled, and what had already ended. */
		size_t i;
		json_t *v;

		json_array_foreach(json_object_get(r.json, "cancelled"), i, v)
			printf("cancelled %s\n", json_string_value(v));
		json_array_foreach(json_object_get(r.json, "finished"), i, v)
			printf("finished %s\n", json_string_value(v));
	} else {
		fprintf(stderr, "pocalert send: the API accepted the alert but "
				"sent no id\n");
		status = CLI_EXIT_FAILURE;
	}
out:
	client_reply_free(&r);
	client_close(&c);
	free(text);
	return status;
}

int cli_send(const char *config, int argc, char **argv)
{
	struct send_args a = {.targets = json_array()};
	struct client c = {0};
	struct client_reply r = {0};
	json_t *req = NULL;
	char *text = NULL;
	int status;

	status = send_parse(argc, argv, &a);
	if (status == -1) {
		status = CLI_EXIT_OK; /* --help */
		goto out;
	}
	if (status != CLI_EXIT_OK)
		goto out;
	if (a.cap != NULL) {
		status = send_cap(config, &a);
		goto out;
	}
	status = send_build(&a, &req);
	if (status != CLI_EXIT_OK)
		goto out;
	text = json_dumps(req, JSON_COMPACT);
	if (text == NULL) {
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	status = client_open(config, "send", &c);
	if (status != CLI_EXIT_OK)
		goto out;
	status = client_call(&c, "POST", "/api/v1/alerts", text, &r);
	if (status != CLI_EXIT_OK)
		goto out;
	if (r.status != 201) {
		status = client_fail(&c, &r);
		goto out;
	}
	if (a.json) {
		status = print_json(r.json);
	} else if (jstr(r.json, "id", NULL) != NULL) {
		printf("%s\n", jstr(r.json, "id", NULL));
	} else {
		fprintf(stderr, "pocalert send: the API accepted the alert but "
				"sent no id\n");
		status = CLI_EXIT_FAILURE;
	}
out:
	client_reply_free(&r);
	client_close(&c);
	free(text);
	json_decref(req);
	json_decref(a.targets);
	return status;
}

/* ---- status ---- */

static const char status_usage[] =
	"usage: pocalert status ID [--json] [--watch] [--timeline]\n"
	"\n"
	"Prints an alert's state: its counts, then one line per organisation\n"
	"with its state and the states of its deliveries.\n"
	"  --json      the API's JSON instead\n"
	"  --watch     follow the counts every second until every delivery\n"
	"              has settled, then print the status\n"
	"  --timeline  the alert's timeline instead, one event a line:\n"
	"              TIME  ACTOR  KIND  ORG  DELIVERY  DETAIL (with --json,\n"
	"              the API's JSON of it)\n";

/* "TLP:AMBER" whether the store kept "AMBER" or "TLP:AMBER". */
static void print_tlp(const char *t)
{
	printf("%s%s", strncmp(t, "TLP:", 4) == 0 ? "" : "TLP:", t);
}

static void print_counts(json_t *counts)
{
	printf("organisations %lld, deliveries %lld: sent %lld, failed %lld, "
	       "pending %lld, skipped %lld, cancelled %lld\n",
	       (long long)jint(counts, "organisations"),
	       (long long)jint(counts, "deliveries"),
	       (long long)jint(counts, "sent"),
	       (long long)jint(counts, "failed"),
	       (long long)jint(counts, "pending"),
	       (long long)jint(counts, "skipped"),
	       (long long)jint(counts, "cancelled"));
}

/*
 * One organisation's deliveries as counts per channel and state, in the
 * order first seen: "[mail 3 sent, voice 2 skipped]". A list of every
 * delivery would run off the screen after two escalation steps.
 */
static void print_delivery_summary(json_t *dels)
{
	struct {
		const char *channel, *state;
		int n;
	} seen[32];
	size_t n_seen = 0, k;
	json_t *d;

	json_array_foreach(dels, k, d)
	{
		const char *ch = jstr(d, "channel", "?");
		const char *st = jstr(d, "state", "?");
		size_t i;

		for (i = 0; i < n_seen; i++)
			if (strcmp(seen[i].channel, ch) == 0 &&
			    strcmp(seen[i].state, st) == 0)
				break;
		if (i == n_seen) {
			if (n_seen == sizeof(seen) / sizeof(seen[0]))
				continue;
			seen[n_seen].channel = ch;
			seen[n_seen].state = st;
			seen[n_seen++].n = 0;
		}
		seen[i].n++;
	}
	printf("  [");
	for (size_t i = 0; i < n_seen; i++)
		printf("%s%s %d %s", i ? ", " : "", seen[i].channel, seen[i].n,
		       seen[i].state);
	printf("]\n");
}

static void print_status_text(json_t *j)
{
	json_t *orgs = json_object_get(j, "organisations"), *o;
	size_t i;

	printf("alert %s%s\n", jstr(j, "id", "?"),
	       json_is_true(json_object_get(j, "drill")) ? "  [DRILL]" : "");
	printf("  %s\n  %s, severity %s, ", jstr(j, "title", ""),
	       jstr(j, "type", "?"), jstr(j, "severity", "?"));
	print_tlp(jstr(j, "tlp", "?"));
	printf(", %s\n  created %s by %s", jstr(j, "state", "?"),
	       jstr(j, "created_at", "?"), jstr(j, "created_by", "?"));
	if (jstr(j, "finished_at", NULL))
		printf(", finished %s", jstr(j, "finished_at", NULL));
	printf("\n  ");
	print_counts(json_object_get(j, "counts"));
	if (json_array_size(orgs) > 0)
		putchar('\n');
	json_array_foreach(orgs, i, o)
	{
		json_t *dels = json_object_get(o, "deliveries");

		printf("  %-20s %-13s %s", jstr(o, "id", "?"),
		       jstr(o, "state", "?"), jstr(o, "name", ""));
		if (jstr(o, "acknowledged_by", NULL))
			printf(" (by %s)", jstr(o, "acknowledged_by", NULL));
		print_delivery_summary(dels);
	}
}

/*
 * Fetches alert id's resource at suffix ("" for the status object,
 * "/timeline" for its array of events) and checks the JSON's type.
 * Returns an exit status; *ret is the caller's.
 */
static int alert_fetch(struct client *c, const char *id, const char *suffix,
		       json_type want, json_t **ret)
{
	struct client_reply r;
	char *path = alert_path(c, id, suffix);
	int status;

	if (path == NULL)
		return CLI_EXIT_FAILURE;
	status = client_call(c, "GET", path, NULL, &r);
	free(path);
	if (status != CLI_EXIT_OK)
		return status;
	if (r.status == 404) {
		fprintf(stderr, "pocalert %s: no alert %s\n", c->cmd, id);
		status = CLI_EXIT_USAGE;
	} else if (r.status != 200 || r.json == NULL ||
		   json_typeof(r.json) != want) {
		status = client_fail(c, &r);
	} else {
		*ret = json_incref(r.json);
	}
	client_reply_free(&r);
	return status;
}

static int timeline_fetch(struct client *c, const char *id, json_t **ret)
{
	return alert_fetch(c, id, "/timeline", JSON_ARRAY, ret);
}

/* A timeline field as text: "-" when absent, times as RFC 3339. */
static const char *event_field(json_t *ev, const char *key, char *tmp,
			       size_t len)
{
	json_t *v = json_object_get(ev, key);

	if (json_is_string(v) && json_string_length(v) > 0)
		return json_string_value(v);
	if (json_is_integer(v) && strcmp(key, "at") == 0) {
		time_format_rfc3339(json_integer_value(v), tmp, len);
		return tmp;
	}
	if (json_is_integer(v)) {
		snprintf(tmp, len, "%lld", (long long)json_integer_value(v));
		return tmp;
	}
	return "-";
}

/* Prints s with control characters as spaces: one event, one line. */
static void print_oneline(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? ' ' : *s);
}

/* The timeline as aligned columns, the detail last (it may be long). */
static void print_timeline_text(json_t *events)
{
	static const char *const keys[] = {"at", "actor", "kind", "org",
					   "delivery"};
	static const char *const heads[] = {"TIME", "ACTOR", "KIND", "ORG",
					    "DELIVERY"};
	int w[5];
	char tmp[64];
	json_t *ev;
	size_t i, k;

	for (k = 0; k < 5; k++)
		w[k] = (int)strlen(heads[k]);
	json_array_foreach(events, i, ev)
	{
		for (k = 0; k < 5; k++) {
			int n = (int)strlen(
				event_field(ev, keys[k], tmp, sizeof(tmp)));

			w[k] = n > w[k] ? n : w[k];
		}
	}
	for (k = 0; k < 5; k++)
		printf("%-*s  ", w[k], heads[k]);
	printf("DETAIL\n");
	json_array_foreach(events, i, ev)
	{
		for (k = 0; k < 5; k++) {
			const char *v =
				event_field(ev, keys[k], tmp, sizeof(tmp));

			print_oneline(v);
			printf("%*s  ", w[k] - (int)strlen(v), "");
		}
		print_oneline(jstr(ev, "detail", ""));
		putchar('\n');
	}
	if (json_array_size(events) == 0)
		printf("no events\n");
}

static int status_fetch(struct client *c, const char *id, json_t **ret)
{
	return alert_fetch(c, id, "", JSON_OBJECT, ret);
}

/*
 * Follows the counts once a second until nothing is pending. On a
 * terminal one line is redrawn with a progress bar of settled / total;
 * elsewhere (a log, a pipe) one line per second, each stamped. With
 * --json the progress goes to stderr, so stdout stays one JSON document.
 */
static int status_watch(struct client *c, const char *id, bool json,
			json_t **ret)
{
	FILE *out = json ? stderr : stdout;
	bool tty = isatty(fileno(out));
	json_t *j = NULL;
	int status;

	for (;;) {
		json_t *counts;
		long long total, pending, settled;

		json_decref(j);
		j = NULL;
		status = status_fetch(c, id, &j);
		if (status != CLI_EXIT_OK)
			break;
		counts = json_object_get(j, "counts");
		total = jint(counts, "deliveries");
		pending = jint(counts, "pending");
		settled = total - pending;
		{
			char line[256];
			int n = 0;

			if (tty) {
				int fill = total > 0 ? (int)(settled *
							     WATCH_BAR_WIDTH /
							     total)
						     : WATCH_BAR_WIDTH;

				n = snprintf(line, sizeof(line),
					     "[%.*s%*s] %lld/%lld settled  ",
					     fill,
					     "##############################",
					     WATCH_BAR_WIDTH - fill, "",
					     settled, total);
			} else {
				char now[16];
				time_t t = time(NULL);
				struct tm tm;

				localtime_r(&t, &tm);
				strftime(now, sizeof(now), "%H:%M:%S", &tm);
				n = snprintf(line, sizeof(line),
					     "%s %lld/%lld settled  ", now,
					     settled, total);
			}
			if (n < 0 || (size_t)n >= sizeof(line))
				n = 0;
			snprintf(line + n, sizeof(line) - (size_t)n,
				 "sent %lld  failed %lld  pending %lld  "
				 "skipped %lld  cancelled %lld",
				 (long long)jint(counts, "sent"),
				 (long long)jint(counts, "failed"), pending,
				 (long long)jint(counts, "skipped"),
				 (long long)jint(counts, "cancelled"));
			if (tty) {
				/*
				 * Cut to the terminal's width: a wrapped
				 * line cannot be redrawn in place.
				 */
				struct winsize ws;
				size_t cols = 80;

				if (ioctl(fileno(out), TIOCGWINSZ, &ws) == 0 &&
				    ws.ws_col > 1)
					cols = ws.ws_col;
				if (strlen(line) > cols - 1)
					line[cols - 1] = '\0';
				/* Back to column 0, clear the line, redraw. */
				fprintf(out, "\r\033[K%s", line);
			} else {
				fprintf(out, "%s\n", line);
			}
		}
		fflush(out);
		if (pending == 0)
			break;
		sleep(1);
	}
	if (tty)
		fputc('\n', out);
	if (status == CLI_EXIT_OK)
		*ret = j;
	else
		json_decref(j);
	return status;
}

int cli_status(const char *config, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"watch", no_argument, NULL, 'w'},
		{"timeline", no_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	bool json = false, watch = false, timeline = false;
	struct client c = {0};
	json_t *j = NULL;
	const char *id;
	int ch, status;

	getopt_reset();
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(status_usage, stdout);
			return CLI_EXIT_OK;
		case 'j':
			json = true;
			break;
		case 'w':
			watch = true;
			break;
		case 't':
			timeline = true;
			break;
		default:
			return unknown_option("status", argv, status_usage);
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "pocalert status: %s\n",
			argc - optind < 1 ? "missing alert ID"
					  : "takes one alert ID");
		fputs(status_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	id = argv[optind];
	if (timeline && watch) {
		fprintf(stderr, "pocalert status: --timeline and --watch do "
				"not go together\n");
		return CLI_EXIT_USAGE;
	}
	status = client_open(config, "status", &c);
	if (status != CLI_EXIT_OK)
		goto out;
	if (timeline) {
		status = timeline_fetch(&c, id, &j);
		if (status != CLI_EXIT_OK)
			goto out;
		if (json)
			status = print_json(j);
		else
			print_timeline_text(j);
		goto out;
	}
	status = watch ? status_watch(&c, id, json, &j)
		       : status_fetch(&c, id, &j);
	if (status != CLI_EXIT_OK)
		goto out;
	if (json)
		status = print_json(j);
	else
		print_status_text(j);
out:
	json_decref(j);
	client_close(&c);
	return status;
}

/* ---- alerts ---- */

static const char alerts_usage[] =
	"usage: pocalert alerts [--limit N] [--json]\n"
	"\n"
	"Lists recent alerts, newest first (default 20, at most 1000).\n";

int cli_alerts(const char *config, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"limit", required_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct client c = {0};
	struct client_reply r = {0};
	bool json = false;
	long limit = 20;
	char path[64], *end;
	json_t *a;
	size_t i;
	int ch, status, idw = 2;

	getopt_reset();
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(alerts_usage, stdout);
			return CLI_EXIT_OK;
		case 'j':
			json = true;
			break;
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || limit < 1 ||
			    limit > 1000) {
				fprintf(stderr, "pocalert alerts: --limit: "
						"a number from 1 to 1000\n");
				return CLI_EXIT_USAGE;
			}
			break;
		default:
			return unknown_option("alerts", argv, alerts_usage);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "pocalert alerts: unexpected argument %s\n",
			argv[optind]);
		return CLI_EXIT_USAGE;
	}
	status = client_open(config, "alerts", &c);
	if (status != CLI_EXIT_OK)
		goto out;
	snprintf(path, sizeof(path), "/api/v1/alerts?limit=%ld", limit);
	status = client_call(&c, "GET", path, NULL, &r);
	if (status != CLI_EXIT_OK)
		goto out;
	if (r.status != 200 || !json_is_array(r.json)) {
		status = client_fail(&c, &r);
		goto out;
	}
	if (json) {
		status = print_json(r.json);
		goto out;
	}
	json_array_foreach(r.json, i, a)
	{
		int w = (int)strlen(jstr(a, "id", ""));

		idw = w > idw ? w : idw;
	}
	/* Titles last: Japanese text is wider than its character count. */
	printf("%-*s  %-29s  %-9s  %-16s  %-8s  %5s  %11s  %6s  %7s  %s\n", idw,
	       "ID", "CREATED", "STATE", "TLP", "SEVERITY", "ORGS",
	       "SENT/TOTAL", "FAILED", "PENDING", "TITLE");
	json_array_foreach(r.json, i, a)
	{
		json_t *n = json_object_get(a, "counts");
		char tlp[32], sent[32];
		const char *t = jstr(a, "tlp", "?");

		snprintf(tlp, sizeof(tlp), "%s%s",
			 strncmp(t, "TLP:", 4) == 0 ? "" : "TLP:", t);
		snprintf(sent, sizeof(sent), "%lld/%lld",
			 (long long)jint(n, "sent"),
			 (long long)jint(n, "deliveries"));
		printf("%-*s  %-29s  %-9s  %-16s  %-8s  %5lld  %11s  %6lld  "
		       "%7lld  %s%s\n",
		       idw, jstr(a, "id", "?"), jstr(a, "created_at", "?"),
		       jstr(a, "state", "?"), tlp, jstr(a, "severity", "?"),
		       (long long)jint(n, "organisations"), sent,
		       (long long)jint(n, "failed"),
		       (long long)jint(n, "pending"),
		       json_is_true(json_object_get(a, "drill")) ? "[DRILL] "
								 : "",
		       jstr(a, "title", ""));
	}
	if (json_array_size(r.json) == 0)
		printf("no alerts\n");
out:
	client_reply_free(&r);
	client_close(&c);
	return status;
}

/* ---- cancel ---- */

static const char cancel_usage[] =
	"usage: pocalert cancel ID [--notify] [--json]\n"
	"\n"
	"Stops an alert: its waiting deliveries are cancelled and its\n"
	"escalation ends.\n"
	"  --notify  send a cancellation notice to everyone already notified\n"
	"  --json    print the alert's status as JSON afterwards\n";

int cli_cancel(const char *config, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"notify", no_argument, NULL, 'n'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct client c = {0};
	struct client_reply r = {0};
	bool notify = false, json = false;
	const char *id;
	char *path = NULL;
	int ch, status;

	getopt_reset();
	while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (ch) {
		case 'h':
			fputs(cancel_usage, stdout);
			return CLI_EXIT_OK;
		case 'n':
			notify = true;
			break;
		case 'j':
			json = true;
			break;
		default:
			return unknown_option("cancel", argv, cancel_usage);
		}
	}
	if (argc - optind != 1) {
		fprintf(stderr, "pocalert cancel: %s\n",
			argc - optind < 1 ? "missing alert ID"
					  : "takes one alert ID");
		fputs(cancel_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	id = argv[optind];
	status = client_open(config, "cancel", &c);
	if (status != CLI_EXIT_OK)
		goto out;
	path = alert_path(&c, id, "/cancel");
	if (path == NULL) {
		status = CLI_EXIT_FAILURE;
		goto out;
	}
	status = client_call(
		&c, "POST", path,
		notify ? "{\"notify\":true}" : "{\"notify\":false}", &r);
	if (status != CLI_EXIT_OK)
		goto out;
	if (r.status == 404) {
		fprintf(stderr, "pocalert cancel: no alert %s\n", id);
		status = CLI_EXIT_USAGE;
	} else if (r.status == 409) {
		fprintf(stderr,
			"pocalert cancel: alert %s has already "
			"finished; nothing to cancel\n",
			id);
		status = CLI_EXIT_USAGE;
	} else if (r.status != 200) {
		status = client_fail(&c, &r);
	} else if (json) {
		status = print_json(r.json);
	} else {
		json_t *n = json_object_get(r.json, "counts");

		printf("alert %s cancelled", id);
		if (n != NULL)
			printf(": %lld deliveries sent, %lld cancelled",
			       (long long)jint(n, "sent"),
			       (long long)jint(n, "cancelled"));
		printf("%s\n", notify ? "; cancellation notices are on their "
					"way"
				      : "");
	}
out:
	free(path);
	client_reply_free(&r);
	client_close(&c);
	return status;
}
