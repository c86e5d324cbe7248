/*
 * Integration test of the smtp channel driver against a real SMTP server:
 * test/servers/smtp_server.py (aiosmtpd), started here on 127.0.0.1 with
 * port 0 and a fresh Maildir, and stopped at the end. It prints its port,
 * then the moments a slow message's reply starts and ends: the stories
 * wait on those lines, never on the clock. Each case is a
 * story: a channel configured from a libconfuse section, messages sent on
 * a libevent loop, then the completions the driver reported and the files
 * the server saved (with the envelope it saw in X-Test-* headers).
 *
 * The server's faults come from the recipient's local part: tempfail...
 * (451 once), permfail... (550), datafail... (554 after DATA) and slow...
 * (the DATA reply two seconds late).
 */
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "channels/channel.h"
#include "common/buf.h"
#include "common/crypto.h"
#include "common/utf8.h"

#define SLOW_SECONDS "2"
#define FROM "内閣サイバー警報 <alert@nisc.example.jp>"
#define TITLE "重要インフラへの攻撃について"

static pid_t server_pid = -1;
static int server_port;
static int server_out = -1; /* the server's stdout: port, then events */
static char workdir[64];
static char maildir[128];
static struct event_base *base;

/* --- the server ----------------------------------------------------------- */

/*
 * The next line the server printed, without its newline, within seconds.
 * Returns false at its end or on time out. Reads a byte at a time: what
 * follows the line stays in the pipe for the next call.
 */
static bool server_line(char *line, size_t size, int seconds)
{
	struct pollfd pfd = {.fd = server_out, .events = POLLIN};
	size_t n = 0;

	while (n + 1 < size) {
		char c;

		if (poll(&pfd, 1, seconds * 1000) != 1 ||
		    read(server_out, &c, 1) != 1)
			return false;
		if (c == '\n')
			break;
		line[n++] = c;
	}
	line[n] = '\0';
	return true;
}

/*
 * Waits until the server prints want ("slow-data ADDRESS"); the lines
 * before it are other stories' events. A story blocked on a worker
 * thread waits here, with the loop idle, as it would on the clock.
 */
static void server_wait(const char *want)
{
	char line[256];

	while (server_line(line, sizeof(line), 30))
		if (strcmp(line, want) == 0)
			return;
	fail_msg("smtp_server.py never said \"%s\"", want);
}

static int server_start(void **state)
{
	int fds[2];
	char line[64];

	(void)state;
	strcpy(workdir, "/tmp/pocalert-smtp-XXXXXX");
	if (mkdtemp(workdir) == NULL || pipe(fds) < 0)
		return -1;
	snprintf(maildir, sizeof(maildir), "%s/Maildir", workdir);
	server_pid = fork();
	if (server_pid < 0)
		return -1;
	if (server_pid == 0) {
		/* If this test dies, its server goes with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		dup2(fds[1], STDOUT_FILENO);
		close(fds[0]);
		close(fds[1]);
		execl(PYTHON3, PYTHON3, SMTP_SERVER_PY, "--port", "0",
		      "--maildir", maildir, "--slow", SLOW_SECONDS, "--events",
		      (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	server_out = fds[0];
	if (!server_line(line, sizeof(line), 30)) {
		fprintf(stderr, "smtp_server.py did not print its port\n");
		return -1;
	}
	server_port = atoi(line);
	base = event_base_new();
	return server_port > 0 && base != NULL ? 0 : -1;
}

static void rm_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	char *p;

	if (d == NULL)
		return;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		/* Built on the heap: a fixed buffer could cut a deep path. */
		if (asprintf(&p, "%s/%s", path, e->d_name) < 0)
			break;
		if (e->d_type == DT_DIR)
			rm_dir(p);
		else
			unlink(p);
		free(p);
	}
	closedir(d);
	rmdir(path);
}

