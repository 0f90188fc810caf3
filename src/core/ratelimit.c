#include "ratelimit.h"

#include <pthread.h>
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
	struct slot slots[SLOTS];
};

struct ratelimit *ratelimit_new(void)
{
	struct ratelimit *rl = calloc(1, sizeof *rl);
	if (rl)
		pthread_mutex_init(&rl->mu, NULL);
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

/* FNV-1a, then mixed; never 0 so that 0 can mean an empty slot. */
static uint64_t hash_key(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h ? h : 1;
}

int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t limit, int64_t now_ms)
{
	uint64_t h = hash_key(key);
	int64_t window = now_ms / WINDOW_MS;
	pthread_mutex_lock(&rl->mu);
	struct slot *found = NULL, *free_slot = NULL;
	for (int i = 0; i < PROBE; i++) {
		struct slot *s = &rl->slots[(h + (uint64_t)i) % SLOTS];
		if (s->h == h) {
			found = s;
			break;
		}
		if (!free_slot && (s->h == 0 || s->window < window))
			free_slot = s;
	}
	if (!found) {
		/* Every probed slot busy this minute: take the first; an attacker who fills the
		 * table only resets counters, never blocks other keys. */
		found = free_slot ? free_slot : &rl->slots[h % SLOTS];
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
