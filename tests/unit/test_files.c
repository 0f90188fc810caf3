/* The pure parts of file sync (core/files): path rules and their normal form, the
 * content-defined chunker, manifests read and written. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "core/files/cdc.h"
#include "core/files/fpath.h"
#include "core/files/manifest.h"
#include "util/err.h"

/* --- paths --- */

static int norm(const char *in, char *out, const char **rule)
{
	const char *why;
	*rule = "";
	return fpath_normalize(in, strlen(in), out, rule, &why);
}

static void expect_refused(const char *in, const char *want_rule)
{
	char out[FPATH_MAX + 1];
	const char *rule;
	assert_int_equal(norm(in, out, &rule), -1);
	assert_string_equal(rule, want_rule);
}

static void test_paths_normalise_to_nfc(void **state)
{
	(void)state;
	char out[FPATH_MAX + 1];
	const char *rule;
	/* "e" and a combining acute (NFD, as macOS writes it) become one U+00E9 */
	assert_int_equal(norm("docs/caf\x65\xcc\x81.txt", out, &rule), 0);
	assert_string_equal(out, "docs/caf\xc3\xa9.txt");
	assert_int_equal(norm("a/b c/d.e", out, &rule), 0);
	assert_string_equal(out, "a/b c/d.e");
	/* backslashes, quotes and dots inside names are names */
	assert_int_equal(norm("a\\b/\"q\"/...", out, &rule), 0);
}

static void test_paths_break_rules_by_name(void **state)
{
	(void)state;
	expect_refused("", "empty");
	expect_refused("/a", "segment_empty");
	expect_refused("a/", "segment_empty");
	expect_refused("a//b", "segment_empty");
	expect_refused("a/./b", "dot_segment");
	expect_refused("..", "dot_segment");
	expect_refused("a/..", "dot_segment");
	expect_refused("a\tb", "control");
	expect_refused("a\x7f", "control");
	expect_refused("a\xc2\x85", "control"); /* U+0085, a C1 control */
	expect_refused("a\xff", "utf8");
	expect_refused("a\xc0\xaf", "utf8");     /* an overlong '/' */
	expect_refused("a\xed\xa0\x80", "utf8"); /* a surrogate */
	char out[FPATH_MAX + 1];
	const char *rule, *why;
	assert_int_equal(fpath_normalize("a\0b", 3, out, &rule, &why), -1);
	assert_string_equal(rule, "control");
}

static void test_paths_limits_apply_to_the_normal_form(void **state)
{
	(void)state;
	char in[3 * FPATH_MAX + 8], out[FPATH_MAX + 1];
	const char *rule;
	memset(in, 'x', 255);
	in[255] = '\0';
	assert_int_equal(norm(in, out, &rule), 0);
	memset(in, 'x', 256);
	in[256] = '\0';
	expect_refused(in, "segment_too_long");
	/* 4096 bytes in segments of 127 and '/' */
	size_t n = 0;
	for (; n < FPATH_MAX; n++)
		in[n] = (n % 128 == 127) ? '/' : 'y';
	in[FPATH_MAX - 1] = 'z';
	in[FPATH_MAX] = '\0';
	assert_int_equal(norm(in, out, &rule), 0);
	in[FPATH_MAX] = 'z';
	in[FPATH_MAX + 1] = '\0';
	expect_refused(in, "too_long");
	/* 1400 NFD "é" (3 bytes each, 4200 bytes) are 2800 bytes in NFC: accepted, and the
	 * result is the NFC length */
	n = 0;
	for (int i = 0; i < 1400; i++) {
		memcpy(in + n, "\x65\xcc\x81", 3);
		n += 3;
		if (i % 80 == 79)
			in[n++] = '/';
	}
	in[n] = '\0';
	assert_true(n > FPATH_MAX);
	assert_int_equal(norm(in, out, &rule), 0);
	assert_int_equal(strlen(out), 1400 * 2 + 17);
}

