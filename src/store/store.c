#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/config.h"
#include "../util/err.h"

int store_open(const struct config *c, int reader_count, struct store **ret_store, char *err,
	       size_t errlen)
{
	if (mkdir(c->storage_data_dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the data directory %s: %s",
			 c->storage_data_dir, strerror(errno));
		return -ERR_IO;
	}
	if (strcmp(c->storage_database, "sqlite") == 0) {
		char path[4200];
		snprintf(path, sizeof path, "%s/cairn.db", c->storage_data_dir);
		return store_sqlite_open(path, reader_count, ret_store, err, errlen);
	}
	snprintf(err, errlen, "unknown database backend '%s'", c->storage_database);
	return -ERR_INVALID;
}
