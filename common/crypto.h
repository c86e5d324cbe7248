/*
 * Digests, MACs, base64 and randomness, on OpenSSL's libcrypto. Used for
 * web-hook and gateway signatures, token hashes and the timeline chain.
 */
#ifndef POCALERT_CRYPTO_H
#define POCALERT_CRYPTO_H

#include <stddef.h>
#include <stdint.h>

#define SHA256_LEN 32
#define SHA1_LEN 20

/* out gets the 32-byte SHA-256 of data. */
void crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN]);

/* hex gets the 64 lowercase hex digits and a NUL of SHA-256(data). */
void crypto_sha256_hex(const void *data, size_t len, char hex[65]);

/* out gets HMAC-SHA256(key, data). */
void crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
			size_t len, uint8_t out[SHA256_LEN]);

/* out gets HMAC-SHA1(key, data). */
void crypto_hmac_sha1(const void *key, size_t keylen, const void *data,
		      size_t len, uint8_t out[SHA1_LEN]);

/*
 * Standard base64 with padding. Returns a malloc'd NUL-terminated string
 * owned by the caller, or NULL when out of memory.
 */
char *crypto_base64(const void *data, size_t len);

/*
 * Decodes standard base64 (padding required, no white space) into a
 * malloc'd buffer owned by the caller; *ret_len gets its length. Returns
 * NULL on bad input or when out of memory.
 */
uint8_t *crypto_base64_decode(const char *s, size_t *ret_len);

/* Lowercase hex of data into out, which must hold 2 * len + 1 bytes. */
void crypto_hex(const void *data, size_t len, char *out);

/* Fills buf with len bytes from getrandom(). Returns 0 or -errno. */
int crypto_random(void *buf, size_t len);

/* Constant-time comparison of two equal-length buffers: 1 if equal. */
int crypto_equal(const void *a, const void *b, size_t len);

#endif
