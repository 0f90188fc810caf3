/* The [storage] section: where the data lives and which backends hold it. */
#include <stddef.h>

#include "model.h"

#define F(field) offsetof(struct storage_config, field)

static const struct config_def storage_keys[] = {
	{ "data_dir", T_STR, "./data", 0, 0, NULL, "--data", "DIR", F(data_dir),
	  "Directory for the SQLite database (cairn.db) and the blob directory "
	  "(blobs/). cairn serve creates it if missing; other commands refuse one "
	  "that is missing.",
	  .serve_only = false },
	{ "database", T_ENUM, "sqlite", 0, 0, "sqlite", NULL, NULL, F(database),
	  "Metadata store backend.", .serve_only = false },
	{ "blobs", T_ENUM, "fs", 0, 0, "fs", NULL, NULL, F(blobs),
	  "Blob store backend: fs keeps blobs under data_dir/blobs.", .serve_only = false },
};

#undef F

CONFIG_SECTION(storage, NULL);
