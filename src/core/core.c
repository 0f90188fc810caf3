#include "core.h"

#include <crypt.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../store/blob.h"
#include "../store/store.h"
#include "accounts.h"
#include "../util/config.h"
#include "../util/err.h"

int core_init(struct core *c, const struct config *cfg, struct store *store, char *err,
	      size_t errlen)
{
	memset(c, 0, sizeof *c);
	c->cfg = cfg;
	c->store = store;
	if (sodium_init() < 0) {
		snprintf(err, errlen, "cannot initialise libsodium");
		return -ERR_INVALID;
	}
	/* Unknown users are verified against this, so they cost what a wrong password does. */
	char random_pw[TOKEN_LEN];
	token_new("x", random_pw);
	if (password_hash(c, random_pw, c->dummy_hash) < 0) {
		snprintf(err, errlen, "cannot hash a password with auth.password_memory = %lld",
			 (long long)auth_cfg(cfg)->password_memory);
		return -ERR_INVALID;
	}
	return 0;
}

void core_set_public_url(struct core *c, const char *url)
{
	snprintf(c->public_url, sizeof c->public_url, "%s", url);
	size_t n = strlen(c->public_url);
	while (n && c->public_url[n - 1] == '/')
		c->public_url[--n] = '\0';
}

int core_open(struct core *c, const struct config *cfg, enum core_open_mode mode, int readers,
	      bool blobs, char *err, size_t errlen)
{
	static const enum store_mode modes[] = { STORE_CREATE, STORE_MIGRATE, STORE_EXISTING };
	struct store *st = NULL;
	int r = store_open(cfg, readers, modes[mode], &st, err, errlen);
	if (r < 0)
		return r;
	r = core_init(c, cfg, st, err, errlen);
	if (r == 0 && blobs)
		r = core_open_blobs(c, err, errlen);
	if (r < 0) {
		c->store = st;
		core_close(c);
	}
	return r;
}

int core_open_blobs(struct core *c, char *err, size_t errlen)
{
	char why[512] = "";
	int r = blobstore_open(c->cfg, &c->blobs, why, sizeof why);
	if (r < 0)
		snprintf(err, errlen, "the blob store: %s", why);
	return r;
}

void core_close(struct core *c)
{
	c->blobs = blobstore_close(c->blobs);
	c->store = store_close(c->store);
}

int core_schema_version(struct core *c, int *ret_version)
{
	return c->store->ops->schema_version(c->store, ret_version);
}

void verr_add(struct verr *v, const char *field, const char *fmt, ...)
{
	for (int i = 0; i < v->n; i++)
		if (!strcmp(v->e[i].field, field))
			return; /* one message per field */
	if (v->n == VERR_MAX)
		return;
	v->e[v->n].field = field;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(v->e[v->n].msg, sizeof v->e[v->n].msg, fmt, ap);
	va_end(ap);
	v->n++;
}

/* Valid UTF-8 (no overlongs or surrogates) with no control characters: C0, DEL, C1, the
 * line and paragraph separators (U+2028, U+2029: line breaks to JavaScript and some logs)
 * and the bidirectional overrides and isolates (U+202A..U+202E, U+2066..U+2069), which
 * let a name display as another. */
static bool printable_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;
	while (*p) {
		unsigned c = *p;
		if (c < 0x20 || c == 0x7f)
			return false;
		if (c < 0x80) {
			p++;
			continue;
		}
		int n = c >= 0xf0 ? 3 : c >= 0xe0 ? 2 : c >= 0xc2 ? 1 : -1;
		if (n < 0 || c > 0xf4)
			return false;
		unsigned cp = c & (0x3f >> n);
		for (int i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 2 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
		    (n == 3 && (cp < 0x10000 || cp > 0x10ffff)) || (cp >= 0x80 && cp <= 0x9f) ||
		    (cp >= 0x2028 && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069))
			return false;
		p += n + 1;
	}
	return true;
}

bool check_text(struct verr *v, const char *field, const char *s, size_t max, bool required)
{
	if (!s || !*s) {
		if (required)
			verr_add(v, field, "is required");
		return !required;
	}
	if (strlen(s) > max) {
		verr_add(v, field, "must be at most %zu bytes", max);
		return false;
	}
	if (!printable_utf8(s)) {
		verr_add(v, field, "must be printable text");
		return false;
	}
	return true;
}

bool check_username(struct verr *v, const char *field, const char *s, bool required)
{
	if (!s || !*s) {
		if (required)
			verr_add(v, field, "is required");
		return !required;
	}
	size_t n = strlen(s);
	if (n > USERNAME_MAX) {
		verr_add(v, field, "must be at most %d characters", USERNAME_MAX);
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '.' && c != '_' && c != '-'))) {
			verr_add(v, field,
				 "must be letters, digits, '.', '_' or '-', starting with a letter "
				 "or digit");
			return false;
		}
	}
	return true;
}

