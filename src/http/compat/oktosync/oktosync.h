/* Oktosync's protocol under /compat/oktosync (docs/compat/oktosync.md; section 1 of the
 * seed-protocols research): its welcome and health texts, registration with a public key
 * and no password, and a multipart upload that Cairn stores through file sync (chunks,
 * versions, history) in the uploader's space "oktosync". Handlers run on the HTTP
 * server's threads and call core only. */
#ifndef CAIRN_COMPAT_OKTOSYNC_H
#define CAIRN_COMPAT_OKTOSYNC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../../util/config.h"
#include "../../server.h"
#include "../compat.h"

/* The [oktosync] section. */
struct oktosync_config {
	struct compat_config base; /* enabled, listen */
	char *realm;
	bool anonymous_upload;
	char *anonymous_user;
	int64_t max_upload_bytes;
};
CONFIG_SECTION_DECL(oktosync);

extern const struct http_mount oktosync_mount;

#define OKTOSYNC_APP "oktosync"

/* {"status": "failure", "error": msg} with status (and details when not NULL). */
int okto_failure(struct req *r, unsigned status, const char *msg, const char *details);

int okto_welcome(struct req *r);
int okto_health(struct req *r);
int okto_register(struct req *r);
int okto_upload_begin(struct req *r);
int okto_upload_chunk(struct req *r, const char *data, size_t len);
int okto_upload(struct req *r);

#endif
