/* The reference client's side of HTTP: one keep-alive connection to a Cairn server
 * (libcurl), bearer-authenticated calls with JSON or raw bodies, downloads into a file.
 * One thread; not thread-safe. */
#ifndef CAIRN_CLIENT_REMOTE_H
#define CAIRN_CLIENT_REMOTE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

struct remote;

/* base is the server's URL ("http://host:8080", no trailing path); token the bearer.
 * NULL when libcurl cannot start. */
struct remote *remote_open(const char *base, const char *token);
void remote_close(struct remote *r);
/* A request in flight is given up once *flag is set (a signal handler's). */
#include <signal.h>
void remote_set_abort(struct remote *r, volatile sig_atomic_t *flag);
/* The last transport failure, as a sentence. */
const char *remote_error(const struct remote *r);
/* Requests counted so far (for the "nothing changed" check and progress). */
int64_t remote_requests(const struct remote *r);
int64_t remote_bytes_sent(const struct remote *r);

/* method on path (already percent-encoded, from "/api/v1/..."), with body (len bytes,
 * of content type ctype; NULL for none). *status is the HTTP status; *out the parsed JSON
 * answer (NULL when the answer is not JSON; the caller puts it). 0, or -1 when no answer
 * came (remote_error says why). */
int remote_call(struct remote *r, const char *method, const char *path, const void *body,
		size_t len, const char *ctype, long *status, json_object **out);
/* remote_call with a JSON object as the body (not taken). */
int remote_json(struct remote *r, const char *method, const char *path, json_object *body,
		long *status, json_object **out);
/* GET path into fd (from its current offset). *status as above; the body is written only
 * for a 200. 0, or -1 (transport, or a write to fd failed). */
int remote_fetch(struct remote *r, const char *path, int fd, long *status);
/* Appends to out (of size cap, terminated) the percent-encoding of each '/'-separated
 * segment of path. -1 when it does not fit. */
int remote_escape_path(const char *path, char *out, size_t cap);

#endif