static void test_path_ids_folds_and_prefixes(void **state)
{
	(void)state;
	char id[FPATH_ID_LEN + 1];
	fpath_id("a", id); /* SHA-256 of "a" */
	assert_string_equal(id, "ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785afee48bb");
	char f1[FPATH_FOLD_MAX + 1], f2[FPATH_FOLD_MAX + 1];
	assert_int_equal(fpath_fold("Docs/Readme.TXT", f1), 0);
	assert_int_equal(fpath_fold("docs/README.txt", f2), 0);
	assert_string_equal(f1, f2);
	assert_int_equal(fpath_fold("Stra\xc3\x9f" "e", f1), 0); /* full folding: ß is ss */
	assert_int_equal(fpath_fold("STRASSE", f2), 0);
	assert_string_equal(f1, f2);
	assert_int_equal(fpath_fold("a/b", f1), 0);
	assert_int_equal(fpath_fold("a/c", f2), 0);
	assert_string_not_equal(f1, f2);
	assert_true(fpath_under("a/b", "a"));
	assert_true(fpath_under("a/b/c", "a/b"));
	assert_false(fpath_under("ab", "a"));
	assert_false(fpath_under("a", "a"));
	assert_true(fpath_under("x", ""));
}

static void test_conflict_copy_names(void **state)
{
	(void)state;
	char out[FPATH_MAX + 1];
	int64_t ms = 1796048212345; /* 2026-11-30T14:16:52.345Z */
	assert_int_equal(fpath_conflict_name("docs/report.pdf", "laptop", ms, 1, out), 0);
	assert_string_equal(out, "docs/report (conflict from laptop 2026-11-30 141652).pdf");
	assert_int_equal(fpath_conflict_name("docs/report.pdf", "laptop", ms, 3, out), 0);
	assert_string_equal(out, "docs/report (conflict from laptop 2026-11-30 141652 3).pdf");
	assert_int_equal(fpath_conflict_name(".bashrc", "a/b\x01", ms, 1, out), 0);
	assert_string_equal(out, ".bashrc (conflict from a_b_ 2026-11-30 141652)");
	assert_int_equal(fpath_conflict_name("dir.d/Makefile", "", ms, 1, out), 0);
	assert_string_equal(out, "dir.d/Makefile (conflict 2026-11-30 141652)");
	/* a last segment that cannot grow */
	char longname[300];
	memset(longname, 'n', 250);
	memcpy(longname + 250, ".txt", 5);
	assert_int_equal(fpath_conflict_name(longname, "laptop", ms, 1, out), -1);
}

/* --- chunking --- */

#define T_MIN 2048
#define T_AVG 8192
#define T_MAX 32768

/* Cuts data into chunks, fed in pieces of the given sizes (cycled); the chunks' sizes go
 * to sizes, their count returned. */
static int chunk_all(const uint8_t *data, size_t n, const size_t *pieces, int npieces,
		     size_t *sizes, int max)
{
	struct cdc c;
	cdc_init(&c, T_MIN, T_AVG, T_MAX);
	int k = 0, p = 0;
	size_t cur = 0, at = 0;
	while (at < n) {
		size_t piece = pieces[p++ % npieces];
		if (piece > n - at)
			piece = n - at;
		size_t off = 0;
		while (off < piece) {
			bool cut;
			size_t used = cdc_next(&c, data + at + off, piece - off, &cut);
			off += used;
			cur += used;
			if (cut) {
				assert_true(k < max);
				sizes[k++] = cur;
				cur = 0;
			}
		}
		at += piece;
	}
	if (cur) {
		assert_true(k < max);
		sizes[k++] = cur;
	}
	return k;
}

static uint8_t *random_bytes(size_t n, uint64_t seed)
{
	uint8_t *d = malloc(n);
	assert_non_null(d);
	for (size_t i = 0; i < n; i++) {
		seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
		d[i] = (uint8_t)(seed >> 56);
	}
	return d;
}

static void test_cdc_gear_table_is_pinned(void **state)
{
	(void)state;
	/* The table is part of the format: changing it changes every cut, and the chunks
	 * stored before stop matching. The values were computed apart from this code, by the
	 * three SplitMix64 steps written out in Python. */
	const uint64_t *g = cdc_gear();
	assert_true(g[0] == 0xe36329e56007990aULL);
	assert_true(g[255] == 0x811e030094e3b47dULL);
	uint64_t x = 0;
	for (int i = 0; i < 256; i++)
		x ^= g[i] * (uint64_t)(i + 1);
	assert_true(x == 0xdf9cd773870b6f27ULL);
}

