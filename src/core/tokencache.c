#include "tokencache.h"
#include "../store/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 2048 /* direct-mapped by the token hash; about 2.5 MiB */
#define STRIPES 32

struct entry {
	uint8_t hash[32];
	bool used;
	uint64_t gen;
	int64_t cached_ms;
	struct principal p;
};

struct tokencache {
	pthread_mutex_t mu[STRIPES];
	struct entry slots[SLOTS];
};

struct tokencache *tokencache_new(void)
{
	struct tokencache *tc = calloc(1, sizeof *tc);
	if (tc)
		for (int i = 0; i < STRIPES; i++)
			pthread_mutex_init(&tc->mu[i], NULL);
	return tc;
}

struct tokencache *tokencache_free(struct tokencache *tc)
{
	if (tc) {
		for (int i = 0; i < STRIPES; i++)
			pthread_mutex_destroy(&tc->mu[i]);
		free(tc);
	}
	return NULL;
}

static unsigned slot_of(const uint8_t hash[32])
{
	return ((unsigned)hash[0] | (unsigned)hash[1] << 8) % SLOTS;
}

bool tokencache_get(struct tokencache *tc, const uint8_t hash[32], uint64_t gen, int64_t now_ms,
		    struct principal *ret)
{
	unsigned i = slot_of(hash);
	pthread_mutex_t *mu = &tc->mu[i % STRIPES];
	bool hit = false;
	pthread_mutex_lock(mu);
	struct entry *e = &tc->slots[i];
	if (e->used && e->gen == gen && now_ms - e->cached_ms < TOKENCACHE_TTL_MS &&
	    memcmp(e->hash, hash, 32) == 0) {
		*ret = e->p;
		hit = true;
	}
	pthread_mutex_unlock(mu);
	return hit;
}

void tokencache_put(struct tokencache *tc, const uint8_t hash[32], uint64_t gen, int64_t now_ms,
		    const struct principal *p)
{
	unsigned i = slot_of(hash);
	pthread_mutex_t *mu = &tc->mu[i % STRIPES];
	pthread_mutex_lock(mu);
	struct entry *e = &tc->slots[i];
	memcpy(e->hash, hash, 32);
	e->used = true;
	e->gen = gen;
	e->cached_ms = now_ms;
	e->p = *p;
	pthread_mutex_unlock(mu);
}

void tokencache_seen(struct tokencache *tc, const uint8_t hash[32], int64_t now_ms)
{
	unsigned i = slot_of(hash);
	pthread_mutex_t *mu = &tc->mu[i % STRIPES];
	pthread_mutex_lock(mu);
	struct entry *e = &tc->slots[i];
	if (e->used && memcmp(e->hash, hash, 32) == 0)
		e->p.device.last_seen_ms = now_ms;
	pthread_mutex_unlock(mu);
}
