/* Conditional request headers (RFC 9110 section 13) as Cairn uses them: If-Match naming
 * one version of a record, and If-None-Match lists compared with a blob's entity tag. Pure
 * functions of the header text; any thread. */
#ifndef CAIRN_CONDITIONAL_H
#define CAIRN_CONDITIONAL_H

#include <stdbool.h>
#include <stdint.h>

/* If-Match as one record version: "42" (a strong entity tag, RFC 9110 section 8.8.3) or
 * 42, with optional spaces around. 0 with *ret; -1 for anything else (a weak tag, a list,
 * "*", a sign, a leading zero, a number beyond 2^63-1). */
int cond_if_match_version(const char *header, int64_t *ret);

/* Whether a header is "*" alone (optional spaces or tabs around). */
bool cond_is_star(const char *header);

/* Whether an If-None-Match value ("*", or a list of entity tags, weak or strong) names
 * etag (given with its quotes) by the weak comparison (RFC 9110 section 13.1.2). */
bool cond_etag_listed(const char *list, const char *etag);

#endif