bool check_email(struct verr *v, const char *field, const char *s, bool required)
{
	if (!s || !*s) {
		if (required)
			verr_add(v, field, "is required");
		return !required;
	}
	size_t n = strlen(s);
	const char *at = strchr(s, '@');
	bool ok = n <= EMAIL_MAX && at && at != s && at[1] && !strchr(at + 1, '@') &&
		  at[1] != '.' && s[n - 1] != '.' && printable_utf8(s);
	for (size_t i = 0; ok && i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c == 0x7f || c == '<' || c == '>' || c == '(' || c == ')' ||
		    c == ',' || c == ';' || c == ':' || c == '\\' || c == '"' || c == '[' ||
		    c == ']')
			ok = false;
	}
	if (!ok)
		verr_add(v, field, "must be an e-mail address such as ada@example.org");
	return ok;
}

bool check_password(struct verr *v, const char *field, const char *s)
{
	if (!s || !*s) {
		verr_add(v, field, "is required");
		return false;
	}
	size_t n = strlen(s);
	if (n < 8 || n > 1024) {
		verr_add(v, field, "must be 8 to 1024 bytes");
		return false;
	}
	return true;
}

bool check_realm_name(struct verr *v, const char *field, const char *s)
{
	size_t n = s ? strlen(s) : 0;
	bool ok = n >= 1 && n <= REALM_NAME_MAX;
	for (size_t i = 0; ok && i < n; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		     (i > 0 && s[i] == '-');
	if (!ok)
		verr_add(v, field, "must be 1 to %d lower-case letters, digits or '-'",
			 REALM_NAME_MAX);
	return ok;
}

void token_new(const char *prefix, char out[TOKEN_LEN])
{
	unsigned char raw[32];
	randombytes_buf(raw, sizeof raw);
	size_t pl = strlen(prefix);
	memcpy(out, prefix, pl);
	sodium_bin2base64(out + pl, TOKEN_LEN - pl, raw, sizeof raw,
			  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof raw);
}

void token_hash(const char *token, uint8_t out[32])
{
	crypto_hash_sha256(out, (const unsigned char *)token, strlen(token));
}

int password_hash(const struct core *c, const char *password, char out[PASSWORD_HASH_MAX + 1])
{
	char buf[crypto_pwhash_STRBYTES];
	if (crypto_pwhash_str_alg(buf, password, strlen(password),
				  (unsigned long long)auth_cfg(c->cfg)->password_passes,
				  (size_t)auth_cfg(c->cfg)->password_memory,
				  crypto_pwhash_ALG_ARGON2ID13) != 0)
		return -ERR_NOMEM;
	if (strlen(buf) > PASSWORD_HASH_MAX)
		return -ERR_INVALID;
	snprintf(out, PASSWORD_HASH_MAX + 1, "%s", buf);
	return 0;
}

bool password_is_bcrypt(const char *hash)
{
	/* $2a$, $2b$ or $2y$, a cost of at most BCRYPT_COST_MAX (Go's default is 10: a hash of
	 * cost 31 would take a day to check, at anyone's asking), 53 characters of salt and
	 * hash */
	if (strlen(hash) != 60 || hash[0] != '$' || hash[1] != '2' ||
	    (hash[2] != 'a' && hash[2] != 'b' && hash[2] != 'y') || hash[3] != '$' ||
	    hash[4] < '0' || hash[4] > '9' || hash[5] < '0' || hash[5] > '9' || hash[6] != '$')
		return false;
	int cost = (hash[4] - '0') * 10 + (hash[5] - '0');
	return cost >= 4 && cost <= BCRYPT_COST_MAX;
}

bool password_verify(const char *hash, const char *password)
{
	if (strncmp(hash, "$2", 2))
		return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
	if (!password_is_bcrypt(hash))
		return false;
	/* an imported account's (Verstak Sync's): bcrypt by libxcrypt, compared in constant
	 * time; the hash is replaced by argon2id at the next password change */
	struct crypt_data *cd = calloc(1, sizeof *cd);
	if (!cd)
		return false;
	const char *out = crypt_r(password, hash, cd);
	size_t n = strlen(hash);
	bool ok = out && out[0] == '$' && strlen(out) == n && sodium_memcmp(out, hash, n) == 0;
	sodium_memzero(cd, sizeof *cd);
	free(cd);
	return ok;
}

void core_health(struct core *c, bool *ret_db_ok, bool *ret_blobs_ok)
{
	char detail[160];
	int version = 0;
	uint64_t free_bytes = 0;
	*ret_db_ok = c->store->ops->check(c->store, detail, sizeof detail) == 0 &&
		     c->store->ops->schema_version(c->store, &version) == 0;
	*ret_blobs_ok = c->blobs && c->blobs->ops->check(c->blobs, &free_bytes, detail,
							  sizeof detail) == 0;
}
