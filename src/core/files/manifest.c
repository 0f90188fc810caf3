/* Manifests: see manifest.h. */
#include "manifest.h"

#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "../../store/model.h"
#include "../../util/err.h"
#include "../../util/jtext.h"
#include "../sync.h"

const char *file_type_name(enum file_type t)
{
	return t == FILE_DIR ? "dir" : t == FILE_SYMLINK ? "symlink" : "file";
}

/* A member that must be a string when present: NULL when absent or null. */
static const char *str_member(json_object *o, const char *key, struct verr *ve)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return NULL;
	const char *s = jtext_string(v);
	if (!s)
		verr_add(ve, key, "%s must be a string", key);
	return s;
}

/* A member that must be a whole number in [lo, hi] when present: def when absent. */
static int64_t int_member(json_object *o, const char *key, int64_t def, int64_t lo, int64_t hi,
			  struct verr *ve)
{
	json_object *v;
	if (!json_object_object_get_ex(o, key, &v) || !v)
		return def;
	int64_t x = json_object_get_int64(v);
	if (!json_object_is_type(v, json_type_int) || x < lo || x > hi) {
		verr_add(ve, key, "%s must be a whole number from %lld to %lld", key, (long long)lo,
			 (long long)hi);
		return def;
	}
	return x;
}

/* RFC 3339 UTC with 0 to 9 fractional digits to seconds and nanoseconds. */
bool manifest_mtime_parse(const char *s, int64_t *sec, int32_t *ns)
{
	size_t n = strlen(s);
	if (n < 20 || n > 35)
		return false;
	char whole[40];
	memcpy(whole, s, 19);
	const char *p = s + 19;
	int32_t frac = 0;
	int digits = 0;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits++)
			if (digits < 9)
				frac = frac * 10 + (*p - '0');
		if (digits < 1 || digits > 9)
			return false;
		for (int d = digits; d < 9; d++)
			frac *= 10;
	}
	/* the date and time part goes through the one RFC 3339 reader, without the fraction */
	snprintf(whole + 19, sizeof whole - 19, "%s", p);
	int64_t ms;
	if (!parse_rfc3339_ms(whole, &ms))
		return false;
	*sec = ms / 1000;
	*ns = frac;
	return true;
}

void manifest_mtime_format(int64_t s, int32_t ns, char out[MTIME_TEXT_LEN])
{
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(s * 1000, t); /* YYYY-MM-DDTHH:MM:SS.000Z */
	if (ns % 1000000 == 0)
		snprintf(out, MTIME_TEXT_LEN, "%.19s.%03dZ", t, (int)(ns / 1000000));
	else
		snprintf(out, MTIME_TEXT_LEN, "%.19s.%09dZ", t, (int)ns);
}

/* A symlink's target: 1 to FPATH_MAX - 1 bytes (what the kernel's PATH_MAX leaves after
 * the NUL) of UTF-8 without control characters. */
static bool valid_target(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= FPATH_MAX || u8_check((const uint8_t *)s, n))
		return false;
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	/* U+0080 to U+009F are C2 80 to C2 9F */
	for (size_t i = 0; i + 1 < n; i++)
		if ((unsigned char)s[i] == 0xc2 && (unsigned char)s[i + 1] <= 0x9f)
			return false;
	return true;
}

