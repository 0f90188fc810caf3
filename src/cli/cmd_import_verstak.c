/* cairn import verstak PATH: a Verstak Sync server (its server.db, read only, and the blob
 * directory beside it) into Cairn (docs/compat/verstak.md, "Moving from Verstak Sync"):
 * users with their bcrypt hashes, paired devices with their tokens' hashes and ids, blobs
 * held by their users, and each vault's ops in their order, with the map that keeps a
 * desktop's cursor meaningful. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistr.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/accounts.h"
#include "../core/blobs.h"
#include "../core/sync.h"
#include "../http/compat/verstak/verstak.h"
#include "../util/arena.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "cli.h"
#include "data.h"

/* What became of what was read. */
struct vtally {
	int64_t users, users_there, users_reset, users_skipped;
	int64_t devices, devices_there, devices_revoked, devices_skipped;
	int64_t blobs, blobs_missing;
	int64_t vaults, vaults_there, vaults_skipped;
	int64_t ops, ops_skipped;
};

/* A user of the file and who they are in Cairn. */
struct vuser {
	char old[64];
	struct user u;
	struct principal *p; /* an import device of theirs, made when first needed */
	int64_t dev_id;
};

struct vimport {
	struct core *c;
	struct realm rl;
	sqlite3 *db;
	const char *blob_dir;
	struct vuser *users;
	int nusers;
	struct vtally t;
	bool failed; /* a store error: stop */
};

static const char *text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	if (!s || u8_check(s, (size_t)n) || memchr(s, 0, (size_t)n))
		return NULL; /* NULL, or not text Cairn can keep */
	return (const char *)s;
}

/* s cut to at most max bytes, at a character. */
static void cut(char *out, size_t outlen, const char *s, size_t max)
{
	snprintf(out, outlen, "%s", s);
	size_t n = strlen(out);
	if (n > max) {
		n = max;
		while (n && ((unsigned char)out[n] & 0xC0) == 0x80)
			n--;
		out[n] = '\0';
	}
}

/* Its times: RFC 3339 (Go), or SQLite's "YYYY-MM-DD HH:MM:SS"; 0 when neither. */
static int64_t when(const char *s)
{
	int64_t ms = 0;
	if (!s)
		return 0;
	if (parse_rfc3339_ms(s, &ms))
		return ms;
	char t[40];
	if (strlen(s) == 19 && s[10] == ' ') {
		snprintf(t, sizeof t, "%.10sT%sZ", s, s + 11);
		if (parse_rfc3339_ms(t, &ms))
			return ms;
	}
	return 0;
}

static int by_old(const void *a, const void *b)
{
	return strcmp(((const struct vuser *)a)->old, ((const struct vuser *)b)->old);
}

static struct vuser *user_of(struct vimport *x, const char *old)
{
	if (!old || strlen(old) >= sizeof x->users[0].old)
		return NULL;
	struct vuser key;
	snprintf(key.old, sizeof key.old, "%s", old);
	return bsearch(&key, x->users, (size_t)x->nusers, sizeof key, by_old);
}

static sqlite3_stmt *prepare(struct vimport *x, const char *sql)
{
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(x->db, sql, -1, &st, NULL) != SQLITE_OK) {
		fprintf(stderr, "cairn import: not a Verstak Sync database: %s\n", sqlite3_errmsg(x->db));
		x->failed = true;
		return NULL;
	}
	return st;
}

/* A username Cairn takes for name: its letters, digits, '.', '_' and '-' (others as '-'),
 * or, when that leaves nothing, "verstak-" and the start of its old id. */
static void cairn_name(char *out, size_t len, const char *name, const char *old)
{
	size_t k = 0;
	for (const char *p = name; *p && k + 1 < len && k < USERNAME_MAX; p++) {
		char ch = *p;
		bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9');
		if (!ok && k && out[k - 1] == '-')
			continue;
		char put = ok || (k && (ch == '.' || ch == '_')) ? ch : '-';
		out[k++] = put;
		if ((unsigned char)ch >= 0x80)
			while (((unsigned char)p[1] & 0xC0) == 0x80)
				p++;
	}
	while (k && out[k - 1] == '-')
		k--;
	out[k] = '\0';
	size_t alnum = 0;
	for (size_t i = 0; i < k; i++)
		alnum += (out[i] >= 'a' && out[i] <= 'z') || (out[i] >= 'A' && out[i] <= 'Z') ||
			 (out[i] >= '0' && out[i] <= '9');
	if (!alnum || out[0] == '-')
		snprintf(out, len, "verstak-%.12s", old);
}

