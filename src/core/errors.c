#include "errors.h"

static const char *const names[ERR__CORE_MAX - ERR__MAX] = {
	[ERR_BAD_CREDENTIALS - ERR__MAX] = "wrong username or password",
	[ERR_TOKEN_INVALID - ERR__MAX] = "unknown, revoked or used token",
	[ERR_TOKEN_EXPIRED - ERR__MAX] = "expired token",
	[ERR_UNCONFIRMED - ERR__MAX] = "e-mail address not confirmed",
	[ERR_DISABLED - ERR__MAX] = "account disabled",
	[ERR_SIGNUP_CLOSED - ERR__MAX] = "sign-up closed",
	[ERR_ADMIN_REQUIRED - ERR__MAX] = "admin required",
	[ERR_WRONG_PASSWORD - ERR__MAX] = "wrong password",
	[ERR_CODE_INVALID - ERR__MAX] = "wrong or used code",
	[ERR_CODE_EXPIRED - ERR__MAX] = "expired code",
	[ERR_RATE - ERR__MAX] = "rate limited",
	[ERR_USERNAME_TAKEN - ERR__MAX] = "username taken",
	[ERR_EMAIL_TAKEN - ERR__MAX] = "e-mail address taken",
	[ERR_NAME_TAKEN - ERR__MAX] = "name taken",
	[ERR_ALREADY_MEMBER - ERR__MAX] = "already a member",
	[ERR_LAST_OWNER - ERR__MAX] = "last owner",
	[ERR_SOLE_OWNER - ERR__MAX] = "a space's last owner",
	[ERR_KEY_EPOCH - ERR__MAX] = "wrong key epoch or members",
	[ERR_OWN_ACCOUNT - ERR__MAX] = "one's own account",
	[ERR_READ_ONLY - ERR__MAX] = "read-only access",
	[ERR_CURSOR_EXPIRED - ERR__MAX] = "cursor expired",
	[ERR_CLOCK_SKEW - ERR__MAX] = "a client's time is too far ahead of the server's",
	[ERR_BLOB_MISSING - ERR__MAX] = "a referenced blob is missing",
	[ERR_BLOB_IN_USE - ERR__MAX] = "blob in use",
	[ERR_BLOCKED - ERR__MAX] = "blocked by the recipient",
};

const char *core_err_str(int e)
{
	if (e < 0)
		e = -e;
	if (e >= ERR__MAX && e < ERR__CORE_MAX && names[e - ERR__MAX])
		return names[e - ERR__MAX];
	return err_str(e);
}
