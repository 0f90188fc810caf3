/* The configuration engine (config.h): sections of keys, filled from defaults, a file,
 * the environment and flags, printed for people. It knows no key by name. */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <ini.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "err.h"

/* A configuration file, at most: 1 MiB. */
#define CONFIG_FILE_MAX (1024 * 1024)

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
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

/* Parses value for key k of section s into c and records its origin; where names the
 * source. */
static int config_set(struct config *c, size_t s, size_t k, const char *value,
		      enum config_origin_kind kind, const char *where, char *err, size_t errlen)
{
	const struct config_section *sec = c->sections[s];
	const struct config_def *d = &sec->keys[k];
	const char *section = sec->name;
	void *field = (char *)c->values[s] + d->off;
	int64_t n = 0;
	char lo[32], hi[32];
	switch (d->type) {
	case T_STR:
	case T_OPTSTR:
	case T_ENUM:
	case T_ADDR: {
		if (d->type == T_OPTSTR && strlen(value) > 4096) {
			seterr(err, errlen, "%s: %s.%s must be at most 4096 bytes", where,
			       section, d->key);
			return -ERR_INVALID;
		}
		if (d->type == T_STR && (!*value || strlen(value) > 4096)) {
			seterr(err, errlen, "%s: %s.%s must be a non-empty string of at most 4096 bytes",
			       where, section, d->key);
			return -ERR_INVALID;
		}
		for (const char *p = value; *p; p++)
			if ((unsigned char)*p < 0x20 || *p == 0x7f) {
				/* a newline in mail.from would be a header of its own */
				seterr(err, errlen, "%s: %s.%s must not hold control characters "
				       "(line breaks, tabs, ...)", where, section, d->key);
				return -ERR_INVALID;
			}
		if (d->type == T_ENUM && !enum_has(d->choices, value)) {
			seterr(err, errlen, "%s: %s.%s must be one of %s, not '%s'", where,
			       section, d->key, d->choices, value);
			return -ERR_INVALID;
		}
		/* an address whose default is empty is optional: empty means none */
		if (d->type == T_ADDR && !(!*value && d->def && !*d->def)) {
			char host[256];
			int port;
			if (config_split_addr(value, host, sizeof host, &port) < 0) {
				seterr(err, errlen,
				       "%s: %s.%s must be HOST:PORT (or [IPV6]:PORT) with a port "
				       "from 0 to 65535, not '%s'",
				       where, section, d->key, value);
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
			       section, d->key, value);
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
			/* digits, with a minus at most: strtoll would also take spaces and '+' */
			bool plain = isdigit((unsigned char)value[0]) ||
				     (value[0] == '-' && isdigit((unsigned char)value[1]));
			r = (errno || !plain || *end) ? -ERR_INVALID : 0;
			n = v;
		}
		if (r < 0) {
			static const char *const what[] = {
				[T_INT] = "a whole number",
				[T_SIZE] = "a size such as 16KiB, 4MiB or 1048576",
				[T_DURATION] = "a duration such as 500ms, 10s, 5m or 1h",
			};
			seterr(err, errlen, "%s: %s.%s must be %s, not '%s'", where, section,
			       d->key, what[d->type], value);
			return -ERR_INVALID;
		}
		if (n < d->min || n > d->max) {
			config_describe(d->type, d->min, lo, sizeof lo);
			config_describe(d->type, d->max, hi, sizeof hi);
			seterr(err, errlen, "%s: %s.%s must be between %s and %s, not '%s'", where,
			       section, d->key, lo, hi, value);
			return -ERR_INVALID;
		}
		*(int64_t *)field = n;
		break;
	}
	}
	c->origins[s][k].kind = kind;
	snprintf(c->origins[s][k].where, sizeof c->origins[s][k].where, "%s", where);
	return 0;
}

static bool is_string(enum cfg_type t)
{
	return t == T_STR || t == T_OPTSTR || t == T_ENUM || t == T_ADDR;
}

int config_init(struct config *c, const struct config_section *const *sections, size_t n)
{
	memset(c, 0, sizeof *c);
	if (n > CONFIG_MAX_SECTIONS)
		return -ERR_INVALID;
	c->sections = sections;
	c->nsections = n;
	char err[256];
	for (size_t s = 0; s < n; s++) {
		for (size_t t = 0; t < s; t++)
			if (!strcmp(sections[t]->name, sections[s]->name)) {
				config_free(c);
				return -ERR_INVALID;
			}
		c->values[s] = calloc(1, sections[s]->size);
		c->origins[s] = calloc(sections[s]->nkeys ? sections[s]->nkeys : 1,
				       sizeof *c->origins[s]);
		if (!c->values[s] || !c->origins[s]) {
			config_free(c);
			return -ERR_NOMEM;
		}
		for (size_t k = 0; k < sections[s]->nkeys; k++) {
			int r = config_set(c, s, k, sections[s]->keys[k].def, ORIGIN_DEFAULT,
					   "default", err, sizeof err);
			if (r < 0) {
				config_free(c);
				return r;
			}
		}
	}
	return 0;
}

