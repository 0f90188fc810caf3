/* Blobs. Two stores must agree: the blob store holds bytes under their SHA-256, the
 * metadata store holds a row per blob (size, touched_ms), its holders (uploaders, for
 * quotas) and the changes that name it (for members' access).
 *
 * The protocol that keeps them in step, so that a blob answered 2xx is never lost and
 * collection never deletes one that an upload or a change is about to use. The blob
 * store only puts, gets, deletes and lists; hiding a blob while it is being collected is
 * a mark on its row in the metadata store:
 *
 *  Upload   1. stream to a temporary file while hashing; verify; fsync.
 *           2. place it under its name (atomically replacing any file there), fsync the
 *              directory.
 *           3. one transaction: create or touch the row (touched_ms = now), add the
 *              holder. While the row is marked this is refused (busy): wait for the
 *              mark to go, then make the row anew.
 *           4. after the commit, look again: if the bytes are gone (a collector deleted
 *              them between steps 2 and 3), place them again. Only then answer 2xx.
 *  Change   naming a blob: inside the push transaction the pusher must be able to read
 *           it (a marked blob is nobody's), the reference is stored and the row touched.
 *  Collect  holding the "blob-gc" lease (one collector at a time, in any process),
 *           for each candidate (a dead row: no holder, no reference, untouched for
 *           blobs.gc_grace; or a file with no row and an mtime older than that):
 *           1. one transaction: mark the row if it is still dead and old (for a file
 *              with no row, insert a marked one); else leave it;
 *           2. delete the bytes;
 *           3. one transaction: delete the marked row.
 *           Marks left by a collector that stopped between 1 and 3 are finished (2, 3)
 *           at the start of the next pass: holding the lease, nobody else is collecting.
 *
 * Why this is safe: a mark is made in a transaction that sees the row dead, so no holder
 * or reference exists then; until the row is deleted (C3) no upload can hold it and no
 * change can name it (both check in their own transactions). An upload whose step 3
 * comes after C3 makes a new row and then, in step 4, sees whether C2 deleted the bytes
 * it placed in step 2, and places them again. The lease is renewed as a pass goes; a
 * collector stalled past the lease's 2 minutes between renewing and deleting could meet
 * another that finished its marks: that is the protocol's one assumption about time. */
#include "blobs.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store/store.h"
#include "../store/blob.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/handoff.h"
#include "../util/log.h"
#include "blobs_int.h"

/* Past PIPELINE_AFTER, received bytes are gathered into buffers of this size; a full one
 * is hashed and handed to the blob store by a worker ("cairn-blobh") while the request's
 * thread receives the next, and the store writes it on a worker of its own: receiving,
 * hashing and writing overlap (issue 12). Smaller uploads, and any while the cap on
 * workers is reached, are hashed and handed on as they come, on the request's thread. */
#define HASH_BUF (1024 * 1024)
/* An upload is hashed and stored as its bytes come until this much has arrived; then,
 * when a worker can be started (util/handoff.h caps them), it goes through the hasher. */
#define PIPELINE_AFTER (2 * HASH_BUF)

struct blob_upload {
	struct core *c;
	struct blob_tmp *tmp;
	EVP_MD_CTX *md;
	char *bufs[2];
	int cur;
	size_t len;
	struct handoff hasher;
	int64_t user_id, realm_id;
	char want[BLOB_HEX_LEN + 1]; /* "" when the server names the blob */
	uint64_t size, max, quota_left;
	int dead; /* the error that ended the upload, or 0 */
	bool files; /* a chunk cut by the server (blob_upload_for_files) */
};

void blob_upload_for_files(struct blob_upload *u)
{
	u->files = true;
}

/* Bytes the user may still add: the lesser of what their quota and their realm's leave. */
static int quota_left(struct core *c, int64_t user_id, uint64_t *ret)
{
	const struct config *cfg = c->cfg;
	*ret = UINT64_MAX;
	if (blobs_cfg(cfg)->user_quota <= 0 && blobs_cfg(cfg)->realm_quota <= 0)
		return 0;
	int64_t user = 0, realm = 0;
	int r = c->store->ops->blobmeta->blob_usage(c->store, user_id, &user, &realm);
	if (r < 0)
		return r;
	if (blobs_cfg(cfg)->user_quota > 0)
		*ret = user >= blobs_cfg(cfg)->user_quota ? 0 : (uint64_t)(blobs_cfg(cfg)->user_quota - user);
	if (blobs_cfg(cfg)->realm_quota > 0) {
		uint64_t left = realm >= blobs_cfg(cfg)->realm_quota
					? 0
					: (uint64_t)(blobs_cfg(cfg)->realm_quota - realm);
		if (left < *ret)
			*ret = left;
	}
	return 0;
}

