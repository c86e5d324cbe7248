/*
 * The "smtp" channel driver (see smtp.h for its settings).
 *
 * libESMTP's smtp_start_session() blocks for a whole SMTP session, so it
 * never runs on the event loop. send() renders the message (pure, quick)
 * and puts it on a queue; a pool of worker threads takes up to `batch`
 * queued messages at a time and carries them in one session over one
 * connection (pipelined when the server offers PIPELINING). When the
 * session is over, each message's outcome is read from its own recipient
 * and message statuses, and the finished jobs go on a results list; a
 * byte on a pipe wakes the loop, which calls the completions. So the
 * completions run on the loop's thread only, never inside send(), and a
 * worker never touches the caller's data (jobs own copies).
 *
 * In order below: jobs and lists, outcomes from libESMTP's statuses, the
 * worker and its session, the loop side, configuration, the driver table.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libesmtp.h>

#include "channels/mail_render.h"
#include "channels/smtp.h"
#include "common/log.h"

#define SMTP_WORKERS_MAX 64
#define SMTP_BATCH_MAX 10000
#define SMTP_TIMEOUT_MAX 3600

enum smtp_tls {
	SMTP_TLS_NONE = 0,
	SMTP_TLS_STARTTLS, /* required: never fall back to plain text */
};

/* One accepted send, from send() to its completion. */
struct smtp_job {
	struct smtp_job *next;
	char *key;     /* owned; the ENVID */
	char *address; /* owned; the one recipient */
	char *text;    /* owned; the rendered message, alive for the session */
	channel_done_fn done;
	void *arg;
	smtp_message_t message;	    /* libESMTP's, during one session */
	smtp_recipient_t recipient; /* libESMTP's, during one session */
	bool decided;		    /* the outcome below is known */
	enum channel_status status;
	int code;
	char *detail;	  /* owned; NULL only when out of memory */
	char *gateway_id; /* owned; the server's queue id, may be NULL */
};

struct job_list {
	struct smtp_job *head;
	struct smtp_job **tail;
	size_t n;
};

struct smtp_priv {
	/* Settings: written by configure, read-only afterwards. */
	char *name;	/* owned; the channel's name, for logs */
	char *hostport; /* owned; "host:port" as libESMTP wants it */
	enum smtp_tls tls;
	struct mail_from from;
	int workers;
	int batch;
	int timeout; /* seconds */
	char *helo;  /* owned, may be NULL */
	bool configured;

	/* Shared between the loop and the workers, under lock. */
	pthread_mutex_t lock;
	pthread_cond_t cond; /* the queue has work, or we are stopping */
	bool lock_init;
	bool cond_init;
	bool stopping;
	struct job_list queue; /* accepted, waiting for a worker */
	struct job_list done;  /* finished or cancelled, waiting for the loop */

	/* The loop thread's own. */
	struct event *wake_ev;
	int wake_fd[2]; /* a worker writes a byte to [1] when done fills */
	pthread_t *threads;
	int nthreads;
	bool started;
	size_t in_flight;
};

/* --- jobs and lists ---------------------------------------------------- */

static void list_init(struct job_list *l)
{
	l->head = NULL;
	l->tail = &l->head;
	l->n = 0;
}

static void list_push(struct job_list *l, struct smtp_job *j)
{
	j->next = NULL;
	*l->tail = j;
	l->tail = &j->next;
	l->n++;
}

static struct smtp_job *list_pop(struct job_list *l)
{
	struct smtp_job *j = l->head;

	if (j != NULL) {
		l->head = j->next;
		if (l->head == NULL)
			l->tail = &l->head;
		l->n--;
		j->next = NULL;
	}
	return j;
}

/* Moves all of src to the end of dst. */
static void list_concat(struct job_list *dst, struct job_list *src)
{
	if (src->head == NULL)
		return;
	*dst->tail = src->head;
	dst->tail = src->tail;
	dst->n += src->n;
	list_init(src);
}