static int read_chunks(json_object *arr, const struct manifest_limits *lim, struct arena *a,
		       struct manifest *m, struct verr *ve)
{
	if (!json_object_is_type(arr, json_type_array)) {
		verr_add(ve, "chunks", "chunks must be an array of {sha256, size}");
		return -ERR_INVALID;
	}
	size_t n = json_object_array_length(arr);
	if ((int64_t)n > lim->max_chunks) {
		verr_add(ve, "chunks", "A manifest names at most %lld chunks (files.max_chunks).",
			 (long long)lim->max_chunks);
		return -ERR_TOO_LARGE;
	}
	m->chunks = arena_alloc(a, sizeof *m->chunks * (n ? n : 1));
	if (!m->chunks)
		return -ERR_NOMEM;
	int64_t sum = 0;
	for (size_t i = 0; i < n && ve->n < VERR_MAX; i++) {
		json_object *c = json_object_array_get_idx(arr, i), *h = NULL, *sz = NULL;
		struct chunk_ref *x = &m->chunks[i];
		char field[32];
		snprintf(field, sizeof field, "chunks[%zu]", i);
		const char *hs = json_object_is_type(c, json_type_object) &&
						 json_object_object_get_ex(c, "sha256", &h)
					 ? jtext_string(h)
					 : NULL;
		if (!hs || !blob_name_norm(hs, x->sha256)) {
			verr_add(ve, "chunks", "%s.sha256 must be a SHA-256 in hex", field);
			continue;
		}
		x->sha256[BLOB_HEX_LEN] = '\0';
		if (!json_object_object_get_ex(c, "size", &sz) ||
		    !json_object_is_type(sz, json_type_int) || json_object_get_int64(sz) < 1 ||
		    json_object_get_int64(sz) > lim->chunk_max) {
			verr_add(ve, "chunks", "%s.size must be a whole number from 1 to %lld "
					       "(files.chunk_max)",
				 field, (long long)lim->chunk_max);
			continue;
		}
		x->size = json_object_get_int64(sz);
		sum += x->size; /* at most max_chunks * chunk_max: no overflow */
	}
	m->nchunks = (int)n;
	if (ve->n)
		return -ERR_INVALID;
	if (sum != m->size) {
		verr_add(ve, "size", "size is %lld but the chunks add up to %lld", (long long)m->size,
			 (long long)sum);
		return -ERR_INVALID;
	}
	return 0;
}

int manifest_read(json_object *o, const char *path, const struct manifest_limits *lim,
		  int64_t now_ms, struct arena *a, struct manifest *m, struct verr *ve)
{
	memset(m, 0, sizeof *m);
	if (!json_object_is_type(o, json_type_object)) {
		verr_add(ve, "manifest", "A manifest is a JSON object.");
		return -ERR_INVALID;
	}
	if (path) {
		m->path = path;
	} else {
		const char *raw = str_member(o, "path", ve), *rule, *why;
		char *norm = arena_alloc(a, FPATH_MAX + 1);
		if (!norm)
			return -ERR_NOMEM;
		if (!raw && !ve->n)
			verr_add(ve, "path", "path is required");
		else if (raw && fpath_normalize(raw, strlen(raw), norm, &rule, &why) < 0)
			verr_add(ve, "path", "%s (rule %s)", why, rule);
		else
			m->path = norm;
	}
	const char *type = str_member(o, "type", ve);
	if (!type)
		verr_add(ve, "type", "type must be file, dir or symlink");
	else if (!strcmp(type, "file"))
		m->type = FILE_REGULAR;
	else if (!strcmp(type, "dir"))
		m->type = FILE_DIR;
	else if (!strcmp(type, "symlink"))
		m->type = FILE_SYMLINK;
	else
		verr_add(ve, "type", "type must be file, dir or symlink");
	if (ve->n)
		return -ERR_INVALID;
	int defmode = m->type == FILE_DIR ? 0755 : m->type == FILE_SYMLINK ? 0777 : 0644;
	m->mode = (int)int_member(o, "mode", defmode, 0, 07777, ve);
	const char *mt = str_member(o, "mtime", ve);
	m->mtime_s = now_ms / 1000;
	m->mtime_ns = (int32_t)(now_ms % 1000) * 1000000;
	if (mt && !manifest_mtime_parse(mt, &m->mtime_s, &m->mtime_ns))
		verr_add(ve, "mtime", "mtime must be RFC 3339 UTC from 1970 on, such as "
				      "2026-11-30T14:30:12.123Z (up to 9 fractional digits)");
	const char *target = str_member(o, "target", ve);
	const char *sha = str_member(o, "sha256", ve);
	json_object *chunks = NULL;
	json_object_object_get_ex(o, "chunks", &chunks);
	if (m->type == FILE_REGULAR) {
		m->size = int_member(o, "size", -1, 0, INT64_MAX, ve);
		if (m->size < 0 && !ve->n)
			verr_add(ve, "size", "size is required for a file");
		if (target)
			verr_add(ve, "target", "only a symlink has a target");
		if (!sha || !blob_name_norm(sha, m->sha256))
			verr_add(ve, "sha256", "sha256 (of the whole file, in hex) is required");
		m->sha256[BLOB_HEX_LEN] = '\0';
		if (!chunks)
			verr_add(ve, "chunks", "chunks is required for a file ([] when it is empty)");
		if (ve->n)
			return -ERR_INVALID;
		int r = read_chunks(chunks, lim, a, m, ve);
		if (r < 0)
			return r;
		if (m->nchunks == 0 && strcmp(m->sha256, SHA256_EMPTY) != 0)
			verr_add(ve, "sha256", "an empty file's sha256 is %s", SHA256_EMPTY);
		if (m->nchunks == 1 && strcmp(m->sha256, m->chunks[0].sha256) != 0)
			verr_add(ve, "sha256", "a file of one chunk has that chunk's sha256");
		return ve->n ? -ERR_INVALID : 0;
	}
	if (sha)
		verr_add(ve, "sha256", "only a file has a sha256");
	if (chunks && (!json_object_is_type(chunks, json_type_array) ||
		       json_object_array_length(chunks) > 0))
		verr_add(ve, "chunks", "only a file has chunks");
	if (m->type == FILE_DIR) {
		if (target)
			verr_add(ve, "target", "only a symlink has a target");
		m->size = int_member(o, "size", 0, 0, 0, ve);
	} else if (!target || !valid_target(target)) {
		verr_add(ve, "target", "a symlink's target is 1 to %d bytes of UTF-8 without "
				       "control characters", FPATH_MAX - 1);
	} else {
		m->target = target;
		m->size = int_member(o, "size", (int64_t)strlen(target), (int64_t)strlen(target),
				     (int64_t)strlen(target), ve);
	}
	return ve->n ? -ERR_INVALID : 0;
}

