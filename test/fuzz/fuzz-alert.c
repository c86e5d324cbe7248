/*
 * libFuzzer target: an alert as POST /api/v1/alerts receives it
 * (dispatcher/engine/alert.c). Accepted or refused, the message of a
 * refusal must be valid UTF-8 (it goes out as JSON), and an accepted
 * title must hold visible text and no bidi control.
 */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "common/utf8.h"
#include "dispatcher/engine/alert.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct alert_input in = {0};
	struct alert_error err = {0};

	if (alert_input_from_json((const char *)data, size, &in, &err) == 0) {
		assert(utf8_valid(in.title, strlen(in.title), NULL));
		assert(strstr(in.title, "\xE2\x80\xAE") == NULL); /* U+202E */
		alert_input_free(&in);
	} else {
		assert(utf8_valid(err.message, strlen(err.message), NULL));
		assert(utf8_valid(err.field, strlen(err.field), NULL));
	}
	return 0;
}