static int server_stop(void **state)
{
	int status = -1;

	(void)state;
	if (base != NULL)
		event_base_free(base);
	if (server_pid > 0) {
		kill(server_pid, SIGTERM);
		waitpid(server_pid, &status, 0);
	}
	if (server_out >= 0)
		close(server_out);
	rm_dir(workdir);
	/* The server must leave cleanly on SIGTERM. */
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

/*
 * A port on 127.0.0.1 that nobody listens on, held by *ret_fd until the
 * caller closes it: bound but never listening, so a connection is refused
 * and no other process can take the port in the meantime.
 */
static int dead_port(int *ret_fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	socklen_t len = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &len), 0);
	*ret_fd = fd;
	return ntohs(sa.sin_port);
}

/* --- channels and completions ----------------------------------------- */

/* What one completion reported. */
struct rec {
	int calls;
	enum channel_status status;
	int code;
	char detail[512];
	char gateway_id[128];
};

static int pending; /* completions still expected */

static void on_done(void *arg, const struct channel_outcome *out)
{
	struct rec *r = arg;

	r->calls++;
	r->status = out->status;
	r->code = out->code;
	assert_non_null(out->detail);
	snprintf(r->detail, sizeof(r->detail), "%s", out->detail);
	snprintf(r->gateway_id, sizeof(r->gateway_id), "%s",
		 out->gateway_id != NULL ? out->gateway_id : "");
	pending--;
}

static void on_timeout(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	*(bool *)arg = true;
}

/* Runs the loop until every expected completion came, or seconds pass. */
static void run_loop(int seconds)
{
	struct timeval tv = {.tv_sec = seconds};
	bool late = false;
	struct event *t = evtimer_new(base, on_timeout, &late);

	evtimer_add(t, &tv);
	while (pending > 0 && !late)
		event_base_loop(base, EVLOOP_ONCE);
	event_free(t);
	assert_false(late);
}

/*
 * A channel "mail" configured from the settings text, as the engine does
 * it: the driver's options (and `driver`) in a titled section.
 */
static struct channel *channel_open(const char *settings, int *ret,
				    struct diag_list *diags)
{
	const struct channel_driver *drv = channel_driver_find("smtp");
	cfg_opt_t opts[32] = {CFG_STR("driver", NULL, CFGF_NONE)};
	cfg_opt_t root[] = {CFG_SEC("channel", opts, CFGF_MULTI | CFGF_TITLE),
			    CFG_END()};
	struct channel *ch;
	char *text;
	cfg_t *cfg;
	size_t n = 1;

	assert_non_null(drv);
	for (const cfg_opt_t *o = drv->options; o->name != NULL; o++)
		opts[n++] = *o;
	cfg = cfg_init(root, CFGF_NONE);
	assert_true(asprintf(&text,
			     "channel \"mail\" {\n  driver = \"smtp\"\n%s\n}\n",
			     settings) > 0);
	assert_int_equal(cfg_parse_buf(cfg, text), CFG_SUCCESS);
	ch = calloc(1, sizeof(*ch));
	ch->driver = drv;
	ch->name = strdup("mail");
	*ret = channel_configure(ch, cfg_getnsec(cfg, "channel", 0),
				 "test.conf", diags);
	cfg_free(cfg);
	free(text);
	return ch;
}

/* A started channel on the test server with these extra settings. */
static struct channel *channel_up(const char *extra)
{
	struct diag_list diags = {0};
	struct channel *ch;
	char *settings;
	int r;

	assert_true(asprintf(&settings,
			     "  host = \"127.0.0.1\"\n  port = %d\n"
			     "  from = \"" FROM "\"\n  timeout = 10\n%s",
			     server_port, extra) > 0);
	ch = channel_open(settings, &r, &diags);
	diag_print(&diags, stderr);
	assert_int_equal(r, 0);
	assert_int_equal(diags.n, 0);
	assert_int_equal(channel_start(ch, base), 0);
	free(settings);
	return ch;
}

