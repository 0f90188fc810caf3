/* The remote ends of connections: how many each address has open, for
 * server.max_connections_per_address, and which addresses are trusted proxies
 * (server.trusted_proxies), which are exempt from it and whose X-Forwarded-For is read.
 * Thread-safe: the accept policy, the connection notices and the requests all call it. */
#ifndef CAIRN_HTTP_PEERS_H
#define CAIRN_HTTP_PEERS_H

#include <stdbool.h>
#include <stddef.h>

#include "../util/netaddr.h"

struct peers;

/* per_address: connections one untrusted address may hold; trusted: copied. expected is
 * about how many addresses may be counted at once (the table's size). NULL when out of
 * memory. */
struct peers *peers_new(const struct netrange_list *trusted, long per_address, size_t expected);
struct peers *peers_free(struct peers *p);

bool peers_trusted(const struct peers *p, const struct netaddr *a);
/* Whether a connection from a may be accepted now (a trusted proxy always may). */
bool peers_may_connect(struct peers *p, const struct netaddr *a);
/* Counts a new connection from a; false (and not counted) when that passes the limit: the
 * caller closes it. Trusted proxies are not counted. */
bool peers_add(struct peers *p, const struct netaddr *a);
/* The end of a connection peers_add counted. */
void peers_remove(struct peers *p, const struct netaddr *a);
/* Open connections of a, as counted (for tests and stats). */
long peers_count(struct peers *p, const struct netaddr *a);

/* The client a request came from: the peer itself, or, when the peer is a trusted proxy,
 * what its X-Forwarded-For says (netaddr_forwarded_client). */
void peers_client(const struct peers *p, const struct netaddr *peer, const char *xff,
		  struct netaddr *ret);

#endif