static void test_cdc_cuts_do_not_depend_on_how_bytes_arrive(void **state)
{
	(void)state;
	size_t n = 4 << 20;
	uint8_t *d = random_bytes(n, 1);
	size_t whole[2048], split[2048];
	size_t all[] = { n };
	size_t odd[] = { 1, 7, 4096, 100000, 3, 65536, 12345 };
	int a = chunk_all(d, n, all, 1, whole, 2048);
	int b = chunk_all(d, n, odd, 7, split, 2048);
	assert_int_equal(a, b);
	size_t sum = 0;
	for (int i = 0; i < a; i++) {
		assert_int_equal(whole[i], split[i]);
		if (i < a - 1) {
			assert_true(whole[i] > T_MIN);
			assert_true(whole[i] <= T_MAX);
		}
		sum += whole[i];
	}
	assert_int_equal(sum, n);
	/* normalised chunking keeps the mean near avg */
	double mean = (double)n / a;
	assert_true(mean > T_AVG * 0.6 && mean < T_AVG * 1.6);
	free(d);
}

static void test_cdc_cuts_at_max_on_flat_input(void **state)
{
	(void)state;
	size_t n = 10 * T_MAX + 5;
	uint8_t *d = calloc(1, n); /* zeros: the hash never meets a mask */
	size_t sizes[64], all[] = { n };
	int k = chunk_all(d, n, all, 1, sizes, 64);
	for (int i = 0; i < k - 1; i++)
		assert_true(sizes[i] <= T_MAX);
	free(d);
}

/* Bytes of chunks (by offset and size) in b that are not in a, both cut from their data. */
static size_t new_bytes(const uint8_t *da, const size_t *a, int na, const uint8_t *db,
			const size_t *b, int nb)
{
	size_t fresh = 0, ob = 0;
	for (int j = 0; j < nb; j++) {
		bool found = false;
		size_t oa = 0;
		for (int i = 0; i < na && !found; i++) {
			found = a[i] == b[j] && !memcmp(da + oa, db + ob, b[j]);
			oa += a[i];
		}
		if (!found)
			fresh += b[j];
		ob += b[j];
	}
	return fresh;
}

static void test_cdc_an_edit_moves_only_nearby_cuts(void **state)
{
	(void)state;
	size_t n = 8 << 20;
	uint8_t *a = random_bytes(n, 7);
	uint8_t *b = malloc(n + 1024);
	size_t sa[4096], sb[4096], all[] = { n + 1024 };
	int na = chunk_all(a, n, all, 1, sa, 4096);
	size_t worst_over = 0, worst_ins = 0, sum_ins = 0;
	for (int k = 1; k <= 8; k++) {
		size_t at = n / 9 * (size_t)k + (size_t)k * 977;
		/* 1 KiB overwritten */
		memcpy(b, a, n);
		memset(b + at, 0x5a + k, 1024);
		int nb = chunk_all(b, n, all, 1, sb, 4096);
		size_t fresh = new_bytes(a, sa, na, b, sb, nb);
		worst_over = fresh > worst_over ? fresh : worst_over;
		/* 1 KiB inserted: everything after it shifts */
		memcpy(b, a, at);
		memcpy(b + at, a + 100 * k, 1024);
		memcpy(b + at + 1024, a + at, n - at);
		nb = chunk_all(b, n + 1024, all, 1, sb, 4096);
		fresh = new_bytes(a, sa, na, b, sb, nb);
		worst_ins = fresh > worst_ins ? fresh : worst_ins;
		sum_ins += fresh;
	}
	print_message("new bytes after an edit: overwrite at worst %zu, insert at worst %zu, "
		      "mean %zu (avg chunk %d)\n",
		      worst_over, worst_ins, sum_ins / 8, T_AVG);
	/* the target of issue 13: an edit stores at most 3 average chunks anew */
	assert_true(worst_over <= 3 * T_AVG);
	assert_true(sum_ins / 8 <= 3 * T_AVG);
	free(a);
	free(b);
}

/* --- manifests --- */

static const struct manifest_limits LIM = { .max_chunks = 4, .chunk_max = 1000 };

#define H1 "1111111111111111111111111111111111111111111111111111111111111111"
#define H2 "2222222222222222222222222222222222222222222222222222222222222222"
#define H3 "3333333333333333333333333333333333333333333333333333333333333333"

/* m borrows strings from the parsed object (a target, a path given in the data), as a
 * request's manifest borrows from its body: the objects live to the end of the test */
static json_object *parsed[64];
static int nparsed;

static int release_parsed(void **state)
{
	(void)state;
	while (nparsed > 0)
		json_object_put(parsed[--nparsed]);
	return 0;
}

