#include "peers.h"

#include <pthread.h>
#include <stdlib.h>

/* A chained hash table of the addresses that have connections open; an entry goes when
 * its count reaches 0, so the table holds at most one entry per open connection. */
struct entry {
	struct entry *next;
	struct netaddr a;
	long n;
};

struct peers {
	pthread_mutex_t mu;
	struct netrange_list trusted;
	long per_address;
	size_t nbuckets; /* a power of two */
	struct entry **buckets;
};

struct peers *peers_new(const struct netrange_list *trusted, long per_address, size_t expected)
{
	struct peers *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->trusted = *trusted;
	p->per_address = per_address;
	p->nbuckets = 256;
	while (p->nbuckets < expected && p->nbuckets < (1u << 16))
		p->nbuckets *= 2;
	p->buckets = calloc(p->nbuckets, sizeof *p->buckets);
	if (!p->buckets) {
		free(p);
		return NULL;
	}
	pthread_mutex_init(&p->mu, NULL);
	return p;
}

struct peers *peers_free(struct peers *p)
{
	if (!p)
		return NULL;
	for (size_t i = 0; i < p->nbuckets; i++)
		while (p->buckets[i]) {
			struct entry *e = p->buckets[i];
			p->buckets[i] = e->next;
			free(e);
		}
	free(p->buckets);
	pthread_mutex_destroy(&p->mu);
	free(p);
	return NULL;
}

bool peers_trusted(const struct peers *p, const struct netaddr *a)
{
	return netrange_list_has(&p->trusted, a);
}

/* The entry of a, or where it would be linked; under the lock. */
static struct entry **slot(struct peers *p, const struct netaddr *a)
{
	struct entry **e = &p->buckets[netaddr_hash(a) & (p->nbuckets - 1)];
	while (*e && !netaddr_equal(&(*e)->a, a))
		e = &(*e)->next;
	return e;
}

bool peers_may_connect(struct peers *p, const struct netaddr *a)
{
	if (peers_trusted(p, a))
		return true;
	pthread_mutex_lock(&p->mu);
	struct entry *e = *slot(p, a);
	bool ok = !e || e->n < p->per_address;
	pthread_mutex_unlock(&p->mu);
	return ok;
}

bool peers_add(struct peers *p, const struct netaddr *a)
{
	if (peers_trusted(p, a))
		return true;
	bool ok = true;
	pthread_mutex_lock(&p->mu);
	struct entry **s = slot(p, a);
	if (!*s) {
		struct entry *e = calloc(1, sizeof *e);
		if (e) {
			e->a = *a;
			*s = e;
		}
	}
	if (!*s || (*s)->n >= p->per_address) {
		ok = false; /* out of memory counts as over: the connection is closed */
		if (*s && (*s)->n == 0) {
			struct entry *e = *s;
			*s = e->next;
			free(e);
		}
	} else {
		(*s)->n++;
	}
	pthread_mutex_unlock(&p->mu);
	return ok;
}

void peers_remove(struct peers *p, const struct netaddr *a)
{
	if (peers_trusted(p, a))
		return;
	pthread_mutex_lock(&p->mu);
	struct entry **s = slot(p, a);
	if (*s && --(*s)->n <= 0) {
		struct entry *e = *s;
		*s = e->next;
		free(e);
	}
	pthread_mutex_unlock(&p->mu);
}

long peers_count(struct peers *p, const struct netaddr *a)
{
	pthread_mutex_lock(&p->mu);
	struct entry *e = *slot(p, a);
	long n = e ? e->n : 0;
	pthread_mutex_unlock(&p->mu);
	return n;
}

void peers_client(const struct peers *p, const struct netaddr *peer, const char *xff,
		  struct netaddr *ret)
{
	if (!peers_trusted(p, peer))
		*ret = *peer;
	else
		netaddr_forwarded_client(&p->trusted, peer, xff, ret);
}
