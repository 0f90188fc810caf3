#include "ratelimit.h"
#include "../store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 16384
#define PROBE 16
#define WINDOW_MS 60000

struct slot {
	uint64_t h;
	int64_t window;
	int64_t count;
};

struct ratelimit {
	pthread_mutex_t mu;
	unsigned char key[crypto_shorthash_KEYBYTES]; /* random per process */
	struct slot slots[SLOTS];
};

struct ratelimit *ratelimit_new(void)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);
	if (rl) {
		pthread_mutex_init(&rl->mu, NULL);
		crypto_shorthash_keygen(rl->key);
	}
	return rl;
}

struct ratelimit *ratelimit_free(struct ratelimit *rl)
{
	if (rl) {
		pthread_mutex_destroy(&rl->mu);
		free(rl);
	}
	return NULL;
}

/* SipHash-2-4 under the process's random key: a client cannot choose keys that land in
 * the slots of another's counter (with an unkeyed hash it could, offline, and reset the
 * counter of any account it wanted to guess at). Never 0, which marks an empty slot. */
static uint64_t hash_key(const struct ratelimit *rl, const char *s)
{
	unsigned char out[crypto_shorthash_BYTES];
	crypto_shorthash(out, (const unsigned char *)s, strlen(s), rl->key);
	uint64_t h;
	memcpy(&h, out, sizeof h);
	return h ? h : 1;
}

int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t limit, int64_t now_ms)
{
	uint64_t h = hash_key(rl, key);
	int64_t window = now_ms / WINDOW_MS;
	pthread_mutex_lock(&rl->mu);
	struct slot *found = NULL, *free_slot = NULL, *least = NULL;
	for (int i = 0; i < PROBE; i++) {
		struct slot *s = &rl->slots[(h + (uint64_t)i) % SLOTS];
		if (s->h == h) {
			found = s;
			break;
		}
		if (!free_slot && (s->h == 0 || s->window < window))
			free_slot = s;
		if (!least || s->count < least->count)
			least = s;
	}
	if (!found) {
		/* Every probed slot busy this minute: the one with the fewest hits goes (the
		 * counters worth keeping are the ones near their limit). A table this full takes
		 * 16 keys in one slot's neighbourhood, which the keyed hash spreads at random. */
		found = free_slot ? free_slot : least;
		found->h = h;
		found->window = window;
		found->count = 0;
	}
	if (found->window != window) {
		found->window = window;
		found->count = 0;
	}
	found->count++;
	int retry = 0;
	if (found->count > limit)
		retry = (int)((WINDOW_MS - now_ms % WINDOW_MS + 999) / 1000);
	pthread_mutex_unlock(&rl->mu);
	return retry;
}
