/* Inside the blob part of core (blobs.c, blob_gc.c). */
#ifndef CAIRN_BLOBS_INT_H
#define CAIRN_BLOBS_INT_H

#include "blobs.h"

/* Collects one candidate: hides its bytes, forgets its row if it is still dead and
 * untouched since before (ms), then deletes the bytes, or puts them back when the row is
 * in use. orphan: it had no row (counted apart in gs). */
void blob_collect(struct core *c, const char *sha, int64_t before, struct blob_gc_stats *gs,
		  bool orphan);

#endif