static void job_free(struct smtp_job *j)
{
	free(j->key);
	free(j->address);
	free(j->text);
	free(j->detail);
	free(j->gateway_id);
	free(j);
}

/* Sets the outcome (out of memory, the detail is lost; see deliver()). */
static void job_set(struct smtp_job *j, enum channel_status status, int code,
		    const char *detail)
{
	j->decided = true;
	j->status = status;
	j->code = code;
	free(j->detail);
	j->detail = strdup(detail);
}

/* --- outcomes ----------------------------------------------------------- */

/* Appends text to buf with CR, LF and controls as single spaces, trimmed. */
static void append_clean(char *buf, size_t size, const char *text)
{
	size_t n = strlen(buf);
	bool space = n > 0;

	for (const unsigned char *p = (const unsigned char *)text;
	     *p != '\0' && n + 1 < size; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			space = true;
			continue;
		}
		if (space && n > 0 && *p != ' ' && n + 2 < size)
			buf[n++] = ' ';
		space = *p == ' ';
		if (*p != ' ')
			buf[n++] = (char)*p;
	}
	buf[n] = '\0';
}

/* "451 4.7.1 try again later": the server's code and words. */
static void status_detail(const smtp_status_t *st, char *buf, size_t size)
{
	/* With ENHANCEDSTATUSCODES libESMTP takes the triplet out of text. */
	if (st->enh_class != 0)
		snprintf(buf, size, "%d %d.%d.%d", st->code, st->enh_class,
			 st->enh_subject, st->enh_detail);
	else
		snprintf(buf, size, "%d", st->code);
	if (st->text != NULL)
		append_clean(buf, size, st->text);
}

/*
 * The queue id in a 250 reply to DATA, when the server shows one:
 * "Ok: queued as 4Q5W8h1Xyz" (Postfix), "OK id=1tQ7aB-0004Xy-2C" (Exim).
 */
