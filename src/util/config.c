#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "config_def.h"
#include "netaddr.h"

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

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

static bool enum_has(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;
	while (*p) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && strncmp(p, v, n) == 0)
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

static void describe_bound(const struct config_def *d, int64_t v, char *out, size_t len)
{
	if (d->type == T_SIZE) {
		if (v % GiB == 0 && v)
			snprintf(out, len, "%lldGiB", (long long)(v / GiB));
		else if (v % MiB == 0 && v)
			snprintf(out, len, "%lldMiB", (long long)(v / MiB));
		else if (v % KiB == 0 && v)
			snprintf(out, len, "%lldKiB", (long long)(v / KiB));
		else
			snprintf(out, len, "%lld", (long long)v);
	} else if (d->type == T_DURATION) {
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

/* Parses value for key k into c and records its origin; where names the source. */
static int config_set(struct config *c, int k, const char *value,
		      enum config_origin_kind kind, const char *where, char *err, size_t errlen)
{
	const struct config_def *d = &config_defs[k];
	void *field = (char *)c + d->off;
	int64_t n = 0;
	char lo[32], hi[32];
	switch (d->type) {
	case T_STR:
	case T_OPTSTR:
	case T_ENUM:
	case T_ADDR: {
		if (d->type == T_OPTSTR && strlen(value) > 4096) {
			seterr(err, errlen, "%s: %s.%s must be at most 4096 bytes", where,
			       d->section, d->key);
			return -ERR_INVALID;
		}
		if (d->type == T_STR && (!*value || strlen(value) > 4096)) {
			seterr(err, errlen, "%s: %s.%s must be a non-empty string of at most 4096 bytes",
			       where, d->section, d->key);
			return -ERR_INVALID;
		}
		if (d->type == T_ENUM && !enum_has(d->choices, value)) {
			seterr(err, errlen, "%s: %s.%s must be one of %s, not '%s'", where,
			       d->section, d->key, d->choices, value);
			return -ERR_INVALID;
		}
		if (d->type == T_ADDR) {
			char host[256];
			int port;
			if (config_split_addr(value, host, sizeof host, &port) < 0) {
				seterr(err, errlen,
				       "%s: %s.%s must be HOST:PORT (or [IPV6]:PORT) with a port "
				       "from 0 to 65535, not '%s'",
				       where, d->section, d->key, value);
				return -ERR_INVALID;
			}
		}
		char *dup = strdup(value);
		if (!dup)
			return -ERR_NOMEM;
		free(*(char **)field);
		*(char **)field = dup;
		break;
	}
	case T_BOOL:
		if (!strcmp(value, "true") || !strcmp(value, "yes") || !strcmp(value, "on") ||
		    !strcmp(value, "1"))
			*(bool *)field = true;
		else if (!strcmp(value, "false") || !strcmp(value, "no") ||
			 !strcmp(value, "off") || !strcmp(value, "0"))
			*(bool *)field = false;
		else {
			seterr(err, errlen, "%s: %s.%s must be true or false, not '%s'", where,
			       d->section, d->key, value);
			return -ERR_INVALID;
		}
		break;
	case T_INT:
	case T_SIZE:
	case T_DURATION: {
		int r;
		if (d->type == T_SIZE)
			r = config_parse_size(value, &n);
		else if (d->type == T_DURATION)
			r = config_parse_duration_ms(value, &n);
		else {
			char *end;
			errno = 0;
			long long v = strtoll(value, &end, 10);
			r = (errno || end == value || *end) ? -ERR_INVALID : 0;
			n = v;
		}
		if (r < 0) {
			static const char *const what[] = {
				[T_INT] = "a whole number",
				[T_SIZE] = "a size such as 16KiB, 4MiB or 1048576",
				[T_DURATION] = "a duration such as 500ms, 10s, 5m or 1h",
			};
			seterr(err, errlen, "%s: %s.%s must be %s, not '%s'", where, d->section,
			       d->key, what[d->type], value);
			return -ERR_INVALID;
		}
		if (n < d->min || n > d->max) {
			describe_bound(d, d->min, lo, sizeof lo);
			describe_bound(d, d->max, hi, sizeof hi);
			seterr(err, errlen, "%s: %s.%s must be between %s and %s, not '%s'", where,
			       d->section, d->key, lo, hi, value);
			return -ERR_INVALID;
		}
		*(int64_t *)field = n;
		break;
	}
	}
	c->origin[k].kind = kind;
	snprintf(c->origin[k].where, sizeof c->origin[k].where, "%s", where);
	return 0;
}

int config_init(struct config *c)
{
	memset(c, 0, sizeof *c);
	char err[256];
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		int r = config_set(c, k, config_defs[k].def, ORIGIN_DEFAULT, "default", err, sizeof err);
		if (r < 0) {
			config_free(c);
			return r;
		}
	}
	return 0;
}

void config_free(struct config *c)
{
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		enum cfg_type t = config_defs[k].type;
		if (t == T_STR || t == T_OPTSTR || t == T_ENUM || t == T_ADDR) {
			char **p = (char **)((char *)c + config_defs[k].off);
			free(*p);
			*p = NULL;
		}
	}
}

