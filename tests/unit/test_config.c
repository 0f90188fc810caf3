/* Configuration: parsing, precedence, origins, errors, the example file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/config.h"
#include "util/err.h"
#include "http/app.h"
#include "store/model.h"
#include "core/core.h"
#include "util/log.h"
#include "cli/cli.h"

static char tmpl[] = "/tmp/cairn-cfg-XXXXXX";

static const char *write_file(const char *text)
{
	static char path[64];
	snprintf(path, sizeof path, "%s", tmpl);
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

static void test_defaults(void **state)
{
	(void)state;
	struct config c;
	assert_int_equal(cairn_config_init(&c), 0);
	assert_string_equal(server_cfg(&c)->listen, "127.0.0.1:8080");
	assert_string_equal(storage_cfg(&c)->data_dir, "./data");
	assert_int_equal(server_cfg(&c)->connection_memory, 16 * 1024);
	assert_int_equal(server_cfg(&c)->header_timeout_ms, 10000);
	assert_int_equal(limits_cfg(&c)->json_body_bytes, 16 * 1024 * 1024);
	assert_true(log_cfg(&c)->access);
	assert_int_equal((*config_origin(&c, &log_section, "level")).kind, ORIGIN_DEFAULT);
	assert_int_equal(config_validate(&c, (char[64]){ 0 }, 64), 0);
	config_free(&c);
}

static void test_precedence(void **state)
{
	(void)state;
	struct config c;
	char err[256] = "";
	const char *path = write_file("; comment\n[log]\nlevel = warn\nformat = json\n"
				      "[server]\nlisten = 0.0.0.0:9000\nidle_timeout = 2m\n");
	assert_int_equal(cairn_config_init(&c), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof err), 0);
	assert_string_equal(log_cfg(&c)->level, "warn");
	assert_int_equal(server_cfg(&c)->idle_timeout_ms, 120000);
	assert_int_equal((*config_origin(&c, &log_section, "level")).kind, ORIGIN_FILE);
	char where[200];
	snprintf(where, sizeof where, "%s:3", path);
	assert_string_equal((*config_origin(&c, &log_section, "level")).where, where);

	char *env[] = { "PATH=/bin", "CAIRN_LOG_LEVEL=debug", "CAIRN_SERVER_LISTEN=127.0.0.1:1",
			"CAIRN_CONFIG=/ignored", NULL };
	assert_int_equal(config_load_env(&c, env, err, sizeof err), 0);
	assert_string_equal(log_cfg(&c)->level, "debug");
	assert_int_equal((*config_origin(&c, &log_section, "level")).kind, ORIGIN_ENV);
	assert_string_equal((*config_origin(&c, &log_section, "level")).where, "CAIRN_LOG_LEVEL");
	assert_string_equal(log_cfg(&c)->format, "json"); /* file value kept */

	assert_int_equal(config_set_flag(&c, "--log-level", "error", err, sizeof err), 0);
	assert_string_equal(log_cfg(&c)->level, "error");
	assert_int_equal((*config_origin(&c, &log_section, "level")).kind, ORIGIN_FLAG);
	assert_int_equal(config_set_flag(&c, "--nope", "x", err, sizeof err), -ERR_NOT_FOUND);

	FILE *f = tmpfile();
	config_print(&c, f);
	rewind(f);
	char out[8192] = "";
	size_t n = fread(out, 1, sizeof out - 1, f);
	out[n] = '\0';
	fclose(f);
	assert_non_null(strstr(out, "level = error    ; flag --log-level"));
	assert_non_null(strstr(out, "format = json    ; file "));
	assert_non_null(strstr(out, "listen = 127.0.0.1:1    ; environment CAIRN_SERVER_LISTEN"));
	assert_non_null(strstr(out, "data_dir = ./data    ; default"));
	config_free(&c);
	unlink(path);
}

