#include "api_error.h"

#include <stddef.h>

#include "../core/errors.h"

static const struct api_error_def table[AE__COUNT] = {
	[AE_BAD_REQUEST] = { 400, "bad_request", "The request is malformed." },
	[AE_INVALID_JSON] = { 400, "invalid_json", "The request body is not valid JSON." },
	[AE_JSON_TOO_DEEP] = { 400, "json_too_deep", "The JSON body is nested too deeply." },
	[AE_VALIDATION] = { 400, "validation_failed", "Some fields are invalid.", AEF_FIELDS },
	[AE_CLOCK_SKEW] = { 400, "clock_skew",
			    "A client_ts is ahead of the server's clock by more than it allows: "
			    "check the device's clock.", AEF_FIELDS },
	[AE_BAD_ENCODING] = { 400, "bad_encoding",
			      "The URL has a malformed percent-escape or an encoded NUL (%00)." },
	[AE_BAD_FRAMING] = { 400, "bad_framing",
			     "The request's length is ambiguous (its Content-Length or "
			     "Transfer-Encoding headers, or a malformed header name)." },
	[AE_UNAUTHORIZED] = { 401, "unauthorized", "Authentication is required.", AEF_CHALLENGE },
	[AE_FORBIDDEN] = { 403, "forbidden", "You are not allowed to do this." },
	[AE_NOT_FOUND] = { 404, "not_found", "There is nothing here." },
	[AE_METHOD_NOT_ALLOWED] = { 405, "method_not_allowed",
				    "This method is not allowed on this resource." },
	[AE_CONFLICT] = { 409, "conflict", "The request conflicts with the current state." },
	[AE_PRECONDITION_FAILED] = { 412, "precondition_failed",
				     "The resource has changed since you last read it." },
	[AE_BODY_TOO_LARGE] = { 413, "body_too_large", "The request body is too large.",
				AEF_SENTENCE },
	[AE_UNSUPPORTED_MEDIA_TYPE] = { 415, "unsupported_media_type",
					"The body must be JSON (Content-Type: application/json)." },
	[AE_HEADERS_TOO_LARGE] = { 431, "headers_too_large", "The request headers are too large." },
	[AE_RATE_LIMITED] = { 429, "rate_limited", "Too many requests; retry later." },
	[AE_INVALID_CREDENTIALS] = { 401, "invalid_credentials",
				     "The username or password is wrong.", AEF_CHALLENGE },
	[AE_INVALID_TOKEN] = { 401, "invalid_token",
			       "The token is unknown, expired, revoked or already used.",
			       AEF_CHALLENGE },
	[AE_EMAIL_UNCONFIRMED] = { 403, "email_unconfirmed",
				   "Confirm your e-mail address first: see the mail we sent." },
	[AE_ACCOUNT_DISABLED] = { 403, "account_disabled", "This account is disabled." },
	[AE_REGISTRATION_CLOSED] = { 403, "registration_closed",
				     "Sign-up is closed in this realm." },
	[AE_ADMIN_REQUIRED] = { 403, "admin_required", "Only server admins may do this." },
	[AE_WRONG_PASSWORD] = { 403, "wrong_password", "The password is wrong." },
	[AE_USERNAME_TAKEN] = { 409, "username_taken", "That username is taken." },
	[AE_EMAIL_TAKEN] = { 409, "email_taken", "That e-mail address is already used." },
	[AE_NAME_TAKEN] = { 409, "name_taken", "That name is taken." },
	[AE_INVALID_CODE] = { 400, "invalid_code", "The code or link is wrong or was already used." },
	[AE_CODE_EXPIRED] = { 400, "code_expired",
			      "The code has expired or has been tried too often; ask for a new one." },
	[AE_HASH_MISMATCH] = { 400, "hash_mismatch",
			       "The bytes do not match the SHA-256 they were sent under." },
	[AE_QUOTA_EXCEEDED] = { 413, "quota_exceeded", "This would exceed your storage quota." },
	[AE_LAST_OWNER] = { 409, "last_owner",
			    "The account is the last owner of shared spaces that have other members." },
	[AE_BLOB_IN_USE] = { 409, "blob_in_use",
			     "A change you pushed that is still kept names this blob." },
	[AE_BLOB_MISSING] = { 400, "blob_missing",
			      "A change names a blob you cannot read: upload it first.", AEF_FIELDS },
	[AE_CURSOR_EXPIRED] = { 410, "cursor_expired",
				"The cursor can no longer be pulled from: bootstrap from records." },
	[AE_RANGE_NOT_SATISFIABLE] = { 416, "range_not_satisfiable",
				       "The requested range is outside the content." },
	[AE_BLOCKED] = { 403, "blocked", "The recipient does not take messages from you." },
	[AE_BAD_PATH] = { 400, "bad_path",
			  "The path breaks a rule of file paths (the rule is named)." },
	[AE_INTERNAL] = { 500, "internal", "Something went wrong on the server." },
	[AE_UNAVAILABLE] = { 503, "unavailable", "The server cannot serve this right now." },
	[AE_NOT_IMPLEMENTED] = { 501, "not_implemented",
				 "The server does not support this (a transfer coding other than "
				 "chunked)." },
};

