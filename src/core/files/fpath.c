/* Paths of files: see fpath.h. */
#include "fpath.h"

#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <uninorm.h>
#include <unistr.h>

#include "../../util/clock.h"

static int refuse(const char **rule, const char **why, const char *r, const char *w)
{
	*rule = r;
	*why = w;
	return -1;
}

/* The rules on a path already in NFC. */
static int check(const uint8_t *s, size_t n, const char **rule, const char **why)
{
	if (n == 0)
		return refuse(rule, why, "empty", "A path may not be empty.");
	if (n > FPATH_MAX)
		return refuse(rule, why, "too_long", "A path is at most 4096 bytes (in NFC).");
	size_t seg = 0; /* where the current segment starts */
	for (size_t i = 0; i <= n; i++) {
		if (i == n || s[i] == '/') {
			size_t len = i - seg;
			if (len == 0)
				return refuse(rule, why, "segment_empty",
					      "A path has no empty segment: no leading, trailing or "
					      "doubled '/'.");
			if ((len == 1 && s[seg] == '.') ||
			    (len == 2 && s[seg] == '.' && s[seg + 1] == '.'))
				return refuse(rule, why, "dot_segment",
					      "A path has no '.' or '..' segment.");
			if (len > FPATH_SEGMENT_MAX)
				return refuse(rule, why, "segment_too_long",
					      "A path's segment is at most 255 bytes (in NFC).");
			seg = i + 1;
		}
	}
	for (size_t i = 0; i < n;) {
		ucs4_t uc;
		int k = u8_mbtouc(&uc, s + i, n - i);
		if (uc < 0x20 || (uc >= 0x7f && uc <= 0x9f))
			return refuse(rule, why, "control",
				      "A path may not hold control characters (U+0000 to U+001F, "
				      "U+007F to U+009F).");
		i += (size_t)(k > 0 ? k : 1);
	}
	return 0;
}

int fpath_normalize(const char *in, size_t len, char out[FPATH_MAX + 1], const char **rule,
		    const char **why)
{
	const uint8_t *s = (const uint8_t *)in;
	/* NFC of a valid path is never more than three times its input; past that the input
	 * cannot be a path, and normalising it would cost for nothing */
	if (len > FPATH_MAX * 3)
		return refuse(rule, why, "too_long", "A path is at most 4096 bytes (in NFC).");
	if (u8_check(s, len) != NULL)
		return refuse(rule, why, "utf8", "A path must be valid UTF-8.");
	if (memchr(s, 0, len))
		return refuse(rule, why, "control",
			      "A path may not hold control characters (U+0000 to U+001F, U+007F to "
			      "U+009F).");
	uint8_t stack[FPATH_MAX + 1];
	size_t n = FPATH_MAX;
	uint8_t *norm = len ? u8_normalize(UNINORM_NFC, s, len, stack, &n) : stack;
	if (!len)
		n = 0;
	if (!norm)
		return refuse(rule, why, "too_long", "A path is at most 4096 bytes (in NFC).");
	int r = check(norm, n, rule, why);
	if (r == 0) {
		memcpy(out, norm, n);
		out[n] = '\0';
	}
	if (norm != stack)
		free(norm);
	return r;
}

void fpath_id(const char *path, char out[FPATH_ID_LEN + 1])
{
	unsigned char d[crypto_hash_sha256_BYTES];
	crypto_hash_sha256(d, (const unsigned char *)path, strlen(path));
	sodium_bin2hex(out, FPATH_ID_LEN + 1, d, sizeof d);
}

int fpath_fold(const char *path, char out[FPATH_FOLD_MAX + 1])
{
	size_t n = FPATH_FOLD_MAX;
	size_t len = strlen(path);
	if (len == 0) {
		out[0] = '\0';
		return 0;
	}
	uint8_t *f = u8_casefold((const uint8_t *)path, len, NULL, UNINORM_NFC, (uint8_t *)out,
				 &n);
	if (!f)
		return -1;
	if (f != (uint8_t *)out) { /* it did not fit */
		free(f);
		return -1;
	}
	out[n] = '\0';
	return 0;
}

bool fpath_under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	if (n == 0)
		return true;
	return strncmp(path, dir, n) == 0 && path[n] == '/';
}

/* Appends s (n bytes) to out at *at when it fits under FPATH_MAX. */
static bool put(char *out, size_t *at, const char *s, size_t n)
{
	if (*at + n > FPATH_MAX)
		return false;
	memcpy(out + *at, s, n);
	*at += n;
	return true;
}

int fpath_conflict_name(const char *path, const char *device, int64_t ms, int n,
			char out[FPATH_MAX + 1])
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	const char *dot = strrchr(name, '.');
	if (dot == name) /* ".bashrc" has no extension */
		dot = NULL;
	size_t stem = (size_t)((dot ? dot : name + strlen(name)) - path);
	char dev[65];
	size_t dn = 0;
	for (const char *d = device ? device : ""; *d && dn < 64; d++) {
		unsigned char ch = (unsigned char)*d;
		dev[dn++] = ch == '/' || ch < 0x20 || ch == 0x7f ? '_' : (char)ch;
	}
	/* a device name cut inside a multibyte character would break UTF-8: back off */
	while (dn > 0 && u8_check((const uint8_t *)dev, dn) != NULL)
		dn--;
	dev[dn] = '\0';
	char ts[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(ms, ts); /* 2026-11-30T14:30:12.345Z */
	char when[32];
	snprintf(when, sizeof when, "%.10s %.2s%.2s%.2s", ts, ts + 11, ts + 14, ts + 17);
	char mid[160];
	int m;
	if (dn)
		m = snprintf(mid, sizeof mid, " (conflict from %s %s", dev, when);
	else
		m = snprintf(mid, sizeof mid, " (conflict %s", when);
	if (n > 1)
		m += snprintf(mid + m, sizeof mid - (size_t)m, " %d", n);
	mid[m++] = ')';
	size_t at = 0;
	if (!put(out, &at, path, stem) || !put(out, &at, mid, (size_t)m) ||
	    (dot && !put(out, &at, dot, strlen(dot))))
		return -1;
	out[at] = '\0';
	/* a path like any other: in NFC (a device's name need not be) and within the rules */
	char norm[FPATH_MAX + 1];
	const char *rule, *why;
	if (fpath_normalize(out, at, norm, &rule, &why) < 0)
		return -1;
	memcpy(out, norm, strlen(norm) + 1);
	return 0;
}
