/* The HTTP server: libmicrohttpd glue with an epoll thread pool, routing, limits,
 * request ids, the access log, streamed request bodies, and suspended requests that are
 * answered later from another thread. */
#ifndef CAIRN_HTTP_SERVER_H
#define CAIRN_HTTP_SERVER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "../util/arena.h"
#include "../util/buf.h"
#include "../util/netaddr.h"
#include "api_error.h"
#include "router.h"

struct http_server;
struct MHD_Connection;
struct MHD_Response;
struct conn_ctx;
struct inflater;

/* A protocol served under a path prefix ("/compat/NAME"): its own route table, its own
 * dispatch step, and its own wire shape for every error, the glue's own (404, 405, 413,
 * 415, 400 for bad framing...) included. Requests whose path is the prefix or starts with
 * it and a slash go to the mount, routed on the rest of the path; every other request
 * goes to the server's own routes. The empty prefix takes every path the other mounts do
 * not (a protocol served at the root of a port of its own). */
struct http_mount {
	const char *prefix; /* "" or starts with '/', no trailing slash; borrowed */
	const struct route *routes;
	size_t nroutes;
	int (*pre_body)(struct req *r); /* as http_server_opts.pre_body; NULL: none */
	/* Writes an error as the protocol does (with http_reply_json or http_reply_bytes,
	 * never http_reply_error). e is the native catalogue's entry (api_error.h), as the
	 * glue or a handler chose it; msg the sentence (NULL: the catalogue's); fields and
	 * extra (owned, may be NULL) as http_reply_error_ext's. */
	int (*reply_error)(struct req *r, enum api_error e, const char *msg, json_object *fields,
			   json_object *extra);
	/* Headers every answer under the prefix carries, errors included (say, CORS):
	 * name, value, name, value, ..., NULL. NULL: none. Borrowed. */
	const char *const *headers;
};

#define HTTP_MAX_MOUNTS 8

struct http_server_opts {
	int listen_fd;              /* bound and listening; the server takes it over */
	unsigned threads;           /* worker threads (>= 1) */
	unsigned max_connections;
	size_t connection_memory;   /* per-connection pool: request line, headers, buffer */
	int64_t header_timeout_ms;  /* whole headers must arrive within this */
	int64_t idle_timeout_ms;    /* no traffic for this long closes the connection */
	size_t header_bytes;        /* request headers, at most */
	size_t json_body_bytes;     /* JSON (and dropped) bodies, at most */
	size_t auth_body_bytes;     /* bodies of ROUTE_CREDENTIALS routes, at most */
	int json_depth;
	long json_values;           /* values in one JSON body, at most */
	int64_t body_min_rate;      /* bytes/s a body must average after body_grace_ms; 0: any */
	int64_t body_grace_ms;
	long max_connections_per_address;
	const struct netrange_list *trusted_proxies; /* copied at start */
	bool access_log;
	int gzip_level;             /* ROUTE_GZIP answers: 1 to 9, 0 never compressed */
	size_t gzip_min_bytes;      /* smaller ones go as they are */
	/* Runs for every routed request once its headers are in, before any of its body is
	 * read: it may set a reply (say 401), which then goes out at once and the body is
	 * never read or buffered. NULL: none. */
	int (*pre_body)(struct req *r);
	const struct route *routes; /* borrowed for the server's lifetime */
	size_t nroutes;
	const struct http_mount *mounts; /* borrowed; at most HTTP_MAX_MOUNTS */
	size_t nmounts;
	void *app;                  /* handed to handlers as req->app */
};

/* One request. Owned by the glue: it lives from the request line until the response is
 * sent, and is freed after the access-log line. Handlers borrow it. */
struct req {
	struct http_server *srv;
	struct MHD_Connection *conn;
	void *app;
	const struct route *route;
	const struct http_mount *mount; /* the protocol it came to (NULL: the server's own) */
	unsigned method;
	const char *method_str;
	const char *path; /* raw, still percent-encoded, without the query */
	struct route_params params;
	const char *param_values[ROUTE_MAX_PARAMS]; /* decoded */
	const char **query;         /* decoded name, value pairs */
	int nquery;
	char id[72];      /* X-Request-Id */
	char addr[48];    /* the client's address, filled by http_client_addr */
	uint64_t start_ns;
	struct arena arena; /* freed with the request */
	json_object *json;  /* BODY_JSON: the parsed body, or NULL when there was none */
	bool form;          /* ROUTE_FORM: the body was an HTML form, read into json */
	long json_values;   /* values in it */
	uint64_t body_bytes;
	const void *auth;           /* the app's: who the caller is, once known */
	const void *space;          /* the app's: the space the path names, once checked */
	void *ctx;                  /* the handler's own state, */
	void (*ctx_free)(void *ctx); /* freed with the request when set */

	/* private to server.c */
	struct conn_ctx *cctx; /* the connection's watchdog entry, or NULL */
	bool close;            /* close the connection after the answer */
	int phase;
	bool failed;
	bool body_seen;
	uint64_t discarded;
	size_t body_limit;          /* BODY_JSON and BODY_NONE */
	const char *body_limit_key; /* the configuration key that sets it */
	struct buf body;
	struct inflater *inflate; /* ROUTE_INFLATE with a compressed body */
	struct MHD_Response *resp;
	unsigned status;
	uint64_t resp_bytes;
	struct hdr *extra_headers;
	struct req *susp_prev, *susp_next;
	bool susp_listed;
	int (*on_resume)(struct req *r);
};

