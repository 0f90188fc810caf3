/* cairn sync DIR --server URL [--space S] [--token-file F] [--watch]: the reference sync
 * client (src/client/syncer.h). The token never comes from the command line, where other
 * users of the machine could read it: CAIRN_SYNC_TOKEN or --token-file. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../client/syncer.h"
#include "cli.h"

static void help(FILE *out)
{
	fprintf(out,
		"Usage: cairn sync DIR --server URL [--space SPACE] [--token-file FILE] [--watch]\n"
		"\n"
		"Two-way sync of the folder DIR with the files of a space: uploads what changed\n"
		"here (only the chunks the server lacks), downloads what changed there, keeps\n"
		"modes, mtimes, symbolic links and empty directories, and keeps both sides of a\n"
		"conflict (the local one as a conflict copy). State: DIR/.cairn-sync/.\n"
		"\n"
		"  --server URL       the Cairn server (http://host:8080)\n"
		"  --space SPACE      a space id, or me (default) for your private space\n"
		"  --token-file FILE  read the token from FILE (first line); otherwise from the\n"
		"                     environment variable CAIRN_SYNC_TOKEN. A long-lived token:\n"
		"                     cairn token create, or POST /api/v1/tokens\n"
		"  --watch            keep syncing: woken by changes on the server, and scanning\n"
		"                     the folder every --interval seconds (default 5)\n"
		"  --interval N       seconds between scans with --watch\n"
		"  --quiet            no summary line\n"
		"\n"
		"Exit status: 0 all synced, 1 something could not be (named on stderr), 2 usage.\n");
}

static char *read_token(const char *file)
{
	FILE *f = fopen(file, "re");
	if (!f)
		return NULL;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, f);
	fclose(f);
	if (n <= 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' '))
		line[--n] = '\0';
	return line;
}

int cmd_sync(int argc, char **argv)
{
	struct sync_opts o = { .space = "me", .interval_ms = 5000, .tty = isatty(2) };
	const char *token_file = NULL;
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			help(stdout);
			return EXIT_OK;
		} else if (!strcmp(a, "--server") && v) {
			o.server = v;
			i++;
		} else if (!strcmp(a, "--space") && v) {
			o.space = v;
			i++;
		} else if (!strcmp(a, "--token-file") && v) {
			token_file = v;
			i++;
		} else if (!strcmp(a, "--interval") && v) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > 86400) {
				fprintf(stderr, "cairn sync: --interval takes 1 to 86400 seconds\n");
				return EXIT_USAGE;
			}
			o.interval_ms = n * 1000;
			i++;
		} else if (!strcmp(a, "--watch")) {
			o.watch = true;
		} else if (!strcmp(a, "--quiet")) {
			o.once_quiet = true;
		} else if (!strcmp(a, "--token")) {
			fprintf(stderr, "cairn sync: a token on the command line is visible to every "
					"user of this machine: use CAIRN_SYNC_TOKEN or --token-file\n");
			return EXIT_USAGE;
		} else if (a[0] == '-' || o.dir) {
			fprintf(stderr, "cairn sync: unknown or incomplete argument %s (see cairn sync "
					"--help)\n",
				a);
			return EXIT_USAGE;
		} else {
			o.dir = a;
		}
	}
	if (!o.dir || !o.server) {
		fprintf(stderr, "cairn sync: give %s (see cairn sync --help)\n",
			!o.dir && !o.server ? "the folder and --server URL"
			: !o.dir	    ? "the folder to sync"
					    : "--server URL");
		return EXIT_USAGE;
	}
	char *token = token_file ? read_token(token_file) : NULL;
	if (token_file && !token) {
		fprintf(stderr, "cairn sync: cannot read a token from %s: %s\n", token_file,
			errno ? strerror(errno) : "empty");
		return EXIT_USAGE;
	}
	if (!token && getenv("CAIRN_SYNC_TOKEN") && *getenv("CAIRN_SYNC_TOKEN"))
		token = strdup(getenv("CAIRN_SYNC_TOKEN"));
	if (!token) {
		fprintf(stderr, "cairn sync: no token: set CAIRN_SYNC_TOKEN or give --token-file\n");
		return EXIT_USAGE;
	}
	o.token = token;
	setvbuf(stdout, NULL, _IOLBF, 0); /* a line per file, as it happens, also into a log */
	int rc = sync_run(&o);
	free(token);
	return rc;
}
