/* Blobs over HTTP: streamed uploads (raw or multipart), downloads with ranges and
 * conditional requests sent straight from the file, and "which of these am I missing". */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/blobs.h"
#include "../core/files/files.h"
#include "../util/conditional.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "../util/range.h"
#include "app.h"
#include "files_http.h"
#include "handlers.h"
#include "helpers.h"
#include "multipart.h"


static int reply_bad_name(struct req *r)
{
	return http_reply_error(r, AE_BAD_REQUEST,
				"A blob is named by the 64 hex digits of its SHA-256.", NULL);
}

/* The caller and the blob named in the path; NULL after replying (401, 400). */
static const struct principal *blob_ref_or_reply(struct req *r, char sha[BLOB_HEX_LEN + 1])
{
	const struct principal *p = auth_or_reply(r);
	if (p && !blob_name_norm(http_param(r, "sha256"), sha)) {
		reply_bad_name(r);
		return NULL;
	}
	return p;
}

/* Replies for upload errors. */
static int reply_upload_error(struct req *r, int e)
{
	struct verr ve = { 0 };
	if (e == -ERR_TOO_LARGE)
		snprintf(ve.detail, sizeof ve.detail,
			 "A blob may be at most %lld bytes (blobs.max_size).",
			 (long long)blobs_cfg(core_of(r)->cfg)->max_size);
	return reply_core_error(r, e, &ve, 0);
}

/* --- uploads --- */

struct up {
	struct blob_upload *u;
	struct multipart *mp; /* a multipart POST */
};

static void up_free(void *arg)
{
	struct up *x = arg;
	multipart_free(x->mp);
	blob_upload_free(x->u);
	free(x);
}

static int up_sink(void *arg, const void *data, size_t len)
{
	struct up *x = arg;
	return blob_upload_write(x->u, data, len);
}

static int up_start(struct req *r, const char *sha, bool multipart)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return -1;
	struct up *x = calloc(1, sizeof *x);
	if (!x) {
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	r->ctx = x;
	r->ctx_free = up_free;
	/* a multipart body is larger than the file in it: only the stream tells */
	int e = blob_upload_begin(core_of(r), p, sha, multipart ? -1 : http_content_length(r),
				  &x->u);
	if (e < 0) {
		reply_upload_error(r, e);
		return -1;
	}
	return 0;
}

int h_blob_put_begin(struct req *r)
{
	char sha[BLOB_HEX_LEN + 1];
	if (!blob_name_norm(http_param(r, "sha256"), sha)) {
		reply_bad_name(r);
		return -1;
	}
	return up_start(r, sha, false);
}

static bool is_multipart(struct req *r)
{
	const char *ct = http_header(r, "Content-Type");
	return ct && strncasecmp(ct, "multipart/form-data", 19) == 0;
}

int h_blob_post_begin(struct req *r)
{
	bool mp = is_multipart(r);
	if (up_start(r, NULL, mp) < 0)
		return -1;
	if (mp) {
		struct up *x = r->ctx;
		x->mp = multipart_new(r, up_sink, x);
		if (!x->mp) {
			http_reply_error(r, AE_BAD_REQUEST,
					 "The multipart body has no boundary in its Content-Type.",
					 NULL);
			return -1;
		}
	}
	return 0;
}

int h_blob_chunk(struct req *r, const char *data, size_t len)
{
	struct up *x = r->ctx;
	if (x->mp) {
		/* fields other than file are dropped, but not without end */
		if (r->body_bytes > (uint64_t)blobs_cfg(core_of(r)->cfg)->max_size + (1u << 20)) {
			reply_upload_error(r, -ERR_TOO_LARGE);
			return -1;
		}
		const char *why = NULL;
		int e = multipart_feed(x->mp, data, len, &why);
		if (e == -ERR_INVALID)
			http_reply_error(r, AE_BAD_REQUEST, why, NULL);
		else if (e < 0)
			reply_upload_error(r, e);
		return e < 0 ? -1 : 0;
	}
	int e = blob_upload_write(x->u, data, len);
	if (e < 0) {
		reply_upload_error(r, e);
		return -1;
	}
	return 0;
}

