#include "encoding.h"

#include <ctype.h>
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
