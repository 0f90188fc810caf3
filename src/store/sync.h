/* Records of the sync part of the metadata store: spaces, members, the change log,
 * records, and the results of operations by op id. */
#ifndef CAIRN_STORE_SYNC_H
#define CAIRN_STORE_SYNC_H

#include <stdbool.h>
#include <stdint.h>

#include "accounts.h"

#define COLLECTION_MAX 64
#define RECORD_ID_MAX 200
#define OP_ID_MAX 128
#define CLIENT_TS_MAX 40

enum space_kind { SPACE_PRIVATE = 0, SPACE_SHARED = 1, SPACE_DIRECT = 2 };
enum role { ROLE_OWNER = 0, ROLE_ADMIN = 1, ROLE_WRITER = 2, ROLE_READER = 3, ROLE_NONE = 9 };
enum policy { POLICY_REJECT = 0, POLICY_LWW = 1, POLICY_MERGE = 2, POLICY_APPEND = 3 };
enum change_op { OP_PUT = 0, OP_PATCH = 1, OP_DELETE = 2 };
/* What became of one pushed change; stored with its op id (op_results.status), so the
 * numbers are fixed. Unchanged: a delete of a record that is not there, nothing written. */
enum op_status { OPS_APPLIED = 0, OPS_CONFLICT = 1, OPS_DUPLICATE = 2, OPS_UNCHANGED = 3 };

#define SPACE_EPOCH_LEN 16

struct space {
	int64_t id;
	int64_t realm_id;
	enum space_kind kind;
	char name[NAME_MAX_BYTES + 1];
	int64_t owner_id; /* private spaces */
	int64_t head_seq;
	int64_t key_epoch;
	int64_t horizon_seq;
	char epoch[SPACE_EPOCH_LEN + 1]; /* the log's epoch: hex, new after a restore */
	int64_t created_ms;
	enum role role; /* the asking user's, when listed for a user */
};

struct member {
	int64_t user_id;
	char username[USERNAME_MAX + 1];
	enum role role;
	int64_t key_epoch;
	int64_t added_ms;
};

/* One change of the log as stored; strings borrowed during a callback. */
struct change_row {
	int64_t seq;
	const char *collection, *record_id, *op_id, *client_ts;
	enum change_op op;
	const char *data; /* JSON text, NULL for deletes */
	int64_t device_id;
	int64_t server_ms;
	const char *blobs; /* JSON array of the blob hashes it names, or NULL */
};

/* A record's current state; data is malloc'd (record_clear). */
struct record {
	int64_t version;
	char *data; /* JSON text; NULL when deleted */
	bool deleted;
	char client_ts[CLIENT_TS_MAX + 1];
	int64_t updated_ms;
};

void record_clear(struct record *r);

/* What to append: the change, and the record's new state. */
struct change_in {
	const char *collection, *record_id, *op_id, *client_ts;
	enum change_op op;
	const char *data;        /* for the log: the record (put), the patch, or NULL */
	const char *record_data; /* the record's state afterwards (NULL: deleted) */
	int64_t device_id;
	/* the blobs it names (64 hex digits each, no repeats), and the same as a JSON array */
	const char *const *blobs;
	int nblobs;
	const char *blobs_json;
};

/* Blob metadata: who holds what (uploaded it), for quotas and access. */
struct blob_hold {
	const char *sha256;
	int64_t size;
	int64_t user_id, realm_id;
	int64_t user_quota, realm_quota; /* bytes; 0: no quota */
	int64_t now_ms;
};

struct op_result {
	enum op_status status;
	int64_t seq, version;
};

#endif
