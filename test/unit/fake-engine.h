/*
 * A stand-in for the engine (engine.h) for tests of the HTTP API: it
 * records what the API asked of it and answers what the test sets up,
 * over a real store so that status queries read real tables.
 */
#ifndef POCALERT_FAKE_ENGINE_H
#define POCALERT_FAKE_ENGINE_H

#include <stdbool.h>

#include "dispatcher/engine.h"
#include "dispatcher/metrics.h"

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
};

#endif
