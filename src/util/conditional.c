#include "conditional.h"

#include <string.h>

static const char *skip_ows(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

int cond_if_match_version(const char *h, int64_t *ret)
{
	const char *p = skip_ows(h);
	bool quoted = *p == '"';
	if (quoted)
		p++;
	if (*p < '0' || *p > '9' || (p[0] == '0' && p[1] >= '0' && p[1] <= '9'))
		return -1; /* entity tags compare as strings: "01" is no version's tag */
	uint64_t v = 0;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (uint64_t)INT64_MAX / 10)
			return -1;
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > (uint64_t)INT64_MAX)
			return -1;
	}
	if (quoted && *p++ != '"')
		return -1;
	if (*skip_ows(p))
		return -1;
	*ret = (int64_t)v;
	return 0;
}

bool cond_etag_listed(const char *list, const char *etag)
{
	size_t n = strlen(etag);
	const char *p = list;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (!*p)
			return false;
		if (*p == '*')
			return true;
		if (!strncmp(p, "W/", 2))
			p += 2;
		if (!strncmp(p, etag, n)) {
			const char *q = skip_ows(p + n);
			if (*q == '\0' || *q == ',')
				return true;
		}
		/* on to the next member: past this tag's closing quote, then its comma */
		if (*p == '"') {
			const char *close = strchr(p + 1, '"');
			p = close ? close + 1 : p + strlen(p);
		}
		while (*p && *p != ',')
			p++;
	}
}

bool cond_is_star(const char *header)
{
	const char *p = skip_ows(header);
	return *p == '*' && *skip_ows(p + 1) == '\0';
}