static int read_text(const char *json, const char *path, struct arena *a, struct manifest *m,
		     struct verr *ve)
{
	json_object *o = json_tokener_parse(json);
	assert_non_null(o);
	memset(ve, 0, sizeof *ve);
	int r = manifest_read(o, path, &LIM, 1796048212345, a, m, ve);
	assert_true(nparsed < 64);
	parsed[nparsed++] = o;
	return r;
}

static char *written(const struct manifest *m)
{
	struct buf b;
	buf_init(&b, 1 << 20);
	assert_int_equal(manifest_write(m, &b), 0);
	char *s = strdup(buf_str(&b));
	buf_free(&b);
	return s;
}

static void test_manifest_round_trip(void **state)
{
	(void)state;
	struct arena a = { 0 };
	struct manifest m;
	struct verr ve;
	assert_int_equal(read_text("{\"type\":\"file\",\"size\":30,\"mode\":493,"
				   "\"mtime\":\"2026-11-30T14:30:12.123456789Z\",\"sha256\":\"" H3
				   "\",\"chunks\":[{\"sha256\":\"" H1 "\",\"size\":10},"
				   "{\"sha256\":\"" H2 "\",\"size\":20}],\"base_version\":4}",
				   "d/\"q\".txt", &a, &m, &ve),
			 0);
	char *s = written(&m);
	assert_string_equal(s, "{\"path\":\"d/\\\"q\\\".txt\",\"type\":\"file\",\"size\":30,"
			       "\"mode\":493,\"mtime\":\"2026-11-30T14:30:12.123456789Z\","
			       "\"sha256\":\"" H3 "\",\"chunks\":[{\"sha256\":\"" H1
			       "\",\"size\":10},{\"sha256\":\"" H2 "\",\"size\":20}]}");
	/* what was written reads back to the same text (the path now from the text) */
	struct manifest m2;
	assert_int_equal(read_text(s, NULL, &a, &m2, &ve), 0);
	char *s2 = written(&m2);
	assert_string_equal(s, s2);
	free(s);
	free(s2);
	/* defaults: mode 0644, mtime now, milliseconds kept as 3 digits */
	assert_int_equal(read_text("{\"type\":\"file\",\"size\":0,\"sha256\":\"" SHA256_EMPTY
				   "\",\"chunks\":[]}",
				   "e", &a, &m, &ve),
			 0);
	s = written(&m);
	assert_non_null(strstr(s, "\"mode\":420,\"mtime\":\"2026-11-30T14:16:52.345Z\""));
	free(s);
	assert_int_equal(read_text("{\"type\":\"symlink\",\"target\":\"../x y\","
				   "\"mtime\":\"2000-01-01T00:00:00Z\"}",
				   "l", &a, &m, &ve),
			 0);
	s = written(&m);
	assert_string_equal(s, "{\"path\":\"l\",\"type\":\"symlink\",\"size\":6,\"mode\":511,"
			       "\"mtime\":\"2000-01-01T00:00:00.000Z\",\"target\":\"../x y\"}");
	free(s);
	arena_free(&a);
}

static void expect_invalid(const char *json, const char *field, int want)
{
	struct arena a = { 0 };
	struct manifest m;
	struct verr ve;
	assert_int_equal(read_text(json, "p", &a, &m, &ve), want);
	bool named = false;
	for (int i = 0; i < ve.n; i++)
		named |= !strcmp(ve.e[i].field, field);
	if (!named)
		fail_msg("%s: no fault named %s (first: %s: %s)", json, field,
			 ve.n ? ve.e[0].field : "-", ve.n ? ve.e[0].msg : "-");
	arena_free(&a);
}

