/* Domain errors: what core's functions return besides util/err.h's generic codes. A
 * caller never has to look at fields or sentences to tell one failure from another: each
 * outcome a user can meet has its own code here, and each protocol maps every code, in
 * one table, to its own status, code and message (http/api_error.c for the native API,
 * which docs/api.md is checked against; a compat adapter's errors.c for its protocol).
 *
 * Codes continue util/err.h's numbering and are returned negated, like those. Of the
 * generic codes, core lets these reach its callers: ERR_NOMEM, ERR_IO, ERR_DB, ERR_BUSY
 * (machine failures), ERR_INVALID (validation: the fields are in the struct verr),
 * ERR_NOT_FOUND, ERR_CONFLICT (state moved on), ERR_TOO_LARGE (the sentence naming the
 * limit's key is the verr's first entry), ERR_DENIED (no right to do this to that),
 * ERR_QUOTA and ERR_MISMATCH (bytes that do not match their hash). */
#ifndef CAIRN_CORE_ERRORS_H
#define CAIRN_CORE_ERRORS_H

#include "../util/err.h"

enum core_error {
	ERR_BAD_CREDENTIALS = ERR__MAX, /* the username or password is wrong */
	ERR_TOKEN_INVALID,  /* unknown, revoked or already used (a refresh token reused) */
	ERR_TOKEN_EXPIRED,  /* an access token past its life: the client refreshes */
	ERR_UNCONFIRMED,    /* the e-mail address must be confirmed first */
	ERR_DISABLED,       /* the account is disabled */
	ERR_SIGNUP_CLOSED,  /* sign-up is closed in this realm */
	ERR_ADMIN_REQUIRED, /* only server admins may do this */
	ERR_WRONG_PASSWORD, /* the account's current password, given again, is wrong */
	ERR_CODE_INVALID,   /* a mailed code or link that is wrong or was used */
	ERR_CODE_EXPIRED,   /* a mailed code or link that expired or ran out of tries */
	ERR_RATE,           /* rate limited: the caller gets a retry-after in seconds */
	ERR_USERNAME_TAKEN,
	ERR_EMAIL_TAKEN,
	ERR_NAME_TAKEN,     /* a realm's name */
	ERR_ALREADY_MEMBER, /* adding a member who is one */
	ERR_LAST_OWNER,     /* the change would leave shared spaces with members but no owner */
	ERR_SOLE_OWNER,     /* the last owner of a space stepping down or leaving */
	ERR_KEY_EPOCH,      /* a key epoch not above the current, or not for exactly the members */
	ERR_OWN_ACCOUNT,    /* an admin deleting their own account (the account route does) */
	ERR_READ_ONLY,      /* a reader of the space tried to write to it */
	ERR_CURSOR_EXPIRED, /* a pull's cursor is pruned, past the head, or of another epoch */
	ERR_CLOCK_SKEW,     /* a client_ts too far ahead of the server's clock */
	ERR_BLOB_MISSING,   /* a change names a blob the caller cannot read */
	ERR_BLOB_IN_USE,    /* releasing a blob that a kept change of the caller's names */
	ERR_BLOCKED,        /* a message to a user who blocks the sender */
	ERR__CORE_MAX
};

/* A short English description of any code, generic or core's; never NULL. */
const char *core_err_str(int e);

#endif
