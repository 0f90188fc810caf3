/* The product's rules, without HTTP: the state they share, and the small helpers every
 * part of core uses (validation errors, tokens, passwords). */
#ifndef CAIRN_CORE_H
#define CAIRN_CORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../store/model.h"
#include "errors.h"
#include "../util/config.h"

struct config;
struct ratelimit;
struct mailer;
struct tokencache;
struct hub;
struct cursor_memo;
struct blobstore;
struct committer;

/* Owned by whoever runs the server or a command; borrowed by everything in core. */
struct core {
	const struct config *cfg;
	struct store *store;
	struct blobstore *blobs; /* NULL: commands that do not touch blobs */
	struct ratelimit *rl;  /* NULL: no rate limits (commands) */
	struct mailer *mailer; /* NULL: mails go to the outbox for the server to send */
	struct tokencache *tokens; /* NULL: every token check asks the store */
	struct hub *hub;           /* NULL: nobody waits or streams (commands) */
	struct cursor_memo *cursors; /* NULL: every reported cursor is written */
	struct committer *committer; /* NULL: pushes commit on the caller's thread */
	char dummy_hash[PASSWORD_HASH_MAX + 1]; /* verified against for unknown users */
	/* Tests only (NULL otherwise): runs inside a blob upload between placing the file and
	 * committing its row, to put a collection pass exactly there (core/blobs.c). */
	void (*blob_test_hook)(struct core *c, const char *sha256);
	char public_url[512]; /* where links in mails point: core_set_public_url */
};

/* -ERR_NOMEM or -ERR_INVALID (the message in err). rl and mailer are set by the caller. */
int core_init(struct core *c, const struct config *cfg, struct store *store, char *err,
	      size_t errlen);

/* The address users reach the server at, for links in mails (server.public_url, or what
 * serve works out; trailing slashes dropped). The owner sets it after core_init. */
void core_set_public_url(struct core *c, const char *url);

/* How a command may treat the data directory (the store's modes: store.h). */
enum core_open_mode {
	CORE_CREATE,   /* serve: create the data directory if missing, migrate */
	CORE_MIGRATE,  /* cairn migrate: the directory must exist; migrate */
	CORE_EXISTING, /* every other command: it must exist and be current */
};
/* Opens the metadata store named by the configuration (readers: its read connections)
 * and, with blobs, the blob store, then core_init: the one way commands and the server
 * reach storage. Errors as store_open's and blobstore_open's, the reason in err; on
 * failure nothing stays open. */
int core_open(struct core *c, const struct config *cfg, enum core_open_mode mode, int readers,
	      bool blobs, char *err, size_t errlen);
/* The blob store, for a core opened without it. */
int core_open_blobs(struct core *c, char *err, size_t errlen);
/* Closes what core_open opened (the caller stops the workers first). */
void core_close(struct core *c);
/* The schema version the database is at. */
int core_schema_version(struct core *c, int *ret_version);
/* Whether the database answers (and is the one opened) and the blob store takes writes. */
void core_health(struct core *c, bool *ret_db_ok, bool *ret_blobs_ok);

/* Validation errors, collected so that a 400 names every bad field at once. */
#define VERR_MAX 8
struct verr {
	int n;
	struct {
		const char *field;
		char msg[160];
	} e[VERR_MAX];
	/* A sentence about this failure that replaces the protocol's default one, when a
	 * failure has particulars worth telling (which change holds a blob, where a cursor
	 * stopped being good). "" when none. */
	char detail[512];
};
void verr_add(struct verr *v, const char *field, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Field checks: each adds to v and returns false when the value is bad. NULL counts as
 * missing when required. */
bool check_username(struct verr *v, const char *field, const char *s, bool required);
bool check_email(struct verr *v, const char *field, const char *s, bool required);
bool check_password(struct verr *v, const char *field, const char *s);
/* Printable UTF-8 without control characters, 1..max bytes. */
bool check_text(struct verr *v, const char *field, const char *s, size_t max, bool required);
bool check_realm_name(struct verr *v, const char *field, const char *s);

/* Tokens: 256 random bits in base64url behind a prefix that says the kind. */
#define TOKEN_LEN 64
void token_new(const char *prefix, char out[TOKEN_LEN]);
void token_hash(const char *token, uint8_t out[32]);

/* argon2id with the configured cost. */
int password_hash(const struct core *c, const char *password, char out[PASSWORD_HASH_MAX + 1]);
/* Whether password is the one hash was made from: argon2id (libsodium's string form), or
 * bcrypt ($2a$, $2b$, $2y$: accounts imported from Verstak Sync). Any thread. */
bool password_verify(const char *hash, const char *password);
/* Whether hash is a bcrypt hash Cairn checks: of cost at most BCRYPT_COST_MAX. */
#define BCRYPT_COST_MAX 12
bool password_is_bcrypt(const char *hash);

/* --- configuration (the section and its values: util/config.h) --- */

struct limits_config {
	int64_t header_bytes;
	int64_t json_body_bytes;
	int64_t json_depth;
	int64_t json_values;
	int64_t auth_body_bytes;
	int64_t push_changes;
	int64_t push_blob_refs;
	int64_t push_stored_bytes;
	int64_t record_bytes;
	int64_t page;
	int64_t wait_ms;
};
CONFIG_SECTION_DECL(limits);

#endif
