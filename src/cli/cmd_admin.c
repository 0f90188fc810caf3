/* cairn user|realm|token|gc|check: administration on a data directory, also while the server runs
 * (SQLite in WAL mode lets both write; each change is one transaction). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "../core/accounts.h"
#include "../core/blobs.h"
#include "../core/gc.h"
#include "../store/blob.h"
#include "../store/store.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "cli.h"

#define MAX_ARGS 64

struct args {
	char *v[MAX_ARGS];
	int n;
	const char *const *extra;
};

static bool takes_value(const struct args *a, const char *name)
{
	size_t n = strlen(name);
	for (const char *const *e = a->extra; *e; e++)
		if (strlen(*e) == n + 1 && !strncmp(*e, name, n) && (*e)[n] == '=')
			return true;
	return false;
}

/* The value of --name, or NULL. */
static const char *opt(const struct args *a, const char *name)
{
	size_t n = strlen(name);
	for (int i = 0; i < a->n; i++) {
		if (!strncmp(a->v[i], name, n) && a->v[i][n] == '=')
			return a->v[i] + n + 1;
		if (!strcmp(a->v[i], name) && i + 1 < a->n)
			return a->v[i + 1];
	}
	return NULL;
}

static bool flag(const struct args *a, const char *name)
{
	for (int i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], name))
			return true;
	return false;
}

/* The k-th argument that is not an option or an option's value. */
static const char *positional(const struct args *a, int k)
{
	for (int i = 0; i < a->n; i++) {
		if (!strncmp(a->v[i], "--", 2)) {
			if (!strchr(a->v[i], '=') && takes_value(a, a->v[i]))
				i++;
			continue;
		}
		if (k-- == 0)
			return a->v[i];
	}
	return NULL;
}

static int count_positional(const struct args *a)
{
	int n = 0;
	while (positional(a, n))
		n++;
	return n;
}

struct data {
	struct config cfg;
	struct store *store;
	struct core core;
};

static int open_data(struct data *d, int argc, char **argv, const char *const *extra,
		     struct args *a, bool *ret_help)
{
	a->extra = extra;
	if (argc > MAX_ARGS) {
		fprintf(stderr, "cairn: too many arguments\n");
		return EXIT_USAGE;
	}
	int r = cli_load_config_ex(argc, argv, extra, false, &d->cfg, a->v, &a->n, ret_help);
	if (r || *ret_help)
		return r;
	log_setup("warn", d->cfg.log_format);
	char err[512];
	if (store_open(&d->cfg, 1, STORE_EXISTING, &d->store, err, sizeof err) < 0) {
		fprintf(stderr, "cairn: cannot open the database: %s\n", err);
		config_free(&d->cfg);
		return EXIT_FAIL;
	}
	if (core_init(&d->core, &d->cfg, d->store, err, sizeof err) < 0) {
		fprintf(stderr, "cairn: %s\n", err);
		store_close(d->store);
		config_free(&d->cfg);
		return EXIT_FAIL;
	}
	return 0;
}

static void close_data(struct data *d)
{
	d->core.blobs = blobstore_close(d->core.blobs);
	d->store = store_close(d->store);
	config_free(&d->cfg);
}

/* A password from standard input (one line) or, on a terminal, typed twice without echo. */
static int read_password(bool from_stdin, char *out, size_t len)
{
	if (from_stdin) {
		if (!fgets(out, (int)len, stdin)) {
			fprintf(stderr, "cairn: no password on standard input\n");
			return -1;
		}
		out[strcspn(out, "\r\n")] = '\0';
		return 0;
	}
	FILE *tty = fopen("/dev/tty", "r+e");
	if (!tty) {
		fprintf(stderr, "cairn: no terminal to ask for the password: use --password-stdin\n");
		return -1;
	}
	struct termios old, quiet;
	int fd = fileno(tty);
	tcgetattr(fd, &old);
	quiet = old;
	quiet.c_lflag &= ~(tcflag_t)ECHO;
	char again[1100];
	int r = -1;
	fputs("Password: ", tty);
	fflush(tty);
	tcsetattr(fd, TCSAFLUSH, &quiet);
	if (fgets(out, (int)len, tty)) {
		fputs("\nAgain: ", tty);
		fflush(tty);
		if (fgets(again, sizeof again, tty)) {
			out[strcspn(out, "\r\n")] = '\0';
			again[strcspn(again, "\r\n")] = '\0';
			r = strcmp(out, again) ? -2 : 0;
		}
	}
	tcsetattr(fd, TCSAFLUSH, &old);
	fputs("\n", tty);
	fclose(tty);
	sodium_memzero(again, sizeof again);
	if (r == -2)
		fprintf(stderr, "cairn: the passwords differ\n");
	return r;
}