/* Hashes and stores bytes, in order: on the hasher, or on the request's thread. */
static int hash_and_store(void *arg, const char *p, size_t len)
{
	struct blob_upload *u = arg;
	if (EVP_DigestUpdate(u->md, p, len) != 1 || u->c->blobs->ops->tmp_write(u->tmp, p, len) < 0)
		return -ERR_IO;
	return 0;
}

int blob_upload_begin(struct core *c, const struct principal *p, const char *sha256,
		      int64_t declared, struct blob_upload **ret)
{
	struct blob_upload *u = calloc(1, sizeof *u);
	if (!u)
		return -ERR_NOMEM;
	u->c = c;
	u->user_id = p->user.id;
	u->realm_id = p->user.realm_id;
	u->max = (uint64_t)blobs_cfg(c->cfg)->max_size;
	if (sha256)
		memcpy(u->want, sha256, BLOB_HEX_LEN + 1);
	int r = 0;
	/* A blob the user already holds costs no quota again. */
	if (!sha256 || c->store->ops->blobmeta->blob_held(c->store, u->user_id, sha256) < 0)
		r = quota_left(c, u->user_id, &u->quota_left);
	else
		u->quota_left = UINT64_MAX;
	if (r == 0 && declared >= 0 && (uint64_t)declared > u->max)
		r = -ERR_TOO_LARGE;
	else if (r == 0 && declared >= 0 && (uint64_t)declared > u->quota_left)
		r = -ERR_QUOTA;
	if (r == 0 && !(u->md = EVP_MD_CTX_new()))
		r = -ERR_NOMEM;
	if (r == 0 && handoff_init(&u->hasher, "cairn-blobh", hash_and_store, u) < 0)
		r = -ERR_NOMEM;
	if (r == 0 && EVP_DigestInit_ex(u->md, EVP_sha256(), NULL) != 1)
		r = -ERR_IO;
	if (r == 0)
		r = c->blobs->ops->tmp_open(c->blobs, &u->tmp);
	if (r < 0) {
		blob_upload_free(u);
		return r;
	}
	*ret = u;
	return 0;
}

int blob_upload_write(struct blob_upload *u, const void *data, size_t len)
{
	if (u->dead)
		return u->dead;
	u->size += len;
	if (u->size > u->max)
		u->dead = -ERR_TOO_LARGE;
	else if (u->size > u->quota_left)
		u->dead = -ERR_QUOTA;
	if (!u->bufs[0] && u->size > PIPELINE_AFTER && handoff_start(&u->hasher)) {
		/* buffers for the hasher (without them, the bytes go on as they came) */
		u->bufs[0] = malloc(HASH_BUF);
		u->bufs[1] = malloc(HASH_BUF);
		if (!u->bufs[0] || !u->bufs[1]) {
			free(u->bufs[0]);
			free(u->bufs[1]);
			u->bufs[0] = u->bufs[1] = NULL;
		}
	}
	if (!u->bufs[0]) {
		if (hash_and_store(u, data, len) < 0)
			u->dead = -ERR_IO;
		return u->dead;
	}
	const char *p = data;
	while (!u->dead && len) {
		size_t n = HASH_BUF - u->len;
		if (n > len)
			n = len;
		memcpy(u->bufs[u->cur] + u->len, p, n);
		u->len += n;
		p += n;
		len -= n;
		if (u->len == HASH_BUF) {
			int r = handoff_give(&u->hasher, u->bufs[u->cur], u->len);
			if (r < 0)
				u->dead = -ERR_IO;
			else if (r == 1)
				u->cur ^= 1;
			u->len = 0;
		}
	}
	return u->dead;
}