/* s for a terminal: control characters as '?' (a hostile file's names are echoed). */
static const char *printable(const char *s)
{
	static char buf[4][512];
	static int k;
	char *out = buf[k++ % 4];
	size_t i = 0;
	for (; s && s[i] && i + 1 < sizeof buf[0]; i++)
		out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	out[i] = '\0';
	return out;
}

/* --- users --- */

static int read_users(struct vimport *x)
{
	sqlite3_stmt *st = prepare(x, "SELECT id, username, email, password_hash, confirmed, "
				      "blocked, created_at FROM server_users ORDER BY created_at, id");
	if (!st)
		return -ERR_INVALID;
	int cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW && !x->failed) {
		const char *id = text(st, 0), *name = text(st, 1), *email = text(st, 2);
		const char *hash = text(st, 3);
		if (!id || strlen(id) >= sizeof x->users[0].old || !name || !email || !hash) {
			fprintf(stderr, "cairn import: skipped user %.64s: a field is missing or not "
					"UTF-8\n", id && !u8_check((const uint8_t *)id, strlen(id)) ? id : "?");
			x->t.users_skipped++;
			continue;
		}
		if (x->nusers == cap) {
			cap = cap ? 2 * cap : 64;
			struct vuser *v = realloc(x->users, sizeof *v * (size_t)cap);
			if (!v) {
				x->failed = true;
				break;
			}
			x->users = v;
		}
		struct vuser *vu = &x->users[x->nusers];
		memset(vu, 0, sizeof *vu);
		snprintf(vu->old, sizeof vu->old, "%s", id);
		struct user *u = &vu->u;
		/* the name Cairn knows them by: theirs, or one made from it */
		struct verr ve = { 0 };
		char cname[USERNAME_MAX + 1];
		bool renamed = strlen(name) > USERNAME_MAX || !check_username(&ve, "username", name, true);
		if (renamed) /* Cyrillic, spaces, '@'...: a name Cairn can keep; they log in by address */
			cairn_name(cname, sizeof cname, name, id);
		else
			snprintf(cname, sizeof cname, "%s", name);
		/* imported before: the account this Verstak user became (never an account that
		 * merely has the same name or address: that could be anyone's) */
		struct app_client ident;
		if (sync_client_get(x->c, VK_USER_APP, x->rl.id, id, &ident) == 0 &&
		    admin_user_get(x->c, NULL, ident.user_id, u) == 0) {
			x->t.users_there++;
			x->nusers++;
			continue;
		}
		memset(u, 0, sizeof *u);
		u->realm_id = x->rl.id;
		cut(u->email, sizeof u->email, email, EMAIL_MAX);
		for (char *p = u->email; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		snprintf(u->password_hash, sizeof u->password_hash, "%s",
			 strlen(hash) <= PASSWORD_HASH_MAX ? hash : "");
		u->email_confirmed = sqlite3_column_int(st, 4) != 0;
		u->disabled = sqlite3_column_int(st, 5) != 0;
		u->created_ms = when(text(st, 6));
		if (!u->created_ms)
			u->created_ms = clock_wall_ms();
		bool reset = false;
		snprintf(u->username, sizeof u->username, "%s", cname);
		memset(&ve, 0, sizeof ve);
		int e = acct_import_user(x->c, u, &reset, &ve);
		if (e == -ERR_USERNAME_TAKEN) { /* another account's name: theirs stays */
			cairn_name(u->username, sizeof u->username, "", id);
			renamed = true;
			memset(&ve, 0, sizeof ve);
			e = acct_import_user(x->c, u, &reset, &ve);
		}
		if (e == -ERR_EMAIL_TAKEN) {
			fprintf(stderr, "cairn import: skipped user %s: the address %s belongs to another "
					"account of realm %s, which is not merged with it (move that "
					"account out of the way, then import again)\n",
				printable(name), printable(u->email), x->rl.name);
			x->t.users_skipped++;
			continue;
		}
		if (e == -ERR_INVALID || e == -ERR_USERNAME_TAKEN) {
			fprintf(stderr, "cairn import: skipped user %s: %s %s\n", printable(name),
				ve.n ? ve.e[0].field : "username", ve.n ? ve.e[0].msg : "is taken");
			x->t.users_skipped++;
			continue;
		}
		struct app_client me = { .realm_id = x->rl.id, .user_id = u->id,
					 .created_ms = clock_wall_ms() };
		snprintf(me.client_id, sizeof me.client_id, "%s", id);
		if (e == 0)
			e = sync_client_add(x->c, VK_USER_APP, &me);
		if (e < 0) {
			cli_report("import", e, &ve);
			x->failed = true;
			break;
		}
		if (renamed)
			fprintf(stderr, "cairn import: user %s is %s in Cairn (a username there is "
					"ASCII letters, digits, '.', '_', '-', and not taken); they may log in "
					"by address\n",
				printable(name), u->username);
		if (reset) {
			fprintf(stderr, "cairn import: user %s: the password hash is not bcrypt; they "
					"ask for a reset (forgot) to set a new password\n", printable(name));
			x->t.users_reset++;
		}
		x->t.users++;
		x->nusers++;
	}
	sqlite3_finalize(st);
	qsort(x->users, (size_t)x->nusers, sizeof *x->users, by_old);
	return x->failed ? -ERR_INVALID : 0;
}