static int find_key(const char *section, const char *key)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		if (!strcmp(config_defs[k].section, section) && !strcmp(config_defs[k].key, key))
			return k;
	return -1;
}

static bool section_known(const char *section)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		if (!strcmp(config_defs[k].section, section))
			return true;
	return false;
}

struct file_ctx {
	struct config *c;
	const char *path;
	FILE *f;
	int line;
	bool too_long;
	char *err;
	size_t errlen;
	int rc;
};

/* inih's reader: counts lines so every value can say where it came from. */
static char *file_reader(char *str, int num, void *stream)
{
	struct file_ctx *fc = stream;
	if (!fgets(str, num, fc->f))
		return NULL;
	fc->line++;
	size_t n = strlen(str);
	if (n == (size_t)num - 1 && str[n - 1] != '\n' && !feof(fc->f)) {
		fc->too_long = true;
		str[0] = '\0';
		int ch;
		while ((ch = fgetc(fc->f)) != EOF && ch != '\n')
			;
	}
	return str;
}

static int file_handler(void *user, const char *section, const char *name, const char *value)
{
	struct file_ctx *fc = user;
	char where[160];
	snprintf(where, sizeof where, "%s:%d", fc->path, fc->line);
	int k = find_key(section, name);
	if (k < 0) {
		if (!*section)
			seterr(fc->err, fc->errlen, "%s: key '%s' is outside any [section]", where,
			       name);
		else if (!section_known(section))
			seterr(fc->err, fc->errlen, "%s: unknown section [%s]", where, section);
		else
			seterr(fc->err, fc->errlen, "%s: unknown key '%s' in section [%s]", where,
			       name, section);
		fc->rc = -ERR_INVALID;
		return 0;
	}
	int r = config_set(fc->c, k, value, ORIGIN_FILE, where, fc->err, fc->errlen);
	if (r < 0) {
		fc->rc = r;
		return 0;
	}
	return 1;
}

int config_load_file(struct config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		seterr(err, errlen, "%s: cannot open the configuration file: %s", path,
		       strerror(errno));
		return -ERR_INVALID;
	}
	struct file_ctx fc = { c, path, f, 0, false, err, errlen, 0 };
	ini_allow_multiline = false;
	int r = ini_parse_stream(file_reader, &fc, file_handler, &fc);
	fclose(f);
	if (fc.too_long) {
		seterr(err, errlen, "%s:%d: line too long", path, fc.line);
		return -ERR_INVALID;
	}
	if (fc.rc < 0)
		return fc.rc;
	if (r != 0) {
		seterr(err, errlen, "%s:%d: not a 'key = value' line or a [section] header", path,
		       r > 0 ? r : fc.line);
		return -ERR_INVALID;
	}
	return 0;
}