/* Collects one candidate (steps 1 to 3). */
int blob_lease(struct core *c, char holder[TOKEN_LEN])
{
	if (!holder[0])
		token_new("gc_", holder);
	return c->store->ops->blobmeta->lease_take(c->store, BLOB_GC_LEASE, holder, clock_wall_ms(),
						  BLOB_GC_LEASE_MS);
}

void blob_collect(struct core *c, const char *sha, int64_t size, int64_t before,
		  struct blob_gc_stats *gs, bool orphan)
{
	struct store *s = c->store;
	struct blobstore *b = c->blobs;
	if (s->ops->blobmeta->blob_mark(s, sha, size, before, clock_wall_ms()) < 0)
		return; /* in use, or somebody else's to collect */
	struct blob_stat st = { .size = 0 };
	b->ops->stat(b, sha, &st);
	int d = b->ops->delete(b, sha);
	if (d < 0 && d != -ERR_NOT_FOUND) {
		/* it stays marked: the next pass (holding the lease) finishes it */
		log_error("blobs: cannot delete %s: %s", sha, err_str(d));
		return;
	}
	if (s->ops->blobmeta->blob_forget(s, sha) == 0 && d == 0) {
		gs->deleted++;
		gs->bytes += (int64_t)st.size;
		gs->orphans += orphan;
	}
}

/* Step 1's end: the last bytes hashed and written out (made durable unless lazy), the
 * hash checked against the name asked for. */
static int upload_verify(struct blob_upload *u, bool lazy, char sha[BLOB_HEX_LEN + 1])
{
	if (u->dead)
		return u->dead;
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (handoff_wait(&u->hasher) < 0 || (u->len && hash_and_store(u, u->bufs[u->cur], u->len) < 0))
		return -ERR_IO;
	u->len = 0;
	if (EVP_DigestFinal_ex(u->md, digest, &dlen) != 1 || dlen != 32)
		return -ERR_IO;
	sodium_bin2hex(sha, BLOB_HEX_LEN + 1, digest, 32);
	if (u->want[0] && strcmp(sha, u->want) != 0) {
		u->dead = -ERR_MISMATCH;
		return u->dead;
	}
	return u->c->blobs->ops->tmp_sync(u->tmp, lazy);
}

static int upload_record(struct blob_upload *u, const char *sha, bool *ret_new, bool held);

int blob_upload_finish(struct blob_upload *u, char ret_sha256[65], int64_t *ret_size,
		       bool *ret_new)
{
	char sha[BLOB_HEX_LEN + 1];
	int r = upload_verify(u, false, sha);
	if (r == 0)
		r = u->c->blobs->ops->tmp_place(u->tmp, sha, false);
	if (r == 0)
		r = upload_record(u, sha, ret_new, false);
	if (r < 0)
		return r;
	memcpy(ret_sha256, sha, BLOB_HEX_LEN + 1);
	*ret_size = (int64_t)u->size;
	return 0;
}

/* Steps 3 and 4 for bytes that are durable under their name: the row and the holding
 * (unless a batch made them already: held), then the check that collection did not take
 * the bytes meanwhile. */
static int upload_record(struct blob_upload *u, const char *sha, bool *ret_new, bool held)
{
	struct core *c = u->c;
	struct blobstore *b = c->blobs;
	int r = 0;
	if (c->blob_test_hook)
		c->blob_test_hook(c, sha);
	struct blob_hold h = { .sha256 = sha,
			       .size = (int64_t)u->size,
			       .user_id = u->user_id,
			       .realm_id = u->realm_id,
			       .user_quota = blobs_cfg(c->cfg)->user_quota,
			       .realm_quota = blobs_cfg(c->cfg)->realm_quota,
			       .now_ms = clock_wall_ms(),
			       .files = u->files };
	/* Step 3. Marked by collection: its bytes may be going; once the mark is gone (a
	 * collector takes milliseconds) the row is made anew and step 4 puts the bytes back.
	 * Waiting holds an HTTP worker, so it is brief: past it the client is told to retry
	 * (a mark a killed collector left lasts until the lease it held runs out). */
	for (int tries = 0; !held && (r = c->store->ops->blobmeta->blob_hold(c->store, &h,
									      ret_new)) == -ERR_BUSY &&
			    tries < 4;
	     tries++)
		usleep(5000);
	if (r < 0) {
		if (r == -ERR_QUOTA) {
			/* the placed file may now have no row: collect it like any other
			 * candidate (under the collector's lease), so that refused uploads do not
			 * pile up and a concurrent upload of the same bytes is safe */
			char holder[TOKEN_LEN] = "";
			if (blob_lease(c, holder) == 0) {
				struct blob_gc_stats ignored = { 0 };
				blob_collect(c, sha, (int64_t)u->size, INT64_MAX, &ignored, false);
				c->store->ops->blobmeta->lease_drop(c->store, BLOB_GC_LEASE, holder);
			}
		}
		return r;
	}
	/* Step 4: collection may have deleted the bytes before our commit. */
	struct blob_stat st;
	if (b->ops->stat(b, sha, &st) == -ERR_NOT_FOUND) {
		log_info("blobs: %s was collected while being uploaded; placing it again", sha);
		if ((r = b->ops->tmp_sync(u->tmp, false)) < 0 ||
		    (r = b->ops->tmp_place(u->tmp, sha, false)) < 0)
			return r;
	}
	return 0;
}