static void channel_close(struct channel *ch)
{
	channel_stop(ch);
	channel_free_priv(ch);
	free(ch->name);
	free(ch);
}

static struct channel_message message(const char *key, const char *address)
{
	struct channel_message m = {
		.key = key,
		.address = address,
		.charset = "utf-8",
		.language = "ja",
		.alert_id = "A-2025-0042",
		.title = TITLE,
		.body = "VPN 装置の脆弱性が悪用されています。",
		.type = "incident",
		.severity = "critical",
		.tlp = TLP_AMBER,
		.org_name = "電力ISAC",
		.contact_name = "山田 太郎",
		.ack_url = "https://pocalert.example.jp/ack/T",
	};
	return m;
}

/* Sends and checks the completion did not come from inside send(). */
static void send_one(struct channel *ch, const struct channel_message *m,
		     struct rec *r)
{
	assert_int_equal(channel_send(ch, m, on_done, r), 0);
	assert_int_equal(r->calls, 0);
	pending++;
}

/* --- the Maildir ----------------------------------------------------------- */

struct mail {
	char *text;
};

/* Every message the server saved so far; *n gets their number. */
static struct mail *maildir_read(size_t *n)
{
	char dir[256], path[512];
	struct mail *m = NULL;
	struct dirent *e;
	DIR *d;

	*n = 0;
	snprintf(dir, sizeof(dir), "%s/new", maildir);
	assert_non_null(d = opendir(dir));
	while ((e = readdir(d)) != NULL) {
		struct buf b = {0};
		char chunk[4096];
		size_t got;
		FILE *f;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		assert_non_null(f = fopen(path, "rb"));
		while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0)
			buf_append(&b, chunk, got);
		fclose(f);
		m = realloc(m, (*n + 1) * sizeof(*m));
		m[(*n)++].text = buf_steal(&b);
	}
	closedir(d);
	return m;
}

static void maildir_free(struct mail *m, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(m[i].text);
	free(m);
}

/* The unfolded value of the first header name, or NULL. */
static char *header(const char *text, const char *name)
{
	size_t n = strlen(name);
	const char *end = strstr(text, "\r\n\r\n");

	for (const char *p = text; p != NULL && p < end;) {
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			struct buf b = {0};
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			buf_append(&b, "", 0);
			for (; v < end + 2; v++) {
				if (v[0] == '\r' && v[1] == '\n') {
					if (v[2] != ' ' && v[2] != '\t')
						break;
					v++;
					continue;
				}
				buf_append(&b, v, 1);
			}
			return buf_steal(&b);
		}
		p = strstr(p, "\r\n");
		p = p != NULL ? p + 2 : NULL;
	}
	return NULL;
}

/* The saved messages whose envelope recipient is addr. */
static size_t count_to(struct mail *m, size_t n, const char *addr,
		       const char **ret_text)
{
	size_t count = 0;

	for (size_t i = 0; i < n; i++) {
		char *to = header(m[i].text, "X-Test-Envelope-To");

		if (to != NULL && strcmp(to, addr) == 0) {
			count++;
			if (ret_text != NULL)
				*ret_text = m[i].text;
		}
		free(to);
	}
	return count;
}

/* RFC 2047 "B" words in UTF-8 decoded, white space between words dropped. */
static char *decode_words(const char *v)
{
	struct buf b = {0};
	bool after_word = false;

	buf_append(&b, "", 0);
	while (*v != '\0') {
		size_t sp = strspn(v, " "), len;
		const char *w = v + sp;

		len = strcspn(w, " ");
		if (len > 12 && strncmp(w, "=?UTF-8?B?", 10) == 0 &&
		    strncmp(w + len - 2, "?=", 2) == 0) {
			char *b64 = strndup(w + 10, len - 12);
			size_t rawlen;
			uint8_t *raw = crypto_base64_decode(b64, &rawlen);

			assert_non_null(raw);
			assert_true(utf8_valid((char *)raw, rawlen, NULL));
			if (!after_word)
				buf_append(&b, v, sp);
			buf_append(&b, raw, rawlen);
			free(raw);
			free(b64);
			after_word = true;
		} else {
			buf_append(&b, v, sp + len);
			after_word = false;
		}
		v = w + len;
	}
	return buf_steal(&b);
}

