/* Records of the accounts part of the metadata store: realms, users, devices, tokens,
 * e-mail codes and the mail outbox. Plain structs with fixed-size strings, so a backend
 * can fill them without allocating. Times are milliseconds since the epoch. */
#ifndef CAIRN_STORE_ACCOUNTS_H
#define CAIRN_STORE_ACCOUNTS_H

#include <stdbool.h>
#include <stdint.h>

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

#endif
