#include "policy.h"

#include <stddef.h>

bool policy_needs_horizon(const struct decide_in *in)
{
	return !in->exists && in->base_version > 0 && in->policy != POLICY_APPEND;
}

static struct decide_out conflict(const char *reason)
{
	return (struct decide_out){ DECIDE_CONFLICT, reason };
}

struct decide_out policy_decide(const struct decide_in *in)
{
	/* A delete of what is not there changes nothing and writes nothing: an offline
	 * device's batch goes through, and nobody fills the log with tombstones. */
	/* By time alone, a delete of what was never there leaves a tombstone: a copy of the
	 * record still on some device, older than the delete, then loses to it. */
	if (in->ts_only && !in->exists)
		return (struct decide_out){ DECIDE_APPLY, NULL };
	/* By time, a later delete of a tombstone moves its time on (an edit between the two
	 * deletes then loses to it); an earlier or equal one changes nothing. */
	if (in->ts_only && in->op == OP_DELETE && !in->live)
		return (struct decide_out){ in->my_ts > in->their_ts ? DECIDE_APPLY : DECIDE_UNCHANGED,
					    NULL };
	if (in->op == OP_DELETE && !in->live)
		return (struct decide_out){ DECIDE_UNCHANGED, NULL };
	if (in->ts_only)
		return in->my_ts <= in->their_ts ? conflict("lww_lost")
						 : (struct decide_out){ DECIDE_APPLY, NULL };
	/* base_version 0 says "must not exist yet", which a tombstone satisfies. */
	bool stale = in->base_version >= 0 && in->base_version != in->cur_version &&
		     !(in->base_version == 0 && !in->live);
	if (policy_needs_horizon(in))
		/* The writer saw a version the record no longer has any trace of: its
		 * tombstone was pruned, or the version never existed. Either way it is
		 * decided as a deletion would be, never as a create. */
		return conflict(in->base_version <= in->horizon ? "deleted" : "stale_base_version");
	if (in->op == OP_PATCH && !in->live)
		return conflict(in->exists ? "deleted" : "not_found");
	/* an HTTP If-Match names a version of a record that is there: a tombstone's version
	 * was never anyone's ETag */
	if (in->strict && in->base_version > 0 && !in->live)
		return conflict("deleted");
	if (in->policy == POLICY_APPEND && in->live && in->op != OP_DELETE)
		return conflict("exists"); /* an append collection never overwrites */
	if (stale && (in->strict || in->policy == POLICY_REJECT))
		return conflict("stale_base_version");
	if (in->policy == POLICY_APPEND || !stale)
		return (struct decide_out){ DECIDE_APPLY, NULL };
	/* stale, last-writer-wins or merge */
	if (in->policy == POLICY_MERGE && in->op == OP_PATCH)
		return (struct decide_out){ DECIDE_MERGE_FIELDS, NULL };
	if (in->my_ts < in->their_ts)
		return conflict("lww_lost");
	return (struct decide_out){ DECIDE_APPLY, NULL };
}
