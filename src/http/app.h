/* The running server's state, handed to every handler as req->app. Owned by `serve`. */
#ifndef CAIRN_APP_H
#define CAIRN_APP_H

#include <stddef.h>
#include <stdint.h>

#include "router.h"
#include "../util/config.h"

struct config;
struct core;
struct hub;
struct page_cache;

/* The page answered to pulls woken by one push (h_sync.c): thousands of waiters on one
 * space with the same cursor get the same bytes, read once. */
struct page_cache *page_cache_new(void);
struct page_cache *page_cache_free(struct page_cache *pc);


struct app {
	const struct config *cfg;
	struct core *core;
	struct hub *hub; /* NULL: pulls do not wait */
	struct page_cache *pages; /* NULL: no sharing of pages between woken pulls */
	_Atomic int streams;      /* open event streams, for a clean shutdown */
	int64_t started_ms;
};

/* The native API's routes. */
extern const struct route app_routes[];
extern const size_t app_routes_count;

/* --- configuration (the section and its values: util/config.h) --- */

struct server_config {
	char *listen;
	int64_t threads;
	int64_t max_connections;
	int64_t connection_memory;
	int64_t header_timeout_ms;
	int64_t idle_timeout_ms;
	int64_t shutdown_timeout_ms;
	char *public_url;
	int64_t events_heartbeat_ms;
	int64_t body_min_rate; /* bytes per second */
	int64_t body_grace_ms;
	int64_t max_connections_per_address;
	char *trusted_proxies; /* "10.0.0.1, 192.168.0.0/16": addresses and ranges */
	int64_t gzip_level;    /* 0: no compression */
	int64_t gzip_min_bytes;
};
CONFIG_SECTION_DECL(server);

#endif