/* The user's principal through a device of the import's own, revoked at the end. */
static const struct principal *principal_of(struct vimport *x, struct vuser *vu)
{
	if (vu->p)
		return vu->p;
	char token[TOKEN_LEN];
	struct device dev;
	struct verr ve = { 0 };
	struct principal *p = calloc(1, sizeof *p);
	int e = p ? acct_token_create(x->c, vu->u.id, "verstak import", token, &dev, &ve) : -ERR_NOMEM;
	if (e == 0) {
		vu->dev_id = dev.id;
		e = acct_authenticate(x->c, token, p);
		if (e == -ERR_DISABLED) {
			/* a blocked user's data moves too: the import acts for them, blocked or not */
			memset(p, 0, sizeof *p);
			p->user = vu->u;
			p->realm = x->rl;
			p->device = dev;
			p->token_kind = TOKEN_LONG;
			e = 0;
		}
	}
	if (e < 0) {
		free(p);
		cli_report("import", e, &ve);
		x->failed = true;
		return NULL;
	}
	return vu->p = p;
}

/* --- devices --- */

static bool hex_bytes(const char *s, uint8_t out[32])
{
	if (!s || strlen(s) != 64)
		return false;
	for (int i = 0; i < 32; i++) {
		unsigned v = 0;
		for (int k = 0; k < 2; k++) {
			char ch = s[2 * i + k];
			unsigned d = ch >= '0' && ch <= '9' ? (unsigned)(ch - '0')
				   : ch >= 'a' && ch <= 'f' ? (unsigned)(ch - 'a' + 10)
				   : ch >= 'A' && ch <= 'F' ? (unsigned)(ch - 'A' + 10) : 16;
			if (d > 15)
				return false;
			v = v * 16 + d;
		}
		out[i] = (uint8_t)v;
	}
	return true;
}

/* Its effective vault: vault_id, or "legacy:" and the user's id for devices from before
 * vaults. */
static void vault_of(char out[APP_SCOPE_MAX + 1], const char *vault, const char *old_user)
{
	if (vault && *vault)
		snprintf(out, APP_SCOPE_MAX + 1, "%s", vault);
	else
		snprintf(out, APP_SCOPE_MAX + 1, "legacy:%s", old_user);
}