static int up_finish(struct req *r, bool put)
{
	struct up *x = r->ctx;
	if (!x)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	if (x->mp) {
		const char *why = NULL;
		if (multipart_end(x->mp, &why) < 0)
			return http_reply_error(r, AE_BAD_REQUEST, why, NULL);
	}
	char sha[BLOB_HEX_LEN + 1];
	int64_t size = 0;
	bool fresh = false;
	int e = blob_upload_finish(x->u, sha, &size, &fresh);
	if (e < 0)
		return reply_upload_error(r, e);
	json_object *o = json_object_new_object();
	json_object_object_add(o, "sha256", json_object_new_string(sha));
	json_object_object_add(o, "size", json_object_new_int64(size));
	return http_reply_json(r, put && !fresh ? 200 : 201, o);
}

int h_blob_put(struct req *r)
{
	return up_finish(r, true);
}

int h_blob_post(struct req *r)
{
	return up_finish(r, false);
}

/* --- downloads --- */

/* A download through the reader's read_at, for backends with no descriptor to send. */
struct download {
	struct blob_reader *rd;
	uint64_t off, left;
};

static ssize_t download_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	(void)pos;
	struct download *d = cls;
	if (d->left == 0)
		return HTTP_STREAM_END;
	size_t want = max < d->left ? max : (size_t)d->left;
	ssize_t n = d->rd->ops->read_at(d->rd, d->off, buf, want);
	if (n <= 0)
		return HTTP_STREAM_ERROR; /* short or failed: the client sees a cut response */
	d->off += (uint64_t)n;
	d->left -= (uint64_t)n;
	return n;
}

static void download_free(void *cls)
{
	struct download *d = cls;
	blob_reader_close(d->rd);
	free(d);
}

static int reply_reader(struct req *r, unsigned status, struct blob_reader *rd, uint64_t off,
			uint64_t len)
{
	struct download *d = calloc(1, sizeof *d);
	if (!d) {
		blob_reader_close(rd);
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	}
	*d = (struct download){ rd, off, len };
	return http_reply_stream(r, status, "application/octet-stream", len, download_read, d,
				 download_free);
}

int h_blob_get(struct req *r)
{
	char sha[BLOB_HEX_LEN + 1];
	const struct principal *p = blob_ref_or_reply(r, sha);
	if (!p)
		return 0;
	struct blob_reader *rd = NULL;
	int e = blob_open(core_of(r), p, sha, &rd);
	if (e == -ERR_NOT_FOUND)
		return http_reply_error(r, AE_NOT_FOUND, "There is no such blob.", NULL);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	return blob_reply(r, sha, rd);
}

int blob_reply(struct req *r, const char *sha, struct blob_reader *rd)
{
	uint64_t size = rd->size;
	char etag[BLOB_HEX_LEN + 3];
	snprintf(etag, sizeof etag, "\"%s\"", sha);
	http_add_header(r, "ETag", etag);
	http_add_header(r, "Cache-Control", "private, immutable");
	http_add_header(r, "Accept-Ranges", "bytes");
	const char *inm = http_header(r, "If-None-Match");
	if (inm && cond_etag_listed(inm, etag)) {
		blob_reader_close(rd);
		return http_reply_bytes(r, 304, NULL, "", 0);
	}
	uint64_t off = 0, len = size;
	const char *range = http_header(r, "Range");
	const char *if_range = http_header(r, "If-Range");
	if (if_range && strcmp(if_range, etag) != 0)
		range = NULL; /* the client's copy is another blob: send it all */
	enum range_result rr = range_parse(range, size, &off, &len);
	char cr[96];
	if (rr == RANGE_UNSATISFIABLE) {
		blob_reader_close(rd);
		snprintf(cr, sizeof cr, "bytes */%llu", (unsigned long long)size);
		http_add_header(r, "Content-Range", cr);
		return http_reply_error(r, AE_RANGE_NOT_SATISFIABLE, NULL, NULL);
	}
	if (rr == RANGE_OK) {
		snprintf(cr, sizeof cr, "bytes %llu-%llu/%llu", (unsigned long long)off,
			 (unsigned long long)(off + len - 1), (unsigned long long)size);
		http_add_header(r, "Content-Range", cr);
	}
	unsigned status = rr == RANGE_OK ? 206 : 200;
	if (rd->fd >= 0) { /* the fast path: the kernel sends the bytes */
		int fd = blob_reader_take_fd(rd);
		blob_reader_close(rd);
		return http_reply_fd(r, status, "application/octet-stream", fd, off, len);
	}
	if (rd->url && rr != RANGE_OK) { /* the backend serves the bytes itself */
		http_add_header(r, "Location", rd->url);
		blob_reader_close(rd);
		return http_reply_bytes(r, 307, NULL, "", 0);
	}
	return reply_reader(r, status, rd, off, len);
}