/* The base64 body, decoded. */
static char *body(const char *text)
{
	const char *p = strstr(text, "\r\n\r\n") + 4;
	struct buf b = {0};
	size_t len;
	char *out;

	for (; *p != '\0'; p++)
		if (*p != '\r' && *p != '\n')
			buf_append(&b, p, 1);
	out = (char *)crypto_base64_decode(b.data, &len);
	assert_non_null(out);
	out = realloc(out, len + 1);
	out[len] = '\0';
	buf_free(&b);
	return out;
}

/* --- the stories ---------------------------------------------------------- */

/*
 * Fifty messages to fifty recipients over four workers: each arrives
 * exactly once, with its key as ENVID and in its Message-ID, and the
 * sessions carry several messages each.
 */
static void test_fifty_messages(void **state)
{
	struct channel *ch = channel_up("  workers = 4\n  batch = 10\n");
	struct rec recs[50] = {0};
	char keys[50][32], addrs[50][64];
	size_t n, sessions = 0;
	char *seen[50] = {0};
	struct mail *m;

	(void)state;
	for (int i = 0; i < 50; i++) {
		struct channel_message msg;

		snprintf(keys[i], sizeof(keys[i]), "fifty-%02d", i);
		snprintf(addrs[i], sizeof(addrs[i]), "poc-%02d@example.jp", i);
		msg = message(keys[i], addrs[i]);
		send_one(ch, &msg, &recs[i]);
	}
	assert_int_equal(channel_in_flight(ch), 50);
	run_loop(60);
	assert_int_equal(channel_in_flight(ch), 0);

	m = maildir_read(&n);
	for (int i = 0; i < 50; i++) {
		const char *text = NULL;
		char *v, want[4096];

		assert_int_equal(recs[i].calls, 1);
		assert_int_equal(recs[i].status, CHANNEL_OK);
		assert_int_equal(recs[i].code, 250);
		assert_int_equal(count_to(m, n, addrs[i], &text), 1);
		/* The gateway id is the server's queue id. */
		v = header(text, "X-Test-Queue-Id");
		assert_string_equal(recs[i].gateway_id, v);
		free(v);
		/* DSN: the key is the ENVID; headers only come back. */
		v = header(text, "X-Test-Envelope-Mail-Options");
		snprintf(want, sizeof(want), "ENVID=%s", keys[i]);
		assert_non_null(strstr(v, want));
		assert_non_null(strstr(v, "RET=HDRS"));
		free(v);
		v = header(text, "X-Test-Envelope-Rcpt-Options");
		assert_non_null(strstr(v, "NOTIFY=FAILURE,DELAY"));
		snprintf(want, sizeof(want), "ORCPT=rfc822;%s", addrs[i]);
		assert_non_null(strstr(v, want));
		free(v);
		v = header(text, "Message-ID");
		snprintf(want, sizeof(want), "<%s@nisc.example.jp>", keys[i]);
		assert_string_equal(v, want);
		free(v);
		v = header(text, "X-Test-Envelope-From");
		assert_string_equal(v, "alert@nisc.example.jp");
		free(v);
		/* Count the sessions the fifty came in. */
		v = header(text, "X-Test-Session");
		for (size_t s = 0; s < sessions && v != NULL; s++) {
			if (strcmp(seen[s], v) == 0) {
				free(v);
				v = NULL;
			}
		}
		if (v != NULL)
			seen[sessions++] = v;
	}
	fprintf(stderr, "# 50 messages in %zu sessions\n", sessions);
	assert_true(sessions < 50);
	for (size_t s = 0; s < sessions; s++)
		free(seen[s]);
	maildir_free(m, n);
	channel_close(ch);
}

