/*
 * The dry-run driver: see dryrun.h. Sends queue up and are written out
 * together from one zero-timeout event on the loop, which also calls
 * their completions, so a completion never runs inside channel_send().
 * Each line goes to the file with one write() on an O_APPEND descriptor,
 * so lines from several channels or processes never interleave.
 *
 * Speed is not the point here (it is a try-out aid), so the line is built
 * with jansson rather than by hand.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "channels/channel.h"
#include "channels/dryrun.h"
#include "channels/registry.h"
#include "common/buf.h"
#include "common/log.h"
#include "common/tlp.h"

static const cfg_opt_t dryrun_options[] = {
	CFG_STR("path", NULL, CFGF_NODEFAULT),
	CFG_END(),
};

/* One accepted send, waiting for the next turn of the loop. */
struct dryrun_item {
	struct channel_message msg; /* the caller's strings, not copies:
				       they live until the completion */
	channel_done_fn done;
	void *arg;
	bool cancelled;
	TAILQ_ENTRY(dryrun_item) entry;
};

TAILQ_HEAD(item_list, dryrun_item);

struct dryrun {
	const char *name;    /* the channel's name */
	char *path;	     /* the file lines are appended to */
	int fd;		     /* -1 unless started */
	struct event *flush; /* zero timeout: writes and completes */
	struct item_list queue;
	size_t n_queued;
	struct buf line; /* reused for each line */
};

/* Sets key to the string s, or to null when s is NULL. */
static int set_str(json_t *obj, const char *key, const char *s)
{
	json_t *v = s ? json_string(s) : json_null();

	/* json_string() refuses text that is not UTF-8. */
	if (v == NULL)
		return -EINVAL;
	return json_object_set_new(obj, key, v) < 0 ? -ENOMEM : 0;
}

static int set_pair(json_t *obj, const char *key, const char *id,
		    const char *name)
{
	json_t *o = json_object();
	int r;

	if (o == NULL)
		return -ENOMEM;
	r = set_str(o, "id", id);
	if (r == 0)
		r = set_str(o, "name", name);
	if (r == 0 && json_object_set_new(obj, key, o) < 0)
		return -ENOMEM;
	if (r < 0)
		json_decref(o);
	return r;
}

int dryrun_render_line(struct buf *out, const char *channel,
		       const struct channel_message *msg, long long now)
{
	const char *label =
		(unsigned)msg->tlp <= TLP_RED ? tlp_label(msg->tlp) : "TLP:?";
	time_t t = (time_t)now;
	struct buf subject = {0};
	char stamp[32] = "";
	json_t *o = json_object();
	char *text = NULL;
	struct tm tm;
	int r = -ENOMEM;

	if (o == NULL)
		goto out;
	if (gmtime_r(&t, &tm) != NULL)
		strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", &tm);
	/* What a mail subject would say: label first, drill marked. */
	if (buf_printf(&subject, "[%s] %s%s", label,
		       msg->drill ? "【訓練】[DRILL] " : "",
		       msg->title ? msg->title : "") < 0)
		goto out;
	if ((r = set_str(o, "dryrun", "not sent")) < 0 ||
	    (r = set_str(o, "time", stamp)) < 0 ||
	    (r = set_str(o, "channel", channel)) < 0 ||
	    (r = set_str(o, "address", msg->address)) < 0 ||
	    (r = set_str(o, "key", msg->key)) < 0 ||
	    (r = set_str(o, "subject", subject.data)) < 0 ||
	    (r = set_str(o, "alert_id", msg->alert_id)) < 0 ||
	    (r = set_str(o, "tlp", label)) < 0 ||
	    (r = set_str(o, "kind", msg->kind ? msg->kind : "alert")) < 0 ||
	    (r = set_str(o, "language", msg->language)) < 0 ||
	    (r = set_pair(o, "organisation", msg->org_id, msg->org_name)) < 0 ||
	    (r = set_pair(o, "contact", msg->contact_id, msg->contact_name)) <
		    0 ||
	    (r = set_str(o, "ack_url", msg->ack_url)) < 0)
		goto out;
	r = -ENOMEM;
	if (json_object_set_new(o, "drill", json_boolean(msg->drill)) < 0)
		goto out;
	text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (text == NULL)
		goto out;
	if (buf_puts(out, text) < 0 || buf_append(out, "\n", 1) < 0)
		goto out;
	r = 0;
out:
	free(text);
	json_decref(o);
	buf_free(&subject);
	return r;
}

