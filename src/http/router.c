#include "router.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	unsigned bit;
} methods[] = {
	{ "GET", HM_GET },     { "HEAD", HM_HEAD },     { "POST", HM_POST },
	{ "PUT", HM_PUT },     { "PATCH", HM_PATCH },   { "DELETE", HM_DELETE },
	{ "OPTIONS", HM_OPTIONS },
};

unsigned http_method_parse(const char *s)
{
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
		if (strcmp(s, methods[i].name) == 0)
			return methods[i].bit;
	return 0;
}

void http_methods_format(unsigned mask, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
		if (!(mask & methods[i].bit))
			continue;
		int n = snprintf(out + o, len - o, "%s%s", o ? ", " : "", methods[i].name);
		if (n < 0 || (size_t)n >= len - o)
			break;
		o += (size_t)n;
	}
}

/* Matches one pattern against path; fills params on success. */
static int pattern_match(const char *pat, const char *path, struct route_params *params)
{
	params->n = 0;
	const char *p = pat, *s = path;
	while (*p) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close)
				return 0;
			int rest = close[-1] == '*';
			const char *name = p + 1;
			size_t name_len = (size_t)(close - name) - (size_t)rest;
			const char *end = rest ? s + strlen(s) : strchrnul(s, '/');
			if (end == s || params->n == ROUTE_MAX_PARAMS)
				return 0;
			params->names[params->n] = name;
			params->name_lens[params->n] = name_len;
			params->values[params->n].ptr = s;
			params->values[params->n].len = (size_t)(end - s);
			params->n++;
			s = end;
			p = close + 1;
		} else {
			if (*p != *s)
				return 0;
			p++;
			s++;
		}
	}
	return *s == '\0';
}

/* How specific a pattern is: one bit per segment, most significant first, set for a
 * literal segment. Of two patterns that match one path, the greater is the one meant. */
static uint64_t specificity(const char *pat)
{
	uint64_t key = 0;
	int seg = 0;
	for (const char *p = pat; *p && seg < 63; seg++) {
		if (*p == '/')
			p++;
		bool literal = *p != '{';
		key |= (uint64_t)literal << (62 - seg);
		p = strchrnul(p, '/');
	}
	return key;
}

enum route_match router_match(const struct route *routes, size_t n, unsigned method,
			      const char *path, const struct route **ret_route,
			      struct route_params *ret_params, unsigned *ret_allowed)
{
	unsigned want = method == HM_HEAD ? (HM_HEAD | HM_GET) : method;
	/* The resource is the most specific pattern that matches: /blobs/missing is never
	 * /blobs/{sha256}, whatever the method. The table lists more specific patterns first
	 * (router_check_order), so the first row that matches the path names the resource,
	 * and only rows of the same pattern shape may serve it. */
	bool found = false;
	uint64_t best = 0;
	unsigned allowed = 0;
	for (size_t i = 0; i < n; i++) {
		struct route_params params;
		if (!pattern_match(routes[i].pattern, path, &params))
			continue;
		uint64_t k = specificity(routes[i].pattern);
		if (!found) {
			found = true;
			best = k;
		} else if (k != best) {
			continue;
		}
		if (routes[i].methods & want) {
			*ret_route = &routes[i];
			*ret_params = params;
			return ROUTE_FOUND;
		}
		allowed |= routes[i].methods;
	}
	if (!found)
		return ROUTE_NO_PATH;
	if (allowed & HM_GET)
		allowed |= HM_HEAD;
	*ret_allowed = allowed;
	return ROUTE_NO_METHOD;
}

/* Whether some path could match both patterns: segment by segment, equal literals or a
 * parameter on either side (a {rest*} parameter takes whatever is left). */
static bool can_overlap(const char *a, const char *b)
{
	for (;;) {
		if (*a == '/')
			a++;
		if (*b == '/')
			b++;
		if (!*a || !*b)
			return !*a && !*b;
		const char *ea = strchrnul(a, '/'), *eb = strchrnul(b, '/');
		bool pa = *a == '{', pb = *b == '{';
		if ((pa && ea[-1] == '}' && ea[-2] == '*') || (pb && eb[-1] == '}' && eb[-2] == '*'))
			return true;
		if (!pa && !pb && (ea - a != eb - b || strncmp(a, b, (size_t)(ea - a)) != 0))
			return false;
		a = ea;
		b = eb;
	}
}

int router_check_order(const struct route *routes, size_t n, char *err, size_t errlen)
{
	for (size_t j = 0; j < n; j++)
		for (size_t i = 0; i < j; i++)
			if (can_overlap(routes[i].pattern, routes[j].pattern) &&
			    specificity(routes[j].pattern) > specificity(routes[i].pattern)) {
				snprintf(err, errlen, "route %s must come before %s",
					 routes[j].pattern, routes[i].pattern);
				return -1;
			}
	return 0;
}
