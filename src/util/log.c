#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "err.h"
#include "utf8.h"

int log_min_level = LOG_INFO;
static int log_json;

static const char *const level_names[] = { "debug", "info", "warn", "error" };

int log_parse_level(const char *s)
{
	for (int i = 0; i < 4; i++)
		if (strcmp(s, level_names[i]) == 0)
			return i;
	return -ERR_INVALID;
}

int log_setup(const char *level, const char *format)
{
	int l = log_parse_level(level);
	if (l < 0)
		return l;
	if (strcmp(format, "text") && strcmp(format, "json"))
		return -ERR_INVALID;
	log_min_level = l;
	log_json = strcmp(format, "json") == 0;
	return 0;
}

/* snprintf that never moves p past end (snprintf returns the length it wanted). */
static char *putf(char *p, char *end, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *putf(char *p, char *end, const char *fmt, ...)
{
	if (p >= end)
		return end;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(p, (size_t)(end - p), fmt, ap);
	va_end(ap);
	if (n < 0)
		return p;
	return (size_t)n >= (size_t)(end - p) ? end - 1 : p + n;
}

/* Appends s to p with JSON string escaping, stopping short of end; returns the new p. A
 * byte that is not UTF-8 becomes U+FFFD, so every line stays JSON (paths are the client's
 * bytes). */
static char *put_json_str(char *p, char *end, const char *s)
{
	while (*s && p < end - 7) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			*p++ = '\\';
			*p++ = (char)c;
			s++;
		} else if (c < 0x20 || c == 0x7f) {
			p = putf(p, end, "\\u%04x", c);
			s++;
		} else if (c < 0x80) {
			*p++ = (char)c;
			s++;
		} else {
			/* s is NUL-terminated, and a NUL ends any sequence */
			size_t n = utf8_seq_len((const unsigned char *)s, 4);
			if (n == 0) {
				p = putf(p, end, "\\ufffd");
				s++;
			} else {
				memcpy(p, s, n);
				p += n;
				s += n;
			}
		}
	}
	return p;
}

/* Control characters in text lines would let a client forge log lines; bytes that are not
 * UTF-8 are shown as '?'. */
static char *put_text_str(char *p, char *end, const char *s)
{
	while (*s && p < end - 5) {
		unsigned char c = (unsigned char)*s;
		size_t n = c >= 0x80 ? utf8_seq_len((const unsigned char *)s, 4) : 1;
		if (c < 0x20 || c == 0x7f || n == 0) {
			*p++ = '?';
			s++;
		} else {
			memcpy(p, s, n);
			p += n;
			s += n;
		}
	}
	return p;
}

static void emit(char *line, char *p, char *end)
{
	if (p >= end)
		p = end - 1;
	*p++ = '\n';
	ssize_t off = 0, n = p - line;
	while (off < n) {
		ssize_t w = write(STDERR_FILENO, line + off, (size_t)(n - off));
		if (w <= 0)
			break;
		off += w;
	}
}

void log_write(int level, const char *reqid, const char *fmt, ...)
{
	char msg[2048], line[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	char ts[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(clock_wall_ms(), ts);
	char *p = line, *end = line + sizeof line - 1;
	const char *lv = level_names[level < 0 || level > LOG_ERROR ? LOG_ERROR : level];
	if (log_json) {
		p = putf(p, end, "{\"ts\":\"%s\",\"level\":\"%s\",", ts, lv);
		if (reqid) {
			p = putf(p, end, "\"request_id\":\"");
			p = put_json_str(p, end, reqid);
			p = putf(p, end, "\",");
		}
		p = putf(p, end, "\"msg\":\"");
		p = put_json_str(p, end - 3, msg); /* room for the closing */
		p = putf(p, end, "\"}");
	} else {
		p = putf(p, end, "%s %-5s ", ts, lv);
		if (reqid)
			p = putf(p, end, "[%s] ", reqid);
		p = put_text_str(p, end, msg);
	}
	emit(line, p, end);
}

void log_access(const char *reqid, const char *client, const char *method, const char *path,
		int status, uint64_t bytes, double ms)
{
	if (log_min_level > LOG_INFO)
		return;
	char line[4096], ts[CLOCK_RFC3339_LEN];
	clock_format_rfc3339(clock_wall_ms(), ts);
	char *p = line, *end = line + sizeof line - 1;
	if (log_json) {
		/* the path last: the client's, and cut short there if it must be, with the
		 * line still closed */
		p = putf(p, end, "{\"ts\":\"%s\",\"level\":\"info\",\"msg\":\"access\",\"client\":\"", ts);
		p = put_json_str(p, end, client);
		p = putf(p, end, "\",\"method\":\"");
		p = put_json_str(p, end, method);
		p = putf(p, end, "\",\"status\":%d,\"bytes\":%llu,\"duration_ms\":%.3f,\"request_id\":\"",
			      status, (unsigned long long)bytes, ms);
		p = put_json_str(p, end, reqid);
		p = putf(p, end, "\",\"path\":\"");
		p = put_json_str(p, end - 3, path);
		p = putf(p, end, "\"}");
	} else {
		p = putf(p, end, "%s info  [%s] ", ts, reqid);
		p = put_text_str(p, end, client);
		p = putf(p, end, " ");
		p = put_text_str(p, end, method);
		p = putf(p, end, " ");
		p = put_text_str(p, end - 64, path); /* room for what follows */
		p = putf(p, end, " %d %llub %.3fms", status,
			      (unsigned long long)bytes, ms);
	}
	emit(line, p, end);
}
