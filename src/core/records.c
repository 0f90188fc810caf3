/* Reading records: the current state of a space's records and one record's history. The
 * space comes from sync_space for the caller, which is what makes them readable. */
#include "sync.h"

#include <string.h>

#include "../store/store.h"

int sync_records_list(struct core *c, const struct principal *p, const struct space *sp,
		      const char *collection, const char *after_collection, const char *after,
		      int limit, int64_t snapshot, const char *epoch,
		      int (*cb)(void *arg, const char *collection, const char *id,
				const struct record *r),
		      void *arg, int64_t *ret_as_of)
{
	(void)p;
	if (epoch && strcmp(epoch, sp->epoch) != 0)
		return -ERR_CURSOR_EXPIRED; /* a snapshot of another history of the log */
	int64_t head = 0, horizon = 0;
	int r = c->store->ops->changes->records_list(c->store, sp->id, collection,
						    collection ? collection : after_collection,
						    after, limit, snapshot, cb, arg, &head, &horizon);
	if (r == -ERR_EXPIRED)
		return -ERR_CURSOR_EXPIRED;
	if (r < 0)
		return r;
	if (snapshot >= 0 && (snapshot > head || snapshot < horizon))
		return -ERR_CURSOR_EXPIRED;
	*ret_as_of = snapshot >= 0 ? snapshot : head;
	return 0;
}

int sync_record_get(struct core *c, const struct principal *p, const struct space *sp,
		    const char *collection, const char *id, struct record *ret)
{
	(void)p;
	int r = c->store->ops->changes->record_get(c->store, sp->id, collection, id, ret);
	if (r == 0 && ret->deleted) {
		record_clear(ret);
		r = -ERR_NOT_FOUND;
	}
	return r;
}

struct history {
	int (*cb)(void *arg, const struct change_row *c);
	void *arg;
	int n;
};

static int count_version(void *arg, const struct change_row *c)
{
	struct history *h = arg;
	h->n++;
	return h->cb(h->arg, c);
}

int sync_record_history(struct core *c, const struct principal *p, const struct space *sp,
			const char *collection, const char *id,
			int (*cb)(void *arg, const struct change_row *c), void *arg)
{
	(void)p;
	struct history h = { cb, arg, 0 };
	int r = c->store->ops->changes->record_history(c->store, sp->id, collection, id, count_version, &h);
	return r == 0 && h.n == 0 ? -ERR_NOT_FOUND : r;
}
