/*
 * libFuzzer target: the reply-link form a recipient POSTs
 * (application/x-www-form-urlencoded, parsed and checked by
 * dispatcher/http/ack_http.c). The parser and its checks are static in
 * that file, and the listener's owner edits it: rather than widen its
 * interface for a test, this target compiles the file into itself, with
 * its three exported functions renamed so that they do not collide with
 * the copy in http_lib (which api.c pulls in). What the check lets
 * through must be what the engine may store: valid UTF-8 without NULs.
 */
#include <assert.h>

#define ack_http_new fuzz_ack_http_new
#define ack_http_free fuzz_ack_http_free
#define ack_http_handle fuzz_ack_http_handle
#include "dispatcher/http/ack_http.c"
#undef ack_http_new
#undef ack_http_free
#undef ack_http_handle

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct form_in f;
	struct ack_form sent;

	if (form_parse((const char *)data, size, &f) == 0 &&
	    form_check(&f, &sent) == NULL) {
		assert(ack_response_valid(sent.response));
		if (sent.name != NULL)
			assert(utf8_valid(sent.name, strlen(sent.name), NULL) &&
			       !utf8_has_control(sent.name, strlen(sent.name)));
		if (sent.comment != NULL)
			assert(utf8_valid(sent.comment, strlen(sent.comment),
					  NULL));
	}
	form_in_free(&f);
	return 0;
}
