/* A file's manifest: what a record of collection "files" holds. Reading one a client sent
 * (every field checked against the rules and limits), and writing its canonical JSON
 * text, which is what is stored and what readers get back. Pure; any thread.
 *
 *   {"path": "docs/a.txt", "type": "file", "size": 5, "mode": 420,
 *    "mtime": "2026-11-30T14:30:12.123456789Z", "sha256": "<hex of the whole file>",
 *    "chunks": [{"sha256": "<hex>", "size": 5}]}
 *
 * type "file" has sha256 and chunks (in order; their sizes add up to size; an empty file
 * has none); "dir" (an empty directory; others are implied by the paths under them) and
 * "symlink" (with "target", never followed or checked) have neither, and their size is 0
 * and the target's length. mode is the permission bits, 0 to 07777 (default 0644 for
 * files, 0755 for directories, 0777 for links). mtime is RFC 3339 UTC from 1970 on, with
 * up to 9 fractional digits, written back with 3 when they end in 000000 and 9 otherwise
 * (default: the commit's time). */
#ifndef CAIRN_FILES_MANIFEST_H
#define CAIRN_FILES_MANIFEST_H

#include <json-c/json.h>
#include <stdint.h>

#include "../../util/arena.h"
#include "../../util/buf.h"
#include "../core.h"
#include "fpath.h"

enum file_type { FILE_REGULAR, FILE_DIR, FILE_SYMLINK };

struct chunk_ref {
	char sha256[65];
	int64_t size;
};

struct manifest {
	enum file_type type;
	const char *path; /* NFC */
	int64_t size;
	int mode;
	int64_t mtime_s;
	int32_t mtime_ns;
	char sha256[65]; /* files; "" otherwise */
	const char *target; /* symlinks; NULL otherwise */
	struct chunk_ref *chunks;
	int nchunks;
};

struct manifest_limits {
	int64_t max_chunks; /* files.max_chunks */
	int64_t chunk_max;  /* files.chunk_max: no chunk is larger */
};

/* The SHA-256 of no bytes: an empty file's. */
#define SHA256_EMPTY "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

/* Reads o (the manifest's fields, as in a PUT .../files/{path} body or a pushed change's
 * data) into *m, allocating from a. path is the file's path in normal form when the
 * caller has it (from the URL); NULL takes o's "path" and normalises it (fpath.h). now_ms
 * is the default mtime. -ERR_INVALID with every fault in ve (field names as in the body:
 * "type", "chunks", "chunks[3].size", ...); -ERR_TOO_LARGE over max_chunks (ve says so);
 * -ERR_NOMEM. Checks the shapes and the arithmetic (sizes add up; a file of one chunk
 * has that chunk's hash; an empty file has the empty hash); whether the chunks exist and
 * may be read is the caller's to check. */
int manifest_read(json_object *o, const char *path, const struct manifest_limits *lim,
		  int64_t now_ms, struct arena *a, struct manifest *m, struct verr *ve);
/* The canonical JSON text of m appended to out. 0, or -ERR_NOMEM / -ERR_TOO_LARGE (out's
 * limit). */
int manifest_write(const struct manifest *m, struct buf *out);
/* The largest canonical text a manifest within lim can have: what the "files"
 * collection's record-size limit is. */
int64_t manifest_max_bytes(const struct manifest_limits *lim);
/* "file", "dir", "symlink". */
const char *file_type_name(enum file_type t);
/* An mtime in the canonical form ("...T14:30:12.123Z" or ".123456789Z") into out. */
#define MTIME_TEXT_LEN 32
/* An mtime as a manifest takes it (see above) to seconds and nanoseconds. */
bool manifest_mtime_parse(const char *s, int64_t *sec, int32_t *ns);
void manifest_mtime_format(int64_t s, int32_t ns, char out[MTIME_TEXT_LEN]);

#endif
