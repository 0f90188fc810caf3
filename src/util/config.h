/* Configuration: an engine with no keys of its own. Each subsystem declares its section
 * (its keys: type, default, bounds, flag, help; the struct they fill) beside its code,
 * and the program hands the engine its list of sections (src/cli/sections.c), the way
 * h2o's configurators each bring their directives. The engine drives the INI file, the
 * CAIRN_<SECTION>_<KEY> environment, command-line flags, defaults, bounds, --help, the
 * example file and `cairn config` from those tables. Precedence: flag > environment >
 * file > default. A new backend or adapter adds a file with its section and one line to
 * the list; nothing here changes. */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum cfg_type { T_STR, T_OPTSTR, T_INT, T_SIZE, T_DURATION, T_BOOL, T_ENUM, T_ADDR };

/* One key. Durations are held in milliseconds (int64_t), sizes in bytes (int64_t),
 * booleans as bool, strings as an owned char * (freed by config_free). */
struct config_def {
	const char *key;
	enum cfg_type type;
	const char *def;     /* default, in the file's syntax */
	int64_t min, max;    /* numbers: bounds (sizes in bytes, durations in ms) */
	const char *choices; /* T_ENUM: "a|b|c" */
	const char *flag;    /* command-line flag, or NULL */
	const char *metavar; /* for --help */
	size_t off;          /* of its field in the section's struct */
	const char *help;
	bool serve_only;     /* its flag means something to cairn serve alone */
	bool secret;         /* cairn config shows whether it is set, not its value */
};

struct config;

/* A section: [name] in the file, its keys, the struct they fill. */
struct config_section {
	const char *name;
	const struct config_def *keys;
	size_t nkeys;
	size_t size; /* of the section's struct */
	/* Rules between keys (this section's and others'), once every source is loaded: 0,
	 * or -ERR_INVALID with one message naming where the value came from. NULL: none. */
	int (*validate)(const struct config *c, char *err, size_t errlen);
};

#define CONFIG_MAX_SECTIONS 24

/* Beside a subsystem's key table name_keys and its struct name_config: defines
 * name_section (CONFIG_SECTION, in the .c file) and declares it with a typed accessor
 * name_cfg(c) (CONFIG_SECTION_DECL, in the header). */
#define CONFIG_SECTION(name, validate_fn)                                                    \
	const struct config_section name##_section = { #name, name##_keys,                  \
						       sizeof name##_keys / sizeof name##_keys[0], \
						       sizeof(struct name##_config), validate_fn }
#define CONFIG_SECTION_DECL(name)                                                            \
	extern const struct config_section name##_section;                                  \
	static inline const struct name##_config *name##_cfg(const struct config *c)        \
	{                                                                                    \
		return config_values(c, &name##_section);                                   \
	}

enum config_origin_kind { ORIGIN_DEFAULT, ORIGIN_FILE, ORIGIN_ENV, ORIGIN_FLAG };

struct config_origin {
	enum config_origin_kind kind;
	char where[160]; /* "path:line", "CAIRN_LOG_LEVEL", "--listen" */
};

struct config {
	const struct config_section *const *sections; /* borrowed for the config's life */
	size_t nsections;
	void *values[CONFIG_MAX_SECTIONS];             /* one struct per section, owned */
	struct config_origin *origins[CONFIG_MAX_SECTIONS]; /* per key, owned */
};

/* Units for the tables' bounds and the parsers. */
#define KiB (1024LL)
#define MiB (1024LL * 1024)
#define GiB (1024LL * 1024 * 1024)
#define SEC 1000LL

/* Fills c with the defaults of every section (no two may share a name). -ERR_NOMEM,
 * -ERR_INVALID for a bad table. */
int config_init(struct config *c, const struct config_section *const *sections, size_t n);
void config_free(struct config *c);

/* The values of section s (the struct it declares); NULL when s is not one of c's
 * sections. Subsystems wrap it in a typed accessor (say, limits_cfg). Any thread, once
 * the configuration is loaded; the values do not change afterwards. */
void *config_values(const struct config *c, const struct config_section *s);
/* The values of a section named name, writable, for the owner of a configuration it has
 * not yet shared (tests, a command setting one up): CONFIG_MUT(&cfg, storage)->data_dir. */
#define CONFIG_MUT(c, name) ((struct name##_config *)config_values((c), &name##_section))
/* Where a key's value came from; NULL for a key c does not have. */
const struct config_origin *config_origin(const struct config *c, const struct config_section *s,
					  const char *key);
/* The same as text ("default", "file:line", "CAIRN_...", "--flag"), for messages; "?" for
 * an unknown key. */
const char *config_where(const struct config *c, const struct config_section *s,
			 const char *key);

/* Each returns 0, or -ERR_INVALID with one message naming the place in err. */
int config_load_file(struct config *c, const char *path, char *err, size_t errlen);
/* Reads CAIRN_<SECTION>_<KEY> from envp; any other CAIRN_ variable that is not on the one
 * declared list of others (config_env_extra: CAIRN_CONFIG) is an error, so a misspelt one
 * is not silently ignored. */
int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen);
/* flag is "--listen" etc.; returns -ERR_NOT_FOUND when no key has that flag. */
int config_set_flag(struct config *c, const char *flag, const char *value, char *err,
		    size_t errlen);
/* serve: the command serves (flags like --listen mean something to it). */
bool config_flag_known(const struct config *c, const char *flag, bool serve);
/* Whether the CAIRN_ variable name[0..len) is on the declared list of variables that are
 * not configuration keys; the list, one per line, for --help. */
bool config_env_extra(const char *name, size_t len);
void config_print_env_extra(FILE *out);
/* Runs every section's validate once every source is loaded. */
int config_validate(const struct config *c, char *err, size_t errlen);

/* The effective configuration, one "key = value  ; origin" line per key, by section. */
void config_print(const struct config *c, FILE *out);
/* The commented example file written by `cairn init`. */
void config_write_example(const struct config *c, FILE *out);
/* One line per key that has a flag: "  --listen HOST:PORT   help"; serve-only ones only
 * for a command that serves. */
void config_print_flags(const struct config *c, FILE *out, bool serve);

/* Value parsers (config_parse.c), exposed for tests. */
int config_parse_size(const char *s, int64_t *ret);
int config_parse_duration_ms(const char *s, int64_t *ret);
/* Splits "HOST:PORT" or "[V6]:PORT"; host is written NUL-terminated into host. */
int config_split_addr(const char *s, char *host, size_t hostlen, int *ret_port);
/* A size or duration as the file would write it ("16KiB", "10s"), into out. */
void config_describe(enum cfg_type t, int64_t v, char *out, size_t len);

#endif