static char *queue_id(const char *text)
{
	static const char *const marks[] = {"queued as ", "id="};
	static const char idchars[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				      "abcdefghijklmnopqrstuvwxyz"
				      "0123456789._-@";
	const char *p;
	size_t n;

	if (text == NULL)
		return NULL;
	for (size_t i = 0; i < sizeof(marks) / sizeof(marks[0]); i++) {
		if ((p = strcasestr(text, marks[i])) == NULL)
			continue;
		p += strlen(marks[i]);
		if ((n = strspn(p, idchars)) > 0)
			return strndup(p, n);
	}
	return NULL;
}

static void job_from_status(struct smtp_job *j, const smtp_status_t *st)
{
	char detail[512];
	enum channel_status status;

	status_detail(st, detail, sizeof(detail));
	switch (st->code / 100) {
	case 2:
		status = CHANNEL_OK;
		j->gateway_id = queue_id(st->text);
		break;
	case 5:
		status = CHANNEL_PERMFAIL;
		break;
	default: /* 4xx, or a reply that makes no sense: try again */
		status = CHANNEL_TEMPFAIL;
		break;
	}
	job_set(j, status, st->code, detail);
}

/*
 * A message's fate from its statuses after the session. The session
 * returning success means little: each message has its own MAIL FROM,
 * RCPT TO and DATA replies, and a code of 0 means that step never got a
 * reply, so the session broke before this message's fate was known.
 */
static void job_classify(struct smtp_job *j, const char *session_failure)
{
	const smtp_status_t *st;

	st = smtp_reverse_path_status(j->message);
	if (st->code == 0)
		goto broken;
	if (st->code / 100 != 2) {
		job_from_status(j,
				st); /* MAIL FROM refused: the whole message */
		return;
	}
	st = smtp_recipient_status(j->recipient);
	if (st->code == 0)
		goto broken;
	if (st->code / 100 != 2) {
		job_from_status(j, st);
		return;
	}
	/* 354 left in place means the connection broke during the data. */
	st = smtp_message_transfer_status(j->message);
	if (st->code == 0 || st->code / 100 == 3)
		goto broken;
	job_from_status(j, st);
	return;
broken:
	job_set(j, CHANNEL_TEMPFAIL, 0, session_failure);
}

/* --- the worker's session ---------------------------------------------- */

/* What the callbacks of one session saw. */
struct smtp_run {
	bool connected;	      /* a TCP connection was made */
	bool multiline_250;   /* an EHLO reply with extensions was read */
	bool warming;	      /* holds esmtp_warmup_lock */
	char last_reply[256]; /* the last reply line the server sent */
	struct timespec last_io;
};

/*
 * libESMTP 1.1 fills a static character table (tokens.c) the first time
 * it parses the extension lines of an EHLO reply, without a lock, so two
 * threads doing it at once race (helgrind shows it). Until one session in
 * the process has got past such a reply, sessions take turns up to their
 * first MAIL FROM reply.
 */
static pthread_mutex_t esmtp_warmup_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_bool esmtp_warm;

static void warmup_begin(struct smtp_run *run)
{
	if (atomic_load(&esmtp_warm))
		return;
	pthread_mutex_lock(&esmtp_warmup_lock);
	run->warming = true;
}

static void warmup_end(struct smtp_run *run)
{
	if (!run->warming)
		return;
	if (run->multiline_250)
		atomic_store(&esmtp_warm, true);
	run->warming = false;
	pthread_mutex_unlock(&esmtp_warmup_lock);
}

static void run_event(smtp_session_t session, int event, void *arg, ...)
{
	struct smtp_run *run = arg;

	(void)session;
	/*
	 * Every other event keeps libESMTP's default: go on without DSN when
	 * the server lacks it, but give up on a bad TLS certificate.
	 */
	if (event == SMTP_EV_CONNECT)
		run->connected = true;
	else if (event == SMTP_EV_MAILSTATUS)
		warmup_end(run); /* EHLO is behind us */
}

/*
 * Keeps the time of the last I/O and the last reply line read, so a
 * session that ends without a status ("421 shutting down" to the
 * greeting, a timeout) can still be explained.
 */
static void run_monitor(const char *buf, int len, int writing, void *arg)
{
	struct smtp_run *run = arg;
	const char *p = buf, *end = buf + len, *nl;

	clock_gettime(CLOCK_MONOTONIC, &run->last_io);
	if (writing != SMTP_CB_READING)
		return;
	for (; p < end; p = nl + 1) {
		size_t n;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		n = (size_t)(nl - p);
		if (n >= 4 && memcmp(p, "250-", 4) == 0)
			run->multiline_250 = true;
		if (n >= 3 && p[0] >= '0' && p[0] <= '9') {
			char line[sizeof(run->last_reply)];

			if (n >= sizeof(line))
				n = sizeof(line) - 1;
			memcpy(line, p, n);
			line[n] = '\0';
			run->last_reply[0] = '\0';
			append_clean(run->last_reply, sizeof(run->last_reply),
				     line);
		}
	}
}

static long ms_since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t->tv_sec) * 1000L +
	       (now.tv_nsec - t->tv_nsec) / 1000000L;
}

/*
 * libESMTP keeps one error per thread and never clears it, so an error
 * left by an earlier session would look like this one's. Before a session
 * we provoke the one error no session sets, an API argument check; any
 * other value afterwards is this session's.
 */
static void smtp_errno_mark(void)
{
	smtp_set_server(NULL, NULL);
}

/* Why a session ended with messages whose fate is unknown. */
static void session_failure(const struct smtp_priv *p,
			    const struct smtp_run *run, int err, char *buf,
			    size_t size)
{
	char ebuf[128];
	const char *what = NULL;

	if (err != 0 && err != SMTP_ERR_INVAL)
		what = smtp_strerror(err, ebuf, sizeof(ebuf));
	if (!run->connected)
		snprintf(buf, size, "connect %s: %s", p->hostport,
			 what != NULL ? what : "failed");
	else if (err == SMTP_ERR_DROPPED_CONNECTION &&
		 ms_since(&run->last_io) >= p->timeout * 1000L - 250)
		snprintf(buf, size, "%s: no reply within %d s", p->hostport,
			 p->timeout);
	else if (what != NULL && run->last_reply[0] != '\0')
		snprintf(buf, size, "%s: %s after \"%s\"", p->hostport, what,
			 run->last_reply);
	else if (what != NULL)
		snprintf(buf, size, "%s: %s", p->hostport, what);
	else if (run->last_reply[0] != '\0')
		snprintf(buf, size, "%s: session ended after \"%s\"",
			 p->hostport, run->last_reply);
	else
		snprintf(buf, size, "%s: session ended before sending",
			 p->hostport);
}

