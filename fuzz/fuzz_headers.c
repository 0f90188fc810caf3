/* Header values a client controls: Range, If-Match, If-None-Match, X-Forwarded-For and
 * the address lists it is read against, Accept-Encoding. The first byte picks the
 * parser. */
#include <arpa/inet.h>

#include "fuzz.h"
#include "http/encoding.h"
#include "util/conditional.h"
#include "util/netaddr.h"
#include "util/range.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 4096)
		return 0;
	char *t = fuzz_string(data + 1, size - 1);
	switch (data[0] % 6) {
	case 5:
		/* no gzip in it at all: never taken as gzip unless by "*" */
		if (!strcasestr(t, "gzip"))
			FUZZ_CHECK(!encoding_accepts_gzip(t) || strchr(t, '*'));
		else
			(void)encoding_accepts_gzip(t);
		break;
	case 0: {
		static const uint64_t sizes[] = { 0, 1, 100, 1u << 20, UINT64_MAX / 2 };
		for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
			uint64_t off = 0, len = 0;
			enum range_result r = range_parse(t, sizes[i], &off, &len);
			if (r == RANGE_OK)
				FUZZ_CHECK(len > 0 && off < sizes[i] && len <= sizes[i] - off);
		}
		break;
	}
	case 1: {
		int64_t v;
		if (cond_if_match_version(t, &v) == 0)
			FUZZ_CHECK(v >= 0);
		break;
	}
	case 2:
		(void)cond_etag_listed(t, "\"0123456789abcdef\"");
		(void)cond_etag_listed(t, "\"\"");
		break;
	case 3: {
		struct netrange_list l;
		char err[128];
		if (netrange_list_parse(t, &l, err, sizeof err) == 0) {
			FUZZ_CHECK(l.n >= 0 && l.n <= NETRANGE_LIST_MAX);
			for (int i = 0; i < l.n; i++) {
				struct netaddr a = l.v[i].base;
				FUZZ_CHECK(netrange_list_has(&l, &a));
			}
		}
		break;
	}
	default: {
		struct netrange_list l;
		char err[128];
		if (netrange_list_parse("127.0.0.1, 10.0.0.0/8, ::1", &l, err, sizeof err) < 0)
			abort();
		struct netaddr peer, client;
		netaddr_parse("127.0.0.1", 9, &peer);
		netaddr_forwarded_client(&l, &peer, t, &client);
		char text[NETADDR_TEXT_LEN];
		netaddr_format(&client, text);
		struct netaddr back;
		FUZZ_CHECK(netaddr_parse(text, strlen(text), &back) == 0);
		FUZZ_CHECK(netaddr_equal(&back, &client));
		break;
	}
	}
	free(t);
	return 0;
}
