/* Project-wide error codes. Functions that can fail return 0 or -ERR_*. */
#ifndef CAIRN_ERR_H
#define CAIRN_ERR_H

enum err {
	ERR_OK = 0,
	ERR_NOMEM,        /* allocation failed */
	ERR_INVALID,      /* malformed input */
	ERR_NOT_FOUND,    /* no such thing: not a failure of the machine */
	ERR_EXISTS,       /* already there */
	ERR_CONFLICT,     /* state moved on */
	ERR_TOO_LARGE,    /* a limit was exceeded */
	ERR_DENIED,       /* not allowed */
	ERR_IO,           /* the disk or the network failed */
	ERR_DB,           /* the database failed */
	ERR_BUSY,         /* try again later */
	ERR_SCHEMA_NEWER, /* the database is newer than this binary */
	ERR_SCHEMA_OLDER, /* the database needs migrating (cairn migrate) */
	ERR_EXPIRED,      /* something timed out or ran out of tries */
	ERR_QUOTA,        /* a storage quota would be exceeded */
	ERR_MISMATCH,     /* bytes do not match their hash */
	ERR_LOCKED,       /* the database is held by another process: try again later */
	ERR__MAX          /* core/errors.h continues from here with the product's codes */
};

/* A short English description of -e or e; never NULL. */
const char *err_str(int e);

#endif
