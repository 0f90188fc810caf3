/* The conflict decision (core/policy.c), rule by rule, without a database. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "core/policy.h"

/* A live record at version 5, written at t=1000; the change comes at t=2000. */
static struct decide_in live(enum change_op op, enum policy pol, int64_t base)
{
	return (struct decide_in){ .op = op, .policy = pol, .base_version = base,
				   .exists = true, .live = true, .cur_version = 5,
				   .my_ts = 2000, .their_ts = 1000 };
}

static void expect(struct decide_in in, enum decision d, const char *reason)
{
	struct decide_out o = policy_decide(&in);
	assert_int_equal(o.d, d);
	if (reason)
		assert_string_equal(o.reason, reason);
	else
		assert_null(o.reason);
}

static void test_blind_and_current_writes_apply(void **state)
{
	(void)state;
	for (enum policy p = POLICY_REJECT; p <= POLICY_MERGE; p++) {
		expect(live(OP_PUT, p, -1), DECIDE_APPLY, NULL);
		expect(live(OP_PUT, p, 5), DECIDE_APPLY, NULL);
		expect(live(OP_PATCH, p, 5), DECIDE_APPLY, NULL);
		expect(live(OP_DELETE, p, -1), DECIDE_APPLY, NULL);
	}
	/* a create where nothing is, or over a tombstone with base 0 */
	struct decide_in in = live(OP_PUT, POLICY_REJECT, 0);
	in.exists = in.live = false;
	in.cur_version = 0;
	expect(in, DECIDE_APPLY, NULL);
	in.exists = true;
	in.cur_version = 9;
	expect(in, DECIDE_APPLY, NULL);
}

static void test_stale_writes_by_policy(void **state)
{
	(void)state;
	expect(live(OP_PUT, POLICY_REJECT, 4), DECIDE_CONFLICT, "stale_base_version");
	/* last writer wins, by client time; ties go to the change */
	expect(live(OP_PUT, POLICY_LWW, 4), DECIDE_APPLY, NULL);
	struct decide_in older = live(OP_PUT, POLICY_LWW, 4);
	older.my_ts = 500;
	expect(older, DECIDE_CONFLICT, "lww_lost");
	older.my_ts = 1000;
	expect(older, DECIDE_APPLY, NULL);
	/* merge: a put is last-writer-wins, a patch goes field by field */
	older = live(OP_PUT, POLICY_MERGE, 4);
	older.my_ts = 500;
	expect(older, DECIDE_CONFLICT, "lww_lost");
	expect(live(OP_PATCH, POLICY_MERGE, 4), DECIDE_MERGE_FIELDS, NULL);
	/* an HTTP precondition is never merged or won over */
	struct decide_in strict = live(OP_PUT, POLICY_LWW, 4);
	strict.strict = true;
	expect(strict, DECIDE_CONFLICT, "stale_base_version");
	strict.policy = POLICY_MERGE;
	strict.op = OP_PATCH;
	expect(strict, DECIDE_CONFLICT, "stale_base_version");
	/* base 0 on a live record: it exists already */
	expect(live(OP_PUT, POLICY_REJECT, 0), DECIDE_CONFLICT, "stale_base_version");
}

