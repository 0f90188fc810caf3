/* The conflict decision of a push, as a pure function: from the facts about one change
 * and the record it targets (read by core/sync.c inside the push's transaction) to what
 * happens. No I/O, no clock, no allocation: tests/unit/test_policy.c walks every rule.
 * The rules are the Records section of docs/api.md; the reasons are its reason strings. */
#ifndef CAIRN_POLICY_H
#define CAIRN_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "../store/model.h"

struct decide_in {
	enum change_op op;
	enum policy policy;      /* the collection's */
	int64_t base_version;    /* -1: none given */
	bool strict;             /* an HTTP precondition (If-Match), never merged over */
	/* The protocols that carry times, not versions (compat adapters): last writer wins
	 * by client time alone, whatever the policy; a tie keeps the server's, a tombstone's
	 * time counts like a record's, and a delete of what was never there leaves one. */
	bool ts_only;
	bool exists;             /* the record has a trace: live or a tombstone */
	bool live;               /* ... and is not deleted */
	int64_t cur_version;     /* 0 when it has no trace */
	int64_t my_ts, their_ts; /* ms: the change's client_ts (or its arrival), the record's */
	int64_t horizon;         /* the space's pruning horizon: see policy_needs_horizon */
};

enum decision {
	DECIDE_APPLY,        /* write it */
	DECIDE_UNCHANGED,    /* nothing to do (a delete of what is not there) */
	DECIDE_CONFLICT,     /* refused: reason says why, the server's state goes back */
	DECIDE_MERGE_FIELDS, /* a patch over others' changes: decide field by field
			      * (policy_field_wins), a conflict if no field is kept */
};

struct decide_out {
	enum decision d;
	const char *reason; /* DECIDE_CONFLICT: "deleted", "not_found", "exists",
			     * "stale_base_version" or "lww_lost"; NULL otherwise */
};

/* Whether the decision needs the space's horizon (the caller reads it first): a base
 * version on a record with no trace was either pruned (at or below the horizon: decided
 * as a deletion) or never existed. */
bool policy_needs_horizon(const struct decide_in *in);
struct decide_out policy_decide(const struct decide_in *in);

/* A merge, one field: the change's value wins unless another writer changed the field
 * since the change's base at a later time (ties go to the change). */
static inline bool policy_field_wins(bool touched, int64_t my_ts, int64_t other_ts)
{
	return !touched || my_ts >= other_ts;
}

#endif
