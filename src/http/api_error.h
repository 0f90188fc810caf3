/* The native API's errors: the catalogue of what its clients can be answered (status,
 * stable code, default sentence: every code is listed in docs/api.md, and a test checks
 * both agree), and the one table from core's errors (core/errors.h, util/err.h) to it.
 * A compat adapter has tables of its own; nothing else maps errors. */
#ifndef CAIRN_API_ERROR_H
#define CAIRN_API_ERROR_H

enum api_error {
	AE__UNSET, /* 0: a row of a table that was not filled in (answered as AE_INTERNAL) */
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
	AE_CURSOR_EXPIRED,
	AE_RANGE_NOT_SATISFIABLE,
	AE_BAD_PATH,
	AE_BLOCKED,
	AE_INTERNAL,
	AE_UNAVAILABLE,
	AE_NOT_IMPLEMENTED,
	AE__COUNT
};

/* How an answer carries more than its code and sentence. */
#define AEF_FIELDS 1u    /* the verr's entries go out as "fields" */
#define AEF_SENTENCE 2u  /* the verr's first entry is the sentence (it names a limit's key) */
#define AEF_CHALLENGE 4u /* a 401: WWW-Authenticate: Bearer */

struct api_error_def {
	unsigned status;
	const char *code;
	const char *message;
	unsigned flags; /* AEF_* */
};

const struct api_error_def *api_error_get(enum api_error e);

/* What a core error (negative or not) is answered on the native API: the catalogue entry
 * and the sentence for it (NULL: the entry's own). Machine failures and codes the table
 * does not know are AE_INTERNAL. */
struct api_error_map {
	enum api_error ae;
	const char *message;
};
struct api_error_map api_error_of(int err);

#endif
