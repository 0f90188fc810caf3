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
int hub_waiting(struct hub *h);

#endif