/*
 * True when s, xtext-encoded, fits libESMTP's 256-octet buffer for ENVID
 * and ORCPT; past it libESMTP would write "(null)" on the wire.
 */
static bool xtext_fits(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += (*s > ' ' && *s < 0x7f && *s != '+' && *s != '=') ? 1 : 3;
	return n < 256;
}

/*
 * Adds j to the session. libESMTP copies nothing of the text: j->text
 * stays alive until the session is destroyed. On failure j gets its
 * outcome and no recipient, so libESMTP skips it (and never sends it with
 * an empty reverse path).
 */
static void job_add(const struct smtp_priv *p, smtp_session_t s,
		    struct smtp_job *j)
{
	j->message = smtp_add_message(s);
	if (j->message == NULL)
		goto nomem;
	/* Every message needs its callback or the whole session refuses. */
	smtp_set_message_str(j->message, j->text);
	if (!smtp_set_reverse_path(j->message, p->from.address) ||
	    !smtp_dsn_set_ret(j->message, Ret_HDRS) ||
	    (xtext_fits(j->key) && !smtp_dsn_set_envid(j->message, j->key)))
		goto nomem;
	j->recipient = smtp_add_recipient(j->message, j->address);
	if (j->recipient == NULL)
		goto nomem;
	smtp_dsn_set_notify(j->recipient, Notify_FAILURE | Notify_DELAY);
	if (xtext_fits(j->address))
		smtp_dsn_set_orcpt(j->recipient, "rfc822", j->address);
	return;
nomem:
	job_set(j, CHANNEL_TEMPFAIL, 0, "out of memory");
}

static bool session_setup(const struct smtp_priv *p, smtp_session_t s,
			  struct smtp_run *run)
{
	static const int which[] = {Timeout_GREETING, Timeout_ENVELOPE,
				    Timeout_DATA, Timeout_TRANSFER,
				    Timeout_DATA2};

	if (!smtp_set_server(s, p->hostport) ||
	    (p->helo != NULL && !smtp_set_hostname(s, p->helo)) ||
	    !smtp_set_eventcb(s, run_event, run) ||
	    !smtp_set_monitorcb(s, run_monitor, run, 0))
		return false;
	/* Milliseconds; the override lets a test use a one-second timeout. */
	for (size_t i = 0; i < sizeof(which) / sizeof(which[0]); i++)
		if (smtp_set_timeout(
			    s, which[i] | Timeout_OVERRIDE_RFC2822_MINIMUM,
			    p->timeout * 1000L) == 0)
			return false;
	if (p->tls == SMTP_TLS_STARTTLS &&
	    !smtp_starttls_enable(s, Starttls_REQUIRED))
		return false;
	return true;
}