int h_blobs_missing(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p || !object_or_reply(r, false))
		return 0;
	json_object *arr = NULL;
	json_object_object_get_ex(r->json, "hashes", &arr);
	struct verr ve = { 0 };
	if (!json_object_is_type(arr, json_type_array)) {
		verr_add(&ve, "hashes", "must be an array of SHA-256 hashes in hex");
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	}
	size_t n = json_object_array_length(arr);
	int64_t max = limits_cfg(core_of(r)->cfg)->page;
	if (n > (size_t)max) {
		char msg[128];
		snprintf(msg, sizeof msg, "Ask about at most %lld hashes at once (limits.page).",
			 (long long)max);
		return http_reply_error(r, AE_BODY_TOO_LARGE, msg, NULL);
	}
	const char **shas = arena_alloc(&r->arena, sizeof *shas * (n ? n : 1));
	bool *missing = arena_alloc(&r->arena, sizeof *missing * (n ? n : 1));
	if (!shas || !missing)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	for (size_t i = 0; i < n; i++) {
		json_object *v = json_object_array_get_idx(arr, i);
		char *h = arena_alloc(&r->arena, BLOB_HEX_LEN + 1);
		if (!h)
			return http_reply_error(r, AE_INTERNAL, NULL, NULL);
		const char *hs = jtext_string(v);
		if (!hs || !blob_name_norm(hs, h)) {
			verr_add(&ve, "hashes", "hashes[%zu] is not a SHA-256 in hex", i);
			return reply_core_error(r, -ERR_INVALID, &ve, 0);
		}
		shas[i] = h;
	}
	int e = blob_missing(core_of(r), p, shas, (int)n, missing);
	if (e < 0)
		return reply_core_error(r, e, NULL, 0);
	json_object *out = json_object_new_array();
	for (size_t i = 0; i < n; i++) {
		bool seen = false; /* each hash once, in the order asked */
		for (size_t k = 0; k < i && !seen; k++)
			seen = !strcmp(shas[k], shas[i]);
		if (missing[i] && !seen)
			json_object_array_add(out, json_object_new_string(shas[i]));
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "missing", out);
	return http_reply_json(r, 200, o);
}

struct holdings {
	json_object *arr;
	int count, limit;
	bool more; /* a row past the page was seen */
	char last[BLOB_HEX_LEN + 1];
};

static int add_holding(void *arg, const char *sha, int64_t size, int64_t added_ms)
{
	struct holdings *h = arg;
	if (h->count == h->limit) { /* the one asked for beyond the page */
		h->more = true;
		return 0;
	}
	if (!blob_name_valid(sha))
		return 0; /* never written so; not echoed if the file says otherwise */
	json_object *o = json_object_new_object();
	json_object_object_add(o, "sha256", json_object_new_string(sha));
	json_object_object_add(o, "size", json_object_new_int64(size));
	json_object_object_add(o, "held_at", json_time(added_ms));
	json_object_array_add(h->arr, o);
	h->count++;
	memcpy(h->last, sha, sizeof h->last);
	return 0;
}

int h_blobs_list(struct req *r)
{
	const struct principal *p = auth_or_reply(r);
	if (!p)
		return 0;
	struct verr ve = { 0 };
	char after[BLOB_HEX_LEN + 1] = "";
	const char *a = http_query(r, "after");
	if (a && *a && !blob_name_norm(a, after))
		verr_add(&ve, "after", "must be a SHA-256 in hex, as given in next");
	int64_t limit = 100;
	http_query_int(r, "limit", &limit, 1, limits_cfg(core_of(r)->cfg)->page, &ve);
	if (ve.n)
		return reply_core_error(r, -ERR_INVALID, &ve, 0);
	struct holdings h = { .arr = json_object_new_array(), .limit = (int)limit };
	int e = blob_holdings(core_of(r), p, after, (int)limit + 1, add_holding, &h);
	if (e < 0) {
		json_object_put(h.arr);
		return reply_core_error(r, e, NULL, 0);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "blobs", h.arr);
	json_object_object_add(o, "more", json_object_new_boolean(h.more));
	json_object_object_add(o, "next", h.count ? json_object_new_string(h.last) : NULL);
	return http_reply_json(r, 200, o);
}