static int read_devices(struct vimport *x)
{
	sqlite3_stmt *st = prepare(x, "SELECT id, name, token_hash, api_key, legacy_api_key, "
				      "user_id, vault_id, client_version, revoked_at FROM "
				      "server_devices ORDER BY created_at, id");
	if (!st)
		return -ERR_INVALID;
	while (sqlite3_step(st) == SQLITE_ROW && !x->failed) {
		const char *id = text(st, 0), *name = text(st, 1), *hash = text(st, 2);
		const char *key = text(st, 3), *revoked = text(st, 8);
		struct vuser *vu = user_of(x, text(st, 5));
		if (revoked && *revoked) {
			x->t.devices_revoked++;
			continue;
		}
		uint8_t h[32];
		bool have = hex_bytes(hash, h);
		if (!have && sqlite3_column_int(st, 4) && key && strlen(key) >= 20 &&
		    strlen(key) <= 2 * TOKEN_LEN) { /* what acct_authenticate takes */
			token_hash(key, h); /* a legacy plaintext key: Cairn keeps its hash */
			have = true;
		}
		const char *why = !id || !*id || strlen(id) > APP_CLIENT_ID_MAX ? "its id does not fit"
				  : !vu ? "its user was not imported"
				  : !have ? "it has no key Cairn takes (a hash, or a legacy key of 20 to 128 "
					    "characters)"
					  : NULL;
		if (why) {
			fprintf(stderr, "cairn import: skipped device %.64s: %s\n", id ? id : "?", why);
			x->t.devices_skipped++;
			continue;
		}
		struct app_client cl;
		if (sync_client_get(x->c, VERSTAK_APP, x->rl.id, id, &cl) == 0) {
			x->t.devices_there++;
			continue;
		}
		char dname[NAME_MAX_BYTES + 1], ver[PLATFORM_MAX + 1];
		cut(dname, sizeof dname, name && *name ? name : "unknown", NAME_MAX_BYTES);
		cut(ver, sizeof ver, text(st, 7) ? text(st, 7) : "", PLATFORM_MAX);
		struct device dev;
		struct verr ve = { 0 };
		int e = acct_token_import(x->c, vu->u.id, dname, ver, h, &dev, &ve);
		if (e == -ERR_INVALID) { /* a name with control characters */
			memset(&ve, 0, sizeof ve);
			e = acct_token_import(x->c, vu->u.id, "unknown", "", h, &dev, &ve);
		}
		if (e == -ERR_EXISTS) {
			fprintf(stderr, "cairn import: skipped device %s: its key is another device's\n", id);
			x->t.devices_skipped++;
			continue;
		}
		memset(&cl, 0, sizeof cl);
		snprintf(cl.client_id, sizeof cl.client_id, "%s", id);
		cl.realm_id = x->rl.id;
		cl.user_id = vu->u.id;
		cl.device_id = dev.id;
		cl.created_ms = clock_wall_ms();
		vault_of(cl.scope, text(st, 6), vu->old);
		if (e == 0 && (e = sync_client_add(x->c, VERSTAK_APP, &cl)) < 0)
			acct_device_revoke(x->c, vu->u.id, dev.id);
		if (e < 0) {
			cli_report("import", e, &ve);
			x->failed = true;
			break;
		}
		x->t.devices++;
	}
	sqlite3_finalize(st);
	return x->failed ? -ERR_INVALID : 0;
}

/* --- blobs --- */

