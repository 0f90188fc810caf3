/* Inside the HTTP glue (server.c, watchdog.c, reply.c): the server and connection state
 * they share. Nothing outside src/http/server*.c, watchdog.c and reply.c includes it. */
#ifndef CAIRN_SERVER_INT_H
#define CAIRN_SERVER_INT_H

#include <microhttpd.h>
#include <pthread.h>
#include <stdatomic.h>

#include "peers.h"
#include "server.h"

/* After a body passed its limit we keep reading (to be able to answer at all, since
 * libmicrohttpd cannot answer in the middle of a body) but drop the bytes; past this many
 * dropped bytes the connection is closed instead. */
#define DISCARD_MAX (1024 * 1024)

enum phase { PH_RECEIVING, PH_SUSPENDED, PH_RESUMED, PH_ANSWERED };

struct hdr {
	struct hdr *next;
	const char *name, *value;
};

/* Per connection, for the watchdog (a thread that looks at every connection every
 * 250 ms, under conns_mu), which shuts down (shutdown(2), which wakes libmicrohttpd to
 * close it) any connection that:
 *  - still owes headers past its deadline (server.header_timeout from its start or its
 *    request line, server.idle_timeout between requests): libmicrohttpd's own timeout
 *    restarts with every byte, so a client trickling one byte a second never met it;
 *  - sends its body slower than server.body_min_rate on average once server.body_grace
 *    has passed since its headers (the same trickle, one body byte every few seconds);
 *  - is receiving a body while its client has gone (end of stream or reset pending, no
 *    progress for two looks): libmicrohttpd 0.9.75 can miss that while its buffer is full.
 * For a connection whose request is suspended (a long-poll, an event stream, a push
 * waiting for the committer) libmicrohttpd does not look at the socket at all; there the
 * watchdog peeks, and when the client has gone it calls the request's gone callback,
 * which ends whatever holds the request (http_on_gone). */
struct conn_ctx {
	struct conn_ctx *prev, *next;
	int fd;
	struct netaddr peer;
	char peer_text[NETADDR_TEXT_LEN]; /* formatted once */
	bool trusted; /* peer is in server.trusted_proxies */
	bool counted; /* in the per-address counts */
	bool awaiting_headers;
	unsigned requests; /* completed on this connection (under conns_mu) */
	uint64_t deadline_ns;
	atomic_bool receiving;            /* a body is due */
	atomic_uint_fast64_t body_start_ns;
	atomic_uint_fast64_t progress;    /* body bytes so far */
	uint64_t seen_progress;
	int eof_ticks;
	/* the watchdog's rate window: from window_start_ns, when progress was window_bytes */
	uint64_t window_body, window_start_ns, window_bytes;
	/* the suspended request's owner, told when the client goes (under conns_mu) */
	void (*gone)(void *arg);
	void *gone_arg;
};

struct worker;

struct http_server {
	struct MHD_Daemon *d;
	struct http_server_opts o;
	atomic_int inflight;
	atomic_bool quiescing;
	pthread_mutex_t conns_mu;
	struct conn_ctx conns; /* list head */
	struct worker *watchdog;
	pthread_mutex_t susp_mu;
	struct req *susp;     /* suspended requests not yet resumed */
	atomic_int resuming;  /* resumed but not yet answered by a worker */
	struct peers *peers;
	atomic_uint_fast64_t trim_at_ns; /* a big JSON body was freed: malloc_trim then */
};


/* watchdog.c: connections come and go through these libmicrohttpd callbacks; the
 * watchdog thread looks at them every 250 ms. */
void srv_conn_set_deadline(struct http_server *s, struct conn_ctx *c, bool awaiting,
			   uint64_t deadline_ns, bool only_sooner);
void srv_on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
		       enum MHD_ConnectionNotificationCode code);
enum MHD_Result srv_accept_policy(void *cls, const struct sockaddr *addr, socklen_t len);
struct conn_ctx *srv_conn_of(struct MHD_Connection *conn);
void *srv_on_uri(void *cls, const char *uri, struct MHD_Connection *conn);
/* The watchdog worker's tick (util/worker.h), every 250 ms. */
void srv_watchdog_tick(void *arg);

/* request.c: a request from its headers to its handler. */
bool srv_has_body(struct req *r);
/* Everything decided from the request line and headers, before any body byte. */
void srv_req_begin(struct req *r);
void srv_req_body(struct req *r, const char *data, size_t n);
/* The body is in: parse it as the route says, then run the handler. */
void srv_req_dispatch(struct req *r);

/* reply.c */
/* Every path and query parameter decoded, once: false for a malformed percent-escape or
 * an encoded NUL. */
bool srv_decode_params(struct req *r);
/* Puts a suspended request back in libmicrohttpd's hands (under susp_mu). */
void srv_resume_locked(struct http_server *s, struct req *r);

#endif
