/* The push change parser and its checks: a JSON body through sync_push_parse and
 * sync_changes_validate. Whatever passes has fields that go into pull pages unescaped, so
 * they must be of the alphabet that needs none. */
#include <json-c/json.h>

#include "core/sync.h"
#include "fuzz.h"
#include "util/config.h"
#include "util/jtext.h"
#include "cli/cli.h"

static struct config cfg;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	if (cairn_config_init(&cfg) < 0)
		abort();
	CONFIG_MUT(&cfg, limits)->push_changes = 50;
	CONFIG_MUT(&cfg, limits)->push_blob_refs = 64;
	CONFIG_MUT(&cfg, limits)->record_bytes = 4096;
	return 0;
}

static bool plain_text(const char *s)
{
	for (; *s; s++)
		if (*s == '"' || *s == '\\' || (unsigned char)*s < 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	return true;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > (1u << 18))
		return 0;
	char *t = fuzz_string(data, size);
	struct jtext_scan sc;
	json_object *body = NULL;
	if (jtext_scan(t, size, 32, 20000, &sc) < 0 || jtext_parse(t, size, 32, &body) < 0) {
		free(t);
		return 0;
	}
	struct arena a = ARENA_INIT;
	struct push_change *ch = NULL;
	int n = 0;
	struct verr ve = { 0 };
	int r = sync_push_parse(&cfg, body, &a, &ch, &n, &ve);
	FUZZ_CHECK(r == 0 || ve.n > 0);
	if (r == 0) {
		FUZZ_CHECK(n <= limits_cfg(&cfg)->push_changes);
		r = sync_changes_validate(&cfg, ch, n, 1796000000000LL, &ve);
		FUZZ_CHECK(r == 0 || ve.n > 0);
	}
	if (r == 0) {
		for (int i = 0; i < n; i++) {
			struct push_change *x = &ch[i];
			FUZZ_CHECK(valid_op_id(x->op_id) && plain_text(x->op_id));
			FUZZ_CHECK(valid_collection(x->collection) && plain_text(x->collection));
			FUZZ_CHECK(valid_record_id(x->id) && plain_text(x->id));
			FUZZ_CHECK(x->base_version >= -1);
			FUZZ_CHECK(x->nblobs <= 256);
			if (x->client_ts) {
				int64_t ms;
				FUZZ_CHECK(strlen(x->client_ts) == 24 && plain_text(x->client_ts));
				FUZZ_CHECK(parse_rfc3339_ms(x->client_ts, &ms));
			}
			if (x->blobs_json) {
				struct jtext_scan b;
				FUZZ_CHECK(jtext_scan(x->blobs_json, strlen(x->blobs_json), 2, 300, &b) == 0);
			}
		}
		const char **blobs;
		int nb;
		FUZZ_CHECK(sync_changes_blobs(ch, n, &a, &blobs, &nb) == 0);
		for (int i = 1; i < nb; i++)
			FUZZ_CHECK(strcmp(blobs[i - 1], blobs[i]) < 0);
	}
	arena_free(&a);
	json_object_put(body);
	free(t);
	return 0;
}