/* Carries batch in one session; every job leaves with its outcome. */
static void session_run(const struct smtp_priv *p, struct job_list *batch)
{
	struct smtp_run run = {0};
	char failure[512], ebuf[128];
	smtp_session_t s;
	struct smtp_job *j;
	int err;

	log_debug("channel \"%s\": session with %s for %zu message(s)", p->name,
		  p->hostport, batch->n);
	s = smtp_create_session();
	if (s == NULL || !session_setup(p, s, &run)) {
		snprintf(failure, sizeof(failure), "libESMTP: %s",
			 smtp_strerror(smtp_errno(), ebuf, sizeof(ebuf)));
		for (j = batch->head; j != NULL; j = j->next)
			job_set(j, CHANNEL_TEMPFAIL, 0, failure);
		goto out;
	}
	for (j = batch->head; j != NULL; j = j->next)
		job_add(p, s, j);

	warmup_begin(&run);
	smtp_errno_mark();
	clock_gettime(CLOCK_MONOTONIC, &run.last_io);
	smtp_start_session(s);
	err = smtp_errno();
	warmup_end(&run);
	session_failure(p, &run, err, failure, sizeof(failure));

	for (j = batch->head; j != NULL; j = j->next)
		if (!j->decided)
			job_classify(j, failure);
out:
	if (s != NULL)
		smtp_destroy_session(s);
	for (j = batch->head; j != NULL; j = j->next) {
		j->message = NULL;
		j->recipient = NULL;
	}
}

/* Wakes the loop. A full pipe means a wake-up is pending already. */
static void wake_loop(struct smtp_priv *p)
{
	char c = 0;
	ssize_t r = write(p->wake_fd[1], &c, 1);

	(void)r;
}

static void *worker_main(void *arg)
{
	struct smtp_priv *p = arg;
	struct job_list batch;
	struct smtp_job *j;
	bool was_empty;

	for (;;) {
		list_init(&batch);
		pthread_mutex_lock(&p->lock);
		while (!p->stopping && p->queue.head == NULL)
			pthread_cond_wait(&p->cond, &p->lock);
		if (p->stopping) {
			pthread_mutex_unlock(&p->lock);
			break;
		}
		while (batch.n < (size_t)p->batch &&
		       (j = list_pop(&p->queue)) != NULL)
			list_push(&batch, j);
		/* More than one batch waiting: let an idle worker take it. */
		if (p->queue.head != NULL)
			pthread_cond_signal(&p->cond);
		pthread_mutex_unlock(&p->lock);

		session_run(p, &batch);

		pthread_mutex_lock(&p->lock);
		was_empty = p->done.head == NULL;
		list_concat(&p->done, &batch);
		pthread_mutex_unlock(&p->lock);
		if (was_empty)
			wake_loop(p);
	}
	return NULL;
}

/* --- the loop side ------------------------------------------------------ */

/* Calls the completions of l, in order, and frees the jobs. */
static void deliver(struct smtp_priv *p, struct job_list *l)
{
	struct smtp_job *j;

	while ((j = list_pop(l)) != NULL) {
		struct channel_outcome out = {
			.status = j->status,
			.code = j->code,
			.detail = j->detail != NULL ? j->detail : "",
			.gateway_id = j->gateway_id,
			.retry_after = -1,
		};

		p->in_flight--;
		j->done(j->arg, &out);
		job_free(j);
	}
}

static void on_wake(evutil_socket_t fd, short what, void *arg)
{
	struct smtp_priv *p = arg;
	struct job_list l;
	char drain[64];

	(void)what;
	/* Drain first: results added after the drain wake us again. */
	while (read(fd, drain, sizeof(drain)) > 0)
		;
	list_init(&l);
	pthread_mutex_lock(&p->lock);
	list_concat(&l, &p->done);
	pthread_mutex_unlock(&p->lock);
	deliver(p, &l);
}

static void smtp_stop(struct channel *ch);

