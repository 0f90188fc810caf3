#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util/config.h"
#include "../util/err.h"
#include "cli.h"

extern char **environ;

void cli_print_config_flags(bool serve)
{
	printf("  %-24s %s\n", "--config FILE",
	       "Configuration file (INI). Default: $CAIRN_CONFIG, else none.");
	struct config c;
	if (cairn_config_init(&c) == 0) {
		config_print_flags(&c, stdout, serve);
		config_free(&c);
	}
	printf("\nEvery configuration key can also be set as CAIRN_<SECTION>_<KEY> (see cairn\n"
	       "config, docs/configuration.md). Other variables read:\n");
	config_print_env_extra(stdout);
}

/* Splits "--flag=value" or "--flag value"; returns the value or NULL. */
static const char *flag_value(int argc, char **argv, int *i, char *name, size_t namelen)
{
	const char *a = argv[*i];
	const char *eq = strchr(a, '=');
	if (eq) {
		snprintf(name, namelen, "%.*s", (int)(eq - a), a);
		return eq + 1;
	}
	snprintf(name, namelen, "%s", a);
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

/* Is name one of the command's own options? *ret_takes_value when it ends in '='. */
static bool is_extra(const char *const *extra, const char *name, bool *ret_takes_value)
{
	size_t n = strlen(name);
	for (; extra && *extra; extra++) {
		size_t l = strlen(*extra);
		bool val = l && (*extra)[l - 1] == '=';
		if ((val ? l - 1 : l) == n && !strncmp(*extra, name, n)) {
			*ret_takes_value = val;
			return true;
		}
	}
	return false;
}

int cli_load_config(int argc, char **argv, struct config *c, char **rest, int *rest_count,
		    bool *ret_help)
{
	return cli_load_config_ex(argc, argv, NULL, true, c, rest, rest_count, ret_help);
}

int cli_load_config_ex(int argc, char **argv, const char *const *extra, bool serve,
		       struct config *c, char **rest, int *rest_count, bool *ret_help)
{
	char err[512];
	const char *file = getenv("CAIRN_CONFIG");
	*ret_help = false;
	*rest_count = 0;
	if (file && !*file)
		file = NULL;
	/* First pass: --help and --config, since the file comes before flags. */
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			*ret_help = true;
			return 0;
		}
		if (!strcmp(argv[i], "--config") || !strncmp(argv[i], "--config=", 9)) {
			char name[64];
			file = flag_value(argc, argv, &i, name, sizeof name);
			if (!file) {
				fprintf(stderr, "cairn: --config needs a file name\n");
				return EXIT_USAGE;
			}
		}
	}
	if (cairn_config_init(c) < 0) {
		fprintf(stderr, "cairn: out of memory\n");
		return EXIT_FAIL;
	}
	if (file && config_load_file(c, file, err, sizeof err) < 0)
		goto fail;
	if (config_load_env(c, environ, err, sizeof err) < 0)
		goto fail;
	for (int i = 1; i < argc; i++) {
		if (strncmp(argv[i], "--", 2) != 0) {
			rest[(*rest_count)++] = argv[i];
			continue;
		}
		char name[64];
		bool takes_value;
		const char *eq = strchr(argv[i], '=');
		snprintf(name, sizeof name, "%.*s", eq ? (int)(eq - argv[i]) : 63, argv[i]);
		if (is_extra(extra, name, &takes_value)) {
			rest[(*rest_count)++] = argv[i];
			if (takes_value && !eq) {
				if (i + 1 >= argc) {
					snprintf(err, sizeof err, "%s needs a value (see --help)", name);
					goto fail;
				}
				rest[(*rest_count)++] = argv[++i];
			}
			continue;
		}
		const char *v = flag_value(argc, argv, &i, name, sizeof name);
		if (!strcmp(name, "--config"))
			continue;
		if (!config_flag_known(c, name, serve)) {
			snprintf(err, sizeof err, "unknown option %s (see --help)", name);
			goto fail;
		}
		if (!v) {
			snprintf(err, sizeof err, "%s needs a value (see --help)", name);
			goto fail;
		}
		if (config_set_flag(c, name, v, err, sizeof err) < 0)
			goto fail;
	}
	if (config_validate(c, err, sizeof err) < 0)
		goto fail;
	return 0;
fail:
	fprintf(stderr, "cairn: %s\n", err);
	config_free(c);
	return EXIT_USAGE;
}

int cli_lock_data(const char *dir, bool create, int *ret_fd, char *err, size_t errlen)
{
	if (create && mkdir(dir, 0700) < 0 && errno != EEXIST) {
		snprintf(err, errlen, "cannot create the data directory %s: %s", dir, strerror(errno));
		return -1;
	}
	char path[4200];
	snprintf(path, sizeof path, "%s/cairn.lock", dir);
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == ENOENT)
			snprintf(err, errlen,
				 "there is no data directory at %s (only cairn serve creates one: "
				 "check --data)",
				 dir);
		else
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		char pid[32] = "";
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		snprintf(err, errlen,
			 "the data directory %s is in use by another cairn serve, migrate or "
			 "restore-epochs%s%s%s",
			 dir, *pid ? " (pid " : "", pid, *pid ? ")" : "");
		close(fd);
		return -1;
	}
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
		/* the lock holds anyway; the pid is only for the message above */
	}
	*ret_fd = fd;
	return 0;
}