void config_free(struct config *c)
{
	for (size_t s = 0; s < c->nsections; s++) {
		const struct config_section *sec = c->sections[s];
		for (size_t k = 0; c->values[s] && k < sec->nkeys; k++)
			if (is_string(sec->keys[k].type)) {
				char **p = (char **)((char *)c->values[s] + sec->keys[k].off);
				free(*p);
				*p = NULL;
			}
		free(c->values[s]);
		free(c->origins[s]);
		c->values[s] = NULL;
		c->origins[s] = NULL;
	}
	c->nsections = 0;
}

void *config_values(const struct config *c, const struct config_section *s)
{
	for (size_t i = 0; i < c->nsections; i++)
		if (c->sections[i] == s)
			return c->values[i];
	return NULL;
}

const struct config_origin *config_origin(const struct config *c, const struct config_section *s,
					  const char *key)
{
	for (size_t i = 0; i < c->nsections; i++)
		if (c->sections[i] == s)
			for (size_t k = 0; k < s->nkeys; k++)
				if (!strcmp(s->keys[k].key, key))
					return &c->origins[i][k];
	return NULL;
}

const char *config_where(const struct config *c, const struct config_section *s,
			 const char *key)
{
	const struct config_origin *o = config_origin(c, s, key);
	return o ? o->where : "?";
}

static bool find_key(const struct config *c, const char *section, const char *key,
		     size_t *ret_s, size_t *ret_k)
{
	for (size_t s = 0; s < c->nsections; s++) {
		if (strcmp(c->sections[s]->name, section))
			continue;
		for (size_t k = 0; k < c->sections[s]->nkeys; k++)
			if (!strcmp(c->sections[s]->keys[k].key, key)) {
				*ret_s = s;
				*ret_k = k;
				return true;
			}
	}
	return false;
}

static bool section_known(const struct config *c, const char *section)
{
	for (size_t s = 0; s < c->nsections; s++)
		if (!strcmp(c->sections[s]->name, section))
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
	size_t s, k;
	if (!find_key(fc->c, section, name, &s, &k)) {
		if (!*section)
			seterr(fc->err, fc->errlen, "%s: key '%s' is outside any [section]", where,
			       name);
		else if (!section_known(fc->c, section))
			seterr(fc->err, fc->errlen, "%s: unknown section [%s]", where, section);
		else
			seterr(fc->err, fc->errlen, "%s: unknown key '%s' in section [%s]", where,
			       name, section);
		fc->rc = -ERR_INVALID;
		return 0;
	}
	int r = config_set(fc->c, s, k, value, ORIGIN_FILE, where, fc->err, fc->errlen);
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
	/* Read whole, so a directory, a device or a file too big to be a configuration is
	 * refused, and a NUL byte (which would end a value where the file does not) too. */
	struct stat st;
	char *text = NULL;
	size_t n = 0;
	const char *why = NULL;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode))
		why = "is not a regular file";
	else if (st.st_size > CONFIG_FILE_MAX)
		why = "is larger than 1 MiB";
	else if (!(text = malloc((size_t)st.st_size + 1)))
		why = "cannot be read: out of memory";
	else if ((n = fread(text, 1, (size_t)st.st_size + 1, f)) > (size_t)st.st_size || ferror(f))
		why = "changed while it was read";
	fclose(f);
	const char *nul = why ? NULL : memchr(text, 0, n);
	if (nul) {
		int line = 1;
		for (const char *p = text; p < nul; p++)
			line += *p == '\n';
		seterr(err, errlen, "%s:%d: the line holds a NUL byte", path, line);
		free(text);
		return -ERR_INVALID;
	}
	if (why) {
		seterr(err, errlen, "%s: the configuration file %s", path, why);
		free(text);
		return -ERR_INVALID;
	}
	f = fmemopen(text, n ? n : 1, "r");
	if (!f) {
		free(text);
		return -ERR_NOMEM;
	}
	if (!n)
		text[0] = '\0'; /* an empty file: fmemopen reads up to the NUL */
	struct file_ctx fc = { c, path, f, 0, false, err, errlen, 0 };
	ini_allow_multiline = false;
	int r = ini_parse_stream(file_reader, &fc, file_handler, &fc);
	fclose(f);
	free(text);
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

static void env_name(const char *section, const char *key, char *out, size_t len)
{
	int n = snprintf(out, len, "CAIRN_%s_%s", section, key);
	for (int i = 0; i < n && (size_t)i < len; i++)
		out[i] = (char)toupper((unsigned char)out[i]);
}

/* CAIRN_ variables that are not configuration keys: the one list of them, each with what
 * it is for (docs/configuration.md lists them). Any other CAIRN_ name is a mistake. */
static const struct {
	const char *name, *help;
} env_extra[] = {
	{ "CAIRN_CONFIG", "the configuration file, when --config is not given" },
	{ "CAIRN_SYNC_TOKEN", "cairn sync: the bearer token (or --token-file)" },
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
		bool found = false;
		size_t s = 0, k = 0;
		char name[96];
		for (s = 0; !found && s < c->nsections; s++)
			for (k = 0; k < c->sections[s]->nkeys; k++) {
				env_name(c->sections[s]->name, c->sections[s]->keys[k].key, name,
					 sizeof name);
				if (strlen(name) == nl && !strncmp(name, e, nl)) {
					found = true;
					break;
				}
			}
		if (!found) {
			seterr(err, errlen, "environment: unknown variable %.*s (see cairn help)",
			       (int)(nl > 80 ? 80 : nl), e);
			return -ERR_INVALID;
		}
		int r = config_set(c, s - 1, k, eq + 1, ORIGIN_ENV, name, err, errlen);
		if (r < 0)
			return r;
	}
	return 0;
}