static void test_deleted_and_missing(void **state)
{
	(void)state;
	/* a delete of what is not there changes nothing */
	struct decide_in gone = live(OP_DELETE, POLICY_REJECT, -1);
	gone.live = false;
	expect(gone, DECIDE_UNCHANGED, NULL);
	gone.exists = false;
	gone.cur_version = 0;
	expect(gone, DECIDE_UNCHANGED, NULL);
	/* a patch of a tombstone, or of nothing */
	struct decide_in patch = live(OP_PATCH, POLICY_LWW, -1);
	patch.live = false;
	expect(patch, DECIDE_CONFLICT, "deleted");
	patch.exists = false;
	expect(patch, DECIDE_CONFLICT, "not_found");
	/* a base version with no trace: pruned (at or below the horizon) or never there */
	struct decide_in pruned = live(OP_PUT, POLICY_LWW, 7);
	pruned.exists = pruned.live = false;
	pruned.cur_version = 0;
	assert_true(policy_needs_horizon(&pruned));
	pruned.horizon = 10;
	expect(pruned, DECIDE_CONFLICT, "deleted");
	pruned.horizon = 3;
	expect(pruned, DECIDE_CONFLICT, "stale_base_version");
	assert_false(policy_needs_horizon(&(struct decide_in){ .base_version = 7, .exists = true }));
	/* If-Match on a tombstone's version */
	struct decide_in ifm = live(OP_PUT, POLICY_LWW, 5);
	ifm.strict = true;
	ifm.live = false;
	expect(ifm, DECIDE_CONFLICT, "deleted");
}

static void test_append_never_overwrites(void **state)
{
	(void)state;
	expect(live(OP_PUT, POLICY_APPEND, -1), DECIDE_CONFLICT, "exists");
	expect(live(OP_PATCH, POLICY_APPEND, 5), DECIDE_CONFLICT, "exists");
	expect(live(OP_DELETE, POLICY_APPEND, -1), DECIDE_APPLY, NULL);
	struct decide_in fresh = live(OP_PUT, POLICY_APPEND, 3);
	fresh.exists = fresh.live = false;
	fresh.cur_version = 0;
	assert_false(policy_needs_horizon(&fresh));
	expect(fresh, DECIDE_APPLY, NULL);
}

static void test_field_wins(void **state)
{
	(void)state;
	assert_true(policy_field_wins(false, 1, 99));
	assert_true(policy_field_wins(true, 99, 99));
	assert_false(policy_field_wins(true, 98, 99));
}

/* Times, not versions (the compat adapters): a later client time wins whatever the policy
 * and whatever base version; a tie or an earlier time keeps the server's, a tombstone's
 * time counting like a record's; nothing there means apply (or nothing to delete). */
static void test_ts_only(void **state)
{
	(void)state;
	for (enum policy p = POLICY_REJECT; p <= POLICY_MERGE; p++) {
		struct decide_in in = live(OP_PUT, p, -1);
		in.ts_only = true;
		expect(in, DECIDE_APPLY, NULL);
		in.base_version = 2; /* stale, yet later: applies */
		expect(in, DECIDE_APPLY, NULL);
		in.my_ts = 1000; /* a tie */
		expect(in, DECIDE_CONFLICT, "lww_lost");
		in.my_ts = 999;
		expect(in, DECIDE_CONFLICT, "lww_lost");
		in.op = OP_DELETE;
		expect(in, DECIDE_CONFLICT, "lww_lost");
		in.my_ts = 1001;
		expect(in, DECIDE_APPLY, NULL);
		/* a tombstone: a later put brings the record back, an earlier one loses */
		in.op = OP_PUT;
		in.live = false;
		expect(in, DECIDE_APPLY, NULL);
		in.my_ts = 1000;
		expect(in, DECIDE_CONFLICT, "lww_lost");
		in.op = OP_DELETE; /* a delete of the tombstone: a later one moves its time */
		expect(in, DECIDE_UNCHANGED, NULL);
		in.my_ts = 1001;
		expect(in, DECIDE_APPLY, NULL);
		/* no trace at all: a put applies, and a delete leaves a tombstone */
		in.exists = false;
		in.op = OP_PUT;
		in.my_ts = 1;
		expect(in, DECIDE_APPLY, NULL);
		in.op = OP_DELETE;
		expect(in, DECIDE_APPLY, NULL);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blind_and_current_writes_apply),
		cmocka_unit_test(test_stale_writes_by_policy),
		cmocka_unit_test(test_deleted_and_missing),
		cmocka_unit_test(test_append_never_overwrites),
		cmocka_unit_test(test_field_wins),
		cmocka_unit_test(test_ts_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
