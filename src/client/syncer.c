/* The reference sync client: see syncer.h and docs/sync-client.md. */
#include "syncer.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/files/cdc.h"
#include "../core/files/fpath.h"
#include "../core/files/manifest.h"
#include "../util/buf.h"
#include "local.h"
#include "remote.h"

#define PATH_URL_MAX (FPATH_MAX * 3 + 256)
#define BLOB_SHA_HEX 64

struct limits {
	int64_t chunk_min, chunk_avg, chunk_max, max_chunks;
	int64_t page, push_changes, batch_bytes, batch_blobs, json_body;
};

/* What the pull said of a path: its latest version (the manifest) or its deletion. */
struct rchange {
	char *path;
	int64_t version;
	bool deleted;
	char *manifest; /* JSON text; NULL for a deletion */
};

struct rset {
	struct rchange *v;
	int n, cap;
};

/* A local file to upload: its manifest, built from its bytes. */
struct upload {
	struct fentry *loc;   /* in the scan */
	int64_t base;         /* base_version: the state's version, or 0 for a new file */
	char sha256[65];
	struct chunk_ref *chunks;
	int nchunks;
	bool failed;
	bool copy;            /* a conflict: commit as a conflict copy */
};

struct id_path {
	char id[FPATH_ID_LEN + 1];
	const char *path;
};

struct syncer {
	const struct sync_opts *o;
	struct remote *r;
	struct limits lim;
	struct sync_state st;
	char space[64];       /* the space's id, for URLs */
	struct rset remote;
	int64_t head;         /* the pull's end */
	struct fset fresh;    /* paths new to the state this round (remember) */
	struct id_path *ids;  /* the state's paths by record id, for deletions */
	int nids;
	int errors;
	int behind;           /* what others changed that this round failed to apply */
	int root;             /* the folder, opened */
	int lock;             /* DIR/SYNC_DIR/lock, held for the run (0 before: see sync_run) */
	/* progress */
	int64_t files_done, files_total, bytes, t0_ms, last_ms;
	int64_t n_up, n_down, n_del, n_conflict;
	int64_t req0, sent0; /* the remote's counters when the run began */
};

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

/* --- output --- */

static void progress(struct syncer *s, bool force)
{
	if (!s->o->tty)
		return;
	int64_t t = now_ms();
	if (!force && t - s->last_ms < 250)
		return;
	s->last_ms = t;
	double secs = (double)(t - s->t0_ms) / 1000.0;
	double mib = (double)s->bytes / (1024.0 * 1024.0);
	fprintf(stderr, "\rcairn sync: %lld/%lld files, %.1f MiB, %.1f MiB/s   ",
		(long long)s->files_done, (long long)s->files_total, mib,
		secs > 0 ? mib / secs : 0.0);
	fflush(stderr);
}

static void say(struct syncer *s, const char *what, const char *path, const char *more)
{
	if (s->o->tty)
		return; /* the progress line says it */
	printf("%s %s%s%s\n", what, path, more ? " " : "", more ? more : "");
}

static void fail(struct syncer *s, const char *path, const char *why)
{
	s->errors++;
	if (s->o->tty)
		fputc('\n', stderr);
	fprintf(stderr, "cairn sync: %s: %s\n", path, why);
}

/* Skipped names are told once per process, not at every scan of --watch. */
static bool warned;

static void warn_skip(const char *path, const char *why)
{
	if (!warned)
		fprintf(stderr, "cairn sync: skipped %s: %s\n", path, why);
}

/* --- the folder, never left ---
 *
 * Every path is walked from the folder one component at a time with O_NOFOLLOW, so a
 * symbolic link inside the folder (which another device may have synced there) never
 * leads a write, a deletion or a read outside it: a path through a link is refused. */

/* The directory holding rel's last component, opened from the folder (the caller closes
 * it), and that component in *leaf; with create, missing directories are made. -1 with
 * errno (ELOOP or ENOTDIR for a link or file on the way). */
static int parent_fd(struct syncer *s, const char *rel, bool create, const char **leaf)
{
	int fd = openat(s->root, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char comp[FPATH_SEGMENT_MAX * 4 + 1];
	const char *p = rel;
	for (const char *slash; fd >= 0 && (slash = strchr(p, '/')); p = slash + 1) {
		size_t n = (size_t)(slash - p);
		if (n == 0 || n >= sizeof comp || (n <= 2 && !strncmp(p, "..", n))) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(comp, p, n);
		comp[n] = '\0';
		int sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub < 0 && errno == ENOENT && create && mkdirat(fd, comp, 0755) == 0)
			sub = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int saved = errno;
		close(fd);
		errno = saved;
		fd = sub;
	}
	*leaf = p;
	if (fd >= 0 && (!*p || !strcmp(p, ".") || !strcmp(p, ".."))) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	return fd;
}

/* rel opened for reading, without following a link anywhere on the way. */
static int open_in(struct syncer *s, const char *rel)
{
	const char *leaf;
	int d = parent_fd(s, rel, false, &leaf);
	if (d < 0)
		return -1;
	int fd = openat(d, leaf, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	int saved = errno;
	close(d);
	errno = saved;
	return fd;
}

/* --- the remote set --- */

static void rset_free(struct rset *rs)
{
	for (int i = 0; i < rs->n; i++) {
		free(rs->v[i].path);
		free(rs->v[i].manifest);
	}
	free(rs->v);
	memset(rs, 0, sizeof *rs);
}

static int cmp_rchange(const void *a, const void *b)
{
	return strcmp(((const struct rchange *)a)->path, ((const struct rchange *)b)->path);
}

static struct rchange *rset_find(const struct rset *rs, const char *path)
{
	struct rchange k = { .path = (char *)path };
	return rs->n ? bsearch(&k, rs->v, (size_t)rs->n, sizeof *rs->v, cmp_rchange) : NULL;
}

/* Records the latest state of path (later calls override: the pull is in order). The
 * set is sorted at the end (rset_done); until then lookups go through a linear index. */
/* Names this client keeps for itself: its state directory at the top, and its temporary
 * files anywhere. A path the server has under them is left alone (never written here,
 * never deleted there). */
static bool reserved(const char *path)
{
	size_t n = strlen(SYNC_DIR);
	if (!strncmp(path, SYNC_DIR, n) && (path[n] == '/' || !path[n]))
		return true;
	for (const char *p = path; p; p = strchr(p, '/')) {
		if (*p == '/')
			p++;
		if (!strncmp(p, SYNC_TMP_PREFIX, strlen(SYNC_TMP_PREFIX)))
			return true;
	}
	return false;
}

static int rset_put(struct rset *rs, const char *path, int64_t version, const char *manifest)
{
	/* a path from the server is checked like one from a user: in NFC and within the
	 * rules (no "..", no empty segment), or it is passed over */
	char norm[FPATH_MAX + 1];
	const char *rule = NULL, *why = NULL;
	if (fpath_normalize(path, strlen(path), norm, &rule, &why) < 0 || strcmp(norm, path)) {
		fprintf(stderr, "cairn sync: the server named a path that is not one (%s): passed "
				"over\n",
			rule ? rule : "not NFC");
		return 0;
	}
	if (reserved(path))
		return 0;
	if (rs->n == rs->cap) {
		int cap = rs->cap ? rs->cap * 2 : 256;
		struct rchange *v = realloc(rs->v, sizeof *v * (size_t)cap);
		if (!v)
			return -1;
		rs->v = v;
		rs->cap = cap;
	}
	struct rchange *x = &rs->v[rs->n];
	x->path = strdup(path);
	x->version = version;
	x->deleted = manifest == NULL;
	x->manifest = manifest ? strdup(manifest) : NULL;
	if (!x->path || (manifest && !x->manifest))
		return -1;
	rs->n++;
	return 0;
}

/* Sorts and keeps the last record of each path (the pull's order is the log's). */
static void rset_done(struct rset *rs)
{
	if (rs->n < 2)
		return;
	/* by path; of a path's records the one with the highest version (the log's order)
	 * stays */
	qsort(rs->v, (size_t)rs->n, sizeof *rs->v, cmp_rchange);
	int u = 0;
	for (int i = 0; i < rs->n; i++) {
		if (u && !strcmp(rs->v[u - 1].path, rs->v[i].path)) {
			struct rchange *keep = rs->v[u - 1].version >= rs->v[i].version ? &rs->v[u - 1]
											 : &rs->v[i];
			struct rchange *drop = keep == &rs->v[i] ? &rs->v[u - 1] : &rs->v[i];
			free(drop->path);
			free(drop->manifest);
			if (keep != &rs->v[u - 1])
				rs->v[u - 1] = *keep;
			continue;
		}
		rs->v[u++] = rs->v[i];
	}
	rs->n = u;
}

/* --- talking to the server --- */

static int64_t jget_int(json_object *o, const char *k, int64_t def)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_int)
		       ? json_object_get_int64(v)
		       : def;
}

