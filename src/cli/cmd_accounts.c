/* cairn user|realm|token: accounts on a data directory, also while the server runs
 * (SQLite in WAL mode lets both write; each change is one transaction). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include <sodium.h>

#include "../core/accounts.h"
#include "../util/clock.h"
#include "../util/config.h"
#include "../util/err.h"
#include "../util/log.h"
#include "cli.h"
#include "data.h"

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

/* The exit status of a command whose last step returned e (not-found was already said),
 * after closing the data directory. */
static int finish(struct data *d, const char *what, int r, int e, const struct verr *ve)
{
	if (e == -ERR_NOT_FOUND)
		r = EXIT_FAIL;
	else if (e < 0)
		r = cli_report(what, e, ve);
	cli_close_data(d);
	return r;
}

static int find_user(struct data *d, const struct args *a, const char *name, struct user *u)
{
	struct verr ve = { 0 };
	struct realm rl;
	int e = acct_realm(&d->core, cli_opt(a, "--realm"), &rl, &ve);
	if (e == 0)
		e = admin_user_find(&d->core, NULL, rl.id, name, u);
	if (e == -ERR_NOT_FOUND)
		fprintf(stderr, "cairn: no user '%s' in realm %s\n", name, rl.name);
	else if (e < 0)
		cli_report("user", e, &ve);
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
	int r = cli_open_data(&d, argc, argv, extra, &a, &help);
	if (help) {
		user_usage();
		return EXIT_OK;
	}
	if (r)
		return r;
	const char *sub = cli_positional(&a, 0), *name = cli_positional(&a, 1);
	int npos = cli_count_positional(&a);
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
		e = cli_opt(&a, "--realm") ? acct_realm(&d.core, cli_opt(&a, "--realm"), &rl, &ve) : 0;
		if (e == 0)
			e = admin_realms_list(&d.core, NULL, keep_realm, &rt);
		if (e == 0)
			e = admin_users_list(&d.core, NULL, rl.id, cli_opt(&a, "--search"), 0,
					     1000000, print_user, &rt);
		if (e < 0)
			r = cli_report("user list", e, &ve);
	} else if (sub && !strcmp(sub, "add") && npos == 2) {
		if (read_password(cli_flag(&a, "--password-stdin"), pw, sizeof pw) < 0) {
			r = EXIT_FAIL;
		} else {
			struct user_in in = { .username = name, .password = pw,
					      .email = cli_opt(&a, "--email"), .realm = cli_opt(&a, "--realm"),
					      .name = cli_opt(&a, "--name"), .is_admin = cli_flag(&a, "--admin"),
					      .disabled = 0, .email_confirmed = 1 };
			e = admin_user_create(&d.core, NULL, &in, &u, &ve);
			if (e < 0)
				r = cli_report("user add", e, &ve);
			else
				printf("added user %s (id %lld)%s\n", u.username, (long long)u.id,
				       u.is_admin ? " as admin" : "");
		}
	} else if (sub && !strcmp(sub, "passwd") && npos == 2) {
		if (find_user(&d, &a, name, &u) < 0) {
			r = EXIT_FAIL;
		} else if (read_password(cli_flag(&a, "--password-stdin"), pw, sizeof pw) < 0) {
			r = EXIT_FAIL;
		} else {
			struct user_in in = { .password = pw, .is_admin = -1, .disabled = -1,
					      .email_confirmed = -1 };
			e = admin_user_update(&d.core, NULL, u.id, &in, &u, &ve);
			if (e < 0)
				r = cli_report("user passwd", e, &ve);
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
				r = cli_report("user", e, &ve);
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
			r = cli_report("user delete", e, NULL);
		} else {
			printf("deleted user %s\n", u.username);
		}
	} else {
		r = unknown_verb("user");
	}
	sodium_memzero(pw, sizeof pw);
	cli_close_data(&d);
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
	int r = cli_open_data(&d, argc, argv, extra, &a, &help);
	if (help) {
		print_verbs("realm");
		printf("\nDurations as in the configuration: 90s, 15m, 1h, 30d.\n\nOptions:\n");
		cli_print_config_flags(false);
		return EXIT_OK;
	}
	if (r)
		return r;
	const char *sub = cli_positional(&a, 0), *name = cli_positional(&a, 1);
	int npos = cli_count_positional(&a);
	struct verr ve = { 0 };
	struct realm rl;
	struct realm_in in = { .name = name, .display_name = cli_opt(&a, "--display-name") };
	bool bad = yesno(cli_opt(&a, "--signup"), "open", "closed", &in.signup_open) < 0 ||
		   yesno(cli_opt(&a, "--confirm-email"), "yes", "no", &in.confirm_email) < 0;
	in.access_ttl_s = seconds_opt(cli_opt(&a, "--access-ttl"), &bad);
	in.refresh_ttl_s = seconds_opt(cli_opt(&a, "--refresh-ttl"), &bad);
	int e = 0;
	if (bad) {
		fprintf(stderr, "cairn realm: --signup takes open or closed, --confirm-email yes or "
				"no, the TTLs a duration in whole seconds (90s, 15m, 1h, 30d)\n");
		r = EXIT_USAGE;
	} else if (sub && !strcmp(sub, "list") && npos == 1) {
		printf("%-16s %-24s %-8s %-8s %-8s %s\n", "NAME", "DISPLAY NAME", "SIGNUP", "CONFIRM",
		       "ACCESS_S", "REFRESH_S");
		e = admin_realms_list(&d.core, NULL, print_realm, NULL);
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
	int r = cli_open_data(&d, argc, argv, extra, &a, &help);
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
	const char *sub = cli_positional(&a, 0), *user = cli_opt(&a, "--user");
	int npos = cli_count_positional(&a);
	struct user u;
	struct verr ve = { 0 };
	if (!sub || !user) {
		fprintf(stderr, "cairn token: expected create, list or revoke, and --user NAME "
				"(see --help)\n");
		cli_close_data(&d);
		return EXIT_USAGE;
	}
	if (find_user(&d, &a, user, &u) < 0) {
		cli_close_data(&d);
		return EXIT_FAIL;
	}
	int e = 0;
	r = EXIT_OK;
	if (!strcmp(sub, "create") && npos == 1) {
		char token[TOKEN_LEN];
		struct device dv;
		e = acct_token_create(&d.core, u.id, cli_opt(&a, "--name"), token, &dv, &ve);
		if (e == 0) {
			printf("%s\n", token);
			fprintf(stderr, "token for %s created as device %lld; it is shown only once\n",
				u.username, (long long)dv.id);
		}
	} else if (!strcmp(sub, "list") && npos == 1) {
		printf("%-6s %-24s %-24s %-24s %s\n", "ID", "NAME", "CREATED", "LAST SEEN", "STATE");
		e = acct_devices_list(&d.core, u.id, print_token, NULL);
	} else if (!strcmp(sub, "revoke") && npos == 2) {
		bool bad = false;
		int64_t id = num_opt(cli_positional(&a, 1), &bad);
		struct device dv;
		e = bad ? -ERR_NOT_FOUND : acct_device_get(&d.core, u.id, id, &dv);
		if (e == 0 && dv.kind != DEVICE_TOKEN)
			e = -ERR_NOT_FOUND;
		if (e == 0)
			e = acct_device_revoke(&d.core, u.id, id);
		if (e == 0)
			printf("revoked token %lld\n", (long long)id);
		else if (e == -ERR_NOT_FOUND)
			fprintf(stderr, "cairn token: %s has no token %s\n", u.username,
				cli_positional(&a, 1));
	} else {
		r = unknown_verb("token");
	}
	return finish(&d, "token", r, e, &ve);
}