/* Appends the whole line with one write(); returns 0 or -errno. */
static int write_line(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static void complete(struct dryrun_item *it, enum channel_status status,
		     const char *detail)
{
	struct channel_outcome out = {
		.status = status,
		.detail = detail,
		.retry_after = -1,
	};

	it->done(it->arg, &out);
	free(it);
}

/* The flush event: writes every queued line and completes each send. */
static void on_flush(evutil_socket_t fd, short events, void *arg)
{
	static const struct timeval now = {0, 0};
	struct dryrun *dr = arg;
	size_t batch = dr->n_queued;
	struct dryrun_item *it;
	char err[160];
	int r;

	(void)fd;
	(void)events;
	/*
	 * Only what was queued when the event fired: sends made by these
	 * completions wait for the next turn. Items are taken one by one
	 * from the queue so a completion that stops the channel finds the
	 * rest there.
	 */
	while (batch-- > 0 && (it = TAILQ_FIRST(&dr->queue)) != NULL) {
		TAILQ_REMOVE(&dr->queue, it, entry);
		dr->n_queued--;
		if (it->cancelled) {
			complete(it, CHANNEL_CANCELLED, "cancelled");
			continue;
		}
		dr->line.len = 0;
		r = dryrun_render_line(&dr->line, dr->name, &it->msg,
				       (long long)time(NULL));
		if (r == -EINVAL) {
			complete(it, CHANNEL_PERMFAIL, "message is not UTF-8");
			continue;
		}
		if (r == 0)
			r = write_line(dr->fd, dr->line.data, dr->line.len);
		if (r < 0) {
			snprintf(err, sizeof(err), "dry run: %s: %s", dr->path,
				 strerror(-r));
			log_warnx("channel %s: %s", dr->name, err);
			complete(it, CHANNEL_TEMPFAIL, err);
			continue;
		}
		complete(it, CHANNEL_OK, "dry run: written, not sent");
	}
	if (dr->n_queued > 0 && dr->flush != NULL)
		evtimer_add(dr->flush, &now);
}

static int dryrun_configure(struct channel *ch, cfg_t *sec, const char *file,
			    struct diag_list *diags)
{
	struct dryrun *dr = calloc(1, sizeof(*dr));
	const char *path;

	if (dr == NULL)
		return -ENOMEM;
	ch->priv = dr;
	dr->name = ch->name;
	dr->fd = -1;
	TAILQ_INIT(&dr->queue);
	path = cfg_getstr(sec, "path");
	if (path == NULL || path[0] == '\0') {
		diag_add(diags, file, sec->line,
			 "channel \"%s\": the dryrun driver needs a path (the "
			 "file it appends to)",
			 ch->name);
		return -EINVAL;
	}
	dr->path = strdup(path);
	return dr->path ? 0 : -ENOMEM;
}

static int dryrun_start(struct channel *ch, struct event_base *base)
{
	struct dryrun *dr = ch->priv;
	int r;

	if (dr == NULL || dr->path == NULL)
		return -EINVAL;
	if (dr->fd >= 0)
		return 0;
	dr->fd =
		open(dr->path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (dr->fd < 0) {
		r = -errno;
		log_warn("channel %s: %s", dr->name, dr->path);
		return r;
	}
	dr->flush = evtimer_new(base, on_flush, dr);
	if (dr->flush == NULL) {
		close(dr->fd);
		dr->fd = -1;
		return -ENOMEM;
	}
	log_info("channel %s: dry run: messages go to %s, nobody is contacted",
		 dr->name, dr->path);
	return 0;
}

static int dryrun_send(struct channel *ch, const struct channel_message *msg,
		       channel_done_fn done, void *arg)
{
	static const struct timeval now = {0, 0};
	struct dryrun *dr = ch->priv;
	struct dryrun_item *it;

	if (dr == NULL || dr->fd < 0)
		return -ENOTCONN;
	it = calloc(1, sizeof(*it));
	if (it == NULL)
		return -ENOMEM;
	it->msg = *msg;
	it->done = done;
	it->arg = arg;
	TAILQ_INSERT_TAIL(&dr->queue, it, entry);
	if (dr->n_queued++ == 0)
		evtimer_add(dr->flush, &now);
	return 0;
}

/*
 * A walk over the queue: it only ever holds what was sent since the loop
 * last turned, and cancelling is rare.
 */
static void dryrun_cancel(struct channel *ch, const char *key)
{
	struct dryrun *dr = ch->priv;
	struct dryrun_item *it;

	if (dr == NULL || key == NULL)
		return;
	for (it = TAILQ_FIRST(&dr->queue); it; it = TAILQ_NEXT(it, entry))
		if (it->msg.key != NULL && strcmp(it->msg.key, key) == 0)
			it->cancelled = true;
}

static size_t dryrun_in_flight(struct channel *ch)
{
	struct dryrun *dr = ch->priv;

	return dr ? dr->n_queued : 0;
}

static void dryrun_stop(struct channel *ch)
{
	struct dryrun *dr = ch->priv;
	struct dryrun_item *it;

	if (dr == NULL)
		return;
	while ((it = TAILQ_FIRST(&dr->queue)) != NULL) {
		TAILQ_REMOVE(&dr->queue, it, entry);
		dr->n_queued--;
		if (it->cancelled)
			complete(it, CHANNEL_CANCELLED, "cancelled");
		else
			complete(it, CHANNEL_TEMPFAIL, "stopped");
	}
	if (dr->flush != NULL) {
		event_free(dr->flush);
		dr->flush = NULL;
	}
	if (dr->fd >= 0) {
		close(dr->fd);
		dr->fd = -1;
	}
}

static void dryrun_free(struct channel *ch)
{
	struct dryrun *dr = ch->priv;

	if (dr == NULL)
		return;
	dryrun_stop(ch);
	free(dr->path);
	buf_free(&dr->line);
	free(dr);
	ch->priv = NULL;
}

const struct channel_driver dryrun_driver = {
	.version = CHANNEL_DRIVER_VERSION,
	.name = "dryrun",
	.options = dryrun_options,
	.configure = dryrun_configure,
	.start = dryrun_start,
	.send = dryrun_send,
	.cancel = dryrun_cancel,
	.in_flight = dryrun_in_flight,
	.stop = dryrun_stop,
	.free = dryrun_free,
};
