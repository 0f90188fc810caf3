/* cairn: the command dispatcher. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/version.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *help;
} commands[] = {
	{ "serve", cmd_serve, "Run the server." },
	{ "init", cmd_init, "Write a commented example configuration file." },
	{ "config", cmd_config, "Print the effective configuration and where each value came from." },
	{ "user", cmd_user, "Manage users:" },
	{ "realm", cmd_realm, "Manage realms:" },
	{ "token", cmd_token, "Manage long-lived tokens:" },
	{ "gc", cmd_gc, "Prune the change log and delete blobs nobody uses any more." },
	{ "check", cmd_check, "Verify every blob against the database (exit 1 on problems)." },
	{ "migrate", cmd_migrate, "Bring the database up to this cairn's schema (server stopped)." },
	{ "restore-epochs", cmd_restore_epochs,
	  "After restoring a backup: devices start their spaces over (server stopped)." },
	{ "sync", cmd_sync, "Two-way sync of a folder with a space's files (a client)." },
	{ "import", cmd_import,
	  "Import another server's data: cairn import tickit PATH --user NAME, cairn import verstak PATH." },
	{ "version", NULL, "Print the version." },
	{ "help", NULL, "Print this help, or a command's: cairn help COMMAND." },
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
	fprintf(out, "Cairn %s: a self-hosted sync server.\n\nUsage: cairn COMMAND [OPTIONS]\n\n"
		     "Commands:\n", CAIRN_VERSION);
	int width = 0; /* the longest name sets the column */
	for (size_t i = 0; i < NCOMMANDS; i++)
		if ((int)strlen(commands[i].name) > width)
			width = (int)strlen(commands[i].name);
	for (size_t i = 0; i < NCOMMANDS; i++) {
		const char *name = commands[i].name;
		char verbs[160] = "";
		/* the verbs come from the command's own table, so the two cannot disagree */
		if (!strcmp(name, "user") || !strcmp(name, "realm") || !strcmp(name, "token"))
			cli_verbs(name, verbs, sizeof verbs);
		fprintf(out, "  %-*s  %s%s%s%s\n", width, name, commands[i].help, *verbs ? " " : "", verbs,
			*verbs ? "." : "");
	}
	fprintf(out, "\nEvery command takes --help. Configuration: cairn serve --help, "
		     "docs/configuration.md.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		return EXIT_OK;
	}
	if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
		printf("cairn %s (%s)\n", cairn_version(), cairn_commit());
		return EXIT_OK;
	}
	if (!strcmp(cmd, "help")) {
		if (argc < 3 || !strcmp(argv[2], "--help") || !strcmp(argv[2], "-h")) {
			usage(stdout);
			return EXIT_OK;
		}
		for (size_t i = 0; i < NCOMMANDS; i++) {
			if (commands[i].run && !strcmp(commands[i].name, argv[2])) {
				char *av[] = { argv[2], "--help", NULL };
				return commands[i].run(2, av);
			}
		}
		if (!strcmp(argv[2], "version") || !strcmp(argv[2], "help")) {
			usage(stdout);
			return EXIT_OK;
		}
		fprintf(stderr, "cairn: no command '%s' (see cairn help)\n", argv[2]);
		return EXIT_USAGE;
	}
	for (size_t i = 0; i < NCOMMANDS; i++)
		if (commands[i].run && !strcmp(commands[i].name, cmd))
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "cairn: unknown command '%s' (see cairn help)\n", cmd);
	return EXIT_USAGE;
}
