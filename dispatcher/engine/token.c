/*
 * Reply-link tokens and their key file: see token.h. The token is the
 * first 160 bits of HMAC-SHA256 over "ack\0ALERT\0ORG\0CONTACT", in
 * base32; links already mailed must keep working after an upgrade, so
 * this construction never changes (test-token.c pins one token).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/crypto.h"
#include "common/log.h"
#include "dispatcher/engine/token.h"

int token_key_load(struct engine *e, const char *path)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, e->ack_key, sizeof(e->ack_key));
		close(fd);
		if (n != (ssize_t)sizeof(e->ack_key)) {
			log_warnx("%s: not a reply-link key (want %zu bytes)",
				  path, sizeof(e->ack_key));
			return -EINVAL;
		}
		return 0;
	}
	if (errno != ENOENT) {
		log_warn("%s", path);
		return -errno;
	}
	if (crypto_random(e->ack_key, sizeof(e->ack_key)) < 0)
		return -EIO;
	/* O_EXCL: two engines starting at once must not write two keys. */
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		log_warn("%s: cannot create the reply-link key", path);
		return -errno;
	}
	n = write(fd, e->ack_key, sizeof(e->ack_key));
	if (n != (ssize_t)sizeof(e->ack_key) || fsync(fd) < 0) {
		close(fd);
		unlink(path);
		return -EIO;
	}
	close(fd);
	log_info("created the reply-link key %s", path);
	return 0;
}

void token_make(const struct engine *e, const char *alert_id,
		const char *org_id, const char *contact_id, char out[33])
{
	static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
	uint8_t mac[SHA256_LEN];
	char msg[512];
	int len;

	/* NUL separators: no two id triples give the same input. */
	len = snprintf(msg, sizeof(msg), "ack%c%s%c%s%c%s", 0, alert_id, 0,
		       org_id, 0, contact_id);
	if (len < 0 || (size_t)len >= sizeof(msg))
		len = sizeof(msg) - 1;
	crypto_hmac_sha256(e->ack_key, sizeof(e->ack_key), msg, (size_t)len,
			   mac);
	/* base32 of the first 20 bytes: 32 characters, 160 bits. */
	for (int i = 0; i < 32; i++) {
		int bit = i * 5, byte = bit / 8, shift = bit % 8;
		unsigned v = (unsigned)mac[byte] << 8 |
			     (byte + 1 < 20 ? mac[byte + 1] : 0);

		out[i] = alphabet[(v >> (11 - shift)) & 31];
	}
	out[32] = '\0';
	explicit_bzero(mac, sizeof(mac));
}