const struct api_error_def *api_error_get(enum api_error e)
{
	if ((unsigned)e >= AE__COUNT || e == AE__UNSET)
		e = AE_INTERNAL;
	return &table[e];
}

/* Every code core can return. A new core error is one line here (and one in each
 * adapter's table); test_http checks that every code has a row. */
static const struct api_error_map by_err[ERR__CORE_MAX] = {
	[ERR_OK] = { AE_INTERNAL, NULL },
	[ERR_NOMEM] = { AE_INTERNAL, NULL },
	[ERR_INVALID] = { AE_VALIDATION, NULL },
	[ERR_NOT_FOUND] = { AE_NOT_FOUND, NULL },
	[ERR_EXISTS] = { AE_CONFLICT, NULL },
	[ERR_CONFLICT] = { AE_CONFLICT, NULL },
	[ERR_TOO_LARGE] = { AE_BODY_TOO_LARGE, NULL },
	[ERR_DENIED] = { AE_FORBIDDEN, NULL },
	[ERR_IO] = { AE_INTERNAL, NULL },
	[ERR_DB] = { AE_INTERNAL, NULL },
	[ERR_BUSY] = { AE_UNAVAILABLE, NULL },
	[ERR_LOCKED] = { AE_UNAVAILABLE, NULL },
	[ERR_SCHEMA_NEWER] = { AE_INTERNAL, NULL },
	[ERR_SCHEMA_OLDER] = { AE_INTERNAL, NULL },
	[ERR_EXPIRED] = { AE_CODE_EXPIRED, NULL },
	[ERR_QUOTA] = { AE_QUOTA_EXCEEDED, NULL },
	[ERR_MISMATCH] = { AE_HASH_MISMATCH, NULL },
	[ERR_BAD_CREDENTIALS] = { AE_INVALID_CREDENTIALS, NULL },
	[ERR_TOKEN_INVALID] = { AE_INVALID_TOKEN, NULL },
	[ERR_TOKEN_EXPIRED] = { AE_INVALID_TOKEN, "The token has expired: refresh it." },
	[ERR_UNCONFIRMED] = { AE_EMAIL_UNCONFIRMED, NULL },
	[ERR_DISABLED] = { AE_ACCOUNT_DISABLED, NULL },
	[ERR_SIGNUP_CLOSED] = { AE_REGISTRATION_CLOSED, NULL },
	[ERR_ADMIN_REQUIRED] = { AE_ADMIN_REQUIRED, NULL },
	[ERR_WRONG_PASSWORD] = { AE_WRONG_PASSWORD, NULL },
	[ERR_CODE_INVALID] = { AE_INVALID_CODE, NULL },
	[ERR_CODE_EXPIRED] = { AE_CODE_EXPIRED, NULL },
	[ERR_RATE] = { AE_RATE_LIMITED, NULL },
	[ERR_USERNAME_TAKEN] = { AE_USERNAME_TAKEN, NULL },
	[ERR_EMAIL_TAKEN] = { AE_EMAIL_TAKEN, NULL },
	[ERR_NAME_TAKEN] = { AE_NAME_TAKEN, NULL },
	[ERR_ALREADY_MEMBER] = { AE_CONFLICT, "That user is already a member." },
	[ERR_LAST_OWNER] = { AE_LAST_OWNER, NULL },
	[ERR_SOLE_OWNER] = { AE_CONFLICT, "A space needs an owner: make another member owner "
					  "first, then step down or leave (or delete the space)." },
	[ERR_KEY_EPOCH] = { AE_CONFLICT, "A new epoch must be above the current one and carry a "
					 "key for every member, and for nobody else." },
	[ERR_OWN_ACCOUNT] = { AE_CONFLICT, "You cannot delete your own account here." },
	[ERR_READ_ONLY] = { AE_FORBIDDEN, "Readers cannot write to this space." },
	[ERR_CURSOR_EXPIRED] = { AE_CURSOR_EXPIRED, NULL },
	[ERR_CLOCK_SKEW] = { AE_CLOCK_SKEW, NULL },
	[ERR_BLOB_MISSING] = { AE_BLOB_MISSING, NULL },
	[ERR_BLOB_IN_USE] = { AE_BLOB_IN_USE, NULL },
	[ERR_BLOCKED] = { AE_BLOCKED, NULL },
};

struct api_error_map api_error_of(int err)
{
	unsigned e = (unsigned)(err < 0 ? -err : err);
	if (e >= ERR__CORE_MAX || e == 0 || by_err[e].ae == AE__UNSET)
		return (struct api_error_map){ AE_INTERNAL, NULL };
	return by_err[e];
}
