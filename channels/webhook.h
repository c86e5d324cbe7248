/*
 * The web hook driver (`driver = "webhook"`): POSTs each message as JSON
 * to the contact method's URL, signed the Standard Webhooks way
 * (webhook-id, webhook-timestamp, webhook-signature). The driver table,
 * webhook_driver, is declared in channels/registry.h; this header exports
 * the pure pieces (signing, payload, classification) for the unit tests.
 */
#ifndef POCALERT_WEBHOOK_H
#define POCALERT_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include "channels/channel.h"
#include "channels/http_client.h"
#include "common/buf.h"

/* "v1," + base64 of a 32-byte MAC + NUL. */
#define WEBHOOK_SIGNATURE_SIZE 48
/* Longest idempotency key the driver sends as webhook-id. */
#define WEBHOOK_KEY_MAX 256
/* Response body bytes quoted in an outcome's detail. */
#define WEBHOOK_DETAIL_BODY 200

/*
 * Decodes a "whsec_<base64>" secret into the MAC key. Returns 0 and sets
 * *ret_key (malloc'd, owned by the caller, who wipes it with
 * explicit_bzero before freeing) and *ret_len; or -EINVAL when the prefix
 * is missing or the rest is not base64 of at least one byte, -ENOMEM.
 */
int webhook_secret_decode(const char *secret, uint8_t **ret_key,
			  size_t *ret_len);

/*
 * Writes into out the signature "v1,<base64>" of HMAC-SHA256(key,
 * id + "." + timestamp + "." + body). Pure: same inputs, same output.
 * Returns 0 or -ENOMEM.
 */
int webhook_sign(const void *key, size_t keylen, const char *id,
		 const char *timestamp, const void *body, size_t body_len,
		 char out[WEBHOOK_SIGNATURE_SIZE]);

/*
 * Appends the JSON payload of msg to out (compact, one object, UTF-8):
 * type, alert_id, title, body, alert_type, severity, tlp, drill, kind,
 * organisation {id, name}, contact {id, name}, ack_url, created_at.
 * NULL strings become null; a NULL kind is "alert". Returns 0 or -ENOMEM.
 */
int webhook_render_payload(struct buf *out, const struct channel_message *msg);

/*
 * Turns an HTTP response into a channel outcome: 2xx OK; 408, 429, 5xx
 * and transport errors TEMPFAIL (Retry-After kept); 410 and other 4xx
 * PERMFAIL. out->detail points into detail (detailsz bytes, 256 or more),
 * which the caller provides and keeps for as long as out is used.
 */
void webhook_classify(const struct http_response *res,
		      struct channel_outcome *out, char *detail,
		      size_t detailsz);

#endif
