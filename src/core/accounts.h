/* Accounts: registration, e-mail confirmation, sessions bound to devices, refresh with
 * reuse detection, password change and reset, account deletion, public keys, devices,
 * long-lived tokens, and the administration of users and realms.
 *
 * Every function returns 0 or a negative ERR_*: -ERR_INVALID with the bad fields in ve,
 * -ERR_AUTH for wrong credentials, -ERR_RATE with *ret_retry seconds, -ERR_EXISTS with the
 * taken field in ve, and the others as err.h says. `addr` is the client's address, for
 * rate limits. */
#ifndef CAIRN_ACCOUNTS_H
#define CAIRN_ACCOUNTS_H

#include "core.h"
#include "../util/config.h"

struct session {
	char access[TOKEN_LEN];
	char refresh[TOKEN_LEN];
	int64_t expires_in; /* seconds the access token lives */
	struct principal p;
};

struct register_in {
	const char *username, *password, *email, *realm, *name, *addr;
};

struct login_in {
	const char *login, *password, *realm, *addr;
	const char *device_name, *platform, *client_version;
	int64_t device_id; /* 0: a new device */
};

struct reset_in {
	const char *login, *realm, *code, *token, *new_password, *addr;
};

/* A user moved from another server (cairn import verstak): u as it is to be stored, its
 * username and address checked; its password_hash kept when it is bcrypt, else replaced by
 * one of a password nobody knows (*ret_reset: the user must reset it by mail).
 * -ERR_INVALID, -ERR_USERNAME_TAKEN, -ERR_EMAIL_TAKEN with ve. */
int acct_import_user(struct core *c, struct user *u, bool *ret_reset, struct verr *ve);
int acct_register(struct core *c, const struct register_in *in, struct user *ret_user,
		  struct realm *ret_realm, struct verr *ve, int *ret_retry);
int acct_login(struct core *c, const struct login_in *in, struct session *ret, struct verr *ve,
	       int *ret_retry);
int acct_refresh(struct core *c, const char *refresh_token, const char *addr, struct session *ret,
		 int *ret_retry);
/* The same without the credential rate limit (a refresh token is 256 random bits: no
 * guessing to slow down; clients that refresh before every call would hit it), for a
 * token of realm_id only (0: any), checked before the token is used up. */
int acct_refresh_in(struct core *c, const char *refresh_token, int64_t realm_id,
		    struct session *ret);
/* Counts one credential request against the address (ratelimit.per_address): -ERR_RATE
 * with *ret_retry seconds past it. */
int acct_limit_address(struct core *c, const char *addr, int *ret_retry);
/* A bearer token to its principal: -ERR_AUTH (unknown, revoked, not an access or
 * long-lived token), -ERR_EXPIRED (an access token past its time: refresh it) or
 * -ERR_DISABLED (the account is disabled; its tokens work again once it is enabled). */
int acct_authenticate(struct core *c, const char *token, struct principal *ret);
int acct_logout(struct core *c, const struct principal *p);

int acct_confirm_token(struct core *c, const char *token, const char *addr, int *ret_retry);
int acct_confirm_code(struct core *c, const char *login, const char *realm, const char *code,
		      const char *addr, struct verr *ve, int *ret_retry);
/* Always succeeds for valid input; the mail goes out later if the account exists. */
int acct_forgot(struct core *c, const char *login, const char *realm, const char *addr,
		struct verr *ve, int *ret_retry);
int acct_reset(struct core *c, const struct reset_in *in, struct verr *ve, int *ret_retry);
/* Whether a reset token from a mail's link still works, without using it or counting a
 * try (the page at the link asks first): 0, -ERR_NOT_FOUND, -ERR_EXPIRED, or -ERR_RATE
 * (*ret_retry seconds) past the per-address credential limit. */
int acct_reset_link(struct core *c, const char *token, const char *addr, int *ret_retry);