/* An array member, or NULL when absent or of another type (a server's answer is checked
 * like any input: json-c asserts on an array call made on something else). */
static json_object *jget_arr(json_object *o, const char *k)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_array)
		       ? v
		       : NULL;
}

/* The count of an array from jget_arr (0 for NULL). */
static size_t jlen(json_object *a)
{
	return a ? json_object_array_length(a) : 0;
}

static const char *jget_str(json_object *o, const char *k)
{
	json_object *v;
	return o && json_object_object_get_ex(o, k, &v) && json_object_is_type(v, json_type_string)
		       ? json_object_get_string(v)
		       : NULL;
}

/* A failed answer, as a sentence for the user. */
static void fail_answer(struct syncer *s, const char *what, long status, json_object *body)
{
	char why[512];
	const char *e = jget_str(body, "error");
	if (status == 0)
		snprintf(why, sizeof why, "%s", remote_error(s->r));
	else
		snprintf(why, sizeof why, "HTTP %ld%s%s", status, e ? ": " : "", e ? e : "");
	fail(s, what, why);
}

static int load_limits(struct syncer *s)
{
	long st;
	json_object *o;
	if (remote_call(s->r, "GET", "/api/v1/limits", NULL, 0, NULL, &st, &o) < 0 || st != 200) {
		fail_answer(s, s->o->server, st, o);
		json_object_put(o);
		return st == 0 ? -1 : -2;
	}
	struct limits *l = &s->lim;
	l->chunk_min = jget_int(o, "file_chunk_min", 256 << 10);
	l->chunk_avg = jget_int(o, "file_chunk_avg", 1 << 20);
	l->chunk_max = jget_int(o, "file_chunk_max", 4 << 20);
	l->max_chunks = jget_int(o, "file_max_chunks", 16384);
	l->page = jget_int(o, "page", 1000);
	l->push_changes = jget_int(o, "push_changes", 1000);
	l->batch_bytes = jget_int(o, "batch_bytes", 64 << 20);
	l->batch_blobs = jget_int(o, "batch_blobs", 10000);
	l->json_body = jget_int(o, "json_body_bytes", 16 << 20);
	json_object_put(o);
	/* the server's word, checked: a chunker or a pager with nothing to step by would
	 * spin */
	if (l->chunk_min < CDC_MIN_CHUNK || l->chunk_avg <= l->chunk_min ||
	    (l->chunk_avg & (l->chunk_avg - 1)) || l->chunk_max <= l->chunk_avg ||
	    l->chunk_max > CDC_MAX_CHUNK || l->max_chunks < 1 || l->page < 1 ||
	    l->page > 100000 || l->push_changes < 1 || l->push_changes > 100000 ||
	    l->batch_bytes < 1024 || l->batch_blobs < 1 || l->json_body < 1024) {
		fail(s, s->o->server, "the server's limits (GET /api/v1/limits) make no sense");
		return -1;
	}
	return 0;
}

static int resolve_space(struct syncer *s)
{
	char path[256];
	snprintf(path, sizeof path, "/api/v1/spaces/");
	if (remote_escape_path(s->o->space, path, sizeof path) < 0)
		return -1;
	long st;
	json_object *o;
	if (remote_call(s->r, "GET", path, NULL, 0, NULL, &st, &o) < 0 || st != 200) {
		char what[128];
		snprintf(what, sizeof what, "space %s", s->o->space);
		if (st == 401)
			fail(s, what, "the server refused the token (revoked, expired or not one)");
		else if (st == 404)
			fail(s, what, "no such space here, or not one of yours");
		else
			fail_answer(s, what, st, o);
		json_object_put(o);
		return st == 0 ? -1 : -2;
	}
	json_object *sp = NULL;
	json_object_object_get_ex(o, "space", &sp);
	int64_t id = jget_int(sp, "id", 0);
	snprintf(s->space, sizeof s->space, "%lld", (long long)id);
	json_object_put(o);
	if (id <= 0)
		return -1;
	if (s->st.space_id && s->st.space_id != id) {
		fprintf(stderr, "cairn sync: %s was synced with another space (%lld); use another "
				"folder\n",
			s->o->dir, (long long)s->st.space_id);
		return -2;
	}
	s->st.space_id = id;
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	return strcmp(((const struct id_path *)a)->id, ((const struct id_path *)b)->id);
}

/* The path of the file a deletion names, from the state (a deletion carries the id): an
 * index of the state by id, made on first need in each pull. */
static const char *path_of_id(struct syncer *s, const char *id)
{
	if (!s->ids && s->st.files.n) {
		s->ids = calloc((size_t)s->st.files.n, sizeof *s->ids);
		if (!s->ids)
			return NULL;
		for (int i = 0; i < s->st.files.n; i++) {
			fpath_id(s->st.files.v[i].path, s->ids[i].id);
			s->ids[i].path = s->st.files.v[i].path;
		}
		s->nids = s->st.files.n;
		qsort(s->ids, (size_t)s->nids, sizeof *s->ids, cmp_id);
	}
	struct id_path key;
	snprintf(key.id, sizeof key.id, "%s", id);
	struct id_path *f = s->nids ? bsearch(&key, s->ids, (size_t)s->nids, sizeof *s->ids, cmp_id)
				    : NULL;
	return f ? f->path : NULL;
}

/* A new device, or one whose cursor expired: every live file as of one snapshot; what the
 * state knows and the snapshot lacks was deleted. */
static int bootstrap(struct syncer *s)
{
	rset_free(&s->remote);
	char after[FPATH_ID_LEN * 3 + 8] = "", path[512];
	int64_t snapshot = -1;
	for (;;) {
		if (snapshot < 0)
			snprintf(path, sizeof path, "/api/v1/spaces/%s/records?collection=files&limit=%lld",
				 s->space, (long long)s->lim.page);
		else
			snprintf(path, sizeof path,
				 "/api/v1/spaces/%s/records?collection=files&limit=%lld&snapshot=%lld"
				 "&after=%s",
				 s->space, (long long)s->lim.page, (long long)snapshot, after);
		long st;
		json_object *o;
		if (remote_call(s->r, "GET", path, NULL, 0, NULL, &st, &o) < 0 || st != 200) {
			fail_answer(s, "listing the space's files", st, o);
			json_object_put(o);
			return -1;
		}
		snapshot = jget_int(o, "snapshot", jget_int(o, "as_of_seq", 0));
		const char *ep = jget_str(o, "epoch");
		snprintf(s->st.epoch, sizeof s->st.epoch, "%s", ep ? ep : "");
		json_object *recs = jget_arr(o, "records");
		size_t n = jlen(recs);
		for (size_t i = 0; i < n; i++) {
			json_object *rec = json_object_array_get_idx(recs, i), *data = NULL;
			json_object_object_get_ex(rec, "data", &data);
			const char *p = jget_str(data, "path");
			json_object *del = NULL;
			json_object_object_get_ex(rec, "deleted", &del);
			if (!p || json_object_get_boolean(del))
				continue;
			if (rset_put(&s->remote, p, jget_int(rec, "version", 0),
				     json_object_to_json_string_ext(data, JSON_C_TO_STRING_PLAIN)) < 0) {
				json_object_put(o);
				return -1;
			}
		}
		json_object *more = NULL, *next = NULL;
		json_object_object_get_ex(o, "more", &more);
		json_object_object_get_ex(o, "next", &next);
		const char *na = jget_str(next, "after");
		after[0] = '\0';
		if (na)
			remote_escape_path(na, after, sizeof after);
		bool go_on = json_object_get_boolean(more) && na;
		json_object_put(o);
		if (!go_on)
			break;
	}
	rset_done(&s->remote);
	/* what the state has and the snapshot does not was deleted */
	for (int i = 0; i < s->st.files.n; i++)
		if (!rset_find(&s->remote, s->st.files.v[i].path) &&
		    rset_put(&s->remote, s->st.files.v[i].path, INT64_MAX, NULL) < 0)
			return -1;
	rset_done(&s->remote);
	s->head = snapshot;
	return 0;
}

