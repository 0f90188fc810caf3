/* cairn init [PATH]: writes the commented example configuration; never overwrites. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../util/config.h"
#include "cli.h"

static void usage(void)
{
	printf("Usage: cairn init [PATH]\n\n"
	       "Writes a commented example configuration to PATH (default: cairn.conf).\n"
	       "Every key is shown with its default. An existing file is never overwritten.\n");
}

int cmd_init(int argc, char **argv)
{
	const char *path = "cairn.conf";
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage();
			return EXIT_OK;
		}
		if (argv[i][0] == '-' || i > 1) {
			fprintf(stderr, "cairn init: unexpected argument '%s' (see --help)\n", argv[i]);
			return EXIT_USAGE;
		}
		path = argv[i];
	}
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		if (errno == EEXIST)
			fprintf(stderr, "cairn init: %s already exists; not overwriting it\n", path);
		else
			fprintf(stderr, "cairn init: cannot create %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	FILE *f = fdopen(fd, "w");
	if (!f) {
		close(fd);
		return EXIT_FAIL;
	}
	struct config c;
	if (cairn_config_init(&c) < 0) {
		fclose(f);
		return EXIT_FAIL;
	}
	config_write_example(&c, f);
	config_free(&c);
	if (fflush(f) != 0 || fsync(fd) != 0 || fclose(f) != 0) {
		fprintf(stderr, "cairn init: cannot write %s: %s\n", path, strerror(errno));
		return EXIT_FAIL;
	}
	printf("wrote %s\n", path);
	return EXIT_OK;
}
