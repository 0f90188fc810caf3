/* The reference client's side of the disk: a scan of the folder being synced, and the
 * state file that remembers what both sides agreed on at the last sync (so an unchanged
 * file is known by its size, mtime, mode and type without reading it).
 *
 * The state lives in DIR/.cairn-sync/state, a text file written atomically (temporary
 * file, fsync, rename): a header line "cairn-sync 1 SPACE SEQ EPOCH", then one line per
 * path, tab-separated: path, type (f, d, l), size, mtime seconds, nanoseconds, mode,
 * sha256 (or -), version, link target (or empty). Paths and targets hold no tab or line
 * feed (control characters are not allowed in either). One thread. */
#ifndef CAIRN_CLIENT_LOCAL_H
#define CAIRN_CLIENT_LOCAL_H

#include <stdbool.h>
#include <stdint.h>

#include "../core/files/manifest.h"

#define SYNC_DIR ".cairn-sync"
#define SYNC_TMP_PREFIX ".cairn-tmp-"

struct fentry {
	char *path;          /* NFC, as the server names it */
	char *local;         /* the name on disk, relative (differs when not NFC) */
	enum file_type type;
	int64_t size;
	int64_t mtime_s;
	int32_t mtime_ns;
	int mode;
	char sha256[65];     /* known content ("" when not yet hashed) */
	int64_t version;     /* the server's version this agrees with (state only) */
	char *target;        /* symlinks */
};

/* A set of entries, sorted by path once fset_sort ran (fset_find needs it). */
struct fset {
	struct fentry *v;
	int n, cap;
};

void fset_free(struct fset *s);
/* Adds a copy of e (its strings duplicated); the new entry, or NULL without memory. */
struct fentry *fset_add(struct fset *s, const struct fentry *e);
void fset_sort(struct fset *s);
struct fentry *fset_find(const struct fset *s, const char *path);
/* Removes the entry (keeps the order). */
void fset_remove(struct fset *s, struct fentry *e);

/* Scans dir: every regular file, symbolic link and empty directory, skipping SYNC_DIR
 * and temporary files; a name that is not a valid path (not UTF-8, a control character)
 * is reported through warn and skipped, as are sockets, devices and pipes. A directory
 * that cannot be read (or lies deeper than 256 levels) is reported and added to skipped:
 * nothing under it may be taken for deleted. Sorted. 0, or -1 with errno. */
int local_scan(const char *dir, struct fset *out, struct fset *skipped,
	       void (*warn)(const char *path, const char *why));

struct sync_state {
	int64_t space_id;
	int64_t cursor;   /* changes up to this seq are in the entries */
	char epoch[40];   /* the log's epoch the cursor belongs to */
	struct fset files;
};

/* Reads DIR/SYNC_DIR/state; a missing file is an empty state. -1 with errno (EINVAL for a
 * damaged file). */
int state_load(const char *dir, struct sync_state *st);
/* Writes it atomically and durably. -1 with errno. */
int state_save(const char *dir, const struct sync_state *st);
void state_free(struct sync_state *st);

/* Whether a scanned entry still looks as the state recorded it (type, size, mtime, mode,
 * target): then its content is taken as unchanged without reading it. */
bool fentry_same(const struct fentry *scanned, const struct fentry *known);

#endif