/* What changed on the server since the state's cursor. */
static int pull(struct syncer *s)
{
	rset_free(&s->remote);
	int64_t since = s->st.cursor;
	if (since == 0 && s->st.files.n == 0)
		return bootstrap(s);
	for (;;) {
		char path[512];
		snprintf(path, sizeof path, "/api/v1/spaces/%s/changes?since=%lld&limit=%lld%s%s",
			 s->space, (long long)since, (long long)s->lim.page,
			 s->st.epoch[0] ? "&epoch=" : "", s->st.epoch);
		long st;
		json_object *o;
		if (remote_call(s->r, "GET", path, NULL, 0, NULL, &st, &o) < 0) {
			fail_answer(s, "pulling changes", 0, NULL);
			return -1;
		}
		if (st == 410) { /* pruned past us, or another history: start over */
			json_object_put(o);
			return bootstrap(s);
		}
		if (st != 200) {
			fail_answer(s, "pulling changes", st, o);
			json_object_put(o);
			return -1;
		}
		const char *ep = jget_str(o, "epoch");
		if (ep)
			snprintf(s->st.epoch, sizeof s->st.epoch, "%s", ep);
		json_object *chs = jget_arr(o, "changes");
		size_t n = jlen(chs);
		for (size_t i = 0; i < n; i++) {
			json_object *c = json_object_array_get_idx(chs, i), *data = NULL;
			const char *coll = jget_str(c, "collection");
			if (!coll || strcmp(coll, "files"))
				continue;
			json_object_object_get_ex(c, "data", &data);
			const char *op = jget_str(c, "op");
			int64_t ver = jget_int(c, "seq", 0);
			const char *p = NULL;
			if (op && !strcmp(op, "put"))
				p = jget_str(data, "path");
			else if (op && !strcmp(op, "delete"))
				p = path_of_id(s, jget_str(c, "id") ? jget_str(c, "id") : "");
			if (p && rset_put(&s->remote, p, ver,
					  op[0] == 'p' ? json_object_to_json_string_ext(
								 data, JSON_C_TO_STRING_PLAIN)
						       : NULL) < 0) {
				json_object_put(o);
				return -1;
			}
		}
		since = jget_int(o, "next", since);
		s->head = jget_int(o, "head_seq", since);
		json_object *more = NULL;
		json_object_object_get_ex(o, "more", &more);
		bool go_on = json_object_get_boolean(more);
		json_object_put(o);
		if (!go_on)
			break;
	}
	s->head = since > s->head ? since : s->head;
	rset_done(&s->remote);
	free(s->ids); /* it points into the state, which the round changes */
	s->ids = NULL;
	s->nids = 0;
	return 0;
}

/* --- hashing a local file into its manifest --- */

static int hash_file(struct syncer *s, struct upload *u)
{
	int fd = open_in(s, u->loc->local);
	if (fd < 0)
		return -1;
	EVP_MD_CTX *whole = EVP_MD_CTX_new(), *part = EVP_MD_CTX_new();
	struct cdc cdc;
	cdc_init(&cdc, (uint32_t)s->lim.chunk_min, (uint32_t)s->lim.chunk_avg,
		 (uint32_t)s->lim.chunk_max);
	static uint8_t buf[1 << 20];
	int r = whole && part && EVP_DigestInit_ex(whole, EVP_sha256(), NULL) == 1 &&
				EVP_DigestInit_ex(part, EVP_sha256(), NULL) == 1
			? 0
			: -1;
	int64_t clen = 0, total = 0;
	int cap = 0;
	while (r == 0) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			r = -1;
			break;
		}
		if (n == 0)
			break;
		EVP_DigestUpdate(whole, buf, (size_t)n);
		total += n;
		size_t at = 0;
		while (at < (size_t)n && r == 0) {
			bool cut;
			size_t k = cdc_next(&cdc, buf + at, (size_t)n - at, &cut);
			EVP_DigestUpdate(part, buf + at, k);
			clen += (int64_t)k;
			at += k;
			if (!cut)
				continue;
			if (u->nchunks == cap) {
				cap = cap ? cap * 2 : 16;
				struct chunk_ref *c = realloc(u->chunks, sizeof *c * (size_t)cap);
				if (!c) {
					r = -1;
					break;
				}
				u->chunks = c;
			}
			unsigned char d[32];
			EVP_DigestFinal_ex(part, d, NULL);
			sodium_bin2hex(u->chunks[u->nchunks].sha256, 65, d, 32);
			u->chunks[u->nchunks++].size = clen;
			clen = 0;
			EVP_DigestInit_ex(part, EVP_sha256(), NULL);
		}
	}
	if (r == 0 && clen > 0) {
		if (u->nchunks == cap) {
			struct chunk_ref *c = realloc(u->chunks, sizeof *c * (size_t)(cap + 1));
			if (!c)
				r = -1;
			else
				u->chunks = c;
		}
		if (r == 0) {
			unsigned char d[32];
			EVP_DigestFinal_ex(part, d, NULL);
			sodium_bin2hex(u->chunks[u->nchunks].sha256, 65, d, 32);
			u->chunks[u->nchunks++].size = clen;
		}
	}
	if (r == 0) {
		unsigned char d[32];
		EVP_DigestFinal_ex(whole, d, NULL);
		sodium_bin2hex(u->sha256, 65, d, 32);
		/* changed while read: left for the next round */
		struct stat st;
		if (fstat(fd, &st) < 0 || st.st_size != total || st.st_size != u->loc->size ||
		    st.st_mtim.tv_sec != u->loc->mtime_s || st.st_mtim.tv_nsec != u->loc->mtime_ns)
			r = -2;
		if (u->nchunks > s->lim.max_chunks)
			r = -3;
	}
	EVP_MD_CTX_free(whole);
	EVP_MD_CTX_free(part);
	close(fd);
	return r;
}

/* --- uploading the chunks the server lacks --- */

struct chunk_src {
	const char *sha;
	struct upload *u;
	int64_t off, size;
};

static int cmp_src(const void *a, const void *b)
{
	return strcmp(((const struct chunk_src *)a)->sha, ((const struct chunk_src *)b)->sha);
}

static int send_batch(struct syncer *s, struct buf *body, struct chunk_src **in, int n)
{
	if (n == 0)
		return 0;
	long st;
	json_object *o;
	int r = remote_call(s->r, "POST", "/api/v1/blobs/batch", body->ptr, body->len,
			    "application/octet-stream", &st, &o);
	if (r < 0 || st != 200) {
		fail_answer(s, "uploading chunks", st, o);
		json_object_put(o);
		for (int i = 0; i < n; i++)
			in[i]->u->failed = true;
		return -1;
	}
	json_object *res = jget_arr(o, "results");
	for (int i = 0; i < n; i++) {
		const char *stt = (size_t)i < jlen(res)
					  ? jget_str(json_object_array_get_idx(res, (size_t)i), "status")
					  : NULL;
		if (!stt || (strcmp(stt, "stored") && strcmp(stt, "had"))) {
			if (!in[i]->u->failed)
				fail(s, in[i]->u->loc->path, stt ? stt : "a chunk was not stored");
			in[i]->u->failed = true;
		}
	}
	json_object_put(o);
	return 0;
}

