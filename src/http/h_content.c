/* /api/v1/spaces/{space}/content/{path}: a file's bytes. GET streams them from the
 * version's chunks (Range, ETag, If-None-Match, gzip); PUT takes the raw bytes, streamed,
 * cuts them with content-defined chunking (core/files/cdc.h) into chunks stored as blobs,
 * and commits the manifest: memory stays constant at any size, and an edit in the middle
 * of a big file stores only the chunks around it. */
#include <json-c/json.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "../core/blobs.h"
#include "../core/files/cdc.h"
#include "../core/files/files.h"
#include "../util/conditional.h"
#include "../util/err.h"
#include "../util/handoff.h"
#include "../util/jtext.h"
#include "../util/range.h"
#include "app.h"
#include "encoding.h"
#include "files_http.h"
#include "handlers.h"
#include "helpers.h"

/* --- reading --- */

struct content {
	struct core *core;
	struct principal p; /* a copy: the stream outlives the handler */
	struct chunk_ref *chunks; /* malloc'd */
	int n;
	int cur;                 /* the chunk being read */
	uint64_t cur_off;        /* offset within it */
	uint64_t left;           /* bytes still to send (of the range) */
	struct blob_reader *rd;  /* the current chunk's, opened when first read */
	/* gzip: the deflate stream and the plain bytes it is fed from */
	bool gz;
	z_stream z;
	bool z_end;
	char in[64 * 1024];
};

static void content_free(void *cls)
{
	struct content *ct = cls;
	blob_reader_close(ct->rd);
	if (ct->gz)
		deflateEnd(&ct->z);
	free(ct->chunks);
	free(ct);
}

/* Up to max plain bytes of the range into buf: the count, 0 at the end, -1 on a fault. */
static ssize_t plain_read(struct content *ct, char *buf, size_t max)
{
	size_t got = 0;
	while (got < max && ct->left > 0) {
		if (ct->cur >= ct->n)
			return -1;
		struct chunk_ref *ch = &ct->chunks[ct->cur];
		if (ct->cur_off >= (uint64_t)ch->size) {
			blob_reader_close(ct->rd);
			ct->rd = NULL;
			ct->cur++;
			ct->cur_off = 0;
			continue;
		}
		if (!ct->rd && blob_open(ct->core, &ct->p, ch->sha256, &ct->rd) < 0)
			return -1; /* gone or damaged: the client sees a cut response */
		size_t want = max - got;
		if (want > (uint64_t)ch->size - ct->cur_off)
			want = (size_t)((uint64_t)ch->size - ct->cur_off);
		if (want > ct->left)
			want = (size_t)ct->left;
		ssize_t k = ct->rd->ops->read_at(ct->rd, ct->cur_off, buf + got, want);
		if (k <= 0)
			return -1;
		got += (size_t)k;
		ct->cur_off += (uint64_t)k;
		ct->left -= (uint64_t)k;
	}
	return (ssize_t)got;
}

static ssize_t content_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct content *ct = cls;
	if (!ct->gz) {
		if (ct->left == 0)
			return HTTP_STREAM_END;
		ssize_t n = plain_read(ct, buf, max);
		return n > 0 ? n : HTTP_STREAM_ERROR;
	}
	if (ct->z_end)
		return HTTP_STREAM_END;
	ct->z.next_out = (Bytef *)buf;
	ct->z.avail_out = (uInt)max;
	while (ct->z.avail_out > 0 && !ct->z_end) {
		if (ct->z.avail_in == 0 && ct->left > 0) {
			ssize_t n = plain_read(ct, ct->in, sizeof ct->in);
			if (n <= 0)
				return HTTP_STREAM_ERROR;
			ct->z.next_in = (Bytef *)ct->in;
			ct->z.avail_in = (uInt)n;
		}
		int zr = deflate(&ct->z, ct->left == 0 && ct->z.avail_in == 0 ? Z_FINISH
									   : Z_NO_FLUSH);
		if (zr == Z_STREAM_END)
			ct->z_end = true;
		else if (zr != Z_OK && zr != Z_BUF_ERROR)
			return HTTP_STREAM_ERROR;
		if (zr == Z_BUF_ERROR && ct->z.avail_in == 0 && ct->left > 0)
			continue;
		if (zr == Z_BUF_ERROR)
			break;
	}
	size_t n = max - ct->z.avail_out;
	if (n == 0)
		return ct->z_end ? HTTP_STREAM_END : HTTP_STREAM_ERROR;
	return (ssize_t)n;
}

