#include "gc.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>

#include "../store/store.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "../util/worker.h"
#include "blobs.h"
#include "core.h"
#include "sync.h"

#define SLOTS 4096

struct slot {
	int64_t device_id, space_id, seq, written_ms;
};

struct cursor_memo {
	pthread_mutex_t mu;
	struct slot slots[SLOTS];
};

struct cursor_memo *cursor_memo_new(void)
{
	struct cursor_memo *m = calloc(1, sizeof *m);
	if (m)
		pthread_mutex_init(&m->mu, NULL);
	return m;
}

struct cursor_memo *cursor_memo_free(struct cursor_memo *m)
{
	if (m) {
		pthread_mutex_destroy(&m->mu);
		free(m);
	}
	return NULL;
}

void sync_report_cursor(struct core *c, int64_t device_id, int64_t space_id, int64_t seq)
{
	int64_t now = clock_wall_ms();
	bool write = true;
	if (c->cursors) {
		struct cursor_memo *m = c->cursors;
		struct slot *s = &m->slots[(uint64_t)(device_id * 31 + space_id) % SLOTS];
		pthread_mutex_lock(&m->mu);
		if (s->device_id == device_id && s->space_id == space_id &&
		    (seq <= s->seq || now - s->written_ms < CURSOR_EVERY_MS))
			write = false;
		else
			*s = (struct slot){ device_id, space_id, seq, now };
		pthread_mutex_unlock(&m->mu);
	}
	if (write)
		c->store->ops->changes->cursor_put(c->store, device_id, space_id, seq, now);
}

int sync_prune(struct core *c, int64_t *ret_changes, int64_t *ret_records)
{
	int r = c->store->ops->changes->prune(c->store, clock_wall_ms(), sync_cfg(c->cfg)->retention_ms,
				     sync_cfg(c->cfg)->device_idle_ms, ret_changes, ret_records);
	if (r == 0 && (*ret_changes || *ret_records))
		log_info("pruned %lld changes and %lld tombstones", (long long)*ret_changes,
			 (long long)*ret_records);
	return r;
}

struct gc_task {
	struct core *core;
	struct worker *w;
};

static void gc_tick(void *arg)
{
	struct gc_task *t = arg;
	int64_t ch = 0, rec = 0;
	int r = sync_prune(t->core, &ch, &rec);
	if (r < 0)
		log_error("pruning failed: %s", err_str(r));
	/* after pruning, which may have dropped the last reference to some blobs */
	struct blob_gc_stats gs;
	/* busy: another collector (cairn gc) holds the lease; the next tick tries again */
	if (t->core->blobs && (r = blob_gc(t->core, &gs)) < 0 && r != -ERR_BUSY)
		log_error("blob collection failed: %s", err_str(r));
}

struct gc_task *gc_task_start(struct core *c)
{
	if (sync_cfg(c->cfg)->gc_interval_ms <= 0)
		return NULL;
	struct gc_task *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->core = c;
	if (worker_start("cairn-gc", sync_cfg(c->cfg)->gc_interval_ms, gc_tick, t, &t->w) < 0) {
		free(t);
		return NULL;
	}
	return t;
}

struct gc_task *gc_task_stop(struct gc_task *t)
{
	if (!t)
		return NULL;
	worker_stop(t->w);
	free(t);
	return NULL;
}