static int upload_chunks(struct syncer *s, struct upload *ups, int nups)
{
	int total = 0;
	for (int i = 0; i < nups; i++)
		total += ups[i].nchunks;
	if (total == 0)
		return 0;
	struct chunk_src *src = calloc((size_t)total, sizeof *src);
	if (!src)
		return -1;
	int k = 0;
	for (int i = 0; i < nups; i++) {
		int64_t off = 0;
		for (int c = 0; c < ups[i].nchunks; c++) {
			src[k++] = (struct chunk_src){ ups[i].chunks[c].sha256, &ups[i], off,
						       ups[i].chunks[c].size };
			off += ups[i].chunks[c].size;
		}
	}
	qsort(src, (size_t)total, sizeof *src, cmp_src);
	int u = 0;
	for (int i = 0; i < total; i++)
		if (!u || strcmp(src[u - 1].sha, src[i].sha))
			src[u++] = src[i];
	/* which the server lacks, a page of hashes at a time */
	bool *missing = calloc((size_t)u, sizeof *missing);
	int r = missing ? 0 : -1;
	for (int at = 0; r == 0 && at < u; at += (int)s->lim.page) {
		int n = u - at < s->lim.page ? u - at : (int)s->lim.page;
		json_object *req = json_object_new_object(), *arr = json_object_new_array();
		for (int i = 0; i < n; i++)
			json_object_array_add(arr, json_object_new_string(src[at + i].sha));
		json_object_object_add(req, "hashes", arr);
		long st;
		json_object *o;
		r = remote_json(s->r, "POST", "/api/v1/blobs/missing", req, &st, &o);
		json_object_put(req);
		if (r < 0 || st != 200) {
			fail_answer(s, "asking for missing chunks", st, o);
			json_object_put(o);
			r = -1;
			break;
		}
		json_object *miss = jget_arr(o, "missing");
		size_t mn = jlen(miss);
		for (size_t m = 0; m < mn; m++) {
			json_object *hv = json_object_array_get_idx(miss, m);
			const char *h = json_object_is_type(hv, json_type_string)
						? json_object_get_string(hv)
						: NULL;
			if (!h)
				continue;
			struct chunk_src key = { .sha = h };
			struct chunk_src *f = bsearch(&key, src + at, (size_t)n, sizeof *src, cmp_src);
			if (f)
				missing[f - src] = true;
		}
		json_object_put(o);
	}
	/* the missing ones, in batches of files.batch_bytes (at most 32 MiB here) */
	int64_t cap = s->lim.batch_bytes < (32 << 20) ? s->lim.batch_bytes : (32 << 20);
	struct buf body;
	buf_init(&body, (size_t)cap + (size_t)s->lim.chunk_max + 256);
	struct chunk_src **in = calloc((size_t)u + 1, sizeof *in);
	int nin = 0;
	if (!in)
		r = -1;
	int open_fd = -1;
	struct upload *open_u = NULL;
	for (int i = 0; r == 0 && i <= u; i++) {
		bool last = i == u;
		if (!last && !missing[i])
			continue;
		if (nin && (last || (int64_t)body.len + src[i].size + 100 > cap ||
			    nin >= s->lim.batch_blobs)) {
			send_batch(s, &body, in, nin);
			buf_reset(&body);
			nin = 0;
		}
		if (last)
			break;
		struct chunk_src *c = &src[i];
		if (c->u->failed)
			continue;
		if (open_u != c->u) {
			if (open_fd >= 0)
				close(open_fd);
			open_fd = open_in(s, c->u->loc->local);
			open_u = c->u;
		}
		char head[100];
		int hl = snprintf(head, sizeof head, "%s %lld\n", c->sha, (long long)c->size);
		size_t at = body.len;
		if (open_fd < 0 || buf_append(&body, head, (size_t)hl) < 0) {
			c->u->failed = true;
			fail(s, c->u->loc->path, "cannot read the file");
			continue;
		}
		char *tmp = malloc((size_t)c->size);
		ssize_t got = tmp ? pread(open_fd, tmp, (size_t)c->size, c->off) : -1;
		if (got != c->size || buf_append(&body, tmp, (size_t)c->size) < 0) {
			body.len = at;
			c->u->failed = true;
			fail(s, c->u->loc->path, "changed while being read; next round");
		} else {
			in[nin++] = c;
			s->bytes += c->size;
		}
		free(tmp);
		progress(s, false);
	}
	if (open_fd >= 0)
		close(open_fd);
	buf_free(&body);
	free(in);
	free(missing);
	free(src);
	return r;
}

/* --- committing --- */

static json_object *manifest_json(const struct fentry *e, const struct upload *u)
{
	json_object *m = json_object_new_object();
	json_object_object_add(m, "path", json_object_new_string(e->path));
	json_object_object_add(m, "type", json_object_new_string(file_type_name(e->type)));
	json_object_object_add(m, "mode", json_object_new_int(e->mode));
	char mt[MTIME_TEXT_LEN];
	manifest_mtime_format(e->mtime_s, e->mtime_ns, mt);
	json_object_object_add(m, "mtime", json_object_new_string(mt));
	if (e->type == FILE_SYMLINK)
		json_object_object_add(m, "target", json_object_new_string(e->target));
	if (e->type == FILE_REGULAR) {
		json_object_object_add(m, "size", json_object_new_int64(e->size));
		json_object_object_add(m, "sha256", json_object_new_string(u->sha256));
		json_object *arr = json_object_new_array();
		for (int i = 0; i < u->nchunks; i++) {
			json_object *c = json_object_new_object();
			json_object_object_add(c, "sha256", json_object_new_string(u->chunks[i].sha256));
			json_object_object_add(c, "size", json_object_new_int64(u->chunks[i].size));
			json_object_array_add(arr, c);
		}
		json_object_object_add(m, "chunks", arr);
	}
	return m;
}

static void op_id(char out[40])
{
	unsigned char raw[12];
	randombytes_buf(raw, sizeof raw);
	memcpy(out, "cs-", 3);
	sodium_bin2hex(out + 3, 25, raw, sizeof raw);
}

/* The state after a commit or a download: the entry as it is on disk, at version. A
 * path the state has is updated in place; a new one waits in s->fresh until the round
 * ends (state_settle), so that the state is sorted once, not once per file. */
static void remember(struct syncer *s, const struct fentry *e, const char *sha, int64_t version)
{
	struct fentry x = *e;
	x.version = version;
	snprintf(x.sha256, sizeof x.sha256, "%s", sha ? sha : "");
	struct fentry *k = fset_find(&s->st.files, e->path);
	if (!k) {
		fset_add(&s->fresh, &x);
		return;
	}
	char *local = strdup(x.local ? x.local : x.path);
	char *target = x.target ? strdup(x.target) : NULL;
	if (!local || (x.target && !target)) {
		free(local);
		free(target);
		return;
	}
	free(k->local);
	free(k->target);
	char *path = k->path;
	*k = x;
	k->path = path;
	k->local = local;
	k->target = target;
}

/* The entries the round added, into the state, sorted once. A path remembered twice keeps
 * its last entry. */
static const struct fentry *settle_base;

static int cmp_fresh(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;
	int c = strcmp(settle_base[x].path, settle_base[y].path);
	return c ? c : x - y;
}