bool config_flag_known(const struct config *c, const char *flag, bool serve)
{
	for (size_t s = 0; s < c->nsections; s++)
		for (size_t k = 0; k < c->sections[s]->nkeys; k++) {
			const struct config_def *d = &c->sections[s]->keys[k];
			if (d->flag && !strcmp(d->flag, flag) && (serve || !d->serve_only))
				return true;
		}
	return false;
}

int config_set_flag(struct config *c, const char *flag, const char *value, char *err,
		    size_t errlen)
{
	for (size_t s = 0; s < c->nsections; s++)
		for (size_t k = 0; k < c->sections[s]->nkeys; k++) {
			const struct config_def *d = &c->sections[s]->keys[k];
			if (d->flag && !strcmp(d->flag, flag))
				return config_set(c, s, k, value, ORIGIN_FLAG, flag, err, errlen);
		}
	return -ERR_NOT_FOUND;
}

int config_validate(const struct config *c, char *err, size_t errlen)
{
	for (size_t s = 0; s < c->nsections; s++)
		if (c->sections[s]->validate) {
			int r = c->sections[s]->validate(c, err, errlen);
			if (r < 0)
				return r;
		}
	return 0;
}

static void format_value(const struct config_def *d, const void *values, char *out, size_t len)
{
	const void *field = (const char *)values + d->off;
	if (is_string(d->type))
		snprintf(out, len, "%s", *(char *const *)field);
	else if (d->type == T_BOOL)
		snprintf(out, len, "%s", *(const bool *)field ? "true" : "false");
	else
		config_describe(d->type, *(const int64_t *)field, out, len);
}

void config_print(const struct config *c, FILE *out)
{
	static const char *const kinds[] = { "default", "file", "environment", "flag" };
	for (size_t s = 0; s < c->nsections; s++) {
		const struct config_section *sec = c->sections[s];
		fprintf(out, "%s[%s]\n", s ? "\n" : "", sec->name);
		for (size_t k = 0; k < sec->nkeys; k++) {
			const struct config_def *d = &sec->keys[k];
			char v[4200];
			format_value(d, c->values[s], v, sizeof v);
			if (d->secret && v[0])
				snprintf(v, sizeof v, "(set, not shown)");
			const struct config_origin *o = &c->origins[s][k];
			if (o->kind == ORIGIN_DEFAULT)
				fprintf(out, "%s = %s    ; default\n", d->key, v);
			else
				fprintf(out, "%s = %s    ; %s %s\n", d->key, v, kinds[o->kind],
					o->where);
		}
	}
}

static void print_bounds(const char *section, const struct config_def *d, FILE *out,
			 const char *prefix)
{
	char lo[32], hi[32], env[96];
	env_name(section, d->key, env, sizeof env);
	fprintf(out, "%sEnvironment: %s", prefix, env);
	if (d->flag)
		fprintf(out, ". Flag: %s", d->flag);
	if (d->type == T_INT || d->type == T_SIZE || d->type == T_DURATION) {
		config_describe(d->type, d->min, lo, sizeof lo);
		config_describe(d->type, d->max, hi, sizeof hi);
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

void config_write_example(const struct config *c, FILE *out)
{
	fprintf(out,
		"; Cairn configuration. Every key is shown with its default value.\n"
		"; Precedence: command-line flag > environment variable > this file > default.\n"
		"; Sizes take B, KiB, MiB, GiB; durations take ms, s, m, h, d (plain numbers are\n"
		"; seconds). Lines starting with ; or # are comments.\n");
	for (size_t s = 0; s < c->nsections; s++) {
		const struct config_section *sec = c->sections[s];
		fprintf(out, "\n[%s]\n", sec->name);
		for (size_t k = 0; k < sec->nkeys; k++) {
			const struct config_def *d = &sec->keys[k];
			fputc('\n', out);
			print_wrapped(out, "; ", d->help);
			print_bounds(sec->name, d, out, "; ");
			fprintf(out, "%s = %s\n", d->key, d->def);
		}
	}
}

void config_print_flags(const struct config *c, FILE *out, bool serve)
{
	for (size_t s = 0; s < c->nsections; s++)
		for (size_t k = 0; k < c->sections[s]->nkeys; k++) {
			const struct config_def *d = &c->sections[s]->keys[k];
			if (!d->flag || (d->serve_only && !serve))
				continue;
			char left[64];
			snprintf(left, sizeof left, "%s %s", d->flag, d->metavar);
			fprintf(out, "  %-24s %s (%s.%s, default %s)\n", left, d->help,
				c->sections[s]->name, d->key, *d->def ? d->def : "none");
		}
}