int h_blob_delete(struct req *r)
{
	char sha[BLOB_HEX_LEN + 1];
	const struct principal *p = blob_ref_or_reply(r, sha);
	if (!p)
		return 0;
	struct verr ve = { 0 };
	int e = blob_release(core_of(r), p, sha, &ve);
	if (e < 0)
		return reply_core_error(r, e, &ve, 0);
	return http_reply_bytes(r, 204, NULL, "", 0);
}

/* --- batches: POST /api/v1/blobs/batch ---
 *
 * The body is blobs one after another, each a header line "SHA256 SIZE\n" (64 hex digits,
 * a space, the size in decimal, a line feed) and then exactly SIZE bytes; the body ends
 * after the last blob. Each blob is verified against its name as it streams; one that
 * does not match, or is over a limit, is reported and not kept, and the rest go on. */

enum { BATCH_LINE_MAX = 96 };

struct batch {
	struct blob_upload *u;   /* the blob being received */
	char line[BATCH_LINE_MAX + 1];
	int line_len;
	char sha[BLOB_HEX_LEN + 1];
	int64_t left;            /* bytes of the current blob still to come */
	int64_t count;
	int bad;                 /* the current blob failed: its bytes are skipped */
	json_object *results;
	struct blob_batch *bb;   /* verified blobs waiting for one commit */
	json_object *waiting[BLOB_BATCH_MAX]; /* their results, told at the commit */
};

static void batch_free(void *arg)
{
	struct batch *b = arg;
	blob_upload_free(b->u);
	blob_batch_free(b->bb);
	json_object_put(b->results);
	free(b);
}

static json_object *batch_result(struct batch *b, const char *status)
{
	json_object *o = json_object_new_object();
	json_object_object_add(o, "sha256", json_object_new_string(b->sha));
	json_object_object_add(o, "status", json_object_new_string(status));
	json_object_array_add(b->results, o);
	return o;
}

static const char *upload_status(int e)
{
	return e == -ERR_MISMATCH  ? "hash_mismatch"
	       : e == -ERR_QUOTA   ? "quota_exceeded"
	       : e == -ERR_TOO_LARGE ? "too_large"
				     : "failed";
}

