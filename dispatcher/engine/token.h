/*
 * Reply-link tokens. Every contact of every alert has a personal link
 * {public_url}/ack/{token}: 160 bits of HMAC-SHA256 over the alert,
 * organisation and contact ids, keyed by 256 random bits kept in a key
 * file beside the database (never in it). Links can be rebuilt for every
 * escalation step and after a restart, while the store keeps only each
 * token's SHA-256, so a copy of the database alone lets nobody confirm.
 * Below everything that plans deliveries; uses only the engine's key.
 */
#ifndef POCALERT_ENGINE_TOKEN_H
#define POCALERT_ENGINE_TOKEN_H

#include "dispatcher/engine/model.h"

/*
 * The reply-link token of a contact, from e->ack_key: 32 characters of
 * lower-case base32 and a NUL, written to out (the caller's; wipe it
 * after use).
 */
void token_make(const struct engine *e, const char *alert_id,
		const char *org_id, const char *contact_id, char out[33]);

/*
 * Loads the key file at path into e->ack_key, or creates it (mode 0600,
 * O_EXCL) with fresh random bytes when it is missing. Returns 0, -EINVAL
 * for a file of the wrong size, or -errno.
 */
int token_key_load(struct engine *e, const char *path);

#endif