/*
 * A drill: the subject decodes to the expected Japanese with the drill
 * marker first and the TLP label, the body opens with the drill line, and
 * the same key sent twice keeps its Message-ID.
 */
static void test_drill_and_stable_message_id(void **state)
{
	struct channel *ch = channel_up("");
	struct channel_message msg = message("same-key", "same-a@example.jp");
	struct rec a = {0}, b = {0};
	const char *ta = NULL, *tb = NULL;
	char *v, *ida, *idb;
	struct mail *m;
	size_t n;

	(void)state;
	msg.drill = true;
	send_one(ch, &msg, &a);
	run_loop(30);
	msg.address = "same-b@example.jp";
	send_one(ch, &msg, &b);
	run_loop(30);
	assert_int_equal(a.status, CHANNEL_OK);
	assert_int_equal(b.status, CHANNEL_OK);

	m = maildir_read(&n);
	assert_int_equal(count_to(m, n, "same-a@example.jp", &ta), 1);
	assert_int_equal(count_to(m, n, "same-b@example.jp", &tb), 1);
	ida = header(ta, "Message-ID");
	idb = header(tb, "Message-ID");
	assert_string_equal(ida, "<same-key@nisc.example.jp>");
	assert_string_equal(ida, idb);
	free(ida);
	free(idb);

	v = header(ta, "Subject");
	{
		char *subject = decode_words(v);

		assert_string_equal(subject,
				    "【訓練】[DRILL] [TLP:AMBER] " TITLE);
		free(subject);
	}
	free(v);
	v = header(ta, "From");
	{
		char *from = decode_words(v);

		assert_string_equal(from, FROM);
		free(from);
	}
	free(v);
	v = header(ta, "X-Pocalert-TLP");
	assert_string_equal(v, "TLP:AMBER");
	free(v);
	v = body(ta);
	assert_memory_equal(
		v,
		"【訓練】[DRILL] これは訓練です。This is a drill.\r\n"
		"TLP:AMBER\r\n",
		strlen("【訓練】[DRILL] これは訓練です。This is a "
		       "drill.\r\nTLP:AMBER\r\n"));
	free(v);
	maildir_free(m, n);
	channel_close(ch);
}

/* 451 on the first try is TEMPFAIL with the server's words; then OK. */
static void test_tempfail_then_ok(void **state)
{
	struct channel *ch = channel_up("");
	struct channel_message msg = message("temp-1", "tempfail-1@example.jp");
	struct rec first = {0}, second = {0};
	struct mail *m;
	size_t n;

	(void)state;
	send_one(ch, &msg, &first);
	run_loop(30);
	assert_int_equal(first.calls, 1);
	assert_int_equal(first.status, CHANNEL_TEMPFAIL);
	assert_int_equal(first.code, 451);
	assert_string_equal(first.detail,
			    "451 4.7.1 try again later (tempfail)");
	m = maildir_read(&n);
	assert_int_equal(count_to(m, n, "tempfail-1@example.jp", NULL), 0);
	maildir_free(m, n);

	send_one(ch, &msg, &second);
	run_loop(30);
	assert_int_equal(second.status, CHANNEL_OK);
	assert_int_equal(second.code, 250);
	m = maildir_read(&n);
	assert_int_equal(count_to(m, n, "tempfail-1@example.jp", NULL), 1);
	maildir_free(m, n);
	channel_close(ch);
}

/*
 * 550 to one recipient is PERMFAIL with the server's words, and does not
 * spoil the messages beside it in the same session; 554 after DATA is
 * PERMFAIL for that message.
 */
