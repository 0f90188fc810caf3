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
#include "files/files.h"
#include "sync.h"

#define SLOTS 4096
#define FLUSH_MS 1000

struct slot {
	int64_t device_id, space_id, seq;
	bool dirty; /* reported since the last flush */
};

struct cursor_memo {
	struct core *core;
	pthread_mutex_t mu;
	struct slot slots[SLOTS];
	struct worker *w;
	pthread_mutex_t flush_mu;      /* one flush at a time: the worker's, pruning's, the stop's */
	struct cursor_row rows[SLOTS]; /* the flush's, under flush_mu */
};

static void write_cursors(struct core *c, const struct cursor_row *rows, int n)
{
	int r = n ? c->store->ops->changes->cursors_put(c->store, rows, n, clock_wall_ms()) : 0;
	if (r < 0) /* they stay older in the store: pruning is only more careful meanwhile */
		log_error("cannot remember %d devices' cursors: %s", n, err_str(r));
}

/* Writes every cursor reported since the last flush, in one transaction. */
static void cursor_flush(void *arg)
{
	struct cursor_memo *m = arg;
	pthread_mutex_lock(&m->flush_mu);
	struct cursor_row *rows = m->rows;
	int n = 0;
	pthread_mutex_lock(&m->mu);
	for (int i = 0; i < SLOTS; i++)
		if (m->slots[i].dirty) {
			rows[n++] = (struct cursor_row){ m->slots[i].device_id, m->slots[i].space_id,
							 m->slots[i].seq };
			m->slots[i].dirty = false;
		}
	pthread_mutex_unlock(&m->mu);
	write_cursors(m->core, rows, n);
	pthread_mutex_unlock(&m->flush_mu);
}

struct cursor_memo *cursor_memo_new(struct core *c)
{
	struct cursor_memo *m = calloc(1, sizeof *m);
	if (!m)
		return NULL;
	m->core = c;
	pthread_mutex_init(&m->mu, NULL);
	pthread_mutex_init(&m->flush_mu, NULL);
	if (worker_start("cairn-cursors", FLUSH_MS, cursor_flush, m, &m->w) < 0) {
		pthread_mutex_destroy(&m->flush_mu);
		pthread_mutex_destroy(&m->mu);
		free(m);
		return NULL;
	}
	return m;
}

struct cursor_memo *cursor_memo_free(struct cursor_memo *m)
{
	if (m) {
		worker_stop(m->w);
		cursor_flush(m); /* what was reported before the stop is kept */
		pthread_mutex_destroy(&m->flush_mu);
		pthread_mutex_destroy(&m->mu);
		free(m);
	}
	return NULL;
}

void sync_report_cursor(struct core *c, int64_t device_id, int64_t space_id, int64_t seq)
{
	struct cursor_row now = { device_id, space_id, seq }, evicted = { 0 };
	int write = 1;
	if (c->cursors) {
		/* kept in memory and written by the memo's worker within FLUSH_MS: a pull never
		 * waits for a commit of its own */
		struct cursor_memo *m = c->cursors;
		struct slot *s = &m->slots[(uint64_t)(device_id * 31 + space_id) % SLOTS];
		write = 0;
		pthread_mutex_lock(&m->mu);
		if (s->device_id == device_id && s->space_id == space_id) {
			if (seq > s->seq) {
				s->seq = seq;
				s->dirty = true;
			}
		} else {
			if (s->dirty) { /* another device's cursor the flush has not written yet */
				evicted = (struct cursor_row){ s->device_id, s->space_id, s->seq };
				write = 1;
			}
			*s = (struct slot){ device_id, space_id, seq, true };
		}
		pthread_mutex_unlock(&m->mu);
	}
	if (write)
		write_cursors(c, c->cursors ? &evicted : &now, 1);
}

int sync_prune(struct core *c, int64_t *ret_changes, int64_t *ret_records)
{
	/* this server's devices' latest reports first: pruning must not pass a cursor it
	 * holds only in memory (another process's `cairn gc` sees them once flushed) */
	if (c->cursors)
		cursor_flush(c->cursors);
	const struct files_config *f = files_cfg(c->cfg);
	struct file_keep keep = { .versions = f->keep_versions, .ms = f->keep_ms };
	int r = c->store->ops->changes->prune(c->store, clock_wall_ms(),
					      sync_cfg(c->cfg)->retention_ms,
					      sync_cfg(c->cfg)->device_idle_ms, &keep, ret_changes,
					      ret_records);
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
