/* HTTP byte ranges (RFC 9110, section 14): one range of a representation of known size. */
#ifndef CAIRN_RANGE_H
#define CAIRN_RANGE_H

#include <stdint.h>

enum range_result {
	RANGE_NONE,          /* absent, malformed or several ranges: send everything (200) */
	RANGE_OK,            /* *ret_off, *ret_len: send that part (206) */
	RANGE_UNSATISFIABLE, /* a well-formed range outside the content (416) */
};

/* Parses a Range header value ("bytes=0-99", "bytes=100-", "bytes=-50") against size. */
enum range_result range_parse(const char *header, uint64_t size, uint64_t *ret_off,
			      uint64_t *ret_len);

#endif
