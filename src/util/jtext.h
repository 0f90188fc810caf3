/* JSON text: the strict check every request body passes before json-c builds anything,
 * and the few helpers that read or write JSON text around json-c.
 *
 * Why a check of our own before json-c: json-c 0.16 accepts, even with
 * JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8, NaN and Infinity, "1.", raw control
 * characters in strings, overlong UTF-8 (C0 AF), encoded surrogates (ED A0 80), code
 * points above U+10FFFF and lone \ud800 escapes (turned into U+FFFD); it truncates member
 * names at \u0000 and clamps whole numbers beyond 64 bits. What it accepts it also writes
 * back, so stored data would not be JSON. And it allocates as it goes: a 16 MiB body of
 * empty objects cost 5 GB. jtext_scan makes one pass with no allocation, so a body's cost
 * is bounded before json-c runs, and what it passes json-c stores and prints exactly. */
#ifndef CAIRN_JTEXT_H
#define CAIRN_JTEXT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* The deepest nesting a check accepts at all (limits.json_depth is at most this). */
#define JTEXT_DEPTH_MAX 1000

enum jtext_error {
	JTEXT_OK,
	JTEXT_SYNTAX,     /* not RFC 8259 JSON: a stray byte where a value or , : ] } is due */
	JTEXT_QUOTE,      /* a single quote: strings take double quotes */
	JTEXT_WORD,       /* a word other than true, false and null (NaN, Infinity, ...) */
	JTEXT_NUMBER_FORM, /* a malformed number (1., .5, 01, +1, 1e) */
	JTEXT_END,        /* the text ends inside a value */
	JTEXT_TRAILING,   /* something after the value */
	JTEXT_CONTROL,    /* a raw control character (below U+0020) inside a string */
	JTEXT_UTF8,       /* not UTF-8 (RFC 3629): overlong, surrogate, above U+10FFFF, cut */
	JTEXT_ESCAPE,     /* a bad escape, or a \u surrogate that is not half of a pair */
	JTEXT_NUL_NAME,   /* \u0000 in a member name */
	JTEXT_NUMBER,     /* a whole number outside -2^63 .. 2^64-1 */
	JTEXT_DEPTH,      /* nested deeper than allowed */
	JTEXT_VALUES,     /* more values than allowed */
};

struct jtext_scan {
	enum jtext_error err;
	size_t offset; /* of the error, in bytes from the start */
	long values;   /* values seen (all of them when err is JTEXT_OK) */
};

/* Checks that p[0..n) is exactly one JSON value (RFC 8259), with whitespace around it,
 * nested at most max_depth containers deep ([[1]] is 2) and holding at most max_values
 * values (every object, array, string, number and literal counts one; member names do
 * not). Stops at the first fault. Returns 0, or -1 with ret->err set. Any thread. */
int jtext_scan(const char *p, size_t n, int max_depth, long max_values, struct jtext_scan *ret);

/* A sentence for an error ("a raw control character inside a string"). */
const char *jtext_strerror(enum jtext_error e);

/* Parses text[0..len), which text[len] terminates with a NUL, that jtext_scan passed (or
 * that this server stored after such a check) with json-c, allowing max_depth levels. *ret is a new reference (NULL for the JSON null).
 * Returns 0, or -1 when json-c refuses it. */
int jtext_parse(const char *text, size_t len, int max_depth, json_object **ret);

/* A json-c value that prints as the given JSON text, unchanged and unparsed (stored
 * record data going back out). text is copied; it must be one valid JSON value. NULL
 * when out of memory. */
json_object *jtext_raw(const char *text);

/* The string v holds, or NULL when v is not a string or the string holds a NUL (which
 * would cut it short anywhere it is used as a C string). Borrowed from v. */
const char *jtext_string(json_object *v);

#endif
