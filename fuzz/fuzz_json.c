/* The JSON body reader: jtext_scan's strict check with its limits, then json-c. What the
 * check passes must parse, and what json-c prints back must pass the check again (stored
 * data is served as it was printed), with no more values than went in. */
#include <json-c/json.h>

#include "fuzz.h"
#include "util/jtext.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 20))
		return 0;
	char *t = fuzz_string(data, size);
	struct jtext_scan sc;
	int r = jtext_scan(t, size, 32, 5000, &sc);
	FUZZ_CHECK(sc.offset <= size);
	FUZZ_CHECK(sc.values <= 5001);
	if (r == 0) {
		json_object *o = NULL;
		FUZZ_CHECK(jtext_parse(t, size, 32, &o) == 0);
		size_t len;
		const char *out = json_object_to_json_string_length(
			o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
		struct jtext_scan again;
		FUZZ_CHECK(jtext_scan(out, len, 32, 5000, &again) == 0);
		/* fewer only where a member name repeated (the last one is kept) */
		FUZZ_CHECK(again.values <= sc.values);
		json_object_put(o);
	}
	free(t);
	return 0;
}
