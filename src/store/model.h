/* The metadata store's model: the records every layer above the store shares (realms,
 * users, devices, tokens, e-mail codes, the mail outbox; spaces, members, the change log,
 * records, blob holdings), and the input limits core checks before anything reaches a
 * store. Plain structs with fixed-size strings, so a backend can fill them without
 * allocating. Times are milliseconds since the epoch.
 *
 * This header has no operations: core/ includes store.h for those; http/ and cli/ see
 * only this, through core's headers (the one door: docs/architecture.md). */
#ifndef CAIRN_STORE_MODEL_H
#define CAIRN_STORE_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include "../util/config.h"

/* --- Accounts --- */
/* Input limits, checked in core/ before anything reaches a store. */
#define USERNAME_MAX 64
#define EMAIL_MAX 254
#define NAME_MAX_BYTES 128
#define REALM_NAME_MAX 64
#define PLATFORM_MAX 64
#define PUBLIC_KEY_MAX 8192
#define PASSWORD_HASH_MAX 160

struct realm {
	int64_t id;
	char name[REALM_NAME_MAX + 1];
	char display_name[NAME_MAX_BYTES + 1];
	bool signup_open;
	bool confirm_email;
	int64_t access_ttl_s;
	int64_t refresh_ttl_s;
};

struct user {
	int64_t id;
	int64_t realm_id;
	char username[USERNAME_MAX + 1];
	char email[EMAIL_MAX + 1]; /* "" when none */
	char name[NAME_MAX_BYTES + 1];
	char password_hash[PASSWORD_HASH_MAX + 1];
	bool is_admin;
	bool disabled;
	bool email_confirmed;
	bool has_public_key;
	int64_t created_ms;
};

enum device_kind { DEVICE_SESSION = 0, DEVICE_TOKEN = 1 };

struct device {
	int64_t id;
	int64_t user_id;
	enum device_kind kind;
	char name[NAME_MAX_BYTES + 1];
	char platform[PLATFORM_MAX + 1];
	char client_version[PLATFORM_MAX + 1];
	int64_t created_ms;
	int64_t last_seen_ms;
	int64_t revoked_ms; /* 0 while active */
};

enum token_kind { TOKEN_ACCESS = 0, TOKEN_REFRESH = 1, TOKEN_LONG = 2 };

struct token_row {
	uint8_t hash[32];
	enum token_kind kind;
	int64_t expires_ms; /* 0: never */
};

/* Who a token belongs to, as one lookup finds it. */
struct principal {
	struct user user;
	struct device device;
	struct realm realm;
	enum token_kind token_kind;
	int64_t expires_ms;
	int64_t used_ms;
};

enum ecode_purpose { ECODE_CONFIRM = 0, ECODE_RESET = 1 };

struct ecode {
	int64_t id;
	int64_t user_id;
	enum ecode_purpose purpose;
	uint8_t code_hash[32];
	uint8_t token_hash[32];
	int64_t expires_ms;
	int tries;
};

struct mail {
	int64_t id;
	char *to, *subject, *body; /* owned: mail_clear() */
	int attempts;
};

struct store_stats {
	int64_t realms, users, devices, active_devices, spaces, changes, blobs, blob_bytes;
	int64_t mails_pending;
};

/* --- Sync --- */

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
/* The key a user is found by: the username or e-mail address with A-Z lowered (names are
 * ASCII; addresses compare case-blind in their ASCII letters), into out (len bytes).
 * Every backend keys users by it, so that every backend finds the same user. */
void login_key(const char *in, char *out, size_t len);
/* Frees what a backend allocated into m (model.c). */
void mail_clear(struct mail *m);

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
	/* a file's (collection "files", a put): its path in normal form and the key paths
	 * differing only by case share (core/files/fpath.h); NULL for other records, and for
	 * a delete, which keeps the record's path on its tombstone */
	const char *path, *path_fold;
};

/* One user's conversation (a direct space), as listed: newest activity first. */
struct conversation {
	int64_t space_id;
	int64_t other_id;        /* the other member (the user for notes to oneself) */
	int64_t last_message_id; /* 0 before the first message */
	int64_t last_seq, last_ms;
	int64_t read_seq;        /* the user's read cursor */
	int64_t unread;          /* messages from the other after read_seq, not deleted */
};

/* One message as a conversation's page lists it; data is its record's (NULL once deleted),
 * borrowed for the callback. */
struct message_row {
	int64_t id, seq, sender_id, created_ms;
	bool deleted;
	const char *data;
};

/* A message as a listing across conversations gives it (MigChat's message list): the row,
 * its conversation's other member, and the current names of the sender and the other
 * (NULL for an account deleted since). Strings borrowed for the callback. */