int h_blobs_batch_begin(struct req *r)
{
	if (!auth_or_reply(r))
		return -1;
	struct batch *b = calloc(1, sizeof *b);
	if (!b || !(b->results = json_object_new_array())) {
		free(b);
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	r->ctx = b;
	r->ctx_free = batch_free;
	if (blob_batch_new(core_of(r), &b->bb) < 0) {
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	int64_t cl = http_content_length(r);
	if (cl > files_cfg(core_of(r)->cfg)->batch_bytes) {
		http_reply_error(r, AE_BODY_TOO_LARGE,
				 "A batch body is at most files.batch_bytes bytes.", NULL);
		return -1;
	}
	return 0;
}

static bool fatal(int e)
{
	return e == -ERR_IO || e == -ERR_DB || e == -ERR_NOMEM || e == -ERR_LOCKED;
}

/* The waiting blobs made durable and held together; their results told. */
static int batch_commit(struct req *r, struct batch *b)
{
	int n = blob_batch_pending(b->bb);
	if (n == 0)
		return 0;
	int status[BLOB_BATCH_MAX];
	bool fresh[BLOB_BATCH_MAX];
	int e = blob_batch_commit(b->bb, status, fresh);
	if (fatal(e)) {
		reply_core_error(r, e, NULL, 0);
		return -1;
	}
	for (int i = 0; i < n; i++) {
		if (fatal(status[i])) {
			reply_core_error(r, status[i], NULL, 0);
			return -1;
		}
		json_object_object_add(b->waiting[i], "status",
				       json_object_new_string(status[i] < 0 ? upload_status(status[i])
						      : fresh[i]      ? "stored"
								      : "had"));
	}
	return 0;
}

/* The blob whose bytes just ended: verified, then waiting for the batch's commit. */
static int batch_blob_end(struct req *r, struct batch *b)
{
	if (b->bad || !b->u)
		return 0;
	char sha[BLOB_HEX_LEN + 1];
	struct blob_upload *u = b->u;
	b->u = NULL;
	int e = blob_batch_add(b->bb, u, sha);
	if (fatal(e)) {
		reply_core_error(r, e, NULL, 0);
		return -1;
	}
	if (e < 0) {
		batch_result(b, upload_status(e));
		return 0;
	}
	b->waiting[blob_batch_pending(b->bb) - 1] = batch_result(b, "waiting");
	return blob_batch_pending(b->bb) == BLOB_BATCH_MAX ? batch_commit(r, b) : 0;
}

static int batch_header(struct req *r, struct batch *b)
{
	b->line[b->line_len] = '\0';
	char hex[BLOB_HEX_LEN + 1];
	char *end = NULL;
	long long size = -1;
	if (b->line_len > BLOB_HEX_LEN + 1 && b->line[BLOB_HEX_LEN] == ' ') {
		memcpy(hex, b->line, BLOB_HEX_LEN);
		hex[BLOB_HEX_LEN] = '\0';
		const char *s = b->line + BLOB_HEX_LEN + 1;
		errno = 0;
		if (*s >= '0' && *s <= '9')
			size = strtoll(s, &end, 10);
		/* all of the line, digits only (a NUL inside ends strtoll early), no overflow */
		if (errno || end != b->line + b->line_len)
			size = -1;
	}
	if (size < 0 || !end || !blob_name_norm(hex, b->sha)) {
		http_reply_error(r, AE_BAD_REQUEST,
				 "Each blob of a batch starts with a line \"SHA256 SIZE\" (64 hex "
				 "digits, a space, the size in decimal).",
				 NULL);
		return -1;
	}
	if (++b->count > files_cfg(core_of(r)->cfg)->batch_blobs) {
		http_reply_error(r, AE_BODY_TOO_LARGE,
				 "A batch carries at most files.batch_blobs blobs.", NULL);
		return -1;
	}
	b->left = size;
	b->bad = 0;
	int e = blob_upload_begin(core_of(r), r->auth, b->sha, size, &b->u);
	if (e < 0) {
		b->bad = 1;
		batch_result(b, upload_status(e));
	}
	return 0;
}

int h_blobs_batch_chunk(struct req *r, const char *data, size_t len)
{
	struct batch *b = r->ctx;
	if (r->body_bytes > (uint64_t)files_cfg(core_of(r)->cfg)->batch_bytes) {
		http_reply_error(r, AE_BODY_TOO_LARGE,
				 "A batch body is at most files.batch_bytes bytes.", NULL);
		return -1;
	}
	while (len > 0) {
		if (b->left > 0) { /* a blob's bytes */
			size_t n = len < (uint64_t)b->left ? len : (size_t)b->left;
			if (!b->bad && b->u) {
				int e = blob_upload_write(b->u, data, n);
				if (e < 0) {
					batch_result(b, upload_status(e));
					blob_upload_free(b->u);
					b->u = NULL;
					b->bad = 1;
				}
			}
			data += n;
			len -= n;
			b->left -= (int64_t)n;
			if (b->left == 0 && batch_blob_end(r, b) < 0)
				return -1;
			continue;
		}
		/* a header line */
		const char *nl = memchr(data, '\n', len);
		size_t n = nl ? (size_t)(nl - data) : len;
		if (b->line_len + n > BATCH_LINE_MAX) {
			http_reply_error(r, AE_BAD_REQUEST, "A batch's header line is too long.", NULL);
			return -1;
		}
		memcpy(b->line + b->line_len, data, n);
		b->line_len += (int)n;
		data += n + (nl ? 1 : 0);
		len -= n + (nl ? 1 : 0);
		if (!nl)
			continue;
		int e = batch_header(r, b);
		b->line_len = 0;
		if (e < 0)
			return -1;
		if (b->left == 0 && batch_blob_end(r, b) < 0) /* an empty blob */
			return -1;
	}
	return 0;
}

int h_blobs_batch(struct req *r)
{
	struct batch *b = r->ctx;
	if (!b)
		return http_reply_error(r, AE_INTERNAL, NULL, NULL);
	if (b->left > 0 || b->line_len > 0)
		return http_reply_error(r, AE_BAD_REQUEST,
					"The batch ends inside a blob or its header line.", NULL);
	if (batch_commit(r, b) < 0)
		return 0;
	json_object *o = json_object_new_object();
	json_object_object_add(o, "results", json_object_get(b->results));
	return http_reply_json(r, 200, o);
}
