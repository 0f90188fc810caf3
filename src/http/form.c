#include "form.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../util/url.h"
#include "../util/utf8.h"

bool form_is_type(const char *ct)
{
	static const char want[] = "application/x-www-form-urlencoded";
	if (!ct || strncasecmp(ct, want, sizeof want - 1))
		return false;
	char c = ct[sizeof want - 1];
	return c == '\0' || c == ';' || c == ' ';
}

static bool valid_utf8(const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	for (size_t i = 0; i < n;) {
		if (p[i] < 0x80) {
			i++;
			continue;
		}
		size_t k = utf8_seq_len(p + i, n - i);
		if (!k)
			return false;
		i += k;
	}
	return true;
}

/* Decodes n bytes of s into a new string; NULL (with err) when it cannot be. */
static char *decode(const char *s, size_t n, char *err, size_t errlen)
{
	char *out = malloc(n + 1);
	if (!out) {
		snprintf(err, errlen, "Out of memory.");
		return NULL;
	}
	long len = url_decode(s, n, out, true);
	if (len < 0 || !valid_utf8(out, (size_t)len)) {
		snprintf(err, errlen,
			 len < 0 ? "The form has a malformed percent-escape or an encoded NUL."
				 : "The form holds bytes that are not UTF-8.");
		free(out);
		return NULL;
	}
	return out;
}

int form_parse(const char *body, size_t len, int max_fields, json_object **ret, char *err,
	       size_t errlen)
{
	json_object *o = json_object_new_object();
	int fields = 0;
	const char *p = body, *end = body + len;
	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *stop = amp ? amp : end;
		if (stop > p) {
			const char *eq = memchr(p, '=', (size_t)(stop - p));
			const char *kend = eq ? eq : stop;
			const char *vstart = eq ? eq + 1 : stop;
			if (++fields > max_fields) {
				snprintf(err, errlen, "The form has more than %d fields.", max_fields);
				json_object_put(o);
				return -1;
			}
			char *k = decode(p, (size_t)(kend - p), err, errlen);
			char *v = k ? decode(vstart, (size_t)(stop - vstart), err, errlen) : NULL;
			if (!k || !v) {
				free(k);
				free(v);
				json_object_put(o);
				return -1;
			}
			if (json_object_object_get_ex(o, k, NULL)) {
				snprintf(err, errlen, "The form gives a field twice.");
				free(k);
				free(v);
				json_object_put(o);
				return -1;
			}
			json_object_object_add(o, k, json_object_new_string(v));
			free(k);
			free(v);
		}
		p = stop + 1;
	}
	*ret = o;
	return 0;
}