int h_content_get(struct req *r)
{
	struct space sp;
	char path[FPATH_MAX + 1];
	const struct principal *p = file_ref_or_reply(r, &sp, path);
	int64_t version;
	if (!p || !version_or_reply(r, &version))
		return 0;
	struct verr ve = { 0 };
	struct core *c = core_of(r);
	struct file_version fv;
	int e = files_get(c, p, &sp, path, version, &fv);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no such file (or version).", NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *mo = NULL;
	struct arena a = ARENA_INIT;
	struct manifest m;
	struct manifest_limits lim = files_limits(c->cfg);
	lim.max_chunks = INT32_MAX; /* stored under any earlier limit */
	lim.chunk_max = INT64_MAX;
	if (jtext_parse(fv.text, strlen(fv.text), JTEXT_DEPTH_MAX, &mo) < 0 ||
	    manifest_read(mo, NULL, &lim, 0, &a, &m, &ve) < 0) {
		json_object_put(mo);
		arena_free(&a);
		file_version_clear(&fv);
		return reply_core_error(r, -ERR_DB, NULL, 0);
	}
	file_version_clear(&fv);
	if (m.type != FILE_REGULAR) {
		json_object_put(mo);
		arena_free(&a);
		return http_reply_error(r, AE_NOT_FOUND, "Only a regular file has content (this is "
							 "a directory or a symbolic link).",
					NULL);
	}
	const struct server_config *sc = server_cfg(c->cfg);
	bool gz = sc->gzip_level > 0 && (uint64_t)m.size >= (uint64_t)sc->gzip_min_bytes &&
		  encoding_accepts_gzip(http_header(r, "Accept-Encoding"));
	uint64_t size = (uint64_t)m.size, off = 0, len = size;
	const char *range = http_header(r, "Range");
	char etag[BLOB_HEX_LEN + 8], etag_gz[BLOB_HEX_LEN + 8];
	snprintf(etag, sizeof etag, "\"%s\"", m.sha256);
	snprintf(etag_gz, sizeof etag_gz, "\"%s-gz\"", m.sha256);
	const char *if_range = http_header(r, "If-Range");
	if (if_range && strcmp(if_range, etag) != 0)
		range = NULL;
	enum range_result rr = range_parse(range, size, &off, &len);
	if (rr == RANGE_OK)
		gz = false; /* a range is of the bytes themselves, never compressed */
	http_add_header(r, "Vary", "Accept-Encoding");
	http_add_header(r, "ETag", gz ? etag_gz : etag);
	http_add_header(r, "Accept-Ranges", "bytes");
	http_add_header(r, "Cache-Control", "private, no-cache");
	const char *inm = http_header(r, "If-None-Match");
	if (inm && cond_etag_listed(inm, gz ? etag_gz : etag)) {
		json_object_put(mo);
		arena_free(&a);
		return http_reply_bytes(r, 304, NULL, "", 0);
	}
	char cr[96];
	if (rr == RANGE_UNSATISFIABLE) {
		json_object_put(mo);
		arena_free(&a);
		snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
		http_add_header(r, "Content-Range", cr);
		return http_reply_error(r, AE_RANGE_NOT_SATISFIABLE, NULL, NULL);
	}
	if (rr == RANGE_OK) {
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)off,
			 (unsigned long long)(off + len - 1), (unsigned long long)size);
		http_add_header(r, "Content-Range", cr);
	}
	struct content *ct = calloc(1, sizeof *ct);
	if (ct)
		ct->chunks = malloc(sizeof *ct->chunks * (size_t)(m.nchunks ? m.nchunks : 1));
	if (!ct || !ct->chunks) {
		if (ct)
			free(ct);
		json_object_put(mo);
		arena_free(&a);
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	}
	ct->core = c;
	ct->p = *p;
	ct->n = m.nchunks;
	memcpy(ct->chunks, m.chunks, sizeof *ct->chunks * (size_t)m.nchunks);
	json_object_put(mo);
	arena_free(&a);
	/* start at the chunk holding off */
	uint64_t skip = off;
	while (ct->cur < ct->n && skip >= (uint64_t)ct->chunks[ct->cur].size)
		skip -= (uint64_t)ct->chunks[ct->cur++].size;
	ct->cur_off = skip;
	ct->left = len;
	if (gz) {
		ct->gz = true;
		/* windowBits 15 + 16: a gzip wrapper (RFC 1952) */
		if (deflateInit2(&ct->z, (int)sc->gzip_level, Z_DEFLATED, 15 + 16, 8,
				 Z_DEFAULT_STRATEGY) != Z_OK) {
			ct->gz = false;
			content_free(ct);
			return http_reply_error(r, AE_INTERNAL, NULL, NULL);
		}
		http_add_header(r, "Content-Encoding", "gzip");
	}
	if (len == 0 && !gz) {
		content_free(ct);
		return http_reply_bytes(r, 200, "application/octet-stream", "", 0);
	}
	return http_reply_stream(r, rr == RANGE_OK ? 206 : 200, "application/octet-stream",
				 gz ? HTTP_SIZE_UNKNOWN : len, content_read, ct, content_free);
}

