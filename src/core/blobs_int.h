/* Inside the blob part of core (blobs.c, blob_gc.c). */
#ifndef CAIRN_BLOBS_INT_H
#define CAIRN_BLOBS_INT_H

#include "blobs.h"

/* One collector at a time holds this lease in the metadata store (whatever process or
 * node runs it), so that marks it finds at the start of a pass are left by a collector
 * that stopped, and it may finish them. */
#define BLOB_GC_LEASE "blob-gc"
/* Long enough that no healthy collector stalls past it between renewing and deleting
 * (renewals come every third of it, checked before each candidate); short enough that a
 * killed collector holds up collection, and uploads of the blob it marked, only briefly. */
#define BLOB_GC_LEASE_MS (2 * 60 * 1000)
/* Takes or renews the lease for holder (made on first use when ""): 0, or -ERR_BUSY
 * when another collector holds it. */
int blob_lease(struct core *c, char holder[TOKEN_LEN]);
/* Collects one candidate, under the lease: marks it in the metadata store if it is
 * still dead and untouched since before (or, with no row, a file of size bytes nobody
 * recorded: orphan), deletes its bytes, forgets the row. Counted in gs. */
void blob_collect(struct core *c, const char *sha, int64_t size, int64_t before,
		  struct blob_gc_stats *gs, bool orphan);

#endif
