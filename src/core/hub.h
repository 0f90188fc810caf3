/* The notification hub: requests waiting for a space to move past a sequence number
 * (long-poll pulls) are woken when a push commits or their deadline passes, and event
 * streams hear of every space their user belongs to. Waiters and streams cost no thread:
 * their owners suspend the request, and the hub's callbacks resume it.
 *
 * Lifetimes (see docs/architecture.md, "Objects shared between threads"):
 *  - A waiter belongs to the hub while it is listed. Whoever takes it out under the
 *    hub's lock (hub_notify, the timer, hub_close, or its owner through hub_remove
 *    returning true) is the only one who may resume its request, exactly once. The owner
 *    frees it only after that resume.
 *  - A stream is reference counted under the hub's lock. Its owner holds one reference
 *    from hub_stream_add until hub_stream_drop; the timer holds one more while it checks
 *    the stream's token outside the lock. The stream is released (its release callback,
 *    with no lock held) when the last reference goes, so nothing can free it while
 *    another thread uses it, and "is it still listed" is a flag on the object itself,
 *    never a comparison of addresses that a new stream could reuse. */
#ifndef CAIRN_HUB_H
#define CAIRN_HUB_H

#include <stdbool.h>
#include <stdint.h>

struct hub;

struct hub_waiter {
	struct hub_waiter *prev, *next; /* private: prev is NULL when not listed */
	int64_t space_id;
	int64_t user_id, device_id; /* whose wait it is (hub_access_changed) */
	int64_t since;        /* wake when the head passes this */
	uint64_t deadline_ns; /* clock_mono_ns() time to give up */
	/* Called exactly once, from a notifying or the timer thread (or hub_close's), after
	 * the waiter left the hub, with no lock held; timed_out says why. */
	void (*wake)(struct hub_waiter *w, bool timed_out);
	void *arg;
	int64_t woken_head; /* the head hub_notify was given; 0 for timeouts */
};

/* A live event stream of one device: it hears about every space its user belongs to. */
struct hub_stream {
	struct hub_stream *prev, *next; /* private: prev is NULL when not listed */
	int refs;                       /* private, under the hub's lock */
	struct hub_stream *release_next; /* private */
	int64_t user_id, device_id;
	int64_t *spaces; /* the user's spaces (grown by the hub under its lock) */
	int nspaces;
	uint64_t next_beat_ns;
	/* Called with the hub's lock held: must not call the hub. event and data are one
	 * server-sent event ("space", "{...}"); event NULL is a heartbeat. */
	void (*send)(struct hub_stream *s, const char *event, const char *data);
	/* Called on heartbeats (and at once after hub_access_changed) without the lock,
	 * holding a reference: NULL while the stream's token is good, else the event that
	 * ends it ("revoked", "expired", "disabled"). */
	const char *(*check)(struct hub_stream *s);
	void (*end)(struct hub_stream *s); /* under the lock, once, when the hub unlists it */
	/* Frees the stream (and spaces): runs once, with no lock held, on whichever thread
	 * dropped the last reference. */
	void (*release)(struct hub_stream *s);
	void *arg;
};

struct hub *hub_new(void);
/* Wakes every waiter (as timed out), stops the timer thread, frees. Accepts NULL. */
struct hub *hub_free(struct hub *h);
/* Wakes every waiter (as timed out) and ends every stream; waiters and streams added
 * later are woken or ended at once. Returns once no wake callback runs any more on any
 * thread, so the requests they resume may be answered by the server's shutdown next. */
void hub_close(struct hub *h);
void hub_add(struct hub *h, struct hub_waiter *w);
/* Takes w out; false when it was already taken (its callback runs or ran). */
bool hub_remove(struct hub *h, struct hub_waiter *w);
/* Wakes the waiters of space_id whose since is below head, and tells the streams of its
 * members (event: space, with the log's epoch: hex, see struct space). */
void hub_notify(struct hub *h, int64_t space_id, const char *epoch, int64_t head);

/* Streams. s->refs becomes 1, the caller's reference. heartbeat_ms between heartbeats
 * (and token checks). */
void hub_stream_add(struct hub *h, struct hub_stream *s, int64_t heartbeat_ms);
/* Unlists s (no end call) if it still is, and drops the caller's reference. */
void hub_stream_drop(struct hub *h, struct hub_stream *s);
/* Unlists s and calls its end, when it is still listed (its client went away); false when
 * it was not. The caller must hold a reference. */
bool hub_stream_end(struct hub *h, struct hub_stream *s);
/* The user joined (role) or left (role NULL) a space: their streams are told. */
void hub_membership(struct hub *h, int64_t user_id, int64_t space_id, const char *role);
/* The device was revoked: its streams are told and ended, its waiters woken (their
 * owners check again what the caller may see, and answer as a fresh request would). */
void hub_device_revoked(struct hub *h, int64_t device_id);
/* Who may see what changed for a user (user_id), or a device (device_id), in one space
 * (space_id) or all (0): their waiters are woken to check again, and their streams check
 * their tokens now instead of at the next heartbeat. 0 matches anything. */
void hub_access_changed(struct hub *h, int64_t user_id, int64_t device_id, int64_t space_id);

#endif
