/* Rate limits: fixed one-minute windows counted per key ("cred:a:127.0.0.1"), in a
 * fixed-size table so memory does not grow with the number of clients. Keys are hashed
 * with a random per-process key, so nobody can aim keys at another's counter; when every
 * slot near a key is busy this minute, the one with the fewest hits is reused.
 * Single-node: counters live in memory and reset on restart. */
#ifndef CAIRN_RATELIMIT_H
#define CAIRN_RATELIMIT_H

#include <stdint.h>

struct ratelimit;

struct ratelimit *ratelimit_new(void);
struct ratelimit *ratelimit_free(struct ratelimit *rl);

/* Counts one hit on key. 0 while within limit per minute; otherwise the seconds until the
 * window ends (for Retry-After). */
int ratelimit_hit(struct ratelimit *rl, const char *key, int64_t limit, int64_t now_ms);

#endif