static int report(const char *what, int e, const struct verr *ve)
{
	if (e == -ERR_INVALID && ve && ve->n) {
		for (int i = 0; i < ve->n; i++)
			fprintf(stderr, "cairn %s: %s %s\n", what, ve->e[i].field, ve->e[i].msg);
		return EXIT_USAGE;
	}
	if (e == -ERR_EXISTS && ve && ve->n) {
		fprintf(stderr, "cairn %s: %s %s\n", what, ve->e[0].field, ve->e[0].msg);
		return EXIT_FAIL;
	}
	fprintf(stderr, "cairn %s: %s\n", what, err_str(e));
	return EXIT_FAIL;
}

/* The exit status of a command whose last step returned e (not-found was already said),
 * after closing the data directory. */
static int finish(struct data *d, const char *what, int r, int e, const struct verr *ve)
{
	if (e == -ERR_NOT_FOUND)
		r = EXIT_FAIL;
	else if (e < 0)
		r = report(what, e, ve);
	close_data(d);
	return r;
}

static int find_user(struct data *d, const struct args *a, const char *name, struct user *u)
{
	struct verr ve = { 0 };
	struct realm rl;
	int e = acct_realm(&d->core, opt(a, "--realm"), &rl, &ve);
	if (e == 0)
		e = d->store->ops->user_find(d->store, rl.id, name, u);
	if (e == -ERR_NOT_FOUND)
		fprintf(stderr, "cairn: no user '%s' in realm %s\n", name, rl.name);
	else if (e < 0)
		report("user", e, &ve);
	return e;
}

/* --- the verbs of user, realm and token: one table each, for their --help, their
 * "expected ..." message and cairn help's line --- */

struct verb {
	const char *name, *args;
};

static const struct verb user_verbs[] = {
	{ "add", "NAME [--admin] [--realm R] [--email E] [--name N] [--password-stdin]" },
	{ "list", "[--realm R] [--search TEXT]" },
	{ "passwd", "NAME [--realm R] [--password-stdin]" },
	{ "disable", "NAME [--realm R]" },
	{ "enable", "NAME [--realm R]" },
	{ "confirm", "NAME [--realm R]" },
	{ "delete", "NAME [--realm R]" },
	{ NULL, NULL },
};

static const struct verb realm_verbs[] = {
	{ "list", "" },
	{ "add", "NAME [--display-name TEXT] [--signup open|closed] [--confirm-email yes|no] "
		 "[--access-ttl DURATION] [--refresh-ttl DURATION]" },
	{ "set", "NAME [the options of add]" },
	{ NULL, NULL },
};

static const struct verb token_verbs[] = {
	{ "create", "--user NAME --name LABEL [--realm R]" },
	{ "list", "--user NAME [--realm R]" },
	{ "revoke", "ID --user NAME [--realm R]" },
	{ NULL, NULL },
};

static const struct verb *verbs_of(const char *cmd)
{
	return !strcmp(cmd, "user") ? user_verbs : !strcmp(cmd, "realm") ? realm_verbs : token_verbs;
}

