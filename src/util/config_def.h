/* Inside the configuration engine (config.c) and its key table (config_keys.c): what a
 * key is. */
#ifndef CAIRN_CONFIG_DEF_H
#define CAIRN_CONFIG_DEF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"

enum cfg_type { T_STR, T_OPTSTR, T_INT, T_SIZE, T_DURATION, T_BOOL, T_ENUM, T_ADDR };

struct config_def {
	const char *section, *key;
	enum cfg_type type;
	const char *def;     /* default, in the file's syntax */
	int64_t min, max;    /* numbers: bounds (sizes in bytes, durations in ms) */
	const char *choices; /* T_ENUM: "a|b|c" */
	const char *flag;    /* command-line flag, or NULL */
	const char *metavar; /* for --help */
	size_t off;
	const char *help;
	bool serve_only;     /* its flag means something to cairn serve alone */
};

/* Units for the table's bounds and the parsers. */
#define KiB (1024LL)
#define MiB (1024LL * 1024)
#define GiB (1024LL * 1024 * 1024)
#define SEC 1000LL

/* The one table. Order matches enum config_key. */
extern const struct config_def config_defs[CONFIG_NKEYS];

#endif
