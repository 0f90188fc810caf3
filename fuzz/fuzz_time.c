/* client_ts: exactly RFC 3339 UTC; what is taken is kept to the millisecond in one form,
 * and that form reads back as the same instant. */
#include "core/sync.h"
#include "fuzz.h"
#include "util/clock.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 64)
		return 0;
	char *t = fuzz_string(data, size);
	int64_t ms;
	if (parse_rfc3339_ms(t, &ms)) {
		FUZZ_CHECK(ms >= 0);
		char out[CLOCK_RFC3339_LEN];
		clock_format_rfc3339(ms, out);
		FUZZ_CHECK(strlen(out) == 24);
		int64_t again;
		FUZZ_CHECK(parse_rfc3339_ms(out, &again) && again == ms);
		for (const char *p = t; *p; p++)
			FUZZ_CHECK((*p >= '0' && *p <= '9') || strchr("-T:.Z+", *p));
	}
	free(t);
	return 0;
}