/* --- writing --- */

/* The bytes are cut and stored on a worker ("cairn-chunk", util/handoff.h) from buffers
 * of this size, while the request's thread receives the next and takes the whole file's
 * SHA-256: two hashes of every byte, one on each core. */
#define CUT_BUF (1024 * 1024)

struct put {
	struct core *core;
	const struct principal *p;
	struct cdc cdc;
	EVP_MD_CTX *md;          /* the whole file's SHA-256 */
	struct handoff cutter;   /* cuts and stores, on a worker when one can be started */
	char *cbuf[2];
	int ccur;
	size_t clen;
	struct blob_upload *u;   /* the chunk being stored */
	struct blob_batch *bb;   /* chunks verified, made durable together (blobs.h) */
	int64_t chunk_len;
	struct chunk_ref *chunks;
	int n, cap;
	int64_t max_chunks;
	int64_t size;
	char path[FPATH_MAX + 1];
	/* the commit's terms, from the query, checked before any byte is stored */
	int64_t mode, base;
	bool copy;
	const char *mtime; /* the query's, borrowed */
};

static void put_free(void *arg)
{
	struct put *x = arg;
	/* the worker first: it may be cutting into the upload and the batch right now (a
	 * client gone mid-body ends the request while it works) */
	handoff_fini(&x->cutter);
	blob_upload_free(x->u);
	blob_batch_free(x->bb);
	free(x->cbuf[0]);
	free(x->cbuf[1]);
	EVP_MD_CTX_free(x->md);
	free(x->chunks);
	free(x);
}

static int reply_put_error(struct req *r, int e)
{
	struct verr ve = { 0 };
	if (e == -ERR_TOO_LARGE)
		snprintf(ve.detail, sizeof ve.detail,
			 "A file may have at most %lld chunks of at most %lld bytes "
			 "(files.max_chunks, files.chunk_max).",
			 (long long)files_cfg(core_of(r)->cfg)->max_chunks,
			 (long long)files_cfg(core_of(r)->cfg)->chunk_max);
	return reply_core_error(r, e, &ve, 0);
}

/* The chunks waiting in the batch made durable and held, together. */
static int chunks_commit(struct put *x)
{
	int n = blob_batch_pending(x->bb);
	if (n == 0)
		return 0;
	int status[BLOB_BATCH_MAX];
	bool fresh[BLOB_BATCH_MAX];
	int e = blob_batch_commit(x->bb, status, fresh);
	for (int i = 0; e == 0 && i < n; i++)
		e = status[i];
	return e;
}

/* Ends the chunk being stored: verified into the batch (committed when full, and at the
 * end, before the manifest names any of them). */
static int chunk_end(struct put *x)
{
	if (!x->u)
		return 0;
	if (x->n >= x->max_chunks)
		return -ERR_TOO_LARGE;
	if (x->n == x->cap) {
		int cap = x->cap ? x->cap * 2 : 64;
		struct chunk_ref *nc = realloc(x->chunks, sizeof *nc * (size_t)cap);
		if (!nc)
			return -ERR_NOMEM;
		x->chunks = nc;
		x->cap = cap;
	}
	struct chunk_ref *ch = &x->chunks[x->n];
	struct blob_upload *u = x->u;
	x->u = NULL;
	ch->size = x->chunk_len;
	x->chunk_len = 0;
	int e = blob_batch_add(x->bb, u, ch->sha256);
	if (e < 0)
		return e;
	x->n++;
	return blob_batch_pending(x->bb) == BLOB_BATCH_MAX ? chunks_commit(x) : 0;
}

