#include "netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const unsigned char v4_mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* ::ffff:a.b.c.d to a.b.c.d */
static void unmap(struct netaddr *a)
{
	if (a->family == AF_INET6 && !memcmp(a->a, v4_mapped, sizeof v4_mapped)) {
		memmove(a->a, a->a + 12, 4);
		memset(a->a + 4, 0, 12);
		a->family = AF_INET;
	}
}

int netaddr_parse(const char *s, size_t len, struct netaddr *ret)
{
	char buf[NETADDR_TEXT_LEN];
	if (len == 0 || len >= sizeof buf)
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	struct netaddr a = { 0 };
	if (inet_pton(AF_INET, buf, a.a) == 1) {
		a.family = AF_INET;
	} else if (inet_pton(AF_INET6, buf, a.a) == 1) {
		a.family = AF_INET6;
		unmap(&a);
	} else {
		return -1;
	}
	*ret = a;
	return 0;
}

int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *ret)
{
	struct netaddr a = { 0 };
	if (!sa)
		return -1;
	if (sa->sa_family == AF_INET) {
		a.family = AF_INET;
		memcpy(a.a, &((const struct sockaddr_in *)sa)->sin_addr, 4);
	} else if (sa->sa_family == AF_INET6) {
		a.family = AF_INET6;
		memcpy(a.a, &((const struct sockaddr_in6 *)sa)->sin6_addr, 16);
		unmap(&a);
	} else {
		return -1;
	}
	*ret = a;
	return 0;
}

void netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_LEN])
{
	if (!inet_ntop(a->family, a->a, out, NETADDR_TEXT_LEN))
		snprintf(out, NETADDR_TEXT_LEN, "unknown");
}

bool netaddr_equal(const struct netaddr *x, const struct netaddr *y)
{
	return x->family == y->family && !memcmp(x->a, y->a, x->family == AF_INET ? 4 : 16);
}

uint64_t netaddr_hash(const struct netaddr *a)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	size_t n = a->family == AF_INET ? 4 : 16;
	for (size_t i = 0; i < n; i++) {
		h ^= a->a[i];
		h *= 1099511628211ull;
	}
	return h ^ (uint64_t)a->family;
}

/* Clears the bits of a past the first bits. */
static void mask(struct netaddr *a, int bits)
{
	int total = a->family == AF_INET ? 32 : 128;
	for (int i = bits; i < total; i++)
		a->a[i / 8] &= (unsigned char)~(0x80u >> (i % 8));
}

static int parse_range(const char *s, size_t len, struct netrange *ret)
{
	const char *slash = memchr(s, '/', len);
	size_t alen = slash ? (size_t)(slash - s) : len;
	struct netrange r;
	if (netaddr_parse(s, alen, &r.base) < 0)
		return -1;
	int max = r.base.family == AF_INET ? 32 : 128;
	r.bits = max;
	if (slash) {
		const char *p = slash + 1, *end = s + len;
		if (p == end || end - p > 3)
			return -1;
		int bits = 0;
		for (; p < end; p++) {
			if (*p < '0' || *p > '9')
				return -1;
			bits = bits * 10 + (*p - '0');
		}
		if (bits > max)
			return -1;
		r.bits = bits;
	}
	mask(&r.base, r.bits);
	*ret = r;
	return 0;
}

int netrange_list_parse(const char *s, struct netrange_list *ret, char *err, size_t errlen)
{
	ret->n = 0;
	const char *p = s;
	for (;;) {
		while (*p == ' ' || *p == ',' || *p == '\t')
			p++;
		if (!*p)
			return 0;
		const char *end = p;
		while (*end && *end != ' ' && *end != ',' && *end != '\t')
			end++;
		size_t len = (size_t)(end - p);
		if (ret->n == NETRANGE_LIST_MAX) {
			snprintf(err, errlen, "more than %d entries", NETRANGE_LIST_MAX);
			return -1;
		}
		if (parse_range(p, len, &ret->v[ret->n]) < 0) {
			snprintf(err, errlen, "'%.*s' is not an IP address or CIDR range",
				 (int)(len > 64 ? 64 : len), p);
			return -1;
		}
		ret->n++;
		p = end;
	}
}

bool netrange_list_has(const struct netrange_list *l, const struct netaddr *a)
{
	for (int i = 0; i < l->n; i++) {
		const struct netrange *r = &l->v[i];
		if (r->base.family != a->family)
			continue;
		struct netaddr m = *a;
		mask(&m, r->bits);
		if (netaddr_equal(&m, &r->base))
			return true;
	}
	return false;
}

void netaddr_forwarded_client(const struct netrange_list *trusted, const struct netaddr *peer,
			      const char *xff, struct netaddr *ret)
{
	struct netaddr cur = *peer;
	size_t end = xff ? strlen(xff) : 0;
	while (end > 0) {
		size_t start = end;
		while (start > 0 && xff[start - 1] != ',')
			start--;
		size_t a = start, b = end;
		while (a < b && (xff[a] == ' ' || xff[a] == '\t'))
			a++;
		while (b > a && (xff[b - 1] == ' ' || xff[b - 1] == '\t'))
			b--;
		end = start ? start - 1 : 0;
		if (a == b)
			continue; /* an empty list element: RFC 9110 section 5.6.1 allows them */
		/* some proxies write "[2001:db8::1]:443" or "192.0.2.1:443" */
		if (xff[a] == '[') {
			const char *close = memchr(xff + a, ']', b - a);
			if (!close)
				break;
			b = (size_t)(close - xff);
			a++;
		} else {
			const char *colon = memchr(xff + a, ':', b - a);
			if (colon && !memchr(colon + 1, ':', (size_t)(xff + b - colon - 1)) &&
			    memchr(xff + a, '.', (size_t)(colon - xff - a)))
				b = (size_t)(colon - xff);
		}
		struct netaddr hop;
		if (netaddr_parse(xff + a, b - a, &hop) < 0)
			break;
		cur = hop;
		if (!netrange_list_has(trusted, &hop))
			break;
	}
	*ret = cur;
}