/* s as a JSON string: the rules above leave only '"' and '\\' to escape. */
static int put_str(struct buf *b, const char *s)
{
	int r = buf_append(b, "\"", 1);
	for (const char *p = s; r == 0 && *p;) {
		size_t n = strcspn(p, "\"\\");
		r = buf_append(b, p, n);
		p += n;
		if (r == 0 && *p) {
			char e[2] = { '\\', *p++ };
			r = buf_append(b, e, 2);
		}
	}
	return r < 0 ? r : buf_append(b, "\"", 1);
}

int manifest_write(const struct manifest *m, struct buf *out)
{
	char mt[MTIME_TEXT_LEN];
	manifest_mtime_format(m->mtime_s, m->mtime_ns, mt);
	int r = buf_puts(out, "{\"path\":");
	if (r == 0)
		r = put_str(out, m->path);
	if (r == 0)
		r = buf_printf(out, ",\"type\":\"%s\",\"size\":%lld,\"mode\":%d,\"mtime\":\"%s\"",
			       file_type_name(m->type), (long long)m->size, m->mode, mt);
	if (r == 0 && m->type == FILE_SYMLINK) {
		r = buf_puts(out, ",\"target\":");
		if (r == 0)
			r = put_str(out, m->target);
	}
	if (r == 0 && m->type == FILE_REGULAR) {
		r = buf_printf(out, ",\"sha256\":\"%s\",\"chunks\":[", m->sha256);
		for (int i = 0; r == 0 && i < m->nchunks; i++)
			r = buf_printf(out, "%s{\"sha256\":\"%s\",\"size\":%lld}", i ? "," : "",
				       m->chunks[i].sha256, (long long)m->chunks[i].size);
		if (r == 0)
			r = buf_puts(out, "]");
	}
	return r < 0 ? r : buf_puts(out, "}");
}

int64_t manifest_max_bytes(const struct manifest_limits *lim)
{
	/* a path and a target escaped at worst (every byte a '"'), the fixed fields, and per
	 * chunk {"sha256":"<64>","size":<up to 20 digits>} and a comma */
	return 2 * (2 * FPATH_MAX + 2) + 512 + lim->max_chunks * (64 + 21 + 20 + 2);
}
