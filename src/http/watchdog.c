/* The HTTP glue's watchdog: connections as they come and go, and a thread that cuts the
 * slow, the idle and the gone (see struct conn_ctx in server_int.h). */
#include "server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <microhttpd.h>
#include <netdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "../util/log.h"
#include "../util/url.h"
#include "form.h"
#include "peers.h"
#include "server_int.h"

void srv_conn_set_deadline(struct http_server *s, struct conn_ctx *c, bool awaiting,
			      uint64_t deadline_ns, bool only_sooner)
{
	pthread_mutex_lock(&s->conns_mu);
	if (!only_sooner || !c->awaiting_headers || deadline_ns < c->deadline_ns)
		c->deadline_ns = deadline_ns;
	c->awaiting_headers = awaiting;
	pthread_mutex_unlock(&s->conns_mu);
}

void srv_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode code)
{
	struct http_server *s = cls;
	if (code == MHD_CONNECTION_NOTIFY_STARTED) {
		struct conn_ctx *c = calloc(1, sizeof *c);
		const union MHD_ConnectionInfo *ci =
			MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
		int fd = ci ? ci->connect_fd : -1;
		if (!c) {
			if (fd >= 0)
				shutdown(fd, SHUT_RDWR);
			return;
		}
		c->fd = fd;
		ci = MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
		snprintf(c->peer_text, sizeof c->peer_text, "unknown");
		if (ci && netaddr_from_sockaddr(ci->client_addr, &c->peer) == 0) {
			netaddr_format(&c->peer, c->peer_text);
			c->trusted = peers_trusted(s->peers, &c->peer);
			/* the accept policy looked, but other accepts may have raced it */
			c->counted = peers_add(s->peers, &c->peer);
			if (!c->counted && fd >= 0) {
				shutdown(fd, SHUT_RDWR);
				log_debug("closed a connection over server.max_connections_per_address");
			}
		}
		c->awaiting_headers = true;
		c->deadline_ns = clock_mono_ns() + (uint64_t)s->o.header_timeout_ms * 1000000u;
		pthread_mutex_lock(&s->conns_mu);
		c->next = s->conns.next;
		c->prev = &s->conns;
		s->conns.next->prev = c;
		s->conns.next = c;
		pthread_mutex_unlock(&s->conns_mu);
		*socket_context = c;
	} else if (code == MHD_CONNECTION_NOTIFY_CLOSED) {
		struct conn_ctx *c = *socket_context;
		if (!c)
			return;
		pthread_mutex_lock(&s->conns_mu);
		c->prev->next = c->next;
		c->next->prev = c->prev;
		pthread_mutex_unlock(&s->conns_mu);
		if (c->counted)
			peers_remove(s->peers, &c->peer);
		free(c);
		*socket_context = NULL;
	}
}

/* Refuses, at accept, connections from an address that has its fill. */
enum MHD_Result srv_accept_policy(void *cls, const struct sockaddr *addr, socklen_t len)
{
	(void)len;
	struct http_server *s = cls;
	struct netaddr a;
	if (netaddr_from_sockaddr(addr, &a) < 0 || peers_may_connect(s->peers, &a))
		return MHD_YES;
	log_debug("refused a connection over server.max_connections_per_address");
	return MHD_NO;
}

struct conn_ctx *srv_conn_of(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
	return ci ? ci->socket_context : NULL;
}

/* Called when a request line has arrived: the rest of the headers are due soon. */
void *srv_on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	(void)uri;
	struct http_server *s = cls;
	struct conn_ctx *c = srv_conn_of(conn);
	if (c)
		srv_conn_set_deadline(s, c, true,
				  clock_mono_ns() + (uint64_t)s->o.header_timeout_ms * 1000000u,
				  true);
	return NULL;
}

/* Whether the client of c has gone: its end of stream (FIN) or a reset is waiting to be
 * read. Bytes it sent ahead (a pipelined request) hide a later FIN; that is fine. */
static bool client_gone(const struct conn_ctx *c)
{
	char b;
	ssize_t n = recv(c->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

static void cut(struct conn_ctx *c, const char *why)
{
	shutdown(c->fd, SHUT_RDWR);
	atomic_store(&c->receiving, false);
	c->awaiting_headers = false;
	log_debug("closed a connection: %s", why);
}

/* A body being received: slower than server.body_min_rate over a window of
 * server.body_grace (each window on its own, so a burst does not buy hours of silence),
 * or its client gone with no progress for two looks (see conn_ctx). */
static void watch_body(struct http_server *s, struct conn_ctx *c, uint64_t now)
{
	uint64_t p = atomic_load(&c->progress);
	uint64_t start = atomic_load(&c->body_start_ns);
	uint64_t grace = (uint64_t)s->o.body_grace_ms * 1000000u;
	if (c->window_body != start) { /* a new body: its first window starts with it */
		c->window_body = start;
		c->window_start_ns = start;
		c->window_bytes = 0;
	}
	if (s->o.body_min_rate > 0 && now >= c->window_start_ns + grace) {
		uint64_t got = p - c->window_bytes;
		if ((double)got < (double)s->o.body_min_rate * (double)(now - c->window_start_ns) / 1e9) {
			cut(c, "its body arrived slower than server.body_min_rate");
			return;
		}
		c->window_start_ns = now;
		c->window_bytes = p;
	}
	if (p != c->seen_progress || !client_gone(c)) {
		c->seen_progress = p;
		c->eof_ticks = 0;
		return;
	}
	if (++c->eof_ticks >= 2)
		cut(c, "its client went away while sending a body");
}

void srv_watchdog_tick(void *arg)
{
	struct http_server *s = arg;
	pthread_mutex_lock(&s->conns_mu);
	uint64_t now = clock_mono_ns();
	uint64_t trim_at = atomic_load(&s->trim_at_ns);
	if (trim_at && now >= trim_at &&
	    atomic_compare_exchange_strong(&s->trim_at_ns, &trim_at, 0)) {
		pthread_mutex_unlock(&s->conns_mu);
		malloc_trim(0);
		pthread_mutex_lock(&s->conns_mu);
	}
	/* The fds stay open under this lock (libmicrohttpd closes a socket only after the
	 * CLOSED notice, which takes it), so none can be reused under us. */
	for (struct conn_ctx *c = s->conns.next; c != &s->conns; c = c->next) {
		if (c->fd < 0)
			continue;
		if (atomic_load(&c->receiving))
			watch_body(s, c, now);
		if (c->awaiting_headers && now > c->deadline_ns)
			cut(c, "it was too slow to send headers");
		/* between requests libmicrohttpd 0.9.75 can miss a client's end of stream and
		 * keep the connection until server.idle_timeout */
		else if (c->awaiting_headers && c->requests > 0 && client_gone(c))
			cut(c, "its client closed it between requests");
		/* the owner's callback may run every look while the client stays gone; it must
		 * cope with having ended the request already */
		if (c->gone && client_gone(c))
			c->gone(c->gone_arg);
	}
	pthread_mutex_unlock(&s->conns_mu);
}

void http_on_gone(struct req *r, void (*fn)(void *arg), void *arg)
{
	struct conn_ctx *c = r->cctx;
	if (!c)
		return;
	pthread_mutex_lock(&r->srv->conns_mu);
	c->gone = fn;
	c->gone_arg = arg;
	pthread_mutex_unlock(&r->srv->conns_mu);
}