int http_server_start(const struct http_server_opts *o, struct http_server **ret, char *err,
		      size_t errlen);
/* Stops accepting new connections; in-flight requests go on. */
void http_server_quiesce(struct http_server *s);
/* Requests received and not yet answered (suspended ones included). */
int http_server_inflight(const struct http_server *s);
/* Closes every connection and frees the server. Accepts NULL. */
void http_server_stop(struct http_server *s);

/* Opens a listening TCP socket on "HOST:PORT"; *ret_port is the bound port (useful with
 * port 0). -ERR_IO with a message in err. */
int http_listen(const char *addr, int *ret_fd, int *ret_port, char *err, size_t errlen);

/* --- For handlers. Each reply function sets the one response of the request; the glue
 * sends it when the handler returns (or, for a suspended request, on resume). They take
 * ownership of obj. They return 0, or -ERR_NOMEM (and then a 500 is sent). --- */
int http_reply_json(struct req *r, unsigned status, json_object *obj);
/* data is copied. */
int http_reply_bytes(struct req *r, unsigned status, const char *content_type,
		     const void *data, size_t len);
/* A response of size bytes (or HTTP_SIZE_UNKNOWN) produced by reader: the count of bytes
 * it put in buf, 0 after http_stream_pause, HTTP_STREAM_END or HTTP_STREAM_ERROR. free_cls
 * runs when the connection is done with it. */
int http_reply_stream(struct req *r, unsigned status, const char *content_type,
		      uint64_t size,
		      ssize_t (*reader)(void *cls, uint64_t pos, char *buf, size_t max), void *cls,
		      void (*free_cls)(void *cls));
/* size for a stream whose length is not known (sent chunked) */
#define HTTP_SIZE_UNKNOWN UINT64_MAX
/* What a stream's reader returns at the end, and when it cannot go on (the connection is
 * cut: the client sees a short response). Equal to libmicrohttpd's values. */
#define HTTP_STREAM_END ((ssize_t)-1)
#define HTTP_STREAM_ERROR ((ssize_t)-2)
/* For a stream's reader with nothing to send yet: pauses the connection (the reader then
 * returns 0); http_stream_wake, from any thread, has the reader called again. conn is the
 * request's (req->conn). The owner serialises the two with its own lock. */
void http_stream_pause(struct MHD_Connection *conn);
void http_stream_wake(struct MHD_Connection *conn);
/* len bytes of fd from offset, sent by the kernel (sendfile) where it can. Takes fd,
 * even on failure. */
int http_reply_fd(struct req *r, unsigned status, const char *content_type, int fd,
		  uint64_t offset, uint64_t len);
/* {"code","error"} from the table; msg NULL takes the table's sentence; fields (owned,
 * may be NULL) become "fields". */
int http_reply_error(struct req *r, enum api_error e, const char *msg, json_object *fields);
/* The same with extra's members (owned, may be NULL) added to the body beside "code" and
 * "error" (say, the spaces that keep an account from being deleted). */
int http_reply_error_ext(struct req *r, enum api_error e, const char *msg, json_object *fields,
			 json_object *extra);
/* Adds a header to the response (name and value are copied). */
int http_add_header(struct req *r, const char *name, const char *value);

/* A request header, or NULL. Borrowed until the request ends. */
const char *http_header(struct req *r, const char *name);
/* A decoded query parameter, or NULL when absent (the first of repeated ones). Every
 * parameter, path and query, was decoded once before the handler ran: a malformed escape
 * or an encoded NUL anywhere was answered 400 bad_encoding, so these never fail. */
const char *http_query(struct req *r, const char *name);
/* A decoded path parameter from the route pattern, or NULL when the pattern has none. */
const char *http_param(struct req *r, const char *name);

/* The request's Content-Length, or -1 when absent (chunked) or malformed. */
int64_t http_content_length(struct req *r);

/* The client's IP address as text: the connection's peer, or for a peer in
 * server.trusted_proxies the client its X-Forwarded-For names (netaddr.h). */
const char *http_client_addr(struct req *r);

/* Asks the watchdog to call fn(arg) when the client of r's connection has gone (its end
 * of stream or a reset is waiting) while the request waits: on the watchdog's thread,
 * every 250 ms while it stays so, holding the server's connection lock. fn must end
 * whatever holds the request (say, take a long-poll off the hub and resume it), cope
 * with the request having been resumed already, and call nothing of this file but the
 * resume functions. The registration lasts until the request ends (it is cleared before
 * the request and the response are freed) or until http_on_gone(r, NULL, NULL); arg
 * must live that long. */
void http_on_gone(struct req *r, void (*fn)(void *arg), void *arg);

/* Suspends the request: the handler returns without a reply and the connection costs no
 * thread. Later any thread answers it with http_resume_json or http_resume_error, which
 * set the reply and resume in one step. After a resume r belongs to the glue, which frees
 * it once the answer is sent: the owner of a suspended request must forget it before
 * resuming, and must stop resuming (and drop every suspended request it holds) before
 * http_server_stop, which answers whatever is still suspended 503. The -ERR_NOT_FOUND
 * return (obj freed) only guards the moment between those two. */
void http_suspend(struct req *r);
int http_resume_json(struct req *r, unsigned status, json_object *obj);
/* Resumes r and runs fn(r) on a worker thread to set the reply (or to suspend again). */
int http_resume_call(struct req *r, int (*fn)(struct req *r));

#endif
