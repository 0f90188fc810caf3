/* Content-defined chunking: where a file's bytes are cut into chunks, so that an edit
 * moves only the cuts around it and the other chunks keep their hashes (deduplication).
 *
 * The method is FastCDC's (Xia et al., USENIX ATC 2016): a gear rolling hash
 * h = (h << 1) + GEAR[byte], no cut before min bytes, a cut where the hash's top bits are
 * all zero, with a stricter mask (log2(avg) + 2 bits) before avg bytes and a looser one
 * (log2(avg) - 2 bits) after ("normalised chunking", which narrows the spread of sizes
 * around avg), and a forced cut at max. The hash restarts at every cut.
 *
 * The gear table is part of the format: the server (PUT .../content) and `cairn sync` cut
 * alike only while it stays the same. It is the first 256 outputs of SplitMix64 from seed
 * 0x6361697266696c65 ("cairfile"). Other clients may cut however they like: the server
 * accepts any chunks within files.chunk_max. Pure; any thread. */
#ifndef CAIRN_FILES_CDC_H
#define CAIRN_FILES_CDC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Bounds on the sizes (files.chunk_min, chunk_avg, chunk_max): 64 <= min < avg < max <=
 * CDC_MAX_CHUNK, avg a power of two. */
#define CDC_MIN_CHUNK 64
#define CDC_MAX_CHUNK (64u << 20)

struct cdc {
	uint32_t min, avg, max;
	uint64_t mask_s, mask_l;
	uint64_t h;
	uint32_t len; /* bytes of the current chunk so far */
};

/* Sizes as above (checked by the configuration; out of bounds here is a caller's bug). */
void cdc_init(struct cdc *c, uint32_t min, uint32_t avg, uint32_t max);
/* Scans data (n bytes) as the continuation of the current chunk: returns how many of them
 * belong to it, and sets *cut when the chunk ends after them (the next call starts a new
 * one). The last chunk of a file is whatever remains when the bytes end. */
size_t cdc_next(struct cdc *c, const uint8_t *data, size_t n, bool *cut);
/* The gear table (for tests that pin the format). */
const uint64_t *cdc_gear(void);

#endif
