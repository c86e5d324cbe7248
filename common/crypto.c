/*
 * Thin wrappers over libcrypto: see crypto.h. They keep OpenSSL's API in
 * one file so the rest of the code reads in our own terms.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include "common/crypto.h"

void crypto_sha256(const void *data, size_t len, uint8_t out[SHA256_LEN])
{
	SHA256(data, len, out);
}

void crypto_hex(const void *data, size_t len, char *out)
{
	static const char digits[] = "0123456789abcdef";
	const uint8_t *p = data;

	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[p[i] >> 4];
		out[2 * i + 1] = digits[p[i] & 15];
	}
	out[2 * len] = '\0';
}

void crypto_sha256_hex(const void *data, size_t len, char hex[65])
{
	uint8_t md[SHA256_LEN];

	crypto_sha256(data, len, md);
	crypto_hex(md, sizeof(md), hex);
}

void crypto_hmac_sha256(const void *key, size_t keylen, const void *data,
			size_t len, uint8_t out[SHA256_LEN])
{
	unsigned int outlen = SHA256_LEN;

	HMAC(EVP_sha256(), key, (int)keylen, data, len, out, &outlen);
}

void crypto_hmac_sha1(const void *key, size_t keylen, const void *data,
		      size_t len, uint8_t out[SHA1_LEN])
{
	unsigned int outlen = SHA1_LEN;

	HMAC(EVP_sha1(), key, (int)keylen, data, len, out, &outlen);
}

char *crypto_base64(const void *data, size_t len)
{
	char *out = malloc(4 * ((len + 2) / 3) + 1);

	if (out == NULL)
		return NULL;
	EVP_EncodeBlock((unsigned char *)out, data, (int)len);
	return out;
}

uint8_t *crypto_base64_decode(const char *s, size_t *ret_len)
{
	size_t slen = strlen(s), pad = 0;
	uint8_t *out;
	int n;

	if (slen % 4 != 0)
		return NULL;
	out = malloc(slen / 4 * 3 + 1);
	if (out == NULL)
		return NULL;
	n = EVP_DecodeBlock(out, (const unsigned char *)s, (int)slen);
	if (n < 0) {
		free(out);
		return NULL;
	}
	/* EVP_DecodeBlock counts padding as zero bytes: take them off. */
	if (slen >= 1 && s[slen - 1] == '=')
		pad++;
	if (slen >= 2 && s[slen - 2] == '=')
		pad++;
	*ret_len = (size_t)n - pad;
	return out;
}

int crypto_random(void *buf, size_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t n = getrandom(p, len, 0);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int crypto_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
