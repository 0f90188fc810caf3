#include "jtext.h"

#include "hex.h"
#include "utf8.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* --- the check --- */

struct scan {
	const unsigned char *p;
	size_t n, i;
	enum jtext_error err;
};

static int fail(struct scan *s, enum jtext_error e)
{
	s->err = e;
	return -1;
}

static void skip_ws(struct scan *s)
{
	while (s->i < s->n) {
		unsigned char c = s->p[s->i];
		if (c != ' ' && c != '\t' && c != '\n' && c != '\r')
			return;
		s->i++;
	}
}


/* Four hex digits at s->i; advances past them. */
static int hex4(struct scan *s, unsigned *ret)
{
	if (s->n - s->i < 4)
		return fail(s, JTEXT_END);
	unsigned v = 0;
	for (int k = 0; k < 4; k++) {
		int h = hex_value(s->p[s->i + (size_t)k]);
		if (h < 0)
			return fail(s, JTEXT_ESCAPE);
		v = v << 4 | (unsigned)h;
	}
	s->i += 4;
	*ret = v;
	return 0;
}

/* One UTF-8 sequence of two or more bytes at s->i (utf8.h). */
static int utf8_seq(struct scan *s)
{
	size_t n = utf8_seq_len(s->p + s->i, s->n - s->i);
	if (n == 0)
		return fail(s, JTEXT_UTF8);
	s->i += n;
	return 0;
}

/* A string starting at the opening quote; name says it is a member name. */
static int scan_string(struct scan *s, bool name)
{
	s->i++; /* the quote */
	for (;;) {
		if (s->i >= s->n)
			return fail(s, JTEXT_END);
		unsigned char c = s->p[s->i];
		if (c == '"') {
			s->i++;
			return 0;
		}
		if (c < 0x20)
			return fail(s, JTEXT_CONTROL);
		if (c >= 0x80) {
			if (utf8_seq(s) < 0)
				return -1;
			continue;
		}
		s->i++;
		if (c != '\\')
			continue;
		if (s->i >= s->n)
			return fail(s, JTEXT_END);
		c = s->p[s->i++];
		if (strchr("\"\\/bfnrt", c) && c)
			continue;
		if (c != 'u') {
			s->i--;
			return fail(s, JTEXT_ESCAPE);
		}
		unsigned u;
		size_t at = s->i - 2;
		if (hex4(s, &u) < 0)
			return -1;
		if (u == 0 && name) {
			s->i = at;
			return fail(s, JTEXT_NUL_NAME);
		}
		if (u >= 0xDC00 && u <= 0xDFFF) {
			s->i = at;
			return fail(s, JTEXT_ESCAPE); /* a low half with no high half before it */
		}
		if (u >= 0xD800 && u <= 0xDBFF) {
			/* must be followed by \u and a low half */
			if (s->n - s->i < 6 || s->p[s->i] != '\\' || s->p[s->i + 1] != 'u') {
				s->i = at;
				return fail(s, JTEXT_ESCAPE);
			}
			s->i += 2;
			unsigned lo;
			if (hex4(s, &lo) < 0)
				return -1;
			if (lo < 0xDC00 || lo > 0xDFFF) {
				s->i = at;
				return fail(s, JTEXT_ESCAPE);
			}
		}
	}
}

/* Whether the digits d[0..n) (no sign, no leading zero) are at most max's. */
static bool digits_at_most(const unsigned char *d, size_t n, const char *max)
{
	size_t m = strlen(max);
	if (n != m)
		return n < m;
	return memcmp(d, max, n) <= 0;
}

/* -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; a whole number must fit json-c's int64
 * or uint64, which it would otherwise clamp without a word. */