static int smtp_start(struct channel *ch, struct event_base *base)
{
	struct smtp_priv *p = ch->priv;
	sigset_t all, old;
	int r = 0;

	if (p == NULL || !p->configured)
		return -EINVAL;
	if (p->started)
		return -EALREADY;
	/* A server closing on us must not kill the process. */
	signal(SIGPIPE, SIG_IGN);
	if (pipe2(p->wake_fd, O_NONBLOCK | O_CLOEXEC) < 0) {
		p->wake_fd[0] = p->wake_fd[1] = -1;
		return -errno;
	}
	p->wake_ev = event_new(base, p->wake_fd[0], EV_READ | EV_PERSIST,
			       on_wake, p);
	p->threads = calloc((size_t)p->workers, sizeof(*p->threads));
	p->started = true;
	p->stopping = false;
	if (p->wake_ev == NULL || p->threads == NULL ||
	    event_add(p->wake_ev, NULL) < 0) {
		r = -ENOMEM;
		goto fail;
	}
	/* Signals are the loop thread's business, never a worker's. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (int i = 0; i < p->workers && r == 0; i++) {
		r = -pthread_create(&p->threads[i], NULL, worker_main, p);
		if (r == 0)
			p->nthreads++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto fail;
	return 0;
fail:
	smtp_stop(ch);
	return r;
}

static int smtp_send(struct channel *ch, const struct channel_message *msg,
		     channel_done_fn done, void *arg)
{
	struct smtp_priv *p = ch->priv;
	struct smtp_job *j;
	int r;

	if (p == NULL || !p->started)
		return -ENOTCONN;
	if (p->stopping)
		return -ESHUTDOWN;
	/* The address goes into RCPT TO: nothing but a plain addr-spec. */
	if (msg == NULL || done == NULL || msg->key == NULL ||
	    msg->key[0] == '\0' || !mail_address_valid(msg->address))
		return -EINVAL;
	if ((j = calloc(1, sizeof(*j))) == NULL)
		return -ENOMEM;
	j->key = strdup(msg->key);
	j->address = strdup(msg->address);
	j->done = done;
	j->arg = arg;
	if (j->key == NULL || j->address == NULL) {
		r = -ENOMEM;
		goto fail;
	}
	if ((r = mail_render(msg, &p->from, time(NULL), &j->text)) < 0)
		goto fail;

	pthread_mutex_lock(&p->lock);
	list_push(&p->queue, j);
	pthread_cond_signal(&p->cond);
	pthread_mutex_unlock(&p->lock);
	p->in_flight++;
	return 0;
fail:
	job_free(j);
	return r;
}

static void smtp_cancel(struct channel *ch, const char *key)
{
	struct smtp_priv *p = ch->priv;
	struct job_list hit;
	struct smtp_job **pp, *j;
	size_t cancelled;
	bool was_empty;

	if (p == NULL || !p->started || key == NULL)
		return;
	list_init(&hit);
	pthread_mutex_lock(&p->lock);
	for (pp = &p->queue.head; (j = *pp) != NULL;) {
		if (strcmp(j->key, key) == 0) {
			*pp = j->next;
			p->queue.n--;
			job_set(j, CHANNEL_CANCELLED, 0,
				"cancelled before sending");
			list_push(&hit, j);
		} else {
			pp = &j->next;
		}
	}
	p->queue.tail = pp;
	cancelled = hit.n;
	was_empty = p->done.head == NULL;
	list_concat(&p->done, &hit);
	pthread_mutex_unlock(&p->lock);
	/* Completions come later, from the loop, never from inside cancel. */
	if (cancelled > 0 && was_empty)
		wake_loop(p);
}

static size_t smtp_in_flight(struct channel *ch)
{
	struct smtp_priv *p = ch->priv;

	return p != NULL ? p->in_flight : 0;
}

/*
 * Waits for the workers (a session under way finishes, up to its
 * timeouts), then completes what they finished and, with TEMPFAIL
 * "stopped", what was still queued. Called on the loop thread, so calling
 * the completions from here is calling them on the loop thread.
 */