static void expect_file_error(const char *text, const char *needle)
{
	struct config c;
	char err[512] = "";
	const char *path = write_file(text);
	assert_int_equal(cairn_config_init(&c), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof err), -ERR_INVALID);
	if (!strstr(err, needle))
		fail_msg("error '%s' does not contain '%s'", err, needle);
	assert_non_null(strstr(err, path));
	config_free(&c);
	unlink(path);
}

static void test_file_errors(void **state)
{
	(void)state;
	expect_file_error("[server]\nlisten = 1.2.3.4:80\nlsten = x\n", ":3: unknown key 'lsten'");
	expect_file_error("[srv]\nlisten = 1\n", ":2: unknown section [srv]");
	expect_file_error("listen = 1\n", "outside any [section]");
	expect_file_error("[server]\nthreads = many\n", ":2: server.threads must be a whole number");
	expect_file_error("[server]\nthreads = 9999\n", "between 0 and 256");
	expect_file_error("[server]\nlisten = nohost\n", "must be HOST:PORT");
	/* a NUL would end a value where the file does not: refused, with its line */
	{
		char path[] = "/tmp/cairn-nul-XXXXXX";
		int fd = mkstemp(path);
		static const char text[] = "[log]\nlevel = debug\0junk\n";
		assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
		close(fd);
		struct config c;
		char err[512] = "";
		assert_int_equal(cairn_config_init(&c), 0);
		assert_int_equal(config_load_file(&c, path, err, sizeof err), -ERR_INVALID);
		assert_non_null(strstr(err, ":2: the line holds a NUL byte"));
		/* a directory or a device is no configuration file (/dev/zero never ends) */
		assert_int_equal(config_load_file(&c, "/tmp", err, sizeof err), -ERR_INVALID);
		assert_non_null(strstr(err, "not a regular file"));
		assert_int_equal(config_load_file(&c, "/dev/zero", err, sizeof err), -ERR_INVALID);
		assert_non_null(strstr(err, "not a regular file"));
		config_free(&c);
		unlink(path);
	}
	/* numbers are digits (a minus at most); strings hold no control characters */
	expect_file_error("[server]\nthreads = +5\n", "server.threads must be a whole number");
	expect_file_error("[server]\nthreads =  -x\n", "server.threads must be a whole number");
	expect_file_error("[server]\nlisten = 1.2.3.4:70000\n", "must be HOST:PORT");
	expect_file_error("[log]\nlevel = loud\n", "one of debug|info|warn|error");
	expect_file_error("[log]\naccess = maybe\n", "true or false");
	expect_file_error("[limits]\njson_body_bytes = 12XB\n", "a size such as");
	expect_file_error("[limits]\njson_body_bytes = 10\n", "between 1KiB and 1GiB");
	expect_file_error("[server]\nheader_timeout = 5 weeks\n", "a duration such as");
	expect_file_error("[server]\nthis line has no equals sign\n", ":2:");

	char err[256];
	struct config c;
	assert_int_equal(cairn_config_init(&c), 0);
	assert_int_equal(config_load_file(&c, "/nonexistent/cairn.conf", err, sizeof err),
			 -ERR_INVALID);
	assert_non_null(strstr(err, "cannot open"));
	config_free(&c);
}

static void test_env_errors(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	assert_int_equal(cairn_config_init(&c), 0);
	char *env1[] = { "CAIRN_LOG_LEVL=debug", NULL };
	assert_int_equal(config_load_env(&c, env1, err, sizeof err), -ERR_INVALID);
	assert_non_null(strstr(err, "CAIRN_LOG_LEVL"));
	char *env3[] = { "CAIRN_MAIL_FROM=a@b\nBcc: x@y", NULL };
	assert_int_equal(config_load_env(&c, env3, err, sizeof err), -ERR_INVALID);
	assert_non_null(strstr(err, "control characters"));
	char *env4[] = { "CAIRN_SERVER_THREADS= 5", NULL };
	assert_int_equal(config_load_env(&c, env4, err, sizeof err), -ERR_INVALID);
		char *env2[] = { "CAIRN_SERVER_MAX_CONNECTIONS=0", NULL };
	assert_int_equal(config_load_env(&c, env2, err, sizeof err), -ERR_INVALID);
	assert_non_null(strstr(err, "CAIRN_SERVER_MAX_CONNECTIONS"));
	config_free(&c);
}

