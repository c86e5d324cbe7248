/*
 * A stand-in for the engine (engine.h) for tests of the HTTP API: it
 * records what the API asked of it and answers what the test sets up,
 * over a real store so that status queries read real tables.
 */
#ifndef POCALERT_FAKE_ENGINE_H
#define POCALERT_FAKE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatcher/engine/engine.h"
#include "dispatcher/engine/metrics.h"

#define FAKE_TOKEN "s3cret-token"
#define FAKE_OPERATOR "alice"

struct engine {
	struct store *store;	 /* not owned: the test's */
	struct metrics *metrics; /* not owned: the test's */
	bool accepting;		 /* what engine_accepting() says */
	/* engine_accept(): its answer, and what it saw. */
	int accept_result; /* 0, or -EINVAL with accept_err */
	struct alert_error accept_err;
	const char *next_id; /* the id it hands out */
	int n_accept;
	char last_title[1024];
	char last_operator[64];
	bool last_drill;
	/* engine_cancel(): ids "finished" and "missing" are special. */
	int n_cancel;
	char last_cancel_id[64];
	bool last_cancel_notify;
	int n_flush;
	int n_auth;
	/*
	 * Reply links: FAKE_ACK_TOKEN is the one known token, and ack is
	 * what its page shows (the test's strings, copied out by
	 * engine_ack_view()). A completed confirmation is kept in the
	 * ack_* buffers and shown as the previous one from then on.
	 */
	struct ack_view ack;
	double ack_rate; /* engine_ack_rate_limit() */
	int n_ack_view;	 /* lookups, known token or not */
	int n_ack_open;	 /* link_opened events recorded */
	int n_ack_confirm;
	char last_view_token[128];
	char last_ack_source[64];
	char last_ack_ua[300];
	char last_response[32];
	char last_name[1024];	 /* "(null)" for NULL */
	char last_comment[8192]; /* "(null)" for NULL */
	int ack_confirm_result;	 /* engine_ack_confirm()'s return */
	int64_t ack_now;	 /* the time a confirmation gets */
	char ack_response[32], ack_name[1024], ack_comment[8192];
	/* engine_ack_confirm()'s completion, held for fake_ack_complete(). */
	engine_ack_done_fn ack_done;
	void *ack_done_arg;
	int n_timeline;
};

/* A reply-link token the fake knows. */
#define FAKE_ACK_TOKEN "k7q2m4x9t3v6b8n5c2z7w4r6ya"

/*
 * Fires the held completion of engine_ack_confirm() with result, as the
 * engine does once the answer is on disk (result 0) or failed.
 */
void fake_ack_complete(struct engine *e, int result);

#endif