static void smtp_stop(struct channel *ch)
{
	struct smtp_priv *p = ch->priv;
	struct job_list left, finished;
	struct smtp_job *j;

	if (p == NULL || !p->started)
		return;
	list_init(&left);
	list_init(&finished);
	pthread_mutex_lock(&p->lock);
	p->stopping = true;
	pthread_cond_broadcast(&p->cond);
	pthread_mutex_unlock(&p->lock);
	for (int i = 0; i < p->nthreads; i++)
		pthread_join(p->threads[i], NULL);
	free(p->threads);
	p->threads = NULL;
	p->nthreads = 0;

	pthread_mutex_lock(&p->lock);
	list_concat(&finished, &p->done);
	list_concat(&left, &p->queue);
	pthread_mutex_unlock(&p->lock);
	for (j = left.head; j != NULL; j = j->next)
		job_set(j, CHANNEL_TEMPFAIL, 0, "stopped");
	deliver(p, &finished);
	deliver(p, &left);

	if (p->wake_ev != NULL)
		event_free(p->wake_ev);
	p->wake_ev = NULL;
	for (int i = 0; i < 2; i++) {
		if (p->wake_fd[i] >= 0)
			close(p->wake_fd[i]);
		p->wake_fd[i] = -1;
	}
	p->started = false;
}

static void smtp_free(struct channel *ch)
{
	struct smtp_priv *p = ch->priv;

	if (p == NULL)
		return;
	smtp_stop(ch);
	if (p->cond_init)
		pthread_cond_destroy(&p->cond);
	if (p->lock_init)
		pthread_mutex_destroy(&p->lock);
	free(p->name);
	free(p->hostport);
	free(p->helo);
	mail_from_clear(&p->from);
	free(p);
	ch->priv = NULL;
}

/* --- configuration ----------------------------------------------------- */

/*
 * The engine merges every driver's options into one channel section and
 * keeps the first declaration of a shared name (timeout is webhook's too).
 * A default declared here would be imposed on the other drivers' channels,
 * so none is: configure applies ours when an option is unset.
 */
static const cfg_opt_t smtp_options[] = {
	CFG_STR("host", NULL, CFGF_NODEFAULT), /* "127.0.0.1" */
	CFG_INT("port", 0, CFGF_NODEFAULT),    /* 25 */
	CFG_STR("tls", NULL, CFGF_NODEFAULT),  /* "none" */
	CFG_STR("from", NULL, CFGF_NODEFAULT), /* required */
	CFG_INT("workers", 0, CFGF_NODEFAULT), /* 4 */
	CFG_INT("batch", 0, CFGF_NODEFAULT),   /* 100 */
	CFG_INT("timeout", 0, CFGF_NODEFAULT), /* 30 (seconds) */
	CFG_STR("helo", NULL, CFGF_NODEFAULT), /* the host's name */
	CFG_END(),
};

static const char *opt_str(cfg_t *sec, const char *opt, const char *def)
{
	return cfg_size(sec, opt) > 0 ? cfg_getstr(sec, opt) : def;
}

