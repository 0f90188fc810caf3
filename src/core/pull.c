/* Pulling: a page of a space's change log after a cursor, the cursor's rules (a pruned,
 * foreign or future cursor is answered "expired", so the device bootstraps from records
 * rather than skip changes), the device's reported cursor, and waiting for the next
 * change on the hub. */
#include "sync.h"

#include <stdio.h>
#include <strings.h>

#include "../store/store.h"
#include "gc.h"
#include "hub.h"

bool sync_other_epoch(const struct space *sp, const char *epoch)
{
	return epoch && *epoch && strcasecmp(epoch, sp->epoch) != 0;
}

int sync_pull_page(struct core *c, const struct principal *p, const struct space *sp,
		   const struct pull_at *at, int (*emit)(void *arg, const struct change_row *ch),
		   void *arg, int64_t *ret_head, struct verr *ve)
{
	int64_t horizon = 0;
	int r = c->store->ops->changes->changes_read(c->store, sp->id, at->since, at->limit, emit, arg,
					    ret_head, &horizon);
	if (r < 0)
		return r;
	/* A cursor from another history of this log (the server was restored from a backup
	 * since) would skip the changes renumbered under it: the device must start over. */
	if (sync_other_epoch(sp, at->epoch))
		snprintf(ve->detail, sizeof ve->detail,
			 "This space's log is another one than the cursor came from (epoch %s; "
			 "it was restored from a backup): bootstrap from records.",
			 sp->epoch);
	else if (at->since > *ret_head)
		snprintf(ve->detail, sizeof ve->detail,
			 "The cursor %lld is past this space's last change (%lld): it comes from "
			 "another history of the space (a restore from a backup). Bootstrap from "
			 "records.",
			 (long long)at->since, (long long)*ret_head);
	else if (at->since < horizon && !at->append_only)
		snprintf(ve->detail, sizeof ve->detail,
			 "Changes up to %lld were pruned: bootstrap from records, then pull from "
			 "their as_of_seq.",
			 (long long)horizon);
	if (ve->detail[0])
		return -ERR_CURSOR_EXPIRED;
	/* the device has applied everything up to since: pruning may pass it */
	if (at->since > 0 && !at->peek)
		sync_report_cursor(c, p->device.id, sp->id, at->since);
	return 0;
}

int sync_cursor_at_ms(struct core *c, const struct principal *p, const struct space *sp,
		      int64_t ms, int64_t *ret_since)
{
	(void)p;
	int64_t horizon = 0;
	int r = c->store->ops->changes->changes_seq_at_ms(c->store, sp->id, ms, ret_since, &horizon);
	if (r < 0)
		return r;
	/* at the horizon, changes after ms may have been pruned below it: only the records
	 * say it all */
	return horizon > 0 && *ret_since <= horizon ? -ERR_CURSOR_EXPIRED : 0;
}

int sync_pull_wait(struct core *c, const struct principal *p, const struct space *sp,
		   int64_t since, uint64_t deadline_ns, struct hub_waiter *w)
{
	if (!c->hub)
		return 1;
	w->space_id = sp->id;
	w->user_id = p->user.id;
	w->device_id = p->device.id;
	w->since = since;
	w->deadline_ns = deadline_ns;
	hub_add(c->hub, w);
	/* A push that committed between the read and hub_add would be missed: look again. */
	struct space now;
	if (c->store->ops->spaces->space_get(c->store, sp->id, &now) == 0 && now.head_seq > since &&
	    hub_remove(c->hub, w))
		return 1;
	return 0;
}