static int scan_number(struct scan *s)
{
	const unsigned char *p = s->p;
	size_t i = s->i;
	bool neg = false;
	if (p[i] == '-') {
		neg = true;
		i++;
	}
	size_t start = i;
	if (i >= s->n)
		return s->i = i, fail(s, JTEXT_END);
	if (p[i] == '0') {
		i++;
		if (i < s->n && p[i] >= '0' && p[i] <= '9')
			return s->i = i, fail(s, JTEXT_NUMBER_FORM); /* a leading zero */
	} else if (p[i] >= '1' && p[i] <= '9') {
		while (i < s->n && p[i] >= '0' && p[i] <= '9')
			i++;
	} else {
		return s->i = i, fail(s, JTEXT_NUMBER_FORM);
	}
	size_t int_end = i;
	bool whole = true;
	if (i < s->n && p[i] == '.') {
		whole = false;
		i++;
		size_t d = i;
		while (i < s->n && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == d)
			return s->i = i, fail(s, i >= s->n ? JTEXT_END : JTEXT_NUMBER_FORM);
	}
	if (i < s->n && (p[i] == 'e' || p[i] == 'E')) {
		whole = false;
		i++;
		if (i < s->n && (p[i] == '+' || p[i] == '-'))
			i++;
		size_t d = i;
		while (i < s->n && p[i] >= '0' && p[i] <= '9')
			i++;
		if (i == d)
			return s->i = i, fail(s, i >= s->n ? JTEXT_END : JTEXT_NUMBER_FORM);
	}
	/* what may follow a number is a separator or whitespace, never more of a number */
	if (i < s->n && (p[i] == '.' || p[i] == '+' || p[i] == '-' || (p[i] >= '0' && p[i] <= '9') ||
			 (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
		return s->i = i, fail(s, JTEXT_NUMBER_FORM);
	if (whole && !digits_at_most(p + start, int_end - start,
				     neg ? "9223372036854775808" : "18446744073709551615"))
		return fail(s, JTEXT_NUMBER); /* s->i still at the number's start */
	s->i = i;
	return 0;
}

static int scan_literal(struct scan *s, const char *word)
{
	size_t n = strlen(word);
	for (size_t k = 0; k < n; k++) {
		if (s->i + k >= s->n)
			return s->i += k, fail(s, JTEXT_END);
		if (s->p[s->i + k] != (unsigned char)word[k])
			return s->i += k, fail(s, JTEXT_WORD);
	}
	s->i += n;
	return 0;
}

/* A member name and its colon, at s->i (after whitespace). */
static int scan_name(struct scan *s)
{
	skip_ws(s);
	if (s->i >= s->n)
		return fail(s, JTEXT_END);
	if (s->p[s->i] != '"')
		return fail(s, s->p[s->i] == '\'' ? JTEXT_QUOTE : JTEXT_SYNTAX);
	if (scan_string(s, true) < 0)
		return -1;
	skip_ws(s);
	if (s->i >= s->n)
		return fail(s, JTEXT_END);
	if (s->p[s->i] != ':')
		return fail(s, JTEXT_SYNTAX);
	s->i++;
	return 0;
}

int jtext_scan(const char *text, size_t n, int max_depth, long max_values, struct jtext_scan *ret)
{
	unsigned char stack[JTEXT_DEPTH_MAX]; /* the containers we are in: '{' or '[' */
	if (max_depth > JTEXT_DEPTH_MAX)
		max_depth = JTEXT_DEPTH_MAX;
	struct scan s = { .p = (const unsigned char *)text, .n = n };
	int depth = 0;
	long values = 0;
	for (;;) {
		/* A value is due. */
		skip_ws(&s);
		if (s.i >= s.n) {
			fail(&s, JTEXT_END);
			break;
		}
		if (++values > max_values) {
			fail(&s, JTEXT_VALUES);
			break;
		}
		unsigned char c = s.p[s.i];
		int r;
		if (c == '{' || c == '[') {
			if (depth >= max_depth) {
				fail(&s, JTEXT_DEPTH);
				break;
			}
			stack[depth++] = c;
			s.i++;
			skip_ws(&s);
			unsigned char close = c == '{' ? '}' : ']';
			if (s.i < s.n && s.p[s.i] == close) {
				s.i++;
				depth--;
				r = 0; /* empty: a whole value, go on below */
			} else if (c == '{') {
				if (scan_name(&s) < 0)
					break;
				continue;
			} else {
				continue;
			}
		} else if (c == '"') {
			r = scan_string(&s, false);
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			r = scan_number(&s);
		} else if (c == 't') {
			r = scan_literal(&s, "true");
		} else if (c == 'f') {
			r = scan_literal(&s, "false");
		} else if (c == 'n') {
			r = scan_literal(&s, "null");
		} else if (c == '\'') {
			r = fail(&s, JTEXT_QUOTE);
		} else if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')) {
			r = fail(&s, JTEXT_WORD);
		} else if (c == '.' || c == '+') {
			r = fail(&s, JTEXT_NUMBER_FORM);
		} else {
			r = fail(&s, JTEXT_SYNTAX);
		}
		if (r < 0)
			break;
		/* A value ended: close what ends with it, up to the next value or the end. */
		bool next = false;
		while (!next && depth > 0 && s.err == JTEXT_OK) {
			skip_ws(&s);
			if (s.i >= s.n) {
				fail(&s, JTEXT_END);
				break;
			}
			unsigned char top = stack[depth - 1];
			c = s.p[s.i];
			if (c == ',') {
				s.i++;
				if (top == '{' && scan_name(&s) < 0)
					break;
				next = true;
			} else if (c == (top == '{' ? '}' : ']')) {
				s.i++;
				depth--;
			} else {
				fail(&s, JTEXT_SYNTAX);
			}
		}
		if (!next)
			break;
	}
	if (s.err == JTEXT_OK) {
		skip_ws(&s);
		if (s.i < s.n)
			fail(&s, JTEXT_TRAILING);
	}
	ret->err = s.err;
	ret->offset = s.i;
	ret->values = values;
	return s.err == JTEXT_OK ? 0 : -1;
}

const char *jtext_strerror(enum jtext_error e)
{
	switch (e) {
	case JTEXT_OK:
		return "no error";
	case JTEXT_SYNTAX:
		return "an unexpected character";
	case JTEXT_QUOTE:
		return "strings and names take double quotes";
	case JTEXT_WORD:
		return "an unknown word (JSON has true, false and null; no NaN or Infinity)";
	case JTEXT_NUMBER_FORM:
		return "a malformed number (digits before and after '.', after 'e', no leading "
		       "zeros or '+')";
	case JTEXT_END:
		return "the text ends too early";
	case JTEXT_TRAILING:
		return "there is more after the JSON value";
	case JTEXT_CONTROL:
		return "a string holds a raw control character (escape it)";
	case JTEXT_UTF8:
		return "the text is not valid UTF-8";
	case JTEXT_ESCAPE:
		return "a string holds a bad escape or half of a surrogate pair";
	case JTEXT_NUL_NAME:
		return "a member name holds \\u0000";
	case JTEXT_NUMBER:
		return "a whole number is outside the 64-bit range (send it as a string)";
	case JTEXT_DEPTH:
		return "it is nested too deeply";
	case JTEXT_VALUES:
		return "it holds too many values";
	}
	return "this is not JSON";
}

/* --- json-c around it --- */

int jtext_parse(const char *text, size_t len, int max_depth, json_object **ret)
{
	/* json-c counts a scalar inside a container as one more level: [[1]] needs 3 */
	json_tokener *tok = json_tokener_new_ex(max_depth + 2);
	if (!tok)
		return -1;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* the terminating NUL goes in too: without it json-c cannot tell that "12" or "null"
	 * has ended, and waits for more */
	json_object *o = json_tokener_parse_ex(tok, text, (int)len + 1);
	enum json_tokener_error e = json_tokener_get_error(tok);
	size_t used = json_tokener_get_parse_end(tok);
	json_tokener_free(tok);
	while (e == json_tokener_success && used < len && strchr(" \t\r\n", text[used]))
		used++;
	if (e != json_tokener_success || used < len) {
		json_object_put(o);
		return -1;
	}
	*ret = o;
	return 0;
}

static int raw_print(json_object *o, struct printbuf *pb, int level, int flags)
{
	(void)level, (void)flags;
	const char *text = json_object_get_userdata(o);
	return printbuf_memappend(pb, text, (int)strlen(text));
}

static void raw_free(json_object *o, void *userdata)
{
	(void)o;
	free(userdata);
}

json_object *jtext_raw(const char *text)
{
	/* any type will do: only the serializer is ever used */
	json_object *o = json_object_new_boolean(0);
	char *copy = o ? strdup(text) : NULL;
	if (!copy) {
		json_object_put(o);
		return NULL;
	}
	json_object_set_serializer(o, raw_print, copy, raw_free);
	return o;
}

const char *jtext_string(json_object *v)
{
	if (!json_object_is_type(v, json_type_string))
		return NULL;
	const char *s = json_object_get_string(v);
	if (strlen(s) != (size_t)json_object_get_string_len(v))
		return NULL;
	return s;
}