/* One configuration error: FILE:LINE: channel "NAME": what. */
static void conf_error(struct diag_list *diags, const char *file, cfg_t *sec,
		       const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static void conf_error(struct diag_list *diags, const char *file, cfg_t *sec,
		       const char *name, const char *fmt, ...)
{
	char what[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	diag_add(diags, file, sec->line, "channel \"%s\": %s", name, what);
}

/* A host name or IPv4 literal libESMTP can use: no ':' (it splits there). */
static bool host_valid(const char *host)
{
	if (host == NULL || host[0] == '\0' || strlen(host) > 253)
		return false;
	for (const char *p = host; *p != '\0'; p++)
		if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		      (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' ||
		      *p == '_'))
			return false;
	return true;
}

/* Reads an integer option (def when unset) into *ret if in [min, max]. */
static bool conf_int(cfg_t *sec, const char *opt, long def, long min, long max,
		     int *ret, const char *file, const char *name,
		     struct diag_list *diags)
{
	long v = cfg_size(sec, opt) > 0 ? cfg_getint(sec, opt) : def;

	if (v < min || v > max) {
		conf_error(diags, file, sec, name,
			   "%s must be %ld to %ld, not %ld", opt, min, max, v);
		return false;
	}
	*ret = (int)v;
	return true;
}

static int smtp_configure(struct channel *ch, cfg_t *sec, const char *file,
			  struct diag_list *diags)
{
	struct smtp_priv *p;
	const char *name, *host, *tls, *from, *helo;
	size_t longest = 0;
	int port = 0, r;
	bool ok = true;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return -ENOMEM;
	ch->priv = p;
	p->wake_fd[0] = p->wake_fd[1] = -1;
	list_init(&p->queue);
	list_init(&p->done);
	if (pthread_mutex_init(&p->lock, NULL) != 0)
		return -ENOMEM;
	p->lock_init = true;
	if (pthread_cond_init(&p->cond, NULL) != 0)
		return -ENOMEM;
	p->cond_init = true;
	name = ch->name != NULL ? ch->name : cfg_title(sec);
	if ((p->name = strdup(name != NULL ? name : "smtp")) == NULL)
		return -ENOMEM;
	name = p->name;

	host = opt_str(sec, "host", "127.0.0.1");
	if (!host_valid(host)) {
		conf_error(diags, file, sec, name,
			   "host \"%s\" is not a host name or IPv4 address "
			   "(libESMTP cannot take IPv6 literals)",
			   host != NULL ? host : "");
		ok = false;
	}
	ok &= conf_int(sec, "port", 25, 1, 65535, &port, file, name, diags);

	tls = opt_str(sec, "tls", "none");
	if (tls == NULL || strcmp(tls, "none") == 0) {
		p->tls = SMTP_TLS_NONE;
	} else if (strcmp(tls, "starttls") == 0) {
		p->tls = SMTP_TLS_STARTTLS;
	} else if (strcmp(tls, "tls") == 0) {
		/* libESMTP 1.1 speaks TLS only after STARTTLS. */
		conf_error(diags, file, sec, name,
			   "tls = \"tls\" is not supported by libESMTP, use "
			   "starttls");
		ok = false;
	} else {
		conf_error(diags, file, sec, name,
			   "tls must be \"none\", \"starttls\" or \"tls\", not "
			   "\"%s\"",
			   tls);
		ok = false;
	}

	from = opt_str(sec, "from", NULL);
	if (from == NULL) {
		conf_error(diags, file, sec, name,
			   "from is required (the sender address)");
		ok = false;
	} else if ((r = mail_from_parse(from, &p->from)) == -ENOMEM) {
		return r;
	} else if (r < 0) {
		conf_error(diags, file, sec, name,
			   "from \"%s\" is not a mail address (Name "
			   "<local@domain>)",
			   from);
		ok = false;
	} else if ((r = mail_from_check(&p->from, &longest)) == -E2BIG) {
		conf_error(diags, file, sec, name,
			   "from: the display name is too long: its From "
			   "header has a line of %zu octets, over the 998 "
			   "every mail server allows; shorten the name",
			   longest);
		ok = false;
	} else if (r < 0) {
		return r;
	}

	ok &= conf_int(sec, "workers", 4, 1, SMTP_WORKERS_MAX, &p->workers,
		       file, name, diags);
	ok &= conf_int(sec, "batch", 100, 1, SMTP_BATCH_MAX, &p->batch, file,
		       name, diags);
	ok &= conf_int(sec, "timeout", 30, 1, SMTP_TIMEOUT_MAX, &p->timeout,
		       file, name, diags);

	helo = opt_str(sec, "helo", NULL);
	if (helo != NULL && !host_valid(helo)) {
		conf_error(diags, file, sec, name,
			   "helo \"%s\" is not a host name", helo);
		ok = false;
	} else if (helo != NULL && (p->helo = strdup(helo)) == NULL) {
		return -ENOMEM;
	}

	if (!ok)
		return -EINVAL;
	if (asprintf(&p->hostport, "%s:%d", host, port) < 0) {
		p->hostport = NULL;
		return -ENOMEM;
	}
	p->configured = true;
	return 0;
}

const struct channel_driver smtp_driver = {
	.version = CHANNEL_DRIVER_VERSION,
	.name = "smtp",
	.options = smtp_options,
	.configure = smtp_configure,
	.start = smtp_start,
	.send = smtp_send,
	.cancel = smtp_cancel,
	.in_flight = smtp_in_flight,
	.stop = smtp_stop,
	.free = smtp_free,
};
