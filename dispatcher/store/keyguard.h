/*
 * The guard of the reply-link key. Reply links are HMACs under a key kept
 * in a file beside the database (never in it); if that file is lost and a
 * new key made, every link already sent and every link of a later
 * escalation step stops working while nothing says so. The store keeps a
 * fingerprint of the key (a one-way hash) so that a start-up can tell a
 * missing or replaced key from a first start, and refuse.
 *
 * keyguard_decide() is the pure rule; keyguard_check() and
 * keyguard_record() apply it to a store and a key file.
 */
#ifndef POCALERT_KEYGUARD_H
#define POCALERT_KEYGUARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common/diag.h"
#include "dispatcher/store/store.h"

/* The meta key under which the fingerprint is kept. */
#define KEYGUARD_META "ackkey_fingerprint"

enum keyguard_verdict {
	KEYGUARD_OK,	   /* the key is the one the store knows */
	KEYGUARD_RECORD,   /* start; record the key's fingerprint now */
	KEYGUARD_NEW,	   /* start; a new key will be made: record it */
	KEYGUARD_MISSING,  /* refuse: links were issued, the key is gone */
	KEYGUARD_REPLACED, /* refuse: the key is not the one of the links */
};

/*
 * The rule. key_fp is the fingerprint of the key file, NULL when there
 * is none; stored_fp the one the store keeps, NULL when none; n_alerts
 * how many alerts the store holds (each may have links out). With
 * accept_new (the operator's `--new-reply-key`) a missing or replaced
 * key is taken on purpose: NEW or RECORD instead of a refusal.
 */
enum keyguard_verdict keyguard_decide(const char *key_fp, const char *stored_fp,
				      int64_t n_alerts, bool accept_new);

/* The fingerprint of a key: hex SHA-256 over a label and the key. */
void keyguard_fingerprint(const void *key, size_t len, char hex[65]);

/*
 * Applies the rule to store s and the key file at key_path before the
 * engine loads the key. Returns the verdict (>= 0; RECORD already
 * recorded) or, for a refusal, -ENOKEY (missing) or -EKEYREJECTED
 * (replaced) with a message naming the file and the way out in diags;
 * -EIO when the store or the file cannot be read (also in diags).
 */
int keyguard_check(struct store *s, const char *key_path, bool accept_new,
		   struct diag_list *diags);

/*
 * Records the fingerprint of the key now in key_path (after the engine
 * made a new one). Returns 0, or -EIO with a message in diags.
 */
int keyguard_record(struct store *s, const char *key_path,
		    struct diag_list *diags);

#endif
