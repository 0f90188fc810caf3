/* The notification hub: requests waiting for a space to move past a sequence number
 * (long-poll pulls, later event streams) are woken when a push commits, or when their
 * deadline passes. Waiters cost no thread: the owner suspends its request, and the wake
 * callback resumes it. */
#ifndef CAIRN_HUB_H
#define CAIRN_HUB_H

#include <stdbool.h>
#include <stdint.h>

struct hub;

struct hub_waiter {
	struct hub_waiter *prev, *next; /* private */
	int64_t space_id;
	int64_t since;        /* wake when the head passes this */
	uint64_t deadline_ns; /* clock_mono_ns() time to give up */
	/* Called exactly once, from a notifying or the timer thread, after the waiter left
	 * the hub; timed_out says why. */
	void (*wake)(struct hub_waiter *w, bool timed_out);
	void *arg;
	int64_t woken_head; /* the head hub_notify was given; 0 for timeouts */
};

/* A live event stream of one device: it hears about every space its user belongs to. */
struct hub_stream {
	struct hub_stream *prev, *next; /* private */
	int64_t user_id, device_id;
	int64_t *spaces; /* the user's spaces (owned by the stream's owner) */
	int nspaces;
	uint64_t next_beat_ns;
	/* Called with the hub's lock held: must not call the hub. event and data are one
	 * server-sent event ("space", "{...}"); event NULL is a heartbeat. */
	void (*send)(struct hub_stream *s, const char *event, const char *data);
	/* Called on heartbeats without the lock: false ends the stream (revoked token). */
	bool (*still_valid)(struct hub_stream *s);
	void (*end)(struct hub_stream *s); /* under the lock, once, when the hub drops it */
	void *arg;
};

struct hub *hub_new(void);
/* Wakes every waiter (as timed out), stops the timer thread, frees. Accepts NULL. */
struct hub *hub_free(struct hub *h);
/* Wakes every waiter (as timed out); waiters added later are woken at once. For shutdown,
 * so waiting requests end before the server stops. */
void hub_close(struct hub *h);
void hub_add(struct hub *h, struct hub_waiter *w);
/* Takes w out; false when it was already woken (its callback runs or ran). */
bool hub_remove(struct hub *h, struct hub_waiter *w);
/* Wakes the waiters of space_id whose since is below head. */
void hub_notify(struct hub *h, int64_t space_id, int64_t head);

/* Streams. heartbeat_ms between heartbeats (and token checks). */
void hub_stream_add(struct hub *h, struct hub_stream *s, int64_t heartbeat_ms);
/* Takes s out (no end call); false when the hub had already dropped it. */
bool hub_stream_remove(struct hub *h, struct hub_stream *s);
/* The user joined (role) or left (role NULL) a space: their streams are told. */
void hub_membership(struct hub *h, int64_t user_id, int64_t space_id, const char *role);
/* The device was revoked: its streams are told and ended. */
void hub_device_revoked(struct hub *h, int64_t device_id);

#endif
