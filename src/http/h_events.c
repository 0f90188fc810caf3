/* GET /api/v1/events: one Server-Sent Events stream per device, announcing every advance
 * of every space its user belongs to, membership changes, and the device's revocation.
 * The response is produced by a content reader that suspends the connection whenever it
 * has nothing to send; the hub appends events and resumes it. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/accounts.h"
#include "../core/hub.h"
#include "../core/sync.h"
#include "../util/config.h"
#include "../util/err.h"
#include "app.h"
#include "handlers.h"
#include "helpers.h"

#define PENDING_MAX (1024 * 1024) /* a client this far behind is cut off */

struct ev_stream {
	struct hub_stream hs;
	struct app *app;
	struct MHD_Connection *conn;
	pthread_mutex_t mu;
	struct buf out;
	bool suspended, ended;
	char token[2 * TOKEN_LEN + 1]; /* acct_authenticate takes up to 2 * TOKEN_LEN (imports) */
};

/* Under the hub's lock. */
static void ev_send(struct hub_stream *hs, const char *event, const char *data)
{
	struct ev_stream *s = hs->arg;
	pthread_mutex_lock(&s->mu);
	int r = event ? buf_printf(&s->out, "event: %s\ndata: %s\n\n", event, data)
		      : buf_puts(&s->out, ": heartbeat\n\n");
	if (r < 0)
		s->ended = true; /* too far behind: end it; the client reconnects and catches up */
	if (s->suspended) {
		s->suspended = false;
		http_stream_wake(s->conn);
	}
	pthread_mutex_unlock(&s->mu);
}

static void ev_end(struct hub_stream *hs)
{
	struct ev_stream *s = hs->arg;
	pthread_mutex_lock(&s->mu);
	s->ended = true;
	if (s->suspended) {
		s->suspended = false;
		http_stream_wake(s->conn);
	}
	pthread_mutex_unlock(&s->mu);
}

/* What ends the stream, when its token no longer works: a client refreshes on "expired",
 * signs in again on "revoked", and stops on "disabled". */
static const char *ev_check(struct hub_stream *hs)
{
	struct ev_stream *s = hs->arg;
	struct principal p;
	int e = acct_authenticate(s->app->core, s->token, &p);
	return e == 0			    ? NULL
	       : e == -ERR_TOKEN_EXPIRED ? "expired"
	       : e == -ERR_DISABLED	    ? "disabled"
					    : "revoked";
}

/* The client went away (the watchdog's thread; see http_on_gone): end the stream, so the
 * connection is closed now rather than at the next heartbeat's failed write. */
static void ev_gone(void *arg)
{
	struct ev_stream *s = arg;
	hub_stream_end(s->app->hub, &s->hs);
}

static ssize_t ev_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct ev_stream *s = cls;
	pthread_mutex_lock(&s->mu);
	if (s->out.len) {
		size_t n = s->out.len < max ? s->out.len : max;
		memcpy(buf, s->out.ptr, n);
		memmove(s->out.ptr, s->out.ptr + n, s->out.len - n);
		s->out.len -= n;
		s->out.ptr[s->out.len] = '\0';
		pthread_mutex_unlock(&s->mu);
		return (ssize_t)n;
	}
	if (s->ended) {
		pthread_mutex_unlock(&s->mu);
		return HTTP_STREAM_END;
	}
	/* Nothing to send: park the connection until the hub has something. */
	s->suspended = true;
	http_stream_pause(s->conn);
	pthread_mutex_unlock(&s->mu);
	return 0;
}

/* The last reference went (see hub.h): nothing else can reach s. */
static void ev_release(struct hub_stream *hs)
{
	struct ev_stream *s = hs->arg;
	atomic_fetch_sub(&s->app->streams, 1);
	pthread_mutex_destroy(&s->mu);
	buf_free(&s->out);
	free(s->hs.spaces);
	free(s);
}

/* The connection is done with the response: drop its reference. */
static void ev_free(void *cls)
{
	struct ev_stream *s = cls;
	hub_stream_drop(s->app->hub, &s->hs);
}

struct space_ids {
	int64_t *ids;
	int n, cap;
	struct buf *out;
};

static int add_space_id(void *arg, const struct space *sp)
{
	struct space_ids *l = arg;
	if (l->n == l->cap) {
		int cap = l->cap ? l->cap * 2 : 16;
		int64_t *grown = realloc(l->ids, sizeof *grown * (size_t)cap);
		if (!grown)
			return -1;
		l->ids = grown;
		l->cap = cap;
	}
	l->ids[l->n++] = sp->id;
	/* Each space's head first, so a client knows where everything stands. */
	buf_printf(l->out, "event: space\ndata: {\"space\":%lld,\"epoch\":\"%s\",\"head_seq\":%lld}\n\n",
		   (long long)sp->id, sp->epoch, (long long)sp->head_seq);
	return 0;
}

int h_events(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct app *app = r->app;
	if (!app->hub)
		return http_reply_error(r, AE_UNAVAILABLE, NULL, NULL);
	if (r->method == HM_HEAD) { /* the headers a stream would have, and no stream */
		http_add_header(r, "Cache-Control", "no-cache");
		http_add_header(r, "X-Accel-Buffering", "no");
		return http_reply_bytes(r, 200, "text/event-stream", "", 0);
	}
	struct ev_stream *s = calloc(1, sizeof *s);
	if (!s)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	s->app = app;
	s->conn = r->conn;
	pthread_mutex_init(&s->mu, NULL);
	buf_init(&s->out, PENDING_MAX);
	/* the token need_auth accepted, read the same way */
	snprintf(s->token, sizeof s->token, "%s", bearer_token(r));
	buf_puts(&s->out, ": cairn events\nretry: 3000\n\n");
	struct space_ids ids = { .out = &s->out };
	int e = sync_spaces_list(app->core, p, add_space_id, &ids);
	if (e < 0) {
		free(ids.ids);
		buf_free(&s->out);
		pthread_mutex_destroy(&s->mu);
		free(s);
		return reply_core_error(r, e, NULL, 0);
	}
	s->hs.user_id = p->user.id;
	s->hs.device_id = p->device.id;
	s->hs.spaces = ids.ids;
	s->hs.nspaces = ids.n;
	s->hs.send = ev_send;
	s->hs.check = ev_check;
	s->hs.end = ev_end;
	s->hs.release = ev_release;
	s->hs.arg = s;
	atomic_fetch_add(&app->streams, 1);
	hub_stream_add(app->hub, &s->hs, server_cfg(app->cfg)->events_heartbeat_ms);
	http_on_gone(r, ev_gone, s);
	http_add_header(r, "Cache-Control", "no-cache");
	http_add_header(r, "X-Accel-Buffering", "no");
	return http_reply_stream(r, 200, "text/event-stream", HTTP_SIZE_UNKNOWN, ev_read, s,
				 ev_free);
}
