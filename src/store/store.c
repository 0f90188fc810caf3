#include "store.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/config.h"
#include "../util/err.h"

int store_open(const struct config *c, int reader_count, enum store_mode mode,
	       struct store **ret_store, char *err, size_t errlen)
{
	const char *dir = storage_cfg(c)->data_dir;
	struct stat st;
	if (mode == STORE_CREATE) {
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			snprintf(err, errlen, "cannot create the data directory %s: %s", dir,
				 strerror(errno));
			return -ERR_IO;
		}
	} else if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)) {
		/* a mistyped --data must not become a fresh, empty, silently healthy store */
		snprintf(err, errlen,
			 "there is no data directory at %s (only cairn serve creates one: check "
			 "--data)",
			 dir);
		return -ERR_NOT_FOUND;
	}
	if (strcmp(storage_cfg(c)->database, "sqlite") == 0) {
		char path[4200];
		snprintf(path, sizeof path, "%s/cairn.db", dir);
		if (mode != STORE_CREATE && stat(path, &st) < 0) {
			snprintf(err, errlen,
				 "there is no database in %s (only cairn serve creates one: check "
				 "--data)",
				 dir);
			return -ERR_NOT_FOUND;
		}
		return store_sqlite_open(path, reader_count, mode != STORE_EXISTING, ret_store,
					 err, errlen);
	}
	snprintf(err, errlen, "unknown database backend '%s'", storage_cfg(c)->database);
	return -ERR_INVALID;
}
