/* Percent-decoding of URL paths and query values. */
#ifndef CAIRN_URL_H
#define CAIRN_URL_H

#include <stdbool.h>
#include <stddef.h>

/* Decodes n bytes of s into out (which has room for n + 1 bytes) and NUL-terminates it.
 * With plus_is_space, '+' becomes ' ' (query strings). Returns the decoded length, or -1
 * for a malformed escape or an encoded NUL byte. */
long url_decode(const char *s, size_t n, char *out, bool plus_is_space);

#endif
