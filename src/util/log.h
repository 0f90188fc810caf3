/* Logging to stderr, one write(2) per line, as text or JSON lines.
 * The macros do not evaluate their arguments when the level is off. */
#ifndef CAIRN_LOG_H
#define CAIRN_LOG_H

#include <stdint.h>
#include "config.h"

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR, LOG_OFF };

/* Process-wide: logging has one sink, set once at start-up before threads exist. */
extern int log_min_level;

/* "debug", "info", "warn", "error"; format "text" or "json". -ERR_INVALID otherwise. */
int log_setup(const char *level, const char *format);
int log_parse_level(const char *s);

void log_write(int level, const char *reqid, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* One access-log line (at level info); client is the client's address. */
void log_access(const char *reqid, const char *client, const char *method, const char *path,
		int status, uint64_t bytes, double ms);

#define LOG_AT(lvl, rid, ...)                                   \
	do {                                                    \
		if (log_min_level <= (lvl))                     \
			log_write((lvl), (rid), __VA_ARGS__);   \
	} while (0)
#define log_debug(...) LOG_AT(LOG_DEBUG, NULL, __VA_ARGS__)
#define log_info(...) LOG_AT(LOG_INFO, NULL, __VA_ARGS__)
#define log_warn(...) LOG_AT(LOG_WARN, NULL, __VA_ARGS__)
#define log_error(...) LOG_AT(LOG_ERROR, NULL, __VA_ARGS__)
#define log_req(lvl, rid, ...) LOG_AT(lvl, rid, __VA_ARGS__)

/* --- configuration (the section and its values: util/config.h) --- */

struct log_config {
	char *level;
	char *format;
	bool access;
};
CONFIG_SECTION_DECL(log);

#endif
