/* HTML form bodies (application/x-www-form-urlencoded, as the WHATWG URL standard's
 * "application/x-www-form-urlencoded parser" reads them), for the few routes a browser
 * posts to without JavaScript. Pure; any thread. */
#ifndef CAIRN_FORM_H
#define CAIRN_FORM_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

/* Whether a Content-Type names a form body. */
bool form_is_type(const char *content_type);

/* Reads name=value pairs separated by '&' (empty pairs skipped; '+' is a space; percent-
 * escapes decoded) into a new object of strings in *ret (the caller's). At most max_fields
 * pairs. -1 with a sentence in err for: a malformed escape, an encoded NUL, bytes that are
 * not UTF-8, a name given twice, too many pairs. */
int form_parse(const char *body, size_t len, int max_fields, json_object **ret, char *err,
	       size_t errlen);

#endif
