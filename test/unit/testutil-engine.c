/*
 * The engine fixture of testutil.h: a real engine on a real event base
 * and a real SQLite file, with time from the fake clock and channels on
 * the scripted driver, so that a test decides every outcome and every
 * moment. Kept apart from testutil.c so that tests linking the fake
 * engine (fake-engine.c) never pull the real engine.c in.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "channels/scripted.h"
#include "common/diag.h"
#include "common/log.h"
#include "dispatcher/engine/clock.h"
#include "dispatcher/engine/config.h"
#include "dispatcher/engine/engine.h"
#include "dispatcher/engine/timer.h"
#include "test/unit/testutil.h"

struct testutil_engine *testutil_engine_new(const char *config_text,
					    const char *directory_text)
{
	struct testutil_engine *t = calloc(1, sizeof(*t));
	struct diag_list diags = {0};
	char *path, *text;

	assert_non_null(t);
	/* Warnings stay: a story that logs one more than it should shows. */
	log_set_level(LOG_LEVEL_WARN);
	clock_fake_set(TESTUTIL_T0);
	scripted_reset();
	t->dir = testutil_tmpdir("engine");
	t->db = testutil_path(t->dir, "pocalert.db");
	/* Relative paths in a config are relative to its own directory. */
	assert_true(asprintf(&text, "database = \"pocalert.db\"\n%s",
			     config_text) > 0);
	path = testutil_write_file(t->dir, "pocalert.conf", text);
	free(text);
	if (config_load(path, &t->config, &diags) < 0) {
		diag_print(&diags, stderr);
		fail_msg("the test's config does not load");
	}
	diag_clear(&diags);
	free(path);
	testutil_import_directory(t->db, directory_text);
	t->base = event_base_new();
	assert_non_null(t->base);
	testutil_engine_start(t);
	return t;
}

void testutil_engine_start(struct testutil_engine *t)
{
	struct diag_list diags = {0};

	assert_null(t->engine);
	if (engine_new(t->base, t->config, &t->engine, &diags) < 0) {
		diag_print(&diags, stderr);
		fail_msg("engine_new failed");
	}
	diag_clear(&diags);
	testutil_run(t->base);
}

void testutil_engine_stop(struct testutil_engine *t)
{
	engine_free(t->engine, 0);
	t->engine = NULL;
	testutil_run(t->base);
}

void testutil_engine_free(struct testutil_engine *t)
{
	if (t == NULL)
		return;
	engine_free(t->engine, 0);
	/* What the engine left on the loop (a writer's callback) runs out. */
	testutil_run(t->base);
	assert_int_equal(timer_fake_armed(), 0);
	event_base_free(t->base);
	config_free(t->config);
	scripted_reset();
	clock_real();
	testutil_rmtree(t->dir);
	free(t->dir);
	free(t->db);
	free(t);
}

char *testutil_engine_send(struct testutil_engine *t, const char *policy,
			   const char *targets, const char *title)
{
	char *list = strdup(targets), *save = NULL, *tok;
	char *tv[16];
	struct alert_input in = {
		.title = (char *)title,
		.body = (char *)"本文 / body",
		.type = (char *)"incident",
		.severity = (char *)"high",
		.tlp = TLP_AMBER,
		.targets = tv,
		.policy = (char *)policy,
	};
	struct alert_error err = {0};
	char *id = NULL;

	assert_non_null(list);
	for (tok = strtok_r(list, ",", &save); tok && in.n_targets < 16;
	     tok = strtok_r(NULL, ",", &save))
		tv[in.n_targets++] = tok;
	if (engine_accept(t->engine, &in, "tester", &id, &err) < 0)
		fail_msg("engine_accept: %s: %s", err.field, err.message);
	free(list);
	testutil_run(t->base);
	return id;
}

void testutil_engine_advance(struct testutil_engine *t, int64_t ms)
{
	timer_fake_advance(ms);
	testutil_run(t->base);
}

size_t testutil_engine_complete(struct testutil_engine *t, const char *address,
				int status, int code, const char *detail,
				int retry_after)
{
	int i = scripted_find(address);

	if (i < 0)
		fail_msg("no send to %s is waiting", address);
	assert_int_equal(scripted_complete((size_t)i,
					   (enum channel_status)status, code,
					   detail, retry_after),
			 0);
	testutil_run(t->base);
	return (size_t)i;
}

size_t testutil_sends_to(const char *address)
{
	size_t n = 0;

	for (size_t i = 0; i < scripted_count(); i++)
		n += strcmp(scripted_get(i)->address, address) == 0;
	return n;
}
