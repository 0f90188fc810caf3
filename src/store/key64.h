/* A 64-bit key for text that a narrow index stores instead of the text itself (an op id
 * is up to 128 bytes; its key is 8). FNV-1a, 64-bit variant (Fowler, Noll, Vo; the
 * offset basis and prime of draft-eastlake-fnv). Not a digest: two texts may share a key,
 * so every lookup by key also compares the text. Any thread; no allocation. */
#ifndef CAIRN_KEY64_H
#define CAIRN_KEY64_H

#include <stddef.h>
#include <stdint.h>

static inline int64_t store_key64(const char *s, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 0x100000001b3ULL;
	}
	return (int64_t)h;
}

#endif
