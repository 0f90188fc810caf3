#include "encoding.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <zlib.h>

#include "../util/err.h"

/* The q of one list element's parameters ("q=0.5"); 1 when none. */
static double q_of(const char *params, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (params[i] != ';')
			continue;
		size_t j = i + 1;
		while (j < n && params[j] == ' ')
			j++;
		if (j + 1 < n && (params[j] == 'q' || params[j] == 'Q') && params[j + 1] == '=') {
			char tmp[16];
			size_t k = 0;
			for (j += 2; j < n && k + 1 < sizeof tmp && params[j] != ';'; j++)
				tmp[k++] = params[j];
			tmp[k] = '\0';
			char *end;
			double q = strtod(tmp, &end);
			return end == tmp ? 0 : q;
		}
	}
	return 1;
}

bool encoding_accepts_gzip(const char *accept)
{
	if (!accept)
		return false;
	int gzip = -1, star = -1; /* -1: not named; else whether its q is above 0 */
	const char *p = accept;
	while (*p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *e = p;
		while (*e && *e != ',')
			e++;
		size_t tok = 0;
		while (p + tok < e && p[tok] != ';' && p[tok] != ' ')
			tok++;
		double q = q_of(p + tok, (size_t)(e - p - tok));
		if ((tok == 4 && !strncasecmp(p, "gzip", 4)) || (tok == 6 && !strncasecmp(p, "x-gzip", 6)))
			gzip = q > 0;
		else if (tok == 1 && *p == '*')
			star = q > 0;
		p = e;
	}
	return gzip == 1 || (gzip == -1 && star == 1);
}

int encoding_gzip(const void *in, size_t len, int level, struct buf *out)
{
	buf_reset(out);
	z_stream z;
	memset(&z, 0, sizeof z);
	/* 15 + 16: a gzip wrapper, not zlib's */
	if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -ERR_NOMEM;
	z.next_in = (Bytef *)in;
	z.avail_in = (uInt)len;
	int r = 0, zr;
	do {
		unsigned char chunk[65536];
		z.next_out = chunk;
		z.avail_out = sizeof chunk;
		zr = deflate(&z, Z_FINISH);
		if (zr == Z_STREAM_ERROR) {
			r = -ERR_NOMEM;
			break;
		}
		r = buf_append(out, (const char *)chunk, sizeof chunk - z.avail_out);
	} while (r == 0 && zr != Z_STREAM_END);
	deflateEnd(&z);
	return r;
}

bool encoding_inflatable(const char *coding)
{
	return coding && (!strcasecmp(coding, "gzip") || !strcasecmp(coding, "x-gzip") ||
			  !strcasecmp(coding, "deflate"));
}

struct inflater {
	z_stream z;
	bool done;
};

struct inflater *inflater_new(void)
{
	struct inflater *z = calloc(1, sizeof *z);
	/* 15 + 32: gzip or zlib, told apart by their headers ("deflate" is zlib's format) */
	if (z && inflateInit2(&z->z, 15 + 32) != Z_OK) {
		free(z);
		return NULL;
	}
	return z;
}

int inflater_feed(struct inflater *z, const void *data, size_t len, struct buf *out)
{
	if (len && z->done)
		return -ERR_INVALID; /* bytes after the end */
	z->z.next_in = (Bytef *)(uintptr_t)data;
	z->z.avail_in = (uInt)len;
	unsigned char chunk[16384];
	while (z->z.avail_in > 0 && !z->done) {
		z->z.next_out = chunk;
		z->z.avail_out = sizeof chunk;
		int rc = inflate(&z->z, Z_NO_FLUSH);
		if (rc != Z_OK && rc != Z_STREAM_END && rc != Z_BUF_ERROR)
			return -ERR_INVALID;
		size_t got = sizeof chunk - z->z.avail_out;
		if (got && buf_append(out, chunk, got) < 0)
			return -ERR_TOO_LARGE;
		if (rc == Z_STREAM_END)
			z->done = true;
		else if (rc == Z_BUF_ERROR && got == 0)
			break;
	}
	return z->z.avail_in > 0 ? -ERR_INVALID : 0;
}

bool inflater_done(const struct inflater *z)
{
	return z->done;
}

void inflater_free(struct inflater *z)
{
	if (!z)
		return;
	inflateEnd(&z->z);
	free(z);
}