static void test_permfail(void **state)
{
	struct channel *ch = channel_up("  workers = 1\n");
	struct channel_message ok1 =
		message("perm-ok-1", "perm-ok-1@example.jp");
	struct channel_message bad = message("perm-1", "permfail-1@example.jp");
	struct channel_message data =
		message("data-1", "datafail-1@example.jp");
	struct channel_message ok2 =
		message("perm-ok-2", "perm-ok-2@example.jp");
	struct rec r[4] = {0};
	struct mail *m;
	size_t n;

	(void)state;
	send_one(ch, &ok1, &r[0]);
	send_one(ch, &bad, &r[1]);
	send_one(ch, &data, &r[2]);
	send_one(ch, &ok2, &r[3]);
	run_loop(30);
	assert_int_equal(r[0].status, CHANNEL_OK);
	assert_int_equal(r[1].status, CHANNEL_PERMFAIL);
	assert_int_equal(r[1].code, 550);
	assert_string_equal(r[1].detail, "550 5.1.1 <permfail-1@example.jp>: "
					 "mailbox unavailable (permfail)");
	assert_int_equal(r[2].status, CHANNEL_PERMFAIL);
	assert_int_equal(r[2].code, 554);
	assert_string_equal(r[2].detail,
			    "554 5.6.0 message refused (datafail)");
	assert_int_equal(r[3].status, CHANNEL_OK);
	m = maildir_read(&n);
	assert_int_equal(count_to(m, n, "permfail-1@example.jp", NULL), 0);
	assert_int_equal(count_to(m, n, "datafail-1@example.jp", NULL), 0);
	assert_int_equal(count_to(m, n, "perm-ok-2@example.jp", NULL), 1);
	maildir_free(m, n);
	channel_close(ch);
}

/* Nobody listening: TEMPFAIL, code 0, and the reason in words. */
static void test_connection_refused(void **state)
{
	struct diag_list diags = {0};
	struct channel_message msg = message("refused-1", "poc@example.jp");
	struct rec r = {0};
	struct channel *ch;
	char *settings, want[64];
	int fd, port = dead_port(&fd), ret;

	(void)state;
	assert_true(asprintf(&settings, "  port = %d\n  from = \"%s\"\n", port,
			     FROM) > 0);
	ch = channel_open(settings, &ret, &diags);
	assert_int_equal(ret, 0);
	assert_int_equal(channel_start(ch, base), 0);
	send_one(ch, &msg, &r);
	run_loop(30);
	assert_int_equal(r.status, CHANNEL_TEMPFAIL);
	assert_int_equal(r.code, 0);
	snprintf(want, sizeof(want), "connect 127.0.0.1:%d: ", port);
	assert_memory_equal(r.detail, want, strlen(want));
	assert_non_null(strstr(r.detail, "Connection refused"));
	free(settings);
	channel_close(ch);
	close(fd);
}

/* A reply later than the timeout: TEMPFAIL, code 0, "no reply". */
static void test_timeout(void **state)
{
	struct channel *ch = channel_up("  timeout = 1\n");
	struct channel_message msg =
		message("slow-1", "slow-timeout@example.jp");
	struct rec r = {0};

	(void)state;
	send_one(ch, &msg, &r);
	run_loop(30);
	assert_int_equal(r.status, CHANNEL_TEMPFAIL);
	assert_int_equal(r.code, 0);
	assert_non_null(strstr(r.detail, "no reply within 1 s"));
	channel_close(ch);
	/* The server finishes the late message before the next story. */
	server_wait("slow-end slow-timeout@example.jp");
}

/*
 * One worker held by a slow message: what queues behind it goes out in
 * sessions of `batch`, and a message cancelled while queued completes as
 * CANCELLED, later, from the loop.
 */
