/* The one table from domain errors to HTTP status, stable code and message.
 * Every code here is listed in docs/api.md; a test checks both agree. */
#ifndef CAIRN_API_ERROR_H
#define CAIRN_API_ERROR_H

enum api_error {
	AE_BAD_REQUEST,
	AE_INVALID_JSON,
	AE_JSON_TOO_DEEP,
	AE_VALIDATION,
	AE_CLOCK_SKEW,
	AE_BAD_ENCODING,
	AE_BAD_FRAMING,
	AE_UNAUTHORIZED,
	AE_FORBIDDEN,
	AE_NOT_FOUND,
	AE_METHOD_NOT_ALLOWED,
	AE_CONFLICT,
	AE_PRECONDITION_FAILED,
	AE_BODY_TOO_LARGE,
	AE_UNSUPPORTED_MEDIA_TYPE,
	AE_HEADERS_TOO_LARGE,
	AE_RATE_LIMITED,
	AE_INVALID_CREDENTIALS,
	AE_INVALID_TOKEN,
	AE_EMAIL_UNCONFIRMED,
	AE_ACCOUNT_DISABLED,
	AE_REGISTRATION_CLOSED,
	AE_ADMIN_REQUIRED,
	AE_WRONG_PASSWORD,
	AE_USERNAME_TAKEN,
	AE_EMAIL_TAKEN,
	AE_NAME_TAKEN,
	AE_INVALID_CODE,
	AE_CODE_EXPIRED,
	AE_HASH_MISMATCH,
	AE_QUOTA_EXCEEDED,
	AE_BLOB_MISSING,
	AE_BLOB_IN_USE,
	AE_LAST_OWNER,
	AE_RANGE_NOT_SATISFIABLE,
	AE_INTERNAL,
	AE_UNAVAILABLE,
	AE_NOT_IMPLEMENTED,
	AE__COUNT
};

struct api_error_def {
	unsigned status;
	const char *code;
	const char *message;
};

const struct api_error_def *api_error_get(enum api_error e);
/* The api error for a -ERR_* code from a lower layer. */
enum api_error api_error_from_err(int err);

#endif
