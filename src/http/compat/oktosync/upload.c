/* Oktosync's POST /upload: multipart fields `file` (the bytes) and `path` (where), stored
 * through file sync (cut into chunks as they arrive, versions kept) in the uploader's
 * space "oktosync": the caller's with a bearer token, or, when the operator allows
 * anonymous uploads, oktosync.anonymous_user's. Paths are confined (fpath's rules: no
 * "..", nothing absolute). Its server answered 200 whatever happened; this answers what
 * did. */
#include <stdlib.h>
#include <string.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../../core/files/files.h"
#include "../../../core/files/fpath.h"
#include "../../../core/sync.h"
#include "../../files_http.h"
#include "../../helpers.h"
#include "../../multipart.h"
#include "oktosync.h"

struct upload {
	struct principal p;
	struct space sp;
	struct content_put *put;
	struct multipart *mp;
	int64_t bytes, max;
	int err; /* the first failure, answered at the end */
};

static void upload_free(void *arg)
{
	struct upload *u = arg;
	multipart_free(u->mp);
	content_put_free(u->put);
	free(u);
}

static int sink(void *arg, const void *data, size_t len)
{
	struct upload *u = arg;
	return content_put_feed(u->put, data, len);
}

int okto_upload_begin(struct req *r)
{
	struct core *c = core_of(r);
	const struct oktosync_config *cfg = oktosync_cfg(((struct app *)r->app)->cfg);
	struct upload *u = calloc(1, sizeof *u);
	if (!u) {
		http_reply_error(r, AE_INTERNAL, NULL, NULL);
		return -1;
	}
	r->ctx = u;
	r->ctx_free = upload_free;
	u->max = cfg->max_upload_bytes;
	if (http_content_length(r) > u->max) {
		compat_reply(r, 413, COMPAT_TEXT, NULL, "The upload is larger than oktosync.max_upload_bytes.");
		return -1;
	}
	/* who uploads: the token's user, or (allowed, no token) the anonymous user */
	if (bearer_token(r) || !cfg->anonymous_upload) {
		const struct principal *p = auth_or_reply(r);
		if (!p)
			return -1;
		u->p = *p;
	} else {
		struct realm rl;
		struct verr ve = { 0 };
		struct user who;
		if (acct_realm(c, cfg->realm, &rl, &ve) < 0 ||
		    admin_user_find(c, NULL, rl.id, cfg->anonymous_user, &who) < 0) {
			okto_failure(r, 503, "oktosync.anonymous_user does not exist.", NULL);
			return -1;
		}
		if (who.disabled) {
			okto_failure(r, 503, "oktosync.anonymous_user is disabled.", NULL);
			return -1;
		}
		u->p.user = who;
		u->p.realm = rl;
	}
	if (sync_space_for_app(c, &u->p, OKTOSYNC_APP, &u->sp) < 0 ||
	    !(u->put = content_put_new(c, &u->p))) {
		okto_failure(r, 500, "Database operation failed.", NULL);
		return -1;
	}
	u->mp = multipart_new(r, sink, u);
	if (!u->mp) {
		okto_failure(r, 400, "The body must be multipart/form-data with fields file and path.",
			     NULL);
		return -1;
	}
	multipart_keep(u->mp, "path");
	return 0;
}

int okto_upload_chunk(struct req *r, const char *data, size_t len)
{
	struct upload *u = r->ctx;
	u->bytes += (int64_t)len;
	if (u->bytes > u->max) {
		compat_reply(r, 413, COMPAT_TEXT, NULL, "The upload is larger than oktosync.max_upload_bytes.");
		return -1;
	}
	const char *why = NULL;
	int e = multipart_feed(u->mp, data, len, &why);
	if (e == -ERR_INVALID) {
		okto_failure(r, 400, why, NULL);
		return -1;
	}
	if (e == -ERR_TOO_LARGE) {
		okto_failure(r, 413, "The file has more chunks than files.max_chunks allows.", NULL);
		return -1;
	}
	if (e == -ERR_QUOTA) {
		okto_failure(r, 507, "The storage quota would be exceeded.", NULL);
		return -1;
	}
	if (e < 0) {
		okto_failure(r, 500, "Database operation failed.", NULL);
		return -1;
	}
	return 0;
}

int okto_upload(struct req *r)
{
	struct upload *u = r->ctx;
	if (!u)
		return okto_failure(r, 500, "Database operation failed.", NULL);
	const char *why = NULL;
	if (multipart_end(u->mp, &why) < 0)
		return okto_failure(r, 400, "The body needs one field file and one field path.", why);
	const char *raw = multipart_kept(u->mp);
	char path[FPATH_MAX + 1];
	const char *rule = NULL;
	if (!raw)
		return okto_failure(r, 400, "The body needs a field path (at most 4096 bytes).", NULL);
	if (fpath_normalize(raw, strlen(raw), path, &rule, &why) < 0)
		return okto_failure(r, 400, "The path is not allowed.", why);
	json_object *m = NULL;
	int e = content_put_finish(u->put, 0644, NULL, &m);
	if (e == -ERR_TOO_LARGE)
		return okto_failure(r, 413, "The file has more chunks than files.max_chunks allows.", NULL);
	if (e == -ERR_QUOTA)
		return okto_failure(r, 507, "The storage quota would be exceeded.", NULL);
	if (e < 0)
		return okto_failure(r, 500, "Database operation failed.", NULL);
	/* its server overwrote what was there: a put over whatever version is current */
	struct file_commit fc = { .path = path, .manifest = m, .base_version = -1 };
	struct file_result fr;
	struct verr ve = { 0 };
	e = files_commit(core_of(r), &u->p, &u->sp, &fc, &fr, &ve);
	json_object_put(m);
	if (e == 0 && fr.status == OPS_CONFLICT)
		e = -ERR_CONFLICT;
	file_result_clear(&fr);
	if (e == -ERR_CONFLICT)
		return okto_failure(r, 409, "A directory or file is in the way of that path.", NULL);
	if (e == -ERR_INVALID)
		return okto_failure(r, 400, "The path is not allowed.", ve.n ? ve.e[0].msg : NULL);
	if (e < 0)
		return okto_failure(r, 500, "Database operation failed.", NULL);
	return http_reply_bytes(r, 200, NULL, "", 0);
}
