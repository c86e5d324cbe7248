/*
 * The Twilio request signature (X-Twilio-Signature) that every callback
 * of a Twilio-shaped gateway carries, and that our gateway simulator
 * computes the same way: base64 of HMAC-SHA1 keyed with the account's
 * auth token, over the full URL the gateway called followed by each POST
 * parameter's name and value, sorted by name. Pure functions: no loop,
 * no logging (the token must never reach a log line anyway).
 */
#ifndef POCALERT_TWILIO_SIGN_H
#define POCALERT_TWILIO_SIGN_H

#include <stdbool.h>
#include <stddef.h>

/* base64 of a 20-byte HMAC-SHA1 is 28 characters, plus the NUL. */
#define TWILIO_SIGNATURE_SIZE 29

/*
 * Computes the signature of a request to url with the n form parameters
 * names[i]=values[i] (decoded), keyed with token, into out. The order
 * of the parameters does not matter. Returns 0 or -ENOMEM.
 */
int twilio_sign(const char *token, const char *url, const char *const *names,
		const char *const *values, size_t n,
		char out[TWILIO_SIGNATURE_SIZE]);

/*
 * True when signature (may be NULL) is the request's signature under
 * token; compared in constant time.
 */
bool twilio_verify(const char *token, const char *url, const char *const *names,
		   const char *const *values, size_t n, const char *signature);

#endif
