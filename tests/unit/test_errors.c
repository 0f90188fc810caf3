/* The one error path: every code core can return has a row in the native API's table
 * (http/api_error.c) and a description (core/errors.c); only machine failures are
 * answered 500; every catalogue entry has a status, a code and a sentence. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdbool.h>
#include <string.h>

#include "core/errors.h"
#include "http/api_error.h"

static void test_every_core_error_is_mapped(void **state)
{
	(void)state;
	for (int e = 1; e < ERR__CORE_MAX; e++) {
		struct api_error_map m = api_error_of(-e);
		bool machine = e == ERR_NOMEM || e == ERR_IO || e == ERR_DB ||
			       e == ERR_SCHEMA_NEWER || e == ERR_SCHEMA_OLDER;
		if (machine)
			assert_int_equal(m.ae, AE_INTERNAL);
		else if (m.ae == AE_INTERNAL)
			fail_msg("core error %d (%s) has no row in the native table", e,
				 core_err_str(e));
		assert_string_not_equal(core_err_str(-e), "unknown error");
		/* positive and negative codes answer the same */
		assert_int_equal(api_error_of(e).ae, m.ae);
	}
	assert_int_equal(api_error_of(-ERR__CORE_MAX).ae, AE_INTERNAL);
	/* an unfilled row is a 500, never some other catalogue entry by accident */
	assert_int_equal(api_error_get(AE__UNSET)->status, 500);
	assert_int_equal(api_error_of(-100000).ae, AE_INTERNAL);
}

static void test_catalogue_complete(void **state)
{
	(void)state;
	for (int e = AE__UNSET + 1; e < AE__COUNT; e++) {
		const struct api_error_def *d = api_error_get((enum api_error)e);
		assert_non_null(d->code);
		assert_non_null(d->message);
		assert_true(d->status >= 400 && d->status < 600);
		for (int k = AE__UNSET + 1; k < e; k++)
			assert_string_not_equal(api_error_get((enum api_error)k)->code, d->code);
	}
}

static void test_specific_answers(void **state)
{
	(void)state;
	/* what used to be told apart by field names or in handlers */
	assert_int_equal(api_error_of(-ERR_USERNAME_TAKEN).ae, AE_USERNAME_TAKEN);
	assert_int_equal(api_error_of(-ERR_EMAIL_TAKEN).ae, AE_EMAIL_TAKEN);
	assert_int_equal(api_error_of(-ERR_NAME_TAKEN).ae, AE_NAME_TAKEN);
	assert_int_equal(api_error_of(-ERR_WRONG_PASSWORD).ae, AE_WRONG_PASSWORD);
	assert_int_equal(api_error_of(-ERR_ADMIN_REQUIRED).ae, AE_ADMIN_REQUIRED);
	assert_int_equal(api_error_of(-ERR_CURSOR_EXPIRED).ae, AE_CURSOR_EXPIRED);
	assert_int_equal(api_error_get(AE_CURSOR_EXPIRED)->status, 410);
	assert_int_equal(api_error_of(-ERR_TOKEN_EXPIRED).ae, AE_INVALID_TOKEN);
	assert_non_null(api_error_of(-ERR_TOKEN_EXPIRED).message);
	assert_int_equal(api_error_of(-ERR_CODE_EXPIRED).ae, AE_CODE_EXPIRED);
	assert_int_equal(api_error_of(-ERR_BLOB_IN_USE).ae, AE_BLOB_IN_USE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_core_error_is_mapped),
		cmocka_unit_test(test_catalogue_complete),
		cmocka_unit_test(test_specific_answers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
