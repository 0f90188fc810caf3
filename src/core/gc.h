/* Keeping the change log small: devices' cursors are remembered as they pull (in memory,
 * written by a worker once a second in one transaction, so a pull never commits; a crash
 * loses at most the last second's reports, and a cursor that lags only makes pruning more
 * careful), and a background task prunes every sync.gc_interval. */
#ifndef CAIRN_GC_H
#define CAIRN_GC_H

#include <stdint.h>

struct core;
struct gc_task;
struct cursor_memo;

/* Starts the memo's worker (it writes through c's store). NULL when out of memory. */
struct cursor_memo *cursor_memo_new(struct core *c);
/* Stops the worker and writes what is left. Accepts NULL. */
struct cursor_memo *cursor_memo_free(struct cursor_memo *m);
/* Records that device has applied space up to seq: through c->cursors when set, else
 * written at once (commands). */
void sync_report_cursor(struct core *c, int64_t device_id, int64_t space_id, int64_t seq);

/* One pruning pass over every space; counts what went. */
int sync_prune(struct core *c, int64_t *ret_changes, int64_t *ret_records);

/* Runs sync_prune, then blob_gc (when c->blobs is set), every sync.gc_interval until stopped (NULL when the interval is 0). */
struct gc_task *gc_task_start(struct core *c);
struct gc_task *gc_task_stop(struct gc_task *t);

#endif
