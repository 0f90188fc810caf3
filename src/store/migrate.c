#include "migrate.h"

#include <stdio.h>

#include "../util/err.h"

/* The database's schema version, refused when it is newer than the count this binary
 * knows. */
static int version_known(const struct migrate_target *t, size_t count, int *ret_have, char *err,
			 size_t errlen)
{
	if (t->version(t->db, ret_have) < 0) {
		snprintf(err, errlen, "cannot read the schema version");
		return -ERR_DB;
	}
	if ((size_t)*ret_have > count) {
		snprintf(err, errlen,
			 "the database has schema version %d but this cairn knows only up to %zu; "
			 "it was written by a newer cairn: run that one, or restore a backup",
			 *ret_have, count);
		return -ERR_SCHEMA_NEWER;
	}
	return 0;
}

int migrate_run(const struct migrate_target *t, const struct migration *migrations,
		size_t count, int *ret_version, char *err, size_t errlen)
{
	for (size_t i = 0; i < count; i++) {
		if (migrations[i].version != (int)i + 1) {
			snprintf(err, errlen, "migration list is not numbered 1, 2, 3, ... at %zu",
				 i);
			return -ERR_INVALID;
		}
	}
	int have;
	int r = version_known(t, count, &have, err, errlen);
	if (r < 0)
		return r;
	for (size_t i = (size_t)have; i < count; i++) {
		r = t->apply(t->db, &migrations[i], err, errlen);
		if (r < 0)
			return r;
		have = migrations[i].version;
	}
	*ret_version = have;
	return 0;
}

int migrate_check(const struct migrate_target *t, size_t count, char *err, size_t errlen)
{
	int have;
	int r = version_known(t, count, &have, err, errlen);
	if (r < 0)
		return r;
	if ((size_t)have < count) {
		snprintf(err, errlen,
			 "the database has schema version %d and this cairn needs %zu: stop the "
			 "server and run 'cairn migrate' (or 'cairn serve', which migrates), or use "
			 "the cairn that runs on it",
			 have, count);
		return -ERR_SCHEMA_OLDER;
	}
	return 0;
}
