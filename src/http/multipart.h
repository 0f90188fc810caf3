/* A multipart/form-data body (RFC 7578) carrying one file in a field named "file",
 * parsed as it streams by libmicrohttpd's post processor and handed to a sink piece by
 * piece; other fields are read and dropped (the caller bounds the body). One request's;
 * its worker thread only. */
#ifndef CAIRN_HTTP_MULTIPART_H
#define CAIRN_HTTP_MULTIPART_H

#include <stddef.h>

#include "server.h"

struct multipart;

/* For request r, whose Content-Type must be multipart/form-data with a boundary: NULL
 * otherwise (or out of memory). sink gets the file's bytes in order and returns 0 or a
 * negative error, which stops the parse. */
struct multipart *multipart_new(struct req *r, int (*sink)(void *arg, const void *data, size_t len),
				void *arg);
/* The next bytes of the body. 0; -ERR_INVALID with *ret_why (a sentence) when the body is
 * malformed or names "file" twice; the sink's error. */
int multipart_feed(struct multipart *m, const char *data, size_t len, const char **ret_why);
/* At the end of the body: 0 when the message was complete with exactly one file field,
 * else -ERR_INVALID with *ret_why. */
int multipart_end(struct multipart *m, const char **ret_why);
/* Keeps the value of one more field, name (borrowed), of at most MULTIPART_FIELD_MAX
 * bytes: multipart_kept gives it after multipart_end, or NULL when it was absent, longer,
 * or held a NUL. */
#define MULTIPART_FIELD_MAX 4096
void multipart_keep(struct multipart *m, const char *name);
const char *multipart_kept(const struct multipart *m);
/* Accepts NULL; returns NULL. */
struct multipart *multipart_free(struct multipart *m);

#endif
