/* Content-defined chunking: see cdc.h. */
#include "cdc.h"

#include <pthread.h>

static uint64_t gear[256];
static pthread_once_t gear_once = PTHREAD_ONCE_INIT;

/* SplitMix64 (Steele, Lea, Flood 2014): each step adds the golden-ratio increment and
 * mixes the sum with two multiply-xorshift rounds. */
static void gear_fill(void)
{
	uint64_t x = 0x6361697266696c65ULL;
	for (int i = 0; i < 256; i++) {
		x += 0x9e3779b97f4a7c15ULL;
		uint64_t z = x;
		z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
		z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
		gear[i] = z ^ (z >> 31);
	}
}

const uint64_t *cdc_gear(void)
{
	pthread_once(&gear_once, gear_fill);
	return gear;
}

static int log2u(uint32_t v)
{
	int b = 0;
	while (v >>= 1)
		b++;
	return b;
}

/* The top `bits` bits of a 64-bit word: those that depend on the most recent bytes. */
static uint64_t top_bits(int bits)
{
	return bits <= 0 ? 0 : bits >= 64 ? ~0ULL : ~0ULL << (64 - bits);
}

void cdc_init(struct cdc *c, uint32_t min, uint32_t avg, uint32_t max)
{
	cdc_gear();
	int b = log2u(avg);
	*c = (struct cdc){ .min = min, .avg = avg, .max = max };
	c->mask_s = top_bits(b + 2);
	c->mask_l = top_bits(b - 2);
}

size_t cdc_next(struct cdc *c, const uint8_t *data, size_t n, bool *cut)
{
	*cut = false;
	uint64_t len = c->len; /* the chunk's bytes before data[0]; always below max */
	size_t i = 0;
	if (len < c->min) { /* no cut comes before min: those bytes are not even hashed */
		uint64_t skip = c->min - len;
		if (skip >= n) {
			c->len = (uint32_t)(len + n);
			return n;
		}
		i = (size_t)skip;
	}
	/* data[i] is at offset len + i of the chunk */
	uint64_t h = c->h;
	size_t lim = len + n > c->avg ? (size_t)(c->avg > len ? c->avg - len : 0) : n;
	for (; i < lim; i++) { /* before avg: the strict mask */
		h = (h << 1) + gear[data[i]];
		if (!(h & c->mask_s))
			goto found;
	}
	lim = len + n > c->max ? (size_t)(c->max - len) : n;
	for (; i < lim; i++) { /* from avg to max: the loose mask */
		h = (h << 1) + gear[data[i]];
		if (!(h & c->mask_l))
			goto found;
	}
	if (len + i >= c->max) { /* a chunk of max bytes: cut after them */
		c->h = 0;
		c->len = 0;
		*cut = true;
		return i;
	}
	c->h = h;
	c->len = (uint32_t)(len + n);
	return n;
found:
	c->h = 0;
	c->len = 0;
	*cut = true;
	return i + 1;
}