static void test_cancel_and_batch(void **state)
{
	struct channel *ch = channel_up("  workers = 1\n  batch = 10\n");
	struct channel_message slow =
		message("batch-slow", "slow-batch@example.jp");
	struct channel_message gone = message("batch-gone", "gone@example.jp");
	struct rec rs = {0}, rg = {0}, r[20] = {0};
	char keys[20][32], addrs[20][64], *sessions[2] = {0};
	size_t per[2] = {0}, n;
	struct mail *m;

	(void)state;
	send_one(ch, &slow, &rs);
	/* The worker has taken it alone and waits on DATA. */
	server_wait("slow-data slow-batch@example.jp");
	for (int i = 0; i < 20; i++) {
		struct channel_message msg;

		snprintf(keys[i], sizeof(keys[i]), "batch-%02d", i);
		snprintf(addrs[i], sizeof(addrs[i]), "batch-%02d@example.jp",
			 i);
		msg = message(keys[i], addrs[i]);
		send_one(ch, &msg, &r[i]);
		if (i == 4)
			send_one(ch, &gone, &rg);
	}
	channel_cancel(ch, "batch-gone");
	assert_int_equal(rg.calls, 0); /* never from inside cancel() */
	assert_int_equal(channel_in_flight(ch), 22);
	run_loop(30);

	assert_int_equal(rs.status, CHANNEL_OK);
	assert_int_equal(rg.calls, 1);
	assert_int_equal(rg.status, CHANNEL_CANCELLED);
	m = maildir_read(&n);
	assert_int_equal(count_to(m, n, "gone@example.jp", NULL), 0);
	for (int i = 0; i < 20; i++) {
		const char *text = NULL;
		char *s;
		size_t k;

		assert_int_equal(r[i].status, CHANNEL_OK);
		assert_int_equal(count_to(m, n, addrs[i], &text), 1);
		s = header(text, "X-Test-Session");
		for (k = 0; k < 2 && sessions[k] != NULL; k++)
			if (strcmp(sessions[k], s) == 0)
				break;
		assert_true(k < 2); /* no third session */
		if (sessions[k] == NULL)
			sessions[k] = s;
		else
			free(s);
		per[k]++;
	}
	assert_int_equal(per[0], 10);
	assert_int_equal(per[1], 10);
	free(sessions[0]);
	free(sessions[1]);
	maildir_free(m, n);
	channel_close(ch);
}

/*
 * stop() waits for the session under way, then completes what was still
 * queued with TEMPFAIL "stopped", all before it returns.
 */
static void test_stop_completes_queued(void **state)
{
	struct channel *ch = channel_up("  workers = 1\n");
	struct channel_message slow =
		message("stop-slow", "slow-stop@example.jp");
	struct channel_message msg = message("stop-1", "stop-1@example.jp");
	struct rec rs = {0}, r[3] = {0};

	(void)state;
	send_one(ch, &slow, &rs);
	server_wait("slow-data slow-stop@example.jp");
	for (int i = 0; i < 3; i++)
		send_one(ch, &msg, &r[i]);
	channel_stop(ch);
	assert_int_equal(rs.calls, 1);
	assert_int_equal(rs.status, CHANNEL_OK);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(r[i].calls, 1);
		assert_int_equal(r[i].status, CHANNEL_TEMPFAIL);
		assert_string_equal(r[i].detail, "stopped");
	}
	assert_int_equal(channel_in_flight(ch), 0);
	/* A stopped channel takes nothing more. */
	assert_true(channel_send(ch, &msg, on_done, &r[0]) < 0);
	channel_stop(ch); /* twice is fine */
	channel_free_priv(ch);
	free(ch->name);
	free(ch);
}

/*
 * "test.conf:LINE: channel \"mail\": what". LINE is the section's
 * sec->line, which libconfuse 3.3 sets to the line of its closing brace.
 */
static void assert_diag(const char *line, const char *what)
{
	char want[512];
	int n = 0;

	assert_int_equal(sscanf(line, "test.conf:%*d: %n", &n), 0);
	assert_true(n > 0);
	snprintf(want, sizeof(want), "channel \"mail\": %s", what);
	assert_string_equal(line + n, want);
}