/* Cuts bytes into chunks and stores them (the chunk being stored goes on; a cut ends it
 * into the batch). Runs on the cutter's worker, or on the request's thread. */
static int cut_and_store(void *arg, const char *p, size_t len)
{
	struct put *x = arg;
	const uint8_t *d = (const uint8_t *)p;
	while (len > 0) {
		bool cut;
		size_t n = cdc_next(&x->cdc, d, len, &cut);
		int e = 0;
		if (!x->u && (e = blob_upload_begin(x->core, x->p, NULL, -1, &x->u)) == 0)
			blob_upload_for_files(x->u);
		if (e == 0)
			e = blob_upload_write(x->u, d, n);
		x->chunk_len += (int64_t)n;
		if (e == 0 && cut)
			e = chunk_end(x);
		if (e < 0)
			return e;
		d += n;
		len -= n;
	}
	return 0;
}

/* The gathered bytes to the cutter: to its worker (then the other buffer fills), or cut
 * here when no worker could be had. */
static int cut_flush(struct put *x)
{
	if (x->clen == 0)
		return 0;
	if (!x->cbuf[1] && handoff_start(&x->cutter))
		x->cbuf[1] = malloc(CUT_BUF);
	int r;
	if (!x->cbuf[1]) {
		r = handoff_wait(&x->cutter);
		if (r == 0)
			r = cut_and_store(x, x->cbuf[0], x->clen);
	} else {
		r = handoff_give(&x->cutter, x->cbuf[x->ccur], x->clen);
		if (r == 1)
			x->ccur ^= 1;
	}
	x->clen = 0;
	return r < 0 ? r : 0;
}

/* ?mode= (octal, as chmod takes it), ?mtime=, ?base_version= or If-Match, ?on_conflict=:
 * false after replying 400. Checked before the body, so a refused commit stores nothing. */
static bool put_terms_or_reply(struct req *r, struct put *x)
{
	struct verr ve = { 0 };
	x->mode = 0644;
	x->base = -1;
	const char *mq = http_query(r, "mode");
	if (mq) {
		char *end;
		x->mode = strtol(mq, &end, 8);
		if (!*mq || *end || strlen(mq) > 5 || strspn(mq, "01234567") != strlen(mq) ||
		    x->mode > 07777)
			verr_add(&ve, "mode", "mode is the permission bits in octal, 0 to 7777 (as "
					      "chmod takes them: 644, 0755)");
	}
	x->mtime = http_query(r, "mtime");
	int64_t s;
	int32_t ns;
	if (x->mtime && !manifest_mtime_parse(x->mtime, &s, &ns))
		verr_add(&ve, "mtime", "mtime must be RFC 3339 UTC from 1970 on, such as "
				       "2026-11-30T14:30:12.123Z (up to 9 fractional digits)");
	if (http_query(r, "base_version"))
		http_query_int(r, "base_version", &x->base, 0, INT64_MAX, &ve);
	const char *im = http_header(r, "If-Match");
	if (im && cond_if_match_version(im, &x->base) < 0)
		verr_add(&ve, "If-Match", "If-Match must be one version such as \"42\"");
	const char *oc = http_query(r, "on_conflict");
	if (oc && strcmp(oc, "copy") && strcmp(oc, "fail"))
		verr_add(&ve, "on_conflict", "on_conflict must be copy or fail");
	x->copy = oc && !strcmp(oc, "copy");
	if (ve.n) {
		reply_core_error(r, -ERR_INVALID, &ve, 0);
		return false;
	}
	return true;
}

struct content_put *content_put_new(struct core *c, const struct principal *p)
{
	struct put *x = calloc(1, sizeof *x);
	if (!x)
		return NULL;
	const struct files_config *f = files_cfg(c->cfg);
	x->core = c;
	x->p = p;
	x->mode = 0644;
	x->base = -1;
	x->max_chunks = f->max_chunks;
	cdc_init(&x->cdc, (uint32_t)f->chunk_min, (uint32_t)f->chunk_avg, (uint32_t)f->chunk_max);
	x->md = EVP_MD_CTX_new();
	x->cbuf[0] = malloc(CUT_BUF);
	if (blob_batch_new(c, &x->bb) < 0 || !x->md || !x->cbuf[0] ||
	    EVP_DigestInit_ex(x->md, EVP_sha256(), NULL) != 1 ||
	    handoff_init(&x->cutter, "cairn-chunk", cut_and_store, x) < 0) {
		put_free(x);
		return NULL;
	}
	return (struct content_put *)x;
}

