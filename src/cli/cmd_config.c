/* cairn config: the effective configuration and where each value came from. */
#include <stdio.h>

#include "../util/config.h"
#include "cli.h"

int cmd_config(int argc, char **argv)
{
	struct config c;
	char *rest[64];
	int nrest;
	bool help;
	if (argc > 64) {
		fprintf(stderr, "cairn config: too many arguments\n");
		return EXIT_USAGE;
	}
	int r = cli_load_config(argc, argv, &c, rest, &nrest, &help);
	if (help) {
		printf("Usage: cairn config [OPTIONS]\n\n"
		       "Prints the effective configuration: every key with its value and where\n"
		       "the value came from (default, file and line, environment variable, or\n"
		       "flag). Takes the same options as cairn serve:\n\n");
		cli_print_config_flags(true);
		return EXIT_OK;
	}
	if (r != 0)
		return r;
	if (nrest) {
		fprintf(stderr, "cairn config: unexpected argument '%s' (see --help)\n", rest[0]);
		config_free(&c);
		return EXIT_USAGE;
	}
	config_print(&c, stdout);
	config_free(&c);
	return EXIT_OK;
}