/*
 * Bad settings are reported as FILE:LINE: channel "NAME": what, every one
 * of them; the half-configured channel stops and frees cleanly.
 */
static void test_config_errors(void **state)
{
	struct diag_list diags = {0};
	struct channel_message msg = message("k", "poc@example.jp");
	struct rec r = {0};
	struct channel *ch;
	int ret;

	(void)state;
	ch = channel_open("  tls = \"tls\"\n  port = 70000\n  workers = 0\n"
			  "  host = \"::1\"\n",
			  &ret, &diags);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(diags.n, 5);
	assert_diag(diags.lines[0],
		    "host \"::1\" is not a host name or IPv4 "
		    "address (libESMTP cannot take IPv6 literals)");
	assert_diag(diags.lines[1], "port must be 1 to 65535, not 70000");
	assert_diag(diags.lines[2], "tls = \"tls\" is not supported by "
				    "libESMTP, use starttls");
	assert_diag(diags.lines[3], "from is required (the sender address)");
	assert_diag(diags.lines[4], "workers must be 1 to 64, not 0");
	assert_int_equal(channel_start(ch, base), -EINVAL);
	assert_int_equal(channel_send(ch, &msg, on_done, &r), -ENOTCONN);
	channel_stop(ch);
	channel_free_priv(ch);
	channel_free_priv(ch); /* priv is NULL now: still fine */
	free(ch->name);
	free(ch);
	diag_clear(&diags);

	ch = channel_open("  from = \"not an address\"\n", &ret, &diags);
	assert_int_equal(ret, -EINVAL);
	assert_int_equal(diags.n, 1);
	assert_non_null(strstr(diags.lines[0], "from \"not an address\" is "
					       "not a mail address"));
	channel_close(ch);
	diag_clear(&diags);

	/*
	 * A display name of 1,500 characters: accepted on main, and then
	 * every message failed with "Line too long". Refused at configure,
	 * so `config check` and start say it.
	 */
	{
		char *settings, name[1501];

		memset(name, 'N', 1500);
		name[1500] = '\0';
		assert_true(asprintf(&settings,
				     "  from = \"%s <alerts@example.jp>\"\n",
				     name) > 0);
		ch = channel_open(settings, &ret, &diags);
		free(settings);
		assert_int_equal(ret, -EINVAL);
		assert_int_equal(diags.n, 1);
		assert_non_null(
			strstr(diags.lines[0], "display name is too long"));
		channel_close(ch);
		diag_clear(&diags);
	}

	/* Bad input is refused at once, without a completion. */
	ch = channel_open("  from = \"" FROM "\"\n", &ret, &diags);
	assert_int_equal(ret, 0);
	assert_int_equal(channel_start(ch, base), 0);
	msg.address = "poc@example.jp\r\nRCPT TO:<x@y>";
	assert_int_equal(channel_send(ch, &msg, on_done, &r), -EINVAL);
	assert_int_equal(channel_in_flight(ch), 0);
	channel_close(ch);
	assert_int_equal(r.calls, 0);

	/* Configured, never started: stop and free are safe. */
	ch = channel_open("  from = \"" FROM "\"\n", &ret, &diags);
	assert_int_equal(ret, 0);
	channel_close(ch);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fifty_messages),
		cmocka_unit_test(test_drill_and_stable_message_id),
		cmocka_unit_test(test_tempfail_then_ok),
		cmocka_unit_test(test_permfail),
		cmocka_unit_test(test_connection_refused),
		cmocka_unit_test(test_timeout),
		cmocka_unit_test(test_cancel_and_batch),
		cmocka_unit_test(test_stop_completes_queued),
		cmocka_unit_test(test_config_errors),
	};

	return cmocka_run_group_tests(tests, server_start, server_stop);
}
