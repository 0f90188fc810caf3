/* Keeping the change log small: devices' cursors are remembered as they pull (at most
 * one write per device and space every CURSOR_EVERY_MS: a lagging cursor only makes
 * pruning more careful), and a background task prunes every sync.gc_interval. */
#ifndef CAIRN_GC_H
#define CAIRN_GC_H

#include <stdint.h>

struct core;
struct gc_task;
struct cursor_memo;

#define CURSOR_EVERY_MS 10000

struct cursor_memo *cursor_memo_new(void);
struct cursor_memo *cursor_memo_free(struct cursor_memo *m);
/* Records that device has applied space up to seq (throttled through c->cursors). */
void sync_report_cursor(struct core *c, int64_t device_id, int64_t space_id, int64_t seq);

/* One pruning pass over every space; counts what went. */
int sync_prune(struct core *c, int64_t *ret_changes, int64_t *ret_records);

/* Runs sync_prune, then blob_gc (when c->blobs is set), every sync.gc_interval until stopped (NULL when the interval is 0). */
struct gc_task *gc_task_start(struct core *c);
struct gc_task *gc_task_stop(struct gc_task *t);

#endif
