/* A cache of token lookups: a token check is one hash and one memory lookup instead of
 * a database query (a query cost over a quarter of an authenticated request).
 *
 * An entry is used only while (a) the store's auth generation is the one it was read
 * at, so any revocation, logout, password change or disabling committed by this process
 * takes effect on the very next request, and (b) it is younger than one second, which
 * bounds how long a change made by another process (cairn user/token on the same data
 * directory) can go unseen. */
#ifndef CAIRN_TOKENCACHE_H
#define CAIRN_TOKENCACHE_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/model.h"

#define TOKENCACHE_TTL_MS 1000

struct tokencache;

struct tokencache *tokencache_new(void);
struct tokencache *tokencache_free(struct tokencache *tc);

/* true and *ret filled when a valid entry for hash exists. */
bool tokencache_get(struct tokencache *tc, const uint8_t hash[32], uint64_t gen, int64_t now_ms,
		    struct principal *ret);
void tokencache_put(struct tokencache *tc, const uint8_t hash[32], uint64_t gen, int64_t now_ms,
		    const struct principal *p);
/* Records that the device was seen at now_ms in the cached entry. */
void tokencache_seen(struct tokencache *tc, const uint8_t hash[32], int64_t now_ms);

#endif