int acct_change_password(struct core *c, const struct principal *p, const char *current,
			 const char *new_password, struct verr *ve);
/* The shared spaces an account's deletion would leave without an owner: the first few
 * named, all counted. */
struct orphaned {
	int n, total;
	struct {
		int64_t id;
		char name[NAME_MAX_BYTES + 1];
	} v[8];
};
/* Within core (sign-up and administration share them): stores u, its fields checked,
 * with password hashed, or (password NULL: an import) with the hash u carries
 * (-ERR_EXISTS naming the taken field in ve); deletes a user, refused
 * as acct_delete says, ending their sessions' waits and streams. */
int acct_create_user(struct core *c, struct user *u, const char *password, struct verr *ve);
int acct_delete_user(struct core *c, int64_t id, struct orphaned *o);
/* Deletes the caller's account (their password again): -ERR_DENIED for a wrong one;
 * -ERR_CONFLICT with o filled when they are the last owner of shared spaces that have
 * other members (hand them over or delete them first). */
int acct_delete(struct core *c, const struct principal *p, const char *password,
		struct verr *ve, struct orphaned *o);
int acct_set_public_key(struct core *c, const struct principal *p, const char *key,
			struct verr *ve);
/* *ret is malloc'd. Users of other realms are not found. */
int acct_get_public_key(struct core *c, const struct principal *p, const char *username,
			char **ret);

int acct_device_rename(struct core *c, const struct principal *p, int64_t id, const char *name,
		       struct verr *ve);
int acct_device_revoke(struct core *c, int64_t user_id, int64_t id);
/* The user's devices (revoked ones too) in id order; one device of theirs
 * (-ERR_NOT_FOUND when it is another's). List callbacks may not call core. */
int acct_devices_list(struct core *c, int64_t user_id,
		      int (*cb)(void *arg, const struct device *d), void *arg);
int acct_device_get(struct core *c, int64_t user_id, int64_t id, struct device *ret);
/* A device with a long-lived token for user_id (shown once in out). */
int acct_token_create(struct core *c, int64_t user_id, const char *name, char out[TOKEN_LEN],
		      struct device *ret_device, struct verr *ve);
/* A device with a long-lived token known only by its SHA-256 (a token another server
 * issued, moved by an import, so that its client keeps working): -ERR_EXISTS when a token
 * of that hash is there already. */
int acct_token_import(struct core *c, int64_t user_id, const char *name,
		      const char *client_version, const uint8_t hash[32], struct device *ret_device,
		      struct verr *ve);
/* The same, recording the client's version (NULL: none; at most PLATFORM_MAX bytes). */
int acct_token_create_for(struct core *c, int64_t user_id, const char *name,
			  const char *client_version, char out[TOKEN_LEN],
			  struct device *ret_device, struct verr *ve);

/* Sign-up for protocols whose account creation answers with a long-lived token
 * (MigChat): registers in->username with in->password in in->realm as acct_register does
 * (its sign-up policy and rate limits), then makes a device called device_name with a
 * long-lived token (shown once in out). When the username is taken and in->password is
 * its owner's, a new token is made for that user instead (*ret_existing true): such a
 * protocol has no other way to log in again. A wrong password is -ERR_USERNAME_TAKEN, as
 * if no password had been tried; the attempt counts against the rate limits as a login
 * does. A realm that wants an e-mail address is -ERR_INVALID with "email" in ve. */
int acct_token_signup(struct core *c, const struct register_in *in, const char *device_name,
		      char out[TOKEN_LEN], struct user *ret_user, bool *ret_existing,
		      struct verr *ve, int *ret_retry);
/* Whether login (a username or address) and password are a user's of realm, as a login
 * checks them (rate limits, the same cost for an unknown user), without a session:
 * 0 with *ret, -ERR_BAD_CREDENTIALS, -ERR_RATE. */
