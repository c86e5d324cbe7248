/*
 * The guard of the reply-link key: see keyguard.h. Reads the key file
 * itself (it must be readable before the engine loads it) and keeps only
 * a fingerprint in the store, so a copy of the database still lets nobody
 * forge a link.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <string.h>
#include <unistd.h>

#include "common/crypto.h"
#include "dispatcher/store/keyguard.h"

/* Reply-link keys are 256 bits (engine/ack.c). */
#define KEY_LEN 32

enum keyguard_verdict keyguard_decide(const char *key_fp, const char *stored_fp,
				      int64_t n_alerts, bool accept_new)
{
	if (key_fp == NULL) {
		/* No links can exist without alerts: a first start. */
		if (n_alerts == 0 || accept_new)
			return KEYGUARD_NEW;
		return KEYGUARD_MISSING;
	}
	if (stored_fp == NULL)
		return KEYGUARD_RECORD;
	if (strcmp(stored_fp, key_fp) == 0)
		return KEYGUARD_OK;
	return n_alerts == 0 || accept_new ? KEYGUARD_RECORD
					   : KEYGUARD_REPLACED;
}

void keyguard_fingerprint(const void *key, size_t len, char hex[65])
{
	/* A label first, so the fingerprint is no other hash of the key. */
	static const char label[] = "pocalert reply-link key fingerprint v1";
	uint8_t buf[sizeof(label) + KEY_LEN];
	size_t n = len < KEY_LEN ? len : KEY_LEN;

	memcpy(buf, label, sizeof(label));
	memcpy(buf + sizeof(label), key, n);
	crypto_sha256_hex(buf, sizeof(label) + n, hex);
	explicit_bzero(buf, sizeof(buf));
}

/*
 * The fingerprint of the key file: 1 with hex set, 0 when there is no
 * file, -EIO (in diags) when it cannot be read or is no key.
 */
static int key_file_fingerprint(const char *path, char hex[65],
				struct diag_list *diags)
{
	uint8_t key[KEY_LEN];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		diag_add(diags, path, 0, "cannot read the reply-link key: %s",
			 strerror(errno));
		return -EIO;
	}
	n = read(fd, key, sizeof(key));
	close(fd);
	if (n != (ssize_t)sizeof(key)) {
		diag_add(diags, path, 0,
			 "not a reply-link key (want %zu bytes)", sizeof(key));
		explicit_bzero(key, sizeof(key));
		return -EIO;
	}
	keyguard_fingerprint(key, sizeof(key), hex);
	explicit_bzero(key, sizeof(key));
	return 1;
}

int keyguard_check(struct store *s, const char *key_path, bool accept_new,
		   struct diag_list *diags)
{
	char key_fp[65], stored[65];
	int64_t n_alerts = 0;
	int have_key, have_fp, r;
	enum keyguard_verdict v;

	have_key = key_file_fingerprint(key_path, key_fp, diags);
	if (have_key < 0)
		return have_key;
	r = store_meta_get(s, KEYGUARD_META, stored, sizeof(stored));
	have_fp = r == 0;
	if ((r < 0 && r != -ENOENT) || store_alert_count(s, &n_alerts) < 0) {
		diag_add(diags, key_path, 0,
			 "cannot read the database to check the reply-link "
			 "key");
		return -EIO;
	}
	v = keyguard_decide(have_key ? key_fp : NULL, have_fp ? stored : NULL,
			    n_alerts, accept_new);
	switch (v) {
	case KEYGUARD_MISSING:
		diag_add(diags, key_path, 0,
			 "the reply-link key is missing, but the database "
			 "holds %" PRId64 " alert%s whose reply links were "
			 "made with it: a new key would break every link "
			 "already sent and those of later escalation steps. "
			 "Restore this file from the backup of the database; "
			 "only to give up those links on purpose, start with "
			 "--new-reply-key",
			 n_alerts, n_alerts == 1 ? "" : "s");
		return -ENOKEY;
	case KEYGUARD_REPLACED:
		diag_add(diags, key_path, 0,
			 "this is not the reply-link key the database's "
			 "%" PRId64 " alert%s were sent with (its fingerprint "
			 "differs): their links would not work. Put the "
			 "original key back; only to give up those links on "
			 "purpose, start with --new-reply-key",
			 n_alerts, n_alerts == 1 ? "" : "s");
		return -EKEYREJECTED;
	case KEYGUARD_RECORD:
		if (store_meta_set(s, KEYGUARD_META, key_fp) < 0) {
			diag_add(diags, key_path, 0,
				 "cannot record the reply-link key's "
				 "fingerprint in the database");
			return -EIO;
		}
		break;
	case KEYGUARD_OK:
	case KEYGUARD_NEW:
		break;
	}
	return (int)v;
}

int keyguard_record(struct store *s, const char *key_path,
		    struct diag_list *diags)
{
	char fp[65];
	int r = key_file_fingerprint(key_path, fp, diags);

	if (r == 0)
		diag_add(diags, key_path, 0, "no reply-link key to record");
	if (r <= 0)
		return -EIO;
	if (store_meta_set(s, KEYGUARD_META, fp) < 0) {
		diag_add(diags, key_path, 0,
			 "cannot record the reply-link key's fingerprint in "
			 "the database");
		return -EIO;
	}
	return 0;
}
