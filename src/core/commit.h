/* Group commit: pushes from many requests share one write transaction and one fsync.
 * Handlers check a push (sync_push_check), park their request (suspended, costing no
 * thread) and hand the job over; the committer's thread takes everything queued, applies
 * each job inside its own savepoint (a job that fails is undone alone), commits once, and
 * calls every job's done. One job's changes stay consecutive. */
#ifndef CAIRN_COMMIT_H
#define CAIRN_COMMIT_H

#include "sync.h"

struct committer;

/* NULL when the thread cannot start. */
struct committer *committer_start(struct core *c);
/* Queues j. park(arg) runs first, under the queue's lock, so that nothing can finish j
 * before the caller is ready for it. -ERR_BUSY (park not called) once stopping. */
int committer_submit(struct committer *cm, struct push_job *j, void (*park)(void *arg),
		     void *arg);
/* Finishes every queued job, then stops the thread. Accepts NULL. */
struct committer *committer_stop(struct committer *cm);

/* Changes per transaction, at most (a job is never split; a bigger one goes alone). */
#define COMMIT_MAX_CHANGES 4000

#endif