static void test_cross_rules(void **state)
{
	(void)state;
	struct config c;
	char err[256];
	assert_int_equal(cairn_config_init(&c), 0);
	char *env[] = { "CAIRN_LIMITS_HEADER_BYTES=64KiB", NULL };
	assert_int_equal(config_load_env(&c, env, err, sizeof err), 0);
	assert_int_equal(config_validate(&c, err, sizeof err), -ERR_INVALID);
	assert_non_null(strstr(err, "connection_memory"));
	config_free(&c);
}

static void test_parsers(void **state)
{
	(void)state;
	int64_t v;
	assert_int_equal(config_parse_size("16KiB", &v), 0);
	assert_int_equal(v, 16384);
	assert_int_equal(config_parse_size("3M", &v), 0);
	assert_int_equal(v, 3 * 1024 * 1024);
	assert_int_equal(config_parse_size("1024", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(config_parse_size("-1", &v), -ERR_INVALID);
	assert_int_equal(config_parse_size("", &v), -ERR_INVALID);
	assert_int_equal(config_parse_size("99999999999999999999GiB", &v), -ERR_INVALID);
	assert_int_equal(config_parse_size("9999999999999GiB", &v), -ERR_INVALID);
	assert_int_equal(config_parse_duration_ms("500ms", &v), 0);
	assert_int_equal(v, 500);
	assert_int_equal(config_parse_duration_ms("7", &v), 0);
	assert_int_equal(v, 7000);
	assert_int_equal(config_parse_duration_ms("2h", &v), 0);
	assert_int_equal(v, 7200000);
	assert_int_equal(config_parse_duration_ms("1y", &v), -ERR_INVALID);

	char host[64];
	int port;
	assert_int_equal(config_split_addr("[::1]:8080", host, sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 8080);
	assert_int_equal(config_split_addr("localhost:0", host, sizeof host, &port), 0);
	assert_int_equal(port, 0);
	assert_int_equal(config_split_addr("::1:80", host, sizeof host, &port), -ERR_INVALID);
	assert_int_equal(config_split_addr(":80", host, sizeof host, &port), -ERR_INVALID);
	assert_int_equal(config_split_addr("h:", host, sizeof host, &port), -ERR_INVALID);
	assert_int_equal(config_split_addr("h:8x", host, sizeof host, &port), -ERR_INVALID);
}

/* The example file `cairn init` writes must load cleanly and change nothing. */
static void test_example_roundtrip(void **state)
{
	(void)state;
	char path[] = "/tmp/cairn-example-XXXXXX";
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");
	struct config c, d;
	assert_int_equal(cairn_config_init(&c), 0);
	config_write_example(&c, f);
	fclose(f);
	char err[256] = "";
	assert_int_equal(cairn_config_init(&d), 0);
	assert_int_equal(config_load_file(&c, path, err, sizeof err), 0);
	size_t keys = 0;
	for (size_t s = 0; s < c.nsections; s++)
		for (size_t k = 0; k < c.sections[s]->nkeys; k++, keys++)
			assert_int_equal(c.origins[s][k].kind, ORIGIN_FILE);
	assert_true(keys >= 50);
	assert_string_equal(server_cfg(&c)->listen, server_cfg(&d)->listen);
	assert_int_equal(limits_cfg(&c)->json_body_bytes, limits_cfg(&d)->json_body_bytes);
	assert_int_equal(server_cfg(&c)->shutdown_timeout_ms, server_cfg(&d)->shutdown_timeout_ms);
	config_free(&c);
	config_free(&d);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),       cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_file_errors),    cmocka_unit_test(test_env_errors),
		cmocka_unit_test(test_cross_rules),    cmocka_unit_test(test_parsers),
		cmocka_unit_test(test_example_roundtrip),
	};
	return cmocka_run_group_tests_name("config", tests, NULL, NULL);
}
