/* The [files] section: chunking, history, paths, batches. */
#include <stddef.h>
#include <stdio.h>

#include "../../store/model.h"
#include "../../util/err.h"
#include "cdc.h"
#include "files.h"

static int validate_files(const struct config *c, char *err, size_t errlen)
{
	const struct files_config *f = files_cfg(c);
	const char *why = NULL;
	if (f->chunk_avg & (f->chunk_avg - 1))
		why = "files.chunk_avg must be a power of two";
	else if (!(f->chunk_min < f->chunk_avg && f->chunk_avg < f->chunk_max))
		why = "files.chunk_min < files.chunk_avg < files.chunk_max must hold";
	if (why) {
		snprintf(err, errlen, "%s: %s", config_where(c, &files_section, "chunk_avg"), why);
		return -ERR_INVALID;
	}
	return 0;
}

#define F(field) offsetof(struct files_config, field)

static const struct config_def files_keys[] = {
	{ "chunk_min", T_SIZE, "256KiB", CDC_MIN_CHUNK, CDC_MAX_CHUNK, NULL, NULL, NULL,
	  F(chunk_min), "Content-defined chunking: no cut before this many bytes.",
	  .serve_only = false },
	{ "chunk_avg", T_SIZE, "1MiB", 2 * CDC_MIN_CHUNK, CDC_MAX_CHUNK, NULL, NULL, NULL,
	  F(chunk_avg), "The chunk size aimed at (a power of two).", .serve_only = false },
	{ "chunk_max", T_SIZE, "4MiB", 4 * CDC_MIN_CHUNK, CDC_MAX_CHUNK, NULL, NULL, NULL,
	  F(chunk_max),
	  "No chunk is larger: the server cuts here, and refuses a manifest naming a larger "
	  "chunk.",
	  .serve_only = false },
	{ "max_chunks", T_INT, "16384", 1, 1000000, NULL, NULL, NULL, F(max_chunks),
	  "Chunks one manifest may name (with chunk_max, the largest file).",
	  .serve_only = false },
	{ "keep_versions", T_INT, "50", 1, 1000000, NULL, NULL, NULL, F(keep_versions),
	  "Pruning keeps each file's newest versions, this many, and (keep_days) every "
	  "version younger than that, whichever keeps more.",
	  .serve_only = false },
	{ "keep_days", T_DURATION, "90d", 0, 36500LL * 86400 * SEC, NULL, NULL, NULL, F(keep_ms),
	  "Versions of files younger than this are kept; a deleted file stays restorable (in "
	  "the trash) this long, and then all of it goes.",
	  .serve_only = false },
	{ "case_collisions", T_ENUM, "allow", 0, 0, "allow|refuse", NULL, NULL,
	  F(case_collisions),
	  "Paths differing only by case: allow (and report them) or refuse (for users on "
	  "Windows or macOS).",
	  .serve_only = false },
	{ "max_move", T_INT, "10000", 1, 10000000, NULL, NULL, NULL, F(max_move),
	  "Files one move (POST .../moves) may rename.", .serve_only = false },
	{ "batch_bytes", T_SIZE, "64MiB", 1 * KiB, 4 * GiB, NULL, NULL, NULL, F(batch_bytes),
	  "The largest body of POST /api/v1/blobs/batch.", .serve_only = false },
	{ "batch_blobs", T_INT, "10000", 1, 1000000, NULL, NULL, NULL, F(batch_blobs),
	  "Blobs one POST /api/v1/blobs/batch may carry.", .serve_only = false },
};

#undef F

CONFIG_SECTION(files, validate_files);

struct manifest_limits files_limits(const struct config *cfg)
{
	const struct files_config *f = files_cfg(cfg);
	return (struct manifest_limits){ .max_chunks = f->max_chunks, .chunk_max = f->chunk_max };
}