static void test_manifest_faults_are_named(void **state)
{
	(void)state;
	expect_invalid("[]", "manifest", -ERR_INVALID);
	expect_invalid("{\"type\":\"fifo\"}", "type", -ERR_INVALID);
	expect_invalid("{\"type\":\"file\",\"size\":31,\"sha256\":\"" H3 "\",\"chunks\":["
		       "{\"sha256\":\"" H1 "\",\"size\":10},{\"sha256\":\"" H2 "\",\"size\":20}]}",
		       "size", -ERR_INVALID);
	expect_invalid("{\"type\":\"file\",\"size\":10,\"sha256\":\"" H3 "\",\"chunks\":["
		       "{\"sha256\":\"" H1 "\",\"size\":10}]}",
		       "sha256", -ERR_INVALID);
	expect_invalid("{\"type\":\"file\",\"size\":0,\"sha256\":\"" H3 "\",\"chunks\":[]}",
		       "sha256", -ERR_INVALID);
	expect_invalid("{\"type\":\"file\",\"size\":1001,\"sha256\":\"" H1 "\",\"chunks\":["
		       "{\"sha256\":\"" H1 "\",\"size\":1001}]}",
		       "chunks", -ERR_INVALID);
	expect_invalid("{\"type\":\"file\",\"size\":5,\"sha256\":\"" H1 "\",\"chunks\":["
		       "{\"sha256\":\"x\",\"size\":5}]}",
		       "chunks", -ERR_INVALID);
	expect_invalid("{\"type\":\"file\",\"size\":5,\"sha256\":\"" H1 "\",\"chunks\":["
		       "{\"sha256\":\"" H1 "\",\"size\":1},{\"sha256\":\"" H1 "\",\"size\":1},"
		       "{\"sha256\":\"" H1 "\",\"size\":1},{\"sha256\":\"" H1 "\",\"size\":1},"
		       "{\"sha256\":\"" H1 "\",\"size\":1}]}",
		       "chunks", -ERR_TOO_LARGE);
	expect_invalid("{\"type\":\"file\",\"size\":0,\"sha256\":\"" SHA256_EMPTY "\"}", "chunks",
		       -ERR_INVALID);
	expect_invalid("{\"type\":\"dir\",\"chunks\":[{\"sha256\":\"" H1 "\",\"size\":1}]}",
		       "chunks", -ERR_INVALID);
	expect_invalid("{\"type\":\"symlink\"}", "target", -ERR_INVALID);
	expect_invalid("{\"type\":\"symlink\",\"target\":\"a\\nb\"}", "target", -ERR_INVALID);
	expect_invalid("{\"type\":\"symlink\",\"target\":\"ab\",\"size\":3}", "size",
		       -ERR_INVALID);
	expect_invalid("{\"type\":\"dir\",\"mode\":4096}", "mode", -ERR_INVALID);
	expect_invalid("{\"type\":\"dir\",\"mode\":\"0755\"}", "mode", -ERR_INVALID);
	expect_invalid("{\"type\":\"dir\",\"mtime\":\"1969-12-31T23:59:59Z\"}", "mtime",
		       -ERR_INVALID);
	expect_invalid("{\"type\":\"dir\",\"mtime\":\"2026-11-30T14:30:12.1234567890Z\"}",
		       "mtime", -ERR_INVALID);
	expect_invalid("{\"type\":\"dir\",\"mtime\":\"2026-11-30 14:30:12Z\"}", "mtime",
		       -ERR_INVALID);
}

static void test_manifest_path_from_the_data(void **state)
{
	(void)state;
	struct arena a = { 0 };
	struct manifest m;
	struct verr ve;
	assert_int_equal(read_text("{\"type\":\"dir\",\"path\":\"caf\\u0065\\u0301\"}", NULL, &a,
				   &m, &ve),
			 0);
	assert_string_equal(m.path, "caf\xc3\xa9");
	assert_int_equal(read_text("{\"type\":\"dir\",\"path\":\"a/../b\"}", NULL, &a, &m, &ve),
			 -ERR_INVALID);
	assert_string_equal(ve.e[0].field, "path");
	assert_non_null(strstr(ve.e[0].msg, "dot_segment"));
	assert_int_equal(read_text("{\"type\":\"dir\"}", NULL, &a, &m, &ve), -ERR_INVALID);
	assert_string_equal(ve.e[0].field, "path");
	arena_free(&a);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_paths_normalise_to_nfc),
		cmocka_unit_test(test_paths_break_rules_by_name),
		cmocka_unit_test(test_paths_limits_apply_to_the_normal_form),
		cmocka_unit_test(test_path_ids_folds_and_prefixes),
		cmocka_unit_test(test_conflict_copy_names),
		cmocka_unit_test(test_cdc_gear_table_is_pinned),
		cmocka_unit_test(test_cdc_cuts_do_not_depend_on_how_bytes_arrive),
		cmocka_unit_test(test_cdc_cuts_at_max_on_flat_input),
		cmocka_unit_test(test_cdc_an_edit_moves_only_nearby_cuts),
		cmocka_unit_test_teardown(test_manifest_round_trip, release_parsed),
		cmocka_unit_test_teardown(test_manifest_faults_are_named, release_parsed),
		cmocka_unit_test_teardown(test_manifest_path_from_the_data, release_parsed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