/* --- batches: the same steps for many blobs, with one sync and one transaction --- */

struct blob_batch {
	struct core *c;
	struct blob_upload *v[BLOB_BATCH_MAX];
	char sha[BLOB_BATCH_MAX][BLOB_HEX_LEN + 1];
	int n;
};

int blob_batch_new(struct core *c, struct blob_batch **ret)
{
	*ret = calloc(1, sizeof **ret);
	if (!*ret)
		return -ERR_NOMEM;
	(*ret)->c = c;
	return 0;
}

int blob_batch_add(struct blob_batch *b, struct blob_upload *u, char ret_sha256[65])
{
	char sha[BLOB_HEX_LEN + 1];
	int r = b->n < BLOB_BATCH_MAX ? upload_verify(u, true, sha) : -ERR_TOO_LARGE;
	if (r < 0) {
		blob_upload_free(u);
		return r;
	}
	memcpy(b->sha[b->n], sha, sizeof sha);
	memcpy(ret_sha256, sha, sizeof sha);
	b->v[b->n++] = u;
	return 0;
}

int blob_batch_pending(const struct blob_batch *b)
{
	return b->n;
}

int blob_batch_commit(struct blob_batch *b, int *status, bool *ret_new)
{
	struct core *c = b->c;
	struct blobstore *bs = c->blobs;
	int n = b->n;
	b->n = 0;
	/* the bytes durable, then their names, then durable names: a name never holds bytes
	 * that a crash could lose (it may replace a damaged file of a blob others hold) */
	int r = bs->ops->sync_all(bs);
	for (int i = 0; r == 0 && i < n; i++)
		r = bs->ops->tmp_place(b->v[i]->tmp, b->sha[i], true);
	if (r == 0)
		r = bs->ops->sync_all(bs);
	struct blob_hold *h = r == 0 ? calloc((size_t)(n ? n : 1), sizeof *h) : NULL;
	if (r == 0 && !h)
		r = -ERR_NOMEM;
	int64_t now = clock_wall_ms();
	for (int i = 0; r == 0 && i < n; i++)
		h[i] = (struct blob_hold){ .sha256 = b->sha[i],
					   .size = (int64_t)b->v[i]->size,
					   .user_id = b->v[i]->user_id,
					   .realm_id = b->v[i]->realm_id,
					   .user_quota = blobs_cfg(c->cfg)->user_quota,
					   .realm_quota = blobs_cfg(c->cfg)->realm_quota,
					   .now_ms = now,
					   .files = b->v[i]->files };
	/* step 3 for all in one transaction; those refused there go on one by one (a mark
	 * of collection to wait out, a quota) */
	if (r == 0)
		r = c->store->ops->blobmeta->blob_hold_many(c->store, h, n, ret_new, status);
	for (int i = 0; i < n; i++) {
		if (r < 0)
			status[i] = r;
		else
			status[i] = upload_record(b->v[i], b->sha[i], &ret_new[i], status[i] == 0);
		blob_upload_free(b->v[i]);
	}
	free(h);
	return r;
}