struct message_listed {
	struct message_row m;
	int64_t space_id, other_id;
	const char *sender, *other;
};

/* A compat adapter's client (sync_server_ts's clientId): a device of its user, with the
 * adapter's pull-before-push lock (0: free) and the server time of its last pull. */
#define APP_CLIENT_ID_MAX 64
#define APP_SCOPE_MAX 256
struct app_client {
	char client_id[APP_CLIENT_ID_MAX + 1];
	int64_t realm_id, user_id, device_id;
	int64_t lock_ms, pulled_ms, created_ms;
	int64_t pulled_seq;   /* where its last pull read up to (0: not known) ... */
	int64_t pulled_space; /* ... in this space */
	char scope[APP_SCOPE_MAX + 1]; /* what else it is bound to ("" none): a Verstak vault */
};

/* An end-to-end key bundle a user publishes for others to start a conversation with
 * (X3DH-style: an identity key, a signed prekey and its signature; opaque text, as the
 * client encodes them). Its one-time prekeys are kept apart, each handed out once. */
#define KEY_TEXT_MAX 1024
struct key_bundle {
	char identity_key[KEY_TEXT_MAX + 1];
	char signed_prekey[KEY_TEXT_MAX + 1];
	char signed_prekey_signature[KEY_TEXT_MAX + 1];
	int64_t updated_ms;
};

/* How long pruning keeps the versions of files (collection "files"): a version younger
 * than ms, or among the newest `versions` of its file, stays, unless the file is a
 * tombstone deleted more than ms ago (then all of it may go). */
struct file_keep {
	int64_t versions;
	int64_t ms;
};

/* Blob metadata: who holds what (uploaded it), for quotas and access. */
struct blob_hold {
	const char *sha256;
	int64_t size;
	int64_t user_id, realm_id;
	int64_t user_quota, realm_quota; /* bytes; 0: no quota */
	int64_t now_ms;
	/* a chunk the server cut from a file's bytes: the holding is bound to files from the
	 * start (collection ends it once no kept change names the chunk) */
	bool files;
};

/* A device's report of how far it applied a space's log. */
struct cursor_row {
	int64_t device_id, space_id, seq;
};

struct op_result {
	enum op_status status;
	int64_t seq, version;
};

/* --- Blobs --- */

/* A blob is named by the SHA-256 of its bytes: 64 lower-case hex digits. */
#define BLOB_HEX_LEN 64
bool blob_name_valid(const char *s);
/* A name as a client may send it (upper case read as lower) into out; false when it is
 * not 64 hex digits. */
bool blob_name_norm(const char *s, char out[BLOB_HEX_LEN + 1]);

struct blob_reader;
/* A blob opened for reading. read_at is what every backend has; the capabilities are
 * fast paths a caller takes when they are there (as curl's TLS backends announce theirs),
 * never assumptions: a file descriptor of the bytes (fd, for sendfile: byte 0 of the file
 * is byte 0 of the blob), or an address a client may fetch the bytes from for a while
 * (url, for a redirect: an S3 backend's presigned GET). */
struct blob_reader_ops {
	/* Up to len bytes from offset off into buf: the count, 0 at the end, or -ERR_IO. */
	ssize_t (*read_at)(struct blob_reader *r, uint64_t off, void *buf, size_t len);
	void (*close)(struct blob_reader *r); /* frees the reader and whatever it holds */
};

struct blob_reader {
	const struct blob_reader_ops *ops;
	uint64_t size;   /* bytes */
	int fd;          /* -1: none. Owned by the reader (blob_reader_take_fd takes it) */
	const char *url; /* NULL: none. Owned by the reader */
};

/* The reader's descriptor, now the caller's (the reader keeps no claim on it); -1 when it
 * has none. */
static inline int blob_reader_take_fd(struct blob_reader *r)
{
	int fd = r->fd;
	r->fd = -1;
	return fd;
}

/* Closes a reader; accepts NULL; returns NULL. */
static inline struct blob_reader *blob_reader_close(struct blob_reader *r)
{
	if (r)
		r->ops->close(r);
	return NULL;
}

/* --- configuration (the section and its values: util/config.h) --- */

struct storage_config {
	char *data_dir;
	char *database;
	char *blobs;
};
CONFIG_SECTION_DECL(storage);

struct blobs_config {
	int64_t max_size;
	int64_t user_quota;
	int64_t realm_quota;
	int64_t gc_grace_ms;
	bool sendfile;
};
CONFIG_SECTION_DECL(blobs);

#endif
