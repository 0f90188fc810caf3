/* The reference sync client (`cairn sync`): a two-way sync of a folder with one space's
 * files. Each round pulls what others changed since the last round, scans the folder
 * (an unchanged file is known by its size, mtime, mode and type from the state file),
 * uploads only the chunks the server lacks (in batches), commits manifests in batches,
 * writes what others changed atomically (temporary file, fsync, rename) with modes and
 * mtimes, and settles conflicts by conflict copies, never by losing a side. See
 * docs/sync-client.md. One thread. */
#ifndef CAIRN_CLIENT_SYNCER_H
#define CAIRN_CLIENT_SYNCER_H

#include <stdbool.h>
#include <stdint.h>

struct sync_opts {
	const char *dir;
	const char *server; /* base URL */
	const char *space;  /* "me" or a space id */
	const char *token;
	bool watch;          /* keep syncing until stopped */
	int64_t interval_ms; /* with watch: how often the folder is scanned again */
	bool tty;            /* progress on one terminal line; plain lines otherwise */
	bool once_quiet;     /* no summary line */
};

/* 0 when every round ended well; 1 when something could not be synced (each named on
 * stderr); 2 for a usage problem (no such space, a refused token). */
int sync_run(const struct sync_opts *o);

#endif
