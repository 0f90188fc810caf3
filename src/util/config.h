/* Configuration: one table (config.c) drives the INI file, the CAIRN_<SECTION>_<KEY>
 * environment, command-line flags, defaults, bounds, --help, the example file and
 * `cairn config`. Precedence: flag > environment > file > default. */
#ifndef CAIRN_CONFIG_H
#define CAIRN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

enum config_key {
	CK_SERVER_LISTEN,
	CK_SERVER_THREADS,
	CK_SERVER_MAX_CONNECTIONS,
	CK_SERVER_CONNECTION_MEMORY,
	CK_SERVER_HEADER_TIMEOUT,
	CK_SERVER_IDLE_TIMEOUT,
	CK_SERVER_SHUTDOWN_TIMEOUT,
	CK_SERVER_PUBLIC_URL,
	CK_SERVER_EVENTS_HEARTBEAT,
	CK_SERVER_BODY_MIN_RATE,
	CK_SERVER_BODY_GRACE,
	CK_SERVER_MAX_CONNECTIONS_PER_ADDRESS,
	CK_SERVER_TRUSTED_PROXIES,
	CK_STORAGE_DATA_DIR,
	CK_STORAGE_DATABASE,
	CK_STORAGE_BLOBS,
	CK_LIMITS_HEADER_BYTES,
	CK_LIMITS_JSON_BODY_BYTES,
	CK_LIMITS_JSON_DEPTH,
	CK_LIMITS_JSON_VALUES,
	CK_LIMITS_AUTH_BODY_BYTES,
	CK_LIMITS_PUSH_CHANGES,
	CK_LIMITS_PUSH_BLOB_REFS,
	CK_LIMITS_PUSH_STORED_BYTES,
	CK_LIMITS_RECORD_BYTES,
	CK_LIMITS_PAGE,
	CK_LIMITS_WAIT,
	CK_SYNC_RETENTION,
	CK_SYNC_GC_INTERVAL,
	CK_SYNC_DEVICE_IDLE,
	CK_SYNC_MAX_CLOCK_SKEW,
	CK_BLOBS_MAX_SIZE,
	CK_BLOBS_USER_QUOTA,
	CK_BLOBS_REALM_QUOTA,
	CK_BLOBS_GC_GRACE,
	CK_BLOBS_SENDFILE,
	CK_AUTH_PASSWORD_MEMORY,
	CK_AUTH_PASSWORD_PASSES,
	CK_RATELIMIT_PER_ADDRESS,
	CK_RATELIMIT_PER_ACCOUNT,
	CK_MAIL_SMTP_URL,
	CK_MAIL_FROM,
	CK_MAIL_USER,
	CK_MAIL_PASSWORD,
	CK_MAIL_STARTTLS,
	CK_ADMIN_USER,
	CK_ADMIN_PASSWORD,
	CK_LOG_LEVEL,
	CK_LOG_FORMAT,
	CK_LOG_ACCESS,
	CONFIG_NKEYS
};

enum config_origin_kind { ORIGIN_DEFAULT, ORIGIN_FILE, ORIGIN_ENV, ORIGIN_FLAG };

struct config_origin {
	enum config_origin_kind kind;
	char where[160]; /* "path:line", "CAIRN_LOG_LEVEL", "--listen" */
};

/* Durations are held in milliseconds, sizes in bytes. Strings are owned (config_free). */
struct config {
	char *server_listen;
	int64_t server_threads;
	int64_t server_max_connections;
	int64_t server_connection_memory;
	int64_t server_header_timeout_ms;
	int64_t server_idle_timeout_ms;
	int64_t server_shutdown_timeout_ms;
	char *server_public_url;
	int64_t server_events_heartbeat_ms;
	int64_t server_body_min_rate;     /* bytes per second */
	int64_t server_body_grace_ms;
	int64_t server_max_connections_per_address;
	char *server_trusted_proxies;     /* "10.0.0.1, 192.168.0.0/16": addresses and ranges */
	char *storage_data_dir;
	char *storage_database;
	char *storage_blobs;
	int64_t limits_header_bytes;
	int64_t limits_json_body_bytes;
	int64_t limits_json_depth;
	int64_t limits_json_values;
	int64_t limits_auth_body_bytes;
	int64_t limits_push_changes;
	int64_t limits_push_blob_refs;
	int64_t limits_push_stored_bytes;
	int64_t limits_record_bytes;
	int64_t limits_page;
	int64_t limits_wait_ms;
	int64_t sync_retention_ms;
	int64_t sync_gc_interval_ms;
	int64_t sync_device_idle_ms;
	int64_t sync_max_clock_skew_ms;
	int64_t blobs_max_size;
	int64_t blobs_user_quota;
	int64_t blobs_realm_quota;
	int64_t blobs_gc_grace_ms;
	bool blobs_sendfile;
	int64_t auth_password_memory;
	int64_t auth_password_passes;
	int64_t ratelimit_per_address;
	int64_t ratelimit_per_account;
	char *mail_smtp_url;
	char *mail_from;
	char *mail_user;
	char *mail_password;
	char *mail_starttls;
	char *admin_user;
	char *admin_password;
	char *log_level;
	char *log_format;
	bool log_access;
	struct config_origin origin[CONFIG_NKEYS];
};

/* Fills c with the built-in defaults. -ERR_NOMEM. */
int config_init(struct config *c);
void config_free(struct config *c);

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
bool config_flag_known(const char *flag, bool serve);
/* Whether the CAIRN_ variable name[0..len) is on the declared list of variables that are
 * not configuration keys; the list, one per line, for --help. */
bool config_env_extra(const char *name, size_t len);
void config_print_env_extra(FILE *out);
/* Checks rules between keys once every source is loaded. */
int config_validate(const struct config *c, char *err, size_t errlen);

/* The effective configuration, one "section.key = value  # origin" line per key. */
void config_print(const struct config *c, FILE *out);
/* The commented example file written by `cairn init`. */
void config_write_example(FILE *out);
/* One line per key that has a flag: "  --listen HOST:PORT   help"; serve-only ones only
 * for a command that serves. */
void config_print_flags(FILE *out, bool serve);

/* Value parsers, exposed for tests. */
int config_parse_size(const char *s, int64_t *ret);
int config_parse_duration_ms(const char *s, int64_t *ret);
/* Splits "HOST:PORT" or "[V6]:PORT"; host is written NUL-terminated into host. */
int config_split_addr(const char *s, char *host, size_t hostlen, int *ret_port);

#endif