void blob_batch_free(struct blob_batch *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->n; i++)
		blob_upload_free(b->v[i]);
	free(b);
}

void blob_upload_free(struct blob_upload *u)
{
	if (!u)
		return;
	handoff_fini(&u->hasher); /* before what it hashes into and writes to goes */
	if (u->tmp)
		u->c->blobs->ops->tmp_free(u->tmp);
	EVP_MD_CTX_free(u->md);
	free(u->bufs[0]);
	free(u->bufs[1]);
	free(u);
}

/* --- reading --- */

int blob_open(struct core *c, const struct principal *p, const char *sha256,
	      struct blob_reader **ret)
{
	bool ok = false;
	int r = c->store->ops->blobmeta->blob_readable(c->store, p->user.id, &sha256, 1, &ok, NULL, NULL);
	if (r < 0)
		return r;
	if (!ok)
		return -ERR_NOT_FOUND;
	r = c->blobs->ops->open(c->blobs, sha256, ret);
	if (r == -ERR_NOT_FOUND) {
		/* known and readable, but the file is not there: a collection pass is moving
		 * it, or the disk lost it (cairn check tells) */
		log_warn("blobs: %s is recorded but its file is missing", sha256);
		return -ERR_BUSY;
	}
	/* A file of another size than recorded was damaged on disk: its bytes cannot match
	 * the name, so none are served (an upload of the blob repairs it). */
	int64_t recorded = 0;
	if (r == 0 && c->store->ops->blobmeta->blob_get(c->store, sha256, &recorded, NULL) == 0 &&
	    (uint64_t)recorded != (*ret)->size) {
		log_error("blobs: the file of %s is %llu bytes, recorded %lld: damaged (cairn "
			  "check); an upload of the blob repairs it",
			  sha256, (unsigned long long)(*ret)->size, (long long)recorded);
		*ret = blob_reader_close(*ret);
		return -ERR_BUSY;
	}
	return r;
}

int blob_holdings(struct core *c, const struct principal *p, const char *after, int limit,
		  int (*cb)(void *, const char *, int64_t, int64_t), void *arg)
{
	return c->store->ops->blobmeta->blob_holdings(c->store, p->user.id, after, limit, cb, arg);
}

int blob_release(struct core *c, const struct principal *p, const char *sha256,
		 struct verr *ve)
{
	int64_t space_id = 0, seq = 0;
	int r = c->store->ops->blobmeta->blob_release(c->store, p->user.id, sha256, &space_id, &seq);
	if (r == 0)
		log_info("blobs: user %lld released %s", (long long)p->user.id, sha256);
	if (r == -ERR_NOT_FOUND)
		snprintf(ve->detail, sizeof ve->detail, "You hold no such blob.");
	if (r == -ERR_CONFLICT) {
		snprintf(ve->detail, sizeof ve->detail,
			 "Change %lld of space %lld, which you pushed, names this blob: it can be "
			 "released once no kept change of yours does (delete the records that name "
			 "it; pruning then drops the changes).",
			 (long long)seq, (long long)space_id);
		r = -ERR_BLOB_IN_USE;
	}
	return r;
}

int blob_usage(struct core *c, const struct principal *p, int64_t *ret_used,
	       int64_t *ret_realm_used)
{
	return c->store->ops->blobmeta->blob_usage(c->store, p->user.id, ret_used, ret_realm_used);
}

int blob_missing(struct core *c, const struct principal *p, const char *const *shas, int n,
		 bool *missing)
{
	int r = c->store->ops->blobmeta->blob_readable(c->store, p->user.id, shas, n, missing, NULL, NULL);
	for (int i = 0; r == 0 && i < n; i++) {
		missing[i] = !missing[i];
		if (missing[i])
			continue;
		/* Recorded is not enough: a file the disk lost, or one of another size than
		 * recorded, is reported missing so that the client uploads it again. */
		struct blob_stat st;
		int64_t recorded = 0;
		int e = c->blobs->ops->stat(c->blobs, shas[i], &st);
		if (e == -ERR_NOT_FOUND ||
		    (e == 0 && c->store->ops->blobmeta->blob_get(c->store, shas[i], &recorded, NULL) == 0 &&
		     (uint64_t)recorded != st.size))
			missing[i] = true;
	}
	return r;
}
