/* The metadata store: an interface (a table of operations) and its backends, chosen from
 * the configuration at start-up. core/ and http/ use only this header, so a PostgreSQL
 * backend can be added without touching them. */
#ifndef CAIRN_STORE_H
#define CAIRN_STORE_H

#include <stddef.h>

struct config;
struct store;

struct store_ops {
	const char *name; /* "sqlite" */
	/* 0 when the database answers queries and is the one that was opened; otherwise
	 * -ERR_DB with a short reason in detail. Safe from any thread. */
	int (*check)(struct store *s, char *detail, size_t detail_len);
	/* The schema version recorded in the database. */
	int (*schema_version)(struct store *s, int *ret_version);
	/* Closes every connection. Accepts NULL. */
	void (*close)(struct store *s);
};

/* Each backend embeds this as its first member. */
struct store {
	const struct store_ops *ops;
};

/* Opens the backend named by storage.database under storage.data_dir, applying pending
 * migrations. -ERR_SCHEMA_NEWER when the database was written by a newer Cairn; -ERR_IO
 * when the data directory cannot be used; -ERR_DB otherwise. err says why. */
int store_open(const struct config *c, int reader_count, struct store **ret_store, char *err,
	       size_t errlen);

static inline struct store *store_close(struct store *s)
{
	if (s)
		s->ops->close(s);
	return NULL;
}

/* Backends. */
int store_sqlite_open(const char *path, int reader_count, struct store **ret_store, char *err,
		      size_t errlen);

#endif
