/* cairn import verstak PATH: a Verstak Sync server (its server.db, read only, and the blob
 * directory beside it) into Cairn (docs/compat/verstak.md, "Moving from Verstak Sync").
 * This half: the file checked, users with their bcrypt hashes, paired devices with their
 * tokens' hashes and ids, and the run; blobs and ops are cmd_import_verstak_ops.c's. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "../core/accounts.h"
#include "../core/sync.h"
#include "../http/compat/verstak/verstak.h"
#include "../util/arena.h"
#include "../util/clock.h"
#include "../util/err.h"
#include "../util/hex.h"
#include "../util/utf8.h"
#include "cli.h"
#include "data.h"
#include "import_verstak.h"

const char *vi_text(sqlite3_stmt *st, int i)
{
	const unsigned char *s = sqlite3_column_text(st, i);
	int n = sqlite3_column_bytes(st, i);
	if (!s || u8_check(s, (size_t)n) || memchr(s, 0, (size_t)n))
		return NULL; /* NULL, or not text Cairn can keep */
	return (const char *)s;
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

struct vuser *vi_user_of(struct vimport *x, const char *old)
{
	if (!old || strlen(old) >= sizeof x->users[0].old)
		return NULL;
	struct vuser key;
	snprintf(key.old, sizeof key.old, "%s", old);
	return bsearch(&key, x->users, (size_t)x->nusers, sizeof key, by_old);
}

sqlite3_stmt *vi_prepare(struct vimport *x, const char *sql)
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
const char *vi_printable(const char *s)
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
	sqlite3_stmt *st = vi_prepare(x, "SELECT id, username, email, password_hash, confirmed, "
				      "blocked, created_at FROM server_users ORDER BY created_at, id");
	if (!st)
		return -ERR_INVALID;
	int cap = 0;
	while (sqlite3_step(st) == SQLITE_ROW && !x->failed) {
		const char *id = vi_text(st, 0), *name = vi_text(st, 1), *email = vi_text(st, 2);
		const char *hash = vi_text(st, 3);
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
		snprintf(u->email, sizeof u->email, "%s", email);
		utf8_cut(u->email, EMAIL_MAX);
		for (char *p = u->email; *p; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		snprintf(u->password_hash, sizeof u->password_hash, "%s",
			 strlen(hash) <= PASSWORD_HASH_MAX ? hash : "");
		u->email_confirmed = sqlite3_column_int(st, 4) != 0;
		u->disabled = sqlite3_column_int(st, 5) != 0;
		u->created_ms = when(vi_text(st, 6));
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
				vi_printable(name), vi_printable(u->email), x->rl.name);
			x->t.users_skipped++;
			continue;
		}
		if (e == -ERR_INVALID || e == -ERR_USERNAME_TAKEN) {
			fprintf(stderr, "cairn import: skipped user %s: %s %s\n", vi_printable(name),
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
				vi_printable(name), u->username);
		if (reset) {
			fprintf(stderr, "cairn import: user %s: the password hash is not bcrypt; they "
					"ask for a reset (forgot) to set a new password\n", vi_printable(name));
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
const struct principal *vi_principal_of(struct vimport *x, struct vuser *vu)
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
		int hi = hex_value((unsigned char)s[2 * i]), lo = hex_value((unsigned char)s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return false;
		out[i] = (uint8_t)(hi * 16 + lo);
	}
	return true;
}

/* Its effective vault: vault_id, or "legacy:" and the user's id for devices from before
 * vaults. */
void vi_vault_of(char out[APP_SCOPE_MAX + 1], const char *vault, const char *old_user)
{
	if (vault && *vault)
		snprintf(out, APP_SCOPE_MAX + 1, "%s", vault);
	else
		snprintf(out, APP_SCOPE_MAX + 1, "legacy:%s", old_user);
}

static int read_devices(struct vimport *x)
{
	sqlite3_stmt *st = vi_prepare(x, "SELECT id, name, token_hash, api_key, legacy_api_key, "
				      "user_id, vault_id, client_version, revoked_at FROM "
				      "server_devices ORDER BY created_at, id");
	if (!st)
		return -ERR_INVALID;
	while (sqlite3_step(st) == SQLITE_ROW && !x->failed) {
		const char *id = vi_text(st, 0), *name = vi_text(st, 1), *hash = vi_text(st, 2);
		const char *key = vi_text(st, 3), *revoked = vi_text(st, 8);
		struct vuser *vu = vi_user_of(x, vi_text(st, 5));
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
		snprintf(dname, sizeof dname, "%s", name && *name ? name : "unknown");
		utf8_cut(dname, NAME_MAX_BYTES);
		snprintf(ver, sizeof ver, "%s", vi_text(st, 7) ? vi_text(st, 7) : "");
		utf8_cut(ver, PLATFORM_MAX);
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
		vi_vault_of(cl.scope, vi_text(st, 6), vu->old);
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
		sqlite3_stmt *st = vi_prepare(x, reads[i]);
		if (!st)
			return -ERR_INVALID;
		sqlite3_finalize(st);
	}
	sqlite3_stmt *st = vi_prepare(x, "SELECT (SELECT count(*) FROM (SELECT id FROM server_users "
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
		e = vi_read_blobs(&x);
	if (e == 0)
		e = vi_read_ops(&x);
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
