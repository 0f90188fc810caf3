/* Rate limits: fixed one-minute windows counted per key ("login:addr:127.0.0.1"), in a
 * fixed-size table so memory does not grow with the number of clients. A key that
 * collides with another in the table only shares its count. Single-node: counters live in
 * memory and reset on restart. */
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