int acct_check_credentials(struct core *c, const char *realm, const char *login,
			   const char *password, const char *addr, struct user *ret,
			   int *ret_retry);
/* The caller's password, given again (-ERR_WRONG_PASSWORD), counted against the rate
 * limits as a login is. */
int acct_verify_password(struct core *c, const struct principal *p, const char *password,
			 const char *addr, int *ret_retry);
/* Gives the caller a new username (the same rules as at sign-up; -ERR_USERNAME_TAKEN
 * when another user of the realm has it in any case); *ret is the user after. Their
 * tokens stay valid. Messages keep the sender's name as it was when they were sent in
 * their data; listings name users as they are called now. */
int acct_rename(struct core *c, const struct principal *p, const char *username,
		struct user *ret, struct verr *ve);

/* Administration. Each checks that p is a server admin (-ERR_DENIED) when p is not NULL;
 * the command line passes NULL. */
struct user_in {
	const char *username, *password, *email, *realm, *name;
	int is_admin, disabled, email_confirmed; /* -1: unchanged / default */
};
int admin_user_create(struct core *c, const struct principal *p, const struct user_in *in,
		      struct user *ret, struct verr *ve);
int admin_user_update(struct core *c, const struct principal *p, int64_t id,
		      const struct user_in *in, struct user *ret, struct verr *ve);
/* -ERR_CONFLICT with o->total 0: an admin deleting themselves (use the account route);
 * with o->total > 0: as acct_delete. */
int admin_user_delete(struct core *c, const struct principal *p, int64_t id,
		      struct orphaned *o);
struct realm_in {
	const char *name, *display_name;
	int signup_open, confirm_email; /* -1: unchanged / default */
	int64_t access_ttl_s, refresh_ttl_s; /* 0: unchanged / default */
};
int admin_realm_create(struct core *c, const struct principal *p, const struct realm_in *in,
		       struct realm *ret, struct verr *ve);
int admin_realm_update(struct core *c, const struct principal *p, const char *name,
		       const struct realm_in *in, struct realm *ret, struct verr *ve);
/* Creates the admin from the configuration if no admin exists yet. */
int admin_bootstrap(struct core *c, const char *username, const char *password, char *err,
		    size_t errlen);

/* Resolves a realm by name ("default" when NULL or ""); -ERR_INVALID with ve on none. */
int acct_realm(struct core *c, const char *name, struct realm *ret, struct verr *ve);

/* Reading for administration (p NULL: the operator at the command line; otherwise
 * -ERR_ADMIN_REQUIRED unless p is a server admin). List callbacks may not call core. */
int admin_realms_list(struct core *c, const struct principal *p,
		      int (*cb)(void *arg, const struct realm *r), void *arg);
int admin_realm_by_id(struct core *c, const struct principal *p, int64_t id, struct realm *ret);
/* Users of a realm (0: every realm) whose name or address contains q ("" or NULL: all),
 * with id > after_id, in id order, at most limit. */
int admin_users_list(struct core *c, const struct principal *p, int64_t realm_id, const char *q,
		     int64_t after_id, int limit, int (*cb)(void *arg, const struct user *u),
		     void *arg);
int admin_user_get(struct core *c, const struct principal *p, int64_t id, struct user *ret);
/* By lower-cased username or e-mail address in a realm. */
int admin_user_find(struct core *c, const struct principal *p, int64_t realm_id,
		    const char *login, struct user *ret);
int admin_stats(struct core *c, const struct principal *p, struct store_stats *ret);

/* --- configuration (the section and its values: util/config.h) --- */

struct auth_config {
	int64_t password_memory;
	int64_t password_passes;
};
CONFIG_SECTION_DECL(auth);

struct ratelimit_config {
	int64_t per_address;
	int64_t per_account;
};
CONFIG_SECTION_DECL(ratelimit);

struct admin_config {
	char *user;
	char *password;
};
CONFIG_SECTION_DECL(admin);

#endif
