/* IP addresses and CIDR ranges (RFC 4632, RFC 4291 section 2.3): parsing, matching and
 * formatting, for trusted proxies and per-address connection counts. An IPv4-mapped IPv6
 * address (::ffff:192.0.2.1) is the IPv4 address, so a dual-stack listener and a list
 * written in IPv4 agree. Pure functions; any thread. */
#ifndef CAIRN_NETADDR_H
#define CAIRN_NETADDR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sockaddr;

struct netaddr {
	int family;           /* AF_INET or AF_INET6 */
	unsigned char a[16];  /* network order; IPv4 uses the first 4 */
};

struct netrange {
	struct netaddr base; /* with the bits past the prefix cleared */
	int bits;
};

#define NETRANGE_LIST_MAX 64

struct netrange_list {
	int n;
	struct netrange v[NETRANGE_LIST_MAX];
};

/* "192.0.2.1" or "2001:db8::1" (no brackets, no zone). -1 when it is neither. */
int netaddr_parse(const char *s, size_t len, struct netaddr *ret);
/* From an AF_INET or AF_INET6 socket address; -1 for other families. */
int netaddr_from_sockaddr(const struct sockaddr *sa, struct netaddr *ret);
/* As text, at most 46 bytes with the NUL. */
#define NETADDR_TEXT_LEN 46
void netaddr_format(const struct netaddr *a, char out[NETADDR_TEXT_LEN]);
bool netaddr_equal(const struct netaddr *x, const struct netaddr *y);
/* A hash of the address, for tables. */
uint64_t netaddr_hash(const struct netaddr *a);

/* "10.0.0.1, 192.168.0.0/16, ::1" (commas or spaces between entries; an address alone is
 * a /32 or /128). -1 with a message naming the bad entry in err. */
int netrange_list_parse(const char *s, struct netrange_list *ret, char *err, size_t errlen);
bool netrange_list_has(const struct netrange_list *l, const struct netaddr *a);

/* The client of a request that reached us from peer, a trusted proxy, carrying
 * X-Forwarded-For: xff (every field line joined with commas, in order; NULL when absent).
 * Each proxy appends the address it received the request from, so the entries are read
 * from the right: the first that is not itself a trusted proxy is the client. The left
 * part is whatever the client sent and is never believed past that point. When every
 * entry is trusted the leftmost is taken; a malformed entry stops the walk at the last
 * address read (the proxy that wrote it). *ret is peer when xff has no entries. */
void netaddr_forwarded_client(const struct netrange_list *trusted, const struct netaddr *peer,
			      const char *xff, struct netaddr *ret);

#endif
