/* Appenders that write JSON text straight into a buffer, for the pages that carry many
 * items (pulls, records listings): building json-c objects and printing them cost most
 * of a page's CPU. Only for text that needs no escaping (ids, names and timestamps the
 * server checked, stored JSON) and numbers. Each appends unless *e is already an error,
 * and leaves the first error (buf_append's) in *e. */
#ifndef CAIRN_JSONOUT_H
#define CAIRN_JSONOUT_H

#include <stdint.h>
#include <string.h>

#include "../util/buf.h"

static inline void put(struct buf *b, int *e, const char *s, size_t n)
{
	if (*e == 0)
		*e = buf_append(b, s, n);
}

/* A string literal (only: its size is taken at compile time; "" "x" checks that). */
#define PUT_LIT(b, e, lit) put((b), (e), "" lit, sizeof(lit) - 1)

static inline void put_str(struct buf *b, int *e, const char *s)
{
	put(b, e, s, strlen(s));
}

/* A whole number in decimal. */
static inline void put_i64(struct buf *b, int *e, int64_t v)
{
	char t[24];
	int n = sizeof t;
	uint64_t u = v < 0 ? 0 - (uint64_t)v : (uint64_t)v;
	do
		t[--n] = (char)('0' + u % 10);
	while ((u /= 10) != 0);
	if (v < 0)
		t[--n] = '-';
	put(b, e, t + n, sizeof t - (size_t)n);
}

#endif
