/* Reading records: the current state of a space's records and one record's history. The
 * space comes from sync_space for the caller, which is what makes them readable. */
#include "sync.h"

#include <stdio.h>
#include <string.h>

#include "../store/store.h"

int sync_records_list(struct core *c, const struct principal *p, const struct space *sp,
		      const char *collection, const char *after_collection, const char *after,
		      int limit, int64_t snapshot, const char *epoch,
		      int (*cb)(void *arg, const char *collection, const char *id,
				const struct record *r),
		      void *arg, int64_t *ret_as_of, struct verr *ve)
{
	(void)p;
	if (sync_other_epoch(sp, epoch)) {
		snprintf(ve->detail, sizeof ve->detail,
			 "This space's log is another one than the snapshot came from (epoch %s; "
			 "it was restored from a backup): start the listing again without a "
			 "snapshot.",
			 sp->epoch);
		return -ERR_CURSOR_EXPIRED;
	}
	int64_t head = 0, horizon = 0;
	int r = c->store->ops->changes->records_list(c->store, sp->id, collection,
						    collection ? collection : after_collection,
						    after, limit, snapshot, cb, arg, &head, &horizon);
	if (r == -ERR_EXPIRED)
		snprintf(ve->detail, sizeof ve->detail,
			 "A record's state at snapshot %lld is no longer kept: start the listing "
			 "again without a snapshot.",
			 (long long)snapshot);
	else if (r < 0)
		return r;
	else if (snapshot > head)
		snprintf(ve->detail, sizeof ve->detail,
			 "The snapshot %lld is past this space's last change (%lld): it comes from "
			 "another history of the space (a restore from a backup). Start the listing "
			 "again without a snapshot.",
			 (long long)snapshot, (long long)head);
	else if (snapshot >= 0 && snapshot < horizon)
		snprintf(ve->detail, sizeof ve->detail,
			 "Changes up to %lld were pruned since the snapshot %lld was taken: start the "
			 "listing again without a snapshot.",
			 (long long)horizon, (long long)snapshot);
	if (ve->detail[0])
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

int sync_record_state(struct core *c, const struct principal *p, const struct space *sp,
		      const char *collection, const char *id, struct record *ret)
{
	(void)p;
	return c->store->ops->changes->record_get(c->store, sp->id, collection, id, ret);
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
