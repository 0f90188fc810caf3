/* The command-line commands. Exit statuses: 0 success, 1 runtime failure, 2 bad usage or
 * configuration. */
#ifndef CAIRN_CLI_H
#define CAIRN_CLI_H

#include <stdbool.h>
#include <stddef.h>

struct config;

enum { EXIT_OK = 0, EXIT_FAIL = 1, EXIT_USAGE = 2 };

int cmd_serve(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_config(int argc, char **argv);

/* Fills c with the defaults of every section of the program (sections.c). */
int cairn_config_init(struct config *c);

/* Loads the configuration for a command: defaults, the file from --config (or
 * CAIRN_CONFIG), the environment, then the configuration flags in argv. Arguments that
 * are not configuration flags are collected in rest (rest_count). Prints the error and
 * returns EXIT_USAGE on failure; *ret_help is set when --help was given. */
int cli_load_config(int argc, char **argv, struct config *c, char **rest, int *rest_count,
		    bool *ret_help);

/* The same, and options in extra ("--admin" for a flag, "--realm=" for one with a value)
 * go to rest as given (the value as its own element). serve false: a command that works on
 * the data directory, for which flags that only mean something to serve (--listen,
 * --admin-user, ...) are unknown. */
int cli_load_config_ex(int argc, char **argv, const char *const *extra, bool serve,
		       struct config *c, char **rest, int *rest_count, bool *ret_help);

int cmd_user(int argc, char **argv);
int cmd_realm(int argc, char **argv);
int cmd_token(int argc, char **argv);
int cmd_gc(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_migrate(int argc, char **argv);
int cmd_restore_epochs(int argc, char **argv);
int cmd_sync(int argc, char **argv);
int cmd_import(int argc, char **argv);
/* cairn import verstak (cmd_import_verstak.c): an exit status. */
struct data;
int import_verstak(struct data *d, const char *path, const char *realm, const char *blob_dir);

/* The verbs of cairn user, realm or token as "add, list, ...": from the table their own
 * --help is printed from, for cairn help. */
void cli_verbs(const char *cmd, char *out, size_t len);

/* Takes the data directory's lock (an exclusive flock on DIR/cairn.lock, which holds the
 * holder's pid), creating the directory first when create is set: serve and migrate hold
 * it for their lifetime, so no two servers share a data directory and no migration runs
 * under a server. *ret_fd keeps it; closing it (or exiting) lets it go. -1 with the reason
 * in err (another holder, named by pid; no such directory). */
int cli_lock_data(const char *dir, bool create, int *ret_fd, char *err, size_t errlen);

/* The lines for --config and the configuration flags (serve-only ones for serve), and the
 * environment, for a command's --help. */
void cli_print_config_flags(bool serve);

#endif
