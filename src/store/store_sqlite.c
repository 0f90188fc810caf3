/* The SQLite backend: one writer connection and a pool of read-only connections, WAL,
 * synchronous=FULL so that a committed transaction is on disk before we answer. */
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "../util/err.h"
#include "migrate.h"
#include "store.h"

#define BUSY_TIMEOUT_MS 5000
#define MAX_READERS 64

struct sq_store {
	struct store base;
	char *path;
	dev_t dev; /* identity of the file we opened, to notice it being replaced */
	ino_t ino;
	pthread_mutex_t write_mu;
	sqlite3 *writer;
	pthread_mutex_t pool_mu;
	pthread_cond_t pool_cv;
	int nreaders, nfree;
	sqlite3 *readers[MAX_READERS];
	sqlite3 *free_readers[MAX_READERS];
};

static int open_conn(const char *path, int readonly, sqlite3 **ret, char *err, size_t errlen)
{
	sqlite3 *db = NULL;
	int flags = SQLITE_OPEN_NOMUTEX | (readonly ? SQLITE_OPEN_READONLY
						   : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	int rc = sqlite3_open_v2(path, &db, flags, NULL);
	if (rc != SQLITE_OK) {
		snprintf(err, errlen, "cannot open %s: %s", path,
			 db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return -ERR_IO;
	}
	sqlite3_busy_timeout(db, BUSY_TIMEOUT_MS);
	sqlite3_extended_result_codes(db, 1);
	const char *pragmas = readonly ? "PRAGMA foreign_keys=ON; PRAGMA query_only=ON;"
				       : "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
					 " PRAGMA foreign_keys=ON;";
	char *msg = NULL;
	if (sqlite3_exec(db, pragmas, NULL, NULL, &msg) != SQLITE_OK) {
		snprintf(err, errlen, "cannot set up %s: %s", path, msg ? msg : "?");
		sqlite3_free(msg);
		sqlite3_close(db);
		return -ERR_IO;
	}
	*ret = db;
	return 0;
}

static sqlite3 *reader_acquire(struct sq_store *s)
{
	pthread_mutex_lock(&s->pool_mu);
	while (s->nfree == 0)
		pthread_cond_wait(&s->pool_cv, &s->pool_mu);
	sqlite3 *db = s->free_readers[--s->nfree];
	pthread_mutex_unlock(&s->pool_mu);
	return db;
}

static void reader_release(struct sq_store *s, sqlite3 *db)
{
	pthread_mutex_lock(&s->pool_mu);
	s->free_readers[s->nfree++] = db;
	pthread_cond_signal(&s->pool_cv);
	pthread_mutex_unlock(&s->pool_mu);
}

static int sq_check(struct store *base, char *detail, size_t len)
{
	struct sq_store *s = (struct sq_store *)base;
	struct stat st;
	if (stat(s->path, &st) < 0 || st.st_dev != s->dev || st.st_ino != s->ino) {
		snprintf(detail, len, "the database file was removed or replaced");
		return -ERR_DB;
	}
	sqlite3 *db = reader_acquire(s);
	sqlite3_stmt *stmt;
	int r = -ERR_DB;
	if (sqlite3_prepare_v2(db, "SELECT count(*) FROM realms", -1, &stmt, NULL) == SQLITE_OK) {
		if (sqlite3_step(stmt) == SQLITE_ROW)
			r = 0;
		sqlite3_finalize(stmt);
	}
	if (r < 0)
		snprintf(detail, len, "query failed: %s", sqlite3_errmsg(db));
	reader_release(s, db);
	return r;
}

static int sq_schema_version(struct store *base, int *ret_version)
{
	struct sq_store *s = (struct sq_store *)base;
	sqlite3 *db = reader_acquire(s);
	int r = migrate_sqlite_version(db, ret_version);
	reader_release(s, db);
	return r;
}

static void sq_close(struct store *base)
{
	struct sq_store *s = (struct sq_store *)base;
	if (!s)
		return;
	for (int i = 0; i < s->nreaders; i++)
		sqlite3_close(s->readers[i]);
	if (s->writer) {
		/* Folds the WAL back into the database so the directory is tidy. */
		sqlite3_exec(s->writer, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL);
		sqlite3_close(s->writer);
	}
	pthread_mutex_destroy(&s->write_mu);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_cond_destroy(&s->pool_cv);
	free(s->path);
	free(s);
}

static const struct store_ops sqlite_ops = {
	.name = "sqlite",
	.check = sq_check,
	.schema_version = sq_schema_version,
	.close = sq_close,
};

int store_sqlite_open(const char *path, int reader_count, struct store **ret_store, char *err,
		      size_t errlen)
{
	if (reader_count < 1)
		reader_count = 1;
	if (reader_count > MAX_READERS)
		reader_count = MAX_READERS;
	struct sq_store *s = calloc(1, sizeof *s);
	if (!s)
		return -ERR_NOMEM;
	s->base.ops = &sqlite_ops;
	pthread_mutex_init(&s->write_mu, NULL);
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_cond_init(&s->pool_cv, NULL);
	s->path = strdup(path);
	if (!s->path) {
		sq_close(&s->base);
		return -ERR_NOMEM;
	}
	int r = open_conn(path, 0, &s->writer, err, errlen);
	if (r < 0)
		goto fail;
	int version;
	r = migrate_sqlite(s->writer, sqlite_migrations, sqlite_migrations_count, &version, err,
			   errlen);
	if (r < 0)
		goto fail;
	struct stat st;
	if (stat(path, &st) < 0) {
		snprintf(err, errlen, "cannot stat %s", path);
		r = -ERR_IO;
		goto fail;
	}
	s->dev = st.st_dev;
	s->ino = st.st_ino;
	for (int i = 0; i < reader_count; i++) {
		r = open_conn(path, 1, &s->readers[i], err, errlen);
		if (r < 0)
			goto fail;
		s->nreaders++;
		s->free_readers[s->nfree++] = s->readers[i];
	}
	*ret_store = &s->base;
	return 0;
fail:
	sq_close(&s->base);
	return r;
}