static bool lower_hex64(const char *s)
{
	size_t i = 0;
	for (; s && s[i]; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return i == 64;
}

static int put_blob(struct vimport *x, const struct principal *p, const char *sha, int64_t size)
{
	char path[4096];
	snprintf(path, sizeof path, "%s/%.2s/%.2s/%s", x->blob_dir, sha, sha + 2, sha);
	/* a regular file, not a link (to anything on this host) nor a FIFO that never ends */
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	struct stat stt;
	if (fd < 0 || fstat(fd, &stt) < 0 || !S_ISREG(stt.st_mode)) {
		if (fd >= 0)
			close(fd);
		return -ERR_NOT_FOUND;
	}
	FILE *f = fdopen(fd, "rb");
	if (!f) {
		close(fd);
		return -ERR_IO;
	}
	struct blob_upload *u = NULL;
	int e = blob_upload_begin(x->c, p, sha, size, &u);
	char buf[65536];
	size_t n;
	while (e == 0 && (n = fread(buf, 1, sizeof buf, f)) > 0)
		e = blob_upload_write(u, buf, n);
	if (e == 0 && ferror(f))
		e = -ERR_IO;
	fclose(f);
	char got[65];
	int64_t got_size = 0;
	bool fresh = false;
	if (e == 0)
		e = blob_upload_finish(u, got, &got_size, &fresh);
	blob_upload_free(u);
	return e;
}

static int read_blobs(struct vimport *x)
{
	sqlite3_stmt *st = prepare(x, "SELECT DISTINCT user_id, sha256, size FROM server_blob_refs "
				      "ORDER BY user_id, sha256");
	if (!st)
		return -ERR_INVALID;
	while (sqlite3_step(st) == SQLITE_ROW && !x->failed) {
		struct vuser *vu = user_of(x, text(st, 0));
		const char *sha = text(st, 1);
		if (!vu || !lower_hex64(sha)) {
			x->t.blobs_missing++;
			continue;
		}
		const struct principal *p = principal_of(x, vu);
		if (!p)
			break;
		int e = put_blob(x, p, sha, sqlite3_column_int64(st, 2));
		if (e == -ERR_NOT_FOUND || e == -ERR_MISMATCH || e == -ERR_TOO_LARGE || e == -ERR_QUOTA) {
			fprintf(stderr, "cairn import: blob %s of %s not imported: %s\n", sha,
				vu->u.username, e == -ERR_NOT_FOUND ? "its file is missing or not a regular file"
						: e == -ERR_MISMATCH ? "its file is damaged"
						: e == -ERR_QUOTA ? "over the user's quota"
								   : "over blobs.max_size");
			x->t.blobs_missing++;
			continue;
		}
		if (e < 0) {
			cli_report("import", e, NULL);
			x->failed = true;
			break;
		}
		x->t.blobs++;
	}
	sqlite3_finalize(st);
	return x->failed ? -ERR_INVALID : 0;
}

/* --- ops, a vault at a time --- */

struct vault {
	struct vuser *vu;
	const struct principal *p;
	struct space sp;
	char name[APP_SCOPE_MAX + 1];
	bool skip;
	bool counts; /* skipped, and its ops count as not imported */
	bool before; /* imported before: ops newer than its map are named, not imported */
	int64_t map_last, newer;
	/* the batch being built */
	struct arena a;
	struct push_change *ch;
	int64_t *orig; /* each change's Verstak sequence */
	int n, cap;
	/* what the map records */
	int64_t first, last, last_orig;
};

static int flush_ops(struct vimport *x, struct vault *v)
{
	if (!v->n)
		return 0;
	struct push_result *res = calloc((size_t)v->n, sizeof *res);
	if (!res)
		return -ERR_NOMEM;
	struct push_job j = { .p = v->p, .sp = &v->sp, .changes = v->ch, .n = v->n, .results = res,
			      .arena = &v->a };
	j.rc = sync_push_check(x->c, &j);
	if (j.rc == 0)
		sync_push_run(x->c, &j);
	int e = j.rc;
	for (int i = 0; e == 0 && i < v->n; i++) {
		if (res[i].status != OPS_APPLIED)
			continue; /* cannot be: the vault's space was empty */
		if (!v->first)
			v->first = res[i].seq;
		v->last = res[i].seq;
		v->last_orig = v->orig[i];
		x->t.ops++;
	}
	if (e == 0)
		push_results_free(res, v->n);
	else
		cli_report("import", e, &j.ve);
	free(res);
	for (int i = 0; i < v->n; i++)
		json_object_put(v->ch[i].data);
	arena_free(&v->a);
	v->a = (struct arena)ARENA_INIT;
	v->n = 0;
	return e;
}

/* Ends a vault: its last batch, then the map of its sequence numbers. */
static int end_vault(struct vimport *x, struct vault *v)
{
	int e = v->skip ? 0 : flush_ops(x, v);
	if (v->newer)
		fprintf(stderr, "cairn import: vault %s of %s was imported before: %lld ops written "
				"to Verstak Sync since then were not imported (a vault is imported "
				"once)\n", v->name, v->vu->u.username, (long long)v->newer);
	if (e == 0 && !v->skip && v->first) {
		json_object *m = json_object_new_object();
		json_object_object_add(m, "first_seq", json_object_new_int64(v->first));
		json_object_object_add(m, "last_seq", json_object_new_int64(v->last));
		json_object_object_add(m, "last_verstak_seq", json_object_new_int64(v->last_orig));
		char op[48]; /* op ids are the device's: one per vault */
		snprintf(op, sizeof op, "verstak-import-map-%lld", (long long)v->sp.id);
		struct push_change ch = { .op_id = op,
					  .collection = VK_IMPORT_COLLECTION, .id = VK_IMPORT_RECORD,
					  .op = OP_PUT, .data = m, .base_version = -1 };
		struct push_result res = { 0 };
		struct push_job j = { .p = v->p, .sp = &v->sp, .changes = &ch, .n = 1, .results = &res,
				      .arena = &v->a };
		j.rc = sync_push_check(x->c, &j);
		if (j.rc == 0)
			sync_push_run(x->c, &j);
		e = j.rc;
		if (e == 0)
			push_results_free(&res, 1);
		else
			cli_report("import", e, &j.ve);
		json_object_put(m);
		x->t.vaults++;
	}
	arena_free(&v->a);
	free(v->ch);
	free(v->orig);
	memset(v, 0, sizeof *v);
	return e;
}

static int begin_vault(struct vimport *x, struct vault *v, struct vuser *vu, const char *name)
{
	memset(v, 0, sizeof *v);
	v->a = (struct arena)ARENA_INIT;
	v->vu = vu;
	snprintf(v->name, sizeof v->name, "%s", name);
	v->p = principal_of(x, vu);
	if (!v->p)
		return -ERR_INVALID;
	char app[APP_SCOPE_MAX + 16];
	snprintf(app, sizeof app, "%s:%s", VERSTAK_APP, name);
	int e = sync_space_for_app(x->c, v->p, app, &v->sp);
	if (e < 0)
		return e;
	struct record rec = { 0 };
	if (sync_record_get(x->c, v->p, &v->sp, VK_IMPORT_COLLECTION, VK_IMPORT_RECORD, &rec) == 0) {
		json_object *m = rec.data ? json_tokener_parse(rec.data) : NULL, *l;
		v->map_last = json_object_object_get_ex(m, "last_verstak_seq", &l)
				      ? json_object_get_int64(l) : 0;
		json_object_put(m);
		record_clear(&rec);
		x->t.vaults_there++;
		v->skip = v->before = true; /* imported before: once is all a map can say */
	} else if (v->sp.head_seq > 0) {
		fprintf(stderr, "cairn import: skipped vault %s of %s: its space already has changes "
				"(a desktop synced it through Cairn); import before pairing\n",
			name, vu->u.username);
		x->t.vaults_skipped++;
		v->skip = v->counts = true;
	}
	int cap = (int)limits_cfg(x->c->cfg)->push_changes;
	v->cap = cap < 1000 ? cap : 1000;
	v->ch = calloc((size_t)v->cap, sizeof *v->ch);
	v->orig = calloc((size_t)v->cap, sizeof *v->orig);
	return v->ch && v->orig ? 0 : -ERR_NOMEM;
}

/* One op row into the vault's batch, unless it cannot be kept. */
static int add_op(struct vimport *x, struct vault *v, sqlite3_stmt *st)
{
	static const char *const names[] = { "op_id", "device_id", "entity_type", "entity_id",
					     "op_type", "payload_json" };
	static const size_t max[] = { 128, APP_CLIENT_ID_MAX, 64, 4096, 64, 16 * 1024 * 1024 };
	const char *f[6];
	for (int i = 0; i < 6; i++) {
		f[i] = text(st, 2 + i);
		if (!f[i] || strlen(f[i]) > max[i]) {
			fprintf(stderr, "cairn import: skipped op %.64s of vault %s: %s is missing, too "
					"long or not UTF-8\n", f[0] ? f[0] : "?", v->name, names[i]);
			x->t.ops_skipped++;
			return 0;
		}
	}
	const char *created = text(st, 11) ? text(st, 11) : "";
	json_object *o = json_object_new_object();
	for (int i = 0; i < 6; i++)
		json_object_object_add(o, names[i], json_object_new_string(f[i]));
	json_object_object_add(o, "client_sequence", json_object_new_int64(sqlite3_column_int64(st, 9)));
	json_object_object_add(o, "last_seen_server_seq",
			       json_object_new_int64(sqlite3_column_int64(st, 10)));
	json_object_object_add(o, "created_at", json_object_new_string(created));
	int64_t orig = sqlite3_column_int64(st, 8);
	json_object_object_add(o, "verstak_seq", json_object_new_int64(orig));
	const char *textv = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	if ((int64_t)strlen(textv) > limits_cfg(x->c->cfg)->record_bytes) {
		fprintf(stderr, "cairn import: skipped op %s of vault %s: %zu bytes, over "
				"limits.record_bytes\n", f[0], v->name, strlen(textv));
		json_object_put(o);
		x->t.ops_skipped++;
		return 0;
	}
	char idbuf[VK_RECORD_ID_LEN];
	const char *rid = vk_record_id(f[0], idbuf);
	const char *id = arena_strndup(&v->a, rid, strlen(rid));
	char opbuf[VK_RECORD_ID_LEN];
	const char *oid = vk_op_id(f[0], opbuf);
	const char *cairn_op = arena_strndup(&v->a, oid, strlen(oid));
	struct push_change *ch = &v->ch[v->n];
	memset(ch, 0, sizeof *ch);
	ch->op_id = cairn_op;
	ch->collection = VERSTAK_OPS;
	ch->id = id;
	ch->op = OP_PUT;
	ch->base_version = -1;
	ch->data = o;
	/* a file op names its blob, when its user has it, so that the vault keeps it */
	json_object *pj = !strcmp(f[2], "file") ? json_tokener_parse(f[5]) : NULL, *b, *sha;
	if (json_object_object_get_ex(pj, "blob", &b) && json_object_object_get_ex(b, "sha256", &sha) &&
	    lower_hex64(json_object_get_string(sha))) {
		const char *s = json_object_get_string(sha);
		bool missing = true;
		blob_missing(x->c, v->p, &s, 1, &missing);
		char js[72];
		snprintf(js, sizeof js, "[\"%s\"]", s);
		if (!missing && (ch->blobs = arena_alloc(&v->a, sizeof *ch->blobs)) &&
		    (ch->blobs[0] = arena_strndup(&v->a, s, 64)) &&
		    (ch->blobs_json = arena_strndup(&v->a, js, strlen(js))))
			ch->nblobs = 1;
	}
	json_object_put(pj);
	if (!id || !cairn_op) {
		json_object_put(o);
		return -ERR_NOMEM;
	}
	for (int k = 0; k < v->n; k++)
		if (!strcmp(v->ch[k].id, id) || !strcmp(v->ch[k].op_id, ch->op_id)) {
			fprintf(stderr, "cairn import: skipped op %s of vault %s: its id is another op's\n",
				printable(f[0]), printable(v->name));
			json_object_put(o);
			x->t.ops_skipped++;
			return 0;
		}
	v->orig[v->n++] = orig;
	return v->n == v->cap ? flush_ops(x, v) : 0;
}

static int read_ops(struct vimport *x)
{
	sqlite3_stmt *st = prepare(x, "SELECT user_id, vault_id, op_id, device_id, entity_type, "
				      "entity_id, op_type, payload_json, server_sequence, "
				      "client_sequence, last_seen_server_seq, created_at FROM server_ops "
				      "WHERE typeof(server_sequence) = 'integer' AND server_sequence > 0 "
				      "AND server_sequence < 9007199254740992 ORDER BY user_id, "
				      "vault_id, server_sequence");
	if (!st)
		return -ERR_INVALID;
	struct vault v = { 0 };
	bool open = false;
	int e = 0;
	while (e == 0 && sqlite3_step(st) == SQLITE_ROW) {
		struct vuser *vu = user_of(x, text(st, 0));
		char name[APP_SCOPE_MAX + 1];
		if (!vu) {
			x->t.ops_skipped++; /* its user was skipped (said above) */
			continue;
		}
		const char *vault = text(st, 1);
		if (vault && strlen(vault) > APP_SCOPE_MAX) {
			x->t.ops_skipped++;
			continue;
		}
		vault_of(name, vault, vu->old);
		if (!open || v.vu != vu || strcmp(v.name, name)) {
			if (open && (e = end_vault(x, &v)) < 0)
				break;
			e = begin_vault(x, &v, vu, name);
			open = true;
			if (e < 0)
				break;
		}
		if (!v.skip)
			e = add_op(x, &v, st);
		else if (v.counts)
			x->t.ops_skipped++;
		else if (v.before && sqlite3_column_int64(st, 8) > v.map_last) {
			v.newer++;
			x->t.ops_skipped++;
		}
	}
	sqlite3_finalize(st);
	if (open) {
		int e2 = end_vault(x, &v);
		if (e == 0)
			e = e2;
	}
	return e;
}

/* Before anything is written: the tables and columns it reads are there, and ids that its
 * server kept unique are. */
static int check_file(struct vimport *x)
{
	static const char *const reads[] = {
		"SELECT id, username, email, password_hash, confirmed, blocked, created_at FROM "
		"server_users LIMIT 0",
		"SELECT id, name, token_hash, api_key, legacy_api_key, user_id, vault_id, "
		"client_version, revoked_at, created_at FROM server_devices LIMIT 0",
		"SELECT user_id, vault_id, sha256, size FROM server_blob_refs LIMIT 0",
		"SELECT user_id, vault_id, op_id, device_id, entity_type, entity_id, op_type, "
		"payload_json, server_sequence, client_sequence, last_seen_server_seq, created_at "
		"FROM server_ops LIMIT 0",
	};
	for (size_t i = 0; i < sizeof reads / sizeof reads[0]; i++) {
		sqlite3_stmt *st = prepare(x, reads[i]);
		if (!st)
			return -ERR_INVALID;
		sqlite3_finalize(st);
	}
	sqlite3_stmt *st = prepare(x, "SELECT (SELECT count(*) FROM (SELECT id FROM server_users "
				      "GROUP BY id HAVING count(*) > 1)) + (SELECT count(*) FROM "
				      "(SELECT op_id FROM server_ops GROUP BY op_id HAVING count(*) > "
				      "1)), (SELECT count(*) FROM server_ops WHERE NOT "
				      "(typeof(server_sequence) = 'integer' AND server_sequence > 0 AND "
				      "server_sequence < 9007199254740992))");
	if (!st)
		return -ERR_INVALID;
	int64_t twice = 0;
	if (sqlite3_step(st) == SQLITE_ROW) {
		twice = sqlite3_column_int64(st, 0);
		x->t.ops_skipped += sqlite3_column_int64(st, 1);
		if (sqlite3_column_int64(st, 1))
			fprintf(stderr, "cairn import: skipped %lld ops without a sequence number (or "
					"with one of 2^53 or more)\n", (long long)sqlite3_column_int64(st, 1));
	}
	sqlite3_finalize(st);
	if (twice) {
		fprintf(stderr, "cairn import: not a Verstak Sync database: a user id or op_id is "
				"there twice\n");
		return -ERR_INVALID;
	}
	return 0;
}

int import_verstak(struct data *d, const char *path, const char *realm, const char *blob_dir)
{
	struct vimport x = { .c = &d->core };
	struct verr ve = { 0 };
	int e = acct_realm(&d->core, realm, &x.rl, &ve);
	if (e < 0)
		return cli_report("import", e, &ve);
	char err[256];
	if (core_open_blobs(&d->core, err, sizeof err) < 0) {
		fprintf(stderr, "cairn import: %s\n", err);
		return EXIT_FAIL;
	}
	if (sqlite3_open_v2(path, &x.db, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK) {
		fprintf(stderr, "cairn import: cannot open %s: %s\n", path,
			x.db ? sqlite3_errmsg(x.db) : "");
		sqlite3_close(x.db);
		return EXIT_FAIL;
	}
	char dir[4096];
	if (blob_dir)
		snprintf(dir, sizeof dir, "%s", blob_dir);
	else {
		const char *slash = strrchr(path, '/');
		snprintf(dir, sizeof dir, "%.*sblobs", slash ? (int)(slash - path + 1) : 0, path);
	}
	x.blob_dir = dir;
	e = check_file(&x);
	if (e == 0)
		e = read_users(&x);
	if (e == 0)
		e = read_devices(&x);
	if (e == 0)
		e = read_blobs(&x);
	if (e == 0)
		e = read_ops(&x);
	for (int i = 0; i < x.nusers; i++) {
		if (x.users[i].dev_id)
			acct_device_revoke(&d->core, x.users[i].u.id, x.users[i].dev_id);
		free(x.users[i].p);
	}
	free(x.users);
	sqlite3_close(x.db);
	if (e < 0 || x.failed)
		return EXIT_FAIL; /* said why */
	const struct vtally *t = &x.t;
	printf("imported from %s into realm %s:\n", path, x.rl.name);
	printf("  users    %lld new, %lld there already, %lld to reset their password, %lld "
	       "skipped\n", (long long)t->users, (long long)t->users_there,
	       (long long)t->users_reset, (long long)t->users_skipped);
	printf("  devices  %lld paired, %lld there already, %lld revoked (left out), %lld "
	       "skipped\n", (long long)t->devices, (long long)t->devices_there,
	       (long long)t->devices_revoked, (long long)t->devices_skipped);
	printf("  blobs    %lld, %lld not imported\n", (long long)t->blobs,
	       (long long)t->blobs_missing);
	printf("  vaults   %lld, %lld imported before, %lld skipped\n", (long long)t->vaults,
	       (long long)t->vaults_there, (long long)t->vaults_skipped);
	printf("  ops      %lld, %lld skipped\n", (long long)t->ops, (long long)t->ops_skipped);
	bool lost = t->users_skipped || t->devices_skipped || t->blobs_missing ||
		    t->vaults_skipped || t->ops_skipped;
	if (lost)
		printf("  something was not imported (see above); exit status 1\n");
	return lost ? EXIT_FAIL : EXIT_OK;
}
