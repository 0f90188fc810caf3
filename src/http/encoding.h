/* Content codings of responses (RFC 9110 section 8.4): whether a client takes gzip
 * (Accept-Encoding, with its q-values), and gzip itself (RFC 1952, by zlib). */
#ifndef CAIRN_ENCODING_H
#define CAIRN_ENCODING_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/buf.h"

/* Whether accept (an Accept-Encoding value, or NULL) takes gzip: "gzip" or "x-gzip" with
 * a q above 0, or "*" with a q above 0 when gzip is not named. */
bool encoding_accepts_gzip(const char *accept);
/* in compressed at level (1 to 9) into out (reset first; its max bounds the result):
 * 0, -ERR_TOO_LARGE when out's limit is reached, -ERR_NOMEM. Any thread. */
int encoding_gzip(const void *in, size_t len, int level, struct buf *out);

/* Request bodies that come compressed (Content-Encoding: gzip, x-gzip or deflate; RFC 9110
 * section 8.4.1), inflated as they arrive, into out: its max bounds the inflated bytes, so
 * a small bomb stops at the limit having cost no more memory. */
struct inflater;
/* Whether coding (a Content-Encoding value) is one an inflater takes. */
bool encoding_inflatable(const char *coding);
struct inflater *inflater_new(void); /* NULL: out of memory */
/* 0; -ERR_TOO_LARGE past out's max; -ERR_INVALID for bytes that are not gzip or zlib, or
 * that follow the end of the stream. */
int inflater_feed(struct inflater *z, const void *data, size_t len, struct buf *out);
/* Whether the stream ended (a body cut short did not). */
bool inflater_done(const struct inflater *z);
void inflater_free(struct inflater *z); /* accepts NULL */

#endif
