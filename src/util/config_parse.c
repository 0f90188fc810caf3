/* The configuration's value syntax: sizes, durations, addresses. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"

int config_parse_size(const char *s, int64_t *ret)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -ERR_INVALID;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -ERR_INVALID;
	int64_t mult = 1;
	if (*end) {
		static const struct { const char *suf; int64_t mult; } sufs[] = {
			{ "B", 1 }, { "K", KiB }, { "KB", KiB }, { "KiB", KiB }, { "k", KiB },
			{ "M", MiB }, { "MB", MiB }, { "MiB", MiB }, { "G", GiB }, { "GB", GiB },
			{ "GiB", GiB },
		};
		size_t i;
		for (i = 0; i < sizeof sufs / sizeof sufs[0]; i++)
			if (strcmp(end, sufs[i].suf) == 0)
				break;
		if (i == sizeof sufs / sizeof sufs[0])
			return -ERR_INVALID;
		mult = sufs[i].mult;
	}
	if (v > (unsigned long long)(INT64_MAX / mult))
		return -ERR_INVALID;
	*ret = (int64_t)v * mult;
	return 0;
}

int config_parse_duration_ms(const char *s, int64_t *ret)
{
	char *end;
	if (!isdigit((unsigned char)*s))
		return -ERR_INVALID;
	errno = 0;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -ERR_INVALID;
	int64_t mult;
	if (*end == '\0' || strcmp(end, "s") == 0)
		mult = SEC;
	else if (strcmp(end, "ms") == 0)
		mult = 1;
	else if (strcmp(end, "m") == 0)
		mult = 60 * SEC;
	else if (strcmp(end, "h") == 0)
		mult = 3600 * SEC;
	else if (strcmp(end, "d") == 0)
		mult = 86400 * SEC;
	else
		return -ERR_INVALID;
	if (v > (unsigned long long)(INT64_MAX / mult))
		return -ERR_INVALID;
	*ret = (int64_t)v * mult;
	return 0;
}

int config_split_addr(const char *s, char *host, size_t hostlen, int *ret_port)
{
	const char *colon;
	const char *h = s;
	size_t hl;
	if (*s == '[') {
		const char *rb = strchr(s, ']');
		if (!rb || rb[1] != ':')
			return -ERR_INVALID;
		h = s + 1;
		hl = (size_t)(rb - h);
		colon = rb + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || strchr(s, ':') != colon)
			return -ERR_INVALID;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen)
		return -ERR_INVALID;
	const char *p = colon + 1;
	if (!*p || strlen(p) > 5)
		return -ERR_INVALID;
	int port = 0;
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p))
			return -ERR_INVALID;
		port = port * 10 + (*p - '0');
	}
	if (port > 65535)
		return -ERR_INVALID;
	memcpy(host, h, hl);
	host[hl] = '\0';
	*ret_port = port;
	return 0;
}

void config_describe(enum cfg_type t, int64_t v, char *out, size_t len)
{
	if (t == T_SIZE) {
		if (v % GiB == 0 && v)
			snprintf(out, len, "%lldGiB", (long long)(v / GiB));
		else if (v % MiB == 0 && v)
			snprintf(out, len, "%lldMiB", (long long)(v / MiB));
		else if (v % KiB == 0 && v)
			snprintf(out, len, "%lldKiB", (long long)(v / KiB));
		else
			snprintf(out, len, "%lld", (long long)v);
	} else if (t == T_DURATION) {
		if (v % (86400 * SEC) == 0 && v)
			snprintf(out, len, "%lldd", (long long)(v / (86400 * SEC)));
		else if (v % (3600 * SEC) == 0 && v)
			snprintf(out, len, "%lldh", (long long)(v / (3600 * SEC)));
		else if (v % (60 * SEC) == 0 && v)
			snprintf(out, len, "%lldm", (long long)(v / (60 * SEC)));
		else if (v % SEC == 0)
			snprintf(out, len, "%llds", (long long)(v / SEC));
		else
			snprintf(out, len, "%lldms", (long long)v);
	} else {
		snprintf(out, len, "%lld", (long long)v);
	}
}
