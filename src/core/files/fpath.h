/* A file's path inside a space: the rules it must meet, its normal form and the record id
 * it is stored under. Pure functions; any thread.
 *
 * A path is valid UTF-8 (RFC 3629) of segments joined by '/': no empty segment (so no
 * leading, trailing or doubled '/'), no "." or "..", no control character (U+0000 to
 * U+001F, U+007F to U+009F). It is normalised to NFC (Unicode UAX #15, by libunistring)
 * before anything else, so that the same name typed on macOS (NFD) and on Linux (NFC) is
 * one file; the limits apply to the normal form: at most FPATH_MAX bytes, and
 * FPATH_SEGMENT_MAX bytes per segment. */
#ifndef CAIRN_FILES_FPATH_H
#define CAIRN_FILES_FPATH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define FPATH_MAX 4096
#define FPATH_SEGMENT_MAX 255
/* A file's record id (collection "files"): 64 lower-case hex digits. */
#define FPATH_ID_LEN 64

/* in (len bytes, not necessarily terminated) in NFC into out (terminated). 0, or -1 with
 * *why set to the rule broken (a static sentence naming it) and *rule to its stable name:
 * "utf8", "empty", "segment_empty", "dot_segment", "control", "too_long",
 * "segment_too_long". */
int fpath_normalize(const char *in, size_t len, char out[FPATH_MAX + 1], const char **rule,
		    const char **why);
/* The record id of a path in normal form: hex SHA-256 of its bytes. */
void fpath_id(const char *path, char out[FPATH_ID_LEN + 1]);
/* The key paths that differ only by case share (Unicode full case folding, then NFC)
 * into out (terminated, at most FPATH_MAX * 3 + 1 bytes, since folding can grow a path);
 * -1 when it does not fit (never for a path fpath_normalize accepted at the limit of
 * out's size). */
#define FPATH_FOLD_MAX (FPATH_MAX * 3)
int fpath_fold(const char *path, char out[FPATH_FOLD_MAX + 1]);
/* Whether path lies under the directory prefix dir (dir itself excluded): "a/b" is under
 * "a", "ab" is not. An empty dir holds everything. */
bool fpath_under(const char *path, const char *dir);
/* The name of a conflict copy of path: "DIR/NAME (conflict from DEVICE YYYY-MM-DD
 * HHMMSS).EXT", where EXT is what follows the last '.' of the last segment (not counting a
 * leading one), device is the device's name cut to 64 bytes with '/' and control
 * characters replaced by '_', and n > 1 adds " n" before the ')' for a name already
 * taken; in NFC. -1 when the result breaks a rule of paths (the caller then tries the
 * name without the device). */
int fpath_conflict_name(const char *path, const char *device, int64_t ms, int n,
			char out[FPATH_MAX + 1]);

#endif
