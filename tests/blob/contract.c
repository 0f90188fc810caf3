/* The blob store's contract (store/blob.h), run against a backend by name: the backend
 * CAIRN_TEST_BLOBS names (default "fs"), opened as cairn serve opens it, in a fresh data
 * directory. An S3 backend is done when it passes this unchanged: uploads placed only
 * once durable, readers (read_at always; a descriptor only as an extra), placing again
 * over a damaged copy, delete and list: all a backend needs (collection's marks live in
 * the metadata store). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/blob.h"
#include "util/config.h"
#include "util/err.h"
#include "cli/cli.h"

static struct config cfg;
static struct blobstore *bs;
static char dir[] = "/tmp/cairn-blob-contract-XXXXXX";

static int setup(void **state)
{
	(void)state;
	if (!mkdtemp(dir) || cairn_config_init(&cfg) < 0)
		return -1;
	free(CONFIG_MUT(&cfg, storage)->data_dir);
	CONFIG_MUT(&cfg, storage)->data_dir = strdup(dir);
	const char *b = getenv("CAIRN_TEST_BLOBS");
	if (b && *b) {
		free(CONFIG_MUT(&cfg, storage)->blobs);
		CONFIG_MUT(&cfg, storage)->blobs = strdup(b);
	}
	char err[256];
	if (blobstore_open(&cfg, &bs, err, sizeof err) < 0) {
		fprintf(stderr, "cannot open the %s blob store: %s\n", storage_cfg(&cfg)->blobs, err);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	blobstore_close(bs);
	config_free(&cfg);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void sha_hex(const void *data, size_t len, char out[BLOB_HEX_LEN + 1])
{
	unsigned char d[32];
	unsigned int n = 0;
	EVP_Digest(data, len, d, &n, EVP_sha256(), NULL);
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* Uploads data in pieces, as a request's chunks come. */
static void store_bytes(const void *data, size_t len, const char *sha)
{
	struct blob_tmp *t = NULL;
	assert_int_equal(bs->ops->tmp_open(bs, &t), 0);
	for (size_t off = 0; off < len; off += 7777) {
		size_t n = len - off < 7777 ? len - off : 7777;
		assert_int_equal(bs->ops->tmp_write(t, (const char *)data + off, n), 0);
	}
	assert_int_equal(bs->ops->tmp_sync(t, false), 0);
	assert_int_equal(bs->ops->tmp_place(t, sha, false), 0);
	bs->ops->tmp_free(t);
}

/* The blob's bytes, read through its reader in odd-sized steps, equal data. */
static void expect_bytes(const char *sha, const void *data, size_t len)
{
	struct blob_reader *rd = NULL;
	assert_int_equal(bs->ops->open(bs, sha, &rd), 0);
	assert_int_equal(rd->size, len);
	char *buf = malloc(len + 1);
	size_t got = 0;
	for (ssize_t n; (n = rd->ops->read_at(rd, got, buf + got, 5000)) > 0;)
		got += (size_t)n;
	assert_int_equal(got, len);
	assert_memory_equal(buf, data, len);
	/* reading from the middle, and past the end */
	if (len > 10) {
		assert_int_equal(rd->ops->read_at(rd, len - 10, buf, 100), 10);
		assert_memory_equal(buf, (const char *)data + len - 10, 10);
	}
	assert_int_equal(rd->ops->read_at(rd, len, buf, 10), 0);
	/* a descriptor, when offered, holds the same bytes from its start */
	int fd = blob_reader_take_fd(rd);
	if (fd >= 0) {
		assert_int_equal(pread(fd, buf, len, 0), (ssize_t)len);
		assert_memory_equal(buf, data, len);
		close(fd);
	}
	blob_reader_close(rd);
	free(buf);
}

static int count_name(void *arg, const struct blob_stat *st)
{
	const char **want = arg;
	if (!strcmp(st->sha256, want[0]))
		want[1] = st->sha256[0] ? "seen" : NULL;
	return 0;
}

static bool listed(const char *sha)
{
	const char *want[2] = { sha, NULL };
	assert_int_equal(bs->ops->list(bs, count_name, want), 0);
	return want[1] != NULL;
}

