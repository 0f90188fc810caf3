#include "err.h"

static const char *const names[ERR__MAX] = {
	[ERR_OK] = "success",
	[ERR_NOMEM] = "out of memory",
	[ERR_INVALID] = "invalid input",
	[ERR_NOT_FOUND] = "not found",
	[ERR_EXISTS] = "already exists",
	[ERR_CONFLICT] = "conflict",
	[ERR_TOO_LARGE] = "too large",
	[ERR_DENIED] = "not allowed",
	[ERR_IO] = "input/output error",
	[ERR_DB] = "database error",
	[ERR_BUSY] = "busy",
	[ERR_LOCKED] = "the database is held by another process",
	[ERR_SCHEMA_NEWER] = "database schema is newer than this binary",
	[ERR_SCHEMA_OLDER] = "database schema is older than this binary: run cairn migrate",
	[ERR_EXPIRED] = "expired",
	[ERR_QUOTA] = "quota exceeded",
	[ERR_MISMATCH] = "content does not match its hash",
};

const char *err_str(int e)
{
	if (e < 0)
		e = -e;
	if (e >= ERR__MAX || !names[e])
		return "unknown error";
	return names[e];
}
