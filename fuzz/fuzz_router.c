/* The router and parameter decoding: "METHOD /path?query" against the real route table,
 * then every path parameter and the query decoded as handlers decode them. */
#include "fuzz.h"
#include "http/app.h"
#include "http/router.h"
#include "util/url.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 8192)
		return 0;
	char *t = fuzz_string(data, size);
	char *sp = strchr(t, ' ');
	if (!sp) {
		free(t);
		return 0;
	}
	*sp = '\0';
	char *path = sp + 1;
	char *query = strchr(path, '?');
	if (query)
		*query++ = '\0';
	unsigned method = http_method_parse(t);
	const struct route *rt = NULL;
	struct route_params p;
	unsigned allowed = 0;
	enum route_match m = router_match(app_routes, app_routes_count, method ? method : HM_GET,
					  path, &rt, &p, &allowed);
	if (m == ROUTE_FOUND) {
		FUZZ_CHECK(rt != NULL && p.n <= ROUTE_MAX_PARAMS);
		for (int i = 0; i < p.n; i++) {
			FUZZ_CHECK(p.values[i].ptr >= path && p.values[i].len <= strlen(path));
			char *out = malloc(p.values[i].len + 1);
			long n = url_decode(p.values[i].ptr, p.values[i].len, out, false);
			FUZZ_CHECK(n <= (long)p.values[i].len);
			if (n >= 0)
				FUZZ_CHECK(strlen(out) == (size_t)n); /* no NUL got through */
			free(out);
		}
	} else if (m == ROUTE_NO_METHOD) {
		FUZZ_CHECK(allowed != 0);
		char allow[128];
		http_methods_format(allowed, allow, sizeof allow);
	}
	if (query) {
		size_t qn = strlen(query);
		char *out = malloc(qn + 1);
		long n = url_decode(query, qn, out, true);
		if (n >= 0)
			FUZZ_CHECK(strlen(out) == (size_t)n);
		free(out);
	}
	free(t);
	return 0;
}
