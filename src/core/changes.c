/* The changes of a push as a client sent them: read out of the request's JSON, and every
 * check that needs no store (shapes, fields, sizes, repeats, times, the request's blob
 * references). Pure functions of their input, so the fuzzer drives them directly. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/store.h"
#include "../store/blob.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/jtext.h"
#include "blobs.h"
#include "sync.h"

#define JSON_FLAGS (JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/* --- times --- */

static int digits(const char *s, int n)
{
	int v = 0;
	for (int i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}

static int days_in_month(int y, int m)
{
	static const int d[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
	return m == 2 && leap ? 29 : d[m - 1];
}

bool parse_rfc3339_ms(const char *s, int64_t *ret)
{
	/* YYYY-MM-DDTHH:MM:SS, then .F (1 to 9 digits), then Z or +00:00; nothing else */
	if (!s || strlen(s) > CLIENT_TS_MAX || strlen(s) < 20)
		return false;
	if (s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':')
		return false;
	int y = digits(s, 4), mo = digits(s + 5, 2), d = digits(s + 8, 2);
	int h = digits(s + 11, 2), mi = digits(s + 14, 2), sec = digits(s + 17, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
	    sec < 0 || sec > 59 || d > days_in_month(y, mo))
		return false;
	const char *p = s + 19;
	int64_t ms = 0;
	if (*p == '.') {
		int n = 0;
		for (p++; *p >= '0' && *p <= '9'; p++, n++)
			if (n < 3)
				ms = ms * 10 + (*p - '0');
		if (n < 1 || n > 9)
			return false;
		for (; n < 3; n++)
			ms *= 10;
	}
	if (strcmp(p, "Z") != 0 && strcmp(p, "+00:00") != 0)
		return false;
	/* days from civil (Howard Hinnant's algorithm, public domain arithmetic) */
	int yy = y - (mo <= 2);
	int era = yy / 400;
	int yoe = yy - era * 400;
	int doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = (int64_t)era * 146097 + doe - 719468;
	*ret = ((days * 24 + h) * 60 + mi) * 60000LL + sec * 1000LL + ms;
	return true;
}

/* --- reading the request --- */

/* The change's "blobs": hex hashes (upper case is taken as lower), repeats dropped, kept
 * in the arena with their JSON text. -ERR_INVALID when it is not such an array. */
static int parse_blobs(struct arena *a, json_object *arr, struct push_change *x)
{
	if (!json_object_is_type(arr, json_type_array))
		return -ERR_INVALID;
	size_t n = json_object_array_length(arr);
	if (n > BLOBS_PER_CHANGE)
		return -ERR_INVALID;
	if (n == 0)
		return 0;
	x->blobs = arena_alloc(a, sizeof *x->blobs * n);
	char *json = arena_alloc(a, n * (BLOB_HEX_LEN + 3) + 3);
	if (!x->blobs || !json)
		return -ERR_NOMEM;
	size_t jl = 0;
	json[jl++] = '[';
	for (size_t i = 0; i < n; i++) {
		const char *s = jtext_string(json_object_array_get_idx(arr, i));
		char *h = arena_alloc(a, BLOB_HEX_LEN + 1);
		if (!h)
			return -ERR_NOMEM;
		if (!s || !blob_name_norm(s, h))
			return -ERR_INVALID;
		bool dup = false;
		for (int k = 0; k < x->nblobs && !dup; k++)
			dup = !memcmp(x->blobs[k], h, BLOB_HEX_LEN);
		if (dup)
			continue;
		x->blobs[x->nblobs++] = h;
		if (x->nblobs > 1)
			json[jl++] = ',';
		json[jl++] = '"';
		memcpy(json + jl, h, BLOB_HEX_LEN);
		jl += BLOB_HEX_LEN;
		json[jl++] = '"';
	}
	json[jl++] = ']';
	json[jl] = '\0';
	x->blobs_json = json;
	return 0;
}

/* A string member that must be a string without NUL when present. */
static const char *member_str(json_object *o, const char *key, bool *bad)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	const char *s = jtext_string(v);
	if (!s)
		*bad = true;
	return s;
}

int sync_push_parse(const struct config *cfg, json_object *body, struct arena *a,
		    struct push_change **ret, int *ret_n, struct verr *ve)
{
	json_object *arr = NULL;
	if (!json_object_is_type(body, json_type_object) ||
	    !json_object_object_get_ex(body, "changes", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		verr_add(ve, "changes", "must be an array of changes");
		return -ERR_INVALID;
	}
	size_t n = json_object_array_length(arr);
	if (n > (size_t)limits_cfg(cfg)->push_changes) {
		verr_add(ve, "changes", "A push takes at most %lld changes (limits.push_changes).",
			 (long long)limits_cfg(cfg)->push_changes);
		return -ERR_TOO_LARGE;
	}
	struct push_change *ch = arena_alloc(a, sizeof *ch * (n ? n : 1));
	if (!ch)
		return -ERR_NOMEM;
	int64_t refs = 0;
	for (size_t i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(arr, i);
		struct push_change *x = &ch[i];
		memset(x, 0, sizeof *x);
		x->base_version = -1;
		x->op = (enum change_op)-1;
		if (!json_object_is_type(c, json_type_object)) {
			verr_add(ve, "changes", "changes[%zu] is not an object", i);
			continue;
		}
		bool bad = false;
		x->op_id = member_str(c, "op_id", &bad);
		x->collection = member_str(c, "collection", &bad);
		x->id = member_str(c, "id", &bad);
		x->client_ts = member_str(c, "client_ts", &bad);
		const char *op = member_str(c, "op", &bad);
		if (op)
			x->op = !strcmp(op, "put")     ? OP_PUT
				: !strcmp(op, "patch")  ? OP_PATCH
				: !strcmp(op, "delete") ? OP_DELETE
							: (enum change_op)-1;
		if (bad)
			verr_add(ve, "changes", "changes[%zu]: op_id, collection, id, op and client_ts "
						"must be strings without NUL",
				 i);
		json_object_object_get_ex(c, "data", &x->data);
		json_object *bv;
		if (json_object_object_get_ex(c, "base_version", &bv) && bv) {
			/* absent or null is "no base"; anything given must be a version */
			if (!json_object_is_type(bv, json_type_int) || json_object_get_int64(bv) < 0)
				verr_add(ve, "base_version",
					 "changes[%zu]: base_version must be a whole number, 0 or more", i);
			else
				x->base_version = json_object_get_int64(bv);
		}
		json_object *bl;
		if (json_object_object_get_ex(c, "blobs", &bl) && bl) {
			int r = parse_blobs(a, bl, x);
			if (r == -ERR_NOMEM)
				return r;
			if (r < 0)
				verr_add(ve, "blobs",
					 "changes[%zu]: blobs must be an array of at most %d SHA-256 "
					 "hashes in hex",
					 i, BLOBS_PER_CHANGE);
			refs += x->nblobs;
		}
	}
	if (ve->n)
		return -ERR_INVALID;
	if (refs > limits_cfg(cfg)->push_blob_refs) {
		verr_add(ve, "blobs", "A push names at most %lld blobs (limits.push_blob_refs).",
			 (long long)limits_cfg(cfg)->push_blob_refs);
		return -ERR_TOO_LARGE;
	}
	*ret = ch;
	*ret_n = (int)n;
	return 0;
}

/* --- checks --- */

int64_t sync_latest_client_ts(const struct config *cfg, int64_t now_ms)
{
	return now_ms + sync_cfg(cfg)->max_clock_skew_ms;
}

static int validate(const struct config *cfg, struct push_change *ch, int n, int64_t now_ms,
		    struct verr *ve)
{
	size_t max = (size_t)limits_cfg(cfg)->record_bytes;
	int skewed = 0;
	for (int i = 0; i < n && ve->n < VERR_MAX; i++) {
		struct push_change *x = &ch[i];
		/* verr keeps one message per field name, so the index goes into the text */
		if (!valid_op_id(x->op_id))
			verr_add(ve, "op_id", "changes[%d]: op_id must be 1 to %d of A-Z, a-z, 0-9, "
					      "'_', '.', '-', ':', '~'", i, OP_ID_MAX);
		if (!valid_collection(x->collection))
			verr_add(ve, "collection", "changes[%d]: collection must be 1 to %d of A-Z, "
						   "a-z, 0-9, '_', '.', '-'", i, COLLECTION_MAX);
		if (!valid_record_id(x->id))
			verr_add(ve, "id", "changes[%d]: id must be 1 to %d of A-Z, a-z, 0-9 and "
					   "_.-:~@+=", i, RECORD_ID_MAX);
		if ((int)x->op < 0 || x->op > OP_DELETE)
			verr_add(ve, "op", "changes[%d]: op must be put, patch or delete", i);
		/* Kept as the canonical form (to the millisecond, with Z): pulls copy it into
		 * their pages as it is. */
		int64_t ts;
		if (x->client_ts && !parse_rfc3339_ms(x->client_ts, &ts)) {
			verr_add(ve, "client_ts", "changes[%d]: client_ts must be RFC 3339 UTC such "
						  "as 2026-11-22T10:00:00.000Z", i);
		} else if (x->client_ts && ts > sync_latest_client_ts(cfg, now_ms)) {
			/* a clock in the future would win every last-writer-wins decision */
			char now[CLOCK_RFC3339_LEN];
			clock_format_rfc3339(now_ms, now);
			verr_add(ve, "client_ts", "changes[%d]: client_ts is ahead of the server's "
						  "clock (%s) by more than sync.max_clock_skew",
				 i, now);
			skewed++;
		} else if (x->client_ts) {
			clock_format_rfc3339(ts, x->ts);
			x->client_ts = x->ts;
		}
		for (int k = 0; k < x->nblobs; k++)
			if (!blob_name_valid(x->blobs[k])) {
				verr_add(ve, "blobs", "changes[%d]: blobs[%d] is not a SHA-256 in hex", i,
					 k);
				break;
			}
		if (x->nblobs > BLOBS_PER_CHANGE && !x->file) /* a manifest has files.max_chunks */
			verr_add(ve, "blobs", "changes[%d]: at most %d blobs per change", i,
				 BLOBS_PER_CHANGE);
		if (x->base_version < -1)
			verr_add(ve, "base_version", "changes[%d]: base_version must be 0 or more", i);
		if (x->op == OP_PUT && !json_object_is_type(x->data, json_type_object))
			verr_add(ve, "data", "changes[%d]: data must be a JSON object for put", i);
		if (x->op == OP_PATCH && !json_object_is_type(x->data, json_type_object))
			verr_add(ve, "data", "changes[%d]: data must be a JSON merge patch object", i);
		if (x->data && x->op != OP_DELETE && !x->file) { /* a manifest: files_prepare */
			size_t len;
			/* serialized here, outside the write lock; json-c keeps the text */
			json_object_to_json_string_length(x->data, JSON_FLAGS, &len);
			if (len > max)
				verr_add(ve, "data", "changes[%d]: data is %zu bytes; the limit "
						     "(limits.record_bytes) is %zu",
					 i, len, max);
		}
	}
	if (!ve->n)
		return 0;
	return skewed == ve->n ? -ERR_CLOCK_SKEW : -ERR_INVALID;
}

struct op_ref {
	const char *op_id;
	int idx;
};

static int cmp_op_ref(const void *a, const void *b)
{
	const struct op_ref *x = a, *y = b;
	int c = strcmp(x->op_id, y->op_id);
	return c ? c : x->idx - y->idx;
}

/* -ERR_INVALID naming the first repeat, by sorting (a request has up to
 * limits.push_changes changes: comparing every pair cost more than applying them). */
static int find_repeated_op(const struct push_change *ch, int n, struct verr *ve)
{
	if (n < 2)
		return 0;
	struct op_ref *refs = malloc(sizeof *refs * (size_t)n);
	if (!refs)
		return -ERR_NOMEM;
	for (int i = 0; i < n; i++)
		refs[i] = (struct op_ref){ ch[i].op_id, i };
	qsort(refs, (size_t)n, sizeof *refs, cmp_op_ref);
	int r = 0, first = n, other = 0;
	for (int i = 1; i < n; i++)
		if (!strcmp(refs[i].op_id, refs[i - 1].op_id) && refs[i].idx < first) {
			first = refs[i].idx;
			other = refs[i - 1].idx;
		}
	if (first < n) {
		verr_add(ve, "op_id", "changes[%d]: op_id repeats changes[%d]", first, other);
		r = -ERR_INVALID;
	}
	free(refs);
	return r;
}

int sync_changes_validate(const struct config *cfg, struct push_change *ch, int n,
			  int64_t now_ms, struct verr *ve)
{
	int r = validate(cfg, ch, n, now_ms, ve);
	if (r < 0)
		return r;
	/* The same op_id twice in one request would make its second copy a duplicate of a
	 * result not yet committed: refuse the request instead. */
	return find_repeated_op(ch, n, ve);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int sync_changes_blobs(struct push_change *ch, int n, struct arena *a, const char ***ret,
		       int *ret_n)
{
	int total = 0;
	for (int i = 0; i < n; i++)
		total += ch[i].nblobs;
	*ret = NULL;
	*ret_n = 0;
	if (total == 0)
		return 0;
	const char **v = arena_alloc(a, sizeof *v * (size_t)total);
	if (!v)
		return -ERR_NOMEM;
	int k = 0;
	for (int i = 0; i < n; i++)
		for (int b = 0; b < ch[i].nblobs; b++)
			v[k++] = ch[i].blobs[b];
	qsort(v, (size_t)total, sizeof *v, cmp_str);
	int u = 0;
	for (int i = 0; i < total; i++)
		if (u == 0 || strcmp(v[u - 1], v[i]) != 0)
			v[u++] = v[i];
	*ret = v;
	*ret_n = u;
	return 0;
}