static void state_settle(struct syncer *s)
{
	int n = s->fresh.n;
	int *idx = malloc(sizeof *idx * (size_t)(n ? n : 1));
	for (int i = 0; idx && i < n; i++)
		idx[i] = i;
	settle_base = s->fresh.v;
	if (idx && n > 1)
		qsort(idx, (size_t)n, sizeof *idx, cmp_fresh);
	int before = s->st.files.n;
	for (int i = 0; idx && i < n; i++) {
		const struct fentry *e = &s->fresh.v[idx[i]];
		if (i + 1 < n && !strcmp(e->path, s->fresh.v[idx[i + 1]].path))
			continue; /* a later one of the same path wins */
		/* the state's sorted part is searched; fresh paths were not in it */
		struct fentry *old = NULL;
		if (before) {
			struct fset head = { s->st.files.v, before, before };
			old = fset_find(&head, e->path);
		}
		if (!old)
			fset_add(&s->st.files, e);
	}
	free(idx);
	fset_free(&s->fresh);
	fset_sort(&s->st.files);
}

static void forget(struct syncer *s, const char *path)
{
	struct fentry *k = fset_find(&s->st.files, path);
	if (k)
		fset_remove(&s->st.files, k);
	for (int i = 0; i < s->fresh.n; i++)
		if (!strcmp(s->fresh.v[i].path, path))
			fset_remove(&s->fresh, &s->fresh.v[i--]);
}

struct commit_item {
	struct upload *u;   /* a put; NULL for a delete */
	const char *path;   /* a delete's */
	int64_t base;
};

/* A conflict copy: the local side goes to the server under a name of its own, and the
 * local file is renamed to it, so neither side is lost. */
static void commit_copy(struct syncer *s, struct upload *u)
{
	char path[PATH_URL_MAX];
	snprintf(path, sizeof path, "/api/v1/spaces/%s/files/", s->space);
	remote_escape_path(u->loc->path, path, sizeof path);
	json_object *m = manifest_json(u->loc, u);
	json_object_object_add(m, "base_version", json_object_new_int64(u->base));
	json_object_object_add(m, "on_conflict", json_object_new_string("copy"));
	long st;
	json_object *o;
	int r = remote_json(s->r, "PUT", path, m, &st, &o);
	json_object_put(m);
	const char *to = jget_str(o, "path");
	if (r < 0 || st != 200 || !to) {
		fail_answer(s, u->loc->path, st, o);
		json_object_put(o);
		return;
	}
	int64_t version = jget_int(o, "version", 0);
	/* the copy's name must be a path, beside the file */
	char norm[FPATH_MAX + 1];
	const char *rule, *why, *a = strrchr(to, '/'), *b = strrchr(u->loc->path, '/');
	size_t da = a ? (size_t)(a - to) : 0, db = b ? (size_t)(b - u->loc->path) : 0;
	if (fpath_normalize(to, strlen(to), norm, &rule, &why) < 0 || strcmp(norm, to) ||
	    reserved(to) || da != db || strncmp(to, u->loc->path, da)) {
		fail(s, u->loc->path, "the server named a conflict copy outside the file's directory");
		json_object_put(o);
		return;
	}
	if (strcmp(to, u->loc->path) != 0) {
		/* the local file takes the copy's name (in the same directory); the server's
		 * side comes down next */
		const char *leaf, *to_leaf = strrchr(to, '/');
		to_leaf = to_leaf ? to_leaf + 1 : to;
		int d = parent_fd(s, u->loc->local, false, &leaf);
		int rr = d < 0 ? -1 : renameat2(d, leaf, d, to_leaf, RENAME_NOREPLACE);
		if (d >= 0)
			close(d);
		if (rr < 0) {
			fail(s, u->loc->path, strerror(errno));
		} else {
			struct fentry e = *u->loc;
			e.path = (char *)to;
			e.local = (char *)to;
			remember(s, &e, u->sha256, version);
			s->n_conflict++;
			say(s, "conflict", u->loc->path, to);
		}
	} else {
		remember(s, u->loc, u->sha256, version);
	}
	json_object_put(o);
}

static int push_batch(struct syncer *s, struct commit_item *items, int n)
{
	json_object *req = json_object_new_object(), *arr = json_object_new_array();
	char (*ops)[40] = calloc((size_t)n, sizeof *ops);
	for (int i = 0; i < n; i++) {
		json_object *c = json_object_new_object();
		const char *path = items[i].u ? items[i].u->loc->path : items[i].path;
		char id[FPATH_ID_LEN + 1];
		fpath_id(path, id);
		op_id(ops[i]);
		json_object_object_add(c, "op_id", json_object_new_string(ops[i]));
		json_object_object_add(c, "collection", json_object_new_string("files"));
		json_object_object_add(c, "id", json_object_new_string(id));
		json_object_object_add(c, "op", json_object_new_string(items[i].u ? "put" : "delete"));
		if (items[i].u)
			json_object_object_add(c, "data", manifest_json(items[i].u->loc, items[i].u));
		json_object_object_add(c, "base_version", json_object_new_int64(items[i].base));
		json_object_array_add(arr, c);
	}
	json_object_object_add(req, "changes", arr);
	char path[128];
	snprintf(path, sizeof path, "/api/v1/spaces/%s/changes", s->space);
	long st;
	json_object *o;
	int r = remote_json(s->r, "POST", path, req, &st, &o);
	json_object_put(req);
	free(ops);
	if (r < 0 || st != 200) {
		fail_answer(s, "committing", st, o);
		json_object_put(o);
		return -1;
	}
	json_object *res = jget_arr(o, "results");
	for (int i = 0; i < n; i++) {
		json_object *x = (size_t)i < jlen(res) ? json_object_array_get_idx(res, (size_t)i)
						       : NULL;
		const char *status = jget_str(x, "status");
		int64_t version = jget_int(x, "version", 0);
		struct commit_item *it = &items[i];
		if (!status) {
			fail(s, it->u ? it->u->loc->path : it->path, "no result");
		} else if (!strcmp(status, "conflict")) {
			/* changed on the server meanwhile: the next round pulls it and decides */
			if (it->u && !it->path)
				it->u->copy = true;
		} else if (it->u) {
			remember(s, it->u->loc, it->u->sha256, version);
			s->n_up++;
			s->files_done++;
			say(s, "up", it->u->loc->path, NULL);
		} else {
			forget(s, it->path);
			s->n_del++;
			say(s, "deleted on the server", it->path, NULL);
		}
	}
	json_object_put(o);
	progress(s, false);
	return 0;
}

static int commit_all(struct syncer *s, struct commit_item *items, int n)
{
	size_t bytes = 0;
	int start = 0;
	for (int i = 0; i <= n; i++) {
		size_t mine = i < n && items[i].u ? (size_t)items[i].u->nchunks * 110 + 600 : 200;
		if (i > start && (i == n || i - start >= s->lim.push_changes ||
				  bytes + mine > (size_t)s->lim.json_body / 2)) {
			if (push_batch(s, items + start, i - start) < 0)
				return -1;
			start = i;
			bytes = 0;
		}
		bytes += mine;
	}
	return 0;
}

/* --- writing what others changed --- */

/* Removes the now empty directories above rel (not the folder itself). */
static void prune_dirs(struct syncer *s, const char *rel)
{
	char p[PATH_URL_MAX];
	snprintf(p, sizeof p, "%s", rel);
	for (char *slash = strrchr(p, '/'); slash; slash = strrchr(p, '/')) {
		*slash = '\0';
		const char *leaf;
		int d = parent_fd(s, p, false, &leaf);
		int r = d < 0 ? -1 : unlinkat(d, leaf, AT_REMOVEDIR);
		if (d >= 0)
			close(d);
		if (r < 0)
			break;
	}
}

/* The manifest's mtime ("...T14:30:12.123456789Z") to seconds and nanoseconds. */
static void parse_mtime(const char *mt, int64_t *sec, int32_t *nsec)
{
	struct tm tm = { 0 };
	char frac[16] = "";
	if (!mt || sscanf(mt, "%d-%d-%dT%d:%d:%d.%9[0-9]Z", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			  &tm.tm_hour, &tm.tm_min, &tm.tm_sec, frac) < 6)
		return;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	*sec = timegm(&tm);
	int32_t ns = 0;
	int d = 0;
	for (; frac[d] && d < 9; d++)
		ns = ns * 10 + (frac[d] - '0');
	for (; d < 9; d++)
		ns *= 10;
	*nsec = ns;
}

