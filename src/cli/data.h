/* What the commands that work on a data directory (user, realm, token, gc, check) share:
 * their arguments, the directory opened (configuration, database, core), errors
 * reported. Only for src/cli. */
#ifndef CAIRN_CLI_DATA_H
#define CAIRN_CLI_DATA_H

#include <stdbool.h>

#include "../core/core.h"
#include "../util/config.h"

#define MAX_ARGS 64

/* The arguments that are not configuration flags; extra lists the command's own options
 * ("--admin" for a flag, "--realm=" for one with a value). */
struct args {
	char *v[MAX_ARGS];
	int n;
	const char *const *extra;
};

struct data {
	struct config cfg;
	struct core core;
};

/* The value of --name, or NULL. */
const char *cli_opt(const struct args *a, const char *name);
bool cli_flag(const struct args *a, const char *name);
/* The k-th argument that is not an option or an option's value, or NULL. */
const char *cli_positional(const struct args *a, int k);
int cli_count_positional(const struct args *a);

/* Loads the configuration and opens the existing database and the core (not the blob
 * store): 0, or an exit status after saying why; *ret_help when --help was given (then
 * nothing is open). */
int cli_open_data(struct data *d, int argc, char **argv, const char *const *extra,
		  struct args *a, bool *ret_help);
void cli_close_data(struct data *d);
/* Says what went wrong with "cairn WHAT: ..." and returns the exit status for it. */
int cli_report(const char *what, int e, const struct verr *ve);

#endif