void content_put_free(struct content_put *cp)
{
	if (cp)
		put_free(cp);
}

int content_put_feed(struct content_put *cp, const char *data, size_t len)
{
	struct put *x = (struct put *)cp;
	if (EVP_DigestUpdate(x->md, data, len) != 1)
		return -ERR_NOMEM;
	x->size += (int64_t)len;
	while (len) {
		size_t n = CUT_BUF - x->clen < len ? CUT_BUF - x->clen : len;
		memcpy(x->cbuf[x->ccur] + x->clen, data, n);
		x->clen += n;
		data += n;
		len -= n;
		int e = x->clen == CUT_BUF ? cut_flush(x) : 0;
		if (e < 0)
			return e;
	}
	return 0;
}

int content_put_finish(struct content_put *cp, int64_t mode, const char *mtime,
		       json_object **ret_manifest)
{
	struct put *x = (struct put *)cp;
	*ret_manifest = NULL;
	int e = cut_flush(x);
	if (e == 0)
		e = handoff_wait(&x->cutter);
	if (e == 0)
		e = chunk_end(x);
	if (e == 0)
		e = chunks_commit(x);
	if (e < 0)
		return e;
	unsigned char dg[EVP_MAX_MD_SIZE];
	unsigned dl = 0;
	if (EVP_DigestFinal_ex(x->md, dg, &dl) != 1 || dl != 32)
		return -ERR_NOMEM;
	char sha[BLOB_HEX_LEN + 1];
	for (int i = 0; i < 32; i++)
		snprintf(sha + 2 * i, 3, "%02x", dg[i]);
	json_object *m = json_object_new_object();
	json_object_object_add(m, "type", json_object_new_string("file"));
	json_object_object_add(m, "size", json_object_new_int64(x->size));
	json_object_object_add(m, "mode", json_object_new_int64(mode));
	json_object_object_add(m, "sha256", json_object_new_string(sha));
	if (mtime)
		json_object_object_add(m, "mtime", json_object_new_string(mtime));
	json_object *arr = json_object_new_array();
	for (int i = 0; i < x->n; i++) {
		json_object *c = json_object_new_object();
		json_object_object_add(c, "sha256", json_object_new_string(x->chunks[i].sha256));
		json_object_object_add(c, "size", json_object_new_int64(x->chunks[i].size));
		json_object_array_add(arr, c);
	}
	json_object_object_add(m, "chunks", arr);
	*ret_manifest = m;
	return 0;
}

int h_content_put_begin(struct req *r)
{
	struct space sp;
	const struct principal *p = space_or_reply(r, &sp);
	if (!p)
		return -1;
	struct put *x = (struct put *)content_put_new(core_of(r), p);
	if (!x) {
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	r->ctx = x;
	r->ctx_free = put_free;
	if (!file_path_or_reply(r, "path", NULL, x->path) || !put_terms_or_reply(r, x))
		return -1;
	const struct files_config *f = files_cfg(core_of(r)->cfg);
	int64_t declared = http_content_length(r);
	if (declared > f->max_chunks * f->chunk_max) {
		reply_put_error(r, -ERR_TOO_LARGE);
		return -1;
	}
	return 0;
}

int h_content_put_chunk(struct req *r, const char *data, size_t len)
{
	int e = content_put_feed(r->ctx, data, len);
	if (e < 0) {
		reply_put_error(r, e);
		return -1;
	}
	return 0;
}

int h_content_put(struct req *r)
{
	struct put *x = r->ctx;
	if (!x)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	json_object *m = NULL;
	int e = content_put_finish(r->ctx, x->mode, x->mtime, &m);
	if (e < 0)
		return reply_put_error(r, e);
	struct file_commit fc = { .path = x->path, .manifest = m, .base_version = x->base,
				  .copy_on_conflict = x->copy };
	struct file_result fr;
	struct verr ve = { 0 };
	e = files_commit(x->core, x->p, r->space, &fc, &fr, &ve);
	json_object_put(m);
	return reply_file_commit(r, e, &ve, x->path, &fr);
}
