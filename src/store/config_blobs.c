/* The [blobs] section: sizes, quotas, collection, how downloads are sent. */
#include <stddef.h>

#include "model.h"

#define F(field) offsetof(struct blobs_config, field)

static const struct config_def blobs_keys[] = {
	{ "max_size", T_SIZE, "4GiB", 1 * KiB, 1024 * GiB, NULL, NULL, NULL, F(max_size),
	  "One blob, at most; a bigger upload gets 413 as soon as its "
	  "Content-Length or its stream shows it.",
	  .serve_only = false },
	{ "user_quota", T_SIZE, "0", 0, 1024 * 1024 * GiB, NULL, NULL, NULL, F(user_quota),
	  "Bytes of blobs one user may hold (the blobs they uploaded, each counted "
	  "once); 0: no quota. More gets 413 quota_exceeded.",
	  .serve_only = false },
	{ "realm_quota", T_SIZE, "0", 0, 1024 * 1024 * GiB, NULL, NULL, NULL, F(realm_quota),
	  "Bytes of blobs all users of one realm may hold together; 0: no quota.",
	  .serve_only = false },
	{ "gc_grace", T_DURATION, "24h", 0, 3650 * 86400 * SEC, NULL, NULL, NULL,
	  F(gc_grace_ms),
	  "A blob nobody holds or references is deleted only once it has been "
	  "untouched (not uploaded or referenced) for this long.",
	  .serve_only = false },
	{ "sendfile", T_BOOL, "true", 0, 0, NULL, NULL, NULL, F(sendfile),
	  "Downloads from the fs store are sent by the kernel (sendfile); false "
	  "reads and writes them through the server instead, for filesystems where "
	  "sendfile misbehaves (some network and shared-folder mounts).",
	  .serve_only = false },
};

#undef F

CONFIG_SECTION(blobs, NULL);
