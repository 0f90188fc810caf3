/* Collection of blobs nobody holds or references (the protocol with uploads is described
 * in blobs.c and docs/architecture.md), and the check of every blob's bytes. */
#include "blobs.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../store/blob.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "blobs_int.h"

/* --- collection --- */

/* A growing list of blob names (with the recorded size, where one is known). */
struct names {
	struct name {
		char sha[BLOB_HEX_LEN + 1];
		int64_t size;
	} *v;
	int n, cap;
};

static int names_add(struct names *ns, const char *sha, int64_t size)
{
	if (ns->n == ns->cap) {
		int cap = ns->cap ? ns->cap * 2 : 64;
		void *v = realloc(ns->v, sizeof *ns->v * (size_t)cap);
		if (!v)
			return -ERR_NOMEM;
		ns->v = v;
		ns->cap = cap;
	}
	memcpy(ns->v[ns->n].sha, sha, BLOB_HEX_LEN + 1);
	ns->v[ns->n++].size = size;
	return 0;
}

static int add_name(void *arg, const char *sha)
{
	return names_add(arg, sha, 0);
}

struct orphan_scan {
	struct core *c;
	int64_t before;
	struct names found;
};

static int find_orphan(void *arg, const struct blob_stat *st)
{
	struct orphan_scan *os = arg;
	int64_t size;
	if (st->mtime_ms >= os->before)
		return 0;
	if (os->c->store->ops->blobmeta->blob_get(os->c->store, st->sha256, &size, NULL) == -ERR_NOT_FOUND)
		return names_add(&os->found, st->sha256, (int64_t)st->size);
	return 0;
}

/* Renews the lease once a third of it has passed since *leased_ms: 0 while it is held;
 * -ERR_BUSY when it was lost (a stall past its time), and then nothing more is marked. */
static int keep_lease(struct core *c, char holder[TOKEN_LEN], int64_t *leased_ms)
{
	if (clock_wall_ms() - *leased_ms <= BLOB_GC_LEASE_MS / 3)
		return 0;
	int r = blob_lease(c, holder);
	if (r == 0)
		*leased_ms = clock_wall_ms();
	return r;
}

int blob_gc(struct core *c, struct blob_gc_stats *gs)
{
	memset(gs, 0, sizeof *gs);
	struct blobstore *b = c->blobs;
	struct store *st = c->store;
	char holder[TOKEN_LEN] = "";
	int r = blob_lease(c, holder);
	if (r < 0)
		return r; /* -ERR_BUSY: another collector is at work */
	int64_t leased_ms = clock_wall_ms();
	int64_t before = leased_ms - blobs_cfg(c->cfg)->gc_grace_ms;
	struct names ns = { 0 };
	/* Marks left by a collector that stopped between marking and forgetting: with the
	 * lease, nobody else is collecting, so their bytes go and their rows with them. */
	char after[BLOB_HEX_LEN + 1] = "";
	while (r == 0) {
		ns.n = 0;
		r = st->ops->blobmeta->blob_marked(st, after, 256, add_name, &ns);
		if (r < 0 || ns.n == 0)
			break;
		for (int i = 0; i < ns.n; i++) {
			int d = b->ops->delete(b, ns.v[i].sha);
			if ((d == 0 || d == -ERR_NOT_FOUND) &&
			    st->ops->blobmeta->blob_forget(st, ns.v[i].sha) == 0)
				gs->finished++;
		}
		memcpy(after, ns.v[ns.n - 1].sha, sizeof after);
	}
	/* Holdings of chunks that only files kept, once no kept version names them (the
	 * files were deleted and their versions pruned), end: the chunks stop costing quota,
	 * and those nobody else holds become dead rows below. */
	if (r == 0) {
		int64_t released = 0;
		r = st->ops->files->files_release(st, before, &released);
		gs->released = released;
	}
	/* Dead rows, a batch at a time; the lease is renewed as the pass goes. */
	after[0] = '\0';
	while (r == 0) {
		ns.n = 0;
		r = st->ops->blobmeta->blob_dead(st, before, after, 256, add_name, &ns);
		if (r < 0 || ns.n == 0)
			break;
		for (int i = 0; r == 0 && i < ns.n; i++)
			if ((r = keep_lease(c, holder, &leased_ms)) == 0)
				blob_collect(c, ns.v[i].sha, 0, before, gs, false);
		memcpy(after, ns.v[ns.n - 1].sha, sizeof after);
	}
	/* Files nobody recorded: uploads cut off by a crash before their commit. */
	if (r == 0) {
		struct orphan_scan os = { .c = c, .before = before };
		r = b->ops->list(b, find_orphan, &os);
		for (int i = 0; r == 0 && i < os.found.n; i++)
			if ((r = keep_lease(c, holder, &leased_ms)) == 0)
				blob_collect(c, os.found.v[i].sha, os.found.v[i].size, before, gs,
					     true);
		free(os.found.v);
	}
	free(ns.v);
	st->ops->blobmeta->lease_drop(st, BLOB_GC_LEASE, holder);
	if (r == 0 && (gs->deleted || gs->finished))
		log_info("blobs: collected %lld blobs (%lld bytes, %lld of them unrecorded "
			 "files); finished %lld deletions an interrupted pass had begun",
			 (long long)gs->deleted, (long long)gs->bytes, (long long)gs->orphans,
			 (long long)gs->finished);
	return r;
}

