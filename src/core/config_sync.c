/* The [sync] section: pruning, collection, clocks. */
#include <stddef.h>

#include "sync.h"

#define F(field) offsetof(struct sync_config, field)

static const struct config_def sync_keys[] = {
	{ "retention", T_DURATION, "30d", 0, 3650 * 86400 * SEC, NULL, NULL, NULL,
	  F(retention_ms),
	  "Superseded changes and tombstones younger than this are kept; older ones "
	  "below every active device's cursor may be pruned.",
	  .serve_only = false },
	{ "gc_interval", T_DURATION, "1h", 0, 30 * 86400 * SEC, NULL, NULL, NULL,
	  F(gc_interval_ms),
	  "How often the server prunes changes and collects unused blobs on its "
	  "own; 0 leaves both to cairn gc.",
	  .serve_only = false },
	{ "device_idle", T_DURATION, "90d", 0, 3650 * 86400 * SEC, NULL, NULL, NULL,
	  F(device_idle_ms),
	  "A device unseen for this long no longer holds pruning back; when it "
	  "returns below the horizon it re-bootstraps (410 cursor_expired). A device "
	  "is seen at each request, written at most once a minute and at least twice "
	  "per this time.",
	  .serve_only = false },
	{ "max_clock_skew", T_DURATION, "5m", 0, 86400 * SEC, NULL, NULL, NULL,
	  F(max_clock_skew_ms),
	  "How far ahead of the server's clock a change's client_ts may be; further "
	  "gets 400 clock_skew.",
	  .serve_only = false },
};

#undef F

CONFIG_SECTION(sync, NULL);
