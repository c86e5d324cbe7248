/*
 * X-Twilio-Signature: see twilio_sign.h. The parameters are sorted by
 * name through an index array so that the caller's arrays stay as they
 * came; equal names (a repeated parameter) keep their values in order
 * of value, as the gateway's own sort of "name+value" strings would.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "channels/twilio_sign.h"
#include "common/buf.h"
#include "common/crypto.h"

struct sort_ctx {
	const char *const *names;
	const char *const *values;
};

/* qsort_r is a GNU extension; a file-local pointer keeps it portable. */
static const struct sort_ctx *sort_ctx;

static int by_name(const void *a, const void *b)
{
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	int c = strcmp(sort_ctx->names[i], sort_ctx->names[j]);

	return c ? c : strcmp(sort_ctx->values[i], sort_ctx->values[j]);
}

int twilio_sign(const char *token, const char *url, const char *const *names,
		const char *const *values, size_t n,
		char out[TWILIO_SIGNATURE_SIZE])
{
	struct sort_ctx ctx = {names, values};
	struct buf data = {0};
	uint8_t mac[SHA1_LEN];
	size_t *order = NULL;
	char *b64 = NULL;
	int r = -ENOMEM;

	order = malloc((n ? n : 1) * sizeof(*order));
	if (order == NULL)
		goto out;
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_ctx = &ctx;
	qsort(order, n, sizeof(*order), by_name);
	sort_ctx = NULL;
	if (buf_puts(&data, url) < 0)
		goto out;
	for (size_t k = 0; k < n; k++) {
		size_t i = order[k];

		if (buf_puts(&data, names[i]) < 0 ||
		    buf_puts(&data, values[i]) < 0)
			goto out;
	}
	crypto_hmac_sha1(token, strlen(token), data.data, data.len, mac);
	b64 = crypto_base64(mac, sizeof(mac));
	explicit_bzero(mac, sizeof(mac));
	if (b64 == NULL || strlen(b64) != TWILIO_SIGNATURE_SIZE - 1)
		goto out;
	memcpy(out, b64, TWILIO_SIGNATURE_SIZE);
	r = 0;
out:
	free(b64);
	free(order);
	buf_free(&data);
	return r;
}

bool twilio_verify(const char *token, const char *url, const char *const *names,
		   const char *const *values, size_t n, const char *signature)
{
	char want[TWILIO_SIGNATURE_SIZE];

	if (signature == NULL || strlen(signature) != TWILIO_SIGNATURE_SIZE - 1)
		return false;
	if (twilio_sign(token, url, names, values, n, want) < 0)
		return false;
	return crypto_equal(want, signature, TWILIO_SIGNATURE_SIZE - 1) == 1;
}