void cli_verbs(const char *cmd, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (const struct verb *v = verbs_of(cmd); v->name && o < len; v++) {
		int n = snprintf(out + o, len - o, "%s%s", o ? ", " : "", v->name);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}

static void print_verbs(const char *cmd)
{
	printf("Usage:\n");
	for (const struct verb *v = verbs_of(cmd); v->name; v++)
		printf("  cairn %s %s%s%s\n", cmd, v->name, *v->args ? " " : "", v->args);
}

static int unknown_verb(const char *cmd)
{
	char verbs[160];
	cli_verbs(cmd, verbs, sizeof verbs);
	fprintf(stderr, "cairn %s: expected one of %s (see cairn %s --help)\n", cmd, verbs, cmd);
	return EXIT_USAGE;
}

/* --- cairn user --- */

static void user_usage(void)
{
	print_verbs("user");
	printf("\nWorks on the data directory (--data, --config as for serve), also while the\n"
	       "server runs. Passwords are read from the terminal, or one line from standard\n"
	       "input with --password-stdin. passwd ends the user's sessions; disable stops\n"
	       "them until enable.\n\n"
	       "Options:\n");
	cli_print_config_flags(false);
}

struct realm_table {
	int n;
	struct realm r[256];
};

static int keep_realm(void *arg, const struct realm *rl)
{
	struct realm_table *t = arg;
	if (t->n == 256)
		return -1;
	t->r[t->n++] = *rl;
	return 0;
}

static int print_user(void *arg, const struct user *u)
{
	const struct realm_table *rt = arg; /* callbacks may not call the store */
	struct realm rl = { .name = "?" };
	for (int i = 0; i < rt->n; i++)
		if (rt->r[i].id == u->realm_id)
			rl = rt->r[i];
	char t[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(u->created_ms, t);
	printf("%-6lld %-20s %-12s %-28s %-5s %-8s %-9s %s\n", (long long)u->id, u->username,
	       rl.name, u->email[0] ? u->email : "-", u->is_admin ? "yes" : "no",
	       u->disabled ? "yes" : "no", u->email_confirmed ? "yes" : "no", t);
	return 0;
}

int cmd_user(int argc, char **argv)
{
	static const char *const extra[] = { "--admin", "--realm=", "--email=", "--name=",
					     "--password-stdin", "--search=", NULL };
	struct data d;
	struct args a;
	struct orphaned orph;
	bool help = false;
	int r = open_data(&d, argc, argv, extra, &a, &help);
	if (help) {
		user_usage();
		return EXIT_OK;
	}
	if (r)
		return r;
	const char *sub = positional(&a, 0), *name = positional(&a, 1);
	int npos = count_positional(&a);
	struct verr ve = { 0 };
	char pw[1100];
	struct user u;
	int e;
	r = EXIT_OK;
	if (sub && !strcmp(sub, "list") && npos == 1) {
		printf("%-6s %-20s %-12s %-28s %-5s %-8s %-9s %s\n", "ID", "USERNAME", "REALM",
		       "EMAIL", "ADMIN", "DISABLED", "CONFIRMED", "CREATED");
		struct realm rl = { 0 };
		static struct realm_table rt;
		e = opt(&a, "--realm") ? acct_realm(&d.core, opt(&a, "--realm"), &rl, &ve) : 0;
		if (e == 0)
			e = d.store->ops->realm_list(d.store, keep_realm, &rt);
		if (e == 0)
			e = d.store->ops->user_list(d.store, rl.id,
						    opt(&a, "--search") ? opt(&a, "--search") : "", 0,
						    1000000, print_user, &rt);
		if (e < 0)
			r = report("user list", e, &ve);
	} else if (sub && !strcmp(sub, "add") && npos == 2) {
		if (read_password(flag(&a, "--password-stdin"), pw, sizeof pw) < 0) {
			r = EXIT_FAIL;
		} else {
			struct user_in in = { .username = name, .password = pw,
					      .email = opt(&a, "--email"), .realm = opt(&a, "--realm"),
					      .name = opt(&a, "--name"), .is_admin = flag(&a, "--admin"),
					      .disabled = 0, .email_confirmed = 1 };
			e = admin_user_create(&d.core, NULL, &in, &u, &ve);
			if (e < 0)
				r = report("user add", e, &ve);
			else
				printf("added user %s (id %lld)%s\n", u.username, (long long)u.id,
				       u.is_admin ? " as admin" : "");
		}
	} else if (sub && !strcmp(sub, "passwd") && npos == 2) {
		if (find_user(&d, &a, name, &u) < 0) {
			r = EXIT_FAIL;
		} else if (read_password(flag(&a, "--password-stdin"), pw, sizeof pw) < 0) {
			r = EXIT_FAIL;
		} else {
			struct user_in in = { .password = pw, .is_admin = -1, .disabled = -1,
					      .email_confirmed = -1 };
			e = admin_user_update(&d.core, NULL, u.id, &in, &u, &ve);
			if (e < 0)
				r = report("user passwd", e, &ve);
			else
				printf("password of %s changed; their sessions ended\n", u.username);
		}
	} else if (sub && npos == 2 &&
		   (!strcmp(sub, "disable") || !strcmp(sub, "enable") || !strcmp(sub, "confirm"))) {
		if (find_user(&d, &a, name, &u) < 0) {
			r = EXIT_FAIL;
		} else {
			struct user_in in = { .is_admin = -1, .disabled = -1, .email_confirmed = -1 };
			if (!strcmp(sub, "confirm"))
				in.email_confirmed = 1;
			else
				in.disabled = !strcmp(sub, "disable");
			e = admin_user_update(&d.core, NULL, u.id, &in, &u, &ve);
			if (e < 0)
				r = report("user", e, &ve);
			else
				printf("%sd user %s\n", sub, u.username);
		}
	} else if (sub && !strcmp(sub, "delete") && npos == 2) {
		if (find_user(&d, &a, name, &u) < 0) {
			r = EXIT_FAIL;
		} else if ((e = admin_user_delete(&d.core, NULL, u.id, &orph)) < 0 && orph.total) {
			fprintf(stderr,
				"cairn user delete: %s is the last owner of %d shared space%s that "
				"other members use; make one of them an owner of each (or delete "
				"the spaces) first:\n",
				u.username, orph.total, orph.total == 1 ? "" : "s");
			for (int i = 0; i < orph.n; i++)
				fprintf(stderr, "  space %lld \"%s\"\n", (long long)orph.v[i].id,
					orph.v[i].name);
			r = EXIT_FAIL;
		} else if (e < 0) {
			r = report("user delete", e, NULL);
		} else {
			printf("deleted user %s\n", u.username);
		}
	} else {
		r = unknown_verb("user");
	}
	sodium_memzero(pw, sizeof pw);
	close_data(&d);
	return r;
}

/* --- cairn realm --- */

static int print_realm(void *arg, const struct realm *rl)
{
	(void)arg;
	printf("%-16s %-24s %-8s %-8s %-8lld %lld\n", rl->name, rl->display_name,
	       rl->signup_open ? "open" : "closed", rl->confirm_email ? "yes" : "no",
	       (long long)rl->access_ttl_s, (long long)rl->refresh_ttl_s);
	return 0;
}

/* "yes"/"no" style values for --signup and --confirm-email. */
static int yesno(const char *v, const char *yes, const char *no, int *ret)
{
	if (!v) {
		*ret = -1;
		return 0;
	}
	if (!strcmp(v, yes) || !strcmp(v, "true") || !strcmp(v, "yes")) {
		*ret = 1;
		return 0;
	}
	if (!strcmp(v, no) || !strcmp(v, "false") || !strcmp(v, "no")) {
		*ret = 0;
		return 0;
	}
	return -1;
}

/* A positive whole number (an id); 0 and *bad when it is not one. */
static int64_t num_opt(const char *v, bool *bad)
{
	if (!v)
		return 0;
	char *end;
	errno = 0;
	long long n = strtoll(v, &end, 10);
	if (errno || *end || n <= 0 || *v < '0' || *v > '9')
		*bad = true;
	return n;
}

/* A duration as the configuration takes them (500ms, 10s, 5m, 1h, 1d; a plain number is
 * seconds), in whole seconds; 0 when absent. */
static int64_t seconds_opt(const char *v, bool *bad)
{
	if (!v)
		return 0;
	int64_t ms = 0;
	if (config_parse_duration_ms(v, &ms) < 0 || ms < 1000 || ms % 1000) {
		*bad = true;
		return 0;
	}
	return ms / 1000;
}

int cmd_realm(int argc, char **argv)
{
	static const char *const extra[] = { "--display-name=", "--signup=", "--confirm-email=",
					     "--access-ttl=", "--refresh-ttl=", NULL };
	struct data d;
	struct args a;
	bool help = false;
	int r = open_data(&d, argc, argv, extra, &a, &help);
	if (help) {
		print_verbs("realm");
		printf("\nDurations as in the configuration: 90s, 15m, 1h, 30d.\n\nOptions:\n");
		cli_print_config_flags(false);
		return EXIT_OK;
	}
	if (r)
		return r;
	const char *sub = positional(&a, 0), *name = positional(&a, 1);
	int npos = count_positional(&a);
	struct verr ve = { 0 };
	struct realm rl;
	struct realm_in in = { .name = name, .display_name = opt(&a, "--display-name") };
	bool bad = yesno(opt(&a, "--signup"), "open", "closed", &in.signup_open) < 0 ||
		   yesno(opt(&a, "--confirm-email"), "yes", "no", &in.confirm_email) < 0;
	in.access_ttl_s = seconds_opt(opt(&a, "--access-ttl"), &bad);
	in.refresh_ttl_s = seconds_opt(opt(&a, "--refresh-ttl"), &bad);
	int e = 0;
	if (bad) {
		fprintf(stderr, "cairn realm: --signup takes open or closed, --confirm-email yes or "
				"no, the TTLs a duration in whole seconds (90s, 15m, 1h, 30d)\n");
		r = EXIT_USAGE;
	} else if (sub && !strcmp(sub, "list") && npos == 1) {
		printf("%-16s %-24s %-8s %-8s %-8s %s\n", "NAME", "DISPLAY NAME", "SIGNUP", "CONFIRM",
		       "ACCESS_S", "REFRESH_S");
		e = d.store->ops->realm_list(d.store, print_realm, NULL);
	} else if (sub && !strcmp(sub, "add") && npos == 2) {
		e = admin_realm_create(&d.core, NULL, &in, &rl, &ve);
		if (e == 0)
			printf("added realm %s\n", rl.name);
	} else if (sub && !strcmp(sub, "set") && npos == 2) {
		in.name = NULL;
		e = admin_realm_update(&d.core, NULL, name, &in, &rl, &ve);
		if (e == 0)
			print_realm(NULL, &rl);
		else if (e == -ERR_NOT_FOUND)
			fprintf(stderr, "cairn realm: no realm '%s'\n", name);
	} else {
		unknown_verb("realm");
		r = EXIT_USAGE;
	}
	return finish(&d, "realm", r, e, &ve);
}

/* --- cairn token --- */

static int print_token(void *arg, const struct device *dv)
{
	(void)arg;
	if (dv->kind != DEVICE_TOKEN)
		return 0;
	char c[CLOCK_RFC3339_LEN], s[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(dv->created_ms, c);
	clock_format_rfc3339(dv->last_seen_ms, s);
	printf("%-6lld %-24s %-24s %-24s %s\n", (long long)dv->id, dv->name, c, s,
	       dv->revoked_ms ? "revoked" : "active");
	return 0;
}

int cmd_token(int argc, char **argv)
{
	static const char *const extra[] = { "--user=", "--name=", "--realm=", NULL };
	struct data d;
	struct args a;
	bool help = false;
	int r = open_data(&d, argc, argv, extra, &a, &help);
	if (help) {
		print_verbs("token");
		printf("\n"
		       "A long-lived token is a device of its own; create prints the token once.\n\n"
		       "Options:\n");
		cli_print_config_flags(false);
		return EXIT_OK;
	}
	if (r)
		return r;
	const char *sub = positional(&a, 0), *user = opt(&a, "--user");
	int npos = count_positional(&a);
	struct user u;
	struct verr ve = { 0 };
	if (!sub || !user) {
		fprintf(stderr, "cairn token: expected create, list or revoke, and --user NAME "
				"(see --help)\n");
		close_data(&d);
		return EXIT_USAGE;
	}
	if (find_user(&d, &a, user, &u) < 0) {
		close_data(&d);
		return EXIT_FAIL;
	}
	int e = 0;
	r = EXIT_OK;
	if (!strcmp(sub, "create") && npos == 1) {
		char token[TOKEN_LEN];
		struct device dv;
		e = acct_token_create(&d.core, u.id, opt(&a, "--name"), token, &dv, &ve);
		if (e == 0) {
			printf("%s\n", token);
			fprintf(stderr, "token for %s created as device %lld; it is shown only once\n",
				u.username, (long long)dv.id);
		}
	} else if (!strcmp(sub, "list") && npos == 1) {
		printf("%-6s %-24s %-24s %-24s %s\n", "ID", "NAME", "CREATED", "LAST SEEN", "STATE");
		e = d.store->ops->device_list(d.store, u.id, print_token, NULL);
	} else if (!strcmp(sub, "revoke") && npos == 2) {
		bool bad = false;
		int64_t id = num_opt(positional(&a, 1), &bad);
		struct device dv;
		e = bad ? -ERR_NOT_FOUND : d.store->ops->device_get(d.store, u.id, id, &dv);
		if (e == 0 && dv.kind != DEVICE_TOKEN)
			e = -ERR_NOT_FOUND;
		if (e == 0)
			e = d.store->ops->device_revoke(d.store, u.id, id, clock_wall_ms());
		if (e == 0)
			printf("revoked token %lld\n", (long long)id);
		else if (e == -ERR_NOT_FOUND)
			fprintf(stderr, "cairn token: %s has no token %s\n", u.username,
				positional(&a, 1));
	} else {
		r = unknown_verb("token");
	}
	return finish(&d, "token", r, e, &ve);
}

/* --- cairn gc and cairn check --- */

/* The prologue of a command that takes no arguments and works on the blobs as well:
 * usage for --help (then *ret_done), a stray argument refused, the blob store opened.
 * 0 when d is ready (close_data later); otherwise the exit status. */
static int open_blob_data(struct data *d, struct args *a, int argc, char **argv,
			  const char *const *extra, const char *cmd, const char *usage,
			  bool *ret_done)
{
	bool help = false;
	int r = open_data(d, argc, argv, extra, a, &help);
	if (help) {
		fputs(usage, stdout);
		cli_print_config_flags(false);
		*ret_done = true;
		return EXIT_OK;
	}
	if (r)
		return r;
	char err[512];
	if (count_positional(a)) {
		fprintf(stderr, "cairn %s: unexpected argument '%s'\n", cmd, positional(a, 0));
		r = EXIT_USAGE;
	} else if (blobstore_open(&d->cfg, &d->core.blobs, err, sizeof err) < 0) {
		fprintf(stderr, "cairn %s: cannot open the blob store: %s\n", cmd, err);
		r = EXIT_FAIL;
	}
	if (r)
		close_data(d);
	return r;
}

int cmd_gc(int argc, char **argv)
{
	static const char *const extra[] = { NULL };
	struct data d;
	struct args a;
	bool done = false;
	int r = open_blob_data(
		&d, &a, argc, argv, extra, "gc",
		"Usage: cairn gc [OPTIONS]\n\n"
		"Prunes the change log of every space: superseded changes and tombstones\n"
		"older than sync.retention and below the cursor of every active device.\n"
		"A device whose cursor falls below the pruned part re-bootstraps from\n"
		"records (410 cursor_expired). Then deletes the blobs nobody holds or\n"
		"references any more and nobody touched for blobs.gc_grace, and files\n"
		"left by uploads a crash cut off. The server also does both every\n"
		"sync.gc_interval. Safe while the server runs.\n\nOptions:\n",
		&done);
	if (r || done)
		return r;
	int64_t ch = 0, rec = 0;
	struct blob_gc_stats gs;
	int e = sync_prune(&d.core, &ch, &rec);
	if (e == 0)
		e = blob_gc(&d.core, &gs);
	if (e < 0)
		r = report("gc", e, NULL);
	else
		printf("pruned %lld changes and %lld tombstones; deleted %lld blobs (%lld bytes, "
		       "%lld unrecorded files), restored %lld\n",
		       (long long)ch, (long long)rec, (long long)gs.deleted, (long long)gs.bytes,
		       (long long)gs.orphans, (long long)gs.restored);
	close_data(&d);
	return r;
}

struct bar {
	bool on;
	uint64_t started_ns, last_ns;
};

static void draw_bar(void *arg, uint64_t done, uint64_t total)
{
	struct bar *b = arg;
	uint64_t now = clock_mono_ns();
	if (!b->on || (now - b->last_ns < 100000000u && done < total))
		return;
	b->last_ns = now;
	int pct = total ? (int)(done * 100 / total) : 100;
	char bar[31];
	int fill = pct * 30 / 100;
	for (int i = 0; i < 30; i++)
		bar[i] = i < fill ? '#' : '.';
	bar[30] = '\0';
	double secs = (double)(now - b->started_ns) / 1e9;
	fprintf(stderr, "\r[%s] %3d%%  %.1f / %.1f MiB  %.0f MiB/s ", bar, pct,
		(double)done / 1048576.0, (double)total / 1048576.0,
		secs > 0 ? (double)done / 1048576.0 / secs : 0.0);
	fflush(stderr);
}

int cmd_check(int argc, char **argv)
{
	static const char *const extra[] = { "--no-progress", NULL };
	struct data d;
	struct args a;
	bool done = false;
	int r = open_blob_data(
		&d, &a, argc, argv, extra, "check",
		"Usage: cairn check [--no-progress] [OPTIONS]\n\n"
		"Checks the blob store against the database: every recorded blob's file\n"
		"is there, has the recorded size and hashes to its name; every file is\n"
		"recorded (files younger than blobs.gc_grace may be uploads in progress\n"
		"and are not counted). Prints one line per problem and exits 1 when there\n"
		"is any, 0 otherwise. Shows a progress bar on a terminal. Safe while the\n"
		"server runs (blobs collected meanwhile may be reported missing).\n\n"
		"Options:\n"
		"  --no-progress     no progress bar, even on a terminal\n",
		&done);
	if (r || done)
		return r;
	struct bar bar = { .on = !flag(&a, "--no-progress") && isatty(2), .started_ns = clock_mono_ns() };
	struct blob_check_stats cs;
	int e = blob_check(&d.core, stdout, draw_bar, &bar, &cs);
	if (bar.on)
		fputc('\n', stderr);
	if (e < 0) {
		r = report("check", e, NULL);
	} else {
		int64_t bad = cs.missing + cs.wrong_size + cs.corrupt + cs.orphans;
		printf("checked %lld blobs (%lld bytes): %lld missing, %lld of the wrong size, "
		       "%lld corrupt, %lld unrecorded files (%lld recent ones not counted)\n",
		       (long long)cs.checked, (long long)cs.bytes, (long long)cs.missing,
		       (long long)cs.wrong_size, (long long)cs.corrupt, (long long)cs.orphans,
		       (long long)cs.recent_orphans);
		r = bad ? EXIT_FAIL : EXIT_OK;
	}
	close_data(&d);
	return r;
}

/* A command that works on the data directory alone, holding its lock (so never under a
 * running server): arguments and --help, the lock, then run, which prints its own result
 * and errors (after "cairn NAME: ") and returns an exit status. */
static int locked_command(int argc, char **argv, const char *name, const char *usage,
			  int (*run)(struct config *c, char *err, size_t errlen))
{
	struct config c;
	char *rest[MAX_ARGS];
	int nrest;
	bool help;
	if (argc > MAX_ARGS) {
		fprintf(stderr, "cairn %s: too many arguments\n", name);
		return EXIT_USAGE;
	}
	int r = cli_load_config_ex(argc, argv, NULL, false, &c, rest, &nrest, &help);
	if (help) {
		printf("%s\nOptions:\n", usage);
		cli_print_config_flags(false);
		return EXIT_OK;
	}
	if (r)
		return r;
	if (nrest) {
		fprintf(stderr, "cairn %s: unexpected argument '%s'\n", name, rest[0]);
		config_free(&c);
		return EXIT_USAGE;
	}
	log_setup("warn", c.log_format);
	char err[512] = "";
	int lock_fd = -1;
	if (cli_lock_data(c.storage_data_dir, false, &lock_fd, err, sizeof err) < 0)
		r = EXIT_FAIL;
	else
		r = run(&c, err, sizeof err);
	if (r != EXIT_OK && *err)
		fprintf(stderr, "cairn %s: %s\n", name, err);
	if (lock_fd >= 0)
		close(lock_fd);
	config_free(&c);
	return r;
}

static int run_migrate(struct config *c, char *err, size_t errlen)
{
	struct store *s = NULL;
	int v = 0;
	if (store_open(c, 1, STORE_EXISTING, &s, err, errlen) == 0) {
		s->ops->schema_version(s, &v);
		printf("the database is at schema version %d already\n", v);
		store_close(s);
		return EXIT_OK;
	}
	if (store_open(c, 1, STORE_MIGRATE, &s, err, errlen) < 0)
		return EXIT_FAIL;
	s->ops->schema_version(s, &v);
	printf("migrated the database to schema version %d\n", v);
	store_close(s);
	return EXIT_OK;
}

int cmd_migrate(int argc, char **argv)
{
	return locked_command(argc, argv, "migrate",
			      "Usage: cairn migrate [OPTIONS]\n\n"
			      "Brings the database in the data directory up to this cairn's schema, "
			      "as\ncairn serve does at start. It takes the data directory's lock, so "
			      "it\nrefuses while a server runs there: stop the server first. Every "
			      "other\ncommand refuses a database that needs migrating. A migrated "
			      "database\ncannot be used by an older cairn: keep a copy (stop, copy the "
			      "data\ndirectory) if you may want to go back.\n",
			      run_migrate);
}

static int run_restore_epochs(struct config *c, char *err, size_t errlen)
{
	struct store *s = NULL;
	if (store_open(c, 1, STORE_EXISTING, &s, err, errlen) < 0)
		return EXIT_FAIL;
	int64_t n = 0;
	int e = s->ops->space_epochs_renew(s, &n);
	store_close(s);
	if (e < 0) {
		snprintf(err, errlen, "%s", err_str(e));
		return EXIT_FAIL;
	}
	printf("gave %lld spaces a new epoch: devices start them over at their next pull\n",
	       (long long)n);
	return EXIT_OK;
}

int cmd_restore_epochs(int argc, char **argv)
{
	return locked_command(argc, argv, "restore-epochs",
			      "Usage: cairn restore-epochs [OPTIONS]\n\n"
			      "The step after replacing the data directory with a backup: gives every\n"
			      "space a new log epoch, so a device's next pull that sends the epoch it\n"
			      "knew answers 410 cursor_expired, and the device starts the space over\n"
			      "from its records (pushing again what it wrote after the backup was\n"
			      "taken) instead of skipping the changes the restored log numbers anew.\n"
			      "It takes the data directory's lock, so it refuses while a server runs\n"
			      "there.\n",
			      run_restore_epochs);
}
