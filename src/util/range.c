#include "range.h"

#include <stdbool.h>
#include <string.h>

/* Decimal digits at *p into *ret (no sign, no overflow); false when there are none. */
static bool number(const char **p, uint64_t *ret)
{
	const char *s = *p;
	uint64_t v = 0;
	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*p = s;
	*ret = v;
	return true;
}

static const char *skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

enum range_result range_parse(const char *h, uint64_t size, uint64_t *ret_off,
			      uint64_t *ret_len)
{
	if (!h || strncmp(h, "bytes=", 6) != 0)
		return RANGE_NONE;
	const char *p = skip_ws(h + 6);
	uint64_t first = 0, last = 0;
	bool has_first = number(&p, &first);
	if (*p++ != '-')
		return RANGE_NONE;
	bool has_last = number(&p, &last);
	p = skip_ws(p);
	if (*p != '\0' || (!has_first && !has_last))
		return RANGE_NONE; /* several ranges, or garbage: the whole content instead */
	if (!has_first) {
		/* the last `last` bytes */
		if (last == 0 || size == 0)
			return RANGE_UNSATISFIABLE;
		*ret_len = last < size ? last : size;
		*ret_off = size - *ret_len;
		return RANGE_OK;
	}
	if (has_last && last < first)
		return RANGE_NONE; /* invalid: ignored, as RFC 9110 says */
	if (first >= size)
		return RANGE_UNSATISFIABLE;
	if (!has_last || last >= size)
		last = size - 1;
	*ret_off = first;
	*ret_len = last - first + 1;
	return RANGE_OK;
}