static void env_name(int k, char *out, size_t len)
{
	int n = snprintf(out, len, "CAIRN_%s_%s", config_defs[k].section, config_defs[k].key);
	for (int i = 0; i < n && (size_t)i < len; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

/* CAIRN_ variables that are not configuration keys: the one list of them, each with what
 * it is for (docs/configuration.md lists them). Any other CAIRN_ name is a mistake. */
static const struct {
	const char *name, *help;
} env_extra[] = {
	{ "CAIRN_CONFIG", "the configuration file, when --config is not given" },
};

bool config_env_extra(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof env_extra / sizeof env_extra[0]; i++)
		if (strlen(env_extra[i].name) == len && !strncmp(env_extra[i].name, name, len))
			return true;
	return false;
}

void config_print_env_extra(FILE *out)
{
	for (size_t i = 0; i < sizeof env_extra / sizeof env_extra[0]; i++)
		fprintf(out, "  %-24s %s\n", env_extra[i].name, env_extra[i].help);
}

int config_load_env(struct config *c, char *const *envp, char *err, size_t errlen)
{
	for (; envp && *envp; envp++) {
		const char *e = *envp;
		if (strncmp(e, "CAIRN_", 6) != 0)
			continue;
		const char *eq = strchr(e, '=');
		if (!eq)
			continue;
		size_t nl = (size_t)(eq - e);
		if (config_env_extra(e, nl))
			continue;
		int found = -1;
		char name[96];
		for (int k = 0; k < CONFIG_NKEYS; k++) {
			env_name(k, name, sizeof name);
			if (strlen(name) == nl && !strncmp(name, e, nl)) {
				found = k;
				break;
			}
		}
		if (found < 0) {
			seterr(err, errlen, "environment: unknown variable %.*s (see cairn help)",
			       (int)(nl > 80 ? 80 : nl), e);
			return -ERR_INVALID;
		}
		int r = config_set(c, found, eq + 1, ORIGIN_ENV, name, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

bool config_flag_known(const char *flag, bool serve)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		if (config_defs[k].flag && !strcmp(config_defs[k].flag, flag) && (serve || !config_defs[k].serve_only))
			return true;
	return false;
}

int config_set_flag(struct config *c, const char *flag, const char *value, char *err,
		    size_t errlen)
{
	for (int k = 0; k < CONFIG_NKEYS; k++)
		if (config_defs[k].flag && !strcmp(config_defs[k].flag, flag))
			return config_set(c, k, value, ORIGIN_FLAG, flag, err, errlen);
	return -ERR_NOT_FOUND;
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
	const char *u = c->server_public_url;
	if (*u && strncmp(u, "http://", 7) && strncmp(u, "https://", 8)) {
		seterr(err, errlen, "%s: server.public_url must start with http:// or https://",
		       c->origin[CK_SERVER_PUBLIC_URL].where);
		return -ERR_INVALID;
	}
	u = c->mail_smtp_url;
	if (*u && strncmp(u, "smtp://", 7) && strncmp(u, "smtps://", 8)) {
		seterr(err, errlen, "%s: mail.smtp_url must start with smtp:// or smtps://",
		       c->origin[CK_MAIL_SMTP_URL].where);
		return -ERR_INVALID;
	}
	if (*c->admin_user && !*c->admin_password) {
		seterr(err, errlen, "%s: admin.user needs admin.password (--admin-pass)",
		       c->origin[CK_ADMIN_USER].where);
		return -ERR_INVALID;
	}
	if (c->server_connection_memory < c->limits_header_bytes + 4 * KiB) {
		seterr(err, errlen,
		       "%s: server.connection_memory (%lld) must be at least limits.header_bytes "
		       "(%lld) + 4KiB",
		       c->origin[CK_SERVER_CONNECTION_MEMORY].where,
		       (long long)c->server_connection_memory, (long long)c->limits_header_bytes);
		return -ERR_INVALID;
	}
	struct netrange_list proxies;
	char why[128];
	if (netrange_list_parse(c->server_trusted_proxies, &proxies, why, sizeof why) < 0) {
		seterr(err, errlen, "%s: server.trusted_proxies: %s",
		       c->origin[CK_SERVER_TRUSTED_PROXIES].where, why);
		return -ERR_INVALID;
	}
	return 0;
}

static void format_value(const struct config *c, int k, char *out, size_t len)
{
	const struct config_def *d = &config_defs[k];
	const void *field = (const char *)c + d->off;
	switch (d->type) {
	case T_STR:
	case T_OPTSTR:
	case T_ENUM:
	case T_ADDR:
		snprintf(out, len, "%s", *(char *const *)field);
		break;
	case T_BOOL:
		snprintf(out, len, "%s", *(const bool *)field ? "true" : "false");
		break;
	default:
		describe_bound(d, *(const int64_t *)field, out, len);
	}
}

void config_print(const struct config *c, FILE *out)
{
	static const char *const kinds[] = { "default", "file", "environment", "flag" };
	const char *section = "";
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		char v[4200];
		if (strcmp(section, config_defs[k].section)) {
			section = config_defs[k].section;
			fprintf(out, "%s[%s]\n", k ? "\n" : "", section);
		}
		format_value(c, k, v, sizeof v);
		if ((k == CK_MAIL_PASSWORD || k == CK_ADMIN_PASSWORD) && v[0])
			snprintf(v, sizeof v, "(set, not shown)");
		const struct config_origin *o = &c->origin[k];
		if (o->kind == ORIGIN_DEFAULT)
			fprintf(out, "%s = %s    ; default\n", config_defs[k].key, v);
		else
			fprintf(out, "%s = %s    ; %s %s\n", config_defs[k].key, v, kinds[o->kind],
				o->where);
	}
}

static void print_bounds(const struct config_def *d, FILE *out, const char *prefix)
{
	char lo[32], hi[32], env[96];
	env_name((int)(d - config_defs), env, sizeof env);
	fprintf(out, "%sEnvironment: %s", prefix, env);
	if (d->flag)
		fprintf(out, ". Flag: %s", d->flag);
	if (d->type == T_INT || d->type == T_SIZE || d->type == T_DURATION) {
		describe_bound(d, d->min, lo, sizeof lo);
		describe_bound(d, d->max, hi, sizeof hi);
		fprintf(out, ". Range: %s to %s", lo, hi);
	} else if (d->type == T_ENUM) {
		fprintf(out, ". One of: %s", d->choices);
	}
	fprintf(out, ".\n");
}

/* text as comment lines of at most about 88 columns (inih reads lines of limited
 * length, and people read narrow ones). */
static void print_wrapped(FILE *out, const char *prefix, const char *text)
{
	const size_t width = 88 - strlen(prefix);
	while (*text) {
		size_t n = strlen(text);
		if (n > width) {
			n = width;
			while (n > 0 && text[n] != ' ')
				n--;
			if (n == 0)
				n = strcspn(text, " ");
		}
		fprintf(out, "%s%.*s\n", prefix, (int)n, text);
		text += n;
		while (*text == ' ')
			text++;
	}
}

void config_write_example(FILE *out)
{
	fprintf(out,
		"; Cairn configuration. Every key is shown with its default value.\n"
		"; Precedence: command-line flag > environment variable > this file > default.\n"
		"; Sizes take B, KiB, MiB, GiB; durations take ms, s, m, h, d (plain numbers are\n"
		"; seconds). Lines starting with ; or # are comments.\n");
	const char *section = "";
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_def *d = &config_defs[k];
		if (strcmp(section, d->section)) {
			section = d->section;
			fprintf(out, "\n[%s]\n", section);
		}
		fputc('\n', out);
		print_wrapped(out, "; ", d->help);
		print_bounds(d, out, "; ");
		fprintf(out, "%s = %s\n", d->key, d->def);
	}
}

void config_print_flags(FILE *out, bool serve)
{
	for (int k = 0; k < CONFIG_NKEYS; k++) {
		const struct config_def *d = &config_defs[k];
		if (!d->flag || (d->serve_only && !serve))
			continue;
		char left[64];
		snprintf(left, sizeof left, "%s %s", d->flag, d->metavar);
		fprintf(out, "  %-24s %s (%s.%s, default %s)\n", left, d->help, d->section,
			d->key, *d->def ? d->def : "none");
	}
}