/* --- the check --- */

struct rows {
	struct names names;
	uint64_t total;
};

static int add_row(void *arg, const char *sha, int64_t size)
{
	struct rows *rs = arg;
	rs->total += (uint64_t)size;
	return names_add(&rs->names, sha, size);
}

/* The SHA-256 of the blob's file, read through once. */
static int rehash(struct blobstore *b, const char *sha, char out[BLOB_HEX_LEN + 1],
		  uint64_t *done, void (*progress)(void *, uint64_t, uint64_t), void *arg,
		  uint64_t total)
{
	struct blob_reader *rd;
	int r = b->ops->open(b, sha, &rd);
	if (r < 0)
		return r;
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	char *buf = malloc(1 << 20);
	r = md && buf && EVP_DigestInit_ex(md, EVP_sha256(), NULL) == 1 ? 0 : -ERR_NOMEM;
	uint64_t last = *done, pos = 0;
	for (ssize_t n; r == 0 && (n = rd->ops->read_at(rd, pos, buf, 1 << 20)) != 0;) {
		if (n < 0) {
			r = (int)n;
			continue;
		}
		pos += (uint64_t)n;
		EVP_DigestUpdate(md, buf, (size_t)n);
		*done += (uint64_t)n;
		if (progress && *done - last >= (64u << 20)) {
			progress(arg, *done, total);
			last = *done;
		}
	}
	unsigned char digest[EVP_MAX_MD_SIZE];
	unsigned int dlen = 0;
	if (r == 0 && EVP_DigestFinal_ex(md, digest, &dlen) == 1)
		sodium_bin2hex(out, BLOB_HEX_LEN + 1, digest, 32);
	EVP_MD_CTX_free(md);
	free(buf);
	blob_reader_close(rd);
	return r;
}

struct file_scan {
	struct core *c;
	int64_t before;
	FILE *out;
	struct blob_check_stats *cs;
};

static int check_file(void *arg, const struct blob_stat *st)
{
	struct file_scan *fs = arg;
	int64_t size;
	if (fs->c->store->ops->blobmeta->blob_get(fs->c->store, st->sha256, &size, NULL) != -ERR_NOT_FOUND)
		return 0;
	if (st->mtime_ms < fs->before) {
		fs->cs->orphans++;
		fprintf(fs->out, "orphan   %s  %llu bytes: a file no row records (cairn gc deletes it)\n",
			st->sha256, (unsigned long long)st->size);
	} else {
		fs->cs->recent_orphans++;
	}
	return 0;
}

int blob_check(struct core *c, FILE *out, void (*progress)(void *, uint64_t, uint64_t),
	       void *arg, struct blob_check_stats *cs)
{
	memset(cs, 0, sizeof *cs);
	struct blobstore *b = c->blobs;
	struct rows rs = { 0 };
	char after[BLOB_HEX_LEN + 1] = "";
	int r;
	/* every row first, so the total is known for the progress bar */
	for (;;) {
		int before_n = rs.names.n;
		r = c->store->ops->blobmeta->blob_rows(c->store, after, 1024, add_row, &rs);
		if (r < 0 || rs.names.n == before_n)
			break;
		memcpy(after, rs.names.v[rs.names.n - 1].sha, sizeof after);
	}
	uint64_t done = 0;
	for (int i = 0; r == 0 && i < rs.names.n; i++) {
		const char *sha = rs.names.v[i].sha;
		int64_t size = rs.names.v[i].size;
		struct blob_stat st;
		int s = b->ops->stat(b, sha, &st);
		cs->checked++;
		if (s == -ERR_NOT_FOUND) {
			/* collected while the check ran (marked, or gone by now): not lost */
			bool marked = false;
			int64_t now_size;
			int g = c->store->ops->blobmeta->blob_get(c->store, sha, &now_size, &marked);
			if (g == -ERR_NOT_FOUND || (g == 0 && marked))
				continue;
			cs->missing++;
			fprintf(out, "missing  %s  %lld bytes recorded, no file\n", sha,
				(long long)size);
			done += (uint64_t)size;
			continue;
		}
		if (s < 0) {
			r = s;
			break;
		}
		if ((int64_t)st.size != size) {
			cs->wrong_size++;
			fprintf(out, "size     %s  %lld bytes recorded, %llu in the file\n", sha,
				(long long)size, (unsigned long long)st.size);
		}
		char got[BLOB_HEX_LEN + 1] = "";
		uint64_t start = done;
		s = rehash(b, sha, got, &done, progress, arg, rs.total);
		if (s < 0) {
			r = s;
			break;
		}
		cs->bytes += (int64_t)(done - start);
		if (strcmp(got, sha) != 0) {
			cs->corrupt++;
			fprintf(out, "corrupt  %s  the content hashes to %s\n", sha, got);
		}
		if (progress)
			progress(arg, done, rs.total);
	}
	if (r == 0) {
		struct file_scan fs = { c, clock_wall_ms() - blobs_cfg(c->cfg)->gc_grace_ms, out, cs };
		r = b->ops->list(b, check_file, &fs);
	}
	free(rs.names.v);
	return r;
}