/* A file's bytes of one version into the open descriptor fd: the size it must have. */
static int fetch_into(struct syncer *s, const struct rchange *rc, int fd, int64_t size)
{
	long st = 200;
	int r = 0;
	if (size > 0) {
		char path[PATH_URL_MAX + 64];
		snprintf(path, sizeof path, "/api/v1/spaces/%s/content/", s->space);
		remote_escape_path(rc->path, path, sizeof path);
		size_t pl = strlen(path);
		snprintf(path + pl, sizeof path - pl, "?version=%lld", (long long)rc->version);
		r = remote_fetch(s->r, path, fd, &st);
	}
	struct stat sb;
	if (r == 0 && (st != 200 || fstat(fd, &sb) < 0 || sb.st_size != size)) {
		errno = EIO;
		r = -1;
	}
	return r;
}

/* What stands in the way of writing rel here (a file or link where a directory of rel's
 * path must be, or something of another type at rel itself) goes aside under a conflict
 * name, to be uploaded as a file of its own: the server's tree wins the name, nothing
 * local is lost. 1 when something moved, 0 when nothing was in the way. */
static int move_aside(struct syncer *s, const char *rel, enum file_type want)
{
	char pre[PATH_URL_MAX];
	size_t n = strlen(rel);
	for (size_t i = 0; i <= n; i++) {
		if (i < n && rel[i] != '/')
			continue;
		memcpy(pre, rel, i);
		pre[i] = '\0';
		const char *leaf;
		int d = parent_fd(s, pre, false, &leaf);
		if (d < 0)
			return 0;
		struct stat st;
		bool in_way = fstatat(d, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			      (i < n ? !S_ISDIR(st.st_mode)
				     : (want == FILE_DIR) != (bool)S_ISDIR(st.st_mode));
		int moved = 0;
		for (int k = 1; in_way && k <= 20 && !moved; k++) {
			char name[FPATH_MAX + 1];
			if (fpath_conflict_name(pre, "", time(NULL) * 1000LL, k, name) < 0)
				break;
			const char *nl = strrchr(name, '/');
			if (renameat2(d, leaf, d, nl ? nl + 1 : name, RENAME_NOREPLACE) == 0) {
				moved = 1;
				s->n_conflict++;
				say(s, "moved aside", pre, name);
			}
		}
		close(d);
		if (in_way)
			return moved;
	}
	return 0;
}

static int download_once(struct syncer *s, const struct rchange *rc, const char *local,
			 const struct fentry *scanned);

/* Whether what is at d/leaf now is what the scan saw (scanned; NULL: nothing was there).
 * A local edit made since the scan is never overwritten or deleted: the next round sees
 * it, and keeps both sides. */
static bool as_scanned(int d, const char *leaf, const struct fentry *scanned)
{
	struct stat st;
	if (fstatat(d, leaf, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return !scanned && errno == ENOENT;
	if (!scanned)
		return false;
	enum file_type t = S_ISDIR(st.st_mode) ? FILE_DIR : S_ISLNK(st.st_mode) ? FILE_SYMLINK
										 : FILE_REGULAR;
	if (t != scanned->type || (int)(st.st_mode & 0777) != scanned->mode)
		return t == FILE_SYMLINK && t == scanned->type; /* a link's own mode means nothing */
	if (t == FILE_REGULAR)
		return st.st_size == scanned->size && st.st_mtim.tv_sec == scanned->mtime_s &&
		       st.st_mtim.tv_nsec == scanned->mtime_ns;
	return true;
}

/* Before a file or link goes over d/leaf: -2 (errno EISDIR) when a directory is there
 * (it goes aside), -3 when what is there changed since the scan, 0 to go on. */
static int may_replace(int d, const char *leaf, enum file_type t, const struct fentry *scanned)
{
	struct stat st;
	(void)t;
	if (fstatat(d, leaf, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode)) {
		errno = EISDIR;
		return -2;
	}
	return as_scanned(d, leaf, scanned) ? 0 : -3;
}

static int download(struct syncer *s, const struct rchange *rc, const char *local,
		    const struct fentry *scanned)
{
	json_object *m = json_tokener_parse(rc->manifest);
	const char *type = jget_str(m, "type");
	enum file_type want = type && !strcmp(type, "dir") ? FILE_DIR
			      : type && !strcmp(type, "symlink") ? FILE_SYMLINK
								 : FILE_REGULAR;
	json_object_put(m);
	/* a clash of types with what is here: it goes aside, then once more */
	int r = download_once(s, rc, local, scanned);
	if (r == -2 && move_aside(s, local, want) == 1)
		r = download_once(s, rc, local, NULL);
	if (r == -3) { /* changed here since the scan: the next round decides, keeping both */
		say(s, "changed here meanwhile, next round", rc->path, NULL);
		s->behind++;
	} else if (r < 0) {
		fail(s, rc->path, errno ? strerror(errno) : "download failed");
		s->behind++;
	}
	s->files_done++;
	progress(s, false);
	return r < 0 ? -1 : 0;
}

/* One try: 0, -1 (errno set), -2 for something of another type in the way, -3 when what
 * is here changed since the scan. */
static int download_once(struct syncer *s, const struct rchange *rc, const char *local,
			 const struct fentry *scanned)
{
	json_object *m = json_tokener_parse(rc->manifest);
	const char *type = jget_str(m, "type");
	struct fentry e = { .path = rc->path, .local = (char *)local,
			    /* permission bits only: a member cannot plant a setuid file here */
			    .mode = (int)(jget_int(m, "mode", 0644) & 0777),
			    .size = jget_int(m, "size", 0) };
	e.type = type && !strcmp(type, "dir") ? FILE_DIR
		 : type && !strcmp(type, "symlink") ? FILE_SYMLINK
						    : FILE_REGULAR;
	parse_mtime(jget_str(m, "mtime"), &e.mtime_s, &e.mtime_ns);
	const char *sha = jget_str(m, "sha256");
	/* what goes into the state file is checked as the server would: a hash of 64 hex
	 * digits, a target without control characters (the file is lines of tab-separated
	 * fields) */
	char shan[BLOB_SHA_HEX + 1];
	if (sha && (strlen(sha) != BLOB_SHA_HEX || strspn(sha, "0123456789abcdef") != BLOB_SHA_HEX))
		sha = NULL;
	if (sha)
		memcpy(shan, sha, sizeof shan);
	const char *tg = jget_str(m, "target");
	for (const char *q = tg; q && *q; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			tg = NULL;
	if (e.type == FILE_SYMLINK && (!tg || strlen(tg) >= FPATH_MAX)) {
		json_object_put(m);
		errno = EINVAL;
		return -1;
	}
	struct timespec times[2] = { { .tv_nsec = UTIME_OMIT }, { e.mtime_s, e.mtime_ns } };
	char tmp[64];
	unsigned char rnd[6];
	randombytes_buf(rnd, sizeof rnd);
	snprintf(tmp, sizeof tmp, SYNC_TMP_PREFIX "%02x%02x%02x%02x%02x%02x", rnd[0], rnd[1],
		 rnd[2], rnd[3], rnd[4], rnd[5]);
	const char *leaf;
	errno = 0;
	int d = parent_fd(s, local, true, &leaf);
	int r = d < 0 ? -1 : 0;
	bool made_tmp = false;
	if (r == 0 && e.type == FILE_DIR) {
		/* a directory keeps its owner's rwx (no member can lock this client out of
		 * its own folder); an existing one keeps its mode and time: only an empty
		 * directory is an entry, and one with files is this machine's */
		e.mode |= 0700;
		bool made = mkdirat(d, leaf, (mode_t)e.mode) == 0;
		if (!made && errno != EEXIST)
			r = -1;
		int sub = r == 0 ? openat(d, leaf, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC) : -1;
		if (sub < 0 || (made && (fchmod(sub, (mode_t)e.mode) < 0 || futimens(sub, times) < 0)))
			r = -1;
		if (sub >= 0 && !made) { /* remembered as it is */
			struct stat st;
			if (fstat(sub, &st) == 0) {
				e.mode = (int)(st.st_mode & 0777);
				e.mtime_s = st.st_mtim.tv_sec;
				e.mtime_ns = (int32_t)st.st_mtim.tv_nsec;
			}
		}
		if (sub >= 0)
			close(sub);
	} else if (r == 0 && e.type == FILE_SYMLINK) {
		const char *target = tg;
		e.target = (char *)target;
		e.mode = 0777;
		made_tmp = true;
		if (!target || symlinkat(target, d, tmp) < 0 ||
		    utimensat(d, tmp, times, AT_SYMLINK_NOFOLLOW) < 0)
			r = -1;
		else
			r = may_replace(d, leaf, FILE_SYMLINK, scanned);
		if (r == 0 && renameat(d, tmp, d, leaf) < 0)
			r = -1;
	} else if (r == 0) {
		int fd = openat(d, tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
		made_tmp = fd >= 0;
		if (fd < 0 || fetch_into(s, rc, fd, e.size) < 0 || fsync(fd) < 0 ||
		    fchmod(fd, (mode_t)e.mode) < 0 || futimens(fd, times) < 0)
			r = -1;
		if (fd >= 0)
			close(fd);
		if (r == 0)
			r = may_replace(d, leaf, FILE_REGULAR, scanned);
		if (r == 0 && renameat(d, tmp, d, leaf) < 0)
			r = -1;
	}
	int saved = errno;
	if (r == -3) {
		if (made_tmp)
			unlinkat(d, tmp, 0);
		close(d);
		json_object_put(m);
		return -3;
	}
	if (r < 0) {
		if (made_tmp && d >= 0)
			unlinkat(d, tmp, 0);
	} else {
		remember(s, &e, sha, rc->version);
		s->bytes += e.type == FILE_REGULAR ? e.size : 0;
		s->n_down++;
		say(s, "down", rc->path, NULL);
	}
	if (d >= 0)
		close(d);
	json_object_put(m);
	errno = saved;
	if (r < 0 && (saved == ENOTDIR || saved == ELOOP || saved == EISDIR ||
		      saved == ENOTEMPTY || saved == EEXIST))
		return -2;
	return r;
}

static void delete_local(struct syncer *s, const struct fentry *loc, const struct fentry *base)
{
	const char *rel = loc ? loc->local : base->local;
	const char *leaf;
	int d = parent_fd(s, rel, false, &leaf);
	if (d >= 0 && !as_scanned(d, leaf, loc)) { /* changed since the scan: next round */
		close(d);
		say(s, "changed here meanwhile, next round", base->path, NULL);
		s->behind++;
		return;
	}
	int r = d < 0 ? -1 : unlinkat(d, leaf, loc && loc->type == FILE_DIR ? AT_REMOVEDIR : 0);
	int saved = errno;
	if (d >= 0)
		close(d);
	if (r < 0 && saved != ENOENT) {
		fail(s, base->path, strerror(saved));
		s->behind++;
		return;
	}
	prune_dirs(s, rel);
	say(s, "deleted here", base->path, NULL);
	s->n_del++;
	forget(s, base->path);
}

/* --- a round --- */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Whether path lies in a directory the scan could not read. */
static bool under_skipped(const struct fset *sk, const char *path)
{
	for (int i = 0; i < sk->n; i++)
		if (fpath_under(path, sk->v[i].path) || !strcmp(path, sk->v[i].path))
			return true;
	return false;
}

/* Whether a directory or link here is what the server has (files are compared by content
 * once hashed). */
static bool same_entry(const struct fentry *l, const struct rchange *rc)
{
	if (l->type == FILE_REGULAR || !rc->manifest)
		return false;
	json_object *m = json_tokener_parse(rc->manifest);
	const char *type = jget_str(m, "type"), *target = jget_str(m, "target");
	bool same = type && !strcmp(type, file_type_name(l->type)) &&
		    (l->type == FILE_DIR || (target && l->target && !strcmp(target, l->target)));
	json_object_put(m);
	return same;
}

/* One round: returns the number of actions taken, or -1. */
static int round_once(struct syncer *s)
{
	if (pull(s) < 0)
		return -1;
	s->behind = 0;
	struct fset loc = { 0 }, skipped = { 0 };
	if (local_scan(s->o->dir, &loc, &skipped, warn_skip) < 0) {
		fail(s, s->o->dir, strerror(errno));
		fset_free(&loc);
		fset_free(&skipped);
		return -1;
	}
	warned = true;
	/* every path any side names */
	int np = loc.n + s->st.files.n + s->remote.n;
	char **paths = calloc((size_t)(np ? np : 1), sizeof *paths);
	int k = 0;
	for (int i = 0; i < loc.n; i++)
		paths[k++] = loc.v[i].path;
	for (int i = 0; i < s->st.files.n; i++)
		paths[k++] = s->st.files.v[i].path;
	for (int i = 0; i < s->remote.n; i++)
		paths[k++] = s->remote.v[i].path;
	qsort(paths, (size_t)k, sizeof *paths, cmp_str);
	int u = 0;
	for (int i = 0; i < k; i++)
		if (!u || strcmp(paths[u - 1], paths[i]))
			paths[u++] = paths[i];
	struct upload *ups = calloc((size_t)(u ? u : 1), sizeof *ups);
	struct commit_item *items = calloc((size_t)(u ? u : 1), sizeof *items);
	struct rchange **downs = calloc((size_t)(u ? u : 1), sizeof *downs);
	char **down_local = calloc((size_t)(u ? u : 1), sizeof *down_local);
	struct fentry **down_loc = calloc((size_t)(u ? u : 1), sizeof *down_loc);
	struct fentry **ldel = calloc((size_t)(u ? u : 1), sizeof *ldel);
	struct fentry **ldel_loc = calloc((size_t)(u ? u : 1), sizeof *ldel_loc);
	int nup = 0, nit = 0, ndown = 0, nldel = 0, actions = 0;
	/* copies of the state entries the decisions read: remember() reorders the state */
	struct fset base_copy = { 0 };
	for (int i = 0; i < s->st.files.n; i++)
		fset_add(&base_copy, &s->st.files.v[i]);
	fset_sort(&base_copy);
	for (int i = 0; i < u; i++) {
		const char *p = paths[i];
		struct fentry *l = fset_find(&loc, p), *b = fset_find(&base_copy, p);
		struct rchange *rc = rset_find(&s->remote, p);
		bool rchanged = rc && (!b || rc->version != b->version) && !(rc->deleted && !b);
		bool lchanged = (l && !b) || (!l && b) || (l && b && !fentry_same(l, b));
		if (!l && b && under_skipped(&skipped, p))
			lchanged = false; /* not seen, not gone */
		if (rc && rc->deleted && !b && !l)
			continue;
		if (!lchanged && !rchanged)
			continue;
		actions++;
		if (lchanged && !rchanged) {
			if (l) {
				ups[nup] = (struct upload){ .loc = l, .base = b ? b->version : 0 };
				nup++;
			} else {
				items[nit++] = (struct commit_item){ .path = b->path, .base = b->version };
			}
		} else if (!lchanged && rchanged) {
			if (rc->deleted) {
				ldel[nldel] = b;
				ldel_loc[nldel++] = l;
			} else {
				downs[ndown] = rc;
				down_loc[ndown] = l;
				down_local[ndown++] = l ? l->local : b ? b->local : rc->path;
			}
		} else { /* both */
			if (!l && rc->deleted) {
				forget(s, p);
			} else if (!l) {
				downs[ndown] = rc;
				down_loc[ndown] = l;
				down_local[ndown++] = b ? b->local : rc->path;
			} else if (rc->deleted) { /* kept here, deleted there: it comes back */
				ups[nup++] = (struct upload){ .loc = l, .base = 0 };
			} else if (same_entry(l, rc)) { /* alike on both sides: no conflict */
				downs[ndown] = rc;
				down_loc[ndown] = l;
				down_local[ndown++] = l->local;
			} else { /* both changed: a copy for the local side */
				ups[nup++] = (struct upload){ .loc = l, .base = b ? b->version : 0,
							       .copy = true };
				downs[ndown] = rc;
				down_loc[ndown] = l;
				down_local[ndown++] = l->local;
			}
		}
	}
	s->files_total += nup + ndown + nldel + nit;
	/* uploads: hash, the missing chunks, then the manifests */
	for (int i = 0; i < nup; i++) {
		struct upload *x = &ups[i];
		if (x->loc->type != FILE_REGULAR)
			continue;
		int r = hash_file(s, x);
		if (r == -2 || r == -1) {
			x->failed = true;
			if (r == -1)
				fail(s, x->loc->path, strerror(errno));
		} else if (r == -3) {
			x->failed = true;
			fail(s, x->loc->path, "more chunks than the server takes (file_max_chunks)");
		}
	}
	upload_chunks(s, ups, nup);
	for (int i = 0; i < nup; i++) {
		struct upload *x = &ups[i];
		if (x->failed)
			continue;
		/* both changed with the same content: nothing to keep twice */
		struct rchange *rc = rset_find(&s->remote, x->loc->path);
		if (x->copy && rc && rc->manifest && x->loc->type == FILE_REGULAR) {
			json_object *m = json_tokener_parse(rc->manifest);
			const char *rs = jget_str(m, "sha256");
			bool same = rs && !strcmp(rs, x->sha256);
			json_object_put(m);
			if (same) {
				x->copy = false;
				continue; /* the download below brings its metadata */
			}
		}
		if (x->copy) {
			commit_copy(s, x);
			continue;
		}
		items[nit++] = (struct commit_item){ .u = x, .base = x->base };
	}
	if (nit)
		commit_all(s, items, nit);
	for (int i = 0; i < nldel; i++)
		if (ldel[i])
			delete_local(s, ldel_loc[i], ldel[i]);
	for (int i = 0; i < ndown && !stopping; i++) {
		/* a local file written since the scan is not overwritten: next round */
		download(s, downs[i], down_local[i], down_loc[i]);
	}
	/* the cursor moves past what this round has taken in, unless something others
	 * changed could not be written here: then the same changes are pulled again (a
	 * local change that failed to go up is found again by the next scan) */
	if (s->behind == 0)
		s->st.cursor = s->head;
	state_settle(s);
	if (state_save(s->o->dir, &s->st) < 0)
		fail(s, "state", strerror(errno));
	for (int i = 0; i < nup; i++)
		free(ups[i].chunks);
	free(ups);
	free(items);
	free(downs);
	free(down_local);
	free(down_loc);
	free(ldel);
	free(ldel_loc);
	free(paths);
	fset_free(&base_copy);
	fset_free(&loc);
	fset_free(&skipped);
	return actions;
}

/* One run per folder: an exclusive lock on DIR/SYNC_DIR/lock, held until the process
 * ends. -1 after saying so when another run holds it. */
static int lock_folder(struct syncer *s)
{
	if (mkdirat(s->root, SYNC_DIR, 0700) < 0 && errno != EEXIST)
		return -1;
	char p[64];
	snprintf(p, sizeof p, "%s/lock", SYNC_DIR);
	s->lock = openat(s->root, p, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (s->lock < 0 || flock(s->lock, LOCK_EX | LOCK_NB) < 0) {
		fprintf(stderr, "cairn sync: %s is being synced by another cairn sync already\n",
			s->o->dir);
		return -1;
	}
	return 0;
}

/* Waits for the space to change (a long-poll of at most seconds) or for seconds to pass. */
static void wait_for_change(struct syncer *s, int64_t seconds)
{
	char path[256];
	snprintf(path, sizeof path, "/api/v1/spaces/%s/changes?since=%lld&limit=1&wait=%lld",
		 s->space, (long long)s->st.cursor, (long long)seconds);
	long st;
	json_object *o = NULL;
	if (remote_call(s->r, "GET", path, NULL, 0, NULL, &st, &o) < 0 || st != 200)
		for (int64_t t = 0; t < seconds * 10 && !stopping; t++)
			usleep(100 * 1000); /* the server is away: try again later */
	json_object_put(o);
}

int sync_run(const struct sync_opts *o)
{
	struct syncer s = { .o = o, .root = -1, .lock = -1 };
	struct stat sb;
	bool exists = stat(o->dir, &sb) == 0;
	if (exists && !S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "cairn sync: %s is not a directory\n", o->dir);
		return 2;
	}
	if (exists && state_load(o->dir, &s.st) < 0) {
		fprintf(stderr, "cairn sync: cannot read %s/%s/state: %s (move %s away to sync "
				"this folder as a new device)\n",
			o->dir, SYNC_DIR, strerror(errno), SYNC_DIR);
		return 1;
	}
	s.r = remote_open(o->server, o->token);
	if (!s.r) {
		state_free(&s.st);
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	remote_set_abort(s.r, &stopping);
	int rc = 0;
	/* the server and the space first: a refused token creates nothing here */
	int e = load_limits(&s);
	if (e == 0)
		e = resolve_space(&s);
	if (e < 0) {
		rc = e == -2 ? 2 : 1;
		goto out;
	}
	if (!exists && mkdir(o->dir, 0755) < 0) { /* a new folder to sync into */
		fprintf(stderr, "cairn sync: cannot create %s: %s\n", o->dir, strerror(errno));
		rc = 1;
		goto out;
	}
	s.root = open(o->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (s.root < 0 || lock_folder(&s) < 0) {
		rc = s.root < 0 ? 1 : 2;
		goto out;
	}
	do {
		s.t0_ms = now_ms();
		s.errors = 0;
		s.files_done = s.files_total = s.bytes = 0;
		s.n_up = s.n_down = s.n_del = s.n_conflict = 0;
		int rounds = 0, acted;
		/* a round's own commits come back in the next pull: rounds go on until one
		 * finds nothing to do (a few at most) */
		do {
			acted = round_once(&s);
		} while (acted > 0 && ++rounds < 5 && !stopping);
		if (acted < 0)
			rc = 1;
		if (s.errors)
			rc = 1;
		progress(&s, true);
		if (o->tty)
			fputc('\n', stderr);
		/* with --watch, an idle round says nothing */
		bool idle = s.n_up + s.n_down + s.n_del + s.n_conflict + s.errors == 0;
		if (!o->once_quiet && !(o->watch && idle && s.req0 > 0))
			fprintf(stderr,
				"cairn sync: %lld up, %lld down, %lld deleted, %lld conflict copies, "
				"%lld errors, %lld requests, %lld bytes sent, %.2f s\n",
				(long long)s.n_up, (long long)s.n_down, (long long)s.n_del,
				(long long)s.n_conflict, (long long)s.errors,
				(long long)(remote_requests(s.r) - s.req0),
				(long long)(remote_bytes_sent(s.r) - s.sent0),
				(double)(now_ms() - s.t0_ms) / 1000.0);
		/* a run's count starts after the last one's (with --watch) */
		s.req0 = remote_requests(s.r);
		s.sent0 = remote_bytes_sent(s.r);
		if (o->watch && !stopping)
			wait_for_change(&s, o->interval_ms / 1000 > 0 ? o->interval_ms / 1000 : 1);
	} while (o->watch && !stopping);
out:
	rset_free(&s.remote);
	remote_close(s.r);
	state_free(&s.st);
	if (s.root >= 0)
		close(s.root);
	if (s.lock >= 0)
		close(s.lock);
	return rc;
}
