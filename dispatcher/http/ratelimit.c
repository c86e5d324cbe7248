/*
 * The per-address limiter of ratelimit.h. Entries live in one array
 * allocated up front (max_entries), reached by a chained hash table and
 * kept on a most-recently-seen list, so that a lookup, an insertion and
 * an eviction each cost a constant. The hash is keyed with random bits
 * drawn at creation, so that nobody can pick addresses that all fall in
 * one chain.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include "common/crypto.h"
#include "dispatcher/http/ratelimit.h"

struct rl_entry {
	struct rl_entry *hnext; /* hash chain */
	struct rl_entry *prev;	/* recency list, most recent first */
	struct rl_entry *next;
	uint8_t key[16]; /* IPv6 /64, IPv4 as ::ffff:a.b.c.d */
	double tokens;
	int64_t at_ms; /* when tokens was last brought up to date */
};

struct ratelimit {
	double rate;  /* tokens a second; <= 0: unlimited */
	double burst; /* bucket size */
	size_t max;   /* entries at most */
	size_t n;     /* entries in use */
	size_t nbuckets;
	struct rl_entry **buckets; /* owned; nbuckets chains */
	struct rl_entry *pool;	   /* owned; max entries */
	struct rl_entry *free;	   /* unused entries, chained by hnext */
	struct rl_entry *head;	   /* most recently seen */
	struct rl_entry *tail;	   /* least recently seen */
	uint64_t seed[2];	   /* hash key */
};

int ratelimit_new(size_t max_entries, struct ratelimit **ret)
{
	struct ratelimit *rl;
	size_t nb = 16;

	if (max_entries == 0 || max_entries > SIZE_MAX / 4)
		return -EINVAL;
	while (nb < max_entries * 2)
		nb *= 2;
	rl = calloc(1, sizeof(*rl));
	if (rl == NULL)
		return -ENOMEM;
	rl->max = max_entries;
	rl->nbuckets = nb;
	rl->buckets = calloc(nb, sizeof(*rl->buckets));
	rl->pool = calloc(max_entries, sizeof(*rl->pool));
	if (rl->buckets == NULL || rl->pool == NULL) {
		ratelimit_free(rl);
		return -ENOMEM;
	}
	for (size_t i = 0; i < max_entries; i++) {
		rl->pool[i].hnext = rl->free;
		rl->free = &rl->pool[i];
	}
	/* Without randomness the table still works, only less evenly. */
	if (crypto_random(rl->seed, sizeof(rl->seed)) < 0) {
		rl->seed[0] = 0x9e3779b97f4a7c15ULL;
		rl->seed[1] = (uint64_t)(uintptr_t)rl;
	}
	*ret = rl;
	return 0;
}

void ratelimit_free(struct ratelimit *rl)
{
	if (rl == NULL)
		return;
	free(rl->buckets);
	free(rl->pool);
	free(rl);
}

void ratelimit_set(struct ratelimit *rl, double rate, double burst)
{
	rl->rate = rate;
	rl->burst = burst < 1 ? 1 : burst;
}

size_t ratelimit_count(const struct ratelimit *rl)
{
	return rl->n;
}

/* The table key of an address: its /64 for IPv6, mapped for IPv4. */
static void rl_key(const char *addr, uint8_t key[16])
{
	struct in_addr v4;

	memset(key, 0, 16);
	if (addr == NULL)
		return;
	if (inet_pton(AF_INET, addr, &v4) == 1) {
		key[10] = key[11] = 0xff;
		memcpy(key + 12, &v4, 4);
	} else if (inet_pton(AF_INET6, addr, key) == 1) {
		/* v4-mapped stays whole: it is one IPv4 host. */
		static const uint8_t mapped[12] = {0, 0, 0, 0, 0,    0,
						   0, 0, 0, 0, 0xff, 0xff};

		if (memcmp(key, mapped, sizeof(mapped)) != 0)
			memset(key + 8, 0, 8);
	}
}

/* A keyed mix of the 16 key bytes (splitmix64's finaliser). */
static size_t rl_hash(const struct ratelimit *rl, const uint8_t key[16])
{
	uint64_t a, b, h;

	memcpy(&a, key, 8);
	memcpy(&b, key + 8, 8);
	h = (a ^ rl->seed[0]) * 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 31;
	h = (h ^ b ^ rl->seed[1]) * 0x94d049bb133111ebULL;
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ULL;
	h ^= h >> 32;
	return (size_t)(h & (rl->nbuckets - 1));
}

static void list_unlink(struct ratelimit *rl, struct rl_entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		rl->head = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		rl->tail = e->prev;
	e->prev = e->next = NULL;
}

static void list_push_front(struct ratelimit *rl, struct rl_entry *e)
{
	e->prev = NULL;
	e->next = rl->head;
	if (rl->head)
		rl->head->prev = e;
	rl->head = e;
	if (rl->tail == NULL)
		rl->tail = e;
}

/* Forgets the least recently seen address, freeing its entry. */
static void rl_evict(struct ratelimit *rl)
{
	struct rl_entry *e = rl->tail, **pp;

	pp = &rl->buckets[rl_hash(rl, e->key)];
	while (*pp != e)
		pp = &(*pp)->hnext;
	*pp = e->hnext;
	list_unlink(rl, e);
	e->hnext = rl->free;
	rl->free = e;
	rl->n--;
}

bool ratelimit_take(struct ratelimit *rl, const char *addr, int64_t now_ms,
		    unsigned *ret_retry_after)
{
	uint8_t key[16];

	rl_key(addr, key);
	return ratelimit_take_key(rl, key, now_ms, ret_retry_after);
}

bool ratelimit_take_key(struct ratelimit *rl, const uint8_t key[16],
			int64_t now_ms, unsigned *ret_retry_after)
{
	struct rl_entry *e;
	size_t h;
	double wait;

	if (rl->rate <= 0)
		return true;
	h = rl_hash(rl, key);
	for (e = rl->buckets[h]; e != NULL; e = e->hnext)
		if (memcmp(e->key, key, 16) == 0)
			break;
	if (e == NULL) {
		if (rl->free == NULL)
			rl_evict(rl);
		e = rl->free;
		rl->free = e->hnext;
		memcpy(e->key, key, 16);
		e->tokens = rl->burst;
		e->at_ms = now_ms;
		e->hnext = rl->buckets[h];
		rl->buckets[h] = e;
		rl->n++;
	} else {
		list_unlink(rl, e);
		/* A clock that went back refills nothing. */
		if (now_ms > e->at_ms)
			e->tokens +=
				(double)(now_ms - e->at_ms) / 1000.0 * rl->rate;
		e->at_ms = now_ms;
		if (e->tokens > rl->burst)
			e->tokens = rl->burst;
	}
	list_push_front(rl, e);
	if (e->tokens >= 1.0) {
		e->tokens -= 1.0;
		return true;
	}
	if (ret_retry_after != NULL) {
		wait = ceil((1.0 - e->tokens) / rl->rate);
		*ret_retry_after = wait < 1	  ? 1
				   : wait > 86400 ? 86400
						  : (unsigned)wait;
	}
	return false;
}
