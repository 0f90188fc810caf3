/* What the two files of cairn import verstak share (cmd_import_verstak.c: users, devices
 * and the run; cmd_import_verstak_ops.c: blobs and each vault's ops). Only for src/cli. */
#ifndef CAIRN_IMPORT_VERSTAK_H
#define CAIRN_IMPORT_VERSTAK_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "../core/core.h"

/* What became of what was read. */
struct vtally {
	int64_t users, users_there, users_reset, users_skipped;
	int64_t devices, devices_there, devices_revoked, devices_skipped;
	int64_t blobs, blobs_missing;
	int64_t vaults, vaults_there, vaults_skipped;
	int64_t ops, ops_skipped;
};

/* A user of the file and who they are in Cairn. */
struct vuser {
	char old[64];
	struct user u;
	struct principal *p; /* an import device of theirs, made when first needed */
	int64_t dev_id;
};

struct vimport {
	struct core *c;
	struct realm rl;
	sqlite3 *db;
	const char *blob_dir;
	struct vuser *users;
	int nusers;
	struct vtally t;
	bool failed; /* a store error: stop */
};

/* Column i as text Cairn can keep (UTF-8, no NUL), or NULL. */
const char *vi_text(sqlite3_stmt *st, int i);
/* The user of the file whose id is old, when imported (or there already), else NULL. */
struct vuser *vi_user_of(struct vimport *x, const char *old);
/* A statement on the file; NULL (said, x->failed) when the file lacks what it reads. */
sqlite3_stmt *vi_prepare(struct vimport *x, const char *sql);
/* s for a terminal: control characters as '?' (one of four buffers in turn). */
const char *vi_printable(const char *s);
/* The user's principal through a device of the import's own; NULL (said) on failure. */
const struct principal *vi_principal_of(struct vimport *x, struct vuser *vu);
/* A device's or op's effective vault: vault, or "legacy:" and the user's old id. */
void vi_vault_of(char out[APP_SCOPE_MAX + 1], const char *vault, const char *old_user);
/* The blobs of server_blob_refs, and every vault's ops (cmd_import_verstak_ops.c). */
int vi_read_blobs(struct vimport *x);
int vi_read_ops(struct vimport *x);

#endif
