/* Oktosync's POST /register {username, email, public_key}: a Cairn user of oktosync.realm
 * with that public key and no password they know (they set one through the mailed reset,
 * then log in natively). */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../../../core/accounts.h"
#include "../../../core/errors.h"
#include "../../helpers.h"
#include "oktosync.h"

/* Standard base64 (padded) of n bytes into out (room for max); -1 when it is not. */
static int b64(const char *s, size_t len, unsigned char *out, size_t max)
{
	size_t n = 0;
	if (sodium_base642bin(out, max, s, len, NULL, &n, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
		return -1;
	return (int)n;
}

/* OpenSSH ("TYPE BASE64 [comment]", the blob naming TYPE first), PEM with a PUBLIC KEY tag,
 * or base64 of 32, 33, 64 or 65 bytes (raw keys): its server's three forms. */
static bool public_key_ok(const char *k)
{
	unsigned char buf[4096];
	size_t len = strlen(k);
	if (!len || len > 4096)
		return false;
	int n = b64(k, len, buf, sizeof buf);
	if (n == 32 || n == 33 || n == 64 || n == 65)
		return true;
	if (!strncmp(k, "-----BEGIN ", 11)) {
		/* "-----BEGIN <label>-----" where the label ends in PUBLIC KEY, and an END with
		 * the same label */
		const char *end = strstr(k + 11, "-----");
		size_t label = end ? (size_t)(end - (k + 11)) : 0;
		if (!end || label < 10 || label > 64 || memcmp(end - 10, "PUBLIC KEY", 10) != 0)
			return false;
		const char *body = end + 5, *stop = strstr(body, "-----END ");
		if (!stop || strncmp(stop + 9, k + 11, label) != 0 ||
		    strncmp(stop + 9 + label, "-----", 5) != 0)
			return false;
		char joined[4096];
		size_t j = 0;
		for (const char *p = body; p < stop && j < sizeof joined - 1; p++)
			if (*p != '\n' && *p != '\r' && *p != ' ')
				joined[j++] = *p;
		return j > 0 && b64(joined, j, buf, sizeof buf) >= 32;
	}
	const char *sp = strchr(k, ' ');
	if (!sp || sp == k || (size_t)(sp - k) > 64)
		return false;
	size_t tlen = (size_t)(sp - k);
	const char *blob = sp + 1, *bend = strchr(blob, ' ');
	size_t blen = bend ? (size_t)(bend - blob) : strlen(blob);
	for (size_t i = 0; i < tlen; i++) {
		char c = k[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '@' ||
		      c == '.'))
			return false;
	}
	n = b64(blob, blen, buf, sizeof buf);
	/* the SSH wire format: a length, the type's name again, then the key's own fields
	 * (at least one more length and something) */
	return n > 0 && (size_t)n >= 4 + tlen + 5 &&
	       ((size_t)buf[0] << 24 | (size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3]) == tlen &&
	       memcmp(buf + 4, k, tlen) == 0;
}

/* A field as its framework's JSON extractor wanted it (a string), else its 422. */
static const char *field(struct req *r, const char *key)
{
	json_object *v = NULL;
	const char *s = NULL;
	if (json_object_is_type(r->json, json_type_object) &&
	    json_object_object_get_ex(r->json, key, &v) && json_object_is_type(v, json_type_string)) {
		struct verr ve = { 0 };
		s = jmember_str(r->json, key, key, &ve);
	}
	if (!s) {
		char msg[160];
		snprintf(msg, sizeof msg,
			 "Failed to deserialize the JSON body into the target type: `%s` must be a "
			 "string (without NUL)",
			 key);
		compat_reply(r, 422, COMPAT_TEXT, NULL, msg);
	}
	return s;
}

int okto_register(struct req *r)
{
	const char *username = field(r, "username");
	if (!username)
		return 0;
	const char *email = field(r, "email");
	if (!email)
		return 0;
	const char *key = field(r, "public_key");
	if (!key)
		return 0;
	/* its rules in its order, then Cairn's own for usernames */
	struct verr ve = { 0 };
	const char *details = NULL;
	char detail[256];
	size_t chars = 0;
	for (const unsigned char *p = (const unsigned char *)username; *p; p++)
		chars += (*p & 0xC0) != 0x80;
	if (chars < 6)
		details = "Validation error: username: the length must be at least 6";
	else if (!check_username(&ve, "username", username, true))
		details = (snprintf(detail, sizeof detail, "Validation error: username: %s", ve.e[0].msg),
			   detail);
	else if (!check_email(&ve, "email", email, true))
		details = "Validation error: email: not a valid e-mail address";
	/* the key as it will be stored: one line of printable text (a PEM key's line breaks
	 * become spaces), checked before the account is made */
	char one[4097];
	snprintf(one, sizeof one, "%s", key);
	for (char *q = one; *q; q++)
		if (*q == '\n' || *q == '\r')
			*q = ' ';
	struct verr kve = { 0 };
	if (!details && (!public_key_ok(key) || strlen(key) > 4096 ||
			 !check_text(&kve, "public_key", one, PUBLIC_KEY_MAX, true)))
		details = "Validation error: public_key: not a base64, OpenSSH or PEM public key";
	if (details)
		return okto_failure(r, 400, "Invalid input data.", details);
	struct core *c = core_of(r);
	const char *realm = oktosync_cfg(((struct app *)r->app)->cfg)->realm;
	/* a password nobody knows: the user sets theirs through the mailed reset */
	char secret[TOKEN_LEN];
	token_new("okt_", secret);
	struct register_in in = { .username = username, .password = secret, .email = email,
				  .realm = realm, .addr = http_client_addr(r) };
	struct user u;
	struct realm rl;
	int retry = 0;
	memset(&ve, 0, sizeof ve);
	int e = acct_register(c, &in, &u, &rl, &ve, &retry);
	sodium_memzero(secret, sizeof secret);
	if (e == -ERR_USERNAME_TAKEN)
		return okto_failure(r, 400, "Username already taken.", NULL);
	if (e == -ERR_EMAIL_TAKEN)
		return okto_failure(r, 400, "Email already taken.", NULL);
	if (e == -ERR_SIGNUP_CLOSED)
		return okto_failure(r, 403, "Sign-up is closed on this server.", NULL);
	if (e == -ERR_RATE) {
		char ra[16];
		snprintf(ra, sizeof ra, "%d", retry);
		http_add_header(r, "Retry-After", ra);
		return okto_failure(r, 429, "Too many requests.", NULL);
	}
	if (e == -ERR_INVALID) {
		for (int i = 0; i < ve.n; i++)
			if (!strcmp(ve.e[i].field, "realm"))
				return okto_failure(r, 503, "oktosync.realm does not exist on this "
							    "server.", NULL);
		snprintf(detail, sizeof detail, "Validation error: %s: %s", ve.n ? ve.e[0].field : "?",
			 ve.n ? ve.e[0].msg : "invalid");
		return okto_failure(r, 400, "Invalid input data.", detail);
	}
	if (e < 0)
		return okto_failure(r, 500, "Database operation failed.", NULL);
	struct principal p = { .user = u, .realm = rl };
	memset(&ve, 0, sizeof ve);
	if (acct_set_public_key(c, &p, one, &ve) < 0) {
		struct orphaned o;
		acct_delete_user(c, u.id, &o); /* not half an account */
		return okto_failure(r, 500, "Database operation failed.", NULL);
	}
	json_object *o = json_object_new_object();
	json_object_object_add(o, "status", json_object_new_string("success"));
	return http_reply_json(r, 201, o);
}
