/* Verstak's blobs: a multipart upload (one `file` part) into Cairn's blob store, held by
 * the device's user, and a download by SHA-256 for whoever may read the blob by Cairn's
 * rules (its uploader, or a reader of a space whose change names it): never by knowing
 * the hash. Its server kept a reference per (user, vault); here a blob is the user's,
 * whichever of their vaults uploaded it. */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../../../core/blobs.h"
#include "../../../core/errors.h"
#include "../../../store/blob.h"
#include "../../files_http.h"
#include "../../helpers.h"
#include "../../multipart.h"
#include "verstak.h"

struct vk_upload {
	const struct vk_device *d;
	struct blob_upload *u;
	struct multipart *mp;
	int64_t bytes, file, max;
};

static void upload_free(void *arg)
{
	struct vk_upload *x = arg;
	multipart_free(x->mp);
	blob_upload_free(x->u);
	free(x);
}

static int sink(void *arg, const void *data, size_t len)
{
	struct vk_upload *x = arg;
	x->file += (int64_t)len;
	if (x->file > x->max)
		return -ERR_TOO_LARGE;
	return blob_upload_write(x->u, data, len);
}

static int upload_error(struct req *r, int e)
{
	if (e == -ERR_TOO_LARGE)
		return vk_error(r, 413, "blob_too_large", "blob is too large");
	if (e == -ERR_QUOTA)
		return vk_error(r, 413, "quota_exceeded", "blob quota exceeded");
	if (e == -ERR_LOCKED)
		return vk_error(r, 503, "internal_error", "internal error");
	return vk_error(r, 500, "internal_error", "internal error");
}

/* GET of a hash, or POST of an upload anywhere under /api/v1/blobs: the device first,
 * then the method, as its server checked them. */
int vk_blob_upload_begin(struct req *r)
{
	const struct vk_device *d = vk_device_or_reply(r);
	if (!d)
		return -1;
	struct vk_upload *x = calloc(1, sizeof *x);
	if (!x) {
		vk_error(r, 500, "internal_error", "internal error");
		return -1;
	}
	r->ctx = x;
	r->ctx_free = upload_free;
	x->d = d;
	if (r->method != HM_POST)
		return 0; /* a download: no body */
	x->max = verstak_cfg(((struct app *)r->app)->cfg)->max_blob_bytes;
	int e = blob_upload_begin(core_of(r), &d->p, NULL, -1, &x->u);
	if (e < 0) {
		upload_error(r, e);
		return -1;
	}
	const char *ct = http_header(r, "Content-Type");
	if (!ct || strncasecmp(ct, "multipart/form-data", 19) || !(x->mp = multipart_new(r, sink, x))) {
		vk_error(r, 400, "invalid_multipart", "invalid multipart request");
		return -1;
	}
	return 0;
}

int vk_blob_upload_chunk(struct req *r, const char *data, size_t len)
{
	struct vk_upload *x = r->ctx;
	if (!x || !x->mp)
		return 0; /* a GET's body is not read */
	x->bytes += (int64_t)len;
	if (x->bytes > x->max + (1 << 20)) { /* the body: the file and its framing */
		upload_error(r, -ERR_TOO_LARGE);
		return -1;
	}
	const char *why = NULL;
	int e = multipart_feed(x->mp, data, len, &why);
	if (e == -ERR_INVALID) {
		vk_error(r, 400, "invalid_multipart", "exactly one file field is required");
		return -1;
	}
	if (e < 0) {
		upload_error(r, e);
		return -1;
	}
	return 0;
}

static int blob_get(struct req *r, const struct vk_device *d)
{
	const char *sha = http_param(r, "rest");
	if (!vk_sha256_ok(sha))
		return vk_error(r, 400, "invalid_blob_hash", "invalid blob hash");
	struct blob_reader *rd = NULL;
	int e = blob_open(core_of(r), &d->p, sha, &rd);
	if (e == -ERR_NOT_FOUND)
		return vk_error(r, 404, "blob_not_found", "blob not found");
	if (e < 0)
		return vk_error(r, 500, "blob_unavailable", "blob unavailable");
	char cd[96];
	snprintf(cd, sizeof cd, "attachment; filename=\"%s\"", sha);
	http_add_header(r, "Content-Disposition", cd);
	return blob_reply(r, sha, rd);
}

int vk_blob_upload(struct req *r)
{
	struct vk_upload *x = r->ctx;
	if (!x)
		return vk_error(r, 500, "internal_error", "internal error");
	if (r->method != HM_POST)
		return blob_get(r, x->d);
	if (!vk_device_or_reply(r)) /* revoked while the body came */
		return 0;
	const char *why = NULL;
	if (multipart_end(x->mp, &why) < 0)
		return vk_error(r, 400, "invalid_multipart", x->bytes ? "exactly one file field is required"
								     : "file field is required");
	int64_t size = 0;
	char sha[BLOB_HEX_LEN + 1];
	bool fresh = false;
	int e = blob_upload_finish(x->u, sha, &size, &fresh);
	if (e < 0)
		return upload_error(r, e);
	json_object *o = json_object_new_object(); /* a map: keys sorted */
	json_object_object_add(o, "sha256", json_object_new_string(sha));
	json_object_object_add(o, "size", json_object_new_int64(size));
	return vk_reply(r, 200, o);
}