static void test_put_read_list(void **state)
{
	(void)state;
	size_t len = 300000;
	unsigned char *data = malloc(len);
	for (size_t i = 0; i < len; i++)
		data[i] = (unsigned char)(i * 7 + i / 251);
	char sha[BLOB_HEX_LEN + 1];
	sha_hex(data, len, sha);
	struct blob_reader *rd = NULL;
	assert_int_equal(bs->ops->open(bs, sha, &rd), -ERR_NOT_FOUND);
	store_bytes(data, len, sha);
	expect_bytes(sha, data, len);
	struct blob_stat st;
	assert_int_equal(bs->ops->stat(bs, sha, &st), 0);
	assert_int_equal(st.size, len);
	assert_true(listed(sha));
	/* the empty blob is a blob */
	char esha[BLOB_HEX_LEN + 1];
	sha_hex("", 0, esha);
	store_bytes("", 0, esha);
	expect_bytes(esha, "", 0);
	free(data);
}

/* An upload that is never placed leaves nothing readable or listed. */
static void test_unplaced_upload(void **state)
{
	(void)state;
	char sha[BLOB_HEX_LEN + 1];
	sha_hex("never placed", 12, sha);
	struct blob_tmp *t = NULL;
	assert_int_equal(bs->ops->tmp_open(bs, &t), 0);
	assert_int_equal(bs->ops->tmp_write(t, "never placed", 12), 0);
	bs->ops->tmp_free(t);
	struct blob_reader *rd = NULL;
	assert_int_equal(bs->ops->open(bs, sha, &rd), -ERR_NOT_FOUND);
	assert_false(listed(sha));
}

/* Delete: the bytes are gone, from reading and from listing; deleting what is not there
 * says so. */
static void test_delete(void **state)
{
	(void)state;
	const char *text = "collect me";
	char sha[BLOB_HEX_LEN + 1];
	sha_hex(text, strlen(text), sha);
	store_bytes(text, strlen(text), sha);
	assert_true(listed(sha));
	assert_int_equal(bs->ops->delete(bs, sha), 0);
	struct blob_reader *rd = NULL;
	assert_int_equal(bs->ops->open(bs, sha, &rd), -ERR_NOT_FOUND);
	struct blob_stat st;
	assert_int_equal(bs->ops->stat(bs, sha, &st), -ERR_NOT_FOUND);
	assert_false(listed(sha));
	assert_int_equal(bs->ops->delete(bs, sha), -ERR_NOT_FOUND);
	/* placed again after a delete, it is there again */
	store_bytes(text, strlen(text), sha);
	expect_bytes(sha, text, strlen(text));
}

/* Placing again replaces whatever holds the name (a damaged copy is repaired so). */
static void test_place_again_repairs(void **state)
{
	(void)state;
	const char *good = "the right bytes";
	char sha[BLOB_HEX_LEN + 1];
	sha_hex(good, strlen(good), sha);
	/* a wrong copy under the name, as a damaged disk would leave */
	store_bytes("damaged", 7, sha);
	store_bytes(good, strlen(good), sha);
	expect_bytes(sha, good, strlen(good));
}

static void test_check(void **state)
{
	(void)state;
	uint64_t free_bytes = 0;
	char detail[128];
	assert_int_equal(bs->ops->check(bs, &free_bytes, detail, sizeof detail), 0);
	assert_true(free_bytes > 0);
	assert_non_null(bs->ops->name);
}

/* A batch: bytes written out and placed lazily, made durable by one sync_all; each reads
 * back whole (what a crash between the steps may leave is the crash test's, in
 * tests/api/crash.test.mjs). */
static void test_lazy_batch(void **state)
{
	(void)state;
	enum { N = 5 };
	struct blob_tmp *t[N];
	char sha[N][BLOB_HEX_LEN + 1];
	char data[N][3000];
	for (int i = 0; i < N; i++) {
		memset(data[i], 'a' + i, sizeof data[i]);
		data[i][0] = (char)i;
		sha_hex(data[i], sizeof data[i], sha[i]);
		assert_int_equal(bs->ops->tmp_open(bs, &t[i]), 0);
		assert_int_equal(bs->ops->tmp_write(t[i], data[i], sizeof data[i]), 0);
		assert_int_equal(bs->ops->tmp_sync(t[i], true), 0);
	}
	assert_int_equal(bs->ops->sync_all(bs), 0);
	for (int i = 0; i < N; i++)
		assert_int_equal(bs->ops->tmp_place(t[i], sha[i], true), 0);
	assert_int_equal(bs->ops->sync_all(bs), 0);
	for (int i = 0; i < N; i++) {
		bs->ops->tmp_free(t[i]);
		expect_bytes(sha[i], data[i], sizeof data[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_put_read_list),
		cmocka_unit_test(test_unplaced_upload),
		cmocka_unit_test(test_delete),
		cmocka_unit_test(test_place_again_repairs),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_lazy_batch),
	};
	return cmocka_run_group_tests_name("blob store contract", tests, setup, teardown);
}
